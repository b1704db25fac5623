/**
 * Engines wired to each other in one process, without sockets: messages are delivered in order
 * (as TCP would) by `pump`, validation runs the reference validator on an in-memory store.
 * For targeted engine tests; the simulator (src/net/sim) adds faults, the transport tests TLS.
 */
import { loadCore } from '@commons-sync/bindings';

import { verifyCheckpointSignature } from '../src/audit/checkpoint.js';
import { type EngineConfig, engineConfig } from '../src/net/engine/config.js';
import { SyncEngine } from '../src/net/engine/engine.js';
import type { EngineAction } from '../src/net/engine/types.js';
import { MemoryAuditLog, MemoryEventStore } from '../src/net/memory-node.js';
import { checkpointOfWire } from '../src/net/node-network.js';
import { SyncIndex } from '../src/net/reconcile/sync-index.js';
import { didKeyFromPublicKey } from '../src/protocol/did.js';
import { type EventBody, signEvent } from '../src/protocol/event.js';
import type { TrustPolicy } from '../src/protocol/rules.js';

export const core = await loadCore({ backend: 'native' });
export const T0 = 1_767_225_600_000;

export interface TestNode {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly did: string;
  readonly publicKey: Uint8Array;
  readonly engine: SyncEngine;
  readonly store: MemoryEventStore;
  readonly log: MemoryAuditLog;
  readonly index: SyncIndex;
  readonly actions: EngineAction[];
  /** With `deferValidation`: validations asked and not answered yet (see `release`). */
  readonly deferred: Array<{ id: Uint8Array; event: Uint8Array; peer: string | null }> | null;
}

export function keySeed(label: string): Uint8Array {
  return core.sha256(new TextEncoder().encode(`net-tests/${label}`));
}

export function didOf(seed: Uint8Array): string {
  return didKeyFromPublicKey(core.ed25519PublicKey(seed));
}

export interface World {
  now: number;
  readonly nodes: Map<string, TestNode>;
  /** Connected pairs, by did. */
  readonly links: Set<string>;
  /** Messages in order, per direction. */
  readonly wire: Array<{ from: string; to: string; bytes: Uint8Array }>;
  /** Close actions seen, with their codes. */
  readonly closes: Array<{ by: string; peer: string; code: string }>;
}

export function world(): World {
  return { now: T0, nodes: new Map(), links: new Set(), wire: [], closes: [] };
}

export function addNode(
  w: World,
  name: string,
  opts: {
    admitted?: (did: string) => boolean;
    trust?: TrustPolicy;
    config?: Partial<EngineConfig>;
    /** Keep validations waiting until `release` (a slow pipeline). */
    deferValidation?: boolean;
  } = {},
): TestNode {
  const seed = keySeed(name);
  const publicKey = core.ed25519PublicKey(seed);
  const did = didKeyFromPublicKey(publicKey);
  const log = new MemoryAuditLog(core, publicKey, async (m) => core.ed25519Sign(seed, m));
  const clock = () => w.now;
  const store = new MemoryEventStore(core, log, {
    clock,
    ...(opts.trust === undefined ? {} : { trust: opts.trust }),
  });
  const index = new SyncIndex(core.sha256);
  const engine = new SyncEngine({
    self: did,
    sha256: core.sha256,
    index,
    events: store,
    ownLog: log,
    admitted: opts.admitted ?? (() => true),
    checkCheckpoint: (cp) => verifyCheckpointSignature(core, checkpointOfWire(cp)),
    partials: {
      sha256: core.sha256,
      ed25519Verify: core.ed25519Verify,
      trust: opts.trust ?? { mode: 'open' },
      timeRules: { clockSkewSeconds: 300, maxLifetimeSeconds: 7 * 86400 },
    },
    config: engineConfig(opts.config ?? {}),
  });
  const node: TestNode = {
    name,
    seed,
    did,
    publicKey,
    engine,
    store,
    log,
    index,
    actions: [],
    deferred: opts.deferValidation === true ? [] : null,
  };
  w.nodes.set(did, node);
  return node;
}

const key = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export function connect(w: World, a: TestNode, b: TestNode): void {
  w.links.add(key(a.did, b.did));
  a.engine.connected(b.did, w.now);
  b.engine.connected(a.did, w.now);
  pump(w);
}

export function disconnect(w: World, a: TestNode, b: TestNode): void {
  if (!w.links.delete(key(a.did, b.did))) return;
  a.engine.disconnected(b.did, w.now);
  b.engine.disconnected(a.did, w.now);
}

/** Delivers and carries out everything until nothing is left to do. */
export function pump(w: World, maxRounds = 10_000): void {
  for (let round = 0; round < maxRounds; round++) {
    let busy = false;
    for (const node of w.nodes.values()) {
      for (const a of node.engine.drain()) {
        busy = true;
        node.actions.push(a);
        if (a.type === 'send') {
          if (w.links.has(key(node.did, a.peer)))
            w.wire.push({ from: node.did, to: a.peer, bytes: a.message });
          node.engine.flushed(a.peer, a.message.length);
        } else if (a.type === 'validate') {
          if (node.deferred !== null) node.deferred.push(a);
          else node.engine.verdicts([{ ...node.store.take(a.event, a.peer), id: a.id }], w.now);
        } else if (a.type === 'close') {
          w.closes.push({ by: node.name, peer: a.peer, code: a.code });
          const other = w.nodes.get(a.peer);
          // the GOODBYE already queued is delivered first, then the link goes
          deliverAll(w);
          if (other !== undefined) disconnect(w, node, other);
          else node.engine.disconnected(a.peer, w.now); // a peer injected by the test
        }
      }
    }
    if (deliverAll(w)) busy = true;
    if (!busy) return;
  }
  throw new Error('pump: no quiescence');
}

function deliverAll(w: World): boolean {
  let any = false;
  while (w.wire.length > 0) {
    const m = w.wire.shift() as { from: string; to: string; bytes: Uint8Array };
    if (!w.links.has(key(m.from, m.to))) continue;
    any = true;
    w.nodes.get(m.to)?.engine.received(m.from, m.bytes, w.now);
  }
  return any;
}

/** Answers the validations a `deferValidation` node holds. */
export function release(w: World, node: TestNode): number {
  const held = node.deferred?.splice(0) ?? [];
  node.engine.verdicts(
    held.map((a) => ({ ...node.store.take(a.event, a.peer), id: a.id })),
    w.now,
  );
  pump(w);
  return held.length;
}

/** Moves the clock and ticks every engine. */
export function advance(w: World, ms: number): void {
  w.now += ms;
  for (const n of w.nodes.values()) n.engine.tick(w.now);
  pump(w);
}

let nonceCounter = 0;
export function event(
  seeds: Uint8Array[],
  nowMs: number,
  over: Partial<EventBody> = {},
): Uint8Array {
  const author = didOf(seeds[0] as Uint8Array);
  const nowSeconds = Math.floor(nowMs / 1000);
  const r = signEvent(
    core,
    {
      v: 1,
      kind: 'note',
      author,
      createdAt: nowSeconds - 1,
      expiresAt: nowSeconds + 3600,
      nonce: core.sha256(new TextEncoder().encode(`nonce/${nonceCounter++}`)).slice(0, 16),
      payload: { n: nonceCounter },
      ...over,
    },
    seeds,
  );
  if (!r.ok) throw new Error(`fixture event invalid: ${r.reason}`);
  return r.value.encoded;
}

/** A client submits to a node: stored by its store, then gossiped by its engine. */
export function submit(w: World, node: TestNode, bytes: Uint8Array): void {
  const v = node.store.submit(bytes);
  if (v.outcome !== 'accepted') throw new Error(`submit: ${v.outcome} ${v.reason ?? ''}`);
  node.engine.localAccepted(bytes, w.now);
  pump(w);
}

export function idsOf(node: TestNode): string[] {
  return [...node.index.entries()].map((e) => e.key).sort();
}
