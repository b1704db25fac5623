/**
 * A prepared chunk crosses back from its worker with each author and kind once
 * (`PackedChunk.texts`, records naming them by index) and only the rejections' and late
 * verdicts' reasons and details (`messages`), not four strings per event. Shown on generated
 * chunks of events by a few authors and kinds, with damaged texts, expired events and
 * untrusted authors among them: `texts` holds exactly the distinct authors and kinds of the
 * events that were read, each once; `messages` one reason and detail per refusal or late
 * verdict; and every unpacked event still has its own author, kind and verdict, those the
 * reference reader gives its text alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { type PreparedEvent, preparePacked, unpackChunk } from '../src/pipeline/prepare.js';
import {
  batchOfTexts,
  DEFAULT_TIME_RULES,
  eventToJson,
  readEventJson,
  type TrustPolicy,
} from '../src/protocol/index.js';
import { alice, bob, carol, core, NOW, validEvent } from './protocol-fixtures.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const KEYS = [alice, bob, carol];
const KINDS = ['note', 'transfer', 'k'];
const TRUST: TrustPolicy = { mode: 'allowlist', authors: new Set([alice.did, bob.did]) };

const spec = fc.record({
  author: fc.nat(2),
  kind: fc.nat(2),
  fate: fc.constantFrom('valid', 'valid', 'valid', 'damaged', 'expired'),
});

function textOf(s: { author: number; kind: number; fate: string }): Uint8Array {
  const key = KEYS[s.author] as (typeof KEYS)[number];
  const event = validEvent(
    {
      author: key.did,
      kind: KINDS[s.kind] as string,
      ...(s.fate === 'expired' ? { createdAt: NOW - 7200, expiresAt: NOW - 1 } : {}),
    },
    [key],
  ).event;
  const json = JSON.stringify(eventToJson(event));
  return utf8(s.fate === 'damaged' ? json.slice(0, -3) : json);
}

describe('a prepared chunk', () => {
  it('sends each author and kind once, and messages only for refusals and late verdicts', () => {
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 40 }), (specs) => {
        const texts = specs.map(textOf);
        const { bytes, spans } = batchOfTexts(texts);
        const ctx = { now: NOW, timeRules: DEFAULT_TIME_RULES, trust: TRUST };
        const packed = preparePacked(core, bytes, spans, ctx);
        // what was read (damaged texts were not): its authors and kinds, each once
        const read = specs.filter((s) => s.fate !== 'damaged');
        const expected = new Set([
          ...read.map((s) => (KEYS[s.author] as (typeof KEYS)[number]).did),
          ...read.map((s) => KINDS[s.kind] as string),
        ]);
        expect(new Set(packed.texts)).toEqual(expected);
        expect(packed.texts.length).toBe(expected.size);
        // one reason and detail per refusal (damaged, expired) or late verdict (carol untrusted)
        const refusals = specs.filter(
          (s) => s.fate !== 'valid' || (KEYS[s.author] as (typeof KEYS)[number]) === carol,
        ).length;
        expect(packed.messages.length).toBe(2 * refusals);
        // and each event is still its own
        const events = unpackChunk(structuredClone(packed)).events;
        events.forEach((e: PreparedEvent, i) => {
          const s = specs[i] as (typeof specs)[number];
          const reference = readEventJson(texts[i] as Uint8Array);
          if (s.fate === 'damaged') {
            expect(e.ok).toBe(false);
            if (!e.ok && !reference.ok)
              expect([e.reason, e.detail]).toEqual([reference.reason, reference.detail]);
            return;
          }
          if (s.fate === 'expired') {
            expect(e).toMatchObject({ ok: false, reason: 'ERR_EXPIRED' });
            return;
          }
          expect(e.ok).toBe(true);
          if (!e.ok || !reference.ok) return;
          expect(e.author).toBe(reference.value.event.author);
          expect(e.kind).toBe(reference.value.event.kind);
          expect(e.late?.reason).toBe(
            (KEYS[s.author] as (typeof KEYS)[number]) === carol
              ? 'ERR_UNTRUSTED_AUTHOR'
              : undefined,
          );
        });
      }),
      { numRuns: 60 },
    );
  });
});
