/**
 * The governance tables (migration 6, spec/GOVERNANCE.md §7): every governance record the node
 * holds — roots, critical actions, attestations and their revocations — as the canonical CBOR of
 * the copy held, one row per (id, signer set). The anchor is configuration, not a row. Written
 * inside the store's commit transaction ({@link GovernanceTable.write}) with the audit entries
 * that record the change; read at start, where the node replays it through `Governance.load`.
 */
import type { Database, Statement } from 'better-sqlite3';

/** A held record copy, as stored. */
export interface GovernanceRow {
  readonly id: Uint8Array;
  /** The copy's distinct signers, ascending, space-separated (`signerSetOf`). */
  readonly signers: string;
  /** `root`, `action`, `attestation` or `attestation-revocation`. */
  readonly type: string;
  readonly createdAt: number;
  readonly encoded: Uint8Array;
}

/** A stored event as the trust re-evaluation reads it. */
export interface TrustStanding {
  readonly seq: number;
  readonly id: Uint8Array;
  readonly author: string;
  readonly kind: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Null while the event counts; else why the trust policy no longer trusts its author. */
  readonly invalidReason: string | null;
  readonly invalidBy: string | null;
}

/** A new trust standing for a stored event (`invalidReason` null: it counts again). */
export interface TrustStandingChange {
  readonly seq: number;
  readonly invalidReason: string | null;
  readonly invalidBy: string | null;
}

/** What one commit changes: copies that joined the held set, copies that left it, standings. */
export interface GovernanceWrites {
  readonly add?: readonly GovernanceRow[];
  readonly remove?: ReadonlyArray<{ readonly id: Uint8Array; readonly signers: string }>;
  readonly standings?: readonly TrustStandingChange[];
}

const TRUST_STANDING = `SELECT e.seq, e.id, e.author, e.kind, e.created_at, e.expires_at,
  t.invalid_reason, t.invalid_by FROM events e LEFT JOIN trust_events t ON t.event_seq = e.seq`;

interface TrustStandingRow {
  seq: number;
  id: Uint8Array;
  author: string;
  kind: string;
  created_at: number;
  expires_at: number;
  invalid_reason: string | null;
  invalid_by: string | null;
}

const standingOf = (r: TrustStandingRow): TrustStanding => ({
  seq: r.seq,
  id: new Uint8Array(r.id),
  author: r.author,
  kind: r.kind,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  invalidReason: r.invalid_reason,
  invalidBy: r.invalid_by,
});

export class GovernanceTable {
  readonly #insert: Statement;
  readonly #delete: Statement;
  readonly #all: Statement;
  readonly #count: Statement;
  readonly #setInvalid: Statement;
  readonly #setValid: Statement;
  readonly #page: Statement;
  readonly #standing: Statement;
  readonly #countInvalid: Statement;

  constructor(db: Database) {
    this.#setInvalid = db.prepare(
      'INSERT OR REPLACE INTO trust_events (event_seq, invalid_reason, invalid_by) VALUES (?, ?, ?)',
    );
    this.#setValid = db.prepare('DELETE FROM trust_events WHERE event_seq = ?');
    this.#page = db.prepare(
      `${TRUST_STANDING} WHERE e.seq > ? AND e.expires_at > ? ORDER BY e.seq LIMIT ?`,
    );
    this.#standing = db.prepare(`${TRUST_STANDING} WHERE e.seq = ?`);
    this.#countInvalid = db.prepare('SELECT count(*) FROM trust_events').pluck();
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO governance_records (id, signers, type, created_at, received_at, encoded)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#delete = db.prepare('DELETE FROM governance_records WHERE id = ? AND signers = ?');
    this.#all = db.prepare(
      'SELECT id, signers, type, created_at, encoded FROM governance_records ORDER BY id, signers',
    );
    this.#count = db.prepare('SELECT count(*) FROM governance_records').pluck();
  }

  /** Called inside the store's commit transaction only. */
  write(w: GovernanceWrites, receivedAt: number): void {
    for (const r of w.remove ?? []) this.#delete.run(r.id, r.signers);
    for (const r of w.add ?? [])
      this.#insert.run(r.id, r.signers, r.type, r.createdAt, receivedAt, r.encoded);
    for (const s of w.standings ?? []) {
      if (s.invalidReason === null) this.#setValid.run(s.seq);
      else this.#setInvalid.run(s.seq, s.invalidReason, s.invalidBy ?? '');
    }
  }

  /** Up to `limit` stored events unexpired at `nowSeconds` with seqs above `afterSeq`. */
  page(afterSeq: number, nowSeconds: number, limit: number): TrustStanding[] {
    return (this.#page.all(afterSeq, nowSeconds, limit) as TrustStandingRow[]).map(standingOf);
  }

  /** The trust standing of the stored event with this seq (a primary key lookup), if any. */
  standing(seq: number): TrustStanding | undefined {
    const row = this.#standing.get(seq) as TrustStandingRow | undefined;
    return row === undefined ? undefined : standingOf(row);
  }

  /** Stored events the trust policy no longer trusts. */
  get invalidCount(): number {
    return this.#countInvalid.get() as number;
  }

  /** Every held copy, by id then signer set. */
  all(): GovernanceRow[] {
    return (
      this.#all.all() as {
        id: Uint8Array;
        signers: string;
        type: string;
        created_at: number;
        encoded: Uint8Array;
      }[]
    ).map((r) => ({
      id: new Uint8Array(r.id),
      signers: r.signers,
      type: r.type,
      createdAt: r.created_at,
      encoded: new Uint8Array(r.encoded),
    }));
  }

  get count(): number {
    return this.#count.get() as number;
  }
}
