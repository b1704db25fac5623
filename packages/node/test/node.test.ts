/**
 * The node as the API sees it (in process): acknowledged means stored, replays are rejected
 * also after a restart, checkpoints and proofs verify, overload and shutdown are typed errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { checkpointMessage, verifyInclusion } from '../src/audit/index.js';
import { initDataDir, openNode, verifyAudit } from '../src/node.js';
import { batchOfValues, toHex } from '../src/protocol/index.js';
import { nativeCore as core, makeEvents, PASSPHRASE } from './node-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cs-node-'));
  dirs.push(d);
  return d;
}
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

describe('node', () => {
  it('stores what it acknowledges and serves it back; proofs verify against signed checkpoints', async () => {
    const dir = freshDir();
    const { did, created } = await initDataDir(dir, PASSPHRASE, core);
    expect(created).toBe(true);
    expect((await initDataDir(dir, PASSPHRASE, core)).created).toBe(false);
    const node = await openNode({ dataDir: dir, passphrase: PASSPHRASE, workers: 0, core });
    try {
      expect(node.did).toBe(did);
      const events = makeEvents(50, 5, 'serve');
      const results = await node.ingest(batchOfValues(events));
      expect(results.every((r) => r.status === 'accepted')).toBe(true);
      const id = (results[7] as { id: string }).id;
      expect(node.getEvent(id)).toEqual(events[7]);
      expect(node.getEvent('00'.repeat(32))).toBeUndefined();

      // The checkpoint signed at open does not cover the new entries, and the node signs at most
      // one a second: the proof is pending until then.
      let answer = await node.auditProof(id);
      if (answer !== undefined && 'pending' in answer) {
        expect(answer.retry_after_ms).toBeGreaterThan(0);
        await new Promise((r) =>
          setTimeout(r, (answer as { retry_after_ms: number }).retry_after_ms + 10),
        );
        answer = await node.auditProof(id);
      }
      expect(answer).toBeDefined();
      if (answer === undefined || 'pending' in answer) throw new Error('no proof');
      const proof = answer;
      const cp = proof.checkpoint;
      expect(toHex(core.sha256(Buffer.concat([Buffer.from([0]), hex(proof.leaf ?? '')])))).toBe(
        proof.leaf_hash,
      );
      expect(cp.node).toBe(did);
      const ok = verifyInclusion(
        (d) => core.sha256(d),
        proof!.leaf_index,
        proof!.tree_size,
        hex(proof!.leaf_hash),
        proof!.path.map(hex),
        hex(cp.root),
      );
      expect(ok).toBe(true);
      const tampered = proof!.path.map(hex);
      tampered[0]![0]! ^= 1;
      expect(
        verifyInclusion(
          (d) => core.sha256(d),
          proof!.leaf_index,
          proof!.tree_size,
          hex(proof!.leaf_hash),
          tampered,
          hex(cp.root),
        ),
      ).toBe(false);
      expect(await node.auditProof('11'.repeat(32))).toBeUndefined();
      const health = node.health();
      // 50 accept entries, and one checkpoint entry per checkpoint (signed at open and for the proof)
      expect(health).toMatchObject({
        status: 'ok',
        did,
        events: 50,
        audit_size: 50 + ((await node.checkpoint()).seq ?? 0),
      });
      expect(node.metrics()).toMatch(/commons_sync_events_total\{outcome="accepted"\} 50/);
      // the checkpoint signature is the node key's, over the documented message
      const nodeKey = hex(
        (await import('node:fs'))
          .readFileSync(join(dir, 'node.key'), 'utf8')
          .match(/"publicKey":\s*"([0-9a-f]{64})"/)![1]!,
      );
      expect(cp.version).toBe(2);
      const msg = checkpointMessage({
        version: 2,
        seq: cp.seq!,
        treeSize: cp.tree_size,
        root: hex(cp.root),
        time: cp.time,
        publicKey: nodeKey,
        prev: hex(cp.prev!),
      });
      expect(core.ed25519Verify(nodeKey, msg, hex(cp.signature))).toBe(true);
    } finally {
      await node.close();
    }
    expect(await verifyAudit(dir, core)).toMatchObject({ ok: true, events: 50 });
  });

  it('rejects any replay of an accepted event, also after a restart', async () => {
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    const events = makeEvents(40, 4, 'replay');
    let node = await openNode({ dataDir: dir, passphrase: PASSPHRASE, workers: 0, core });
    const first = await node.ingest(batchOfValues(events.slice(0, 30)));
    expect(first.every((r) => r.status === 'accepted')).toBe(true);
    await node.close();
    node = await openNode({ dataDir: dir, passphrase: PASSPHRASE, workers: 0, core });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.subarray([...events.keys()].slice(0, 30), { minLength: 1 }),
          fc.boolean(),
          async (picked, mutate) => {
            // the same events again: duplicates; the same author and nonce with another payload
            // (re-signed is impossible without the key, so the signature breaks too): a replay
            const batch = picked.map((i) =>
              mutate ? { ...events[i], payload: { other: i } } : events[i],
            );
            const results = await node.ingest(batchOfValues(batch));
            for (const r of results) {
              if (mutate) expect(r).toMatchObject({ status: 'rejected', reason: 'ERR_REPLAY' });
              else expect(r.status).toBe('duplicate');
            }
          },
        ),
        { numRuns: 25 },
      );
      const rest = await node.ingest(batchOfValues(events.slice(30)));
      expect(rest.every((r) => r.status === 'accepted')).toBe(true);
    } finally {
      await node.close();
    }
  });

  it('refuses work when saturated or closing, with typed errors', async () => {
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    const node = await openNode({
      dataDir: dir,
      passphrase: PASSPHRASE,
      workers: 1,
      core,
      maxPendingEvents: 100,
    });
    const events = makeEvents(180, 3, 'overload');
    const first = node.ingest(batchOfValues(events.slice(0, 90)));
    await expect(node.ingest(batchOfValues(events.slice(90)))).rejects.toMatchObject({
      code: 'ERR_OVERLOADED',
    });
    expect((await first).every((r) => r.status === 'accepted')).toBe(true);
    const closing = node.close();
    await expect(node.ingest(batchOfValues(events.slice(90)))).rejects.toMatchObject({
      code: 'ERR_SHUTTING_DOWN',
    });
    await closing;
  });

  it('gives typed errors for a wrong passphrase, a missing data dir and bad trust settings', async () => {
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    await expect(openNode({ dataDir: dir, passphrase: 'wrong', core })).rejects.toMatchObject({
      code: 'ERR_KEYFILE_PASSPHRASE',
    });
    await expect(
      openNode({ dataDir: join(dir, 'nope'), passphrase: PASSPHRASE, core }),
    ).rejects.toMatchObject({ code: 'ERR_NO_DATA_DIR' });
    await expect(
      openNode({ dataDir: dir, passphrase: PASSPHRASE, core, trusted: ['did:key:zbad'] }),
    ).rejects.toMatchObject({ code: 'ERR_BAD_TRUSTED_DID' });
    await expect(verifyAudit(join(dir, 'nope'), core)).rejects.toMatchObject({
      code: 'ERR_NO_DATA_DIR',
    });
    const broken = freshDir();
    writeFileSync(join(broken, 'node.key'), '{ not json');
    await expect(initDataDir(broken, PASSPHRASE, core)).rejects.toMatchObject({
      code: 'ERR_KEYFILE_FORMAT',
    });
    await expect(verifyAudit(broken, core)).rejects.toMatchObject({ code: 'ERR_KEYFILE_FORMAT' });
  });

  it('accepts only trusted authors in allow-list mode', async () => {
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    const events = makeEvents(4, 2, 'trust');
    const node = await openNode({
      dataDir: dir,
      passphrase: PASSPHRASE,
      workers: 0,
      core,
      trusted: [events[0]!['author'] as string],
    });
    try {
      const results = await node.ingest(batchOfValues(events));
      expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.status))).toEqual([
        'accepted',
        'ERR_UNTRUSTED_AUTHOR',
        'accepted',
        'ERR_UNTRUSTED_AUTHOR',
      ]);
    } finally {
      await node.close();
    }
  });
});

describe('node input that is not JSON', () => {
  it('is rejected as malformed (a value with no JSON text is an empty text), the same with and without worker threads', async () => {
    const verdicts: string[][] = [];
    for (const workers of [0, 1]) {
      const dir = freshDir();
      await initDataDir(dir, PASSPHRASE, core);
      const node = await openNode({ dataDir: dir, passphrase: PASSPHRASE, workers, core });
      try {
        const cyclic: Record<string, unknown> = {};
        cyclic['self'] = cyclic;
        const results = await node.ingest(
          batchOfValues([
            10n,
            cyclic,
            undefined,
            () => 1,
            Symbol('x'),
            ...makeEvents(1, 1, 'json'),
          ]),
        );
        verdicts.push(results.map((r) => (r.status === 'rejected' ? r.reason : r.status)));
      } finally {
        await node.close();
      }
    }
    expect(verdicts[0]).toEqual([
      'ERR_MALFORMED',
      'ERR_MALFORMED',
      'ERR_MALFORMED',
      'ERR_MALFORMED',
      'ERR_MALFORMED',
      'accepted',
    ]);
    expect(verdicts[1]).toEqual(verdicts[0]);
  });
});
