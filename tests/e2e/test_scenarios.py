#!/usr/bin/env python3
"""test_scenarios.py - issue 4's end-to-end scenarios, each on its own real
server (fresh SQLite file, the estate built through the API) with real Cedar
policy sets proposed by one iam person and activated by another:
  a forbid overriding a permit; an erroring policy skipped and reported;
  a policy permitting self-approval that changes nothing (and no approve
  permit refusing a legitimate approver); a one-person activation refused;
  break-glass granted through policy, confirmed, and a missed review revoked
  after a restart with the clock moved past the deadline; a simulation that
  predicts exactly what activation does; delegation governed by policy; the
  evidence view of a request decided under Cedar."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

PERMIT_ALL = ('@reason("anyone may ask")\n'
              'permit (principal, action == Action::"request", resource);\n')
PERMIT_APPROVE = ('@reason("control owners decide")\n'
                  'permit (principal, action == Action::"approve", resource);\n')


class World:
    """One server and its estate: two iam people (ivy proposes, ian
    activates), an auditor, control owners ann and ben (sc-owners), dan in
    sc-cover, rex a requester who owns the service account sc-bot; systems
    sc-db (ro low 8h, rw medium 1d, adm high 1d restricted) and sc-web
    (deploy medium 1d), all owned by sc-owners."""


def world(t, binary, name):
    srv = t.server(binary, name=name)
    srv.start()
    w = World()
    w.srv = srv
    w.ivy, w.ivy_tok = srv.user("sc-ivy", ["iam"])
    w.ian, w.ian_tok = srv.user("sc-ian", ["iam"])
    w.aud, w.aud_tok = srv.user("sc-aud", ["auditor"])
    w.ann, w.ann_tok = srv.user("sc-ann", ["approver"])
    w.ben, w.ben_tok = srv.user("sc-ben", ["approver"])
    w.dan, w.dan_tok = srv.user("sc-dan", ["approver"])
    w.rex, w.rex_tok = srv.user("sc-rex", ["requester"])
    w.bot = srv.nhi("sc-bot", w.rex["id"])
    w.owners = srv.group("sc-owners", [w.ann, w.ben])
    w.cover = srv.group("sc-cover", [w.dan])
    w.db = srv.system("sc-db", w.ann["id"])
    w.web = srv.system("sc-web", w.ann["id"])
    w.ro = srv.entitlement(w.db["id"], "ro", "low", "8h", w.owners["id"])
    w.rw = srv.entitlement(w.db["id"], "rw", "medium", "1d", w.owners["id"])
    w.adm = srv.entitlement(w.db["id"], "adm", "high", "1d", w.owners["id"],
                            data_sensitivity="restricted")
    w.deploy = srv.entitlement(w.web["id"], "deploy", "medium", "1d", w.owners["id"])
    return w


def sub(w, text):
    """Cedar text with {db}, {web}, {owners}, {cover} replaced by their ids."""
    for key in ("db", "web", "owners", "cover"):
        text = text.replace("{%s}" % key, getattr(w, key)["id"])
    return text


def propose(w, text, tok=None):
    v = status(w.srv.post("/v1/policies", {"text": text, "comment": "scenario"},
                          token=tok or w.ivy_tok), 201, "propose")
    eq(v["validation"], [], "validation of version %d" % v["version"])
    return v


def activate(w, v, tok=None):
    a = status(w.srv.post("/v1/policies/%s/activate" % v["id"], {}, token=tok or w.ian_tok),
               200, "activate")
    eq(a["state"], "active", "state after activation")
    return a


def install(w, text):
    """ivy proposes, ian activates; returns the version."""
    v = propose(w, text)
    activate(w, v)
    return v


def submit(w, subject, ent, tok=None, duration="1h", **fields):
    return w.srv.request(subject["id"], ent["id"], token=tok or w.rex_tok, duration=duration,
                         **fields)


def approve(w, req, tok):
    return w.srv.post("/v1/requests/%s/approve" % req["id"], {"comment": "scenario"},
                      token=tok)


def refused(w, resp, prefix, what):
    doc = problem(resp, 403, problem_code="denied", what=what)
    expect(doc.get("detail", "").startswith(prefix),
           "%s: detail %r does not start with %r" % (what, doc.get("detail"), prefix))
    return doc


def events(w, obj):
    return [e for e in w.srv.audit_events(object_id=obj)]


def actions(w, obj):
    return [e["action"] for e in events(w, obj)]


def event(w, obj, action):
    hits = [e for e in events(w, obj) if e["action"] == action]
    eq(len(hits), 1, "%s events of %s" % (action, obj))
    return hits[0]


def version_of(decision, v):
    pv = decision.get("policy_version", "")
    expect(pv == "v%d %s sha256:%s" % (v["version"], v["id"], v["sha256"][:12]),
           "policy_version %r is not version %d" % (pv, v["version"]))


def determining(decision, action=None):
    return [d for d in decision.get("determining") or []
            if action is None or d["action"] == action]


def span(grant):
    return ghtest.parse_time(grant["expires_at"]) - ghtest.parse_time(grant["granted_at"])


def grant_of(w, req):
    gid = ghtest.grant_id_of(req)
    expect(gid, "request %s has no grant" % req["id"])
    return status(w.srv.get("/v1/grants/%s" % gid), 200)


def get_req(w, req):
    return status(w.srv.get("/v1/requests/%s" % req["id"]), 200)


# --- a. a forbid overrides a permit ------------------------------------------

FORBID = PERMIT_ALL + (
    '@reason("service accounts never touch restricted data")\n'
    'forbid (principal, action == Action::"request", resource)\n'
    'when { principal.kind == "service_account" && resource.data_sensitivity == "restricted" };\n')


def scenario_forbid(t, binary):
    w = world(t, binary, "forbid")
    v = install(w, sub(w, FORBID))
    r = submit(w, w.bot, w.adm)
    eq(r["state"], "denied", "the forbid overrides the permit")
    d = r["decision"]
    eq(d["source"], "cedar", "source")
    version_of(d, v)
    eq(determining(d), [{"policy": "policy1", "action": "request", "effect": "forbid",
                         "annotations": {"reason":
                                         "service accounts never touch restricted data"}}],
       "determining")
    expect("policy1 forbids: service accounts never touch restricted data" in d["reasons"],
           "reasons name the forbid and its @reason: %r" % d["reasons"])
    eq(d["errors"] if "errors" in d else [], [], "errors")
    eq(r["grant"], None, "no grant")
    eq(actions(w, r["id"]), ["request.submitted", "request.decided"], "audit")
    dec = event(w, r["id"], "request.decided")
    eq(dec["details"]["state"], "denied", "audited state")
    eq(dec["details"]["decision"]["determining"], d["determining"], "audited decision")
    # the permit alone decides where the forbid does not match
    ok = submit(w, w.bot, w.rw)
    eq(ok["state"], "pending_approval", "rw is only permitted")
    eq([(x["policy"], x["effect"]) for x in determining(ok["decision"], "request")],
       [("policy0", "permit")], "the permit determines")
    human = submit(w, w.rex, w.adm)
    eq(human["state"], "pending_approval", "a human may ask for adm")


# --- b. an erroring policy is skipped and reported --------------------------

ERRORING = PERMIT_ALL + (
    '@reason("at most an hour")\n'
    'forbid (principal, action == Action::"request", resource)\n'
    'when { context.duration_seconds * 1000000000000000 > 3600000000000000000 };\n'
    '@reason("the web system is closed")\n'
    'forbid (principal, action == Action::"request", resource in System::"{web}");\n')


def scenario_erroring(t, binary):
    w = world(t, binary, "erroring")
    v = install(w, sub(w, ERRORING))
    # 4h = 14400 s: the product overflows, policy1 errors and is skipped
    r = submit(w, w.bot, w.rw, duration="4h")
    eq(r["state"], "pending_approval", "the permit still decides")
    d = r["decision"]
    version_of(d, v)
    eq([(e["policy"], e["action"]) for e in d["errors"]], [("policy1", "request")], "errors")
    expect(d["errors"][0]["message"], "the error has a message")
    expect(any(x.startswith("policy1 errored on request and was skipped") for x in d["reasons"]),
           "reasons report it: %r" % d["reasons"])
    eq([x["policy"] for x in determining(d, "request")], ["policy0"], "determining")
    dec = event(w, r["id"], "request.decided")
    eq(dec["details"]["decision"]["errors"], d["errors"], "errors audited")
    # 2h: no overflow, the forbid applies
    r2 = submit(w, w.bot, w.ro, duration="2h")
    eq(r2["state"], "denied", "2h is forbidden")
    eq([x["policy"] for x in determining(r2["decision"])], ["policy1"], "policy1 forbids")
    eq(r2["decision"].get("errors") or [], [], "no error at 2h")
    # the other forbid still decides while policy1 errors
    r3 = submit(w, w.bot, w.deploy, duration="4h")
    eq(r3["state"], "denied", "the web forbid decides")
    eq([x["policy"] for x in determining(r3["decision"])], ["policy2"], "policy2 forbids")
    eq([e["policy"] for e in r3["decision"]["errors"]], ["policy1"], "policy1 reported")
    expect("policy2 forbids: the web system is closed" in r3["decision"]["reasons"],
           "reasons: %r" % r3["decision"]["reasons"])


# --- c. a policy permitting self-approval changes nothing -------------------

def scenario_self_approval(t, binary):
    w = world(t, binary, "self-approval")
    srv = w.srv
    # people who would all be approvers if policy alone decided
    rita, rita_tok = srv.user("sc-rita", ["approver"])
    oli, oli_tok = srv.user("sc-oliver", ["approver"])
    hugh, hugh_tok = srv.user("sc-hugh", ["approver"])
    desk, desk_tok = srv.user("sc-desk", ["servicedesk", "approver"])
    desk2, desk2_tok = srv.user("sc-desk2", ["servicedesk", "approver"])
    for p in (rita, oli, hugh, desk, desk2):
        srv.add_member(w.owners["id"], p)
    svc = srv.nhi("sc-svc", oli["id"])
    v = install(w, PERMIT_ALL + '@reason("everyone may approve anything")\n'
                'permit (principal, action == Action::"approve", resource);\n')
    r1 = submit(w, svc, w.rw, tok=desk_tok, channel="servicedesk", ticket_ref="INC-100",
                requester=rita["id"])
    r2 = srv.request(hugh["id"], w.rw["id"], requester=rita["id"])
    for r in (r1, r2):
        eq(r["state"], "pending_approval", "pending")
        version_of(r["decision"], v)
    before = srv.snapshot()
    refused(w, approve(w, r1, desk_tok), "not_submitter", "the submitter")
    refused(w, approve(w, r1, rita_tok), "not_requester", "the requester")
    refused(w, approve(w, r2, hugh_tok), "not_subject", "the subject")
    refused(w, approve(w, r1, oli_tok), "not_subject_owner", "the subject's owner")
    refused(w, approve(w, r1, desk2_tok), "not_servicedesk", "a service-desk agent")
    refused(w, approve(w, r1, w.dan_tok), "in_control_owner_group", "an outsider")
    ghtest.unchanged(srv, before, "refused approvals")
    ok = status(approve(w, r1, w.ann_tok), 200, "a control owner approves")
    eq(ok["state"], "active", "granted")
    a = ok["approvals"][0]
    eq(a["approver"], w.ann["id"], "approver")
    for c in ("not_submitter", "not_requester", "not_subject", "not_subject_owner",
              "not_servicedesk", "in_control_owner_group", "policy_permits_approve"):
        expect(c in a["checks"], "check %s recorded: %r" % (c, a["checks"]))
    eq([(x["policy"], x["action"], x["effect"]) for x in a["policy"]["determining"]],
       [("policy1", "approve", "permit")], "the approve permit determined")
    rec = event(w, r1["id"], "request.approval_recorded")
    eq(rec["actor"], w.ann["id"], "audited approver")

    # the opposite: no approve permit, and a control owner is refused
    v2 = install(w, PERMIT_ALL)
    r3 = submit(w, w.bot, w.deploy)
    version_of(r3["decision"], v2)
    before = srv.snapshot()
    doc = refused(w, approve(w, r3, w.ann_tok), "policy_permits_approve", "no approve permit")
    expect("default deny" in doc["detail"], "detail: %r" % doc["detail"])
    refused(w, approve(w, r2, w.ben_tok), "policy_permits_approve", "no approve permit (r2)")
    ghtest.unchanged(srv, before, "approvals without a permit")
    eq(get_req(w, r3)["state"], "pending_approval", "still pending")


# --- d. a one-person activation is refused ----------------------------------

FORBID_ALL = ('@reason("everything is frozen")\n'
              'forbid (principal, action == Action::"request", resource);\n' + PERMIT_ALL)


def scenario_one_person(t, binary):
    w = world(t, binary, "one-person")
    srv = w.srv
    v1 = install(w, PERMIT_ALL)
    v2 = propose(w, FORBID_ALL)
    v3 = propose(w, FORBID_ALL + "// ian's\n", tok=w.ian_tok)
    before = srv.snapshot()
    for v, tok, who in ((v2, w.ivy_tok, "ivy"), (v3, w.ian_tok, "ian")):
        doc = refused(w, srv.post("/v1/policies/%s/activate" % v["id"], {"comment": "me"},
                                  token=tok), "activation needs a second person",
                      "%s activating her/his own version" % who)
        expect(v["id"] in doc["detail"] or str(v["version"]) in doc["detail"],
               "detail names the version: %r" % doc["detail"])
    ghtest.unchanged(srv, before, "one-person activations")
    eq(status(srv.get("/v1/policies/active", token=w.aud_tok), 200)["id"], v1["id"],
       "version 1 is still active")
    eq(status(srv.get("/v1/policies/%s" % v2["id"], token=w.aud_tok), 200)["state"],
       "proposed", "version 2 still proposed")
    expect("policy.activated" not in actions(w, v2["id"]), "no activation audited")
    r = submit(w, w.bot, w.rw)
    eq(r["state"], "pending_approval", "the old version still decides")
    version_of(r["decision"], v1)
    # a second person activates it, and it decides from then on
    activate(w, v2, tok=w.ian_tok)
    act = event(w, v2["id"], "policy.activated")
    eq((act["actor"], act["details"]["sha256"]), (w.ian["id"], v2["sha256"]), "audited")
    r = submit(w, w.bot, w.ro)
    eq(r["state"], "denied", "version 2 decides")
    version_of(r["decision"], v2)


# --- e. break-glass through policy, confirmed and missed reviews -------------

BREAK_GLASS = PERMIT_ALL + (
    '@max_duration("2h")\n@review_within("1h")\n@reason("on-call emergency access")\n'
    'permit (principal in Group::"{oncall}", action == Action::"break_glass",\n'
    '        resource in System::"{db}")\n'
    'when { context.incident_ref like "INC-*" };\n'
    '@reason("web emergencies, default review")\n'
    'permit (principal in Group::"{oncall}", action == Action::"break_glass",\n'
    '        resource in System::"{web}");\n')

REVIEW_WITHIN = 3600


def scenario_break_glass(t, binary, st):
    w = world(t, binary, "break-glass")
    st.w = w
    srv = w.srv
    w.oncall = srv.group("sc-oncall", [w.rex])
    # rex is also a control owner here: only the invariants keep him from reviewing
    status(srv.patch("/v1/identities/%s" % w.rex["id"], {"roles": ["requester", "approver"]}),
           200, "rex becomes an approver")
    srv.add_member(w.owners["id"], w.rex)
    v = install(w, sub(w, BREAK_GLASS).replace("{oncall}", w.oncall["id"]))
    # refused: the incident_ref does not match the permit's condition
    no = submit(w, w.bot, w.rw, duration="8h", break_glass=True, incident_ref="CHG-1")
    eq(no["state"], "denied", "no break_glass permit matches")
    expect(any(x.startswith("break_glass:") for x in no["decision"]["reasons"]),
           "reasons: %r" % no["decision"]["reasons"])
    eq(no["grant"], None, "no grant")

    st.bg1 = bg = submit(w, w.bot, w.rw, duration="8h", break_glass=True, incident_ref="INC-42")
    eq((bg["state"], bg["break_glass"], bg["incident_ref"]), ("active", True, "INC-42"),
       "granted at once, flagged")
    version_of(bg["decision"], v)
    bgd = bg["decision"]["break_glass"]
    eq([(x["policy"], x["action"], x["effect"]) for x in bgd["determining"]],
       [("policy1", "break_glass", "permit")], "break_glass determined by policy1")
    eq(bgd["determining"][0]["annotations"],
       {"max_duration": "2h", "review_within": "1h", "reason": "on-call emergency access"},
       "annotations")
    g = grant_of(w, bg)
    eq(g["status"], "active", "grant active")
    expect(abs(span(g) - 7200) <= 2, "capped at @max_duration 2h: %ds" % span(g))
    b = g["break_glass"]
    eq((b["incident_ref"], b["review_state"]), ("INC-42", "pending"), "grant flagged")
    due = ghtest.parse_time(b["review_due_at"]) - ghtest.parse_time(g["granted_at"])
    expect(abs(due - REVIEW_WITHIN) <= 2, "review due after @review_within 1h: %ds" % due)
    acts = actions(w, bg["id"])
    for a in ("request.submitted", "request.break_glass", "request.decided",
              "request.approved"):
        expect(a in acts, "%s audited: %r" % (a, acts))
    ev = event(w, bg["id"], "request.break_glass")
    eq((ev["details"]["incident_ref"], ev["details"]["granted"]), ("INC-42", True),
       "request.break_glass details")
    eq(event(w, bg["id"], "request.approved")["details"]["by"], "break_glass", "approved by")
    created = event(w, g["id"], "grant.created")
    eq(created["details"].get("break_glass"), True, "grant.created flagged")

    # the 4h hard cap: no @max_duration on the web permit, 1d catalog maximum
    st.bg3 = submit(w, w.bot, w.deploy, duration="12h", break_glass=True,
                    incident_ref="INC-43")
    g3 = grant_of(w, st.bg3)
    expect(abs(span(g3) - 4 * 3600) <= 2, "capped at 4h: %ds" % span(g3))
    due3 = ghtest.parse_time(g3["break_glass"]["review_due_at"]) - \
        ghtest.parse_time(g3["granted_at"])
    expect(abs(due3 - 86400) <= 2, "default review within 24h: %ds" % due3)

    # a confirmed review keeps the grant; the requester may not review
    st.bg2 = submit(w, w.rex, w.ro, duration="8h", break_glass=True, incident_ref="INC-44")
    g2 = grant_of(w, st.bg2)
    before = srv.snapshot()
    refused(w, srv.post("/v1/grants/%s/review" % g2["id"],
                        {"outcome": "confirm", "comment": "mine"}, token=w.rex_tok),
            "not_submitter", "the requester reviewing")
    problem(srv.post("/v1/grants/%s/review" % g2["id"], {"outcome": "confirm", "comment": "x"},
                     token=w.dan_tok), 403, problem_code="denied", what="an outsider reviews")
    ghtest.unchanged(srv, before, "a refused review")
    c = status(srv.post("/v1/grants/%s/review" % g2["id"],
                        {"outcome": "confirm", "comment": "justified"}, token=w.ann_tok), 200)
    eq((c["status"], c["break_glass"]["review_state"], c["break_glass"]["reviewed_by"]),
       ("active", "confirmed", w.ann["id"]), "confirmed")
    eq(event(w, g2["id"], "grant.reviewed")["details"]["outcome"], "confirm", "audited review")


def scenario_missed_review(t, st):
    w = st.w
    srv = w.srv
    g1 = ghtest.grant_id_of(st.bg1)
    srv.stop()
    srv.env["GATEHOUSE_TIME_OFFSET"] = str(REVIEW_WITHIN + 120)
    srv.start()

    def revoked():
        g = status(srv.get("/v1/grants/%s" % g1), 200)
        return g if g["status"] == "revoked" else None
    g = ghtest.poll(revoked, 15, "the scheduler revokes the missed review")
    eq(g["revoke_reason"], "break-glass review missed", "revoke_reason")
    eq(g["break_glass"]["review_state"], "missed", "review_state")
    ev = event(w, g1, "grant.review_missed")
    eq((ev["actor"], ev["details"]["revoked"]), ("system:scheduler", True), "audited")
    expect("grant.revoked" in actions(w, g1), "grant.revoked audited")
    eq(get_req(w, st.bg1)["state"], "revoked", "the request ends revoked")
    missed = status(srv.get("/v1/grants?review_state=missed", token=w.aud_tok), 200)
    eq([x["id"] for x in missed["items"]], [g1], "reported as missed")
    # the confirmed one and the one due in 24h are untouched
    g2 = grant_of(w, st.bg2)
    eq((g2["status"], g2["break_glass"]["review_state"]), ("active", "confirmed"), "confirmed")
    g3 = grant_of(w, st.bg3)
    eq((g3["status"], g3["break_glass"]["review_state"]), ("active", "pending"), "not yet due")
    ev = status(srv.get("/v1/requests/%s/evidence" % st.bg1["id"], token=w.aud_tok), 200)
    eq((ev["grant"]["status"], ev["grant"]["end_reason"]),
       ("revoked", "break-glass review missed"), "evidence shows how it ended")
    eq(ev["grant"]["break_glass"]["review_state"], "missed", "evidence review state")


# --- f. a simulation predicts exactly what activation does ------------------

SIM_V1 = (PERMIT_ALL + '@approvals("2")\n'
          'permit (principal, action == Action::"request", resource)\n'
          'when { resource.risk_tier == "high" };\n' + PERMIT_APPROVE)
SIM_V2 = (
    '@reason("service accounts are frozen")\n'
    'forbid (principal, action == Action::"request", resource)\n'
    'when { principal.kind == "service_account" };\n'
    '@approvals("1")\npermit (principal, action == Action::"request", resource);\n'
    '@approvals("3")\n@reason("web needs three")\n'
    'permit (principal, action == Action::"request", resource in System::"{web}");\n'
    '@reason("medium database access for people is automatic")\n'
    'permit (principal, action == Action::"auto_approve", resource in System::"{db}")\n'
    'when { principal.kind == "human" && resource.risk_tier == "medium" };\n' + PERMIT_APPROVE)


def scenario_simulation(t, binary):
    w = world(t, binary, "simulation")
    srv = w.srv
    install(w, SIM_V1)
    p = {"bot-rw": submit(w, w.bot, w.rw), "bot-adm": submit(w, w.bot, w.adm),
         "rex-rw": submit(w, w.rex, w.rw), "rex-adm": submit(w, w.rex, w.adm),
         "rex-deploy": submit(w, w.rex, w.deploy)}
    eq(status(approve(w, p["rex-adm"], w.ann_tok), 200)["state"], "pending_approval",
       "one of two approvals")
    g_rex, g_bot = [status(approve(w, submit(w, s, e, duration="2h"), w.ben_tok), 200)
                    for s, e in ((w.rex, w.ro), (w.bot, w.deploy))]
    for r in (g_rex, g_bot):
        eq(r["state"], "active", "granted")
    v2 = propose(w, sub(w, SIM_V2))
    before = srv.snapshot()
    sim = status(srv.post("/v1/policies/simulate", {"version": v2["id"]}, token=w.aud_tok),
                 200, "simulate")
    ghtest.unchanged(srv, before, "a simulation")
    eq(sim["requests"]["evaluated"], 5, "pending requests evaluated")
    eq(sim["grants"]["evaluated"], 2, "active grants evaluated")
    flips = {f["request"]: f for f in sim["requests"]["flips"]}
    want = {"bot-rw": ("deny", "denied", 0), "bot-adm": ("deny", "denied", 0),
            "rex-rw": ("grant", "auto_approved", 0), "rex-adm": ("grant", "approval_required", 1),
            "rex-deploy": ("require_approvals", "approval_required", 3)}
    eq(sorted(flips), sorted(p[k]["id"] for k in want), "the requests that flip")
    for k, (effect, outcome, n) in want.items():
        f = flips[p[k]["id"]]
        eq((f["effect"], f["to"]["outcome"]), (effect, outcome), "%s flip" % k)
        if effect != "deny":
            eq(f["to"]["required_approvals"], n, "%s required approvals" % k)
    expect(any("frozen" in x for x in flips[p["bot-rw"]["id"]]["to"]["reasons"]),
           "the deny names the forbid: %r" % flips[p["bot-rw"]["id"]]["to"])
    cands = sim["grants"]["revocation_candidates"]
    eq([c["grant"] for c in cands], [ghtest.grant_id_of(g_bot)], "revocation candidates")
    expect(any("frozen" in x for x in cands[0]["reasons"]), "reasons: %r" % cands[0])

    a = activate(w, v2)
    eq(a["effects"]["requests"], sim["requests"], "activation did the simulated flips")
    eq(a["effects"]["grants"], sim["grants"], "activation reports the same candidates")
    act = event(w, v2["id"], "policy.activated")
    eq(act["details"]["effects"], a["effects"], "effects audited")
    now = {k: get_req(w, r) for k, r in p.items()}
    for k in ("bot-rw", "bot-adm"):
        eq((now[k]["state"], now[k]["close_reason"]), ("denied", "policy_changed"), k)
    for k in ("rex-rw", "rex-adm"):
        eq(now[k]["state"], "active", "%s granted" % k)
        eq(grant_of(w, now[k])["status"], "active", "%s grant" % k)
    eq((now["rex-deploy"]["state"], now["rex-deploy"]["required_approvals"]),
       ("pending_approval", 3), "rex-deploy needs three")
    for k, (effect, _o, _n) in want.items():
        red = event(w, p[k]["id"], "request.redecided")
        eq(red["details"]["effect"], effect, "%s audited effect" % k)
    eq(grant_of(w, g_bot)["status"], "active", "a candidate is not revoked")
    eq(grant_of(w, g_rex)["status"], "active", "a permitted grant stays")
    again = status(srv.post("/v1/policies/simulate", {"version": v2["id"]}, token=w.aud_tok),
                   200)
    eq(again["requests"]["flips"], [], "nothing more would flip")
    eq([c["grant"] for c in again["grants"]["revocation_candidates"]],
       [ghtest.grant_id_of(g_bot)], "the candidate remains one")


# --- g. delegation governed by policy ---------------------------------------

DELEGATION = PERMIT_ALL + PERMIT_APPROVE + (
    '@reason("delegations last at most a week")\n'
    'forbid (principal, action == Action::"delegate", resource)\n'
    'when { context.duration_seconds > 604800 };\n'
    '@reason("control owners may delegate")\n'
    'permit (principal, action == Action::"delegate", resource);\n')


def scenario_delegation(t, binary):
    w = world(t, binary, "delegation")
    srv = w.srv
    install(w, DELEGATION)
    body = {"from_group": "sc-owners", "to_group": "sc-cover", "system": "sc-db",
            "expires_in": "30d", "reason": "holiday cover"}
    before = srv.snapshot()
    doc = refused(w, srv.post("/v1/delegations", body, token=w.ann_tok),
                  "policy_permits_delegate", "a month-long delegation")
    expect("delegations last at most a week" in doc["detail"], "detail: %r" % doc["detail"])
    ghtest.unchanged(srv, before, "a refused delegation")
    d = status(srv.post("/v1/delegations", dict(body, expires_in="7d"), token=w.ann_tok), 201)
    eq((d["status"], d["to_group"]["name"], d["created_by"]), ("active", "sc-cover", w.ann["id"]),
       "delegation")
    eq(event(w, d["id"], "delegation.created")["actor"], w.ann["id"], "audited")

    r1 = submit(w, w.bot, w.rw)
    web = submit(w, w.bot, w.deploy)
    refused(w, approve(w, web, w.dan_tok), "in_control_owner_group", "out of scope")
    ok = status(approve(w, r1, w.dan_tok), 200, "the delegate approves")
    eq(ok["state"], "active", "granted through the delegation")
    checks = ok["approvals"][0]["checks"]
    for c in ("delegation:" + d["id"], "policy_permits_approve"):
        expect(c in checks, "%s in checks %r" % (c, checks))

    status(srv.post("/v1/delegations/%s/revoke" % d["id"], {"reason": "back"},
                    token=w.ann_tok), 200, "revoke")
    eq(actions(w, d["id"]), ["delegation.created", "delegation.revoked"], "audited")
    r2 = submit(w, w.bot, w.ro)
    before = srv.snapshot()
    refused(w, approve(w, r2, w.dan_tok), "in_control_owner_group", "after the revocation")
    ghtest.unchanged(srv, before, "an approval after the revocation")
    eq(status(approve(w, r2, w.ann_tok), 200)["state"], "active", "the owner still may")


# --- h. the evidence view of a request decided under Cedar -------------------

EVIDENCE = ('@approvals("2")\n@max_duration("4h")\n@reason("database access: two owners")\n'
            'permit (principal, action == Action::"request", resource in System::"{db}");\n'
            + PERMIT_APPROVE)


def scenario_evidence(t, binary):
    w = world(t, binary, "evidence")
    srv = w.srv
    text = sub(w, EVIDENCE)
    v = install(w, text)
    eq(v["sha256"], hashlib.sha256(text.encode()).hexdigest(), "the version's sha256")
    r = submit(w, w.bot, w.rw, duration="8h", ticket_ref="CHG-7")
    eq((r["state"], r["required_approvals"]), ("pending_approval", 2), "two approvals")
    status(approve(w, r, w.ann_tok), 200)
    done = status(approve(w, r, w.ben_tok), 200)
    eq(done["state"], "active", "granted")
    e = status(srv.get("/v1/requests/%s/evidence" % r["id"], token=w.aud_tok), 200)
    eq((e["request"]["id"], e["request"]["ticket_ref"], e["request"]["break_glass"]),
       (r["id"], "CHG-7", False), "request")
    eq((e["submitted_by"]["id"], e["submitted_by"]["name"], e["submitted_by"]["roles"]),
       (w.rex["id"], "sc-rex", ["requester"]), "submitted_by")
    eq(e["requester"]["id"], w.rex["id"], "requester")
    eq((e["subject"]["id"], e["subject"]["kind"]), (w.bot["id"], "service_account"), "subject")
    owner = e["subject"]["owner"]
    eq(owner["id"] if isinstance(owner, dict) else owner, w.rex["id"], "subject owner")
    eq(e["entitlement"]["control_owner_group"]["id"], w.owners["id"], "control owner")
    d = e["decision"]
    eq((d["source"], d["outcome"], d["required_approvals"]),
       ("cedar", "approval_required", 2), "decision")
    expect(d["policy_version"].startswith("v%d %s" % (v["version"], v["id"])),
           "policy_version %r" % d["policy_version"])
    # the whole SHA-256 of the version, so an auditor can match it exactly
    eq(d["policy_sha256"], v["sha256"], "evidence policy_sha256")
    eq(determining(d, "request"),
       [{"policy": "policy0", "action": "request", "effect": "permit",
         "annotations": {"approvals": "2", "max_duration": "4h",
                         "reason": "database access: two owners"}}], "determining")
    eq(d["errors"], [], "errors")
    eq([(a["approver"]["id"], a["approver"]["name"], a["decision"], a["step"])
        for a in e["approvals"]],
       [(w.ann["id"], "sc-ann", "approve", 1), (w.ben["id"], "sc-ben", "approve", 2)],
       "approvers")
    for a in e["approvals"]:
        for c in ("not_submitter", "not_requester", "not_subject", "not_subject_owner",
                  "not_servicedesk", "in_control_owner_group", "policy_permits_approve"):
            expect(c in a["checks"], "%s: check %s in %r" % (a["approver"]["name"], c,
                                                             a["checks"]))
        eq([x["policy"] for x in a["policy"]["determining"]], ["policy1"], "approve policy")
    g = e["grant"]
    eq((g["id"], g["status"], g["break_glass"]), (ghtest.grant_id_of(done), "active", None),
       "grant")
    expect(abs(ghtest.parse_time(g["expires_at"]) - ghtest.parse_time(g["granted_at"]) - 4 * 3600)
           <= 2, "the grant ends after @max_duration 4h: %r" % g)
    eq(e["outcome"]["state"], "active", "outcome")
    # how it ended
    status(srv.post("/v1/grants/%s/revoke" % g["id"], {"reason": "incident over"},
                    token=w.ivy_tok), 200)
    e = status(srv.get("/v1/requests/%s/evidence" % r["id"], token=w.aud_tok), 200)
    eq((e["grant"]["status"], e["grant"]["end_reason"]), ("revoked", "incident over"),
       "grant end")
    expect(e["grant"]["ended_at"], "ended_at set")
    eq(e["outcome"]["state"], "revoked", "outcome after revocation")
    hist = status(srv.get("/v1/requests/%s/history" % r["id"], token=w.aud_tok), 200)["items"]
    eq(e["audit"]["events"], len(hist), "audit summary")


class State:
    pass


def body(t, binary):
    t.case("a. a forbid overrides a permit, named with its @reason", scenario_forbid, t, binary)
    t.case("b. an erroring policy is skipped and reported; the others decide",
           scenario_erroring, t, binary)
    t.case("c. a policy permitting self-approval changes nothing; no approve permit refuses",
           scenario_self_approval, t, binary)
    t.case("d. a one-person activation is refused; the old version decides",
           scenario_one_person, t, binary)
    st = State()
    if t.case("e. break-glass through policy: granted at once, flagged, capped, confirmed",
              scenario_break_glass, t, binary, st):
        t.case("e. a missed review revokes the grant after the deadline (restart, clock moved)",
               scenario_missed_review, t, st)
    t.case("f. a simulation predicts exactly what activation does", scenario_simulation,
           t, binary)
    t.case("g. delegation governed by policy; the delegate approves until revoked",
           scenario_delegation, t, binary)
    t.case("h. the evidence view of a request decided under Cedar", scenario_evidence,
           t, binary)
    for srv in list(t.servers):
        t.stop(srv)
        if srv.stopped_rc is not None:
            v = srv.cli("audit", "verify")
            t.case("audit verify on %s" % srv.name, eq, v.returncode, 0,
                   "audit verify (%s)" % (v.stdout + v.stderr)[-300:])


if __name__ == "__main__":
    ghtest.main(body)
