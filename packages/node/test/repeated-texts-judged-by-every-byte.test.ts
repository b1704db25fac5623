/**
 * The JSON reader turns the authors, signers and kinds it sees again and again into strings
 * once, finding them again by a number made of their last bytes (protocol/repeated-texts.ts).
 * A hit must be the same text, byte for byte, never merely one in the same slot:
 *
 * - the table alone: whatever texts come, in any order, crowded into few slots or sharing
 *   their length and last bytes, `get` gives what decoding and judging the bytes gives;
 * - through the reader: dids that differ from a valid one only before their last 8 characters
 *   (the same slot), read in turn with the valid one, each get their own verdict and author,
 *   the schema code's, as a signer and as an author, did:key and did:cs alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  didCsFromInceptionId,
  eventToJson,
  readEventJson,
  readEventJsonBy,
  signEvent,
} from '../src/protocol/index.js';
import { RepeatedTexts } from '../src/protocol/repeated-texts.js';
import { alice, bob, core, NOW, validEvent } from './protocol-fixtures.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const latin1 = (b: Uint8Array, s: number, e: number): string =>
  String.fromCharCode(...b.subarray(s, e));

describe('repeated texts', () => {
  it('give what decoding and judging their bytes gives, whatever shares their slot', () => {
    // texts of one length that share their last 8 bytes, and others
    const tail = [0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48];
    const text = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 20 }),
      fc
        .uint8Array({ minLength: 4, maxLength: 4 })
        .map((head) => Uint8Array.from([...head, ...tail])),
      fc.constantFrom(Uint8Array.from(tail), Uint8Array.from([0x30, ...tail])),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.array(text, { maxLength: 60 }),
        (bits, texts) => {
          let judged = 0;
          const table = new RepeatedTexts(bits, latin1, (t) => {
            judged++;
            return `judged ${t}`;
          });
          for (const bytes of texts) {
            // inside a larger buffer, as the reader's output is
            const buffer = Uint8Array.from([0xff, ...bytes, 0xfe]);
            const entry = table.get(buffer, 1, 1 + bytes.length);
            const expected = latin1(bytes, 0, bytes.length);
            expect(entry.text).toBe(expected);
            expect(entry.value).toBe(`judged ${expected}`);
            expect(Array.from(entry.bytes)).toEqual(Array.from(bytes));
          }
          expect(judged).toBeLessThanOrEqual(texts.length);
        },
      ),
    );
  });

  it('keep two texts that share a slot, each judged once however they alternate', () => {
    let judged = 0;
    // one slot pair for every text
    const table = new RepeatedTexts(0, latin1, (t) => {
      judged++;
      return t;
    });
    const [a, b, c] = ['did:key:z6MkA', 'did:key:z6MkB', 'did:key:z6MkC'].map(utf8) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const first = { a: table.get(a, 0, a.length), b: table.get(b, 0, b.length) };
    for (let i = 0; i < 10; i++) {
      expect(table.get(a, 0, a.length)).toBe(first.a);
      expect(table.get(b, 0, b.length)).toBe(first.b);
    }
    expect(judged).toBe(2);
    // a third evicts the one not used last, and is then kept as well
    expect(table.get(c, 0, c.length).text).toBe('did:key:z6MkC');
    expect(table.get(c, 0, c.length).text).toBe('did:key:z6MkC');
    expect(judged).toBe(3);
  });

  it('are found again: one string object per text while it keeps its slot', () => {
    const table = new RepeatedTexts(4, latin1, (t) => t.length);
    const a = utf8('did:key:z6MkhroFDZ38oNz7xPuwBxFiY8hLmSG91cGDoojmYdnfAu2w');
    const first = table.get(a, 0, a.length);
    expect(table.get(Uint8Array.from(a), 0, a.length)).toBe(first);
  });
});

/** `did` with the character at `i` (before its last 8) replaced by `c`. */
const mangle = (did: string, i: number, c: string): string =>
  did.slice(0, i) + c + did.slice(i + 1);

/** An event's JSON text with `from` replaced by `to` everywhere (its signature no longer matters). */
function textWith(json: unknown, from: string, to: string): Uint8Array {
  return utf8(JSON.stringify(json).split(from).join(to));
}

/** The reader's verdict is the schema code's, and the author and signers are the text's own. */
function expectOwnVerdict(text: Uint8Array, author: string, signer: string): void {
  const read = readEventJson(text);
  expect(read).toEqual(readEventJsonBy('schema', text));
  if (read.ok) {
    expect(read.value.event.author).toBe(author);
    expect(read.value.event.signatures[0]?.signer).toBe(signer);
  }
}

describe('the reader with dids that share a slot', () => {
  const plain = eventToJson(validEvent({}, [alice]).event);
  const signedByBob = eventToJson(validEvent({ author: alice.did }, [bob]).event);
  const identity = didCsFromInceptionId(core.sha256(utf8('repeated-texts')));
  const byIdentity = signEvent(
    core,
    {
      v: 1,
      kind: 'transfer',
      author: identity,
      keyState: core.sha256(utf8('key state')),
      createdAt: NOW - 5,
      expiresAt: NOW + 3600,
      nonce: core.sha256(utf8('nonce')).subarray(0, 16),
      payload: { memo: 'x' },
    },
    [alice.seed],
  );
  if (!byIdentity.ok) throw new Error(byIdentity.detail);
  const identityJson = eventToJson(byIdentity.value.event);

  it('give each its own verdict and strings, in any order', () => {
    const alphabet = ['0', 'O', 'l', '1', '2', 'A', 'z', 'é'];
    const variant = fc.record({
      who: fc.constantFrom('author', 'signer', 'identity'),
      at: fc.integer({ min: 9, max: 47 }), // did:key:z + 47 digits: the last 8 untouched
      c: fc.constantFrom(...alphabet),
      mangled: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(variant, { minLength: 1, maxLength: 30 }), (variants) => {
        for (const { who, at, c, mangled } of variants) {
          if (who === 'author') {
            const d = mangled ? mangle(alice.did, at, c) : alice.did;
            expectOwnVerdict(textWith(plain, alice.did, d), d, d);
          } else if (who === 'signer') {
            const d = mangled ? mangle(bob.did, at, c) : bob.did;
            expectOwnVerdict(textWith(signedByBob, bob.did, d), alice.did, d);
          } else {
            const d = mangled ? mangle(identity, Math.min(at, 45), c) : identity;
            expectOwnVerdict(textWith(identityJson, identity, d), d, alice.did);
          }
        }
      }),
    );
  });

  it('refuse a mangled author right after its valid twin was accepted, and accept it after', () => {
    // the first base58 digit spells the multicodec prefix: '2' makes it another (not Ed25519)
    const twin = mangle(alice.did, 9, '2');
    const good = textWith(plain, alice.did, alice.did);
    const bad = textWith(plain, alice.did, twin);
    expect(readEventJson(good).ok).toBe(true);
    const refused = readEventJson(bad);
    expect(refused).toMatchObject({ ok: false, reason: 'ERR_BAD_DID' });
    expect(refused).toEqual(readEventJsonBy('schema', bad));
    expect(readEventJson(good).ok).toBe(true);
  });
});
