/**
 * Author keys and events: `keygen`, `event create`, `event cosign`.
 *
 * Keys are reached through the keystore contract (`--keystore SPEC`, or `--key FILE` for a
 * vault file), whose signers never hand out a seed, so an event is signed here from the
 * protocol's parts (`eventId` of the body, `signingInput`, then `checkEvent`): the same steps
 * as the protocol's `signEvent`, which takes raw seeds.
 */
import { randomBytes } from 'node:crypto';
import { type Core, loadCore } from '@commons-sync/bindings';
import { ConfigError } from '../errors.js';
import { KeyExistsError, KeyFileExistsError } from '../keys/errors.js';
import type { KeyHandle, Keystore, Signer } from '../keys/keystore.js';
import { labelOf, openKeystore, openSigner } from '../keys/open.js';
import type { KeystoreSpec } from '../keys/spec.js';
import { VaultKeystore } from '../keys/vault.js';
import {
  type CommonsEvent,
  checkEvent,
  DEFAULT_TIME_RULES,
  type EventBody,
  type EventSignature,
  eventId,
  eventToJson,
  fromHex,
  LIMITS,
  type MultiSigPolicy,
  makePolicy,
  type Payload,
  PROTOCOL_VERSION,
  parseDidKey,
  type Result,
  readEventJson,
  readJsonPayload,
  signingInput,
} from '../protocol/index.js';
import {
  BIN,
  type CliIo,
  type Command,
  cliSecrets,
  cosignInput,
  EXIT_OK,
  KEYSTORE_HELP,
  keystoreOrKey,
  parseCommandLine,
  parseDurationFlag,
  parseIntFlag,
  parseKeystoreFlag,
  readFileFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';
import { identityAuthor } from './identity-cmds.js';

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'create an author key (in a key file or a keystore)',
  usage: `Usage: ${BIN} keygen --out FILE [--force]
       ${BIN} keygen --keystore SPEC

Creates an Ed25519 key and prints its DID: in an encrypted key file written with mode 0600
(--out), or inside the keystore SPEC names (a token generates it and never lets it out).

Options:
  --out FILE        where to write the key file (an existing file is kept unless --force)
  --force           replace an existing file (with --out)
  --keystore SPEC   make the key in this keystore, under the label SPEC names
  -h, --help        show this help

${KEYSTORE_HELP}`,
  async run(argv, io) {
    const cmd = 'keygen';
    const { values } = parseCommandLine(cmd, {
      args: argv,
      options: {
        out: { type: 'string' },
        force: { type: 'boolean' },
        keystore: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if ((values.out === undefined) === (values.keystore === undefined)) {
      throw new UsageError(cmd, 'give exactly one of --out FILE and --keystore SPEC');
    }
    if (values.force === true && values.out === undefined)
      throw new UsageError(cmd, '--force goes with --out');
    const spec: KeystoreSpec =
      values.out !== undefined
        ? { kind: 'vault', path: required(cmd, '--out', values.out) }
        : parseKeystoreFlag(cmd, '--keystore', values.keystore ?? '');
    const core = await loadCore();
    const keystore = await openKeystore(spec, { core, secrets: cliSecrets(io) });
    try {
      const label = labelOf(spec);
      let key: KeyHandle;
      try {
        key =
          keystore instanceof VaultKeystore
            ? await keystore.generate(label, { overwrite: values.force === true })
            : await keystore.generate(label);
      } catch (error) {
        // keygen --out has always said ERR_KEYFILE_EXISTS for a file that is there.
        if (values.out !== undefined && error instanceof KeyExistsError) {
          throw new KeyFileExistsError(
            `${values.out} already exists; refusing to overwrite a key file (--force replaces it)`,
            { cause: error },
          );
        }
        throw error;
      }
      io.log.info('key created', { keystore: keystore.kind, label: key.label, did: key.did });
      writeLine(io.stdout, key.did);
      return EXIT_OK;
    } finally {
      await keystore.close();
    }
  },
};

const CREATE_USAGE = `Usage: ${BIN} event create (--keystore SPEC | --key FILE | --identity FILE) --kind KIND --payload JSON [options]

Prints a signed event as one line of JSON, ready to POST to /v1/events.

Options:
  --keystore SPEC       the author's key (required, or --key, or --identity)
  --key FILE            the author's key file: the same as --keystore vault:FILE
  --identity FILE       author the event as the identity of this identity file (a did:cs):
                        signed by the keys of its key state in force, named as key_state
  --kind KIND           1..64 printable ASCII characters (required)
  --payload JSON        the payload: any JSON without floats; @FILE reads it from a file (required)
  --expires-in DURATION lifetime, such as 90s, 10m, 1h, 7d (default 1h; at most ${DEFAULT_TIME_RULES.maxLifetimeSeconds / 86_400}d)
  --nonce HEX           ${LIMITS.minNonceBytes}..${LIMITS.maxNonceBytes} bytes as lowercase hex (default: ${LIMITS.minNonceBytes} random bytes)
  --cosign SPEC         another key (keystore SPEC or key FILE) that signs now and joins
                        the signer set (repeatable)
  --signer DID          a key that joins the signer set without signing now (repeatable)
  --threshold M         signatures required, M-of-N over the author and all signers
                        (default: every key that signs now)
  -h, --help            show this help

${KEYSTORE_HELP}
With several key files and no environment variable, each file's passphrase is asked in turn.`;

const COSIGN_USAGE = `Usage: ${BIN} event cosign (--keystore SPEC | --key FILE) [EVENT_FILE]

Adds the key's signature to a signed event (read from EVENT_FILE, or stdin when absent or -)
and prints the event as one line of JSON. The key must be in the event's signer set.

Options:
  --keystore SPEC   the co-signer's key (required, or --key)
  --key FILE        the co-signer's key file: the same as --keystore vault:FILE
  -h, --help        show this help

${KEYSTORE_HELP}`;

export const eventCommand: Command = {
  name: 'event',
  summary: 'create and co-sign events',
  usage: `Usage: ${BIN} event <subcommand> [options]

Subcommands:
  create   print a new signed event
  cosign   add a signature to an event

Run '${BIN} event <subcommand> --help' for the options of each.`,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'create') return createEvent(rest, io);
    if (sub === 'cosign') return cosignEvent(rest, io);
    throw new UsageError(
      'event',
      sub === undefined
        ? 'a subcommand is required (create, cosign)'
        : `unknown subcommand ${JSON.stringify(sub)}`,
    );
  },
};

export const eventSubcommandUsage: Readonly<Record<string, string>> = {
  create: CREATE_USAGE,
  cosign: COSIGN_USAGE,
};

async function createEvent(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'event create';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      key: { type: 'string' },
      keystore: { type: 'string' },
      identity: { type: 'string' },
      kind: { type: 'string' },
      payload: { type: 'string' },
      'expires-in': { type: 'string' },
      nonce: { type: 'string' },
      cosign: { type: 'string', multiple: true },
      signer: { type: 'string', multiple: true },
      threshold: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.identity !== undefined) {
    for (const flag of ['keystore', 'key', 'cosign', 'signer', 'threshold'] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(cmd, `--identity and --${flag} exclude each other`);
    }
  }
  const authorSpec =
    values.identity === undefined ? keystoreOrKey(cmd, values.keystore, values.key) : undefined;
  const cosignSpecs = (values.cosign ?? []).map((c) => parseKeystoreFlag(cmd, '--cosign', c));
  const kind = required(cmd, '--kind', values.kind);
  const payload = await parsePayload(cmd, required(cmd, '--payload', values.payload));
  const lifetime = parseDurationFlag(cmd, '--expires-in', values['expires-in'] ?? '1h');
  if (lifetime > DEFAULT_TIME_RULES.maxLifetimeSeconds) {
    throw new UsageError(
      cmd,
      `--expires-in is longer than the protocol's maximum lifetime (${DEFAULT_TIME_RULES.maxLifetimeSeconds}s)`,
    );
  }
  const nonce =
    values.nonce === undefined ? randomBytes(LIMITS.minNonceBytes) : parseNonce(cmd, values.nonce);
  const extraSigners = (values.signer ?? []).map((did) => {
    const parsed = parseDidKey(did);
    if (!parsed.ok) throw new UsageError(cmd, `--signer ${did}: ${parsed.detail}`);
    return did;
  });
  const threshold =
    values.threshold === undefined
      ? undefined
      : parseIntFlag(cmd, '--threshold', values.threshold, 1, LIMITS.maxSigners);

  const core = await loadCore();
  if (values.identity !== undefined) {
    const author = await identityAuthor(io, core, values.identity);
    try {
      const now = Math.floor(Date.now() / 1000);
      const body: EventBody = {
        v: PROTOCOL_VERSION as 1,
        kind,
        author: author.did,
        keyState: author.keyState,
        createdAt: now,
        expiresAt: now + lifetime,
        nonce,
        payload,
      };
      writeLine(io.stdout, JSON.stringify(eventToJson(await sign(core, body, [], author.keys))));
      return EXIT_OK;
    } finally {
      await author.keystore.close();
    }
  }
  const keys = await openSigners(io, [authorSpec as KeystoreSpec, ...cosignSpecs], core);
  try {
    const signing = uniqueKeys(keys.map((k) => k.signer));
    const [author, ...cosigners] = signing as [Signer, ...Signer[]];
    const policy = policyFor(
      cmd,
      author.did,
      [...cosigners.map((k) => k.did), ...extraSigners],
      threshold,
      signing.length,
    );
    const now = Math.floor(Date.now() / 1000);
    const body: EventBody = {
      v: PROTOCOL_VERSION as 1,
      kind,
      author: author.did,
      createdAt: now,
      expiresAt: now + lifetime,
      nonce,
      payload,
      ...(policy === undefined ? {} : { policy }),
    };
    const event = await sign(core, body, [], signing);
    writeLine(io.stdout, JSON.stringify(eventToJson(event)));
    return EXIT_OK;
  } finally {
    await closeAll(keys.map((k) => k.keystore));
  }
}

async function cosignEvent(argv: string[], io: CliIo): Promise<number> {
  // the file's bytes go to the protocol's strict reader as they are (spec/PROTOCOL.md §3.4)
  const { spec, bytes } = await cosignInput('event cosign', argv, 'event file');
  const parsed = orThrow(readEventJson(bytes), 'the event');
  const { signatures, ...body } = parsed.event;
  const core = await loadCore();
  const [opened] = await openSigners(io, [spec], core);
  try {
    const k = (opened as { signer: Signer }).signer;
    const signers = parsed.event.policy?.signers ?? [parsed.event.author];
    if (!signers.includes(k.did)) {
      throw new ConfigError('ERR_NOT_A_SIGNER', `${k.did} is not in the event's signer set`);
    }
    if (signatures.some((s) => s.signer === k.did)) {
      throw new ConfigError('ERR_ALREADY_SIGNED', `${k.did} has already signed this event`);
    }
    writeLine(io.stdout, JSON.stringify(eventToJson(await sign(core, body, signatures, [k]))));
    return EXIT_OK;
  } finally {
    await closeAll(opened === undefined ? [] : [opened.keystore]);
  }
}

/** The policy for the signing keys and listed signers; undefined for the default 1-of-[author]. */
function policyFor(
  cmd: string,
  author: string,
  others: readonly string[],
  threshold: number | undefined,
  signingKeys: number,
): MultiSigPolicy | undefined {
  const policy = makePolicy(author, 1, others);
  const n = policy.signers.length;
  const m = threshold ?? Math.min(signingKeys, n);
  if (m > n)
    throw new UsageError(cmd, `--threshold ${m} is more than the ${n} keys in the signer set`);
  if (n === 1) return undefined; // 1-of-[author] is written by omitting the policy
  return { threshold: m, signers: policy.signers };
}

/** Signs the body's id with each key, after any signatures already present. */
async function sign(
  core: Core,
  body: EventBody,
  existing: readonly EventSignature[],
  keys: readonly Signer[],
): Promise<CommonsEvent> {
  let id: Uint8Array;
  try {
    id = eventId(core, body);
  } catch (error) {
    throw new ConfigError(
      'ERR_EVENT_INVALID',
      `the event cannot be encoded: ${(error as Error).message}`,
    );
  }
  const message = signingInput(id);
  const signatures = [...existing];
  for (const k of keys) signatures.push({ signer: k.did, sig: await k.sign(message) });
  return orThrow(checkEvent({ ...body, signatures }), 'the event').event;
}

function orThrow<T>(result: Result<T>, what: string): T {
  if (result.ok) return result.value;
  throw new ConfigError(result.reason, `${what} is not valid: ${result.detail} (${result.reason})`);
}

/** Opens the key of each spec, in order; on failure closes what was opened. */
async function openSigners(
  io: CliIo,
  specs: readonly KeystoreSpec[],
  core: Core,
): Promise<{ keystore: Keystore; signer: Signer }[]> {
  const opened: { keystore: Keystore; signer: Signer }[] = [];
  const secrets = cliSecrets(io);
  try {
    for (const spec of specs) opened.push(await openSigner(spec, { core, secrets }));
    return opened;
  } catch (error) {
    await closeAll(opened.map((o) => o.keystore));
    throw error;
  }
}

async function closeAll(keystores: readonly Keystore[]): Promise<void> {
  await Promise.allSettled(keystores.map((k) => k.close()));
}

/** One signature per key: the same key given twice signs once. */
function uniqueKeys(keys: readonly Signer[]): Signer[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    if (seen.has(k.did)) return false;
    seen.add(k.did);
    return true;
  });
}

async function parsePayload(cmd: string, text: string): Promise<Payload> {
  const source = text.startsWith('@')
    ? await readFileFlag('--payload', text.slice(1))
    : Buffer.from(text, 'utf8');
  // The protocol's reader, not JSON.parse: 1e400 or 1.0000000000000001 is refused, never rounded.
  const payload = readJsonPayload(source);
  if (payload.ok) return payload.value;
  const shown = JSON.stringify(source.subarray(0, 80).toString('utf8'));
  throw new UsageError(
    cmd,
    `--payload must be JSON within the payload data model (spec/PROTOCOL.md §2.3): ${payload.detail} (${payload.reason}), got ${shown}`,
  );
}

function parseNonce(cmd: string, text: string): Uint8Array {
  const bytes = fromHex(text);
  if (
    bytes === null ||
    bytes.length < LIMITS.minNonceBytes ||
    bytes.length > LIMITS.maxNonceBytes
  ) {
    throw new UsageError(
      cmd,
      `--nonce must be ${LIMITS.minNonceBytes}..${LIMITS.maxNonceBytes} bytes of lowercase hex`,
    );
  }
  return bytes;
}
