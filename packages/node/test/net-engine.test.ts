/**
 * The sync engine between in-process peers: gossip and reconciliation deliver, the HELLO rules
 * hold, hostile peers lose score and are banned with a bounded record, split views are caught
 * with the two signed checkpoints as evidence, partial events gain signatures until whole, an
 * author's equivocation converges, expired events are not revived, slow peers are cut.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkpointMessage } from '../src/audit/checkpoint.js';
import { mergeSignatures } from '../src/net/engine/partials.js';
import { SAMPLES_PER_OFFENCE } from '../src/net/engine/scoring.js';
import { NetCode } from '../src/net/errors.js';
import { encodeMessage, type Message } from '../src/net/wire/messages.js';
import { toHex } from '../src/protocol/bytes.js';
import { decodeEvent, type EventSignature, makePolicy } from '../src/protocol/event.js';
import {
  addNode,
  advance,
  connect,
  core,
  didOf,
  disconnect,
  event,
  idsOf,
  keySeed,
  pump,
  release,
  submit,
  type TestNode,
  type World,
  world,
} from './net-harness.js';

const idOf = (bytes: Uint8Array): string => {
  const d = decodeEvent(bytes);
  if (!d.ok) throw new Error(d.reason);
  return toHex(core.sha256(d.value.body));
};

/** Injects a message as if `from` (connected) had sent it to `to`. */
function inject(w: World, from: TestNode | string, to: TestNode, m: Message | Uint8Array): void {
  const did = typeof from === 'string' ? from : from.did;
  to.engine.received(did, m instanceof Uint8Array ? m : encodeMessage(m), w.now);
  pump(w);
}

const validations = (n: TestNode) => n.actions.filter((a) => a.type === 'validate').length;
const closesOf = (w: World, by: TestNode) =>
  w.closes.filter((c) => c.by === by.name).map((c) => c.code);

describe('gossip and reconciliation', () => {
  it("a commit of many local events goes out in few EVENTS messages, within the peer's rates", () => {
    const w = world();
    const a = addNode(w, 'batch-a');
    const b = addNode(w, 'batch-b');
    connect(w, a, b);
    const author = keySeed('batch-author');
    const events = Array.from({ length: 5000 }, (_, i) =>
      event([author], w.now, { payload: { i } }),
    );
    for (const e of events) expect(a.store.submit(e).outcome).toBe('accepted');
    const sentBefore = a.actions.length;
    a.engine.localAccepted(events, w.now);
    pump(w);
    const eventsMessages = a.actions
      .slice(sentBefore)
      .filter((x) => x.type === 'send' && x.message[1] === 0x01).length; // [1, [...]]: EVENTS
    expect(idsOf(b)).toHaveLength(5000);
    expect(eventsMessages).toBeLessThanOrEqual(10);
    expect(b.engine.scoreSummary(a.did).offences['flood']).toBeUndefined();
  });

  it('fetches again what a full validation queue dropped, without blaming the sender for sending it twice', () => {
    const w = world();
    const a = addNode(w, 'queue-a');
    const b = addNode(w, 'queue-b', {
      deferValidation: true,
      config: { maxPendingValidation: 4, reconcileIntervalMs: 1000 },
    });
    const author = keySeed('queue-author');
    const sent = Array.from({ length: 20 }, (_, i) => event([author], w.now, { payload: { i } }));
    for (const e of sent) submit(w, a, e);
    connect(w, a, b);
    expect(b.deferred?.length).toBe(4); // the rest was dropped: the queue holds 4
    for (let round = 0; round < 20 && idsOf(b).length < 20; round++) {
      release(w, b);
      advance(w, 1000);
    }
    release(w, b);
    expect(idsOf(b)).toEqual(idsOf(a));
    const score = b.engine.scoreSummary(a.did);
    expect(score.offences['replay']).toBeUndefined();
    expect(score.score).toBe(0);
  });

  it('a new event reaches every node of a line, each validating it once', () => {
    const w = world();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => addNode(w, n)) as [TestNode, TestNode, TestNode];
    connect(w, a, b);
    connect(w, b, c);
    const e = event([keySeed('author')], w.now);
    submit(w, a, e);
    expect(idsOf(b)).toEqual([idOf(e)]);
    expect(idsOf(c)).toEqual([idOf(e)]);
    expect(validations(b)).toBe(1);
    expect(validations(c)).toBe(1);
    expect(b.engine.sourceOf(decodeId(e))).toBe(a.did); // remembers who sent what
    expect(c.engine.sourceOf(decodeId(e))).toBe(b.did);
  });

  it('nodes that held different events before they met end up with the union', () => {
    const w = world();
    const a = addNode(w, 'a');
    const b = addNode(w, 'b');
    const author = keySeed('author');
    const shared = Array.from({ length: 20 }, () => event([author], w.now));
    const onlyA = Array.from({ length: 30 }, () => event([author], w.now));
    const onlyB = Array.from({ length: 10 }, () => event([author], w.now));
    for (const e of [...shared, ...onlyA]) submit(w, a, e);
    for (const e of [...shared, ...onlyB]) submit(w, b, e);
    connect(w, a, b);
    expect(idsOf(a)).toEqual(idsOf(b));
    expect(idsOf(a)).toHaveLength(60);
    expect(validations(a)).toBe(10); // only what it lacked
    expect(validations(b)).toBe(30);
  });

  it('a large event is announced (HAVE) and pulled once (WANT), not pushed by every peer', () => {
    const w = world();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => addNode(w, n)) as [TestNode, TestNode, TestNode];
    connect(w, a, b);
    connect(w, a, c);
    connect(w, b, c);
    const big = event([keySeed('author')], w.now, {
      payload: { blob: ['x'.repeat(10_000), 'y'.repeat(10_000)] },
    });
    submit(w, a, big);
    for (const n of [b, c]) expect(idsOf(n)).toEqual([idOf(big)]);
    const sentBig = (n: TestNode) =>
      n.actions.filter((x) => x.type === 'send' && x.message.length > 20_000).length;
    expect(sentBig(a) + sentBig(b) + sentBig(c)).toBe(2); // each of b and c got the bytes once
  });

  it('a round cut by a disconnect resumes on the next connection', () => {
    const w = world();
    const a = addNode(w, 'a');
    const b = addNode(w, 'b');
    const author = keySeed('author');
    for (let i = 0; i < 400; i++) submit(w, a, event([author], w.now));
    for (let i = 0; i < 5; i++) submit(w, b, event([author], w.now));
    // connect without delivering anything, then cut: a round is open with nothing answered
    w.links.add(a.did < b.did ? `${a.did}|${b.did}` : `${b.did}|${a.did}`);
    a.engine.connected(b.did, w.now);
    b.engine.connected(a.did, w.now);
    disconnect(w, a, b);
    connect(w, a, b);
    expect(idsOf(a)).toEqual(idsOf(b));
  });
});

function decodeId(bytes: Uint8Array): Uint8Array {
  const d = decodeEvent(bytes);
  if (!d.ok) throw new Error(d.reason);
  return core.sha256(d.value.body);
}

describe('the HELLO', () => {
  const hello = (node: string, time: number, versions = [1]): Message => ({
    type: 'hello',
    versions,
    node,
    time,
    checkpoint: null,
  });

  it('must name the identity the certificate proved', () => {
    const w = world();
    const a = addNode(w, 'a');
    const mallory = didOf(keySeed('mallory'));
    a.engine.connected(mallory, w.now);
    inject(w, mallory, a, hello(didOf(keySeed('someone-else')), w.now));
    expect(closesOf(w, a)).toEqual([NetCode.IDENTITY_MISMATCH]);
  });

  it('needs a common version and clocks within the skew', () => {
    const w = world();
    const a = addNode(w, 'a');
    const p1 = didOf(keySeed('p1'));
    const p2 = didOf(keySeed('p2'));
    a.engine.connected(p1, w.now);
    inject(w, p1, a, hello(p1, w.now, [2, 3]));
    a.engine.connected(p2, w.now);
    inject(w, p2, a, hello(p2, w.now + 10 * 60_000));
    expect(closesOf(w, a)).toEqual([NetCode.PROTOCOL_VERSION, NetCode.CLOCK_SKEW]);
  });

  it('times out, and nothing sent before it is acted on', () => {
    const w = world();
    const a = addNode(w, 'a');
    const p = didOf(keySeed('p'));
    a.engine.connected(p, w.now);
    for (let i = 0; i < 10; i++)
      inject(w, p, a, { type: 'events', events: [event([keySeed('author')], w.now)] });
    expect(validations(a)).toBe(0);
    expect(closesOf(w, a)).toEqual([]);
    advance(w, a.engine.config.helloTimeoutMs);
    expect(closesOf(w, a)).toEqual([NetCode.HELLO_TIMEOUT]);
  });

  it('a stream of messages before it, or a second different one, is a violation', () => {
    const w = world();
    const a = addNode(w, 'a');
    const p = didOf(keySeed('p'));
    a.engine.connected(p, w.now);
    for (let i = 0; i < 65; i++)
      inject(w, p, a, { type: 'have', ids: [core.sha256(Uint8Array.of(i))] });
    expect(closesOf(w, a)).toEqual([NetCode.UNEXPECTED_MESSAGE]);
    const q = didOf(keySeed('q'));
    a.engine.connected(q, w.now);
    inject(w, q, a, hello(q, w.now));
    inject(w, q, a, hello(q, w.now)); // the same again: harmless
    inject(w, q, a, hello(q, w.now + 1));
    expect(closesOf(w, a)).toEqual([NetCode.UNEXPECTED_MESSAGE, NetCode.UNEXPECTED_MESSAGE]);
  });
});

describe('hostile peers', () => {
  function hostileLink(config = {}): { w: World; a: TestNode; h: string } {
    const w = world();
    const a = addNode(w, 'a', { config });
    const h = didOf(keySeed('hostile'));
    a.engine.connected(h, w.now);
    inject(w, h, a, { type: 'hello', versions: [1], node: h, time: w.now, checkpoint: null });
    return { w, a, h };
  }

  function forged(w: World): Uint8Array {
    const e = event([keySeed('author')], w.now);
    e[e.length - 1] = (e[e.length - 1] as number) ^ 1; // the last signature byte
    return e;
  }

  it('invalid signatures rate-limit, then disconnect and ban, with the evidence audited', () => {
    const { w, a, h } = hostileLink();
    for (let i = 0; i < 2; i++) inject(w, h, a, { type: 'events', events: [forged(w)] });
    expect(a.engine.scoreSummary(h).state).toBe('graylisted');
    for (let i = 0; i < 8; i++) inject(w, h, a, { type: 'events', events: [forged(w)] });
    expect(closesOf(w, a)).toEqual([NetCode.PEER_SCORE]);
    const audit = a.actions.find((x) => x.type === 'audit' && x.record.kind === 'peer-banned');
    expect(audit).toMatchObject({
      record: { peer: h, offences: { 'invalid-event': { count: 10 } } },
    });
    // banned: a new connection is refused until the ban ends
    expect(a.engine.connected(h, w.now)).toBe(false);
    advance(w, a.engine.config.score.banMs + 1);
    expect(a.engine.connected(h, w.now)).toBe(true);
  });

  it('a forged copy of a genuine event does not get the genuine one refused', () => {
    const { w, a, h } = hostileLink();
    const b = addNode(w, 'b');
    connect(w, a, b);
    const genuine = event([keySeed('author')], w.now);
    const copy = Uint8Array.from(genuine);
    copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 1; // same id, bad signature
    inject(w, h, a, { type: 'events', events: [copy] });
    submit(w, b, genuine);
    expect(idsOf(a)).toEqual([idOf(genuine)]);
    expect(a.engine.scoreSummary(b.did).score).toBe(0);
  });

  it('keeps a bounded record however much a peer misbehaves', () => {
    const { w, a, h } = hostileLink({
      score: { ...addNode(world(), 'x').engine.config.score, disconnect: -1e9 },
    });
    const e = event([keySeed('author')], w.now);
    for (let i = 0; i < 1000; i++) inject(w, h, a, { type: 'events', events: [e] }); // replays
    const s = a.engine.scoreSummary(h);
    // once graylisted its rate is cut: the rest are dropped as a flood
    expect((s.offences['replay']?.count ?? 0) + (s.offences['flood']?.count ?? 0)).toBe(999);
    expect(s.offences['flood']?.count).toBeGreaterThan(0);
    expect(s.offences['replay']?.samples.length).toBe(SAMPLES_PER_OFFENCE);
    expect(JSON.stringify(s).length).toBeLessThan(2000);
  });

  it('garbage is a protocol violation: GOODBYE with the code, then the connection ends', () => {
    const { w, a, h } = hostileLink();
    inject(w, h, a, Uint8Array.of(0xff, 0x00, 0x13));
    expect(closesOf(w, a)).toEqual([NetCode.MALFORMED_MESSAGE]);
    const goodbye = a.actions.find((x) => x.type === 'send' && x.peer === h && x.message[1] === 10);
    expect(goodbye).toBeDefined();
  });

  it('a message flood is dropped and scored', () => {
    const { w, a, h } = hostileLink({ messageRatePerSecond: 10, messageBurst: 20 });
    for (let i = 0; i < 100; i++)
      inject(w, h, a, { type: 'have', ids: [core.sha256(Uint8Array.of(i))] });
    expect(a.engine.scoreSummary(h).offences['flood']?.count).toBe(81); // the HELLO took a token too
  });

  it('reconciliation queries beyond their rate are dropped and scored', () => {
    const { w, a, h } = hostileLink({ reconcileRatePerSecond: 1, reconcileBurst: 5 });
    for (let i = 0; i < 20; i++)
      inject(w, h, a, { type: 'reconcile', session: 1, round: i, payload: Uint8Array.of(1) });
    expect(a.engine.scoreSummary(h).offences['flood']?.count).toBe(15);
  });

  it('an event that expired long ago is stale; one that just expired is not held against the sender', () => {
    const { w, a, h } = hostileLink();
    const s = Math.floor(w.now / 1000);
    inject(w, h, a, {
      type: 'events',
      events: [event([keySeed('author')], w.now, { createdAt: s - 100, expiresAt: s - 1 })],
    });
    expect(a.engine.scoreSummary(h).offences['stale']).toBeUndefined();
    inject(w, h, a, {
      type: 'events',
      events: [event([keySeed('author')], w.now, { createdAt: s - 7200, expiresAt: s - 3600 })],
    });
    expect(a.engine.scoreSummary(h).offences['stale']?.count).toBe(1);
    expect(validations(a)).toBe(0); // neither was revived
  });
});

describe('split views', () => {
  function forgeCheckpoint(node: TestNode, treeSize: number, root: Uint8Array, time: number) {
    const unsigned = { treeSize, root, time, publicKey: node.publicKey };
    return { ...unsigned, signature: core.ed25519Sign(node.seed, checkpointMessage(unsigned)) };
  }

  it('two signed checkpoints of one size with different roots: alert, evidence, ban', async () => {
    const w = world();
    const [a, b, x] = ['a', 'b', 'x'].map((n) => addNode(w, n)) as [TestNode, TestNode, TestNode];
    submit(w, x, event([keySeed('author')], w.now));
    const real = await x.log.checkpoint(w.now);
    connect(w, a, x);
    connect(w, a, b);
    // x greets b with another history of the same size; b relays it to a
    const fake = forgeCheckpoint(x, real.treeSize, core.sha256(Uint8Array.of(1)), w.now);
    b.engine.connected(x.did, w.now);
    inject(w, x.did, b, {
      type: 'hello',
      versions: [1],
      node: x.did,
      time: w.now,
      checkpoint: fake,
    });
    // b saw both (a had relayed the real one), and passed both on: each node holds the evidence
    for (const n of [a, b]) {
      const alert = n.actions.find((z) => z.type === 'alert');
      expect(alert).toMatchObject({
        alert: {
          kind: 'split-view',
          evidence: { node: x.did, reason: 'same-size-different-roots' },
        },
      });
      const evidence = n.engine.splitViews()[0];
      expect(
        [evidence?.first.root, evidence?.second.root].map((r) => toHex(r as Uint8Array)).sort(),
      ).toEqual([toHex(real.root), toHex(fake.root)].sort());
      expect(closesOf(w, n)).toContain(NetCode.SPLIT_VIEW);
      expect(n.engine.isBanned(x.did, w.now)).toBe(true);
      expect(n.actions.some((z) => z.type === 'audit' && z.record.kind === 'split-view')).toBe(
        true,
      );
    }
  });

  it('a larger checkpoint the node cannot prove consistent: alert on its own proof', async () => {
    const w = world();
    const a = addNode(w, 'a');
    const x = addNode(w, 'x');
    submit(w, x, event([keySeed('author')], w.now));
    await x.log.checkpoint(w.now);
    connect(w, a, x);
    submit(w, x, event([keySeed('author')], w.now));
    submit(w, x, event([keySeed('author')], w.now));
    const fake = forgeCheckpoint(x, x.log.size, core.sha256(Uint8Array.of(2)), w.now);
    inject(w, x, a, { type: 'checkpoint', checkpoint: fake }); // a asks x for PROOF(1, 3); x's real proof fails
    expect(a.engine.splitViews()[0]).toMatchObject({ node: x.did, reason: 'inconsistent-proof' });
  });

  it('an honest log that grows is proven consistent: no alert, the head moves on', async () => {
    const w = world();
    const a = addNode(w, 'a');
    const x = addNode(w, 'x');
    submit(w, x, event([keySeed('author')], w.now));
    await x.log.checkpoint(w.now);
    connect(w, a, x);
    for (let i = 0; i < 5; i++) submit(w, x, event([keySeed('author')], w.now));
    x.engine.ownCheckpoint(await x.log.checkpoint(w.now), w.now);
    pump(w);
    expect(a.engine.splitViews()).toEqual([]);
    expect(a.engine.checkpointHead(x.did)?.treeSize).toBe(x.log.size);
  });

  it('a relayed checkpoint with a bad signature counts against the relayer', () => {
    const w = world();
    const a = addNode(w, 'a');
    const b = addNode(w, 'b');
    const x = addNode(w, 'x');
    connect(w, a, b);
    const bad = { ...forgeCheckpoint(x, 3, core.sha256(Uint8Array.of(3)), w.now), time: w.now + 1 };
    inject(w, b, a, { type: 'checkpoint', checkpoint: bad });
    expect(a.engine.scoreSummary(b.did).offences['invalid-checkpoint']?.count).toBe(1);
  });
});

describe('partially signed events', () => {
  it('gain signatures as they travel, and the whole event converges', () => {
    const w = world();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => addNode(w, n)) as [TestNode, TestNode, TestNode];
    connect(w, a, b);
    connect(w, b, c);
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(keySeed) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const policy = makePolicy(didOf(alice), 3, [didOf(bob), didOf(carol)]);
    const body = {
      author: didOf(alice),
      policy,
      nonce: core.sha256(Uint8Array.of(9)).slice(0, 16),
      payload: { motion: 42 },
    };
    const byAlice = event([alice], w.now, body); // each signer signs the same body alone
    const byBob = event([bob], w.now, body);
    const byCarol = event([carol], w.now, body);
    a.engine.localPartial(byAlice, w.now);
    pump(w);
    c.engine.localPartial(byBob, w.now);
    pump(w);
    expect(idsOf(a)).toEqual([]); // 2 of 3: not yet
    b.engine.localPartial(byCarol, w.now);
    pump(w);
    const id = idOf(byAlice);
    for (const n of [a, b, c]) expect(idsOf(n)).toEqual([id]);
    const held = decodeEvent(a.store.get(decodeId(byAlice)) as Uint8Array);
    expect(held.ok && held.value.event.signatures.map((s) => s.signer)).toEqual([
      ...policy.signers,
    ]);
  });

  it('the merge is a join: commutative, associative, idempotent', () => {
    const signers = ['alice', 'bob', 'carol', 'dave'].map((n) => didOf(keySeed(n))).sort();
    const policy = { author: signers[0] as string, policy: { threshold: 3, signers } };
    const arbSigs = fc.array(
      fc.record({
        signer: fc.constantFrom(...signers, didOf(keySeed('outsider'))),
        sig: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      }),
      { maxLength: 6 },
    );
    const norm = (s: EventSignature[]) => s.map((x) => `${x.signer}:${toHex(x.sig)}`);
    fc.assert(
      fc.property(arbSigs, arbSigs, arbSigs, (x, y, z) => {
        const m = (p: EventSignature[], q: EventSignature[]) => mergeSignatures(policy, p, q);
        expect(norm(m(x, y))).toEqual(norm(m(y, x)));
        expect(norm(m(m(x, y), z))).toEqual(norm(m(x, m(y, z))));
        expect(norm(m(m(x, y), y))).toEqual(norm(m(x, y)));
        expect(m(x, y).every((s) => signers.includes(s.signer))).toBe(true);
      }),
    );
  });

  it('a partial with a signature that does not verify is refused and scored', () => {
    const w = world();
    const a = addNode(w, 'a');
    const b = addNode(w, 'b');
    connect(w, a, b);
    const e = event([keySeed('alice')], w.now, {
      policy: makePolicy(didOf(keySeed('alice')), 2, [didOf(keySeed('bob'))]),
    });
    e[e.length - 1] = (e[e.length - 1] as number) ^ 1;
    inject(w, b, a, { type: 'partial', event: e });
    expect(a.engine.scoreSummary(b.did).offences['invalid-event']?.count).toBe(1);
  });
});

describe('what converges', () => {
  it("an author's two events with one nonce: every node ends up with both ids, one accepted, one kept as evidence", () => {
    const w = world();
    const a = addNode(w, 'a');
    const b = addNode(w, 'b');
    const author = keySeed('two-faced');
    const nonce = core.sha256(Uint8Array.of(7)).slice(0, 16);
    const e1 = event([author], w.now, { nonce, payload: { v: 1 } });
    const e2 = event([author], w.now, { nonce, payload: { v: 2 } });
    submit(w, a, e1);
    submit(w, b, e2);
    connect(w, a, b);
    expect(idsOf(a)).toEqual([idOf(e1), idOf(e2)].sort());
    expect(idsOf(b)).toEqual(idsOf(a));
    expect(a.index.get(decodeId(e1))?.kind).toBe('accepted');
    expect(a.index.get(decodeId(e2))?.kind).toBe('conflict');
    expect(b.index.get(decodeId(e2))?.kind).toBe('accepted');
    expect(
      a.actions.some((x) => x.type === 'audit' && x.record.kind === 'author-equivocation'),
    ).toBe(true);
    expect(a.engine.scoreSummary(b.did).score).toBe(0);
    advance(w, 60_000); // and they stay quiet: the next rounds find nothing to send
    expect(validations(a)).toBe(1);
  });

  it('an event accepted by one node is not revived at another that first sees it after its expiry', () => {
    const w = world();
    const a = addNode(w, 'a');
    const b = addNode(w, 'b');
    const s = Math.floor(w.now / 1000);
    const e = event([keySeed('author')], w.now, { createdAt: s - 5, expiresAt: s + 10 });
    submit(w, a, e);
    advance(w, 11_000);
    expect(idsOf(a)).toEqual([]); // out of the set a reconciles (still in its store, for the audit log)
    expect(a.store.get(decodeId(e))).toBeDefined();
    connect(w, a, b);
    expect(idsOf(b)).toEqual([]);
    expect(validations(b)).toBe(0);
  });
});

describe('backpressure', () => {
  it('a peer that does not read stops getting gossip, then is cut with ERR_SLOW_PEER', () => {
    const w = world();
    const cfg = { sendWindowBytes: 4096, outboxHighWaterBytes: 16_384, outboxLimitBytes: 65_536 };
    const a = addNode(w, 'a', { config: cfg });
    const slow = didOf(keySeed('slow'));
    a.engine.connected(slow, w.now);
    a.engine.received(
      slow,
      encodeMessage({ type: 'hello', versions: [1], node: slow, time: w.now, checkpoint: null }),
      w.now,
    );
    // a's sends go nowhere: nothing is ever flushed
    const author = keySeed('author');
    for (let i = 0; i < 200; i++) {
      const e = event([author], w.now, { payload: { pad: 'x'.repeat(200) } });
      a.store.submit(e);
      a.engine.localAccepted(e, w.now);
    }
    const queued = a.engine.peerViews().find((p) => p.peer === slow)?.queuedBytes ?? 0;
    expect(queued).toBeLessThan(16_384 + 2048); // gossip stopped at the high-water mark
    // the peer asks for more than it reads: the queue passes its limit
    for (let i = 0; i < 40; i++) {
      a.engine.received(
        slow,
        encodeMessage({
          type: 'reconcile',
          session: 1,
          round: i,
          payload: Uint8Array.of(1, 0, 0, 2, 0),
        }),
        w.now,
      );
    }
    const closes = a.engine.drain().filter((x) => x.type === 'close');
    expect(closes.map((c) => (c.type === 'close' ? c.code : ''))).toContain(NetCode.SLOW_PEER);
  });
});
