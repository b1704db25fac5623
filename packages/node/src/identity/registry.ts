/**
 * Every identity a node knows, by did:cs: the O(1) lookup of an identity's resolved state on
 * the hot path, and the routing of verified key events to their identity's log. Key events of
 * an identity whose inception is not held yet wait in a bounded escrow of their own.
 */
import type { Hasher } from '../protocol/event.js';
import type { IdentityState } from './chain.js';
import { checkKeyEventTime, type DecodedKeyEvent, signerSetOf } from './key-event.js';
import {
  type AddOutcome,
  byIdThenSigners,
  DEFAULT_KEL_BOUNDS,
  type DroppedKeyEvent,
  type KelBounds,
  KeyEventLog,
} from './log.js';
import { KelReason, type KelRejection, kelReject } from './reasons.js';
import { affectedKeyStates } from './verdict.js';
import { type BatchVerifier, type VerifiedKeyEvent, verifyKeyEvents } from './verify.js';

export interface RegistryBounds extends KelBounds {
  /** Key events waiting for an inception that is not held, all identities together. */
  readonly maxOrphans: number;
}

export const DEFAULT_REGISTRY_BOUNDS: RegistryBounds = Object.freeze({
  ...DEFAULT_KEL_BOUNDS,
  maxOrphans: 1024,
});

/** What adding one key event did. */
export type RegistryOutcome =
  | (Exclude<AddOutcome, KelRejection> & {
      readonly identity: string;
      /** Key states whose verdicts may have changed (see `affectedKeyStates`). */
      readonly affected: ReadonlySet<string>;
    })
  | KelRejection;

let versions = 0;
const nextVersion = (): number => ++versions;

export class IdentityRegistry {
  private readonly logs = new Map<string, KeyEventLog>();
  private readonly orphans = new Map<string, VerifiedKeyEvent[]>();
  private orphanCount = 0;
  #version = nextVersion();

  /**
   * Changes with every key event offered to {@link add}, and differs between registries (one
   * count for the process): while it holds, no identity's state here changed, so what was read
   * of the states stands (the identity verdict's lookups are kept by it).
   */
  get version(): number {
    return this.#version;
  }

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

  /**
   * §6 step 5: the key event is attached here, or a copy of it signed by the same keys
   * (`signerSetOf`) waits in escrow.
   */
  holds(identity: string, idHex: string, signers: string): boolean {
    const log = this.logs.get(identity);
    if (log !== undefined) return log.holds(idHex) || log.escrows(idHex, signers);
    return (this.orphans.get(identity) ?? []).some(
      (e) => e.idHex === idHex && signerSetOf(e) === signers,
    );
  }

  /**
   * §6 steps 4–9 for a batch of decoded key events, in order: the local time rule, duplicates
   * (no signature work for them), one batch verification of every remaining signature, then
   * each event joins, waits or is refused. One outcome per input, in input order.
   */
  submit(
    core: BatchVerifier,
    events: readonly DecodedKeyEvent[],
    now: number,
    skewSeconds = 300,
  ): RegistryOutcome[] {
    const outcomes: Array<RegistryOutcome | null> = events.map((e) => {
      const time = checkKeyEventTime(e.event, now, skewSeconds);
      if (!time.ok) return time;
      if (this.holds(e.identity, e.idHex, signerSetOf(e))) {
        return {
          ok: true,
          outcome: 'duplicate',
          identity: e.identity,
          affected: new Set<string>(),
        };
      }
      return null;
    });
    const pending = events.filter((_, i) => outcomes[i] === null);
    const verified = verifyKeyEvents(core, pending);
    let at = 0;
    return outcomes.map((o) => {
      if (o !== null) return o;
      const v = verified[at++] as (typeof verified)[number];
      // an earlier event of the same batch may have been this very one
      if (v.ok && this.holds(v.value.identity, v.value.idHex, signerSetOf(v.value))) {
        return {
          ok: true,
          outcome: 'duplicate',
          identity: v.value.identity,
          affected: new Set<string>(),
        };
      }
      return v.ok ? this.add(v.value) : v;
    });
  }

  /** Adds one verified key event. */
  add(event: VerifiedKeyEvent): RegistryOutcome {
    this.#version = nextVersion();
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
      const waiting = (this.orphans.get(identity) ?? []).sort(byIdThenSigners);
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
      // a copy refused while another copy of the same key event joined is not a drop
      outcome = {
        ok: true,
        outcome: 'accepted',
        attached,
        dropped: dropped.filter((d) => !target.holds(d.idHex)),
      };
    } else {
      target = log;
      outcome = log.add(event);
      if (!outcome.ok) return outcome;
    }
    return { ...outcome, identity, affected: affectedKeyStates(before, target.state) };
  }

  private orphan(event: VerifiedKeyEvent): RegistryOutcome {
    const list = this.orphans.get(event.identity) ?? [];
    if (list.some((e) => e.idHex === event.idHex && signerSetOf(e) === signerSetOf(event))) {
      return { ok: true, outcome: 'duplicate', identity: event.identity, affected: new Set() };
    }
    if (this.orphanCount >= this.bounds.maxOrphans) {
      return kelReject(
        KelReason.LIMIT,
        `${this.bounds.maxOrphans} key events already wait for their inception`,
      );
    }
    this.orphans.set(event.identity, [...list, event]);
    this.orphanCount++;
    return {
      ok: true,
      outcome: 'escrowed',
      waitingFor: event.identity,
      identity: event.identity,
      affected: new Set(),
    };
  }
}
