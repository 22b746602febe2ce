"""test_trust_http.py - hardening of the HTTP front end and of what the server
leaves on disk (issue 10, part 5): per-address connection limit, whole-request
time limit, header and query size limits, database file modes, token expiry
and rotation, and failed authentications slowed and audited.

Every wait is bounded; all traffic goes to 127.0.0.1 (the slow-header flood
comes from 127.0.0.2, another loopback address, so that the per-address limit
applies to it and not to the healthy client).
"""

import os
import socket
import stat
import time

import ghtest
from ghtest import eq, expect, problem, status

SLOW_SOCKETS = 100        # more than the default per-address limit (32)
REQUEST_TIMEOUT = 3       # seconds, for the server started with --request-timeout


def slow_socket(port, source="127.0.0.2"):
    """A connection from source that sent half a header and stops there."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return s


def closed_by_server(s, timeout):
    """True when the server closed s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout)
    try:
        return s.recv(1024) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


# --- connections ----------------------------------------------------------------

def slow_headers_from_one_address(srv):
    socks = []
    try:
        for _ in range(SLOW_SOCKETS):
            try:
                socks.append(slow_socket(srv.port))
            except OSError:
                pass  # refused at connect: the limit at work too
        # the healthy client on another address is served at once, every time
        for i in range(5):
            r, took = timed(lambda: srv.call("GET", "/healthz", token=None, timeout=5))
            status(r, 200, "healthz %d while %d slow sockets are open" % (i, len(socks)))
            expect(took < 3, "healthz took %.1f s" % took)
        # the address holds at most 32 of them: the rest were closed at once
        closed = 0
        deadline = time.monotonic() + 5
        for s in socks:
            if closed_by_server(s, max(0.05, min(0.5, deadline - time.monotonic()))):
                closed += 1
        closed += SLOW_SOCKETS - len(socks)
        expect(closed >= SLOW_SOCKETS - 32,
               "only %d of %d connections from one address were refused (limit 32)"
               % (closed, SLOW_SOCKETS))
        expect(closed < SLOW_SOCKETS, "every connection was refused, even under the limit")
    finally:
        for s in socks:
            s.close()


def slow_sender_is_cut_off(srv):
    """A byte every half second never lets the idle timeout fire; the whole
    request's deadline (3 s here) closes the connection."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        t0 = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        cut = None
        for _ in range(int((REQUEST_TIMEOUT + 5) / 0.5)):
            try:
                s.sendall(b"X")
            except OSError:
                cut = time.monotonic() - t0
                break
            if closed_by_server(s, 0.5):
                cut = time.monotonic() - t0
                break
        expect(cut is not None, "a slow sender was still connected after %d s"
               % (REQUEST_TIMEOUT + 5))
        expect(REQUEST_TIMEOUT - 0.5 <= cut <= REQUEST_TIMEOUT + 2,
               "cut off after %.1f s, expected about %d s" % (cut, REQUEST_TIMEOUT))
    finally:
        s.close()


def slow_body_is_cut_off(srv):
    """The limit runs to the end of the upload: a body trickled in is cut too,
    and nothing of it reaches the domain."""
    before = srv.snapshot()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        t0 = time.monotonic()
        s.sendall(b"POST /v1/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  srv.token.encode() + b"\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 200\r\n\r\n{\"name\":\"")
        cut = None
        for _ in range(int((REQUEST_TIMEOUT + 5) / 0.5)):
            try:
                s.sendall(b"a")
            except OSError:
                cut = time.monotonic() - t0
                break
            if closed_by_server(s, 0.5):
                cut = time.monotonic() - t0
                break
        expect(cut is not None and cut <= REQUEST_TIMEOUT + 2,
               "a trickled body was not cut off in time (%r)" % cut)
    finally:
        s.close()
    ghtest.unchanged(srv, before, "a cut-off upload")


def kept_alive_connection_gets_a_fresh_deadline(srv):
    """Two requests on one connection, the second after most of the timeout
    has passed since the connection began: both are answered."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        eq(r.status, 200, "first request")
        time.sleep(REQUEST_TIMEOUT * 0.6)
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        eq(r.status, 200, "second request on the kept-alive connection")
        time.sleep(REQUEST_TIMEOUT * 0.6)
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        eq(r.status, 200, "third request, past the timeout counted from the connection's start")
    finally:
        conn.close()


# --- sizes ------------------------------------------------------------------------

def many_query_parameters(srv):
    before = srv.snapshot()
    query = "&".join("a%d=1" % i for i in range(600))
    r, took = timed(lambda: srv.call("GET", "/v1/identities?" + query, token=None, timeout=5))
    expect(took < 2, "600 query parameters took %.1f s to be answered" % took)
    doc = problem(r, 414, problem_code="uri_too_long")
    expect("600" in doc.get("detail", ""), "detail names the count: %r" % doc)
    ghtest.unchanged(srv, before, "600 query parameters")
    # the connection's memory is fine afterwards: a normal call works
    status(srv.get("/v1/identities?limit=5"), 200)


def oversized_headers(srv):
    before = srv.snapshot()
    r, took = timed(lambda: srv.call("GET", "/v1/identities", token=None, timeout=5,
                                     headers={"X-Big": "a" * 20000}))
    expect(took < 2, "a 20 KB header took %.1f s" % took)
    doc = problem(r, 431, problem_code="header_too_large")
    expect("16384" in doc.get("detail", ""), "detail names the limit: %r" % doc)
    # far beyond the connection's memory, libmicrohttpd answers 431 itself
    out, took = timed(lambda: ghtest.raw_exchange(
        srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300000 + b"\r\n\r\n",
        timeout=5, half_close=False))
    expect(took < 3, "a 300 KB header took %.1f s" % took)
    expect(out.startswith(b"HTTP/1.1 431"), "300 KB header: %r" % out[:120])
    # a long request target
    r = srv.call("GET", "/v1/identities/" + "a" * 20000, token=None, timeout=5)
    problem(r, 414, problem_code="uri_too_long")
    ghtest.unchanged(srv, before, "oversized headers")
    status(srv.get("/v1/identities?limit=5"), 200)


# --- files --------------------------------------------------------------------------

def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def database_files_are_owner_only(srv, binary):
    # serve wrote since it started: its -wal and -shm exist now
    status(srv.post("/v1/groups", {"name": "modes"}), 201)
    for suffix in ("", "-wal", "-shm"):
        path = srv.db + suffix
        expect(os.path.exists(path), "%s exists" % path)
        eq(oct(mode_of(path)), oct(0o600), "mode of %s" % os.path.basename(path))
    demo_db = os.path.join(srv.dir, "demo.db")
    r = ghtest.run_cli(binary, demo_db, "demo")
    eq(r.returncode, 0, "demo (%s)" % r.stderr[-300:])
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(demo_db + suffix):
            eq(oct(mode_of(demo_db + suffix)), oct(0o600), "mode of demo.db" + suffix)


# --- tokens -----------------------------------------------------------------------

def token_item(srv, token_id):
    items = srv.list_all("/v1/tokens")
    for it in items:
        if it["id"] == token_id:
            return it
    raise ghtest.Failure("token %s not in GET /v1/tokens" % token_id)


def near(t, expected, what, slack=120):
    expect(abs(t - expected) <= slack, "%s: %s is not about %s" % (
        what, ghtest.rfc3339(t), ghtest.rfc3339(expected)))


def tokens_expire_by_default(srv):
    now = time.time()
    items = srv.list_all("/v1/tokens")
    boot = [it for it in items if it["name"] == "bootstrap"]
    eq(len(boot), 1, "one bootstrap token")
    near(ghtest.parse_time(boot[0]["expires_at"]), now + 90 * 86400, "the bootstrap token")
    eq(boot[0]["status"], "active", "status")
    ident = srv.human("tok-user", ["auditor"])
    tok = status(srv.post("/v1/tokens", {"identity": ident["id"], "name": "t"}), 201)
    near(ghtest.parse_time(tok["expires_at"]), now + 90 * 86400, "a token without expires_in")
    before = srv.snapshot()
    doc = problem(srv.post("/v1/tokens", {"identity": ident["id"], "name": "t2",
                                          "expires_in": "400d"}), 400, field="expires_in")
    expect("365" in str(doc.get("errors")), "the cap is named: %r" % doc)
    ghtest.unchanged(srv, before, "a token of 400 days")
    # the CLI lists them with their expiry
    r = srv.cli("--server", "http://127.0.0.1:%d" % srv.port, "--token", srv.token,
                "tokens", "list")
    eq(r.returncode, 0, "tokens list (%s)" % r.stderr[-300:])
    expect("EXPIRES" in r.stdout and boot[0]["expires_at"] in r.stdout,
           "tokens list shows expiry: %r" % r.stdout[-600:])


def tokens_rotate(srv):
    ident, tok = srv.user("rot-user", ["requester"])
    _, other = srv.user("rot-other", ["requester"])
    mine = [it for it in srv.list_all("/v1/tokens?identity=" + ident["id"])]
    eq(len(mine), 1, "rot-user's tokens")
    tid = mine[0]["id"]
    # someone else's token: as if it did not exist, nothing changes
    before = srv.snapshot()
    problem(srv.post("/v1/tokens/%s/rotate" % tid, token=other), 404)
    ghtest.unchanged(srv, before, "rotating another identity's token")
    new = status(srv.post("/v1/tokens/%s/rotate" % tid, token=tok), 201, "rotate own token")
    eq(new["identity"], ident["id"], "same identity")
    eq(new["name"], mine[0]["name"], "same name")
    eq(new["rotated_from"], tid, "rotated_from")
    expect(new["token"] != tok, "a new secret")
    problem(srv.get("/v1/identities?limit=1", token=tok), 401)
    status(srv.get("/v1/identities?limit=1", token=new["token"]), 200)
    old = token_item(srv, tid)
    eq(old["status"], "revoked", "the old token")
    eq(old["rotated_to"], new["id"], "rotated_to")
    events = [e for e in srv.audit_events(object_id=tid) if e["action"] == "token.rotated"]
    eq(len(events), 1, "token.rotated events")
    # the CLI, by an admin
    r = srv.cli("--server", "http://127.0.0.1:%d" % srv.port, "--token", srv.token,
                "tokens", "rotate", new["id"])
    eq(r.returncode, 0, "tokens rotate (%s)" % r.stderr[-300:])
    expect(ghtest.find_token(r.stdout), "the new token is printed: %r" % r.stdout[-300:])


def admin_token_offline(srv):
    before = srv.snapshot()
    r = srv.cli("admin-token", "--identity", "rot-user")
    expect(r.returncode != 0, "admin-token for a non-admin must fail")
    expect("admin" in r.stderr, "it says why: %r" % r.stderr[-300:])
    ghtest.unchanged(srv, before, "admin-token for a non-admin")
    r = srv.cli("admin-token", "--identity", "admin")
    eq(r.returncode, 0, "admin-token (%s)" % r.stderr[-300:])
    tok = ghtest.find_token(r.stdout)
    expect(tok, "admin-token printed a token: %r" % r.stdout[-300:])
    # the running server takes it at once and keeps writing afterwards
    status(srv.post("/v1/groups", {"name": "after-admin-token"}, token=tok), 201)
    ev = [e for e in srv.audit_events() if e["action"] == "token.created"
          and e["actor"] == "system:operator"]
    eq(len(ev), 1, "token.created by system:operator")


# --- failed authentications ---------------------------------------------------------

def failed_authentications_are_slowed(srv, bad_tokens):
    good = srv.token
    status(srv.get("/v1/identities?limit=1", token=good), 200, "the good token first")
    before = srv.snapshot()
    answers = []
    for i, bad in enumerate(bad_tokens):
        r = srv.get("/v1/identities?limit=1", token=bad)
        answers.append(r.status)
        if i < 10:
            problem(r, 401, what="bad token %d" % (i + 1))
        else:
            doc = problem(r, 429, problem_code="too_many_requests", what="bad token %d" % (i + 1))
            retry = r.headers.get("retry-after", "")
            expect(retry.isdigit() and 1 <= int(retry) <= 15,
                   "Retry-After is %r" % retry)
            expect("try again" in doc.get("detail", ""), "detail: %r" % doc)
    # while the address is blocked, a valid token waits too (it is not checked)
    r = srv.get("/v1/identities?limit=1", token=good)
    problem(r, 429, problem_code="too_many_requests", what="the good token while blocked")
    # another address is not blocked
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5,
                                      source_address=("127.0.0.2", 0))
    try:
        conn.request("GET", "/v1/identities?limit=1", headers={"Authorization": "Bearer " + good})
        resp = conn.getresponse()
        resp.read()
        eq(resp.status, 200, "the good token from 127.0.0.2")
    finally:
        conn.close()
    ghtest.unchanged(srv, before, "12 bad tokens")


def failures_are_audited_once(srv, bad_tokens):
    """After the flush (at shutdown here; the scheduler writes them when a
    source's minute is over): one auth.failed event with the counts, no token."""
    srv.stop()
    rows = ghtest.query(srv, "SELECT actor, object_type, object_id, details FROM audit_events"
                        " WHERE action = 'auth.failed'")
    everything = " ".join(r[0] for r in ghtest.query(srv, "SELECT details FROM audit_events"))
    eq(len(rows), 1, "auth.failed events")
    actor, otype, oid, details = rows[0]
    eq((actor, otype, oid), ("system:auth", "source", "127.0.0.1"), "the event's actor and object")
    import json
    d = json.loads(details)
    eq(d["failures"], 10, "failures")
    eq(d["refused"], 3, "refused (two bad tokens and the good one)")
    eq(d["count"], 13, "count")
    eq(d["reasons"], {"unknown": 9, "malformed": 1}, "reasons")
    expect(d["first_at"] <= d["last_at"], "first_at <= last_at")
    for bad in bad_tokens:
        expect(bad not in everything, "a presented token is in the audit log")
        expect(bad not in srv.stderr(), "a presented token is in the server's log")
    v = srv.cli("audit", "verify")
    eq(v.returncode, 0, "audit verify (%s)" % (v.stdout + v.stderr)[-300:])


def body(t, binary):
    os.umask(0o022)   # the usual default: the server must not rely on a stricter one
    srv = t.server(binary, name="limits", serve_args=["--request-timeout", str(REQUEST_TIMEOUT)])
    if not t.case("start", srv.start):
        return
    t.sqlite_case("file modes of the SQLite database",
                  "database, -wal and -shm are 0600 (serve, init, demo)",
           database_files_are_owner_only, srv, binary)
    t.case("a slow sender is cut off at the request timeout", slow_sender_is_cut_off, srv)
    t.case("a slowly uploaded body is cut off too", slow_body_is_cut_off, srv)
    t.case("a kept-alive connection's deadline starts again after each request",
           kept_alive_connection_gets_a_fresh_deadline, srv)
    t.case("600 query parameters without a token: a prompt 414 problem",
           many_query_parameters, srv)
    t.case("oversized headers: a prompt 431", oversized_headers, srv)
    t.case("still healthy", lambda: expect(srv.healthy(), "healthz"))
    t.stop(srv)

    # default limits: 32 connections an address, 30 s to send a request
    flood = t.server(binary, name="flood")
    if not t.case("start with default limits", flood.start):
        return
    t.case("100 slow-header sockets from one address: healthz still answers",
           slow_headers_from_one_address, flood)
    t.case("tokens expire by default (90 days; at most 365)", tokens_expire_by_default, flood)
    t.case("a token is rotated by its own identity or an admin", tokens_rotate, flood)
    t.case("admin-token issues an admin token offline", admin_token_offline, flood)
    t.stop(flood)

    auth = t.server(binary, name="auth")
    if not t.case("start for failed authentications", auth.start):
        return
    bad = ["gh_%016x.%s" % (i, "A" * 43) for i in range(11)] + ["not-a-token"]
    bad = bad[:9] + ["not-a-token"] + bad[9:11]
    t.case("12 bad tokens: the 11th and 12th get 429 with Retry-After",
           failed_authentications_are_slowed, auth, bad)
    t.case("one aggregated auth.failed event, no token anywhere",
           failures_are_audited_once, auth, bad)


if __name__ == "__main__":
    ghtest.main(body)
