/**
 * A simulated node: the real sync engine and the real validator (`protocol/validate.ts`, on the
 * exact bytes received) over an in-memory store with a durable part and a volatile part. What
 * was validated but not yet "fsynced" is lost in a crash, as on a real disk; an event is
 * acknowledged (to a client, or to the engine as `accepted`) only once it is durable.
 */
import type { Core } from '@commons-sync/bindings';

import { checkpointMessage } from '../../audit/checkpoint.js';
import { consistencyProof, hashLeaf, rootOfLeaves, subtreeOfLeaves } from '../../audit/merkle.js';
import { toHex } from '../../protocol/bytes.js';
import { didKeyFromPublicKey } from '../../protocol/did.js';
import { decodeEvent } from '../../protocol/event.js';
import { Reason } from '../../protocol/reasons.js';
import type { TimeRules, TrustPolicy } from '../../protocol/rules.js';
import { type ValidationContext, validateEvent } from '../../protocol/validate.js';
import type { EngineConfig } from '../engine/config.js';
import { SyncEngine } from '../engine/engine.js';
import type { EngineAction, EventVerdict, OwnLog } from '../engine/types.js';
import { SyncIndex } from '../reconcile/sync-index.js';
import type { WireCheckpoint } from '../wire/messages.js';

export interface StoredEvent {
  readonly bytes: Uint8Array;
  readonly id: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly kind: 'accepted' | 'conflict';
  /** Simulated time of the commit (ms). */
  readonly committedMs: number;
}

interface Pending {
  readonly peer: string | null;
  readonly id: Uint8Array;
  readonly bytes: Uint8Array;
  /** Set for events a client submitted (acknowledged once durable). */
  readonly client: boolean;
}

interface Buffered extends Pending {
  readonly kind: 'accepted' | 'conflict';
  /** When the verdict was reached (the time rules were applied at this time). */
  readonly validatedMs: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly replayKey: string | null;
}

export interface SimNodeOptions {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly core: Core;
  readonly trust: TrustPolicy;
  readonly timeRules: TimeRules;
  readonly admitted: (did: string) => boolean;
  readonly config: EngineConfig;
  readonly hostile: boolean;
}

const replayKeyOf = (author: string, nonce: Uint8Array): string => `${author}/${toHex(nonce)}`;

export class SimNode {
  readonly name: string;
  readonly did: string;
  readonly publicKey: Uint8Array;
  readonly hostile: boolean;
  alive = true;
  engine: SyncEngine;
  index: SyncIndex;
  // durable
  readonly store = new Map<string, StoredEvent>();
  private readonly replay = new Map<string, Uint8Array>();
  readonly auditLeaves: Uint8Array[] = [];
  private latestCheckpoint: WireCheckpoint | null = null;
  /** Events acknowledged to clients (durable when acknowledged). */
  readonly acked = new Set<string>();
  // volatile
  validationQueue: Pending[] = [];
  private writeBuffer: Buffered[] = [];
  readonly audits: EngineAction[] = [];

  constructor(private readonly opts: SimNodeOptions) {
    this.name = opts.name;
    this.hostile = opts.hostile;
    this.publicKey = opts.core.ed25519PublicKey(opts.seed);
    this.did = didKeyFromPublicKey(this.publicKey);
    this.index = new SyncIndex(opts.core.sha256);
    this.engine = this.makeEngine();
  }

  get seed(): Uint8Array {
    return this.opts.seed;
  }

  /** Loses everything not durable. */
  crash(): void {
    this.alive = false;
    this.validationQueue = [];
    this.writeBuffer = [];
  }

  /** Comes back with a fresh engine over the durable store. */
  restart(nowMs: number): void {
    this.alive = true;
    this.index = new SyncIndex(this.opts.core.sha256);
    for (const e of this.store.values()) {
      this.index.insert({ timestamp: e.createdAt, id: e.id, expiresAt: e.expiresAt, kind: e.kind });
    }
    this.index.pruneExpired(Math.floor(nowMs / 1000));
    this.engine = this.makeEngine();
  }

  private makeEngine(): SyncEngine {
    const core = this.opts.core;
    const ownLog: OwnLog = {
      latest: () => this.latestCheckpoint,
      consistencyProof: (from, to) => {
        if (to > this.auditLeaves.length || from > to) return null;
        return consistencyProof(from, to, subtreeOfLeaves(core.sha256, this.auditLeaves));
      },
    };
    return new SyncEngine({
      self: this.did,
      sha256: core.sha256,
      index: this.index,
      events: { get: (id) => this.store.get(toHex(id))?.bytes },
      ownLog,
      admitted: this.opts.admitted,
      checkCheckpoint: (cp) =>
        core.ed25519Verify(cp.publicKey, checkpointMessage(cp), cp.signature),
      partials: {
        sha256: core.sha256,
        ed25519Verify: core.ed25519Verify,
        trust: this.opts.trust,
        timeRules: this.opts.timeRules,
      },
      config: this.opts.config,
    });
  }

  /** A client submits an event to this node (validated like any other, acknowledged once durable). */
  submit(bytes: Uint8Array): void {
    const decoded = decodeEvent(bytes);
    const id = decoded.ok ? this.opts.core.sha256(decoded.value.body) : new Uint8Array(32);
    this.validationQueue.push({ peer: null, id, bytes, client: true });
  }

  /** Queues what the engine asked to validate. */
  enqueue(action: EngineAction & { type: 'validate' }): void {
    this.validationQueue.push({
      peer: action.peer,
      id: action.id,
      bytes: action.event,
      client: false,
    });
  }

  private context(nowMs: number, withReplay: boolean): ValidationContext {
    const buffered = new Map(
      this.writeBuffer
        .filter((b) => b.replayKey !== null)
        .map((b) => [b.replayKey as string, b.id]),
    );
    return {
      now: Math.floor(nowMs / 1000),
      timeRules: this.opts.timeRules,
      trust: this.opts.trust,
      lookupReplay: (author, nonce) => {
        if (!withReplay) return undefined;
        const key = replayKeyOf(author, nonce);
        return this.replay.get(key) ?? buffered.get(key);
      },
    };
  }

  /**
   * Validates up to `n` queued events (as the pipeline would, on exactly the bytes received).
   * Rejections and duplicates are reported at once; accepted events wait for `fsync`.
   */
  validate(n: number, nowMs: number): EventVerdict[] {
    const verdicts: EventVerdict[] = [];
    for (const item of this.validationQueue.splice(0, n)) {
      const v = validateEvent(this.opts.core, item.bytes, this.context(nowMs, true));
      if (v.ok) {
        if (
          v.outcome === 'duplicate' ||
          this.writeBuffer.some((b) => toHex(b.id) === toHex(v.id))
        ) {
          if (!item.client) verdicts.push({ id: item.id, outcome: 'duplicate' });
          continue;
        }
        const { event } = v.decoded;
        this.writeBuffer.push({
          ...item,
          id: v.id,
          kind: 'accepted',
          validatedMs: nowMs,
          createdAt: event.createdAt,
          expiresAt: event.expiresAt,
          replayKey: replayKeyOf(event.author, event.nonce),
        });
        continue;
      }
      if (v.reason === Reason.REPLAY && !item.client) {
        // valid but for its nonce: the author signed two events with one nonce (§6.3)
        const fresh = validateEvent(this.opts.core, item.bytes, this.context(nowMs, false));
        if (fresh.ok && !this.store.has(toHex(fresh.id))) {
          const { event } = fresh.decoded;
          this.writeBuffer.push({
            ...item,
            id: fresh.id,
            kind: 'conflict',
            validatedMs: nowMs,
            createdAt: event.createdAt,
            expiresAt: event.expiresAt,
            replayKey: null,
          });
          continue;
        }
        if (!item.client)
          verdicts.push({
            id: item.id,
            outcome: 'rejected',
            reason: fresh.ok ? Reason.REPLAY : fresh.reason,
          });
        continue;
      }
      if (!item.client) verdicts.push({ id: item.id, outcome: 'rejected', reason: v.reason });
    }
    return verdicts;
  }

  /** Makes the write buffer durable; returns what became durable. */
  fsync(nowMs: number): Buffered[] {
    const done = this.writeBuffer;
    this.writeBuffer = [];
    for (const b of done) {
      const key = toHex(b.id);
      if (this.store.has(key)) continue;
      this.store.set(key, {
        bytes: b.bytes,
        id: b.id,
        createdAt: b.createdAt,
        expiresAt: b.expiresAt,
        kind: b.kind,
        committedMs: nowMs,
      });
      if (b.replayKey !== null) this.replay.set(b.replayKey, b.id);
      this.auditLeaves.push(hashLeaf(this.opts.core.sha256, b.id));
      if (b.client && b.kind === 'accepted') this.acked.add(key);
    }
    return done;
  }

  /** Signs a checkpoint of the audit log as it is now. */
  signCheckpoint(nowMs: number): WireCheckpoint {
    const core = this.opts.core;
    const unsigned = {
      treeSize: this.auditLeaves.length,
      root: rootOfLeaves(core.sha256, this.auditLeaves),
      time: nowMs,
      publicKey: this.publicKey,
    };
    const cp = {
      ...unsigned,
      signature: core.ed25519Sign(this.opts.seed, checkpointMessage(unsigned)),
    };
    this.latestCheckpoint = cp;
    return cp;
  }

  /** A checkpoint of a log this node never had (what a split view shows one peer). */
  forgeCheckpoint(nowMs: number, treeSize: number, root: Uint8Array): WireCheckpoint {
    const unsigned = { treeSize, root, time: nowMs, publicKey: this.publicKey };
    return {
      ...unsigned,
      signature: this.opts.core.ed25519Sign(this.opts.seed, checkpointMessage(unsigned)),
    };
  }
}
