/**
 * The TUF attack classes that apply to a trust root and critical actions (spec/GOVERNANCE.md §11),
 * each refused with its own reason code — and, next to each, the honest record that the same
 * rules accept, so that no test passes by refusing everything. Records go through `submit`
 * (decoded bytes: the time rule, duplicates, batch signature verification, the rules) as a node
 * receives them, or through the JSON reader.
 */
import { describe, expect, it } from 'vitest';

import {
  type DecodedRecord,
  decodeRecord,
  encodeRecord,
  GOV_LIMITS,
  type Governance,
  type GovernanceRecord,
  governanceViewToJson,
  type PrincipalEntry,
  readRecordJsonText,
  recordToJson,
  signRecord,
} from '../src/governance/index.js';
import { identifierFromInceptionId } from '../src/identity/index.js';
import {
  actionBody,
  anchor,
  core,
  DAY,
  decoded,
  entries,
  governed,
  keysOf,
  root,
  rootBody,
  T0,
  testKey,
  thresholds,
} from './governance-fixtures.js';

const NOW = T0 + 400 * DAY;

/** Submits decoded records as a node does; the outcome as a short string. */
function submit(g: Governance, ...records: DecodedRecord[]): string[] {
  return g
    .submit(core, records, NOW)
    .map((o) =>
      !o.ok
        ? o.reason
        : o.outcome === 'duplicate'
          ? 'duplicate'
          : `${o.standing}${o.reason ? ` ${o.reason.reason}` : ''}`,
    );
}
const admission = (rootRecord: DecodedRecord, validator: string, at: number) =>
  actionBody(rootRecord as never, 'validator-admission', {
    subject: testKey(validator).did,
    createdAt: at,
  });

describe('rollback', () => {
  it('refuses a root at or below the anchor, or not above its prior (ERR_GOV_ROLLBACK); takes the next version', () => {
    const a3 = anchor({ version: 3 });
    const g = governed(a3);
    const v2 = decoded(
      rootBody({ version: 2, prior: a3, createdAt: T0 + DAY }),
      keysOf('alice', 'bob'),
    );
    const v3 = decoded(
      rootBody({ version: 3, prior: a3, createdAt: T0 + DAY }),
      keysOf('alice', 'bob'),
    );
    const v4 = decoded(
      rootBody({ version: 4, prior: a3, createdAt: T0 + DAY }),
      keysOf('alice', 'bob'),
    );
    expect(submit(g, v2, v3)).toEqual(['ERR_GOV_ROLLBACK', 'ERR_GOV_ROLLBACK']);
    expect(submit(g, v4)).toEqual(['in-force']);
    // an old root replayed to a node further along: still a rollback, and nothing moves back
    const replayed = decoded(
      rootBody({ version: 4, prior: v4 as never, createdAt: T0 + 2 * DAY }),
      keysOf('alice', 'bob'),
    );
    expect(submit(g, replayed)).toEqual(['ERR_GOV_ROLLBACK']);
    expect(g.view!.chain.tip.idHex).toBe(v4.idHex);
  });

  it('refuses a version that skips ahead (ERR_GOV_VERSION_GAP)', () => {
    const a = anchor();
    const g = governed(a);
    expect(
      submit(
        g,
        decoded(rootBody({ version: 3, prior: a, createdAt: T0 + DAY }), keysOf('alice', 'bob')),
      ),
    ).toEqual(['ERR_GOV_VERSION_GAP']);
    expect(
      submit(
        g,
        decoded(rootBody({ version: 2, prior: a, createdAt: T0 + DAY }), keysOf('alice', 'bob')),
      ),
    ).toEqual(['in-force']);
  });
});

describe('freeze', () => {
  it('refuses an action dated at or after its root expired (ERR_GOV_ROOT_EXPIRED) until a renewal', () => {
    const a = anchor({ expiresAt: T0 + 10 * DAY });
    const g = governed(a);
    expect(
      submit(g, decoded(admission(a, 'val-2', T0 + 10 * DAY), keysOf('alice', 'bob'))),
    ).toEqual(['ERR_GOV_ROOT_EXPIRED']);
    expect(
      submit(g, decoded(admission(a, 'val-2', T0 + 10 * DAY - 1), keysOf('alice', 'bob'))),
    ).toEqual(['applied']);
    const renewal = decoded(
      rootBody({ version: 2, prior: a, createdAt: T0 + 12 * DAY }),
      keysOf('alice', 'bob'),
    );
    expect(submit(g, renewal)).toEqual(['in-force']);
    expect(
      submit(g, decoded(admission(renewal, 'val-3', T0 + 13 * DAY), keysOf('alice', 'bob'))),
    ).toEqual(['applied']);
    expect(governanceViewToJson(g.view!).root.expires_at).toBe(T0 + 12 * DAY + 365 * DAY);
  });
});

describe('mix-and-match', () => {
  it('refuses a signature lifted from the prior root onto another body (ERR_GOV_MIX_AND_MATCH, not a mere bad signature)', () => {
    const a = anchor();
    const g = governed(a);
    const body = rootBody({ version: 2, prior: a, createdAt: T0 + DAY });
    const honest = decoded(body, keysOf('alice', 'bob'));
    const lifted = decoded({ ...body, signatures: a.record.signatures }, []);
    expect(submit(g, lifted)).toEqual(['ERR_GOV_MIX_AND_MATCH']);
    const flipped = {
      ...body,
      signatures: [
        {
          ...honest.record.signatures[0]!,
          sig: Uint8Array.from(honest.record.signatures[0]!.sig, (b, i) => (i === 0 ? b ^ 1 : b)),
        },
      ],
    };
    expect(submit(g, decoded(flipped, []))).toEqual(['ERR_BAD_SIGNATURE']);
    expect(submit(g, honest)).toEqual(['in-force']);
  });

  it('refuses a signature over the named root lifted onto an action', () => {
    const a = anchor();
    const g = governed(a);
    const body = admission(a, 'val-2', T0 + DAY);
    expect(submit(g, decoded({ ...body, signatures: a.record.signatures }, []))).toEqual([
      'ERR_GOV_MIX_AND_MATCH',
    ]);
    expect(submit(g, decoded(body, keysOf('alice', 'bob')))).toEqual(['applied']);
  });

  it('refuses records dated before the root they name or follow, and a root without prior', () => {
    const a = anchor();
    const g = governed(a);
    expect(submit(g, decoded(admission(a, 'val-2', T0 - 1), keysOf('alice', 'bob')))).toEqual([
      'ERR_GOV_MIX_AND_MATCH',
    ]);
    expect(
      submit(
        g,
        decoded(rootBody({ version: 2, prior: a, createdAt: T0 - 1 }), keysOf('alice', 'bob')),
      ),
    ).toEqual(['ERR_GOV_MIX_AND_MATCH']);
    expect(
      submit(g, decoded(rootBody({ version: 2, createdAt: T0 + DAY }), keysOf('alice', 'bob'))),
    ).toEqual(['ERR_GOV_MIX_AND_MATCH']);
    expect(submit(g, decoded(admission(a, 'val-2', T0), keysOf('alice', 'bob')))).toEqual([
      'applied',
    ]);
  });
});

describe('threshold not met, duplicate keys, arbitrary keys', () => {
  it('one signature of two is ERR_GOV_THRESHOLD_NOT_MET; co-signed, the same body is applied', () => {
    const a = anchor();
    const g = governed(a);
    const partial = decoded(admission(a, 'val-2', T0 + DAY), keysOf('alice'));
    expect(submit(g, partial)).toEqual(['ERR_GOV_THRESHOLD_NOT_MET']);
    const cosigned = signRecord(core, partial.record, [testKey('bob').seed]);
    expect(cosigned.ok && cosigned.value.idHex).toBe(partial.idHex);
    expect(submit(g, (cosigned as { value: DecodedRecord }).value)).toEqual(['applied']);
  });

  it('a key signing twice (or three times) counts once: ERR_GOV_DUPLICATE_SIGNATURE', () => {
    const a = anchor();
    const g = governed(a);
    expect(submit(g, decoded(admission(a, 'val-2', T0 + DAY), keysOf('alice', 'alice')))).toEqual([
      'ERR_GOV_DUPLICATE_SIGNATURE',
    ]);
    expect(
      submit(g, decoded(admission(a, 'val-3', T0 + DAY), keysOf('alice', 'alice', 'alice'))),
    ).toEqual(['ERR_GOV_DUPLICATE_SIGNATURE']);
    expect(
      submit(g, decoded(admission(a, 'val-2', T0 + DAY), keysOf('alice', 'alice', 'bob'))),
    ).toEqual(['applied']);
  });

  it('keys outside the root count zero: ERR_GOV_UNTRUSTED_KEY; co-signers are checked, not only the first signer', () => {
    const a = anchor();
    const g = governed(a);
    expect(submit(g, decoded(admission(a, 'val-2', T0 + DAY), keysOf('mallory', 'trudy')))).toEqual(
      ['ERR_GOV_UNTRUSTED_KEY'],
    );
    expect(submit(g, decoded(admission(a, 'val-2', T0 + DAY), keysOf('alice', 'mallory')))).toEqual(
      ['ERR_GOV_UNTRUSTED_KEY'],
    );
    expect(
      submit(g, decoded(admission(a, 'val-2', T0 + DAY), keysOf('mallory', 'alice', 'bob'))),
    ).toEqual(['applied']);
  });

  it('an update needs the prior members and its own: an attacker root with its own keys is refused', () => {
    const a = anchor();
    const g = governed(a);
    const attacker = rootBody({
      version: 2,
      prior: a,
      createdAt: T0 + DAY,
      members: entries('mallory', 'trudy'),
    });
    expect(submit(g, decoded(attacker, keysOf('mallory', 'trudy')))).toEqual([
      'ERR_GOV_UNTRUSTED_KEY',
    ]);
    const handover = rootBody({
      version: 2,
      prior: a,
      createdAt: T0 + DAY,
      members: entries('erin', 'frank', 'gina'),
    });
    expect(submit(g, decoded(handover, keysOf('erin', 'frank')))).toEqual([
      'ERR_GOV_UNTRUSTED_KEY',
    ]); // no old member
    expect(submit(g, decoded(handover, keysOf('alice', 'bob')))).toEqual(['ERR_GOV_UNTRUSTED_KEY']); // no new member
    expect(submit(g, decoded(handover, keysOf('alice', 'bob', 'erin', 'frank')))).toEqual([
      'in-force',
    ]);
    expect(governanceViewToJson(g.view!).members.map((m) => m.id)).toEqual(
      entries('erin', 'frank', 'gina').map((e) => e.id),
    );
  });
});

describe('endless data', () => {
  const manyDidCs = (n: number): PrincipalEntry[] =>
    Array.from({ length: n }, (_, i) => ({
      id: identifierFromInceptionId(core.sha256(Uint8Array.of(i, i >> 8))),
      keyState: core.sha256(Uint8Array.of(1, i)),
    })).sort((x, y) => (x.id < y.id ? -1 : 1));
  const big = (record: GovernanceRecord) => decodeRecord(core, encodeRecord(record));

  it('refuses an oversized root (over 32,768 bytes) with ERR_GOV_TOO_LARGE, before reading it', () => {
    const body = rootBody({ validators: manyDidCs(256) });
    const signed = decoded(body, keysOf(...Array.from({ length: 40 }, (_, i) => `s${i}`)));
    expect(signed.encoded.length).toBeLessThanOrEqual(GOV_LIMITS.maxRecordBytes);
    const oversized = encodeRecord({
      ...signed.record,
      signatures: [...signed.record.signatures, ...signed.record.signatures.slice(0, 24)],
    });
    expect(oversized.length).toBeGreaterThan(GOV_LIMITS.maxRecordBytes);
    expect(decodeRecord(core, oversized)).toMatchObject({ ok: false, reason: 'ERR_GOV_TOO_LARGE' });
    expect(decodeRecord(core, new Uint8Array(10_000_000))).toMatchObject({
      ok: false,
      reason: 'ERR_GOV_TOO_LARGE',
    });
  });

  it('refuses too many signatures, members or validators, a long text, a long JSON text: all ERR_GOV_TOO_LARGE', () => {
    const a = anchor();
    const sigs = a.record.signatures;
    expect(
      big({ ...a.record, signatures: Array.from({ length: 65 }, () => sigs[0]!) }),
    ).toMatchObject({ ok: false, reason: 'ERR_GOV_TOO_LARGE' });
    const members = entries(...Array.from({ length: 33 }, (_, i) => `m${i}`));
    expect(
      big({ ...a.record, members, thresholds: thresholds(17) } as GovernanceRecord),
    ).toMatchObject({ ok: false, reason: 'ERR_GOV_TOO_LARGE' });
    expect(big({ ...a.record, validators: manyDidCs(257) } as GovernanceRecord)).toMatchObject({
      ok: false,
      reason: 'ERR_GOV_TOO_LARGE',
    });
    expect(
      big({
        ...a.record,
        type: 'attestation',
        issuer: testKey('a').did,
        subject: testKey('b').did,
        scope: 'x'.repeat(300),
      } as never),
    ).toMatchObject({
      ok: false,
      reason: 'ERR_GOV_TOO_LARGE',
    });
    const text = JSON.stringify(recordToJson(a.record));
    expect(
      readRecordJsonText(core, text + ' '.repeat(GOV_LIMITS.maxJsonBytes - text.length)).ok,
    ).toBe(true);
    expect(
      readRecordJsonText(core, text + ' '.repeat(GOV_LIMITS.maxJsonBytes + 1 - text.length)),
    ).toMatchObject({ ok: false, reason: 'ERR_GOV_TOO_LARGE' });
    expect(
      readRecordJsonText(core, `{"v":1,"type":"root","pad":"${'x'.repeat(100_000)}"}`),
    ).toMatchObject({ ok: false, reason: 'ERR_GOV_TOO_LARGE' });
  });

  it('takes a root at every limit: 32 members, 256 validators, 64 signatures', () => {
    const names = Array.from({ length: 32 }, (_, i) => `m${i}`);
    const body = rootBody({
      members: entries(...names),
      thresholds: thresholds(17),
      validators: entries(...Array.from({ length: 256 }, (_, i) => `v${i}`)),
    });
    const signed = decoded(body, keysOf(...names, ...names));
    expect(signed.record.signatures).toHaveLength(64);
    expect(signed.encoded.length).toBeLessThanOrEqual(GOV_LIMITS.maxRecordBytes);
    const g = governed(
      root(
        {
          ...{
            members: entries(...names),
            thresholds: thresholds(17),
            validators: entries(...Array.from({ length: 256 }, (_, i) => `v${i}`)),
          },
        },
        ...names,
      ),
    );
    expect(g.view!.actions.content.validators).toHaveLength(256);
  });
});

describe('forks (equivocation by a quorum)', () => {
  it('names the same equivocators whichever copy of a contestant came first (every copy counts)', () => {
    const a = anchor();
    const body = rootBody({ version: 2, prior: a, createdAt: T0 + DAY });
    const first = decoded(body, keysOf('alice', 'bob'));
    const second = decoded(body, keysOf('bob', 'carol'));
    const rival = decoded(
      rootBody({ version: 2, prior: a, createdAt: T0 + DAY, validators: entries('val-9') }),
      keysOf('alice', 'bob'),
    );
    const forkAfter = (...records: DecodedRecord[]) => {
      const g = governed(a);
      submit(g, ...records);
      return governanceViewToJson(g.view!).fork;
    };
    // alice signed the rival and one copy of the contestant; bob signed everything
    const expected = {
      prior: a.idHex,
      version: 1,
      contestants: [first.idHex, rival.idHex].sort(),
      equivocators: [testKey('alice').did, testKey('bob').did].sort(),
    };
    expect(forkAfter(first, second, rival)).toEqual(expected);
    expect(forkAfter(second, first, rival)).toEqual(expected);
    expect(forkAfter(rival, second, first)).toEqual(expected);
    // a copy whose signers the held copies already carry is a duplicate
    const g = governed(a);
    submit(g, second, first);
    expect(g.submit(core, [decoded(body, keysOf('alice'))], NOW)).toMatchObject([
      { ok: true, outcome: 'duplicate' },
    ]);
  });

  it('two valid successors freeze the chain at their prior, name the member who signed both, and refuse every action', () => {
    const a = anchor();
    const g = governed(a);
    const r2a = decoded(
      rootBody({ version: 2, prior: a, createdAt: T0 + DAY }),
      keysOf('alice', 'bob'),
    );
    const r2b = decoded(
      rootBody({ version: 2, prior: a, createdAt: T0 + DAY, validators: entries('val-9') }),
      keysOf('bob', 'carol'),
    );
    expect(submit(g, r2a, r2b)).toEqual(['in-force', 'contestant']);
    const view = governanceViewToJson(g.view!);
    expect(view.status).toBe('forked');
    expect(view.root.id).toBe(a.idHex);
    expect(view.fork).toEqual({
      prior: a.idHex,
      version: 1,
      contestants: [r2a.idHex, r2b.idHex].sort(),
      equivocators: [testKey('bob').did],
    });
    expect(submit(g, decoded(admission(a, 'val-2', T0 + 2 * DAY), keysOf('alice', 'bob')))).toEqual(
      ['frozen ERR_GOV_ROOT_FORKED'],
    );
    expect(
      submit(g, decoded(admission(r2a, 'val-2', T0 + 2 * DAY), keysOf('alice', 'bob'))),
    ).toEqual(['frozen ERR_GOV_ROOT_FORKED']);
    expect(view.validators.map((v) => v.id)).toEqual([testKey('val-1').did]);
  });
});

describe('open mode', () => {
  it('a node without a root refuses roots and actions (ERR_GOV_NO_ROOT) and trusts everyone, saying so', async () => {
    const { Governance } = await import('../src/governance/index.js');
    const g = Governance.open(() => undefined);
    expect(submit(g, decoded(rootBody(), keysOf('alice', 'bob')))).toEqual(['ERR_GOV_NO_ROOT']);
    expect(g.explain(testKey('anyone').did, 'note', T0)).toMatchObject({
      mode: 'open',
      trusted: true,
      reason: 'open',
    });
  });
});
