/**
 * The verdict on an ordinary event whose author is an identity (spec/IDENTITY.md §8), given the
 * identity's resolved state. It runs after the event's own rules (decode, time, replay, every
 * signature verified): one map lookup for the key state the event names, two comparisons of
 * its `created_at` with that state's window, and the threshold count over its signers. No walk
 * over the key event log.
 */
import { toHex } from '../protocol/bytes.js';
import type { IdentityState, KeyState } from './chain.js';
import {
  KEL_OK,
  type KelCheck,
  KelReason,
  type KelResult,
  kelAccept,
  kelReject,
} from './reasons.js';

/** What the verdict needs from an ordinary event authored by an identity. */
export interface IdentityAuthoredEvent {
  /** The did:cs of the author. */
  readonly author: string;
  /** Unix seconds, as signed. */
  readonly createdAt: number;
  /** The id of the establishment event whose keys signed: 32 bytes, or 64 lowercase hex digits (cheaper). */
  readonly keyState: Uint8Array | string;
  /** The did:keys of the event's signatures, all of which verified. */
  readonly signers: Iterable<string>;
}

/**
 * In order: the identity is known (local), the named key state is known (local), it is on the
 * resolved chain, `created_at` is inside its window (before: BEFORE_KEY_STATE; after: by what
 * ended it, KEY_REVOKED, IDENTITY_FROZEN or KEY_ROTATED), and its threshold of keys signed.
 */
export function checkIdentityAuthor(
  state: IdentityState | undefined,
  event: IdentityAuthoredEvent,
): KelCheck {
  const ref = typeof event.keyState === 'string' ? event.keyState : toHex(event.keyState);
  return verdictAt(resolveAuthor(state, event.author, ref, event.signers), event.createdAt);
}

/**
 * What {@link checkIdentityAuthor} finds for an author, a key state and signers, whatever the
 * event's `created_at`: the lookups, done once and reused for every event that names the same
 * three under the same state (`state` is an immutable snapshot: a new one after any change).
 */
export interface ResolvedAuthor {
  readonly state: IdentityState | undefined;
  readonly author: string;
  /** The named key state, or why it is not there. */
  readonly found: KelResult<KeyState>;
  /** Whether the signers meet its threshold (the `found` rejection when there is none). */
  readonly threshold: KelCheck;
}

/** The lookups of {@link checkIdentityAuthor}; `keyState` is 64 lowercase hex digits. */
export function resolveAuthor(
  state: IdentityState | undefined,
  author: string,
  keyState: string,
  signers: Iterable<string>,
): ResolvedAuthor {
  const found = findKeyState(state, author, keyState);
  return {
    state,
    author,
    found,
    threshold: found.ok ? thresholdMet(found.value, signers) : found,
  };
}

/** The verdict of {@link checkIdentityAuthor} on an event dated `createdAt`, from its lookups. */
export function verdictAt(resolved: ResolvedAuthor, createdAt: number): KelCheck {
  if (!resolved.found.ok) return resolved.found;
  const window = checkWindow(resolved.found.value, createdAt);
  return window.ok ? resolved.threshold : window;
}

/** Distinct signers of the key set, stopping at the threshold (one lookup for a 1-of-1 key). */
function thresholdMet(keyState: KeyState, signers: Iterable<string>): KelCheck {
  const seen: string[] = [];
  for (const signer of signers) {
    if (keyState.keySet.has(signer) && !seen.includes(signer)) {
      seen.push(signer);
      if (seen.length >= keyState.threshold) return KEL_OK;
    }
  }
  return kelReject(
    KelReason.THRESHOLD_NOT_MET,
    `${seen.length} of the required ${keyState.threshold} keys signed`,
  );
}

function findKeyState(
  state: IdentityState | undefined,
  author: string,
  ref: string,
): KelResult<KeyState> {
  if (state === undefined || state.identity !== author) {
    return kelReject(KelReason.UNKNOWN_IDENTITY, `no inception of ${author} is held`);
  }
  const keyState = state.byId.get(ref);
  if (keyState !== undefined) return kelAccept(keyState);
  if (state.superseded.has(ref)) {
    return kelReject(
      KelReason.SUPERSEDED_KEY_STATE,
      `key state ${ref} is not on the identity's chain`,
    );
  }
  return kelReject(KelReason.UNKNOWN_KEY_STATE, `key state ${ref} is not held`);
}

/**
 * The verdict of {@link checkIdentityAuthor} without its last step, for an event whose
 * signers already met the named key state's threshold (an event a node accepted): the keys and
 * threshold of a key state are fixed by its id, so only its standing and window can change.
 * This is what re-evaluation asks of stored events.
 */
export function checkKeyStateStanding(
  state: IdentityState | undefined,
  event: Omit<IdentityAuthoredEvent, 'signers' | 'keyState'> & { readonly keyState: string },
): KelCheck {
  const found = findKeyState(state, event.author, event.keyState);
  return found.ok ? checkWindow(found.value, event.createdAt) : found;
}

/** Whether `createdAt` falls in the window in which the key state's keys sign. */
export function checkWindow(keyState: KeyState, createdAt: number): KelCheck {
  if (createdAt < keyState.start) {
    return kelReject(
      KelReason.BEFORE_KEY_STATE,
      `created_at ${createdAt} is before the key state took effect (${keyState.start})`,
    );
  }
  if (keyState.end !== null && createdAt >= keyState.end) {
    const code =
      keyState.endCause === 'revoked'
        ? KelReason.KEY_REVOKED
        : keyState.endCause === 'frozen'
          ? KelReason.IDENTITY_FROZEN
          : KelReason.KEY_ROTATED;
    return kelReject(
      code,
      `created_at ${createdAt} is at or after the key state ended (${keyState.end}, ${keyState.endCause})`,
    );
  }
  return KEL_OK;
}

/** The key state in force at `createdAt` (for signers named only by did:cs), or undefined. */
export function keyStateAt(state: IdentityState, createdAt: number): KeyState | undefined {
  for (let i = state.chain.length - 1; i >= 0; i--) {
    const k = state.chain[i] as KeyState;
    if (checkWindow(k, createdAt).ok) return k;
    if (createdAt >= k.start) return undefined; // windows only move forward: no earlier one fits
  }
  return undefined;
}

/** How a key state looks to the verdict: on the chain with its window, superseded, or unknown. */
function standing(state: IdentityState | undefined, id: string): string {
  if (state === undefined) return 'unknown';
  const k = state.byId.get(id);
  if (k !== undefined) return `chain:${k.start}:${k.end ?? ''}:${k.endCause ?? ''}`;
  return state.superseded.has(id) ? 'superseded' : 'unknown';
}

/**
 * The key states (ids, hex) whose verdicts may differ between two states of one identity: the
 * events naming them are the ones a node re-evaluates after a key event joined (invalidated
 * ones kept as evidence, escrowed ones revived). Empty when no verdict can change.
 */
export function affectedKeyStates(
  before: IdentityState | undefined,
  after: IdentityState,
): Set<string> {
  const ids = new Set<string>([...after.byId.keys(), ...after.superseded]);
  if (before !== undefined)
    for (const id of [...before.byId.keys(), ...before.superseded]) ids.add(id);
  const out = new Set<string>();
  for (const id of ids) if (standing(before, id) !== standing(after, id)) out.add(id);
  return out;
}
