// The store-engines bench compares like with like: for the same events and clock, the LMDB
// layout (src/store-engines/lmdb-store.ts, both durable modes) holds exactly the rows the
// node's own SQLite Store writes (events, audit entries, stored tree nodes, id → seq, the
// replay records), whatever the batches' sizes, hence the same audit root. The comparison can
// fail (another clock gives other rows), and every engine refuses what the node refuses: an id
// already stored, a live (author, nonce) pair, a pair twice in one batch, writing nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EventFactory } from '../src/ingest/events.js';
import {
  type BenchEvent,
  type Engine,
  openEngine,
  toBenchEvents,
} from '../src/store-engines/engines.js';
import {
  type AuditRowValues,
  type EventRowValues,
  LmdbEventStore,
  StoreConflictError,
} from '../src/store-engines/lmdb-store.js';

const NOW_MS = 1_760_000_000_000;
const NOW_SEC = NOW_MS / 1000;

let core: Core;
let root: string;
let factory: EventFactory;
let n = 0;
const freshDir = (): string => join(root, `s${n++}`);

beforeAll(async () => {
  core = await loadCore();
  factory = new EventFactory(core, 'store-engines-test');
  root = mkdtempSync(join(tmpdir(), 'cs-store-engines-test-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bytes = (b: unknown): unknown =>
  b instanceof Uint8Array ? Buffer.from(b).toString('hex') : b;
const plainRow = (row: readonly unknown[]): unknown[] => row.map(bytes);

interface Rows {
  events: unknown[][];
  audit: unknown[][];
  nodes: unknown[][];
  seqs: (number | undefined)[];
  replay: ([number, number] | undefined)[];
  root: string;
}

async function sqliteRows(
  events: readonly BenchEvent[],
  batches: readonly number[],
  nowMs: number,
): Promise<Rows> {
  const dir = freshDir();
  const engine = openEngine('sqlite', dir, core, { now: () => nowMs });
  await commitAll(engine, events, batches);
  const store = (
    engine as unknown as { store: import('@commons-sync/node/dist/storage/index.js').Store }
  ).store;
  const seqs = events.map((e) => store.getEvent(e.idHex)?.seq);
  const found = store.findReplays(events);
  const replay = events.map((e): [number, number] | undefined => {
    const r = found.get(`${Buffer.from(e.nonce).toString('hex')}:${e.author}`);
    return r === undefined
      ? undefined
      : [seqs[events.findIndex((x) => x.idHex === r.eventIdHex)] as number, r.expiresAt];
  });
  const auditRoot = Buffer.from(store.audit.root()).toString('hex');
  await engine.close();
  const db = new Database(join(dir, 'commons-sync.db'), { readonly: true });
  try {
    const all = (sql: string) => (db.prepare(sql).raw().all() as unknown[][]).map(plainRow);
    return {
      events: all(
        'SELECT seq, audit_seq, id, author, kind, nonce, created_at, expires_at, received_at, encoded, encoded_hash FROM events ORDER BY seq',
      ),
      audit: all(
        'SELECT format, seq, time, type, event_id, reason, detail, leaf_hash, chain_hash FROM audit_entries ORDER BY seq',
      ),
      nodes: all('SELECT level, idx, hash FROM audit_nodes ORDER BY level, idx'),
      seqs,
      replay,
      root: auditRoot,
    };
  } finally {
    db.close();
  }
}

type LmdbEngineName = 'lmdb-sync' | 'lmdb-async' | 'lmdb-sync-part' | 'lmdb-async-part';
const LMDB_ENGINES: readonly LmdbEngineName[] = [
  'lmdb-sync',
  'lmdb-async',
  'lmdb-sync-part',
  'lmdb-async-part',
];

async function lmdbRows(
  name: LmdbEngineName,
  events: readonly BenchEvent[],
  batches: readonly number[],
  nowMs: number,
): Promise<Rows> {
  const dir = freshDir();
  const engine = openEngine(name, dir, core, { now: () => nowMs });
  await commitAll(engine, events, batches);
  await engine.close();
  // read back from a store opened afresh: what is on disk, not what the writer kept in memory
  const store = LmdbEventStore.open(dir, core, 'sync', {
    now: () => nowMs,
    partitioned: name.endsWith('-part'),
  });
  try {
    const nodes = [...store.nodeRows()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return {
      events: [...store.eventRows()].map((r: EventRowValues) => plainRow(r)),
      audit: [...store.auditRows()].map((r: AuditRowValues) => plainRow(r)),
      nodes: nodes.map(plainRow),
      seqs: events.map((e) => store.seqOf(e.id)),
      replay: events.map((e) => store.replayRecord(e.author, e.nonce)),
      root: Buffer.from(store.auditRoot()).toString('hex'),
    };
  } finally {
    await store.close();
  }
}

async function commitAll(
  engine: Engine,
  events: readonly BenchEvent[],
  batches: readonly number[],
): Promise<void> {
  let at = 0;
  for (const size of batches) {
    await engine.commit(events.slice(at, at + size));
    at += size;
  }
}

describe('store engines: the same rows in SQLite and LMDB', () => {
  it('stores 2,500 events in batches of 1,000 as the node does: rows, nodes, ids, replay, root', async () => {
    const events = toBenchEvents(factory.bulkEvents(0, 2500, NOW_SEC));
    const batches = [1000, 1000, 500];
    const sqlite = await sqliteRows(events, batches, NOW_MS);
    expect(sqlite.events).toHaveLength(2500);
    expect(sqlite.audit).toHaveLength(2500);
    expect(sqlite.nodes.length).toBeGreaterThan(100); // levels ≥ 4: 2500/16 + 2500/32 + ...
    for (const name of LMDB_ENGINES) {
      const lmdb = await lmdbRows(name, events, batches, NOW_MS);
      expect(lmdb.events).toEqual(sqlite.events);
      expect(lmdb.audit).toEqual(sqlite.audit);
      expect(lmdb.nodes).toEqual(sqlite.nodes);
      expect(lmdb.seqs).toEqual(sqlite.seqs);
      expect(lmdb.replay).toEqual(sqlite.replay);
      expect(lmdb.root).toBe(sqlite.root);
    }
  });

  it('holds for a store of one event (its one audit entry read back after reopening)', async () => {
    const events = toBenchEvents(factory.bulkEvents(40_000, 1, NOW_SEC));
    const sqlite = await sqliteRows(events, [1], NOW_MS);
    for (const name of LMDB_ENGINES)
      expect(await lmdbRows(name, events, [1], NOW_MS)).toEqual(sqlite);
  });

  it('holds for any split of the events into batches (property)', async () => {
    let first = 10_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        async (batches) => {
          const total = batches.reduce((a, b) => a + b, 0);
          const events = toBenchEvents(factory.bulkEvents(first, total, NOW_SEC));
          first += total;
          const sqlite = await sqliteRows(events, batches, NOW_MS);
          const lmdb = await lmdbRows('lmdb-sync', events, batches, NOW_MS);
          expect(lmdb).toEqual(sqlite);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('the comparison can fail: the same events one millisecond later are other rows', async () => {
    const events = toBenchEvents(factory.bulkEvents(20_000, 50, NOW_SEC));
    const sqlite = await sqliteRows(events, [50], NOW_MS);
    const later = await lmdbRows('lmdb-sync', events, [50], NOW_MS + 1);
    expect(later.events).not.toEqual(sqlite.events);
    expect(later.root).not.toBe(sqlite.root);
  });
});

describe('store engines refuse what the node refuses, writing nothing', () => {
  const cases = (): { name: string; batch: (stored: BenchEvent[]) => BenchEvent[] }[] => {
    const other = toBenchEvents(factory.bulkEvents(31_000, 3, NOW_SEC));
    return [
      {
        name: 'an id already stored',
        batch: (stored) => [other[0] as BenchEvent, stored[1] as BenchEvent],
      },
      {
        name: 'a live (author, nonce) pair under a new id',
        batch: (stored) =>
          toBenchEvents([
            {
              ...(other[1] as BenchEvent),
              author: (stored[2] as BenchEvent).author,
              nonce: (stored[2] as BenchEvent).nonce,
            },
          ]),
      },
      {
        name: 'one pair twice in the batch',
        batch: () =>
          toBenchEvents([
            other[1] as BenchEvent,
            {
              ...(other[2] as BenchEvent),
              author: (other[1] as BenchEvent).author,
              nonce: (other[1] as BenchEvent).nonce,
            },
          ]),
      },
    ];
  };

  for (const engineName of ['sqlite', ...LMDB_ENGINES] as const) {
    it(`${engineName}: every conflict throws and the store keeps its rows`, async () => {
      const stored = toBenchEvents(factory.bulkEvents(30_000, 10, NOW_SEC));
      const dir = freshDir();
      const engine = openEngine(engineName, dir, core, { now: () => NOW_MS });
      try {
        await engine.commit(stored);
        for (const c of cases()) {
          await expect(engine.commit(c.batch(stored)), c.name).rejects.toThrow();
          expect(engine.count, c.name).toBe(10);
        }
        // and an acceptable batch still goes in after the refusals
        await engine.commit(toBenchEvents(factory.bulkEvents(32_000, 5, NOW_SEC)));
        expect(engine.count).toBe(15);
      } finally {
        await engine.close();
      }
      // on disk too: a store opened afresh counts the 15 rows, and still refuses a stored
      // event (the partitioned layouts' replay filter is rebuilt from the keys on disk)
      const reopened = openEngine(engineName, dir, core, { now: () => NOW_MS });
      try {
        expect(reopened.count).toBe(15);
        await expect(reopened.commit([stored[4] as BenchEvent])).rejects.toThrow();
        expect(reopened.count).toBe(15);
      } finally {
        await reopened.close();
      }
    });
  }

  it('LMDB refusals carry the stable code ERR_STORE_CONFLICT', async () => {
    const stored = toBenchEvents(factory.bulkEvents(33_000, 2, NOW_SEC));
    const engine = openEngine('lmdb-sync', freshDir(), core, { now: () => NOW_MS });
    try {
      await engine.commit(stored);
      const error = await engine.commit(stored).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreConflictError);
      expect((error as StoreConflictError).code).toBe('ERR_STORE_CONFLICT');
    } finally {
      await engine.close();
    }
  });
});
