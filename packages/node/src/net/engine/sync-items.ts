/**
 * What the engine needs to know about an item it carries: its id, its place in the sync set
 * (`created_at`), when it leaves the set (`expires_at`) and whose it is. The engine moves items
 * as opaque canonical CBOR; this is the one place that reads them. Today every item is a
 * CommonsEvent (spec/PROTOCOL.md); another kind (key events of identities, spec/IDENTITY.md)
 * travels the same way once a codec that recognises it is given to the engine (EngineDeps
 * `items`), with the node's `SyncService` storing, serving and validating it.
 */
import type { Sha256 } from '../../audit/merkle.js';
import { decodeEvent } from '../../protocol/event.js';

export interface SyncItemInfo {
  /** The id reconciliation compares (for an event: SHA-256 of its body). */
  readonly id: Uint8Array;
  /** Unix seconds: the item's place in the sync set's order. */
  readonly createdAt: number;
  /** Unix seconds: when it leaves the sync set (Number.MAX_SAFE_INTEGER: never). */
  readonly expiresAt: number;
  /** Who made it (an event's author): one equivocation record per author. */
  readonly author: string;
}

export type DescribeResult =
  | { readonly ok: true; readonly item: SyncItemInfo }
  | { readonly ok: false; readonly reason: string; readonly detail: string };

export interface SyncItemCodec {
  /** Reads an item's canonical CBOR; a failure is the reason code of the protocol. */
  describe(bytes: Uint8Array): DescribeResult;
}

/** CommonsEvents: the items of spec/SYNC.md version 1. */
export function eventItems(sha256: Sha256): SyncItemCodec {
  return {
    describe(bytes) {
      const decoded = decodeEvent(bytes);
      if (!decoded.ok) return { ok: false, reason: decoded.reason, detail: decoded.detail };
      const { createdAt, expiresAt, author } = decoded.value.event;
      return {
        ok: true,
        item: { id: sha256(decoded.value.body), createdAt, expiresAt, author },
      };
    },
  };
}
