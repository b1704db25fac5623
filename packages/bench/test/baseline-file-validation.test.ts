// A --baseline file that is not a run saved by --json is refused with a typed error naming the
// field, before any timing starts; any mutation of a good file is either valid or such an error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { BaselineFormatError, BaselineReadError } from '../src/errors.js';
import { FORMAT, parseRunFile, readRunFile } from '../src/results-file.js';
import { result } from './fixtures.js';

const good = () => ({
  format: FORMAT,
  date: '2026-01-01T00:00:00.000Z',
  machine: { cpuModel: 'x' },
  results: [result('g', 'node:crypto', 1e-4, { baseline: true }), result('g', 'native', 1e-5)],
});

describe('reading a baseline', () => {
  it('accepts a file written by --json', () => {
    expect(parseRunFile(JSON.stringify(good()), 'b.json').results).toHaveLength(2);
  });

  it.each([
    ['not JSON', '{"format":', BaselineReadError, /b\.json is not JSON/],
    [
      'another format',
      JSON.stringify({ ...good(), format: 'benchmark.js' }),
      BaselineFormatError,
      /format must be "commons-sync-bench\/1"/,
    ],
    [
      'no results',
      JSON.stringify({ ...good(), results: {} }),
      BaselineFormatError,
      /results must be an array/,
    ],
    [
      'an old file without rounds',
      JSON.stringify({
        ...good(),
        results: [{ ...good().results[0], rounds: undefined, samples: [1] }],
      }),
      BaselineFormatError,
      /results\[0\]\.rounds must be an array/,
    ],
    [
      'a negative time',
      JSON.stringify({ ...good(), results: [{ ...good().results[0], rounds: [[1e-4, -1]] }] }),
      BaselineFormatError,
      /results\[0\]\.rounds\[0\]\[1\] must be a positive number/,
    ],
    [
      'a zero itemsPerOp',
      JSON.stringify({ ...good(), results: [{ ...good().results[0], itemsPerOp: 0 }] }),
      BaselineFormatError,
      /itemsPerOp must be a positive integer/,
    ],
    ['an array', '[]', BaselineFormatError, /must hold a JSON object/],
  ])('refuses %s', (_what, text, type, message) => {
    expect(() => parseRunFile(text, 'b.json')).toThrow(type);
    expect(() => parseRunFile(text, 'b.json')).toThrow(message);
  });

  it('names a missing file with its own code', () => {
    const err = (() => {
      try {
        readRunFile(join(tmpdir(), 'no-such-baseline.json'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BaselineReadError);
    expect(err).toMatchObject({ code: 'ERR_BASELINE_READ', exitCode: 2 });
  });

  it('reads back what it was given on disk', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'b.json');
    writeFileSync(file, JSON.stringify(good()));
    expect(readRunFile(file).date).toBe(good().date);
  });

  it('any mutation of a good file is valid or a typed format error, never a crash', () => {
    const leaf = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant([]),
      fc.constant({}),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat(), leaf), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const doc = good() as unknown as Record<string, unknown>;
          for (const [a, b, value] of edits) {
            const keys = [
              'group',
              'impl',
              'baseline',
              'itemsPerOp',
              'rounds',
              'format',
              'machine',
              'results',
            ];
            const key = keys[b % keys.length] as string;
            const results = doc['results'];
            const r = Array.isArray(results) ? (results[a % results.length] as unknown) : null;
            if (b % keys.length >= 5) doc[key] = value;
            else if (typeof r === 'object' && r !== null)
              (r as Record<string, unknown>)[key] = value;
          }
          try {
            parseRunFile(JSON.stringify(doc), 'b.json');
          } catch (e) {
            expect(e).toBeInstanceOf(BaselineFormatError);
            expect((e as BaselineFormatError).code).toBe('ERR_BASELINE_FORMAT');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
