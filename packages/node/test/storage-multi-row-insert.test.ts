/**
 * MultiRowInsert: many rows per INSERT OR FAIL statement, written only inside a transaction,
 * in the order given.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { MultiRowInsert, ROWS_PER_STATEMENT } from '../src/storage/multi-row-insert.js';

function table(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (k INTEGER NOT NULL, v TEXT NOT NULL, PRIMARY KEY (k)) WITHOUT ROWID');
  // rows in the order they were inserted (rowid)
  db.exec('CREATE TABLE o (k INTEGER NOT NULL, v TEXT NOT NULL)');
  return db;
}

describe('MultiRowInsert', () => {
  it('writes the rows in order, across statement boundaries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * ROWS_PER_STATEMENT + 5 }), (n) => {
        const db = table();
        const insert = new MultiRowInsert(db, 'o', ['k', 'v']);
        const values = Array.from({ length: n }, (_, i) => [(i * 7919) % 1000, `row ${i}`]).flat();
        db.transaction(() => insert.run(values))();
        const rows = db.prepare('SELECT k, v FROM o ORDER BY rowid').all() as {
          k: number;
          v: string;
        }[];
        expect(rows.flatMap((r) => [r.k, r.v])).toEqual(values);
        db.close();
      }),
      { numRuns: 30 },
    );
  });

  it('refuses to write outside a transaction, and refuses values that are not whole rows', () => {
    const db = table();
    const insert = new MultiRowInsert(db, 't', ['k', 'v']);
    expect(() => insert.run([1, 'a'])).toThrow(/only inside a transaction/);
    expect(() => db.transaction(() => insert.run([1, 'a', 2]))()).toThrow(/not rows of 2/);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
    db.close();
  });

  it('a row refused mid-statement fails the statement, and the transaction leaves nothing', () => {
    const db = table();
    const insert = new MultiRowInsert(db, 't', ['k', 'v']);
    db.transaction(() => insert.run([40, 'there before']))();
    const values = Array.from({ length: 100 }, (_, i) => [i, `row ${i}`]).flat();
    expect(() => db.transaction(() => insert.run(values))()).toThrow(
      expect.objectContaining({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }),
    );
    expect(db.prepare('SELECT k, v FROM t').all()).toEqual([{ k: 40, v: 'there before' }]);
    db.close();
  });
});
