/**
 * What the worker stage hands back (pipeline/prepare.ts: one transferred buffer per chunk,
 * unpacked into views on the main thread) is, field by field, what the reference validator
 * makes of each text on its own: the same verdict, and for an event that was read, the same id,
 * canonical CBOR, nonce, author, kind and times. Generated batches of valid events, bad
 * signatures, multi-signature policies, events by identities (did:cs with a key state: the
 * identity part is carried for the main thread's verdict), time violations, untrusted authors,
 * damaged texts and junk, in every JSON spelling, and the same as canonical CBOR (as peers send
 * events); inline and through worker threads, several chunks per batch.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { Pipeline } from '../src/pipeline/pipeline.js';
import type { PreparedEvent } from '../src/pipeline/prepare.js';
import { VerifyPool } from '../src/pipeline/verify-pool.js';
import {
  batchOfTexts,
  DEFAULT_TIME_RULES,
  decodeEvent,
  didCsFromInceptionId,
  type EventBody,
  encodeBody,
  encodeEvent,
  eventToJson,
  makePolicy,
  readEventJson,
  signEvent,
  type TrustPolicy,
  toHex,
  validateEvent,
} from '../src/protocol/index.js';
import { Store } from '../src/storage/index.js';
import { prng, spell } from './json-fixtures.js';
import {
  alice,
  bob,
  carol,
  core,
  freshNonce,
  NOW,
  testKey,
  validEvent,
} from './protocol-fixtures.js';
import { tempDir } from './storage-fixtures.js';

const mallory = testKey('mallory');
const IDENTITY = didCsFromInceptionId(new Uint8Array(32).fill(0x5a));
const KEYS = [alice, bob, carol, mallory];

const input = fc.record({
  kind: fc.constantFrom(
    'valid',
    'valid',
    'multisig',
    'identity',
    'badsig',
    'expired',
    'future',
    'damaged',
  ),
  identityBadsig: fc.boolean(),
  author: fc.nat(3),
  signers: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 4 }),
  threshold: fc.integer({ min: 1, max: 3 }),
  payload: fc.jsonValue({ maxDepth: 2 }),
  seed: fc.nat(),
  at: fc.nat(),
  byte: fc.integer({ min: 0x20, max: 0x7e }),
  nonceExtra: fc.integer({ min: 0, max: 16 }), // nonces of 16 to 32 bytes
  kindName: fc.constantFrom('note', 'transfer', 'k', 'x'.repeat(64)),
});

type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

type Encoding = 'json' | 'cbor';

/** The bytes of one generated input: its JSON text, or its canonical CBOR (as peers send). */
function encode(s: Input, encoding: Encoding): Uint8Array {
  const t = text(s);
  if (encoding === 'json') return new TextEncoder().encode(t);
  const read = readEventJson(new TextEncoder().encode(t));
  // what the text spells, as CBOR; a text that is no event stands as junk bytes
  const bytes = read.ok ? encodeEvent(read.value.event) : new TextEncoder().encode(t);
  if (s.kind === 'damaged' && bytes.length > 0) {
    const at = s.at % bytes.length;
    bytes[at] = (bytes[at] as number) ^ s.byte;
  }
  return bytes;
}

/** The JSON text of one generated input. */
function text(s: Input): string {
  const author = KEYS[s.author] as (typeof KEYS)[number];
  const body: EventBody = {
    v: 1,
    kind: s.kindName,
    author: author.did,
    createdAt: NOW - 10,
    expiresAt: NOW + 3600,
    nonce: Uint8Array.from([...freshNonce(), ...new Uint8Array(s.nonceExtra).fill(s.byte)]),
    payload: JSON.parse(JSON.stringify(s.payload ?? null)),
    ...(s.kind === 'expired' ? { createdAt: NOW - 7200, expiresAt: NOW - 1 } : {}),
    ...(s.kind === 'future' ? { createdAt: NOW + 3600, expiresAt: NOW + 7200 } : {}),
    ...(s.kind === 'multisig'
      ? { policy: makePolicy(author.did, s.threshold, [alice.did, bob.did, carol.did]) }
      : {}),
    // an identity (did:cs) names its key state; its keys (did:keys) sign
    ...(s.kind === 'identity'
      ? { author: IDENTITY, keyState: core.sha256(Uint8Array.of(s.seed & 0xff)) }
      : {}),
  };
  const signers = s.kind === 'multisig' ? s.signers.map((i) => KEYS[i]) : [author];
  const signed = signEvent(
    core,
    body,
    signers.map((k) => (k as (typeof KEYS)[number]).seed),
  );
  if (!signed.ok) return spell(s.payload, prng(s.seed)); // junk: not an event
  const json = eventToJson(signed.value.event) as unknown as { signatures: { sig: string }[] };
  if (s.kind === 'badsig' || (s.kind === 'identity' && s.identityBadsig)) {
    const sig = (json.signatures[0] as { sig: string }).sig;
    (json.signatures[0] as { sig: string }).sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
  }
  const t = spell(json, prng(s.seed));
  if (s.kind !== 'damaged') return t;
  const at = s.at % t.length;
  return t.slice(0, at) + String.fromCharCode(s.byte) + t.slice(at + 1);
}

const TIME_REASONS = new Set(['ERR_EXPIRED', 'ERR_NOT_YET_VALID', 'ERR_LIFETIME_TOO_LONG']);

/**
 * What the reference validator makes of one text, in the worker stage's terms: the id of an
 * event that was read is SHA-256 of its body encoded afresh by the CBOR encoder, and a verdict
 * after the time check is carried as `late` (the main thread orders it after the replay check).
 */
function reference(
  bytes: Uint8Array,
  trust: TrustPolicy,
  encoding: Encoding,
): Record<string, unknown> {
  const read = encoding === 'json' ? readEventJson(bytes) : decodeEvent(bytes);
  if (!read.ok) return { ok: false, reason: read.reason, detail: read.detail };
  const d = read.value;
  const { signatures: _signatures, ...body } = d.event;
  const id = core.sha256(encodeBody(body));
  // the identity verdict (step 7) is the main thread's: here every identity passes it
  const v = validateEvent(core, d, {
    now: NOW,
    trust,
    lookupReplay: () => undefined,
    checkIdentity: () => ({ ok: true }),
  });
  if (!v.ok && TIME_REASONS.has(v.reason))
    return { ok: false, reason: v.reason, detail: v.detail, id };
  return {
    ok: true,
    id,
    author: d.event.author,
    kind: d.event.kind,
    nonce: d.event.nonce,
    createdAt: d.event.createdAt,
    expiresAt: d.event.expiresAt,
    encoded: encodeEvent(d.event),
    ...(v.ok ? {} : { late: { reason: v.reason, detail: v.detail } }),
    ...(d.event.keyState === undefined
      ? {}
      : {
          identity: {
            author: d.event.author,
            keyState: toHex(d.event.keyState),
            signers: d.event.signatures.map((x) => x.signer),
          },
        }),
  };
}

function plain(e: PreparedEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { ...e };
  for (const k of ['id', 'nonce', 'encoded'])
    if (out[k] instanceof Uint8Array) out[k] = Uint8Array.from(out[k] as Uint8Array);
  return out;
}

const pools: VerifyPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe.each([
  [0, 'json'],
  [2, 'json'],
  [0, 'cbor'],
  [2, 'cbor'],
] as const)('the worker stage with %i threads, events as %s', (threads, encoding) => {
  it('hands back what the reference validator makes of each event', async () => {
    const pool = await VerifyPool.create({ threads, minChunk: 3 });
    pools.push(pool);
    await fc.assert(
      fc.asyncProperty(
        fc.array(input, { minLength: 1, maxLength: 16 }),
        fc.boolean(),
        async (inputs, allowlist) => {
          const trust: TrustPolicy = allowlist
            ? { mode: 'allowlist', authors: new Set([alice.did, bob.did]) }
            : { mode: 'open' };
          const texts = inputs.map((s) => encode(s, encoding));
          const chunk = await pool.prepare(batchOfTexts(texts), {
            now: NOW,
            timeRules: DEFAULT_TIME_RULES,
            trust,
            encoding,
          });
          expect(chunk.events).toHaveLength(texts.length);
          chunk.events.forEach((e, i) => {
            expect(plain(e)).toEqual(reference(texts[i] as Uint8Array, trust, encoding));
            // every event's bytes, an identity's included, are views of the chunk's one buffer
            // (an event held past its batch is copied then: identity-held-events-own-bytes)
            if (e.ok && e.identity !== undefined)
              for (const a of [e.id, e.nonce, e.encoded])
                expect(a.buffer.byteLength).toBeGreaterThan(a.length);
          });
        },
      ),
      { numRuns: threads === 0 ? 50 : 20 },
    );
  });
});

describe('what the worker stage hands back', () => {
  it('is stored byte for byte as the canonical CBOR of each event (views of one buffer)', async () => {
    const pool = await VerifyPool.create({ threads: 2, minChunk: 4 });
    pools.push(pool);
    const { dir, cleanup } = tempDir('cs-prepared-');
    const store = Store.open(dir, core);
    try {
      const pipeline = new Pipeline({ store, pool, now: () => NOW * 1000 });
      const events = Array.from({ length: 40 }, (_, i) =>
        validEvent({ payload: { i, memo: 'x'.repeat(i) } }),
      );
      const texts = events.map((d) =>
        new TextEncoder().encode(JSON.stringify(eventToJson(d.event))),
      );
      const results = await pipeline.process(batchOfTexts(texts));
      expect(results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
      for (const d of events) {
        const stored = store.encodedEvent(core.sha256(d.body));
        expect(stored && toHex(stored)).toBe(toHex(encodeEvent(d.event)));
      }
    } finally {
      store.close();
      cleanup();
    }
  });
});
