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


def body(t, binary):
    os.umask(0o022)   # the usual default: the server must not rely on a stricter one
    srv = t.server(binary, name="limits", serve_args=["--request-timeout", str(REQUEST_TIMEOUT)])
    if not t.case("start", srv.start):
        return
    t.case("database, -wal and -shm are 0600 (serve, init, demo)",
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


if __name__ == "__main__":
    ghtest.main(body)
