/**
 * Key events travel between node processes like events (spec/SYNC.md §6.5), started as a user
 * starts them: an identity created and rotated through one node's HTTP API reaches the other
 * nodes, which end with the same key event log and accept the same events by it; a node that
 * gets an identity's events from a peer before its key events holds them, then accepts them
 * when the key events arrive; and a forged key event from a peer is refused, not stored, and
 * held against that peer.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { VerifiedKeyEvent } from '../src/identity/index.js';
import { didKeyFromPublicKey, eventToJson, signEvent, toHex } from '../src/protocol/index.js';
import { core, inception, set, successor, type TestKey, testKey } from './identity-fixtures.js';
import { postEventsJson, postKeyEvents, verdictOf } from './identity-node-fixtures.js';
import { keySeed } from './net-harness.js';
import {
  dataDir,
  type NodeProcess,
  peersOf,
  rawPeer,
  runCleanup,
  sleep,
  startNode,
  storedIds,
  until,
} from './net-process-fixtures.js';

afterEach(runCleanup);

const admit = (dids: readonly string[]) => ['--open', '--admit', dids.join(',')];
const peer = (n: NodeProcess) => ['--peer', `${n.sync.host}:${n.sync.port}`];

interface Authored {
  readonly idHex: string;
  readonly cbor: Uint8Array;
  readonly json: unknown;
}

let nonces = 0;
/** An event by the identity of `keyState`, naming it, signed by `signers`. */
function authoredEvent(
  keyState: VerifiedKeyEvent,
  createdAt: number,
  signers: readonly TestKey[],
): Authored {
  const r = signEvent(
    core,
    {
      v: 1,
      kind: 'note',
      author: keyState.identity,
      keyState: keyState.id,
      createdAt,
      expiresAt: createdAt + 86_400,
      nonce: core.sha256(new TextEncoder().encode(`kel-sync/${nonces++}`)).slice(0, 16),
      payload: { text: `by an identity at ${createdAt}` } as never,
    },
    signers.map((k) => k.seed),
  );
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return {
    idHex: toHex(core.sha256(r.value.body)),
    cbor: r.value.encoded,
    json: eventToJson(r.value.event),
  };
}

/** An identity incepted with key a, rotated to key b; events under each key state. */
function scenario(label: string) {
  const now = Math.floor(Date.now() / 1000);
  const [a, b, c] = ['a', 'b', 'c'].map((k) => testKey(`${label}/${k}`)) as [
    TestKey,
    TestKey,
    TestKey,
  ];
  const incepted = inception({
    current: set(1, a.name),
    next: set(1, b.name),
    createdAt: now - 600,
  });
  const rotated = successor(incepted, {
    type: 'rotation',
    current: set(1, b.name),
    next: set(1, c.name),
    createdAt: now - 300,
  });
  return {
    did: incepted.identity,
    keyEvents: [incepted, rotated],
    incepted,
    rotated,
    // valid: signed under the inception's keys before the rotation
    early: authoredEvent(incepted, now - 400, [a]),
    // valid: signed under the rotation's keys
    late: authoredEvent(rotated, now - 100, [b]),
    // refused everywhere: under the inception's keys after the rotation retired them
    stale: authoredEvent(incepted, now - 200, [a]),
  };
}

async function identityOf(url: string, did: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/v1/identities/${did}`);
  return { status: res.status, body: await res.json() };
}

interface KeyEventJsonView {
  readonly type: string;
  readonly signatures: readonly { signer: string; sig: string }[];
}

/** The key event log a node serves (GET /v1/identities/:did/key-events); [] when none. */
async function keyEventLog(url: string, did: string): Promise<KeyEventJsonView[]> {
  const res = await fetch(`${url}/v1/identities/${did}/key-events`);
  if (res.status !== 200) return [];
  return ((await res.json()) as { key_events: KeyEventJsonView[] }).key_events;
}

const sigsOf = (e: VerifiedKeyEvent) => e.event.signatures.map((x) => toHex(x.sig));

const eventStatus = async (url: string, idHex: string) =>
  (await fetch(`${url}/v1/events/${idHex}`)).status;

/** A copy of a key event with one byte of its first signature flipped (the id is unchanged). */
function forged(e: VerifiedKeyEvent): Uint8Array {
  const sig = e.event.signatures[0]?.sig as Uint8Array;
  const bytes = Uint8Array.from(e.encoded);
  const at = Buffer.from(bytes).indexOf(Buffer.from(sig));
  if (at < 0) throw new Error('signature not found in the encoding');
  bytes[at + 10] = (bytes[at + 10] as number) ^ 0x01;
  return bytes;
}

describe('key events between node processes', () => {
  it('an identity created and rotated at node 1 reaches nodes 2 and 3, which accept the same events', async () => {
    const s = scenario('procs-kel');
    const dirs = await Promise.all(['k1', 'k2', 'k3'].map(dataDir));
    const dids = dirs.map((d) => d.did);
    const n1 = await startNode(dirs[0]!.dir, admit(dids));
    const n2 = await startNode(dirs[1]!.dir, [...admit(dids), ...peer(n1)]);
    const n3 = await startNode(dirs[2]!.dir, [...admit(dids), ...peer(n2)]); // hears n1 through n2

    const kel = await postKeyEvents(n1.url, s.keyEvents);
    expect(kel.map(verdictOf)).toEqual(['accepted', 'accepted']);
    const events = await postEventsJson(n1.url, [s.early.json, s.late.json, s.stale.json]);
    expect(events.map(verdictOf)).toEqual(['accepted', 'accepted', 'ERR_KEL_KEY_ROTATED']);

    const expectedLog = await keyEventLog(n1.url, s.did);
    expect(expectedLog.map((k) => k.type)).toEqual(['inception', 'rotation']);
    const reference = await identityOf(n1.url, s.did);
    expect(reference.status).toBe(200);
    for (const n of [n2, n3]) {
      await until('the key event log', async () => (await keyEventLog(n.url, s.did)).length === 2);
      expect(await keyEventLog(n.url, s.did)).toEqual(expectedLog);
      await until(
        'the events by the identity',
        async () => (await eventStatus(n.url, s.late.idHex)) === 200,
      );
      expect(await eventStatus(n.url, s.early.idHex)).toBe(200);
      expect(await eventStatus(n.url, s.stale.idHex)).toBe(404);
      // the same resolved state, and the same counts of events by it
      expect(await identityOf(n.url, s.did)).toEqual(reference);
    }
    // the same sync sets: both events and both key events, on every node
    const stored = dirs.map((d) => storedIds(d.dir).events);
    expect(stored[1]).toEqual(stored[0]);
    expect(stored[2]).toEqual(stored[0]);
    const sets = await Promise.all([n1, n2, n3].map(async (n) => (await peersOf(n.url)).sync_set));
    expect(sets).toEqual([4, 4, 4]);
  });

  it('holds events that arrive from a peer before their key events, accepts them when the key events come, and refuses a forged key event', async () => {
    const s = scenario('procs-kel-late');
    const peerSeed = keySeed('procs-kel-peer');
    const peerDid = didKeyFromPublicKey(core.ed25519PublicKey(peerSeed));
    const dirs = await Promise.all(['r1', 'r3'].map(dataDir));
    // n1 learns everything from its client; n3 only from a hand-driven peer, in the wrong order
    const n1 = await startNode(dirs[0]!.dir, admit([dirs[0]!.did, dirs[1]!.did]));
    const n3 = await startNode(dirs[1]!.dir, admit([dirs[1]!.did, peerDid]));
    await postKeyEvents(n1.url, s.keyEvents);
    await postEventsJson(n1.url, [s.early.json, s.late.json]);

    const raw = await rawPeer(peerSeed, n3.sync.port);
    raw.send({ type: 'hello', versions: [1], node: raw.did, time: Date.now(), checkpoint: null });
    await until('the HELLO back', () => raw.messages.some((m) => m.type === 'hello'));

    // 1. the events first: held, not accepted (the node knows no such identity yet)
    raw.send({ type: 'events', events: [s.early.cbor, s.late.cbor] });
    await until('the events held', async () => {
      const metrics = await (await fetch(`${n3.url}/metrics`)).text();
      return /commons_sync_identity_held_events 2\b/.test(metrics);
    });
    expect(await eventStatus(n3.url, s.early.idHex)).toBe(404);
    expect((await identityOf(n3.url, s.did)).status).toBe(404);

    // 2. the inception and a forged rotation: the inception joins and releases the early event;
    //    the forged copy is refused, not stored, and costs the peer
    raw.send({ type: 'events', events: [s.incepted.encoded, forged(s.rotated)] });
    await until('the early event', async () => (await eventStatus(n3.url, s.early.idHex)) === 200);
    await sleep(300);
    expect((await keyEventLog(n3.url, s.did)).map((k) => k.type)).toEqual(['inception']);
    expect(await eventStatus(n3.url, s.late.idHex)).toBe(404); // its key state is not held
    const view = (await peersOf(n3.url)).peers.find((p) => p.did === peerDid);
    expect(view?.score).toBeLessThanOrEqual(-90);

    // 3. the genuine rotation (same id as the forged copy): joins and releases the late event
    raw.send({ type: 'events', events: [s.rotated.encoded] });
    await until('the late event', async () => (await eventStatus(n3.url, s.late.idHex)) === 200);
    const log = await keyEventLog(n3.url, s.did);
    expect(log.map((k) => k.type)).toEqual(['inception', 'rotation']);
    expect(log[1]?.signatures.map((x) => x.sig)).toEqual(sigsOf(s.rotated)); // not the forged copy
    expect(log).toEqual(await keyEventLog(n1.url, s.did));
    // the same state and the same events as the node that got them from its client
    expect(await identityOf(n3.url, s.did)).toEqual(await identityOf(n1.url, s.did));
    expect(storedIds(dirs[1]!.dir).events).toEqual(storedIds(dirs[0]!.dir).events);
    expect((await peersOf(n3.url)).sync_set).toBe(4);
  });
});
