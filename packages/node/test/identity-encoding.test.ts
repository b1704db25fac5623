/**
 * One spelling for identities and key events: did:cs parses exactly; a key event has one CBOR
 * encoding and one JSON form that agree; no input crashes the decoders; and a key event can
 * never pass for a CommonsEvent (or the other way round), its signatures included.
 */
import { readFileSync } from 'node:fs';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  DID_CS_LENGTH,
  decodeKeyEvent,
  encodeKeyEvent,
  identifierFromInceptionId,
  keyEventSigningInput,
  keyEventToJson,
  MAX_KEY_EVENT_JSON_BYTES,
  parseIdentifier,
  parseKeyEventJsonText,
  readKeyEventJson,
} from '../src/identity/index.js';
import { utf8 } from '../src/protocol/bytes.js';
import {
  decodeEvent,
  encodeBase58btc,
  signEvent,
  signingInput,
  toHex,
} from '../src/protocol/index.js';
import {
  core,
  DAY,
  guardians,
  inception,
  set,
  successor,
  T0,
  testKey,
  veto,
} from './identity-fixtures.js';

const G = guardians(2, DAY, 'g1', 'g2', 'g3');
const icp = inception({
  current: set(2, 'e1', 'e2', 'e3'),
  next: set(1, 'e4'),
  guardians: G,
  createdAt: T0,
});
const rec = successor(
  icp,
  {
    type: 'recovery',
    current: set(1, 'e5'),
    next: set(1, 'e6'),
    createdAt: T0 + DAY,
    revokedFrom: T0,
  },
  [testKey('g1'), testKey('g2')],
);
const samples = [
  icp,
  successor(icp, {
    type: 'rotation',
    current: set(1, 'e4'),
    next: set(1, 'e5'),
    createdAt: T0 + 1,
  }),
  successor(icp, {
    type: 'revocation',
    current: set(1, 'e4'),
    next: set(1, 'e5'),
    createdAt: T0 + 9,
    revokedFrom: T0 + 2,
  }),
  rec,
  veto(rec, T0 + DAY + 1, [testKey('e1'), testKey('e2')]),
];

describe('did:cs', () => {
  it('is the multihash of the inception id: 54 characters starting did:cs:zQm, and parses back', () => {
    expect(icp.identity).toHaveLength(DID_CS_LENGTH);
    expect(icp.identity).toMatch(/^did:cs:zQm[1-9A-HJ-NP-Za-km-z]{44}$/);
    expect(parseIdentifier(icp.identity)).toEqual({ ok: true, value: icp.id });
    expect(icp.identity).toBe(identifierFromInceptionId(core.sha256(icp.body)));
  });

  it('has exactly one spelling per identity (any 32-byte id)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (id) => {
        const did = identifierFromInceptionId(id);
        expect(did).toHaveLength(DID_CS_LENGTH);
        expect(parseIdentifier(did)).toEqual({ ok: true, value: id });
      }),
    );
  });

  it('refuses every other spelling with ERR_BAD_DID', () => {
    const digits = icp.identity.slice('did:cs:z'.length);
    const otherCode = encodeBase58btc(Uint8Array.from([0x13, 0x20, ...icp.id])); // sha2-512 code
    const shortHash = encodeBase58btc(Uint8Array.from([0x12, 0x1f, ...icp.id.slice(1)]));
    for (const bad of [
      `did:CS:z${digits}`,
      `did:cs:Z${digits}`,
      `did:cs:${digits}`,
      `did:cs:z${digits} `,
      `did:cs:z${digits.slice(0, -1)}0`, // 0 is not base58
      `did:cs:z${digits}#key-1`,
      `did:cs:z${otherCode}`,
      `did:cs:z${shortHash}`,
      `did:cs:z1${digits.slice(1)}`,
      testKey('e1').did,
      '',
    ]) {
      expect(parseIdentifier(bad), bad).toMatchObject({ ok: false, reason: 'ERR_BAD_DID' });
    }
    expect(parseIdentifier(42)).toMatchObject({ ok: false, reason: 'ERR_BAD_DID' });
  });
});

describe('key event encodings', () => {
  it('round-trips every type through CBOR and JSON, and both forms give the same bytes and id', () => {
    for (const e of samples) {
      expect(toHex(encodeKeyEvent(e.event))).toBe(toHex(e.encoded));
      const again = decodeKeyEvent(core, e.encoded);
      expect(again.ok && again.value.idHex).toBe(e.idHex);
      const json = keyEventToJson(e.event);
      const fromText = readKeyEventJson(core, utf8(JSON.stringify(json)));
      expect(fromText.ok && toHex(fromText.value.encoded)).toBe(toHex(e.encoded));
      expect(fromText.ok && fromText.value.idHex).toBe(e.idHex);
      expect(e.idHex).toBe(toHex(core.sha256(e.body)));
    }
  });

  it('never throws on mutated bytes, and whatever it accepts re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 8 }),
        (e, edits, cut) => {
          const bytes = e.encoded.slice(0, e.encoded.length - cut);
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          const r = decodeKeyEvent(core, bytes);
          if (r.ok) expect(toHex(encodeKeyEvent(r.value.event))).toBe(toHex(bytes));
          else expect(r.reason).toMatch(/^ERR_/);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON, and refuses duplicate member names', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = readKeyEventJson(core, utf8(JSON.stringify(value)));
        expect(r.ok).toBe(false);
      }),
    );
    const text = JSON.stringify(keyEventToJson(icp.event)).replace('{"v":1,', '{"v":1,"v":1,');
    expect(parseKeyEventJsonText(core, text)).toMatchObject({ ok: false, reason: 'ERR_MALFORMED' });
  });
});

describe('one JSON reader', () => {
  it('key events are read by protocol/json-reader.ts: no JSON.parse and no converter of their own', () => {
    const source = readFileSync(
      new URL('../src/identity/key-event-json.ts', import.meta.url),
      'utf8',
    );
    expect(source).not.toMatch(/JSON\.parse|duplicateMemberName|class Converter/);
    expect(source).toContain('readJsonObject');
  });

  it('applies the key event profile while reading: size, depth, names, numbers, hex', () => {
    const text = JSON.stringify(keyEventToJson(icp.event));
    const read = (t: string) => readKeyEventJson(core, utf8(t));
    expect(read(text).ok).toBe(true);
    expect(read(`${' '.repeat(MAX_KEY_EVENT_JSON_BYTES - text.length)}${text}`).ok).toBe(true);
    expect(read(`${' '.repeat(MAX_KEY_EVENT_JSON_BYTES - text.length + 1)}${text}`)).toMatchObject({
      reason: 'ERR_TOO_LARGE',
    });
    // a signature entry is level 3: a container inside it is level 4
    expect(read(text.replace('"sig":', '"x":[],"sig":'))).toMatchObject({ reason: 'ERR_TOO_DEEP' });
    expect(read(text.replace('"sig":', '"sig":"00","sig":'))).toMatchObject({
      reason: 'ERR_MALFORMED',
    });
    expect(read(text.replace('"seq":0', '"seq":1e400'))).toMatchObject({ reason: 'ERR_MALFORMED' });
    expect(read(text.replace('"seq":0', '"seq":0.0e5'))).toMatchObject({ ok: true });
    expect(read(text.replace(/"next":"[0-9a-f]+"/, '"next":"AB"'))).toMatchObject({
      reason: 'ERR_MALFORMED',
    });
    expect(read(`\ufeff${text}`)).toMatchObject({ reason: 'ERR_MALFORMED' });
  });
});

describe('key events are not events', () => {
  it('a key event is no CommonsEvent, and a CommonsEvent is no key event', () => {
    for (const e of samples)
      expect(decodeEvent(e.encoded)).toMatchObject({ ok: false, reason: 'ERR_BAD_FIELD' });
    const note = signEvent(
      core,
      {
        v: 1,
        kind: 'note',
        author: testKey('e1').did,
        createdAt: T0,
        expiresAt: T0 + 60,
        nonce: new Uint8Array(16),
        payload: null,
      },
      [testKey('e1').seed],
    );
    expect(note.ok).toBe(true);
    if (note.ok)
      expect(decodeKeyEvent(core, note.value.encoded)).toMatchObject({
        ok: false,
        reason: 'ERR_BAD_FIELD',
      });
  });

  it('signs under its own domain: a key event signature does not verify for an event with the same id', () => {
    const sig = icp.event.signatures[0]!;
    const key = icp.signerKeys[0]!;
    expect(core.ed25519Verify(key, keyEventSigningInput(icp.id), sig.sig)).toBe(true);
    expect(core.ed25519Verify(key, signingInput(icp.id), sig.sig)).toBe(false);
  });
});
