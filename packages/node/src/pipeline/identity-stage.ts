/**
 * Identities in the running node (spec/IDENTITY.md): the key event logs of every identity the
 * node knows, the identity verdict of the commit block (spec/PROTOCOL.md §7 step 7 for an
 * author that is a did:cs), events held back by that verdict, and re-evaluation.
 *
 * Everything here runs on the main thread, because key events change what later verdicts say:
 *
 * - `verdict` is the commit block's hook: one map lookup and two comparisons per event;
 * - an event the verdict refuses for a reason a later key event can undo is **held** (bounded:
 *   {@link IdentityStageBounds}), and accepted if a key event makes it valid before it expires;
 * - when a key event joins a log (`key-events.ts`), the stored events naming a key state whose
 *   standing changed (`affectedKeyStates`) are judged again, a page at a time, each page one
 *   transaction with one `critical` audit entry listing what turned: invalidated events stay
 *   stored as evidence and count as valid nowhere; a veto can revalidate them.
 *
 * So the stored verdicts depend on the set of key events and events received, not on their
 * order (spec/IDENTITY.md §8, §10), as long as no bound is reached.
 */
import type { Core } from '@commons-sync/bindings';

import type { AuditRecord } from '../audit/index.js';
import { CorruptEventError } from '../errors.js';
import {
  checkKeyStateStanding,
  DEFAULT_REGISTRY_BOUNDS,
  decodeKeyEvent,
  IdentityRegistry,
  type IdentityState,
  type KelCheck,
  KelReason,
  type RegistryBounds,
  resolveAuthor,
  type VerifiedKeyEvent,
  verdictAt,
  verifyKeyEvents,
} from '../identity/index.js';
import { toHex, type VerifiedEvent } from '../protocol/index.js';
import type { IdentityStanding, StandingChange, Store } from '../storage/index.js';
import { type Held, type HeldBounds, HeldEvents } from './held-events.js';
import type { Prepared } from './prepare.js';
import { brandVerified } from './verified.js';

/** Local resource bounds (not consensus; reaching one only delays or drops a local hold). */
export interface IdentityStageBounds extends HeldBounds {
  /** Stored events judged again per transaction during re-evaluation. */
  readonly pageSize: number;
  /** The key event logs' own bounds (spec/IDENTITY.md §4): escrow, contestants, events. */
  readonly kel: RegistryBounds;
}

export const DEFAULT_IDENTITY_BOUNDS: IdentityStageBounds = Object.freeze({
  maxHeldEvents: 4_096,
  maxHeldBytes: 16 * 1024 * 1024,
  maxHeldPerAuthor: 256,
  pageSize: 256,
  kel: DEFAULT_REGISTRY_BOUNDS,
});

/**
 * Refusals no later key event can undo: the key states' keys and threshold, and when each
 * takes effect, are fixed by its id. Events refused for these are not held.
 */
const FINAL_FOR_EVENT: ReadonlySet<string> = new Set([
  KelReason.THRESHOLD_NOT_MET,
  KelReason.BEFORE_KEY_STATE,
]);

/** An event by an identity (one the identity verdict can refuse). */
type IdentityEvent = Prepared & { readonly identity: NonNullable<Prepared['identity']> };
/** An event the identity verdict refused, kept in case a key event makes it valid. */
type HeldEvent = Held<IdentityEvent>;

/** What re-evaluation did for one key event. */
export interface Reevaluation {
  invalidated: number;
  revalidated: number;
  /** Held events accepted. */
  accepted: number;
}

interface Job {
  readonly identity: string;
  readonly keyStates: readonly string[];
  /** The key event (hex id) that caused it, or `start`. */
  readonly cause: string;
  /** Stored events are judged in seq order; the last seq judged. */
  after: number;
  heldDone: boolean;
  readonly counts: Reevaluation;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface IdentityStageOptions {
  readonly core: Core;
  readonly store: Store;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly bounds?: Partial<Omit<IdentityStageBounds, 'kel'>> & {
    readonly kel?: Partial<RegistryBounds>;
  };
}

export class IdentityStage {
  registry: IdentityRegistry;
  readonly bounds: IdentityStageBounds;
  private readonly core: Core;
  private readonly store: Store;
  private readonly now: () => number;
  private readonly held: HeldEvents<IdentityEvent>;
  private readonly jobs: Job[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  /**
   * Called with the canonical CBOR of held events a key event made valid, once their page is
   * committed (the network announces them: they joined without a verdict of its own).
   */
  onAccepted: ((encoded: readonly Uint8Array[]) => void) | undefined;
  /**
   * Called after each committed page with what turned: the ids of the events invalidated, and
   * the canonical CBOR of those valid again (the network withdraws and announces them).
   */
  onTurned:
    | ((turned: { invalidated: readonly Uint8Array[]; revalidated: readonly Uint8Array[] }) => void)
    | undefined;

  /**
   * Rebuilds every key event log from the store (each stored key event decodes, verifies and
   * joins again: ERR_CORRUPT_EVENT otherwise), then judges every unexpired stored event of an
   * identity against it, which finishes a re-evaluation a crash interrupted.
   */
  constructor(opts: IdentityStageOptions) {
    this.core = opts.core;
    this.store = opts.store;
    this.now = opts.now;
    this.bounds = {
      ...DEFAULT_IDENTITY_BOUNDS,
      ...opts.bounds,
      kel: { ...DEFAULT_REGISTRY_BOUNDS, ...opts.bounds?.kel },
    };
    this.held = new HeldEvents(this.bounds);
    this.registry = this.rebuild();
    this.recheckStored();
  }

  // -------------------------------------------------------------------------------------------
  // The commit block's hooks (pipeline.ts)

  /**
   * §7 step 7 for an author that is an identity: spec/IDENTITY.md §8 against its state
   * (`checkIdentityAuthor`). Its lookups (the identity, the key state, the signers against
   * its keys) hold until a key event is offered to the registry (its version, never the same
   * in two registries), so they are kept on the event's claim, which the events naming the
   * same key state, author and signers share from one chunk to the next (prepare.ts). Per
   * event, then, the window's two comparisons. (In a running node each lookup on an
   * identity's state cost about 1 µs: its objects are out of the caches after the commit's
   * SQLite work.)
   */
  verdict(event: Prepared & { readonly identity: NonNullable<Prepared['identity']> }): KelCheck {
    const claim = event.identity;
    const registry = this.registry;
    const kept = claim.resolved;
    if (
      kept !== undefined &&
      kept.version === registry.version &&
      kept.lookups.author === event.author
    )
      return verdictAt(kept.lookups, event.createdAt);
    const lookups = resolveAuthor(
      registry.get(event.author),
      event.author,
      claim.keyState,
      claim.signers,
    );
    claim.resolved = { version: registry.version, lookups };
    return verdictAt(lookups, event.createdAt);
  }

  /**
   * Holds an event the verdict refused with `reason`, unless no key event can change that
   * verdict or a bound is reached. Returns whether it is held.
   */
  hold(
    event: Prepared & { readonly identity: NonNullable<Prepared['identity']> },
    reason: string,
  ): boolean {
    if (FINAL_FOR_EVENT.has(reason)) return false;
    // its bytes are views of its batch's buffer: a held event keeps copies of its own, so that
    // the held bytes bound what is kept (not whole batches)
    const own: IdentityEvent = {
      ...event,
      id: event.id.slice(),
      nonce: event.nonce.slice(),
      encoded: event.encoded.slice(),
    };
    return this.held.hold(own, reason);
  }

  /** An event was stored: a held copy of it is no longer needed. */
  stored(idHex: string): void {
    if (this.held.size > 0) this.held.release(idHex);
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** The events held for `identity` (by id), as kept. */
  heldEvents(identity: string): readonly IdentityEvent[] {
    return this.held.inIdOrder(identity).map((h) => h.event);
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  state(identity: string): IdentityState | undefined {
    return this.registry.get(identity);
  }

  /** The attached key events of an identity, each reference before what refers to it. */
  keyEventLog(identity: string): VerifiedKeyEvent[] | undefined {
    const log = this.registry.log(identity);
    if (log === undefined) return undefined;
    const rank = (e: VerifiedKeyEvent): number =>
      e.event.type === 'veto' ? Number.MAX_SAFE_INTEGER : e.event.seq;
    return log.attachedEvents().sort((a, b) => rank(a) - rank(b) || (a.idHex < b.idHex ? -1 : 1));
  }

  // -------------------------------------------------------------------------------------------
  // Re-evaluation

  /** Queues the re-evaluation of what naming `keyStates` of `identity` a key event changed. */
  enqueue(identity: string, keyStates: ReadonlySet<string>, cause: string): Reevaluation {
    const counts: Reevaluation = { invalidated: 0, revalidated: 0, accepted: 0 };
    if (keyStates.size === 0) return counts;
    this.jobs.push({
      identity,
      keyStates: [...keyStates].sort(),
      cause,
      after: 0,
      heldDone: false,
      counts,
    });
    return counts;
  }

  /**
   * Runs the queued re-evaluations to the end, a page per transaction, letting other work run
   * between pages. Resolves when the queue is empty (or the stage is stopped).
   */
  async drain(): Promise<void> {
    while (this.jobs.length > 0 && !this.stopped) {
      if (this.running === undefined) {
        this.running = this.runJobs().finally(() => {
          this.running = undefined;
        });
      }
      await this.running;
    }
  }

  /** Stops after the current page; what is left is redone at the next start. */
  stop(): void {
    this.stopped = true;
  }

  /** After a failed commit of key events: the logs as the store holds them. */
  reload(): void {
    this.registry = this.rebuild();
  }

  /** Drops held events that expired. */
  pruneHeld(nowSeconds: number): void {
    this.held.prune(nowSeconds);
  }

  private async runJobs(): Promise<void> {
    while (this.jobs.length > 0 && !this.stopped) {
      const job = this.jobs[0] as Job;
      if (this.step(job)) this.jobs.shift();
      await yieldToEventLoop();
    }
  }

  /** One page of a job, in one synchronous block and one transaction; true when it is done. */
  private step(job: Job): boolean {
    const nowSeconds = Math.floor(this.now() / 1000);
    const state = this.registry.get(job.identity);
    const rows = this.store.identity.page(
      job.keyStates,
      job.after,
      nowSeconds,
      this.bounds.pageSize,
    );
    const { changes, invalidated, revalidated } = judgeStored(state, rows, job.cause);
    const revived = job.heldDone ? [] : this.reviveHeld(job, nowSeconds);
    job.heldDone = true;
    if (changes.length > 0 || revived.length > 0) {
      this.commitPage(job.identity, job.cause, changes, invalidated, revalidated, revived);
      job.counts.invalidated += invalidated.length;
      job.counts.revalidated += revalidated.length;
      job.counts.accepted += revived.length;
    }
    const last = rows[rows.length - 1];
    if (last !== undefined) job.after = last.seq;
    return rows.length < this.bounds.pageSize;
  }

  private commitPage(
    identity: string,
    cause: string,
    standings: StandingChange[],
    invalidated: { id: string; reason: string }[],
    revalidated: string[],
    revived: HeldEvent[],
  ): void {
    const record: AuditRecord = {
      type: 'critical',
      eventId: cause === 'start' ? null : Buffer.from(cause, 'hex'),
      reason: null,
      detail: {
        identity,
        reevaluated: cause,
        invalidated,
        revalidated,
        accepted: revived.map((h) => h.idHex),
      },
    };
    const accepted: VerifiedEvent[] = revived.map(({ event, idHex }) =>
      brandVerified(event, idHex),
    );
    this.store.commit(accepted, [record], {
      identity: {
        standings,
        events: revived.map((h, index) => ({ index, keyState: h.event.identity.keyState })),
      },
    });
    for (const h of revived) this.held.release(h.idHex);
    if (accepted.length > 0) this.onAccepted?.(accepted.map((e) => e.encoded));
    if ((invalidated.length > 0 || revalidated.length > 0) && this.onTurned !== undefined) {
      this.onTurned({
        invalidated: invalidated.map((i) => Buffer.from(i.id, 'hex')),
        revalidated: revalidated.flatMap((idHex) => {
          const bytes = this.store.encodedEvent(Buffer.from(idHex, 'hex'));
          return bytes === undefined ? [] : [bytes];
        }),
      });
    }
  }

  /**
   * The held events of the job's identity that name one of its key states: judged again with
   * every check of §8; those now valid and unexpired are accepted unless their (author, nonce)
   * was used meanwhile (then they are dropped, as §7 step 5 would refuse or dedupe them).
   */
  private reviveHeld(job: Job, nowSeconds: number): HeldEvent[] {
    const keyStates = new Set(job.keyStates);
    const candidates: HeldEvent[] = [];
    for (const h of this.held.inIdOrder(job.identity)) {
      if (!keyStates.has(h.event.identity.keyState)) continue;
      if (h.event.expiresAt <= nowSeconds) {
        this.held.release(h.idHex);
        continue;
      }
      const v = this.verdict(h.event);
      if (!v.ok) {
        h.reason = v.reason;
        if (FINAL_FOR_EVENT.has(v.reason)) this.held.release(h.idHex);
        continue;
      }
      candidates.push(h);
    }
    return this.held.acceptable(candidates, this.store);
  }

  // -------------------------------------------------------------------------------------------
  // Start

  private rebuild(): IdentityRegistry {
    const registry = new IdentityRegistry(this.core, this.bounds.kel);
    const rows = this.store.identity.keyEvents();
    const decoded = rows.map((row) => {
      const d = decodeKeyEvent(this.core, row.encoded);
      if (!d.ok || d.value.identity !== row.identity || toHex(d.value.id) !== toHex(row.id)) {
        throw new CorruptEventError(`stored key event ${toHex(row.id)} no longer decodes`);
      }
      return d.value;
    });
    const verified = verifyKeyEvents(this.core, decoded);
    verified.forEach((v, i) => {
      const id = toHex((rows[i] as { id: Uint8Array }).id);
      if (!v.ok) throw new CorruptEventError(`stored key event ${id}: ${v.detail}`);
      const outcome = registry.add(v.value);
      if (!outcome.ok)
        throw new CorruptEventError(`stored key event ${id} no longer joins: ${outcome.reason}`);
    });
    for (const row of rows) {
      if (registry.log(row.identity)?.holds(toHex(row.id)) !== true)
        throw new CorruptEventError(`stored key event ${toHex(row.id)} does not join its log`);
    }
    return registry;
  }

  /** Every unexpired stored event of an identity judged against the logs; fixes what differs. */
  private recheckStored(): void {
    const nowSeconds = Math.floor(this.now() / 1000);
    const tables = this.store.identity;
    // key state by key state (the identity table's order), a page at a time
    for (let ks = tables.nextKeyState(0); ks !== undefined; ks = tables.nextKeyState(ks.id)) {
      for (let after = 0; ; ) {
        const rows = tables.live(ks, after, nowSeconds, this.bounds.pageSize);
        const byIdentity = new Map<string, IdentityStanding[]>();
        for (const r of rows) {
          const list = byIdentity.get(r.identity);
          if (list === undefined) byIdentity.set(r.identity, [r]);
          else list.push(r);
        }
        for (const [identity, list] of byIdentity) {
          const judged = judgeStored(this.registry.get(identity), list, 'start');
          if (judged.changes.length > 0) {
            this.commitPage(
              identity,
              'start',
              judged.changes,
              judged.invalidated,
              judged.revalidated,
              [],
            );
          }
        }
        const last = rows[rows.length - 1];
        if (last === undefined || rows.length < this.bounds.pageSize) break;
        after = last.seq;
      }
    }
  }
}

/** The standing each stored event has under `state`, and what differs from the stored one. */
function judgeStored(
  state: IdentityState | undefined,
  rows: readonly IdentityStanding[],
  cause: string,
): {
  changes: StandingChange[];
  invalidated: { id: string; reason: string }[];
  revalidated: string[];
} {
  const changes: StandingChange[] = [];
  const invalidated: { id: string; reason: string }[] = [];
  const revalidated: string[] = [];
  for (const r of rows) {
    const v = checkKeyStateStanding(state, {
      author: r.identity,
      createdAt: r.createdAt,
      keyState: r.keyState,
    });
    const reason = v.ok ? null : v.reason;
    if (reason === r.invalidReason) continue;
    const idHex = toHex(r.id);
    changes.push({ seq: r.seq, invalidReason: reason, invalidBy: reason === null ? null : cause });
    if (reason === null) revalidated.push(idHex);
    else invalidated.push({ id: idHex, reason });
  }
  return { changes, invalidated, revalidated };
}
