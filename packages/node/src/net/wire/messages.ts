/**
 * The messages of the sync protocol (spec/SYNC.md §4): each a canonical CBOR array whose first
 * entry is the message type. Decoding is strict: the exact number of fields, their types and
 * bounds, and nothing else; anything off is ERR_MALFORMED_MESSAGE. Events travel as byte
 * strings holding their canonical encoding, and are validated from exactly those bytes.
 */

import {
  CborError,
  type CborLimits,
  type CborValue,
  decodeCbor,
  encodeCbor,
} from '../../protocol/cbor.js';
import { LIMITS } from '../../protocol/limits.js';
import { NetCode, NetError } from '../errors.js';
import { MAX_FRAME_BYTES } from './frame.js';

/** The sync protocol versions this implementation speaks. */
export const SYNC_PROTOCOL_VERSIONS: readonly number[] = Object.freeze([1]);

export const MessageType = {
  HELLO: 0,
  EVENTS: 1,
  HAVE: 2,
  WANT: 3,
  RECONCILE: 4,
  RECONCILE_REPLY: 5,
  CHECKPOINT: 6,
  PROOF_REQUEST: 7,
  PROOF: 8,
  PARTIAL: 9,
  GOODBYE: 10,
} as const;

export const WIRE_LIMITS = Object.freeze({
  /** Events in one EVENTS message. */
  maxEventsPerMessage: 1024,
  /** Ids in one HAVE or WANT message. */
  maxIdsPerMessage: 4096,
  /** Hashes in one consistency proof (a proof has at most 2·log2(size) entries). */
  maxProofHashes: 128,
  /** Sync protocol versions listed in a HELLO. */
  maxVersions: 16,
  /** Bytes of a GOODBYE detail. */
  maxDetailBytes: 512,
});

/**
 * A signed audit checkpoint (audit/checkpoint.ts), as it travels. Version 1 has five fields;
 * version 2 (spec/AUDIT.md §5: numbered and chained) adds `seq` and `prev`, which its signature
 * covers.
 */
export interface WireCheckpoint {
  readonly treeSize: number;
  readonly root: Uint8Array;
  /** Unix milliseconds. */
  readonly time: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  /** Version 2: the checkpoint's number (1, 2, ...). */
  readonly seq?: number;
  /** Version 2: the hash of the checkpoint before it (32 zero bytes for the first). */
  readonly prev?: Uint8Array;
}

export type Message =
  | {
      readonly type: 'hello';
      readonly versions: readonly number[];
      /** did:key of the sender: must be the identity its TLS certificate proved. */
      readonly node: string;
      /** The sender's clock, Unix milliseconds (for the skew check and lag). */
      readonly time: number;
      readonly checkpoint: WireCheckpoint | null;
    }
  | { readonly type: 'events'; readonly events: readonly Uint8Array[] }
  | { readonly type: 'have'; readonly ids: readonly Uint8Array[] }
  | { readonly type: 'want'; readonly ids: readonly Uint8Array[] }
  | {
      readonly type: 'reconcile';
      readonly session: number;
      readonly round: number;
      readonly payload: Uint8Array;
    }
  | {
      readonly type: 'reconcile-reply';
      readonly session: number;
      readonly round: number;
      readonly payload: Uint8Array;
    }
  | { readonly type: 'checkpoint'; readonly checkpoint: WireCheckpoint }
  | {
      readonly type: 'proof-request';
      readonly request: number;
      readonly from: number;
      readonly to: number;
    }
  | {
      readonly type: 'proof';
      readonly request: number;
      readonly from: number;
      readonly to: number;
      readonly hashes: readonly Uint8Array[];
    }
  | { readonly type: 'partial'; readonly event: Uint8Array }
  /** `code` is an ERR_ code: one of spec/SYNC.md §9, or one a newer peer knows (read, never matched on). */
  | { readonly type: 'goodbye'; readonly code: string; readonly detail: string };

const MESSAGE_LIMITS: CborLimits = Object.freeze({
  maxInputBytes: MAX_FRAME_BYTES,
  maxDepth: 3,
  maxTextBytes: 1024,
  maxByteStringBytes: MAX_FRAME_BYTES,
  maxEntries:
    Math.max(WIRE_LIMITS.maxEventsPerMessage, WIRE_LIMITS.maxProofHashes, WIRE_LIMITS.maxVersions) +
    8,
});

function malformed(detail: string): never {
  throw new NetError(NetCode.MALFORMED_MESSAGE, detail);
}

function uint(v: CborValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    malformed(`${what} must be an unsigned integer`);
  return v;
}

function bytesOf(v: CborValue | undefined, what: string, min: number, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) malformed(`${what} must be a byte string`);
  if (v.length < min || v.length > max) malformed(`${what} of ${v.length} bytes (${min}..${max})`);
  return v;
}

function text(v: CborValue | undefined, what: string, max: number): string {
  if (typeof v !== 'string') malformed(`${what} must be text`);
  if (Buffer.byteLength(v) > max) malformed(`${what} longer than ${max} bytes`);
  return v;
}

function array(v: CborValue | undefined, what: string, min: number, max: number): CborValue[] {
  if (!Array.isArray(v)) malformed(`${what} must be an array`);
  if (v.length < min || v.length > max)
    malformed(`${what} of ${v.length} entries (${min}..${max})`);
  return v;
}

function ids(v: CborValue | undefined, what: string): Uint8Array[] {
  const b = bytesOf(v, what, 32, 32 * WIRE_LIMITS.maxIdsPerMessage);
  if (b.length % 32 !== 0) malformed(`${what} is not a whole number of 32-byte ids`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += 32) out.push(b.slice(i, i + 32));
  return out;
}

function checkpointFrom(v: CborValue | undefined): WireCheckpoint {
  const a = array(v, 'checkpoint', 5, 7);
  if (a.length === 6) malformed('checkpoint of 6 entries (5 or 7)');
  const common = {
    treeSize: uint(a[0], 'tree size'),
    root: bytesOf(a[1], 'root', 32, 32),
    time: uint(a[2], 'checkpoint time'),
    publicKey: bytesOf(a[3], 'checkpoint key', 32, 32),
    signature: bytesOf(a[4], 'checkpoint signature', 64, 64),
  };
  if (a.length === 5) return common;
  const seq = uint(a[5], 'checkpoint seq');
  if (seq < 1) malformed('checkpoint seq must be at least 1');
  return { ...common, seq, prev: bytesOf(a[6], 'checkpoint prev', 32, 32) };
}

function checkpointTo(cp: WireCheckpoint): CborValue {
  const common = [cp.treeSize, cp.root, cp.time, cp.publicKey, cp.signature];
  if ((cp.seq === undefined) !== (cp.prev === undefined))
    throw new RangeError('a version 2 checkpoint has both seq and prev');
  return cp.seq === undefined ? common : [...common, cp.seq, cp.prev as Uint8Array];
}

function concatIds(list: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(list.length * 32);
  for (const [i, id] of list.entries()) out.set(id, i * 32);
  return out;
}

export function encodeMessage(m: Message): Uint8Array {
  switch (m.type) {
    case 'hello':
      return encodeCbor([
        MessageType.HELLO,
        [...m.versions],
        m.node,
        m.time,
        m.checkpoint === null ? null : checkpointTo(m.checkpoint),
      ]);
    case 'events':
      return encodeCbor([MessageType.EVENTS, [...m.events]]);
    case 'have':
      return encodeCbor([MessageType.HAVE, concatIds(m.ids)]);
    case 'want':
      return encodeCbor([MessageType.WANT, concatIds(m.ids)]);
    case 'reconcile':
      return encodeCbor([MessageType.RECONCILE, m.session, m.round, m.payload]);
    case 'reconcile-reply':
      return encodeCbor([MessageType.RECONCILE_REPLY, m.session, m.round, m.payload]);
    case 'checkpoint':
      return encodeCbor([MessageType.CHECKPOINT, checkpointTo(m.checkpoint)]);
    case 'proof-request':
      return encodeCbor([MessageType.PROOF_REQUEST, m.request, m.from, m.to]);
    case 'proof':
      return encodeCbor([MessageType.PROOF, m.request, m.from, m.to, [...m.hashes]]);
    case 'partial':
      return encodeCbor([MessageType.PARTIAL, m.event]);
    case 'goodbye':
      return encodeCbor([MessageType.GOODBYE, m.code, m.detail]);
  }
}

/** Decodes one message; throws {@link NetError} ERR_MALFORMED_MESSAGE for anything else. */
export function decodeMessage(bytes: Uint8Array): Message {
  let value: CborValue;
  try {
    value = decodeCbor(bytes, MESSAGE_LIMITS);
  } catch (e) {
    if (e instanceof CborError) malformed(`not a canonical CBOR message: ${e.message}`);
    throw e;
  }
  const a = array(value, 'a message', 1, MESSAGE_LIMITS.maxEntries);
  const type = uint(a[0], 'the message type');
  const arity = (n: number) => {
    if (a.length !== n) malformed(`message type ${type} has ${a.length - 1} fields, not ${n - 1}`);
  };
  switch (type) {
    case MessageType.HELLO: {
      arity(5);
      const versions = array(a[1], 'versions', 1, WIRE_LIMITS.maxVersions).map((v) =>
        uint(v, 'a version'),
      );
      for (let i = 1; i < versions.length; i++) {
        if ((versions[i] as number) <= (versions[i - 1] as number))
          malformed('versions must be strictly ascending');
      }
      return {
        type: 'hello',
        versions,
        node: text(a[2], 'node', 128),
        time: uint(a[3], 'time'),
        checkpoint: a[4] === null ? null : checkpointFrom(a[4]),
      };
    }
    case MessageType.EVENTS: {
      arity(2);
      const events = array(a[1], 'events', 1, WIRE_LIMITS.maxEventsPerMessage).map((e) =>
        bytesOf(e, 'an event', 1, LIMITS.maxEventBytes),
      );
      return { type: 'events', events };
    }
    case MessageType.HAVE:
      arity(2);
      return { type: 'have', ids: ids(a[1], 'ids') };
    case MessageType.WANT:
      arity(2);
      return { type: 'want', ids: ids(a[1], 'ids') };
    case MessageType.RECONCILE:
    case MessageType.RECONCILE_REPLY:
      arity(4);
      return {
        type: type === MessageType.RECONCILE ? 'reconcile' : 'reconcile-reply',
        session: uint(a[1], 'session'),
        round: uint(a[2], 'round'),
        payload: bytesOf(a[3], 'payload', 1, MAX_FRAME_BYTES),
      };
    case MessageType.CHECKPOINT:
      arity(2);
      return { type: 'checkpoint', checkpoint: checkpointFrom(a[1]) };
    case MessageType.PROOF_REQUEST: {
      arity(4);
      const from = uint(a[2], 'from');
      const to = uint(a[3], 'to');
      if (from >= to) malformed('a proof request from a size not below the other');
      return { type: 'proof-request', request: uint(a[1], 'request'), from, to };
    }
    case MessageType.PROOF: {
      arity(5);
      const hashes = array(a[4], 'proof', 0, WIRE_LIMITS.maxProofHashes).map((h) =>
        bytesOf(h, 'a proof hash', 32, 32),
      );
      return {
        type: 'proof',
        request: uint(a[1], 'request'),
        from: uint(a[2], 'from'),
        to: uint(a[3], 'to'),
        hashes,
      };
    }
    case MessageType.PARTIAL:
      arity(2);
      return { type: 'partial', event: bytesOf(a[1], 'event', 1, LIMITS.maxEventBytes) };
    case MessageType.GOODBYE: {
      arity(3);
      const code = text(a[1], 'code', 64);
      if (!/^ERR_[A-Z0-9_]{1,60}$/.test(code))
        malformed(`a disconnect code ${JSON.stringify(code)} is not ERR_...`);
      return { type: 'goodbye', code, detail: text(a[2], 'detail', WIRE_LIMITS.maxDetailBytes) };
    }
    default:
      return malformed(`unknown message type ${type}`);
  }
}
