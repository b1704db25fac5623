/**
 * did:key for Ed25519 (spec/PROTOCOL.md §2.2): `did:key:z` + base58btc(0xed 0x01 || key32).
 * Parsing is strict: one spelling per key, and keys that would make signatures meaningless
 * (small-order points, non-canonical encodings) are refused.
 */
import { toHex } from './bytes.js';
import { accept, Reason, type Result, reject } from './reasons.js';

export const DID_KEY_PREFIX = 'did:key:z';
/** The multicodec varint of an Ed25519 public key. */
export const ED25519_MULTICODEC: readonly [number, number] = [0xed, 0x01];

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

/** Every Ed25519 did:key has exactly 47 base58 digits: 34 bytes starting 0xed. */
export const DID_KEY_LENGTH = DID_KEY_PREFIX.length + 47;

/**
 * Encodings of the eight points of small order (with y < p), including the two x = 0 points
 * written with the sign bit set. Anyone can forge ZIP-215 signatures for such keys.
 * Cross-checked against @noble/curves in test/did.test.ts.
 */
export const SMALL_ORDER_KEYS: readonly string[] = Object.freeze([
  '0100000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
]);
const SMALL_ORDER = new Set(SMALL_ORDER_KEYS);

/** True when the low 255 bits (little-endian y) are at least p = 2^255 - 19. */
function hasNonCanonicalY(key: Uint8Array): boolean {
  if (((key[31] as number) & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (key[i] !== 0xff) return false;
  return (key[0] as number) >= 0xed;
}

/**
 * Why a 32-byte key cannot be an author or signer, or `null` when it can. Keys that are not
 * points at all are allowed here: their signatures simply never verify.
 */
export function unacceptableKeyReason(key: Uint8Array): string | null {
  if (key.length !== 32) return `a public key is 32 bytes, got ${key.length}`;
  if (hasNonCanonicalY(key)) return 'public key has a non-canonical y coordinate (y >= p)';
  if (SMALL_ORDER.has(toHex(key))) return 'public key is a point of small order';
  return null;
}

/** base58btc (the Bitcoin alphabet), leading zero bytes as '1'. */
export function encodeBase58btc(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits: number[] = []; // little-endian base-58 digits
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] as number;
    for (let j = 0; j < digits.length; j++) {
      carry += (digits[j] as number) << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '1'.repeat(zeros);
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i] as number];
  return out;
}

/** Decodes base58btc, or `null` on a character outside the alphabet. */
export function decodeBase58btc(text: string): Uint8Array | null {
  let zeros = 0;
  while (zeros < text.length && text.charCodeAt(zeros) === 0x31) zeros++; // '1'
  const bytes: number[] = []; // little-endian base-256 digits
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? (DIGIT[code] as number) : -1;
    if (digit < 0) return null;
    let carry = digit;
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] as number) * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i] as number;
  return out;
}

/** The did:key of a 32-byte Ed25519 public key. Throws TypeError for another length. */
export function didKeyFromPublicKey(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError('an Ed25519 public key is a 32-byte Uint8Array');
  }
  const data = new Uint8Array(34);
  data.set(ED25519_MULTICODEC, 0);
  data.set(publicKey, 2);
  return DID_KEY_PREFIX + encodeBase58btc(data);
}

// Authors repeat; parsing is pure, so remembering recent answers is safe. Bounded size.
const CACHE_LIMIT = 4096;
const cache = new Map<string, Result<Uint8Array>>();

function parseUncached(did: string): Result<Uint8Array> {
  if (did.length !== DID_KEY_LENGTH || !did.startsWith(DID_KEY_PREFIX)) {
    return reject(Reason.BAD_DID, 'not an Ed25519 did:key (did:key:z + 47 base58btc digits)');
  }
  const data = decodeBase58btc(did.slice(DID_KEY_PREFIX.length));
  if (data === null) return reject(Reason.BAD_DID, 'did:key has a character outside base58btc');
  if (data.length !== 34 || data[0] !== 0xed || data[1] !== 0x01) {
    return reject(
      Reason.BAD_DID,
      'did:key is not an Ed25519 key (multicodec 0xed 0x01 + 32 bytes)',
    );
  }
  const key = data.slice(2);
  const why = unacceptableKeyReason(key);
  if (why !== null) return reject(Reason.BAD_DID, why);
  return accept(key);
}

/**
 * The 32-byte public key of a strict Ed25519 did:key, or an `ERR_BAD_DID` rejection.
 * The returned array is shared between calls: do not modify it.
 */
export function parseDidKey(did: unknown): Result<Uint8Array> {
  if (typeof did !== 'string') return reject(Reason.BAD_DID, 'a did:key is a string');
  if (did.length !== DID_KEY_LENGTH) return parseUncached(did); // never cache odd sizes
  const hit = cache.get(did);
  if (hit !== undefined) return hit;
  const result = parseUncached(did);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(did, result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// did:cs (spec/IDENTITY.md §2): the syntax only, so that the event decoder can read an author
// that is an identity. What an identity is, and its key state, is identity/.

export const DID_CS_PREFIX = 'did:cs:z';
/** The multihash header of a 32-byte SHA-256 digest: code 0x12, length 0x20. */
export const SHA256_MULTIHASH: readonly [number, number] = [0x12, 0x20];
/** `did:cs:z` + 46 base58btc digits: every 34-byte value starting 0x12 0x20 has 46 digits. */
export const DID_CS_LENGTH = DID_CS_PREFIX.length + 46;

/** The did:cs of the identity whose inception event has this id (32 bytes). */
export function didCsFromInceptionId(inceptionId: Uint8Array): string {
  if (!(inceptionId instanceof Uint8Array) || inceptionId.length !== 32) {
    throw new TypeError('an inception id is a 32-byte SHA-256 digest');
  }
  const data = new Uint8Array(34);
  data.set(SHA256_MULTIHASH, 0);
  data.set(inceptionId, 2);
  return DID_CS_PREFIX + encodeBase58btc(data);
}

const csCache = new Map<string, Result<Uint8Array>>();

function parseDidCsUncached(did: string): Result<Uint8Array> {
  if (did.length !== DID_CS_LENGTH || !did.startsWith(DID_CS_PREFIX)) {
    return reject(Reason.BAD_DID, 'not a did:cs (did:cs:z + 46 base58btc digits)');
  }
  const data = decodeBase58btc(did.slice(DID_CS_PREFIX.length));
  if (data === null) return reject(Reason.BAD_DID, 'did:cs has a character outside base58btc');
  if (data.length !== 34 || data[0] !== SHA256_MULTIHASH[0] || data[1] !== SHA256_MULTIHASH[1]) {
    return reject(Reason.BAD_DID, 'did:cs is not a sha2-256 multihash (0x12 0x20 + 32 bytes)');
  }
  return accept(data.slice(2));
}

/**
 * The inception id (32 bytes) a did:cs names, or an `ERR_BAD_DID` rejection. Exact: one
 * spelling per identity. The returned array is shared between calls: do not modify it.
 */
export function parseDidCs(did: unknown): Result<Uint8Array> {
  if (typeof did !== 'string') return reject(Reason.BAD_DID, 'a did:cs is a string');
  if (did.length !== DID_CS_LENGTH) return parseDidCsUncached(did);
  const hit = csCache.get(did);
  if (hit !== undefined) return hit;
  const result = parseDidCsUncached(did);
  if (csCache.size >= CACHE_LIMIT) csCache.clear();
  csCache.set(did, result);
  return result;
}

/** True when the string is spelled as a did:cs would be (prefix only; parse to be sure). */
export function looksLikeDidCs(did: string): boolean {
  return did.startsWith('did:cs:');
}
