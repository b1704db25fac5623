/**
 * What the HTTP API and the CLI need from a running node. `src/node.ts` implements it; the API
 * server and tests depend only on this interface.
 */

import type { Checkpoint } from './audit/checkpoint.js';
import type { ProposalStatusJson } from './governance/proposal-json.js';
import type { GovernanceViewJson } from './governance/state.js';
import type { TrustExplanationJson } from './governance/trust.js';
import type { IdentityStateJson } from './identity/chain.js';
import type { KeyEventJson } from './identity/key-event-json.js';
import type { EventTextBatch } from './protocol/json-batch.js';
import type { TimeRules, TrustPolicy } from './protocol/rules.js';
import type { SyncRow } from './storage/sync-records.js';

export type { EventTextBatch };

/** The verdict on one submitted event. */
export type IngestResult =
  | { readonly status: 'accepted'; readonly id: string }
  | { readonly status: 'duplicate'; readonly id: string }
  | {
      readonly status: 'rejected';
      readonly id?: string;
      readonly reason: string;
      readonly detail: string;
    };

/** A signed Merkle checkpoint of the audit log (JSON form; spec/AUDIT.md §5 and §7). */
export interface CheckpointJson {
  /** 2 for checkpoints that sign their number and the previous checkpoint's hash. */
  readonly version?: number;
  /** The checkpoint's number (1, 2, 3...). */
  readonly seq?: number;
  readonly tree_size: number;
  readonly root: string;
  readonly time: number;
  readonly node: string;
  /** Version 2: the hash of the previous checkpoint (hex; zeros for the first). */
  readonly prev?: string;
  readonly signature: string;
}

/** Proof that an event's audit entry is in the log at a checkpoint (spec/AUDIT.md §7). */
export interface AuditProofJson {
  readonly event_id: string;
  readonly leaf_index: number;
  readonly tree_size: number;
  /** The entry's canonical encoding (hex): the leaf hash is SHA-256(0x00 || leaf). */
  readonly leaf?: string;
  readonly leaf_hash: string;
  readonly path: readonly string[];
  readonly checkpoint: CheckpointJson;
}

/** The event's entry is not covered by a checkpoint yet, and one may not be signed this soon. */
export interface AuditProofPending {
  readonly pending: true;
  readonly event_id: string;
  readonly leaf_index: number;
  /** When to ask again. */
  readonly retry_after_ms: number;
  readonly checkpoint?: CheckpointJson;
}

/** RFC 6962 consistency proof between two sizes of the audit log. */
export interface ConsistencyProofJson {
  readonly from: number;
  readonly to: number;
  readonly proof: readonly string[];
}

export interface HealthJson {
  readonly status: 'ok' | 'degraded';
  readonly did: string;
  readonly events: number;
  readonly audit_size: number;
  readonly uptime_s: number;
  readonly backend: string;
  /**
   * Whose authors the node accepts: `open` (anyone), `allowlist` (--trusted) or `governed` (the
   * trust policy of the trust root in force, spec/GOVERNANCE.md §8), with that root's id.
   */
  readonly trust?: {
    readonly mode: 'open' | 'allowlist' | 'governed';
    readonly root?: string;
    /** Governed: `forked` (governance frozen) or `expired` (the root in force expired). */
    readonly alerts?: readonly string[];
  };
}

/** One peer as `commons-sync peers` shows it. */
export interface PeerJson {
  readonly did: string | null;
  readonly address: string | null;
  /** `ready`, `awaiting-hello`, `closing`; `dialing` (not connected), `banned`, `disconnected`. */
  readonly state: string;
  readonly score: number;
  readonly score_state: string;
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly messages_in: number;
  readonly events_in: number;
  readonly events_accepted: number;
  readonly reconciliations: number;
  /** What the last reconciliation found: ids we held that it lacked, and the reverse. */
  readonly lag: { readonly have: number; readonly need: number } | null;
  readonly last_reconcile_ms: number | null;
  readonly queued_bytes: number;
  readonly pending_validation: number;
  readonly outstanding_wants: number;
  readonly last_close: {
    readonly code: string;
    readonly detail: string;
    readonly at: number;
  } | null;
}

export interface PeersJson {
  readonly node: string;
  /** host:port of the sync listener. */
  readonly listen: string;
  readonly sync_set: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly split_views: number;
  /** Peers seen restarting their audit log (a lost data directory; evidence in the audit log). */
  readonly log_restarts: number;
  readonly peers: readonly PeerJson[];
}

export interface NodeService {
  /** The node's identity, a did:key. */
  readonly did: string;
  /**
   * Validates and stores events given as the bytes of their JSON texts, exactly as received
   * (spec/PROTOCOL.md §3.4, §3.5): never values parsed elsewhere. Resolves once every accepted
   * event is durably committed; the i-th result is the verdict on the i-th text. In-process
   * callers holding JS values use `batchOfValues`. Rejects with an error whose `code` is
   * `ERR_OVERLOADED` when the node is saturated (the API answers 429/503), or
   * `ERR_SHUTTING_DOWN` while it stops.
   */
  ingest(batch: EventTextBatch): Promise<IngestResult[]>;
  /**
   * The stored event in its JSON form, or undefined. Throws {@link InvalidatedEventError} for
   * an event a key event invalidated (kept as evidence; the API answers 410).
   */
  getEvent(idHex: string): unknown;
  /**
   * Resolves once everything the service stored so far is durable (a commit's sync runs after
   * it, off the main thread): reads that show stored state wait for it, so that nothing a power
   * loss could take back is shown. Absent: every write is durable when it returns.
   */
  settled?(): Promise<void>;
  /**
   * The latest checkpoint (one is made first if none covers the current log). May answer
   * asynchronously: the node key may sign through an HSM or a KMS.
   */
  checkpoint(): CheckpointJson | Promise<CheckpointJson>;
  /**
   * An inclusion proof for the accept entry of the event, or undefined if unknown; pending
   * when no checkpoint covers the entry yet and none may be signed this soon.
   */
  auditProof(
    idHex: string,
  ):
    | AuditProofJson
    | AuditProofPending
    | undefined
    | Promise<AuditProofJson | AuditProofPending | undefined>;
  /**
   * A consistency proof from the log's first `from` entries to its first `to`. Throws an
   * error with code `ERR_BAD_RANGE` unless 0 ≤ from ≤ to ≤ the log's size.
   */
  consistencyProof?(from: number, to: number): ConsistencyProofJson;
  health(): HealthJson;
  /** Identities and their key events (absent: this service knows none). */
  readonly identities?: IdentityService;
  /** Trust roots, critical actions and the web of trust (absent: this service has none). */
  readonly governance?: GovernanceService;
  /** Prometheus text exposition format (version 0.0.4). */
  metrics(): string;
  /** The node's peers (`GET /v1/peers`); absent when the node runs without its network part. */
  peers?(): PeersJson;
  /** Stops taking work, finishes what was acknowledged, closes storage. */
  close(): Promise<void>;
}

/** The verdict on one submitted key event (spec/IDENTITY.md §6). */
export type KeyEventResult =
  | {
      readonly status: 'accepted';
      readonly id: string;
      readonly identity: string;
      /** Ids that joined: this key event, then escrowed ones it released. */
      readonly attached: readonly string[];
      /** What judging stored and held events again did (spec/IDENTITY.md §8). */
      readonly reevaluated: {
        readonly invalidated: number;
        readonly revalidated: number;
        readonly accepted: number;
      };
    }
  | {
      readonly status: 'escrowed';
      readonly id: string;
      readonly identity: string;
      /** The key event (hex id) or the identity it waits for. */
      readonly waiting_for: string;
    }
  | { readonly status: 'duplicate'; readonly id: string; readonly identity: string }
  | {
      readonly status: 'rejected';
      readonly id?: string;
      readonly reason: string;
      readonly detail: string;
    };

/** An identity as a node resolved it (spec/IDENTITY.md §7.3), with what it holds of it. */
export interface IdentityJson {
  readonly state: IdentityStateJson;
  /** Key events attached to its log. */
  readonly key_events: number;
  /** Stored events it authored, and how many of them a key event invalidated. */
  readonly events: { readonly stored: number; readonly invalidated: number };
}

/**
 * What a node offers about identities (spec/IDENTITY.md); the HTTP API serves it and peers
 * sync key events through it.
 */
export interface IdentityService {
  /**
   * Validates key events given as the bytes of their JSON texts (as `ingest` takes events),
   * attaches what passes, stores it, and judges the events it affects again before resolving.
   */
  ingestKeyEvents(batch: EventTextBatch): Promise<KeyEventResult[]>;
  /** The same for key events in their canonical CBOR (what peers exchange). */
  ingestKeyEventsCbor(items: readonly Uint8Array[]): Promise<KeyEventResult[]>;
  /** The resolved identity, or undefined when no inception of it is held. */
  identity(did: string): IdentityJson | undefined;
  /**
   * The attached key events of an identity, each after the event it refers to (what a peer
   * needs to resolve it): the stored copy's canonical CBOR and its JSON form. Undefined when no
   * inception of it is held.
   */
  keyEventLog(
    did: string,
  ): readonly { readonly cbor: Uint8Array; readonly json: KeyEventJson }[] | undefined;
}

/** The verdict on one submitted governance record (spec/GOVERNANCE.md §7). */
export type GovernanceResult =
  | {
      readonly status: 'accepted';
      readonly id: string;
      readonly type: string;
      /** Where it stands now: `in-force`, `applied`, `valid`, `waiting`, `refused`... */
      readonly standing: string;
      /** Why it does not count (yet), when it does not. */
      readonly reason?: string;
      readonly detail?: string;
    }
  | { readonly status: 'duplicate'; readonly id: string }
  | {
      readonly status: 'rejected';
      readonly id?: string;
      readonly reason: string;
      readonly detail: string;
    };

/** The node's governance: open mode, or the state of its trust root (§6.6). */
export type GovernanceStateJson =
  | { readonly mode: 'open' }
  | ({ readonly mode: 'governed' } & GovernanceViewJson);

/**
 * What a node offers about governance (spec/GOVERNANCE.md): records in, the governed state,
 * trust explanations and how far a draft is from its quorum.
 */
export interface GovernanceService {
  readonly mode: 'open' | 'governed';
  /**
   * Judges one record given as the bytes of its JSON text (§5.3), holds and stores it if it
   * passes, with its audit entries. Throws {@link GovernanceRateError} past the node's rate.
   */
  submit(bytes: Uint8Array): Promise<GovernanceResult>;
  state(): GovernanceStateJson;
  /** Why `did` is or is not trusted for `scope` at signed time `at` (§8.5). */
  explain(did: string, scope: string, at: number): TrustExplanationJson;
  /** How many signatures a draft root or action still needs against the root in force. */
  proposalStatus(bytes: Uint8Array): ProposalStatusJson | GovernanceResult;
  /** The held copies of the record with this id (JSON form, §5.3), or undefined when none is held. */
  record(idHex: string): readonly unknown[] | undefined;
}

/** The verdict on one event a peer sent: an ingest verdict, or kept as conflict evidence. */
export type PeerIngestResult = IngestResult | { readonly status: 'conflict'; readonly id: string };

/** One event for {@link SyncService.ingestFromPeers}: canonical CBOR exactly as received. */
export interface PeerEventItem {
  readonly event: Uint8Array;
  /** did:key of the peer that sent it, or null for an event merged locally (a partial). */
  readonly peer: string | null;
}

/**
 * What the network part (`net/`) needs of a node (spec/SYNC.md §12). `src/node.ts` implements
 * it; `net/node-network.ts` runs the sync engine over it.
 */
export interface SyncService {
  readonly did: string;
  /**
   * Signs with the node's identity key, through its keystore (an HSM works). The network uses
   * it for one thing: the TLS certificate binding, a fixed domain-separated message.
   */
  readonly identity: {
    readonly publicKey: Uint8Array;
    sign(message: Uint8Array): Promise<Uint8Array>;
  };
  /** The node's trust and time rules (partial events are checked against them). */
  readonly trust: TrustPolicy;
  readonly timeRules: TimeRules;
  /** The node's clock, Unix milliseconds. */
  now(): number;
  /**
   * The sync set: accepted events and conflict evidence that expire after `nowSeconds`, and
   * every attached key event (they never expire).
   */
  syncRows(nowSeconds: number): Iterable<SyncRow>;
  /** The exact stored bytes of an accepted event, of conflict evidence or of a key event. */
  storedEvent(id: Uint8Array): Uint8Array | undefined;
  /** The peer that delivered a stored event (undefined: a client's, or unknown). */
  eventSource(id: Uint8Array): string | undefined;
  /**
   * Validates events from peers on exactly their bytes, stores what is valid with its
   * provenance and keeps conflict evidence; resolves once all of it is durable. Rejects like
   * `ingest` when overloaded or stopping.
   */
  ingestFromPeers(items: readonly PeerEventItem[]): Promise<PeerIngestResult[]>;
  /**
   * Validates key events from peers, in their canonical CBOR exactly as received, through the
   * node's identity path (the same as `IdentityService.ingestKeyEventsCbor`): what joins is
   * stored, and the events it affects are judged again, before this resolves.
   */
  ingestKeyEventsFromPeers(items: readonly Uint8Array[]): Promise<KeyEventResult[]>;
  /**
   * Judges governance records from peers, in their canonical CBOR exactly as received, through
   * the path of `GovernanceService.submit` (same rules, same rate; spec/SYNC.md §6.6): what
   * joins is stored, and stored and held events are judged again, before this resolves.
   */
  ingestGovernanceFromPeers(items: readonly Uint8Array[]): Promise<GovernanceResult[]>;
  /** The latest signed checkpoint of the audit log. */
  latestCheckpoint(): Checkpoint | undefined;
  /** RFC 6962 PROOF(from, to) of the audit log, or null unless 0 ≤ from ≤ to ≤ its size. */
  consistencyHashes(from: number, to: number): Uint8Array[] | null;
  /** Writes a critical entry to the audit log (a ban, a split view, an equivocating author). */
  recordNetworkEvent(reason: string, detail: Readonly<Record<string, unknown>>): void;
  /**
   * Calls `listener`, once durable, with the bytes of what joined the sync set otherwise than by
   * a verdict on a peer's event: each commit of clients' events, each commit of key events that
   * joined (from a client or a peer, escrowed ones they released included), and each page of
   * held events that a key event made valid (spec/SYNC.md §6.5).
   */
  onLocallyAccepted(listener: (encoded: readonly Uint8Array[]) => void): () => void;
  /**
   * Calls `listener` with the ids of stored events that leave the sync set unexpired: each page
   * of events a key event invalidated (spec/IDENTITY.md §8). Should a later key event make one
   * valid again, it comes back through `onLocallyAccepted`.
   */
  onLocallyWithdrawn(listener: (ids: readonly Uint8Array[]) => void): () => void;
  /** Calls `listener` with each checkpoint the node signs. */
  onCheckpoint(listener: (checkpoint: Checkpoint) => void): () => void;
}
