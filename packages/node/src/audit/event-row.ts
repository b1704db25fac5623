/**
 * The encodings of stored events that the audit log commits to: the row digest in each accept
 * entry, the accept entry's detail, and the replay key's input. Pure: storage writes with them
 * (storage/store.ts), the verifiers check with them (verify.ts, verify-events.ts, client-proof.ts).
 */
import type { PackedMessages } from '@commons-sync/bindings';

import { writeI64, writeU64 } from './entry.js';
import type { Hasher } from './hash.js';

/** The columns of an `events` row that the row digest covers (all but `encoded`, which
 * `encodedHash` stands for). */
export interface EventRowFields {
  readonly seq: number;
  readonly auditSeq: number;
  readonly id: Uint8Array;
  readonly author: string;
  readonly kind: string;
  readonly nonce: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly receivedAt: number;
  readonly encodedHash: Uint8Array;
}

export const EVENT_ROW_FORMAT_VERSION = 1;

/** What an event row takes from the event itself. */
export type EventRowSource = Pick<
  EventRowFields,
  'id' | 'author' | 'kind' | 'nonce' | 'createdAt' | 'expiresAt'
> & { readonly encoded: Uint8Array };

/**
 * What a commit derives from its accepted events, stored in this order from seq `firstSeq`
 * with their accept entries from audit seq `firstAuditSeq`, received at `receivedAt` (Unix ms),
 * in two batched hashes: each event's `encoded_hash` (SHA-256 of its canonical CBOR, 32 bytes
 * each, back to back) and the `detail` of its accept entry ({@link acceptDetail}: seq, that
 * hash and the row digest).
 */
export function acceptedEventDigests(
  hasher: Pick<Hasher, 'many'>,
  events: readonly EventRowSource[],
  firstSeq: number,
  firstAuditSeq: number,
  receivedAt: number,
): { readonly encodedHashes: Uint8Array; readonly details: string[] } {
  let total = 0;
  for (const e of events) total += e.encoded.length;
  const data = Buffer.allocUnsafe(total);
  const offsets = new Uint32Array(events.length + 1);
  let o = 0;
  for (let i = 0; i < events.length; i++) {
    const enc = (events[i] as EventRowSource).encoded;
    offsets[i] = o;
    data.set(enc, o);
    o += enc.length;
  }
  offsets[events.length] = o;
  const encodedHashes = hasher.many({ data, offsets });
  const rowHashes = hasher.many(
    packEventRows(
      events.map((e, i) => ({
        seq: firstSeq + i,
        auditSeq: firstAuditSeq + i,
        id: e.id,
        author: e.author,
        kind: e.kind,
        nonce: e.nonce,
        createdAt: e.createdAt,
        expiresAt: e.expiresAt,
        receivedAt,
        encodedHash: encodedHashes.subarray(i * 32, i * 32 + 32),
      })),
    ),
  );
  const encHex = Buffer.from(encodedHashes.buffer, encodedHashes.byteOffset, encodedHashes.length);
  const rowHex = Buffer.from(rowHashes.buffer, rowHashes.byteOffset, rowHashes.length);
  const details = events.map((_, i) =>
    acceptDetail(
      firstSeq + i,
      encHex.toString('hex', i * 32, i * 32 + 32),
      rowHex.toString('hex', i * 32, i * 32 + 32),
    ),
  );
  return { encodedHashes, details };
}

/**
 * Packs the row digest inputs of many event rows for one batched SHA-256. The row digest
 * (format 1) is SHA-256 of:
 *
 * ```text
 * u8  0x01 (format)
 * u64 seq
 * u64 audit_seq
 * 32  id
 * u32 author length, author UTF-8
 * u32 kind length, kind UTF-8
 * u32 nonce length, nonce
 * i64 created_at, i64 expires_at (Unix seconds, two's complement)
 * u64 received_at (Unix ms)
 * 32  encoded_hash
 * ```
 *
 * The digest goes into the event's accept audit entry, so that every column of a stored event
 * (the denormalised ones too, which the replay check and queries trust) is covered by the
 * tamper-evident log; `encoded` is covered through `encoded_hash`.
 */
export function packEventRows(rows: readonly EventRowFields[]): PackedMessages {
  const n = rows.length;
  const authorLens = new Array<number>(n);
  const kindLens = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i] as EventRowFields;
    const a = Buffer.byteLength(r.author, 'utf8');
    const k = Buffer.byteLength(r.kind, 'utf8');
    authorLens[i] = a;
    kindLens[i] = k;
    total += 1 + 8 + 8 + 32 + 4 + a + 4 + k + 4 + r.nonce.length + 8 + 8 + 8 + 32;
  }
  const data = Buffer.allocUnsafe(total);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offsets = new Uint32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i] as EventRowFields;
    offsets[i] = o;
    data[o++] = EVENT_ROW_FORMAT_VERSION;
    writeU64(view, o, r.seq);
    writeU64(view, o + 8, r.auditSeq);
    data.set(r.id, o + 16);
    o += 48;
    const a = authorLens[i] as number;
    view.setUint32(o, a);
    o += 4 + data.write(r.author, o + 4, a, 'utf8');
    const k = kindLens[i] as number;
    view.setUint32(o, k);
    o += 4 + data.write(r.kind, o + 4, k, 'utf8');
    view.setUint32(o, r.nonce.length);
    data.set(r.nonce, o + 4);
    o += 4 + r.nonce.length;
    writeI64(view, o, r.createdAt);
    writeI64(view, o + 8, r.expiresAt);
    writeU64(view, o + 16, r.receivedAt);
    data.set(r.encodedHash, o + 24);
    o += 56;
  }
  offsets[n] = o;
  return { data, offsets };
}

/**
 * The detail JSON of an accept entry. Built by template, not JSON.stringify: every value is a
 * number or lowercase hex, so the text is canonical (this key order, no spaces).
 */
export function acceptDetail(eventSeq: number, encodedHashHex: string, rowHashHex: string): string {
  return `{"eventSeq":${eventSeq},"encodedHash":"${encodedHashHex}","rowHash":"${rowHashHex}"}`;
}

const ACCEPT_DETAIL =
  /^\{"eventSeq":(0|[1-9][0-9]{0,15}),"encodedHash":"([0-9a-f]{64})","rowHash":"([0-9a-f]{64})"\}$/;

/** Parses an accept entry's detail; undefined when it is not exactly what {@link acceptDetail} writes. */
export function parseAcceptDetail(
  detail: string,
): { eventSeq: number; encodedHash: string; rowHash: string } | undefined {
  const m = ACCEPT_DETAIL.exec(detail);
  if (m === null) return undefined;
  return { eventSeq: Number(m[1]), encodedHash: m[2] as string, rowHash: m[3] as string };
}

/** Bytes of SHA-256 kept as the replay key. */
export const REPLAY_KEY_BYTES = 16;

/**
 * Packs replay key inputs for one batched SHA-256: `u32 author length || author UTF-8 ||
 * nonce`. The replay key is the first 16 bytes of the digest. Finding two pairs with one key
 * takes about 2^64 work and only blocks the finder's own pair; hitting someone else's pair
 * takes a second preimage (2^128).
 */
export function packReplayKeyInputs(
  pairs: readonly { author: string; nonce: Uint8Array }[],
): PackedMessages {
  const n = pairs.length;
  const lens = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = pairs[i] as { author: string; nonce: Uint8Array };
    const a = Buffer.byteLength(p.author, 'utf8');
    lens[i] = a;
    total += 4 + a + p.nonce.length;
  }
  const data = Buffer.allocUnsafe(total);
  const offsets = new Uint32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const p = pairs[i] as { author: string; nonce: Uint8Array };
    offsets[i] = o;
    const a = lens[i] as number;
    data.writeUInt32BE(a, o);
    o += 4 + data.write(p.author, o + 4, a, 'utf8');
    data.set(p.nonce, o);
    o += p.nonce.length;
  }
  offsets[n] = o;
  return { data, offsets };
}

/**
 * Events per partition of the stored id and replay indexes, as a power of two: partition
 * `seq >> 16` (storage/schema.ts, migration 5). Inserts then go into one partition's part of
 * each index, a few megabytes that stay in the page cache whatever the store's size, instead
 * of anywhere in one index as large as the store.
 */
export const INDEX_PARTITION_BITS = 16;

/** The index partition of event `seq`. */
export function indexPartition(seq: number): number {
  return Math.floor(seq / 2 ** INDEX_PARTITION_BITS);
}

/**
 * The index key of a digest (an event id, a replay key): its first 6 bytes as an unsigned
 * big-endian integer (48 bits, exact in a JavaScript number and in SQLite). Keys are prefixes,
 * so two digests may share one: every lookup compares the full values of the row it finds.
 */
export function indexKey(digest: Uint8Array, offset = 0): number {
  return (
    (digest[offset] as number) * 2 ** 40 +
    (digest[offset + 1] as number) * 2 ** 32 +
    (digest[offset + 2] as number) * 2 ** 24 +
    (digest[offset + 3] as number) * 2 ** 16 +
    (digest[offset + 4] as number) * 2 ** 8 +
    (digest[offset + 5] as number)
  );
}
