/**
 * The protocol's version and limits (spec/PROTOCOL.md §6, §7 step 2): a leaf that the encoders,
 * the readers and the rules all import, so none of them has to import another for a number.
 * Changing a limit changes which events are valid: it is a protocol change.
 */
import { type Check, OK, Reason, reject } from './reasons.js';

export const PROTOCOL_VERSION = 1;

/** The limits of §6. */
export const LIMITS = Object.freeze({
  /** Canonical CBOR encoding of the whole event, signatures included. */
  maxEventBytes: 65_536,
  /** Containers nested in the payload (a scalar payload has depth 0). */
  maxPayloadDepth: 16,
  /** Any text string, map keys included, in UTF-8 bytes. */
  maxTextBytes: 16_384,
  /** Any byte string (the longest field is a 64-byte signature). */
  maxByteStringBytes: 64,
  /** Entries of any one array or map. */
  maxEntries: 4_096,
  /** `kind`, in bytes (printable ASCII). */
  maxKindBytes: 64,
  /** Keys in `signers`. */
  maxSigners: 32,
  /** Entries in `signatures`. */
  maxSignatures: 32,
  minNonceBytes: 16,
  maxNonceBytes: 32,
  signatureBytes: 64,
});

/**
 * Longest JSON text of one event, in bytes (§6). Every valid event has a JSON form far below
 * it: the minimal form is at most six bytes per byte of canonical CBOR (`"\u0001"` for one
 * text byte, `false,` for one item), 6 × 65,536 = 393,216 bytes.
 */
export const MAX_EVENT_JSON_BYTES = 524_288;

/** §7 step 2. `v` must be the unsigned integer 1 (any other unsigned integer: unsupported). */
export function checkVersion(v: unknown): Check {
  if (v === undefined) return reject(Reason.BAD_FIELD, 'field v is missing');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    return reject(Reason.BAD_FIELD, 'field v must be an unsigned integer');
  }
  if (v !== PROTOCOL_VERSION) {
    return reject(
      Reason.UNSUPPORTED_VERSION,
      `protocol version ${v} (this node speaks ${PROTOCOL_VERSION})`,
    );
  }
  return OK;
}
