/** Shared helpers of the identity tests: fixed keys and builders of signed key events. */
import { loadCore } from '@commons-sync/bindings';

import {
  type EstablishmentBody,
  type EstablishmentType,
  type KeyEventBody,
  KeyEventLog,
  nextCommitment,
  signKeyEvent,
  type VerifiedKeyEvent,
  verifyKeyEvent,
} from '../src/identity/index.js';
import { didKeyFromPublicKey } from '../src/protocol/index.js';

export const core = await loadCore();
export const T0 = 1_767_225_600;
export const DAY = 86_400;

export interface TestKey {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly did: string;
}

const keyCache = new Map<string, TestKey>();
export function testKey(name: string): TestKey {
  let k = keyCache.get(name);
  if (k === undefined) {
    const seed = core.sha256(new TextEncoder().encode(`identity-tests/${name}`));
    k = { name, seed, did: didKeyFromPublicKey(core.ed25519PublicKey(seed)) };
    keyCache.set(name, k);
  }
  return k;
}

/** Keys and their threshold, as an establishment event sets them. */
export interface KeySet {
  readonly keys: readonly TestKey[];
  readonly threshold: number;
}
export const set = (threshold: number, ...names: string[]): KeySet => ({
  threshold,
  keys: names.map(testKey),
});
export const dids = (ks: readonly TestKey[]): string[] => ks.map((k) => k.did).sort();

export function commit(ks: KeySet): Uint8Array {
  return nextCommitment(core, dids(ks.keys), ks.threshold);
}

export interface Guardians {
  readonly guardians: readonly TestKey[];
  readonly threshold: number;
  readonly delay: number;
}
export const NO_GUARDIANS: Guardians = { guardians: [], threshold: 0, delay: 0 };
export const guardians = (threshold: number, delay: number, ...names: string[]): Guardians => ({
  threshold,
  delay,
  guardians: names.map(testKey),
});

/** Signs a body; fails the test when the result does not decode and verify. */
export function signed(body: KeyEventBody, signers: readonly TestKey[]): VerifiedKeyEvent {
  const decoded = signKeyEvent(
    core,
    body,
    signers.map((k) => k.seed),
  );
  if (!decoded.ok)
    throw new Error(`fixture key event invalid: ${decoded.reason} ${decoded.detail}`);
  const verified = verifyKeyEvent(core, decoded.value);
  if (!verified.ok) throw new Error(`fixture key event does not verify: ${verified.detail}`);
  return verified.value;
}

function config(current: KeySet, next: KeySet, g: Guardians) {
  return {
    keys: dids(current.keys),
    threshold: current.threshold,
    next: commit(next),
    guardians: dids(g.guardians),
    guardianThreshold: g.threshold,
    recoveryDelay: g.delay,
  };
}

export interface InceptionSpec {
  readonly current: KeySet;
  readonly next: KeySet;
  readonly guardians?: Guardians;
  readonly createdAt?: number;
}

export function inception(
  spec: InceptionSpec,
  signers: readonly TestKey[] = spec.current.keys,
): VerifiedKeyEvent {
  return signed(
    {
      v: 1,
      type: 'inception',
      seq: 0,
      createdAt: spec.createdAt ?? T0,
      ...config(spec.current, spec.next, spec.guardians ?? NO_GUARDIANS),
    },
    signers,
  );
}

export interface SuccessorSpec {
  readonly type: Exclude<EstablishmentType, 'inception'>;
  /** The keys it sets (for a rotation: the ones revealed). */
  readonly current: KeySet;
  readonly next: KeySet;
  readonly guardians?: Guardians;
  readonly createdAt: number;
  readonly revokedFrom?: number;
  /** Default: one more than the prior's. */
  readonly seq?: number;
}

/** A successor of `prior`, signed by `signers` (default: the keys it sets). */
export function successor(
  prior: VerifiedKeyEvent,
  spec: SuccessorSpec,
  signers: readonly TestKey[] = spec.current.keys,
): VerifiedKeyEvent {
  const p = prior.event as EstablishmentBody;
  const g: Guardians = spec.guardians ?? {
    guardians: p.guardians.map((d) => [...keyCache.values()].find((k) => k.did === d) as TestKey),
    threshold: p.guardianThreshold,
    delay: p.recoveryDelay,
  };
  return signed(
    {
      v: 1,
      type: spec.type,
      identity: prior.identity,
      seq: spec.seq ?? p.seq + 1,
      prior: prior.id,
      createdAt: spec.createdAt,
      ...config(spec.current, spec.next, g),
      ...(spec.revokedFrom === undefined ? {} : { revokedFrom: spec.revokedFrom }),
    },
    signers,
  );
}

export function veto(
  recovery: VerifiedKeyEvent,
  createdAt: number,
  signers: readonly TestKey[],
): VerifiedKeyEvent {
  return signed(
    { v: 1, type: 'veto', identity: recovery.identity, target: recovery.id, createdAt },
    signers,
  );
}

/** An ordinary event's view for the verdict: signed by these keys under this key state. */
export function authored(state: VerifiedKeyEvent, createdAt: number, signers: readonly TestKey[]) {
  return {
    author: state.identity,
    createdAt,
    keyState: state.id,
    signers: signers.map((k) => k.did),
  };
}

/** A log from an inception and more key events, added in the order given (outcomes ignored). */
export function logOf(first: VerifiedKeyEvent, ...rest: VerifiedKeyEvent[]): KeyEventLog {
  const log = KeyEventLog.create(core, first);
  if (!log.ok) throw new Error(`fixture inception refused: ${log.reason} ${log.detail}`);
  for (const e of rest) log.value.add(e);
  return log.value;
}
