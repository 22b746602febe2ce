#!/usr/bin/env python3
"""test_governance.py - issue 4's workflow over HTTP with the real server:
delegations (create, list, approve through one, revoke), entitlement tags,
break-glass intake, the review endpoint and a missed review revoked by the
real scheduler, the grants?review_state filter, the evidence view, and bad
input on every new body (400 naming the field, nothing changed)."""

import os
import time
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402


class World:
    pass


def setup(srv, w):
    srv.start()
    w.bob, w.bob_tok = srv.user("gv-bob", ["approver"])
    w.carol, w.carol_tok = srv.user("gv-carol", ["approver"])
    w.dave, w.dave_tok = srv.user("gv-dave", ["approver"])
    w.alice, w.alice_tok = srv.user("gv-alice", ["requester"])
    w.aud, w.aud_tok = srv.user("gv-audrey", ["auditor"])
    w.owners = srv.group("gv-owners", [w.bob])
    w.cover = srv.group("gv-cover", [w.carol])
    w.others = srv.group("gv-others", [w.dave])
    w.db_sys = srv.system("gv-db", w.bob["id"])
    w.web_sys = srv.system("gv-web", w.bob["id"])
    w.med = srv.entitlement(w.db_sys["id"], "rw", "medium", "1d", w.owners["id"],
                            tags=["pci", "prod"])
    w.web = srv.entitlement(w.web_sys["id"], "deploy", "medium", "1d", w.owners["id"])
    w.low = srv.entitlement(w.db_sys["id"], "ro", "low", "8h", w.owners["id"])
    w.low2 = srv.entitlement(w.db_sys["id"], "ro2", "low", "8h", w.owners["id"])
    w.low3 = srv.entitlement(w.db_sys["id"], "ro3", "low", "8h", w.owners["id"])


def tags(srv, w):
    eq(w.med["tags"], ["pci", "prod"], "tags sorted on create")
    lst = status(srv.get("/v1/entitlements?tag=pci"), 200)
    eq([e["id"] for e in lst["items"]], [w.med["id"]], "?tag=pci lists the tagged one")
    upd = status(srv.patch("/v1/entitlements/" + w.web["id"], {"tags": ["pci", "web", "pci"]}),
                 200)
    eq(upd["tags"], ["pci", "web"], "tags deduplicated on update")
    lst = status(srv.get("/v1/entitlements?tag=pci"), 200)
    eq(len(lst["items"]), 2, "both carry pci now")
    status(srv.patch("/v1/entitlements/" + w.web["id"], {"tags": []}), 200)
    problem(srv.get("/v1/entitlements?tag=Bad!"), 400, field="tag")
    before = srv.snapshot()
    problem(srv.patch("/v1/entitlements/" + w.web["id"], {"tags": ["UPPER"]}), 400,
            field="tags")
    problem(srv.patch("/v1/entitlements/" + w.web["id"], {"tags": ["t%d" % i for i in range(17)]}),
            400, field="tags")
    ghtest.unchanged(srv, before, "bad tags")


def delegation_flow(srv, w):
    d = status(srv.post("/v1/delegations", {
        "from_group": "gv-owners", "to_group": "gv-cover", "system": "gv-db",
        "expires_in": "7d", "reason": "holiday cover"}, token=w.bob_tok), 201)
    expect(d["id"].startswith("dlg_"), "id %r" % d["id"])
    eq(d["from_group"], {"id": w.owners["id"], "name": "gv-owners"}, "from_group")
    eq(d["scope"], {"type": "system", "id": w.db_sys["id"], "name": "gv-db"}, "scope")
    eq(d["status"], "active", "status")
    eq(status(srv.get("/v1/delegations/" + d["id"], token=w.aud_tok), 200), d, "get == create")
    lst = status(srv.get("/v1/delegations?from_group=gv-owners&status=active",
                         token=w.carol_tok), 200)
    eq([x["id"] for x in lst["items"]], [d["id"]], "listed")
    problem(srv.get("/v1/delegations", token=w.alice_tok), 403)

    # carol approves a gv-db request through it, not a gv-web one
    req = srv.request(w.alice["id"], w.med["id"], token=w.alice_tok)
    web = srv.request(w.alice["id"], w.web["id"], token=w.alice_tok)
    before = srv.snapshot()
    problem(srv.post("/v1/requests/%s/approve" % web["id"], {}, token=w.carol_tok), 403,
            problem_code="denied")
    ghtest.unchanged(srv, before, "out of scope")
    a = status(srv.post("/v1/requests/%s/approve" % req["id"], {"comment": "cover"},
                        token=w.carol_tok), 200)
    eq(a["state"], "active", "approved through the delegation")
    expect("delegation:" + d["id"] in a["approvals"][0]["checks"],
           "checks name the delegation: %r" % a["approvals"][0]["checks"])
    expect("policy_permits_approve" in a["approvals"][0]["checks"], "policy check recorded")
    w.approved = a

    # no re-delegation; dave cannot delegate for a group he is not in
    before = srv.snapshot()
    problem(srv.post("/v1/delegations", {"from_group": "gv-cover", "to_group": "gv-others",
                                         "system": "gv-db", "expires_in": "1d", "reason": "r"},
                     token=w.carol_tok), 403, problem_code="denied")
    problem(srv.post("/v1/delegations", {"from_group": "gv-owners", "to_group": "gv-others",
                                         "system": "gv-db", "expires_in": "1d", "reason": "r"},
                     token=w.dave_tok), 403)
    ghtest.unchanged(srv, before, "refused delegations")

    # revoked: carol loses the authority
    problem(srv.post("/v1/delegations/%s/revoke" % d["id"], {"reason": "x"},
                     token=w.carol_tok), 403)
    r = status(srv.post("/v1/delegations/%s/revoke" % d["id"], {"reason": "back"},
                        token=w.bob_tok), 200)
    eq(r["status"], "revoked", "revoked")
    problem(srv.post("/v1/delegations/%s/revoke" % d["id"], {"reason": "again"}), 409)
    problem(srv.post("/v1/requests/%s/approve" % web["id"], {}, token=w.carol_tok), 403)
    events = [e["action"] for e in srv.audit_events(object_id=d["id"])]
    eq(events, ["delegation.created", "delegation.revoked"], "audited")


def break_glass_builtin(srv, w):
    r = srv.request(w.alice["id"], w.low["id"], token=w.alice_tok, break_glass=True,
                    incident_ref="INC-77")
    eq(r["state"], "denied", "the built-in rule never permits break-glass")
    eq(r["break_glass"], True, "flagged")
    eq(r["incident_ref"], "INC-77", "incident_ref")
    expect(any(x.startswith("break_glass:") for x in r["decision"]["reasons"]),
           "reasons: %r" % r["decision"]["reasons"])


def make_break_glass(srv, w):
    """Two grants turned break-glass in the database (the built-in rule denies
    break-glass; the Cedar answer is another helper's): one reviewed later,
    one whose review is already overdue, which the scheduler must revoke."""
    a = srv.request(w.alice["id"], w.low2["id"], token=w.alice_tok)
    b = srv.request(w.alice["id"], w.low3["id"], token=w.alice_tok)
    w.bg_req = a
    w.bg_grant, w.missed_grant = ghtest.grant_id_of(a), ghtest.grant_id_of(b)
    srv.stop()
    ghtest.execute(srv, "UPDATE requests SET break_glass = 1, incident_ref = 'INC-9'"
                   " WHERE id IN (?, ?)", (a["id"], b["id"]))
    ghtest.execute(srv, "UPDATE grants SET break_glass = 1, review_state = 'pending',"
                   " review_due_at = ? WHERE id = ?", (int(time.time()) + 3600, w.bg_grant))
    ghtest.execute(srv, "UPDATE grants SET break_glass = 1, review_state = 'pending',"
                   " review_due_at = 1000 WHERE id = ?", (w.missed_grant,))
    srv.start()


def missed_review(srv, w):
    def revoked():
        g = status(srv.get("/v1/grants/" + w.missed_grant), 200)
        return g if g["status"] == "revoked" else None
    g = ghtest.poll(revoked, 10, "the scheduler revokes the missed review")
    eq(g["revoke_reason"], "break-glass review missed", "reason")
    eq(g["break_glass"]["review_state"], "missed", "review_state")
    lst = status(srv.get("/v1/grants?review_state=missed", token=w.aud_tok), 200)
    eq([x["id"] for x in lst["items"]], [w.missed_grant], "reported as missed")
    lst = status(srv.get("/v1/grants?review_state=pending"), 200)
    eq([x["id"] for x in lst["items"]], [w.bg_grant], "the other is pending")
    problem(srv.get("/v1/grants?review_state=late"), 400, field="review_state")
    expect("grant.review_missed" in [e["action"] for e in
                                     srv.audit_events(object_id=w.missed_grant)], "audited")


def review(srv, w):
    before = srv.snapshot()
    problem(srv.post("/v1/grants/%s/review" % w.bg_grant,
                     {"outcome": "confirm", "comment": "x"}, token=w.dave_tok), 403,
            problem_code="denied")
    problem(srv.post("/v1/grants/%s/review" % w.missed_grant,
                     {"outcome": "confirm", "comment": "x"}, token=w.bob_tok), 409)
    problem(srv.post("/v1/grants/%s/review" % ghtest.grant_id_of(w.approved),
                     {"outcome": "confirm", "comment": "x"}, token=w.bob_tok), 409)
    ghtest.unchanged(srv, before, "refused reviews")
    g = status(srv.post("/v1/grants/%s/review" % w.bg_grant,
                        {"outcome": "confirm", "comment": "justified"}, token=w.bob_tok), 200)
    eq(g["status"], "active", "confirm keeps it")
    eq(g["break_glass"]["review_state"], "confirmed", "confirmed")
    eq(g["break_glass"]["reviewed_by"], w.bob["id"], "reviewed_by")
    eq(g["break_glass"]["incident_ref"], "INC-9", "incident_ref")
    problem(srv.post("/v1/grants/%s/review" % w.bg_grant,
                     {"outcome": "revoke", "comment": "x"}, token=w.bob_tok), 409)


def evidence(srv, w):
    e = status(srv.get("/v1/requests/%s/evidence" % w.approved["id"], token=w.aud_tok), 200)
    eq(e["request"]["id"], w.approved["id"], "request")
    eq(e["requester"]["name"], "gv-alice", "requester")
    eq(e["subject"]["kind"], "human", "subject")
    eq(e["entitlement"]["control_owner_group"]["name"], "gv-owners", "control owner")
    eq(e["decision"]["source"], "builtin-catalog-rule", "decision source")
    eq(e["decision"]["outcome"], "approval_required", "outcome")
    eq(e["approvals"][0]["approver"]["name"], "gv-carol", "approver")
    expect(any(c.startswith("delegation:") for c in e["approvals"][0]["checks"]), "checks")
    eq(e["grant"]["status"], "active", "grant")
    eq(e["outcome"]["state"], "active", "outcome")
    hist = status(srv.get("/v1/requests/%s/history" % w.approved["id"]), 200)["items"]
    eq(e["audit"]["events"], len(hist), "audit summary counts the history")
    eq(e["audit"]["first_seq"], hist[0]["seq"], "first_seq")
    eq(e["audit"]["last_seq"], hist[-1]["seq"], "last_seq")
    e = status(srv.get("/v1/requests/%s/evidence" % w.bg_req["id"]), 200)
    eq(e["request"]["break_glass"], True, "break-glass flagged in evidence")
    eq(e["grant"]["break_glass"]["review_state"], "confirmed", "review in evidence")
    problem(srv.get("/v1/requests/req_0000000000000000/evidence"), 404)
    other, other_tok = srv.user("gv-zed", ["requester"])
    problem(srv.get("/v1/requests/%s/evidence" % w.approved["id"], token=other_tok), 404)


def bad_bodies(srv, w):
    grant = w.bg_grant
    dlg_good = {"from_group": "gv-owners", "to_group": "gv-cover", "tag": "pci",
                "expires_in": "1d", "reason": "r"}
    cases = [
        ("/v1/delegations", dict(dlg_good, bogus=1), ["bogus"]),
        ("/v1/delegations", dict(dlg_good, from_group=5, reason=True), ["from_group", "reason"]),
        ("/v1/delegations", {}, ["from_group", "to_group", "system", "expires_at", "reason"]),
        ("/v1/delegations", dict(dlg_good, expires_in="100d"), ["expires_in"]),
        ("/v1/delegations", dict(dlg_good, to_group="gv-owners"), ["to_group"]),
        ("/v1/delegations", dict(dlg_good, system="gv-db"), ["tag"]),
        ("/v1/delegations", dict(dlg_good, expires_at="2000-01-01T00:00:00Z",
                                 expires_in=None), ["expires_at"]),
        ("/v1/delegations/dlg_0000000000000000/revoke", {"reason": 1, "x": 2}, ["reason", "x"]),
        ("/v1/delegations/dlg_0000000000000000/revoke", {}, ["reason"]),
        ("/v1/grants/%s/review" % grant, {}, ["outcome", "comment"]),
        ("/v1/grants/%s/review" % grant, {"outcome": "ok", "comment": ["x"], "y": 1},
         ["outcome", "comment", "y"]),
        ("/v1/requests", {"channel": "portal", "subject": "gv-alice", "entitlement": "gv-db/ro",
                          "justification": "j", "duration": "1h", "break_glass": "yes",
                          "incident_ref": 3}, ["break_glass", "incident_ref"]),
        ("/v1/requests", {"channel": "portal", "subject": "gv-alice", "entitlement": "gv-db/ro",
                          "justification": "j", "duration": "1h", "break_glass": True},
         ["incident_ref"]),
    ]
    for path, body, fields in cases:
        body = {k: v for k, v in body.items() if v is not None}
        before = srv.snapshot()
        problem(srv.post(path, body), 400, field=fields, what="POST %s %r" % (path, body))
        ghtest.unchanged(srv, before, "POST %s" % path)


def cli(srv, w):
    env_args = ("--server", "http://127.0.0.1:%d" % srv.port, "--token", srv.token)
    r = srv.cli(*env_args, "delegations", "create", "--from-group", "gv-owners",
                "--to-group", "gv-cover", "--tag", "pci", "--expires-in", "2d",
                "--reason", "cli")
    eq(r.returncode, 0, "delegations create (%s)" % (r.stdout + r.stderr)[-300:])
    r = srv.cli(*env_args, "--json", "delegations", "list", "--status", "active")
    eq(r.returncode, 0, "delegations list (%s)" % r.stderr[-300:])
    expect("gv-cover" in r.stdout, "list shows it: %s" % r.stdout[-300:])
    r = srv.cli(*env_args, "--json", "requests", "evidence", w.approved["id"])
    eq(r.returncode, 0, "requests evidence (%s)" % r.stderr[-300:])
    expect('"audit"' in r.stdout and '"approvals"' in r.stdout, "evidence printed")
    r = srv.cli(*env_args, "grants", "review", w.bg_grant, "--outcome", "confirm",
                "--comment", "x")
    expect(r.returncode != 0, "a second review is refused by the CLI too")


def body(t, binary):
    srv = t.server(binary, name="governance")
    w = World()
    if not t.case("setup", setup, srv, w):
        return
    t.case("entitlement tags and ?tag=", tags, srv, w)
    t.case("delegation: create, list, approve through it, bounds, revoke", delegation_flow,
           srv, w)
    t.case("break-glass under the built-in rule is denied and flagged", break_glass_builtin,
           srv, w)
    if not t.case("break-glass grants (seeded)", make_break_glass, srv, w):
        return
    t.case("a missed review is revoked by the scheduler and reported", missed_review, srv, w)
    t.case("review: invariants, 409s, confirm", review, srv, w)
    if hasattr(w, "approved"):
        t.case("evidence view", evidence, srv, w)
        t.case("cli: delegations, evidence, review", cli, srv, w)
    t.case("bad input on every new body: 400 naming the field, nothing changed", bad_bodies,
           srv, w)


if __name__ == "__main__":
    ghtest.main(body)
