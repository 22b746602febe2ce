#!/usr/bin/env python3
"""test_trust_connectors.py - the operator alone decides what the server may
touch (issue 10, part 1), end to end with an `iam` token (not admin):

- a system on an exec "connector" with its own command, created or PATCHed
  through the API, is refused (the field named), no program runs, nothing
  changes;
- an ldap or postgres system naming a secret file (the signing key) and the
  attacker's listener is refused; the listener gets no connection;
- a webhook instance pointed at a loopback listener without
  allow_private_addresses: the job fails, the listener gets no connection;
  with it, a 500 answer's body never reaches last_error;
- pasted secrets are refused and echoed nowhere (answer, GET, audit);
- a requester reads systems without connector_settings;
- serve refuses a bad configuration file, naming FILE:LINE:COLUMN, and exits 2."""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, poll, problem, status, unchanged  # noqa: E402

SECRET_MARK = "hunter2 is the password!"
BODY_MARK = "INTERNAL-REPLY-7f3a9c"


class Listener:
    """A TCP listener on loopback that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


class Failing(http.server.BaseHTTPRequestHandler):
    """Answers every POST with 500 and a marked body."""
    hits = 0

    def do_POST(self):  # noqa: N802
        Failing.hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = (BODY_MARK + "\nsecret internal data").encode()
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class World:
    pass


def write_config(w):
    w.keyfile = os.path.join(w.dir, "hook.key")
    with open(w.keyfile, "w") as f:
        f.write("hook-secret\n")
    w.config = os.path.join(w.dir, "gatehouse.yaml")
    with open(w.config, "w") as f:
        f.write("""secrets:
  hook-key: {file: %s}
connectors:
  provision:
    kind: exec
    command: [/bin/true]
  hooks-closed:
    kind: webhook
    url: http://127.0.0.1:%d/hook
    secret: hook-key
  hooks-open:
    kind: webhook
    url: http://127.0.0.1:%d/hook
    secret: hook-key
    allow_private_addresses: true
""" % (w.keyfile, w.closed.port, w.open_port))


def setup(r, binary):
    w = World()
    w.closed = Listener()
    w.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    w.open_port = w.httpd.server_address[1]
    threading.Thread(target=w.httpd.serve_forever, daemon=True).start()
    w.srv = r.server(binary, name="trust")
    w.dir = w.srv.dir
    write_config(w)
    w.srv.serve_args = ["--config", w.config, "--workers", "1"]
    w.srv.start()
    w.owner = w.srv.human("owner", ["approver"])
    w.iam_ident, w.iam = w.srv.user("mallory", ["iam", "requester"])
    w.req_ident, w.req = w.srv.user("rita", ["requester"])
    w.aud_ident, w.aud = w.srv.user("audrey", ["auditor"])
    w.group = w.srv.group("owners", [w.owner])
    w.sys = w.srv.system("billing", w.owner["id"])
    w.pwned = os.path.join(w.dir, "PWNED")
    return w


def exec_create_refused(w):
    before = w.srv.snapshot()
    resp = w.srv.post("/v1/systems", {
        "name": "evil", "owner": w.owner["id"], "connector": "exec",
        "connector_settings": {"command": ["/bin/sh", "-c", "id > %s" % w.pwned]}},
        token=w.iam)
    problem(resp, 400, field="connector")
    expect("provision" in resp.text, "the refusal lists the configured instances: %s"
           % resp.text[:300])
    resp = w.srv.post("/v1/systems", {
        "name": "evil", "owner": w.owner["id"], "connector": "provision",
        "connector_settings": {"command": ["/bin/sh", "-c", "id > %s" % w.pwned]}},
        token=w.iam)
    problem(resp, 400, field="connector_settings.command")
    unchanged(w.srv, before, "an exec system with its own command")
    expect(not os.path.exists(w.pwned), "no program ran")


def exec_patch_refused(w):
    before = w.srv.snapshot()
    for body, field in (({"connector": "exec", "connector_settings":
                          {"command": ["/bin/sh", "-c", "id > %s" % w.pwned]}}, "connector"),
                        ({"connector": "provision", "connector_settings":
                          {"command": ["/bin/sh", "-c", "id > %s" % w.pwned]}},
                         "connector_settings.command"),
                        ({"connector": "provision", "connector_settings":
                          {"timeout": "600s"}}, "connector_settings.timeout")):
        problem(w.srv.patch("/v1/systems/billing", body, token=w.iam), 400, field=field)
    unchanged(w.srv, before, "PATCHing a system to run a program")
    expect(not os.path.exists(w.pwned), "no program ran")


def secret_exfiltration_refused(w):
    listener = Listener()
    try:
        keyref = "file:" + w.srv.key_path
        before = w.srv.snapshot()
        for conn, settings, field in (
                ("ldap", {"url": "ldap://127.0.0.1:%d" % listener.port,
                          "bind_dn": "cn=x,dc=example,dc=org", "password_ref": keyref,
                          "member_dn_template": "uid={account},dc=example,dc=org"},
                 "connector"),
                ("postgres", {"conninfo": "host=127.0.0.1 port=%d dbname=x user=x"
                              % listener.port, "password_ref": keyref}, "connector"),
                ("hooks-closed", {"secret_ref": keyref}, "connector_settings.secret_ref"),
                ("hooks-closed", {"password_ref": "env:HOME"},
                 "connector_settings.password_ref")):
            resp = w.srv.post("/v1/systems", {"name": "exfil", "owner": w.owner["id"],
                                              "connector": conn,
                                              "connector_settings": settings}, token=w.iam)
            problem(resp, 400, field=field)
        unchanged(w.srv, before, "systems naming a secret file")
        eq(listener.connections, 0, "connections the attacker's listener got")
    finally:
        listener.close()


def pasted_secrets_refused(w):
    before = w.srv.snapshot()
    for settings in ({"password_ref": "env:" + SECRET_MARK},
                     {"password_ref": "file:relative" + SECRET_MARK},
                     {"password": SECRET_MARK}, {"account_attribute": "uid",
                                                 "secret": SECRET_MARK}):
        resp = w.srv.post("/v1/systems", {"name": "pasted", "owner": w.owner["id"],
                                          "connector": "hooks-closed",
                                          "connector_settings": settings}, token=w.iam)
        problem(resp, 400)
        expect(SECRET_MARK not in resp.text and "hunter2" not in resp.text,
               "the pasted secret is echoed: %s" % resp.text[:400])
        resp = w.srv.patch("/v1/systems/billing", {"connector_settings": settings},
                           token=w.iam)
        problem(resp, 400)
        expect("hunter2" not in resp.text, "echoed on PATCH: %s" % resp.text[:400])
    unchanged(w.srv, before, "pasted secrets")
    expect("hunter2" not in json.dumps(w.srv.list_all("/v1/systems")), "stored")
    expect("hunter2" not in json.dumps(w.srv.audit_events()), "audited")


def requester_reads_no_settings(w):
    status(w.srv.post("/v1/systems", {"name": "hooked", "owner": w.owner["id"],
                                      "connector": "hooks-closed"}), 201)
    # per-system parameters a kind allows: postgres and ldap take account_attribute
    items = status(w.srv.get("/v1/systems?limit=500", token=w.req), 200)["items"]
    expect(items, "the requester lists systems")
    for s in items:
        expect("connector_settings" not in s, "a requester reads connector_settings: %r" % s)
        expect("connector" in s, "the connector instance stays visible")
    one = status(w.srv.get("/v1/systems/billing", token=w.req), 200)
    expect("connector_settings" not in one, "GET one: %r" % one)
    for tok in (w.aud, w.iam):
        one = status(w.srv.get("/v1/systems/billing", token=tok), 200)
        eq(one.get("connector_settings"), {}, "admin/iam/auditor read the settings")


def job_of(w, req):
    gid = ghtest.grant_id_of(req)
    expect(gid, "the request has a grant: %r" % req)

    def done():
        jobs = status(w.srv.get("/v1/jobs?grant=%s" % gid), 200)["items"]
        for j in jobs:
            if j.get("state") == "failed" or (j.get("attempts", 0) >= 1 and
                                              j.get("last_error")):
                return j
        return None
    return poll(done, 20, "a failed attempt of the grant's job")


def webhook_loopback_refused(w):
    sysdoc = status(w.srv.patch("/v1/systems/hooked", {}), 200)
    ent = w.srv.entitlement(sysdoc["id"], "hook-read", "low", "8h", w.group["id"],
                            attributes={"target": "read"})
    req = w.srv.request(w.req_ident["id"], ent["id"], token=w.req)
    job = job_of(w, req)
    eq(job["state"], "failed", "a refused destination fails the job")
    expect("allow_private_addresses" in job["last_error"], "last_error says why: %r"
           % job["last_error"])
    eq(w.closed.connections, 0, "connections the loopback listener got")


def webhook_body_not_echoed(w):
    status(w.srv.post("/v1/systems", {"name": "hooked-open", "owner": w.owner["id"],
                                      "connector": "hooks-open"}), 201)
    ent = w.srv.entitlement("hooked-open", "hook-open-read", "low", "8h", w.group["id"],
                            attributes={"target": "read"})
    req = w.srv.request(w.req_ident["id"], ent["id"], token=w.req)
    job = job_of(w, req)
    expect(Failing.hits >= 1, "the receiver was called (allowed by the instance)")
    expect("500" in job["last_error"], "the status is kept: %r" % job["last_error"])
    expect(BODY_MARK not in job["last_error"], "the reply body reached last_error: %r"
           % job["last_error"])
    for tok in (w.aud, w.iam):
        jobs = w.srv.get("/v1/jobs?limit=500", token=tok)
        expect(BODY_MARK not in jobs.text, "the reply body is readable")
    expect(BODY_MARK not in json.dumps(w.srv.audit_events()), "the reply body is audited")


def bad_config_refused(w, binary):
    bad = os.path.join(w.dir, "bad.yaml")
    with open(bad, "w") as f:
        f.write("connectors:\n  x:\n    kind: exec\n    command: [sh]\n    shell: yes\n"
                "  y:\n    kind: webhook\n    url: http://h/\n    secret: nope\n"
                "colour: blue\n")
    r = subprocess.run([binary, "--db", w.srv.db, "serve", "--listen", "127.0.0.1:0",
                        "--config", bad], capture_output=True, text=True, timeout=30)
    eq(r.returncode, 2, "serve exit status with a bad configuration")
    for want in ("%s:4:" % bad, "%s:5:" % bad, "%s:9:" % bad, "%s:10:" % bad):
        expect(want in r.stderr, "%r in: %s" % (want, r.stderr))
    expect("serving" not in r.stdout, "the server did not start")


def body(r, binary):
    w = setup(r, binary)
    try:
        r.case("exec through API create refused", exec_create_refused, w)
        r.case("exec through PATCH refused", exec_patch_refused, w)
        r.case("secret file exfiltration refused", secret_exfiltration_refused, w)
        r.case("pasted secrets refused, not echoed", pasted_secrets_refused, w)
        r.case("requester reads no connector_settings", requester_reads_no_settings, w)
        r.case("webhook to loopback refused at connect", webhook_loopback_refused, w)
        r.case("webhook reply body not echoed", webhook_body_not_echoed, w)
        r.case("bad configuration refused at start", bad_config_refused, w, binary)
    finally:
        w.closed.close()
        w.httpd.shutdown()


if __name__ == "__main__":
    ghtest.main(body)
