/**
 * One round of the raw verification measurements (pool.ts's pool and bare threads, 1 then 2
 * threads) in a process of its own, so that the bench's process, which by then holds every
 * run's events and collects its garbage on helper threads, does not share the cores with them
 * (measured on the 2-core machine: the pool on 2 threads verified ~400k signatures/s inside the
 * bench's process after the ingest rounds, ~427k in a fresh one).
 *
 * argv: the number of signatures, the clock (Unix seconds) the events are made at. Prints one
 * JSON object: signatures/s by measurement (`pool1`, `bare1`, `pool2`, `bare2`).
 */
import { loadCore } from '@commons-sync/bindings';

import { EventFactory } from './events.js';
import { bareThreadsVerifyRate, POOL_PASSES, poolVerifyRate } from './pool-scaling.js';

const [events, now] = process.argv.slice(2).map(Number);
if (!Number.isSafeInteger(events) || !Number.isSafeInteger(now)) {
  process.stderr.write('usage: pool-scaling-child <signatures> <unix seconds>\n');
  process.exit(2);
}
const checks = new EventFactory(await loadCore(), 'ingest').signatureChecks(
  0,
  events as number,
  now as number,
);
const out: Record<string, number> = {};
for (const t of [1, 2]) {
  out[`pool${t}`] = await poolVerifyRate(t, checks, POOL_PASSES);
  out[`bare${t}`] = await bareThreadsVerifyRate(t, checks, POOL_PASSES);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
