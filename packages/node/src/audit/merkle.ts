/**
 * RFC 6962 Merkle trees (the Certificate Transparency log tree), kept apart from storage so
 * that the proofs and their verifiers can be tested against the reference vectors alone.
 *
 * - leaf hash:  SHA-256(0x00 || entry)
 * - node hash:  SHA-256(0x01 || left || right)
 * - MTH of n > 1 leaves splits at k, the largest power of two smaller than n (RFC 6962 §2.1);
 *   the empty tree's hash is SHA-256 of the empty string.
 *
 * Sizes and indices are JavaScript numbers (exact up to 2^53), so bit tricks are written as
 * arithmetic: `>>` would wrap above 2^31.
 */

/** A SHA-256 function; storage passes the fastest one it has. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/**
 * MTH(D[start:end]) of the leaves of a tree. Proof builders ask only for the ranges that the
 * RFC's recursion produces, so a complete range is always aligned to its own size.
 */
export type SubtreeHash = (start: number, end: number) => Uint8Array;

export const HASH_SIZE = 32;

/**
 * The log's database keeps the complete subtrees from this level up (`audit_nodes`; lower ones
 * are recomputed from the leaves): storage/audit-log.ts writes them, `audit verify` requires
 * exactly these rows (verify.ts).
 */
export const STORED_NODE_LEVEL = 4;

const EMPTY = new Uint8Array(0);

export function emptyRoot(sha256: Sha256): Uint8Array {
  return sha256(EMPTY);
}

export function hashLeaf(sha256: Sha256, entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf[0] = 0x00;
  buf.set(entry, 1);
  return sha256(buf);
}

export function hashChildren(sha256: Sha256, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + HASH_SIZE * 2);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + HASH_SIZE);
  return sha256(buf);
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** MTH over leaf hashes held in memory; O(n), the reference the incremental tree must match. */
export function rootOfLeaves(sha256: Sha256, leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot(sha256);
  const mth = (start: number, end: number): Uint8Array => {
    if (end - start === 1) return leafHashes[start] as Uint8Array;
    const k = splitPoint(end - start);
    return hashChildren(sha256, mth(start, start + k), mth(start + k, end));
  };
  return mth(0, leafHashes.length);
}

/** A {@link SubtreeHash} over leaf hashes held in memory (tests, small trees). */
export function subtreeOfLeaves(sha256: Sha256, leafHashes: readonly Uint8Array[]): SubtreeHash {
  return (start, end) => rootOfLeaves(sha256, leafHashes.slice(start, end));
}

function checkSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a size, got ${n}`);
}

/**
 * PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `index` in the tree of the first
 * `size` leaves, ordered from the leaf's sibling up to the root's child.
 */
export function inclusionProof(index: number, size: number, subtree: SubtreeHash): Uint8Array[] {
  checkSize('size', size);
  checkSize('index', index);
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const path: Uint8Array[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      path.push(subtree(start + k, end));
    } else {
      walk(m - k, start + k, end);
      path.push(subtree(start, start + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/**
 * PROOF(m, D[n]) of RFC 6962 §2.1.2: proves that the tree of the first m leaves is a prefix of
 * the tree of n leaves. Empty when m is 0 or m equals n (nothing to prove).
 */
export function consistencyProof(m: number, n: number, subtree: SubtreeHash): Uint8Array[] {
  checkSize('m', m);
  checkSize('n', n);
  if (m > n) throw new RangeError(`no consistency proof from size ${m} to the smaller ${n}`);
  const proof: Uint8Array[] = [];
  if (m === 0 || m === n) return proof;
  // SUBPROOF(m, D[start:end], b)
  const sub = (mm: number, start: number, end: number, whole: boolean): void => {
    const size = end - start;
    if (mm === size) {
      if (!whole) proof.push(subtree(start, end));
      return;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      sub(mm, start, start + k, whole);
      proof.push(subtree(start + k, end));
    } else {
      sub(mm - k, start + k, end, false);
      proof.push(subtree(start, start + k));
    }
  };
  sub(m, 0, n, true);
  return proof;
}

function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

function wellFormed(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE);
}

/**
 * Verifies an inclusion proof as RFC 9162 §2.1.3.2 describes. Never throws: any malformed
 * input is `false`.
 */
export function verifyInclusion(
  sha256: Sha256,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0) return false;
  if (index >= size) return false;
  if (!wellFormed([leafHash, root, ...proof])) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = hashChildren(sha256, p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(sha256, r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(r, root);
}

/**
 * Verifies a consistency proof between the tree of `m` leaves (root `oldRoot`) and the tree of
 * `n` leaves (root `newRoot`) as RFC 9162 §2.1.4.2 describes. For m = n the proof must be
 * empty and the roots equal; for m = 0 the proof must be empty (every tree extends the empty
 * one). Never throws.
 */
export function verifyConsistency(
  sha256: Sha256,
  m: number,
  n: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (!wellFormed([oldRoot, newRoot, ...proof])) return false;
  if (m === n) return proof.length === 0 && equalHashes(oldRoot, newRoot);
  if (m === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = hashChildren(sha256, c, fr);
      sr = hashChildren(sha256, c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sha256, sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(fr, oldRoot) && equalHashes(sr, newRoot);
}

/** A complete subtree: the leaves [index·2^level, (index+1)·2^level). */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

/**
 * The compact range [0, size) of an append-only tree: one hash per set bit of `size`, the
 * largest (leftmost) subtree first. Appending costs O(log n) hashes (one on average) and
 * reports every complete subtree it closes, so a caller can store the ones it wants to serve
 * proofs from; the root of the current size costs one hash per set bit.
 */
export class CompactRange {
  #size: number;
  readonly #hashes: Uint8Array[];
  readonly #sha256: Sha256;

  /** `hashes` must be the compact range of `size` (see {@link CompactRange.levels}). */
  constructor(sha256: Sha256, size = 0, hashes: readonly Uint8Array[] = []) {
    checkSize('size', size);
    if (CompactRange.levels(size).length !== hashes.length) {
      throw new RangeError(`a compact range of size ${size} has one hash per set bit`);
    }
    this.#sha256 = sha256;
    this.#size = size;
    this.#hashes = [...hashes];
  }

  /**
   * The compact range of [0, size) from its subtrees' hashes: `subtree(level, index)` is the
   * hash of the `index`-th subtree of 2^level leaves.
   */
  static of(
    sha256: Sha256,
    size: number,
    subtree: (level: number, index: number) => Uint8Array,
  ): CompactRange {
    const hashes: Uint8Array[] = [];
    let start = 0;
    for (const level of CompactRange.levels(size)) {
      const width = 2 ** level;
      hashes.push(subtree(level, start / width));
      start += width;
    }
    return new CompactRange(sha256, size, hashes);
  }

  /** The levels of the subtrees that make up [0, size), left to right (highest first). */
  static levels(size: number): number[] {
    const levels: number[] = [];
    let s = size;
    for (let level = 0; s > 0; level++, s = half(s)) if (odd(s)) levels.unshift(level);
    return levels;
  }

  get size(): number {
    return this.#size;
  }

  get hashes(): readonly Uint8Array[] {
    return this.#hashes;
  }

  clone(): CompactRange {
    return new CompactRange(this.#sha256, this.#size, this.#hashes);
  }

  /** Appends one leaf hash; `closed` is called for every complete subtree above level 0. */
  append(leafHash: Uint8Array, closed?: (node: TreeNode) => void): void {
    let hash = leafHash;
    let index = this.#size;
    let level = 0;
    for (let s = this.#size; odd(s); s = half(s)) {
      const left = this.#hashes.pop() as Uint8Array;
      hash = hashChildren(this.#sha256, left, hash);
      level++;
      index = half(index);
      closed?.({ level, index, hash });
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  /**
   * Appends the leaf hashes packed back to back in `leaves` (32 bytes each): the same range
   * and the same complete subtrees (`closed`, level by level rather than leaf by leaf) as
   * {@link append} for each in turn, but the node hashes of one level come from ONE call of
   * `hashNodes`, which gets `count` node inputs (0x01 ‖ left ‖ right, 65 bytes each) back to
   * back and returns their SHA-256 digests back to back. A commit appends a thousand leaves:
   * one batched native call per level instead of a thousand one-shot hashes.
   * `closedFrom`: the lowest level whose complete subtrees `closed` gets (default 1, all);
   * the audit log keeps only level 4 and up, and a node object for each of the ~7/8 below cost
   * an allocation per leaf for nothing.
   */
  appendMany(
    leaves: Uint8Array,
    hashNodes: (inputs: Uint8Array, count: number) => Uint8Array,
    closed?: (node: TreeNode) => void,
    closedFrom = 1,
  ): void {
    if (leaves.length % HASH_SIZE !== 0) throw new RangeError('leaf hashes are 32 bytes each');
    const n = leaves.length / HASH_SIZE;
    if (n === 0) return;
    const oldSize = this.#size;
    const newSize = oldSize + n;
    const old = new Map<number, Uint8Array>();
    for (const [i, level] of CompactRange.levels(oldSize).entries())
      old.set(level, this.#hashes[i] as Uint8Array);
    // At each level, the run of nodes made by this append: indices [start, end), end being
    // floor(newSize / 2^level), so the run's last node is the new range's node of that level.
    const lastOfRun: Uint8Array[] = [];
    let run = leaves;
    let start = oldSize;
    let end = newSize;
    for (let level = 0; ; level++) {
      lastOfRun.push(run.subarray(run.length - HASH_SIZE));
      // an odd start is a right child: its left sibling is the old range's node of this level
      const lo = odd(start) ? start - 1 : start;
      const parents = half(end) - lo / 2;
      if (parents <= 0) break;
      const inputs = new Uint8Array(parents * (1 + 2 * HASH_SIZE));
      for (let j = 0; j < parents; j++) {
        const o = j * (1 + 2 * HASH_SIZE);
        inputs[o] = 0x01;
        const left = lo + 2 * j;
        if (left < start) {
          // the old range's node of this level, then the run's first
          inputs.set(old.get(level) as Uint8Array, o + 1);
          inputs.set(run.subarray(0, HASH_SIZE), o + 1 + HASH_SIZE);
        } else {
          // both children lie side by side in the run: one copy
          const from = (left - start) * HASH_SIZE;
          inputs.set(run.subarray(from, from + 2 * HASH_SIZE), o + 1);
        }
      }
      const hashes = hashNodes(inputs, parents);
      if (hashes.length !== parents * HASH_SIZE) throw new RangeError('hashNodes: wrong length');
      if (closed !== undefined && level + 1 >= closedFrom)
        for (let j = 0; j < parents; j++)
          closed({
            level: level + 1,
            index: lo / 2 + j,
            hash: hashes.subarray(j * HASH_SIZE, (j + 1) * HASH_SIZE),
          });
      run = hashes;
      start = lo / 2;
      end = half(end);
    }
    // levels the append reached take its runs' last nodes; the levels above are unchanged
    this.#hashes.length = 0;
    for (const level of CompactRange.levels(newSize))
      this.#hashes.push(
        level < lastOfRun.length
          ? (lastOfRun[level] as Uint8Array)
          : (old.get(level) as Uint8Array),
      );
    this.#size = newSize;
  }

  root(): Uint8Array {
    const n = this.#hashes.length;
    if (n === 0) return emptyRoot(this.#sha256);
    let r = this.#hashes[n - 1] as Uint8Array;
    for (let i = n - 2; i >= 0; i--)
      r = hashChildren(this.#sha256, this.#hashes[i] as Uint8Array, r);
    return r;
  }
}
