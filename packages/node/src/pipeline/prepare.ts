/**
 * The stateless half of validation (spec/PROTOCOL.md §7 steps 1-4 and 6-8) for a chunk of a
 * batch: decode, limits, version, schema, time, id, every signature of the chunk verified as one
 * batch, M-of-N policy and trust. It needs no storage, so it runs on the worker threads; the
 * node's main thread keeps only what needs the database (step 5, replay) and the commit.
 *
 * A failure at steps 1-4 settles the event. A failure at steps 6-8 is carried as `late`: step 5
 * comes first in the spec, so a replayed event is reported as a replay even if its signature is
 * also bad, and the main thread decides.
 */
import { type Core, packMessages } from '@commons-sync/bindings';

import {
  checkTime,
  checkTrust,
  type DecodedEvent,
  decodeEvent,
  evaluatePolicy,
  type ReasonCode,
  readEventJson,
  type SignatureCheck,
  signatureChecks,
  type TimeRules,
  type TrustPolicy,
  toHex,
  type VerifiedEventFields,
} from '../protocol/index.js';
import { TaskBuilder, unpackTask } from './signature-task.js';

export interface PrepareContext {
  /** Unix seconds. */
  readonly now: number;
  readonly timeRules: TimeRules;
  readonly trust: TrustPolicy;
  /**
   * What the spans hold: events' JSON texts (clients, the default) or their canonical CBOR
   * (peers, spec/SYNC.md §4.1), each read by the one strict decoder for its form.
   */
  readonly encoding?: 'json' | 'cbor';
}

/**
 * A chunk for a worker: the events' JSON texts as received, `data[spans[2i], spans[2i+1])`
 * (both arrays own their buffers, which are transferred, not cloned).
 */
export interface PrepareTask {
  readonly data: Uint8Array;
  readonly spans: Uint32Array;
  readonly ctx: PrepareContext;
}

export interface Rejected {
  readonly ok: false;
  readonly reason: ReasonCode;
  readonly detail: string;
  readonly id?: Uint8Array;
}

/**
 * An event through steps 1-4: what storage will need if it is accepted, with the verdict of
 * steps 6-8 (`late`) attached.
 */
export interface Prepared extends Omit<VerifiedEventFields, 'idHex'> {
  readonly ok: true;
  readonly late?: { readonly reason: ReasonCode; readonly detail: string };
  /**
   * For an author that is an identity (did:cs): what step 7, the identity verdict, reads; it
   * runs on the main thread (pipeline.ts), where the key event logs are.
   */
  readonly identity?: { readonly keyState: string; readonly signers: readonly string[] };
}

export type PreparedEvent = Prepared | Rejected;

export interface PreparedChunk {
  readonly events: PreparedEvent[];
  /** Milliseconds spent decoding and checking, and verifying signatures. */
  readonly parseMs: number;
  readonly verifyMs: number;
}

/** Verifies checks as one packed batch (one crossing into the core). */
export function verifyChecks(core: Core, checks: readonly SignatureCheck[]): Uint8Array {
  let bytes = 0;
  for (const c of checks) bytes += c.message.length;
  const builder = new TaskBuilder(checks.length, bytes);
  for (const c of checks) builder.add(c.publicKey, c.message, c.signature);
  return core.ed25519VerifyBatchPacked(unpackTask(builder.task));
}

/** Steps 1-4 and 6-8 for the events whose JSON texts are `data[spans[2i], spans[2i+1])`. */
export function prepareChunk(
  core: Core,
  data: Uint8Array,
  spans: Uint32Array,
  ctx: PrepareContext,
): PreparedChunk {
  const t0 = performance.now();
  const count = spans.length >>> 1;
  const out: PreparedEvent[] = new Array<PreparedEvent>(count);
  const parsed: { index: number; decoded: DecodedEvent }[] = [];
  for (let index = 0; index < count; index++) {
    // the strict reader of §3.4 (or the canonical CBOR decoder), on the bytes as received
    const start = spans[2 * index] as number;
    const end = spans[2 * index + 1] as number;
    const result =
      ctx.encoding === 'cbor'
        ? decodeEvent(data.subarray(start, end))
        : readEventJson(data, start, end);
    if (!result.ok) out[index] = { ok: false, reason: result.reason, detail: result.detail };
    else parsed.push({ index, decoded: result.value });
  }
  // every id of the chunk in one call into the core
  const ids = core.hashBatch('sha256', packMessages(parsed.map((p) => p.decoded.body)));
  const live: {
    index: number;
    decoded: (typeof parsed)[number]['decoded'];
    id: Uint8Array;
    first: number;
  }[] = [];
  const checks: SignatureCheck[] = [];
  parsed.forEach(({ index, decoded }, j) => {
    const id = ids.slice(32 * j, 32 * j + 32);
    const time = checkTime(decoded.event, ctx.now, ctx.timeRules);
    if (!time.ok) {
      out[index] = { ok: false, reason: time.reason, detail: time.detail, id };
      return;
    }
    live.push({ index, decoded, id, first: checks.length });
    for (const c of signatureChecks(decoded, id)) checks.push(c);
  });
  const t1 = performance.now();
  const verdicts = checks.length > 0 ? verifyChecks(core, checks) : new Uint8Array(0);
  const t2 = performance.now();
  for (const { index, decoded, id, first } of live) {
    const { event } = decoded;
    const mine: boolean[] = [];
    for (let k = 0; k < event.signatures.length; k++) mine.push(verdicts[first + k] === 1);
    const policy = evaluatePolicy(event, mine);
    const trust = policy.ok ? checkTrust(event.author, ctx.trust) : policy;
    out[index] = {
      ok: true,
      id,
      author: event.author,
      kind: event.kind,
      nonce: event.nonce,
      createdAt: event.createdAt,
      expiresAt: event.expiresAt,
      encoded: decoded.encoded,
      ...(trust.ok ? {} : { late: { reason: trust.reason, detail: trust.detail } }),
      ...(event.keyState === undefined
        ? {}
        : {
            identity: {
              keyState: toHex(event.keyState),
              signers: event.signatures.map((s) => s.signer),
            },
          }),
    };
  }
  return { events: out, parseMs: t1 - t0 + (performance.now() - t2), verifyMs: t2 - t1 };
}
