#!/usr/bin/env node
/**
 * `commons-sync-bench`: Ed25519 and hashing through our backends and the peers, same inputs,
 * one run, ratios with intervals; `--baseline` turns it into a CI regression check. See README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';

import { type Args, parseArgs, USAGE } from './args.js';
import { compareWithBaseline, comparisons } from './compare.js';
import { BenchError, UsageError } from './errors.js';
import { INGEST_USAGE, parseIngestArgs } from './ingest/args.js';
import { runIngestBench } from './ingest/main.js';
import { describeMachine, machineInfo } from './machine.js';
import { Progress } from './progress.js';
import { groupResults } from './report.js';
import { FORMAT, type RunFile, readRunFile } from './results-file.js';
import { type Case, caseName, type Result, type RunOptions, runCase, summarize } from './runner.js';
import { STORE_ENGINES_USAGE } from './store-engines/args.js';
import { buildSuite, INPUTS, loadCores } from './suite.js';
import { type BaselineSection, markdownReport, regressions } from './summary.js';
import { evaluateTargets, targetLines } from './targets.js';

/** Samples per case and round: enough for a median that one outlier does not move. */
const SAMPLES_PER_ROUND = 5;

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/**
 * Runs every case `rounds` times, one case after the other within a round, so that a slow spell
 * of the machine lands on ours and the peer alike instead of on one side of a ratio.
 */
function runRounds(
  cases: readonly Case[],
  args: Args,
  options: RunOptions,
  progress: Progress,
): Result[] {
  const rounds = cases.map((): number[][] => []);
  const errors = cases.map((): string | undefined => undefined);
  const counts = cases.map((): number | null => null);
  const total = cases.length * args.rounds;
  let done = 0;
  for (let round = 1; round <= args.rounds; round++) {
    cases.forEach((c, i) => {
      progress.update(done, total, `round ${round}/${args.rounds}: ${caseName(c)}`);
      if (errors[i] === undefined) {
        const r = runCase(c, options, counts[i] ?? null);
        if ('error' in r) errors[i] = r.error;
        else {
          rounds[i]?.push(r.samples);
          counts[i] = r.count;
        }
      }
      done++;
    });
  }
  progress.clear();
  return cases.map((c, i) => summarize(c, rounds[i] as number[][], errors[i]));
}

async function main(args: Args): Promise<number> {
  // Read the baseline before a run of minutes, so that a wrong path fails at once.
  const saved: RunFile | null = args.baseline === null ? null : readRunFile(args.baseline);
  const machine = machineInfo();
  const progress = new Progress(process.stderr);
  progress.note(`commons-sync crypto bench (${args.mode}): ${describeMachine(machine)}`);

  const cores = await loadCores();
  const cases = buildSuite(cores, args.filters);
  if (cases.length === 0)
    throw new UsageError(`no case matches --filter ${args.filters.join(', ')}`);
  progress.note('sanity: every implementation accepts the inputs and rejects corrupted ones');

  const options: RunOptions = {
    samples: SAMPLES_PER_ROUND,
    sampleTime: args.timePerRound / SAMPLES_PER_ROUND,
  };
  const started = Date.now();
  const results = runRounds(cases, args, options, progress);
  const seconds = (Date.now() - started) / 1000;

  const list = comparisons(results);
  const targets = evaluateTargets(results);
  const baseline: BaselineSection | null =
    saved === null
      ? null
      : {
          file: args.baseline as string,
          threshold: args.threshold,
          savedDate: saved.date,
          savedMachine: saved.machine,
          outcomes: compareWithBaseline(results, saved.results, args.threshold),
        };
  const run = {
    mode: args.mode,
    rounds: args.rounds,
    timePerRound: args.timePerRound,
    cases: cases.length,
    seconds,
    filters: args.filters,
    machine,
  };
  const md = markdownReport(run, baseline, list, groupResults(results), targetLines(targets));

  if (args.json !== null) {
    const file: RunFile = {
      format: FORMAT,
      date: new Date().toISOString(),
      mode: args.mode,
      options: { ...options, rounds: args.rounds, filters: args.filters },
      seconds,
      machine: { ...machine, loadAverage1mAtEnd: loadavg()[0] ?? 0 },
      inputs: INPUTS,
      results,
      comparisons: list,
      targets,
      baseline,
    };
    writeFile(args.json, `${JSON.stringify(file, null, 1)}\n`);
    progress.note(`wrote ${args.json}`);
  }
  if (args.markdown !== null) {
    writeFile(args.markdown, md);
    progress.note(`wrote ${args.markdown}`);
  }
  process.stdout.write(`${md}\n`);
  const bad = regressions(baseline);
  if (bad.length > 0) {
    progress.note(`regression against ${args.baseline}: ${bad.map((o) => o.key).join('; ')}`);
    return 1;
  }
  return 0;
}

async function cli(argv: readonly string[]): Promise<number> {
  // The network benches (issue 10): subcommands with their own flags.
  if (argv[0] === 'reconcile')
    return (await import('./sync-reconcile.js')).reconcileBench(argv.slice(1));
  if (argv[0] === 'network') return (await import('./network.js')).networkBench(argv.slice(1));
  try {
    if (argv[0] === 'store-engines') {
      const { parseStoreEnginesArgs } = await import('./store-engines/args.js');
      const { runStoreEnginesBench } = await import('./store-engines/main.js');
      return await runStoreEnginesBench(parseStoreEnginesArgs(argv.slice(1)));
    }
    if (argv[0] === 'ingest') {
      const ingest = parseIngestArgs(argv.slice(1));
      if (ingest.help) {
        process.stdout.write(`${INGEST_USAGE}\n`);
        return 0;
      }
      return await runIngestBench(ingest);
    }
    const args = parseArgs(argv);
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return await main(args);
  } catch (error) {
    if (!(error instanceof BenchError)) throw error;
    process.stderr.write(`commons-sync-bench: ${error.message} [${error.code}]\n`);
    if (error instanceof UsageError)
      process.stderr.write(
        `${argv[0] === 'ingest' ? INGEST_USAGE : argv[0] === 'store-engines' ? STORE_ENGINES_USAGE : USAGE}\n`,
      );
    return error.exitCode;
  }
}

process.exitCode = await cli(process.argv.slice(2));
