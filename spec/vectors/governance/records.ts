/**
 * records.json: single governance records — valid ones of every type and kind, and each rule of
 * spec/GOVERNANCE.md §3–§5 and §7 steps 1–4 and 6 broken on its own — in CBOR, JSON and JSON text.
 */

import type { CborMap, CborValue } from '../../../packages/node/src/protocol/index.js';
import {
  actionMap,
  attestationMap,
  core,
  DAY,
  entries,
  entry,
  fail,
  G,
  hex,
  I,
  identity,
  jsonOf,
  key,
  keysUsed,
  LICENSE,
  NOW,
  P,
  revocationMap,
  rootMap,
  SKEW,
  signRaw,
  standaloneVerdict,
  T0,
  thresholds,
  writeVectors,
} from './lib.js';

interface Case {
  name: string;
  description: string;
  /** A signed raw map (the CBOR and, where one exists, the JSON form are derived from it). */
  map?: CborMap;
  /** Raw bytes instead (decode-level cases). */
  cbor?: Uint8Array;
  /** false: the case has no JSON form (a CBOR-only problem). */
  json?: false;
  json_text?: string;
  /** Spaces appended to json_text (kept as a count so the file stays small). */
  pad?: number;
  expected: string;
}

const enc = (map: CborMap): Uint8Array => P.encodeCbor(map);
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const sign = (body: CborMap, signers: string[], extra: CborValue[] = []): CborMap =>
  signRaw(body, signers, extra);
/** The body with fields changed (undefined removes one), signed by `signers`. */
const edit = (
  body: CborMap,
  changes: Record<string, CborValue | undefined>,
  signers: string[],
): CborMap => {
  const out: CborMap = { ...body };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return sign(out, signers);
};

const dave = identity('dave'); // a did:cs member
const anchorBody = rootMap();
const anchorId = core.sha256(enc(anchorBody));
const r2Body = rootMap({ version: 2, prior: anchorId, createdAt: T0 + DAY });
const admission = actionMap(anchorId, 'validator-admission', T0 + DAY, {
  subject: key('val-2').did,
});
const attestation = attestationMap('alice', 'erin');
const attestationId = core.sha256(enc(attestation));
const many = (n: number, prefix: string): CborMap[] =>
  Array.from({ length: n }, (_, i) => entry(`${prefix}-${i}`)).sort((a, b) =>
    (a['id'] as string) < (b['id'] as string) ? -1 : 1,
  );

function validCases(): Case[] {
  const A = ['alice', 'bob'];
  return [
    {
      name: 'root-anchor',
      description:
        'version 1, members alice/bob/carol 2-of-3, validator val-1, signed by alice and bob',
      map: sign(anchorBody, A),
      expected: 'valid',
    },
    {
      name: 'root-update',
      description: 'version 2 naming its prior',
      map: sign(r2Body, ['alice', 'carol']),
      expected: 'valid',
    },
    {
      name: 'root-didcs-member',
      description: 'a did:cs member pinned to its inception key state',
      map: sign(rootMap({ members: entries('alice', 'bob', 'dave') }), ['alice', 'dave-0']),
      expected: 'valid',
    },
    {
      name: 'root-at-limits',
      description: '32 members (threshold 17), 256 validators, 16 protocol versions, 64 signatures',
      map: sign(
        rootMap({
          members: many(32, 'm'),
          thresholds: thresholds(17),
          validators: many(256, 'v'),
          protocolVersions: Array.from({ length: 16 }, (_, i) => i + 1),
        }),
        Array.from({ length: 64 }, (_, i) => `m-${i % 32}`),
      ),
      expected: 'valid',
    },
    {
      name: 'action-validator-admission',
      description: 'admits val-2 (a did:key)',
      map: sign(admission, A),
      expected: 'valid',
    },
    {
      name: 'action-validator-admission-didcs',
      description: 'admits a did:cs validator with its key state',
      map: sign(
        actionMap(anchorId, 'validator-admission', T0 + DAY, {
          subject: dave.did,
          key_state: dave.states[0] as Uint8Array,
        }),
        A,
      ),
      expected: 'valid',
    },
    {
      name: 'action-validator-removal',
      description: 'removes val-1',
      map: sign(
        actionMap(anchorId, 'validator-removal', T0 + DAY, { subject: key('val-1').did }),
        A,
      ),
      expected: 'valid',
    },
    {
      name: 'action-identity-rotation',
      description: 're-pins a did:cs',
      map: sign(
        actionMap(anchorId, 'identity-rotation', T0 + DAY, {
          subject: dave.did,
          key_state: dave.states[0] as Uint8Array,
        }),
        A,
      ),
      expected: 'valid',
    },
    {
      name: 'action-identity-revocation',
      description: 'revokes carol',
      map: sign(
        actionMap(anchorId, 'identity-revocation', T0 + DAY, { subject: key('carol').did }),
        A,
      ),
      expected: 'valid',
    },
    {
      name: 'action-protocol-upgrade',
      description: 'protocol versions [1, 2]',
      map: sign(
        actionMap(anchorId, 'protocol-upgrade', T0 + DAY, { protocol_versions: [1, 2] }),
        A,
      ),
      expected: 'valid',
    },
    {
      name: 'action-policy-change',
      description: 'depth 2, two paths',
      map: sign(
        actionMap(anchorId, 'policy-change', T0 + DAY, {
          trust_policy: { max_depth: 2, min_paths: 2 },
        }),
        A,
      ),
      expected: 'valid',
    },
    {
      name: 'attestation',
      description: 'alice attests erin for every scope',
      map: sign(attestation, ['alice']),
      expected: 'valid',
    },
    {
      name: 'attestation-didcs-issuer',
      description: 'a did:cs issuer names its key state',
      map: sign(attestationMap('dave', 'erin', { scope: 'note' }), ['dave-0']),
      expected: 'valid',
    },
    {
      name: 'attestation-revocation',
      description: 'alice revokes her attestation',
      map: sign(revocationMap('alice', attestationId, T0 + DAY), ['alice']),
      expected: 'valid',
    },
    {
      name: 'repeated-and-outside-signers',
      description:
        'a key signs twice and a stranger signs: every signature verifies (counting is the business of the quorum rule)',
      map: sign(admission, ['alice', 'alice', 'mallory']),
      expected: 'valid',
    },
    {
      name: 'created-at-skew-edge',
      description: 'created_at = now + 300 (the clock skew)',
      map: edit(admission, { created_at: NOW + SKEW }, A),
      expected: 'valid',
    },
    {
      name: 'validity-edge',
      description: 'expires_at exactly 366 days after created_at',
      map: edit(anchorBody, { expires_at: T0 + 31_622_400 }, A),
      expected: 'valid',
    },
  ];
}

function decodeCases(): Case[] {
  const good = enc(sign(admission, ['alice', 'bob']));
  const M = 'ERR_MALFORMED';
  const big = 'ERR_GOV_TOO_LARGE';
  return [
    {
      name: 'trailing-byte',
      description: 'one byte after the map',
      cbor: cat(good, Uint8Array.of(0)),
      json: false,
      expected: M,
    },
    {
      name: 'truncated',
      description: 'the last byte missing',
      cbor: good.slice(0, -1),
      json: false,
      expected: M,
    },
    {
      name: 'indefinite-map',
      description: 'the top-level map with an indefinite length',
      cbor: cat(Uint8Array.of(0xbf), good.slice(1), Uint8Array.of(0xff)),
      json: false,
      expected: M,
    },
    {
      name: 'not-a-map',
      description: 'an array',
      cbor: Uint8Array.of(0x80),
      json: false,
      expected: M,
    },
    {
      name: 'non-shortest-integer',
      description: 'v as 0x18 0x01',
      cbor: (() => {
        const m = enc({ v: 1 });
        return cat(Uint8Array.of(0xa1), m.slice(1, 3), Uint8Array.of(0x18, 0x01));
      })(),
      json: false,
      expected: M,
    },
    {
      name: 'float',
      description: 'v as a half float',
      cbor: (() => {
        const m = enc({ v: 1 });
        return cat(Uint8Array.of(0xa1), m.slice(1, 3), Uint8Array.of(0xf9, 0x3c, 0x00));
      })(),
      json: false,
      expected: M,
    },
    {
      name: 'too-large-input',
      description: 'an input of 32,769 bytes (refused before reading)',
      cbor: new Uint8Array(32_769),
      json: false,
      expected: big,
    },
    {
      name: 'too-large-text',
      description: 'a 257-byte text (a key of an unknown field)',
      map: sign({ ...admission, ['x'.repeat(257)]: 1 }, ['alice']),
      json: false,
      expected: big,
    },
    {
      name: 'too-large-bytes',
      description: 'a 65-byte byte string',
      map: edit(admission, { root: new Uint8Array(65) }, ['alice']),
      json: false,
      expected: big,
    },
    {
      name: 'too-many-entries',
      description: 'an array of 257 entries (validators)',
      map: edit(anchorBody, { validators: Array.from({ length: 257 }, () => null) }, ['alice']),
      json: false,
      expected: big,
    },
    {
      name: 'too-deep',
      description: 'four levels of nesting',
      map: edit(admission, { subject: [[[1]]] }, ['alice']),
      json: false,
      expected: 'ERR_TOO_DEEP',
    },
  ];
}

function schemaCases(): Case[] {
  const A = ['alice', 'bob'];
  const F = 'ERR_BAD_FIELD';
  const D = 'ERR_BAD_DID';
  const big = 'ERR_GOV_TOO_LARGE';
  const cs = dave.did;
  const cases: Array<[string, string, CborMap, Record<string, CborValue | undefined>, string]> = [
    ['v-missing', 'no v', admission, { v: undefined }, F],
    ['v-2', 'v = 2', admission, { v: 2 }, 'ERR_UNSUPPORTED_VERSION'],
    ['v-text', 'v = "1"', admission, { v: '1' }, F],
    ['type-unknown', 'type "inception" (a key event type)', admission, { type: 'inception' }, F],
    ['type-missing', 'no type', admission, { type: undefined }, F],
    ['version-missing', 'a root without version', anchorBody, { version: undefined }, F],
    ['version-0', 'version 0', anchorBody, { version: 0 }, F],
    ['prior-short', 'prior of 31 bytes', r2Body, { prior: new Uint8Array(31) }, F],
    ['field-not-allowed', 'kind in a root', anchorBody, { kind: 'policy-change' }, F],
    [
      'kind-root-change',
      'kind root-change (a root change is a root record)',
      admission,
      { kind: 'root-change' },
      F,
    ],
    ['kind-unknown', 'kind "upgrade"', admission, { kind: 'upgrade' }, F],
    ['root-missing', 'an action without root', admission, { root: undefined }, F],
    [
      'subject-missing',
      'a validator admission without subject',
      admission,
      { subject: undefined },
      F,
    ],
    ['subject-not-a-did', 'subject "val-2"', admission, { subject: 'val-2' }, D],
    ['subject-not-text', 'subject 7', admission, { subject: 7 }, F],
    [
      'subject-not-allowed',
      'a subject in a protocol upgrade',
      actionMap(anchorId, 'protocol-upgrade', T0 + DAY, { protocol_versions: [1, 2] }),
      { subject: key('val-2').did },
      F,
    ],
    [
      'rotation-of-did-key',
      'identity-rotation of a did:key',
      actionMap(anchorId, 'identity-rotation', T0 + DAY, {
        subject: cs,
        key_state: dave.states[0] as Uint8Array,
      }),
      { subject: key('bob').did },
      F,
    ],
    [
      'rotation-without-key-state',
      'identity-rotation without key_state',
      actionMap(anchorId, 'identity-rotation', T0 + DAY, {
        subject: cs,
        key_state: dave.states[0] as Uint8Array,
      }),
      { key_state: undefined },
      F,
    ],
    [
      'key-state-for-did-key',
      'key_state in the admission of a did:key',
      admission,
      { key_state: new Uint8Array(32) },
      F,
    ],
    [
      'versions-in-policy-change',
      'protocol_versions in a policy change',
      actionMap(anchorId, 'policy-change', T0 + DAY, {
        trust_policy: { max_depth: 2, min_paths: 1 },
      }),
      { protocol_versions: [1] },
      F,
    ],
    [
      'policy-missing',
      'a policy change without trust_policy',
      actionMap(anchorId, 'policy-change', T0 + DAY, {
        trust_policy: { max_depth: 2, min_paths: 1 },
      }),
      { trust_policy: undefined },
      F,
    ],
    [
      'issuer-is-subject',
      'an attestation of oneself',
      attestation,
      { subject: key('alice').did },
      F,
    ],
    ['issuer-not-a-did', 'issuer "alice"', attestation, { issuer: 'alice' }, D],
    [
      'key-state-missing',
      'a did:cs issuer without key_state',
      attestationMap('dave', 'erin'),
      { key_state: undefined },
      F,
    ],
    ['scope-space', 'scope "a b"', attestation, { scope: 'a b' }, F],
    ['scope-empty', 'scope ""', attestation, { scope: '' }, F],
    ['scope-65', 'a scope of 65 bytes', attestation, { scope: 'x'.repeat(65) }, big],
    [
      'target-short',
      'target of 31 bytes',
      revocationMap('alice', attestationId, T0 + DAY),
      { target: new Uint8Array(31) },
      F,
    ],
    ['created-at-negative', 'created_at −1', admission, { created_at: -1 }, F],
    ['expires-before', 'expires_at = created_at', anchorBody, { expires_at: T0 }, F],
    [
      'validity-367-days',
      'expires_at 366 days and one second after created_at',
      anchorBody,
      { expires_at: T0 + 31_622_401 },
      F,
    ],
    ['members-empty', 'no members', anchorBody, { members: [] }, F],
    [
      'members-33',
      '33 members',
      anchorBody,
      { members: many(33, 'm'), thresholds: thresholds(17) },
      big,
    ],
    [
      'members-unordered',
      'members not ascending',
      anchorBody,
      { members: [...(anchorBody['members'] as CborMap[])].reverse() },
      F,
    ],
    ['member-not-a-did', 'a member id "alice"', anchorBody, { members: [{ id: 'alice' }] }, D],
    [
      'member-didcs-unpinned',
      'a did:cs member without key_state',
      anchorBody,
      { members: [{ id: cs }] },
      F,
    ],
    [
      'member-didkey-pinned',
      'a did:key member with key_state',
      anchorBody,
      { members: [{ id: key('alice').did, key_state: new Uint8Array(32) }] },
      F,
    ],
    [
      'member-extra-field',
      'a member entry with a field "name"',
      anchorBody,
      { members: [{ id: key('alice').did, name: 'alice' }] },
      F,
    ],
    [
      'thresholds-missing-kind',
      'no threshold for policy-change',
      anchorBody,
      {
        thresholds: Object.fromEntries(
          Object.entries(thresholds(2)).filter(([k]) => k !== 'policy-change'),
        ),
      },
      F,
    ],
    [
      'threshold-half',
      'threshold 2 of 4 members (2t must exceed n)',
      anchorBody,
      { members: entries('alice', 'bob', 'carol', 'erin'), thresholds: thresholds(2) },
      F,
    ],
    [
      'threshold-above-members',
      'threshold 4 of 3',
      anchorBody,
      { thresholds: thresholds(2, { 'root-change': 4 }) },
      F,
    ],
    [
      'threshold-extra-kind',
      'a threshold for "upgrade"',
      anchorBody,
      { thresholds: { ...thresholds(2), upgrade: 2 } },
      F,
    ],
    [
      'validators-unordered',
      'validators not ascending',
      anchorBody,
      { validators: [...entries('val-1', 'val-2')].reverse() },
      F,
    ],
    ['versions-empty', 'no protocol version', anchorBody, { protocol_versions: [] }, F],
    [
      'versions-unordered',
      'protocol versions [2, 1]',
      anchorBody,
      { protocol_versions: [2, 1] },
      F,
    ],
    ['versions-zero', 'protocol version 0', anchorBody, { protocol_versions: [0] }, F],
    [
      'versions-17',
      '17 protocol versions',
      anchorBody,
      { protocol_versions: Array.from({ length: 17 }, (_, i) => i + 1) },
      big,
    ],
    [
      'policy-depth-9',
      'max_depth 9',
      anchorBody,
      { trust_policy: { max_depth: 9, min_paths: 1 } },
      F,
    ],
    [
      'policy-extra-field',
      'a trust policy with a third field',
      anchorBody,
      { trust_policy: { max_depth: 2, min_paths: 1, scope: '*' } },
      F,
    ],
    ['unknown-field', 'a field "note"', admission, { note: 'hi' }, F],
  ];
  const out: Case[] = cases.map(([name, description, body, changes, expected]) => ({
    name,
    description,
    map: edit(body, changes, A),
    expected,
  }));
  const sig = (body: CborMap, signatures: CborValue): CborMap => ({ ...body, signatures });
  const ok = sign(admission, ['alice'])['signatures'] as CborValue[];
  out.push(
    {
      name: 'signatures-missing',
      description: 'no signatures field',
      map: { ...admission },
      expected: F,
    },
    {
      name: 'signatures-empty',
      description: 'an empty signature list',
      map: sig(admission, []),
      expected: F,
    },
    {
      name: 'signatures-65',
      description: '65 signatures',
      map: sig(
        admission,
        Array.from({ length: 65 }, () => ok[0] as CborValue),
      ),
      expected: big,
    },
    {
      name: 'signer-not-a-did',
      description: 'a signer "alice"',
      map: sig(admission, [{ signer: 'alice', sig: new Uint8Array(64) }]),
      expected: D,
    },
    {
      name: 'sig-63',
      description: 'a 63-byte signature',
      map: sig(admission, [{ signer: key('alice').did, sig: new Uint8Array(63) }]),
      expected: F,
    },
    {
      name: 'signature-extra-field',
      description: 'a signature entry with a third field',
      map: sig(admission, [{ ...(ok[0] as CborMap), at: 1 }]),
      expected: F,
    },
  );
  return out;
}

function contextFreeCases(): Case[] {
  const A = ['alice', 'bob'];
  const r2 = sign(r2Body, ['alice', 'carol']);
  const anchorSigs = sign(anchorBody, ['alice'])['signatures'] as CborValue[];
  const attSigs = sign(attestation, ['alice'])['signatures'] as CborValue[];
  const corrupted = (map: CborMap): CborMap => {
    const s = (map['signatures'] as CborMap[]).map((e) => ({ ...e }));
    const first = s[0] as CborMap;
    const bytes = (first['sig'] as Uint8Array).slice();
    bytes[0] = (bytes[0] as number) ^ 1;
    first['sig'] = bytes;
    return { ...map, signatures: s };
  };
  // the same key signing the event and key event domains over the same id
  const admissionId = core.sha256(enc(admission));
  const eventSig = core.ed25519Sign(key('alice').seed, P.signingInput(admissionId));
  const keyEventSig = core.ed25519Sign(key('alice').seed, I.keyEventSigningInput(admissionId));
  return [
    {
      name: 'future',
      description: 'created_at = now + 301',
      map: edit(admission, { created_at: NOW + SKEW + 1 }, A),
      expected: 'ERR_NOT_YET_VALID',
    },
    {
      name: 'bad-signature',
      description: 'the first signature with one bit flipped',
      map: corrupted(sign(admission, A)),
      expected: 'ERR_BAD_SIGNATURE',
    },
    {
      name: 'lifted-from-prior',
      description: "alice's signature over the anchor (the prior) lifted onto version 2",
      map: {
        ...r2,
        signatures: [anchorSigs[0] as CborValue, ...(r2['signatures'] as CborValue[])],
      },
      expected: 'ERR_GOV_MIX_AND_MATCH',
    },
    {
      name: 'lifted-from-named-root',
      description: "alice's signature over the root an action names, lifted onto the action",
      map: { ...admission, signatures: [anchorSigs[0] as CborValue] },
      expected: 'ERR_GOV_MIX_AND_MATCH',
    },
    {
      name: 'lifted-from-target',
      description: "alice's signature over her attestation, lifted onto its revocation",
      map: {
        ...revocationMap('alice', attestationId, T0 + DAY),
        signatures: [attSigs[0] as CborValue],
      },
      expected: 'ERR_GOV_MIX_AND_MATCH',
    },
    {
      name: 'event-domain-signature',
      description: 'alice signs the id under the event domain',
      map: { ...admission, signatures: [{ signer: key('alice').did, sig: eventSig }] },
      expected: 'ERR_BAD_SIGNATURE',
    },
    {
      name: 'key-event-domain-signature',
      description: 'alice signs the id under the key event domain',
      map: { ...admission, signatures: [{ signer: key('alice').did, sig: keyEventSig }] },
      expected: 'ERR_BAD_SIGNATURE',
    },
    {
      name: 'a-key-event',
      description: "a key event (dave's inception) is not a governance record",
      cbor: dave.events[0]?.encoded as Uint8Array,
      json: false,
      expected: 'ERR_BAD_FIELD',
    },
  ];
}

function jsonTextCases(): Case[] {
  const map = sign(admission, ['alice', 'bob']);
  const text = JSON.stringify(jsonOf(map));
  const root = hex(anchorId);
  const M = 'ERR_MALFORMED';
  return [
    {
      name: 'json-duplicate-name',
      description: 'v twice',
      json_text: text.replace('{"v":1,', '{"v":1,"v":1,'),
      expected: M,
    },
    {
      name: 'json-duplicate-escaped-name',
      description: 'kind and k\\u0069nd',
      json_text: text.replace('{"v":1,', '{"v":1,"k\\u0069nd":"policy-change",'),
      expected: M,
    },
    {
      name: 'json-uppercase-hex',
      description: 'root in uppercase hex',
      json_text: text.replace(root, root.toUpperCase()),
      expected: M,
    },
    {
      name: 'json-odd-hex',
      description: 'root with one digit more',
      json_text: text.replace(root, `${root}0`),
      expected: M,
    },
    {
      name: 'json-hex-too-long',
      description: 'root as 130 hex digits',
      json_text: text.replace(root, root.repeat(3).slice(0, 130)),
      expected: 'ERR_GOV_TOO_LARGE',
    },
    {
      name: 'json-huge-number',
      description: 'created_at 1e400',
      json_text: text.replace(`"created_at":${T0 + DAY}`, '"created_at":1e400'),
      expected: M,
    },
    {
      name: 'json-fraction',
      description: 'created_at 1.5',
      json_text: text.replace(`"created_at":${T0 + DAY}`, '"created_at":1.5'),
      expected: M,
    },
    {
      name: 'json-bom',
      description: 'a byte-order mark before the object',
      json_text: `\ufeff${text}`,
      expected: M,
    },
    { name: 'json-not-object', description: 'an array', json_text: '[]', expected: M },
    { name: 'json-syntax', description: 'not JSON', json_text: text.slice(0, -1), expected: M },
    {
      name: 'json-too-long',
      description: 'the text padded to 131,073 bytes with spaces',
      json_text: text,
      pad: 131_073 - text.length,
      expected: 'ERR_GOV_TOO_LARGE',
    },
    {
      name: 'json-long-but-allowed',
      description: 'the text padded to 131,072 bytes with spaces',
      json_text: text,
      pad: 131_072 - text.length,
      expected: 'valid',
    },
    {
      name: 'json-number-forms',
      description: 'v written as 1.0 and created_at as an exponent: accepted by value',
      json_text: text
        .replace('{"v":1,', '{"v":1.0,')
        .replace(`"created_at":${T0 + DAY}`, `"created_at":${(T0 + DAY) / 100}e2`),
      expected: 'valid',
    },
    {
      name: 'json-null-optional',
      description: 'subject null',
      json_text: text.replace(`"subject":"${key('val-2').did}"`, '"subject":null'),
      expected: 'ERR_BAD_FIELD',
    },
  ];
}

export function writeRecords(): void {
  const cases = [
    ...validCases(),
    ...decodeCases(),
    ...schemaCases(),
    ...contextFreeCases(),
    ...jsonTextCases(),
  ];
  const names = new Set<string>();
  const vectors = cases.map((c) => {
    if (names.has(c.name)) fail(`duplicate vector name ${c.name}`);
    names.add(c.name);
    const cbor = c.cbor ?? (c.map === undefined ? undefined : enc(c.map));
    const json = c.json === false || c.map === undefined ? undefined : jsonOf(c.map);
    const forms: Array<[string, G.GovResult<G.DecodedRecord>]> = [];
    if (cbor !== undefined) forms.push(['cbor', G.decodeRecord(core, cbor)]);
    if (json !== undefined) forms.push(['json', G.readRecordJsonText(core, JSON.stringify(json))]);
    if (c.json_text !== undefined)
      forms.push(['json_text', G.readRecordJsonText(core, c.json_text + ' '.repeat(c.pad ?? 0))]);
    for (const [form, r] of forms) {
      const got = standaloneVerdict(r);
      if (got !== c.expected)
        fail(
          `record ${c.name} (${form}): stated ${c.expected}, code says ${got}${r.ok ? '' : ` (${r.detail})`}`,
        );
    }
    const decoded = forms.map(([, r]) => r).find((r) => r.ok);
    const out: Record<string, unknown> = { name: c.name, description: c.description };
    if (cbor !== undefined) out['cbor'] = hex(cbor);
    if (json !== undefined) out['json'] = json;
    if (c.json_text !== undefined) out['json_text'] = c.json_text;
    if (c.pad !== undefined) out['json_text_pad_spaces'] = c.pad;
    if (decoded?.ok) {
      const d = decoded.value;
      out['body_cbor'] = hex(d.body);
      out['id'] = d.idHex;
      out['signing_input'] = hex(G.recordSigningInput(d.id));
      out['signature_verdicts'] = G.recordSignatureChecks(d).map((s) =>
        core.ed25519Verify(s.publicKey, s.message, s.signature),
      );
    }
    out['expected'] = c.expected;
    return out;
  });
  writeVectors('records.json', {
    source:
      'Commons Sync: generated by spec/vectors/governance/generate.ts from spec/GOVERNANCE.md §3-§5, §7',
    license: LICENSE,
    description:
      'Single governance records: expected is "valid" or the reason code of spec/GOVERNANCE.md §7 steps 1-4 and 6, with now and the clock skew below',
    now: NOW,
    clock_skew_s: SKEW,
    keys: keysUsed(),
    vectors,
  });
}
