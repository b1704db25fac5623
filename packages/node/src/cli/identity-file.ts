/**
 * The identity file of `commons-sync identity`: public facts only (no key material), enough to
 * act as the identity again: its DID, where its keys are (a keystore spec without `key=`), the
 * label its keys are named after, and the key events it made, each with the key generation
 * that signs for it and the one its commitment names. Keys are labelled
 * `LABEL.GENERATION.INDEX` in the keystore, so a generation's keys can be found again.
 *
 *   { "commons_sync_identity": 1, "did": "did:cs:…", "keystore": "vault:./keys/",
 *     "label": "alice", "key_events": [ { "event": {…JSON form…}, "keys": 0, "next": 1 }, … ] }
 *
 * The file's own key events resolve (spec/IDENTITY.md §7) to the key state the file acts
 * under; key events of the identity held by a node can be merged in (`--url`).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

import type { Core } from '@commons-sync/bindings';
import { ConfigError } from '../errors.js';
import {
  type DecodedKeyEvent,
  type EstablishmentBody,
  type IdentityState,
  type KeyEventJson,
  keyEventToJson,
  parseKeyEventJsonText,
  resolveIdentity,
  type VerifiedKeyEvent,
  verifyKeyEvents,
} from '../identity/index.js';
import { type KeystoreSpec, parseKeystoreSpec } from '../keys/spec.js';

export const IDENTITY_FILE_VERSION = 1;

export interface IdentityFileEntry {
  readonly event: KeyEventJson;
  /** The key generation that signs for this key state (absent: not made by this file). */
  readonly keys?: number;
  /** The generation its next-keys commitment names. */
  readonly next?: number;
}

export interface IdentityFile {
  readonly commons_sync_identity: 1;
  readonly did: string;
  readonly keystore: string;
  readonly label: string;
  readonly key_events: IdentityFileEntry[];
}

/** An identity file that cannot be used. */
export class IdentityFileError extends ConfigError {
  static readonly code = 'ERR_IDENTITY_FILE';
  constructor(message: string) {
    super(IdentityFileError.code, message);
  }
}

export async function readIdentityFile(path: string): Promise<IdentityFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new IdentityFileError(
      `cannot read the identity file ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IdentityFileError(`${path} is not JSON`);
  }
  const f = value as Partial<IdentityFile>;
  if (
    f?.commons_sync_identity !== IDENTITY_FILE_VERSION ||
    typeof f.did !== 'string' ||
    typeof f.keystore !== 'string' ||
    typeof f.label !== 'string' ||
    !Array.isArray(f.key_events)
  ) {
    throw new IdentityFileError(`${path} is not a commons-sync identity file (version 1)`);
  }
  return f as IdentityFile;
}

/** Writes the file atomically (a new file, then renamed over the old one). */
export async function writeIdentityFile(path: string, file: IdentityFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

export function keystoreOf(file: IdentityFile): KeystoreSpec {
  return parseKeystoreSpec(file.keystore);
}

/** The keystore label of key `index` of generation `generation`. */
export function keyLabel(label: string, generation: number, index: number): string {
  return `${label}.${generation}.${index}`;
}

/** A key event of the file (or from a node), checked as a node checks it (§6 steps 1–3, 6). */
export function checkedKeyEvent(core: Core, json: KeyEventJson, what: string): VerifiedKeyEvent {
  const decoded = parseKeyEventJsonText(core, JSON.stringify(json));
  if (!decoded.ok) throw new IdentityFileError(`${what}: ${decoded.detail} (${decoded.reason})`);
  return verified(core, decoded.value, what);
}

function verified(core: Core, d: DecodedKeyEvent, what: string): VerifiedKeyEvent {
  const [v] = verifyKeyEvents(core, [d]);
  if (v === undefined || !v.ok) throw new IdentityFileError(`${what}: a signature does not verify`);
  return v.value;
}

/** The file's key events, checked, with their generations by id. */
export function eventsOf(
  core: Core,
  file: IdentityFile,
): { events: VerifiedKeyEvent[]; generations: Map<string, IdentityFileEntry> } {
  const generations = new Map<string, IdentityFileEntry>();
  const events = file.key_events.map((entry, i) => {
    const e = checkedKeyEvent(core, entry.event, `key event ${i} of the identity file`);
    if (e.identity !== file.did)
      throw new IdentityFileError(`key event ${i} of the identity file is not of ${file.did}`);
    generations.set(e.idHex, entry);
    return e;
  });
  return { events, generations };
}

/** The identity as the file's key events (and any more given) resolve it. */
export function resolveFile(
  core: Core,
  file: IdentityFile,
  more: readonly VerifiedKeyEvent[] = [],
): {
  state: IdentityState;
  generations: Map<string, IdentityFileEntry>;
  events: VerifiedKeyEvent[];
} {
  const { events, generations } = eventsOf(core, file);
  const all = [...events, ...more];
  const state = resolveIdentity(core, file.did, all);
  if (state === undefined)
    throw new IdentityFileError(`no valid inception of ${file.did} in the file`);
  return { state, generations, events: all };
}

/** The key state the identity acts under, and the generation of its keys in this file. */
export function head(
  core: Core,
  file: IdentityFile,
  more: readonly VerifiedKeyEvent[] = [],
): {
  state: IdentityState;
  body: EstablishmentBody & { readonly seq: number };
  id: Uint8Array;
  idHex: string;
  entry: IdentityFileEntry;
  events: VerifiedKeyEvent[];
  generations: Map<string, IdentityFileEntry>;
} {
  const { state, generations, events } = resolveFile(core, file, more);
  if (state.status === 'frozen') {
    throw new ConfigError(
      'ERR_KEL_IDENTITY_FROZEN',
      `${file.did} is frozen by duplicity since ${state.frozenFrom}: only a guardian recovery can settle it`,
    );
  }
  const last = state.chain[state.chain.length - 1];
  const event = events.find((e) => e.idHex === last?.idHex);
  const entry = last === undefined ? undefined : generations.get(last.idHex);
  if (last === undefined || event === undefined || entry?.keys === undefined) {
    throw new IdentityFileError(
      `the key state in force (${last?.idHex ?? 'none'}) was not made with this identity file`,
    );
  }
  return {
    state,
    body: event.event as EstablishmentBody,
    id: event.id,
    idHex: event.idHex,
    entry,
    events,
    generations,
  };
}

/** The file with one more key event. */
export function withEntry(
  file: IdentityFile,
  event: DecodedKeyEvent,
  keys?: number,
  next?: number,
): IdentityFile {
  return {
    ...file,
    key_events: [
      ...file.key_events,
      {
        event: keyEventToJson(event.event),
        ...(keys === undefined ? {} : { keys }),
        ...(next === undefined ? {} : { next }),
      },
    ],
  };
}

/** The generation after every one the file used. */
export function nextGeneration(file: IdentityFile): number {
  let max = -1;
  for (const e of file.key_events) max = Math.max(max, e.keys ?? -1, e.next ?? -1);
  return max + 1;
}

/**
 * The file with the key events a node holds of the identity: a copy of a key event the file
 * has replaces the file's (the node's copy joined its log; the file may hold a copy with fewer
 * signatures, such as a recovery before its guardians co-signed), keeping its generations;
 * others are added.
 */
export function mergeKeyEvents(
  core: Core,
  file: IdentityFile,
  fromNode: readonly VerifiedKeyEvent[],
): IdentityFile {
  if (fromNode.length === 0) return file;
  const { events } = eventsOf(core, file);
  const entries = [...file.key_events];
  for (const e of fromNode) {
    const json = keyEventToJson(e.event);
    const at = events.findIndex((x) => x.idHex === e.idHex);
    if (at >= 0) entries[at] = { ...(entries[at] as IdentityFileEntry), event: json };
    else entries.push({ event: json });
  }
  return { ...file, key_events: entries };
}
