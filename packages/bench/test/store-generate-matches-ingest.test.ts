// The held-at-scale store is built by the generator (src/ingest/store-generate.ts: the bench's
// factory signs, the node's BulkLoader writes). This proves it writes exactly what ingest over
// HTTP writes: data directories with the same node key, events and clock, one generated (on
// this thread, and on signing threads by the compiled generator) and one filled by POST
// /v1/events, hold the same rows in EVERY table of the schema, so the same audit hashes and
// checkpoints, and `audit verify` passes on the generated one. A store generated one
// millisecond later differs (the comparison can fail), and the loader refuses what it must.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import {
  BulkLoadBatchError,
  BulkLoader,
  BulkLoadTargetError,
  initDataDir,
  openNode,
  StorageError,
  startApiServer,
  verifyAudit,
} from '@commons-sync/node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EventFactory } from '../src/ingest/events.js';
import { BENCH_PASSPHRASE } from '../src/ingest/node-process.js';
import { generateStore } from '../src/ingest/store-generate.js';

const EVENTS = 2500; // two full batches and a short one
const BATCH = 1000;
const CHECKPOINT_EVERY = 1000; // checkpoints inside the run, not only at open and close
const NOW_MS = 1_760_000_000_000;

/** Every table of the schema, in primary-key order; schema_migrations records wall time. */
function dump(dir: string): Record<string, unknown[]> {
  const db = new Database(join(dir, 'commons-sync.db'), { readonly: true });
  try {
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    const out: Record<string, unknown[]> = {};
    for (const table of tables) {
      // every column in order: the same rows in the same order, whatever the key
      const cols = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[])
        .map((c) => c.name)
        .join(', ');
      out[table] = db.prepare(`SELECT * FROM ${table} ORDER BY ${cols}`).raw().all();
    }
    return out;
  } finally {
    db.close();
  }
}

let core: Core;
let root: string;
let template: string;

beforeAll(async () => {
  core = await loadCore();
  root = mkdtempSync(join(tmpdir(), 'cs-generate-test-'));
  template = join(root, 'template');
  await initDataDir(template, BENCH_PASSPHRASE); // one node key for every store below
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function copyOfTemplate(name: string): string {
  const dir = join(root, name);
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function ingestOverHttp(dir: string, factory: EventFactory): Promise<void> {
  const node = await openNode({
    dataDir: dir,
    passphrase: BENCH_PASSPHRASE,
    now: () => NOW_MS,
    checkpointIntervalMs: 24 * 3600 * 1000,
    checkpointEvery: CHECKPOINT_EVERY,
  });
  const api = await startApiServer(node, { port: 0 });
  try {
    // one request at a time, as the loader commits one batch at a time
    for (const batch of factory.batches(0, EVENTS, BATCH, NOW_MS / 1000)) {
      const res = await fetch(`${api.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: batch.body,
      });
      const { results } = (await res.json()) as { results: { status: string }[] };
      expect(results.filter((r) => r.status === 'accepted')).toHaveLength(batch.count);
    }
  } finally {
    await api.close();
    await node.close();
  }
}

const options = { now: () => NOW_MS, batch: BATCH, checkpointEvery: CHECKPOINT_EVERY };

describe('the store generator', () => {
  it('writes the same rows as ingest over HTTP in every table, and audit verify passes', async () => {
    const factory = new EventFactory(core, 'generate-test');
    const generated = copyOfTemplate('generated');
    const threaded = copyOfTemplate('threaded');
    const ingested = copyOfTemplate('ingested');
    await generateStore(generated, factory, EVENTS, { ...options, threads: 0 });
    // the signing threads load compiled modules: the build's generator (npm test builds first)
    const compiled = (await import(
      new URL('../dist/ingest/store-generate.js', import.meta.url).href
    )) as { generateStore: typeof generateStore };
    await compiled.generateStore(threaded, factory, EVENTS, { ...options, threads: 2 });
    await ingestOverHttp(ingested, factory);

    const a = dump(generated);
    const b = dump(ingested);
    const c = dump(threaded);
    expect(Object.keys(a)).toEqual(expect.arrayContaining(['events', 'event_ids', 'replay']));
    expect(a['events']).toHaveLength(EVENTS);
    expect(a['event_ids']).toHaveLength(EVENTS);
    expect((a['checkpoints'] as unknown[]).length).toBeGreaterThan(2);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const table of Object.keys(b)) {
      expect({ table, rows: a[table] }).toEqual({ table, rows: b[table] });
      expect({ table, rows: c[table] }).toEqual({ table, rows: b[table] });
    }

    const verified = await verifyAudit(generated, core);
    expect(verified.ok).toBe(true);
    // and a node opens it and serves it: its start-up check passes, the events are there, and
    // the counts it takes from the last seq (not count(*), a scan) are the table's count
    const node = await openNode({
      dataDir: generated,
      passphrase: BENCH_PASSPHRASE,
      startupCheckEvents: 100,
    });
    try {
      const id = Buffer.from(core.sha256(factory.event(1234, NOW_MS / 1000).body)).toString('hex');
      expect(node.startupCheck).toMatchObject({ eventsChecked: 100, eventsLeft: EVENTS - 100 });
      expect(node.health().events).toBe(EVENTS);
      expect(await node.getEvent(id)).toBeDefined();
    } finally {
      await node.close();
    }
  }, 180_000);

  it('is compared strictly: a store generated at another time differs', async () => {
    const factory = new EventFactory(core, 'generate-test');
    const early = copyOfTemplate('early');
    const late = copyOfTemplate('late');
    await generateStore(early, factory, BATCH, { threads: 0, now: () => NOW_MS });
    await generateStore(late, factory, BATCH, { threads: 0, now: () => NOW_MS + 1 });
    const a = dump(early);
    const b = dump(late);
    expect(a['events']).not.toEqual(b['events']); // received_at
    expect(a['audit_entries']).not.toEqual(b['audit_entries']); // entry times, so every hash
  }, 120_000);

  it('refuses a store a node has opened, a missing data directory and bad batches', async () => {
    const factory = new EventFactory(core, 'generate-refusals');
    const used = copyOfTemplate('used');
    await generateStore(used, factory, 10, { threads: 0, now: () => NOW_MS });
    // events stored: refused, and nothing written
    const before = dump(used);
    await expect(
      BulkLoader.open({ dataDir: used, passphrase: BENCH_PASSPHRASE }),
    ).rejects.toMatchObject({ code: BulkLoadTargetError.code });
    // opened by a node, no events yet (its opening checkpoint is in the log): refused too
    const opened = copyOfTemplate('opened');
    await (await openNode({ dataDir: opened, passphrase: BENCH_PASSPHRASE })).close();
    await expect(
      BulkLoader.open({ dataDir: opened, passphrase: BENCH_PASSPHRASE }),
    ).rejects.toBeInstanceOf(BulkLoadTargetError);
    expect(dump(used)).toEqual(before);
    await expect(
      BulkLoader.open({ dataDir: join(root, 'nothing-here'), passphrase: BENCH_PASSPHRASE }),
    ).rejects.toMatchObject({ code: 'ERR_NO_DATA_DIR' });

    const fresh = copyOfTemplate('fresh');
    const loader = await BulkLoader.open({
      dataDir: fresh,
      passphrase: BENCH_PASSPHRASE,
      now: () => NOW_MS,
    });
    try {
      await expect(loader.append([])).rejects.toBeInstanceOf(BulkLoadBatchError);
      const events = factory.bulkEvents(0, 1001, NOW_MS / 1000);
      await expect(loader.append(events)).rejects.toMatchObject({ code: 'ERR_BULK_LOAD_BATCH' });
      await loader.append(events.slice(0, 5));
      // the store's own rules hold: an id already stored is refused, nothing written
      await expect(loader.append(events.slice(4, 6))).rejects.toMatchObject({
        code: 'ERR_DUPLICATE_EVENT',
      });
      await expect(loader.append(events.slice(4, 6))).rejects.toBeInstanceOf(StorageError);
      expect(loader.count).toBe(5);
    } finally {
      await loader.close();
    }
    await expect(loader.append([])).rejects.toMatchObject({ code: 'ERR_BULK_LOAD_BATCH' });
    expect((await verifyAudit(fresh, core)).ok).toBe(true);
  }, 120_000);
});
