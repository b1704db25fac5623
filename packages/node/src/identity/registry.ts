/**
 * Every identity a node knows, by did:cs: the O(1) lookup of an identity's resolved state on
 * the hot path, and the routing of verified key events to their identity's log. Key events of
 * an identity whose inception is not held yet wait in a bounded escrow of their own.
 */
import type { Hasher } from '../protocol/event.js';
import type { IdentityState } from './chain.js';
import { DEFAULT_KEL_BOUNDS, KeyEventLog, type AddOutcome, type DroppedKeyEvent, type KelBounds } from './log.js';
import { KelReason, kelReject, type KelRejection } from './reasons.js';
import { verifyKeyEvents, type BatchVerifier, type VerifiedKeyEvent } from './verify.js';
import type { DecodedKeyEvent } from './key-event.js';
import { affectedKeyStates } from './verdict.js';

export interface RegistryBounds extends KelBounds {
  /** Key events waiting for an inception that is not held, all identities together. */
  readonly maxOrphans: number;
}

export const DEFAULT_REGISTRY_BOUNDS: RegistryBounds = Object.freeze({ ...DEFAULT_KEL_BOUNDS, maxOrphans: 1024 });

/** What adding one key event did. */
export type RegistryOutcome =
  | (Exclude<AddOutcome, KelRejection> & {
      readonly identity: string;
      /** Key states whose verdicts may have changed (see `affectedKeyStates`). */
      readonly affected: ReadonlySet<string>;
    })
  | KelRejection;

export class IdentityRegistry {
  private readonly logs = new Map<string, KeyEventLog>();
  private readonly orphans = new Map<string, VerifiedKeyEvent[]>();
  private orphanCount = 0;

  constructor(
    private readonly hasher: Hasher,
    private readonly bounds: RegistryBounds = DEFAULT_REGISTRY_BOUNDS,
  ) {}

  /** The resolved state of an identity, or undefined when its inception is not held. */
  get(identity: string): IdentityState | undefined {
    return this.logs.get(identity)?.state;
  }

  /** The log of an identity (to list what to store), or undefined. */
  log(identity: string): KeyEventLog | undefined {
    return this.logs.get(identity);
  }

  identities(): string[] {
    return [...this.logs.keys()].sort();
  }

  /** Verifies a batch of decoded key events (one batch call) and adds those that verified. */
  addAll(core: BatchVerifier, events: readonly DecodedKeyEvent[]): RegistryOutcome[] {
    return verifyKeyEvents(core, events).map((v) => (v.ok ? this.add(v.value) : v));
  }

  /** Adds one verified key event. */
  add(event: VerifiedKeyEvent): RegistryOutcome {
    const identity = event.identity;
    const log = this.logs.get(identity);
    const before = log?.state;
    if (log === undefined && event.event.type !== 'inception') return this.orphan(event);
    let outcome: AddOutcome;
    let target: KeyEventLog;
    if (log === undefined) {
      const created = KeyEventLog.create(this.hasher, event, this.bounds);
      if (!created.ok) return created;
      target = created.value;
      this.logs.set(identity, target);
      const attached = [event.idHex];
      const dropped: DroppedKeyEvent[] = [];
      // Key events that arrived before their inception join now, ids ascending.
      const waiting = (this.orphans.get(identity) ?? []).sort((a, b) => (a.idHex < b.idHex ? -1 : 1));
      this.orphans.delete(identity);
      this.orphanCount -= waiting.length;
      for (const e of waiting) {
        const r = target.add(e);
        if (!r.ok) {
          dropped.push({ idHex: e.idHex, reason: r.reason, detail: r.detail });
        } else if (r.outcome === 'accepted') {
          attached.push(...r.attached);
          dropped.push(...r.dropped);
        }
      }
      outcome = { ok: true, outcome: 'accepted', attached, dropped };
    } else {
      target = log;
      outcome = log.add(event);
      if (!outcome.ok) return outcome;
    }
    return { ...outcome, identity, affected: affectedKeyStates(before, target.state) };
  }

  private orphan(event: VerifiedKeyEvent): RegistryOutcome {
    const list = this.orphans.get(event.identity) ?? [];
    if (list.some((e) => e.idHex === event.idHex)) {
      return { ok: true, outcome: 'escrowed', waitingFor: event.identity, identity: event.identity, affected: new Set() };
    }
    if (this.orphanCount >= this.bounds.maxOrphans) {
      return kelReject(KelReason.LIMIT, `${this.bounds.maxOrphans} key events already wait for their inception`);
    }
    this.orphans.set(event.identity, [...list, event]);
    this.orphanCount++;
    return { ok: true, outcome: 'escrowed', waitingFor: event.identity, identity: event.identity, affected: new Set() };
  }
}
