/**
 * What the network part needs of the database besides events and the audit log (schema
 * version 4): which peer delivered each event (provenance), the events kept as evidence of an
 * author's equivocation (spec/SYNC.md §6.3), and the sync set read back at start. The Store
 * owns the connection and calls the writes inside its commit transaction.
 */
import type { Database, Statement } from 'better-sqlite3';

/** An event kept as evidence: valid, but its author had already used its nonce for another. */
export interface ConflictEvidence {
  readonly id: Uint8Array;
  readonly author: string;
  readonly nonce: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The canonical CBOR, exactly as received. */
  readonly encoded: Uint8Array;
  /** The peer that delivered it, or null (merged locally). */
  readonly peer: string | null;
}

/** An id of the sync set as stored: accepted, or kept as conflict evidence. */
export interface SyncRow {
  readonly id: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly conflict: boolean;
}

export class SyncRecords {
  readonly #insertSource: Statement;
  readonly #insertConflict: Statement;
  readonly #eventBytes: Statement;
  readonly #conflictBytes: Statement;
  readonly #sourceOf: Statement;
  readonly #liveEvents: Statement;
  readonly #liveConflicts: Statement;
  readonly #countConflicts: Statement;
  readonly #receipts: Statement;

  /** `seqOf`: the seq of the stored event with this id (the store's id index). */
  constructor(
    db: Database,
    private readonly seqOf: (id: Uint8Array) => number | undefined,
  ) {
    this.#insertSource = db.prepare('INSERT INTO event_sources (event_seq, peer) VALUES (?, ?)');
    this.#insertConflict = db.prepare(
      `INSERT INTO conflict_events (id, author, nonce, created_at, expires_at, received_at, peer, encoded)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    this.#eventBytes = db.prepare('SELECT encoded FROM events WHERE seq = ?').pluck();
    this.#conflictBytes = db.prepare('SELECT encoded FROM conflict_events WHERE id = ?').pluck();
    this.#sourceOf = db.prepare('SELECT peer FROM event_sources WHERE event_seq = ?').pluck();
    // an event a key event invalidated is kept as evidence but leaves the sync set
    // (spec/IDENTITY.md §8): no longer valid anywhere
    this.#liveEvents = db.prepare(
      `SELECT e.id, e.created_at, e.expires_at FROM events e
       LEFT JOIN identity_invalid v ON v.event_seq = e.seq
       WHERE e.expires_at > ? AND v.event_seq IS NULL`,
    );
    this.#liveConflicts = db.prepare(
      'SELECT id, created_at, expires_at FROM conflict_events WHERE expires_at > ?',
    );
    this.#countConflicts = db.prepare('SELECT count(*) FROM conflict_events').pluck();
    this.#receipts = db.prepare('SELECT id, received_at FROM events');
  }

  /** When each stored event was committed (Unix ms), by id in hex: propagation measurements. */
  *receipts(): Generator<[string, number]> {
    for (const row of this.#receipts.iterate() as Iterable<{ id: Uint8Array; received_at: number }>)
      yield [Buffer.from(row.id).toString('hex'), row.received_at];
  }

  /** Inside the commit: `sources[i]` delivered the event stored at `firstSeq + i` (null: a client). */
  writeSources(firstSeq: number, sources: readonly (string | null)[]): void {
    for (let i = 0; i < sources.length; i++) {
      const peer = sources[i];
      if (peer !== null && peer !== undefined) this.#insertSource.run(firstSeq + i, peer);
    }
  }

  /** Inside the commit: evidence rows (an id already held is left as it is). */
  writeEvidence(evidence: readonly ConflictEvidence[], nowMs: number): void {
    for (const e of evidence) {
      this.#insertConflict.run(
        e.id,
        e.author,
        e.nonce,
        e.createdAt,
        e.expiresAt,
        nowMs,
        e.peer,
        e.encoded,
      );
    }
  }

  /** The stored bytes of an accepted event, else of an event kept as evidence. */
  encoded(id: Uint8Array): Uint8Array | undefined {
    const seq = this.seqOf(id);
    const bytes = ((seq === undefined ? undefined : this.#eventBytes.get(seq)) ??
      this.#conflictBytes.get(id)) as Uint8Array | undefined;
    return bytes === undefined ? undefined : new Uint8Array(bytes);
  }

  /** The peer that delivered a stored event; undefined for a client's event or an unknown id. */
  sourceOf(id: Uint8Array): string | undefined {
    const seq = this.seqOf(id);
    return seq === undefined ? undefined : (this.#sourceOf.get(seq) as string | undefined);
  }

  /**
   * Every accepted event (not invalidated by a key event) and every piece of evidence that
   * expires after `nowSeconds`.
   */
  *syncRows(nowSeconds: number): Generator<SyncRow> {
    for (const [statement, conflict] of [
      [this.#liveEvents, false],
      [this.#liveConflicts, true],
    ] as const) {
      for (const row of statement.iterate(nowSeconds) as Iterable<{
        id: Uint8Array;
        created_at: number;
        expires_at: number;
      }>) {
        yield {
          id: new Uint8Array(row.id),
          createdAt: row.created_at,
          expiresAt: row.expires_at,
          conflict,
        };
      }
    }
  }

  countConflicts(): number {
    return this.#countConflicts.get() as number;
  }
}
