/**
 * Identity rows name their key state through the `key_states` dictionary (migration 7):
 * migration 7 carries every version 6 row over with its key state and standing; the
 * in-memory key state → id map never keeps an id whose dictionary row was rolled back; and
 * the re-evaluation page still finds exactly the events of the key states asked for.
 */
import { randomBytes } from 'node:crypto';

import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdentityTables } from '../src/storage/identity-tables.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/storage/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A database at `version`, with `n` events (seq 1..n) living until 2^40. */
function databaseAt(version: number, n: number): Database.Database {
  const db = new Database(':memory:');
  migrate(db, MIGRATIONS.slice(0, version));
  const insert = db.prepare(
    `INSERT INTO events (seq, audit_seq, id, author, kind, nonce, created_at, expires_at,
       received_at, encoded, encoded_hash) VALUES (?, ?, ?, 'did:cs:x', 'note', ?, 1, ?, 1, x'00', ?)`,
  );
  for (let seq = 1; seq <= n; seq++)
    insert.run(seq, seq, randomBytes(32), randomBytes(16), 2 ** 40, randomBytes(32));
  return db;
}

describe('identity rows keyed by a key state dictionary', () => {
  it('migration 7 carries every version 6 identity row over: key state, standing, order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            state: fc.integer({ min: 0, max: 4 }),
            invalid: fc.option(fc.constantFrom('ERR_KEL_KEY_REVOKED', 'ERR_KEL_KEY_ROTATED')),
          }),
          { maxLength: 40 },
        ),
        (rows) => {
          const states = Array.from({ length: 5 }, () => randomBytes(32));
          const db = databaseAt(6, rows.length);
          const insert = db.prepare(
            'INSERT INTO identity_events (event_seq, key_state, invalid_reason, invalid_by) VALUES (?, ?, ?, ?)',
          );
          rows.forEach((r, i) => {
            insert.run(
              i + 1,
              states[r.state],
              r.invalid,
              r.invalid === null ? null : 'ab'.repeat(32),
            );
          });
          migrate(db, MIGRATIONS.slice(0, 7));
          const after = db
            .prepare(
              `SELECT i.event_seq, lower(hex(k.key_state)) AS key_state, i.invalid_reason, i.invalid_by
               FROM identity_events i JOIN key_states k ON k.id = i.key_state_id ORDER BY i.event_seq`,
            )
            .all();
          expect(after).toEqual(
            rows.map((r, i) => ({
              event_seq: i + 1,
              key_state: hex(states[r.state] as Uint8Array),
              invalid_reason: r.invalid,
              invalid_by: r.invalid === null ? null : 'ab'.repeat(32),
            })),
          );
          // one dictionary row per distinct key state, and the rows are found through the index
          expect(db.prepare('SELECT count(*) FROM key_states').pluck().get()).toBe(
            new Set(rows.map((r) => r.state)).size,
          );
          const plan = db
            .prepare(
              'EXPLAIN QUERY PLAN SELECT event_seq FROM identity_events WHERE key_state_id = 1',
            )
            .all() as { detail: string }[];
          expect(plan.map((p) => p.detail).join(' ')).toContain('identity_events_by_key_state_id');
          db.close();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('forgets a dictionary id whose transaction rolled back, and writes a row that joins', () => {
    const db = databaseAt(SCHEMA_VERSION, 3);
    // every commit's events folded into runs at once (identity-tables.ts)
    const tables = new IdentityTables(db, () => undefined, { foldAt: 1 });
    const a = hex(randomBytes(32));
    const b = hex(randomBytes(32));
    const commit = (seq: number, keyState: string, fail: boolean): void => {
      const tx = db.transaction(() => {
        const added = tables.write({ events: [{ index: 0, keyState }] }, seq, 1);
        if (fail) throw new Error('rolled back');
        return added;
      });
      // as Store.commit does: the staged ids are adopted only after the commit
      if (fail) expect(tx).toThrow('rolled back');
      else tables.adopt(tx());
    };
    commit(1, a, true); // a's dictionary row is added, then rolled back
    commit(1, b, false); // b may take the id that a had
    commit(2, a, false); // a must get a row of its own again
    commit(3, b, false); // and b keeps its own
    const rows = db
      .prepare(
        `SELECT r.first_seq AS event_seq, lower(hex(k.key_state)) AS key_state
         FROM identity_runs r LEFT JOIN key_states k ON k.id = r.key_state_id ORDER BY 1`,
      )
      .all();
    expect(rows).toEqual([
      { event_seq: 1, key_state: b },
      { event_seq: 2, key_state: a },
      { event_seq: 3, key_state: b },
    ]);
    expect(db.prepare('SELECT count(*) FROM key_states').pluck().get()).toBe(2);
    db.close();
  });

  it('pages the events of the key states asked for, and none of a key state never stored', () => {
    const db = databaseAt(SCHEMA_VERSION, 12);
    const tables = new IdentityTables(db, () => undefined);
    const states = [hex(randomBytes(32)), hex(randomBytes(32)), hex(randomBytes(32))];
    db.transaction(() =>
      tables.write(
        {
          events: Array.from({ length: 12 }, (_, i) => ({
            index: i,
            keyState: states[i % 3] as string,
          })),
        },
        1,
        1,
      ),
    )();
    const seqs = (ks: string[], after: number, limit: number): number[] =>
      tables.page(ks, after, 0, limit).map((s) => s.seq);
    expect(seqs([states[0] as string], 0, 10)).toEqual([1, 4, 7, 10]);
    expect(seqs([states[1] as string, states[2] as string], 3, 3)).toEqual([5, 6, 8]);
    expect(seqs([hex(randomBytes(32))], 0, 10)).toEqual([]);
    expect(tables.page([states[2] as string], 0, 0, 1)[0]?.keyState).toBe(states[2]);
    db.close();
  });
});
