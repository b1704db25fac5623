/**
 * Holds the stored events to the protocol, not only to their hashes (`audit verify`; issue 6):
 *
 * - every stored event still decodes (spec/PROTOCOL.md §3), its id is the SHA-256 of its body,
 *   its columns are its fields, and its signatures and policy still verify (§7 steps 6–7;
 *   verified in batches of {@link BATCH});
 * - no two accepted events share (author, nonce) while both are live (§7 step 5): an event may
 *   reuse the pair of an earlier one only once that one had expired when it was accepted;
 * - every event still live at `now` has its replay record (pointing at it);
 * - an event by an identity has its identity row (verify-identity.ts judges its standing).
 *
 * Time (step 4) and trust (step 8) depend on the node's clock and configuration when the event
 * arrived, and are not re-judged.
 */
import type { Core, SignedItem } from '@commons-sync/bindings';

import {
  type DecodedEvent,
  decodeEvent,
  evaluatePolicy,
  eventId,
  signatureChecks,
} from '../protocol/index.js';
import { indexKey, indexPartition, packReplayKeyInputs } from './event-row.js';
import type { Sha256 } from './merkle.js';
import { type AuditData, fail, hex, same } from './verify-common.js';
import { checkIdentityRow } from './verify-identity.js';

/** Events decoded and signature-checked together. */
export const BATCH = 512;

interface Pending {
  readonly seq: number;
  readonly decoded: DecodedEvent;
  readonly first: number;
}

/** Throws {@link Found} at the first event that breaks a rule; `now` is Unix seconds. */
export function verifyStoredEvents(data: AuditData, core: Core, H: Sha256, now: number): void {
  const lastOfPair = new Map<string, { seq: number; expiresAt: number; key: number }>();
  let pending: Pending[] = [];
  let items: SignedItem[] = [];

  const flush = (): void => {
    if (pending.length === 0) return;
    const verdicts = core.ed25519VerifyBatch(items);
    for (const p of pending) {
      const mine = verdicts.slice(p.first, p.first + p.decoded.event.signatures.length);
      const policy = evaluatePolicy(p.decoded.event, mine);
      if (!policy.ok)
        fail('events', p.seq, `no longer verifies: ${policy.reason} (${policy.detail})`);
    }
    pending = [];
    items = [];
  };

  for (const row of data.events()) {
    const seq = row['seq'] as number;
    const id = row['id'] as Uint8Array;
    const decoded = decodeEvent(row['encoded'] as Uint8Array);
    if (!decoded.ok)
      fail('events', seq, `no longer decodes: ${decoded.reason} (${decoded.detail})`);
    const { event } = decoded.value;
    if (!same(eventId(core, decoded.value), id))
      fail('events', seq, 'id is not the hash of its body');
    if (
      event.author !== row['author'] ||
      event.kind !== row['kind'] ||
      !same(event.nonce, row['nonce'] as Uint8Array) ||
      event.createdAt !== row['created_at'] ||
      event.expiresAt !== row['expires_at']
    ) {
      fail('events', seq, 'a column differs from the stored event');
    }
    if (event.keyState !== undefined) checkIdentityRow(data, seq, event.keyState);

    const digest = H(packReplayKeyInputs([{ author: event.author, nonce: event.nonce }]).data);
    const pair = hex(digest);
    const earlier = lastOfPair.get(pair);
    const acceptedAt = Math.floor((row['received_at'] as number) / 1000);
    if (earlier !== undefined && earlier.expiresAt >= acceptedAt) {
      fail(
        'events',
        seq,
        `shares (author, nonce) with event ${earlier.seq}, which was still live when this one was accepted`,
      );
    }
    lastOfPair.set(pair, { seq, expiresAt: event.expiresAt, key: indexKey(digest) });

    pending.push({ seq, decoded: decoded.value, first: items.length });
    for (const c of signatureChecks(decoded.value, id)) items.push(c);
    if (pending.length >= BATCH) flush();
  }
  flush();
  // The newest event of each pair, if still live, holds its replay record.
  for (const { seq, expiresAt, key } of lastOfPair.values()) {
    if (expiresAt >= now && !data.hasReplayRow(indexPartition(seq), key, seq)) {
      fail(
        'replay',
        `${indexPartition(seq)}/${key}/${seq}`,
        `missing: event ${seq} is live until ${expiresAt}`,
      );
    }
  }
}
