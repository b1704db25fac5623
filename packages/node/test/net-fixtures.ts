/** Shared helpers of the network tests: a SHA-256, deterministic ids, and item sets. */
import { createHash } from 'node:crypto';

import fc from 'fast-check';
import type { Item } from '../src/net/reconcile/items.js';
import type { ReconcileParams } from '../src/net/reconcile/reconciler.js';
import { toHex } from '../src/protocol/bytes.js';

export const sha256 = (data: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(data).digest());

export function idOf(label: string): Uint8Array {
  return sha256(new TextEncoder().encode(label));
}

export const hexSorted = (ids: readonly Uint8Array[]): string[] => ids.map(toHex).sort();

/** Items whose timestamps often collide (so bounds need id prefixes) and ids that share prefixes. */
export const arbItem: fc.Arbitrary<Item> = fc
  .record({
    timestamp: fc.oneof(
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.constant(2 ** 53 - 1),
    ),
    id: fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      // ids sharing long prefixes exercise minimal bounds
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 2, maxLength: 2 }))
        .map(([p, tail]) => {
          const id = new Uint8Array(32).fill(0xab);
          id[30 - p] = tail[0] as number;
          id[31] = tail[1] as number;
          return id;
        }),
    ),
  })
  .map((x) => ({ timestamp: x.timestamp, id: x.id }));

/** Two sets: shared items plus items only on one side. */
export const arbSetPair = fc
  .record({
    shared: fc.array(arbItem, { maxLength: 300 }),
    onlyA: fc.array(arbItem, { maxLength: 40 }),
    onlyB: fc.array(arbItem, { maxLength: 40 }),
  })
  .map(({ shared, onlyA, onlyB }) => {
    // an id belongs to one place only
    const seen = new Set<string>();
    const keep = (items: Item[]) =>
      items.filter((it) => {
        const k = toHex(it.id);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    const s = keep(shared);
    const a = keep(onlyA);
    const b = keep(onlyB);
    return { a: [...s, ...a], b: [...s, ...b], onlyA: a, onlyB: b };
  });

/** Parameters from the tiny (cuts every payload) to the defaults. */
export const arbParams: fc.Arbitrary<ReconcileParams> = fc.record({
  buckets: fc.integer({ min: 2, max: 16 }),
  smallBuckets: fc.integer({ min: 2, max: 8 }),
  smallRange: fc.integer({ min: 0, max: 200 }),
  idListThreshold: fc.integer({ min: 1, max: 20 }),
  maxResponseIds: fc.integer({ min: 1, max: 40 }),
  maxPayloadBytes: fc.constantFrom(3000, 8192, 512 * 1024),
});
