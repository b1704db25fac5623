/**
 * The identity tables (migrations 3, 7, 8 and 9): attached key events, the key state
 * dictionary, which stored events name each key state (`identity_staged`: one row per commit,
 * folded every `foldAt` events into `identity_runs`: per key state, one row per fold) and the
 * standing of those a key event invalidated. Written
 * inside the store's commit transaction ({@link IdentityTables.write}), so an event, its identity row and their audit entries are
 * durable together; read by the node at start (the key event logs are rebuilt from
 * `key_events`) and page by page when a key event changes verdicts (re-evaluation).
 */
import type { Database, Statement } from 'better-sqlite3';

import { CorruptDatabaseError } from './errors.js';

/** An attached key event, as stored. */
export interface KeyEventRow {
  readonly id: Uint8Array;
  readonly identity: string;
  /** `inception`, `rotation`, `revocation`, `recovery` or `veto`. */
  readonly type: string;
  readonly createdAt: number;
  /** The canonical CBOR of the copy that was attached. */
  readonly encoded: Uint8Array;
}

/** The identity row of an accepted event: which event of the commit, and the key state it names. */
export interface IdentityEventRow {
  /** The event's position in the commit's accepted events (its seq is assigned there). */
  readonly index: number;
  /** 64 lowercase hex digits. */
  readonly keyState: string;
}

/** A stored event's identity standing, as read back (with the event's own columns). */
export interface IdentityStanding {
  readonly seq: number;
  readonly id: Uint8Array;
  /** The author: a did:cs. */
  readonly identity: string;
  /** 64 lowercase hex digits. */
  readonly keyState: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Null while valid; else the ERR_KEL_ code it was invalidated with. */
  readonly invalidReason: string | null;
  /** The key event (hex id) whose arrival invalidated it. */
  readonly invalidBy: string | null;
}

/** How a stored event of an identity was invalidated (no such record: it is valid). */
export interface IdentityInvalidation {
  readonly seq: number;
  /** The ERR_KEL_ code it was invalidated with. */
  readonly invalidReason: string;
  /** The key event (hex id) whose arrival invalidated it. */
  readonly invalidBy: string | null;
}

/** A new standing for a stored event: valid again (`invalidReason` null) or invalidated. */
export interface StandingChange {
  readonly seq: number;
  readonly invalidReason: string | null;
  readonly invalidBy: string | null;
}

/**
 * What a write changes in memory once its transaction commits ({@link IdentityTables.adopt}):
 * the dictionary rows it added (key state hex → id), and how many events are staged after it.
 */
export interface StagedKeyStates {
  readonly added: Map<string, number>;
  staged: number;
}

/** What one commit writes to the identity tables. */
export interface IdentityWrites {
  readonly keyEvents?: readonly KeyEventRow[];
  readonly events?: readonly IdentityEventRow[];
  readonly standings?: readonly StandingChange[];
}

/** The columns of an identity's event that a standing reads (with its invalidation). */
interface EventDbRow {
  id: Uint8Array;
  author: string;
  created_at: number;
  expires_at: number;
  invalid_reason: string | null;
  invalid_by: string | null;
}

interface RunDbRow {
  first_seq: number;
  seqs: Uint8Array;
}

/** The staged events as read: by key state id (seqs ascending), and the ids ascending. */
interface StagedRead {
  readonly byId: Map<number, number[]>;
  readonly ids: readonly number[];
}

interface StagedDbRow {
  first_seq: number;
  entries: Uint8Array;
}

const hexOf = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * A run's `seqs` column: the seqs after its first, each as its distance from `first_seq`, 4
 * bytes big-endian, ascending (empty for a run of one event). `seqs` must ascend strictly
 * (a commit's events do): a RangeError otherwise, so the commit writes nothing.
 */
export function encodeRunSeqs(seqs: readonly number[]): Buffer {
  const first = seqs[0] ?? 0;
  const out = Buffer.allocUnsafe(4 * Math.max(0, seqs.length - 1));
  for (let i = 1; i < seqs.length; i++) {
    const d = (seqs[i] as number) - first;
    if (d <= (i === 1 ? 0 : (seqs[i - 1] as number) - first))
      throw new RangeError(`a run's seqs must ascend: ${seqs.join(', ')}`);
    out.writeUInt32BE(d, 4 * (i - 1));
  }
  return out;
}

/**
 * The seqs of a run (`first_seq` first), or undefined if `seqs` is not a whole number of
 * 4-byte distances, strictly ascending after the first.
 */
export function decodeRunSeqs(firstSeq: number, seqs: Uint8Array): number[] | undefined {
  if (seqs.length % 4 !== 0) return undefined;
  const view = new DataView(seqs.buffer, seqs.byteOffset, seqs.byteLength);
  const out = [firstSeq];
  let last = 0;
  for (let at = 0; at < seqs.length; at += 4) {
    const d = view.getUint32(at);
    if (d <= last) return undefined;
    last = d;
    out.push(firstSeq + d);
  }
  return out;
}

/** Key states whose dictionary ids are kept in memory (the oldest entry leaves first). */
const KEY_STATE_IDS = 4096;

/** Staged identity events folded into runs at once (schema.ts, version 9). */
export const DEFAULT_FOLD_AT = 16_384;

/**
 * A staged row's `entries`: per event, its key state id and its distance from `firstSeq`
 * (4 bytes big-endian each), seqs strictly ascending from `firstSeq` itself (distance 0).
 */
export function encodeStagedEntries(
  firstSeq: number,
  keyStateIds: readonly number[],
  seqs: readonly number[],
): Buffer {
  const out = Buffer.allocUnsafe(8 * seqs.length);
  for (let i = 0; i < seqs.length; i++) {
    const d = (seqs[i] as number) - firstSeq;
    if (i === 0 ? d !== 0 : d <= (seqs[i - 1] as number) - firstSeq)
      throw new RangeError(`staged seqs must ascend from the first: ${seqs.join(', ')}`);
    out.writeUInt32BE(keyStateIds[i] as number, 8 * i);
    out.writeUInt32BE(d, 8 * i + 4);
  }
  return out;
}

/** A staged row's entries as read: the i-th event's key state id and seq. */
export interface StagedEntries {
  readonly keyStateIds: number[];
  readonly seqs: number[];
}

/**
 * The (key state id, seq) pairs of a staged row, as two arrays (a fold reads 16,384 of them at
 * once: no object per entry), or undefined if `entries` is not a whole, non-empty number of
 * 8-byte entries whose first is at distance 0 and whose seqs ascend.
 */
export function decodeStagedEntries(
  firstSeq: number,
  entries: Uint8Array,
): StagedEntries | undefined {
  if (entries.length === 0 || entries.length % 8 !== 0) return undefined;
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const out: StagedEntries = { keyStateIds: [], seqs: [] };
  let last = -1;
  for (let at = 0; at < entries.length; at += 8) {
    const d = view.getUint32(at + 4);
    if (at === 0 ? d !== 0 : d <= last) return undefined;
    last = d;
    out.keyStateIds.push(view.getUint32(at));
    out.seqs.push(firstSeq + d);
  }
  return out;
}

/** Adds the i-th (key state id, seq) to `runs`: each key state's seqs in the order given. */
function addToRuns(
  runs: Map<number, number[]>,
  keyStateIds: readonly number[],
  seqs: readonly number[],
): void {
  for (let i = 0; i < seqs.length; i++) {
    const id = keyStateIds[i] as number;
    const run = runs.get(id);
    if (run === undefined) runs.set(id, [seqs[i] as number]);
    else run.push(seqs[i] as number);
  }
}

/** Runs read per query while paging a key state's events. */
const RUNS_PER_READ = 64;

export class IdentityTables {
  readonly #insertKeyEvent: Statement;
  readonly #insertRun: Statement;
  readonly #insertStaged: Statement;
  readonly #stagedCount: Statement;
  readonly #stagedRows: Statement;
  readonly #clearStaged: Statement;
  readonly #authorOf: Statement;
  readonly #foldAt: number;
  /** Events in `identity_staged` as committed (undefined: not read yet). */
  #stagedEvents: number | undefined;
  /**
   * The staged events by key state id as last read outside a transaction; dropped by every
   * write that stages or folds (so a rolled-back write never leaves a copy of its rows).
   */
  #stagedRead: StagedRead | undefined;
  readonly #db: Database;
  readonly #keyStateIdOf: Statement;
  readonly #insertKeyState: Statement;
  /** Key state (hex) → its `key_states` id, for key states whose row is committed. */
  readonly #keyStateIds = new Map<string, number>();
  readonly #invalidate: Statement;
  readonly #revalidate: Statement;
  readonly #invalidation: Statement;
  readonly #allKeyEvents: Statement;
  readonly #keyEventsOf: Statement;
  readonly #runsFrom: Statement;
  readonly #eventOf: Statement;
  readonly #keyStateOf: Statement;
  readonly #nextKeyStateId: Statement;
  readonly #countInvalidOf: Statement;
  readonly #countKeyEvents: Statement;
  readonly #countOf: Statement;
  readonly #maxSeq: Statement;
  readonly #keyEventItems: Statement;
  readonly #keyEventBytes: Statement;

  /**
   * `seqOf`: the seq of the stored event with this id (the store's id index); `foldAt`: how
   * many staged identity events a commit folds into runs (tests make it small).
   */
  constructor(
    db: Database,
    private readonly seqOf: (id: Uint8Array) => number | undefined,
    options: { readonly foldAt?: number } = {},
  ) {
    this.#db = db;
    this.#foldAt = Math.max(1, options.foldAt ?? DEFAULT_FOLD_AT);
    this.#insertStaged = db.prepare(
      'INSERT INTO identity_staged (first_seq, entries) VALUES (?, ?)',
    );
    this.#stagedCount = db
      .prepare('SELECT coalesce(sum(length(entries)), 0) / 8 FROM identity_staged')
      .pluck();
    this.#stagedRows = db.prepare(
      'SELECT first_seq, entries FROM identity_staged ORDER BY first_seq',
    );
    this.#clearStaged = db.prepare('DELETE FROM identity_staged');
    this.#authorOf = db.prepare('SELECT author FROM events WHERE seq = ?').pluck();
    this.#insertKeyEvent = db.prepare(
      `INSERT INTO key_events (seq, id, identity, type, created_at, received_at, encoded)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertRun = db.prepare(
      'INSERT INTO identity_runs (key_state_id, first_seq, seqs) VALUES (?, ?, ?)',
    );
    this.#keyStateIdOf = db.prepare('SELECT id FROM key_states WHERE key_state = ?').pluck();
    this.#insertKeyState = db.prepare('INSERT INTO key_states (key_state) VALUES (?)');
    this.#invalidate = db.prepare(
      `INSERT INTO identity_invalid (event_seq, invalid_reason, invalid_by) VALUES (?, ?, ?)
       ON CONFLICT (event_seq) DO UPDATE SET invalid_reason = excluded.invalid_reason,
       invalid_by = excluded.invalid_by`,
    );
    this.#revalidate = db.prepare('DELETE FROM identity_invalid WHERE event_seq = ?');
    this.#invalidation = db.prepare(
      'SELECT event_seq AS seq, invalid_reason, invalid_by FROM identity_invalid WHERE event_seq = ?',
    );
    this.#allKeyEvents = db.prepare(
      'SELECT id, identity, type, created_at, encoded FROM key_events ORDER BY seq',
    );
    this.#keyEventsOf = db.prepare(
      'SELECT id, identity, type, created_at, encoded FROM key_events WHERE identity = ? ORDER BY seq',
    );
    // a key state's runs from the one holding seq `after` + 1 on: a range of the key
    this.#runsFrom = db.prepare(
      `SELECT first_seq, seqs FROM identity_runs WHERE key_state_id = @ks AND first_seq >= coalesce(
         (SELECT max(first_seq) FROM identity_runs WHERE key_state_id = @ks AND first_seq <= @after), 0)
       AND first_seq >= @from ORDER BY first_seq LIMIT @limit`,
    );
    this.#eventOf = db.prepare(
      `SELECT e.id, e.author, e.created_at, e.expires_at, v.invalid_reason, v.invalid_by
       FROM events e LEFT JOIN identity_invalid v ON v.event_seq = e.seq WHERE e.seq = ?`,
    );
    this.#keyStateOf = db.prepare('SELECT key_state FROM key_states WHERE id = ?').pluck();
    this.#nextKeyStateId = db
      .prepare('SELECT min(key_state_id) FROM identity_runs WHERE key_state_id > ?')
      .pluck();
    this.#countKeyEvents = db.prepare('SELECT count(*) FROM key_events').pluck();
    // a run's events share its key state, so its first event names the author of all
    this.#countOf = db
      .prepare(
        `SELECT coalesce(sum(1 + length(r.seqs) / 4), 0) FROM identity_runs r
         JOIN events e ON e.seq = r.first_seq WHERE e.author = ?`,
      )
      .pluck();
    this.#countInvalidOf = db
      .prepare(
        `SELECT count(*) FROM identity_invalid v JOIN events e ON e.seq = v.event_seq
         WHERE e.author = ?`,
      )
      .pluck();
    this.#maxSeq = db.prepare('SELECT max(seq) FROM key_events').pluck();
    this.#keyEventItems = db.prepare('SELECT id, created_at FROM key_events ORDER BY seq');
    this.#keyEventBytes = db.prepare('SELECT encoded FROM key_events WHERE id = ?').pluck();
  }

  /**
   * Writes `w`; called inside the store's commit transaction only, `firstSeq` being the seq of
   * the commit's first accepted event.
   */
  write(w: IdentityWrites, firstSeq: number, receivedAt: number): StagedKeyStates {
    // read once, then kept (adopted after each commit: a rolled-back write leaves it as it was)
    this.#stagedEvents ??= this.#stagedCount.get() as number;
    const added = new Map<string, number>();
    const out: StagedKeyStates = { added, staged: this.#stagedEvents };
    if (w.keyEvents !== undefined && w.keyEvents.length > 0) {
      let seq = ((this.#maxSeq.get() as number | null) ?? 0) + 1;
      for (const k of w.keyEvents) {
        this.#insertKeyEvent.run(
          seq++,
          k.id,
          k.identity,
          k.type,
          k.createdAt,
          receivedAt,
          k.encoded,
        );
      }
    }
    // the commit's events (ascending: `events` come in commit order) as one staged row at the
    // end of `identity_staged`; the commit that brings the staged events to `foldAt` folds
    // them all into runs, one row per key state (schema.ts, version 9)
    const events = w.events ?? [];
    if (events.length > 0) {
      this.#stagedRead = undefined;
      const ids: number[] = [];
      const seqs: number[] = [];
      let lastHex = '';
      let lastId = 0;
      for (const e of events) {
        if (e.keyState !== lastHex) {
          lastHex = e.keyState;
          lastId = this.#keyStateId(lastHex, added);
        }
        ids.push(lastId);
        seqs.push(firstSeq + e.index);
      }
      if (out.staged + seqs.length < this.#foldAt) {
        this.#insertStaged.run(seqs[0], encodeStagedEntries(seqs[0] as number, ids, seqs));
        out.staged += seqs.length;
      } else {
        this.#fold(ids, seqs);
        out.staged = 0;
      }
    }
    for (const s of w.standings ?? []) {
      if (s.invalidReason === null) this.#revalidate.run(s.seq);
      else this.#invalidate.run(s.seq, s.invalidReason, s.invalidBy);
    }
    return out;
  }

  /**
   * Every staged event and these (newer), as runs: one row per key state, its seqs ascending;
   * then no staged row is left.
   */
  #fold(ids: readonly number[], seqs: readonly number[]): void {
    const runs = this.#readStaged();
    addToRuns(runs, ids, seqs);
    for (const [id, run] of runs) this.#insertRun.run(id, run[0], encodeRunSeqs(run));
    this.#clearStaged.run();
  }

  /** The staged rows as read now: a new map of key state id → seqs ascending. */
  #readStaged(): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const row of this.#stagedRows.all() as StagedDbRow[]) {
      const entries = decodeStagedEntries(row.first_seq, row.entries);
      if (entries === undefined)
        throw new CorruptDatabaseError(`identity_staged row ${row.first_seq} is malformed`);
      addToRuns(out, entries.keyStateIds, entries.seqs);
    }
    return out;
  }

  /**
   * The staged events, by key state id, each list ascending, and those ids ascending (at most
   * `foldAt` events: read once for the reads that follow, until the next write).
   */
  #staged(): StagedRead {
    if (this.#stagedRead !== undefined) return this.#stagedRead;
    const out = this.#readStaged();
    const read = { byId: out, ids: [...out.keys()].sort((a, b) => a - b) };
    if (!this.#db.inTransaction) this.#stagedRead = read;
    return read;
  }

  /**
   * Remembers the dictionary rows a {@link write} added, once its transaction committed (the
   * store's commit adopts them as it adopts the audit log's and the indexes' staged state);
   * ids of a rolled-back write are never adopted, so never used again from memory.
   */
  adopt(staged: StagedKeyStates): void {
    for (const [hex, id] of staged.added) this.#remember(hex, id);
    this.#stagedEvents = staged.staged;
  }

  /**
   * The `key_states` id of a key state (hex), its row added in this transaction (and to
   * `added`) if it has none. Ids of rows added here are remembered only by {@link adopt}.
   */
  #keyStateId(hex: string, added: Map<string, number>): number {
    const known = this.#keyStateIds.get(hex) ?? added.get(hex);
    if (known !== undefined) return known;
    const bytes = Buffer.from(hex, 'hex');
    const stored = this.#keyStateIdOf.get(bytes) as number | undefined;
    if (stored !== undefined) {
      this.#remember(hex, stored);
      return stored;
    }
    const id = Number(this.#insertKeyState.run(bytes).lastInsertRowid);
    added.set(hex, id);
    return id;
  }

  #remember(hex: string, id: number): void {
    if (this.#keyStateIds.size >= KEY_STATE_IDS) {
      const oldest = this.#keyStateIds.keys().next();
      if (oldest.done !== true) this.#keyStateIds.delete(oldest.value);
    }
    this.#keyStateIds.set(hex, id);
  }

  /** Every attached key event, in the order they were stored. */
  keyEvents(identity?: string): KeyEventRow[] {
    const rows = (
      identity === undefined ? this.#allKeyEvents.all() : this.#keyEventsOf.all(identity)
    ) as {
      id: Uint8Array;
      identity: string;
      type: string;
      created_at: number;
      encoded: Uint8Array;
    }[];
    return rows.map((r) => ({
      id: new Uint8Array(r.id),
      identity: r.identity,
      type: r.type,
      createdAt: r.created_at,
      encoded: new Uint8Array(r.encoded),
    }));
  }

  /** Id and `created_at` of every attached key event (the sync set's key events). */
  *keyEventItems(): Generator<{ id: Uint8Array; createdAt: number }> {
    for (const r of this.#keyEventItems.iterate() as Iterable<{
      id: Uint8Array;
      created_at: number;
    }>)
      yield { id: new Uint8Array(r.id), createdAt: r.created_at };
  }

  /** The stored canonical CBOR of an attached key event, or undefined. */
  encodedKeyEvent(id: Uint8Array): Uint8Array | undefined {
    const bytes = this.#keyEventBytes.get(id) as Uint8Array | undefined;
    return bytes === undefined ? undefined : new Uint8Array(bytes);
  }

  get keyEventCount(): number {
    return this.#countKeyEvents.get() as number;
  }

  /**
   * How a stored event was invalidated by a key event, or undefined: valid, or not an
   * identity's event (or not stored).
   */
  standing(id: Uint8Array): IdentityInvalidation | undefined {
    const seq = this.seqOf(id);
    const row = (seq === undefined ? undefined : this.#invalidation.get(seq)) as
      | { seq: number; invalid_reason: string; invalid_by: string | null }
      | undefined;
    return row === undefined
      ? undefined
      : { seq: row.seq, invalidReason: row.invalid_reason, invalidBy: row.invalid_by };
  }

  /**
   * Up to `limit` events naming one of `keyStates` (hex; a key state belongs to one identity),
   * unexpired at `nowSeconds`, with seqs above `afterSeq` (ascending): one page of a
   * re-evaluation.
   */
  page(
    keyStates: readonly string[],
    afterSeq: number,
    nowSeconds: number,
    limit: number,
  ): IdentityStanding[] {
    // each key state's first `limit` hold the first `limit` of all of them
    const all: IdentityStanding[] = [];
    for (const keyState of keyStates) {
      const id = this.#keyStateIdOf.get(Buffer.from(keyState, 'hex')) as number | undefined;
      if (id !== undefined) all.push(...this.live({ id, keyState }, afterSeq, nowSeconds, limit));
    }
    if (keyStates.length > 1) all.sort((a, b) => a.seq - b.seq);
    return all.length > limit ? all.slice(0, limit) : all;
  }

  /** The next key state (by dictionary id, above `afterId`) that stored events name. */
  nextKeyState(afterId: number): { id: number; keyState: string } | undefined {
    let id = this.#nextKeyStateId.get(afterId) as number | null;
    // the first staged id above `afterId` (a binary search: the start-up walk asks once per
    // key state)
    const { ids } = this.#staged();
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ids[mid] as number) <= afterId) lo = mid + 1;
      else hi = mid;
    }
    const staged = ids[lo];
    if (staged !== undefined && (id === null || staged < id)) id = staged;
    if (id === null) return undefined;
    const bytes = this.#keyStateOf.get(id) as Uint8Array | undefined;
    if (bytes === undefined)
      throw new CorruptDatabaseError(`an identity row names key state ${id}, which has no row`);
    return { id, keyState: hexOf(bytes) };
  }

  /**
   * Up to `limit` events naming the key state (its id and hex), unexpired at `nowSeconds`, with
   * seqs above `afterSeq` (ascending): its runs from the one holding `afterSeq` on, a range
   * of the table's key, and each event's row by seq.
   */
  live(
    keyState: { readonly id: number; readonly keyState: string },
    afterSeq: number,
    nowSeconds: number,
    limit: number,
  ): IdentityStanding[] {
    const out: IdentityStanding[] = [];
    if (limit <= 0) return out;
    // one event's standing, unless it is at or before `afterSeq`, or no longer stored or live;
    // true once `limit` are taken
    const take = (seq: number): boolean => {
      if (seq <= afterSeq) return false;
      const e = this.#eventOf.get(seq) as EventDbRow | undefined;
      if (e === undefined || e.expires_at <= nowSeconds) return false;
      out.push({
        seq,
        id: new Uint8Array(e.id),
        identity: e.author,
        keyState: keyState.keyState,
        createdAt: e.created_at,
        expiresAt: e.expires_at,
        invalidReason: e.invalid_reason,
        invalidBy: e.invalid_by,
      });
      return out.length >= limit;
    };
    // its runs, then its staged events (newer than every run's)
    for (let from = 0; ; ) {
      const runs = this.#runsFrom.all({
        ks: keyState.id,
        after: afterSeq,
        from,
        limit: RUNS_PER_READ,
      }) as RunDbRow[];
      for (const run of runs) {
        const seqs = decodeRunSeqs(run.first_seq, run.seqs);
        if (seqs === undefined) {
          throw new CorruptDatabaseError(
            `identity_runs row (${keyState.id}, ${run.first_seq}) has a malformed seqs column`,
          );
        }
        for (const seq of seqs) if (take(seq)) return out;
      }
      const last = runs[runs.length - 1];
      if (last === undefined || runs.length < RUNS_PER_READ) break;
      from = last.first_seq + 1;
    }
    for (const seq of this.#staged().byId.get(keyState.id) ?? []) if (take(seq)) return out;
    return out;
  }

  /** How many stored events an identity authored, and how many of them are invalidated. */
  counts(identity: string): { events: number; invalidated: number } {
    // a key state belongs to one identity: its first staged event names the author of all
    let staged = 0;
    for (const seqs of this.#staged().byId.values())
      if (this.#authorOf.get(seqs[0]) === identity) staged += seqs.length;
    return {
      events: (this.#countOf.get(identity) as number) + staged,
      invalidated: this.#countInvalidOf.get(identity) as number,
    };
  }
}
