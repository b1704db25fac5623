/**
 * The deterministic simulator (spec/SYNC.md §11), in the manner of FoundationDB's and
 * TigerBeetle's: one seed decides everything (clock steps, message delays, drops, duplicates,
 * reordering, partitions and heals, crashes and restarts, client load, a hostile node's
 * attacks), and the same seed replays the same run. After every step the safety invariants are
 * checked; after the faults stop (heal, restart, quiescence) the convergence invariants are.
 *
 * Invariants (a violation throws {@link SimViolation} with the seed, the step and a trace):
 * - nothing acknowledged is lost: an event acknowledged to a client stays in that node's durable
 *   store through crashes, and (unexpired) reaches every honest node once the network heals;
 * - what a node tells peers it has is durable: its sync index never holds an id its store lacks;
 * - no honest node accepts an event that an honest node with no history would reject;
 * - honest nodes never ban each other, and split-view alerts only ever name the hostile node;
 * - honest connected nodes converge: after heal and quiescence their sets of decided,
 *   unexpired ids are equal.
 */
import type { Core } from '@commons-sync/bindings';

import { didKeyFromPublicKey } from '../../protocol/did.js';
import { type EventBody, signEvent } from '../../protocol/event.js';
import { DEFAULT_TIME_RULES } from '../../protocol/rules.js';
import { validateEvent } from '../../protocol/validate.js';
import { type EngineConfig, engineConfig } from '../engine/config.js';
import type { EngineAction } from '../engine/types.js';
import { encodeMessage } from '../wire/messages.js';
import { type InFlight, MessageQueue } from './message-queue.js';
import { SimNode } from './node.js';
import { Prng } from './prng.js';

export interface SimFaults {
  /** Chance that a message is lost. */
  readonly drop: number;
  /** Chance that a message arrives twice. */
  readonly duplicate: number;
  /** Messages take 1..maxDelayMs (so they overtake each other). */
  readonly maxDelayMs: number;
  /** Chance per step that the network splits in two (or heals, when split). */
  readonly partition: number;
  /** Chance per step that a node crashes (or that a crashed node restarts). */
  readonly crash: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly honest: number;
  readonly hostile: boolean;
  readonly steps: number;
  /** Simulated time after the faults stop, for convergence. */
  readonly quiesceMs: number;
  readonly faults: SimFaults;
  /** Chance per step of a client submitting an event. */
  readonly load: number;
  /** Chance per step of a hostile act (when there is a hostile node). */
  readonly attack: number;
  /** Print every trace line as it happens (replaying one seed). */
  readonly verbose?: boolean;
}

export const DEFAULT_SIM_OPTIONS: Omit<SimOptions, 'seed'> = Object.freeze({
  honest: 4,
  hostile: true,
  steps: 2000,
  quiesceMs: 60_000,
  faults: Object.freeze({
    drop: 0.02,
    duplicate: 0.02,
    maxDelayMs: 120,
    partition: 0.004,
    crash: 0.004,
  }),
  load: 0.08,
  attack: 0.02,
});

/** The engine settings of simulated nodes: short timers so that a run covers many rounds. */
export const SIM_ENGINE_CONFIG: EngineConfig = engineConfig({
  helloTimeoutMs: 2_000,
  reconcileIntervalMs: 5_000,
  reconcileTimeoutMs: 3_000,
  proofTimeoutMs: 4_000,
  messageRatePerSecond: 100,
  messageBurst: 300,
  eventRatePerSecond: 400,
  eventBurst: 800,
  maxPendingValidation: 256,
});

export class SimViolation extends Error {
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly invariant: string,
    readonly trace: readonly string[],
  ) {
    super(
      `seed ${seed}, step ${step}: ${invariant}\n` +
        `replay: SIM_SEED=${seed} npx vitest run test/sim-network.test.ts\n` +
        `last steps:\n${trace.join('\n')}`,
    );
  }
}

export interface SimReport {
  readonly seed: number;
  readonly steps: number;
  readonly eventsCreated: number;
  readonly acked: number;
  /** Decided ids per honest node at the end (equal when converged). */
  readonly finalSetSize: number;
  readonly messages: number;
  readonly dropped: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly attacks: Readonly<Record<string, number>>;
  readonly splitViewAlerts: number;
  readonly bansOfHostile: number;
}

interface Conn {
  readonly epoch: number;
  open: boolean;
  closeAt: number | null;
}

const START_MS = 1_767_225_600_000;
const TRACE_LINES = 120;

export class Simulation {
  readonly nodes: SimNode[] = [];
  private readonly rng: Prng;
  private now = START_MS;
  private step = 0;
  private readonly conns = new Map<string, Conn>();
  private nextEpoch = 1;
  private seq = 0;
  private readonly queue = new MessageQueue();
  /** Nodes on side A while the network is split; null when whole. */
  private split: Set<number> | null = null;
  private faultsOn = true;
  private readonly trace: string[] = [];
  private readonly authors: Uint8Array[];
  private readonly trust: Set<string>;
  private eventCounter = 0;
  private readonly counters = {
    messages: 0,
    dropped: 0,
    crashes: 0,
    partitions: 0,
    alerts: 0,
    bansOfHostile: 0,
  };
  private readonly attacks: Record<string, number> = {};
  private readonly sentByHostile: Uint8Array[] = [];

  constructor(
    private readonly core: Core,
    private readonly opts: SimOptions,
  ) {
    this.rng = new Prng(opts.seed);
    const keyRng = new Prng(0x5eed); // keys do not depend on the seed: fewer moving parts when replaying
    this.authors = Array.from({ length: 3 }, () => keyRng.bytes(32));
    const nodeSeeds = Array.from({ length: opts.honest + (opts.hostile ? 1 : 0) }, () =>
      keyRng.bytes(32),
    );
    const nodeDids = nodeSeeds.map((s) => didKeyFromPublicKey(core.ed25519PublicKey(s)));
    this.trust = new Set([
      ...this.authors.map((s) => didKeyFromPublicKey(core.ed25519PublicKey(s))),
      ...nodeDids,
    ]);
    const admitted = new Set(nodeDids);
    nodeSeeds.forEach((seed, i) => {
      this.nodes.push(
        new SimNode({
          name: i < opts.honest ? `n${i}` : 'hostile',
          seed,
          core,
          trust: { mode: 'allowlist', authors: this.trust },
          timeRules: DEFAULT_TIME_RULES,
          admitted: (did) => admitted.has(did),
          config: SIM_ENGINE_CONFIG,
          hostile: i >= opts.honest,
        }),
      );
    });
  }

  run(): SimReport {
    for (this.step = 1; this.step <= this.opts.steps; this.step++) {
      this.advance(this.rng.int(1, 250));
      this.chaos();
      this.checkSafety();
    }
    this.quiesce();
    this.checkSafety();
    this.checkConvergence();
    const honest = this.honestNodes();
    return {
      seed: this.opts.seed,
      steps: this.opts.steps,
      eventsCreated: this.eventCounter,
      acked: honest.reduce((n, node) => n + node.acked.size, 0),
      finalSetSize: honest[0]?.index.size ?? 0,
      messages: this.counters.messages,
      dropped: this.counters.dropped,
      crashes: this.counters.crashes,
      partitions: this.counters.partitions,
      attacks: { ...this.attacks },
      splitViewAlerts: this.counters.alerts,
      bansOfHostile: this.counters.bansOfHostile,
    };
  }

  // -------------------------------------------------------------------------------------------
  // One step

  private advance(ms: number): void {
    this.now += ms;
    for (let m = this.queue.peek(); m !== undefined && m.at <= this.now; m = this.queue.peek()) {
      this.queue.pop();
      this.deliver(m);
    }
    for (const [key, c] of this.conns)
      if (c.open && c.closeAt !== null && c.closeAt <= this.now) this.disconnect(key);
    this.nodes.forEach((node, i) => {
      if (!node.alive) return;
      node.engine.tick(this.now);
      this.apply(i);
      const verdicts = node.validate(this.rng.int(0, 6), this.now);
      if (verdicts.length > 0) {
        node.engine.verdicts(verdicts, this.now);
        this.apply(i);
      }
      if (this.rng.chance(this.faultsOn ? 0.3 : 1)) this.fsync(i);
    });
  }

  private chaos(): void {
    const f = this.opts.faults;
    if (this.rng.chance(this.opts.load)) this.clientSubmits();
    if (this.rng.chance(0.02)) this.checkpoint(this.rng.int(0, this.nodes.length - 1));
    if (this.opts.hostile && this.rng.chance(this.opts.attack)) this.hostileAct();
    if (this.rng.chance(f.partition)) this.togglePartition();
    if (this.rng.chance(f.crash)) this.crashOrRestart();
    this.dial(0.25);
  }

  private honestNodes(): SimNode[] {
    return this.nodes.filter((n) => !n.hostile);
  }

  private log(line: string): void {
    const text = `[${this.step} @${this.now - START_MS}ms] ${line}`;
    if (this.opts.verbose === true) console.log(text);
    this.trace.push(text);
    if (this.trace.length > TRACE_LINES) this.trace.shift();
  }

  private violation(invariant: string): never {
    throw new SimViolation(this.opts.seed, this.step, invariant, [...this.trace]);
  }

  // -------------------------------------------------------------------------------------------
  // Network

  private pairKey(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  private linkUp(a: number, b: number): boolean {
    return this.split === null || this.split.has(a) === this.split.has(b);
  }

  private dial(chance: number): void {
    for (let a = 0; a < this.nodes.length; a++) {
      for (let b = a + 1; b < this.nodes.length; b++) {
        const na = this.nodes[a] as SimNode;
        const nb = this.nodes[b] as SimNode;
        if (!na.alive || !nb.alive || !this.linkUp(a, b)) continue;
        if (this.conns.get(this.pairKey(a, b))?.open === true) continue;
        if (!this.rng.chance(chance)) continue;
        const conn: Conn = { epoch: this.nextEpoch++, open: true, closeAt: null };
        this.conns.set(this.pairKey(a, b), conn);
        this.log(`connect ${na.name} ${nb.name} (epoch ${conn.epoch})`);
        na.engine.connected(nb.did, this.now);
        nb.engine.connected(na.did, this.now);
        this.apply(a);
        this.apply(b);
      }
    }
  }

  private send(from: number, to: number, bytes: Uint8Array): void {
    const conn = this.conns.get(this.pairKey(from, to));
    if (conn === undefined || !conn.open) return;
    this.counters.messages++;
    const f = this.opts.faults;
    if (this.faultsOn && this.rng.chance(f.drop)) {
      this.counters.dropped++;
      this.nodes[from]?.engine.flushed(this.nodes[to]?.did ?? '', bytes.length);
      return;
    }
    const copies = this.faultsOn && this.rng.chance(f.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.faultsOn ? this.rng.int(1, f.maxDelayMs) : 1;
      this.queue.push({
        at: this.now + delay,
        seq: this.seq++,
        from,
        to,
        epoch: conn.epoch,
        bytes,
      });
    }
  }

  private deliver(m: InFlight): void {
    const conn = this.conns.get(this.pairKey(m.from, m.to));
    const sender = this.nodes[m.from] as SimNode;
    const receiver = this.nodes[m.to] as SimNode;
    if (conn === undefined || !conn.open || conn.epoch !== m.epoch) return;
    if (sender.alive) sender.engine.flushed(receiver.did, m.bytes.length);
    if (!receiver.alive) return;
    receiver.engine.received(sender.did, m.bytes, this.now);
    this.apply(m.to);
    this.apply(m.from);
  }

  private disconnect(key: string): void {
    const conn = this.conns.get(key);
    if (conn === undefined || !conn.open) return;
    conn.open = false;
    const [a, b] = key.split('-').map(Number) as [number, number];
    const na = this.nodes[a] as SimNode;
    const nb = this.nodes[b] as SimNode;
    this.log(`disconnect ${na.name} ${nb.name}`);
    if (na.alive) na.engine.disconnected(nb.did, this.now);
    if (nb.alive) nb.engine.disconnected(na.did, this.now);
    this.apply(a);
    this.apply(b);
  }

  /** Carries out what a node's engine asked for. */
  private apply(i: number): void {
    const node = this.nodes[i] as SimNode;
    if (!node.alive) return;
    for (
      let actions: EngineAction[] = node.engine.drain();
      actions.length > 0;
      actions = node.engine.drain()
    ) {
      for (const a of actions) this.carryOut(i, node, a);
    }
  }

  private carryOut(i: number, node: SimNode, a: EngineAction): void {
    switch (a.type) {
      case 'send': {
        const to = this.nodes.findIndex((n) => n.did === a.peer);
        if (to >= 0) this.send(i, to, a.message);
        return;
      }
      case 'validate':
        node.enqueue(a);
        return;
      case 'close': {
        const to = this.nodes.findIndex((n) => n.did === a.peer);
        const conn = to < 0 ? undefined : this.conns.get(this.pairKey(i, to));
        this.log(`${node.name} closes ${this.nodes[to]?.name}: ${a.code} ${a.detail}`);
        if (conn?.open && conn.closeAt === null)
          conn.closeAt = this.now + this.opts.faults.maxDelayMs + 1;
        return;
      }
      case 'alert': {
        const accused = this.nodes.find((n) => n.did === a.alert.evidence.node);
        const what =
          a.alert.kind === 'split-view' ? `split view: ${a.alert.evidence.reason}` : 'log restart';
        this.log(`${node.name} ALERT ${what} by ${accused?.name}`);
        if (!node.hostile) {
          // no simulated node loses its log, so an honest one never restarts it either
          if (accused === undefined || !accused.hostile)
            this.violation(`${node.name} accused honest ${accused?.name} of a ${what}`);
          this.counters.alerts++;
        }
        return;
      }
      case 'audit':
        node.audits.push(a);
        if (a.record.kind === 'peer-banned' && !node.hostile) {
          const record = a.record;
          const banned = this.nodes.find((n) => n.did === record.peer);
          this.log(
            `${node.name} bans ${banned?.name}: ${JSON.stringify(Object.keys(record.offences))}`,
          );
          if (banned !== undefined && !banned.hostile) {
            this.violation(
              `${node.name} banned honest ${banned.name}: ${JSON.stringify(record.offences)}`,
            );
          }
          this.counters.bansOfHostile++;
        }
        return;
    }
  }

  private togglePartition(): void {
    if (this.split !== null) {
      this.split = null;
      this.log('heal');
      return;
    }
    const side = new Set<number>();
    this.nodes.forEach((_, i) => {
      if (this.rng.chance(0.5)) side.add(i);
    });
    if (side.size === 0 || side.size === this.nodes.length) return;
    this.split = side;
    this.counters.partitions++;
    this.log(`partition {${[...side].map((i) => this.nodes[i]?.name).join(',')}}`);
    for (const key of [...this.conns.keys()]) {
      const [a, b] = key.split('-').map(Number) as [number, number];
      if (!this.linkUp(a, b)) this.disconnect(key);
    }
  }

  private crashOrRestart(): void {
    const i = this.rng.int(0, this.nodes.length - 1);
    const node = this.nodes[i] as SimNode;
    if (node.alive) {
      if (this.nodes.filter((n) => n.alive).length <= 2) return;
      this.counters.crashes++;
      this.log(`crash ${node.name} (${node.validationQueue.length} queued, not durable)`);
      for (const key of [...this.conns.keys()])
        if (key.split('-').map(Number).includes(i)) this.disconnect(key);
      node.crash();
    } else {
      this.log(`restart ${node.name}`);
      node.restart(this.now);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Nodes' work

  private fsync(i: number): void {
    const node = this.nodes[i] as SimNode;
    const done = node.fsync(this.now);
    if (done.length === 0) return;
    const verdicts = [];
    for (const b of done) {
      if (!node.hostile) this.oracle(node, b.bytes, b.kind, b.validatedMs);
      if (b.client) node.engine.localAccepted(b.bytes, this.now);
      else verdicts.push({ id: b.id, outcome: b.kind });
    }
    if (verdicts.length > 0) node.engine.verdicts(verdicts, this.now);
    this.apply(i);
  }

  /**
   * An honest node with no history, at the time the verdict was reached, must accept what was
   * just committed (a conflict: valid too, but for its nonce).
   */
  private oracle(
    node: SimNode,
    bytes: Uint8Array,
    kind: 'accepted' | 'conflict',
    atMs: number,
  ): void {
    const v = validateEvent(this.core, bytes, {
      now: Math.floor(atMs / 1000),
      trust: { mode: 'allowlist', authors: this.trust },
      lookupReplay: () => undefined,
    });
    if (!v.ok || v.outcome !== 'accepted') {
      this.violation(
        `${node.name} committed (${kind}) an event a fresh honest node rejects: ${v.ok ? v.outcome : v.reason}`,
      );
    }
  }

  private checkpoint(i: number): void {
    const node = this.nodes[i] as SimNode;
    if (!node.alive) return;
    const cp = node.signCheckpoint(this.now);
    node.engine.ownCheckpoint(cp, this.now);
    this.apply(i);
  }

  private makeEvent(
    seed: Uint8Array,
    nonce?: Uint8Array,
    over: Partial<EventBody> = {},
  ): Uint8Array {
    const nowSeconds = Math.floor(this.now / 1000);
    const createdAt = nowSeconds - this.rng.int(0, 5);
    const author = didKeyFromPublicKey(this.core.ed25519PublicKey(seed));
    const r = signEvent(
      this.core,
      {
        v: 1,
        kind: 'note',
        author,
        createdAt,
        expiresAt: createdAt + this.rng.int(20, 400),
        nonce: nonce ?? this.rng.bytes(16),
        payload: { n: this.eventCounter++ },
        ...over,
      },
      [seed],
    );
    if (!r.ok) throw new Error(`the simulator made an invalid event: ${r.reason}`);
    return r.value.encoded;
  }

  private clientSubmits(): void {
    const alive = this.honestNodes().filter((n) => n.alive);
    if (alive.length === 0) return;
    const node = this.rng.pick(alive);
    // one in ten is large: announced (HAVE) and pulled (WANT) rather than pushed
    const large = this.rng.chance(0.1)
      ? { payload: { blob: ['x'.repeat(6000), 'y'.repeat(6000)] } }
      : {};
    node.submit(this.makeEvent(this.rng.pick(this.authors), undefined, large));
  }

  // -------------------------------------------------------------------------------------------
  // The hostile node

  private hostileAct(): void {
    const hi = this.nodes.length - 1;
    const hostile = this.nodes[hi] as SimNode;
    if (!hostile.alive) return;
    const peers = this.nodes
      .map((_, i) => i)
      .filter((i) => i !== hi && this.conns.get(this.pairKey(hi, i))?.open === true);
    if (peers.length === 0) return;
    const to = this.rng.pick(peers);
    const act = this.rng.pick([
      'bad-signature',
      'replay',
      'flood',
      'split-view',
      'equivocate-author',
      'expired',
      'garbage',
      'bad-partial',
      'own-event',
    ] as const);
    this.attacks[act] = (this.attacks[act] ?? 0) + 1;
    this.log(`hostile ${act} -> ${this.nodes[to]?.name}`);
    const raw = (bytes: Uint8Array) => this.send(hi, to, bytes);
    switch (act) {
      case 'bad-signature': {
        // a copy of a genuine event with one signature bit flipped: the same id, invalid
        const genuine = this.makeEvent(this.rng.pick(this.authors));
        const forged = Uint8Array.from(genuine);
        forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
        raw(encodeMessage({ type: 'events', events: [forged] }));
        // the genuine one reaches the network through an honest node a little later
        const honest = this.rng.pick(this.honestNodes().filter((n) => n.alive));
        honest.submit(genuine);
        return;
      }
      case 'replay': {
        const e = this.sentByHostile[this.sentByHostile.length - 1] ?? this.makeEvent(hostile.seed);
        for (let k = 0; k < 30; k++) raw(encodeMessage({ type: 'events', events: [e] }));
        return;
      }
      case 'flood':
        for (let k = 0; k < 400; k++)
          raw(encodeMessage({ type: 'have', ids: [this.rng.bytes(32)] }));
        return;
      case 'split-view': {
        const real = hostile.signCheckpoint(this.now);
        hostile.engine.ownCheckpoint(real, this.now);
        this.apply(hi);
        const fake = hostile.forgeCheckpoint(
          this.now,
          real.treeSize + this.rng.int(0, 1),
          this.rng.bytes(32),
        );
        raw(encodeMessage({ type: 'checkpoint', checkpoint: fake }));
        return;
      }
      case 'equivocate-author': {
        const nonce = this.rng.bytes(16);
        const e1 = this.makeEvent(hostile.seed, nonce);
        const e2 = this.makeEvent(hostile.seed, nonce);
        raw(encodeMessage({ type: 'events', events: [e1] }));
        const other = this.rng.pick(peers);
        this.send(hi, other, encodeMessage({ type: 'events', events: [e2] }));
        this.sentByHostile.push(e1);
        return;
      }
      case 'expired': {
        const nowSeconds = Math.floor(this.now / 1000);
        raw(
          encodeMessage({
            type: 'events',
            events: [
              this.makeEvent(hostile.seed, undefined, {
                createdAt: nowSeconds - 7200,
                expiresAt: nowSeconds - 3600,
              }),
            ],
          }),
        );
        return;
      }
      case 'garbage':
        raw(this.rng.bytes(this.rng.int(1, 64)));
        return;
      case 'bad-partial': {
        const e = Uint8Array.from(this.makeEvent(hostile.seed));
        e[e.length - 2] = (e[e.length - 2] as number) ^ 0x40;
        raw(encodeMessage({ type: 'partial', event: e }));
        return;
      }
      case 'own-event': {
        const e = this.makeEvent(hostile.seed);
        this.sentByHostile.push(e);
        raw(encodeMessage({ type: 'events', events: [e] }));
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Invariants

  private checkSafety(): void {
    const nowSeconds = Math.floor(this.now / 1000);
    for (const node of this.honestNodes()) {
      for (const id of node.acked)
        if (!node.store.has(id)) this.violation(`${node.name} lost acknowledged event ${id}`);
      if (!node.alive) continue;
      for (const e of node.index.entries()) {
        if (!node.store.has(e.key))
          this.violation(`${node.name} reconciles an id it has not stored durably`);
      }
      for (const [key, e] of node.store) {
        if (e.expiresAt > nowSeconds + 1 && !node.index.hasKey(key)) {
          this.violation(`${node.name} stores an unexpired event its sync index lacks`);
        }
      }
    }
  }

  private quiesce(): void {
    this.faultsOn = false;
    this.split = null;
    this.log('faults stop: heal, restart, quiesce');
    this.nodes.forEach((n) => {
      if (!n.alive) n.restart(this.now);
    });
    const end = this.now + this.opts.quiesceMs;
    while (this.now < end) {
      this.advance(200);
      this.dial(1);
      this.step++;
    }
    // settle what is still on the wire and in the queues
    for (let k = 0; k < 200 && !this.settled(); k++) {
      this.advance(200);
      this.dial(1);
      this.step++;
    }
  }

  private settled(): boolean {
    return (
      this.queue.size === 0 &&
      this.nodes.every((n) => !n.alive || (n.validationQueue.length === 0 && n.engine.idle()))
    );
  }

  private checkConvergence(): void {
    const honest = this.honestNodes();
    for (const n of this.nodes) n.engine.tick(this.now + 1);
    const setOf = (n: SimNode) => new Set([...n.index.entries()].map((e) => e.key));
    const first = honest[0] as SimNode;
    const reference = setOf(first);
    for (const n of honest.slice(1)) {
      const s = setOf(n);
      const missing = [...reference].filter((x) => !s.has(x));
      const extra = [...s].filter((x) => !reference.has(x));
      if (missing.length > 0 || extra.length > 0) {
        this.violation(
          `${n.name} did not converge with ${first.name}: lacks ${missing.length}, has ${extra.length} more`,
        );
      }
    }
    const nowSeconds = Math.floor((this.now + 1) / 1000);
    for (const n of honest) {
      for (const id of n.acked) {
        const e = n.store.get(id);
        if (e !== undefined && e.expiresAt > nowSeconds && !reference.has(id)) {
          this.violation(`event ${id} acknowledged by ${n.name} did not reach every honest node`);
        }
      }
    }
  }
}
