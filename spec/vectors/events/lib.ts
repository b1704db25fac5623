/**
 * Helpers of generate.ts: fixed keys and time, event builders, raw CBOR surgery, and `write`,
 * which derives every field of a vector from the protocol code and checks the verdict that
 * generate.ts states by hand, in both the CBOR and the JSON form.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadCore } from '@commons-sync/bindings';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import type { CborMap, CborValue } from '../../../packages/node/src/protocol/index.js';
import * as P from '../../../packages/node/src/protocol/index.js';

const core = await loadCore({ backend: 'js' });
const OUT = dirname(fileURLToPath(import.meta.url));
const enc = new TextEncoder();
const hex = P.toHex;
const unhex = (h: string): Uint8Array => P.fromHex(h) ?? fail(`bad hex ${h}`);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
function fail(message: string): never {
  throw new Error(message);
}

// ------------------------------------------------------------------------------------ keys, time

export const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
interface Key {
  name: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
  did: string;
}
function key(name: string): Key {
  const seed = core.sha256(enc.encode(`commons-sync/vectors/seed/${name}`));
  const publicKey = core.ed25519PublicKey(seed);
  return { name, seed, publicKey, did: P.didKeyFromPublicKey(publicKey) };
}
const [alice, bob, carol, dave, mallory] = ['alice', 'bob', 'carol', 'dave', 'mallory'].map(
  key,
) as [Key, Key, Key, Key, Key];
const KEYS = [alice, bob, carol, dave, mallory];
const didOfKey = (k: Uint8Array): string => P.didKeyFromPublicKey(k);

// ------------------------------------------------------------------------------------ builders

let nonceCounter = 0;
/** A fresh 16-byte nonce per event, so that vectors never replay each other by accident. */
function nonce(length = 16): Uint8Array {
  return core.sha256(enc.encode(`commons-sync/vectors/nonce/${nonceCounter++}`)).slice(0, length);
}

function body(over: Record<string, CborValue | undefined> = {}): CborMap {
  const m: CborMap = {
    v: 1,
    kind: 'note',
    author: alice.did,
    created_at: NOW - 60,
    expires_at: NOW + 3600,
    nonce: nonce(),
    payload: { text: 'hello' },
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete m[k];
    else m[k] = v;
  }
  return m;
}

const idOf = (b: CborMap): Uint8Array => core.sha256(P.encodeCbor(b));
const messageOf = (b: CborMap): Uint8Array => P.signingInput(idOf(b));
const sig = (k: Key, msg: Uint8Array): Uint8Array => core.ed25519Sign(k.seed, msg);
const entry = (signer: string, s: Uint8Array): CborMap => ({ signer, sig: s });

/** The event with a signature by each key over the body. */
function signed(b: CborMap, keys: Key[] = [alice]): CborMap {
  const msg = messageOf(b);
  return { ...b, signatures: keys.map((k) => entry(k.did, sig(k, msg))) };
}

function policy(threshold: number, keys: Key[]): Record<string, CborValue> {
  return { threshold, signers: keys.map((k) => k.did).sort() };
}

/**
 * A second valid signature by the same key that only a ZIP-215 (cofactored) verifier accepts:
 * R gets an 8-torsion component, which [8] removes.
 */
function zip215OnlySignature(k: Key, msg: Uint8Array): Uint8Array {
  const { scalar, prefix, pointBytes } = ed25519.utils.getExtendedPublicKey(k.seed);
  const L = ed25519.Point.Fn.ORDER;
  const le = (b: Uint8Array): bigint => BigInt(`0x${hex(Uint8Array.from(b).reverse()) || '0'}`);
  const r = le(sha512(cat(prefix, msg, enc.encode('zip215')))) % L;
  const torsion = ed25519.Point.fromBytes(unhex(P.SMALL_ORDER_KEYS[6] as string));
  const R = ed25519.Point.BASE.multiply(r).add(torsion).toBytes();
  const kk = le(sha512(cat(R, pointBytes, msg))) % L;
  const S = (r + kk * scalar) % L;
  const Sb = unhex(S.toString(16).padStart(64, '0')).reverse();
  const out = cat(R, Sb);
  if (!ed25519.verify(out, msg, k.publicKey, { zip215: true })) fail('zip215 sig invalid');
  if (cofactorlessVerify(k.publicKey, msg, out)) fail('zip215-only signature passes OpenSSL');
  return out;
}

/** OpenSSL's Ed25519 (node:crypto): the cofactorless RFC 8032 check. */
function cofactorlessVerify(
  publicKey: Uint8Array,
  msg: Uint8Array,
  signature: Uint8Array,
): boolean {
  const spki = cat(unhex('302a300506032b6570032100'), publicKey);
  const keyObject = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  return cryptoVerify(null, msg, keyObject, signature);
}

/** A 32-byte string that does not decode to a curve point (canonical y, no x). */
function offCurveKey(): Uint8Array {
  for (let y = 2; ; y++) {
    const b = new Uint8Array(32);
    b[0] = y;
    try {
      ed25519.Point.fromBytes(b);
    } catch {
      return b;
    }
  }
}

// ------------------------------------------------------------------------------------ raw CBOR

const c = (v: CborValue): Uint8Array => P.encodeCbor(v);
const MARK = 'MARK-MARK-MARK-MARK';

/** A signed event whose payload encoding is replaced by raw bytes (for decode-level faults). */
function withRawPayload(raw: Uint8Array | string): Uint8Array {
  const bytes = c(signed(body({ payload: MARK })));
  const mark = c(MARK);
  const at = hex(bytes).indexOf(hex(mark)) / 2;
  if (at < 0 || !Number.isInteger(at)) fail('mark not found');
  const replacement = typeof raw === 'string' ? unhex(raw) : raw;
  return cat(bytes.subarray(0, at), replacement, bytes.subarray(at + mark.length));
}

/** The encoded (key, value) pairs of a map, in canonical order. */
function rawEntries(m: CborMap): Array<[Uint8Array, Uint8Array]> {
  const entries = Object.keys(m).map(
    (k) => [c(k), c(m[k] as CborValue)] as [Uint8Array, Uint8Array],
  );
  return entries.sort((a, b) => P.compareBytes(a[0], b[0]));
}
const rawMap = (
  header: Uint8Array,
  entries: Array<[Uint8Array, Uint8Array]>,
  tail: Uint8Array = new Uint8Array(),
) => cat(header, ...entries.flat(), tail);

function nested(depth: number): CborValue {
  let v: CborValue = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

// ------------------------------------------------------------------------------------ vectors

type Expected = P.ReasonCode | `ERR_KEL_${string}` | 'accepted' | 'duplicate';
interface Case {
  name: string;
  description: string;
  event?: CborMap; // canonical: both forms are derived
  cbor?: Uint8Array; // raw bytes, as given
  json?: unknown; // a JSON value; `false` to leave the JSON form out
  jsonText?: string;
  jsonBytes?: Uint8Array; // a JSON text that is not valid UTF-8 (written as json_text_hex)
  now?: number;
  trusted?: Key[];
  expected: Expected;
}

function jsonForm(m: CborMap): unknown {
  const containsBytes = (v: CborValue): boolean =>
    v instanceof Uint8Array ||
    (Array.isArray(v) && v.some(containsBytes)) ||
    (P.isCborMap(v) && Object.values(v).some(containsBytes));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if ((k === 'nonce' || k === 'key_state') && v instanceof Uint8Array) out[k] = hex(v);
    else if (k === 'signatures' && Array.isArray(v)) {
      out[k] = v.map((e) =>
        P.isCborMap(e)
          ? Object.fromEntries(
              Object.entries(e).map(([a, b]) => [a, b instanceof Uint8Array ? hex(b) : b]),
            )
          : e,
      );
      if ((out[k] as CborValue[]).some(containsBytes)) return undefined;
    } else if (containsBytes(v)) return undefined;
    else out[k] = v;
  }
  return out;
}

type Lookup = (author: string, nonce: Uint8Array) => Uint8Array | undefined;
const noReplay: Lookup = () => undefined;

function verdictOf(result: P.Verdict): Expected {
  return result.ok ? result.outcome : result.reason;
}

/** The JSON text of a vector's `json` value: JSON.stringify's (a JS value holds only exact values). */
const jsonTextOf = (json: unknown): Uint8Array => enc.encode(JSON.stringify(json));

/** The bytes of each JSON form a vector gives, in the order json, json_text, json_text_hex. */
function jsonForms(input: {
  json?: unknown;
  jsonText?: string;
  jsonBytes?: Uint8Array;
}): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (input.json !== undefined) out.push(jsonTextOf(input.json));
  if (input.jsonText !== undefined) out.push(enc.encode(input.jsonText));
  if (input.jsonBytes !== undefined) out.push(input.jsonBytes);
  return out;
}

function judge(
  input: { cbor?: Uint8Array; json?: unknown; jsonText?: string; jsonBytes?: Uint8Array },
  now: number,
  trusted: Key[] | undefined,
  lookupReplay: Lookup,
): Expected[] {
  const ctx: P.ValidationContext = {
    now,
    lookupReplay,
    trust: trusted
      ? { mode: 'allowlist', authors: new Set(trusted.map((k) => k.did)) }
      : P.OPEN_TRUST,
  };
  const out: Expected[] = [];
  if (input.cbor) out.push(verdictOf(P.validateEvent(core, input.cbor, ctx)));
  // the JSON forms through the protocol's one JSON reader, from their bytes
  for (const text of jsonForms(input)) out.push(verdictOf(P.validateEventJson(core, text, ctx)));
  return out;
}

function build(k: Case, lookupReplay: Lookup = noReplay): Record<string, unknown> {
  const now = k.now ?? NOW;
  const cbor = k.event ? c(k.event) : k.cbor;
  let json = k.json;
  if (json === undefined && k.event) json = jsonForm(k.event);
  if (json === false) json = undefined;
  const input = {
    ...(cbor && { cbor }),
    json,
    ...(k.jsonText !== undefined && { jsonText: k.jsonText }),
    ...(k.jsonBytes !== undefined && { jsonBytes: k.jsonBytes }),
  };
  const verdicts = judge(input, now, k.trusted, lookupReplay);
  if (verdicts.length === 0) fail(`${k.name}: no input`);
  for (const v of verdicts) {
    if (v !== k.expected) fail(`${k.name}: expected ${k.expected}, got ${verdicts.join(', ')}`);
  }

  const out: Record<string, unknown> = { name: k.name, description: k.description, now };
  if (k.trusted) out['trusted_authors'] = k.trusted.map((t) => t.did);
  if (cbor) out['cbor'] = hex(cbor);
  if (json !== undefined) out['json'] = json;
  if (k.jsonText !== undefined) out['json_text'] = k.jsonText;
  if (k.jsonBytes !== undefined) out['json_text_hex'] = hex(k.jsonBytes);
  const decoded = cbor
    ? P.decodeEvent(cbor)
    : P.readEventJson(jsonForms(input)[0] ?? new Uint8Array());
  if (decoded.ok) {
    const id = P.eventId(core, decoded.value);
    if (!cbor) out['cbor'] = hex(decoded.value.encoded);
    out['body_cbor'] = hex(decoded.value.body);
    out['id'] = hex(id);
    out['signing_input'] = hex(P.signingInput(id));
    out['signature_verdicts'] = P.signatureChecks(decoded.value, id).map((s) =>
      core.ed25519Verify(s.publicKey, s.message, s.signature),
    );
  }
  out['expected'] = k.expected;
  return out;
}

interface Step {
  description: string;
  event: CborMap;
  now?: number;
  expected: Expected;
}
/** Events submitted one after another to one node: accepted events are recorded for replay. */
interface Sequence {
  name: string;
  description: string;
  steps: Step[];
}

function buildSequence(s: Sequence): Record<string, unknown> {
  const accepted = new Map<string, Uint8Array>();
  const lookup: Lookup = (author, n) => accepted.get(`${author}/${hex(n)}`);
  const steps = s.steps.map((step, i) => {
    const built = build({ ...step, name: `${s.name} step ${i}` }, lookup);
    if (step.expected === 'accepted') {
      const d = P.decodeEvent(c(step.event));
      if (!d.ok) fail('accepted step does not decode');
      accepted.set(`${d.value.event.author}/${hex(d.value.event.nonce)}`, P.eventId(core, d.value));
    }
    const { name: _name, ...rest } = built;
    return rest;
  });
  return { name: s.name, description: s.description, steps };
}

function write(file: string, description: string, cases: Array<Case | Sequence>): void {
  const doc = {
    source:
      'Commons Sync, generated by spec/vectors/events/generate.ts (see README.md in this folder)',
    license: 'Apache-2.0',
    description,
    protocol_version: P.PROTOCOL_VERSION,
    time_rules: {
      clock_skew_s: P.DEFAULT_TIME_RULES.clockSkewSeconds,
      max_lifetime_s: P.DEFAULT_TIME_RULES.maxLifetimeSeconds,
    },
    keys: Object.fromEntries(
      KEYS.map((k) => [k.name, { seed: hex(k.seed), public_key: hex(k.publicKey), did: k.did }]),
    ),
    vectors: cases.map((k) => ('steps' in k ? buildSequence(k as Sequence) : build(k))),
  };
  writeFileSync(join(OUT, file), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`${file}: ${cases.length} vectors`);
}

// ------------------------------------------------------------------------------------ batch bodies

/** A request body (§3.5) and the verdicts: a code when it is refused whole, else one per element. */
interface BatchCase {
  name: string;
  description: string;
  body: string | Uint8Array; // bytes for a body that is not valid UTF-8 (written as body_hex)
  expected: P.ReasonCode | Expected[];
}

/** The verdicts on a body, from the protocol code: the splitter, then each element in order. */
function judgeBatch(
  body: Uint8Array,
  now: number,
): { single: boolean; verdicts: P.ReasonCode | Expected[] } {
  const split = P.splitEventBody(body, Number.MAX_SAFE_INTEGER);
  if (!split.ok) return { single: false, verdicts: P.Reason.MALFORMED };
  const { bytes, spans, framingError } = split.batch;
  const accepted = new Map<string, Uint8Array>();
  const verdicts: Expected[] = [];
  for (let i = 0; i < spans.length; i += 2) {
    if (framingError !== undefined) {
      verdicts.push(P.Reason.MALFORMED);
      continue;
    }
    const v = P.validateEventJson(
      core,
      bytes,
      { now, trust: P.OPEN_TRUST, lookupReplay: (a, n) => accepted.get(`${a}/${hex(n)}`) },
      spans[i],
      spans[i + 1],
    );
    if (v.ok && v.outcome === 'accepted')
      accepted.set(`${v.decoded.event.author}/${hex(v.decoded.event.nonce)}`, v.id);
    verdicts.push(verdictOf(v));
  }
  return { single: split.single, verdicts };
}

function writeBatches(file: string, description: string, cases: BatchCase[]): void {
  const vectors = cases.map((k) => {
    const body = typeof k.body === 'string' ? enc.encode(k.body) : k.body;
    const { single, verdicts } = judgeBatch(body, NOW);
    if (JSON.stringify(verdicts) !== JSON.stringify(k.expected)) {
      fail(`${k.name}: expected ${JSON.stringify(k.expected)}, got ${JSON.stringify(verdicts)}`);
    }
    return {
      name: k.name,
      description: k.description,
      now: NOW,
      ...(typeof k.body === 'string' ? { body: k.body } : { body_hex: hex(k.body) }),
      ...(single && { single }),
      expected: k.expected,
    };
  });
  const doc = {
    source:
      'Commons Sync, generated by spec/vectors/events/generate.ts (see README.md in this folder)',
    license: 'Apache-2.0',
    description,
    protocol_version: P.PROTOCOL_VERSION,
    time_rules: {
      clock_skew_s: P.DEFAULT_TIME_RULES.clockSkewSeconds,
      max_lifetime_s: P.DEFAULT_TIME_RULES.maxLifetimeSeconds,
    },
    keys: Object.fromEntries(
      KEYS.map((k) => [k.name, { seed: hex(k.seed), public_key: hex(k.publicKey), did: k.did }]),
    ),
    batches: vectors,
  };
  writeFileSync(join(OUT, file), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`${file}: ${cases.length} batch vectors`);
}

export type { BatchCase, Case, Expected, Key, Lookup, Sequence, Step };
export {
  alice,
  bob,
  body,
  build,
  c,
  carol,
  cat,
  core,
  dave,
  didOfKey,
  enc,
  entry,
  hex,
  idOf,
  jsonTextOf,
  judge,
  MARK,
  mallory,
  messageOf,
  nested,
  nonce,
  noReplay,
  offCurveKey,
  P,
  policy,
  rawEntries,
  rawMap,
  sig,
  signed,
  unhex,
  verdictOf,
  withRawPayload,
  write,
  writeBatches,
  zip215OnlySignature,
};
