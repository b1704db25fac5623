/**
 * The governance table (migration 4, spec/GOVERNANCE.md §7): every governance record the node
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

/** What one commit changes: copies that joined the held set, and copies that left it. */
export interface GovernanceWrites {
  readonly add?: readonly GovernanceRow[];
  readonly remove?: ReadonlyArray<{ readonly id: Uint8Array; readonly signers: string }>;
}

export class GovernanceTable {
  readonly #insert: Statement;
  readonly #delete: Statement;
  readonly #all: Statement;
  readonly #count: Statement;

  constructor(db: Database) {
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
