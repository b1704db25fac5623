/**
 * logs.json: sets of key events of one identity, each delivered to a fresh node in three
 * orders (as listed, reversed, shuffled). Stated by hand: the outcome of each delivery in the
 * listed order, the resolved chain, status, superseded and vetoed events, and verdicts on
 * ordinary events. The identity code must reproduce all of it, and reach the same state and
 * verdicts in every order.
 */

import type { ConfigSpec } from './lib.js';
import {
  build,
  core,
  DAY,
  dids,
  fail,
  hex,
  I,
  inceptionMap,
  keysUsed,
  NOW,
  SKEW,
  successorMap,
  T0,
  vetoMap,
  writeVectors,
} from './lib.js';

type Label = string;
interface VerdictSpec {
  description: string;
  /** The key state named (a label), or 'unknown' for an id nobody holds. */
  keyState: Label | 'unknown';
  /** Default: the scenario's identity; 'other' names an identity nobody holds. */
  author?: 'other';
  at: number;
  signers: string[];
  expected: string;
}
interface Scenario {
  name: string;
  description: string;
  events: Record<Label, I.DecodedKeyEvent>;
  /** Delivery order (labels may repeat) and the outcome of each delivery, stated by hand. */
  order: Array<[Label, string]>;
  chain: Label[];
  status: 'active' | 'frozen';
  superseded?: Label[];
  vetoed?: Label[];
  verdicts: VerdictSpec[];
}

const G = { guardians: ['g1', 'g2', 'g3'], guardianThreshold: 2, delay: DAY };
const icpOf = (name: string, guardians = true, at = T0): I.DecodedKeyEvent =>
  build(inceptionMap({ keys: [name], next: [`${name}2`], ...(guardians ? G : {}) }, at), [name]);
const rotOf = (
  prior: I.DecodedKeyEvent,
  reveal: string,
  next: string,
  at: number,
  opts: {
    type?: 'rotation' | 'revocation';
    revokedFrom?: number;
    signers?: string[];
    seq?: number;
  } = {},
): I.DecodedKeyEvent => {
  const p = prior.event as I.EstablishmentBody;
  const c: ConfigSpec = { keys: [reveal], next: [next], ...(p.guardians.length > 0 ? G : {}) };
  const extra = {
    ...(opts.revokedFrom === undefined ? {} : { revoked_from: opts.revokedFrom }),
    ...(opts.seq === undefined ? {} : { seq: opts.seq }),
  };
  return build(
    successorMap(prior, opts.type ?? 'rotation', c, at, extra),
    opts.signers ?? [reveal],
  );
};
const recOf = (
  prior: I.DecodedKeyEvent,
  to: string,
  at: number,
  signers = ['g1', 'g2'],
): I.DecodedKeyEvent =>
  build(successorMap(prior, 'recovery', { keys: [to], next: [`${to}2`], ...G }, at), signers);
const vetoOf = (rec: I.DecodedKeyEvent, at: number, signers: string[]): I.DecodedKeyEvent =>
  build(vetoMap(rec, at), signers);

const A = 'accepted';
const E = 'escrowed';
const K = (code: string): string => `ERR_KEL_${code}`;

function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  {
    const icp = icpOf('alice', false);
    const rot = rotOf(icp, 'alice2', 'alice3', T0 + DAY);
    out.push({
      name: 'rotation',
      description:
        'a rotation retires the old key from its created_at and starts the revealed one there',
      events: { icp, rot },
      order: [
        ['icp', A],
        ['rot', A],
      ],
      chain: ['icp', 'rot'],
      status: 'active',
      verdicts: [
        {
          description: 'old key, just before the rotation',
          keyState: 'icp',
          at: T0 + DAY - 1,
          signers: ['alice'],
          expected: 'valid',
        },
        {
          description: 'old key, at the rotation',
          keyState: 'icp',
          at: T0 + DAY,
          signers: ['alice'],
          expected: K('KEY_ROTATED'),
        },
        {
          description: 'old key, before the inception',
          keyState: 'icp',
          at: T0 - 1,
          signers: ['alice'],
          expected: K('BEFORE_KEY_STATE'),
        },
        {
          description: 'new key, at the rotation',
          keyState: 'rot',
          at: T0 + DAY,
          signers: ['alice2'],
          expected: 'valid',
        },
        {
          description: 'new key, before the rotation',
          keyState: 'rot',
          at: T0 + DAY - 1,
          signers: ['alice2'],
          expected: K('BEFORE_KEY_STATE'),
        },
        {
          description: 'old key naming the new key state',
          keyState: 'rot',
          at: T0 + 2 * DAY,
          signers: ['alice'],
          expected: K('THRESHOLD_NOT_MET'),
        },
        {
          description: 'a key state nobody holds',
          keyState: 'unknown',
          at: T0 + 2 * DAY,
          signers: ['alice2'],
          expected: K('UNKNOWN_KEY_STATE'),
        },
        {
          description: 'an identity nobody holds',
          keyState: 'rot',
          author: 'other',
          at: T0 + 2 * DAY,
          signers: ['alice2'],
          expected: K('UNKNOWN_IDENTITY'),
        },
      ],
    });
  }
  {
    const icp = icpOf('bob', false);
    out.push({
      name: 'pre-rotation-refusals',
      description:
        'rotations that reveal an uncommitted key, are signed by the old key, skip a seq, or are dated before their prior',
      events: {
        icp,
        uncommitted: rotOf(icp, 'bob9', 'bob3', T0 + DAY),
        signedByOld: rotOf(icp, 'bob2', 'bob3', T0 + DAY, { signers: ['bob'] }),
        skipsSeq: rotOf(icp, 'bob2', 'bob3', T0 + DAY, { seq: 2 }),
        early: rotOf(icp, 'bob2', 'bob3', T0 - 1),
        rot: rotOf(icp, 'bob2', 'bob3', T0 + 2 * DAY),
      },
      order: [
        ['icp', A],
        ['uncommitted', K('NEXT_MISMATCH')],
        ['signedByOld', K('THRESHOLD_NOT_MET')],
        ['skipsSeq', K('BAD_SEQ')],
        ['early', K('TIME_ORDER')],
        ['rot', A],
      ],
      chain: ['icp', 'rot'],
      status: 'active',
      verdicts: [
        {
          description: 'the uncommitted key',
          keyState: 'uncommitted',
          at: T0 + 3 * DAY,
          signers: ['bob9'],
          expected: K('UNKNOWN_KEY_STATE'),
        },
      ],
    });
  }
  {
    const icp = icpOf('carol', false);
    const rev = rotOf(icp, 'carol2', 'carol3', T0 + 10 * DAY, {
      type: 'revocation',
      revokedFrom: T0 + 8 * DAY,
    });
    out.push({
      name: 'revocation',
      description:
        'revoke and rotate: the old key is void from revoked_from, also for events dated before the revocation',
      events: { icp, rev },
      order: [
        ['icp', A],
        ['rev', A],
      ],
      chain: ['icp', 'rev'],
      status: 'active',
      verdicts: [
        {
          description: 'before revoked_from',
          keyState: 'icp',
          at: T0 + 8 * DAY - 1,
          signers: ['carol'],
          expected: 'valid',
        },
        {
          description: 'at revoked_from',
          keyState: 'icp',
          at: T0 + 8 * DAY,
          signers: ['carol'],
          expected: K('KEY_REVOKED'),
        },
        {
          description: 'backdated before the revocation itself',
          keyState: 'icp',
          at: T0 + 10 * DAY - 1,
          signers: ['carol'],
          expected: K('KEY_REVOKED'),
        },
        {
          description: 'after the revocation',
          keyState: 'icp',
          at: T0 + 11 * DAY,
          signers: ['carol'],
          expected: K('KEY_REVOKED'),
        },
        {
          description: 'the new key inside the gap',
          keyState: 'rev',
          at: T0 + 9 * DAY,
          signers: ['carol2'],
          expected: K('BEFORE_KEY_STATE'),
        },
        {
          description: 'the new key from the revocation on',
          keyState: 'rev',
          at: T0 + 10 * DAY,
          signers: ['carol2'],
          expected: 'valid',
        },
      ],
    });
  }
  {
    const icp = icpOf('dave');
    const rec = recOf(icp, 'erin', T0 + 5 * DAY);
    out.push({
      name: 'recovery',
      description:
        'two of three guardians replace the key; the new key signs from created_at + recovery_delay',
      events: { icp, rec },
      order: [
        ['icp', A],
        ['rec', A],
      ],
      chain: ['icp', 'rec'],
      status: 'active',
      verdicts: [
        {
          description: 'old key inside the window',
          keyState: 'icp',
          at: T0 + 6 * DAY - 1,
          signers: ['dave'],
          expected: 'valid',
        },
        {
          description: 'old key after the window',
          keyState: 'icp',
          at: T0 + 6 * DAY,
          signers: ['dave'],
          expected: K('KEY_ROTATED'),
        },
        {
          description: 'new key inside the window',
          keyState: 'rec',
          at: T0 + 6 * DAY - 1,
          signers: ['erin'],
          expected: K('BEFORE_KEY_STATE'),
        },
        {
          description: 'new key after the window',
          keyState: 'rec',
          at: T0 + 6 * DAY,
          signers: ['erin'],
          expected: 'valid',
        },
      ],
    });
  }
  {
    const icp = icpOf('fay');
    out.push({
      name: 'recovery-refusals',
      description:
        'a recovery signed by one guardian, and one counting an outsider and the new key',
      events: {
        icp,
        oneGuardian: recOf(icp, 'erin', T0 + 5 * DAY, ['g1']),
        outsiders: recOf(icp, 'erin', T0 + 5 * DAY, ['g1', 'mallory', 'erin']),
      },
      order: [
        ['icp', A],
        ['oneGuardian', K('THRESHOLD_NOT_MET')],
        ['outsiders', K('THRESHOLD_NOT_MET')],
      ],
      chain: ['icp'],
      status: 'active',
      verdicts: [
        {
          description: 'the old key goes on',
          keyState: 'icp',
          at: T0 + 20 * DAY,
          signers: ['fay'],
          expected: 'valid',
        },
      ],
    });
  }
  {
    const icp = icpOf('frank', false);
    out.push({
      name: 'recovery-without-guardians',
      description: 'a key state without guardians cannot be recovered',
      events: { icp, rec: recOf(icp, 'erin', T0 + 5 * DAY) },
      order: [
        ['icp', A],
        ['rec', K('NO_GUARDIANS')],
      ],
      chain: ['icp'],
      status: 'active',
      verdicts: [],
    });
  }
  {
    const icp = icpOf('gina');
    const rec = recOf(icp, 'mallory', T0 + 5 * DAY);
    out.push({
      name: 'recovery-vetoed',
      description:
        'the key being replaced vetoes inside the window: the recovery is void and kept as evidence',
      events: { icp, rec, veto: vetoOf(rec, T0 + 6 * DAY - 1, ['gina']) },
      order: [
        ['icp', A],
        ['rec', A],
        ['veto', A],
      ],
      chain: ['icp'],
      status: 'active',
      superseded: ['rec'],
      vetoed: ['rec'],
      verdicts: [
        {
          description: 'the old key long after',
          keyState: 'icp',
          at: T0 + 20 * DAY,
          signers: ['gina'],
          expected: 'valid',
        },
        {
          description: 'the recovered key',
          keyState: 'rec',
          at: T0 + 7 * DAY,
          signers: ['mallory'],
          expected: K('SUPERSEDED_KEY_STATE'),
        },
      ],
    });
  }
  {
    const icp = icpOf('hank');
    const rec = recOf(icp, 'erin', T0 + 5 * DAY);
    const rot = rotOf(icp, 'hank2', 'hank3', T0 + 7 * DAY);
    out.push({
      name: 'veto-refusals-and-rotation-beats-recovery',
      description:
        'vetoes outside the window, by the new key, or of a rotation; a rotation by the committed key beats the recovery',
      events: {
        icp,
        rec,
        late: vetoOf(rec, T0 + 6 * DAY, ['hank']),
        early: vetoOf(rec, T0 + 5 * DAY - 1, ['hank']),
        byNewKey: vetoOf(rec, T0 + 5 * DAY + 1, ['erin']),
        rot,
        ofRotation: vetoOf(rot, T0 + 7 * DAY, ['hank']),
      },
      order: [
        ['icp', A],
        ['rec', A],
        ['late', K('VETO_WINDOW')],
        ['early', K('VETO_WINDOW')],
        ['byNewKey', K('THRESHOLD_NOT_MET')],
        ['rot', A],
        ['ofRotation', K('BAD_TARGET')],
      ],
      chain: ['icp', 'rot'],
      status: 'active',
      superseded: ['rec'],
      verdicts: [
        {
          description: 'the old key after the recovery would have started',
          keyState: 'icp',
          at: T0 + 6 * DAY,
          signers: ['hank'],
          expected: 'valid',
        },
        {
          description: 'the recovered key',
          keyState: 'rec',
          at: T0 + 6 * DAY,
          signers: ['erin'],
          expected: K('SUPERSEDED_KEY_STATE'),
        },
        {
          description: 'the old key at the rotation',
          keyState: 'icp',
          at: T0 + 7 * DAY,
          signers: ['hank'],
          expected: K('KEY_ROTATED'),
        },
      ],
    });
  }
  {
    const icp = icpOf('ivan');
    const rotA = rotOf(icp, 'ivan2', 'ivan3', T0 + 3 * DAY);
    const rotB = rotOf(icp, 'ivan2', 'ivanx', T0 + 2 * DAY);
    const rec = recOf(icp, 'judy', T0 + 4 * DAY, ['g1', 'g3']);
    const frozen: Scenario = {
      name: 'duplicity-frozen',
      description:
        'two rotations from one key state: both kept, the identity frozen from the earlier one',
      events: { icp, rotA, rotB },
      order: [
        ['icp', A],
        ['rotA', A],
        ['rotB', A],
      ],
      chain: ['icp'],
      status: 'frozen',
      superseded: ['rotA', 'rotB'],
      verdicts: [
        {
          description: 'before the earlier rotation',
          keyState: 'icp',
          at: T0 + 2 * DAY - 1,
          signers: ['ivan'],
          expected: 'valid',
        },
        {
          description: 'from the earlier rotation on',
          keyState: 'icp',
          at: T0 + 2 * DAY,
          signers: ['ivan'],
          expected: K('IDENTITY_FROZEN'),
        },
        {
          description: 'a disputed key state',
          keyState: 'rotA',
          at: T0 + 4 * DAY,
          signers: ['ivan2'],
          expected: K('SUPERSEDED_KEY_STATE'),
        },
      ],
    };
    out.push(frozen);
    out.push({
      name: 'duplicity-resolved',
      description: 'a guardian recovery at the disputed position settles it',
      events: { icp, rotA, rotB, rec },
      order: [
        ['icp', A],
        ['rotA', A],
        ['rotB', A],
        ['rec', A],
      ],
      chain: ['icp', 'rec'],
      status: 'active',
      superseded: ['rotA', 'rotB'],
      verdicts: [
        {
          description: 'the recovered key',
          keyState: 'rec',
          at: T0 + 5 * DAY,
          signers: ['judy'],
          expected: 'valid',
        },
        {
          description: 'the old key, no longer frozen',
          keyState: 'icp',
          at: T0 + 2 * DAY + 1,
          signers: ['ivan'],
          expected: 'valid',
        },
        {
          description: 'the old key after the recovery',
          keyState: 'icp',
          at: T0 + 5 * DAY,
          signers: ['ivan'],
          expected: K('KEY_ROTATED'),
        },
        {
          description: 'a disputed key state',
          keyState: 'rotB',
          at: T0 + 4 * DAY,
          signers: ['ivan2'],
          expected: K('SUPERSEDED_KEY_STATE'),
        },
      ],
    });
  }
  {
    const icp = icpOf('kate', false);
    const rot1 = rotOf(icp, 'kate2', 'kate3', T0 + DAY);
    const rot2 = rotOf(rot1, 'kate3', 'kate4', T0 + 3 * DAY);
    const forged = rotOf(icp, 'kate2', 'thief', T0 + 2 * DAY);
    out.push({
      name: 'thief-of-current-key-freezes',
      description:
        'the key revealed by rot1 signs a second rotation from the inception: the identity freezes back there',
      events: { icp, rot1, rot2, forged },
      order: [
        ['icp', A],
        ['rot1', A],
        ['rot2', A],
        ['forged', A],
      ],
      chain: ['icp'],
      status: 'frozen',
      superseded: ['rot1', 'rot2', 'forged'],
      verdicts: [
        {
          description: 'the inception key before rot1',
          keyState: 'icp',
          at: T0 + DAY - 1,
          signers: ['kate'],
          expected: 'valid',
        },
        {
          description: 'the inception key after',
          keyState: 'icp',
          at: T0 + DAY,
          signers: ['kate'],
          expected: K('IDENTITY_FROZEN'),
        },
        {
          description: 'the latest honest key state',
          keyState: 'rot2',
          at: T0 + 4 * DAY,
          signers: ['kate3'],
          expected: K('SUPERSEDED_KEY_STATE'),
        },
        {
          description: "the thief's branch",
          keyState: 'forged',
          at: T0 + 4 * DAY,
          signers: ['kate2'],
          expected: K('SUPERSEDED_KEY_STATE'),
        },
      ],
    });
  }
  {
    const icp = icpOf('liam');
    const recA = recOf(icp, 'mia', T0 + 5 * DAY, ['g1', 'g2']);
    const recB = recOf(icp, 'nora', T0 + 6 * DAY, ['g2', 'g3']);
    out.push({
      name: 'guardian-duplicity',
      description: 'two unvetoed recoveries from one key state freeze the identity',
      events: { icp, recA, recB },
      order: [
        ['icp', A],
        ['recA', A],
        ['recB', A],
      ],
      chain: ['icp'],
      status: 'frozen',
      superseded: ['recA', 'recB'],
      verdicts: [
        {
          description: 'from the earlier start on',
          keyState: 'icp',
          at: T0 + 6 * DAY,
          signers: ['liam'],
          expected: K('IDENTITY_FROZEN'),
        },
      ],
    });
    out.push({
      name: 'guardian-duplicity-one-vetoed',
      description: 'vetoing one of the two recoveries lets the other win',
      events: { icp, recA, recB, veto: vetoOf(recB, T0 + 6 * DAY, ['liam']) },
      order: [
        ['icp', A],
        ['veto', E],
        ['recA', A],
        ['recB', A],
      ],
      chain: ['icp', 'recA'],
      status: 'active',
      superseded: ['recB'],
      vetoed: ['recB'],
      verdicts: [
        {
          description: 'the key recovery A set',
          keyState: 'recA',
          at: T0 + 6 * DAY,
          signers: ['mia'],
          expected: 'valid',
        },
      ],
    });
  }
  {
    const icp = icpOf('uma');
    out.push({
      name: 'copies-of-one-key-event',
      description:
        'the same recovery body with other signatures: each copy is judged on its own signatures; the one with two guardians joins',
      events: {
        icp,
        rec: recOf(icp, 'vic', T0 + 5 * DAY, ['g1', 'g2']),
        recOneGuardian: recOf(icp, 'vic', T0 + 5 * DAY, ['g1']),
        recOtherGuardian: recOf(icp, 'vic', T0 + 5 * DAY, ['g3']),
      },
      order: [
        ['icp', A],
        ['recOneGuardian', K('THRESHOLD_NOT_MET')],
        ['recOtherGuardian', K('THRESHOLD_NOT_MET')],
        ['rec', A],
        ['recOneGuardian', 'duplicate'],
      ],
      chain: ['icp', 'rec'],
      status: 'active',
      verdicts: [
        {
          description: 'the recovered key',
          keyState: 'rec',
          at: T0 + 6 * DAY,
          signers: ['vic'],
          expected: 'valid',
        },
      ],
    });
  }
  {
    const icp = icpOf('quin', false);
    const r1 = rotOf(icp, 'quin2', 'quin3', T0 + DAY);
    const r2 = rotOf(r1, 'quin3', 'quin4', T0 + 2 * DAY);
    const r3 = rotOf(r2, 'quin4', 'quin5', T0 + 3 * DAY);
    out.push({
      name: 'escrow-and-repeats',
      description:
        'key events before their inception and prior wait in escrow; repeats are duplicates',
      events: { icp, r1, r2, r3 },
      order: [
        ['r3', E],
        ['r2', E],
        ['r2', 'duplicate'],
        ['icp', A],
        ['r1', A],
        ['r3', 'duplicate'],
        ['icp', 'duplicate'],
      ],
      chain: ['icp', 'r1', 'r2', 'r3'],
      status: 'active',
      verdicts: [
        {
          description: 'the latest key',
          keyState: 'r3',
          at: T0 + 3 * DAY,
          signers: ['quin4'],
          expected: 'valid',
        },
        {
          description: 'a middle key after its window',
          keyState: 'r2',
          at: T0 + 3 * DAY,
          signers: ['quin3'],
          expected: K('KEY_ROTATED'),
        },
      ],
    });
  }
  {
    const icp = icpOf('rita');
    const rec = recOf(icp, 'sam', T0 + 5 * DAY);
    out.push({
      name: 'rotation-after-recovery',
      description: 'the recovered key state cannot be replaced before it took effect',
      events: {
        icp,
        rec,
        early: rotOf(rec, 'sam2', 'sam3', T0 + 6 * DAY - 1),
        onTime: rotOf(rec, 'sam2', 'sam3', T0 + 6 * DAY),
      },
      order: [
        ['icp', A],
        ['rec', A],
        ['early', K('TIME_ORDER')],
        ['onTime', A],
      ],
      chain: ['icp', 'rec', 'onTime'],
      status: 'active',
      verdicts: [],
    });
  }
  return out;
}

function outcomeName(o: I.RegistryOutcome): string {
  return o.ok ? o.outcome : o.reason;
}

/** A deterministic shuffle (xorshift seeded by the name). */
function shuffled<T>(items: readonly T[], seed: string): T[] {
  let s = [...seed].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) || 1;
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export function writeLogs(): void {
  const other = I.identifierFromInceptionId(core.sha256(new TextEncoder().encode('nobody')));
  const unknownState = hex(core.sha256(new TextEncoder().encode('no such key state')));
  const vectors = scenarios().map((s) => {
    // copies of one key event share an id: an id is named by the first label listed with it
    const labelOf = new Map<string, string>();
    for (const [l, e] of Object.entries(s.events))
      if (!labelOf.has(e.idHex)) labelOf.set(e.idHex, l);
    const identity = (s.events['icp'] ?? fail(`${s.name} has no icp`)).identity;
    const deliveries = [
      s.order.map(([l]) => l),
      s.order.map(([l]) => l).reverse(),
      shuffled(
        s.order.map(([l]) => l),
        s.name,
      ),
    ];
    let state: I.IdentityState | undefined;
    const runs = deliveries.map((order, n) => {
      const registry = new I.IdentityRegistry(core);
      const outcomes = order.map((label) => {
        const e = s.events[label] ?? fail(`${s.name}: no event ${label}`);
        const o = registry.submit(core, [e], NOW, SKEW)[0] as I.RegistryOutcome;
        const step: Record<string, unknown> = { event: label, outcome: outcomeName(o) };
        if (o.ok && o.outcome === 'accepted')
          step['attached'] = o.attached.map((id) => labelOf.get(id) ?? fail('unlabelled'));
        return step;
      });
      if (n === 0) {
        const got = outcomes.map((o) => o['outcome']);
        const stated = s.order.map(([, o]) => o);
        if (JSON.stringify(got) !== JSON.stringify(stated))
          fail(`${s.name}: outcomes ${JSON.stringify(got)}, stated ${JSON.stringify(stated)}`);
      }
      const st = registry.get(identity) ?? fail(`${s.name}: no state`);
      if (
        state !== undefined &&
        JSON.stringify(I.identityStateToJson(st)) !== JSON.stringify(I.identityStateToJson(state))
      ) {
        fail(`${s.name}: order ${n} reaches another state`);
      }
      state ??= st;
      return { order, outcomes };
    });
    const st = state as I.IdentityState;
    const json = I.identityStateToJson(st);
    const labels = (ids: Iterable<string>): string[] =>
      [...ids].map((id) => labelOf.get(id) ?? fail('unlabelled')).sort();
    if (JSON.stringify(json.chain.map((k) => labelOf.get(k.id))) !== JSON.stringify(s.chain))
      fail(`${s.name}: chain ${json.chain.map((k) => labelOf.get(k.id))}`);
    if (json.status !== s.status) fail(`${s.name}: status ${json.status}`);
    if (JSON.stringify(labels(st.superseded)) !== JSON.stringify([...(s.superseded ?? [])].sort()))
      fail(`${s.name}: superseded ${labels(st.superseded)}`);
    if (JSON.stringify(labels(st.vetoed)) !== JSON.stringify([...(s.vetoed ?? [])].sort()))
      fail(`${s.name}: vetoed ${labels(st.vetoed)}`);
    const verdicts = s.verdicts.map((v) => {
      const keyState =
        v.keyState === 'unknown'
          ? unknownState
          : (s.events[v.keyState] ?? fail(`no ${v.keyState}`)).idHex;
      const author = v.author === 'other' ? other : identity;
      const signers = dids(...v.signers);
      const r = I.checkIdentityAuthor(st, { author, createdAt: v.at, keyState, signers });
      const got = r.ok ? 'valid' : r.reason;
      if (got !== v.expected)
        fail(`${s.name} / ${v.description}: stated ${v.expected}, code says ${got}`);
      return {
        description: v.description,
        author,
        created_at: v.at,
        key_state: keyState,
        signers,
        expected: v.expected,
      };
    });
    return {
      name: s.name,
      description: s.description,
      identity,
      events: Object.entries(s.events).map(([label, e]) => ({
        label,
        id: e.idHex,
        cbor: hex(e.encoded),
        json: I.keyEventToJson(e.event),
      })),
      deliveries: runs,
      state: json,
      verdicts,
    };
  });
  writeVectors('logs.json', {
    source:
      'Commons Sync: generated by spec/vectors/identity/generate.ts from spec/IDENTITY.md §6-§8',
    license: 'Apache-2.0',
    description:
      'Key event logs: each set delivered to a fresh node in three orders (outcome of each delivery), the resolved state (the same in every order), and verdicts on events the identity authored',
    now: NOW,
    clock_skew_s: SKEW,
    keys: keysUsed(),
    vectors,
  });
}
