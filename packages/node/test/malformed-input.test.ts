/**
 * Hostile JSON and CBOR: every malformed event is a typed rejection with the expected reason,
 * never a throw, and the work done is bounded by the event limits. The JSON cases are texts (or
 * raw bytes), read by the one strict reader of spec/PROTOCOL.md §3.4.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type CborMap,
  type CborValue,
  decodeEvent,
  type EventJson,
  encodeCbor,
  eventToJson,
  fromHex,
  LIMITS,
  MAX_EVENT_JSON_BYTES,
  REASON_CODES,
  Reason,
  type Result,
  readEventJson,
} from '../src/protocol/index.js';
import { validEvent } from './protocol-fixtures.js';

const BASE: EventJson = eventToJson(validEvent().event);
const reasonOf = (r: Result<unknown>): string => (r.ok ? 'ok' : r.reason);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
/** The reader's verdict on a JSON text (a string, UTF-8 encoded, or raw bytes). */
const read = (text: string | Uint8Array): string =>
  reasonOf(readEventJson(typeof text === 'string' ? utf8(text) : text));
/** The JSON text of the base event with one member's value written as `raw` JSON text. */
const withRaw = (key: string, raw: string): string => {
  const text = JSON.stringify({ ...BASE, [key]: '@RAW@' });
  return text.replace('"@RAW@"', () => raw);
};
const withPayload = (raw: string): string => withRaw('payload', raw);
const json = (value: unknown): string => JSON.stringify(value);

function nested(depth: number, leaf = '0'): string {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? `[${v}]` : `{"k":${v}}`;
  return v;
}

describe('readEventJson rejects', () => {
  it.each<[string, string, string]>([
    [
      'a payload over 64 KiB',
      withPayload(json(new Array(5).fill('x'.repeat(16_000)))),
      Reason.TOO_LARGE,
    ],
    ['a text of 16385 bytes', withPayload(json('x'.repeat(16_385))), Reason.TOO_LARGE],
    [
      'a text of 16385 UTF-8 bytes in fewer characters',
      withPayload(json(`${'é'.repeat(8192)}x`)),
      Reason.TOO_LARGE,
    ],
    [
      'a text of 16385 bytes written with escapes',
      withPayload(`"${'\\u0041'.repeat(16_385)}"`),
      Reason.TOO_LARGE,
    ],
    [
      'a JSON text over the limit (whitespace)',
      `${' '.repeat(MAX_EVENT_JSON_BYTES)}${json(BASE)}`,
      Reason.TOO_LARGE,
    ],
    ['an array of 4097 entries', withPayload(json(new Array(4097).fill(0))), Reason.TOO_LARGE],
    [
      'a map of 4097 entries',
      withPayload(json(Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`k${i}`, 0])))),
      Reason.TOO_LARGE,
    ],
    [
      'many small arrays adding up past the limit',
      withPayload(json(new Array(4000).fill(new Array(20).fill(1)))),
      Reason.TOO_LARGE,
    ],
    ['a payload 17 deep', withPayload(nested(17)), Reason.TOO_DEEP],
    ['a payload 100000 deep (no stack overflow)', withPayload(nested(100_000)), Reason.TOO_DEEP],
    ['a payload 100000 deep and never closed', withPayload('['.repeat(100_000)), Reason.TOO_DEEP],
    ['a float', withPayload('0.5'), Reason.MALFORMED],
    ['NaN', withPayload('NaN'), Reason.MALFORMED],
    ['Infinity', withPayload('Infinity'), Reason.MALFORMED],
    ['1e308', withPayload('1e308'), Reason.MALFORMED],
    ['1e400 (JSON.parse: Infinity)', withPayload('1e400'), Reason.MALFORMED],
    ['-1e400', withPayload('-1e400'), Reason.MALFORMED],
    ['1e-400 (JSON.parse: 0)', withPayload('1e-400'), Reason.MALFORMED],
    ['1.0000000000000001 (JSON.parse: 1)', withPayload('1.0000000000000001'), Reason.MALFORMED],
    ['9007199254740991.5', withPayload('9007199254740991.5'), Reason.MALFORMED],
    ['2^53', withPayload('9007199254740992'), Reason.MALFORMED],
    ['2^53 + 1 (JSON.parse: 2^53)', withPayload('9007199254740993'), Reason.MALFORMED],
    ['-(2^53)', withPayload('-9007199254740992'), Reason.MALFORMED],
    ['a 20-digit integer', withPayload('12345678901234567890'), Reason.MALFORMED],
    [
      'an exponent of a billion digits worth',
      withPayload('1e999999999999999999999'),
      Reason.MALFORMED,
    ],
    ['a leading zero', withPayload('01'), Reason.MALFORMED],
    ['a plus sign', withPayload('+1'), Reason.MALFORMED],
    ['a bare decimal point', withPayload('1.'), Reason.MALFORMED],
    ['a fraction without integer part', withPayload('.5'), Reason.MALFORMED],
    ['an empty exponent', withPayload('1e'), Reason.MALFORMED],
    ['a lone minus', withPayload('-'), Reason.MALFORMED],
    ['hex notation', withPayload('0x10'), Reason.MALFORMED],
    ['a trailing comma in an array', withPayload('[1,]'), Reason.MALFORMED],
    ['a trailing comma in an object', withPayload('{"a":1,}'), Reason.MALFORMED],
    ['single quotes', withPayload("'a'"), Reason.MALFORMED],
    ['an unquoted member name', withPayload('{a:1}'), Reason.MALFORMED],
    ['a comment', withPayload('/**/1'), Reason.MALFORMED],
    ['True', withPayload('True'), Reason.MALFORMED],
    ['undefined', withPayload('undefined'), Reason.MALFORMED],
    ['a lone high surrogate', withPayload('"\\ud83d"'), Reason.MALFORMED],
    ['a lone low surrogate', withPayload('"\\udc00"'), Reason.MALFORMED],
    ['a high surrogate before a non-surrogate', withPayload('"\\ud83d\\u0041"'), Reason.MALFORMED],
    ['a lone surrogate in a member name', withPayload('{"\\udc00":1}'), Reason.MALFORMED],
    ['a raw control character in a string', withPayload('"a\tb"'), Reason.MALFORMED],
    ['an unknown escape', withPayload('"\\x41"'), Reason.MALFORMED],
    ['a short \\u escape', withPayload('"\\u41"'), Reason.MALFORMED],
    ['uppercase hex', withRaw('nonce', json('AA'.repeat(16))), Reason.MALFORMED],
    ['odd hex', withRaw('nonce', json('a'.repeat(33))), Reason.MALFORMED],
    [
      'a 65-byte signature',
      withRaw('signatures', json([{ signer: BASE.author, sig: '00'.repeat(65) }])),
      Reason.TOO_LARGE,
    ],
    ['a 10 MB nonce string', withRaw('nonce', json('0'.repeat(10_000_000))), Reason.TOO_LARGE],
    ['a number as the event', '42', Reason.MALFORMED],
    ['null as the event', 'null', Reason.MALFORMED],
    ['an array as the event', json([BASE]), Reason.MALFORMED],
    ['a string as the event', json(json(BASE)), Reason.MALFORMED],
    ['nothing', '', Reason.MALFORMED],
    ['whitespace', ' \n\t', Reason.MALFORMED],
    ['a byte-order mark before the event', `\ufeff${json(BASE)}`, Reason.MALFORMED],
    ['text after the event', `${json(BASE)} x`, Reason.MALFORMED],
    ['two events', `${json(BASE)}${json(BASE)}`, Reason.MALFORMED],
    ['an unclosed event', json(BASE).slice(0, -1), Reason.MALFORMED],
    ['a repeated member name', json(BASE).replace('{', '{"v":1,'), Reason.MALFORMED],
    ['a repeated member name, escaped', json(BASE).replace('{', '{"\\u0076":1,'), Reason.MALFORMED],
    [
      'a repeated member name in the payload',
      withPayload('{"a":1,"b":{"a":2},"a":3}'),
      Reason.MALFORMED,
    ],
    ['v as a string', withRaw('v', '"1"'), Reason.BAD_FIELD],
    ['v = 2', withRaw('v', '2'), Reason.UNSUPPORTED_VERSION],
    ['v = 1e400', withRaw('v', '1e400'), Reason.MALFORMED],
    ['created_at = 1e400', withRaw('created_at', '1e400'), Reason.MALFORMED],
    ['kind as a number', withRaw('kind', '1'), Reason.BAD_FIELD],
    ['kind as an array', withRaw('kind', '["note"]'), Reason.BAD_FIELD],
    ['author as an object', withRaw('author', '{}'), Reason.BAD_FIELD],
    ['author as a bad did', withRaw('author', '"did:key:z"'), Reason.BAD_DID],
    ['created_at as a string', withRaw('created_at', '"1767225540"'), Reason.BAD_FIELD],
    ['created_at negative', withRaw('created_at', '-5'), Reason.BAD_FIELD],
    ['expires_at as null', withRaw('expires_at', 'null'), Reason.BAD_FIELD],
    ['nonce as a number', withRaw('nonce', '7'), Reason.BAD_FIELD],
    ['nonce too short', withRaw('nonce', '"00"'), Reason.BAD_FIELD],
    ['signatures as an object', withRaw('signatures', '{}'), Reason.BAD_FIELD],
    [
      'signatures as an object with a bad "sig"',
      withRaw('signatures', '{"sig":"ZZ"}'),
      Reason.BAD_FIELD,
    ],
    ['signatures entry as a string', withRaw('signatures', '["x"]'), Reason.BAD_FIELD],
    [
      'signatures entry with sig as a number',
      withRaw('signatures', json([{ signer: BASE.author, sig: 1 }])),
      Reason.BAD_FIELD,
    ],
    ['an extra field', withRaw('extra', 'true'), Reason.BAD_FIELD],
    ['an id field', withRaw('id', json('00'.repeat(32))), Reason.BAD_FIELD],
  ])('%s', (_, text, reason) => {
    expect(read(text)).toBe(reason);
  });

  it.each<[string, number[]]>([
    ['0xff', [0xff]],
    ['an overlong form (C0 AF)', [0xc0, 0xaf]],
    ['an overlong three-byte form (E0 80 AF)', [0xe0, 0x80, 0xaf]],
    ['a surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence (E2 82)', [0xe2, 0x82]],
    ['a lone continuation byte', [0x80]],
  ])('invalid UTF-8 in a string: %s', (_, bad) => {
    const [before, after] = withPayload('"MARK"').split('MARK') as [string, string];
    expect(read(Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]))).toBe(
      Reason.MALFORMED,
    );
    // and outside a string
    expect(
      read(
        Buffer.concat([
          Buffer.from(withPayload('1').slice(0, -1)),
          Buffer.from(bad),
          Buffer.from('}'),
        ]),
      ),
    ).toBe(Reason.MALFORMED);
  });

  it.each(['v', 'kind', 'author', 'created_at', 'expires_at', 'nonce', 'payload', 'signatures'])(
    'a missing %s',
    (field) => {
      const input: Record<string, unknown> = { ...BASE };
      delete input[field];
      expect(read(json(input))).toBe(Reason.BAD_FIELD);
    },
  );
});

describe('readEventJson accepts', () => {
  it.each<[string, string]>([
    ['the event as JSON.stringify writes it', json(BASE)],
    [
      'whitespace around and inside',
      ` \n\t${JSON.stringify(BASE, null, 2).replace(/\n/g, '\r\n')}\r\n `,
    ],
    [
      'numbers in other notations',
      withPayload(
        '[1.0,1e0,10e-1,0.1e1,-0,-0.0,0e999999999,100E-2,9007199254740991,-9007199254740991,900719925474099.1e1]',
      ),
    ],
    [
      'escapes, a surrogate pair and U+0000',
      withPayload('"\\u0041\\n\\/\\ud83d\\ude00\\u0000é😀"'),
    ],
    [
      'hex written with escapes (its value is lowercase hex)',
      withRaw(
        'nonce',
        `"${[...BASE.nonce].map((c) => `\\u00${c.charCodeAt(0).toString(16)}`).join('')}"`,
      ),
    ],
    [
      'the same name in different objects',
      withPayload('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}'),
    ],
    ['names that differ only after unescaping a backslash', withPayload('{"a\\\\":1,"a":2}')],
    ['a payload 16 deep', withPayload(nested(16))],
  ])('%s', (_, text) => {
    expect(read(text)).not.toMatch(/^ERR_(MALFORMED|TOO_LARGE|TOO_DEEP)$/);
  });

  it('a "__proto__" member as an ordinary key, polluting nothing', () => {
    const parsed = readEventJson(utf8(withPayload('{"__proto__": {"polluted": true}}')));
    expect(reasonOf(parsed)).toBe('ok');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    if (parsed.ok) expect(Object.keys(parsed.value.event.payload as object)).toEqual(['__proto__']);
  });

  it('reads a span of a larger buffer and nothing outside it', () => {
    const text = json(BASE);
    const buffer = utf8(`garbage[${text}]garbage`);
    expect(reasonOf(readEventJson(buffer, 8, 8 + text.length))).toBe('ok');
    expect(() => readEventJson(buffer, 8, buffer.length + 1)).toThrow(RangeError);
  });
});

describe('readEventJson on anything', () => {
  const known = (r: Result<unknown>): void => {
    if (!r.ok) expect(REASON_CODES).toContain(r.reason);
  };

  it('never throws on random bytes, strings or JSON texts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => known(readEventJson(b))),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) =>
        known(readEventJson(utf8(s))),
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (s) => known(readEventJson(utf8(s)))),
      { numRuns: 500 },
    );
  });

  it('never throws when one field of a valid event is replaced by any JSON value', () => {
    const fields = [
      'v',
      'kind',
      'author',
      'created_at',
      'expires_at',
      'nonce',
      'payload',
      'threshold',
      'signers',
      'signatures',
      'other',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.json({ maxDepth: 3 }), (field, v) => {
        known(readEventJson(utf8(withRaw(field, v))));
      }),
      { numRuns: 1000 },
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
    expect(reasonOf(decodeEvent(cborOf(asMap({ payload: [new Uint8Array(1)] }))))).toBe(
      Reason.BAD_FIELD,
    );
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
