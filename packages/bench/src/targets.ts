/**
 * The performance targets of the crypto-core issue. They are reported as PASS or MISS and never
 * fail the run: a benchmark informs, it does not gate.
 */
import { speedup as ratioOf } from './compare.js';
import { formatRatio } from './report.js';
import type { Result } from './runner.js';

export interface TargetOutcome {
  target: string;
  goal: number;
  /** Measured speed-up, per item; null when this run did not measure both sides. */
  value: number | null;
  status: 'PASS' | 'MISS' | 'n/a';
  detail: string;
}

function find(results: readonly Result[], [group, impl]: [string, string]): Result | undefined {
  return results.find((x) => x.group === group && x.impl === impl);
}

function speedup(results: readonly Result[], fast: [string, string], slow: [string, string]) {
  const f = find(results, fast);
  const s = find(results, slow);
  return f === undefined || s === undefined ? null : ratioOf(f, s);
}

const show = (x: number | null) => (x === null ? 'n/a' : formatRatio(x));

export function evaluateTargets(results: readonly Result[]): TargetOutcome[] {
  const single = 'ed25519 verify';
  const cold = 'ed25519 batch-64 cold keys';
  const b = (n: number) => `ed25519 batch-${n}`;
  const wasmVsNode = (n: number) => speedup(results, [b(n), 'wasm'], [b(n), 'node:crypto']);
  const wasmVsNoble = (n: number) => speedup(results, [b(n), 'wasm'], [single, '@noble/curves']);
  const specs: Omit<TargetOutcome, 'status'>[] = [
    ...(['', ' (array)'] as const).flatMap((form) => {
      const call = form === '' ? 'ed25519VerifyBatchPacked' : 'ed25519VerifyBatch(items)';
      return [
        {
          target: `native batch-64 verify vs node:crypto, ${call} (per signature)`,
          goal: 8,
          value: speedup(results, [b(64), `native${form}`], [b(64), 'node:crypto']),
          detail:
            'keys warm in the key cache; node:crypto verifies the same 64 in a loop with ' +
            'KeyObjects made in advance',
        },
        {
          target: `native batch-64 verify vs node:crypto, cold keys, ${call} (per signature)`,
          goal: 6,
          value: speedup(results, [cold, `native${form}`], [cold, 'node:crypto']),
          detail: '16,384 distinct signers rotate past the 4,096-key cache: every key is decoded',
        },
      ];
    }),
    {
      target: 'native single verify vs node:crypto',
      goal: 3,
      value: speedup(results, [single, 'native'], [single, 'node:crypto']),
      detail: '',
    },
    {
      target: 'wasm batch-64 verify vs node:crypto (per signature)',
      goal: 1.2,
      value: wasmVsNode(64),
      detail: `batch-256 ${show(wasmVsNode(256))}, batch-1024 ${show(wasmVsNode(1024))}`,
    },
    {
      target: 'wasm batch-64 verify vs @noble/curves (per signature)',
      goal: 12,
      value: wasmVsNoble(64),
      detail:
        `against @noble/curves single verify; batch-256 ${show(wasmVsNoble(256))}, ` +
        `batch-1024 ${show(wasmVsNoble(1024))}`,
    },
    {
      target: 'native sha256 batch 10000×256 B vs node:crypto createHash loop',
      goal: 2,
      value: speedup(
        results,
        ['sha256 batch 10000×256 B', 'native'],
        ['sha256 batch 10000×256 B', 'node:crypto createHash loop'],
      ),
      detail: '',
    },
  ];
  return specs.map((s) => ({
    ...s,
    status: s.value === null ? 'n/a' : s.value >= s.goal ? 'PASS' : 'MISS',
  }));
}

export function targetLines(outcomes: readonly TargetOutcome[]): string[] {
  return outcomes.map((o) => {
    const measured = o.value === null ? 'not measured in this run' : formatRatio(o.value);
    const detail = o.detail === '' ? '' : ` (${o.detail})`;
    return `${o.status.padEnd(4)}  ${o.target}: ${measured}, target ≥ ${o.goal}×${detail}`;
  });
}
