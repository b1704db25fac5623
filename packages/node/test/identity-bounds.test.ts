/**
 * Hostile input cannot grow a node's identity state without bound: escrow per identity,
 * contestants per position, key events per identity and key events waiting for an unknown
 * inception are each capped, and reaching a cap is a typed, local ERR_KEL_LIMIT.
 */
import { describe, expect, it } from 'vitest';

import { IdentityRegistry, type KelBounds, KeyEventLog } from '../src/identity/index.js';
import { core, inception, set, successor, T0, testKey } from './identity-fixtures.js';

const bounds: KelBounds = { maxEvents: 6, maxCandidatesPerPosition: 3, maxEscrow: 2 };
const icp = inception({ current: set(1, 'b1'), next: set(1, 'b2'), createdAt: T0 });
const rot = (n: number) =>
  successor(icp, {
    type: 'rotation',
    current: set(1, 'b2'),
    next: set(1, `x${n}`),
    createdAt: T0 + n,
  });

function newLog(): KeyEventLog {
  const log = KeyEventLog.create(core, icp, bounds);
  if (!log.ok) throw new Error(log.detail);
  return log.value;
}

describe('identity resource bounds', () => {
  it('caps the contestants of one position', () => {
    const log = newLog();
    for (let n = 1; n <= 3; n++)
      expect(log.add(rot(n))).toMatchObject({ ok: true, outcome: 'accepted' });
    expect(log.add(rot(4))).toMatchObject({ ok: false, reason: 'ERR_KEL_LIMIT' });
    expect(log.state.status).toBe('frozen'); // three contestants already froze it: the cap changes nothing
  });

  it('caps the escrow of key events waiting for their prior', () => {
    const log = newLog();
    const chain = [rot(1)];
    for (let n = 2; n <= 4; n++) {
      chain.push(
        successor(chain[n - 2]!, {
          type: 'rotation',
          current: set(1, `x${n - 1}`),
          next: set(1, `x${n}`),
          createdAt: T0 + n,
        }),
      );
    }
    expect(log.add(chain[1]!)).toMatchObject({ outcome: 'escrowed', waitingFor: chain[0]!.idHex });
    expect(log.add(chain[2]!)).toMatchObject({ outcome: 'escrowed' });
    expect(log.add(chain[3]!)).toMatchObject({ ok: false, reason: 'ERR_KEL_LIMIT' });
    expect(log.escrowed).toBe(2);
    // the missing link releases the escrow down the chain
    expect(log.add(chain[0]!)).toMatchObject({
      ok: true,
      attached: [chain[0]!.idHex, chain[1]!.idHex, chain[2]!.idHex],
    });
    expect(log.escrowed).toBe(0);
    expect(log.add(chain[3]!)).toMatchObject({ ok: true, outcome: 'accepted' });
  });

  it('caps the key events of one identity', () => {
    const log = newLog();
    let prior = icp;
    for (let n = 1; n <= 5; n++) {
      const next = successor(prior, {
        type: 'rotation',
        current: set(1, n === 1 ? 'b2' : `y${n - 1}`),
        next: set(1, `y${n}`),
        createdAt: T0 + n,
      });
      expect(log.add(next)).toMatchObject({ ok: true, outcome: 'accepted' });
      prior = next;
    }
    const sixth = successor(prior, {
      type: 'rotation',
      current: set(1, 'y5'),
      next: set(1, 'y6'),
      createdAt: T0 + 6,
    });
    expect(log.add(sixth)).toMatchObject({ ok: false, reason: 'ERR_KEL_LIMIT' });
  });

  it('caps key events waiting for an inception the node does not hold', () => {
    const registry = new IdentityRegistry(core, { ...bounds, maxOrphans: 2 });
    expect(registry.add(rot(1))).toMatchObject({ outcome: 'escrowed', waitingFor: icp.identity });
    expect(registry.add(rot(2))).toMatchObject({ outcome: 'escrowed' });
    expect(registry.add(rot(2))).toMatchObject({ outcome: 'duplicate' }); // a repeat takes no room
    expect(registry.add(rot(3))).toMatchObject({ ok: false, reason: 'ERR_KEL_LIMIT' });
    expect(registry.add(icp)).toMatchObject({
      ok: true,
      outcome: 'accepted',
      attached: [icp.idHex, ...[rot(1), rot(2)].map((e) => e.idHex).sort()],
    });
    expect(registry.get(icp.identity)?.status).toBe('frozen');
  });

  it('refuses an inception below its own threshold, and a second inception in a log', () => {
    const weak = inception({ current: set(2, 'w1', 'w2'), next: set(1, 'w3'), createdAt: T0 }, [
      testKey('w1'),
    ]);
    expect(KeyEventLog.create(core, weak)).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    expect(new IdentityRegistry(core).add(weak)).toMatchObject({
      ok: false,
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    expect(newLog().add(icp)).toEqual({ ok: true, outcome: 'duplicate' });
  });
});
