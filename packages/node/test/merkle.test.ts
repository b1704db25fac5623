/**
 * RFC 6962 Merkle tree: the reference vectors of transparency-dev/merkle
 * (test/vectors/rfc6962.json) for roots, subtrees, inclusion and consistency proofs and their
 * verifiers (RFC 9162 §2.1.3.2, §2.1.4.2), checked with both SHA-256 sources the log uses,
 * plus properties: every proof of a random tree verifies, every tampered one does not, and the
 * incremental compact range always agrees with the recursive definition.
 */
import { readFileSync } from 'node:fs';

import { type Core, loadCore } from '@commons-sync/bindings';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { sha256One } from '../src/audit/hash.js';
import {
  CompactRange,
  consistencyProof,
  hashLeaf,
  inclusionProof,
  rootOfLeaves,
  type Sha256,
  subtreeOfLeaves,
  verifyConsistency,
  verifyInclusion,
} from '../src/audit/merkle.js';

interface Vectors {
  source: string;
  license: string;
  leafInputs: string[];
  rootsBySize: string[];
  nodeHashes: string[][];
  inclusionProofs: { index: number; size: number; proof: string[] }[];
  consistencyProofs: { size1: number; size2: number; proof: string[] }[];
}

const V = JSON.parse(
  readFileSync(new URL('./vectors/rfc6962.json', import.meta.url), 'utf8'),
) as Vectors;
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const flipBit = (b: Uint8Array, i: number, bit: number): void => {
  b[i] = (b[i] as number) ^ (1 << bit);
};
const hexes = (bs: readonly Uint8Array[]): string[] => bs.map(hex);

let core: Core;
beforeAll(async () => {
  core = await loadCore();
});

const SOURCES: [string, () => Sha256][] = [
  ['node:crypto one-shot', () => sha256One],
  ['core.sha256', () => (d) => core.sha256(d)],
];

/** Mutations of a valid inclusion proof that must all fail (after transparency-dev's list). */
function inclusionProbes(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
) {
  const some = bytes('abacaba000000000000000000000000000000000000000000060061e00123456');
  const empty = bytes('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const probes: [string, number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
    ['index - 1', index - 1, size, leaf, proof, root],
    ['index + 1', index + 1, size, leaf, proof, root],
    ['index ^ 2', index ^ 2, size, leaf, proof, root],
    ['size * 2', index, size * 2, leaf, proof, root],
    ['size / 2', index, Math.floor(size / 2), leaf, proof, root],
    ['wrong leaf', index, size, new TextEncoder().encode('WrongLeaf'), proof, root],
    ['empty root', index, size, leaf, proof, empty],
    ['random root', index, size, leaf, proof, some],
    ['trailing garbage', index, size, leaf, [...proof, new Uint8Array(0)], root],
    ['trailing root', index, size, leaf, [...proof, root], root],
    ['preceding garbage', index, size, leaf, [new Uint8Array(0), ...proof], root],
    ['preceding root', index, size, leaf, [root, ...proof], root],
  ];
  proof.forEach((_, i) => {
    const wrong = proof.map((p) => new Uint8Array(p));
    flipBit(wrong[i] as Uint8Array, 0, 3);
    probes.push([`flipped proof[${i}]`, index, size, leaf, wrong, root]);
  });
  if (proof.length > 0) probes.push(['removed last', index, size, leaf, proof.slice(0, -1), root]);
  if (proof.length > 1) {
    probes.push([
      'inserted',
      index,
      size,
      leaf,
      [proof[0] as Uint8Array, some, ...proof.slice(1)],
      root,
    ]);
  }
  return probes;
}

function consistencyProbes(
  m: number,
  n: number,
  r1: Uint8Array,
  r2: Uint8Array,
  proof: Uint8Array[],
) {
  const wrongRoot = new TextEncoder().encode('WrongRoot');
  const probes: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
    ['m - 1', m - 1, n, r1, r2, proof],
    ['m + 1', m + 1, n, r1, r2, proof],
    ['m ^ 2', m ^ 2, n, r1, r2, proof],
    ['n * 2', m, n * 2, r1, r2, proof],
    ['n / 2', m, Math.floor(n / 2), r1, r2, proof],
    ['wrong root1', m, n, wrongRoot, r2, proof],
    ['wrong root2', m, n, r1, wrongRoot, proof],
    ['swapped roots', m, n, r2, r1, proof],
    ['empty proof', m, n, r1, r2, []],
    ['trailing garbage', m, n, r1, r2, [...proof, new Uint8Array(0)]],
    ['trailing root1', m, n, r1, r2, [...proof, r1]],
    ['trailing root2', m, n, r1, r2, [...proof, r2]],
    ['preceding garbage', m, n, r1, r2, [new Uint8Array(0), ...proof]],
    ['preceding root1', m, n, r1, r2, [r1, ...proof]],
    ['preceding root2', m, n, r1, r2, [r2, ...proof]],
    ['preceding proof[0]', m, n, r1, r2, [proof[0] as Uint8Array, ...proof]],
    ['truncated', m, n, r1, r2, proof.slice(0, -1)],
  ];
  proof.forEach((_, i) => {
    const wrong = proof.map((p) => new Uint8Array(p));
    flipBit(wrong[i] as Uint8Array, 0, 4);
    probes.push([`flipped proof[${i}]`, m, n, r1, r2, wrong]);
  });
  return probes;
}

describe.each(SOURCES)('RFC 6962 vectors (%s)', (_name, source) => {
  let H: Sha256;
  let leaves: Uint8Array[];
  beforeAll(() => {
    H = source();
    leaves = V.leafInputs.map((l) => hashLeaf(H, bytes(l)));
  });

  it('names its source and license', () => {
    expect(V.source).toContain('transparency-dev/merkle');
    expect(V.license).toContain('Apache-2.0');
  });

  it('hashes leaves and complete subtrees', () => {
    expect(hexes(leaves)).toEqual(V.nodeHashes[0]);
    V.nodeHashes.forEach((level, l) => {
      level.forEach((h, i) => {
        expect(hex(rootOfLeaves(H, leaves.slice(i * 2 ** l, (i + 1) * 2 ** l)))).toBe(h);
      });
    });
  });

  it('computes the root of every size, recursively and incrementally', () => {
    const range = new CompactRange(H);
    V.rootsBySize.forEach((root, size) => {
      expect(hex(rootOfLeaves(H, leaves.slice(0, size)))).toBe(root);
      expect(range.size).toBe(size);
      expect(hex(range.root())).toBe(root);
      if (size < leaves.length) range.append(leaves[size] as Uint8Array);
    });
  });

  it('keeps the compact range of transparency-dev CompactTrees()', () => {
    const nh = V.nodeHashes as [string[], string[], string[], string[]];
    const expected = [
      [],
      [nh[0][0]],
      [nh[1][0]],
      [nh[1][0], nh[0][2]],
      [nh[2][0]],
      [nh[2][0], nh[0][4]],
      [nh[2][0], nh[1][2]],
      [nh[2][0], nh[1][2], nh[0][6]],
      [nh[3][0]],
    ];
    const range = new CompactRange(H);
    expected.forEach((want, size) => {
      expect(hexes(range.hashes)).toEqual(want);
      if (size < leaves.length) range.append(leaves[size] as Uint8Array);
    });
  });

  it('builds and verifies the inclusion proofs, and rejects every corruption', () => {
    for (const v of V.inclusionProofs) {
      const proof = inclusionProof(v.index, v.size, subtreeOfLeaves(H, leaves.slice(0, v.size)));
      expect(hexes(proof)).toEqual(v.proof);
      const root = bytes(V.rootsBySize[v.size] as string);
      const leaf = leaves[v.index] as Uint8Array;
      expect(verifyInclusion(H, v.index, v.size, leaf, proof, root)).toBe(true);
      if (v.size === 1) continue; // the probes below assume a non-trivial path
      for (const [what, i, n, l, p, r] of inclusionProbes(v.index, v.size, leaf, proof, root)) {
        expect(verifyInclusion(H, i, n, l, p, r), what).toBe(false);
      }
    }
  });

  it('rejects inclusion claims without a tree', () => {
    const some = bytes('abacaba000000000000000000000000000000000000000000060061e00123456');
    const empty = bytes(V.rootsBySize[0] as string);
    for (const [index, size] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [2, 1],
    ] as const) {
      expect(verifyInclusion(H, index, size, some, [], new Uint8Array(0))).toBe(false);
      expect(verifyInclusion(H, index, size, new Uint8Array(0), [], empty)).toBe(false);
      expect(verifyInclusion(H, index, size, some, [], empty)).toBe(false);
    }
    const single = hashLeaf(H, new TextEncoder().encode('data'));
    expect(verifyInclusion(H, 0, 1, single, [], single)).toBe(true);
    expect(verifyInclusion(H, 0, 1, single, [], new Uint8Array(0))).toBe(false);
  });

  it('builds and verifies the consistency proofs, and rejects every corruption', () => {
    for (const v of V.consistencyProofs) {
      const proof = consistencyProof(
        v.size1,
        v.size2,
        subtreeOfLeaves(H, leaves.slice(0, v.size2)),
      );
      expect(hexes(proof)).toEqual(v.proof);
      const r1 = bytes(V.rootsBySize[v.size1] as string);
      const r2 = bytes(V.rootsBySize[v.size2] as string);
      expect(verifyConsistency(H, v.size1, v.size2, r1, r2, proof)).toBe(true);
      if (proof.length === 0) continue;
      for (const [what, m, n, a, b, p] of consistencyProbes(v.size1, v.size2, r1, r2, proof)) {
        expect(verifyConsistency(H, m, n, a, b, p), what).toBe(false);
      }
    }
  });

  it('handles the trivial consistency cases as RFC 9162 does', () => {
    const r1 = H(new TextEncoder().encode("don't care 1"));
    const r2 = H(new TextEncoder().encode("don't care 2"));
    const empty = bytes(V.rootsBySize[0] as string);
    const cases: [number, number, Uint8Array, Uint8Array, Uint8Array[], boolean][] = [
      [0, 0, r1, r2, [], false],
      [1, 1, r1, r2, [], false],
      [0, 0, r1, r1, [], true],
      [0, 1, r1, r2, [], true],
      [1, 1, r2, r2, [], true],
      [1, 0, r1, r2, [], false],
      [2, 1, r1, r2, [], false],
      [1, 2, r1, r2, [], false],
      [0, 0, empty, empty, [empty], false],
      [0, 1, empty, empty, [empty], false],
      [1, 1, empty, empty, [empty], false],
    ];
    for (const [m, n, a, b, p, want] of cases) {
      expect(verifyConsistency(H, m, n, a, b, p), `${m}->${n}`).toBe(want);
    }
  });
});

describe('properties of random trees', () => {
  const H = sha256One;
  // Distinct leaves: with two equal leaves, proving one at the other's index is legitimately true.
  const leavesArb = fc.uniqueArray(fc.uint8Array({ minLength: 0, maxLength: 16 }), {
    minLength: 1,
    maxLength: 200,
    selector: (l) => hex(l),
  });

  it('every inclusion proof verifies; a tampered one does not', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), fc.nat({ max: 255 }), (inputs, a, b, bit) => {
        const leaves = inputs.map((l) => hashLeaf(H, l));
        const size = 1 + (a % leaves.length);
        const index = b % size;
        const tree = leaves.slice(0, size);
        const root = rootOfLeaves(H, tree);
        const proof = inclusionProof(index, size, subtreeOfLeaves(H, tree));
        const leaf = leaves[index] as Uint8Array;
        expect(verifyInclusion(H, index, size, leaf, proof, root)).toBe(true);
        // A different leaf at that index, or the leaf at another index, does not verify.
        const other = new Uint8Array(leaf);
        flipBit(other, bit % 32, bit % 8);
        expect(verifyInclusion(H, index, size, other, proof, root)).toBe(false);
        if (size > 1) {
          const j = (index + 1 + (bit % (size - 1))) % size;
          expect(verifyInclusion(H, j, size, leaf, proof, root)).toBe(false);
        }
        if (proof.length > 0) {
          const k = bit % proof.length;
          const bad = proof.map((p, i) =>
            i === k ? p.map((x, y) => (y === bit % 32 ? x ^ 1 : x)) : p,
          );
          expect(verifyInclusion(H, index, size, leaf, bad, root)).toBe(false);
          expect(verifyInclusion(H, index, size, leaf, proof.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(H, index, size, leaf, [...proof, root], root)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('every consistency proof verifies; a tampered one does not', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), fc.nat({ max: 255 }), (inputs, a, b, bit) => {
        const leaves = inputs.map((l) => hashLeaf(H, l));
        const n = 1 + (a % leaves.length);
        const m = 1 + (b % n);
        const r1 = rootOfLeaves(H, leaves.slice(0, m));
        const r2 = rootOfLeaves(H, leaves.slice(0, n));
        const proof = consistencyProof(m, n, subtreeOfLeaves(H, leaves.slice(0, n)));
        expect(verifyConsistency(H, m, n, r1, r2, proof)).toBe(true);
        if (m === n) return;
        const k = bit % proof.length;
        const bad = proof.map((p, i) =>
          i === k ? p.map((x, y) => (y === bit % 32 ? x ^ 1 : x)) : p,
        );
        expect(verifyConsistency(H, m, n, r1, r2, bad)).toBe(false);
        expect(verifyConsistency(H, m, n, r1, r2, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(H, m, n, r2, r1, proof)).toBe(false);
        const r1bad = new Uint8Array(r1);
        flipBit(r1bad, bit % 32, 0);
        expect(verifyConsistency(H, m, n, r1bad, r2, proof)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('the compact range agrees with the recursive root at every size', () => {
    fc.assert(
      fc.property(leavesArb, (inputs) => {
        const leaves = inputs.map((l) => hashLeaf(H, l));
        const range = new CompactRange(H);
        const closed: string[] = [];
        leaves.forEach((leaf, i) => {
          range.append(leaf, (node) => {
            const w = 2 ** node.level;
            expect(hex(node.hash)).toBe(
              hex(rootOfLeaves(H, leaves.slice(node.index * w, (node.index + 1) * w))),
            );
            closed.push(`${node.level}/${node.index}`);
          });
          expect(hex(range.root())).toBe(hex(rootOfLeaves(H, leaves.slice(0, i + 1))));
        });
        // Every complete subtree above the leaves is reported exactly once: n - popcount(n).
        const popcount = leaves.length.toString(2).replace(/0/g, '').length;
        expect(new Set(closed).size).toBe(closed.length);
        expect(closed.length).toBe(leaves.length - popcount);
      }),
      { numRuns: 60 },
    );
  });

  it('appending many leaves at once gives the range and subtrees of appending one by one', () => {
    // node hashes in one batch per level, as the audit log hashes them (one native call)
    const hashNodes = (inputs: Uint8Array, count: number): Uint8Array => {
      const out = new Uint8Array(count * 32);
      for (let j = 0; j < count; j++) out.set(H(inputs.subarray(j * 65, (j + 1) * 65)), j * 32);
      return out;
    };
    fc.assert(
      fc.property(
        fc.nat({ max: 300 }),
        fc.array(fc.nat({ max: 70 }), { minLength: 1, maxLength: 6 }),
        (first, chunks) => {
          const total = first + chunks.reduce((a, b) => a + b, 0);
          const leaves = Array.from({ length: total }, (_, i) =>
            hashLeaf(H, new TextEncoder().encode(`leaf ${i}`)),
          );
          const one = new CompactRange(H);
          const many = new CompactRange(H);
          const closedOne = new Map<string, string>();
          const closedMany = new Map<string, string>();
          leaves.forEach((leaf) => {
            one.append(leaf, (n) => closedOne.set(`${n.level}/${n.index}`, hex(n.hash)));
          });
          for (const leaf of leaves.slice(0, first)) many.append(leaf);
          let at = first;
          for (const n of chunks) {
            const packed = new Uint8Array(n * 32);
            for (const [i, leaf] of leaves.slice(at, at + n).entries()) packed.set(leaf, i * 32);
            many.appendMany(packed, hashNodes, (node) => {
              const key = `${node.level}/${node.index}`;
              expect(closedMany.has(key)).toBe(false);
              closedMany.set(key, hex(node.hash));
            });
            at += n;
            expect(many.size).toBe(at);
            expect(hex(many.root())).toBe(hex(rootOfLeaves(H, leaves.slice(0, at))));
          }
          expect(hex(many.root())).toBe(hex(one.root()));
          // the subtrees closed after the first `first` leaves, and only those
          const before = new CompactRange(H);
          const early = new Set<string>();
          for (const leaf of leaves.slice(0, first))
            before.append(leaf, (n) => early.add(`${n.level}/${n.index}`));
          for (const k of early) closedOne.delete(k);
          expect(new Map([...closedMany].sort())).toEqual(new Map([...closedOne].sort()));
          // from a given level up only (the audit log keeps level 4 and up)
          const from = 1 + (first % 5);
          const high = new CompactRange(H);
          for (const leaf of leaves.slice(0, first)) high.append(leaf);
          const closedHigh = new Map<string, string>();
          let at2 = first;
          for (const n of chunks) {
            const packed = new Uint8Array(n * 32);
            for (const [i, leaf] of leaves.slice(at2, at2 + n).entries()) packed.set(leaf, i * 32);
            high.appendMany(
              packed,
              hashNodes,
              (node) => closedHigh.set(`${node.level}/${node.index}`, hex(node.hash)),
              from,
            );
            at2 += n;
          }
          expect(hex(high.root())).toBe(hex(one.root()));
          const wanted = [...closedMany].filter(([k]) => Number(k.split('/')[0]) >= from);
          expect(new Map([...closedHigh].sort())).toEqual(new Map(wanted.sort()));
        },
      ),
      { numRuns: 120 },
    );
  });
});
