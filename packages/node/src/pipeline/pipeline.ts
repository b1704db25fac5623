/**
 * The validation pipeline: spec/PROTOCOL.md §7 for a batch of events.
 *
 *   worker threads (pipeline/prepare.ts, one chunk per thread):
 *     decode, limits, version, schema → time → ids → signatures (one batch) → policy → trust
 *   main thread, in one synchronous block:
 *     replay (step 5, against the store and earlier events of the batch) → the identity
 *     verdict (step 7 for an author that is a did:cs: identity-stage.ts) → trust under a
 *     trust root (step 8: the governance's verdict, which records change) → brand → commit
 *
 * The last stage runs without an `await`, so two batches in flight cannot both accept the same
 * event or the same (author, nonce): the replay check and the commit see the same database. An
 * event is acknowledged (`accepted`) only once it is durably stored: the commit is written to
 * the WAL without a sync (`Store.commitUnsynced`), and the answers wait for the fdatasync that
 * follows on libuv's thread pool (`Store.synced`), while the main thread goes on.
 * Batches prepared while the main thread was busy share that block and one commit (`#flush`:
 * a group commit, judged one batch after the other); commits written while a sync runs share
 * the next sync.
 *
 * Events from peers (`processFromPeers`) take the same steps on their canonical CBOR, exactly
 * as received; the commit also records which peer delivered each event, and an event refused
 * only as a replay (valid in every other way: its author signed two events with one nonce) is
 * stored as conflict evidence and reported as `conflict` (spec/SYNC.md §6.3).
 * Where an event breaks several rules, the verdict is the first in the spec's order, exactly as
 * the one-event-at-a-time reference `protocol/validate.ts` (which the tests compare against).
 */
import type { AuditRecord } from '../audit/index.js';
import {
  batchSize,
  classifyReplay,
  DEFAULT_TIME_RULES,
  type EventTextBatch,
  OPEN_TRUST,
  Reason,
  type ReasonCode,
  type TimeRules,
  type TrustPolicy,
  toHex,
  type VerifiedEvent,
} from '../protocol/index.js';
import type { IngestResult, PeerIngestResult } from '../service.js';
import {
  type ConflictEvidence,
  type IdentityEventRow,
  replayKey,
  type Store,
} from '../storage/index.js';
import type { IdentityStage } from './identity-stage.js';
import type { Prepared, PreparedChunk, PreparedEvent } from './prepare.js';
import { brandVerified } from './verified.js';
import type { VerifyPool } from './verify-pool.js';

export interface PipelineOptions {
  readonly store: Store;
  readonly pool: VerifyPool;
  readonly trust?: TrustPolicy;
  readonly timeRules?: TimeRules;
  /** Unix milliseconds (default `Date.now`). */
  readonly now?: () => number;
  /** The key event logs (default: none, so every event by an identity is refused). */
  readonly identity?: IdentityStage;
  /**
   * Called right after a commit that stored events, with those events (durable by then) and,
   * for peer batches, the peer that delivered each (null: merged locally).
   */
  readonly onCommitted?: (
    events: readonly VerifiedEvent[],
    sources: readonly (string | null)[] | undefined,
  ) => void;
  /**
   * A trust root's policy (spec/GOVERNANCE.md §8): when given, step 8 runs here in the commit
   * block, not on the workers (governance records change its answers), and `trust` is unused.
   */
  readonly governed?: GovernedTrust;
}

/** The trust verdict of a governed node: is `author` trusted for `kind` at `createdAt`? */
export interface GovernedTrust {
  verdict(
    author: string,
    kind: string,
    createdAt: number,
  ): { readonly trusted: boolean; readonly reason: string };
  /** Keeps a refused event in case a later record trusts its author (trust-stage.ts). */
  hold?(event: Prepared): boolean;
  /** An event was stored (a held copy of it may go). */
  stored?(idHex: string): void;
}

/** Where the time goes, summed over batches, for metrics and the ingest benchmark (ms). */
export interface StageTimes {
  /** Decoding and checking on the workers (summed over threads). */
  parse: number;
  /** Signature verification on the workers (summed over threads). */
  verify: number;
  /** Wall time of the worker round trip, as the main thread waits for it. */
  prepareWall: number;
  /** Replay check, audit records and the SQLite transaction, on the main thread. */
  commit: number;
  batches: number;
  events: number;
}

/** Every element of a badly framed batch is ERR_MALFORMED, whatever its bytes (§3.5). */
function framingRejected(count: number, detail: string): PreparedChunk {
  const rejected: PreparedEvent = { ok: false, reason: Reason.MALFORMED, detail };
  return { events: new Array<PreparedEvent>(count).fill(rejected), parseMs: 0, verifyMs: 0 };
}

export class Pipeline {
  readonly times: StageTimes = {
    parse: 0,
    verify: 0,
    prepareWall: 0,
    commit: 0,
    batches: 0,
    events: 0,
  };
  private readonly store: Store;
  private readonly pool: VerifyPool;
  private readonly trust: TrustPolicy;
  private readonly timeRules: TimeRules;
  private readonly now: () => number;
  private readonly identity: IdentityStage | undefined;
  private readonly governed: GovernedTrust | undefined;
  private readonly onCommitted: PipelineOptions['onCommitted'];
  /** Prepared batches waiting for the next group commit, in the order they came back. */
  readonly #waiting: Waiting[] = [];
  #flushScheduled = false;

  constructor(opts: PipelineOptions) {
    this.identity = opts.identity;
    this.governed = opts.governed;
    this.store = opts.store;
    this.pool = opts.pool;
    // governed: the workers pass every author; step 8 is the commit block's
    this.trust = opts.governed === undefined ? (opts.trust ?? OPEN_TRUST) : OPEN_TRUST;
    this.timeRules = opts.timeRules ?? DEFAULT_TIME_RULES;
    this.now = opts.now ?? Date.now;
    this.onCommitted = opts.onCommitted;
  }

  /**
   * Validates and stores a batch of events given as JSON texts; `results[i]` is the verdict on
   * the i-th text. A batch whose array is not closed properly (§3.5) has every event rejected.
   */
  process(batch: EventTextBatch): Promise<IngestResult[]> {
    return this.run(batch, undefined) as Promise<IngestResult[]>;
  }

  /**
   * Validates and stores events from peers, given as their canonical CBOR in the spans of
   * `batch`; `sources[i]` is the peer that sent the i-th (null: merged locally).
   */
  processFromPeers(
    batch: EventTextBatch,
    sources: readonly (string | null)[],
  ): Promise<PeerIngestResult[]> {
    if (sources.length !== batchSize(batch))
      throw new TypeError('processFromPeers: one source per event');
    return this.run(batch, sources);
  }

  private async run(
    batch: EventTextBatch,
    sources: readonly (string | null)[] | undefined,
  ): Promise<PeerIngestResult[]> {
    const t0 = performance.now();
    const count = batchSize(batch);
    const now = Math.floor(this.now() / 1000);
    const ctx = { now, timeRules: this.timeRules, trust: this.trust };
    const chunk =
      batch.framingError === undefined
        ? await this.pool.prepare(batch, sources === undefined ? ctx : { ...ctx, encoding: 'cbor' })
        : framingRejected(count, batch.framingError);
    this.times.prepareWall += performance.now() - t0;
    this.times.parse += chunk.parseMs;
    this.times.verify += chunk.verifyMs;
    this.times.batches += 1;
    this.times.events += count;
    return new Promise<PeerIngestResult[]>((resolve, reject) => {
      this.#waiting.push({ chunk, sources, now, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Group commit: every batch whose workers finished while the main thread was busy (the
   * last commit's fsync, HTTP) is judged and stored in ONE synchronous block and ONE
   * transaction, in the order the batches came back; each request is answered once that
   * commit returned (durable). One fsync and one rewrite of the index pages a commit dirties
   * serve several batches. Judged one after the other against the store and the batches
   * before them in the group, every verdict is the one it would get committed on its own.
   */
  #flush(): void {
    this.#flushScheduled = false;
    const group: Waiting[] = [];
    let events = 0;
    while (this.#waiting.length > 0 && (group.length === 0 || events < GROUP_COMMIT_EVENTS)) {
      const w = this.#waiting.shift() as Waiting;
      events += w.chunk.events.length;
      group.push(w);
    }
    if (this.#waiting.length > 0) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    const t1 = performance.now();
    // From here on no await: replay checks and the commit see the same database.
    const acceptedBefore = new Map<string, Uint8Array>(); // replay key → id, earlier batches
    const judged: { w: Waiting; verdicts: Verdicts }[] = [];
    for (const w of group) {
      try {
        const verdicts = this.#judge(w.chunk, w.sources, w.now, acceptedBefore);
        for (const [k, id] of verdicts.acceptedInBatch) acceptedBefore.set(k, id);
        judged.push({ w, verdicts });
      } catch (error) {
        w.reject(error); // nothing of this batch is written
      }
    }
    const accepted: VerifiedEvent[] = [];
    const audit: AuditRecord[] = [];
    const identityRows: IdentityEventRow[] = [];
    const acceptedSources: (string | null)[] = [];
    const evidence: ConflictEvidence[] = [];
    const fromPeers = judged.some(({ w }) => w.sources !== undefined);
    for (const { verdicts: v } of judged) {
      const { at, keyStates } = v.identities;
      for (let k = 0; k < at.length; k++)
        identityRows.push({
          index: accepted.length + (at[k] as number),
          keyState: keyStates[k] as string,
        });
      accepted.push(...v.accepted);
      audit.push(...v.audit);
      if (v.acceptedSources !== undefined) acceptedSources.push(...v.acceptedSources);
      else for (let i = 0; i < v.accepted.length; i++) acceptedSources.push(null);
      evidence.push(...v.evidence);
    }
    try {
      if (accepted.length > 0 || audit.length > 0) {
        // (only counted rejections: no database write, see Store.commit)
        this.store.commitUnsynced(accepted, audit, {
          ...(fromPeers ? { sources: acceptedSources, evidence } : {}),
          ...(identityRows.length > 0 ? { identity: { events: identityRows } } : {}),
        });
      }
    } catch (error) {
      for (const { w } of judged) w.reject(error);
      this.times.commit += performance.now() - t1;
      return;
    }
    // The store holds the group now: the next group is judged against it.
    for (const { verdicts: v } of judged) {
      for (const index of v.identities.at)
        this.identity?.stored((v.accepted[index] as VerifiedEvent).idHex);
      if (this.governed?.stored !== undefined)
        for (const e of v.accepted) this.governed.stored(e.idHex);
    }
    this.times.commit += performance.now() - t1;
    // Answered once the WAL is on disk: every verdict (a `duplicate` too) may rest on commits
    // not yet synced, this group's and earlier ones. The sync runs off the main thread, which
    // meanwhile judges and commits the next group (storage/wal-sync.ts).
    this.store.synced().then(
      () => {
        for (const { w, verdicts: v } of judged) {
          if (v.accepted.length > 0) this.onCommitted?.(v.accepted, v.acceptedSources);
          w.resolve(v.results);
        }
      },
      (error: unknown) => {
        for (const { w } of judged) w.reject(error);
      },
    );
  }

  /**
   * The main thread's steps for one prepared batch (replay, identity, trust under a trust
   * root), against the store and `acceptedBefore` (the events that earlier batches of the
   * same commit accept); writes nothing.
   */
  #judge(
    chunk: PreparedChunk,
    sources: readonly (string | null)[] | undefined,
    now: number,
    acceptedBefore: ReadonlyMap<string, Uint8Array>,
  ): Verdicts {
    const count = chunk.events.length;
    const results: PeerIngestResult[] = new Array<PeerIngestResult>(count);
    const audit: { index: number; record: AuditRecord }[] = [];
    // `verified`: every signature of the event verified, so the audit log may record it one by
    // one (audit/rules.ts); anything else is counted in a summary.
    const reject = (
      index: number,
      reason: ReasonCode | `ERR_KEL_${string}`,
      detail: string,
      id?: Uint8Array,
      verified = false,
    ) => {
      results[index] = id
        ? { status: 'rejected', id: toHex(id), reason, detail }
        : { status: 'rejected', reason, detail };
      audit.push({
        index,
        record: { type: 'reject', eventId: id ?? null, reason, detail: { detail }, verified },
      });
    };
    const signaturesHeld = (event: Prepared): boolean =>
      event.late === undefined || event.late.reason === Reason.UNTRUSTED_AUTHOR;
    const live: { index: number; event: Prepared; key: string }[] = [];
    chunk.events.forEach((event, index) => {
      if (!event.ok) reject(index, event.reason, event.detail, event.id);
      else live.push({ index, event, key: replayKey(event.author, event.nonce) });
    });
    const known =
      live.length > 0 ? this.store.findReplays(live.map(({ event }) => event)) : new Map();
    // A record is kept at least until its event's expiry plus the clock skew (§7 notes); the
    // store prunes whole partitions later, so an older record it still finds is ignored here:
    // the verdict never depends on when pruning ran.
    const keptSince = now - this.timeRules.clockSkewSeconds;
    const acceptedInBatch = new Map<string, Uint8Array>(); // replay key → id, in input order
    const accepted: VerifiedEvent[] = [];
    const identities: Verdicts['identities'] = { at: [], keyStates: [] };
    const acceptedSources: (string | null)[] = [];
    const evidence: ConflictEvidence[] = [];
    for (const { index, event, key } of live) {
      // step 5: against the store, then against events accepted earlier in this batch
      const record = known.get(key);
      const previous =
        record !== undefined && record.expiresAt >= keptSince
          ? Buffer.from(record.eventIdHex, 'hex')
          : (acceptedInBatch.get(key) ?? acceptedBefore.get(key));
      if (previous !== undefined) {
        const replay = classifyReplay(event.id, previous);
        if (!replay.ok) {
          reject(index, replay.reason, replay.detail, event.id, signaturesHeld(event));
          if (sources !== undefined && event.late === undefined) {
            // valid but for the replay: the author equivocated; kept as evidence (SYNC.md §6.3)
            results[index] = { status: 'conflict', id: toHex(event.id) };
            evidence.push({
              id: event.id,
              author: event.author,
              nonce: event.nonce,
              createdAt: event.createdAt,
              expiresAt: event.expiresAt,
              encoded: event.encoded,
              peer: sources[index] ?? null,
            });
          }
        } else results[index] = { status: 'duplicate', id: toHex(event.id) };
        continue;
      }
      // step 7 for an author that is an identity, before trust (step 8, in `late`)
      if (event.identity !== undefined && (event.late?.reason ?? trusted) === trusted) {
        const verdict = this.identityVerdict(event as Identified);
        if (!verdict.ok) {
          reject(index, verdict.reason as `ERR_KEL_${string}`, verdict.detail, event.id, true);
          continue;
        }
      }
      if (event.late) {
        reject(index, event.late.reason, event.late.detail, event.id, signaturesHeld(event)); // steps 6-8
        continue;
      }
      if (this.governed !== undefined) {
        // step 8 under a trust root: judged at the event's signed time, its kind as the scope
        const v = this.governed.verdict(event.author, event.kind, event.createdAt);
        if (!v.trusted) {
          const detail = `${event.author} is not trusted for ${event.kind} under the trust root (${v.reason})`;
          reject(index, Reason.UNTRUSTED_AUTHOR, detail, event.id, true);
          this.governed.hold?.(event);
          continue;
        }
      }
      const idHex = toHex(event.id);
      acceptedInBatch.set(key, event.id);
      accepted.push(brandVerified(event, idHex));
      if (event.identity !== undefined) {
        identities.at.push(accepted.length - 1);
        identities.keyStates.push(event.identity.keyState);
      }
      if (sources !== undefined) acceptedSources.push(sources[index] ?? null);
      results[index] = { status: 'accepted', id: idHex };
    }
    // rejections are logged in input order, after the commit's accept entries
    audit.sort((a, b) => a.index - b.index);
    return {
      results,
      audit: audit.map((a) => a.record),
      accepted,
      identities,
      acceptedSources: sources === undefined ? undefined : acceptedSources,
      evidence,
      acceptedInBatch,
    };
  }

  /** Step 7 for an identity (spec/IDENTITY.md §8); a refusal a key event may undo is held. */
  private identityVerdict(
    event: Identified,
  ): { ok: true } | { ok: false; reason: string; detail: string } {
    if (this.identity === undefined) {
      return {
        ok: false,
        reason: 'ERR_KEL_UNKNOWN_IDENTITY',
        detail: 'this node holds no key event logs',
      };
    }
    const verdict = this.identity.verdict(event);
    if (!verdict.ok) this.identity.hold(event, verdict.reason);
    return verdict;
  }
}

/** A prepared batch waiting for its commit, and its request's answer. */
interface Waiting {
  readonly chunk: PreparedChunk;
  readonly sources: readonly (string | null)[] | undefined;
  /** Unix seconds when the batch came in. */
  readonly now: number;
  readonly resolve: (results: PeerIngestResult[]) => void;
  readonly reject: (error: unknown) => void;
}

/** One batch's verdicts and what the commit writes of it. */
interface Verdicts {
  readonly results: PeerIngestResult[];
  /** Reject records in input order. */
  readonly audit: AuditRecord[];
  readonly accepted: VerifiedEvent[];
  /**
   * The accepted events by an identity: their indices into `accepted` and the key states they
   * name (two arrays, not an object per event: the commit makes the store's rows).
   */
  readonly identities: { readonly at: number[]; readonly keyStates: string[] };
  /** For peer batches: the peer that delivered each accepted event. */
  readonly acceptedSources: (string | null)[] | undefined;
  readonly evidence: ConflictEvidence[];
  readonly acceptedInBatch: ReadonlyMap<string, Uint8Array>;
}

/**
 * A group commit takes waiting batches until it holds this many events (at least one batch):
 * the node's batches are 1,000 events, so up to four requests share one fsync.
 */
const GROUP_COMMIT_EVENTS = 4000;

type Identified = Prepared & { readonly identity: NonNullable<Prepared['identity']> };
/** `late` with this reason (step 8) comes after the identity verdict (step 7). */
const trusted = Reason.UNTRUSTED_AUTHOR;
