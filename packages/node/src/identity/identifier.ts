/**
 * The did:cs method (spec/IDENTITY.md §2): a self-certifying identifier derived from the
 * identity's inception event,
 *
 *     did:cs:z<base58btc( 0x12 0x20 || SHA-256(inception body) )>
 *
 * that is, the multibase (base58btc) of the sha2-256 multihash of the inception event's id.
 * Every such string has 54 characters (`did:cs:z`, then 46 digits that always start `Qm`).
 * Parsing is exact, as for did:key: one spelling per identity. The syntax lives with the event
 * format (`protocol/did.ts`), since an event's author may be a did:cs; these are its names here.
 */
import {
  DID_CS_LENGTH,
  DID_CS_PREFIX,
  didCsFromInceptionId,
  parseDidCs,
  SHA256_MULTIHASH,
} from '../protocol/did.js';
import type { KelResult } from './reasons.js';

export { DID_CS_LENGTH, DID_CS_PREFIX, SHA256_MULTIHASH };

/** The identifier of the identity whose inception event has this id (32 bytes). */
export function identifierFromInceptionId(inceptionId: Uint8Array): string {
  return didCsFromInceptionId(inceptionId);
}

/**
 * The inception id (32 bytes) named by a did:cs, or an `ERR_BAD_DID` rejection. The returned
 * array is shared between calls (a bounded cache: identities repeat on the hot path): do not
 * modify it.
 */
export function parseIdentifier(did: unknown): KelResult<Uint8Array> {
  return parseDidCs(did);
}

/** True for a string that parses as a did:cs. */
export function isIdentifier(did: unknown): did is string {
  return parseIdentifier(did).ok;
}
