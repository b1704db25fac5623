/**
 * Networks of node processes on loopback, started as a user starts them (`commons-sync start
 * --peer HOST:PORT --admit DIDS`): events posted to any node reach every node; a partition made
 * by a TCP proxy the test controls heals into equal stores; a node SIGKILLed mid-sync restarts
 * and catches up with its audit log intact; a node whose data directory was lost (its key kept)
 * refills from its peers; an identity outside the admission set is refused at the handshake; a
 * hostile admitted peer is banned, with the evidence in the audit log, while honest traffic
 * goes on.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { DB_FILE } from '../src/storage/index.js';
import { core, event, keySeed } from './net-harness.js';
import {
  auditEntries,
  dataDir,
  goodbyeCodes,
  health,
  type NodeProcess,
  peersOf,
  rawPeer,
  runCleanup,
  sleep,
  startNode,
  storedIds,
  TcpProxy,
  until,
} from './net-process-fixtures.js';
import { makeEvents, postEvents, runCli } from './node-fixtures.js';

afterEach(runCleanup);

const admit = (dids: readonly string[]) => ['--open', '--admit', dids.join(',')];
const peer = (n: NodeProcess) => ['--peer', `${n.sync.host}:${n.sync.port}`];

async function post(url: string, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const { status, body } = await postEvents(url, events.slice(i, i + 500));
    expect(status).toBe(200);
    for (const r of (body as { results: { status: string }[] }).results)
      expect(r.status).toBe('accepted');
  }
}

const eventsAt = async (n: NodeProcess) => (await health(n.url)).events;

describe('a network of node processes', () => {
  it('gets events posted to any node to every node', async () => {
    const dirs = await Promise.all(['p1', 'p2', 'p3'].map(dataDir));
    const dids = dirs.map((d) => d.did);
    const n1 = await startNode(dirs[0]!.dir, admit(dids));
    const n2 = await startNode(dirs[1]!.dir, [...admit(dids), ...peer(n1)]);
    const n3 = await startNode(dirs[2]!.dir, [...admit(dids), ...peer(n1), ...peer(n2)]);
    await post(n1.url, makeEvents(400, 8, 'procs-propagate-1'));
    await post(n3.url, makeEvents(200, 8, 'procs-propagate-3'));
    for (const n of [n1, n2, n3])
      await until('600 events everywhere', async () => (await eventsAt(n)) === 600);
    const view = await peersOf(n2.url);
    expect(
      view.peers
        .filter((p) => p.state === 'ready')
        .map((p) => p.did)
        .sort(),
    ).toEqual([n1.did, n3.did].sort());
    await Promise.all([n1, n2, n3].map((n) => n.stop()));
    const sets = dirs.map((d) => storedIds(d.dir).events.join());
    expect(new Set(sets).size).toBe(1);
    for (const d of dirs) expect((await runCli(['audit', 'verify', '--data', d.dir])).code).toBe(0);
  });

  it('heals a partition made by a TCP proxy: afterwards every node holds the same events', async () => {
    const dirs = await Promise.all(['q1', 'q2', 'q3'].map(dataDir));
    const dids = dirs.map((d) => d.did);
    const n1 = await startNode(dirs[0]!.dir, admit(dids));
    const n2 = await startNode(dirs[1]!.dir, [...admit(dids), ...peer(n1)]);
    // n3 reaches n1 and n2 only through proxies the test controls
    const p1 = await TcpProxy.start(n1.sync);
    const p2 = await TcpProxy.start(n2.sync);
    const n3 = await startNode(dirs[2]!.dir, [
      ...admit(dids),
      '--peer',
      `127.0.0.1:${p1.port}`,
      '--peer',
      `127.0.0.1:${p2.port}`,
    ]);
    await until(
      'n3 connected to both',
      async () => (await peersOf(n3.url)).peers.filter((p) => p.state === 'ready').length === 2,
    );
    p1.partition();
    p2.partition();
    await until('n3 cut off', async () =>
      (await peersOf(n3.url)).peers.every((p) => p.state !== 'ready'),
    );
    await post(n1.url, makeEvents(300, 6, 'procs-partition-1'));
    await post(n3.url, makeEvents(150, 6, 'procs-partition-3'));
    await until('n2 has n1 side', async () => (await eventsAt(n2)) === 300);
    await sleep(1500);
    expect(await eventsAt(n3)).toBe(150); // nothing crossed the partition
    expect(await eventsAt(n1)).toBe(300);
    p1.heal();
    p2.heal();
    for (const n of [n1, n2, n3])
      await until('450 events everywhere', async () => (await eventsAt(n)) === 450);
    await Promise.all([n1, n2, n3].map((n) => n.stop()));
    expect(new Set(dirs.map((d) => storedIds(d.dir).events.join())).size).toBe(1);
  });

  it('a node SIGKILLed mid-sync restarts, catches up, and its audit log verifies', async () => {
    const dirs = await Promise.all(['k1', 'k2'].map(dataDir));
    const dids = dirs.map((d) => d.did);
    const n1 = await startNode(dirs[0]!.dir, admit(dids));
    const n2 = await startNode(dirs[1]!.dir, [...admit(dids), ...peer(n1)]);
    const events = makeEvents(4000, 16, 'procs-sigkill');
    const load = post(n1.url, events);
    await until('n2 syncing', async () => (await eventsAt(n2)) > 300, 120_000);
    const seen = await eventsAt(n2);
    n2.child.kill('SIGKILL');
    await n2.exited;
    expect(seen).toBeLessThan(4000); // killed mid-sync
    await load;
    const again = await startNode(dirs[1]!.dir, [...admit(dids), ...peer(n1)]);
    await until('n2 caught up', async () => (await eventsAt(again)) === 4000, 120_000);
    await Promise.all([n1.stop(), again.stop()]);
    expect(storedIds(dirs[1]!.dir).events).toEqual(storedIds(dirs[0]!.dir).events);
    const verify = await runCli(['audit', 'verify', '--data', dirs[1]!.dir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 240_000);

  it('refills a node whose data directory was lost from its peers, under the same identity', async () => {
    const dirs = await Promise.all(['r1', 'r2', 'r3'].map(dataDir));
    const dids = dirs.map((d) => d.did);
    const n1 = await startNode(dirs[0]!.dir, admit(dids));
    const n2 = await startNode(dirs[1]!.dir, [...admit(dids), ...peer(n1)]);
    const n3 = await startNode(dirs[2]!.dir, [...admit(dids), ...peer(n1), ...peer(n2)]);
    await post(n2.url, makeEvents(500, 8, 'procs-restore'));
    await until('n3 has them', async () => (await eventsAt(n3)) === 500);
    await n3.stop();
    // the database is lost; the key file (node.key) is kept
    for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`])
      rmSync(join(dirs[2]!.dir, f), { force: true });
    const restored = await startNode(dirs[2]!.dir, [...admit(dids), ...peer(n1), ...peer(n2)]);
    expect(restored.did).toBe(n3.did);
    await until('refilled', async () => (await eventsAt(restored)) === 500);
    const seen = (await peersOf(n1.url)).peers.find((p) => p.did === restored.did);
    expect(seen?.state).toBe('ready');
    expect(seen?.score_state).toBe('ok');
    await Promise.all([n1, n2, restored].map((n) => n.stop()));
    expect(storedIds(dirs[2]!.dir).events).toEqual(storedIds(dirs[1]!.dir).events);
    expect((await runCli(['audit', 'verify', '--data', dirs[2]!.dir])).code).toBe(0);
  });

  it('refuses an identity outside the admission set at the handshake', async () => {
    const dirs = await Promise.all(['u1', 'u2', 'u3'].map(dataDir));
    const [d1, d2, outsider] = dirs.map((d) => d.did) as [string, string, string];
    const n1 = await startNode(dirs[0]!.dir, admit([d1, d2]));
    const n2 = await startNode(dirs[1]!.dir, [...admit([d1, d2]), ...peer(n1)]);
    // the outsider admits n1 and dials it; n1 does not admit the outsider
    const out = await startNode(dirs[2]!.dir, [...admit([d1, outsider]), ...peer(n1)]);
    await until('refused', async () => ((await peersOf(n1.url)).refused.ERR_NOT_ADMITTED ?? 0) > 0);
    await until('told why', async () =>
      (await peersOf(out.url)).peers.some((p) => p.last_close?.code === 'ERR_NOT_ADMITTED'),
    );
    await post(out.url, makeEvents(20, 2, 'procs-outsider'));
    await post(n2.url, makeEvents(20, 2, 'procs-insider'));
    await until('n1 has the insider events', async () => (await eventsAt(n1)) === 20);
    await sleep(1000);
    expect(await eventsAt(n1)).toBe(20); // and none of the outsider's
    const view = await peersOf(n1.url);
    expect(view.peers.filter((p) => p.state === 'ready').map((p) => p.did)).toEqual([n2.did]);
    expect(n1.stderr()).toContain('ERR_NOT_ADMITTED');
  });

  it('bans a hostile admitted peer, with evidence in the audit log, while honest traffic goes on', async () => {
    const hostileSeed = keySeed('procs-hostile');
    const hostileDid = (await import('../src/protocol/did.js')).didKeyFromPublicKey(
      core.ed25519PublicKey(hostileSeed),
    );
    const dirs = await Promise.all(['h1', 'h2'].map(dataDir));
    const dids = [...dirs.map((d) => d.did), hostileDid];
    const n1 = await startNode(dirs[0]!.dir, admit(dids));
    const n2 = await startNode(dirs[1]!.dir, [...admit(dids), ...peer(n1)]);
    const hostile = await rawPeer(hostileSeed, n1.sync.port);
    hostile.send({
      type: 'hello',
      versions: [1],
      node: hostile.did,
      time: Date.now(),
      checkpoint: null,
    });
    await until('the HELLO back', () => hostile.messages.some((m) => m.type === 'hello'));

    const honest = post(n2.url, makeEvents(600, 8, 'procs-honest'));
    const author = keySeed('procs-hostile-author');
    for (let i = 0; i < 40 && goodbyeCodes(hostile).length === 0; i++) {
      // valid events with one signature byte flipped: each costs the sender 100 points
      const forged = Array.from({ length: 5 }, () => {
        const bytes = Uint8Array.from(event([author], Date.now()));
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
        return bytes;
      });
      hostile.send({ type: 'events', events: forged });
      await sleep(100);
    }
    await hostile.closed;
    expect(goodbyeCodes(hostile)).toContain('ERR_PEER_SCORE');
    await honest;
    await until('the honest events reached n1', async () => (await eventsAt(n1)) === 600);

    const view = (await peersOf(n1.url)).peers.find((p) => p.did === hostileDid);
    expect(view?.state).toBe('banned');
    expect(view?.last_close?.code).toBe('ERR_PEER_SCORE');
    // banned: a new connection is refused
    const again = await rawPeer(hostileSeed, n1.sync.port);
    await again.closed;
    expect(goodbyeCodes(again)).toEqual(['ERR_PEER_SCORE']);

    const entries = auditEntries(dirs[0]!.dir);
    const bans = entries.filter((e) => e.type === 'critical' && e.reason === 'peer-banned');
    expect(bans).toHaveLength(1);
    const ban = JSON.parse(bans[0]!.detail) as {
      peer: string;
      offences: Record<string, { count: number; samples: string[] }>;
    };
    expect(ban.peer).toBe(hostileDid);
    expect(ban.offences['invalid-event']?.count).toBeGreaterThanOrEqual(10);
    expect(ban.offences['invalid-event']?.samples.length).toBeLessThanOrEqual(4);
    // the forged events are counted in summaries, not logged one by one: the log stays bounded
    const rejects = entries.filter((e) => e.type === 'reject').length;
    expect(rejects).toBe(0);
  });
});
