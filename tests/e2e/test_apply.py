#!/usr/bin/env python3
"""test_apply.py - `gatehouse apply -f FILE.yaml` (catalog as code) against a real
server seeded with `gatehouse demo`: examples/catalog.yaml applies cleanly, a second
run changes nothing and makes no write, --dry-run prints the diff and changes
nothing, an edited file updates exactly the changed fields, a policy text is
proposed once (never activated), a refused call stops the run with exit 1, and
bad files exit 2 naming the path and line:column, changing nothing."""

import hashlib
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, status  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "catalog.yaml")
CATALOG_TABLES = ("groups", "group_members", "systems", "entitlements", "entitlement_conflicts",
                  "policy_versions")


class World:
    srv = None
    admin_id = None
    dir = None

    def url(self):
        return "http://127.0.0.1:%d" % self.srv.port

    def apply(self, path, *extra, token=None):
        r = self.srv.cli("apply", "-f", path, "--url", self.url(),
                         "--token", token or self.srv.token, *extra)
        expect(ghtest.sanitizer_report(r.stderr) is None, "sanitizer report: %s" % r.stderr[-2000:])
        return r

    def writes(self):
        """Audit events caused by the admin who applies (the scheduler's are not)."""
        return sum(1 for e in self.srv.audit_events() if e["actor"] == self.admin_id)

    def catalog_snapshot(self):
        snap = self.srv.snapshot()
        return {k: v for k, v in snap.items() if k in CATALOG_TABLES}

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def ent(self, ref):
        return status(self.srv.get("/v1/entitlements/" + ref.replace("/", "%2F")), 200, ref)

    def group(self, ref):
        return status(self.srv.get("/v1/groups/" + ref), 200, ref)

    def confirm_proposed(self):
        """grace, the demo's second admin/iam person, confirms every change
        apply proposed (four eyes); returns how many."""
        if getattr(self, "grace_tok", None) is None:
            grace = status(self.srv.get("/v1/identities/grace"), 200)
            self.grace_tok = status(self.srv.post("/v1/tokens", {"identity": grace["id"],
                                                                "name": "apply-confirm"}),
                                    201)["token"]
        open_ = self.srv.list_all("/v1/changes?state=proposed", token=self.grace_tok)
        for ch in open_:
            status(self.srv.post("/v1/changes/%s/confirm" % ch["id"], {},
                                 token=self.grace_tok), 200, "confirm " + ch["id"])
        return len(open_)


W = World()


def out(r):
    return "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout[-3000:], r.stderr[-3000:])


def seed(t, binary):
    srv = t.server(binary, name="apply")
    r = srv.cli("demo")
    eq(r.returncode, 0, "gatehouse demo (%s)" % (r.stdout + r.stderr)[-800:])
    srv.token = ghtest.find_token(r.stdout)
    expect(srv.token, "demo printed an admin token")
    srv.start()
    W.srv = srv
    W.admin_id = status(srv.get("/v1/identities/admin"), 200)["id"]
    W.dir = os.path.join(srv.dir, "catalog")
    os.makedirs(os.path.join(W.dir, "policies"))
    shutil.copy(EXAMPLE, os.path.join(W.dir, "catalog.yaml"))
    shutil.copy(os.path.join(ROOT, "examples", "policies", "catalog.cedar"),
                os.path.join(W.dir, "policies", "catalog.cedar"))


def dry_run_prints_the_diff_and_changes_nothing():
    before, writes = W.srv.snapshot(), W.writes()
    r = W.apply(os.path.join(W.dir, "catalog.yaml"), "--dry-run")
    eq(r.returncode, 0, "dry run exit status (%s)" % out(r))
    for line in ("+ group warehouse-owners",
                 "~ group warehouse-owners: members + dmitri, + erin, + group dba-leads",
                 "~ group sre-oncall: members + julia",
                 "    would be proposed: a weaker control needs confirmation by a second admin"
                 " or iam person (gatehouse changes confirm)",
                 "+ system analytics-warehouse",
                 "+ entitlement analytics-warehouse/read-curated",
                 "+ entitlement analytics-warehouse/admin",
                 "~ entitlement k8s-prod/deployer: max_duration 7d -> 4h",
                 "+ policy policies/catalog.cedar",
                 "dry run: nothing was changed"):
        expect(line in r.stdout.splitlines(), "dry run prints %r:\n%s" % (line, out(r)))
    # sre-oncall guards k8s-prod: its new member is proposed (four eyes)
    expect(re.search(r"^plan: 5 to create, 2 to update, 0 to replace, 2 to propose; 1 unchanged$",
                     r.stdout, re.M), "plan summary line:\n%s" % out(r))
    ghtest.unchanged(W.srv, before, "apply --dry-run")
    eq(W.writes(), writes, "audit events by the applier after a dry run")


def example_applies_cleanly():
    writes = W.writes()
    r = W.apply(os.path.join(W.dir, "catalog.yaml"))
    eq(r.returncode, 0, "apply exit status (%s)" % out(r))
    expect("applied: 9 changes (11 calls)" in r.stdout, "apply summary:\n%s" % out(r))
    # one event per call, and the conflict's other side gets its own entitlement.updated
    eq(W.writes() - writes, 12, "audit events of the apply")
    # a member of a control-owner group is proposed, and applied once confirmed
    expect(re.search(r"^proposed change chg_\w+ \(group sre-oncall\)", r.stdout, re.M)
           and "1 of the calls proposed, not applied" in r.stdout,
           "apply says what it proposed:\n%s" % out(r))
    eq(sorted(m["name"] for m in W.group("sre-oncall")["members"]), ["ivan"],
       "sre-oncall members before the confirmation")
    eq(W.confirm_proposed(), 1, "changes confirmed by a second person")

    wh = W.group("warehouse-owners")
    eq(wh["description"], "Control owners of the analytics warehouse", "group description")
    eq(sorted((m["type"], m["name"]) for m in wh["members"]),
       [("group", "dba-leads"), ("identity", "dmitri"), ("identity", "erin")], "members")
    eq(sorted(m["name"] for m in W.group("sre-oncall")["members"]), ["ivan", "julia"],
       "sre-oncall members")
    sysw = status(W.srv.get("/v1/systems/analytics-warehouse"), 200)
    eq(sysw["owner"], status(W.srv.get("/v1/identities/dmitri"), 200)["id"], "system owner")
    rc = W.ent("analytics-warehouse/read-curated")
    eq((rc["risk_tier"], rc["data_sensitivity"], rc["environment"], rc["max_duration"],
        rc["requestable"], rc["attributes"], rc["control_owner_group"]),
       ("low", "internal", "prod", "30d", True, {"zone": "curated"}, wh["id"]), "read-curated")
    load, admin = W.ent("analytics-warehouse/load-raw"), W.ent("analytics-warehouse/admin")
    eq(load["incompatible_with"], [admin["id"]], "load-raw conflicts")
    eq(admin["incompatible_with"], [load["id"]], "admin conflicts")
    eq(admin["requestable"], False, "admin requestable")
    eq(W.ent("k8s-prod/deployer")["max_duration"], "4h", "deployer max_duration")

    with open(os.path.join(W.dir, "policies", "catalog.cedar"), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    versions = W.srv.list_all("/v1/policies")
    mine = [v for v in versions if v["sha256"] == sha]
    eq(len(mine), 1, "the policy text is proposed once")
    eq(mine[0]["state"], "proposed", "apply never activates")
    eq(mine[0]["validation"], [], "the example policy validates against the schema")


def reapply_is_a_no_op():
    before, writes = W.catalog_snapshot(), W.writes()
    r = W.apply(os.path.join(W.dir, "catalog.yaml"))
    eq(r.returncode, 0, "second apply (%s)" % out(r))
    expect(r.stdout.startswith("no changes"), "second apply says no changes:\n%s" % out(r))
    eq(W.writes(), writes, "audit events by the applier after the second apply")
    eq(W.catalog_snapshot(), before, "catalog tables after the second apply")


def edited_file_updates_exactly_the_changed_fields():
    path = os.path.join(W.dir, "catalog.yaml")
    with open(path) as f:
        text = f.read()
    text = text.replace("    max_duration: 4h\n", "    max_duration: 2h\n")
    text = text.replace("SELECT on the curated zone", "SELECT on curated tables")
    text = text.replace("      - erin\n", "      - farid\n")
    text = text.replace("comment: governance policy from examples/catalog.yaml",
                        "comment: the comment alone does not make a new proposal")
    edited = W.write("edited.yaml", text)

    writes = W.writes()
    r = W.apply(edited, "--dry-run")
    eq(r.returncode, 0, "dry run of the edited file (%s)" % out(r))
    lines = r.stdout.splitlines()
    for line in ("~ group warehouse-owners: members + farid, - erin",
                 "~ entitlement analytics-warehouse/read-curated: description"
                 ' "SELECT on the curated zone" -> "SELECT on curated tables"',
                 "~ entitlement k8s-prod/deployer: max_duration 4h -> 2h"):
        expect(line in lines, "the diff shows %r:\n%s" % (line, out(r)))
    expect(not any(x.startswith("+ ") for x in lines), "nothing to create:\n%s" % out(r))
    eq(W.writes(), writes, "dry run wrote nothing")

    last = W.srv.audit_events()[-1]["seq"]
    r = W.apply(edited)
    eq(r.returncode, 0, "apply of the edited file (%s)" % out(r))
    events = [e for e in W.srv.audit_events() if e["seq"] > last and e["actor"] == W.admin_id]
    # warehouse-owners decides approvals now: farid's membership is proposed
    eq(sorted(e["action"] for e in events),
       ["change.proposed", "entitlement.updated", "entitlement.updated",
        "group.member_removed"], "the audit events of the edit")
    eq(W.confirm_proposed(), 1, "changes confirmed by a second person")
    for e in events:
        if e["action"] == "entitlement.updated":
            want = ["description"] if e["object_id"] == W.ent(
                "analytics-warehouse/read-curated")["id"] else ["max_duration"]
            eq(e["details"]["changed"], want, "fields changed on %s" % e["object_id"])
    eq(W.ent("k8s-prod/deployer")["max_duration"], "2h", "deployer max_duration")
    eq(sorted(m["name"] for m in W.group("warehouse-owners")["members"]),
       ["dba-leads", "dmitri", "farid"], "members synced exactly")
    r = W.apply(edited)
    expect(r.returncode == 0 and r.stdout.startswith("no changes"),
           "the edited file, applied again, changes nothing:\n%s" % out(r))


def policy_is_proposed_once():
    extra = W.write("policies/extra.cedar",
                    '@id("agents-staging")\npermit (principal, action == Action::"request",'
                    ' resource)\nwhen { principal.kind == "ai_agent" &&'
                    ' resource.environment == "staging" };\n')
    text = ("version: 1\npolicies:\n  - file: policies/catalog.cedar\n"
            "  - file: %s\n    comment: an absolute path works too\n"
            "  - text: |\n      forbid (principal, action == Action::\"break_glass\", resource);\n"
            % extra)
    path = W.write("policies.yaml", text)
    count = len(W.srv.list_all("/v1/policies"))
    r = W.apply(path)
    eq(r.returncode, 0, "apply policies (%s)" % out(r))
    eq(len(re.findall(r"^\+ policy ", r.stdout, re.M)), 2, "two new texts:\n%s" % out(r))
    expect(re.search(r"^proposed policy version \d+ \(pol_", r.stdout, re.M),
           "names the proposed version:\n%s" % out(r))
    versions = W.srv.list_all("/v1/policies")
    eq(len(versions), count + 2, "two versions proposed")
    expect(all(v["state"] != "active" for v in versions), "none activated")

    # a second iam person activates one; the active text is not proposed again either
    grace = status(W.srv.get("/v1/identities/grace"), 200)
    tok = W.srv.token_for(grace, "grace-apply")
    status(W.srv.post("/v1/policies/%d/activate" % versions[-1]["version"], {}, token=tok), 200,
           "activate by a second person")
    writes = W.writes()
    r = W.apply(path)
    expect(r.returncode == 0 and r.stdout.startswith("no changes"),
           "proposed and active texts are not proposed again:\n%s" % out(r))
    eq(W.writes(), writes, "no write")


BAD = [
    ("syntax error", "version: 1\ngroups: [\n  {name: x\n", "groups[0]", ":4:1:"),
    ("unknown key", "version: 1\nsystems:\n  - name: x\n    owner: julia\n    colour: red\n",
     "systems[0].colour: unknown key", ":5:5:"),
    ("wrong type", "version: 1\nentitlements:\n  - system: k8s-prod\n    name: x\n"
     "    risk_tier: low\n    data_sensitivity: internal\n    environment: prod\n"
     "    control_owner_group: platform-owners\n    max_duration: 1h\n    requestable: yes\n",
     "entitlements[0].requestable: must be true or false", ":10:5:"),
    ("missing field", "version: 1\nentitlements:\n  - system: k8s-prod\n    name: x\n"
     "    risk_tier: low\n", 'entitlements[0]: missing required key "max_duration"', ":3:5:"),
    ("alias", "version: 1\ngroups:\n  - &g {name: alias-group}\n  - *g\n",
     "groups[1]: aliases are not allowed", ":4:5:"),
    ("tag", "version: !!int 1\n", "version: tags are not allowed", ":1:10:"),
    ("two documents", "version: 1\n---\nversion: 1\n", "only one document", ":2:1:"),
    ("bad value", "version: 1\nsystems:\n  - name: Not A Name\n    owner: julia\n",
     "systems[0].name: must be lowercase letters, digits, '.', '_' or '-', starting with a"
     " letter or digit", ":3:5:"),
    ("huge file", "version: 1\ngroups:\n  - name: huge\n    description: %s\n" % ("x" * (1 << 20)),
     "larger than 1 MiB", ":1:1:"),
]


def bad_files_exit_2_and_change_nothing():
    before, writes = W.srv.snapshot(), W.writes()
    for name, text, what, where in BAD:
        path = W.write("bad.yaml", text)
        r = W.apply(path)
        eq(r.returncode, 2, "%s: exit status (%s)" % (name, out(r)))
        expect(what in r.stderr, "%s: stderr names %r:\n%s" % (name, what, out(r)))
        expect(path + where in r.stderr, "%s: stderr gives %s%s:\n%s" % (name, path, where, out(r)))
        expect("nothing was changed" in r.stderr or "larger" in r.stderr, "%s: says so" % name)
        eq(r.stdout, "", "%s: no plan printed" % name)
    # every problem at once
    r = W.apply(W.write("bad.yaml", BAD[2][1].replace("risk_tier: low", "risk_tier: huge")
                        + "    colour: red\n"))
    eq(r.returncode, 2, "several problems (%s)" % out(r))
    for what in ("risk_tier: must be one of", "requestable: must be true or false",
                 "colour: unknown key"):
        expect(what in r.stderr, "all problems reported: %r\n%s" % (what, out(r)))
    ghtest.unchanged(W.srv, before, "bad files")
    eq(W.writes(), writes, "no write for bad files")


# A value the server refuses is refused by apply with the server's own words
# (the domain's field rules): the API route, the body and the same value in a file.
SAME_RULE = [
    ("/v1/groups", {"name": "Not A Name"}, "name",
     "version: 1\ngroups:\n  - name: Not A Name\n", "groups[0].name", ":3:5:"),
    ("/v1/entitlements", {"environment": "Prod"}, "environment",
     "version: 1\nentitlements:\n  - environment: Prod\n", "entitlements[0].environment",
     ":3:5:"),
    ("/v1/entitlements", {"tags": ["Pci!"]}, "tags",
     "version: 1\nentitlements:\n  - tags: [Pci!]\n", "entitlements[0].tags[0]", ":3:12:"),
    ("/v1/delegations", {"reason": "", "tag": "pci"}, "reason",
     "version: 1\ndelegations:\n  - reason: ''\n    tag: pci\n", "delegations[0].reason",
     ":3:5:"),
]


def bad_values_are_refused_in_the_servers_words():
    before, writes = W.srv.snapshot(), W.writes()
    for route, body, field, text, path, where in SAME_RULE:
        r = W.srv.post(route, body)
        eq(r.status, 400, "%s %r: the server refuses it" % (route, body))
        reasons = [e.get("reason") or e.get("detail") or e.get("message")
                   for e in (r.json or {}).get("errors", []) if e.get("field") == field]
        expect(len(reasons) == 1 and reasons[0], "%s: one reason for %s: %s" % (route, field, r.text))
        if not reasons or not reasons[0]:
            continue
        # a tag's reason names the value first: "\"Pci!\" must be ..."
        words = reasons[0].split('" ', 1)[1] if field == "tags" else reasons[0]
        fpath = W.write("same-rule.yaml", text)
        a = W.apply(fpath)
        eq(a.returncode, 2, "%s: exit status (%s)" % (path, out(a)))
        expect("%s%s %s: %s" % (fpath, where, path, words) in a.stderr,
               "apply says %r at %s%s %s:\n%s" % (words, fpath, where, path, out(a)))
    ghtest.unchanged(W.srv, before, "refused values")
    eq(W.writes(), writes, "no write for refused values")


def plan_problems_exit_1_before_any_write():
    before, writes = W.srv.snapshot(), W.writes()
    text = ("version: 1\n"
            "groups:\n  - name: fresh-group\n    members: [nobody-at-all]\n"
            "systems:\n  - name: fresh-system\n    owner: no-such-owner\n"
            "entitlements:\n  - system: k8s-prod\n    name: deployer\n    risk_tier: medium\n"
            "    data_sensitivity: confidential\n    environment: staging\n"
            "    control_owner_group: platform-owners\n    max_duration: 2h\n"
            "  - system: no-such-system\n    name: x\n    risk_tier: low\n"
            "    data_sensitivity: internal\n    environment: prod\n"
            "    control_owner_group: platform-owners\n    max_duration: 1h\n")
    path = W.write("plan.yaml", text)
    r = W.apply(path)
    eq(r.returncode, 1, "plan problems exit 1 (%s)" % out(r))
    for what in (path + ":4:15: groups[0].members[0]: no identity named nobody-at-all",
                 "systems[0].owner: no identity named no-such-owner",
                 "entitlements[0].environment: is prod on the server",
                 "entitlements[1].system: no system named no-such-system",
                 "nothing was changed"):
        expect(what in r.stderr, "names %r:\n%s" % (what, out(r)))
    ghtest.unchanged(W.srv, before, "a refused plan")
    eq(W.writes(), writes, "no write for a refused plan")


def refused_call_stops_the_run():
    # the server refuses a nesting cycle: the second membership step fails
    text = ("version: 1\ngroups:\n  - name: cycle-a\n    members: [{group: cycle-b}]\n"
            "  - name: cycle-b\n    members: [{group: cycle-a}]\n"
            "systems:\n  - name: never-created\n    owner: julia\n")
    r = W.apply(W.write("cycle.yaml", text))
    eq(r.returncode, 1, "a refused call exits 1 (%s)" % out(r))
    expect("apply stopped at: ~ group cycle-b (3 of 5 changes applied before it)" in r.stderr,
           "says where it stopped:\n%s" % out(r))
    expect("gatehouse: group cycle-a already contains group cycle-b" in r.stderr,
           "prints the problem's detail:\n%s" % out(r))
    eq(W.srv.get("/v1/systems/never-created").status, 404, "later steps did not run")
    eq([m["name"] for m in W.group("cycle-a")["members"]], ["cycle-b"], "earlier steps ran")

    # a token that may read but not write: refused at the first write
    uma = status(W.srv.get("/v1/identities/uma"), 200)
    r = W.apply(W.write("ro.yaml", "version: 1\ngroups:\n  - name: auditors-own\n"),
                token=W.srv.token_for(uma, "uma-apply"))
    eq(r.returncode, 1, "a read-only token (%s)" % out(r))
    expect("needs one of the roles admin, iam; you are uma (auditor)" in r.stderr,
           "the 403 says which roles and who the caller is:\n%s" % out(r))


def usage_errors_exit_2():
    r = W.srv.cli("apply", "--url", W.url())
    eq(r.returncode, 2, "apply without -f (%s)" % out(r))
    r = W.srv.cli("apply", "-f", EXAMPLE, "--colour", "red")
    eq(r.returncode, 2, "unknown option (%s)" % out(r))
    expect("--colour" in r.stderr, "names the option")
    r = W.srv.cli("apply", "-f", os.path.join(W.dir, "missing.yaml"))
    eq(r.returncode, 2, "missing file (%s)" % out(r))
    r = W.srv.cli("apply", "-f", EXAMPLE, "--url", "http://127.0.0.1:%d" % ghtest.free_port(),
                  "--token", W.srv.token)
    eq(r.returncode, 2, "unreachable server (%s)" % out(r))
    expect("cannot reach" in r.stderr, "says the server cannot be reached:\n%s" % out(r))
    r = W.srv.cli("apply", "--help")
    eq(r.returncode, 0, "apply --help")
    expect("gatehouse apply -f FILE.yaml" in r.stdout, "usage text")
    # the server from the environment, as for every client command
    r = W.srv.cli("apply", "-f", os.path.join(W.dir, "catalog.yaml"), "--dry-run",
                  env={"GATEHOUSE_SERVER": W.url(), "GATEHOUSE_TOKEN": W.srv.token})
    eq(r.returncode, 0, "server and token from the environment (%s)" % out(r))


def body(t, binary):
    if not t.case("gatehouse demo seeds the server", seed, t, binary):
        return
    t.case("--dry-run prints the diff and changes nothing", dry_run_prints_the_diff_and_changes_nothing)
    if not t.case("examples/catalog.yaml applies cleanly", example_applies_cleanly):
        return
    t.case("applying the same file again makes no write", reapply_is_a_no_op)
    t.case("an edited file updates exactly the changed fields",
           edited_file_updates_exactly_the_changed_fields)
    t.case("a policy text is proposed once, never activated", policy_is_proposed_once)
    t.case("bad files exit 2, name path and line:column, change nothing",
           bad_files_exit_2_and_change_nothing)
    t.case("a value the server refuses, apply refuses in the server's words",
           bad_values_are_refused_in_the_servers_words)
    t.case("server-side plan problems exit 1 before any write", plan_problems_exit_1_before_any_write)
    t.case("a refused call stops the run with exit 1", refused_call_stops_the_run)
    t.case("usage errors exit 2", usage_errors_exit_2)


if __name__ == "__main__":
    ghtest.main(body)
