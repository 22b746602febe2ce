#!/usr/bin/env python3
"""test_evidence.py - evidence bundles (issue 6): `gatehouse evidence export`
from a real server, `gatehouse evidence verify` offline with nothing but the
verifier key: a bundle verifies; any change of one byte anywhere in it, an
edited event (even re-serialised canonically), a dropped proof hash, another
request's events or another log's key are each refused, naming what fails;
export gets a fresh checkpoint when the latest does not cover the events.

Issue 11: the auditor alone (no admin token anywhere in its steps) exports a
request's evidence right after a fresh write and verifies it offline with the
published verifier key; a burst of auditors asking for a covering checkpoint
at once gets one signature, not one each. This server signs after writes
only when asked (ghtest's default), so "the latest checkpoint does not cover
the new event yet" holds when the export starts."""

import json
import os
import random
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402


class World:
    """Everything the cases share."""


def cli(w, *args, db=False):
    cmd = [w.binary] + (["--db", w.srv.db] if db else ["--server", "http://127.0.0.1:%d" %
                                                        w.srv.port, "--token", w.srv.token])
    env = dict(os.environ, **w.srv.env)   # a PostgreSQL database's signing key
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60,
                          env=env)


def verify(w, path, key=None):
    return subprocess.run([w.binary, "evidence", "verify", path, "--key", key or w.vkey],
                          capture_output=True, text=True, timeout=60)


def setup(t, binary, w):
    w.binary = binary
    # 64 HTTP workers: up to 16 callers may wait for a checkpoint (a quarter)
    w.srv = srv = t.server(binary, name="evidence", serve_args=["--threads", "64"])
    srv.start()
    w.dir = srv.dir
    appr, appr_tok = srv.user("appr-ana", ["approver"])
    owners = srv.group("ctl-owners", [appr])
    bob = srv.human("bob-h", ["requester"])
    sysm = srv.system("ledger", bob["id"])
    ent = srv.entitlement(sysm["id"], "writer", "medium", "8h", owners["id"])
    req = srv.request(bob["id"], ent["id"], ticket_ref="CHG-7")
    status(srv.post("/v1/requests/%s/approve" % req["id"], {"comment": "ok"}, token=appr_tok),
           200)
    w.req = req["id"]
    w.appr_tok = appr_tok
    other = srv.request(srv.human("carol-h")["id"], ent["id"])
    w.other = other["id"]
    w.third = srv.request(srv.human("dave-h")["id"], ent["id"])["id"]
    w.aud, w.aud_tok = srv.user("aud-alice", ["auditor"])
    r = cli(w, "key", "export", db=True)
    eq(r.returncode, 0, "key export: %s" % r.stderr)
    w.vkey = r.stdout.strip()
    expect(re.match(r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$", w.vkey),
           "a verifier key: %r" % w.vkey)


def export(w, req, name):
    path = os.path.join(w.dir, name)
    r = cli(w, "evidence", "export", req, "--output", path)
    eq(r.returncode, 0, "export: %s %s" % (r.stdout, r.stderr))
    return path


def verifies(w):
    w.bundle = export(w, w.req, "bundle.json")
    r = verify(w, w.bundle)
    eq(r.returncode, 0, "verify: %s %s" % (r.stdout, r.stderr))
    expect("bundle verifies" in r.stdout, r.stdout)
    doc = json.load(open(w.bundle))
    eq(doc["request"], w.req, "the request")
    acts = [e["action"] for e in doc["events"]]
    expect("request.submitted" in acts and "request.approved" in acts and
           "grant.created" in acts, "the whole story: %r" % acts)
    w.doc = doc
    w.raw = open(w.bundle, "rb").read()


def any_byte_changes(w):
    rnd = random.Random(6)
    positions = sorted(set(rnd.randrange(len(w.raw)) for _ in range(120)))
    path = os.path.join(w.dir, "flip.json")
    for pos in positions:
        data = bytearray(w.raw)
        data[pos] = data[pos] ^ (0x01 if chr(data[pos]).isalnum() else 0x20)
        with open(path, "wb") as f:
            f.write(data)
        r = verify(w, path)
        expect(r.returncode == 1, "byte %d changed (%r): verify exited %d: %s" % (
            pos, w.raw[max(0, pos - 10):pos + 10], r.returncode, r.stdout))
        expect("does NOT verify" in r.stdout, "byte %d: %s" % (pos, r.stdout))


def write(w, doc, name):
    path = os.path.join(w.dir, name)
    with open(path, "w") as f:
        f.write(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                + "\n")
    return path


def edited_event_named(w):
    doc = json.loads(w.raw)
    i = next(k for k, e in enumerate(doc["events"]) if e["action"] == "request.approved")
    doc["events"][i]["actor"] = "idn_someone_else"
    r = verify(w, write(w, doc, "edited.json"))
    eq(r.returncode, 1, "edited event refused")
    seq = doc["events"][i]["seq"]
    expect("event %d (seq %d, request.approved)" % (i + 1, seq) in r.stdout and
           "inclusion proof" in r.stdout, "names the event: %s" % r.stdout)
    doc = json.loads(w.raw)
    doc["events"][0]["proof"] = doc["events"][0]["proof"][1:]
    r = verify(w, write(w, doc, "short.json"))
    eq(r.returncode, 1, "a dropped proof hash is refused")
    doc = json.loads(w.raw)
    doc["request"] = w.other
    r = verify(w, write(w, doc, "other.json"))
    eq(r.returncode, 1, "events of another request refused")
    expect("neither request" in r.stdout, r.stdout)
    # the canonical form itself still verifies (the test's own serialisation)
    r = verify(w, write(w, json.loads(w.raw), "same.json"))
    eq(r.returncode, 0, "an unchanged bundle re-serialised canonically: %s" % r.stdout)


def other_key_refused(w, t, binary):
    other = t.server(binary, name="other-log")
    other.init()
    r = other.cli("key", "export")
    eq(r.returncode, 0, "key export")
    r = verify(w, w.bundle, key=r.stdout.strip())
    eq(r.returncode, 1, "another log's key refused")
    expect("checkpoint does not verify" in r.stdout, r.stdout)
    r = verify(w, w.bundle, key="not-a-key")
    eq(r.returncode, 1, "a malformed key refused")


def export_signs_fresh(w):
    # new events after the latest checkpoint: export gets a new one first
    status(w.srv.post("/v1/requests/%s/cancel" % w.other, {"reason": "not needed"}), 200)
    path = export(w, w.other, "other-bundle.json")
    r = verify(w, path)
    eq(r.returncode, 0, "fresh bundle verifies: %s" % r.stdout)
    acts = [e["action"] for e in json.load(open(path))["events"]]
    expect("request.cancelled" in acts, "covers the newest event: %r" % acts)


def as_auditor(w, *args):
    """The auditor's own command line: its token, no admin token in the
    environment either."""
    env = {k: v for k, v in os.environ.items() if k != "GATEHOUSE_TOKEN"}
    return subprocess.run([w.binary, "--server", "http://127.0.0.1:%d" % w.srv.port,
                           "--token", w.aud_tok] + list(args), capture_output=True, text=True,
                          timeout=60, env=env)


def checkpoint_size(w):
    return status(w.srv.get("/v1/audit/checkpoint", token=w.aud_tok), 200)["size"]


def auditor_alone(w):
    # the verifier key, published: the auditor reads it with its own token
    pk = status(w.srv.get("/v1/audit/public-key", token=w.aud_tok), 200)
    eq(pk["vkey"], w.vkey, "the published verifier key is the log's")
    # a fresh write by the approver: the latest checkpoint does not cover it
    status(w.srv.post("/v1/requests/%s/reject" % w.third, {"comment": "not this quarter"},
                      token=w.appr_tok), 200)
    newest = w.srv.audit_events()[-1]
    eq(newest["action"], "request.rejected", "the newest event is the fresh write")
    expect(checkpoint_size(w) < newest["seq"],
           "the latest checkpoint (size %d) does not cover event %d yet" % (
               checkpoint_size(w), newest["seq"]))
    # the auditor exports at once, and verifies offline
    path = os.path.join(w.dir, "auditor-bundle.json")
    r = as_auditor(w, "evidence", "export", w.third, "--output", path)
    eq(r.returncode, 0, "the auditor's export: %s %s" % (r.stdout, r.stderr))
    doc = json.load(open(path))
    acts = [e["action"] for e in doc["events"]]
    expect("request.rejected" in acts, "the bundle has the fresh event: %r" % acts)
    r = subprocess.run([w.binary, "evidence", "verify", path, "--key", pk["vkey"]],
                       capture_output=True, text=True, timeout=60)
    eq(r.returncode, 0, "offline verify: %s %s" % (r.stdout, r.stderr))
    expect("bundle verifies: %d events of %s" % (len(doc["events"]), w.third) in r.stdout,
           r.stdout)
    # the checkpoint in the bundle is signed, and covers the fresh event
    size = int(doc["checkpoint"].split("\n")[1])
    expect(size >= newest["seq"], "the bundle's checkpoint (size %d) covers event %d" % (
        size, newest["seq"]))
    # the same bundle with one event's detail changed is refused
    doc["events"][-1]["details"]["comment"] = "approved after all"
    r = verify(w, write(w, doc, "auditor-tampered.json"))
    eq(r.returncode, 1, "a tampered bundle is refused: %s" % r.stdout)
    expect("does NOT verify" in r.stdout and "inclusion proof" in r.stdout, r.stdout)


def auditor_burst(w):
    # a new event, then 12 auditors ask at once for a checkpoint covering it
    w.srv.human("burst-h")
    seq = w.srv.audit_events()[-1]["seq"]
    signed_before = sum(1 for e in w.srv.audit_events() if e["action"] == "checkpoint.signed")
    expect(checkpoint_size(w) < seq, "not covered yet")
    answers = []

    def ask():
        r = w.srv.get("/v1/audit/checkpoint?covers=%d" % seq, token=w.aud_tok)
        answers.append((r.status, r.json))
    threads = [threading.Thread(target=ask) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    eq(len(answers), 12, "every asker got an answer")
    for code, doc in answers:
        eq(code, 200, "answer %r" % (doc,))
        expect(doc["size"] >= seq, "covers event %d: %r" % (seq, doc["size"]))
    signed = sum(1 for e in w.srv.audit_events() if e["action"] == "checkpoint.signed")
    eq(signed - signed_before, 1, "one signature for the whole burst")
    # asking again for what is covered signs nothing
    status(w.srv.get("/v1/audit/checkpoint?covers=%d" % seq, token=w.aud_tok), 200)
    eq(sum(1 for e in w.srv.audit_events() if e["action"] == "checkpoint.signed"), signed,
       "nothing signed for an ask already covered")
    # what cannot be covered is refused at once, naming the field
    last = w.srv.audit_events()[-1]["seq"]
    problem(w.srv.get("/v1/audit/checkpoint?covers=%d" % (last + 1000), token=w.aud_tok), 400,
            field="covers")
    problem(w.srv.get("/v1/audit/checkpoint?covers=0", token=w.aud_tok), 400, field="covers")
    problem(w.srv.get("/v1/audit/checkpoint?covers=1&wait=11", token=w.aud_tok), 400,
            field="wait")
    problem(w.srv.get("/v1/audit/checkpoint?wait=1", token=w.aud_tok), 400, field="wait")
    # the same from the command line, as the auditor
    w.srv.human("burst-cli")
    seq = w.srv.audit_events()[-1]["seq"]
    r = as_auditor(w, "audit", "checkpoint", "--covers", str(seq))
    eq(r.returncode, 0, "audit checkpoint --covers: %s" % r.stderr)
    expect(int(r.stdout.split("\n")[1]) >= seq, "the note covers event %d: %r" % (seq, r.stdout))
    r = as_auditor(w, "audit", "checkpoint", "--covers", "x")
    eq(r.returncode, 2, "--covers x is a usage error")
    r = as_auditor(w, "audit", "checkpoint", "--sign")
    eq(r.returncode, 1, "an auditor cannot --sign: %s" % r.stderr)
    # a requester may not ask
    _, rtok = w.srv.user("req-rob", ["requester"])
    problem(w.srv.get("/v1/audit/checkpoint?covers=1", token=rtok), 403)


def bad_usage(w):
    eq(subprocess.run([w.binary, "evidence", "verify", w.bundle], capture_output=True,
                      text=True).returncode, 2, "missing --key")
    eq(subprocess.run([w.binary, "evidence", "verify", "/nonexistent", "--key", w.vkey],
                      capture_output=True, text=True).returncode, 2, "missing file")
    eq(cli(w, "evidence", "export", "req_nosuch0000000000").returncode, 1, "unknown request")
    eq(subprocess.run([w.binary, "evidence", "frob"], capture_output=True,
                      text=True).returncode, 2, "unknown subcommand")


def body(t, binary):
    w = World()
    if not t.case("a server with a request, its approval and grant", setup, t, binary, w):
        return
    if not t.case("export, then verify offline", verifies, w):
        return
    t.case("any single byte changed: refused", any_byte_changes, w)
    t.case("edited event, dropped proof hash, another request: refused, named", edited_event_named,
           w)
    t.case("another log's key: refused", other_key_refused, w, t, binary)
    t.case("export gets a fresh checkpoint when needed", export_signs_fresh, w)
    t.case("an auditor alone exports right after a write and verifies offline", auditor_alone,
           w)
    t.case("a burst of auditors asking for a checkpoint gets one signature", auditor_burst, w)
    t.case("usage errors", bad_usage, w)


if __name__ == "__main__":
    ghtest.main(body)
