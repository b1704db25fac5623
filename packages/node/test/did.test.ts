/**
 * did:key for Ed25519: known encodings (checked against the bs58 package), strict parsing, and
 * refusal of keys for which anyone can forge ZIP-215 signatures.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  DID_KEY_LENGTH,
  decodeBase58btc,
  didKeyFromPublicKey,
  encodeBase58btc,
  fromHex,
  parseDidKey,
  Reason,
  SMALL_ORDER_KEYS,
  toHex,
  unacceptableKeyReason,
} from '../src/protocol/index.js';
import { alice, core } from './protocol-fixtures.js';

const hex = (h: string): Uint8Array => fromHex(h) ?? new Uint8Array();

/** did:key of RFC 8032 TEST 1's public key, computed independently with the bs58 package. */
const RFC8032_TEST1_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_TEST1_DID = 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw';

describe('base58btc', () => {
  it.each([
    ['48656c6c6f20576f726c6421', '2NEpo7TZRRrLZSi2U'], // "Hello World!"
    ['0000287fb4cd', '11233QC4'], // leading zero bytes are '1's
    ['', ''],
    ['00', '1'],
  ])('%s <-> %s', (h, text) => {
    expect(encodeBase58btc(hex(h))).toBe(text);
    expect(toHex(decodeBase58btc(text) ?? new Uint8Array([1, 2, 3]))).toBe(h);
  });

  it('rejects characters outside the alphabet (0, O, I, l, non-ASCII)', () => {
    for (const bad of ['0', 'O', 'I', 'l', '+', ' ', 'é', '\u0000']) {
      expect(decodeBase58btc(`2NE${bad}po`)).toBeNull();
    }
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect(decodeBase58btc(encodeBase58btc(b))).toEqual(b);
      }),
    );
  });
});

describe('did:key', () => {
  it('encodes RFC 8032 TEST 1 as the bs58 package does', () => {
    expect(didKeyFromPublicKey(hex(RFC8032_TEST1_KEY))).toBe(RFC8032_TEST1_DID);
    const parsed = parseDidKey(RFC8032_TEST1_DID);
    expect(parsed.ok && toHex(parsed.value)).toBe(RFC8032_TEST1_KEY);
  });

  it('has 47 base58 digits for every key', () => {
    for (const fill of [0x00, 0x01, 0x7f, 0xff]) {
      expect(didKeyFromPublicKey(new Uint8Array(32).fill(fill))).toHaveLength(DID_KEY_LENGTH);
    }
  });

  it('round-trips every acceptable key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        fc.pre(unacceptableKeyReason(key) === null);
        const parsed = parseDidKey(didKeyFromPublicKey(key));
        expect(parsed.ok && toHex(parsed.value)).toBe(toHex(key));
      }),
    );
  });

  it('throws TypeError (a caller bug) for a key that is not 32 bytes', () => {
    expect(() => didKeyFromPublicKey(new Uint8Array(31))).toThrow(TypeError);
  });

  const valid = RFC8032_TEST1_DID;
  it.each([
    ['empty', ''],
    ['no scheme', valid.slice('did:key:'.length)],
    ['uppercase scheme', valid.replace('did:key', 'DID:KEY')],
    ['did:web', valid.replace('did:key', 'did:web')],
    ['base64 multibase', valid.replace(':z', ':m')],
    ['leading space', ` ${valid}`],
    ['trailing newline', `${valid}\n`],
    ['fragment', `${valid}#${valid.slice(8)}`],
    ['one digit short', valid.slice(0, -1)],
    ['one digit more', `${valid}1`],
    ['a zero digit', `${valid.slice(0, -1)}0`],
    ['an l digit', `${valid.slice(0, -1)}l`],
    [
      'X25519 multicodec',
      `did:key:z${encodeBase58btc(new Uint8Array([0xec, 0x01, ...hex(RFC8032_TEST1_KEY)]))}`,
    ],
    [
      'multicodec without varint byte',
      `did:key:z${encodeBase58btc(new Uint8Array([0xed, 0x00, ...hex(RFC8032_TEST1_KEY)]))}`,
    ],
    [
      '33-byte key',
      `did:key:z${encodeBase58btc(new Uint8Array([0xed, 0x01, ...hex(RFC8032_TEST1_KEY), 0]))}`,
    ],
  ])('rejects %s', (_, did) => {
    const parsed = parseDidKey(did);
    expect(parsed.ok ? 'ok' : parsed.reason).toBe(Reason.BAD_DID);
  });

  it('rejects values that are not strings', () => {
    for (const v of [undefined, null, 1, {}, [], hex(RFC8032_TEST1_KEY)]) {
      expect(parseDidKey(v).ok).toBe(false);
    }
  });

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        parseDidKey(s);
        parseDidKey(`did:key:z${s}`);
      }),
    );
  });
});

describe('keys that would make signatures meaningless', () => {
  // R = identity, S = 0 verifies for every message exactly when [8]A = 0 (ZIP-215 is cofactored).
  const forgery = new Uint8Array(64);
  forgery[0] = 1;
  const forgeable = (key: Uint8Array): boolean =>
    core.ed25519Verify(key, new TextEncoder().encode('any message at all'), forgery);

  it.each(SMALL_ORDER_KEYS.map((k) => [k]))('%s is forgeable and refused', (k) => {
    expect(forgeable(hex(k))).toBe(true);
    expect(unacceptableKeyReason(hex(k))).toMatch(/small order/);
    expect(parseDidKey(didKeyFromPublicKey(hex(k))).ok).toBe(false);
  });

  it('refuses every A of the committed ZIP-215 vectors (8-torsion and non-canonical encodings)', () => {
    const path = fileURLToPath(
      new URL('../../../spec/vectors/ed25519/zip215.json', import.meta.url),
    );
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { cases: Array<{ publicKey: string }> };
    const keys = [...new Set(doc.cases.map((c) => c.publicKey))];
    expect(keys).toHaveLength(14);
    for (const k of keys) expect(unacceptableKeyReason(hex(k)), k).not.toBeNull();
  });

  it('refuses y >= p whatever the sign bit, and accepts y = p - 1 only as a listed point', () => {
    const p = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';
    expect(unacceptableKeyReason(hex(p))).toMatch(/non-canonical/);
    expect(unacceptableKeyReason(hex(`${p.slice(0, 62)}ff`))).toMatch(/non-canonical/);
    expect(unacceptableKeyReason(hex(`ff${p.slice(2)}`))).toMatch(/non-canonical/);
    expect(unacceptableKeyReason(hex(`ec${p.slice(2)}`))).toMatch(/small order/); // y = p - 1
    expect(unacceptableKeyReason(hex(`eb${p.slice(2)}`))).toBeNull(); // y = p - 2
  });

  it('accepts ordinary keys, which are not forgeable', () => {
    expect(forgeable(alice.publicKey)).toBe(false);
    expect(unacceptableKeyReason(alice.publicKey)).toBeNull();
  });
});
