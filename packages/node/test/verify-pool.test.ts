/** The pool's raw batch verification: verdicts in order, on worker threads and inline. */

import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';

import {
  defaultWorkerThreads,
  type SignatureCheck,
  VerifyPool,
} from '../src/pipeline/verify-pool.js';
import { TASKS_PER_THREAD } from '../src/pool/worker-pool.js';
import { nativeCore as core } from './node-fixtures.js';

const pools: VerifyPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function checks(n: number): { checks: SignatureCheck[]; expected: boolean[] } {
  const out: SignatureCheck[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const seed = core.sha256(Uint8Array.of(i % 7, 1));
    const message = core.sha256(Uint8Array.of(i, 2));
    const signature = core.ed25519Sign(seed, message);
    const bad = i % 5 === 3;
    if (bad) signature[40]! ^= 1;
    out.push({ publicKey: core.ed25519PublicKey(seed), message, signature });
    expected.push(!bad);
  }
  return { checks: out, expected };
}

describe.each([0, 1, 2])('VerifyPool with %i threads', (threads) => {
  it('gives one verdict per check, in order, across chunks', async () => {
    const pool = await VerifyPool.create({ threads, minChunk: 8 });
    pools.push(pool);
    for (const n of [0, 1, 7, 64, 301]) {
      const { checks: c, expected } = checks(n);
      expect(await pool.verify(c)).toEqual(expected);
    }
    expect(pool.threads).toBe(threads);
  });
});

describe('dispatch', () => {
  it('hands each worker several tasks at once, so it never waits for the main thread between them', async () => {
    const pool = await VerifyPool.create({ threads: 1, minChunk: 8 });
    pools.push(pool);
    const batches = Array.from({ length: TASKS_PER_THREAD + 2 }, (_, i) => checks(20 + i));
    const runs = batches.map(({ checks: c }) => pool.verify(c));
    // the first TASKS_PER_THREAD are in the worker's own queue; only the rest wait here
    expect(pool.queued).toBe(2);
    const got = await Promise.all(runs);
    expect(got).toEqual(batches.map((b) => b.expected));
    expect(pool.queued).toBe(0);
  });
});

describe('the default worker count', () => {
  it('leaves one core to the committing thread from three cores on, one worker per core below', () => {
    expect([1, 2, 3, 16].map((cores) => defaultWorkerThreads(cores))).toEqual([1, 2, 2, 15]);
  });

  it('is what a pool gets when no count is given', async () => {
    const pool = await VerifyPool.create();
    pools.push(pool);
    expect(pool.threads).toBe(defaultWorkerThreads(availableParallelism()));
    const { checks: some, expected } = checks(40);
    expect(await pool.verify(some)).toEqual(expected);
  });
});
