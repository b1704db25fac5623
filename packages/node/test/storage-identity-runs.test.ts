/**
 * Identity rows as runs (migration 8): per key state, one `identity_runs` row per commit,
 * listing the seqs of the commit's events that name it, in one B-tree keyed by (key state id,
 * first seq); the rare invalidations in `identity_invalid`. Migration 8 carries every version
 * 7 row over (key state, standing); a commit writes one row per key state it names; writes,
 * standing changes and every read (the re-evaluation page, the start-up walk, the standing by
 * event, the counts) agree with a model of the rows; the runs of a key state are read as a
 * range of the key.
 */
import { randomBytes } from 'node:crypto';

import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRunSeqs,
  decodeStagedEntries,
  encodeRunSeqs,
  encodeStagedEntries,
  IdentityTables,
} from '../src/storage/identity-tables.js';
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

/** Every (seq, key state hex) the runs and the staged rows list, by seq. */
function listed(db: Database.Database): { event_seq: number; key_state: string }[] {
  const keyStateOf = db
    .prepare('SELECT lower(hex(key_state)) FROM key_states WHERE id = ?')
    .pluck();
  const staged = (
    db.prepare('SELECT first_seq, entries FROM identity_staged').all() as {
      first_seq: number;
      entries: Uint8Array;
    }[]
  ).flatMap((r) => {
    const entries = decodeStagedEntries(r.first_seq, r.entries);
    return (entries?.seqs ?? []).map((seq, i) => ({
      event_seq: seq,
      key_state: keyStateOf.get(entries?.keyStateIds[i]) as string,
    }));
  });
  const runs = db
    .prepare(
      `SELECT r.first_seq, r.seqs, lower(hex(k.key_state)) AS key_state FROM identity_runs r
       JOIN key_states k ON k.id = r.key_state_id`,
    )
    .all() as { first_seq: number; seqs: Uint8Array; key_state: string }[];
  return runs
    .flatMap((r) =>
      (decodeRunSeqs(r.first_seq, r.seqs) ?? []).map((seq) => ({
        event_seq: seq,
        key_state: r.key_state,
      })),
    )
    .concat(staged)
    .sort((a, b) => a.event_seq - b.event_seq);
}

describe('identity rows as runs per key state and commit', () => {
  it('migration 8 carries every version 7 identity row over: key state and standing', () => {
    expect(SCHEMA_VERSION).toBe(9);
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
          const invalid = db.prepare(
            'SELECT invalid_reason, invalid_by FROM identity_invalid WHERE event_seq = ?',
          );
          const after = listed(db).map((r) => ({
            ...r,
            ...((invalid.get(r.event_seq) as object | undefined) ?? {
              invalid_reason: null,
              invalid_by: null,
            }),
          }));
          expect(after).toEqual(
            rows.map((r, i) => ({
              event_seq: i + 1,
              key_state: hex(states[r.state] as Uint8Array),
              invalid_reason: r.invalid,
              invalid_by: r.invalid === null ? null : 'ab'.repeat(32),
            })),
          );
          // an invalidation row only for the invalidated events; the old table is gone
          expect(db.prepare('SELECT count(*) FROM identity_invalid').pluck().get()).toBe(
            rows.filter((r) => r.invalid !== null).length,
          );
          expect(
            db
              .prepare("SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'identity_events'")
              .pluck()
              .get(),
          ).toBe(0);
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
        // 1: every commit folds its events into runs; else staged until this many
        fc.constantFrom(1, 5, 40, 1000),
        (stateOf, changes, pageSize, foldAt) => {
          const n = stateOf.length;
          // every third event expired at time 100
          const db = databaseAt(SCHEMA_VERSION, n, (seq) => (seq % 3 === 0 ? 100 : 2 ** 40));
          const ids = db.prepare('SELECT id FROM events ORDER BY seq').pluck().all() as Buffer[];
          const seqOf = (id: Uint8Array): number | undefined => {
            const i = ids.findIndex((x) => x.equals(id));
            return i < 0 ? undefined : i + 1;
          };
          const tables = new IdentityTables(db, seqOf, { foldAt });
          const states = Array.from({ length: 4 }, () => hex(randomBytes(32)));
          // two commits: the second names key states the first added to the dictionary; each
          // stages its events, or (reaching `foldAt`) folds every staged event into one run
          // per key state
          const half = Math.floor(n / 2);
          const runsOf = (a: number, b: number): number => new Set(stateOf.slice(a, b)).size;
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
          const stagedCount = db
            .prepare('SELECT coalesce(sum(length(entries)), 0) / 8 FROM identity_staged')
            .pluck();
          const runCount = db.prepare('SELECT count(*) FROM identity_runs').pluck();
          if (foldAt === 1) expect(runCount.get()).toBe(runsOf(0, half) + runsOf(half, n));
          else if (n < foldAt) {
            expect(runCount.get()).toBe(0);
            expect(stagedCount.get()).toBe(n);
          } else if (half < foldAt) {
            // the second commit folded both
            expect(runCount.get()).toBe(runsOf(0, n));
            expect(stagedCount.get()).toBe(0);
          }
          expect(listed(db)).toEqual(
            stateOf.map((s, i) => ({ event_seq: i + 1, key_state: states[s] })),
          );
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
          // the start-up walk: every live identity event once, each key state's in seq order
          const seen: { seq: number; keyState: string }[] = [];
          for (let ks = tables.nextKeyState(0); ks !== undefined; ks = tables.nextKeyState(ks.id)) {
            for (let after = 0; ; ) {
              const page = tables.live(ks, after, 200, pageSize);
              seen.push(...page.map((r) => ({ seq: r.seq, keyState: r.keyState })));
              const last = page[page.length - 1];
              if (last === undefined || page.length < pageSize) break;
              after = last.seq;
            }
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

  it('reads a key state’s runs as a range of the key', () => {
    const db = databaseAt(SCHEMA_VERSION, 0);
    const runs = plan(
      db,
      `SELECT first_seq, seqs FROM identity_runs WHERE key_state_id = @ks AND first_seq >= coalesce(
         (SELECT max(first_seq) FROM identity_runs WHERE key_state_id = @ks AND first_seq <= @after), 0)
       AND first_seq >= @from ORDER BY first_seq LIMIT @limit`,
      { ks: 1, after: 0, from: 0, limit: 64 },
    );
    expect(runs).toContain(
      'SEARCH identity_runs USING PRIMARY KEY (key_state_id=? AND first_seq>?)',
    );
    expect(runs).not.toContain('TEMP B-TREE');
    db.close();
  });

  it('encodes a run’s seqs and refuses a column that is not one', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 31 }), { minLength: 1 }), (xs) => {
        const seqs = [...xs].sort((a, b) => a - b);
        const first = seqs[0] as number;
        expect(decodeRunSeqs(first, encodeRunSeqs(seqs))).toEqual(seqs);
      }),
    );
    expect(decodeRunSeqs(5, new Uint8Array(3))).toBeUndefined(); // not whole distances
    expect(decodeRunSeqs(5, new Uint8Array(4))).toBeUndefined(); // a distance of 0
    expect(decodeRunSeqs(5, Buffer.from('0000000200000001', 'hex'))).toBeUndefined(); // descending
    expect(() => encodeRunSeqs([5, 7, 6])).toThrow(RangeError);
    expect(() => encodeRunSeqs([5, 5])).toThrow(RangeError);
  });

  it('encodes a staged row’s entries and refuses a column that is not one', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 31 }), { minLength: 1 }),
        fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 })),
        (xs, idPool) => {
          const seqs = [...xs].sort((a, b) => a - b);
          const first = seqs[0] as number;
          const ids = seqs.map((_, i) => idPool[i % Math.max(1, idPool.length)] ?? 1);
          expect(decodeStagedEntries(first, encodeStagedEntries(first, ids, seqs))).toEqual({
            keyStateIds: ids,
            seqs,
          });
        },
      ),
    );
    const entry = (id: number, d: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(id, 0);
      b.writeUInt32BE(d, 4);
      return b;
    };
    expect(decodeStagedEntries(5, new Uint8Array(0))).toBeUndefined(); // no entry
    expect(decodeStagedEntries(5, new Uint8Array(7))).toBeUndefined(); // not whole entries
    expect(decodeStagedEntries(5, entry(1, 1))).toBeUndefined(); // the first not at distance 0
    expect(
      decodeStagedEntries(5, Buffer.concat([entry(1, 0), entry(2, 3), entry(1, 3)])),
    ).toBeUndefined(); // not ascending
    expect(() => encodeStagedEntries(5, [1, 1], [5, 5])).toThrow(RangeError);
    expect(() => encodeStagedEntries(5, [1], [6])).toThrow(RangeError);
  });

  it('stages each commit’s events, folds them when they reach the bound, and a rolled-back write leaves the count', () => {
    const db = databaseAt(SCHEMA_VERSION, 20);
    const tables = new IdentityTables(db, () => undefined, { foldAt: 6 });
    const [a, b] = [hex(randomBytes(32)), hex(randomBytes(32))];
    const runs = db.prepare('SELECT count(*) FROM identity_runs').pluck();
    const stagedRows = db.prepare('SELECT count(*) FROM identity_staged').pluck();
    let seq = 1;
    const commit = (count: number, fail = false): void => {
      const tx = db.transaction(() => {
        const staged = tables.write(
          {
            events: Array.from({ length: count }, (_, i) => ({
              index: i,
              keyState: i % 2 === 0 ? a : b,
            })),
          },
          seq,
          1,
        );
        if (fail) throw new Error('rolled back');
        return staged;
      });
      if (fail) expect(tx).toThrow('rolled back');
      else {
        tables.adopt(tx());
        seq += count;
      }
    };
    commit(2);
    commit(2);
    expect([runs.get(), stagedRows.get()]).toEqual([0, 2]);
    // the reads keep what they read of the staged rows until the next write
    const events = () => tables.counts('did:cs:x').events;
    expect(events()).toBe(4);
    commit(3, true); // would have reached 7: rolled back, nothing folded
    expect([runs.get(), stagedRows.get()]).toEqual([0, 2]);
    expect(events()).toBe(4);
    commit(1); // 5 staged: still below the bound
    expect([runs.get(), stagedRows.get()]).toEqual([0, 3]);
    expect(events()).toBe(5);
    commit(1); // 6: all folded, one run per key state
    expect([runs.get(), stagedRows.get()]).toEqual([2, 0]);
    commit(2); // staged again after the fold
    expect([runs.get(), stagedRows.get()]).toEqual([2, 1]);
    expect(listed(db)).toEqual(
      Array.from({ length: 8 }, (_, i) => ({
        event_seq: i + 1,
        // the key state of each commit's i-th event: a, b, a, … from each commit's start
        key_state: [a, b, a, b, a, a, a, b][i],
      })),
    );
    expect(tables.counts('did:cs:x').events).toBe(8);
    // a page reads the runs, then the staged events, in seq order
    expect(tables.page([a], 0, 0, 100).map((r) => r.seq)).toEqual([1, 3, 5, 6, 7]);
    expect(tables.page([a, b], 4, 0, 3).map((r) => r.seq)).toEqual([5, 6, 7]);
    db.close();
  });
});
