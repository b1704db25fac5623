/**
 * The worker stage hands back every event's bytes as views of its chunk's one buffer, events by
 * identities included (pipeline/prepare.ts), so that the main thread copies nothing on the hot
 * path. An event the identity verdict refuses and holds (pipeline/identity-stage.ts) outlives
 * its batch: it is held with bytes of its own, so that the held-bytes bound counts what is kept
 * (not whole chunks), and so that nothing done to the chunk's buffer later reaches it.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { IdentityStage } from '../src/pipeline/identity-stage.js';
import { type Prepared, prepareChunk } from '../src/pipeline/prepare.js';
import { batchOfTexts, DEFAULT_TIME_RULES, toHex } from '../src/protocol/index.js';
import { Store } from '../src/storage/index.js';
import { core, DAY, inception, set, T0, testKey } from './identity-fixtures.js';
import { identityEvent } from './identity-node-fixtures.js';
import { tempDir } from './storage-fixtures.js';

const NOW = T0 + 10 * DAY;
let cleanup: (() => void) | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  cleanup?.();
  store = undefined;
  cleanup = undefined;
});

describe('events held by the identity verdict', () => {
  it('are views of their chunk until held, and held with bytes of their own', () => {
    const icp = inception({ current: set(1, 'own-k0'), next: set(1, 'own-k1'), createdAt: T0 });
    const k0 = testKey('own-k0');
    const texts = [0, 1, 2].map((i) =>
      new TextEncoder().encode(
        JSON.stringify(identityEvent(icp, NOW - DAY, [k0], { label: `own-${i}` })),
      ),
    );
    const batch = batchOfTexts(texts);
    const chunk = prepareChunk(core, batch.bytes, batch.spans, {
      now: NOW,
      timeRules: DEFAULT_TIME_RULES,
      trust: { mode: 'open' },
    });
    const events = chunk.events.filter((e): e is Prepared => e.ok);
    expect(events).toHaveLength(3);
    const buffer = (events[0] as Prepared).encoded.buffer;
    for (const e of events)
      for (const a of [e.id, e.nonce, e.encoded]) expect(a.buffer).toBe(buffer); // views

    const dir = tempDir('cs-held-own-');
    cleanup = dir.cleanup;
    store = Store.open(dir.dir, core, { now: () => NOW * 1000 });
    const stage = new IdentityStage({ core, store, now: () => NOW * 1000 });
    const copies = events.map((e) => ({
      id: e.id.slice(),
      nonce: e.nonce.slice(),
      encoded: e.encoded.slice(),
    }));
    for (const e of events) {
      if (e.identity === undefined) throw new Error('an identity event without its identity part');
      const identified = e as Prepared & { identity: NonNullable<Prepared['identity']> };
      // the node holds no inception yet: refused, and held (a key event may undo it)
      const verdict = stage.verdict(identified);
      expect(verdict.ok ? 'ok' : verdict.reason).toBe('ERR_KEL_UNKNOWN_IDENTITY');
      expect(stage.hold(identified, verdict.ok ? '' : verdict.reason)).toBe(true);
    }
    new Uint8Array(buffer).fill(0); // the chunk's buffer reused or damaged: the held are not
    const held = stage.heldEvents(icp.identity);
    expect(held).toHaveLength(3);
    const byId = new Map(copies.map((c) => [toHex(c.id), c]));
    for (const h of held) {
      const copy = byId.get(toHex(h.id));
      expect(copy).toBeDefined();
      for (const [a, b] of [
        [h.id, copy?.id],
        [h.nonce, copy?.nonce],
        [h.encoded, copy?.encoded],
      ] as const) {
        expect(a.buffer.byteLength).toBe(a.length); // its own bytes, not a view of the chunk
        expect(toHex(a)).toBe(toHex(b as Uint8Array));
      }
    }
  });
});
