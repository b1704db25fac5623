/**
 * The network bench (issue 10): node processes on this machine, started as an operator starts
 * them, fed through their HTTP APIs. In one run:
 *
 * 1. one node alone: its ingest rate (events posted in batches until all are durably stored);
 * 2. three nodes, every event posted to node 1: the rate at which all three hold them (each node
 *    validates and stores every event; nodes 2 and 3 get them over the network), and the CPU
 *    time the processes spent, against the single node's;
 * 3. the same network at a steady rate (a third of the single node's): propagation latency
 *    from node 1's commit of an event to the last node's commit of it, p50 and p99, from the
 *    commit times in each node's store. Phase 2 gives the latency at saturation.
 *
 * Ratios and counts from the same run; times are the machine's. On one machine the three nodes
 * share its cores, and each does the whole work of a node: the throughput ratio is bounded by
 * cores / (3 × cores a node uses). The CPU-normalized ratio (CPU per event per node, alone
 * against in the network) is what the ratio would be with a machine per node.
 *
 *   commons-sync-bench network [--events N] [--quick] [--workers N]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Core, loadCore } from '@commons-sync/bindings';
import { net, readEventReceipts } from '@commons-sync/node';

const BATCH = 500;
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

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

const cpuOf = (c: net.LocalCluster) => c.nodes.reduce((t, n) => t + cpuSeconds(n.pid), 0);

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

/** Posts `events` at `rate` per second, in batches of 50. */
async function postPaced(url: string, events: readonly unknown[], rate: number): Promise<void> {
  const batch = 50;
  const started = Date.now();
  const sends: Promise<number>[] = [];
  for (let at = 0; at < events.length; at += batch) {
    const due = started + (at / rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sends.push(net.postBatch(url, events.slice(at, at + batch)));
  }
  await Promise.all(sends);
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
  try {
    log(
      `network bench: ${opts.events} events, batches of ${BATCH}, ${opts.workers} verification thread(s) per node`,
    );
    // 1. one node alone
    const single = await startCluster(join(root, 'single'), 1, opts.workers, clusters);
    const load1 = net.makeLoad(core, opts.events, 'bench-single');
    let cpu0 = cpuOf(single);
    let t0 = performance.now();
    await postAll(single.nodes[0]?.url as string, load1);
    await until(everyNodeHolds(single, opts.events), 600_000);
    const singleSeconds = (performance.now() - t0) / 1000;
    const singleCpu = cpuOf(single) - cpu0;
    await single.stop();
    log(`  one node: ${Math.round(opts.events / singleSeconds)} events/s`);

    // 2. three nodes at saturation, 3. at a steady third of the single node's rate
    const cluster = await startCluster(join(root, 'network'), 3, opts.workers, clusters);
    const url = cluster.nodes[0]?.url as string;
    const load2 = net.makeLoad(core, opts.events, 'bench-network');
    cpu0 = cpuOf(cluster);
    const saturatedFrom = Date.now();
    t0 = performance.now();
    await postAll(url, load2);
    await until(everyNodeHolds(cluster, opts.events), 600_000);
    const networkSeconds = (performance.now() - t0) / 1000;
    const networkCpu = cpuOf(cluster) - cpu0;
    log(`  three nodes: ${Math.round(opts.events / networkSeconds)} events/s held by all`);
    const pacedRate = Math.max(50, Math.round(opts.events / singleSeconds / 3));
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
    const cpuPerEventSingle = singleCpu / opts.events;
    const cpuPerEventPerNode = networkCpu / (3 * opts.events);
    const cpuRatio = cpuPerEventSingle / cpuPerEventPerNode;
    const cores = (await import('node:os')).availableParallelism();
    const rows = [
      '| measure | value |',
      '|---|---:|',
      `| one node, ingest | ${Math.round(singleRate)} events/s |`,
      `| three nodes, events/s held by all three (posted to node 1) | ${Math.round(networkRate)} events/s |`,
      `| ratio, same machine | ${ratio.toFixed(2)} |`,
      `| CPU per event: one node / per node in the network | ${(cpuPerEventSingle * 1e6).toFixed(0)} µs / ${(cpuPerEventPerNode * 1e6).toFixed(0)} µs |`,
      `| ratio, CPU-normalized (a machine per node) | ${cpuRatio.toFixed(2)} |`,
      `| propagation node 1 → last, at ${pacedRate} events/s | p50 ${paced.p50} ms, p99 ${paced.p99} ms (${paced.count} events) |`,
      `| propagation node 1 → last, at saturation | p50 ${saturated.p50} ms, p99 ${saturated.p99} ms (${saturated.count} events) |`,
    ].join('\n');
    const notes = [
      `This machine: ${cores} CPU cores shared by the three node processes and the load generator; each node runs ${opts.workers} verification thread(s).`,
      `On one machine each of the three nodes validates and stores every event, so the same-machine ratio is bounded by the cores (here about ${Math.min(1, cores / (3 * (singleCpu / singleSeconds))).toFixed(2)}). The CPU-normalized ratio compares the CPU one event costs a node alone with what it costs a node in the network (validation of the peer's copy, gossip, reconciliation).`,
      `Target (issue 10): the network keeps at least 70% of a single node's throughput: CPU-normalized ${cpuRatio >= 0.7 ? 'met' : 'NOT met'} (${cpuRatio.toFixed(2)}); same machine ${ratio >= 0.7 ? 'met' : 'not met'} (${ratio.toFixed(2)}).`,
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
          cpuPerEventSingle,
          cpuPerEventPerNode,
          cpuRatio,
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
    await Promise.all(clusters.map((c) => c.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}
