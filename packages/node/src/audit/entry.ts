import type { PackedMessages } from '@commons-sync/bindings';

/**
 * What an audit entry records. `summary` (counts of rejections not logged one by one) and
 * `checkpoint` (the log's own record of a signed checkpoint) exist from entry format 2 on.
 */
export type AuditEntryType = 'accept' | 'reject' | 'critical' | 'summary' | 'checkpoint';

/** Entry formats: 1 (the first release) and 2 (bounded rejections, checkpoint entries). */
export type EntryFormat = 1 | 2;

/** One audit log entry as stored; `seq` is also its leaf index in the Merkle tree. */
export interface AuditEntry {
  /** The format the entry was written in (spec/AUDIT.md); the leaf hash covers it. */
  readonly format: EntryFormat;
  readonly seq: number;
  /** Unix time in milliseconds. */
  readonly time: number;
  readonly type: AuditEntryType;
  /** 32-byte event id, or null when there is none (a malformed event, a node action). */
  readonly eventId: Uint8Array | null;
  /** A stable reason code (`ERR_...`), or null. */
  readonly reason: string | null;
  /** JSON text; the bytes as stored are what the leaf hash covers. */
  readonly detail: string;
}

/**
 * What the pipeline hands to `Store.commit` besides the accepted events: rejections and
 * critical actions. Accept entries are written by the store itself, one per stored event, so
 * that an event row and its accept entry cannot drift apart.
 */
export interface AuditRecord {
  readonly type: 'reject' | 'critical';
  readonly eventId?: Uint8Array | null;
  readonly reason?: string | null;
  /** Serialised with JSON.stringify; defaults to `{}`. */
  readonly detail?: Readonly<Record<string, unknown>>;
  /**
   * A rejection of an event whose every signature the node verified (so its author, or
   * someone replaying the author's own event, sent it): logged one by one, within the
   * per-second budget. Other rejections are counted in summaries (rules.ts).
   */
  readonly verified?: boolean;
}

/** The format new entries are written in. */
export const ENTRY_FORMAT_VERSION: EntryFormat = 2;
export const TYPE_CODES: Readonly<Record<AuditEntryType, number>> = {
  accept: 1,
  reject: 2,
  critical: 3,
  summary: 4,
  checkpoint: 5,
};

export function isEntryType(value: unknown): value is AuditEntryType {
  return typeof value === 'string' && Object.hasOwn(TYPE_CODES, value);
}

/** Whether `type` may appear in an entry of `format` (summary and checkpoint: format 2 on). */
export function typeInFormat(type: AuditEntryType, format: number): boolean {
  return format === 2 || (format === 1 && TYPE_CODES[type] <= 3);
}

const TWO_32 = 2 ** 32;

/** Writes a non-negative safe integer as 8 bytes big-endian. */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / TWO_32));
  view.setUint32(offset + 4, value % TWO_32);
}

/** Writes a safe integer (negative too) as an 8-byte two's-complement big-endian integer. */
export function writeI64(view: DataView, offset: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  view.setInt32(offset, hi);
  view.setUint32(offset + 4, value - hi * TWO_32);
}

/** The encoded size of an entry; `reasonBytes`/`detailBytes` are the UTF-8 lengths. */
function entrySize(reasonBytes: number | null, detailBytes: number, hasId: boolean): number {
  return (
    1 +
    8 +
    8 +
    1 +
    1 +
    (hasId ? 32 : 0) +
    1 +
    (reasonBytes === null ? 0 : 2 + reasonBytes) +
    4 +
    detailBytes
  );
}

/**
 * The canonical encoding of an audit entry (spec/AUDIT.md §2). Every field has a fixed width
 * or a length prefix, integers are big-endian, strings UTF-8, so each entry has exactly one
 * encoding and no two entries share one:
 *
 * ```text
 * u8      format version: 0x01 or 0x02
 * u64     seq
 * u64     time (Unix milliseconds)
 * u8      type: 0x01 accept, 0x02 reject, 0x03 critical; format 2 also 0x04 summary,
 *         0x05 checkpoint
 * u8      event id length: 0 (null) or 32, then the id bytes
 * u8      reason present: 0x00 (null) or 0x01, then u16 length and the UTF-8 bytes
 * u32     detail length, then the detail's UTF-8 bytes (JSON text, as stored)
 * ```
 *
 * Leaf hash = SHA-256(0x00 || entry) (RFC 6962); chain hash = SHA-256(previous chain hash ||
 * leaf hash), with 32 zero bytes before the first entry.
 */
export function encodeAuditEntry(entry: AuditEntry): Uint8Array {
  const packed = packLeafInputs([entry]);
  return packed.data.subarray(1);
}

/**
 * Encodes entries back to back, each preceded by the RFC 6962 leaf prefix 0x00, ready for one
 * batched hash: message `i` is `0x00 || encodeAuditEntry(entries[i])`.
 */
export function packLeafInputs(entries: readonly AuditEntry[]): PackedMessages {
  const n = entries.length;
  const reasonLens: (number | null)[] = new Array<number | null>(n);
  const detailLens = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i] as AuditEntry;
    const r = e.reason === null ? null : Buffer.byteLength(e.reason, 'utf8');
    if (r !== null && r > 0xffff)
      throw new RangeError('an audit reason code is at most 65535 bytes');
    if (e.eventId !== null && e.eventId.length !== 32)
      throw new RangeError('an event id is 32 bytes');
    if (!typeInFormat(e.type, e.format))
      throw new RangeError(`no ${e.type} entries in format ${e.format}`);
    const d = Buffer.byteLength(e.detail, 'utf8');
    reasonLens[i] = r;
    detailLens[i] = d;
    total += 1 + entrySize(r, d, e.eventId !== null);
  }
  const data = Buffer.allocUnsafe(total);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offsets = new Uint32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i] as AuditEntry;
    offsets[i] = o;
    data[o++] = 0x00; // RFC 6962 leaf prefix
    data[o++] = e.format;
    writeU64(view, o, e.seq);
    writeU64(view, o + 8, e.time);
    data[o + 16] = TYPE_CODES[e.type];
    o += 17;
    if (e.eventId === null) {
      data[o++] = 0;
    } else {
      data[o++] = 32;
      data.set(e.eventId, o);
      o += 32;
    }
    const r = reasonLens[i] as number | null;
    if (r === null || e.reason === null) {
      data[o++] = 0;
    } else {
      data[o++] = 1;
      view.setUint16(o, r);
      o += 2;
      o += data.write(e.reason, o, r, 'utf8');
    }
    const d = detailLens[i] as number;
    view.setUint32(o, d);
    o += 4;
    o += data.write(e.detail, o, d, 'utf8');
  }
  offsets[n] = o;
  return { data, offsets };
}
