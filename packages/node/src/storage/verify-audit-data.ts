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
  // the identity row with the columns of its event (none when the row names no event) and its
  // invalidation (none: valid)
  const identityColumns = `SELECT i.event_seq, e.id AS event_id, e.author AS identity,
    lower(hex(k.key_state)) AS key_state, e.created_at, e.expires_at, v.invalid_reason
    FROM identity_events i LEFT JOIN events e ON e.seq = i.event_seq
    LEFT JOIN key_states k ON k.id = i.key_state_id
    LEFT JOIN identity_invalid v ON v.event_seq = i.event_seq`;
  const identityEventRow = db.prepare(
    `${identityColumns} WHERE i.key_state_id = (SELECT id FROM key_states WHERE key_state = ?)
     AND i.event_seq = ?`,
  );
  const identityRowKeyStates = db
    .prepare(
      `SELECT lower(hex(k.key_state)) FROM identity_events i
       LEFT JOIN key_states k ON k.id = i.key_state_id WHERE i.event_seq = ?`,
    )
    .pluck();
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
    identityEventRows: () =>
      db
        .prepare(`${identityColumns} ORDER BY i.event_seq, i.key_state_id`)
        .iterate() as IterableIterator<Row>,
    identityEventRow: (seq, keyState) =>
      identityEventRow.get(Buffer.from(keyState, 'hex'), seq) as Row | undefined,
    identityRowKeyStates: (seq) => identityRowKeyStates.all(seq) as string[],
    invalidationsWithoutRow: () =>
      db
        .prepare(
          `SELECT event_seq FROM identity_invalid
           WHERE event_seq NOT IN (SELECT event_seq FROM identity_events) ORDER BY event_seq`,
        )
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
