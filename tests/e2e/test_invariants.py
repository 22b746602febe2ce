#!/usr/bin/env python3
"""test_invariants.py - every approval invariant and role rule attempted over
HTTP and refused with a 4xx problem document, with the database unchanged."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402


class World:
    pass


def setup(srv, w):
    srv.start()
    # every would-be approver below holds the approver role and is in the
    # control-owner group, so only the invariant under test refuses them
    w.good, w.good_tok = srv.user("appr-good", ["approver"])
    w.good2, w.good2_tok = srv.user("appr-good2", ["approver"])
    w.subadmin, w.subadmin_tok = srv.user("sub-admin", ["admin"])
    w.rq, w.rq_tok = srv.user("req-rq", ["requester", "approver"])
    w.subj, w.subj_tok = srv.user("subj-human", ["requester", "approver"])
    w.own, w.own_tok = srv.user("owner-own", ["requester", "approver"])
    w.sd, w.sd_tok = srv.user("sd-both", ["servicedesk", "approver"])
    w.outsider, w.outsider_tok = srv.user("appr-outsider", ["approver"])
    w.plain, w.plain_tok = srv.user("req-plain", ["requester"])
    w.auditor, w.auditor_tok = srv.user("aud-ida", ["auditor"])
    w.sdonly, w.sdonly_tok = srv.user("sd-only", ["servicedesk"])
    w.iam, w.iam_tok = srv.user("iam-ivy", ["iam"])
    inner = srv.group("inv-inner", [w.good2, w.sd])
    w.grp = srv.group("inv-owners", [w.good, w.subadmin, w.rq, w.subj, w.own, inner])
    srv.group("elsewhere", [w.outsider])
    w.bot = srv.nhi("inv-bot", w.own["id"])
    w.bot2 = srv.nhi("inv-bot2", w.own["id"])
    sysm = srv.system("inv-db", w.own["id"])
    w.med = srv.entitlement(sysm["id"], "rw", "medium", "8h", w.grp["id"])
    w.high = srv.entitlement(sysm["id"], "root", "high", "8h", w.grp["id"])
    w.low = srv.entitlement(sysm["id"], "ro", "low", "8h", w.grp["id"])
    w.hidden = srv.entitlement(sysm["id"], "break-glass", "low", "1h", w.grp["id"],
                               requestable=False)
    # submitted by sub-admin on behalf of req-rq, for the bot owned by owner-own
    w.req = srv.request(w.bot["id"], w.med["id"], token=w.subadmin_tok, requester=w.rq["id"])
    eq(w.req["state"], "pending_approval", "state")
    eq(w.req["submitted_by"], w.subadmin["id"], "submitted_by")
    eq(w.req["requester"], w.rq["id"], "requester")
    # a human subject (who is also an approver in the group)
    w.req_h = srv.request(w.subj["id"], w.med["id"], token=w.subadmin_tok,
                          requester=w.rq["id"])
    eq(w.req_h["state"], "pending_approval", "state")
    w.grant_req = srv.request(w.bot2["id"], w.low["id"], token=w.own_tok)
    eq(w.grant_req["state"], "active", "low request granted")


def refused(srv, w, what, method, path, body, token, code=403, problem_code="denied",
            codes=None):
    before = srv.snapshot()
    r = srv.call(method, path, body, token=token)
    problem(r, code=None if codes else code, codes=codes, problem_code=problem_code, what=what)
    ghtest.unchanged(srv, before, what)
    return r


def approve(srv, w, req, token, what, **kw):
    return refused(srv, w, what, "POST", "/v1/requests/%s/approve" % req["id"],
                   {"comment": "ok"}, token, **kw)


def body(t, binary):
    srv = t.server(binary, name="inv")
    w = World()
    if not t.case("setup", setup, srv, w):
        return
    c = t.case
    c("the submitter may not approve", approve, srv, w, w.req, w.subadmin_tok, "submitter")
    c("the requester may not approve", approve, srv, w, w.req, w.rq_tok, "requester")
    c("the subject may not approve", approve, srv, w, w.req_h, w.subj_tok, "subject")
    c("the subject's owner may not approve", approve, srv, w, w.req, w.own_tok, "owner")
    c("a service-desk agent (approver, in group) may not approve", approve, srv, w, w.req,
      w.sd_tok, "servicedesk")
    c("a service-desk agent may not reject either", refused, srv, w, "servicedesk reject",
      "POST", "/v1/requests/%s/reject" % w.req["id"], {"comment": "no"}, w.sd_tok,
      problem_code=("denied", "forbidden"))
    c("a non-member of the control-owner group may not approve", approve, srv, w, w.req,
      w.outsider_tok, "outsider")
    c("a non-member may not reject", refused, srv, w, "outsider reject", "POST",
      "/v1/requests/%s/reject" % w.req["id"], {"comment": "no"}, w.outsider_tok)

    def same_approver_twice():
        r = srv.request(w.bot["id"], w.high["id"], token=w.own_tok)
        eq(r["state"], "pending_approval", "high request pending")
        a = status(srv.post("/v1/requests/%s/approve" % r["id"], {}, token=w.good_tok), 200)
        eq(a["state"], "pending_approval", "pending after one of two approvals")
        approve(srv, w, r, w.good_tok, "the same approver twice", codes=(403, 409),
                problem_code=("denied", "conflict"))
        a = status(srv.post("/v1/requests/%s/approve" % r["id"], {}, token=w.good2_tok), 200)
        eq(a["state"], "active", "a second, distinct approver completes it")
    c("the same approver may not approve twice", same_approver_twice)

    def not_requestable():
        before = srv.snapshot()
        r = srv.post("/v1/requests", {"channel": "portal", "subject": w.bot["id"],
                                      "entitlement": w.hidden["id"], "justification": "x",
                                      "duration": "1h"}, token=w.own_tok)
        if r.status == 201:
            # recorded as a denied request, never granted
            eq(r.json["state"], "denied", "a non-requestable entitlement is denied")
            eq(ghtest.grant_id_of(r.json), None, "no grant")
            eq(srv.snapshot()["grants"], before["grants"], "grants unchanged")
        else:
            problem(r, what="non-requestable entitlement")
            ghtest.unchanged(srv, before, "requesting a non-requestable entitlement")
    c("a non-requestable entitlement cannot be requested", not_requestable)

    c("a plain requester may not request for an NHI it does not own", refused, srv, w,
      "for someone else's NHI", "POST", "/v1/requests",
      {"channel": "portal", "subject": w.bot["id"], "entitlement": w.low["id"],
       "justification": "x", "duration": "1h"}, w.plain_tok,
      problem_code=("denied", "forbidden"))
    c("a plain requester may not request on someone else's behalf", refused, srv, w,
      "on behalf of another", "POST", "/v1/requests",
      {"channel": "portal", "subject": w.plain["id"], "requester": w.rq["id"],
       "entitlement": w.low["id"], "justification": "x", "duration": "1h"}, w.plain_tok,
      problem_code=("denied", "forbidden"))
    c("a plain requester may not request for another human", refused, srv, w,
      "for another human", "POST", "/v1/requests",
      {"channel": "portal", "subject": w.rq["id"], "entitlement": w.low["id"],
       "justification": "x", "duration": "1h"}, w.plain_tok,
      problem_code=("denied", "forbidden"))

    gid = ghtest.grant_id_of(w.grant_req)
    roles = [
        ("auditor creates an identity", "POST", "/v1/identities",
         {"kind": "human", "name": "x-aud"}, w.auditor_tok),
        ("auditor submits a request", "POST", "/v1/requests",
         {"channel": "portal", "subject": w.bot["id"], "entitlement": w.low["id"],
          "justification": "x", "duration": "1h"}, w.auditor_tok),
        ("auditor approves", "POST", "/v1/requests/%s/approve" % w.req["id"], {}, w.auditor_tok),
        ("auditor revokes", "POST", "/v1/grants/%s/revoke" % gid, {"reason": "x"},
         w.auditor_tok),
        ("auditor creates a group", "POST", "/v1/groups", {"name": "aud-grp"}, w.auditor_tok),
        ("requester approves", "POST", "/v1/requests/%s/approve" % w.req["id"], {},
         w.plain_tok),
        ("requester rejects", "POST", "/v1/requests/%s/reject" % w.req["id"],
         {"comment": "x"}, w.plain_tok),
        ("servicedesk revokes a grant", "POST", "/v1/grants/%s/revoke" % gid,
         {"reason": "x"}, w.sdonly_tok),
        ("servicedesk approves", "POST", "/v1/requests/%s/approve" % w.req["id"], {},
         w.sdonly_tok),
        ("servicedesk creates an entitlement", "POST", "/v1/entitlements",
         {"system": "inv-db", "name": "sd-made", "risk_tier": "low",
          "data_sensitivity": "public", "environment": "prod",
          "control_owner_group": w.grp["id"], "max_duration": "1h"}, w.sdonly_tok),
        ("approver changes an entitlement", "PATCH", "/v1/entitlements/%s" % w.med["id"],
         {"risk_tier": "low"}, w.good_tok),
        ("approver decommissions an identity", "POST",
         "/v1/identities/%s/decommission" % w.bot["id"], {"reason": "x"}, w.good_tok),
        ("approver creates a token", "POST", "/v1/tokens",
         {"identity": w.plain["id"], "name": "x"}, w.good_tok),
        ("requester reads the audit log", "GET", "/v1/audit/events", None, w.plain_tok),
        ("servicedesk exports the audit log", "GET", "/v1/audit/export", None, w.sdonly_tok),
    ]
    for what, method, path, b, tok in roles:
        c("403 forbidden: " + what, refused, srv, w, what, method, path, b, tok,
          problem_code="forbidden")

    def iam_makes_itself_admin():
        r = refused(srv, w, "iam PATCHes itself to admin", "PATCH",
                    "/v1/identities/%s" % w.iam["id"], {"roles": ["admin", "iam"]}, w.iam_tok,
                    problem_code="forbidden")
        expect("own roles" in (r.json or {}).get("detail", ""),
               "the refusal says why: %r" % (r.json or {}).get("detail"))
        # the token did not become an admin token
        problem(srv.post("/v1/tokens", {"identity": w.iam["id"], "name": "x"}, token=w.iam_tok),
                code=403, problem_code="forbidden", what="iam token after the refusal")
        eq(status(srv.get("/v1/identities/" + w.iam["id"]), 200)["roles"], ["iam"], "roles")
    c("an iam user may not make itself admin", iam_makes_itself_admin)
    c("an iam user may not create an admin", refused, srv, w, "iam creates an admin", "POST",
      "/v1/identities", {"kind": "human", "name": "iam-made-admin", "roles": ["admin"]},
      w.iam_tok, problem_code="forbidden")
    c("an iam user may not grant iam", refused, srv, w, "iam grants iam", "PATCH",
      "/v1/identities/%s" % w.plain["id"], {"roles": ["iam"]}, w.iam_tok,
      problem_code="forbidden")
    c("an iam user may not suspend an admin", refused, srv, w, "iam suspends an admin", "POST",
      "/v1/identities/%s/suspend" % w.subadmin["id"], {"reason": "x"}, w.iam_tok,
      problem_code="forbidden")
    c("nobody suspends themselves", refused, srv, w, "iam suspends itself", "POST",
      "/v1/identities/%s/suspend" % w.iam["id"], {"reason": "x"}, w.iam_tok,
      problem_code="forbidden")

    def iam_grants_other_roles():
        r = srv.patch("/v1/identities/%s" % w.auditor["id"], {"roles": ["auditor", "approver"]},
                      token=w.iam_tok)
        eq(status(r, 200)["roles"], ["approver", "auditor"], "roles granted by iam")
        r = srv.patch("/v1/identities/%s" % w.auditor["id"], {"roles": ["auditor"]},
                      token=w.iam_tok)
        eq(status(r, 200)["roles"], ["auditor"], "roles restored by iam")
    c("an iam user grants and removes the other roles", iam_grants_other_roles)

    def closed_request():
        r = srv.request(w.bot2["id"], w.med["id"], token=w.own_tok)
        status(srv.post("/v1/requests/%s/reject" % r["id"], {"comment": "no"},
                        token=w.good_tok), 200)
        refused(srv, w, "approving a rejected request", "POST",
                "/v1/requests/%s/approve" % r["id"], {}, w.good2_tok, code=409,
                problem_code="conflict")
        refused(srv, w, "rejecting a rejected request", "POST",
                "/v1/requests/%s/reject" % r["id"], {"comment": "again"}, w.good2_tok,
                code=409, problem_code="conflict")
        refused(srv, w, "cancelling a rejected request", "POST",
                "/v1/requests/%s/cancel" % r["id"], {"reason": "x"}, w.own_tok, code=409,
                problem_code="conflict")
        refused(srv, w, "approving an active request", "POST",
                "/v1/requests/%s/approve" % w.grant_req["id"], {}, w.good_tok, code=409,
                problem_code="conflict")
    c("approving or rejecting a closed request is 409", closed_request)

    def still_pending():
        r = status(srv.get("/v1/requests/" + w.req["id"]), 200)
        eq(r["state"], "pending_approval", "the refused request is untouched")
        eq(r["approvals"], [], "no approval recorded")
        a = status(srv.post("/v1/requests/%s/approve" % w.req["id"], {"comment": "fine"},
                            token=w.good2_tok), 200)  # nested member, none of the roles above
        eq(a["state"], "active", "an authorised approver still can")
        chk = a["approvals"][0].get("checks", [])
        expect(len(chk) >= 4, "the approval records the invariants it checked: %r" % chk)
    c("after all refusals an authorised approver approves", still_pending)

    def verify():
        t.stop(srv)
        v = srv.cli("audit", "verify")
        eq(v.returncode, 0, "audit verify (%s)" % (v.stdout + v.stderr)[-300:])
    c("audit verify exits 0", verify)


if __name__ == "__main__":
    ghtest.main(body)
