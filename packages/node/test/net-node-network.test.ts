/**
 * Real nodes on the network, in one process: each a CommonsNode (SQLite, audit log, pipeline)
 * behind its NodeNetwork (the sync engine over identity-bound TLS on loopback). What a client
 * gets accepted at one node reaches the others through their own pipelines, with the peer that
 * delivered it recorded; an author's two events with one nonce end up held by every node (one
 * accepted, one kept as evidence, never both accepted); a restarted node refills its sync set
 * from storage; an identity outside the admission set is refused at the handshake.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeNetwork } from '../src/net/node-network.js';
import { type CommonsNode, initDataDir, openNode, verifyAudit } from '../src/node.js';
import {
  batchOfValues,
  didKeyFromPublicKey,
  eventToJson,
  signEvent,
  toHex,
} from '../src/protocol/index.js';
import { DB_FILE } from '../src/storage/index.js';
import { nativeCore as core, makeEvents, PASSPHRASE } from './node-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Member {
  readonly dir: string;
  node: CommonsNode;
  net: NodeNetwork;
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function makeDir(): Promise<{ dir: string; did: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-netnode-'));
  dirs.push(dir);
  const { did } = await initDataDir(dir, PASSPHRASE, { core, scryptN: 32768 });
  return { dir, did };
}

async function open(dir: string, admitted: ReadonlySet<string>): Promise<Member> {
  const node = await openNode({ dataDir: dir, passphrase: PASSPHRASE, workers: 0, core });
  const net = await NodeNetwork.start(node, core, {
    admitted,
    engine: { reconcileIntervalMs: 1000 },
  });
  return { dir, node, net };
}

async function stop(m: Member): Promise<void> {
  await m.net.close();
  await m.node.close();
}

const sameSets = (ms: readonly Member[]) => {
  const first = ms[0]?.net.syncSetHex().join();
  return ms.every((m) => m.net.syncSetHex().join() === first);
};

describe('nodes on the network (in process, real TLS and SQLite)', () => {
  it('propagates what a client got accepted through every pipeline, recording who delivered it', async () => {
    const made = await Promise.all([makeDir(), makeDir(), makeDir()]);
    const admitted = new Set(made.map((m) => m.did));
    const [a, b, c] = await Promise.all(made.map((m) => open(m.dir, admitted)));
    if (a === undefined || b === undefined || c === undefined) throw new Error('three nodes');
    try {
      // a chain: a - b - c, so that c only hears from b
      a.net.dial({ host: '127.0.0.1', port: b.net.host.port });
      c.net.dial({ host: '127.0.0.1', port: b.net.host.port });
      await until('connections', () => b.net.host.connectedPeers().length === 2);

      const events = makeEvents(300, 6, 'net-node-propagate');
      const results = await a.node.ingest(batchOfValues(events));
      expect(results.every((r) => r.status === 'accepted')).toBe(true);
      await until('propagation', () => c.node.health().events === 300 && sameSets([a, b, c]));
      expect(b.node.health().events).toBe(300);
      expect(a.net.index.size).toBe(300);

      const id = Uint8Array.from(Buffer.from((results[17] as { id: string }).id, 'hex'));
      // the exact bytes travel: what b and c store is what a stored
      expect(toHex(c.node.storedEvent(id) as Uint8Array)).toBe(
        toHex(a.node.storedEvent(id) as Uint8Array),
      );
      expect(a.node.eventSource(id)).toBeUndefined(); // a client's event
      expect(b.node.eventSource(id)).toBe(a.node.did);
      expect(c.node.eventSource(id)).toBe(b.node.did);

      const peers = b.net.peers();
      expect(peers.peers.map((p) => p.did).sort()).toEqual([a.node.did, c.node.did].sort());
      for (const p of peers.peers) expect(p.state).toBe('ready');
      expect(peers.peers.find((p) => p.did === a.node.did)?.events_accepted).toBe(300);
      const metrics = b.net.metrics();
      expect(metrics).toContain(`commons_sync_peer_up{peer="${a.node.did}"} 1`);
      expect(metrics).toMatch(
        new RegExp(`commons_sync_peer_events_accepted_total\\{peer="${a.node.did}"\\} 300`),
      );
    } finally {
      await Promise.all([a, b, c].map(stop));
    }
    for (const m of made) expect(await verifyAudit(m.dir, core)).toMatchObject({ ok: true });
  });

  it('keeps both events of an equivocating author at every node, accepting only the first each saw', async () => {
    const made = await Promise.all([makeDir(), makeDir(), makeDir()]);
    const admitted = new Set(made.map((m) => m.did));
    const [a, b, c] = await Promise.all(made.map((m) => open(m.dir, admitted)));
    if (a === undefined || b === undefined || c === undefined) throw new Error('three nodes');
    try {
      const seed = core.sha256(new TextEncoder().encode('equivocating author'));
      const author = didKeyFromPublicKey(core.ed25519PublicKey(seed));
      const now = Math.floor(Date.now() / 1000);
      const nonce = core.sha256(new TextEncoder().encode('one nonce')).slice(0, 16);
      const twin = (text: string) => {
        const r = signEvent(
          core,
          {
            v: 1,
            kind: 'note',
            author,
            createdAt: now - 2,
            expiresAt: now + 3600,
            nonce,
            payload: { text },
          },
          [seed],
        );
        if (!r.ok) throw new Error(r.reason);
        return r.value;
      };
      const first = twin('to a');
      const second = twin('to c');
      const [ra] = await a.node.ingest(batchOfValues([eventToJson(first.event)]));
      const [rc] = await c.node.ingest(batchOfValues([eventToJson(second.event)]));
      expect(ra?.status).toBe('accepted');
      expect(rc?.status).toBe('accepted');
      const idA = Uint8Array.from(Buffer.from((ra as { id: string }).id, 'hex'));
      const idC = Uint8Array.from(Buffer.from((rc as { id: string }).id, 'hex'));

      a.net.dial({ host: '127.0.0.1', port: b.net.host.port });
      c.net.dial({ host: '127.0.0.1', port: b.net.host.port });
      await until(
        'every node holds both',
        () => [a, b, c].every((m) => m.net.index.size === 2) && sameSets([a, b, c]),
      );
      // each holds one accepted and one as evidence; a and c each accepted their own
      for (const m of [a, b, c]) {
        expect(m.node.health().events).toBe(1);
        const kinds = [...m.net.index.entries()].map((e) => e.kind).sort();
        expect(kinds).toEqual(['accepted', 'conflict']);
      }
      expect(a.node.getEvent(toHex(idA))).toBeDefined();
      expect(a.node.getEvent(toHex(idC))).toBeUndefined(); // evidence is not accepted
      expect(toHex(a.node.storedEvent(idC) as Uint8Array)).toBe(toHex(second.encoded));
      expect(c.node.getEvent(toHex(idC))).toBeDefined();
      expect(c.node.getEvent(toHex(idA))).toBeUndefined();
      expect(a.node.metrics()).toMatch(/commons_sync_events_total\{outcome="conflict"\} 1/);
    } finally {
      await Promise.all([a, b, c].map(stop));
    }
    // the equivocation is in each audit log, once; the logs still verify
    for (const m of made) {
      const db = new Database(join(m.dir, DB_FILE), { readonly: true });
      try {
        const n = db
          .prepare(
            "SELECT count(*) FROM audit_entries WHERE type = 'critical' AND reason = 'author-equivocation'",
          )
          .pluck()
          .get();
        expect(n).toBe(1);
        expect(db.prepare('SELECT count(*) FROM conflict_events').pluck().get()).toBe(1);
        expect(db.prepare('SELECT count(*) FROM replay').pluck().get()).toBe(1);
      } finally {
        db.close();
      }
      expect(await verifyAudit(m.dir, core)).toMatchObject({ ok: true, events: 1 });
    }
  });

  it('fills the sync set from storage at start, and refuses an identity it does not admit', async () => {
    const made = await Promise.all([makeDir(), makeDir(), makeDir()]);
    const admitted = new Set([made[0]?.did as string, made[1]?.did as string]); // not the third
    let a = await open(made[0]?.dir as string, admitted);
    const b = await open(made[1]?.dir as string, admitted);
    const outsider = await open(made[2]?.dir as string, new Set(made.map((m) => m.did)));
    try {
      const results = await a.node.ingest(batchOfValues(makeEvents(40, 4, 'net-node-restart')));
      expect(results.every((r) => r.status === 'accepted')).toBe(true);
      const before = a.net.syncSetHex();
      await stop(a);
      a = await open(made[0]?.dir as string, admitted);
      expect(a.net.syncSetHex()).toEqual(before);

      outsider.net.dial({ host: '127.0.0.1', port: a.net.host.port });
      b.net.dial({ host: '127.0.0.1', port: a.net.host.port });
      await until('b has the events', () => b.node.health().events === 40);
      await until(
        'the outsider was refused',
        () => (a.net.peers().refused.ERR_NOT_ADMITTED ?? 0) > 0,
      );
      expect(a.net.host.connectedPeers()).toEqual([b.node.did]);
      expect(outsider.node.health().events).toBe(0);
      await until(
        'the outsider was told why',
        () =>
          outsider.net.peers().peers.find((p) => p.did === a.node.did)?.last_close?.code ===
          'ERR_NOT_ADMITTED',
      );
    } finally {
      await Promise.all([a, b, outsider].map(stop));
    }
  });
});
