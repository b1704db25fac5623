/**
 * The `Host` allow-list, against DNS rebinding: a web page on evil.example can make its own
 * name resolve to 127.0.0.1 and have the browser send requests to the node's loopback port,
 * but those requests carry `Host: evil.example:PORT`. The node answers only requests whose
 * Host names it by an allowed name:
 *
 * - `localhost`;
 * - any IP address literal (`127.0.0.1`, `[::1]`, the machine's own address): DNS rebinding
 *   needs a name, and a client that typed an address reached the node on purpose;
 * - the names given with `--allowed-host` (exact, case-insensitive; `*` allows any Host).
 *
 * The port is not compared (a proxy may change it). A request without Host (HTTP/1.0 only;
 * HTTP/1.1 requires it) comes from no browser and is served.
 */
import { isIP } from 'node:net';

import { ApiCode, HttpError } from './errors.js';

export const DEFAULT_ALLOWED_HOSTS: readonly string[] = Object.freeze(['localhost']);

export class HostAllowList {
  readonly #names: Set<string>;
  readonly #any: boolean;

  constructor(extra: readonly string[] = []) {
    const names = [...DEFAULT_ALLOWED_HOSTS, ...extra].map((n) => normalizeName(n));
    this.#any = names.includes('*');
    this.#names = new Set(names);
  }

  /** Throws 421 `ERR_HOST_NOT_ALLOWED` unless `host` (a Host header value) is allowed. */
  check(host: string | undefined): void {
    if (host === undefined || this.#any) return;
    const name = hostName(host);
    if (name !== undefined && (isIP(name) !== 0 || this.#names.has(name))) return;
    const shown = host.length > 100 ? `${host.slice(0, 100)}…` : host;
    throw new HttpError(
      421,
      ApiCode.HOST_NOT_ALLOWED,
      `Host ${JSON.stringify(shown)} is not a name of this node; allow it with --allowed-host`,
    );
  }
}

/** The name in a Host header (lowercase, no port, no trailing dot, IPv6 without brackets). */
export function hostName(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(h);
  if (m === null) return undefined;
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? m[1] : undefined;
  return normalizeName(m[2] as string);
}

function normalizeName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') && n.length > 1 ? n.slice(0, -1) : n;
}
