/**
 * The knobs of the sync engine, with the defaults spec/SYNC.md §8 names. Every bound a peer can
 * push against is here: queues, rates, time limits, score thresholds.
 */
import { DEFAULT_RECONCILE_PARAMS, type ReconcileParams } from '../reconcile/reconciler.js';

export interface EngineConfig {
  /** A connection that sends no HELLO within this time is closed (ERR_HELLO_TIMEOUT). */
  readonly helloTimeoutMs: number;
  /** Largest difference between the peer's clock (HELLO) and ours before we refuse it. */
  readonly maxClockSkewMs: number;
  /** A reconciliation runs on connect, then this long after the previous one finished. */
  readonly reconcileIntervalMs: number;
  /** A round without a reply for this long is abandoned; its open ranges resume later. */
  readonly reconcileTimeoutMs: number;
  readonly reconcile: ReconcileParams;
  /** Events from one peer waiting for validation; beyond this, pushes are dropped (reconciliation fetches them later). */
  readonly maxPendingValidation: number;
  /** Ids asked of one peer (WANT) and not yet received. */
  readonly maxOutstandingWants: number;
  /** Bytes handed to the transport and not yet flushed, per peer (the send window). */
  readonly sendWindowBytes: number;
  /** Queued bytes above which gossip to a peer stops (it catches up by reconciliation). */
  readonly outboxHighWaterBytes: number;
  /** Queued bytes at which a peer that does not read is disconnected (ERR_SLOW_PEER). */
  readonly outboxLimitBytes: number;
  /** Events a peer may push per second, and the burst. */
  readonly eventRatePerSecond: number;
  readonly eventBurst: number;
  /** Messages of any kind a peer may send per second, and the burst. */
  readonly messageRatePerSecond: number;
  readonly messageBurst: number;
  /** RECONCILE queries a peer may send per second, and the burst (each costs a pass over our index). */
  readonly reconcileRatePerSecond: number;
  readonly reconcileBurst: number;
  /** Events up to this size are pushed whole; larger ones are announced (HAVE) and pulled (WANT) once. */
  readonly eagerPushMaxBytes: number;
  /** Ids remembered per peer as known to it (so they are not pushed again). */
  readonly knownIdsPerPeer: number;
  /** Ids of events rejected for what they are (not for time or trust), not validated again. */
  readonly rejectedIdsRemembered: number;
  /** Partially signed events held while they gather signatures. */
  readonly maxPartials: number;
  /** Consistency proofs asked and not answered within this time are asked again later. */
  readonly proofTimeoutMs: number;
  /** An event delivered this long after its expiry counts as stale (a small penalty). */
  readonly staleGraceMs: number;
  readonly score: ScoreConfig;
}

export interface ScoreConfig {
  /** Below this a peer is rate-limited: its event and message rates are divided by `graylistDivisor`. */
  readonly graylist: number;
  readonly graylistDivisor: number;
  /** At or below this a peer is disconnected (ERR_PEER_SCORE) and banned. */
  readonly disconnect: number;
  readonly banMs: number;
  /** Points per second a negative score recovers toward zero. */
  readonly recoveryPerSecond: number;
  readonly penalties: Readonly<Record<Offence, number>>;
}

/** What lowers a peer's score (spec/SYNC.md §8). */
export type Offence =
  /** An event or partial that breaks a rule that depends only on its bytes (a bad signature, a broken policy, malformed). */
  | 'invalid-event'
  /** A message that does not decode, or is not allowed in the connection's state. */
  | 'protocol'
  /** The same event id sent again on the same connection. */
  | 'replay'
  /** More messages or events than the rate allows. */
  | 'flood'
  /** An event that expired well before it was sent. */
  | 'stale'
  /** An event by an author this node does not trust. */
  | 'untrusted'
  /** A checkpoint whose signature does not verify. */
  | 'invalid-checkpoint'
  /** A consistency proof asked of the peer about its own log, not answered in time. */
  | 'proof-timeout'
  /** Two signed checkpoints that cannot both be true (a split view). */
  | 'equivocation';

export const DEFAULT_ENGINE_CONFIG: EngineConfig = Object.freeze({
  helloTimeoutMs: 10_000,
  maxClockSkewMs: 5 * 60_000,
  reconcileIntervalMs: 30_000,
  reconcileTimeoutMs: 15_000,
  reconcile: DEFAULT_RECONCILE_PARAMS,
  maxPendingValidation: 2048,
  maxOutstandingWants: 8192,
  sendWindowBytes: 2 * 1024 * 1024,
  outboxHighWaterBytes: 4 * 1024 * 1024,
  outboxLimitBytes: 16 * 1024 * 1024,
  eventRatePerSecond: 5000,
  eventBurst: 10_000,
  messageRatePerSecond: 1000,
  messageBurst: 4000,
  reconcileRatePerSecond: 20,
  reconcileBurst: 100,
  eagerPushMaxBytes: 8 * 1024,
  knownIdsPerPeer: 65_536,
  rejectedIdsRemembered: 65_536,
  maxPartials: 1024,
  proofTimeoutMs: 20_000,
  staleGraceMs: 60_000,
  score: Object.freeze({
    graylist: -100,
    graylistDivisor: 10,
    disconnect: -1000,
    banMs: 10 * 60_000,
    recoveryPerSecond: 5,
    penalties: Object.freeze({
      'invalid-event': 100,
      protocol: 400,
      replay: 5,
      flood: 2,
      stale: 5,
      untrusted: 1,
      'invalid-checkpoint': 200,
      'proof-timeout': 50,
      equivocation: Number.POSITIVE_INFINITY,
    }),
  }),
});

export function engineConfig(over: Partial<EngineConfig> = {}): EngineConfig {
  return { ...DEFAULT_ENGINE_CONFIG, ...over };
}
