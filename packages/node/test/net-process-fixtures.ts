/**
 * Helpers for tests that run networks of node processes on loopback: data directories, node
 * processes started as a user would (`commons-sync start --peer ...`), a TCP proxy the test can
 * cut and heal, a hand-driven TLS peer with a bound certificate, and reads of what each node
 * stored (its SQLite file, read-only).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';

import Database from 'better-sqlite3';
import { createNodeCertificate } from '../src/net/transport/binding.js';
import { SYNC_ALPN } from '../src/net/transport/tls-options.js';
import { encodeFrame, FrameDecoder } from '../src/net/wire/frame.js';
import { decodeMessage, encodeMessage, type Message } from '../src/net/wire/messages.js';
import { initDataDir } from '../src/node.js';
import type { HealthJson, PeersJson } from '../src/service.js';
import { DB_FILE } from '../src/storage/index.js';
import { CLI, nativeCore as core, PASSPHRASE } from './node-fixtures.js';

export const cleanup: Array<() => unknown> = [];

/** Runs the cleanups registered so far (processes first, then folders), newest first. */
export async function runCleanup(): Promise<void> {
  for (const f of cleanup.splice(0).reverse()) await f();
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh data directory with a node identity (a vault key file, as `init` makes it). */
export async function dataDir(label: string): Promise<{ dir: string; did: string }> {
  const dir = mkdtempSync(join(tmpdir(), `cs-${label}-`));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const { did } = await initDataDir(dir, PASSPHRASE, { core, scryptN: 32_768 });
  return { dir, did };
}

export interface NodeProcess {
  readonly did: string;
  readonly url: string;
  readonly sync: { readonly host: string; readonly port: number };
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
  stop(): Promise<number | null>;
}

/** `commons-sync start --data DIR --port 0 --sync-port 0 --workers 1 ...extra`, until it serves. */
export function startNode(dir: string, extra: string[]): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--data', dir, '--port', '0', '--sync-port', '0', '--workers', '1', ...extra],
    {
      env: {
        ...process.env,
        COMMONS_SYNC_PASSPHRASE: PASSPHRASE,
        COMMONS_SYNC_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out}${err}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const sync = /syncing on ([\d.]+):(\d+)/.exec(out);
      const m = /node (\S+) listening on (\S+)/.exec(out);
      if (m !== null && sync !== null) {
        clearTimeout(timer);
        resolve({
          did: m[1] as string,
          url: m[2] as string,
          sync: { host: sync[1] as string, port: Number(sync[2]) },
          child,
          exited,
          stderr: () => err,
          stop,
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before listening: ${out}${err}`));
    });
  });
}

export async function health(url: string): Promise<HealthJson> {
  return (await (await fetch(`${url}/healthz`)).json()) as HealthJson;
}

export async function peersOf(url: string): Promise<PeersJson> {
  return (await (await fetch(`${url}/v1/peers`)).json()) as PeersJson;
}

/** The stored ids of a data directory: accepted events and conflict evidence (read-only). */
export function storedIds(dir: string): { events: string[]; conflicts: string[] } {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    const ids = (sql: string) =>
      (db.prepare(sql).pluck().all() as Buffer[]).map((b) => b.toString('hex')).sort();
    return {
      events: ids('SELECT id FROM events'),
      conflicts: ids('SELECT id FROM conflict_events'),
    };
  } finally {
    db.close();
  }
}

/** Audit entries of a data directory, by type and reason (read-only). */
export function auditEntries(
  dir: string,
): Array<{ type: string; reason: string | null; detail: string }> {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    return db
      .prepare('SELECT type, reason, detail FROM audit_entries ORDER BY seq')
      .all() as Array<{
      type: string;
      reason: string | null;
      detail: string;
    }>;
  } finally {
    db.close();
  }
}

/**
 * A TCP proxy in front of a node's sync port, which the test cuts (every connection closed,
 * new ones refused) and heals. TLS runs end to end through it.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private constructor(private readonly server: Server) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      const p = proxy as TcpProxy;
      if (p.cut) {
        client.destroy();
        return;
      }
      const upstream = tcpConnect(target.port, target.host);
      for (const s of [client, upstream]) {
        p.sockets.add(s);
        s.on('close', () => p.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    proxy = new TcpProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanup.push(() => proxy?.close());
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** The partition: every connection through the proxy is cut and new ones are refused. */
  partition(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  heal(): void {
    this.cut = false;
  }

  close(): Promise<void> {
    this.partition();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A peer driven by hand over real TLS with a certificate bound to `seed`'s identity. */
export interface RawPeer {
  readonly did: string;
  readonly messages: Message[];
  readonly closed: Promise<void>;
  send(m: Message): boolean;
  destroy(): void;
}

export async function rawPeer(seed: Uint8Array, port: number): Promise<RawPeer> {
  const certificate = await createNodeCertificate({
    publicKey: core.ed25519PublicKey(seed),
    sign: async (m) => core.ed25519Sign(seed, m),
  });
  const socket: TLSSocket = connect({
    host: '127.0.0.1',
    port,
    key: certificate.key,
    cert: certificate.cert,
    rejectUnauthorized: false,
    ALPNProtocols: [SYNC_ALPN],
  });
  cleanup.push(() => socket.destroy());
  const messages: Message[] = [];
  const decoder = new FrameDecoder(64 * 1024 * 1024);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(new Uint8Array(chunk))) messages.push(decodeMessage(f));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => reject(new Error('closed before the handshake finished')));
  });
  const { didKeyFromPublicKey } = await import('../src/protocol/did.js');
  return {
    did: didKeyFromPublicKey(core.ed25519PublicKey(seed)),
    messages,
    closed,
    send: (m) => socket.write(encodeFrame(encodeMessage(m))),
    destroy: () => socket.destroy(),
  };
}

export const goodbyeCodes = (p: RawPeer): string[] =>
  p.messages.flatMap((m) => (m.type === 'goodbye' ? [m.code] : []));
