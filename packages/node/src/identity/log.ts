/**
 * The key event log of one identity, applied one event at a time (the node's hot path): a key
 * event joins when the event it refers to is held and the rules of `attach.ts` pass, waits in
 * a bounded escrow while that event is missing, and is refused otherwise. After each change the
 * chain is resolved again (`chain.ts`), so the state after any sequence of additions equals
 * {@link resolveIdentity} of the same set (`resolve.ts`); the property tests hold it to that.
 *
 * No I/O: the node stores what this accepts and replays it at start.
 */
import { toHex } from '../protocol/bytes.js';
import type { Hasher } from '../protocol/event.js';
import { Reason } from '../protocol/reasons.js';
import {
  type AttachedEstablishment,
  checkInception,
  checkSuccessor,
  checkVeto,
  referenceOf,
  startOf,
} from './attach.js';
import { type AttachedSet, type IdentityState, resolveChain } from './chain.js';
import { type EstablishmentBody, isEstablishment, signerSetOf } from './key-event.js';
import {
  type IdentityReasonCode,
  KelReason,
  type KelRejection,
  type KelResult,
  kelAccept,
  kelReject,
} from './reasons.js';
import type { VerifiedKeyEvent } from './verify.js';

/** Local resource bounds of one log (spec/IDENTITY.md §8). Reaching one refuses, with ERR_KEL_LIMIT. */
export interface KelBounds {
  /** Key events attached to one identity. */
  readonly maxEvents: number;
  /** Contestants (establishment events) sharing one prior. */
  readonly maxCandidatesPerPosition: number;
  /** Key events of one identity waiting for the event they refer to. */
  readonly maxEscrow: number;
}

export const DEFAULT_KEL_BOUNDS: KelBounds = Object.freeze({
  maxEvents: 4096,
  maxCandidatesPerPosition: 16,
  maxEscrow: 64,
});

/** A key event that was escrowed and then refused when the event it waited for arrived. */
export interface DroppedKeyEvent {
  readonly idHex: string;
  readonly reason: IdentityReasonCode;
  readonly detail: string;
}

export type AddOutcome =
  | {
      readonly ok: true;
      readonly outcome: 'accepted';
      /** Ids that joined: this event, then escrowed events that were waiting for it. */
      readonly attached: readonly string[];
      readonly dropped: readonly DroppedKeyEvent[];
    }
  | { readonly ok: true; readonly outcome: 'duplicate' }
  | { readonly ok: true; readonly outcome: 'escrowed'; readonly waitingFor: string }
  | KelRejection;

export class KeyEventLog {
  private readonly establishments = new Map<string, AttachedEstablishment>();
  private readonly children = new Map<string, string[]>();
  /** Attached vetoes by id, and their ids by the recovery they veto. */
  private readonly vetoEvents = new Map<string, VerifiedKeyEvent>();
  private readonly vetoes = new Map<string, string[]>();
  /** Escrowed copies by the id they wait for, and the signer sets of the copies of each id. */
  private readonly escrow = new Map<string, VerifiedKeyEvent[]>();
  private readonly escrowCopies = new Map<string, Set<string>>();
  private escrowCount = 0;
  private resolved: IdentityState;

  private constructor(
    private readonly hasher: Hasher,
    private readonly bounds: KelBounds,
    private readonly inception: AttachedEstablishment,
  ) {
    this.establishments.set(inception.event.idHex, inception);
    this.resolved = resolveChain(this.attachedSet());
  }

  /** A log that starts from a verified inception (its own threshold of its own keys signed). */
  static create(
    hasher: Hasher,
    inception: VerifiedKeyEvent,
    bounds: KelBounds = DEFAULT_KEL_BOUNDS,
  ): KelResult<KeyEventLog> {
    if (inception.event.type !== 'inception')
      return kelReject(Reason.BAD_FIELD, 'a key event log starts with an inception');
    const check = checkInception(inception);
    if (!check.ok) return check;
    const body = inception.event as EstablishmentBody;
    return kelAccept(
      new KeyEventLog(hasher, bounds, { event: inception, body, start: startOf(body, null) }),
    );
  }

  get identity(): string {
    return this.inception.event.identity;
  }

  /** The resolved state: an immutable snapshot, replaced on every change. */
  get state(): IdentityState {
    return this.resolved;
  }

  /** True when the key event with this id joined (is attached to) the log. */
  holds(idHex: string): boolean {
    return this.establishments.has(idHex) || this.vetoEvents.has(idHex);
  }

  /** True when a copy of the key event with this id waits in escrow (signed by `signers`, if given). */
  escrows(idHex: string, signers?: string): boolean {
    const copies = this.escrowCopies.get(idHex);
    return copies !== undefined && (signers === undefined || copies.has(signers));
  }

  /** The attached key event with this id, or undefined. */
  attachedEvent(idHex: string): VerifiedKeyEvent | undefined {
    return this.establishments.get(idHex)?.event ?? this.vetoEvents.get(idHex);
  }

  /** The attached key events, ids ascending: what a node stores and replays. */
  attachedEvents(): VerifiedKeyEvent[] {
    const all = [
      ...[...this.establishments.values()].map((a) => a.event),
      ...this.vetoEvents.values(),
    ];
    return all.sort((a, b) => (a.idHex < b.idHex ? -1 : 1));
  }

  /** How many copies of key events wait in escrow. */
  get escrowed(): number {
    return this.escrowCount;
  }

  /** Adds one verified key event of this identity. */
  add(event: VerifiedKeyEvent): AddOutcome {
    if (event.identity !== this.identity) {
      throw new RangeError(`key event of ${event.identity} given to the log of ${this.identity}`);
    }
    if (this.holds(event.idHex)) return { ok: true, outcome: 'duplicate' };
    if (event.event.type === 'inception')
      return kelReject(Reason.BAD_FIELD, 'an identity has exactly one inception');
    if (this.escrows(event.idHex, signerSetOf(event))) return { ok: true, outcome: 'duplicate' };
    const first = this.tryAttach(event);
    if (first !== 'attached') return first;
    const attached = [event.idHex];
    const dropped: DroppedKeyEvent[] = [];
    // Escrowed events waiting for what just joined may join now, and so on down the chain. Each
    // id joins if one of its copies passes (tried in order of id, then signer set).
    for (let i = 0; i < attached.length; i++) {
      const ref = attached[i] as string;
      const waiting = (this.escrow.get(ref) ?? []).sort(byIdThenSigners);
      this.escrow.delete(ref);
      this.escrowCount -= waiting.length;
      const failed = new Map<string, KelRejection>();
      for (const e of waiting) {
        this.escrowCopies.delete(e.idHex);
        if (this.holds(e.idHex)) continue; // an earlier copy joined
        const r = this.tryAttach(e);
        if (r === 'attached') {
          attached.push(e.idHex);
          failed.delete(e.idHex);
        } else if (!r.ok && !failed.has(e.idHex)) failed.set(e.idHex, r);
      }
      for (const [idHex, r] of failed) dropped.push({ idHex, reason: r.reason, detail: r.detail });
    }
    this.resolved = resolveChain(this.attachedSet());
    return { ok: true, outcome: 'accepted', attached, dropped };
  }

  /** Joins the event, escrows it, or says why it cannot join. */
  private tryAttach(
    event: VerifiedKeyEvent,
  ): 'attached' | Extract<AddOutcome, { outcome: 'escrowed' }> | KelRejection {
    const ref = referenceOf(event) as string;
    const referenced = this.establishments.get(ref);
    if (referenced === undefined) return this.toEscrow(event, ref);
    const body = event.event;
    if (isEstablishment(body)) {
      const check = checkSuccessor(this.hasher, event, referenced);
      if (!check.ok) return check;
      const full = this.full();
      if (full !== null) return full;
      const siblings = this.children.get(ref) ?? [];
      if (siblings.length >= this.bounds.maxCandidatesPerPosition) {
        return kelReject(
          KelReason.LIMIT,
          `${siblings.length} key events already contest this position`,
        );
      }
      this.establishments.set(event.idHex, { event, body, start: startOf(body, referenced) });
      this.children.set(ref, [...siblings, event.idHex]);
      return 'attached';
    }
    const prior = referenced.body.prior;
    const targetPrior =
      prior === undefined ? null : (this.establishments.get(toHex(prior)) ?? null);
    const check = checkVeto(event, referenced, targetPrior);
    if (!check.ok) return check;
    const full = this.full();
    if (full !== null) return full;
    this.vetoes.set(ref, [...(this.vetoes.get(ref) ?? []), event.idHex]);
    this.vetoEvents.set(event.idHex, event);
    return 'attached';
  }

  private full(): KelRejection | null {
    if (this.establishments.size + this.vetoEvents.size < this.bounds.maxEvents) return null;
    return kelReject(KelReason.LIMIT, `the identity holds ${this.bounds.maxEvents} key events`);
  }

  private toEscrow(
    event: VerifiedKeyEvent,
    ref: string,
  ): Extract<AddOutcome, { outcome: 'escrowed' }> | KelRejection {
    if (this.escrowCount >= this.bounds.maxEscrow) {
      return kelReject(
        KelReason.LIMIT,
        `${this.bounds.maxEscrow} key events of this identity already wait in escrow`,
      );
    }
    this.escrow.set(ref, [...(this.escrow.get(ref) ?? []), event]);
    this.escrowCopies.set(
      event.idHex,
      (this.escrowCopies.get(event.idHex) ?? new Set()).add(signerSetOf(event)),
    );
    this.escrowCount++;
    return { ok: true, outcome: 'escrowed', waitingFor: ref };
  }

  /** The live indexes: `resolveChain` reads them once and keeps none of them. */
  private attachedSet(): AttachedSet {
    return {
      identity: this.identity,
      inception: this.inception,
      establishments: this.establishments,
      children: this.children,
      vetoes: this.vetoes,
      size: this.establishments.size + this.vetoEvents.size,
    };
  }
}

/** Escrowed copies in a fixed order: by id, then by signer set. */
export function byIdThenSigners(a: VerifiedKeyEvent, b: VerifiedKeyEvent): number {
  if (a.idHex !== b.idHex) return a.idHex < b.idHex ? -1 : 1;
  const sa = signerSetOf(a);
  const sb = signerSetOf(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
