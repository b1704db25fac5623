/**
 * Helpers of generate.ts: fixed keys and times, builders of key events (typed, and raw maps for
 * broken ones), the JSON form of a raw map, and the checks that refuse to write a vector whose
 * stated verdict the identity code does not reproduce.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadCore } from '@commons-sync/bindings';

import * as I from '../../../packages/node/src/identity/index.js';
import type { CborMap, CborValue } from '../../../packages/node/src/protocol/index.js';
import * as P from '../../../packages/node/src/protocol/index.js';

export { I, P };
export const core = await loadCore({ backend: 'js' });
const OUT = dirname(fileURLToPath(import.meta.url));
const enc = new TextEncoder();
export const hex = P.toHex;

export function fail(message: string): never {
  throw new Error(message);
}

export const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z, the node's clock in every vector
export const SKEW = 300;
export const DAY = 86_400;
export const T0 = NOW - 30 * DAY;

export interface Key {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly did: string;
}
const keys = new Map<string, Key>();
export function key(name: string): Key {
  let k = keys.get(name);
  if (k === undefined) {
    const seed = core.sha256(enc.encode(`commons-sync/vectors/seed/identity/${name}`));
    k = { name, seed, did: P.didKeyFromPublicKey(core.ed25519PublicKey(seed)) };
    keys.set(name, k);
  }
  return k;
}
export const dids = (...names: string[]): string[] => names.map((n) => key(n).did).sort();
export const commit = (threshold: number, ...names: string[]): Uint8Array =>
  I.nextCommitment(core, dids(...names), threshold);

/** The `keys` header of a vector file: every key used so far, by name. */
export function keysUsed(): Record<string, { seed: string; did: string }> {
  const out: Record<string, { seed: string; did: string }> = {};
  for (const k of [...keys.values()].sort((a, b) => (a.name < b.name ? -1 : 1)))
    out[k.name] = { seed: hex(k.seed), did: k.did };
  return out;
}

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
  let ok = true;
  const walk = (v: CborValue, path: string[]): unknown => {
    if (v instanceof Uint8Array) {
      const field = path[path.length - 1] ?? '';
      const allowed =
        (path.length === 1 && HEX_TOP.has(field)) ||
        (path.length === 3 && path[0] === 'signatures' && field === 'sig');
      if (!allowed) ok = false;
      return hex(v);
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) out[k] = walk((v as CborMap)[k] as CborValue, [...path, k]);
      return out;
    }
    return v;
  };
  const json = walk(map, []);
  return ok ? json : undefined;
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
export function writeVectors(file: string, doc: Record<string, unknown>): void {
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (process.argv.includes('--check')) {
    if (readFileSync(join(OUT, file), 'utf8') !== text)
      fail(`${file} differs from what generate.ts computes`);
    console.log(`${file}: reproduced`);
    return;
  }
  writeFileSync(join(OUT, file), text);
  console.log(`wrote ${file}`);
}
