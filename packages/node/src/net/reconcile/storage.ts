/**
 * What the reconciler reads: a sorted view of a set of items with range fingerprints. The
 * node's {@link SyncIndex} implements it with chunk sums; {@link SortedItems} is the plain
 * reference over an array (tests compare the two, and the bench loads big sets into either).
 */
import { toHex } from '../../protocol/bytes.js';
import { IdSum, type Sha256 } from './fingerprint.js';
import { type Bound, compareItems, compareItemToBound, type Item } from './items.js';

export interface ReconcileStorage {
  readonly size: number;
  /** The item at a position in sort order (0 <= index < size). */
  item(index: number): Item;
  /** The first position in [begin, end) whose item is not below `bound`, or `end`. */
  lowerBound(begin: number, end: number, bound: Bound): number;
  /** The fingerprint of the items at positions [begin, end). */
  fingerprint(begin: number, end: number): Uint8Array;
}

/** Binary search over any storage, by position. */
export function searchLowerBound(
  storage: Pick<ReconcileStorage, 'item'>,
  begin: number,
  end: number,
  bound: Bound,
): number {
  let lo = begin;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareItemToBound(storage.item(mid), bound) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A sorted, de-duplicated array of items: the reference storage. */
export class SortedItems implements ReconcileStorage {
  private readonly items: Item[];

  constructor(
    private readonly sha256: Sha256,
    items: Iterable<Item>,
  ) {
    const byId = new Map<string, Item>();
    for (const item of items) byId.set(toHex(item.id), item);
    this.items = [...byId.values()].sort(compareItems);
  }

  get size(): number {
    return this.items.length;
  }

  item(index: number): Item {
    const item = this.items[index];
    if (item === undefined) throw new RangeError(`no item at ${index}`);
    return item;
  }

  lowerBound(begin: number, end: number, bound: Bound): number {
    return searchLowerBound(this, begin, end, bound);
  }

  fingerprint(begin: number, end: number): Uint8Array {
    const sum = new IdSum();
    for (let i = begin; i < end; i++) sum.add(this.item(i).id);
    return sum.fingerprint(this.sha256);
  }

  all(): readonly Item[] {
    return this.items;
  }
}
