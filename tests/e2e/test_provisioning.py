#!/usr/bin/env python3
"""test_provisioning.py - provisioning through the outbox over HTTP against a
real server with workers: a grant of a connected system waits 'provisioning'
while its job is attempted (each attempt audited) and retried, revoking it
cancels the job and writes a revoke job, the jobs and findings APIs with
their bad input, reconciliation refusals, connector settings checks, and the
CLI (jobs list, jobs run-once, reconcile).

The connected system uses the exec connector with a command that fails
(/bin/false), so the test needs no downstream server; the whole path against
real PostgreSQL and slapd is assembled by the coordinator."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, poll, problem, status  # noqa: E402


class World:
    """Everything the cases share."""


def setup(srv, w):
    srv.start()
    w.owner = srv.human("owner-olga", ["requester"])
    w.appr, w.appr_tok = srv.user("appr-ana", ["approver"])
    w.rita, w.rita_tok = srv.user("req-rita", ["requester"])
    w.aud, w.aud_tok = srv.user("aud-al", ["auditor"])
    w.owners = srv.group("ctl-owners", [w.appr])
    w.sys = srv.system("billing", w.owner["id"])
    eq(w.sys["connector_settings"], {}, "a manual system has no settings")
    w.ent = srv.entitlement(w.sys["id"], "read-only", "low", "1h", w.owners["id"],
                            attributes={"target": "billing_ro"})
    # connected to the operator's exec instance, whose command always fails
    # pointing a system at another connector instance weakens a control: four eyes
    w.sys = srv.confirm(status(srv.patch("/v1/systems/billing", {"connector": "failing"}), 202))
    eq(w.sys["connector"], "failing", "the system names the instance")


def provisioning_waits(srv, w):
    req = srv.request(w.rita["id"], w.ent["id"], token=w.rita_tok)
    eq(req["state"], "provisioning", "request state")
    w.req = req
    w.grant = ghtest.grant_id_of(req)
    gr = status(srv.get("/v1/grants/" + w.grant), 200)
    eq(gr["status"], "provisioning", "grant status")
    eq(gr["provisioning"]["status"], "pending", "provisioning status")
    jobs = status(srv.get("/v1/jobs?grant=" + w.grant), 200)["items"]
    eq(len(jobs), 1, "one grant job")
    w.job = jobs[0]
    eq((w.job["op"], w.job["account"], w.job["target"]), ("grant", "req-rita", "billing_ro"),
       "job")

    def attempted():
        j = status(srv.get("/v1/jobs/" + w.job["id"]), 200)
        return j if j["attempts"] >= 1 and j["last_error"] else None
    j = poll(attempted, 10, "the worker attempts the job")
    eq(j["state"], "pending", "a failed grant job waits for its retry")
    events = [e for e in srv.audit_events(object_id=w.job["id"])
              if e["action"] == "connector.attempt"]
    expect(events and events[0]["details"]["ok"] is False, "attempt audited: %r" % events)
    gr = status(srv.get("/v1/grants/" + w.grant), 200)
    eq(gr["status"], "provisioning", "never shown as active")
    expect(gr["provisioning"]["attempts"] >= 1, "attempts on the grant")
    active = status(srv.get("/v1/grants?status=active"), 200)["items"]
    eq(active, [], "no active grant")
    prov = status(srv.get("/v1/grants?status=provisioning"), 200)["items"]
    eq([g["id"] for g in prov], [w.grant], "listed as provisioning")


def retry_and_revoke(srv, w):
    j = status(srv.post("/v1/jobs/%s/retry" % w.job["id"]), 200)
    eq(j["state"], "pending", "retried job")
    problem(srv.post("/v1/jobs/%s/retry" % w.job["id"], token=w.aud_tok), 403)
    gr = status(srv.post("/v1/grants/%s/revoke" % w.grant, {"reason": "not needed"}), 200)
    eq(gr["status"], "revoked", "revoked while provisioning")
    eq(gr["provisioning_status"], "removing", "removal pending")
    req = status(srv.get("/v1/requests/" + w.req["id"]), 200)
    eq(req["state"], "revoked", "request state")

    def settled():
        jobs = {x["op"]: x for x in status(srv.get("/v1/jobs?grant=" + w.grant), 200)["items"]}
        if jobs.get("grant", {}).get("state") == "cancelled" and \
                jobs.get("revoke", {}).get("attempts", 0) >= 1:
            return jobs
        return None
    jobs = poll(settled, 10, "grant job cancelled, revoke job attempted")
    eq(jobs["revoke"]["state"], "pending", "a revoke job is retried until confirmed")
    problem(srv.post("/v1/jobs/%s/retry" % jobs["grant"]["id"]), 409)


def jobs_bad_input(srv, w):
    before = srv.snapshot()
    problem(srv.get("/v1/jobs?state=bogus"), 400, field="state")
    problem(srv.get("/v1/jobs?system=nosuch"), 400, field="system")
    problem(srv.get("/v1/jobs?grant=x"), 400, field="grant")
    problem(srv.get("/v1/jobs?color=red"), 400, field="color")
    problem(srv.get("/v1/jobs?limit=0"), 400, field="limit")
    problem(srv.get("/v1/jobs", token=w.rita_tok), 403)
    problem(srv.get("/v1/jobs/job_nosuch"), 404)
    problem(srv.post("/v1/jobs/job_nosuch/retry"), 404)
    problem(srv.post("/v1/jobs/%s/retry" % w.job["id"], {"now": True}), 400)
    problem(srv.get("/v1/findings?kind=odd&status=weird"), 400, field=["kind", "status"])
    problem(srv.get("/v1/findings?system=nosuch"), 400, field="system")
    problem(srv.get("/v1/findings", token=w.rita_tok), 403)
    eq(status(srv.get("/v1/findings", token=w.aud_tok), 200)["items"], [], "no findings")
    problem(srv.post("/v1/systems/billing/reconcile", {"revoke_shadow": "yes"}), 400,
            field="revoke_shadow")
    problem(srv.post("/v1/systems/billing/reconcile", {"x": 1}), 400, field="x")
    problem(srv.post("/v1/systems/billing/reconcile", {}, token=w.aud_tok), 403)
    problem(srv.post("/v1/systems/nosuch/reconcile", {}), 404)
    ghtest.unchanged(srv, before, "refused calls")


def reconcile_refused(srv, w):
    manual = srv.system("wiki", w.owner["id"])
    before = srv.snapshot()
    doc = problem(srv.post("/v1/systems/%s/reconcile" % manual["id"], {}), 409)
    expect("cannot read access back" in doc.get("detail", ""), "detail: %r" % doc)
    doc = problem(srv.post("/v1/systems/billing/reconcile"), 409)
    expect("failing cannot read access back" in doc.get("detail", ""), "detail: %r" % doc)
    ghtest.unchanged(srv, before, "refused reconciliation")


def settings_checked(srv, w):
    before = srv.snapshot()
    problem(srv.post("/v1/systems", {"name": "pg", "owner": w.owner["id"],
                                     "connector": "nosuch"}), 400, field="connector")
    doc = problem(srv.post("/v1/systems", {"name": "pg", "owner": w.owner["id"],
                                           "connector": "postgres"}), 400, field="connector")
    expect("failing" in json.dumps(doc), "the configured instances are listed: %r" % doc)
    doc = problem(srv.post("/v1/systems", {"name": "pg", "owner": w.owner["id"],
                                           "connector": "failing",
                                           "connector_settings": {"password": "s3cret"}}), 400,
                  field="connector_settings.password")
    expect("s3cret" not in json.dumps(doc), "the secret is not echoed")
    problem(srv.patch("/v1/systems/billing", {"connector_settings": {
        "command": ["/bin/true"]}}), 400, field="connector_settings.command")
    problem(srv.post("/v1/systems", {"name": "pg", "owner": w.owner["id"],
                                     "connector_settings": []}), 400, field="connector_settings")
    problem(srv.post("/v1/systems", {"name": "pg", "owner": w.owner["id"],
                                     "connector": "credential",
                                     "connector_settings": {"a": 1}}), 400,
            field="connector_settings")
    problem(srv.patch("/v1/systems/billing", {"connector_settings": None}), 400,
            field="connector_settings")
    problem(srv.post("/v1/entitlements", {
        "system": w.sys["id"], "name": "no-target", "risk_tier": "low",
        "data_sensitivity": "internal", "environment": "prod",
        "control_owner_group": w.owners["id"], "max_duration": "1h"}), 400,
        field="attributes.target")
    problem(srv.patch("/v1/entitlements/" + w.ent["id"], {"attributes": {"target": ""}}), 400,
            field="attributes.target")
    ghtest.unchanged(srv, before, "refused settings")
    sysdoc = status(srv.get("/v1/systems/billing"), 200)
    eq(sysdoc["connector_settings"], {}, "the program stays in the configuration")


def cli(srv, w):
    env = {"GATEHOUSE_SERVER": "http://127.0.0.1:%d" % srv.port, "GATEHOUSE_TOKEN": srv.token}
    r = srv.cli("jobs", "list", "--grant", w.grant, "--json", env=env)
    eq(r.returncode, 0, "jobs list: " + r.stderr)
    eq(len(json.loads(r.stdout)["items"]), 2, "two jobs for the grant")
    r = srv.cli("jobs", "get", w.job["id"], env=env)
    eq(r.returncode, 0, "jobs get: " + r.stderr)
    expect(w.job["id"] in r.stdout, "jobs get shows the job")
    r = srv.cli("jobs", "run-once", env=env)
    eq(r.returncode, 0, "jobs run-once: " + r.stderr)
    expect("run" in r.stdout, "run-once reports: %r" % r.stdout)
    r = srv.cli("jobs", "run-once", "--max", "0", env=env)
    eq(r.returncode, 2, "bad --max")
    r = srv.cli("reconcile", "billing", env=env)
    expect(r.returncode != 0 and "cannot read access back" in r.stderr,
           "reconcile refused: %d %r" % (r.returncode, r.stderr))
    r = srv.cli("findings", "list", "--json", env=env)
    eq(r.returncode, 0, "findings list: " + r.stderr)


def body(runner, binary):
    w = World()
    srv = runner.server(binary)
    config = os.path.join(srv.dir, "gatehouse.yaml")
    with open(config, "w") as f:
        f.write("connectors:\n  failing:\n    kind: exec\n    command: [/bin/false]\n")
    srv.serve_args = ["--workers", "2", "--reconcile-every", "1h", "--config", config]
    if not runner.case("setup", setup, srv, w):
        return
    if runner.case("connected grant waits for its job", provisioning_waits, srv, w):
        runner.case("retry, and revoke while provisioning", retry_and_revoke, srv, w)
        runner.case("cli: jobs, run-once, reconcile", cli, srv, w)
    runner.case("jobs and findings refuse bad input", jobs_bad_input, srv, w)
    runner.case("reconciliation refused without read-back", reconcile_refused, srv, w)
    runner.case("connector settings checked", settings_checked, srv, w)


if __name__ == "__main__":
    ghtest.main(body)
