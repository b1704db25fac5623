/**
 * A hex member (an event's `nonce` and `key_state`, `sig` in a signature entry) is read in one
 * pass when it is plain lowercase hex pairs (json-to-cbor.ts `hex`), and judged by the general
 * code otherwise. Held to the rule of spec/PROTOCOL.md §3.4 on generated strings of every
 * length around the limit, spelled plainly or with escapes: a string that is lowercase hex of
 * even length and at most 64 bytes is those bytes; a longer string is ERR_TOO_LARGE; anything
 * else ERR_MALFORMED.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { EVENT_JSON_PROFILE, readJsonObject, toHex } from '../src/protocol/index.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What §3.4 makes of the string value `s` at a hex member. */
function model(s: string): string {
  if (s.length > 128) return 'ERR_TOO_LARGE';
  if (!/^([0-9a-f]{2})*$/.test(s)) return 'ERR_MALFORMED';
  return s;
}

/** `s` as a JSON string, each character plain or (where `escaped` says) as a \u escape. */
function spell(s: string, escaped: readonly boolean[]): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (escaped[i % escaped.length] === true || c === '"' || c === '\\')
      out += `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

describe('hex members', () => {
  const char = fc.constantFrom(
    ...'0123456789abcdef',
    ...'0123456789abcdef',
    'A',
    'F',
    'g',
    ' ',
    '"',
    '\\',
  );
  const text = fc.oneof(
    fc.array(char, { maxLength: 140 }).map((cs) => cs.join('')),
    // plain hex of every length near the limit, then maybe one odd character
    fc
      .tuple(fc.integer({ min: 0, max: 132 }), fc.option(char, { nil: undefined }), fc.nat(127))
      .map(([n, c, at]) => {
        const hex = Array.from({ length: n }, (_, i) => '0123456789abcdef'[(i * 7) % 16]).join('');
        return c === undefined ? hex : hex.slice(0, at) + c + hex.slice(at + 1);
      }),
  );
  const escapes = fc.oneof(
    fc.constant([false]),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  );

  it.each(['nonce', 'key_state'])(
    'at %s: the bytes, ERR_TOO_LARGE or ERR_MALFORMED as §3.4 says',
    (member) => {
      fc.assert(
        fc.property(text, escapes, (s, escaped) => {
          const json = utf8(`{"v":1,"${member}":${spell(s, escaped)},"x":"y"}`);
          const read = readJsonObject(json, EVENT_JSON_PROFILE);
          const expected = model(s);
          if (read.ok) {
            const value = read.value[member];
            expect(value).toBeInstanceOf(Uint8Array);
            expect(toHex(value as Uint8Array)).toBe(expected);
          } else expect(read.reason).toBe(expected);
        }),
        { numRuns: 2000 },
      );
    },
  );

  it('at sig in a signature entry, the same', () => {
    fc.assert(
      fc.property(text, escapes, (s, escaped) => {
        const json = utf8(`{"signatures":[{"sig":${spell(s, escaped)},"signer":"z"}]}`);
        const read = readJsonObject(json, EVENT_JSON_PROFILE);
        const expected = model(s);
        if (read.ok) {
          const entries = read.value.signatures as { sig: Uint8Array }[];
          expect(toHex(entries[0]?.sig as Uint8Array)).toBe(expected);
        } else expect(read.reason).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
