/**
 * Differential: the HTTP API of a live node gives, for generated JSON texts of events — valid
 * and broken: numbers in every notation and range, deep nesting, escapes, a byte-order mark,
 * invalid UTF-8, duplicate names, whitespace, truncations, stray bytes, replays — exactly the
 * verdicts of the reference validator on the same bytes (spec/PROTOCOL.md §3.5 split, then
 * `validateEventJson` one event after another). Each text is POSTed alone, then all of them in
 * one batch between valid events. On every crypto backend (the node and its worker thread).
 */
import { BACKENDS, type Backend, type Core, loadCore } from '@commons-sync/bindings';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import {
  didKeyFromPublicKey,
  type EventBody,
  eventToJson,
  makePolicy,
  type Payload,
  signEvent,
  splitEventBody,
  toHex,
  validateEventJson,
} from '../src/protocol/index.js';
import { arrayBody, type HttpNode, postBody, startHttpNode } from './http-fixtures.js';
import { jsonNumber, payload, prng, spell } from './json-fixtures.js';

const NOW = 1_767_225_600;
const reference = await loadCore({ backend: 'js' });
const enc = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// What to submit: recipes (plain data, so fast-check can shrink them), built into bytes per run

type Mutation =
  | { kind: 'none' }
  | { kind: 'number'; field: 'v' | 'created_at' | 'expires_at' | 'payload'; text: string }
  | { kind: 'same-number-other-notation'; field: 'v' | 'created_at' | 'expires_at'; form: number }
  | { kind: 'deep'; depth: number }
  | { kind: 'bom' }
  | { kind: 'bad-utf8'; bytes: readonly number[]; at: number }
  | { kind: 'lone-surrogate'; escape: string }
  | { kind: 'duplicate'; where: 'top' | 'payload' }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; at: number };

type Recipe =
  | {
      kind: 'event';
      author: number;
      time: 'ok' | 'expired' | 'future';
      multisig: boolean;
      badSig: boolean;
      payload: Payload;
      seed: number;
      mutation: Mutation;
    }
  | { kind: 'repeat'; back: number }
  | { kind: 'same-nonce'; back: number }
  | { kind: 'junk'; bytes: number[] };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' } as const), weight: 6 },
  fc.record({
    kind: fc.constant('number' as const),
    field: fc.constantFrom('v', 'created_at', 'expires_at', 'payload'),
    text: jsonNumber,
  }),
  fc.record({
    kind: fc.constant('same-number-other-notation' as const),
    field: fc.constantFrom('v', 'created_at', 'expires_at'),
    form: fc.nat(4),
  }),
  fc.record({
    kind: fc.constant('deep' as const),
    depth: fc.oneof(fc.integer({ min: 14, max: 19 }), fc.constantFrom(1000, 5000)),
  }),
  fc.constant({ kind: 'bom' } as const),
  fc.record({
    kind: fc.constant('bad-utf8' as const),
    bytes: fc.constantFrom(
      [0xff],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0x80],
      [0xc3, 0xa9],
    ),
    at: position.map((p) => Math.floor(p * 1000)),
  }),
  fc.record({
    kind: fc.constant('lone-surrogate' as const),
    escape: fc.constantFrom('\\ud800', '\\udfff', '\\ud83d\\u0041', '\\ud83d\\ude00'),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), where: fc.constantFrom('top', 'payload') }),
  fc.record({
    kind: fc.constant('byte' as const),
    at: position.map((p) => Math.floor(p * 1000)),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position.map((p) => Math.floor(p * 1000)),
    text: fc.constantFrom(',', ']', '}', '[', '{', '"', '\\', ' ', '\n', '1e400', '\u00e9', ',,'),
  }),
  fc.record({
    kind: fc.constant('truncate' as const),
    at: position.map((p) => Math.floor(p * 1000)),
  }),
);

const recipe: fc.Arbitrary<Recipe> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      author: fc.nat(2),
      time: fc.constantFrom('ok', 'ok', 'ok', 'expired', 'future'),
      multisig: fc.boolean(),
      badSig: fc.boolean().map((b) => b && Math.random() < 0.3),
      payload,
      seed: fc.integer(),
      mutation,
    }),
    weight: 8,
  },
  { arbitrary: fc.record({ kind: fc.constant('repeat' as const), back: fc.nat(8) }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('same-nonce' as const), back: fc.nat(8) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('junk' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
    }),
    weight: 1,
  },
);

const seeds = [0, 1, 2].map((i) => reference.sha256(enc.encode(`http-differential/author/${i}`)));
const dids = seeds.map((s) => didKeyFromPublicKey(reference.ed25519PublicKey(s)));
let counter = 0;

/** Inserts `insert` into `bytes` at the fraction `at / 1000` of its length. */
function splice(bytes: Uint8Array, at: number, insert: Uint8Array, remove = 0): Uint8Array {
  const i = Math.min(bytes.length, Math.floor((at / 1000) * bytes.length));
  return Buffer.concat([bytes.subarray(0, i), insert, bytes.subarray(i + remove)]);
}

/** The JSON text with the raw value text of a top-level member replaced. */
function replaceMember(text: string, field: string, raw: string): string {
  const value = JSON.parse(text) as Record<string, unknown>;
  return JSON.stringify({ ...value, [field]: '@RAW@' }).replace('"@RAW@"', () => raw);
}

function mutate(text: string, m: Mutation, event: Record<string, unknown>): Uint8Array {
  switch (m.kind) {
    case 'none':
      return enc.encode(text);
    case 'number':
      return enc.encode(replaceMember(text, m.field, m.text));
    case 'same-number-other-notation': {
      const n = event[m.field] as number;
      return enc.encode(
        replaceMember(
          text,
          m.field,
          [`${n}.0`, `${n}e0`, `${n}0e-1`, `${n}.00E+0`, `${n / 10}e1`][m.form] as string,
        ),
      );
    }
    case 'deep':
      return enc.encode(
        replaceMember(text, 'payload', `${'['.repeat(m.depth)}0${']'.repeat(m.depth)}`),
      );
    case 'bom':
      return Buffer.concat([Uint8Array.of(0xef, 0xbb, 0xbf), enc.encode(text)]);
    case 'bad-utf8': {
      const [before, after] = replaceMember(text, 'payload', '"MARK"').split('MARK') as [
        string,
        string,
      ];
      return Buffer.concat([enc.encode(before), Uint8Array.from(m.bytes), enc.encode(after)]);
    }
    case 'lone-surrogate':
      return enc.encode(replaceMember(text, 'payload', `"a${m.escape}b"`));
    case 'duplicate':
      return enc.encode(
        m.where === 'top'
          ? text.replace('{', '{"kind":"dup",')
          : replaceMember(text, 'payload', '{"a":1,"b":[],"a":2}'),
      );
    case 'byte': {
      const b = enc.encode(text);
      return splice(b, m.at, Uint8Array.of(m.value), 1);
    }
    case 'insert':
      return splice(enc.encode(text), m.at, enc.encode(m.text));
    case 'truncate': {
      const b = enc.encode(text);
      return b.subarray(0, Math.floor((m.at / 1000) * b.length));
    }
  }
}

/** Builds one run's texts from recipes; `history` holds the valid events built so far. */
function build(recipes: readonly Recipe[]): Uint8Array[] {
  const history: Array<{ text: Uint8Array; body: EventBody; author: number }> = [];
  return recipes.map((r): Uint8Array => {
    if (r.kind === 'junk') return Uint8Array.from(r.bytes);
    if (r.kind === 'repeat' || r.kind === 'same-nonce') {
      const earlier = history[history.length - 1 - (r.back % Math.max(1, history.length))];
      if (earlier === undefined) return enc.encode('{}');
      if (r.kind === 'repeat') return earlier.text; // the same bytes: a duplicate if it was accepted
      const other = signEvent(reference, { ...earlier.body, payload: { other: counter++ } }, [
        seeds[earlier.author] as Uint8Array,
      ]);
      if (!other.ok) throw new Error(other.detail);
      return enc.encode(JSON.stringify(eventToJson(other.value.event))); // a replay if the first was accepted
    }
    const created = r.time === 'future' ? NOW + 3600 : r.time === 'expired' ? NOW - 7200 : NOW - 30;
    const author = dids[r.author] as string;
    const body: EventBody = {
      v: 1,
      kind: 'note',
      author,
      createdAt: created,
      expiresAt: created + 1800,
      nonce: reference.sha256(enc.encode(`http-differential/nonce/${counter++}`)).slice(0, 16),
      payload: r.payload,
      ...(r.multisig ? { policy: makePolicy(author, 2, dids) } : {}),
    };
    const signers = r.multisig ? [r.author, (r.author + 1) % 3] : [r.author];
    const signed = signEvent(
      reference,
      body,
      signers.map((i) => seeds[i] as Uint8Array),
    );
    if (!signed.ok) throw new Error(`${signed.reason}: ${signed.detail}`);
    const json = eventToJson(signed.value.event) as unknown as Record<string, unknown>;
    if (r.badSig) {
      const sigs = json['signatures'] as Array<{ sig: string }>;
      const s = sigs[0] as { sig: string };
      s.sig = `${s.sig.startsWith('0') ? '1' : '0'}${s.sig.slice(1)}`;
    }
    const text = mutate(spell(json, prng(r.seed)), r.mutation, json);
    if (r.mutation.kind === 'none' && !r.badSig) history.push({ text, body, author: r.author });
    return text;
  });
}

// ---------------------------------------------------------------------------------------------
// The reference: the same bytes, split by §3.5, each text through validateEventJson in order

class Reference {
  private readonly accepted = new Map<string, Uint8Array>();

  verdicts(
    body: Uint8Array,
  ): { verdicts: string[]; single: boolean } | { refused: string; status: number } {
    const split = splitEventBody(body, 10_000);
    if (!split.ok) return { refused: 'ERR_MALFORMED', status: 400 };
    const { bytes, spans, framingError } = split.batch;
    if (spans.length === 0) return { refused: 'ERR_EMPTY_BATCH', status: 400 };
    const out: string[] = [];
    for (let i = 0; i < spans.length; i += 2) {
      if (framingError !== undefined) {
        out.push('ERR_MALFORMED');
        continue;
      }
      const v = validateEventJson(
        reference,
        bytes,
        { now: NOW, lookupReplay: (a, n) => this.accepted.get(`${a}/${toHex(n)}`) },
        spans[i],
        spans[i + 1],
      );
      if (v.ok && v.outcome === 'accepted')
        this.accepted.set(`${v.decoded.event.author}/${toHex(v.decoded.event.nonce)}`, v.id);
      out.push(v.ok ? v.outcome : v.reason);
    }
    return { verdicts: out, single: split.single };
  }
}

const nodes: HttpNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

const available: Array<[Backend, Core]> = [];
for (const backend of BACKENDS) {
  try {
    available.push([backend, await loadCore({ backend })]);
  } catch {
    // a backend that is not built here is tested where it is built
  }
}

describe.each(available)(
  'HTTP verdicts equal the reference validator on the %s backend',
  (_backend, core) => {
    it('for generated texts, alone and in a batch with valid events around them', async () => {
      const node = await startHttpNode(core, { workers: 1, now: NOW });
      nodes.push(node);
      // one node for all runs; runs never share an (author, nonce), so each keeps its own reference
      const valid = (): Uint8Array =>
        build([
          {
            kind: 'event',
            author: 0,
            time: 'ok',
            multisig: false,
            badSig: false,
            payload: null,
            seed: 0,
            mutation: { kind: 'none' },
          },
        ])[0] as Uint8Array;
      let posted = 0;
      const seen = new Map<string, number>(); // verdicts met, to show the runs were not all alike
      const tally = (answer: Awaited<ReturnType<typeof postBody>>): void => {
        for (const v of 'verdicts' in answer ? answer.verdicts : [answer.refused])
          seen.set(v, (seen.get(v) ?? 0) + 1);
      };
      await fc.assert(
        fc.asyncProperty(fc.array(recipe, { minLength: 1, maxLength: 6 }), async (recipes) => {
          const texts = build(recipes);
          const ref = new Reference();
          for (const text of texts) {
            const answer = await postBody(node.url, text);
            tally(answer);
            expect({ text: Buffer.from(text).toString('latin1'), answer }).toEqual({
              text: Buffer.from(text).toString('latin1'),
              answer: ref.verdicts(text),
            });
          }
          const batch = arrayBody([valid(), ...texts, valid()]);
          const answer = await postBody(node.url, batch);
          tally(answer);
          expect(answer).toEqual(ref.verdicts(batch));
          posted += texts.length + 1;
        }),
        { numRuns: 40 },
      );
      expect(posted).toBeGreaterThan(40);
      expect(seen.get('accepted')).toBeGreaterThan(0);
      expect(seen.get('ERR_MALFORMED')).toBeGreaterThan(0);
      console.log(
        `${_backend}: verdicts over HTTP ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => b[1] - a[1])))}`,
      );
    });
  },
);
