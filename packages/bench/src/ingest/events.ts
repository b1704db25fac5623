/**
 * Signed events for the ingest bench, made the way a client would send them: 200 authors (a
 * validator sees the same authors again and again), a small transfer payload, one signature,
 * serialized as the JSON body of `POST /v1/events`. Event `i` of a factory is always the same
 * bytes for the same clock, so two stores fed the same events can be compared row for row.
 */
import * as nodeCrypto from 'node:crypto';

import type { Core } from '@commons-sync/bindings';
import { type BulkEvent, protocol } from '@commons-sync/node';

export const AUTHORS = 200;

/**
 * The payload of event `i` (of author `i mod 200`), its members in this order in the JSON text
 * (not the canonical order: the node sorts them, as it would a client's).
 */
export function transferPayload(i: number): protocol.Payload {
  const a = i % AUTHORS;
  return { from: `acct-${a}`, to: `acct-${(a * 7 + i) % 997}`, amount: i % 10_000, memo: 'bench' };
}

/** One `POST /v1/events` body: a JSON array of `count` events. */
export interface EventBatch {
  readonly count: number;
  readonly body: Buffer;
}

/** Events `[first, first + count)` at `now` (Unix seconds), asked of a generator thread. */
export interface BatchRequest {
  readonly seq: number;
  readonly first: number;
  readonly count: number;
  readonly now: number;
}

/** What node:crypto verifies for the baseline: the same signatures, keys made in advance. */
export interface NodeCryptoCheck {
  readonly key: nodeCrypto.KeyObject;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** SPKI DER prefix of an Ed25519 public key (RFC 8410), for node:crypto KeyObjects. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class EventFactory {
  private readonly seeds: Uint8Array[];
  private readonly dids: string[];
  readonly publicKeys: Uint8Array[];

  /** `label` keeps the nonces of two factories apart (two stores may need disjoint events). */
  constructor(
    private readonly core: Core,
    readonly label = 'ingest',
  ) {
    const enc = new TextEncoder();
    this.seeds = Array.from({ length: AUTHORS }, (_, i) => core.sha256(enc.encode(`author/${i}`)));
    this.publicKeys = this.seeds.map((s) => core.ed25519PublicKey(s));
    this.dids = this.publicKeys.map((k) => protocol.didKeyFromPublicKey(k));
  }

  /** Event `i`, created 5 s before `now` (Unix seconds), valid for an hour. */
  event(i: number, now: number): protocol.DecodedEvent {
    const a = i % AUTHORS;
    const nonce = this.core
      .sha256(new TextEncoder().encode(`${this.label}/nonce/${i}`))
      .subarray(0, 16);
    const body: protocol.EventBody = {
      v: 1,
      kind: 'transfer',
      author: this.dids[a] as string,
      createdAt: now - 5,
      expiresAt: now + 3600,
      nonce,
      payload: transferPayload(i),
    };
    const bodyBytes = protocol.encodeBody(body);
    const id = this.core.sha256(bodyBytes);
    const sig = this.core.ed25519Sign(this.seeds[a] as Uint8Array, protocol.signingInput(id));
    const event: protocol.CommonsEvent = {
      ...body,
      signatures: [{ signer: this.dids[a] as string, sig }],
    };
    return {
      event,
      body: bodyBytes,
      encoded: protocol.encodeEvent(event),
      authorKey: this.publicKeys[a] as Uint8Array,
      signerKeys: [this.publicKeys[a] as Uint8Array],
    };
  }

  /** Events `[first, first + count)` as one request body. */
  batch(first: number, count: number, now: number): EventBatch {
    const json: unknown[] = [];
    for (let i = first; i < first + count; i++)
      json.push(protocol.eventToJson(this.event(i, now).event));
    return { count, body: Buffer.from(JSON.stringify(json)) };
  }

  /**
   * Events `[first, first + count)` as the bulk loader stores them: the fields the pipeline
   * keeps of an accepted event (its id is the SHA-256 of the canonical body, as the node's).
   */
  bulkEvents(first: number, count: number, now: number): BulkEvent[] {
    const out: BulkEvent[] = [];
    for (let i = first; i < first + count; i++) {
      const d = this.event(i, now);
      out.push({
        id: this.core.sha256(d.body),
        author: d.event.author,
        kind: d.event.kind,
        nonce: d.event.nonce,
        createdAt: d.event.createdAt,
        expiresAt: d.event.expiresAt,
        encoded: d.encoded,
      });
    }
    return out;
  }

  /** `total` events in batches of `size`. */
  batches(first: number, total: number, size: number, now: number): EventBatch[] {
    const out: EventBatch[] = [];
    for (let i = 0; i < total; i += size)
      out.push(this.batch(first + i, Math.min(size, total - i), now));
    return out;
  }

  /** The signatures of events `[first, first + count)` for node:crypto. */
  nodeCryptoChecks(first: number, count: number, now: number): NodeCryptoCheck[] {
    const keys = this.publicKeys.map((k) =>
      nodeCrypto.createPublicKey({
        key: Buffer.concat([ED25519_SPKI_PREFIX, k]),
        format: 'der',
        type: 'spki',
      }),
    );
    const out: NodeCryptoCheck[] = [];
    for (let i = first; i < first + count; i++) {
      const d = this.event(i, now);
      const check = protocol.signatureChecks(
        d,
        this.core.sha256(d.body),
      )[0] as protocol.SignatureCheck;
      out.push({
        key: keys[i % AUTHORS] as nodeCrypto.KeyObject,
        message: check.message,
        signature: check.signature,
      });
    }
    return out;
  }

  /** The packed signature checks of events `[first, first + count)` (raw pool verification). */
  signatureChecks(first: number, count: number, now: number): protocol.SignatureCheck[] {
    const out: protocol.SignatureCheck[] = [];
    for (let i = first; i < first + count; i++) {
      const d = this.event(i, now);
      out.push(...protocol.signatureChecks(d, this.core.sha256(d.body)));
    }
    return out;
  }
}

/**
 * node:crypto single-thread verification rate (signatures per second) over `checks`, for at
 * least `seconds`: the reference the ingest target is a multiple of.
 */
export function nodeCryptoVerifyRate(checks: readonly NodeCryptoCheck[], seconds: number): number {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (const c of checks) {
      if (!nodeCrypto.verify(null, c.message, c.key, c.signature))
        throw new Error('node:crypto rejected a benchmark signature');
    }
    n += checks.length;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  return n / elapsed;
}
