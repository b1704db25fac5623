#!/usr/bin/env python3
"""A second, independent implementation of range-based set reconciliation (spec/SYNC.md §5),
written from the spec alone with the Python standard library: fingerprints, the payload format,
and the reference splitting rules of the initiator and the responder.

    python3 reconcile_ref.py check reconcile.json     # every vector: fingerprints and transcripts
    python3 reconcile_ref.py run < cases.json         # transcripts of the given set pairs, as JSON

The TypeScript tests run both modes (packages/node/test/net-reconcile-crosscheck.test.ts): the
vectors, and random set pairs whose transcripts must match the TypeScript ones byte for byte.
"""
import hashlib
import json
import sys

ID = 32
FP = 16
INF = None  # the infinite timestamp
VERSION = 0x01
SKIP, FINGERPRINT, ID_LIST, ID_LIST_RESPONSE = 0, 1, 2, 3


class Malformed(Exception):
    pass


def varint(n):
    groups = [n & 0x7F]
    n >>= 7
    while n:
        groups.append(n & 0x7F)
        n >>= 7
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def fingerprint(ids):
    total = sum(int.from_bytes(i, "little") for i in ids) % (1 << 256)
    return hashlib.sha256(total.to_bytes(32, "little") + varint(len(ids))).digest()[:FP]


# Items are (timestamp, id); bounds are (timestamp or INF, prefix). Python compares tuples and
# bytes the way the spec orders them, once the prefix is padded with zeros.
def bound_key(b):
    ts, prefix = b
    return (float("inf") if ts is INF else ts, prefix + bytes(ID - len(prefix)))


def item_below(item, b):
    return (item[0], item[1]) < bound_key(b)


def minimal_bound(prev, nxt):
    if prev[0] != nxt[0]:
        return (nxt[0], b"")
    shared = 0
    while shared < ID and prev[1][shared] == nxt[1][shared]:
        shared += 1
    return (nxt[0], nxt[1][: shared + 1])


MIN_BOUND = (0, b"")
MAX_BOUND = (INF, b"")


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def byte(self):
        if self.pos >= len(self.data):
            raise Malformed("end of payload")
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self):
        value = 0
        for i in range(8):
            b = self.byte()
            if i == 0 and b == 0x80:
                raise Malformed("leading zero group")
            value = value * 128 + (b & 0x7F)
            if value > 2**53:
                raise Malformed("varint too large")
            if b < 0x80:
                return value
        raise Malformed("varint too long")

    def take(self, n):
        if n > len(self.data) - self.pos:
            raise Malformed("end of payload")
        self.pos += n
        return self.data[self.pos - n : self.pos]


def decode(payload):
    r = Reader(payload)
    if r.byte() != VERSION:
        raise Malformed("version")
    ranges, prev, last_ts = [], MIN_BOUND, 0
    while r.pos < len(payload):
        if prev[0] is INF:
            raise Malformed("range after the infinite bound")
        enc = r.varint()
        ts = INF if enc == 0 else last_ts + enc - 1
        if ts is not INF and ts > 2**53 - 1:
            raise Malformed("timestamp too large")
        last_ts = ts
        n = r.varint()
        if n > ID:
            raise Malformed("prefix too long")
        prefix = r.take(n)
        if ts is INF and n:
            raise Malformed("infinite bound with a prefix")
        if n and prefix[-1] == 0:
            raise Malformed("prefix ends in zero")
        upper = (ts, prefix)
        if bound_key(prev) >= bound_key(upper):
            raise Malformed("bounds not increasing")
        prev = upper
        mode = r.varint()
        if mode == SKIP:
            ranges.append((upper, SKIP, None))
        elif mode == FINGERPRINT:
            ranges.append((upper, FINGERPRINT, r.take(FP)))
        elif mode in (ID_LIST, ID_LIST_RESPONSE):
            count = r.varint()
            if count * ID > len(payload) - r.pos:
                raise Malformed("ids do not fit")
            ids = [r.take(ID) for _ in range(count)]
            if mode == ID_LIST:
                ranges.append((upper, ID_LIST, ids))
            else:
                ranges.append((upper, ID_LIST_RESPONSE, (ids, r.take(r.varint()))))
        else:
            raise Malformed("unknown mode")
    return ranges


class Writer:
    def __init__(self):
        self.out = bytearray([VERSION])
        self.last_ts = 0

    def bound(self, b):
        ts, prefix = b
        if ts is INF:
            self.out += varint(0)
            self.last_ts = INF
        else:
            self.out += varint(1 + ts - self.last_ts)
            self.last_ts = ts
        self.out += varint(len(prefix)) + prefix

    def put(self, upper, mode, data=None):
        self.bound(upper)
        self.out += varint(mode)
        if mode == FINGERPRINT:
            self.out += data
        elif mode == ID_LIST:
            self.out += varint(len(data)) + b"".join(data)
        elif mode == ID_LIST_RESPONSE:
            ids, bits = data
            self.out += varint(len(ids)) + b"".join(ids) + varint(len(bits)) + bits


class Pass:
    """One answer to the other side's ranges (spec/SYNC.md §5.4)."""

    def __init__(self, items, params, initiator, received_lists):
        self.items, self.p, self.initiator, self.received = items, params, initiator, received_lists
        self.w = Writer()
        self.open, self.sent, self.have, self.need = [], {}, [], []
        self.pending_skip, self.prev_bound, self.prev_index, self.cut = False, MIN_BOUND, 0, False

    def lower_bound(self, begin, b):
        i = begin
        while i < len(self.items) and item_below(self.items[i], b):
            i += 1
        return i

    def fp(self, lo, hi):
        return fingerprint([it[1] for it in self.items[lo:hi]])

    def flush_skip(self):
        if self.pending_skip:
            self.w.put(self.prev_bound, SKIP)
            self.pending_skip = False

    def id_list(self, lo, hi, upper):
        self.flush_skip()
        ids = [it[1] for it in self.items[lo:hi]]
        self.w.put(upper, ID_LIST, ids)
        if self.initiator:
            self.sent[bound_key(upper)] = ids
            self.added.append(bound_key(upper))
            self.open.append((self.prev_bound, upper))

    def buckets(self, lo, hi, upper):
        n = hi - lo
        count = self.p["smallBuckets"] if n < self.p["smallRange"] else self.p["buckets"]
        if n < count:
            return self.id_list(lo, hi, upper)
        self.flush_skip()
        per, extra = divmod(n, count)
        start, lower = lo, self.prev_bound
        for i in range(count):
            end = start + per + (1 if i < extra else 0)
            b = upper if end == hi else minimal_bound(self.items[end - 1], self.items[end])
            self.w.put(b, FINGERPRINT, self.fp(start, end))
            if self.initiator:
                self.open.append((lower, b))
            lower, start = b, end

    def split(self, lo, hi, upper):
        if hi - lo < self.p["idListThreshold"]:
            self.id_list(lo, hi, upper)
        else:
            self.buckets(lo, hi, upper)

    def step(self, upper, body):
        if self.cut:
            return False
        lo = self.prev_index
        hi = self.lower_bound(lo, upper)
        saved = (bytes(self.w.out), self.w.last_ts, self.pending_skip, len(self.open), len(self.have), len(self.need))
        self.added = []
        body(lo, hi)
        if len(self.w.out) > self.p["maxPayloadBytes"] - 64:
            out, self.w.last_ts, self.pending_skip, n_open, n_have, n_need = saved
            self.w.out = bytearray(out)
            del self.open[n_open:], self.have[n_have:], self.need[n_need:]
            for k in self.added:
                del self.sent[k]
            self.flush_skip()
            self.w.put(MAX_BOUND, FINGERPRINT, self.fp(lo, len(self.items)))
            self.open.append((self.prev_bound, MAX_BOUND))
            self.cut = True
            return False
        self.prev_index, self.prev_bound = hi, upper
        return True

    def answer(self, upper, mode, data):
        def body(lo, hi):
            if mode == SKIP:
                self.pending_skip = True
            elif mode == FINGERPRINT:
                if data == self.fp(lo, hi):
                    self.pending_skip = True
                else:
                    self.split(lo, hi, upper)
            elif mode == ID_LIST:
                ours = [it[1] for it in self.items[lo:hi]]
                if self.initiator:
                    theirs = set(data)
                    self.have += [i for i in ours if i not in theirs]
                    mine = set(ours)
                    self.need += [i for i in data if i not in mine]
                    self.pending_skip = True
                elif hi - lo <= self.p["maxResponseIds"]:
                    theirs, mine = set(data), set(ours)
                    bits = bytearray((len(data) + 7) // 8)
                    for i, x in enumerate(data):
                        if x not in mine:
                            bits[i // 8] |= 1 << (i % 8)
                    self.flush_skip()
                    self.w.put(upper, ID_LIST_RESPONSE, ([i for i in ours if i not in theirs], bytes(bits)))
                else:
                    self.buckets(lo, hi, upper)
            else:
                if not self.initiator:
                    raise Malformed("response sent to the responder")
                sent = self.received.get(bound_key(upper))
                if sent is None:
                    raise Malformed("response to a range not sent as a list")
                ids, bits = data
                if len(bits) != (len(sent) + 7) // 8:
                    raise Malformed("bitfield length")
                if len(sent) % 8 and bits[-1] >> (len(sent) % 8):
                    raise Malformed("bits past the list")
                self.need += ids
                self.have += [x for i, x in enumerate(sent) if bits[i // 8] >> (i % 8) & 1]
                self.pending_skip = True

        return self.step(upper, body)

    def own(self, upper, split_it):
        def body(lo, hi):
            if split_it:
                self.split(lo, hi, upper)
            elif hi - lo < self.p["idListThreshold"]:
                self.id_list(lo, hi, upper)
            else:
                self.flush_skip()
                self.w.put(upper, FINGERPRINT, self.fp(lo, hi))
                self.open.append((self.prev_bound, upper))

        return self.step(upper, body)

    def payload(self):
        return bytes(self.w.out) if len(self.w.out) > 1 else None


def run(a, b, params):
    """The transcript of the initiator holding `a` against the responder holding `b`."""
    a, b = sorted(set(a)), sorted(set(b))
    first = Pass(a, params, True, {})
    first.own(MAX_BOUND, True)
    query, state = first.payload() or bytes([VERSION]), first
    transcript, have, need = [], [], []
    while query is not None:
        transcript.append(query)
        responder = Pass(b, params, False, {})
        for upper, mode, data in decode(query):
            if not responder.answer(upper, mode, data):
                break
        reply = responder.payload() or bytes([VERSION])
        transcript.append(reply)
        nxt = Pass(a, params, True, state.sent)
        for upper, mode, data in decode(reply):
            if not nxt.answer(upper, mode, data):
                break
        have += nxt.have
        need += nxt.need
        payload = nxt.payload()
        query = None if payload is None or not nxt.open else payload
        state = nxt
    return transcript, have, need


def items_of(rows):
    return [(ts, bytes.fromhex(i)) for ts, i in rows]


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "run"
    if mode == "check":
        doc = json.load(open(sys.argv[2]))
        failures = 0
        for v in doc["fingerprints"]:
            got = fingerprint([bytes.fromhex(i) for i in v["ids"]]).hex()
            failures += got != v["fingerprint"]
        for v in doc["varints"]:
            failures += varint(v["value"]).hex() != v["hex"]
        for v in doc["malformed"]:
            try:
                decode(bytes.fromhex(v["payload"]))
                failures += 1
            except Malformed:
                pass
        for v in doc["transcripts"]:
            t, have, need = run(items_of(v["initiator"]), items_of(v["responder"]), doc["params"])
            failures += [x.hex() for x in t] != v["transcript"]
            failures += sorted(x.hex() for x in have) != sorted(v["have"])
            failures += sorted(x.hex() for x in need) != sorted(v["need"])
        print(json.dumps({"failures": failures}))
        sys.exit(1 if failures else 0)
    cases = json.load(sys.stdin)
    out = []
    for c in cases:
        t, have, need = run(items_of(c["initiator"]), items_of(c["responder"]), c["params"])
        out.append({"transcript": [x.hex() for x in t], "have": [x.hex() for x in have], "need": [x.hex() for x in need]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
