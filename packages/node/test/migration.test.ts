/**
 * A data directory written by the first release (schema 1, entry format 1, version 1
 * checkpoints; `fixtures/v1-datadir`, see fixtures/README.md) opens with this node: migrations
 * 2 to 5 run, the old entries and checkpoints still verify, and what the node writes next
 * (format 2 entries, version 2 checkpoints chained to the old ones) verifies with them. One
 * written by schema 2 (`fixtures/v2-datadir`, live replay records) keeps, through migration 5's
 * partitioned indexes, every event readable by id and every live (author, nonce) pair taken.
 * Migrations 1, 5, 7 and 8 are pinned byte for byte: a released step is never edited.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256One } from '../src/audit/hash.js';
import { checkpointHash } from '../src/audit/index.js';
import { openNode, verifyAudit } from '../src/node.js';
import {
  batchOfValues,
  didKeyFromPublicKey,
  eventToJson,
  signEvent,
} from '../src/protocol/index.js';
import {
  DB_FILE,
  MIGRATIONS,
  SCHEMA_VERSION,
  Store,
  verifyAuditData,
} from '../src/storage/index.js';
import { nativeCore as core, makeEvents, PASSPHRASE } from './node-fixtures.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/v1-datadir', import.meta.url));
const FIXTURE_V2 = fileURLToPath(new URL('./fixtures/v2-datadir', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'cs-migrate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copyFixture(name: string, fixture = FIXTURE): string {
  const d = join(work, name);
  cpSync(fixture, d, { recursive: true });
  return d;
}

const sha256 = (text: string): Uint8Array => core.sha256(new TextEncoder().encode(text));

describe('schema migrations', () => {
  it('keeps migrations 1, 5, 7 and 8 exactly as released', () => {
    expect(MIGRATIONS[0]?.version).toBe(1);
    expect(
      createHash('sha256')
        .update(MIGRATIONS[0]?.sql ?? '')
        .digest('hex'),
    ).toBe('f695354489acba30d75c9cae6262ade185e717f6df68c83b59bf6f03c6bb1190');
    expect(SCHEMA_VERSION).toBe(9);
    expect(MIGRATIONS[4]?.version).toBe(5);
    expect(
      createHash('sha256')
        .update(MIGRATIONS[4]?.sql ?? '')
        .digest('hex'),
    ).toBe('3385ba4566c7b8b5af879b7ad70acaed14072e6f58294ff88cd7f4dc5cc6bf10');
    expect(MIGRATIONS[6]?.version).toBe(7);
    expect(
      createHash('sha256')
        .update(MIGRATIONS[6]?.sql ?? '')
        .digest('hex'),
    ).toBe('cfca1ea3975d2144567172275d2c3c905654f3537b6beb627cc828b611debf99');
    expect(MIGRATIONS[7]?.version).toBe(8);
    expect(
      createHash('sha256')
        .update(MIGRATIONS[7]?.sql ?? '')
        .digest('hex'),
    ).toBe('60c2b6bd5257a2b477853f03bbcfa2cad31ff2e486166b7c78ccd6e2ae05e09a');
  });

  it('opens a version 1 data directory, migrates it, and keeps its log verifiable', async () => {
    const d = copyFixture('v1');
    const raw = new Database(join(d, DB_FILE), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    const before = raw
      .prepare(
        'SELECT count(*) AS entries, (SELECT count(*) FROM checkpoints) AS cps FROM audit_entries',
      )
      .get();
    raw.close();
    expect(before).toEqual({ entries: 9, cps: 2 });
    // A read-only check does not migrate: it asks for the node to open the directory once.
    expect(() => verifyAuditData(d, core)).toThrow(/schema version 1, not 9/);

    Store.open(d, core).close();
    const db = new Database(join(d, DB_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(9);
    expect(db.prepare('SELECT DISTINCT format FROM audit_entries').pluck().all()).toEqual([1]);
    expect(db.prepare('SELECT DISTINCT version FROM checkpoints').pluck().all()).toEqual([1]);
    const migrations = db
      .prepare('SELECT version FROM schema_migrations ORDER BY version')
      .pluck()
      .all();
    db.close();
    expect(migrations).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await verifyAudit(d, core)).toMatchObject({
      ok: true,
      entries: 9,
      checkpoints: 2,
      events: 6,
    });

    // The node writes format 2 entries and version 2 checkpoints chained to the old ones (one,
    // at close: the log as migrated was covered by the last version 1 checkpoint).
    const node = await openNode({ dataDir: d, passphrase: PASSPHRASE, workers: 0, core });
    try {
      const results = await node.ingest(
        batchOfValues([...makeEvents(3, 1, 'after-migration'), { v: 1 }]),
      );
      expect(results.map((r) => r.status)).toEqual([
        'accepted',
        'accepted',
        'accepted',
        'rejected',
      ]);
    } finally {
      await node.close();
    }
    const after = new Database(join(d, DB_FILE), { readonly: true });
    const cps = after.prepare('SELECT * FROM checkpoints ORDER BY seq').all() as {
      seq: number;
      version: number;
      prev_hash: Buffer | null;
    }[];
    const formats = after
      .prepare('SELECT format, count(*) AS n FROM audit_entries GROUP BY format')
      .all();
    after.close();
    expect(formats).toEqual([
      { format: 1, n: 9 },
      { format: 2, n: expect.any(Number) as number },
    ]);
    expect(cps.map((c) => c.version)).toEqual([1, 1, 2]);
    const store = Store.open(d, core);
    const second = store.audit.checkpoints()[1];
    store.close();
    expect(Buffer.from(cps[2]?.prev_hash ?? []).toString('hex')).toBe(
      Buffer.from(checkpointHash(sha256One, second!)).toString('hex'),
    );
    expect(await verifyAudit(d, core)).toMatchObject({ ok: true, checkpoints: 3, events: 9 });
  });

  it('migrates a version 2 data directory: ids still found, live (author, nonce) pairs still taken', async () => {
    // fixtures/README.md: six events of two authors accepted at NOW (live an hour), made by
    // makeEvents(6, 2, 'v2-fixture', NOW) with schema 2's code
    const NOW = 1_780_000_000;
    const d = copyFixture('v2', FIXTURE_V2);
    const raw = new Database(join(d, DB_FILE), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(2);
    expect(raw.prepare('SELECT count(*) FROM replay').pluck().get()).toBe(6);
    raw.close();
    const events = makeEvents(6, 2, 'v2-fixture', NOW);
    const node = await openNode({
      dataDir: d,
      passphrase: PASSPHRASE,
      workers: 0,
      core,
      now: () => (NOW + 60) * 1000,
    });
    try {
      const db = new Database(join(d, DB_FILE), { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(9);
      expect(db.prepare('SELECT count(*) FROM event_ids').pluck().get()).toBe(6);
      expect(db.prepare('SELECT count(*) FROM replay').pluck().get()).toBe(6);
      db.close();
      expect(node.startupCheck).toMatchObject({ replayRestored: 0, idsRestored: 0 });
      const ids = (await node.ingest(batchOfValues(events))).map((r) => r.id as string);
      for (const id of ids) expect(node.getEvent(id)).toMatchObject({ kind: 'note' });
      // the pair of event 0, with another body, well signed: still taken after the migration
      const seed = sha256('v2-fixture/author/0');
      const replay = signEvent(
        core,
        {
          v: 1,
          kind: 'note',
          author: didKeyFromPublicKey(core.ed25519PublicKey(seed)),
          createdAt: NOW,
          expiresAt: NOW + 3600,
          nonce: sha256('v2-fixture/nonce/0').slice(0, 16),
          payload: 'another body',
        },
        [seed],
      );
      if (!replay.ok) throw new Error(replay.detail);
      const results = await node.ingest(
        batchOfValues([
          ...events,
          eventToJson(replay.value.event),
          ...makeEvents(2, 1, 'after-v2', NOW),
        ]),
      );
      expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.status))).toEqual([
        ...new Array(6).fill('duplicate'),
        'ERR_REPLAY',
        'accepted',
        'accepted',
      ]);
    } finally {
      await node.close();
    }
    expect(await verifyAudit(d, core)).toMatchObject({ ok: true, events: 8 });
  });
});
