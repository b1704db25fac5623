/**
 * How a node's validation result maps to what the engine needs to know (spec/SYNC.md §6.3):
 * the reference validator on exactly the received bytes, and for ERR_REPLAY a second look
 * without the replay record: a replay that is otherwise valid is an author's equivocation
 * (`conflict`, kept as evidence), anything else keeps the reason of that second look.
 */
import type { CommonsEvent } from '../../protocol/event.js';
import { Reason } from '../../protocol/reasons.js';
import { type ValidationContext, type Verifier, validateEvent } from '../../protocol/validate.js';

export type Judgement =
  | {
      readonly outcome: 'accepted' | 'conflict';
      readonly id: Uint8Array;
      readonly event: CommonsEvent;
    }
  | { readonly outcome: 'duplicate'; readonly id: Uint8Array }
  | { readonly outcome: 'rejected'; readonly reason: string; readonly detail: string };

export function judgeEvent(core: Verifier, bytes: Uint8Array, ctx: ValidationContext): Judgement {
  const v = validateEvent(core, bytes, ctx);
  if (v.ok) {
    return v.outcome === 'duplicate'
      ? { outcome: 'duplicate', id: v.id }
      : { outcome: 'accepted', id: v.id, event: v.decoded.event };
  }
  if (v.reason !== Reason.REPLAY)
    return { outcome: 'rejected', reason: v.reason, detail: v.detail };
  const fresh = validateEvent(core, bytes, { ...ctx, lookupReplay: () => undefined });
  if (!fresh.ok) return { outcome: 'rejected', reason: fresh.reason, detail: fresh.detail };
  return { outcome: 'conflict', id: fresh.id, event: fresh.decoded.event };
}
