// Independent check of the audit vectors: a second, minimal implementation of spec/AUDIT.md
// written from the spec alone, sharing no code with packages/node.
//
//   SHA-256   @noble/hashes (sha2.js)
//   Ed25519   @noble/curves ed25519.verify with { zip215: true }
//   did:key   its own base58btc decoder
//   entries, chain, RFC 6962 tree and proofs, checkpoints, rules, the client's proof check: here
//
// Usage, from the repository root (the libraries resolve from its node_modules):
//   node spec/vectors/audit/crosscheck.mjs
// Exits 1 and prints every disagreement, else prints how many checks agree.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';

const DIR = dirname(fileURLToPath(import.meta.url));
const load = (f) => JSON.parse(readFileSync(join(DIR, f), 'utf8'));
const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const cat = (...parts) => Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
const H = (b) => sha256(b);
const utf8 = (s) => new TextEncoder().encode(s);

let checks = 0;
const problems = [];
function agree(what, got, want) {
  checks++;
  if (JSON.stringify(got) !== JSON.stringify(want))
    problems.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// ---- §2 entries ---------------------------------------------------------------------------
const TYPES = { accept: 1, reject: 2, critical: 3, summary: 4, checkpoint: 5 };
const u64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
function encodeEntry(e) {
  const parts = [Uint8Array.of(e.format), u64(e.seq), u64(e.time), Uint8Array.of(TYPES[e.type])];
  parts.push(e.event_id === null ? Uint8Array.of(0) : cat(Uint8Array.of(32), unhex(e.event_id)));
  if (e.reason === null) parts.push(Uint8Array.of(0));
  else {
    const r = utf8(e.reason);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(r.length);
    parts.push(Uint8Array.of(1), len, r);
  }
  const d = utf8(e.detail);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(d.length);
  parts.push(len, d);
  return cat(...parts);
}
function decodeEntry(bytes) {
  const b = Buffer.from(bytes);
  let o = 0;
  const take = (n) => {
    if (o + n > b.length) throw new Error('truncated');
    const s = b.subarray(o, o + n);
    o += n;
    return s;
  };
  const int = () => {
    const v = take(8).readBigUInt64BE();
    if (v > 2n ** 53n - 1n) throw new Error('too big');
    return Number(v);
  };
  const format = take(1)[0];
  if (format !== 1 && format !== 2) throw new Error('format');
  const seq = int();
  const time = int();
  const code = take(1)[0];
  const type = Object.keys(TYPES).find((t) => TYPES[t] === code);
  if (type === undefined || (format === 1 && code > 3)) throw new Error('type');
  const idLen = take(1)[0];
  if (idLen !== 0 && idLen !== 32) throw new Error('id length');
  const event_id = idLen === 0 ? null : hex(take(32));
  const flag = take(1)[0];
  if (flag > 1) throw new Error('reason flag');
  const dec = new TextDecoder('utf-8', { fatal: true });
  const reason = flag === 0 ? null : dec.decode(take(take(2).readUInt16BE()));
  const detail = dec.decode(take(take(4).readUInt32BE()));
  if (o !== b.length) throw new Error('trailing bytes');
  return { format, seq, time, type, event_id, reason, detail };
}
const leafHash = (enc) => H(cat(Uint8Array.of(0), enc));

const entries = load('entries.json');
for (const c of entries.cases) {
  const enc = encodeEntry(c.entry);
  agree(`entries ${c.entry.type}/${c.entry.format} encoding`, hex(enc), c.encoding);
  agree(`entries ${c.entry.type}/${c.entry.format} leaf`, hex(leafHash(enc)), c.leaf_hash);
  agree(`entries ${c.entry.type}/${c.entry.format} decodes back`, decodeEntry(enc), c.entry);
}
for (const c of entries.invalid) {
  let refused = false;
  try {
    decodeEntry(unhex(c.encoding));
  } catch {
    refused = true;
  }
  agree(`entries invalid "${c.name}" refused`, refused, true);
}

// ---- §3 chain and tree (RFC 6962 / 9162, written out) ---------------------------------------
const node = (l, r) => H(cat(Uint8Array.of(1), l, r));
const split = (n) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
const mth = (ls) =>
  ls.length === 0
    ? H(new Uint8Array())
    : ls.length === 1
      ? ls[0]
      : node(mth(ls.slice(0, split(ls.length))), mth(ls.slice(split(ls.length))));
function path(m, ls) {
  if (ls.length <= 1) return [];
  const k = split(ls.length);
  return m < k
    ? [...path(m, ls.slice(0, k)), mth(ls.slice(k))]
    : [...path(m - k, ls.slice(k)), mth(ls.slice(0, k))];
}
function subproof(m, ls, b) {
  const n = ls.length;
  if (m === n) return b ? [] : [mth(ls)];
  const k = split(n);
  return m <= k
    ? [...subproof(m, ls.slice(0, k), b), mth(ls.slice(k))]
    : [...subproof(m - k, ls.slice(k), false), mth(ls.slice(0, k))];
}
const consistency = (m, ls) => (m === 0 || m === ls.length ? [] : subproof(m, ls, true));
// RFC 9162 §2.1.3.2
function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = node(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hex(r) === hex(root);
}
// RFC 9162 §2.1.4.2
function verifyConsistency(m, n, oldRoot, newRoot, proof) {
  if (m > n) return false;
  if (m === n) return proof.length === 0 && hex(oldRoot) === hex(newRoot);
  if (m === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const pow2 = (m & (m - 1)) === 0;
  const p = pow2 ? [oldRoot, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = p[0];
  let sr = p[0];
  for (const c of p.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else sr = node(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hex(fr) === hex(oldRoot) && hex(sr) === hex(newRoot);
}

const tree = load('tree.json');
const leaves = tree.entries.map((e) => leafHash(encodeEntry(e)));
agree('tree leaves', leaves.map(hex), tree.leaf_hashes);
let chain = new Uint8Array(32);
agree(
  'tree chain',
  leaves.map((l) => {
    chain = H(cat(chain, l));
    return hex(chain);
  }),
  tree.chain_hashes,
);
agree(
  'tree roots',
  tree.roots.map((_, n) => hex(mth(leaves.slice(0, n)))),
  tree.roots,
);
for (const c of tree.inclusion) {
  agree(
    `tree inclusion ${c.index}/${c.size}`,
    path(c.index, leaves.slice(0, c.size)).map(hex),
    c.path,
  );
  agree(
    `tree inclusion ${c.index}/${c.size} verifies`,
    verifyInclusion(
      c.index,
      c.size,
      leaves[c.index],
      c.path.map(unhex),
      mth(leaves.slice(0, c.size)),
    ),
    true,
  );
}
for (const c of tree.consistency) {
  agree(
    `tree consistency ${c.from}->${c.to}`,
    consistency(c.from, leaves.slice(0, c.to)).map(hex),
    c.proof,
  );
  agree(
    `tree consistency ${c.from}->${c.to} verifies`,
    verifyConsistency(
      c.from,
      c.to,
      mth(leaves.slice(0, c.from)),
      mth(leaves.slice(0, c.to)),
      c.proof.map(unhex),
    ),
    true,
  );
}

// ---- §5 checkpoints ------------------------------------------------------------------------
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function didKey(did) {
  if (!did.startsWith('did:key:z')) throw new Error('not a did:key');
  let n = 0n;
  for (const ch of did.slice('did:key:z'.length)) {
    const v = B58.indexOf(ch);
    if (v < 0) throw new Error('base58');
    n = n * 58n + BigInt(v);
  }
  const b = Buffer.from(n.toString(16).padStart(68, '0'), 'hex');
  if (b.length !== 34 || b[0] !== 0xed || b[1] !== 0x01) throw new Error('not an Ed25519 did:key');
  return Uint8Array.from(b.subarray(2));
}
function checkpointMessage(c, publicKey) {
  if ((c.version ?? 1) === 1)
    return cat(
      utf8('commons-sync/audit-checkpoint/v1'),
      u64(c.tree_size),
      unhex(c.root),
      u64(c.time),
      publicKey,
    );
  return cat(
    utf8('commons-sync/audit-checkpoint/v2'),
    u64(c.seq),
    u64(c.tree_size),
    unhex(c.root),
    u64(c.time),
    publicKey,
    unhex(c.prev),
  );
}
const checkpointHash = (c, publicKey) =>
  H(cat(checkpointMessage(c, publicKey), unhex(c.signature)));
function checkpointValid(c, did) {
  try {
    if (c.node !== did) return false;
    const key = didKey(did);
    return ed25519.verify(unhex(c.signature), checkpointMessage(c, key), key, { zip215: true });
  } catch {
    return false;
  }
}

const cpv = load('checkpoints.json');
const nodeKey = didKey(cpv.node.did);
agree('checkpoints key from DID', hex(nodeKey), cpv.node.public_key);
agree(
  'checkpoints key from seed',
  hex(ed25519.getPublicKey(unhex(cpv.node.seed))),
  cpv.node.public_key,
);
cpv.checkpoints.forEach((c, i) => {
  agree(`checkpoint ${c.seq} message`, hex(checkpointMessage(c, nodeKey)), c.message);
  agree(`checkpoint ${c.seq} root`, c.root, hex(mth(leaves.slice(0, c.tree_size))));
  agree(`checkpoint ${c.seq} signature`, checkpointValid(c, cpv.node.did), true);
  agree(`checkpoint ${c.seq} hash`, hex(checkpointHash(c, nodeKey)), c.hash);
  if (c.version === 2)
    agree(
      `checkpoint ${c.seq} prev`,
      c.prev,
      i === 0 ? '00'.repeat(32) : cpv.checkpoints[i - 1].hash,
    );
});
for (const c of cpv.invalid)
  agree(
    `checkpoint invalid "${c.name}" refused`,
    checkpointValid(c.checkpoint, cpv.node.did),
    false,
  );

// ---- §4 rules ------------------------------------------------------------------------------
const LOGGED = new Set(['ERR_REPLAY', 'ERR_UNTRUSTED_AUTHOR']);
function firstBad(seq) {
  let last = 0;
  let second = -1;
  let inSecond = 0;
  let lastSummary = -Infinity;
  for (let i = 0; i < seq.length; i++) {
    const e = seq[i];
    if (e.time < last) return i;
    last = e.time;
    if (e.type === 'reject') {
      if (!LOGGED.has(e.reason) || e.event_id === null || utf8(e.detail).length > 512) return i;
      const s = Math.floor(e.time / 1000);
      inSecond = s === second ? inSecond + 1 : 1;
      second = s;
      if (inSecond > 20) return i;
    }
    if (e.type === 'summary') {
      if (e.time < lastSummary + 1000) return i;
      lastSummary = e.time;
      let d;
      try {
        d = JSON.parse(e.detail);
      } catch {
        return i;
      }
      const counts = Object.values(d.counts ?? {});
      if (
        d.to !== e.time ||
        !(d.from <= d.to) ||
        counts.length === 0 ||
        !counts.every((n) => Number.isInteger(n) && n > 0)
      )
        return i;
      if (!Array.isArray(d.samples) || d.samples.length > 4 || utf8(e.detail).length > 4096)
        return i;
    }
  }
  return null;
}
for (const s of load('rules.json').sequences)
  agree(`rules "${s.name}"`, firstBad(s.entries), s.first_bad);

// ---- §7 the client's proof check -----------------------------------------------------------
const pv = load('proof.json');
function proofHolds(p) {
  try {
    const id = hex(H(unhex(pv.event.body_cbor)));
    if (p.event_id !== id) return false;
    const c = p.checkpoint;
    if (!checkpointValid(c, pv.node.did) || c.tree_size !== p.tree_size) return false;
    const leaf = unhex(p.leaf);
    if (hex(leafHash(leaf)) !== p.leaf_hash) return false;
    const e = decodeEntry(leaf);
    if (e.type !== 'accept' || e.seq !== p.leaf_index || e.event_id !== id) return false;
    const m =
      /^\{"eventSeq":(0|[1-9][0-9]*),"encodedHash":"([0-9a-f]{64})","rowHash":"([0-9a-f]{64})"\}$/.exec(
        e.detail,
      );
    if (m === null || m[2] !== hex(H(unhex(pv.event.cbor)))) return false;
    return verifyInclusion(
      p.leaf_index,
      p.tree_size,
      unhex(p.leaf_hash),
      p.path.map(unhex),
      unhex(c.root),
    );
  } catch {
    return false;
  }
}
agree('proof event id', hex(H(unhex(pv.event.body_cbor))), pv.event.id);
agree(
  'proof log leaves decode',
  pv.log.every((l, i) => decodeEntry(unhex(l)).seq === i),
  true,
);
const logLeaves = pv.log.map((l) => leafHash(unhex(l)));
agree(
  'proof checkpoint root is the log root',
  pv.proof.checkpoint.root,
  hex(mth(logLeaves.slice(0, pv.proof.tree_size))),
);
agree(
  'proof path is the audit path',
  pv.proof.path,
  path(pv.proof.leaf_index, logLeaves.slice(0, pv.proof.tree_size)).map(hex),
);
agree('proof holds', proofHolds(pv.proof), true);
for (const t of pv.tampered)
  agree(`proof tampered "${t.name}" refused`, proofHolds(t.proof), false);
const older = pv.older_checkpoint;
const newer = pv.proof.checkpoint;
agree(
  'consistency checkpoints signed',
  [checkpointValid(older, pv.node.did), checkpointValid(newer, pv.node.did)],
  [true, true],
);
agree(
  'consistency chain',
  newer.seq === older.seq + 1
    ? newer.prev === hex(checkpointHash(older, didKey(pv.node.did)))
    : true,
  true,
);
agree(
  'consistency proof',
  pv.consistency.proof,
  consistency(older.tree_size, logLeaves.slice(0, newer.tree_size)).map(hex),
);
agree(
  'consistency verifies',
  verifyConsistency(
    older.tree_size,
    newer.tree_size,
    unhex(older.root),
    unhex(newer.root),
    pv.consistency.proof.map(unhex),
  ),
  true,
);
// the log's checkpoint entries name the checkpoints
const cpEntry = decodeEntry(unhex(pv.log[newer.tree_size]));
agree('checkpoint entry', JSON.parse(cpEntry.detail), {
  checkpoint: newer.seq,
  hash: hex(checkpointHash(newer, didKey(pv.node.did))),
});

if (problems.length > 0) {
  for (const p of problems) console.error(`DISAGREE ${p}`);
  console.error(`audit vectors: ${problems.length} of ${checks} checks disagree`);
  process.exit(1);
}
console.log(`audit vectors: ${checks} checks agree with spec/AUDIT.md`);
