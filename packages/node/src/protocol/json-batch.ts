/**
 * Batch bodies (spec/PROTOCOL.md §3.5): one event's JSON text, or a JSON array of them, split
 * into the byte spans of its elements without building any value. Each span then goes,
 * unchanged, to the event reader (json-reader.ts), which judges it alone: a broken element gets
 * its own verdict and leaves its neighbours alone.
 *
 * The splitter is structural: it skips strings (honouring backslash escapes), counts brackets
 * of either kind, and cuts at commas one level inside the array. Its memory is the offsets
 * array; its work one pass over the bytes, most of it `indexOf` inside strings.
 */

/** Events as JSON texts: what the node ingests. */
export interface EventTextBatch {
  /** The bytes that hold the texts (for HTTP, the request body). */
  readonly bytes: Uint8Array;
  /** The JSON text of event i is `bytes[spans[2i], spans[2i + 1])`. */
  readonly spans: Uint32Array;
  /**
   * Set when the array is not closed properly (§3.5): every element is then ERR_MALFORMED,
   * whatever its bytes, with this as the detail.
   */
  readonly framingError?: string;
}

export type SplitBody =
  /** `single`: the body is one event's JSON text (an object), not an array. */
  | { readonly ok: true; readonly single: boolean; readonly batch: EventTextBatch }
  | {
      readonly ok: false;
      readonly why: 'not-a-batch' | 'too-many-events';
      readonly detail: string;
    };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** A growable array of span offsets. */
class Spans {
  private data = new Uint32Array(64);
  length = 0;

  push(start: number, end: number): void {
    if (this.length + 2 > this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = start;
    this.data[this.length++] = end;
  }

  get count(): number {
    return this.length / 2;
  }

  done(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * The end of the string whose opening quote is at `open`: the index of its closing quote, or -1
 * when the bytes end first. A quote is escaped when an odd run of backslashes precedes it.
 */
function closingQuote(bytes: Uint8Array, open: number): number {
  let q = bytes.indexOf(QUOTE, open + 1);
  while (q !== -1) {
    let backslashes = 0;
    for (let k = q - 1; bytes[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    q = bytes.indexOf(QUOTE, q + 1);
  }
  return -1;
}

function hasContent(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isWhitespace(bytes[i] as number)) return true;
  return false;
}

/**
 * Splits a request body into event texts (§3.5). At most `maxEvents` elements are looked for:
 * a longer array is `too-many-events` as soon as the next comma is seen.
 */
export function splitEventBody(body: Uint8Array, maxEvents: number): SplitBody {
  if (body.length >= 2 ** 32)
    return { ok: false, why: 'not-a-batch', detail: 'the body is too long to split' };
  let i = 0;
  while (i < body.length && isWhitespace(body[i] as number)) i++;
  const first = body[i];
  if (first === 0x7b) {
    return {
      ok: true,
      single: true,
      batch: { bytes: body, spans: Uint32Array.of(0, body.length) },
    };
  }
  if (first !== 0x5b) {
    const what =
      first === undefined
        ? 'the body is empty'
        : first === 0xef && body[i + 1] === 0xbb && body[i + 2] === 0xbf
          ? 'the body starts with a byte-order mark'
          : 'the body is neither a JSON array nor a JSON object';
    return { ok: false, why: 'not-a-batch', detail: what };
  }

  const spans = new Spans();
  let depth = 1;
  let start = i + 1;
  let close = -1; // the index of the closing bracket
  let framingError: string | undefined;
  for (i = start; i < body.length; i++) {
    const c = body[i] as number;
    if (c === QUOTE) {
      const q = closingQuote(body, i);
      if (q < 0) break;
      i = q;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
    } else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) {
        close = i;
        if (c !== 0x5d) framingError = 'the array is closed by } instead of ]';
        break;
      }
    } else if (c === 0x2c && depth === 1) {
      if (spans.count === maxEvents) {
        return {
          ok: false,
          why: 'too-many-events',
          detail: `more than ${maxEvents} events in one request`,
        };
      }
      spans.push(start, i);
      start = i + 1;
    }
  }
  if (close < 0) {
    framingError = 'the body ends before the array is closed';
    spans.push(start, body.length);
  } else {
    // `[` whitespace `]` is the empty array; anything else holds (at least) one element
    if (spans.count > 0 || framingError !== undefined || hasContent(body, start, close))
      spans.push(start, close);
    if (framingError === undefined && hasContent(body, close + 1, body.length)) {
      framingError = 'text follows the closing ] of the array';
    }
  }
  if (spans.count > maxEvents) {
    return {
      ok: false,
      why: 'too-many-events',
      detail: `more than ${maxEvents} events in one request`,
    };
  }
  const batch: EventTextBatch = {
    bytes: body,
    spans: spans.done(),
    ...(framingError === undefined ? {} : { framingError }),
  };
  return { ok: true, single: false, batch };
}

/**
 * Where the container (object or array) that opens at `start` closes, structurally as the
 * splitter sees it (strings skipped, brackets of either kind counted): the index just past its
 * closing bracket, or -1 when the bytes end first or `start` opens no container. Tools use it
 * to find whole values in a file (JSON lines) without parsing them.
 */
export function containerEnd(bytes: Uint8Array, start: number, end = bytes.length): number {
  const open = bytes[start];
  if (open !== 0x5b && open !== 0x7b) return -1;
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c === QUOTE) {
      const q = closingQuote(bytes, i);
      if (q < 0 || q >= end) return -1;
      i = q;
    } else if (c === 0x5b || c === 0x7b) depth++;
    else if ((c === 0x5d || c === 0x7d) && --depth === 0) return i + 1;
  }
  return -1;
}

/** The number of events in a batch. */
export function batchSize(batch: EventTextBatch): number {
  return batch.spans.length >>> 1;
}

/** A batch of the given JSON texts, copied into one buffer. */
export function batchOfTexts(texts: readonly Uint8Array[]): EventTextBatch {
  let total = 0;
  for (const t of texts) total += t.length;
  const bytes = new Uint8Array(total);
  const spans = new Uint32Array(2 * texts.length);
  let at = 0;
  texts.forEach((t, k) => {
    bytes.set(t, at);
    spans[2 * k] = at;
    at += t.length;
    spans[2 * k + 1] = at;
  });
  return { bytes, spans };
}

const encoder = new TextEncoder();

/**
 * A batch from JavaScript values, each serialized with JSON.stringify: for in-process callers
 * that hold values rather than received bytes (a JS value cannot hold what JSON.parse would
 * lose, such as 1e400). A value with no JSON text (undefined, a function, a BigInt, a cycle)
 * becomes an empty text, which the reader rejects as ERR_MALFORMED.
 */
export function batchOfValues(values: readonly unknown[]): EventTextBatch {
  return batchOfTexts(
    values.map((v) => {
      let text: string | undefined;
      try {
        text = JSON.stringify(v);
      } catch {
        text = undefined;
      }
      return encoder.encode(text ?? '');
    }),
  );
}
