/**
 * Distributed recovery: M of N guardians named by the key state replace its keys; the new keys
 * sign from `created_at + recovery_delay` on; the keys being replaced can veto inside that
 * window, which voids the recovery on every node whatever the order the veto arrives in.
 */
import { describe, expect, it } from 'vitest';

import {
  checkIdentityAuthor,
  resolveIdentity,
  type VerifiedKeyEvent,
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
const icp = inception({ current: set(1, 'h1'), next: set(1, 'h2'), guardians: G, createdAt: T0 });
const tR = T0 + 5 * DAY;
const recoverWith = (
  signers: string[],
  over: { createdAt?: number; revokedFrom?: number; keys?: string } = {},
): VerifiedKeyEvent =>
  successor(
    icp,
    {
      type: 'recovery',
      current: set(1, over.keys ?? 'n1'),
      next: set(1, 'n2'),
      createdAt: over.createdAt ?? tR,
      ...(over.revokedFrom === undefined ? {} : { revokedFrom: over.revokedFrom }),
    },
    signers.map(testKey),
  );
const rec = recoverWith(['g1', 'g3']);
const h1 = [testKey('h1')];
const n1 = [testKey('n1')];

describe('recovery by guardians', () => {
  it('refuses a recovery with too few guardians, and does not count outsiders or the new keys', () => {
    expect(logOf(icp).add(recoverWith(['g2']))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    expect(logOf(icp).add(recoverWith(['g2', 'mallory', 'n1']))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    expect(logOf(icp).add(recoverWith(['g2', 'g2']))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
  });

  it('refuses a recovery of a key state without guardians (ERR_KEL_NO_GUARDIANS)', () => {
    const bare = inception({ current: set(1, 'h1'), next: set(1, 'h2'), createdAt: T0 });
    const r = successor(
      bare,
      { type: 'recovery', current: set(1, 'n1'), next: set(1, 'n2'), createdAt: tR },
      [testKey('g1'), testKey('g2')],
    );
    expect(logOf(bare).add(r)).toMatchObject({ ok: false, reason: 'ERR_KEL_NO_GUARDIANS' });
  });

  it('after its window, with no veto: the new keys sign from created_at + delay, the old ones until then', () => {
    const state = logOf(icp, rec).state;
    expect(state.chain.map((k) => k.idHex)).toEqual([icp.idHex, rec.idHex]);
    expect(state.chain[0]).toMatchObject({ end: tR + DAY, endCause: 'rotated' });
    expect(state.chain[1]).toMatchObject({ start: tR + DAY, type: 'recovery' });
    expect(checkIdentityAuthor(state, authored(icp, tR + DAY - 1, h1))).toEqual({ ok: true });
    expect(checkIdentityAuthor(state, authored(icp, tR + DAY, h1))).toMatchObject({
      reason: 'ERR_KEL_KEY_ROTATED',
    });
    expect(checkIdentityAuthor(state, authored(rec, tR + DAY - 1, n1))).toMatchObject({
      reason: 'ERR_KEL_BEFORE_KEY_STATE',
    });
    expect(checkIdentityAuthor(state, authored(rec, tR + DAY, n1))).toEqual({ ok: true });
  });

  it('vetoed inside its window by the keys it would replace: void, the old keys go on', () => {
    const v = veto(rec, tR + DAY - 1, h1);
    for (const order of [
      [rec, v],
      [v, rec],
    ]) {
      const log = logOf(icp, ...order);
      expect(log.state.chain.map((k) => k.idHex)).toEqual([icp.idHex]);
      expect([...log.state.vetoed]).toEqual([rec.idHex]);
      expect([...log.state.superseded]).toEqual([rec.idHex]);
      expect(checkIdentityAuthor(log.state, authored(icp, tR + 30 * DAY, h1))).toEqual({
        ok: true,
      });
      expect(checkIdentityAuthor(log.state, authored(rec, tR + 2 * DAY, n1))).toMatchObject({
        reason: 'ERR_KEL_SUPERSEDED_KEY_STATE',
      });
    }
  });

  it('a veto arriving late still voids it, retroactively, and reinstates the old keys', () => {
    const log = logOf(icp, rec);
    const byNewKeys = authored(rec, tR + 3 * DAY, n1);
    const byOldKeys = authored(icp, tR + 3 * DAY, h1);
    expect(checkIdentityAuthor(log.state, byNewKeys)).toEqual({ ok: true });
    expect(checkIdentityAuthor(log.state, byOldKeys)).toMatchObject({
      reason: 'ERR_KEL_KEY_ROTATED',
    });
    log.add(veto(rec, tR, h1));
    expect(checkIdentityAuthor(log.state, byNewKeys)).toMatchObject({
      reason: 'ERR_KEL_SUPERSEDED_KEY_STATE',
    });
    expect(checkIdentityAuthor(log.state, byOldKeys)).toEqual({ ok: true });
  });

  it('refuses a veto outside the window, by other keys, or of something that is not a recovery', () => {
    expect(logOf(icp, rec).add(veto(rec, tR + DAY, h1))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_VETO_WINDOW',
    });
    expect(logOf(icp, rec).add(veto(rec, tR - 1, h1))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_VETO_WINDOW',
    });
    expect(logOf(icp, rec).add(veto(rec, tR + 1, [testKey('n1')]))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    expect(logOf(icp, rec).add(veto(rec, tR + 1, [testKey('g1'), testKey('g2')]))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    const rot = successor(icp, {
      type: 'rotation',
      current: set(1, 'h2'),
      next: set(1, 'h3'),
      createdAt: tR,
    });
    expect(logOf(icp, rot).add(veto(rot, tR + 1, h1))).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_BAD_TARGET',
    });
  });

  it('escrows a veto that comes before its recovery, then applies it', () => {
    const v = veto(rec, tR + 1, h1);
    const log = logOf(icp);
    expect(log.add(v)).toMatchObject({ ok: true, outcome: 'escrowed', waitingFor: rec.idHex });
    expect(log.add(rec)).toMatchObject({
      ok: true,
      outcome: 'accepted',
      attached: [rec.idHex, v.idHex],
    });
    expect([...log.state.vetoed]).toEqual([rec.idHex]);
  });

  it('a rotation by the committed next keys beats a recovery at the same position', () => {
    const rot = successor(icp, {
      type: 'rotation',
      current: set(1, 'h2'),
      next: set(1, 'h3'),
      createdAt: tR + 2 * DAY,
    });
    const state = logOf(icp, rec, rot).state;
    expect(state.chain.map((k) => k.idHex)).toEqual([icp.idHex, rot.idHex]);
    expect([...state.superseded]).toEqual([rec.idHex]);
    expect(checkIdentityAuthor(state, authored(rec, tR + 3 * DAY, n1))).toMatchObject({
      reason: 'ERR_KEL_SUPERSEDED_KEY_STATE',
    });
  });

  it('can revoke the lost keys from a time in the past', () => {
    const r = recoverWith(['g1', 'g2'], { revokedFrom: tR - 2 * DAY });
    const state = logOf(icp, r).state;
    expect(state.chain[0]).toMatchObject({ end: tR - 2 * DAY, endCause: 'revoked' });
    expect(checkIdentityAuthor(state, authored(icp, tR - 2 * DAY, h1))).toMatchObject({
      reason: 'ERR_KEL_KEY_REVOKED',
    });
    expect(checkIdentityAuthor(state, authored(icp, tR - 2 * DAY - 1, h1))).toEqual({ ok: true });
  });

  it('two unvetoed recoveries at one position freeze the identity; vetoing one settles it', () => {
    const other = recoverWith(['g2', 'g3'], { keys: 'm1' });
    const state = logOf(icp, rec, other).state;
    expect(state.status).toBe('frozen');
    expect(state.frozenFrom).toBe(tR + DAY);
    expect(state.duplicity).toEqual([
      {
        seq: 1,
        prior: icp.idHex,
        rotations: [],
        recoveries: [rec.idHex, other.idHex].sort(),
        resolvedBy: null,
      },
    ]);
    expect(checkIdentityAuthor(state, authored(icp, tR + DAY, h1))).toMatchObject({
      reason: 'ERR_KEL_IDENTITY_FROZEN',
    });
    const settled = resolveIdentity(core, icp.identity, [icp, rec, other, veto(other, tR + 5, h1)]);
    expect(settled?.status).toBe('active');
    expect(settled?.chain.map((k) => k.idHex)).toEqual([icp.idHex, rec.idHex]);
  });

  it('a rotation after a recovery may not be dated inside the recovery window', () => {
    const early = successor(rec, {
      type: 'rotation',
      current: set(1, 'n2'),
      next: set(1, 'n3'),
      createdAt: tR + DAY - 1,
    });
    expect(logOf(icp, rec).add(early)).toMatchObject({ ok: false, reason: 'ERR_KEL_TIME_ORDER' });
    const onTime = successor(rec, {
      type: 'rotation',
      current: set(1, 'n2'),
      next: set(1, 'n3'),
      createdAt: tR + DAY,
    });
    expect(logOf(icp, rec).add(onTime)).toMatchObject({ ok: true, outcome: 'accepted' });
  });
});
