/**
 * The two derived indexes of the events table (schema.ts, migration 5): `event_ids` (id →
 * seq, for reads by id) and `replay` ((author, nonce) → the events that used the pair, for
 * §7 step 5), both partitioned by seq, and the in-memory filter in front of `replay`.
 *
 * Writes happen in the caller's transaction ({@link EventIndexes.insert}); the filter learns
 * them only once that transaction committed ({@link EventIndexes.adopt}), so a rollback leaves
 * it as it was. The filter is rebuilt from the table when the store opens ({@link load}).
 */
import type { Database, Statement } from 'better-sqlite3';

import { indexKey, indexPartition } from '../audit/event-row.js';
import { MultiRowInsert } from './multi-row-insert.js';
import { ReplayFilter } from './replay-filter.js';

/** An event that used an (author, nonce) pair, as the replay index finds it. */
export interface ReplayHit {
  readonly seq: number;
  readonly id: Uint8Array;
  /** Unix seconds: the event's expiry. */
  readonly expiresAt: number;
}

/** One event's rows in both indexes. */
export interface IndexedEvent {
  readonly seq: number;
  readonly id: Uint8Array;
  /** The replay key's index key (`indexKey` of the replay digest). */
  readonly replayKey: number;
  readonly expiresAt: number;
}

/** What a committed write adds to the in-memory state. */
export interface StagedIndexes {
  readonly events: readonly IndexedEvent[];
}

export class EventIndexes {
  readonly #db: Database;
  /** Undefined: every partition with replay rows is searched (tests compare the answers). */
  readonly #filter: ReplayFilter | undefined;
  /** Per partition of `replay`: the latest expiry among its rows (for pruning whole partitions). */
  readonly #maxExpiry = new Map<number, number>();
  readonly #insertId: Statement;
  readonly #insertReplay: Statement;
  readonly #insertIds: MultiRowInsert;
  readonly #insertReplays: MultiRowInsert;
  readonly #replayRows: Statement;
  readonly #idRow: Statement;
  readonly #byId: Statement;
  readonly #seqById: Statement;
  readonly #prune: Statement;
  readonly #candidates: number[] = [];

  constructor(db: Database, options: { readonly filter?: boolean } = {}) {
    this.#db = db;
    this.#filter = options.filter === false ? undefined : new ReplayFilter();
    this.#insertId = db.prepare('INSERT INTO event_ids (part, key, seq) VALUES (?, ?, ?)');
    // a commit's rows, 64 per statement (multi-row-insert.ts)
    this.#insertIds = new MultiRowInsert(db, 'event_ids', ['part', 'key', 'seq']);
    this.#insertReplays = new MultiRowInsert(db, 'replay', ['part', 'key', 'seq', 'expires_at']);
    this.#insertReplay = db.prepare(
      'INSERT INTO replay (part, key, seq, expires_at) VALUES (?, ?, ?, ?)',
    );
    this.#replayRows = db.prepare(
      `SELECT r.seq AS seq, e.id AS id, r.expires_at AS expiresAt FROM replay r
         JOIN events e ON e.seq = r.seq
       WHERE r.part = ? AND r.key = ? AND e.author = ? AND e.nonce = ? ORDER BY r.seq DESC`,
    );
    this.#idRow = db
      .prepare('SELECT 1 FROM event_ids WHERE part = ? AND key = ? AND seq = ?')
      .pluck();
    // Every partition, newest first (one seek each), to the first row whose full id matches.
    this.#byId = db.prepare(
      `WITH RECURSIVE p(x) AS (SELECT ? UNION ALL SELECT x - 1 FROM p WHERE x > 0)
       SELECT e.* FROM p CROSS JOIN event_ids i ON i.part = p.x AND i.key = ?
         CROSS JOIN events e ON e.seq = i.seq
       WHERE e.id = ? LIMIT 1`,
    );
    this.#seqById = db
      .prepare(
        `WITH RECURSIVE p(x) AS (SELECT ? UNION ALL SELECT x - 1 FROM p WHERE x > 0)
       SELECT e.seq FROM p CROSS JOIN event_ids i ON i.part = p.x AND i.key = ?
         CROSS JOIN events e ON e.seq = i.seq
       WHERE e.id = ? LIMIT 1`,
      )
      .pluck();
    this.#prune = db.prepare('DELETE FROM replay WHERE part = ?');
  }

  /** Builds the filter and the partitions' expiries from the `replay` table. */
  load(): void {
    // A partition's latest expiry in SQL, then its keys in one call per partition: stepping
    // through the table row by row cost 2.4 µs a row (24 s at 10 million records), this ~0.5.
    const parts = this.#db
      .prepare('SELECT part, max(expires_at) FROM replay GROUP BY part')
      .raw()
      .all() as [number, number][];
    const keys = this.#db.prepare('SELECT key FROM replay WHERE part = ?').pluck();
    for (const [part, maxExpiry] of parts) {
      this.#maxExpiry.set(part, maxExpiry);
      if (this.#filter !== undefined)
        for (const key of keys.all(part) as number[]) this.#filter.add(key, part);
    }
  }

  /** Replay records in memory: filter entries, and its slots (8 bytes each). */
  get filterSize(): { readonly entries: number; readonly slots: number } {
    return { entries: this.#filter?.size ?? 0, slots: this.#filter?.capacity ?? 0 };
  }

  /**
   * The events stored with this (author, nonce) whose replay rows are kept, newest first
   * (usually none: the filter answers that without SQLite). `replayKey` is the index key of
   * the pair's replay digest.
   */
  replayHits(replayKey: number, author: string, nonce: Uint8Array): ReplayHit[] {
    const parts =
      this.#filter === undefined
        ? [...this.#maxExpiry.keys()].sort((a, b) => b - a)
        : this.#filter.candidates(replayKey, this.#candidates);
    if (parts.length === 0) return [];
    const hits: ReplayHit[] = [];
    for (const part of parts) {
      for (const row of this.#replayRows.all(part, replayKey, author, nonce) as ReplayHit[])
        hits.push(row);
    }
    return hits;
  }

  /** The row of the stored event whose id is `id`, searching partitions `lastPart` down to 0. */
  rowById(id: Uint8Array, lastPart: number): Record<string, unknown> | undefined {
    return this.#byId.get(lastPart, indexKey(id), id) as Record<string, unknown> | undefined;
  }

  /** The seq of the stored event whose id is `id` (partitions `lastPart` down to 0). */
  seqById(id: Uint8Array, lastPart: number): number | undefined {
    return this.#seqById.get(lastPart, indexKey(id), id) as number | undefined;
  }

  /** Whether event `seq`'s row in `event_ids` is there. */
  hasIdRow(seq: number, id: Uint8Array): boolean {
    return this.#idRow.get(indexPartition(seq), indexKey(id), seq) !== undefined;
  }

  /** Writes the index rows of `events`; call inside the commit transaction. */
  insert(events: readonly IndexedEvent[]): StagedIndexes {
    const ids = new Array<unknown>(events.length * 3);
    const replay = new Array<unknown>(events.length * 4);
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as IndexedEvent;
      const part = indexPartition(e.seq);
      ids[i * 3] = part;
      ids[i * 3 + 1] = indexKey(e.id);
      ids[i * 3 + 2] = e.seq;
      replay[i * 4] = part;
      replay[i * 4 + 1] = e.replayKey;
      replay[i * 4 + 2] = e.seq;
      replay[i * 4 + 3] = e.expiresAt;
    }
    this.#insertIds.run(ids);
    this.#insertReplays.run(replay);
    return { events };
  }

  /** Installs a committed {@link insert} in the filter. */
  adopt(staged: StagedIndexes): void {
    for (const e of staged.events) this.#learn(indexPartition(e.seq), e.replayKey, e.expiresAt);
  }

  /** Restores one event's id row (the start-up check's repair). */
  restoreId(seq: number, id: Uint8Array): void {
    this.#insertId.run(indexPartition(seq), indexKey(id), seq);
  }

  /** Restores one event's replay row (the start-up check's repair); in the filter at once. */
  restoreReplay(seq: number, replayKey: number, expiresAt: number): void {
    this.#insertReplay.run(indexPartition(seq), replayKey, seq, expiresAt);
    this.#learn(indexPartition(seq), replayKey, expiresAt);
  }

  /**
   * Deletes the replay rows of every partition whose events all expired before `cutoff` (Unix
   * seconds); returns how many rows went. A partition with one event live keeps all its rows.
   */
  prune(cutoff: number): number {
    let deleted = 0;
    for (const [part, maxExpiry] of this.#maxExpiry) {
      if (maxExpiry >= cutoff) continue;
      deleted += this.#prune.run(part).changes;
      this.#maxExpiry.delete(part);
      this.#filter?.drop(part);
    }
    return deleted;
  }

  #learn(part: number, replayKey: number, expiresAt: number): void {
    this.#filter?.add(replayKey, part);
    const max = this.#maxExpiry.get(part);
    if (max === undefined || expiresAt > max) this.#maxExpiry.set(part, expiresAt);
  }
}
