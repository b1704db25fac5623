/**
 * The SQLite store: schema migrations (ordered, transactional, refusing newer or foreign
 * databases), the durability settings, data surviving close/reopen and a killed process,
 * atomic commits, and the lookups the pipeline needs.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Core, loadCore } from '@commons-sync/bindings';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../src/errors.js';
import {
  APPLICATION_ID,
  ConcurrentWriterError,
  CorruptDatabaseError,
  DB_FILE,
  DuplicateEventError,
  ForeignDatabaseError,
  MIGRATIONS,
  type Migration,
  MigrationError,
  migrate,
  ReplayConflictError,
  replayKey,
  SCHEMA_VERSION,
  SchemaTooNewError,
  Store,
  StoreClosedError,
} from '../src/storage/index.js';
import { verifyAuditData } from '../src/storage/verify-audit-data.js';
import { fakeEvent, fakeEvents, manualClock, tempDir } from './storage-fixtures.js';

let core: Core;
beforeAll(async () => {
  core = await loadCore();
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
function open(d: string, now?: () => number): Store {
  const store = Store.open(d, core, now === undefined ? {} : { now });
  cleanups.unshift(() => store.close());
  return store;
}

describe('schema and migrations', () => {
  it('creates a WAL database with synchronous=FULL at the newest schema version', () => {
    const d = dir();
    open(d).close();
    const db = new Database(join(d, DB_FILE), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
      const versions = db
        .prepare('SELECT version FROM schema_migrations ORDER BY version')
        .pluck()
        .all();
      expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      db.close();
    }
    // synchronous is per connection: check the store's own connection settings by reopening.
    const db2 = new Database(join(d, DB_FILE));
    try {
      db2.pragma('synchronous = FULL');
      expect(db2.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      db2.close();
    }
  });

  it('applies pending migrations in order, once, and records them', () => {
    const d = dir();
    const db = new Database(join(d, 'm.db'));
    try {
      const extra: Migration[] = [
        ...MIGRATIONS,
        {
          version: SCHEMA_VERSION + 1,
          name: 'peers',
          sql: 'CREATE TABLE peers (id TEXT PRIMARY KEY)',
        },
      ];
      expect(migrate(db, MIGRATIONS)).toBe(SCHEMA_VERSION);
      expect(migrate(db, extra)).toBe(SCHEMA_VERSION + 1);
      expect(migrate(db, extra)).toBe(SCHEMA_VERSION + 1); // idempotent
      const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
      expect(rows).toEqual(extra.map((m) => ({ version: m.version, name: m.name })));
      // The code now knows fewer versions than the database has: refused.
      expect(() => migrate(db, MIGRATIONS)).toThrow(SchemaTooNewError);
    } finally {
      db.close();
    }
  });

  it('rolls a failing migration back completely', () => {
    const d = dir();
    const db = new Database(join(d, 'm.db'));
    try {
      migrate(db, MIGRATIONS);
      const broken: Migration[] = [
        ...MIGRATIONS,
        { version: SCHEMA_VERSION + 1, name: 'ok part', sql: 'CREATE TABLE a (x)' },
        { version: SCHEMA_VERSION + 2, name: 'broken', sql: 'CREATE TABLE b (x); NOT SQL' },
      ];
      const err = (() => {
        try {
          migrate(db, broken);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).code).toBe('ERR_MIGRATION_FAILED');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE name IN ('a', 'b')").all();
      expect(tables).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('refuses migration lists that are not 1, 2, 3, ...', () => {
    const db = new Database(':memory:');
    try {
      expect(() => migrate(db, [{ version: 2, name: 'x', sql: '' }])).toThrow(MigrationError);
    } finally {
      db.close();
    }
  });

  it('refuses a database newer than the code with a typed error', () => {
    const d = dir();
    open(d).close();
    const db = new Database(join(d, DB_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const err = (() => {
      try {
        Store.open(d, core);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as SchemaTooNewError).code).toBe('ERR_SCHEMA_TOO_NEW');
    expect((err as SchemaTooNewError).found).toBe(SCHEMA_VERSION + 1);
    expect(() => verifyAuditData(d, core)).toThrow(SchemaTooNewError);
  });

  it('refuses a file that is not a database with CorruptDatabaseError', () => {
    const d = dir();
    writeFileSync(join(d, DB_FILE), Buffer.alloc(8192, 0x5a));
    expect(() => Store.open(d, core)).toThrow(CorruptDatabaseError);
    try {
      Store.open(d, core);
    } catch (e) {
      expect((e as StorageError).code).toBe('ERR_DB_CORRUPT');
    }
  });

  it('refuses a database whose schema page is damaged with CorruptDatabaseError', () => {
    const d = dir();
    const s = open(d);
    s.commit(fakeEvents(5));
    s.close();
    const path = join(d, DB_FILE);
    const db = new Database(path);
    db.pragma('journal_mode = DELETE'); // fold the WAL into the file
    db.close();
    const bytes = readFileSync(path);
    bytes.fill(0xa5, 100, 4096); // page 1 after the header: the sqlite_schema b-tree
    writeFileSync(path, bytes);
    expect(() => Store.open(d, core)).toThrow(CorruptDatabaseError);
  });

  it('refuses a SQLite database of another program', () => {
    const d = dir();
    const db = new Database(join(d, DB_FILE));
    db.exec('CREATE TABLE songs (title TEXT)');
    db.close();
    expect(() => Store.open(d, core)).toThrow(ForeignDatabaseError);
  });
});

describe('durability', () => {
  it('keeps events, audit log and metadata across close and reopen', () => {
    const d = dir();
    const clock = manualClock();
    const s1 = open(d, clock.now);
    const evs = fakeEvents(30);
    s1.commit(evs.slice(0, 10), [
      { type: 'critical', reason: 'NODE_START', detail: { version: '0.1.0' } },
    ]);
    s1.commit(evs.slice(10), [
      { type: 'reject', eventId: evs[0]?.id ?? null, reason: 'ERR_DUPLICATE' },
    ]);
    s1.setMeta('node.did', 'did:key:z6MkExample');
    const root = s1.audit.root();
    const size = s1.audit.size;
    s1.close();

    const s2 = open(d, clock.now);
    expect(s2.countEvents()).toBe(30);
    expect(s2.audit.size).toBe(size);
    expect(Buffer.from(s2.audit.root()).equals(Buffer.from(root))).toBe(true);
    expect(s2.getMeta('node.did')).toBe('did:key:z6MkExample');
    for (const [i, e] of evs.entries()) {
      const got = s2.getEvent(e.idHex);
      expect(got).toBeDefined();
      expect(got?.seq).toBe(i + 1);
      expect(Buffer.from(got?.encoded ?? []).equals(Buffer.from(e.encoded))).toBe(true);
      expect(got?.author).toBe(e.author);
      expect(got?.kind).toBe(e.kind);
      expect(Buffer.from(got?.nonce ?? []).equals(Buffer.from(e.nonce))).toBe(true);
      expect(got?.createdAt).toBe(e.createdAt);
      expect(got?.expiresAt).toBe(e.expiresAt);
      expect(got?.receivedAt).toBe(clock.now());
      expect(Buffer.from(got?.encodedHash ?? []).equals(Buffer.from(core.sha256(e.encoded)))).toBe(
        true,
      );
    }
    // The log continues where it stopped, and the whole store still verifies.
    s2.commit(fakeEvents(3));
    expect(s2.audit.size).toBe(size + 3);
    s2.close();
    expect(verifyAuditData(d, core)).toEqual({
      ok: true,
      entries: size + 3,
      checkpoints: 0,
      events: 33,
    });
  });

  it('keeps every acknowledged commit of a process killed with SIGKILL', async () => {
    const d = dir();
    const src = (p: string): string => new URL(p, import.meta.url).href;
    const code = `
      const { loadCore } = await import('@commons-sync/bindings');
      const { Store } = await import(${JSON.stringify(src('../src/storage/store.ts'))});
      const { fakeEvents } = await import(${JSON.stringify(src('./storage-fixtures.ts'))});
      const store = Store.open(${JSON.stringify(d)}, await loadCore());
      let acked = 0;
      for (let i = 0; i < 400; i++) {
        const batch = fakeEvents(50);
        store.commit(batch, [{ type: 'critical', reason: 'TEST' }]);
        acked += 50;
        process.stdout.write(acked + ' ' + batch[49].idHex + '\\n');
      }
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const lastAck = await new Promise<{ count: number; id: string }>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const lines = out.split('\n').filter((l) => l !== '');
        if (lines.length >= 8) {
          child.kill('SIGKILL');
          const [count, id] = (lines.at(-1) as string).split(' ');
          resolve({ count: Number(count), id: id as string });
        }
      });
      child.on('exit', (c) => reject(new Error(`child exited (${c}) before 8 commits: ${err}`)));
    });
    await new Promise((r) => child.on('close', r));
    const s = open(d);
    // Every acknowledged event is there; whatever came after is whole batches only.
    expect(s.countEvents()).toBeGreaterThanOrEqual(lastAck.count);
    expect(s.countEvents() % 50).toBe(0);
    expect(s.getEvent(lastAck.id)).toBeDefined();
    expect(s.audit.size).toBe((s.countEvents() / 50) * 51);
    s.close();
    const v = verifyAuditData(d, core);
    expect(v.ok).toBe(true);
  });
});

describe('commit', () => {
  it('returns the new audit tree size: one accept entry per event, then the records as the rules make them', () => {
    const clock = manualClock();
    const s = open(dir(), clock.now);
    const evs = fakeEvents(4);
    // An unverified rejection is counted; the first summary is due at once.
    expect(s.commit(evs, [{ type: 'reject', reason: 'ERR_X' }])).toBe(5);
    expect(s.commit([], [{ type: 'critical', reason: 'KEY_ROTATED' }])).toBe(6);
    expect(s.commit([])).toBe(6);
    // A verified one is logged as it is; another unverified one waits for the next summary.
    const verified = {
      type: 'reject' as const,
      eventId: evs[0]?.id ?? null,
      reason: 'ERR_REPLAY',
      detail: { d: 1 },
      verified: true,
    };
    expect(s.commit([], [verified, { type: 'reject', reason: 'ERR_Y' }])).toBe(7);
    expect(s.audit.entry(0)?.type).toBe('accept');
    expect(s.audit.entry(4)).toMatchObject({ type: 'summary', reason: null, eventId: null });
    expect(JSON.parse(s.audit.entry(4)?.detail ?? '')).toMatchObject({
      counts: { ERR_X: 1 },
      samples: [{ reason: 'ERR_X', id: null }],
    });
    expect(s.audit.entry(5)).toMatchObject({ type: 'critical', reason: 'KEY_ROTATED' });
    expect(s.audit.entry(6)).toMatchObject({
      type: 'reject',
      reason: 'ERR_REPLAY',
      detail: '{"d":1}',
    });
    expect(s.flushAuditSummary()).toBe(false);
    clock.advance(1_000);
    expect(s.flushAuditSummary()).toBe(true);
    expect(JSON.parse(s.audit.entry(7)?.detail ?? '')).toMatchObject({ counts: { ERR_Y: 1 } });
  });

  it('is atomic: a duplicate id anywhere in the batch writes nothing', () => {
    const s = open(dir());
    const first = fakeEvents(5);
    s.commit(first);
    const root = s.audit.root();
    const batch = [...fakeEvents(5), first[2] as (typeof first)[number], ...fakeEvents(5)];
    expect(() => s.commit(batch)).toThrow(DuplicateEventError);
    expect(s.countEvents()).toBe(5);
    expect(s.audit.size).toBe(5);
    expect(Buffer.from(s.audit.root()).equals(Buffer.from(root))).toBe(true);
    expect(s.findIds(batch.map((e) => e.id)).size).toBe(1);
    // The same id twice in one batch is refused too.
    const e = fakeEvent();
    expect(() => s.commit([e, e])).toThrow(DuplicateEventError);
    expect(s.findIds([e.id]).size).toBe(0);
    // The store is still usable and consistent.
    expect(s.commit(fakeEvents(2))).toBe(7);
  });

  it('is atomic: a failure while writing the audit entries also drops the events', () => {
    const d = dir();
    const s = open(d);
    const evs = fakeEvents(10);
    const tooLong = 'R'.repeat(70_000); // reason codes are at most 65535 bytes
    expect(() => s.commit(evs, [{ type: 'critical', reason: tooLong }])).toThrow(RangeError);
    expect(s.countEvents()).toBe(0);
    expect(s.findIds(evs.map((e) => e.id)).size).toBe(0);
    expect(s.audit.size).toBe(0);
    s.commit(evs);
    s.close();
    expect(verifyAuditData(d, core).ok).toBe(true);
  });

  // The multi-row INSERTs are OR FAIL (no statement journal): a row SQLite refuses in the
  // middle of a 64-row statement leaves the statement's earlier rows written until the commit's
  // transaction rolls back. Each table gets the row the batch's 40th event would write planted
  // beforehand (copied from a store that committed the same batch with the same clock).
  // (`events` and `audit_entries` are not among them: a row planted there is another writer's,
  // which the store refuses before it writes anything, ConcurrentWriterError.)
  it.each(['event_ids', 'replay'])(
    'is atomic when SQLite refuses a row in the middle of a multi-row INSERT into %s',
    (table) => {
      const clock = manualClock();
      const d = dir();
      const first = open(d, clock.now);
      first.commit(fakeEvents(5));
      first.close();
      const twin = dir();
      copyFileSync(join(d, DB_FILE), join(twin, DB_FILE));
      const s = open(d, clock.now);
      const batch = fakeEvents(100);
      const t = open(twin, clock.now);
      expect(t.commit(batch)).toBe(105);
      t.close();
      const src = new Database(join(twin, DB_FILE), { readonly: true });
      const where = 'seq = 45';
      const row = src.prepare(`SELECT * FROM ${table} WHERE ${where}`).get() as Record<
        string,
        unknown
      >;
      src.close();
      expect(row).toBeDefined();
      const raw = new Database(join(d, DB_FILE));
      const cols = Object.keys(row);
      const plant = raw.prepare(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      );
      plant.run(...cols.map((c) => row[c]));
      const root = s.audit.root();
      expect(() => s.commit(batch)).toThrow(StorageError);
      expect(s.countEvents()).toBe(5);
      expect(s.audit.size).toBe(5);
      expect(Buffer.from(s.audit.root()).equals(Buffer.from(root))).toBe(true);
      // nothing of the batch is in any table but the planted row
      const others = raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      expect(others).toBe(5 + 1);
      for (const other of ['events', 'event_ids', 'replay', 'audit_entries'].filter(
        (x) => x !== table,
      ))
        expect(raw.prepare(`SELECT count(*) FROM ${other}`).pluck().get()).toBe(5);
      // without the planted row the same batch commits, and the store verifies
      raw.prepare(`DELETE FROM ${table} WHERE ${where}`).run();
      raw.close();
      expect(s.commit(batch)).toBe(105);
      s.close();
      expect(verifyAuditData(d, core).ok).toBe(true);
    },
  );

  it('refuses a live (author, nonce) pair, and lets an expired one be reused', () => {
    const clock = manualClock(1_750_000_000_000);
    const s = open(dir(), clock.now);
    const nonce = new Uint8Array(16).fill(7);
    const author = 'did:key:z6MkAuthor';
    const a = fakeEvent({ author, nonce, createdAt: 1_750_000_000, expiresAt: 1_750_000_100 });
    s.commit([a]);
    const b = fakeEvent({ author, nonce, createdAt: 1_750_000_050, expiresAt: 1_750_000_200 });
    expect(() => s.commit([fakeEvent(), b])).toThrow(ReplayConflictError);
    expect(s.countEvents()).toBe(1);
    const hits = s.findReplays([
      { author, nonce },
      { author: 'did:key:other', nonce },
    ]);
    expect([...hits.entries()]).toEqual([
      [replayKey(author, nonce), { eventIdHex: a.idHex, expiresAt: 1_750_000_100 }],
    ]);
    clock.advance(200_000); // now 1_750_000_200 s: a expired
    s.commit([b]);
    expect(s.findReplays([{ author, nonce }]).get(replayKey(author, nonce))?.eventIdHex).toBe(
      b.idHex,
    );
  });

  it('finds stored ids and prunes replay records a partition at a time, once all expired', () => {
    const s = open(dir());
    const stored = [
      fakeEvent({ expiresAt: 1_000 }),
      fakeEvent({ expiresAt: 2_000 }),
      fakeEvent({ expiresAt: 3_000 }),
    ];
    s.commit(stored);
    const other = fakeEvent();
    expect(s.findIds([other.id, ...stored.map((e) => e.id)])).toEqual(
      new Set(stored.map((e) => e.idHex)),
    );
    expect(s.findIds([])).toEqual(new Set());
    const pairs = stored.map((e) => ({ author: e.author, nonce: e.nonce }));
    expect(s.findReplays(pairs).size).toBe(3);
    // One event of the partition is still live at 2,000 (strictly older than the cutoff goes):
    // every record stays, each with its expiry for the pipeline's rule.
    expect(s.pruneReplay(2_000)).toBe(0);
    expect([...s.findReplays(pairs).values()].map((r) => r.expiresAt)).toEqual([
      1_000, 2_000, 3_000,
    ]);
    expect(s.pruneReplay(3_001)).toBe(3);
    expect(s.findReplays(pairs).size).toBe(0);
    // Events stay; only the replay index shrinks.
    expect(s.countEvents()).toBe(3);
    expect(s.findIds(stored.map((e) => e.id)).size).toBe(3);
  });

  it('finds replay records among many pairs looked up in groups, each under its own key', () => {
    const s = open(dir());
    const stored = fakeEvents(257, { expiresAt: 2_000_000_000 });
    s.commit(stored);
    // stored pairs interleaved with unknown ones, across several lookup groups and a remainder
    const unknown = fakeEvents(260);
    const pairs = stored.flatMap((e, i) => [
      { author: e.author, nonce: e.nonce },
      {
        author: (unknown[i] as (typeof unknown)[number]).author,
        nonce: (unknown[i] as (typeof unknown)[number]).nonce,
      },
    ]);
    // the same nonce under another author is another pair
    pairs.push({ author: 'did:key:other', nonce: (stored[5] as (typeof stored)[number]).nonce });
    const hits = s.findReplays(pairs);
    expect(hits.size).toBe(stored.length);
    for (const e of stored) {
      expect(hits.get(replayKey(e.author, e.nonce))).toEqual({
        eventIdHex: e.idHex,
        expiresAt: 2_000_000_000,
      });
    }
    expect(s.findReplays(unknown.map((e) => ({ author: e.author, nonce: e.nonce }))).size).toBe(0);
  });

  it('answers lookups of missing or malformed ids with undefined', () => {
    const s = open(dir());
    expect(s.getEvent('00'.repeat(32))).toBeUndefined();
    expect(s.getEvent('not hex')).toBeUndefined();
    expect(s.getEvent('AB'.repeat(32))).toBeUndefined();
  });

  it('throws StoreClosedError after close', () => {
    const s = open(dir());
    s.close();
    s.close();
    expect(() => s.commit([])).toThrow(StoreClosedError);
    expect(() => s.countEvents()).toThrow(StoreClosedError);
  });

  it('refuses to commit after another connection wrote to the same database', () => {
    const d = dir();
    const a = open(d);
    const b = open(d);
    a.commit(fakeEvents(2));
    expect(() => b.commit(fakeEvents(2))).toThrow(ConcurrentWriterError);
    expect(a.commit(fakeEvents(1))).toBe(3);
  });
});
