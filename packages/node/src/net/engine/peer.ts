/**
 * One connection's state inside the engine: handshake, flow control, what the peer is known to
 * hold, what we asked of it, its reconciliation round. Only the engine touches it.
 */
import { toHex } from '../../protocol/bytes.js';
import type { Initiator } from '../reconcile/reconciler.js';
import type { Message } from '../wire/messages.js';
import type { EngineConfig } from './config.js';
import { BoundedSet, TokenBucket } from './scoring.js';

/** A peer is its did:key, as its TLS certificate proved. */
export type PeerId = string;

export type PeerPhase = 'awaiting-hello' | 'ready' | 'closing';

export interface ReconcileRound {
  readonly session: number;
  round: number;
  readonly initiator: Initiator;
  sentMs: number;
  readonly startedMs: number;
  /** Differences found so far in this reconciliation. */
  have: number;
  need: number;
}

export interface PeerStats {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  eventsIn: number;
  eventsAccepted: number;
  reconciliations: number;
  /** What the last finished reconciliation found: ids we had that it lacked, and the reverse. */
  lastDiff: { have: number; need: number } | null;
  lastReconcileMs: number | null;
}

/** Messages waiting for the send window, control first (a GOODBYE or a reply must not wait behind bulk). */
export class Outbox {
  private readonly control: Uint8Array[] = [];
  private readonly bulk: Uint8Array[] = [];
  bytes = 0;
  inflight = 0;

  push(message: Uint8Array, control: boolean): void {
    (control ? this.control : this.bulk).push(message);
    this.bytes += message.length;
  }

  /** Messages that fit the window now. */
  take(window: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const q of [this.control, this.bulk]) {
      while (
        q.length > 0 &&
        (this.inflight === 0 || this.inflight + (q[0] as Uint8Array).length <= window)
      ) {
        const m = q.shift() as Uint8Array;
        this.bytes -= m.length;
        this.inflight += m.length;
        out.push(m);
      }
    }
    return out;
  }

  /** Drops everything queued (a peer that does not read is being cut). */
  clear(): void {
    this.control.length = 0;
    this.bulk.length = 0;
    this.bytes = 0;
  }

  flushed(n: number): void {
    this.inflight = Math.max(0, this.inflight - n);
  }
}

export class PeerConn {
  phase: PeerPhase = 'awaiting-hello';
  version = 0;
  /** Messages dropped unread because they came before the HELLO. */
  earlyMessages = 0;
  /** The HELLO received (a repeat of it is harmless; another one is not). */
  helloSeen: (Message & { type: 'hello' }) | null = null;
  readonly outbox = new Outbox();
  /** Ids the peer holds or was sent, with when we sent them (0: it sent them or said it has them). */
  readonly known: BoundedSet;
  readonly sentAt = new Map<string, number>();
  /** Ids the peer sent on this connection (a second send is a replay). */
  readonly received: BoundedSet;
  /** Ids asked of the peer (WANT) on this connection: a second copy of one is no replay. */
  readonly asked: BoundedSet;
  pendingValidation = 0;
  /**
   * Events from this peer were dropped (its validation queue was full) or ids left unasked (no
   * room for more WANTs): reconcile again as soon as the queue has drained to half.
   */
  needRoom = false;
  /** Ids asked with WANT and not received, with when they were asked. */
  readonly wants = new Map<string, number>();
  /** Events to push, sent as one EVENTS message per drain. */
  pushQueue: Uint8Array[] = [];
  pushBytes = 0;
  /** Ids to announce (large events), sent as one HAVE message per drain. */
  haveQueue: Uint8Array[] = [];
  recon: ReconcileRound | null = null;
  nextSession = 1;
  /** When the next reconciliation is due (0: as soon as the HELLO exchange is done). */
  reconcileDueMs = 0;
  readonly eventBucket: TokenBucket;
  readonly messageBucket: TokenBucket;
  readonly reconcileBucket: TokenBucket;
  /** Per node, the largest checkpoint size relayed to this peer. */
  readonly relayed = new Map<string, number>();
  readonly stats: PeerStats = {
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    eventsIn: 0,
    eventsAccepted: 0,
    reconciliations: 0,
    lastDiff: null,
    lastReconcileMs: null,
  };

  constructor(
    readonly id: PeerId,
    readonly connectedMs: number,
    config: EngineConfig,
  ) {
    this.known = new BoundedSet(config.knownIdsPerPeer);
    this.received = new BoundedSet(config.knownIdsPerPeer);
    this.asked = new BoundedSet(config.knownIdsPerPeer);
    this.eventBucket = new TokenBucket(config.eventRatePerSecond, config.eventBurst, connectedMs);
    this.messageBucket = new TokenBucket(
      config.messageRatePerSecond,
      config.messageBurst,
      connectedMs,
    );
    this.reconcileBucket = new TokenBucket(
      config.reconcileRatePerSecond,
      config.reconcileBurst,
      connectedMs,
    );
  }

  markKnown(id: Uint8Array): void {
    this.known.add(toHex(id));
  }
}
