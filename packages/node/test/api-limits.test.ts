/**
 * The API's limits hold against hostile or broken clients: oversized bodies are cut early
 * (413) without being buffered, admission is bounded (429), slow clients time out (408),
 * unparseable requests and arbitrary bodies never crash the server, and it keeps serving.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../src/api/server.js';
import type { EventTextBatch, IngestResult, NodeService } from '../src/service.js';

/** Just enough NodeService: ingest is pluggable, everything else is trivial. */
function fakeService(): NodeService & {
  calls: number;
  ingestImpl: ((events: readonly unknown[]) => Promise<IngestResult[]>) | undefined;
} {
  // the fake sees one entry per event text of the batch
  const entries = (batch: EventTextBatch): unknown[] =>
    Array.from({ length: batch.spans.length / 2 });
  const service = {
    did: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    calls: 0,
    ingestImpl: undefined as ((events: readonly unknown[]) => Promise<IngestResult[]>) | undefined,
    ingest(batch: EventTextBatch): Promise<IngestResult[]> {
      const events = entries(batch);
      service.calls++;
      if (service.ingestImpl !== undefined) return service.ingestImpl(events);
      return Promise.resolve(
        events.map(
          () => ({ status: 'rejected', reason: 'ERR_MALFORMED', detail: 'fake' }) as const,
        ),
      );
    },
    getEvent: () => undefined,
    checkpoint: () => ({ tree_size: 0, root: '', time: 0, node: '', signature: '' }),
    auditProof: () => undefined,
    health: () =>
      ({ status: 'ok', did: '', events: 0, audit_size: 0, uptime_s: 0, backend: 'fake' }) as const,
    metrics: () => '',
    close: () => Promise.resolve(),
  };
  return service;
}

let server: ApiServer | undefined;
let service: ReturnType<typeof fakeService>;

async function start(opts: Partial<ApiServerOptions> = {}): Promise<{ url: string; port: number }> {
  service = fakeService();
  server = await startApiServer(service, { port: 0, ...opts });
  return { url: server.url, port: Number(new URL(server.url).port) };
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(url: string, body: string | Buffer, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL('/v1/events', url),
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: agent ?? false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function healthy(url: string): Promise<boolean> {
  const res = await fetch(new URL('/healthz', url));
  await res.arrayBuffer();
  return res.status === 200;
}

/** Opens a socket, writes `text`, and resolves with everything read until the server closes. */
async function raw(
  port: number,
  text: string,
  waitMs = 10_000,
): Promise<{ answer: string; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const answer = new Promise<string>((resolve) => {
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`${got}<still open after ${waitMs} ms>`);
    }, waitMs);
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
  socket.write(text);
  return { answer: await answer, socket };
}

describe('413: bodies over the limit', () => {
  it('is answered from Content-Length alone, before the body is sent', async () => {
    const { port, url } = await start({ maxBodyBytes: 1024 });
    const t0 = Date.now();
    const { answer } = await raw(
      port,
      'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n[{"a":',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"ERR_BODY_TOO_LARGE"');
    expect(Date.now() - t0).toBeLessThan(5_000); // the server cut the connection, it did not wait for 1 GiB
    expect(service.calls).toBe(0);
    expect(await healthy(url)).toBe(true);
  });

  it('stops a streamed (chunked) body soon after the limit and answers while the client still sends', async () => {
    const limit = 256 * 1024;
    const { url } = await start({ maxBodyBytes: limit });
    const chunk = Buffer.alloc(64 * 1024, 0x20); // whitespace: valid JSON padding
    let written = 0;
    let writtenAtResponse = -1;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(new URL('/v1/events', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        agent: false,
      });
      let stopped = false;
      req.on('response', (res) => {
        writtenAtResponse = written;
        stopped = true;
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (e) => (stopped ? undefined : reject(e)));
      const pump = (): void => {
        // Bounded: 64 MiB at most, far beyond what the server may take.
        while (!stopped && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!stopped) req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(writtenAtResponse).toBeGreaterThan(limit);
    // The answer came long before the client was done (socket buffers allow a few MiB).
    expect(writtenAtResponse).toBeLessThan(32 * 1024 * 1024);
    expect(service.calls).toBe(0);
    expect(await healthy(url)).toBe(true);
  });

  it('Expect: 100-continue: a body over the limit is refused before it is invited', async () => {
    const { port } = await start({ maxBodyBytes: 1024 });
    const { answer } = await raw(
      port,
      'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).not.toContain('100 Continue');

    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.write(
      'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    for (let i = 0; i < 200 && !got.includes('100 Continue'); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(got).toMatch(/^HTTP\/1\.1 100 Continue/);
    socket.write('{}');
    await new Promise<void>((r) => socket.once('close', () => r()));
    expect(got).toMatch(/HTTP\/1\.1 200 OK/);
  });

  it('accepts a body exactly at the limit', async () => {
    const body = JSON.stringify([{ pad: '' }]);
    const { url } = await start({ maxBodyBytes: body.length + 10 });
    const padded = JSON.stringify([{ pad: 'x'.repeat(10) }]);
    expect(Buffer.byteLength(padded)).toBe(body.length + 10);
    expect((await post(url, padded)).status).toBe(200);
    expect((await post(url, `${padded} `)).status).toBe(413);
  });
});

describe('429: admission', () => {
  it('refuses a request while maxInFlight requests are being ingested, with Retry-After', async () => {
    const { url } = await start({ maxInFlight: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    service.ingestImpl = async (events) => {
      await gate;
      return events.map(() => ({ status: 'duplicate', id: '0'.repeat(64) }) as const);
    };
    const first = post(url, '{}');
    while (service.calls === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await post(url, '{}');
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    expect(JSON.parse(second.body)).toMatchObject({ error: { code: 'ERR_OVERLOADED' } });
    // GETs are not ingest requests and are still served.
    expect(await healthy(url)).toBe(true);
    release();
    expect((await first).status).toBe(200);
    expect((await post(url, '{}')).status).toBe(200);
  });

  it('does not count a request whose body is still arriving (a slow sender holds no ingest slot)', async () => {
    const { url, port } = await start({ maxInFlight: 1 });
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n[',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect((await post(url, '{}')).status).toBe(200);
    expect(service.calls).toBe(1);
    socket.destroy();
  });
});

describe('timeouts and unparseable requests', () => {
  it('a client that never finishes its headers gets a 408 and is disconnected', async () => {
    const { port, url } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const t0 = Date.now();
    const { answer } = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"ERR_REQUEST_TIMEOUT"');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await healthy(url)).toBe(true);
  });

  it('a client that never finishes its body gets a 408 and is disconnected', async () => {
    const { port, url } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const { answer } = await raw(
      port,
      'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(service.calls).toBe(0);
    expect(await healthy(url)).toBe(true);
  });

  it('garbage instead of HTTP gets a typed 400; oversized headers a 431', async () => {
    const { port, url } = await start();
    const garbage = await raw(port, 'HELLO THERE\r\n\r\n');
    expect(garbage.answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage.answer).toContain('"code":"ERR_BAD_REQUEST"');
    const big = await raw(
      port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`,
    );
    expect(big.answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(big.answer).toContain('"code":"ERR_HEADERS_TOO_LARGE"');
    const absolute = await raw(
      port,
      'GET * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    expect(absolute.answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await healthy(url)).toBe(true);
  });
});

describe('any body', () => {
  /**
   * spec/PROTOCOL.md §3.5: a body whose first non-whitespace byte is `{` is one event and one
   * `[` a batch, each answered 200 with per-event verdicts; an empty array, or anything else
   * (a scalar, garbage, a byte-order mark), is refused whole with a 400.
   */
  const expectations = (body: Buffer, status: number): void => {
    const text = body.toString('latin1');
    const batch = /^[ \t\n\r]*[[{]/.test(text) && !/^[ \t\n\r]*\[[ \t\n\r]*\]/.test(text);
    expect(status).toBe(batch ? 200 : 400);
  };

  it('is answered 200 or 400, never 500 or a crash (property)', async () => {
    const { url } = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat(), fc.nat({ max: 3 })).map(([v, at, cut]) => {
        const t = JSON.stringify([v]) ?? '[]';
        const i = at % (t.length + 1);
        return Buffer.from(t.slice(0, i) + t.slice(i + cut)); // truncated or spliced JSON
      }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          const a = await post(url, body, agent);
          expectations(body, a.status);
          expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
        }),
        { numRuns: 300 },
      );
    } finally {
      agent.destroy();
    }
    expect(await healthy(url)).toBe(true);
  });

  it('survives nasty inputs: deep nesting, huge numbers, lone surrogates, __proto__, NUL', async () => {
    const { url } = await start();
    const nasty = [
      '['.repeat(200_000),
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`,
      '[1e999999]',
      '["\\ud800"]',
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}',
      '[\u0000]',
      '\u0000',
      `[${'1,'.repeat(100_000)}1]`,
    ];
    for (const body of nasty) {
      const a = await post(url, body);
      expect([200, 400], body.slice(0, 30)).toContain(a.status);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(await healthy(url)).toBe(true);
  });
});
