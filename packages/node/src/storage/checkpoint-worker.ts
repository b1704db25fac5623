/**
 * The body of the store's checkpoint thread (run by the generic pool/worker-pool.ts, one
 * thread; storage/checkpointer.ts says why it exists). The thread owns a connection of its own
 * to the database and only ever runs `PRAGMA wal_checkpoint(PASSIVE)` on it: it copies
 * committed WAL frames into the database file while the main connection goes on committing.
 *
 * `synchronous = FULL` on this connection is what makes its checkpoints safe: SQLite syncs the
 * WAL before it copies a frame (so no page of a commit that could still be lost reaches the
 * database file) and syncs the database file before it records the frames as copied (so the
 * WAL is never restarted over a page that is not on disk). With OFF it would do neither.
 *
 * Errors come back as values (SQLite's code and message): an Error crossing the thread
 * boundary loses its `code`.
 */
import { threadId } from 'node:worker_threads';

import Database from 'better-sqlite3';

export interface RoundTask {
  /** The database file. */
  readonly path: string;
  /** At most this many checkpoint passes in this round. */
  readonly maxPasses: number;
  /**
   * The main connection's backstop (its `wal_autocheckpoint`): a round that finds the WAL this
   * long ends, so that the next commit's own checkpoint gets the lock, copies the few frames
   * left and the WAL restarts (a round holding the lock would make it give up).
   */
  readonly backstopPages: number;
}

export interface RoundResult {
  /** The thread that ran the round (the tests check it is not the main one). */
  readonly threadId: number;
  /** Passes run (each one `wal_checkpoint(PASSIVE)`). */
  readonly passes: number;
  /** Frames in the WAL and frames copied into the database, after the last pass. */
  readonly walFrames: number;
  readonly copiedFrames: number;
  /** Every frame of the WAL was copied: the next commit restarts the WAL from its start. */
  readonly caughtUp: boolean;
  /** Another checkpoint (the main connection's backstop) held the checkpoint lock. */
  readonly busy: boolean;
  readonly ms: number;
  /** SQLite's failure, when the round failed. */
  readonly error?: { readonly code: string; readonly message: string };
}

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

let db: Database.Database | undefined;
let dbPath: string | undefined;

function connection(path: string): Database.Database {
  if (db !== undefined && dbPath === path) return db;
  db?.close();
  db = undefined;
  const opened = new Database(path, { fileMustExist: true, timeout: 5000 });
  try {
    opened.pragma('synchronous = FULL');
    // this connection never writes a transaction; should it, it must not checkpoint inline
    opened.pragma('wal_autocheckpoint = 0');
  } catch (error) {
    opened.close();
    throw error;
  }
  db = opened;
  dbPath = path;
  return opened;
}

/**
 * One round: passes until one finds every frame of the WAL copied and none added since the
 * pass before, another checkpoint holds the lock, the WAL reached the backstop, or `maxPasses`. Commits go on meanwhile;
 * each later pass copies only what was committed during the one before.
 */
export default function checkpointRound(task: RoundTask): RoundResult {
  const start = performance.now();
  let passes = 0;
  let row: CheckpointRow = { busy: 0, log: 0, checkpointed: 0 };
  try {
    const conn = connection(task.path);
    let seen = -1;
    while (passes < task.maxPasses) {
      row = (conn.pragma('wal_checkpoint(PASSIVE)') as CheckpointRow[])[0] as CheckpointRow;
      passes += 1;
      if (row.busy !== 0 || row.log >= task.backstopPages) break;
      // a pass copies the frames there were when it began; if commits added some meanwhile,
      // the next pass copies those (one that finds nothing new costs no sync: SQLite skips it)
      if (row.log === row.checkpointed && row.log === seen) break;
      seen = row.log;
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      threadId,
      passes,
      walFrames: row.log,
      copiedFrames: row.checkpointed,
      caughtUp: false,
      busy: false,
      ms: performance.now() - start,
      error: {
        code: typeof code === 'string' ? code : 'ERR_UNKNOWN',
        message: error instanceof Error ? error.message : String(error),
      },
    };
  }
  return {
    threadId,
    passes,
    walFrames: row.log,
    copiedFrames: row.checkpointed,
    caughtUp: row.busy === 0 && row.log === row.checkpointed,
    busy: row.busy !== 0,
    ms: performance.now() - start,
  };
}

/** Closes this thread's connection (before the pool ends the thread). */
export function close(): void {
  db?.close();
  db = undefined;
  dbPath = undefined;
}
