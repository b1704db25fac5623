/**
 * Issue 11's targets for the node, from one run's figures. PASS or MISS informs; it never
 * changes the exit status (a benchmark on a shared machine does not gate).
 */
export interface IngestFigures {
  /** Median events/s over HTTP to durable, node defaults, empty store. */
  readonly ingestDefault: number;
  /** Median node:crypto single-thread verifications/s, measured between the ingest runs. */
  readonly nodeCrypto: number;
  /** Median events/s with each fixed worker count. */
  readonly ingestFixed: ReadonlyMap<number, number>;
  /** The default worker count on this machine. */
  readonly defaultWorkers: number;
  /** Raw pool verification, signatures/s, by thread count. */
  readonly pool: ReadonlyMap<number, number>;
  /**
   * The same kernel over the same batches on bare worker threads (no pool), signatures/s by
   * thread count: how far two threads can scale on this machine at all.
   */
  readonly bareThreads?: ReadonlyMap<number, number>;
  /**
   * With `--store-size`: the store's size, the median rate into it, and the median rate of the
   * same events into an empty store in the same rounds (each round runs both, one after the
   * other, so a slow spell of a shared machine lands on both).
   */
  readonly atScale?: {
    readonly storeSize: number;
    readonly ingest: number;
    readonly emptyIngest: number;
    readonly peakRssBytes: number;
  };
}

export interface IngestTarget {
  readonly target: string;
  readonly goal: string;
  readonly measured: string;
  readonly status: 'PASS' | 'MISS' | 'n/a';
}

/** "Never slower than the best fixed setting": within this fraction, a difference is noise. */
export const SAME_SPEED_TOLERANCE = 0.05;
export const SCALE_TARGET_EVENTS = 10_000_000;
const GIB = 2 ** 30;

const x = (v: number) => `${v.toFixed(2)}×`;
const rate = (v: number) => `${Math.round(v).toLocaleString('en')}/s`;
const status = (ok: boolean): 'PASS' | 'MISS' => (ok ? 'PASS' : 'MISS');

export function evaluateIngestTargets(f: IngestFigures): IngestTarget[] {
  const out: IngestTarget[] = [];
  const ratio = f.ingestDefault / f.nodeCrypto;
  out.push({
    target:
      '1. durable ingest over HTTP (defaults, batches of 1,000, 200 authors) vs node:crypto single-thread verify',
    goal: '≥ 4.5×',
    measured: `${x(ratio)} (${rate(f.ingestDefault)} vs ${rate(f.nodeCrypto)})`,
    status: status(ratio >= 4.5),
  });
  if (f.atScale === undefined) {
    out.push({
      target: '2. ingest with 10 million events stored vs the empty store',
      goal: '≥ 80%',
      measured: 'not measured (run with --store-size N)',
      status: 'n/a',
    });
  } else {
    const s = f.atScale;
    const kept = s.ingest / s.emptyIngest;
    const full = s.storeSize >= SCALE_TARGET_EVENTS;
    out.push({
      target: `2. ingest with ${s.storeSize.toLocaleString('en')} events stored vs the empty store`,
      goal: '≥ 80% at 10,000,000 stored',
      measured: `${(kept * 100).toFixed(0)}% (${rate(s.ingest)} vs ${rate(s.emptyIngest)} into an empty store in the same rounds)${full ? '' : '; the store is smaller than the target size'}`,
      status: full ? status(kept >= 0.8) : kept >= 0.8 ? 'n/a' : 'MISS',
    });
    out.push({
      target: "2. the node's peak RSS during the run at scale",
      goal: '< 1 GiB',
      measured: `${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      status: status(s.peakRssBytes < GIB),
    });
  }
  const one = f.pool.get(1);
  const two = f.pool.get(2);
  if (one !== undefined && two !== undefined) {
    out.push({
      target: '3. raw batch verification through the pool, 2 threads vs 1',
      goal: '≥ 1.8×',
      measured: `${x(two / one)} (${rate(two)} vs ${rate(one)})${bareCeiling(f, two / one)}`,
      status: status(two / one >= 1.8),
    });
  }
  let best = 0;
  let bestWorkers = 0;
  for (const [workers, r] of f.ingestFixed) {
    if (r > best) {
      best = r;
      bestWorkers = workers;
    }
  }
  if (best > 0) {
    out.push({
      target: `3. the default worker count (${f.defaultWorkers} here) vs the best fixed setting (${bestWorkers})`,
      goal: `never slower (within ${SAME_SPEED_TOLERANCE * 100}% noise)`,
      measured: `${((f.ingestDefault / best) * 100).toFixed(0)}% (${rate(f.ingestDefault)} vs ${rate(best)})`,
      status: status(f.ingestDefault >= best * (1 - SAME_SPEED_TOLERANCE)),
    });
  }
  return out;
}

/** The bare threads' ratio beside the pool's, and how much of it the pool keeps. */
function bareCeiling(f: IngestFigures, poolRatio: number): string {
  const one = f.bareThreads?.get(1);
  const two = f.bareThreads?.get(2);
  if (one === undefined || two === undefined) return '';
  const ceiling = two / one;
  return `; bare threads without the pool ${x(ceiling)}, so the pool keeps ${((poolRatio / ceiling) * 100).toFixed(0)}% of what the cores allow`;
}

export function ingestTargetLines(targets: readonly IngestTarget[]): string[] {
  return targets.map((t) => `${t.status.padEnd(4)}  ${t.target}: ${t.measured}, target ${t.goal}`);
}

/**
 * The most events/s that `cpus` cores allow when the node spends `nodeUs` and the load
 * generator beside it `clientUs` CPU µs per event: every core busy, nothing waiting.
 */
export function cpuBudget(
  cpus: number,
  nodeUs: number,
  clientUs: number,
): { readonly usPerEvent: number; readonly ceiling: number } {
  const usPerEvent = nodeUs + clientUs;
  return { usPerEvent, ceiling: usPerEvent > 0 ? (cpus * 1e6) / usPerEvent : 0 };
}
