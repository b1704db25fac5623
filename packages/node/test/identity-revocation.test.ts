/**
 * Revocation (compromise response): revoke and rotate in one step. Events under the revoked
 * keys dated at or after `revoked_from` are invalid, also when backdated before the revocation
 * itself, and also when a node accepted them before it saw the revocation.
 */
import { describe, expect, it } from 'vitest';

import {
  affectedKeyStates,
  checkIdentityAuthor,
  decodeKeyEvent,
  encodeKeyEvent,
  resolveIdentity,
} from '../src/identity/index.js';
import {
  authored,
  core,
  DAY,
  inception,
  logOf,
  set,
  signed,
  successor,
  T0,
  testKey,
} from './identity-fixtures.js';

const icp = inception({ current: set(1, 'r1'), next: set(1, 'r2'), createdAt: T0 });
const tRev = T0 + 10 * DAY;
const revokedFrom = tRev - 2 * DAY;
const rev = successor(icp, {
  type: 'revocation',
  current: set(1, 'r2'),
  next: set(1, 'r3'),
  createdAt: tRev,
  revokedFrom,
});
const r1 = [testKey('r1')];

describe('revocation', () => {
  it('refuses an event under the revoked key dated after the revocation', () => {
    const state = logOf(icp, rev).state;
    expect(state.chain[0]).toMatchObject({
      end: revokedFrom,
      endCause: 'revoked',
      endedBy: rev.idHex,
    });
    expect(checkIdentityAuthor(state, authored(icp, tRev + 60, r1))).toMatchObject({
      reason: 'ERR_KEL_KEY_REVOKED',
    });
  });

  it('refuses one backdated into the compromise window, before the revocation was made', () => {
    const state = logOf(icp, rev).state;
    expect(checkIdentityAuthor(state, authored(icp, revokedFrom, r1))).toMatchObject({
      reason: 'ERR_KEL_KEY_REVOKED',
    });
    expect(checkIdentityAuthor(state, authored(icp, tRev - 1, r1))).toMatchObject({
      reason: 'ERR_KEL_KEY_REVOKED',
    });
    expect(checkIdentityAuthor(state, authored(icp, revokedFrom - 1, r1))).toEqual({ ok: true });
  });

  it('leaves a gap: the new keys start at the revocation, not at revoked_from', () => {
    const state = logOf(icp, rev).state;
    const r2 = [testKey('r2')];
    expect(checkIdentityAuthor(state, authored(rev, tRev - 1, r2))).toMatchObject({
      reason: 'ERR_KEL_BEFORE_KEY_STATE',
    });
    expect(checkIdentityAuthor(state, authored(rev, tRev, r2))).toEqual({ ok: true });
  });

  it('invalidates retroactively: accepted before the revocation arrived, refused after', () => {
    const log = logOf(icp);
    const ordinary = authored(icp, tRev - DAY, r1);
    const before = log.state;
    expect(checkIdentityAuthor(before, ordinary)).toEqual({ ok: true });
    expect(log.add(rev)).toMatchObject({ ok: true, outcome: 'accepted' });
    expect(checkIdentityAuthor(log.state, ordinary)).toMatchObject({
      reason: 'ERR_KEL_KEY_REVOKED',
    });
    // the node learns which key state to re-evaluate: the revoked one (and the new one joined)
    expect(affectedKeyStates(before, log.state)).toEqual(new Set([icp.idHex, rev.idHex]));
    // and ends where a node that saw the revocation first ends
    expect(resolveIdentity(core, icp.identity, [rev, icp])).toEqual(log.state);
  });

  it('bounds revoked_from: not after created_at, not more than 7 days before (ERR_KEL_REVOCATION_RANGE)', () => {
    const body = {
      v: 1 as const,
      type: 'revocation' as const,
      identity: icp.identity,
      seq: 1,
      prior: icp.id,
      createdAt: tRev,
      keys: [testKey('r2').did],
      threshold: 1,
      next: rev.event.type === 'veto' ? new Uint8Array(32) : rev.event.next,
      guardians: [],
      guardianThreshold: 0,
      recoveryDelay: 0,
    };
    const reach = signed({ ...body, revokedFrom: tRev - 7 * DAY }, [testKey('r2')]);
    expect(reach.event).toMatchObject({ revokedFrom: tRev - 7 * DAY });
    for (const revokedFromBad of [tRev + 1, tRev - 7 * DAY - 1]) {
      const bytes = encodeKeyEvent({
        ...body,
        revokedFrom: revokedFromBad,
        signatures: reach.event.signatures,
      });
      expect(decodeKeyEvent(core, bytes)).toMatchObject({
        ok: false,
        reason: 'ERR_KEL_REVOCATION_RANGE',
      });
    }
    const missing = encodeKeyEvent({ ...body, signatures: reach.event.signatures });
    expect(decodeKeyEvent(core, missing)).toMatchObject({ ok: false, reason: 'ERR_BAD_FIELD' });
  });

  it('cannot reach before the state it revokes: events of earlier key states stay valid', () => {
    const rot = successor(icp, {
      type: 'rotation',
      current: set(1, 'r2'),
      next: set(1, 'r3'),
      createdAt: T0 + DAY,
    });
    const rev2 = successor(rot, {
      type: 'revocation',
      current: set(1, 'r3'),
      next: set(1, 'r4'),
      createdAt: T0 + 2 * DAY,
      revokedFrom: T0, // before rot took effect: rot's whole window is void, icp's is untouched
    });
    const state = logOf(icp, rot, rev2).state;
    expect(checkIdentityAuthor(state, authored(icp, T0 + DAY - 1, r1))).toEqual({ ok: true });
    expect(checkIdentityAuthor(state, authored(rot, T0 + DAY, [testKey('r2')]))).toMatchObject({
      reason: 'ERR_KEL_KEY_REVOKED',
    });
  });
});
