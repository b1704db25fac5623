/** The contract between the sans-I/O sync engine and whatever runs it (a TLS node, the simulator). */

import type { WireCheckpoint } from '../wire/messages.js';
import type { RestartEvidence, SplitViewEvidence } from './checkpoints.js';
import type { PeerId, PeerPhase, PeerStats } from './peer.js';
import type { OffenceRecord, ScoreState } from './scoring.js';
import type { SyncItemKind } from './sync-items.js';

export type { PeerId } from './peer.js';

/**
 * Reads the canonical bytes of an item the node holds: an event (accepted, or kept as conflict
 * evidence) or an attached key event.
 */
export interface EventSource {
  get(id: Uint8Array): Uint8Array | undefined;
}

/** The node's own audit log, as far as peers need it (spec/SYNC.md §7). */
export interface OwnLog {
  /** The latest signed checkpoint, if any. */
  latest(): WireCheckpoint | null;
  /** RFC 6962 PROOF(from, to), or null when the log never had `to` entries. */
  consistencyProof(from: number, to: number): Uint8Array[] | null;
}

/** The outcome of validating (and, for `accepted`, durably storing) one event the engine handed out. */
export interface EventVerdict {
  readonly id: Uint8Array;
  /**
   * `accepted`: valid and durably stored. `duplicate`: already held. `conflict`: valid but
   * another event with its author and nonce was accepted first (ERR_REPLAY on an otherwise valid
   * event: the author equivocated; the node keeps it as evidence). `held`: valid so far but
   * waiting for something it refers to (a key event escrowed until its prior joins); the node
   * announces it with `localAccepted` once it joins. `rejected`: see `reason`.
   */
  readonly outcome: 'accepted' | 'duplicate' | 'conflict' | 'held' | 'rejected';
  readonly reason?: string;
}

/** What the engine asks of its shell. Drained with `SyncEngine.drain()`. */
export type EngineAction =
  /** Send one encoded message (frame it, write it; report `flushed` once it left). */
  | { readonly type: 'send'; readonly peer: PeerId; readonly message: Uint8Array }
  /** Validate exactly these bytes, store the item if valid, then report `verdicts`. `peer` null: local. */
  | {
      readonly type: 'validate';
      /** How the item decoded (sync-items.ts): which validation path it takes. */
      readonly kind: SyncItemKind;
      readonly peer: PeerId | null;
      readonly id: Uint8Array;
      readonly event: Uint8Array;
    }
  /** Close the connection once what was sent for it is flushed (a GOODBYE is already queued). */
  | {
      readonly type: 'close';
      readonly peer: PeerId;
      readonly code: string;
      readonly detail: string;
    }
  | { readonly type: 'alert'; readonly alert: NetAlert }
  /** Something for the audit log (bounded: one record per ban, per split view, per equivocating author). */
  | { readonly type: 'audit'; readonly record: NetAuditRecord };

export type NetAlert =
  | { readonly kind: 'split-view'; readonly evidence: SplitViewEvidence }
  /** A peer's audit log started over (its data was lost): not a ban, but evidence kept. */
  | { readonly kind: 'log-restart'; readonly evidence: RestartEvidence };

export type NetAuditRecord =
  | {
      readonly kind: 'peer-banned';
      readonly peer: PeerId;
      readonly untilMs: number;
      readonly score: number;
      readonly offences: Record<string, OffenceRecord>;
    }
  | { readonly kind: 'split-view'; readonly evidence: Record<string, unknown> }
  | { readonly kind: 'log-restart'; readonly evidence: Record<string, unknown> }
  | { readonly kind: 'author-equivocation'; readonly id: string; readonly from: PeerId | null };

export interface PeerView {
  readonly peer: PeerId;
  readonly phase: PeerPhase;
  readonly score: number;
  readonly scoreState: ScoreState;
  readonly stats: PeerStats;
  readonly queuedBytes: number;
  readonly pendingValidation: number;
  readonly outstandingWants: number;
}
