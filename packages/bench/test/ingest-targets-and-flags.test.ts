// `commons-sync-bench ingest`: its flags, and how one run's figures become PASS or MISS.
import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import { parseIngestArgs } from '../src/ingest/args.js';
import { cpuBudget, evaluateIngestTargets, type IngestFigures } from '../src/ingest/targets.js';

describe('parseIngestArgs', () => {
  it('has a quick and a full mode, and takes a store size', () => {
    expect(parseIngestArgs([])).toMatchObject({
      mode: 'full',
      events: 30_000,
      rounds: 3,
      warmup: 40_000,
      identityPairs: 12,
      storeSize: null,
      scaleOnly: false,
    });
    expect(parseIngestArgs(['--warmup', '0']).warmup).toBe(0);
    expect(parseIngestArgs(['--store-size', '1000', '--scale-only']).scaleOnly).toBe(true);
    expect(parseIngestArgs(['--store-size=1000', '--store-dir', '/s']).storeDir).toBe('/s');
    expect(parseIngestArgs(['--warmup=20000']).warmup).toBe(20_000);
    expect(parseIngestArgs(['--identity-pairs', '0']).identityPairs).toBe(0);
    expect(parseIngestArgs(['--identity-pairs=30']).identityPairs).toBe(30);
    expect(parseIngestArgs(['--quick', '--store-size=10000000', '--rounds', '5'])).toMatchObject({
      mode: 'quick',
      events: 10_000,
      rounds: 5,
      identityPairs: 6,
      storeSize: 10_000_000,
    });
  });

  it.each([
    [['--events', '1500'], /multiple of 1000/],
    [['--store-size', '-5'], /positive integer/],
    [['--rounds', 'x'], /positive integer/],
    [['--warmup', '500'], /multiple of 1000/],
    [['--warmup', '-1000'], /positive integer/],
    [['--identity-pairs', '1.5'], /positive integer/],
    [['--identity-pairs'], /needs a value/],
    [['--json'], /needs a value/],
    [['--quick=1'], /takes no value/],
    [['--fast'], /unknown argument/],
    [['--scale-only'], /--scale-only needs --store-size/],
    [['--store-dir', '/tmp/x'], /--store-dir needs --store-size/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseIngestArgs(argv)).toThrow(UsageError);
    expect(() => parseIngestArgs(argv)).toThrow(message);
  });
});

const base: IngestFigures = {
  ingestDefault: 45_000,
  nodeCrypto: 10_000,
  ingestFixed: new Map([
    [1, 45_500],
    [2, 40_000],
  ]),
  defaultWorkers: 1,
  pool: new Map([
    [1, 200_000],
    [2, 390_000],
  ]),
  atScale: {
    storeSize: 10_000_000,
    ingest: 37_000,
    emptyIngest: 46_000,
    peakRssBytes: 700 * 2 ** 20,
  },
};

const statuses = (f: IngestFigures) => evaluateIngestTargets(f).map((t) => t.status);

describe('evaluateIngestTargets', () => {
  it('passes each target when its ratio reaches the goal', () => {
    expect(statuses(base)).toEqual(['PASS', 'PASS', 'PASS', 'PASS', 'PASS']);
  });

  it('misses each target that falls short', () => {
    expect(
      statuses({
        ...base,
        ingestDefault: 40_000, // 4.0× node:crypto
        // 30,000 is 67% of the empty store's 45,000 in the same rounds
        atScale: {
          storeSize: 10_000_000,
          ingest: 30_000,
          emptyIngest: 45_000,
          peakRssBytes: 2 ** 30,
        },
        pool: new Map([
          [1, 200_000],
          [2, 300_000],
        ]),
        ingestFixed: new Map([[2, 44_000]]), // the default is 9% slower than 2 workers
      }),
    ).toEqual(['MISS', 'MISS', 'MISS', 'MISS', 'MISS']);
  });

  it('does not call a smaller store a pass, and says when scale was not measured', () => {
    const { atScale: _, ...noScale } = base;
    expect(statuses(noScale)[1]).toBe('n/a');
    const small = evaluateIngestTargets({
      ...base,
      atScale: { ...base.atScale!, storeSize: 1_000_000 },
    });
    expect(small[1]?.status).toBe('n/a');
    expect(small[1]?.measured).toMatch(/smaller than the target size/);
  });

  it('compares the rate at scale with the empty store of the same rounds', () => {
    // the same 37,000/s: 80% of 46,000 passes, 74% of 50,000 misses, whatever ingestDefault
    const at = (emptyIngest: number) =>
      evaluateIngestTargets({ ...base, atScale: { ...base.atScale!, emptyIngest } })[1];
    expect(at(46_000)?.status).toBe('PASS');
    expect(at(50_000)?.status).toBe('MISS');
    expect(at(50_000)?.measured).toMatch(/^74% \(37,000\/s vs 50,000\/s/);
  });
});

describe('the pool against the bare threads', () => {
  it("reads the pool's ratio against the bare threads' ceiling, and passes only on its own ratio", () => {
    const withCeiling = (pool2: number) =>
      evaluateIngestTargets({
        ...base,
        pool: new Map([
          [1, 200_000],
          [2, pool2],
        ]),
        bareThreads: new Map([
          [1, 210_000],
          [2, 378_000], // 1.80×
        ]),
      })[3];
    const below = withCeiling(354_000); // 1.77×: 98% of the ceiling, still short of 1.8×
    expect(below?.status).toBe('MISS');
    expect(below?.measured).toMatch(/^1\.77× .*bare threads without the pool 1\.80×.* keeps 98%/);
    expect(withCeiling(362_000)?.status).toBe('PASS');
    // no bare figures: the line says nothing of a ceiling
    expect(evaluateIngestTargets(base)[3]?.measured).toMatch(/^1\.95× /);
    expect(evaluateIngestTargets(base)[3]?.measured).not.toMatch(/bare threads/);
  });
});

describe('cpuBudget', () => {
  it('is the rate at which the node and the load generator fill every core', () => {
    // 2 cores, 40 + 10 µs per event: 2,000,000 µs / 50 µs = 40,000 events/s
    expect(cpuBudget(2, 40, 10)).toEqual({ usPerEvent: 50, ceiling: 40_000 });
    expect(cpuBudget(4, 40, 10).ceiling).toBe(80_000);
    expect(cpuBudget(2, 0, 0).ceiling).toBe(0);
  });
});
