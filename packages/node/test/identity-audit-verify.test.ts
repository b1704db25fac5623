/**
 * `audit verify` holds a node's identity data to its audit log and to the rules, with its
 * identity rows staged or folded into runs: the intact store verifies; a key event whose row
 * was deleted or changed, an invalidated event made to look valid (or the reverse), an event
 * by an identity that lost its identity row, a row moved to another key state or written
 * twice, a malformed row, an invalidation of no row, are each named (through the CLI as a user
 * runs it, and through verifyAudit).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyAudit } from '../src/node.js';
import { DB_FILE } from '../src/storage/index.js';
import { core, DAY, inception, set, successor, testKey } from './identity-fixtures.js';
import {
  type IdentityNode,
  identityEvent,
  NODE_PASSPHRASE,
  postEventsJson,
  postKeyEvents,
  startIdentityNode,
} from './identity-node-fixtures.js';
import { runCli } from './node-fixtures.js';

// the real clock: audit verify judges the events unexpired now
const N = Math.floor(Date.now() / 1000);
const icp = inception({ current: set(1, 'av-k0'), next: set(1, 'av-k1'), createdAt: N - 20 * DAY });
const rot = successor(icp, {
  type: 'rotation',
  current: set(1, 'av-k1'),
  next: set(1, 'av-k2'),
  createdAt: N - DAY,
});

/**
 * The node's two layouts of identity rows (storage/identity-tables.ts): its events staged per
 * commit (the default, until 16,384 are staged), or folded into runs (a fold every commit).
 */
const LAYOUTS = [
  { table: 'identity_staged', foldAt: undefined },
  { table: 'identity_runs', foldAt: 1 },
] as const;

const nodes = new Map<string, IdentityNode>();
/** Per layout, the ids of its two events: one kept valid, one the rotation invalidates. */
const idsOf = new Map<string, string[]>();
beforeAll(async () => {
  for (const layout of LAYOUTS) {
    const n = await startIdentityNode(
      N,
      layout.foldAt === undefined ? {} : { identityFoldAt: layout.foldAt },
    );
    nodes.set(layout.table, n);
    await postKeyEvents(n.url, [icp]);
    const k0 = testKey('av-k0');
    const answers = await postEventsJson(n.url, [
      identityEvent(icp, N - 2 * DAY, [k0], { label: 'kept' }),
      identityEvent(icp, N - DAY / 2, [k0], { label: 'invalidated' }),
    ]);
    idsOf.set(
      layout.table,
      answers.map((a) => String(a.id)),
    );
    await postKeyEvents(n.url, [rot]);
    await n.close();
  }
});
const copies: string[] = [];
afterAll(() => {
  for (const n of nodes.values()) n.remove();
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the layout's store with `tamper` applied to its database. */
function tamperedWith(table: string, tamper: (db: Database.Database) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-id-tamper-'));
  copies.push(dir);
  cpSync((nodes.get(table) as IdentityNode).dir, dir, { recursive: true });
  const db = new Database(join(dir, DB_FILE));
  tamper(db);
  db.close();
  return dir;
}

const SEQ_OF = '(SELECT seq FROM events WHERE id = ?)';

describe.each(LAYOUTS)('audit verify and identities, rows in $table', ({ table }) => {
  const idBytes = (i: number) => Buffer.from((idsOf.get(table) as string[])[i] as string, 'hex');
  const tampered = (sql: string, ...params: unknown[]): string =>
    tamperedWith(table, (db) => db.prepare(sql).run(...params));
  /** The staged row of both events (one commit): its entries rewritten by `edit`. */
  const stagedEdit = (edit: (entries: Buffer) => Buffer): string =>
    tamperedWith(table, (db) => {
      const first = db.prepare(`SELECT seq FROM events WHERE id = ?`).pluck().get(idBytes(0));
      const entries = db
        .prepare('SELECT entries FROM identity_staged WHERE first_seq = ?')
        .pluck()
        .get(first) as Buffer;
      db.prepare('UPDATE identity_staged SET entries = ? WHERE first_seq = ?').run(
        edit(Buffer.from(entries)),
        first,
      );
    });

  it('has its rows in that table', () => {
    const db = new Database(join((nodes.get(table) as IdentityNode).dir, DB_FILE), {
      readonly: true,
    });
    const other = table === 'identity_runs' ? 'identity_staged' : 'identity_runs';
    expect(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get()).toBeGreaterThan(0);
    expect(db.prepare(`SELECT count(*) FROM ${other}`).pluck().get()).toBe(0);
    db.close();
  });

  it('passes on the intact store, through the CLI as well', async () => {
    const dir = (nodes.get(table) as IdentityNode).dir;
    expect(await verifyAudit(dir, core)).toMatchObject({ ok: true });
    const r = await runCli(['audit', 'verify', '--data', dir], {
      COMMONS_SYNC_PASSPHRASE: NODE_PASSPHRASE,
    });
    expect(r.code).toBe(0);
  });

  it('names a deleted or altered key event', async () => {
    const deleted = tampered('DELETE FROM key_events WHERE id = ?', Buffer.from(rot.idHex, 'hex'));
    expect(await verifyAudit(deleted, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'audit_entries', what: expect.stringContaining('no key_events row') },
    });
    const altered = tampered(
      "UPDATE key_events SET encoded = CAST(replace(CAST(encoded AS TEXT), 'rotation', 'rotatiom') AS BLOB) WHERE id = ?",
      Buffer.from(rot.idHex, 'hex'),
    );
    expect(await verifyAudit(altered, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'key_events' },
    });
  });

  it('names an invalidated event made to look valid, and a valid one marked invalid', async () => {
    const revived = tampered(
      `DELETE FROM identity_invalid WHERE event_seq = ${SEQ_OF}`,
      idBytes(1),
    );
    expect(await verifyAudit(revived, core)).toMatchObject({
      ok: false,
      firstBad: { table, what: expect.stringContaining('ERR_KEL_KEY_ROTATED') },
    });
    const smeared = tampered(
      `INSERT INTO identity_invalid (event_seq, invalid_reason, invalid_by)
       SELECT seq, 'ERR_KEL_KEY_REVOKED', NULL FROM events WHERE id = ?`,
      idBytes(0),
    );
    expect(await verifyAudit(smeared, core)).toMatchObject({
      ok: false,
      firstBad: { table, what: expect.stringContaining('stands ERR_KEL_KEY_REVOKED') },
    });
  });

  it('names an event by an identity without its identity row', async () => {
    // the two events were stored by one commit: one row lists both
    const orphan = tampered(`DELETE FROM ${table} WHERE first_seq = ${SEQ_OF}`, idBytes(0));
    expect(await verifyAudit(orphan, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'events', what: expect.stringContaining('without its identity row') },
    });
  });

  it('names a row moved to another key state, one listing an event twice, one malformed', async () => {
    // the key state id of the first event (a staged row's first 4 bytes), or of the run
    const moved =
      table === 'identity_runs'
        ? tampered(
            `UPDATE identity_runs SET key_state_id = key_state_id + 1 WHERE first_seq = ${SEQ_OF}`,
            idBytes(0),
          )
        : stagedEdit((e) => {
            e.writeUInt32BE(e.readUInt32BE(0) + 1, 0);
            return e;
          });
    expect(await verifyAudit(moved, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'events', what: expect.stringContaining('names another key state') },
    });
    // the second event listed again, under a key state id no row has
    const twice = tampered(
      table === 'identity_runs'
        ? `INSERT INTO identity_runs (key_state_id, first_seq, seqs)
           SELECT (SELECT max(id) FROM key_states) + 1, seq, x'' FROM events WHERE id = ?`
        : `INSERT INTO identity_staged (first_seq, entries)
           SELECT seq, unhex(printf('%08x', (SELECT max(id) FROM key_states) + 1) || '00000000')
           FROM events WHERE id = ?`,
      idBytes(1),
    );
    expect(await verifyAudit(twice, core)).toMatchObject({
      ok: false,
      firstBad: { table, what: 'lists an event twice' },
    });
    const malformed = tampered(
      `UPDATE ${table} SET ${table === 'identity_runs' ? 'seqs' : 'entries'} = x'000001'
       WHERE first_seq = ${SEQ_OF}`,
      idBytes(0),
    );
    // the row's events are no longer listed: an event is named first (events come before the
    // identity tables in the verifier's order)
    expect(await verifyAudit(malformed, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'events', what: expect.stringContaining('without its identity row') },
    });
  });

  it('names an invalidation of no identity row', async () => {
    const stray = tampered(
      `INSERT INTO identity_invalid (event_seq, invalid_reason, invalid_by)
       VALUES ((SELECT max(seq) FROM events) + 1, 'ERR_KEL_KEY_REVOKED', ?)`,
      'ab'.repeat(32),
    );
    expect(await verifyAudit(stray, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'identity_invalid', what: 'names no listed event' },
    });
  });
});
