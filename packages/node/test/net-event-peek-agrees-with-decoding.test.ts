/**
 * The receive path peeks at an event (net/engine/event-peek.ts) instead of decoding it, and
 * leaves validation to the pipeline. That is sound only if the peek agrees with decoding on
 * every input decoding accepts (same id, times and author), and never takes a key event or a
 * governance record for an event. Checked on every vector of spec/vectors (events, key events,
 * governance records), on generated events, and on byte-level mutations of them. And through
 * the engine: a peeked item that turns out invalid is still scored as an invalid event, also
 * on the one path that judges before validation (an expired item).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { peekEvent } from '../src/net/engine/event-peek.js';
import { eventItems, nodeItems } from '../src/net/engine/sync-items.js';
import { encodeMessage } from '../src/net/wire/messages.js';
import { decodeEvent, fromHex, makePolicy, toHex } from '../src/protocol/index.js';
import { addNode, didOf, event, keySeed, pump, type World, world } from './net-harness.js';
import { alice, bob, carol, core, validEvent } from './protocol-fixtures.js';

const VECTORS = fileURLToPath(new URL('../../../spec/vectors/', import.meta.url));

/** Every hex string under a key named `cbor` in a vector file. */
function cborOf(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === 'cbor' && typeof x === 'string') out.push(fromHex(x) as Uint8Array);
        else walk(x);
      }
  };
  walk(JSON.parse(readFileSync(`${VECTORS}${file}`, 'utf8')));
  return out;
}

/** Peek and decode agree: when decoding accepts, the peek gives the same four values. */
function expectAgreement(bytes: Uint8Array): void {
  const decoded = decodeEvent(bytes);
  const peek = peekEvent(core.sha256, bytes);
  if (!decoded.ok) return; // the pipeline refuses it, whatever the peek said
  expect(peek).not.toBeNull();
  expect(toHex(peek?.id ?? new Uint8Array())).toBe(toHex(core.sha256(decoded.value.body)));
  expect(peek?.createdAt).toBe(decoded.value.event.createdAt);
  expect(peek?.expiresAt).toBe(decoded.value.event.expiresAt);
  expect(peek?.author).toBe(decoded.value.event.author);
}

const EVENT_FILES = [
  'valid.json',
  'invalid-decode.json',
  'invalid-schema.json',
  'invalid-policy.json',
  'invalid-signature.json',
  'invalid-time.json',
  'identity-schema.json',
  'json-form.json',
  'replay.json',
  'trust.json',
].map((f) => `events/${f}`);

describe('the event peek agrees with decoding', () => {
  it('on every event vector of spec/vectors/events', () => {
    let accepted = 0;
    for (const file of EVENT_FILES) {
      for (const bytes of cborOf(file)) {
        expectAgreement(bytes);
        if (decodeEvent(bytes).ok) accepted++;
      }
    }
    expect(accepted).toBeGreaterThan(50); // the valid ones and those refused after decoding
  });

  it('takes no key event and no governance record for an event', () => {
    const others = [...cborOf('identity/key-events.json'), ...cborOf('governance/records.json')];
    expect(others.length).toBeGreaterThan(20);
    for (const bytes of others) expect(peekEvent(core.sha256, bytes)).toBeNull();
    // and so the node's codec tells them apart exactly as decoding does
    const items = nodeItems(core.sha256);
    for (const bytes of others) {
      const quick = items.describe(bytes);
      const full = items.check(bytes);
      expect(quick.ok).toBe(full.ok);
      if (quick.ok && full.ok) expect(quick.item).toEqual(full.item);
    }
  });

  const arbEvent = fc
    .record({
      payload: fc.dictionary(
        fc.string({ maxLength: 8 }),
        fc.oneof(
          fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
          fc.string({ maxLength: 40 }),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 4 }),
        ),
        { maxKeys: 6 },
      ),
      kind: fc.constantFrom('note', 'vote', 'a'.repeat(40)),
      lifetime: fc.integer({ min: 1, max: 86_400 }),
      multi: fc.boolean(),
    })
    .map(({ payload, kind, lifetime, multi }) => {
      const over = {
        kind,
        payload: payload as never,
        expiresAt: 1_767_225_600 - 60 + lifetime,
      };
      return multi
        ? validEvent({ ...over, policy: makePolicy(alice.did, 2, [bob.did, carol.did]) }, [
            alice,
            bob,
          ]).encoded
        : validEvent(over).encoded;
    });

  it('on generated events', () => {
    fc.assert(
      fc.property(arbEvent, (bytes) => {
        expect(peekEvent(core.sha256, bytes)).not.toBeNull();
        expectAgreement(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('on byte-level mutations of them (flips, cuts, insertions)', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
    );
    fc.assert(
      fc.property(arbEvent, fc.array(mutation, { minLength: 1, maxLength: 3 }), (bytes, ms) => {
        let b = Uint8Array.from(bytes);
        for (const m of ms) {
          const at = m.at % (b.length + 1);
          if (m.op === 'flip' && at < b.length) b[at] = (b[at] as number) ^ (1 << m.bit);
          if (m.op === 'set' && at < b.length) b[at] = m.byte;
          if (m.op === 'cut') b = b.slice(0, at);
          if (m.op === 'insert') b = Uint8Array.from([...b.slice(0, at), m.byte, ...b.slice(at)]);
        }
        expectAgreement(b);
        // the simulator's codec too: a peeked item is what decoding would have described
        const quick = eventItems(core.sha256).describe(b);
        const full = eventItems(core.sha256).check(b);
        if (full.ok)
          expect({ ...quick, item: { ...(quick.ok ? quick.item : {}), checked: true } }).toEqual(
            full,
          );
      }),
      { numRuns: 2000 },
    );
  });
});

/** The event with its first signature one byte short: event-shaped, but it does not decode. */
function shortSignature(e: Uint8Array): Uint8Array {
  const hex = toHex(e);
  const at = hex.indexOf('637369675840') / 2 + 4; // "sig", then the head of 64 bytes: 0x58 0x40
  expect(at).toBeGreaterThan(4);
  const out = Uint8Array.from([...e.slice(0, at + 2), ...e.slice(at + 3)]);
  out[at + 1] = 0x3f; // 63 bytes follow
  return out;
}

describe('through the engine', () => {
  function hostile(): { w: World; a: ReturnType<typeof addNode>; h: string } {
    const w = world();
    const a = addNode(w, 'peek-a');
    const h = didOf(keySeed('peek-hostile'));
    a.engine.connected(h, w.now);
    a.engine.received(h, encodeHello(h, w.now), w.now);
    pump(w);
    return { w, a, h };
  }

  it('an event-shaped item that does not decode is scored as an invalid event once validated', () => {
    const { w, a, h } = hostile();
    const shorter = shortSignature(event([keySeed('peek-author')], w.now));
    expect(decodeEvent(shorter).ok).toBe(false);
    expect(peekEvent(core.sha256, shorter)).not.toBeNull();
    a.engine.received(h, encodeEvents([shorter]), w.now);
    pump(w);
    expect(a.engine.scoreSummary(h).offences['invalid-event']?.count).toBe(1);
  });

  it('an expired item is scored stale only if it decodes: else it is an invalid event', () => {
    const { w, a, h } = hostile();
    const s = Math.floor(w.now / 1000);
    const e = event([keySeed('peek-author')], w.now, { createdAt: s - 7200, expiresAt: s - 3600 });
    const shorter = shortSignature(e);
    expect(decodeEvent(shorter).ok).toBe(false);
    expect(peekEvent(core.sha256, shorter)).not.toBeNull();
    a.engine.received(h, encodeEvents([shorter]), w.now);
    pump(w);
    expect(a.engine.scoreSummary(h).offences['stale']).toBeUndefined();
    expect(a.engine.scoreSummary(h).offences['invalid-event']?.count).toBe(1);
    a.engine.received(h, encodeEvents([e]), w.now);
    pump(w);
    expect(a.engine.scoreSummary(h).offences['stale']?.count).toBe(1);
  });
});

function encodeHello(node: string, time: number): Uint8Array {
  return encodeMessage({ type: 'hello', versions: [1], node, time, checkpoint: null });
}

function encodeEvents(events: Uint8Array[]): Uint8Array {
  return encodeMessage({ type: 'events', events });
}
