/**
 * Pre-rotation: a rotation must reveal exactly the keys and threshold its prior committed to
 * and be signed by them; it retires the old keys for events dated from its `created_at` on.
 */
import { describe, expect, it } from 'vitest';

import { checkIdentityAuthor } from '../src/identity/index.js';
import { authored, inception, logOf, set, successor, T0, testKey } from './identity-fixtures.js';

const icp = inception({ current: set(1, 'a1'), next: set(1, 'a2'), createdAt: T0 });

describe('pre-rotation', () => {
  it('accepts a rotation that reveals the committed keys, signed by them', () => {
    const rot = successor(icp, {
      type: 'rotation',
      current: set(1, 'a2'),
      next: set(1, 'a3'),
      createdAt: T0 + 100,
    });
    const log = logOf(icp);
    expect(log.add(rot)).toMatchObject({ ok: true, outcome: 'accepted', attached: [rot.idHex] });
    expect(log.state.chain.map((k) => k.idHex)).toEqual([icp.idHex, rot.idHex]);
    expect(log.state.chain[0]).toMatchObject({
      start: T0,
      end: T0 + 100,
      endCause: 'rotated',
      endedBy: rot.idHex,
    });
    expect(log.state.chain[1]).toMatchObject({ start: T0 + 100, end: null, endCause: null });
  });

  it('refuses a rotation to a key that was not committed (ERR_KEL_NEXT_MISMATCH)', () => {
    const rot = successor(icp, {
      type: 'rotation',
      current: set(1, 'mallory'),
      next: set(1, 'a3'),
      createdAt: T0 + 100,
    });
    const log = logOf(icp);
    expect(log.add(rot)).toMatchObject({ ok: false, reason: 'ERR_KEL_NEXT_MISMATCH' });
    expect(log.state.chain).toHaveLength(1);
  });

  it('refuses the committed keys under another threshold, and a superset of them', () => {
    const icp2 = inception({ current: set(1, 'b1'), next: set(2, 'b2', 'b3'), createdAt: T0 });
    const lower = successor(icp2, {
      type: 'rotation',
      current: set(1, 'b2', 'b3'),
      next: set(1, 'b4'),
      createdAt: T0 + 1,
    });
    const more = successor(icp2, {
      type: 'rotation',
      current: set(2, 'b2', 'b3', 'b4'),
      next: set(1, 'b4'),
      createdAt: T0 + 1,
    });
    const ok = successor(icp2, {
      type: 'rotation',
      current: set(2, 'b2', 'b3'),
      next: set(1, 'b4'),
      createdAt: T0 + 1,
    });
    const log = logOf(icp2);
    expect(log.add(lower)).toMatchObject({ ok: false, reason: 'ERR_KEL_NEXT_MISMATCH' });
    expect(log.add(more)).toMatchObject({ ok: false, reason: 'ERR_KEL_NEXT_MISMATCH' });
    expect(log.add(ok)).toMatchObject({ ok: true, outcome: 'accepted' });
  });

  it('refuses a rotation signed by the current keys instead of the revealed ones', () => {
    const rot = successor(
      icp,
      { type: 'rotation', current: set(1, 'a2'), next: set(1, 'a3'), createdAt: T0 + 100 },
      [testKey('a1')],
    );
    expect(logOf(icp).add(rot)).toMatchObject({ ok: false, reason: 'ERR_KEL_THRESHOLD_NOT_MET' });
  });

  it('refuses a rotation below its revealed threshold (2-of-2 signed by one)', () => {
    const icp2 = inception({ current: set(1, 'c1'), next: set(2, 'c2', 'c3'), createdAt: T0 });
    const rot = successor(
      icp2,
      { type: 'rotation', current: set(2, 'c2', 'c3'), next: set(1, 'c4'), createdAt: T0 + 1 },
      [testKey('c2'), testKey('c2'), testKey('c1')],
    );
    expect(logOf(icp2).add(rot)).toMatchObject({ ok: false, reason: 'ERR_KEL_THRESHOLD_NOT_MET' });
  });

  it('refuses a rotation dated before its prior took effect (ERR_KEL_TIME_ORDER) and a wrong seq', () => {
    const early = successor(icp, {
      type: 'rotation',
      current: set(1, 'a2'),
      next: set(1, 'a3'),
      createdAt: T0 - 1,
    });
    expect(logOf(icp).add(early)).toMatchObject({ ok: false, reason: 'ERR_KEL_TIME_ORDER' });
    const wrongSeq = successor(icp, {
      type: 'rotation',
      current: set(1, 'a2'),
      next: set(1, 'a3'),
      createdAt: T0 + 100,
      seq: 2,
    });
    expect(logOf(icp).add(wrongSeq)).toMatchObject({ ok: false, reason: 'ERR_KEL_BAD_SEQ' });
  });

  it('retires the old keys from the rotation time on and starts the new ones there', () => {
    const rot = successor(icp, {
      type: 'rotation',
      current: set(1, 'a2'),
      next: set(1, 'a3'),
      createdAt: T0 + 100,
    });
    const state = logOf(icp, rot).state;
    const a1 = [testKey('a1')];
    const a2 = [testKey('a2')];
    expect(checkIdentityAuthor(state, authored(icp, T0 + 99, a1))).toEqual({ ok: true });
    expect(checkIdentityAuthor(state, authored(icp, T0 + 100, a1))).toMatchObject({
      reason: 'ERR_KEL_KEY_ROTATED',
    });
    expect(checkIdentityAuthor(state, authored(icp, T0 - 1, a1))).toMatchObject({
      reason: 'ERR_KEL_BEFORE_KEY_STATE',
    });
    expect(checkIdentityAuthor(state, authored(rot, T0 + 100, a2))).toEqual({ ok: true });
    expect(checkIdentityAuthor(state, authored(rot, T0 + 99, a2))).toMatchObject({
      reason: 'ERR_KEL_BEFORE_KEY_STATE',
    });
    // the old key naming the new key state, and the new key naming the old one
    expect(checkIdentityAuthor(state, authored(rot, T0 + 150, a1))).toMatchObject({
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    expect(checkIdentityAuthor(state, authored(icp, T0 + 50, a2))).toMatchObject({
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
  });
});
