/**
 * The governance state of a node (spec/GOVERNANCE.md §6–§7): the roots and critical actions it
 * holds, starting from its anchor (the root it was given), and what they resolve to.
 *
 * `resolveGovernance(anchor, set)` is the definition: drop what can never count (rules that read
 * only the record and what it names by digest), resolve the chain, judge and fold the actions.
 * {@link GovernanceState} is the node's hot path: it holds records one at a time under local
 * bounds, and its view always equals `resolveGovernance` of what it holds
 * (test/governance-order.test.ts holds it to that in random orders).
 *
 * No I/O: the node stores what this holds and replays it at start (`load`).
 */
import { toHex } from '../protocol/bytes.js';
import {
  type ActionRecord,
  type ActionStanding,
  type ActionsState,
  checkActionAgainstRoot,
  extendFold,
  resolveActions,
  validatorsInForce,
} from './actions.js';
import {
  type ChainState,
  checkAnchor,
  checkRootAlone,
  checkRootUpdate,
  type RootRecord,
  type RootStanding,
  resolveChain,
} from './chain.js';
import type { IdentityLookup } from './quorum.js';
import { GovReason, type GovRejection, type GovResult, govAccept, govReject } from './reasons.js';
import { CRITICAL_KINDS, type PrincipalEntry, signerSetOf } from './record.js';
import type { VerifiedRecord } from './verify.js';

/** Local resource bounds (not consensus; reaching one refuses with ERR_GOV_LIMIT and stores nothing). */
export interface GovernanceBounds {
  /** Distinct roots held (the anchor not counted). */
  readonly maxRoots: number;
  /** Distinct actions held. */
  readonly maxActions: number;
  /** Roots and actions waiting for the root they name. */
  readonly maxWaiting: number;
  /** Copies of one record with different signer sets. */
  readonly maxCopies: number;
}

export const DEFAULT_GOVERNANCE_BOUNDS: GovernanceBounds = Object.freeze({
  maxRoots: 1024,
  maxActions: 16_384,
  maxWaiting: 1024,
  maxCopies: 8,
});

export interface GovernanceView {
  readonly chain: ChainState;
  readonly actions: ActionsState;
}

type Held = RootRecord | ActionRecord;

const isRoot = (r: VerifiedRecord): r is RootRecord => r.record.type === 'root';
const isAction = (r: VerifiedRecord): r is ActionRecord => r.record.type === 'action';

/**
 * Whether a root or action can never count, reading only itself, the anchor and the record it
 * names (when that is in `named`): the records a node drops instead of holding.
 */
function finalRejection(
  record: Held,
  anchor: RootRecord,
  named: RootRecord | undefined,
  lookup: IdentityLookup,
): GovRejection | null {
  if (isRoot(record)) {
    const v =
      named === undefined
        ? checkRootAlone(record, anchor)
        : checkRootUpdate(record, named, anchor, lookup);
    return !v.ok && v.final === true ? govReject(v.reason, v.detail) : null;
  }
  if (named === undefined) return null;
  const v = checkActionAgainstRoot(record as ActionRecord, named, lookup);
  return !v.ok && v.final === true ? govReject(v.reason, v.detail) : null;
}

const namedId = (record: Held): string =>
  toHex(
    isRoot(record)
      ? (record.record.prior ?? new Uint8Array(32))
      : (record as ActionRecord).record.root,
  );

/**
 * The definition: the governance view of a set of roots and actions, from an anchor. What can
 * never count is dropped first. A record is judged against the root it names only when that root
 * is **connected** — the anchor, or a kept root whose prior is connected — since only then is it
 * certain to stay: a root that still waits for its own prior may yet be dropped. So the kept set
 * is the same whatever order a node met the records in.
 */
export function resolveGovernance(
  anchor: RootRecord,
  records: Iterable<VerifiedRecord>,
  lookup: IdentityLookup,
): GovernanceView {
  const all = [...records].filter(
    (r): r is Held => (isRoot(r) || isAction(r)) && r.idHex !== anchor.idHex,
  );
  const rootCopies = new Map<string, RootRecord[]>();
  for (const r of all)
    if (isRoot(r)) rootCopies.set(r.idHex, [...(rootCopies.get(r.idHex) ?? []), r]);
  const memo = new Map<string, RootRecord | null>([[anchor.idHex, anchor]]);
  // ids are digests of bodies that name their prior's id: the recursion has no cycles
  const connected = (id: string): RootRecord | undefined => {
    const known = memo.get(id);
    if (known !== undefined) return known ?? undefined;
    const copies = rootCopies.get(id);
    const prior = copies === undefined ? undefined : connected(namedId(copies[0] as RootRecord));
    const pass =
      prior === undefined
        ? undefined
        : copies?.find((c) => finalRejection(c, anchor, prior, lookup) === null);
    memo.set(id, pass ?? null);
    return pass;
  };
  const kept = all.filter((r) => finalRejection(r, anchor, connected(namedId(r)), lookup) === null);
  const chain = resolveChain(anchor, kept.filter(isRoot), lookup);
  return { chain, actions: resolveActions(chain, kept.filter(isAction), lookup) };
}

export type GovernanceOutcome =
  | {
      readonly ok: true;
      readonly outcome: 'accepted';
      readonly id: string;
      /** Where the record stands now (roots: on the chain, in force, contestant...; actions: applied...). */
      readonly standing: RootStanding | ActionStanding;
      readonly reason?: GovRejection;
    }
  | { readonly ok: true; readonly outcome: 'duplicate'; readonly id: string }
  | GovRejection;

export class GovernanceState {
  /** Held copies by id. */
  private readonly roots = new Map<string, RootRecord[]>();
  private readonly actions = new Map<string, ActionRecord[]>();
  /** Ids of held records by the id of the root they name, while that root is not connected. */
  private readonly waiting = new Map<string, Set<string>>();
  /** Held roots whose chain of priors reaches the anchor through held roots (the anchor included). */
  private readonly connected = new Set<string>();
  private waitingCount = 0;
  private current: GovernanceView;

  private constructor(
    readonly anchor: RootRecord,
    private readonly lookup: IdentityLookup,
    private readonly bounds: GovernanceBounds,
  ) {
    this.connected.add(anchor.idHex);
    this.current = this.resolve();
  }

  /**
   * A state that starts from `anchor`, the root this node was given. The anchor is trusted as
   * configured; it must still carry its own root-change threshold (a wrong file is caught here).
   */
  static create(
    anchor: VerifiedRecord,
    lookup: IdentityLookup,
    bounds: GovernanceBounds = DEFAULT_GOVERNANCE_BOUNDS,
  ): GovResult<GovernanceState> {
    if (!isRoot(anchor))
      return govReject(GovReason.MIX_AND_MATCH, `an anchor is a root, not a ${anchor.record.type}`);
    const check = checkAnchor(anchor, lookup);
    if (!check.ok) return check;
    return govAccept(new GovernanceState(anchor, lookup, bounds));
  }

  get view(): GovernanceView {
    return this.current;
  }

  /** Roots and actions held, ids ascending: what a node stores and replays (the anchor apart). */
  held(): VerifiedRecord[] {
    return [...[...this.roots.values()].flat(), ...[...this.actions.values()].flat()].sort(
      (a, b) => (a.idHex < b.idHex ? -1 : a.idHex > b.idHex ? 1 : 0),
    );
  }

  /** True when a copy of the record with this id, signed by at least these keys, is held. */
  holds(idHex: string, signers?: string): boolean {
    if (idHex === this.anchor.idHex) return true;
    const copies = this.roots.get(idHex) ?? this.actions.get(idHex);
    if (copies === undefined) return false;
    if (signers === undefined) return true;
    const wanted = signers.split(' ');
    return copies.some((c) => {
      const have = new Set(signerSetOf(c).split(' '));
      return wanted.every((s) => have.has(s));
    });
  }

  /** Call after the identity states changed (a key event joined): verdicts on did:cs members may turn. */
  refresh(): void {
    this.current = this.resolve();
  }

  /** Adds one verified root or action, and resolves again. */
  add(record: VerifiedRecord): GovernanceOutcome {
    const first = !this.roots.has(record.idHex) && !this.actions.has(record.idHex);
    const r = this.hold(record);
    if (r !== null) return r;
    // Actions usually arrive in time order under the root in force: extend the fold, don't redo it.
    const extended =
      first && isAction(record)
        ? extendFold(this.current.chain, this.current.actions, record, this.lookup)
        : null;
    this.current =
      extended === null ? this.resolve() : { chain: this.current.chain, actions: extended };
    return this.outcome(record.idHex);
  }

  /** Adds many (a node's replay at start): one resolution at the end. One outcome per record. */
  load(records: readonly VerifiedRecord[]): GovernanceOutcome[] {
    const early = records.map((r) => this.hold(r));
    this.current = this.resolve();
    return records.map((r, i) => early[i] ?? this.outcome(r.idHex));
  }

  private outcome(id: string): GovernanceOutcome {
    const view = this.roots.has(id)
      ? this.current.chain.standings.get(id)
      : this.current.actions.views.get(id);
    if (view === undefined) throw new Error(`held record ${id} has no standing`); // cannot happen: every held record is judged
    return {
      ok: true,
      outcome: 'accepted',
      id,
      standing: view.standing,
      ...(view.reason === undefined ? {} : { reason: view.reason }),
    };
  }

  private resolve(): GovernanceView {
    const chain = resolveChain(this.anchor, [...this.roots.values()].flat(), this.lookup);
    return {
      chain,
      actions: resolveActions(chain, [...this.actions.values()].flat(), this.lookup),
    };
  }

  /** The root with this id when it is connected (what a record may be judged against), else undefined. */
  private connectedRoot(id: string): RootRecord | undefined {
    if (!this.connected.has(id)) return undefined;
    return id === this.anchor.idHex ? this.anchor : this.roots.get(id)?.[0];
  }

  /** Whether the held copies of `id` together carry every signer of `record`. */
  #signersHeld(id: string, record: VerifiedRecord): boolean {
    const have = new Set<string>();
    for (const c of this.roots.get(id) ?? [])
      for (const x of signerSetOf(c).split(' ')) have.add(x);
    return signerSetOf(record)
      .split(' ')
      .every((x) => have.has(x));
  }

  #copiesFull(id: string): boolean {
    return (this.roots.get(id)?.length ?? 0) >= this.bounds.maxCopies;
  }

  /** Holds the record, or says why not (null: held). */
  private hold(record: VerifiedRecord): GovernanceOutcome | null {
    if (!isRoot(record) && !isAction(record)) {
      throw new RangeError(
        `a ${record.record.type} record belongs to the trust graph, not the governance state`,
      );
    }
    const id = record.idHex;
    if (this.holds(id, signerSetOf(record))) return { ok: true, outcome: 'duplicate', id };
    const counts = this.roots.has(id)
      ? ['in-force', 'chain', 'contestant', 'detached'].includes(
          this.current.chain.standings.get(id)?.standing ?? '',
        )
      : ['applied', 'superseded', 'frozen'].includes(
          this.current.actions.views.get(id)?.standing ?? '',
        );
    // a copy of a record that already counts is a duplicate, unless it is a root's and brings a
    // signer no held copy has: the evidence of a fork reads every copy of its contestants
    // (chain.ts), so that it does not depend on which copy came first
    if (counts && (!isRoot(record) || this.#signersHeld(id, record) || this.#copiesFull(id)))
      return { ok: true, outcome: 'duplicate', id };
    const named = namedId(record);
    const namedRoot = this.connectedRoot(named);
    const final = finalRejection(record, this.anchor, namedRoot, this.lookup);
    if (final !== null) return final;
    const pool = isRoot(record) ? this.roots : this.actions;
    const copies = (pool as Map<string, Held[]>).get(id);
    if (copies === undefined) {
      const max = isRoot(record) ? this.bounds.maxRoots : this.bounds.maxActions;
      if (pool.size >= max)
        return govReject(GovReason.LIMIT, `${max} ${record.record.type}s are held already`);
    } else if (copies.length >= this.bounds.maxCopies) {
      return govReject(
        GovReason.LIMIT,
        `${this.bounds.maxCopies} copies of ${id} are held already`,
      );
    }
    const waits = namedRoot === undefined;
    if (waits && copies === undefined && this.waitingCount >= this.bounds.maxWaiting) {
      return govReject(
        GovReason.LIMIT,
        `${this.bounds.maxWaiting} records already wait for the root they name`,
      );
    }
    (pool as Map<string, Held[]>).set(id, [...(copies ?? []), record as Held]);
    if (waits && copies === undefined) {
      this.waiting.set(named, (this.waiting.get(named) ?? new Set()).add(id));
      this.waitingCount++;
    }
    if (isRoot(record) && copies === undefined && !waits) this.connect(record);
    return null;
  }

  /**
   * A held root became connected: the records that waited for it are judged against it (and
   * dropped if they never can count); the roots among them that stay are connected in turn.
   */
  private connect(root: RootRecord): void {
    this.connected.add(root.idHex);
    const ids = this.waiting.get(root.idHex);
    if (ids === undefined) return;
    this.waiting.delete(root.idHex);
    this.waitingCount -= ids.size;
    for (const id of [...ids].sort()) {
      const pool = (this.roots.has(id) ? this.roots : this.actions) as Map<string, Held[]>;
      const kept = (pool.get(id) ?? []).filter(
        (c) => finalRejection(c, this.anchor, root, this.lookup) === null,
      );
      if (kept.length === 0) pool.delete(id);
      else {
        pool.set(id, kept);
        if (isRoot(kept[0] as Held)) this.connect(kept[0] as RootRecord);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The view as JSON (spec/GOVERNANCE.md §6.6): what vectors hold and `trust root show` prints.

export interface PrincipalJson {
  id: string;
  key_state: string | null;
}

export interface GovernanceViewJson {
  anchor: string;
  status: 'active' | 'forked';
  root: { id: string; version: number; created_at: number; expires_at: number };
  chain: Array<{ id: string; version: number }>;
  fork: { prior: string; version: number; contestants: string[]; equivocators: string[] } | null;
  members: PrincipalJson[];
  thresholds: Record<string, number>;
  validators: PrincipalJson[];
  protocol_versions: number[];
  trust_policy: { max_depth: number; min_paths: number };
  revoked: string[];
  applied: string[];
  roots: Array<{ id: string; version: number; standing: RootStanding; reason: string | null }>;
  actions: Array<{ id: string; kind: string; standing: ActionStanding; reason: string | null }>;
}

const principalJson = (e: PrincipalEntry): PrincipalJson => ({
  id: e.id,
  key_state: e.keyState === undefined ? null : toHex(e.keyState),
});

export function governanceViewToJson(view: GovernanceView): GovernanceViewJson {
  const { chain, actions } = view;
  const c = actions.content;
  const tip = chain.tip.record;
  const roots = [...chain.standings]
    .map(([id, s]) => ({
      id,
      version: s.version,
      standing: s.standing,
      reason: s.reason?.reason ?? null,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    anchor: chain.anchor.idHex,
    status: chain.status,
    root: {
      id: chain.tip.idHex,
      version: tip.version,
      created_at: tip.createdAt,
      expires_at: tip.expiresAt,
    },
    chain: chain.chain.map((r) => ({ id: r.idHex, version: r.record.version })),
    fork:
      chain.fork === null
        ? null
        : {
            ...chain.fork,
            contestants: [...chain.fork.contestants],
            equivocators: [...chain.fork.equivocators],
          },
    members: c.members.map(principalJson),
    thresholds: Object.fromEntries(CRITICAL_KINDS.map((k) => [k, c.thresholds[k]])),
    validators: validatorsInForce(c).map(principalJson),
    protocol_versions: [...c.protocolVersions],
    trust_policy: { max_depth: c.trustPolicy.maxDepth, min_paths: c.trustPolicy.minPaths },
    revoked: [...c.revoked].sort(),
    applied: [...actions.applied],
    roots: roots.filter((r) => r.id !== chain.anchor.idHex),
    actions: [...actions.views]
      .map(([id, v]) => ({
        id,
        kind: v.copy.record.kind,
        standing: v.standing,
        reason: v.reason?.reason ?? null,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
}
