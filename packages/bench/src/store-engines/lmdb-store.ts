/**
 * The node's commit, written to LMDB instead of SQLite (issue 11: "measure an alternative
 * embedded store before deciding"). A measuring device, not a port of the node: it computes
 * exactly what `Store.commit` computes for a batch of accepted events (packages/node
 * storage/store.ts `#prepare`, audit-log.ts `stage`: the encoded hashes, row digests, replay
 * keys, accept entries, leaf hashes, chain and tree nodes, with the node's own functions) and
 * writes the same rows to LMDB through the maintained binding (`lmdb`, kriszyp/lmdb-js):
 *
 * | sub-database | key | value (msgpack array) | SQLite counterpart |
 * | --- | --- | --- | --- |
 * | `events` | seq (uint32) | the `events` row's 11 columns | `events` |
 * | `ids` | the 32-byte event id | seq | `event_ids` (partitioned, 6-byte key prefix) |
 * | `replay` | the replay key: first 16 bytes of the replay digest | [seq, expires_at] of the newest user | `replay` |
 * | `audit` | seq (uint32) | the `audit_entries` row's 9 columns | `audit_entries` |
 * | `nodes` | [level, index] | 32-byte hash | `audit_nodes` (level ≥ 4) |
 *
 * The replay sub-database keeps the newest event per pair only: a pair is reused only once
 * every earlier record expired, and the newer event expires later, so the newest decides.
 *
 * `partitioned` keys both random-keyed sub-databases as the node's schema 5 does its tables
 * (storage/event-index.ts): a 4-byte big-endian partition (`seq >> 16`) before the id or the
 * replay key, so a commit's inserts land in the current partition's pages instead of anywhere
 * in a B-tree as large as the store; the node's in-memory replay filter (`ReplayFilter`,
 * rebuilt from the keys on open) names the partitions a pair may be in, newest first, and the
 * lookup reads only those. Unpartitioned, the keys are the bare id and replay key.
 *
 * Durability by mode (all in one LMDB environment per directory, lmdb-js defaults otherwise):
 * - `sync`: `overlappingSync: false`, `transactionSync`: mdb_txn_commit writes and fsyncs the
 *   data pages and the meta page before it returns, on the calling thread (as SQLite's FULL).
 * - `async`: the binding's defaults (`overlappingSync: true`): the batch's puts are queued in
 *   one event turn (one transaction, `eventTurnBatching`), committed on lmdb-js's write thread,
 *   and {@link LmdbEventStore.commitAsync} resolves only after `db.flushed`, once the commit is
 *   fsynced: acknowledged = durable still holds, the work moves off the calling thread.
 * - `unsynced`: `noSync: true`, for filling a store before a measurement only.
 */
import type { Core } from '@commons-sync/bindings';
import type { AuditEntry } from '@commons-sync/node/dist/audit/entry.js';
import { ENTRY_FORMAT_VERSION, packLeafInputs } from '@commons-sync/node/dist/audit/entry.js';
import {
  acceptedEventDigests,
  type EventRowSource,
  indexKey,
  indexPartition,
  packReplayKeyInputs,
  REPLAY_KEY_BYTES,
} from '@commons-sync/node/dist/audit/event-row.js';
import { type Hasher, makeHasher } from '@commons-sync/node/dist/audit/hash.js';
import { CompactRange, STORED_NODE_LEVEL } from '@commons-sync/node/dist/audit/merkle.js';
import { ReplayFilter } from '@commons-sync/node/dist/storage/replay-filter.js';
import { type Database, open, type RootDatabase } from 'lmdb';

import { BenchError } from '../errors.js';

/** What a commit stores of an accepted event (the fields of the node's `VerifiedEvent`). */
export type EngineEvent = EventRowSource;

export type LmdbMode = 'sync' | 'async' | 'unsynced';

/** An `events` row in the node's column order (schema.ts). */
export type EventRowValues = [
  seq: number,
  auditSeq: number,
  id: Uint8Array,
  author: string,
  kind: string,
  nonce: Uint8Array,
  createdAt: number,
  expiresAt: number,
  receivedAt: number,
  encoded: Uint8Array,
  encodedHash: Uint8Array,
];

/** An `audit_entries` row in the node's column order. */
export type AuditRowValues = [
  format: number,
  seq: number,
  time: number,
  type: string,
  eventId: Uint8Array | null,
  reason: string | null,
  detail: string,
  leafHash: Uint8Array,
  chainHash: Uint8Array,
];

/** The same id or a live (author, nonce) pair is already stored: the batch wrote nothing. */
export class StoreConflictError extends BenchError {
  constructor(message: string) {
    super('ERR_STORE_CONFLICT', 1, message);
  }
}

/** The commit's rows, computed outside the transaction as `Store.#prepare` does. */
interface PreparedBatch {
  readonly eventRows: EventRowValues[];
  /** The replay keys (16 bytes each), unpartitioned. */
  readonly replayKeys: Buffer[];
  readonly auditRows: AuditRowValues[];
  readonly nodes: { level: number; index: number; hash: Uint8Array }[];
  readonly range: CompactRange;
  readonly chainHead: Uint8Array;
  readonly nowSec: number;
}

const NODE_INPUT = 65;

export class LmdbEventStore {
  readonly #root: RootDatabase;
  readonly #events: Database<EventRowValues, number>;
  readonly #ids: Database<number, Buffer>;
  readonly #replay: Database<[number, number], Buffer>;
  readonly #audit: Database<AuditRowValues, number>;
  readonly #nodes: Database<Uint8Array, [number, number]>;
  readonly #hasher: Hasher;
  readonly #now: () => number;
  readonly mode: LmdbMode;
  /** The filter in front of the partitioned replay keys (undefined: unpartitioned). */
  readonly #filter: ReplayFilter | undefined;
  readonly #candidates: number[] = [];
  #nextSeq: number;
  #range: CompactRange;
  #chainHead: Uint8Array;
  #lastTime: number;

  private constructor(
    path: string,
    core: Core,
    mode: LmdbMode,
    now: () => number,
    partitioned: boolean,
  ) {
    this.mode = mode;
    this.#filter = partitioned ? new ReplayFilter() : undefined;
    this.#now = now;
    this.#hasher = makeHasher(core);
    this.#root = open({
      path,
      maxDbs: 8,
      ...(mode === 'sync' ? { overlappingSync: false } : {}),
      ...(mode === 'unsynced' ? { noSync: true, overlappingSync: false } : {}),
    });
    this.#events = this.#root.openDB<EventRowValues, number>('events', { keyEncoding: 'uint32' });
    this.#ids = this.#root.openDB<number, Buffer>('ids', { keyEncoding: 'binary' });
    this.#replay = this.#root.openDB<[number, number], Buffer>('replay', {
      keyEncoding: 'binary',
    });
    this.#audit = this.#root.openDB<AuditRowValues, number>('audit', { keyEncoding: 'uint32' });
    this.#nodes = this.#root.openDB<Uint8Array, [number, number]>('nodes', {});
    // the in-memory state the node's Store and AuditLog keep, from the last rows on disk
    const lastEvent = this.#lastKey(this.#events);
    this.#nextSeq = (lastEvent ?? 0) + 1;
    const lastEntry = this.#lastKey(this.#audit);
    const head = lastEntry === undefined ? undefined : this.#audit.get(lastEntry);
    this.#chainHead = head === undefined ? new Uint8Array(32) : head[8];
    this.#lastTime = head === undefined ? 0 : head[2];
    const size = lastEntry === undefined ? 0 : lastEntry + 1;
    this.#range = this.#rangeAt(size);
    if (this.#filter !== undefined)
      for (const key of this.#replay.getKeys())
        this.#filter.add(indexKey(key, 4), key.readUInt32BE(0));
  }

  static open(
    path: string,
    core: Core,
    mode: LmdbMode,
    options: { readonly now?: () => number; readonly partitioned?: boolean } = {},
  ): LmdbEventStore {
    return new LmdbEventStore(
      path,
      core,
      mode,
      options.now ?? Date.now,
      options.partitioned ?? false,
    );
  }

  get count(): number {
    return this.#nextSeq - 1;
  }

  get auditSize(): number {
    return this.#range.size;
  }

  /** The audit tree's root (the same as the SQLite store's for the same entries). */
  auditRoot(): Uint8Array {
    return this.#range.root();
  }

  /** The judge's lookup: the newest stored user of this pair, [seq, expiresAt]. */
  replayRecord(author: string, nonce: Uint8Array): [number, number] | undefined {
    const digest = this.#hasher.many(packReplayKeyInputs([{ author, nonce }]));
    return this.#replayGet(Buffer.from(digest.buffer, digest.byteOffset, REPLAY_KEY_BYTES));
  }

  /**
   * Stores one batch durably on this thread (modes `sync` and `unsynced`): the judge's lookups
   * (id stored? pair live?) and the rows, in one write transaction. Returns the audit size.
   */
  commit(events: readonly EngineEvent[]): number {
    if (this.mode === 'async') throw new TypeError('an async store commits with commitAsync');
    const p = this.#prepare(events);
    this.#root.transactionSync(() => {
      this.#check(events, p);
      this.#put(p);
    });
    this.#adopt(p);
    return this.#range.size;
  }

  /**
   * Stores one batch (mode `async`): lookups on this thread, the puts queued in one event turn
   * (one transaction on the binding's write thread), resolved once that commit is fsynced.
   */
  async commitAsync(events: readonly EngineEvent[]): Promise<number> {
    if (this.mode !== 'async') throw new TypeError('commitAsync is for an async store');
    const p = this.#prepare(events);
    this.#check(events, p);
    this.#put(p);
    await this.#root.committed;
    await this.#root.flushed;
    this.#adopt(p);
    return this.#range.size;
  }

  /**
   * The commit's hashing and row building only, nothing looked up or written (the `none`
   * engine: what every engine's commit spends before its storage work). State advances as if
   * the batch were stored.
   */
  computeOnly(events: readonly EngineEvent[]): number {
    const p = this.#prepare(events);
    this.#adopt(p);
    return this.#range.size;
  }

  /** Every stored event row, in seq order. */
  *eventRows(): Iterable<EventRowValues> {
    for (const { value } of this.#events.getRange()) yield value;
  }

  /** Every audit entry row, in seq order. */
  *auditRows(): Iterable<AuditRowValues> {
    for (const { value } of this.#audit.getRange()) yield value;
  }

  /** Every stored tree node, as [level, index, hash]. */
  *nodeRows(): Iterable<[number, number, Uint8Array]> {
    for (const { key, value } of this.#nodes.getRange()) yield [key[0], key[1], value];
  }

  /** The seq of the stored event with this id. */
  seqOf(id: Uint8Array): number | undefined {
    const bare = Buffer.from(id.buffer, id.byteOffset, id.byteLength);
    if (this.#filter === undefined) return this.#ids.get(bare);
    // partitions newest first, as the node's reads by id
    for (let part = indexPartition(Math.max(this.count, 1)); part >= 0; part--) {
      const seq = this.#ids.get(partKey(part, bare));
      if (seq !== undefined) return seq;
    }
    return undefined;
  }

  /** The newest replay record under a 16-byte replay key (through the filter if partitioned). */
  #replayGet(key: Buffer): [number, number] | undefined {
    if (this.#filter === undefined) return this.#replay.get(key);
    for (const part of this.#filter.candidates(indexKey(key), this.#candidates)) {
      const hit = this.#replay.get(partKey(part, key));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.#root.close();
  }

  #lastKey(db: Database<unknown, number>): number | undefined {
    for (const key of db.getKeys({ reverse: true, limit: 1 })) return key;
    // lmdb-js reads nothing backwards from the end of a uint32-keyed database whose only key
    // is 0 (a store of one audit entry reopened as empty): the first key forwards is then the
    // last
    for (const key of db.getKeys({ limit: 1 })) return key;
    return undefined;
  }

  /** The compact range of `size` leaves from stored nodes (level ≥ 4) and leaf hashes. */
  #rangeAt(size: number): CompactRange {
    return CompactRange.of(this.#hasher.one, size, (level, index) => this.#node(level, index));
  }

  #node(level: number, index: number): Uint8Array {
    if (level >= STORED_NODE_LEVEL) {
      const hash = this.#nodes.get([level, index]);
      if (hash === undefined) throw new TypeError(`the LMDB store lacks node ${level}/${index}`);
      return hash;
    }
    const width = 2 ** level;
    const range = new CompactRange(this.#hasher.one, 0);
    for (let seq = index * width; seq < (index + 1) * width; seq++) {
      const row = this.#audit.get(seq);
      if (row === undefined) throw new TypeError(`the LMDB store lacks audit entry ${seq}`);
      range.append(row[7]);
    }
    return range.root();
  }

  /** `Store.#prepare` and `AuditLog.stage`'s hashing, with the node's functions. */
  #prepare(events: readonly EngineEvent[]): PreparedBatch {
    const nowMs = Math.max(Math.floor(this.#now()), this.#lastTime);
    const firstSeq = this.#nextSeq;
    const firstAuditSeq = this.#range.size;
    const { encodedHashes, details } = acceptedEventDigests(
      this.#hasher,
      events,
      firstSeq,
      firstAuditSeq,
      nowMs,
    );
    const replayDigests = this.#hasher.many(packReplayKeyInputs(events));
    const replayKeys = events.map((_, i) =>
      Buffer.from(replayDigests.buffer, replayDigests.byteOffset + i * 32, REPLAY_KEY_BYTES),
    );
    const eventRows = events.map(
      (e, i): EventRowValues => [
        firstSeq + i,
        firstAuditSeq + i,
        e.id,
        e.author,
        e.kind,
        e.nonce,
        e.createdAt,
        e.expiresAt,
        nowMs,
        e.encoded,
        encodedHashes.subarray(i * 32, i * 32 + 32),
      ],
    );
    const entries: AuditEntry[] = events.map((e, i) => ({
      format: ENTRY_FORMAT_VERSION,
      seq: firstAuditSeq + i,
      time: nowMs,
      type: 'accept',
      eventId: e.id,
      reason: null,
      detail: details[i] as string,
    }));
    const leaves = this.#hasher.many(packLeafInputs(entries));
    const links = this.#hasher.chain(this.#chainHead, leaves); // in one call, as the store
    const auditRows = entries.map((e, i): AuditRowValues => {
      const leaf = leaves.subarray(i * 32, i * 32 + 32);
      const chain = links.subarray(i * 32, i * 32 + 32);
      return [e.format, e.seq, e.time, e.type, e.eventId, e.reason, e.detail, leaf, chain];
    });
    const range = this.#range.clone();
    const nodes: PreparedBatch['nodes'] = [];
    const hashNodes = (inputs: Uint8Array, count: number): Uint8Array => {
      const nodeOffsets = new Uint32Array(count + 1);
      for (let i = 0; i <= count; i++) nodeOffsets[i] = i * NODE_INPUT;
      return this.#hasher.many({ data: inputs, offsets: nodeOffsets });
    };
    range.appendMany(leaves, hashNodes, (node) => {
      if (node.level >= STORED_NODE_LEVEL) nodes.push(node);
    });
    return {
      eventRows,
      replayKeys,
      auditRows,
      nodes,
      range,
      chainHead: entries.length > 0 ? links.slice(links.length - 32) : this.#chainHead,
      nowSec: Math.floor(nowMs / 1000),
    };
  }

  /**
   * The judge's and the store's rule, with the node's one lookup per event (its replay
   * record): the pair's newest user is this very event (same id: a duplicate) or a live one (a
   * replay conflict); and no pair twice in the batch. An id is found through its pair, as in
   * the node (the id is the hash of a body that holds the author and the nonce).
   */
  #check(events: readonly EngineEvent[], p: PreparedBatch): void {
    const pairs = new Set<string>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as EngineEvent;
      const key = p.replayKeys[i] as Buffer;
      const pair = key.toString('latin1');
      const used = this.#replayGet(key);
      if (used !== undefined) {
        const stored = this.#events.get(used[0]);
        if (stored !== undefined && Buffer.compare(stored[2], e.id) === 0)
          throw new StoreConflictError(
            `event ${Buffer.from(e.id).toString('hex')} is already stored; nothing written`,
          );
      }
      if (pairs.has(pair) || (used !== undefined && used[1] >= p.nowSec))
        throw new StoreConflictError(
          `event ${Buffer.from(e.id).toString('hex')} reuses the nonce of a live replay record of ${e.author}; nothing written`,
        );
      pairs.add(pair);
    }
  }

  #put(p: PreparedBatch): void {
    for (let i = 0; i < p.eventRows.length; i++) {
      const row = p.eventRows[i] as EventRowValues;
      const id = row[2];
      this.#events.put(row[0], row);
      const bareId = Buffer.from(id.buffer, id.byteOffset, id.byteLength);
      const replayKey = p.replayKeys[i] as Buffer;
      if (this.#filter === undefined) {
        this.#ids.put(bareId, row[0]);
        this.#replay.put(replayKey, [row[0], row[7]]);
      } else {
        const part = indexPartition(row[0]);
        this.#ids.put(partKey(part, bareId), row[0]);
        this.#replay.put(partKey(part, replayKey), [row[0], row[7]]);
      }
    }
    for (const row of p.auditRows) this.#audit.put(row[1], row);
    for (const n of p.nodes) this.#nodes.put([n.level, n.index], n.hash);
  }

  #adopt(p: PreparedBatch): void {
    // the filter learns a batch's keys once it is committed, as the node's (event-index.ts)
    if (this.#filter !== undefined)
      for (let i = 0; i < p.eventRows.length; i++)
        this.#filter.add(
          indexKey(p.replayKeys[i] as Buffer),
          indexPartition((p.eventRows[i] as EventRowValues)[0]),
        );
    this.#nextSeq += p.eventRows.length;
    this.#range = p.range;
    this.#chainHead = p.chainHead;
    if (p.auditRows.length > 0) this.#lastTime = Math.max(this.#lastTime, p.auditRows[0]?.[2] ?? 0);
  }
}

/** A partitioned key: the partition as 4 big-endian bytes, then the bare key. */
function partKey(part: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + key.length);
  out.writeUInt32BE(part, 0);
  key.copy(out, 4);
  return out;
}
