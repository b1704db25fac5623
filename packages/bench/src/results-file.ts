/**
 * The `--json` file: everything a later `--baseline` needs (every case's raw samples) plus what
 * a reader needs to trust it (machine, options). Reading one back validates it field by field.
 */
import { readFileSync } from 'node:fs';

import type { Comparison } from './compare.js';
import { BaselineFormatError, BaselineReadError } from './errors.js';
import type { MachineInfo } from './machine.js';
import type { Result, RunOptions } from './runner.js';

export const FORMAT = 'commons-sync-bench/1';

export interface RunFile {
  format: typeof FORMAT;
  date: string;
  mode: 'quick' | 'full';
  options: RunOptions & { rounds: number; filters: string[] };
  seconds: number;
  machine: MachineInfo & { loadAverage1mAtEnd: number };
  inputs: Record<string, unknown>;
  results: Result[];
  comparisons: Comparison[];
  [more: string]: unknown;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function fail(where: string, what: string): never {
  throw new BaselineFormatError(`${where} ${what} (is it a file written by --json?)`);
}

function checkResult(x: unknown, where: string): Result {
  if (!isObject(x)) fail(where, 'must be an object');
  for (const key of ['group', 'impl'] as const) {
    if (typeof x[key] !== 'string') fail(`${where}.${key}`, 'must be a string');
  }
  if (typeof x['baseline'] !== 'boolean') fail(`${where}.baseline`, 'must be true or false');
  const items = x['itemsPerOp'];
  if (typeof items !== 'number' || !Number.isInteger(items) || items < 1) {
    fail(`${where}.itemsPerOp`, 'must be a positive integer');
  }
  const rounds = x['rounds'];
  if (!Array.isArray(rounds)) fail(`${where}.rounds`, 'must be an array');
  rounds.forEach((samples, r) => {
    if (!Array.isArray(samples)) fail(`${where}.rounds[${r}]`, 'must be an array');
    samples.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
        fail(`${where}.rounds[${r}][${i}]`, 'must be a positive number of seconds');
      }
    });
  });
  if (x['error'] === undefined && rounds.flat().length === 0)
    fail(`${where}.rounds`, 'holds no sample');
  return x as unknown as Result;
}

/** Parses and validates a saved run; throws {@link BaselineReadError} or {@link BaselineFormatError}. */
export function parseRunFile(text: string, name: string): RunFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new BaselineReadError(`${name} is not JSON: ${String(cause)}`, { cause });
  }
  if (!isObject(doc)) fail(name, 'must hold a JSON object');
  if (doc['format'] !== FORMAT) fail(`${name}: format`, `must be "${FORMAT}"`);
  const results = doc['results'];
  if (!Array.isArray(results)) fail(`${name}: results`, 'must be an array');
  for (const [i, r] of results.entries()) checkResult(r, `${name}: results[${i}]`);
  if (!isObject(doc['machine'])) fail(`${name}: machine`, 'must be an object');
  return doc as RunFile;
}

export function readRunFile(path: string): RunFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BaselineReadError(`cannot read baseline ${path}: ${String(cause)}`, { cause });
  }
  return parseRunFile(text, path);
}
