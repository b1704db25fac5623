/**
 * The reference validator: every rule of spec/PROTOCOL.md §7 in order, one event at a time,
 * with plain single-signature verification. It is the oracle that the concurrent pipeline is
 * compared against; it keeps no state (the caller records accepted events for replay).
 */
import { type DecodedEvent, decodeEvent, eventId, type Hasher, signatureChecks } from './event.js';
import { readEventJson } from './json-reader.js';
import { Outcome, type Rejection } from './reasons.js';
import {
  checkTime,
  checkTrust,
  classifyReplay,
  DEFAULT_TIME_RULES,
  evaluatePolicy,
  OPEN_TRUST,
  type TimeRules,
  type TrustPolicy,
} from './rules.js';

export interface Verifier extends Hasher {
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export interface ValidationContext {
  /** Integer Unix seconds. */
  readonly now: number;
  readonly timeRules?: TimeRules;
  readonly trust?: TrustPolicy;
  /** The id of the event accepted earlier with this author and nonce, if any. */
  readonly lookupReplay: (author: string, nonce: Uint8Array) => Uint8Array | undefined;
}

export type Verdict =
  | {
      readonly ok: true;
      readonly outcome: (typeof Outcome)[keyof typeof Outcome];
      readonly id: Uint8Array;
      readonly decoded: DecodedEvent;
    }
  | Rejection;

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
