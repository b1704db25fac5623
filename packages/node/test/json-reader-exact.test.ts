/**
 * The JSON reader (spec/PROTOCOL.md §3.4) reads exact values: numbers by their exact decimal
 * value (checked against a BigInt oracle), strings by strict UTF-8 (checked against the WHATWG
 * fatal decoder), and any spelling of a valid event (whitespace, member order, escapes, number
 * notations) to the same canonical CBOR as the event itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  MAX_EVENT_JSON_BYTES,
  Reason,
  eventToJson,
  readEventJson,
  readJsonPayload,
  toHex,
  type Payload,
} from '../src/protocol/index.js';
import { validEvent } from './protocol-fixtures.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
/** No unpaired surrogate (String.prototype.isWellFormed is newer than this project's lib). */
const wellFormedText = (s: string): boolean => !/\p{Surrogate}/u.test(s);
const MAX = 2n ** 53n - 1n;

/** The oracle: the exact value of a JSON number, as an integer in range, or null. */
function exactInteger(text: string): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) throw new Error(`not a number: ${text}`);
  const [, sign, int, frac = '', exp = '0'] = m as unknown as [string, string, string, string?, string?];
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

const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** JSON numbers in every notation and range, biased to the edges of the integers. */
const jsonNumber: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(
    fc.constantFrom('', '-'),
    fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digits(0, 20)).map(([a, b]) => a + b)),
    fc.option(digits(1, 20), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 400 })), { nil: undefined }),
  ).map(([s, i, f, e]) => `${s}${i}${f === undefined ? '' : `.${f}`}${e === undefined ? '' : `${e[0]}${e[1]}${e[2]}`}`),
  fc.constantFrom(
    '9007199254740991', '9007199254740992', '-9007199254740991', '-9007199254740992', '9007199254740991.0',
    '9007199254740991.5', '900719925474099.1e1', '90071992547409910e-1', '9.007199254740991e15', '9.007199254740992e15',
    '1.0000000000000001', '1e-400', '1e400', '1e309', '0e999999999', '-0', '-0.0e-5', '1e999999999', '10e-1', '0.1e1',
  ),
);

describe('numbers', () => {
  it('are read by their exact decimal value: an integer within ±(2^53-1), or ERR_MALFORMED', () => {
    fc.assert(
      fc.property(jsonNumber, (text) => {
        const expected = exactInteger(text);
        const got = readJsonPayload(utf8(text));
        if (expected === null) expect({ text, got: got.ok ? got.value : got.reason }).toEqual({ text, got: Reason.MALFORMED });
        else {
          expect(got.ok, text).toBe(true);
          if (got.ok) expect(Object.is(got.value, 0) || got.value === Number(expected), text).toBe(true);
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
  const wellFormed = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => [...utf8(s)].filter((b) => b >= 0x20 && b !== 0x22 && b !== 0x5c));

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
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (a, b) => {
        const esc = (u: number): string => `\\u${u.toString(16).padStart(4, '0')}`;
        const text = `"${esc(a)}${esc(b)}"`;
        const value = String.fromCharCode(a, b);
        const got = readJsonPayload(utf8(text));
        if (wellFormedText(value)) expect(got).toEqual({ ok: true, value });
        else expect(got).toMatchObject({ ok: false, reason: Reason.MALFORMED });
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Any spelling of a valid event reads to the event's canonical CBOR

/** A small seeded PRNG, so that a failing spelling replays from fast-check's seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON text of a value, spelled at random: whitespace, member order, escapes, number notation. */
function spell(value: unknown, rnd: () => number): string {
  const ws = (): string => [' ', '\n', '\t', '\r', '', '', ''][Math.floor(rnd() * 7)] as string;
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    const forms = [String(value), `${value}.0`, `${value}e0`, `${value}E+0`, `${value}0e-1`, `${value}.000e0`];
    if (value === 0) forms.push('-0', '0e999', '-0.0');
    return forms[Math.floor(rnd() * forms.length)] as string;
  }
  if (typeof value === 'string') {
    let out = '"';
    for (const ch of value) {
      const code = ch.codePointAt(0) as number;
      const must = code < 0x20 || ch === '"' || ch === '\\';
      if (must || rnd() < 0.2) {
        for (const unit of ch.length === 2 ? [ch.charCodeAt(0), ch.charCodeAt(1)] : [code]) {
          const hex = unit.toString(16).padStart(4, '0');
          out += `\\u${rnd() < 0.5 ? hex : hex.toUpperCase()}`;
        }
      } else out += ch;
    }
    return `${out}"`;
  }
  if (Array.isArray(value)) return `[${ws()}${value.map((v) => `${ws()}${spell(v, rnd)}${ws()}`).join(',')}]`;
  const keys = Object.keys(value as object).sort(() => rnd() - 0.5);
  const members = keys.map((k) => `${ws()}${spell(k, rnd)}${ws()}:${ws()}${spell((value as Record<string, unknown>)[k], rnd)}${ws()}`);
  return `{${ws()}${members.join(',')}${ws()}}`;
}

const payload: fc.Arbitrary<Payload> = fc.letrec<{ value: Payload }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.string({ unit: 'binary', maxLength: 12 }).filter(wellFormedText),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }).filter(wellFormedText), tie('value'), { maxKeys: 4 }),
  ),
})).value;

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
    expect(readEventJson(padded(MAX_EVENT_JSON_BYTES + 1))).toMatchObject({ ok: false, reason: Reason.TOO_LARGE });
  });
});
