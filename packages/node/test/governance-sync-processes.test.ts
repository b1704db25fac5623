/**
 * Governance records travel over sync (spec/SYNC.md §6.6): three node processes started as a
 * user starts them (`commons-sync start --root FILE --peer ...`, a line 1 ← 2 ← 3), over
 * identity-bound TLS on loopback. An attestation and an admission are POSTed to node 1 only;
 * nodes 2 and 3 end with the same governed state, and an event that node 3 held (its author was
 * not trusted yet) is accepted there once the attestation arrives, then reaches node 2. A
 * hand-driven peer's forged record is refused, not stored, and costs it; a root of its own does
 * not replace the node's anchor.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { didKeyFromPublicKey } from '../src/protocol/did.js';
import { core, entries, rootBody, signed, testKey, thresholds } from './governance-fixtures.js';
import {
  explain,
  getGovernance,
  keyEvent,
  postEvents,
  postRecord,
  recordText,
  verdictOf,
} from './governance-node-fixtures.js';
import { keySeed } from './net-harness.js';
import {
  dataDir,
  peersOf,
  rawPeer,
  runCleanup,
  sleep,
  startNode,
  until,
} from './net-process-fixtures.js';

afterAll(runCleanup);

const [g1, g2, g3, dave] = ['g1', 'g2', 'g3', 'dave'].map(testKey) as [
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
];

describe('governance records over sync, between node processes', () => {
  it('a record POSTed to one node reaches the others, which then judge trust alike', async () => {
    const dirs = await Promise.all([dataDir('gsync-1'), dataDir('gsync-2'), dataDir('gsync-3')]);
    const now = Math.floor(Date.now() / 1000);
    const anchor = signed(
      rootBody({
        createdAt: now - 7200,
        members: entries('g1', 'g2', 'g3'),
        thresholds: thresholds(2),
        validators: dirs.map((d) => ({ id: d.did })).sort((a, b) => (a.id < b.id ? -1 : 1)),
        trustPolicy: { maxDepth: 3, minPaths: 1 },
      }),
      [g1, g2],
    );
    const rootFile = join(dirs[0].dir, 'root.json');
    writeFileSync(rootFile, recordText(anchor));
    const n1 = await startNode(dirs[0].dir, ['--root', rootFile]);
    const n2 = await startNode(dirs[1].dir, [
      '--root',
      rootFile,
      '--peer',
      `${n1.sync.host}:${n1.sync.port}`,
    ]);
    const n3 = await startNode(dirs[2].dir, [
      '--root',
      rootFile,
      '--peer',
      `${n2.sync.host}:${n2.sync.port}`,
    ]);
    const ready = async (url: string, did: string) =>
      (await peersOf(url)).peers.some((p) => p.did === did && p.state === 'ready');
    await until('2 connected to 1', () => ready(n1.url, n2.did), 90_000);
    await until('3 connected to 2', () => ready(n2.url, n3.did), 90_000);

    // dave is nobody yet: node 3 refuses his event at step 8 and holds it
    const [byDave] = await postEvents(n3.url, [keyEvent(dave, now - 60, 'note', 'gsync')]);
    expect(verdictOf(byDave as never)).toBe('ERR_UNTRUSTED_AUTHOR');
    const daveEvent = `/v1/events/${byDave?.id}`;
    expect((await fetch(`${n3.url}${daveEvent}`)).status).toBe(404);

    // g1 (a member: a trust root of the policy) vouches for dave; a quorum admits a validator
    const attestation = signed(
      {
        v: 1,
        type: 'attestation',
        issuer: g1.did,
        subject: dave.did,
        scope: '*',
        createdAt: now - 3600,
        expiresAt: now + 30 * 86_400,
      },
      [g1],
    );
    const admission = signed(
      {
        v: 1,
        type: 'action',
        kind: 'validator-admission',
        root: anchor.id,
        subject: testKey('val-4').did,
        createdAt: now - 1800,
      },
      [g1, g3],
    );
    expect(await postRecord(n1.url, attestation)).toMatchObject({ status: 'accepted' });
    expect(await postRecord(n1.url, admission)).toMatchObject({
      status: 'accepted',
      standing: 'applied',
    });
    const state1 = await getGovernance(n1.url);
    expect(JSON.stringify(state1)).toContain(admission.idHex);

    // nodes 2 and 3 reach node 1's governed state by sync alone
    for (const n of [n2, n3])
      await until(
        `the governed state at ${n.url}`,
        async () => JSON.stringify(await getGovernance(n.url)) === JSON.stringify(state1),
        90_000,
      );
    // node 3 accepted the event it held; node 2 gets it from node 3
    for (const n of [n3, n2])
      await until(
        `dave's event at ${n.url}`,
        async () => (await fetch(`${n.url}${daveEvent}`)).status === 200,
        90_000,
      );
    for (const n of [n1, n2, n3]) {
      expect(await explain(n.url, dave.did, 'note', now)).toMatchObject({
        trusted: true,
        reason: 'paths',
      });
    }
    // the attestation is held as a record at every node
    for (const n of [n2, n3])
      expect((await fetch(`${n.url}/v1/governance/records/${attestation.idHex}`)).status).toBe(200);
    await Promise.all([n3.stop(), n2.stop(), n1.stop()]);
  }, 300_000);

  it('a forged record from a peer is refused, not stored, and costs the peer; a root of its own does not replace the anchor', async () => {
    const d = await dataDir('gsync-forged');
    const peerSeed = keySeed('gsync-raw-peer');
    const peerDid = didKeyFromPublicKey(core.ed25519PublicKey(peerSeed));
    const now = Math.floor(Date.now() / 1000);
    const anchor = signed(
      rootBody({
        createdAt: now - 7200,
        members: entries('g1', 'g2', 'g3'),
        thresholds: thresholds(2),
        validators: [{ id: d.did }, { id: peerDid }].sort((a, b) => (a.id < b.id ? -1 : 1)),
      }),
      [g1, g2],
    );
    const rootFile = join(d.dir, 'root.json');
    writeFileSync(rootFile, recordText(anchor));
    const n = await startNode(d.dir, ['--root', rootFile]);
    const raw = await rawPeer(peerSeed, n.sync.port);
    raw.send({ type: 'hello', versions: [1], node: raw.did, time: Date.now(), checkpoint: null });
    await until('the HELLO back', () => raw.messages.some((m) => m.type === 'hello'));
    const scoreOf = async () => (await peersOf(n.url)).peers.find((p) => p.did === peerDid)?.score;
    const before = await scoreOf();

    const attestation = signed(
      {
        v: 1,
        type: 'attestation',
        issuer: g1.did,
        subject: dave.did,
        scope: '*',
        createdAt: now - 3600,
        expiresAt: now + 30 * 86_400,
      },
      [g1],
    );
    // a copy whose signature is broken: same body and id, other bytes
    const forged = Uint8Array.from(attestation.encoded);
    const sig = attestation.record.signatures[0]?.sig as Uint8Array;
    const at = Buffer.from(forged).indexOf(Buffer.from(sig));
    forged[at + 3] = (forged[at + 3] as number) ^ 0x01;
    raw.send({ type: 'events', events: [forged] });
    await until('the peer scored', async () => ((await scoreOf()) ?? 0) <= (before ?? 0) - 90);
    const record = `${n.url}/v1/governance/records/${attestation.idHex}`;
    expect((await fetch(record)).status).toBe(404);

    // a root of the peer's own (no prior, other members): refused, the anchor stays in force
    const usurper = signed(
      rootBody({ createdAt: now - 60, members: entries('dave'), thresholds: thresholds(1) }),
      [dave],
    );
    raw.send({ type: 'events', events: [usurper.encoded] });
    await sleep(500);
    const state = (await getGovernance(n.url)) as { root?: { id?: string } };
    expect(state.root?.id).toBe(anchor.idHex);
    expect((await fetch(`${n.url}/v1/governance/records/${usurper.idHex}`)).status).toBe(404);

    // the genuine copy (same id as the forged one) is taken
    raw.send({ type: 'events', events: [attestation.encoded] });
    await until('the genuine attestation', async () => (await fetch(record)).status === 200);
    expect(await explain(n.url, dave.did, 'note', now)).toMatchObject({ trusted: true });
    raw.destroy();
    await n.stop();
  }, 120_000);
});
