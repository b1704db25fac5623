/**
 * The set a node reconciles (spec/SYNC.md §6): the ids it has decided on and that have not
 * expired, each with its `created_at` and `expires_at`. Kept in memory, in sorted chunks of at
 * most {@link CHUNK_ITEMS} items, each chunk with the sum of its ids, so that inserting costs
 * O(chunk + chunks) and a range fingerprint adds a few chunk sums instead of every id.
 *
 * The node fills it from storage at start and after each durable commit; it never holds an id
 * that is not durable, so what it tells peers it has, it has.
 */
import { toHex } from '../../protocol/bytes.js';
import { IdSum, type Sha256 } from './fingerprint.js';
import { type Bound, compareItems, type Item } from './items.js';
import { type ReconcileStorage, searchLowerBound } from './storage.js';

export const CHUNK_ITEMS = 128;

/** Why an id is in the set: accepted, or kept as evidence of an author's equivocation (§6.3). */
export type EntryKind = 'accepted' | 'conflict';

export interface IndexEntry extends Item {
  readonly expiresAt: number;
  readonly kind: EntryKind;
}

/** An entry as held: with its id in hex (the map key), computed once. */
export interface HeldEntry extends IndexEntry {
  readonly key: string;
}

interface Chunk {
  entries: HeldEntry[];
  readonly sum: IdSum;
}

/** A binary min-heap of (expiresAt, id) for pruning. */
class ExpiryHeap {
  private readonly heap: HeldEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: HeldEntry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as HeldEntry).expiresAt <= entry.expiresAt) break;
      h[i] = h[parent] as HeldEntry;
      i = parent;
    }
    h[i] = entry;
  }

  peek(): HeldEntry | undefined {
    return this.heap[0];
  }

  pop(): HeldEntry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const mv = (k: number) => (k === i ? last : (h[k] as HeldEntry)).expiresAt;
        if (l < h.length && mv(l) < mv(m)) m = l;
        if (r < h.length && mv(r) < mv(m)) m = r;
        if (m === i) break;
        h[i] = h[m] as HeldEntry;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

export class SyncIndex implements ReconcileStorage {
  private chunks: Chunk[] = [];
  private starts: number[] = [];
  private startsValid = true;
  private count = 0;
  private readonly byId = new Map<string, HeldEntry>();
  private readonly expiry = new ExpiryHeap();

  constructor(private readonly sha256: Sha256) {}

  get size(): number {
    return this.count;
  }

  has(id: Uint8Array): boolean {
    return this.byId.has(toHex(id));
  }

  /** Membership by the id in hex (no conversion). */
  hasKey(key: string): boolean {
    return this.byId.has(key);
  }

  get(id: Uint8Array): HeldEntry | undefined {
    return this.byId.get(toHex(id));
  }

  /**
   * Adds an entry; false when the id is already there (its first entry stays). `key`: the id
   * in hex, when the caller has it already.
   */
  insert(entry: IndexEntry, key = toHex(entry.id)): boolean {
    if (this.byId.has(key)) return false;
    const stored: HeldEntry = {
      timestamp: entry.timestamp,
      id: Uint8Array.from(entry.id),
      expiresAt: entry.expiresAt,
      kind: entry.kind,
      key,
    };
    this.byId.set(key, stored);
    this.expiry.push(stored);
    this.count++;
    this.startsValid = false;
    if (this.chunks.length === 0) {
      this.chunks.push({ entries: [], sum: new IdSum() });
    }
    const ci = this.chunkFor(stored);
    const chunk = this.chunks[ci] as Chunk;
    let lo = 0;
    let hi = chunk.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareItems(chunk.entries[mid] as Item, stored) < 0) lo = mid + 1;
      else hi = mid;
    }
    chunk.entries.splice(lo, 0, stored);
    chunk.sum.add(stored.id);
    if (chunk.entries.length > CHUNK_ITEMS) this.split(ci);
    return true;
  }

  /** Removes an id; false when it was not there. */
  remove(id: Uint8Array): boolean {
    const key = toHex(id);
    const entry = this.byId.get(key);
    if (entry === undefined) return false;
    this.byId.delete(key);
    const ci = this.chunkFor(entry);
    const chunk = this.chunks[ci] as Chunk;
    const at = chunk.entries.indexOf(entry);
    if (at < 0) throw new Error('sync index out of step with its id map');
    chunk.entries.splice(at, 1);
    chunk.sum.subtract(entry.id);
    if (chunk.entries.length === 0) this.chunks.splice(ci, 1);
    this.count--;
    this.startsValid = false;
    return true;
  }

  /** Drops every entry with `expiresAt <= now` (they are no longer in the set); returns them. */
  pruneExpired(now: number): HeldEntry[] {
    const gone: HeldEntry[] = [];
    for (
      let top = this.expiry.peek();
      top !== undefined && top.expiresAt <= now;
      top = this.expiry.peek()
    ) {
      this.expiry.pop();
      if (this.byId.get(top.key) === top && this.remove(top.id)) gone.push(top);
    }
    return gone;
  }

  item(index: number): HeldEntry {
    const ci = this.locate(index);
    const entry = (this.chunks[ci] as Chunk).entries[index - (this.starts[ci] as number)];
    if (entry === undefined) throw new RangeError(`no item at ${index}`);
    return entry;
  }

  lowerBound(begin: number, end: number, bound: Bound): number {
    return searchLowerBound(this, begin, end, bound);
  }

  fingerprint(begin: number, end: number): Uint8Array {
    const sum = new IdSum();
    if (begin < end) {
      const first = this.locate(begin);
      const last = this.locate(end - 1);
      for (let ci = first; ci <= last; ci++) {
        const chunk = this.chunks[ci] as Chunk;
        const start = this.starts[ci] as number;
        const from = Math.max(begin, start) - start;
        const to = Math.min(end, start + chunk.entries.length) - start;
        if (from === 0 && to === chunk.entries.length) sum.addSum(chunk.sum);
        else for (let i = from; i < to; i++) sum.add((chunk.entries[i] as Item).id);
      }
    }
    return sum.fingerprint(this.sha256);
  }

  /** Every entry in sort order. */
  *entries(): IterableIterator<HeldEntry> {
    for (const chunk of this.chunks) yield* chunk.entries;
  }

  private chunkFor(item: Item): number {
    // the last chunk whose first item is not after `item` (chunk 0 takes anything smaller)
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const first = (this.chunks[mid] as Chunk).entries[0] as Item;
      if (compareItems(first, item) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private split(ci: number): void {
    const chunk = this.chunks[ci] as Chunk;
    const half = chunk.entries.length >> 1;
    const right: Chunk = { entries: chunk.entries.slice(half), sum: new IdSum() };
    chunk.entries = chunk.entries.slice(0, half);
    chunk.sum.clear();
    for (const e of chunk.entries) chunk.sum.add(e.id);
    for (const e of right.entries) right.sum.add(e.id);
    this.chunks.splice(ci + 1, 0, right);
  }

  private locate(index: number): number {
    if (index < 0 || index >= this.count) throw new RangeError(`no item at ${index}`);
    if (!this.startsValid) {
      this.starts = new Array<number>(this.chunks.length);
      let at = 0;
      for (let i = 0; i < this.chunks.length; i++) {
        this.starts[i] = at;
        at += (this.chunks[i] as Chunk).entries.length;
      }
      this.startsValid = true;
    }
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.starts[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
