/**
 * Peers over real TLS sockets on 127.0.0.1 (spec/SYNC.md §3): admitted nodes exchange events
 * (gossip and reconciliation); an unadmitted identity, a certificate without a binding and a
 * TLS 1.2 client are refused at the handshake and not one frame of theirs is processed; an
 * oversized frame, a missing HELLO and a peer that does not read are cut with their codes; a
 * hostile admitted peer is banned while honest traffic goes on.
 */
import 'reflect-metadata';

import { webcrypto } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';

import * as x509 from '@peculiar/x509';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { checkpointMessage } from '../src/audit/checkpoint.js';
import { type EngineConfig, engineConfig } from '../src/net/engine/config.js';
import { SyncEngine } from '../src/net/engine/engine.js';
import type { EventVerdict } from '../src/net/engine/types.js';
import { MemoryAuditLog, MemoryEventStore } from '../src/net/memory-node.js';
import { SyncIndex } from '../src/net/reconcile/sync-index.js';
import { createNodeCertificate, type NodeCertificate } from '../src/net/transport/binding.js';
import {
  MAX_VALIDATION_BATCH,
  MAX_VALIDATION_BATCHES_IN_FLIGHT,
  PeerHost,
  type ValidateItem,
} from '../src/net/transport/peer-host.js';
import { SYNC_ALPN } from '../src/net/transport/tls-options.js';
import { encodeFrame, FrameDecoder } from '../src/net/wire/frame.js';
import { decodeMessage, encodeMessage, type Message } from '../src/net/wire/messages.js';
import { toHex } from '../src/protocol/bytes.js';
import { decodeEvent } from '../src/protocol/event.js';
import { core, didOf, event, keySeed } from './net-harness.js';

interface TestHost {
  readonly host: PeerHost;
  readonly store: MemoryEventStore;
  readonly did: string;
  readonly seed: Uint8Array;
  readonly certificate: NodeCertificate;
  readonly refused: Array<{ code: string; did?: string }>;
}

const hosts: PeerHost[] = [];
const sockets: TLSSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

const identity = (seed: Uint8Array) => ({
  publicKey: core.ed25519PublicKey(seed),
  sign: async (m: Uint8Array) => core.ed25519Sign(seed, m),
});

type Validate = (items: readonly ValidateItem[]) => Promise<EventVerdict[]>;

async function startHost(
  name: string,
  admitted: string[],
  config: Partial<EngineConfig> = {},
  wrap: (validate: Validate) => Validate = (v) => v,
): Promise<TestHost> {
  const seed = keySeed(name);
  const did = didOf(seed);
  const publicKey = core.ed25519PublicKey(seed);
  const log = new MemoryAuditLog(core, publicKey, async (m) => core.ed25519Sign(seed, m));
  const store = new MemoryEventStore(core, log);
  const allowed = new Set(admitted);
  const engine = new SyncEngine({
    self: did,
    sha256: core.sha256,
    index: new SyncIndex(core.sha256),
    events: store,
    ownLog: log,
    admitted: (d) => allowed.has(d),
    checkCheckpoint: (cp) => core.ed25519Verify(cp.publicKey, checkpointMessage(cp), cp.signature),
    partials: {
      sha256: core.sha256,
      ed25519Verify: core.ed25519Verify,
      trust: { mode: 'open' },
      timeRules: { clockSkewSeconds: 300, maxLifetimeSeconds: 604_800 },
    },
    config: engineConfig(config),
  });
  const certificate = await createNodeCertificate(identity(seed));
  const refused: TestHost['refused'] = [];
  const host = await PeerHost.start({
    self: did,
    engine,
    certificate,
    admitted: (d) => allowed.has(d),
    verify: core.ed25519Verify,
    validate: wrap((items) => store.validate(items)),
    onRefused: (r) => refused.push(r),
    tickMs: 50,
  });
  hosts.push(host);
  return { host, store, did, seed, certificate, refused };
}

function submit(h: TestHost, bytes: Uint8Array): string {
  expect(h.store.submit(bytes).outcome).toBe('accepted');
  h.host.localAccepted(bytes);
  const d = decodeEvent(bytes);
  if (!d.ok) throw new Error(d.reason);
  return toHex(core.sha256(d.value.body));
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Raw {
  readonly socket: TLSSocket;
  readonly messages: Message[];
  readonly closed: Promise<void>;
  send(m: Message | Uint8Array): void;
}

/** A hand-driven client: any certificate, any bytes, reads only when told to. */
async function raw(
  port: number,
  certificate: { key: string; cert: string },
  opts: { read?: boolean; tls12?: boolean } = {},
): Promise<Raw> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    key: certificate.key,
    cert: certificate.cert,
    rejectUnauthorized: false,
    ALPNProtocols: [SYNC_ALPN],
    ...(opts.tls12 === true
      ? { minVersion: 'TLSv1.2' as const, maxVersion: 'TLSv1.2' as const }
      : {}),
  });
  sockets.push(socket);
  const messages: Message[] = [];
  const decoder = new FrameDecoder(64 * 1024 * 1024);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  if (opts.read !== false) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(new Uint8Array(chunk))) messages.push(decodeMessage(f));
    });
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => reject(new Error('closed before the handshake finished')));
  });
  return {
    socket,
    messages,
    closed,
    send: (m) => socket.write(encodeFrame(m instanceof Uint8Array ? m : encodeMessage(m))),
  };
}

const hello = (did: string): Message => ({
  type: 'hello',
  versions: [1],
  node: did,
  time: Date.now(),
  checkpoint: null,
});
const goodbyes = (r: Raw) =>
  r.messages.filter((m) => m.type === 'goodbye').map((m) => (m.type === 'goodbye' ? m.code : ''));

describe('admitted peers', () => {
  it('exchange events: what each held before by reconciliation, new ones by gossip', async () => {
    const [da, db] = ['tls-a', 'tls-b'].map((n) => didOf(keySeed(n))) as [string, string];
    const a = await startHost('tls-a', [db]);
    const b = await startHost('tls-b', [da]);
    const author = keySeed('author');
    const before = Array.from({ length: 30 }, () => submit(b, event([author], Date.now())));
    b.host.dial('127.0.0.1', a.host.port);
    await until(() => before.every((id) => a.store.events.has(id)), 'reconciliation');
    const fresh = submit(a, event([author], Date.now()));
    await until(() => b.store.events.has(fresh), 'gossip');
    expect(a.store.provenance.get(before[0] as string)).toBe(db); // a remembers who sent it
    expect(a.host.connectedPeers()).toEqual([db]);
  });

  it('validation: two batches in flight at most; what arrives meanwhile goes in the next one', async () => {
    const [da, db] = ['tls-batch-a', 'tls-batch-b'].map((n) => didOf(keySeed(n))) as [
      string,
      string,
    ];
    const batches: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const a = await startHost('tls-batch-a', [db]);
    const b = await startHost('tls-batch-b', [da], { maxPendingValidation: 8192 }, (v) => {
      return async (items) => {
        batches.push(items.length);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await gate; // held until everything has arrived
        try {
          return await v(items);
        } finally {
          inFlight--;
        }
      };
    });
    b.host.dial('127.0.0.1', a.host.port);
    await until(() => a.host.connectedPeers().length === 1, 'connection');
    const author = keySeed('batch-author');
    const push = (events: Uint8Array[]) => {
      for (const e of events) expect(a.store.submit(e).outcome).toBe('accepted');
      a.host.localAccepted(events); // pushed in EVENTS of up to 1,024
    };
    const make = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) =>
        event([author], Date.now(), { payload: { i: from + i } }),
      );
    push(make(1, 0));
    await until(() => batches.length === 1, 'a first batch');
    push(make(1, 1));
    await until(() => batches.length === 2, 'a second batch');
    push(make(3000, 2));
    await until(
      () => (b.host.engine.peerViews()[0]?.pendingValidation ?? 0) === 3002,
      'every event waiting for validation',
    );
    // two batches held: nothing more was handed out while they are in flight
    expect(batches).toEqual([1, 1]);
    open();
    await until(() => b.store.events.size >= 3002, 'validation');
    expect(maxInFlight).toBe(MAX_VALIDATION_BATCHES_IN_FLIGHT);
    // what waited went in one batch (under the cap), not one per EVENTS message or socket read
    expect(batches).toEqual([1, 1, 3000]);
    expect(3000).toBeLessThanOrEqual(MAX_VALIDATION_BATCH);
  });

  it('redial after the other side restarts', async () => {
    const [da, db] = ['tls-c', 'tls-d'].map((n) => didOf(keySeed(n))) as [string, string];
    const a = await startHost('tls-c', [db]);
    const b = await startHost('tls-d', [da]);
    b.host.dial('127.0.0.1', a.host.port);
    await until(() => a.host.connectedPeers().length === 1, 'the first connection');
    // a goes away and comes back on the same port with the same identity
    const port = a.host.port;
    await a.host.close();
    hosts.splice(hosts.indexOf(a.host), 1);
    const a2 = await startHostOnPort('tls-c', [db], port);
    await until(() => a2.host.connectedPeers().length === 1, 'the redial', 15_000);
  });
});

async function startHostOnPort(name: string, admitted: string[], port: number): Promise<TestHost> {
  const seed = keySeed(name);
  const did = didOf(seed);
  const log = new MemoryAuditLog(core, core.ed25519PublicKey(seed), async (m) =>
    core.ed25519Sign(seed, m),
  );
  const store = new MemoryEventStore(core, log);
  const allowed = new Set(admitted);
  const engine = new SyncEngine({
    self: did,
    sha256: core.sha256,
    index: new SyncIndex(core.sha256),
    events: store,
    ownLog: log,
    admitted: (d) => allowed.has(d),
    checkCheckpoint: () => true,
    partials: {
      sha256: core.sha256,
      ed25519Verify: core.ed25519Verify,
      trust: { mode: 'open' },
      timeRules: { clockSkewSeconds: 300, maxLifetimeSeconds: 604_800 },
    },
  });
  const certificate = await createNodeCertificate(identity(seed));
  const host = await PeerHost.start({
    self: did,
    engine,
    certificate,
    admitted: (d) => allowed.has(d),
    verify: core.ed25519Verify,
    validate: (i) => store.validate(i),
    port,
    tickMs: 50,
  });
  hosts.push(host);
  return { host, store, did, seed, certificate, refused: [] };
}

describe('refused at the handshake, before any frame is read', () => {
  it('an identity outside the admission set', async () => {
    const a = await startHost('tls-e', [didOf(keySeed('someone-else'))]);
    const stranger = keySeed('stranger');
    const received = vi.spyOn(a.host.engine, 'received');
    const connected = vi.spyOn(a.host.engine, 'connected');
    const client = await raw(a.host.port, await createNodeCertificate(identity(stranger)));
    // TLS 1.3: the client may talk before the server has looked at its certificate
    client.send(hello(didOf(stranger)));
    client.send({ type: 'events', events: [event([stranger], Date.now())] });
    await client.closed;
    expect(a.refused).toEqual([
      { code: 'ERR_NOT_ADMITTED', detail: 'this identity is not admitted', did: didOf(stranger) },
    ]);
    expect(goodbyes(client)).toEqual(['ERR_NOT_ADMITTED']);
    expect(received).not.toHaveBeenCalled();
    expect(connected).not.toHaveBeenCalled();
    expect(a.host.stats.framesIn).toBe(0);
    expect(a.host.stats.framesFromRefused).toBe(0);
    expect(a.store.events.size).toBe(0);
  });

  it('a certificate that binds no identity', async () => {
    const a = await startHost('tls-f', []);
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const plain = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=plain',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString(
      'base64',
    );
    const client = await raw(a.host.port, {
      cert: plain.toString('pem'),
      key: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`,
    });
    client.send(hello('did:key:nobody'));
    await client.closed;
    expect(a.refused.map((r) => r.code)).toEqual(['ERR_CERT_BINDING']);
    expect(a.host.stats.framesIn).toBe(0);
  });

  it('a TLS 1.2 client never completes the handshake', async () => {
    const a = await startHost('tls-g', [didOf(keySeed('old'))]);
    const cert = await createNodeCertificate(identity(keySeed('old')));
    await expect(raw(a.host.port, cert, { tls12: true })).rejects.toThrow(
      /closed before the handshake/,
    );
    expect(a.host.stats.framesIn).toBe(0);
    expect(a.refused).toEqual([]);
  });
});

describe('bounds on an admitted peer', () => {
  it('a frame announced larger than the maximum: GOODBYE ERR_FRAME_TOO_LARGE, scored', async () => {
    const p = keySeed('big');
    const a = await startHost('tls-h', [didOf(p)]);
    const client = await raw(a.host.port, await createNodeCertificate(identity(p)));
    client.send(hello(didOf(p)));
    await until(() => client.messages.some((m) => m.type === 'hello'), 'the HELLO');
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 2 * 1024 * 1024);
    client.socket.write(header);
    await client.closed;
    expect(goodbyes(client)).toEqual(['ERR_FRAME_TOO_LARGE']);
    expect(a.host.engine.scoreSummary(didOf(p)).offences['protocol']?.count).toBe(1);
  });

  it('no HELLO in time: GOODBYE ERR_HELLO_TIMEOUT', async () => {
    const p = keySeed('mute');
    const a = await startHost('tls-i', [didOf(p)], { helloTimeoutMs: 300 });
    const client = await raw(a.host.port, await createNodeCertificate(identity(p)));
    await client.closed;
    expect(goodbyes(client)).toEqual(['ERR_HELLO_TIMEOUT']);
  });

  it('a peer that asks but never reads: GOODBYE ERR_SLOW_PEER, the node unharmed', async () => {
    const p = keySeed('sink');
    const a = await startHost('tls-j', [didOf(p)], {
      outboxLimitBytes: 512 * 1024,
      sendWindowBytes: 64 * 1024,
      reconcileRatePerSecond: 1e6, // let every query through: the bound under test is the queue
      reconcileBurst: 1e6,
    });
    const author = keySeed('author');
    for (let i = 0; i < 1000; i++) submit(a, event([author], Date.now()));
    const client = await raw(a.host.port, await createNodeCertificate(identity(p)), {
      read: false,
    });
    client.send(hello(didOf(p)));
    // each query (an empty id list for everything) is answered with all 1000 ids (32 KB)
    const query = encodeFrame(
      encodeMessage({
        type: 'reconcile',
        session: 1,
        round: 0,
        payload: Uint8Array.of(0x01, 0x00, 0x00, 0x02, 0x00),
      }),
    );
    for (let i = 0; i < 1500; i++) client.socket.write(query);
    await until(
      () => a.host.connectedPeers().length === 0 && a.host.engine.peerViews().length === 0,
      'the cut',
      30_000,
    );
    // now read what was sent: it ends with the GOODBYE
    const decoder = new FrameDecoder(64 * 1024 * 1024);
    const codes: string[] = [];
    client.socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(new Uint8Array(chunk))) {
        const m = decodeMessage(f);
        if (m.type === 'goodbye') codes.push(m.code);
      }
    });
    client.socket.resume();
    await client.closed;
    expect(codes).toEqual(['ERR_SLOW_PEER']);
  });

  it('a hostile peer sending forged events is banned while honest traffic goes on', async () => {
    const [da, db, dh] = ['tls-k', 'tls-l', 'tls-hostile'].map((n) => didOf(keySeed(n))) as [
      string,
      string,
      string,
    ];
    const a = await startHost('tls-k', [db, dh]);
    const b = await startHost('tls-l', [da]);
    b.host.dial('127.0.0.1', a.host.port);
    const hostile = await raw(
      a.host.port,
      await createNodeCertificate(identity(keySeed('tls-hostile'))),
    );
    hostile.send(hello(dh));
    const author = keySeed('author');
    for (let i = 0; i < 12; i++) {
      const e = event([author], Date.now());
      e[e.length - 1] = (e[e.length - 1] as number) ^ 1;
      hostile.send({ type: 'events', events: [e] });
    }
    await hostile.closed;
    expect(goodbyes(hostile)).toEqual(['ERR_PEER_SCORE']);
    const id = submit(b, event([author], Date.now()));
    await until(() => a.store.events.has(id), 'honest traffic');
    expect(a.host.engine.isBanned(dh, Date.now())).toBe(true);
    expect(a.store.events.size).toBe(1);
  });
});
