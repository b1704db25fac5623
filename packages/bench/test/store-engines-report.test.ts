// The store-engines report is computed from what was measured: each figure is the median over
// the rounds of that round's measurement over its events, ratios are one engine's figure over
// SQLite's from the same samples, the storage part is an engine's thread CPU less the `none`
// engine's; `measure` counts what it committed; the CLI runs as the README spells it, writes
// those figures to JSON, and refuses bad flags with a typed usage error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadCore } from '@commons-sync/bindings';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import { EventFactory } from '../src/ingest/events.js';
import { median } from '../src/stats.js';
import { parseStoreEnginesArgs } from '../src/store-engines/args.js';
import { openEngine, toBenchEvents } from '../src/store-engines/engines.js';
import { measure } from '../src/store-engines/main.js';
import { ENGINES } from '../src/store-engines/names.js';
import {
  markdown,
  ratios,
  type Sample,
  storageCpu,
  summarize,
} from '../src/store-engines/report.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cs-store-engines-report-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sampleArb = (engine: (typeof ENGINES)[number], phase: 'empty' | 'stored', round: number) =>
  fc.record({
    engine: fc.constant(engine),
    phase: fc.constant(phase),
    round: fc.constant(round),
    storedBefore: fc.integer({ min: 0, max: 1e6 }),
    events: fc.integer({ min: 1, max: 1e5 }),
    batches: fc.integer({ min: 1, max: 100 }),
    threadCpuNs: fc.integer({ min: 1, max: 1e10 }),
    processCpuUs: fc.integer({ min: 1, max: 1e7 }),
    wallNs: fc.integer({ min: 1, max: 1e10 }),
    writtenBytes: fc.integer({ min: 0, max: 1e10 }),
    bytesOnDisk: fc.integer({ min: 1, max: 1e10 }),
    storedAfter: fc.integer({ min: 1, max: 2e6 }),
    load1: fc.double({ min: 0, max: 20, noNaN: true }),
  });

const samplesArb = fc
  .integer({ min: 1, max: 4 })
  .chain((rounds) =>
    fc.tuple(
      ...(['empty', 'stored'] as const).flatMap((phase) =>
        ENGINES.flatMap((engine) =>
          Array.from({ length: rounds }, (_, r) => sampleArb(engine, phase, r + 1)),
        ),
      ),
    ),
  );

describe('the report is computed from the samples', () => {
  it('medians per engine and phase, ratios over SQLite, the storage part (property)', () => {
    fc.assert(
      fc.property(samplesArb, (samples: Sample[]) => {
        const figures = summarize(samples);
        expect(figures).toHaveLength(ENGINES.length * 2);
        for (const f of figures) {
          const mine = samples.filter((s) => s.engine === f.engine && s.phase === f.phase);
          expect(f.rounds).toBe(mine.length);
          expect(f.threadCpuUsPerEvent).toBeCloseTo(
            median(mine.map((s) => s.threadCpuNs / 1000 / s.events)),
            9,
          );
          expect(f.processCpuUsPerEvent).toBeCloseTo(
            median(mine.map((s) => s.processCpuUs / s.events)),
            9,
          );
          expect(f.wallUsPerEvent).toBeCloseTo(
            median(mine.map((s) => s.wallNs / 1000 / s.events)),
            9,
          );
          expect(f.commitsPerSecond).toBeCloseTo(
            median(mine.map((s) => s.batches / (s.wallNs / 1e9))),
            6,
          );
          expect(f.writtenBytesPerEvent).toBeCloseTo(
            median(mine.map((s) => s.writtenBytes / s.events)),
            9,
          );
          expect(f.bytesPerEvent).toBeCloseTo(
            median(mine.map((s) => s.bytesOnDisk / s.storedAfter)),
            9,
          );
          const none = figures.find((g) => g.engine === 'none' && g.phase === f.phase);
          if (f.engine !== 'none')
            expect(storageCpu(figures, f)).toBeCloseTo(
              f.threadCpuUsPerEvent - (none?.threadCpuUsPerEvent ?? 0),
              9,
            );
        }
        for (const r of ratios(figures)) {
          const mine = figures.find((f) => f.engine === r.engine && f.phase === r.phase);
          const sqlite = figures.find((f) => f.engine === 'sqlite' && f.phase === r.phase);
          expect(r.over.threadCpuUsPerEvent).toBeCloseTo(
            (mine?.threadCpuUsPerEvent ?? NaN) / (sqlite?.threadCpuUsPerEvent ?? NaN),
            9,
          );
          expect(r.over.commitsPerSecond).toBeCloseTo(
            (mine?.commitsPerSecond ?? NaN) / (sqlite?.commitsPerSecond ?? NaN),
            9,
          );
        }
      }),
      { numRuns: 50 },
    );
  });

  it('the Markdown prints those figures, and other samples print other figures', () => {
    const base: Sample = {
      engine: 'sqlite',
      phase: 'empty',
      round: 1,
      storedBefore: 0,
      events: 10_000,
      batches: 10,
      threadCpuNs: 250_000_000,
      processCpuUs: 300_000,
      wallNs: 400_000_000,
      writtenBytes: 20_000_000,
      bytesOnDisk: 11_000_000,
      storedAfter: 10_000,
      load1: 1,
    };
    const lmdb: Sample = {
      ...base,
      engine: 'lmdb-sync',
      threadCpuNs: 150_000_000,
      wallNs: 200_000_000,
    };
    const facts = {
      batchSize: 1000,
      batchesPerRound: 10,
      storeSize: 0,
      fillSeconds: {},
      loadAtStart: [1, 1, 1],
      loadAtEnd: [1, 1, 1],
      commit: 'test',
    };
    const md = markdown(facts, [base, lmdb]);
    // 250 ms over 10,000 events = 25.0 µs; 150 ms = 15.0 µs; ratio 0.60; 10 batches in 0.2 s
    expect(md).toContain('| sqlite | empty | 0 | 1 | 25.0 |');
    expect(md).toContain('| lmdb-sync | empty | 0 | 1 | 15.0 |');
    expect(md).toContain('| lmdb-sync | empty | 0.60 |');
    expect(md).toContain('50.0 | 50,000 | 2,000 | 1,100 |');
    const other = markdown(facts, [base, { ...lmdb, threadCpuNs: 200_000_000 }]);
    expect(other).toContain('| lmdb-sync | empty | 0 | 1 | 20.0 |');
    expect(other).not.toContain('| lmdb-sync | empty | 0 | 1 | 15.0 |');
  });
});

describe('measure counts what it committed', () => {
  it('events, batches, store growth, CPU and bytes of a real SQLite and LMDB commit', async () => {
    const core = await loadCore();
    const factory = new EventFactory(core, 'store-engines-measure');
    const now = Math.floor(Date.now() / 1000);
    const batches = [0, 1].map((b) => toBenchEvents(factory.bulkEvents(b * 300, 300, now)));
    for (const name of ['sqlite', 'lmdb-sync'] as const) {
      const dir = join(root, `measure-${name}`);
      const engine = openEngine(name, dir, core);
      try {
        const s = await measure(engine, batches, dir, 'empty', 1);
        expect(s).toMatchObject({
          engine: name,
          events: 600,
          batches: 2,
          storedBefore: 0,
          storedAfter: 600,
        });
        expect(s.threadCpuNs).toBeGreaterThan(0);
        expect(s.processCpuUs).toBeGreaterThan(0);
        expect(s.wallNs).toBeGreaterThan(0);
        expect(s.bytesOnDisk).toBeGreaterThan(600 * 300);
        expect(s.writtenBytes).toBeGreaterThan(600 * 300); // durable: the rows reached the disk // the encoded events alone are ~400 bytes each
      } finally {
        await engine.close();
      }
    }
  });
});

describe('the command line', () => {
  it('has a quick and a full mode and refuses unknown engines and flags (ERR_BENCH_USAGE)', () => {
    expect(parseStoreEnginesArgs([])).toMatchObject({
      mode: 'full',
      rounds: 3,
      batches: 10,
      storeSize: 1_000_000,
    });
    expect(parseStoreEnginesArgs(['--quick'])).toMatchObject({
      mode: 'quick',
      batches: 5,
      storeSize: 20_000,
    });
    expect(parseStoreEnginesArgs(['--engines', 'sqlite,none']).engines).toEqual(['sqlite', 'none']);
    expect(() => parseStoreEnginesArgs(['--engines', 'rocksdb'])).toThrow(UsageError);
    expect(() => parseStoreEnginesArgs(['--rounds', '0'])).toThrow(UsageError);
    expect(() => parseStoreEnginesArgs(['--bogus'])).toThrow(UsageError);
  });

  it('`commons-sync-bench store-engines` runs every engine and writes the figures of its samples', () => {
    const json = join(root, 'run.json');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'store-engines',
        '--quick',
        '--rounds',
        '1',
        '--batches',
        '1',
        '--store-size',
        '3000',
        '--dir',
        root,
        '--json',
        json,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('# Store engines');
    const run = JSON.parse(readFileSync(json, 'utf8')) as {
      samples: Sample[];
      figures: unknown;
      ratios: unknown;
    };
    expect(run.samples).toHaveLength(ENGINES.length * 2);
    expect(run.figures).toEqual(JSON.parse(JSON.stringify(summarize(run.samples))));
    expect(run.ratios).toEqual(JSON.parse(JSON.stringify(ratios(summarize(run.samples)))));
    // the stored rounds ran on stores filled to --store-size (warm-up batches on top)
    for (const s of run.samples.filter((x) => x.phase === 'stored' && x.engine !== 'none'))
      expect(s.storedBefore).toBeGreaterThanOrEqual(3000);
  });

  it('a bad flag exits 2 with the code and the usage', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'store-engines', '--engines', 'rocksdb'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_BENCH_USAGE]');
    expect(r.stderr).toContain('usage: commons-sync-bench store-engines');
  });
});
