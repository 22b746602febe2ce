#!/usr/bin/env python3
"""later_apply_delegations.py - `gatehouse apply` with delegations and entitlement
tags (the API of issue #4's workflow helper). Not run by tests/run.sh until that API
is merged: then rename it to test_apply_delegations.py.

A delegation is identified by (from_group, to_group, scope); re-applying the same
file changes nothing; another expires_at replaces it (revoke + create); tags are
compared as a set."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, status  # noqa: E402


class World:
    srv = None
    admin_id = None
    dir = None


W = World()


def out(r):
    return "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout[-3000:], r.stderr[-3000:])


def apply(path, *extra):
    r = W.srv.cli("apply", "-f", path, "--url", "http://127.0.0.1:%d" % W.srv.port,
                  "--token", W.srv.token, *extra)
    expect(ghtest.sanitizer_report(r.stderr) is None, "sanitizer report: %s" % r.stderr[-2000:])
    return r


def writes():
    return sum(1 for e in W.srv.audit_events() if e["actor"] == W.admin_id)


def catalog(expiry_a, expiry_b, tags):
    return ("version: 1\n"
            "entitlements:\n"
            "  - system: billing-db\n    name: read-write\n    risk_tier: medium\n"
            "    data_sensitivity: confidential\n    environment: prod\n"
            "    control_owner_group: dba-owners\n    max_duration: 8h\n"
            "    tags: [%s]\n"
            "delegations:\n"
            "  - from_group: platform-owners\n    to_group: sre-oncall\n    system: k8s-prod\n"
            "    expires_at: %s\n    reason: on-call approves deployments\n"
            "  - from_group: dba-owners\n    to_group: team-data-platform\n    tag: pci\n"
            "    expires_at: %s\n    reason: PCI data owners on holiday\n"
            % (", ".join(tags), expiry_a, expiry_b))


def write(name, text):
    path = os.path.join(W.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def active():
    return [d for d in W.srv.list_all("/v1/delegations?status=active")]


def seed(t, binary):
    srv = t.server(binary, name="apply-delegations")
    r = srv.cli("demo")
    eq(r.returncode, 0, "gatehouse demo (%s)" % (r.stdout + r.stderr)[-800:])
    srv.token = ghtest.find_token(r.stdout)
    srv.start()
    W.srv = srv
    W.admin_id = status(srv.get("/v1/identities/admin"), 200)["id"]
    W.dir = srv.dir


A = ghtest.rfc3339(time.time() + 20 * 86400)
B = ghtest.rfc3339(time.time() + 30 * 86400)
C = ghtest.rfc3339(time.time() + 40 * 86400)


def creates_delegations_and_tags():
    path = write("c1.yaml", catalog(A, B, ["pci", "billing"]))
    before = W.srv.snapshot()
    r = apply(path, "--dry-run")
    eq(r.returncode, 0, "dry run (%s)" % out(r))
    for line in ("+ delegation platform-owners -> sre-oncall (system k8s-prod)",
                 "+ delegation dba-owners -> team-data-platform (tag pci)",
                 "~ entitlement billing-db/read-write: tags [] -> [billing, pci]"):
        expect(line in r.stdout.splitlines(), "dry run shows %r:\n%s" % (line, out(r)))
    ghtest.unchanged(W.srv, before, "dry run")
    r = apply(path)
    eq(r.returncode, 0, "apply (%s)" % out(r))
    ent = status(W.srv.get("/v1/entitlements/billing-db%2Fread-write"), 200)
    eq(sorted(ent["tags"]), ["billing", "pci"], "tags")
    dl = active()
    eq(len(dl), 2, "two active delegations")
    by_scope = {d["scope"]["type"]: d for d in dl}
    eq(by_scope["system"]["scope"]["name"], "k8s-prod", "system scope")
    eq(by_scope["system"]["expires_at"], A, "expiry as written")
    eq(by_scope["tag"]["scope"]["tag"], "pci", "tag scope")
    eq(by_scope["tag"]["from_group"]["name"], "dba-owners", "from_group")


def reapply_changes_nothing():
    n = writes()
    r = apply(write("c1.yaml", catalog(A, B, ["billing", "pci"])))
    expect(r.returncode == 0 and r.stdout.startswith("no changes"), "no changes:\n%s" % out(r))
    eq(writes(), n, "no write")


def another_expiry_replaces_the_delegation():
    old = {d["scope"]["type"]: d for d in active()}["system"]
    r = apply(write("c2.yaml", catalog(C, B, ["billing", "pci"])))
    eq(r.returncode, 0, "apply (%s)" % out(r))
    expect(re.search(r"^-/\+ delegation platform-owners -> sre-oncall \(system k8s-prod\):"
                     r" expires_at %s -> %s$" % (re.escape(A), re.escape(C)), r.stdout, re.M),
           "the replace line:\n%s" % out(r))
    expect("1 to replace" in r.stdout, "counted as a replace:\n%s" % out(r))
    gone = status(W.srv.get("/v1/delegations/" + old["id"]), 200)
    eq(gone["status"], "revoked", "the old delegation is revoked")
    now = {d["scope"]["type"]: d for d in active()}
    eq(now["system"]["expires_at"], C, "the new one has the new expiry")
    eq(len(active()), 2, "still two active")


def tags_update_alone():
    n = writes()
    r = apply(write("c3.yaml", catalog(C, B, ["pci"])))
    eq(r.returncode, 0, "apply (%s)" % out(r))
    expect("~ entitlement billing-db/read-write: tags [billing, pci] -> [pci]" in r.stdout,
           "tags diff:\n%s" % out(r))
    eq(writes() - n, 1, "one write")


def past_expiry_is_refused_before_any_write():
    before = W.srv.snapshot()
    past = ghtest.rfc3339(time.time() - 86400)
    r = apply(write("c4.yaml", catalog(C, past, ["pci"]).replace("tag: pci", "tag: other")))
    eq(r.returncode, 1, "past expiry (%s)" % out(r))
    expect("delegations[1].expires_at: is in the past" in r.stderr, "names it:\n%s" % out(r))
    ghtest.unchanged(W.srv, before, "refused plan")


def body(t, binary):
    if not t.case("gatehouse demo seeds the server", seed, t, binary):
        return
    if not t.case("delegations and tags are created", creates_delegations_and_tags):
        return
    t.case("re-applying changes nothing", reapply_changes_nothing)
    t.case("another expires_at replaces a delegation", another_expiry_replaces_the_delegation)
    t.case("tags are updated alone", tags_update_alone)
    t.case("an expiry in the past is refused before any write",
           past_expiry_is_refused_before_any_write)


if __name__ == "__main__":
    ghtest.main(body)
