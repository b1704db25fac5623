/**
 * One INSERT statement per many rows: `INSERT INTO t (a, b) VALUES (?, ?), (?, ?), …`.
 *
 * A commit writes a thousand rows into each of several tables. Each `Statement.run` crosses
 * into the driver and binds, steps and resets once; with 64 rows per statement the crossing
 * is paid once per 64 rows (measured on the 2-core machine: 3.0–3.5 µs → 2.0–2.5 µs per
 * 11-column event row). The rows and their order are exactly those of one statement per
 * row: SQLite inserts the rows of a VALUES list in order.
 *
 * The statements are `INSERT OR FAIL`, and run only inside a transaction. With the default
 * conflict resolution (ABORT) a statement that writes many rows must be undone alone if a
 * later row fails, so SQLite keeps a statement journal for it: measured on the 2-core machine
 * (1,000-row transactions of 64-row statements, WAL, synchronous=FULL) 3.6–4.1 µs per row into
 * a WITHOUT ROWID index table with random keys (`event_ids`, `replay`), against 1.8–1.9 µs with
 * OR FAIL. FAIL stops at the failing row and keeps the rows before it; the caller's
 * transaction then rolls back as a whole (a commit stores all of its rows or none), so the
 * outcome is the same: the error, and nothing written.
 */
import type { Database, Statement } from 'better-sqlite3';

/** Rows per statement: 64 × 11 columns stays far below SQLite's 32,766 bound parameters. */
export const ROWS_PER_STATEMENT = 64;

export class MultiRowInsert {
  readonly #db: Database;
  readonly #head: string;
  readonly #columns: number;
  /** Statements by row count, prepared when first needed (a batch's tail has its own size). */
  readonly #statements = new Map<number, Statement>();

  /** Rows of `columns` (names) into `table`. */
  constructor(db: Database, table: string, columns: readonly string[]) {
    this.#db = db;
    this.#head = `INSERT OR FAIL INTO ${table} (${columns.join(', ')}) VALUES`;
    this.#columns = columns.length;
  }

  /**
   * Inserts `values.length / columns` rows whose values lie row after row in `values`, in that
   * order, inside the caller's transaction (a TypeError outside one: a failing row would leave
   * the rows before it written).
   */
  run(values: readonly unknown[]): void {
    if (!this.#db.inTransaction)
      throw new TypeError('MultiRowInsert: rows are written only inside a transaction');
    const c = this.#columns;
    if (values.length % c !== 0)
      throw new TypeError(`MultiRowInsert: ${values.length} values are not rows of ${c}`);
    const rows = values.length / c;
    let row = 0;
    while (row < rows) {
      const n = Math.min(ROWS_PER_STATEMENT, rows - row);
      const args = row === 0 && n === rows ? values : values.slice(row * c, (row + n) * c);
      this.#statement(n).run(args);
      row += n;
    }
  }

  #statement(rows: number): Statement {
    let s = this.#statements.get(rows);
    if (s === undefined) {
      const one = `(${new Array<string>(this.#columns).fill('?').join(', ')})`;
      s = this.#db.prepare(`${this.#head} ${new Array<string>(rows).fill(one).join(', ')}`);
      this.#statements.set(rows, s);
    }
    return s;
  }
}
