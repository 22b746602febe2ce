#!/usr/bin/env python3
"""test_checkpoint.py - signed checkpoints end to end: `init` creates the
signing key (0600) and prints the verifier key, `serve` signs at start, the
API returns the note and signs on demand, an independent verifier in node
(tests/support/verify_note.mjs) accepts the note with the exported key, and a
changed note fails both there and in `gatehouse checkpoint verify`.

Issue 11: with after-write signing on (the default, 1s), the server signs a
checkpoint covering a change within seconds by itself, and a stream of writes
gets about one signature a second, not one a write."""

import json
import os
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NODE_VERIFIER = os.path.join(ROOT, "tests", "support", "verify_note.mjs")


def node_verify(path, vkey):
    node = shutil.which("node")
    expect(node, "node is installed (the independent verifier needs it)")
    r = subprocess.run([node, NODE_VERIFIER, path, vkey], capture_output=True, text=True,
                       timeout=30)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ghtest.Failure("node verifier printed no JSON: %r %r" % (r.stdout, r.stderr))
    eq(r.returncode == 0, out.get("ok"), "node exit status agrees with its verdict")
    return out


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def body(t, binary):
    srv = t.server(binary, name="checkpoint")
    keypath = srv.key_path
    st = {}

    def init():
        r = ghtest.run_cli(binary, srv.db, "init")
        eq(r.returncode, 0, "init exit (%s)" % r.stderr[-400:])
        srv.token = ghtest.find_token(r.stdout)
        expect(srv.token, "init printed the admin token")
        expect(os.path.exists(keypath), "init created %s" % keypath)
        eq(stat.S_IMODE(os.stat(keypath).st_mode), 0o600, "key file mode")
        with open(keypath) as f:
            secret = f.read()
        expect(secret.startswith("PRIVATE+KEY+gatehouse/"), "key file format")
        expect(secret.strip() not in r.stdout + r.stderr, "init never prints the private key")
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("verifier key: ")]
        eq(len(lines), 1, "init prints the verifier key")
        st["vkey"] = lines[0][len("verifier key: "):]
        exp = ghtest.run_cli(binary, srv.db, "key", "export")
        eq(exp.returncode, 0, "key export exit (%s)" % exp.stderr[-300:])
        eq(exp.stdout.strip(), st["vkey"], "key export prints the same verifier key")
        expect(secret.strip() not in exp.stdout, "key export never prints the private key")
        st["origin"] = st["vkey"].split("+")[0]
        expect(st["origin"].startswith("gatehouse/") and len(st["origin"]) == 18,
               "origin gatehouse/<8 hex>: %r" % st["origin"])
    if not t.case("init creates the signing key and prints the verifier key", init):
        return

    def no_overwrite():
        with open(keypath, "rb") as f:
            before = f.read()
        other = os.path.join(srv.dir, "other.db")
        shutil.copy(keypath, other + ".signing-key")
        r = ghtest.run_cli(binary, other, "init")
        expect(r.returncode != 0, "init refuses when the key file exists")
        expect("already exists" in r.stderr, "says why: %r" % r.stderr[-300:])
        with open(keypath, "rb") as f:
            eq(f.read(), before, "the key is unchanged")
    t.case("init never overwrites a key file", no_overwrite)

    def serve_signs():
        srv.start()
        doc = status(srv.get("/v1/audit/checkpoint"), 200)
        eq(doc["origin"], st["origin"], "origin")
        expect(doc["size"] >= 1, "the checkpoint at start covers the log: %r" % doc)
        expect(doc["note"].startswith("%s\n%d\n%s\n\n\u2014 %s " % (
            st["origin"], doc["size"], doc["root"], st["origin"])), "note layout: %r" % doc["note"])
        pk = status(srv.get("/v1/audit/public-key"), 200)
        eq(pk["vkey"], st["vkey"], "the API's verifier key is the exported one")
        st["first"] = doc
    if not t.case("serve signs at start; the API returns the note", serve_signs):
        return

    def on_demand():
        srv.human("cp-someone", [])
        doc = status(srv.post("/v1/audit/checkpoint"), 201)
        expect(doc["size"] > st["first"]["size"], "the new checkpoint covers more events")
        latest = status(srv.get("/v1/audit/checkpoint"), 200)
        eq(latest, doc, "latest is the one just signed")
        ev = [e for e in srv.audit_events() if e["action"] == "checkpoint.signed"]
        eq(len(ev), 2, "each checkpoint is audited")
        eq(ev[-1]["details"]["size"], doc["size"], "audit details size")
        eq(ev[-1]["details"]["root"], doc["root"], "audit details root")
        st["doc"] = doc
        # roles: an auditor reads, only an admin signs
        _, aud = srv.user("cp-auditor", ["auditor"])
        status(srv.get("/v1/audit/checkpoint", token=aud), 200)
        problem(srv.post("/v1/audit/checkpoint", token=aud), 403)
        problem(srv.get("/v1/audit/checkpoint", token=None), 401)
    if not t.case("POST signs now (admin); each checkpoint is audited", on_demand):
        return

    def node_verifies():
        path = os.path.join(srv.dir, "cp.note")
        note = st["doc"]["note"].encode()
        write(path, note)
        out = node_verify(path, st["vkey"])
        expect(out.get("ok"), "node verifies: %r" % out)
        eq(out["size"], st["doc"]["size"], "node size")
        eq(out["root"], st["doc"]["root"], "node root")
        r = ghtest.run_cli(binary, srv.db, "checkpoint", "verify", path, "--key", st["vkey"])
        eq(r.returncode, 0, "gatehouse checkpoint verify (%s)" % (r.stdout + r.stderr)[-300:])
        expect("size %d" % st["doc"]["size"] in r.stdout, r.stdout)
        # the JSON answer and a key file are accepted too
        jpath = os.path.join(srv.dir, "cp.json")
        write(jpath, json.dumps(st["doc"]).encode())
        kpath = os.path.join(srv.dir, "vkey.txt")
        write(kpath, (st["vkey"] + "\n").encode())
        r = ghtest.run_cli(binary, srv.db, "checkpoint", "verify", jpath, "--key", kpath)
        eq(r.returncode, 0, "verify of the JSON with a key file (%s)" % r.stdout[-300:])
        # the client command prints the note
        r = srv.cli("--server", "http://127.0.0.1:%d" % srv.port, "--token", srv.token,
                    "audit", "checkpoint")
        eq(r.returncode, 0, "audit checkpoint (%s)" % r.stderr[-300:])
        eq(r.stdout, st["doc"]["note"], "audit checkpoint prints the note")
    if not t.case("node and `checkpoint verify` accept the note with the exported key",
                  node_verifies):
        return

    def changed_fails():
        note = st["doc"]["note"].encode()
        path = os.path.join(srv.dir, "bad.note")
        positions = sorted(set([0, len(st["origin"]) + 1, note.index(b"\n\n") - 1,
                                note.index(b"\n\n") + 1, len(note) - 10, len(note) - 1]))
        for i in positions:
            bad = bytearray(note)
            bad[i] = ord("A") if bad[i] != ord("A") else ord("B")
            write(path, bytes(bad))
            out = node_verify(path, st["vkey"])
            expect(not out.get("ok"), "node rejects byte %d changed" % i)
            r = ghtest.run_cli(binary, srv.db, "checkpoint", "verify", path, "--key", st["vkey"])
            eq(r.returncode, 1, "gatehouse rejects byte %d changed (%s)" % (i, r.stdout))
            expect("checkpoint does not verify: " in r.stdout, "a reason: %r" % r.stdout)
        # a wrong key
        other = os.path.join(srv.dir, "w.db")
        ghtest.run_cli(binary, other, "init")
        wrong = ghtest.run_cli(binary, other, "key", "export").stdout.strip()
        write(path, note)
        expect(not node_verify(path, wrong).get("ok"), "node rejects another key")
        r = ghtest.run_cli(binary, srv.db, "checkpoint", "verify", path, "--key", wrong)
        eq(r.returncode, 1, "gatehouse rejects another key")
        expect("no signature by key" in r.stdout, r.stdout)
    t.case("a changed note or another key fails in node and in gatehouse", changed_fails)
    t.stop(srv)

    def rotate():
        r = ghtest.run_cli(binary, srv.db, "key", "create")
        eq(r.returncode, 1, "key create refuses an existing key file")
        os.rename(keypath, keypath + ".old")
        r = ghtest.run_cli(binary, srv.db, "key", "create")
        eq(r.returncode, 0, "key create after moving the old one (%s)" % r.stderr[-300:])
        new = r.stdout.strip()
        eq(new.split("+")[0], st["origin"], "the new key keeps the origin")
        expect(new != st["vkey"], "a new key")
        eq(stat.S_IMODE(os.stat(keypath).st_mode), 0o600, "new key file mode")
        path = os.path.join(srv.dir, "cp.note")
        r = ghtest.run_cli(binary, srv.db, "checkpoint", "verify", path, "--key", new)
        eq(r.returncode, 1, "old checkpoints do not verify with the new key")
        r = ghtest.run_cli(binary, srv.db, "checkpoint", "verify", path, "--key", st["vkey"])
        eq(r.returncode, 0, "old checkpoints still verify with the old key")
    t.case("rotation: key create makes a new key for the same origin", rotate)

    auto = t.server(binary, name="auto", serve_args=["--checkpoint-after-write", "1s"])

    def signed_count():
        return sum(1 for e in auto.audit_events() if e["action"] == "checkpoint.signed")

    def covered(seq):
        return status(auto.get("/v1/audit/checkpoint"), 200)["size"] >= seq

    def signs_by_itself():
        auto.start()
        auto.human("auto-first")
        seq = auto.audit_events()[-1]["seq"]
        # nobody asks: the server's own signer covers the change
        ghtest.poll(lambda: covered(seq), 10, "a checkpoint covering event %d" % seq, 0.05)
    if not t.case("after a write the server signs a covering checkpoint by itself",
                  signs_by_itself):
        return

    def writes_bounded():
        before = signed_count()
        t0 = time.monotonic()
        writes = 60
        for i in range(writes):
            auto.human("auto-%02d" % i)
        seq = auto.audit_events()[-1]["seq"]
        ghtest.poll(lambda: covered(seq), 10, "a checkpoint covering event %d" % seq, 0.05)
        elapsed = time.monotonic() - t0
        n = signed_count() - before
        expect(n >= 1, "the writes were signed")
        # at most one a second (and the window after the last write)
        expect(n <= int(elapsed) + 2, "%d signatures in %.1f s of %d writes" % (
            n, elapsed, writes))
        if elapsed < writes / 4:   # faster than a write every 250 ms: fewer signatures
            expect(n < writes // 2, "not one signature a write: %d for %d" % (n, writes))
    t.case("many writes: about one signature a second, not one a write", writes_bounded)

    def bad_option():
        for bad in ("0", "soon", "2h"):
            r = ghtest.run_cli(binary, auto.db, "serve", "--listen", "127.0.0.1:0",
                               "--checkpoint-after-write", bad)
            eq(r.returncode, 2, "--checkpoint-after-write %s: exit code" % bad)
            expect("--checkpoint-after-write %s: expected a duration" % bad in r.stderr,
                   r.stderr[-300:])
    t.case("--checkpoint-after-write takes 1s to 1h or off", bad_option)


if __name__ == "__main__":
    ghtest.main(body)
