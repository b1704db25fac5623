/**
 * Order independence, the consensus rule: random families of key events of one identity
 * (rotations, revocations, recoveries, vetoes; valid and invalid; duplicity; events that must
 * wait for their prior) delivered in random orders with repeats give, through the incremental
 * log and through the registry (key events before their inception included), exactly the state
 * that `resolveIdentity` computes from the set, and the same verdict on every ordinary event.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  checkIdentityAuthor,
  type EstablishmentBody,
  IdentityRegistry,
  type IdentityState,
  identityStateToJson,
  KeyEventLog,
  keyStateAt,
  resolveIdentity,
  type VerifiedKeyEvent,
} from '../src/identity/index.js';
import {
  core,
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

const HOUR = 3600;
const G = guardians(2, 2 * HOUR, 'g1', 'g2', 'g3');

/** One step of building a family: what to add, relative to which earlier event. */
interface Op {
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

const opArb: fc.Arbitrary<Op> = fc.record({
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

const nextOf = (i: number): KeySet => set(1, `next-${i}`);
const signerKeys = (signatures: readonly { signer: string }[]) =>
  [...new Set(signatures.map((s) => s.signer))].map((did) => allKeys.find((k) => k.did === did)!);
const allKeys = [
  ...['cur-0', 'stranger', 'g1', 'g2', 'g3'],
  ...Array.from({ length: 12 }, (_, i) => [`cur-${i}`, `next-${i}`]).flat(),
].map(testKey);

/** Builds a family of key events from the ops: every event refers to an earlier one. */
function family(ops: readonly Op[]): VerifiedKeyEvent[] {
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

/** Verdicts on a grid of ordinary events: each key state × times around it × its own keys. */
function verdicts(state: IdentityState | undefined, events: readonly VerifiedKeyEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.event.type === 'veto') continue;
    const body = e.event as EstablishmentBody;
    for (const dt of [-1, 0, 1, 2, 3, 6]) {
      const createdAt = body.createdAt + dt * HOUR;
      const v = checkIdentityAuthor(state, {
        author: e.identity,
        createdAt,
        keyState: e.id,
        signers: body.keys,
      });
      out.push(v.ok ? 'ok' : v.reason);
    }
  }
  return out;
}

/** An order of delivery: a permutation of the family with some events delivered twice. */
const deliveryArb = (n: number) =>
  fc.tuple(
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
    fc.array(fc.nat({ max: n - 1 }), { maxLength: 4 }),
  );

function order<T>(items: readonly T[], [keys, repeats]: [number[], number[]]): T[] {
  const idx = items.map((_, i) => i).sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0));
  const out = idx.map((i) => items[i] as T);
  if (items.length === 0) return out;
  for (const r of repeats) out.splice(r % (out.length + 1), 0, items[r % items.length] as T);
  return out;
}

const familyArb = fc.array(opArb, { minLength: 1, maxLength: 10 }).map(family);

describe('order independence', () => {
  it('the incremental log reaches resolve(set) in every order, with the same verdicts', () => {
    fc.assert(
      fc.property(
        familyArb.chain((events) =>
          fc.tuple(fc.constant(events), deliveryArb(events.length), deliveryArb(events.length)),
        ),
        ([events, first, second]) => {
          const reference = resolveIdentity(core, events[0]!.identity, events);
          expect(reference).toBeDefined();
          const expected = identityStateToJson(reference!);
          const grid = verdicts(reference, events);
          for (const delivery of [first, second]) {
            const [icp, ...rest] = events;
            const log = KeyEventLog.create(core, icp!);
            if (!log.ok) throw new Error(log.detail);
            for (const e of order(rest, delivery)) log.value.add(e);
            expect(identityStateToJson(log.value.state)).toEqual(expected);
            expect(verdicts(log.value.state, events)).toEqual(grid);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the registry agrees too when key events arrive before their inception', () => {
    fc.assert(
      fc.property(
        familyArb.chain((events) => fc.tuple(fc.constant(events), deliveryArb(events.length))),
        ([events, delivery]) => {
          const reference = resolveIdentity(core, events[0]!.identity, events)!;
          const registry = new IdentityRegistry(core);
          for (const e of order(events, delivery)) registry.add(e);
          const state = registry.get(events[0]!.identity);
          expect(state && identityStateToJson(state)).toEqual(identityStateToJson(reference));
          expect(verdicts(state, events)).toEqual(verdicts(reference, events));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('resolve ignores the order of its input and repeated events', () => {
    fc.assert(
      fc.property(
        familyArb.chain((events) => fc.tuple(fc.constant(events), deliveryArb(events.length))),
        ([events, delivery]) => {
          const a = resolveIdentity(core, events[0]!.identity, events)!;
          const b = resolveIdentity(core, events[0]!.identity, order(events, delivery))!;
          expect(identityStateToJson(b)).toEqual(identityStateToJson(a));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('affectedKeyStates names every key state on which a joining key event turned a verdict (valid or not)', () => {
    fc.assert(
      fc.property(
        familyArb.chain((events) => fc.tuple(fc.constant(events), deliveryArb(events.length))),
        ([events, delivery]) => {
          const registry = new IdentityRegistry(core);
          const keyStates = events.filter((e) => e.event.type !== 'veto');
          const gridOf = (state: IdentityState | undefined) =>
            new Map(
              keyStates.map((e) => [
                e.idHex,
                verdicts(state, [e])
                  .map((v) => v === 'ok')
                  .join(),
              ]),
            );
          for (const e of order(events, delivery)) {
            const before = gridOf(registry.get(e.identity));
            const outcome = registry.add(e);
            const after = gridOf(registry.get(e.identity));
            for (const [id, grid] of after) {
              if (grid !== before.get(id)) {
                expect(
                  outcome.ok && outcome.affected.has(id),
                  `${id} changed (${before.get(id)} -> ${grid}) but was not named`,
                ).toBe(true);
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the families exercise what matters: duplicity, vetoes, recoveries, escrow, refusals', () => {
    // A guard against a generator that silently stopped producing the hard cases.
    const seen = {
      frozen: 0,
      resolvedDuplicity: 0,
      vetoed: 0,
      recovered: 0,
      revoked: 0,
      refused: 0,
      copies: 0,
    };
    fc.assert(
      fc.property(familyArb, (events) => {
        const s = resolveIdentity(core, events[0]!.identity, events)!;
        if (s.status === 'frozen') seen.frozen++;
        if (s.duplicity.some((d) => d.resolvedBy !== null && d.rotations.length >= 2))
          seen.resolvedDuplicity++;
        if (s.vetoed.size > 0) seen.vetoed++;
        if (s.chain.some((k) => k.type === 'recovery')) seen.recovered++;
        if (s.chain.some((k) => k.endCause === 'revoked')) seen.revoked++;
        if (s.size < events.length) seen.refused++;
        if (new Set(events.map((e) => e.idHex)).size < events.length) seen.copies++;
      }),
      { numRuns: 300, seed: 8 },
    );
    for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(0);
  });
});

describe('keyStateAt (signers named by did:cs, without a key_state)', () => {
  it('finds the key state whose window holds the time, or none', () => {
    const icp = inception({ current: set(1, 'w0'), next: nextOf(100), createdAt: T0 });
    const rot = successor(icp, {
      type: 'revocation',
      current: nextOf(100),
      next: nextOf(101),
      createdAt: T0 + 10 * HOUR,
      revokedFrom: T0 + 5 * HOUR,
    });
    const state = resolveIdentity(core, icp.identity, [icp, rot])!;
    expect(keyStateAt(state, T0)?.idHex).toBe(icp.idHex);
    expect(keyStateAt(state, T0 + 5 * HOUR - 1)?.idHex).toBe(icp.idHex);
    expect(keyStateAt(state, T0 + 5 * HOUR)).toBeUndefined(); // revoked, and before the new keys
    expect(keyStateAt(state, T0 + 10 * HOUR)?.idHex).toBe(rot.idHex);
    expect(keyStateAt(state, T0 - 1)).toBeUndefined();
    // it agrees with the verdict on every time around the windows
    for (let t = T0 - HOUR; t <= T0 + 12 * HOUR; t += 600) {
      const k = keyStateAt(state, t);
      for (const candidate of [icp, rot]) {
        const ok = checkIdentityAuthor(state, {
          author: icp.identity,
          createdAt: t,
          keyState: candidate.id,
          signers: (candidate.event as EstablishmentBody).keys,
        }).ok;
        expect(ok).toBe(k?.idHex === candidate.idHex);
      }
    }
  });
});
