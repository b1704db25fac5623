/**
 * The WAL checkpoint off the main thread.
 *
 * Why: SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the
 * connection that committed: the node's main thread stalled ~70 ms every ~40,000 events (the
 * copy of ~16,000 pages and the database file's fsync), answering nothing meanwhile. Here a
 * thread with its own connection (checkpoint-worker.ts) copies the frames, with PASSIVE
 * checkpoints that never block the writer.
 *
 * The trap: SQLite restarts the WAL from its start only when a transaction begins after every
 * frame was copied. So a round does not stop after one pass: it runs passes until it caught up
 * (each pass copies what was committed during the one before, far less than the first), and the
 * next commit then restarts the WAL. Should a round not catch up (commits faster than the disk),
 * the main connection's own automatic checkpoint stays as a backstop at a higher threshold
 * (`backstopPages`): it then copies only what the thread did not, and the WAL restarts, so the
 * WAL file stays bounded either way (`journal_size_limit` in db.ts trims it). A round ends when
 * it finds the WAL past the backstop: SQLite's automatic checkpoint gives up silently when
 * another one holds the lock, and a round chasing commits would hold it for long.
 *
 * When: after each commit the main thread reads how far the WAL is ahead of the database file
 * from the WAL index (the `-shm` file's header, SQLite's documented format: `mxFrame` at byte
 * 16, `nBackfill` at byte 96; one 100-byte read, no lock: a torn read only delays a round).
 * One round runs at a time.
 *
 * A failed round is final, as a failed WAL sync is (wal-sync.ts): `onFailure` gets a typed
 * storage error, the store refuses every write after it and no round starts again.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';

import { siblingModule, WorkerPool } from '../pool/worker-pool.js';
import type { RoundResult, RoundTask } from './checkpoint-worker.js';
import { StorageIoError } from './errors.js';

export type { RoundResult, RoundTask } from './checkpoint-worker.js';

/** Runs one checkpoint round (default: on the checkpoint thread; tests inject failures). */
export type RoundRunner = (task: RoundTask) => Promise<RoundResult>;

export interface CheckpointerOptions {
  /** A round starts once this many WAL frames (pages) are not yet copied (default 4,096: 16 MiB). */
  readonly thresholdPages?: number;
  /**
   * The main connection's own automatic checkpoint, the backstop for rounds that cannot catch
   * up (default 16,384 pages, 64 MiB of WAL).
   */
  readonly backstopPages?: number;
  /** Passes in one round at most (default 32). */
  readonly maxPasses?: number;
  /** Runs a round (default: the checkpoint thread). */
  readonly runRound?: RoundRunner;
}

export const DEFAULT_CHECKPOINT_THRESHOLD_PAGES = 4096;
export const DEFAULT_CHECKPOINT_BACKSTOP_PAGES = 16384;

/** What the checkpoint thread did so far (tests, the benchmark). */
export interface CheckpointStats {
  readonly rounds: number;
  readonly passes: number;
  /** Rounds that copied every frame (the next commit restarted the WAL). */
  readonly caughtUp: number;
  /** Milliseconds the thread spent in rounds. */
  readonly ms: number;
  /** The most frames the WAL held after a commit (from the WAL index). */
  readonly maxWalFrames: number;
  /** Threads that ran rounds. */
  readonly threads: ReadonlySet<number>;
  /** Whether a round is running now. */
  readonly running: boolean;
}

const WAL_INDEX_BYTES = 100;
const MX_FRAME_OFFSET = 16;
const N_BACKFILL_OFFSET = 96;

export class Checkpointer {
  readonly #path: string;
  readonly #threshold: number;
  readonly #maxPasses: number;
  readonly #onFailure: (error: StorageIoError) => void;
  readonly #pool: WorkerPool | undefined;
  readonly #run: RoundRunner;
  readonly #walIndex = Buffer.alloc(WAL_INDEX_BYTES);
  readonly #littleEndian = endianness() === 'LE';
  #shmFd: number | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;
  #failed = false;
  #stats = { rounds: 0, passes: 0, caughtUp: 0, ms: 0, maxWalFrames: 0 };
  readonly #threads = new Set<number>();

  /** The backstop the main connection's `wal_autocheckpoint` is set to. */
  readonly backstopPages: number;

  constructor(
    dbPath: string,
    options: CheckpointerOptions,
    onFailure: (error: StorageIoError) => void,
  ) {
    this.#path = dbPath;
    this.#threshold = positive(
      options.thresholdPages ?? DEFAULT_CHECKPOINT_THRESHOLD_PAGES,
      'thresholdPages',
    );
    this.backstopPages = positive(
      options.backstopPages ?? DEFAULT_CHECKPOINT_BACKSTOP_PAGES,
      'backstopPages',
    );
    if (this.backstopPages <= this.#threshold)
      throw new RangeError('the checkpoint backstop must be above the threshold');
    this.#maxPasses = positive(options.maxPasses ?? 32, 'maxPasses');
    this.#onFailure = onFailure;
    if (options.runRound === undefined) {
      const pool = new WorkerPool(siblingModule(import.meta.url, 'checkpoint-worker'), {
        threads: 1,
      });
      this.#pool = pool;
      this.#run = (task) => pool.run<RoundResult>(task);
    } else {
      this.#run = options.runRound;
    }
  }

  get stats(): CheckpointStats {
    return { ...this.#stats, threads: new Set(this.#threads), running: this.running };
  }

  /** Whether a round is running. */
  get running(): boolean {
    return this.#round !== undefined;
  }

  /** A commit returned: starts a round if the WAL is far enough ahead and none runs. */
  afterCommit(): void {
    if (this.#stopped || this.#failed) return;
    const behind = this.#framesBehind();
    if (behind === undefined || behind < this.#threshold || this.#round !== undefined) return;
    this.#round = this.#startRound().finally(() => {
      this.#round = undefined;
    });
  }

  /**
   * Waits for the round under way, closes the thread's connection and ends the thread. No
   * round starts after it. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#round;
    if (this.#shmFd !== undefined) closeSync(this.#shmFd);
    this.#shmFd = undefined;
    if (this.#pool !== undefined) {
      try {
        await this.#pool.run(undefined, { name: 'close' });
      } finally {
        await this.#pool.close();
      }
    }
  }

  /** WAL frames not yet copied into the database file, from the WAL index; undefined if unread. */
  #framesBehind(): number | undefined {
    try {
      this.#shmFd ??= openSync(`${this.#path}-shm`, 'r');
      if (readSync(this.#shmFd, this.#walIndex, 0, WAL_INDEX_BYTES, 0) < WAL_INDEX_BYTES)
        return undefined;
    } catch {
      return undefined; // no WAL index yet: nothing to copy
    }
    const read = (offset: number) =>
      this.#littleEndian
        ? this.#walIndex.readUInt32LE(offset)
        : this.#walIndex.readUInt32BE(offset);
    const frames = read(MX_FRAME_OFFSET);
    if (frames > this.#stats.maxWalFrames) this.#stats.maxWalFrames = frames;
    return Math.max(0, frames - read(N_BACKFILL_OFFSET));
  }

  async #startRound(): Promise<void> {
    let result: RoundResult;
    try {
      result = await this.#run({
        path: this.#path,
        maxPasses: this.#maxPasses,
        backstopPages: this.backstopPages,
      });
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#stats.rounds += 1;
    this.#stats.passes += result.passes;
    this.#stats.ms += result.ms;
    if (result.caughtUp) this.#stats.caughtUp += 1;
    this.#threads.add(result.threadId);
    if (result.error !== undefined) {
      this.#fail(Object.assign(new Error(result.error.message), { code: result.error.code }));
    }
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : String(error);
    this.#onFailure(
      new StorageIoError(
        `the background WAL checkpoint of ${this.#path} failed: ${message}` +
          `${typeof code === 'string' ? ` (${code})` : ''}; the store writes nothing more, restart the node`,
        { cause: error },
      ),
    );
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}
