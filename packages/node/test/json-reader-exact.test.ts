/**
 * The JSON reader (spec/PROTOCOL.md §3.4) reads exact values: numbers by their exact decimal
 * value (checked against a BigInt oracle), strings by strict UTF-8 (checked against the WHATWG
 * fatal decoder), and any spelling of a valid event (whitespace, member order, escapes, number
 * notations) to the same canonical CBOR as the event itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  eventToJson,
  MAX_EVENT_JSON_BYTES,
  Reason,
  readEventJson,
  readJsonPayload,
  toHex,
} from '../src/protocol/index.js';
import { jsonNumber, payload, prng, spell } from './json-fixtures.js';
import { validEvent } from './protocol-fixtures.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const MAX = 2n ** 53n - 1n;

/** The oracle: the exact value of a JSON number, as an integer in range, or null. */
function exactInteger(text: string): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) throw new Error(`not a number: ${text}`);
  const [, sign, int, frac = '', exp = '0'] = m as unknown as [
    string,
    string,
    string,
    string?,
    string?,
  ];
  const mantissa = BigInt(int + frac);
  const scale = Number(exp) - frac.length;
  let value: bigint;
  if (mantissa === 0n) value = 0n;
  else if (scale >= 0) {
    if (scale > 40) return null;
    value = mantissa * 10n ** BigInt(scale);
  } else {
    const divisor = 10n ** BigInt(-scale);
    if (mantissa % divisor !== 0n) return null;
    value = mantissa / divisor;
  }
  if (value > MAX) return null;
  return sign === '-' ? -value : value;
}

describe('numbers', () => {
  it('are read by their exact decimal value: an integer within ±(2^53-1), or ERR_MALFORMED', () => {
    fc.assert(
      fc.property(jsonNumber, (text) => {
        const expected = exactInteger(text);
        const got = readJsonPayload(utf8(text));
        if (expected === null)
          expect({ text, got: got.ok ? got.value : got.reason }).toEqual({
            text,
            got: Reason.MALFORMED,
          });
        else {
          expect(got.ok, text).toBe(true);
          if (got.ok)
            expect(Object.is(got.value, 0) || got.value === Number(expected), text).toBe(true);
          if (got.ok) expect(BigInt(got.value as number), text).toBe(expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never spend work on a huge exponent', () => {
    const text = `1e${'9'.repeat(100_000)}`;
    expect(readJsonPayload(utf8(text))).toMatchObject({ ok: false, reason: Reason.MALFORMED });
    expect(readJsonPayload(utf8(`0e${'9'.repeat(100_000)}`))).toEqual({ ok: true, value: 0 });
  });
});

describe('strings', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // bytes that are neither a quote, a backslash nor a control character: only UTF-8 decides
  const textByte = fc.integer({ min: 0x20, max: 0xff }).filter((b) => b !== 0x22 && b !== 0x5c);
  const wellFormed = fc
    .string({ unit: 'grapheme', maxLength: 30 })
    .map((s) => [...utf8(s)].filter((b) => b >= 0x20 && b !== 0x22 && b !== 0x5c));

  it('are strict UTF-8 (RFC 3629): accepted exactly when a fatal decoder accepts, with the same value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(textByte, { maxLength: 12 }), wellFormed), (content) => {
        const bytes = Uint8Array.from([0x22, ...content, 0x22]);
        let expected: string | null;
        try {
          expected = fatal.decode(Uint8Array.from(content));
        } catch {
          expected = null;
        }
        const got = readJsonPayload(bytes);
        if (expected === null) expect(got).toMatchObject({ ok: false, reason: Reason.MALFORMED });
        else expect(got).toEqual({ ok: true, value: expected });
      }),
      { numRuns: 3000 },
    );
  });

  it('decode every escape, and refuse unpaired surrogates', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        (a, b) => {
          const esc = (u: number): string => `\\u${u.toString(16).padStart(4, '0')}`;
          const text = `"${esc(a)}${esc(b)}"`;
          const value = String.fromCharCode(a, b);
          const got = readJsonPayload(utf8(text));
          if (!/\p{Surrogate}/u.test(value)) expect(got).toEqual({ ok: true, value });
          else expect(got).toMatchObject({ ok: false, reason: Reason.MALFORMED });
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('a span of a larger buffer', () => {
  it('is read alone: the verdict and its detail never depend on the bytes after it', () => {
    const base = JSON.stringify(eventToJson(validEvent().event));
    const texts = fc.oneof(
      fc.constantFrom(
        '"\\ud800',
        '1e',
        '1e+',
        '[1.',
        '{"a":"\\',
        '\u00ef\u00bb',
        '{"payload":"\\ud83d',
        'tru',
        '-',
      ),
      fc.nat(base.length).map((n) => base.slice(0, n)),
    );
    const suffixes = fc.constantFrom(
      '',
      '\\udc00"}',
      '+5',
      '\u00bf{}',
      '0]',
      'e',
      '"',
      '\\u0041',
      ',{}',
    );
    fc.assert(
      fc.property(texts, suffixes, (text, suffix) => {
        const alone = Buffer.from(text, 'latin1');
        const inBuffer = Buffer.concat([Buffer.from('[['), alone, Buffer.from(suffix, 'latin1')]);
        expect(readEventJson(inBuffer, 2, 2 + alone.length)).toEqual(readEventJson(alone));
      }),
      { numRuns: 500 },
    );
  });
});

describe('any spelling of a valid event', () => {
  it('reads to the same canonical CBOR as the event', () => {
    fc.assert(
      fc.property(payload, fc.integer(), (p, seed) => {
        const event = validEvent({ payload: p });
        const text = spell(eventToJson(event.event), prng(seed));
        const got = readEventJson(utf8(text));
        expect(got.ok, text).toBe(true);
        if (got.ok) expect(toHex(got.value.encoded)).toBe(toHex(event.encoded));
      }),
      { numRuns: 400 },
    );
  });

  it('is read within the JSON text limit, however much insignificant whitespace it carries', () => {
    const text = JSON.stringify(eventToJson(validEvent().event));
    const padded = (n: number): Uint8Array => utf8(`${text}${' '.repeat(n - text.length)}`);
    expect(readEventJson(padded(MAX_EVENT_JSON_BYTES)).ok).toBe(true);
    expect(readEventJson(padded(MAX_EVENT_JSON_BYTES + 1))).toMatchObject({
      ok: false,
      reason: Reason.TOO_LARGE,
    });
  });
});
