/**
 * The replay filter (storage/replay-filter.ts) may name a partition that holds no record under
 * a key, never leave out one that does: for any sequence of adds and drops, through growth and
 * compaction, its candidates contain every live partition given the key and no dropped one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ReplayFilter } from '../src/storage/replay-filter.js';

const key48 = fc.integer({ min: 0, max: 2 ** 48 - 1 });

type Op =
  | { readonly op: 'add'; readonly key: number; readonly part: number }
  | { readonly op: 'drop'; readonly part: number };

const ops = (keys: fc.Arbitrary<number>): fc.Arbitrary<Op[]> =>
  fc.array(
    fc.oneof(
      {
        weight: 20,
        arbitrary: fc.record({ op: fc.constant('add' as const), key: keys, part: fc.nat(6) }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), part: fc.nat(6) }) },
    ),
    // up to three times the first table's capacity, so that it grows and compacts
    { maxLength: 12_000, size: 'max' },
  );

function check(operations: readonly Op[], probes: readonly number[]): void {
  const filter = new ReplayFilter();
  const truth = new Map<number, Set<number>>(); // key → live parts
  for (const o of operations) {
    if (o.op === 'add') {
      filter.add(o.key, o.part);
      truth.set(o.key, (truth.get(o.key) ?? new Set()).add(o.part));
    } else {
      filter.drop(o.part);
      for (const parts of truth.values()) parts.delete(o.part);
    }
  }
  const dropped = new Set<number>();
  const liveParts = new Set<number>();
  for (const o of operations) {
    if (o.op === 'drop') {
      dropped.add(o.part);
      liveParts.delete(o.part);
    } else {
      dropped.delete(o.part);
      liveParts.add(o.part);
    }
  }
  const into: number[] = [];
  for (const key of [...truth.keys(), ...probes]) {
    const got = filter.candidates(key, into);
    for (const part of truth.get(key) ?? []) expect(got).toContain(part);
    for (const part of got) expect(liveParts.has(part)).toBe(true);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort((a, b) => b - a)).toEqual(got);
  }
}

describe('the replay filter', () => {
  it('never leaves out a live partition and never names a dropped one', () => {
    fc.assert(fc.property(ops(key48), fc.array(key48, { maxLength: 200 }), check), { numRuns: 20 });
  });

  it('holds when keys share their stored top bits (one home slot, long probe runs)', () => {
    // keys that differ only in their low 16 bits collide in the table on purpose
    const crowded = fc.integer({ min: 0, max: 40 }).map((low) => 0x1234_5678_0000 + low);
    fc.assert(fc.property(ops(crowded), fc.array(crowded, { maxLength: 50 }), check), {
      numRuns: 20,
    });
  });

  it('answers no partition for a key never added, almost always', () => {
    const filter = new ReplayFilter();
    for (let i = 0; i < 100_000; i++) filter.add(Math.floor(Math.random() * 2 ** 48), i >> 16);
    let positives = 0;
    const into: number[] = [];
    for (let i = 0; i < 100_000; i++)
      if (filter.candidates(Math.floor(Math.random() * 2 ** 48), into).length > 0) positives++;
    expect(positives).toBeLessThan(100); // a match needs all 32 stored bits: a few expected
    expect(filter.size).toBe(100_000);
    expect(filter.capacity).toBeGreaterThanOrEqual(100_000 / 0.75);
  });
});
