/**
 * `commons-sync-bench store-engines`: the node's durable commit of batches of 1,000 accepted
 * events, in SQLite (the node's own Store) and in LMDB (lmdb-store.ts), alternating in one run
 * so that a slow spell of a shared machine lands on every engine. Per engine: the committing
 * thread's CPU per event, the process's, wall time, commits/s and bytes on disk per event, on
 * empty stores and again after filling each store to `--store-size` events.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';

import { EventFactory } from '../ingest/events.js';
import { machineInfo } from '../machine.js';
import { Progress } from '../progress.js';
import { STORE_ENGINES_USAGE, type StoreEnginesArgs } from './args.js';
import {
  type BenchEvent,
  bytesOnDisk,
  type Engine,
  type EngineName,
  fsyncFiles,
  openEngine,
  toBenchEvents,
} from './engines.js';
import type { EngineEvent } from './lmdb-store.js';
import { markdown, type Phase, type RunFacts, ratios, type Sample, summarize } from './report.js';

/** The node's batch (`POST /v1/events` takes at most 1,000 events). */
export const BATCH = 1000;
/** Batches each engine commits before its clock starts, after opening (JIT, page cache). */
const WARMUP_BATCHES = 2;

/** CPU time of the calling thread in nanoseconds (the first field of its schedstat). */
export function threadCpuNs(): number {
  const text = readFileSync('/proc/thread-self/schedstat', 'utf8');
  return Number(text.split(' ')[0]);
}

/**
 * Bytes this process passed to write calls so far (`wchar` of /proc/self/io: write, pwrite,
 * writev), the engine's write volume as it asked for it. Not `write_bytes` (page-cache
 * accounting): in a check with strace it read about 5x the bytes LMDB passed to pwrite and
 * writev, for reasons not established here, so it does not compare engines.
 */
export function writtenBytes(): number {
  const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return match === null ? 0 : Number(match[1]);
}

/**
 * Events that fill a store: the shape and bytes of the factory's events (same authors, same
 * encoded size), with ids and nonces of their own so that each is a new event. They are not
 * valid signed events (the id is not the body's hash): the stores never check that, and
 * signing a million events would take longer than the whole bench.
 */
export function fillEvents(
  core: Core,
  templates: readonly EngineEvent[],
  first: number,
  count: number,
): EngineEvent[] {
  const enc = new TextEncoder();
  const out: EngineEvent[] = [];
  for (let j = first; j < first + count; j++) {
    const t = templates[j % templates.length] as EngineEvent;
    const id = core.sha256(enc.encode(`store-engines/fill/${j}`));
    out.push({
      ...t,
      id,
      nonce: core.sha256(enc.encode(`store-engines/fill-nonce/${j}`)).slice(0, 16),
    });
  }
  return out;
}

/** Commits `batches` one after the other and measures them. */
export async function measure(
  engine: Engine,
  batches: readonly (readonly BenchEvent[])[],
  dir: string,
  phase: Phase,
  round: number,
): Promise<Sample> {
  const storedBefore = engine.count;
  let events = 0;
  for (const b of batches) events += b.length;
  const written0 = writtenBytes();
  const cpu0 = threadCpuNs();
  const process0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const b of batches) await engine.commit(b);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const processCpu = process.cpuUsage(process0);
  const threadCpu = threadCpuNs() - cpu0;
  const written = writtenBytes() - written0;
  return {
    engine: engine.name,
    phase,
    round,
    storedBefore,
    events,
    batches: batches.length,
    threadCpuNs: threadCpu,
    processCpuUs: processCpu.user + processCpu.system,
    wallNs,
    writtenBytes: written,
    bytesOnDisk: bytesOnDisk(dir),
    storedAfter: engine.count,
    load1: loadavg()[0] ?? 0,
  };
}

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export async function runStoreEnginesBench(args: StoreEnginesArgs): Promise<number> {
  if (args.help) {
    process.stdout.write(`${STORE_ENGINES_USAGE}\n`);
    return 0;
  }
  const progress = new Progress(process.stderr);
  const loadAtStart = loadavg();
  const core = await loadCore();
  const factory = new EventFactory(core, 'store-engines');
  const nowSec = Math.floor(Date.now() / 1000);
  // event indices: warm-up empty, rounds empty, warm-up stored, rounds stored
  const made = (first: number, batches: number): BenchEvent[][] =>
    Array.from({ length: batches }, (_, b) =>
      toBenchEvents(factory.bulkEvents(first + b * BATCH, BATCH, nowSec)),
    );
  progress.note(`store-engines (${args.mode}): signing the events`);
  let next = 0;
  const take = (batches: number): BenchEvent[][] => {
    const out = made(next, batches);
    next += batches * BATCH;
    return out;
  };
  const warmEmpty = take(WARMUP_BATCHES);
  const roundsEmpty = Array.from({ length: args.rounds }, () => take(args.batches));
  const withStored = args.storeSize > 0;
  const warmStored = withStored ? take(WARMUP_BATCHES) : [];
  const roundsStored = withStored
    ? Array.from({ length: args.rounds }, () => take(args.batches))
    : [];
  const templates = warmEmpty[0] as BenchEvent[];

  const root = mkdtempSync(join(args.dir ?? tmpdir(), 'cs-store-engines-'));
  const dirs = new Map<EngineName, string>(args.engines.map((e) => [e, join(root, e)]));
  const engines = new Map<EngineName, Engine>();
  const samples: Sample[] = [];
  const fillSeconds: Partial<Record<EngineName, number>> = {};
  try {
    for (const name of args.engines) {
      const engine = openEngine(name, dirs.get(name) as string, core);
      engines.set(name, engine);
      for (const b of warmEmpty) await engine.commit(b);
    }
    const runRounds = async (phase: Phase, rounds: BenchEvent[][][]): Promise<void> => {
      for (let r = 0; r < rounds.length; r++) {
        // the order rotates, so that no engine always runs first in a round
        for (let k = 0; k < args.engines.length; k++) {
          const name = args.engines[(r + k) % args.engines.length] as EngineName;
          progress.note(`${phase} round ${r + 1}/${rounds.length}: ${name}`);
          const engine = engines.get(name) as Engine;
          samples.push(
            await measure(
              engine,
              rounds[r] as BenchEvent[][],
              dirs.get(name) as string,
              phase,
              r + 1,
            ),
          );
        }
      }
    };
    await runRounds('empty', roundsEmpty);
    if (withStored) {
      for (const name of args.engines) {
        // `none` stores nothing: there is nothing to fill, and its state is in memory
        if (name === 'none') continue;
        const dir = dirs.get(name) as string;
        await (engines.get(name) as Engine).close();
        const filler = openEngine(name, dir, core, { unsynced: true });
        const toFill = args.storeSize - filler.count;
        const t0 = Date.now();
        for (let j = 0; j < toFill; j += BATCH) {
          if (j % 100_000 === 0)
            progress.note(`filling ${name}: ${(filler.count).toLocaleString('en-US')} stored`);
          const batch = fillEvents(core, templates, j, Math.min(BATCH, toFill - j));
          await filler.commit(toBenchEvents(batch));
        }
        fillSeconds[name] = (Date.now() - t0) / 1000;
        await filler.close();
        fsyncFiles(dir);
        const engine = openEngine(name, dir, core);
        engines.set(name, engine);
        for (const b of warmStored) await engine.commit(b);
      }
      await runRounds('stored', roundsStored);
    }
  } finally {
    for (const engine of engines.values()) await engine.close().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
  const machine = machineInfo();
  const facts: RunFacts = {
    batchSize: BATCH,
    batchesPerRound: args.batches,
    storeSize: args.storeSize,
    fillSeconds,
    loadAtStart,
    loadAtEnd: loadavg(),
    commit: machine.gitCommit ?? 'unknown',
  };
  const md = markdown(facts, samples);
  if (args.json !== null) {
    const figures = summarize(samples);
    writeFile(
      args.json,
      `${JSON.stringify({ date: new Date().toISOString(), args, machine, facts, samples, figures, ratios: ratios(figures) }, null, 1)}\n`,
    );
    progress.note(`wrote ${args.json}`);
  }
  if (args.markdown !== null) {
    writeFile(args.markdown, md);
    progress.note(`wrote ${args.markdown}`);
  }
  process.stdout.write(md);
  return 0;
}
