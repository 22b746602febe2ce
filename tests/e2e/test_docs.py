#!/usr/bin/env python3
"""test_docs.py - the documentation matches the program: every route in
docs/api.md's routes table exists (answers something other than 404 for an
unknown route, and no 5xx) with real ids, and README.md shows the quick start."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import expect, status  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROUTE_RE = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*(/\S*)\s*\|")


def documented_routes():
    with open(os.path.join(ROOT, "docs", "api.md")) as f:
        routes = [(m.group(1), m.group(2)) for m in map(ROUTE_RE.match, f) if m]
    expect(len(routes) >= 30, "the routes table lists the API (%d routes found)" % len(routes))
    return routes


def readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    for cmd in ("make run", "make test"):
        expect(cmd in text, "README.md shows `%s`" % cmd)


class Ids:
    pass


def setup(srv, ids):
    srv.start()
    owner, owner_tok = srv.user("docs-owner", ["requester"])
    appr = srv.human("docs-approver", ["approver"])
    ids.member = srv.human("docs-member", [])
    grp = srv.group("docs-owners", [appr])
    sysm = srv.system("docs-db", owner["id"])
    low = srv.entitlement(sysm["id"], "ro", "low", "1h", grp["id"])
    med = srv.entitlement(sysm["id"], "rw", "medium", "8h", grp["id"])
    bot = srv.nhi("docs-bot", owner["id"])
    ids.throwaway = srv.nhi("docs-throwaway", owner["id"])
    # the NHI's owner asks: whoever created an entitlement is never auto-approved for it
    granted = srv.request(bot["id"], low["id"], token=owner_tok)
    pending = srv.request(bot["id"], med["id"])
    tok = status(srv.post("/v1/tokens", {"identity": ids.member["id"], "name": "docs"}), 201)
    # policy versions: one active (proposed by admin, activated by an iam), one proposed
    iam = srv.token_for(srv.human("docs-iam", ["iam"]))
    first = status(srv.post("/v1/policies", {"text": "permit(principal, action, resource);"}), 201)
    status(srv.post("/v1/policies/%s/activate" % first["id"], {}, token=iam), 200)
    proposed = status(srv.post("/v1/policies", {"text": "forbid(principal, action, resource);"}),
                      201)
    cover = srv.group("docs-cover", [])
    dlg = status(srv.post("/v1/delegations", {"from_group": grp["id"], "to_group": cover["id"],
                                              "system": sysm["id"], "expires_in": "1d",
                                              "reason": "docs"}), 201)
    # a provisioning job (issue 5): a failed shadow-access removal, as the outbox holds it
    job = "job_" + "d0c5" * 4
    ghtest.execute(srv, "INSERT INTO outbox(id, system_id, op, account, target, state,"
                   " attempts, next_at, created_at, updated_at) VALUES (?, ?, 'revoke', 'x',"
                   " 'y', 'failed', 8, 0, 0, 0)", (job, sysm["id"]))
    # issue 5: a credential system's grant and its key
    ksys = srv.system("docs-keys", owner["id"], connector="credential")
    kent = srv.entitlement(ksys["id"], "key", "low", "1h", grp["id"])
    kgrant = ghtest.grant_id_of(srv.request(bot["id"], kent["id"], token=owner_tok))
    # four eyes (issue 10): a proposed change of an NHI's owner
    change = status(srv.patch("/v1/identities/" + ids.throwaway["id"], {"owner": appr["id"]}),
                    202)["change"]
    ids.cred = status(srv.post("/v1/grants/%s/credentials" % kgrant, {}), 201)
    ids.map = {
        "jobs": job, "tokens": tok["id"], "identities": ids.throwaway["id"], "groups": grp["id"],
        "systems": sysm["id"], "entitlements": low["id"], "requests": pending["id"],
        "grants": ghtest.grant_id_of(granted), "policies": proposed["id"],
        "delegations": dlg["id"], "credentials": ids.cred["id"], "changes": change["id"],
    }
    ids.low, ids.owner = low, owner


def bodies(ids):
    return {
        ("POST", "/v1/tokens"): {"identity": ids.member["id"], "name": "docs-2"},
        ("POST", "/v1/identities"): {"kind": "human", "name": "docs-new"},
        ("PATCH", "/v1/identities/{ref}"): {"display_name": "Docs"},
        ("POST", "/v1/identities/{ref}/suspend"): {"reason": "docs"},
        ("POST", "/v1/identities/{ref}/activate"): {"reason": "docs"},
        ("POST", "/v1/identities/{ref}/decommission"): {"reason": "docs"},
        ("POST", "/v1/groups"): {"name": "docs-new-grp"},
        ("POST", "/v1/groups/{ref}/members"): {"identity": ids.member["id"]},
        ("POST", "/v1/systems"): {"name": "docs-new-sys", "owner": ids.owner["id"]},
        ("PATCH", "/v1/systems/{ref}"): {"description": "docs"},
        ("POST", "/v1/entitlements"): {"system": "docs-db", "name": "docs-new", "risk_tier": "low",
                                       "data_sensitivity": "public", "environment": "dev",
                                       "control_owner_group": "docs-owners",
                                       "max_duration": "1h"},
        ("PATCH", "/v1/entitlements/{ref}"): {"description": "docs"},
        ("POST", "/v1/requests"): {"channel": "api", "subject": ids.member["id"],
                                   "entitlement": ids.low["id"], "justification": "docs",
                                   "duration": "30m"},
        ("POST", "/v1/requests/{id}/approve"): {"comment": "docs"},
        ("POST", "/v1/requests/{id}/reject"): {"comment": "docs"},
        ("POST", "/v1/requests/{id}/cancel"): {"reason": "docs"},
        ("POST", "/v1/grants/{id}/revoke"): {"reason": "docs"},
        ("POST", "/v1/grants/{id}/review"): {"outcome": "confirm", "comment": "docs"},
        ("POST", "/v1/delegations"): {"from_group": "docs-owners", "to_group": "docs-cover",
                                      "tag": "docs", "expires_in": "1h", "reason": "docs"},
        ("POST", "/v1/delegations/{id}/revoke"): {"reason": "docs"},
        ("POST", "/v1/policies"): {"text": "permit(principal, action, resource);"},
        ("POST", "/v1/credentials/{id}/revoke"): {"reason": "docs"},
        ("POST", "/v1/changes/{id}/withdraw"): {"reason": "docs"},
        ("POST", "/v1/introspect"): {"token": ids.cred["key"]},
    }


def concrete(path, ids):
    parts = path.strip("/").split("/")
    out = []
    for i, p in enumerate(parts):
        if p in ("{id}", "{ref}"):
            out.append(ids.map[parts[i - 1]])
        elif p == "{member}":
            out.append(ids.member["id"])
        elif p.startswith("{"):
            raise ghtest.Failure("unknown placeholder %s in %s" % (p, path))
        else:
            out.append(p)
    return "/" + "/".join(out)


def route_exists(srv, ids, method, path):
    url = concrete(path, ids)
    body = bodies(ids).get((method, path), {} if method in ("POST", "PATCH", "PUT") else None)
    r = srv.call(method, url, body)
    expect(r.status < 500, "%s %s answered %d: %s" % (method, url, r.status, r.text[:300]))
    expect(r.status != 405, "%s %s: method not allowed for a documented route" % (method, url))
    if r.status == 404:
        raise ghtest.Failure("%s %s answered 404 (%s)" % (method, url, r.text[:300]))
    if r.status >= 400:
        ghtest.problem(r, what="documented route")
    if r.status == 202 and isinstance(r.json, dict) and "change" in r.json:
        srv.confirm(r.json)  # a documented proposal (four eyes): a second person confirms
    return r


def body(t, binary):
    t.case("README.md shows make run and make test", readme)
    routes = t.case("docs/api.md lists the routes", documented_routes)
    srv = t.server(binary, name="docs")
    ids = Ids()
    if not routes or not t.case("setup: one of each object", setup, srv, ids):
        return

    def unknown():
        r = srv.get("/v1/no-such-route")
        ghtest.problem(r, 404, problem_code="not_found", what="an unknown route")
    t.case("an unknown route is a 404 problem", unknown)
    for method, path in routes:
        t.case("documented: %s %s" % (method, path), route_exists, srv, ids, method, path)


if __name__ == "__main__":
    ghtest.main(body)
