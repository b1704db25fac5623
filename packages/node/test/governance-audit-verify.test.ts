/**
 * `audit verify` holds the stored governance records to the audit log (spec/AUDIT.md §2.4): a
 * node's records verify as stored, and a changed byte, a changed signer set or a row no `held`
 * entry recorded is named as the first bad row of `governance_records`.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { verifyAudit } from '../src/node.js';
import { DB_FILE } from '../src/storage/index.js';
import { core, DAY, rootBody, signed, T0, testKey } from './governance-fixtures.js';
import { postRecord, recordBytes } from './governance-node-fixtures.js';
import { startIdentityNode } from './identity-node-fixtures.js';

const NOW = T0 + 10 * DAY;
const [alice, bob, dave] = ['alice', 'bob', 'dave'].map(testKey) as [
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
];
const anchor = signed(rootBody(), [alice, bob]);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('audit verify and the governance records', () => {
  it('passes as stored and names a tampered or unrecorded row', async () => {
    const n = await startIdentityNode(NOW, { trustRoot: recordBytes(anchor) });
    dirs.push(n.dir);
    const attest = (subject: string, at: number) =>
      signed(
        {
          v: 1,
          type: 'attestation',
          issuer: alice.did,
          subject,
          scope: '*',
          createdAt: at,
          expiresAt: at + DAY,
        },
        [alice],
      );
    expect(await postRecord(n.url, attest(dave.did, NOW - 100))).toMatchObject({
      status: 'accepted',
    });
    await n.close();
    expect(await verifyAudit(n.dir, core)).toMatchObject({ ok: true });

    const tamper = async (sql: (db: Database.Database) => void) => {
      const copy = mkdtempSync(join(tmpdir(), 'cs-gov-tamper-'));
      dirs.push(copy);
      cpSync(n.dir, copy, { recursive: true });
      const db = new Database(join(copy, DB_FILE));
      sql(db);
      db.close();
      return verifyAudit(copy, core);
    };
    // a byte of the stored record changed (the signature no longer verifies, or it no longer decodes)
    const flipped = await tamper((db) => {
      const row = db.prepare('SELECT id, signers, encoded FROM governance_records').get() as {
        id: Buffer;
        signers: string;
        encoded: Buffer;
      };
      const bytes = Buffer.from(row.encoded);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
      db.prepare('UPDATE governance_records SET encoded = ? WHERE id = ?').run(bytes, row.id);
    });
    expect(flipped).toMatchObject({ ok: false, firstBad: { table: 'governance_records' } });
    // a row slipped in that no audit entry recorded (a valid record: signed by its issuer)
    const extra = attest(bob.did, NOW - 50);
    const slipped = await tamper((db) => {
      db.prepare(
        'INSERT INTO governance_records (id, signers, type, created_at, received_at, encoded) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(extra.id, alice.did, 'attestation', NOW - 50, NOW * 1000, extra.encoded);
    });
    expect(slipped).toMatchObject({
      ok: false,
      firstBad: { table: 'governance_records', what: 'no audit entry records it' },
    });
    // a row whose signer set was rewritten
    const resigned = await tamper((db) => {
      db.prepare('UPDATE governance_records SET signers = ?').run(bob.did);
    });
    expect(resigned).toMatchObject({ ok: false, firstBad: { table: 'governance_records' } });
  });
});
