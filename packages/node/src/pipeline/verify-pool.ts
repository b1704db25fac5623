/**
 * The pipeline's use of the worker pool (pool/worker-pool.ts): the stateless validation steps
 * and signature verification on worker threads running verify-worker.ts. A batch is split into
 * one chunk per thread (each chunk still a batch, since a worker round trip costs about as
 * much as one signature check), packed into transferable buffers, and the per-item results
 * are stitched back in order.
 */
import { availableParallelism } from 'node:os';

import { type Backend, type Core, loadCore } from '@commons-sync/bindings';

import { siblingModule, WorkerPool } from '../pool/worker-pool.js';
import {
  batchSize,
  type EventTextBatch,
  MAX_EVENT_JSON_BYTES,
  type SignatureCheck,
} from '../protocol/index.js';
import {
  type PackedChunk,
  type PrepareContext,
  type PreparedChunk,
  type PrepareTask,
  prepareChunk,
  unpackChunk,
} from './prepare.js';
import { TaskBuilder, unpackTask, type VerifyTask } from './signature-task.js';

export type { SignatureCheck } from '../protocol/index.js';

/**
 * The bytes a worker gets for the events `[first, last)` of a batch: their texts copied into
 * one buffer, spans rebased. A text longer than the reader's limit is copied only up to one
 * byte past it: the reader's verdict on such a text is ERR_TOO_LARGE from its length alone,
 * before it reads anything (§3.4), so the verdict is the same and an oversized element (a
 * 16 MiB body holding one "event") is never copied whole.
 */
function chunkTask(
  batch: EventTextBatch,
  first: number,
  last: number,
): { data: Uint8Array; spans: Uint32Array } {
  const { bytes, spans } = batch;
  const cap = MAX_EVENT_JSON_BYTES + 1;
  let total = 0;
  for (let i = first; i < last; i++)
    total += Math.min(cap, (spans[2 * i + 1] as number) - (spans[2 * i] as number));
  const data = new Uint8Array(total);
  const out = new Uint32Array(2 * (last - first));
  let at = 0;
  for (let i = first; i < last; i++) {
    const start = spans[2 * i] as number;
    const end = Math.min(spans[2 * i + 1] as number, start + cap);
    data.set(bytes.subarray(start, end), at);
    out[2 * (i - first)] = at;
    at += end - start;
    out[2 * (i - first) + 1] = at;
  }
  return { data, spans: out };
}

/**
 * The default number of worker threads: one per core but one, and one per core on one or two
 * cores. The calling thread is not idle while the workers run: it answers HTTP, splits bodies,
 * checks replays and commits (SQLite, audit hashing). With many cores the workers left beside
 * it outrun it anyway. With two, one worker left a core idle whenever one stage waited for the
 * other: once the commit stopped waiting for the disk (its fsync runs off the main thread) and
 * the main thread's cost per event fell below 20 µs, two workers ingested 40,262 events/s
 * against 35,306-36,379 with one (2 cores, 9 rounds, `npm run bench:ingest`); before that, two
 * ingested 5-15% slower than one.
 */
export function defaultWorkerThreads(cores: number = availableParallelism()): number {
  return cores <= 2 ? Math.max(1, cores) : cores - 1;
}

/** Packs checks into one transferable batch for {@link VerifyPool.verifyTask}. */
export function packChecks(checks: readonly SignatureCheck[]): VerifyTask {
  let bytes = 0;
  for (const c of checks) bytes += c.message.length;
  const builder = new TaskBuilder(checks.length, bytes);
  for (const c of checks) builder.add(c.publicKey, c.message, c.signature);
  return builder.task;
}

export type { VerifyTask } from './signature-task.js';

export interface VerifyPoolOptions {
  /** Worker threads; 0 verifies on the calling thread. Default {@link defaultWorkerThreads}. */
  threads?: number;
  /** Below this many items a batch is not split across threads. */
  minChunk?: number;
  /** The crypto backend of the workers (default: what `loadCore()` picks, or COMMONS_SYNC_BACKEND). */
  backend?: Backend;
}

export class VerifyPool {
  readonly threads: number;
  private readonly minChunk: number;

  private constructor(
    private readonly pool: WorkerPool | undefined,
    private readonly inline: Core | undefined,
    threads: number,
    minChunk: number,
  ) {
    this.threads = threads;
    this.minChunk = minChunk;
  }

  static async create(opts: VerifyPoolOptions = {}): Promise<VerifyPool> {
    const threads = opts.threads ?? defaultWorkerThreads();
    const minChunk = opts.minChunk ?? 64;
    const backend = opts.backend === undefined ? {} : { backend: opts.backend };
    if (threads === 0) return new VerifyPool(undefined, await loadCore(backend), 0, minChunk);
    // verify-worker.ts from source, verify-worker.js when this module is compiled
    const pool = new WorkerPool(siblingModule(import.meta.url, 'verify-worker'), {
      threads,
      // the workers pick their backend as loadCore does: from the environment
      ...(opts.backend === undefined
        ? {}
        : { env: { ...process.env, COMMONS_SYNC_BACKEND: opts.backend } }),
    });
    return new VerifyPool(pool, undefined, threads, minChunk);
  }

  /** One verdict per check, in order. Keys must be 32 bytes and signatures 64 (the parser
   * guarantees it; anything else is not a signature and never reaches the pool). */
  async verify(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    if (checks.length === 0) return [];
    const chunks = Math.max(1, Math.min(this.threads, Math.floor(checks.length / this.minChunk)));
    const size = Math.ceil(checks.length / chunks);
    const parts: Promise<Uint8Array>[] = [];
    for (let start = 0; start < checks.length; start += size) {
      parts.push(this.run(checks.slice(start, start + size)));
    }
    const out: boolean[] = [];
    for (const verdicts of await Promise.all(parts)) for (const v of verdicts) out.push(v === 1);
    return out;
  }

  /**
   * Runs the stateless validation steps (pipeline/prepare.ts) over the events of `batch`, split
   * into one chunk per thread; the chunks come back in order. Each event's JSON text reaches the
   * reader exactly as it is in `batch.bytes`.
   */
  async prepare(batch: EventTextBatch, ctx: PrepareContext): Promise<PreparedChunk> {
    if (this.inline) return prepareChunk(this.inline, batch.bytes, batch.spans, ctx);
    const count = batchSize(batch);
    const chunks = Math.max(1, Math.min(this.threads, Math.floor(count / this.minChunk)));
    const size = Math.ceil(count / chunks);
    const parts: Promise<PackedChunk>[] = [];
    for (let first = 0; first < count; first += size) {
      // A chunk crosses as two transferred buffers (texts and spans), not as cloned objects.
      const { data, spans } = chunkTask(batch, first, Math.min(count, first + size));
      const task: PrepareTask = { data, spans, ctx };
      const transferList = [data.buffer, spans.buffer] as ArrayBuffer[];
      parts.push(
        (this.pool as WorkerPool).run<PackedChunk>(task, { name: 'prepare', transferList }),
      );
    }
    // each chunk's results came back as one transferred buffer: its events are views of it
    const done = (await Promise.all(parts)).map(unpackChunk);
    return {
      events: done.flatMap((d) => d.events),
      parseMs: done.reduce((t, d) => t + d.parseMs, 0),
      verifyMs: done.reduce((t, d) => t + d.verifyMs, 0),
    };
  }

  private run(checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    return this.verifyTask(packChecks(checks));
  }

  /**
   * Verifies one batch packed by {@link packChecks} on a free worker (its buffer is transferred:
   * the task is spent). One verdict byte per check. The packing is the caller's, so a benchmark
   * can time the workers alone.
   */
  verifyTask(task: VerifyTask): Promise<Uint8Array> {
    if (this.inline) return Promise.resolve(this.inline.ed25519VerifyBatchPacked(unpackTask(task)));
    return (this.pool as WorkerPool).run<Uint8Array>(task, { transferList: [task.buffer] });
  }

  /** The URL of the module the workers run (undefined when verifying inline). */
  async workerModule(): Promise<string | undefined> {
    return this.pool?.run<string>(null, { name: 'moduleUrl' });
  }

  /** Tasks waiting for a free worker, for overload decisions and metrics. */
  get queued(): number {
    return this.pool?.queued ?? 0;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
