#!/usr/bin/env python3
"""bench_provision.py - provisioning on a real PostgreSQL (issue 5).

A real `gatehouse serve --workers W` and a real PostgreSQL (tests/support/
pg_server.sh, fsync on unless --fsync off), both on loopback. N service
accounts each get one low-risk (auto-approved) grant of a role on the
connected system:

1. throughput: N requests submitted over HTTP; the time from the first
   submit until every grant is active (role membership confirmed by the
   connector) gives grants provisioned per second; PostgreSQL is checked to
   hold exactly N memberships;
2. lag: every grant is then set to expire at the same second (one SQL
   UPDATE on the database file, as an operator's clock would have it), and
   the scheduler and workers do the rest; the lag of each grant is the time
   of its `grant.deprovisioned` audit event minus that second. p50, p99 and
   max are printed, and PostgreSQL is checked to hold no membership at the
   end.

The peer measured in the same run is PostgreSQL itself: N GRANT and N
REVOKE statements from one psql session, each its own transaction (what the
connector must at least pay). Prints key=value lines; not a test."""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import ghtest  # noqa: E402

PG = os.path.join(ROOT, "tests", "support", "pg_server.sh")


def sh(*args, env=None, timeout=600):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0:
        raise SystemExit("%s: %s %s" % (" ".join(args[:2]), r.stdout[-300:], r.stderr[-800:]))
    return r.stdout


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


def members(pgdir):
    out = sh(PG, "psql", pgdir, "SELECT count(*) FROM pg_auth_members a JOIN pg_roles r"
                                " ON r.oid = a.roleid WHERE r.rolname = 'bench_ro'")
    return int(out.strip() or -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fsync", default="on")
    args = ap.parse_args()
    n = args.n

    tmp = tempfile.mkdtemp(prefix="gh-bench-prov-")
    os.chmod(tmp, 0o711)
    pgdir = os.path.join(tmp, "pg")
    os.mkdir(pgdir)
    env = dict(os.environ, GH_PG_FSYNC=args.fsync)
    srv = None
    try:
        pg = dict(line.split("=", 1) for line in sh(PG, "start", pgdir, env=env).split("\n")
                  if "=" in line)
        sh(PG, "psql", pgdir, "CREATE ROLE bench_ro NOLOGIN; CREATE ROLE peer_ro NOLOGIN;"
                              " DO $$ BEGIN FOR i IN 1..%d LOOP EXECUTE format("
                              "'CREATE ROLE svc%%s LOGIN', i); END LOOP; END $$" % n)
        # the peer: the same statements from one psql session reading a file,
        # so each statement is its own transaction and commit, as the connector's
        bindir = sh("pg_config", "--bindir").strip()
        port = open(os.path.join(pgdir, "port")).read().strip()

        def peer(sql):
            path = os.path.join(tmp, "peer.sql")
            with open(path, "w") as f:
                f.write(sql)
            t0 = time.monotonic()
            sh(os.path.join(bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pgdir,
               "-p", port, "-U", "postgres", "-d", "postgres", "-f", path)
            return time.monotonic() - t0
        peer_grant = peer("".join("GRANT peer_ro TO svc%d;\n" % i for i in range(1, n + 1)))
        peer_revoke = peer("".join("REVOKE peer_ro FROM svc%d;\n" % i
                                   for i in range(1, n + 1)))

        config = os.path.join(tmp, "gatehouse.yaml")
        with open(config, "w") as f:
            f.write("secrets:\n  pg-password: {file: %s}\nconnectors:\n  bench-pg:\n"
                    "    kind: postgres\n    conninfo: \"%s\"\n"
                    "    password_secret: pg-password\n" % (pg["password_file"],
                                                           pg["conninfo"]))
        srv = ghtest.Server(args.bin, name="bench", serve_args=["--workers",
                                                                 str(args.workers),
                                                                 "--config", config],
                            workdir=os.path.join(tmp, "gh"))
        os.mkdir(srv.dir)
        srv.start()
        owner = srv.human("owner")
        grp = srv.group("owners", [owner])
        srv.system("bench-db", owner["id"], connector="bench-pg",
                   connector_settings={"account_attribute": "pg_login"})
        ent = srv.entitlement("bench-db", "read-only", "low", "30d", grp["id"],
                              attributes={"target": "bench_ro"})
        subjects = [srv.nhi("svc-%d" % i, owner["id"], attributes={"pg_login": "svc%d" % i})
                    for i in range(1, n + 1)]

        t0 = time.monotonic()
        for s in subjects:
            r = srv.post("/v1/requests", {"channel": "api", "subject": s["id"],
                                          "entitlement": ent["id"], "justification": "bench",
                                          "duration": "1d"})
            if r.status != 201:
                raise SystemExit("submit: %d %s" % (r.status, r.body))
        submitted = time.monotonic() - t0
        db = sqlite3.connect(srv.db, timeout=30)

        def active():
            return db.execute("SELECT count(*) FROM grants WHERE status = 'active'").fetchone()[0]
        deadline = time.monotonic() + 300
        while active() < n and time.monotonic() < deadline:
            time.sleep(0.05)
        provisioned = time.monotonic() - t0
        got = active()
        print("provision n=%d workers=%d submit_seconds=%.2f all_active_seconds=%.2f "
              "grants_per_s=%.0f active=%d pg_members=%d pg_fsync=%s" % (
                  n, args.workers, submitted, provisioned, got / provisioned, got,
                  members(pgdir), args.fsync))

        # every grant expires at the same second, a little ahead
        due = int(time.time()) + 3
        db.execute("UPDATE grants SET expires_at = ? WHERE status = 'active'", (due,))
        db.commit()
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline:
            done = db.execute("SELECT count(*) FROM grants WHERE provisioning_status = 'removed'"
                              ).fetchone()[0]
            if done >= n:
                break
            time.sleep(0.05)
        lags = [ts / 1e6 - due for (ts,) in db.execute(
            "SELECT ts FROM audit_events WHERE action = 'grant.deprovisioned'")]
        expired_at = [ts / 1e6 - due for (ts,) in db.execute(
            "SELECT ts FROM audit_events WHERE action = 'grant.expired'")]
        attempts = db.execute("SELECT count(*) FROM audit_events WHERE action ="
                              " 'connector.attempt'").fetchone()[0]
        print("expiry_removal n=%d removed=%d expired_p50_s=%.3f expired_max_s=%.3f "
              "lag_p50_s=%.3f lag_p99_s=%.3f lag_max_s=%.3f attempts=%d pg_members_after=%d" % (
                  n, done, pct(expired_at, 50), max(expired_at), pct(lags, 50), pct(lags, 99),
                  max(lags), attempts, members(pgdir)))
        print("peer psql_one_session n=%d grant_seconds=%.2f revoke_seconds=%.2f "
              "statements_per_s=%.0f" % (n, peer_grant, peer_revoke, 2 * n / (peer_grant +
                                                                            peer_revoke)))
        db.close()
    finally:
        if srv is not None:
            srv.stop()
        subprocess.run([PG, "stop", pgdir], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
