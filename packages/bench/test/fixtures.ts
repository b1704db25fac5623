// Synthetic results for the statistics tests: per-item times in rounds, with seeded noise.
import type { Result } from '../src/runner.js';
import { seededRandom } from '../src/stats.js';

/** `rounds` rounds of 5 samples around `seconds` per call, each off by up to ±`noise` (relative). */
export function result(
  group: string,
  impl: string,
  seconds: number,
  opts: { baseline?: boolean; rounds?: number; noise?: number; seed?: number } = {},
): Result {
  const random = seededRandom(opts.seed ?? 1);
  const noise = opts.noise ?? 0.02;
  const rounds = Array.from({ length: opts.rounds ?? 5 }, () =>
    Array.from({ length: 5 }, () => seconds * (1 + noise * (2 * random() - 1))),
  );
  return {
    group,
    impl,
    baseline: opts.baseline === true,
    itemsPerOp: 1,
    bytesPerOp: 0,
    rounds,
    opsPerSec: 1 / seconds,
    medianMs: seconds * 1e3,
    meanMs: seconds * 1e3,
    rmePct: 1,
    perItemNs: seconds * 1e9,
    throughputMBps: null,
  };
}
