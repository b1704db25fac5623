/** The bench's HTTP client: batches POSTed with a few in flight, and GET latencies. */
import { Agent, request } from 'node:http';

import type { EventBatch } from './events.js';

/** Requests in flight: the parsing of one batch overlaps the commit of another. */
export const CONCURRENCY = 4;

function post(url: string, batch: EventBatch, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/events`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': batch.body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200)
              throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
            const { results } = JSON.parse(text) as {
              results: { status: string; reason?: string }[];
            };
            const accepted = results.filter((r) => r.status === 'accepted').length;
            if (accepted !== batch.count) {
              const bad = results.find((r) => r.status !== 'accepted');
              throw new Error(`only ${accepted}/${batch.count} accepted (${JSON.stringify(bad)})`);
            }
            resolve();
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(batch.body);
  });
}

/**
 * Seconds from the first request to the last durable acknowledgement of every batch.
 *
 * node:http on kept-alive sockets, one per request in flight. The load generator shares the
 * machine with the node, so its CPU counts: `fetch` (undici) spent 4.4-4.6 µs per event of a
 * 1,000-event batch here, node:http 0.9-1.1 (the same requests, bodies and answers). The sockets
 * are this call's own and closed at its end: a socket kept idle longer than the node's
 * keep-alive timeout (5 s) would be closed by the node while a later request goes out on it
 * ("socket hang up"), as happens to a node that waits while another is measured.
 */
export async function postAll(url: string, batches: readonly EventBatch[]): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  try {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < batches.length) await post(url, batches[next++] as EventBatch, agent);
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    agent.destroy();
  }
}

export interface Latency {
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function quantileOf(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** One GET after the other (no concurrency: the latency of a request alone); each must be 200. */
export async function latencies(url: string, paths: readonly string[]): Promise<Latency> {
  const times: number[] = [];
  for (const path of paths) {
    const t = performance.now();
    const res = await fetch(`${url}${path}`);
    await res.arrayBuffer();
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
  }
  times.sort((a, b) => a - b);
  return {
    requests: times.length,
    p50Ms: quantileOf(times, 0.5),
    p99Ms: quantileOf(times, 0.99),
    maxMs: times[times.length - 1] ?? 0,
  };
}

/** The node's stage counters from /metrics (commons_sync_stage_seconds_total), in seconds. */
export async function stageSeconds(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(
    /^commons_sync_stage_seconds_total\{stage="(\w+)"\} ([\d.e+-]+)$/gm,
  ))
    out[m[1] as string] = Number(m[2]);
  return out;
}
