/**
 * The worker stage alone, in this process: CPU per event of what a worker thread does for a
 * chunk of events (read the JSON, encode, id, time, policy, trust), with signature verification
 * measured apart and taken out, and the cost of the results crossing back to the main thread.
 *
 * It runs the node's own code on one thread (`VerifyPool` with no worker threads runs the
 * worker's `prepare` inline) over the bench's request bodies, split as the HTTP route splits
 * them, repeated until the JIT has settled (a discarded warm-up pass first); then the same
 * chunks through a pool of one worker thread, for what the round trip costs the main thread.
 * CPU time is this thread's own (from /proc/thread-self), so other processes on a shared machine lengthen the
 * run but do not add to the figure.
 */
import { protocol, VerifyPool } from '@commons-sync/node';

import { statCpuSeconds } from '../proc-cpu.js';
import type { EventBatch } from './events.js';

export interface WorkerStage {
  /** CPU µs per event: the whole worker task (read, encode, id, verify, policy, trust). */
  readonly prepareUs: number;
  /** CPU µs per event of verifying its signature alone (one packed batch per chunk). */
  readonly verifyUs: number;
  /** `prepareUs − verifyUs`: the worker's CPU per event besides verification. */
  readonly stageUs: number;
  /**
   * CPU µs per event that handing a chunk to a worker thread costs the main thread: copying
   * the texts in, receiving and unpacking the results (a pool of one thread; the worker's own
   * work is not on this thread).
   */
  readonly mainSideUs: number;
  readonly events: number;
}

/** CPU seconds of the calling thread (utime + stime). */
const threadCpuSeconds = (): number => statCpuSeconds('/proc/thread-self/stat');

/** Runs `pass` (over `perPass` events) until `seconds` of this thread's CPU; µs per event. */
async function cpuPerEvent(
  perPass: number,
  seconds: number,
  pass: () => Promise<void>,
): Promise<number> {
  await pass(); // warm-up, discarded
  const start = threadCpuSeconds();
  let events = 0;
  let used = 0;
  do {
    await pass();
    events += perPass;
    used = threadCpuSeconds() - start;
  } while (used < seconds);
  return (used * 1e6) / events;
}

export async function measureWorkerStage(
  batches: readonly EventBatch[],
  signatureChecks: readonly protocol.SignatureCheck[],
  now: number,
  seconds: number,
): Promise<WorkerStage> {
  const pool = await VerifyPool.create({ threads: 0 });
  try {
    const split = batches.map((b) => {
      const s = protocol.splitEventBody(b.body, b.count);
      if (!s.ok) throw new Error(`a bench body did not split: ${s.detail}`);
      return s.batch;
    });
    const events = batches.reduce((n, b) => n + b.count, 0);
    const ctx = { now, timeRules: protocol.DEFAULT_TIME_RULES, trust: protocol.OPEN_TRUST };
    const prepareUs = await cpuPerEvent(events, seconds, async () => {
      for (const batch of split) {
        const chunk = await pool.prepare(batch, ctx);
        for (const e of chunk.events)
          if (!e.ok || e.late !== undefined) throw new Error('the node refused a bench event');
      }
    });
    // one packed batch per chunk, as the worker verifies them
    const checkBatches: protocol.SignatureCheck[][] = [];
    for (let i = 0; i < signatureChecks.length; i += 1000)
      checkBatches.push(signatureChecks.slice(i, i + 1000));
    const verifyUs = await cpuPerEvent(signatureChecks.length, seconds, async () => {
      for (const checks of checkBatches) {
        const verdicts = await pool.verify(checks);
        if (verdicts.includes(false)) throw new Error('the pool rejected a bench signature');
      }
    });
    const threaded = await VerifyPool.create({ threads: 1 });
    let mainSideUs: number;
    try {
      mainSideUs = await cpuPerEvent(events, seconds, async () => {
        for (const batch of split) {
          const chunk = await threaded.prepare(batch, ctx);
          if (chunk.events.length !== batch.spans.length / 2) throw new Error('a chunk was lost');
        }
      });
    } finally {
      await threaded.close();
    }
    return { prepareUs, verifyUs, stageUs: prepareUs - verifyUs, mainSideUs, events };
  } finally {
    await pool.close();
  }
}
