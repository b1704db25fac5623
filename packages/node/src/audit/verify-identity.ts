/**
 * `audit verify` for identities (spec/IDENTITY.md; spec/AUDIT.md §2.3):
 *
 * - every `key_events` row decodes, is its id, verifies, and has exactly one `critical`
 *   "attached" entry in the log naming it with SHA-256 of its bytes, and every such entry has
 *   its row; replayed in stored order the rows rebuild the logs and every one of them joins;
 * - every stored event whose author is a did:cs is listed by an `identity_runs` or an
 *   `identity_staged` row under its key state, exactly once, and every seq a row lists is a
 *   stored event; every
 *   `identity_invalid` row names such a listed event;
 * - every such event still unexpired stands as the rebuilt logs say: valid, or invalidated
 *   with the code they give (an expired event is no longer judged again, so its standing is
 *   the one it had when it expired).
 */
import type { Core } from '@commons-sync/bindings';

import {
  checkKeyStateStanding,
  decodeKeyEvent,
  IdentityRegistry,
  verifyKeyEvents,
} from '../identity/index.js';
import type { AuditEntry } from './entry.js';
import { type AuditData, fail, hex, isBlob, type Row, same } from './verify-common.js';

/** The `critical` entries that record key events joining their logs, by key event id. */
export class AttachedEntries {
  readonly #byId = new Map<string, { seq: number; encodedHash: string }>();

  /** Called for every entry in log order. */
  note(e: AuditEntry): void {
    if (e.type !== 'critical' || e.eventId === null) return;
    let detail: unknown;
    try {
      detail = JSON.parse(e.detail);
    } catch {
      return;
    }
    const d = detail as { key_event?: unknown; encodedHash?: unknown };
    if (d.key_event !== 'attached') return;
    if (typeof d.encodedHash !== 'string')
      fail('audit_entries', e.seq, 'key event entry without encodedHash');
    const id = hex(e.eventId);
    const earlier = this.#byId.get(id);
    if (earlier !== undefined)
      fail('audit_entries', e.seq, `key event ${id} was already recorded by entry ${earlier.seq}`);
    this.#byId.set(id, { seq: e.seq, encodedHash: d.encodedHash });
  }

  take(id: string): { seq: number; encodedHash: string } | undefined {
    const found = this.#byId.get(id);
    this.#byId.delete(id);
    return found;
  }

  /** The entries no row claimed. */
  rest(): [string, { seq: number }][] {
    return [...this.#byId];
  }
}

/** Throws {@link Found} at the first identity row that breaks a rule; `now` is Unix seconds. */
export function verifyIdentities(
  data: AuditData,
  core: Core,
  entries: AttachedEntries,
  now: number,
): void {
  const rows = [...data.keyEventRows()];
  const decoded = rows.map((row) => {
    const { seq, id, identity, encoded } = row;
    const name = String(seq);
    if (!isBlob(id, 32) || typeof identity !== 'string' || !isBlob(encoded))
      fail('key_events', name, 'malformed column');
    const d = decodeKeyEvent(core, encoded);
    if (!d.ok) fail('key_events', name, `no longer decodes: ${d.reason} (${d.detail})`);
    if (!same(d.value.id, id)) fail('key_events', name, 'id is not the hash of its body');
    if (d.value.identity !== identity) fail('key_events', name, 'identity differs from the event');
    const entry = entries.take(hex(id));
    if (entry === undefined) fail('key_events', name, 'no audit entry records it');
    if (hex(core.sha256(encoded)) !== entry.encodedHash)
      fail('key_events', name, `bytes differ from audit entry ${entry.seq}`);
    return d.value;
  });
  const [unclaimed] = entries.rest();
  if (unclaimed !== undefined)
    fail('audit_entries', unclaimed[1].seq, `key event ${unclaimed[0]} has no key_events row`);
  const registry = new IdentityRegistry(core);
  verifyKeyEvents(core, decoded).forEach((v, i) => {
    const name = String((rows[i] as Row)['seq']);
    if (!v.ok) fail('key_events', name, `no longer verifies: ${v.detail}`);
    const outcome = registry.add(v.value);
    if (!outcome.ok) fail('key_events', name, `no longer joins its log: ${outcome.reason}`);
  });
  decoded.forEach((d, i) => {
    if (registry.log(d.identity)?.holds(d.idHex) !== true)
      fail('key_events', String((rows[i] as Row)['seq']), 'never joins its log');
  });

  const listed = new SeqSet();
  for (const row of data.identityEventRows()) {
    const { event_seq, event_id, identity, key_state, created_at, expires_at, invalid_reason } =
      row;
    const name = String(event_seq);
    const table = row['staged'] === undefined ? 'identity_runs' : 'identity_staged';
    if (row['malformed'] !== undefined)
      fail(table, name, `malformed ${table === 'identity_runs' ? 'seqs' : 'entries'} column`);
    if (!isBlob(event_id, 32)) fail(table, name, 'names no event');
    if (!listed.add(event_seq as number)) fail(table, name, 'lists an event twice');
    if (typeof identity !== 'string' || typeof key_state !== 'string')
      fail(table, name, 'malformed column');
    if (!Number.isSafeInteger(created_at) || !Number.isSafeInteger(expires_at))
      fail(table, name, 'malformed time column');
    if ((expires_at as number) <= now) continue;
    const v = checkKeyStateStanding(registry.get(identity), {
      author: identity,
      createdAt: created_at as number,
      keyState: key_state,
    });
    const expected = v.ok ? null : v.reason;
    if ((invalid_reason ?? null) !== expected) {
      fail(
        table,
        name,
        `stands ${invalid_reason ?? 'valid'}, but the key event logs say ${expected ?? 'valid'}`,
      );
    }
  }
  for (const { event_seq } of data.invalidationRows())
    if (!listed.has(event_seq as number))
      fail('identity_invalid', String(event_seq), 'names no listed event');
}

/** A set of event seqs (positive integers) as a bitmap that grows with the largest. */
class SeqSet {
  #bits = new Uint8Array(1024);

  /** Adds `seq`; false if it was already in. */
  add(seq: number): boolean {
    if (this.has(seq)) return false;
    const byte = Math.floor(seq / 8);
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, 2 * this.#bits.length));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[byte] = (this.#bits[byte] as number) | (1 << (seq % 8));
    return true;
  }

  has(seq: number): boolean {
    const byte = Math.floor(seq / 8);
    return byte < this.#bits.length && ((this.#bits[byte] as number) & (1 << (seq % 8))) !== 0;
  }
}

/** For verify-events.ts: an event by an identity has its row, naming the event's key state. */
export function checkIdentityRow(data: AuditData, seq: number, keyState: Uint8Array): void {
  if (data.hasIdentityRow(seq, hex(keyState))) return;
  if (data.identityRowKeyStates(seq).length > 0)
    fail('events', seq, 'its identity row names another key state than the event');
  fail('events', seq, 'an event by an identity without its identity row');
}
