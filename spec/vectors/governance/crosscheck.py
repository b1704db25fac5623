#!/usr/bin/env python3
"""Independent check of the governance vectors: a second implementation of spec/GOVERNANCE.md,
written from the document alone (and spec/PROTOCOL.md, spec/IDENTITY.md §8 for what it cites),
sharing no code with packages/node.

    CBOR     cbor2 (decoded, walked against the profile and its limits, and re-encoded
             canonically: an input is canonical when the re-encoding gives the same bytes)
    JSON     the standard library json module (duplicate names through object_pairs_hook,
             numbers by their exact decimal value)
    Ed25519  cryptography (OpenSSL); the vectors use honest signatures and plain corruptions, on
             which its cofactorless check agrees with ZIP-215
    SHA-256  hashlib; base58btc, did:key/did:cs parsing, the schema, quorum tallies, the chain,
             the fold, the identity verdict over resolved states, and the trust policy (with its
             own maximum flow) written here

It recomputes every derived field, every verdict, the outcome of every delivery in every order,
the resolved state, draft statuses and every trust answer, and prints each disagreement.

    python3 -m pip install --target .cache/pydeps/governance cbor2==5.6.5   # once
    PYTHONPATH=.cache/pydeps/governance python3 spec/vectors/governance/crosscheck.py
"""
import hashlib
import io
import json
import os
import sys
from collections import deque
from decimal import Decimal

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SAFE = 2**53 - 1
P = 2**255 - 19
MAX_BYTES, MAX_JSON, MAX_DEPTH, MAX_TEXT, MAX_BSTR, MAX_ENTRIES = 32768, 131072, 3, 256, 64, 256
MAX_MEMBERS, MAX_VALIDATORS, MAX_VERSIONS, MAX_SIGS, MAX_VALIDITY = 32, 256, 16, 64, 31622400
MAX_QUERY = 16384
MAX_COPIES = 8  # copies of one record held with different signer sets (§4, local)
SIG_TAG = b"commons-sync/governance-signature/v1\x00"
TYPES = ("root", "action", "attestation", "attestation-revocation")
ACTION_KINDS = ("protocol-upgrade", "policy-change", "identity-rotation", "identity-revocation", "validator-admission", "validator-removal")
KINDS = ("root-change",) + ACTION_KINDS
SUBJECT_KINDS = ("identity-rotation", "identity-revocation", "validator-admission", "validator-removal")
SMALL_ORDER = {
    "0100000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}
BIG = "ERR_GOV_TOO_LARGE"
FIELD = "ERR_BAD_FIELD"


class Reject(Exception):
    def __init__(self, code, why=""):
        super().__init__(f"{code}: {why}")
        self.code = code


def no(code, why=""):
    raise Reject(code, why)


sha256 = lambda b: hashlib.sha256(b).digest()

# ------------------------------------------------------------------------------ DIDs

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text):
    n = 0
    for ch in text:
        if ch not in ALPHABET:
            return None
        n = n * 58 + ALPHABET.index(ch)
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")


def did_key(did):
    if not isinstance(did, str) or len(did) != 56 or not did.startswith("did:key:z"):
        no("ERR_BAD_DID", "not a did:key")
    data = b58decode(did[9:])
    if data is None or len(data) != 34 or data[:2] != b"\xed\x01":
        no("ERR_BAD_DID", "not ed25519")
    key = data[2:]
    if int.from_bytes(key, "little") & (2**255 - 1) >= P or key.hex() in SMALL_ORDER:
        no("ERR_BAD_DID", "unacceptable key")
    return key


def is_did_key(did):
    return did.startswith("did:key:")


def principal(did):
    """A did:key or a did:cs (GOVERNANCE.md §2), else ERR_BAD_DID."""
    if is_did_key(did):
        did_key(did)
        return did
    if len(did) != 54 or not did.startswith("did:cs:z"):
        no("ERR_BAD_DID", "not a principal")
    data = b58decode(did[8:])
    if data is None or len(data) != 34 or data[:2] != b"\x12\x20":
        no("ERR_BAD_DID", "not a did:cs")
    return did


# ------------------------------------------------------------------------------ CBOR profile (§5.1)


def walk(v, depth, text=MAX_TEXT, entries=MAX_ENTRIES, max_depth=MAX_DEPTH):
    if v is None or isinstance(v, bool):
        return
    if isinstance(v, int):
        if abs(v) > MAX_SAFE:
            no("ERR_MALFORMED", "integer range")
        return
    if isinstance(v, str):
        try:
            n = len(v.encode("utf-8"))
        except UnicodeEncodeError:
            no("ERR_MALFORMED", "lone surrogate")
        if n > text:
            no(BIG, "text")
        return
    if isinstance(v, bytes):
        if len(v) > MAX_BSTR:
            no(BIG, "bytes")
        return
    if isinstance(v, (list, dict)):
        if depth + 1 > max_depth:
            no("ERR_TOO_DEEP", "depth")
        if len(v) > entries:
            no(BIG, "entries")
        if isinstance(v, dict):
            for k in v:
                if not isinstance(k, str):
                    no("ERR_MALFORMED", "non-text key")
                walk(k, depth, text, entries, max_depth)
        for x in v.values() if isinstance(v, dict) else v:
            walk(x, depth + 1, text, entries, max_depth)
        return
    no("ERR_MALFORMED", f"not in the data model: {type(v).__name__}")


canonical = lambda value: cbor2.dumps(value, canonical=True)


def decode_cbor(data):
    if len(data) > MAX_BYTES:
        no(BIG, "input")
    try:
        stream = io.BytesIO(data)
        value = cbor2.CBORDecoder(stream).decode()
        if stream.tell() != len(data):
            no("ERR_MALFORMED", "trailing bytes")
    except Reject:
        raise
    except Exception as e:
        no("ERR_MALFORMED", str(e))
    walk(value, 0)
    if canonical(value) != data:
        no("ERR_MALFORMED", "not the canonical encoding")
    return value


# ------------------------------------------------------------------------------ JSON form (§5.3)


def json_number(s):
    d = Decimal(s)
    if not d.is_finite() or d != d.to_integral_value() or abs(d) > MAX_SAFE:
        no("ERR_MALFORMED", f"number {s}")
    return int(d)


def json_pairs(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        no("ERR_MALFORMED", "duplicate name")
    return dict(pairs)


def to_hex_bytes(v):
    if not isinstance(v, str):
        return v
    if len(v) > 128:
        no(BIG, "hex")
    if len(v) % 2 or any(c not in "0123456789abcdef" for c in v):
        no("ERR_MALFORMED", "hex")
    return bytes.fromhex(v)


def from_json_text(text):
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_JSON:
        no(BIG, "JSON text")
    try:
        value = json.loads(text, object_pairs_hook=json_pairs, parse_float=json_number, parse_int=json_number,
                           parse_constant=lambda s: no("ERR_MALFORMED", s))
    except Reject:
        raise
    except ValueError:
        no("ERR_MALFORMED", "not JSON")
    walk(value, -1, 16384, 4096, 17)  # the reader's own bounds (PROTOCOL.md §3.4): lone surrogates, sizes
    if not isinstance(value, dict):
        no("ERR_MALFORMED", "not an object")
    for k in ("prior", "root", "target", "key_state"):
        if k in value:
            value[k] = to_hex_bytes(value[k])
    for lst, member in (("members", "key_state"), ("validators", "key_state"), ("signatures", "sig")):
        if isinstance(value.get(lst), list):
            for e in value[lst]:
                if isinstance(e, dict) and member in e:
                    e[member] = to_hex_bytes(e[member])
    check_schema(value)
    data = canonical(value)
    if len(data) > MAX_BYTES:
        no(BIG, "encoded size")
    walk(value, 0)
    return value


# ------------------------------------------------------------------------------ schema (§3.1)

RULES = [  # field, {type: R|O}
    ("version", {"root": "R"}),
    ("prior", {"root": "O"}),
    ("kind", {"action": "R"}),
    ("root", {"action": "R"}),
    ("issuer", {"attestation": "R", "attestation-revocation": "R"}),
    ("subject", {"action": "O", "attestation": "R"}),
    ("key_state", {"action": "O", "attestation": "O", "attestation-revocation": "O"}),
    ("scope", {"attestation": "R"}),
    ("target", {"attestation-revocation": "R"}),
    ("created_at", {t: "R" for t in TYPES}),
    ("expires_at", {"root": "R", "attestation": "R"}),
    ("members", {"root": "R"}),
    ("thresholds", {"root": "R"}),
    ("validators", {"root": "R"}),
    ("protocol_versions", {"root": "R", "action": "O"}),
    ("trust_policy", {"root": "R", "action": "O"}),
]
KNOWN = {"v", "type", "signatures"} | {f for f, _ in RULES}


def is_uint(x):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= MAX_SAFE


def need_uint(x):
    if not is_uint(x):
        no(FIELD, "uint")
    return x


def need_digest(x):
    if not isinstance(x, bytes) or len(x) != 32:
        no(FIELD, "digest")
    return x


def need_principal(x):
    if not isinstance(x, str):
        no(FIELD, "principal type")
    return principal(x)


def entry_list(v, least, most):
    if not isinstance(v, list):
        no(FIELD, "list")
    if len(v) > most:
        no(BIG, "list")
    if len(v) < least:
        no(FIELD, "empty")
    prev = None
    for e in v:
        if not isinstance(e, dict):
            no(FIELD, "entry")
        i = need_principal(e.get("id"))
        if is_did_key(i) == ("key_state" in e):
            no(FIELD, "key_state presence")
        if "key_state" in e:
            need_digest(e["key_state"])
        if len(e) != (2 if "key_state" in e else 1):
            no(FIELD, "entry keys")
        if prev is not None and not prev < i:
            no(FIELD, "order")
        prev = i


def check_schema(m):
    if not isinstance(m, dict):
        no("ERR_MALFORMED", "not a map")
    if "v" not in m or not is_uint(m["v"]):
        no(FIELD, "v")
    if m["v"] != 1:
        no("ERR_UNSUPPORTED_VERSION", "v")
    t = m.get("type")
    if t not in TYPES:
        no(FIELD, "type")
    for f, rule in RULES:
        present = f in m
        if present and t not in rule:
            no(FIELD, f"{f} not allowed")
        if not present and rule.get(t) == "R":
            no(FIELD, f"{f} missing")
        if t not in rule:
            continue
        x = m.get(f)
        if f == "version" and present:
            if need_uint(x) < 1:
                no(FIELD, "version 0")
        elif f in ("prior", "root", "target") and present:
            need_digest(x)
        elif f == "kind" and present:
            if x not in ACTION_KINDS:
                no(FIELD, "kind")
        elif f == "issuer" and present:
            need_principal(x)
        elif f == "subject":
            if t == "action":
                if present != (m["kind"] in SUBJECT_KINDS):
                    no(FIELD, "subject presence")
                if present:
                    need_principal(x)
                    if m["kind"] == "identity-rotation" and is_did_key(x):
                        no(FIELD, "rotation of a did:key")
            elif present:
                need_principal(x)
                if x == m["issuer"]:
                    no(FIELD, "self attestation")
        elif f == "key_state":
            if t == "action":
                needs = m["kind"] == "identity-rotation" or (m["kind"] == "validator-admission" and isinstance(m.get("subject"), str) and not is_did_key(m["subject"]))
            else:
                needs = not is_did_key(m["issuer"])
            if present != needs:
                no(FIELD, "key_state presence")
            if present:
                need_digest(x)
        elif f == "scope" and present:
            if not isinstance(x, str):
                no(FIELD, "scope type")
            if len(x.encode()) > 64:
                no(BIG, "scope")
            if not x or any(not 0x21 <= ord(c) <= 0x7E for c in x):
                no(FIELD, "scope")
        elif f == "created_at":
            need_uint(x)
        elif f == "expires_at" and present:
            need_uint(x)
            if not m["created_at"] < x <= m["created_at"] + MAX_VALIDITY:
                no(FIELD, "validity")
        elif f == "members" and present:
            entry_list(x, 1, MAX_MEMBERS)
        elif f == "thresholds" and present:
            if not isinstance(x, dict):
                no(FIELD, "thresholds")
            n = len(m["members"])
            for k in KINDS:
                if k not in x:
                    no(FIELD, "threshold missing")
                th = need_uint(x[k])
                if not (1 <= th <= n and 2 * th > n):
                    no(FIELD, "threshold range")
            if len(x) != len(KINDS):
                no(FIELD, "threshold keys")
        elif f == "validators" and present:
            entry_list(x, 0, MAX_VALIDATORS)
        elif f == "protocol_versions":
            if t == "action" and present != (m["kind"] == "protocol-upgrade"):
                no(FIELD, "protocol_versions presence")
            if present:
                if not isinstance(x, list):
                    no(FIELD, "versions")
                if len(x) > MAX_VERSIONS:
                    no(BIG, "versions")
                if not x:
                    no(FIELD, "versions empty")
                for i, n in enumerate(x):
                    if not is_uint(n) or n < 1 or (i and not x[i - 1] < n):
                        no(FIELD, "versions order")
        elif f == "trust_policy":
            if t == "action" and present != (m["kind"] == "policy-change"):
                no(FIELD, "trust_policy presence")
            if present:
                if not isinstance(x, dict):
                    no(FIELD, "policy")
                for k in ("max_depth", "min_paths"):
                    if not 1 <= need_uint(x.get(k)) <= 8:
                        no(FIELD, "policy range")
                if len(x) != 2:
                    no(FIELD, "policy keys")
    sigs = m.get("signatures")
    if sigs is None or not isinstance(sigs, list):
        no(FIELD, "signatures")
    if len(sigs) > MAX_SIGS:
        no(BIG, "signatures")
    if not sigs:
        no(FIELD, "signatures empty")
    for s in sigs:
        if not isinstance(s, dict) or set(s) != {"signer", "sig"}:
            no(FIELD, "signature entry")
        if not isinstance(s["signer"], str):
            no(FIELD, "signer type")
        did_key(s["signer"])
        if not isinstance(s["sig"], bytes) or len(s["sig"]) != 64:
            no(FIELD, "sig")
    for k in m:
        if k not in KNOWN:
            no(FIELD, f"unknown field {k}")


# ------------------------------------------------------------------------------ records (§5.2, §7)


class Record:
    def __init__(self, m):
        self.m = m
        self.body = {k: v for k, v in m.items() if k != "signatures"}
        self.body_cbor = canonical(self.body)
        self.id = sha256(self.body_cbor)
        self.hex = self.id.hex()
        self.type = m["type"]
        self.sigs = [(s["signer"], s["sig"]) for s in m["signatures"]]
        self.signers = sorted({s for s, _ in self.sigs})
        self.signer_set = " ".join(self.signers)

    def ref(self):
        return {"root": self.m.get("prior"), "action": self.m.get("root"), "attestation-revocation": self.m.get("target")}.get(self.type)


def verify(key_did, msg, sig):
    try:
        Ed25519PublicKey.from_public_bytes(did_key(key_did)).verify(sig, msg)
        return True
    except InvalidSignature:
        return False


def check_signatures(r):
    for signer, sig in r.sigs:
        if not verify(signer, SIG_TAG + r.id, sig):
            ref = r.ref()
            if ref is not None and verify(signer, SIG_TAG + ref, sig):
                no("ERR_GOV_MIX_AND_MATCH", "lifted")
            no("ERR_BAD_SIGNATURE", signer)


def check_time(r, now, skew):
    if r.m["created_at"] > now + skew:
        no("ERR_NOT_YET_VALID", "future")


# ------------------------------------------------------------------------------ identities (IDENTITY.md §8)


def identity_verdict(states, did, at, key_state, signers):
    st = states.get(did)
    if st is None:
        return "ERR_KEL_UNKNOWN_IDENTITY"
    ks = next((k for k in st["chain"] if k["id"] == key_state), None)
    if ks is None:
        return "ERR_KEL_SUPERSEDED_KEY_STATE" if key_state in st["superseded"] else "ERR_KEL_UNKNOWN_KEY_STATE"
    if at < ks["start"]:
        return "ERR_KEL_BEFORE_KEY_STATE"
    if ks["end"] is not None and at >= ks["end"]:
        return {"revoked": "ERR_KEL_KEY_REVOKED", "frozen": "ERR_KEL_IDENTITY_FROZEN"}.get(ks["end_cause"], "ERR_KEL_KEY_ROTATED")
    if len(set(signers) & set(ks["keys"])) < ks["threshold"]:
        return "ERR_KEL_THRESHOLD_NOT_MET"
    return None


# ------------------------------------------------------------------------------ quorum (§6.3)


def tally(states, members, t, sigs, at, revoked=frozenset()):
    """(code or None, counted, missing, standings)"""
    signers = {s for s, _ in sigs}
    standing = {}
    for e in members:
        i = e["id"]
        if i in revoked:
            standing[i] = "revoked"
        elif is_did_key(i):
            standing[i] = "signed" if i in signers else "unsigned"
        else:
            v = identity_verdict(states, i, at, e["key_state"].hex(), signers)
            standing[i] = ("signed" if v is None else "unknown" if v in ("ERR_KEL_UNKNOWN_IDENTITY", "ERR_KEL_UNKNOWN_KEY_STATE")
                           else "unsigned" if v == "ERR_KEL_THRESHOLD_NOT_MET" else "retired")
    counted = sum(1 for s in standing.values() if s == "signed")
    missing = max(0, t - counted)
    if missing == 0:
        return None, counted, missing, standing
    keys = set()
    for e in members:
        if is_did_key(e["id"]):
            keys.add(e["id"])
        else:
            st = states.get(e["id"])
            ks = next((k for k in st["chain"] if k["id"] == e["key_state"].hex()), None) if st else None
            keys |= set(ks["keys"]) if ks else set()
    entries = {}
    for s, _ in sigs:
        entries[s] = entries.get(s, 0) + 1
    repeats = sum(n - 1 for s, n in entries.items() if s in keys)
    outsiders = sum(1 for s in entries if s not in keys)
    unknown = sum(1 for s in standing.values() if s == "unknown")
    if unknown >= missing:
        code = "ERR_GOV_UNKNOWN_IDENTITY"
    elif repeats >= missing:
        code = "ERR_GOV_DUPLICATE_SIGNATURE"
    elif outsiders >= missing:
        code = "ERR_GOV_UNTRUSTED_KEY"
    else:
        code = "ERR_GOV_THRESHOLD_NOT_MET"
    return code, counted, missing, standing


all_did_keys = lambda root: all(is_did_key(e["id"]) for e in root.m["members"])


# ------------------------------------------------------------------------------ roots (§6.1, §6.2)


def root_rules(states, r, p, anchor):
    """(code, final) of §6.1 for root r (prior p, or None when not held); (None, False) when it passes."""
    if r.m["version"] <= anchor.m["version"]:
        return "ERR_GOV_ROLLBACK", True
    if "prior" not in r.m:
        return "ERR_GOV_MIX_AND_MATCH", True
    if p is None:
        return None, False
    if r.m["version"] <= p.m["version"]:
        return "ERR_GOV_ROLLBACK", True
    if r.m["version"] > p.m["version"] + 1:
        return "ERR_GOV_VERSION_GAP", True
    if r.m["created_at"] < p.m["created_at"]:
        return "ERR_GOV_MIX_AND_MATCH", True
    for side in (p, r):
        code = tally(states, side.m["members"], side.m["thresholds"]["root-change"], r.sigs, r.m["created_at"])[0]
        if code:
            return code, all_did_keys(side)
    return None, False


def action_rules(states, a, root):
    """§6.4 step 2 and the tally against the root's own content: (code, final)."""
    if a.m["created_at"] < root.m["created_at"]:
        return "ERR_GOV_MIX_AND_MATCH", True
    if a.m["created_at"] >= root.m["expires_at"]:
        return "ERR_GOV_ROOT_EXPIRED", True
    code = tally(states, root.m["members"], root.m["thresholds"][a.m["kind"]], a.sigs, a.m["created_at"])[0]
    return (code, all_did_keys(root)) if code else (None, False)


def resolve(states, anchor, held):
    """The governance view (§6.2-§6.6) of the held roots and actions (lists of copies by id)."""
    roots = {i: sorted(c, key=lambda r: r.signer_set) for i, c in held.items() if c[0].type == "root"}
    actions = {i: sorted(c, key=lambda r: r.signer_set) for i, c in held.items() if c[0].type == "action"}
    attached = {anchor.hex: anchor}
    children = {}
    standings = {}
    queue = [anchor.hex]
    while queue:
        pid = queue.pop(0)
        for i in sorted(i for i, c in roots.items() if c[0].m.get("prior", b"").hex() == pid):
            failure = None
            for copy in roots[i]:
                code, _ = root_rules(states, copy, attached[pid], anchor)
                if code is None:
                    attached[i] = copy
                    children.setdefault(pid, []).append(i)
                    queue.append(i)
                    failure = None
                    break
                failure = failure or code
            if failure:
                standings[i] = ("refused", failure)
    chain = [anchor]
    fork = None
    while True:
        nxt = children.get(chain[-1].hex, [])
        if len(nxt) == 1:
            chain.append(attached[nxt[0]])
            continue
        if len(nxt) >= 2:
            p = chain[-1]
            times = {}
            for c in nxt:
                # a member signed a contestant when it is `signed` in any held copy of it (§6.2)
                signed = set()
                for copy in roots[c]:
                    for mid, s in tally(states, p.m["members"], p.m["thresholds"]["root-change"], copy.sigs, copy.m["created_at"])[3].items():
                        if s == "signed":
                            signed.add(mid)
                for mid in signed:
                    times[mid] = times.get(mid, 0) + 1
            fork = {"prior": p.hex, "version": p.m["version"], "contestants": sorted(nxt), "equivocators": sorted(k for k, n in times.items() if n >= 2)}
        break
    tip = chain[-1]
    on_chain = {r.hex for r in chain}
    for i in attached:
        standings[i] = ("in-force" if i == tip.hex else "chain" if i in on_chain else
                        "contestant" if fork and i in fork["contestants"] else "detached", None)
    for i in roots:
        standings.setdefault(i, ("waiting", "ERR_GOV_UNKNOWN_ROOT"))
    content = {"members": list(tip.m["members"]), "validators": list(tip.m["validators"]),
               "protocol_versions": tip.m["protocol_versions"], "trust_policy": tip.m["trust_policy"], "revoked": set()}
    views, fold = {}, []
    for i, copies in actions.items():
        a = copies[0]
        rid = a.m["root"].hex()
        root = attached.get(rid)
        if root is None:
            views[i] = ("waiting", "ERR_GOV_UNKNOWN_ROOT")
            continue
        if a.m["created_at"] < root.m["created_at"] or a.m["created_at"] >= root.m["expires_at"]:
            views[i] = ("refused", action_rules(states, a, root)[0])
            continue
        if rid == tip.hex and fork is None:
            fold.append(copies)
            continue
        codes = [action_rules(states, c, root)[0] for c in copies]
        if None in codes:
            views[i] = ("superseded", "ERR_GOV_STALE_ROOT") if rid in on_chain and rid != tip.hex else ("frozen", "ERR_GOV_ROOT_FORKED")
        else:
            views[i] = ("refused", codes[0])
    applied = []
    for copies in sorted(fold, key=lambda c: (c[0].m["created_at"], c[0].hex)):
        failure = None
        for c in copies:
            code = tally(states, content["members"], tip.m["thresholds"][c.m["kind"]], c.sigs, c.m["created_at"], content["revoked"])[0]
            if code is None:
                apply_action(content, c.m)
                applied.append(c.hex)
                views[c.hex] = ("applied", None)
                break
            failure = failure or code
        else:
            views[copies[0].hex] = ("refused", failure)
    return {"anchor": anchor, "tip": tip, "chain": chain, "fork": fork, "attached": attached, "standings": standings,
            "content": content, "applied": applied, "views": views, "actions": actions, "roots": roots}


def apply_action(c, a):
    k, s = a["kind"], a.get("subject")
    entry = {"id": s, "key_state": a["key_state"]} if "key_state" in a else {"id": s}
    repl = lambda lst: sorted([e for e in lst if e["id"] != s] + [entry], key=lambda e: e["id"])
    if k == "validator-admission":
        c["validators"] = repl(c["validators"])
    elif k == "validator-removal":
        c["validators"] = [e for e in c["validators"] if e["id"] != s]
    elif k == "identity-rotation":
        for f in ("members", "validators"):
            if any(e["id"] == s for e in c[f]):
                c[f] = repl(c[f])
    elif k == "identity-revocation":
        c["revoked"] = c["revoked"] | {s}
    elif k == "protocol-upgrade":
        c["protocol_versions"] = a["protocol_versions"]
    else:
        c["trust_policy"] = a["trust_policy"]


def view_json(v):
    c = v["content"]
    pj = lambda e: {"id": e["id"], "key_state": e["key_state"].hex() if "key_state" in e else None}
    tip = v["tip"].m
    return {
        "anchor": v["anchor"].hex,
        "status": "active" if v["fork"] is None else "forked",
        "root": {"id": v["tip"].hex, "version": tip["version"], "created_at": tip["created_at"], "expires_at": tip["expires_at"]},
        "chain": [{"id": r.hex, "version": r.m["version"]} for r in v["chain"]],
        "fork": v["fork"],
        "members": [pj(e) for e in c["members"]],
        "thresholds": dict(tip["thresholds"]),
        "validators": [pj(e) for e in c["validators"] if e["id"] not in c["revoked"]],
        "protocol_versions": list(c["protocol_versions"]),
        "trust_policy": dict(c["trust_policy"]),
        "revoked": sorted(c["revoked"]),
        "applied": v["applied"],
        "roots": [{"id": i, "version": v["roots"][i][0].m["version"], "standing": s, "reason": why}
                  for i, (s, why) in sorted(v["standings"].items()) if i != v["anchor"].hex],
        "actions": [{"id": i, "kind": v["actions"][i][0].m["kind"], "standing": s, "reason": why} for i, (s, why) in sorted(v["views"].items())],
    }


# ------------------------------------------------------------------------------ a node (§7)


class Node:
    def __init__(self, anchor, states, now, skew):
        self.anchor, self.states, self.now, self.skew = anchor, states, now, skew
        self.held = {}  # id -> copies (roots, actions)
        self.trust = {}  # id -> copies (attestations, revocations)
        self.connected = {anchor.hex}  # §7: the anchor, and held roots whose prior is connected
        self.view = resolve(states, anchor, self.held)

    def named(self, r):
        ref = r.m.get("prior") if r.type == "root" else r.m["root"]
        return ref.hex() if ref is not None else None

    def connected_root(self, rid):
        if rid not in self.connected:
            return None
        return self.anchor if rid == self.anchor.hex else self.held[rid][0]

    def final(self, r, root):
        if r.type == "root":
            code, fin = root_rules(self.states, r, root, self.anchor)
            return code if fin else None
        if root is None:
            return None
        code, fin = action_rules(self.states, r, root)
        return code if fin else None

    def connect(self, root):
        self.connected.add(root.hex)
        for i in sorted(i for i, c in self.held.items() if self.named(c[0]) == root.hex and i not in self.connected):
            kept = [c for c in self.held[i] if self.final(c, root) is None]
            if not kept:
                del self.held[i]
            else:
                self.held[i] = kept
                if kept[0].type == "root":
                    self.connect(kept[0])

    def deliver(self, r):
        try:
            check_time(r, self.now, self.skew)
            if r.type in ("root", "action"):
                return self.deliver_governance(r)
            return self.deliver_trust(r)
        except Reject as e:
            return e.code

    def superset_held(self, pool, r):
        return any(set(r.signers) <= set(c.signers) for c in pool.get(r.hex, []))

    def deliver_governance(self, r):
        if r.hex == self.anchor.hex or self.superset_held(self.held, r):
            return "duplicate"
        check_signatures(r)
        counts = {"in-force", "chain", "contestant", "detached", "applied", "superseded", "frozen"}
        st = (self.view["standings"] if r.type == "root" else self.view["views"]).get(r.hex)
        if r.hex in self.held and st and st[0] in counts:
            # a later copy of an attached root is kept when it carries a signer no held copy
            # has, up to the copy bound (§7 step 5): a fork's evidence reads every copy
            carried = set().union(*(set(c.signers) for c in self.held[r.hex]))
            if r.type != "root" or set(r.signers) <= carried or len(self.held[r.hex]) >= MAX_COPIES:
                return "duplicate"
        named = self.connected_root(self.named(r))
        code = self.final(r, named)
        if code:
            return code
        first = r.hex not in self.held
        self.held.setdefault(r.hex, []).append(r)
        if r.type == "root" and first and named is not None:
            self.connect(r)  # records that waited for this root are judged now
        self.view = resolve(self.states, self.anchor, self.held)
        s, why = (self.view["standings"] if r.type == "root" else self.view["views"])[r.hex]
        return f"accepted {s}" + (f" {why}" if why else "")

    # trust (§8.1)
    def issuer_check(self, r):
        m = r.m
        if is_did_key(m["issuer"]):
            return (None, False) if m["issuer"] in r.signers else ("ERR_TRUST_ISSUER_NOT_SIGNED", True)
        v = identity_verdict(self.states, m["issuer"], m["created_at"], m["key_state"].hex(), r.signers)
        return (None, False) if v is None else ("ERR_TRUST_ISSUER_NOT_SIGNED" if v == "ERR_KEL_THRESHOLD_NOT_MET" else v, False)

    def trust_check(self, r):
        if r.type == "attestation":
            return self.issuer_check(r)
        target = (self.trust.get(r.m["target"].hex()) or [None])[0]
        if target is None:
            return "ERR_TRUST_UNKNOWN_ATTESTATION", False
        if target.m["issuer"] != r.m["issuer"]:
            return "ERR_TRUST_NOT_ISSUER", True
        return self.issuer_check(r)

    def trust_verdict(self, i):
        failure = None
        for c in sorted(self.trust[i], key=lambda c: c.signer_set):
            code, _ = self.trust_check(c)
            if code is None:
                return c, None
            failure = failure or code
        return None, failure

    def deliver_trust(self, r):
        if r.hex in self.trust and (self.trust_verdict(r.hex)[0] is not None or self.superset_held(self.trust, r)):
            return "duplicate"
        check_signatures(r)
        code, fin = self.trust_check(r)
        if code and fin:
            return code
        first = r.hex not in self.trust
        self.trust.setdefault(r.hex, []).append(r)
        if r.type == "attestation" and first:
            for i in list(self.trust):
                if self.trust[i][0].type == "attestation-revocation" and self.trust[i][0].m["target"] == r.id:
                    kept = [c for c in self.trust[i] if not self.trust_check(c)[1]]
                    if kept:
                        self.trust[i] = kept
                    else:
                        del self.trust[i]
        valid, why = self.trust_verdict(r.hex)
        if valid is not None:
            return "accepted valid"
        return f"accepted {'waiting' if why == 'ERR_TRUST_UNKNOWN_ATTESTATION' else 'refused'} {why}"

    # the policy (§8.2-§8.5)
    def explain(self, subject, scope, at):
        c = self.view["content"]
        policy = c["trust_policy"]
        d, k = policy["max_depth"], policy["min_paths"]
        revoked = c["revoked"]
        roots = sorted({e["id"] for e in c["members"] + c["validators"] if e["id"] not in revoked})
        out = {"subject": subject, "scope": scope, "at": at, "mode": "governed", "policy": dict(policy), "paths": [], "examined": 0, "incoming": []}
        if subject in revoked:
            return {**out, "trusted": False, "reason": "ERR_TRUST_REVOKED", "missing": k}
        if subject in roots:
            return {**out, "trusted": True, "reason": "root", "missing": 0}
        valid = {i: self.trust_verdict(i) for i in self.trust if self.trust[i][0].type == "attestation"}
        rev_from = {}
        for i, copies in self.trust.items():
            if copies[0].type == "attestation-revocation":
                v, _ = self.trust_verdict(i)
                if v is not None:
                    t = v.m["target"].hex()
                    rev_from[t] = min(rev_from.get(t, v.m["created_at"]), v.m["created_at"])

        def in_force(a):
            m = a.m
            return (m["created_at"] <= at < m["expires_at"] and m["scope"] in ("*", scope)
                    and (a.hex not in rev_from or at < rev_from[a.hex]))

        edges = {}  # (u, v) -> lowest attestation id
        for i, (a, _) in valid.items():
            if a is not None and in_force(a) and a.m["subject"] not in revoked:
                key = (a.m["issuer"], a.m["subject"])
                edges[key] = min(edges.get(key, i), i)
        succ = {}
        for (u, v) in edges:
            succ.setdefault(u, set()).add(v)
        dist = {r: 0 for r in roots}
        layers = [roots]
        examined = 0
        for level in range(d - 1):
            layer = []
            for u in layers[level]:
                examined += len(succ.get(u, ()))
                for v in sorted(succ.get(u, ())):
                    if v != subject and v not in dist:
                        dist[v] = level + 1
                        layer.append(v)
            layers.append(sorted(layer))
        into = [u for u in dist if (u, subject) in edges]
        examined += len(into)
        if examined > MAX_QUERY:
            return {**out, "examined": examined, "trusted": False, "reason": "ERR_TRUST_LIMIT", "missing": k}
        arcs = {u: [v for v in succ.get(u, ()) if v != subject and dist.get(v) == dist[u] + 1] for u in dist}
        for u in into:
            arcs[u].append(subject)
        p = min(k, max_flow(roots, arcs, subject))
        out["examined"] = examined
        out["trusted"] = p >= k
        out["reason"] = "paths" if p >= k else "ERR_TRUST_NO_PATH" if p == 0 else "ERR_TRUST_TOO_FEW_PATHS"
        out["missing"] = max(0, k - p)
        out["_p"], out["_dist"], out["_edges"], out["_arcs"] = p, dist, edges, arcs
        # incoming (§8.5): every held attestation about the subject, by id, at most 32
        for i in sorted(i for i, (a, _) in valid.items() if self.trust[i][0].m["subject"] == subject)[:32]:
            a, why = valid[i]
            rec = a or self.trust[i][0]
            m = rec.m
            if a is None:
                st = {"status": "invalid", "reason": why}
            elif at < m["created_at"]:
                st = {"status": "not-yet-valid"}
            elif at >= m["expires_at"]:
                st = {"status": "expired"}
            elif m["scope"] not in ("*", scope):
                st = {"status": "out-of-scope"}
            elif not in_force(a):
                st = {"status": "revoked"}
            elif m["issuer"] in revoked:
                st = {"status": "issuer-revoked"}
            elif m["issuer"] not in dist:
                st = {"status": "issuer-unreachable"}
            else:
                st = {"status": "in-force"}  # 'used' is decided against the witness below
            out["incoming"].append({"attestation": i, "issuer": m["issuer"], **st})
        return out


def max_flow(roots, arcs, sink):
    """Vertex-disjoint paths (unit vertex capacities) from the roots to sink: a plain Edmonds-Karp."""
    cap = {}

    def arc(a, b):
        cap[(a, b)] = cap.get((a, b), 0) + 1
        cap.setdefault((b, a), 0)

    for r in roots:
        arc("S", ("in", r))
    for u, vs in arcs.items():
        arc(("in", u), ("out", u))
        for v in vs:
            arc(("out", u), sink if v == sink else ("in", v))
    adj = {}
    for (a, b) in cap:
        adj.setdefault(a, []).append(b)
    flow = 0
    while True:
        prev = {"S": None}
        q = deque(["S"])
        while q and sink not in prev:
            x = q.popleft()
            for y in adj.get(x, []):
                if y not in prev and cap[(x, y)] > 0:
                    prev[y] = x
                    q.append(y)
        if sink not in prev:
            return flow
        y = sink
        while prev[y] is not None:
            cap[(prev[y], y)] -= 1
            cap[(y, prev[y])] += 1
            y = prev[y]
        flow += 1


def check_witness(e, got):
    """The paths given are valid: layered arcs carried by the stated attestations, disjoint, k of them at most."""
    roots_used, inner = set(), set()
    for path in got["paths"]:
        if not path or path[-1]["subject"] != got["subject"]:
            return False
        if e["_dist"].get(path[0]["issuer"]) != 0 or path[0]["issuer"] in roots_used:
            return False
        roots_used.add(path[0]["issuer"])
        for h in path:
            if h["subject"] not in e["_arcs"].get(h["issuer"], []) or e["_edges"].get((h["issuer"], h["subject"])) != h["attestation"]:
                return False
            if h["issuer"] in inner:
                return False
            inner.add(h["issuer"])
    return len(got["paths"]) == e["_p"]


# ------------------------------------------------------------------------------ the checks


class Tally:
    def __init__(self, quiet=False):
        self.ok, self.bad, self.quiet = 0, 0, quiet

    def check(self, what, got, want):
        if got == want:
            self.ok += 1
        else:
            self.bad += 1
            if not self.quiet:
                print(f"MISMATCH {what}: got {json.dumps(got, default=str)[:400]} want {json.dumps(want, default=str)[:400]}")


def verdict_of(form, value, now, skew):
    try:
        m = decode_cbor(bytes.fromhex(value)) if form == "cbor" else from_json_text(value)
        if form == "cbor":
            check_schema(m)
        r = Record(m)
        check_time(r, now, skew)
        check_signatures(r)
        return "valid", r
    except Reject as e:
        return e.code, None


def check_records(t):
    doc = json.load(open(os.path.join(HERE, "records.json")))
    for v in doc["vectors"]:
        forms = []
        if "cbor" in v:
            forms.append(("cbor", v["cbor"]))
        if "json" in v:
            forms.append(("json", json.dumps(v["json"])))
        if "json_text" in v:
            forms.append(("json_text", v["json_text"] + " " * v.get("json_text_pad_spaces", 0)))
        for form, value in forms:
            got, r = verdict_of(form, value, doc["now"], doc["clock_skew_s"])
            t.check(f"records/{v['name']}/{form}", got, v["expected"])
            if r is not None and "id" in v:
                t.check(f"records/{v['name']}/{form}/body", r.body_cbor.hex(), v["body_cbor"])
                t.check(f"records/{v['name']}/{form}/id", r.hex, v["id"])
                t.check(f"records/{v['name']}/{form}/signing_input", (SIG_TAG + r.id).hex(), v["signing_input"])
                t.check(f"records/{v['name']}/{form}/signature_verdicts", [verify(s, SIG_TAG + r.id, g) for s, g in r.sigs], v["signature_verdicts"])


def load(rec):
    m = decode_cbor(bytes.fromhex(rec["cbor"]))
    check_schema(m)
    r = Record(m)
    j = from_json_text(json.dumps(rec["json"]))
    assert Record(j).hex == r.hex == rec["id"], "a record's JSON and CBOR forms differ"
    return r


def states_of(v):
    return {i["did"]: i["state"] for i in v.get("identities", [])}


def deliveries(t, v, doc, what):
    states = states_of(v)
    anchor = load(v["anchor"])
    records = {r["label"]: load(r) for r in v["records"]}
    nodes = []
    for k, d in enumerate(v["deliveries"]):
        node = Node(anchor, states, doc["now"], doc["clock_skew_s"])
        got = [node.deliver(records[label]) for label in d["order"]]
        t.check(f"{what}/{v['name']}/order-{k}/outcomes", got, d["outcomes"])
        nodes.append(node)
    return nodes


def check_chains(t):
    doc = json.load(open(os.path.join(HERE, "chains.json")))
    for v in doc["vectors"]:
        for k, node in enumerate(deliveries(t, v, doc, "chains")):
            t.check(f"chains/{v['name']}/order-{k}/state", view_json(node.view), v["state"])
        node = deliveries(Tally(quiet=True), v, doc, "chains")[0]
        for d in v.get("drafts", []):
            r = Record(decode_cbor(bytes.fromhex(d["cbor"])))
            t.check(f"chains/{v['name']}/draft/{d['label']}", list(draft_status(node, r)), [d["judged_against"], d["missing"], d["blocked"]])


def draft_status(node, r):
    v = node.view
    tip, states = v["tip"], node.states
    if r.type == "root":
        pid = r.m["prior"].hex()
        p = v["attached"].get(pid)
        old = tally(states, p.m["members"], p.m["thresholds"]["root-change"], r.sigs, r.m["created_at"])
        own = tally(states, r.m["members"], r.m["thresholds"]["root-change"], r.sigs, r.m["created_at"])
        code, _ = root_rules(states, r, p, node.anchor)
        blocked = code if code and code not in (old[0], own[0]) else None
        if blocked is None and pid != tip.hex:
            blocked = "ERR_GOV_STALE_ROOT"
        return pid, old[2] + own[2], blocked
    rid = r.m["root"].hex()
    c = v["content"]
    missing = tally(states, c["members"], tip.m["thresholds"][r.m["kind"]], r.sigs, r.m["created_at"], c["revoked"])[2]
    if v["fork"] is not None:
        blocked = "ERR_GOV_ROOT_FORKED"
    elif rid != tip.hex:
        blocked = "ERR_GOV_STALE_ROOT" if rid in v["attached"] else "ERR_GOV_UNKNOWN_ROOT"
    elif r.m["created_at"] < tip.m["created_at"]:
        blocked = "ERR_GOV_MIX_AND_MATCH"
    elif r.m["created_at"] >= tip.m["expires_at"]:
        blocked = "ERR_GOV_ROOT_EXPIRED"
    else:
        blocked = None
    return rid, missing, blocked


def check_trust(t):
    doc = json.load(open(os.path.join(HERE, "trust.json")))
    for v in doc["vectors"]:
        nodes = deliveries(t, v, doc, "trust")
        for q in v["questions"]:
            want = q["expected"]
            for k, node in enumerate(nodes):
                e = node.explain(q["subject"], q["scope"], q["at"])
                used = {p[-1]["attestation"] for p in want["paths"]}
                for i in e["incoming"]:
                    if i["status"] == "in-force" and i["attestation"] in used:
                        i["status"] = "used"
                normative = lambda x: {f: x[f] for f in ("subject", "scope", "at", "mode", "trusted", "reason", "policy", "missing", "examined", "incoming")}
                t.check(f"trust/{v['name']}/{q['description']}/order-{k}", normative(e), normative(want))
                if "_p" in e:
                    t.check(f"trust/{v['name']}/{q['description']}/order-{k}/witness", check_witness(e, want), True)
                else:
                    t.check(f"trust/{v['name']}/{q['description']}/order-{k}/no-paths", want["paths"], [])


def main():
    t = Tally()
    check_records(t)
    check_chains(t)
    check_trust(t)
    print(f"crosscheck: {t.ok} of {t.ok + t.bad} checks agree, {t.bad} mismatches")
    return 1 if t.bad else 0


if __name__ == "__main__":
    sys.exit(main())
