/**
 * Chain resolution (spec/IDENTITY.md §7): from the key events of one identity that joined its
 * log, the chain of key states in force and the window of time in which each one's keys sign.
 * The result depends on the set of attached events only, never on the order they came in.
 *
 * At each position (the children of the last settled key state):
 *
 *   one rotation or revocation                   → it wins (recoveries there are superseded)
 *   two or more, and exactly one unvetoed recovery → the recovery wins (duplicity resolved)
 *   two or more, otherwise                       → frozen (duplicity)
 *   none, exactly one unvetoed recovery          → the recovery wins
 *   none, two or more unvetoed recoveries        → frozen (guardian duplicity)
 *   none, no unvetoed recovery                   → the state is current
 */
import type { AttachedEstablishment } from './attach.js';
import type { EstablishmentType } from './key-event.js';

/** Why a key state's window ends. */
export type EndCause = 'rotated' | 'revoked' | 'frozen';

/** One establishment event on the resolved chain, with the window in which its keys sign. */
export interface KeyState {
  readonly idHex: string;
  readonly id: Uint8Array;
  readonly seq: number;
  readonly type: EstablishmentType;
  readonly keys: readonly string[];
  readonly keySet: ReadonlySet<string>;
  readonly threshold: number;
  readonly next: Uint8Array;
  readonly guardians: readonly string[];
  readonly guardianThreshold: number;
  readonly recoveryDelay: number;
  /** Events dated at or after this (Unix seconds) may be signed by these keys. */
  readonly start: number;
  /** Events dated at or after this may not; null while the state is current. */
  readonly end: number | null;
  readonly endCause: EndCause | null;
  /** The establishment event that ended the window (null when current or frozen). */
  readonly endedBy: string | null;
}

/** Two or more contestants for one position, kept as evidence. */
export interface DuplicityEvidence {
  /** The seq of the contested position. */
  readonly seq: number;
  /** The last undisputed key state (the contestants' prior). */
  readonly prior: string;
  /** Rotations and revocations at the position, ids ascending. */
  readonly rotations: readonly string[];
  /** Unvetoed recoveries at the position, ids ascending. */
  readonly recoveries: readonly string[];
  /** The contestant that settled the position (see the table above), or null: frozen. */
  readonly resolvedBy: string | null;
}

/** The key events of one identity that joined its log (`attach.ts` rules passed). */
export interface AttachedSet {
  readonly identity: string;
  readonly inception: AttachedEstablishment;
  /** Every attached establishment event (inception included) by id. */
  readonly establishments: ReadonlyMap<string, AttachedEstablishment>;
  /** Attached establishment events by the id of their prior. */
  readonly children: ReadonlyMap<string, readonly string[]>;
  /** Attached vetoes by the id of the recovery they veto. */
  readonly vetoes: ReadonlyMap<string, readonly string[]>;
  /** How many key events joined (establishments and vetoes). */
  readonly size: number;
}

export interface IdentityState {
  readonly identity: string;
  /** The resolved chain: inception first, the key state in force last. */
  readonly chain: readonly KeyState[];
  /** Chain members by id (hex): the O(1) lookup of a `key_state` reference. */
  readonly byId: ReadonlyMap<string, KeyState>;
  /** `frozen` when the position after the last key state is in unresolved duplicity. */
  readonly status: 'active' | 'frozen';
  /** Events dated at or after this are refused while frozen. */
  readonly frozenFrom: number | null;
  readonly duplicity: readonly DuplicityEvidence[];
  /** Attached establishment events that are not on the chain (ids ascending). */
  readonly superseded: ReadonlySet<string>;
  /** Recoveries that a valid veto voided (ids ascending). */
  readonly vetoed: ReadonlySet<string>;
  /** How many key events the state was resolved from (establishments and vetoes). */
  readonly size: number;
}

function keyState(
  a: AttachedEstablishment,
  end: number | null,
  endCause: EndCause | null,
  endedBy: string | null,
): KeyState {
  const b = a.body;
  return {
    idHex: a.event.idHex,
    id: a.event.id,
    seq: b.seq,
    type: b.type,
    keys: b.keys,
    keySet: new Set(b.keys),
    threshold: b.threshold,
    next: b.next,
    guardians: b.guardians,
    guardianThreshold: b.guardianThreshold,
    recoveryDelay: b.recoveryDelay,
    start: a.start,
    end,
    endCause,
    endedBy,
  };
}

/** When a contestant retires the keys before it: `revoked_from` if it has one, else its start. */
function retireTime(c: AttachedEstablishment): number {
  return c.body.revokedFrom ?? c.start;
}

/** Resolves the chain of an identity from its attached key events (see the table above). */
export function resolveChain(set: AttachedSet): IdentityState {
  const chain: KeyState[] = [];
  const duplicity: DuplicityEvidence[] = [];
  const vetoed = new Set<string>();
  for (const [target, list] of set.vetoes) if (list.length > 0) vetoed.add(target);
  let current = set.inception;
  let status: 'active' | 'frozen' = 'active';
  let frozenFrom: number | null = null;
  for (;;) {
    const ids = [...(set.children.get(current.event.idHex) ?? [])].sort();
    const contestants = ids.map((id) => set.establishments.get(id) as AttachedEstablishment);
    const rotations = contestants.filter(
      (c) => c.body.type === 'rotation' || c.body.type === 'revocation',
    );
    const recoveries = contestants.filter(
      (c) => c.body.type === 'recovery' && !vetoed.has(c.event.idHex),
    );
    let winner: AttachedEstablishment | null = null;
    if (rotations.length === 1) winner = rotations[0] as AttachedEstablishment;
    else if (recoveries.length === 1) winner = recoveries[0] as AttachedEstablishment;
    const disputed = rotations.length >= 2 || recoveries.length >= 2;
    if (disputed) {
      duplicity.push({
        seq: current.body.seq + 1,
        prior: current.event.idHex,
        rotations: rotations.map((c) => c.event.idHex),
        recoveries: recoveries.map((c) => c.event.idHex),
        resolvedBy: winner === null ? null : winner.event.idHex,
      });
    }
    if (winner === null && disputed) {
      const end = Math.min(...[...rotations, ...recoveries].map(retireTime));
      chain.push(keyState(current, end, 'frozen', null));
      status = 'frozen';
      frozenFrom = end;
      break;
    }
    if (winner === null) {
      chain.push(keyState(current, null, null, null));
      break;
    }
    const cause: EndCause = winner.body.revokedFrom === undefined ? 'rotated' : 'revoked';
    chain.push(keyState(current, retireTime(winner), cause, winner.event.idHex));
    current = winner;
  }
  const byId = new Map(chain.map((k) => [k.idHex, k]));
  const superseded = new Set([...set.establishments.keys()].filter((id) => !byId.has(id)).sort());
  return {
    identity: set.identity,
    chain,
    byId,
    status,
    frozenFrom,
    duplicity,
    superseded,
    vetoed: new Set([...vetoed].sort()),
    size: set.size,
  };
}

/** The resolved state as plain JSON (spec/IDENTITY.md §7.3): what vectors and `identity show` print. */
export interface IdentityStateJson {
  identity: string;
  status: 'active' | 'frozen';
  frozen_from: number | null;
  chain: Array<{
    id: string;
    seq: number;
    type: EstablishmentType;
    keys: string[];
    threshold: number;
    start: number;
    end: number | null;
    end_cause: EndCause | null;
    ended_by: string | null;
  }>;
  duplicity: Array<{
    seq: number;
    prior: string;
    rotations: string[];
    recoveries: string[];
    resolved_by: string | null;
  }>;
  superseded: string[];
  vetoed: string[];
}

export function identityStateToJson(state: IdentityState): IdentityStateJson {
  return {
    identity: state.identity,
    status: state.status,
    frozen_from: state.frozenFrom,
    chain: state.chain.map((k) => ({
      id: k.idHex,
      seq: k.seq,
      type: k.type,
      keys: [...k.keys],
      threshold: k.threshold,
      start: k.start,
      end: k.end,
      end_cause: k.endCause,
      ended_by: k.endedBy,
    })),
    duplicity: state.duplicity.map((d) => ({
      seq: d.seq,
      prior: d.prior,
      rotations: [...d.rotations],
      recoveries: [...d.recoveries],
      resolved_by: d.resolvedBy,
    })),
    superseded: [...state.superseded],
    vetoed: [...state.vetoed],
  };
}
