/**
 * The thin shell that runs the sync engine over real TLS sockets (spec/SYNC.md §3): it listens
 * and dials, checks each peer's certificate binding and admission before reading a single byte
 * from it, frames messages, feeds the engine, carries out its actions, and keeps its clock
 * ticking. Everything that decides anything is in the engine; this file only moves bytes.
 *
 * A connection from an identity outside the admission set (or with a certificate that does not
 * bind an identity) is answered with one GOODBYE frame and closed: no data listener is ever
 * attached to it, so nothing it sends is read, let alone processed.
 */
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { SyncEngine } from '../engine/engine.js';
import type { SyncItemKind } from '../engine/sync-items.js';
import type { EngineAction, EventVerdict, NetAlert, NetAuditRecord } from '../engine/types.js';
import { NetCode, NetError, type NetErrorCode } from '../errors.js';
import { encodeFrame, FrameDecoder } from '../wire/frame.js';
import { encodeMessage } from '../wire/messages.js';
import { type Ed25519Verify, type NodeCertificate, verifyPeerCertificate } from './binding.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, SYNC_ALPN, TLS13_ONLY } from './tls-options.js';

/**
 * Validation batches handed to the node at once: two, so that the node's workers check one
 * while its main thread commits the other.
 */
export const MAX_VALIDATION_BATCHES_IN_FLIGHT = 2;

/** Items in one validation batch, at most (a commit of this many stays well under a second). */
export const MAX_VALIDATION_BATCH = 4096;

export interface ValidateItem {
  /** How the item decoded: an event or a key event (spec/SYNC.md §6.5). */
  readonly kind: SyncItemKind;
  readonly id: Uint8Array;
  readonly event: Uint8Array;
  /** The peer that sent it, or null for an event merged locally (a completed partial). */
  readonly peer: string | null;
}

export interface PeerHostOptions {
  readonly self: string;
  readonly engine: SyncEngine;
  readonly certificate: NodeCertificate;
  /** The admission set (today the trusted set; later the trust root's validators). */
  readonly admitted: (did: string) => boolean;
  readonly verify: Ed25519Verify;
  /**
   * Validates exactly these bytes and stores what is valid; resolves with one verdict per item,
   * `accepted` only once durable (the node's pipeline).
   */
  readonly validate: (items: readonly ValidateItem[]) => Promise<EventVerdict[]>;
  readonly onAlert?: (alert: NetAlert) => void;
  readonly onAudit?: (record: NetAuditRecord) => void;
  /** Called for every connection refused at the handshake (tests and logs). */
  readonly onRefused?: (reason: { code: NetErrorCode; detail: string; did?: string }) => void;
  /** Called when the engine closes a connection, with its code (logs, `peers`). */
  readonly onClosed?: (peer: string, code: string, detail: string) => void;
  /** Called when a peer's connection is attached (after the handshake and admission). */
  readonly onConnected?: (peer: string, address: string) => void;
  readonly host?: string;
  readonly port?: number;
  readonly clock?: () => number;
  readonly tickMs?: number;
  readonly handshakeTimeoutMs?: number;
  /** Sockets open at once, authenticated or not. */
  readonly maxConnections?: number;
}

interface Attached {
  readonly socket: TLSSocket;
  /** True when this node dialed. */
  readonly dialer: boolean;
}

interface Dial {
  readonly host: string;
  readonly port: number;
  backoffMs: number;
  timer: NodeJS.Timeout | null;
  socket: TLSSocket | null;
  /** The identity last found at this address. */
  did: string | null;
  attempts: number;
}

/** A peer address this node keeps dialing, as `peers` shows it. */
export interface DialState {
  readonly address: string;
  /** The identity last found there, once a connection succeeded. */
  readonly did: string | null;
  readonly connected: boolean;
  /** The wait before the next try while it is down. */
  readonly backoffMs: number;
  readonly attempts: number;
}

export interface PeerHostStats {
  /** Connections refused at the handshake (bad binding, not admitted). */
  refused: number;
  /** The same, by refusal code. */
  refusedByCode: Record<string, number>;
  /** Frames read from connections that were refused: always 0, by construction; tests check it. */
  framesFromRefused: number;
  framesIn: number;
}

export class PeerHost {
  private readonly sockets = new Map<string, Attached>();
  private readonly dials = new Map<string, Dial>();
  private readonly refusedSockets = new WeakSet<TLSSocket>();
  private readonly timer: NodeJS.Timeout;
  private pendingValidation: ValidateItem[] = [];
  private validationScheduled = false;
  private validationsInFlight = 0;
  private closed = false;
  private certificate: NodeCertificate;
  readonly stats: PeerHostStats = {
    refused: 0,
    refusedByCode: {},
    framesFromRefused: 0,
    framesIn: 0,
  };

  private constructor(
    private readonly opts: PeerHostOptions,
    private readonly server: Server,
  ) {
    this.certificate = opts.certificate;
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 250);
    this.timer.unref();
  }

  static async start(opts: PeerHostOptions): Promise<PeerHost> {
    const server = createServer({
      ...TLS13_ONLY,
      key: opts.certificate.key,
      cert: opts.certificate.cert,
      requestCert: true,
      rejectUnauthorized: false, // self-signed by design: verifyPeerCertificate decides
      ALPNProtocols: [SYNC_ALPN],
      handshakeTimeout: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    });
    server.maxConnections = opts.maxConnections ?? 256;
    const host = new PeerHost(opts, server);
    server.on('secureConnection', (socket) => host.admit(socket, false));
    server.on('tlsClientError', () => {}); // a failed handshake: the socket is already gone
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    return host;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get engine(): SyncEngine {
    return this.opts.engine;
  }

  /** Events this node accepted from a client (durable): gossip them (a commit's in one call). */
  localAccepted(events: Uint8Array | readonly Uint8Array[]): void {
    this.opts.engine.localAccepted(events, this.now());
    this.run();
  }

  /** Items that left the node's sync set (events a key event invalidated). */
  localWithdrawn(ids: readonly Uint8Array[]): void {
    this.opts.engine.localWithdrawn(ids, this.now());
    this.run();
  }

  /** A partially signed event from a client: merge it and pass it on. */
  localPartial(event: Uint8Array): void {
    this.opts.engine.localPartial(event, this.now());
    this.run();
  }

  /** This node signed a checkpoint of its audit log: tell the peers. */
  ownCheckpoint(checkpoint: Parameters<SyncEngine['ownCheckpoint']>[0]): void {
    this.opts.engine.ownCheckpoint(checkpoint, this.now());
    this.run();
  }

  /** Identities connected now. */
  connectedPeers(): string[] {
    return [...this.sockets.keys()];
  }

  /** The remote address of a connected peer. */
  addressOf(did: string): string | undefined {
    const socket = this.sockets.get(did)?.socket;
    if (socket?.remoteAddress === undefined) return undefined;
    return `${socket.remoteAddress}:${socket.remotePort}`;
  }

  /** The addresses this node dials, and how each is doing. */
  dialStates(): DialState[] {
    return [...this.dials.entries()].map(([address, d]) => ({
      address,
      did: d.did,
      connected: d.did !== null && this.sockets.has(d.did),
      backoffMs: d.backoffMs,
      attempts: d.attempts,
    }));
  }

  /**
   * Serves a new certificate (the old one nears its end) to new connections, and dials with it;
   * connections already up keep theirs (TLS checked it once, at the handshake).
   */
  renewCertificate(certificate: NodeCertificate): void {
    this.certificate = certificate;
    this.server.setSecureContext({
      ...TLS13_ONLY,
      key: certificate.key,
      cert: certificate.cert,
    });
  }

  /** Keeps a connection to host:port, redialing with backoff while it is down. */
  dial(host: string, port: number): void {
    const key = `${host}:${port}`;
    if (this.dials.has(key)) return;
    const d: Dial = {
      host,
      port,
      backoffMs: 200,
      timer: null,
      socket: null,
      did: null,
      attempts: 0,
    };
    this.dials.set(key, d);
    this.connectOut(d);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const d of this.dials.values()) if (d.timer !== null) clearTimeout(d.timer);
    for (const [did, a] of this.sockets) {
      a.socket.end(
        encodeFrame(
          encodeMessage({
            type: 'goodbye',
            code: NetCode.SHUTTING_DOWN,
            detail: 'the node is stopping',
          }),
        ),
      );
      this.opts.engine.disconnected(did, this.now());
    }
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  private connectOut(d: Dial): void {
    if (this.closed) return;
    if (d.did !== null && this.sockets.has(d.did)) {
      this.redial(d);
      return;
    } // already connected the other way
    d.attempts++;
    const socket = connect({
      ...TLS13_ONLY,
      host: d.host,
      port: d.port,
      key: this.certificate.key,
      cert: this.certificate.cert,
      rejectUnauthorized: false,
      ALPNProtocols: [SYNC_ALPN],
    });
    d.socket = socket;
    socket.setTimeout(this.opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, () =>
      socket.destroy(),
    );
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      const did = this.admit(socket, true);
      if (did !== null) {
        d.did = did;
        d.backoffMs = 200;
      }
    });
    socket.once('close', () => {
      d.socket = null;
      this.redial(d);
    });
    socket.on('error', () => {});
  }

  private redial(d: Dial): void {
    if (this.closed || d.timer !== null) return;
    d.timer = setTimeout(() => {
      d.timer = null;
      this.connectOut(d);
    }, d.backoffMs);
    d.timer.unref();
    d.backoffMs = Math.min(d.backoffMs * 2, 10_000);
  }

  /** The handshake is done: check the binding and admission, then attach or refuse. */
  private admit(socket: TLSSocket, dialer: boolean): string | null {
    socket.on('error', () => {});
    if (this.closed) {
      socket.destroy();
      return null;
    }
    if (socket.alpnProtocol !== SYNC_ALPN)
      return this.refuse(socket, NetCode.PROTOCOL_VERSION, 'no common ALPN protocol');
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) return this.refuse(socket, NetCode.CERT_BINDING, 'no certificate');
    let did: string;
    try {
      did = verifyPeerCertificate(new Uint8Array(cert.raw), this.now(), this.opts.verify).did;
    } catch (e) {
      if (e instanceof NetError) return this.refuse(socket, e.code, e.message);
      throw e;
    }
    if (did === this.opts.self)
      return this.refuse(socket, NetCode.SELF_CONNECTION, 'a connection to ourselves', did);
    if (!this.opts.admitted(did))
      return this.refuse(socket, NetCode.NOT_ADMITTED, 'this identity is not admitted', did);
    this.attach(socket, did, dialer);
    return did;
  }

  private refuse(socket: TLSSocket, code: NetErrorCode, detail: string, did?: string): null {
    this.stats.refused++;
    this.stats.refusedByCode[code] = (this.stats.refusedByCode[code] ?? 0) + 1;
    this.refusedSockets.add(socket);
    this.opts.onRefused?.({ code, detail, ...(did === undefined ? {} : { did }) });
    // One GOODBYE, then close; no 'data' listener is attached, so nothing it sent is read.
    socket.end(encodeFrame(encodeMessage({ type: 'goodbye', code, detail })));
    setTimeout(() => socket.destroy(), 1000).unref();
    return null;
  }

  private attach(socket: TLSSocket, did: string, dialer: boolean): void {
    const existing = this.sockets.get(did);
    if (existing !== undefined) {
      // Both sides dialed: keep the connection dialed by the smaller identity (both sides agree).
      const preferDialer = this.opts.self < did;
      if (dialer === preferDialer && existing.dialer !== preferDialer) {
        this.detach(did, existing.socket, NetCode.DUPLICATE_CONNECTION);
      } else {
        socket.end(
          encodeFrame(
            encodeMessage({
              type: 'goodbye',
              code: NetCode.DUPLICATE_CONNECTION,
              detail: 'already connected',
            }),
          ),
        );
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
    }
    this.sockets.set(did, { socket, dialer });
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    socket.on('close', () => {
      if (this.sockets.get(did)?.socket === socket) {
        this.sockets.delete(did);
        this.opts.engine.disconnected(did, this.now());
        this.run();
      }
    });
    if (!this.opts.engine.connected(did, this.now())) {
      this.run();
      return;
    }
    this.opts.onConnected?.(did, `${socket.remoteAddress}:${socket.remotePort}`);
    socket.on('data', (chunk: Buffer) => {
      if (this.refusedSockets.has(socket)) {
        this.stats.framesFromRefused++; // unreachable: refused sockets have no listener
        return;
      }
      let frames: Uint8Array[];
      try {
        frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch (e) {
        if (!(e instanceof NetError)) throw e;
        socket.removeAllListeners('data');
        this.opts.engine.transportError(did, e.code, e.message, this.now());
        return this.run();
      }
      for (const frame of frames) {
        this.stats.framesIn++;
        this.opts.engine.received(did, frame, this.now());
      }
      this.run();
    });
    this.run();
  }

  /** Closes the connection to `did` (no longer admitted) with a GOODBYE saying why. */
  cut(did: string, detail: string): void {
    const socket = this.sockets.get(did)?.socket;
    if (socket === undefined) return;
    this.sockets.delete(did);
    this.opts.engine.disconnected(did, this.now());
    socket.end(encodeFrame(encodeMessage({ type: 'goodbye', code: NetCode.NOT_ADMITTED, detail })));
    setTimeout(() => socket.destroy(), 1000).unref();
    this.run();
  }

  private detach(did: string, socket: TLSSocket, code: NetErrorCode): void {
    this.sockets.delete(did);
    this.opts.engine.disconnected(did, this.now());
    socket.end(
      encodeFrame(
        encodeMessage({ type: 'goodbye', code, detail: 'replaced by another connection' }),
      ),
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private tick(): void {
    if (this.closed) return;
    this.opts.engine.tick(this.now());
    this.run();
  }

  /** Carries out everything the engine asked for. */
  private run(): void {
    for (
      let actions = this.opts.engine.drain();
      actions.length > 0;
      actions = this.opts.engine.drain()
    ) {
      for (const a of actions) this.carryOut(a);
    }
  }

  private carryOut(a: EngineAction): void {
    switch (a.type) {
      case 'send': {
        const socket = this.sockets.get(a.peer)?.socket;
        if (socket === undefined || socket.destroyed) return;
        const n = a.message.length;
        socket.write(encodeFrame(a.message), () => {
          this.opts.engine.flushed(a.peer, n);
          this.run();
        });
        return;
      }
      case 'validate':
        this.pendingValidation.push({ kind: a.kind, id: a.id, event: a.event, peer: a.peer });
        this.scheduleValidation();
        return;
      case 'close': {
        const attached = this.sockets.get(a.peer);
        if (attached === undefined) return;
        this.opts.onClosed?.(a.peer, a.code, a.detail);
        attached.socket.end(); // after what was written, the GOODBYE included
        setTimeout(() => attached.socket.destroy(), 2000).unref();
        return;
      }
      case 'alert':
        this.opts.onAlert?.(a.alert);
        return;
      case 'audit':
        this.opts.onAudit?.(a.record);
        return;
    }
  }

  /**
   * Hands what waits for validation to the node in batches, at most
   * {@link MAX_VALIDATION_BATCHES_IN_FLIGHT} at a time: what arrives meanwhile (from every peer)
   * waits for the next one, so under load the batches, and so the node's commits, grow (up to
   * {@link MAX_VALIDATION_BATCH}) instead of one small commit per socket read. An item waits at
   * most for the batches already in flight; the engine bounds how many wait (per peer).
   */
  private scheduleValidation(): void {
    if (this.validationScheduled || this.validationsInFlight >= MAX_VALIDATION_BATCHES_IN_FLIGHT)
      return;
    this.validationScheduled = true;
    setImmediate(() => {
      this.validationScheduled = false;
      if (this.closed || this.validationsInFlight >= MAX_VALIDATION_BATCHES_IN_FLIGHT) return;
      const batch = this.pendingValidation.splice(0, MAX_VALIDATION_BATCH);
      if (batch.length === 0) return;
      this.validationsInFlight++;
      const done = () => {
        this.validationsInFlight--;
        if (this.pendingValidation.length > 0) this.scheduleValidation();
      };
      this.opts.validate(batch).then(
        (verdicts) => {
          done();
          if (this.closed) return;
          // the i-th verdict is about the i-th item, whatever id the validator reports
          this.opts.engine.verdicts(
            batch.map((item, i) => ({
              ...(verdicts[i] ?? { outcome: 'rejected' as const, reason: 'ERR_NO_VERDICT' }),
              id: item.id,
            })),
            this.now(),
          );
          this.run();
        },
        () => {
          done();
          // the node could not take them (overloaded, stopping): reconciliation brings them back
          if (this.closed) return;
          this.opts.engine.verdicts(
            batch.map((i) => ({
              id: i.id,
              outcome: 'rejected' as const,
              reason: 'ERR_OVERLOADED',
            })),
            this.now(),
          );
          this.run();
        },
      );
      if (this.pendingValidation.length > 0) this.scheduleValidation();
    });
  }
}
