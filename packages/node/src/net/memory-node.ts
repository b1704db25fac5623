/**
 * An in-memory event store and audit log behind the sync engine, with the reference validator
 * deciding every event: what the transport tests (and a demo) run real TLS nodes on, without
 * SQLite. The node wires its own storage and pipeline instead (see spec/SYNC.md §12).
 */
import type { Core } from '@commons-sync/bindings';

import { checkpointMessage } from '../audit/checkpoint.js';
import { consistencyProof, hashLeaf, rootOfLeaves, subtreeOfLeaves } from '../audit/merkle.js';
import { toHex } from '../protocol/bytes.js';
import {
  DEFAULT_TIME_RULES,
  OPEN_TRUST,
  type TimeRules,
  type TrustPolicy,
} from '../protocol/rules.js';
import { judgeEvent } from './engine/judge.js';
import type { EventSource, EventVerdict, OwnLog } from './engine/types.js';
import type { ValidateItem } from './transport/peer-host.js';
import type { WireCheckpoint } from './wire/messages.js';

export interface MemoryNodeOptions {
  readonly trust?: TrustPolicy;
  readonly timeRules?: TimeRules;
  readonly clock?: () => number;
}

export class MemoryEventStore implements EventSource {
  readonly events = new Map<string, Uint8Array>();
  private readonly replay = new Map<string, Uint8Array>();
  /** Which peer delivered each event first (null: a client). */
  readonly provenance = new Map<string, string | null>();

  constructor(
    private readonly core: Core,
    private readonly log: MemoryAuditLog,
    private readonly opts: MemoryNodeOptions = {},
  ) {}

  get(id: Uint8Array): Uint8Array | undefined {
    return this.events.get(toHex(id));
  }

  /** Validates and stores, as the node's pipeline does; `accepted` means stored. */
  async validate(items: readonly ValidateItem[]): Promise<EventVerdict[]> {
    return items.map((item) => ({ ...this.take(item.event, item.peer), id: item.id }));
  }

  /** A client's event (the HTTP API's path). */
  submit(event: Uint8Array): EventVerdict {
    return this.take(event, null);
  }

  /** Validates one event (exactly these bytes) and stores it if valid. */
  take(bytes: Uint8Array, peer: string | null): EventVerdict {
    const j = judgeEvent(this.core, bytes, {
      now: Math.floor((this.opts.clock ?? Date.now)() / 1000),
      timeRules: this.opts.timeRules ?? DEFAULT_TIME_RULES,
      trust: this.opts.trust ?? OPEN_TRUST,
      lookupReplay: (author, nonce) => this.replay.get(`${author}/${toHex(nonce)}`),
    });
    if (j.outcome === 'rejected')
      return { id: new Uint8Array(32), outcome: 'rejected', reason: j.reason };
    if (j.outcome === 'duplicate') return { id: j.id, outcome: 'duplicate' };
    const key = toHex(j.id);
    if (this.events.has(key)) return { id: j.id, outcome: 'duplicate' };
    this.events.set(key, Uint8Array.from(bytes));
    this.provenance.set(key, peer);
    if (j.outcome === 'accepted')
      this.replay.set(`${j.event.author}/${toHex(j.event.nonce)}`, j.id);
    this.log.append(j.id);
    return { id: j.id, outcome: j.outcome };
  }
}

/** An audit log of accepted ids as an RFC 6962 tree, with checkpoints signed by the node key. */
export class MemoryAuditLog implements OwnLog {
  private readonly leaves: Uint8Array[] = [];
  private latestCheckpoint: WireCheckpoint | null = null;

  constructor(
    private readonly core: Core,
    private readonly publicKey: Uint8Array,
    private readonly sign: (message: Uint8Array) => Promise<Uint8Array>,
  ) {}

  get size(): number {
    return this.leaves.length;
  }

  append(id: Uint8Array): void {
    this.leaves.push(hashLeaf(this.core.sha256, id));
  }

  async checkpoint(nowMs: number): Promise<WireCheckpoint> {
    const unsigned = {
      treeSize: this.leaves.length,
      root: rootOfLeaves(this.core.sha256, this.leaves),
      time: nowMs,
      publicKey: this.publicKey,
    };
    const cp = { ...unsigned, signature: await this.sign(checkpointMessage(unsigned)) };
    this.latestCheckpoint = cp;
    return cp;
  }

  latest(): WireCheckpoint | null {
    return this.latestCheckpoint;
  }

  consistencyProof(from: number, to: number): Uint8Array[] | null {
    if (to > this.leaves.length || from > to) return null;
    return consistencyProof(from, to, subtreeOfLeaves(this.core.sha256, this.leaves));
  }
}
