/**
 * The crypto suite: our three backends and the peers, on inputs derived from a fixed seed, with
 * the sanity checks that must pass before anything is timed.
 */
import { type Backend, type Core, loadCore } from '@commons-sync/bindings';

import { COLD_GROUP, COLD_KEYS, checkEd25519, coldBatchCases, ed25519Cases } from './ed25519.js';
import { SanityError } from './errors.js';
import { checkHashing, hashingCases } from './hashing.js';
import { BATCH_SIZES, MESSAGE_LENGTH, makeHashInputs, makeSignatureSet } from './inputs.js';
import { type Case, caseName } from './runner.js';

export async function loadCores(): Promise<Core[]> {
  const backends: Backend[] = ['native', 'wasm', 'js'];
  try {
    return await Promise.all(backends.map((backend) => loadCore({ backend })));
  } catch (error) {
    throw new SanityError(
      `a backend did not load, so its ratios cannot be measured (in a checkout, build it with ` +
        `\`npm run build\`): ${String(error)}`,
    );
  }
}

export function matches(filters: readonly string[], name: string): boolean {
  return filters.length === 0 || filters.some((f) => name.toLowerCase().includes(f));
}

export const INPUTS = {
  messageLength: MESSAGE_LENGTH,
  batchSizes: BATCH_SIZES,
  coldKeys: COLD_KEYS,
};

/**
 * Every case that passes the filters, after the sanity checks passed. Inputs only a filtered-out
 * case needs (the 8,192 cold keys) are not made.
 */
export function buildSuite(cores: readonly Core[], filters: readonly string[]): Case[] {
  const signer = cores.find((c) => c.backend === 'wasm') as Core;
  const set = makeSignatureSet(signer, Math.max(...BATCH_SIZES));
  const hashInputs = makeHashInputs();
  const problems = [...checkEd25519(cores, set), ...checkHashing(cores, hashInputs)];
  if (problems.length > 0) {
    throw new SanityError(
      `implementations disagree on the benchmark inputs, nothing was timed:\n  - ${problems.join('\n  - ')}`,
    );
  }
  const coldNames = [...cores.map((c) => c.backend), 'node:crypto'].map(
    (impl) => `${COLD_GROUP} · ${impl}`,
  );
  const cold = coldNames.some((n) => matches(filters, n))
    ? coldBatchCases(cores, makeSignatureSet(signer, COLD_KEYS, 'cold'))
    : [];
  return [...ed25519Cases(cores, set), ...cold, ...hashingCases(cores, hashInputs)].filter((c) =>
    matches(filters, caseName(c)),
  );
}
