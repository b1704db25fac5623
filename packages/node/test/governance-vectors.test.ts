/**
 * Replays spec/vectors/governance/*.json against the governance code on every crypto backend that
 * loads (derived fields and every verdict of records.json; every delivery outcome, the state in
 * every order and from resolveGovernance(set), and draft statuses of chains.json; every trust
 * answer of trust.json), then runs the independent cross-check (crosscheck.py: Python cbor2 and
 * cryptography, written from spec/GOVERNANCE.md) and the generator in --check mode.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { BACKENDS, type Core, loadCore } from '@commons-sync/bindings';
import { describe, expect, it } from 'vitest';

import {
  checkRecordTime,
  type DecodedRecord,
  decodeRecord,
  GOV_REASON_CODES,
  Governance,
  type GovernanceView,
  type GovResult,
  governanceViewToJson,
  readRecordJsonText,
  recordSignatureChecks,
  recordSigningInput,
  resolveGovernance,
  type SubmitOutcome,
  TRUST_REASON_CODES,
  trustExplanationToJson,
  type VerifiedRecord,
  verifyRecord,
} from '../src/governance/index.js';
import {
  type DecodedKeyEvent,
  decodeKeyEvent,
  IdentityRegistry,
  identityStateToJson,
} from '../src/identity/index.js';
import { fromHex, toHex } from '../src/protocol/index.js';

// biome-ignore lint/suspicious/noExplicitAny: the vector files are JSON read field by field; their shape is spec/vectors/governance/README.md's
type VectorJson = any;

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = `${ROOT}spec/vectors/governance/`;
const load = (file: string): VectorJson => JSON.parse(readFileSync(DIR + file, 'utf8'));
const bytes = (h: string): Uint8Array =>
  fromHex(h) ??
  (() => {
    throw new Error(`bad hex ${h}`);
  })();

const cores: Core[] = [];
for (const backend of BACKENDS) {
  try {
    cores.push(await loadCore({ backend }));
  } catch {
    // a backend that is not built here is tested where it is built
  }
}

function standalone(core: Core, r: GovResult<DecodedRecord>, now: number, skew: number): string {
  if (!r.ok) return r.reason;
  const time = checkRecordTime(r.value.record, now, skew);
  if (!time.ok) return time.reason;
  const v = verifyRecord(core, r.value);
  return v.ok ? 'valid' : v.reason;
}

function outcomeString(o: SubmitOutcome): string {
  if (!o.ok) return o.reason;
  if (o.outcome === 'duplicate') return 'duplicate';
  return `accepted ${o.standing}${o.reason === undefined ? '' : ` ${o.reason.reason}`}`;
}

/** The identities of a scenario: rebuilt from their key events; their states must equal the vector's. */
function lookupOf(core: Core, v: VectorJson): (did: string) => ReturnType<IdentityRegistry['get']> {
  const registry = new IdentityRegistry(core);
  for (const id of v.identities) {
    const events = id.key_events.map((h: string) => {
      const d = decodeKeyEvent(core, bytes(h));
      if (!d.ok) throw new Error(d.detail);
      return d.value as DecodedKeyEvent;
    });
    registry.submit(core, events, 1_767_225_600);
    expect(identityStateToJson(registry.get(id.did)!)).toEqual(id.state);
  }
  return (did) => registry.get(did);
}

function verified(core: Core, rec: VectorJson): VerifiedRecord {
  const d = decodeRecord(core, bytes(rec.cbor));
  if (!d.ok) throw new Error(d.detail);
  expect(d.value.idHex).toBe(rec.id);
  const j = readRecordJsonText(core, JSON.stringify(rec.json));
  expect(j.ok && j.value.idHex).toBe(rec.id);
  const v = verifyRecord(core, d.value);
  if (!v.ok) throw new Error(v.detail);
  return v.value;
}

function replay(
  core: Core,
  doc: VectorJson,
  v: VectorJson,
  order: string[],
): { g: Governance; outcomes: string[] } {
  const lookup = lookupOf(core, v);
  const records = new Map<string, VerifiedRecord>(
    v.records.map((r: VectorJson) => [r.label, verified(core, r)]),
  );
  const g = Governance.create(verified(core, v.anchor), lookup);
  if (!g.ok) throw new Error(g.detail);
  const outcomes = order.map((label) =>
    outcomeString(g.value.submit(core, [records.get(label)!], doc.now, doc.clock_skew_s)[0]!),
  );
  return { g: g.value, outcomes };
}

describe.each(cores.map((c) => [c.backend, c] as const))(
  'governance vectors on the %s backend',
  (_, core) => {
    it('records.json: every form gives the stated verdict and the derived fields', () => {
      const doc = load('records.json');
      expect(doc.license).toBe('Apache-2.0');
      expect(doc.vectors.length).toBeGreaterThan(90);
      for (const v of doc.vectors) {
        const forms: Array<[string, GovResult<DecodedRecord>]> = [];
        if (v.cbor !== undefined) forms.push(['cbor', decodeRecord(core, bytes(v.cbor))]);
        if (v.json !== undefined)
          forms.push(['json', readRecordJsonText(core, JSON.stringify(v.json))]);
        if (v.json_text !== undefined)
          forms.push([
            'json_text',
            readRecordJsonText(core, v.json_text + ' '.repeat(v.json_text_pad_spaces ?? 0)),
          ]);
        expect(forms.length).toBeGreaterThan(0);
        for (const [form, r] of forms) {
          expect({
            name: v.name,
            form,
            verdict: standalone(core, r, doc.now, doc.clock_skew_s),
          }).toEqual({ name: v.name, form, verdict: v.expected });
          if (!r.ok) continue;
          expect(toHex(r.value.body)).toBe(v.body_cbor);
          expect(r.value.idHex).toBe(v.id);
          expect(toHex(recordSigningInput(r.value.id))).toBe(v.signing_input);
          expect(
            recordSignatureChecks(r.value).map((c) =>
              core.ed25519Verify(c.publicKey, c.message, c.signature),
            ),
          ).toEqual(v.signature_verdicts);
        }
      }
    });

    it('chains.json: each delivery outcome, the same state in every order and from resolve(set), draft statuses', () => {
      const doc = load('chains.json');
      for (const v of doc.vectors) {
        for (const d of v.deliveries) {
          const { g, outcomes } = replay(core, doc, v, d.order);
          expect({ name: v.name, outcomes }).toEqual({ name: v.name, outcomes: d.outcomes });
          expect(governanceViewToJson(g.view as GovernanceView)).toEqual(v.state);
        }
        const all = v.records.map((r: VectorJson) => verified(core, r));
        const reference = resolveGovernance(
          verified(core, v.anchor) as never,
          all,
          lookupOf(core, v),
        );
        expect(governanceViewToJson(reference), v.name).toEqual(v.state);
        const { g } = replay(core, doc, v, v.deliveries[0].order);
        for (const draft of v.drafts ?? []) {
          const d = decodeRecord(core, bytes(draft.cbor));
          if (!d.ok) throw new Error(d.detail);
          const v = verifyRecord(core, d.value);
          if (!v.ok) throw new Error(v.detail);
          const s = g.proposalStatus(v.value);
          expect(
            s.ok && {
              against: s.value.judgedAgainst,
              missing: s.value.missing,
              blocked: s.value.blocked?.reason ?? null,
            },
          ).toEqual({
            against: draft.judged_against,
            missing: draft.missing,
            blocked: draft.blocked,
          });
        }
      }
    });

    it('trust.json: each delivery outcome and every trust answer, in every order', () => {
      const doc = load('trust.json');
      for (const v of doc.vectors) {
        for (const d of v.deliveries) {
          const { g, outcomes } = replay(core, doc, v, d.order);
          expect({ name: v.name, outcomes }).toEqual({ name: v.name, outcomes: d.outcomes });
          for (const q of v.questions) {
            expect({
              q: q.description,
              e: trustExplanationToJson(g.explain(q.subject, q.scope, q.at)),
            }).toEqual({ q: q.description, e: q.expected });
          }
        }
      }
    });
  },
);

describe('governance vectors, checked from outside', () => {
  it('cover every consensus reason code of spec/GOVERNANCE.md §10 (local bounds are tested in governance-bounds)', () => {
    const text = ['records.json', 'chains.json', 'trust.json']
      .map((f) => readFileSync(DIR + f, 'utf8'))
      .join('\n');
    const local = new Set(['ERR_GOV_LIMIT', 'ERR_GOV_NO_ROOT', 'ERR_TRUST_LIMIT']);
    for (const code of [...GOV_REASON_CODES, ...TRUST_REASON_CODES].filter((c) => !local.has(c)))
      expect(text, code).toContain(code);
  });

  it('the independent cross-check (Python cbor2 + cryptography, from the spec alone) agrees on every check', () => {
    const out = execFileSync('bash', [`${DIR}crosscheck.sh`], { encoding: 'utf8' });
    const m = /crosscheck: (\d+) of (\d+) checks agree, (\d+) mismatches/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![3])).toBe(0);
    expect(Number(m![2])).toBeGreaterThan(500);
  });

  it('the generator reproduces the committed files byte for byte', () => {
    const out = execFileSync('npx', ['tsx', `${DIR}generate.ts`, '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out.match(/reproduced/g)).toHaveLength(3);
  });
});
