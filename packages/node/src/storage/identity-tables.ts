/**
 * The identity tables (migrations 3, 7 and 8): attached key events, the key state dictionary,
 * the identity rows of stored events whose author is a did:cs (by key state, then seq) and the
 * standing of those a key event invalidated. Written inside the store's commit transaction
 * ({@link IdentityTables.write}), so an event, its identity row and their audit entries are
 * durable together; read by the node at start (the key event logs are rebuilt from
 * `key_events`) and page by page when a key event changes verdicts (re-evaluation).
 */
import type { Database, Statement } from 'better-sqlite3';

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
  /** The key state's `key_states` id (the first column of the row's key). */
  readonly keyStateId: number;
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

/** Dictionary rows a write added (key state hex → id), for {@link IdentityTables.adopt}. */
export type StagedKeyStates = Map<string, number>;

/** What one commit writes to the identity tables. */
export interface IdentityWrites {
  readonly keyEvents?: readonly KeyEventRow[];
  readonly events?: readonly IdentityEventRow[];
  readonly standings?: readonly StandingChange[];
}

interface StandingDbRow {
  seq: number;
  id: Uint8Array;
  author: string;
  key_state: Uint8Array;
  key_state_id: number;
  created_at: number;
  expires_at: number;
  invalid_reason: string | null;
  invalid_by: string | null;
}

const hexOf = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function standingOf(r: StandingDbRow): IdentityStanding {
  return {
    seq: r.seq,
    id: new Uint8Array(r.id),
    identity: r.author,
    keyState: hexOf(r.key_state),
    keyStateId: r.key_state_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    invalidReason: r.invalid_reason,
    invalidBy: r.invalid_by,
  };
}

/** Key states whose dictionary ids are kept in memory (the oldest entry leaves first). */
const KEY_STATE_IDS = 4096;

/**
 * The columns of a standing: the identity row joined with its event, its key state and its
 * invalidation if it has one.
 */
const STANDING = `SELECT e.seq, e.id, e.author, k.key_state, i.key_state_id, e.created_at,
  e.expires_at, v.invalid_reason, v.invalid_by FROM identity_events i
  JOIN events e ON e.seq = i.event_seq JOIN key_states k ON k.id = i.key_state_id
  LEFT JOIN identity_invalid v ON v.event_seq = i.event_seq`;

export class IdentityTables {
  readonly #insertKeyEvent: Statement;
  readonly #insertEvent: Statement;
  readonly #keyStateIdOf: Statement;
  readonly #insertKeyState: Statement;
  /** Key state (hex) → its `key_states` id, for key states whose row is committed. */
  readonly #keyStateIds = new Map<string, number>();
  readonly #invalidate: Statement;
  readonly #revalidate: Statement;
  readonly #invalidation: Statement;
  readonly #allKeyEvents: Statement;
  readonly #keyEventsOf: Statement;
  readonly #liveAfter: Statement;
  readonly #countKeyEvents: Statement;
  readonly #countOf: Statement;
  readonly #maxSeq: Statement;
  readonly #keyEventItems: Statement;
  readonly #keyEventBytes: Statement;

  /** `seqOf`: the seq of the stored event with this id (the store's id index). */
  constructor(
    private readonly db: Database,
    private readonly seqOf: (id: Uint8Array) => number | undefined,
  ) {
    this.#insertKeyEvent = db.prepare(
      `INSERT INTO key_events (seq, id, identity, type, created_at, received_at, encoded)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertEvent = db.prepare(
      'INSERT INTO identity_events (key_state_id, event_seq) VALUES (?, ?)',
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
    // the key's order: a range of the one B-tree, no sort
    this.#liveAfter = db.prepare(
      `${STANDING} WHERE (i.key_state_id, i.event_seq) > (?, ?) AND e.expires_at > ?
       ORDER BY i.key_state_id, i.event_seq LIMIT ?`,
    );
    this.#countKeyEvents = db.prepare('SELECT count(*) FROM key_events').pluck();
    this.#countOf = db.prepare(
      `SELECT count(*) AS events, count(v.invalid_reason) AS invalidated
       FROM identity_events i JOIN events e ON e.seq = i.event_seq
       LEFT JOIN identity_invalid v ON v.event_seq = i.event_seq WHERE e.author = ?`,
    );
    this.#maxSeq = db.prepare('SELECT max(seq) FROM key_events').pluck();
    this.#keyEventItems = db.prepare('SELECT id, created_at FROM key_events ORDER BY seq');
    this.#keyEventBytes = db.prepare('SELECT encoded FROM key_events WHERE id = ?').pluck();
  }

  /**
   * Writes `w`; called inside the store's commit transaction only, `firstSeq` being the seq of
   * the commit's first accepted event.
   */
  write(w: IdentityWrites, firstSeq: number, receivedAt: number): StagedKeyStates {
    const added: StagedKeyStates = new Map();
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
    const events = w.events ?? [];
    // many events of a commit name the same key state: one map lookup for a run of them
    let lastHex = '';
    let lastId = 0;
    for (const e of events) {
      if (e.keyState !== lastHex) {
        lastHex = e.keyState;
        lastId = this.#keyStateId(lastHex, added);
      }
      this.#insertEvent.run(lastId, firstSeq + e.index);
    }
    for (const s of w.standings ?? []) {
      if (s.invalidReason === null) this.#revalidate.run(s.seq);
      else this.#invalidate.run(s.seq, s.invalidReason, s.invalidBy);
    }
    return added;
  }

  /**
   * Remembers the dictionary rows a {@link write} added, once its transaction committed (the
   * store's commit adopts them as it adopts the audit log's and the indexes' staged state);
   * ids of a rolled-back write are never adopted, so never used again from memory.
   */
  adopt(added: StagedKeyStates): void {
    for (const [hex, id] of added) this.#remember(hex, id);
  }

  /**
   * The `key_states` id of a key state (hex), its row added in this transaction (and to
   * `added`) if it has none. Ids of rows added here are remembered only by {@link adopt}.
   */
  #keyStateId(hex: string, added: StagedKeyStates): number {
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
    if (keyStates.length === 0) return [];
    // the ids first: the page then walks the small-integer index
    const ids: number[] = [];
    for (const k of keyStates) {
      const id = this.#keyStateIdOf.get(Buffer.from(k, 'hex')) as number | undefined;
      if (id !== undefined) ids.push(id);
    }
    if (ids.length === 0) return [];
    const marks = ids.map(() => '?').join(', ');
    const rows = this.db
      .prepare(
        `${STANDING} WHERE i.key_state_id IN (${marks}) AND i.event_seq > ? AND e.expires_at > ?
         ORDER BY i.event_seq LIMIT ?`,
      )
      .all(...ids, afterSeq, nowSeconds, limit) as StandingDbRow[];
    return rows.map(standingOf);
  }

  /**
   * Up to `limit` unexpired events of any identity after the row (`keyStateId`, `seq`) in the
   * table's order (key state id, then seq): one page of the start-up pass, which resumes after
   * the last row it got.
   */
  liveAfter(
    after: { readonly keyStateId: number; readonly seq: number },
    nowSeconds: number,
    limit: number,
  ): IdentityStanding[] {
    return (
      this.#liveAfter.all(after.keyStateId, after.seq, nowSeconds, limit) as StandingDbRow[]
    ).map(standingOf);
  }

  /** How many stored events an identity authored, and how many of them are invalidated. */
  counts(identity: string): { events: number; invalidated: number } {
    return this.#countOf.get(identity) as { events: number; invalidated: number };
  }
}
