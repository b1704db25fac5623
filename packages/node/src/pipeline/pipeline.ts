/**
 * The validation pipeline: spec/PROTOCOL.md §7 for a batch of events, with every signature of
 * the batch verified together on the worker pool.
 *
 *   parse (decode, limits, version, schema) → time → id (one hash call for the batch)
 *   → replay pre-check (skip verifying known events) → signatures (pool, one batch)
 *   → [one synchronous block: replay again, M-of-N policy, trust, brand, commit]
 *
 * The last stage runs without an `await`, so two batches in flight cannot both accept the same
 * event or the same (author, nonce): the replay check and the commit see the same database. An
 * event is acknowledged (`accepted`) only after `Store.commit` returned, i.e. durably stored.
 * `protocol/validate.ts` is the one-event-at-a-time reference this pipeline is tested against.
 */
import { type Core, packMessages } from '@commons-sync/bindings';

import type { AuditRecord } from '../audit/index.js';
import type { VerifyPool } from '../pool/verify-pool.js';
import {
  type DecodedEvent,
  DEFAULT_TIME_RULES,
  OPEN_TRUST,
  type ReasonCode,
  type TimeRules,
  type TrustPolicy,
  checkTime,
  checkTrust,
  classifyReplay,
  evaluatePolicy,
  parseEventJson,
  signatureChecks,
} from '../protocol/index.js';
import { type Store, replayKey } from '../storage/index.js';
import type { IngestResult } from '../service.js';
import { brandVerified, type VerifiedEvent } from './verified.js';

export interface PipelineOptions {
  readonly core: Core;
  readonly store: Store;
  readonly pool: VerifyPool;
  readonly trust?: TrustPolicy;
  readonly timeRules?: TimeRules;
  /** Unix milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** Time spent per stage, summed over batches, for metrics and the ingest benchmark. */
export interface StageTimes {
  parse: number;
  verify: number;
  commit: number;
  batches: number;
  events: number;
}

/** An event that passed parsing and the time rules. */
interface Candidate {
  readonly index: number;
  readonly decoded: DecodedEvent;
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly replayKey: string;
  /** Position of its first signature verdict; -1 until it is sent to the pool. */
  firstVerdict: number;
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export class Pipeline {
  readonly times: StageTimes = { parse: 0, verify: 0, commit: 0, batches: 0, events: 0 };
  private readonly core: Core;
  private readonly store: Store;
  private readonly pool: VerifyPool;
  private readonly trust: TrustPolicy;
  private readonly timeRules: TimeRules;
  private readonly now: () => number;

  constructor(opts: PipelineOptions) {
    this.core = opts.core;
    this.store = opts.store;
    this.pool = opts.pool;
    this.trust = opts.trust ?? OPEN_TRUST;
    this.timeRules = opts.timeRules ?? DEFAULT_TIME_RULES;
    this.now = opts.now ?? Date.now;
  }

  /** Validates and stores a batch; `results[i]` is the verdict on `inputs[i]`. */
  async process(inputs: readonly unknown[]): Promise<IngestResult[]> {
    const t0 = performance.now();
    const results: IngestResult[] = new Array<IngestResult>(inputs.length);
    const audit: { index: number; record: AuditRecord }[] = [];
    const rejectWith = (index: number, reason: ReasonCode, detail: string, id?: Candidate) => {
      results[index] = id
        ? { status: 'rejected', id: id.idHex, reason, detail }
        : { status: 'rejected', reason, detail };
      audit.push({ index, record: { type: 'reject', eventId: id?.id ?? null, reason, detail: { detail } } });
    };

    // Steps 1-4: decode, limits, version, schema, time.
    const nowSeconds = Math.floor(this.now() / 1000);
    const parsed: { index: number; decoded: DecodedEvent }[] = [];
    inputs.forEach((input, index) => {
      const result = parseEventJson(input);
      if (!result.ok) return rejectWith(index, result.reason, result.detail);
      parsed.push({ index, decoded: result.value });
    });
    // Ids of the whole batch in one call into the core.
    const ids = this.core.hashBatch('sha256', packMessages(parsed.map((p) => p.decoded.body)));
    let candidates: Candidate[] = [];
    parsed.forEach(({ index, decoded }, j) => {
      const id = ids.subarray(32 * j, 32 * j + 32);
      const candidate: Candidate = {
        index,
        decoded,
        id,
        idHex: hexOf(id),
        replayKey: replayKey(decoded.event.author, decoded.event.nonce),
        firstVerdict: -1,
      };
      const time = checkTime(decoded.event, nowSeconds, this.timeRules);
      if (!time.ok) return rejectWith(index, time.reason, time.detail, candidate);
      candidates.push(candidate);
    });

    // Step 5, early: events the store already holds need no signature check.
    candidates = this.settleReplays(candidates, results, rejectWith);
    const t1 = performance.now();

    // Step 6: every signature of the batch, verified together on the pool.
    const checks = [];
    for (const c of candidates) {
      c.firstVerdict = checks.length;
      checks.push(...signatureChecks(c.decoded, c.id));
    }
    const verdicts = await this.pool.verify(checks);
    const t2 = performance.now();

    // Steps 5 (again, authoritative), 7, 8 and the commit: no await from here on.
    candidates = this.settleReplays(candidates, results, rejectWith);
    const acceptedInBatch = new Map<string, string>(); // replay key → id, in input order
    const accepted: VerifiedEvent[] = [];
    for (const c of candidates) {
      const { event } = c.decoded;
      const earlier = acceptedInBatch.get(c.replayKey);
      if (earlier !== undefined) {
        this.classifyAgainst(c, earlier, results, rejectWith); // step 5 against this batch
        continue;
      }
      const mine = verdicts.slice(c.firstVerdict, c.firstVerdict + event.signatures.length);
      const policy = evaluatePolicy(event, mine);
      if (!policy.ok) {
        rejectWith(c.index, policy.reason, policy.detail, c);
        continue;
      }
      const trust = checkTrust(event.author, this.trust);
      if (!trust.ok) {
        rejectWith(c.index, trust.reason, trust.detail, c);
        continue;
      }
      acceptedInBatch.set(c.replayKey, c.idHex);
      accepted.push(
        brandVerified({
          id: c.id,
          idHex: c.idHex,
          author: event.author,
          kind: event.kind,
          nonce: event.nonce,
          createdAt: event.createdAt,
          expiresAt: event.expiresAt,
          encoded: c.decoded.encoded,
        }),
      );
      results[c.index] = { status: 'accepted', id: c.idHex };
    }
    if (accepted.length > 0 || audit.length > 0) {
      // rejections are logged in input order, after the batch's accept entries
      audit.sort((a, b) => a.index - b.index);
      this.store.commit(accepted, audit.map((a) => a.record));
    }
    const t3 = performance.now();
    this.times.parse += t1 - t0;
    this.times.verify += t2 - t1;
    this.times.commit += t3 - t2;
    this.times.batches += 1;
    this.times.events += inputs.length;
    return results;
  }

  /** Step 5 against the store: known events become `duplicate`, reused nonces `ERR_REPLAY`. */
  private settleReplays(
    candidates: Candidate[],
    results: IngestResult[],
    rejectWith: (index: number, reason: ReasonCode, detail: string, c?: Candidate) => void,
  ): Candidate[] {
    if (candidates.length === 0) return candidates;
    const known = this.store.findReplays(
      candidates.map((c) => ({ author: c.decoded.event.author, nonce: c.decoded.event.nonce })),
    );
    const rest: Candidate[] = [];
    for (const c of candidates) {
      const record = known.get(c.replayKey);
      if (record !== undefined) this.classifyAgainst(c, record.eventIdHex, results, rejectWith);
      else rest.push(c);
    }
    return rest;
  }

  private classifyAgainst(
    c: Candidate,
    previousIdHex: string,
    results: IngestResult[],
    rejectWith: (index: number, reason: ReasonCode, detail: string, c?: Candidate) => void,
  ): void {
    const replay = classifyReplay(c.id, Buffer.from(previousIdHex, 'hex'));
    if (!replay.ok) rejectWith(c.index, replay.reason, replay.detail, c);
    else results[c.index] = { status: 'duplicate', id: c.idHex };
  }
}
