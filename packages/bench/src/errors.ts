/** Errors of the bench CLI: each has a stable `code` and maps to an exit status. */
export class BenchError extends Error {
  readonly code: string;
  /** The process exit status this error ends the run with. */
  readonly exitCode: number;

  constructor(code: string, exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** An unknown flag or a bad flag value. Exit 2. */
export class UsageError extends BenchError {
  constructor(message: string) {
    super('ERR_BENCH_USAGE', 2, message);
  }
}

/** The `--baseline` file cannot be read or is not JSON. Exit 2. */
export class BaselineReadError extends BenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BASELINE_READ', 2, message, options);
  }
}

/** The `--baseline` file is JSON but not a run saved with `--json`; the message names the field. Exit 2. */
export class BaselineFormatError extends BenchError {
  constructor(message: string) {
    super('ERR_BASELINE_FORMAT', 2, message);
  }
}

/** Implementations disagree on the benchmark inputs, or a backend is missing: nothing was timed. Exit 3. */
export class SanityError extends BenchError {
  constructor(message: string) {
    super('ERR_BENCH_SANITY', 3, message);
  }
}
