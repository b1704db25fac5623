/**
 * Raw batch verification through the node's pool (`VerifyPool`), with no HTTP, parsing or
 * storage: batches of 1,000 signatures packed before the clock starts, all queued at once, so
 * every worker is busy until the end. The ratio of 2 threads to 1 is how far the pool scales.
 *
 * Beside it, the ceiling the machine allows: the same kernel over the same batches on bare
 * worker threads (no pool, no messages while the clock runs). Two threads of the kernel alone
 * do not verify twice what one does here (measured 1.76-1.91x on the 2-core machine: the cores
 * share caches and the host), so the pool's ratio is read against that ceiling.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { PackedSignatureBatch } from '@commons-sync/bindings';
import { packChecks, type protocol, VerifyPool } from '@commons-sync/node';
import { unpackTask } from '@commons-sync/node/dist/pipeline/signature-task.js';

export const POOL_BATCH = 1000;

/**
 * Times each measurement over this many passes over the checks: 12 passes of 8,000 signatures
 * are 96 batches, so the last batch (the one thread still busy at the end) is ~2% of a
 * two-thread run instead of ~6% with 32.
 */
export const POOL_PASSES = 12;

/** Signatures per second verified by a pool of `threads` workers over `checks`, `repeat` times. */
export async function poolVerifyRate(
  threads: number,
  checks: readonly protocol.SignatureCheck[],
  repeat: number,
): Promise<number> {
  const pool = await VerifyPool.create({ threads });
  try {
    // warm every worker (module load, key cache) before timing
    await Promise.all(
      Array.from({ length: threads * 2 }, () =>
        pool.verifyTask(packChecks(checks.slice(0, POOL_BATCH))),
      ),
    );
    const tasks = [];
    for (let r = 0; r < repeat; r++)
      for (let i = 0; i < checks.length; i += POOL_BATCH)
        tasks.push(packChecks(checks.slice(i, i + POOL_BATCH)));
    const signatures = tasks.reduce((n, t) => n + t.count, 0);
    const started = performance.now();
    const verdicts = await Promise.all(tasks.map((t) => pool.verifyTask(t)));
    const seconds = (performance.now() - started) / 1000;
    for (const v of verdicts)
      if (v.includes(0)) throw new Error('the pool rejected a valid signature');
    return signatures / seconds;
  } finally {
    await pool.close();
  }
}

/**
 * A bare thread: loads the core (the backend the pool's workers load), verifies its batches
 * once to warm up, says ready, and on `go` verifies them `repeat` times, answering with the
 * number of signatures it found invalid (0 for the bench's valid checks).
 */
const BARE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.bindings).then(async ({ loadCore }) => {
  const core = await loadCore();
  const verifyAll = () => {
    let invalid = 0;
    for (const b of workerData.batches) {
      const v = core.ed25519VerifyBatchPacked(b);
      for (let i = 0; i < v.length; i++) if (v[i] !== 1) invalid++;
    }
    return invalid;
  };
  verifyAll();
  parentPort.postMessage('ready');
  parentPort.once('message', () => {
    let invalid = 0;
    for (let r = 0; r < workerData.repeat; r++) invalid += verifyAll();
    parentPort.postMessage(invalid);
  });
});
`;

/**
 * Signatures per second of `threads` bare threads, each verifying all of `checks` in batches
 * of {@link POOL_BATCH}, `repeat` times (so `threads` times the work of one, timed from the
 * start signal to the last thread's answer): what the cores allow without the pool.
 */
export async function bareThreadsVerifyRate(
  threads: number,
  checks: readonly protocol.SignatureCheck[],
  repeat: number,
): Promise<number> {
  const batches: PackedSignatureBatch[] = [];
  for (let i = 0; i < checks.length; i += POOL_BATCH)
    batches.push(unpackTask(packChecks(checks.slice(i, i + POOL_BATCH))));
  const bindings = import.meta.resolve('@commons-sync/bindings');
  const workers = Array.from(
    { length: threads },
    () => new Worker(BARE_THREAD, { eval: true, workerData: { bindings, batches, repeat } }),
  );
  const next = (w: Worker) =>
    new Promise<unknown>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  try {
    await Promise.all(workers.map(next));
    const started = performance.now();
    const answers = workers.map(next);
    for (const w of workers) w.postMessage('go');
    const invalid = await Promise.all(answers);
    const seconds = (performance.now() - started) / 1000;
    if (invalid.some((n) => n !== 0)) throw new Error('a bare thread rejected a valid signature');
    return (threads * repeat * checks.length) / seconds;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * One round of {@link poolVerifyRate} and {@link bareThreadsVerifyRate}, 1 then 2 threads, over
 * the first `events` signature checks of the ingest events made at `now`, in a child process
 * (pool-scaling-child.ts says why). Compiled code only: the child is the compiled module.
 */
export function poolRoundInChild(
  events: number,
  now: number,
): Promise<{ pool: Map<number, number>; bare: Map<number, number> }> {
  const child = fileURLToPath(new URL('./pool-scaling-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [child, String(events), String(now)],
      { maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`the pool measurement failed: ${error.message} ${stderr}`));
          return;
        }
        const r = JSON.parse(stdout) as Record<string, number>;
        const get = (k: string) => {
          const v = r[k];
          if (typeof v !== 'number' || !(v > 0))
            throw new Error(`the pool measurement gave no ${k}`);
          return v;
        };
        resolve({
          pool: new Map([
            [1, get('pool1')],
            [2, get('pool2')],
          ]),
          bare: new Map([
            [1, get('bare1')],
            [2, get('bare2')],
          ]),
        });
      },
    );
  });
}
