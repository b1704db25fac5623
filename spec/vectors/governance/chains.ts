/**
 * chains.json: an anchor and roots and critical actions delivered in three orders. Stated by
 * hand: the outcome of each delivery in the listed order, and the resolved state of
 * spec/GOVERNANCE.md §6.6 (the same after every order), and how far some drafts are from their
 * quorum.
 */
import {
  actionMap,
  build,
  core,
  DAY,
  did,
  entries,
  fail,
  G,
  hex,
  identity,
  keysUsed,
  LICENSE,
  NOW,
  rootMap,
  SKEW,
  T0,
  thresholds,
  writeVectors,
} from './lib.js';
import { governanceOf, runScenario, type Scenario } from './scenario.js';

const A = 'accepted';
const GOV = (code: string): string => `ERR_GOV_${code}`;
const admitMap = (root: G.VerifiedRecord, validator: string, at: number) =>
  actionMap(root.id, 'validator-admission', at, { subject: did(validator) });

interface ChainScenario extends Scenario {
  /** Stated by hand: the chain (labels, the anchor as 'anchor'), status, validators, applied actions (labels, fold order). */
  chain: string[];
  status: 'active' | 'forked';
  validators: string[];
  applied: string[];
  /** Final standings of some actions (label -> `standing[ code]`), stated by hand. */
  actions?: Record<string, string>;
  /** Drafts: label -> [members still missing, the code that blocks it or null]. */
  drafts?: Record<string, [number, string | null]>;
  draftRecords?: Record<string, G.VerifiedRecord>;
}

function updateAndAdmit(): ChainScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const r2 = build(rootMap({ version: 2, prior: anchor.id, createdAt: T0 + DAY }), [
    'alice',
    'carol',
  ]);
  return {
    name: 'update-admit-stale',
    description:
      'a root update by both quorums; an admission under it applies; one under the anchor is superseded; one, two and stranger signatures fall short with their own codes',
    anchor,
    records: {
      r2,
      'admit-under-anchor': build(admitMap(anchor, 'val-2', T0 + 2 * DAY), ['alice', 'bob']),
      'admit-under-r2': build(admitMap(r2, 'val-3', T0 + 2 * DAY), ['alice', 'bob']),
      'one-signature': build(admitMap(r2, 'val-4', T0 + 2 * DAY), ['alice']),
      'alice-twice': build(admitMap(r2, 'val-4', T0 + 2 * DAY), ['alice', 'alice']),
      'alice-and-stranger': build(admitMap(r2, 'val-4', T0 + 2 * DAY), ['alice', 'mallory']),
    },
    order: [
      ['r2', `${A} in-force`],
      ['admit-under-anchor', `${A} superseded ${GOV('STALE_ROOT')}`],
      ['admit-under-r2', `${A} applied`],
      ['one-signature', GOV('THRESHOLD_NOT_MET')],
      ['alice-twice', GOV('DUPLICATE_SIGNATURE')],
      ['alice-and-stranger', GOV('UNTRUSTED_KEY')],
      ['r2', 'duplicate'],
    ],
    chain: ['anchor', 'r2'],
    status: 'active',
    validators: ['val-1', 'val-3'],
    applied: ['admit-under-r2'],
    draftRecords: {
      'root-v3-by-alice': build(rootMap({ version: 3, prior: r2.id, createdAt: T0 + 3 * DAY }), [
        'alice',
      ]),
      'action-by-alice': build(admitMap(r2, 'val-5', T0 + 3 * DAY), ['alice']),
      'action-under-anchor': build(admitMap(anchor, 'val-5', T0 + 3 * DAY), ['alice', 'bob']),
      'root-on-anchor': build(
        rootMap({
          version: 2,
          prior: anchor.id,
          createdAt: T0 + 3 * DAY,
          validators: entries('val-9'),
        }),
        ['alice'],
      ),
    },
    drafts: {
      'root-v3-by-alice': [2, null],
      'action-by-alice': [1, null],
      'action-under-anchor': [0, GOV('STALE_ROOT')],
      'root-on-anchor': [2, GOV('STALE_ROOT')],
    },
  };
}

function bothThresholds(): ChainScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const handover = rootMap({
    version: 2,
    prior: anchor.id,
    createdAt: T0 + DAY,
    members: entries('erin', 'frank', 'gina'),
  });
  return {
    name: 'both-thresholds',
    description:
      'an update needs the prior members and its own: an attacker root, a handover signed only by the new members, only by the old, then by both',
    anchor,
    records: {
      handover: build(handover, ['alice', 'bob', 'erin', 'frank']),
      attacker: build(
        rootMap({
          version: 2,
          prior: anchor.id,
          createdAt: T0 + DAY,
          members: entries('mallory', 'trudy'),
          thresholds: thresholds(2),
        }),
        ['mallory', 'trudy'],
      ),
      'handover-new-only': build(handover, ['erin', 'frank']),
      'handover-old-only': build(handover, ['alice', 'bob']),
      'handover-one-old': build(handover, ['alice', 'erin', 'frank']),
      'handover-alice-only': build(handover, ['alice']),
      'old-members-act': build(
        actionMap(
          build(handover, ['alice', 'bob', 'erin', 'frank']).id,
          'validator-removal',
          T0 + 2 * DAY,
          { subject: did('val-1') },
        ),
        ['alice', 'bob'],
      ),
      'new-members-act': build(
        actionMap(
          build(handover, ['alice', 'bob', 'erin', 'frank']).id,
          'validator-removal',
          T0 + 3 * DAY,
          { subject: did('val-1') },
        ),
        ['gina', 'frank'],
      ),
    },
    order: [
      ['attacker', GOV('UNTRUSTED_KEY')],
      ['handover-new-only', GOV('UNTRUSTED_KEY')],
      ['handover-old-only', GOV('UNTRUSTED_KEY')],
      ['handover-one-old', GOV('UNTRUSTED_KEY')],
      ['handover-alice-only', GOV('THRESHOLD_NOT_MET')],
      ['handover', `${A} in-force`],
      ['old-members-act', GOV('UNTRUSTED_KEY')],
      ['new-members-act', `${A} applied`],
    ],
    chain: ['anchor', 'handover'],
    status: 'active',
    validators: [],
    applied: ['new-members-act'],
  };
}

function rollback(): ChainScenario {
  const anchor = build(rootMap({ version: 3 }), ['alice', 'bob']);
  return {
    name: 'rollback',
    description:
      'anchored at version 3: versions at or below it, a gap, a successor dated before its prior, a root without prior; then the one valid successor',
    anchor,
    records: {
      'version-2': build(rootMap({ version: 2, prior: anchor.id, createdAt: T0 + DAY }), [
        'alice',
        'bob',
      ]),
      'version-3': build(rootMap({ version: 3, prior: anchor.id, createdAt: T0 + DAY }), [
        'alice',
        'bob',
      ]),
      'version-5': build(rootMap({ version: 5, prior: anchor.id, createdAt: T0 + DAY }), [
        'alice',
        'bob',
      ]),
      backdated: build(rootMap({ version: 4, prior: anchor.id, createdAt: T0 - 1 }), [
        'alice',
        'bob',
      ]),
      'no-prior': build(rootMap({ version: 4, createdAt: T0 + DAY }), ['alice', 'bob']),
      'version-4': build(rootMap({ version: 4, prior: anchor.id, createdAt: T0 + DAY }), [
        'alice',
        'bob',
      ]),
    },
    order: [
      ['version-2', GOV('ROLLBACK')],
      ['version-3', GOV('ROLLBACK')],
      ['version-5', GOV('VERSION_GAP')],
      ['backdated', GOV('MIX_AND_MATCH')],
      ['no-prior', GOV('MIX_AND_MATCH')],
      ['version-4', `${A} in-force`],
    ],
    chain: ['anchor', 'version-4'],
    status: 'active',
    validators: ['val-1'],
    applied: [],
  };
}

function fork(): ChainScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const r2a = build(rootMap({ version: 2, prior: anchor.id, createdAt: T0 + DAY }), [
    'alice',
    'bob',
  ]);
  const r2b = build(
    rootMap({ version: 2, prior: anchor.id, createdAt: T0 + DAY, validators: entries('val-2') }),
    ['bob', 'carol'],
  );
  return {
    name: 'fork',
    description:
      'two valid successors of the anchor: the chain stops there, frozen; bob signed both; actions refused; a root beyond the fork is detached',
    anchor,
    records: {
      r2a,
      'act-under-anchor': build(admitMap(anchor, 'val-3', T0 + 2 * DAY), ['alice', 'carol']),
      r2b,
      'r3-on-r2a': build(rootMap({ version: 3, prior: r2a.id, createdAt: T0 + 2 * DAY }), [
        'alice',
        'bob',
      ]),
      'act-under-r2a': build(admitMap(r2a, 'val-4', T0 + 2 * DAY), ['alice', 'bob']),
    },
    order: [
      ['r2a', `${A} in-force`],
      ['act-under-anchor', `${A} superseded ${GOV('STALE_ROOT')}`],
      ['r2b', `${A} contestant`],
      ['r3-on-r2a', `${A} detached`],
      ['act-under-r2a', `${A} frozen ${GOV('ROOT_FORKED')}`],
    ],
    chain: ['anchor'],
    status: 'forked',
    validators: ['val-1'],
    applied: [],
    actions: {
      'act-under-anchor': `frozen ${GOV('ROOT_FORKED')}`,
      'act-under-r2a': `frozen ${GOV('ROOT_FORKED')}`,
    },
  };
}

function forkCopies(): ChainScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const body = () => rootMap({ version: 2, prior: anchor.id, createdAt: T0 + DAY });
  return {
    name: 'fork-copies',
    description:
      'two copies of one successor (bob and carol; alice and bob), then a rival signed by alice and bob: the copy that adds alice is kept although its id is attached, so alice is named an equivocator with bob in every order',
    anchor,
    records: {
      'r2a-bob-carol': build(body(), ['bob', 'carol']),
      'r2a-alice-bob': build(body(), ['alice', 'bob']),
      r2b: build(
        rootMap({
          version: 2,
          prior: anchor.id,
          createdAt: T0 + DAY,
          validators: entries('val-2'),
        }),
        ['alice', 'bob'],
      ),
    },
    order: [
      ['r2a-bob-carol', `${A} in-force`],
      ['r2a-alice-bob', `${A} in-force`],
      ['r2b', `${A} contestant`],
    ],
    chain: ['anchor'],
    status: 'forked',
    validators: ['val-1'],
    applied: [],
  };
}

function freeze(): ChainScenario {
  const anchor = build(rootMap({ expiresAt: T0 + 10 * DAY }), ['alice', 'bob']);
  const renewal = build(
    rootMap({
      version: 2,
      prior: anchor.id,
      createdAt: T0 + 12 * DAY,
      validators: entries('val-1', 'val-2'),
    }),
    ['alice', 'bob'],
  );
  return {
    name: 'freeze',
    description:
      'an action dated at the expiry of its root is refused; one dated before is applied even when it arrives later; a renewal after the expiry restores authority',
    anchor,
    records: {
      'at-expiry': build(admitMap(anchor, 'val-2', T0 + 10 * DAY), ['alice', 'bob']),
      'before-expiry': build(admitMap(anchor, 'val-2', T0 + 10 * DAY - 1), ['alice', 'bob']),
      renewal,
      'after-renewal': build(admitMap(renewal, 'val-3', T0 + 13 * DAY), ['alice', 'bob']),
    },
    order: [
      ['at-expiry', GOV('ROOT_EXPIRED')],
      ['before-expiry', `${A} applied`],
      ['renewal', `${A} in-force`],
      ['after-renewal', `${A} applied`],
    ],
    chain: ['anchor', 'renewal'],
    status: 'active',
    validators: ['val-1', 'val-2', 'val-3'],
    applied: ['after-renewal'],
    actions: { 'before-expiry': `superseded ${GOV('STALE_ROOT')}`, 'after-renewal': 'applied' },
  };
}

function escrow(): ChainScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const r2 = build(rootMap({ version: 2, prior: anchor.id, createdAt: T0 + DAY }), [
    'alice',
    'bob',
  ]);
  const r3 = build(rootMap({ version: 3, prior: r2.id, createdAt: T0 + 2 * DAY }), [
    'alice',
    'bob',
  ]);
  return {
    name: 'escrow',
    description:
      'records before the roots they name wait; when the root arrives, those that can never count are dropped',
    anchor,
    records: {
      'act-under-r3': build(admitMap(r3, 'val-2', T0 + 3 * DAY), ['bob', 'carol']),
      'short-under-r3': build(admitMap(r3, 'val-3', T0 + 3 * DAY), ['carol']),
      r3,
      r2,
    },
    order: [
      ['act-under-r3', `${A} waiting ${GOV('UNKNOWN_ROOT')}`],
      ['short-under-r3', `${A} waiting ${GOV('UNKNOWN_ROOT')}`],
      ['r3', `${A} waiting ${GOV('UNKNOWN_ROOT')}`],
      ['r2', `${A} chain`],
      ['short-under-r3', GOV('THRESHOLD_NOT_MET')],
    ],
    chain: ['anchor', 'r2', 'r3'],
    status: 'active',
    validators: ['val-1', 'val-2'],
    applied: ['act-under-r3'],
  };
}

function waitingChain(): ChainScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const q = build(rootMap({ version: 2, prior: anchor.id, createdAt: T0 + DAY }), ['carol']);
  const p = build(rootMap({ version: 3, prior: q.id, createdAt: T0 + 2 * DAY }), ['alice', 'bob']);
  return {
    name: 'waiting-chain',
    description:
      'a record is judged only against a connected root: the gap beyond p waits with p, whatever the order, because p waits for q, which can never count',
    anchor,
    records: {
      p,
      'gap-beyond-p': build(rootMap({ version: 5, prior: p.id, createdAt: T0 + 3 * DAY }), [
        'alice',
        'bob',
      ]),
      'q-one-signature': q,
    },
    order: [
      ['p', `${A} waiting ${GOV('UNKNOWN_ROOT')}`],
      ['gap-beyond-p', `${A} waiting ${GOV('UNKNOWN_ROOT')}`],
      ['q-one-signature', GOV('THRESHOLD_NOT_MET')],
    ],
    chain: ['anchor'],
    status: 'active',
    validators: ['val-1'],
    applied: [],
  };
}

function fold(): ChainScenario {
  const anchor = build(rootMap(), ['alice', 'bob']);
  const act = (kind: string, at: number, fields: Record<string, unknown>, signers: string[]) =>
    build(actionMap(anchor.id, kind, at, fields as never), signers);
  return {
    name: 'fold',
    description:
      'actions apply in order of signed time: a member revoked by an earlier action counts zero later; every kind of action',
    anchor,
    records: {
      'revoke-carol': act('identity-revocation', T0 + DAY, { subject: did('carol') }, [
        'alice',
        'bob',
      ]),
      'admit-with-carol': act('validator-admission', T0 + 2 * DAY, { subject: did('val-2') }, [
        'alice',
        'carol',
      ]),
      policy: act('policy-change', T0 + 3 * DAY, { trust_policy: { max_depth: 2, min_paths: 2 } }, [
        'alice',
        'bob',
      ]),
      upgrade: act('protocol-upgrade', T0 + 4 * DAY, { protocol_versions: [1, 2] }, [
        'alice',
        'bob',
      ]),
      'remove-val-1': act('validator-removal', T0 + 5 * DAY, { subject: did('val-1') }, [
        'alice',
        'bob',
      ]),
      'early-admit-with-carol': act(
        'validator-admission',
        T0 + DAY / 2,
        { subject: did('val-3') },
        ['bob', 'carol'],
      ),
    },
    order: [
      ['revoke-carol', `${A} applied`],
      ['admit-with-carol', `${A} refused ${GOV('THRESHOLD_NOT_MET')}`],
      ['policy', `${A} applied`],
      ['upgrade', `${A} applied`],
      ['remove-val-1', `${A} applied`],
      ['early-admit-with-carol', `${A} applied`],
    ],
    chain: ['anchor'],
    status: 'active',
    validators: ['val-3'],
    applied: ['early-admit-with-carol', 'revoke-carol', 'policy', 'upgrade', 'remove-val-1'],
    actions: { 'admit-with-carol': `refused ${GOV('THRESHOLD_NOT_MET')}` },
  };
}

function didcsMember(): ChainScenario {
  const dan = identity('dan', [T0 + 5 * DAY]);
  const anchor = build(rootMap({ members: entries('alice', 'bob', 'dan') }), ['alice', 'dan-0']);
  return {
    name: 'didcs-member',
    description:
      'dan is a did:cs member pinned at its inception; after its rotation the old keys are retired and the new ones count zero until a quorum re-pins it',
    identities: [dan],
    anchor,
    records: {
      'with-dan-0': build(admitMap(anchor, 'val-2', T0 + DAY), ['alice', 'dan-0']),
      'retired-key': build(admitMap(anchor, 'val-3', T0 + 6 * DAY), ['alice', 'dan-0']),
      'unpinned-key': build(admitMap(anchor, 'val-4', T0 + 6 * DAY), ['alice', 'dan-1']),
      repin: build(
        actionMap(anchor.id, 'identity-rotation', T0 + 7 * DAY, {
          subject: dan.did,
          key_state: dan.states[1] as Uint8Array,
        }),
        ['alice', 'bob'],
      ),
      'with-dan-1': build(admitMap(anchor, 'val-5', T0 + 8 * DAY), ['alice', 'dan-1']),
    },
    order: [
      ['with-dan-0', `${A} applied`],
      ['retired-key', `${A} refused ${GOV('THRESHOLD_NOT_MET')}`],
      ['unpinned-key', `${A} refused ${GOV('UNTRUSTED_KEY')}`],
      ['repin', `${A} applied`],
      ['with-dan-1', `${A} applied`],
    ],
    chain: ['anchor'],
    status: 'active',
    validators: ['val-1', 'val-2', 'val-5'],
    applied: ['with-dan-0', 'repin', 'with-dan-1'],
    actions: {
      'retired-key': `refused ${GOV('THRESHOLD_NOT_MET')}`,
      'unpinned-key': `refused ${GOV('UNTRUSTED_KEY')}`,
    },
  };
}

function unknownIdentity(): ChainScenario {
  identity('fay'); // a did:cs whose key events are not given to the node
  const anchor = build(rootMap({ members: entries('alice', 'bob', 'fay') }), ['alice', 'bob']);
  return {
    name: 'unknown-identity',
    description:
      'a did:cs member whose key events the node does not hold could complete the threshold: local, the action is held and judged again later',
    anchor,
    records: { 'alice-and-fay': build(admitMap(anchor, 'val-2', T0 + DAY), ['alice', 'fay-0']) },
    order: [['alice-and-fay', `${A} refused ${GOV('UNKNOWN_IDENTITY')}`]],
    chain: ['anchor'],
    status: 'active',
    validators: ['val-1'],
    applied: [],
  };
}

export function writeChains(): void {
  const scenarios = [
    updateAndAdmit(),
    bothThresholds(),
    rollback(),
    fork(),
    forkCopies(),
    freeze(),
    escrow(),
    waitingChain(),
    fold(),
    didcsMember(),
    unknownIdentity(),
  ];
  const vectors = scenarios.map((s) => {
    const labelOf = new Map<string, string>([[s.anchor.idHex, 'anchor']]);
    for (const [l, r] of Object.entries(s.records))
      if (!labelOf.has(r.idHex)) labelOf.set(r.idHex, l);
    const view = (g: G.Governance) => G.governanceViewToJson(g.view as G.GovernanceView);
    const out = runScenario(s, view);
    const g = governanceOf(s);
    g.submit(core, Object.values(s.records), NOW, SKEW);
    const state = view(g);
    const labels = (ids: readonly string[]) => ids.map((id) => labelOf.get(id) ?? id);
    const got = {
      chain: labels(state.chain.map((c) => c.id)),
      status: state.status,
      validators: state.validators.map((v) => v.id),
      applied: labels(state.applied),
    };
    const stated = {
      chain: s.chain,
      status: s.status,
      validators: s.validators.map((n) => did(n)).sort(),
      applied: s.applied,
    };
    if (JSON.stringify(got) !== JSON.stringify(stated))
      fail(`${s.name}: stated ${JSON.stringify(stated)}, code says ${JSON.stringify(got)}`);
    for (const [label, standing] of Object.entries(s.actions ?? {})) {
      const a = state.actions.find((x) => x.id === (s.records[label] as G.VerifiedRecord).idHex);
      const seen =
        a === undefined ? 'not held' : `${a.standing}${a.reason === null ? '' : ` ${a.reason}`}`;
      if (seen !== standing)
        fail(`${s.name}: action ${label}: stated ${standing}, code says ${seen}`);
    }
    const drafts = Object.entries(s.drafts ?? {}).map(([label, [missing, blocked]]) => {
      const r = s.draftRecords?.[label] as G.VerifiedRecord;
      const p = g.proposalStatus(r);
      if (!p.ok) fail(`${s.name}: draft ${label}: ${p.reason}`);
      const gotBlocked = p.value.blocked?.reason ?? null;
      if (p.value.missing !== missing || gotBlocked !== blocked) {
        fail(
          `${s.name}: draft ${label}: stated ${missing} missing, ${blocked}; code says ${p.value.missing}, ${gotBlocked}`,
        );
      }
      return {
        label,
        id: r.idHex,
        cbor: hex(r.encoded),
        judged_against: p.value.judgedAgainst,
        missing,
        blocked,
      };
    });
    return { ...out, state, ...(drafts.length === 0 ? {} : { drafts }) };
  });
  writeVectors('chains.json', {
    source:
      'Commons Sync: generated by spec/vectors/governance/generate.ts from spec/GOVERNANCE.md §6-§7',
    license: LICENSE,
    description:
      'An anchor and roots and actions delivered to a fresh node in three orders: the outcome of each delivery, the state of §6.6 (the same in every order), and draft statuses (members still missing over both sides, and what blocks a draft)',
    now: NOW,
    clock_skew_s: SKEW,
    keys: keysUsed(),
    vectors,
  });
}
