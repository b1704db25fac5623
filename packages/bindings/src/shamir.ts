/**
 * Shamir secret sharing over GF(2^8), the pure-JS reference of `crates/core/src/shamir.rs`:
 * the same share format (version 1), the same randomness layout, the same error codes. The
 * field arithmetic follows the Rust core (constant-time shift-and-add multiplication, inversion
 * as a^254), so the three backends differ only in the language they run in.
 */
import { sha256 } from '@noble/hashes/sha2.js';

import { ShamirError } from './errors.js';

export const SHAMIR_VERSION = 1;
export const SHAMIR_HEADER_LEN = 13;
export const SHAMIR_CHECKSUM_LEN = 4;
export const SHAMIR_ID_LEN = 8;
export const SHAMIR_MAX_SECRET_LEN = 1024;
const DOMAIN = new TextEncoder().encode('commons-sync/shamir/v1');

/** Multiplication mod x^8 + x^4 + x^3 + x + 1 with no branch or table on the operands. */
function gfMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) {
    product ^= a & -(b & 1);
    const carry = -(a >> 7) & 0x1b;
    a = ((a << 1) & 0xff) ^ carry;
    b >>= 1;
  }
  return product & 0xff;
}

function gfInv(a: number): number {
  let result = 1;
  for (let bit = 7; bit >= 0; bit--) {
    result = gfMul(result, result);
    if ((254 >> bit) & 1) result = gfMul(result, a);
  }
  return result;
}

function checksum(body: Uint8Array): Uint8Array {
  const input = new Uint8Array(DOMAIN.length + body.length);
  input.set(DOMAIN);
  input.set(body, DOMAIN.length);
  return sha256(input).subarray(0, SHAMIR_CHECKSUM_LEN);
}

/** The shared parameter rules (also checked in `core.ts` before any backend runs). */
export function checkShamirParams(secretLength: number, threshold: number, count: number): void {
  if (secretLength === 0 || secretLength > SHAMIR_MAX_SECRET_LEN) {
    throw new ShamirError(
      'ERR_SHAMIR_PARAMS',
      'invalid split parameters: the secret must be 1..=1024 bytes',
    );
  }
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > 255) {
    throw new ShamirError(
      'ERR_SHAMIR_PARAMS',
      'invalid split parameters: the threshold must be 2..=255',
    );
  }
  if (!Number.isInteger(count) || count < threshold || count > 255) {
    throw new ShamirError(
      'ERR_SHAMIR_PARAMS',
      'invalid split parameters: the share count must be at least the threshold and at most 255',
    );
  }
}

export function shamirRandomnessLength(secretLength: number, threshold: number): number {
  return SHAMIR_ID_LEN + (threshold - 1) * secretLength;
}

export function shamirSplitWithRandomness(
  secret: Uint8Array,
  threshold: number,
  count: number,
  randomness: Uint8Array,
): Uint8Array[] {
  checkShamirParams(secret.length, threshold, count);
  const expected = shamirRandomnessLength(secret.length, threshold);
  if (randomness.length !== expected) {
    throw new ShamirError(
      'ERR_SHAMIR_PARAMS',
      `the split needs ${expected} bytes of randomness, got ${randomness.length}`,
    );
  }
  const len = secret.length;
  const shares: Uint8Array[] = [];
  for (let x = 1; x <= count; x++) {
    const share = new Uint8Array(SHAMIR_HEADER_LEN + len + SHAMIR_CHECKSUM_LEN);
    share[0] = SHAMIR_VERSION;
    share[1] = threshold;
    share[2] = x;
    share.set(randomness.subarray(0, SHAMIR_ID_LEN), 3);
    share[11] = len >> 8;
    share[12] = len & 0xff;
    for (let k = 0; k < len; k++) {
      let y = 0;
      for (let d = threshold - 1; d >= 1; d--) {
        y = gfMul(y, x) ^ (randomness[SHAMIR_ID_LEN + (d - 1) * len + k] as number);
      }
      share[SHAMIR_HEADER_LEN + k] = gfMul(y, x) ^ (secret[k] as number);
    }
    share.set(checksum(share.subarray(0, SHAMIR_HEADER_LEN + len)), SHAMIR_HEADER_LEN + len);
    shares.push(share);
  }
  return shares;
}

interface ShareInfo {
  threshold: number;
  index: number;
  id: string;
  secretLength: number;
}

function inspect(share: Uint8Array): ShareInfo {
  const format = (what: string): ShamirError =>
    new ShamirError('ERR_SHAMIR_FORMAT', `not a version-1 share: ${what}`);
  if (share.length < SHAMIR_HEADER_LEN + 1 + SHAMIR_CHECKSUM_LEN) throw format('too short');
  if (share[0] !== SHAMIR_VERSION) {
    throw new ShamirError('ERR_SHAMIR_VERSION', `unsupported share version ${String(share[0])}`);
  }
  const secretLength = ((share[11] as number) << 8) | (share[12] as number);
  if (share.length !== SHAMIR_HEADER_LEN + secretLength + SHAMIR_CHECKSUM_LEN) {
    throw format('its length does not match its length field');
  }
  const body = share.subarray(0, SHAMIR_HEADER_LEN + secretLength);
  const sum = share.subarray(SHAMIR_HEADER_LEN + secretLength);
  if (!checksum(body).every((b, i) => b === sum[i])) {
    throw new ShamirError(
      'ERR_SHAMIR_CHECKSUM',
      "the share's checksum does not match: it is corrupted or mistyped",
    );
  }
  const threshold = share[1] as number;
  const index = share[2] as number;
  if (threshold < 2) throw format('threshold below 2');
  if (index === 0) throw format('index 0 (that point is the secret)');
  if (secretLength === 0 || secretLength > SHAMIR_MAX_SECRET_LEN)
    throw format('secret length outside 1..=1024');
  const id = Array.from(share.subarray(3, 3 + SHAMIR_ID_LEN), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  return { threshold, index, id, secretLength };
}

export function shamirCombine(shares: readonly Uint8Array[]): Uint8Array {
  const infos = shares.map(inspect);
  const first = infos[0];
  if (first === undefined)
    throw new ShamirError('ERR_SHAMIR_TOO_FEW', '2 shares are needed to combine, got 0');
  for (const info of infos) {
    if (
      info.id !== first.id ||
      info.threshold !== first.threshold ||
      info.secretLength !== first.secretLength
    ) {
      throw new ShamirError(
        'ERR_SHAMIR_MISMATCH',
        'the shares come from different splits (id, threshold or length differ)',
      );
    }
  }
  const seen = new Set<number>();
  for (const info of infos) {
    if (seen.has(info.index))
      throw new ShamirError(
        'ERR_SHAMIR_DUPLICATE_INDEX',
        `share index ${info.index} is given twice`,
      );
    seen.add(info.index);
  }
  const needed = first.threshold;
  if (infos.length < needed) {
    throw new ShamirError(
      'ERR_SHAMIR_TOO_FEW',
      `${needed} shares are needed to combine, got ${infos.length}`,
    );
  }
  const xs = infos.slice(0, needed).map((i) => i.index);
  const secret = new Uint8Array(first.secretLength);
  for (let i = 0; i < needed; i++) {
    let num = 1;
    let den = 1;
    for (let j = 0; j < needed; j++) {
      if (j === i) continue;
      num = gfMul(num, xs[j] as number);
      den = gfMul(den, (xs[j] as number) ^ (xs[i] as number));
    }
    const basis = gfMul(num, gfInv(den));
    const share = shares[i] as Uint8Array;
    for (let k = 0; k < secret.length; k++) {
      secret[k] = (secret[k] as number) ^ gfMul(share[SHAMIR_HEADER_LEN + k] as number, basis);
    }
  }
  return secret;
}
