/**
 * A JSON-lines logger: one object per line, `{ time, level, msg, ...fields }`, on stderr by
 * default so that stdout stays free for a command's output. Writing a line never throws: a
 * field that cannot be serialised is replaced, and a sink that fails is ignored.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Level names a line can carry (`silent` only filters). */
export type LineLevel = Exclude<LogLevel, 'silent'>;

export const LOG_LEVEL_ENV = 'COMMONS_SYNC_LOG_LEVEL';

const RANK: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 100,
};

export type LogFields = Readonly<Record<string, unknown>>;

/** Where lines go: anything with a string `write` (a stream, or an array-backed fake in tests). */
export interface LogSink {
  write(line: string): unknown;
}

export interface Logger {
  readonly level: LogLevel;
  isEnabled(level: LineLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (the child's own fields win). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Default process.stderr. */
  sink?: LogSink;
  /** Added to every line. */
  fields?: LogFields;
  /** Milliseconds since the epoch; default Date.now (tests pass a fixed clock). */
  clock?: () => number;
}

/** A level name, or `undefined` for anything else (case-insensitive). */
export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  if (text === undefined) return undefined;
  const lower = text.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
}

/** The level named by `COMMONS_SYNC_LOG_LEVEL`, else `fallback`. */
export function levelFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fallback: LogLevel = 'info',
): LogLevel {
  return parseLogLevel(env[LOG_LEVEL_ENV]) ?? fallback;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new JsonLogger(
    opts.level ?? 'info',
    opts.sink ?? process.stderr,
    opts.fields ?? {},
    opts.clock ?? Date.now,
  );
}

const RESERVED = new Set(['time', 'level', 'msg']);

class JsonLogger implements Logger {
  constructor(
    readonly level: LogLevel,
    private readonly sink: LogSink,
    private readonly fields: LogFields,
    private readonly clock: () => number,
  ) {}

  isEnabled(level: LineLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.level, this.sink, { ...this.fields, ...fields }, this.clock);
  }

  private write(level: LineLevel, msg: string, fields: LogFields | undefined): void {
    if (!this.isEnabled(level)) return;
    const line = formatLine(new Date(this.clock()).toISOString(), level, msg, {
      ...this.fields,
      ...fields,
    });
    try {
      this.sink.write(line);
    } catch {
      // A closed stderr (EPIPE) must not take the process down with it.
    }
  }
}

/** One JSON line; a field named time, level or msg is kept under `_time`, `_level`, `_msg`. */
export function formatLine(time: string, level: LineLevel, msg: string, fields: LogFields): string {
  const record: Record<string, unknown> = { time, level, msg };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    record[RESERVED.has(key) ? `_${key}` : key] = value;
  }
  try {
    return `${JSON.stringify(record, replacer())}\n`;
  } catch (error) {
    return `${JSON.stringify({ time, level, msg: String(msg), logError: String(error) })}\n`;
  }
}

/** Errors as `{ name, code, message }` (with the stack only for errors without a code). */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  if (typeof code === 'string') out['code'] = code;
  else if (error.stack !== undefined) out['stack'] = error.stack;
  return out;
}

/** Writes nothing. */
export const silentLogger: Logger = createLogger({ level: 'silent', sink: { write: () => true } });

function replacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    if (value instanceof Error) return serializeError(value);
    if (value instanceof Uint8Array) return `<${value.length} bytes>`;
    if (typeof value !== 'object' || value === null) return value;
    // `this` is the object holding `value`: unwind the ancestors to it, then check for a cycle.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value;
  };
}
