/**
 * The start-up check: what is cheap to hold against its source at the end of the log, before
 * the node takes any event (issue 6). A full check of every row is `audit verify`'s job.
 *
 * - The last `events` accepted events: looking each up by id finds its row (else the id index
 *   is rebuilt with REINDEX, which derives it from the table, and checked again); each one whose
 *   replay record may still be needed (expires_at ≥ now − skew) has a record pointing at it: a
 *   missing or stray one is restored from the event, unless the pair is held by another live
 *   event (two live events on one pair break §7: refuse).
 * - The last `checkpoints` checkpoints: numbered without gaps, signatures and chain links
 *   valid, and a version 2 checkpoint recorded by its log entry.
 *
 * Whatever it cannot repair safely is a {@link StoreInconsistentError}.
 */
import type { Core } from '@commons-sync/bindings';
import type { Database } from 'better-sqlite3';

import {
  type Checkpoint,
  checkpointEntryDetail,
  checkpointHash,
  parseCheckpointEntryDetail,
  verifyCheckpointSignature,
  ZERO_HASH,
} from '../audit/checkpoint.js';
import { packReplayKeyInputs, REPLAY_KEY_BYTES } from '../audit/event-row.js';
import type { Sha256 } from '../audit/merkle.js';
import { StoreInconsistentError } from './errors.js';

export interface TailCheckOptions {
  /** Unix seconds. */
  readonly now: number;
  /** The clock-skew allowance: records are kept until expires_at + skew. */
  readonly skewSeconds: number;
  /** How many of the newest events to check (default 10,000). */
  readonly events?: number;
  /** How many of the newest checkpoints to check (default 16). */
  readonly checkpoints?: number;
}

export interface TailCheckReport {
  readonly eventsChecked: number;
  readonly replayRestored: number;
  readonly reindexed: boolean;
  readonly checkpointsChecked: number;
  /** Events older than those checked: their rows are left to `audit verify`. */
  readonly eventsLeft: number;
}

interface TailEvent {
  seq: number;
  id: Uint8Array;
  author: string;
  nonce: Uint8Array;
  expires_at: number;
}

/** How far back from the end of the log the newest checkpoint entry is looked for. */
const CHECKPOINT_ENTRY_SCAN = 50_000;

const same = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(a, b) === 0;

export function checkTail(
  db: Database,
  core: Core,
  sha256: Sha256,
  opts: TailCheckOptions,
): TailCheckReport {
  const n = opts.events ?? 10_000;
  const tail = db
    .prepare('SELECT seq, id, author, nonce, expires_at FROM events ORDER BY seq DESC LIMIT ?')
    .all(n) as TailEvent[];
  const total = db.prepare('SELECT count(*) FROM events').pluck().get() as number;

  const bySeq = db.prepare('SELECT seq FROM events WHERE id = ?').pluck();
  const indexAgrees = (): boolean => tail.every((e) => bySeq.get(e.id) === e.seq);
  let reindexed = false;
  if (!indexAgrees()) {
    db.exec('REINDEX events');
    reindexed = true;
    if (!indexAgrees())
      throw new StoreInconsistentError(
        'the events.id index disagrees with the events table even after REINDEX',
      );
  }

  const keys = sha256Keys(sha256, tail);
  const record = db.prepare('SELECT event_seq FROM replay WHERE key = ?').pluck();
  const holder = db.prepare('SELECT author, nonce, expires_at FROM events WHERE seq = ?');
  const restore = db.prepare(
    `INSERT INTO replay (key, event_seq, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET event_seq = excluded.event_seq, expires_at = excluded.expires_at`,
  );
  const cutoff = opts.now - opts.skewSeconds;
  let restored = 0;
  db.transaction(() => {
    tail.forEach((e, i) => {
      if (e.expires_at < cutoff) return;
      const key = keys[i] as Uint8Array;
      const at = record.get(key) as number | undefined;
      if (at === e.seq) return;
      if (at !== undefined) {
        const other = holder.get(at) as
          | { author: string; nonce: Uint8Array; expires_at: number }
          | undefined;
        if (
          other !== undefined &&
          other.author === e.author &&
          same(other.nonce, e.nonce) &&
          other.expires_at >= cutoff
        ) {
          throw new StoreInconsistentError(
            `events ${at} and ${e.seq} share (author, nonce) and are both live`,
          );
        }
      }
      restore.run(key, e.seq, e.expires_at);
      restored++;
    });
  }).immediate();

  const checkpointsChecked = checkCheckpointTail(db, core, sha256, opts.checkpoints ?? 16);
  return {
    eventsChecked: tail.length,
    replayRestored: restored,
    reindexed,
    checkpointsChecked,
    eventsLeft: total - tail.length,
  };
}

function sha256Keys(sha256: Sha256, events: readonly TailEvent[]): Uint8Array[] {
  return events.map((e) =>
    sha256(packReplayKeyInputs([{ author: e.author, nonce: e.nonce }]).data).subarray(
      0,
      REPLAY_KEY_BYTES,
    ),
  );
}

interface CheckpointRow {
  seq: number;
  version: number;
  tree_size: number;
  root: Uint8Array;
  time: number;
  public_key: Uint8Array;
  signature: Uint8Array;
  prev_hash: Uint8Array | null;
}

function toCheckpoint(r: CheckpointRow): Checkpoint {
  return {
    version: r.version === 2 ? 2 : 1,
    seq: r.seq,
    treeSize: r.tree_size,
    root: r.root,
    time: r.time,
    publicKey: r.public_key,
    prev: r.prev_hash,
    signature: r.signature,
  };
}

function checkCheckpointTail(db: Database, core: Core, sha256: Sha256, m: number): number {
  const rows = (
    db.prepare('SELECT * FROM checkpoints ORDER BY seq DESC LIMIT ?').all(m + 1) as CheckpointRow[]
  ).reverse();
  const count = db.prepare('SELECT count(*) FROM checkpoints').pluck().get() as number;
  const max = rows.length === 0 ? 0 : (rows[rows.length - 1] as CheckpointRow).seq;
  if (max !== count)
    throw new StoreInconsistentError(
      `the checkpoints are numbered up to ${max} but ${count} are stored`,
    );
  // The newest checkpoint entry of the log names a stored checkpoint (the last row deleted?).
  const newest = db
    .prepare(
      `SELECT seq, detail FROM (SELECT seq, type, detail FROM audit_entries ORDER BY seq DESC LIMIT ?) WHERE type = 'checkpoint' LIMIT 1`,
    )
    .get(CHECKPOINT_ENTRY_SCAN) as { seq: number; detail: string } | undefined;
  const named = newest === undefined ? undefined : parseCheckpointEntryDetail(newest.detail);
  if (newest !== undefined && (named === undefined || named.seq > max)) {
    throw new StoreInconsistentError(
      `audit entry ${newest.seq} records a checkpoint that is not stored`,
    );
  }
  const entry = db
    .prepare("SELECT detail FROM audit_entries WHERE seq = ? AND type = 'checkpoint'")
    .pluck();
  const cps = rows.map(toCheckpoint);
  cps.forEach((cp, i) => {
    const before = i === 0 ? undefined : cps[i - 1];
    if (before !== undefined && cp.seq !== before.seq + 1)
      throw new StoreInconsistentError(`checkpoint ${before.seq + 1} is missing`);
    if (!verifyCheckpointSignature(core, cp))
      throw new StoreInconsistentError(`checkpoint ${cp.seq} does not verify`);
    if (cp.version !== 2) return;
    if (before !== undefined || cp.seq === 1) {
      const prev = before === undefined ? ZERO_HASH : checkpointHash(sha256, before);
      if (!same(cp.prev as Uint8Array, prev))
        throw new StoreInconsistentError(`checkpoint ${cp.seq} does not chain to the one before`);
    }
    if (entry.get(cp.treeSize) !== checkpointEntryDetail(cp.seq, checkpointHash(sha256, cp))) {
      throw new StoreInconsistentError(
        `checkpoint ${cp.seq} is not the one its log entry recorded`,
      );
    }
  });
  return Math.min(cps.length, m);
}
