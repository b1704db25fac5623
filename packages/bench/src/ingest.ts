/**
 * End-to-end ingest: signed events POSTed over HTTP in batches of 1,000 to a real node (SQLite
 * in WAL mode, synchronous=FULL, audit log), until every one is acknowledged as durably stored.
 * Measured with 1 and 2 verification threads, next to the raw native batch-verify throughput at
 * the same thread count, with the pipeline's stage times to show where the time goes.
 *
 *   npm run bench:ingest [-- --events 30000 --quick]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Core, loadCore } from '@commons-sync/bindings';
import { initDataDir, openNode, protocol, startApiServer, VerifyPool } from '@commons-sync/node';

const BATCH = 1000;
const CONCURRENCY = 4; // requests in flight: parsing of one batch overlaps verification of another

interface Args {
  events: number;
  runs: number;
  threads: number[];
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--events');
  const events = at >= 0 ? Number(argv[at + 1]) : quick ? 10_000 : 30_000;
  const t = argv.indexOf('--threads');
  return { events, runs: quick ? 1 : 3, threads: t >= 0 ? [Number(argv[t + 1])] : [1, 2] };
}

/** Events from 200 authors (validators see the same authors again and again). */
function makeEvents(
  core: Core,
  count: number,
): { json: unknown[]; checks: protocol.SignatureCheck[] } {
  const authors = Array.from({ length: 200 }, (_, i) =>
    core.sha256(new TextEncoder().encode(`ingest-author/${i}`)),
  );
  const dids = authors.map((seed) => protocol.didKeyFromPublicKey(core.ed25519PublicKey(seed)));
  const now = Math.floor(Date.now() / 1000);
  const json: unknown[] = [];
  const checks: protocol.SignatureCheck[] = [];
  for (let i = 0; i < count; i++) {
    const a = i % authors.length;
    const r = protocol.signEvent(
      core,
      {
        v: 1,
        kind: 'transfer',
        author: dids[a] as string,
        createdAt: now - 5,
        expiresAt: now + 3600,
        nonce: core.sha256(new TextEncoder().encode(`ingest-nonce/${i}/${now}`)).slice(0, 16),
        payload: {
          from: `acct-${a}`,
          to: `acct-${(a * 7 + i) % 997}`,
          amount: i % 10_000,
          memo: 'bench',
        },
      },
      [authors[a] as Uint8Array],
    );
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    json.push(protocol.eventToJson(r.value.event));
    checks.push(...protocol.signatureChecks(r.value, core.sha256(r.value.body)));
  }
  return { json, checks };
}

async function post(url: string, batch: { count: number; body: Buffer }): Promise<number> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: batch.body,
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const { results } = (await res.json()) as { results: { status: string; reason?: string }[] };
  const accepted = results.filter((r) => r.status === 'accepted').length;
  if (accepted !== batch.count) {
    const bad = results.find((r) => r.status !== 'accepted');
    throw new Error(`only ${accepted}/${batch.count} accepted (${JSON.stringify(bad)})`);
  }
  return accepted;
}

interface IngestRun {
  threads: number;
  eventsPerSec: number;
  seconds: number;
  stages: { parseMs: number; verifyMs: number; prepareWallMs: number; commitMs: number };
}

async function ingestOnce(threads: number, events: unknown[]): Promise<IngestRun> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-ingest-'));
  const passphrase = 'bench';
  try {
    await initDataDir(dir, passphrase);
    const node = await openNode({
      dataDir: dir,
      passphrase,
      workers: threads,
      maxPendingEvents: 1_000_000,
    });
    const api = await startApiServer(node, { port: 0, maxInFlight: 64 });
    try {
      // request bodies serialized before the clock starts: the client's cost is not the node's
      const batches: { count: number; body: Buffer }[] = [];
      for (let i = 0; i < events.length; i += BATCH) {
        const slice = events.slice(i, i + BATCH);
        batches.push({ count: slice.length, body: Buffer.from(JSON.stringify(slice)) });
      }
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < batches.length)
            await post(api.url, batches[next++] as { count: number; body: Buffer });
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const t = node.stageTimes;
      return {
        threads,
        seconds,
        eventsPerSec: events.length / seconds,
        stages: {
          parseMs: t.parse,
          verifyMs: t.verify,
          prepareWallMs: t.prepareWall,
          commitMs: t.commit,
        },
      };
    } finally {
      await api.close();
      await node.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signatures per second through the same batch path with no HTTP, parsing or storage. */
async function rawVerify(threads: number, checks: protocol.SignatureCheck[]): Promise<number> {
  const pool = await VerifyPool.create({ threads: threads === 1 ? 0 : threads });
  try {
    await pool.verify(checks.slice(0, 2000)); // warm up workers and key caches
    const started = performance.now();
    for (let i = 0; i < checks.length; i += BATCH) {
      const verdicts = await pool.verify(checks.slice(i, i + BATCH));
      if (verdicts.includes(false)) throw new Error('raw verify rejected a valid signature');
    }
    return checks.length / ((performance.now() - started) / 1000);
  } finally {
    await pool.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const core = await loadCore();
  console.log(
    `commons-sync ingest bench: ${args.events} events, batches of ${BATCH}, ${CONCURRENCY} requests in flight, backend ${core.backend}, ${availableParallelism()} CPUs`,
  );
  const { json, checks } = makeEvents(core, args.events);
  const rows: string[] = [];
  const report: unknown[] = [];
  for (const threads of args.threads) {
    const runs: IngestRun[] = [];
    for (let r = 0; r < args.runs; r++) runs.push(await ingestOnce(threads, json));
    const best = runs.find(
      (x) => x.eventsPerSec === median(runs.map((y) => y.eventsPerSec)),
    ) as IngestRun;
    const raw = await rawVerify(threads, checks);
    const perEvent = (ms: number) => ((ms * 1000) / args.events).toFixed(1);
    const line =
      `| ${threads} | ${Math.round(best.eventsPerSec).toLocaleString('en')} | ${Math.round(raw).toLocaleString('en')} | ` +
      `${((best.eventsPerSec / raw) * 100).toFixed(0)}% | ${perEvent(best.stages.parseMs)} | ${perEvent(best.stages.verifyMs)} | ` +
      `${perEvent(best.stages.commitMs)} | ${perEvent(best.seconds * 1000)} |`;
    rows.push(line);
    report.push({ threads, runs, median: best, rawVerifyPerSec: raw });
    console.log(
      `threads=${threads}: ${Math.round(best.eventsPerSec)} events/s (runs: ${runs.map((x) => Math.round(x.eventsPerSec)).join(', ')}), raw verify ${Math.round(raw)}/s`,
    );
  }
  const table = [
    '| worker threads | ingest events/s (HTTP → durable) | raw native batch verify sig/s | ingest / raw | worker parse µs/event | worker verify µs/event | main-thread commit µs/event | wall µs/event |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  const notes =
    'CPU time per event by stage: parse (JSON to canonical CBOR, schema, time, ids, policy) and verify (one batch per ' +
    'chunk) run on the worker threads; commit (replay check, SQLite transaction with fsync, audit entries) and HTTP ' +
    '(splitting bodies into event texts, responses) on the main thread. ' +
    'Targets: ≥ 25,000 events/s; ingest ≥ 50% of raw batch verify at the same thread count.';
  console.log(`\n${table}\n\n${notes}`);
  const out = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'ingest.json'), JSON.stringify({ args, report }, null, 2));
  writeFileSync(join(out, 'ingest.md'), `# Ingest\n\n${table}\n\n${notes}\n`);
}

await main();
