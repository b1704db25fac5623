/**
 * An identity's event crosses back from the worker naming a claim (its key state, author and
 * signers) that the chunk's events naming the same three share, each claim sent once, and the
 * main thread makes one object per claim for every chunk after (pipeline/prepare.ts); the
 * identity verdict keeps its lookups on the claim while the identity's state is the same
 * (pipeline/identity-stage.ts). Neither may change a verdict:
 *
 * - every event's claim is the one its own text names, even when key states share their first
 *   bytes (the worker finds claims by them), or one key state comes with other signers or
 *   another author; events naming the same three share one claim object, in one chunk and
 *   across chunks, and others do not;
 * - the stage's verdict on events that share claims (or on other objects of the same claim)
 *   equals `checkIdentityAuthor` against the current state after every key event joins, in
 *   any order of delivery, and after the logs are reloaded (the kept lookups are made again
 *   once a key event was offered, or on another registry).
 */
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
  checkIdentityAuthor,
  type EstablishmentBody,
  type VerifiedKeyEvent,
} from '../src/identity/index.js';
import { IdentityStage } from '../src/pipeline/identity-stage.js';
import {
  type IdentityClaim,
  type Prepared,
  UNPACKED_CLAIMS,
  unpackChunk,
  unpackedClaimsKept,
} from '../src/pipeline/prepare.js';
import { VerifyPool } from '../src/pipeline/verify-pool.js';
import {
  batchOfTexts,
  DEFAULT_TIME_RULES,
  didCsFromInceptionId,
  eventToJson,
  readEventJson,
  signEvent,
  toHex,
} from '../src/protocol/index.js';
import { Store } from '../src/storage/index.js';
import { allKeys, deliveryArb, familyArb, HOUR, order } from './identity-families.js';
import { core, T0, testKey } from './identity-fixtures.js';
import { tempDir } from './storage-fixtures.js';

const NOW = T0 + 3600;

const pools: VerifyPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

/** A key state whose first four bytes are `prefix` (the worker's number for it) and last `tail`. */
function keyState(prefix: number, tail: number): Uint8Array {
  const k = new Uint8Array(32);
  new DataView(k.buffer).setUint32(0, prefix);
  k[31] = tail;
  return k;
}

const authors = [0, 1].map((i) => didCsFromInceptionId(new Uint8Array(32).fill(0x30 + i)));
const keys = ['c-a', 'c-b', 'c-c'].map(testKey);

const claimArb = fc.record({
  // 7 and 0xc7 differ only in the two bits the worker's number leaves out
  prefix: fc.constantFrom(0, 7, 0xc7, 0x3f000000, 0xffffffff),
  tail: fc.nat(2),
  author: fc.nat(1),
  signers: fc.uniqueArray(fc.nat(2), { minLength: 1, maxLength: 3 }),
});
type ClaimSpec = typeof claimArb extends fc.Arbitrary<infer T> ? T : never;

let nonce = 0;
function text(spec: ClaimSpec): Uint8Array {
  const signed = signEvent(
    core,
    {
      v: 1,
      kind: 'note',
      author: authors[spec.author] as string,
      keyState: keyState(spec.prefix, spec.tail),
      createdAt: NOW - 10,
      expiresAt: NOW + 3600,
      nonce: core.sha256(new TextEncoder().encode(`claims/${nonce++}`)).slice(0, 16),
      payload: { n: nonce },
    },
    spec.signers.map((i) => (keys[i] as (typeof keys)[number]).seed),
  );
  if (!signed.ok) throw new Error(`${signed.reason}: ${signed.detail}`);
  return new TextEncoder().encode(JSON.stringify(eventToJson(signed.value.event)));
}

describe.each([0, 2])('the worker stage with %i threads', (threads) => {
  it("gives each identity's event its own text's claim, shared only by events naming the same", async () => {
    const pool = await VerifyPool.create({ threads, minChunk: 3 });
    pools.push(pool);
    await fc.assert(
      fc.asyncProperty(fc.array(claimArb, { minLength: 1, maxLength: 24 }), async (specs) => {
        const texts = specs.map(text);
        // two requests: the second's events name the first's claims again
        const ctx = { now: NOW, timeRules: DEFAULT_TIME_RULES, trust: { mode: 'open' as const } };
        const half = Math.ceil(texts.length / 2);
        const chunks = [
          await pool.prepare(batchOfTexts(texts.slice(0, half)), ctx),
          await pool.prepare(batchOfTexts(texts.slice(half)), ctx),
        ];
        const events = chunks
          .flatMap((c) => c.events)
          .map((e) => {
            if (!e.ok || e.identity === undefined) throw new Error('an identity event not read');
            return e as Prepared & { identity: IdentityClaim };
          });
        events.forEach((e, i) => {
          const read = readEventJson(texts[i] as Uint8Array);
          if (!read.ok) throw new Error(read.detail);
          const own = read.value.event;
          expect(e.author).toBe(own.author);
          expect(e.identity.keyState).toBe(toHex(own.keyState as Uint8Array));
          expect(e.identity.signers).toEqual(own.signatures.map((s) => s.signer));
        });
        // a claim object is never shared by two different claims, and equal claims share one
        // (whichever chunk and worker read them, and even where the worker sent a claim twice:
        // it compares only with the last claim under each number of its own)
        const tripleOf = (e: (typeof events)[number]) =>
          `${e.identity.keyState} ${e.author} ${e.identity.signers.join(' ')}`;
        for (let i = 0; i < events.length; i++) {
          for (let j = 0; j < i; j++) {
            const a = events[i] as (typeof events)[number];
            const b = events[j] as (typeof events)[number];
            if (tripleOf(a) !== tripleOf(b)) expect(a.identity).not.toBe(b.identity);
            else expect(a.identity).toBe(b.identity);
          }
        }
      }),
      { numRuns: threads === 0 ? 60 : 25 },
    );
  });
});

describe('the claim objects kept from one chunk to the next', () => {
  it('are bounded: a stream of new claims never keeps more than the bound', () => {
    const hex = (n: number) => n.toString(16).padStart(64, '0');
    const chunkOf = (claims: string[]) =>
      unpackChunk({
        buffer: new ArrayBuffer(0),
        count: 0,
        texts: [],
        messages: [],
        claims,
        parseMs: 0,
        verifyMs: 0,
      });
    let peak = 0;
    for (let c = 0; c < 6; c++) {
      chunkOf(
        Array.from(
          { length: 1000 },
          (_, i) => `${hex(c * 1000 + i)} ${authors[0]} ${keys[0]?.did}`,
        ),
      );
      peak = Math.max(peak, unpackedClaimsKept());
    }
    expect(peak).toBeGreaterThan(UNPACKED_CLAIMS - 1000);
    expect(peak).toBeLessThanOrEqual(UNPACKED_CLAIMS);
  });
});

describe('the identity stage keeps the verdict lookups on the claim', () => {
  it('and judges as checkIdentityAuthor against the current state after each key event', () => {
    const { dir, cleanup } = tempDir('cs-claims-');
    cleanups.push(cleanup);
    const store = Store.open(dir, core, { now: () => NOW * 1000 });
    cleanups.unshift(() => store.close());
    fc.assert(
      fc.property(
        familyArb.chain((events) =>
          fc.tuple(
            fc.constant(events),
            deliveryArb(events.length),
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: -2, max: 30 }), fc.nat()), {
              minLength: 1,
              maxLength: 12,
            }),
          ),
        ),
        ([family, delivery, probes]) => {
          const stage = new IdentityStage({ core, store, now: () => NOW * 1000 });
          const identity = (family[0] as VerifiedKeyEvent).identity;
          const others = allKeys.map((k) => k.did);
          // claims made once and reused across every state: each names a key state of the
          // family (or none of it), with signers of its own, by the identity or another; each
          // as two objects (as if the main thread's claim objects had been forgotten between
          // two chunks)
          const claims = family.flatMap((e, i) => {
            if (e.event.type === 'veto') return [];
            const body = e.event as EstablishmentBody;
            const other = [others[i % others.length] as string];
            return [0, 1].flatMap(() => [
              claim(e.id, identity, body.keys),
              claim(e.id, identity, other),
              claim(e.id, authors[0] as string, body.keys),
            ]);
          });
          claims.push(claim(new Uint8Array(32), identity, ['x']));
          order(family, delivery).forEach((e, n) => {
            // now and then the logs as the (empty) store holds them: a registry of its own
            if (n % 4 === 3) stage.reload();
            stage.registry.add(e);
            for (const [pick, hours, extra] of probes) {
              const c = claims[pick % claims.length] as (typeof claims)[number];
              const createdAt = T0 + hours * HOUR + (extra % 7);
              const event = {
                author: c.author,
                createdAt,
                identity: c.claim,
              } as unknown as Prepared & { identity: IdentityClaim };
              const expected = checkIdentityAuthor(stage.registry.get(c.author), {
                author: c.author,
                createdAt,
                keyState: c.claim.keyState,
                signers: c.claim.signers,
              });
              expect(stage.verdict(event)).toEqual(expected);
              expect(c.claim.resolved?.lookups.state).toBe(stage.registry.get(c.author));
            }
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** A claim as an unpacked chunk gives it. */
function claim(
  id: Uint8Array,
  author: string,
  signers: readonly string[],
): { author: string; claim: IdentityClaim } {
  return { author, claim: { author, keyState: toHex(id), signers, resolved: undefined } };
}
