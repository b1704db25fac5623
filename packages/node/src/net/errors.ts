/**
 * Typed errors of the peer-to-peer layer (spec/SYNC.md §9). Every code is stable: a peer that
 * is disconnected is told the code in a GOODBYE message, and logs and tests match on it.
 */
import { CommonsSyncError } from '../errors.js';

export const NetCode = {
  /** A frame longer than the maximum frame size was announced (spec/SYNC.md §2). */
  FRAME_TOO_LARGE: 'ERR_FRAME_TOO_LARGE',
  /** A frame or message that does not decode, or a field out of range. */
  MALFORMED_MESSAGE: 'ERR_MALFORMED_MESSAGE',
  /** A reconciliation payload that does not decode or breaks the range rules. */
  MALFORMED_RECONCILE: 'ERR_MALFORMED_RECONCILE',
  /** A message that is not allowed in the connection's state (anything before HELLO, a second HELLO). */
  UNEXPECTED_MESSAGE: 'ERR_UNEXPECTED_MESSAGE',
  /** The peer speaks no sync protocol version that this node speaks. */
  PROTOCOL_VERSION: 'ERR_PROTOCOL_VERSION',
  /** No HELLO within the handshake time. */
  HELLO_TIMEOUT: 'ERR_HELLO_TIMEOUT',
  /** The peer's clock (HELLO) differs from ours by more than the allowed skew. */
  CLOCK_SKEW: 'ERR_CLOCK_SKEW',
  /** The HELLO names another identity than the TLS certificate proved. */
  IDENTITY_MISMATCH: 'ERR_IDENTITY_MISMATCH',
  /** The TLS certificate does not carry a valid identity binding (spec/SYNC.md §3). */
  CERT_BINDING: 'ERR_CERT_BINDING',
  /** The peer's identity is not in the admission set. */
  NOT_ADMITTED: 'ERR_NOT_ADMITTED',
  /** The peer's score fell below the disconnect threshold (spec/SYNC.md §8); it is banned for a while. */
  PEER_SCORE: 'ERR_PEER_SCORE',
  /** The peer does not read: its outbound queue passed its bound. */
  SLOW_PEER: 'ERR_SLOW_PEER',
  /** The peer signed two audit checkpoints that cannot both be true (spec/SYNC.md §7). */
  SPLIT_VIEW: 'ERR_SPLIT_VIEW',
  /** A second connection to the same identity; the older one is kept. */
  DUPLICATE_CONNECTION: 'ERR_DUPLICATE_CONNECTION',
  /** The node is stopping. */
  SHUTTING_DOWN: 'ERR_SHUTTING_DOWN',
  /** A connection to ourselves. */
  SELF_CONNECTION: 'ERR_SELF_CONNECTION',
} as const;

export type NetErrorCode = (typeof NetCode)[keyof typeof NetCode];

export const NET_CODES: readonly NetErrorCode[] = Object.freeze(Object.values(NetCode));

export function isNetCode(value: unknown): value is NetErrorCode {
  return typeof value === 'string' && (NET_CODES as readonly string[]).includes(value);
}

/** A peer-layer failure; `code` says which (see {@link NetCode}). */
export class NetError extends CommonsSyncError {
  declare readonly code: NetErrorCode;

  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
