/**
 * Generates the CommonsEvent vectors of this folder from fixed seeds and a fixed time.
 * Run from the repository root:  npx tsx spec/vectors/events/generate.ts
 *
 * Every expected verdict below is stated by hand from spec/PROTOCOL.md; `write` refuses to
 * write a file when the protocol code disagrees in either form (CBOR or JSON). Deterministic:
 * a rerun reproduces the files byte for byte.
 */

import type { CborMap } from '../../../packages/node/src/protocol/index.js';
import {
  alice,
  bob,
  body,
  type Case,
  c,
  carol,
  cat,
  dave,
  enc,
  entry,
  hex,
  idOf,
  mallory,
  messageOf,
  NOW,
  nested,
  nonce,
  offCurveKey,
  P,
  policy,
  rawEntries,
  rawMap,
  type Sequence,
  sig,
  signed,
  unhex,
  withRawPayload,
  write,
  writeBatches,
  zip215OnlySignature,
} from './lib.js';

const R = P.Reason;
const u = (h: string): Uint8Array => unhex(h);

// ------------------------------------------------------------------------------------ valid

const payloadTypes = {
  '': 'empty key',
  ['__proto__']: { x: 1 },
  a: [1, -1, 0, true, false, null, 'ünïcødé ✓ 𝄞', {}, []],
  b: 'b sorts before aa: keys sort by their encoded bytes, so shorter keys first',
  aa: 2,
  heads: [23, 24, 255, 256, 65535, 65536, 4294967295, 4294967296, 9007199254740991],
  negative: [-24, -25, -256, -257, -65536, -65537, -4294967296, -4294967297, -9007199254740991],
  bom: '\ufeffa leading byte order mark is kept',
};

/** A signed event whose encoding is exactly `size` bytes (padding in the last payload text). */
function eventOfSize(size: number): CborMap {
  const chunk = 'x'.repeat(16_000);
  for (let pad = size - 64_000; pad > 0; pad--) {
    const e = signed(body({ payload: [chunk, chunk, chunk, chunk, 'y'.repeat(pad)] }));
    const n = c(e).length;
    if (n === size) return e;
    if (n < size) break;
  }
  throw new Error(`no event of ${size} bytes`);
}

const multi = body(policy(2, [alice, bob, carol]));
const multi3 = body(policy(3, [alice, bob, carol]));
const zipBody = body({ payload: 'signed with a torsion component in R' });

write(
  'valid.json',
  'Events that every node accepts (open trust, default time rules, no earlier events).',
  [
    {
      name: 'minimal',
      description: 'Single signature by the author, no policy.',
      event: signed(body()),
      expected: 'accepted',
    },
    {
      name: 'payload-types',
      description:
        'Every payload type and every integer head size; map keys "", "__proto__", "b" before "aa"; a BOM inside text is kept.',
      event: signed(body({ payload: payloadTypes })),
      expected: 'accepted',
    },
    {
      name: 'payload-null',
      description: 'The payload may be any value, here null.',
      event: signed(body({ payload: null })),
      expected: 'accepted',
    },
    {
      name: 'payload-depth-16',
      description: 'Sixteen nested arrays: the deepest payload allowed.',
      event: signed(body({ payload: nested(16) })),
      expected: 'accepted',
    },
    {
      name: 'kind-64-printable',
      description: 'A kind of exactly 64 bytes using the extremes of printable ASCII.',
      event: signed(body({ kind: `!~${'x'.repeat(59)}/.:` })),
      expected: 'accepted',
    },
    {
      name: 'nonce-32',
      description: 'A 32-byte nonce.',
      event: signed(body({ nonce: nonce(32) })),
      expected: 'accepted',
    },
    {
      name: 'multisig-2-of-3',
      description:
        'Author alice and bob sign; threshold 2 of [alice, bob, carol] (signers sorted).',
      event: signed(multi, [alice, bob]),
      expected: 'accepted',
    },
    {
      name: 'multisig-3-of-3-any-order',
      description: 'All three sign; the order of signatures is free.',
      event: signed(multi3, [carol, alice, bob]),
      expected: 'accepted',
    },
    {
      name: 'multisig-duplicate-signature',
      description: 'alice signs twice (same signature); she counts once, bob makes two.',
      event: signed(body(policy(2, [alice, bob, carol])), [alice, alice, bob]),
      expected: 'accepted',
    },
    {
      name: 'outsider-valid-signature',
      description:
        'A valid signature by mallory, outside the signer set, counts zero but is allowed.',
      event: signed(body(), [alice, mallory]),
      expected: 'accepted',
    },
    {
      name: 'time-created-at-skew-edge',
      description: 'created_at = now + 300: the latest allowed with the default clock skew.',
      event: signed(body({ created_at: NOW + 300, expires_at: NOW + 600 })),
      expected: 'accepted',
    },
    {
      name: 'time-expires-next-second',
      description: 'expires_at = now + 1: still valid (expired means now >= expires_at).',
      event: signed(body({ created_at: NOW - 10, expires_at: NOW + 1 })),
      expected: 'accepted',
    },
    {
      name: 'time-lifetime-7-days',
      description: 'expires_at - created_at = 604800: the longest lifetime allowed.',
      event: signed(body({ created_at: NOW - 100, expires_at: NOW - 100 + 604_800 })),
      expected: 'accepted',
    },
    {
      name: 'size-65536',
      description: 'An event of exactly 65,536 bytes: the largest allowed.',
      event: eventOfSize(65_536),
      expected: 'accepted',
    },
    {
      name: 'zip215-only-signature',
      description:
        'R carries an 8-torsion component: valid under ZIP-215 (cofactored), invalid under the cofactorless RFC 8032 check. Nodes must accept it.',
      event: {
        ...zipBody,
        signatures: [entry(alice.did, zip215OnlySignature(alice, messageOf(zipBody)))],
      },
      expected: 'accepted',
    },
  ],
);

// ------------------------------------------------------------------------------------ decode

const good = c(signed(body()));
const entries = rawEntries(signed(body()));
const vEntry = entries[0] as [Uint8Array, Uint8Array];

write(
  'invalid-decode.json',
  'Inputs rejected while decoding (§7 step 1): not canonical CBOR of the profile, or beyond a limit.',
  [
    { name: 'empty', description: 'No bytes.', cbor: new Uint8Array(), expected: R.MALFORMED },
    {
      name: 'truncated',
      description: 'A valid event without its last byte.',
      cbor: good.subarray(0, -1),
      expected: R.MALFORMED,
    },
    {
      name: 'trailing-byte',
      description: 'A valid event followed by 0x00.',
      cbor: cat(good, u('00')),
      expected: R.MALFORMED,
    },
    {
      name: 'top-level-array',
      description: 'An array instead of a map.',
      cbor: c([1]),
      json: [1],
      expected: R.MALFORMED,
    },
    {
      name: 'top-level-integer',
      description: 'An integer instead of a map.',
      cbor: u('01'),
      json: 1,
      expected: R.MALFORMED,
    },
    {
      name: 'v-not-shortest',
      description: 'v = 1 written as 0x18 0x01.',
      cbor: cat(u('a8617618'), good.subarray(3)),
      expected: R.MALFORMED,
    },
    {
      name: 'map-header-not-shortest',
      description: 'The event map header written as 0xb8 0x08.',
      cbor: cat(u('b808'), good.subarray(1)),
      expected: R.MALFORMED,
    },
    {
      name: 'indefinite-map',
      description: 'The event map with indefinite length (0xbf ... 0xff).',
      cbor: rawMap(u('bf'), entries, u('ff')),
      expected: R.MALFORMED,
    },
    {
      name: 'duplicate-top-level-key',
      description: 'v appears twice.',
      cbor: rawMap(u('a9'), [vEntry, ...entries]),
      expected: R.MALFORMED,
    },
    {
      name: 'unsorted-top-level-keys',
      description: 'kind before v.',
      cbor: rawMap(u('a8'), [entries[1] as [Uint8Array, Uint8Array], vEntry, ...entries.slice(2)]),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-text-not-shortest',
      description: 'A 1-byte text with a 1-byte length head (0x78 0x01).',
      cbor: withRawPayload('780161'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-indefinite-text',
      description: 'Indefinite-length text.',
      cbor: withRawPayload('7f6161ff'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-indefinite-array',
      description: 'Indefinite-length array.',
      cbor: withRawPayload('9f01ff'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-half-float',
      description: 'Half float 1.0.',
      cbor: withRawPayload('f93c00'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-single-float',
      description: 'Single float 1.0.',
      cbor: withRawPayload('fa3f800000'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-double-float',
      description: 'Double float 1.5.',
      cbor: withRawPayload('fb3ff8000000000000'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-tag',
      description: 'Tag 1 (epoch time) around an integer.',
      cbor: withRawPayload('c11a5e0be100'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-bignum',
      description: 'Tag 2 bignum.',
      cbor: withRawPayload('c24101'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-undefined',
      description: 'Simple value undefined (0xf7).',
      cbor: withRawPayload('f7'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-simple-16',
      description: 'Simple value 16.',
      cbor: withRawPayload('f0'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-simple-1-byte',
      description: 'Simple value 32 in a 1-byte head.',
      cbor: withRawPayload('f820'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-reserved-ai',
      description: 'Additional information 28 (reserved).',
      cbor: withRawPayload('1c'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-lone-break',
      description: 'A break byte outside an indefinite item.',
      cbor: withRawPayload('ff'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-int-2^53',
      description: '2^53, one above the largest safe integer.',
      cbor: withRawPayload('1b0020000000000000'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-int-minus-2^53',
      description: '-(2^53), one below the smallest.',
      cbor: withRawPayload('3b001fffffffffffff'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-int-2^64-1',
      description: 'The largest CBOR unsigned integer.',
      cbor: withRawPayload('1bffffffffffffffff'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-utf8-bad-continuation',
      description: 'Text c3 28.',
      cbor: withRawPayload('62c328'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-utf8-overlong',
      description: 'Text c0 af (overlong "/").',
      cbor: withRawPayload('62c0af'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-utf8-surrogate',
      description: 'Text ed a0 80 (an encoded surrogate).',
      cbor: withRawPayload('63eda080'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-utf8-above-10ffff',
      description: 'Text f4 90 80 80.',
      cbor: withRawPayload('64f4908080'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-map-unsorted',
      description: '{"b":1,"a":2} written in that order.',
      cbor: withRawPayload('a2616201616102'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-map-length-first',
      description:
        '{"aa":1,"b":2} with "aa" first: canonical order compares encoded keys, so "b" comes first.',
      cbor: withRawPayload('a262616101616202'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-map-duplicate-key',
      description: '{"a":1,"a":2}.',
      cbor: withRawPayload('a2616101616102'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-map-integer-key',
      description: '{1: 2}: map keys must be text.',
      cbor: withRawPayload('a10102'),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-truncated-text',
      description: 'Text head says 100 bytes, 1 follows.',
      cbor: cat(good.subarray(0, 20), u('786461')),
      expected: R.MALFORMED,
    },
    {
      name: 'payload-array-count-beyond-input',
      description: 'Array head says 4000 entries with far fewer bytes left.',
      cbor: withRawPayload('990fa0'),
      expected: R.MALFORMED,
    },
    {
      name: 'map-count-counts-items',
      description:
        'A map of 2 entries with 3 bytes left: fewer bytes than the 4 items (keys and values) it needs, ERR_MALFORMED. Counting pairs (2 <= 3) would read on and report the 16,385-byte key as ERR_TOO_LARGE.',
      cbor: u('a2794001'),
      expected: R.MALFORMED,
    },
    {
      name: 'event-65537-bytes',
      description: 'One byte over the event limit.',
      event: eventOfSize(65_537),
      expected: R.TOO_LARGE,
    },
    {
      name: 'payload-too-deep',
      description: 'Seventeen nested arrays.',
      event: signed(body({ payload: nested(17) })),
      expected: R.TOO_DEEP,
    },
    {
      name: 'payload-text-too-long',
      description: 'A text of 16,385 bytes.',
      event: signed(body({ payload: 'x'.repeat(16_385) })),
      expected: R.TOO_LARGE,
    },
    {
      name: 'payload-array-too-many',
      description: 'An array of 4,097 entries.',
      event: signed(body({ payload: new Array<number>(4097).fill(0) })),
      expected: R.TOO_LARGE,
    },
    {
      name: 'signature-65-bytes',
      description: 'A 65-byte byte string: above the byte-string limit of the profile.',
      event: { ...body(), signatures: [entry(alice.did, new Uint8Array(65))] },
      expected: R.TOO_LARGE,
    },
  ],
);

// ------------------------------------------------------------------------------------ schema

/** A did:key of the right length whose multicodec is X25519 (0xec 0x01), not Ed25519. */
const x25519Did = (): string => `did:key:z${P.encodeBase58btc(cat(u('ec01'), bob.publicKey))}`;
const didOf = (k: Uint8Array): string => P.didKeyFromPublicKey(k);
const nonCanonicalKey = u('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
const signersOf = (...dids: string[]) => ({ threshold: 2, signers: dids });

const schema: Array<[string, string, Record<string, unknown>, P.ReasonCode, boolean?]> = [
  ['version-2', 'v = 2: a version this node does not speak.', { v: 2 }, R.UNSUPPORTED_VERSION],
  ['version-0', 'v = 0.', { v: 0 }, R.UNSUPPORTED_VERSION],
  ['version-missing', 'No v field.', { v: undefined }, R.BAD_FIELD],
  ['version-text', 'v = "1".', { v: '1' }, R.BAD_FIELD],
  ['version-negative', 'v = -1.', { v: -1 }, R.BAD_FIELD],
  ['kind-missing', 'No kind.', { kind: undefined }, R.BAD_FIELD],
  ['kind-empty', 'kind = "".', { kind: '' }, R.BAD_FIELD],
  ['kind-space', 'kind with a space.', { kind: 'a b' }, R.BAD_FIELD],
  ['kind-non-ascii', 'kind = "é".', { kind: 'é' }, R.BAD_FIELD],
  ['kind-65-bytes', 'kind of 65 bytes.', { kind: 'k'.repeat(65) }, R.TOO_LARGE],
  ['kind-integer', 'kind = 7.', { kind: 7 }, R.BAD_FIELD],
  ['author-missing', 'No author.', { author: undefined }, R.BAD_FIELD],
  ['author-not-did', 'author = "alice".', { author: 'alice' }, R.BAD_DID],
  [
    'author-uppercase-scheme',
    'DID:KEY: prefix.',
    { author: alice.did.replace('did:key:', 'DID:KEY:') },
    R.BAD_DID,
  ],
  [
    'author-base58-zero',
    'A "0" (not base58btc) in the key.',
    { author: `${alice.did.slice(0, -1)}0` },
    R.BAD_DID,
  ],
  [
    'author-multibase-base64',
    'Multibase "m" (base64) instead of "z".',
    { author: alice.did.replace(':z', ':m') },
    R.BAD_DID,
  ],
  [
    'author-x25519',
    'An X25519 did:key (multicodec 0xec 0x01), same length.',
    { author: x25519Did() },
    R.BAD_DID,
  ],
  [
    'author-secp256k1',
    'The secp256k1 did:key example of the did:key spec.',
    { author: 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme' },
    R.BAD_DID,
  ],
  ['author-extra-digit', 'One more base58 digit.', { author: `${alice.did}1` }, R.BAD_DID],
  [
    'author-small-order',
    'The identity point as the author key (anyone can forge for it).',
    { author: didOf(u(P.SMALL_ORDER_KEYS[0] as string)) },
    R.BAD_DID,
  ],
  [
    'author-order-8',
    'An order-8 point as the author key.',
    { author: didOf(u(P.SMALL_ORDER_KEYS[6] as string)) },
    R.BAD_DID,
  ],
  [
    'author-non-canonical',
    'A key with y = p (non-canonical encoding).',
    { author: didOf(nonCanonicalKey) },
    R.BAD_DID,
  ],
  ['author-integer', 'author = 1.', { author: 1 }, R.BAD_FIELD],
  ['created-at-negative', 'created_at = -1.', { created_at: -1 }, R.BAD_FIELD],
  ['created-at-text', 'created_at as text.', { created_at: '1767225540' }, R.BAD_FIELD],
  ['created-at-missing', 'No created_at.', { created_at: undefined }, R.BAD_FIELD],
  [
    'expires-equals-created',
    'expires_at = created_at.',
    { created_at: NOW, expires_at: NOW },
    R.BAD_FIELD,
  ],
  [
    'expires-before-created',
    'expires_at < created_at.',
    { created_at: NOW, expires_at: NOW - 1 },
    R.BAD_FIELD,
  ],
  ['nonce-15', 'A 15-byte nonce.', { nonce: nonce(15) }, R.BAD_FIELD],
  ['nonce-33', 'A 33-byte nonce.', { nonce: cat(nonce(32), u('00')) }, R.BAD_FIELD],
  [
    'nonce-text',
    'nonce as a text string (the JSON form cannot express it: hex is bytes there).',
    { nonce: 'abababababababababababababababab' },
    R.BAD_FIELD,
    false,
  ],
  ['nonce-integer', 'nonce = 5.', { nonce: 5 }, R.BAD_FIELD],
  ['payload-missing', 'No payload.', { payload: undefined }, R.BAD_FIELD],
  [
    'payload-bytes',
    'A byte string inside the payload (not in the payload model).',
    { payload: { b: u('00') } },
    R.BAD_FIELD,
    false,
  ],
  ['threshold-without-signers', 'threshold alone.', { threshold: 2 }, R.BAD_FIELD],
  [
    'signers-without-threshold',
    'signers alone.',
    { signers: [alice.did, bob.did].sort() },
    R.BAD_FIELD,
  ],
  ['threshold-zero', 'threshold = 0.', { ...policy(2, [alice, bob]), threshold: 0 }, R.BAD_FIELD],
  [
    'threshold-above-n',
    'threshold 3 of 2 signers.',
    { ...policy(2, [alice, bob]), threshold: 3 },
    R.BAD_FIELD,
  ],
  [
    'threshold-text',
    'threshold = "2".',
    { ...policy(2, [alice, bob]), threshold: '2' },
    R.BAD_FIELD,
  ],
  ['signers-not-array', 'signers is a text.', { threshold: 1, signers: alice.did }, R.BAD_FIELD],
  ['signers-empty', 'signers = [].', { threshold: 1, signers: [] }, R.BAD_FIELD],
  [
    'signers-unsorted',
    'signers not in ascending order.',
    signersOf(...[alice.did, bob.did].sort().reverse()),
    R.BAD_FIELD,
  ],
  ['signers-duplicate', 'alice twice.', signersOf(alice.did, alice.did), R.BAD_FIELD],
  [
    'signers-without-author',
    'The author is not a signer.',
    signersOf(...[bob.did, carol.did].sort()),
    R.BAD_FIELD,
  ],
  [
    'signers-bad-did',
    'A signer that is not a did:key.',
    { threshold: 1, signers: ['bob', alice.did] },
    R.BAD_DID,
  ],
  [
    'signers-default-policy',
    '1-of-[author] written out: it must be omitted.',
    { threshold: 1, signers: [alice.did] },
    R.BAD_FIELD,
  ],
  [
    'signers-33',
    'Thirty-three signers.',
    {
      threshold: 1,
      signers: [alice.did, ...Array.from({ length: 32 }, (_, i) => didOf(idOf({ i })))].sort(),
    },
    R.TOO_LARGE,
  ],
  ['unknown-field', 'An extra field "id".', { id: 'abc' }, R.BAD_FIELD],
];

function schemaCase([name, description, over, expected, json]: (typeof schema)[number]): Case {
  return {
    name,
    description,
    event: signed(body(over as Record<string, never>)),
    expected,
    ...(json === false && { json: false }),
  };
}

function withSignatures(list: unknown, b: CborMap = body()): CborMap {
  return { ...b, signatures: list as never };
}
const m = messageOf(body());

const schemaCases: Case[] = [
  ...schema.map(schemaCase),
  {
    name: 'signatures-missing',
    description: 'No signatures field.',
    event: body(),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signatures-empty',
    description: 'signatures = [].',
    event: withSignatures([]),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signatures-not-array',
    description: 'signatures is a map.',
    event: withSignatures({ signer: alice.did }),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signatures-33',
    description: 'Thirty-three signatures.',
    event: withSignatures(new Array(33).fill(entry(alice.did, sig(alice, m)))),
    expected: R.TOO_LARGE,
  },
  {
    name: 'signature-not-map',
    description: 'An entry that is an array.',
    event: withSignatures([[alice.did]]),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signature-missing-sig',
    description: 'An entry without sig.',
    event: withSignatures([{ signer: alice.did }]),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signature-extra-field',
    description: 'An entry with a third field.',
    event: withSignatures([{ ...entry(alice.did, sig(alice, m)), alg: 'ed25519' }]),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signature-63-bytes',
    description: 'sig of 63 bytes.',
    event: withSignatures([entry(alice.did, sig(alice, m).subarray(1))]),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signature-as-text',
    description: 'sig as text (the JSON form cannot express it).',
    event: withSignatures([{ signer: alice.did, sig: 'x' }]),
    json: false,
    expected: R.BAD_FIELD,
  },
  {
    name: 'signature-signer-bad-did',
    description: 'signer is not a did:key.',
    event: withSignatures([entry('alice', sig(alice, m))]),
    expected: R.BAD_DID,
  },
];
// Built after every earlier vector (see the end of this file), so that their nonces stay as they were.
const schemaCasesAdded = (): Case[] => [
  {
    name: 'signature-signer-integer',
    description: 'signer = 1: not text is ERR_BAD_FIELD, as for author.',
    event: withSignatures([{ signer: 1, sig: sig(alice, m) }]),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signers-entry-integer',
    description:
      'A signers entry that is not text: ERR_BAD_FIELD, as for author (text that is not a did:key is ERR_BAD_DID).',
    event: signed(body({ threshold: 1, signers: [1, alice.did] as never })),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signature-order-fields-before-signer',
    description:
      'Check order inside an entry: a third field (ERR_BAD_FIELD) is found before a bad signer (ERR_BAD_DID).',
    event: withSignatures([{ signer: 'alice', sig: sig(alice, m), alg: 'ed25519' }]),
    expected: R.BAD_FIELD,
  },
  {
    name: 'signature-order-signer-before-sig',
    description:
      'Check order inside an entry: a bad signer (ERR_BAD_DID) is found before a 63-byte sig (ERR_BAD_FIELD).',
    event: withSignatures([entry('alice', sig(alice, m).subarray(1))]),
    expected: R.BAD_DID,
  },
  {
    name: 'signature-order-entries-in-turn',
    description:
      'Entries are checked one after the other: entry 0 (63-byte sig, ERR_BAD_FIELD) before entry 1 (bad signer, ERR_BAD_DID).',
    event: withSignatures([
      entry(alice.did, sig(alice, m).subarray(1)),
      entry('bob', sig(alice, m)),
    ]),
    expected: R.BAD_FIELD,
  },
];

// ------------------------------------------------------------------------------------ JSON form

const okJson = (): Record<string, unknown> => {
  const b = signed(body());
  return {
    v: 1,
    kind: 'note',
    author: alice.did,
    created_at: b['created_at'],
    expires_at: b['expires_at'],
    nonce: hex(b['nonce'] as Uint8Array),
    payload: { text: 'hello' },
    signatures: [
      {
        signer: alice.did,
        sig: hex(((b['signatures'] as CborMap[])[0] as CborMap)['sig'] as Uint8Array),
      },
    ],
  };
};
/**
 * A JSON text whose payload is written as `payloadText`; signed over the payload the protocol's
 * reader reads from it (never JSON.parse's rounding of it).
 */
function jsonWithPayload(payloadText: string): string {
  const payload = P.readJsonPayload(enc.encode(payloadText));
  let b: CborMap;
  try {
    if (!payload.ok) throw new Error(payload.detail);
    b = signed(body({ payload: payload.value as never }));
  } catch {
    b = { ...body(), signatures: [entry(alice.did, new Uint8Array(64))] }; // payload cannot be signed
  }
  const j = {
    ...okJson(),
    nonce: hex(b['nonce'] as Uint8Array),
    signatures: [
      {
        signer: alice.did,
        sig: hex(((b['signatures'] as CborMap[])[0] as CborMap)['sig'] as Uint8Array),
      },
    ],
  };
  return JSON.stringify({ ...j, payload: '@P@' }).replace('"@P@"', payloadText);
}
const withField = (k: string, v: unknown): string => JSON.stringify({ ...okJson(), [k]: v });
/** The JSON text of a valid event with one member's value written as raw JSON text. */
const withRawField = (k: string, raw: string, base: Record<string, unknown> = okJson()): string =>
  JSON.stringify({ ...base, [k]: '@RAW@' }).replace('"@RAW@"', () => raw);
/** A valid event's JSON text with `bytes` in place of the payload text's "MARK". */
function jsonWithPayloadBytes(bytes: string): Uint8Array {
  const [before, after] = jsonWithPayload('"MARK"').split('MARK') as [string, string];
  return cat(enc.encode(before), unhex(bytes), enc.encode(after));
}
/** A valid event's JSON text padded with spaces to exactly `size` bytes. */
const padded = (size: number): string => {
  const text = JSON.stringify(okJson());
  return `${text}${' '.repeat(size - text.length)}`;
};
const multiJson = (): Record<string, unknown> => {
  const b = signed(body(policy(2, [alice, bob])), [alice, bob]);
  const sigs = (b['signatures'] as CborMap[]).map((e) => ({
    signer: e['signer'],
    sig: hex(e['sig'] as Uint8Array),
  }));
  return {
    ...okJson(),
    ...policy(2, [alice, bob]),
    nonce: hex(b['nonce'] as Uint8Array),
    signatures: sigs,
  };
};

const jsonFormCases: Case[] = [
  {
    name: 'json-ok',
    description: 'A valid event as JSON text.',
    jsonText: JSON.stringify(okJson()),
    expected: 'accepted',
  },
  { name: 'not-json', description: 'Not JSON text.', jsonText: '{"v":1', expected: R.MALFORMED },
  {
    name: 'json-string',
    description: 'A JSON string.',
    jsonText: '"event"',
    expected: R.MALFORMED,
  },
  { name: 'json-null', description: 'JSON null.', jsonText: 'null', expected: R.MALFORMED },
  {
    name: 'nonce-uppercase-hex',
    description: 'Hex must be lowercase.',
    jsonText: withField('nonce', hex(nonce()).toUpperCase()),
    expected: R.MALFORMED,
  },
  {
    name: 'nonce-odd-hex',
    description: 'Odd number of hex digits.',
    jsonText: withField('nonce', `${hex(nonce())}0`),
    expected: R.MALFORMED,
  },
  {
    name: 'nonce-0x',
    description: '0x prefix.',
    jsonText: withField('nonce', `0x${hex(nonce())}`),
    expected: R.MALFORMED,
  },
  {
    name: 'nonce-base64',
    description: 'base64 instead of hex.',
    jsonText: withField('nonce', 'AAECAwQFBgcICQoLDA0ODw=='),
    expected: R.MALFORMED,
  },
  {
    name: 'sig-uppercase-hex',
    description: 'A signature in uppercase hex.',
    jsonText: withField('signatures', [{ signer: alice.did, sig: 'AB'.repeat(64) }]),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-float',
    description: '1.5 is not an integer.',
    jsonText: jsonWithPayload('1.5'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-huge-exponent',
    description: '1e400 parses to Infinity.',
    jsonText: jsonWithPayload('1e400'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-2^53',
    description: '9007199254740992 is beyond 2^53-1.',
    jsonText: jsonWithPayload('9007199254740992'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-2^53+1',
    description: '9007199254740993 (parses to 2^53).',
    jsonText: jsonWithPayload('9007199254740993'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-minus-2^53',
    description: '-9007199254740992.',
    jsonText: jsonWithPayload('-9007199254740992'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-lone-surrogate',
    description: 'Text "\\ud800" has no UTF-8 form.',
    jsonText: jsonWithPayload('"\\ud800"'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-key-lone-surrogate',
    description: 'A map key "\\udc00".',
    jsonText: jsonWithPayload('{"\\udc00":1}'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-integral-float-notation',
    description: 'JSON numbers are values: 1.0 and 1e0 are the integer 1 and encode as 0x01.',
    jsonText: jsonWithPayload('[1.0,1e0,-0]'),
    expected: 'accepted',
  },
  {
    name: 'payload-too-deep',
    description: 'Seventeen nested arrays.',
    jsonText: jsonWithPayload('[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]'),
    expected: R.TOO_DEEP,
  },
  {
    name: 'field-null-threshold',
    description: 'Optional fields are absent, never null.',
    jsonText: withField('threshold', null),
    expected: R.BAD_FIELD,
  },
  {
    name: 'duplicate-member-name',
    description:
      'A JSON text with "kind" twice: JSON.parse would keep the last, the protocol rejects it.',
    jsonText: JSON.stringify(okJson()).replace('"kind":"note"', '"kind":"spam","kind":"note"'),
    expected: R.MALFORMED,
  },
  {
    name: 'escaped-duplicate-member-name',
    description: '"kind" and "\\u006bind" are the same name.',
    jsonText: JSON.stringify(okJson()).replace(
      '"kind":"note"',
      '"kind":"spam","\\u006bind":"note"',
    ),
    expected: R.MALFORMED,
  },
  {
    name: 'same-name-in-other-objects',
    description: 'The same name in different objects is fine.',
    jsonText: jsonWithPayload('{"text":"hello","inner":{"text":"again","v":2}}'),
    expected: 'accepted',
  },
  {
    name: 'extra-field-id',
    description: 'The id is derived, never part of the event.',
    jsonText: withField('id', '00'.repeat(32)),
    expected: R.BAD_FIELD,
  },
];
const jsonFormCasesAdded = (): Case[] => [
  // exact decimal values (§3.4), never the nearest double
  {
    name: 'payload-exact-decimal-above-1',
    description:
      '1.0000000000000001 is not an integer; its nearest double is 1, which a JSON.parse reader would accept.',
    jsonText: jsonWithPayload('1.0000000000000001'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-exact-decimal-tiny',
    description: '1e-400 is not an integer; its nearest double is 0.',
    jsonText: jsonWithPayload('1e-400'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-minus-huge-exponent',
    description: '-1e400 (a double cannot hold it).',
    jsonText: jsonWithPayload('-1e400'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-1e309',
    description: '1e309, just beyond the largest double.',
    jsonText: jsonWithPayload('1e309'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-2^53-as-decimal',
    description: '9007199254740991.5 is not an integer (its nearest double is 2^53).',
    jsonText: jsonWithPayload('9007199254740991.5'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-integral-notations',
    description:
      'Exact integers however written: 10e-1, 0.1e1, 100E-2, 0e999999999 and -0.0 are 1, 1, 1, 0 and 0; 900719925474099.1e1 is 2^53-1.',
    jsonText: jsonWithPayload('[10e-1,0.1e1,100E-2,0e999999999,-0.0,900719925474099.1e1]'),
    expected: 'accepted',
  },
  {
    name: 'v-huge-exponent',
    description:
      'v = 1e400: a number outside the data model is ERR_MALFORMED (step 1), before the version rule.',
    jsonText: withRawField('v', '1e400'),
    expected: R.MALFORMED,
  },
  {
    name: 'v-written-1.0',
    description: 'v = 1.0 is the integer 1: the same event, the same id, accepted.',
    jsonText: withRawField('v', '1.0'),
    expected: 'accepted',
  },
  {
    name: 'created-at-huge-exponent',
    description: 'created_at = 1e400.',
    jsonText: withRawField('created_at', '1e400'),
    expected: R.MALFORMED,
  },
  {
    name: 'threshold-huge-exponent',
    description: 'threshold = 1e400 in a 2-of-2 policy.',
    jsonText: withRawField('threshold', '1e400', multiJson()),
    expected: R.MALFORMED,
  },
  // UTF-8 and the byte-order mark (§3.4)
  {
    name: 'bom-before-text',
    description:
      'A byte-order mark (EF BB BF) before the JSON text: not whitespace, so not JSON of an event.',
    jsonText: `\ufeff${JSON.stringify(okJson())}`,
    expected: R.MALFORMED,
  },
  {
    name: 'text-invalid-utf8',
    description: 'Byte ff inside the payload text.',
    jsonBytes: jsonWithPayloadBytes('ff'),
    expected: R.MALFORMED,
  },
  {
    name: 'text-overlong-utf8',
    description: 'c0 af (overlong "/") inside the payload text.',
    jsonBytes: jsonWithPayloadBytes('c0af'),
    expected: R.MALFORMED,
  },
  {
    name: 'text-utf8-surrogate',
    description: 'ed a0 80 (an encoded surrogate) inside the payload text.',
    jsonBytes: jsonWithPayloadBytes('eda080'),
    expected: R.MALFORMED,
  },
  {
    name: 'text-raw-non-ascii',
    description: 'Raw UTF-8 (2, 3 and 4 bytes) and the same characters as escapes: equal text.',
    jsonText: jsonWithPayload('["é€😀","\\u00e9\\u20ac\\ud83d\\ude00"]'),
    expected: 'accepted',
  },
  // names, nesting, hex
  {
    name: 'payload-duplicate-member-name',
    description: 'A repeated name in an object inside the payload.',
    jsonText: jsonWithPayload('{"a":{"b":1,"b":2}}'),
    expected: R.MALFORMED,
  },
  {
    name: 'payload-5000-deep',
    description: '5,000 nested arrays: ERR_TOO_DEEP (the reader stops at level 18).',
    jsonText: jsonWithPayload(`${'['.repeat(5000)}${']'.repeat(5000)}`),
    expected: R.TOO_DEEP,
  },
  {
    name: 'nonce-hex-written-with-escapes',
    description:
      'A string\'s value counts, not its spelling: "\\u0030\\u0031..." is lowercase hex.',
    jsonText: (() => {
      const j = okJson();
      const escaped = [...(j['nonce'] as string)]
        .map((ch) => `\\u00${ch.charCodeAt(0).toString(16)}`)
        .join('');
      return withRawField('nonce', `"${escaped}"`, j);
    })(),
    expected: 'accepted',
  },
  // the JSON text limit (§6): bytes, whitespace included
  {
    name: 'json-text-at-limit',
    description: 'A valid event padded with spaces to exactly 524,288 bytes.',
    jsonText: padded(524_288),
    expected: 'accepted',
  },
  {
    name: 'json-text-over-limit',
    description: 'The same, 524,289 bytes: ERR_TOO_LARGE before anything is read.',
    jsonText: padded(524_289),
    expected: R.TOO_LARGE,
  },
  {
    name: 'json-six-times-the-cbor',
    description:
      'A valid event whose minimal JSON form (each U+0001 is \\u0001) is about 290 KB for 48 KB of CBOR: a limit of 262,144 bytes would make it impossible to submit as JSON (the limit is 524,288; the minimal form of any valid event is at most about 6 x 65,536 bytes).',
    event: signed(body({ payload: new Array(3).fill('\u0001'.repeat(16_000)) })),
    expected: 'accepted',
  },
];

// ------------------------------------------------------------------------------------ time

write(
  'invalid-time.json',
  'The time rules (§7 step 4) at now = 1767225600, in order: expired, not yet valid, lifetime.',
  [
    {
      name: 'expired-at-boundary',
      description: 'now = expires_at.',
      event: signed(body({ created_at: NOW - 100, expires_at: NOW })),
      expected: R.EXPIRED,
    },
    {
      name: 'expired-long-ago',
      description: 'Expired a year ago.',
      event: signed(body({ created_at: NOW - 31_536_000, expires_at: NOW - 31_535_000 })),
      expected: R.EXPIRED,
    },
    {
      name: 'not-yet-valid',
      description: 'created_at = now + 301.',
      event: signed(body({ created_at: NOW + 301, expires_at: NOW + 900 })),
      expected: R.NOT_YET_VALID,
    },
    {
      name: 'lifetime-too-long',
      description: 'Lifetime 604801 s.',
      event: signed(body({ created_at: NOW - 1, expires_at: NOW + 604_800 })),
      expected: R.LIFETIME_TOO_LONG,
    },
    {
      name: 'expired-before-lifetime',
      description: 'Both expired and too long: expired is checked first.',
      event: signed(body({ created_at: NOW - 1_000_000, expires_at: NOW - 1 })),
      expected: R.EXPIRED,
    },
    {
      name: 'not-yet-valid-before-lifetime',
      description: 'Both in the future and too long: not yet valid is checked first.',
      event: signed(body({ created_at: NOW + 1000, expires_at: NOW + 2_000_000 })),
      expected: R.NOT_YET_VALID,
    },
    {
      name: 'expired-before-signature',
      description: 'Expired and badly signed: time comes before signatures.',
      event: withSignatures(
        [entry(alice.did, new Uint8Array(64))],
        body({ created_at: NOW - 100, expires_at: NOW - 1 }),
      ),
      expected: R.EXPIRED,
    },
    {
      name: 'same-event-later',
      description: 'The minimal valid shape evaluated a day after it expired.',
      event: signed(body()),
      now: NOW + 86_400,
      expected: R.EXPIRED,
    },
  ],
);

// ------------------------------------------------------------------------------------ signatures

function flip(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] as number) ^ 1;
  return out;
}
function sPlusL(s: Uint8Array): Uint8Array {
  const L = 7237005577332262213973186563042994240857116359379907606001950938285454250989n;
  const le = (b: Uint8Array) => BigInt(`0x${hex(Uint8Array.from(b).reverse())}`);
  const S = le(s.subarray(32)) + L;
  return cat(s.subarray(0, 32), u(S.toString(16).padStart(64, '0')).reverse());
}
const b1 = body();
const m1 = messageOf(b1);
const other = messageOf(body());
const offCurve = offCurveKey();
const offDid = P.didKeyFromPublicKey(offCurve);
const multiBad = body(policy(2, [alice, bob, carol]));
const mb = messageOf(multiBad);

write(
  'invalid-signature.json',
  'Signatures that do not verify under ZIP-215 (§7 step 6). One bad signature rejects the event, whatever the others.',
  [
    {
      name: 'bit-flipped',
      description: 'One bit of S flipped.',
      event: withSignatures([entry(alice.did, flip(sig(alice, m1), 40))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'r-bit-flipped',
      description: 'One bit of R flipped.',
      event: withSignatures([entry(alice.did, flip(sig(alice, m1), 0))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'wrong-key',
      description: 'bob signed but the entry names alice.',
      event: withSignatures([entry(alice.did, sig(bob, m1))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'other-event',
      description: "alice's signature of another event's id.",
      event: withSignatures([entry(alice.did, sig(alice, other))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'no-domain-tag',
      description: 'Signed the bare 32-byte id, without the domain tag.',
      event: withSignatures([entry(alice.did, sig(alice, idOf(b1)))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'signed-body-bytes',
      description: 'Signed the canonical body bytes instead of the signing input.',
      event: withSignatures([entry(alice.did, sig(alice, c(b1)))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 's-plus-l',
      description: 'S + L: the same S modulo L, but ZIP-215 requires S < L.',
      event: withSignatures([entry(alice.did, sPlusL(sig(alice, m1)))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'all-zero',
      description: 'Sixty-four zero bytes.',
      event: withSignatures([entry(alice.did, new Uint8Array(64))], b1),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'multisig-one-bad-above-threshold',
      description:
        "alice and bob sign validly (2 of 3 met) but carol's signature is bad: rejected, not ignored.",
      event: withSignatures(
        [
          entry(alice.did, sig(alice, mb)),
          entry(bob.did, sig(bob, mb)),
          entry(carol.did, flip(sig(carol, mb), 33)),
        ],
        multiBad,
      ),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'outsider-bad-signature',
      description: 'A bad signature by mallory, outside the set, still rejects the event.',
      event: withSignatures(
        [entry(alice.did, sig(alice, m1)), entry(mallory.did, new Uint8Array(64))],
        b1,
      ),
      expected: R.BAD_SIGNATURE,
    },
    {
      name: 'off-curve-signer',
      description: 'An outsider whose key is not a curve point: its signature cannot verify.',
      event: withSignatures([entry(alice.did, sig(alice, m1)), entry(offDid, sig(alice, m1))], b1),
      expected: R.BAD_SIGNATURE,
    },
  ],
);

// ------------------------------------------------------------------------------------ policy

const p23 = body(policy(2, [alice, bob, carol]));
const mp = messageOf(p23);
write(
  'invalid-policy.json',
  'Every signature verifies, but the M-of-N policy is not met (§7 step 7).',
  [
    {
      name: 'one-of-two-needed',
      description: '2 of [alice, bob, carol]; only alice signed.',
      event: signed(p23, [alice]),
      expected: R.THRESHOLD_NOT_MET,
    },
    {
      name: 'same-key-twice',
      description:
        'alice signed twice with two different valid signatures (one ZIP-215-only): a key counts once.',
      event: withSignatures(
        [entry(alice.did, sig(alice, mp)), entry(alice.did, zip215OnlySignature(alice, mp))],
        p23,
      ),
      expected: R.THRESHOLD_NOT_MET,
    },
    {
      name: 'outsider-counts-zero',
      description: 'alice and mallory (outside the set) signed.',
      event: signed(p23, [alice, mallory]),
      expected: R.THRESHOLD_NOT_MET,
    },
    {
      name: 'author-missing',
      description: 'bob and carol signed (2 of 3) but not the author.',
      event: signed(p23, [bob, carol]),
      expected: R.MISSING_AUTHOR_SIGNATURE,
    },
    {
      name: 'single-signed-by-other',
      description: 'No policy; only bob signed.',
      event: signed(body(), [bob]),
      expected: R.THRESHOLD_NOT_MET,
    },
    {
      name: 'three-of-three-with-repeat',
      description: '3 of 3; alice, bob, bob signed.',
      event: signed(body(policy(3, [alice, bob, carol])), [alice, bob, bob]),
      expected: R.THRESHOLD_NOT_MET,
    },
    {
      name: 'dave-outside-four',
      description: '3 of [alice, bob, dave]: alice, bob and carol signed.',
      event: signed(body(policy(3, [alice, bob, dave])), [alice, bob, carol]),
      expected: R.THRESHOLD_NOT_MET,
    },
  ],
);

// ------------------------------------------------------------------------------------ trust

write(
  'trust.json',
  'Allow-list trust (§7 step 8): `trusted_authors` lists the trusted did:keys; absent means open mode.',
  [
    {
      name: 'trusted-author',
      description: 'alice is trusted.',
      event: signed(body()),
      trusted: [alice],
      expected: 'accepted',
    },
    {
      name: 'untrusted-author',
      description: 'Only bob is trusted.',
      event: signed(body()),
      trusted: [bob],
      expected: R.UNTRUSTED_AUTHOR,
    },
    {
      name: 'empty-allow-list',
      description: 'Nobody is trusted.',
      event: signed(body()),
      trusted: [],
      expected: R.UNTRUSTED_AUTHOR,
    },
    {
      name: 'open-mode',
      description: 'No allow-list: any author.',
      event: signed(body({ author: mallory.did }), [mallory]),
      expected: 'accepted',
    },
    {
      name: 'trusted-cosigner-not-enough',
      description: 'bob is trusted and co-signs, but trust is about the author (alice).',
      event: signed(body(policy(2, [alice, bob])), [alice, bob]),
      trusted: [bob],
      expected: R.UNTRUSTED_AUTHOR,
    },
    {
      name: 'signature-before-trust',
      description: 'Untrusted and badly signed: the signature rule comes first.',
      event: withSignatures([entry(alice.did, new Uint8Array(64))]),
      trusted: [bob],
      expected: R.BAD_SIGNATURE,
    },
  ],
);

// ------------------------------------------------------------------------------------ replay

const r0 = body();
const r0Other = { ...r0, payload: { text: 'same nonce, other payload' } };
const rMulti = body(policy(2, [alice, bob, carol]));
const rm = messageOf(rMulti);
const sequences: Sequence[] = [
  {
    name: 'resubmit-same-event',
    description: 'The same event twice: the second is a duplicate, not an error.',
    steps: [
      { description: 'first', event: signed(r0), expected: 'accepted' },
      { description: 'same bytes again', event: signed(r0), expected: 'duplicate' },
    ],
  },
  {
    name: 'resubmit-other-signatures',
    description:
      'The id does not cover signatures: the same body with other signatures is a duplicate.',
    steps: [
      {
        description: 'alice and bob',
        event: withSignatures(
          [entry(alice.did, sig(alice, rm)), entry(bob.did, sig(bob, rm))],
          rMulti,
        ),
        expected: 'accepted',
      },
      {
        description: 'alice and carol',
        event: withSignatures(
          [entry(alice.did, sig(alice, rm)), entry(carol.did, sig(carol, rm))],
          rMulti,
        ),
        expected: 'duplicate',
      },
      {
        description: 'even with a bad signature (replay comes before signatures)',
        event: withSignatures([entry(alice.did, new Uint8Array(64))], rMulti),
        expected: 'duplicate',
      },
    ],
  },
  {
    name: 'same-nonce-other-event',
    description: 'Same author and nonce, other content: a replay.',
    steps: [
      { description: 'first', event: signed(r0), expected: 'accepted' },
      { description: 'other payload, same nonce', event: signed(r0Other), expected: R.REPLAY },
    ],
  },
  {
    name: 'same-nonce-other-author',
    description: "Nonces are per author: bob may use alice's nonce.",
    steps: [
      { description: 'alice', event: signed(r0), expected: 'accepted' },
      {
        description: 'bob, same nonce',
        event: signed({ ...r0, author: bob.did }, [bob]),
        expected: 'accepted',
      },
    ],
  },
  {
    name: 'rejected-event-does-not-use-nonce',
    description: 'A rejected event leaves no replay record.',
    steps: [
      {
        description: 'bad signature',
        event: withSignatures([entry(alice.did, new Uint8Array(64))], r0Other),
        expected: R.BAD_SIGNATURE,
      },
      { description: 'the real event with that nonce', event: signed(r0), expected: 'accepted' },
    ],
  },
  {
    name: 'expired-duplicate',
    description:
      'Time rules come before replay: an accepted event sent again after it expired is expired.',
    steps: [
      { description: 'first', event: signed(r0), expected: 'accepted' },
      { description: 'after expiry', event: signed(r0), now: NOW + 7200, expected: R.EXPIRED },
    ],
  },
];
write(
  'replay.json',
  "Sequences of submissions to one node (§7 step 5). Each step's `expected` assumes the earlier accepted steps are stored.",
  sequences,
);

// ------------------------------------------------------------------------------------ added later

// Vectors added after the first release of the files are built last: nonces come from one
// counter, so building them in place would change every vector after them.
write(
  'invalid-schema.json',
  'Well-formed CBOR that breaks the version rule (§7 step 2) or the field rules (step 3). Each is signed by its author, so it has exactly one fault, except the check-order vectors, which name the order they show.',
  [...schemaCases, ...schemaCasesAdded()],
);
write(
  'json-form.json',
  'The JSON form (§3.4): what only JSON text can get wrong, how JSON numbers map to integers (exact decimal values), UTF-8, and the JSON text limit.',
  [...jsonFormCases, ...jsonFormCasesAdded()],
);

// ------------------------------------------------------------------------------------ batch bodies

/** A fresh valid event's JSON text (compact, as JSON.stringify writes it). */
const ev = (payload: unknown = { text: 'hello' }): string => {
  const b = signed(body({ payload: payload as never }));
  const sigs = (b['signatures'] as CborMap[]).map((e) => ({
    signer: e['signer'],
    sig: hex(e['sig'] as Uint8Array),
  }));
  return JSON.stringify({
    ...okJson(),
    nonce: hex(b['nonce'] as Uint8Array),
    payload,
    signatures: sigs,
  });
};
const A = 'accepted';
const M = R.MALFORMED;

writeBatches(
  'batch-bodies.json',
  'Request bodies (§3.5): how a body splits into the JSON texts of its events, and the verdict on each. `expected` is one code when the body is refused whole, else one verdict per element, in order.',
  [
    {
      name: 'single-object',
      description: 'A body that is one object is one event.',
      body: ev(),
      expected: [A],
    },
    {
      name: 'array-of-three',
      description: 'Three events.',
      body: `[${ev()},${ev()},${ev()}]`,
      expected: [A, A, A],
    },
    {
      name: 'whitespace-around',
      description:
        'Whitespace before, between and after elements belongs to them or to the body; it changes nothing.',
      body: ` \n[ ${ev()} ,\t${ev()}\r\n]\n `,
      expected: [A, A],
    },
    {
      name: 'empty-array',
      description:
        'An array of whitespace only holds no events (the API answers it, not the protocol).',
      body: '[ \n ]',
      expected: [],
    },
    {
      name: 'empty-element',
      description: 'Two commas in a row make an empty element: ERR_MALFORMED for it alone.',
      body: `[${ev()},,${ev()}]`,
      expected: [A, M, A],
    },
    {
      name: 'trailing-comma',
      description: 'A comma before ] makes an empty last element.',
      body: `[${ev()},${ev()},]`,
      expected: [A, A, M],
    },
    {
      name: 'leading-comma',
      description: 'A comma after [ makes an empty first element.',
      body: `[,${ev()}]`,
      expected: [M, A],
    },
    {
      name: 'garbage-element',
      description: 'An element that is not JSON.',
      body: `[${ev()},garbage,${ev()}]`,
      expected: [A, M, A],
    },
    {
      name: 'scalar-elements',
      description: 'Elements that are JSON but not objects.',
      body: `[${ev()},42,null,"x"]`,
      expected: [A, M, M, M],
    },
    {
      name: 'duplicate-name-in-one-element',
      description: "A repeated member name is that element's fault only.",
      body: `[${ev()},${ev().replace('{', '{"v":1,')},${ev()}]`,
      expected: [A, M, A],
    },
    {
      name: 'invalid-utf8-in-one-element',
      description:
        "Byte ff inside one element's string: that element is ERR_MALFORMED, its neighbours are read.",
      body: (() => {
        const [x, y] = [ev(), ev()];
        return cat(enc.encode(`[${x},"`), unhex('ff'), enc.encode(`",${y}]`));
      })(),
      expected: [A, M, A],
    },
    {
      name: 'bom-on-an-element',
      description: 'A byte-order mark before an element is part of that element.',
      body: `[${ev()},\ufeff${ev()}]`,
      expected: [A, M],
    },
    {
      name: 'delimiters-inside-strings',
      description:
        'Commas, brackets, braces, escaped quotes and backslashes inside strings do not split; nested commas do not either.',
      body: `[${ev({ t: 'a,]"}[\\', n: [1, [2, 3], { k: ',' }] })},${ev()}]`,
      expected: [A, A],
    },
    {
      name: 'brackets-counted-by-kind-alone',
      description:
        'The splitter counts [ { as one level up and ] } as one down, of either kind: {"a":[1}] is one element (ERR_MALFORMED), and the split goes on.',
      body: `[${ev()},{"a":[1}],${ev()}]`,
      expected: [A, M, A],
    },
    {
      name: 'same-event-twice',
      description: 'Elements are validated in order: the second copy is a duplicate.',
      body: (() => {
        const e = ev();
        return `[${e},${e}]`;
      })(),
      expected: [A, 'duplicate'],
    },
    {
      name: 'unterminated-array',
      description: 'The body ends before the closing ]: every element is ERR_MALFORMED.',
      body: `[${ev()},${ev()}`,
      expected: [M, M],
    },
    {
      name: 'unterminated-string',
      description: 'The last element opens a string that never closes.',
      body: `[${ev()},{"v":"`,
      expected: [M, M],
    },
    {
      name: 'text-after-array',
      description: 'Non-whitespace after the closing ]: every element is ERR_MALFORMED.',
      body: `[${ev()},${ev()}] x`,
      expected: [M, M],
    },
    {
      name: 'two-arrays',
      description: 'A second array after the first is text after ].',
      body: `[${ev()}][${ev()}]`,
      expected: [M],
    },
    {
      name: 'array-closed-by-brace',
      description: 'An array whose last level is closed by }: every element is ERR_MALFORMED.',
      body: `[${ev()}}`,
      expected: [M],
    },
    {
      name: 'element-over-the-text-limit',
      description:
        "An element's JSON text is its bytes between the delimiters, whitespace included: 524,289 bytes is ERR_TOO_LARGE.",
      body: (() => {
        const e = ev();
        return `[${ev()},${e}${' '.repeat(524_289 - e.length)},${ev()}]`;
      })(),
      expected: [A, R.TOO_LARGE, A],
    },
    {
      name: 'bom-before-body',
      description:
        'A byte-order mark before the body: neither an array nor an object, refused whole.',
      body: `\ufeff[${ev()}]`,
      expected: M,
    },
    { name: 'scalar-body', description: 'A number.', body: '42', expected: M },
    {
      name: 'string-body',
      description: 'A string holding an array.',
      body: JSON.stringify(`[${ev()}]`),
      expected: M,
    },
    { name: 'empty-body', description: 'No bytes.', body: '', expected: M },
    { name: 'whitespace-body', description: 'Whitespace only.', body: ' \r\n\t', expected: M },
  ],
);

// ------------------------------------------------------------------------------------ identities

// Events whose author is an identity (a did:cs, spec/IDENTITY.md), judged by a node that holds
// no key event: the rules of `author` and `key_state` (PROTOCOL.md §2.1, §2.4) and step 7.
// Built last: they draw nonces from the shared counter too.
const identityDid = P.didCsFromInceptionId(
  P.fromHex('8e3cdb4fb9c4b1a6e1ee52f5b8e57cba1d7b5b0a5d4f7e9f0c3d2b1a09887766') as Uint8Array,
);
const keyState = unhex('5a'.repeat(32));
const byIdentity = (over: Record<string, unknown> = {}): CborMap =>
  body({ author: identityDid, key_state: keyState, ...(over as CborMap) });
write(
  'identity-schema.json',
  'Events by an identity (author a did:cs naming its key_state) against a node that holds no key event: the field rules of author and key_state (§2.1), no policy with a did:cs author (§2.4), and step 7, the identity verdict, which without the key events is ERR_KEL_UNKNOWN_IDENTITY (not final). Signed by alice, whose did:key is not tied to the identity here.',
  [
    {
      name: 'identity-author-no-key-events',
      description:
        'A well-formed event by a did:cs with every signature valid: step 7 finds no inception of the identity.',
      event: signed(byIdentity()),
      expected: 'ERR_KEL_UNKNOWN_IDENTITY',
    },
    {
      name: 'identity-author-without-key-state',
      description: 'A did:cs author needs key_state.',
      event: signed(body({ author: identityDid })),
      expected: R.BAD_FIELD,
    },
    {
      name: 'did-key-author-with-key-state',
      description: 'key_state is only for a did:cs author.',
      event: signed(body({ key_state: keyState })),
      expected: R.BAD_FIELD,
    },
    {
      name: 'key-state-31-bytes',
      description: 'key_state is exactly 32 bytes (the id of a key event).',
      event: signed(byIdentity({ key_state: keyState.slice(1) })),
      expected: R.BAD_FIELD,
    },
    {
      name: 'key-state-as-text',
      description: 'key_state as a CBOR text string: not bytes.',
      event: signed(byIdentity({ key_state: hex(keyState) })),
      json: false,
      expected: R.BAD_FIELD,
    },
    {
      name: 'key-state-not-hex-json',
      description: 'In JSON key_state is lowercase hex, like nonce: anything else is malformed.',
      jsonText: JSON.stringify({
        ...jsonOfEvent(signed(byIdentity())),
        key_state: 'Z'.repeat(64),
      }),
      expected: R.MALFORMED,
    },
    {
      name: 'identity-author-misspelled',
      description: 'A did:cs whose multihash header is not sha2-256: ERR_BAD_DID.',
      event: signed(
        byIdentity({
          author: `did:cs:z${P.encodeBase58btc(cat(Uint8Array.of(0x13, 0x20), keyState))}`,
        }),
      ),
      expected: R.BAD_DID,
    },
    {
      name: 'identity-author-with-policy',
      description: 'An event by a did:cs has no threshold or signers: its key state is its policy.',
      event: signed(byIdentity(policy(1, [alice, bob]))),
      expected: R.BAD_FIELD,
    },
  ],
);

/** The JSON form of a signed event map, as the protocol writes it. */
function jsonOfEvent(m: CborMap): Record<string, unknown> {
  const d = P.decodeEvent(c(m));
  if (!d.ok) throw new Error(`identity vector: ${d.detail}`);
  return P.eventToJson(d.value.event) as unknown as Record<string, unknown>;
}
