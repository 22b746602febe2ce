"""ghtest.py - shared helpers for Gatehouse end-to-end tests.

A real server on 127.0.0.1 over a fresh database, a tiny HTTP client, helpers
to create identities with roles and tokens for them, a snapshot of the database
to assert that a refused call changed nothing, and a mini test runner that
prints "N passed, M failed" and exits non-zero on failure.

The backend comes from GH_TEST_BACKEND: "sqlite" (the default: a fresh file
in the server's temp dir) or "postgresql": a fresh database (CREATE DATABASE
... LOCALE 'C') on the cluster in GH_TEST_PG_DIR (started by tests/run.sh
with tests/support/pg_server.sh), or on one this process starts and stops
itself when GH_TEST_PG_DIR is unset. The URL carries the role's password:
run_cli and Server.stop fail when it appears in any output. Cases about
SQLite itself run only there (Runner.sqlite_case, main(sqlite_only=...)).

Every wait is bounded: server start-up (10 s), requests (15 s each), shutdown
(10 s), CLI commands (120 s) and the whole test file (GH_E2E_TIMEOUT, 600 s).
Python 3 standard library only.
"""

import argparse
import atexit
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 15.0
CLI_TIMEOUT = 120.0

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ERROR: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer",
                   "AddressSanitizer:DEADLYSIGNAL")

_DEFAULT = object()

BACKEND = os.environ.get("GH_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgresql"):
    raise SystemExit("GH_TEST_BACKEND must be sqlite or postgresql, not %r" % BACKEND)
PG_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support",
                         "pg_server.sh")
PG_TIMEOUT = 60.0


class Failure(AssertionError):
    """A failed expectation; its message says what was expected."""


class TimeLimit(BaseException):
    """The whole test file ran out of time (not caught by a case)."""


# --- assertions ---------------------------------------------------------------

def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise Failure("%s: expected %r, got %r" % (what, expected, actual))


def status(resp, code, what=""):
    if resp.status != code:
        raise Failure("%s%s %s: expected HTTP %d, got %d: %s" % (
            (what + ": ") if what else "", resp.method, resp.path, code, resp.status,
            resp.text[:600]))
    return resp.json


def problem(resp, code=None, field=None, codes=None, problem_code=None, what=""):
    """Asserts resp is an RFC 9457 problem document with a 4xx status (code, or
    one of codes), optionally of a given "code" and naming field in "errors"."""
    label = "%s%s %s" % ((what + ": ") if what else "", resp.method, resp.path)
    if code is not None and resp.status != code:
        raise Failure("%s: expected HTTP %d problem, got %d: %s" % (
            label, code, resp.status, resp.text[:600]))
    if codes is not None and resp.status not in codes:
        raise Failure("%s: expected HTTP one of %r, got %d: %s" % (
            label, codes, resp.status, resp.text[:600]))
    if not 400 <= resp.status < 500:
        raise Failure("%s: expected a 4xx problem, got %d: %s" % (label, resp.status,
                                                                    resp.text[:600]))
    ctype = resp.headers.get("content-type", "")
    expect(ctype.split(";")[0].strip() == "application/problem+json",
           "%s: content-type is %r, not application/problem+json" % (label, ctype))
    doc = resp.json
    expect(isinstance(doc, dict), "%s: problem body is not a JSON object: %r" % (label,
                                                                              resp.text[:300]))
    eq(doc.get("status"), resp.status, label + ": problem.status")
    for key in ("type", "title", "code"):
        expect(isinstance(doc.get(key), str) and doc.get(key),
               "%s: problem has no %r: %r" % (label, key, doc))
    if problem_code is not None:
        if isinstance(problem_code, (tuple, list)):
            expect(doc.get("code") in problem_code, "%s: problem code %r not in %r (%s)" % (
                label, doc.get("code"), problem_code, doc.get("detail")))
        else:
            eq(doc.get("code"), problem_code, label + ": problem code (%s)" % doc.get("detail"))
    if field is not None:
        fields = field if isinstance(field, (tuple, list, set)) else [field]
        named = error_fields(doc)
        for f in fields:
            expect(f in named, "%s: errors do not name field %r: %r" % (
                label, f, doc.get("errors")))
    return doc


def error_fields(doc):
    errs = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errs, list):
        return []
    return [e.get("field") for e in errs if isinstance(e, dict)]


# --- time ---------------------------------------------------------------------

def parse_time(s):
    """RFC 3339 (as Gatehouse writes it) to unix seconds."""
    expect(isinstance(s, str), "time is not a string: %r" % (s,))
    t = s.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(t).timestamp()


def rfc3339(unix):
    return datetime.datetime.fromtimestamp(int(unix), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def future(days=365):
    return rfc3339(time.time() + days * 86400)


def poll(fn, timeout, what, interval=0.2):
    """Calls fn until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# --- HTTP ---------------------------------------------------------------------

class Resp:
    """status, headers (lower-case names), json (or None), text; unpacks as
    (status, headers, json)."""

    def __init__(self, method, path, status_code, headers, body):
        self.method = method
        self.path = path
        self.status = status_code
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")
        self.json = None
        ctype = headers.get("content-type", "")
        if "json" in ctype and "ndjson" not in ctype:
            try:
                self.json = json.loads(self.text) if self.text else None
            except ValueError:
                self.json = None

    def __iter__(self):
        return iter((self.status, self.headers, self.json))

    def __repr__(self):
        return "<%s %s -> %d %s>" % (self.method, self.path, self.status, self.text[:200])


def http_call(port, method, path, body=None, token=None, headers=None, raw=None,
              content_type="application/json", chunks=None, timeout=HTTP_TIMEOUT):
    """One HTTP/1.1 request on a fresh connection. body is JSON-encoded; raw
    sends bytes as they are; chunks sends a chunked body without Content-Length."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = {}
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if (data is not None or chunks is not None) and content_type:
        hdrs["Content-Type"] = content_type
    hdrs.update(headers or {})
    try:
        if chunks is not None:
            conn.putrequest(method, path)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            try:
                for c in chunks:
                    conn.send(b"%x\r\n%s\r\n" % (len(c), c))
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before reading it all
        else:
            if data is None and method in ("POST", "PUT", "PATCH"):
                data = b""
            conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        payload = r.read()
        headers_out = {k.lower(): v for k, v in r.getheaders()}
        return Resp(method, path, r.status, headers_out, payload)
    finally:
        conn.close()


def raw_exchange(port, data, timeout=5.0, half_close=True):
    """Sends bytes on a raw socket and returns what came back (bounded)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and len(out) < 1 << 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass  # the server may close first: reset, broken pipe, not connected
    return out


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TOKEN_RE = re.compile(r"(?<![A-Za-z0-9_])(gh_[0-9a-f]{16}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")


def find_token(text):
    for line in text.splitlines():
        m = TOKEN_RE.search(line)
        if m:
            return m.group(1)
    return None


# --- CLI ----------------------------------------------------------------------

def run_cli(binary, db, *args, env=None, timeout=CLI_TIMEOUT):
    """Runs `gatehouse --db db args...`; returns CompletedProcess (text). A
    PostgreSQL database's signing key (GATEHOUSE_SIGNING_KEY) is the one its
    Server chose, unless env names another."""
    full_env = dict(os.environ)
    if db in _pg_keys:
        full_env["GATEHOUSE_SIGNING_KEY"] = _pg_keys[db]
    full_env.update(env or {})
    try:
        r = subprocess.run([binary, "--db", db] + list(args), capture_output=True,
                           text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired as e:
        raise Failure("gatehouse %s timed out after %d s" % (" ".join(args), timeout)) from e
    leak_check(r.stdout + r.stderr, "gatehouse %s" % " ".join(args))
    return r


def sanitizer_report(text):
    for mark in SANITIZER_MARKS:
        if mark in text:
            return mark
    return None


# --- PostgreSQL -------------------------------------------------------------

_pg = {}            # "dir", "port", "password", "own" (this process started it)
_pg_keys = {}       # database URL -> its signing key path
_pg_databases = []  # databases this process created


def _pg_cluster():
    """The test cluster's dir, port and password, starting one on first use
    when GH_TEST_PG_DIR names none."""
    if _pg:
        return _pg
    d = os.environ.get("GH_TEST_PG_DIR")
    if not d:
        base = tempfile.mkdtemp(prefix="gh-e2e-pg-")
        os.chmod(base, 0o711)       # the server may run as nobody (see pg_server.sh)
        d = os.path.join(base, "pg")
        _pg["own"] = base
        atexit.register(_pg_stop)
    try:
        r = subprocess.run([PG_SERVER, "start", d], capture_output=True, text=True,
                           timeout=PG_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise Failure("pg_server.sh start timed out") from e
    if r.returncode != 0:
        raise Failure("pg_server.sh start %s failed: %s" % (d, r.stderr[-1000:]))
    with open(os.path.join(d, "port")) as f:
        port = int(f.read().strip())
    with open(os.path.join(d, "password")) as f:
        password = f.read().strip()
    _pg.update(dir=os.path.abspath(d), port=port, password=password)
    return _pg


def _pg_stop():
    if _pg.get("own"):
        subprocess.run([PG_SERVER, "stop", _pg["dir"]], capture_output=True, timeout=PG_TIMEOUT)
        shutil.rmtree(_pg["own"], ignore_errors=True)


def _psql_binary():
    if "psql" not in _pg:
        found = shutil.which("psql")
        for d in sorted(__import__("glob").glob("/usr/lib/postgresql/*/bin"), reverse=True):
            if os.access(os.path.join(d, "psql"), os.X_OK):
                found = os.path.join(d, "psql")
                break
        expect(found, "no psql found")
        _pg["psql"] = found
    return _pg["psql"]


def pg_psql(sql, dbname="postgres"):
    """Runs sql in dbname as the cluster's superuser (over its socket); the
    rows unaligned, fields separated by "|"."""
    c = _pg_cluster()
    try:
        r = subprocess.run([_psql_binary(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-h", c["dir"], "-p", str(c["port"]), "-U", "postgres",
                            "-d", dbname, "-c", sql], capture_output=True, text=True,
                           timeout=PG_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise Failure("psql timed out: %s" % sql[:200]) from e
    if r.returncode != 0:
        raise Failure("psql failed: %s: %s" % (sql[:200], r.stderr[-1000:]))
    return r.stdout


def pg_url(dbname, password=True):
    c = _pg_cluster()
    return "postgresql://gatehouse%s@127.0.0.1:%d/%s" % (
        (":" + c["password"]) if password else "", c["port"], dbname)


def pg_new_database(key_path=None):
    """A fresh, empty database owned by gatehouse; its URL (with the
    password). key_path: the signing key run_cli passes for it."""
    name = "gh_e2e_%d_%d_%s" % (os.getpid(), len(_pg_databases),
                                hashlib.sha256(os.urandom(8)).hexdigest()[:8])
    pg_psql("CREATE DATABASE %s OWNER gatehouse TEMPLATE template0 ENCODING 'UTF8'"
            " LOCALE 'C'" % name)
    _pg_databases.append(name)
    url = pg_url(name)
    if key_path:
        _pg_keys[url] = key_path
    return url


def pg_drop_database(url):
    name = url.rsplit("/", 1)[1].split("?")[0]
    if name in _pg_databases:
        _pg_databases.remove(name)
        pg_psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    _pg_keys.pop(url, None)


def leak_check(text, what):
    """Fails when the test cluster's password appears in text."""
    if _pg.get("password") and _pg["password"] in text:
        raise Failure("%s: the database password appears in its output" % what)


def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        return "'\\x%s'::bytea" % v.hex()
    return "'%s'" % str(v).replace("'", "''")


def _pg_bind(sql, params):
    parts = sql.split("?")
    expect(len(parts) == len(params) + 1, "%d parameters for %r" % (len(params), sql))
    out = parts[0]
    for v, rest in zip(params, parts[1:]):
        out += _pg_literal(v) + rest
    return out


def _db_of(where):
    return where.db if hasattr(where, "db") else where


def query(where, sql, params=()):
    """Rows (tuples) of a SELECT in a server's database (or a path / URL),
    on either backend: "?" parameters; write SQL both databases accept.
    PostgreSQL gives bytea as "\\x<hex>" text."""
    db = _db_of(where)
    if not is_url(db):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()
    name = db.rsplit("/", 1)[1].split("?")[0]
    text = pg_psql("SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM (%s) q"
                   % _pg_bind(sql, params), name)
    return [tuple(r.values()) for r in json.loads(text)]


def execute(where, sql, params=()):
    """Runs one write statement behind the server's back (to seed a state
    the API cannot make), on either backend."""
    db = _db_of(where)
    if not is_url(db):
        con = sqlite3.connect(db, timeout=10)
        try:
            with con:
                con.execute(sql, params)
        finally:
            con.close()
        return
    pg_psql(_pg_bind(sql, params), db.rsplit("/", 1)[1].split("?")[0])


def all_rows_text(where):
    """Every row of every table as one text, for "this secret is stored
    nowhere" checks."""
    db = _db_of(where)
    if not is_url(db):
        out = []
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        try:
            for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                out.extend(repr(r) for r in con.execute('SELECT * FROM "%s"' % t))
        finally:
            con.close()
        return "\n".join(out)
    name = db.rsplit("/", 1)[1].split("?")[0]
    tables = pg_psql("SELECT table_name FROM information_schema.tables WHERE table_schema ="
                     " 'public'", name).split()
    return pg_psql(" UNION ALL ".join("SELECT t::text FROM %s t" % t for t in tables), name)


def is_url(db):
    return db.startswith("postgresql://") or db.startswith("postgres://")


# --- the server ---------------------------------------------------------------

class Server:
    """A real `gatehouse serve` on a fresh database in its own temp dir."""

    def __init__(self, binary, name="server", env=None, serve_args=(), db=None,
                 token=None, workdir=None):
        self.binary = os.path.abspath(binary)
        self.name = name
        self.env = dict(env or {})
        self.serve_args = list(serve_args)
        self.dir = workdir or tempfile.mkdtemp(prefix="gh-e2e-")
        # beside the SQLite file, or where GATEHOUSE_SIGNING_KEY says for a URL
        self.key_path = os.path.join(self.dir, "gh.db.signing-key")
        self.own_db = db is None and BACKEND == "postgresql"
        if self.own_db:
            db = pg_new_database(self.key_path)
            self.env.setdefault("GATEHOUSE_SIGNING_KEY", self.key_path)
        self.db = db or os.path.join(self.dir, "gh.db")
        if not is_url(self.db):
            self.key_path = self.db + ".signing-key"
        self.backend = "postgresql" if is_url(self.db) else "sqlite"
        self.token = token
        self.port = None
        self.proc = None
        self.stopped_rc = None
        self.stderr_path = os.path.join(self.dir, "serve-%s.stderr" % name)
        self.stdout_path = os.path.join(self.dir, "serve-%s.stdout" % name)

    # lifecycle

    def init(self):
        r = run_cli(self.binary, self.db, "init", env=self.env)
        expect(r.returncode == 0, "gatehouse init exited %d: %s %s" % (
            r.returncode, r.stdout[-500:], r.stderr[-1500:]))
        tok = find_token(r.stdout)
        expect(tok, "gatehouse init printed no gh_ token: %r" % r.stdout[-500:])
        self.token = tok
        return tok

    def start(self):
        if self.token is None:
            self.init()
        last_err = ""
        # serve signs a checkpoint about a second after each change: a
        # background writer that would make a test's exact reads of the log
        # racy (an event landing between two reads). Tests of it pass their own
        # --checkpoint-after-write; elsewhere the server signs at start, every
        # --checkpoint-every and when a covering checkpoint is asked for.
        quiet_signer = [] if any(a.startswith("--checkpoint-after-write")
                                 for a in self.serve_args) else [
            "--checkpoint-after-write", "off"]
        for _attempt in range(3):
            self.port = free_port()
            env = dict(os.environ)
            env.update(self.env)
            with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
                self.proc = subprocess.Popen(
                    [self.binary, "--db", self.db, "serve", "--listen",
                     "127.0.0.1:%d" % self.port] + self.serve_args + quiet_signer,
                    stdout=out, stderr=err, env=env, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = http_call(self.port, "GET", "/healthz", timeout=2)
                    if r.status == 200:
                        return self
                except (OSError, http.client.HTTPException):
                    pass
                time.sleep(0.1)
            if self.proc.poll() is None:
                self._kill()
                raise Failure("server did not answer /healthz within %.0f s; stderr: %s" % (
                    START_TIMEOUT, self.stderr()[-1500:]))
            last_err = self.stderr()
            self.proc = None
            if "in use" not in last_err.lower():
                break
        raise Failure("server exited during start-up: %s" % last_err[-1500:])

    def _kill(self):
        try:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def stop(self):
        """SIGTERM and a bounded wait; raises Failure when the server did not
        stop cleanly (exit code, timeout, sanitizer report)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        problems = []
        if proc.poll() is not None:
            problems.append("server had already exited with %d before stop" % proc.returncode)
        else:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append("server did not stop within %.0f s of SIGTERM" % STOP_TIMEOUT)
                proc.kill()
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    pass
        self.stopped_rc = proc.returncode
        if proc.returncode not in (0, None) and not problems:
            problems.append("server exited with %d" % proc.returncode)
        err = self.stderr()
        mark = sanitizer_report(err)
        if mark:
            problems.append("sanitizer report (%s) in server stderr" % mark)
        try:
            leak_check(err + self.stdout(), "the server")
        except Failure as e:
            problems.append(str(e))
        if problems:
            raise Failure("; ".join(problems) + "; stderr tail: " + err[-2000:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stdout(self):
        try:
            with open(self.stdout_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cli(self, *args, env=None):
        e = dict(self.env)
        e.update(env or {})
        return run_cli(self.binary, self.db, *args, env=e)

    def cleanup(self):
        if self.proc is not None:
            self._kill()
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.own_db:
            self.own_db = False
            try:
                pg_drop_database(self.db)
            except Failure as e:
                print("warning: %s" % e)

    # HTTP

    def call(self, method, path, body=None, token=_DEFAULT, **kw):
        tok = self.token if token is _DEFAULT else token
        return http_call(self.port, method, path, body=body, token=tok, **kw)

    def get(self, path, token=_DEFAULT, **kw):
        return self.call("GET", path, token=token, **kw)

    def post(self, path, body=None, token=_DEFAULT, **kw):
        return self.call("POST", path, body=body, token=token, **kw)

    def patch(self, path, body=None, token=_DEFAULT, **kw):
        return self.call("PATCH", path, body=body, token=token, **kw)

    def delete(self, path, token=_DEFAULT, **kw):
        return self.call("DELETE", path, token=token, **kw)

    def healthy(self):
        r = http_call(self.port, "GET", "/healthz", timeout=5)
        return r.status == 200 and isinstance(r.json, dict) and r.json.get("status") == "ok"

    def list_all(self, path, token=_DEFAULT, limit=500, max_pages=200):
        """Follows "next" through every page of a collection."""
        items, after = [], None
        sep = "&" if "?" in path else "?"
        for _ in range(max_pages):
            url = "%s%slimit=%d" % (path, sep, limit) + ("&after=%s" % after if after else "")
            page = status(self.get(url, token=token), 200)
            items.extend(page["items"])
            after = page.get("next")
            if not after:
                return items
        raise Failure("more than %d pages at %s" % (max_pages, path))

    def audit_events(self, token=_DEFAULT, object_id=None, max_pages=1000):
        """Every audit event via GET /v1/audit/events, following next_after_seq."""
        items, after = [], 0
        for _ in range(max_pages):
            url = "/v1/audit/events?limit=500&after_seq=%d" % after
            if object_id:
                url += "&object_id=" + object_id
            page = status(self.get(url, token=token), 200)
            items.extend(page["items"])
            nxt = page.get("next_after_seq")
            if nxt is None:
                return items
            expect(nxt > after, "next_after_seq did not advance: %r" % nxt)
            after = nxt
        raise Failure("more than %d pages of audit events" % max_pages)

    # domain helpers: each asserts success and returns the created object

    def identity(self, name, kind="human", roles=None, token=_DEFAULT, **fields):
        body = {"kind": kind, "name": name}
        if roles is not None:
            body["roles"] = roles
        if kind != "human":
            body.setdefault("purpose", "e2e test " + name)
            body.setdefault("environment", "prod")
            # within the server's maximum NHI lifetime (365 days) with room
            # to spare: time() on the server may lag this clock at a second's edge
            body.setdefault("expires_at", future(300))
        body.update(fields)
        return status(self.post("/v1/identities", body, token=token), 201,
                      "create identity " + name)

    def human(self, name, roles=(), **fields):
        return self.identity(name, "human", roles=list(roles), **fields)

    def nhi(self, name, owner, kind="service_account", **fields):
        return self.identity(name, kind, owner=owner, **fields)

    def token_for(self, identity, name="e2e"):
        ident = identity["id"] if isinstance(identity, dict) else identity
        tok = status(self.post("/v1/tokens", {"identity": ident, "name": name}), 201,
                     "create token")
        expect(isinstance(tok.get("token"), str) and tok["token"],
               "token answer has no token text: %r" % tok)
        return tok["token"]

    def user(self, name, roles=(), **fields):
        """A human with roles and a token: (identity, token)."""
        ident = self.human(name, roles, **fields)
        return ident, self.token_for(ident, name + "-token")

    def group(self, name, members=()):
        grp = status(self.post("/v1/groups", {"name": name}), 201, "create group " + name)
        for m in members:
            self.add_member(grp["id"], m)
        return grp

    def second_person(self):
        """The token of a second iam person (created on first use), who confirms
        the changes the default token proposes (four eyes)."""
        if getattr(self, "_second_token", None) is None:
            _ident, self._second_token = self.user("four-eyes-second", ["iam"])
        return self._second_token

    def confirm(self, answer, what="confirm a proposed change"):
        """answer: a 202 {"change": ...} body; the second person confirms it.
        Returns the object as changed."""
        expect(isinstance(answer, dict) and isinstance(answer.get("change"), dict),
               "%s: not a proposed change: %r" % (what, answer))
        done = status(self.post("/v1/changes/%s/confirm" % answer["change"]["id"], {},
                                token=self.second_person()), 200, what)
        return done["result"]

    def add_member(self, group_id, member):
        """member: an identity or group object (by its id prefix). A member of
        a group that decides approvals is proposed, then confirmed by a second
        person (four eyes)."""
        mid = member["id"] if isinstance(member, dict) else member
        key = "group" if mid.startswith("grp_") else "identity"
        r = self.post("/v1/groups/%s/members" % group_id, {key: mid})
        if r.status == 202:
            return self.confirm(r.json, "confirm adding a member")
        return status(r, 200, "add member")

    def system(self, name, owner, **fields):
        body = {"name": name, "owner": owner}
        body.update(fields)
        return status(self.post("/v1/systems", body), 201, "create system " + name)

    def entitlement(self, system, name, risk_tier, max_duration, control_owner_group,
                    **fields):
        body = {"system": system, "name": name, "risk_tier": risk_tier,
                "data_sensitivity": "internal", "environment": "prod",
                "control_owner_group": control_owner_group, "max_duration": max_duration}
        body.update(fields)
        return status(self.post("/v1/entitlements", body), 201, "create entitlement " + name)

    def request(self, subject, entitlement, token=_DEFAULT, duration="1h", **fields):
        body = {"channel": "portal", "subject": subject, "entitlement": entitlement,
                "justification": "e2e test", "duration": duration}
        body.update(fields)
        return status(self.post("/v1/requests", body, token=token), 201, "submit request")

    def snapshot(self):
        return snapshot(self.db)


def grant_id_of(req):
    """The grant of a request answer: an id or an embedded grant object."""
    g = req.get("grant")
    if isinstance(g, dict):
        return g.get("id")
    return g


# --- database snapshots -------------------------------------------------------

# Columns that may change on a read-only call (bookkeeping, not state).
VOLATILE = {"tokens": {"last_used_at"}}
# Tables that change on the clock, not by any request: which node holds a
# duty (the checkpoint signer, reconciliation) until when, renewed every few
# poll intervals.
CLOCK_TABLES = {"leases"}


def snapshot(db_path):
    """{table: (row count, digest of contents)} plus "audit_len", read directly
    from the SQLite file (read-only, alongside a running server) or the
    PostgreSQL database."""
    if is_url(db_path):
        return pg_snapshot(db_path)
    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=10)
    try:
        out = {}
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for t in tables:
            if t in CLOCK_TABLES:
                continue
            cols = [c[1] for c in con.execute('PRAGMA table_info("%s")' % t)
                    if c[1] not in VOLATILE.get(t, ())]
            h = hashlib.sha256()
            n = 0
            # WITHOUT ROWID tables (merkle_nodes) are ordered by their key
            pk = [c[1] for c in sorted((c for c in con.execute('PRAGMA table_info("%s")' % t)
                                        if c[5]), key=lambda c: c[5])]
            rowid = con.execute("SELECT 1 FROM sqlite_master WHERE name = ? AND sql LIKE"
                                " '%WITHOUT ROWID%'", (t,)).fetchone() is None
            order = "rowid" if rowid else ", ".join('"%s"' % c for c in pk)
            for row in con.execute('SELECT %s FROM "%s" ORDER BY %s' % (
                    ", ".join('"%s"' % c for c in cols), t, order)):
                h.update(repr(row).encode())
                n += 1
            out[t] = (n, h.hexdigest())
        out["audit_len"] = con.execute(
            "SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0]
        return out
    finally:
        con.close()


def pg_snapshot(url):
    """snapshot() of a PostgreSQL database: each table's rows in key order,
    as text, digested by the server (two psql calls)."""
    name = url.rsplit("/", 1)[1].split("?")[0]
    if name in _pg_snapshot_sql:
        return _pg_snapshot_read(name, _pg_snapshot_sql[name])
    meta = pg_psql(
        "SELECT c.table_name, string_agg(quote_ident(c.column_name), ',' ORDER BY"
        " c.ordinal_position), coalesce((SELECT string_agg(quote_ident(a.attname), ','"
        " ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid ="
        " quote_ident(c.table_name)::regclass AND i.indisprimary), '1')"
        " FROM information_schema.columns c WHERE c.table_schema = 'public'"
        " GROUP BY c.table_name ORDER BY c.table_name", name)
    parts = []
    for line in meta.splitlines():
        if line.count("|") != 2:
            continue
        t, cols, pk = line.split("|")
        if t in CLOCK_TABLES:
            continue
        cols = ",".join(c for c in cols.split(",") if c not in VOLATILE.get(t, ()))
        parts.append("SELECT '%s', count(*), md5(coalesce(string_agg(ROW(%s)::text, E'\\n'"
                     " ORDER BY %s), '')) FROM %s" % (t, cols, pk, t))
    if not parts:
        raise Failure("no tables found in %s" % name)
    sql = ("%s UNION ALL SELECT 'audit_len', coalesce(max(seq), 0), '' FROM audit_events"
           % " UNION ALL ".join(parts))
    if "schema_migrations" in sql:     # the schema is there: it stays as it is
        _pg_snapshot_sql[name] = sql
    return _pg_snapshot_read(name, sql)


_pg_snapshot_sql = {}   # database name -> its snapshot query (the schema does not change)


def _pg_snapshot_read(name, sql):
    out = {}
    rows = pg_psql(sql, name)
    for line in rows.splitlines():
        if line.count("|") != 2:
            continue
        t, n, digest = line.split("|")
        out[t] = int(n) if t == "audit_len" else (int(n), digest)
    return out


def snapshot_diff(before, after):
    diffs = []
    for k in sorted(set(before) | set(after)):
        b, a = before.get(k), after.get(k)
        if b != a:
            if k == "audit_len":
                diffs.append("audit length %r -> %r" % (b, a))
            elif b is None or a is None:
                diffs.append("table %s appeared/disappeared" % k)
            elif b[0] != a[0]:
                diffs.append("table %s rows %d -> %d" % (k, b[0], a[0]))
            else:
                diffs.append("table %s contents changed" % k)
    return diffs


def unchanged(srv, before, what):
    diffs = snapshot_diff(before, srv.snapshot())
    expect(not diffs, "%s changed the database: %s" % (what, "; ".join(diffs)))


# --- the runner ---------------------------------------------------------------

class Runner:
    """Named cases run in order; a failing case records its message and the
    run goes on. finish() stops every server (checking each stopped cleanly),
    prints the summary and returns the exit code."""

    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.servers = []

    def case(self, name, fn, *args, **kw):
        t0 = time.monotonic()
        try:
            result = fn(*args, **kw)
        except Failure as e:
            self._fail(name, str(e))
            return None
        except Exception as e:  # a crash of the test itself is a failure too
            self._fail(name, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=6)))
            return None
        self.passed += 1
        print("ok    %s (%.2fs)" % (name, time.monotonic() - t0), flush=True)
        return result if result is not None else True

    def sqlite_case(self, reason, name, fn, *args, **kw):
        """A case about SQLite itself (its file, its modes): run only on
        SQLite; elsewhere a line says why it was left out."""
        if BACKEND != "sqlite":
            print("skip  %s (SQLite only: %s)" % (name, reason), flush=True)
            return None
        return self.case(name, fn, *args, **kw)

    def _fail(self, name, msg):
        self.failed += 1
        self.failures.append(name)
        print("FAIL  %s\n      %s" % (name, msg.replace("\n", "\n      ")), flush=True)

    def server(self, binary, name="server", **kw):
        srv = Server(binary, name=name, **kw)
        self.servers.append(srv)
        return srv

    def stop(self, srv):
        """Stops srv now, as a named case (exit status and sanitizer checks)."""
        if srv.proc is not None:
            self.case("server %s stops cleanly" % srv.name, srv.stop)

    def finish(self):
        for srv in self.servers:
            self.stop(srv)
        for srv in self.servers:
            if os.environ.get("GH_E2E_KEEP") and self.failed:
                print("kept %s" % srv.dir)
            else:
                srv.cleanup()
        if self.failures:
            print("failed: " + ", ".join(self.failures))
        print("%s: %d passed, %d failed" % (self.title, self.passed, self.failed))
        return 1 if self.failed or not self.passed else 0


def main(body, sqlite_only=None):
    """Entry point of a test file: parses --bin, runs body(runner, binary) under
    a global time limit, and exits with the runner's code. sqlite_only: why
    the whole file is about SQLite itself; on another backend it says so and
    passes without running."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="path to the gatehouse binary")
    args = ap.parse_args()
    title = os.path.basename(sys.argv[0])
    if BACKEND != "sqlite":
        title += "[%s]" % BACKEND
    if sqlite_only and BACKEND != "sqlite":
        print("%s: skipped (SQLite only: %s)" % (title, sqlite_only))
        sys.exit(0)
    runner = Runner(title)
    limit = int(os.environ.get("GH_E2E_TIMEOUT", "600"))

    def on_alarm(_sig, _frame):
        raise TimeLimit("the whole test file exceeded %d s" % limit)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    try:
        if not os.access(args.bin, os.X_OK):
            runner._fail("binary", "%s is not an executable" % args.bin)
        else:
            body(runner, args.bin)
    except (Failure, TimeLimit) as e:
        runner._fail("test file", str(e))
    except Exception as e:
        runner._fail("test file", "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    finally:
        signal.alarm(0)
        code = runner.finish()
    sys.exit(code)
