/**
 * `audit verify` holds a node's identity data to its audit log and to the rules: the intact
 * store verifies; a key event whose row was deleted or changed, an invalidated event made to
 * look valid (or the reverse), an event by an identity that lost its identity row, a row moved
 * to another key state or written twice, an invalidation of no row, are each named (through the CLI as a user runs it, and through verifyAudit).
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

let n: IdentityNode;
const ids: string[] = [];
beforeAll(async () => {
  n = await startIdentityNode(N);
  await postKeyEvents(n.url, [icp]);
  const k0 = testKey('av-k0');
  const answers = await postEventsJson(n.url, [
    identityEvent(icp, N - 2 * DAY, [k0], { label: 'kept' }),
    identityEvent(icp, N - DAY / 2, [k0], { label: 'invalidated' }),
  ]);
  ids.push(...answers.map((a) => String(a.id)));
  await postKeyEvents(n.url, [rot]);
  await n.close();
});
const copies: string[] = [];
afterAll(() => {
  n.remove();
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

function tampered(sql: string, ...params: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-id-tamper-'));
  copies.push(dir);
  cpSync(n.dir, dir, { recursive: true });
  const db = new Database(join(dir, DB_FILE));
  db.prepare(sql).run(...params);
  db.close();
  return dir;
}

describe('audit verify and identities', () => {
  it('passes on the intact store, through the CLI as well', async () => {
    expect(await verifyAudit(n.dir, core)).toMatchObject({ ok: true });
    const r = await runCli(['audit', 'verify', '--data', n.dir], {
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
      'DELETE FROM identity_invalid WHERE event_seq = (SELECT seq FROM events WHERE id = ?)',
      Buffer.from(ids[1] as string, 'hex'),
    );
    expect(await verifyAudit(revived, core)).toMatchObject({
      ok: false,
      firstBad: {
        table: 'identity_runs',
        what: expect.stringContaining('ERR_KEL_KEY_ROTATED'),
      },
    });
    const smeared = tampered(
      `INSERT INTO identity_invalid (event_seq, invalid_reason, invalid_by)
       SELECT seq, 'ERR_KEL_KEY_REVOKED', NULL FROM events WHERE id = ?`,
      Buffer.from(ids[0] as string, 'hex'),
    );
    expect(await verifyAudit(smeared, core)).toMatchObject({
      ok: false,
      firstBad: {
        table: 'identity_runs',
        what: expect.stringContaining('stands ERR_KEL_KEY_REVOKED'),
      },
    });
  });

  it('names an event by an identity without its identity row', async () => {
    // the two events were stored by one commit: one run lists both
    const orphan = tampered(
      'DELETE FROM identity_runs WHERE first_seq = (SELECT seq FROM events WHERE id = ?)',
      Buffer.from(ids[0] as string, 'hex'),
    );
    expect(await verifyAudit(orphan, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'events', what: expect.stringContaining('without its identity row') },
    });
  });

  it('names a run moved to another key state, one listing an event twice, one malformed', async () => {
    const moved = tampered(
      `UPDATE identity_runs SET key_state_id = key_state_id + 1
       WHERE first_seq = (SELECT seq FROM events WHERE id = ?)`,
      Buffer.from(ids[0] as string, 'hex'),
    );
    expect(await verifyAudit(moved, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'events', what: expect.stringContaining('names another key state') },
    });
    const twice = tampered(
      `INSERT INTO identity_runs (key_state_id, first_seq, seqs)
       SELECT (SELECT max(id) FROM key_states) + 1, seq, x'' FROM events WHERE id = ?`,
      Buffer.from(ids[1] as string, 'hex'),
    );
    expect(await verifyAudit(twice, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'identity_runs', what: 'lists an event twice' },
    });
    const malformed = tampered(
      "UPDATE identity_runs SET seqs = x'000001' WHERE first_seq = (SELECT seq FROM events WHERE id = ?)",
      Buffer.from(ids[0] as string, 'hex'),
    );
    // the run's second event is no longer listed: the event is named first (events come
    // before the identity tables in the verifier's order)
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
