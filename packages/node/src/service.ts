/**
 * What the HTTP API and the CLI need from a running node. `src/node.ts` implements it; the API
 * server and tests depend only on this interface.
 */
import type { EventTextBatch } from './protocol/json-batch.js';

export type { EventTextBatch };

/** The verdict on one submitted event. */
export type IngestResult =
  | { readonly status: 'accepted'; readonly id: string }
  | { readonly status: 'duplicate'; readonly id: string }
  | { readonly status: 'rejected'; readonly id?: string; readonly reason: string; readonly detail: string };

/** A signed Merkle checkpoint of the audit log (JSON form). */
export interface CheckpointJson {
  readonly tree_size: number;
  readonly root: string;
  readonly time: number;
  readonly node: string;
  readonly signature: string;
}

/** Proof that an event's audit entry is in the log at a checkpoint. */
export interface AuditProofJson {
  readonly event_id: string;
  readonly leaf_index: number;
  readonly tree_size: number;
  readonly leaf_hash: string;
  readonly path: readonly string[];
  readonly checkpoint: CheckpointJson;
}

export interface HealthJson {
  readonly status: 'ok' | 'degraded';
  readonly did: string;
  readonly events: number;
  readonly audit_size: number;
  readonly uptime_s: number;
  readonly backend: string;
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
  /** The stored event in its JSON form, or undefined. */
  getEvent(idHex: string): unknown;
  /**
   * The latest checkpoint (one is made first if none covers the current log). May answer
   * asynchronously: the node key may sign through an HSM or a KMS.
   */
  checkpoint(): CheckpointJson | Promise<CheckpointJson>;
  /** An inclusion proof for the accept entry of the event, or undefined if unknown. */
  auditProof(idHex: string): AuditProofJson | undefined | Promise<AuditProofJson | undefined>;
  health(): HealthJson;
  /** Prometheus text exposition format (version 0.0.4). */
  metrics(): string;
  /** Stops taking work, finishes what was acknowledged, closes storage. */
  close(): Promise<void>;
}
