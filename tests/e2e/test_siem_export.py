#!/usr/bin/env python3
"""test_siem_export.py - `gatehouse audit export` for SIEMs against a real server:
JSON lines and CEF files match the API's events (CEF read back by a parser
written here from the CEF rules), an interrupted export resumed with --state
delivers every event exactly once (clean stops, a lost state update, SIGKILL),
syslog over UDP and a local datagram socket carries RFC 5424 messages, --follow
picks up new events, and bad options exit 2 changing nothing."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, status  # noqa: E402

WEIRD = "pipe|back\\slash eq=ual\nnew line caf\u00e9 \u65e5\u672c \u2603"
RFC5424 = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) gatehouse (\d+) audit - (.*)$", re.S)
SEVERITY = [("request.break_glass", 9), ("_failed", 7), (".failed", 7), (".revoked", 6),
            (".suspended", 6), (".decommissioned", 6), (".rejected", 6), (".finding", 6),
            (".review_missed", 6), ("policy.activated", 5), ("policy.proposed", 5),
            ("token.created", 5), ("credential.issued", 5), ("credential.rotated", 5)]


def cef_parse(line):
    """Header: 7 fields split on unescaped '|' (escapes \\| and \\\\); extension:
    key=value pairs, a value running to the next ' key=' (escapes \\= \\\\ \\n \\r)."""
    expect(line.startswith("CEF:0|"), "not a CEF line: %r" % line[:80])
    fields, cur, i = [], [], 0
    while len(fields) < 7:
        expect(i < len(line), "CEF header ends early: %r" % line[:200])
        ch = line[i]
        if ch == "\\":
            expect(line[i + 1] in "\\|", "bad header escape in %r" % line[:200])
            cur.append(line[i + 1])
            i += 2
        elif ch == "|":
            fields.append("".join(cur))
            cur = []
            i += 1
        else:
            cur.append(ch)
            i += 1
    ext = line[i:]
    # split at unescaped '=' preceded by a key
    pairs, pos = {}, 0
    keys = [m for m in re.finditer(r"(?:^| )([A-Za-z0-9]+)=", ext)
            if not _escaped(ext, m.end() - 1)]
    for n, m in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(ext)
        raw = ext[m.end():end]
        pairs[m.group(1)] = _unescape_ext(raw)
        pos = end
    return fields, pairs


def _escaped(s, i):
    k, j = 0, i - 1
    while j >= 0 and s[j] == "\\":
        k += 1
        j -= 1
    return k % 2 == 1


def _unescape_ext(raw):
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\":
            nxt = raw[i + 1]
            expect(nxt in "\\=nr", "bad extension escape \\%s in %r" % (nxt, raw[:120]))
            out.append({"\\": "\\", "=": "=", "n": "\n", "r": "\r"}[nxt])
            i += 2
        else:
            expect(raw[i] != "=", "unescaped '=' in an extension value %r" % raw[:120])
            out.append(raw[i])
            i += 1
    return "".join(out)


def severity(action):
    for suffix, sev in SEVERITY:
        if action.endswith(suffix):
            return sev
    return 3


def check_cef(line, ev):
    fields, ext = cef_parse(line)
    eq(fields[:4], ["CEF:0", "Gatehouse", "Gatehouse", "1.0"], "CEF prefix")
    eq(fields[4], ev["action"], "signature id")
    eq(fields[5], ev["action"], "name")
    eq(int(fields[6]), severity(ev["action"]), "severity of " + ev["action"])
    eq(int(ext["rt"]), ev["ts_us"] // 1000, "rt")
    eq(ext["suser"], ev["actor"], "suser")
    eq((ext["cs1Label"], ext["cs1"]), ("objectType", ev["object_type"]), "cs1")
    eq((ext["cs2Label"], ext["cs2"]), ("objectId", ev["object_id"]), "cs2")
    eq((ext["cn1Label"], int(ext["cn1"])), ("seq", ev["seq"]), "cn1")
    eq(json.loads(ext["msg"]), ev["details"], "msg of seq %d" % ev["seq"])


def export(srv, *args, timeout=120):
    return srv.cli("--server", "http://127.0.0.1:%d" % srv.port, "--token", srv.token,
                   "audit", "export", *args)


def api_lines(srv):
    r = srv.get("/v1/audit/export")
    eq(r.status, 200, "GET /v1/audit/export")
    return r.body.decode().splitlines()


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    expect(data == b"" or data.endswith(b"\n"), "%s ends in a partial line" % path)
    return data.decode().splitlines()


def body(t, binary):
    srv = t.server(binary, name="siem")
    d = {}

    def ex(*args):
        return export(srv, *args)

    def setup():
        srv.start()
        owner, _ = srv.user("siem-owner", ["requester"])
        for i in range(40):
            bot = srv.nhi("siem-bot-%02d" % i, owner["id"])
            if i % 10 == 0:
                status(srv.post("/v1/identities/%s/suspend" % bot["id"], {"reason": WEIRD}),
                       200, "suspend")
        srv.patch("/v1/identities/" + owner["id"], {"display_name": WEIRD})
        expect(any(e["details"].get("reason") == WEIRD for e in srv.audit_events()),
               "an event carries the weird text")
        d["events"] = srv.audit_events()
        d["n"] = len(d["events"])
        expect(d["n"] >= 45, "enough events: %d" % d["n"])
        d["dir"] = os.path.join(srv.dir, "out")
        os.makedirs(d["dir"])
    if not t.case("a server with events holding | \\ = newlines and non-ASCII", setup):
        return

    def path(name):
        return os.path.join(d["dir"], name)

    def json_file():
        p = path("all.jsonl")
        r = ex("--output", p)
        eq(r.returncode, 0, "exit code (%s)" % r.stderr[-400:])
        eq(read_lines(p), api_lines(srv), "the file's lines are GET /v1/audit/export's")
        r = ex("--output", p, "--after", str(d["n"] - 3))
        eq(r.returncode, 0, "exit code (%s)" % r.stderr[-400:])
        lines = read_lines(p)
        eq(len(lines), d["n"] + 3, "appended the 3 events after --after")
        eq([json.loads(x)["seq"] for x in lines[-3:]], [e["seq"] for e in d["events"][-3:]],
           "the appended events")
    t.case("json to a file is the API's export, one event a line; --after", json_file)

    def cef_file():
        p = path("all.cef")
        r = ex("--format", "cef", "--output", p, "--batch", "9")
        eq(r.returncode, 0, "exit code (%s)" % r.stderr[-400:])
        lines = read_lines(p)
        eq(len(lines), d["n"], "one CEF line an event")
        for line, ev in zip(lines, d["events"]):
            check_cef(line, ev)
        expect(any("eq\\=ual" in x and "back\\\\\\\\slash" in x and "|back" not in x[:200]
                   for x in lines), "the weird text was escaped in some line")
        d["cef_lines"] = lines
    t.case("cef to a file: every field of every event reads back", cef_file)

    def resume_max_events():
        p, st = path("resume.jsonl"), path("resume.state")
        runs = 0
        while True:
            runs += 1
            expect(runs < 20, "resumed export did not finish")
            r = ex("--output", p, "--state", st, "--batch", "4", "--max-events", "7")
            eq(r.returncode, 0, "exit code (%s)" % r.stderr[-400:])
            with open(st) as f:
                state = json.load(f)
            if state["seq"] == d["events"][-1]["seq"]:
                break
        eq(read_lines(p), api_lines(srv), "every event exactly once after %d runs" % runs)
        r = ex("--output", p, "--state", st)
        eq(r.returncode, 0, "exit code of a run with nothing new")
        eq(len(read_lines(p)), d["n"], "a rerun at the end adds nothing")
    t.case("--max-events stops, --state resumes: exactly once", resume_max_events)

    def lost_state_update():
        # the window between a durable batch and its state: the batch is in the
        # file, the state is the old one; a partial line follows it
        p, st = path("crash.cef"), path("crash.state")
        r = ex("--format", "cef", "--output", p, "--state", st, "--batch", "5",
                   "--max-events", "10")
        eq(r.returncode, 0, "first run (%s)" % r.stderr[-400:])
        shutil.copy(st, st + ".old")
        r = ex("--format", "cef", "--output", p, "--state", st, "--batch", "5",
                   "--max-events", "10")
        eq(r.returncode, 0, "second run (%s)" % r.stderr[-400:])
        os.replace(st + ".old", st)
        with open(p, "ab") as f:
            f.write(b"CEF:0|Gatehouse|Gatehouse|1.0|half a li")
        r = ex("--format", "cef", "--output", p, "--state", st)
        eq(r.returncode, 0, "resumed run (%s)" % r.stderr[-400:])
        expect("dropped" in r.stderr, "the resumed run says it cut the file: %r" % r.stderr)
        eq(read_lines(p), d["cef_lines"], "every event exactly once")
    t.case("a batch written but not recorded is cut and written once", lost_state_update)

    def sigkill():
        p, st = path("killed.jsonl"), path("killed.state")
        cmd = [srv.binary, "--server", "http://127.0.0.1:%d" % srv.port, "--token", srv.token,
               "audit", "export", "--output", p, "--state", st, "--batch", "1"]
        kills = 0
        for _ in range(30):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.005 + 0.005 * kills)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.communicate(timeout=30)
            if proc.returncode == 0:
                break
        expect(kills >= 1, "the export was never killed mid-way")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, "final run (%s)" % r.stderr[-400:])
        got = read_lines(p)
        eq([json.loads(x)["seq"] for x in got], [e["seq"] for e in d["events"]],
           "the seqs, each exactly once after %d kills" % kills)
        eq(got, api_lines(srv), "the lines")
    t.case("SIGKILL mid-export, resumed with --state: exactly once", sigkill)

    def udp_syslog():
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        try:
            port = rx.getsockname()[1]
            r = ex("--format", "cef", "--output", "syslog", "--syslog-address",
                       "127.0.0.1:%d" % port, "--max-events", "6", "--batch", "4")
            eq(r.returncode, 0, "exit code (%s)" % r.stderr[-400:])
            msgs = [rx.recv(70000).decode() for _ in range(6)]
        finally:
            rx.close()
        for m, ev, line in zip(msgs, d["events"], d["cef_lines"]):
            mo = RFC5424.match(m)
            expect(mo, "an RFC 5424 message: %r" % m[:200])
            pri = int(mo.group(1))
            eq(pri // 8, 10, "facility authpriv")
            expect(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", mo.group(2)),
                   "RFC 3339 timestamp: %r" % mo.group(2))
            eq(ghtest.parse_time(mo.group(2)[:19] + "Z"), ev["ts_us"] // 1000000, "timestamp")
            eq(mo.group(5), line, "the payload is the CEF line")
    t.case("syslog over UDP: RFC 5424 messages carrying CEF", udp_syslog)

    def unix_syslog():
        sock_path = os.path.join(d["dir"], "log.sock")
        rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        rx.bind(sock_path)
        rx.settimeout(5)
        st = path("syslog.state")
        try:
            r = ex("--output", "syslog", "--syslog-socket", sock_path, "--max-events", "3",
                       "--state", st)
            eq(r.returncode, 0, "exit code (%s)" % r.stderr[-400:])
            msgs = [rx.recv(70000).decode() for _ in range(3)]
        finally:
            rx.close()
        for m, ev in zip(msgs, d["events"]):
            mo = RFC5424.match(m)
            expect(mo, "an RFC 5424 message: %r" % m[:200])
            eq(json.loads(mo.group(5)), ev, "the payload is the JSON event")
        with open(st) as f:
            eq(json.load(f), {"seq": d["events"][2]["seq"], "format": "json",
                              "output": "syslog"}, "the state after 3 events")
    t.case("syslog to a local datagram socket: RFC 5424 carrying JSON; state", unix_syslog)

    def follow():
        p = path("follow.jsonl")
        cmd = [srv.binary, "--server", "http://127.0.0.1:%d" % srv.port, "--token", srv.token,
               "audit", "export", "--output", p, "--follow", "--poll-interval", "100ms",
               "--max-events", str(d["n"] + 2)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            ghtest.poll(lambda: os.path.exists(p) and len(read_lines(p)) == d["n"], 20,
                        "the existing events")
            expect(proc.poll() is None, "--follow keeps running at the end of the log")
            owner = d["events"][0]["object_id"]
            srv.human("siem-late-1")
            srv.human("siem-late-2")
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        eq(proc.returncode, 0, "exit code (%s)" % proc.stderr.read()[-400:])
        proc.stderr.close()
        lines = read_lines(p)
        eq(len(lines), d["n"] + 2, "the two new events arrived")
        eq([json.loads(x)["object_id"] for x in lines[:1]], [owner], "first event")
        d["n"] += 2
        d["events"] = srv.audit_events()
    t.case("--follow polls for new events, bounded by --max-events", follow)

    def bad_options():
        out, st = path("bad.out"), path("bad.state")
        cases = [
            (["--format", "xml"], "--format"),
            (["--format"], "--format"),
            (["--output", d["dir"]], "--output"),
            (["--after", "-1"], "--after"),
            (["--after", "x"], "--after"),
            (["--max-events", "0"], "--max-events"),
            (["--batch", "501"], "--batch"),
            (["--batch", "0"], "--batch"),
            (["--poll-interval", "1s"], "--poll-interval"),
            (["--follow", "--poll-interval", "10ms"], "--poll-interval"),
            (["--syslog-address", "127.0.0.1:514"], "--syslog-address"),
            (["--output", "syslog", "--syslog-address", "127.0.0.1"], "--syslog-address"),
            (["--output", "syslog", "--syslog-address", "127.0.0.1:70000"], "--syslog-address"),
            (["--state", d["dir"]], "--state"),
            (["--no-such-option", "1"], "--no-such-option"),
        ]
        for args, name in cases:
            full = ["--output", out, "--state", st] + args if "--output" not in args else \
                ["--state", st] + args
            r = ex(*full)
            eq(r.returncode, 2, "exit code of %r (%s)" % (args, r.stderr[-300:]))
            expect(name in r.stderr, "the message names %s: %r" % (name, r.stderr))
            expect(not os.path.exists(out) and not os.path.exists(st) and
                   not os.path.exists(st + ".lock"), "%r created a file" % (args,))
        # a state written by another kind of export
        p, st2 = path("kind.jsonl"), path("kind.state")
        eq(ex("--output", p, "--state", st2, "--max-events", "1").returncode, 0, "json run")
        before = open(p, "rb").read(), open(st2, "rb").read()
        r = ex("--format", "cef", "--output", p, "--state", st2)
        eq(r.returncode, 2, "another format against the state (%s)" % r.stderr[-300:])
        expect("--format" in r.stderr, "names --format: %r" % r.stderr)
        eq((open(p, "rb").read(), open(st2, "rb").read()), before, "nothing changed")
    t.case("bad options exit 2, name the option and change nothing", bad_options)

    def corrupt_state():
        p, st = path("corrupt.jsonl"), path("corrupt.state")
        with open(st, "w") as f:
            f.write('{"seq": 3, "format": "json"')
        r = ex("--output", p, "--state", st)
        eq(r.returncode, 1, "exit code (%s)" % r.stderr[-300:])
        expect("corrupt" in r.stderr and st in r.stderr, "a clear message: %r" % r.stderr)
        expect(not os.path.exists(p), "the output was not created")
    t.case("a corrupt state file is refused with a clear message", corrupt_state)

    def help_text():
        r = srv.cli("audit", "export", "--help")
        eq(r.returncode, 0, "exit code")
        for word in ("--format json|cef", "--state FILE", "--follow", "at least once",
                     "exactly once"):
            expect(word in r.stdout, "help mentions %s" % word)
    t.case("audit export --help documents the options and guarantees", help_text)


if __name__ == "__main__":
    ghtest.main(body)
