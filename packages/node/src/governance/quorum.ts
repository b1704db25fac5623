/**
 * Quorum counting (spec/GOVERNANCE.md §6): how many distinct governance members signed a
 * record, at the record's signed time, and — when that is fewer than the threshold — why, with
 * the TUF attack classes told apart:
 *
 *   - a member that is a did:key counts when its key signed;
 *   - a member that is a did:cs counts when its pinned key state's own threshold of keys signed
 *     and the key state's window contains the signed time (the identity verdict of
 *     spec/IDENTITY.md §8, `checkIdentityAuthor`): a member whose pinned keys were rotated away
 *     or revoked counts zero until a quorum re-pins it;
 *   - a member counts once however many of its keys signed, however often; keys outside the
 *     members count zero.
 *
 * A pure function of the signatures (all verified before), the member list, the time and the
 * identity states: the same on every node that holds the same key events.
 */
import type { IdentityState } from '../identity/chain.js';
import { KelReason } from '../identity/reasons.js';
import { checkIdentityAuthor } from '../identity/verdict.js';
import { toHex } from '../protocol/bytes.js';
import type { EventSignature } from '../protocol/event.js';
import { GOV_OK, type GovCheck, GovReason, govReject } from './reasons.js';
import { isDidKey, type PrincipalEntry } from './record.js';

/** The resolved state of a did:cs (the identity registry's `get`), or undefined when not held. */
export type IdentityLookup = (did: string) => IdentityState | undefined;
/** A lookup that holds no identity (a network whose members are all did:keys). */
export const NO_IDENTITIES: IdentityLookup = () => undefined;

/**
 * How a member stands toward one record: it `signed` (counts), did not sign (`unsigned`), its
 * key state is not held here (`unknown`, local), its pinned key state does not sign at that time
 * (`retired`: rotated, revoked, frozen, superseded), or a critical action revoked it (`revoked`).
 */
export type MemberStanding = 'signed' | 'unsigned' | 'unknown' | 'retired' | 'revoked';

export interface MemberTally {
  readonly id: string;
  readonly standing: MemberStanding;
  readonly detail?: string;
}

export interface QuorumTally {
  readonly threshold: number;
  /** Distinct members that signed. */
  readonly counted: number;
  /** How many more members must sign: `max(0, threshold − counted)`. */
  readonly missing: number;
  readonly members: readonly MemberTally[];
  /** OK when `counted ≥ threshold`; else the reason, classified as in §6.3. */
  readonly verdict: GovCheck;
}

function standingOf(
  member: PrincipalEntry,
  signers: ReadonlySet<string>,
  at: number,
  lookup: IdentityLookup,
): MemberTally {
  if (isDidKey(member.id))
    return { id: member.id, standing: signers.has(member.id) ? 'signed' : 'unsigned' };
  const state = lookup(member.id);
  const r = checkIdentityAuthor(state, {
    author: member.id,
    createdAt: at,
    keyState: member.keyState as Uint8Array,
    signers,
  });
  if (r.ok) return { id: member.id, standing: 'signed' };
  if (r.reason === KelReason.UNKNOWN_IDENTITY || r.reason === KelReason.UNKNOWN_KEY_STATE)
    return { id: member.id, standing: 'unknown', detail: r.reason };
  if (r.reason === KelReason.THRESHOLD_NOT_MET) return { id: member.id, standing: 'unsigned' };
  return { id: member.id, standing: 'retired', detail: r.reason };
}

/** The did:keys that act for a member: itself, or the keys of its pinned key state when held. */
export function memberKeys(member: PrincipalEntry, lookup: IdentityLookup): readonly string[] {
  if (isDidKey(member.id)) return [member.id];
  const pinned = lookup(member.id)?.byId.get(toHex(member.keyState as Uint8Array));
  return pinned === undefined ? [] : pinned.keys;
}

/**
 * Counts the members of `members` that signed, at signed time `at`, against `threshold`.
 * `revoked` names members a critical action revoked (they count zero; their keys stay theirs).
 */
export function tallyQuorum(
  members: readonly PrincipalEntry[],
  threshold: number,
  signatures: readonly EventSignature[],
  at: number,
  lookup: IdentityLookup,
  revoked: ReadonlySet<string> = new Set(),
): QuorumTally {
  const entries = new Map<string, number>(); // signer did:key -> number of signature entries
  for (const s of signatures) entries.set(s.signer, (entries.get(s.signer) ?? 0) + 1);
  const signers = new Set(entries.keys());
  const tallies = members.map((m) =>
    revoked.has(m.id)
      ? { id: m.id, standing: 'revoked' as const }
      : standingOf(m, signers, at, lookup),
  );
  const counted = tallies.filter((t) => t.standing === 'signed').length;
  const missing = Math.max(0, threshold - counted);
  if (missing === 0) return { threshold, counted, missing, members: tallies, verdict: GOV_OK };

  const unknown = tallies.filter((t) => t.standing === 'unknown').length;
  const memberKeySet = new Set(members.flatMap((m) => memberKeys(m, lookup)));
  let repeats = 0; // signature entries beyond the first by a member's key
  let outsiders = 0; // distinct signing keys that belong to no member
  for (const [signer, n] of entries) {
    if (memberKeySet.has(signer)) repeats += n - 1;
    else outsiders++;
  }
  const short = `${counted} of the required ${threshold} members signed`;
  let verdict: GovCheck;
  if (unknown >= missing) {
    verdict = govReject(
      GovReason.UNKNOWN_IDENTITY,
      `${short}; ${unknown} did:cs members' key states are not held here`,
    );
  } else if (repeats >= missing) {
    verdict = govReject(
      GovReason.DUPLICATE_SIGNATURE,
      `${short}; ${repeats} repeated signatures by members' keys count once each key`,
    );
  } else if (outsiders >= missing) {
    verdict = govReject(
      GovReason.UNTRUSTED_KEY,
      `${short}; ${outsiders} signing keys are not keys of the root's members and count zero`,
    );
  } else {
    verdict = govReject(GovReason.THRESHOLD_NOT_MET, short);
  }
  return { threshold, counted, missing, members: tallies, verdict };
}
