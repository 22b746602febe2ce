#!/usr/bin/env python3
"""test_credentials.py - NHI credentials through the real server: a credential
system's entitlement requested for an NHI (refused for a human), a key issued
by the owner and shown once, introspection over a form and JSON (active, and
{"active": false} for every failure), rotation with an overlap under a
controlled clock (GATEHOUSE_TIME_OFFSET), revocation, a suspended NHI, a
grant ending, and the CLI (credentials issue/list, introspect)."""

import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

FORM = "application/x-www-form-urlencoded"


class World:
    pass


def setup(srv, w):
    srv.start()
    w.owner, w.owner_tok = srv.user("cr-owner", ["requester"])
    w.other, w.other_tok = srv.user("cr-other", ["requester"])
    w.auditor, w.auditor_tok = srv.user("cr-auditor", ["auditor"])
    w.grp = srv.group("cr-owners", [])
    w.sys = srv.system("cr-keys", w.owner["id"], connector="credential")
    eq(w.sys["connector"], "credential", "system connector")
    w.ent = srv.entitlement(w.sys["id"], "api-key", "low", "8h", w.grp["id"])
    w.bot = srv.nhi("cr-bot", w.owner["id"])
    req = srv.request(w.bot["id"], w.ent["id"], token=w.owner_tok, duration="4h")
    eq(req["state"], "active", "a credential grant is active at once")
    w.grant = ghtest.grant_id_of(req)


def introspect(srv, key, token, form=True):
    if form:
        raw = urllib.parse.urlencode({"token": key}).encode()
        return srv.post("/v1/introspect", token=token, raw=raw, content_type=FORM)
    return srv.post("/v1/introspect", {"token": key}, token=token)


def inactive(srv, key, token, what):
    for form in (True, False):
        r = status(introspect(srv, key, token, form), 200, what)
        eq(r, {"active": False}, "%s (%s)" % (what, "form" if form else "json"))


def active(srv, key, token, what):
    for form in (True, False):
        r = status(introspect(srv, key, token, form), 200, what)
        eq(r.get("active"), True, "%s (%s)" % (what, "form" if form else "json"))
    return r


def human_refused(srv, w):
    before = srv.snapshot()
    r = srv.post("/v1/requests", {"channel": "portal", "subject": w.other["id"],
                                  "entitlement": w.ent["id"], "justification": "j",
                                  "duration": "1h"})
    problem(r, 400, field="subject")
    ghtest.unchanged(srv, before, "a human subject for a credential entitlement")


def issue_once(srv, w):
    before = srv.snapshot()
    problem(srv.post("/v1/grants/%s/credentials" % w.grant, {}, token=w.other_tok), 403)
    ghtest.unchanged(srv, before, "issue by a stranger")
    c = status(srv.post("/v1/grants/%s/credentials" % w.grant, {}, token=w.owner_tok), 201)
    key = c["key"]
    expect(key.startswith("ghk_") and len(key) == 64, "key shape: %r" % key)
    eq(c["status"], "active", "status")
    grant = status(srv.get("/v1/grants/" + w.grant), 200)
    expect(ghtest.parse_time(c["expires_at"]) <= ghtest.parse_time(grant["expires_at"]),
           "the key expires no later than its grant")
    got = status(srv.get("/v1/credentials/" + c["id"], token=w.owner_tok), 200)
    expect("key" not in got, "get shows no key")
    lst = status(srv.get("/v1/credentials?grant=" + w.grant, token=w.auditor_tok), 200)
    expect(key[21:] not in json.dumps(lst), "list shows no key")
    eq([x["id"] for x in lst["items"]], [c["id"]], "auditor lists it")
    eq(status(srv.get("/v1/credentials", token=w.other_tok), 200)["items"], [],
       "a stranger lists nothing")
    problem(srv.get("/v1/credentials/" + c["id"], token=w.other_tok), 404)
    # the secret is nowhere at rest, nor in the audit log or the server's log
    expect(key[21:] not in ghtest.all_rows_text(srv), "the secret is stored in the database")
    expect(key[21:] not in srv.stderr(), "the secret is in the server's log")
    w.key, w.cred = key, c


def introspection(srv, w):
    r = active(srv, w.key, w.other_tok, "any authenticated caller may introspect")
    eq(r["sub"], w.bot["id"], "sub")
    eq(r["username"], "cr-bot", "username")
    eq(r["client_id"], w.cred["id"], "client_id")
    eq(r["scope"], "api-key", "scope")
    eq(r["token_type"], "api_key", "token_type")
    eq(r["gatehouse"], {"grant": w.grant, "entitlement": w.ent["id"], "system": w.sys["id"],
                        "owner": w.owner["id"]}, "gatehouse")
    eq(r["exp"], int(ghtest.parse_time(w.cred["expires_at"])), "exp")
    for bad in ("", "x" * 10, w.key[:-1], w.key + "A", "ghk_ffffffffffffffff" + w.key[20:],
                w.key[:30] + ("A" if w.key[30] != "A" else "B") + w.key[31:],
                srv.token):
        if bad:
            inactive(srv, bad, w.other_tok, "a wrong key %r" % bad[:24])
    # the caller must be authenticated itself
    problem(srv.post("/v1/introspect", {"token": w.key}, token=None), 401)
    # last_used_at was set (once a minute at most)
    got = status(srv.get("/v1/credentials/" + w.cred["id"]), 200)
    expect(got["last_used_at"] is not None, "last_used_at set by introspection")


def suspended_nhi(srv, w):
    status(srv.post("/v1/identities/%s/suspend" % w.bot["id"], {"reason": "t"}), 200)
    inactive(srv, w.key, w.other_tok, "a suspended NHI's key")
    status(srv.post("/v1/identities/%s/activate" % w.bot["id"], {"reason": "t"}), 200)
    active(srv, w.key, w.other_tok, "active again with its NHI")


def rotation(srv, w):
    r = status(srv.post("/v1/credentials/%s/rotate" % w.cred["id"], {"overlap": "10m"},
                        token=w.owner_tok), 201)
    new_key = r["key"]
    eq(r["previous"]["status"], "expiring", "the old one is expiring")
    eq(r["rotated_from"], w.cred["id"], "lineage")
    active(srv, w.key, w.other_tok, "old key during the overlap")
    active(srv, new_key, w.other_tok, "new key")
    problem(srv.post("/v1/credentials/%s/rotate" % w.cred["id"], {}, token=w.owner_tok), 409)
    # the clock moves past the overlap: a server started 11 minutes later
    srv.stop()
    srv.env["GATEHOUSE_TIME_OFFSET"] = "660"
    srv.start()
    inactive(srv, w.key, w.other_tok, "old key after the overlap")
    active(srv, new_key, w.other_tok, "new key after the overlap")
    old = status(srv.get("/v1/credentials/" + w.cred["id"]), 200)
    eq(old["status"], "expired", "the old one has expired")
    w.key, w.cred = new_key, r


def revocation(srv, w):
    c = status(srv.post("/v1/grants/%s/credentials" % w.grant, {"expires_in": "1h"},
                        token=w.owner_tok), 201)
    active(srv, c["key"], w.other_tok, "a second key")
    before = srv.snapshot()
    problem(srv.post("/v1/credentials/%s/revoke" % c["id"], {}, token=w.owner_tok), 400,
            field="reason")
    problem(srv.post("/v1/credentials/%s/revoke" % c["id"], {"reason": "x"},
                     token=w.auditor_tok), 403)
    ghtest.unchanged(srv, before, "refused revocations")
    r = status(srv.post("/v1/credentials/%s/revoke" % c["id"], {"reason": "leaked"},
                        token=w.owner_tok), 200)
    eq(r["status"], "revoked", "status")
    inactive(srv, c["key"], w.other_tok, "a revoked key")
    active(srv, w.key, w.other_tok, "the other key still works")


def grant_end(srv, w):
    status(srv.post("/v1/grants/%s/revoke" % w.grant, {"reason": "done"}), 200)
    inactive(srv, w.key, w.other_tok, "a key of an ended grant")
    lst = status(srv.get("/v1/credentials?grant=%s&status=revoked" % w.grant), 200)
    expect(w.cred["id"] in [x["id"] for x in lst["items"]], "revoked with its grant")
    problem(srv.post("/v1/grants/%s/credentials" % w.grant, {}, token=w.owner_tok), 409)
    events = srv.audit_events()
    actions = [e["action"] for e in events if e["object_id"] == w.cred["id"]]
    eq(actions, ["credential.issued", "credential.revoked"], "audit of the credential")
    expect(w.key[21:] not in json.dumps(events), "the audit log holds a key")


def cli(srv, w):
    req = srv.request(w.bot["id"], w.ent["id"], token=w.owner_tok, duration="1h")
    grant = ghtest.grant_id_of(req)
    env = {"GATEHOUSE_SERVER": "http://127.0.0.1:%d" % srv.port, "GATEHOUSE_TOKEN": w.owner_tok}
    r = srv.cli("--json", "credentials", "issue", grant, "--expires-in", "30m", env=env)
    eq(r.returncode, 0, "credentials issue (%s)" % r.stderr[-300:])
    key = json.loads(r.stdout)["key"]
    r = srv.cli("credentials", "list", "--grant", grant, env=env)
    eq(r.returncode, 0, "credentials list (%s)" % r.stderr[-300:])
    expect(key[21:] not in r.stdout and "active" in r.stdout, "list: %r" % r.stdout[-300:])
    r = srv.cli("introspect", key, env=env)
    eq(r.returncode, 0, "introspect an active key (%s)" % (r.stdout + r.stderr)[-300:])
    r = srv.cli("introspect", "ghk_nope", env=env)
    eq(r.returncode, 1, "introspect a bad key exits 1")
    p = ghtest.subprocess.run([srv.binary, "--db", srv.db, "introspect", "-"], input=key + "\n",
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, **env))
    eq(p.returncode, 0, "introspect - reads stdin (%s)" % p.stderr[-300:])


def body(t, binary):
    srv = t.server(binary, name="credentials")
    w = World()
    if not t.case("setup: a credential system and an NHI's grant", setup, srv, w):
        return
    t.case("a human cannot request a credential entitlement", human_refused, srv, w)
    if not t.case("the owner issues a key, shown once, stored only as a hash", issue_once, srv,
                  w):
        return
    t.case("introspection: active, and false for wrong keys", introspection, srv, w)
    t.case("a suspended NHI's key stops at once", suspended_nhi, srv, w)
    t.case("rotation: both during the overlap, then only the new", rotation, srv, w)
    t.case("revocation stops a key at once", revocation, srv, w)
    t.case("ending the grant revokes its keys", grant_end, srv, w)
    t.case("CLI: credentials issue, list, introspect", cli, srv, w)

    def verify():
        t.stop(srv)
        v = srv.cli("audit", "verify")
        eq(v.returncode, 0, "audit verify (%s)" % (v.stdout + v.stderr)[-300:])
    t.case("audit verify exits 0", verify)


if __name__ == "__main__":
    ghtest.main(body)
