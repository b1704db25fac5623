/**
 * Partially signed events on the move (spec/SYNC.md §6.4). An event whose every signature
 * verifies but whose policy is not met yet (too few co-signers, or not the author yet) travels
 * in PARTIAL messages; nodes merge what they see under one id:
 *
 *     merged signatures = one per signer of the event's signer set, from the union of both,
 *                         the bytewise smaller `sig` when a signer has two, sorted by signer
 *
 * The merge is commutative, associative and idempotent (a join on sets of signatures), so every
 * order of arrival gives the same merged event. Once the policy is met, the merged event is an
 * ordinary event: it goes through full validation and is gossiped like any other. Signatures by
 * keys outside the signer set count zero and are left out of the merge.
 */
import { compareBytes, toHex } from '../../protocol/bytes.js';
import {
  type CommonsEvent,
  decodeEvent,
  type EventSignature,
  eventBytesFromBody,
  signatureChecks,
} from '../../protocol/event.js';
import { Reason, type ReasonCode } from '../../protocol/reasons.js';
import {
  checkTime,
  checkTrust,
  effectivePolicy,
  evaluatePolicy,
  type TimeRules,
  type TrustPolicy,
} from '../../protocol/rules.js';

export interface PartialCheckDeps {
  sha256(data: Uint8Array): Uint8Array;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  readonly trust: TrustPolicy;
  readonly timeRules: TimeRules;
}

export type PartialVerdict =
  | {
      readonly ok: true;
      readonly id: Uint8Array;
      readonly body: Uint8Array;
      readonly event: CommonsEvent;
      /** The policy is met: this is a whole event. */
      readonly complete: boolean;
    }
  | { readonly ok: false; readonly reason: ReasonCode; readonly detail: string };

/**
 * Checks a partial event from its bytes: the rules of spec/PROTOCOL.md §7 except replay, with
 * steps 6–7 relaxed to "every signature verifies" (the threshold may be unmet).
 */
export function checkPartial(
  deps: PartialCheckDeps,
  bytes: Uint8Array,
  nowSeconds: number,
): PartialVerdict {
  const decoded = decodeEvent(bytes);
  if (!decoded.ok) return decoded;
  const { event } = decoded.value;
  const time = checkTime(event, nowSeconds, deps.timeRules);
  if (!time.ok) return time;
  const id = deps.sha256(decoded.value.body);
  const verdicts = signatureChecks(decoded.value, id).map((c) =>
    deps.ed25519Verify(c.publicKey, c.message, c.signature),
  );
  const policy = evaluatePolicy(event, verdicts);
  if (!policy.ok && policy.reason === Reason.BAD_SIGNATURE) return policy;
  const trust = checkTrust(event.author, deps.trust);
  if (!trust.ok) return trust;
  return { ok: true, id, body: decoded.value.body, event, complete: policy.ok };
}

/** The merge rule (see the module comment). */
export function mergeSignatures(
  event: Pick<CommonsEvent, 'author' | 'policy'>,
  a: readonly EventSignature[],
  b: readonly EventSignature[],
): EventSignature[] {
  const inSet = new Set(effectivePolicy(event).signers);
  const best = new Map<string, Uint8Array>();
  for (const s of [...a, ...b]) {
    if (!inSet.has(s.signer)) continue;
    const prev = best.get(s.signer);
    if (prev === undefined || compareBytes(s.sig, prev) < 0) best.set(s.signer, s.sig);
  }
  return [...best]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([signer, sig]) => ({ signer, sig }));
}

interface PoolEntry {
  readonly body: Uint8Array;
  readonly event: CommonsEvent;
  signatures: EventSignature[];
  readonly expiresAt: number;
}

export interface MergeResult {
  /** The merged event's bytes (canonical). */
  readonly bytes: Uint8Array;
  /** The merge added a signature this node did not hold. */
  readonly grew: boolean;
  /** The merged event meets its policy: validate it as a whole event. */
  readonly complete: boolean;
}

/** Partial events by id, bounded; the oldest goes first when full. */
export class PartialPool {
  private readonly entries = new Map<string, PoolEntry>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  has(id: Uint8Array): boolean {
    return this.entries.has(toHex(id));
  }

  /** Merges a checked partial into the pool; null when it holds no signature of the signer set. */
  add(verdict: PartialVerdict & { ok: true }): MergeResult | null {
    const key = toHex(verdict.id);
    const known = this.entries.get(key);
    const before = known?.signatures ?? [];
    const merged = mergeSignatures(verdict.event, before, verdict.event.signatures);
    if (merged.length === 0) return null;
    const grew = merged.length > before.length || merged.some((s, i) => before[i]?.sig !== s.sig);
    const bytes = eventBytesFromBody(verdict.body, merged);
    const complete = evaluatePolicy(
      { ...verdict.event, signatures: merged },
      merged.map(() => true),
    ).ok;
    if (complete) this.entries.delete(key);
    else if (known !== undefined) known.signatures = merged;
    else {
      this.entries.set(key, {
        body: verdict.body,
        event: verdict.event,
        signatures: merged,
        expiresAt: verdict.event.expiresAt,
      });
      if (this.entries.size > this.capacity) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
    }
    return { bytes, grew, complete };
  }

  /** Forgets entries that expired; returns how many. */
  prune(nowSeconds: number): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (nowSeconds >= e.expiresAt) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }

  forget(id: Uint8Array): void {
    this.entries.delete(toHex(id));
  }

  /** Every held partial in its merged form (for a peer that just connected). */
  all(): Uint8Array[] {
    return [...this.entries.values()].map((e) => eventBytesFromBody(e.body, e.signatures));
  }
}
