/**
 * The reference validator: every rule of spec/PROTOCOL.md §7 in order, one event at a time,
 * with plain single-signature verification. It is the oracle that the concurrent pipeline is
 * compared against; it keeps no state (the caller records accepted events for replay).
 */
import { toHex } from './bytes.js';
import { type DecodedEvent, decodeEvent, eventId, type Hasher, signatureChecks } from './event.js';
import { readEventJson } from './json-reader.js';
import { Outcome, type Rejection } from './reasons.js';
import {
  checkTime,
  checkTrust,
  classifyReplay,
  DEFAULT_TIME_RULES,
  evaluatePolicy,
  isIdentityAuthored,
  OPEN_TRUST,
  type TimeRules,
  type TrustPolicy,
} from './rules.js';

export interface Verifier extends Hasher {
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** What the identity verdict (spec/IDENTITY.md §8) reads of an event whose author is a did:cs. */
export interface IdentityAuthoredFields {
  readonly author: string;
  readonly createdAt: number;
  /** The `key_state` id as 64 lowercase hex digits. */
  readonly keyState: string;
  /** The did:keys of the event's signatures, every one of which verified. */
  readonly signers: readonly string[];
}

/** A refusal by the identity verdict: an `ERR_KEL_...` code of spec/IDENTITY.md §9. */
export interface IdentityRejection {
  readonly ok: false;
  readonly reason: string;
  readonly detail: string;
}

export type IdentityCheck = (
  event: IdentityAuthoredFields,
) => { readonly ok: true } | IdentityRejection;

/** Without key event logs, no identity is known (the verdict of a node that holds none). */
export const NO_IDENTITIES: IdentityCheck = (event) => ({
  ok: false,
  reason: 'ERR_KEL_UNKNOWN_IDENTITY',
  detail: `no inception of ${event.author} is held`,
});

/** The fields of the identity verdict, for an event whose author is a did:cs. */
export function identityAuthoredFields(
  event: DecodedEvent['event'],
): IdentityAuthoredFields | undefined {
  if (event.keyState === undefined) return undefined;
  return {
    author: event.author,
    createdAt: event.createdAt,
    keyState: toHex(event.keyState),
    signers: event.signatures.map((s) => s.signer),
  };
}

export interface ValidationContext {
  /** Integer Unix seconds. */
  readonly now: number;
  readonly timeRules?: TimeRules;
  readonly trust?: TrustPolicy;
  /** The id of the event accepted earlier with this author and nonce, if any. */
  readonly lookupReplay: (author: string, nonce: Uint8Array) => Uint8Array | undefined;
  /**
   * Step 7 for an author that is an identity: the verdict of spec/IDENTITY.md §8 against the
   * key event logs the caller holds (default: none held, {@link NO_IDENTITIES}).
   */
  readonly checkIdentity?: IdentityCheck;
}

export type Verdict =
  | {
      readonly ok: true;
      readonly outcome: (typeof Outcome)[keyof typeof Outcome];
      readonly id: Uint8Array;
      readonly decoded: DecodedEvent;
    }
  | Rejection
  | IdentityRejection;

export function validateEvent(
  core: Verifier,
  input: Uint8Array | DecodedEvent,
  ctx: ValidationContext,
): Verdict {
  let decoded: DecodedEvent;
  if (input instanceof Uint8Array) {
    const result = decodeEvent(input); // steps 1-3: decode and limits, version, schema
    if (!result.ok) return result;
    decoded = result.value;
  } else {
    decoded = input;
  }
  const { event } = decoded;
  const time = checkTime(event, ctx.now, ctx.timeRules ?? DEFAULT_TIME_RULES); // step 4
  if (!time.ok) return time;
  const id = eventId(core, decoded);
  const replay = classifyReplay(id, ctx.lookupReplay(event.author, event.nonce)); // step 5
  if (!replay.ok) return replay;
  if (replay.value === 'duplicate') return { ok: true, outcome: Outcome.DUPLICATE, id, decoded };
  const verdicts = signatureChecks(decoded, id).map((c) =>
    core.ed25519Verify(c.publicKey, c.message, c.signature),
  );
  const policy = evaluatePolicy(event, verdicts); // steps 6-7
  if (!policy.ok) return policy;
  if (isIdentityAuthored(event)) {
    // step 7 for an identity: its key state's threshold, from the key events held
    const fields = identityAuthoredFields(event) as IdentityAuthoredFields;
    const identity = (ctx.checkIdentity ?? NO_IDENTITIES)(fields);
    if (!identity.ok) return identity;
  }
  const trust = checkTrust(event.author, ctx.trust ?? OPEN_TRUST); // step 8
  if (!trust.ok) return trust;
  return { ok: true, outcome: Outcome.ACCEPTED, id, decoded };
}

/**
 * {@link validateEvent} on the JSON form (§3.4): `json[start, end)` is the JSON text of one
 * event, exactly as received; the strict reader decodes it (steps 1–3), then the same rules.
 */
export function validateEventJson(
  core: Verifier,
  json: Uint8Array,
  ctx: ValidationContext,
  start = 0,
  end = json.length,
): Verdict {
  const decoded = readEventJson(json, start, end);
  return decoded.ok ? validateEvent(core, decoded.value, ctx) : decoded;
}
