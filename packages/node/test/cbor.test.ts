/**
 * The CBOR profile: RFC 8949 examples within the profile, strict rejections, limits, and
 * properties: decode(encode(x)) = x, every accepted input is canonical, and no input makes
 * the decoder throw anything but CborError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  CborError,
  type CborLimits,
  type CborValue,
  decodeCbor,
  EVENT_CBOR_LIMITS,
  encodeCbor,
  fromHex,
  MAX_SAFE,
  Reason,
  toHex,
  tryDecodeCbor,
} from '../src/protocol/index.js';

const hex = (h: string): Uint8Array =>
  fromHex(h.replace(/\s/g, '')) ?? new Uint8Array([0xff, 0xff]);

/** RFC 8949 Appendix A, the examples that lie inside the profile. */
const RFC_EXAMPLES: Array<[CborValue, string]> = [
  [0, '00'],
  [1, '01'],
  [10, '0a'],
  [23, '17'],
  [24, '1818'],
  [25, '1819'],
  [100, '1864'],
  [1000, '1903e8'],
  [1000000, '1a000f4240'],
  [1000000000000, '1b000000e8d4a51000'],
  [-1, '20'],
  [-10, '29'],
  [-100, '3863'],
  [-1000, '3903e7'],
  [false, 'f4'],
  [true, 'f5'],
  [null, 'f6'],
  [new Uint8Array(), '40'],
  [hex('01020304'), '4401020304'],
  ['', '60'],
  ['a', '6161'],
  ['IETF', '6449455446'],
  ['"\\', '62225c'],
  ['\u00fc', '62c3bc'],
  ['\u6c34', '63e6b0b4'],
  ['\u{10151}', '64f0908591'],
  [[], '80'],
  [[1, 2, 3], '83010203'],
  [[1, [2, 3], [4, 5]], '8301820203820405'],
  [
    Array.from({ length: 25 }, (_, i) => i + 1),
    '98190102030405060708090a0b0c0d0e0f101112131415161718181819',
  ],
  [{}, 'a0'],
  [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
  [['a', { b: 'c' }], '826161a161626163'],
  [{ a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }, 'a56161614161626142616361436164614461656145'],
  // the ends of the integer range of the profile
  [MAX_SAFE, '1b001fffffffffffff'],
  [-MAX_SAFE, '3b001ffffffffffffe'],
  [4294967295, '1affffffff'],
  [4294967296, '1b0000000100000000'],
];

describe('encoding', () => {
  it.each(RFC_EXAMPLES.map(([v, h]) => [h, v] as const))('%s', (h, value) => {
    expect(toHex(encodeCbor(value))).toBe(h);
    expect(decodeCbor(hex(h), EVENT_CBOR_LIMITS)).toEqual(value);
  });

  it('remembers key orders per shape without mixing up shapes, and a failed encoding leaves no trace', () => {
    // the same keys in another insertion order share the canonical order
    expect(toHex(encodeCbor({ b: 1, a: 2 }))).toBe(toHex(encodeCbor({ a: 2, b: 1 })));
    // a single key made of the same characters as a cached two-key list is not that list
    expect(toHex(encodeCbor({ a: 1, b: 2 }))).toBe('a2616101616202');
    expect(() => encodeCbor({ 'a\ud800b': 1 })).toThrow(CborError);
    expect(() => encodeCbor([1, 2, 0.5])).toThrow(CborError);
    expect(toHex(encodeCbor([1, 2]))).toBe('820102');
  });

  it('sorts map keys by their encoded bytes (shorter keys first), whatever the insertion order', () => {
    expect(toHex(encodeCbor({ aa: 1, b: 2, '': 3 }))).toBe('a3600361620262616101');
    expect(encodeCbor({ z: 1, a: 2 })).toEqual(encodeCbor({ a: 2, z: 1 }));
  });

  it('keeps a byte order mark inside text (TextDecoder would strip it by default)', () => {
    expect(decodeCbor(hex('63efbbbf'), EVENT_CBOR_LIMITS)).toBe('\ufeff');
    expect(toHex(encodeCbor('\ufeff'))).toBe('63efbbbf');
  });

  it('treats __proto__ as an ordinary map key', () => {
    const decoded = decodeCbor(hex('a1695f5f70726f746f5f5f01'), EVENT_CBOR_LIMITS) as Record<
      string,
      CborValue
    >;
    expect(Object.keys(decoded)).toEqual(['__proto__']);
    // biome-ignore lint/suspicious/noProto: the key under test, read as data, not the prototype
    expect(decoded['__proto__']).toBe(1);
    expect(toHex(encodeCbor(decoded))).toBe('a1695f5f70726f746f5f5f01');
  });

  it.each([
    ['a float', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2^53', 2 ** 53],
    ['-(2^53)', -(2 ** 53)],
    ['a lone surrogate', '\ud800'],
    ['a lone surrogate key', { '\udc00': 1 }],
    ['undefined', undefined],
    ['a bigint', 1n],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a function', () => 1],
  ])('refuses %s with CborError', (_, value) => {
    expect(() => encodeCbor(value as CborValue)).toThrow(CborError);
  });

  it('refuses a cycle with CborError instead of overflowing the stack', () => {
    const cyclic: CborValue[] = [];
    cyclic.push(cyclic);
    expect(() => encodeCbor(cyclic)).toThrow(CborError);
  });
});

describe('strict decoding', () => {
  const cases: Array<[string, string, string]> = [
    ['empty input', '', Reason.MALFORMED],
    ['non-shortest integer', '1817', Reason.MALFORMED],
    ['non-shortest 2-byte integer', '190017', Reason.MALFORMED],
    ['non-shortest 4-byte integer', '1a0000ffff', Reason.MALFORMED],
    ['non-shortest 8-byte integer', '1b00000000ffffffff', Reason.MALFORMED],
    ['non-shortest negative', '3817', Reason.MALFORMED],
    ['non-shortest text length', '780161', Reason.MALFORMED],
    ['non-shortest array length', '980101', Reason.MALFORMED],
    ['non-shortest map length', 'b80100', Reason.MALFORMED],
    ['indefinite bytes', '5f4101ff', Reason.MALFORMED],
    ['indefinite text', '7f6161ff', Reason.MALFORMED],
    ['indefinite array', '9fff', Reason.MALFORMED],
    ['indefinite map', 'bfff', Reason.MALFORMED],
    ['break', 'ff', Reason.MALFORMED],
    ['half float', 'f90000', Reason.MALFORMED],
    ['float32', 'fa00000000', Reason.MALFORMED],
    ['float64', 'fb0000000000000000', Reason.MALFORMED],
    ['undefined', 'f7', Reason.MALFORMED],
    ['simple value 0', 'e0', Reason.MALFORMED],
    ['1-byte simple value', 'f8ff', Reason.MALFORMED],
    ['tag 0', 'c074323031332d30332d32315432303a30343a30305a', Reason.MALFORMED],
    ['tag 55799 (self-described CBOR)', 'd9d9f700', Reason.MALFORMED],
    ['reserved additional information 28', '1c', Reason.MALFORMED],
    ['reserved additional information 30 on text', '7e', Reason.MALFORMED],
    ['integer 2^53', '1b0020000000000000', Reason.MALFORMED],
    ['integer -(2^53)', '3b001fffffffffffff', Reason.MALFORMED],
    ['integer 2^64-1', '1bffffffffffffffff', Reason.MALFORMED],
    ['invalid UTF-8', '62c328', Reason.MALFORMED],
    ['overlong UTF-8', '62c0af', Reason.MALFORMED],
    ['UTF-8 surrogate', '63eda080', Reason.MALFORMED],
    ['UTF-8 beyond U+10FFFF', '64f4908080', Reason.MALFORMED],
    ['truncated UTF-8 sequence', '62e6b0', Reason.MALFORMED],
    ['unsorted map keys', 'a2616201616102', Reason.MALFORMED],
    ['duplicate map keys', 'a2616101616102', Reason.MALFORMED],
    ['longer key first', 'a262616101616202', Reason.MALFORMED],
    ['integer map key', 'a10102', Reason.MALFORMED],
    ['byte-string map key', 'a1410102', Reason.MALFORMED],
    ['truncated head', '19ff', Reason.MALFORMED],
    ['truncated text', '6461', Reason.MALFORMED],
    ['truncated array', '8201', Reason.MALFORMED],
    ['truncated map', 'a16161', Reason.MALFORMED],
    ['trailing bytes', '0000', Reason.MALFORMED],
    ['array count beyond input', '990fa0', Reason.MALFORMED],
    ['array count beyond the entry limit', '99ffff', Reason.TOO_LARGE],
  ];

  it.each(cases)('%s (%s) is %s', (_, h, reason) => {
    const result = tryDecodeCbor(hex(h), EVENT_CBOR_LIMITS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(reason);
  });

  it('refuses input that is not a Uint8Array', () => {
    expect(() => decodeCbor('00' as unknown as Uint8Array, EVENT_CBOR_LIMITS)).toThrow(CborError);
  });
});

describe('limits', () => {
  const nest = (n: number): CborValue => {
    let v: CborValue = 0;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const tiny: CborLimits = {
    maxInputBytes: 64,
    maxDepth: 3,
    maxTextBytes: 4,
    maxByteStringBytes: 2,
    maxEntries: 3,
  };
  const code = (v: Uint8Array, limits: CborLimits = tiny): string => {
    const r = tryDecodeCbor(v, limits);
    return r.ok ? 'ok' : r.error.code;
  };

  it('allows exactly the limit and rejects one past it', () => {
    expect(code(encodeCbor(nest(3)))).toBe('ok');
    expect(code(encodeCbor(nest(4)))).toBe(Reason.TOO_DEEP);
    expect(code(encodeCbor('abcd'))).toBe('ok');
    expect(code(encodeCbor('abcde'))).toBe(Reason.TOO_LARGE);
    expect(code(encodeCbor({ abcde: 1 }))).toBe(Reason.TOO_LARGE); // keys are text too
    expect(code(encodeCbor(hex('0102')))).toBe('ok');
    expect(code(encodeCbor(hex('010203')))).toBe(Reason.TOO_LARGE);
    expect(code(encodeCbor([1, 2, 3]))).toBe('ok');
    expect(code(encodeCbor([1, 2, 3, 4]))).toBe(Reason.TOO_LARGE);
    expect(code(encodeCbor({ a: 1, b: 2, c: 3, d: 4 }))).toBe(Reason.TOO_LARGE);
    expect(code(new Uint8Array(65))).toBe(Reason.TOO_LARGE);
  });

  it('has the event limits of the spec by default', () => {
    expect(EVENT_CBOR_LIMITS).toEqual({
      maxInputBytes: 65536,
      maxDepth: 17,
      maxTextBytes: 16384,
      maxByteStringBytes: 64,
      maxEntries: 4096,
    });
    expect(code(encodeCbor(nest(17)), EVENT_CBOR_LIMITS)).toBe('ok');
    expect(code(encodeCbor(nest(18)), EVENT_CBOR_LIMITS)).toBe(Reason.TOO_DEEP);
  });

  it('rejects a huge declared length without allocating it', () => {
    expect(code(hex('9b00000000ffffffff'))).toBe(Reason.MALFORMED); // not shortest
    expect(code(hex('9b0000000100000000'), EVENT_CBOR_LIMITS)).toBe(Reason.TOO_LARGE);
    expect(code(hex('7b0000000100000000'), EVENT_CBOR_LIMITS)).toBe(Reason.TOO_LARGE);
    expect(code(hex('5b7fffffffffffffff'), EVENT_CBOR_LIMITS)).toBe(Reason.TOO_LARGE);
  });
});

// ------------------------------------------------------------------------------------ properties

const text = fc.string({ unit: 'binary', maxLength: 12 });
const { value: cborValue } = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -MAX_SAFE, max: MAX_SAFE }),
    fc.integer({ min: -70000, max: 70000 }),
    text,
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(text, tie('value'), { maxKeys: 5 }),
  ),
}));

/** Throws anything that is not a CborError; returns the value or the error code. */
function decodeOrCode(bytes: Uint8Array): { value: CborValue } | string {
  try {
    return { value: decodeCbor(bytes, EVENT_CBOR_LIMITS) };
  } catch (error) {
    if (error instanceof CborError) return error.code;
    throw error;
  }
}

describe('properties', () => {
  it('decode(encode(x)) equals x, and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        const bytes = encodeCbor(value);
        const decoded = decodeCbor(bytes, EVENT_CBOR_LIMITS);
        expect(decoded).toEqual(value);
        expect(encodeCbor(decoded)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes never throw anything but CborError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeOrCode(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('every accepted input is canonical: mutated encodings decode only to their own bytes', () => {
    const mutated = fc
      .tuple(
        cborValue,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([value, edits]) => {
        const bytes = encodeCbor(value).slice();
        for (const [at, b] of edits) bytes[at % bytes.length] = b;
        return bytes;
      });
    fc.assert(
      fc.property(mutated, (bytes) => {
        const result = decodeOrCode(bytes);
        if (typeof result !== 'string') expect(toHex(encodeCbor(result.value))).toBe(toHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('truncating or extending a valid encoding is rejected', () => {
    fc.assert(
      fc.property(
        cborValue,
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        (value, cut, extra) => {
          const bytes = encodeCbor(value);
          expect(decodeOrCode(bytes.subarray(0, cut % bytes.length))).toBe(Reason.MALFORMED);
          expect(decodeOrCode(new Uint8Array([...bytes, ...extra]))).toBe(Reason.MALFORMED);
        },
      ),
      { numRuns: 300 },
    );
  });
});
