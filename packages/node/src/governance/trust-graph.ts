/**
 * The web of trust (spec/GOVERNANCE.md §8.1–§8.2): trust attestations and their revocations,
 * held under local bounds and indexed by issuer and subject. Each attestation's verdict reads
 * only itself and its issuer's identity state; each revocation's, itself, its target (fixed by
 * digest) and its issuer's identity state. Whether an attestation is in force at a signed time
 * `at` is then a function of the set: valid, `created_at ≤ at < expires_at`, and no valid
 * revocation dated at or before `at`. Nothing depends on the order of arrival.
 */
import { KelReason } from '../identity/reasons.js';
import { checkIdentityAuthor } from '../identity/verdict.js';
import { toHex } from '../protocol/bytes.js';
import type { RuleVerdict } from './chain.js';
import type { IdentityLookup } from './quorum.js';
import { GOV_OK, type GovRejection, govReject, TrustReason } from './reasons.js';
import { isDidKey, type RecordOf, signerSetOf } from './record.js';
import type { VerifiedRecord } from './verify.js';

export type AttestationRecord = VerifiedRecord<RecordOf<'attestation'>>;
export type RevocationRecord = VerifiedRecord<RecordOf<'attestation-revocation'>>;
type TrustRecord = AttestationRecord | RevocationRecord;

/** Local resource bounds (not consensus; reaching one refuses with ERR_TRUST_LIMIT and stores nothing). */
export interface TrustBounds {
  readonly maxAttestations: number;
  readonly maxRevocations: number;
  /** Attestations held from one issuer. */
  readonly maxPerIssuer: number;
  /** Revocations waiting for the attestation they target. */
  readonly maxWaiting: number;
  readonly maxCopies: number;
}

export const DEFAULT_TRUST_BOUNDS: TrustBounds = Object.freeze({
  maxAttestations: 65_536,
  maxRevocations: 65_536,
  maxPerIssuer: 1_024,
  maxWaiting: 1_024,
  maxCopies: 8,
});

/** The issuer signed under the key state it names (did:cs), or its own key signed (did:key). */
export function checkIssuer(record: TrustRecord, lookup: IdentityLookup): RuleVerdict {
  const r = record.record;
  if (isDidKey(r.issuer)) {
    if (r.signatures.some((s) => s.signer === r.issuer)) return GOV_OK;
    return {
      ...govReject(TrustReason.ISSUER_NOT_SIGNED, `the issuer ${r.issuer} did not sign`),
      final: true,
    };
  }
  const v = checkIdentityAuthor(lookup(r.issuer), {
    author: r.issuer,
    createdAt: r.createdAt,
    keyState: r.keyState as Uint8Array,
    signers: r.signatures.map((s) => s.signer),
  });
  if (v.ok) return GOV_OK;
  if (v.reason === KelReason.THRESHOLD_NOT_MET)
    return govReject(TrustReason.ISSUER_NOT_SIGNED, v.detail);
  return govReject(v.reason, v.detail);
}

/** A revocation against the attestation it targets: by that attestation's issuer, signed by it. */
export function checkRevocation(
  revocation: RevocationRecord,
  target: AttestationRecord | undefined,
  lookup: IdentityLookup,
): RuleVerdict {
  if (target === undefined)
    return govReject(
      TrustReason.UNKNOWN_ATTESTATION,
      `attestation ${toHex(revocation.record.target)} is not held here`,
    );
  if (target.record.issuer !== revocation.record.issuer) {
    return {
      ...govReject(
        TrustReason.NOT_ISSUER,
        `only ${target.record.issuer}, its issuer, can revoke this attestation`,
      ),
      final: true,
    };
  }
  return checkIssuer(revocation, lookup);
}

export type TrustStanding = 'valid' | 'waiting' | 'refused';

export type TrustOutcome =
  | {
      readonly ok: true;
      readonly outcome: 'accepted';
      readonly id: string;
      readonly standing: TrustStanding;
      readonly reason?: GovRejection;
    }
  | { readonly ok: true; readonly outcome: 'duplicate'; readonly id: string }
  | GovRejection;

export class TrustGraph {
  private readonly attestations = new Map<string, AttestationRecord[]>();
  private readonly revocations = new Map<string, RevocationRecord[]>();
  private readonly byIssuer = new Map<string, Set<string>>();
  private readonly bySubject = new Map<string, Set<string>>();
  private readonly revocationsOf = new Map<string, Set<string>>();
  private waitingCount = 0;
  private verdicts = new Map<
    string,
    { valid: AttestationRecord | RevocationRecord | null; reason?: GovRejection }
  >();
  private changeTimes: number[] | null = null;
  /** Per version: valid attestations by issuer, and when each attestation's revocation takes effect. */
  private issuedCache = new Map<string, AttestationRecord[]>();
  private revokedCache = new Map<string, number | null>();
  /** Grows on every change that can turn a trust verdict (a record held, identity states refreshed). */
  version = 0;

  constructor(
    private readonly lookup: IdentityLookup,
    private readonly bounds: TrustBounds = DEFAULT_TRUST_BOUNDS,
  ) {}

  /** Call after the identity states changed: verdicts on did:cs issuers may turn. */
  refresh(): void {
    this.verdicts.clear();
    this.issuedCache.clear();
    this.revokedCache.clear();
    this.version++;
  }

  /** Every record held, ids ascending: what a node stores and replays. */
  held(): TrustRecord[] {
    return [
      ...[...this.attestations.values()].flat(),
      ...[...this.revocations.values()].flat(),
    ].sort((a, b) => (a.idHex < b.idHex ? -1 : 1));
  }

  get size(): { attestations: number; revocations: number } {
    return { attestations: this.attestations.size, revocations: this.revocations.size };
  }

  /** Adds one verified attestation or attestation revocation. */
  add(record: VerifiedRecord): TrustOutcome {
    const r = record as TrustRecord;
    if (r.record.type !== 'attestation' && r.record.type !== 'attestation-revocation') {
      throw new RangeError(
        `a ${record.record.type} record belongs to the governance state, not the trust graph`,
      );
    }
    const id = r.idHex;
    const pool = (r.record.type === 'attestation' ? this.attestations : this.revocations) as Map<
      string,
      TrustRecord[]
    >;
    const copies = pool.get(id);
    const signers = signerSetOf(r);
    if (copies !== undefined) {
      if (this.verdictOf(id).valid !== null) return { ok: true, outcome: 'duplicate', id };
      const wanted = signers.split(' ');
      if (copies.some((c) => wanted.every((s) => signerSetOf(c).split(' ').includes(s))))
        return { ok: true, outcome: 'duplicate', id };
      if (copies.length >= this.bounds.maxCopies)
        return govReject(
          TrustReason.LIMIT,
          `${this.bounds.maxCopies} copies of ${id} are held already`,
        );
    }
    // Drop what can never count: reads only the record (and a revocation's target, once held).
    const target =
      r.record.type === 'attestation-revocation'
        ? this.attestations.get(toHex(r.record.target))?.[0]
        : undefined;
    const check =
      r.record.type === 'attestation'
        ? checkIssuer(r, this.lookup)
        : checkRevocation(r as RevocationRecord, target, this.lookup);
    if (!check.ok && check.final === true) return govReject(check.reason, check.detail);
    if (copies === undefined) {
      const full = this.full(r, target === undefined);
      if (full !== null) return full;
    }
    pool.set(id, [...(copies ?? []), r]);
    if (copies === undefined) this.index(r, target === undefined);
    this.changed();
    const v = this.verdictOf(id);
    const standing: TrustStanding =
      v.valid !== null
        ? 'valid'
        : v.reason?.reason === TrustReason.UNKNOWN_ATTESTATION
          ? 'waiting'
          : 'refused';
    return {
      ok: true,
      outcome: 'accepted',
      id,
      standing,
      ...(v.reason === undefined ? {} : { reason: v.reason }),
    };
  }

  private full(r: TrustRecord, waits: boolean): GovRejection | null {
    const b = this.bounds;
    if (r.record.type === 'attestation') {
      if (this.attestations.size >= b.maxAttestations)
        return govReject(TrustReason.LIMIT, `${b.maxAttestations} attestations are held already`);
      if ((this.byIssuer.get(r.record.issuer)?.size ?? 0) >= b.maxPerIssuer) {
        return govReject(
          TrustReason.LIMIT,
          `${b.maxPerIssuer} attestations of ${r.record.issuer} are held already`,
        );
      }
      return null;
    }
    if (this.revocations.size >= b.maxRevocations)
      return govReject(TrustReason.LIMIT, `${b.maxRevocations} revocations are held already`);
    if (waits && this.waitingCount >= b.maxWaiting)
      return govReject(
        TrustReason.LIMIT,
        `${b.maxWaiting} revocations already wait for their attestation`,
      );
    return null;
  }

  private index(r: TrustRecord, waits: boolean): void {
    if (r.record.type === 'attestation') {
      const add = (map: Map<string, Set<string>>, key: string) =>
        map.set(key, (map.get(key) ?? new Set()).add(r.idHex));
      add(this.byIssuer, r.record.issuer);
      add(this.bySubject, r.record.subject);
      // revocations that waited for this attestation can be judged now; drop those that never count
      for (const revId of this.revocationsOf.get(r.idHex) ?? []) {
        const kept = (this.revocations.get(revId) ?? []).filter((c) => {
          const v = checkRevocation(c, r as AttestationRecord, this.lookup);
          return v.ok || v.final !== true;
        });
        this.waitingCount--;
        if (kept.length === 0) {
          this.revocations.delete(revId);
          this.revocationsOf.get(r.idHex)?.delete(revId);
        } else this.revocations.set(revId, kept);
      }
      return;
    }
    const target = toHex(r.record.target);
    this.revocationsOf.set(target, (this.revocationsOf.get(target) ?? new Set()).add(r.idHex));
    if (waits) this.waitingCount++;
  }

  private changed(): void {
    this.verdicts.clear();
    this.issuedCache.clear();
    this.revokedCache.clear();
    this.changeTimes = null;
    this.version++;
  }

  /** The verdict of a held attestation or revocation (the first valid copy, or why none is). */
  verdictOf(id: string): {
    readonly valid: AttestationRecord | RevocationRecord | null;
    readonly reason?: GovRejection;
  } {
    const cached = this.verdicts.get(id);
    if (cached !== undefined) return cached;
    let out: { valid: AttestationRecord | RevocationRecord | null; reason?: GovRejection } = {
      valid: null,
    };
    const atts = this.attestations.get(id);
    const copies: TrustRecord[] = atts ?? this.revocations.get(id) ?? [];
    for (const c of [...copies].sort((a, b) => (signerSetOf(a) < signerSetOf(b) ? -1 : 1))) {
      const v =
        c.record.type === 'attestation'
          ? checkIssuer(c, this.lookup)
          : checkRevocation(
              c as RevocationRecord,
              this.attestations.get(toHex(c.record.target))?.[0],
              this.lookup,
            );
      if (v.ok) {
        out = { valid: c };
        break;
      }
      out.reason ??= govReject(v.reason, v.detail);
    }
    this.verdicts.set(id, out);
    return out;
  }

  /** Valid attestations issued by `did` (ids ascending). */
  issuedBy(did: string): AttestationRecord[] {
    let out = this.issuedCache.get(did);
    if (out === undefined) {
      out = this.valid(this.byIssuer.get(did));
      this.issuedCache.set(did, out);
    }
    return out;
  }

  /** Valid attestations about `did` (ids ascending). */
  about(did: string): AttestationRecord[] {
    return this.valid(this.bySubject.get(did));
  }

  /** Every held attestation about `did`, valid or not, with its verdict (ids ascending). */
  allAbout(did: string): Array<{ record: AttestationRecord; reason?: GovRejection }> {
    return [...(this.bySubject.get(did) ?? [])].sort().map((id) => {
      const v = this.verdictOf(id);
      const record = (v.valid ?? this.attestations.get(id)?.[0]) as AttestationRecord;
      return v.valid !== null
        ? { record }
        : { record, ...(v.reason === undefined ? {} : { reason: v.reason }) };
    });
  }

  private valid(ids: ReadonlySet<string> | undefined): AttestationRecord[] {
    const out: AttestationRecord[] = [];
    for (const id of [...(ids ?? [])].sort()) {
      const v = this.verdictOf(id).valid;
      if (v !== null) out.push(v as AttestationRecord);
    }
    return out;
  }

  /** The earliest signed time at which a valid revocation of this attestation takes effect, or null. */
  revokedFrom(attestationId: string): number | null {
    const cached = this.revokedCache.get(attestationId);
    if (cached !== undefined) return cached;
    let first: number | null = null;
    for (const revId of this.revocationsOf.get(attestationId) ?? []) {
      const v = this.verdictOf(revId).valid;
      if (v !== null && (first === null || v.record.createdAt < first)) first = v.record.createdAt;
    }
    this.revokedCache.set(attestationId, first);
    return first;
  }

  /** Whether a valid attestation is in force at signed time `at` for `scope` (§8.2). */
  inForce(a: AttestationRecord, scope: string, at: number): boolean {
    const r = a.record;
    if (at < r.createdAt || at >= r.expiresAt) return false;
    if (r.scope !== '*' && r.scope !== scope) return false;
    const revoked = this.revokedFrom(a.idHex);
    return revoked === null || at < revoked;
  }

  /**
   * The signed times at which some attestation comes into or goes out of force, ascending: the
   * graph is the same for every `at` between two of them (what the evaluator caches by).
   */
  changePoints(): readonly number[] {
    if (this.changeTimes === null) {
      const times = new Set<number>();
      for (const copies of this.attestations.values()) {
        const r = (copies[0] as AttestationRecord).record;
        times.add(r.createdAt);
        times.add(r.expiresAt);
      }
      for (const copies of this.revocations.values())
        times.add((copies[0] as RevocationRecord).record.createdAt);
      this.changeTimes = [...times].sort((a, b) => a - b);
    }
    return this.changeTimes;
  }
}
