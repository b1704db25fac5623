// The ceiling the network bench prints next to the measured ratio: the best network/single
// throughput ratio that C cores allow when every node validates every event.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { throughputCeiling } from '../src/network.js';

const us = 1e-6;

describe('the CPU ceiling of the network/single ratio', () => {
  it('with the idle figures of issue 10: 2 cores, one node at 10,469 events/s', () => {
    // a node alone 133 µs; the network's nodes 133 + 215 + 215 µs (as measured before), g 15 µs
    const c = throughputCeiling(2, 10_469, [133 * us, 215 * us, 215 * us], 15 * us);
    expect(c.ratio).toBeCloseTo(2 / (10_469 * 578 * us), 6);
    expect(c.ratio).toBeLessThan(0.34);
    expect(c.coreBound).toBe(true);
    // for 0.7 the two receivers together may cost 2 / (0.7 × 10,469) − 133 − 15 µs ≈ 125 µs
    expect(c.receiverBudget / us).toBeCloseTo(2 / (0.7 * 10_469) / us - 148, 6);
  });

  it('is 1 when the cores are not what limits the network', () => {
    const c = throughputCeiling(16, 5_000, [100 * us, 100 * us, 100 * us], 10 * us);
    expect(c.ratio).toBe(1);
    expect(c.coreBound).toBe(false);
  });

  it('never exceeds 1, and falls as any process costs more per event', () => {
    const cost = fc.double({ min: 1e-6, max: 1e-3, noNaN: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        fc.tuple(cost, cost, cost),
        cost,
        fc.integer({ min: 0, max: 3 }),
        (cores, rate, nodes, g, which) => {
          const base = throughputCeiling(cores, rate, nodes, g);
          expect(base.ratio).toBeLessThanOrEqual(1);
          expect(base.ratio).toBeGreaterThan(0);
          const dearer = [...nodes];
          if (which < 3) dearer[which] = (dearer[which] as number) * 2;
          const more = throughputCeiling(cores, rate, dearer, which === 3 ? g * 2 : g);
          expect(more.ratio).toBeLessThanOrEqual(base.ratio);
          expect(base.networkRateBound).toBeCloseTo(cores / (nodes[0] + nodes[1] + nodes[2] + g));
        },
      ),
    );
  });
});
