/**
 * Identity rows clustered by key state (migration 8): one B-tree keyed by (key state id, event
 * seq), the rare invalidations in `identity_invalid`. Migration 8 carries every version 7 row
 * over (key state, standing); writes, standing changes and every read (the re-evaluation page,
 * the start-up pass, the standing by event, the counts) agree with a model of the rows; the
 * reads by key state are range reads of the key, not scans with a sort.
 */
import { randomBytes } from 'node:crypto';

import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdentityTables } from '../src/storage/identity-tables.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/storage/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const REASONS = ['ERR_KEL_KEY_REVOKED', 'ERR_KEL_KEY_ROTATED'] as const;

/** A database at `version`, with `n` events (seq 1..n) by did:cs:x, expiring at `expiry(seq)`. */
function databaseAt(
  version: number,
  n: number,
  expiry: (seq: number) => number = () => 2 ** 40,
): Database.Database {
  const db = new Database(':memory:');
  migrate(db, MIGRATIONS.slice(0, version));
  const insert = db.prepare(
    `INSERT INTO events (seq, audit_seq, id, author, kind, nonce, created_at, expires_at,
       received_at, encoded, encoded_hash) VALUES (?, ?, ?, 'did:cs:x', 'note', ?, 1, ?, 1, x'00', ?)`,
  );
  for (let seq = 1; seq <= n; seq++)
    insert.run(seq, seq, randomBytes(32), randomBytes(16), expiry(seq), randomBytes(32));
  return db;
}

const plan = (db: Database.Database, sql: string, ...params: unknown[]): string =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
    .map((p) => p.detail)
    .join(' | ');

describe('identity rows keyed by (key state, seq)', () => {
  it('migration 8 carries every version 7 identity row over: key state and standing', () => {
    expect(SCHEMA_VERSION).toBe(8);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            state: fc.integer({ min: 0, max: 4 }),
            invalid: fc.option(fc.constantFrom(...REASONS)),
          }),
          { maxLength: 40 },
        ),
        (rows) => {
          const states = Array.from({ length: 5 }, () => randomBytes(32));
          const db = databaseAt(7, rows.length);
          const insertState = db.prepare('INSERT INTO key_states (key_state) VALUES (?)');
          // dictionary ids in an order unrelated to the key states' first use
          const ids = states.map((s) => Number(insertState.run(s).lastInsertRowid));
          const insert = db.prepare(
            `INSERT INTO identity_events (event_seq, key_state_id, invalid_reason, invalid_by)
             VALUES (?, ?, ?, ?)`,
          );
          rows.forEach((r, i) => {
            insert.run(i + 1, ids[r.state], r.invalid, r.invalid === null ? null : 'ab'.repeat(32));
          });
          migrate(db);
          const after = db
            .prepare(
              `SELECT i.event_seq, lower(hex(k.key_state)) AS key_state, v.invalid_reason,
                 v.invalid_by FROM identity_events i JOIN key_states k ON k.id = i.key_state_id
               LEFT JOIN identity_invalid v ON v.event_seq = i.event_seq ORDER BY i.event_seq`,
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
          // an invalidation row only for the invalidated events; the old index is gone
          expect(db.prepare('SELECT count(*) FROM identity_invalid').pluck().get()).toBe(
            rows.filter((r) => r.invalid !== null).length,
          );
          expect(
            db
              .prepare(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'identity_events'",
              )
              .pluck()
              .get(),
          ).toBe(0); // one B-tree: the WITHOUT ROWID table is its key
          db.close();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('reads what was written: pages, the start-up pass, standings, counts (model check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.record({ at: fc.nat(), reason: fc.option(fc.constantFrom(...REASONS)) }), {
          maxLength: 20,
        }),
        fc.integer({ min: 1, max: 7 }),
        (stateOf, changes, pageSize) => {
          const n = stateOf.length;
          // every third event expired at time 100
          const db = databaseAt(SCHEMA_VERSION, n, (seq) => (seq % 3 === 0 ? 100 : 2 ** 40));
          const ids = db.prepare('SELECT id FROM events ORDER BY seq').pluck().all() as Buffer[];
          const seqOf = (id: Uint8Array): number | undefined => {
            const i = ids.findIndex((x) => x.equals(id));
            return i < 0 ? undefined : i + 1;
          };
          const tables = new IdentityTables(db, seqOf);
          const states = Array.from({ length: 4 }, () => hex(randomBytes(32)));
          // two commits: the second names key states the first added to the dictionary
          const half = Math.floor(n / 2);
          for (const [from, to] of [
            [0, half],
            [half, n],
          ] as const) {
            const added = db.transaction(() =>
              tables.write(
                {
                  events: stateOf
                    .slice(from, to)
                    .map((s, i) => ({ index: i, keyState: states[s] as string })),
                },
                from + 1,
                1,
              ),
            )();
            tables.adopt(added);
          }
          const invalid = new Map<number, string>();
          db.transaction(() => {
            for (const c of changes) {
              const seq = (c.at % n) + 1;
              tables.write(
                {
                  standings: [{ seq, invalidReason: c.reason, invalidBy: c.reason && 'cd' }],
                },
                n + 1,
                1,
              );
              if (c.reason === null) invalid.delete(seq);
              else invalid.set(seq, c.reason);
            }
          })();
          const live = (seq: number): boolean => seq % 3 !== 0;
          // the standing of each event, by id
          for (let seq = 1; seq <= n; seq++) {
            const s = tables.standing(ids[seq - 1] as Buffer);
            const reason = invalid.get(seq);
            if (reason === undefined) expect(s).toBeUndefined();
            else expect(s).toEqual({ seq, invalidReason: reason, invalidBy: 'cd' });
          }
          expect(tables.counts('did:cs:x')).toEqual({ events: n, invalidated: invalid.size });
          // the re-evaluation page: the asked key states' live events, in seq order, paged
          const asked = [states[0] as string, states[2] as string];
          const paged: number[] = [];
          for (let after = 0; ; ) {
            const page = tables.page(asked, after, 200, pageSize);
            paged.push(...page.map((r) => r.seq));
            for (const r of page) {
              expect(r.keyState).toBe(states[stateOf[r.seq - 1] as number]);
              expect(r.invalidReason).toBe(invalid.get(r.seq) ?? null);
            }
            if (page.length < pageSize) break;
            after = (page[page.length - 1] as { seq: number }).seq;
          }
          const wanted = stateOf
            .map((s, i) => ({ s, seq: i + 1 }))
            .filter(({ s, seq }) => (s === 0 || s === 2) && live(seq))
            .map(({ seq }) => seq);
          expect(paged).toEqual(wanted);
          // the start-up pass: every live identity event once, each key state's in seq order
          const seen: { seq: number; keyState: string }[] = [];
          for (let after = { keyStateId: 0, seq: 0 }; ; ) {
            const page = tables.liveAfter(after, 200, pageSize);
            seen.push(...page.map((r) => ({ seq: r.seq, keyState: r.keyState })));
            const last = page[page.length - 1];
            if (last === undefined || page.length < pageSize) break;
            after = last;
          }
          expect(seen.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
            stateOf.map((_, i) => i + 1).filter(live),
          );
          for (const ks of states) {
            const mine = seen.filter((r) => r.keyState === ks).map((r) => r.seq);
            expect(mine).toEqual([...mine].sort((a, b) => a - b));
          }
          db.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads a key state’s events as a range of the key, without a sort', () => {
    const db = databaseAt(SCHEMA_VERSION, 0);
    const byKeyState = plan(
      db,
      `SELECT event_seq FROM identity_events WHERE key_state_id = ? AND event_seq > ?
       ORDER BY event_seq LIMIT 10`,
      1,
      0,
    );
    expect(byKeyState).toMatch(/SEARCH identity_events USING PRIMARY KEY/);
    expect(byKeyState).not.toContain('TEMP B-TREE');
    const startUp = plan(
      db,
      `SELECT i.event_seq FROM identity_events i JOIN events e ON e.seq = i.event_seq
       WHERE (i.key_state_id, i.event_seq) > (?, ?) AND e.expires_at > ?
       ORDER BY i.key_state_id, i.event_seq LIMIT 10`,
      0,
      0,
      0,
    );
    expect(startUp).toContain('PRIMARY KEY');
    expect(startUp).not.toContain('TEMP B-TREE');
    db.close();
  });
});
