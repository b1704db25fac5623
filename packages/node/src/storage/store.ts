import type { Core } from '@commons-sync/bindings';
import type { Database, Statement, Transaction } from 'better-sqlite3';

import type { AuditRecord } from '../audit/entry.js';
import {
  acceptedEventDigests,
  indexKey,
  indexPartition,
  packReplayKeyInputs,
} from '../audit/event-row.js';
import { type Hasher, makeHasher } from '../audit/hash.js';
import type { LedgerPlan } from '../audit/rules.js';
import { toHex } from '../protocol/bytes.js';
import type { VerifiedEvent } from '../protocol/index.js';
import { AuditLog, type NewAuditEntry, type StagedAppend } from './audit-log.js';
import { Checkpointer, type CheckpointerOptions, type CheckpointStats } from './checkpointer.js';
import { openDatabase } from './db.js';
import {
  ConcurrentWriterError,
  DuplicateEventError,
  ReplayConflictError,
  type StorageIoError,
  StoreClosedError,
  toStorageError,
} from './errors.js';
import { EventIndexes, type IndexedEvent, type StagedIndexes } from './event-index.js';
import { GovernanceTable, type GovernanceWrites } from './governance-table.js';
import { IdentityTables, type IdentityWrites, type StagedKeyStates } from './identity-tables.js';
import { MultiRowInsert } from './multi-row-insert.js';
import { type ConflictEvidence, SyncRecords, type SyncRow } from './sync-records.js';
import { checkTail, type TailCheckOptions, type TailCheckReport } from './tail-check.js';
import { type DataSync, WalSync } from './wal-sync.js';

export interface StoreOptions {
  /** Clock in Unix milliseconds (default `Date.now`); stamps audit entries and `received_at`. */
  readonly now?: () => number;
  /** How long to wait for a lock held by another connection (default 5 s). */
  readonly busyTimeoutMs?: number;
  /**
   * The in-memory replay filter (default on). Off, every partition of the replay index is
   * searched for every pair: slower, the same answers (tests compare the two).
   */
  readonly replayFilter?: boolean;
  /** Commits without fsync (`db.ts`, `unsynchronized`): for building a new store in bulk only. */
  readonly unsynchronized?: boolean;
  /** Syncs the WAL for {@link Store.synced} (default fs.fdatasync; tests inject failures). */
  readonly dataSync?: DataSync;
  /**
   * Checkpoints the WAL on a thread of its own instead of inside commits on the caller's
   * (checkpointer.ts; the node's default). Absent: SQLite's automatic checkpoint alone, as for
   * the CLI's short-lived stores. Ignored with `unsynchronized`. A store with it must be
   * closed with {@link Store.stopCheckpointer} awaited before {@link Store.close}.
   */
  readonly backgroundCheckpoint?: CheckpointerOptions;
  /** Staged identity events folded into runs at once (identity-tables.ts; default 16,384). */
  readonly identityFoldAt?: number;
}

/** A stored event as read back. */
export interface StoredEvent {
  readonly seq: number;
  /** Seq of the event's accept entry in the audit log (its Merkle leaf index). */
  readonly auditSeq: number;
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly author: string;
  readonly kind: string;
  readonly nonce: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Unix milliseconds when the event was committed. */
  readonly receivedAt: number;
  readonly encoded: Uint8Array;
  /** SHA-256 of `encoded`, computed at commit time. */
  readonly encodedHash: Uint8Array;
}

/** Who already used an (author, nonce) pair, and until when the record is kept. */
export interface ReplayRecord {
  readonly eventIdHex: string;
  /** Unix seconds: the used event's expiry. */
  readonly expiresAt: number;
}

/**
 * The key of {@link Store.findReplays}' answer. The nonce's hex comes first: it contains no
 * ':', so the key is unambiguous whatever the author string holds.
 */
export function replayKey(author: string, nonce: Uint8Array): string {
  return `${Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString('hex')}:${author}`;
}

interface EventRow {
  seq: number;
  audit_seq: number;
  id: Uint8Array;
  author: string;
  kind: string;
  nonce: Uint8Array;
  created_at: number;
  expires_at: number;
  received_at: number;
  encoded: Uint8Array;
  encoded_hash: Uint8Array;
}

/** What a commit's transaction staged, adopted by the in-memory state once it committed. */
interface Staged {
  readonly log: StagedAppend;
  readonly indexes: StagedIndexes;
  /** Key state dictionary rows the identity rows added. */
  readonly keyStates: StagedKeyStates | undefined;
}

const HEX_ID = /^[0-9a-f]{64}$/;

/** Columns of an `events` row as {@link Store.commit} writes it. */
const EVENT_COLUMN_NAMES = [
  'seq',
  'audit_seq',
  'id',
  'author',
  'kind',
  'nonce',
  'created_at',
  'expires_at',
  'received_at',
  'encoded',
  'encoded_hash',
] as const;
const EVENT_COLUMNS = EVENT_COLUMN_NAMES.length;

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    auditSeq: row.audit_seq,
    id: new Uint8Array(row.id),
    idHex: toHex(row.id),
    author: row.author,
    kind: row.kind,
    nonce: new Uint8Array(row.nonce),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    receivedAt: row.received_at,
    encoded: new Uint8Array(row.encoded),
    encodedHash: new Uint8Array(row.encoded_hash),
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(a, b) === 0;

function checkEvent(e: VerifiedEvent): void {
  if (!(e.id instanceof Uint8Array) || e.id.length !== 32) {
    throw new TypeError('a stored event id must be 32 bytes');
  }
  if (!Number.isSafeInteger(e.createdAt) || !Number.isSafeInteger(e.expiresAt)) {
    throw new TypeError('createdAt and expiresAt must be integers (Unix seconds)');
  }
}

/** What a commit writes besides events and audit entries (events from peers; spec/SYNC.md §6). */
export interface CommitExtras {
  /** `sources[i]`: the peer that delivered `accepted[i]`, or null for a client's event. */
  readonly sources?: readonly (string | null)[];
  /** Events kept as evidence of an author's equivocation (not accepted). */
  readonly evidence?: readonly ConflictEvidence[];
  /** Key events, identity rows of accepted events, changed standings (spec/IDENTITY.md). */
  readonly identity?: IdentityWrites;
  /** Governance records that joined or left the held set, trust standings (spec/GOVERNANCE.md). */
  readonly governance?: GovernanceWrites;
}

/** What one commit writes, prepared outside the transaction. */
interface Prepared {
  readonly events: readonly VerifiedEvent[];
  readonly extras: CommitExtras;
  readonly encodedHashes: Uint8Array;
  /** The index key of each event's replay digest. */
  readonly replayKeys: readonly number[];
  readonly entries: readonly NewAuditEntry[];
  readonly plan: LedgerPlan;
  readonly firstSeq: number;
  readonly firstAuditSeq: number;
  readonly nowMs: number;
}

/**
 * The node's durable state in one SQLite database (see `schema.ts`): accepted events, replay
 * records, the audit log (via {@link AuditLog}), checkpoints and node metadata.
 *
 * One Store per data directory: the store keeps the audit tree and sequence counters in
 * memory and refuses to commit ({@link ConcurrentWriterError}) if another connection wrote.
 * All methods are synchronous.
 */
export class Store {
  readonly #db: Database;
  readonly #core: Core;
  readonly #hasher: Hasher;
  readonly #now: () => number;
  readonly audit: AuditLog;
  /** Key events and the identity standing of events (spec/IDENTITY.md), written by `commit`. */
  readonly identity: IdentityTables;
  /** Governance records held and the trust standing of events, written by `commit`. */
  readonly governance: GovernanceTable;
  readonly #sync: SyncRecords;
  #open = true;
  #nextSeq: number;
  #eventCount: number;
  readonly #indexes: EventIndexes;
  readonly #insertEvents: MultiRowInsert;
  readonly #maxSeq: Statement;
  readonly #getMeta: Statement;
  readonly #setMeta: Statement;
  readonly #commitTx: Transaction<(p: Prepared) => Staged>;
  readonly #walSync: WalSync;
  /** The connection's own `synchronous` level (FULL; OFF for a bulk load). */
  readonly #syncLevel: number;
  readonly #syncNormal: Statement;
  readonly #syncRestore: Statement;
  /** The WAL's checkpoint thread, if the store has one. */
  readonly #checkpointer: Checkpointer | undefined;

  private constructor(
    db: Database,
    core: Core,
    now: () => number,
    replayFilter: boolean,
    dataSync: DataSync | undefined,
    checkpoint: CheckpointerOptions | undefined,
    identityFoldAt: number | undefined,
  ) {
    this.#db = db;
    this.#walSync = new WalSync(`${db.name}-wal`, dataSync);
    this.#syncLevel = db.pragma('synchronous', { simple: true }) as number;
    this.#syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.#syncRestore = db.prepare(`PRAGMA synchronous = ${this.#syncLevel}`);
    this.#core = core;
    this.#hasher = makeHasher(core);
    this.#now = now;
    this.#insertEvents = new MultiRowInsert(db, 'events', EVENT_COLUMN_NAMES);
    this.#maxSeq = db.prepare('SELECT max(seq) FROM events').pluck();
    this.#getMeta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.#setMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.#nextSeq = ((this.#maxSeq.get() as number | null) ?? 0) + 1;
    // seqs run from 1 without gaps (commits append at #nextSeq, nothing deletes events), so
    // the count is the last seq: count(*) read the whole table, 20 s at 10 million events
    this.#eventCount = this.#nextSeq - 1;
    this.audit = new AuditLog(db, core, now, () => this.writeFailure);
    this.#indexes = new EventIndexes(db, { filter: replayFilter });
    this.#indexes.load();
    // events.id has no index of its own (schema.ts, version 5): reads by id go through ours
    const seqById = (id: Uint8Array) => this.#seqById(id);
    this.identity = new IdentityTables(
      db,
      seqById,
      identityFoldAt === undefined ? {} : { foldAt: identityFoldAt },
    );
    this.governance = new GovernanceTable(db);
    this.#sync = new SyncRecords(db, seqById);
    this.#commitTx = db.transaction((p: Prepared) => this.#write(p));
    if (checkpoint !== undefined) {
      // last: nothing after it can throw and leave the thread running
      const checkpointer = new Checkpointer(db.name, checkpoint, (failure) =>
        this.#walSync.fail(failure),
      );
      this.#checkpointer = checkpointer;
      // the main connection's own checkpoint becomes the backstop
      db.pragma(`wal_autocheckpoint = ${checkpointer.backstopPages}`);
    }
  }

  /**
   * Opens the store of a data directory, creating and migrating the database as needed.
   * Throws {@link SchemaTooNewError}, {@link CorruptDatabaseError}, {@link ForeignDatabaseError}
   * or another StorageError.
   */
  static open(dir: string, core: Core, options: StoreOptions = {}): Store {
    const now = options.now ?? Date.now;
    const db = openDatabase(dir, {
      now,
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
      ...(options.unsynchronized === true ? { unsynchronized: true } : {}),
    });
    try {
      return new Store(
        db,
        core,
        now,
        options.replayFilter ?? true,
        options.dataSync,
        options.unsynchronized === true ? undefined : options.backgroundCheckpoint,
        options.identityFoldAt,
      );
    } catch (error) {
      db.close();
      throw toStorageError(error, `cannot open the store in ${dir}`);
    }
  }

  /**
   * The details of the audit entries with this reason, in log order: for rare entries (the
   * node key's rotations), read with a scan of the log.
   */
  entryDetailsWithReason(reason: string): string[] {
    this.#checkOpen();
    return this.#db
      .prepare('SELECT detail FROM audit_entries WHERE reason = ? ORDER BY seq')
      .pluck()
      .all(reason) as string[];
  }

  /** The hex ids among `ids` that are already stored. */
  findIds(ids: readonly Uint8Array[]): Set<string> {
    this.#checkOpen();
    const found = new Set<string>();
    for (const id of ids) if (this.#rowById(id) !== undefined) found.add(toHex(id));
    return found;
  }

  /**
   * The (author, nonce) pairs already used, keyed by {@link replayKey}: the newest event that
   * used each, among those whose replay records are kept. Records are kept at least until
   * their event expired and are then pruned a partition at a time ({@link pruneReplay}), so
   * an expired record may still be found: whether it blocks reuse is the pipeline's rule
   * (`expiresAt` is returned for that).
   */
  findReplays(pairs: readonly { author: string; nonce: Uint8Array }[]): Map<string, ReplayRecord> {
    this.#checkOpen();
    const found = new Map<string, ReplayRecord>();
    const keys = this.#replayKeys(pairs);
    for (let i = 0; i < pairs.length; i++) {
      const { author, nonce } = pairs[i] as { author: string; nonce: Uint8Array };
      const newest = this.#indexes.replayHits(keys[i] as number, author, nonce)[0];
      if (newest !== undefined)
        found.set(replayKey(author, nonce), {
          eventIdHex: toHex(newest.id),
          expiresAt: newest.expiresAt,
        });
    }
    return found;
  }

  /**
   * Stores `accepted` and appends the audit log in ONE transaction, then returns the new
   * audit tree size. When it returns, everything is durable (WAL, synchronous=FULL); when it
   * throws, nothing was written.
   *
   * The audit log gets, in this order, one accept entry per event (written here: its detail
   * carries the event's seq, `encoded_hash` and row digest) and then what the bounded-rejection
   * rules make of `audit` (audit/rules.ts: verified rejections one by one within the budget,
   * the rest counted, and a summary entry when one is due), critical actions as given. A call
   * that ends up writing nothing (only counted rejections) touches no database. Throws
   * {@link DuplicateEventError} for an id already stored and {@link ReplayConflictError} for an
   * (author, nonce) pair whose record is live. `extras.identity` (key events, identity rows of
   * accepted events, changed standings) is written in the same transaction.
   */
  commit(
    accepted: readonly VerifiedEvent[],
    audit: readonly AuditRecord[] = [],
    extras: CommitExtras = {},
  ): number {
    return this.#commit(accepted, audit, extras, false);
  }

  /**
   * As {@link commit}, but returns once the transaction is in the WAL, before it is on disk
   * (`synchronous=NORMAL` for this transaction): the caller must not acknowledge anything that
   * depends on it until {@link synced} resolved. A power loss before that may roll back this
   * commit and later ones, never part of one (SQLite's WAL guarantee); a process crash loses
   * nothing. The main thread goes on with the next commit while the disk syncs (wal-sync.ts).
   */
  commitUnsynced(
    accepted: readonly VerifiedEvent[],
    audit: readonly AuditRecord[] = [],
    extras: CommitExtras = {},
  ): number {
    return this.#commit(accepted, audit, extras, true);
  }

  /**
   * Resolves once everything committed so far is on disk: at once after {@link commit}, after
   * one fdatasync of the WAL (shared by the commits that wait for it) after
   * {@link commitUnsynced}. Rejects with a {@link StorageIoError} if a sync failed; the store
   * then refuses every commit (wal-sync.ts says why).
   */
  synced(): Promise<void> {
    return this.#walSync.synced();
  }

  /** The connection's `synchronous` level between commits (2: FULL; 0: OFF for a bulk load). */
  get syncLevel(): number {
    return this.#db.pragma('synchronous', { simple: true }) as number;
  }

  /** Why the store writes nothing more (a WAL sync failed, wal-sync.ts), or undefined. */
  get writeFailure(): StorageIoError | undefined {
    return this.#walSync.failure;
  }

  /** Whether commits written by {@link commitUnsynced} are not on disk yet. */
  get syncPending(): boolean {
    return this.#walSync.pending;
  }

  #commit(
    accepted: readonly VerifiedEvent[],
    audit: readonly AuditRecord[],
    extras: CommitExtras,
    unsynced: boolean,
  ): number {
    this.#checkWritable();
    const prepared = this.#prepare(accepted, audit, extras);
    if (
      prepared.entries.length === 0 &&
      (extras.evidence?.length ?? 0) === 0 &&
      extras.identity === undefined &&
      extras.governance === undefined
    ) {
      this.audit.adoptPlan(prepared.plan);
      return this.audit.size;
    }
    let staged: Staged;
    // a bulk load's connection syncs nothing anyway (OFF)
    const deferSync = unsynced && this.#syncLevel > 1;
    try {
      if (deferSync) this.#syncNormal.run();
      try {
        staged = this.#commitTx.immediate(prepared);
      } finally {
        if (deferSync) this.#syncRestore.run();
      }
    } catch (error) {
      throw toStorageError(error, 'commit failed, nothing written');
    }
    // a FULL commit syncs the whole WAL file, the unsynced commits before it included
    if (deferSync) this.#walSync.written();
    else if (this.#syncLevel > 1) this.#walSync.syncedInline();
    this.audit.adopt(staged.log);
    this.audit.adoptPlan(prepared.plan);
    this.#indexes.adopt(staged.indexes);
    if (staged.keyStates !== undefined) this.identity.adopt(staged.keyStates);
    this.#nextSeq += accepted.length;
    this.#eventCount += accepted.length;
    this.#checkpointer?.afterCommit();
    return staged.log.range.size;
  }

  /**
   * The start-up check of what derives from the end of the log (tail-check.ts): repairs what
   * is safely derivable (replay records, the id index) and throws {@link StoreInconsistentError}
   * for the rest.
   */
  checkTail(options: TailCheckOptions): TailCheckReport {
    this.#checkOpen();
    try {
      return checkTail(this.#db, this.#core, this.#hasher.one, this.#indexes, options);
    } catch (error) {
      throw toStorageError(error, 'the start-up check failed');
    }
  }

  /**
   * Writes the summary of the rejections counted so far if one is due (audit/rules.ts);
   * returns whether it wrote one. The node calls it on a timer, so that counts do not wait
   * for the next commit.
   */
  flushAuditSummary(): boolean {
    this.#checkOpen();
    const due = this.audit.summaryDueAt;
    if (due === undefined || this.audit.stampTime(this.#now()) < due) return false;
    this.commit([], []);
    return true;
  }

  getEvent(idHex: string): StoredEvent | undefined {
    this.#checkOpen();
    if (!HEX_ID.test(idHex)) return undefined;
    const row = this.#rowById(Buffer.from(idHex, 'hex'));
    return row === undefined ? undefined : toStoredEvent(row);
  }

  /** Seq of the accept entry of a stored event (its leaf index for inclusion proofs). */
  acceptEntrySeq(idHex: string): number | undefined {
    this.#checkOpen();
    if (!HEX_ID.test(idHex)) return undefined;
    return this.#rowById(Buffer.from(idHex, 'hex'))?.audit_seq;
  }

  countEvents(): number {
    this.#checkOpen();
    return this.#eventCount;
  }

  /** The stored canonical bytes of an accepted event, or of one kept as conflict evidence. */
  encodedEvent(id: Uint8Array): Uint8Array | undefined {
    this.#checkOpen();
    return this.#sync.encoded(id);
  }

  /** The peer that first delivered a stored event (undefined: a client's, or unknown). */
  eventSource(id: Uint8Array): string | undefined {
    this.#checkOpen();
    return this.#sync.sourceOf(id);
  }

  /** The sync set as stored: accepted events and conflict evidence expiring after `nowSeconds`. */
  syncRows(nowSeconds: number): Iterable<SyncRow> {
    this.#checkOpen();
    return this.#sync.syncRows(nowSeconds);
  }

  /** When each stored event was committed (Unix ms), by id in hex. */
  receipts(): Iterable<[string, number]> {
    this.#checkOpen();
    return this.#sync.receipts();
  }

  /** Events kept as evidence of an author's equivocation. */
  countConflicts(): number {
    this.#checkOpen();
    return this.#sync.countConflicts();
  }

  /**
   * Deletes the replay records of events that expired before `nowSeconds` (Unix seconds; pass
   * the time minus any clock-skew allowance), a partition at a time: a partition's records go
   * once every event in it expired (schema.ts, version 5). Returns how many were deleted.
   */
  pruneReplay(nowSeconds: number): number {
    this.#checkOpen();
    try {
      return this.#indexes.prune(nowSeconds);
    } catch (error) {
      throw toStorageError(error, 'cannot prune replay records');
    }
  }

  getMeta(key: string): string | undefined {
    this.#checkOpen();
    return this.#getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.#checkWritable();
    try {
      this.#setMeta.run(key, value);
    } catch (error) {
      throw toStorageError(error, `cannot set ${key}`);
    }
  }

  /** What the WAL's checkpoint thread did, if the store has one. */
  get checkpointStats(): CheckpointStats | undefined {
    return this.#checkpointer?.stats;
  }

  /**
   * Waits for the checkpoint round under way and ends the checkpoint thread (its connection
   * closed first, so that the store's own connection is the last one and {@link close}
   * checkpoints what is left, as without the thread). No round starts after it.
   */
  async stopCheckpointer(): Promise<void> {
    await this.#checkpointer?.stop();
  }

  /**
   * Closes the database; later calls throw {@link StoreClosedError}. Idempotent. The
   * checkpoint thread, if not stopped before, ends on its own shortly after.
   */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#checkpointer?.stop().catch(() => undefined); // a failure was reported already
    this.#walSync.close();
    this.#db.close();
  }

  #checkOpen(): void {
    if (!this.#open) throw new StoreClosedError();
  }

  /** Open, and no WAL sync failed: after one, nothing more is written (wal-sync.ts). */
  #checkWritable(): void {
    this.#checkOpen();
    const failure = this.writeFailure;
    if (failure !== undefined) throw failure;
  }

  /** The index keys of the pairs' replay digests (audit/event-row.ts). */
  #replayKeys(pairs: readonly { author: string; nonce: Uint8Array }[]): number[] {
    const digests = this.#hasher.many(packReplayKeyInputs(pairs));
    const keys = new Array<number>(pairs.length);
    for (let i = 0; i < pairs.length; i++) keys[i] = indexKey(digests, i * 32);
    return keys;
  }

  #seqById(id: Uint8Array): number | undefined {
    if (this.#nextSeq <= 1) return undefined;
    return this.#indexes.seqById(id, indexPartition(this.#nextSeq - 1));
  }

  #rowById(id: Uint8Array): EventRow | undefined {
    if (this.#nextSeq <= 1) return undefined;
    return this.#indexes.rowById(id, indexPartition(this.#nextSeq - 1)) as EventRow | undefined;
  }

  /**
   * Everything a commit needs that does not touch the database: four batched hashes (encoded
   * events, row digests, replay keys; leaves come in AuditLog.stage) and the audit entries.
   */
  #prepare(
    accepted: readonly VerifiedEvent[],
    audit: readonly AuditRecord[],
    extras: CommitExtras,
  ): Prepared {
    if (extras.sources !== undefined && extras.sources.length !== accepted.length)
      throw new TypeError('commit: one source per accepted event');
    const nowMs = this.audit.stampTime(this.#now());
    for (const e of accepted) checkEvent(e);
    const firstSeq = this.#nextSeq;
    const firstAuditSeq = this.audit.size;
    const { encodedHashes, details } = acceptedEventDigests(
      this.#hasher,
      accepted,
      firstSeq,
      firstAuditSeq,
      nowMs,
    );
    for (const r of audit) {
      if (r.type !== 'reject' && r.type !== 'critical') {
        throw new TypeError(
          `audit records passed to commit are reject or critical, not ${String(r.type)}`,
        );
      }
    }
    const plan = this.audit.planRejections(audit, nowMs);
    const entries = new Array<NewAuditEntry>(accepted.length + plan.entries.length);
    for (let i = 0; i < accepted.length; i++) {
      entries[i] = {
        type: 'accept',
        eventId: (accepted[i] as VerifiedEvent).id,
        reason: null,
        detail: details[i] as string,
      };
    }
    plan.entries.forEach((e, j) => {
      entries[accepted.length + j] = e;
    });
    const replayKeys = this.#replayKeys(accepted);
    return {
      events: accepted,
      extras,
      encodedHashes,
      replayKeys,
      entries,
      plan,
      firstSeq,
      firstAuditSeq,
      nowMs,
    };
  }

  /**
   * The body of the commit transaction: the replay rule at the storage level (a stored event
   * with the same id is a {@link DuplicateEventError}; one with the same (author, nonce) that
   * has not expired a {@link ReplayConflictError}), then the rows.
   */
  #write(p: Prepared): Staged {
    const maxSeq = (this.#maxSeq.get() as number | null) ?? 0;
    if (maxSeq + 1 !== this.#nextSeq) {
      throw new ConcurrentWriterError(
        `events on disk end at seq ${maxSeq}, this store expected ${this.#nextSeq - 1}`,
      );
    }
    const nowSec = Math.floor(p.nowMs / 1000);
    const indexed = new Array<IndexedEvent>(p.events.length);
    const inBatch = new Map<string, VerifiedEvent>();
    const rows = new Array<unknown>(p.events.length * EVENT_COLUMNS);
    for (let i = 0; i < p.events.length; i++) {
      const e = p.events[i] as VerifiedEvent;
      const key = p.replayKeys[i] as number;
      const pair = replayKey(e.author, e.nonce);
      const earlier = inBatch.get(pair);
      const hits = this.#indexes.replayHits(key, e.author, e.nonce);
      for (const used of earlier === undefined ? hits : [earlier, ...hits]) {
        if (sameBytes(used.id, e.id)) {
          throw new DuplicateEventError(`event ${e.idHex} is already stored; nothing written`);
        }
        if (used.expiresAt >= nowSec) {
          throw new ReplayConflictError(
            `event ${e.idHex} reuses the nonce of a live replay record of ${e.author}; nothing written`,
          );
        }
      }
      inBatch.set(pair, e);
      const seq = p.firstSeq + i;
      const o = i * EVENT_COLUMNS;
      rows[o] = seq;
      rows[o + 1] = p.firstAuditSeq + i;
      rows[o + 2] = e.id;
      rows[o + 3] = e.author;
      rows[o + 4] = e.kind;
      rows[o + 5] = e.nonce;
      rows[o + 6] = e.createdAt;
      rows[o + 7] = e.expiresAt;
      rows[o + 8] = p.nowMs;
      rows[o + 9] = e.encoded;
      rows[o + 10] = p.encodedHashes.subarray(i * 32, i * 32 + 32);
      indexed[i] = { seq, id: e.id, replayKey: key, expiresAt: e.expiresAt };
    }
    this.#insertEvents.run(rows);
    const keyStates =
      p.extras.identity === undefined
        ? undefined
        : this.identity.write(p.extras.identity, p.firstSeq, p.nowMs);
    if (p.extras.governance !== undefined) this.governance.write(p.extras.governance, p.nowMs);
    if (p.extras.sources !== undefined) this.#sync.writeSources(p.firstSeq, p.extras.sources);
    if (p.extras.evidence !== undefined) this.#sync.writeEvidence(p.extras.evidence, p.nowMs);
    const indexes = this.#indexes.insert(indexed);
    return { log: this.audit.stage(p.entries, p.nowMs), indexes, keyStates };
  }
}
