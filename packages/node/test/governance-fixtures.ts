/** Shared helpers of the governance tests: fixed keys and builders of signed governance records. */
import { loadCore } from '@commons-sync/bindings';
import type { IdentityLookup } from '../src/governance/index.js';
import {
  type ActionBody,
  type ActionKind,
  CRITICAL_KINDS,
  type CriticalKind,
  type DecodedRecord,
  Governance,
  type PrincipalEntry,
  type RecordBody,
  type RootBody,
  signRecord,
  type TrustPolicy,
  type VerifiedRecord,
  verifyRecord,
} from '../src/governance/index.js';
import { didKeyFromPublicKey, type EventSignature } from '../src/protocol/index.js';

export const core = await loadCore();
export const T0 = 1_767_225_600;
export const DAY = 86_400;
export const YEAR = 365 * DAY;

export interface TestKey {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly did: string;
}

const keyCache = new Map<string, TestKey>();
export function testKey(name: string): TestKey {
  let k = keyCache.get(name);
  if (k === undefined) {
    const seed = core.sha256(new TextEncoder().encode(`governance-tests/${name}`));
    k = { name, seed, did: didKeyFromPublicKey(core.ed25519PublicKey(seed)) };
    keyCache.set(name, k);
  }
  return k;
}
export const keysOf = (...names: string[]): TestKey[] => names.map(testKey);
export const entries = (...names: string[]): PrincipalEntry[] =>
  names.map((n) => ({ id: testKey(n).did })).sort((a, b) => (a.id < b.id ? -1 : 1));

export function thresholds(
  t: number,
  overrides: Partial<Record<CriticalKind, number>> = {},
): Record<CriticalKind, number> {
  return Object.fromEntries(CRITICAL_KINDS.map((k) => [k, overrides[k] ?? t])) as Record<
    CriticalKind,
    number
  >;
}

export const POLICY: TrustPolicy = { maxDepth: 3, minPaths: 1 };

export interface RootSpec {
  readonly version?: number;
  readonly prior?: VerifiedRecord | Uint8Array;
  readonly createdAt?: number;
  readonly expiresAt?: number;
  readonly members?: readonly PrincipalEntry[];
  readonly threshold?: number;
  readonly thresholds?: Record<CriticalKind, number>;
  readonly validators?: readonly PrincipalEntry[];
  readonly protocolVersions?: readonly number[];
  readonly trustPolicy?: TrustPolicy;
}

/** A root body: by default version 1, members alice, bob, carol with threshold 2. */
export function rootBody(spec: RootSpec = {}): RootBody {
  const members = spec.members ?? entries('alice', 'bob', 'carol');
  const createdAt = spec.createdAt ?? T0;
  const prior = spec.prior instanceof Uint8Array ? spec.prior : spec.prior?.id;
  return {
    v: 1,
    type: 'root',
    version: spec.version ?? 1,
    ...(prior === undefined ? {} : { prior }),
    createdAt,
    expiresAt: spec.expiresAt ?? createdAt + YEAR,
    members,
    thresholds: spec.thresholds ?? thresholds(spec.threshold ?? Math.floor(members.length / 2) + 1),
    validators: spec.validators ?? entries('val-1'),
    protocolVersions: spec.protocolVersions ?? [1],
    trustPolicy: spec.trustPolicy ?? POLICY,
  };
}

/** Signs a body (adding to signatures already there); fails the test when it does not decode. */
export function decoded(
  body: RecordBody & { signatures?: readonly EventSignature[] },
  signers: readonly TestKey[],
): DecodedRecord {
  const r = signRecord(
    core,
    body,
    signers.map((k) => k.seed),
  );
  if (!r.ok) throw new Error(`fixture record invalid: ${r.reason} ${r.detail}`);
  return r.value;
}

/** Signs a body; fails the test when the result does not decode and verify. */
export function signed(
  body: RecordBody & { signatures?: readonly EventSignature[] },
  signers: readonly TestKey[],
): VerifiedRecord {
  const v = verifyRecord(core, decoded(body, signers));
  if (!v.ok) throw new Error(`fixture record does not verify: ${v.reason} ${v.detail}`);
  return v.value;
}

export const root = (spec: RootSpec, ...signers: string[]): VerifiedRecord =>
  signed(rootBody(spec), keysOf(...signers));

/** The default anchor: version 1, alice/bob/carol 2-of-3, validator val-1, signed by alice and bob. */
export const anchor = (spec: RootSpec = {}): VerifiedRecord => root(spec, 'alice', 'bob');

export function actionBody(
  rootRecord: VerifiedRecord,
  kind: ActionKind,
  fields: Partial<ActionBody> = {},
): ActionBody {
  return {
    v: 1,
    type: 'action',
    kind,
    root: rootRecord.id,
    createdAt: (rootRecord.record.createdAt as number) + DAY,
    ...fields,
  };
}

export const action = (
  rootRecord: VerifiedRecord,
  kind: ActionKind,
  fields: Partial<ActionBody>,
  ...signers: string[]
): VerifiedRecord => signed(actionBody(rootRecord, kind, fields), keysOf(...signers));

export const admit = (
  rootRecord: VerifiedRecord,
  validator: string,
  at: number,
  ...signers: string[]
): VerifiedRecord =>
  action(
    rootRecord,
    'validator-admission',
    { subject: testKey(validator).did, createdAt: at },
    ...signers,
  );

export interface AttestSpec {
  readonly scope?: string;
  readonly createdAt?: number;
  readonly expiresAt?: number;
}

export function attest(issuer: string, subject: string, spec: AttestSpec = {}): VerifiedRecord {
  const createdAt = spec.createdAt ?? T0;
  return signed(
    {
      v: 1,
      type: 'attestation',
      issuer: testKey(issuer).did,
      subject: testKey(subject).did,
      scope: spec.scope ?? '*',
      createdAt,
      expiresAt: spec.expiresAt ?? createdAt + YEAR,
    },
    [testKey(issuer)],
  );
}

export function revoke(
  attestation: VerifiedRecord,
  createdAt: number,
  by?: string,
): VerifiedRecord {
  const issuer = by ?? (attestation.record as { issuer: string }).issuer;
  const key = [...keyCache.values()].find((k) => k.did === issuer || k.name === by) as TestKey;
  return signed(
    { v: 1, type: 'attestation-revocation', issuer: key.did, target: attestation.id, createdAt },
    [key],
  );
}

/** Governance from an anchor (did:key members only unless a lookup is given); fails the test if refused. */
export function governed(
  anchorRecord: VerifiedRecord = anchor(),
  lookup: IdentityLookup = () => undefined,
): Governance {
  const g = Governance.create(anchorRecord, lookup);
  if (!g.ok) throw new Error(`fixture anchor refused: ${g.reason} ${g.detail}`);
  return g.value;
}

/** The outcome of one record as a short string: accepted:<standing>, duplicate, or the code. */
export function outcome(g: Governance, record: VerifiedRecord): string {
  const o = g.add(record);
  if (!o.ok) return o.reason;
  return o.outcome === 'accepted'
    ? `accepted:${o.standing}${o.reason === undefined ? '' : `:${o.reason.reason}`}`
    : o.outcome;
}
