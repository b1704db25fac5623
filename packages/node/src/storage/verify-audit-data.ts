/**
 * `audit verify` over a data directory: opens its database read-only (a node may keep running),
 * gives the pure verifier (audit/verify.ts) the rows it asks for, in one read transaction so
 * that it sees one snapshot, and turns damage SQLite reports into a finding.
 */
import type { Core } from '@commons-sync/bindings';
import type { Database } from 'better-sqlite3';

import {
  type AuditData,
  type AuditVerification,
  type Row,
  type VerifyOptions,
  verifyAuditRows,
} from '../audit/verify.js';
import { openDatabase } from './db.js';
import { CorruptDatabaseError } from './errors.js';
import { decodeRunSeqs, decodeStagedEntries } from './identity-tables.js';

/** The verifier's reads, as SQLite statements over `db`. */
function sqliteAuditData(db: Database): AuditData {
  const eventBySeq = db.prepare('SELECT id, author, nonce, expires_at FROM events WHERE seq = ?');
  const storedNode = db.prepare('SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?').pluck();
  const idRow = db
    .prepare('SELECT 1 FROM event_ids WHERE part = ? AND key = ? AND seq = ?')
    .pluck();
  const replayRow = db
    .prepare('SELECT 1 FROM replay WHERE part = ? AND key = ? AND seq = ?')
    .pluck();
  // each event a run lists, with the columns of its event (none when no event has that seq)
  // and its invalidation (none: valid)
  const eventColumns = db.prepare(
    `SELECT e.id AS event_id, e.author AS identity, e.created_at, e.expires_at, v.invalid_reason
     FROM events e LEFT JOIN identity_invalid v ON v.event_seq = e.seq WHERE e.seq = ?`,
  );
  const noEvent = { event_id: null, identity: null, created_at: null, expires_at: null };
  const invalidation = db
    .prepare('SELECT invalid_reason FROM identity_invalid WHERE event_seq = ?')
    .pluck();
  // the staged events (identity-tables.ts), read once: each entry in the table's order, with
  // its key state hex (null: the id names no key state), and by seq; a malformed row is kept
  // by its first seq
  const keyStateById = db
    .prepare('SELECT lower(hex(key_state)) FROM key_states WHERE id = ?')
    .pluck();
  type Staged = {
    entries: { seq: number; keyState: string | null }[];
    bySeq: Map<number, (string | null)[]>;
    malformed: number[];
  };
  let staged: Staged | undefined;
  const stagedEvents = (): Staged => {
    if (staged !== undefined) return staged;
    const all: Staged['entries'] = [];
    const bySeq = new Map<number, (string | null)[]>();
    const malformed: number[] = [];
    const rows = db
      .prepare('SELECT first_seq, entries FROM identity_staged ORDER BY first_seq')
      .all() as { first_seq: number; entries: unknown }[];
    for (const row of rows) {
      const entries =
        row.entries instanceof Uint8Array
          ? decodeStagedEntries(row.first_seq, row.entries)
          : undefined;
      if (entries === undefined) malformed.push(row.first_seq);
      else
        entries.seqs.forEach((seq, i) => {
          const id = entries.keyStateIds[i] as number;
          const keyState = (keyStateById.get(id) as string | undefined) ?? null;
          all.push({ seq, keyState });
          const listed = bySeq.get(seq);
          if (listed === undefined) bySeq.set(seq, [keyState]);
          else listed.push(keyState);
        });
    }
    staged = { entries: all, bySeq, malformed };
    return staged;
  };
  // an event's columns by seq, or (no such event) nulls and its invalidation if any
  const columnsOf = (seq: number): Row =>
    (eventColumns.get(seq) as Row | undefined) ?? {
      ...noEvent,
      invalid_reason: invalidation.get(seq) ?? null,
    };
  function* identityEventRows(): Generator<Row> {
    const runs = db
      .prepare(
        `SELECT r.first_seq, r.seqs, lower(hex(k.key_state)) AS key_state FROM identity_runs r
         LEFT JOIN key_states k ON k.id = r.key_state_id ORDER BY r.key_state_id, r.first_seq`,
      )
      .iterate() as IterableIterator<{ first_seq: number; seqs: unknown; key_state: unknown }>;
    for (const run of runs) {
      const seqs =
        run.seqs instanceof Uint8Array ? decodeRunSeqs(run.first_seq, run.seqs) : undefined;
      if (seqs === undefined) {
        yield { event_seq: run.first_seq, malformed: 1 };
        continue;
      }
      for (const seq of seqs) yield { event_seq: seq, key_state: run.key_state, ...columnsOf(seq) };
    }
    const { entries, malformed } = stagedEvents();
    for (const first of malformed) yield { event_seq: first, malformed: 1, staged: 1 };
    for (const { seq, keyState } of entries)
      yield { event_seq: seq, key_state: keyState, staged: 1, ...columnsOf(seq) };
  }
  const runOf = db.prepare(
    `SELECT first_seq, seqs FROM identity_runs
     WHERE key_state_id = (SELECT id FROM key_states WHERE key_state = ?) AND first_seq <= ?
     ORDER BY first_seq DESC LIMIT 1`,
  );
  const runLists = (run: { first_seq: number; seqs: Uint8Array }, seq: number): boolean =>
    decodeRunSeqs(run.first_seq, run.seqs)?.includes(seq) === true;
  return {
    checkpoints: () => db.prepare('SELECT * FROM checkpoints ORDER BY seq').all() as Row[],
    entries: () =>
      db.prepare('SELECT * FROM audit_entries ORDER BY seq').iterate() as IterableIterator<Row>,
    entriesWithReason: (reason) =>
      db.prepare('SELECT * FROM audit_entries WHERE reason = ? ORDER BY seq').all(reason) as Row[],
    events: () =>
      db.prepare('SELECT * FROM events ORDER BY seq').iterate() as IterableIterator<Row>,
    eventBySeq: (seq) => eventBySeq.get(seq) as Row | undefined,
    eventIdRows: () =>
      db
        .prepare('SELECT * FROM event_ids ORDER BY part, key, seq')
        .iterate() as IterableIterator<Row>,
    hasEventIdRow: (part, key, seq) => idRow.get(part, key, seq) !== undefined,
    storedNode: (level, index) => storedNode.get(level, index),
    storedNodeCount: () => db.prepare('SELECT count(*) FROM audit_nodes').pluck().get() as number,
    storedNodeKeys: () =>
      db.prepare('SELECT level, idx FROM audit_nodes').iterate() as IterableIterator<{
        level: unknown;
        idx: unknown;
      }>,
    replayRecords: () =>
      db.prepare('SELECT * FROM replay ORDER BY part, key, seq').iterate() as IterableIterator<Row>,
    hasReplayRow: (part, key, seq) => replayRow.get(part, key, seq) !== undefined,
    keyEventRows: () =>
      db.prepare('SELECT * FROM key_events ORDER BY seq').iterate() as IterableIterator<Row>,
    identityEventRows,
    hasIdentityRow: (seq, keyState) => {
      const run = runOf.get(Buffer.from(keyState, 'hex'), seq) as
        | { first_seq: number; seqs: Uint8Array }
        | undefined;
      return (
        (run !== undefined && runLists(run, seq)) ||
        stagedEvents().bySeq.get(seq)?.includes(keyState) === true
      );
    },
    identityRowKeyStates: (seq) => {
      const found: string[] = [];
      const all = db
        .prepare(
          `SELECT r.first_seq, r.seqs, lower(hex(k.key_state)) AS key_state FROM identity_runs r
           LEFT JOIN key_states k ON k.id = r.key_state_id WHERE r.first_seq <= ?`,
        )
        .all(seq) as { first_seq: number; seqs: Uint8Array; key_state: string | null }[];
      for (const run of all) if (runLists(run, seq)) found.push(run.key_state ?? '');
      for (const keyState of stagedEvents().bySeq.get(seq) ?? []) found.push(keyState ?? '');
      return found;
    },
    invalidationRows: () =>
      db
        .prepare('SELECT event_seq FROM identity_invalid ORDER BY event_seq')
        .iterate() as IterableIterator<Row>,
    governanceRows: () =>
      db
        .prepare('SELECT * FROM governance_records ORDER BY id, signers')
        .iterate() as IterableIterator<Row>,
  };
}

/**
 * Checks a data directory's audit log, events, checkpoints and replay records (see
 * audit/verify.ts for what is checked) and reports the first bad row, or `ok` with the counts.
 * Throws for a database it cannot judge (missing, of another program, newer schema);
 * SQLite-reported damage is a finding.
 */
export function verifyAuditData(
  dir: string,
  core: Core,
  options: VerifyOptions = {},
): AuditVerification {
  let db: Database | undefined;
  try {
    db = openDatabase(dir, { readonly: true });
    const data = sqliteAuditData(db);
    return db.transaction(() => verifyAuditRows(data, core, options))();
  } catch (error) {
    if (error instanceof CorruptDatabaseError) {
      return { ok: false, firstBad: { table: 'database', row: 0, what: error.message } };
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')) {
      return { ok: false, firstBad: { table: 'database', row: 0, what: String(error) } };
    }
    throw error;
  } finally {
    db?.close();
  }
}
