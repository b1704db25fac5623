/**
 * The HTTP server's own metrics, in Prometheus text format 0.0.4. Labels come from fixed sets
 * (route patterns, a few methods, status codes), so no client can grow the series without
 * bound. Names start with `commons_sync_http_`; the node's metrics use other names.
 */

/** Seconds; upper bounds of the request duration histogram. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

interface Histogram {
  counts: number[]; // per bucket, not cumulative
  sum: number;
  count: number;
}

export class HttpMetrics {
  readonly #requests = new Map<string, number>(); // key: route \0 method \0 status
  readonly #durations = new Map<string, Histogram>(); // key: route
  readonly #buckets: readonly number[];
  #inFlight = 0;
  #ingestInFlight = 0;
  #eventsReceived = 0;
  readonly #refused = new Map<string, number>(); // key: a fixed reason code
  readonly #cuts = new Map<string, number>(); // key: a fixed reason (connections.ts CutReason)

  constructor(buckets: readonly number[] = DURATION_BUCKETS) {
    this.#buckets = buckets;
  }

  requestStarted(): void {
    this.#inFlight++;
  }

  /** Called once per request, when its response is done (or the connection closed). */
  requestEnded(route: string, method: string, status: number, seconds: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
    const key = `${route}\0${m}\0${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let h = this.#durations.get(route);
    if (h === undefined) {
      h = { counts: new Array<number>(this.#buckets.length).fill(0), sum: 0, count: 0 };
      this.#durations.set(route, h);
    }
    const i = this.#buckets.findIndex((le) => seconds <= le);
    if (i >= 0) h.counts[i] = (h.counts[i] ?? 0) + 1;
    h.sum += seconds;
    h.count++;
  }

  /** A response sent without a request object (a timeout or a parse error on the socket). */
  clientError(status: number): void {
    const key = `unmatched\0OTHER\0${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  /** A request refused for load, slowness or its Host; `reason` comes from a fixed set of codes. */
  refused(reason: string): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
  }

  /** A connection cut for holding too much (pipelining, stalled answers). */
  connectionCut(reason: string): void {
    this.#cuts.set(reason, (this.#cuts.get(reason) ?? 0) + 1);
  }

  ingestStarted(): void {
    this.#ingestInFlight++;
  }

  ingestEnded(events: number): void {
    this.#ingestInFlight = Math.max(0, this.#ingestInFlight - 1);
    this.#eventsReceived += events;
  }

  get ingestInFlight(): number {
    return this.#ingestInFlight;
  }

  render(): string {
    const lines: string[] = [];
    lines.push(
      '# HELP commons_sync_http_requests_total HTTP requests answered, by route pattern, method and status.',
      '# TYPE commons_sync_http_requests_total counter',
    );
    for (const [key, n] of [...this.#requests].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const [route = '', method = '', status = ''] = key.split('\0');
      lines.push(`commons_sync_http_requests_total${labels({ route, method, status })} ${n}`);
    }
    lines.push(
      '# HELP commons_sync_http_request_duration_seconds Time from request start to response end.',
      '# TYPE commons_sync_http_request_duration_seconds histogram',
    );
    for (const [route, h] of [...this.#durations].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )) {
      let cumulative = 0;
      this.#buckets.forEach((le, i) => {
        cumulative += h.counts[i] ?? 0;
        lines.push(
          `commons_sync_http_request_duration_seconds_bucket${labels({ route, le: String(le) })} ${cumulative}`,
        );
      });
      lines.push(
        `commons_sync_http_request_duration_seconds_bucket${labels({ route, le: '+Inf' })} ${h.count}`,
        `commons_sync_http_request_duration_seconds_sum${labels({ route })} ${h.sum}`,
        `commons_sync_http_request_duration_seconds_count${labels({ route })} ${h.count}`,
      );
    }
    lines.push(
      '# HELP commons_sync_http_requests_in_flight Requests being handled now.',
      '# TYPE commons_sync_http_requests_in_flight gauge',
      `commons_sync_http_requests_in_flight ${this.#inFlight}`,
      '# HELP commons_sync_http_ingest_in_flight POST /v1/events requests admitted and not yet answered.',
      '# TYPE commons_sync_http_ingest_in_flight gauge',
      `commons_sync_http_ingest_in_flight ${this.#ingestInFlight}`,
      '# HELP commons_sync_http_events_received_total Events passed to the node by POST /v1/events.',
      '# TYPE commons_sync_http_events_received_total counter',
      `commons_sync_http_events_received_total ${this.#eventsReceived}`,
      '# HELP commons_sync_http_refused_total Requests and connections refused for load, slowness or Host, by reason.',
      '# TYPE commons_sync_http_refused_total counter',
      ...[...this.#refused]
        .sort()
        .map(([reason, n]) => `commons_sync_http_refused_total${labels({ reason })} ${n}`),
      '# HELP commons_sync_http_connections_cut_total Connections cut for holding too many unread answers, by reason.',
      '# TYPE commons_sync_http_connections_cut_total counter',
      ...[...this.#cuts]
        .sort()
        .map(([reason, n]) => `commons_sync_http_connections_cut_total${labels({ reason })} ${n}`),
    );
    return `${lines.join('\n')}\n`;
  }
}

/** `{a="x",b="y"}` with Prometheus escaping of backslash, quote and newline. */
export function labels(values: Readonly<Record<string, string>>): string {
  const parts = Object.entries(values).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${parts.join(',')}}`;
}
