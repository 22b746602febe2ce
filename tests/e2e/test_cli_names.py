#!/usr/bin/env python3
"""test_cli_names.py - the CLI a newcomer meets (issue 11), against a demo server:
strict global options and --version, --channel defaulting to api and every
option's allowed values in --help (checked against what the server accepts),
names instead of ids in messages and tables, each error printed once, the
nearest name suggested on a typo (by the CLI and the API), role refusals in
CLI terms with the caller's name and roles, and the exit status of every
refusal, denied requests included."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, status  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PERSONA_RE = re.compile(r"^\s+(admin|iam|approver|servicedesk|auditor|requester)\s+(\S+)\s+(gh_\S+)$",
                        re.M)


class World:
    pass


W = World()


def out(r):
    return "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout[-1500:], r.stderr[-1500:])


def gh(*args, token=None, server=None):
    """The CLI against the demo server as a persona (admin by default)."""
    return W.srv.cli("--server", server or "http://127.0.0.1:%d" % W.srv.port,
                     "--token", token or W.tok["admin"], *args)


def seed(binary):
    srv = W.srv
    r = srv.cli("demo")
    eq(r.returncode, 0, "gatehouse demo (%s)" % out(r))
    W.tok = {m.group(1): m.group(3) for m in PERSONA_RE.finditer(r.stdout)}
    W.who = {m.group(1): m.group(2) for m in PERSONA_RE.finditer(r.stdout)}
    expect({"admin", "approver", "servicedesk", "requester"} <= set(W.tok),
           "the demo prints persona tokens: %r" % r.stdout[-800:])
    srv.token = W.tok["admin"]
    srv.start()


def version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"project\(gatehouse VERSION (\S+)", f.read())
    expect(m, "CMakeLists.txt defines the version in project()")
    want = "gatehouse %s\n" % m.group(1)
    for args in (("--version",), ("version",)):
        r = W.srv.cli(*args)
        eq((r.returncode, r.stdout), (0, want), "gatehouse %s (%s)" % (" ".join(args), out(r)))
    with open(W.srv.stdout_path) as f:
        expect("gatehouse %s: serving http://" % m.group(1) in f.read(),
               "serve's start line names the version")


def strict_globals():
    # a server nobody listens on: anything sent would fail "cannot reach"
    dead = "http://127.0.0.1:%d" % ghtest.free_port()
    r = W.srv.cli("--server", dead, "--jsn", "requests", "list")
    eq(r.returncode, 2, "an unknown global option is a usage error (%s)" % out(r))
    eq(r.stderr.splitlines()[0], "gatehouse: unknown global option --jsn; did you mean --json?",
       "names the option (%s)" % out(r))
    expect("cannot reach" not in r.stderr and "unknown command" not in r.stderr,
           "nothing was sent and the next word stayed the command (%s)" % out(r))
    r = W.srv.cli("--server", dead, "--state", "active", "requests", "list")
    eq(r.returncode, 2, "a command's option before the command (%s)" % out(r))
    expect("unknown global option --state" in r.stderr, out(r))
    r = gh("requests", "lst")
    eq(r.returncode, 2, "unknown subcommand (%s)" % out(r))
    expect("did you mean 'requests list'?" in r.stderr, out(r))
    r = gh("requests", "list", "--stat", "active")
    eq(r.returncode, 2, "unknown option (%s)" % out(r))
    expect("did you mean --state?" in r.stderr, out(r))
    r = gh("requests", "list", "--state", "pending_approval", "--json")
    eq(r.returncode, 0, "global options after the command still work (%s)" % out(r))
    json.loads(r.stdout)


def help_texts():
    r = W.srv.cli("--help")
    eq(r.returncode, 0, "gatehouse --help")
    words = " ".join(r.stdout.split())
    for text in ("--version", "exit status:", "0 success", "1 refused or failed",
                 "2 usage error", "denied or failed", "allowed values",
                 "--channel servicedesk, portal, chat, api (default api)",
                 "--risk-tier low, medium, high, critical"):
        expect(text in words, "gatehouse --help shows %r" % text)
    r = W.srv.cli("requests", "submit", "--help")
    eq(r.returncode, 0, "requests submit --help")
    expect("--channel C (default api)" in r.stdout, "the usage says the default: %s" % r.stdout)
    expect(re.search(r"--channel\s+servicedesk, portal, chat, api \(default api\)", r.stdout),
           "the allowed channels are listed: %s" % r.stdout)
    expect("exit status:" in r.stdout and "denied or failed" in r.stdout, r.stdout)


# (resource, option in --help, the command that sends it with a wrong value)
VALUE_CHECKS = [
    ("requests", "channel", ("requests", "submit", "--subject", "payments-api", "--entitlement",
                             "github-org/repo-read", "--justification", "x", "--duration", "1h",
                             "--channel", "fax")),
    ("requests", "state", ("requests", "list", "--state", "x")),
    ("identities", "kind", ("identities", "list", "--kind", "x")),
    ("identities", "status", ("identities", "list", "--status", "x")),
    ("entitlements", "risk-tier", ("entitlements", "list", "--risk-tier", "x")),
    ("entitlements", "data-sensitivity", ("entitlements", "update", "github-org/repo-read",
                                          "--data-sensitivity", "x")),
    ("grants", "status", ("grants", "list", "--status", "x")),
    ("grants", "review-state", ("grants", "list", "--review-state", "x")),
    ("jobs", "state", ("jobs", "list", "--state", "x")),
    ("findings", "kind", ("findings", "list", "--kind", "x")),
    ("findings", "status", ("findings", "list", "--status", "x")),
    ("delegations", "status", ("delegations", "list", "--status", "x")),
    ("tokens", "status", ("tokens", "list", "--status", "x")),
    ("credentials", "status", ("credentials", "list", "--status", "x")),
    ("changes", "state", ("changes", "list", "--state", "x")),
]


def allowed_values_match_the_server():
    for resource, option, cmd in VALUE_CHECKS:
        h = W.srv.cli(resource, "--help")
        # the option's line and its wrapped continuation lines
        m = re.search(r"^  --%s +(.+(?:\n {10,}\S.*)*)" % re.escape(option), h.stdout, re.M)
        expect(m, "%s --help lists --%s's values: %s" % (resource, option, h.stdout[-600:]))
        text = " ".join(m.group(1).split())
        listed = re.sub(r"\s*\(default \w+\)", "", text).split(", ")
        r = gh(*cmd)
        eq(r.returncode, 1, "%s with a wrong --%s (%s)" % (" ".join(cmd[:2]), option, out(r)))
        m2 = re.search(r"must be one of: (.+)$", r.stderr, re.M)
        expect(m2, "the server names the values: %s" % out(r))
        eq(listed, m2.group(1).split(", "), "%s --%s: the CLI's help and the server agree"
           % (resource, option))


def channel_defaults_to_api():
    r = gh("requests", "submit", "--ticket-ref", "RITM-9001", "--requester", "carol",
           "--subject", "payments-api", "--entitlement", "billing-db/read-write",
           "--justification", "replay failed settlements", "--duration", "4h", "--json",
           token=W.tok["servicedesk"])
    # before: "gatehouse: channel: is required (HTTP 400)"
    eq(r.returncode, 0, "submit without --channel (%s)" % out(r))
    doc = json.loads(r.stdout)
    eq((doc["channel"], doc["state"]), ("api", "pending_approval"),
       "channel api, waiting for approval (a success)")
    W.pending = doc["id"]


def one_error_once():
    r = gh("requests", "submit", "--subject", "payments-api", "--entitlement",
           "github-org/repo-read", "--duration", "1h")
    eq(r.returncode, 1, "a missing field (%s)" % out(r))
    # before: the same field a second time as "  justification: is required"
    eq(r.stderr.splitlines(), ["gatehouse: justification: is required"], "printed once")
    r = gh("identities", "create", "--kind", "service_account", "--name", "x-svc")
    eq(r.returncode, 1, "several fields (%s)" % out(r))
    lines = r.stderr.splitlines()
    eq(lines[0], "gatehouse: 4 fields are invalid:", "the summary, once (%s)" % out(r))
    eq(sorted(line.split(":")[0].strip() for line in lines[1:]),
       ["environment", "expires_at", "owner", "purpose"], "one line per field")
    expect("(HTTP" not in r.stderr, "no HTTP status for people (%s)" % out(r))


def suggestions():
    r = gh("requests", "submit", "--subject", "payments-api", "--entitlement",
           "github-org/repo-reed", "--justification", "x", "--duration", "1h")
    eq(r.returncode, 1, "a typo (%s)" % out(r))
    eq(r.stderr.splitlines(),
       ["gatehouse: entitlement github-org/repo-reed not found; did you mean "
        "github-org/repo-read?"], "the nearest name, once")
    r = gh("entitlements", "get", "repo-reed")
    eq(r.returncode, 1, out(r))
    expect("did you mean github-org/repo-read?" in r.stderr, "a bare name: %s" % out(r))
    r = gh("identities", "get", "eriin")
    expect("identity eriin not found; did you mean erin?" in r.stderr, out(r))
    r = gh("identities", "get", "zzz-nobody")
    eq(r.stderr.splitlines(), ["gatehouse: identity zzz-nobody not found"],
       "nothing close: no suggestion")
    # the API says the same
    resp = W.srv.get("/v1/entitlements/github-org%2Frepo-reed")
    eq(resp.status, 404, "API: not found")
    eq(resp.json["detail"],
       "entitlement github-org/repo-reed not found; did you mean github-org/repo-read?",
       "API detail")
    resp = W.srv.post("/v1/requests", {"subject": "payments-apj", "entitlement":
                                       "github-org/repo-read", "justification": "x",
                                       "duration": "1h", "channel": "api"})
    eq(resp.status, 400, "API: a field")
    eq(resp.json["errors"], [{"field": "subject", "reason": "identity payments-apj not found;"
                              " did you mean payments-api?"}], "API field error")
    resp = W.srv.get("/v1/groups/grp_0000000000000000")
    eq(resp.json.get("detail"), "group grp_0000000000000000 not found",
       "an id that names nothing gets no suggestion")


def role_refusal():
    r = gh("requests", "approve", W.pending, token=W.tok["servicedesk"])
    eq(r.returncode, 1, "a refusal exits 1 (%s)" % out(r))
    # before: "gatehouse: POST /v1/requests/{id}/approve needs one of the roles: ... (HTTP 403)"
    eq(r.stderr.splitlines(),
       ["gatehouse: requests approve needs one of the roles admin, iam, approver; you are "
        "%s (servicedesk)" % W.who["servicedesk"]], "in CLI terms, with the caller")
    r = gh("groups", "create", "--name", "x", token=W.tok["servicedesk"])
    eq(r.stderr.splitlines(), ["gatehouse: groups create needs one of the roles admin, iam; "
                               "you are %s (servicedesk)" % W.who["servicedesk"]], out(r))
    # commands with their own client code name themselves too (before: the route)
    for args, needed in ((("evidence", "export", W.pending, "--output", "x.json"),
                          "one of the roles admin, iam, auditor"),
                         (("audit", "checkpoint", "--sign"), "the role admin")):
        r = gh(*args, token=W.tok["requester"])
        eq(r.returncode, 1, "%s refused (%s)" % (" ".join(args[:2]), out(r)))
        eq(r.stderr.splitlines(), ["gatehouse: %s needs %s; you are %s "
                                   "(requester)" % (" ".join(args[:2]), needed,
                                                    W.who["requester"])], out(r))
    resp = W.srv.post("/v1/requests/%s/approve" % W.pending, {}, token=W.tok["servicedesk"])
    eq(resp.status, 403, "API: forbidden")
    eq(resp.json["roles_needed"], ["admin", "iam", "approver"], "API: roles_needed")
    eq((resp.json["caller"]["name"], resp.json["caller"]["roles"]),
       (W.who["servicedesk"], ["servicedesk"]), "API: caller")


def names_in_messages():
    # erin (dba-owners) may not decide for ml-platform: the group is named
    reqs = W.srv.list_all("/v1/requests?state=pending_approval")
    ent = status(W.srv.get("/v1/entitlements/ml-platform%2Fmodel-deploy"), 200)
    grp = status(W.srv.get("/v1/groups/" + ent["control_owner_group"]), 200)
    req = [q for q in reqs if q["entitlement"] == ent["id"]]
    expect(req, "the demo has a pending ml-platform/model-deploy request")
    r = gh("requests", "approve", req[0]["id"], token=W.tok["approver"])
    eq(r.returncode, 1, "refused (%s)" % out(r))
    expect("control-owner group %s," % grp["name"] in r.stderr and "grp_" not in r.stderr,
           "the group by name (%s)" % out(r))


def denied_exits_1():
    args = ("requests", "submit", "--requester", "carol", "--subject", "ledger-reconciler",
            "--entitlement", "payments-core/initiate-payment", "--justification", "x",
            "--duration", "1h")
    r = gh(*args)
    # before: exit 0 with the denied request printed
    eq(r.returncode, 1, "a denied request exits 1 (%s)" % out(r))
    expect(re.search(r"^gatehouse: request req_\w+ denied: segregation of duties: subject "
                     r"ledger-reconciler holds approve-payment \(grant grt_\w+\), which "
                     r"conflicts with initiate-payment$", r.stderr, re.M), out(r))
    expect("ent_" not in r.stderr, "no entitlement id in the reason (%s)" % out(r))
    expect(re.search(r"^state\s+denied$", r.stdout, re.M), "the request is shown (%s)" % out(r))
    r = gh("--json", *args)
    eq(r.returncode, 1, "with --json too (%s)" % out(r))
    eq(json.loads(r.stdout)["state"], "denied", "--json prints the answer")
    # rejecting is what the approver asked for: success
    r = gh("requests", "reject", W.pending, "--comment", "no", token=W.tok["approver"])
    eq(r.returncode, 0, "reject (%s)" % out(r))


def tables_in_words():
    r = gh("requests", "get", W.pending)
    eq(r.returncode, 0, out(r))
    expect(re.search(r"^decision\s+approval_required, 1 approval: risk tier medium requires 1 "
                     r"approval; policy builtin-1$", r.stdout, re.M), "decision in words: %s"
           % r.stdout)
    expect("{" not in r.stdout, "no raw JSON: %s" % r.stdout)
    active = [q for q in W.srv.list_all("/v1/requests?state=active")
              if q["required_approvals"] == 2]
    expect(active, "the demo has an active request with two approvals")
    r = gh("requests", "evidence", active[0]["id"])
    eq(r.returncode, 0, out(r))
    expect('{"id"' not in r.stdout and "{" not in r.stdout, "no raw JSON: %s" % r.stdout)
    rows = r.stdout.split("approvals:\n", 1)[1].splitlines()
    expect(rows[0].split()[:3] == ["STEP", "APPROVER", "DECISION"], r.stdout)
    for row in rows[1:]:
        expect(re.match(r"^\d+\s+[a-z][a-z0-9.-]*\s+approve\s", row),
               "the approver by name: %r" % row)
    expect(re.search(r"^entitlement\s+\S+/\S+$", r.stdout, re.M), "system/name: %s" % r.stdout)
    r = gh("--json", "requests", "evidence", active[0]["id"])
    doc = json.loads(r.stdout)
    expect(isinstance(doc["approvals"][0]["approver"], dict) and
           doc["approvals"][0]["approver"]["id"].startswith("idn_"), "--json keeps the raw form")


def body(t, binary):
    W.srv = t.server(binary, name="cli-names")
    if not t.case("seed the demo and serve it", seed, binary):
        return
    t.case("--version and version print the version; serve names it", version)
    t.case("an unknown global option is a usage error and sends nothing", strict_globals)
    t.case("--help lists exit codes and allowed values", help_texts)
    t.case("--help's allowed values are what the server accepts",
           allowed_values_match_the_server)
    t.case("requests submit without --channel files through the api channel",
           channel_defaults_to_api)
    t.case("each error printed once", one_error_once)
    t.case("a typo gets the nearest name (CLI and API)", suggestions)
    t.case("a role refusal names the command and the caller", role_refusal)
    t.case("messages name groups by name", names_in_messages)
    t.case("a denied request exits 1", denied_exits_1)
    t.case("tables and objects show nested values in words", tables_in_words)


if __name__ == "__main__":
    ghtest.main(body)
