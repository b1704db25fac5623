/** A thin layer over benchmark.js: one {@link Case} in, one plain {@link Result} out. */
import Benchmark from 'benchmark';

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
  opsPerSec: number;
  meanMs: number;
  rmePct: number;
  samples: number;
  perItemNs: number;
  /** MB/s (10^6 bytes) of input, when bytesPerOp > 0. */
  throughputMBps: number | null;
  error?: string;
}

export interface RunOptions {
  /** benchmark.js `maxTime`, seconds per case. */
  maxTime: number;
  minSamples: number;
}

/**
 * Results land here so that no engine can prove a call's result unused and drop the call.
 * A mutable module-level object is observable from outside, hence kept alive.
 */
export const sink = { value: 0 };

export function caseName(c: Pick<Case, 'group' | 'impl'>): string {
  return `${c.group} · ${c.impl}`;
}

export function runCase(c: Case, options: RunOptions): Result {
  // benchmark.js first tries to inline the function's source into its timing loop; `c` is not a
  // global there, so that attempt fails and it falls back to calling this function, which is
  // what we want: the closure runs exactly as written.
  const bench = new Benchmark(caseName(c), {
    fn: function () {
      c.fn();
    },
    maxTime: options.maxTime,
    minSamples: options.minSamples,
  });
  bench.run({ async: false });
  const error: Error | undefined = bench.error; // absent unless the case threw
  const meanS = bench.stats.mean;
  const perItemNs = (meanS * 1e9) / c.itemsPerOp;
  const result: Result = {
    group: c.group,
    impl: c.impl,
    baseline: c.baseline === true,
    itemsPerOp: c.itemsPerOp,
    bytesPerOp: c.bytesPerOp,
    opsPerSec: bench.hz,
    meanMs: meanS * 1e3,
    rmePct: bench.stats.rme,
    samples: bench.stats.sample.length,
    perItemNs,
    throughputMBps: c.bytesPerOp > 0 && meanS > 0 ? c.bytesPerOp / meanS / 1e6 : null,
  };
  if (error !== undefined) result.error = error.message;
  return result;
}
