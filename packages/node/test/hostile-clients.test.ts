/**
 * The attacks of issue 7, each against a node started through the CLI (`commons-sync start`)
 * and driven through real sockets: slow uploads, pipelined requests never read, early answers
 * to a client still sending, junk floods against the audit log, DNS rebinding, weak TLS.
 * During each attack another client (another loopback address) keeps being served.
 *
 * Latencies are printed for the report, never asserted (the machine is shared); the deadlines
 * below only turn a hang into a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AUDIT_RULES } from '../src/audit/index.js';
import { didKeyFromPublicKey, eventToJson, signEvent } from '../src/protocol/index.js';
import {
  makeEvents,
  nativeCore,
  type RunningNode,
  runCli,
  startNodeProcess,
} from './node-fixtures.js';
import { call, memoryOf, openSocket, sleep, waitFor } from './socket-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'cs-hostile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
async function freshNode(
  extra: string[] = [],
): Promise<RunningNode & { port: number; stop: () => Promise<void> }> {
  const data = join(root, `data-${dirs++}`);
  const init = await runCli(['init', '--data', data]);
  expect(init.code, init.stderr).toBe(0);
  const node = await startNodeProcess(data, extra);
  const stop = async (): Promise<void> => {
    node.child.kill('SIGTERM');
    await node.exited;
  };
  return { ...node, port: Number(new URL(node.url).port), stop };
}

const HONEST = '127.0.0.2';
const WATCHER = '127.0.0.3';

async function healthFrom(url: string, address = WATCHER): Promise<{ status: number; ms: number }> {
  const a = await call(url, '/healthz', { localAddress: address, deadlineMs: 5_000 });
  return { status: a.status, ms: Math.round(a.ms) };
}

describe('slow uploads', () => {
  it('32 connections trickling bodies do not lock other clients out of ingest', async () => {
    const node = await freshNode();
    try {
      const head =
        'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[';
      const slow = await Promise.all(Array.from({ length: 32 }, () => openSocket(node.port)));
      for (const s of slow) s.write(head);
      let trickling = true;
      const trickle = (async () => {
        for (let i = 0; trickling && i < 100; i++) {
          for (const s of slow) if (!s.destroyed) s.write(' ');
          await sleep(300);
        }
      })();
      await sleep(500);
      const [event] = makeEvents(1, 1, 'slow-uploads');
      const answer = await call(node.url, '/v1/events', {
        body: JSON.stringify(event),
        localAddress: HONEST,
        deadlineMs: 5_000,
      });
      const health = await healthFrom(node.url);
      trickling = false;
      await trickle;
      console.log(
        `slow uploads: honest POST answered ${answer.status} in ${Math.round(answer.ms)} ms; /healthz ${health.ms} ms`,
      );
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json).toMatchObject({ result: { status: 'accepted' } });
      expect(health.status).toBe(200);
      // The attacker's own address is held to its share: some of its 32 bodies were refused.
      const refused = slow.filter((s) => /^HTTP\/1\.1 429 /.test(s.received()));
      expect(refused.length).toBeGreaterThan(0);
      for (const s of refused) expect(s.received()).toMatch(/\r\nRetry-After: \d+\r\n/i);
      for (const s of slow) s.destroy();
    } finally {
      await node.stop();
    }
  });
});

describe('pipelined requests never read', () => {
  it('60 connections × 20,000 GET /healthz keep the node small while another client is served', async () => {
    const node = await freshNode();
    try {
      const pid = node.child.pid as number;
      const before = memoryOf(pid);
      const burst = Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(20_000));
      const sockets = await Promise.all(Array.from({ length: 60 }, () => openSocket(node.port)));
      for (const s of sockets) {
        s.pause(); // never read the answers
        s.write(burst);
      }
      let peak = before.rssMiB;
      const healthMs: number[] = [];
      for (let i = 0; i < 12; i++) {
        await sleep(500);
        peak = Math.max(peak, memoryOf(pid).rssMiB);
        const h = await healthFrom(node.url);
        expect(h.status).toBe(200);
        healthMs.push(h.ms);
      }
      const after = memoryOf(pid);
      console.log(
        `pipelining: RSS ${before.rssMiB.toFixed(0)} MiB before, peak ${Math.max(peak, after.peakMiB).toFixed(0)} MiB; ` +
          `/healthz during the attack: ${healthMs.join(', ')} ms`,
      );
      expect(Math.max(peak, after.peakMiB)).toBeLessThan(300);
      for (const s of sockets) s.destroy();
    } finally {
      await node.stop();
    }
  });
});

describe('early answers', () => {
  /** Sends headers, then body chunks until the answer and the server's end arrive. */
  async function keepSending(
    port: number,
    head: string,
    address: string,
  ): Promise<{ answer: string; errors: Error[]; sentAfterAnswer: number }> {
    const s = await openSocket(port, address);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let ended = false;
    let sent = 0;
    let answeredAt = -1;
    s.on('end', () => {
      ended = true;
      s.end();
    });
    s.write(head);
    for (let i = 0; i < 1024 && !ended && !s.destroyed; i++) {
      if (answeredAt < 0 && s.received().includes('\r\n\r\n')) answeredAt = sent;
      if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once('drain', r)), sleep(200)]);
      sent += chunk.length;
    }
    await Promise.race([s.gone, sleep(5_000)]);
    s.destroy();
    return {
      answer: s.received(),
      errors: s.errors,
      sentAfterAnswer: answeredAt < 0 ? 0 : sent - answeredAt,
    };
  }

  it('a 413 and a 429 reach a client that keeps sending its body: Connection: close, no reset', async () => {
    const node = await freshNode();
    try {
      const big = await keepSending(
        node.port,
        'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n',
        '127.0.0.4',
      );
      expect(big.errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual([]);
      expect(big.answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(big.answer).toMatch(/\r\nConnection: close\r\n/i);
      expect(big.answer).toContain('"code":"ERR_BODY_TOO_LARGE"');

      // Fill this address's share of bodies being read, then send one more: 429 before its body.
      const head = (n: number): string =>
        `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${n}\r\n\r\n[`;
      const holders = await Promise.all(
        Array.from({ length: 64 }, () => openSocket(node.port, '127.0.0.5')),
      );
      for (const h of holders) h.write(head(1_000_000));
      await waitFor(() => holders.some((h) => /^HTTP\/1\.1 429 /.test(h.received())), 5_000);
      const refused = await keepSending(node.port, head(8 * 1024 * 1024), '127.0.0.5');
      expect(refused.errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual([]);
      expect(refused.answer).toMatch(/^HTTP\/1\.1 429 /);
      expect(refused.answer).toMatch(/\r\nRetry-After: \d+\r\n/i);
      expect(refused.answer).toMatch(/\r\nConnection: close\r\n/i);
      expect(refused.answer).toContain('"code":"ERR_OVERLOADED"');
      for (const h of holders) h.destroy();
      expect((await healthFrom(node.url)).status).toBe(200);
    } finally {
      await node.stop();
    }
  });
});

describe('junk floods', () => {
  it('20 POSTs of junk grow the audit log by at most the documented constant per second', async () => {
    const node = await freshNode();
    try {
      const size = async (): Promise<number> =>
        ((await call(node.url, '/healthz')).json as { audit_size: number }).audit_size;
      const start = await size();
      const t0 = Date.now();
      const junk = JSON.stringify(
        Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? {} : { v: 1, junk: i })),
      );
      let rejected = 0;
      for (let i = 0; i < 20; i++) {
        const a = await call(node.url, '/v1/events', { body: junk, deadlineMs: 30_000 });
        expect(a.status).toBe(200);
        rejected += (a.json as { results: { status: string }[] }).results.filter(
          (r) => r.status === 'rejected',
        ).length;
      }
      await sleep(1_500); // let the last summary fall due
      const seconds = Math.ceil((Date.now() - t0) / 1000) + 1;
      const grown = (await size()) - start;
      console.log(
        `junk: ${rejected} rejections in ${seconds} s grew the audit log by ${grown} entries`,
      );
      expect(rejected).toBe(200_000);
      expect(grown).toBeGreaterThan(0); // counted, not ignored
      expect(grown).toBeLessThanOrEqual(seconds * AUDIT_RULES.maxJunkEntriesPerSecond);
      const metrics = (await call(node.url, '/metrics')).text;
      expect(metrics).toMatch(/commons_sync_audit_summarized_total\{reason="ERR_BAD_FIELD"\} \d+/);
    } finally {
      await node.stop();
    }
  });
});

describe('signed rejections', () => {
  it('are logged one by one up to the per-second budget; the rest are counted', async () => {
    const node = await freshNode();
    try {
      // One author signs 300 different events under one nonce: the first is accepted, every
      // other one is a replay whose signatures verify (the kind of rejection logged one by one).
      const seed = nativeCore.sha256(new TextEncoder().encode('hostile/replayer'));
      const author = didKeyFromPublicKey(nativeCore.ed25519PublicKey(seed));
      const now = Math.floor(Date.now() / 1000);
      const events = Array.from({ length: 300 }, (_, i) => {
        const r = signEvent(
          nativeCore,
          {
            v: 1,
            kind: 'note',
            author,
            createdAt: now - 5,
            expiresAt: now + 3600,
            nonce: new Uint8Array(16).fill(9),
            payload: { i },
          },
          [seed],
        );
        if (!r.ok) throw new Error(r.detail);
        return eventToJson(r.value.event);
      });
      const health = async (): Promise<number> =>
        ((await call(node.url, '/healthz')).json as { audit_size: number }).audit_size;
      const start = await health();
      const t0 = Date.now();
      const answer = await call(node.url, '/v1/events', {
        body: JSON.stringify(events),
        deadlineMs: 30_000,
      });
      const reasons = (
        answer.json as { results: { status: string; reason?: string }[] }
      ).results.map((r) => r.reason ?? r.status);
      expect(reasons[0]).toBe('accepted');
      expect(new Set(reasons.slice(1))).toEqual(new Set(['ERR_REPLAY']));
      await sleep(1_500);
      const seconds = Math.ceil((Date.now() - t0) / 1000) + 1;
      const grown = (await health()) - start;
      console.log(
        `signed replays: 299 rejections grew the audit log by ${grown} entries (1 accept) in ${seconds} s`,
      );
      // 1 accept, at most 20 rejects in the batch's second, a summary and a checkpoint per second
      expect(grown).toBeGreaterThan(AUDIT_RULES.maxRejectEntriesPerSecond);
      expect(grown).toBeLessThanOrEqual(
        1 + AUDIT_RULES.maxRejectEntriesPerSecond + seconds * AUDIT_RULES.maxJunkEntriesPerSecond,
      );
      const metrics = (await call(node.url, '/metrics')).text;
      expect(metrics).toMatch(/commons_sync_audit_summarized_total\{reason="ERR_REPLAY"\} 279/);
    } finally {
      await node.stop();
    }
  });
});

describe('a --trusted node', () => {
  it('logs untrusted signed events one by one within the budget and counts junk, like an open node', async () => {
    const [trusted] = makeEvents(1, 1, 'trusted-author');
    const node = await freshNode(['--trusted', (trusted as { author: string }).author]);
    try {
      const size = async (): Promise<number> =>
        ((await call(node.url, '/healthz')).json as { audit_size: number }).audit_size;
      const start = await size();
      const t0 = Date.now();
      const outsiders = makeEvents(100, 10, 'outsiders');
      const junk = Array.from({ length: 2_000 }, () => ({}));
      const answer = await call(node.url, '/v1/events', {
        body: JSON.stringify([trusted, ...outsiders, ...junk]),
        deadlineMs: 30_000,
      });
      const results = (answer.json as { results: { status: string; reason?: string }[] }).results;
      expect(results[0]?.status).toBe('accepted');
      expect(new Set(results.slice(1, 101).map((r) => r.reason))).toEqual(
        new Set(['ERR_UNTRUSTED_AUTHOR']),
      );
      await sleep(1_500);
      const seconds = Math.ceil((Date.now() - t0) / 1000) + 1;
      const grown = (await size()) - start;
      console.log(
        `--trusted: 100 untrusted signed events and 2,000 junk ones grew the audit log by ${grown} entries in ${seconds} s`,
      );
      expect(grown).toBeGreaterThan(AUDIT_RULES.maxRejectEntriesPerSecond);
      expect(grown).toBeLessThanOrEqual(
        1 + AUDIT_RULES.maxRejectEntriesPerSecond + seconds * AUDIT_RULES.maxJunkEntriesPerSecond,
      );
    } finally {
      await node.stop();
    }
  });
});

describe('DNS rebinding', () => {
  it('refuses a Host that is not an allowed name, serves loopback names and --allowed-host ones', async () => {
    const node = await freshNode(['--allowed-host', 'node.internal']);
    try {
      const port = node.port;
      const evil = await call(node.url, '/healthz', { headers: { host: `evil.example:${port}` } });
      expect(evil.status).toBe(421);
      expect(evil.json).toMatchObject({ error: { code: 'ERR_HOST_NOT_ALLOWED' } });
      expect(
        (await call(node.url, '/healthz', { headers: { host: `localhost:${port}` } })).status,
      ).toBe(200);
      expect(
        (await call(node.url, '/healthz', { headers: { host: `127.0.0.1:${port}` } })).status,
      ).toBe(200);
      expect(
        (await call(node.url, '/healthz', { headers: { host: `node.internal:${port}` } })).status,
      ).toBe(200);
      expect(
        (await call(node.url, '/healthz', { headers: { host: `localhost.evil.example:${port}` } }))
          .status,
      ).toBe(421);
    } finally {
      await node.stop();
    }
  });
});

describe('TLS versions and suites', () => {
  let key: string;
  let cert: string;
  beforeAll(() => {
    key = join(root, 'tls.key');
    cert = join(root, 'tls.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
  });

  /** The negotiated protocol and cipher, or the error code of a refused handshake. */
  function handshake(
    port: number,
    opts: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string },
  ): Promise<string> {
    return new Promise((resolve) => {
      const s = tlsConnect({
        port,
        host: '127.0.0.1',
        ca: readFileSync(cert),
        servername: 'localhost',
        minVersion: 'TLSv1.2',
        ...(opts.maxVersion === undefined ? {} : { maxVersion: opts.maxVersion }),
        ...(opts.ciphers === undefined ? {} : { ciphers: opts.ciphers }),
      });
      s.once('secureConnect', () => {
        resolve(`${s.getProtocol() ?? '?'} ${s.getCipher().name}`);
        s.destroy();
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
    });
  }

  const WEAK_TLS12 = [
    'AES128-GCM-SHA256',
    'AES256-SHA',
    'ECDHE-RSA-AES128-SHA',
    'ECDHE-RSA-AES256-SHA384',
    'DHE-RSA-AES128-GCM-SHA256',
  ];

  it('offers TLS 1.3 only by default', async () => {
    const node = await freshNode(['--tls-key', key, '--tls-cert', cert]);
    try {
      expect(await handshake(node.port, {})).toMatch(/^TLSv1\.3 /);
      expect(await handshake(node.port, { maxVersion: 'TLSv1.2' })).toMatch(/^refused /);
    } finally {
      await node.stop();
    }
  });

  it('with --allow-tls12, TLS 1.2 offers only ECDHE with AEAD suites', async () => {
    const node = await freshNode(['--tls-key', key, '--tls-cert', cert, '--allow-tls12']);
    try {
      expect(await handshake(node.port, {})).toMatch(/^TLSv1\.3 /);
      const v12 = await handshake(node.port, { maxVersion: 'TLSv1.2' });
      expect(v12).toMatch(/^TLSv1\.2 ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
      for (const weak of WEAK_TLS12) {
        expect(await handshake(node.port, { maxVersion: 'TLSv1.2', ciphers: weak }), weak).toMatch(
          /^refused /,
        );
      }
      // What openssl s_client sees: the suites the server picks when offered everything.
      const seen = execFileSync(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${node.port}`, '-tls1_2', '-cipher', 'ALL:@SECLEVEL=0'],
        {
          input: '',
          timeout: 20_000,
          stdio: ['pipe', 'pipe', 'ignore'],
        },
      ).toString();
      expect(seen).toMatch(/Cipher is ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)/);
    } finally {
      await node.stop();
    }
  });
});
