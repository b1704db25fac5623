/**
 * The HTTP API against an in-memory NodeService: every route, status codes and error bodies,
 * service errors mapped to 429/503/500, graceful close, and TLS (server-only and mutual).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../src/api/server.js';
import { OverloadedError, ShuttingDownError } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import type {
  AuditProofJson,
  CheckpointJson,
  EventTextBatch,
  HealthJson,
  IngestResult,
  NodeService,
} from '../src/service.js';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

/** The JSON texts of a batch, as strings. */
function textsOf(batch: EventTextBatch): string[] {
  const out: string[] = [];
  for (let i = 0; i < batch.spans.length; i += 2) {
    out.push(
      Buffer.from(batch.bytes.subarray(batch.spans[i], batch.spans[i + 1])).toString('utf8'),
    );
  }
  return out;
}

/** Accepts objects with a 64-hex `id`, reports repeats as duplicates, rejects anything else. */
class FakeService implements NodeService {
  readonly did = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
  readonly events = new Map<string, unknown>();
  /** The JSON texts each ingest call received. */
  calls: string[][] = [];
  /** Replaces the default ingest when set. */
  ingestImpl: ((texts: readonly string[]) => Promise<IngestResult[]>) | undefined;
  metricsText =
    '# HELP commons_sync_events_total Events.\n# TYPE commons_sync_events_total counter\ncommons_sync_events_total 7\n';
  failGetEvent: Error | undefined;

  ingest(batch: EventTextBatch): Promise<IngestResult[]> {
    const texts = textsOf(batch);
    this.calls.push(texts);
    if (this.ingestImpl !== undefined) return this.ingestImpl(texts);
    return Promise.resolve(
      texts.map((text): IngestResult => {
        let e: unknown;
        try {
          e = JSON.parse(text); // a fake: the real node reads texts with the protocol's reader
        } catch {
          return { status: 'rejected', reason: 'ERR_MALFORMED', detail: 'not JSON' };
        }
        const id = typeof e === 'object' && e !== null ? (e as { id?: unknown }).id : undefined;
        if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) {
          return { status: 'rejected', reason: 'ERR_MALFORMED', detail: 'no id' };
        }
        if (this.events.has(id)) return { status: 'duplicate', id };
        this.events.set(id, e);
        return { status: 'accepted', id };
      }),
    );
  }

  getEvent(idHex: string): unknown {
    if (this.failGetEvent !== undefined) throw this.failGetEvent;
    return this.events.get(idHex);
  }

  checkpoint(): CheckpointJson {
    return {
      tree_size: this.events.size,
      root: '00'.repeat(32),
      time: 1_700_000_000,
      node: this.did,
      signature: '11'.repeat(64),
    };
  }

  auditProof(idHex: string): AuditProofJson | undefined {
    if (!this.events.has(idHex)) return undefined;
    return {
      event_id: idHex,
      leaf_index: 0,
      tree_size: 1,
      leaf_hash: '22'.repeat(32),
      path: [],
      checkpoint: this.checkpoint(),
    };
  }

  health(): HealthJson {
    return {
      status: 'ok',
      did: this.did,
      events: this.events.size,
      audit_size: this.events.size,
      uptime_s: 1,
      backend: 'fake',
    };
  }

  metrics(): string {
    return this.metricsText;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

function call(
  url: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = body === undefined
    ? {}
    : { 'content-type': 'application/json' },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function errorCodeOf(a: Answer): unknown {
  return (a.json as { error?: { code?: unknown } } | undefined)?.error?.code;
}

let service: FakeService;
let server: ApiServer | undefined;
const logLines: string[] = [];

async function start(opts: Partial<ApiServerOptions> = {}): Promise<string> {
  service = new FakeService();
  logLines.length = 0;
  server = await startApiServer(service, {
    port: 0,
    logger: createLogger({ level: 'debug', sink: { write: (l: string) => logLines.push(l) } }),
    ...opts,
  });
  return server.url;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('routes', () => {
  it('POST /v1/events: an object gets { result }, an array gets { results } in order', async () => {
    const url = await start();
    const one = await call(url, 'POST', '/v1/events', JSON.stringify({ id: ID_A }));
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(one.json).toEqual({ result: { status: 'accepted', id: ID_A } });

    const many = await call(
      url,
      'POST',
      '/v1/events',
      JSON.stringify([{ id: ID_B }, { id: ID_A }, 42]),
    );
    expect(many.status).toBe(200);
    expect(many.json).toEqual({
      results: [
        { status: 'accepted', id: ID_B },
        { status: 'duplicate', id: ID_A },
        { status: 'rejected', reason: 'ERR_MALFORMED', detail: 'no id' },
      ],
    });
    // the service gets each event's JSON text exactly as it was in the body
    expect(service.calls).toEqual([
      [`{"id":"${ID_A}"}`],
      [`{"id":"${ID_B}"}`, `{"id":"${ID_A}"}`, '42'],
    ]);
  });

  it('POST /v1/events accepts a charset=utf-8 parameter; a BOM is refused (spec/PROTOCOL.md §3.5)', async () => {
    const url = await start();
    const headers = { 'content-type': 'application/json; charset=UTF-8' };
    expect(
      (await call(url, 'POST', '/v1/events', JSON.stringify({ id: ID_A }), headers)).status,
    ).toBe(200);
    const bom = await call(
      url,
      'POST',
      '/v1/events',
      `\uFEFF${JSON.stringify({ id: ID_B })}`,
      headers,
    );
    expect(bom.status).toBe(400);
    expect(errorCodeOf(bom)).toBe('ERR_MALFORMED');
    expect(bom.text).toContain('byte-order mark');
  });

  it('GET /v1/events/:id: 200, 404 unknown, 400 not 64 hex; uppercase hex is the same id', async () => {
    const url = await start();
    await call(url, 'POST', '/v1/events', JSON.stringify({ id: ID_A, kind: 'x' }));
    expect((await call(url, 'GET', `/v1/events/${ID_A}`)).json).toEqual({ id: ID_A, kind: 'x' });
    expect((await call(url, 'GET', `/v1/events/${ID_A.toUpperCase()}`)).status).toBe(200);
    const missing = await call(url, 'GET', `/v1/events/${ID_B}`);
    expect(missing.status).toBe(404);
    expect(errorCodeOf(missing)).toBe('ERR_NOT_FOUND');
    for (const bad of ['abc', 'g'.repeat(64), `${ID_A}0`, '', '%20'.repeat(20)]) {
      const a = await call(url, 'GET', `/v1/events/${bad}`);
      expect(a.status, bad).toBe(400);
      expect(errorCodeOf(a)).toBe('ERR_BAD_ID');
    }
  });

  it('GET /v1/audit/checkpoint and /v1/audit/proof/:id', async () => {
    const url = await start();
    await call(url, 'POST', '/v1/events', JSON.stringify({ id: ID_A }));
    const cp = await call(url, 'GET', '/v1/audit/checkpoint');
    expect(cp.status).toBe(200);
    expect(cp.json).toMatchObject({ tree_size: 1, node: service.did });
    const proof = await call(url, 'GET', `/v1/audit/proof/${ID_A}`);
    expect(proof.status).toBe(200);
    expect(proof.json).toMatchObject({ event_id: ID_A, leaf_index: 0 });
    const unknown = await call(url, 'GET', `/v1/audit/proof/${ID_B}`);
    expect(unknown.status).toBe(404);
    expect(errorCodeOf(unknown)).toBe('ERR_NOT_FOUND');
    expect(errorCodeOf(await call(url, 'GET', '/v1/audit/proof/xyz'))).toBe('ERR_BAD_ID');
  });

  it('GET /healthz, and HEAD answers like GET without a body', async () => {
    const url = await start();
    const h = await call(url, 'GET', '/healthz');
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({ status: 'ok', did: service.did, backend: 'fake' });
    const head = await call(url, 'HEAD', '/healthz');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('GET /metrics: the node metrics followed by the server counters, histogram and gauges', async () => {
    const url = await start();
    await call(url, 'POST', '/v1/events', JSON.stringify([{ id: ID_A }, { id: ID_B }]));
    await call(url, 'GET', '/nowhere');
    const m = await call(url, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(m.text.startsWith(service.metricsText)).toBe(true);
    expect(m.text).toContain(
      'commons_sync_http_requests_total{route="/v1/events",method="POST",status="200"} 1',
    );
    expect(m.text).toContain(
      'commons_sync_http_requests_total{route="unmatched",method="GET",status="404"} 1',
    );
    expect(m.text).toContain('# TYPE commons_sync_http_request_duration_seconds histogram');
    expect(m.text).toContain(
      'commons_sync_http_request_duration_seconds_bucket{route="/v1/events",le="+Inf"} 1',
    );
    expect(m.text).toContain(
      'commons_sync_http_request_duration_seconds_count{route="/v1/events"} 1',
    );
    expect(m.text).toMatch(/^commons_sync_http_requests_in_flight 1$/m); // this request
    expect(m.text).toContain('commons_sync_http_events_received_total 2');
    // Every sample line is `name{labels} value` or `name value`.
    for (const line of m.text.trimEnd().split('\n')) {
      if (line.startsWith('#')) continue;
      expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
    }
  });

  it('unknown routes are 404 and wrong methods 405 with Allow, each with a typed body', async () => {
    const url = await start();
    for (const path of [
      '/',
      '/v1',
      '/v1/events/x/y',
      '/v2/events',
      '/healthz/',
      '/v1/audit/proof',
    ]) {
      const a = await call(url, 'GET', path);
      expect(a.status, path).toBe(404);
      expect(errorCodeOf(a)).toBe('ERR_NOT_FOUND');
    }
    const wrong = await call(url, 'GET', '/v1/events');
    expect(wrong.status).toBe(405);
    expect(wrong.headers['allow']).toBe('POST');
    expect(errorCodeOf(wrong)).toBe('ERR_METHOD_NOT_ALLOWED');
    const del = await call(url, 'DELETE', `/v1/events/${ID_A}`);
    expect(del.status).toBe(405);
    expect(del.headers['allow']).toBe('GET, HEAD');
    expect((await call(url, 'PUT', '/healthz', '{}')).status).toBe(405);
    // A query string does not change the route.
    expect((await call(url, 'GET', '/healthz?verbose=1')).status).toBe(200);
  });

  it('400s for bodies that are not a batch: wrong type, not an array or object, empty array, too many', async () => {
    const url = await start({ maxEventsPerRequest: 3 });
    const cases: Array<[string | Buffer, Record<string, string>, string]> = [
      ['{}', { 'content-type': 'text/plain' }, 'ERR_CONTENT_TYPE'],
      ['{}', {}, 'ERR_CONTENT_TYPE'],
      ['{}', { 'content-type': 'application/json; charset=latin1' }, 'ERR_CONTENT_TYPE'],
      // neither an array nor an object: no event can be told apart, the protocol's ERR_MALFORMED
      ['', { 'content-type': 'application/json' }, 'ERR_MALFORMED'],
      ['  \n', { 'content-type': 'application/json' }, 'ERR_MALFORMED'],
      [
        Buffer.from([0x22, 0xff, 0xfe, 0x22]),
        { 'content-type': 'application/json' },
        'ERR_MALFORMED',
      ],
      ['\ufeff[{}]', { 'content-type': 'application/json' }, 'ERR_MALFORMED'],
      ['42', { 'content-type': 'application/json' }, 'ERR_MALFORMED'],
      ['null', { 'content-type': 'application/json' }, 'ERR_MALFORMED'],
      ['"event"', { 'content-type': 'application/json' }, 'ERR_MALFORMED'],
      ['[]', { 'content-type': 'application/json' }, 'ERR_EMPTY_BATCH'],
      [' [ \r\n\t ] ', { 'content-type': 'application/json' }, 'ERR_EMPTY_BATCH'],
      ['[{},{},{},{}]', { 'content-type': 'application/json' }, 'ERR_TOO_MANY_EVENTS'],
    ];
    for (const [body, headers, code] of cases) {
      const a = await call(url, 'POST', '/v1/events', body, headers);
      expect(a.status, code).toBe(400);
      expect(errorCodeOf(a), String(body)).toBe(code);
      expect(typeof (a.json as { error: { message: unknown } }).error.message).toBe('string');
    }
    expect(service.calls).toEqual([]);
    expect((await call(url, 'POST', '/v1/events', '[{},{},{}]')).status).toBe(200);
  });

  it('gives broken JSON a verdict per event, never a whole-body 400 (§3.5)', async () => {
    const url = await start();
    const single = await call(url, 'POST', '/v1/events', `{"id":`);
    expect(single.status).toBe(200);
    expect(single.json).toEqual({
      result: { status: 'rejected', reason: 'ERR_MALFORMED', detail: 'not JSON' },
    });
    // a repeated member name, bad UTF-8 and garbage stay inside their own element
    const body = Buffer.concat([
      Buffer.from(`[{"id":"${ID_A}"},{"kind":"a","v":1,"kind":"b"},"`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`",garbage,,{"id":"${ID_B}"}]`),
    ]);
    const many = await call(url, 'POST', '/v1/events', body);
    expect(many.status).toBe(200);
    expect(service.calls.at(-1)).toEqual([
      `{"id":"${ID_A}"}`,
      '{"kind":"a","v":1,"kind":"b"}',
      '"\ufffd\ufffd"',
      'garbage',
      '',
      `{"id":"${ID_B}"}`,
    ]);
    expect((many.json as { results: IngestResult[] }).results.map((r) => r.status)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'accepted',
    ]);
  });
});

describe('service errors', () => {
  it('ingest rejecting with ERR_OVERLOADED is 429 with Retry-After; ERR_SHUTTING_DOWN is 503', async () => {
    const url = await start();
    service.ingestImpl = () => Promise.reject(new OverloadedError('busy'));
    const busy = await call(url, 'POST', '/v1/events', '{}');
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('1');
    expect(errorCodeOf(busy)).toBe('ERR_OVERLOADED');

    service.ingestImpl = () => Promise.reject(new ShuttingDownError('bye'));
    const stopping = await call(url, 'POST', '/v1/events', '{}');
    expect(stopping.status).toBe(503);
    expect(errorCodeOf(stopping)).toBe('ERR_SHUTTING_DOWN');
    expect(stopping.headers['retry-after']).toBeDefined();

    // matched by class, not by a string: an error that only carries the code is a 500
    service.ingestImpl = () =>
      Promise.reject(Object.assign(new Error('look-alike'), { code: OverloadedError.code }));
    const lookAlike = await call(url, 'POST', '/v1/events', '{}');
    expect(lookAlike.status).toBe(500);
    expect(errorCodeOf(lookAlike)).toBe('ERR_INTERNAL');
  });

  it('an unexpected failure is a 500 with ERR_INTERNAL that leaks nothing, and is logged', async () => {
    const url = await start();
    service.ingestImpl = () => Promise.reject(new Error('secret database path /var/x'));
    const a = await call(url, 'POST', '/v1/events', '{}');
    expect(a.status).toBe(500);
    expect(errorCodeOf(a)).toBe('ERR_INTERNAL');
    expect(a.text).not.toContain('secret');
    expect(logLines.some((l) => l.includes('secret database path'))).toBe(true);

    service.failGetEvent = new Error('boom');
    expect(errorCodeOf(await call(url, 'GET', `/v1/events/${ID_A}`))).toBe('ERR_INTERNAL');
    service.ingestImpl = () => Promise.resolve([]); // wrong number of results
    expect((await call(url, 'POST', '/v1/events', '{}')).status).toBe(500);
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
  });

  it('log lines are JSON with time, level and msg', async () => {
    await start();
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      expect(typeof rec['time']).toBe('string');
      expect(['debug', 'info', 'warn', 'error']).toContain(rec['level']);
      expect(typeof rec['msg']).toBe('string');
    }
  });
});

describe('close', () => {
  it('finishes a request in progress, answers 503 to requests arriving meanwhile, then resolves', async () => {
    const url = await start();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    service.ingestImpl = async (events) => {
      await gate;
      return events.map(() => ({ status: 'accepted', id: ID_A }) as const);
    };
    const slow = call(url, 'POST', '/v1/events', '{}');
    while (service.calls.length === 0) await new Promise((r) => setTimeout(r, 5));

    // A connection whose request has begun (headers not finished) when close() is called.
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 50));

    const closing = server!.close();
    expect(server!.close()).toBe(closing); // idempotent
    const raw = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
      socket.on('close', () => resolve(text));
    });
    socket.write('\r\n');
    const answer = await raw;
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toContain('"code":"ERR_SHUTTING_DOWN"');
    expect(answer.toLowerCase()).toContain('connection: close');

    release();
    expect((await slow).status).toBe(200);
    await closing;
    server = undefined;
    await expect(call(url, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('cuts requests still running after the grace period', async () => {
    const url = await start({ closeGraceMs: 200 });
    service.ingestImpl = () => new Promise(() => undefined); // never settles
    const stuck = call(url, 'POST', '/v1/events', '{}');
    while (service.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    await server!.close();
    server = undefined;
    expect(Date.now() - t0).toBeLessThan(5_000);
    await expect(stuck).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('reports a port in use as ERR_LISTEN', async () => {
    const url = await start();
    await expect(
      startApiServer(new FakeService(), { port: Number(new URL(url).port) }),
    ).rejects.toMatchObject({
      code: 'ERR_LISTEN',
    });
  });
});

describe('TLS', () => {
  let dir: string;
  const pem: Record<string, Buffer> = {};

  function selfSigned(name: string): void {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ed25519',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, `${name}.key`),
        '-out',
        join(dir, `${name}.crt`),
        '-subj',
        `/CN=${name}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
    pem[`${name}.key`] = readFileSync(join(dir, `${name}.key`));
    pem[`${name}.crt`] = readFileSync(join(dir, `${name}.crt`));
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-api-tls-'));
    selfSigned('server');
    selfSigned('client');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function get(
    url: string,
    path: string,
    client: { key?: Buffer; cert?: Buffer } = {},
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        new URL(path, url),
        { method: 'GET', ca: pem['server.crt'], agent: false, ...client },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('serves https with a given key and certificate', async () => {
    const url = await start({ tls: { key: pem['server.key']!, cert: pem['server.crt']! } });
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const a = await get(url, '/healthz');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({ status: 'ok' });
    // A plain-http client gets nothing useful from a TLS port.
    await expect(call(url.replace('https:', 'http:'), 'GET', '/healthz')).rejects.toThrow();
  });

  it('mutual TLS: a client without a certificate is refused, one with a trusted certificate served', async () => {
    const url = await start({
      tls: {
        key: pem['server.key']!,
        cert: pem['server.crt']!,
        ca: pem['client.crt']!,
        requestClientCert: true,
      },
    });
    await expect(get(url, '/healthz')).rejects.toThrow();
    // A certificate the server does not trust is refused too.
    await expect(
      get(url, '/healthz', { key: pem['server.key']!, cert: pem['server.crt']! }),
    ).rejects.toThrow();
    const ok = await get(url, '/healthz', { key: pem['client.key']!, cert: pem['client.crt']! });
    expect(ok.status).toBe(200);
  });
});
