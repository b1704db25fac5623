/**
 * Helpers of generate.ts: fixed keys and times, builders of key events (typed, and raw maps for
 * broken ones), the JSON form of a raw map, and the checks that refuse to write a vector whose
 * stated verdict the identity code does not reproduce.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadCore } from '@commons-sync/bindings';

import * as I from '../../../packages/node/src/identity/index.js';
import type { CborMap, CborValue } from '../../../packages/node/src/protocol/index.js';
import * as P from '../../../packages/node/src/protocol/index.js';
import {
  DAY,
  fail,
  hex,
  jsonFormOf,
  type Key,
  NOW,
  namedKeys,
  SKEW,
  T0,
  vectorWriter,
} from '../generator-kit.js';

export { I, P };
export const core = await loadCore({ backend: 'js' });
export { DAY, fail, hex, type Key, NOW, SKEW, T0 };
export const { key, keysUsed } = namedKeys(core, 'identity');
export const dids = (...names: string[]): string[] => names.map((n) => key(n).did).sort();
export const commit = (threshold: number, ...names: string[]): Uint8Array =>
  I.nextCommitment(core, dids(...names), threshold);

// ------------------------------------------------------------------------------- raw key events

/** Signs a raw body map (any fields) under the key event domain; returns the whole map. */
export function signRaw(
  body: CborMap,
  signers: readonly string[],
  extra: CborValue[] = [],
): CborMap {
  const id = core.sha256(P.encodeCbor(body));
  const message = I.keyEventSigningInput(id);
  const signatures: CborValue[] = signers.map((n) => ({
    signer: key(n).did,
    sig: core.ed25519Sign(key(n).seed, message),
  }));
  return { ...body, signatures: [...signatures, ...extra] };
}

export interface ConfigSpec {
  keys: string[];
  threshold?: number;
  next: string[];
  nextThreshold?: number;
  guardians?: string[];
  guardianThreshold?: number;
  delay?: number;
}

/** The establishment fields of a body, as a raw map. */
export function config(c: ConfigSpec): CborMap {
  const guardians = c.guardians ?? [];
  return {
    keys: dids(...c.keys),
    threshold: c.threshold ?? 1,
    next: commit(c.nextThreshold ?? 1, ...c.next),
    guardians: dids(...guardians),
    guardian_threshold: c.guardianThreshold ?? (guardians.length === 0 ? 0 : 2),
    recovery_delay: c.delay ?? (guardians.length === 0 ? 0 : DAY),
  };
}

export function inceptionMap(c: ConfigSpec, createdAt = T0): CborMap {
  return { v: 1, type: 'inception', seq: 0, created_at: createdAt, ...config(c) };
}

/** A successor body of the decoded key event `prior`. */
export function successorMap(
  prior: I.DecodedKeyEvent,
  type: 'rotation' | 'revocation' | 'recovery',
  c: ConfigSpec,
  createdAt: number,
  extra: CborMap = {},
): CborMap {
  const p = prior.event as I.EstablishmentBody;
  return {
    v: 1,
    type,
    identity: prior.identity,
    seq: p.seq + 1,
    prior: prior.id,
    created_at: createdAt,
    ...config(c),
    ...extra,
  };
}

export function vetoMap(recovery: I.DecodedKeyEvent, createdAt: number): CborMap {
  return {
    v: 1,
    type: 'veto',
    identity: recovery.identity,
    target: recovery.id,
    created_at: createdAt,
  };
}

/** A signed key event that must decode; its decoded form. */
export function build(body: CborMap, signers: readonly string[]): I.DecodedKeyEvent {
  const r = I.decodeKeyEvent(core, P.encodeCbor(signRaw(body, signers)));
  return r.ok ? r.value : fail(`fixture does not decode: ${r.reason} ${r.detail}`);
}

// ------------------------------------------------------------------------------- JSON form

const HEX_TOP = new Set(['prior', 'target', 'next']);

/** The JSON form of a raw map, or undefined when a byte string sits where JSON has no hex. */
export function jsonOf(map: CborMap): unknown {
  return jsonFormOf(
    map,
    (path) =>
      (path.length === 1 && HEX_TOP.has(path[0] ?? '')) ||
      (path.length === 3 && path[0] === 'signatures' && path[2] === 'sig'),
  );
}

// ------------------------------------------------------------------------------- verdicts

/** Steps 1–4 and 6 of §6 (and 8 for an inception) on one decoded key event. */
export function standaloneVerdict(d: I.KelResult<I.DecodedKeyEvent>): string {
  if (!d.ok) return d.reason;
  const time = I.checkKeyEventTime(d.value.event, NOW, SKEW);
  if (!time.ok) return time.reason;
  const v = I.verifyKeyEvent(core, d.value);
  if (!v.ok) return v.reason;
  if (d.value.event.type === 'inception') {
    const t = I.checkInception(v.value);
    if (!t.ok) return t.reason;
  }
  return 'valid';
}

/** Writes a vector file; with --check, only compares and fails when the committed one differs. */
export const writeVectors = vectorWriter(dirname(fileURLToPath(import.meta.url)));
