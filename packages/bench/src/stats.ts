/**
 * The statistics behind `--baseline`. A run times every case in several interleaved rounds; in
 * each round our implementation and the peer run moments apart, so a ratio taken within a round
 * sees the machine in one state. A ratio's estimate is the median of its per-round ratios (each
 * one a ratio of medians of timed samples), which one slow sample or one disturbed round
 * does not move. Its interval is a percentile bootstrap over rounds: resampling whole rounds keeps
 * the drift between rounds in the interval, where resampling single samples would hide it. The
 * generator is seeded, so the same samples always give the same interval and the same verdict.
 */

/** mulberry32: small, fast, and good enough to pick resampling indices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The median of a resample (with replacement) of `xs`. */
function resampledMedian(xs: readonly number[], random: () => number): number {
  const pick = new Array<number>(xs.length);
  for (let i = 0; i < xs.length; i++) pick[i] = xs[Math.floor(random() * xs.length)] as number;
  return median(pick);
}

/** The `q` quantile (0..1) of `xs`, linear between order statistics. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (at - lo);
}

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
}

export interface BootstrapOptions {
  resamples: number;
  /** Two-sided confidence level, e.g. 0.95. */
  level: number;
  seed: number;
}

export const BOOTSTRAP: BootstrapOptions = { resamples: 2000, level: 0.95, seed: 0x5eed };

/**
 * A statistic of several sample sets (each resampled independently), with its percentile
 * bootstrap interval: `f` receives one median per set.
 */
export function bootstrap(
  sets: readonly (readonly number[])[],
  f: (medians: readonly number[]) => number,
  options: BootstrapOptions = BOOTSTRAP,
): Interval {
  const random = seededRandom(options.seed);
  const estimate = f(sets.map(median));
  const draws = new Array<number>(options.resamples);
  for (let b = 0; b < options.resamples; b++)
    draws[b] = f(sets.map((s) => resampledMedian(s, random)));
  const tail = (1 - options.level) / 2;
  return { estimate, lo: quantile(draws, tail), hi: quantile(draws, 1 - tail) };
}

/**
 * Speed of ours relative to the peer ("× faster") in each round: the peer's median time per item
 * over ours. `peer[r]` and `ours[r]` are round r's samples.
 */
export function roundRatios(
  peer: readonly (readonly number[])[],
  ours: readonly (readonly number[])[],
): number[] {
  const n = Math.min(peer.length, ours.length);
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    const p = peer[r] as readonly number[];
    const o = ours[r] as readonly number[];
    if (p.length > 0 && o.length > 0) out.push(median(p) / median(o));
  }
  return out;
}

/** A ratio from its per-round values, with the bootstrap interval over rounds. */
export function ratioInterval(ratios: readonly number[]): Interval {
  return bootstrap([ratios], ([m]) => m as number);
}

/**
 * How a ratio moved from a saved run to this one: (this ratio / saved ratio) − 1, so −0.2 means
 * a fifth slower relative to the peer. The rounds of both runs are resampled.
 */
export function changeInterval(now: readonly number[], saved: readonly number[]): Interval {
  return bootstrap([now, saved], ([a, b]) => (a as number) / (b as number) - 1);
}

export type Verdict = 'regression' | 'improvement' | 'unchanged';

/**
 * A regression is a change whose whole interval lies below zero (it is not noise) and whose
 * estimate is beyond the threshold (it is big enough to matter). Improvements mirror it.
 */
export function verdict(change: Interval, threshold: number): Verdict {
  if (change.hi < 0 && change.estimate < -threshold) return 'regression';
  if (change.lo > 0 && change.estimate > threshold) return 'improvement';
  return 'unchanged';
}
