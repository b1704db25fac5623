/**
 * The trust root chain (spec/GOVERNANCE.md §6.1–§6.2): which roots follow the anchor, which one
 * is in force, and forks. A root update joins when the root it names as `prior` joined and it is
 * signed by the root-change threshold of the prior's members AND of its own members; each rule
 * reads only the update, its prior (fixed by digest) and the identity states, so the chain is a
 * function of the set of roots held, never of the order they came in.
 *
 * Two or more valid successors of one root are a fork: the quorum signed two futures. No
 * arrival order or tie-break picks one (a hidden, later-published successor could otherwise take
 * over): the chain stops at the forked root, critical actions are refused, and the members who
 * signed more than one successor are named as evidence.
 */
import { toHex } from '../protocol/bytes.js';
import { type IdentityLookup, type QuorumTally, tallyQuorum } from './quorum.js';
import { GOV_OK, type GovCheck, GovReason, type GovRejection, govReject } from './reasons.js';
import { byIdThenSigners, isDidKey, type RecordOf } from './record.js';
import type { VerifiedRecord } from './verify.js';

export type RootRecord = VerifiedRecord<RecordOf<'root'>>;

/** Whether a failing rule can never pass later (it reads nothing that may still change). */
export type RuleVerdict = GovCheck & { readonly final?: boolean };

const finalReject = (reason: GovRejection['reason'], detail: string): RuleVerdict => ({
  ...govReject(reason, detail),
  final: true,
});

function allDidKeys(root: RootRecord): boolean {
  return root.record.members.every((m) => isDidKey(m.id));
}

/** The root-change quorum of `of`'s members over `update`'s signatures, at the update's time. */
export function rootChangeTally(
  of: RootRecord,
  update: RootRecord,
  lookup: IdentityLookup,
): QuorumTally {
  const r = of.record;
  return tallyQuorum(
    r.members,
    r.thresholds['root-change'],
    update.record.signatures,
    update.record.createdAt,
    lookup,
  );
}

/** The rules of a root that does not need its prior: version above the anchor's, a prior named. */
export function checkRootAlone(update: RootRecord, anchor: RootRecord): RuleVerdict {
  const u = update.record;
  if (u.version <= anchor.record.version) {
    return finalReject(
      GovReason.ROLLBACK,
      `version ${u.version} is not above the anchor's version ${anchor.record.version}`,
    );
  }
  if (u.prior === undefined)
    return finalReject(
      GovReason.MIX_AND_MATCH,
      'a root that names no prior cannot follow the anchor',
    );
  return GOV_OK;
}

/**
 * A root update against its prior, in order: version (rollback, gap), time order, the prior's
 * members' threshold, the update's own members' threshold (§6.1).
 */
export function checkRootUpdate(
  update: RootRecord,
  prior: RootRecord,
  anchor: RootRecord,
  lookup: IdentityLookup,
): RuleVerdict {
  const alone = checkRootAlone(update, anchor);
  if (!alone.ok) return alone;
  const u = update.record;
  const p = prior.record;
  if (u.version <= p.version)
    return finalReject(
      GovReason.ROLLBACK,
      `version ${u.version} is not above its prior's version ${p.version}`,
    );
  if (u.version > p.version + 1)
    return finalReject(
      GovReason.VERSION_GAP,
      `version ${u.version} does not follow its prior's version ${p.version}`,
    );
  if (u.createdAt < p.createdAt)
    return finalReject(
      GovReason.MIX_AND_MATCH,
      `created_at ${u.createdAt} is before its prior root's (${p.createdAt})`,
    );
  const old = rootChangeTally(prior, update, lookup).verdict;
  if (!old.ok)
    return {
      ...govReject(old.reason, `the prior root's members: ${old.detail}`),
      final: allDidKeys(prior),
    };
  const own = rootChangeTally(update, update, lookup).verdict;
  if (!own.ok)
    return {
      ...govReject(own.reason, `the new root's own members: ${own.detail}`),
      final: allDidKeys(update),
    };
  return GOV_OK;
}

/** An anchor must carry its own root-change threshold (a check of the file a node was given). */
export function checkAnchor(anchor: RootRecord, lookup: IdentityLookup): GovCheck {
  const own = rootChangeTally(anchor, anchor, lookup).verdict;
  return own.ok ? GOV_OK : govReject(own.reason, `the anchor's own members: ${own.detail}`);
}

export type RootStanding = 'in-force' | 'chain' | 'contestant' | 'detached' | 'waiting' | 'refused';

export interface ForkEvidence {
  /** The root with two or more valid successors: the chain stops here. */
  readonly prior: string;
  readonly version: number;
  /** The valid successors, ids ascending. */
  readonly contestants: readonly string[];
  /** Members of the forked root whose signatures count in more than one contestant, ascending. */
  readonly equivocators: readonly string[];
}

/** Where a held root stands, and why one that is not attached is not. */
export interface RootView {
  readonly standing: RootStanding;
  readonly version: number;
  readonly reason?: GovRejection;
}

export interface ChainState {
  readonly anchor: RootRecord;
  /** The anchor first, then each root that followed; the last is the root in force. */
  readonly chain: readonly RootRecord[];
  readonly tip: RootRecord;
  readonly status: 'active' | 'forked';
  readonly fork: ForkEvidence | null;
  /** Every attached root by id (the copy that passed). */
  readonly attached: ReadonlyMap<string, RootRecord>;
  /** Standing of every root held, and why one that is not attached is not. */
  readonly standings: ReadonlyMap<string, RootView>;
}

/**
 * Resolves the chain from the anchor over the roots held (copies of one id may differ in their
 * signatures: the id joins when one copy passes; copies are tried in the order given).
 */
export function resolveChain(
  anchor: RootRecord,
  roots: Iterable<RootRecord>,
  lookup: IdentityLookup,
): ChainState {
  const byPrior = new Map<string, RootRecord[]>();
  const held = new Map<string, RootRecord[]>();
  for (const r of [...roots].sort(byIdThenSigners)) {
    if (r.idHex === anchor.idHex) continue;
    held.set(r.idHex, [...(held.get(r.idHex) ?? []), r]);
    const p = r.record.prior;
    if (p !== undefined) byPrior.set(toHex(p), [...(byPrior.get(toHex(p)) ?? []), r]);
  }
  const attached = new Map<string, RootRecord>([[anchor.idHex, anchor]]);
  const children = new Map<string, string[]>();
  const standings = new Map<string, RootView>();
  // Least fixed point, breadth first from the anchor: a root is tried once its prior joined.
  const queue = [anchor.idHex];
  for (let i = 0; i < queue.length; i++) {
    const priorId = queue[i] as string;
    const prior = attached.get(priorId) as RootRecord;
    const ids = [...new Set((byPrior.get(priorId) ?? []).map((r) => r.idHex))].sort();
    for (const id of ids) {
      let failure: GovRejection | undefined;
      for (const copy of held.get(id) as RootRecord[]) {
        const v = checkRootUpdate(copy, prior, anchor, lookup);
        if (v.ok) {
          attached.set(id, copy);
          children.set(priorId, [...(children.get(priorId) ?? []), id]);
          queue.push(id);
          failure = undefined;
          break;
        }
        failure ??= govReject(v.reason, v.detail);
      }
      const version = (held.get(id) as RootRecord[])[0]?.record.version as number;
      if (failure !== undefined)
        standings.set(id, { standing: 'refused', version, reason: failure });
    }
  }
  const chain: RootRecord[] = [anchor];
  let fork: ForkEvidence | null = null;
  for (;;) {
    const tip = chain[chain.length - 1] as RootRecord;
    const next = children.get(tip.idHex) ?? [];
    if (next.length === 1) {
      chain.push(attached.get(next[0] as string) as RootRecord);
      continue;
    }
    if (next.length >= 2)
      fork = forkEvidence(
        tip,
        next.map((id) => held.get(id) as RootRecord[]),
        lookup,
      );
    break;
  }
  const tip = chain[chain.length - 1] as RootRecord;
  const onChain = new Set(chain.map((r) => r.idHex));
  const contestants = new Set(fork?.contestants ?? []);
  for (const id of attached.keys()) {
    const standing: RootStanding =
      id === tip.idHex
        ? 'in-force'
        : onChain.has(id)
          ? 'chain'
          : contestants.has(id)
            ? 'contestant'
            : 'detached';
    standings.set(id, { standing, version: (attached.get(id) as RootRecord).record.version });
  }
  for (const [id, copies] of held) {
    if (standings.has(id)) continue;
    const reason = govReject(GovReason.UNKNOWN_ROOT, 'its prior root is not attached here');
    standings.set(id, {
      standing: 'waiting',
      version: (copies[0] as RootRecord).record.version,
      reason,
    });
  }
  return {
    anchor,
    chain,
    tip,
    status: fork === null ? 'active' : 'forked',
    fork,
    attached,
    standings,
  };
}

/**
 * The evidence of a fork: each contestant given as every copy held of it. A member signed a
 * contestant when its tally standing is `signed` in any copy (copies of one id differ only in
 * their signatures), so the evidence depends on the copies held, not on which one attached.
 */
function forkEvidence(
  prior: RootRecord,
  contestants: readonly (readonly RootRecord[])[],
  lookup: IdentityLookup,
): ForkEvidence {
  const times = new Map<string, number>();
  for (const copies of contestants) {
    const signed = new Set<string>();
    for (const c of copies)
      for (const m of rootChangeTally(prior, c, lookup).members)
        if (m.standing === 'signed') signed.add(m.id);
    for (const id of signed) times.set(id, (times.get(id) ?? 0) + 1);
  }
  return {
    prior: prior.idHex,
    version: prior.record.version,
    contestants: contestants.map((c) => (c[0] as RootRecord).idHex).sort(),
    equivocators: [...times]
      .filter(([, n]) => n >= 2)
      .map(([id]) => id)
      .sort(),
  };
}
