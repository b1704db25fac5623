/**
 * What reconciliation orders and compares (spec/SYNC.md §5.1): an item is an event's
 * (`created_at`, id); items sort by timestamp, then id bytewise. A bound is a timestamp and an
 * id prefix: the position just before every item that is not smaller than it. Ranges are
 * half-open, [lower bound, upper bound).
 */
export const ID_BYTES = 32;

/** A timestamp greater than every `created_at`: the end of the item space. */
export const INFINITE_TIMESTAMP = Number.POSITIVE_INFINITY;

export interface Item {
  /** The event's `created_at` (Unix seconds, a safe integer). */
  readonly timestamp: number;
  /** The event id (32 bytes). */
  readonly id: Uint8Array;
}

export interface Bound {
  /** A `created_at`, or {@link INFINITE_TIMESTAMP}. */
  readonly timestamp: number;
  /** 0..32 bytes; compared as if padded with zero bytes to 32. */
  readonly idPrefix: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** The first bound: no item sorts before it. */
export const MIN_BOUND: Bound = Object.freeze({ timestamp: 0, idPrefix: EMPTY });
/** The last bound: every item sorts before it. */
export const MAX_BOUND: Bound = Object.freeze({ timestamp: INFINITE_TIMESTAMP, idPrefix: EMPTY });

function compareIds(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

export function compareItems(a: Item, b: Item): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return compareIds(a.id, b.id);
}

/** Negative when the item sorts before the bound (it lies in a range that ends at the bound). */
export function compareItemToBound(item: Item, bound: Bound): number {
  if (item.timestamp !== bound.timestamp) return item.timestamp < bound.timestamp ? -1 : 1;
  const prefix = bound.idPrefix;
  for (let i = 0; i < prefix.length; i++) {
    const d = (item.id[i] as number) - (prefix[i] as number);
    if (d !== 0) return d;
  }
  return 0; // the padding is zeros, so an id that matches the prefix is not below the bound
}

export function compareBounds(a: Bound, b: Bound): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  for (let i = 0; i < ID_BYTES; i++) {
    const d = (a.idPrefix[i] ?? 0) - (b.idPrefix[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The shortest bound that separates `prev` from `next` (prev < next): `prev` sorts before it,
 * `next` does not. The timestamp alone when they differ; else the shortest prefix of `next.id`
 * that differs from `prev.id`.
 */
export function minimalBound(prev: Item, next: Item): Bound {
  if (prev.timestamp !== next.timestamp) return { timestamp: next.timestamp, idPrefix: EMPTY };
  let shared = 0;
  while (shared < ID_BYTES && prev.id[shared] === next.id[shared]) shared++;
  return { timestamp: next.timestamp, idPrefix: next.id.slice(0, shared + 1) };
}

/** The bound of an item itself (all 32 bytes). */
export function boundOf(item: Item): Bound {
  return { timestamp: item.timestamp, idPrefix: item.id };
}
