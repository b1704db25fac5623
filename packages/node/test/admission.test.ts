/**
 * Admission by cost and the per-connection bounds, each shown through real sockets with small
 * limits: per-client shares of bodies, bytes and connections; the minimum body rate; bounded
 * pipelining (a reading client gets every answer in order, one that never reads is paused and
 * then cut); graceful early answers; the Host allow-list.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';

import { clientKey } from '../src/api/admission.js';
import { hostName } from '../src/api/host.js';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../src/api/server.js';
import { batchSize, type EventTextBatch } from '../src/protocol/index.js';
import type { IngestResult, NodeService } from '../src/service.js';
import { call, openSocket, sleep, waitFor } from './socket-fixtures.js';

function service(): NodeService & { calls: number } {
  const s = {
    did: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    calls: 0,
    ingest(batch: EventTextBatch): Promise<IngestResult[]> {
      s.calls++;
      return Promise.resolve(
        Array.from(
          { length: batchSize(batch) },
          () => ({ status: 'rejected', reason: 'ERR_MALFORMED', detail: 'test' }) as const,
        ),
      );
    },
    getEvent: () => undefined,
    checkpoint: () => ({ tree_size: 0, root: '', time: 0, node: '', signature: '' }),
    auditProof: () => undefined,
    consistencyProof: () => ({ from: 0, to: 0, proof: [] }),
    health: () =>
      ({ status: 'ok', did: '', events: 0, audit_size: 0, uptime_s: 0, backend: 'test' }) as const,
    metrics: () => '',
    close: () => Promise.resolve(),
  };
  return s;
}

let server: ApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(opts: Partial<ApiServerOptions> = {}): Promise<{ url: string; port: number }> {
  server = await startApiServer(service(), { port: 0, closeGraceMs: 500, ...opts });
  return { url: server.url, port: Number(new URL(server.url).port) };
}

const postHead = (length: number): string =>
  `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('per-client shares', () => {
  it('a client reading more bodies than its share gets 429 before its body; another client is admitted', async () => {
    const { url, port } = await start({ admission: { maxBodiesPerClient: 2 } });
    const held = await Promise.all([openSocket(port), openSocket(port)]);
    for (const s of held) s.write(`${postHead(100)}[`);
    await sleep(100);
    const third = await openSocket(port);
    third.write(`${postHead(100)}[`);
    await waitFor(() => third.received().includes('\r\n\r\n{'), 5_000);
    expect(third.received()).toMatch(/^HTTP\/1\.1 429 /);
    expect(third.received()).toMatch(/\r\nRetry-After: 1\r\n/i);
    expect(third.received()).toMatch(/\r\nConnection: close\r\n/i);
    await third.gone; // the server closed it, gracefully
    expect(third.errors).toEqual([]);
    const other = await call(url, '/v1/events', { body: '{}', localAddress: '127.0.0.2' });
    expect(other.status).toBe(200);
    for (const s of held) s.destroy();
  });

  it('declared lengths count against the client byte budget before the body is read', async () => {
    const { url, port } = await start({ admission: { maxBufferedBytesPerClient: 1000 } });
    const first = await openSocket(port);
    first.write(`${postHead(800)}[`);
    await sleep(100);
    const second = await call(url, '/v1/events', { body: ' '.repeat(300) });
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.json).toMatchObject({ error: { code: 'ERR_OVERLOADED' } });
    first.destroy();
    await sleep(100);
    expect((await call(url, '/v1/events', { body: `{}${' '.repeat(298)}` })).status).toBe(200);
  });

  it('connections beyond a client share are answered 429 and closed; other clients are served', async () => {
    const { url, port } = await start({ admission: { maxConnectionsPerClient: 2 } });
    const keep = await Promise.all([openSocket(port), openSocket(port)]);
    const extra = await openSocket(port);
    extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await extra.gone;
    expect(extra.received()).toMatch(/^HTTP\/1\.1 429 /);
    expect(extra.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect((await call(url, '/healthz', { localAddress: '127.0.0.2' })).status).toBe(200);
    for (const s of keep) s.destroy();
  });
});

describe('minimum body rate', () => {
  it('cuts a body that trickles in with a 408 the client can read', async () => {
    const { url, port } = await start({
      admission: { bodyRateGraceMs: 200, minBodyBytesPerSecond: 1000 },
    });
    const slow = await openSocket(port);
    slow.write(`${postHead(10_000)}[`);
    for (let i = 0; i < 40 && !slow.received().includes('\r\n\r\n{'); i++) {
      slow.write(' ');
      await sleep(50);
    }
    await slow.gone;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.received()).toContain('"code":"ERR_BODY_TOO_SLOW"');
    expect(slow.errors).toEqual([]);
    // A body at a normal pace is unaffected.
    expect((await call(url, '/v1/events', { body: '{}' })).status).toBe(200);
  });
});

describe('pipelining', () => {
  it('a client that pipelines and reads gets every answer, in order', async () => {
    const { port } = await start({ connections: { maxPipelined: 2 } });
    const s = await openSocket(port);
    const n = 500;
    let text = '';
    for (let i = 0; i < n; i++) text += `GET /nope-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    s.write(text);
    await waitFor(() => (s.received().match(/HTTP\/1\.1 404 /g) ?? []).length === n, 20_000);
    const paths = [...s.received().matchAll(/no route \/nope-(\d+)/g)].map((m) => Number(m[1]));
    expect(paths).toEqual(Array.from({ length: n }, (_, i) => i));
    s.destroy();
  });

  it('a client that pipelines and never reads is paused, then cut; others are served meanwhile', async () => {
    const { url, port } = await start({
      connections: { maxPipelined: 2, maxUnsentBytes: 4096, stallTimeoutMs: 500 },
    });
    const s = await openSocket(port);
    s.pause();
    s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(200_000));
    expect((await call(url, '/healthz', { localAddress: '127.0.0.2' })).status).toBe(200);
    // Once the kernel's buffers are full, no answer moves: the node cuts the connection.
    let cut = false;
    for (let i = 0; i < 100 && !cut; i++) {
      await sleep(200);
      cut = /commons_sync_http_connections_cut_total\{reason="stalled"\} 1/.test(
        (await call(url, '/metrics', { localAddress: '127.0.0.2' })).text,
      );
    }
    expect(cut).toBe(true);
    s.resume(); // the client, reading at last, finds the connection gone
    await Promise.race([s.gone, sleep(10_000)]);
    expect(s.destroyed).toBe(true);
  });

  it('a connection that queues more requests than its bound is cut at once', async () => {
    const { port } = await start({
      connections: { maxPipelined: 1, maxQueuedPerConnection: 8, stallTimeoutMs: 60_000 },
    });
    const s = await openSocket(port);
    s.pause();
    s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(50_000));
    await Promise.race([s.gone, sleep(10_000)]);
    expect(s.destroyed).toBe(true);
  });
});

describe('Host allow-list', () => {
  it('parses Host values: names, ports, IPv6 literals, trailing dots; refuses junk', () => {
    expect(hostName('LocalHost:7700')).toBe('localhost');
    expect(hostName('localhost.')).toBe('localhost');
    expect(hostName('[::1]:7700')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName('[evil.example]')).toBeUndefined();
    expect(hostName('a b')).toBeUndefined();
    expect(hostName('evil.example:80:81')).toBeUndefined();
  });

  it('serves localhost, IP literals and HTTP/1.0 without Host; refuses other names with 421', async () => {
    const { url, port } = await start({ allowedHosts: ['api.example'] });
    for (const host of [
      'localhost',
      `localhost:${port}`,
      `[::1]:${port}`,
      '10.1.2.3',
      `api.example:${port}`,
      'API.EXAMPLE.',
    ]) {
      expect((await call(url, '/healthz', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      'localhost.evil.example',
      'api.example.evil',
    ]) {
      const a = await call(url, '/healthz', { headers: { host } });
      expect(a.status, host).toBe(421);
      expect(a.json, host).toMatchObject({ error: { code: 'ERR_HOST_NOT_ALLOWED' } });
    }
    const old = await openSocket(port);
    old.write('GET /healthz HTTP/1.0\r\n\r\n');
    await old.gone;
    expect(old.received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('a POST refused for its Host is answered before its body, and the connection closes gracefully', async () => {
    const { port } = await start();
    const s = await openSocket(port);
    s.write(postHead(1_000_000).replace('Host: 127.0.0.1', 'Host: evil.example'));
    s.write(Buffer.alloc(200_000, 0x20));
    await s.gone;
    expect(s.received()).toMatch(/^HTTP\/1\.1 421 /);
    expect(s.errors).toEqual([]);
  });
});

describe('client keys', () => {
  it('groups IPv6 addresses by /64 and keeps IPv4 (also IPv4-mapped) as is', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('early answers are readable', () => {
  it('a 413 reaches a client that keeps writing a large body, without a reset', async () => {
    const { port } = await start({ maxBodyBytes: 1024 });
    const s = await openSocket(port);
    s.on('end', () => s.end());
    s.write(postHead(50_000_000));
    for (let i = 0; i < 400 && !s.writableEnded && !s.destroyed; i++) {
      if (!s.write(Buffer.alloc(64 * 1024, 0x20)))
        await Promise.race([new Promise((r) => s.once('drain', r)), sleep(100)]);
    }
    await Promise.race([s.gone, sleep(10_000)]);
    expect(s.errors).toEqual([]);
    expect(s.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(s.received()).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('node:http clients see the 413 of a body they are still sending', async () => {
    const { url } = await start({ maxBodyBytes: 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(new URL('/v1/events', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': 4 * 1024 * 1024 },
        agent: false,
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(4 * 1024 * 1024, 0x20));
    });
    expect(status).toBe(413);
  });
});
