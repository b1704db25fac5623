/**
 * Reading request bodies within limits. A body over the limit is never buffered past it: the
 * read stops at the first chunk that crosses the limit (or before reading at all, when
 * Content-Length says so). Every byte held counts against the client's and the server's
 * budgets (admission.ts). What follows an early answer is read and dropped while the
 * connection closes gracefully (connections.ts), so that the client can read the answer.
 */
import type { IncomingMessage } from 'node:http';

import { batchSize, type EventTextBatch, splitEventBody } from '../protocol/json-batch.js';
import type { BodyTicket } from './admission.js';
import { ApiCode, HttpError } from './errors.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_EVENTS_PER_REQUEST = 10_000;

/**
 * The declared Content-Length, if any; 413 when it is over the limit (checked before reading).
 */
export function checkDeclaredLength(req: IncomingMessage, maxBytes: number): number | undefined {
  const declared = req.headers['content-length'];
  if (declared === undefined) return undefined;
  const n = Number(declared);
  if (Number.isFinite(n) && n > maxBytes) throw tooLarge(maxBytes);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** 400 unless Content-Type is application/json, with no charset or a UTF-8 one. */
export function checkJsonContentType(req: IncomingMessage): void {
  const header = req.headers['content-type'];
  const [type = '', ...params] = (header ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  const utf8 =
    charset === undefined || charset === 'utf-8' || charset === '"utf-8"' || charset === 'utf8';
  if (type !== 'application/json' || !utf8) {
    throw new HttpError(
      400,
      ApiCode.CONTENT_TYPE,
      `expected Content-Type: application/json (UTF-8), got ${header === undefined ? 'none' : JSON.stringify(header)}`,
    );
  }
}

/**
 * The whole body, or a 413 {@link HttpError} as soon as more than `maxBytes` arrive. Every
 * chunk is counted in `ticket` first: a 429 when it does not fit the client's or the server's
 * budget, a 408 when the ticket is cut for a body arriving too slowly. Rejects with a 400 when
 * the client aborts (no response can reach it then anyway).
 */
export function readBody(
  req: IncomingMessage,
  maxBytes: number,
  ticket?: BodyTicket,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
      ticket?.doneReading();
    };
    const stop = (error: unknown): void => {
      cleanup();
      req.pause();
      chunks.length = 0;
      reject(error);
    };
    ticket?.onCut(stop);
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) {
        stop(tooLarge(maxBytes));
        return;
      }
      try {
        ticket?.add(chunk.length);
      } catch (error) {
        stop(error);
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
export function eventBatchOfBody(
  body: Uint8Array,
  maxEvents: number,
): { batch: EventTextBatch; single: boolean } {
  const split = splitEventBody(body, maxEvents);
  if (!split.ok) {
    if (split.why === 'too-many-events')
      throw new HttpError(400, ApiCode.TOO_MANY_EVENTS, `${split.detail}; at most ${maxEvents}`);
    throw new HttpError(
      400,
      ApiCode.MALFORMED,
      `${split.detail}: send one event (a JSON object) or a JSON array of events`,
    );
  }
  if (batchSize(split.batch) === 0)
    throw new HttpError(400, ApiCode.EMPTY_BATCH, 'the array holds no events');
  return { batch: split.batch, single: split.single };
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, ApiCode.BODY_TOO_LARGE, `the body is larger than ${maxBytes} bytes`);
}
