#!/usr/bin/env python3
"""test_lifecycle.py - the whole request lifecycle over HTTP against a real server:
inventory, catalog, auto-grant, one and two approvals, rejection, cancel, SoD,
revoke, expiry by the scheduler, pending SLA, history, audit read and export,
decommission, ownership transfer, NHI completeness, and `audit verify`."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, parse_time, poll, problem, status  # noqa: E402

TOL = 2  # seconds of tolerance between our clock and the server's timestamps


class World:
    """Everything the cases share."""


def setup(srv, w):
    srv.start()
    w.owner = srv.human("owner-olga", ["requester"], display_name="Olga Owner",
                        email="olga@example.com")
    w.owner_tok = srv.token_for(w.owner)
    w.owner2 = srv.human("owner-otto", ["requester"])
    w.appr1, w.appr1_tok = srv.user("appr-ana", ["approver"])
    w.appr2, w.appr2_tok = srv.user("appr-ben", ["approver"])
    w.sd, w.sd_tok = srv.user("sd-sam", ["servicedesk"])
    w.rita, w.rita_tok = srv.user("req-rita", ["requester"])
    w.auditor, w.auditor_tok = srv.user("aud-al", ["auditor"])
    # ana is a direct member of the control-owner group, ben only through a nested group
    w.leads = srv.group("ctl-leads", [w.appr2])
    w.owners = srv.group("ctl-owners", [w.appr1, w.leads])
    grp = status(srv.get("/v1/groups/" + w.owners["id"]), 200)
    members = {(m["type"], m["id"]) for m in grp["members"]}
    expect(("identity", w.appr1["id"]) in members and ("group", w.leads["id"]) in members,
           "group members not as added: %r" % grp["members"])

    w.sys = srv.system("billing-db", w.owner["id"], description="billing database")
    eq(w.sys["owner"], w.owner["id"], "system owner")
    eq(w.sys["connector"], "manual", "default connector")
    gid = w.owners["id"]
    w.low = srv.entitlement(w.sys["id"], "read-only", "low", "1h", gid)
    w.med = srv.entitlement(w.sys["id"], "read-write", "medium", "8h", gid)
    w.high = srv.entitlement(w.sys["id"], "admin", "high", "4h", gid,
                             data_sensitivity="restricted")
    eq(w.low["max_duration_seconds"], 3600, "low max_duration_seconds")
    eq(w.med["max_duration"], "8h", "medium max_duration")
    eq(w.high["risk_tier"], "high", "high risk tier")
    eq(w.low["requestable"], True, "requestable defaults to true")
    w.pay_create = srv.entitlement(w.sys["id"], "payments-create", "low", "1h", gid)
    w.pay_approve = srv.entitlement(w.sys["id"], "payments-approve", "low", "1h", gid,
                                    incompatible_with=[w.pay_create["id"]])
    eq(w.pay_approve["incompatible_with"], [w.pay_create["id"]], "incompatible_with")
    other = status(srv.get("/v1/entitlements/" + w.pay_create["id"]), 200)
    eq(other["incompatible_with"], [w.pay_approve["id"]], "SoD conflict is symmetric")
    # by its unique name too
    byname = status(srv.get("/v1/entitlements/read-write"), 200)
    eq(byname["id"], w.med["id"], "entitlement by name")


def nhi_created_with_owner(srv, w):
    exp = ghtest.future(200)
    w.etl = srv.nhi("billing-etl", w.owner["id"], purpose="nightly billing export",
                    environment="prod", expires_at=exp, attributes={"team": "finance"},
                    display_name="Billing ETL")
    eq(w.etl["kind"], "service_account", "kind")
    eq(w.etl["owner"], w.owner["id"], "owner")
    eq(w.etl["purpose"], "nightly billing export", "purpose")
    eq(w.etl["environment"], "prod", "environment")
    eq(w.etl["status"], "active", "status")
    eq(w.etl["attributes"], {"team": "finance"}, "attributes")
    eq(w.etl["roles"], [], "roles")
    expect(w.etl["id"].startswith("idn_") and len(w.etl["id"]) == 20, "id shape %r" % w.etl["id"])
    eq(parse_time(w.etl["expires_at"]), parse_time(exp), "expires_at round trip")
    got = status(srv.get("/v1/identities/billing-etl"), 200)
    eq(got["id"], w.etl["id"], "identity by name")
    # other NHI kinds, each with an owner
    w.nhis = {}
    for kind in ("api_key", "workload", "oauth_app", "ai_agent"):
        w.nhis[kind] = srv.nhi("nhi-" + kind.replace("_", "-"), w.owner["id"], kind=kind)
    for name in ("nhi-two", "nhi-clamp", "nhi-expiry", "nhi-decom", "nhi-sod"):
        w.nhis[name] = srv.nhi(name, w.owner["id"])
    owned = srv.list_all("/v1/identities?owner=" + w.owner["id"])
    expect(len(owned) >= 10, "owner filter lists the owner's NHIs: %d" % len(owned))
    expect(all(i["owner"] == w.owner["id"] for i in owned), "owner filter")
    kinds = srv.list_all("/v1/identities?kind=ai_agent")
    eq([i["name"] for i in kinds], ["nhi-ai-agent"], "kind filter")


def check_grant_times(grant, seconds, t0, t1, what):
    granted = parse_time(grant["granted_at"])
    expires = parse_time(grant["expires_at"])
    expect(t0 - TOL <= granted <= t1 + TOL,
           "%s: granted_at %s not within the call (%.0f..%.0f)" % (what, grant["granted_at"],
                                                                    t0, t1))
    expect(abs((expires - granted) - seconds) <= 1,
           "%s: expires_at - granted_at = %.0f s, expected %d" % (what, expires - granted, seconds))


def low_auto_granted(srv, w):
    t0 = time.time()
    r = srv.request(w.etl["id"], w.low["id"], token=w.owner_tok, duration="30m")
    t1 = time.time()
    eq(r["state"], "active", "low-risk request state")
    eq(r["decision"]["outcome"], "auto_approved", "decision outcome")
    eq(r["required_approvals"], 0, "required approvals")
    eq(r["submitted_by"], w.owner["id"], "submitted_by")
    eq(r["requester"], w.owner["id"], "requester defaults to the caller")
    eq(r["subject"], w.etl["id"], "subject")
    eq(r["entitlement"], w.low["id"], "entitlement")
    eq(r["duration_seconds"], 1800, "duration_seconds")
    eq(r["duration"], "30m", "duration")
    gid = ghtest.grant_id_of(r)
    expect(gid and gid.startswith("grt_"), "active request has a grant: %r" % r.get("grant"))
    g = status(srv.get("/v1/grants/" + gid), 200)
    eq(g["status"], "active", "grant status")
    eq(g["subject"], w.etl["id"], "grant subject")
    eq(g["entitlement"], w.low["id"], "grant entitlement")
    eq(g["request"], r["id"], "grant request")
    eq(g["revoked_at"], None, "revoked_at")
    check_grant_times(g, 1800, t0, t1, "requested 30m under max 1h")
    w.low_req, w.low_grant = r, g


def low_over_max_clamped(srv, w):
    """expires_at = min(requested, max): 8h requested, 1h max."""
    t0 = time.time()
    r = srv.request(w.nhis["nhi-clamp"]["id"], w.low["id"], token=w.owner_tok, duration="8h")
    if r["state"] == "pending_approval":
        t0 = time.time()
        r = status(srv.post("/v1/requests/%s/approve" % r["id"], {"comment": "ok"},
                            token=w.appr1_tok), 200)
    t1 = time.time()
    eq(r["state"], "active", "over-max request ends active")
    g = status(srv.get("/v1/grants/" + ghtest.grant_id_of(r)), 200)
    check_grant_times(g, 3600, t0, t1, "requested 8h over max 1h")


def medium_needs_one_approval(srv, w):
    # references by name: the subject by its name, the entitlement as system/name
    r = srv.request("billing-etl", "billing-db/read-write", token=w.owner_tok, duration="2h")
    eq(r["subject"], w.etl["id"], "subject resolved from its name")
    eq(r["entitlement"], w.med["id"], "entitlement resolved from system/name")
    eq(r["state"], "pending_approval", "medium state after submit")
    eq(r["required_approvals"], 1, "required approvals")
    eq(r["decision"]["outcome"], "approval_required", "decision outcome")
    expect(r["decision"].get("source") and r["decision"].get("policy_version"),
           "decision records its source and policy version: %r" % r["decision"])
    eq(ghtest.grant_id_of(r), None, "no grant while pending")
    expect(r.get("sla_due_at"), "pending request has an SLA due time")
    eq(r["closed_at"], None, "closed_at while pending")
    listed = srv.list_all("/v1/requests?state=pending_approval")
    expect(r["id"] in [x["id"] for x in listed], "pending request listed by state filter")
    t0 = time.time()
    a = status(srv.post("/v1/requests/%s/approve" % r["id"], {"comment": "looks fine"},
                        token=w.appr1_tok), 200)
    t1 = time.time()
    eq(a["state"], "active", "state after one approval")
    eq(len(a["approvals"]), 1, "approvals recorded")
    ap = a["approvals"][0]
    eq(ap["approver"], w.appr1["id"], "approver")
    eq(ap["decision"], "approve", "approval decision")
    eq(ap["comment"], "looks fine", "approval comment")
    eq(ap["step"], 1, "approval step")
    expect(isinstance(ap.get("checks"), list) and ap["checks"], "approval lists its checks")
    g = status(srv.get("/v1/grants/" + ghtest.grant_id_of(a)), 200)
    eq(g["status"], "active", "grant status")
    check_grant_times(g, 7200, t0, t1, "medium 2h")
    w.med_req, w.med_grant = a, g


def high_needs_two_distinct(srv, w):
    r = srv.request(w.etl["id"], w.high["id"], token=w.owner_tok, duration="1h")
    eq(r["state"], "pending_approval", "high state after submit")
    eq(r["required_approvals"], 2, "required approvals")
    a1 = status(srv.post("/v1/requests/%s/approve" % r["id"], {}, token=w.appr1_tok), 200)
    eq(a1["state"], "pending_approval", "still pending after the first approval")
    eq(len(a1["approvals"]), 1, "one approval")
    again = srv.post("/v1/requests/%s/approve" % r["id"], {}, token=w.appr1_tok)
    problem(again, codes=(403, 409), what="same approver twice")
    a2 = status(srv.post("/v1/requests/%s/approve" % r["id"], {"comment": "second"},
                         token=w.appr2_tok), 200)  # via the nested group
    eq(a2["state"], "active", "active after two distinct approvals")
    eq(sorted(x["approver"] for x in a2["approvals"]),
       sorted([w.appr1["id"], w.appr2["id"]]), "two distinct approvers")
    eq(sorted(x["step"] for x in a2["approvals"]), [1, 2], "approval steps")
    expect(ghtest.grant_id_of(a2), "grant after the second approval")
    w.high_req = a2


def rejection_ends(srv, w):
    r = srv.request(w.nhis["nhi-two"]["id"], w.med["id"], token=w.owner_tok)
    eq(r["state"], "pending_approval", "state")
    missing = srv.post("/v1/requests/%s/reject" % r["id"], {}, token=w.appr1_tok)
    problem(missing, 400, field="comment", what="reject needs a comment")
    x = status(srv.post("/v1/requests/%s/reject" % r["id"], {"comment": "not justified"},
                        token=w.appr1_tok), 200)
    eq(x["state"], "rejected", "state after rejection")
    expect(x["closed_at"], "closed_at set")
    eq(ghtest.grant_id_of(x), None, "no grant")
    eq([a["decision"] for a in x["approvals"]], ["reject"], "the rejection is recorded")
    late = srv.post("/v1/requests/%s/approve" % r["id"], {}, token=w.appr2_tok)
    problem(late, 409, problem_code="conflict", what="approving a rejected request")
    grants = srv.list_all("/v1/grants?subject=%s&entitlement=%s" % (
        w.nhis["nhi-two"]["id"], w.med["id"]))
    eq(grants, [], "no grant for a rejected request")


def cancel_ends(srv, w):
    r = srv.request(w.nhis["nhi-two"]["id"], w.high["id"], token=w.owner_tok)
    eq(r["state"], "pending_approval", "state")
    c = status(srv.post("/v1/requests/%s/cancel" % r["id"], {"reason": "no longer needed"},
                        token=w.owner_tok), 200)
    eq(c["state"], "cancelled", "state after cancel")
    expect(c["closed_at"], "closed_at set")
    late = srv.post("/v1/requests/%s/approve" % r["id"], {}, token=w.appr1_tok)
    problem(late, 409, what="approving a cancelled request")


def servicedesk_intake(srv, w):
    before = srv.snapshot()
    bad = srv.post("/v1/requests", {"channel": "servicedesk", "subject": w.rita["id"],
                                    "entitlement": w.med["id"], "duration": "1h"},
                   token=w.sd_tok)
    problem(bad, 400, field=["ticket_ref", "requester", "justification"],
            what="servicedesk intake completeness (all at once)")
    ghtest.unchanged(srv, before, "an incomplete service-desk request")
    r = srv.request(w.rita["id"], w.med["id"], token=w.sd_tok, channel="servicedesk",
                    ticket_ref="INC-1042", requester=w.rita["id"])
    eq(r["state"], "pending_approval", "state")
    eq(r["channel"], "servicedesk", "channel")
    eq(r["ticket_ref"], "INC-1042", "ticket_ref")
    eq(r["submitted_by"], w.sd["id"], "submitted_by is the agent")
    eq(r["requester"], w.rita["id"], "requester")
    # a requester sees only its own requests
    mine = srv.list_all("/v1/requests", token=w.rita_tok)
    expect([x["id"] for x in mine] == [r["id"]],
           "requester lists only its own requests: %r" % [x["id"] for x in mine])
    other = srv.get("/v1/requests/" + w.med_req["id"], token=w.rita_tok)
    expect(other.status in (403, 404), "requester reads someone else's request: %d" % other.status)
    w.sd_req = r


def sod_conflict_denied(srv, w):
    subj = w.nhis["nhi-sod"]["id"]
    first = srv.request(subj, w.pay_create["id"], token=w.owner_tok)
    eq(first["state"], "active", "first of the SoD pair is granted")
    r = srv.post("/v1/requests", {"channel": "portal", "subject": subj,
                                  "entitlement": w.pay_approve["id"],
                                  "justification": "needs both", "duration": "1h"},
                 token=w.owner_tok)
    d = status(r, 201, "SoD-conflicting request is recorded as denied")
    eq(d["state"], "denied", "state")
    eq(d["decision"]["outcome"], "denied", "decision outcome")
    eq(ghtest.grant_id_of(d), None, "no grant")
    text = json.dumps(d["decision"]) + json.dumps(d.get("close_reason"))
    expect(w.pay_create["id"] in text or "payments-create" in text,
           "the denial names the conflicting entitlement: %s" % text)
    active = srv.list_all("/v1/grants?subject=%s&status=active" % subj)
    eq([g["entitlement"] for g in active], [w.pay_create["id"]], "only the first is held")


def revoke_with_reason(srv, w):
    g = w.low_grant
    bad = srv.post("/v1/grants/%s/revoke" % g["id"], {}, token=srv.token)
    problem(bad, 400, field="reason", what="revoke needs a reason")
    x = status(srv.post("/v1/grants/%s/revoke" % g["id"], {"reason": "left the team"}), 200)
    eq(x["status"], "revoked", "grant status")
    eq(x["revoke_reason"], "left the team", "revoke_reason")
    expect(x["revoked_at"] and x["revoked_by"], "revoked_at/by set: %r" % x)
    r = status(srv.get("/v1/requests/" + w.low_req["id"]), 200)
    eq(r["state"], "revoked", "request state after revoke")
    again = srv.post("/v1/grants/%s/revoke" % g["id"], {"reason": "twice"})
    problem(again, 409, what="revoking a revoked grant")


def grant_expires_by_itself(srv, w):
    subj = w.nhis["nhi-expiry"]["id"]
    r = srv.request(subj, w.low["id"], token=w.owner_tok, duration="2s")
    eq(r["state"], "active", "2s grant is active")
    gid = ghtest.grant_id_of(r)
    g = status(srv.get("/v1/grants/" + gid), 200)
    eq(parse_time(g["expires_at"]) - parse_time(g["granted_at"]), 2, "2s grant duration")

    def expired():
        cur = status(srv.get("/v1/grants/" + gid), 200)
        return cur if cur["status"] == "expired" else None
    poll(expired, 10, "the 2s grant to expire")
    req = status(srv.get("/v1/requests/" + r["id"]), 200)
    eq(req["state"], "expired", "request state after the grant expired")
    expect(req["closed_at"], "closed_at set on expiry")
    w.exp_req = r
    events = srv.audit_events(object_id=gid)
    expect(any(e["actor"] == "system:scheduler" for e in events),
           "the expiry is audited by the scheduler: %r" % [(e["actor"], e["action"])
                                                          for e in events])


def history_in_order(srv, w):
    r, gid = w.med_req, ghtest.grant_id_of(w.med_req)
    h = status(srv.get("/v1/requests/%s/history" % r["id"]), 200)
    items = h["items"]
    expect(len(items) >= 3, "history has submit, approval and grant events: %r" % items)
    seqs = [e["seq"] for e in items]
    eq(seqs, sorted(set(seqs)), "history is oldest first without duplicates")
    for e in items:
        expect(e["object_id"] in (r["id"], gid), "history event of another object: %r" % e)
    actions = [e["action"] for e in items]
    eq(items[0]["object_id"], r["id"], "history starts with the request")
    expect(items[0]["actor"] == w.owner["id"], "the submission is by the submitter")
    ia = next((i for i, a in enumerate(actions) if "approv" in a and i > 0), None)
    expect(ia is not None, "an approval event after the submission: %r" % actions)
    eq(items[ia]["actor"], w.appr1["id"], "the approval event's actor")
    ig = next((i for i, e in enumerate(items) if e["object_id"] == gid), None)
    expect(ig is not None and ig > ia, "a grant event after the approval: %r" % actions)
    # the revoked request's history ends with the revocation, the expired one with expiry
    hr = status(srv.get("/v1/requests/%s/history" % w.low_req["id"]), 200)["items"]
    expect(any("revok" in e["action"] for e in hr), "revocation in history: %r" %
           [e["action"] for e in hr])
    he = status(srv.get("/v1/requests/%s/history" % w.exp_req["id"]), 200)["items"]
    expect(any("expir" in e["action"] for e in he), "expiry in history: %r" %
           [e["action"] for e in he])
    rita = srv.get("/v1/requests/%s/history" % w.med_req["id"], token=w.rita_tok)
    expect(rita.status in (403, 404), "a requester reads another's history: %d" % rita.status)


def decommission_revokes(srv, w):
    nhi = w.nhis["nhi-decom"]
    r1 = srv.request(nhi["id"], w.low["id"], token=w.owner_tok)
    r2 = srv.request(nhi["id"], w.pay_create["id"], token=w.owner_tok)
    eq((r1["state"], r2["state"]), ("active", "active"), "two active grants")
    before_seq = srv.snapshot()["audit_len"]
    d = status(srv.post("/v1/identities/%s/decommission" % nhi["id"],
                        {"reason": "service retired"}), 200)
    eq(d["status"], "decommissioned", "status")
    # in the same step: no polling
    active = srv.list_all("/v1/grants?subject=%s&status=active" % nhi["id"])
    eq(active, [], "no active grant right after decommissioning")
    for r in (r1, r2):
        g = status(srv.get("/v1/grants/" + ghtest.grant_id_of(r)), 200)
        eq(g["status"], "revoked", "grant status after decommission")
        req = status(srv.get("/v1/requests/" + r["id"]), 200)
        eq(req["state"], "revoked", "request state after decommission")
    new = [e for e in srv.audit_events() if e["seq"] > before_seq]
    objs = {e["object_id"] for e in new}
    expect(nhi["id"] in objs and ghtest.grant_id_of(r1) in objs and ghtest.grant_id_of(r2) in objs,
           "decommission and both revocations audited: %r" % [(e["action"], e["object_id"])
                                                              for e in new])
    later = srv.post("/v1/requests", {"channel": "portal", "subject": nhi["id"],
                                      "entitlement": w.med["id"], "justification": "x",
                                      "duration": "1h"}, token=w.owner_tok)
    if later.status == 201:
        eq(later.json["state"], "denied", "a request for a decommissioned subject")
    else:
        problem(later, what="a request for a decommissioned subject")


def ownership_transfer(srv, w):
    # another owner weakens a control: proposed, then a second person confirms
    p = status(srv.patch("/v1/identities/" + w.etl["id"], {"owner": w.owner2["id"]}), 202)
    eq(status(srv.get("/v1/identities/" + w.etl["id"]), 200)["owner"], w.owner["id"],
       "not yet transferred")
    x = srv.confirm(p)
    eq(x["owner"], w.owner2["id"], "new owner")
    events = srv.audit_events(object_id=w.etl["id"])
    t = [e for e in events if e["action"] == "identity.owner_transferred"]
    eq(len(t), 1, "one identity.owner_transferred event")
    text = json.dumps(t[0]["details"])
    expect(w.owner["id"] in text and w.owner2["id"] in text,
           "the transfer names the old and the new owner: %s" % text)
    bad = srv.patch("/v1/identities/" + w.etl["id"], {"owner": w.nhis["api_key"]["id"]})
    problem(bad, 400, field="owner", what="an NHI as owner")


def nhi_missing_fields(srv, w):
    before = srv.snapshot()
    r = srv.post("/v1/identities", {"kind": "service_account", "name": "orphan-bot"})
    problem(r, 400, field=["owner", "purpose", "environment", "expires_at"],
            problem_code="invalid", what="NHI without owner/purpose/environment/expiry")
    r = srv.post("/v1/identities", {"kind": "ai_agent", "name": "past-bot",
                                    "owner": w.owner["id"], "purpose": "x",
                                    "environment": "prod", "expires_at": "2001-01-01T00:00:00Z"})
    problem(r, 400, field="expires_at", what="NHI with a past expiry")
    r = srv.post("/v1/identities", {"kind": "workload", "name": "nhi-owned-bot",
                                    "owner": w.nhis["workload"]["id"], "purpose": "x",
                                    "environment": "prod", "expires_at": ghtest.future(10)})
    problem(r, 400, field="owner", what="NHI owned by an NHI")
    r = srv.post("/v1/identities", {"kind": "workload", "name": "owner-bot",
                                    "owner": w.owner["id"], "purpose": "x",
                                    "environment": "prod", "expires_at": ghtest.future(10),
                                    "roles": ["approver"]})
    problem(r, 400, field="roles", what="NHI with the approver role")
    r = srv.post("/v1/identities", {"kind": "human", "name": "owner-olga"})
    problem(r, 409, what="duplicate name")
    ghtest.unchanged(srv, before, "refused identity creations")


def audit_read_and_export(srv, w):
    events = srv.audit_events(token=w.auditor_tok)
    n = srv.snapshot()["audit_len"]
    eq(len(events), n, "GET /v1/audit/events returns every event")
    eq([e["seq"] for e in events], list(range(1, n + 1)), "sequence numbers 1..n")
    prev = "0" * 64
    for e in events:
        eq(e["prev_hash"], prev, "prev_hash of seq %d" % e["seq"])
        expect(len(e["hash"]) == 64, "hash of seq %d" % e["seq"])
        prev = e["hash"]
    exp = srv.get("/v1/audit/export", token=w.auditor_tok)
    eq(exp.status, 200, "export status")
    expect(exp.headers.get("content-type", "").startswith("application/x-ndjson"),
           "export content type: %r" % exp.headers.get("content-type"))
    lines = [json.loads(x) for x in exp.text.splitlines() if x.strip()]
    eq(len(lines), len(events), "export has every event")
    for a, b in zip(events, lines):
        eq(b, a, "export line for seq %d" % a["seq"])
    tail = srv.get("/v1/audit/export?after_seq=%d" % (n - 2), token=w.auditor_tok)
    eq([json.loads(x)["seq"] for x in tail.text.splitlines() if x.strip()], [n - 1, n],
       "export after_seq")
    page = status(srv.get("/v1/audit/events?limit=2&after_seq=3", token=w.auditor_tok), 200)
    eq([e["seq"] for e in page["items"]], [4, 5], "audit events paging")
    eq(page["next_after_seq"], 5, "next_after_seq")
    problem(srv.get("/v1/audit/events", token=w.rita_tok), 403, problem_code="forbidden",
            what="a requester reading the audit log")
    problem(srv.get("/v1/audit/export", token=w.appr1_tok), 403, what="an approver exporting")


def sla_expiry(t, binary):
    srv = t.server(binary, name="sla", env={"GATEHOUSE_PENDING_SLA": "2s"})
    srv.start()
    owner, owner_tok = srv.user("sla-owner", ["requester"])
    appr = srv.human("sla-approver", ["approver"])
    grp = srv.group("sla-owners", [appr])
    sysm = srv.system("sla-db", owner["id"])
    ent = srv.entitlement(sysm["id"], "rw", "medium", "8h", grp["id"])
    bot = srv.nhi("sla-bot", owner["id"])
    r = srv.request(bot["id"], ent["id"], token=owner_tok)
    eq(r["state"], "pending_approval", "state")
    due = parse_time(r["sla_due_at"]) - parse_time(r["created_at"])
    expect(abs(due - 2) <= 1, "sla_due_at is created_at + 2s: %.0f" % due)

    def expired():
        cur = status(srv.get("/v1/requests/" + r["id"]), 200)
        return cur if cur["state"] == "expired" else None
    x = poll(expired, 10, "the pending request to pass its SLA")
    eq(x["close_reason"], "sla_elapsed", "close_reason")
    expect(x["closed_at"], "closed_at")
    eq(ghtest.grant_id_of(x), None, "no grant")
    t.stop(srv)
    v = srv.cli("audit", "verify")
    eq(v.returncode, 0, "audit verify after SLA expiry (%s)" % (v.stdout + v.stderr)[-300:])


def audit_verifies_after_stop(t, srv):
    t.stop(srv)
    v = srv.cli("audit", "verify")
    eq(v.returncode, 0, "audit verify exit code (%s)" % (v.stdout + v.stderr)[-500:])


def body(t, binary):
    srv = t.server(binary, name="main")
    w = World()
    if not t.case("setup: people, nested groups, system, entitlements", setup, srv, w):
        return
    steps = [
        ("NHI created with owner, purpose, environment, expiry", nhi_created_with_owner),
        ("low risk auto-granted for min(requested, max)", low_auto_granted),
        ("low risk over max is clamped to max", low_over_max_clamped),
        ("medium: one approval by a control owner", medium_needs_one_approval),
        ("high: two distinct approvers (one via nested group)", high_needs_two_distinct),
        ("rejection ends the request", rejection_ends),
        ("cancel ends the request", cancel_ends),
        ("service-desk intake on behalf, completeness at once", servicedesk_intake),
        ("SoD conflict denied naming the conflict", sod_conflict_denied),
        ("grant revoked with a reason", revoke_with_reason),
        ("2s grant expires by itself", grant_expires_by_itself),
        ("request history in order", history_in_order),
        ("decommission revokes grants in the same step", decommission_revokes),
        ("ownership transfer audited", ownership_transfer),
        ("NHI missing fields all named at once", nhi_missing_fields),
        ("audit events and export consistent", audit_read_and_export),
    ]
    for name, fn in steps:
        t.case(name, fn, srv, w)
    t.case("audit verify exits 0 after the lifecycle", audit_verifies_after_stop, t, srv)
    t.case("pending request expires at its SLA (GATEHOUSE_PENDING_SLA=2s)", sla_expiry, t, binary)


if __name__ == "__main__":
    ghtest.main(body)
