/**
 * Clients for the attack tests: plain HTTP requests from a chosen loopback source address
 * (Linux routes all of 127.0.0.0/8 to the loopback interface, so 127.0.0.2 is "another
 * client" to the node), raw sockets, and the memory of a process read from /proc.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface CallOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Source address of the connection (default: the kernel's choice, 127.0.0.1). */
  readonly localAddress?: string;
  /** A hang detector, not a timing assertion: the call fails after this long. */
  readonly deadlineMs?: number;
}

export interface CallAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: unknown;
  /** Milliseconds from sending to the end of the answer (reported, never asserted). */
  readonly ms: number;
}

export function call(base: string, path: string, opts: CallOptions = {}): Promise<CallAnswer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined && headers['content-type'] === undefined)
      headers['content-type'] = 'application/json';
    const req = httpRequest(
      new URL(path, base),
      {
        method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
        headers,
        agent: false,
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json,
            ms: performance.now() - t0,
          });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(
        new Error(
          `${opts.method ?? 'GET'} ${path}: no answer within ${opts.deadlineMs ?? 10_000} ms`,
        ),
      );
    }, opts.deadlineMs ?? 10_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(opts.body);
  });
}

/** A connected raw socket from `localAddress`; errors are recorded, never thrown. */
export async function openSocket(
  port: number,
  localAddress = '127.0.0.1',
): Promise<Socket & { received: () => string; errors: Error[]; gone: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  const errors: Error[] = [];
  let got = '';
  socket.on('data', (c: Buffer) => {
    if (got.length < 1 << 20) got += c.toString('latin1');
  });
  socket.on('error', (e) => errors.push(e));
  const gone = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return Object.assign(socket, { received: () => got, errors, gone });
}

/** Resident set size now and at its peak (VmRSS, VmHWM), in MiB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 20 ms until it is true or `ms` passed; returns its last value. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}
