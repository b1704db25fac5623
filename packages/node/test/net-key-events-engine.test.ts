/**
 * The sync engine carrying key events (spec/SYNC.md §6.5), driven by hand: items are told apart
 * by their bytes and handed out for validation with their kind; a peer flooding key events is
 * dropped and scored as for events; a key event refused for its bytes costs the peer and its
 * encoding is remembered (not its id: the genuine copy still gets through); an escrowed key
 * event (`held`) costs nothing and stays out of the sync set until the node announces it.
 */
import { describe, expect, it } from 'vitest';
import { engineConfig } from '../src/net/engine/config.js';
import { SyncEngine } from '../src/net/engine/engine.js';
import { nodeItems } from '../src/net/engine/sync-items.js';
import type { EngineAction, EventVerdict } from '../src/net/engine/types.js';
import { NetCode } from '../src/net/errors.js';
import { SyncIndex } from '../src/net/reconcile/sync-index.js';
import { decodeMessage, encodeMessage, type Message } from '../src/net/wire/messages.js';
import { toHex } from '../src/protocol/index.js';
import { core, inception, set, successor } from './identity-fixtures.js';
import { didOf, event, keySeed } from './net-harness.js';

const NOW_MS = Date.now();
const now = Math.floor(NOW_MS / 1000);

function engineWith(config: Parameters<typeof engineConfig>[0] = {}) {
  const index = new SyncIndex(core.sha256);
  const stored = new Map<string, Uint8Array>();
  const engine = new SyncEngine({
    self: didOf(keySeed('kel-engine-self')),
    sha256: core.sha256,
    index,
    events: { get: (id) => stored.get(toHex(id)) },
    ownLog: { latest: () => null, consistencyProof: () => null },
    admitted: () => true,
    checkCheckpoint: () => true,
    partials: {
      sha256: core.sha256,
      ed25519Verify: core.ed25519Verify,
      trust: { mode: 'open' },
      timeRules: { clockSkewSeconds: 300, maxLifetimeSeconds: 7 * 86_400 },
    },
    items: nodeItems(core.sha256),
    config: engineConfig(config),
  });
  const peer = didOf(keySeed('kel-engine-peer'));
  engine.connected(peer, NOW_MS);
  const send = (m: Message) => engine.received(peer, encodeMessage(m), NOW_MS);
  send({ type: 'hello', versions: [1], node: peer, time: NOW_MS, checkpoint: null });
  let actions: EngineAction[] = engine.drain();
  const drain = () => {
    actions = [...actions, ...engine.drain()];
    return actions;
  };
  const validations = () =>
    drain().flatMap((a) => (a.type === 'validate' ? [a] : [])) as (EngineAction & {
      type: 'validate';
    })[];
  return { engine, index, stored, peer, send, drain, validations };
}

/** A fresh identity's inception (a valid key event), distinct per label. */
const incept = (label: string) =>
  inception({
    current: set(1, `kel-engine/${label}/a`),
    next: set(1, `kel-engine/${label}/b`),
    createdAt: now - 60,
  });

function forgedCopy(encoded: Uint8Array, sig: Uint8Array, flip = 0): Uint8Array {
  const bytes = Uint8Array.from(encoded);
  const at = Buffer.from(bytes).indexOf(Buffer.from(sig));
  bytes[at + flip] = (bytes[at + flip] as number) ^ 0x01;
  return bytes;
}

describe('the engine carries key events', () => {
  it('hands key events and events out for validation with their kind; a key event never expires from the sync set', () => {
    const t = engineWith();
    const k = incept('kinds');
    const e = event([keySeed('kel-engine-author')], NOW_MS);
    t.send({ type: 'events', events: [e, k.encoded] });
    const v = t.validations();
    expect(v.map((x) => x.kind)).toEqual(['event', 'key-event']);
    expect(toHex(v[1]?.id as Uint8Array)).toBe(toHex(k.id));
    // accepted: into the sync set, which never lets a key event expire
    t.engine.verdicts([{ id: k.id, outcome: 'accepted' }], NOW_MS);
    expect(t.index.has(k.id)).toBe(true);
    t.engine.tick(NOW_MS + 400 * 86_400_000);
    expect(t.index.has(k.id)).toBe(true);
  });

  it('garbage that is neither an event nor a key event is an invalid event', () => {
    const t = engineWith();
    const k = incept('garbage');
    const broken = Uint8Array.from(k.encoded).slice(0, k.encoded.length - 3);
    t.send({ type: 'events', events: [broken] });
    expect(t.validations()).toHaveLength(0);
    expect(t.engine.scoreSummary(t.peer).offences['invalid-event']?.count).toBe(1);
  });

  it('a forged key event costs the peer, is remembered by its encoding, and does not get the genuine copy refused', () => {
    const t = engineWith();
    const prior = incept('forged');
    const rotation = successor(prior, {
      type: 'rotation',
      current: set(1, 'kel-engine/forged/b'),
      next: set(1, 'kel-engine/forged/c'),
      createdAt: now - 30,
    });
    const sig = rotation.event.signatures[0]?.sig as Uint8Array;
    const forged = forgedCopy(rotation.encoded, sig, 5);
    t.send({ type: 'events', events: [forged] });
    const [first] = t.validations();
    expect(first?.kind).toBe('key-event');
    t.engine.verdicts(
      [{ id: rotation.id, outcome: 'rejected', reason: 'ERR_BAD_SIGNATURE' }],
      NOW_MS,
    );
    expect(t.engine.scoreSummary(t.peer).offences['invalid-event']?.count).toBe(1);
    expect(t.index.has(rotation.id)).toBe(false);
    // the same forged bytes again: refused unread, and scored again
    t.send({ type: 'events', events: [forged] });
    expect(t.validations()).toHaveLength(1);
    expect(t.engine.scoreSummary(t.peer).offences['invalid-event']?.count).toBe(2);
    // the genuine copy (same id) is validated
    t.send({ type: 'events', events: [rotation.encoded] });
    expect(t.validations()).toHaveLength(2);
  });

  it('a peer sending forged key events is banned, as for events', () => {
    const t = engineWith();
    const k = incept('ban');
    const sig = k.event.signatures[0]?.sig as Uint8Array;
    for (let i = 0; i < 10; i++) {
      const forged = forgedCopy(k.encoded, sig, i); // ten different encodings
      t.send({ type: 'events', events: [forged] });
      const last = t.validations().at(-1);
      if (last !== undefined)
        t.engine.verdicts(
          [{ id: last.id, outcome: 'rejected', reason: 'ERR_BAD_SIGNATURE' }],
          NOW_MS,
        );
    }
    const closes = t.drain().flatMap((a) => (a.type === 'close' ? [a.code] : []));
    expect(closes).toEqual([NetCode.PEER_SCORE]);
    expect(t.engine.isBanned(t.peer, NOW_MS)).toBe(true);
  });

  it('a flood of key events beyond the event rate is dropped and scored', () => {
    const t = engineWith({ eventRatePerSecond: 10, eventBurst: 20 });
    const many = Array.from({ length: 50 }, (_, i) => incept(`flood-${i}`).encoded);
    t.send({ type: 'events', events: many });
    expect(t.validations()).toHaveLength(20);
    expect(t.engine.scoreSummary(t.peer).offences['flood']?.count).toBe(30);
  });

  it('an escrowed key event (held) costs nothing and joins the sync set when the node announces it', () => {
    const t = engineWith();
    const prior = incept('held');
    const rotation = successor(prior, {
      type: 'rotation',
      current: set(1, 'kel-engine/held/b'),
      next: set(1, 'kel-engine/held/c'),
      createdAt: now - 30,
    });
    t.send({ type: 'events', events: [rotation.encoded] });
    const verdict: EventVerdict = { id: rotation.id, outcome: 'held' };
    t.engine.verdicts([verdict], NOW_MS);
    expect(t.index.has(rotation.id)).toBe(false);
    expect(t.engine.scoreSummary(t.peer).score).toBe(0);
    // the prior arrives; both join; the node announces them (a client's or released escrow)
    t.engine.localAccepted([prior.encoded, rotation.encoded], NOW_MS);
    expect(t.index.has(prior.id) && t.index.has(rotation.id)).toBe(true);
    // pushed to the peer, except what it sent us
    const pushed = t
      .drain()
      .flatMap((a) => (a.type === 'send' ? [decodeMessage(a.message)] : []))
      .flatMap((m) => (m.type === 'events' ? m.events.map(toHex) : []));
    expect(pushed).toContain(toHex(prior.encoded));
    expect(pushed).not.toContain(toHex(rotation.encoded));
    // a withdrawn item leaves the sync set
    t.engine.localWithdrawn([prior.id], NOW_MS);
    expect(t.index.has(prior.id)).toBe(false);
  });

  it('an item withdrawn while its verdict is on the way stays out of the sync set when the verdict says accepted', () => {
    // The node stores a peer's event, and answers only after the commit's sync; meanwhile a key
    // event invalidates it (localWithdrawn). The late `accepted` must not put it back.
    const t = engineWith();
    const gone = event([keySeed('kel-engine-withdrawn')], NOW_MS);
    const kept = event([keySeed('kel-engine-kept')], NOW_MS);
    t.send({ type: 'events', events: [gone, kept] });
    const [vGone, vKept] = t.validations();
    t.engine.localWithdrawn([vGone!.id], NOW_MS);
    t.engine.verdicts(
      [
        { id: vGone!.id, outcome: 'accepted' },
        { id: vKept!.id, outcome: 'accepted' },
      ],
      NOW_MS,
    );
    expect(t.index.has(vGone!.id)).toBe(false);
    expect(t.index.has(vKept!.id)).toBe(true);
    // not pushed on either, and the peer was not penalised
    const pushed = t
      .drain()
      .flatMap((a) => (a.type === 'send' ? [decodeMessage(a.message)] : []))
      .flatMap((m) => (m.type === 'events' ? m.events.map(toHex) : []));
    expect(pushed).not.toContain(toHex(gone));
    expect(t.engine.scoreSummary(t.peer).score).toBe(0);
    // valid again later (a key event turned it back): the node announces it and it rejoins
    t.engine.localAccepted([gone], NOW_MS);
    expect(t.index.has(vGone!.id)).toBe(true);
  });
});
