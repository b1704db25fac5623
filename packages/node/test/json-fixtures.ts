/**
 * Generators of JSON texts for the reader's tests: numbers in every notation and range, payload
 * values, and `spell`, which writes a value as JSON in a random but valid way (whitespace,
 * member order, escapes, number notation).
 */
import fc from 'fast-check';

import type { Payload } from '../src/protocol/index.js';

/** No unpaired surrogate (String.prototype.isWellFormed is newer than this project's lib). */
export const wellFormedText = (s: string): boolean => !/\p{Surrogate}/u.test(s);

const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc
    .array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max })
    .map((d) => d.join(''));

/** JSON numbers in every notation and range, biased to the edges of the integers. */
export const jsonNumber: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', '-'),
      fc.oneof(
        fc.constant('0'),
        fc.tuple(fc.constantFrom(...'123456789'), digits(0, 20)).map(([a, b]) => a + b),
      ),
      fc.option(digits(1, 20), { nil: undefined }),
      fc.option(
        fc.tuple(
          fc.constantFrom('e', 'E'),
          fc.constantFrom('', '+', '-'),
          fc.integer({ min: 0, max: 400 }),
        ),
        { nil: undefined },
      ),
    )
    .map(
      ([s, i, f, e]) =>
        `${s}${i}${f === undefined ? '' : `.${f}`}${e === undefined ? '' : `${e[0]}${e[1]}${e[2]}`}`,
    ),
  fc.constantFrom(
    '9007199254740991',
    '9007199254740992',
    '-9007199254740991',
    '-9007199254740992',
    '9007199254740991.0',
    '9007199254740991.5',
    '900719925474099.1e1',
    '90071992547409910e-1',
    '9.007199254740991e15',
    '9.007199254740992e15',
    '1.0000000000000001',
    '1e-400',
    '1e400',
    '1e309',
    '0e999999999',
    '-0',
    '-0.0e-5',
    '1e999999999',
    '10e-1',
    '0.1e1',
  ),
);

/** A small seeded PRNG, so that a failing spelling replays from fast-check's seed. */
export function prng(seed: number): () => number {
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
export function spell(value: unknown, rnd: () => number): string {
  const ws = (): string => [' ', '\n', '\t', '\r', '', '', ''][Math.floor(rnd() * 7)] as string;
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    const forms = [
      String(value),
      `${value}.0`,
      `${value}e0`,
      `${value}E+0`,
      value === 0 ? '0.0e-1' : `${value}0e-1`, // not "00e-1": a leading zero
      `${value}.000e0`,
    ];
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
  if (Array.isArray(value))
    return `[${ws()}${value.map((v) => `${ws()}${spell(v, rnd)}${ws()}`).join(',')}]`;
  const keys = Object.keys(value as object).sort(() => rnd() - 0.5);
  const members = keys.map(
    (k) =>
      `${ws()}${spell(k, rnd)}${ws()}:${ws()}${spell((value as Record<string, unknown>)[k], rnd)}${ws()}`,
  );
  return `{${ws()}${members.join(',')}${ws()}}`;
}

export const payload: fc.Arbitrary<Payload> = fc.letrec<{ value: Payload }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.string({ unit: 'binary', maxLength: 12 }).filter(wellFormedText),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.string({ unit: 'binary', maxLength: 6 }).filter(wellFormedText),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;
