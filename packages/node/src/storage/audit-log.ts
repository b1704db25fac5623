import type { Core } from '@commons-sync/bindings';
import type { Database, Statement, Transaction } from 'better-sqlite3';

import {
  type AsyncCheckpointSigner,
  type Checkpoint,
  type CheckpointSigner,
  checkpointEntryDetail,
  checkpointHash,
  checkpointMessage,
  verifyCheckpointSignature,
  ZERO_HASH,
} from '../audit/checkpoint.js';
import {
  type AuditEntry,
  type AuditEntryType,
  type AuditRecord,
  ENTRY_FORMAT_VERSION,
  type EntryFormat,
  isEntryType,
  packLeafInputs,
} from '../audit/entry.js';
import { CheckpointSignerError } from '../audit/errors.js';
import { type Hasher, makeHasher } from '../audit/hash.js';
import {
  CompactRange,
  consistencyProof,
  emptyRoot,
  hashChildren,
  inclusionProof,
  rootOfLeaves,
  STORED_NODE_LEVEL,
} from '../audit/merkle.js';
import {
  AUDIT_RULES,
  EMPTY_LEDGER,
  type LedgerPlan,
  type LedgerState,
  planRejections,
  summaryDueAt,
} from '../audit/rules.js';
import { CommonsSyncError } from '../errors.js';
import {
  CheckpointOutdatedError,
  ConcurrentWriterError,
  CorruptDatabaseError,
  toStorageError,
} from './errors.js';
import { MultiRowInsert } from './multi-row-insert.js';

/** Columns of an `audit_entries` row as {@link AuditLog.stage} writes it. */
const ENTRY_COLUMN_NAMES = [
  'format',
  'seq',
  'time',
  'type',
  'event_id',
  'reason',
  'detail',
  'leaf_hash',
  'chain_hash',
] as const;
const ENTRY_COLUMNS = ENTRY_COLUMN_NAMES.length;
/** A tree node's hash input: 0x01 ‖ left ‖ right. */
const NODE_INPUT = 65;

/** An entry to append; seq and time are assigned by the log. */
export interface NewAuditEntry {
  readonly type: AuditEntryType;
  readonly eventId: Uint8Array | null;
  readonly reason: string | null;
  readonly detail: string;
}

/** The log state after a staged append, installed with {@link AuditLog.adopt} once committed. */
export interface StagedAppend {
  readonly range: CompactRange;
  readonly chainHead: Uint8Array;
  readonly lastTime: number;
}

interface EntryRow {
  format: number;
  seq: number;
  time: number;
  type: string;
  event_id: Uint8Array | null;
  reason: string | null;
  detail: string;
  leaf_hash: Uint8Array;
  chain_hash: Uint8Array;
}

interface CheckpointRow {
  version: number;
  prev_hash: Uint8Array | null;
  seq: number;
  tree_size: number;
  root: Uint8Array;
  time: number;
  public_key: Uint8Array;
  signature: Uint8Array;
}

/** Public results are plain Uint8Arrays, whichever hash function or driver made them. */
function plain(b: Uint8Array): Uint8Array {
  return Buffer.isBuffer(b) ? new Uint8Array(b) : b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function rowToCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    version: row.version === 2 ? 2 : 1,
    seq: row.seq,
    prev: row.prev_hash === null ? null : new Uint8Array(row.prev_hash),
    treeSize: row.tree_size,
    root: new Uint8Array(row.root),
    time: row.time,
    publicKey: new Uint8Array(row.public_key),
    signature: new Uint8Array(row.signature),
  };
}

/**
 * The tamper-evident audit log over a store's database: an append-only list of entries, each
 * chained to the one before (`chain_hash`), and an RFC 6962 Merkle tree over their leaf
 * hashes whose roots the node signs in checkpoints.
 *
 * The tree is incremental: the compact range of the current size lives in memory (rebuilt on
 * open from at most log2(n) stored subtrees), so appending costs O(log n) and the current root
 * one hash per set bit of the size. Proofs for older sizes read stored subtrees of level ≥ 4
 * and recompute the lower ones from leaf hashes.
 *
 * Entries are written in format 2 (spec/AUDIT.md): rejections in bounded form (audit/rules.ts,
 * the ledger kept here), entry times never decreasing, and a `checkpoint` entry for every
 * checkpoint signed.
 *
 * Appends happen only inside `Store.commit`'s transaction (or {@link checkpoint}'s own); use
 * the store to record entries.
 */
export class AuditLog {
  readonly #db: Database;
  readonly #core: Core;
  readonly #hasher: Hasher;
  readonly #now: () => number;
  #range: CompactRange;
  /** Tree node inputs (65 bytes each, back to back) hashed in one native call. */
  readonly #hashNodes = (inputs: Uint8Array, count: number): Uint8Array => {
    const offsets = new Uint32Array(count + 1);
    for (let i = 0; i <= count; i++) offsets[i] = i * NODE_INPUT;
    return this.#hasher.many({ data: inputs, offsets });
  };
  #chainHead: Uint8Array;
  #lastTime: number;
  #ledger: LedgerState;
  readonly #summarized = new Map<string, number>();
  readonly #checkpointTx: Transaction<(cp: Checkpoint) => { cp: Checkpoint; staged: StagedAppend }>;
  readonly #insertEntries: MultiRowInsert;
  readonly #insertNode: Statement;
  readonly #head: Statement;
  readonly #nodeStmt: Statement;
  readonly #leaves: Statement;
  readonly #entry: Statement;
  readonly #insertCheckpoint: Statement;
  readonly #checkpoints: Statement;
  readonly #latestCheckpoint: Statement;
  readonly #writeRefusal: () => Error | undefined;

  /**
   * @internal Created by `Store.open`. `writeRefusal`: why the store writes nothing more (a
   * failed WAL sync, wal-sync.ts), checked before a checkpoint is stored.
   */
  constructor(
    db: Database,
    core: Core,
    now: () => number,
    writeRefusal: () => Error | undefined = () => undefined,
  ) {
    this.#db = db;
    this.#writeRefusal = writeRefusal;
    this.#core = core;
    this.#hasher = makeHasher(core);
    this.#now = now;
    this.#insertEntries = new MultiRowInsert(db, 'audit_entries', ENTRY_COLUMN_NAMES);
    this.#insertNode = db.prepare('INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)');
    this.#head = db.prepare(
      'SELECT seq, chain_hash, time FROM audit_entries ORDER BY seq DESC LIMIT 1',
    );
    this.#nodeStmt = db.prepare('SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?').pluck();
    this.#leaves = db
      .prepare('SELECT leaf_hash FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq')
      .pluck();
    this.#entry = db.prepare('SELECT * FROM audit_entries WHERE seq = ?');
    this.#insertCheckpoint = db.prepare(
      'INSERT INTO checkpoints (seq, version, tree_size, root, time, public_key, signature, prev_hash) VALUES (?, 2, ?, ?, ?, ?, ?, ?)',
    );
    this.#checkpoints = db.prepare('SELECT * FROM checkpoints WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#latestCheckpoint = db.prepare('SELECT * FROM checkpoints ORDER BY seq DESC LIMIT 1');
    const head = this.#head.get() as
      | { seq: number; chain_hash: Uint8Array; time: number }
      | undefined;
    const size = head === undefined ? 0 : head.seq + 1;
    this.#chainHead = head === undefined ? ZERO_HASH : new Uint8Array(head.chain_hash);
    this.#lastTime = head === undefined ? 0 : head.time;
    this.#range = new CompactRange(this.#hasher.one, 0);
    this.#range = this.#rangeAt(size);
    this.#ledger = this.#ledgerFromTail(head?.time);
    this.#checkpointTx = db.transaction((cp: Checkpoint) => this.#writeCheckpoint(cp));
  }

  /**
   * The time entries written now get: the clock, but never before the last entry's, so that
   * entry times do not decrease (the per-second budgets count in entry time).
   */
  stampTime(nowMs: number = this.#now()): number {
    return Math.max(Math.floor(nowMs), this.#lastTime);
  }

  /** Plans how `records` are logged at `time` (audit/rules.ts); adopt the plan once its commit is durable. */
  planRejections(records: readonly AuditRecord[], time: number): LedgerPlan {
    return planRejections(this.#ledger, records, time);
  }

  /** @internal Installs a committed plan's ledger state. */
  adoptPlan(plan: LedgerPlan): void {
    this.#ledger = plan.state;
    for (const [reason, n] of plan.counted)
      this.#summarized.set(reason, (this.#summarized.get(reason) ?? 0) + n);
  }

  /** When the rejections counted so far may be written as a summary; undefined when none are held. */
  get summaryDueAt(): number | undefined {
    return summaryDueAt(this.#ledger);
  }

  /** Rejections counted into summaries since the store opened, by reason (for metrics). */
  get summarized(): ReadonlyMap<string, number> {
    return this.#summarized;
  }

  /** The number of entries. */
  get size(): number {
    return this.#range.size;
  }

  /** The root of the whole log. */
  root(): Uint8Array {
    return plain(this.#range.root());
  }

  /** The root of the first `size` entries. */
  rootAt(size: number): Uint8Array {
    this.#checkSize(size);
    if (size === this.size) return this.root();
    return plain(size === 0 ? emptyRoot(this.#hasher.one) : this.#subtree(0, size));
  }

  /** The chain hash of the last entry (32 zero bytes for an empty log). */
  get chainHead(): Uint8Array {
    return plain(this.#chainHead);
  }

  entry(seq: number): (AuditEntry & { leafHash: Uint8Array; chainHash: Uint8Array }) | undefined {
    const row = this.#entry.get(seq) as EntryRow | undefined;
    if (row === undefined || !isEntryType(row.type) || (row.format !== 1 && row.format !== 2))
      return undefined;
    return {
      format: row.format,
      seq: row.seq,
      time: row.time,
      type: row.type,
      eventId: row.event_id === null ? null : new Uint8Array(row.event_id),
      reason: row.reason,
      detail: row.detail,
      leafHash: new Uint8Array(row.leaf_hash),
      chainHash: new Uint8Array(row.chain_hash),
    };
  }

  /** RFC 6962 audit path of entry `index` in the tree of the first `size` entries. */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.#checkSize(size);
    return inclusionProof(index, size, (s, e) => plain(this.#subtree(s, e)));
  }

  /** RFC 6962 consistency proof from the tree of `m` entries to the tree of `n`. */
  consistencyProof(m: number, n: number = this.size): Uint8Array[] {
    this.#checkSize(n);
    return consistencyProof(m, n, (s, e) => plain(this.#subtree(s, e)));
  }

  /**
   * Signs the current size and root with the node key (a version 2 checkpoint: numbered, and
   * chained to the one before), stores it and appends its `checkpoint` entry, in one
   * transaction. The signature is checked before it is stored, so a signer whose public key is
   * not its own key is refused ({@link CheckpointSignerError}).
   */
  checkpoint(signer: CheckpointSigner): Checkpoint {
    const unsigned = this.#unsignedCheckpoint(signer.publicKey);
    return this.#storeCheckpoint({
      ...unsigned,
      signature: new Uint8Array(signer.sign(checkpointMessage(unsigned))),
    });
  }

  /**
   * As {@link checkpoint}, for a signer that answers asynchronously (an HSM, a KMS): the
   * number, size, root and chain link are taken now, so entries appended while the signature
   * is made are left for the next checkpoint. Callers must not run two at once; if another
   * checkpoint was stored meanwhile this one is refused ({@link ConcurrentWriterError}), and
   * if entries were appended meanwhile too ({@link CheckpointOutdatedError}: its entry must be
   * entry `treeSize`); sign again then.
   */
  async checkpointAsync(signer: AsyncCheckpointSigner): Promise<Checkpoint> {
    const unsigned = this.#unsignedCheckpoint(signer.publicKey);
    const signature = new Uint8Array(await signer.sign(checkpointMessage(unsigned)));
    return this.#storeCheckpoint({ ...unsigned, signature });
  }

  #unsignedCheckpoint(publicKey: Uint8Array): Omit<Checkpoint, 'signature'> {
    const latest = this.latestCheckpoint();
    return {
      version: 2 as const,
      seq: (latest?.seq ?? 0) + 1,
      treeSize: this.size,
      root: this.root(),
      time: this.stampTime(),
      publicKey: new Uint8Array(publicKey),
      prev: latest === undefined ? ZERO_HASH : plain(checkpointHash(this.#hasher.one, latest)),
    };
  }

  #storeCheckpoint(cp: Checkpoint): Checkpoint {
    // a checkpoint signed over entries a failed sync may have lost is never stored nor served
    const refused = this.#writeRefusal();
    if (refused !== undefined) throw refused;
    if (!verifyCheckpointSignature(this.#core, cp)) {
      throw new CheckpointSignerError(
        'the checkpoint signature does not verify under the signer public key',
      );
    }
    let done: { cp: Checkpoint; staged: StagedAppend };
    try {
      done = this.#checkpointTx.immediate(cp);
    } catch (error) {
      if (error instanceof CommonsSyncError) throw error;
      throw toStorageError(error, 'cannot store checkpoint');
    }
    this.adopt(done.staged);
    return done.cp;
  }

  #writeCheckpoint(cp: Checkpoint): { cp: Checkpoint; staged: StagedAppend } {
    // Its entry must be entry `treeSize` (spec/AUDIT.md §5.2): refused if entries were appended
    // while an asynchronous signer was signing.
    if (this.size !== cp.treeSize) {
      throw new CheckpointOutdatedError(
        `checkpoint ${cp.seq} was signed at size ${cp.treeSize}; the log has ${this.size} entries now`,
      );
    }
    const latest = this.latestCheckpoint();
    if ((latest?.seq ?? 0) + 1 !== cp.seq) {
      throw new ConcurrentWriterError(
        `checkpoint ${cp.seq} was signed after checkpoint ${latest?.seq ?? 0} was stored`,
      );
    }
    this.#insertCheckpoint.run(
      cp.seq,
      cp.treeSize,
      cp.root,
      cp.time,
      cp.publicKey,
      cp.signature,
      cp.prev,
    );
    const detail = checkpointEntryDetail(cp.seq, checkpointHash(this.#hasher.one, cp));
    const staged = this.stage(
      [{ type: 'checkpoint', eventId: null, reason: null, detail }],
      this.stampTime(cp.time),
    );
    return { cp, staged };
  }

  latestCheckpoint(): Checkpoint | undefined {
    const row = this.#latestCheckpoint.get() as CheckpointRow | undefined;
    return row === undefined ? undefined : rowToCheckpoint(row);
  }

  /** Checkpoints in the order they were made, `limit` at a time after row `afterSeq`. */
  checkpoints(afterSeq = 0, limit = 1000): Checkpoint[] {
    return (this.#checkpoints.all(afterSeq, limit) as CheckpointRow[]).map(rowToCheckpoint);
  }

  /**
   * @internal Writes `entries` after the current end of the log. Must run inside the caller's
   * write transaction; the in-memory state changes only through {@link adopt} once that
   * transaction has committed, so a rollback leaves the log as it was.
   */
  stage(entries: readonly NewAuditEntry[], time: number): StagedAppend {
    const head = this.#head.get() as { seq: number; chain_hash: Uint8Array } | undefined;
    const diskSize = head === undefined ? 0 : head.seq + 1;
    if (
      diskSize !== this.size ||
      (head !== undefined && !sameBytes(head.chain_hash, this.#chainHead))
    ) {
      throw new ConcurrentWriterError(
        `the audit log on disk (${diskSize} entries) is not the one this store wrote (${this.size})`,
      );
    }
    const range = this.#range.clone();
    const first = range.size;
    const format: EntryFormat = ENTRY_FORMAT_VERSION;
    // one literal of fixed shape per entry: a spread of `e` cost ~1 µs per entry (profile)
    const full: AuditEntry[] = entries.map((e, i) => ({
      format,
      seq: first + i,
      time,
      type: e.type,
      eventId: e.eventId,
      reason: e.reason,
      detail: e.detail,
    }));
    const leaves = this.#hasher.many(packLeafInputs(full));
    // The whole commit's chain in one call into the core (spec/AUDIT.md §3), not one per entry.
    const links = this.#hasher.chain(this.#chainHead, leaves);
    const rows = new Array<unknown>(full.length * ENTRY_COLUMNS);
    for (let i = 0; i < full.length; i++) {
      const e = full[i] as AuditEntry;
      const leaf = leaves.subarray(i * 32, i * 32 + 32);
      const o = i * ENTRY_COLUMNS;
      rows[o] = e.format;
      rows[o + 1] = e.seq;
      rows[o + 2] = e.time;
      rows[o + 3] = e.type;
      rows[o + 4] = e.eventId;
      rows[o + 5] = e.reason;
      rows[o + 6] = e.detail;
      rows[o + 7] = leaf;
      rows[o + 8] = links.subarray(i * 32, i * 32 + 32);
    }
    this.#insertEntries.run(rows);
    range.appendMany(
      leaves,
      this.#hashNodes,
      (node) => this.#insertNode.run(node.level, node.index, node.hash),
      STORED_NODE_LEVEL,
    );
    return {
      range,
      chainHead: full.length > 0 ? links.slice(links.length - 32) : this.#chainHead,
      lastTime: full.length > 0 ? Math.max(this.#lastTime, time) : this.#lastTime,
    };
  }

  /** @internal Installs the state of a committed {@link stage}. */
  adopt(staged: StagedAppend): void {
    this.#range = staged.range;
    this.#chainHead = staged.chainHead;
    this.#lastTime = staged.lastTime;
  }

  /**
   * The ledger after a restart, from the log's tail: the reject entries already in the last
   * entry's second, and no summary before a full interval after that entry (the last summary
   * cannot be later than it).
   */
  #ledgerFromTail(lastTime: number | undefined): LedgerState {
    if (lastTime === undefined) return EMPTY_LEDGER;
    const second = Math.floor(lastTime / 1000);
    const rejects = this.#db
      .prepare(
        `SELECT count(*) FROM (SELECT type, time, format FROM audit_entries ORDER BY seq DESC LIMIT ?)
         WHERE type = 'reject' AND format = 2 AND time >= ?`,
      )
      .pluck()
      .get(AUDIT_RULES.maxRejectEntriesPerSecond + 1, second * 1000) as number;
    return { ...EMPTY_LEDGER, second, rejectsInSecond: rejects, lastSummary: lastTime };
  }

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`the audit log has ${this.size} entries, not ${size}`);
    }
  }

  /** MTH of entries [start, end); ranges from the RFC recursion only (see SubtreeHash). */
  #subtree(start: number, end: number): Uint8Array {
    const n = end - start;
    let level = 0;
    while (2 ** level < n) level++;
    if (2 ** level === n && start % n === 0) return this.#node(level, start / n);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return hashChildren(
      this.#hasher.one,
      this.#subtree(start, start + k),
      this.#subtree(start + k, end),
    );
  }

  /** The complete subtree [index·2^level, (index+1)·2^level). */
  #node(level: number, index: number): Uint8Array {
    if (level >= STORED_NODE_LEVEL) {
      const hash = this.#nodeQuery(level, index);
      if (hash === undefined) {
        throw new CorruptDatabaseError(`audit_nodes lacks the subtree ${level}/${index}`);
      }
      return hash;
    }
    const width = 2 ** level;
    const leaves = (this.#leaves.all(index * width, (index + 1) * width) as Uint8Array[]).map(
      (h) => new Uint8Array(h),
    );
    if (leaves.length !== width) {
      throw new CorruptDatabaseError(
        `audit_entries lacks entries in [${index * width}, ${(index + 1) * width})`,
      );
    }
    return rootOfLeaves(this.#hasher.one, leaves);
  }

  #nodeQuery(level: number, index: number): Uint8Array | undefined {
    const hash = this.#nodeStmt.get(level, index) as Uint8Array | undefined;
    return hash === undefined ? undefined : new Uint8Array(hash);
  }

  /** The compact range of the first `size` entries, from stored subtrees and leaves. */
  #rangeAt(size: number): CompactRange {
    return CompactRange.of(this.#hasher.one, size, (level, index) => this.#node(level, index));
  }
}
