/**
 * One measured stretch of ingest: batches POSTed to a running node, timed, with the CPU its
 * threads and this load generator spent on them.
 */
import { defaultWorkerThreads } from '@commons-sync/node';

import { postAll } from './client.js';
import type { EventBatch } from './events.js';
import type { NodeProcess } from './node-process.js';

export interface Measured {
  readonly eventsPerSec: number;
  readonly seconds: number;
  /** CPU µs per event: the node's main thread, and the rest of its threads. */
  readonly mainCpuUs: number;
  readonly otherCpuUs: number;
  /**
   * CPU µs per event of the `workers` busiest threads other than the main one: the worker
   * threads (parse, encode, id, verify, policy, results), unless a V8 helper outworked one.
   */
  readonly workerCpuUs: number;
  /** CPU µs per event of this process while it posted them: the load generator. */
  readonly clientCpuUs: number;
}

/**
 * CPU seconds per thread between two readings (a thread that started between them counts from
 * zero; one that ended is not counted).
 */
function used(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): Map<number, number> {
  return new Map([...after].map(([tid, s]) => [tid, s - (before.get(tid) ?? 0)]));
}

/**
 * POSTs `batches` to `node` (every event must be accepted) and measures it; `workers` undefined
 * = the node's default count.
 */
export async function measurePosts(
  node: NodeProcess,
  batches: readonly EventBatch[],
  workers: number | undefined,
): Promise<Measured> {
  const before = node.threadCpu();
  const client = process.cpuUsage();
  const seconds = await postAll(node.url, batches);
  const clientUs = process.cpuUsage(client);
  const threads = used(before, node.threadCpu());
  const main = threads.get(node.pid) ?? 0;
  threads.delete(node.pid);
  const others = [...threads.values()].sort((a, b) => b - a);
  const sum = (xs: readonly number[]) => xs.reduce((t, s) => t + s, 0);
  const events = batches.reduce((n, b) => n + b.count, 0);
  const perEvent = (s: number) => (s * 1e6) / events;
  return {
    eventsPerSec: events / seconds,
    seconds,
    mainCpuUs: perEvent(main),
    otherCpuUs: perEvent(sum(others)),
    // the busiest threads beside the main one, as many as the node has workers
    workerCpuUs: perEvent(sum(others.slice(0, workers ?? defaultWorkerThreads()))),
    clientCpuUs: (clientUs.user + clientUs.system) / events,
  };
}
