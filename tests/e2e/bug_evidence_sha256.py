#!/usr/bin/env python3
"""bug_evidence_sha256.py - (not in the suite: run.sh runs test_*.py only)
The evidence view's decision.policy_sha256 should be the SHA-256 of the
policy version the request was decided under (64 hex, equal to the
version's "sha256"), so an auditor can match it to GET /v1/policies/{v}.
Today it is the 12-hex prefix that policy_versions.c keeps in the decision's
policy_version string ("v1 pol_... sha256:0123456789ab"), and evidence.c
copies that prefix."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, status  # noqa: E402


def evidence_sha(t, binary):
    srv = t.server(binary, name="bug-evidence-sha")
    srv.start()
    ivy, ivy_tok = srv.user("b-ivy", ["iam"])
    ian, ian_tok = srv.user("b-ian", ["iam"])
    v = status(srv.post("/v1/policies", {"text": 'permit (principal, action == '
                                          'Action::"request", resource);\n'},
                        token=ivy_tok), 201)
    status(srv.post("/v1/policies/%s/activate" % v["id"], {}, token=ian_tok), 200)
    bob = srv.human("b-bob")
    owners = srv.group("b-owners", [ivy])
    sysm = srv.system("b-db", bob["id"])
    ent = srv.entitlement(sysm["id"], "rw", "medium", "1d", owners["id"])
    r = srv.request(bob["id"], ent["id"])
    e = status(srv.get("/v1/requests/%s/evidence" % r["id"]), 200)
    eq(e["decision"]["policy_sha256"], v["sha256"], "evidence policy_sha256")


def body(t, binary):
    t.case("evidence policy_sha256 is the version's whole SHA-256", evidence_sha, t, binary)


if __name__ == "__main__":
    ghtest.main(body)
