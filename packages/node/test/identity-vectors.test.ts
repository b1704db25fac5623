/**
 * Replays spec/vectors/identity/*.json against the identity code on every crypto backend that
 * loads (derived fields, every verdict, every delivery outcome, the state in every order and
 * from resolve(set)), then runs the independent cross-check (crosscheck.py: Python cbor2 and
 * cryptography, written from spec/IDENTITY.md) and the generator in --check mode.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { BACKENDS, type Core, loadCore } from '@commons-sync/bindings';
import { describe, expect, it } from 'vitest';

import {
  checkIdentityAuthor,
  checkInception,
  checkKeyEventTime,
  type DecodedKeyEvent,
  decodeKeyEvent,
  IdentityRegistry,
  identifierFromInceptionId,
  identityStateToJson,
  KEL_REASON_CODES,
  type KelResult,
  keyEventSignatureChecks,
  keyEventSigningInput,
  parseIdentifier,
  parseKeyEventJsonText,
  resolveIdentity,
  type VerifiedKeyEvent,
  verifyKeyEvent,
} from '../src/identity/index.js';
import { fromHex, toHex } from '../src/protocol/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = `${ROOT}spec/vectors/identity/`;
// biome-ignore lint/suspicious/noExplicitAny: vector files are read as the JSON they are; the assertions check each field they use
const load = (file: string): any => JSON.parse(readFileSync(DIR + file, 'utf8'));
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

function standalone(core: Core, r: KelResult<DecodedKeyEvent>, now: number, skew: number): string {
  if (!r.ok) return r.reason;
  const time = checkKeyEventTime(r.value.event, now, skew);
  if (!time.ok) return time.reason;
  const v = verifyKeyEvent(core, r.value);
  if (!v.ok) return v.reason;
  if (r.value.event.type === 'inception') {
    const t = checkInception(v.value);
    if (!t.ok) return t.reason;
  }
  return 'valid';
}

describe.each(cores.map((c) => [c.backend, c] as const))(
  'identity vectors on the %s backend',
  (_, core) => {
    it('identifiers.json: derivations and refused spellings', () => {
      const doc = load('identifiers.json');
      expect(doc.license).toBe('Apache-2.0');
      for (const v of doc.valid) {
        expect(identifierFromInceptionId(bytes(v.inception_id))).toBe(v.did);
        expect(parseIdentifier(v.did)).toEqual({ ok: true, value: bytes(v.inception_id) });
      }
      for (const v of doc.invalid)
        expect(parseIdentifier(v.did), v.name).toMatchObject({ ok: false, reason: v.expected });
    });

    it('key-events.json: every form gives the stated verdict and the derived fields', () => {
      const doc = load('key-events.json');
      expect(doc.vectors.length).toBeGreaterThan(70);
      for (const v of doc.vectors) {
        const forms: Array<[string, KelResult<DecodedKeyEvent>]> = [];
        if (v.cbor !== undefined) forms.push(['cbor', decodeKeyEvent(core, bytes(v.cbor))]);
        if (v.json !== undefined)
          forms.push(['json', parseKeyEventJsonText(core, JSON.stringify(v.json))]);
        if (v.json_text !== undefined)
          forms.push(['json_text', parseKeyEventJsonText(core, v.json_text)]);
        expect(forms.length).toBeGreaterThan(0);
        for (const [form, r] of forms) {
          expect({
            name: v.name,
            form,
            verdict: standalone(core, r, doc.now, doc.clock_skew_s),
          }).toEqual({
            name: v.name,
            form,
            verdict: v.expected,
          });
          if (!r.ok) continue;
          expect(toHex(r.value.body)).toBe(v.body_cbor);
          expect(r.value.idHex).toBe(v.id);
          expect(r.value.identity).toBe(v.identity);
          expect(toHex(keyEventSigningInput(r.value.id))).toBe(v.signing_input);
          expect(
            keyEventSignatureChecks(r.value).map((c) =>
              core.ed25519Verify(c.publicKey, c.message, c.signature),
            ),
          ).toEqual(v.signature_verdicts);
        }
      }
    });

    it('logs.json: each delivery outcome, the same state in every order and from resolve(set), the verdicts', () => {
      const doc = load('logs.json');
      for (const v of doc.vectors) {
        const events = new Map<string, DecodedKeyEvent>();
        for (const e of v.events) {
          const d = decodeKeyEvent(core, bytes(e.cbor));
          if (!d.ok) throw new Error(`${v.name}/${e.label}: ${d.reason}`);
          const j = parseKeyEventJsonText(core, JSON.stringify(e.json));
          expect(j.ok && j.value.idHex).toBe(e.id);
          events.set(e.label, d.value);
        }
        const labelOf = new Map<string, string>(); // copies share an id: the first label listed names it
        for (const [l, e] of events) if (!labelOf.has(e.idHex)) labelOf.set(e.idHex, l);
        for (const d of v.deliveries) {
          const registry = new IdentityRegistry(core);
          d.order.forEach((label: string, i: number) => {
            const o = registry.submit(
              core,
              [events.get(label) as DecodedKeyEvent],
              doc.now,
              doc.clock_skew_s,
            )[0]!;
            const step = d.outcomes[i];
            expect({ name: v.name, label, outcome: o.ok ? o.outcome : o.reason }).toEqual({
              name: v.name,
              label,
              outcome: step.outcome,
            });
            if (o.ok && o.outcome === 'accepted')
              expect(o.attached.map((id) => labelOf.get(id))).toEqual(step.attached);
          });
          const state = registry.get(v.identity)!;
          expect(identityStateToJson(state)).toEqual(v.state);
          for (const q of v.verdicts) {
            const r = checkIdentityAuthor(state, {
              author: q.author,
              createdAt: q.created_at,
              keyState: q.key_state,
              signers: q.signers,
            });
            expect({ name: v.name, q: q.description, verdict: r.ok ? 'valid' : r.reason }).toEqual({
              name: v.name,
              q: q.description,
              verdict: q.expected,
            });
          }
        }
        const verified = [...events.values()]
          .map((e) => verifyKeyEvent(core, e))
          .filter((r) => r.ok)
          .map((r) => (r as { value: VerifiedKeyEvent }).value);
        expect(identityStateToJson(resolveIdentity(core, v.identity, verified)!)).toEqual(v.state);
      }
    });
  },
);

describe('identity vectors, checked from outside', () => {
  it('cover every consensus reason code of spec/IDENTITY.md §9 (ERR_KEL_LIMIT is local and tested in identity-bounds)', () => {
    const text = ['key-events.json', 'logs.json']
      .map((f) => readFileSync(DIR + f, 'utf8'))
      .join('\n');
    for (const code of KEL_REASON_CODES.filter((c) => c !== 'ERR_KEL_LIMIT'))
      expect(text, code).toContain(`"${code}"`);
  });

  it('the independent cross-check (Python cbor2 + cryptography, from the spec alone) agrees on every check', () => {
    const out = execFileSync('bash', [`${DIR}crosscheck.sh`], { encoding: 'utf8' });
    const m = /crosscheck: (\d+) of (\d+) checks agree, (\d+) mismatches/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![3])).toBe(0);
    expect(Number(m![2])).toBeGreaterThan(1000);
  });

  it('the generator reproduces the committed files byte for byte', () => {
    const out = execFileSync('npx', ['tsx', `${DIR}generate.ts`, '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out.match(/reproduced/g)).toHaveLength(4);
  });
});
