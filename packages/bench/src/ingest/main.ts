/**
 * `commons-sync-bench ingest` (`npm run bench:ingest`): issue 11's targets measured in one run.
 *
 * Every round measures node:crypto's single-thread verification, then ingest over HTTP into a
 * fresh node process with its default worker count and with each fixed count: rounds are
 * interleaved so a slow spell of the shared machine lands on the reference and the node alike.
 * Then identities as authors against did:key authors, per setting (identity-segments.ts); the
 * pool's raw batch verification with 1 and 2 threads; with `--store-size N`, a store
 * of N events is filled and ingest, GET, proofs and checkpoints are measured against it.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import { defaultWorkerThreads, initDataDir } from '@commons-sync/node';

import { UsageError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { describeMachine, machineInfo } from '../machine.js';
import { Progress } from '../progress.js';
import type { IngestArgs } from './args.js';
import { type Latency, latencies, postAll, stageSeconds } from './client.js';
import { type EventBatch, EventFactory, nodeCryptoVerifyRate } from './events.js';
import { IdentityAuthors } from './identity-authors.js';
import {
  identityRatioLines,
  identityRatios,
  measureSegmentPairs,
  SEGMENT_EVENTS,
  type SegmentPair,
} from './identity-segments.js';
import { type Measured, measurePosts } from './measure.js';
import { BENCH_PASSPHRASE, NodeProcess } from './node-process.js';
import { poolRoundInChild } from './pool-scaling.js';
import { generateStore } from './store-generate.js';
import {
  cpuBudget,
  evaluateIngestTargets,
  type IngestFigures,
  ingestTargetLines,
} from './targets.js';
import { measureWorkerStage, type WorkerStage } from './worker-stage.js';

const BATCH = 1000;

export interface IngestRun extends Measured {
  readonly label: string;
  /** µs per event by pipeline stage, from the node's /metrics. */
  readonly stagesUs: Record<string, number>;
  readonly peakRssBytes: number;
  readonly loadAverage: number;
  /** Seconds from starting the node process to its first answer (opening the store included). */
  readonly startSeconds: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number);
};
const spread = (xs: readonly number[]): string =>
  xs.length === 0 ? '' : `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;

/** What `--store-dir` keeps beside a generated store, so that a later run can reuse it. */
interface KeptStore {
  readonly n: number;
  /** The clock the events were made with (Unix seconds): their ids depend on it. */
  readonly now: number;
  readonly fillSeconds: number;
  /** The data directory's size right after generation. */
  readonly bytes: number;
}
const KEPT_FILE = 'bench-store.json';

function readKeptStore(dir: string, n: number): KeptStore | undefined {
  if (!existsSync(join(dir, KEPT_FILE))) return undefined;
  const kept = JSON.parse(readFileSync(join(dir, KEPT_FILE), 'utf8')) as KeptStore;
  if (kept.n !== n)
    throw new UsageError(`${dir} holds a store of ${kept.n} events, not --store-size ${n}`);
  return kept;
}

function writeKeptStore(dir: string, kept: KeptStore): void {
  writeFileSync(join(dir, KEPT_FILE), `${JSON.stringify(kept)}\n`);
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size;
  return total;
}

/**
 * One ingest run into the node in `dataDir`; `workers` undefined = the node's default. The
 * `warmup` batches are POSTed first and not counted: the figures are the node's steady state,
 * not its JIT compiling the hot paths.
 */
async function ingestRun(
  label: string,
  dataDir: string,
  batches: readonly EventBatch[],
  workers: number | undefined,
  warmup: readonly EventBatch[],
  after?: (node: NodeProcess) => Promise<void>,
): Promise<IngestRun> {
  const t0 = performance.now();
  const node = await NodeProcess.start(dataDir, workers);
  const startSeconds = (performance.now() - t0) / 1000;
  try {
    if (warmup.length > 0) await postAll(node.url, warmup);
    const stagesBefore = await stageSeconds(node.url);
    const measured = await measurePosts(node, batches, workers);
    const stages = await stageSeconds(node.url);
    const events = batches.reduce((n, b) => n + b.count, 0);
    const stagesUs: Record<string, number> = {};
    for (const [k, v] of Object.entries(stages))
      stagesUs[k] = ((v - (stagesBefore[k] ?? 0)) * 1e6) / events;
    await after?.(node);
    return {
      label,
      ...measured,
      stagesUs,
      peakRssBytes: node.peakRss(),
      loadAverage: loadavg()[0] ?? 0,
      startSeconds,
    };
  } finally {
    await node.stop();
  }
}

function sampleIds(
  core: Core,
  factory: EventFactory,
  first: number,
  count: number,
  n: number,
  now: number,
): string[] {
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const i = first + Math.floor((k * 7919 + 13) % count);
    out.push(Buffer.from(core.sha256(factory.event(i, now).body)).toString('hex'));
  }
  return out;
}

interface ScaleResult {
  readonly storeSize: number;
  readonly fillSeconds: number;
  readonly bytesPerEvent: number;
  readonly runs: IngestRun[];
  /** The same events into an empty store, in the same rounds. */
  readonly emptyRuns: IngestRun[];
  readonly get: Latency;
  readonly proof: Latency;
  readonly checkpoint: Latency;
}

export async function runIngestBench(args: IngestArgs): Promise<number> {
  const machine = machineInfo();
  const progress = new Progress(process.stderr);
  progress.note(`commons-sync ingest bench (${args.mode}): ${describeMachine(machine)}`);
  const core = await loadCore();
  const root = mkdtempSync(join(args.dir ?? tmpdir(), 'cs-ingest-bench-'));
  const stopOnInterrupt = onInterrupt(
    `the node processes and removing ${root}`,
    async () => {
      await NodeProcess.stopAll();
      rmSync(root, { recursive: true, force: true });
    },
    (m) => {
      progress.clear();
      progress.note(m);
    },
  );
  try {
    // one initialized data directory (key made once: scrypt is slow on purpose), copied per run
    const template = join(root, 'template');
    await initDataDir(template, BENCH_PASSPHRASE);
    const fresh = (name: string): string => {
      const d = join(root, name);
      cpSync(template, d, { recursive: true });
      return d;
    };
    const now = Math.floor(Date.now() / 1000);
    const factory = new EventFactory(core, 'ingest');
    const identityPairs = args.scaleOnly ? 0 : args.identityPairs;
    const segmentBatches = SEGMENT_EVENTS / BATCH;
    const didKeyEvents = Math.max(args.events, identityPairs * SEGMENT_EVENTS);
    progress.note(`signing ${didKeyEvents.toLocaleString('en')} events (200 authors)…`);
    // the rounds' runs take the first `events`; the identity case's did:key segments, from 0 on
    const didKeyBatches = factory.batches(0, didKeyEvents, BATCH, now);
    const batches = didKeyBatches.slice(0, args.events / BATCH);
    // warm-up events: the same authors, other nonces; a store that is reused gets new ones
    const warmupFactory = new EventFactory(core, 'warmup');
    const warmupBatches = (round: number) =>
      warmupFactory.batches(args.warmup * round, args.warmup, BATCH, now);
    const warmup = warmupBatches(0);
    const identities = new IdentityAuthors(core, now);
    const identityEvents = identityPairs * SEGMENT_EVENTS;
    if (identityPairs > 0)
      progress.note(
        `signing ${(identityEvents + args.warmup).toLocaleString('en')} identities' events…`,
      );
    const identityBatches = identities.batches(0, identityEvents, BATCH, now);
    // the identity node warms up on identity events (other nonces), so that the code only they
    // take is compiled before the clock starts, as the did:key node's is
    const identityWarmup =
      identityPairs > 0 ? identities.batches(identityEvents, args.warmup, BATCH, now) : [];
    const segments = (bs: readonly EventBatch[]) =>
      Array.from({ length: identityPairs }, (_, i) =>
        bs.slice(i * segmentBatches, (i + 1) * segmentBatches),
      );
    const ncChecks = factory.nodeCryptoChecks(0, 1000, now);
    const cores = availableParallelism();
    const defaultWorkers = defaultWorkerThreads(cores);
    const fixed = Array.from({ length: Math.min(cores, 4) }, (_, i) => i + 1);
    const settings: { label: string; workers: number | undefined }[] = [
      { label: `default (${defaultWorkers})`, workers: undefined },
      ...fixed.map((w) => ({ label: `${w} worker${w === 1 ? '' : 's'}`, workers: w })),
    ];
    const ncRates: number[] = [];
    const runs = new Map<string, IngestRun[]>(settings.map((s) => [s.label, []]));
    const steps = args.rounds * (1 + settings.length) + settings.length * identityPairs;
    let step = 0;
    for (let round = 1; round <= (args.scaleOnly ? 0 : args.rounds); round++) {
      progress.update(step++, steps, `round ${round}: node:crypto verify`);
      ncRates.push(nodeCryptoVerifyRate(ncChecks, args.mode === 'quick' ? 1 : 2));
      for (const s of settings) {
        progress.update(step++, steps, `round ${round}: ingest, ${s.label}`);
        const dir = fresh(`r${round}-${s.workers ?? 'default'}`);
        (runs.get(s.label) as IngestRun[]).push(
          await ingestRun(s.label, dir, batches, s.workers, warmup),
        );
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const identityPairsOf: { setting: string; pairs: SegmentPair[] }[] = [];
    for (const s of identityPairs > 0 ? settings : []) {
      const dirs = [
        fresh(`${s.workers ?? 'default'}-did-key`),
        fresh(`${s.workers ?? 'default'}-identities`),
      ] as const;
      identityPairsOf.push({
        setting: s.label,
        pairs: await measureSegmentPairs({
          dirs,
          workers: s.workers,
          pairs: identityPairs,
          didKey: { warmup, segments: segments(didKeyBatches) },
          identity: { warmup: identityWarmup, segments: segments(identityBatches) },
          prepareIdentity: (url) => identities.postKeyEvents(url),
          onPair: (i) =>
            progress.update(step++, steps, `identities against did:key, ${s.label}: pair ${i + 1}`),
        }),
      });
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
    progress.clear();
    const poolRates = new Map<number, number[]>([
      [1, []],
      [2, []],
    ]);
    const bareRates = new Map<number, number[]>([
      [1, []],
      [2, []],
    ]);
    for (let round = 1; round <= (args.scaleOnly ? 0 : args.rounds); round++) {
      progress.note(`round ${round}: raw pool verification and bare threads, 1 and 2 threads`);
      const r = await poolRoundInChild(Math.min(args.events, 8000), now);
      for (const t of [1, 2]) {
        (poolRates.get(t) as number[]).push(r.pool.get(t) as number);
        (bareRates.get(t) as number[]).push(r.bare.get(t) as number);
      }
    }

    // the worker's work per event on one thread of this process, verification apart
    const stageEvents = Math.min(args.events, 5000);
    const stageChecks = factory.signatureChecks(0, stageEvents, now);
    const workerStages: WorkerStage[] = [];
    for (let round = 1; round <= (args.scaleOnly ? 0 : args.rounds); round++) {
      progress.note(`round ${round}: the worker stage in process`);
      workerStages.push(
        await measureWorkerStage(
          batches.slice(0, stageEvents / BATCH),
          stageChecks,
          now,
          args.mode === 'quick' ? 1 : 2,
        ),
      );
    }

    let scale: ScaleResult | undefined;
    if (args.storeSize !== null) {
      const n = args.storeSize;
      // a new data directory (the generator initializes it), or --store-dir's, kept and reused
      const dir = args.storeDir ?? join(root, 'at-scale');
      const store = new EventFactory(core, 'store');
      const kept = args.storeDir === null ? undefined : readKeptStore(args.storeDir, n);
      let fillSeconds = kept?.fillSeconds ?? 0;
      const bytesPerEvent = (kept?.bytes ?? 0) / n;
      const storeNow = kept?.now ?? now;
      if (kept === undefined) {
        const t0 = performance.now();
        let last = 0;
        await generateStore(dir, store, n, {
          now: () => now * 1000,
          progress: (stored) => {
            if (stored - last >= 100_000 || stored === n) {
              last = stored;
              progress.update(
                stored,
                n,
                `generating the store: ${stored.toLocaleString('en')} events`,
              );
            }
          },
        });
        fillSeconds = (performance.now() - t0) / 1000;
        progress.clear();
        progress.note(`generated ${n.toLocaleString('en')} events in ${fillSeconds.toFixed(0)} s`);
        if (args.storeDir !== null)
          writeKeptStore(args.storeDir, { n, now, fillSeconds, bytes: dirBytes(dir) });
      } else progress.note(`reusing the store of ${n.toLocaleString('en')} events in ${dir}`);
      const generatedBytes = kept?.bytes ?? dirBytes(dir);
      // a reused store holds the events a run before added: this run's get other nonces
      const moreFactory = kept === undefined ? factory : new EventFactory(core, `ingest-${now}`);
      const warmupAgain = new EventFactory(core, `warmup-${now}`);
      const moreWarmup = (round: number) =>
        kept === undefined
          ? warmupBatches(round)
          : warmupAgain.batches(args.warmup * round, args.warmup, BATCH, now);
      const scaleRuns: IngestRun[] = [];
      const emptyRuns: IngestRun[] = [];
      let get: Latency | undefined;
      let proof: Latency | undefined;
      let checkpoint: Latency | undefined;
      for (let round = 1; round <= args.rounds; round++) {
        progress.note(`round ${round}: ingest into the store of ${n.toLocaleString('en')}`);
        // new events each round: the store keeps what the round before stored
        const more = moreFactory.batches(args.events * round, args.events, BATCH, now);
        if (args.scaleOnly) ncRates.push(nodeCryptoVerifyRate(ncChecks, 1));
        progress.note(`round ${round}: the same events into an empty store`);
        const emptyDir = fresh(`r${round}-empty`);
        emptyRuns.push(
          await ingestRun('empty store', emptyDir, more, undefined, moreWarmup(round)),
        );
        rmSync(emptyDir, { recursive: true, force: true });
        scaleRuns.push(
          await ingestRun('at scale', dir, more, undefined, moreWarmup(round), async (node) => {
            if (round !== args.rounds) return;
            const ids = sampleIds(core, store, 0, n, 1000, storeNow);
            get = await latencies(
              node.url,
              ids.map((id) => `/v1/events/${id}`),
            );
            proof = await latencies(
              node.url,
              ids.slice(0, 200).map((id) => `/v1/audit/proof/${id}`),
            );
            checkpoint = await latencies(
              node.url,
              Array.from({ length: 200 }, () => '/v1/audit/checkpoint'),
            );
          }),
        );
      }
      scale = {
        storeSize: n,
        fillSeconds,
        bytesPerEvent: kept === undefined ? generatedBytes / n : bytesPerEvent,
        runs: scaleRuns,
        emptyRuns,
        get: get as unknown as Latency,
        proof: proof as unknown as Latency,
        checkpoint: checkpoint as unknown as Latency,
      };
    }

    const med = (label: string) => median((runs.get(label) ?? []).map((r) => r.eventsPerSec));
    const defaultLabel = settings[0]?.label as string;
    const figures: IngestFigures = {
      ingestDefault:
        args.scaleOnly && scale !== undefined
          ? median(scale.emptyRuns.map((r) => r.eventsPerSec))
          : med(defaultLabel),
      nodeCrypto: median(ncRates),
      ingestFixed: new Map(settings.slice(1).map((s) => [s.workers as number, med(s.label)])),
      defaultWorkers,
      pool: new Map(
        [...poolRates].filter(([, xs]) => xs.length > 0).map(([t, xs]) => [t, median(xs)]),
      ),
      bareThreads: new Map(
        [...bareRates].filter(([, xs]) => xs.length > 0).map(([t, xs]) => [t, median(xs)]),
      ),
      ...(scale === undefined
        ? {}
        : {
            atScale: {
              storeSize: scale.storeSize,
              ingest: median(scale.runs.map((r) => r.eventsPerSec)),
              emptyIngest: median(scale.emptyRuns.map((r) => r.eventsPerSec)),
              peakRssBytes: Math.max(...scale.runs.map((r) => r.peakRssBytes)),
            },
          }),
    };
    const targets = evaluateIngestTargets(figures);
    const ratios = identityRatios(identityPairsOf);
    const md = report(
      args,
      machine,
      args.scaleOnly ? [] : settings.map((s) => s.label),
      runs,
      ncRates,
      poolRates,
      bareRates,
      workerStages,
      scale,
      targets,
      ratios.length === 0 ? [] : identityRatioLines(ratios),
    );
    process.stdout.write(`${md}\n`);
    const write = (file: string, text: string) => {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    };
    if (args.markdown !== null) write(args.markdown, md);
    if (args.json !== null) {
      write(
        args.json,
        `${JSON.stringify(
          {
            date: new Date().toISOString(),
            args,
            machine: { ...machine, loadAverage1mAtEnd: loadavg()[0] ?? 0 },
            nodeCryptoVerifyPerSec: ncRates,
            runs: Object.fromEntries(runs),
            identitySegmentPairs: Object.fromEntries(
              identityPairsOf.map((s) => [s.setting, s.pairs]),
            ),
            identityOverDidKey: ratios,
            pool: Object.fromEntries(poolRates),
            bareThreads: Object.fromEntries(bareRates),
            workerStages,
            scale,
            targets,
          },
          null,
          1,
        )}\n`,
      );
    }
    return 0;
  } finally {
    stopOnInterrupt();
    rmSync(root, { recursive: true, force: true });
  }
}

function stageLine(stages: readonly WorkerStage[], pick: (w: WorkerStage) => number): string {
  const xs = stages.map(pick);
  const f = (v: number) => v.toFixed(1);
  return xs.length < 2
    ? f(median(xs))
    : `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

/**
 * What the CPU allows the default setting: the median run's CPU per event of the node (every
 * thread) and of this load generator, and the rate at which they would fill every core.
 */
function cpuBudgetLine(cpus: number, rs: readonly IngestRun[], nodeCrypto: number): string {
  if (rs.length === 0) return '';
  const m = median(rs.map((r) => r.eventsPerSec));
  const mid = rs.find((r) => r.eventsPerSec === m) as IngestRun;
  const b = cpuBudget(cpus, mid.mainCpuUs + mid.otherCpuUs, mid.clientCpuUs);
  return (
    `CPU per event in the default setting's median run: the node ${(mid.mainCpuUs + mid.otherCpuUs).toFixed(1)} µs ` +
    `(main thread ${mid.mainCpuUs.toFixed(1)}), the load generator (this process) ${mid.clientCpuUs.toFixed(1)} µs; ` +
    `with both on these ${cpus} CPUs, every core busy would allow ${Math.round(b.ceiling).toLocaleString('en')} events/s ` +
    `(${(b.ceiling / nodeCrypto).toFixed(2)}× node:crypto); the run reached ${((m / b.ceiling) * 100).toFixed(0)}% of that.`
  );
}

const HEADER =
  '| setting | events/s (median) | spread | main thread CPU µs/event | other threads CPU µs/event | ' +
  'worker threads CPU µs/event | worker parse µs/event | worker verify µs/event | commit µs/event | ' +
  'peak RSS MiB | load avg at end |';
const HEADER_RULE = '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |';

function report(
  args: IngestArgs,
  machine: ReturnType<typeof machineInfo>,
  labels: readonly string[],
  runs: ReadonlyMap<string, IngestRun[]>,
  ncRates: readonly number[],
  poolRates: ReadonlyMap<number, number[]>,
  bareRates: ReadonlyMap<number, number[]>,
  workerStages: readonly WorkerStage[],
  scale: ScaleResult | undefined,
  targets: ReturnType<typeof evaluateIngestTargets>,
  identityLines: readonly string[],
): string {
  const us = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
  const row = (label: string, rs: readonly IngestRun[]) => {
    const m = median(rs.map((r) => r.eventsPerSec));
    const mid = rs.find((r) => r.eventsPerSec === m) as IngestRun;
    return (
      `| ${label} | ${Math.round(m).toLocaleString('en')} | ${spread(rs.map((r) => r.eventsPerSec))} | ` +
      `${us(mid.mainCpuUs)} | ${us(mid.otherCpuUs)} | ${us(mid.workerCpuUs)} | ${us(mid.stagesUs['parse'])} | ${us(mid.stagesUs['verify'])} | ` +
      `${us(mid.stagesUs['commit'])} | ${(mid.peakRssBytes / 2 ** 20).toFixed(0)} | ${rs.map((r) => r.loadAverage.toFixed(1)).join(', ')} |`
    );
  };
  const lines = [
    '# Ingest (issue 11)',
    '',
    `${describeMachine(machine)}`,
    '',
    `${args.events.toLocaleString('en')} events per run in batches of ${BATCH} from 200 authors, 4 requests in flight, ` +
      `over HTTP to a \`commons-sync start\` process (WAL, each answer after the fdatasync of its commit, audit log); ${args.rounds} interleaved rounds, medians. ` +
      `Each node first ingests ${args.warmup.toLocaleString('en')} other events, not counted (warm-up: steady state, not JIT compilation). ` +
      'CPU per thread from /proc; "worker threads" are the busiest threads beside the main one, as many as the setting has workers; ' +
      'the stage times (parse: read, encode, id, time, policy; verify) are wall time inside the workers.',
    '',
    `node:crypto single-thread verify: median ${Math.round(median(ncRates)).toLocaleString('en')}/s (${spread(ncRates)}).`,
  ];
  // --scale-only: no empty-store settings, pool or worker stage measured
  if (labels.length > 0)
    lines.push(
      '',
      HEADER,
      HEADER_RULE,
      ...labels.map((l) => row(l, runs.get(l) ?? [])),
      '',
      cpuBudgetLine(machine.cpus, runs.get(labels[0] as string) ?? [], median(ncRates)),
      '',
      `Raw batch verification through the pool (batches of 1,000, packed before timing): ` +
        [...poolRates]
          .map(
            ([t, xs]) =>
              `${t} thread(s) ${Math.round(median(xs)).toLocaleString('en')}/s (${spread(xs)})`,
          )
          .join('; ') +
        '; the same kernel over the same batches on bare threads, no pool (what the cores allow): ' +
        [...bareRates]
          .map(
            ([t, xs]) =>
              `${t} thread(s) ${Math.round(median(xs)).toLocaleString('en')}/s (${spread(xs)})`,
          )
          .join('; ') +
        '.',
      '',
      "The worker stage on one thread of the bench process (the node's `prepare` run inline over " +
        `${(workerStages[0]?.events ?? 0).toLocaleString('en')} of the same events, after a discarded warm-up pass; ` +
        'CPU of that thread alone, medians over the rounds, spreads shown): ' +
        `besides verification ${stageLine(workerStages, (w) => w.stageUs)} µs/event ` +
        `(the whole task ${stageLine(workerStages, (w) => w.prepareUs)}, verification alone ${stageLine(workerStages, (w) => w.verifyUs)}); ` +
        `what handing the chunks to one worker thread costs the main thread (texts in, results back and unpacked) ${stageLine(workerStages, (w) => w.mainSideUs)} µs/event.`,
    );
  if (scale !== undefined) {
    const lat = (name: string, l: Latency) =>
      `| ${name} | ${l.requests} | ${l.p50Ms.toFixed(2)} | ${l.p99Ms.toFixed(2)} | ${l.maxMs.toFixed(2)} |`;
    lines.push(
      '',
      `## Held at scale: ${scale.storeSize.toLocaleString('en')} events stored`,
      '',
      `Generated in ${scale.fillSeconds.toFixed(0)} s (the bench's factory signing on worker threads, ` +
        "the node's bulk loader writing with its own storage code); " +
        `${scale.bytesPerEvent.toFixed(0)} bytes on disk per event. Opening the node on it took ` +
        `${scale.runs.map((r) => r.startSeconds.toFixed(1)).join(', ')} s (the empty store: ` +
        `${scale.emptyRuns.map((r) => r.startSeconds.toFixed(1)).join(', ')} s).`,
      '',
      HEADER,
      HEADER_RULE,
      row('empty store, same rounds, default', scale.emptyRuns),
      row('at scale, default', scale.runs),
      '',
      '| request (one at a time) | requests | p50 ms | p99 ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |',
      lat('GET /v1/events/:id (random stored events)', scale.get),
      lat('GET /v1/audit/proof/:id', scale.proof),
      lat('GET /v1/audit/checkpoint', scale.checkpoint),
    );
  }
  if (identityLines.length > 0) lines.push('', ...identityLines);
  lines.push('', '## Targets', '', '```', ...ingestTargetLines(targets), '```');
  return lines.join('\n');
}
