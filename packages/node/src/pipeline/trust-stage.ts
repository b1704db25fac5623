/**
 * Trust under a trust root in the running node (spec/GOVERNANCE.md §8, §9): the commit block's
 * step 8 asks the governance's verdict; an event it refuses is **held** (bounded), because a
 * later attestation, root or action may trust its author at the event's signed time; and when
 * governance changes, every unexpired stored event is judged again, a page per transaction with
 * one `critical` audit entry listing what turned. Events no longer trusted stay stored as
 * evidence and count nowhere (GET answers 410), as events a key event invalidated do
 * (identity-stage.ts, which this follows). So the stored verdicts depend on the set of records
 * and events received, not on their order, as long as no bound is reached.
 */
import type { AuditRecord } from '../audit/index.js';
import { Reason, toHex, type VerifiedEvent } from '../protocol/index.js';
import type {
  IdentityEventRow,
  Store,
  TrustStanding,
  TrustStandingChange,
} from '../storage/index.js';
import { type Held, type HeldBounds, HeldEvents } from './held-events.js';
import type { IdentityStage } from './identity-stage.js';
import type { GovernedTrust } from './pipeline.js';
import type { Prepared } from './prepare.js';
import { brandVerified } from './verified.js';

/** Local resource bounds (not consensus: reaching one only drops a local hold). */
export interface TrustStageBounds extends HeldBounds {
  /** Stored events judged again per transaction. */
  readonly pageSize: number;
}

export const DEFAULT_TRUST_STAGE_BOUNDS: TrustStageBounds = Object.freeze({
  maxHeldEvents: 4_096,
  maxHeldBytes: 16 * 1024 * 1024,
  maxHeldPerAuthor: 256,
  pageSize: 256,
});

/** What one pass of re-evaluation did. */
export interface TrustReevaluation {
  invalidated: number;
  revalidated: number;
  /** Held events accepted. */
  accepted: number;
}

type HeldEvent = Held<Prepared>;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface TrustStageOptions {
  readonly store: Store;
  readonly governed: GovernedTrust;
  readonly identity: IdentityStage;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly bounds?: Partial<TrustStageBounds>;
}

export class TrustStage implements GovernedTrust {
  readonly bounds: TrustStageBounds;
  private readonly held: HeldEvents<Prepared>;
  /** Causes waiting for a pass (a pass judges everything, so they are coalesced). */
  private pendingCauses: string[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  readonly totals: TrustReevaluation = { invalidated: 0, revalidated: 0, accepted: 0 };
  /**
   * Called with the canonical CBOR of held events a record made trusted, once their page is
   * committed (the network announces them: they joined without a verdict of its own).
   */
  onAccepted: ((encoded: readonly Uint8Array[]) => void) | undefined;
  /**
   * Called after each committed page with what turned: the ids of the events no longer trusted,
   * and the canonical CBOR of those trusted again (the network withdraws and announces them).
   */
  onTurned:
    | ((turned: { invalidated: readonly Uint8Array[]; revalidated: readonly Uint8Array[] }) => void)
    | undefined;

  /** Judges every unexpired stored event once (finishing a pass a crash interrupted). */
  constructor(private readonly opts: TrustStageOptions) {
    this.bounds = { ...DEFAULT_TRUST_STAGE_BOUNDS, ...opts.bounds };
    this.held = new HeldEvents(this.bounds);
    let after = 0;
    for (;;) {
      const next = this.judgePage('start', after, []);
      if (next === undefined) break;
      after = next;
    }
  }

  verdict(author: string, kind: string, createdAt: number) {
    return this.opts.governed.verdict(author, kind, createdAt);
  }

  /** Holds an event step 8 refused, unless a bound is reached. Returns whether it is held. */
  hold(event: Prepared): boolean {
    return this.held.hold(event, Reason.UNTRUSTED_AUTHOR);
  }

  /** An event was stored: a held copy of it is no longer needed. */
  stored(idHex: string): void {
    this.held.release(idHex);
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Drops held events that expired. */
  pruneHeld(nowSeconds: number): void {
    this.held.prune(nowSeconds);
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Governance changed (`cause`: the record's id, or `refresh`): judges held and stored events
   * again, a page at a time, other work running between pages. Resolves when no pass is due.
   */
  async reevaluate(cause: string): Promise<void> {
    this.pendingCauses.push(cause);
    while (this.pendingCauses.length > 0 && !this.stopped) {
      if (this.running === undefined) {
        this.running = this.pass().finally(() => {
          this.running = undefined;
        });
      }
      await this.running;
    }
  }

  private async pass(): Promise<void> {
    const cause = this.pendingCauses.length === 1 ? (this.pendingCauses[0] as string) : 'several';
    this.pendingCauses = [];
    const revived = this.reviveHeld();
    let after = this.judgePage(cause, 0, revived);
    while (after !== undefined && !this.stopped) {
      await yieldToEventLoop();
      after = this.judgePage(cause, after, []);
    }
  }

  /**
   * One page of stored events after `after` judged again (with `revived` held events to
   * accept), in one transaction; the next page's start, or undefined when this was the last.
   */
  private judgePage(cause: string, after: number, revived: HeldEvent[]): number | undefined {
    const nowSeconds = Math.floor(this.opts.now() / 1000);
    const rows = this.opts.store.governance.page(after, nowSeconds, this.bounds.pageSize);
    const { changes, invalidated, revalidated } = this.judge(rows, cause);
    if (changes.length > 0 || revived.length > 0)
      this.commitPage(cause, changes, invalidated, revalidated, revived);
    const last = rows[rows.length - 1];
    return last === undefined || rows.length < this.bounds.pageSize ? undefined : last.seq;
  }

  private judge(rows: readonly TrustStanding[], cause: string) {
    const changes: TrustStandingChange[] = [];
    const invalidated: { id: string; reason: string }[] = [];
    const revalidated: string[] = [];
    for (const r of rows) {
      const v = this.verdict(r.author, r.kind, r.createdAt);
      const reason = v.trusted ? null : v.reason;
      if (reason === r.invalidReason) continue;
      const idHex = toHex(r.id);
      changes.push({
        seq: r.seq,
        invalidReason: reason,
        invalidBy: reason === null ? null : cause,
      });
      if (reason === null) revalidated.push(idHex);
      else invalidated.push({ id: idHex, reason });
    }
    return { changes, invalidated, revalidated };
  }

  private commitPage(
    cause: string,
    standings: TrustStandingChange[],
    invalidated: { id: string; reason: string }[],
    revalidated: string[],
    revived: HeldEvent[],
  ): void {
    const record: AuditRecord = {
      type: 'critical',
      eventId: /^[0-9a-f]{64}$/.test(cause) ? Buffer.from(cause, 'hex') : null,
      reason: null,
      detail: {
        trust: 'reevaluated',
        cause,
        invalidated,
        revalidated,
        accepted: revived.map((h) => h.idHex),
      },
    };
    const accepted: VerifiedEvent[] = revived.map(({ event, idHex }) =>
      brandVerified(event, idHex),
    );
    const identityRows: IdentityEventRow[] = [];
    revived.forEach((h, index) => {
      if (h.event.identity !== undefined)
        identityRows.push({ index, keyState: h.event.identity.keyState });
    });
    this.opts.store.commit(accepted, [record], {
      ...(identityRows.length > 0 ? { identity: { events: identityRows } } : {}),
      governance: { standings },
    });
    for (const h of revived) {
      this.held.release(h.idHex);
      this.opts.identity.stored(h.idHex);
    }
    if (accepted.length > 0) this.onAccepted?.(accepted.map((e) => e.encoded));
    if (invalidated.length > 0 || revalidated.length > 0) {
      this.onTurned?.({
        invalidated: invalidated.map((i) => Buffer.from(i.id, 'hex')),
        revalidated: revalidated.flatMap((id) => {
          const stored = this.opts.store.getEvent(id);
          return stored === undefined ? [] : [stored.encoded];
        }),
      });
    }
    this.totals.invalidated += invalidated.length;
    this.totals.revalidated += revalidated.length;
    this.totals.accepted += revived.length;
  }

  /**
   * Held events now trusted (and, for an identity's event, valid under its key state): accepted
   * unless expired or their (author, nonce) was used meanwhile (then dropped, as §7 step 5 would
   * refuse or dedupe them). Ids ascending, so the outcome does not depend on arrival order.
   */
  private reviveHeld(): HeldEvent[] {
    const nowSeconds = Math.floor(this.opts.now() / 1000);
    const candidates: HeldEvent[] = [];
    for (const h of this.held.inIdOrder()) {
      const e = h.event;
      if (e.expiresAt <= nowSeconds) {
        this.held.release(h.idHex);
        continue;
      }
      if (!this.verdict(e.author, e.kind, e.createdAt).trusted) continue;
      if (e.identity !== undefined) {
        const v = this.opts.identity.verdict(
          e as Prepared & { identity: NonNullable<Prepared['identity']> },
        );
        if (!v.ok) continue;
      }
      candidates.push(h);
    }
    return this.held.acceptable(candidates, this.opts.store);
  }
}
