// The held-at-scale store is filled by the loader (src/ingest/store-fill.ts); this proves it
// writes exactly what ingest over HTTP writes: two data directories with the same node key, the
// same events and the same clock, one filled by the loader and one by POST /v1/events, hold
// the same rows in every table (events, replay records, audit entries and tree nodes,
// checkpoints), so the same audit hashes, and `audit verify` passes on the filled one. A third
// store, filled one millisecond later, differs: the comparison can fail.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import { initDataDir, openNode, startApiServer, verifyAudit } from '@commons-sync/node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EventFactory } from '../src/ingest/events.js';
import { BENCH_PASSPHRASE } from '../src/ingest/node-process.js';
import { fillStore } from '../src/ingest/store-fill.js';

const EVENTS = 2500; // two full batches and a short one
const BATCH = 1000;
const CHECKPOINT_EVERY = 1000; // checkpoints inside the run, not only at open and close
const NOW_MS = 1_760_000_000_000;

/** Every table a node writes, each in its key order; schema_migrations records wall time. */
const TABLES = {
  events: 'seq',
  replay: 'key',
  audit_entries: 'seq',
  audit_nodes: 'level, idx',
  checkpoints: 'seq',
  meta: 'key',
} as const;

function dump(dir: string): Record<string, unknown[]> {
  const db = new Database(join(dir, 'commons-sync.db'), { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const [table, order] of Object.entries(TABLES))
      out[table] = db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).raw().all();
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
  root = mkdtempSync(join(tmpdir(), 'cs-fill-test-'));
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

describe('the store loader', () => {
  it('writes the same rows as ingest over HTTP, and audit verify passes', async () => {
    const factory = new EventFactory(core, 'fill-test');
    const filled = copyOfTemplate('filled');
    const ingested = copyOfTemplate('ingested');
    await fillStore(filled, factory, EVENTS, {
      now: () => NOW_MS,
      batch: BATCH,
      checkpointEvery: CHECKPOINT_EVERY,
    });
    await ingestOverHttp(ingested, factory);

    const a = dump(filled);
    const b = dump(ingested);
    expect(a['events']).toHaveLength(EVENTS);
    expect((a['checkpoints'] as unknown[]).length).toBeGreaterThan(2);
    for (const table of Object.keys(TABLES))
      expect({ table, rows: a[table] }).toEqual({ table, rows: b[table] });

    const verified = await verifyAudit(filled, core);
    expect(verified.ok).toBe(true);
  }, 120_000);

  it('is compared strictly: a store filled at another time differs', async () => {
    const factory = new EventFactory(core, 'fill-test');
    const early = copyOfTemplate('early');
    const late = copyOfTemplate('late');
    await fillStore(early, factory, BATCH, { now: () => NOW_MS });
    await fillStore(late, factory, BATCH, { now: () => NOW_MS + 1 });
    const a = dump(early);
    const b = dump(late);
    expect(a['events']).not.toEqual(b['events']); // received_at
    expect(a['audit_entries']).not.toEqual(b['audit_entries']); // entry times, so every hash
  }, 120_000);
});
