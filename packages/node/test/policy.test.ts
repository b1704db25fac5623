/**
 * The M-of-N policy over signature verdicts: a key counts once however often it signs, keys
 * outside the set count zero, one bad signature rejects the event, the author must sign. Also
 * the other pure rules next to it: time window, replay classification, trust.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type CommonsEvent,
  checkTime,
  checkTrust,
  classifyReplay,
  DEFAULT_TIME_RULES,
  evaluatePolicy,
  type MultiSigPolicy,
  Reason,
} from '../src/protocol/index.js';

// evaluatePolicy looks only at author, policy and the signers of the signatures.
const DIDS = ['did:a', 'did:b', 'did:c', 'did:d', 'did:x', 'did:y'];
const SIG = new Uint8Array(64);

function event(author: string, policy: MultiSigPolicy | undefined, signers: string[]) {
  return {
    author,
    ...(policy === undefined ? {} : { policy }),
    signatures: signers.map((signer) => ({ signer, sig: SIG })),
  } satisfies Pick<CommonsEvent, 'author' | 'policy' | 'signatures'>;
}
const verdict = (r: { ok: true } | { ok: false; reason: string }): string =>
  r.ok ? 'ok' : r.reason;
const allTrue = (n: number): boolean[] => new Array<boolean>(n).fill(true);

describe('evaluatePolicy', () => {
  const p23 = { threshold: 2, signers: ['did:a', 'did:b', 'did:c'] };

  it('accepts M distinct signers of the set, author included', () => {
    expect(verdict(evaluatePolicy(event('did:a', p23, ['did:a', 'did:b']), allTrue(2)))).toBe('ok');
    expect(
      verdict(evaluatePolicy(event('did:a', p23, ['did:c', 'did:a', 'did:b']), allTrue(3))),
    ).toBe('ok');
  });

  it('counts a key once however many times it signs', () => {
    const e = event('did:a', p23, ['did:a', 'did:a', 'did:a']);
    expect(verdict(evaluatePolicy(e, allTrue(3)))).toBe(Reason.THRESHOLD_NOT_MET);
  });

  it('counts keys outside the set as zero', () => {
    const e = event('did:a', p23, ['did:a', 'did:x', 'did:y']);
    expect(verdict(evaluatePolicy(e, allTrue(3)))).toBe(Reason.THRESHOLD_NOT_MET);
  });

  it('rejects any invalid signature, even once the threshold is met', () => {
    const e = event('did:a', p23, ['did:a', 'did:b', 'did:c']);
    expect(verdict(evaluatePolicy(e, [true, true, false]))).toBe(Reason.BAD_SIGNATURE);
    const outsider = event('did:a', p23, ['did:a', 'did:b', 'did:x']);
    expect(verdict(evaluatePolicy(outsider, [true, true, false]))).toBe(Reason.BAD_SIGNATURE);
  });

  it('requires the author once the threshold is met', () => {
    const e = event('did:a', p23, ['did:b', 'did:c']);
    expect(verdict(evaluatePolicy(e, allTrue(2)))).toBe(Reason.MISSING_AUTHOR_SIGNATURE);
  });

  it('defaults to 1-of-[author] without a policy', () => {
    expect(verdict(evaluatePolicy(event('did:a', undefined, ['did:a']), [true]))).toBe('ok');
    expect(verdict(evaluatePolicy(event('did:a', undefined, ['did:b']), [true]))).toBe(
      Reason.THRESHOLD_NOT_MET,
    );
    expect(
      verdict(evaluatePolicy(event('did:a', undefined, ['did:b', 'did:a']), [true, true])),
    ).toBe('ok');
  });

  it('without a policy, gives word for word what the explicit 1-of-[author] policy gives', () => {
    // the policy-less case has its own short path (no sets built): held to the general rule
    const arb = fc.record({
      author: fc.constantFrom(...DIDS),
      signers: fc.array(fc.constantFrom(...DIDS), { maxLength: 6 }),
      badAt: fc.option(fc.nat(5), { nil: undefined }),
    });
    fc.assert(
      fc.property(arb, ({ author, signers, badAt }) => {
        const verdicts = signers.map((_, i) => i !== badAt);
        const implicit = evaluatePolicy(event(author, undefined, signers), verdicts);
        const explicit = evaluatePolicy(
          event(author, { threshold: 1, signers: [author] }, signers),
          verdicts,
        );
        expect(implicit).toEqual(explicit);
      }),
      { numRuns: 500 },
    );
  });

  it('throws RangeError when the verdicts do not match the signatures (a caller bug)', () => {
    expect(() => evaluatePolicy(event('did:a', p23, ['did:a']), [])).toThrow(RangeError);
  });

  it('agrees with a model on random sets, signatures and verdicts', () => {
    const arb = fc
      .record({
        set: fc.subarray(DIDS.slice(0, 4), { minLength: 1 }),
        signers: fc.array(fc.constantFrom(...DIDS), { maxLength: 8 }),
        threshold: fc.integer({ min: 1, max: 4 }),
        badAt: fc.option(fc.nat(7), { nil: undefined }),
      })
      .filter(({ set, threshold }) => threshold <= set.length);
    fc.assert(
      fc.property(arb, ({ set, signers, threshold, badAt }) => {
        const author = set[0] as string;
        const verdicts = signers.map((_, i) => i !== badAt);
        const e = event(author, { threshold, signers: set }, signers);
        const distinctInSet = new Set(signers.filter((s) => set.includes(s)));
        const model = verdicts.includes(false)
          ? Reason.BAD_SIGNATURE
          : distinctInSet.size < threshold
            ? Reason.THRESHOLD_NOT_MET
            : !distinctInSet.has(author)
              ? Reason.MISSING_AUTHOR_SIGNATURE
              : 'ok';
        expect(verdict(evaluatePolicy(e, verdicts))).toBe(model);
      }),
      { numRuns: 500 },
    );
  });
});

describe('time window', () => {
  const now = 1_000_000;
  const at = (createdAt: number, expiresAt: number): string =>
    verdict(checkTime({ createdAt, expiresAt }, now));

  it('uses 300 s of clock skew and 7 days of lifetime by default', () => {
    expect(DEFAULT_TIME_RULES).toEqual({ clockSkewSeconds: 300, maxLifetimeSeconds: 604_800 });
  });

  it('is valid from created_at - skew until just before expires_at', () => {
    expect(at(now - 10, now + 1)).toBe('ok');
    expect(at(now - 10, now)).toBe(Reason.EXPIRED);
    expect(at(now + 300, now + 400)).toBe('ok');
    expect(at(now + 301, now + 400)).toBe(Reason.NOT_YET_VALID);
    expect(at(now - 1, now - 1 + 604_800)).toBe('ok');
    expect(at(now - 1, now + 604_800)).toBe(Reason.LIFETIME_TOO_LONG);
  });

  it('checks expired, then not yet valid, then lifetime', () => {
    expect(at(now - 10_000_000, now - 1)).toBe(Reason.EXPIRED);
    expect(at(now + 1000, now + 10_000_000)).toBe(Reason.NOT_YET_VALID);
  });

  it('takes other settings', () => {
    const rules = { clockSkewSeconds: 0, maxLifetimeSeconds: 10 };
    expect(verdict(checkTime({ createdAt: now + 1, expiresAt: now + 5 }, now, rules))).toBe(
      Reason.NOT_YET_VALID,
    );
    expect(verdict(checkTime({ createdAt: now, expiresAt: now + 11 }, now, rules))).toBe(
      Reason.LIFETIME_TOO_LONG,
    );
  });
});

describe('replay classification and trust', () => {
  const id = new Uint8Array(32).fill(7);

  it('is new without a previous id, duplicate for the same id, a replay for another', () => {
    expect(classifyReplay(id, undefined)).toEqual({ ok: true, value: 'new' });
    expect(classifyReplay(id, id.slice())).toEqual({ ok: true, value: 'duplicate' });
    const other = id.slice();
    other[31] = 8;
    expect(verdict(classifyReplay(id, other))).toBe(Reason.REPLAY);
  });

  it('trusts anyone in open mode and only the listed authors otherwise', () => {
    expect(verdict(checkTrust('did:a', { mode: 'open' }))).toBe('ok');
    const list = { mode: 'allowlist', authors: new Set(['did:a']) } as const;
    expect(verdict(checkTrust('did:a', list))).toBe('ok');
    expect(verdict(checkTrust('did:b', list))).toBe(Reason.UNTRUSTED_AUTHOR);
  });
});
