#!/usr/bin/env python3
"""test_demo.py - `gatehouse demo` seeds a database that shows every part of
the domain: >= 20 NHIs of every kind, systems, entitlements in every risk tier
and requests in every interesting state; the audit chain verifies."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, poll, status  # noqa: E402

NHI_KINDS = {"service_account", "api_key", "workload", "oauth_app", "ai_agent"}
TIERS = {"low", "medium", "high", "critical"}
STATES = {"active", "pending_approval", "rejected", "cancelled", "denied", "revoked", "expired"}


def seed(srv):
    r = srv.cli("demo")
    eq(r.returncode, 0, "gatehouse demo exit code (%s)" % (r.stdout + r.stderr)[-800:])
    expect(ghtest.sanitizer_report(r.stderr) is None, "sanitizer report: %s" % r.stderr[-1500:])
    tok = ghtest.find_token(r.stdout)
    expect(tok, "demo prints an admin token (a gh_ token) to use the seeded data: %r"
           % r.stdout[-500:])
    srv.token = tok
    srv.start()


def inventory(srv):
    idents = srv.list_all("/v1/identities")
    nhis = [i for i in idents if i["kind"] != "human"]
    expect(len(nhis) >= 20, "at least 20 NHIs, got %d" % len(nhis))
    kinds = {i["kind"] for i in nhis}
    expect(NHI_KINDS <= kinds, "every NHI kind: missing %r" % sorted(NHI_KINDS - kinds))
    humans = {i["id"]: i for i in idents if i["kind"] == "human"}
    for i in nhis:
        expect(i["owner"] in humans, "NHI %s has a human owner" % i["name"])
        expect(i["purpose"] and i["environment"] and i["expires_at"],
               "NHI %s has purpose, environment and expiry" % i["name"])
    systems = srv.list_all("/v1/systems")
    expect(len(systems) >= 2, "at least 2 systems, got %d" % len(systems))
    ents = srv.list_all("/v1/entitlements")
    tiers = {e["risk_tier"] for e in ents}
    expect(TIERS <= tiers, "entitlements in every risk tier: missing %r" % sorted(TIERS - tiers))
    expect(any(e["incompatible_with"] for e in ents), "at least one SoD pair")
    groups = srv.list_all("/v1/groups")
    expect(groups, "control-owner groups")


def request_states(srv):
    def states():
        reqs = srv.list_all("/v1/requests")
        seen = {r["state"] for r in reqs}
        return (reqs, seen) if STATES <= seen else None
    try:
        reqs, seen = poll(states, 10, "requests in every state", interval=0.5)
    except ghtest.Failure:
        seen = {r["state"] for r in srv.list_all("/v1/requests")}
        raise ghtest.Failure("requests in states %r; missing %r" % (sorted(seen),
                                                                    sorted(STATES - seen)))
    grants = {g["id"]: g for g in srv.list_all("/v1/grants")}
    for r in reqs:
        gid = ghtest.grant_id_of(r)
        if r["state"] == "active":
            expect(gid in grants and grants[gid]["status"] == "active",
                   "active request %s has an active grant" % r["id"])
        if r["state"] in ("revoked", "expired"):
            expect(gid in grants and grants[gid]["status"] == r["state"],
                   "%s request %s has a %s grant" % (r["state"], r["id"], r["state"]))
        if r["state"] in ("pending_approval", "rejected", "cancelled", "denied"):
            eq(gid, None, "%s request %s has no grant" % (r["state"], r["id"]))
    h = status(srv.get("/v1/requests/%s/history" % reqs[0]["id"]), 200)
    expect(h["items"], "a demo request has history")


def signs_checkpoints(srv):
    key = srv.key_path
    expect(os.path.exists(key), "the demo created the signing key %s" % key)
    eq(os.stat(key).st_mode & 0o777, 0o600, "the key file's mode")
    cp = status(srv.get("/v1/audit/checkpoint"), 200)
    expect(cp["size"] > 0 and cp["note"].startswith(cp["origin"] + "\n"),
           "serve signed a checkpoint of the demo's log: %r" % cp)


def verify_after(t, srv):
    t.stop(srv)
    v = srv.cli("audit", "verify")
    eq(v.returncode, 0, "audit verify of the demo database (%s)" % (v.stdout + v.stderr)[-400:])


def body(t, binary):
    srv = t.server(binary, name="demo")
    if not t.case("gatehouse demo seeds a fresh database and it serves", seed, srv):
        return
    t.case("NHIs of every kind, systems, entitlements in every tier", inventory, srv)
    t.case("requests in every state, grants consistent", request_states, srv)
    t.case("the demo's log has a signing key and a signed checkpoint", signs_checkpoints, srv)
    t.case("audit verify exits 0", verify_after, t, srv)


if __name__ == "__main__":
    ghtest.main(body)
