/**
 * `npm run bench [-- --quick] [-- --filter <substring>]`: Ed25519 and hashing through our
 * backends and the peers, same inputs, one run. See README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { loadCore, type Backend, type Core } from '@commons-sync/bindings';

import { checkEd25519, COLD_KEYS, coldBatchCases, ed25519Cases } from './ed25519.js';
import { checkHashing, hashingCases } from './hashing.js';
import { BATCH_SIZES, makeHashInputs, makeSignatureSet, MESSAGE_LENGTH } from './inputs.js';
import { describeMachine, machineInfo } from './machine.js';
import { formatTime, groupResults, markdown } from './report.js';
import { caseName, runCase, type Result, type RunOptions } from './runner.js';
import { evaluateTargets, targetLines } from './targets.js';

const USAGE = `usage: npm run bench -- [--quick] [--filter <substring>]
  --quick            short smoke run (~30 s); numbers are rough
  --filter <text>    only cases whose "group · implementation" contains <text> (case-insensitive)`;

interface Args {
  quick: boolean;
  filter: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, filter: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--filter' && argv[i + 1] !== undefined) args.filter = argv[++i] as string;
    else if (a?.startsWith('--filter=')) args.filter = a.slice('--filter='.length);
    else {
      console.error(a === '--help' || a === '-h' ? USAGE : `unknown argument ${a}\n${USAGE}`);
      process.exit(a === '--help' || a === '-h' ? 0 : 2);
    }
  }
  return args;
}

// Full: ~2 s per case keeps the 60 cases near 3 minutes on 2 cores, rme mostly under 2%.
const FULL: RunOptions = { maxTime: 2, minSamples: 5 };
const QUICK: RunOptions = { maxTime: 0.2, minSamples: 2 };

async function loadCores(): Promise<Core[]> {
  const backends: Backend[] = ['native', 'wasm', 'js'];
  try {
    return await Promise.all(backends.map((backend) => loadCore({ backend })));
  } catch (error) {
    throw new Error(
      `a backend did not load (build the bindings with \`npm run build\` at the repository ` +
        `root): ${String(error)}`,
    );
  }
}

function fail(title: string, problems: readonly string[]): never {
  console.error(`\n${title}: nothing was timed.`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const options = args.quick ? QUICK : FULL;
  const machine = machineInfo();
  console.log(`commons-sync crypto bench${args.quick ? ' (--quick)' : ''}`);
  console.log(describeMachine(machine));

  const cores = await loadCores();
  const set = makeSignatureSet(cores[0] as Core, Math.max(...BATCH_SIZES));
  const cold = makeSignatureSet(cores[0] as Core, COLD_KEYS, 'cold');
  const hashInputs = makeHashInputs();

  const problems = [...checkEd25519(cores, set), ...checkHashing(cores, hashInputs)];
  if (problems.length > 0) fail('Implementations disagree on the benchmark inputs', problems);
  console.log('sanity: every implementation accepts the inputs and rejects corrupted ones');

  const needle = args.filter?.toLowerCase() ?? null;
  const cases = [
    ...ed25519Cases(cores, set),
    ...coldBatchCases(cores, cold),
    ...hashingCases(cores, hashInputs),
  ].filter(
    (c) => needle === null || caseName(c).toLowerCase().includes(needle),
  );
  if (cases.length === 0) fail(`No case matches --filter ${args.filter}`, []);

  const started = Date.now();
  const results: Result[] = [];
  for (const [i, c] of cases.entries()) {
    const r = runCase(c, options);
    results.push(r);
    const what =
      r.error !== undefined
        ? `ERROR ${r.error}`
        : `${formatTime(r.perItemNs)}/item ±${r.rmePct.toFixed(1)}% (${r.samples} samples)`;
    console.log(`[${i + 1}/${cases.length}] ${caseName(c).padEnd(52)} ${what}`);
  }
  const seconds = (Date.now() - started) / 1000;

  const groups = groupResults(results);
  const targets = evaluateTargets(results);
  const header = [
    `${describeMachine(machine)}.`,
    '',
    `benchmark.js maxTime ${options.maxTime} s, minSamples ${options.minSamples}` +
      `${args.quick ? ' (--quick: rough numbers)' : ''}; ` +
      `${cases.length} cases in ${seconds.toFixed(0)} s. ` +
      `Ed25519: ${MESSAGE_LENGTH}-byte messages, one random key per signature; ` +
      'batches packed before timing.',
  ];
  const md = markdown(groups, header, targetLines(targets));

  // A full run owns crypto.*; smoke and filtered runs must not overwrite it.
  const partial = args.quick || args.filter !== null;
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  const base = `${dir}crypto${partial ? '.partial' : ''}`;
  mkdirSync(dir, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    quick: args.quick,
    filter: args.filter,
    options,
    seconds,
    machine: { ...machine, loadAverage1mAtEnd: loadavg()[0] ?? 0 },
    inputs: { messageLength: MESSAGE_LENGTH, batchSizes: BATCH_SIZES },
    targets,
    groups,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${base}.md`, md);

  console.log(`\n${md}`);
  console.log(['Targets:', ...targetLines(targets)].join('\n'));
  console.log(`\nwrote ${base}.json and ${base}.md`);
}

await main();
