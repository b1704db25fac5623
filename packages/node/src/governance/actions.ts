/**
 * Critical actions and the governed state (spec/GOVERNANCE.md §6.3–§6.5). An action names, by
 * id, the root it is judged against (as an event names its `key_state`): only the root in force
 * can authorise one. The governed state is the root in force's content with its valid actions
 * applied in order of (`created_at`, id) — a fold over a sorted set, so the same on every node
 * whatever the order of arrival. Each action's quorum is counted against the state the earlier
 * actions left (a member revoked by an earlier action counts zero; a re-pinned member counts
 * with its new key state).
 *
 * A root update replaces the state with its own content: actions naming an earlier root are
 * superseded (kept as evidence, no effect). The tools that draft a root carry the current state
 * into it.
 */
import { toHex } from '../protocol/bytes.js';
import type { ChainState, RootRecord, RuleVerdict } from './chain.js';
import { type IdentityLookup, type QuorumTally, tallyQuorum } from './quorum.js';
import { GOV_OK, GovReason, type GovRejection, govReject } from './reasons.js';
import {
  byIdThenSigners,
  type CriticalKind,
  isDidKey,
  type PrincipalEntry,
  type RecordOf,
  type TrustPolicy,
} from './record.js';
import type { VerifiedRecord } from './verify.js';

export type ActionRecord = VerifiedRecord<RecordOf<'action'>>;

/** What the root in force and the actions applied under it decide. */
export interface GovernedContent {
  /** Members with their pinned key states (re-pinned by identity-rotation actions). */
  readonly members: readonly PrincipalEntry[];
  readonly thresholds: Readonly<Record<CriticalKind, number>>;
  /** Admitted validators (identities revoked by an action are left out). */
  readonly validators: readonly PrincipalEntry[];
  readonly protocolVersions: readonly number[];
  readonly trustPolicy: TrustPolicy;
  /** Identities revoked by identity-revocation actions under the root in force. */
  readonly revoked: ReadonlySet<string>;
}

export function contentOf(root: RootRecord): GovernedContent {
  const r = root.record;
  return {
    members: r.members,
    thresholds: r.thresholds,
    validators: r.validators,
    protocolVersions: r.protocolVersions,
    trustPolicy: r.trustPolicy,
    revoked: new Set(),
  };
}

/** The action's quorum over `content` (the root's, or the fold's so far). */
export function actionTally(
  action: ActionRecord,
  content: GovernedContent,
  lookup: IdentityLookup,
): QuorumTally {
  const a = action.record;
  return tallyQuorum(
    content.members,
    content.thresholds[a.kind],
    a.signatures,
    a.createdAt,
    lookup,
    content.revoked,
  );
}

/** An action is dated neither before the root it names (mix-and-match) nor at or after its expiry (freeze). Final. */
export function checkActionDates(action: ActionRecord, root: RootRecord): RuleVerdict {
  const a = action.record;
  const r = root.record;
  if (a.createdAt < r.createdAt) {
    return {
      ...govReject(
        GovReason.MIX_AND_MATCH,
        `created_at ${a.createdAt} is before the root it names was made (${r.createdAt})`,
      ),
      final: true,
    };
  }
  if (a.createdAt >= r.expiresAt) {
    return {
      ...govReject(
        GovReason.ROOT_EXPIRED,
        `created_at ${a.createdAt} is at or after the expiry of the root it names (${r.expiresAt})`,
      ),
      final: true,
    };
  }
  return GOV_OK;
}

/**
 * The rules of an action that need only its root (fixed by digest): its dates, then the quorum
 * of the root's own content (what an action under a superseded or forked root is judged by).
 * A quorum failure is final when every member of the root is a did:key: no fold can do better,
 * since actions only revoke members or re-pin did:cs ones.
 */
export function checkActionAgainstRoot(
  action: ActionRecord,
  root: RootRecord,
  lookup: IdentityLookup,
): RuleVerdict {
  const dates = checkActionDates(action, root);
  if (!dates.ok) return dates;
  const r = root.record;
  const verdict = actionTally(action, contentOf(root), lookup).verdict;
  if (!verdict.ok) return { ...verdict, final: r.members.every((m) => isDidKey(m.id)) };
  return GOV_OK;
}

function replaceEntry(
  list: readonly PrincipalEntry[],
  id: string,
  entry: PrincipalEntry | null,
): PrincipalEntry[] {
  const out = list.filter((e) => e.id !== id);
  if (entry !== null) out.push(entry);
  return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** The state after one valid action (§6.5). */
export function applyAction(content: GovernedContent, action: ActionRecord): GovernedContent {
  const a = action.record;
  const subject = a.subject as string;
  const entry = (keyState: Uint8Array | undefined): PrincipalEntry =>
    keyState === undefined ? { id: subject } : { id: subject, keyState };
  switch (a.kind) {
    case 'validator-admission':
      return {
        ...content,
        validators: replaceEntry(content.validators, subject, entry(a.keyState)),
      };
    case 'validator-removal':
      return { ...content, validators: replaceEntry(content.validators, subject, null) };
    case 'identity-rotation': {
      const repin = (list: readonly PrincipalEntry[]) =>
        list.some((e) => e.id === subject) ? replaceEntry(list, subject, entry(a.keyState)) : list;
      return { ...content, members: repin(content.members), validators: repin(content.validators) };
    }
    case 'identity-revocation':
      return { ...content, revoked: new Set([...content.revoked, subject]) };
    case 'protocol-upgrade':
      return { ...content, protocolVersions: a.protocolVersions as readonly number[] };
    case 'policy-change':
      return { ...content, trustPolicy: a.trustPolicy as TrustPolicy };
  }
}

export type ActionStanding = 'applied' | 'superseded' | 'frozen' | 'waiting' | 'refused';

export interface ActionView {
  readonly standing: ActionStanding;
  readonly reason?: GovRejection;
  /** The copy that was judged (the applied one when applied). */
  readonly copy: ActionRecord;
}

/** Orders actions for the fold: by signed time, then id. */
export function byTimeThenId(a: ActionRecord, b: ActionRecord): number {
  if (a.record.createdAt !== b.record.createdAt) return a.record.createdAt - b.record.createdAt;
  return a.idHex < b.idHex ? -1 : a.idHex > b.idHex ? 1 : 0;
}

export interface ActionsState {
  readonly content: GovernedContent;
  /** Ids of the applied actions, in the order applied. */
  readonly applied: readonly string[];
  readonly views: ReadonlyMap<string, ActionView>;
  /** The last action the fold judged (applied or refused), or null: what a later action extends. */
  readonly lastInFold: ActionRecord | null;
}

/**
 * Judges every action held (copies grouped by id) against the chain, and folds the valid
 * actions that name the root in force into its content.
 */
export function resolveActions(
  chain: ChainState,
  actions: Iterable<ActionRecord>,
  lookup: IdentityLookup,
): ActionsState {
  const copies = new Map<string, ActionRecord[]>();
  for (const a of [...actions].sort(byIdThenSigners))
    copies.set(a.idHex, [...(copies.get(a.idHex) ?? []), a]);
  const views = new Map<string, ActionView>();
  const onChain = new Set(chain.chain.map((r) => r.idHex));
  const forTip: ActionRecord[][] = [];
  for (const [id, list] of copies) {
    const first = list[0] as ActionRecord;
    const rootId = toHex(first.record.root);
    const root = chain.attached.get(rootId);
    if (root === undefined) {
      views.set(id, {
        standing: 'waiting',
        copy: first,
        reason: govReject(GovReason.UNKNOWN_ROOT, `root ${rootId} is not attached here`),
      });
      continue;
    }
    const dates = checkActionDates(first, root);
    if (!dates.ok) {
      views.set(id, {
        standing: 'refused',
        copy: first,
        reason: govReject(dates.reason, dates.detail),
      });
      continue;
    }
    if (rootId === chain.tip.idHex && chain.status === 'active') {
      forTip.push(list);
      continue;
    }
    // Under a superseded or forked root: judged against that root's own content, copy by copy.
    let passing: ActionRecord | undefined;
    let failure: GovRejection | undefined;
    for (const copy of list) {
      const v = checkActionAgainstRoot(copy, root, lookup);
      if (v.ok) {
        passing = copy;
        break;
      }
      failure ??= govReject(v.reason, v.detail);
    }
    if (passing === undefined) {
      views.set(id, { standing: 'refused', copy: first, reason: failure as GovRejection });
    } else if (onChain.has(rootId) && rootId !== chain.tip.idHex) {
      views.set(id, {
        standing: 'superseded',
        copy: passing,
        reason: govReject(GovReason.STALE_ROOT, `root ${rootId} was superseded`),
      });
    } else {
      views.set(id, {
        standing: 'frozen',
        copy: passing,
        reason: govReject(GovReason.ROOT_FORKED, `root ${rootId} is at or beyond a fork`),
      });
    }
  }
  forTip.sort((x, y) => byTimeThenId(x[0] as ActionRecord, y[0] as ActionRecord));
  let content = contentOf(chain.tip);
  const applied: string[] = [];
  const lastInFold =
    forTip.length === 0 ? null : ((forTip[forTip.length - 1] as ActionRecord[])[0] as ActionRecord);
  for (const list of forTip) {
    let failure: GovRejection | undefined;
    let done = false;
    for (const copy of list) {
      const v = actionTally(copy, content, lookup).verdict;
      if (v.ok) {
        content = applyAction(content, copy);
        applied.push(copy.idHex);
        views.set(copy.idHex, { standing: 'applied', copy });
        done = true;
        break;
      }
      failure ??= v;
    }
    const first = list[0] as ActionRecord;
    if (!done)
      views.set(first.idHex, { standing: 'refused', copy: first, reason: failure as GovRejection });
  }
  return { content, applied, views, lastInFold };
}

/**
 * The hot path: a new action (no copy of it held) that names the root in force of an active chain
 * and comes after every action the fold judged. Then the fold so far is unchanged and the action is
 * judged against its result: exactly what {@link resolveActions} would give, without redoing it.
 * Null when the shortcut does not apply.
 */
export function extendFold(
  chain: ChainState,
  state: ActionsState,
  action: ActionRecord,
  lookup: IdentityLookup,
): ActionsState | null {
  if (
    chain.status !== 'active' ||
    toHex(action.record.root) !== chain.tip.idHex ||
    state.views.has(action.idHex)
  )
    return null;
  if (state.lastInFold !== null && byTimeThenId(state.lastInFold, action) >= 0) return null;
  const views = new Map(state.views);
  const dates = checkActionDates(action, chain.tip);
  if (!dates.ok) {
    views.set(action.idHex, {
      standing: 'refused',
      copy: action,
      reason: govReject(dates.reason, dates.detail),
    });
    return { ...state, views };
  }
  const v = actionTally(action, state.content, lookup).verdict;
  if (!v.ok) {
    views.set(action.idHex, { standing: 'refused', copy: action, reason: v });
    return { ...state, views, lastInFold: action };
  }
  views.set(action.idHex, { standing: 'applied', copy: action });
  return {
    content: applyAction(state.content, action),
    applied: [...state.applied, action.idHex],
    views,
    lastInFold: action,
  };
}

/** The validators in force: admitted and not revoked. */
export function validatorsInForce(content: GovernedContent): PrincipalEntry[] {
  return content.validators.filter((v) => !content.revoked.has(v.id));
}

/** The members in force: the root's, as re-pinned, and not revoked. */
export function membersInForce(content: GovernedContent): PrincipalEntry[] {
  return content.members.filter((m) => !content.revoked.has(m.id));
}
