/**
 * One node's governance, in one object (spec/GOVERNANCE.md §7): the trust root state (roots and
 * critical actions from the node's anchor), the web of trust, and trust verdicts over both.
 * `submit` runs §7 steps 4–9 for a batch of decoded records: the local time rule, duplicates
 * (no signature work for them), one batch verification, then each record joins its part.
 *
 * Without an anchor the node runs in open mode: it takes no roots or actions (ERR_GOV_NO_ROOT),
 * keeps attestations, and trusts every author — and says so in every trust answer.
 */

import type { BatchVerifier } from '../identity/verify.js';
import { toHex } from '../protocol/bytes.js';
import { type ActionRecord, actionTally } from './actions.js';
import { checkRootAlone, checkRootUpdate, type RootRecord, rootChangeTally } from './chain.js';
import type { IdentityLookup, QuorumTally } from './quorum.js';
import {
  GOV_OK,
  type GovCheck,
  GovReason,
  type GovRejection,
  type GovResult,
  govAccept,
  govReject,
} from './reasons.js';
import { checkRecordTime, type DecodedRecord, signerSetOf } from './record.js';
import {
  DEFAULT_GOVERNANCE_BOUNDS,
  type GovernanceBounds,
  type GovernanceOutcome,
  GovernanceState,
  type GovernanceView,
} from './state.js';
import {
  type AnyTrustContext,
  OPEN_TRUST_CONTEXT,
  TrustEvaluator,
  type TrustExplanation,
  type TrustVerdict,
  trustContextOf,
} from './trust.js';
import {
  DEFAULT_TRUST_BOUNDS,
  type TrustBounds,
  TrustGraph,
  type TrustOutcome,
} from './trust-graph.js';
import { type VerifiedRecord, verifyRecords } from './verify.js';

export type SubmitOutcome = GovernanceOutcome | TrustOutcome;

/** How far a draft root or action is from its quorum: what `trust root sign` and co-signing print. */
export interface ProposalStatus {
  /** The id of the root the record is judged against (a root draft: its prior). */
  readonly judgedAgainst: string;
  /** A root: the prior's members, then its own; an action: the members in force. */
  readonly tallies: ReadonlyArray<{
    readonly side: 'prior' | 'own' | 'in-force';
    readonly tally: QuorumTally;
  }>;
  /** Members still to sign, summed over the sides (0: ready to submit). */
  readonly missing: number;
  /** A rule that no signature can fix (rollback, stale root...), or null. */
  readonly blocked: GovRejection | null;
}

export class Governance {
  private readonly trust: TrustGraph;
  private readonly evaluator: TrustEvaluator;
  private context: AnyTrustContext = OPEN_TRUST_CONTEXT;
  private contextOf: GovernanceView | null = null;

  private constructor(
    private readonly roots: GovernanceState | null,
    private readonly lookup: IdentityLookup,
    trustBounds: TrustBounds,
  ) {
    this.trust = new TrustGraph(lookup, trustBounds);
    this.evaluator = new TrustEvaluator(this.trust);
  }

  /** Open mode: no trust root. */
  static open(lookup: IdentityLookup, trustBounds: TrustBounds = DEFAULT_TRUST_BOUNDS): Governance {
    return new Governance(null, lookup, trustBounds);
  }

  /** Governed from `anchor`, the root this node was given (a file or a flag). */
  static create(
    anchor: VerifiedRecord,
    lookup: IdentityLookup,
    bounds: { governance?: GovernanceBounds; trust?: TrustBounds } = {},
  ): GovResult<Governance> {
    const state = GovernanceState.create(
      anchor,
      lookup,
      bounds.governance ?? DEFAULT_GOVERNANCE_BOUNDS,
    );
    if (!state.ok) return state;
    return govAccept(new Governance(state.value, lookup, bounds.trust ?? DEFAULT_TRUST_BOUNDS));
  }

  get mode(): 'open' | 'governed' {
    return this.roots === null ? 'open' : 'governed';
  }

  /** The root state (null in open mode). */
  get view(): GovernanceView | null {
    return this.roots?.view ?? null;
  }

  get graph(): TrustGraph {
    return this.trust;
  }

  /** Every record held, ids ascending (the anchor apart): what a node stores and replays. */
  held(): VerifiedRecord[] {
    return [...(this.roots?.held() ?? []), ...this.trust.held()].sort((a, b) =>
      a.idHex < b.idHex ? -1 : a.idHex > b.idHex ? 1 : 0,
    );
  }

  /** Call after a key event joined: verdicts that read did:cs identity states may turn. */
  refresh(): void {
    this.roots?.refresh();
    this.trust.refresh();
  }

  /** §7 steps 4–9 for a batch: one outcome per record, in order. */
  submit(
    core: BatchVerifier,
    records: readonly DecodedRecord[],
    now: number,
    skewSeconds = 300,
  ): SubmitOutcome[] {
    const early: Array<SubmitOutcome | null> = records.map((r) => {
      const time = checkRecordTime(r.record, now, skewSeconds);
      if (!time.ok) return time;
      if (this.isDuplicate(r)) return { ok: true, outcome: 'duplicate', id: r.idHex };
      return null;
    });
    const pending = records.filter((_, i) => early[i] === null);
    const verified = verifyRecords(core, pending);
    let at = 0;
    return early.map((o) => {
      if (o !== null) return o;
      const v = verified[at++] as GovResult<VerifiedRecord>;
      return v.ok ? this.add(v.value) : v;
    });
  }

  /**
   * Replays what a node stored (`held()`), at start: roots and actions resolved once at the end,
   * attestations and revocations one by one. One outcome per record, in order.
   */
  load(records: readonly VerifiedRecord[]): SubmitOutcome[] {
    const isTrust = (r: VerifiedRecord) =>
      r.record.type === 'attestation' || r.record.type === 'attestation-revocation';
    const governed = records.filter((r) => !isTrust(r));
    const early = this.roots === null ? [] : this.roots.load(governed);
    let at = 0;
    return records.map((r) => {
      if (isTrust(r)) return this.trust.add(r);
      if (this.roots === null)
        return govReject(
          GovReason.NO_ROOT,
          'this node runs in open mode (no trust root): it takes no roots or critical actions',
        );
      return early[at++] as GovernanceOutcome;
    });
  }

  /** Adds one verified record to its part. */
  add(record: VerifiedRecord): SubmitOutcome {
    const type = record.record.type;
    if (type === 'attestation' || type === 'attestation-revocation') return this.trust.add(record);
    if (this.roots === null)
      return govReject(
        GovReason.NO_ROOT,
        'this node runs in open mode (no trust root): it takes no roots or critical actions',
      );
    return this.roots.add(record);
  }

  private isDuplicate(r: DecodedRecord): boolean {
    const type = r.record.type;
    if (type === 'attestation' || type === 'attestation-revocation') return false; // the graph tells copies apart itself
    return this.roots?.holds(r.idHex, signerSetOf(r)) ?? false;
  }

  /** The context trust is judged in: open, or the root in force's set, revocations and policy. */
  trustContext(): AnyTrustContext {
    const view = this.view;
    if (view === null) return OPEN_TRUST_CONTEXT;
    if (this.contextOf !== view) {
      this.context = trustContextOf(view.actions.content);
      this.contextOf = view;
    }
    return this.context;
  }

  /** Whether `did` is trusted for `scope` at signed time `at` (an event's kind and created_at). */
  verdict(did: string, scope: string, at: number): TrustVerdict {
    return this.evaluator.verdict(this.trustContext(), did, scope, at);
  }

  /** Why `did` is or is not trusted: the paths, or what is missing (`trust explain`). */
  explain(did: string, scope: string, at: number): TrustExplanation {
    return this.evaluator.explain(this.trustContext(), did, scope, at);
  }

  /** How many signatures a draft root or action still needs, and whether anything else blocks it. */
  proposalStatus(record: VerifiedRecord): GovResult<ProposalStatus> {
    const view = this.view;
    if (view === null || this.roots === null)
      return govReject(GovReason.NO_ROOT, 'this node runs in open mode (no trust root)');
    const { chain } = view;
    if (record.record.type === 'root') {
      const root = record as RootRecord;
      const priorId = root.record.prior === undefined ? '' : toHex(root.record.prior);
      const prior = chain.attached.get(priorId);
      if (prior === undefined) {
        const alone = checkRootAlone(root, this.roots.anchor);
        const blocked = alone.ok
          ? govReject(GovReason.UNKNOWN_ROOT, `prior root ${priorId} is not attached here`)
          : govReject(alone.reason, alone.detail);
        return govAccept({ judgedAgainst: priorId, tallies: [], missing: 0, blocked });
      }
      const old = rootChangeTally(prior, root, this.lookup);
      const own = rootChangeTally(root, root, this.lookup);
      const rules = checkRootUpdate(root, prior, this.roots.anchor, this.lookup);
      const quorumCodes: ReadonlySet<string> = new Set(
        [old.verdict, own.verdict].flatMap((v) => (v.ok ? [] : [v.reason])),
      );
      let blocked: GovRejection | null =
        !rules.ok && !quorumCodes.has(rules.reason) ? govReject(rules.reason, rules.detail) : null;
      if (blocked === null && chain.tip.idHex !== priorId) {
        blocked = govReject(
          GovReason.STALE_ROOT,
          `root ${priorId} is not the root in force (${chain.tip.idHex}): a second successor would fork the chain`,
        );
      }
      return govAccept({
        judgedAgainst: priorId,
        tallies: [
          { side: 'prior', tally: old },
          { side: 'own', tally: own },
        ],
        missing: old.missing + own.missing,
        blocked,
      });
    }
    if (record.record.type === 'action') {
      const action = record as ActionRecord;
      const rootId = toHex(action.record.root);
      const tally = actionTally(action, view.actions.content, this.lookup);
      const blocked = this.actionBlock(action, rootId);
      return govAccept({
        judgedAgainst: rootId,
        tallies: [{ side: 'in-force', tally }],
        missing: tally.missing,
        blocked: blocked.ok ? null : blocked,
      });
    }
    return govReject(
      GovReason.MIX_AND_MATCH,
      `a ${record.record.type} needs no quorum: its issuer alone signs it`,
    );
  }

  private actionBlock(action: ActionRecord, rootId: string): GovCheck {
    const chain = (this.view as GovernanceView).chain;
    if (chain.status === 'forked')
      return govReject(
        GovReason.ROOT_FORKED,
        'the chain is forked: no critical action can be accepted',
      );
    if (rootId !== chain.tip.idHex) {
      return govReject(
        chain.attached.has(rootId) ? GovReason.STALE_ROOT : GovReason.UNKNOWN_ROOT,
        `the action names ${rootId}; the root in force is ${chain.tip.idHex}`,
      );
    }
    const r = chain.tip.record;
    if (action.record.createdAt < r.createdAt)
      return govReject(GovReason.MIX_AND_MATCH, 'the action is dated before the root it names');
    if (action.record.createdAt >= r.expiresAt)
      return govReject(
        GovReason.ROOT_EXPIRED,
        'the action is dated at or after the expiry of the root in force',
      );
    return GOV_OK;
  }
}
