/**
 * The ratios a CI run guards: each of our backends against its group's peer (node:crypto, or
 * @noble/hashes for BLAKE3), measured in the same run, so that a faster or slower CI machine moves
 * both sides and the ratio stays. `--baseline` compares them with a saved run.
 */

import type { Result } from './runner.js';
import {
  changeInterval,
  type Interval,
  median,
  ratioInterval,
  roundRatios,
  type Verdict,
  verdict,
} from './stats.js';

/** Our implementations; everything else in a group is a peer. */
export const OURS: ReadonlySet<string> = new Set(['native', 'wasm', 'js']);

export interface Comparison {
  /** `<group> · <ours> vs <peer>`: what a baseline is matched on. */
  key: string;
  group: string;
  impl: string;
  peer: string;
  /** Per-item speed-up over the peer, with its 95% bootstrap interval. */
  ratio: Interval;
  /** The same, round by round (what a later --baseline resamples). */
  roundRatios: number[];
}

export interface BaselineOutcome {
  key: string;
  /** Missing on one side: `new` is only in this run, `missing` only in the baseline. */
  status: Verdict | 'new' | 'missing';
  ratio: number | null;
  savedRatio: number | null;
  /** (this ratio / saved ratio) − 1, with its 95% interval. */
  change: Interval | null;
}

const perItem = (r: Pick<Result, 'rounds' | 'itemsPerOp'>) =>
  r.rounds.map((round) => round.map((s) => s / r.itemsPerOp));

/**
 * How many times faster `fast` is than `slow` per item: the median of the per-round ratios, the
 * same estimate as a comparison's (every table, target and verdict uses this one).
 */
export function speedup(fast: Result, slow: Result): number | null {
  if (fast.error !== undefined || slow.error !== undefined) return null;
  const ratios = roundRatios(perItem(slow), perItem(fast));
  return ratios.length === 0 ? null : median(ratios);
}

/** The guarded ratios of a run: ours vs the group's peer, for every group that has one. */
export function comparisons(results: readonly Result[]): Comparison[] {
  const out: Comparison[] = [];
  for (const peer of results.filter((r) => r.baseline && r.error === undefined)) {
    for (const r of results) {
      if (r.group !== peer.group || !OURS.has(r.impl) || r.error !== undefined) continue;
      const ratios = roundRatios(perItem(peer), perItem(r));
      if (ratios.length === 0) continue;
      out.push({
        key: `${r.group} · ${r.impl} vs ${peer.impl}`,
        group: r.group,
        impl: r.impl,
        peer: peer.impl,
        ratio: ratioInterval(ratios),
        roundRatios: ratios,
      });
    }
  }
  return out;
}

/**
 * Each guarded ratio of this run against the same ratio in a saved run. `threshold` is the
 * smallest relative drop that counts (0.15: a ratio 15% lower), see {@link verdict}.
 */
export function compareWithBaseline(
  now: readonly Result[],
  saved: readonly Result[],
  threshold: number,
): BaselineOutcome[] {
  const savedComparisons = new Map(comparisons(saved).map((c) => [c.key, c]));
  const out: BaselineOutcome[] = [];
  for (const c of comparisons(now)) {
    const old = savedComparisons.get(c.key);
    savedComparisons.delete(c.key);
    if (old === undefined) {
      out.push({
        key: c.key,
        status: 'new',
        ratio: c.ratio.estimate,
        savedRatio: null,
        change: null,
      });
      continue;
    }
    const change = changeInterval(c.roundRatios, old.roundRatios);
    out.push({
      key: c.key,
      status: verdict(change, threshold),
      ratio: c.ratio.estimate,
      savedRatio: old.ratio.estimate,
      change,
    });
  }
  for (const old of savedComparisons.values()) {
    out.push({
      key: old.key,
      status: 'missing',
      ratio: null,
      savedRatio: old.ratio.estimate,
      change: null,
    });
  }
  return out;
}
