/**
 * `commons-sync trust`: trust roots changed only by quorum, critical actions, and the web of
 * trust (spec/GOVERNANCE.md). Records are drafted and signed here through the keystore contract,
 * co-signed off line (the file is passed around; the id never changes), and submitted to a node,
 * which says how many signatures are still missing against its root in force.
 */
import { writeFile } from 'node:fs/promises';
import { type Core, loadCore } from '@commons-sync/bindings';

import {
  ACTION_KINDS,
  type ActionBody,
  type ActionKind,
  CRITICAL_KINDS,
  type CriticalKind,
  type DecodedRecord,
  GOV_LIMITS,
  type PrincipalEntry,
  type RootBody,
} from '../governance/index.js';
import { fromHex, looksLikeDidCs, parseDidCs, parseDidKey } from '../protocol/index.js';
import {
  BIN,
  type CliIo,
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  KEYSTORE_HELP,
  keystoreOrKey,
  parseCommandLine,
  parseDurationFlag,
  parseIntFlag,
  parseKeystoreFlag,
  parseUrlFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';
import {
  emitRecord,
  isStatus,
  nodeExplain,
  nodeState,
  nodeStatus,
  nodeSubmit,
  openSigners,
  printExplanation,
  printResult,
  printStatus,
  readRecordFile,
  recordJsonText,
  signRecordWith,
} from './trust-records.js';

const ROOT_INIT_USAGE = `Usage: ${BIN} trust root init --member DID... --threshold N [options]
       ${BIN} trust root init --url URL [options]      (the successor of the node's root)

Drafts a trust root, signs it with each --sign key and writes it (--out FILE, else stdout).
With --url the draft follows the root in force at that node: version + 1, that root as prior,
and its whole governed state (members, thresholds, validators in force, protocol versions,
policy) unless a flag below replaces a part.

Options:
  --member DID[=KEY_STATE]    a governance identity (repeatable); a did:cs names the key state
                              (64 hex digits) whose keys act for it
  --threshold N | KIND=N      signatures needed for every critical kind, or for one (repeatable);
                              each must be more than half the members, so that two conflicting
                              roots can never both reach a quorum. Kinds: ${CRITICAL_KINDS.join(', ')}
  --validator DID[=KEY_STATE] a validator (repeatable)
  --protocol-version N        accepted protocol versions (repeatable; default 1)
  --max-depth D               trust paths have at most D attestations (default 3)
  --min-paths K               independent paths an author needs (default 1)
  --expires DURATION          the root's lifetime, such as 365d (default 365d; at most 366d)
  --version N                 the root's version (default 1, or the prior's + 1); a node refuses
                              any other (ERR_GOV_ROLLBACK, ERR_GOV_VERSION_GAP)
  --sign SPEC                 a member's key that signs now (repeatable; keystore SPEC or key FILE)
  --url URL                   draft the successor of this node's root in force
  --out FILE                  write the record here (else stdout)

${KEYSTORE_HELP}`;

const SIGN_USAGE = `Usage: ${BIN} trust root sign (--keystore SPEC | --key FILE) [--url URL] FILE
       ${BIN} trust action cosign (--keystore SPEC | --key FILE) [--url URL] FILE

Adds the key's signature to the record in FILE (rewritten in place; its id does not change). With
--url the node says first whether a signature can still help (a draft against a root that is no
longer in force cannot: signing it would fork the chain, so this refuses) and after signing how
many signatures are still missing.

${KEYSTORE_HELP}`;

const APPLY_USAGE = `Usage: ${BIN} trust root apply --url URL FILE
       ${BIN} trust action submit --url URL FILE

Submits the record in FILE to the node and prints its verdict and standing. Exit status 1 when
the node refuses it or it does not count (yet).`;

const SHOW_USAGE = `Usage: ${BIN} trust root show --url URL
       ${BIN} trust root show FILE

Prints the governed state of the node (its root in force, chain, members, validators, actions),
or the root record in FILE with its id.`;

const PROPOSE_USAGE = `Usage: ${BIN} trust action propose --url URL --kind KIND [options]

Drafts a critical action against the node's root in force, signs it with each --sign key, writes
it (--out FILE, else stdout) and prints how many signatures are still missing.

Options:
  --kind KIND               ${ACTION_KINDS.join(', ')}
  --subject DID[=KEY_STATE] the validator or identity concerned
  --protocol-version N      for protocol-upgrade (repeatable)
  --max-depth D --min-paths K   for policy-change
  --sign SPEC               a member's key that signs now (repeatable)
  --out FILE                write the record here (else stdout)

${KEYSTORE_HELP}`;

const ATTEST_USAGE = `Usage: ${BIN} trust attest SUBJECT (--keystore SPEC | --key FILE) [options]

Vouches for SUBJECT (a did:key or did:cs) as the key's did:key: an attestation record, written to
--out FILE or stdout, and submitted with --url.

Options:
  --scope KIND         the event kind it vouches for, or * for all (default *)
  --expires DURATION   how long it holds (default 90d; at most 366d)
  --url URL            submit it to this node
  --out FILE           write the record here (else stdout)

${KEYSTORE_HELP}`;

const REVOKE_USAGE = `Usage: ${BIN} trust revoke (ATTESTATION_ID | FILE) (--keystore SPEC | --key FILE) [--url URL] [--out FILE]

Withdraws an attestation the key issued (named by its id, or the file 'trust attest' wrote), from now on: a revocation record, written to --out FILE
or stdout, and submitted with --url.

${KEYSTORE_HELP}`;

const EXPLAIN_USAGE = `Usage: ${BIN} trust explain DID --url URL [--scope KIND] [--at TIME]

Asks the node why DID is or is not trusted for KIND (default *) at TIME (Unix seconds or an ISO
date; default now): the independent paths from the root's set, hop by hop, how many are missing,
and what each attestation about DID contributed.`;

export const trustSubcommandUsage: Readonly<Record<string, string>> = {
  root: `Usage: ${BIN} trust root init|sign|apply|show ... (see each with --help)`,
  action: `Usage: ${BIN} trust action propose|cosign|submit ... (see each with --help)`,
  attest: ATTEST_USAGE,
  revoke: REVOKE_USAGE,
  explain: EXPLAIN_USAGE,
};

const SUB_USAGE: Readonly<Record<string, string>> = {
  'root init': ROOT_INIT_USAGE,
  'root sign': SIGN_USAGE,
  'root apply': APPLY_USAGE,
  'root show': SHOW_USAGE,
  'action propose': PROPOSE_USAGE,
  'action cosign': SIGN_USAGE,
  'action submit': APPLY_USAGE,
};

export const trustCommand: Command = {
  name: 'trust',
  summary: 'trust roots, critical actions and the web of trust',
  usage: `Usage: ${BIN} trust <subcommand> [options]

Subcommands:
  root init|sign|apply|show         draft, co-sign, apply and show trust roots
  action propose|cosign|submit      critical actions (validator admission, policy change...)
  attest SUBJECT                    vouch for an author
  revoke ATTESTATION_ID             withdraw an attestation
  explain DID                       why an author is or is not trusted

Run '${BIN} trust <subcommand> --help' for the options of each.`,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'root' || sub === 'action') {
      const [verb, ...args] = rest;
      const name = `${sub} ${verb ?? ''}`;
      if (args.includes('--help') || args.includes('-h')) {
        writeLine(io.stdout, SUB_USAGE[name] ?? trustSubcommandUsage[sub] ?? '');
        return EXIT_OK;
      }
      switch (name) {
        case 'root init':
          return rootInit(args, io);
        case 'root sign':
        case 'action cosign':
          return cosign(`trust ${name}`, args, io);
        case 'root apply':
        case 'action submit':
          return apply(`trust ${name}`, args, io);
        case 'root show':
          return show(args, io);
        case 'action propose':
          return propose(args, io);
      }
      throw new UsageError(`trust ${sub}`, `unknown subcommand ${JSON.stringify(verb ?? '')}`);
    }
    if (sub === 'attest') return attest(rest, io);
    if (sub === 'revoke') return revoke(rest, io);
    if (sub === 'explain') return explainCmd(rest, io);
    throw new UsageError(
      'trust',
      sub === undefined
        ? 'a subcommand is required (root, action, attest, revoke, explain)'
        : `unknown subcommand ${JSON.stringify(sub)}`,
    );
  },
};

const now = (): number => Math.floor(Date.now() / 1000);

/** `DID` or `DID=KEY_STATE_HEX` (a did:cs names the key state whose keys act for it). */
function principal(cmd: string, flag: string, text: string): PrincipalEntry {
  const [id = '', state] = text.split('=');
  if (looksLikeDidCs(id)) {
    const parsed = parseDidCs(id);
    if (!parsed.ok) throw new UsageError(cmd, `${flag} ${id}: ${parsed.detail}`);
    const keyState = state === undefined ? null : fromHex(state);
    if (keyState === null || keyState.length !== 32)
      throw new UsageError(cmd, `${flag} ${id}: a did:cs needs =KEY_STATE (64 hex digits)`);
    return { id, keyState };
  }
  const parsed = parseDidKey(id);
  if (!parsed.ok || state !== undefined)
    throw new UsageError(cmd, `${flag} ${text}: a did:key (or did:cs=KEY_STATE)`);
  return { id };
}

/** A did:key or a did:cs, as an author or subject is named (no key state). */
function didArg(cmd: string, what: string, text: string): string {
  const parsed = looksLikeDidCs(text) ? parseDidCs(text) : parseDidKey(text);
  if (!parsed.ok) throw new UsageError(cmd, `${what} ${text}: ${parsed.detail}`);
  return text;
}

const byId = (a: PrincipalEntry, b: PrincipalEntry): number => (a.id < b.id ? -1 : 1);

function fromJsonPrincipal(p: { id: string; key_state: string | null }): PrincipalEntry {
  return p.key_state === null
    ? { id: p.id }
    : { id: p.id, keyState: fromHex(p.key_state) as Uint8Array };
}

function thresholdsOf(
  cmd: string,
  texts: readonly string[],
  base: Partial<Record<CriticalKind, number>>,
  members: number,
): Record<CriticalKind, number> {
  const out: Partial<Record<CriticalKind, number>> = { ...base };
  for (const t of texts) {
    const [kind, n] = t.includes('=') ? t.split('=') : [undefined, t];
    const value = parseIntFlag(cmd, '--threshold', n ?? '', 1, GOV_LIMITS.maxMembers);
    if (kind === undefined) for (const k of CRITICAL_KINDS) out[k] = value;
    else if ((CRITICAL_KINDS as readonly string[]).includes(kind))
      out[kind as CriticalKind] = value;
    else throw new UsageError(cmd, `--threshold ${t}: unknown kind ${kind}`);
  }
  for (const k of CRITICAL_KINDS) {
    const t = out[k];
    if (t === undefined) throw new UsageError(cmd, `--threshold is required (none for ${k})`);
    if (2 * t <= members || t > members)
      throw new UsageError(
        cmd,
        `the ${k} threshold ${t} must be more than half of the ${members} members and at most all of them: two conflicting roots could otherwise both reach a quorum`,
      );
  }
  return out as Record<CriticalKind, number>;
}

async function withSigners<T>(
  io: CliIo,
  core: Core,
  cmd: string,
  specs: readonly string[],
  work: (signers: Awaited<ReturnType<typeof openSigners>>['signers']) => Promise<T>,
): Promise<T> {
  const opened = await openSigners(
    io,
    specs.map((s) => parseKeystoreFlag(cmd, '--sign', s)),
    core,
  );
  try {
    return await work(opened.signers);
  } finally {
    await opened.close();
  }
}

async function rootInit(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'trust root init';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      member: { type: 'string', multiple: true },
      threshold: { type: 'string', multiple: true },
      validator: { type: 'string', multiple: true },
      'protocol-version': { type: 'string', multiple: true },
      'max-depth': { type: 'string' },
      'min-paths': { type: 'string' },
      expires: { type: 'string' },
      version: { type: 'string' },
      sign: { type: 'string', multiple: true },
      url: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);
  const state = url === undefined ? undefined : await nodeState(url);
  if (state !== undefined && state.mode !== 'governed')
    throw new UsageError(cmd, `${url?.origin} runs in open mode: it has no root to follow`);
  const gov = state?.mode === 'governed' ? state : undefined;
  const members =
    values.member !== undefined
      ? values.member.map((m) => principal(cmd, '--member', m)).sort(byId)
      : (gov?.members.map(fromJsonPrincipal) ?? []);
  if (members.length === 0) throw new UsageError(cmd, '--member is required (at least one)');
  const validators =
    values.validator !== undefined
      ? values.validator.map((v) => principal(cmd, '--validator', v)).sort(byId)
      : (gov?.validators.map(fromJsonPrincipal) ?? []);
  const protocolVersions =
    values['protocol-version'] !== undefined
      ? [
          ...new Set(
            values['protocol-version'].map((v) =>
              parseIntFlag(cmd, '--protocol-version', v, 1, 65_535),
            ),
          ),
        ].sort((a, b) => a - b)
      : (gov?.protocol_versions ?? [1]);
  const maxDepth = parseIntFlag(
    cmd,
    '--max-depth',
    values['max-depth'] ?? String(gov?.trust_policy.max_depth ?? 3),
    1,
    GOV_LIMITS.maxPolicyDepth,
  );
  const minPaths = parseIntFlag(
    cmd,
    '--min-paths',
    values['min-paths'] ?? String(gov?.trust_policy.min_paths ?? 1),
    1,
    GOV_LIMITS.maxPolicyPaths,
  );
  const lifetime = parseDurationFlag(cmd, '--expires', values.expires ?? '365d');
  if (lifetime > GOV_LIMITS.maxValidity)
    throw new UsageError(cmd, `--expires is longer than a root may hold (366 days)`);
  const thresholds = thresholdsOf(
    cmd,
    values.threshold ?? [],
    values.threshold === undefined && values.member === undefined ? (gov?.thresholds ?? {}) : {},
    members.length,
  );
  const createdAt = now();
  const body: RootBody = {
    v: 1,
    type: 'root',
    version:
      values.version === undefined
        ? gov === undefined
          ? 1
          : gov.root.version + 1
        : parseIntFlag(cmd, '--version', values.version, 1, Number.MAX_SAFE_INTEGER),
    ...(gov === undefined ? {} : { prior: fromHex(gov.root.id) as Uint8Array }),
    createdAt,
    expiresAt: createdAt + lifetime,
    members,
    thresholds,
    validators,
    protocolVersions,
    trustPolicy: { maxDepth, minPaths },
  };
  const core = await loadCore();
  const record = await withSigners(io, core, cmd, values.sign ?? [], (signers) =>
    signRecordWith(core, body, signers),
  );
  await emitRecord(io, record, values.out);
  writeLine(io.stderr, `root ${record.idHex} (version ${body.version})`);
  if (url !== undefined) printStatus(io, await nodeStatus(url, record));
  else printAnchorStatus(io, record, body);
  return EXIT_OK;
}

/** A first root has no node to ask: count its own members' signatures against its threshold. */
function printAnchorStatus(io: CliIo, record: DecodedRecord, body: RootBody): void {
  const signers = new Set(record.record.signatures.map((s) => s.signer));
  const signed = body.members.filter((m) => signers.has(m.id)).length;
  const missing = Math.max(0, body.thresholds['root-change'] - signed);
  writeLine(
    io.stdout,
    `signed by ${signed} of ${body.members.length} members; root-change threshold ${body.thresholds['root-change']}`,
  );
  writeLine(io.stdout, `missing: ${missing} signature${missing === 1 ? '' : 's'}`);
}

async function cosign(cmd: string, argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      keystore: { type: 'string' },
      key: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const spec = keystoreOrKey(cmd, values.keystore, values.key);
  if (positionals.length !== 1) throw new UsageError(cmd, 'exactly one record FILE');
  const file = positionals[0] as string;
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);
  const core = await loadCore();
  const draft = await readRecordFile(core, file);
  if (url !== undefined) {
    const before = await nodeStatus(url, draft);
    if (isStatus(before) && before.blocked !== null) {
      printStatus(io, before);
      writeLine(
        io.stderr,
        `${BIN}: not signing: ${before.blocked.reason} (a signature cannot help; signing a second successor of one root would fork the chain)`,
      );
      return EXIT_FAILURE;
    }
  }
  const opened = await openSigners(io, [spec], core);
  let record: DecodedRecord;
  try {
    record = await signRecordWith(core, draft.record, opened.signers);
  } finally {
    await opened.close();
  }
  await writeFile(file, `${recordJsonText(record)}\n`);
  writeLine(io.stderr, `signed ${record.idHex} (${record.record.signatures.length} signatures)`);
  if (url !== undefined) printStatus(io, await nodeStatus(url, record));
  return EXIT_OK;
}

async function apply(cmd: string, argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: { url: { type: 'string' } },
  });
  const url = parseUrlFlag(cmd, '--url', required(cmd, '--url', values.url));
  if (positionals.length !== 1) throw new UsageError(cmd, 'exactly one record FILE');
  const core = await loadCore();
  const record = await readRecordFile(core, positionals[0] as string);
  return printResult(io, url, await nodeSubmit(url, record)) ? EXIT_OK : EXIT_FAILURE;
}

async function show(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'trust root show';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: { url: { type: 'string' } },
  });
  if ((values.url === undefined) === (positionals.length === 0) || positionals.length > 1)
    throw new UsageError(cmd, 'give --url URL or one root FILE');
  if (values.url !== undefined) {
    const state = await nodeState(parseUrlFlag(cmd, '--url', values.url));
    writeLine(io.stdout, JSON.stringify(state, null, 2));
    if (state.mode === 'open') writeLine(io.stderr, 'open mode: this node has no trust root');
    return EXIT_OK;
  }
  const core = await loadCore();
  const record = await readRecordFile(core, positionals[0] as string);
  writeLine(
    io.stdout,
    JSON.stringify({ id: record.idHex, ...JSON.parse(recordJsonText(record)) }, null, 2),
  );
  return EXIT_OK;
}

async function propose(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'trust action propose';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      url: { type: 'string' },
      kind: { type: 'string' },
      subject: { type: 'string' },
      'protocol-version': { type: 'string', multiple: true },
      'max-depth': { type: 'string' },
      'min-paths': { type: 'string' },
      sign: { type: 'string', multiple: true },
      out: { type: 'string' },
    },
  });
  const url = parseUrlFlag(cmd, '--url', required(cmd, '--url', values.url));
  const kind = required(cmd, '--kind', values.kind);
  if (!(ACTION_KINDS as readonly string[]).includes(kind))
    throw new UsageError(cmd, `--kind must be one of ${ACTION_KINDS.join(', ')}`);
  const subject =
    values.subject === undefined ? undefined : principal(cmd, '--subject', values.subject);
  const state = await nodeState(url);
  if (state.mode !== 'governed')
    throw new UsageError(cmd, `${url.origin} runs in open mode: it takes no critical actions`);
  const body: ActionBody = {
    v: 1,
    type: 'action',
    kind: kind as ActionKind,
    root: fromHex(state.root.id) as Uint8Array,
    ...(subject === undefined ? {} : { subject: subject.id }),
    ...(subject?.keyState === undefined ? {} : { keyState: subject.keyState }),
    createdAt: now(),
    ...(values['protocol-version'] === undefined
      ? {}
      : {
          protocolVersions: values['protocol-version']
            .map((v) => parseIntFlag(cmd, '--protocol-version', v, 1, 65_535))
            .sort((a, b) => a - b),
        }),
    ...(values['max-depth'] === undefined && values['min-paths'] === undefined
      ? {}
      : {
          trustPolicy: {
            maxDepth: parseIntFlag(
              cmd,
              '--max-depth',
              values['max-depth'] ?? '',
              1,
              GOV_LIMITS.maxPolicyDepth,
            ),
            minPaths: parseIntFlag(
              cmd,
              '--min-paths',
              values['min-paths'] ?? '',
              1,
              GOV_LIMITS.maxPolicyPaths,
            ),
          },
        }),
  };
  const core = await loadCore();
  const record = await withSigners(io, core, cmd, values.sign ?? [], (signers) =>
    signRecordWith(core, body, signers),
  );
  await emitRecord(io, record, values.out);
  writeLine(io.stderr, `action ${record.idHex} (${kind})`);
  printStatus(io, await nodeStatus(url, record));
  return EXIT_OK;
}

async function attest(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'trust attest';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      keystore: { type: 'string' },
      key: { type: 'string' },
      scope: { type: 'string' },
      expires: { type: 'string' },
      url: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(cmd, 'exactly one SUBJECT (a DID)');
  const subject = didArg(cmd, 'SUBJECT', positionals[0] as string);
  const spec = keystoreOrKey(cmd, values.keystore, values.key);
  const lifetime = parseDurationFlag(cmd, '--expires', values.expires ?? '90d');
  if (lifetime > GOV_LIMITS.maxValidity)
    throw new UsageError(cmd, '--expires is longer than an attestation may hold (366 days)');
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);
  const core = await loadCore();
  const opened = await openSigners(io, [spec], core);
  let record: DecodedRecord;
  try {
    const issuer = opened.signers[0]?.did as string;
    const createdAt = now();
    record = await signRecordWith(
      core,
      {
        v: 1,
        type: 'attestation',
        issuer,
        subject,
        scope: values.scope ?? '*',
        createdAt,
        expiresAt: createdAt + lifetime,
      },
      opened.signers,
    );
  } finally {
    await opened.close();
  }
  return emitAndSubmit(io, record, values.out, url);
}

async function revoke(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'trust revoke';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      keystore: { type: 'string' },
      key: { type: 'string' },
      url: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(cmd, 'exactly one ATTESTATION_ID (64 hex digits) or attestation FILE');
  const spec = keystoreOrKey(cmd, values.keystore, values.key);
  const url = values.url === undefined ? undefined : parseUrlFlag(cmd, '--url', values.url);
  const core = await loadCore();
  const arg = positionals[0] as string;
  let target = /^[0-9a-f]{64}$/.test(arg) ? fromHex(arg) : null;
  if (target === null) {
    const attestation = await readRecordFile(core, arg);
    if (attestation.record.type !== 'attestation')
      throw new UsageError(cmd, `${arg} holds a ${attestation.record.type}, not an attestation`);
    target = attestation.id;
  }
  const opened = await openSigners(io, [spec], core);
  let record: DecodedRecord;
  try {
    record = await signRecordWith(
      core,
      {
        v: 1,
        type: 'attestation-revocation',
        issuer: opened.signers[0]?.did as string,
        target: target as Uint8Array,
        createdAt: now(),
      },
      opened.signers,
    );
  } finally {
    await opened.close();
  }
  return emitAndSubmit(io, record, values.out, url);
}

async function emitAndSubmit(
  io: CliIo,
  record: DecodedRecord,
  out: string | undefined,
  url: URL | undefined,
): Promise<number> {
  await emitRecord(io, record, out);
  if (url === undefined) return EXIT_OK;
  return printResult(io, url, await nodeSubmit(url, record)) ? EXIT_OK : EXIT_FAILURE;
}

async function explainCmd(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'trust explain';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      scope: { type: 'string' },
      at: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(cmd, 'exactly one DID');
  const did = didArg(cmd, 'DID', positionals[0] as string);
  const url = parseUrlFlag(cmd, '--url', required(cmd, '--url', values.url));
  let at = now();
  if (values.at !== undefined) {
    if (/^\d{1,15}$/.test(values.at)) at = Number(values.at);
    else {
      const ms = Date.parse(values.at);
      if (Number.isNaN(ms)) throw new UsageError(cmd, '--at must be Unix seconds or an ISO date');
      at = Math.floor(ms / 1000);
    }
  }
  printExplanation(io, await nodeExplain(url, did, values.scope ?? '*', at));
  return EXIT_OK;
}
