/**
 * `commons-sync demo`: a network of three nodes on this machine, as an operator would start
 * them (`init`, `start --peer --admit`), fed by a load generator through their HTTP APIs. It
 * shows each node's event count and rate live, then a summary (throughput, convergence,
 * propagation latency from the first node that accepted an event to the last, the audit logs
 * checked), stops the nodes and removes their folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadCore } from '@commons-sync/bindings';

import { LocalCluster, makeLoad, percentile, postBatch } from '../net/local-cluster.js';
import {
  BIN,
  type CliIo,
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  parseCommandLine,
  parseIntFlag,
  writeLine,
} from './common.js';

const REFRESH_MS = 500;
/** How long the network may take to converge once the load has been accepted. */
const CONVERGE_TIMEOUT_MS = 120_000;

interface Sample {
  readonly at: number;
  readonly counts: readonly number[];
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a local network of three nodes under load and watch it converge',
  usage: `Usage: ${BIN} demo [options]

Starts three nodes on this machine (each its own process, data directory, API and sync port;
each admits the others and dials those started before it), sends them signed events from a
load generator (each batch to the next node in turn), and shows every node's event count and
rate live until all of them hold every event. Then it prints a summary (throughput,
convergence, propagation latency from the first node to accept an event to the last, audit
logs checked), stops the nodes and removes their folder.

Options:
  --events N    events to send (default 20000)
  --nodes N     nodes in the network, 2 to 5 (default 3)
  --batch N     events per request (default 500)
  --workers N   verification threads per node (default 1)
  --keep        keep the nodes' data directories (the folder is printed)
  -h, --help    show this help`,
  async run(argv, io) {
    const cmd = 'demo';
    const { values } = parseCommandLine(cmd, {
      args: argv,
      options: {
        events: { type: 'string' },
        nodes: { type: 'string' },
        batch: { type: 'string' },
        workers: { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const total = parseIntFlag(cmd, '--events', values.events ?? '20000', 1, 1_000_000);
    const size = parseIntFlag(cmd, '--nodes', values.nodes ?? '3', 2, 5);
    const batch = parseIntFlag(cmd, '--batch', values.batch ?? '500', 1, 10_000);
    const workers = parseIntFlag(cmd, '--workers', values.workers ?? '1', 1, 64);
    const dir = mkdtempSync(join(tmpdir(), 'commons-sync-demo-'));
    const out = io.stdout;
    let cluster: LocalCluster | undefined;
    let interrupted = false;
    const onSignal = (): void => {
      interrupted = true;
    };
    io.signals.once('SIGINT', onSignal);
    io.signals.once('SIGTERM', onSignal);
    try {
      writeLine(out, `starting ${size} nodes in ${dir} ...`);
      cluster = await LocalCluster.start({
        dir,
        size,
        passphrase: randomBytes(16).toString('hex'),
        workers,
        onLog: (node, line) => io.log.debug('node log', { node, line }),
      });
      for (const n of cluster.nodes)
        writeLine(out, `node ${n.index}  ${n.did}  api ${n.url}  sync ${n.sync}`);
      const c = cluster;
      await waitFor(
        async () => (await c.peers()).every((p) => ready(p) === size - 1),
        30_000,
        () => interrupted,
      );
      writeLine(out, `connected: every node has ${size - 1} peers; sending ${total} events\n`);
      return await runLoad(c, io, { total, batch, interrupted: () => interrupted });
    } finally {
      io.signals.removeListener('SIGINT', onSignal);
      io.signals.removeListener('SIGTERM', onSignal);
      await cluster?.stop();
      if (values.keep === true) writeLine(out, `kept the nodes' data directories in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    }
  },
};

const ready = (p: { peers: readonly { state: string }[] }) =>
  p.peers.filter((x) => x.state === 'ready').length;

async function waitFor(
  cond: () => Promise<boolean>,
  timeoutMs: number,
  interrupted: () => boolean,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end || interrupted()) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function runLoad(
  cluster: LocalCluster,
  io: CliIo,
  opts: { total: number; batch: number; interrupted: () => boolean },
): Promise<number> {
  const out = io.stdout;
  const tty = out.isTTY === true;
  const core = await loadCore();
  const events = makeLoad(core, opts.total, 'demo');
  const size = cluster.nodes.length;
  const batches: unknown[][] = [];
  for (let i = 0; i < events.length; i += opts.batch) batches.push(events.slice(i, i + opts.batch));

  const started = Date.now();
  let accepted = 0;
  let sent = 0;
  let loadDone = 0;
  // one client per node, each posting its share of the batches in turn
  const clients = cluster.nodes.map(async (node, k) => {
    for (let b = k; b < batches.length && !opts.interrupted(); b += size) {
      const chunk = batches[b] as unknown[];
      const n = await postBatch(node.url, chunk); // (not `accepted += await`: that reads first)
      accepted += n;
      sent += chunk.length;
    }
  });
  const load = Promise.all(clients).then(() => {
    loadDone = Date.now();
  });
  let loadError: unknown;
  load.catch((e: unknown) => {
    loadError = e;
  });

  const samples: Sample[] = [];
  let lines = 0;
  let convergedAt = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, REFRESH_MS));
    const counts = (await cluster.health()).map((h) => h.events);
    const now = Date.now();
    samples.push({ at: now, counts });
    const prev = samples.find((s) => now - s.at <= 1000 + REFRESH_MS) ?? samples[0];
    const rows = cluster.nodes.map((n, i) => {
      const dt = Math.max(1, now - (prev as Sample).at) / 1000;
      const rate = Math.round(((counts[i] ?? 0) - ((prev as Sample).counts[i] ?? 0)) / dt);
      return `  node ${n.index}  ${String(counts[i]).padStart(8)} events  ${String(rate).padStart(7)}/s  ${bar(counts[i] ?? 0, opts.total)}`;
    });
    const converged = loadDone > 0 && counts.every((c) => c === accepted);
    const head = `t=${((now - started) / 1000).toFixed(1)}s  sent ${sent}/${opts.total}, accepted ${accepted}  ${
      converged ? 'converged' : loadDone > 0 ? 'converging...' : 'loading...'
    }`;
    if (tty) {
      if (lines > 0) out.write(`\x1b[${lines}A`);
      for (const l of [head, ...rows]) out.write(`\x1b[2K${l}\n`);
      lines = rows.length + 1;
    } else if (samples.length % 2 === 0 || converged) {
      writeLine(out, [head, ...rows].join('\n'));
    }
    if (converged) {
      convergedAt = now;
      break;
    }
    if (loadError !== undefined) throw loadError;
    if (opts.interrupted()) {
      writeLine(out, 'interrupted: stopping the nodes');
      return EXIT_FAILURE;
    }
    if (loadDone > 0 && now - loadDone > CONVERGE_TIMEOUT_MS) break;
  }

  const finalCounts = samples.at(-1)?.counts ?? [];
  await cluster.stop();
  const { readEventReceipts, verifyAudit } = await import('../node.js');
  const receipts = await Promise.all(cluster.nodes.map((n) => readEventReceipts(n.dir, core)));
  const latencies: number[] = [];
  for (const [id, at] of receipts[0] ?? new Map<string, number>()) {
    let first = at;
    let last = at;
    for (const r of receipts.slice(1)) {
      const t = r.get(id);
      if (t === undefined) continue;
      first = Math.min(first, t);
      last = Math.max(last, t);
    }
    latencies.push(last - first);
  }
  latencies.sort((a, b) => a - b);
  const audits = await Promise.all(cluster.nodes.map((n) => verifyAudit(n.dir, core)));
  const intact = audits.filter((a) => a.ok).length;
  const seconds = ((convergedAt || Date.now()) - started) / 1000;
  const loadSeconds = ((loadDone || Date.now()) - started) / 1000;

  writeLine(out, '\nsummary');
  writeLine(
    out,
    `  events sent:          ${sent} (accepted by the node each was sent to: ${accepted})`,
  );
  writeLine(
    out,
    `  load:                 ${loadSeconds.toFixed(1)} s, ${Math.round(accepted / loadSeconds)} events/s accepted by the nodes they were sent to`,
  );
  if (convergedAt > 0) {
    writeLine(
      out,
      `  converged:            yes, every node holds ${accepted} events, ${((convergedAt - loadDone) / 1000).toFixed(1)} s after the last was accepted`,
    );
    writeLine(
      out,
      `  network throughput:   ${Math.round(accepted / seconds)} events/s held by every node (${size} nodes)`,
    );
  } else {
    writeLine(
      out,
      `  converged:            no, after ${CONVERGE_TIMEOUT_MS / 1000} s: ${finalCounts.join(', ')}`,
    );
  }
  writeLine(
    out,
    `  propagation:          p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${latencies.at(-1) ?? 0} ms (first node to accept an event → last)`,
  );
  writeLine(out, `  audit logs:           ${intact} of ${size} intact (commons-sync audit verify)`);
  return convergedAt > 0 && intact === size ? EXIT_OK : EXIT_FAILURE;
}

function bar(n: number, total: number): string {
  const width = 30;
  const full = Math.round((Math.min(n, total) / Math.max(1, total)) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}
