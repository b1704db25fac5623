/**
 * The sync engine (spec/SYNC.md §4–§8), sans-I/O: it takes what happened (a peer connected, a
 * message arrived, validation finished, time passed) and answers with actions (send this,
 * validate that, close, alert). No socket, timer, disk or randomness inside, so the same engine
 * runs under real TLS (`transport/`) and in the seeded simulator (`sim/`).
 *
 * What it does: the HELLO exchange; gossip (push of new events to peers that do not have them,
 * dedup by id, bounded queues, fall back to reconciliation under backpressure); range-based
 * reconciliation on connect, periodically and after a round is cut (resumed from its open
 * ranges); serving WANTs; partial events gathering signatures; checkpoint gossip and
 * consistency proofs against split views; per-peer scores, rate limits and bans.
 */

import type { Sha256 } from '../../audit/merkle.js';
import { toHex } from '../../protocol/bytes.js';
import { Reason } from '../../protocol/reasons.js';
import { NetCode, NetError, type NetErrorCode } from '../errors.js';
import { Initiator, type OpenRange, respond } from '../reconcile/reconciler.js';
import type { SyncIndex } from '../reconcile/sync-index.js';
import {
  decodeMessage,
  encodeMessage,
  type Message,
  SYNC_PROTOCOL_VERSIONS,
  WIRE_LIMITS,
  type WireCheckpoint,
} from '../wire/messages.js';
import { CheckpointGossip } from './checkpoint-gossip.js';
import type { CheckpointSignatureCheck, SplitViewEvidence } from './checkpoints.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig, type Offence } from './config.js';
import { checkPartial, type PartialCheckDeps, PartialPool } from './partials.js';
import { PeerConn, type PeerId } from './peer.js';
import { BoundedSet, PeerScore } from './scoring.js';
import { eventItems, type SyncItemCodec, type SyncItemKind } from './sync-items.js';
import type { EngineAction, EventSource, EventVerdict, OwnLog, PeerView } from './types.js';

/** Messages dropped unread before a HELLO before the connection is cut (spec/SYNC.md §4.1). */
export const MAX_EARLY_MESSAGES = 64;

function equalHello(a: Message & { type: 'hello' }, b: Message & { type: 'hello' }): boolean {
  return a.time === b.time && a.versions.join() === b.versions.join() && a.node === b.node;
}

/** Leaves room for the CBOR envelope under the frame limit. */
const MAX_EVENTS_MESSAGE_BYTES = 512 * 1024;

/** Rejections that depend only on the event's bytes: an honest peer, having validated it, never sends one. */
const INVALID_REASONS: ReadonlySet<string> = new Set([
  Reason.MALFORMED,
  Reason.TOO_LARGE,
  Reason.TOO_DEEP,
  Reason.UNSUPPORTED_VERSION,
  Reason.BAD_FIELD,
  Reason.BAD_DID,
  Reason.LIFETIME_TOO_LONG,
  Reason.BAD_SIGNATURE,
  Reason.THRESHOLD_NOT_MET,
  Reason.MISSING_AUTHOR_SIGNATURE,
  // key events (spec/IDENTITY.md §6 step 3): a range fixed by the key event's own fields
  'ERR_KEL_REVOCATION_RANGE',
]);

export interface EngineDeps {
  /** This node's did:key. */
  readonly self: string;
  readonly sha256: Sha256;
  /** The set this node reconciles; the engine inserts what is accepted and prunes what expires. */
  readonly index: SyncIndex;
  readonly events: EventSource;
  readonly ownLog: OwnLog;
  /** Whether an identity may be a peer (the admission set); checkpoints of others are ignored. */
  readonly admitted: (did: string) => boolean;
  readonly checkCheckpoint: CheckpointSignatureCheck;
  /** Checks partial events (crypto and the node's trust and time rules). */
  readonly partials: PartialCheckDeps;
  /** Reads the items the engine carries (default: CommonsEvents; see sync-items.ts). */
  readonly items?: SyncItemCodec;
  readonly config?: EngineConfig;
}

interface Inflight {
  readonly kind: SyncItemKind;
  readonly peer: PeerId | null;
  readonly event: Uint8Array;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly author: string;
  /**
   * The node withdrew it (`localWithdrawn`) while its verdict was on the way: the node stored
   * it, then a key event invalidated it before the verdict came back (verdicts wait for the
   * commit's sync). The verdict then says `accepted` of a state that no longer holds, so the
   * item stays out of the sync set.
   */
  withdrawn?: true;
}

export class SyncEngine {
  readonly config: EngineConfig;
  private readonly peers = new Map<PeerId, PeerConn>();
  private readonly scores = new Map<PeerId, PeerScore>();
  /** Open ranges of a round cut by a disconnect or a timeout, per peer, to resume. */
  private readonly resumeRanges = new Map<PeerId, OpenRange[]>();
  private readonly inflight = new Map<string, Inflight>();
  /**
   * Events rejected for what their bytes are, by SHA-256 of the whole encoding (not by id: the
   * id leaves out the signatures, so a forged copy must not get the genuine event refused).
   */
  private readonly rejected: Set<string> = new Set();
  private readonly provenance = new Map<string, PeerId>();
  private readonly checkpoints: CheckpointGossip;
  private readonly partials: PartialPool;
  private readonly items: SyncItemCodec;
  private actions: EngineAction[] = [];
  private now = 0;
  /** Authors already reported for equivocation (one audit record each; bounded). */
  private readonly equivocators = new BoundedSet(4096);

  constructor(private readonly deps: EngineDeps) {
    this.config = deps.config ?? DEFAULT_ENGINE_CONFIG;
    this.checkpoints = new CheckpointGossip(deps, this.config.proofTimeoutMs, {
      now: () => this.now,
      readyPeers: () => this.readyPeers(),
      peer: (id) => this.peers.get(id),
      send: (conn, message, control) => this.send(conn, message, control),
      offend: (conn, offence, sample, times) => this.offend(conn, offence, sample, times),
      penalize: (peer, offence, sample) =>
        void this.scoreOf(peer).penalize(offence, this.now, sample),
      emit: (action) => this.actions.push(action),
    });
    this.partials = new PartialPool(this.config.maxPartials);
    this.items = deps.items ?? eventItems(deps.sha256);
  }

  // -------------------------------------------------------------------------------------------
  // Inputs

  /**
   * A transport connected to `peer` (its identity already proved and admitted). False when the
   * engine refuses it (banned, or already connected); a `close` action says why.
   */
  connected(peer: PeerId, nowMs: number): boolean {
    this.tick(nowMs);
    if (peer === this.deps.self)
      return this.refuse(peer, NetCode.SELF_CONNECTION, 'a connection to ourselves');
    if (this.scoreOf(peer).state(nowMs) === 'banned') {
      return this.refuse(
        peer,
        NetCode.PEER_SCORE,
        `banned until ${this.scoreOf(peer).bannedUntilMs()}`,
      );
    }
    if (this.peers.has(peer))
      return this.refuse(peer, NetCode.DUPLICATE_CONNECTION, 'already connected');
    const conn = new PeerConn(peer, nowMs, this.config);
    this.peers.set(peer, conn);
    this.send(
      conn,
      {
        type: 'hello',
        versions: SYNC_PROTOCOL_VERSIONS,
        node: this.deps.self,
        time: nowMs,
        checkpoint: this.deps.ownLog.latest(),
      },
      true,
    );
    this.pump(conn);
    return true;
  }

  /** The connection to `peer` is gone (closed by either side, or the transport failed). */
  disconnected(peer: PeerId, nowMs: number): void {
    this.tick(nowMs);
    const conn = this.peers.get(peer);
    if (conn === undefined) return;
    if (conn.recon !== null) this.resumeRanges.set(peer, conn.recon.initiator.openRanges());
    this.checkpoints.forget(peer);
    this.peers.delete(peer);
  }

  /** One message (the frame's payload) from `peer`. */
  received(peer: PeerId, bytes: Uint8Array, nowMs: number): void {
    this.tick(nowMs);
    const conn = this.peers.get(peer);
    if (conn === undefined || conn.phase === 'closing') return;
    conn.stats.bytesIn += bytes.length;
    conn.stats.messagesIn++;
    const score = this.scoreOf(peer);
    const divisor = score.state(nowMs) === 'graylisted' ? this.config.score.graylistDivisor : 1;
    if (!conn.messageBucket.take(nowMs, divisor)) {
      this.offend(conn, 'flood', 'message rate exceeded');
      this.pump(conn);
      return;
    }
    let message: Message;
    try {
      message = decodeMessage(bytes);
    } catch (e) {
      if (!(e instanceof NetError)) throw e;
      this.protocolViolation(conn, e.code, e.message);
      return;
    }
    try {
      this.dispatch(conn, message, divisor);
    } catch (e) {
      if (!(e instanceof NetError)) throw e;
      this.protocolViolation(conn, e.code, e.message);
    }
    this.pumpAll();
  }

  /** The transport could not read a frame from `peer` (too large, empty): a protocol violation. */
  transportError(peer: PeerId, code: NetErrorCode, detail: string, nowMs: number): void {
    this.tick(nowMs);
    const conn = this.peers.get(peer);
    if (conn === undefined || conn.phase === 'closing') return;
    this.protocolViolation(conn, code, detail);
  }

  /** The transport wrote `bytes` of what it was given for `peer` (opens the send window). */
  flushed(peer: PeerId, bytes: number): void {
    const conn = this.peers.get(peer);
    if (conn === undefined) return;
    conn.outbox.flushed(bytes);
    this.pump(conn);
  }

  /** Verdicts on events handed out with `validate` (accepted ones are durably stored). */
  verdicts(results: readonly EventVerdict[], nowMs: number): void {
    this.tick(nowMs);
    for (const r of results) this.verdict(r);
    this.pumpAll();
  }

  /**
   * Events this node accepted from a client (already durable): gossip them. Give a commit's
   * events in one call: they go out batched (one EVENTS message per peer for up to 1,024), where
   * one call per event would send a message per event and could pass a peer's message rate.
   */
  localAccepted(events: Uint8Array | readonly Uint8Array[], nowMs: number): void {
    this.tick(nowMs);
    for (const event of events instanceof Uint8Array ? [events] : events) {
      const described = this.items.describe(event);
      if (!described.ok) throw new RangeError(`localAccepted: ${described.reason}`);
      const { id, createdAt, expiresAt } = described.item;
      // also a peer's item whose verdict is on its way (a key event joins, and is announced,
      // in the commit; its verdict follows): the verdict then finds it in the set
      const key = toHex(id);
      if (this.deps.index.insert({ timestamp: createdAt, id, expiresAt, kind: 'accepted' }, key))
        this.gossip(id, event, null, key);
    }
    this.pumpAll();
  }

  /**
   * Items that left this node's sync set although unexpired: events a key event invalidated
   * (spec/IDENTITY.md §8; they are kept as evidence, but no longer valid here). Reconciliation
   * stops offering them; should a key event make them valid again, `localAccepted` brings them
   * back.
   */
  localWithdrawn(ids: readonly Uint8Array[], nowMs: number): void {
    this.tick(nowMs);
    for (const id of ids) {
      this.deps.index.remove(id);
      const entry = this.inflight.get(toHex(id));
      if (entry !== undefined) entry.withdrawn = true;
    }
  }

  /** A partially signed event from a client: merge it and spread it. */
  localPartial(event: Uint8Array, nowMs: number): void {
    this.tick(nowMs);
    this.partial(null, event);
    this.pumpAll();
  }

  /** This node signed a new checkpoint of its audit log: tell every peer. */
  ownCheckpoint(checkpoint: WireCheckpoint, nowMs: number): void {
    this.tick(nowMs);
    for (const conn of this.readyPeers()) this.send(conn, { type: 'checkpoint', checkpoint }, true);
    this.pumpAll();
  }

  /** Time passed: timeouts, reconciliation schedule, expiry, proof requests. */
  tick(nowMs: number): void {
    if (nowMs < this.now) return; // time never runs backwards inside the engine
    const advanced = nowMs > this.now;
    this.now = nowMs;
    if (!advanced) return;
    const nowSeconds = Math.floor(nowMs / 1000);
    this.deps.index.pruneExpired(nowSeconds);
    this.partials.prune(nowSeconds);
    for (const conn of [...this.peers.values()]) {
      if (
        conn.phase === 'awaiting-hello' &&
        nowMs - conn.connectedMs >= this.config.helloTimeoutMs
      ) {
        this.close(conn, NetCode.HELLO_TIMEOUT, `no HELLO within ${this.config.helloTimeoutMs} ms`);
        continue;
      }
      if (conn.phase !== 'ready') continue;
      if (conn.recon !== null && nowMs - conn.recon.sentMs >= this.config.reconcileTimeoutMs) {
        this.resumeRanges.set(conn.id, conn.recon.initiator.openRanges());
        conn.recon = null;
        conn.reconcileDueMs = nowMs + this.config.reconcileTimeoutMs;
      }
      if (conn.recon === null && nowMs >= conn.reconcileDueMs) this.startReconcile(conn);
      for (const [k, askedMs] of conn.wants)
        if (nowMs - askedMs >= this.config.reconcileTimeoutMs) conn.wants.delete(k);
      this.checkpoints.askProofs(conn);
      this.pump(conn);
    }
  }

  /** Everything the engine wants done since the last drain, in order. */
  drain(): EngineAction[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Views

  peerViews(): PeerView[] {
    return [...this.peers.values()].map((c) => {
      const s = this.scoreOf(c.id);
      return {
        peer: c.id,
        phase: c.phase,
        score: Math.round(s.score(this.now)),
        scoreState: s.state(this.now),
        stats: { ...c.stats },
        queuedBytes: c.outbox.bytes + c.pushBytes,
        pendingValidation: c.pendingValidation,
        outstandingWants: c.wants.size,
      };
    });
  }

  /** The score record of a peer (connected or not). */
  scoreSummary(peer: PeerId): ReturnType<PeerScore['summary']> {
    return this.scoreOf(peer).summary(this.now);
  }

  isBanned(peer: PeerId, nowMs: number): boolean {
    return this.scoreOf(peer).state(nowMs) === 'banned';
  }

  /** The peer that first delivered an event (recent events only). */
  sourceOf(id: Uint8Array): PeerId | undefined {
    return this.provenance.get(toHex(id));
  }

  splitViews(): readonly SplitViewEvidence[] {
    return this.checkpoints.watch.evidence;
  }

  checkpointHead(node: string): WireCheckpoint | undefined {
    return this.checkpoints.watch.head(node);
  }

  /** True when nothing is queued, in flight, or being reconciled (for the simulator's quiescence). */
  idle(): boolean {
    if (this.inflight.size > 0 || this.actions.length > 0) return false;
    for (const c of this.peers.values()) {
      if (
        c.recon !== null ||
        c.outbox.bytes > 0 ||
        c.pushQueue.length > 0 ||
        c.haveQueue.length > 0 ||
        c.wants.size > 0
      )
        return false;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Messages

  private dispatch(conn: PeerConn, m: Message, divisor: number): void {
    if (conn.phase === 'awaiting-hello') {
      if (m.type === 'hello') {
        this.hello(conn, m);
        return;
      }
      // A node that refuses us sends a GOODBYE instead of its HELLO (§3.3): acting on it only
      // ends the connection, and tells us why.
      if (m.type === 'goodbye') {
        this.goodbye(conn, m.code, m.detail);
        return;
      }
      // Nothing is acted on before the HELLO. Over TCP nothing can come first; a transport that
      // reorders may deliver a few messages early, so a few are dropped unread (the peer's
      // timers and reconciliation recover them) and only a stream of them is a violation.
      if (++conn.earlyMessages > MAX_EARLY_MESSAGES) {
        throw new NetError(
          NetCode.UNEXPECTED_MESSAGE,
          `more than ${MAX_EARLY_MESSAGES} messages before HELLO`,
        );
      }
      return;
    }
    switch (m.type) {
      case 'hello':
        if (m.node === conn.id && conn.helloSeen !== null && equalHello(conn.helloSeen, m)) return; // a repeat
        throw new NetError(NetCode.UNEXPECTED_MESSAGE, 'a second, different HELLO');
      case 'events':
        for (const event of m.events) this.incomingEvent(conn, event, divisor);
        return;
      case 'have':
        for (const id of m.ids) conn.markKnown(id);
        this.want(
          conn,
          m.ids.filter((id) => !this.holdsOrAwaits(id)),
        );
        return;
      case 'want': {
        this.serveWants(conn, m.ids);
        return;
      }
      case 'reconcile':
        if (!conn.reconcileBucket.take(this.now, divisor)) {
          this.offend(conn, 'flood', 'reconciliation queries too fast');
          return;
        }
        {
          this.send(
            conn,
            {
              type: 'reconcile-reply',
              session: m.session,
              round: m.round,
              payload: respond(this.deps.index, m.payload, this.config.reconcile),
            },
            true,
          );
          return;
        }
      case 'reconcile-reply': {
        this.reconcileReply(conn, m.session, m.round, m.payload);
        return;
      }
      case 'checkpoint': {
        this.checkpoints.observe(conn, m.checkpoint);
        return;
      }
      case 'proof-request': {
        const hashes = this.deps.ownLog.consistencyProof(m.from, m.to);
        if (hashes !== null)
          this.send(
            conn,
            { type: 'proof', request: m.request, from: m.from, to: m.to, hashes },
            true,
          );
        return;
      }
      case 'proof': {
        this.checkpoints.proof(conn, m.request, m.from, m.to, m.hashes);
        return;
      }
      case 'partial': {
        this.partial(conn, m.event);
        return;
      }
      case 'goodbye':
        this.goodbye(conn, m.code, m.detail);
        return;
    }
  }

  private goodbye(conn: PeerConn, code: string, detail: string): void {
    conn.phase = 'closing';
    this.actions.push({
      type: 'close',
      peer: conn.id,
      code,
      detail: `the peer said goodbye: ${detail}`,
    });
  }

  private hello(conn: PeerConn, m: Message & { type: 'hello' }): void {
    const common = m.versions.filter((v) => SYNC_PROTOCOL_VERSIONS.includes(v));
    if (common.length === 0) {
      this.close(
        conn,
        NetCode.PROTOCOL_VERSION,
        `no common version (we speak ${SYNC_PROTOCOL_VERSIONS.join(',')})`,
      );
      return;
    }
    if (m.node !== conn.id) {
      this.offend(conn, 'protocol', `HELLO names ${m.node}`);
      this.close(
        conn,
        NetCode.IDENTITY_MISMATCH,
        'the HELLO names another identity than the certificate',
      );
      return;
    }
    if (Math.abs(m.time - this.now) > this.config.maxClockSkewMs) {
      this.close(conn, NetCode.CLOCK_SKEW, `clocks differ by ${m.time - this.now} ms`);
      return;
    }
    conn.version = Math.max(...common);
    conn.helloSeen = m;
    conn.phase = 'ready';
    conn.reconcileDueMs = this.now; // reconcile on connect (and so after every heal)
    if (m.checkpoint !== null) this.checkpoints.observe(conn, m.checkpoint);
    this.checkpoints.relayHeadsTo(conn);
    for (const partial of this.partials.all())
      this.send(conn, { type: 'partial', event: partial }, false);
    this.startReconcile(conn);
  }

  private incomingEvent(conn: PeerConn, event: Uint8Array, divisor: number): void {
    conn.stats.eventsIn++;
    if (!conn.eventBucket.take(this.now, divisor)) {
      conn.reconcileDueMs = Math.min(
        conn.reconcileDueMs,
        this.now + this.config.reconcileIntervalMs,
      );
      this.offend(conn, 'flood', 'event rate exceeded');
      return;
    }
    const described = this.items.describe(event);
    if (!described.ok) {
      this.offend(conn, 'invalid-event', `${described.reason}: ${described.detail}`);
      return;
    }
    const { kind, id, expiresAt, createdAt, author } = described.item;
    const key = toHex(id);
    // A second copy is a replay, unless we asked for it (WANT): the peer may have pushed it
    // while our request was on its way, or we dropped the first copy.
    conn.wants.delete(key);
    if (conn.received.has(key) && !conn.asked.has(key)) this.offend(conn, 'replay', key);
    conn.received.add(key);
    conn.known.add(key);
    if (this.deps.index.hasKey(key) || this.inflight.has(key)) return;
    // (hashing the whole event only matters once something was rejected)
    if (this.rejected.size > 0 && this.rejected.has(toHex(this.deps.sha256(event)))) {
      this.offend(conn, 'invalid-event', `${key} (rejected before)`);
      return;
    }
    const nowSeconds = Math.floor(this.now / 1000);
    if (nowSeconds >= expiresAt) {
      // Not validated, so never judged: scored as `stale` only if it is an event at all (a
      // peeked item is decoded in full here, on this rare path, so the score is decoding's).
      if (!described.item.checked) {
        const checked = this.items.check(event);
        if (!checked.ok) {
          this.offend(conn, 'invalid-event', `${checked.reason}: ${checked.detail}`);
          return;
        }
      }
      if (this.now - expiresAt * 1000 > this.config.staleGraceMs) this.offend(conn, 'stale', key);
      return;
    }
    if (conn.pendingValidation >= this.config.maxPendingValidation) {
      // dropped: reconciliation fetches it once the queue has drained (and its next copy is
      // not the sender's replay: we will have asked for it)
      conn.received.delete(key);
      conn.needRoom = true;
      return;
    }
    conn.pendingValidation++;
    this.inflight.set(key, { kind, peer: conn.id, event, expiresAt, createdAt, author });
    this.actions.push({ type: 'validate', kind, peer: conn.id, id, event });
  }

  private verdict(r: EventVerdict): void {
    const key = toHex(r.id);
    const entry = this.inflight.get(key);
    if (entry === undefined) return;
    this.inflight.delete(key);
    const conn = entry.peer === null ? undefined : this.peers.get(entry.peer);
    if (conn !== undefined) {
      conn.pendingValidation = Math.max(0, conn.pendingValidation - 1);
      if (conn.needRoom && conn.pendingValidation + conn.wants.size <= this.wantCapacity() / 2) {
        conn.needRoom = false; // the queue drained: fetch what was dropped or left unasked
        if (conn.recon === null && conn.phase === 'ready') this.startReconcile(conn);
        else conn.reconcileDueMs = this.now;
      }
    }
    switch (r.outcome) {
      case 'accepted':
        if (entry.peer !== null) this.remember(key, entry.peer);
        if (conn !== undefined) conn.stats.eventsAccepted++;
        if (
          entry.withdrawn !== true &&
          this.deps.index.insert(
            {
              timestamp: entry.createdAt,
              id: r.id,
              expiresAt: entry.expiresAt,
              kind: 'accepted',
            },
            key,
          )
        ) {
          this.partials.forget(r.id);
          this.gossip(r.id, entry.event, entry.peer, key);
        }
        return;
      case 'conflict':
        // The author signed two events with one nonce; both are kept, so that every node
        // reconciles to the same set of decided ids whichever it accepted first (§6.3).
        if (
          entry.withdrawn !== true &&
          this.deps.index.insert({
            timestamp: entry.createdAt,
            id: r.id,
            expiresAt: entry.expiresAt,
            kind: 'conflict',
          })
        ) {
          this.gossip(r.id, entry.event, entry.peer);
          if (!this.equivocators.has(entry.author)) {
            this.equivocators.add(entry.author);
            this.actions.push({
              type: 'audit',
              record: { kind: 'author-equivocation', id: key, from: entry.peer },
            });
          }
        }
        return;
      case 'duplicate':
      case 'held':
        // held: valid so far, waiting for a key event it needs; the node announces it with
        // `localAccepted` once it joins
        return;
      case 'rejected': {
        const reason = r.reason ?? 'ERR_UNKNOWN';
        if (INVALID_REASONS.has(reason)) {
          this.rejected.add(toHex(this.deps.sha256(entry.event)));
          if (this.rejected.size > this.config.rejectedIdsRemembered) {
            const oldest = this.rejected.values().next();
            if (!oldest.done) this.rejected.delete(oldest.value);
          }
          if (conn !== undefined) this.offend(conn, 'invalid-event', `${key}: ${reason}`);
        } else if (reason === Reason.UNTRUSTED_AUTHOR && conn !== undefined) {
          this.offend(conn, 'untrusted', key);
        }
        return;
      }
    }
  }

  private partial(conn: PeerConn | null, event: Uint8Array): void {
    const verdict = checkPartial(this.deps.partials, event, Math.floor(this.now / 1000));
    if (!verdict.ok) {
      if (conn !== null && INVALID_REASONS.has(verdict.reason))
        this.offend(conn, 'invalid-event', `partial: ${verdict.reason}`);
      return;
    }
    if (this.deps.index.has(verdict.id) || this.inflight.has(toHex(verdict.id))) return;
    if (verdict.complete) {
      this.validateLocal(verdict.id, event, conn, verdict.event);
      return;
    }
    const merged = this.partials.add(verdict);
    if (merged === null) return;
    if (merged.complete) {
      this.validateLocal(verdict.id, merged.bytes, conn, verdict.event);
      return;
    }
    if (!merged.grew) return;
    for (const peer of this.readyPeers())
      if (peer !== conn) this.send(peer, { type: 'partial', event: merged.bytes }, false);
  }

  private validateLocal(
    id: Uint8Array,
    event: Uint8Array,
    conn: PeerConn | null,
    about: { readonly createdAt: number; readonly expiresAt: number; readonly author: string },
  ): void {
    const key = toHex(id);
    if (this.inflight.has(key)) return;
    if (conn !== null) conn.pendingValidation++;
    const { createdAt, expiresAt, author } = about;
    this.inflight.set(key, {
      kind: 'event',
      peer: conn?.id ?? null,
      event,
      expiresAt,
      createdAt,
      author,
    });
    this.actions.push({ type: 'validate', kind: 'event', peer: conn?.id ?? null, id, event });
  }

  private serveWants(conn: PeerConn, ids: readonly Uint8Array[]): void {
    for (const id of ids) {
      if (conn.outbox.bytes + conn.pushBytes > this.config.outboxHighWaterBytes) {
        this.offend(conn, 'flood', 'asked for more than it reads');
        return;
      }
      // Asked for explicitly (it may have dropped our push): sent even if sent recently.
      if (!this.deps.index.has(id)) continue;
      const event = this.deps.events.get(id);
      if (event === undefined) continue;
      this.queuePush(conn, id, event);
    }
  }

  private holdsOrAwaits(id: Uint8Array): boolean {
    const key = toHex(id);
    if (this.deps.index.has(id) || this.inflight.has(key)) return true;
    for (const c of this.peers.values()) if (c.wants.has(key)) return true;
    return false;
  }

  /** Events asked of one peer and waiting for validation, at most: what its queue can take. */
  private wantCapacity(): number {
    return Math.min(this.config.maxOutstandingWants, this.config.maxPendingValidation);
  }

  private want(conn: PeerConn, ids: readonly Uint8Array[]): void {
    // never ask for more than the validation queue can take: the excess would be dropped
    const room = this.wantCapacity() - conn.wants.size - conn.pendingValidation;
    const asked = ids.slice(0, Math.max(0, room));
    for (const id of asked) {
      const key = toHex(id);
      conn.wants.set(key, this.now);
      conn.asked.add(key);
    }
    for (let i = 0; i < asked.length; i += WIRE_LIMITS.maxIdsPerMessage) {
      this.send(
        conn,
        { type: 'want', ids: asked.slice(i, i + WIRE_LIMITS.maxIdsPerMessage) },
        false,
      );
    }
    if (asked.length < ids.length) conn.needRoom = true; // the rest once the queue drained
  }

  // -------------------------------------------------------------------------------------------
  // Reconciliation

  private startReconcile(conn: PeerConn): void {
    if (conn.recon !== null || conn.phase !== 'ready') return;
    const initiator = new Initiator(this.deps.index, this.config.reconcile);
    const resume = this.resumeRanges.get(conn.id);
    this.resumeRanges.delete(conn.id);
    const payload =
      resume !== undefined && resume.length > 0 ? initiator.resume(resume) : initiator.start();
    const session = conn.nextSession++;
    conn.recon = {
      session,
      round: 0,
      initiator,
      sentMs: this.now,
      startedMs: this.now,
      have: 0,
      need: 0,
    };
    conn.reconcileDueMs = this.now + this.config.reconcileIntervalMs;
    this.send(conn, { type: 'reconcile', session, round: 0, payload }, true);
  }

  private reconcileReply(
    conn: PeerConn,
    session: number,
    round: number,
    payload: Uint8Array,
  ): void {
    const r = conn.recon;
    if (r === null || r.session !== session || r.round !== round) return; // stale, duplicated or reordered
    const result = r.initiator.receive(payload);
    for (const id of result.have) {
      if (this.recentlySent(conn, id)) continue; // in flight already
      const event = this.deps.events.get(id);
      if (event !== undefined) this.queuePush(conn, id, event);
    }
    for (const id of result.need) conn.markKnown(id);
    this.want(
      conn,
      result.need.filter((id) => !this.holdsOrAwaits(id)),
    );
    r.have += result.have.length;
    r.need += result.need.length;
    if (result.next === null) {
      conn.recon = null;
      conn.stats.reconciliations++;
      conn.stats.lastReconcileMs = this.now;
      conn.stats.lastDiff = { have: r.have, need: r.need };
      conn.reconcileDueMs = this.now + this.config.reconcileIntervalMs;
      return;
    }
    r.round++;
    r.sentMs = this.now;
    this.send(conn, { type: 'reconcile', session, round: r.round, payload: result.next }, true);
  }

  // -------------------------------------------------------------------------------------------
  // Gossip

  /** Whether the event went to this peer so recently that it is probably still on its way. */
  private recentlySent(conn: PeerConn, id: Uint8Array): boolean {
    const at = conn.sentAt.get(toHex(id));
    return at !== undefined && this.now - at < this.config.reconcileTimeoutMs;
  }

  private gossip(id: Uint8Array, event: Uint8Array, from: PeerId | null, key = toHex(id)): void {
    for (const conn of this.readyPeers()) {
      if (conn.id === from || conn.known.has(key)) continue;
      if (conn.outbox.bytes + conn.pushBytes > this.config.outboxHighWaterBytes) {
        // backpressure: the peer reads slowly; it will get this through reconciliation
        conn.reconcileDueMs = Math.min(
          conn.reconcileDueMs,
          this.now + this.config.reconcileIntervalMs,
        );
        continue;
      }
      if (event.length > this.config.eagerPushMaxBytes) {
        // a large event is announced, and pulled once from whichever peer announced it first
        conn.known.add(key);
        conn.haveQueue.push(id);
        continue;
      }
      this.queuePush(conn, id, event, key);
    }
  }

  private queuePush(conn: PeerConn, id: Uint8Array, event: Uint8Array, key = toHex(id)): void {
    conn.known.add(key);
    conn.sentAt.set(key, this.now);
    if (conn.sentAt.size > this.config.knownIdsPerPeer) {
      const oldest = conn.sentAt.keys().next();
      if (!oldest.done) conn.sentAt.delete(oldest.value);
    }
    if (
      conn.pushBytes + event.length > MAX_EVENTS_MESSAGE_BYTES ||
      conn.pushQueue.length >= WIRE_LIMITS.maxEventsPerMessage
    ) {
      this.flushPushes(conn);
    }
    conn.pushQueue.push(event);
    conn.pushBytes += event.length;
  }

  private flushPushes(conn: PeerConn): void {
    if (conn.haveQueue.length > 0) {
      const ids = conn.haveQueue;
      conn.haveQueue = [];
      for (let i = 0; i < ids.length; i += WIRE_LIMITS.maxIdsPerMessage) {
        this.send(
          conn,
          { type: 'have', ids: ids.slice(i, i + WIRE_LIMITS.maxIdsPerMessage) },
          false,
        );
      }
    }
    if (conn.pushQueue.length === 0) return;
    const events = conn.pushQueue;
    conn.pushQueue = [];
    conn.pushBytes = 0;
    this.send(conn, { type: 'events', events }, false);
  }

  // -------------------------------------------------------------------------------------------
  // Scores, closing, sending

  private scoreOf(peer: PeerId): PeerScore {
    let s = this.scores.get(peer);
    if (s === undefined) {
      s = new PeerScore(this.config.score, this.now);
      this.scores.set(peer, s);
    }
    return s;
  }

  private offend(conn: PeerConn, offence: Offence, sample: string, times = 1): void {
    const score = this.scoreOf(conn.id);
    if (score.penalize(offence, this.now, sample, times) && conn.phase !== 'closing') {
      const summary = score.summary(this.now);
      this.actions.push({
        type: 'audit',
        record: {
          kind: 'peer-banned',
          peer: conn.id,
          untilMs: score.bannedUntilMs(),
          score: summary.score,
          offences: summary.offences,
        },
      });
      this.close(
        conn,
        offence === 'equivocation' ? NetCode.SPLIT_VIEW : NetCode.PEER_SCORE,
        `score ${summary.score} after ${offence}`,
      );
    }
  }

  private protocolViolation(conn: PeerConn, code: string, detail: string): void {
    this.offend(conn, 'protocol', `${code}: ${detail}`);
    if (conn.phase !== 'closing') this.close(conn, code as NetErrorCode, detail);
    this.pump(conn);
  }

  private refuse(peer: PeerId, code: NetErrorCode, detail: string): false {
    this.actions.push({
      type: 'send',
      peer,
      message: encodeMessage({ type: 'goodbye', code, detail }),
    });
    this.actions.push({ type: 'close', peer, code, detail });
    return false;
  }

  private close(conn: PeerConn, code: NetErrorCode, detail: string): void {
    this.pump(conn);
    // The GOODBYE goes out whatever the send window says: the connection ends after it.
    const goodbye = encodeMessage({
      type: 'goodbye',
      code,
      detail: detail.slice(0, WIRE_LIMITS.maxDetailBytes),
    });
    conn.stats.bytesOut += goodbye.length;
    this.actions.push({ type: 'send', peer: conn.id, message: goodbye });
    conn.phase = 'closing';
    this.actions.push({ type: 'close', peer: conn.id, code, detail });
  }

  private send(conn: PeerConn, message: Message, control: boolean): void {
    if (conn.phase === 'closing') return;
    if (message.type !== 'events' && message.type !== 'have') this.flushPushes(conn); // keep pushes in order with what follows
    const bytes = encodeMessage(message);
    conn.outbox.push(bytes, control);
    if (conn.outbox.bytes > this.config.outboxLimitBytes) {
      // the peer does not read: drop what it would never read and say why
      conn.outbox.clear();
      conn.pushQueue = [];
      conn.pushBytes = 0;
      this.close(conn, NetCode.SLOW_PEER, `more than ${this.config.outboxLimitBytes} bytes queued`);
    }
  }

  private pump(conn: PeerConn): void {
    this.flushPushes(conn);
    for (const message of conn.outbox.take(this.config.sendWindowBytes)) {
      conn.stats.bytesOut += message.length;
      this.actions.push({ type: 'send', peer: conn.id, message });
    }
  }

  private pumpAll(): void {
    for (const conn of this.peers.values()) this.pump(conn);
  }

  private readyPeers(): PeerConn[] {
    return [...this.peers.values()].filter((c) => c.phase === 'ready');
  }

  private remember(key: string, peer: PeerId): void {
    this.provenance.set(key, peer);
    if (this.provenance.size > this.config.knownIdsPerPeer) {
      const oldest = this.provenance.keys().next();
      if (!oldest.done) this.provenance.delete(oldest.value);
    }
  }
}
