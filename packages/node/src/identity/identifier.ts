/**
 * The did:cs method (spec/IDENTITY.md §2): a self-certifying identifier derived from the
 * identity's inception event,
 *
 *     did:cs:z<base58btc( 0x12 0x20 || SHA-256(inception body) )>
 *
 * that is, the multibase (base58btc) of the sha2-256 multihash of the inception event's id.
 * Every such string has 54 characters (`did:cs:z`, then 46 digits that always start `Qm`).
 * Parsing is exact, as for did:key: one spelling per identity.
 */
import { decodeBase58btc, encodeBase58btc } from '../protocol/did.js';
import { Reason } from '../protocol/reasons.js';
import { type KelResult, kelAccept, kelReject } from './reasons.js';

export const DID_CS_PREFIX = 'did:cs:z';
/** The multihash header of a 32-byte SHA-256 digest: code 0x12, length 0x20. */
export const SHA256_MULTIHASH: readonly [number, number] = [0x12, 0x20];
/** `did:cs:z` + 46 base58btc digits: every 34-byte value starting 0x12 0x20 has 46 digits. */
export const DID_CS_LENGTH = DID_CS_PREFIX.length + 46;

/** The identifier of the identity whose inception event has this id (32 bytes). */
export function identifierFromInceptionId(inceptionId: Uint8Array): string {
  if (!(inceptionId instanceof Uint8Array) || inceptionId.length !== 32) {
    throw new TypeError('an inception id is a 32-byte SHA-256 digest');
  }
  const data = new Uint8Array(34);
  data.set(SHA256_MULTIHASH, 0);
  data.set(inceptionId, 2);
  return DID_CS_PREFIX + encodeBase58btc(data);
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, KelResult<Uint8Array>>();

function parseUncached(did: string): KelResult<Uint8Array> {
  if (did.length !== DID_CS_LENGTH || !did.startsWith(DID_CS_PREFIX)) {
    return kelReject(Reason.BAD_DID, 'not a did:cs (did:cs:z + 46 base58btc digits)');
  }
  const data = decodeBase58btc(did.slice(DID_CS_PREFIX.length));
  if (data === null) return kelReject(Reason.BAD_DID, 'did:cs has a character outside base58btc');
  if (data.length !== 34 || data[0] !== SHA256_MULTIHASH[0] || data[1] !== SHA256_MULTIHASH[1]) {
    return kelReject(Reason.BAD_DID, 'did:cs is not a sha2-256 multihash (0x12 0x20 + 32 bytes)');
  }
  return kelAccept(data.slice(2));
}

/**
 * The inception id (32 bytes) named by a did:cs, or an `ERR_BAD_DID` rejection. The returned
 * array is shared between calls (a bounded cache: identities repeat on the hot path): do not
 * modify it.
 */
export function parseIdentifier(did: unknown): KelResult<Uint8Array> {
  if (typeof did !== 'string') return kelReject(Reason.BAD_DID, 'a did:cs is a string');
  if (did.length !== DID_CS_LENGTH) return parseUncached(did);
  const hit = cache.get(did);
  if (hit !== undefined) return hit;
  const result = parseUncached(did);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(did, result);
  return result;
}

/** True for a string that parses as a did:cs. */
export function isIdentifier(did: unknown): did is string {
  return parseIdentifier(did).ok;
}
