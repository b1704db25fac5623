import { loadCore } from '@commons-sync/bindings';
import { describe, expect, it } from 'vitest';

import { EventFactory } from '../src/ingest/events.js';
import type * as PoolScaling from '../src/ingest/pool-scaling.js';
import { bareThreadsVerifyRate, poolVerifyRate } from '../src/ingest/pool-scaling.js';

const now = Math.floor(Date.now() / 1000);

describe('raw verification rates (pool and bare threads)', () => {
  it('verify valid batches on real threads and refuse to report a rate over a rejected one', async () => {
    const factory = new EventFactory(await loadCore(), 'pool-rates');
    const checks = factory.signatureChecks(0, 1200, now);
    expect(await bareThreadsVerifyRate(2, checks, 1)).toBeGreaterThan(0);
    expect(await poolVerifyRate(1, checks, 1)).toBeGreaterThan(0);
    const last = checks.at(-1);
    if (last === undefined) throw new Error('no checks');
    const signature = Uint8Array.from(last.signature);
    signature[0] = (signature[0] ?? 0) ^ 1;
    const tampered = [...checks.slice(0, -1), { ...last, signature }];
    await expect(bareThreadsVerifyRate(1, tampered, 1)).rejects.toThrow(/bare thread rejected/);
    await expect(poolVerifyRate(1, tampered, 1)).rejects.toThrow(/pool rejected/);
  }, 60_000);
});

describe('a round of the raw measurements in a child process', () => {
  it("gives every rate of the build's child, and refuses a child that cannot measure", async () => {
    // the child is a compiled module: the build's (npm test builds first)
    const compiled = (await import(
      new URL('../dist/ingest/pool-scaling.js', import.meta.url).href
    )) as typeof PoolScaling;
    const r = await compiled.poolRoundInChild(1000, now);
    for (const t of [1, 2]) {
      expect(r.pool.get(t)).toBeGreaterThan(0);
      expect(r.bare.get(t)).toBeGreaterThan(0);
    }
    await expect(compiled.poolRoundInChild(Number.NaN, now)).rejects.toThrow(
      /pool measurement failed/,
    );
  }, 120_000);
});
