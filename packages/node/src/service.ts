/**
 * What the HTTP API and the CLI need from a running node. `src/node.ts` implements it; the API
 * server and tests depend only on this interface.
 */
import type { ProposalStatusJson } from './governance/proposal-json.js';
import type { GovernanceViewJson } from './governance/state.js';
import type { TrustExplanationJson } from './governance/trust.js';
import type { IdentityStateJson } from './identity/chain.js';
import type { KeyEventJson } from './identity/key-event-json.js';
import type { EventTextBatch } from './protocol/json-batch.js';

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
  readonly trust?: { readonly mode: 'open' | 'allowlist' | 'governed'; readonly root?: string };
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
}
