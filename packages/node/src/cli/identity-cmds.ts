/**
 * `commons-sync identity create | show | rotate | revoke | recover | veto | cosign | submit`:
 * the life of an identity (spec/IDENTITY.md) over the keystore contract, so its keys may sit in
 * a vault directory or an HSM (a key event is signed by handle: the id of its body, the signing
 * input, a signature per key, then checked as a node checks it). What it needs to act again is
 * the identity file (identity-file.ts): public facts, no key material.
 */
import { existsSync } from 'node:fs';

import { type Core, loadCore } from '@commons-sync/bindings';
import { ConfigError } from '../errors.js';
import {
  type DecodedKeyEvent,
  decodeKeyEvent,
  type EstablishmentBody,
  encodeKeyEvent,
  encodeKeyEventBody,
  identityStateToJson,
  KEL_LIMITS,
  type KeyEvent,
  type KeyEventBody,
  type KeyEventJson,
  keyEventSigningInput,
  keyEventToJson,
  nextCommitment,
  readKeyEventJson,
  type VerifiedKeyEvent,
} from '../identity/index.js';
import type { Keystore, Signer } from '../keys/keystore.js';
import { signerFor } from '../keys/keystore.js';
import { openKeystore, openSigner } from '../keys/open.js';
import { formatKeystoreSpec, type KeystoreSpec, withKey } from '../keys/spec.js';
import { apiError, requestJson } from '../net/client/http-client.js';
import { parseDidKey, toHex } from '../protocol/index.js';
import type { KeyEventResult } from '../service.js';
import {
  apiUrl,
  BIN,
  type CliIo,
  type Command,
  cliSecrets,
  EXIT_FAILURE,
  EXIT_OK,
  KEYSTORE_HELP,
  keystoreOrKey,
  parseCommandLine,
  parseDurationFlag,
  parseIntFlag,
  parseKeystoreFlag,
  parseUrlFlag,
  readFileFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';
import {
  checkedKeyEvent,
  head,
  type IdentityFile,
  keyLabel,
  keystoreOf,
  mergeKeyEvents,
  nextGeneration,
  readIdentityFile,
  resolveFile,
  withEntry,
  writeIdentityFile,
} from './identity-file.js';

const TIMEOUT_MS = 60_000;

const URL_HELP = `  --url URL         also submit it to the node at URL (POST /v1/key-events); exit 1 if refused`;

const USAGE: Readonly<Record<string, string>> = {
  create: `Usage: ${BIN} identity create --keystore SPEC --file FILE [options]

Creates an identity (a did:cs): makes its first keys and its next keys in the keystore (labels
LABEL.0.i and LABEL.1.i, LABEL being the spec's key=), signs the inception, writes the identity
file FILE (public facts only) and prints the inception as one line of JSON.

Options:
  --keystore SPEC           a vault directory (vault:DIR/;key=LABEL) or a PKCS#11 token
                            (pkcs11:module=LIB;token=TOKEN;key=LABEL) (required)
  --file FILE               the identity file to write (required; an existing one is kept)
  --keys N                  keys per key state (default 1, at most ${KEL_LIMITS.maxKeys})
  --threshold M             of them must sign (default: all)
  --guardian DID            a guardian's did:key (repeatable, at most ${KEL_LIMITS.maxGuardians})
  --guardian-threshold M    guardians a recovery needs (default: a majority)
  --recovery-delay DUR      how long a recovery waits, and the current keys may veto it
                            (default 7d with guardians; 1h..365d)
${URL_HELP}
  -h, --help                show this help

${KEYSTORE_HELP}`,
  show: `Usage: ${BIN} identity show (--file FILE | --url URL DID)

Prints an identity's resolved state as JSON (spec/IDENTITY.md §7.3): from the key events of the
identity file, or as the node at URL resolves it.`,
  rotate: `Usage: ${BIN} identity rotate --file FILE [--url URL]

Rotates to the keys the last key state committed to (pre-rotation), makes the next keys, signs
with the new keys, adds the rotation to FILE and prints it. With --url the node's key events of
the identity are read first, so a recovery made elsewhere is seen.

Options:
  --file FILE   the identity file (required)
${URL_HELP}
  -h, --help    show this help`,
  revoke: `Usage: ${BIN} identity revoke --file FILE [--since DUR | --revoked-from TIME] [--url URL]

The compromise response: revokes the current keys and rotates to the committed next keys in one
step. Events signed by the revoked keys and dated at or after revoked_from become invalid, also
those already accepted (nodes keep them as evidence).

Options:
  --file FILE           the identity file (required)
  --since DUR           revoked_from = now - DUR (default 7d, the most allowed)
  --revoked-from TIME   revoked_from as Unix seconds (within 7 days before now)
${URL_HELP}
  -h, --help            show this help`,
  recover: `Usage: ${BIN} identity recover --file FILE --guardian SPEC [--guardian SPEC]... [--url URL]

Replaces the current keys by new ones with the guardians' signatures: makes new keys and their
next keys in the identity's keystore, signs the recovery with each guardian key given, adds it to
FILE and prints it. More guardians add theirs with 'identity cosign'; a node takes it once it
carries the guardian threshold. The new keys take effect after the recovery delay, during which
the replaced keys may veto it.

Options:
  --file FILE        the identity file (required)
  --guardian SPEC    a guardian's key (keystore SPEC or key FILE) that signs now (repeatable)
${URL_HELP}
  -h, --help         show this help

${KEYSTORE_HELP}`,
  veto: `Usage: ${BIN} identity veto --file FILE [--target ID] [--url URL]

Vetoes a recovery of a key state this file controls: signed by the keys it would replace and
dated inside its window (now, or the window's last second when now is past it: a veto has no
real-time deadline, spec/IDENTITY.md §11). With --url the recovery is looked up on the node.

Options:
  --file FILE    the identity file (required)
  --target ID    the id of the recovery (64 hex digits); default: the one recovery not vetoed
                 yet of a key state this file made
${URL_HELP}
  -h, --help     show this help`,
  cosign: `Usage: ${BIN} identity cosign (--keystore SPEC | --key FILE) [KEY_EVENT_FILE]

Adds the key's signature to a key event (read from KEY_EVENT_FILE, or stdin when absent or -) and
prints it as one line of JSON: how guardians sign a recovery one after another.

${KEYSTORE_HELP}`,
  submit: `Usage: ${BIN} identity submit --url URL FILE...

Posts the key events in the files (each one key event, as its file holds it) to URL/v1/key-events
and prints each verdict as a line of JSON. Exits 1 if any was refused.`,
};

export const identitySubcommandUsage: Readonly<Record<string, string>> = USAGE;

export const identityCommand: Command = {
  name: 'identity',
  summary: 'identities that survive their keys (create, show, rotate, revoke, recover, veto)',
  usage: `Usage: ${BIN} identity <subcommand> [options]

Subcommands:
  create    make an identity (did:cs) and its identity file
  show      print an identity's resolved state
  rotate    rotate to the committed next keys
  revoke    revoke the current keys and rotate (the compromise response)
  recover   replace the keys with the guardians' signatures
  veto      void a recovery with the keys it would replace
  cosign    add a signature to a key event (guardians of a recovery)
  submit    post key events to a node

Run '${BIN} identity <subcommand> --help' for the options of each.`,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (run === undefined) {
      throw new UsageError(
        'identity',
        sub === undefined
          ? `a subcommand is required (${Object.keys(SUBCOMMANDS).join(', ')})`
          : `unknown subcommand ${JSON.stringify(sub)}`,
      );
    }
    return run(rest, io);
  },
};

const SUBCOMMANDS: Readonly<Record<string, (argv: string[], io: CliIo) => Promise<number>>> = {
  create,
  show,
  rotate: (argv, io) => rotateOrRevoke('rotate', argv, io),
  revoke: (argv, io) => rotateOrRevoke('revoke', argv, io),
  recover,
  veto,
  cosign,
  submit,
};

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------

async function create(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'identity create';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      keystore: { type: 'string' },
      file: { type: 'string' },
      keys: { type: 'string' },
      threshold: { type: 'string' },
      guardian: { type: 'string', multiple: true },
      'guardian-threshold': { type: 'string' },
      'recovery-delay': { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const spec = parseKeystoreFlag(cmd, '--keystore', required(cmd, '--keystore', values.keystore));
  const path = required(cmd, '--file', values.file);
  if (spec.key === undefined)
    throw new UsageError(cmd, '--keystore must name the label of the keys: add ;key=LABEL');
  if (spec.kind === 'vault' && !spec.path.endsWith('/'))
    throw new UsageError(
      cmd,
      '--keystore must be a vault directory (vault:DIR/;key=LABEL) or a token',
    );
  if (existsSync(path))
    throw new ConfigError(
      'ERR_IDENTITY_FILE_EXISTS',
      `${path} already exists; refusing to replace it`,
    );
  const n = parseIntFlag(cmd, '--keys', values.keys ?? '1', 1, KEL_LIMITS.maxKeys);
  const threshold = parseIntFlag(cmd, '--threshold', values.threshold ?? String(n), 1, n);
  const guardians = [...new Set(values.guardian ?? [])].sort();
  for (const g of guardians) {
    const parsed = parseDidKey(g);
    if (!parsed.ok) throw new UsageError(cmd, `--guardian ${g}: ${parsed.detail}`);
  }
  if (guardians.length > KEL_LIMITS.maxGuardians)
    throw new UsageError(cmd, `at most ${KEL_LIMITS.maxGuardians} guardians`);
  const guardianThreshold =
    guardians.length === 0
      ? 0
      : parseIntFlag(
          cmd,
          '--guardian-threshold',
          values['guardian-threshold'] ?? String(Math.floor(guardians.length / 2) + 1),
          1,
          guardians.length,
        );
  const recoveryDelay =
    guardians.length === 0
      ? 0
      : parseDurationFlag(cmd, '--recovery-delay', values['recovery-delay'] ?? '7d');
  if (
    guardians.length > 0 &&
    (recoveryDelay < KEL_LIMITS.minRecoveryDelay || recoveryDelay > KEL_LIMITS.maxRecoveryDelay)
  ) {
    throw new UsageError(cmd, '--recovery-delay must be between 1h and 365d');
  }
  if (guardians.length === 0 && values['guardian-threshold'] !== undefined)
    throw new UsageError(cmd, '--guardian-threshold goes with --guardian');
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);

  const core = await loadCore();
  const keystore = await openKeystore(withKey(spec, undefined), { core, secrets: cliSecrets(io) });
  try {
    const label = spec.key;
    const current = await generation(keystore, label, 0, n, true);
    const next = await generation(keystore, label, 1, n, true);
    const body: KeyEventBody = {
      v: 1,
      type: 'inception',
      seq: 0,
      createdAt: nowSeconds(),
      keys: dids(current),
      threshold,
      next: nextCommitment(core, dids(next), threshold),
      guardians,
      guardianThreshold,
      recoveryDelay,
    };
    const event = await signKeyEvent(core, body, [], current);
    const file: IdentityFile = {
      commons_sync_identity: 1,
      did: event.identity,
      keystore: formatKeystoreSpec(withKey(spec, undefined)),
      label,
      key_events: [],
    };
    await writeIdentityFile(path, withEntry(file, event, 0, 1));
    io.log.info('identity created', { did: event.identity, keystore: keystore.kind });
    return await emit(io, event, url);
  } finally {
    await keystore.close();
  }
}

async function show(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'identity show';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if ((values.file === undefined) === (values.url === undefined))
    throw new UsageError(cmd, 'give exactly one of --file FILE and --url URL DID');
  if (values.file !== undefined) {
    if (positionals.length > 0) throw new UsageError(cmd, 'no DID with --file');
    const core = await loadCore();
    const { state } = resolveFile(core, await readIdentityFile(values.file));
    writeLine(io.stdout, JSON.stringify(identityStateToJson(state), null, 2));
    return EXIT_OK;
  }
  const url = parseUrlFlag(cmd, '--url', values.url as string);
  const [did] = positionals;
  if (did === undefined || positionals.length > 1)
    throw new UsageError(cmd, 'give one DID with --url');
  const answer = await requestJson(
    apiUrl(url, `/v1/identities/${encodeURIComponent(did)}`),
    'GET',
    undefined,
    { timeoutMs: TIMEOUT_MS },
  );
  if (answer.status !== 200) {
    const e = apiError(answer);
    throw new ConfigError(e.code, `${url.origin}: ${e.message}`);
  }
  writeLine(io.stdout, JSON.stringify(answer.json, null, 2));
  return EXIT_OK;
}

async function rotateOrRevoke(
  which: 'rotate' | 'revoke',
  argv: string[],
  io: CliIo,
): Promise<number> {
  const cmd = `identity ${which}`;
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      file: { type: 'string' },
      url: { type: 'string' },
      ...(which === 'revoke'
        ? { since: { type: 'string' as const }, 'revoked-from': { type: 'string' as const } }
        : {}),
      help: { type: 'boolean', short: 'h' },
    },
  });
  const path = required(cmd, '--file', values.file);
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);
  const now = nowSeconds();
  let revokedFrom: number | undefined;
  if (which === 'revoke') {
    const v = values as { since?: string; 'revoked-from'?: string };
    if (v.since !== undefined && v['revoked-from'] !== undefined)
      throw new UsageError(cmd, '--since and --revoked-from exclude each other');
    revokedFrom =
      v['revoked-from'] !== undefined
        ? parseIntFlag(cmd, '--revoked-from', v['revoked-from'], 0, Number.MAX_SAFE_INTEGER)
        : now - parseDurationFlag(cmd, '--since', v.since ?? '7d');
    if (revokedFrom > now || now - revokedFrom > KEL_LIMITS.maxRevocationReach)
      throw new UsageError(cmd, 'revoked_from must be within 7 days before now');
  }
  const core = await loadCore();
  const file = await withNodeEvents(core, await readIdentityFile(path), url);
  const h = head(core, file);
  const revealed = h.entry.next;
  if (revealed === undefined)
    throw new ConfigError('ERR_IDENTITY_FILE', 'the file does not say which keys come next');
  const keystore = await openKeystore(keystoreOf(file), { core, secrets: cliSecrets(io) });
  try {
    const n = h.body.keys.length;
    const keys = await generation(keystore, file.label, revealed, n, false);
    if (!sameBytes(nextCommitment(core, dids(keys), h.body.threshold), h.body.next)) {
      throw new ConfigError(
        'ERR_KEL_NEXT_MISMATCH',
        `the keys ${file.label}.${revealed}.* are not the ones the key state in force committed to`,
      );
    }
    const nextGen = nextGeneration(file);
    const following = await generation(keystore, file.label, nextGen, n, true);
    const start = h.state.chain[h.state.chain.length - 1]?.start ?? 0;
    if (now < start)
      throw new ConfigError(
        'ERR_KEL_TIME_ORDER',
        `the key state in force takes effect at ${start}, after now`,
      );
    const body: KeyEventBody = {
      v: 1,
      type: which === 'revoke' ? 'revocation' : 'rotation',
      identity: file.did,
      seq: h.body.seq + 1,
      prior: h.id,
      createdAt: now,
      keys: dids(keys),
      threshold: h.body.threshold,
      next: nextCommitment(core, dids(following), h.body.threshold),
      guardians: [...h.body.guardians],
      guardianThreshold: h.body.guardianThreshold,
      recoveryDelay: h.body.recoveryDelay,
      ...(revokedFrom === undefined ? {} : { revokedFrom }),
    };
    const event = await signKeyEvent(core, body, [], keys);
    await writeIdentityFile(path, withEntry(file, event, revealed, nextGen));
    return await emit(io, event, url);
  } finally {
    await keystore.close();
  }
}

async function recover(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'identity recover';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      file: { type: 'string' },
      guardian: { type: 'string', multiple: true },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const path = required(cmd, '--file', values.file);
  const guardianSpecs = (values.guardian ?? []).map((g) => parseKeystoreFlag(cmd, '--guardian', g));
  if (guardianSpecs.length === 0)
    throw new UsageError(cmd, 'at least one --guardian signs a recovery');
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);
  const core = await loadCore();
  const file = await withNodeEvents(core, await readIdentityFile(path), url);
  const h = head(core, file);
  if (h.body.guardians.length === 0)
    throw new ConfigError('ERR_KEL_NO_GUARDIANS', 'the key state in force names no guardians');
  const guardians = await openGuardians(io, core, guardianSpecs);
  const keystore = await openKeystore(keystoreOf(file), { core, secrets: cliSecrets(io) }).catch(
    async (error: unknown) => {
      await closeAll(guardians.map((g) => g.keystore));
      throw error;
    },
  );
  try {
    for (const g of guardians) {
      if (!h.body.guardians.includes(g.signer.did))
        throw new ConfigError(
          'ERR_NOT_A_GUARDIAN',
          `${g.signer.did} is not a guardian of ${file.did}`,
        );
    }
    const n = h.body.keys.length;
    const gen = nextGeneration(file);
    const keys = await generation(keystore, file.label, gen, n, true);
    const following = await generation(keystore, file.label, gen + 1, n, true);
    const body: KeyEventBody = {
      v: 1,
      type: 'recovery',
      identity: file.did,
      seq: h.body.seq + 1,
      prior: h.id,
      createdAt: nowSeconds(),
      keys: dids(keys),
      threshold: h.body.threshold,
      next: nextCommitment(core, dids(following), h.body.threshold),
      guardians: [...h.body.guardians],
      guardianThreshold: h.body.guardianThreshold,
      recoveryDelay: h.body.recoveryDelay,
    };
    const event = await signKeyEvent(
      core,
      body,
      [],
      guardians.map((g) => g.signer),
    );
    await writeIdentityFile(path, withEntry(file, event, gen, gen + 1));
    const have = new Set(event.event.signatures.map((s) => s.signer)).size;
    if (have < h.body.guardianThreshold) {
      io.stderr.write(
        `${have} of the ${h.body.guardianThreshold} guardian signatures: more guardians add theirs with '${BIN} identity cosign'\n`,
      );
      writeLine(io.stdout, JSON.stringify(keyEventToJson(event.event)));
      return EXIT_OK;
    }
    return await emit(io, event, url);
  } finally {
    await closeAll([keystore, ...guardians.map((g) => g.keystore)]);
  }
}

async function veto(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'identity veto';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      file: { type: 'string' },
      target: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const path = required(cmd, '--file', values.file);
  const given = values.target?.toLowerCase();
  if (given !== undefined && !/^[0-9a-f]{64}$/.test(given))
    throw new UsageError(cmd, '--target is a key event id: 64 hex digits');
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);
  const core = await loadCore();
  const file = await withNodeEvents(core, await readIdentityFile(path), url);
  const { state, events, generations } = resolveFile(core, file);
  const target = given ?? soleRecovery(events, generations, state.vetoed);
  const recovery = events.find((e) => e.idHex === target);
  if (recovery === undefined || recovery.event.type !== 'recovery')
    throw new ConfigError(
      'ERR_KEL_BAD_TARGET',
      `no recovery ${target} of ${file.did} is known here`,
    );
  const priorId = toHex((recovery.event as EstablishmentBody).prior as Uint8Array);
  const prior = events.find((e) => e.idHex === priorId);
  const gen = generations.get(priorId)?.keys;
  if (prior === undefined || gen === undefined)
    throw new ConfigError(
      'ERR_IDENTITY_FILE',
      'the key state the recovery replaces was not made with this file',
    );
  const p = prior.event as EstablishmentBody;
  const from = recovery.event.createdAt;
  const createdAt = Math.max(from, Math.min(nowSeconds(), from + p.recoveryDelay - 1));
  const keystore = await openKeystore(keystoreOf(file), { core, secrets: cliSecrets(io) });
  try {
    const keys = await generation(keystore, file.label, gen, p.keys.length, false);
    const body: KeyEventBody = {
      v: 1,
      type: 'veto',
      identity: file.did,
      target: recovery.id,
      createdAt,
    };
    const event = await signKeyEvent(core, body, [], keys);
    await writeIdentityFile(path, withEntry(file, event));
    return await emit(io, event, url);
  } finally {
    await keystore.close();
  }
}

/** The one recovery, not vetoed, of a key state whose keys this file holds. */
function soleRecovery(
  events: readonly VerifiedKeyEvent[],
  generations: ReadonlyMap<string, { keys?: number }>,
  vetoed: ReadonlySet<string>,
): string {
  const ids = new Set(
    events
      .filter((e) => e.event.type === 'recovery' && !vetoed.has(e.idHex))
      .filter((e) => {
        const prior = toHex((e.event as EstablishmentBody).prior as Uint8Array);
        return generations.get(prior)?.keys !== undefined;
      })
      .map((e) => e.idHex),
  );
  if (ids.size !== 1) {
    throw new ConfigError(
      'ERR_KEL_BAD_TARGET',
      ids.size === 0
        ? 'no recovery to veto: none replaces a key state of this file (try --url)'
        : `${ids.size} recoveries could be vetoed: name one with --target`,
    );
  }
  return [...ids][0] as string;
}

async function cosign(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'identity cosign';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      keystore: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const spec = keystoreOrKey(cmd, values.keystore, values.key);
  if (positionals.length > 1) throw new UsageError(cmd, 'at most one key event file');
  const source = positionals[0] ?? '-';
  const bytes = source === '-' ? await readStdin() : await readFileFlag('key event file', source);
  const core = await loadCore();
  const read = readKeyEventJson(core, bytes);
  if (!read.ok)
    throw new ConfigError(
      read.reason,
      `the key event is not valid: ${read.detail} (${read.reason})`,
    );
  const { signatures, ...body } = read.value.event;
  const opened = await openSigner(spec, { core, secrets: cliSecrets(io) });
  try {
    if (signatures.some((s) => s.signer === opened.signer.did))
      throw new ConfigError(
        'ERR_ALREADY_SIGNED',
        `${opened.signer.did} has already signed this key event`,
      );
    const event = await signKeyEvent(core, body as KeyEventBody, signatures, [opened.signer]);
    writeLine(io.stdout, JSON.stringify(keyEventToJson(event.event)));
    return EXIT_OK;
  } finally {
    await opened.keystore.close();
  }
}

async function submit(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'identity submit';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const url = parseUrlFlag(cmd, '--url', required(cmd, '--url', values.url));
  if (positionals.length === 0) throw new UsageError(cmd, 'at least one FILE');
  // each file's bytes as they are, framed as one JSON array (spec/PROTOCOL.md §3.5)
  const texts = await Promise.all(positionals.map((f) => readFileFlag('key event file', f)));
  const parts: Buffer[] = [Buffer.from('[')];
  for (const [i, t] of texts.entries()) {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(t);
  }
  parts.push(Buffer.from(']'));
  const results = await postKeyEvents(url, Buffer.concat(parts));
  for (const r of results) writeLine(io.stdout, JSON.stringify(r));
  return results.some((r) => r.status === 'rejected') ? EXIT_FAILURE : EXIT_OK;
}

// ---------------------------------------------------------------------------------------------

/** Generation `gen` of the identity's keys: made (when `make`) or found in the keystore. */
async function generation(
  keystore: Keystore,
  label: string,
  gen: number,
  n: number,
  make: boolean,
): Promise<Signer[]> {
  const out: Signer[] = [];
  for (let i = 0; i < n; i++) {
    const name = keyLabel(label, gen, i);
    const key = make ? await keystore.generate(name) : await keystore.get(name);
    if (key === undefined)
      throw new ConfigError(
        'ERR_KEY_NOT_FOUND',
        `the keystore holds no key ${JSON.stringify(name)}`,
      );
    out.push(signerFor(keystore, key));
  }
  return out;
}

const dids = (keys: readonly Signer[]): string[] => keys.map((k) => k.did).sort();

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Signs a key event body by handle (the keys never leave their keystore), then checks it. */
async function signKeyEvent(
  core: Core,
  body: KeyEventBody,
  existing: KeyEvent['signatures'],
  keys: readonly Signer[],
): Promise<DecodedKeyEvent> {
  let bodyBytes: Uint8Array;
  try {
    bodyBytes = encodeKeyEventBody(body);
  } catch (error) {
    throw new ConfigError(
      'ERR_KEY_EVENT_INVALID',
      `the key event cannot be encoded: ${(error as Error).message}`,
    );
  }
  const message = keyEventSigningInput(core.sha256(bodyBytes));
  const signatures = [...existing];
  for (const k of keys) signatures.push({ signer: k.did, sig: await k.sign(message) });
  const decoded = decodeKeyEvent(core, encodeKeyEvent({ ...body, signatures } as KeyEvent));
  if (!decoded.ok)
    throw new ConfigError(
      decoded.reason,
      `the key event is not valid: ${decoded.detail} (${decoded.reason})`,
    );
  return decoded.value;
}

/** Prints the key event; with a URL, submits it and reports the node's verdict. */
async function emit(io: CliIo, event: DecodedKeyEvent, url: URL | undefined): Promise<number> {
  const json = keyEventToJson(event.event);
  writeLine(io.stdout, JSON.stringify(json));
  if (url === undefined) return EXIT_OK;
  const [result] = await postKeyEvents(url, Buffer.from(JSON.stringify([json])));
  if (result === undefined || result.status === 'rejected') {
    const why = result?.status === 'rejected' ? `${result.reason}: ${result.detail}` : 'no answer';
    writeLine(io.stderr, `${BIN}: the node refused the key event (${why})`);
    return EXIT_FAILURE;
  }
  writeLine(io.stderr, `${result.status} by ${url.origin}: ${event.idHex}`);
  return EXIT_OK;
}

async function postKeyEvents(url: URL, body: Uint8Array): Promise<KeyEventResult[]> {
  const answer = await requestJson(apiUrl(url, '/v1/key-events'), 'POST', body, {
    timeoutMs: TIMEOUT_MS,
  });
  const results = (answer.json as { results?: KeyEventResult[] } | undefined)?.results;
  if (answer.status !== 200 || !Array.isArray(results)) {
    const e = apiError(answer);
    throw new ConfigError(e.code, `${url.origin}: ${e.message}`);
  }
  return results;
}

/** The file with what the node at `url` holds of the identity (the file as it is without a URL). */
async function withNodeEvents(
  core: Core,
  file: IdentityFile,
  url: URL | undefined,
): Promise<IdentityFile> {
  return url === undefined
    ? file
    : mergeKeyEvents(core, file, await nodeKeyEvents(core, url, file.did));
}

/** The key events of an identity that the node at `url` holds (none when it knows none). */
async function nodeKeyEvents(core: Core, url: URL, did: string): Promise<VerifiedKeyEvent[]> {
  const answer = await requestJson(
    apiUrl(url, `/v1/identities/${encodeURIComponent(did)}/key-events`),
    'GET',
    undefined,
    { timeoutMs: TIMEOUT_MS },
  );
  if (answer.status === 404) return [];
  const list = (answer.json as { key_events?: KeyEventJson[] } | undefined)?.key_events;
  if (answer.status !== 200 || !Array.isArray(list)) {
    const e = apiError(answer);
    throw new ConfigError(e.code, `${url.origin}: ${e.message}`);
  }
  return list.map((j, i) => checkedKeyEvent(core, j, `key event ${i} from ${url.origin}`));
}

async function openGuardians(
  io: CliIo,
  core: Core,
  specs: readonly KeystoreSpec[],
): Promise<{ keystore: Keystore; signer: Signer }[]> {
  const opened: { keystore: Keystore; signer: Signer }[] = [];
  try {
    for (const spec of specs)
      opened.push(await openSigner(spec, { core, secrets: cliSecrets(io) }));
    return opened;
  } catch (error) {
    await closeAll(opened.map((o) => o.keystore));
    throw error;
  }
}

async function closeAll(keystores: readonly Keystore[]): Promise<void> {
  await Promise.allSettled(keystores.map((k) => k.close()));
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * For `event create --identity FILE`: the identity's DID, the key state in force (its id is the
 * event's `key_state`) and signers over that state's keys; close the keystore when done.
 */
export async function identityAuthor(
  io: CliIo,
  core: Core,
  path: string,
): Promise<{ did: string; keyState: Uint8Array; keys: Signer[]; keystore: Keystore }> {
  const file = await readIdentityFile(path);
  const h = head(core, file);
  const keystore = await openKeystore(keystoreOf(file), { core, secrets: cliSecrets(io) });
  try {
    const keys = await generation(
      keystore,
      file.label,
      h.entry.keys as number,
      h.body.keys.length,
      false,
    );
    return { did: file.did, keyState: h.id, keys, keystore };
  } catch (error) {
    await keystore.close();
    throw error;
  }
}
