/**
 * Tampering with a valid event never yields a different accepted event: flipping any bit of
 * its bytes, or changing any field while keeping the signatures, is rejected by decoding, by
 * the id/signature check, or by a rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type CommonsEvent,
  type DecodedEvent,
  decodeEvent,
  encodeEvent,
  eventToJson,
  makePolicy,
  type Payload,
  readEventJson,
  signEvent,
  toHex,
  type ValidationContext,
  validateEvent,
} from '../src/protocol/index.js';
import {
  alice,
  bob,
  carol,
  core,
  multiSigEvent,
  NOW,
  testKey,
  validEvent,
} from './protocol-fixtures.js';

const ctx: ValidationContext = { now: NOW, lookupReplay: () => undefined };

function verdictOf(input: Uint8Array | DecodedEvent): string {
  const v = validateEvent(core, input, ctx);
  return v.ok ? v.outcome : v.reason;
}

const EVENTS: DecodedEvent[] = [
  validEvent(),
  multiSigEvent(),
  validEvent({
    kind: 'k',
    payload: { list: [1, -2, 'three', null, true], nested: { deep: [[{}]] } },
  }),
];

function flipBit(bytes: Uint8Array, at: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[at] = (out[at] as number) ^ (1 << bit);
  return out;
}

describe('bit flips', () => {
  it('the fixtures are accepted as they are', () => {
    for (const e of EVENTS) expect(verdictOf(e.encoded)).toBe('accepted');
  });

  it('every single-bit flip in the signed body either breaks decoding or changes the id', () => {
    for (const e of EVENTS) {
      const id = toHex(core.sha256(e.body));
      const bodyEnd = e.body.length; // the body is a prefix of the event, header aside
      let decodedFlips = 0;
      for (let at = 0; at < bodyEnd; at++) {
        for (let bit = 0; bit < 8; bit++) {
          const d = decodeEvent(flipBit(e.encoded, at, bit));
          if (!d.ok) continue;
          decodedFlips++;
          expect(toHex(core.sha256(d.value.body))).not.toBe(id);
        }
      }
      expect(decodedFlips).toBeGreaterThan(0); // payload and nonce flips do decode
    }
  });

  it('no single-bit flip anywhere in the event is accepted (signatures checked)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENTS),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (e, at, bit) => {
          expect(verdictOf(flipBit(e.encoded, at % e.encoded.length, bit))).not.toBe('accepted');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('no flip inside a signature entry is accepted (every byte of one entry)', () => {
    const e = EVENTS[0] as DecodedEvent;
    const start = e.body.length + 11; // "signatures" key
    for (let at = start; at < e.encoded.length; at += 3) {
      expect(verdictOf(flipBit(e.encoded, at, at % 8))).not.toBe('accepted');
    }
  });
});

// ------------------------------------------------------------------------------------ fields

const { payload } = fc.letrec<{ payload: Payload }>((tie) => ({
  payload: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.string({ maxLength: 10 }),
    fc.array(tie('payload'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('payload'), { maxKeys: 4 }),
  ),
}));

const mallory = testKey('mallory');
type Mutation = (e: CommonsEvent) => CommonsEvent;
const otherSignatures = multiSigEvent().event.signatures;

const m = (name: string, mutate: Mutation): [string, Mutation] => [name, mutate];
const delta = fc.integer({ min: -100, max: 100 }).filter((d) => d !== 0);

const mutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
  fc
    .string({ minLength: 1, maxLength: 8, unit: 'grapheme-ascii' })
    .map((k) => m('kind', (e) => ({ ...e, kind: `${e.kind}${k}` }))),
  fc
    .constantFrom(bob.did, carol.did, mallory.did)
    .map((a) => m('author', (e) => ({ ...e, author: a }))),
  delta.map((d) => m('created_at', (e) => ({ ...e, createdAt: e.createdAt + d }))),
  delta.map((d) => m('expires_at', (e) => ({ ...e, expiresAt: e.expiresAt + d }))),
  fc.tuple(fc.nat(31), fc.integer({ min: 1, max: 255 })).map(([i, x]) =>
    m('nonce', (e) => {
      const nonce = e.nonce.slice();
      nonce[i % nonce.length] = (nonce[i % nonce.length] as number) ^ x;
      return { ...e, nonce };
    }),
  ),
  payload.map((p) =>
    m('payload', (e) => ({
      ...e,
      payload: JSON.stringify(p) === JSON.stringify(e.payload) ? [p] : p,
    })),
  ),
  fc.constant(m('policy added', (e) => ({ ...e, policy: makePolicy(e.author, 1, [bob.did]) }))),
  fc.constant(
    m('policy removed or changed', (e) => {
      if (e.policy === undefined) return { ...e, policy: makePolicy(e.author, 2, [bob.did]) };
      const { policy: _policy, ...rest } = e;
      return rest;
    }),
  ),
  fc.constant(
    m('threshold raised', (e) => ({ ...e, policy: makePolicy(e.author, 3, [bob.did, carol.did]) })),
  ),
  fc.constant(m('signatures of another event', (e) => ({ ...e, signatures: otherSignatures }))),
  fc.constant(
    m('signer renamed', (e) => ({
      ...e,
      signatures: e.signatures.map((s) => ({ ...s, signer: mallory.did })),
    })),
  ),
  fc.constant(
    m('last signature dropped', (e) => ({ ...e, signatures: e.signatures.slice(0, -1) })),
  ),
);

describe('field changes with the original signatures', () => {
  it('are never accepted, in the CBOR form or the JSON form', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EVENTS), mutation, (e, [name, mutate]) => {
        const changed = mutate(e.event);
        const bytes = encodeEvent(changed);
        expect(verdictOf(bytes), name).not.toBe('accepted');
        const json = readEventJson(new TextEncoder().encode(JSON.stringify(eventToJson(changed))));
        if (json.ok) expect(verdictOf(json.value), name).not.toBe('accepted');
      }),
      { numRuns: 200 },
    );
  });

  it('a version other than 1 is refused even with signatures over it', () => {
    const e = EVENTS[0] as DecodedEvent;
    const json = { ...eventToJson(e.event), v: 2 };
    const parsed = readEventJson(new TextEncoder().encode(JSON.stringify(json)));
    expect(parsed.ok ? 'ok' : parsed.reason).toBe('ERR_UNSUPPORTED_VERSION');
  });
});

describe('what the id does not cover', () => {
  it('another valid signature changes the encoding but not the id (a re-submission is a duplicate)', () => {
    const e = validEvent({}, [alice]);
    const d = signEvent(core, e.event, [bob.seed]); // co-signing appends
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value.event.signatures.map((s) => s.signer)).toEqual([alice.did, bob.did]);
    expect(toHex(d.value.encoded)).not.toBe(toHex(e.encoded));
    expect(toHex(core.sha256(d.value.body))).toBe(toHex(core.sha256(e.body)));
    expect(verdictOf(d.value)).toBe('accepted'); // bob counts zero, alice still signed
  });
});
