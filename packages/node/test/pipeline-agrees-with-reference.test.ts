/**
 * The concurrent, batched pipeline gives exactly the verdicts of the one-event-at-a-time
 * reference validator (protocol/validate.ts) on random sequences of batches: valid events,
 * broken signatures, replays, duplicates (also inside one batch), time violations, multi-sig
 * policies met and not, untrusted authors and junk. Run with verification inline and on
 * worker threads.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { Pipeline } from '../src/pipeline/pipeline.js';
import { VerifyPool } from '../src/pipeline/verify-pool.js';
import {
  batchOfValues,
  type DecodedEvent,
  type EventTextBatch,
  eventToJson,
  makePolicy,
  signEvent,
  type TrustPolicy,
  validateEventJson,
} from '../src/protocol/index.js';
import { Store } from '../src/storage/index.js';
import {
  alice,
  bob,
  carol,
  core,
  freshNonce,
  NOW,
  type TestKey,
  testKey,
} from './protocol-fixtures.js';
import { tempDir } from './storage-fixtures.js';

const mallory = testKey('mallory');
const KEYS = [alice, bob, carol, mallory];

/** What one generated input is, before it is built. */
type Spec =
  | { kind: 'valid' | 'badsig' | 'expired' | 'future'; author: number; payload: number }
  | { kind: 'multisig'; signers: number[]; threshold: number }
  | { kind: 'repeat'; back: number; resign: boolean }
  | { kind: 'reuse-nonce'; back: number }
  | { kind: 'junk'; value: unknown };

const spec: fc.Arbitrary<Spec> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constantFrom('valid', 'badsig', 'expired', 'future'),
      author: fc.nat(3),
      payload: fc.nat(1000),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('multisig' as const),
      signers: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 4 }),
      threshold: fc.integer({ min: 1, max: 3 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('repeat' as const),
      back: fc.nat(20),
      resign: fc.boolean(),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('reuse-nonce' as const), back: fc.nat(20) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('junk' as const),
      value: fc.jsonValue({ maxDepth: 3 }),
    }),
    weight: 1,
  },
);

function sign(body: Parameters<typeof signEvent>[1], keys: TestKey[]): DecodedEvent {
  const r = signEvent(
    core,
    body,
    keys.map((k) => k.seed),
  );
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.value;
}

/** Builds the JSON inputs; `history` holds earlier decoded events to repeat or collide with. */
function build(specs: Spec[], history: DecodedEvent[]): unknown[] {
  return specs.map((s) => {
    const body = (author: TestKey, payload: number) => ({
      v: 1 as const,
      kind: 'note',
      author: author.did,
      createdAt: NOW - 10,
      expiresAt: NOW + 3600,
      nonce: freshNonce(),
      payload: { n: payload },
    });
    let decoded: DecodedEvent;
    switch (s.kind) {
      case 'valid':
      case 'badsig':
      case 'expired':
      case 'future': {
        const b = body(KEYS[s.author]!, s.payload);
        if (s.kind === 'expired') Object.assign(b, { createdAt: NOW - 7200, expiresAt: NOW - 1 });
        if (s.kind === 'future') Object.assign(b, { createdAt: NOW + 3600, expiresAt: NOW + 7200 });
        decoded = sign(b, [KEYS[s.author]!]);
        if (s.kind === 'badsig') {
          const json = eventToJson(decoded.event) as unknown as { signatures: { sig: string }[] };
          const sig = json.signatures[0]!;
          sig.sig = (sig.sig[0] === '0' ? '1' : '0') + sig.sig.slice(1);
          return json;
        }
        break;
      }
      case 'multisig': {
        const author = KEYS[s.signers[0]!]!;
        const policy = makePolicy(
          author.did,
          s.threshold,
          KEYS.slice(0, 3).map((k) => k.did),
        );
        decoded = sign(
          { ...body(author, 0), policy },
          s.signers.map((i) => KEYS[i]!),
        );
        break;
      }
      case 'repeat': {
        const earlier = history[history.length - 1 - (s.back % Math.max(1, history.length))];
        if (earlier === undefined) return 'nothing to repeat';
        if (!s.resign) return eventToJson(earlier.event);
        // same body (same id), signatures made again: still a duplicate
        const { signatures: _drop, ...rest } = earlier.event;
        const signer = KEYS.find((k) => k.did === earlier.event.author)!;
        decoded = sign(rest, [signer]);
        break;
      }
      case 'reuse-nonce': {
        const earlier = history[history.length - 1 - (s.back % Math.max(1, history.length))];
        if (earlier === undefined) return null;
        const signer = KEYS.find((k) => k.did === earlier.event.author)!;
        const { signatures: _drop, ...rest } = earlier.event;
        decoded = sign({ ...rest, payload: { other: true } }, [signer]);
        break;
      }
      case 'junk':
        return s.value;
    }
    history.push(decoded);
    return eventToJson(decoded.event);
  });
}

/** The reference: validateEventJson on each text, one at a time, remembering accepted events. */
function reference(batches: EventTextBatch[], trust: TrustPolicy): string[] {
  const accepted = new Map<string, Uint8Array>();
  const out: string[] = [];
  for (const { bytes, spans } of batches)
    for (let i = 0; i < spans.length; i += 2) {
      const key = (a: string, n: Uint8Array) => `${a}/${Buffer.from(n).toString('hex')}`;
      const v = validateEventJson(
        core,
        bytes,
        {
          now: NOW,
          trust,
          lookupReplay: (a, n) => accepted.get(key(a, n)),
        },
        spans[i],
        spans[i + 1],
      );
      if (!v.ok) out.push(v.reason);
      else {
        out.push(v.outcome);
        if (v.outcome === 'accepted')
          accepted.set(key(v.decoded.event.author, v.decoded.event.nonce), v.id);
      }
    }
  return out;
}

const pools: VerifyPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe.each([0, 2])('pipeline with %i verify threads', (threads) => {
  it('agrees with the reference validator on random batch sequences', async () => {
    const pool = await VerifyPool.create({ threads, minChunk: 2 });
    pools.push(pool);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(spec, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (batchSpecs, allowlist) => {
          const history: DecodedEvent[] = [];
          const batches = batchSpecs.map((b) => batchOfValues(build(b, history)));
          const trust: TrustPolicy = allowlist
            ? { mode: 'allowlist', authors: new Set([alice.did, bob.did, carol.did]) }
            : { mode: 'open' };
          const { dir, cleanup } = tempDir('cs-pipeline-');
          const store = Store.open(dir, core);
          try {
            const pipeline = new Pipeline({ store, pool, trust, now: () => NOW * 1000 });
            const got: string[] = [];
            for (const batch of batches) {
              for (const r of await pipeline.process(batch))
                got.push(r.status === 'rejected' ? r.reason : r.status);
            }
            expect(got).toEqual(reference(batches, trust));
            const accepted = got.filter((g) => g === 'accepted').length;
            expect(store.countEvents()).toBe(accepted);
          } finally {
            store.close();
            cleanup();
          }
        },
      ),
      { numRuns: threads === 0 ? 40 : 15 },
    );
  });
});

describe('pipeline', () => {
  it('accepts an event once across concurrent batches (replay check and commit are atomic)', async () => {
    const pool = await VerifyPool.create({ threads: 2, minChunk: 1 });
    pools.push(pool);
    const { dir, cleanup } = tempDir('cs-pipeline-');
    const store = Store.open(dir, core);
    try {
      const pipeline = new Pipeline({ store, pool, now: () => NOW * 1000 });
      const history: DecodedEvent[] = [];
      const events = build(
        Array.from({ length: 30 }, (_, i) => ({
          kind: 'valid' as const,
          author: i % 4,
          payload: i,
        })),
        history,
      );
      const runs = await Promise.all([
        pipeline.process(batchOfValues(events)),
        pipeline.process(batchOfValues(events)),
        pipeline.process(batchOfValues([...events].reverse())),
      ]);
      const accepted = runs.flat().filter((r) => r.status === 'accepted').length;
      const duplicates = runs.flat().filter((r) => r.status === 'duplicate').length;
      expect(accepted).toBe(30);
      expect(duplicates).toBe(60);
      expect(store.countEvents()).toBe(30);
    } finally {
      store.close();
      cleanup();
    }
  });

  it('records rejections in the audit log in bounded form and acknowledges only committed events', async () => {
    const pool = await VerifyPool.create({ threads: 0 });
    const { dir, cleanup } = tempDir('cs-pipeline-');
    const store = Store.open(dir, core);
    try {
      const pipeline = new Pipeline({ store, pool, now: () => NOW * 1000 });
      const history: DecodedEvent[] = [];
      const inputs = build(
        [
          { kind: 'valid', author: 0, payload: 1 },
          { kind: 'badsig', author: 1, payload: 2 },
          { kind: 'junk', value: 42 },
        ],
        history,
      );
      const results = await pipeline.process(batchOfValues(inputs));
      expect(results.map((r) => r.status)).toEqual(['accepted', 'rejected', 'rejected']);
      // Neither rejection is of a verified event: both are counted, in the (first, so at once) summary.
      expect(store.audit.size).toBe(2);
      expect(store.audit.entry(0)?.type).toBe('accept');
      expect(store.audit.entry(1)?.type).toBe('summary');
      expect(JSON.parse(store.audit.entry(1)?.detail ?? '')).toMatchObject({
        counts: { ERR_BAD_SIGNATURE: 1, ERR_MALFORMED: 1 },
      });
      // A verified event refused by the trust policy is logged one by one.
      const strict = new Pipeline({
        store,
        pool,
        now: () => NOW * 1000,
        trust: { mode: 'allowlist', authors: new Set<string>() },
      });
      const untrusted = await strict.process(
        batchOfValues(build([{ kind: 'valid', author: 3, payload: 4 }], history)),
      );
      expect(untrusted[0]).toMatchObject({ status: 'rejected', reason: 'ERR_UNTRUSTED_AUTHOR' });
      expect(store.audit.entry(2)).toMatchObject({
        type: 'reject',
        reason: 'ERR_UNTRUSTED_AUTHOR',
      });
      // a failing commit acknowledges nothing
      store.close();
      await expect(
        pipeline.process(batchOfValues(build([{ kind: 'valid', author: 2, payload: 3 }], history))),
      ).rejects.toThrow();
    } finally {
      await pool.close();
      cleanup();
    }
  });
});

describe('group commit', () => {
  it('batches in flight at once share commits and get the verdicts of one batch after the other', async () => {
    // inline verification: every batch is prepared before the first commit runs, so they
    // all wait for the same group commit
    const pool = await VerifyPool.create({ threads: 0 });
    pools.push(pool);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(spec, { minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 5 }),
        async (batchSpecs) => {
          const history: DecodedEvent[] = [];
          const batches = batchSpecs.map((b) => batchOfValues(build(b, history)));
          const { dir, cleanup } = tempDir('cs-pipeline-');
          const store = Store.open(dir, core);
          let commits = 0;
          const commit = store.commitUnsynced.bind(store);
          store.commitUnsynced = (...args: Parameters<Store['commitUnsynced']>) => {
            commits++;
            return commit(...args);
          };
          try {
            const pipeline = new Pipeline({ store, pool, now: () => NOW * 1000 });
            const runs = await Promise.all(batches.map((b) => pipeline.process(b)));
            const got = runs.flat().map((r) => (r.status === 'rejected' ? r.reason : r.status));
            expect(got).toEqual(reference(batches, { mode: 'open' }));
            expect(commits).toBeLessThanOrEqual(1);
            // every acknowledged event is stored, in the order of the batches
            const acceptedIds = runs
              .flat()
              .filter((r) => r.status === 'accepted')
              .map((r) => r.id);
            expect(store.countEvents()).toBe(acceptedIds.length);
            acceptedIds.forEach((id, i) => {
              expect(store.getEvent(id as string)?.seq).toBe(i + 1);
            });
          } finally {
            store.close();
            cleanup();
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a failing group commit answers every batch of the group with the error and stores none', async () => {
    const pool = await VerifyPool.create({ threads: 0 });
    pools.push(pool);
    const { dir, cleanup } = tempDir('cs-pipeline-');
    const store = Store.open(dir, core);
    try {
      const pipeline = new Pipeline({ store, pool, now: () => NOW * 1000 });
      const history: DecodedEvent[] = [];
      const make = (n: number) =>
        batchOfValues(
          build(
            Array.from({ length: n }, (_, i) => ({
              kind: 'valid' as const,
              author: i % 4,
              payload: i,
            })),
            history,
          ),
        );
      const commit = store.commitUnsynced.bind(store);
      store.commitUnsynced = () => {
        throw new Error('disk full');
      };
      const failed = await Promise.allSettled([
        pipeline.process(make(3)),
        pipeline.process(make(4)),
      ]);
      expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
      expect(store.countEvents()).toBe(0);
      store.commitUnsynced = commit;
      const ok = await pipeline.process(make(2));
      expect(ok.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      expect(store.countEvents()).toBe(2);
    } finally {
      store.close();
      cleanup();
    }
  });
});
