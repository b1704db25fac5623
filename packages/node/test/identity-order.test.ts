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
import { deliveryArb, familyArb, HOUR, nextOf, order } from './identity-families.js';
import { core, inception, set, successor, T0 } from './identity-fixtures.js';

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
