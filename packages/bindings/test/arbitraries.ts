// Signature items for properties: honest ones with one adversarial change, hand-made
// mixed-order ones (a small-order component in A or R, valid under ZIP-215), random bytes, and
// wrong lengths. Shared by the backend property test and the browser test.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';

import type { SignedItem } from '../src/index.js';
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
export function noble(item: SignedItem): boolean {
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
export const bytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max });

/** A signature made by hand so that A and R may carry a small-order component. */
export const mixedOrder = fc
  .record({
    a: scalar,
    r: scalar,
    ta: fc.nat(smallOrder.length - 1),
    tr: fc.nat(smallOrder.length - 1),
    msg: bytes(0, 40),
  })
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
  .record({
    seed: bytes(32, 32),
    msg: bytes(0, 64),
    how: fc.nat(8),
    at: fc.nat(511),
    so: fc.nat(smallOrder.length - 1),
  })
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
        return {
          publicKey,
          message: msg,
          signature: set(signature, at % 64, signature[at % 64]! ^ (1 << (at % 8))),
        };
      case 1: // flip any bit of the key
        return {
          publicKey: set(publicKey, at % 32, publicKey[at % 32]! ^ (1 << (at % 8))),
          message: msg,
          signature,
        };
      case 2: {
        // S + L: non-canonical S
        const s = fromLe(signature.subarray(32)) + L;
        return { publicKey, message: msg, signature: cat(signature.subarray(0, 32), le(s)) };
      }
      case 3: // small-order R with S = 0
        return { publicKey, message: msg, signature: cat(smallOrder[so]!, new Uint8Array(32)) };
      case 4: // small-order public key
        return { publicKey: smallOrder[so]!, message: msg, signature };
      case 5: {
        // non-canonical y encoding of R (y + p when it fits)
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

const random = fc.record({
  publicKey: bytes(32, 32),
  message: bytes(0, 64),
  signature: bytes(64, 64),
});
export const anyItem = fc.oneof(
  { arbitrary: mutated, weight: 5 },
  { arbitrary: mixedOrder, weight: 3 },
  { arbitrary: random, weight: 1 },
  {
    arbitrary: fc.record({
      publicKey: bytes(0, 40),
      message: bytes(0, 8),
      signature: bytes(0, 70),
    }),
    weight: 1,
  },
);
