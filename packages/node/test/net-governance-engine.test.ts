/**
 * The sync engine carrying governance records (spec/SYNC.md §6.6), driven by hand: a record is
 * told apart from events and key events by its bytes and handed out for validation with its
 * kind, its item id being SHA-256 of the copy; a record refused for its bytes (a forged
 * signature) costs the peer and its encoding is remembered, while the genuine copy still gets
 * through; a refusal that depends on what the node holds costs nothing.
 */
import { describe, expect, it } from 'vitest';
import { engineConfig } from '../src/net/engine/config.js';
import { SyncEngine } from '../src/net/engine/engine.js';
import { NEVER_EXPIRES, nodeItems } from '../src/net/engine/sync-items.js';
import type { EngineAction } from '../src/net/engine/types.js';
import { SyncIndex } from '../src/net/reconcile/sync-index.js';
import { encodeMessage, type Message } from '../src/net/wire/messages.js';
import { toHex } from '../src/protocol/index.js';
import { anchor, attest, core } from './governance-fixtures.js';
import { inception, set } from './identity-fixtures.js';
import { didOf, event, keySeed } from './net-harness.js';

const NOW_MS = Date.now();
const now = Math.floor(NOW_MS / 1000);

function engineWith() {
  const index = new SyncIndex(core.sha256);
  const engine = new SyncEngine({
    self: didOf(keySeed('gov-engine-self')),
    sha256: core.sha256,
    index,
    events: { get: () => undefined },
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
    config: engineConfig({}),
  });
  const peer = didOf(keySeed('gov-engine-peer'));
  engine.connected(peer, NOW_MS);
  const send = (m: Message) => engine.received(peer, encodeMessage(m), NOW_MS);
  send({ type: 'hello', versions: [1], node: peer, time: NOW_MS, checkpoint: null });
  let actions: EngineAction[] = engine.drain();
  const validations = () => {
    actions = [...actions, ...engine.drain()];
    return actions.flatMap((a) => (a.type === 'validate' ? [a] : [])) as (EngineAction & {
      type: 'validate';
    })[];
  };
  const offences = (kind: string) => engine.scoreSummary(peer).offences[kind]?.count ?? 0;
  return { engine, index, send, validations, offences };
}

/** A valid attestation by alice, distinct per label. */
const record = (label: string) => attest('alice', label, { createdAt: now - 60 });

function forgedCopy(encoded: Uint8Array, sig: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(encoded);
  const at = Buffer.from(bytes).indexOf(Buffer.from(sig));
  bytes[at + 7] = (bytes[at + 7] as number) ^ 0x01;
  return bytes;
}

describe('the engine carries governance records', () => {
  it('tells the three kinds apart by their bytes; a record is an item of its own copy and never expires', () => {
    const codec = nodeItems(core.sha256);
    const r = anchor();
    const k = inception({
      current: set(1, 'gov-engine/k/a'),
      next: set(1, 'gov-engine/k/b'),
      createdAt: now - 60,
    });
    const e = event([keySeed('gov-engine-author')], NOW_MS);
    const kinds = [e, k.encoded, r.encoded].map((b) => {
      const d = codec.describe(b);
      return d.ok ? d.item.kind : d.reason;
    });
    expect(kinds).toEqual(['event', 'key-event', 'governance-record']);
    const d = codec.describe(r.encoded);
    expect(d.ok && toHex(d.item.id)).toBe(toHex(core.sha256(r.encoded)));
    expect(d.ok && d.item.expiresAt).toBe(NEVER_EXPIRES);
    expect(d.ok && d.item.createdAt).toBe(r.record.createdAt);

    const t = engineWith();
    t.send({ type: 'events', events: [e, r.encoded] });
    const v = t.validations();
    expect(v.map((x) => x.kind)).toEqual(['event', 'governance-record']);
    t.engine.verdicts([{ id: v[1]?.id as Uint8Array, outcome: 'accepted' }], NOW_MS);
    t.engine.tick(NOW_MS + 5 * 365 * 86_400_000);
    expect(t.index.has(v[1]?.id as Uint8Array)).toBe(true);
  });

  it('a forged record costs the peer and is remembered by its encoding; the genuine copy still gets through', () => {
    const t = engineWith();
    const r = record('forged');
    const forged = forgedCopy(r.encoded, r.record.signatures[0]?.sig as Uint8Array);
    t.send({ type: 'events', events: [forged] });
    const [first] = t.validations();
    expect(first?.kind).toBe('governance-record');
    expect(toHex(first?.id as Uint8Array)).toBe(toHex(core.sha256(forged)));
    t.engine.verdicts(
      [{ id: first?.id as Uint8Array, outcome: 'rejected', reason: 'ERR_BAD_SIGNATURE' }],
      NOW_MS,
    );
    expect(t.offences('invalid-event')).toBe(1);
    expect(t.index.has(first?.id as Uint8Array)).toBe(false);
    t.send({ type: 'events', events: [forged] });
    expect(t.validations()).toHaveLength(1); // refused unread
    expect(t.offences('invalid-event')).toBe(2);
    t.send({ type: 'events', events: [r.encoded] });
    expect(t.validations()).toHaveLength(2);
  });

  it('a refusal that depends on what the node holds, or its rate, costs nothing', () => {
    const t = engineWith();
    const [a, b] = [record('a'), record('bb')];
    t.send({ type: 'events', events: [a.encoded, b.encoded] });
    const v = t.validations();
    t.engine.verdicts(
      [
        { id: v[0]?.id as Uint8Array, outcome: 'rejected', reason: 'ERR_GOV_UNKNOWN_ROOT' },
        { id: v[1]?.id as Uint8Array, outcome: 'rejected', reason: 'ERR_GOV_RATE' },
      ],
      NOW_MS,
    );
    expect(t.engine.scoreSummary(didOf(keySeed('gov-engine-peer'))).score).toBe(0);
    expect(t.index.size).toBe(0);
  });
});
