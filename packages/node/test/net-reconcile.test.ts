/**
 * Range-based set reconciliation finds exactly the difference of two sets, whatever the sets
 * and parameters; the chunked index answers like the reference array; payloads decode strictly;
 * a round cut by a disconnect resumes from the ranges still open.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { NetError } from '../src/net/errors.js';
import { decodePayload, encodePayload, type Range } from '../src/net/reconcile/codec.js';
import { fingerprintOf } from '../src/net/reconcile/fingerprint.js';
import {
  compareItems,
  compareItemToBound,
  type Item,
  MAX_BOUND,
  minimalBound,
} from '../src/net/reconcile/items.js';
import { reconcileLocally } from '../src/net/reconcile/local-run.js';
import { DEFAULT_RECONCILE_PARAMS, Initiator, respond } from '../src/net/reconcile/reconciler.js';
import { SortedItems } from '../src/net/reconcile/storage.js';
import { SyncIndex } from '../src/net/reconcile/sync-index.js';
import { PayloadReader, writeVarint } from '../src/net/reconcile/varint.js';
import { arbItem, arbParams, arbSetPair, hexSorted, idOf, sha256 } from './net-fixtures.js';

function indexOf(items: readonly Item[]): SyncIndex {
  const index = new SyncIndex(sha256);
  for (const it of items) index.insert({ ...it, expiresAt: 1e12, kind: 'accepted' });
  return index;
}

describe('reconciliation finds the difference', () => {
  it('have = A \\ B and need = B \\ A, for any sets and parameters', () => {
    fc.assert(
      fc.property(arbSetPair, arbParams, ({ a, b, onlyA, onlyB }, params) => {
        const run = reconcileLocally(indexOf(a), new SortedItems(sha256, b), params);
        expect(hexSorted(run.have)).toEqual(hexSorted(onlyA.map((i) => i.id)));
        expect(hexSorted(run.need)).toEqual(hexSorted(onlyB.map((i) => i.id)));
      }),
      { numRuns: 300 },
    );
  });

  it('equal sets settle in one round trip with one small payload each way', () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({
      timestamp: 1_700_000_000 + i,
      id: idOf(`e${i}`),
    }));
    const run = reconcileLocally(indexOf(items), indexOf(items));
    expect(run.roundTrips).toBe(1);
    expect(run.have).toEqual([]);
    expect(run.need).toEqual([]);
    expect(run.transcript[1]).toEqual(Uint8Array.of(0x01)); // every bucket matched: nothing to say
    expect(run.bytes).toBeLessThan(16 * 24 + 2);
  });

  it('costs grow with the difference, not with the set', () => {
    const cost = (n: number): number => {
      const items = Array.from({ length: n }, (_, i) => ({
        timestamp: 1_700_000_000 + i,
        id: idOf(`e${i}`),
      }));
      const b = items.filter((_, i) => i % Math.floor(n / 10) !== 7); // 10 missing on one side
      return reconcileLocally(indexOf(items), indexOf(b)).bytes;
    };
    const small = cost(2_000);
    const large = cost(40_000); // 20 times the items, same difference
    expect(large).toBeLessThan(small * 3);
  });

  it('an empty side learns every id of the other', () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ timestamp: i % 7, id: idOf(`x${i}`) }));
    const run = reconcileLocally(indexOf([]), indexOf(items));
    expect(run.need.length).toBe(3000);
    const back = reconcileLocally(indexOf(items), indexOf([]));
    expect(back.have.length).toBe(3000);
  });
});

describe('the sync index', () => {
  it('answers fingerprints and bounds like the reference array through inserts, removals and expiry', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(arbItem, fc.integer({ min: 0, max: 20 }), fc.boolean()), {
          maxLength: 600,
        }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(arbItem, { maxLength: 10 }),
        (ops, now, probes) => {
          const index = new SyncIndex(sha256);
          const model = new Map<string, { item: Item; expiresAt: number }>();
          for (const [item, expiresAt, remove] of ops) {
            const key = Buffer.from(item.id).toString('hex');
            if (remove && model.has(key)) {
              expect(index.remove(item.id)).toBe(true);
              model.delete(key);
            } else {
              expect(index.insert({ ...item, expiresAt, kind: 'accepted' })).toBe(!model.has(key));
              if (!model.has(key)) model.set(key, { item, expiresAt });
            }
          }
          const pruned = index.pruneExpired(now);
          for (const [k, v] of [...model]) if (v.expiresAt <= now) model.delete(k);
          expect(pruned.every((e) => e.expiresAt <= now)).toBe(true);
          const ref = new SortedItems(
            sha256,
            [...model.values()].map((v) => v.item),
          );
          expect(index.size).toBe(ref.size);
          for (let i = 0; i < ref.size; i++)
            expect(compareItems(index.item(i), ref.item(i))).toBe(0);
          const cuts = [0, ref.size >> 2, ref.size >> 1, ref.size];
          for (const lo of cuts)
            for (const hi of cuts)
              if (lo <= hi) expect(index.fingerprint(lo, hi)).toEqual(ref.fingerprint(lo, hi));
          for (const p of probes) {
            const bound = { timestamp: p.timestamp, idPrefix: p.id.slice(0, 3) };
            expect(index.lowerBound(0, index.size, bound)).toBe(ref.lowerBound(0, ref.size, bound));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an empty range has the fingerprint of no ids', () => {
    expect(indexOf([]).fingerprint(0, 0)).toEqual(fingerprintOf(sha256, []));
  });
});

describe('bounds', () => {
  it('a minimal bound separates two neighbours and is no longer than needed', () => {
    fc.assert(
      fc.property(arbItem, arbItem, (x, y) => {
        const c = compareItems(x, y);
        fc.pre(c !== 0);
        const [prev, next] = c < 0 ? [x, y] : [y, x];
        const b = minimalBound(prev, next);
        expect(compareItemToBound(prev, b)).toBeLessThan(0);
        expect(compareItemToBound(next, b)).toBeGreaterThanOrEqual(0);
        if (b.idPrefix.length > 0) {
          const shorter = { timestamp: b.timestamp, idPrefix: b.idPrefix.slice(0, -1) };
          expect(compareItemToBound(prev, shorter)).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('payload decoding is strict', () => {
  const fp = new Uint8Array(16).fill(7);
  const bad: Array<[string, number[]]> = [
    ['no version byte', []],
    ['another version', [0x02]],
    ['a varint with a leading zero group', [0x01, 0x80, 0x01, 0x00, 0x00]],
    ['a truncated fingerprint', [0x01, 0x02, 0x00, 0x01, 1, 2, 3]],
    ['an unknown mode', [0x01, 0x02, 0x00, 0x04]],
    ['an empty first range (upper bound = the minimum)', [0x01, 0x01, 0x00, 0x00]],
    ['bounds not increasing', [0x01, 0x03, 0x00, 0x00, 0x01, 0x00, 0x00]],
    ['a prefix ending in a zero byte', [0x01, 0x02, 0x01, 0x00, 0x00]],
    ['an infinite bound with a prefix', [0x01, 0x00, 0x01, 0x05, 0x00]],
    ['a range after the infinite bound', [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]],
    ['an id prefix over 32 bytes', [0x01, 0x02, 0x21, ...new Array<number>(33).fill(1), 0x00]],
    [
      'an id list longer than the payload',
      [0x01, 0x00, 0x00, 0x02, 0x05, ...new Array<number>(64).fill(1)],
    ],
    ['a varint over 2^53', [0x01, 0x90, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00, 0x00]],
    [
      'a bound timestamp over 2^53 - 1',
      [0x01, 0x90, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00],
    ],
  ];
  it.each(bad)('refuses %s with ERR_MALFORMED_RECONCILE', (_, bytes) => {
    expect(() => decodePayload(Uint8Array.from(bytes))).toThrow(NetError);
    try {
      decodePayload(Uint8Array.from(bytes));
    } catch (e) {
      expect((e as NetError).code).toBe('ERR_MALFORMED_RECONCILE');
    }
  });

  it('decodes what it encodes', () => {
    const ranges: Range[] = [
      { upper: { timestamp: 5, idPrefix: Uint8Array.of(3) }, mode: 'skip' },
      {
        upper: { timestamp: 9, idPrefix: new Uint8Array(0) },
        mode: 'fingerprint',
        fingerprint: fp,
      },
      { upper: { timestamp: 9, idPrefix: Uint8Array.of(0, 9) }, mode: 'id-list', ids: [idOf('a')] },
      { upper: MAX_BOUND, mode: 'id-list-response', ids: [idOf('b')], bitfield: Uint8Array.of(1) },
    ];
    const bytes = encodePayload(ranges);
    expect(encodePayload(decodePayload(bytes))).toEqual(bytes);
  });

  it('never throws anything but ERR_MALFORMED_RECONCILE on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodePayload(Uint8Array.of(0x01, ...bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(NetError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('varints: one spelling per value, big-endian groups', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeNat(), fc.constant(2 ** 53)), (n) => {
        const out: number[] = [];
        writeVarint(out, n);
        expect(new PayloadReader(Uint8Array.from(out)).varint()).toBe(n);
      }),
    );
    const out: number[] = [];
    writeVarint(out, 300);
    expect(out).toEqual([0x82, 0x2c]);
  });

  it('the responder refuses an id-list response and answers junk with a typed error', () => {
    const storage = indexOf([{ timestamp: 1, id: idOf('a') }]);
    const sneaky = encodePayload([
      { upper: MAX_BOUND, mode: 'id-list-response', ids: [], bitfield: new Uint8Array(0) },
    ]);
    expect(() => respond(storage, sneaky)).toThrow(/id-list response/);
    const huge = new Uint8Array(DEFAULT_RECONCILE_PARAMS.maxPayloadBytes + 1);
    huge[0] = 1;
    expect(() => respond(storage, huge)).toThrow(NetError);
  });
});

describe('resuming after a disconnect', () => {
  it('continues from the open ranges and finds the rest of the difference', () => {
    fc.assert(
      fc.property(
        arbSetPair,
        fc.integer({ min: 0, max: 3 }),
        ({ a, b, onlyA, onlyB }, cutAfter) => {
          const params = {
            ...DEFAULT_RECONCILE_PARAMS,
            buckets: 4,
            smallBuckets: 2,
            idListThreshold: 3,
          };
          const sa = indexOf(a);
          const sb = indexOf(b);
          const first = new Initiator(sa, params);
          const have: Uint8Array[] = [];
          const need: Uint8Array[] = [];
          let query: Uint8Array | null = first.start();
          for (let i = 0; i < cutAfter && query !== null; i++) {
            const r = first.receive(respond(sb, query, params));
            have.push(...r.have);
            need.push(...r.need);
            query = r.next;
          }
          // the connection drops here; a new one resumes from what is still open
          const open = query === null ? [] : first.openRanges();
          const second = new Initiator(sa, params);
          query = open.length > 0 ? second.resume(open) : null;
          while (query !== null) {
            const r = second.receive(respond(sb, query, params));
            have.push(...r.have);
            need.push(...r.need);
            query = r.next;
          }
          expect(
            hexSorted(
              [...new Set(have.map((x) => Buffer.from(x).toString('hex')))].map((h) =>
                Buffer.from(h, 'hex'),
              ),
            ),
          ).toEqual(hexSorted(onlyA.map((i) => i.id)));
          expect(
            hexSorted(
              [...new Set(need.map((x) => Buffer.from(x).toString('hex')))].map((h) =>
                Buffer.from(h, 'hex'),
              ),
            ),
          ).toEqual(hexSorted(onlyB.map((i) => i.id)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a resumed round sends less than starting over', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      timestamp: 1_700_000_000 + (i >> 2),
      id: idOf(`r${i}`),
    }));
    const b = items.filter((_, i) => i % 97 !== 3);
    const sa = indexOf(items);
    const sb = indexOf(b);
    const first = new Initiator(sa);
    const q1 = first.start();
    const r1 = first.receive(respond(sb, q1));
    expect(r1.next).not.toBeNull(); // mid-way: ranges are open
    const open = first.openRanges();
    const resumed = reconcileFrom(new Initiator(sa), sb, (i) => i.resume(open));
    const restarted = reconcileFrom(new Initiator(sa), sb, (i) => i.start());
    expect(resumed.have).toBe(restarted.have);
    expect(resumed.bytes).toBeLessThan(restarted.bytes);
  });
});

function reconcileFrom(
  initiator: Initiator,
  responder: SyncIndex,
  begin: (i: Initiator) => Uint8Array,
): { bytes: number; have: number } {
  let query: Uint8Array | null = begin(initiator);
  let bytes = 0;
  let have = 0;
  while (query !== null) {
    const reply = respond(responder, query);
    bytes += query.length + reply.length;
    const r = initiator.receive(reply);
    have += r.have.length;
    query = r.next;
  }
  return { bytes, have };
}
