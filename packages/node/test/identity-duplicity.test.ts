/**
 * KERI-style duplicity: two different rotations from one key state, both signed by the
 * committed next keys. Both are kept as evidence; the identity freezes at the last undisputed
 * key state until a guardian recovery settles the position, on every node in every order.
 */
import { describe, expect, it } from 'vitest';

import {
  checkIdentityAuthor,
  identityStateToJson,
  resolveIdentity,
} from '../src/identity/index.js';
import {
  authored,
  core,
  DAY,
  guardians,
  inception,
  logOf,
  set,
  successor,
  T0,
  testKey,
  veto,
} from './identity-fixtures.js';

const G = guardians(2, DAY, 'g1', 'g2', 'g3');
const icp = inception({ current: set(1, 'd1'), next: set(1, 'd2'), guardians: G, createdAt: T0 });
const rotA = successor(icp, {
  type: 'rotation',
  current: set(1, 'd2'),
  next: set(1, 'd3'),
  createdAt: T0 + 3 * DAY,
});
const rotB = successor(icp, {
  type: 'rotation',
  current: set(1, 'd2'),
  next: set(1, 'evil'),
  createdAt: T0 + 2 * DAY,
});
const d1 = [testKey('d1')];
const d2 = [testKey('d2')];

describe('duplicity', () => {
  it('keeps both rotations as evidence and freezes at the last undisputed key state', () => {
    const log = logOf(icp, rotA);
    expect(log.add(rotB)).toMatchObject({ ok: true, outcome: 'accepted' });
    const state = log.state;
    expect(state.status).toBe('frozen');
    expect(state.chain.map((k) => k.idHex)).toEqual([icp.idHex]);
    expect(state.duplicity).toEqual([
      {
        seq: 1,
        prior: icp.idHex,
        rotations: [rotA.idHex, rotB.idHex].sort(),
        recoveries: [],
        resolvedBy: null,
      },
    ]);
    expect(state.superseded).toEqual(new Set([rotA.idHex, rotB.idHex]));
    // frozen from the earliest contestant's time: the earlier events of the old keys stand
    expect(state.frozenFrom).toBe(T0 + 2 * DAY);
    expect(checkIdentityAuthor(state, authored(icp, T0 + 2 * DAY - 1, d1))).toEqual({ ok: true });
    expect(checkIdentityAuthor(state, authored(icp, T0 + 2 * DAY, d1))).toMatchObject({
      reason: 'ERR_KEL_IDENTITY_FROZEN',
    });
    expect(checkIdentityAuthor(state, authored(rotA, T0 + 4 * DAY, d2))).toMatchObject({
      reason: 'ERR_KEL_SUPERSEDED_KEY_STATE',
    });
  });

  it('does not depend on which rotation came first (first-seen does not win)', () => {
    const ab = logOf(icp, rotA, rotB).state;
    const ba = logOf(icp, rotB, rotA).state;
    expect(identityStateToJson(ab)).toEqual(identityStateToJson(ba));
    expect(identityStateToJson(ab)).toEqual(
      identityStateToJson(resolveIdentity(core, icp.identity, [rotB, icp, rotA])!),
    );
  });

  it('is settled by a guardian recovery at the disputed position', () => {
    const rec = successor(
      icp,
      {
        type: 'recovery',
        current: set(1, 'fresh'),
        next: set(1, 'fresh2'),
        createdAt: T0 + 4 * DAY,
      },
      [testKey('g1'), testKey('g2')],
    );
    const state = logOf(icp, rotA, rotB, rec).state;
    expect(state.status).toBe('active');
    expect(state.chain.map((k) => k.idHex)).toEqual([icp.idHex, rec.idHex]);
    expect(state.duplicity[0]?.resolvedBy).toBe(rec.idHex);
    expect(checkIdentityAuthor(state, authored(rec, T0 + 5 * DAY, [testKey('fresh')]))).toEqual({
      ok: true,
    });
    // a veto by the keys the recovery replaces (the thief may hold them) re-freezes it
    const vetoed = resolveIdentity(core, icp.identity, [
      icp,
      rotA,
      rotB,
      rec,
      veto(rec, T0 + 4 * DAY, d1),
    ]);
    expect(vetoed?.status).toBe('frozen');
  });

  it('a thief of the current keys can freeze the identity at their own position, not take it over', () => {
    // After rotA, d2 signs as the current key; d2 is also what the inception committed to, so
    // whoever holds it can sign a second rotation from the inception: duplicity at seq 1.
    const next = successor(rotA, {
      type: 'rotation',
      current: set(1, 'd3'),
      next: set(1, 'd4'),
      createdAt: T0 + 5 * DAY,
    });
    const forged = successor(icp, {
      type: 'rotation',
      current: set(1, 'd2'),
      next: set(1, 'thief'),
      createdAt: T0 + DAY,
    });
    const state = logOf(icp, rotA, next, forged).state;
    expect(state.status).toBe('frozen');
    expect(state.chain.map((k) => k.idHex)).toEqual([icp.idHex]);
    expect(state.frozenFrom).toBe(T0 + DAY);
    const thiefRot = successor(forged, {
      type: 'rotation',
      current: set(1, 'thief'),
      next: set(1, 'thief2'),
      createdAt: T0 + 6 * DAY,
    });
    const after = logOf(icp, rotA, next, forged, thiefRot).state;
    expect(after.status).toBe('frozen');
    expect(
      checkIdentityAuthor(after, authored(thiefRot, T0 + 7 * DAY, [testKey('thief')])),
    ).toMatchObject({
      reason: 'ERR_KEL_SUPERSEDED_KEY_STATE',
    });
  });

  it('a re-delivery of the same rotation is not duplicity', () => {
    const log = logOf(icp, rotA);
    expect(log.add(rotA)).toEqual({ ok: true, outcome: 'duplicate' });
    expect(log.state.status).toBe('active');
    expect(log.state.duplicity).toEqual([]);
  });
});
