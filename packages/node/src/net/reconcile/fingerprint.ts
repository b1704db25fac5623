/**
 * Range fingerprints (spec/SYNC.md §5.3), as negentropy defines them: the ids of a range added
 * as 256-bit little-endian integers modulo 2^256, then
 *
 *     fingerprint = SHA-256( sum (32 bytes, little-endian) || varint(count) )[0..16]
 *
 * The sum is incremental (a range's sum is the sum of its parts), so an index can keep sums of
 * chunks and answer a range without reading every id. Adding is not a hash: someone who chooses
 * many ids can search for two sets with equal sums (see spec/SYNC.md §10); the count and the
 * final hash keep accidental collisions at 2^-128.
 */
import { writeVarint } from './varint.js';

export const FINGERPRINT_BYTES = 16;

export type Sha256 = (data: Uint8Array) => Uint8Array;

/** A 256-bit sum as eight 32-bit limbs, least significant first. */
export class IdSum {
  readonly limbs = new Uint32Array(8);
  count = 0;

  /** Adds one 32-byte id. */
  add(id: Uint8Array, offset = 0): void {
    const l = this.limbs;
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const at = offset + 4 * i;
      const word =
        ((id[at] as number) | ((id[at + 1] as number) << 8) | ((id[at + 2] as number) << 16)) +
        (id[at + 3] as number) * 0x1000000;
      const s = (l[i] as number) + word + carry;
      l[i] = s >>> 0;
      carry = s > 0xffffffff ? 1 : 0;
    }
    this.count++;
  }

  /** Adds another sum (a chunk's). */
  addSum(other: IdSum): void {
    const l = this.limbs;
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const s = (l[i] as number) + (other.limbs[i] as number) + carry;
      l[i] = s >>> 0;
      carry = s > 0xffffffff ? 1 : 0;
    }
    this.count += other.count;
  }

  /** Subtracts one id (used when an item leaves a chunk). */
  subtract(id: Uint8Array, offset = 0): void {
    const l = this.limbs;
    let borrow = 0;
    for (let i = 0; i < 8; i++) {
      const at = offset + 4 * i;
      const word =
        ((id[at] as number) | ((id[at + 1] as number) << 8) | ((id[at + 2] as number) << 16)) +
        (id[at + 3] as number) * 0x1000000;
      let s = (l[i] as number) - word - borrow;
      borrow = s < 0 ? 1 : 0;
      if (s < 0) s += 0x100000000;
      l[i] = s;
    }
    this.count--;
  }

  clear(): void {
    this.limbs.fill(0);
    this.count = 0;
  }

  /** The 32-byte little-endian sum. */
  bytes(): Uint8Array {
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      const w = this.limbs[i] as number;
      out[4 * i] = w & 0xff;
      out[4 * i + 1] = (w >>> 8) & 0xff;
      out[4 * i + 2] = (w >>> 16) & 0xff;
      out[4 * i + 3] = (w >>> 24) & 0xff;
    }
    return out;
  }

  fingerprint(sha256: Sha256): Uint8Array {
    const tail: number[] = [];
    writeVarint(tail, this.count);
    const input = new Uint8Array(32 + tail.length);
    input.set(this.bytes(), 0);
    input.set(tail, 32);
    return sha256(input).slice(0, FINGERPRINT_BYTES);
  }
}

/** The fingerprint of a list of ids (the reference form; indexes compute it from sums). */
export function fingerprintOf(sha256: Sha256, ids: Iterable<Uint8Array>): Uint8Array {
  const sum = new IdSum();
  for (const id of ids) sum.add(id);
  return sum.fingerprint(sha256);
}
