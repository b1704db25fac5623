/**
 * The JSON form of an event (spec/PROTOCOL.md §3.4), used by the HTTP API: the same fields
 * and values as the CBOR form, with byte strings (`nonce`, `sig`) as lowercase hex. Writing it
 * is here; reading it is json-reader.ts, from bytes.
 */
import { toHex } from './bytes.js';
import type { CommonsEvent, Payload } from './event.js';

/** The JSON form, field for field. Optional fields are absent, never null; `key_state` is hex. */
export interface EventJson {
  v: number;
  kind: string;
  author: string;
  key_state?: string;
  created_at: number;
  expires_at: number;
  nonce: string;
  payload: Payload;
  threshold?: number;
  signers?: string[];
  signatures: Array<{ signer: string; sig: string }>;
}

/** The JSON form of an event. */
export function eventToJson(event: CommonsEvent): EventJson {
  return {
    v: event.v,
    kind: event.kind,
    author: event.author,
    ...(event.keyState === undefined ? {} : { key_state: toHex(event.keyState) }),
    created_at: event.createdAt,
    expires_at: event.expiresAt,
    nonce: toHex(event.nonce),
    payload: event.payload,
    ...(event.policy === undefined
      ? {}
      : { threshold: event.policy.threshold, signers: [...event.policy.signers] }),
    signatures: event.signatures.map((s) => ({ signer: s.signer, sig: toHex(s.sig) })),
  };
}
