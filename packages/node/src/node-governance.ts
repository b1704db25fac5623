/**
 * The node's {@link GovernanceService} (spec/GOVERNANCE.md): one {@link Governance} held on the
 * main thread, where the commit block reads its trust verdicts. Records come in as the bytes of
 * their JSON text, are judged (§7), and what the held set gained or lost is stored with its
 * audit entries in one transaction: one `critical` entry per record held, one when the root in
 * force changes, one when a fork is found, one when the standings of actions change. Refusals are
 * counted rejections (spec/AUDIT.md §4). Work is bounded: records per second, the core's bounds
 * on what is held, the trust query's bound.
 *
 * The anchor (the root a node was given) is configuration, not a row: a node started with one
 * replays `governance_records`; a node that stored roots or actions refuses to start without it.
 */
import type { Core } from '@commons-sync/bindings';

import type { AuditRecord } from './audit/index.js';
import { GovernanceRateError, GovernanceRootError } from './errors.js';
import {
  type DecodedRecord,
  decodeRecord,
  Governance,
  type GovernanceViewJson,
  type GovResult,
  governanceViewToJson,
  type IdentityLookup,
  proposalStatusToJson,
  type RecordType,
  readRecordJson,
  recordToJson,
  type SubmitOutcome,
  signerSetOf,
  type TrustExplanationJson,
  type TrustVerdict,
  trustExplanationToJson,
  type VerifiedRecord,
  validatorsInForce,
  verifyRecord,
  verifyRecords,
} from './governance/index.js';
import type { ProposalStatusJson } from './governance/proposal-json.js';
import { toHex } from './protocol/index.js';
import type { GovernanceResult, GovernanceService, GovernanceStateJson } from './service.js';
import {
  type GovernanceRow,
  type GovernanceWrites,
  type Store,
  StoreInconsistentError,
} from './storage/index.js';

/** Records the node takes per second, by default (a local bound: each costs a verification). */
export const DEFAULT_GOVERNANCE_RATE = 100;
/** Standing changes listed in one audit entry; the rest are counted. */
const MAX_LISTED_CHANGES = 256;

export interface NodeGovernanceOptions {
  readonly core: Core;
  readonly store: Store;
  /** The JSON text of the root the node was given, or undefined: open mode. */
  readonly anchor: Uint8Array | undefined;
  readonly lookup: IdentityLookup;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly skewSeconds: number;
  /** Records taken per second (default {@link DEFAULT_GOVERNANCE_RATE}). */
  readonly maxRecordsPerSecond?: number;
  /**
   * Called (and awaited) after anything that may change trust verdicts or the validators in
   * force, with its cause (a record's id, or `refresh`).
   */
  readonly onChange?: (cause: string) => Promise<void> | void;
}

const copyKey = (idHex: string, signers: string): string => `${idHex} ${signers}`;

/** A stored copy: its row key, and its item in the sync set (spec/SYNC.md §6.6). */
interface StoredCopy {
  readonly id: Uint8Array;
  readonly signers: string;
  /** SHA-256 of the copy's canonical CBOR, in hex: its id in the sync set. */
  readonly item: string;
}

/** A stored copy as the sync set carries it. */
export interface GovernanceSyncItem {
  readonly id: Uint8Array;
  readonly createdAt: number;
  readonly encoded: Uint8Array;
}

/** The anchor from the JSON text of a root record: decoded, verified, able to govern. */
function governanceOf(opts: NodeGovernanceOptions): Governance {
  const { core, anchor, lookup } = opts;
  if (anchor === undefined) return Governance.open(lookup);
  const fail = (code: string, detail: string): never => {
    throw new GovernanceRootError(code, `the trust root this node was given: ${detail}`);
  };
  const decoded = readRecordJson(core, anchor);
  if (!decoded.ok) return fail(decoded.reason, decoded.detail);
  if (decoded.value.record.type !== 'root')
    return fail('ERR_GOV_NOT_A_ROOT', `a ${decoded.value.record.type} record, not a root`);
  const verified = verifyRecord(core, decoded.value);
  if (!verified.ok) return fail(verified.reason, verified.detail);
  const g = Governance.create(verified.value, lookup);
  if (!g.ok) return fail(g.reason, g.detail);
  return g.value;
}

export class NodeGovernance implements GovernanceService {
  private g: Governance;
  /** The copies stored in `governance_records`, by `copyKey`. */
  private storedCopies = new Map<string, StoredCopy>();
  /** The stored copies by their sync-set id (hex). */
  private items = new Map<string, GovernanceSyncItem>();
  /** Called once durable with the copies that joined the stored set (to announce them). */
  onJoined: ((encoded: readonly Uint8Array[]) => void) | undefined;
  /** Called once durable with the sync-set ids of the copies that left it. */
  onLeft: ((ids: readonly Uint8Array[]) => void) | undefined;
  private readonly rate: number;
  private second = -1;
  private inSecond = 0;
  /** Submissions refused for the rate, for metrics. */
  rateRefused = 0;
  private readonly listeners = new Set<() => void>();
  private validatorsOf: { view: object; ids: ReadonlySet<string> } | undefined;

  constructor(private readonly opts: NodeGovernanceOptions) {
    this.rate = opts.maxRecordsPerSecond ?? DEFAULT_GOVERNANCE_RATE;
    this.g = this.rebuild();
  }

  get mode(): 'open' | 'governed' {
    return this.g.mode;
  }

  /** The id of the root in force (governed mode). */
  get rootId(): string | undefined {
    return this.g.view?.chain.tip.idHex;
  }

  get governance(): Governance {
    return this.g;
  }

  /** Records held (stored rows). */
  get heldCount(): number {
    return this.storedCopies.size;
  }

  /**
   * Whether `did` may connect as a peer (spec/SYNC.md §3.3 under a root): a validator in force
   * of the root in force (at a fork, the fork point's). Open mode admits by `--admit` instead.
   */
  admitsPeer(did: string): boolean {
    const view = this.g.view;
    if (view === null) return false;
    if (this.validatorsOf?.view !== view)
      this.validatorsOf = {
        view,
        ids: new Set(validatorsInForce(view.actions.content).map((v) => v.id)),
      };
    return this.validatorsOf.ids.has(did);
  }

  /**
   * What an operator must act on: `forked` (two valid successors of one root: governance is
   * frozen at the fork point, recovery is a new anchor) and `expired` (the root in force is past
   * its `expires_at`: no critical action dated from then on counts). Nothing in the core reads
   * the clock, so the node asks with its own.
   */
  alerts(nowSeconds: number): Array<'forked' | 'expired'> {
    const view = this.g.view;
    if (view === null) return [];
    const out: Array<'forked' | 'expired'> = [];
    if (view.chain.status === 'forked') out.push('forked');
    if (nowSeconds >= view.chain.tip.record.expiresAt) out.push('expired');
    return out;
  }

  /** Calls `listener` after each change of the governed state (peer admission rechecks). */
  onChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The trust verdict the commit block asks for (step 8): author, scope = kind, signed time. */
  verdict(author: string, kind: string, createdAt: number): TrustVerdict {
    return this.g.verdict(author, kind, createdAt);
  }

  /** The governance built from the anchor and the stored records (at start, or after a failed commit). */
  private rebuild(): Governance {
    const g = governanceOf(this.opts);
    const rows = this.opts.store.governance.all();
    if (g.mode === 'open' && rows.some((r) => r.type === 'root' || r.type === 'action')) {
      throw new GovernanceRootError(
        'ERR_GOV_ROOT_REQUIRED',
        'this node holds trust roots and critical actions: start it with its trust root (--root FILE)',
      );
    }
    const decoded = rows.map((r) => {
      const d = decodeRecord(this.opts.core, r.encoded);
      if (!d.ok)
        throw new StoreInconsistentError(
          `governance record ${toHex(r.id)} no longer decodes: ${d.reason}`,
        );
      return d.value;
    });
    const verified = verifyRecords(this.opts.core, decoded).map((v, i) => {
      if (!v.ok)
        throw new StoreInconsistentError(
          `governance record ${(decoded[i] as { idHex: string }).idHex} no longer verifies: ${v.reason}`,
        );
      return v.value;
    });
    g.load(verified);
    this.storedCopies = new Map();
    this.items = new Map();
    for (const r of rows) this.remember(r);
    return g;
  }

  private remember(r: GovernanceRow): Uint8Array {
    const item = this.opts.core.sha256(r.encoded);
    const hex = toHex(item);
    this.storedCopies.set(copyKey(toHex(r.id), r.signers), {
      id: r.id,
      signers: r.signers,
      item: hex,
    });
    this.items.set(hex, { id: item, createdAt: r.createdAt, encoded: r.encoded });
    return item;
  }

  /** The stored copies as items of the sync set: they never expire (spec/SYNC.md §6.6). */
  syncItems(): Iterable<GovernanceSyncItem> {
    return this.items.values();
  }

  /** The canonical CBOR of the stored copy with this sync-set id, if any. */
  encodedItem(id: Uint8Array): Uint8Array | undefined {
    return this.items.get(toHex(id))?.encoded;
  }

  record(idHex: string): readonly unknown[] | undefined {
    const copies = this.g.held().filter((r) => r.idHex === idHex);
    return copies.length === 0 ? undefined : copies.map((r) => recordToJson(r.record));
  }

  state(): GovernanceStateJson {
    const view = this.g.view;
    return view === null ? { mode: 'open' } : { mode: 'governed', ...governanceViewToJson(view) };
  }

  explain(did: string, scope: string, at: number): TrustExplanationJson {
    return trustExplanationToJson(this.g.explain(did, scope, at));
  }

  proposalStatus(bytes: Uint8Array): ProposalStatusJson | GovernanceResult {
    const d = readRecordJson(this.opts.core, bytes);
    if (!d.ok) return { status: 'rejected', reason: d.reason, detail: d.detail };
    const v = verifyRecord(this.opts.core, d.value);
    if (!v.ok) return { status: 'rejected', id: d.value.idHex, reason: v.reason, detail: v.detail };
    const s = this.g.proposalStatus(v.value);
    if (!s.ok) return { status: 'rejected', id: d.value.idHex, reason: s.reason, detail: s.detail };
    return proposalStatusToJson(s.value);
  }

  /** Judges one record (its JSON text), stores what the held set gained or lost, with audit entries. */
  async submit(bytes: Uint8Array): Promise<GovernanceResult> {
    this.takeRate();
    return this.judge(readRecordJson(this.opts.core, bytes));
  }

  /**
   * Judges one record a peer sent, on exactly its canonical CBOR (spec/SYNC.md §6.6): the same
   * path and rate as {@link submit}. Past the rate it is refused with `ERR_GOV_RATE` (local: the
   * peer pays nothing; the next reconciliation offers it again). A copy judged `accepted` that
   * was not stored (another copy of the record counts) is answered `duplicate`.
   */
  async submitFromPeer(bytes: Uint8Array): Promise<GovernanceResult> {
    try {
      this.takeRate();
    } catch (error) {
      if (error instanceof GovernanceRateError)
        return { status: 'rejected', reason: GovernanceRateError.code, detail: error.message };
      throw error;
    }
    const result = await this.judge(decodeRecord(this.opts.core, bytes));
    // held as a record, but this copy was not stored (another copy of it counts already): the
    // node has nothing of these bytes to serve, so it must not enter the sync set
    if (result.status === 'accepted' && !this.items.has(toHex(this.opts.core.sha256(bytes))))
      return { status: 'duplicate', id: result.id };
    return result;
  }

  private async judge(d: GovResult<DecodedRecord>): Promise<GovernanceResult> {
    const { core } = this.opts;
    if (!d.ok) {
      this.commit([{ type: 'reject', reason: d.reason, detail: { detail: d.detail } }]);
      return { status: 'rejected', reason: d.reason, detail: d.detail };
    }
    const before = this.viewJson();
    const nowSeconds = Math.floor(this.opts.now() / 1000);
    const [outcome] = this.g.submit(core, [d.value], nowSeconds, this.opts.skewSeconds) as [
      SubmitOutcome,
    ];
    if (!outcome.ok) {
      this.commit([
        {
          type: 'reject',
          eventId: d.value.id,
          reason: outcome.reason,
          detail: { detail: outcome.detail },
        },
      ]);
      return {
        status: 'rejected',
        id: d.value.idHex,
        reason: outcome.reason,
        detail: outcome.detail,
      };
    }
    if (outcome.outcome === 'duplicate') return { status: 'duplicate', id: outcome.id };
    const type: RecordType = d.value.record.type;
    const records: AuditRecord[] = [
      {
        type: 'critical',
        eventId: d.value.id,
        reason: outcome.reason?.reason ?? null,
        detail: {
          governance: 'held',
          type,
          standing: outcome.standing,
          signers: signerSetOf(d.value).split(' '),
          encodedHash: toHex(core.sha256(d.value.encoded)),
        },
      },
      ...this.changes(before, this.viewJson(), d.value.idHex),
    ];
    try {
      this.commit(records, this.heldDiff());
    } catch (error) {
      this.g = this.rebuild(); // the governance as the store holds it: nothing of this joined
      throw error;
    }
    await this.opts.onChange?.(outcome.id);
    for (const listener of this.listeners) listener();
    return {
      status: 'accepted',
      id: outcome.id,
      type,
      standing: outcome.standing,
      ...(outcome.reason === undefined
        ? {}
        : { reason: outcome.reason.reason, detail: outcome.reason.detail }),
    };
  }

  /**
   * After a key event joined: verdicts that read did:cs identity states may turn. Writes what
   * changed (held set, standings) with its audit entries.
   */
  async refresh(): Promise<void> {
    const before = this.viewJson();
    this.g.refresh();
    const records = this.changes(before, this.viewJson(), undefined);
    const writes = this.heldDiff();
    if (records.length > 0 || writes !== undefined) {
      try {
        this.commit(records, writes);
      } catch (error) {
        this.g = this.rebuild();
        throw error;
      }
    }
    await this.opts.onChange?.('refresh');
    for (const listener of this.listeners) listener();
  }

  private viewJson(): GovernanceViewJson | null {
    const view = this.g.view;
    return view === null ? null : governanceViewToJson(view);
  }

  /** Audit records for what changed in the governed state between two views (§6). */
  private changes(
    before: GovernanceViewJson | null,
    after: GovernanceViewJson | null,
    except: string | undefined,
  ): AuditRecord[] {
    if (before === null || after === null) return [];
    const out: AuditRecord[] = [];
    if (before.root.id !== after.root.id) {
      out.push({
        type: 'critical',
        eventId: Buffer.from(after.root.id, 'hex'),
        detail: {
          governance: 'root-in-force',
          from: before.root.id,
          to: after.root.id,
          version: after.root.version,
        },
      });
    }
    if (before.fork === null && after.fork !== null) {
      out.push({
        type: 'critical',
        reason: 'ERR_GOV_ROOT_FORKED',
        detail: { governance: 'fork', ...after.fork },
      });
    }
    const was = new Map<string, string>();
    for (const r of [...before.roots, ...before.actions]) was.set(r.id, r.standing);
    const changed: Array<{ id: string; from: string | null; to: string }> = [];
    for (const r of [...after.roots, ...after.actions]) {
      if (r.id === except) continue;
      const from = was.get(r.id) ?? null;
      if (from !== r.standing) changed.push({ id: r.id, from, to: r.standing });
    }
    if (changed.length > 0) {
      out.push({
        type: 'critical',
        detail: {
          governance: 'standings',
          changed: changed.slice(0, MAX_LISTED_CHANGES),
          more: Math.max(0, changed.length - MAX_LISTED_CHANGES),
        },
      });
    }
    return out;
  }

  /** What `held()` gained or lost since the last write, as table writes (undefined: nothing). */
  private heldDiff(): GovernanceWrites | undefined {
    const held = new Map<string, VerifiedRecord>();
    for (const r of this.g.held()) held.set(copyKey(r.idHex, signerSetOf(r)), r);
    const add: GovernanceRow[] = [];
    for (const [key, r] of held) {
      if (this.storedCopies.has(key)) continue;
      add.push({
        id: r.id,
        signers: signerSetOf(r),
        type: r.record.type,
        createdAt: r.record.createdAt,
        encoded: r.encoded,
      });
    }
    const remove = [...this.storedCopies].filter(([key]) => !held.has(key)).map(([, v]) => v);
    if (add.length === 0 && remove.length === 0) return undefined;
    return { add, remove };
  }

  private commit(records: readonly AuditRecord[], writes?: GovernanceWrites): void {
    this.opts.store.commit([], records, writes === undefined ? {} : { governance: writes });
    const left: Uint8Array[] = [];
    for (const r of writes?.remove ?? []) {
      const key = copyKey(toHex(r.id), r.signers);
      const copy = this.storedCopies.get(key);
      if (copy === undefined) continue;
      this.storedCopies.delete(key);
      const item = this.items.get(copy.item);
      this.items.delete(copy.item);
      if (item !== undefined) left.push(item.id);
    }
    const joined: Uint8Array[] = [];
    for (const r of writes?.add ?? []) {
      this.remember(r);
      joined.push(r.encoded);
    }
    // durable now: the network carries what joined and stops offering what left
    if (left.length > 0) this.onLeft?.(left);
    if (joined.length > 0) this.onJoined?.(joined);
  }

  private takeRate(): void {
    const ms = this.opts.now();
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.inSecond = 0;
    }
    if (this.inSecond >= this.rate) {
      this.rateRefused += 1;
      throw new GovernanceRateError(
        `more than ${this.rate} governance records in one second; retry later`,
        1000 - (ms % 1000),
      );
    }
    this.inSecond += 1;
  }
}
