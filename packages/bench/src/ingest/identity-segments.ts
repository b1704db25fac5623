/**
 * The identity case's measurement (issue 8: an ordinary event by a rotated identity costs at
 * most 10% more than one by a did:key author). For each worker setting, two fresh nodes: one
 * takes did:key authors' events (EventFactory), the other the same events by identities
 * (IdentityAuthors), each after its own warm-up; then they take turns, one segment of
 * {@link SEGMENT_EVENTS} events each, the did:key node first in one pair and the identity node
 * first in the next. A pair's ratio is its identity rate over its did:key rate; the estimate is
 * the median of the pairs' ratios, with a bootstrap interval over pairs (stats.ts).
 *
 * Why segments of two warm nodes, not one run of each: on a shared 2-core machine the rate of
 * one node process drifts by tens of percent over seconds. A did:key run against another
 * did:key run, each in its own process one after the other, gave ratios of 0.68-1.27 for the
 * same work, so three such pairs per setting could not tell 5% from 15%. Segments a quarter of
 * a second long, moments apart, see the machine in one state; a node that lives through a dozen
 * of them is also in its steady state (folds of staged identity rows included), not just past
 * its JIT warm-up.
 */

import { BOOTSTRAP, type Interval, median, ratioInterval } from '../stats.js';
import { postAll } from './client.js';
import { AUTHORS, type EventBatch } from './events.js';
import { type Measured, measurePosts } from './measure.js';
import { NodeProcess } from './node-process.js';

/** The identity case's target: identity events at most this much slower than did:key events. */
export const IDENTITY_MAX_SLOWDOWN = 0.1;

/**
 * Pairs a setting needs before its own interval can fail the line: a percentile bootstrap over
 * a handful of pairs gives an interval narrower than their noise (over two, the span between
 * them).
 */
export const MIN_JUDGED_PAIRS = 6;

/** Events per segment: 10 requests of 1,000, about a quarter of a second here. */
export const SEGMENT_EVENTS = 10_000;

/** One did:key segment and the identity segment beside it. */
export interface SegmentPair {
  readonly didKey: Measured;
  readonly identity: Measured;
}

/** What one case's node ingests: its warm-up, then one segment per pair. */
export interface CaseEvents {
  readonly warmup: readonly EventBatch[];
  /** Segment i's batches; every pair needs one. */
  readonly segments: readonly (readonly EventBatch[])[];
}

export interface SegmentOptions {
  /** The two data directories (did:key, identity), initialized and empty. */
  readonly dirs: readonly [string, string];
  /** Worker threads of both nodes (undefined: the node's default). */
  readonly workers: number | undefined;
  readonly pairs: number;
  readonly didKey: CaseEvents;
  readonly identity: CaseEvents;
  /** Runs on the identity node before its warm-up (posts the identities' key events). */
  readonly prepareIdentity: (url: string) => Promise<void>;
  /** Called before each pair (progress). */
  readonly onPair?: (pair: number) => void;
}

/** The segment pairs of one setting, each node started, warmed up, measured and stopped. */
export async function measureSegmentPairs(o: SegmentOptions): Promise<SegmentPair[]> {
  if (o.didKey.segments.length < o.pairs || o.identity.segments.length < o.pairs)
    throw new RangeError(`${o.pairs} pairs need ${o.pairs} segments of each case`);
  const didKey = await NodeProcess.start(o.dirs[0], o.workers);
  try {
    const identity = await NodeProcess.start(o.dirs[1], o.workers);
    try {
      await o.prepareIdentity(identity.url);
      await postAll(didKey.url, o.didKey.warmup);
      await postAll(identity.url, o.identity.warmup);
      const out: SegmentPair[] = [];
      for (let i = 0; i < o.pairs; i++) {
        o.onPair?.(i);
        const a = () => measurePosts(didKey, o.didKey.segments[i] ?? [], o.workers);
        const b = () => measurePosts(identity, o.identity.segments[i] ?? [], o.workers);
        if (i % 2 === 0) {
          const d = await a();
          out.push({ didKey: d, identity: await b() });
        } else {
          const id = await b();
          out.push({ didKey: await a(), identity: id });
        }
      }
      return out;
    } finally {
      await identity.stop();
    }
  } finally {
    await didKey.stop();
  }
}

/** A median of each case (CPU µs per event, or events/s). */
export interface CasePair {
  readonly didKey: number;
  readonly identity: number;
}

/** Identity events/s over did:key events/s for one setting, from its segment pairs. */
export interface IdentityRatio {
  readonly setting: string;
  /** The median of the pairs' ratios, with its bootstrap interval over pairs. */
  readonly ratio: Interval;
  /** Each pair's identity rate over its did:key rate, in the order measured. */
  readonly pairs: readonly number[];
  /** Median events/s of each case's segments. */
  readonly eventsPerSec: CasePair;
  /**
   * Median CPU µs per event of each case's segments: the main thread, the worker threads and
   * every thread but the main one (workers, V8's GC and compiler, libuv).
   */
  readonly mainCpuUs: CasePair;
  readonly workerCpuUs: CasePair;
  readonly otherCpuUs: CasePair;
}

function casePair(pairs: readonly SegmentPair[], of: (m: Measured) => number): CasePair {
  return {
    didKey: median(pairs.map((p) => of(p.didKey))),
    identity: median(pairs.map((p) => of(p.identity))),
  };
}

/** The ratio of each setting from its segment pairs (settings without pairs are left out). */
export function identityRatios(
  settings: readonly { readonly setting: string; readonly pairs: readonly SegmentPair[] }[],
): IdentityRatio[] {
  return settings
    .filter((s) => s.pairs.length > 0)
    .map(({ setting, pairs }) => {
      const ratios = pairs.map((p) => p.identity.eventsPerSec / p.didKey.eventsPerSec);
      return {
        setting,
        ratio: ratioInterval(ratios),
        pairs: ratios,
        eventsPerSec: casePair(pairs, (m) => m.eventsPerSec),
        mainCpuUs: casePair(pairs, (m) => m.mainCpuUs),
        workerCpuUs: casePair(pairs, (m) => m.workerCpuUs),
        otherCpuUs: casePair(pairs, (m) => m.otherCpuUs),
      };
    });
}

export interface IdentityVerdict {
  /** The median of every pair of every setting, with its bootstrap interval. */
  readonly pooled: Interval;
  /**
   * Settings of at least {@link MIN_JUDGED_PAIRS} pairs whose whole interval lies below the
   * target: slower than allowed, not noise.
   */
  readonly slowSettings: readonly string[];
  readonly met: boolean;
}

/**
 * Met when the pooled estimate is at most 10% slower and no setting is slower than that beyond
 * its own noise (its whole interval below the target); a setting's interval spans the noise of
 * its dozen pairs, the pooled estimate's that of all of them.
 */
export function identityVerdict(ratios: readonly IdentityRatio[]): IdentityVerdict {
  const target = 1 - IDENTITY_MAX_SLOWDOWN;
  const all = ratios.flatMap((r) => r.pairs);
  if (all.length === 0)
    return { pooled: { estimate: 0, lo: 0, hi: 0 }, slowSettings: [], met: false };
  const pooled = ratioInterval(all);
  const slowSettings = ratios
    .filter((r) => r.pairs.length >= MIN_JUDGED_PAIRS && r.ratio.hi < target)
    .map((r) => r.setting);
  return { pooled, slowSettings, met: pooled.estimate >= target && slowSettings.length === 0 };
}

const arrow = (p: CasePair): string => `${p.didKey.toFixed(1)} → ${p.identity.toFixed(1)}`;
const interval = (i: Interval): string =>
  `${i.estimate.toFixed(3)} [${i.lo.toFixed(3)}–${i.hi.toFixed(3)}]`;

/** The markdown section of the identity case, ending with its target line. */
export function identityRatioLines(ratios: readonly IdentityRatio[]): string[] {
  const v = identityVerdict(ratios);
  const target = (1 - IDENTITY_MAX_SLOWDOWN).toFixed(2);
  const level = `${Math.round(BOOTSTRAP.level * 100)}%`;
  return [
    '## Identities as authors',
    '',
    `Per setting, two fresh nodes: one takes did:key authors' events, the other the same events by ${AUTHORS} ` +
      'identities (did:cs) that rotated once, signed by the rotated-to key and naming that key state (their key ' +
      'events posted first). Each node ingests its own warm-up, then they take turns, one segment of ' +
      `${SEGMENT_EVENTS.toLocaleString('en')} events each, did:key first in one pair and identity first in the next. ` +
      `Ratios are identity events/s over did:key events/s of a pair; medians with ${level} bootstrap intervals over pairs. ` +
      'CPU µs per event, did:key → identity (medians of segments): the main thread, the worker threads, and every ' +
      'thread but the main one (workers, V8 garbage collection and compilation).',
    '',
    '| setting | pairs | events/s, did:key → identity | identity / did:key | identity slower by | main thread CPU µs/event | worker threads CPU µs/event | other threads CPU µs/event |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...ratios.map(
      (r) =>
        `| ${r.setting} | ${r.pairs.length} | ${Math.round(r.eventsPerSec.didKey).toLocaleString('en')} → ` +
        `${Math.round(r.eventsPerSec.identity).toLocaleString('en')} | ${interval(r.ratio)} | ` +
        `${((1 - r.ratio.estimate) * 100).toFixed(1)}% | ${arrow(r.mainCpuUs)} | ${arrow(r.workerCpuUs)} | ${arrow(r.otherCpuUs)} |`,
    ),
    '',
    `Every pair of every setting (${ratios.reduce((n, r) => n + r.pairs.length, 0)}): ${interval(v.pooled)}.` +
      (ratios.some((r) => r.pairs.length < MIN_JUDGED_PAIRS)
        ? ` A setting of fewer than ${MIN_JUDGED_PAIRS} pairs counts only in this figure (its interval is narrower than its noise).`
        : ''),
    '',
    `${v.met ? 'PASS' : 'MISS'}  identity events at most ${IDENTITY_MAX_SLOWDOWN * 100}% slower than did:key events in the same run: ` +
      `${v.met ? 'met' : 'NOT met'} (every pair: ${v.pooled.estimate.toFixed(3)}, target ≥ ${target}; ` +
      (v.slowSettings.length === 0
        ? "no setting's whole interval below it)."
        : `whole interval below it: ${v.slowSettings.join(', ')}).`),
  ];
}
