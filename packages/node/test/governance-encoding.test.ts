/**
 * Governance records have one spelling (spec/GOVERNANCE.md §5): the CBOR and JSON forms of any
 * valid record give the same record, id and bytes; mutated bytes or JSON texts never crash the
 * decoder (a typed rejection or a valid record, never a throw); and records, key events and
 * events cannot pass for one another.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type DecodedRecord,
  decodeRecord,
  readRecordJson,
  readRecordJsonText,
  recordToJson,
} from '../src/governance/index.js';
import { decodeKeyEvent } from '../src/identity/index.js';
import { decodeEvent } from '../src/protocol/index.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

import {
  actionBody,
  anchor,
  core,
  DAY,
  decoded,
  entries,
  keysOf,
  rootBody,
  T0,
  testKey,
} from './governance-fixtures.js';
import { inception, set } from './identity-fixtures.js';

const a = anchor();
const NAMES = ['alice', 'bob', 'carol', 'dora', 'erin'];

/** Random valid records of every type. */
const recordArb: fc.Arbitrary<DecodedRecord> = fc.oneof(
  fc
    .record({
      n: fc.integer({ min: 1, max: 5 }),
      v: fc.integer({ min: 2, max: 1000 }),
      dt: fc.nat({ max: 1000 }),
      validators: fc.subarray(NAMES),
    })
    .map(({ n, v, dt, validators }) =>
      decoded(
        rootBody({
          version: v,
          prior: a,
          createdAt: T0 + dt,
          members: entries(...NAMES.slice(0, n)),
          validators: entries(...validators.map((x) => `v-${x}`)),
        }),
        keysOf(...NAMES.slice(0, n)),
      ),
    ),
  fc
    .record({
      kind: fc.constantFrom(
        'validator-admission',
        'validator-removal',
        'identity-revocation' as const,
      ),
      who: fc.constantFrom(...NAMES),
      dt: fc.nat({ max: 1000 }),
    })
    .map(({ kind, who, dt }) =>
      decoded(
        actionBody(a, kind, { subject: testKey(who).did, createdAt: T0 + dt }),
        keysOf('alice', 'bob'),
      ),
    ),
  fc
    .record({ depth: fc.integer({ min: 1, max: 8 }), paths: fc.integer({ min: 1, max: 8 }) })
    .map(({ depth, paths }) =>
      decoded(
        actionBody(a, 'policy-change', { trustPolicy: { maxDepth: depth, minPaths: paths } }),
        keysOf('alice'),
      ),
    ),
  fc
    .record({
      scope: fc.constantFrom('*', 'note', 'vote/x'),
      days: fc.integer({ min: 1, max: 366 }),
    })
    .map(({ scope, days }) =>
      decoded(
        {
          v: 1,
          type: 'attestation',
          issuer: testKey('alice').did,
          subject: testKey('bob').did,
          scope,
          createdAt: T0,
          expiresAt: T0 + days * DAY,
        },
        keysOf('alice'),
      ),
    ),
);

describe('one spelling', () => {
  it('the JSON form of any record reads back to the same record, id and CBOR', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const text = JSON.stringify(recordToJson(r.record));
        const back = readRecordJson(core, utf8(text));
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(back.value.idHex).toBe(r.idHex);
        expect(back.value.encoded).toEqual(r.encoded);
        expect(decodeRecord(core, r.encoded)).toMatchObject({
          ok: true,
          value: { idHex: r.idHex },
        });
      }),
      { numRuns: 60 },
    );
  });

  it('whitespace and member order in the JSON text do not matter; a repeated member name does', () => {
    const r = decoded(
      actionBody(a, 'protocol-upgrade', { protocolVersions: [1, 2] }),
      keysOf('alice', 'bob'),
    );
    const json = recordToJson(r.record) as unknown as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(json).reverse());
    expect(readRecordJsonText(core, JSON.stringify(reordered, null, 3))).toMatchObject({
      ok: true,
      value: { idHex: r.idHex },
    });
    const text = JSON.stringify(json);
    expect(
      readRecordJsonText(core, text.replace('"kind":', '"kind":"policy-change","kind":')),
    ).toMatchObject({ ok: false, reason: 'ERR_MALFORMED' });
  });
});

describe('hostile bytes', () => {
  it('mutated CBOR never throws: a typed rejection, or a record that re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(
        recordArb,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        (r, edits) => {
          const bytes = r.encoded.slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          const d = decodeRecord(core, bytes);
          if (d.ok) expect(d.value.encoded).toEqual(bytes);
          else expect(d.reason).toMatch(/^ERR_/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mutated JSON texts never throw', () => {
    fc.assert(
      fc.property(
        recordArb,
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom(
              '"',
              '{',
              '}',
              '[',
              ']',
              ',',
              ':',
              '\\',
              '0',
              'e',
              '-',
              ' ',
              '\u00e9',
              'x',
            ),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (r, edits) => {
          const chars = [...JSON.stringify(recordToJson(r.record))];
          for (const [at, c] of edits) chars[at % chars.length] = c;
          const d = readRecordJsonText(core, chars.join(''));
          if (!d.ok) expect(d.reason).toMatch(/^ERR_/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a governance record is neither an event nor a key event, and neither of those is a governance record', () => {
    const r = decoded(rootBody(), keysOf('alice', 'bob'));
    expect(decodeEvent(r.encoded)).toMatchObject({ ok: false, reason: 'ERR_BAD_FIELD' });
    expect(decodeKeyEvent(core, r.encoded)).toMatchObject({ ok: false, reason: 'ERR_BAD_FIELD' });
    const keyEvent = inception({ current: set(1, 'k0'), next: set(1, 'k1') });
    expect(decodeRecord(core, keyEvent.encoded)).toMatchObject({
      ok: false,
      reason: 'ERR_BAD_FIELD',
    });
  });
});
