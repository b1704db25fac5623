/**
 * The HTTP(S) server of the node API. See routes.ts for the routes; this file owns the
 * connection-level concerns: timeouts, TLS, error responses, metrics, graceful close.
 *
 * Every error response is `{ error: { code, message } }` with a stable code (errors.ts),
 * including the ones written straight to the socket (request timeout, unparseable request).
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '../errors.js';
import { serializeError, silentLogger, type Logger } from '../log.js';
import type { NodeService } from '../service.js';
import { ApiCode, errorBody, HttpError } from './errors.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENTS_PER_REQUEST,
  DEFAULT_MAX_IN_FLIGHT,
  drainBounded,
} from './limits.js';
import { HttpMetrics } from './metrics.js';
import { allowedMethods, matchRoute, serviceErrorToHttp, shuttingDown, type Reply, type RouteContext } from './routes.js';

export interface ApiTlsOptions {
  /** PEM private key. */
  key: string | Buffer;
  /** PEM certificate chain. */
  cert: string | Buffer;
  /** PEM CA certificates that client certificates must chain to. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Mutual TLS: refuse clients without a certificate that chains to `ca`. */
  requestClientCert?: boolean;
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
  /** POST /v1/events requests admitted at once (reading or ingesting); default 32. */
  maxInFlight?: number;
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

export async function startApiServer(service: NodeService, opts: ApiServerOptions): Promise<ApiServer> {
  const log = (opts.logger ?? silentLogger).child({ component: 'api' });
  const requestTimeout = positive(opts.requestTimeoutMs, 60_000, 'requestTimeoutMs');
  const headersTimeout = Math.min(positive(opts.headersTimeoutMs, 10_000, 'headersTimeoutMs'), requestTimeout);
  const ctx: RouteContext = {
    service,
    metrics: new HttpMetrics(),
    limits: {
      maxBodyBytes: positive(opts.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes'),
      maxEventsPerRequest: positive(opts.maxEventsPerRequest, DEFAULT_MAX_EVENTS_PER_REQUEST, 'maxEventsPerRequest'),
      maxInFlight: positive(opts.maxInFlight, DEFAULT_MAX_IN_FLIGHT, 'maxInFlight'),
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
          minVersion: 'TLSv1.2',
        });
  server.timeout = opts.idleTimeoutMs ?? 120_000;

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
        log.debug('request', { method: req.method, path: req.url, route, status: res.statusCode, ms: Math.round(seconds * 1000) });
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
      const path = pathOf(req.url);
      const matched = matchRoute(path);
      if (matched === undefined) throw new HttpError(404, ApiCode.NOT_FOUND, `no route ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`);
      route = matched.route.pattern;
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const handler = method === 'GET' || method === 'POST' ? matched.route.methods[method] : undefined;
      if (handler === undefined) {
        const allow = allowedMethods(matched.route).join(', ');
        throw new HttpError(405, ApiCode.METHOD_NOT_ALLOWED, `${req.method ?? '?'} is not allowed on ${route}; use ${allow}`, { Allow: allow });
      }
      try {
        return await handler(req, matched.params, ctx);
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw serviceErrorToHttp(error) ?? error;
      }
    };

    handle().then(
      (reply) => send(req, res, reply, {}, closing),
      (error: unknown) => {
        if (error instanceof HttpError) {
          send(req, res, { status: error.status, json: errorBody(error.code, error.message) }, error.headers, closing);
          return;
        }
        log.error('request failed', { method: req.method, route, error: serializeError(error) });
        send(req, res, { status: 500, json: errorBody(ApiCode.INTERNAL, 'internal error; see the node log') }, {}, closing);
      },
    );
  });

  // `Expect: 100-continue`: invite the body only when it may be read, so that a client told
  // 413 (or 503) never sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (!closing && !(declared > ctx.limits.maxBodyBytes)) res.writeContinue();
    server.emit('request', req, res);
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // What Node does by default, with a JSON body: answer unless a response is under way.
    const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && inProgress?.headersSent !== true && error.code !== 'ECONNRESET') {
      const [status, code] =
        error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, ApiCode.REQUEST_TIMEOUT]
          : error.code === 'HPE_HEADER_OVERFLOW'
            ? [431, ApiCode.HEADERS_TOO_LARGE]
            : [400, ApiCode.BAD_REQUEST];
      const message = status === 408 ? 'the request took too long to arrive' : 'the request could not be parsed';
      const body = JSON.stringify(errorBody(code, message));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      ctx.metrics.clientError(status);
    }
    socket.destroy();
  });
  server.on('tlsClientError', (error: Error) => {
    log.debug('TLS handshake failed', { error: serializeError(error) });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new ConfigError('ERR_LISTEN', `cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port}: ${error.code ?? error.message}`, { cause: error }));
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

function send(
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  headers: Readonly<Record<string, string>>,
  closing: boolean,
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
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (closing) res.setHeader('Connection', 'close');
  // An answer given before the body was read (413, 429, 400...): drop the rest, within bounds.
  if (!req.complete) drainBounded(req);
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

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError('ERR_CONFIG', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}
