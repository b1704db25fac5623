/**
 * The stateless half of validation (spec/PROTOCOL.md §7 steps 1-4 and 6-8) for a chunk of a
 * batch: decode, limits, version, schema, time, id, every signature of the chunk verified as one
 * batch, M-of-N policy and trust. It needs no storage, so it runs on the worker threads; the
 * node's main thread keeps only what needs the database (step 5, replay) and the commit.
 *
 * A failure at steps 1-4 settles the event. A failure at steps 6-8 is carried as `late`: step 5
 * comes first in the spec, so a replayed event is reported as a replay even if its signature is
 * also bad, and the main thread decides.
 */
import type { Core } from '@commons-sync/bindings';

import type { ResolvedAuthor } from '../identity/index.js';
import {
  checkTime,
  checkTrust,
  decodeEvent,
  type EventCbor,
  evaluatePolicy,
  type ReasonCode,
  readEventCbor,
  SIGNATURE_DOMAIN,
  type TimeRules,
  type TrustPolicy,
  toHex,
  type VerifiedEventFields,
} from '../protocol/index.js';
import { TaskBuilder, unpackTask } from './signature-task.js';

export interface PrepareContext {
  /** Unix seconds. */
  readonly now: number;
  readonly timeRules: TimeRules;
  readonly trust: TrustPolicy;
  /**
   * What the spans hold: events' JSON texts (clients, the default) or their canonical CBOR
   * (peers, spec/SYNC.md §4.1), each read by the one strict decoder for its form.
   */
  readonly encoding?: 'json' | 'cbor';
}

/**
 * A chunk for a worker: the events' JSON texts as received, `data[spans[2i], spans[2i+1])`
 * (both arrays own their buffers, which are transferred, not cloned).
 */
export interface PrepareTask {
  readonly data: Uint8Array;
  readonly spans: Uint32Array;
  readonly ctx: PrepareContext;
}

export interface Rejected {
  readonly ok: false;
  readonly reason: ReasonCode;
  readonly detail: string;
  readonly id?: Uint8Array;
}

/**
 * An event through steps 1-4: what storage will need if it is accepted, with the verdict of
 * steps 6-8 (`late`) attached.
 */
export interface Prepared extends Omit<VerifiedEventFields, 'idHex'> {
  readonly ok: true;
  readonly late?: { readonly reason: ReasonCode; readonly detail: string } | undefined;
  /**
   * For an author that is an identity (did:cs): what step 7, the identity verdict, reads; it
   * runs on the main thread (pipeline.ts), where the key event logs are. Events that name the
   * same key state with the same author and signers share one claim (and their `author`
   * string), within a chunk and from one chunk to the next ({@link unpackChunk}), so the
   * verdict's lookups run once per claim and key event log version, not once per event.
   */
  readonly identity?: IdentityClaim | undefined;
}

/** An identity's event's claim: its author, the key state it names and who signed it. */
export interface IdentityClaim {
  /** The did:cs. */
  readonly author: string;
  /** 64 lowercase hex digits. */
  readonly keyState: string;
  readonly signers: readonly string[];
  /**
   * The identity verdict's lookups for this claim (identity-stage.ts), kept while the key event
   * logs are as they were made under (the registry's version).
   */
  resolved?: { readonly version: number; readonly lookups: ResolvedAuthor } | undefined;
}

export type PreparedEvent = Prepared | Rejected;

export interface PreparedChunk {
  readonly events: PreparedEvent[];
  /** Milliseconds spent decoding and checking, and verifying signatures. */
  readonly parseMs: number;
  readonly verifyMs: number;
}

/**
 * A prepared chunk as it crosses back from a worker: one transferred ArrayBuffer and the
 * strings, instead of one cloned object (and three byte arrays, each with its own buffer) per
 * event. `buffer` holds a record of {@link RECORD} float64 per event, then 32 bytes of id per
 * event, then the bytes the records point into (each accepted event's canonical CBOR and its
 * nonce). A record names its strings by index: its author (a did:key; an identity's event's is
 * its claim's) and kind in `texts`, the reason and detail of a rejection or a late verdict in
 * `messages`.
 */
export interface PackedChunk {
  readonly buffer: ArrayBuffer;
  readonly count: number;
  /**
   * The authors and kinds of the chunk's read events, each once: a chunk of 1,000 events by
   * 200 authors of one kind sends 201 strings, not 2,000 (each string costs the worker to write
   * and the main thread to read, and the main thread's maps then hash one string per author).
   */
  readonly texts: string[];
  /** Reason, detail, reason, detail...: of each rejected event and each late verdict. */
  readonly messages: string[];
  /**
   * The chunk's identity claims, each once: the key state (64 hex digits), the author (a
   * did:cs), then each signer, separated by spaces (no did holds one). An event by an identity
   * names its claim by index in its record; the events of a chunk by 200 identities cross as
   * 200 strings, not one each.
   */
  readonly claims: string[];
  readonly parseMs: number;
  readonly verifyMs: number;
}

// record fields
const STATUS = 0; // one of the statuses below
const ENCODED_START = 1;
const ENCODED_END = 2;
const NONCE_START = 3;
const NONCE_END = 4;
const CREATED_AT = 5;
const EXPIRES_AT = 6;
const CLAIM = 7; // index in `claims`, or -1: not an identity's event
const AUTHOR = 8; // index in `texts`, or -1: an identity's event (its claim's) or rejected
const KIND = 9; // index in `texts`
const MESSAGE = 10; // index of the reason in `messages` (the detail follows), or -1
const RECORD = 11;
// statuses
const REJECTED = 0;
const REJECTED_WITH_ID = 1;
const READ = 2;
const READ_LATE = 3;

/** A byte buffer that doubles when it fills. */
class ByteSink {
  bytes: Uint8Array;
  length = 0;
  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(64, capacity));
  }
  /** Appends `src[start, end)`; returns where it starts. */
  append(src: Uint8Array, start: number, end: number): number {
    const at = this.length;
    const n = end - start;
    if (at + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.bytes.length, at + n));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    this.bytes.set(start === 0 && end === src.length ? src : src.subarray(start, end), at);
    this.length = at + n;
    return at;
  }
}

/** A chunk's texts, each once ({@link PackedChunk.texts}). */
class TextTable {
  readonly texts: string[] = [];
  private readonly index = new Map<string, number>();

  indexOf(text: string): number {
    let at = this.index.get(text);
    if (at === undefined) {
      at = this.texts.length;
      this.texts.push(text);
      this.index.set(text, at);
    }
    return at;
  }
}

/** Event `index`'s rejection or late verdict, into `messages` and its record. */
function settle(
  records: Float64Array,
  messages: string[],
  index: number,
  status: number,
  verdict: { readonly reason: string; readonly detail: string },
): void {
  records[RECORD * index + STATUS] = status;
  records[RECORD * index + MESSAGE] = messages.length;
  messages.push(verdict.reason, verdict.detail);
}

/**
 * An identity claim as the worker keeps it: what it names, and its text (PackedChunk.claims).
 * (A class: claims are kept, and made in the reader's hot loop; an object literal's
 * allocation site there could be pretenured, which deoptimizes the loop: protocol/reasons.ts.)
 */
class KnownClaim {
  declare readonly keyState: Uint8Array;
  declare readonly author: string;
  declare readonly signers: readonly string[];
  declare readonly packed: string;
  constructor(keyState: Uint8Array, author: string, signers: readonly string[], packed: string) {
    this.keyState = keyState;
    this.author = author;
    this.signers = signers;
    this.packed = packed;
  }
}

function isClaim(
  claim: KnownClaim,
  keyState: Uint8Array,
  author: string,
  signatures: readonly { readonly signer: string }[],
): boolean {
  if (claim.author !== author) return false;
  const k = claim.keyState;
  // the JSON reader gives the same array for the same key state (json-reader.ts): usually
  // no byte is compared
  if (k !== keyState) {
    if (k.length !== keyState.length) return false;
    for (let i = 0; i < k.length; i++) if (k[i] !== keyState[i]) return false;
  }
  const s = claim.signers;
  if (s.length !== signatures.length) return false;
  for (let i = 0; i < s.length; i++)
    if (s[i] !== (signatures[i] as { signer: string }).signer) return false;
  return true;
}

/**
 * Claims seen in earlier chunks, so that a claim's text (its key state in hex, its author and
 * signers joined) is written once, not once per chunk: an identity's events keep naming the
 * same claim from one request to the next. One claim per slot, by the same number as
 * {@link ClaimTable}'s; a claim made to share another's slot only replaces it.
 */
const KNOWN_CLAIM_SLOTS = 4096;
const knownClaims = new Array<KnownClaim | undefined>(KNOWN_CLAIM_SLOTS).fill(undefined);

/**
 * A chunk's identity claims, each once (see {@link PackedChunk.claims}). A claim is found
 * again by a number made of its key state's first bytes: no string is built or hashed per
 * event. Only the last claim under each number is compared, so key states made to share their
 * first bytes cost a claim each, never a search.
 */
class ClaimTable {
  readonly packed: string[] = [];
  private readonly claims: KnownClaim[] = [];
  private readonly last = new Map<number, number>();

  indexOf(
    keyState: Uint8Array,
    author: string,
    signatures: readonly { readonly signer: string }[],
  ): number {
    // 30 bits: a small integer, cheap to hash
    const key =
      (keyState[0] as number) |
      ((keyState[1] as number) << 8) |
      ((keyState[2] as number) << 16) |
      (((keyState[3] as number) & 0x3f) << 24);
    const at = this.last.get(key);
    if (at !== undefined && isClaim(this.claims[at] as KnownClaim, keyState, author, signatures))
      return at;
    // new to this chunk: known from an earlier one, or written now
    const slot = key & (KNOWN_CLAIM_SLOTS - 1);
    let claim = knownClaims[slot];
    if (claim === undefined || !isClaim(claim, keyState, author, signatures)) {
      const signers = signatures.map((s) => s.signer);
      // (no did holds a space)
      let packed = `${toHex(keyState)} ${author}`;
      for (const signer of signers) packed += ` ${signer}`;
      // (the event's key state is never a view of the task's bytes: the readers copy it, or
      // keep one copy per key state)
      claim = new KnownClaim(keyState, author, signers, packed);
      knownClaims[slot] = claim;
    }
    const index = this.claims.length;
    this.claims.push(claim);
    this.packed.push(claim.packed);
    this.last.set(key, index);
    return index;
  }
}

/**
 * Steps 1-4 and 6-8 for the events whose texts (JSON, or CBOR under `ctx.encoding`) are `data[spans[2i], spans[2i+1])`, in the
 * form that crosses back from a worker ({@link unpackChunk} reads it).
 */
export function preparePacked(
  core: Core,
  data: Uint8Array,
  spans: Uint32Array,
  ctx: PrepareContext,
): PackedChunk {
  const t0 = performance.now();
  const count = spans.length >>> 1;
  const records = new Float64Array(RECORD * count).fill(-1);
  const messages: string[] = [];
  const texts = new TextTable();
  const claims = new ClaimTable();
  // The reader leaves each event's CBOR in its own buffer until the next read: it is copied
  // once into `out` (what crosses back), and its body once into `bodies` (what is hashed).
  // (sized for the usual chunk; a chunk of junk, however long, never makes them grow)
  const out = new ByteSink(Math.min(data.length, 1 << 20));
  const bodies = new ByteSink(Math.min(data.length, 1 << 20));
  const bodyEnds: number[] = [0];
  const read: {
    index: number;
    event: EventCbor['event'];
    signerKeys: readonly Uint8Array[];
  }[] = [];
  for (let index = 0; index < count; index++) {
    const start = spans[2 * index] as number;
    const end = spans[2 * index + 1] as number;
    // the strict reader of §3.4 (or the canonical CBOR decoder), on the bytes as received
    let event: EventCbor['event'];
    let signerKeys: readonly Uint8Array[];
    let cbor: Uint8Array;
    let bodyEnd = -1; // the JSON reader's CBOR: the body is its prefix under a smaller head
    let body: Uint8Array | undefined; // the CBOR decoder's: the body as it gives it
    if (ctx.encoding === 'cbor') {
      const result = decodeEvent(data.subarray(start, end));
      if (!result.ok) {
        settle(records, messages, index, REJECTED, result);
        continue;
      }
      ({ event, signerKeys, encoded: cbor, body } = result.value);
    } else {
      const result = readEventCbor(data, start, end);
      if (!result.ok) {
        settle(records, messages, index, REJECTED, result);
        continue;
      }
      ({ event, signerKeys, cbor, bodyEnd } = result.value);
    }
    const rec = RECORD * index;
    records[rec + STATUS] = READ;
    const at = out.append(cbor, 0, cbor.length);
    records[rec + ENCODED_START] = at;
    records[rec + ENCODED_END] = at + cbor.length;
    const nonceAt = out.append(event.nonce, 0, event.nonce.length);
    records[rec + NONCE_START] = nonceAt;
    records[rec + NONCE_END] = nonceAt + event.nonce.length;
    records[rec + CREATED_AT] = event.createdAt;
    records[rec + EXPIRES_AT] = event.expiresAt;
    records[rec + KIND] = texts.indexOf(event.kind);
    if (event.keyState === undefined) records[rec + AUTHOR] = texts.indexOf(event.author);
    else records[rec + CLAIM] = claims.indexOf(event.keyState, event.author, event.signatures);
    if (body !== undefined) bodies.append(body, 0, body.length);
    else {
      // the body: the event without its last key (§3.3: `signatures` sorts last), one entry fewer
      const bodyAt = bodies.append(cbor, 0, bodyEnd);
      (bodies.bytes[bodyAt] as number) -= 1; // 0xa8..0xab -> 0xa7..0xaa
    }
    bodyEnds.push(bodies.length);
    read.push({ index, event, signerKeys });
  }
  // every id of the chunk in one call into the core
  const ids = core.hashBatch('sha256', {
    data: bodies.bytes.subarray(0, bodies.length),
    offsets: Uint32Array.from(bodyEnds),
  });
  const live: {
    index: number;
    event: (typeof read)[number]['event'];
    j: number;
    first: number;
  }[] = [];
  let checks = 0;
  read.forEach(({ index, event }, j) => {
    const time = checkTime(event, ctx.now, ctx.timeRules);
    if (!time.ok) settle(records, messages, index, REJECTED_WITH_ID, time);
    else {
      live.push({ index, event, j, first: checks });
      checks += event.signatures.length;
    }
  });
  // every signature of the chunk as one packed batch: (key, domain ‖ id, sig)
  const messageBytes = SIGNATURE_DOMAIN.length + 32;
  const builder = new TaskBuilder(checks, checks * messageBytes);
  const message = new Uint8Array(messageBytes);
  message.set(SIGNATURE_DOMAIN);
  for (const { event, j } of live) {
    for (let k = 0; k < 32; k++) message[SIGNATURE_DOMAIN.length + k] = ids[32 * j + k] as number;
    const keys = read[j]?.signerKeys as readonly Uint8Array[];
    event.signatures.forEach((s, k) => {
      builder.add(keys[k] as Uint8Array, message, s.sig);
    });
  }
  const t1 = performance.now();
  const verdicts =
    checks > 0 ? core.ed25519VerifyBatchPacked(unpackTask(builder.task)) : new Uint8Array(0);
  const t2 = performance.now();
  for (const { index, event, first } of live) {
    const mine: boolean[] = [];
    for (let k = 0; k < event.signatures.length; k++) mine.push(verdicts[first + k] === 1);
    const policy = evaluatePolicy(event, mine);
    const trust = policy.ok ? checkTrust(event.author, ctx.trust) : policy;
    if (!trust.ok) settle(records, messages, index, READ_LATE, trust);
  }
  // one buffer: records, ids by event index, bytes
  const idsAt = 8 * RECORD * count;
  const bytesAt = idsAt + 32 * count;
  const buffer = new ArrayBuffer(bytesAt + out.length);
  new Float64Array(buffer, 0, RECORD * count).set(records);
  const all = new Uint8Array(buffer);
  read.forEach(({ index }, j) => {
    all.set(ids.subarray(32 * j, 32 * j + 32), idsAt + 32 * index);
  });
  all.set(out.bytes.subarray(0, out.length), bytesAt);
  return {
    buffer,
    count,
    texts: texts.texts,
    messages,
    claims: claims.packed,
    parseMs: t1 - t0 + (performance.now() - t2),
    verifyMs: t2 - t1,
  };
}

/**
 * The events of a {@link PackedChunk}; their byte arrays are views of its one buffer.
 */
export function unpackChunk(packed: PackedChunk): PreparedChunk {
  const { buffer, count, texts, messages } = packed;
  const records = new Float64Array(buffer, 0, RECORD * count);
  const all = new Uint8Array(buffer);
  const idsAt = 8 * RECORD * count;
  const bytesAt = idsAt + 32 * count;
  const claims = packed.claims.map(claimOf);
  const events = new Array<PreparedEvent>(count);
  for (let i = 0; i < count; i++) {
    const rec = RECORD * i;
    const status = records[rec + STATUS] as number;
    const m = records[rec + MESSAGE] as number;
    if (status === REJECTED) {
      events[i] = {
        ok: false,
        reason: messages[m] as ReasonCode,
        detail: messages[m + 1] as string,
      };
      continue;
    }
    // Views, freed with the chunk's other events (an event held past its batch gets its own
    // copy then: pipeline/identity-stage.ts).
    const view = (s: number, e: number) => all.subarray(s, e);
    const id = view(idsAt + 32 * i, idsAt + 32 * i + 32);
    if (status === REJECTED_WITH_ID) {
      events[i] = {
        ok: false,
        reason: messages[m] as ReasonCode,
        detail: messages[m + 1] as string,
        id,
      };
      continue;
    }
    const at = (field: number) => bytesAt + (records[rec + field] as number);
    const c = records[rec + CLAIM] as number;
    const claim = c < 0 ? undefined : claims[c];
    // one shape for every read event (`late` and `identity` undefined when absent), so that
    // the main thread's code that reads them sees one
    const prepared: Prepared = {
      ok: true,
      id,
      author:
        claim === undefined ? (texts[records[rec + AUTHOR] as number] as string) : claim.author,
      kind: texts[records[rec + KIND] as number] as string,
      nonce: view(at(NONCE_START), at(NONCE_END)),
      createdAt: records[rec + CREATED_AT] as number,
      expiresAt: records[rec + EXPIRES_AT] as number,
      encoded: view(at(ENCODED_START), at(ENCODED_END)),
      late:
        status === READ_LATE
          ? { reason: messages[m] as ReasonCode, detail: messages[m + 1] as string }
          : undefined,
      identity: claim,
    };
    events[i] = prepared;
  }
  return { events, parseMs: packed.parseMs, verifyMs: packed.verifyMs };
}

/**
 * A claim as {@link unpackChunk} gives it to every event naming it (with its author). A class,
 * as {@link KnownClaim} is, for the same reason.
 */
class UnpackedClaim implements IdentityClaim {
  declare readonly author: string;
  declare readonly keyState: string;
  declare readonly signers: readonly string[];
  declare resolved: IdentityClaim['resolved'];
  constructor(author: string, keyState: string, signers: readonly string[]) {
    this.author = author;
    this.keyState = keyState;
    this.signers = signers;
    this.resolved = undefined;
  }
}

/**
 * Claims unpacked from earlier chunks, by their text: an identity's events keep naming the same
 * claim from one request to the next, so its objects (and the identity verdict's lookups kept
 * on them, valid for one registry version) are made once, not once per chunk. Forgotten all
 * at once when this many are kept: a bound on memory, not on any verdict.
 */
export const UNPACKED_CLAIMS = 4096;
const unpackedClaims = new Map<string, UnpackedClaim>();

/** How many claim objects {@link unpackChunk} keeps now (for the tests of the bound). @internal */
export function unpackedClaimsKept(): number {
  return unpackedClaims.size;
}

/** A claim of {@link PackedChunk.claims}, read once for every event naming it. */
function claimOf(packed: string): UnpackedClaim {
  const known = unpackedClaims.get(packed);
  if (known !== undefined) return known;
  const [keyState, author, ...signers] = packed.split(' ') as [string, string, ...string[]];
  const claim = new UnpackedClaim(author, keyState, signers);
  if (unpackedClaims.size >= UNPACKED_CLAIMS) unpackedClaims.clear();
  unpackedClaims.set(packed, claim);
  return claim;
}

/** Steps 1-4 and 6-8 for the events whose texts (JSON, or CBOR under `ctx.encoding`) are `data[spans[2i], spans[2i+1])`. */
export function prepareChunk(
  core: Core,
  data: Uint8Array,
  spans: Uint32Array,
  ctx: PrepareContext,
): PreparedChunk {
  return unpackChunk(preparePacked(core, data, spans, ctx));
}
