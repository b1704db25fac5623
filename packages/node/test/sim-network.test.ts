/**
 * The deterministic simulation (spec/SYNC.md §11): a fixed set of seeds, each a whole network of
 * honest nodes and one hostile node under drops, duplicates, reordering, partitions, crashes and
 * restarts, checked after every step (src/net/sim/world.ts lists the invariants). A failing seed
 * is printed with a replay command:
 *
 *     SIM_SEED=1234 npx vitest run test/sim-network.test.ts      # one seed, every step traced
 *     SIM_SEEDS=2000 npx vitest run test/sim-network.test.ts     # more seeds than npm test runs
 */
import { loadCore } from '@commons-sync/bindings';
import { describe, expect, it } from 'vitest';

import { DEFAULT_SIM_OPTIONS, type SimReport, Simulation } from '../src/net/sim/world.js';

const core = await loadCore({ backend: 'native' });
const one = process.env['SIM_SEED'];
const count = Number(process.env['SIM_SEEDS'] ?? 200);
const first = Number(process.env['SIM_FIRST'] ?? 1);
const seeds =
  one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => i + first);

const CHUNK = 25;
const reports: SimReport[] = [];

describe('simulated networks', () => {
  for (let at = 0; at < seeds.length; at += CHUNK) {
    const chunk = seeds.slice(at, at + CHUNK);
    it(`hold every invariant on seeds ${chunk[0]}..${chunk[chunk.length - 1]}`, {
      timeout: 600_000,
    }, () => {
      for (const seed of chunk) {
        reports.push(
          new Simulation(core, { ...DEFAULT_SIM_OPTIONS, seed, verbose: one !== undefined }).run(),
        );
      }
    });
  }

  it.runIf(one === undefined)(
    'a seed replays exactly (same messages, drops, crashes, attacks, final set)',
    () => {
      const run = () =>
        new Simulation(core, { ...DEFAULT_SIM_OPTIONS, seed: 4242, steps: 600 }).run();
      const first = run();
      expect(run()).toEqual(first);
      expect(
        new Simulation(core, { ...DEFAULT_SIM_OPTIONS, seed: 4243, steps: 600 }).run(),
      ).not.toEqual(first);
    },
  );

  it.runIf(one === undefined)(
    'exercised what they claim to (a run that did nothing would prove nothing)',
    () => {
      if (process.env['SIM_REPORT'] === '1')
        for (const r of reports) console.log(JSON.stringify(r));
      expect(reports).toHaveLength(seeds.length);
      const sum = (f: (r: SimReport) => number) => reports.reduce((n, r) => n + f(r), 0);
      expect(sum((r) => r.acked)).toBeGreaterThan(seeds.length * 40);
      expect(sum((r) => r.finalSetSize)).toBeGreaterThan(seeds.length * 5);
      expect(sum((r) => r.dropped)).toBeGreaterThan(0);
      expect(sum((r) => r.crashes)).toBeGreaterThan(seeds.length / 2);
      expect(sum((r) => r.partitions)).toBeGreaterThan(seeds.length);
      expect(sum((r) => r.splitViewAlerts)).toBeGreaterThan(0);
      expect(sum((r) => r.bansOfHostile)).toBeGreaterThan(0);
      for (const attack of [
        'bad-signature',
        'replay',
        'flood',
        'split-view',
        'equivocate-author',
        'expired',
        'garbage',
        'bad-partial',
      ]) {
        expect(
          sum((r) => r.attacks[attack] ?? 0),
          attack,
        ).toBeGreaterThan(0);
      }
    },
  );
});
