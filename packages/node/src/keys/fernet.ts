/**
 * Fernet tokens (https://github.com/fernet/spec, version 0x80) over node:crypto.
 *
 *     token = base64url( 0x80 ‖ timestamp (u64 BE, seconds) ‖ IV (16)
 *                        ‖ AES-128-CBC ciphertext, PKCS7-padded ‖ HMAC-SHA256 (32) )
 *     key   = base64url( signing key (16) ‖ encryption key (16) )
 *
 * The HMAC-SHA256 over everything before it is compared in constant time before anything is
 * decrypted, so a forged token never reaches the cipher (no padding oracle). Time checks run
 * after the HMAC too: the spec lists the TTL check first, but the verdict is the same either
 * way and this order means "expired" is only ever said of an authentic token.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import {
  FernetExpiredError,
  FernetFutureError,
  FernetKeyError,
  FernetMacError,
  FernetMalformedError,
  FernetPaddingError,
  FernetVersionError,
} from './errors.js';

const VERSION = 0x80;
const KEY_BYTES = 32;
const HALF = 16;
const TIMESTAMP_BYTES = 8;
const IV_BYTES = 16;
const BLOCK_BYTES = 16;
const HMAC_BYTES = 32;
const HEADER_BYTES = 1 + TIMESTAMP_BYTES + IV_BYTES;
/** Version, timestamp, IV, at least one cipher block, HMAC. */
const MIN_TOKEN_BYTES = HEADER_BYTES + BLOCK_BYTES + HMAC_BYTES;
/** As pyca/cryptography: with a TTL, a token may be stamped at most this far in the future. */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 60;

export { FernetKeyError, FernetTokenError, type FernetTokenErrorCode } from './errors.js';

export interface FernetEncryptOptions {
  /** Seconds since the Unix epoch to stamp; default now. */
  now?: number;
  /**
   * The IV. Only for reproducing test vectors: an IV must never repeat under one key, and the
   * default (16 random bytes) sees to that.
   */
  iv?: Uint8Array;
}

export interface FernetDecryptOptions {
  /** Maximum age in seconds; when given, too-old and far-future tokens are refused. */
  ttlSeconds?: number;
  /** Seconds since the Unix epoch to check the TTL against; default now. */
  now?: number;
  /** How far in the future a token may be stamped when `ttlSeconds` is given; default 60. */
  maxClockSkewSeconds?: number;
}

export interface DecodedFernetToken {
  /** Seconds since the Unix epoch when the token was made, as stamped (authenticated). */
  timestamp: bigint;
  plaintext: Buffer;
}

/** A fresh random key in the spec's text form (44 characters of base64url). */
export function generateFernetKey(): string {
  return `${randomBytes(KEY_BYTES).toString('base64url')}=`;
}

/** Encodes 32 raw key bytes in the spec's text form. */
export function encodeFernetKey(raw: Uint8Array): string {
  if (raw.length !== KEY_BYTES) {
    throw new FernetKeyError(`a Fernet key is ${KEY_BYTES} bytes, got ${raw.length}`);
  }
  return `${Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url')}=`;
}

/** Makes a token of `plaintext` under `key` (text form or 32 raw bytes). */
export function fernetEncrypt(
  key: string | Uint8Array,
  plaintext: Uint8Array,
  opts: FernetEncryptOptions = {},
): string {
  const { signing, encryption } = splitKey(key);
  const iv = opts.iv ?? randomBytes(IV_BYTES);
  if (iv.length !== IV_BYTES) throw new RangeError(`the IV is ${IV_BYTES} bytes, got ${iv.length}`);
  const now = opts.now ?? unixNow();
  if (!Number.isSafeInteger(now) || now < 0) {
    throw new RangeError(`the timestamp must be a non-negative integer of seconds, got ${now}`);
  }

  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(now), 1);
  header.set(iv, 1 + TIMESTAMP_BYTES);

  const cipher = createCipheriv('aes-128-cbc', encryption, iv); // PKCS7 padding is the default
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const body = Buffer.concat([header, ciphertext]);
  const mac = createHmac('sha256', signing).update(body).digest();
  signing.fill(0);
  encryption.fill(0);
  return Buffer.concat([body, mac]).toString('base64url') + padding(body.length + HMAC_BYTES);
}

/** Verifies and decrypts a token; throws {@link FernetTokenError} for any token it refuses. */
export function fernetDecrypt(
  key: string | Uint8Array,
  token: string,
  opts: FernetDecryptOptions = {},
): Buffer {
  return fernetDecryptWithTimestamp(key, token, opts).plaintext;
}

/** As {@link fernetDecrypt}, also returning the token's authenticated timestamp. */
export function fernetDecryptWithTimestamp(
  key: string | Uint8Array,
  token: string,
  opts: FernetDecryptOptions = {},
): DecodedFernetToken {
  const { signing, encryption } = splitKey(key);
  try {
    const raw = decodeToken(token);
    const body = raw.subarray(0, raw.length - HMAC_BYTES);
    const mac = raw.subarray(raw.length - HMAC_BYTES);
    const expected = createHmac('sha256', signing).update(body).digest();
    if (!timingSafeEqual(expected, mac)) {
      throw new FernetMacError('the token does not verify under this key');
    }

    const timestamp = body.readBigUInt64BE(1);
    if (opts.ttlSeconds !== undefined) checkTime(timestamp, opts);

    const iv = body.subarray(1 + TIMESTAMP_BYTES, HEADER_BYTES);
    const decipher = createDecipheriv('aes-128-cbc', encryption, iv);
    const first = decipher.update(body.subarray(HEADER_BYTES));
    let last: Buffer;
    try {
      last = decipher.final();
    } catch (cause) {
      first.fill(0);
      throw new FernetPaddingError('the plaintext padding is invalid', {
        cause,
      });
    }
    const plaintext = Buffer.concat([first, last]);
    first.fill(0);
    last.fill(0);
    return { timestamp, plaintext };
  } finally {
    signing.fill(0);
    encryption.fill(0);
  }
}

function checkTime(timestamp: bigint, opts: FernetDecryptOptions): void {
  const ttl = opts.ttlSeconds ?? 0;
  const skew = opts.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  for (const [name, value] of [
    ['ttlSeconds', ttl],
    ['maxClockSkewSeconds', skew],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
    }
  }
  const now = BigInt(Math.floor(opts.now ?? unixNow()));
  if (timestamp + BigInt(ttl) < now) {
    throw new FernetExpiredError(`the token is older than ${ttl} seconds`);
  }
  if (now + BigInt(skew) < timestamp) {
    throw new FernetFutureError(`the token is stamped more than ${skew} seconds in the future`);
  }
}

/** Strict base64url: padded, alphabet only, canonical (no stray bits), then the layout. */
function decodeToken(token: string): Buffer {
  const raw = decodeBase64Url(token);
  if (raw === undefined) {
    throw new FernetMalformedError('the token is not padded base64url');
  }
  if (raw.length < MIN_TOKEN_BYTES) {
    throw new FernetMalformedError(`the token is too short (${raw.length} bytes)`);
  }
  if ((raw.length - HEADER_BYTES - HMAC_BYTES) % BLOCK_BYTES !== 0) {
    throw new FernetMalformedError('the ciphertext is not a whole number of AES blocks');
  }
  if (raw[0] !== VERSION) {
    throw new FernetVersionError(`unknown Fernet version ${String(raw[0])}`);
  }
  return raw;
}

function splitKey(key: string | Uint8Array): { signing: Buffer; encryption: Buffer } {
  let raw: Buffer;
  if (typeof key === 'string') {
    const decoded = decodeBase64Url(key);
    if (decoded === undefined || decoded.length !== KEY_BYTES) {
      throw new FernetKeyError(`a Fernet key is ${KEY_BYTES} bytes of padded base64url`);
    }
    raw = decoded;
  } else {
    if (key.length !== KEY_BYTES) {
      throw new FernetKeyError(`a Fernet key is ${KEY_BYTES} bytes, got ${key.length}`);
    }
    raw = Buffer.from(key); // a copy, zeroed after use without touching the caller's bytes
  }
  const signing = Buffer.from(raw.subarray(0, HALF));
  const encryption = Buffer.from(raw.subarray(HALF));
  raw.fill(0);
  return { signing, encryption };
}

const BASE64URL_PADDED = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

/** `undefined` unless `text` is exactly the padded base64url encoding of some bytes. */
function decodeBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL_PADDED.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Buffer ignores the unused low bits of the last character; the canonical form does not.
  if (bytes.toString('base64url') + padding(bytes.length) !== text) return undefined;
  return bytes;
}

function padding(byteLength: number): string {
  return '='.repeat((3 - (byteLength % 3)) % 3);
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
