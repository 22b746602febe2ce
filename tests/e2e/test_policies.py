#!/usr/bin/env python3
"""test_policies.py - versioned policy sets over HTTP: propose, a parse error
with its position, four-eyes activation refused with the database unchanged,
a second person activates, the previous version superseded, rollback, roles,
the audit events carrying the text's sha256, and what-if simulation (HTTP and
CLI) predicting exactly what activation then does."""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

V1 = "permit (principal, action, resource);\n"
V2 = 'forbid (principal, action == Action::"request", resource)\nunless { context.emergency };\n'
# requests need approvals (two for high risk); approvals need a permit (Cedar default deny)
V3 = ('@approvals("1")\npermit (principal, action == Action::"request", resource);\n'
      '@approvals("2")\npermit (principal, action == Action::"request", resource)\n'
      'when { resource.risk_tier == "high" };\n'
      'permit (principal, action == Action::"approve", resource);\n')
# sim-rw and sim-ro are closed; everything else needs three approvals
V4 = ('@reason("sim-rw and sim-ro are frozen")\n'
      'forbid (principal, action == Action::"request", resource)\n'
      'when { resource.name == "sim-rw" || resource.name == "sim-ro" };\n'
      '@approvals("3")\npermit (principal, action == Action::"request", resource);\n'
      'permit (principal, action == Action::"approve", resource);\n')


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

    def simulate_bad_input():
        before = srv.snapshot()
        sim = "/v1/policies/simulate"
        problem(srv.post(sim, {}, token=w.aud_tok), code=400, problem_code="invalid",
                field="text")
        problem(srv.post(sim, {"text": V1, "version": 1}, token=w.aud_tok), code=400,
                problem_code="invalid", field="version")
        problem(srv.post(sim, {"version": 99}, token=w.aud_tok), code=400,
                problem_code="invalid", field="version")
        problem(srv.post(sim, {"version": "pol_ffffffffffffffff"}, token=w.aud_tok), code=400,
                problem_code="invalid", field="version")
        doc = problem(srv.post(sim, {"text": "permit (principal,"}, token=w.aud_tok), code=400,
                      problem_code="invalid", field="text")
        reason = [e["reason"] for e in doc["errors"] if e["field"] == "text"][0]
        expect(reason.startswith("1:"), "the reason names line 1: %r" % reason)
        problem(srv.post(sim, {"text": 42}, token=w.aud_tok), code=400, field="text")
        problem(srv.post(sim, {"text": V1, "bogus": 1}, token=w.aud_tok), code=400,
                field="bogus")
        problem(srv.post(sim, {"text": V1}, token=w.rex_tok), code=403,
                problem_code="forbidden")
        ghtest.unchanged(srv, before, "simulations")
    c("simulate: missing, both, unknown version, bad text: 400 naming the field",
      simulate_bad_input)

    def simulate_world():
        ann, _ = srv.user("pol-ann", ["approver"])
        w.ann_tok = srv.token_for(ann, "ann-2")
        owners = srv.group("sim-owners", [ann])
        sam = srv.human("pol-sam")
        sysm = srv.system("sim-db", w.ivy["id"])
        ents = {n: srv.entitlement(sysm["id"], n, tier, "8h", owners["id"])
                for n, tier in (("sim-rw", "medium"), ("sim-ro", "low"), ("sim-adm", "high"))}
        v3 = status(srv.post("/v1/policies", {"text": V3}, token=w.ivy_tok), 201)
        status(srv.post("/v1/policies/%s/activate" % v3["id"], {}, token=w.ian_tok), 200)
        w.req = {n: srv.request(sam["id"], ents[n]["id"]) for n in ents}
        for n, r in w.req.items():
            eq(r["state"], "pending_approval", "%s under V3" % n)
        done = status(srv.post("/v1/requests/%s/approve" % w.req["sim-ro"]["id"], {},
                               token=w.ann_tok), 200)
        eq(done["state"], "active", "sim-ro approved")
        w.grant_ro = done["grant"]
        w.v4 = status(srv.post("/v1/policies", {"text": V4}, token=w.ivy_tok), 201)
    c("simulation world: V3 active, two pending requests and a grant", simulate_world)

    def simulate_http():
        before = srv.snapshot()
        w.sim = status(srv.post("/v1/policies/simulate", {"version": w.v4["version"]},
                                token=w.aud_tok), 200)
        by_text = status(srv.post("/v1/policies/simulate", {"text": V4}, token=w.ivy_tok), 200)
        ghtest.unchanged(srv, before, "a simulation")
        eq(w.sim["policy"], {"version": w.v4["version"], "sha256": sha(V4)}, "policy")
        eq(by_text["policy"], {"version": None, "sha256": sha(V4)}, "policy of text")
        eq(w.sim["active_version"], w.v4["version"] - 1, "active_version")
        eq(w.sim["validation"], [], "validation")
        eq(by_text["requests"], w.sim["requests"], "text and version agree on requests")
        eq(by_text["grants"], w.sim["grants"], "text and version agree on grants")
        flips = {f["request"]: f for f in w.sim["requests"]["flips"]}
        eq(w.sim["requests"]["evaluated"], 2, "pending evaluated")
        eq(sorted(flips), sorted([w.req["sim-rw"]["id"], w.req["sim-adm"]["id"]]), "flips")
        rw = flips[w.req["sim-rw"]["id"]]
        eq(rw["effect"], "deny", "sim-rw effect")
        eq(rw["to"]["outcome"], "denied", "sim-rw outcome")
        expect(any("frozen" in x for x in rw["to"]["reasons"]), "reasons: %r" % rw["to"])
        adm = flips[w.req["sim-adm"]["id"]]
        eq((adm["effect"], adm["from"]["required_approvals"], adm["to"]["required_approvals"]),
           ("require_approvals", 2, 3), "sim-adm")
        cands = w.sim["grants"]["revocation_candidates"]
        eq([x["grant"] for x in cands], [w.grant_ro], "revocation candidates")
    c("simulate over HTTP: flips and revocation candidates, nothing changes", simulate_http)

    def simulate_cli():
        path = os.path.join(srv.dir, "v4.cedar")
        with open(path, "w") as f:
            f.write(V4)
        url = "http://127.0.0.1:%d" % srv.port
        r = srv.cli("policy", "simulate", path, "--url", url, "--token", w.aud_tok)
        eq(r.returncode, 0, "exit status (%s)" % (r.stdout + r.stderr)[-400:])
        for needle in (w.req["sim-rw"]["id"], "deny", w.req["sim-adm"]["id"],
                       "require_approvals", w.grant_ro, "frozen", sha(V4)):
            expect(needle in r.stdout, "%r in the report:\n%s" % (needle, r.stdout))
        r = srv.cli("--json", "policy", "simulate", path, "--url", url, "--token", w.aud_tok)
        eq(r.returncode, 0, "--json exit status")
        doc = json.loads(r.stdout)
        eq(doc["requests"], w.sim["requests"], "CLI --json requests")
        r = srv.cli("policy", "simulate", path, "--url", url, "--token", w.rex_tok)
        eq(r.returncode, 1, "a requester is refused (%s)" % r.stderr[-300:])
        bad = os.path.join(srv.dir, "bad.cedar")
        with open(bad, "w") as f:
            f.write("permit (principal,")
        r = srv.cli("policy", "simulate", bad, "--url", url, "--token", w.aud_tok)
        eq(r.returncode, 1, "bad text exit status")
        expect("text: 1:" in r.stderr, "the field is named: %r" % r.stderr)
        r = srv.cli("policy", "simulate", "--url", url, "--token", w.aud_tok)
        eq(r.returncode, 2, "no FILE is a usage error")
    c("gatehouse policy simulate FILE prints the report; errors exit non-zero", simulate_cli)

    def activation_does_what_simulation_said():
        a = status(srv.post("/v1/policies/%s/activate" % w.v4["id"], {}, token=w.ian_tok), 200)
        eq(a["effects"]["requests"], w.sim["requests"], "activation effects: requests")
        eq(a["effects"]["grants"], w.sim["grants"], "activation effects: grants")
        rw = status(srv.get("/v1/requests/%s" % w.req["sim-rw"]["id"]), 200)
        eq((rw["state"], rw["close_reason"]), ("denied", "policy_changed"), "sim-rw after")
        adm = status(srv.get("/v1/requests/%s" % w.req["sim-adm"]["id"]), 200)
        eq((adm["state"], adm["required_approvals"]), ("pending_approval", 3), "sim-adm after")
        eq(status(srv.get("/v1/grants/%s" % w.grant_ro), 200)["status"], "active",
           "a candidate is not revoked")
        red = [e for e in srv.audit_events(object_id=w.req["sim-rw"]["id"])
               if e["action"] == "request.redecided"]
        eq(len(red), 1, "one request.redecided event")
        eq(red[0]["details"]["effect"], "deny", "audited effect")
        act = [e for e in srv.audit_events(object_id=w.v4["id"])
               if e["action"] == "policy.activated"]
        eq(act[0]["details"]["effects"], a["effects"], "effects audited with the activation")
        again = status(srv.post("/v1/policies/simulate", {"version": w.v4["version"]},
                                token=w.aud_tok), 200)
        eq(again["requests"]["flips"], [], "nothing more would change")
    c("activation applies exactly what the simulation predicted", activation_does_what_simulation_said)

    def verify():
        t.stop(srv)
        v = srv.cli("audit", "verify")
        eq(v.returncode, 0, "audit verify (%s)" % (v.stdout + v.stderr)[-300:])
    c("audit verify exits 0", verify)


if __name__ == "__main__":
    ghtest.main(body)
