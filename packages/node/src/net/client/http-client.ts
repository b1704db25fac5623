/**
 * A small JSON client for the node API on node:http and node:https, with a deadline per
 * request and a bound on the response size (a misbehaving server cannot fill our memory).
 * The CLI's commands that talk to a node (`submit`, `status`, `audit check-*`, `peers`) and
 * `demo` use it; it lives with the network part because it is how one talks to a node.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CommonsSyncError } from '../../errors.js';

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface ClientOptions {
  timeoutMs: number;
  /** PEM CA certificates to trust for https (a private CA or a self-signed node). */
  ca?: Buffer;
  /** PEM client certificate and key for mutual TLS. */
  cert?: Buffer;
  key?: Buffer;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

/** No answer at all: refused, reset, timed out, TLS failure. `retryable` for transient ones. */
export class TransportError extends CommonsSyncError {
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, cause?: unknown) {
    super('ERR_HTTP_TRANSPORT', message, { cause });
    this.retryable = retryable;
  }
}

const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export function requestJson(
  url: URL,
  method: 'GET' | 'POST',
  body: string | Uint8Array | undefined,
  opts: ClientOptions,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    }
    const tls =
      url.protocol === 'https:'
        ? {
            ...(opts.ca === undefined ? {} : { ca: opts.ca }),
            ...(opts.cert === undefined ? {} : { cert: opts.cert }),
            ...(opts.key === undefined ? {} : { key: opts.key }),
          }
        : {};
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const fail = (error: TransportError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      reject(error);
    };
    const req = send(url, { method, headers, agent: false, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          fail(
            new TransportError(
              `the response from ${url.origin} is larger than ${MAX_RESPONSE_BYTES} bytes`,
              false,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) =>
        fail(
          new TransportError(
            `reading the response from ${url.origin} failed: ${error.message}`,
            true,
            error,
          ),
        ),
      );
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
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
    const deadline = setTimeout(
      () =>
        fail(new TransportError(`no answer from ${url.origin} within ${opts.timeoutMs} ms`, true)),
      opts.timeoutMs,
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'ERR';
      fail(
        new TransportError(
          `cannot reach ${url.origin}: ${code === 'ERR' ? error.message : code}`,
          RETRYABLE_CODES.has(code),
          error,
        ),
      );
    });
    req.end(body);
  });
}

/** The `{ error: { code, message } }` of an API error answer, if it has one. */
export function apiError(answer: HttpAnswer): { code: string; message: string } {
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)
    ?.error;
  return {
    code: typeof error?.code === 'string' ? error.code : `HTTP_${answer.status}`,
    message: typeof error?.message === 'string' ? error.message : answer.text.slice(0, 200),
  };
}

/** Milliseconds to wait from a Retry-After header (seconds or an HTTP date), if usable. */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
