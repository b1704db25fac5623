/**
 * Governance records (spec/GOVERNANCE.md §3–§5): the envelope shared by trust roots, critical
 * actions, trust attestations and their revocations; canonical encodings, ids, the signing
 * input, decoding (CBOR, and the value the JSON form reads to) and signing.
 *
 * Governance records are a third class beside events and key events: they never expire as
 * records (a root or an action changes state for good), they carry no nonce, and they have
 * their own signature domain, so that no signature over an event or a key event can pass for
 * one over a governance record. Everything that depends on input returns a {@link GovResult}.
 */
import { concatBytes, toHex, utf8 } from '../protocol/bytes.js';
import {
  CborError,
  type CborMap,
  type CborValue,
  decodeCbor,
  encodeCbor,
} from '../protocol/cbor.js';
import { didKeyFromPublicKey } from '../protocol/did.js';
import type { EventSignature, Hasher, SignatureCheck, Signer } from '../protocol/event.js';
import { Reason } from '../protocol/reasons.js';
import { GovReason, type GovResult, govAccept, govReject } from './reasons.js';
import { recordFromMap, SchemaStop } from './record-schema.js';
import {
  CRITICAL_KINDS,
  type DecodedRecord,
  GOV_CBOR_LIMITS,
  GOV_LIMITS,
  type GovernanceRecord,
  type PrincipalEntry,
  type RecordBody,
  type TrustPolicy,
} from './record-types.js';

export * from './record-types.js';

// ---------------------------------------------------------------------------------------------
// Encodings, id, signing input (§5)

function entryToMap(e: PrincipalEntry): CborMap {
  return e.keyState === undefined ? { id: e.id } : { id: e.id, key_state: e.keyState };
}
function policyToMap(p: TrustPolicy): CborMap {
  return { max_depth: p.maxDepth, min_paths: p.minPaths };
}

/** The body as a CBOR map with wire field names. */
export function recordBodyToMap(body: RecordBody): CborMap {
  const map: CborMap = { v: body.v, type: body.type, created_at: body.createdAt };
  const set = (key: string, value: CborValue | undefined): void => {
    if (value !== undefined) map[key] = value;
  };
  switch (body.type) {
    case 'root':
      set('version', body.version);
      set('prior', body.prior);
      set('expires_at', body.expiresAt);
      set('members', body.members.map(entryToMap));
      set('thresholds', Object.fromEntries(CRITICAL_KINDS.map((k) => [k, body.thresholds[k]])));
      set('validators', body.validators.map(entryToMap));
      set('protocol_versions', [...body.protocolVersions]);
      set('trust_policy', policyToMap(body.trustPolicy));
      break;
    case 'action':
      set('kind', body.kind);
      set('root', body.root);
      set('subject', body.subject);
      set('key_state', body.keyState);
      set(
        'protocol_versions',
        body.protocolVersions === undefined ? undefined : [...body.protocolVersions],
      );
      set(
        'trust_policy',
        body.trustPolicy === undefined ? undefined : policyToMap(body.trustPolicy),
      );
      break;
    case 'attestation':
      set('issuer', body.issuer);
      set('subject', body.subject);
      set('key_state', body.keyState);
      set('scope', body.scope);
      set('expires_at', body.expiresAt);
      break;
    case 'attestation-revocation':
      set('issuer', body.issuer);
      set('key_state', body.keyState);
      set('target', body.target);
      break;
  }
  return map;
}

function recordToMap(record: GovernanceRecord): CborMap {
  const map = recordBodyToMap(record);
  map['signatures'] = record.signatures.map((s) => ({ signer: s.signer, sig: s.sig }));
  return map;
}

/** Canonical CBOR of the body. Throws CborError for a value outside the data model. */
export function encodeRecordBody(body: RecordBody): Uint8Array {
  return encodeCbor(recordBodyToMap(body));
}

/** Canonical CBOR of the whole record. Throws CborError for a value outside the data model. */
export function encodeRecord(record: GovernanceRecord): Uint8Array {
  return encodeCbor(recordToMap(record));
}

/** ASCII "commons-sync/governance-signature/v1" and a zero byte. */
export const GOVERNANCE_SIGNATURE_DOMAIN = utf8('commons-sync/governance-signature/v1\0');

/** What every signature of a governance record signs: the domain tag, then the 32-byte id. */
export function recordSigningInput(id: Uint8Array): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== 32)
    throw new TypeError('a governance record id is 32 bytes');
  return concatBytes(GOVERNANCE_SIGNATURE_DOMAIN, id);
}

/** The id of the record this one names, if any: a root's prior, an action's root, a revocation's target. */
export function referenceOf(record: RecordBody): Uint8Array | undefined {
  switch (record.type) {
    case 'root':
      return record.prior;
    case 'action':
      return record.root;
    case 'attestation-revocation':
      return record.target;
    default:
      return undefined;
  }
}

/** Runs `fn`, turning a schema stop or a CBOR error into a rejection (every size limit: ERR_GOV_TOO_LARGE). */
function guarded<T>(fn: () => T): GovResult<T> {
  try {
    return govAccept(fn());
  } catch (error) {
    if (error instanceof SchemaStop) return error.rejection;
    if (error instanceof CborError)
      return govReject(
        error.code === Reason.TOO_LARGE ? GovReason.TOO_LARGE : error.code,
        error.message,
      );
    throw error;
  }
}

function finish(
  hasher: Hasher,
  checked: { record: GovernanceRecord; signerKeys: Uint8Array[] },
  encoded: Uint8Array,
): DecodedRecord {
  const body = encodeRecordBody(checked.record);
  const id = hasher.sha256(body);
  return {
    record: checked.record,
    encoded,
    body,
    id,
    idHex: toHex(id),
    signerKeys: checked.signerKeys,
  };
}

/** Steps 2–3 of §7 on a value already in the data model (the JSON form lands here). */
export function recordFromValue(hasher: Hasher, value: CborValue): GovResult<DecodedRecord> {
  return guarded(() => {
    const checked = recordFromMap(value);
    const encoded = encodeRecord(checked.record);
    if (encoded.length > GOV_LIMITS.maxRecordBytes)
      throw new SchemaStop(
        govReject(GovReason.TOO_LARGE, `the record encodes to ${encoded.length} bytes`),
      );
    decodeCbor(encoded, GOV_CBOR_LIMITS); // the CBOR form of the value must pass the profile too
    return finish(hasher, checked, encoded);
  });
}

/** Decodes a record from its canonical CBOR (§7 steps 1–3). Never throws on input. */
export function decodeRecord(hasher: Hasher, bytes: Uint8Array): GovResult<DecodedRecord> {
  if (!(bytes instanceof Uint8Array)) return govReject(Reason.MALFORMED, 'input is not bytes');
  return guarded(() =>
    finish(hasher, recordFromMap(decodeCbor(bytes, GOV_CBOR_LIMITS)), bytes.slice()),
  );
}

/** The (public key, message, signature) triples to verify, one per entry of `signatures`. */
export function recordSignatureChecks(decoded: DecodedRecord): SignatureCheck[] {
  const message = recordSigningInput(decoded.id);
  return decoded.record.signatures.map((s, i) => ({
    publicKey: decoded.signerKeys[i] as Uint8Array,
    message,
    signature: s.sig,
  }));
}

/** §7 step 4 (local): a record dated more than `skew` seconds after `now` is not yet valid. */
export function checkRecordTime(
  record: Pick<RecordBody, 'createdAt'>,
  now: number,
  skewSeconds = 300,
): GovResult<true> {
  if (record.createdAt > now + skewSeconds) {
    return govReject(
      Reason.NOT_YET_VALID,
      `created_at ${record.createdAt} is more than ${skewSeconds}s after now ${now}`,
    );
  }
  return govAccept(true);
}

/**
 * Signs a body with each seed (appending to signatures already present: co-signing) and checks
 * the result as {@link decodeRecord} would. Throws only for a seed that is not 32 bytes.
 */
export function signRecord(
  core: Signer,
  body: RecordBody & { readonly signatures?: readonly EventSignature[] },
  seeds: readonly Uint8Array[],
): GovResult<DecodedRecord> {
  const bodyBytes = guarded(() => encodeRecordBody(body));
  if (!bodyBytes.ok) return bodyBytes;
  const message = recordSigningInput(core.sha256(bodyBytes.value));
  const added = seeds.map((seed) => ({
    signer: didKeyFromPublicKey(core.ed25519PublicKey(seed)),
    sig: core.ed25519Sign(seed, message),
  }));
  const { signatures: existing = [], ...rest } = body;
  const record = { ...rest, signatures: [...existing, ...added] } as GovernanceRecord;
  const encoded = guarded(() => encodeRecord(record));
  if (!encoded.ok) return encoded;
  return decodeRecord(core, encoded.value);
}

/**
 * Which keys signed this copy of a record, as one string (distinct did:keys, ascending). Copies
 * of one record (same body and id, other signatures) are judged on their own signatures, and
 * tried in this order wherever several are held.
 */
export function signerSetOf(record: Pick<DecodedRecord, 'record'>): string {
  let set = signerSets.get(record.record);
  if (set === undefined) {
    set = [...new Set(record.record.signatures.map((s) => s.signer))].sort().join(' ');
    signerSets.set(record.record, set);
  }
  return set;
}
// Records are immutable once decoded: their signer sets are computed once (sorting copies needs them often).
const signerSets = new WeakMap<object, string>();

/** Orders copies of records: by id, then by signer set. */
export function byIdThenSigners(
  a: Pick<DecodedRecord, 'record' | 'idHex'>,
  b: Pick<DecodedRecord, 'record' | 'idHex'>,
): number {
  if (a.idHex !== b.idHex) return a.idHex < b.idHex ? -1 : 1;
  const sa = signerSetOf(a);
  const sb = signerSetOf(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
