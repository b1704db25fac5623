/** What the audit verifiers share: the finding they report and column checks. */

/** The first thing found wrong, in log order. */
export interface BadRow {
  readonly table:
    | 'audit_entries'
    | 'audit_nodes'
    | 'checkpoints'
    | 'events'
    | 'event_ids'
    | 'replay'
    | 'key_events'
    | 'identity_runs'
    | 'identity_staged'
    | 'identity_invalid'
    | 'governance_records'
    | 'database';
  /**
   * The row: `seq` for audit_entries, events and checkpoints; "level/idx" for audit_nodes;
   * "part/key/seq" for replay and event_ids; 0 for the database as a whole.
   */
  readonly row: number | string;
  readonly what: string;
}

/** Thrown inside a verifier to stop at the first finding. */
export class Found extends Error {
  readonly bad: BadRow;
  constructor(bad: BadRow) {
    super(`${bad.table} ${bad.row}: ${bad.what}`);
    this.bad = bad;
  }
}

export function fail(table: BadRow['table'], row: number | string, what: string): never {
  throw new Found({ table, row, what });
}

export interface Row {
  [column: string]: unknown;
}

/**
 * The stored rows, as the database holds them: each row a bag of columns whose types the
 * verifier checks itself. Iterations run in the order named; all reads see one snapshot.
 */
export interface AuditData {
  /** Every `checkpoints` row, by seq. */
  checkpoints(): Row[];
  /** The `audit_entries` rows, by seq. */
  entries(): Iterable<Row>;
  /** The `audit_entries` rows whose reason is `reason`, by seq. */
  entriesWithReason(reason: string): Row[];
  /** The `events` rows (every column), by seq. */
  events(): IterableIterator<Row>;
  /** The `events` row numbered `seq` (id, author, nonce, expires_at), if any. */
  eventBySeq(seq: number): Row | undefined;
  /** The `event_ids` rows, by (part, key, seq). */
  eventIdRows(): Iterable<Row>;
  /** Whether `event_ids` has the row (part, key, seq). */
  hasEventIdRow(part: number, key: number, seq: number): boolean;
  /** The hash column of the `audit_nodes` row `level/index`, if any. */
  storedNode(level: number, index: number): unknown;
  /** How many `audit_nodes` rows there are. */
  storedNodeCount(): number;
  /** The keys of every `audit_nodes` row. */
  storedNodeKeys(): Iterable<{ readonly level: unknown; readonly idx: unknown }>;
  /** The `replay` rows, by (part, key, seq). */
  replayRecords(): Iterable<Row>;
  /** Whether `replay` has a row (part, key, seq). */
  hasReplayRow(part: number, key: number, seq: number): boolean;
  /** The `key_events` rows (every column), by seq. */
  keyEventRows(): Iterable<Row>;
  /**
   * Every event that an `identity_runs` row lists, in the table's order (key state, then seq),
   * then every event an `identity_staged` row lists (those with `staged` set), each with its
   * event's columns: `event_seq`, `event_id`, `identity` (the author), `key_state` (hex; null
   * when a staged entry's id names no key state), `created_at`, `expires_at` (null when no
   * event has that seq), `invalid_reason` (from `identity_invalid`; null: none). A row whose
   * `seqs` or `entries` column does not decode gives one item with `malformed` set and its
   * `first_seq` as `event_seq`.
   */
  identityEventRows(): Iterable<Row>;
  /**
   * Whether a run or a staged row lists this seq under this key state (hex): a lookup by the
   * runs' key, or in the staged events (read once).
   */
  hasIdentityRow(seq: number, keyState: string): boolean;
  /** The key states (hex) of every row listing this seq (a scan: only when one is missing). */
  identityRowKeyStates(seq: number): string[];
  /** The `identity_invalid` rows' `event_seq`, ascending. */
  invalidationRows(): Iterable<Row>;
  /** The `governance_records` rows (every column), by id and signers; absent: none kept. */
  governanceRows?(): Iterable<Row>;
}

export const isBlob = (v: unknown, len?: number): v is Uint8Array =>
  v instanceof Uint8Array && (len === undefined || v.length === len);
export const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
export const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const same = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(a, b) === 0;
