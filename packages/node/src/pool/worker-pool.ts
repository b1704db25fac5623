/**
 * The node's one place for threads: a generic piscina executor. It knows nothing of events or
 * signatures; the layer above hands it a worker module and tasks (pipeline/verify-pool.ts).
 *
 * A worker module is named next to its caller with the caller's own extension
 * ({@link siblingModule}): compiled code (dist/, `.js`) runs compiled workers, and source
 * (`.ts`, under vitest or tsx) runs the worker's source through tsx's loader
 * (source-worker.mjs). Tests therefore never run a stale build of a worker, and a build never
 * runs source.
 */
import { fileURLToPath } from 'node:url';

import { Piscina } from 'piscina';

/** `./name.ts` beside a `.ts` caller, `./name.js` beside a compiled one. */
export function siblingModule(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}

/** Loads a TypeScript worker module in each thread and dispatches `{ name, task }` to it. */
const SOURCE_WORKER = new URL('./source-worker.mjs', import.meta.url);

/** Tasks handed to a worker before it finished the ones it holds (see the constructor). */
export const TASKS_PER_THREAD = 4;

export interface WorkerPoolOptions {
  /** Worker threads, at least 1 (all started at once and kept). */
  readonly threads: number;
  /** The workers' environment (default: this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface RunOptions {
  /** The worker module's export to call (default: its default export). */
  readonly name?: string;
  /** Buffers moved to the worker instead of copied. */
  readonly transferList?: readonly ArrayBuffer[];
}

export class WorkerPool {
  readonly threads: number;
  /** The module every worker runs. */
  readonly module: URL;
  readonly #piscina: Piscina;
  /** Whether tasks go through source-worker.mjs (which needs the export's name in the task). */
  readonly #fromSource: boolean;

  constructor(module: URL, opts: WorkerPoolOptions) {
    if (!Number.isSafeInteger(opts.threads) || opts.threads < 1) {
      throw new RangeError(`a worker pool needs at least one thread, got ${opts.threads}`);
    }
    this.threads = opts.threads;
    this.module = module;
    this.#fromSource = module.pathname.endsWith('.ts');
    this.#piscina = new Piscina({
      filename: fileURLToPath(this.#fromSource ? SOURCE_WORKER : module),
      ...(this.#fromSource ? { workerData: { source: module.href } } : {}),
      minThreads: opts.threads,
      maxThreads: opts.threads,
      // Up to TASKS_PER_THREAD tasks wait in each worker's own queue, so a worker starts its
      // next task the moment it finishes one. With one task per worker the next was handed
      // over by the main thread only after it read the result, and the main thread is often
      // busy (a commit's fsync, HTTP) while a worker idles: on the 2-core machine one worker
      // was busy about a third of the time while the main thread committed, and 2 threads
      // verified 1.2-1.75x what one did. A worker runs its tasks one after the other.
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      idleTimeout: 60_000,
      ...(opts.env === undefined ? {} : { env: { ...opts.env } as Record<string, string> }),
    });
  }

  /** Runs one task on a free worker (queued while none is free). */
  run<R>(task: unknown, opts: RunOptions = {}): Promise<R> {
    const transfer =
      opts.transferList === undefined ? {} : { transferList: [...opts.transferList] };
    if (this.#fromSource) {
      return this.#piscina.run({ name: opts.name ?? 'default', task }, transfer) as Promise<R>;
    }
    return this.#piscina.run(task, {
      ...(opts.name === undefined ? {} : { name: opts.name }),
      ...transfer,
    }) as Promise<R>;
  }

  /** Tasks waiting for a worker that can take them (not those in a worker's own queue). */
  get queued(): number {
    return this.#piscina.queueSize;
  }

  async close(): Promise<void> {
    await this.#piscina.destroy();
  }
}
