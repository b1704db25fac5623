/**
 * Hostile input to the parsers: every malformed event is a typed rejection with the expected
 * reason, never a throw, and the work done is bounded by the event limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  LIMITS,
  MAX_EVENT_JSON_CHARS,
  REASON_CODES,
  Reason,
  decodeEvent,
  duplicateJsonKey,
  encodeCbor,
  eventToJson,
  fromHex,
  parseEventJson,
  parseEventJsonText,
  type CborMap,
  type CborValue,
  type EventJson,
  type Result,
} from '../src/protocol/index.js';
import { validEvent } from './protocol-fixtures.js';

const BASE: EventJson = eventToJson(validEvent().event);
const base = (): EventJson => BASE;
const reasonOf = (r: Result<unknown>): string => (r.ok ? 'ok' : r.reason);
const withField = (key: string, value: unknown): unknown => ({ ...base(), [key]: value });
const withPayload = (payload: unknown): unknown => withField('payload', payload);

function nested(depth: number, leaf: unknown = 0): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

describe('parseEventJson rejects', () => {
  it.each<[string, unknown, string]>([
    ['a payload over 64 KiB', withPayload(['x'.repeat(16_000), 'x'.repeat(16_000), 'x'.repeat(16_000), 'x'.repeat(16_000), 'x'.repeat(16_000)]), Reason.TOO_LARGE],
    ['a text of 16385 bytes', withPayload('x'.repeat(16_385)), Reason.TOO_LARGE],
    ['a text of 16385 UTF-8 bytes in fewer characters', withPayload(`${'é'.repeat(8192)}x`), Reason.TOO_LARGE],
    ['a 1 MB text', withPayload('x'.repeat(1_000_000)), Reason.TOO_LARGE],
    ['an array of 4097 entries', withPayload(new Array(4097).fill(0)), Reason.TOO_LARGE],
    ['a million-entry array', withPayload(new Array(1_000_000).fill(0)), Reason.TOO_LARGE],
    ['a map of 4097 entries', withPayload(Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`k${i}`, 0]))), Reason.TOO_LARGE],
    ['many small arrays adding up past the limit', withPayload(new Array(4000).fill(new Array(20).fill(1))), Reason.TOO_LARGE],
    ['a payload 17 deep', withPayload(nested(17)), Reason.TOO_DEEP],
    ['a payload 100000 deep (no stack overflow)', withPayload(nested(100_000)), Reason.TOO_DEEP],
    ['a float', withPayload(0.5), Reason.MALFORMED],
    ['NaN', withPayload(Number.NaN), Reason.MALFORMED],
    ['Infinity', withPayload(Number.POSITIVE_INFINITY), Reason.MALFORMED],
    ['1e308', withPayload(1e308), Reason.MALFORMED],
    ['2^53', withPayload(2 ** 53), Reason.MALFORMED],
    ['-(2^53)', withPayload(-(2 ** 53)), Reason.MALFORMED],
    ['a bigint', withPayload(1n), Reason.MALFORMED],
    ['undefined in an array', withPayload([undefined]), Reason.MALFORMED],
    ['a function', withPayload(() => 0), Reason.MALFORMED],
    ['a symbol', withPayload(Symbol('s')), Reason.MALFORMED],
    ['a Date', withPayload(new Date(0)), Reason.MALFORMED],
    ['a Map', withPayload(new Map([['a', 1]])), Reason.MALFORMED],
    ['a Uint8Array as nonce', withField('nonce', new Uint8Array(16)), Reason.MALFORMED],
    ['a lone surrogate', withPayload('\ud83d'), Reason.MALFORMED],
    ['uppercase hex', withField('nonce', 'AA'.repeat(16)), Reason.MALFORMED],
    ['a 65-byte signature', withField('signatures', [{ signer: base().author, sig: '00'.repeat(65) }]), Reason.TOO_LARGE],
    ['a 10 MB nonce string', withField('nonce', '0'.repeat(10_000_000)), Reason.TOO_LARGE],
    ['a number as the event', 42, Reason.MALFORMED],
    ['null as the event', null, Reason.MALFORMED],
    ['an array as the event', [base()], Reason.MALFORMED],
    ['a string as the event', JSON.stringify(base()), Reason.MALFORMED],
    ['undefined as the event', undefined, Reason.MALFORMED],
    ['v as a string', withField('v', '1'), Reason.BAD_FIELD],
    ['v = 2', withField('v', 2), Reason.UNSUPPORTED_VERSION],
    ['kind as a number', withField('kind', 1), Reason.BAD_FIELD],
    ['kind as an array', withField('kind', ['note']), Reason.BAD_FIELD],
    ['author as an object', withField('author', {}), Reason.BAD_FIELD],
    ['author as a bad did', withField('author', 'did:key:z'), Reason.BAD_DID],
    ['created_at as a string', withField('created_at', '1767225540'), Reason.BAD_FIELD],
    ['created_at negative', withField('created_at', -5), Reason.BAD_FIELD],
    ['expires_at as null', withField('expires_at', null), Reason.BAD_FIELD],
    ['nonce as a number', withField('nonce', 7), Reason.BAD_FIELD],
    ['nonce too short', withField('nonce', '00'), Reason.BAD_FIELD],
    ['signatures as an object', withField('signatures', {}), Reason.BAD_FIELD],
    ['signatures entry as a string', withField('signatures', ['x']), Reason.BAD_FIELD],
    ['signatures entry with sig as a number', withField('signatures', [{ signer: base().author, sig: 1 }]), Reason.BAD_FIELD],
    ['threshold as a float', { ...base(), threshold: 1.5, signers: [] }, Reason.MALFORMED],
    ['an extra field', withField('extra', true), Reason.BAD_FIELD],
    ['an id field', withField('id', '00'.repeat(32)), Reason.BAD_FIELD],
  ])('%s', (_, input, reason) => {
    expect(reasonOf(parseEventJson(input))).toBe(reason);
  });

  it.each(['v', 'kind', 'author', 'created_at', 'expires_at', 'nonce', 'payload', 'signatures'])(
    'a missing %s',
    (field) => {
      const input: Record<string, unknown> = { ...base() };
      delete input[field];
      expect(reasonOf(parseEventJson(input))).toBe(Reason.BAD_FIELD);
    },
  );

  it('a cyclic value, without recursing forever', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(reasonOf(parseEventJson(withPayload(cyclic)))).toBe(Reason.TOO_DEEP);
  });

  it('an object with a prototype other than Object.prototype', () => {
    class Note {
      text = 'hi';
    }
    expect(reasonOf(parseEventJson(withPayload(new Note())))).toBe(Reason.MALFORMED);
    expect(reasonOf(parseEventJson(Object.assign(Object.create({ inherited: 1 }) as object, base())))).toBe(
      Reason.MALFORMED,
    );
  });

  it('accepts a null-prototype object and a "__proto__" member', () => {
    const payload = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const event = Object.assign(Object.create(null) as object, { ...base(), payload });
    const parsed = parseEventJson(event);
    expect(reasonOf(parsed)).toBe('ok');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('parseEventJsonText', () => {
  it('rejects non-JSON, oversized text and duplicate member names', () => {
    expect(reasonOf(parseEventJsonText('{'))).toBe(Reason.MALFORMED);
    expect(reasonOf(parseEventJsonText(''))).toBe(Reason.MALFORMED);
    expect(reasonOf(parseEventJsonText('\ufeff{}'))).toBe(Reason.MALFORMED);
    expect(reasonOf(parseEventJsonText(' '.repeat(MAX_EVENT_JSON_CHARS + 1)))).toBe(Reason.TOO_LARGE);
    expect(reasonOf(parseEventJsonText(42 as unknown as string))).toBe(Reason.MALFORMED);
    const text = JSON.stringify(base());
    expect(reasonOf(parseEventJsonText(text))).toBe('ok');
    expect(reasonOf(parseEventJsonText(text.replace('{', '{"v":1,')))).toBe(Reason.MALFORMED);
  });

  it('finds duplicate names only within one object, after unescaping', () => {
    expect(duplicateJsonKey('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}')).toBeNull();
    expect(duplicateJsonKey('{"a":1,"b":2,"a":3}')).toBe('a');
    expect(duplicateJsonKey('{"a":"\\"a\\"","\\u0061":1}')).toBe('a');
    expect(duplicateJsonKey('[{"x":{"y":1,"y":2}}]')).toBe('y');
    expect(duplicateJsonKey('{"a\\\\":1,"a":2}')).toBeNull();
  });

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        parseEventJsonText(s);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (s) => {
        parseEventJsonText(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('decodeEvent', () => {
  const cborOf = (value: CborValue): Uint8Array => encodeCbor(value);
  const asMap = (over: CborMap): CborMap => {
    const e = validEvent().event;
    return {
      v: 1,
      kind: e.kind,
      author: e.author,
      created_at: e.createdAt,
      expires_at: e.expiresAt,
      nonce: e.nonce,
      payload: e.payload,
      signatures: e.signatures.map((s) => ({ signer: s.signer, sig: s.sig })),
      ...over,
    };
  };

  it('rejects invalid UTF-8 in the payload text', () => {
    const good = cborOf(asMap({ payload: 'MARKER' }));
    const at = Buffer.from(good).indexOf(Buffer.from('MARKER'));
    const bad = good.slice();
    bad[at] = 0xff;
    expect(reasonOf(decodeEvent(bad))).toBe(Reason.MALFORMED);
  });

  it('rejects a byte string inside the payload', () => {
    expect(reasonOf(decodeEvent(cborOf(asMap({ payload: [new Uint8Array(1)] }))))).toBe(Reason.BAD_FIELD);
  });

  it('rejects input over 64 KiB before decoding it', () => {
    expect(reasonOf(decodeEvent(new Uint8Array(LIMITS.maxEventBytes + 1)))).toBe(Reason.TOO_LARGE);
  });

  it('rejects values that are not byte arrays', () => {
    expect(reasonOf(decodeEvent('a8' as unknown as Uint8Array))).toBe(Reason.MALFORMED);
    expect(reasonOf(decodeEvent(fromHex('') as Uint8Array))).toBe(Reason.MALFORMED);
  });

  it('never throws on random bytes or on random maps', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = decodeEvent(b);
        if (!r.ok) expect(REASON_CODES).toContain(r.reason);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('any JSON value', () => {
  const known = (r: Result<unknown>): void => {
    if (!r.ok) expect(REASON_CODES).toContain(r.reason);
  };

  it('parseEventJson never throws on anything fast-check can make', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => known(parseEventJson(v))), { numRuns: 500 });
    fc.assert(fc.property(fc.anything(), (v) => known(parseEventJson(v))), { numRuns: 500 });
  });

  it('never throws when one field of a valid event is replaced by any value', () => {
    const fields = ['v', 'kind', 'author', 'created_at', 'expires_at', 'nonce', 'payload', 'threshold', 'signers', 'signatures', 'other'];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.anything({ withNullPrototype: true }), (field, v) => {
        known(parseEventJson(withField(field, v)));
      }),
      { numRuns: 1000 },
    );
  });
});
