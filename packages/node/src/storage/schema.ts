import type { Database } from 'better-sqlite3';

import { ForeignDatabaseError, MigrationError, SchemaTooNewError } from './errors.js';

/**
 * SQL for the index key of a BLOB column (audit/event-row.ts `indexKey`): its first 6 bytes as
 * an unsigned big-endian integer. SQLite has no function from bytes to integers, so each hex
 * digit is looked up. Part of migration 5's text: never change it.
 */
function key48Sql(column: string): string {
  const digits = Array.from(
    { length: 12 },
    (_, i) =>
      `((instr('0123456789ABCDEF', substr(hex(substr(${column}, 1, 6)), ${i + 1}, 1)) - 1) << ${4 * (11 - i)})`,
  );
  return `(${digits.join(' | ')})`;
}

/** One schema step. Versions start at 1 and increase by one; a step is never edited once released. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** `PRAGMA application_id` of our databases ("CSYN"), so that a foreign SQLite file is refused. */
export const APPLICATION_ID = 0x4353594e;

/**
 * The schema, as an ordered list of migrations. `PRAGMA user_version` holds the version
 * reached; `schema_migrations` (created by {@link migrate} itself) records when each step ran.
 *
 * Notes on version 1:
 * - `events.seq` is the rowid: inserts append to the table's B-tree, and the logical key, the
 *   32-byte `id`, lives in a unique index (a WITHOUT ROWID table keyed by random ids would
 *   scatter ~300-byte rows over the whole tree).
 * - `audit_seq` is the seq of the event's accept entry in the audit log (its Merkle leaf index),
 *   so an inclusion proof for an event needs no index on `audit_entries`.
 * - `encoded_hash` = SHA-256(encoded), written at commit time and repeated in the event's
 *   accept audit entry, so that a changed byte in a stored event is detected.
 * - `replay` keeps (author, nonce) → event while the event could still be valid, keyed by a
 *   16-byte digest of the pair (see `replayKeyInputs`) and pointing at `events.seq`: 29-byte
 *   rows instead of ~115, so the one index that takes random inserts at full rate stays about
 *   3.5 times smaller (measured: 13 ms instead of 34 ms per 1,000 inserts at 150k rows).
 * - `audit_nodes` holds the complete Merkle subtrees of level ≥ 4 (16 leaves and up); lower
 *   ones are recomputed from at most 8 leaf hashes when a proof needs them.
 *
 * Notes on version 2 (spec/AUDIT.md):
 * - `audit_entries.format`: the entry format each entry was written in (1 before this version,
 *   2 after: bounded rejections, summary and checkpoint entries); the leaf hash covers it.
 * - `checkpoints.version` and `prev_hash`: version 2 checkpoints sign their own `seq` and the
 *   hash of the checkpoint before them, so a deleted or renumbered row is evident.
 *
 * Notes on version 3 (spec/IDENTITY.md; written by `identity-tables.ts`):
 * - `key_events`: every key event attached to an identity's log, the stored copy's canonical
 *   CBOR as received; never pruned (key events do not expire). The log is rebuilt from it at
 *   start.
 * - `identity_events`: one row per stored event whose author is an identity (did:cs), keyed by
 *   the event's seq (appended as events are), with the key state it names (32 bytes; a key
 *   state belongs to one identity, so the author is not repeated) and its standing.
 *   `invalid_reason` null: valid; else the ERR_KEL_ code that a later key event (`invalid_by`,
 *   hex id) gave it: the event stays in `events` as evidence but counts as valid nowhere. The
 *   index serves re-evaluation: the events naming a key state whose window changed.
 *
 * Notes on version 4 (spec/SYNC.md §6):
 * - `event_sources`: which peer first delivered a stored event (provenance); events from
 *   clients have no row. Written in the commit that stores the event.
 * - `conflict_events`: events kept as evidence of an author's equivocation (valid in every way
 *   but another event with the same author and nonce was accepted first). They are not
 *   accepted: no replay record, no accept entry, not counted as events; the node reconciles
 *   them and serves them to peers so that every node ends up holding both.
 *
 * Notes on version 5 (issue 11: a commit that costs the same at 10 million events as at none):
 * - The two indexes that take random keys, the event id and the replay key, are split into
 *   partitions of 2^16 events by seq (`part` = seq >> 16, audit/event-row.ts), keyed by the
 *   first 6 bytes of the digest as an integer (`key`, a prefix: lookups compare the full
 *   value in the event row). Inserts go into the newest partition only, ~1.5 MB of each
 *   index, so they stay in the page cache; a single index touched a random page of a B-tree
 *   as large as the store for every event. `events.id` loses its UNIQUE index (hence the
 *   table is rebuilt): ids are unique because the replay check (§7 step 5) sees every live
 *   event and an expired one cannot be accepted again.
 * - `event_ids` has one row per event (every partition is searched for an id: one B-tree seek
 *   each, newest first). `replay` has one row per event whose record may still be needed,
 *   with its expiry; the in-memory filter (replay-filter.ts) says which partitions may hold a
 *   key, and a partition's rows are deleted once all of them expired.
 *
 * Notes on version 6 (spec/GOVERNANCE.md; written by `governance-table.ts`):
 * - `governance_records`: the governance records the node holds (roots, critical actions,
 *   attestations, revocations), one row per copy (id, signer set), canonical CBOR as received.
 *   The anchor is configuration, not a row. Rows leave when the held set drops a copy (a copy
 *   with more signatures replaced it, or the record was judged for good); the node replays the
 *   table at start.
 * - `trust_events`: the stored events a governed node's trust policy no longer trusts (a
 *   revocation reaching back, a policy change...): `invalid_reason` the trust code,
 *   `invalid_by` what caused it. No row: the event counts. Kept as evidence, as
 *   `identity_events` keeps events a key event invalidated.
 *
 * Notes on version 7 (issue 8's speed target; written by `identity-tables.ts`):
 * - `key_states`: a dictionary of the key states that stored events name, one row per key
 *   state (32 bytes) with a small integer id, added in the commit that first names it.
 * - `identity_events` names its key state by that id, and its index is over the id: an entry
 *   of a few bytes instead of a 32-byte blob, and an identity's events, appended by seq, land
 *   at the end of their key state's run. Measured (CPU per row, 1,000-row transactions, 100,000
 *   rows already stored, 200 key states): 3.95 µs with the blob index, 2.21 µs with this one.
 *   Existing rows are carried over.
 *
 * Notes on version 8 (issue 8's speed target; written by `identity-tables.ts`):
 * - `identity_runs` replaces `identity_events`: one row per key state and commit, listing the
 *   seqs of the commit's events that name it (`first_seq`, then the others as 4-byte
 *   big-endian distances from it, ascending), in one WITHOUT ROWID B-tree keyed by
 *   (key_state_id, first_seq). A commit of n identity events naming k key states inserts k
 *   rows, each at the end of its key state's range, instead of n rows plus n index entries;
 *   re-evaluation reads a key state's events as a range of the key. Nothing reads a row by
 *   event seq on a hot path (the audit verifier knows each event's key state).
 * - `identity_invalid`: the standing, one row per stored event a key event invalidated (the
 *   ERR_KEL_ code and the key event, hex id); no row: valid. Rare, small, keyed by event seq
 *   for the reads by event (GET /v1/events/:id, the sync set).
 *   Measured (CPU per identity event through `IdentityTables.write`, 1,000-event commits
 *   naming 200 key states in turn, WAL, synchronous=FULL, 100,000 events already stored):
 *   version 7's two B-trees 2.7-2.9 µs, a WITHOUT ROWID row per event 2.4-2.6 µs, runs
 *   1.3-1.4 µs (4,000-event commits: 1.7 and 0.4; a commit whose events each name another key
 *   state gains nothing).
 *   Existing rows become runs of one event; standings are carried over.
 *
 * Notes on version 9 (issue 8; written by `identity-tables.ts`):
 * - `identity_staged`: a commit's identity events as one row appended at the end (keyed by the
 *   seq of its first identity event), each event as its key state id and its distance from that
 *   seq (4 bytes big-endian each, seqs ascending). Once the staged rows list `foldAt` events
 *   (16,384 by default) the commit that reaches it folds them all into `identity_runs`, one
 *   row per key state, and deletes them, in its own transaction. A commit naming k key states
 *   used to insert k runs, each at the end of its key state's range, so it dirtied up to k
 *   pages: measured (CPU per identity event through `IdentityTables.write`, 1,000-event
 *   commits naming 200 key states, WAL, synchronous=FULL, 100,000-400,000 events stored)
 *   1.9-2.5 µs per event with a run per key state and commit, 0.40-0.53 µs staged and folded.
 *   Bytes written per event in a node at 200,000 identity events: 15-17% above did:key
 *   events' before, 3-5% after. Staged events are newer than every
 *   run's, so a key state's events in seq order are its runs, then its staged entries.
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'events, replay, audit log, checkpoints, meta',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE events (
        seq          INTEGER PRIMARY KEY,
        audit_seq    INTEGER NOT NULL,
        id           BLOB NOT NULL UNIQUE,
        author       TEXT NOT NULL,
        kind         TEXT NOT NULL,
        nonce        BLOB NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        received_at  INTEGER NOT NULL,
        encoded      BLOB NOT NULL,
        encoded_hash BLOB NOT NULL
      );
      CREATE TABLE replay (
        key        BLOB PRIMARY KEY,
        event_seq  INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX replay_by_expiry ON replay (expires_at);
      CREATE TABLE audit_entries (
        seq        INTEGER PRIMARY KEY,
        time       INTEGER NOT NULL,
        type       TEXT NOT NULL,
        event_id   BLOB,
        reason     TEXT,
        detail     TEXT NOT NULL,
        leaf_hash  BLOB NOT NULL,
        chain_hash BLOB NOT NULL
      );
      CREATE TABLE audit_nodes (
        level INTEGER NOT NULL,
        idx   INTEGER NOT NULL,
        hash  BLOB NOT NULL,
        PRIMARY KEY (level, idx)
      ) WITHOUT ROWID;
      CREATE TABLE checkpoints (
        seq        INTEGER PRIMARY KEY,
        tree_size  INTEGER NOT NULL,
        root       BLOB NOT NULL,
        time       INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        signature  BLOB NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'audit entry format, checkpoint version and chain',
    sql: `
      ALTER TABLE audit_entries ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE checkpoints ADD COLUMN prev_hash BLOB;
    `,
  },
  {
    version: 3,
    name: 'key events and the identity verdicts of stored events',
    sql: `
      CREATE TABLE key_events (
        seq         INTEGER PRIMARY KEY,
        id          BLOB NOT NULL UNIQUE,
        identity    TEXT NOT NULL,
        type        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        encoded     BLOB NOT NULL
      );
      CREATE INDEX key_events_by_identity ON key_events (identity);
      CREATE TABLE identity_events (
        event_seq      INTEGER PRIMARY KEY,
        key_state      BLOB NOT NULL,
        invalid_reason TEXT,
        invalid_by     TEXT
      );
      CREATE INDEX identity_events_by_key_state ON identity_events (key_state);
    `,
  },
  {
    version: 4,
    name: 'event provenance and conflict evidence (sync)',
    sql: `
      CREATE TABLE event_sources (
        event_seq INTEGER PRIMARY KEY,
        peer      TEXT NOT NULL
      );
      CREATE TABLE conflict_events (
        seq         INTEGER PRIMARY KEY,
        id          BLOB NOT NULL UNIQUE,
        author      TEXT NOT NULL,
        nonce       BLOB NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        peer        TEXT,
        encoded     BLOB NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'id and replay indexes partitioned by event seq',
    sql: `
      CREATE TABLE events_v3 (
        seq          INTEGER PRIMARY KEY,
        audit_seq    INTEGER NOT NULL,
        id           BLOB NOT NULL,
        author       TEXT NOT NULL,
        kind         TEXT NOT NULL,
        nonce        BLOB NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        received_at  INTEGER NOT NULL,
        encoded      BLOB NOT NULL,
        encoded_hash BLOB NOT NULL
      );
      INSERT INTO events_v3 SELECT seq, audit_seq, id, author, kind, nonce, created_at, expires_at,
        received_at, encoded, encoded_hash FROM events ORDER BY seq;
      DROP TABLE events;
      ALTER TABLE events_v3 RENAME TO events;
      CREATE TABLE event_ids (
        part INTEGER NOT NULL,
        key  INTEGER NOT NULL,
        seq  INTEGER NOT NULL,
        PRIMARY KEY (part, key, seq)
      ) WITHOUT ROWID;
      INSERT INTO event_ids SELECT seq >> 16, ${key48Sql('id')}, seq FROM events ORDER BY 1, 2, 3;
      CREATE TABLE replay_v3 (
        part       INTEGER NOT NULL,
        key        INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (part, key, seq)
      ) WITHOUT ROWID;
      INSERT INTO replay_v3 SELECT event_seq >> 16, ${key48Sql('key')}, event_seq, expires_at
        FROM replay ORDER BY 1, 2, 3;
      DROP TABLE replay;
      ALTER TABLE replay_v3 RENAME TO replay;
    `,
  },
  {
    version: 6,
    name: 'governance records and the trust standing of events',
    sql: `
      CREATE TABLE governance_records (
        id          BLOB NOT NULL,
        signers     TEXT NOT NULL,
        type        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        encoded     BLOB NOT NULL,
        PRIMARY KEY (id, signers)
      ) WITHOUT ROWID;
      CREATE TABLE trust_events (
        event_seq      INTEGER PRIMARY KEY,
        invalid_reason TEXT NOT NULL,
        invalid_by     TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'identity rows name their key state by a dictionary id',
    sql: `
      CREATE TABLE key_states (
        id        INTEGER PRIMARY KEY,
        key_state BLOB NOT NULL UNIQUE
      );
      INSERT INTO key_states (key_state)
        SELECT key_state FROM identity_events GROUP BY key_state ORDER BY min(event_seq);
      CREATE TABLE identity_events_v7 (
        event_seq      INTEGER PRIMARY KEY,
        key_state_id   INTEGER NOT NULL,
        invalid_reason TEXT,
        invalid_by     TEXT
      );
      INSERT INTO identity_events_v7 (event_seq, key_state_id, invalid_reason, invalid_by)
        SELECT i.event_seq, k.id, i.invalid_reason, i.invalid_by
        FROM identity_events i JOIN key_states k ON k.key_state = i.key_state
        ORDER BY i.event_seq;
      DROP TABLE identity_events;
      ALTER TABLE identity_events_v7 RENAME TO identity_events;
      CREATE INDEX identity_events_by_key_state_id ON identity_events (key_state_id);
    `,
  },
  {
    version: 8,
    name: 'identity rows as runs per key state and commit, invalidations in their own table',
    sql: `
      CREATE TABLE identity_runs (
        key_state_id INTEGER NOT NULL,
        first_seq    INTEGER NOT NULL,
        seqs         BLOB NOT NULL,
        PRIMARY KEY (key_state_id, first_seq)
      ) WITHOUT ROWID;
      INSERT INTO identity_runs (key_state_id, first_seq, seqs)
        SELECT key_state_id, event_seq, x'' FROM identity_events ORDER BY key_state_id, event_seq;
      CREATE TABLE identity_invalid (
        event_seq      INTEGER PRIMARY KEY,
        invalid_reason TEXT NOT NULL,
        invalid_by     TEXT
      );
      INSERT INTO identity_invalid (event_seq, invalid_reason, invalid_by)
        SELECT event_seq, invalid_reason, invalid_by FROM identity_events
        WHERE invalid_reason IS NOT NULL ORDER BY event_seq;
      DROP TABLE identity_events;
    `,
  },
  {
    version: 9,
    name: 'identity rows staged per commit, folded into runs',
    sql: `
      CREATE TABLE identity_staged (
        first_seq INTEGER PRIMARY KEY,
        entries   BLOB NOT NULL
      );
    `,
  },
]);

const MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`;

export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError(`migration ${i} has version ${m.version}, expected ${i + 1}`);
    }
  });
}

/**
 * Brings the database to the newest version in `migrations`: every pending step runs in one
 * IMMEDIATE transaction (so two processes cannot both migrate), and a failure leaves the
 * database exactly as it was. Refuses a database newer than the code with
 * {@link SchemaTooNewError} and one of another program with {@link ForeignDatabaseError}.
 * Returns the version reached.
 */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): number {
  checkOrder(migrations);
  const latest = migrations.length;
  const run = db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const current = userVersion(db);
    if (appId !== APPLICATION_ID) {
      const tables = db
        .prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
        .pluck()
        .get() as number;
      if (appId !== 0 || current !== 0 || tables !== 0) {
        throw new ForeignDatabaseError(
          `not a Commons Sync database (application_id ${appId}, ${tables} tables)`,
        );
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    if (current > latest) throw new SchemaTooNewError(current, latest);
    if (current === latest) return latest;
    db.exec(MIGRATIONS_TABLE);
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const m of migrations.slice(current)) {
      try {
        db.exec(m.sql);
        record.run(m.version, m.name, now());
      } catch (cause) {
        throw new MigrationError(`migration ${m.version} (${m.name}) failed: ${String(cause)}`, {
          cause,
        });
      }
      db.pragma(`user_version = ${m.version}`);
    }
    return latest;
  });
  return run.immediate();
}

/** Checks, without writing, that the database is at exactly the version this code knows. */
export function checkSchema(db: Database): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const current = userVersion(db);
  if (appId !== APPLICATION_ID) {
    throw new ForeignDatabaseError(`not a Commons Sync database (application_id ${appId})`);
  }
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current, SCHEMA_VERSION);
  if (current < SCHEMA_VERSION) {
    throw new MigrationError(
      `the database is at schema version ${current}, not ${SCHEMA_VERSION}; open it with the node once to migrate`,
    );
  }
}
