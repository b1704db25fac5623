/**
 * What the audit log records of rejections, in bounded form (spec/AUDIT.md §4). A client can
 * send junk as fast as it likes; the log must not grow with it. So, from entry format 2 on:
 *
 * - a rejection of an event whose signatures the node verified (the author, or someone
 *   replaying the author's own signed event, sent it: `ERR_REPLAY` and `ERR_UNTRUSTED_AUTHOR`)
 *   is a `reject` entry of its own, at most {@link AUDIT_RULES.maxRejectEntriesPerSecond} per
 *   second of entry time;
 * - every other rejection (not an event, unverifiable, bad signature, wrong time, and verified
 *   ones over the budget) is counted by reason, and at most once per
 *   {@link AUDIT_RULES.summaryIntervalMs} the counts since the last summary, with a few samples,
 *   become one `summary` entry.
 *
 * So rejections add at most 20 + 1 entries per second, of bounded size, whatever clients send.
 * The ledger below is pure bookkeeping: it plans the entries of one commit and its next
 * state, which the store adopts only once the commit is durable.
 */
import { Reason } from '../protocol/reasons.js';
import type { AuditRecord } from './entry.js';

export const AUDIT_RULES = Object.freeze({
  /** Individual `reject` entries whose times fall in one whole second. */
  maxRejectEntriesPerSecond: 20,
  /** Least time between two `summary` entries (ms). */
  summaryIntervalMs: 1_000,
  /** Samples a summary keeps. */
  maxSamples: 4,
  /** Characters of a sample's detail. */
  maxSampleDetailChars: 120,
  /** Bytes of a `reject` entry's detail (JSON text). */
  maxRejectDetailBytes: 512,
  /** Bytes of a `summary` entry's detail (JSON text). */
  maxSummaryDetailBytes: 4_096,
  /** Least time between two checkpoints unless the log grew by the node's size threshold (ms). */
  checkpointMinIntervalMs: 1_000,
  /** Entries that input other than verified events can add per second: a summary and a checkpoint. */
  maxJunkEntriesPerSecond: 2,
});

/** The reasons a rejection of a verified event can have (the only ones logged one by one). */
export const LOGGED_REJECT_REASONS: readonly string[] = Object.freeze([
  Reason.REPLAY,
  Reason.UNTRUSTED_AUTHOR,
]);

/** An entry the ledger asks to append (seq, time and format are the log's). */
export interface PlannedEntry {
  readonly type: 'reject' | 'critical' | 'summary';
  readonly eventId: Uint8Array | null;
  readonly reason: string | null;
  readonly detail: string;
}

interface Sample {
  readonly reason: string;
  readonly id: string | null;
  readonly detail: string;
}

export interface LedgerState {
  /** The whole second (of entry time) the reject budget is counted in, and its use. */
  readonly second: number;
  readonly rejectsInSecond: number;
  /** Time of the last summary entry (or a time no summary may come earlier than). */
  readonly lastSummary: number;
  /** Rejections counted since the last summary, by reason; empty when none. */
  readonly counts: ReadonlyMap<string, number>;
  readonly samples: readonly Sample[];
  /** Time of the first rejection counted since the last summary. */
  readonly from: number;
}

export interface LedgerPlan {
  readonly entries: PlannedEntry[];
  readonly state: LedgerState;
  /** Rejections this plan counted instead of logging, by reason (for metrics). */
  readonly counted: ReadonlyMap<string, number>;
}

const hexOf = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The detail JSON of a logged rejection, cut to {@link AUDIT_RULES.maxRejectDetailBytes}. */
export function rejectDetail(detail: Readonly<Record<string, unknown>> | undefined): string {
  const text = JSON.stringify(detail ?? {});
  if (Buffer.byteLength(text) <= AUDIT_RULES.maxRejectDetailBytes) return text;
  const inner = typeof detail?.['detail'] === 'string' ? (detail['detail'] as string) : text;
  return JSON.stringify({ detail: truncate(inner, 200) });
}

/**
 * The detail JSON of a summary entry: `{"from","to","counts","samples"}` with the counts'
 * reasons in code-point order, so that the text is a function of its content.
 */
export function summaryDetail(
  from: number,
  to: number,
  counts: ReadonlyMap<string, number>,
  samples: readonly Sample[],
): string {
  const sorted = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    from,
    to,
    counts: Object.fromEntries(sorted),
    samples: samples.map((s) => ({ reason: s.reason, id: s.id, detail: s.detail })),
  });
}

export const EMPTY_LEDGER: LedgerState = Object.freeze({
  second: -1,
  rejectsInSecond: 0,
  lastSummary: -Infinity,
  counts: new Map<string, number>(),
  samples: [],
  from: 0,
});

/** Plans the entries for `records` at entry time `time` (ms), and the ledger's next state. */
export function planRejections(
  state: LedgerState,
  records: readonly AuditRecord[],
  time: number,
): LedgerPlan {
  const second = Math.floor(time / 1000);
  let inSecond = second === state.second ? state.rejectsInSecond : 0;
  const counts = new Map(state.counts);
  const samples = [...state.samples];
  const counted = new Map<string, number>();
  let from = counts.size === 0 ? time : state.from;
  const entries: PlannedEntry[] = [];
  for (const r of records) {
    if (r.type === 'critical') {
      entries.push({
        type: 'critical',
        eventId: r.eventId ?? null,
        reason: r.reason ?? null,
        detail: JSON.stringify(r.detail ?? {}),
      });
      continue;
    }
    const reason = r.reason ?? 'ERR_UNKNOWN';
    const eventId = r.eventId ?? null;
    if (
      r.verified === true &&
      eventId !== null &&
      LOGGED_REJECT_REASONS.includes(reason) &&
      inSecond < AUDIT_RULES.maxRejectEntriesPerSecond
    ) {
      inSecond++;
      entries.push({ type: 'reject', eventId, reason, detail: rejectDetail(r.detail) });
      continue;
    }
    if (counts.size === 0) from = time;
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    counted.set(reason, (counted.get(reason) ?? 0) + 1);
    if (samples.length < AUDIT_RULES.maxSamples) {
      const d = r.detail?.['detail'];
      samples.push({
        reason,
        id: eventId === null ? null : hexOf(eventId),
        detail: truncate(
          typeof d === 'string' ? d : JSON.stringify(r.detail ?? {}),
          AUDIT_RULES.maxSampleDetailChars,
        ),
      });
    }
  }
  let lastSummary = state.lastSummary;
  if (counts.size > 0 && time >= lastSummary + AUDIT_RULES.summaryIntervalMs) {
    entries.push({
      type: 'summary',
      eventId: null,
      reason: null,
      detail: summaryDetail(from, time, counts, samples),
    });
    lastSummary = time;
    counts.clear();
    samples.length = 0;
  }
  return {
    entries,
    counted,
    state: { second, rejectsInSecond: inSecond, lastSummary, counts, samples, from },
  };
}

/** When the counts held in `state` may be written as a summary (undefined: nothing held). */
export function summaryDueAt(state: LedgerState): number | undefined {
  return state.counts.size === 0 ? undefined : state.lastSummary + AUDIT_RULES.summaryIntervalMs;
}
