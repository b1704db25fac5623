/**
 * The only type that storage accepts: an event that passed every rule of spec/PROTOCOL.md §7.
 * Declared here, below both the pipeline and storage, because both name it; created only by
 * the validation pipeline (`pipeline/verified.ts`, `brandVerified`), after every check has
 * passed (signatures included). The brand is a symbol no module can name, so a plain object
 * with the same fields does not type-check where a VerifiedEvent is required, and unverified
 * data cannot reach storage by accident.
 */
declare const verifiedBrand: unique symbol;

export interface VerifiedEventFields {
  /** 32-byte event id (SHA-256 of the canonical body, see spec/PROTOCOL.md). */
  readonly id: Uint8Array;
  /** The id as lowercase hex. */
  readonly idHex: string;
  /** The author's DID (did:key). */
  readonly author: string;
  readonly kind: string;
  /** The author's replay nonce. */
  readonly nonce: Uint8Array;
  /** Unix time in seconds. */
  readonly createdAt: number;
  /** Unix time in seconds; the replay record must be kept at least until then. */
  readonly expiresAt: number;
  /** The canonical CBOR encoding of the whole event, signatures included. */
  readonly encoded: Uint8Array;
}

export type VerifiedEvent = VerifiedEventFields & { readonly [verifiedBrand]: true };
