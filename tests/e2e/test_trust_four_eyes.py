#!/usr/bin/env python3
"""test_trust_four_eyes.py - nobody profits from their own administrative
change (issue 10, part 2). An iam attacker (not admin) tries the three
attacks of the issue over HTTP: taking over another team's NHI by changing
its owner and issuing a key, lowering a risk tier and requesting the access
for herself, and adding herself to a control-owner group (directly and
through a nested group) to approve others' requests. Each write is answered
202 with a proposed change and nothing else changes (the snapshot differs by
the change row and its change.proposed event only); the attacker cannot
confirm her own proposal, the beneficiary cannot confirm one made for her,
and a second admin/iam person's confirmation makes a change take effect."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

# Tables a proposal may touch: its row and its audit event (with the tree).
PROPOSAL_TABLES = {"changes", "audit_events", "audit_head", "merkle_nodes", "audit_len"}


class World:
    pass


def setup(srv, w):
    srv.start()
    w.grace, w.grace_tok = srv.user("grace", ["iam"])          # the honest second person
    w.mallory, w.mallory_tok = srv.user("mallory", ["iam"])    # the attacker
    w.mike, w.mike_tok = srv.user("mike", ["iam"])             # her accomplice
    w.farid, w.farid_tok = srv.user("farid", ["requester", "approver"])
    w.rita, w.rita_tok = srv.user("rita", ["requester"])
    w.crew = srv.group("mallory-crew", [w.mallory])
    w.etl_owners = srv.group("etl-owners", [w.farid])
    w.pay_leads = srv.group("pay-leads", [])
    w.pay_owners = srv.group("pay-owners", [w.farid, w.pay_leads])
    # another team's service account and its working API key grant
    w.keys = srv.system("etl-keys", w.farid["id"], connector="credential")
    w.api_key = srv.entitlement(w.keys["id"], "api-key", "low", "8h", w.etl_owners["id"])
    w.etl = srv.nhi("billing-etl", w.farid["id"])
    req = srv.request(w.etl["id"], w.api_key["id"], token=w.farid_tok, duration="4h")
    eq(req["state"], "active", "the NHI's key grant")
    w.etl_grant = ghtest.grant_id_of(req)
    # a medium entitlement and a high one with a pending request of someone else
    w.db = srv.system("reports", w.farid["id"])
    w.read = srv.entitlement(w.db["id"], "read", "medium", "8h", w.etl_owners["id"])
    w.pay = srv.system("payments", w.farid["id"])
    w.admin_ent = srv.entitlement(w.pay["id"], "admin", "high", "8h", w.pay_owners["id"])
    w.rita_req = srv.request(w.rita["id"], w.admin_ent["id"], token=w.rita_tok)
    eq(w.rita_req["state"], "pending_approval", "rita's request waits for approvers")


def proposal_only(srv, before, what):
    """The database differs from before by proposals and their events only;
    returns the new audit events."""
    after = srv.snapshot()
    diffs = [k for k in ghtest.snapshot_diff(
        {k: v for k, v in before.items() if k not in PROPOSAL_TABLES},
        {k: v for k, v in after.items() if k not in PROPOSAL_TABLES})]
    expect(not diffs, "%s changed more than the proposal: %s" % (what, diffs))
    return after["audit_len"] - before["audit_len"]


def proposed(resp, what):
    doc = status(resp, 202, what)
    ch = doc.get("change")
    expect(isinstance(ch, dict) and ch.get("id", "").startswith("chg_"),
           "%s: the answer holds the change: %r" % (what, doc))
    eq(ch["state"], "proposed", what + ": state")
    expect("second admin or iam person" in doc.get("detail", ""),
           "%s: the detail says who confirms: %r" % (what, doc.get("detail")))
    return ch


def last_events(srv, n):
    return srv.audit_events()[-n:] if n else []


def refused_confirm(srv, change_id, token, code, what):
    before = srv.snapshot()
    doc = problem(srv.post("/v1/changes/%s/confirm" % change_id, {}, token=token), code,
                  what=what)
    ghtest.unchanged(srv, before, what)
    return doc


def body(t, binary):
    srv = t.server(binary)
    w = World()
    c = t.case
    if not c("setup", setup, srv, w):
        return

    # --- attack 1: take over another team's service account ------------------
    def owner_takeover():
        before = srv.snapshot()
        ch = proposed(srv.patch("/v1/identities/billing-etl", {"owner": w.mallory["id"]},
                                token=w.mallory_tok), "PATCH owner of billing-etl")
        eq(ch["object_type"], "identity", "object type")
        eq(ch["object_id"], w.etl["id"], "object")
        eq(ch["weakens"], [{"field": "owner", "from": w.farid["id"], "to": w.mallory["id"]}],
           "what it weakens")
        n = proposal_only(srv, before, "proposing the owner change")
        eq(n, 1, "one audit event")
        eq([e["action"] for e in last_events(srv, 1)], ["change.proposed"], "the event")
        eq(status(srv.get("/v1/identities/billing-etl"), 200)["owner"], w.farid["id"],
           "the owner is unchanged")
        before = srv.snapshot()
        problem(srv.post("/v1/grants/%s/credentials" % w.etl_grant, {}, token=w.mallory_tok),
                403, what="the attacker issues a key")
        ghtest.unchanged(srv, before, "a refused key")
        refused_confirm(srv, ch["id"], w.mallory_tok, 403, "the proposer confirms")
        w.owner_change = ch
    c("attack: an NHI's new owner waits for a second person; no key", owner_takeover)

    def owner_beneficiary():
        # the attacker withdraws, her accomplice proposes her as the owner
        wd = status(srv.post("/v1/changes/%s/withdraw" % w.owner_change["id"],
                             {"reason": "wrong owner"}, token=w.mallory_tok), 200)
        eq(wd["state"], "withdrawn", "withdrawn")
        ch = proposed(srv.patch("/v1/identities/billing-etl", {"owner": w.mallory["id"]},
                                token=w.mike_tok), "the accomplice proposes")
        doc = refused_confirm(srv, ch["id"], w.mallory_tok, 403, "the new owner confirms")
        expect("benefit" in doc.get("detail", ""), "the refusal says why: %r" % doc)
        problem(srv.post("/v1/changes/%s/confirm" % ch["id"], {}, token=w.farid_tok), 403,
                what="a requester confirms")
        problem(srv.post("/v1/changes/%s/withdraw" % ch["id"], {"reason": "x"},
                         token=w.farid_tok), 403, what="a requester withdraws")
        w.owner_change2 = ch
    c("the beneficiary of an owner change cannot confirm it", owner_beneficiary)

    # --- attack 2: lower a risk tier and request it ------------------------------
    def risk_tier():
        before = srv.snapshot()
        ch = proposed(srv.patch("/v1/entitlements/" + w.read["id"], {"risk_tier": "low",
                                                                    "description": "x"},
                                token=w.mallory_tok), "PATCH risk_tier low")
        eq(ch["weakens"], [{"field": "risk_tier", "from": "medium", "to": "low"}], "weakens")
        eq(ch["payload"], {"risk_tier": "low", "description": "x"},
           "a mixed PATCH is proposed as a whole")
        eq(proposal_only(srv, before, "proposing a lower tier"), 1, "one event")
        ent = status(srv.get("/v1/entitlements/" + w.read["id"]), 200)
        eq((ent["risk_tier"], ent["description"]), ("medium", None), "nothing applied")
        req = srv.request(w.mallory["id"], w.read["id"], token=w.mallory_tok)
        eq(req["state"], "pending_approval", "the attacker's request is not auto-approved")
        refused_confirm(srv, ch["id"], w.mallory_tok, 403, "the proposer confirms")
        # a second, different proposal for the same object waits for the first
        problem(srv.patch("/v1/entitlements/" + w.read["id"], {"requestable": False,
                                                              "max_duration": "9h"},
                          token=w.mike_tok), 409, what="a second open proposal")
        w.risk_change = ch
        w.mallory_read_req = req
    c("attack: a lowered risk tier waits; the attacker's request is not auto-approved",
      risk_tier)

    # --- attack 3: join a control-owner group and approve ------------------------
    def join_owners():
        for grp, what in ((w.pay_owners, "the control-owner group"),
                          (w.pay_leads, "a group nested in it")):
            before = srv.snapshot()
            ch = proposed(srv.post("/v1/groups/%s/members" % grp["id"],
                                   {"identity": w.mallory["id"]}, token=w.mallory_tok),
                          "adding herself to " + what)
            eq(ch["object_id"], grp["id"], "object")
            eq(ch["weakens"][0]["field"], "members", "weakens members")
            eq(proposal_only(srv, before, "proposing a member"), 1, "one event")
            members = status(srv.get("/v1/groups/" + grp["id"]), 200)["members"]
            expect(w.mallory["id"] not in [m["id"] for m in members],
                   "%s does not hold her" % what)
            refused_confirm(srv, ch["id"], w.mallory_tok, 403, "the proposer confirms")
        before = srv.snapshot()
        problem(srv.post("/v1/requests/%s/approve" % w.rita_req["id"], {},
                         token=w.mallory_tok), 403, what="the attacker approves")
        ghtest.unchanged(srv, before, "a refused approval")
    c("attack: joining a control-owner group waits; no approval", join_owners)

    def member_beneficiary():
        # her accomplice adds a group she is in: she benefits through it
        ch = proposed(srv.post("/v1/groups/%s/members" % w.pay_owners["id"],
                               {"group": w.crew["id"]}, token=w.mike_tok),
                      "the accomplice adds her group")
        refused_confirm(srv, ch["id"], w.mallory_tok, 403, "a member of the added group")
        w.crew_change = ch
        ls = status(srv.get("/v1/changes?state=proposed&object=" + w.pay_owners["id"],
                            token=w.grace_tok), 200)
        expect(ch["id"] in [x["id"] for x in ls["items"]], "listed: %r" % ls)
    c("a member of the group added cannot confirm it", member_beneficiary)

    def unguarded_at_once():
        g = srv.group("book-club", [])
        r = status(srv.post("/v1/groups/%s/members" % g["id"], {"identity": w.mallory["id"]},
                            token=w.mallory_tok), 200, "a group that guards nothing")
        expect(w.mallory["id"] in [m["id"] for m in r["members"]], "applied at once")
        e = status(srv.patch("/v1/entitlements/" + w.admin_ent["id"], {"risk_tier": "critical"},
                             token=w.mallory_tok), 200, "raising a risk tier")
        eq(e["risk_tier"], "critical", "a stronger control applies at once")
    c("strengthening and unguarded changes apply at once", unguarded_at_once)

    # --- a second person confirms ----------------------------------------------------
    def confirmed():
        ch = status(srv.post("/v1/changes/%s/confirm" % w.owner_change2["id"],
                             {"comment": "team moved"}, token=w.grace_tok), 200)
        eq(ch["state"], "confirmed", "state")
        eq(ch["decided_by"], w.grace["id"], "decided by")
        eq(status(srv.get("/v1/identities/billing-etl"), 200)["owner"], w.mallory["id"],
           "the owner changed")
        acts = [e["action"] for e in srv.audit_events(object_id=w.etl["id"])]
        expect("identity.owner_transferred" in acts, "the usual event: %r" % acts)
        acts = [e["action"] for e in srv.audit_events(object_id=ch["id"])]
        eq(acts, ["change.proposed", "change.confirmed"], "the change's events")
        problem(srv.post("/v1/changes/%s/confirm" % ch["id"], {}, token=w.grace_tok), 409,
                what="confirming twice")
        # the lowered tier, confirmed: neither the proposer nor the confirmer is
        # auto-approved for it, anyone else is
        status(srv.post("/v1/changes/%s/confirm" % w.risk_change["id"], {},
                        token=w.grace_tok), 200)
        ent = status(srv.get("/v1/entitlements/" + w.read["id"]), 200)
        eq(ent["risk_tier"], "low", "the tier changed")
        status(srv.post("/v1/requests/%s/cancel" % w.mallory_read_req["id"],
                        {"reason": "again"}, token=w.mallory_tok), 200)
        mine = srv.request(w.mallory["id"], w.read["id"], token=w.mallory_tok)
        eq(mine["state"], "pending_approval", "the proposer still needs an approver")
        ev = status(srv.get("/v1/requests/%s/evidence" % mine["id"], token=w.mallory_tok),
                    200)
        expect("controls_changed_by" in ev["decision"], "the evidence says why: %r"
               % ev["decision"])
        other = srv.request(w.rita["id"], w.read["id"], token=w.rita_tok)
        eq(other["state"], "active", "someone else is auto-approved")
    c("a confirmed change takes effect; its authors are not auto-approved", confirmed)

    def cli():
        base = ("--server", "http://127.0.0.1:%d" % srv.port)
        r = srv.cli(*base, "--token", w.mallory_tok, "entitlements", "update",
                    w.admin_ent["id"], "--risk-tier", "medium")
        eq(r.returncode, 0, "a proposed update exits 0 (%s)" % (r.stdout + r.stderr)[-400:])
        expect("proposed, not applied" in r.stdout and "gatehouse changes confirm chg_" in
               r.stdout, "the CLI says the change waits:\n%s" % r.stdout)
        r = srv.cli(*base, "--token", w.mallory_tok, "--json", "entitlements", "update",
                    w.admin_ent["id"], "--risk-tier", "medium")
        eq(r.returncode, 0, "again, --json")
        ch = json.loads(r.stdout)["change"]
        eq(ch["state"], "proposed", "--json shows the change")
        r = srv.cli(*base, "--token", w.grace_tok, "changes", "list", "--state", "proposed")
        eq(r.returncode, 0, "changes list (%s)" % r.stderr[-300:])
        expect(ch["id"] in r.stdout and "risk_tier" in r.stdout and "mallory" in r.stdout,
               "the list names the change, what it weakens and who proposed it:\n%s" % r.stdout)
        r = srv.cli(*base, "--token", w.mallory_tok, "changes", "confirm", ch["id"])
        eq(r.returncode, 1, "the proposer's confirm fails")
        r = srv.cli(*base, "--token", w.grace_tok, "changes", "show", ch["id"])
        eq(r.returncode, 0, "changes show")
        r = srv.cli(*base, "--token", w.mallory_tok, "changes", "withdraw", ch["id"],
                    "--reason", "not now")
        eq(r.returncode, 0, "the proposer withdraws (%s)" % r.stderr[-300:])
        eq(status(srv.get("/v1/changes/" + ch["id"]), 200)["state"], "withdrawn", "withdrawn")
    c("the CLI proposes, lists, confirms and withdraws", cli)

    def verify():
        t.stop(srv)
        v = srv.cli("audit", "verify")
        eq(v.returncode, 0, "audit verify (%s)" % (v.stdout + v.stderr)[-300:])
    c("audit verify exits 0", verify)


if __name__ == "__main__":
    ghtest.main(body)
