/**
 * Replays spec/vectors/events/*.json against the protocol code: every derived value (body
 * bytes, id, signing input, signature verdicts, the event bytes themselves) is recomputed and
 * compared, and the final verdict is taken through the reference validator, from the CBOR and
 * every JSON form alike (read from bytes by the one JSON reader), on every crypto backend that
 * loads here. The batch-body vectors are split (§3.5) and judged element by element.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { BACKENDS, type Core, loadCore } from '@commons-sync/bindings';
import { describe, expect, it } from 'vitest';

import {
  type DecodedEvent,
  decodeEvent,
  encodeBody,
  encodeEvent,
  eventToJson,
  fromHex,
  REASON_CODES,
  REASON_STAGE,
  type Result,
  readEventJson,
  signatureChecks,
  signingInput,
  splitEventBody,
  toHex,
  type ValidationContext,
  validateEvent,
  validateEventJson,
} from '../src/protocol/index.js';

const DIR = fileURLToPath(new URL('../../../spec/vectors/events/', import.meta.url));
const ALL_FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const BATCH_FILE = 'batch-bodies.json';
const FILES = ALL_FILES.filter((f) => f !== BATCH_FILE);

interface Step {
  name?: string;
  now: number;
  trusted_authors?: string[];
  cbor?: string;
  json?: unknown;
  json_text?: string;
  json_text_hex?: string;
  body_cbor?: string;
  id?: string;
  signing_input?: string;
  signature_verdicts?: boolean[];
  expected: string;
}
interface Vector extends Step {
  name: string;
  steps?: Step[];
}
interface VectorFile {
  source: string;
  license: string;
  description: string;
  vectors: Vector[];
}

function load(file: string): VectorFile {
  return JSON.parse(readFileSync(DIR + file, 'utf8')) as VectorFile;
}

function bytes(hex: string): Uint8Array {
  const b = fromHex(hex);
  if (b === null) throw new Error(`bad hex in vector: ${hex.slice(0, 20)}`);
  return b;
}

const cores: Core[] = [];
for (const backend of BACKENDS) {
  try {
    cores.push(await loadCore({ backend }));
  } catch {
    // a backend that is not built here is tested where it is built
  }
}

/** The stages decided before any crypto or state: the verdict of decoding alone. */
const DECODE_STAGES = new Set(['decode', 'version', 'schema']);
const isDecodeStage = (code: string): boolean =>
  (REASON_CODES as readonly string[]).includes(code) &&
  DECODE_STAGES.has(REASON_STAGE[code as (typeof REASON_CODES)[number]]);

function checkDerived(step: Step, decoded: DecodedEvent, core: Core): void {
  const id = core.sha256(decoded.body);
  expect(toHex(decoded.body)).toBe(step.body_cbor);
  expect(toHex(core.sha256(encodeBody(decoded.event)))).toBe(step.id); // from the fields too
  expect(toHex(id)).toBe(step.id);
  expect(toHex(signingInput(id))).toBe(step.signing_input);
  expect(toHex(encodeEvent(decoded.event))).toBe(step.cbor);
  const verdicts = signatureChecks(decoded, id).map((c) =>
    core.ed25519Verify(c.publicKey, c.message, c.signature),
  );
  expect(verdicts).toEqual(step.signature_verdicts);
}

function runStep(step: Step, core: Core, ctx: ValidationContext): void {
  const parsed: Array<[string, Result<DecodedEvent>]> = [];
  if (step.cbor !== undefined) parsed.push(['cbor', decodeEvent(bytes(step.cbor))]);
  // a `json` value has exactly one compact JSON text (its numbers are exact JS numbers)
  if (step.json !== undefined)
    parsed.push(['json', readEventJson(Buffer.from(JSON.stringify(step.json)))]);
  if (step.json_text !== undefined)
    parsed.push(['json_text', readEventJson(Buffer.from(step.json_text, 'utf8'))]);
  if (step.json_text_hex !== undefined)
    parsed.push(['json_text_hex', readEventJson(bytes(step.json_text_hex))]);
  expect(parsed.length).toBeGreaterThan(0);

  for (const [form, result] of parsed) {
    if (!result.ok) {
      expect({ form, reason: result.reason }).toEqual({ form, reason: step.expected });
      expect(isDecodeStage(result.reason)).toBe(true);
      expect(step.body_cbor).toBeUndefined();
      continue;
    }
    expect(isDecodeStage(step.expected), `${form} decoded but ${step.expected} expected`).toBe(
      false,
    );
    checkDerived(step, result.value, core);
    expect(toHex(result.value.encoded)).toBe(step.cbor);
    if (step.json !== undefined) expect(eventToJson(result.value.event)).toEqual(step.json);
    const verdict = validateEvent(core, result.value, ctx);
    expect({ form, verdict: verdict.ok ? verdict.outcome : verdict.reason }).toEqual({
      form,
      verdict: step.expected,
    });
  }
}

function context(step: Step, accepted: Map<string, Uint8Array>): ValidationContext {
  return {
    now: step.now,
    trust:
      step.trusted_authors === undefined
        ? { mode: 'open' }
        : { mode: 'allowlist', authors: new Set(step.trusted_authors) },
    lookupReplay: (author, nonce) => accepted.get(`${author}/${toHex(nonce)}`),
  };
}

describe.each(cores.map((c) => [c.backend, c] as const))(
  'event vectors on the %s backend',
  (_, core) => {
    describe.each(FILES)('%s', (file) => {
      const doc = load(file);

      it('has the header of every vector file', () => {
        expect(doc.source).toMatch(/generate\.ts/);
        expect(doc.license).toBe('Apache-2.0');
        expect(doc.vectors.length).toBeGreaterThan(0);
      });

      it.each(doc.vectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
        const accepted = new Map<string, Uint8Array>();
        for (const step of vector.steps ?? [vector]) {
          runStep(step, core, context(step, accepted));
          if (step.expected === 'accepted') {
            const d = decodeEvent(bytes(step.cbor ?? ''));
            if (!d.ok) throw new Error('accepted step must decode');
            accepted.set(
              `${d.value.event.author}/${toHex(d.value.event.nonce)}`,
              core.sha256(d.value.body),
            );
          }
        }
      });
    });
  },
);

interface BatchVector {
  name: string;
  now: number;
  body?: string;
  body_hex?: string;
  single?: boolean;
  expected: string | string[];
}

describe.each(cores.map((c) => [c.backend, c] as const))(
  'batch-body vectors on the %s backend',
  (_, core) => {
    const doc = JSON.parse(readFileSync(DIR + BATCH_FILE, 'utf8')) as {
      license: string;
      batches: BatchVector[];
    };

    it.each(doc.batches.map((v) => [v.name, v] as const))('%s', (_name, v) => {
      const body = v.body_hex !== undefined ? bytes(v.body_hex) : Buffer.from(v.body ?? '', 'utf8');
      const split = splitEventBody(body, Number.MAX_SAFE_INTEGER);
      if (typeof v.expected === 'string') {
        expect(split).toMatchObject({ ok: false, why: 'not-a-batch' });
        expect(v.expected).toBe('ERR_MALFORMED');
        return;
      }
      if (!split.ok) throw new Error(`${v.name}: ${split.detail}`);
      expect(split.single).toBe(v.single === true);
      const accepted = new Map<string, Uint8Array>();
      const { spans, framingError } = split.batch;
      const got: string[] = [];
      for (let i = 0; i < spans.length; i += 2) {
        if (framingError !== undefined) {
          got.push('ERR_MALFORMED');
          continue;
        }
        const verdict = validateEventJson(
          core,
          body,
          context({ now: v.now, expected: '' }, accepted),
          spans[i],
          spans[i + 1],
        );
        if (verdict.ok && verdict.outcome === 'accepted') {
          accepted.set(
            `${verdict.decoded.event.author}/${toHex(verdict.decoded.event.nonce)}`,
            verdict.id,
          );
        }
        got.push(verdict.ok ? verdict.outcome : verdict.reason);
      }
      expect(got).toEqual(v.expected);
    });
  },
);

describe('the vector set', () => {
  const expected = new Set(
    FILES.flatMap((f) => load(f).vectors.flatMap((v) => (v.steps ?? [v]).map((s) => s.expected))),
  );

  it('covers every reason code and both outcomes', () => {
    for (const code of [...REASON_CODES, 'accepted', 'duplicate']) expect(expected).toContain(code);
  });

  it('names only known codes', () => {
    // ERR_KEL_UNKNOWN_IDENTITY: step 7 of an event by an identity, at a node holding no key event
    const known = [...REASON_CODES, 'ERR_KEL_UNKNOWN_IDENTITY', 'accepted', 'duplicate'];
    for (const code of expected) expect(known).toContain(code);
  });

  it('is formatted as generate.ts writes it (2-space JSON, final newline)', () => {
    for (const file of ALL_FILES) {
      const text = readFileSync(DIR + file, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      expect(`${JSON.stringify(JSON.parse(text), null, 2)}\n`).toBe(text);
    }
  });
});
