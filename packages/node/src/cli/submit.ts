/**
 * `submit`: posts events from files to a node in batches, retries what the node asks to be
 * retried (429, 503, connection failures; bounded), shows progress, and sums up the verdicts.
 * Resubmitting is safe: an event the node already holds comes back as a duplicate.
 */
import { ConfigError } from '../errors.js';
import {
  apiError,
  type ClientOptions,
  requestJson,
  retryAfterMs,
  TransportError,
} from '../net/client/http-client.js';
import { containerEnd, splitEventBody } from '../protocol/json-batch.js';
import type { IngestResult } from '../service.js';
import { CLIENT_FLAG_OPTIONS, clientOptionsFromFlags } from './client-flags.js';
import {
  apiUrl,
  BIN,
  type CliIo,
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  parseCommandLine,
  parseIntFlag,
  parseUrlFlag,
  readFileFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';

const MAX_REJECTIONS_KEPT = 100;
const MAX_BACKOFF_MS = 30_000;

export const submitCommand: Command = {
  name: 'submit',
  summary: 'post events from files to a node',
  usage: `Usage: ${BIN} submit --url URL [options] FILE...

Reads events from each FILE (- for stdin): a file may hold one event, a JSON array of events,
or JSON lines (one event, or one array, per line). Posts them to URL/v1/events in batches,
each event's JSON text byte for byte as the file holds it (the node validates exactly those
bytes), and prints a summary. Exits 1 if any event was rejected or a request failed.

Options:
  --url URL         the node's base URL (required)
  --batch N         events per request (default 1000, at most 10000)
  --retries N       retries of a request answered 429/503 or not answered (default 5)
  --timeout DUR     deadline of one request (default 60s)
  --ca FILE         PEM CA certificate(s) to trust for https
  --cert FILE       PEM client certificate for mutual TLS (with --cert-key)
  --cert-key FILE   PEM key of the client certificate
  --json            print the summary as JSON
  --quiet           no progress on stderr
  -h, --help        show this help`,
  run: submit,
};

export interface SubmitSummary {
  events: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  /** Events whose request failed (after retries) or that were never sent. */
  failed: number;
  /** Count of each rejection reason. */
  reasons: Record<string, number>;
  /** The first rejections, with the position of the event in the input. */
  rejections: Array<{ index: number; id?: string; reason: string; detail: string }>;
  /** Failed requests: the error code and how many events they held. */
  errors: Array<{ code: string; message: string; events: number }>;
  requests: number;
  retries: number;
}

async function submit(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'submit';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      batch: { type: 'string' },
      retries: { type: 'string' },
      ...CLIENT_FLAG_OPTIONS,
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const url = parseUrlFlag(cmd, '--url', required(cmd, '--url', values.url));
  if (positionals.length === 0) throw new UsageError(cmd, 'at least one FILE is required');
  const batch = parseIntFlag(cmd, '--batch', values.batch ?? '1000', 1, 10_000);
  const retries = parseIntFlag(cmd, '--retries', values.retries ?? '5', 0, 20);
  const client = await clientOptionsFromFlags(cmd, values, '60s');

  const events: Uint8Array[] = [];
  for (const file of positionals) {
    for (const e of await readEvents(file)) events.push(e);
  }
  if (events.length === 0) throw new ConfigError('ERR_NO_EVENTS', 'the files hold no events');

  const progress = values.quiet === true ? undefined : new Progress(io, events.length);
  const summary = await post(url, events, batch, retries, client, io, progress);
  progress?.done();
  io.log.info('submit finished', {
    events: summary.events,
    accepted: summary.accepted,
    duplicate: summary.duplicate,
    rejected: summary.rejected,
    failed: summary.failed,
    reasons: summary.reasons,
  });
  if (values.json === true) writeLine(io.stdout, JSON.stringify(summary));
  else printSummary(io, summary);
  return summary.rejected > 0 || summary.failed > 0 ? EXIT_FAILURE : EXIT_OK;
}

async function post(
  base: URL,
  events: readonly Uint8Array[],
  batchSize: number,
  retries: number,
  client: ClientOptions,
  io: CliIo,
  progress: Progress | undefined,
): Promise<SubmitSummary> {
  const s: SubmitSummary = {
    events: events.length,
    accepted: 0,
    duplicate: 0,
    rejected: 0,
    failed: 0,
    reasons: {},
    rejections: [],
    errors: [],
    requests: 0,
    retries: 0,
  };
  const target = apiUrl(base, '/v1/events');
  for (let start = 0; start < events.length; start += batchSize) {
    const batch = events.slice(start, start + batchSize);
    const body = batchBody(batch);
    let attempt = 0;
    for (;;) {
      s.requests++;
      let outcome: {
        retry: boolean;
        waitMs?: number | undefined;
        error?: { code: string; message: string };
      };
      try {
        const answer = await requestJson(target, 'POST', body, client);
        if (answer.status === 200) {
          const results = (answer.json as { results?: unknown } | undefined)?.results;
          if (!Array.isArray(results) || results.length !== batch.length) {
            outcome = {
              retry: false,
              error: {
                code: 'ERR_BAD_ANSWER',
                message: `the node answered ${Array.isArray(results) ? results.length : 'no'} results for ${batch.length} events`,
              },
            };
          } else {
            tally(s, results as IngestResult[], start);
            break;
          }
        } else {
          const retryable = answer.status === 429 || answer.status === 503;
          outcome = {
            retry: retryable,
            waitMs: retryAfterMs(answer.headers),
            error: apiError(answer),
          };
        }
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        outcome = { retry: error.retryable, error: { code: error.code, message: error.message } };
      }
      if (outcome.retry && attempt < retries) {
        attempt++;
        s.retries++;
        const wait = Math.min(MAX_BACKOFF_MS, Math.max(outcome.waitMs ?? 0, backoffMs(attempt)));
        io.log.warn('retrying a batch', { attempt, wait_ms: wait, code: outcome.error?.code });
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      const error = outcome.error ?? { code: 'ERR_UNKNOWN', message: 'the request failed' };
      s.failed += batch.length;
      s.errors.push({ ...error, events: batch.length });
      io.log.error('a batch failed', {
        code: error.code,
        error: error.message,
        events: batch.length,
      });
      if (outcome.retry) {
        // Out of retries on a node that is down or saturated: do not hammer it with the rest.
        const unsent = events.length - (start + batch.length);
        if (unsent > 0) {
          s.failed += unsent;
          s.errors.push({
            code: 'ERR_NOT_SENT',
            message: 'not sent after an earlier request failed',
            events: unsent,
          });
        }
        progress?.update(s, events.length);
        return s;
      }
      break;
    }
    progress?.update(s, Math.min(events.length, start + batch.length));
  }
  return s;
}

/** Exponential from 250 ms with jitter. */
function backoffMs(attempt: number): number {
  const base = 250 * 2 ** (attempt - 1);
  return Math.round(base / 2 + Math.random() * base);
}

function tally(s: SubmitSummary, results: readonly IngestResult[], offset: number): void {
  results.forEach((r, i) => {
    if (r.status === 'accepted') s.accepted++;
    else if (r.status === 'duplicate') s.duplicate++;
    else {
      s.rejected++;
      const reason = typeof r.reason === 'string' ? r.reason : 'ERR_UNKNOWN';
      s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
      if (s.rejections.length < MAX_REJECTIONS_KEPT) {
        s.rejections.push({
          index: offset + i,
          ...(r.id === undefined ? {} : { id: r.id }),
          reason,
          detail: String(r.detail),
        });
      }
    }
  });
}

/**
 * The events in one file as their JSON texts, byte for byte as the file holds them (the node
 * reads each with the protocol's strict reader; nothing is parsed and re-serialized here): a
 * JSON array of events, one event (an object), or JSON lines, each line an event or an array.
 */
export async function readEvents(file: string): Promise<Uint8Array[]> {
  const bytes = file === '-' ? await readStdinBytes() : await readFileFlag('file', file);
  const name = file === '-' ? 'stdin' : file;
  const whole = eventTextsIn(bytes, 0, bytes.length);
  if (whole !== undefined) return whole;
  const out: Uint8Array[] = [];
  let line = 0;
  for (let start = 0; start < bytes.length; ) {
    line++;
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const texts = eventTextsIn(bytes, start, end);
    if (texts === undefined) {
      const bom = bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf;
      throw new ConfigError(
        'ERR_EVENTS_FILE',
        `${name}:${line}: ${bom ? 'starts with a byte-order mark, which JSON texts of events may not hold' : 'not an event or an array of events'} (a file holds an event, an array of events, or JSON lines)`,
      );
    }
    for (const t of texts) out.push(t);
    start = end + 1;
  }
  return out;
}

const isWhitespace = (c: number | undefined): boolean =>
  c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The event texts in `bytes[start, end)` when it is exactly one array (split as a node splits a
 * request body, spec/PROTOCOL.md §3.5, and properly closed) or one object, with only
 * whitespace around it; `[]` for whitespace alone; undefined otherwise. Each text is a view of
 * `bytes`: the array's elements as they are, or the object.
 */
function eventTextsIn(bytes: Uint8Array, start: number, end: number): Uint8Array[] | undefined {
  let i = start;
  while (i < end && isWhitespace(bytes[i])) i++;
  if (i === end) return [];
  const close = containerEnd(bytes, i, end);
  if (close < 0) return undefined;
  for (let k = close; k < end; k++) if (!isWhitespace(bytes[k])) return undefined;
  if (bytes[i] === 0x7b) return [bytes.subarray(i, close)];
  const split = splitEventBody(bytes.subarray(i, close), Number.MAX_SAFE_INTEGER);
  if (!split.ok || split.batch.framingError !== undefined) return undefined;
  const { spans } = split.batch;
  const out: Uint8Array[] = [];
  for (let k = 0; k < spans.length; k += 2)
    out.push(bytes.subarray(i + (spans[k] as number), i + (spans[k + 1] as number)));
  return out;
}

/** `[` text `,` text ... `]`: a request body whose elements are the texts, byte for byte. */
function batchBody(texts: readonly Uint8Array[]): Uint8Array {
  let total = 2 + Math.max(0, texts.length - 1);
  for (const t of texts) total += t.length;
  const body = new Uint8Array(total);
  body[0] = 0x5b;
  let at = 1;
  texts.forEach((t, k) => {
    if (k > 0) body[at++] = 0x2c;
    body.set(t, at);
    at += t.length;
  });
  body[at] = 0x5d;
  return body;
}

async function readStdinBytes(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function printSummary(io: CliIo, s: SubmitSummary): void {
  const out = io.stdout;
  writeLine(out, `events:    ${s.events}`);
  writeLine(out, `accepted:  ${s.accepted}`);
  writeLine(out, `duplicate: ${s.duplicate}`);
  writeLine(out, `rejected:  ${s.rejected}`);
  for (const [reason, n] of Object.entries(s.reasons).sort((a, b) => b[1] - a[1])) {
    writeLine(out, `  ${reason}: ${n}`);
  }
  for (const r of s.rejections.slice(0, 10)) {
    writeLine(
      out,
      `  #${r.index}${r.id === undefined ? '' : ` ${r.id.slice(0, 16)}…`}: ${r.reason} ${r.detail}`,
    );
  }
  if (s.rejections.length > 10) writeLine(out, `  … (--json lists up to ${MAX_REJECTIONS_KEPT})`);
  if (s.failed > 0) {
    writeLine(out, `failed:    ${s.failed}`);
    for (const e of s.errors) writeLine(out, `  ${e.code}: ${e.message} (${e.events} events)`);
  }
  writeLine(out, `requests:  ${s.requests} (${s.retries} retries)`);
}

/** A bar redrawn in place on a terminal; one plain line per batch otherwise. */
class Progress {
  readonly #tty: boolean;
  #drawn = false;

  constructor(
    private readonly io: CliIo,
    private readonly total: number,
  ) {
    this.#tty = io.stderr.isTTY === true;
  }

  update(s: SubmitSummary, sent: number): void {
    const counts = `accepted ${s.accepted}  duplicate ${s.duplicate}  rejected ${s.rejected}${s.failed > 0 ? `  failed ${s.failed}` : ''}`;
    if (!this.#tty) {
      writeLine(this.io.stderr, `submitted ${sent}/${this.total} events (${counts})`);
      return;
    }
    const width = 30;
    const filled = Math.round((sent / this.total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    this.io.stderr.write(`\r[${bar}] ${sent}/${this.total}  ${counts}\u001b[K`);
    this.#drawn = true;
  }

  done(): void {
    if (this.#drawn) this.io.stderr.write('\n');
  }
}
