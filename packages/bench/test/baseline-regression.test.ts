// The CI use, end to end through the real command: a baseline saved from this build passes
// against this build; the same source compiled without optimisations (built by
// `scripts/bootstrap.sh --test` into target/unoptimized-addon and selected through napi-rs's
// NAPI_RS_NATIVE_LIBRARY_PATH) fails against it. A bad baseline path fails before any timing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_THRESHOLD } from '../src/args.js';
import type { RunFile } from '../src/results-file.js';
import { type Interval, verdict } from '../src/stats.js';
import type { BaselineSection } from '../src/summary.js';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const SLOW_ADDON = fileURLToPath(
  new URL(
    `../../../target/unoptimized-addon/commons-sync.${process.platform}-${process.arch}-gnu.node`,
    import.meta.url,
  ),
);
const dir = mkdtempSync(join(tmpdir(), 'bench-baseline-'));

// A reduced run (the CLI's own knobs): single and batch-64 verify of native and wasm against
// node:crypto, five interleaved rounds of 0.1 s per case.
const REDUCED = [
  ...['ed25519 verify · native', 'ed25519 verify · node:crypto'].flatMap((f) => ['--filter', f]),
  ...['batch-64 · native', 'batch-64 · wasm', 'batch-64 · node:crypto'].flatMap((f) => [
    '--filter',
    f,
  ]),
  '--rounds',
  '5',
  '--time',
  '0.1',
];
// This shared test machine swings same-build ratios by tens of percent between runs; the
// unoptimized addon moves them by ~99%. A 50% threshold separates the two with a wide margin
// here; the default (15%) is for CI runners, and the unoptimized run fails that one too (checked
// on its saved outcomes below).
const THRESHOLD = ['--threshold', '0.5'];

function bench(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: BENCH,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const baseline = join(dir, 'baseline.json');
beforeAll(() => {
  const saved = bench([...REDUCED, '--json', baseline]);
  expect(saved.status, saved.stderr).toBe(0);
}, 240_000);

describe('commons-sync-bench --baseline', () => {
  it('saves every sample and the machine facts', () => {
    const run = JSON.parse(readFileSync(baseline, 'utf8')) as RunFile;
    expect(run.results.map((r) => `${r.group} · ${r.impl}`).sort()).toEqual([
      'ed25519 batch-64 · native',
      'ed25519 batch-64 · native (array)',
      'ed25519 batch-64 · node:crypto',
      'ed25519 batch-64 · wasm',
      'ed25519 verify · native',
      'ed25519 verify · node:crypto',
    ]);
    for (const r of run.results) {
      expect(r.rounds).toHaveLength(5);
      expect(r.rounds.every((round) => round.length === 5)).toBe(true);
    }
    expect(run.machine).toMatchObject({ node: process.version, openssl: process.versions.openssl });
    expect(run.machine.cpuModel.length).toBeGreaterThan(0);
    expect(run.comparisons.map((c) => c.key)).toContain('ed25519 batch-64 · native vs node:crypto');
  });

  it('passes against a baseline saved from the same build', () => {
    const summary = join(dir, 'same.md');
    const r = bench([...REDUCED, ...THRESHOLD, '--baseline', baseline, '--markdown', summary]);
    expect(r.status, r.stdout).toBe(0);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('✅ no regression beyond 50%');
    expect(md).toMatch(/\| ed25519 batch-64 · native vs node:crypto \| [\d.]+× \| [\d.]+× \|/);
    expect(md).toContain(`OpenSSL ${process.versions.openssl}`);
  }, 240_000);

  it('fails when the addon is an unoptimized build of the same source', () => {
    expect(existsSync(SLOW_ADDON), `${SLOW_ADDON} (run scripts/bootstrap.sh --test)`).toBe(true);
    const summary = join(dir, 'slow.md');
    const r = bench(
      [
        ...REDUCED,
        ...THRESHOLD,
        '--baseline',
        baseline,
        '--markdown',
        summary,
        '--json',
        join(dir, 'slow.json'),
      ],
      {
        NAPI_RS_NATIVE_LIBRARY_PATH: SLOW_ADDON,
      },
    );
    expect(r.status, r.stdout).toBe(1);
    expect(r.stderr).toMatch(/regression against .*baseline\.json: .*native vs node:crypto/);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain(`native addon \`${SLOW_ADDON}\``);
    const rows = md.split('\n').filter((l) => l.startsWith('| ed25519'));
    const verdictOf = (key: string) =>
      rows
        .find((l) => l.startsWith(`| ${key} |`))
        ?.split('|')
        .at(-2)
        ?.trim();
    expect(verdictOf('ed25519 verify · native vs node:crypto')).toBe('❌ regression');
    expect(verdictOf('ed25519 batch-64 · native vs node:crypto')).toBe('❌ regression');
    expect(verdictOf('ed25519 batch-64 · wasm vs node:crypto')).not.toBe('❌ regression');
    const saved = JSON.parse(readFileSync(join(dir, 'slow.json'), 'utf8')) as RunFile & {
      baseline: BaselineSection;
    };
    const native = saved.baseline.outcomes.filter((o) => o.key.includes('· native vs'));
    expect(native).toHaveLength(2);
    for (const o of native) {
      expect(o.change?.estimate).toBeLessThan(-0.5);
      expect(verdict(o.change as Interval, DEFAULT_THRESHOLD)).toBe('regression');
    }
  }, 240_000);

  it('refuses a baseline it cannot read with exit status 2, before timing anything', () => {
    const r = bench([...REDUCED, '--baseline', join(dir, 'missing.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read baseline .*missing\.json.*\[ERR_BASELINE_READ\]/);
    expect(r.stderr).not.toContain('round 1/');
  });
});
