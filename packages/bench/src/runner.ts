/**
 * Timing: one {@link Case} at a time, in samples of many calls each. The number of calls per
 * sample is calibrated once per case (doubling up, which also warms the JIT) so that a sample
 * lasts at least `sampleTime`; every later round reuses it, so a round costs its samples only.
 */
import { median } from './stats.js';

/** One timed operation. Cases in the same group run on the same inputs and are compared. */
export interface Case {
  /** What is compared, e.g. `ed25519 batch-64` or `sha256 1 KiB`. */
  group: string;
  /** Who does it, e.g. `native` or `node:crypto`. */
  impl: string;
  /** Signatures or messages handled by one call of `fn`. */
  itemsPerOp: number;
  /** Input bytes per call, for throughput; 0 where throughput means nothing. */
  bytesPerOp: number;
  /** The group's reference: ratios are "how many times faster than this". */
  baseline?: boolean;
  fn: () => void;
}

export interface Result {
  group: string;
  impl: string;
  baseline: boolean;
  itemsPerOp: number;
  bytesPerOp: number;
  /** Seconds per call, one per sample; one array per round. */
  rounds: number[][];
  /** Calls per second at the median. */
  opsPerSec: number;
  medianMs: number;
  meanMs: number;
  /** Relative margin of error of the mean at 95% (Student's t), in percent. */
  rmePct: number;
  /** Median time per signature or message. */
  perItemNs: number;
  /** MB/s (10^6 bytes) of input at the median, when bytesPerOp > 0. */
  throughputMBps: number | null;
  error?: string;
}

export interface RunOptions {
  /** Samples per case in each round. */
  samples: number;
  /** The shortest sample, in seconds (many calls are timed together to reach it). */
  sampleTime: number;
}

/**
 * Results land here so that no engine can prove a call's result unused and drop the call.
 * A mutable module-level object is observable from outside, hence kept alive.
 */
export const sink = { value: 0 };

export function caseName(c: Pick<Case, 'group' | 'impl'>): string {
  return `${c.group} · ${c.impl}`;
}

/** Seconds that `count` calls of `fn` take. */
function timeCalls(fn: () => void, count: number): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) fn();
  return (performance.now() - start) / 1e3;
}

/** Calls per sample such that a sample lasts at least `sampleTime` seconds. */
export function calibrate(fn: () => void, sampleTime: number): number {
  let count = 1;
  for (;;) {
    const took = timeCalls(fn, count);
    if (took >= sampleTime || count >= 2 ** 30) return count;
    const scale = took <= 0 ? 100 : Math.min(100, (sampleTime / took) * 1.2);
    count = Math.max(count + 1, Math.ceil(count * scale));
  }
}

/**
 * One round of a case: `options.samples` samples of `count` calls (calibrated on the first
 * round). Returns seconds per call, one per sample, or the error a call threw.
 */
export function runCase(
  c: Case,
  options: RunOptions,
  count: number | null,
): { samples: number[]; count: number } | { error: string } {
  try {
    const calls = count ?? calibrate(c.fn, options.sampleTime);
    const samples: number[] = [];
    for (let i = 0; i < options.samples; i++) samples.push(timeCalls(c.fn, calls) / calls);
    return { samples, count: calls };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

// Two-sided 95% Student's t quantiles for 1..30 degrees of freedom; 1.96 beyond.
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/** One result from a case's samples of every round; the figures pool the rounds. */
export function summarize(c: Case, rounds: number[][], error?: string): Result {
  const base = {
    group: c.group,
    impl: c.impl,
    baseline: c.baseline === true,
    itemsPerOp: c.itemsPerOp,
    bytesPerOp: c.bytesPerOp,
    rounds,
  };
  const samples = rounds.flat();
  if (error !== undefined || samples.length === 0) {
    const none = { opsPerSec: 0, medianMs: 0, meanMs: 0, rmePct: 0, perItemNs: 0 };
    return { ...base, ...none, throughputMBps: null, error: error ?? 'no samples' };
  }
  const n = samples.length;
  const mid = median(samples);
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? samples.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) : 0;
  const t = T95[n - 2] ?? 1.96;
  return {
    ...base,
    opsPerSec: 1 / mid,
    medianMs: mid * 1e3,
    meanMs: mean * 1e3,
    rmePct: ((t * Math.sqrt(variance / n)) / mean) * 100,
    perItemNs: (mid * 1e9) / c.itemsPerOp,
    throughputMBps: c.bytesPerOp > 0 ? c.bytesPerOp / mid / 1e6 : null,
  };
}
