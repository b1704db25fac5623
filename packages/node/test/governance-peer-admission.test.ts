/**
 * Peer admission under a trust root (spec/SYNC.md §3.3, spec/GOVERNANCE.md §6.5): two real
 * nodes (SQLite, pipelines) with their network part started as `commons-sync start --root`
 * starts it (`loadNodeOps().startNetwork`), over identity-bound TLS on loopback. A node that is
 * not a validator in force is refused at the handshake; admitted by quorum, it connects; removed
 * by quorum, it is cut and refused again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadNodeOps, type RunningNetwork } from '../src/cli/node-ops.js';
import { silentLogger } from '../src/log.js';
import { type CommonsNode, initDataDir, openNode } from '../src/node.js';
import type { PeersJson } from '../src/service.js';
import { core, entries, rootBody, signed, testKey, thresholds } from './governance-fixtures.js';
import { postRecord, recordBytes, recordText } from './governance-node-fixtures.js';
import {
  dataDir,
  peersOf as peersAt,
  runCleanup,
  startNode,
  until as untilAsync,
} from './net-process-fixtures.js';
import { PASSPHRASE } from './node-fixtures.js';

const dirs: string[] = [];
afterAll(async () => {
  await runCleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function makeDir(): Promise<{ dir: string; did: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-gov-peers-'));
  dirs.push(dir);
  const { did } = await initDataDir(dir, PASSPHRASE, { core, scryptN: 32768 });
  return { dir, did };
}

const [g1, g2, g3] = ['g1', 'g2', 'g3'].map(testKey) as [
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
];

describe('peer admission by the trust root', () => {
  it('a validator admitted by quorum connects; removed by quorum, it is cut', async () => {
    const [a, b] = await Promise.all([makeDir(), makeDir()]);
    const now = Math.floor(Date.now() / 1000);
    const anchor = signed(
      rootBody({
        createdAt: now - 3600,
        members: entries('g1', 'g2', 'g3'),
        thresholds: thresholds(2),
        validators: [{ id: a.did }],
      }),
      [g1, g2],
    );
    const ops = await loadNodeOps();
    const start = async (dir: string, peers: { host: string; port: number }[]) => {
      const node = (await openNode({
        dataDir: dir,
        passphrase: PASSPHRASE,
        workers: 0,
        core,
        trustRoot: recordBytes(anchor),
      })) as CommonsNode;
      const running = (await ops.startNetwork?.(node, {
        host: '127.0.0.1',
        port: 0,
        peers,
        admitted: new Set(),
        log: silentLogger,
      })) as RunningNetwork;
      return { node, running };
    };
    const A = await start(a.dir, []);
    const port = Number(A.running.listen.split(':').pop());
    const B = await start(b.dir, [{ host: '127.0.0.1', port }]);
    const peersOf = (n: typeof A): PeersJson => n.running.service.peers?.() as PeersJson;
    const connected = (n: typeof A, did: string) =>
      peersOf(n).peers.some((p) => p.did === did && p.state === 'ready');
    try {
      // b is no validator: a refuses it at the handshake
      await until('a refusal', () => (peersOf(A).refused['ERR_NOT_ADMITTED'] ?? 0) > 0);
      expect(connected(A, b.did)).toBe(false);

      // admitted by two of three members, at both nodes: b connects
      const admit = signed(
        {
          v: 1,
          type: 'action',
          kind: 'validator-admission',
          root: anchor.id,
          subject: b.did,
          createdAt: now - 60,
        },
        [g1, g3],
      );
      for (const n of [A, B])
        expect(await n.node.governance.submit(recordBytes(admit))).toMatchObject({
          status: 'accepted',
          standing: 'applied',
        });
      await until('b connected to a', () => connected(A, b.did), 60_000);

      // removed by quorum at a: a cuts it, and refuses it when it dials again
      const refusedBefore = peersOf(A).refused['ERR_NOT_ADMITTED'] ?? 0;
      const remove = signed(
        {
          v: 1,
          type: 'action',
          kind: 'validator-removal',
          root: anchor.id,
          subject: b.did,
          createdAt: now - 30,
        },
        [g2, g3],
      );
      expect(await A.node.governance.submit(recordBytes(remove))).toMatchObject({
        status: 'accepted',
        standing: 'applied',
      });
      expect(connected(A, b.did)).toBe(false);
      await until(
        'b refused again',
        () => (peersOf(A).refused['ERR_NOT_ADMITTED'] ?? 0) > refusedBefore,
        60_000,
      );
      expect(connected(A, b.did)).toBe(false);
    } finally {
      await B.running.service.close();
      await A.running.service.close();
    }
  }, 180_000);

  it('node processes started with --root: admitted by quorum it connects, removed it is cut', async () => {
    const [a, b] = await Promise.all([dataDir('gov-peer-a'), dataDir('gov-peer-b')]);
    const now = Math.floor(Date.now() / 1000);
    const anchor = signed(
      rootBody({
        createdAt: now - 3600,
        members: entries('g1', 'g2', 'g3'),
        thresholds: thresholds(2),
        validators: [{ id: a.did }],
      }),
      [g1, g2],
    );
    const rootFile = join(a.dir, '..', `root-${anchor.idHex.slice(0, 8)}.json`);
    writeFileSync(rootFile, recordText(anchor));
    dirs.push(rootFile);
    const A = await startNode(a.dir, ['--root', rootFile]);
    const B = await startNode(b.dir, [
      '--root',
      rootFile,
      '--peer',
      `${A.sync.host}:${A.sync.port}`,
    ]);
    const refused = async () => (await peersAt(A.url)).refused['ERR_NOT_ADMITTED'] ?? 0;
    const ready = async () =>
      (await peersAt(A.url)).peers.some((p) => p.did === b.did && p.state === 'ready');
    await untilAsync('a refuses b', async () => (await refused()) > 0);
    expect(await ready()).toBe(false);
    const action = (kind: string, at: number, signers: (typeof g1)[]) =>
      signed(
        { v: 1, type: 'action', kind, root: anchor.id, subject: b.did, createdAt: at } as never,
        signers,
      );
    const admit = action('validator-admission', now - 60, [g1, g3]);
    for (const url of [A.url, B.url])
      expect(await postRecord(url, admit)).toMatchObject({ standing: 'applied' });
    await untilAsync('b connects to a', ready, 90_000);
    const before = await refused();
    expect(await postRecord(A.url, action('validator-removal', now - 30, [g2, g3]))).toMatchObject({
      standing: 'applied',
    });
    expect(await ready()).toBe(false);
    await untilAsync('b refused again', async () => (await refused()) > before, 90_000);
    expect(A.stderr()).toMatch(/peer cut: no longer admitted/);
    await Promise.all([B.stop(), A.stop()]);
  }, 240_000);
});
