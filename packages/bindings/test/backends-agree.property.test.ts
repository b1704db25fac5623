// fast-check properties: every backend (native, wasm, js; single and batch) gives the same
// verdict as @noble/curves in ZIP-215 mode on random and adversarial inputs. A validator
// network forks when two nodes disagree, so this is the consensus-safety test.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, type Core, type SignedItem, loadCore } from '../src/index.js';
import { ed25519Files } from './vectors.js';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const P = 2n ** 255n - 19n;

const le = (n: bigint, len = 32): Uint8Array => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const fromLe = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

/** Reference verdict, independent of our code. */
function noble(item: SignedItem): boolean {
  try {
    return ed25519.verify(item.signature, item.message, item.publicKey, { zip215: true });
  } catch {
    return false;
  }
}

// Every small-order encoding used by the ZIP-215 vectors (canonical and not).
const smallOrder = [
  ...new Set(
    ed25519Files()
      .find((f) => f.file === 'zip215.json')!
      .cases.map((c) => Buffer.from(c.publicKey).toString('hex')),
  ),
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

const scalar = fc.bigInt({ min: 1n, max: L - 1n });
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** A signature made by hand so that A and R may carry a small-order component. */
const mixedOrder = fc
  .record({ a: scalar, r: scalar, ta: fc.nat(smallOrder.length - 1), tr: fc.nat(smallOrder.length - 1), msg: bytes(0, 40) })
  .map(({ a, r, ta, tr, msg }): SignedItem => {
    const A = Point.BASE.multiply(a).add(Point.fromBytes(smallOrder[ta]!, true));
    const R = Point.BASE.multiply(r).add(Point.fromBytes(smallOrder[tr]!, true));
    const aBytes = A.toBytes();
    const rBytes = R.toBytes();
    const k = mod(fromLe(sha512(cat(rBytes, aBytes, msg))), L);
    const s = mod(r + k * a, L);
    return { publicKey: aBytes, message: msg, signature: cat(rBytes, le(s)) };
  });

/** Honest signatures, then one adversarial change. */
const mutated = fc
  .record({ seed: bytes(32, 32), msg: bytes(0, 64), how: fc.nat(8), at: fc.nat(511), so: fc.nat(smallOrder.length - 1) })
  .map(({ seed, msg, how, at, so }): SignedItem => {
    const publicKey = ed25519.getPublicKey(seed);
    const signature = ed25519.sign(msg, seed);
    const set = (b: Uint8Array, i: number, v: number) => {
      const c = b.slice();
      c[i] = v;
      return c;
    };
    switch (how) {
      case 0: // flip any bit of the signature
        return { publicKey, message: msg, signature: set(signature, at % 64, signature[at % 64]! ^ (1 << (at % 8))) };
      case 1: // flip any bit of the key
        return { publicKey: set(publicKey, at % 32, publicKey[at % 32]! ^ (1 << (at % 8))), message: msg, signature };
      case 2: { // S + L: non-canonical S
        const s = fromLe(signature.subarray(32)) + L;
        return { publicKey, message: msg, signature: cat(signature.subarray(0, 32), le(s)) };
      }
      case 3: // small-order R with S = 0
        return { publicKey, message: msg, signature: cat(smallOrder[so]!, new Uint8Array(32)) };
      case 4: // small-order public key
        return { publicKey: smallOrder[so]!, message: msg, signature };
      case 5: { // non-canonical y encoding of R (y + p when it fits)
        const y = fromLe(signature.subarray(0, 32)) & ((1n << 255n) - 1n);
        const sign = signature[31]! & 0x80;
        const bumped = y + P < 2n ** 255n ? le(y + P) : signature.subarray(0, 32).slice();
        bumped[31] = bumped[31]! | sign;
        return { publicKey, message: msg, signature: cat(bumped, signature.subarray(32)) };
      }
      case 6: // the message changed
        return { publicKey, message: cat(msg, Uint8Array.of(at & 0xff)), signature };
      default:
        return { publicKey, message: msg, signature };
    }
  });

const random = fc.record({ publicKey: bytes(32, 32), message: bytes(0, 64), signature: bytes(64, 64) });
const anyItem = fc.oneof(
  { arbitrary: mutated, weight: 5 },
  { arbitrary: mixedOrder, weight: 3 },
  { arbitrary: random, weight: 1 },
  { arbitrary: fc.record({ publicKey: bytes(0, 40), message: bytes(0, 8), signature: bytes(0, 70) }), weight: 1 },
);

let cores: Core[] = [];
beforeAll(async () => {
  cores = await Promise.all(BACKENDS.map((backend) => loadCore({ backend })));
});

describe('all backends agree with @noble/curves (ZIP-215)', () => {
  it('single verify, on random and adversarial inputs', () => {
    fc.assert(
      fc.property(anyItem, (item) => {
        const want = noble(item);
        for (const core of cores) {
          expect(core.ed25519Verify(item.publicKey, item.message, item.signature), core.backend).toBe(want);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('mixed-order signatures are valid (cofactored), as ZIP-215 says', () => {
    fc.assert(
      fc.property(mixedOrder, (item) => {
        expect(noble(item)).toBe(true);
        for (const core of cores) expect(core.ed25519Verify(item.publicKey, item.message, item.signature)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('batch verify equals single verify for any mix of good and bad items', () => {
    fc.assert(
      fc.property(fc.array(anyItem, { maxLength: 40 }), (items) => {
        const want = items.map(noble);
        for (const core of cores) expect(core.ed25519VerifyBatch(items), core.backend).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });

  it('sign and verify round-trip, and every backend signs identically', () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(0, 300), (seed, msg) => {
        const sigs = cores.map((c) => Buffer.from(c.ed25519Sign(seed, msg)).toString('hex'));
        const pks = cores.map((c) => Buffer.from(c.ed25519PublicKey(seed)).toString('hex'));
        expect(new Set(sigs).size).toBe(1);
        expect(new Set(pks).size).toBe(1);
        expect(sigs[0]).toBe(Buffer.from(ed25519.sign(msg, seed)).toString('hex'));
        for (const core of cores) {
          expect(core.ed25519Verify(core.ed25519PublicKey(seed), msg, core.ed25519Sign(seed, msg))).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('hashes agree across backends', () => {
    fc.assert(
      fc.property(bytes(0, 3000), (data) => {
        for (const alg of ['sha256', 'sha512', 'blake3'] as const) {
          const out = new Set(cores.map((c) => Buffer.from(c[alg](data)).toString('hex')));
          expect(out.size, alg).toBe(1);
        }
      }),
      { numRuns: 100 },
    );
  });
});
