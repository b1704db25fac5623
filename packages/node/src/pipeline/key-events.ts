/**
 * Key events into the node (spec/IDENTITY.md §6): decoded key events go through the registry
 * (time, duplicates, one batch verification, attach or escrow or refuse), what joined is
 * stored with one `critical` audit entry per key event in the same transaction, and the events
 * whose verdicts it may have changed are judged again (identity-stage.ts) before the answer.
 *
 * The registry is changed and the store written in one synchronous block, so two submissions
 * cannot interleave between them; should the commit fail, the logs are rebuilt from the store.
 * Refusals are audit records of the bounded kind (counted in summaries, spec/AUDIT.md §4);
 * an escrowed key event has no entry until it joins, and then it has its own.
 */
import type { Core } from '@commons-sync/bindings';

import type { AuditRecord } from '../audit/index.js';
import type { DecodedKeyEvent, KelResult, VerifiedKeyEvent } from '../identity/index.js';
import { toHex } from '../protocol/index.js';
import type { KeyEventResult } from '../service.js';
import type { KeyEventRow, Store } from '../storage/index.js';
import type { IdentityStage, Reevaluation } from './identity-stage.js';

export interface KeyEventIntakeOptions {
  readonly core: Core;
  readonly store: Store;
  readonly stage: IdentityStage;
  /** Unix milliseconds. */
  readonly now: () => number;
  /** How far a key event's `created_at` may be ahead of the clock (§6 step 4). */
  readonly skewSeconds: number;
  /**
   * Called once the key events that joined are durable, before the re-evaluation they cause,
   * with their canonical CBOR (the network pushes them to peers, spec/SYNC.md §6.5).
   */
  readonly onAttached?: (encoded: readonly Uint8Array[]) => void;
}

/** The detail of the audit entry of a key event that joined its identity's log. */
export function attachedDetail(core: Core, e: VerifiedKeyEvent): Record<string, unknown> {
  const body = e.event;
  return {
    identity: e.identity,
    key_event: 'attached',
    type: body.type,
    ...(body.type === 'veto' ? { target: toHex(body.target) } : { seq: body.seq }),
    encodedHash: toHex(core.sha256(e.encoded)),
  };
}

/**
 * Judges `inputs` (decoded key events, or their decoding's rejection) in order; the i-th result
 * is the verdict on the i-th input. Resolves after the re-evaluations they caused.
 */
export async function ingestKeyEvents(
  opts: KeyEventIntakeOptions,
  inputs: readonly KelResult<DecodedKeyEvent>[],
): Promise<KeyEventResult[]> {
  const { core, store, stage } = opts;
  const nowSeconds = Math.floor(opts.now() / 1000);
  const decoded = inputs.flatMap((r) => (r.ok ? [r.value] : []));
  const outcomes = stage.registry.submit(core, decoded, nowSeconds, opts.skewSeconds);
  // an accepted key event's result is written once its re-evaluation is done (undefined till then)
  const results: (KeyEventResult | undefined)[] = [];
  const pending: { index: number; id: string; identity: string; attached: readonly string[] }[] =
    [];
  const counts = new Map<number, Reevaluation>();
  const records: AuditRecord[] = [];
  const keyEvents: KeyEventRow[] = [];
  let at = 0;
  for (const input of inputs) {
    if (!input.ok) {
      results.push({ status: 'rejected', reason: input.reason, detail: input.detail });
      records.push({ type: 'reject', reason: input.reason, detail: { detail: input.detail } });
      continue;
    }
    const d = input.value;
    const outcome = outcomes[at++] as (typeof outcomes)[number];
    if (!outcome.ok) {
      results.push({
        status: 'rejected',
        id: d.idHex,
        reason: outcome.reason,
        detail: outcome.detail,
      });
      records.push({
        type: 'reject',
        eventId: d.id,
        reason: outcome.reason,
        detail: { detail: outcome.detail },
      });
      continue;
    }
    if (outcome.outcome === 'duplicate') {
      results.push({ status: 'duplicate', id: d.idHex, identity: d.identity });
      continue;
    }
    if (outcome.outcome === 'escrowed') {
      results.push({
        status: 'escrowed',
        id: d.idHex,
        identity: d.identity,
        waiting_for: outcome.waitingFor,
      });
      continue;
    }
    const log = stage.registry.log(outcome.identity);
    for (const idHex of outcome.attached) {
      const e = log?.attachedEvent(idHex);
      if (e === undefined) throw new Error(`attached key event ${idHex} is not in its log`);
      keyEvents.push({
        id: e.id,
        identity: e.identity,
        type: e.event.type,
        createdAt: e.event.createdAt,
        encoded: e.encoded,
      });
      records.push({ type: 'critical', eventId: e.id, detail: attachedDetail(core, e) });
    }
    for (const dropped of outcome.dropped) {
      records.push({
        type: 'reject',
        eventId: Buffer.from(dropped.idHex, 'hex'),
        reason: dropped.reason,
        detail: { detail: `escrowed, then refused: ${dropped.detail}` },
      });
    }
    counts.set(results.length, stage.enqueue(outcome.identity, outcome.affected, d.idHex));
    pending.push({
      index: results.length,
      id: d.idHex,
      identity: outcome.identity,
      attached: outcome.attached,
    });
    results.push(undefined);
  }
  if (records.length > 0) {
    try {
      store.commit([], records, keyEvents.length > 0 ? { identity: { keyEvents } } : {});
    } catch (error) {
      stage.reload(); // the logs as the store holds them: nothing of this batch joined
      throw error;
    }
    if (keyEvents.length > 0) opts.onAttached?.(keyEvents.map((k) => k.encoded));
  }
  await stage.drain();
  for (const p of pending) {
    results[p.index] = {
      status: 'accepted',
      id: p.id,
      identity: p.identity,
      attached: p.attached,
      reevaluated: { ...(counts.get(p.index) as Reevaluation) },
    };
  }
  return results as KeyEventResult[];
}
