/**
 * The in-memory filter in front of the replay index: replay key → the index partitions that
 * may hold a record under it. A new event's (author, nonce) is almost never stored, and the
 * filter says so without asking SQLite, whatever the number of partitions.
 *
 * It may answer a partition that holds no such record (a false positive: the caller's lookup
 * in SQLite then finds nothing), never the reverse for a record added through it: so its only
 * effect is which partitions are searched, never a verdict. It is rebuilt from the replay
 * table each time the store opens.
 *
 * Layout: open addressing with linear probing over two typed arrays, the top 32 bits of the
 * 48-bit index key (its home slot is taken from the highest bits, so the arrays can grow
 * without the original keys) and the partition. About 8 bytes per slot at a load of at most
 * 3/4: ~134 MB for 10 million records. Entries of pruned partitions are dropped lazily, when
 * they outnumber the live ones.
 */

const EMPTY = 0;
const MIN_CAPACITY = 1 << 12;
const MAX_LOAD = 0.75;
const TWO_16 = 65_536;

/** The stored top bits of a 48-bit key; 0 marks an empty slot, so key bits 0 become 1. */
function topBits(key48: number): number {
  const top = Math.floor(key48 / TWO_16) >>> 0;
  return top === EMPTY ? 1 : top;
}

export class ReplayFilter {
  #keys: Uint32Array;
  #parts: Uint32Array;
  #used = 0;
  #shift: number;
  readonly #dead = new Set<number>();
  #deadEntries = 0;
  readonly #perPart = new Map<number, number>();

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.#keys = new Uint32Array(cap);
    this.#parts = new Uint32Array(cap);
    this.#shift = 32 - Math.log2(cap);
  }

  /** Entries held (those of dropped partitions included until they are compacted away). */
  get size(): number {
    return this.#used;
  }

  /** Slots allocated (for the memory estimate). */
  get capacity(): number {
    return this.#keys.length;
  }

  /** Records that `part` may hold a record under `key48`. */
  add(key48: number, part: number): void {
    if (this.#dead.has(part)) this.#revive(part);
    if (this.#used + 1 > this.#keys.length * MAX_LOAD) this.#rebuild(this.#keys.length * 2);
    this.#put(topBits(key48), part);
    this.#used++;
    this.#perPart.set(part, (this.#perPart.get(part) ?? 0) + 1);
  }

  /**
   * The partitions that may hold a record under `key48`, each once, newest first; usually
   * none. `into` is cleared and filled.
   */
  candidates(key48: number, into: number[]): number[] {
    into.length = 0;
    const top = topBits(key48);
    const keys = this.#keys;
    const mask = keys.length - 1;
    for (let i = top >>> this.#shift; keys[i] !== EMPTY; i = (i + 1) & mask) {
      if (keys[i] !== top) continue;
      const part = this.#parts[i] as number;
      if (!this.#dead.has(part) && !into.includes(part)) into.push(part);
    }
    if (into.length > 1) into.sort((a, b) => b - a);
    return into;
  }

  /** Forgets every entry of `part` (its records were pruned). */
  drop(part: number): void {
    const n = this.#perPart.get(part);
    if (n === undefined) return;
    this.#perPart.delete(part);
    this.#dead.add(part);
    this.#deadEntries += n;
    if (this.#deadEntries * 2 > this.#used) this.#rebuild(this.#keys.length);
  }

  #put(top: number, part: number): void {
    const keys = this.#keys;
    const mask = keys.length - 1;
    let i = top >>> this.#shift;
    while (keys[i] !== EMPTY) i = (i + 1) & mask;
    keys[i] = top;
    this.#parts[i] = part;
  }

  /** A partition dropped and then given records again: its old entries go first. */
  #revive(part: number): void {
    this.#rebuild(this.#keys.length);
    this.#dead.delete(part);
  }

  /** Re-inserts the live entries into arrays of `capacity` slots (at least enough for them). */
  #rebuild(capacity: number): void {
    const oldKeys = this.#keys;
    const oldParts = this.#parts;
    const live = this.#used - this.#deadEntries;
    let cap = Math.max(MIN_CAPACITY, capacity);
    while (live + 1 > cap * MAX_LOAD) cap *= 2;
    this.#keys = new Uint32Array(cap);
    this.#parts = new Uint32Array(cap);
    this.#shift = 32 - Math.log2(cap);
    for (let i = 0; i < oldKeys.length; i++) {
      const top = oldKeys[i] as number;
      if (top === EMPTY) continue;
      const part = oldParts[i] as number;
      if (!this.#dead.has(part)) this.#put(top, part);
    }
    this.#used = live;
    this.#deadEntries = 0;
    this.#dead.clear();
  }
}
