/**
 * The HTTP(S) server of the node API. See routes.ts for the routes; this file owns the
 * connection-level concerns: timeouts, TLS, the Host allow-list, admission by cost
 * (admission.ts), bounded pipelining and graceful early answers (connections.ts), error
 * responses, metrics, graceful close.
 *
 * Every error response is `{ error: { code, message } }` with a stable code (errors.ts),
 * including the ones written straight to the socket (request timeout, unparseable request).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '../errors.js';
import { type Logger, serializeError, silentLogger } from '../log.js';
import { tlsProtocolOptions } from '../net/transport/tls-options.js';
import type { NodeService } from '../service.js';
import {
  AdmissionControl,
  type AdmissionLimits,
  clientKey,
  overloaded,
  RETRY_AFTER_OVERLOADED_S,
} from './admission.js';
import { ConnectionControl, type ConnectionLimits } from './connections.js';
import { ApiCode, errorBody, HttpError } from './errors.js';
import { HostAllowList } from './host.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_EVENTS_PER_REQUEST } from './limits.js';
import { HttpMetrics } from './metrics.js';
import {
  allowedMethods,
  matchRoute,
  type Reply,
  type RouteContext,
  serviceErrorToHttp,
  shuttingDown,
} from './routes.js';

export interface ApiTlsOptions {
  /** PEM private key. */
  key: string | Buffer;
  /** PEM certificate chain. */
  cert: string | Buffer;
  /** PEM CA certificates that client certificates must chain to. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Mutual TLS: refuse clients without a certificate that chains to `ca`. */
  requestClientCert?: boolean;
  /** Also accept TLS 1.2 (ECDHE + AEAD suites only); default TLS 1.3 only. */
  allowTls12?: boolean;
}

export interface ApiServerOptions {
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  tls?: ApiTlsOptions;
  /** Default 16 MiB. */
  maxBodyBytes?: number;
  /** Default 10,000. */
  maxEventsPerRequest?: number;
  /** POST /v1/events requests being ingested at once, counted once their body arrived; default 32. */
  maxInFlight?: number;
  /** Per-client and total budgets for connections and request bodies (admission.ts). */
  admission?: Partial<Omit<AdmissionLimits, 'maxIngestInFlight'>>;
  /** Pipelining and unsent-answer bounds, early-answer linger (connections.ts). */
  connections?: Partial<ConnectionLimits>;
  /** Host names served besides localhost and IP literals (host.ts); `*` serves any. */
  allowedHosts?: readonly string[];
  /** Connections at once, all clients (default 4,096). */
  maxConnections?: number;
  /** Time to receive the request headers (and the TLS handshake); default 10 s. */
  headersTimeoutMs?: number;
  /** Time to receive the whole request, body included; default 60 s. */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this; default 5 s. */
  keepAliveTimeoutMs?: number;
  /** A connection with no traffic either way (a client not reading) is cut; default 120 s. */
  idleTimeoutMs?: number;
  /** close() waits this long for requests in progress, then cuts them; default 10 s. */
  closeGraceMs?: number;
  logger?: Logger;
}

export interface ApiServer {
  /** `http(s)://host:port` (a wildcard host is given as loopback). */
  readonly url: string;
  /**
   * Answers 503 to new requests, lets those in progress finish (up to `closeGraceMs`), then
   * closes every connection. Idempotent. Does not close the service: its owner does.
   */
  close(): Promise<void>;
}

export async function startApiServer(
  service: NodeService,
  opts: ApiServerOptions,
): Promise<ApiServer> {
  const log = (opts.logger ?? silentLogger).child({ component: 'api' });
  const requestTimeout = positive(opts.requestTimeoutMs, 60_000, 'requestTimeoutMs');
  const headersTimeout = Math.min(
    positive(opts.headersTimeoutMs, 10_000, 'headersTimeoutMs'),
    requestTimeout,
  );
  const admission = new AdmissionControl({
    ...checkedLimits(opts.admission ?? {}),
    ...(opts.maxInFlight === undefined
      ? {}
      : { maxIngestInFlight: positive(opts.maxInFlight, 1, 'maxInFlight') }),
  });
  const metrics = new HttpMetrics();
  const connections = new ConnectionControl(checkedLimits(opts.connections ?? {}), (reason) => {
    metrics.connectionCut(reason);
    log.debug('connection cut', { reason });
  });
  const hosts = new HostAllowList(opts.allowedHosts ?? []);
  const ctx: RouteContext = {
    service,
    metrics,
    admission,
    limits: {
      maxBodyBytes: positive(opts.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes'),
      maxEventsPerRequest: positive(
        opts.maxEventsPerRequest,
        DEFAULT_MAX_EVENTS_PER_REQUEST,
        'maxEventsPerRequest',
      ),
    },
  };
  const closeGraceMs = opts.closeGraceMs ?? 10_000;
  let closing = false;
  const active = new Set<ServerResponse>();
  let onIdle: (() => void) | undefined;

  const serverOptions = {
    requestTimeout,
    headersTimeout,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
    // Timeouts are enforced by a periodic sweep; keep it fine enough for the smallest one.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 2))),
  };
  const server: Server =
    opts.tls === undefined
      ? createHttpServer(serverOptions)
      : createHttpsServer({
          ...serverOptions,
          key: opts.tls.key,
          cert: opts.tls.cert,
          ...(opts.tls.ca === undefined ? {} : { ca: opts.tls.ca }),
          requestCert: opts.tls.requestClientCert === true,
          rejectUnauthorized: opts.tls.requestClientCert === true,
          handshakeTimeout: headersTimeout,
          ...tlsProtocolOptions(opts.tls.allowTls12 === true),
        });
  server.timeout = opts.idleTimeoutMs ?? 120_000;
  server.maxConnections = positive(opts.maxConnections, 4_096, 'maxConnections');

  // Input reaches the HTTP parser in slices, only while the connection may take requests.
  let metered = true;
  server.on(opts.tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    if (!connections.meter(socket) && metered) {
      metered = false;
      log.warn(
        "this Node version's HTTP server is not laid out as expected; pipelined input is parsed a whole chunk at a time",
      );
    }
  });

  // Connections per client, counted on the TCP socket (before TLS). A client over its share
  // is answered 429 on its first request and closed; one far over it is dropped at once.
  const overLimit = new Set<string>();
  server.on('connection', (socket: Socket) => {
    const client = clientKey(socket.remoteAddress);
    const within = admission.connectionOpened(client);
    const id = `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
    socket.once('close', () => {
      admission.connectionClosed(client);
      overLimit.delete(id);
    });
    if (within) return;
    metrics.refused('connections');
    if (admission.connectionsOf(client) > 2 * admission.limits.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    overLimit.add(id);
  });

  // Bodies arriving more slowly than the minimum rate are cut with a 408.
  const sweep = setInterval(
    () => {
      for (const ticket of admission.tooSlow(Date.now())) {
        metrics.refused('slow-body');
        ticket.cut(
          new HttpError(
            408,
            ApiCode.BODY_TOO_SLOW,
            `the body arrived more slowly than ${admission.limits.minBodyBytesPerSecond} bytes per second`,
          ),
        );
      }
    },
    Math.max(50, Math.min(500, Math.floor(admission.limits.bodyRateGraceMs / 4))),
  );
  sweep.unref();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    let route = 'unmatched';
    ctx.metrics.requestStarted();
    active.add(res);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      active.delete(res);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.metrics.requestEnded(route, req.method ?? '', res.statusCode, seconds);
      if (log.isEnabled('debug')) {
        log.debug('request', {
          method: req.method,
          path: req.url,
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
        });
      }
      if (closing) {
        server.closeIdleConnections();
        if (active.size === 0) onIdle?.();
      }
    };
    res.once('finish', finish);
    res.once('close', finish);
    res.on('error', () => undefined); // a client gone mid-response is not our error

    const handle = async (): Promise<Reply> => {
      if (closing) throw shuttingDown();
      hosts.check(req.headers.host);
      if (overLimit.has(`${req.socket.remoteAddress ?? ''}|${req.socket.remotePort ?? ''}`)) {
        throw overloaded(
          `more than ${admission.limits.maxConnectionsPerClient} connections from this client`,
        );
      }
      const path = pathOf(req.url);
      const matched = matchRoute(path);
      if (matched === undefined)
        throw new HttpError(
          404,
          ApiCode.NOT_FOUND,
          `no route ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`,
        );
      route = matched.route.pattern;
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const handler =
        method === 'GET' || method === 'POST' ? matched.route.methods[method] : undefined;
      if (handler === undefined) {
        const allow = allowedMethods(matched.route).join(', ');
        throw new HttpError(
          405,
          ApiCode.METHOD_NOT_ALLOWED,
          `${req.method ?? '?'} is not allowed on ${route}; use ${allow}`,
          { Allow: allow },
        );
      }
      try {
        return await handler(req, matched.params, ctx);
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw serviceErrorToHttp(error) ?? error;
      }
    };

    // Pipelined requests wait their turn here; an answer is written once it is this one's turn.
    connections.admit(req, res, (sending) => {
      const reply = (r: Reply, headers: Readonly<Record<string, string>> = {}): void => {
        const overloadedConn = overLimit.has(
          `${req.socket.remoteAddress ?? ''}|${req.socket.remotePort ?? ''}`,
        );
        const close = closing || overloadedConn || !req.complete;
        if (close) connections.lingerOnClose(req.socket);
        send(req, res, r, headers, close, sending);
      };
      handle().then(
        (r) => reply(r, r.headers),
        (error: unknown) => {
          if (error instanceof HttpError) {
            if (error.status === 429 || error.status === 408 || error.status === 421)
              ctx.metrics.refused(error.code);
            reply(
              { status: error.status, json: errorBody(error.code, error.message) },
              error.headers,
            );
            return;
          }
          log.error('request failed', { method: req.method, route, error: serializeError(error) });
          reply({
            status: 500,
            json: errorBody(ApiCode.INTERNAL, 'internal error; see the node log'),
          });
        },
      );
    });
  });

  // `Expect: 100-continue`: invite the body only when it may be read, so that a client told
  // 413 (or 503) never sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (!closing && !(declared > ctx.limits.maxBodyBytes)) res.writeContinue();
    server.emit('request', req, res);
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // What Node does by default, with a JSON body: answer unless a response is under way; then
    // close gracefully (connections.ts), so that a client still sending reads the answer.
    const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })
      ._httpMessage;
    if (
      socket.writable &&
      inProgress?.headersSent !== true &&
      error.code !== 'ECONNRESET' &&
      error.code !== 'EPIPE'
    ) {
      const [status, code] =
        error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, ApiCode.REQUEST_TIMEOUT]
          : error.code === 'HPE_HEADER_OVERFLOW'
            ? [431, ApiCode.HEADERS_TOO_LARGE]
            : [400, ApiCode.BAD_REQUEST];
      const message =
        status === 408 ? 'the request took too long to arrive' : 'the request could not be parsed';
      const body = JSON.stringify(errorBody(code, message));
      const answered = connections.endWith(
        socket,
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      if (answered) ctx.metrics.clientError(status);
      return;
    }
    socket.destroy();
  });
  server.on('tlsClientError', (error: Error) => {
    log.debug('TLS handshake failed', { error: serializeError(error) });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new ConfigError(
          'ERR_LISTEN',
          `cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port}: ${error.code ?? error.message}`,
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => log.error('server error', { error: serializeError(error) }));

  const url = `${opts.tls === undefined ? 'http' : 'https'}://${displayHost(server.address() as AddressInfo)}`;
  log.info('listening', { url });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      clearInterval(sweep);
      const grace = setTimeout(() => server.closeAllConnections(), closeGraceMs);
      server.close(() => {
        clearTimeout(grace);
        log.info('closed', { url });
        resolve();
      });
      server.closeIdleConnections();
      onIdle = () => server.closeIdleConnections();
      if (active.size === 0) onIdle();
    });
    return closed;
  };
  return { url, close };
}

/**
 * Writes a reply. `close`: the connection ends after it (an answer given before the body was
 * read, a client over its connection share, shutdown): `Connection: close`, and what the
 * client still sends is dropped while the connection lingers (connections.ts).
 */
function send(
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  headers: Readonly<Record<string, string>>,
  close: boolean,
  sending: (bytes: number) => void,
): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  let body: string;
  let contentType: string;
  let status = reply.status;
  if ('json' in reply) {
    contentType = 'application/json; charset=utf-8';
    try {
      body = JSON.stringify(reply.json) ?? 'null';
    } catch {
      status = 500;
      body = JSON.stringify(errorBody(ApiCode.INTERNAL, 'the response could not be encoded'));
    }
  } else {
    contentType = reply.contentType;
    body = reply.text;
  }
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (status === 429 && !res.hasHeader('Retry-After'))
    res.setHeader('Retry-After', String(RETRY_AFTER_OVERLOADED_S));
  const length = Buffer.byteLength(body);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', length);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (close) {
    res.setHeader('Connection', 'close');
    // The unread rest of the body is dropped as it arrives, while the connection lingers.
    if (!req.complete) req.resume();
  }
  sending(length);
  res.end(body);
}

/** The path of a request target, without the query; 400 for targets that are not paths. */
function pathOf(target: string | undefined): string {
  if (target === undefined || !target.startsWith('/')) {
    throw new HttpError(400, ApiCode.BAD_REQUEST, 'the request target must be a path');
  }
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}

function displayHost(address: AddressInfo): string {
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Each given limit must be a positive integer. */
function checkedLimits<T extends object>(limits: Partial<T>): Partial<T> {
  for (const [name, value] of Object.entries(limits)) {
    if (value !== undefined) positive(value as number, 1, name);
  }
  return limits;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError('ERR_CONFIG', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}
