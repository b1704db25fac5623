// The bench's flags: modes, values, and typed usage errors for anything else.
import { describe, expect, it } from 'vitest';

import { DEFAULT_THRESHOLD, parseArgs } from '../src/args.js';
import { UsageError } from '../src/errors.js';

describe('parseArgs', () => {
  it('has a quick and a full mode, and flags that override them', () => {
    expect(parseArgs([])).toMatchObject({
      mode: 'full',
      rounds: 8,
      timePerRound: 0.5,
      threshold: DEFAULT_THRESHOLD,
    });
    expect(parseArgs(['--quick'])).toMatchObject({ mode: 'quick', rounds: 5, timePerRound: 0.15 });
    expect(parseArgs(['--quick', '--rounds', '2', '--time=0.02'])).toMatchObject({
      rounds: 2,
      timePerRound: 0.02,
    });
  });

  it('takes files, repeated filters (lower-cased) and a threshold', () => {
    const args = parseArgs([
      '--json',
      'a.json',
      '--markdown=s.md',
      '--baseline',
      'b.json',
      '--filter',
      'Batch-64',
      '--filter=sha256',
      '--threshold',
      '0.3',
    ]);
    expect(args).toMatchObject({
      json: 'a.json',
      markdown: 's.md',
      baseline: 'b.json',
      filters: ['batch-64', 'sha256'],
      threshold: 0.3,
    });
  });

  it.each([
    [['--rounds', '0'], /--rounds needs a positive integer/],
    [['--rounds', '2.5'], /--rounds needs a positive integer/],
    [['--time', 'fast'], /--time needs a positive number/],
    [['--threshold', '1.5'], /--threshold is a fraction below 1/],
    [['--json'], /--json needs a value/],
    [['--quick=yes'], /--quick takes no value/],
    [['--fast'], /unknown argument --fast/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
