/**
 * trust.json: webs of attestations (and revocations, and critical actions that revoke
 * identities) delivered in three orders, and trust questions. Stated by hand: the outcome of each
 * delivery in the listed order, and for each question whether the subject is trusted, the reason,
 * how many disjoint paths were found and how many are missing. The explanation of §8.5 is stored
 * as the code gives it (the paths are one witness; the crosscheck checks that they are valid).
 */
import {
  actionMap,
  attestationMap,
  build,
  core,
  DAY,
  did,
  fail,
  G,
  identity,
  keysUsed,
  LICENSE,
  NOW,
  revocationMap,
  rootMap,
  SKEW,
  T0,
  writeVectors,
} from './lib.js';
import { governanceOf, runScenario, type Scenario } from './scenario.js';

interface Question {
  description: string;
  subject: string;
  scope: string;
  at: number;
  /** [trusted, reason, paths found, missing] */
  expected: [boolean, string, number, number];
}
interface TrustScenario extends Scenario {
  questions: Question[];
}

const V = 'accepted valid';
const att = (
  issuer: string,
  subject: string,
  fields: Parameters<typeof attestationMap>[2] = {},
  signers = [issuer],
) => build(attestationMap(issuer, subject, fields), signers);
const T = (n: number, reason = 'paths'): [boolean, string, number, number] => [true, reason, n, 0];
const N = (reason: string, found: number, missing: number): [boolean, string, number, number] => [
  false,
  `ERR_TRUST_${reason}`,
  found,
  missing,
];

function depthAndScope(): TrustScenario {
  const at = T0 + DAY;
  return {
    name: 'depth-and-scope',
    description:
      'one path of at most 3 attestations from the root set; a scoped hop counts only for its scope',
    anchor: build(rootMap(), ['alice', 'bob']),
    records: {
      'alice-dean': att('alice', 'dean'),
      'dean-erin-note': att('dean', 'erin', { scope: 'note' }),
      'erin-frank': att('erin', 'frank'),
      'frank-gina': att('frank', 'gina'),
    },
    order: [
      ['alice-dean', V],
      ['dean-erin-note', V],
      ['erin-frank', V],
      ['frank-gina', V],
    ],
    questions: [
      {
        description: 'a member is a trust root',
        subject: 'alice',
        scope: 'note',
        at,
        expected: T(0, 'root'),
      },
      {
        description: 'a validator is a trust root',
        subject: 'val-1',
        scope: 'note',
        at,
        expected: T(0, 'root'),
      },
      { description: 'one hop', subject: 'dean', scope: 'note', at, expected: T(1) },
      {
        description: 'two hops, the second scoped note',
        subject: 'erin',
        scope: 'note',
        at,
        expected: T(1),
      },
      {
        description: 'the scoped hop does not count for vote',
        subject: 'erin',
        scope: 'vote',
        at,
        expected: N('NO_PATH', 0, 1),
      },
      { description: 'three hops: max_depth', subject: 'frank', scope: 'note', at, expected: T(1) },
      {
        description: 'four hops: too deep',
        subject: 'gina',
        scope: 'note',
        at,
        expected: N('NO_PATH', 0, 1),
      },
      {
        description: 'nobody attests mallory',
        subject: 'mallory',
        scope: 'note',
        at,
        expected: N('NO_PATH', 0, 1),
      },
    ],
  };
}

function time(): TrustScenario {
  const hank = att('alice', 'hank', { createdAt: T0 + 5 * DAY, expiresAt: T0 + 20 * DAY });
  return {
    name: 'time',
    description:
      'attestations are in force from created_at to expires_at, until a revocation by their issuer takes effect at its own created_at',
    anchor: build(rootMap(), ['alice', 'bob']),
    records: {
      hank,
      'revoke-hank': build(revocationMap('alice', hank.id, T0 + 10 * DAY), ['alice']),
      'bob-revokes-hank': build(revocationMap('bob', hank.id, T0 + 6 * DAY), ['bob']),
      'revoke-unknown': build(revocationMap('alice', new Uint8Array(32).fill(7), T0 + 6 * DAY), [
        'alice',
      ]),
      ivan: att('bob', 'ivan', { expiresAt: T0 + 8 * DAY }),
      'jack-signed-by-bob': att('alice', 'jack', {}, ['bob']),
    },
    order: [
      ['hank', V],
      ['revoke-hank', V],
      ['bob-revokes-hank', 'ERR_TRUST_NOT_ISSUER'],
      ['revoke-unknown', 'accepted waiting ERR_TRUST_UNKNOWN_ATTESTATION'],
      ['ivan', V],
      ['jack-signed-by-bob', 'ERR_TRUST_ISSUER_NOT_SIGNED'],
    ],
    questions: [
      {
        description: 'before the attestation',
        subject: 'hank',
        scope: 'note',
        at: T0 + 4 * DAY,
        expected: N('NO_PATH', 0, 1),
      },
      { description: 'in force', subject: 'hank', scope: 'note', at: T0 + 6 * DAY, expected: T(1) },
      {
        description: 'one second before the revocation',
        subject: 'hank',
        scope: 'note',
        at: T0 + 10 * DAY - 1,
        expected: T(1),
      },
      {
        description: 'from the revocation on',
        subject: 'hank',
        scope: 'note',
        at: T0 + 10 * DAY,
        expected: N('NO_PATH', 0, 1),
      },
      {
        description: 'one second before expiry',
        subject: 'ivan',
        scope: 'note',
        at: T0 + 8 * DAY - 1,
        expected: T(1),
      },
      {
        description: 'at expiry',
        subject: 'ivan',
        scope: 'note',
        at: T0 + 8 * DAY,
        expected: N('NO_PATH', 0, 1),
      },
      {
        description: 'an attestation its issuer did not sign was never held',
        subject: 'jack',
        scope: 'note',
        at: T0 + DAY,
        expected: N('NO_PATH', 0, 1),
      },
    ],
  };
}

function independentPaths(): TrustScenario {
  const at = T0 + DAY;
  return {
    name: 'independent-paths',
    description:
      'min_paths 2: vertex-disjoint paths from distinct roots through distinct introducers; a path that goes back to a shallower layer is set aside (§8.3)',
    anchor: build(rootMap({ trustPolicy: { max_depth: 3, min_paths: 2 } }), ['alice', 'bob']),
    records: {
      'alice-s1': att('alice', 's1'),
      'bob-s1': att('bob', 's1'),
      'alice-x': att('alice', 'x'),
      'bob-x': att('bob', 'x'),
      'x-s2': att('x', 's2'),
      'alice-y1': att('alice', 'y1'),
      'alice-y2': att('alice', 'y2'),
      'y1-s3': att('y1', 's3'),
      'y2-s3': att('y2', 's3'),
      'alice-z1': att('alice', 'z1'),
      'carol-z2': att('carol', 'z2'),
      'z1-s4': att('z1', 's4'),
      'z2-s4': att('z2', 's4'),
      'alice-s5': att('alice', 's5'),
      'bob-v': att('bob', 'v'),
      'v-u': att('v', 'u'),
      'alice-u': att('alice', 'u'),
      'u-s5': att('u', 's5'),
    },
    order: [
      ['alice-s1', V],
      ['bob-s1', V],
      ['alice-x', V],
      ['bob-x', V],
      ['x-s2', V],
      ['alice-y1', V],
      ['alice-y2', V],
      ['y1-s3', V],
      ['y2-s3', V],
      ['alice-z1', V],
      ['carol-z2', V],
      ['z1-s4', V],
      ['z2-s4', V],
      ['alice-s5', V],
      ['bob-v', V],
      ['v-u', V],
      ['alice-u', V],
      ['u-s5', V],
    ],
    questions: [
      {
        description: 'two roots attest s1 directly',
        subject: 's1',
        scope: 'note',
        at,
        expected: T(2),
      },
      {
        description: 'x is attested by two roots',
        subject: 'x',
        scope: 'note',
        at,
        expected: T(2),
      },
      {
        description: 'both paths to s2 pass through x',
        subject: 's2',
        scope: 'note',
        at,
        expected: N('TOO_FEW_PATHS', 1, 1),
      },
      {
        description: 'both paths to s3 start at alice',
        subject: 's3',
        scope: 'note',
        at,
        expected: N('TOO_FEW_PATHS', 1, 1),
      },
      {
        description: 'alice and carol through z1 and z2',
        subject: 's4',
        scope: 'note',
        at,
        expected: T(2),
      },
      {
        description: 'bob -> v -> u -> s5 goes back to layer 1 (u is attested by alice): set aside',
        subject: 's5',
        scope: 'note',
        at,
        expected: N('TOO_FEW_PATHS', 1, 1),
      },
    ],
  };
}

function revokedIdentities(): TrustScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const at = T0 + 3 * DAY;
  return {
    name: 'revoked-identities',
    description:
      'identities revoked by a critical action are neither trusted nor trust roots, and their attestations count for nothing',
    anchor,
    records: {
      'carol-jay': att('carol', 'jay'),
      'alice-kay': att('alice', 'kay'),
      'kay-lee': att('kay', 'lee'),
      'revoke-carol': build(
        actionMap(anchor.id, 'identity-revocation', T0 + DAY, { subject: did('carol') }),
        ['alice', 'bob'],
      ),
      'revoke-kay': build(
        actionMap(anchor.id, 'identity-revocation', T0 + 2 * DAY, { subject: did('kay') }),
        ['alice', 'bob'],
      ),
    },
    order: [
      ['carol-jay', V],
      ['alice-kay', V],
      ['kay-lee', V],
      ['revoke-carol', 'accepted applied'],
      ['revoke-kay', 'accepted applied'],
    ],
    questions: [
      {
        description: 'a revoked member',
        subject: 'carol',
        scope: 'note',
        at,
        expected: N('REVOKED', 0, 1),
      },
      {
        description: 'attested only by a revoked member',
        subject: 'jay',
        scope: 'note',
        at,
        expected: N('NO_PATH', 0, 1),
      },
      {
        description: 'a revoked identity',
        subject: 'kay',
        scope: 'note',
        at,
        expected: N('REVOKED', 0, 1),
      },
      {
        description: 'attested only by a revoked identity',
        subject: 'lee',
        scope: 'note',
        at,
        expected: N('NO_PATH', 0, 1),
      },
      {
        description: 'a member still in force',
        subject: 'bob',
        scope: 'note',
        at,
        expected: T(0, 'root'),
      },
    ],
  };
}

function didcsIssuer(): TrustScenario {
  const dora = identity('dora', [T0 + 5 * DAY]);
  const at = T0 + 7 * DAY;
  return {
    name: 'didcs-issuer',
    description:
      "a did:cs issuer signs under the key state it names, inside that key state's window",
    identities: [dora],
    anchor: build(rootMap(), ['alice', 'bob']),
    records: {
      'alice-dora': att('alice', 'dora'),
      'dora-mia': build(attestationMap('dora', 'mia', { createdAt: T0 + DAY, keyState: 0 }), [
        'dora-0',
      ]),
      'dora-noa-retired': build(
        attestationMap('dora', 'noa', { createdAt: T0 + 6 * DAY, keyState: 0 }),
        ['dora-0'],
      ),
      'dora-ola': build(attestationMap('dora', 'ola', { createdAt: T0 + 6 * DAY, keyState: 1 }), [
        'dora-1',
      ]),
    },
    order: [
      ['alice-dora', V],
      ['dora-mia', V],
      ['dora-noa-retired', 'accepted refused ERR_KEL_KEY_ROTATED'],
      ['dora-ola', V],
    ],
    questions: [
      {
        description: 'through dora, attested before its rotation',
        subject: 'mia',
        scope: 'note',
        at,
        expected: T(1),
      },
      {
        description: 'dora signed with a rotated key state',
        subject: 'noa',
        scope: 'note',
        at,
        expected: N('NO_PATH', 0, 1),
      },
      {
        description: 'dora signed with its new key state',
        subject: 'ola',
        scope: 'note',
        at,
        expected: T(1),
      },
    ],
  };
}

export function writeTrust(): void {
  const scenarios = [
    depthAndScope(),
    time(),
    independentPaths(),
    revokedIdentities(),
    didcsIssuer(),
  ];
  const vectors = scenarios.map((s) => {
    const answers = (g: G.Governance) =>
      s.questions.map((q) => G.trustExplanationToJson(g.explain(did(q.subject), q.scope, q.at)));
    const out = runScenario(s, answers);
    const g = governanceOf(s);
    g.submit(core, Object.values(s.records), NOW, SKEW);
    const got = answers(g);
    const questions = s.questions.map((q, i) => {
      const e = got[i] as G.TrustExplanationJson;
      const stated = JSON.stringify(q.expected);
      const seen = JSON.stringify([e.trusted, e.reason, e.paths.length, e.missing]);
      if (stated !== seen) fail(`${s.name}: ${q.description}: stated ${stated}, code says ${seen}`);
      return {
        description: q.description,
        subject: did(q.subject),
        scope: q.scope,
        at: q.at,
        expected: e,
      };
    });
    return { ...out, questions };
  });
  writeVectors('trust.json', {
    source:
      'Commons Sync: generated by spec/vectors/governance/generate.ts from spec/GOVERNANCE.md §8',
    license: LICENSE,
    description:
      'Webs of trust delivered to a fresh node in three orders, and trust questions: the explanation of §8.5 (trusted, reason, missing, examined and the incoming statuses are normative; the paths are one valid witness)',
    now: NOW,
    clock_skew_s: SKEW,
    keys: keysUsed(),
    vectors,
  });
}
