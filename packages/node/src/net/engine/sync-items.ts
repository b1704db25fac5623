/**
 * What the engine needs to know about an item it carries: its kind, its id, its place in the
 * sync set (`created_at`), when it leaves the set (`expires_at`) and whose it is. The engine
 * moves items as opaque canonical CBOR; this is the one place that reads them.
 *
 * Three kinds travel (spec/SYNC.md §6.5, §6.6): CommonsEvents (spec/PROTOCOL.md), the key events
 * of identities (spec/IDENTITY.md §3) and governance records (spec/GOVERNANCE.md §3). They are
 * told apart by their bytes alone: an item that decodes as a CommonsEvent is one, else one that
 * decodes as a key event is one, else one that decodes as a governance record is one. The schemas
 * are disjoint (an event requires `nonce`, which the other two refuse as an unknown field; a key
 * event and a governance record both carry `type`, but from disjoint sets of values), so no item
 * is two kinds.
 */
import type { Sha256 } from '../../audit/merkle.js';
import { decodeRecord } from '../../governance/record.js';
import { decodeKeyEvent } from '../../identity/key-event.js';
import { decodeEvent } from '../../protocol/event.js';
import { peekEvent } from './event-peek.js';

/** The kinds of item the sync set holds. */
export type SyncItemKind = 'event' | 'key-event' | 'governance-record';

export interface SyncItemInfo {
  readonly kind: SyncItemKind;
  /**
   * The id reconciliation compares: SHA-256 of the body for events and key events; SHA-256 of
   * the whole canonical CBOR for a governance record, whose copies (same body, other signers)
   * are items of their own (spec/SYNC.md §6.6).
   */
  readonly id: Uint8Array;
  /** Unix seconds: the item's place in the sync set's order. */
  readonly createdAt: number;
  /** Unix seconds: when it leaves the sync set (Number.MAX_SAFE_INTEGER: never). */
  readonly expiresAt: number;
  /** Who made it (an event's author, a key event's identity): one equivocation record per author. */
  readonly author: string;
  /**
   * True when the item was decoded and checked in full (spec/PROTOCOL.md §7 steps 1–3); false
   * when an event was only peeked at (event-peek.ts): its fields are what a valid event's would
   * be, and the pipeline, which validates the bytes anyway, gives the verdict.
   */
  readonly checked: boolean;
}

export type DescribeResult =
  | { readonly ok: true; readonly item: SyncItemInfo }
  | { readonly ok: false; readonly reason: string; readonly detail: string };

export interface SyncItemCodec {
  /**
   * Reads an item's canonical CBOR cheaply: an event-shaped item is only peeked at (`checked`
   * false), anything else is decoded in full. A failure is the reason code of the protocol.
   */
  describe(bytes: Uint8Array): DescribeResult;
  /** Reads an item's canonical CBOR in full (steps 1–3): every item it describes is `checked`. */
  check(bytes: Uint8Array): DescribeResult;
}

/** Key events and governance records never expire: they stay in the sync set (spec/IDENTITY.md §3). */
export const NEVER_EXPIRES = Number.MAX_SAFE_INTEGER;

function describeEvent(sha256: Sha256, bytes: Uint8Array): DescribeResult {
  const decoded = decodeEvent(bytes);
  if (!decoded.ok) return { ok: false, reason: decoded.reason, detail: decoded.detail };
  const { createdAt, expiresAt, author } = decoded.value.event;
  return {
    ok: true,
    item: {
      kind: 'event',
      id: sha256(decoded.value.body),
      createdAt,
      expiresAt,
      author,
      checked: true,
    },
  };
}

/** An event-shaped item, peeked at; null when it is not event-shaped (then decode it in full). */
function peekItem(sha256: Sha256, bytes: Uint8Array): DescribeResult | null {
  const peek = peekEvent(sha256, bytes);
  return peek === null ? null : { ok: true, item: { kind: 'event', ...peek, checked: false } };
}

/** CommonsEvents only (the simulator's nodes, which hold no identities). */
export function eventItems(sha256: Sha256): SyncItemCodec {
  return {
    describe: (bytes) => peekItem(sha256, bytes) ?? describeEvent(sha256, bytes),
    check: (bytes) => describeEvent(sha256, bytes),
  };
}

/** CommonsEvents, key events and governance records: what a node carries (spec/SYNC.md §6.5, §6.6). */
export function nodeItems(sha256: Sha256): SyncItemCodec {
  const check = (bytes: Uint8Array): DescribeResult => {
    const asEvent = describeEvent(sha256, bytes);
    if (asEvent.ok) return asEvent;
    const key = decodeKeyEvent({ sha256 }, bytes);
    if (!key.ok) {
      const record = decodeRecord({ sha256 }, bytes);
      if (record.ok) {
        const r = record.value.record;
        return {
          ok: true,
          item: {
            kind: 'governance-record',
            id: sha256(bytes),
            createdAt: r.createdAt,
            expiresAt: NEVER_EXPIRES,
            author: 'issuer' in r ? r.issuer : (r.signatures[0]?.signer ?? ''),
            checked: true,
          },
        };
      }
      return {
        ok: false,
        reason: asEvent.reason,
        detail: `neither an event (${asEvent.detail}), a key event (${key.reason}: ${key.detail}) nor a governance record (${record.reason}: ${record.detail})`,
      };
    }
    return {
      ok: true,
      item: {
        kind: 'key-event',
        id: key.value.id,
        createdAt: key.value.event.createdAt,
        expiresAt: NEVER_EXPIRES,
        author: key.value.identity,
        checked: true,
      },
    };
  };
  // an event-shaped item (it has `nonce`) is never a valid key event or governance record,
  // which refuse that field: peeking at it tells the kinds apart as decoding would
  return { describe: (bytes) => peekItem(sha256, bytes) ?? check(bytes), check };
}
