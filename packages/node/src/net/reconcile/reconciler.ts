/**
 * Range-based set reconciliation (spec/SYNC.md §5.4), sans-I/O: the initiator and the responder
 * turn payloads into payloads; neither touches a socket or a clock. In the style of negentropy:
 * a range whose fingerprints differ is split into buckets, small ranges travel as id lists, and
 * the responder answers an id list with only what the initiator lacks plus a bitfield of what it
 * lacks itself, so that both directions of the difference are known to the initiator.
 *
 * Two sets of n items that differ in d cost O(d log n) bytes and O(log n) round trips.
 * The responder keeps no state between payloads; the initiator keeps the ranges still open, so
 * that a round cut by a disconnect resumes from them ({@link Initiator.resume}).
 */
import { toHex } from '../../protocol/bytes.js';
import { NetCode, NetError } from '../errors.js';
import { decodePayload, PayloadWriter, type Range } from './codec.js';
import { FINGERPRINT_BYTES } from './fingerprint.js';
import { type Bound, compareBounds, MAX_BOUND, MIN_BOUND, minimalBound } from './items.js';
import type { ReconcileStorage } from './storage.js';

export interface ReconcileParams {
  /** Sub-ranges a mismatched range of many items is split into. */
  readonly buckets: number;
  /** Sub-ranges a mismatched range of fewer than `smallRange` items is split into. */
  readonly smallBuckets: number;
  /** Below this many items a range counts as small. */
  readonly smallRange: number;
  /** A range with fewer items than this travels as an id list instead of being split. */
  readonly idListThreshold: number;
  /** The responder answers an id list with a response when it holds at most this many items in the range, else it splits. */
  readonly maxResponseIds: number;
  /** A payload never grows past this many bytes; what does not fit is deferred (one fingerprint for the rest). */
  readonly maxPayloadBytes: number;
}

/** The reference parameters: the vectors and the second implementation use them. */
export const DEFAULT_RECONCILE_PARAMS: ReconcileParams = Object.freeze({
  buckets: 16,
  smallBuckets: 4,
  smallRange: 128,
  idListThreshold: 4,
  maxResponseIds: 1024,
  maxPayloadBytes: 512 * 1024,
});

/** Headroom kept under `maxPayloadBytes` for the range that closes a cut payload. */
const CLOSING_RANGE_BYTES = 64;

/** A range the initiator asked about and has no answer for yet. */
export interface OpenRange {
  readonly lower: Bound;
  readonly upper: Bound;
}

export interface RoundResult {
  /** The next payload to send, or null when reconciliation is complete. */
  readonly next: Uint8Array | null;
  /** Ids this side has and the other lacks. */
  readonly have: Uint8Array[];
  /** Ids the other side has and this side lacks. */
  readonly need: Uint8Array[];
}

function malformed(detail: string): never {
  throw new NetError(NetCode.MALFORMED_RECONCILE, detail);
}

function boundKey(b: Bound): string {
  return `${b.timestamp}/${toHex(b.idPrefix)}`;
}

function equalFingerprints(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== FINGERPRINT_BYTES || b.length !== FINGERPRINT_BYTES) return false;
  for (let i = 0; i < FINGERPRINT_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

type Role = 'initiator' | 'responder';

/** One pass over the other side's ranges: what we answer, what is left open, what differs. */
class Pass {
  readonly w = new PayloadWriter();
  readonly open: OpenRange[] = [];
  readonly sentIdLists = new Map<string, Uint8Array[]>();
  readonly have: Uint8Array[] = [];
  readonly need: Uint8Array[] = [];
  private pendingSkip = false;
  /** Id lists sent during the current step (undone with it when the payload is cut). */
  private readonly listsAdded: string[] = [];
  private prevBound: Bound = MIN_BOUND;
  private prevIndex = 0;
  /** True once output was cut at the payload limit. */
  private cut = false;

  constructor(
    private readonly storage: ReconcileStorage,
    private readonly params: ReconcileParams,
    private readonly role: Role,
    private readonly receivedIdLists: ReadonlyMap<string, Uint8Array[]>,
  ) {}

  /** Handles one range of the other side's payload; false once the output is full. */
  range(range: Range): boolean {
    return this.step(range.upper, (lower, upper) => {
      switch (range.mode) {
        case 'skip':
          this.pendingSkip = true;
          return;
        case 'fingerprint':
          if (equalFingerprints(range.fingerprint, this.storage.fingerprint(lower, upper)))
            this.pendingSkip = true;
          else this.split(lower, upper, range.upper);
          return;
        case 'id-list':
          if (this.role === 'initiator') {
            this.diff(lower, upper, range.ids);
            this.pendingSkip = true;
          } else if (upper - lower <= this.params.maxResponseIds) {
            this.respond(lower, upper, range);
          } else {
            this.splitIntoBuckets(lower, upper, range.upper);
          }
          return;
        case 'id-list-response':
          this.takeResponse(range);
          this.pendingSkip = true;
          return;
      }
    });
  }

  /** Describes our own items up to `upperBound`: split (a first round) or one fingerprint (a resumed range). */
  own(upperBound: Bound, splitIt: boolean): boolean {
    return this.step(upperBound, (lower, upper) => {
      if (splitIt) this.split(lower, upper, upperBound);
      else if (upper - lower < this.params.idListThreshold) this.idList(lower, upper, upperBound);
      else {
        this.flushSkip();
        this.w.range({
          upper: upperBound,
          mode: 'fingerprint',
          fingerprint: this.storage.fingerprint(lower, upper),
        });
        this.open.push({ lower: this.prevBound, upper: upperBound });
      }
    });
  }

  /**
   * Runs `body` for the range [previous bound, upperBound) with its item positions. When the
   * output passes the payload limit, the range's output is undone and one fingerprint of
   * everything from the range on closes the payload (it stays open for the next round).
   */
  private step(upperBound: Bound, body: (lower: number, upper: number) => void): boolean {
    if (this.cut) return false;
    const s = this.storage;
    const lower = this.prevIndex;
    const upper = s.lowerBound(lower, s.size, upperBound);
    const skipBefore = this.pendingSkip;
    const openBefore = this.open.length;
    this.listsAdded.length = 0;
    const haveBefore = this.have.length;
    const needBefore = this.need.length;
    this.w.mark();
    body(lower, upper);
    if (this.w.length > this.params.maxPayloadBytes - CLOSING_RANGE_BYTES) {
      this.w.rollback();
      this.pendingSkip = skipBefore;
      this.open.length = openBefore;
      this.have.length = haveBefore;
      this.need.length = needBefore;
      for (const k of this.listsAdded) this.sentIdLists.delete(k);
      this.flushSkip();
      this.w.range({
        upper: MAX_BOUND,
        mode: 'fingerprint',
        fingerprint: s.fingerprint(lower, s.size),
      });
      this.open.push({ lower: this.prevBound, upper: MAX_BOUND });
      this.cut = true;
      return false;
    }
    this.prevIndex = upper;
    this.prevBound = upperBound;
    return true;
  }

  private takeResponse(range: Range & { mode: 'id-list-response' }): void {
    if (this.role === 'responder') malformed('an id-list response sent to the responder');
    const sent = this.receivedIdLists.get(boundKey(range.upper));
    if (sent === undefined)
      malformed('an id-list response to a range that was not sent as an id list');
    const bytes = (sent.length + 7) >> 3;
    if (range.bitfield.length !== bytes)
      malformed('an id-list response bitfield of the wrong length');
    if (sent.length % 8 !== 0 && (range.bitfield[bytes - 1] as number) >> (sent.length % 8) !== 0) {
      malformed('an id-list response bitfield with bits past the list');
    }
    for (const id of range.ids) this.need.push(id);
    for (let i = 0; i < sent.length; i++) {
      if (((range.bitfield[i >> 3] as number) >> (i & 7)) & 1)
        this.have.push(sent[i] as Uint8Array);
    }
  }

  private flushSkip(): void {
    if (this.pendingSkip) {
      this.w.range({ upper: this.prevBound, mode: 'skip' });
      this.pendingSkip = false;
    }
  }

  /** Our answer to a mismatched range: an id list when small, else bucket fingerprints. */
  split(lower: number, upper: number, upperBound: Bound): void {
    if (upper - lower < this.params.idListThreshold) this.idList(lower, upper, upperBound);
    else this.splitIntoBuckets(lower, upper, upperBound);
  }

  idList(lower: number, upper: number, upperBound: Bound): void {
    this.flushSkip();
    const ids: Uint8Array[] = [];
    for (let i = lower; i < upper; i++) ids.push(this.storage.item(i).id);
    this.w.range({ upper: upperBound, mode: 'id-list', ids });
    if (this.role === 'initiator') {
      const key = boundKey(upperBound);
      this.sentIdLists.set(key, ids);
      this.listsAdded.push(key);
      this.open.push({ lower: this.prevBound, upper: upperBound });
    }
  }

  splitIntoBuckets(lower: number, upper: number, upperBound: Bound): void {
    const n = upper - lower;
    const buckets = n < this.params.smallRange ? this.params.smallBuckets : this.params.buckets;
    if (n < buckets) {
      this.idList(lower, upper, upperBound);
      return;
    }
    this.flushSkip();
    const s = this.storage;
    const per = Math.floor(n / buckets);
    const extra = n % buckets;
    let from = lower;
    let bucketLower = this.prevBound;
    for (let i = 0; i < buckets; i++) {
      const to = from + per + (i < extra ? 1 : 0);
      const bound = to === upper ? upperBound : minimalBound(s.item(to - 1), s.item(to));
      this.w.range({ upper: bound, mode: 'fingerprint', fingerprint: s.fingerprint(from, to) });
      if (this.role === 'initiator') this.open.push({ lower: bucketLower, upper: bound });
      bucketLower = bound;
      from = to;
    }
  }

  /** The responder's answer to an id list: what the initiator lacks, and a bitfield of what we lack. */
  private respond(lower: number, upper: number, range: Range & { mode: 'id-list' }): void {
    const theirs = new Set(range.ids.map(toHex));
    const ours = new Set<string>();
    const extra: Uint8Array[] = [];
    for (let i = lower; i < upper; i++) {
      const id = this.storage.item(i).id;
      const key = toHex(id);
      ours.add(key);
      if (!theirs.has(key)) extra.push(id);
    }
    const bitfield = new Uint8Array((range.ids.length + 7) >> 3);
    range.ids.forEach((id, i) => {
      if (!ours.has(toHex(id))) bitfield[i >> 3] = (bitfield[i >> 3] as number) | (1 << (i & 7));
    });
    this.flushSkip();
    this.w.range({ upper: range.upper, mode: 'id-list-response', ids: extra, bitfield });
  }

  /** Which of our items in [lower, upper) are missing from `theirs`, and which of theirs we lack. */
  private diff(lower: number, upper: number, theirs: readonly Uint8Array[]): void {
    const theirKeys = new Map(theirs.map((id) => [toHex(id), id] as const));
    for (let i = lower; i < upper; i++) {
      const id = this.storage.item(i).id;
      if (!theirKeys.delete(toHex(id))) this.have.push(id);
    }
    for (const id of theirKeys.values()) this.need.push(id);
  }

  /** The payload, or null when it holds nothing but skips (nothing left to ask). */
  payload(): Uint8Array | null {
    return this.w.length > 1 ? this.w.bytes() : null;
  }
}

/** The responder's side: stateless, one payload in, one payload out. */
export function respond(
  storage: ReconcileStorage,
  query: Uint8Array,
  params: ReconcileParams = DEFAULT_RECONCILE_PARAMS,
): Uint8Array {
  if (query.length > params.maxPayloadBytes) malformed(`a payload of ${query.length} bytes`);
  const pass = new Pass(storage, params, 'responder', new Map());
  for (const range of decodePayload(query)) if (!pass.range(range)) break;
  return pass.payload() ?? Uint8Array.of(0x01);
}

/** The initiator's side of one reconciliation with one peer. */
export class Initiator {
  private open: OpenRange[] = [];
  private sentIdLists = new Map<string, Uint8Array[]>();
  private finished = false;

  constructor(
    private readonly storage: ReconcileStorage,
    private readonly params: ReconcileParams = DEFAULT_RECONCILE_PARAMS,
  ) {}

  get done(): boolean {
    return this.finished;
  }

  /** The ranges still open: what {@link resume} needs after a disconnect. */
  openRanges(): OpenRange[] {
    return this.open.map((r) => ({ lower: r.lower, upper: r.upper }));
  }

  /** The first payload: the whole item space, split or listed. */
  start(): Uint8Array {
    return this.resume([{ lower: MIN_BOUND, upper: MAX_BOUND }]);
  }

  /** A payload that asks again about `open` ranges only (sorted, not overlapping); the rest is skipped. */
  resume(open: readonly OpenRange[]): Uint8Array {
    const pass = new Pass(this.storage, this.params, 'initiator', new Map());
    let prev: Bound = MIN_BOUND;
    const first =
      open.length === 1 &&
      compareBounds(open[0]?.lower ?? MIN_BOUND, MIN_BOUND) === 0 &&
      open[0]?.upper === MAX_BOUND;
    for (const r of open) {
      if (compareBounds(r.lower, prev) < 0 || compareBounds(r.upper, r.lower) <= 0) {
        throw new RangeError('open ranges must be sorted, non-empty and not overlap');
      }
      if (compareBounds(r.lower, prev) > 0 && !pass.range({ upper: r.lower, mode: 'skip' })) break;
      // The first round splits at once (there is surely something to compare); a resumed range
      // is asked about with one fingerprint, since it may have been settled in the meantime.
      if (!pass.own(r.upper, first)) break;
      prev = r.upper;
    }
    return this.adopt(pass) ?? Uint8Array.of(0x01);
  }

  /** Handles the responder's payload: the next payload (or null when done) and the differences found. */
  receive(reply: Uint8Array): RoundResult {
    if (reply.length > this.params.maxPayloadBytes) malformed(`a payload of ${reply.length} bytes`);
    const pass = new Pass(this.storage, this.params, 'initiator', this.sentIdLists);
    for (const range of decodePayload(reply)) if (!pass.range(range)) break;
    const next = this.adopt(pass);
    return { next, have: pass.have, need: pass.need };
  }

  private adopt(pass: Pass): Uint8Array | null {
    this.open = pass.open;
    this.sentIdLists = pass.sentIdLists;
    const payload = pass.payload();
    this.finished = payload === null || pass.open.length === 0;
    return this.finished ? null : payload;
  }
}
