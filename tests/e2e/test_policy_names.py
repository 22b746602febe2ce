#!/usr/bin/env python3
"""test_policy_names.py - policy text names entities by their Gatehouse names,
through the CLI against a demo server: a misspelt name is a validation
problem (simulate exits 1 naming it; the proposed version cannot be
activated); names decide as ids do; simulate and activation say in words
what default deny will refuse; simulate names subjects and entitlements; the
four-eyes refusal names the person."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, status  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LEADS = os.path.join(ROOT, "examples", "policies", "billing-leads.cedar")
MISSPELT = os.path.join(ROOT, "examples", "policies", "misspelt.cedar")


class W:
    srv = None
    toks = {}
    binary = None


def gh(token, *args):
    env = dict(os.environ)
    env.update({"GATEHOUSE_SERVER": "http://127.0.0.1:%d" % W.srv.port,
                "GATEHOUSE_TOKEN": W.toks[token]})
    return subprocess.run([W.binary] + list(args), capture_output=True, text=True, env=env,
                          timeout=60)


def seed(t, binary):
    W.binary = os.path.abspath(binary)
    W.srv = t.server(binary, name="names")
    r = W.srv.cli("demo")
    eq(r.returncode, 0, "demo (%s)" % r.stderr[-400:])
    for m in re.finditer(r"^\s+\S+\s+(\S+)\s+(gh_\S+)\s*$", r.stdout, re.M):
        W.toks[m.group(1)] = m.group(2)
    expect({"admin", "grace", "ines"} <= set(W.toks), "the demo prints grace's and ines's"
           " tokens: %r" % r.stdout[-600:])
    W.srv.token = W.toks["admin"]
    W.srv.start()


def misspelt_name():
    r = gh("grace", "policy", "simulate", MISSPELT)
    eq(r.returncode, 1, "simulate of a text naming nothing exits 1 (%s)" % r.stderr)
    expect('policy0: Group "dba-lead" does not exist' in r.stdout,
           "simulate names the missing group: %s" % r.stdout)
    expect("this version cannot be activated" in r.stdout, r.stdout)
    r = gh("grace", "--json", "policies", "propose", "--file", MISSPELT)
    eq(r.returncode, 0, "a version with problems is stored (%s)" % r.stderr)
    v = json.loads(r.stdout)
    expect(any('Group "dba-lead" does not exist' in p["message"] for p in v["validation"]),
           r.stdout)
    before = W.srv.snapshot()
    r = gh("ines", "policies", "activate", str(v["version"]))
    eq(r.returncode, 1, "activation of a version with a missing name is refused")
    expect("validation error" in r.stderr, r.stderr)
    ghtest.unchanged(W.srv, before, "a refused activation")


def names_decide_and_warnings():
    r = gh("grace", "policy", "simulate", LEADS)
    eq(r.returncode, 0, "simulate (%s)" % r.stderr)
    expect("validation: ok" in r.stdout, r.stdout)
    for action in ("delegate", "break_glass"):
        expect("no policy permits %s: once this version is active" % action in r.stdout,
               "simulate warns about %s: %s" % (action, r.stdout))
    expect("no policy permits approve" not in r.stdout, r.stdout)
    # subjects and entitlements by name (the demo's pending ml-platform request flips)
    expect(re.search(r"deny  subject fraud-scorer  entitlement ml-platform/model-deploy",
                     r.stdout), "simulate names subject and entitlement: %s" % r.stdout)
    expect(not re.search(r"subject idn_|entitlement ent_", r.stdout), r.stdout)
    r = gh("grace", "--json", "policies", "propose", "--file", LEADS)
    eq(r.returncode, 0, r.stderr)
    version = str(json.loads(r.stdout)["version"])
    r = gh("grace", "policies", "activate", version)
    eq(r.returncode, 1, "the proposer cannot activate")
    expect("activation needs a second person: grace proposed policy version %s" % version
           in r.stderr, "the refusal names grace: %s" % r.stderr)
    expect("idn_" not in r.stderr, r.stderr)
    r = gh("ines", "--json", "policies", "activate", version)
    eq(r.returncode, 0, r.stderr)
    warnings = json.loads(r.stdout)["warnings"]
    expect(any(w.startswith("no policy permits delegate:") for w in warnings),
           "activation carries the warnings: %s" % r.stdout)
    # System::"billing-db" and @approver_group by name decide as ids would
    body = {"channel": "api", "subject": "billing-etl", "entitlement": "billing-db/read-only",
            "duration": "1h", "justification": "names"}
    req = status(W.srv.post("/v1/requests", body, token=W.toks["admin"]), 201)
    eq(req["state"], "pending_approval", "permitted by the named system: %s" % req["decision"])
    expect("approved by a DBA lead" in str(req["decision"]), req["decision"])
    body["entitlement"] = "github-org/repo-read"
    req = status(W.srv.post("/v1/requests", body, token=W.toks["admin"]), 201)
    eq(req["state"], "denied", "outside the named system: default deny")


def body(t, binary):
    if not t.case("a demo server", seed, t, binary):
        return
    t.case("a misspelt name: simulate exits 1 naming it, activation refused", misspelt_name)
    t.case("names decide; warnings on simulate and activation; names in messages",
           names_decide_and_warnings)


if __name__ == "__main__":
    ghtest.main(body)
