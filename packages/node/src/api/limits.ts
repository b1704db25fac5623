/**
 * Reading request bodies within limits. A body over the limit is never buffered past it: the
 * read stops at the first chunk that crosses the limit (or before reading at all, when
 * Content-Length says so), and what follows is discarded, up to a bound, so that the client
 * can still read the 413 before the connection is cut.
 */
import type { IncomingMessage } from 'node:http';

import { batchSize, splitEventBody, type EventTextBatch } from '../protocol/json-batch.js';
import { ApiCode, HttpError } from './errors.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_EVENTS_PER_REQUEST = 10_000;
export const DEFAULT_MAX_IN_FLIGHT = 32;

/** After an early answer, how much of an unwanted body is read and dropped before cutting. */
const DRAIN_MAX_BYTES = 1024 * 1024;
const DRAIN_MAX_MS = 2_000;

/** 413 when the declared Content-Length is over the limit (checked before reading). */
export function checkDeclaredLength(req: IncomingMessage, maxBytes: number): void {
  const declared = req.headers['content-length'];
  if (declared === undefined) return;
  const n = Number(declared);
  if (Number.isFinite(n) && n > maxBytes) throw tooLarge(maxBytes);
}

/** 400 unless Content-Type is application/json, with no charset or a UTF-8 one. */
export function checkJsonContentType(req: IncomingMessage): void {
  const header = req.headers['content-type'];
  const [type = '', ...params] = (header ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  const utf8 = charset === undefined || charset === 'utf-8' || charset === '"utf-8"' || charset === 'utf8';
  if (type !== 'application/json' || !utf8) {
    throw new HttpError(
      400,
      ApiCode.CONTENT_TYPE,
      `expected Content-Type: application/json (UTF-8), got ${header === undefined ? 'none' : JSON.stringify(header)}`,
    );
  }
}

/**
 * The whole body, or a 413 {@link HttpError} as soon as more than `maxBytes` arrive. Rejects
 * with a 400 when the client aborts (no response can reach it then anyway).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) {
        cleanup();
        req.pause();
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (): void => {
      cleanup();
      reject(new HttpError(400, ApiCode.BAD_REQUEST, 'the request body could not be read'));
    };
    const onClose = (): void => {
      if (req.complete) return; // 'end' settles it
      onError();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * The events of a POST /v1/events body as JSON texts, split as spec/PROTOCOL.md §3.5 says,
 * without parsing them: each text reaches the node's reader exactly as received. `single` when
 * the body is one event (an object). A 400 {@link HttpError} when the body is neither an array
 * nor an object (ERR_MALFORMED), is an empty array, or holds more than `maxEvents` elements.
 */
export function eventBatchOfBody(body: Uint8Array, maxEvents: number): { batch: EventTextBatch; single: boolean } {
  const split = splitEventBody(body, maxEvents);
  if (!split.ok) {
    if (split.why === 'too-many-events') throw new HttpError(400, ApiCode.TOO_MANY_EVENTS, `${split.detail}; at most ${maxEvents}`);
    throw new HttpError(400, ApiCode.MALFORMED, `${split.detail}: send one event (a JSON object) or a JSON array of events`);
  }
  if (batchSize(split.batch) === 0) throw new HttpError(400, ApiCode.EMPTY_BATCH, 'the array holds no events');
  return { batch: split.batch, single: split.single };
}

/**
 * Reads and drops what is left of a request body that will not be used, so that a keep-alive
 * connection can go on; cuts the connection instead once more than a bound arrives or the
 * client takes too long (an endless body must not pin the server).
 */
export function drainBounded(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  let seen = 0;
  const cut = (): void => {
    clearTimeout(timer);
    req.removeListener('data', onData);
    req.socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > DRAIN_MAX_BYTES) cut();
  };
  const timer = setTimeout(cut, DRAIN_MAX_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, ApiCode.BODY_TOO_LARGE, `the body is larger than ${maxBytes} bytes`);
}
