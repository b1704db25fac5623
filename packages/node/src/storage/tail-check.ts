/**
 * The start-up check: what is cheap to hold against its source at the end of the log, before
 * the node takes any event (issue 6). A full check of every row is `audit verify`'s job.
 *
 * - The last `events` accepted events: each has its row in the id index (else it is restored
 *   from the event); each one whose replay record may still be needed (expires_at ≥ now −
 *   skew) has its row in the replay index: a missing one is restored from the event, unless
 *   the pair is held by another live event (two live events on one pair break §7: refuse).
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
import { indexKey, packReplayKeyInputs } from '../audit/event-row.js';
import type { Sha256 } from '../audit/merkle.js';
import { StoreInconsistentError } from './errors.js';
import type { EventIndexes } from './event-index.js';

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
  /** Whether rows of the id index were missing (and restored). */
  readonly reindexed: boolean;
  /** Rows of the id index restored. */
  readonly idsRestored: number;
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
  indexes: EventIndexes,
  opts: TailCheckOptions,
): TailCheckReport {
  const n = opts.events ?? 10_000;
  const tail = db
    .prepare('SELECT seq, id, author, nonce, expires_at FROM events ORDER BY seq DESC LIMIT ?')
    .all(n) as TailEvent[];
  // seqs run from 1 without gaps: the newest seq is the count (count(*) reads every page)
  const total = tail[0]?.seq ?? 0;

  const keys = replayIndexKeys(sha256, tail);
  const cutoff = opts.now - opts.skewSeconds;
  let restored = 0;
  let idsRestored = 0;
  db.transaction(() => {
    tail.forEach((e, i) => {
      if (!indexes.hasIdRow(e.seq, e.id)) {
        indexes.restoreId(e.seq, e.id);
        idsRestored++;
      }
      if (e.expires_at < cutoff) return;
      const key = keys[i] as number;
      const hits = indexes.replayHits(key, e.author, e.nonce);
      if (hits.some((h) => h.seq === e.seq)) return;
      const other = hits.find((h) => h.expiresAt >= cutoff);
      if (other !== undefined) {
        throw new StoreInconsistentError(
          `events ${other.seq} and ${e.seq} share (author, nonce) and are both live`,
        );
      }
      indexes.restoreReplay(e.seq, key, e.expires_at);
      restored++;
    });
  }).immediate();

  const checkpointsChecked = checkCheckpointTail(db, core, sha256, opts.checkpoints ?? 16);
  return {
    eventsChecked: tail.length,
    replayRestored: restored,
    reindexed: idsRestored > 0,
    idsRestored,
    checkpointsChecked,
    eventsLeft: total - tail.length,
  };
}

function replayIndexKeys(sha256: Sha256, events: readonly TailEvent[]): number[] {
  return events.map((e) =>
    indexKey(sha256(packReplayKeyInputs([{ author: e.author, nonce: e.nonce }]).data)),
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
