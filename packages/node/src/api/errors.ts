/**
 * The errors of the HTTP API. Every error response is `{ error: { code, message } }` with one
 * of the stable codes below; clients match on `code`, never on `message`.
 */
import { CommonsSyncError } from '../errors.js';

export const ApiCode = {
  /**
   * The body of POST /v1/events is neither a JSON array nor a JSON object (spec/PROTOCOL.md
   * §3.5), so no event can be told apart in it: the protocol's code for text that is not an event.
   */
  MALFORMED: 'ERR_MALFORMED',
  /** The request is unusable (a target that is not a path, a body that could not be read). */
  BAD_REQUEST: 'ERR_BAD_REQUEST',
  /** Content-Type is missing or not application/json (UTF-8). */
  CONTENT_TYPE: 'ERR_CONTENT_TYPE',
  /** An array of zero events. */
  EMPTY_BATCH: 'ERR_EMPTY_BATCH',
  /** More events in one request than the server allows. */
  TOO_MANY_EVENTS: 'ERR_TOO_MANY_EVENTS',
  /** An event id in the path that is not 64 hex digits. */
  BAD_ID: 'ERR_BAD_ID',
  /** An identity in the path that is not a did:cs (spec/IDENTITY.md §2). */
  BAD_DID: 'ERR_BAD_DID',
  /** The event is stored as evidence only: a key event invalidated it (410). */
  EVENT_INVALIDATED: 'ERR_EVENT_INVALIDATED',
  NOT_FOUND: 'ERR_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'ERR_METHOD_NOT_ALLOWED',
  /** The client took too long to send its request. */
  REQUEST_TIMEOUT: 'ERR_REQUEST_TIMEOUT',
  /** The body arrived more slowly than the server's minimum rate. */
  BODY_TOO_SLOW: 'ERR_BODY_TOO_SLOW',
  /** The Host header names no allowed name of this node (DNS rebinding defence). */
  HOST_NOT_ALLOWED: 'ERR_HOST_NOT_ALLOWED',
  /** An audit proof that needs a checkpoint not signed yet: retry after `Retry-After`. */
  CHECKPOINT_PENDING: 'ERR_CHECKPOINT_PENDING',
  /** A query parameter that is missing or out of range. */
  BAD_QUERY: 'ERR_BAD_QUERY',
  /** The body is longer than the server accepts. */
  BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  /** Request headers too large for the server. */
  HEADERS_TOO_LARGE: 'ERR_HEADERS_TOO_LARGE',
  /** The node or the server is saturated: retry after `Retry-After` seconds. */
  OVERLOADED: 'ERR_OVERLOADED',
  /** The node is stopping. */
  SHUTTING_DOWN: 'ERR_SHUTTING_DOWN',
  /** A bug or an unexpected failure; details are in the server log, not the response. */
  INTERNAL: 'ERR_INTERNAL',
} as const;

export type ApiCodeValue = (typeof ApiCode)[keyof typeof ApiCode];

/** An error that maps to one HTTP response. */
export class HttpError extends CommonsSyncError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ApiCodeValue,
    message: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
    this.status = status;
    this.headers = headers;
  }
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
