#!/usr/bin/env python3
"""test_merkle.py - the Merkle tree over the audit log against a real server,
checked by an independent RFC 9162 implementation (merkle_ref.py): roots at
every size, inclusion proofs for random events and sizes, consistency proofs
for random pairs; every proof fails in Python when one byte changes; bad
parameters are 400 naming the parameter; the CLI checks proofs; tampering with
a stored event, leaf hash or node is caught by `gatehouse audit verify`."""

import base64
import json
import os
import random
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
import merkle_ref as ref  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

BROKEN_RE = re.compile(r"audit chain broken at sequence (\d+): (.+)")


def b64d(s):
    return base64.b64decode(s, validate=True)


def flip(b, i, bit=1):
    x = bytearray(b)
    x[i % len(x)] ^= bit
    return bytes(x)


def events(srv, db=None):
    """Leaf hashes recomputed in Python from the stored events (read-only)."""
    rows = ghtest.query(db or srv, "SELECT seq, ts, actor, action, object_type, object_id,"
                        " details FROM audit_events ORDER BY seq")
    for i, r in enumerate(rows):
        eq(r[0], i + 1, "events are 1..n")
    return [ref.leaf_hash(ref.event_data(*r)) for r in rows]


def populate(srv):
    srv.start()
    owner, owner_tok = srv.user("mk-owner", ["requester"])
    appr, _ = srv.user("mk-approver", ["approver"])
    grp = srv.group("mk-owners", [appr])
    sysm = srv.system("mk-db", owner["id"])
    low = srv.entitlement(sysm["id"], "ro", "low", "1h", grp["id"])
    for i in range(12):
        bot = srv.nhi("mk-bot-%d" % i, owner["id"])
        srv.request(bot["id"], low["id"], token=owner_tok)
    srv.human("mk-unicode", display_name="Zoë Ölçer / \u2603")


def body(t, binary):
    srv = t.server(binary, name="merkle")
    if not t.case("populate: identities, requests, grants", populate, srv):
        return
    auditor, auditor_tok = srv.user("mk-auditor", ["auditor"])
    _, requester_tok = srv.user("mk-requester", ["requester"])
    st = {}
    rnd = random.Random(6962)

    def tree_matches_python():
        leaves = events(srv)
        n = len(leaves)
        expect(n >= 60, "at least 60 events: %d" % n)
        tr = ref.Tree(leaves)
        doc = status(srv.get("/v1/audit/tree", token=auditor_tok), 200, "tree")
        eq(doc["size"], n, "tree size is the number of events")
        eq(b64d(doc["root"]), tr.root(n), "root now")
        for m in list(range(0, 9)) + rnd.sample(range(9, n + 1), 12):
            d = status(srv.get("/v1/audit/tree?size=%d" % m, token=auditor_tok), 200, "tree")
            eq((d["size"], b64d(d["root"])), (m, tr.root(m)), "root at size %d" % m)
        st["n"], st["tree"] = n, tr
    if not t.case("the tree's root equals Python's at the current and past sizes",
                  tree_matches_python):
        return
    n, tr = st["n"], st["tree"]

    def inclusion():
        checked = 0
        for _ in range(40):
            size = rnd.randint(1, n)
            seq = rnd.randint(1, size)
            d = status(srv.get("/v1/audit/proofs/inclusion?seq=%d&size=%d" % (seq, size),
                               token=auditor_tok), 200, "inclusion")
            eq((d["seq"], d["index"], d["size"]), (seq, seq - 1, size), "echo")
            leaf, root = b64d(d["leaf_hash"]), b64d(d["root"])
            proof = [b64d(p) for p in d["proof"]]
            eq(leaf, tr.h[seq - 1], "leaf hash of %d" % seq)
            eq(root, tr.root(size), "root at %d" % size)
            eq(proof, tr.path(seq - 1, size), "path of %d in %d" % (seq, size))
            expect(ref.verify_inclusion(leaf, seq - 1, size, proof, root),
                   "proof of %d in %d verifies in Python" % (seq, size))
            for j in range(len(proof)):
                bad = list(proof)
                bad[j] = flip(bad[j], rnd.randrange(32), 1 << rnd.randrange(8))
                expect(not ref.verify_inclusion(leaf, seq - 1, size, bad, root),
                       "altered proof element %d of %d in %d fails" % (j, seq, size))
            expect(not ref.verify_inclusion(flip(leaf, 5), seq - 1, size, proof, root),
                   "altered leaf fails")
            expect(not ref.verify_inclusion(leaf, seq - 1, size, proof, flip(root, 31)),
                   "altered root fails")
            if proof:
                expect(not ref.verify_inclusion(leaf, seq - 1, size, proof[:-1], root),
                       "a shortened proof fails")
            checked += 1
        # the current size by default
        d = status(srv.get("/v1/audit/proofs/inclusion?seq=1", token=auditor_tok), 200, "default")
        eq(d["size"], n, "default size is the current size")
        expect(ref.verify_inclusion(b64d(d["leaf_hash"]), 0, n, [b64d(p) for p in d["proof"]],
                                    tr.root(n)), "default-size proof verifies")
        eq(checked, 40, "proofs checked")
    t.case("inclusion proofs for random events and sizes verify in Python, fail when altered",
           inclusion)

    def consistency():
        pairs = [(1, 1), (1, n), (n, n)] + [tuple(sorted(rnd.sample(range(1, n + 1), 2)))
                                            for _ in range(30)]
        for old, new in pairs:
            d = status(srv.get("/v1/audit/proofs/consistency?old=%d&new=%d" % (old, new),
                               token=auditor_tok), 200, "consistency")
            eq((d["old_size"], d["new_size"]), (old, new), "echo")
            r1, r2 = b64d(d["old_root"]), b64d(d["new_root"])
            proof = [b64d(p) for p in d["proof"]]
            eq((r1, r2), (tr.root(old), tr.root(new)), "roots %d, %d" % (old, new))
            eq(proof, tr.consistency(old, new), "proof %d -> %d" % (old, new))
            expect(ref.verify_consistency(old, new, r1, r2, proof),
                   "consistency %d -> %d verifies in Python" % (old, new))
            for j in range(len(proof)):
                bad = list(proof)
                bad[j] = flip(bad[j], rnd.randrange(32))
                expect(not ref.verify_consistency(old, new, r1, r2, bad),
                       "altered element %d of %d -> %d fails" % (j, old, new))
            if old < new:
                expect(not ref.verify_consistency(old, new, flip(r1, 0), r2, proof),
                       "altered old root fails")
                expect(not ref.verify_consistency(old, new, r1, flip(r2, 9), proof),
                       "altered new root fails")
        d = status(srv.get("/v1/audit/proofs/consistency?old=3", token=auditor_tok), 200, "now")
        eq(d["new_size"], n, "default new size is the current size")
    t.case("consistency proofs for random sizes verify in Python, fail when altered",
           consistency)

    def bad_input():
        cases = [
            ("/v1/audit/tree?size=%d" % (n + 1), "size"),
            ("/v1/audit/tree?size=-1", "size"),
            ("/v1/audit/tree?size=x", "size"),
            ("/v1/audit/proofs/inclusion", "seq"),
            ("/v1/audit/proofs/inclusion?seq=0", "seq"),
            ("/v1/audit/proofs/inclusion?seq=abc", "seq"),
            ("/v1/audit/proofs/inclusion?seq=5&size=4", "seq"),
            ("/v1/audit/proofs/inclusion?seq=1&size=%d" % (n + 1), "size"),
            ("/v1/audit/proofs/consistency", "old"),
            ("/v1/audit/proofs/consistency?old=0", "old"),
            ("/v1/audit/proofs/consistency?old=5&new=4", "old"),
            ("/v1/audit/proofs/consistency?old=1&new=%d" % (n + 1), "new"),
            ("/v1/audit/proofs/consistency?old=1&bogus=2", "bogus"),
        ]
        for path, field in cases:
            problem(srv.get(path, token=auditor_tok), 400, field=field, what=path)
        problem(srv.get("/v1/audit/tree", token=requester_tok), 403, what="requester")
        problem(srv.get("/v1/audit/tree", token=None), 401, what="no token")
    t.case("bad parameters are 400 naming the parameter; roles enforced", bad_input)

    def cli():
        env = dict(os.environ, GATEHOUSE_SERVER="http://127.0.0.1:%d" % srv.port,
                   GATEHOUSE_TOKEN=auditor_tok)
        r = srv.cli("audit", "proof", "inclusion", "3", "--size", "17", env=env)
        eq(r.returncode, 0, "cli inclusion (%s)" % (r.stdout + r.stderr)[-300:])
        expect("verified" in r.stdout, "the CLI says it checked the proof: %r" % r.stdout)
        r = srv.cli("audit", "proof", "consistency", "7", str(n), env=env)
        eq(r.returncode, 0, "cli consistency (%s)" % (r.stdout + r.stderr)[-300:])
        r = srv.cli("--json", "audit", "tree", "--size", "5", env=env)
        eq(r.returncode, 0, "cli tree")
        eq(b64d(json.loads(r.stdout)["root"]), tr.root(5), "cli tree root")
        r = srv.cli("audit", "proof", "inclusion", "0", env=env)
        eq(r.returncode, 1, "seq 0 refused by the server (%s)" % (r.stdout + r.stderr)[-300:])
        r = srv.cli("audit", "proof", "inclusion", env=env)
        eq(r.returncode, 2, "usage")
    t.case("the CLI fetches and checks proofs", cli)

    def appends_extend_consistently():
        old_root = tr.root(n)
        for i in range(5):
            srv.human("mk-late-%d" % i)
        leaves = events(srv)
        m = len(leaves)
        expect(m > n, "more events")
        d = status(srv.get("/v1/audit/proofs/consistency?old=%d&new=%d" % (n, m),
                           token=auditor_tok), 200, "consistency")
        eq(b64d(d["old_root"]), old_root, "old root unchanged")
        expect(ref.verify_consistency(n, m, old_root, ref.Tree(leaves).root(m),
                                      [b64d(p) for p in d["proof"]]),
               "the grown log is consistent with the old root")
    t.case("later appends extend the tree consistently", appends_extend_consistently)

    t.stop(srv)

    def tamper(name, sql, what):
        copy = os.path.join(srv.dir, "tampered.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(copy + suffix):
                os.remove(copy + suffix)
        a, b = sqlite3.connect(srv.db), sqlite3.connect(copy)
        try:
            a.backup(b)
        finally:
            b.close()
            a.close()
        v = ghtest.run_cli(binary, copy, "audit", "verify")
        eq(v.returncode, 0, "untouched copy verifies (%s)" % (v.stdout + v.stderr)[-300:])
        con = sqlite3.connect(copy)
        try:
            con.executescript(sql)
            con.commit()
        finally:
            con.close()
        v = ghtest.run_cli(binary, copy, "audit", "verify")
        out = v.stdout + v.stderr
        eq(v.returncode, 1, "verify after %s (%s)" % (name, out[-300:]))
        expect(BROKEN_RE.search(out) and what in out, "verify names %r: %r" % (what, out[-300:]))
        expect(ghtest.sanitizer_report(out) is None, "sanitizer: %s" % out[-1500:])

    tampers = [
        ("a Merkle node", "UPDATE merkle_nodes SET hash = randomblob(32) WHERE level = 3 AND idx = 3",
         "Merkle node (level 3, index 3)"),
        ("a leaf hash", "UPDATE audit_events SET leaf_hash = randomblob(32) WHERE seq = 9",
         "leaf 8 does not match event 9"),
        ("a node deleted", "DELETE FROM merkle_nodes WHERE level = 4 AND idx = 0",
         "Merkle node (level 4, index 0) is missing"),
        ("an event's details", "UPDATE audit_events SET details = '{}' WHERE seq = 4",
         "sequence 4"),
    ]
    for name, sql, what in tampers:
        t.sqlite_case("tampers with a copy of the SQLite file",
                      "tamper: %s -> audit verify exit 1" % name, tamper, name, sql, what)


if __name__ == "__main__":
    ghtest.main(body)
