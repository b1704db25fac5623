/**
 * The reconciliation payload (spec/SYNC.md §5.2): a version byte, then ranges in increasing
 * order, each an upper bound, a mode and the mode's data. A range starts where the previous one
 * ended (the first at the minimum bound); space after the last range is skipped.
 *
 *     payload = 0x01 range*
 *     range   = bound mode data
 *     bound   = varint(ts == ∞ ? 0 : 1 + ts - previous ts) varint(len) idPrefix[len]
 *     mode    = 0 skip | 1 fingerprint (16 bytes) | 2 id list (varint n, n ids)
 *             | 3 id-list response (varint n, n ids, varint m, m bitfield bytes)
 *
 * The decoder is strict (one spelling per payload): bounds strictly increasing, nothing after
 * the infinite bound, an infinite bound has no prefix, a prefix never ends in a zero byte.
 */
import { NetCode, NetError } from '../errors.js';
import { FINGERPRINT_BYTES } from './fingerprint.js';
import { type Bound, compareBounds, ID_BYTES, INFINITE_TIMESTAMP, MIN_BOUND } from './items.js';
import { PayloadReader, writeVarint } from './varint.js';

export const RECONCILE_VERSION = 0x01;

export const Mode = { SKIP: 0, FINGERPRINT: 1, ID_LIST: 2, ID_LIST_RESPONSE: 3 } as const;

export type Range =
  | { readonly upper: Bound; readonly mode: 'skip' }
  | { readonly upper: Bound; readonly mode: 'fingerprint'; readonly fingerprint: Uint8Array }
  | { readonly upper: Bound; readonly mode: 'id-list'; readonly ids: readonly Uint8Array[] }
  | {
      readonly upper: Bound;
      readonly mode: 'id-list-response';
      /** Ids the responder has in the range and the initiator's list lacks. */
      readonly ids: readonly Uint8Array[];
      /** Bit i (byte i >> 3, bit i & 7): the responder lacks the i-th id of the initiator's list. */
      readonly bitfield: Uint8Array;
    };

function malformed(detail: string): never {
  throw new NetError(NetCode.MALFORMED_RECONCILE, detail);
}

/** Writes ranges one by one; `mark`/`rollback` undo a range that would not fit the budget. */
export class PayloadWriter {
  private out: number[] = [RECONCILE_VERSION];
  private lastTimestamp = 0;
  private marked = { length: 1, lastTimestamp: 0 };

  get length(): number {
    return this.out.length;
  }

  mark(): void {
    this.marked = { length: this.out.length, lastTimestamp: this.lastTimestamp };
  }

  rollback(): void {
    this.out.length = this.marked.length;
    this.lastTimestamp = this.marked.lastTimestamp;
  }

  bound(bound: Bound): void {
    if (bound.timestamp === INFINITE_TIMESTAMP) {
      writeVarint(this.out, 0);
      this.lastTimestamp = INFINITE_TIMESTAMP;
    } else {
      writeVarint(this.out, 1 + bound.timestamp - this.lastTimestamp);
      this.lastTimestamp = bound.timestamp;
    }
    writeVarint(this.out, bound.idPrefix.length);
    for (const b of bound.idPrefix) this.out.push(b);
  }

  range(range: Range): void {
    this.bound(range.upper);
    switch (range.mode) {
      case 'skip':
        writeVarint(this.out, Mode.SKIP);
        return;
      case 'fingerprint':
        writeVarint(this.out, Mode.FINGERPRINT);
        for (const b of range.fingerprint) this.out.push(b);
        return;
      case 'id-list':
        writeVarint(this.out, Mode.ID_LIST);
        this.ids(range.ids);
        return;
      case 'id-list-response':
        writeVarint(this.out, Mode.ID_LIST_RESPONSE);
        this.ids(range.ids);
        writeVarint(this.out, range.bitfield.length);
        for (const b of range.bitfield) this.out.push(b);
        return;
    }
  }

  private ids(ids: readonly Uint8Array[]): void {
    writeVarint(this.out, ids.length);
    for (const id of ids) for (let i = 0; i < ID_BYTES; i++) this.out.push(id[i] as number);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export function encodePayload(ranges: readonly Range[]): Uint8Array {
  const w = new PayloadWriter();
  for (const r of ranges) w.range(r);
  return w.bytes();
}

function readIds(r: PayloadReader): Uint8Array[] {
  const n = r.varint();
  if (n * ID_BYTES > r.bytes.length - r.pos) malformed(`${n} ids do not fit in the payload`);
  const ids: Uint8Array[] = [];
  for (let i = 0; i < n; i++) ids.push(r.take(ID_BYTES));
  return ids;
}

/** Decodes a payload; throws {@link NetError} ERR_MALFORMED_RECONCILE for anything else. */
export function decodePayload(bytes: Uint8Array): Range[] {
  const r = new PayloadReader(bytes);
  const version = r.byte();
  if (version !== RECONCILE_VERSION) malformed(`reconciliation version ${version}`);
  const ranges: Range[] = [];
  let prev: Bound = MIN_BOUND;
  let lastTimestamp = 0;
  while (!r.done) {
    if (prev.timestamp === INFINITE_TIMESTAMP) malformed('a range after the infinite bound');
    const encoded = r.varint();
    let timestamp: number;
    if (encoded === 0) timestamp = INFINITE_TIMESTAMP;
    else {
      timestamp = lastTimestamp + encoded - 1;
      if (!Number.isSafeInteger(timestamp)) malformed('a bound timestamp above 2^53 - 1');
    }
    lastTimestamp = timestamp;
    const len = r.varint();
    if (len > ID_BYTES) malformed(`an id prefix of ${len} bytes`);
    const idPrefix = r.take(len);
    if (timestamp === INFINITE_TIMESTAMP && len > 0)
      malformed('the infinite bound has an id prefix');
    if (len > 0 && idPrefix[len - 1] === 0) malformed('an id prefix ends in a zero byte');
    const upper: Bound = { timestamp, idPrefix };
    if (compareBounds(prev, upper) >= 0) malformed('range bounds not strictly increasing');
    prev = upper;
    const mode = r.varint();
    switch (mode) {
      case Mode.SKIP:
        ranges.push({ upper, mode: 'skip' });
        break;
      case Mode.FINGERPRINT:
        ranges.push({ upper, mode: 'fingerprint', fingerprint: r.take(FINGERPRINT_BYTES) });
        break;
      case Mode.ID_LIST:
        ranges.push({ upper, mode: 'id-list', ids: readIds(r) });
        break;
      case Mode.ID_LIST_RESPONSE: {
        const ids = readIds(r);
        const m = r.varint();
        ranges.push({ upper, mode: 'id-list-response', ids, bitfield: r.take(m) });
        break;
      }
      default:
        malformed(`unknown range mode ${mode}`);
    }
  }
  return ranges;
}
