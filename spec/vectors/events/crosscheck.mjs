// Independent check of the event vectors: a second, minimal implementation of
// spec/PROTOCOL.md written against other libraries, sharing no code with packages/node.
//
//   CBOR      cbor2 (core deterministic encoding options), re-encoding must give the same bytes
//   did:key   bs58
//   Ed25519   @noble/curves ed25519.verify with { zip215: true }
//   SHA-256   node:crypto
//
//   JSON      its own reader of §3.4 (a string-level recursive descent over the text that a fatal
//             WHATWG UTF-8 decoder made of the bytes; numbers as exact decimals with BigInt)
//   batches   its own splitter of §3.5 (a forward state machine over the bytes)
//
// It recomputes every derived field (body bytes, id, signing input, signature verdicts, the JSON
// form) and the final verdict of every form, and prints any disagreement. `npm test` runs it
// with the libraries from the repository's devDependencies; by hand:
//
//   CROSSCHECK_DEPS=/path/to/repo node spec/vectors/events/crosscheck.mjs    (DEBUG=1: print each rejection)
//
// (or any folder where `npm install cbor2@2.3.0 @noble/curves@2.4.0 bs58@6` was run).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const deps = createRequire(join(process.env.CROSSCHECK_DEPS ?? process.cwd(), 'noop.js'));
const load = (name) => import(pathToFileURL(deps.resolve(name)).href);
const cbor = await load('cbor2');
const { ed25519 } = await load('@noble/curves/ed25519.js');
const bs58mod = await load('bs58');
const bs58 = bs58mod.default?.default ?? bs58mod.default;

const DIR = dirname(fileURLToPath(import.meta.url));
const hex = (b) => Buffer.from(b).toString('hex');
const sha256 = (b) => createHash('sha256').update(b).digest();
const TAG = Buffer.from('commons-sync/event-signature/v1\0', 'ascii');
const MAX_SAFE = 2 ** 53 - 1;
const P = 2n ** 255n - 19n;

class Reject extends Error {
  constructor(code, why) {
    super(`${code}: ${why}`);
    this.code = code;
  }
}
const no = (code, why) => {
  throw new Reject(code, why);
};

// ---------------------------------------------------------------------------- CBOR profile

const DECODE = {
  cde: true, // preferred (shortest) serialization, sorted keys, no streaming
  rejectDuplicateKeys: true,
  rejectFloats: true,
  rejectSimple: true,
  rejectUndefined: true,
  rejectBigInts: true,
  preferMap: true, // keep the key types, so that non-text keys show
  tags: new Map(), // leave tags undecoded so that the walk sees them
};

/** Walks a cbor2 value: the data model and the limits of §3/§6; returns our plain value. */
function profile(v, depth) {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) no('ERR_MALFORMED', `number ${v}`);
    return v;
  }
  if (typeof v === 'string') {
    if (Buffer.byteLength(v) > 16384) no('ERR_TOO_LARGE', 'text');
    return v;
  }
  if (v instanceof Uint8Array) {
    if (v.length > 64) no('ERR_TOO_LARGE', 'bytes');
    return new Uint8Array(v);
  }
  if (Array.isArray(v) || v instanceof Map) {
    if (depth + 1 > 17) no('ERR_TOO_DEEP', 'depth');
    if ((Array.isArray(v) ? v.length : v.size) > 4096) no('ERR_TOO_LARGE', 'entries');
    if (Array.isArray(v)) return v.map((x) => profile(x, depth + 1));
    const out = Object.create(null);
    for (const [k, x] of v) {
      if (typeof k !== 'string') no('ERR_MALFORMED', 'non-text key');
      profile(k, depth + 1);
      out[k] = profile(x, depth + 1);
    }
    return out;
  }
  return no('ERR_MALFORMED', `not in the data model: ${Object.prototype.toString.call(v)}`);
}

function decodeStrict(bytes) {
  if (bytes.length > 65536) no('ERR_TOO_LARGE', 'event size');
  let value;
  try {
    value = cbor.decode(bytes, DECODE);
  } catch (e) {
    if (/depth/i.test(String(e))) no('ERR_TOO_DEEP', String(e));
    no('ERR_MALFORMED', String(e));
  }
  const plain = profile(value, 0);
  const again = cbor.encode(plain, { cde: true });
  if (hex(again) !== hex(bytes)) no('ERR_MALFORMED', 'not the deterministic encoding');
  return plain;
}

// ---------------------------------------------------------------------------- did:key, schema

function parseDid(did) {
  if (typeof did !== 'string' || !did.startsWith('did:key:z')) no('ERR_BAD_DID', did);
  let raw;
  try {
    raw = bs58.decode(did.slice(9));
  } catch {
    no('ERR_BAD_DID', 'base58');
  }
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) no('ERR_BAD_DID', 'multicodec');
  if (`did:key:z${bs58.encode(raw)}` !== did) no('ERR_BAD_DID', 'not canonical');
  const key = raw.slice(2);
  const y = BigInt(`0x${hex(Buffer.from(key).reverse())}`) & ((1n << 255n) - 1n);
  if (y >= P) no('ERR_BAD_DID', 'y >= p');
  try {
    if (ed25519.Point.fromBytes(key, true).isSmallOrder()) no('ERR_BAD_DID', 'small order');
  } catch (e) {
    if (e instanceof Reject) throw e; // a key that is not a point is allowed (cannot verify)
  }
  return key;
}

/** A did:cs (spec/IDENTITY.md §2): did:cs:z + base58btc(0x12 0x20 || 32 bytes), one spelling. */
function parseDidCs(did) {
  let raw;
  try {
    raw = bs58.decode(did.slice(8));
  } catch {
    no('ERR_BAD_DID', 'base58');
  }
  if (!did.startsWith('did:cs:z') || raw.length !== 34 || raw[0] !== 0x12 || raw[1] !== 0x20)
    no('ERR_BAD_DID', 'not a sha2-256 multihash');
  if (`did:cs:z${bs58.encode(raw)}` !== did) no('ERR_BAD_DID', 'not canonical');
  return raw.slice(2);
}

const uint = (x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
function noBytes(v) {
  if (v instanceof Uint8Array) no('ERR_BAD_FIELD', 'bytes in payload');
  if (Array.isArray(v)) v.forEach(noBytes);
  else if (v && typeof v === 'object') Object.values(v).forEach(noBytes);
}

function schema(e) {
  if (!e || typeof e !== 'object' || Array.isArray(e) || e instanceof Uint8Array)
    no('ERR_MALFORMED', 'not a map');
  if (e.v === undefined || !uint(e.v)) no('ERR_BAD_FIELD', 'v');
  if (e.v !== 1) no('ERR_UNSUPPORTED_VERSION', 'v');
  if (typeof e.kind !== 'string') no('ERR_BAD_FIELD', 'kind');
  if (Buffer.byteLength(e.kind) > 64) no('ERR_TOO_LARGE', 'kind');
  if (!/^[\x21-\x7e]+$/.test(e.kind)) no('ERR_BAD_FIELD', 'kind chars');
  if (typeof e.author !== 'string') no('ERR_BAD_FIELD', 'author');
  const identity = e.author.startsWith('did:cs:');
  if (identity) parseDidCs(e.author);
  else parseDid(e.author);
  // key_state: exactly with a did:cs author, 32 bytes (PROTOCOL.md §2.1, IDENTITY.md §8)
  if (identity !== (e.key_state !== undefined)) no('ERR_BAD_FIELD', 'key_state presence');
  if (identity && !(e.key_state instanceof Uint8Array && e.key_state.length === 32))
    no('ERR_BAD_FIELD', 'key_state');
  if (!uint(e.created_at) || !uint(e.expires_at)) no('ERR_BAD_FIELD', 'times');
  if (e.expires_at <= e.created_at) no('ERR_BAD_FIELD', 'expires_at <= created_at');
  if (!(e.nonce instanceof Uint8Array) || e.nonce.length < 16 || e.nonce.length > 32)
    no('ERR_BAD_FIELD', 'nonce');
  if (!('payload' in e)) no('ERR_BAD_FIELD', 'payload');
  noBytes(e.payload);
  let policy = { threshold: 1, signers: [e.author] };
  if (identity && (e.threshold !== undefined || e.signers !== undefined))
    no('ERR_BAD_FIELD', 'a policy with a did:cs author');
  if ((e.threshold === undefined) !== (e.signers === undefined)) no('ERR_BAD_FIELD', 'policy half');
  if (e.threshold !== undefined) {
    if (!uint(e.threshold) || e.threshold < 1) no('ERR_BAD_FIELD', 'threshold');
    if (!Array.isArray(e.signers)) no('ERR_BAD_FIELD', 'signers');
    if (e.signers.length > 32) no('ERR_TOO_LARGE', 'signers');
    if (e.signers.length === 0) no('ERR_BAD_FIELD', 'signers empty');
    e.signers.forEach((s, i) => {
      if (typeof s !== 'string') no('ERR_BAD_FIELD', 'signer type');
      parseDid(s);
      if (i > 0 && Buffer.compare(Buffer.from(e.signers[i - 1]), Buffer.from(s)) >= 0)
        no('ERR_BAD_FIELD', 'order');
    });
    if (!e.signers.includes(e.author)) no('ERR_BAD_FIELD', 'author not a signer');
    if (e.threshold > e.signers.length) no('ERR_BAD_FIELD', 'threshold > n');
    if (e.threshold === 1 && e.signers.length === 1)
      no('ERR_BAD_FIELD', 'default policy spelled out');
    policy = { threshold: e.threshold, signers: e.signers };
  }
  const sigs = e.signatures;
  if (!Array.isArray(sigs)) no('ERR_BAD_FIELD', 'signatures');
  if (sigs.length > 32) no('ERR_TOO_LARGE', 'signatures');
  if (sigs.length === 0) no('ERR_BAD_FIELD', 'no signatures');
  const keys = sigs.map((s) => {
    if (!s || typeof s !== 'object' || Array.isArray(s) || s instanceof Uint8Array)
      no('ERR_BAD_FIELD', 'entry');
    if (Object.keys(s).length !== 2 || s.signer === undefined || s.sig === undefined)
      no('ERR_BAD_FIELD', 'entry fields');
    if (typeof s.signer !== 'string') no('ERR_BAD_FIELD', 'signer');
    const key = parseDid(s.signer);
    if (!(s.sig instanceof Uint8Array) || s.sig.length !== 64) no('ERR_BAD_FIELD', 'sig');
    return key;
  });
  const known = [
    'v',
    'kind',
    'author',
    'key_state',
    'created_at',
    'expires_at',
    'nonce',
    'payload',
    'threshold',
    'signers',
    'signatures',
  ];
  for (const k of Object.keys(e)) if (!known.includes(k)) no('ERR_BAD_FIELD', `unknown ${k}`);
  return { policy, keys, identity };
}

// ---------------------------------------------------------------------------- verdict

function verdict(bytes, now, trusted, replay, derived) {
  const e = decodeStrict(bytes);
  const { policy, keys, identity } = schema(e);
  const { signatures, ...body } = e;
  const bodyBytes = cbor.encode(body, { cde: true });
  const id = sha256(bodyBytes);
  const message = Buffer.concat([TAG, id]);
  const verdicts = signatures.map((s, i) => {
    try {
      return ed25519.verify(s.sig, message, keys[i], { zip215: true });
    } catch {
      return false;
    }
  });
  Object.assign(derived, { body: hex(bodyBytes), id: hex(id), message: hex(message), verdicts });
  // the rules, in the order of §7 (the values above are derived first, for the comparison)
  if (now >= e.expires_at) no('ERR_EXPIRED', '');
  if (e.created_at > now + 300) no('ERR_NOT_YET_VALID', '');
  if (e.expires_at - e.created_at > 604800) no('ERR_LIFETIME_TOO_LONG', '');
  const previous = replay.get(`${e.author}/${hex(e.nonce)}`);
  if (previous !== undefined) {
    if (previous === hex(id)) return { outcome: 'duplicate', e, id };
    no('ERR_REPLAY', '');
  }
  if (verdicts.includes(false)) no('ERR_BAD_SIGNATURE', '');
  // step 7 for a did:cs author is the identity verdict: these vectors hold no key event
  if (identity) no('ERR_KEL_UNKNOWN_IDENTITY', '');
  const signed = new Set(signatures.map((s) => s.signer).filter((s) => policy.signers.includes(s)));
  if (signed.size < policy.threshold) no('ERR_THRESHOLD_NOT_MET', '');
  if (!signed.has(e.author)) no('ERR_MISSING_AUTHOR_SIGNATURE', '');
  if (trusted && !trusted.includes(e.author)) no('ERR_UNTRUSTED_AUTHOR', '');
  return { outcome: 'accepted', e, id };
}

/** The JSON form of §3.4, built independently from the decoded CBOR. */
function jsonForm(e) {
  const out = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'nonce' || k === 'key_state') out[k] = hex(v);
    else if (k === 'signatures') out[k] = v.map((s) => ({ signer: s.signer, sig: hex(s.sig) }));
    else out[k] = v;
  }
  return out;
}
const canon = (v) =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canon(v[k])]),
      )
    : Array.isArray(v)
      ? v.map(canon)
      : v;

// ---------------------------------------------------------------------------- JSON form

/** A small recursive-descent JSON reader that refuses duplicate member names. */
function readJson(text) {
  let i = 0;
  const ws = () => {
    while (/[ \t\n\r]/.test(text[i] ?? '')) i++;
  };
  const str = () => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) no('ERR_MALFORMED', 'string');
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out = {};
      const seen = new Set();
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        const k = str();
        if (seen.has(k)) no('ERR_MALFORMED', `duplicate ${k}`);
        seen.add(k);
        ws();
        if (text[i++] !== ':') no('ERR_MALFORMED', ':');
        Object.defineProperty(out, k, {
          value: value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ',') i++;
        else if (text[i++] === '}') return out;
        else no('ERR_MALFORMED', 'object');
      }
    }
    if (c === '[') {
      i++;
      const out = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i++] === ']') return out;
        else no('ERR_MALFORMED', 'array');
      }
    }
    if (c === '"') return str();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      text.slice(i, i + 1100),
    );
    if (!m) no('ERR_MALFORMED', 'token');
    i += m[0].length;
    if (m[0] === 'true' || m[0] === 'false' || m[0] === 'null') return JSON.parse(m[0]);
    if (/^[-\d.eE+]/.test(text[i] ?? '')) no('ERR_MALFORMED', 'number too long to check here');
    return exactNumber(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) no('ERR_MALFORMED', 'trailing');
  return v;
}

/**
 * A JSON number by its exact decimal value (§3.4): a safe integer, or ERR_MALFORMED. BigInt
 * arithmetic on the digits; a nonzero value with an exponent beyond ±1000 is out of range or
 * not an integer either way (the texts here are short).
 */
function exactNumber(token) {
  const [, sign, int, frac = '', exp = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(
    token,
  );
  const mantissa = BigInt(int + frac);
  if (mantissa === 0n) return 0;
  const scale = Number(exp) - frac.length;
  if (!(Math.abs(scale) <= 1000)) no('ERR_MALFORMED', `number ${token} out of range`);
  let value;
  if (scale >= 0) value = mantissa * 10n ** BigInt(scale);
  else {
    const d = 10n ** BigInt(-scale);
    if (mantissa % d !== 0n) no('ERR_MALFORMED', `number ${token} is not an integer`);
    value = mantissa / d;
  }
  if (value > BigInt(MAX_SAFE)) no('ERR_MALFORMED', `number ${token} out of range`);
  return Number(sign === '-' ? -value : value);
}

/** JSON value -> the CBOR data model (§3.4): hex for nonce, key_state and sig, integers only. */
function fromJson(v, path, depth) {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) no('ERR_MALFORMED', `number ${v}`);
    return v === 0 ? 0 : v;
  }
  if (typeof v === 'string') {
    if (!v.isWellFormed()) no('ERR_MALFORMED', 'lone surrogate');
    if (path === 'nonce' || path === 'key_state' || path === 'sig') {
      if (Buffer.byteLength(v) > 128) no('ERR_TOO_LARGE', 'hex for more than 64 bytes');
      if (!/^(?:[0-9a-f]{2})*$/.test(v)) no('ERR_MALFORMED', 'hex');
      return new Uint8Array(Buffer.from(v, 'hex'));
    }
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  if (depth + 1 > 17) no('ERR_TOO_DEEP', 'depth');
  if (Array.isArray(v))
    return v.map((x) => fromJson(x, path === 'signatures' ? 'entry' : '', depth + 1));
  const out = new Map();
  for (const [k, x] of Object.entries(v)) {
    if (!k.isWellFormed()) no('ERR_MALFORMED', 'lone surrogate key');
    const child = depth === 0 ? k : path === 'entry' && k === 'sig' ? 'sig' : '';
    out.set(k, fromJson(x, child, depth + 1));
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a BOM stays a character

/** The verdict on the bytes of one event's JSON text (§3.4), with a replay map as in `verdict`. */
function jsonVerdict(bytes, now, trusted, replay = new Map()) {
  try {
    if (bytes.length > 524288) no('ERR_TOO_LARGE', 'JSON text over 524,288 bytes');
    let text;
    try {
      text = utf8.decode(bytes);
    } catch {
      no('ERR_MALFORMED', 'not UTF-8');
    }
    if (!/^[ \t\n\r]*\{/.test(text)) no('ERR_MALFORMED', 'not an object');
    const value = fromJson(readJson(text), '', 0);
    if (!(value instanceof Map)) no('ERR_MALFORMED', 'not an object');
    const encoded = cbor.encode(value, { cde: true });
    const result = verdict(encoded, now, trusted, replay, {});
    if (result.outcome === 'accepted')
      replay.set(`${result.e.author}/${hex(result.e.nonce)}`, hex(result.id));
    return result.outcome;
  } catch (err) {
    if (!(err instanceof Reject)) throw err;
    if (process.env.DEBUG) console.log('json', err.message);
    return err.code;
  }
}

// ---------------------------------------------------------------------------- batch bodies (§3.5)

/** The elements of a body as byte ranges, or null when it is refused whole; `framed` false when badly framed. */
function splitBody(body) {
  const ws = (b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  let i = 0;
  while (i < body.length && ws(body[i])) i++;
  if (body[i] === 0x7b) return { single: true, framed: true, elements: [[0, body.length]] };
  if (body[i] !== 0x5b) return null;
  const elements = [];
  let start = i + 1;
  let depth = 1;
  let inString = false;
  let closedAt = -1;
  for (i = start; i < body.length; i++) {
    const b = body[i];
    if (inString) {
      if (b === 0x5c)
        i++; // the escaped byte cannot end the string
      else if (b === 0x22) inString = false;
      continue;
    }
    if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) depth++;
    else if (b === 0x5d || b === 0x7d) {
      depth--;
      if (depth === 0) {
        closedAt = i;
        break;
      }
    } else if (b === 0x2c && depth === 1) {
      elements.push([start, i]);
      start = i + 1;
    }
  }
  if (closedAt < 0) {
    elements.push([start, body.length]);
    return { single: false, framed: false, elements };
  }
  const inside = body.subarray(start, closedAt);
  const emptyArray = elements.length === 0 && body[closedAt] === 0x5d && inside.every(ws);
  if (!emptyArray) elements.push([start, closedAt]);
  const framed = body[closedAt] === 0x5d && body.subarray(closedAt + 1).every(ws);
  return { single: false, framed, elements };
}

function batchVerdicts(body, now) {
  const split = splitBody(body);
  if (split === null) return { verdicts: 'ERR_MALFORMED' };
  const replay = new Map();
  const verdicts = split.elements.map(([a, b]) =>
    split.framed ? jsonVerdict(body.subarray(a, b), now, undefined, replay) : 'ERR_MALFORMED',
  );
  return { single: split.single, verdicts };
}

let checked = 0;
let problems = 0;
const failed = new Set(); // vectors (or steps) with at least one mismatch
const problem = (where, what) => {
  problems++;
  failed.add(where);
  console.log(`MISMATCH ${where}: ${what}`);
};

for (const file of readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const doc = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
  for (const v of doc.batches ?? []) {
    const body =
      v.body_hex !== undefined ? Buffer.from(v.body_hex, 'hex') : Buffer.from(v.body, 'utf8');
    const got = batchVerdicts(body, v.now);
    checked++;
    if (JSON.stringify(got.verdicts) !== JSON.stringify(v.expected)) {
      problem(
        `${file} ${v.name}`,
        `expected ${JSON.stringify(v.expected)}, independent ${JSON.stringify(got.verdicts)}`,
      );
    } else if (typeof v.expected !== 'string' && (got.single === true) !== (v.single === true)) {
      problem(`${file} ${v.name}`, 'single');
    }
  }
  for (const v of doc.vectors ?? []) {
    const replay = new Map();
    for (const [i, s] of (v.steps ?? [v]).entries()) {
      const where = `${file} ${v.name}${v.steps ? ` step ${i}` : ''}`;
      // every JSON form from its bytes (a `json` value through its one compact text)
      for (const [form, text] of [
        ['json', s.json === undefined ? undefined : Buffer.from(JSON.stringify(s.json), 'utf8')],
        ['json_text', s.json_text === undefined ? undefined : Buffer.from(s.json_text, 'utf8')],
        [
          'json_text_hex',
          s.json_text_hex === undefined ? undefined : Buffer.from(s.json_text_hex, 'hex'),
        ],
      ]) {
        if (text === undefined) continue;
        const got = jsonVerdict(text, s.now, s.trusted_authors, new Map(replay));
        if (got !== s.expected)
          problem(where, `${form}: expected ${s.expected}, independent ${got}`);
      }
      if (s.cbor === undefined) {
        checked++;
        continue;
      }
      const derived = {};
      let got;
      let result;
      try {
        result = verdict(Buffer.from(s.cbor, 'hex'), s.now, s.trusted_authors, replay, derived);
        got = result.outcome;
      } catch (err) {
        if (!(err instanceof Reject)) throw err;
        got = err.code;
        if (process.env.DEBUG) console.log(where, err.message);
      }
      checked++;
      if (got !== s.expected) problem(where, `expected ${s.expected}, independent ${got}`);
      if (s.body_cbor !== undefined) {
        if (derived.body !== s.body_cbor) problem(where, 'body_cbor');
        if (derived.id !== s.id) problem(where, 'id');
        if (derived.message !== s.signing_input) problem(where, 'signing_input');
        if (JSON.stringify(derived.verdicts) !== JSON.stringify(s.signature_verdicts))
          problem(where, 'verdicts');
      }
      if (s.json !== undefined && result) {
        if (JSON.stringify(canon(jsonForm(result.e))) !== JSON.stringify(canon(s.json)))
          problem(where, 'json form');
      }
      if (s.json_text !== undefined && result) {
        // the text read by the independent reader, in the data model, against the CBOR
        const read = fromJson(readJson(s.json_text), '', 0);
        if (hex(cbor.encode(read, { cde: true })) !== hex(Buffer.from(s.cbor, 'hex')))
          problem(where, 'json_text form');
      }
      if (got === 'accepted')
        replay.set(`${result.e.author}/${hex(result.e.nonce)}`, hex(result.id));
    }
  }
}
console.log(`${checked} vectors checked, ${problems} mismatches`);
console.log(`checks: ${checked - failed.size} passed, ${failed.size} failed`);
process.exit(problems === 0 ? 0 : 1);
