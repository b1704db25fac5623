import { loadCore } from '@commons-sync/bindings';
import { describe, expect, it } from 'vitest';

import { EventFactory } from '../src/ingest/events.js';
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
