#!/usr/bin/env python3
"""test_audit_tamper.py - a small lifecycle, then every kind of tampering done
directly to a copy of the SQLite file: `gatehouse audit verify` exits 1 and
names the first bad sequence number; the untouched copy verifies with 0."""

import hashlib
import os
import re
import sqlite3
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, status  # noqa: E402

BROKEN_RE = re.compile(r"audit chain broken at sequence (\d+): (.+)")


def lifecycle(srv):
    srv.start()
    owner, owner_tok = srv.user("tp-owner", ["requester"])
    appr, appr_tok = srv.user("tp-approver", ["approver"])
    grp = srv.group("tp-owners", [appr])
    sysm = srv.system("tp-db", owner["id"])
    low = srv.entitlement(sysm["id"], "ro", "low", "1h", grp["id"])
    med = srv.entitlement(sysm["id"], "rw", "medium", "8h", grp["id"])
    bot = srv.nhi("tp-bot", owner["id"])
    r1 = srv.request(bot["id"], low["id"], token=owner_tok)
    eq(r1["state"], "active", "low request")
    r2 = srv.request(bot["id"], med["id"], token=owner_tok)
    a = status(srv.post("/v1/requests/%s/approve" % r2["id"], {"comment": "ok"},
                        token=appr_tok), 200)
    eq(a["state"], "active", "approved")
    status(srv.post("/v1/grants/%s/revoke" % ghtest.grant_id_of(r1), {"reason": "done"}), 200)
    srv.patch("/v1/identities/" + bot["id"], {"purpose": "changed"})


def backup(src, dst):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(dst + suffix):
            os.remove(dst + suffix)
    a = sqlite3.connect(src)
    b = sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        b.close()
        a.close()


def lp(b):
    return struct.pack(">I", len(b)) + b


def event_hash(prev, seq, ts, actor, action, otype, oid, details):
    """The documented encoding (src/audit/audit.h), independently in Python."""
    return hashlib.sha256(prev + struct.pack(">Q", seq) + struct.pack(">q", ts) +
                          lp(actor.encode()) + lp(action.encode()) + lp(otype.encode()) +
                          lp(oid.encode()) + lp(details.encode())).digest()


def verify(binary, db):
    return ghtest.run_cli(binary, db, "audit", "verify")


def body(t, binary):
    srv = t.server(binary, name="tamper")
    if not t.case("a small lifecycle", lifecycle, srv):
        return
    t.stop(srv)
    base = os.path.join(srv.dir, "base.db")
    info = {}

    def prepare():
        backup(srv.db, base)
        con = sqlite3.connect(base)
        try:
            info["n"] = con.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
            eq(con.execute("SELECT count(*) FROM audit_events").fetchone()[0], info["n"],
               "events are 1..n")
        finally:
            con.close()
        expect(info["n"] >= 10, "the lifecycle wrote at least 10 events: %r" % info["n"])
        # every event recomputes with the documented encoding
        con = sqlite3.connect(base)
        try:
            prev = bytes(32)
            for row in con.execute("SELECT seq, ts, actor, action, object_type, object_id,"
                                   " details, prev_hash, hash FROM audit_events ORDER BY seq"):
                eq(bytes(row[7]), prev, "prev_hash of %d" % row[0])
                h = event_hash(prev, *row[:7])
                eq(bytes(row[8]).hex(), h.hex(), "hash of seq %d by the documented encoding"
                   % row[0])
                prev = h
        finally:
            con.close()
    if not t.case("copy the database and recompute the chain in Python", prepare):
        return
    n = info["n"]
    m = n // 2

    def intact():
        copy = os.path.join(srv.dir, "intact.db")
        backup(base, copy)
        v = verify(binary, copy)
        eq(v.returncode, 0, "verify of an untouched copy (%s)" % (v.stdout + v.stderr)[-400:])
        expect(not BROKEN_RE.search(v.stdout + v.stderr), "no break reported")
    t.case("the untouched copy verifies (exit 0)", intact)

    def forged_valid(con):
        prev, ts = con.execute("SELECT hash, ts FROM audit_events WHERE seq = ?", (n,)).fetchone()
        h = event_hash(bytes(prev), n + 1, ts + 1, "idn_forger", "grant.created", "grant",
                       "grt_0000000000000001", "{}")
        con.execute("INSERT INTO audit_events(seq, ts, actor, action, object_type, object_id,"
                    " details, prev_hash, hash) VALUES (?, ?, 'idn_forger', 'grant.created',"
                    " 'grant', 'grt_0000000000000001', '{}', ?, ?)", (n + 1, ts + 1, prev, h))

    def rehash_one(con):
        """A forger edits seq m and recomputes its hash: caught at m + 1."""
        row = con.execute("SELECT seq, ts, actor, action, object_type, object_id, details,"
                          " prev_hash FROM audit_events WHERE seq = ?", (m,)).fetchone()
        h = event_hash(bytes(row[7]), row[0], row[1], "idn_forger", row[3], row[4], row[5],
                       row[6])
        con.execute("UPDATE audit_events SET actor = 'idn_forger', hash = ? WHERE seq = ?",
                    (h, m))

    tampers = [
        ("details of one event edited", m,
         "UPDATE audit_events SET details = '{\"forged\":true}' WHERE seq = %d" % m),
        ("details re-serialised with a space", m,
         "UPDATE audit_events SET details = details || ' ' WHERE seq = %d" % m),
        ("actor edited", m,
         "UPDATE audit_events SET actor = 'idn_ffffffffffffffff' WHERE seq = %d" % m),
        ("action edited", 2, "UPDATE audit_events SET action = 'x.y' WHERE seq = 2"),
        ("time edited", 1, "UPDATE audit_events SET ts = ts - 1000000 WHERE seq = 1"),
        ("a middle row deleted", m, "DELETE FROM audit_events WHERE seq = %d" % m),
        ("the first row deleted", 1, "DELETE FROM audit_events WHERE seq = 1"),
        ("the last row deleted", n, "DELETE FROM audit_events WHERE seq = %d" % n),
        ("the last three rows deleted", n - 2, "DELETE FROM audit_events WHERE seq > %d" % (n - 3)),
        ("two rows swapped (reordered)", m,
         "UPDATE audit_events SET seq = -1 WHERE seq = %d;"
         "UPDATE audit_events SET seq = %d WHERE seq = %d;"
         "UPDATE audit_events SET seq = %d WHERE seq = -1" % (m, m, m + 1, m + 1)),
        ("a hash changed", m, "UPDATE audit_events SET hash = randomblob(32) WHERE seq = %d" % m),
        ("the last hash changed", n,
         "UPDATE audit_events SET hash = zeroblob(32) WHERE seq = %d" % n),
        ("a prev_hash changed", m,
         "UPDATE audit_events SET prev_hash = zeroblob(32) WHERE seq = %d" % m),
        ("a forged row with a garbage hash inserted at the end", n + 1,
         "INSERT INTO audit_events(seq, ts, actor, action, object_type, object_id, details,"
         " prev_hash, hash) SELECT %d, ts + 1, actor, action, object_type, object_id,"
         " details, hash, randomblob(32) FROM audit_events WHERE seq = %d" % (n + 1, n)),
        ("a forged row with a valid hash inserted at the end", n + 1, forged_valid),
        ("one row rehashed after editing it", m + 1, rehash_one),
        ("a row's sequence renumbered into a gap", m,
         "UPDATE audit_events SET seq = %d WHERE seq = %d" % (n + 5, m)),
    ]

    def tamper(name, bad_seq, how):
        copy = os.path.join(srv.dir, "tampered.db")
        backup(base, copy)
        con = sqlite3.connect(copy)
        try:
            if callable(how):
                how(con)
            else:
                con.executescript(how)
            con.commit()
        finally:
            con.close()
        v = verify(binary, copy)
        out = v.stdout + v.stderr
        eq(v.returncode, 1, "verify exit code after: %s (%s)" % (name, out[-400:]))
        mo = BROKEN_RE.search(out)
        expect(mo, "verify says 'audit chain broken at sequence S: reason': %r" % out[-400:])
        eq(int(mo.group(1)), bad_seq, "first bad sequence after: %s (%s)" % (name, mo.group(0)))
        expect(ghtest.sanitizer_report(out) is None, "sanitizer report: %s" % out[-1500:])

    for name, bad_seq, how in tampers:
        t.case("tamper: %s -> exit 1 at seq %d" % (name, bad_seq), tamper, name, bad_seq, how)

    def missing_db():
        v = verify(binary, os.path.join(srv.dir, "no-such.db"))
        expect(v.returncode != 0, "verify of a missing database must not exit 0")
        expect(not BROKEN_RE.search(v.stdout + v.stderr),
               "a missing database is not a broken chain: %s" % (v.stdout + v.stderr)[-300:])
        expect(not os.path.exists(os.path.join(srv.dir, "no-such.db")),
               "verify created the missing database")
    t.case("verify of a missing database fails without creating it", missing_db)


if __name__ == "__main__":
    ghtest.main(body, sqlite_only="tampers with the SQLite file through the sqlite3 module")
