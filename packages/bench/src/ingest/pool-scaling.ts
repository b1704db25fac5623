/**
 * Raw batch verification through the node's pool (`VerifyPool`), with no HTTP, parsing or
 * storage: batches of 1,000 signatures packed before the clock starts, all queued at once, so
 * every worker is busy until the end. The ratio of 2 threads to 1 is how far the pool scales.
 */
import { packChecks, type protocol, VerifyPool } from '@commons-sync/node';

export const POOL_BATCH = 1000;

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
