/**
 * Random families of key events of one identity (rotations, revocations, recoveries, vetoes;
 * valid and invalid; duplicity; copies; events that must wait for their prior) and random
 * orders of delivery, shared by the order-independence tests of the pure log
 * (identity-order.test.ts) and of a whole node (identity-node-order.test.ts).
 */
import fc from 'fast-check';

import type { EstablishmentBody, VerifiedKeyEvent } from '../src/identity/index.js';
import {
  guardians,
  inception,
  type KeySet,
  set,
  signed,
  successor,
  T0,
  testKey,
  veto,
} from './identity-fixtures.js';

export const HOUR = 3600;
const G = guardians(2, 2 * HOUR, 'g1', 'g2', 'g3');

/** One step of building a family: what to add, relative to which earlier event. */
export interface Op {
  readonly kind:
    | 'rotation'
    | 'uncommitted'
    | 'revocation'
    | 'recovery'
    | 'weak-recovery'
    | 'veto'
    | 'stray-veto'
    | 'copy';
  readonly pick: number;
  readonly dt: number;
  readonly variant: number;
}

export const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom(
    'rotation',
    'uncommitted',
    'revocation',
    'recovery',
    'weak-recovery',
    'veto',
    'stray-veto',
    'copy',
  ),
  pick: fc.nat(),
  dt: fc.integer({ min: -1, max: 4 }),
  variant: fc.nat({ max: 3 }),
});

export const nextOf = (i: number): KeySet => set(1, `next-${i}`);
const signerKeys = (signatures: readonly { signer: string }[]) =>
  [...new Set(signatures.map((s) => s.signer))].map((did) => allKeys.find((k) => k.did === did)!);
export const allKeys = [
  ...['cur-0', 'stranger', 'g1', 'g2', 'g3'],
  ...Array.from({ length: 12 }, (_, i) => [`cur-${i}`, `next-${i}`]).flat(),
].map(testKey);

/** Builds a family of key events from the ops: every event refers to an earlier one. */
export function family(ops: readonly Op[]): VerifiedKeyEvent[] {
  const icp = inception({ current: set(1, 'cur-0'), next: nextOf(0), guardians: G, createdAt: T0 });
  const events: VerifiedKeyEvent[] = [icp];
  const est: Array<{ e: VerifiedKeyEvent; index: number; keys: KeySet }> = [
    { e: icp, index: 0, keys: set(1, 'cur-0') },
  ];
  const recoveries: Array<{ e: VerifiedKeyEvent; parentKeys: KeySet }> = [];
  ops.forEach((op, n) => {
    const index = n + 1;
    const parent = est[op.pick % est.length] as (typeof est)[number];
    const p = parent.e.event as EstablishmentBody;
    const createdAt = p.createdAt + op.dt * HOUR + op.variant;
    if (op.kind === 'copy') {
      // the same body with other signatures: a stranger's (refused), or the original's plus one
      const source = events[1 + (op.pick % Math.max(1, events.length - 1))];
      if (source === undefined || source.event.type === 'inception') return;
      const { signatures, ...body } = source.event;
      const names =
        op.variant % 2 === 0
          ? [testKey('stranger')]
          : [testKey('stranger'), ...signerKeys(signatures)];
      events.push(signed(body, names));
      return;
    }
    if (op.kind === 'veto' || op.kind === 'stray-veto') {
      const target = recoveries[op.pick % Math.max(1, recoveries.length)];
      if (target === undefined) return;
      const signers = op.kind === 'veto' ? target.parentKeys.keys : [testKey('stranger')];
      const t = (target.e.event.createdAt as number) + op.dt * HOUR;
      events.push(veto(target.e, Math.max(0, t), signers));
      return;
    }
    let e: VerifiedKeyEvent;
    if (op.kind === 'recovery' || op.kind === 'weak-recovery') {
      const keys = set(1, `cur-${index}`);
      const signers =
        op.kind === 'recovery'
          ? [testKey('g1'), testKey(op.variant % 2 === 0 ? 'g2' : 'g3')]
          : [testKey('g1')];
      e = successor(
        parent.e,
        { type: 'recovery', current: keys, next: nextOf(index), createdAt },
        signers,
      );
      recoveries.push({ e, parentKeys: parent.keys });
      est.push({ e, index, keys });
    } else {
      const keys = op.kind === 'uncommitted' ? set(1, `cur-${index}`) : nextOf(parent.index);
      const revocation = op.kind === 'revocation';
      e = successor(parent.e, {
        type: revocation ? 'revocation' : 'rotation',
        current: keys,
        next: nextOf(index),
        createdAt,
        ...(revocation ? { revokedFrom: Math.max(0, createdAt - op.variant * HOUR) } : {}),
      });
      est.push({ e, index, keys });
    }
    events.push(e);
  });
  return events;
}

/** An order of delivery: a permutation of the family with some events delivered twice. */
export const deliveryArb = (n: number) =>
  fc.tuple(
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
    fc.array(fc.nat({ max: n - 1 }), { maxLength: 4 }),
  );

export function order<T>(items: readonly T[], [keys, repeats]: [number[], number[]]): T[] {
  const idx = items.map((_, i) => i).sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0));
  const out = idx.map((i) => items[i] as T);
  if (items.length === 0) return out;
  for (const r of repeats) out.splice(r % (out.length + 1), 0, items[r % items.length] as T);
  return out;
}

export const familyArb = fc.array(opArb, { minLength: 1, maxLength: 10 }).map(family);
