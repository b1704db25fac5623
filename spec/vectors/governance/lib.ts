/**
 * Helpers of generate.ts: fixed keys and times, builders of governance records (raw maps, so that
 * broken ones can be written too), identities (key event logs) for did:cs members and issuers,
 * the JSON form of a raw map, and the checks that refuse to write a vector whose stated verdict
 * the governance code does not reproduce.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadCore } from '@commons-sync/bindings';

import * as G from '../../../packages/node/src/governance/index.js';
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

export { G, I, P };
export const core = await loadCore({ backend: 'js' });
export { DAY, fail, hex, type Key, NOW, SKEW, T0 };
export const LICENSE = 'Apache-2.0';
export const { key, keysUsed } = namedKeys(core, 'governance');
export const did = (name: string): string => identities.get(name)?.did ?? key(name).did;

// ------------------------------------------------------------------------------- identities

/** A did:cs with its key events (inception with key `<name>-0`, then rotations to `<name>-1`...). */
export interface Identity {
  readonly name: string;
  readonly did: string;
  readonly events: I.DecodedKeyEvent[];
  /** Key state ids by index: 0 is the inception. */
  readonly states: Uint8Array[];
}
const identities = new Map<string, Identity>();

function signKeyEvent(body: CborMap, signer: string): I.DecodedKeyEvent {
  const id = core.sha256(P.encodeCbor(body));
  const sig = core.ed25519Sign(key(signer).seed, I.keyEventSigningInput(id));
  const r = I.decodeKeyEvent(
    core,
    P.encodeCbor({ ...body, signatures: [{ signer: key(signer).did, sig }] }),
  );
  return r.ok ? r.value : fail(`key event does not decode: ${r.reason} ${r.detail}`);
}

const nextOf = (k: string): Uint8Array => I.nextCommitment(core, [key(k).did], 1);
const config = (current: string, next: string): CborMap => ({
  keys: [key(current).did],
  threshold: 1,
  next: nextOf(next),
  guardians: [],
  guardian_threshold: 0,
  recovery_delay: 0,
});

/** An identity incepted at `T0 − 10 days` with key `<name>-0`, rotated to `<name>-i` at each time of `rotations`. */
export function identity(name: string, rotations: number[] = []): Identity {
  const existing = identities.get(name);
  if (existing !== undefined) return existing;
  const icp = signKeyEvent(
    {
      v: 1,
      type: 'inception',
      seq: 0,
      created_at: T0 - 10 * DAY,
      ...config(`${name}-0`, `${name}-1`),
    },
    `${name}-0`,
  );
  const events = [icp];
  rotations.forEach((at, i) => {
    const prior = events[i] as I.DecodedKeyEvent;
    const body = {
      v: 1,
      type: 'rotation',
      identity: icp.identity,
      seq: i + 1,
      prior: prior.id,
      created_at: at,
      ...config(`${name}-${i + 1}`, `${name}-${i + 2}`),
    };
    events.push(signKeyEvent(body, `${name}-${i + 1}`));
  });
  const out = { name, did: icp.identity, events, states: events.map((e) => e.id) };
  identities.set(name, out);
  return out;
}

/** A lookup over the given identities' key events (resolved by the identity code). */
export function lookupOf(list: readonly Identity[]): G.IdentityLookup {
  const registry = new I.IdentityRegistry(core);
  for (const id of list) {
    for (const o of registry.submit(core, id.events, NOW, SKEW))
      if (!o.ok) fail(`identity ${id.name}: ${o.reason}`);
  }
  return (d) => registry.get(d);
}

/** The vector form of identities: key events and the resolved state (spec/IDENTITY.md §7.3). */
export function identitiesJson(list: readonly Identity[]): unknown[] {
  const lookup = lookupOf(list);
  return list.map((id) => ({
    name: id.name,
    did: id.did,
    key_events: id.events.map((e) => hex(e.encoded)),
    state: I.identityStateToJson(lookup(id.did) as I.IdentityState),
  }));
}

// ------------------------------------------------------------------------------- raw records

/** Signs a raw body map under the governance domain with these keys (names); returns the whole map. */
export function signRaw(
  body: CborMap,
  signers: readonly string[],
  extra: CborValue[] = [],
): CborMap {
  const message = G.recordSigningInput(core.sha256(P.encodeCbor(body)));
  const signatures: CborValue[] = signers.map((n) => ({
    signer: key(n).did,
    sig: core.ed25519Sign(key(n).seed, message),
  }));
  return { ...body, signatures: [...signatures, ...extra] };
}

/** A member or validator entry of a principal by name: a did:cs pinned to key state `pin`, or a did:key. */
export function entry(name: string, pin = 0): CborMap {
  const id = identities.get(name);
  return id === undefined
    ? { id: key(name).did }
    : { id: id.did, key_state: id.states[pin] as Uint8Array };
}
export const entries = (...names: string[]): CborMap[] =>
  names.map((n) => entry(n)).sort((a, b) => ((a['id'] as string) < (b['id'] as string) ? -1 : 1));

export const thresholds = (t: number, overrides: Record<string, number> = {}): CborMap =>
  Object.fromEntries(G.CRITICAL_KINDS.map((k) => [k, overrides[k] ?? t]));

export interface RootSpec {
  version?: number;
  prior?: Uint8Array;
  createdAt?: number;
  expiresAt?: number;
  members?: CborMap[];
  thresholds?: CborMap;
  validators?: CborMap[];
  protocolVersions?: number[];
  trustPolicy?: { max_depth: number; min_paths: number };
}

/** A root body map: by default version 1, members alice/bob/carol 2-of-3, validator val-1. */
export function rootMap(s: RootSpec = {}): CborMap {
  const members = s.members ?? entries('alice', 'bob', 'carol');
  const createdAt = s.createdAt ?? T0;
  return {
    v: 1,
    type: 'root',
    version: s.version ?? 1,
    ...(s.prior === undefined ? {} : { prior: s.prior }),
    created_at: createdAt,
    expires_at: s.expiresAt ?? createdAt + 365 * DAY,
    members,
    thresholds: s.thresholds ?? thresholds(Math.floor(members.length / 2) + 1),
    validators: s.validators ?? entries('val-1'),
    protocol_versions: s.protocolVersions ?? [1],
    trust_policy: s.trustPolicy ?? { max_depth: 3, min_paths: 1 },
  };
}

export function actionMap(
  root: Uint8Array,
  kind: string,
  createdAt: number,
  fields: CborMap = {},
): CborMap {
  return { v: 1, type: 'action', kind, root, created_at: createdAt, ...fields };
}

export function attestationMap(
  issuer: string,
  subject: string,
  fields: { scope?: string; createdAt?: number; expiresAt?: number; keyState?: number } = {},
): CborMap {
  const createdAt = fields.createdAt ?? T0;
  const issuerId = identities.get(issuer);
  return {
    v: 1,
    type: 'attestation',
    issuer: did(issuer),
    subject: did(subject),
    ...(issuerId === undefined
      ? {}
      : { key_state: issuerId.states[fields.keyState ?? 0] as Uint8Array }),
    scope: fields.scope ?? '*',
    created_at: createdAt,
    expires_at: fields.expiresAt ?? createdAt + 365 * DAY,
  };
}

export function revocationMap(
  issuer: string,
  target: Uint8Array,
  createdAt: number,
  keyState?: number,
): CborMap {
  const issuerId = identities.get(issuer);
  return {
    v: 1,
    type: 'attestation-revocation',
    issuer: did(issuer),
    ...(issuerId === undefined ? {} : { key_state: issuerId.states[keyState ?? 0] as Uint8Array }),
    target,
    created_at: createdAt,
  };
}

/** A signed raw record that must decode and verify. */
export function build(body: CborMap, signers: readonly string[]): G.VerifiedRecord {
  const d = G.decodeRecord(core, P.encodeCbor(signRaw(body, signers)));
  if (!d.ok) fail(`fixture does not decode: ${d.reason} ${d.detail}`);
  const v = G.verifyRecord(core, d.value);
  return v.ok ? v.value : fail(`fixture does not verify: ${v.reason} ${v.detail}`);
}

/** The signer names of a key list, for records signed by an identity's current key. */
export const idKey = (name: string, index: number): string => `${name}-${index}`;

// ------------------------------------------------------------------------------- JSON form

const HEX_TOP = new Set(['prior', 'root', 'target', 'key_state']);

/** The JSON form of a raw map, or undefined when a byte string sits where JSON has no hex. */
export function jsonOf(map: CborMap): unknown {
  return jsonFormOf(
    map,
    (path) =>
      (path.length === 1 && HEX_TOP.has(path[0] ?? '')) ||
      (path.length === 3 &&
        (path[0] === 'members' || path[0] === 'validators') &&
        path[2] === 'key_state') ||
      (path.length === 3 && path[0] === 'signatures' && path[2] === 'sig'),
  );
}

// ------------------------------------------------------------------------------- verdicts

/** Steps 1–4 and 6 of spec/GOVERNANCE.md §7 on one record in some form. */
export function standaloneVerdict(d: G.GovResult<G.DecodedRecord>): string {
  if (!d.ok) return d.reason;
  const time = G.checkRecordTime(d.value.record, NOW, SKEW);
  if (!time.ok) return time.reason;
  const v = G.verifyRecord(core, d.value);
  return v.ok ? 'valid' : v.reason;
}

/** Writes a vector file; with --check, only compares and fails when the committed one differs. */
export const writeVectors = vectorWriter(dirname(fileURLToPath(import.meta.url)));
