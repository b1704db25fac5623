/**
 * The flags of commands that talk to a node's HTTP API (`status`, `peers`, `submit`): how long
 * to wait and which TLS material to use, parsed in one place.
 */
import type { ClientOptions } from '../net/client/http-client.js';
import { parseDurationFlag, readFileFlag, UsageError } from './common.js';

/** The parseArgs options of the client flags. */
export const CLIENT_FLAG_OPTIONS = {
  timeout: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  'cert-key': { type: 'string' },
} as const;

export interface ClientFlagValues {
  timeout?: string | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  'cert-key'?: string | undefined;
}

/** The HTTP client's options from the flags; `--cert` and `--cert-key` go together. */
export async function clientOptionsFromFlags(
  cmd: string,
  values: ClientFlagValues,
  defaultTimeout: string,
): Promise<ClientOptions> {
  if ((values.cert === undefined) !== (values['cert-key'] === undefined))
    throw new UsageError(cmd, '--cert and --cert-key go together');
  return {
    timeoutMs: parseDurationFlag(cmd, '--timeout', values.timeout ?? defaultTimeout) * 1000,
    ...(values.ca === undefined ? {} : { ca: await readFileFlag('--ca', values.ca) }),
    ...(values.cert === undefined ? {} : { cert: await readFileFlag('--cert', values.cert) }),
    ...(values['cert-key'] === undefined
      ? {}
      : { key: await readFileFlag('--cert-key', values['cert-key']) }),
  };
}
