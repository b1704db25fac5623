/**
 * The ingest bench's identity case: the same events as {@link EventFactory} makes, but by 200
 * identities (did:cs, spec/IDENTITY.md) that rotated once, whose events are signed by the
 * rotated-to key and name that key state (spec/IDENTITY.md §8). Their key events are posted
 * before the clock starts; identity-segments.ts measures them against did:key authors.
 */
import type { Core } from '@commons-sync/bindings';
import { identity, protocol } from '@commons-sync/node';

import { AUTHORS, type EventBatch, transferPayload } from './events.js';

/** At most this many key events per request (the node takes 256). */
const KEY_EVENTS_PER_REQUEST = 200;

interface RotatedIdentity {
  readonly did: string;
  /** The rotated-to key: it signs the identity's events. */
  readonly seed: Uint8Array;
  readonly signer: string;
  /** The rotation's id: the key state the events name. */
  readonly keyState: Uint8Array;
}

/**
 * 200 identities that rotated once: an inception (key k0, committing to k1) an hour before the
 * rotation to k1 (committing to k2), which is an hour before `now`.
 */
export class IdentityAuthors {
  private readonly identities: RotatedIdentity[] = [];
  /** The key events of every identity, inception before rotation, in their JSON form. */
  readonly keyEvents: unknown[] = [];

  constructor(
    private readonly core: Core,
    now: number,
    private readonly label = 'ingest-identity',
  ) {
    const enc = new TextEncoder();
    const didOf = (seed: Uint8Array) => protocol.didKeyFromPublicKey(core.ed25519PublicKey(seed));
    for (let i = 0; i < AUTHORS; i++) {
      const [k0, k1, k2] = [0, 1, 2].map((g) => core.sha256(enc.encode(`${label}/${i}/${g}`))) as [
        Uint8Array,
        Uint8Array,
        Uint8Array,
      ];
      const config = (key: Uint8Array, next: Uint8Array) => ({
        keys: [didOf(key)],
        threshold: 1,
        next: identity.nextCommitment(core, [didOf(next)], 1),
        guardians: [],
        guardianThreshold: 0,
        recoveryDelay: 0,
      });
      const icp = identity.signKeyEvent(
        core,
        { v: 1, type: 'inception', seq: 0, createdAt: now - 7200, ...config(k0, k1) },
        [k0],
      );
      if (!icp.ok) throw new Error(`inception: ${icp.reason} ${icp.detail}`);
      const rot = identity.signKeyEvent(
        core,
        {
          v: 1,
          type: 'rotation',
          identity: icp.value.identity,
          seq: 1,
          prior: icp.value.id,
          createdAt: now - 3600,
          ...config(k1, k2),
        },
        [k1],
      );
      if (!rot.ok) throw new Error(`rotation: ${rot.reason} ${rot.detail}`);
      this.keyEvents.push(
        identity.keyEventToJson(icp.value.event),
        identity.keyEventToJson(rot.value.event),
      );
      this.identities.push({
        did: icp.value.identity,
        seed: k1,
        signer: didOf(k1),
        keyState: rot.value.id,
      });
    }
  }

  /**
   * Event `i`: EventFactory's event `i` (the same payload, spelled in the same order) but by
   * identity `i mod 200` under its rotation, signed by its key, with a nonce of its own.
   */
  event(i: number, now: number): protocol.CommonsEvent {
    const a = i % AUTHORS;
    const author = this.identities[a] as RotatedIdentity;
    const r = protocol.signEvent(
      this.core,
      {
        v: 1,
        kind: 'transfer',
        author: author.did,
        keyState: author.keyState,
        createdAt: now - 5,
        expiresAt: now + 3600,
        nonce: this.core
          .sha256(new TextEncoder().encode(`${this.label}/nonce/${i}`))
          .subarray(0, 16),
        payload: transferPayload(i),
      },
      [author.seed],
    );
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    // the payload's members in the did:key case's order in the JSON text (the signed event
    // holds them in the canonical order, which the node would not have to sort)
    return { ...r.value.event, payload: transferPayload(i) };
  }

  /** `total` events in batches of `size` (request bodies, serialized before the clock). */
  batches(first: number, total: number, size: number, now: number): EventBatch[] {
    const out: EventBatch[] = [];
    for (let i = 0; i < total; i += size) {
      const json: unknown[] = [];
      const count = Math.min(size, total - i);
      for (let k = first + i; k < first + i + count; k++)
        json.push(protocol.eventToJson(this.event(k, now)));
      out.push({ count, body: Buffer.from(JSON.stringify(json)) });
    }
    return out;
  }

  /** Posts the key events to a node (`POST /v1/key-events`); each must be accepted. */
  async postKeyEvents(url: string): Promise<void> {
    for (let i = 0; i < this.keyEvents.length; i += KEY_EVENTS_PER_REQUEST) {
      const res = await fetch(`${url}/v1/key-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.keyEvents.slice(i, i + KEY_EVENTS_PER_REQUEST)),
      });
      const text = await res.text();
      if (res.status !== 200)
        throw new Error(`key events: HTTP ${res.status}: ${text.slice(0, 300)}`);
      const { results } = JSON.parse(text) as { results: { status: string }[] };
      const refused = results.find((r) => r.status !== 'accepted');
      if (refused !== undefined) throw new Error(`key event refused: ${JSON.stringify(refused)}`);
    }
  }
}
