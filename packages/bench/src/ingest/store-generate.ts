/**
 * Builds the held-at-scale store (`--store-size N`) directly: the bench's factory makes and
 * signs the events (in worker threads: signing and encoding cost more than storing), and the
 * node's bulk loader (`BulkLoader`, packages/node/src/bulk-load.ts) writes them with the node's
 * own storage code, batch by batch as ingest commits them, with the node's checkpoints. What it
 * skips is HTTP, the JSON reader and verification. `test/store-generate-matches-ingest.test.ts`
 * compares a generated store with one built over HTTP, table by table, and runs `audit verify`.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import { type BulkEvent, BulkLoader, initDataDir } from '@commons-sync/node';

import type { BatchRequest, EventFactory } from './events.js';
import { BENCH_PASSPHRASE } from './node-process.js';

export interface GenerateOptions {
  /** Events per batch, as ingest would commit them (default 1,000, the node's batch). */
  readonly batch?: number;
  /** Unix milliseconds for the node's clock (default `Date.now`, read once per batch). */
  readonly now?: () => number;
  /** Event index of the first event (a factory's events are numbered). */
  readonly first?: number;
  /** Checkpoint every this many entries (default: the node's 10,000). */
  readonly checkpointEvery?: number;
  /**
   * Signing threads (default: the cores, at most 4). 0 signs on this thread: needed where
   * worker threads cannot load the compiled module (the tests run the TypeScript source).
   */
  readonly threads?: number;
  /** Called after every batch with the events stored so far. */
  readonly progress?: (stored: number) => void;
}

interface Reply {
  readonly seq: number;
  readonly events: BulkEvent[];
}

/** Makes batches on worker threads, handing them back in order, a few ahead. */
class SigningThreads {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, (events: BulkEvent[]) => void>();
  readonly #ready = new Map<number, BulkEvent[]>();
  #failed: Error | undefined;

  constructor(threads: number, label: string) {
    const url = new URL('./store-generate-worker.js', import.meta.url);
    this.#workers = Array.from({ length: threads }, () => {
      const w = new Worker(url, { workerData: { label } });
      w.on('message', (r: Reply) => {
        const resolve = this.#waiting.get(r.seq);
        if (resolve === undefined) this.#ready.set(r.seq, r.events);
        else {
          this.#waiting.delete(r.seq);
          resolve(r.events);
        }
      });
      w.on('error', (e) => {
        this.#failed = e;
        for (const resolve of this.#waiting.values()) resolve([]);
      });
      return w;
    });
  }

  request(req: BatchRequest): void {
    (this.#workers[req.seq % this.#workers.length] as Worker).postMessage(req);
  }

  async take(seq: number): Promise<BulkEvent[]> {
    const ready = this.#ready.get(seq);
    const events =
      ready ?? (await new Promise<BulkEvent[]>((resolve) => this.#waiting.set(seq, resolve)));
    this.#ready.delete(seq);
    if (this.#failed !== undefined) throw this.#failed;
    return events;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/**
 * Initializes `dir` (a new data directory: the loader refuses one a node has opened) and
 * stores events `[first, first + count)` of the factory labelled `label`.
 */
export async function generateStore(
  dir: string,
  factory: EventFactory,
  count: number,
  opts: GenerateOptions = {},
): Promise<void> {
  await initDataDir(dir, BENCH_PASSPHRASE);
  const now = opts.now ?? Date.now;
  const size = opts.batch ?? 1000;
  const first = opts.first ?? 0;
  const batches = Math.ceil(count / size);
  const threads = opts.threads ?? Math.min(availableParallelism(), 4);
  const loader = await BulkLoader.open({
    dataDir: dir,
    passphrase: BENCH_PASSPHRASE,
    now,
    ...(opts.checkpointEvery === undefined ? {} : { checkpointEvery: opts.checkpointEvery }),
  });
  const signing = threads > 0 ? new SigningThreads(threads, factory.label) : undefined;
  const request = (seq: number): BatchRequest => ({
    seq,
    first: first + seq * size,
    count: Math.min(size, count - seq * size),
    now: Math.floor(now() / 1000),
  });
  try {
    // a few batches ahead per thread, so that signing and storing overlap
    const ahead = Math.min(batches, threads * 4);
    for (let seq = 0; seq < ahead; seq++) signing?.request(request(seq));
    for (let seq = 0; seq < batches; seq++) {
      let events: BulkEvent[];
      if (signing === undefined) {
        const r = request(seq);
        events = factory.bulkEvents(r.first, r.count, r.now);
      } else {
        events = await signing.take(seq);
        if (seq + ahead < batches) signing.request(request(seq + ahead));
      }
      await loader.append(events);
      opts.progress?.(Math.min(count, (seq + 1) * size));
    }
  } finally {
    await signing?.close();
    await loader.close();
  }
}
