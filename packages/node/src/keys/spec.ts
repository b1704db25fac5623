/**
 * `--keystore` values: which backend, where, and which key.
 *
 *     vault:PATH                      a key file (the format of keyfile.ts), one key
 *     vault:DIR/;key=LABEL            a directory of key files, LABEL.key each
 *     PATH                            the same as vault:PATH
 *     pkcs11:token=LABEL;object=KEY?module-path=/usr/lib/softhsm/libsofthsm2.so
 *     pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=LABEL;key=KEY
 *
 * The pkcs11 form follows RFC 7512: attributes separated by `;` (and `?` before query
 * attributes), values percent-decoded; `key` is our short name for `object`, `module` for
 * `module-path`. A PIN is never part of a spec: it comes from COMMONS_SYNC_PKCS11_PIN or a
 * prompt. A vault path is taken literally up to the first `;`.
 */

import { KeystoreSpecError } from './errors.js';
import { checkLabel, type KeystoreError } from './keystore.js';

export type KeystoreSpec =
  | { readonly kind: 'vault'; readonly path: string; readonly key?: string }
  | {
      readonly kind: 'pkcs11';
      readonly module: string;
      readonly token: string;
      readonly key?: string;
    };

const MAX_SPEC_LENGTH = 4096;

function bad(text: string, why: string): KeystoreError {
  return new KeystoreSpecError(`--keystore ${JSON.stringify(text.slice(0, 200))}: ${why}`);
}

function attributes(text: string, body: string, known: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of body.split(/[;?&]/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(text, `${JSON.stringify(part)} is not name=value`);
    const name = part.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw bad(text, `the value of ${name} is not valid percent-encoding`);
    }
    if (name === 'pin-value' || name === 'pin-source') {
      throw bad(
        text,
        'a PIN never goes in a keystore spec: set COMMONS_SYNC_PKCS11_PIN or answer the prompt',
      );
    }
    if (!known.has(name)) throw bad(text, `unknown attribute ${JSON.stringify(name)}`);
    if (out.has(name)) throw bad(text, `${name} is given twice`);
    out.set(name, value);
  }
  return out;
}

const ALIASES: Readonly<Record<string, string>> = { 'module-path': 'module', object: 'key' };

function unalias(text: string, attrs: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of attrs) {
    const canonical = ALIASES[name] ?? name;
    if (out.has(canonical)) throw bad(text, `${canonical} is given twice (also as ${name})`);
    out.set(canonical, value);
  }
  return out;
}

function keyLabel(text: string, value: string | undefined): { key?: string } {
  if (value === undefined) return {};
  try {
    return { key: checkLabel(value) };
  } catch (error) {
    throw bad(text, (error as Error).message);
  }
}

export function parseKeystoreSpec(text: string): KeystoreSpec {
  if (typeof text !== 'string' || text === '') throw bad(String(text), 'empty');
  if (text.length > MAX_SPEC_LENGTH) throw bad(text, `longer than ${MAX_SPEC_LENGTH} characters`);
  if (text.startsWith('pkcs11:')) {
    const attrs = unalias(
      text,
      attributes(
        text,
        text.slice('pkcs11:'.length),
        new Set(['module', 'module-path', 'token', 'key', 'object']),
      ),
    );
    const module = attrs.get('module');
    const token = attrs.get('token');
    if (module === undefined || module === '')
      throw bad(text, 'module=PATH of the PKCS#11 library is required');
    if (token === undefined || token === '') throw bad(text, 'token=LABEL is required');
    return { kind: 'pkcs11', module, token, ...keyLabel(text, attrs.get('key')) };
  }
  const body = text.startsWith('vault:') ? text.slice('vault:'.length) : text;
  if (/^[a-z0-9+.-]+:/i.test(body) && !text.startsWith('vault:')) {
    throw bad(text, 'unknown keystore kind (vault:PATH or pkcs11:...)');
  }
  const semi = body.indexOf(';');
  const path = semi < 0 ? body : body.slice(0, semi);
  if (path === '') throw bad(text, 'the vault path is empty');
  const attrs =
    semi < 0 ? new Map<string, string>() : attributes(text, body.slice(semi + 1), new Set(['key']));
  return { kind: 'vault', path, ...keyLabel(text, attrs.get('key')) };
}

/** Percent-encodes only what would end or split an attribute value. */
function encodeValue(value: string): string {
  return value.replace(
    /[%;?&=\s]/g,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`,
  );
}

/** The canonical text of a spec (what `parseKeystoreSpec` reads back to the same spec). */
export function formatKeystoreSpec(spec: KeystoreSpec): string {
  const key = spec.key === undefined ? '' : `;key=${spec.key}`;
  if (spec.kind === 'vault') return `vault:${spec.path}${key}`;
  return `pkcs11:module=${encodeValue(spec.module)};token=${encodeValue(spec.token)}${key}`;
}

/** The same spec with `key` set (an explicit label wins over one already there). */
export function withKey(spec: KeystoreSpec, key: string | undefined): KeystoreSpec {
  return key === undefined ? spec : { ...spec, key };
}
