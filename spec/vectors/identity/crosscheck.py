#!/usr/bin/env python3
"""Independent check of the identity vectors: a second implementation of spec/IDENTITY.md,
written from the document alone, sharing no code with packages/node.

    CBOR     cbor2 (decoded, walked against the profile, and re-encoded canonically: an input
             is canonical when the re-encoding gives the same bytes)
    JSON     the standard library json module (duplicate names through object_pairs_hook)
    Ed25519  cryptography (OpenSSL); the vectors use honest signatures and plain corruptions, on
             which its cofactorless check agrees with ZIP-215
    SHA-256  hashlib; base58btc and did:key/did:cs parsing written here

It recomputes every derived field, every verdict, the outcome of every delivery, the resolved
state in every order, and every verdict on ordinary events, and prints each disagreement.

    bash scripts/bootstrap.sh --test        # installs cbor2==5.6.5 under .cache/pydeps/identity
    bash spec/vectors/identity/crosscheck.sh
"""
import hashlib
import io
import json
import os
import sys
from decimal import Decimal

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SAFE = 2**53 - 1
P = 2**255 - 19
MAX_BYTES, MAX_DEPTH, MAX_TEXT, MAX_BSTR, MAX_ENTRIES = 16384, 3, 16384, 64, 4096
MAX_LIST, MIN_DELAY, MAX_DELAY, REACH = 32, 3600, 31536000, 604800
SIG_TAG = b"commons-sync/key-event-signature/v1\x00"
NEXT_TAG = b"commons-sync/next-keys/v1\x00"
TYPES = ("inception", "rotation", "revocation", "recovery", "veto")
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


class Reject(Exception):
    def __init__(self, code, why=""):
        super().__init__(f"{code}: {why}")
        self.code = code


def no(code, why=""):
    raise Reject(code, why)


sha256 = lambda b: hashlib.sha256(b).digest()

# ------------------------------------------------------------------------------ base58, DIDs

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data):
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text):
    n = 0
    for ch in text:
        if ch not in ALPHABET:
            return None
        n = n * 58 + ALPHABET.index(ch)
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def did_key(did):
    """The 32-byte key of a strict Ed25519 did:key (PROTOCOL.md §2.2), else ERR_BAD_DID."""
    if not isinstance(did, str) or len(did) != 56 or not did.startswith("did:key:z"):
        no("ERR_BAD_DID", "not a did:key")
    data = b58decode(did[9:])
    if data is None or len(data) != 34 or data[:2] != b"\xed\x01":
        no("ERR_BAD_DID", "not ed25519")
    key = data[2:]
    if int.from_bytes(key, "little") & (2**255 - 1) >= P or key.hex() in SMALL_ORDER:
        no("ERR_BAD_DID", "unacceptable key")
    return key


def did_cs(inception_id):
    return "did:cs:z" + b58encode(b"\x12\x20" + inception_id)


def parse_did_cs(did):
    if not isinstance(did, str) or len(did) != 54 or not did.startswith("did:cs:z"):
        no("ERR_BAD_DID", "not a did:cs")
    data = b58decode(did[8:])
    if data is None or len(data) != 34 or data[:2] != b"\x12\x20":
        no("ERR_BAD_DID", "not a sha2-256 multihash")
    return data[2:]


# ------------------------------------------------------------------------------ CBOR profile


def walk(v, depth, max_depth=MAX_DEPTH):
    """Checks the data model and limits (IDENTITY.md §4, §5.1) of a cbor2 value."""
    if v is None or isinstance(v, bool):
        return
    if isinstance(v, int):
        if abs(v) > MAX_SAFE:
            no("ERR_MALFORMED", "integer range")
        return
    if isinstance(v, str):
        if len(v.encode("utf-8", "surrogatepass")) > MAX_TEXT:
            no("ERR_TOO_LARGE", "text")
        return
    if isinstance(v, bytes):
        if len(v) > MAX_BSTR:
            no("ERR_TOO_LARGE", "bytes")
        return
    if isinstance(v, (list, dict)):
        if depth + 1 > max_depth:
            no("ERR_TOO_DEEP", "depth")
        if len(v) > MAX_ENTRIES:
            no("ERR_TOO_LARGE", "entries")
        for k in v if isinstance(v, dict) else []:
            if not isinstance(k, str):
                no("ERR_MALFORMED", "non-text key")
        for x in v.values() if isinstance(v, dict) else v:
            walk(x, depth + 1, max_depth)
        return
    no("ERR_MALFORMED", f"not in the data model: {type(v).__name__}")


def canonical(value):
    return cbor2.dumps(value, canonical=True)


def decode_cbor(data, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH):
    if len(data) > max_bytes:
        no("ERR_TOO_LARGE", "input")
    try:
        stream = io.BytesIO(data)
        value = cbor2.CBORDecoder(stream).decode()
        if stream.tell() != len(data):
            no("ERR_MALFORMED", "trailing bytes")
    except Reject:
        raise
    except Exception as e:  # any decoding failure of cbor2
        no("ERR_MALFORMED", str(e))
    walk(value, 0, max_depth)
    if canonical(value) != data:
        no("ERR_MALFORMED", "not the canonical encoding")
    return value


# ------------------------------------------------------------------------------ JSON form

HEX_TOP = ("prior", "target", "next")


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


def from_json_value(v, depth=0, path=()):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return v if abs(v) <= MAX_SAFE else no("ERR_MALFORMED", "integer range")
    if isinstance(v, str):
        try:
            raw = v.encode("utf-8")
        except UnicodeEncodeError:
            no("ERR_MALFORMED", "lone surrogate")
        is_hex = (len(path) == 1 and path[0] in HEX_TOP) or (len(path) == 3 and path[0] == "signatures" and path[2] == "sig")
        if is_hex:
            if len(v) > 2 * MAX_BSTR:
                no("ERR_TOO_LARGE", "hex")
            if len(v) % 2 or any(c not in "0123456789abcdef" for c in v):
                no("ERR_MALFORMED", "hex")
            return bytes.fromhex(v)
        if len(raw) > MAX_TEXT:
            no("ERR_TOO_LARGE", "text")
        return v
    if depth + 1 > MAX_DEPTH:
        no("ERR_TOO_DEEP", "depth")
    if len(v) > MAX_ENTRIES:
        no("ERR_TOO_LARGE", "entries")
    if isinstance(v, list):
        return [from_json_value(x, depth + 1, path + (str(i),)) for i, x in enumerate(v)]
    for k in v:
        from_json_value(k, depth + 1, ())
    return {k: from_json_value(x, depth + 1, path + (k,)) for k, x in v.items()}


def parse_json_text(text):
    try:
        value = json.loads(text, object_pairs_hook=json_pairs, parse_float=json_number, parse_constant=lambda s: no("ERR_MALFORMED", s))
    except Reject:
        raise
    except ValueError:
        no("ERR_MALFORMED", "not JSON")
    return value


def from_json(value):
    if not isinstance(value, dict):
        no("ERR_MALFORMED", "not an object")
    m = from_json_value(value)
    if len(canonical(m)) > MAX_BYTES:
        no("ERR_TOO_LARGE", "encoded size")
    return m


# ------------------------------------------------------------------------------ schema (§3.1)

RULES = [  # field, types requiring it, types allowing it
    ("identity", "rotation revocation recovery veto", ""),
    ("seq", "inception rotation revocation recovery", ""),
    ("prior", "rotation revocation recovery", ""),
    ("target", "veto", ""),
    ("created_at", "inception rotation revocation recovery veto", ""),
    ("keys", "inception rotation revocation recovery", ""),
    ("threshold", "inception rotation revocation recovery", ""),
    ("next", "inception rotation revocation recovery", ""),
    ("guardians", "inception rotation revocation recovery", ""),
    ("guardian_threshold", "inception rotation revocation recovery", ""),
    ("recovery_delay", "inception rotation revocation recovery", ""),
    ("revoked_from", "revocation", "recovery"),
]
KNOWN = {"v", "type", "signatures"} | {f for f, _, _ in RULES}


def is_uint(x):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= MAX_SAFE


def uint(m, f):
    if not is_uint(m.get(f)):
        no("ERR_BAD_FIELD", f)
    return m[f]


def digest(m, f):
    if not isinstance(m.get(f), bytes) or len(m[f]) != 32:
        no("ERR_BAD_FIELD", f)


def key_list(m, f, least):
    v = m.get(f)
    if not isinstance(v, list):
        no("ERR_BAD_FIELD", f)
    if len(v) > MAX_LIST:
        no("ERR_TOO_LARGE", f)
    if len(v) < least:
        no("ERR_BAD_FIELD", f"{f} empty")
    prev = None
    for x in v:
        if not isinstance(x, str):
            no("ERR_BAD_FIELD", f"{f} entry")
        did_key(x)
        if prev is not None and not prev.encode() < x.encode():
            no("ERR_BAD_FIELD", f"{f} order")
        prev = x
    return v


def check_schema(m):
    if not isinstance(m, dict):
        no("ERR_MALFORMED", "not a map")
    if "v" not in m or not is_uint(m["v"]):
        no("ERR_BAD_FIELD", "v")
    if m["v"] != 1:
        no("ERR_UNSUPPORTED_VERSION", "v")
    t = m.get("type")
    if t not in TYPES:
        no("ERR_BAD_FIELD", "type")
    for f, required, optional in RULES:
        allowed = t in required.split() or t in optional.split()
        if f in m and not allowed:
            no("ERR_BAD_FIELD", f"{f} not allowed")
        if f not in m and t in required.split():
            no("ERR_BAD_FIELD", f"{f} missing")
        if f not in m:
            continue
        if f == "identity":
            if not isinstance(m[f], str):
                no("ERR_BAD_FIELD", f)
            parse_did_cs(m[f])
        elif f == "seq":
            seq = uint(m, f)
            if (t == "inception") != (seq == 0):
                no("ERR_KEL_BAD_SEQ", "seq")
        elif f in ("prior", "target", "next"):
            digest(m, f)
        elif f in ("created_at",):
            uint(m, f)
        elif f == "revoked_from":
            r = uint(m, f)
            if r > m["created_at"] or m["created_at"] - r > REACH:
                no("ERR_KEL_REVOCATION_RANGE", f)
        elif f == "keys":
            keys = key_list(m, "keys", 1)
            th = uint(m, "threshold")
            if not 1 <= th <= len(keys):
                no("ERR_BAD_FIELD", "threshold")
            digest(m, "next")
            guardians = key_list(m, "guardians", 0)
            gt = uint(m, "guardian_threshold")
            delay = uint(m, "recovery_delay")
            if not guardians and (gt != 0 or delay != 0):
                no("ERR_BAD_FIELD", "guardian fields without guardians")
            if guardians and not (1 <= gt <= len(guardians) and MIN_DELAY <= delay <= MAX_DELAY):
                no("ERR_BAD_FIELD", "guardian fields")
    sigs = m.get("signatures")
    if not isinstance(sigs, list):
        no("ERR_BAD_FIELD", "signatures")
    if len(sigs) > MAX_LIST:
        no("ERR_TOO_LARGE", "signatures")
    if not sigs:
        no("ERR_BAD_FIELD", "signatures empty")
    for s in sigs:
        if not isinstance(s, dict) or set(s) != {"signer", "sig"}:
            no("ERR_BAD_FIELD", "signature entry")
        if not isinstance(s["signer"], str):
            no("ERR_BAD_FIELD", "signer")
        did_key(s["signer"])
        if not isinstance(s["sig"], bytes) or len(s["sig"]) != 64:
            no("ERR_BAD_FIELD", "sig")
    for k in m:
        if k not in KNOWN:
            no("ERR_BAD_FIELD", f"unknown {k}")


class KeyEvent:
    def __init__(self, m):
        self.m = m
        self.type = m["type"]
        body = {k: v for k, v in m.items() if k != "signatures"}
        self.body = canonical(body)
        self.id = sha256(self.body)
        self.hex = self.id.hex()
        self.identity = did_cs(self.id) if self.type == "inception" else m["identity"]
        self.message = SIG_TAG + self.id
        self.ref = None if self.type == "inception" else (m["target"] if self.type == "veto" else m["prior"]).hex()

    def verdicts(self):
        out = []
        for s in self.m["signatures"]:
            try:
                Ed25519PublicKey.from_public_bytes(did_key(s["signer"])).verify(s["sig"], self.message)
                out.append(True)
            except (InvalidSignature, ValueError):
                out.append(False)
        return out

    def signed_by(self, keys):
        return len({s["signer"] for s in self.m["signatures"]} & set(keys))


def decode_event(form, value):
    m = decode_cbor(value) if form == "cbor" else from_json(parse_json_text(value) if form == "json_text" else value)
    check_schema(m)
    return KeyEvent(m)


def commitment(keys, threshold):
    return sha256(NEXT_TAG + canonical({"keys": keys, "threshold": threshold}))


def standalone(e, now, skew):
    if e.m["created_at"] > now + skew:
        return "ERR_NOT_YET_VALID"
    if not all(e.verdicts()):
        return "ERR_BAD_SIGNATURE"
    if e.type == "inception" and e.signed_by(e.m["keys"]) < e.m["threshold"]:
        return "ERR_KEL_THRESHOLD_NOT_MET"
    return "valid"


# ------------------------------------------------------------------------------ rules (§6 step 8), resolution (§7)


def start(e, attached):
    if e.type == "recovery":
        return e.m["created_at"] + attached[e.ref].m["recovery_delay"]
    return e.m["created_at"]


def rule(e, attached):
    """§6 step 8 for an event whose reference is attached; None when it passes."""
    m = e.m
    if e.type == "inception":
        return None if e.signed_by(m["keys"]) >= m["threshold"] else "ERR_KEL_THRESHOLD_NOT_MET"
    if e.type == "veto":
        t = attached[e.ref]
        if t.type != "recovery":
            return "ERR_KEL_BAD_TARGET"
        p = attached[t.ref].m
        if e.signed_by(p["keys"]) < p["threshold"]:
            return "ERR_KEL_THRESHOLD_NOT_MET"
        if not t.m["created_at"] <= m["created_at"] < t.m["created_at"] + p["recovery_delay"]:
            return "ERR_KEL_VETO_WINDOW"
        return None
    prior = attached[e.ref]
    p = prior.m
    if m["seq"] != p["seq"] + 1:
        return "ERR_KEL_BAD_SEQ"
    if m["created_at"] < start(prior, attached):
        return "ERR_KEL_TIME_ORDER"
    if e.type == "recovery":
        if not p["guardians"]:
            return "ERR_KEL_NO_GUARDIANS"
        return None if e.signed_by(p["guardians"]) >= p["guardian_threshold"] else "ERR_KEL_THRESHOLD_NOT_MET"
    if commitment(m["keys"], m["threshold"]) != p["next"]:
        return "ERR_KEL_NEXT_MISMATCH"
    return None if e.signed_by(m["keys"]) >= m["threshold"] else "ERR_KEL_THRESHOLD_NOT_MET"


class Node:
    """One node: attached key events of one identity, and the escrow (§6 steps 5, 7, 8). Copies
    of one key event (same id, other signatures) are judged each on its own signatures."""

    def __init__(self, identity):
        self.identity, self.attached, self.escrow = identity, {}, []

    @staticmethod
    def signers(e):
        return " ".join(sorted({s["signer"] for s in e.m["signatures"]}))

    def deliver(self, e, now, skew):
        if e.m["created_at"] > now + skew:
            return ("ERR_NOT_YET_VALID", None)
        if e.hex in self.attached or any(x.hex == e.hex and self.signers(x) == self.signers(e) for x in self.escrow):
            return ("duplicate", None)
        if not all(e.verdicts()):
            return ("ERR_BAD_SIGNATURE", None)
        if e.type != "inception" and e.ref not in self.attached:
            self.escrow.append(e)
            return ("escrowed", None)
        why = rule(e, self.attached)
        if why:
            return (why, None)
        joined = [e.hex]
        self.attached[e.hex] = e
        while True:  # escrowed copies whose reference is now attached
            ready = sorted((x for x in self.escrow if x.ref in self.attached), key=lambda x: (x.hex, self.signers(x)))
            if not ready:
                break
            self.escrow = [x for x in self.escrow if x.ref not in self.attached]
            for x in ready:
                if x.hex not in self.attached and rule(x, self.attached) is None:
                    self.attached[x.hex] = x
                    joined.append(x.hex)
        return ("accepted", joined)

    def state(self):
        att = self.attached
        est = {h: e for h, e in att.items() if e.type != "veto"}
        vetoed = {e.ref for e in att.values() if e.type == "veto"}
        retire = lambda x: x.m.get("revoked_from", start(x, att))
        current = next(e for e in est.values() if e.type == "inception")
        chain, duplicity, status, frozen_from = [], [], "active", None
        while True:
            kids = sorted((e for e in est.values() if e.type != "inception" and e.ref == current.hex), key=lambda e: e.hex)
            rots = [e for e in kids if e.type in ("rotation", "revocation")]
            recs = [e for e in kids if e.type == "recovery" and e.hex not in vetoed]
            winner = rots[0] if len(rots) == 1 else (recs[0] if len(recs) == 1 else None)
            disputed = len(rots) >= 2 or len(recs) >= 2
            if disputed:
                duplicity.append({"seq": current.m["seq"] + 1, "prior": current.hex, "rotations": [e.hex for e in rots],
                                  "recoveries": [e.hex for e in recs], "resolved_by": winner.hex if winner else None})
            link = {"id": current.hex, "seq": current.m["seq"], "type": current.type, "keys": list(current.m["keys"]),
                    "threshold": current.m["threshold"], "start": start(current, att)}
            if winner is None and disputed:
                end = min(retire(x) for x in rots + recs)
                chain.append({**link, "end": end, "end_cause": "frozen", "ended_by": None})
                status, frozen_from = "frozen", end
                break
            if winner is None:
                chain.append({**link, "end": None, "end_cause": None, "ended_by": None})
                break
            cause = "revoked" if "revoked_from" in winner.m else "rotated"
            chain.append({**link, "end": retire(winner), "end_cause": cause, "ended_by": winner.hex})
            current = winner
        on_chain = {k["id"] for k in chain}
        return {"identity": self.identity, "status": status, "frozen_from": frozen_from, "chain": chain, "duplicity": duplicity,
                "superseded": sorted(h for h in est if h not in on_chain), "vetoed": sorted(vetoed)}

    def verdict(self, state, author, created_at, key_state, signers):
        """§8 in order."""
        if author != self.identity or not any(e.type == "inception" for e in self.attached.values()):
            return "ERR_KEL_UNKNOWN_IDENTITY"
        if key_state not in self.attached or self.attached[key_state].type == "veto":
            return "ERR_KEL_UNKNOWN_KEY_STATE"
        link = next((k for k in state["chain"] if k["id"] == key_state), None)
        if link is None:
            return "ERR_KEL_SUPERSEDED_KEY_STATE"
        if created_at < link["start"]:
            return "ERR_KEL_BEFORE_KEY_STATE"
        if link["end"] is not None and created_at >= link["end"]:
            return {"revoked": "ERR_KEL_KEY_REVOKED", "frozen": "ERR_KEL_IDENTITY_FROZEN"}.get(link["end_cause"], "ERR_KEL_KEY_ROTATED")
        if len(set(signers) & set(link["keys"])) < link["threshold"]:
            return "ERR_KEL_THRESHOLD_NOT_MET"
        return "valid"


# ------------------------------------------------------------------------------ the files

mismatches, checked = [], 0


def expect(where, got, want):
    global checked
    checked += 1
    if got != want:
        mismatches.append(f"{where}: got {got!r}, expected {want!r}")


def load(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return json.load(f)


def check_identifiers():
    doc = load("identifiers.json")
    for v in doc["valid"]:
        expect(f"identifiers/{v['name']}", did_cs(bytes.fromhex(v["inception_id"])), v["did"])
        expect(f"identifiers/{v['name']} parse", parse_did_cs(v["did"]).hex(), v["inception_id"])
    for v in doc["invalid"]:
        try:
            parse_did_cs(v["did"])
            got = "valid"
        except Reject as r:
            got = r.code
        expect(f"identifiers/{v['name']}", got, v["expected"])


def check_key_events():
    doc = load("key-events.json")
    for name, k in doc["keys"].items():  # each did:key from its seed
        raw = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(k["seed"])).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        expect(f"keys/{name}", "did:key:z" + b58encode(b"\xed\x01" + raw), k["did"])
    for v in doc["vectors"]:
        for form in ("cbor", "json", "json_text"):
            if form not in v:
                continue
            value = bytes.fromhex(v["cbor"]) if form == "cbor" else v[form]
            try:
                e = decode_event(form, value)
            except Reject as r:
                expect(f"key-events/{v['name']} ({form})", r.code, v["expected"])
                continue
            expect(f"key-events/{v['name']} ({form})", standalone(e, doc["now"], doc["clock_skew_s"]), v["expected"])
            expect(f"key-events/{v['name']} ({form}) body", e.body.hex(), v.get("body_cbor"))
            expect(f"key-events/{v['name']} ({form}) id", e.hex, v.get("id"))
            expect(f"key-events/{v['name']} ({form}) identity", e.identity, v.get("identity"))
            expect(f"key-events/{v['name']} ({form}) signing input", e.message.hex(), v.get("signing_input"))
            expect(f"key-events/{v['name']} ({form}) verdicts", e.verdicts(), v.get("signature_verdicts"))
            if form == "cbor":
                expect(f"key-events/{v['name']} re-encoding", canonical(e.m).hex(), v["cbor"])


def check_logs():
    doc = load("logs.json")
    for v in doc["vectors"]:
        events = {}
        for x in v["events"]:
            e = decode_event("cbor", bytes.fromhex(x["cbor"]))
            json_e = decode_event("json", x["json"])
            expect(f"logs/{v['name']}/{x['label']} id", e.hex, x["id"])
            expect(f"logs/{v['name']}/{x['label']} json id", json_e.hex, x["id"])
            events[x["label"]] = e
        label_of = {}  # copies share an id: the first label listed names it
        for label, e in events.items():
            label_of.setdefault(e.hex, label)
        for n, d in enumerate(v["deliveries"]):
            node = Node(v["identity"])
            for step, label in zip(d["outcomes"], d["order"]):
                outcome, joined = node.deliver(events[label], doc["now"], doc["clock_skew_s"])
                expect(f"logs/{v['name']} order {n} {label}", outcome, step["outcome"])
                if joined is not None:
                    expect(f"logs/{v['name']} order {n} {label} attached", sorted(label_of[h] for h in joined), sorted(step["attached"]))
            state = node.state()
            expect(f"logs/{v['name']} order {n} state", state, v["state"])
            for q in v["verdicts"]:
                got = node.verdict(state, q["author"], q["created_at"], q["key_state"], q["signers"])
                expect(f"logs/{v['name']} order {n} verdict '{q['description']}'", got, q["expected"])


# ------------------------------------------------------------------------------ events by identities
# PROTOCOL.md §2 and §7 for an event whose author is a did:cs: the event's own profile and
# schema, then time, signatures, and step 7, the identity verdict (IDENTITY.md §8).

EV_MAX_BYTES, EV_MAX_DEPTH, SKEW, LIFETIME = 65536, 17, 300, 604800
EV_SIG_TAG = b"commons-sync/event-signature/v1\x00"
EV_FIELDS = {"v", "kind", "author", "key_state", "created_at", "expires_at", "nonce", "payload", "threshold", "signers", "signatures"}


def no_bytes(v):
    if isinstance(v, bytes):
        no("ERR_BAD_FIELD", "bytes in payload")
    for x in v.values() if isinstance(v, dict) else v if isinstance(v, list) else []:
        no_bytes(x)


def check_ordinary(m):
    """The field table of PROTOCOL.md §2.1 in order, for a did:cs author (these vectors have no other)."""
    if not isinstance(m, dict):
        no("ERR_MALFORMED", "not a map")
    if not is_uint(m.get("v")):
        no("ERR_BAD_FIELD", "v")
    if m["v"] != 1:
        no("ERR_UNSUPPORTED_VERSION", "v")
    kind = m.get("kind")
    if not isinstance(kind, str):
        no("ERR_BAD_FIELD", "kind")
    if len(kind.encode()) > 64:
        no("ERR_TOO_LARGE", "kind")
    if not kind or any(not 0x21 <= ord(c) <= 0x7E for c in kind):
        no("ERR_BAD_FIELD", "kind")
    author = m.get("author")
    if not isinstance(author, str):
        no("ERR_BAD_FIELD", "author")
    if not author.startswith("did:cs:"):
        no("ERR_NOT_COVERED", "these vectors are events by identities")
    parse_did_cs(author)
    ks = m.get("key_state")
    if not isinstance(ks, bytes) or len(ks) != 32:
        no("ERR_BAD_FIELD", "key_state")
    if not is_uint(m.get("created_at")) or not is_uint(m.get("expires_at")) or m["expires_at"] <= m["created_at"]:
        no("ERR_BAD_FIELD", "times")
    if not isinstance(m.get("nonce"), bytes) or not 16 <= len(m["nonce"]) <= 32:
        no("ERR_BAD_FIELD", "nonce")
    if "payload" not in m:
        no("ERR_BAD_FIELD", "payload")
    no_bytes(m["payload"])
    if "threshold" in m or "signers" in m:
        no("ERR_BAD_FIELD", "no policy with a did:cs author")
    sigs = m.get("signatures")
    if not isinstance(sigs, list):
        no("ERR_BAD_FIELD", "signatures")
    if len(sigs) > 32:
        no("ERR_TOO_LARGE", "signatures")
    if not sigs:
        no("ERR_BAD_FIELD", "signatures")
    for e in sigs:
        if not isinstance(e, dict) or set(e) != {"signer", "sig"} or not isinstance(e["signer"], str):
            no("ERR_BAD_FIELD", "signature entry")
        did_key(e["signer"])
        if not isinstance(e["sig"], bytes) or len(e["sig"]) != 64:
            no("ERR_BAD_FIELD", "sig")
    for k in m:
        if k not in EV_FIELDS:
            no("ERR_BAD_FIELD", f"unknown {k}")


def ordinary_from_json(v, path=()):
    """The JSON form of an event in the data model: nonce, key_state and each sig are hex."""
    if isinstance(v, str) and (path in (("nonce",), ("key_state",)) or (len(path) == 3 and path[0] == "signatures" and path[2] == "sig")):
        if len(v) % 2 or any(c not in "0123456789abcdef" for c in v):
            no("ERR_MALFORMED", "hex")
        return bytes.fromhex(v)
    if isinstance(v, list):
        return [ordinary_from_json(x, path + (str(i),)) for i, x in enumerate(v)]
    if isinstance(v, dict):
        return {k: ordinary_from_json(x, path + (k,)) for k, x in v.items()}
    return v


def ordinary_verdict(m, now, node, state):
    """§7 steps 4, 6 and 7 (no replay: each vector event is new to the node); derived fields too."""
    body = canonical({k: v for k, v in m.items() if k != "signatures"})
    event_id = sha256(body)
    message = EV_SIG_TAG + event_id
    verdicts = []
    for s in m["signatures"]:
        try:
            Ed25519PublicKey.from_public_bytes(did_key(s["signer"])).verify(s["sig"], message)
            verdicts.append(True)
        except (InvalidSignature, ValueError):
            verdicts.append(False)
    derived = {"body_cbor": body.hex(), "id": event_id.hex(), "signing_input": message.hex(), "signature_verdicts": verdicts}
    if now >= m["expires_at"]:
        return "ERR_EXPIRED", derived
    if m["created_at"] > now + SKEW:
        return "ERR_NOT_YET_VALID", derived
    if m["expires_at"] - m["created_at"] > LIFETIME:
        return "ERR_LIFETIME_TOO_LONG", derived
    if not all(verdicts):
        return "ERR_BAD_SIGNATURE", derived
    got = node.verdict(state, m["author"], m["created_at"], m["key_state"].hex(), [s["signer"] for s in m["signatures"]])
    return ("accepted" if got == "valid" else got), derived


def check_events():
    doc = load("events.json")
    for v in doc["vectors"]:
        node = Node(v["identity"])
        for x in v["key_events"]:
            e = decode_event("cbor", bytes.fromhex(x["cbor"]))
            expect(f"events/{v['name']}/{x['label']} id", e.hex, x["id"])
            expect(f"events/{v['name']}/{x['label']} json id", decode_event("json", x["json"]).hex, x["id"])
            outcome, _ = node.deliver(e, doc["now"], doc["clock_skew_s"])
            expect(f"events/{v['name']}/{x['label']} attached", outcome, "accepted")
        state = node.state()
        expect(f"events/{v['name']} state", state, v["state"])
        for q in v["events"]:
            where = f"events/{v['name']} '{q['description']}'"
            raw = bytes.fromhex(q["cbor"])
            m = decode_cbor(raw, EV_MAX_BYTES, EV_MAX_DEPTH)
            check_ordinary(m)
            got, derived = ordinary_verdict(m, doc["now"], node, state)
            expect(where, got, q["expected"])
            for field, value in derived.items():
                expect(f"{where} {field}", value, q[field])
            # the JSON form: the same event, read by the standard library, hex turned into bytes
            j = ordinary_from_json(parse_json_text(json.dumps(q["json"])))
            expect(f"{where} json form", canonical(j).hex(), q["cbor"])
            check_ordinary(j)
            expect(f"{where} json verdict", ordinary_verdict(j, doc["now"], node, state)[0], q["expected"])


def main():
    check_identifiers()
    check_key_events()
    check_logs()
    check_events()
    for m in mismatches:
        print("MISMATCH", m)
    print(f"crosscheck: {checked - len(mismatches)} of {checked} checks agree, {len(mismatches)} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
