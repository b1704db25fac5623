/**
 * The JSON reader writes the canonical CBOR of what it reads while it reads, and takes the
 * usual event's fields from that CBOR without building a map (json-reader.ts `commonShape`);
 * every other event goes through the schema code of the CBOR form. Held here to the reference
 * path, CBOR encoder then `decodeEvent`, on generated valid and invalid events spelled in every
 * JSON way (by did:key authors and by identities, did:cs with a key_state): the same verdict,
 * and for an accepted event the same bytes, body, fields and keys.
 * The pipeline's entry (`readEventCbor`) is held to `readEventJson` on the same texts and on
 * texts with random bytes changed. And the usual shapes' own way (did:key authors without a
 * policy, identities naming their key state) is held to the schema code on every text it takes:
 * the same CBOR, body, id, fields and keys; on every other text the verdict, refusals included,
 * is the schema code's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type CborMap,
  type CborValue,
  type DecodedEvent,
  decodeEvent,
  didCsFromInceptionId,
  encodeCbor,
  eventToJson,
  LIMITS,
  makePolicy,
  type Result,
  readEventCbor,
  readEventJson,
  readEventJsonBy,
  SMALL_ORDER_KEYS,
  toHex,
} from '../src/protocol/index.js';
import { payload, prng, spell, wellFormedText } from './json-fixtures.js';
import { alice, bob, carol, core, testKey, validEvent } from './protocol-fixtures.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const reasonOf = (r: Result<unknown>): string => (r.ok ? 'ok' : r.reason);
const dave = testKey('dave');

/** The same value for the JSON form: byte strings (only at `nonce` and `sig`) as hex. */
function toJsonValue(value: CborValue): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: min, maxLength: max });

/** did:key strings: valid, of small order, mangled, of another length. */
const did: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(alice.did, bob.did, carol.did, dave.did),
  fc.constantFrom(...SMALL_ORDER_KEYS).map((hex) => {
    const key = Uint8Array.from(Buffer.from(hex, 'hex'));
    return didOfBytes(key);
  }),
  fc
    .tuple(
      fc.constantFrom(alice.did, bob.did),
      fc.nat(55),
      fc.constantFrom('0', 'O', 'l', 'z', 'é', ''),
    )
    .map(([d, i, c]) => d.slice(0, i) + c + d.slice(i + 1)),
  fc.constantFrom('did:key:z', 'did:web:example.com', `${alice.did}1`),
  // identities (did:cs): valid, mangled, of another length
  bytes(32, 32).map((id) => didCsFromInceptionId(id)),
  fc.tuple(bytes(32, 32), fc.nat(53), fc.constantFrom('0', 'O', 'l', 'é', '')).map(([id, i, c]) => {
    const d = didCsFromInceptionId(id);
    return d.slice(0, i) + c + d.slice(i + 1);
  }),
  fc.constantFrom('did:cs:z', 'did:cs:', `${didCsFromInceptionId(new Uint8Array(32))}1`),
);

/** An identity's did:cs. */
const IDENTITY = didCsFromInceptionId(new Uint8Array(32).fill(0x5a));

function didOfBytes(key: Uint8Array): string {
  // the did:key spelling of any 32 bytes, valid as a key or not
  const prefix = Uint8Array.of(0xed, 0x01, ...key);
  const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = 0n;
  for (const b of prefix) n = n * 256n + BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  return `did:key:z${out}`;
}

/** A value for any field: the data model without byte strings, small. */
const anyValue: fc.Arbitrary<CborValue> = payload as fc.Arbitrary<CborValue>;

/** Values that make a field wrong, or right, by type, range or length. */
const fieldValue: Record<string, fc.Arbitrary<CborValue>> = {
  v: fc.oneof(fc.constantFrom(0, 1, 2, -1, 2 ** 53 - 1), anyValue),
  kind: fc.oneof(
    fc.string({ minLength: 0, maxLength: 70 }),
    fc.constantFrom('a', 'x'.repeat(64), 'x'.repeat(65), 'has space', 'tab\t', 'é', ''),
    anyValue,
  ),
  author: fc.oneof(did, anyValue),
  created_at: fc.oneof(fc.constantFrom(0, -1, 1_767_225_000, 2 ** 53 - 1), anyValue),
  expires_at: fc.oneof(fc.constantFrom(0, -1, 1_767_229_200, 2 ** 53 - 1), anyValue),
  // no text at nonce or sig: the JSON form reads text there as hex (byte strings)
  nonce: fc.oneof(
    bytes(0, 40),
    anyValue.filter((v) => typeof v !== 'string'),
  ),
  payload: anyValue,
  // an identity's key state (hex in JSON, so no text here either)
  key_state: fc.oneof(
    bytes(30, 34),
    anyValue.filter((v) => typeof v !== 'string'),
  ),
  threshold: fc.oneof(fc.integer({ min: -1, max: 5 }), anyValue),
  signers: fc.oneof(
    fc.array(did, { maxLength: 5 }),
    fc.array(fc.constantFrom(alice.did, bob.did, carol.did, dave.did), { maxLength: 5 }),
    fc.constant(Array.from({ length: LIMITS.maxSigners + 1 }, () => alice.did)),
    anyValue,
  ),
  signatures: fc.oneof(
    fc.array(
      fc.oneof(
        fc.record({ signer: did, sig: bytes(62, 66) }),
        fc.record({ signer: did, sig: bytes(64, 64), extra: anyValue }),
        fc.record({ signer: did }),
        fc.record({ sig: bytes(64, 64) }),
        anyValue.filter((v) => typeof v !== 'string'),
      ),
      { maxLength: 4 },
    ),
    anyValue.filter((v) => typeof v !== 'string' && !Array.isArray(v)),
  ),
};
const FIELDS = Object.keys(fieldValue);

/**
 * Events that pass steps 1–3 (signatures are not verified there, so any 64 bytes do), of
 * several shapes: one signer, co-signed, M-of-N, more entries than a one-byte CBOR head holds.
 */
const validMap: fc.Arbitrary<CborMap> = fc
  .tuple(
    payload,
    fc.constantFrom('note', 'a', 'x'.repeat(64), 'k!~'),
    bytes(LIMITS.minNonceBytes, LIMITS.maxNonceBytes),
    bytes(64, 64),
    fc.constantFrom('single', 'cosigned', 'policy', 'many', 'identity', 'identity-cosigned'),
    bytes(32, 32),
  )
  .map(([p, kind, nonce, sig, shape, keyState]): CborMap => {
    const signed = (...keys: { did: string }[]) => keys.map((k) => ({ signer: k.did, sig }));
    const map: CborMap = {
      v: 1,
      kind,
      author: alice.did,
      created_at: 1_767_225_540,
      expires_at: 1_767_229_200,
      nonce,
      payload: p,
      signatures: signed(alice),
    };
    if (shape === 'cosigned') map['signatures'] = signed(bob, alice, dave);
    if (shape === 'many') map['signatures'] = signed(...Array.from({ length: 24 }, () => alice));
    if (shape === 'identity' || shape === 'identity-cosigned') {
      // an event by an identity: its key state names the keys that sign (did:keys)
      map['author'] = IDENTITY;
      map['key_state'] = keyState;
      if (shape === 'identity-cosigned') map['signatures'] = signed(bob, carol);
    }
    if (shape === 'policy') {
      const policy = makePolicy(alice.did, 2, [bob.did, carol.did]);
      map['threshold'] = policy.threshold;
      map['signers'] = [...policy.signers];
      map['signatures'] = signed(alice, bob);
    }
    return map;
  });

/** A change to an event's map. */
type Change = (map: CborMap) => void;

/** Sets `field` to `value`, or to what `value` computes from the map. */
function set(field: string, value: CborValue | ((map: CborMap) => CborValue)): Change {
  return (map) => {
    map[field] = typeof value === 'function' ? value(map) : value;
  };
}

/** Values at the edges of the rules that the usual event's fields are checked against. */
const edge: fc.Arbitrary<Change> = fc.oneof(
  fc.constantFrom(0, 1, 2).map((v) => set('v', v)),
  fc
    .tuple(
      fc.constantFrom(0, 1, 23, 24, 63, 64, 65),
      fc.constantFrom(' ', '!', '~', '\x7f', 'é', 'x'),
    )
    .map(([n, c]) => set('kind', `${c}${'k'.repeat(n)}`.slice(0, n))),
  fc
    .constantFrom(0, 15, 16, 23, 24, 31, 32, 33)
    .map((n) => set('nonce', new Uint8Array(n).fill(7))),
  fc.constantFrom(-1, 0, 1).map((d) =>
    set('expires_at', (m) => {
      const created = m['created_at'];
      return typeof created === 'number' && Number.isSafeInteger(created + d)
        ? created + d
        : 1_767_229_200;
    }),
  ),
  fc.constantFrom(0, 2 ** 53 - 1).map((t) => set('created_at', t)),
  fc
    .tuple(fc.constantFrom(0, 1, 2, 23, 24, 32, 33), fc.constantFrom(63, 64, 64, 65))
    .map(([n, length]) =>
      set(
        'signatures',
        Array.from({ length: n }, () => ({
          signer: alice.did,
          sig: new Uint8Array(length).fill(9),
        })),
      ),
    ),
  did.map((d) => set('author', d)),
  fc.constantFrom(0, 31, 32, 33).map((n) => set('key_state', new Uint8Array(n).fill(3))),
  fc.constant(set('author', IDENTITY)),
  did.map((d) =>
    set('signatures', (m) => [
      ...(Array.isArray(m['signatures']) ? m['signatures'].slice(1) : []),
      { signer: d, sig: new Uint8Array(64) },
    ]),
  ),
);

/** A valid event with up to three changes: a field at an edge, replaced, removed, or added. */
const eventMap: fc.Arbitrary<CborMap> = fc
  .tuple(
    validMap,
    fc.array(
      fc.oneof(
        { arbitrary: edge, weight: 4 },
        {
          arbitrary: fc
            .constantFrom(...FIELDS)
            .chain((f) => (fieldValue[f] as fc.Arbitrary<CborValue>).map((v) => set(f, v))),
          weight: 2,
        },
        fc.constantFrom(...FIELDS).map(
          (f): Change =>
            (m) => {
              delete m[f];
            },
        ),
        fc
          .tuple(fc.string({ maxLength: 12 }).filter(wellFormedText), anyValue)
          .map(([k, v]) => set(k, v)),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([base, changes]) => {
    const map: CborMap = { ...base };
    for (const change of changes) change(map);
    return map;
  });

function expectSameEvent(json: DecodedEvent, cbor: DecodedEvent): void {
  expect(toHex(json.encoded)).toBe(toHex(cbor.encoded));
  expect(toHex(json.body)).toBe(toHex(cbor.body));
  expect(json.event).toEqual(cbor.event);
  expect(json.authorKey).toEqual(cbor.authorKey);
  expect(json.signerKeys).toEqual(cbor.signerKeys);
}

/**
 * The usual shapes' own way and the schema code agree on `text`: where the former takes the
 * event, the same event, bytes and id; elsewhere `readEventJson` is the schema code's verdict,
 * refusals word for word. Returns whether the usual shapes' way took it (and accepted it).
 */
function expectFastAgreesWithSchema(text: Uint8Array): boolean {
  const schema = readEventJsonBy('schema', text);
  const fast = readEventJsonBy('fast', text);
  if (fast === null || !fast.ok) {
    expect(readEventJson(text)).toEqual(schema);
    if (fast !== null) expect(fast).toEqual(schema); // refused by the reader, either way
    return false;
  }
  expect(schema?.ok).toBe(true);
  if (schema?.ok) {
    expectSameEvent(fast.value, schema.value);
    expect(toHex(core.sha256(fast.value.body))).toBe(toHex(core.sha256(schema.value.body)));
  }
  return true;
}

/** readEventCbor gives readEventJson's verdict, and when it accepts, the same event. */
function expectCborEntryAgrees(text: Uint8Array): void {
  const full = readEventJson(text);
  const lean = readEventCbor(text, 0, text.length);
  if (!full.ok || !lean.ok) {
    expect(lean).toEqual(full);
    return;
  }
  const { payload: _payload, ...event } = full.value.event;
  expect(lean.value.event).toEqual(event);
  expect(toHex(lean.value.cbor)).toBe(toHex(full.value.encoded));
  expect(lean.value.bodyEnd).toBe(full.value.body.length);
  expect(lean.value.authorKey).toEqual(full.value.authorKey);
  expect(lean.value.signerKeys).toEqual(full.value.signerKeys);
  expectFastAgreesWithSchema(text);
  // and the CBOR it leaves is the event itself
  const decoded = decodeEvent(lean.value.cbor.slice());
  expect(decoded.ok).toBe(true);
  if (decoded.ok) expectSameEvent(full.value, decoded.value);
}

describe('the JSON reader agrees with the CBOR encoder and decoder', () => {
  it('on generated events, valid and not: the same verdict, and the same event when accepted', () => {
    let accepted = 0;
    fc.assert(
      fc.property(eventMap, fc.integer(), (map, seed) => {
        const text = utf8(spell(toJsonValue(map), prng(seed)));
        const json = readEventJson(text);
        const cbor = decodeEvent(encodeCbor(map));
        expect(reasonOf(json), new TextDecoder().decode(text)).toBe(reasonOf(cbor));
        if (json.ok && cbor.ok) {
          accepted++;
          expectSameEvent(json.value, cbor.value);
        }
        expectCborEntryAgrees(text);
      }),
      { numRuns: 1500 },
    );
    expect(accepted).toBeGreaterThan(100); // the valid shapes are well represented
  });

  it('on every shape of valid event, spelled in every JSON way', () => {
    fc.assert(
      fc.property(validMap, fc.integer(), (map, seed) => {
        const text = utf8(spell(toJsonValue(map), prng(seed)));
        const json = readEventJson(text);
        const cbor = decodeEvent(encodeCbor(map));
        expect(json.ok && cbor.ok).toBe(true);
        if (json.ok && cbor.ok) expectSameEvent(json.value, cbor.value);
        expectCborEntryAgrees(text);
      }),
      { numRuns: 300 },
    );
  });

  it('readEventCbor gives readEventJson’s verdict on texts with random bytes changed', () => {
    const base = utf8(JSON.stringify(eventToJson(validEvent().event)));
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(base.length - 1),
            fc.nat(255),
            fc.constantFrom('set', 'insert', 'delete'),
          ),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (edits) => {
          const text = Array.from(base);
          for (const [at, b, op] of edits) {
            const i = Math.min(at, text.length);
            if (op === 'set') text[i] = b;
            else if (op === 'insert') text.splice(i, 0, b);
            else text.splice(i, 1);
          }
          expectCborEntryAgrees(Uint8Array.from(text));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** An identity's event (did:cs author, key_state) with up to three changes, mostly at the edges. */
const identityEventMap: fc.Arbitrary<CborMap> = fc
  .tuple(
    validMap.filter((m) => m['author'] === IDENTITY),
    fc.array(
      fc.oneof(
        { arbitrary: edge, weight: 4 },
        {
          arbitrary: fc
            .constantFrom('author', 'key_state', 'signatures', 'threshold', 'signers', 'nonce')
            .chain((f) => (fieldValue[f] as fc.Arbitrary<CborValue>).map((v) => set(f, v))),
          weight: 3,
        },
        fc.constantFrom('key_state', 'author', 'signatures').map(
          (f): Change =>
            (m) => {
              delete m[f];
            },
        ),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([base, changes]) => {
    const map: CborMap = { ...base };
    for (const change of changes) change(map);
    return map;
  });

describe('the usual shapes’ own way agrees with the schema code', () => {
  it('on events by identities (did:cs, key_state), valid and not: the same bytes, id and verdict', () => {
    let fast = 0;
    let refused = 0;
    fc.assert(
      fc.property(identityEventMap, fc.integer(), (map, seed) => {
        const text = utf8(spell(toJsonValue(map), prng(seed)));
        if (expectFastAgreesWithSchema(text)) fast++;
        else if (!readEventJson(text).ok) refused++;
      }),
      { numRuns: 1500 },
    );
    // both sides are well represented: identity events taken by the usual shapes' way, and
    // events near them that it leaves to the schema code, which refuses them
    expect(fast).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(200);
  });

  it('takes every valid event of the usual shapes, by did:key authors and by identities', () => {
    fc.assert(
      fc.property(validMap, fc.integer(), (map, seed) => {
        const text = utf8(spell(toJsonValue(map), prng(seed)));
        // the shapes outside the usual ones: a policy, more entries than one CBOR head byte holds
        const shape =
          map['threshold'] !== undefined
            ? 'policy'
            : (map['signatures'] as unknown[]).length > 23
              ? 'many'
              : 'usual';
        expect(expectFastAgreesWithSchema(text)).toBe(shape === 'usual');
      }),
      { numRuns: 300 },
    );
  });
});
