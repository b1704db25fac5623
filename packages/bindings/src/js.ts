import { ed25519 } from '@noble/curves/ed25519.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

import { checkChainInputs, packMessages } from './packing.js';
import {
  checkShamirParams,
  shamirCombine,
  shamirRandomnessLength,
  shamirSplitWithRandomness,
} from './shamir.js';
import type { HashAlgorithm, RawBackend } from './types.js';

const concat = (parts: readonly Uint8Array[]): Uint8Array => packMessages(parts).data;

const HASHES: Record<HashAlgorithm, (data: Uint8Array) => Uint8Array> = {
  sha256: (d) => sha256(d),
  sha512: (d) => sha512(d),
  blake3: (d) => blake3(d),
};
const DIGEST_LENGTH: Record<HashAlgorithm, number> = { sha256: 32, sha512: 64, blake3: 32 };

function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    // ZIP-215: cofactored equation, non-canonical A and R accepted, S < L required.
    return ed25519.verify(signature, message, publicKey, { zip215: true });
  } catch {
    return false; // undecodable point: invalid, as in every other backend
  }
}

/** The pure-JS reference backend: @noble/curves (ZIP-215 mode) and @noble/hashes. */
export const jsBackend: RawBackend = {
  verify,
  verifyBatchPacked(publicKeys, signatures, messages, offsets) {
    const n = offsets.length - 1;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const message = messages.subarray(offsets[i], offsets[i + 1]);
      const ok = verify(
        publicKeys.subarray(32 * i, 32 * i + 32),
        message,
        signatures.subarray(64 * i, 64 * i + 64),
      );
      out[i] = ok ? 1 : 0;
    }
    return out;
  },
  sign: (seed, message) => ed25519.sign(message, seed),
  publicKey: (seed) => ed25519.getPublicKey(seed),
  sha256: HASHES.sha256,
  sha512: HASHES.sha512,
  blake3: HASHES.blake3,
  hashBatchPacked(algorithm, data, offsets) {
    const hash = HASHES[algorithm];
    const len = DIGEST_LENGTH[algorithm];
    const n = offsets.length - 1;
    const out = new Uint8Array(n * len);
    for (let i = 0; i < n; i++) out.set(hash(data.subarray(offsets[i], offsets[i + 1])), i * len);
    return out;
  },
  sha256Chain(head, leaves) {
    const n = checkChainInputs(head, leaves);
    const out = new Uint8Array(n * 32);
    const input = new Uint8Array(64);
    input.set(head, 0);
    for (let i = 0; i < n; i++) {
      input.set(leaves.subarray(i * 32, i * 32 + 32), 32);
      const link = sha256(input);
      out.set(link, i * 32);
      input.set(link, 0);
    }
    return out;
  },
  shamirSplit(secret, threshold, count) {
    checkShamirParams(secret.length, threshold, count);
    const randomness = new Uint8Array(shamirRandomnessLength(secret.length, threshold));
    globalThis.crypto.getRandomValues(randomness);
    try {
      return concat(shamirSplitWithRandomness(secret, threshold, count, randomness));
    } finally {
      randomness.fill(0);
    }
  },
  shamirSplitWithRandomness: (secret, threshold, count, randomness) =>
    concat(shamirSplitWithRandomness(secret, threshold, count, randomness)),
  shamirCombine(data, offsets) {
    const shares: Uint8Array[] = [];
    for (let i = 0; i + 1 < offsets.length; i++)
      shares.push(data.subarray(offsets[i], offsets[i + 1]));
    return shamirCombine(shares);
  },
};
