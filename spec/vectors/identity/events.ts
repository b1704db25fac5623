/**
 * events.json: ordinary events (spec/PROTOCOL.md) authored by identities, each set with the key
 * events a node holds, and the verdict of the whole of PROTOCOL.md §7 on each event (in its
 * CBOR and JSON forms) at a node that holds exactly those key events: step 7 for a did:cs
 * author is the identity verdict of spec/IDENTITY.md §8. Stated by hand; the protocol's
 * reference validator with the identity code must reproduce every verdict.
 */

import type { CborMap } from '../../../packages/node/src/protocol/index.js';
import {
  build,
  core,
  DAY,
  fail,
  hex,
  I,
  inceptionMap,
  key,
  keysUsed,
  NOW,
  P,
  SKEW,
  successorMap,
  T0,
  writeVectors,
} from './lib.js';

const enc = new TextEncoder();
let nonces = 0;

interface EventSpec {
  readonly description: string;
  readonly keyState: I.DecodedKeyEvent | Uint8Array;
  readonly author?: string;
  readonly at: number;
  readonly expiresAt?: number;
  readonly signers: readonly string[];
  /** Replace the first signature by one with a flipped bit. */
  readonly badSignature?: boolean;
  readonly expected: string;
}

interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly keyEvents: Record<string, I.DecodedKeyEvent>;
  readonly events: readonly EventSpec[];
}

/** An event map signed under the event signature domain by the named keys. */
function eventMap(identity: string, s: EventSpec): CborMap {
  const keyState = s.keyState instanceof Uint8Array ? s.keyState : s.keyState.id;
  const body: CborMap = {
    v: 1,
    kind: 'note',
    author: s.author ?? identity,
    key_state: keyState,
    created_at: s.at,
    expires_at: s.expiresAt ?? s.at + 5 * DAY,
    nonce: core
      .sha256(enc.encode(`commons-sync/vectors/identity-events/nonce/${nonces++}`))
      .slice(0, 16),
    payload: { text: s.description },
  };
  const message = P.signingInput(core.sha256(P.encodeCbor(body)));
  const signatures = s.signers.map((n) => ({
    signer: key(n).did,
    sig: core.ed25519Sign(key(n).seed, message),
  }));
  if (s.badSignature === true) {
    const first = signatures[0] ?? fail('no signature to break');
    const sig = Uint8Array.from(first.sig);
    sig[7] = (sig[7] as number) ^ 0x01;
    signatures[0] = { signer: first.signer, sig };
  }
  return { ...body, signatures };
}

function scenarios(): Scenario[] {
  const G = { guardians: ['g1', 'g2', 'g3'], guardianThreshold: 2, delay: DAY };
  const icp = (name: string) =>
    build(inceptionMap({ keys: [name], next: [`${name}2`], ...G }, T0), [name]);
  const rot = (
    prior: I.DecodedKeyEvent,
    reveal: string,
    next: string,
    at: number,
    extra: CborMap = {},
    type: 'rotation' | 'revocation' = 'rotation',
  ) =>
    build(successorMap(prior, type, { keys: [reveal], next: [next], ...G }, at, extra), [reveal]);

  const a0 = icp('ev-alice');
  const a1 = rot(a0, 'ev-alice2', 'ev-alice3', NOW - 3 * DAY);
  const b0 = icp('ev-bob');
  const b1 = rot(
    b0,
    'ev-bob2',
    'ev-bob3',
    NOW - DAY,
    { revoked_from: NOW - 3 * DAY },
    'revocation',
  );
  const c0 = icp('ev-carol');
  const c1 = rot(c0, 'ev-carol2', 'ev-carol3', NOW - 3 * DAY);
  const c2 = rot(c0, 'ev-carol2', 'ev-carol4', NOW - 2 * DAY); // a second rotation: duplicity
  const nobody = I.identifierFromInceptionId(
    core.sha256(enc.encode('nobody holds this inception')),
  );
  return [
    {
      name: 'rotated',
      description:
        'an identity that rotated 3 days before now: each key state signs inside its window only',
      keyEvents: { icp: a0, rot: a1 },
      events: [
        {
          description: 'first key, before the rotation',
          keyState: a0,
          at: NOW - 4 * DAY,
          signers: ['ev-alice'],
          expected: 'accepted',
        },
        {
          description: 'first key, after the rotation',
          keyState: a0,
          at: NOW - 2 * DAY,
          signers: ['ev-alice'],
          expected: 'ERR_KEL_KEY_ROTATED',
        },
        {
          description: 'second key, after the rotation',
          keyState: a1,
          at: NOW - 2 * DAY,
          signers: ['ev-alice2'],
          expected: 'accepted',
        },
        {
          description: 'second key, dated before it took effect',
          keyState: a1,
          at: NOW - 4 * DAY,
          signers: ['ev-alice2'],
          expected: 'ERR_KEL_BEFORE_KEY_STATE',
        },
        {
          description: 'the rotated key names the new key state',
          keyState: a1,
          at: NOW - 2 * DAY,
          signers: ['ev-alice'],
          expected: 'ERR_KEL_THRESHOLD_NOT_MET',
        },
        {
          description: 'a key state nobody holds',
          keyState: core.sha256(enc.encode('no such key event')),
          at: NOW - DAY,
          signers: ['ev-alice2'],
          expected: 'ERR_KEL_UNKNOWN_KEY_STATE',
        },
        {
          description: 'an identity whose inception is not held',
          keyState: a1,
          author: nobody,
          at: NOW - DAY,
          signers: ['ev-alice2'],
          expected: 'ERR_KEL_UNKNOWN_IDENTITY',
        },
        {
          description: 'a signature that does not verify (step 6 comes before step 7)',
          keyState: a0,
          at: NOW - 2 * DAY,
          signers: ['ev-alice'],
          badSignature: true,
          expected: 'ERR_BAD_SIGNATURE',
        },
        {
          description: 'expired (step 4 comes first)',
          keyState: a1,
          at: NOW - 6 * DAY,
          expiresAt: NOW - DAY,
          signers: ['ev-alice2'],
          expected: 'ERR_EXPIRED',
        },
      ],
    },
    {
      name: 'revoked',
      description: 'a revocation dated 1 day before now that reaches back to 3 days before now',
      keyEvents: { icp: b0, rev: b1 },
      events: [
        {
          description: 'revoked key, before revoked_from',
          keyState: b0,
          at: NOW - 4 * DAY,
          signers: ['ev-bob'],
          expected: 'accepted',
        },
        {
          description: 'revoked key, backdated after revoked_from',
          keyState: b0,
          at: NOW - 2 * DAY,
          signers: ['ev-bob'],
          expected: 'ERR_KEL_KEY_REVOKED',
        },
        {
          description: 'the new key, now',
          keyState: b1,
          at: NOW,
          signers: ['ev-bob2'],
          expected: 'accepted',
        },
      ],
    },
    {
      name: 'frozen',
      description: 'two rotations from one key state (duplicity): frozen from the earlier one on',
      keyEvents: { icp: c0, rot1: c1, rot2: c2 },
      events: [
        {
          description: 'first key, before the freeze',
          keyState: c0,
          at: NOW - 4 * DAY,
          signers: ['ev-carol'],
          expected: 'accepted',
        },
        {
          description: 'first key, after the freeze',
          keyState: c0,
          at: NOW - 2 * DAY,
          signers: ['ev-carol'],
          expected: 'ERR_KEL_IDENTITY_FROZEN',
        },
        {
          description: 'a contested rotation',
          keyState: c1,
          at: NOW - DAY,
          signers: ['ev-carol2'],
          expected: 'ERR_KEL_SUPERSEDED_KEY_STATE',
        },
      ],
    },
  ];
}

export function writeEvents(): void {
  const vectors = scenarios().map((s) => {
    const all = Object.values(s.keyEvents);
    const identity = (all[0] ?? fail('no key events')).identity;
    const verified = I.verifyKeyEvents(core, all).map((v) =>
      v.ok ? v.value : fail(`${s.name}: ${v.detail}`),
    );
    const state = I.resolveIdentity(core, identity, verified);
    const ctx: P.ValidationContext = {
      now: NOW,
      lookupReplay: () => undefined,
      checkIdentity: (f) => I.checkIdentityAuthor(f.author === identity ? state : undefined, f),
    };
    const events = s.events.map((spec) => {
      const cbor = P.encodeCbor(eventMap(identity, spec));
      const decoded = P.decodeEvent(cbor);
      if (!decoded.ok) fail(`${s.name} / ${spec.description}: ${decoded.detail}`);
      const json = P.eventToJson(decoded.value.event);
      const forms = [
        P.validateEvent(core, cbor, ctx),
        P.validateEventJson(core, enc.encode(JSON.stringify(json)), ctx),
      ].map((v) => (v.ok ? v.outcome : v.reason));
      for (const got of forms)
        if (got !== spec.expected)
          fail(`${s.name} / ${spec.description}: stated ${spec.expected}, code says ${got}`);
      const id = P.eventId(core, decoded.value);
      return {
        description: spec.description,
        cbor: hex(cbor),
        json,
        body_cbor: hex(decoded.value.body),
        id: hex(id),
        signing_input: hex(P.signingInput(id)),
        signature_verdicts: P.signatureChecks(decoded.value, id).map((c) =>
          core.ed25519Verify(c.publicKey, c.message, c.signature),
        ),
        expected: spec.expected,
      };
    });
    return {
      name: s.name,
      description: s.description,
      identity,
      key_events: Object.entries(s.keyEvents).map(([label, e]) => ({
        label,
        id: e.idHex,
        cbor: hex(e.encoded),
        json: I.keyEventToJson(e.event),
      })),
      state: I.identityStateToJson(state ?? fail(`${s.name}: no state`)),
      events,
    };
  });
  writeVectors('events.json', {
    source:
      'Commons Sync: generated by spec/vectors/identity/generate.ts from spec/PROTOCOL.md §7 and spec/IDENTITY.md §8',
    license: 'Apache-2.0',
    description:
      'Events authored by identities: each set of key events a node holds, the state they resolve to, and the verdict of PROTOCOL.md §7 on each event (CBOR and JSON forms), step 7 being the identity verdict',
    now: NOW,
    clock_skew_s: SKEW,
    max_lifetime_s: 7 * DAY,
    keys: keysUsed(),
    vectors,
  });
}
