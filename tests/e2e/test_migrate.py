#!/usr/bin/env python3
"""test_migrate.py - `gatehouse migrate --from FILE.db --to postgresql://...`:
a demo installation (served once, so it holds a signed checkpoint) is copied
into PostgreSQL; every table arrives row for row and byte for byte (keys,
times, JSON text, hashes); a server on the copy shows the same requests,
grants, audit events and checkpoint, audit verify passes there and new rows
get new keys; a second migrate into the same target is refused and changes
nothing; a source whose audit event was altered fails verification and
leaves the target empty; no output ever shows the URL's password.

Runs on PostgreSQL whatever GH_TEST_BACKEND says: the target is always a
fresh database on the test cluster (ghtest.pg_new_database)."""

import os
import re
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, status  # noqa: E402


class W:
    pass


def sqlite_rows(path):
    """{table: [row dict]} of every table but schema_migrations, in key order,
    with values as PostgreSQL's json_agg writes them (bytea as "\\x<hex>")."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    out = {}
    try:
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name"
                                " NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'"):
            info = list(con.execute('PRAGMA table_info("%s")' % t))
            cols = [c[1] for c in info]
            pk = [c[1] for c in sorted((c for c in info if c[5]), key=lambda c: c[5])]
            rows = []
            for r in con.execute('SELECT * FROM "%s" ORDER BY %s' % (t, ", ".join(pk))):
                rows.append({c: ("\\x" + v.hex() if isinstance(v, bytes) else v)
                             for c, v in zip(cols, r)})
            out[t] = rows
    finally:
        con.close()
    return out


def pg_rows(url, tables):
    import json
    name = url.rsplit("/", 1)[1]
    out = {}
    for t, rows in tables.items():
        pk = ghtest.pg_psql(
            "SELECT string_agg(a.attname, ', ' ORDER BY array_position(i.indkey, a.attnum))"
            " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum ="
            " ANY(i.indkey) WHERE i.indrelid = '%s'::regclass AND i.indisprimary" % t,
            name).strip()
        text = ghtest.pg_psql("SELECT coalesce(json_agg(t ORDER BY %s), '[]') FROM %s t"
                              % (pk, t), name)
        out[t] = json.loads(text)
    return out


def pg_tables(url):
    name = url.rsplit("/", 1)[1]
    return set(ghtest.pg_psql("SELECT table_name FROM information_schema.tables WHERE"
                              " table_schema = 'public' AND table_name <> 'schema_migrations'",
                              name).split())


def migrate(binary, src, dst):
    # run_cli fails the case when the password shows in stdout or stderr
    return ghtest.run_cli(binary, src, "migrate", "--from", src, "--to", dst)


def seed(w, t, binary):
    w.dir = ghtest.tempfile.mkdtemp(prefix="gh-e2e-migrate-")
    w.src = os.path.join(w.dir, "demo.db")
    w.key = w.src + ".signing-key"
    r = ghtest.run_cli(binary, w.src, "demo")
    eq(r.returncode, 0, "gatehouse demo (%s)" % (r.stdout + r.stderr)[-600:])
    w.token = ghtest.find_token(r.stdout)
    expect(w.token, "demo printed an admin token")
    # served once: the signer at start adds a checkpoint and its event
    srv = t.server(binary, name="sqlite", db=w.src, token=w.token, workdir=w.dir)
    srv.start()
    w.before = view(srv)
    expect(w.before["checkpoint"].get("size", 0) >= 1, "a checkpoint before the move: %r"
           % w.before["checkpoint"])
    srv.stop()
    w.rows = sqlite_rows(w.src)
    expect(len(w.rows) >= 20, "the source has its tables: %r" % sorted(w.rows))


def view(srv):
    return {"requests": srv.list_all("/v1/requests"),
            "grants": srv.list_all("/v1/grants"),
            "identities": srv.list_all("/v1/identities"),
            "events": srv.audit_events(),
            "tree": status(srv.get("/v1/audit/tree"), 200),
            "checkpoint": status(srv.get("/v1/audit/checkpoint"), 200)}


def copy(w, binary):
    w.url = ghtest.pg_new_database(w.key)
    r = migrate(binary, w.src, w.url)
    out = r.stdout + r.stderr
    eq(r.returncode, 0, "migrate exit code (%s)" % out[-1500:])
    expect("audit chain and Merkle tree intact on arrival: %d events"
           % len(w.rows["audit_events"]) in r.stdout, "the summary names the verified events: %s"
           % r.stdout[-800:])
    for t, rows in w.rows.items():
        expect(re.search(r"^\s+%s\s+%d\s+%d$" % (t, len(rows), len(rows)), r.stdout, re.M),
               "the summary counts %s: %d in both: %s" % (t, len(rows), r.stdout[-1500:]))
    shown = ghtest.pg_url(w.url.rsplit("/", 1)[1], password=False)
    expect(shown in r.stdout, "the summary names the target without its password")


def same_rows(w):
    eq(pg_tables(w.url), set(w.rows), "the target's tables")
    got = pg_rows(w.url, w.rows)
    for t, rows in w.rows.items():
        eq(len(got[t]), len(rows), "rows of %s" % t)
        for a, b in zip(rows, got[t]):
            eq(b, a, "a row of %s as stored" % t)


def served_from_postgres(w, t, binary):
    srv = t.server(binary, name="postgresql", db=w.url, token=w.token,
                   env={"GATEHOUSE_SIGNING_KEY": w.key})
    w.pg = srv
    srv.start()
    after = view(srv)
    for k in ("requests", "grants", "identities", "events", "tree", "checkpoint"):
        eq(after[k], w.before[k], "%s on PostgreSQL as on SQLite" % k)
    # audit verify over the target
    r = ghtest.run_cli(binary, w.url, "audit", "verify")
    eq(r.returncode, 0, "audit verify on PostgreSQL (%s)" % (r.stdout + r.stderr)[-500:])
    expect("intact: %d events" % len(after["events"]) in r.stdout, r.stdout)
    # new rows get keys past the copied ones (the identity sequences moved on)
    ident = srv.human("after-the-move")
    got = srv.get("/v1/identities/" + ident["id"])
    status(got, 200)
    events = srv.audit_events()
    eq(events[len(after["events"])]["seq"], len(after["events"]) + 1,
       "the first event on PostgreSQL follows the copied ones")
    r = ghtest.run_cli(binary, w.url, "audit", "verify")
    eq(r.returncode, 0, "audit verify after a write on PostgreSQL (%s)" % r.stdout[-300:])
    srv.stop()


def second_refused(w, binary):
    before = ghtest.snapshot(w.url)
    r = migrate(binary, w.src, w.url)
    eq(r.returncode, 1, "a second migrate into the same target (%s)" % r.stderr[-500:])
    expect("already holds data" in r.stderr and "nothing was changed" in r.stderr,
           "a clear refusal: %r" % r.stderr[-500:])
    diffs = ghtest.snapshot_diff(before, ghtest.snapshot(w.url))
    expect(not diffs, "a refused migrate changed the target: %s" % "; ".join(diffs))


def tampered(w, binary):
    bad = os.path.join(w.dir, "tampered.db")
    shutil.copy(w.src, bad)
    con = sqlite3.connect(bad)
    try:
        seq = con.execute("SELECT seq FROM audit_events ORDER BY seq LIMIT 1 OFFSET 5"
                          ).fetchone()[0]
        con.execute("UPDATE audit_events SET details = '{\"tampered\":true}' WHERE seq = ?",
                    (seq,))
        con.commit()
    finally:
        con.close()
    url = ghtest.pg_new_database()
    r = migrate(binary, bad, url)
    eq(r.returncode, 1, "migrate of a tampered source (%s)" % (r.stdout + r.stderr)[-800:])
    expect("verification FAILED" in r.stdout and "sequence %d" % seq in r.stdout,
           "the summary says where the chain broke: %s" % r.stdout[-600:])
    counts = ghtest.snapshot(url)
    for k, v in counts.items():
        if k != "audit_len" and k != "schema_migrations":
            eq(v[0], 0, "rows left in %s after a failed verification" % k)
    ghtest.pg_drop_database(url)


def refusals(w, binary):
    # a source that does not exist, the same database twice, usage errors
    url = ghtest.pg_new_database()
    r = migrate(binary, os.path.join(w.dir, "missing.db"), url)
    eq(r.returncode, 1, "a missing source (%s)" % r.stderr[-300:])
    expect(not os.path.exists(os.path.join(w.dir, "missing.db")), "no source file created")
    r = migrate(binary, w.src, w.src)
    eq(r.returncode, 1, "source = target (%s)" % r.stderr[-300:])
    expect("same database" in r.stderr, r.stderr)
    r = ghtest.run_cli(binary, w.src, "migrate", "--from", w.src)
    eq(r.returncode, 2, "migrate without --to")
    ghtest.pg_drop_database(url)


def password_never_shown(w, binary):
    """Wrong passwords, in the user part and as a parameter, on every local
    command that takes --db: the message names the URL without it."""
    secret = "Wr0ngSecret4711"
    name = w.url.rsplit("/", 1)[1]
    c = ghtest._pg_cluster()
    urls = ["postgresql://gatehouse:%s@127.0.0.1:%d/%s" % (secret, c["port"], name),
            "postgres://gatehouse@127.0.0.1:%d/%s?password=%s&connect_timeout=5"
            % (c["port"], name, secret)]
    commands = [["audit", "verify"], ["init", "--signing-key", os.path.join(w.dir, "k1")],
                ["admin-token", "--identity", "admin"], ["demo"],
                ["jobs", "run-once"], ["key", "create", "--signing-key",
                                       os.path.join(w.dir, "k2")],
                ["serve", "--listen", "127.0.0.1:0", "--signing-key", w.key]]
    for url in urls:
        for cmd in commands:
            r = ghtest.run_cli(binary, url, *cmd, timeout=30)
            out = r.stdout + r.stderr
            expect(r.returncode != 0, "%s with a wrong password failed: %s" % (cmd, out[-300:]))
            expect(secret not in out, "%s shows the password: %s" % (cmd, out[-500:]))
            expect("127.0.0.1:%d/%s" % (c["port"], name) in out,
                   "%s names the database: %s" % (cmd, out[-300:]))
        r = ghtest.run_cli(binary, w.src, "migrate", "--from", w.src, "--to", url)
        expect(r.returncode != 0 and secret not in r.stdout + r.stderr,
               "migrate shows no password: %s" % (r.stdout + r.stderr)[-400:])
    # the environment variable follows the same rule
    p = ghtest.subprocess.run([binary, "audit", "verify"], capture_output=True, text=True,
                              timeout=30, env=dict(os.environ, GATEHOUSE_DB=urls[0]))
    expect(p.returncode != 0 and secret not in p.stdout + p.stderr and
           "127.0.0.1:%d/%s" % (c["port"], name) in p.stderr,
           "GATEHOUSE_DB with a URL: %s" % (p.stdout + p.stderr)[-400:])
    # a right URL on init of a used database names it without its password
    r = ghtest.run_cli(binary, w.url, "init", "--signing-key", os.path.join(w.dir, "k3"))
    eq(r.returncode, 1, "init of an initialised PostgreSQL database")
    expect("is already initialised" in r.stderr, r.stderr[-300:])


def body(t, binary):
    w = W()
    if not t.case("a demo installation, served once (SQLite)", seed, w, t, binary):
        return
    try:
        if not t.case("migrate copies it into PostgreSQL and verifies it there", copy, w,
                      binary):
            return
        t.case("every table arrives row for row, byte for byte", same_rows, w)
        t.case("served from PostgreSQL: same requests, grants, events, checkpoint;"
               " audit verify passes; new keys follow", served_from_postgres, w, t, binary)
        t.case("a second migrate into the same target is refused, nothing changes",
               second_refused, w, binary)
        t.case("a tampered source fails verification; the target is emptied again",
               tampered, w, binary)
        t.case("missing source, same database, usage", refusals, w, binary)
        t.case("the URL's password appears in no output", password_never_shown, w, binary)
    finally:
        if getattr(w, "url", None):
            try:
                if getattr(w, "pg", None) and w.pg.proc is not None:
                    w.pg.stop()
            except ghtest.Failure:
                pass
            ghtest.pg_drop_database(w.url)
        shutil.rmtree(w.dir, ignore_errors=True)


if __name__ == "__main__":
    ghtest.main(body)
