#!/usr/bin/env python3
"""test_policies.py - versioned policy sets over HTTP: propose, a parse error
with its position, four-eyes activation refused with the database unchanged,
a second person activates, the previous version superseded, rollback, roles,
and the audit events carrying the text's sha256."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

V1 = "permit (principal, action, resource);\n"
V2 = 'forbid (principal, action == Action::"request", resource)\nunless { context.emergency };\n'


class World:
    pass


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def setup(srv, w):
    srv.start()
    w.ivy, w.ivy_tok = srv.user("pol-ivy", ["iam"])
    w.ian, w.ian_tok = srv.user("pol-ian", ["iam"])
    w.aud, w.aud_tok = srv.user("pol-aud", ["auditor"])
    w.rex, w.rex_tok = srv.user("pol-rex", ["requester"])


def body(t, binary):
    srv = t.server(binary, name="policies")
    w = World()
    if not t.case("setup", setup, srv, w):
        return
    c = t.case

    def none_active():
        problem(srv.get("/v1/policies/active", token=w.aud_tok), code=404,
                problem_code="not_found")
    c("no version is active at first: 404", none_active)

    def parse_error():
        before = srv.snapshot()
        r = srv.post("/v1/policies", {"text": "permit (principal, action, resource);\n"
                                              "forbid (principal action);"}, token=w.ivy_tok)
        doc = problem(r, code=400, problem_code="invalid", field="text")
        reason = [e["reason"] for e in doc["errors"] if e["field"] == "text"][0]
        expect(reason.startswith("2:"), "the reason names line 2: %r" % reason)
        ghtest.unchanged(srv, before, "a policy text that does not parse")
    c("text that does not parse: 400 naming text with line:column", parse_error)

    def propose():
        w.v1 = status(srv.post("/v1/policies", {"text": V1, "comment": "first"},
                               token=w.ivy_tok), 201)
        eq(w.v1["version"], 1, "version")
        eq(w.v1["state"], "proposed", "state")
        eq(w.v1["sha256"], sha(V1), "sha256")
        eq(w.v1["proposed_by"], w.ivy["id"], "proposed_by")
        eq(w.v1["validation"], [], "validation")
        expect("text" not in w.v1, "the answer leaves out the text")
        got = status(srv.get("/v1/policies/%s" % w.v1["id"], token=w.aud_tok), 200)
        eq(got["text"], V1, "text by id")
        eq(status(srv.get("/v1/policies/1", token=w.aud_tok), 200)["id"], w.v1["id"],
           "by version number")
    c("iam proposes version 1", propose)

    def one_person():
        before = srv.snapshot()
        r = srv.post("/v1/policies/%s/activate" % w.v1["id"], {}, token=w.ivy_tok)
        doc = problem(r, code=403, problem_code="denied")
        expect("second person" in doc.get("detail", ""), "detail: %r" % doc.get("detail"))
        ghtest.unchanged(srv, before, "activation by the proposer")
    c("the proposer cannot activate: 403 denied, nothing changes", one_person)

    def roles():
        before = srv.snapshot()
        problem(srv.post("/v1/policies", {"text": V1}, token=w.rex_tok), code=403,
                problem_code="forbidden")
        problem(srv.post("/v1/policies/1/activate", {}, token=w.aud_tok), code=403,
                problem_code="forbidden")
        problem(srv.get("/v1/policies", token=w.rex_tok), code=403, problem_code="forbidden")
        ghtest.unchanged(srv, before, "writes without the role")
    c("roles: requester and auditor cannot write, requester cannot read", roles)

    def second_person():
        a = status(srv.post("/v1/policies/%s/activate" % w.v1["id"], {"comment": "lgtm"},
                            token=w.ian_tok), 200)
        eq(a["state"], "active", "state")
        eq(a["activated_by"], w.ian["id"], "activated_by")
        act = status(srv.get("/v1/policies/active", token=w.aud_tok), 200)
        eq(act["id"], w.v1["id"], "active id")
        eq(act["text"], V1, "active text")
        ev = [e for e in srv.audit_events(object_id=w.v1["id"])
              if e["action"] == "policy.activated"]
        eq(len(ev), 1, "one policy.activated event")
        eq(ev[0]["details"]["sha256"], sha(V1), "audited sha256")
        eq(ev[0]["actor"], w.ian["id"], "audited actor")
        prop = [e for e in srv.audit_events(object_id=w.v1["id"])
                if e["action"] == "policy.proposed"]
        eq(prop[0]["details"]["sha256"], sha(V1), "proposal audited with sha256")
    c("a second person activates; audited with the sha256", second_person)

    def supersede_and_rollback():
        w.v2 = status(srv.post("/v1/policies", {"text": V2}, token=w.ian_tok), 201)
        status(srv.post("/v1/policies/2/activate", None, token=w.ivy_tok), 200)
        eq(status(srv.get("/v1/policies/1", token=w.aud_tok), 200)["state"], "superseded",
           "v1 after v2")
        # rollback to v1: its proposer (ivy) may not, ian may
        problem(srv.post("/v1/policies/1/activate", {}, token=w.ivy_tok), code=403,
                problem_code="denied")
        r = status(srv.post("/v1/policies/1/activate", {"comment": "roll back"},
                            token=w.ian_tok), 200)
        eq(r["state"], "active", "v1 active again")
        eq(status(srv.get("/v1/policies/2", token=w.aud_tok), 200)["state"], "superseded",
           "v2 after rollback")
        problem(srv.post("/v1/policies/1/activate", {}, token=w.ian_tok), code=409,
                problem_code="conflict")
        items = status(srv.get("/v1/policies?limit=1", token=w.aud_tok), 200)
        eq(len(items["items"]), 1, "one per page")
        expect(items["next"], "a next page")
        expect("text" not in items["items"][0], "lists leave out the text")
        states = [p["state"] for p in srv.list_all("/v1/policies", token=w.aud_tok)]
        eq(states, ["active", "superseded"], "states in order")
    c("the previous version is superseded; rollback by a second person", supersede_and_rollback)

    def verify():
        t.stop(srv)
        v = srv.cli("audit", "verify")
        eq(v.returncode, 0, "audit verify (%s)" % (v.stdout + v.stderr)[-300:])
    c("audit verify exits 0", verify)


if __name__ == "__main__":
    ghtest.main(body)
