/**
 * Tamper evidence: a store verifies untouched, and a change to any single byte of a stored
 * event, audit entry, audit subtree or checkpoint (every column of the first and last rows,
 * plus a fast-check sample of rows, columns and bytes) is reported by verifyAuditData with the
 * row that was changed. Rewriting history and recomputing every hash after it is caught by the
 * next signed checkpoint; a deleted or renumbered checkpoint row by the checkpoint chain and
 * the log's checkpoint entries.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256One } from '../src/audit/hash.js';
import {
  type AuditEntry,
  type CheckpointSigner,
  CompactRange,
  encodeAuditEntry,
  hashLeaf,
  STORED_NODE_LEVEL,
} from '../src/audit/index.js';
import { DB_FILE, Store, verifyAuditData } from '../src/storage/index.js';
import { fakeEvents, manualClock, tempDir } from './storage-fixtures.js';

type Table = 'events' | 'audit_entries' | 'audit_nodes' | 'checkpoints' | 'replay' | 'event_ids';

/** Columns, and the key columns that name a row. */
const TABLES: Record<Table, { key: string[]; columns: string[] }> = {
  events: {
    key: ['seq'],
    columns: [
      'seq',
      'audit_seq',
      'id',
      'author',
      'kind',
      'nonce',
      'created_at',
      'expires_at',
      'received_at',
      'encoded',
      'encoded_hash',
    ],
  },
  audit_entries: {
    key: ['seq'],
    columns: [
      'format',
      'seq',
      'time',
      'type',
      'event_id',
      'reason',
      'detail',
      'leaf_hash',
      'chain_hash',
    ],
  },
  audit_nodes: { key: ['level', 'idx'], columns: ['level', 'idx', 'hash'] },
  // Version 2 checkpoints sign their seq and the previous checkpoint's hash too.
  checkpoints: {
    key: ['seq'],
    columns: [
      'seq',
      'version',
      'tree_size',
      'root',
      'time',
      'public_key',
      'signature',
      'prev_hash',
    ],
  },
  replay: { key: ['part', 'key', 'seq'], columns: ['part', 'key', 'seq', 'expires_at'] },
  event_ids: { key: ['part', 'key', 'seq'], columns: ['part', 'key', 'seq'] },
};

/** Integer columns that are (part of) a key: flip a high bit so the new key is unused. */
const KEY_BIT: Record<string, number> = {
  'events.seq': 20,
  'audit_entries.seq': 20,
  'checkpoints.seq': 20,
  'audit_nodes.level': 4,
  'audit_nodes.idx': 20,
  'replay.part': 20,
  'replay.seq': 20,
  'event_ids.part': 20,
  'event_ids.seq': 20,
};

let core: Core;
let template: { dir: string; cleanup: () => void };
let work: { dir: string; cleanup: () => void };
let rows: Record<Table, Record<string, unknown>[]>;
let key: CheckpointSigner;

beforeAll(async () => {
  core = await loadCore();
  const seed = new Uint8Array(32).fill(1);
  key = { publicKey: core.ed25519PublicKey(seed), sign: (m) => core.ed25519Sign(seed, m) };
  template = tempDir('cs-tamper-');
  work = tempDir('cs-tamper-work-');
  const clock = manualClock();
  const store = Store.open(template.dir, core, { now: clock.now });
  for (let batch = 0; batch < 3; batch++) {
    const evs = fakeEvents(20, { kind: `kind-${batch}` });
    store.commit(evs, [
      {
        type: 'reject',
        eventId: evs[0]?.id ?? null,
        reason: 'ERR_REPLAY',
        detail: { batch },
        verified: true,
      },
      { type: 'reject', reason: 'ERR_MALFORMED', detail: { bytes: 12, note: 'truncated' } },
      { type: 'critical', reason: 'PEER_BANNED', detail: { peer: '10.0.0.7' } },
    ]);
    clock.advance(1_000);
    store.audit.checkpoint(key);
  }
  store.close(); // folds the WAL into the file, so one file is the whole database
  const db = new Database(join(template.dir, DB_FILE), { readonly: true });
  rows = Object.fromEntries(
    (Object.keys(TABLES) as Table[]).map((t) => [
      t,
      db.prepare(`SELECT * FROM ${t} ORDER BY ${TABLES[t].key.join(', ')}`).all() as Record<
        string,
        unknown
      >[],
    ]),
  ) as typeof rows;
  db.close();
});

afterAll(() => {
  template?.cleanup();
  work?.cleanup();
});

let copies = 0;
/** A fresh copy of the pristine database. */
function copy(): string {
  const d = join(work.dir, `c${copies++}`);
  mkdirSync(d);
  copyFileSync(join(template.dir, DB_FILE), join(d, DB_FILE));
  return d;
}

/** The value with one byte changed; `pick` chooses the byte and bit. */
function mutate(table: Table, column: string, value: unknown, pick: number): unknown {
  const keyBit = KEY_BIT[`${table}.${column}`];
  if (typeof value === 'number') {
    const bit = keyBit ?? pick % 40;
    return Number(BigInt(value) ^ (1n << BigInt(bit)));
  }
  if (typeof value === 'string') {
    const i = pick % value.length;
    return value.slice(0, i) + String.fromCharCode(value.charCodeAt(i) ^ 1) + value.slice(i + 1);
  }
  if (value instanceof Uint8Array) {
    const b = Buffer.from(value);
    const i = pick % b.length;
    b[i] = (b[i] as number) ^ (1 << (pick % 8));
    return b;
  }
  throw new Error(`cannot mutate ${String(value)}`);
}

function rowName(table: Table, row: Record<string, unknown>): number | string {
  if (table === 'audit_nodes') return `${String(row['level'])}/${String(row['idx'])}`;
  return row['seq'] as number;
}

/** Changes one byte of one cell in a fresh copy; returns the copy, or undefined for a NULL. */
function tamper(table: Table, rowIndex: number, column: string, pick: number): string | undefined {
  const row = rows[table][rowIndex] as Record<string, unknown>;
  const value = row[column];
  if (value === null || (typeof value === 'string' && value.length === 0)) return undefined;
  const d = copy();
  const db = new Database(join(d, DB_FILE));
  try {
    const where = TABLES[table].key.map((k) => `${k} = ?`).join(' AND ');
    const keyValues = TABLES[table].key.map((k) => row[k]);
    const info = db
      .prepare(`UPDATE ${table} SET ${column} = ? WHERE ${where}`)
      .run(mutate(table, column, value, pick), ...keyValues);
    expect(info.changes).toBe(1);
  } finally {
    db.close();
  }
  return d;
}

function expectCaught(table: Table, rowIndex: number, column: string, pick: number): void {
  const d = tamper(table, rowIndex, column, pick);
  if (d === undefined) return;
  const result = verifyAuditData(d, core, { publicKey: key.publicKey });
  const label = `${table}[${rowIndex}].${column} byte ${pick}`;
  expect(result.ok, label).toBe(false);
  if (result.ok) return;
  expect(result.firstBad.table, `${label}: ${result.firstBad.what}`).toBe(table);
  // index rows are named by their (part, key, seq), which the change itself may have moved
  if (table !== 'replay' && table !== 'event_ids') {
    expect(result.firstBad.row, `${label}: ${result.firstBad.what}`).toBe(
      rowName(table, rows[table][rowIndex] as Record<string, unknown>),
    );
  }
}

describe('tamper evidence', () => {
  it('verifies the untouched store', () => {
    // per batch: 20 accepts, the reject, the critical entry, a summary (of the ERR_MALFORMED), a checkpoint entry
    expect(rows.audit_entries.map((r) => r['type']).slice(20, 24)).toEqual([
      'reject',
      'critical',
      'summary',
      'checkpoint',
    ]);
    expect(rows.audit_entries.length).toBe(72);
    expect(rows.audit_nodes.length).toBeGreaterThan(0);
    expect(verifyAuditData(template.dir, core, { publicKey: key.publicKey })).toEqual({
      ok: true,
      entries: 72,
      checkpoints: 3,
      events: 60,
    });
    expect(verifyAuditData(copy(), core)).toMatchObject({ ok: true });
  });

  it.each(Object.keys(TABLES) as Table[])(
    'names a changed byte in every column of the first and last %s rows',
    (table) => {
      const n = rows[table].length;
      for (const rowIndex of [0, n - 1]) {
        for (const column of TABLES[table].columns) expectCaught(table, rowIndex, column, 5);
      }
    },
  );

  it('names a changed byte anywhere in a random sample of rows and columns', () => {
    const cell = fc
      .constantFrom(...(Object.keys(TABLES) as Table[]))
      .chain((table) =>
        fc.tuple(
          fc.constant(table),
          fc.nat({ max: rows[table].length - 1 }),
          fc.constantFrom(...TABLES[table].columns),
          fc.nat({ max: 1 << 16 }),
        ),
      );
    fc.assert(
      fc.property(cell, ([table, rowIndex, column, pick]) =>
        expectCaught(table, rowIndex, column, pick),
      ),
      { numRuns: 80 },
    );
  });

  it('reports a deleted event or audit entry', () => {
    for (const [table, seq] of [
      ['events', 30],
      ['audit_entries', 40],
    ] as const) {
      const d = copy();
      const db = new Database(join(d, DB_FILE));
      db.prepare(`DELETE FROM ${table} WHERE seq = ?`).run(seq);
      db.close();
      expect(verifyAuditData(d, core)).toMatchObject({ ok: false, firstBad: { table, row: seq } });
    }
  });

  it("reports an event's deleted id index row, and a row added for no event", () => {
    const row = rows.event_ids.find((r) => r['seq'] === 30) as Record<string, unknown>;
    const deleted = copy();
    let db = new Database(join(deleted, DB_FILE));
    db.prepare('DELETE FROM event_ids WHERE seq = 30').run();
    db.close();
    expect(verifyAuditData(deleted, core)).toEqual({
      ok: false,
      firstBad: { table: 'event_ids', row: `0/${String(row['key'])}/30`, what: 'missing' },
    });
    const added = copy();
    db = new Database(join(added, DB_FILE));
    db.prepare('INSERT INTO event_ids (part, key, seq) VALUES (0, ?, 30)').run(
      (row['key'] as number) + 1,
    );
    db.close();
    expect(verifyAuditData(added, core)).toEqual({
      ok: false,
      firstBad: {
        table: 'event_ids',
        row: `0/${(row['key'] as number) + 1}/30`,
        what: "key is not its event's id",
      },
    });
  });

  it('names an audit_nodes row that is no stored subtree of the log', () => {
    // beyond the log, below the stored level, and a negative index: each an extra row
    for (const [level, idx] of [
      [4, 999],
      [STORED_NODE_LEVEL - 1, 0],
      [5, -1],
    ] as const) {
      const d = copy();
      const db = new Database(join(d, DB_FILE));
      db.prepare('INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)').run(
        level,
        idx,
        Buffer.alloc(32),
      );
      db.close();
      expect(verifyAuditData(d, core)).toEqual({
        ok: false,
        firstBad: {
          table: 'audit_nodes',
          row: `${level}/${idx}`,
          what: 'not a subtree of the log',
        },
      });
    }
  });

  it('catches a rewritten history with every later hash recomputed at the next checkpoint', () => {
    const d = copy();
    const db = new Database(join(d, DB_FILE));
    const H = sha256One;
    // Rewrite entry 44 (a reject) and recompute everything after it, as an attacker without
    // the node key would: leaf and chain hashes, and every stored subtree.
    db.prepare(
      "UPDATE audit_entries SET reason = 'ERR_UNTRUSTED_AUTHOR' WHERE seq = 44 AND type = 'reject'",
    ).run();
    const all = db.prepare('SELECT * FROM audit_entries ORDER BY seq').all() as Record<
      string,
      unknown
    >[];
    const update = db.prepare(
      'UPDATE audit_entries SET leaf_hash = ?, chain_hash = ? WHERE seq = ?',
    );
    const setNode = db.prepare('UPDATE audit_nodes SET hash = ? WHERE level = ? AND idx = ?');
    const range = new CompactRange(H);
    let chain: Uint8Array = new Uint8Array(32);
    db.transaction(() => {
      for (const r of all) {
        const entry = {
          format: r['format'],
          seq: r['seq'],
          time: r['time'],
          type: r['type'],
          eventId: r['event_id'],
          reason: r['reason'],
          detail: r['detail'],
        } as AuditEntry;
        const leaf = hashLeaf(H, encodeAuditEntry(entry));
        chain = H(Buffer.concat([chain, leaf]));
        update.run(leaf, chain, entry.seq);
        range.append(leaf, (node) => {
          if (node.level >= STORED_NODE_LEVEL) setNode.run(node.hash, node.level, node.index);
        });
      }
    })();
    db.close();
    const result = verifyAuditData(d, core, { publicKey: key.publicKey });
    const secondCheckpoint = rows.checkpoints[1] as Record<string, unknown>;
    expect(secondCheckpoint['tree_size']).toBe(47); // the first checkpoint after entry 44
    expect(result).toMatchObject({
      ok: false,
      firstBad: {
        table: 'checkpoints',
        row: secondCheckpoint['seq'],
        what: "root differs from the log's root at size 47",
      },
    });
  });

  it('reports a deleted or renumbered checkpoint row, the last one included', () => {
    const cases: [string, string, number][] = [
      ['DELETE FROM checkpoints WHERE seq = 2', 'a deleted row in the middle', 2],
      ['DELETE FROM checkpoints WHERE seq = 3', 'the last row deleted', 3],
      ['UPDATE checkpoints SET seq = 7 WHERE seq = 3', 'the last row renumbered', 3],
      ['UPDATE checkpoints SET seq = 5 WHERE seq = 1', 'the first row renumbered', 1],
    ];
    for (const [sql, label, row] of cases) {
      const d = copy();
      const db = new Database(join(d, DB_FILE));
      db.prepare(sql).run();
      db.close();
      const result = verifyAuditData(d, core, { publicKey: key.publicKey });
      expect(result.ok, label).toBe(false);
      if (!result.ok)
        expect(
          [result.firstBad.table, result.firstBad.row],
          `${label}: ${result.firstBad.what}`,
        ).toEqual(['checkpoints', row]);
    }
  });
});
