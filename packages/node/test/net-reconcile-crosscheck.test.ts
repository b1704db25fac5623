/**
 * Reconciliation as data: the vectors in spec/vectors/sync/reconcile.json hold for this
 * implementation, and an independent Python implementation written from spec/SYNC.md
 * (spec/vectors/sync/reconcile_ref.py) reproduces them and every transcript of random set pairs
 * byte for byte.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePayload } from '../src/net/reconcile/codec.js';
import { fingerprintOf } from '../src/net/reconcile/fingerprint.js';
import { reconcileLocally } from '../src/net/reconcile/local-run.js';
import { DEFAULT_RECONCILE_PARAMS, type ReconcileParams } from '../src/net/reconcile/reconciler.js';
import { SortedItems } from '../src/net/reconcile/storage.js';
import { writeVarint } from '../src/net/reconcile/varint.js';
import { fromHex, toHex } from '../src/protocol/bytes.js';
import { arbParams, arbSetPair, sha256 } from './net-fixtures.js';

const VECTORS = fileURLToPath(
  new URL('../../../spec/vectors/sync/reconcile.json', import.meta.url),
);
const PYTHON_REF = fileURLToPath(
  new URL('../../../spec/vectors/sync/reconcile_ref.py', import.meta.url),
);

interface Doc {
  params: ReconcileParams;
  varints: Array<{ value: number; hex: string }>;
  fingerprints: Array<{ ids: string[]; fingerprint: string }>;
  malformed: Array<{ description: string; payload: string }>;
  transcripts: Array<{
    name: string;
    initiator: Array<[number, string]>;
    responder: Array<[number, string]>;
    transcript: string[];
    have: string[];
    need: string[];
  }>;
}

const doc = JSON.parse(readFileSync(VECTORS, 'utf8')) as Doc;
const bytes = (hex: string): Uint8Array => fromHex(hex) ?? new Uint8Array(0);
const items = (rows: Array<[number, string]>) =>
  rows.map(([timestamp, id]) => ({ timestamp, id: bytes(id) }));
const scratch = mkdtempSync(join(tmpdir(), 'cs-recon-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the vectors', () => {
  it('use the reference parameters', () => {
    expect(doc.params).toEqual(DEFAULT_RECONCILE_PARAMS);
  });

  it('varints and fingerprints', () => {
    for (const v of doc.varints) {
      const out: number[] = [];
      writeVarint(out, v.value);
      expect(toHex(Uint8Array.from(out))).toBe(v.hex);
    }
    for (const v of doc.fingerprints)
      expect(toHex(fingerprintOf(sha256, v.ids.map(bytes)))).toBe(v.fingerprint);
  });

  it.each(doc.malformed.map((m) => [m.description, m.payload]))(
    'refuses a payload with %s',
    (_, payload) => {
      expect(() => decodePayload(bytes(payload))).toThrow(/./);
    },
  );

  it.each(doc.transcripts.map((t) => [t.name, t]))('transcript %s', (_, t) => {
    const run = reconcileLocally(
      new SortedItems(sha256, items(t.initiator)),
      new SortedItems(sha256, items(t.responder)),
    );
    expect(run.transcript.map(toHex)).toEqual(t.transcript);
    expect(run.have.map(toHex).sort()).toEqual(t.have);
    expect(run.need.map(toHex).sort()).toEqual(t.need);
  });
});

describe('the independent Python implementation', () => {
  it('reproduces every vector', () => {
    const out = execFileSync('python3', [PYTHON_REF, 'check', VECTORS], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ failures: 0 });
  });

  it('notices a vector that is wrong (so the check can fail)', () => {
    const broken = structuredClone(doc);
    const t = broken.transcripts[1];
    if (t === undefined) throw new Error('no transcript');
    t.transcript[1] = `${t.transcript[1]}00`;
    const path = join(scratch, 'broken.json');
    writeFileSync(path, JSON.stringify(broken));
    const r = spawnSync('python3', [PYTHON_REF, 'check', path], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ failures: 1 });
  });

  it('agrees byte for byte on the transcripts of random set pairs and parameters', () => {
    const cases = fc.sample(fc.tuple(arbSetPair, arbParams), { numRuns: 150, seed: 20260101 });
    const input = cases.map(([pair, params]) => ({
      params,
      initiator: pair.a.map((i) => [i.timestamp, toHex(i.id)]),
      responder: pair.b.map((i) => [i.timestamp, toHex(i.id)]),
    }));
    const path = join(scratch, 'cases.json');
    writeFileSync(path, JSON.stringify(input));
    const out = JSON.parse(
      execFileSync('python3', [PYTHON_REF, 'run'], {
        input: readFileSync(path),
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      }),
    ) as Array<{
      transcript: string[];
      have: string[];
      need: string[];
    }>;
    cases.forEach(([pair, params], i) => {
      const run = reconcileLocally(
        new SortedItems(sha256, pair.a),
        new SortedItems(sha256, pair.b),
        params,
      );
      const theirs = out[i];
      expect(theirs?.transcript, `case ${i}`).toEqual(run.transcript.map(toHex));
      expect(theirs?.have.slice().sort()).toEqual(run.have.map(toHex).sort());
      expect(theirs?.need.slice().sort()).toEqual(run.need.map(toHex).sort());
    });
  });
});
