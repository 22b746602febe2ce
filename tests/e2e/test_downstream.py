#!/usr/bin/env python3
"""test_downstream.py - provisioning that really happens (issue 5), end to end:
a real `gatehouse serve` with workers, a real PostgreSQL server and a real
OpenLDAP slapd, each started here on loopback (tests/support/*.sh).

- request, approval, the role membership / group member present downstream,
  expiry, and removed downstream, without anyone acting;
- PostgreSQL stopped during a revocation: the revoke job is retried (each
  attempt audited) until the server is back, then the membership is gone;
- shadow access added directly downstream (PostgreSQL and LDAP) is found by
  reconciliation and revoked on request; a governed grant whose access was
  removed behind Gatehouse's back is provisioned again."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, poll, status  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG = os.path.join(ROOT, "tests", "support", "pg_server.sh")
SLAPD = os.path.join(ROOT, "tests", "support", "slapd_server.sh")
BASE = "dc=example,dc=org"
DEVELOPERS = "cn=developers,ou=groups," + BASE
OPERATORS = "cn=operators,ou=groups," + BASE


class World:
    """Everything the cases share."""


def sh(*args, timeout=60):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    expect(r.returncode == 0, "%s exited %d: %s %s" % (" ".join(args), r.returncode,
                                                        r.stdout[-500:], r.stderr[-1500:]))
    return r.stdout


def printed(text):
    """key=value lines into a dict."""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def psql(w, sql):
    return sh(PG, "psql", w.pgdir, sql).strip()


def pg_members(w, role):
    """The logins that are members of role, sorted."""
    rows = psql(w, "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid"
                   " JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = '%s'"
                   " ORDER BY 1" % role)
    return [x for x in rows.splitlines() if x]


def ldap_members(w, group):
    out = sh("ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", w.ldap["url"], "-D",
             w.ldap["bind_dn"], "-y", w.ldap["password_file"], "-b", group, "-s", "base",
             "member")
    return sorted(line.split(":", 1)[1].strip() for line in out.splitlines()
                  if line.lower().startswith("member:"))


def ldap_modify(w, group, change, member):
    ldif = "dn: %s\nchangetype: modify\n%s: member\nmember: %s\n" % (group, change, member)
    r = subprocess.run(["ldapmodify", "-x", "-H", w.ldap["url"], "-D", w.ldap["bind_dn"],
                        "-y", w.ldap["password_file"]], input=ldif, capture_output=True,
                       text=True, timeout=30)
    expect(r.returncode == 0, "ldapmodify: %s" % r.stderr[-500:])


def setup_servers(w):
    w.tmp = tempfile.mkdtemp(prefix="gh-down-")
    os.chmod(w.tmp, 0o711)      # PostgreSQL runs as nobody when the test runs as root
    w.pgdir = os.path.join(w.tmp, "pg")
    w.ldapdir = os.path.join(w.tmp, "ldap")
    os.mkdir(w.pgdir)
    os.mkdir(w.ldapdir)
    # atexit runs last-registered first: stop the servers, then remove their files
    atexit.register(lambda: shutil.rmtree(w.tmp, ignore_errors=True))
    atexit.register(lambda: subprocess.run([PG, "stop", w.pgdir], capture_output=True))
    atexit.register(lambda: subprocess.run([SLAPD, "stop", w.ldapdir], capture_output=True))
    w.pg = printed(sh(PG, "start", w.pgdir))
    w.ldap = printed(sh(SLAPD, "start", w.ldapdir, str(os.getpid())))
    psql(w, "CREATE ROLE billing_ro NOLOGIN; CREATE ROLE svc_billing LOGIN;"
            " CREATE ROLE intruder LOGIN; CREATE ROLE svc_report LOGIN")


def write_config(path, w):
    """The server configuration: the operator's PostgreSQL and LDAP instances."""
    with open(path, "w") as f:
        f.write("""secrets:
  pg-password: {file: %s}
  ldap-bind: {file: %s}
connectors:
  billing-pg:
    kind: postgres
    conninfo: "%s"
    password_secret: pg-password
    connect_timeout: 2s
    roles: ["billing_*"]
  corp-ldap:
    kind: ldap
    url: %s
    bind_dn: "%s"
    password_secret: ldap-bind
    group_base: "ou=groups,%s"
    member_dn_template: "uid={account},ou=people,%s"
    timeout: 2s
""" % (w.pg["password_file"], w.ldap["password_file"], w.pg["conninfo"], w.ldap["url"],
       w.ldap["bind_dn"], BASE, BASE))


def setup_gatehouse(t, binary, w):
    srv = t.server(binary, name="downstream")
    config = os.path.join(srv.dir, "gatehouse.yaml")
    write_config(config, w)
    srv.serve_args = ["--workers", "2", "--config", config]
    srv.start()
    w.owner = srv.human("owner-olga", ["requester"])
    w.appr, w.appr_tok = srv.user("appr-ana", ["approver"])
    w.owners = srv.group("ctl-owners", [w.appr])
    w.svc = srv.nhi("billing-svc", w.owner["id"], attributes={"pg_login": "svc_billing"})
    w.rep = srv.nhi("report-svc", w.owner["id"], attributes={"pg_login": "svc_report"})
    w.alice = srv.human("alice-h", ["requester"], attributes={"ldap_uid": "alice"})
    w.pgsys = srv.system("billing-db", w.owner["id"], connector="billing-pg",
                         connector_settings={"account_attribute": "pg_login"})
    w.ldapsys = srv.system("corp-ldap", w.owner["id"], connector="corp-ldap",
                           connector_settings={"account_attribute": "ldap_uid"})
    eq(w.pgsys["connector_settings"], {"account_attribute": "pg_login"},
       "a system holds only its own parameters: no conninfo, no secret reference")
    w.pgent = srv.entitlement(w.pgsys["id"], "read-only", "medium", "1h", w.owners["id"],
                              attributes={"target": "billing_ro"})
    w.ldapent = srv.entitlement(w.ldapsys["id"], "developers", "medium", "1h", w.owners["id"],
                                attributes={"target": DEVELOPERS})
    return srv


def approved(srv, w, subject, ent, duration):
    req = srv.request(subject["id"], ent["id"], duration=duration)
    eq(req["state"], "pending_approval", "waits for an approval")
    req = status(srv.post("/v1/requests/%s/approve" % req["id"], {"comment": "ok"},
                          token=w.appr_tok), 200)
    eq(req["state"], "provisioning", "approved, provisioning downstream")
    return req, ghtest.grant_id_of(req)


def wait_grant(srv, grant, field, value, timeout=20):
    def check():
        g = status(srv.get("/v1/grants/" + grant), 200)
        cur = g["status"] if field == "status" else g["provisioning"]["status"]
        return g if cur == value else None
    return poll(check, timeout, "grant %s %s becomes %s" % (grant, field, value))


def pg_whole_path(srv, w):
    req, grant = approved(srv, w, w.svc, w.pgent, "4s")
    expect(pg_members(w, "billing_ro") in ([], ["svc_billing"]), "nothing else downstream")
    g = wait_grant(srv, grant, "status", "active")
    eq(pg_members(w, "billing_ro"), ["svc_billing"], "the role membership exists")
    eq(g["provisioning"]["status"], "done", "provisioned")
    eq(status(srv.get("/v1/requests/" + req["id"]), 200)["state"], "active", "request active")
    acts = [e["action"] for e in srv.audit_events(object_id=grant)]
    expect("grant.provisioned" in acts, "audited: %r" % acts)
    # nobody acts: the grant expires and the worker removes the membership
    g = wait_grant(srv, grant, "provisioning", "removed", timeout=30)
    eq(g["status"], "expired", "expired")
    eq(pg_members(w, "billing_ro"), [], "removed downstream")
    acts = [e["action"] for e in srv.audit_events(object_id=grant)]
    expect("grant.expired" in acts and "grant.deprovisioned" in acts, "audited: %r" % acts)


def ldap_whole_path(srv, w):
    member = "uid=alice,ou=people," + BASE
    expect(member not in ldap_members(w, DEVELOPERS), "alice is not a developer yet")
    _req, grant = approved(srv, w, w.alice, w.ldapent, "4s")
    wait_grant(srv, grant, "status", "active")
    expect(member in ldap_members(w, DEVELOPERS), "the group member exists")
    g = wait_grant(srv, grant, "provisioning", "removed", timeout=30)
    eq(g["status"], "expired", "expired")
    expect(member not in ldap_members(w, DEVELOPERS), "removed downstream")


def pg_down_during_revocation(srv, w):
    _req, grant = approved(srv, w, w.svc, w.pgent, "1h")
    wait_grant(srv, grant, "status", "active")
    eq(pg_members(w, "billing_ro"), ["svc_billing"], "granted")
    sh(PG, "stop", w.pgdir)
    g = status(srv.post("/v1/grants/%s/revoke" % grant, {"reason": "leaver"}), 200)
    eq(g["status"], "revoked", "revoked in Gatehouse at once")

    def failing():
        jobs = [j for j in status(srv.get("/v1/jobs?grant=" + grant), 200)["items"]
                if j["op"] == "revoke"]
        return jobs[0] if jobs and jobs[0]["attempts"] >= 2 else None
    job = poll(failing, 20, "the revoke job fails while PostgreSQL is down")
    eq(job["state"], "pending", "a revoke job is retried, never given up")
    expect(job["last_error"], "the failure is recorded")
    eq(status(srv.get("/v1/grants/" + grant), 200)["provisioning"]["status"], "removing",
       "not removed yet")
    attempts = [e for e in srv.audit_events(object_id=job["id"])
                if e["action"] == "connector.attempt"]
    expect(len(attempts) >= 2 and all(a["details"]["ok"] is False for a in attempts),
           "every attempt audited: %r" % attempts)
    sh(PG, "start", w.pgdir)
    # no manual retry: the backoff brings the job back
    wait_grant(srv, grant, "provisioning", "removed", timeout=40)
    eq(pg_members(w, "billing_ro"), [], "removed once the server is back")


def pg_reconcile(srv, w):
    # a governed grant, then access changed behind Gatehouse's back
    _req, grant = approved(srv, w, w.rep, w.pgent, "1h")
    wait_grant(srv, grant, "status", "active")
    psql(w, "REVOKE billing_ro FROM svc_report; GRANT billing_ro TO intruder")
    eq(pg_members(w, "billing_ro"), ["intruder"], "drifted downstream")
    rep = status(srv.post("/v1/systems/billing-db/reconcile", {}), 200)
    eq([(f["account"], f["target"]) for f in rep["missing"]], [("svc_report", "billing_ro")],
       "the missing grant found")
    eq([(f["account"], f["target"], f["status"]) for f in rep["shadow"]],
       [("intruder", "billing_ro", "open")], "shadow access found, only reported")

    def restored():
        return pg_members(w, "billing_ro") == ["intruder", "svc_report"] or None
    poll(restored, 20, "the missing grant is provisioned again")
    rep = status(srv.post("/v1/systems/billing-db/reconcile", {"revoke_shadow": True}), 200)
    eq(rep["missing"], [], "nothing missing any more")
    eq([(f["account"], f["status"]) for f in rep["shadow"]], [("intruder", "revoking")],
       "revocation of the shadow access requested")

    def revoked():
        return pg_members(w, "billing_ro") == ["svc_report"] or None
    poll(revoked, 20, "the shadow access is revoked downstream")
    fnd = status(srv.get("/v1/findings?system=billing-db&kind=shadow"), 200)["items"]
    expect(any(f["account"] == "intruder" and f["status"] == "revoked" for f in fnd),
           "finding closed: %r" % fnd)
    acts = {e["action"] for e in srv.audit_events()}
    expect({"reconcile.run", "reconcile.finding"} <= acts, "reconciliation audited")
    status(srv.post("/v1/grants/%s/revoke" % grant, {"reason": "done"}), 200)
    wait_grant(srv, grant, "provisioning", "removed")
    eq(pg_members(w, "billing_ro"), [], "clean at the end")


def ldap_shadow(srv, w):
    bob = "uid=bob,ou=people," + BASE
    ldap_modify(w, OPERATORS, "add", bob)
    ops = srv.entitlement(w.ldapsys["id"], "operators", "medium", "1h", w.owners["id"],
                          attributes={"target": OPERATORS})
    rep = status(srv.post("/v1/systems/corp-ldap/reconcile", {"revoke_shadow": True}), 200)
    eq([(f["account"], f["target"]) for f in rep["shadow"]], [("bob", OPERATORS)],
       "the LDAP shadow member found (the placeholder is not an account)")

    def gone():
        return bob not in ldap_members(w, OPERATORS) or None
    poll(gone, 20, "the shadow member is removed from the group")
    expect(ops["id"], "entitlement created")


def body(t, binary):
    w = World()
    t.case("PostgreSQL and slapd started on loopback", setup_servers, w)
    srv = t.case("gatehouse with workers and two connected systems", setup_gatehouse, t,
                 binary, w)
    if not srv or srv is True:
        return
    t.case("PostgreSQL: request, approval, role granted, expiry, removed", pg_whole_path,
           srv, w)
    t.case("LDAP: request, approval, member added, expiry, removed", ldap_whole_path, srv, w)
    t.case("PostgreSQL down during a revocation: retried until back, then removed",
           pg_down_during_revocation, srv, w)
    t.case("PostgreSQL reconciliation: missing re-provisioned, shadow revoked on request",
           pg_reconcile, srv, w)
    t.case("LDAP reconciliation: shadow member revoked on request", ldap_shadow, srv, w)


if __name__ == "__main__":
    ghtest.main(body)
