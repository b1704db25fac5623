/**
 * The network bench (issue 10): node processes on this machine, started as an operator starts
 * them, fed through their HTTP APIs. In one run:
 *
 * 1. one node alone: its ingest rate (events posted in batches until all are durably stored);
 * 2. three nodes, every event posted to node 1: the rate at which all three hold them (each node
 *    validates and stores every event; nodes 2 and 3 get them over the network), and the CPU
 *    time the processes spent, against the single node's;
 * 3. the same network at a steady rate (half of what it held at saturation): propagation latency
 *    from node 1's commit of an event to the last node's commit of it, p50 and p99, from the
 *    commit times in each node's store. Phase 2 gives the latency at saturation.
 *
 * Ratios and counts from the same run; times are the machine's. On one machine the three nodes
 * share its cores, and each does the whole work of a node, so the ratio has a ceiling that the
 * CPU each process spends per event sets ({@link throughputCeiling}); the bench prints it next to
 * the measured ratio. The CPU-normalized ratio (CPU per event of a node alone against a node in
 * the network) is what the ratio would be with a machine per node.
 *
 *   commons-sync-bench network [--events N] [--quick] [--workers N]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Core, loadCore } from '@commons-sync/bindings';
import { net, readEventReceipts } from '@commons-sync/node';

import { onInterrupt } from './interrupt.js';
import { statCpuSeconds } from './proc-cpu.js';

const BATCH = 500;
/** Issue 10: the network keeps at least 70% of a single node's throughput. */
const TARGET = 0.7;
const IN_FLIGHT = 3;

interface Options {
  events: number;
  workers: number;
}

function parse(argv: readonly string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string): number | undefined => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const n = Number(argv[at + 1]);
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${flag} needs a positive integer`);
    return n;
  };
  return { events: value('--events') ?? (quick ? 6000 : 20_000), workers: value('--workers') ?? 1 };
}

/** CPU seconds (user + system, all threads) a process has used so far (Linux /proc). */
const cpuSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/stat`);

/** CPU seconds of a process's main thread (the event loop: HTTP, TLS, engine, the commit). */
const mainThreadSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);

/** CPU seconds each node process of the cluster has used so far. */
const cpuOf = (c: net.LocalCluster): number[] => c.nodes.map((n) => cpuSeconds(n.pid));
const mainOf = (c: net.LocalCluster): number[] => c.nodes.map((n) => mainThreadSeconds(n.pid));

/** CPU seconds (user + system, all threads) this process, the load generator, has used. */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** What a phase cost, per event, in CPU seconds: each node process's, and the load generator's. */
interface PhaseCpu {
  /** Each node process, all its threads. */
  readonly nodes: number[];
  /** Each node's main thread (the rest: signature-verification workers, GC helper threads). */
  readonly main: number[];
  readonly generator: number;
}

function cpuSince(c: net.LocalCluster, start: PhaseCpu, events: number): PhaseCpu {
  const per = (now: number[], then: number[]) => now.map((s, i) => (s - (then[i] ?? 0)) / events);
  return {
    nodes: per(cpuOf(c), start.nodes),
    main: per(mainOf(c), start.main),
    generator: (ownCpuSeconds() - start.generator) / events,
  };
}

const cpuMark = (c: net.LocalCluster): PhaseCpu => ({
  nodes: cpuOf(c),
  main: mainOf(c),
  generator: ownCpuSeconds(),
});

export interface Ceiling {
  /** Events/s the cores allow the network: cores / (CPU per event of all its processes). */
  readonly networkRateBound: number;
  /** The best network/single ratio the cores allow, given the single node's measured rate. */
  readonly ratio: number;
  /** Whether the cores, rather than the ingesting node, set the bound. */
  readonly coreBound: boolean;
  /** CPU per event the two receiving nodes together may cost for the target ratio (s; <0: none). */
  readonly receiverBudget: number;
}

/**
 * The throughput ratio the CPU budget allows (all costs in CPU seconds per event).
 *
 * Every accepted event costs the network b1 + b2 + b3 (each node validates and stores it) plus
 * g (the load generator encoding and posting it), all on the same `cores`: the network cannot
 * accept more than cores / (b1 + b2 + b3 + g) events/s, however well it schedules. It cannot
 * accept more than its ingesting node can either, and that node does at least what the single
 * node did (b1 >= a): at best the single node's rate R1. So
 *
 *   ratio <= min(R1, cores / (b1 + b2 + b3 + g)) / R1 = min(1, cores / (R1 × (b1 + b2 + b3 + g)))
 *
 * with R1 the single node's measured rate (which itself used R1 × (a + g1) <= cores). The
 * receivers' budget for a target ratio t is what is left of cores / (t × R1) after b1 and g.
 */
export function throughputCeiling(
  cores: number,
  singleRate: number,
  nodes: readonly number[],
  generator: number,
  target = 0.7,
): Ceiling {
  const perEvent = nodes.reduce((t, b) => t + b, 0) + generator;
  const networkRateBound = cores / perEvent;
  const ratio = Math.min(1, networkRateBound / singleRate);
  return {
    networkRateBound,
    ratio,
    coreBound: networkRateBound < singleRate,
    receiverBudget: cores / (target * singleRate) - (nodes[0] ?? 0) - generator,
  };
}

const us = (seconds: number) => `${(seconds * 1e6).toFixed(0)} µs`;

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('the network did not converge in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const everyNodeHolds = (c: net.LocalCluster, n: number) => async () =>
  (await c.health()).every((h) => h.events >= n);

/** Posts every event to `url`, IN_FLIGHT batches at a time. */
async function postAll(url: string, events: readonly unknown[]): Promise<void> {
  let next = 0;
  const client = async () => {
    while (next < events.length) {
      const at = next;
      next += BATCH;
      await net.postBatch(url, events.slice(at, at + BATCH));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, client));
}

/** Requests of the steady phase open at once, at most (the node refuses more than 32). */
const PACED_IN_FLIGHT = 8;

/**
 * Posts `events` at `rate` per second, in batches of 50; should the node fall behind, it waits
 * for an answer rather than open more than PACED_IN_FLIGHT requests.
 */
async function postPaced(url: string, events: readonly unknown[], rate: number): Promise<void> {
  const batch = 50;
  const started = Date.now();
  const open = new Set<Promise<unknown>>();
  // the first refusal ends the phase (and the run, whose clusters are then stopped): every
  // request has its handler from the start, so none is left to crash the process unhandled
  let failure: { error: unknown } | null = null;
  for (let at = 0; at < events.length && failure === null; at += batch) {
    const due = started + (at / rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (open.size >= PACED_IN_FLIGHT) await Promise.race(open);
    const sent: Promise<unknown> = net.postBatch(url, events.slice(at, at + batch)).then(
      () => open.delete(sent),
      (error: unknown) => {
        open.delete(sent);
        failure ??= { error };
      },
    );
    open.add(sent);
  }
  await Promise.all(open);
  if (failure !== null) throw (failure as { error: unknown }).error;
}

async function startCluster(
  dir: string,
  size: number,
  workers: number,
  started: net.LocalCluster[],
): Promise<net.LocalCluster> {
  const cluster = await net.LocalCluster.start({
    dir,
    size,
    passphrase: randomBytes(16).toString('hex'),
    workers,
  });
  started.push(cluster);
  await until(
    async () =>
      (await cluster.peers()).every(
        (p) => p.peers.filter((x) => x.state === 'ready').length === size - 1,
      ),
    30_000,
  );
  return cluster;
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** From node 1's commit of each event (where it was posted) to the last node's. */
function latencies(receipts: readonly Map<string, number>[], from: number, to: number): Latency {
  const [first, ...rest] = receipts;
  const out: number[] = [];
  for (const [id, at] of first ?? new Map<string, number>()) {
    if (at < from || at >= to) continue;
    let last = at;
    for (const r of rest) last = Math.max(last, r.get(id) ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(last)) out.push(last - at);
  }
  out.sort((a, b) => a - b);
  return {
    p50: net.percentile(out, 0.5),
    p99: net.percentile(out, 0.99),
    max: out.at(-1) ?? 0,
    count: out.length,
  };
}

export async function networkBench(argv: readonly string[]): Promise<number> {
  const opts = parse(argv);
  const core: Core = await loadCore();
  const root = mkdtempSync(join(tmpdir(), 'commons-sync-bench-network-'));
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const clusters: net.LocalCluster[] = [];
  const loadBefore = loadavg();
  const stopOnInterrupt = onInterrupt(
    `the node processes and removing ${root}`,
    async () => {
      // every cluster, the one still starting too (not yet in `clusters`)
      await net.LocalCluster.stopAll();
      rmSync(root, { recursive: true, force: true });
    },
    log,
  );
  try {
    log(
      `network bench: ${opts.events} events, batches of ${BATCH}, ${opts.workers} verification thread(s) per node`,
    );
    // 1. one node alone
    const single = await startCluster(join(root, 'single'), 1, opts.workers, clusters);
    const load1 = net.makeLoad(core, opts.events, 'bench-single');
    let cpu0 = cpuMark(single);
    let t0 = performance.now();
    await postAll(single.nodes[0]?.url as string, load1);
    await until(everyNodeHolds(single, opts.events), 600_000);
    const singleSeconds = (performance.now() - t0) / 1000;
    const singleCpu = cpuSince(single, cpu0, opts.events);
    await single.stop();
    log(`  one node: ${Math.round(opts.events / singleSeconds)} events/s`);

    // 2. three nodes at saturation, 3. at a steady half of the network's saturated rate (a rate
    // from the single node's could be more than the network holds on a busy machine)
    const cluster = await startCluster(join(root, 'network'), 3, opts.workers, clusters);
    const url = cluster.nodes[0]?.url as string;
    const load2 = net.makeLoad(core, opts.events, 'bench-network');
    cpu0 = cpuMark(cluster);
    const saturatedFrom = Date.now();
    t0 = performance.now();
    await postAll(url, load2);
    await until(everyNodeHolds(cluster, opts.events), 600_000);
    const networkSeconds = (performance.now() - t0) / 1000;
    const networkCpu = cpuSince(cluster, cpu0, opts.events);
    // copies of each event a node received from its peers (gossip in a full mesh sends most
    // events to a receiving node twice: from node 1 and from the other receiver)
    const copies = (await cluster.peers()).map(
      (p) => p.peers.reduce((t, x) => t + x.events_in, 0) / opts.events,
    );
    log(`  three nodes: ${Math.round(opts.events / networkSeconds)} events/s held by all`);
    const pacedRate = Math.max(50, Math.round(opts.events / networkSeconds / 2));
    const pacedCount = Math.min(opts.events, pacedRate * 10);
    const load3 = net.makeLoad(core, pacedCount, 'bench-paced');
    const pacedFrom = Date.now();
    await postPaced(url, load3, pacedRate);
    await until(everyNodeHolds(cluster, opts.events + pacedCount), 600_000);
    await cluster.stop();
    const receipts = await Promise.all(cluster.nodes.map((n) => readEventReceipts(n.dir, core)));
    const saturated = latencies(receipts, saturatedFrom, pacedFrom);
    const paced = latencies(receipts, pacedFrom, Number.POSITIVE_INFINITY);

    const singleRate = opts.events / singleSeconds;
    const networkRate = opts.events / networkSeconds;
    const ratio = networkRate / singleRate;
    const a = singleCpu.nodes[0] ?? 0;
    const b = networkCpu.nodes;
    const perNode = b.reduce((t, x) => t + x, 0) / b.length;
    const cpuRatio = a / perNode;
    const cores = availableParallelism();
    const ceiling = throughputCeiling(cores, singleRate, b, networkCpu.generator, TARGET);
    const verdict = ratio >= TARGET ? 'PASS' : 'MISS';
    // CPU seconds per second the node processes and the load generator got: below the cores
    // when other work shares the machine (the ceiling assumes every core is ours)
    const usedSingle = (a + singleCpu.generator) * singleRate;
    const usedNetwork = (b.reduce((t, x) => t + x, 0) + networkCpu.generator) * networkRate;
    // the ratio if both phases got the same CPU: what a busy machine does not skew
    const equalCpu =
      (a + singleCpu.generator) / (b.reduce((t, x) => t + x, 0) + networkCpu.generator);
    const rows = [
      '| measure | value |',
      '|---|---:|',
      `| one node, ingest | ${Math.round(singleRate)} events/s |`,
      `| three nodes, events/s held by all three (posted to node 1) | ${Math.round(networkRate)} events/s |`,
      `| ratio, same machine (target ${TARGET}) | ${ratio.toFixed(2)} ${verdict} |`,
      `| ceiling the CPU budget allows, same machine | ${ceiling.ratio.toFixed(2)} (measured / ceiling ${(ratio / ceiling.ratio).toFixed(2)}) |`,
      `| CPU per event, one node (a) | ${us(a)} |`,
      `| CPU per event, network: node 1 (ingests), node 2, node 3 (receive) | ${b.map(us).join(', ')} |`,
      `| of which the main thread (HTTP or TLS, engine, commit): one node; node 1, 2, 3 | ${us(singleCpu.main[0] ?? 0)}; ${networkCpu.main.map(us).join(', ')} |`,
      `| copies of each event received from peers: node 1, 2, 3 | ${copies.map((c) => c.toFixed(2)).join(', ')} |`,
      `| CPU per event, load generator: alone / network | ${us(singleCpu.generator)} / ${us(networkCpu.generator)} |`,
      `| ratio at equal CPU: (a + g) / (b1 + b2 + b3 + g) | ${equalCpu.toFixed(2)} |`,
      `| cores the bench's processes used: one node phase / network phase (of ${cores}) | ${usedSingle.toFixed(2)} / ${usedNetwork.toFixed(2)} |`,
      `| ratio, CPU-normalized (a machine per node): a / mean, a / slowest | ${cpuRatio.toFixed(2)}, ${(a / Math.max(...b)).toFixed(2)} |`,
      `| propagation node 1 → last, at ${pacedRate} events/s | p50 ${paced.p50} ms, p99 ${paced.p99} ms (${paced.count} events) |`,
      `| propagation node 1 → last, at saturation | p50 ${saturated.p50} ms, p99 ${saturated.p99} ms (${saturated.count} events) |`,
    ].join('\n');
    const sum = b.reduce((t, x) => t + x, 0) + networkCpu.generator;
    const notes = [
      `This machine: ${cores} CPU cores shared by the three node processes and the load generator (1-minute load average ${(loadBefore[0] ?? 0).toFixed(2)} before the run, ${(loadavg()[0] ?? 0).toFixed(2)} after); each node runs ${opts.workers} verification thread(s).`,
      `Ceiling: every event costs the network ${b.map(us).join(' + ')} (nodes) + ${us(networkCpu.generator)} (load generator) = ${us(sum)} of CPU, so ${cores} cores allow at most ${Math.round(ceiling.networkRateBound)} events/s; the network cannot outrun its ingesting node either (at best the single node's ${Math.round(singleRate)} events/s). Ceiling ratio = min(1, ${cores} / (${Math.round(singleRate)} events/s × ${us(sum)})) = ${ceiling.ratio.toFixed(2)}.`,
      `During the network phase the bench's processes got ${usedNetwork.toFixed(2)} of the ${cores} cores (the ceiling assumes all of them): measured / ceiling = ${(ratio / ceiling.ratio).toFixed(2)}${usedNetwork < 0.9 * cores ? ', the rest went to other work on the machine' : ''}.`,
      `The ceiling takes the single node's rate as measured; where other work left the bench's processes few cores (here ${usedSingle.toFixed(2)} and ${usedNetwork.toFixed(2)} of ${cores}), that rate, and so the ceiling, depend on it. The ratio at equal CPU (${equalCpu.toFixed(2)}) does not: it is what the network keeps when its processes get as much CPU as the single node's did.`,
      `For ${TARGET} on this machine the two receiving nodes together may cost at most ${ceiling.receiverBudget > 0 ? us(ceiling.receiverBudget) : 'nothing'} per event (${ceiling.receiverBudget > 0 ? us(ceiling.receiverBudget / 2) : '0 µs'} each); they cost ${us((b[1] ?? 0) + (b[2] ?? 0))}.`,
      `Target (issue 10): the network keeps at least ${Math.round(TARGET * 100)}% of a single node's throughput: same machine ${verdict} (${ratio.toFixed(2)}, ceiling ${ceiling.ratio.toFixed(2)}); CPU-normalized ${cpuRatio >= TARGET ? 'PASS' : 'MISS'} (${cpuRatio.toFixed(2)}).`,
    ].join('\n');
    const report = `commons-sync network bench: ${opts.events} events\n\n${rows}\n\n${notes}`;
    process.stdout.write(`${report}\n`);
    const out = fileURLToPath(new URL('../results/', import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'network.json'),
      `${JSON.stringify(
        {
          events: opts.events,
          workers: opts.workers,
          cores,
          singleRate,
          networkRate,
          ratio,
          target: TARGET,
          pass: ratio >= TARGET,
          ceiling,
          cpuPerEventSingle: a,
          cpuPerEventNodes: b,
          cpuPerEventGenerator: { single: singleCpu.generator, network: networkCpu.generator },
          mainThreadPerEventSingle: singleCpu.main[0] ?? 0,
          mainThreadPerEventNodes: networkCpu.main,
          copiesReceived: copies,
          coresUsed: { single: usedSingle, network: usedNetwork },
          equalCpuRatio: equalCpu,
          cpuRatio,
          loadAverage: { before: loadBefore, after: loadavg() },
          pacedRate,
          paced,
          saturated,
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(join(out, 'network.md'), `# Network\n\n${rows}\n\n${notes}\n`);
    return 0;
  } finally {
    stopOnInterrupt();
    await Promise.all(clusters.map((c) => c.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}
