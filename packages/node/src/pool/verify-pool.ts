/**
 * The node's one place for concurrency: a piscina pool of signature-verification workers.
 * A batch of items is split into one chunk per thread (each chunk still a batch, since a worker
 * round trip costs about as much as one signature check), packed into a single transferable
 * buffer per chunk, and the per-item verdicts are stitched back in order.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

import { type Core, loadCore } from '@commons-sync/bindings';
import { Piscina } from 'piscina';

import { prepareChunk, type PrepareContext, type PreparedChunk, type PrepareTask } from '../pipeline/prepare.js';
import { TaskBuilder, type VerifyTask, unpackTask } from './task.js';

export interface SignatureCheck {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/**
 * The JSON text of an array of inputs, as the workers receive it (and the inline path too, so
 * both see the same values). Inputs are meant to be JSON values; anything else is what
 * JSON.stringify makes of it, and an input it cannot serialize (a BigInt, a cycle) becomes a
 * string, which validation rejects as malformed.
 */
function jsonArray(inputs: readonly unknown[]): string {
  const parts = inputs.map((input) => {
    try {
      return JSON.stringify(input) ?? 'null';
    } catch {
      return '"not serializable as JSON"';
    }
  });
  return `[${parts.join(',')}]`;
}

export interface VerifyPoolOptions {
  /** Worker threads; 0 verifies on the calling thread. Defaults to the core count. */
  threads?: number;
  /** Below this many items a batch is not split across threads. */
  minChunk?: number;
}

export class VerifyPool {
  readonly threads: number;
  private readonly minChunk: number;

  private constructor(
    private readonly pool: Piscina | undefined,
    private readonly inline: Core | undefined,
    threads: number,
    minChunk: number,
  ) {
    this.threads = threads;
    this.minChunk = minChunk;
  }

  static async create(opts: VerifyPoolOptions = {}): Promise<VerifyPool> {
    const threads = opts.threads ?? availableParallelism();
    const minChunk = opts.minChunk ?? 64;
    if (threads === 0) return new VerifyPool(undefined, await loadCore(), 0, minChunk);
    // Workers run compiled JavaScript: from dist/ when this module is itself compiled, and
    // from the package's dist/ when it runs from source under vitest or tsx.
    const fromSource = import.meta.url.endsWith('.ts');
    const worker = fromSource ? '../../dist/pool/verify-worker.js' : './verify-worker.js';
    const pool = new Piscina({
      filename: fileURLToPath(new URL(worker, import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
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
   * Runs the stateless validation steps (pipeline/prepare.ts) over `inputs`, split into one
   * chunk per thread; the chunks come back in order.
   */
  async prepare(inputs: readonly unknown[], ctx: PrepareContext): Promise<PreparedChunk> {
    if (this.inline) return prepareChunk(this.inline, JSON.parse(jsonArray(inputs)) as unknown[], ctx);
    const chunks = Math.max(1, Math.min(this.threads, Math.floor(inputs.length / this.minChunk)));
    const size = Math.ceil(inputs.length / chunks);
    const parts: Promise<PreparedChunk>[] = [];
    for (let start = 0; start < inputs.length; start += size) {
      // A chunk crosses as one transferred buffer of JSON text, not as cloned objects.
      const text = Buffer.from(jsonArray(inputs.slice(start, start + size)));
      const json = text.buffer.slice(text.byteOffset, text.byteOffset + text.byteLength);
      const task: PrepareTask = { json, ctx };
      parts.push((this.pool as Piscina).run(task, { name: 'prepare', transferList: [json] }) as Promise<PreparedChunk>);
    }
    const done = await Promise.all(parts);
    return {
      events: done.flatMap((d) => d.events),
      parseMs: done.reduce((t, d) => t + d.parseMs, 0),
      verifyMs: done.reduce((t, d) => t + d.verifyMs, 0),
    };
  }

  private run(checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    let bytes = 0;
    for (const c of checks) bytes += c.message.length;
    const builder = new TaskBuilder(checks.length, bytes);
    for (const c of checks) builder.add(c.publicKey, c.message, c.signature);
    const task: VerifyTask = builder.task;
    if (this.inline) return Promise.resolve(this.inline.ed25519VerifyBatchPacked(unpackTask(task)));
    const pool = this.pool as Piscina;
    return pool.run(task, { transferList: [task.buffer] }) as Promise<Uint8Array>;
  }

  /** Tasks waiting for a free worker, for overload decisions and metrics. */
  get queued(): number {
    return this.pool?.queueSize ?? 0;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
