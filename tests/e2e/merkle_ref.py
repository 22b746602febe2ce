"""merkle_ref.py - an independent RFC 9162 Merkle tree for the tests, written
from the RFC text (sections 2.1.1-2.1.4) with hashlib only; it shares no code
with src/audit/merkle.c.

Leaves are byte strings (already the leaf *data*); leaf_hash adds the 0x00
prefix. event_data gives the data of one Gatehouse audit event as documented
in docs/internals/audit.md."""

import hashlib
import struct


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(data):
    return sha256(b"\x00" + data)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def _lp(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


def event_data(seq, ts, actor, action, object_type, object_id, details):
    """u64be(seq) || i64be(ts) || lp(actor) || lp(action) || lp(object_type)
    || lp(object_id) || lp(details)"""
    return (struct.pack(">Q", seq) + struct.pack(">q", ts) + _lp(actor) + _lp(action) +
            _lp(object_type) + _lp(object_id) + _lp(details))


def _k(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """MTH over a list of leaf hashes, memoised per range."""

    def __init__(self, leaf_hashes):
        self.h = list(leaf_hashes)
        self.memo = {}

    def mth(self, lo, hi):
        if hi == lo:
            return sha256(b"")
        if hi - lo == 1:
            return self.h[lo]
        key = (lo, hi)
        if key not in self.memo:
            k = _k(hi - lo)
            self.memo[key] = node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))
        return self.memo[key]

    def root(self, n):
        return self.mth(0, n)

    def path(self, m, n):
        """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
        def rec(m, lo, hi):
            if hi - lo <= 1:
                return []
            k = _k(hi - lo)
            if m < k:
                return rec(m, lo, lo + k) + [self.mth(lo + k, hi)]
            return rec(m - k, lo + k, hi) + [self.mth(lo, lo + k)]
        return rec(m, 0, n)

    def consistency(self, m, n):
        """PROOF(m, D[n]) of RFC 9162 2.1.4.1."""
        def sub(m, lo, hi, b):
            if m == hi - lo:
                return [] if b else [self.mth(lo, hi)]
            k = _k(hi - lo)
            if m <= k:
                return sub(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
            return sub(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]
        return sub(m, 0, n, True)


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 2.1.3.2, step by step. True when the path proves the leaf."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 2.1.4.2, step by step (equal sizes: an empty proof and equal roots)."""
    if first == second:
        return not path and first_hash == second_hash
    if first == 0 or first > second or not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def _self_test():
    """The RFC 6962 reference vectors (certificate-transparency tests)."""
    data = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
            bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
    roots = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
             "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
             "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
             "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
             "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
             "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
    t = Tree([leaf_hash(d) for d in data])
    for n in range(1, 9):
        assert t.root(n).hex() == roots[n - 1], n
    assert [h.hex()[:8] for h in t.path(5, 8)] == ["bc1a0643", "ca854ea1", "d37ee418"]
    assert [h.hex()[:8] for h in t.consistency(6, 8)] == ["0ebc5d34", "ca854ea1", "d37ee418"]
    for n in range(1, 9):
        for m in range(n):
            assert verify_inclusion(t.h[m], m, n, t.path(m, n), t.root(n))
        for m in range(1, n + 1):
            assert verify_consistency(m, n, t.root(m), t.root(n), t.consistency(m, n))


_self_test()
