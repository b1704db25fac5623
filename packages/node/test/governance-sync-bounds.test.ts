/**
 * The bounds of governance records from peers (spec/SYNC.md §6.6): they share the node's
 * per-second record rate with `POST /v1/governance`; past it a peer's record is refused
 * `ERR_GOV_RATE` (a local code: the engine charges nothing) and taken when offered again. A real
 * node (SQLite, the commit block) with a hand-set clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';
import type { VerifiedRecord } from '../src/governance/index.js';
import { type CommonsNode, initDataDir, openNode } from '../src/node.js';
import { attest, core, rootBody, signed, testKey } from './governance-fixtures.js';
import { recordBytes } from './governance-node-fixtures.js';
import { PASSPHRASE } from './node-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('governance records from peers share the node rate', () => {
  it('past the rate a peer record is refused ERR_GOV_RATE, then taken the next second', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-gov-sync-rate-'));
    dirs.push(dir);
    await initDataDir(dir, PASSPHRASE, { core, scryptN: 32_768 });
    let nowMs = (rootBody().createdAt + 86_400) * 1000;
    const anchor = signed(rootBody(), [testKey('alice'), testKey('bob')]);
    const node = (await openNode({
      dataDir: dir,
      passphrase: PASSPHRASE,
      workers: 0,
      core,
      trustRoot: recordBytes(anchor),
      governanceRate: 2,
      now: () => nowMs,
    })) as CommonsNode;
    try {
      const [a, b, c] = ['dave', 'erin', 'frank'].map((s) => attest('alice', s)) as [
        VerifiedRecord,
        VerifiedRecord,
        VerifiedRecord,
      ];
      const peer = (r: VerifiedRecord) => node.ingestGovernanceFromPeers([r.encoded]);
      // one from a client, one from a peer: the rate of 2 is spent
      expect((await node.governance.submit(recordBytes(a))).status).toBe('accepted');
      expect((await peer(b))[0]?.status).toBe('accepted');
      expect((await peer(c))[0]).toMatchObject({ status: 'rejected', reason: 'ERR_GOV_RATE' });
      expect(node.governance.record(c.idHex)).toBeUndefined();
      nowMs += 1000;
      expect((await peer(c))[0]?.status).toBe('accepted');
      expect((await peer(c))[0]?.status).toBe('duplicate');
      // every stored copy is in the sync set, exactly as stored
      const ids = [...node.syncRows(Math.floor(nowMs / 1000))].map((r) => r.id);
      for (const r of [a, b, c]) {
        const id = core.sha256(r.encoded);
        expect(ids.some((x) => Buffer.from(x).equals(Buffer.from(id)))).toBe(true);
        expect(node.storedEvent(id)).toEqual(r.encoded);
      }
    } finally {
      await node.close();
    }
  });
});
