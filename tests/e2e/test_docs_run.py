#!/usr/bin/env python3
"""test_docs_run.py - every shell block of README.md, docs/policy.md,
docs/operations.md and docs/catalog-as-code.md runs as written.

Each document gets a fresh demo (`gatehouse --db gatehouse-demo.db demo`, then
`serve` on it) in a temp directory that holds copies of the clone's examples/
and docs/, as a reader's clone would. Its ```sh blocks run in order in one
bash process (variables carry from block to block), with the build's
gatehouse first on PATH, GATEHOUSE_SERVER pointing at the demo server (the
docs assume the default address) and the demo's tokens in the variables the
docs use: ADMIN, IAM (grace), IAM2 (ines), APPROVER (erin), ONCALL (ivan), SD
(sam), AUDITOR (uma), REQUESTER (carol).

Rules the documents follow (and this test enforces):
- Every fenced block names its language; ```sh (or shell, bash) blocks are
  commands, anything else (text, yaml, cedar, example) is not run.
- A shell block not meant to run has `<!-- not run: REASON -->` on the line
  right before its fence; the test counts and lists them.
- Each command must exit 0, unless its last line ends with a comment saying
  `exit N` (e.g. `gatehouse requests approve "$REQ"   # refused: exit 1`).
- Every ```cedar block names only entities the demo has (by name or id).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import Failure, eq, expect  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCS = ["README.md", "docs/policy.md", "docs/operations.md", "docs/catalog-as-code.md"]
# A parse mistake must not skip blocks silently: each document runs at least this many.
MIN_RUN = {"README.md": 4, "docs/policy.md": 2, "docs/operations.md": 2,
           "docs/catalog-as-code.md": 1}
SHELL = {"sh", "shell", "bash"}
PERSONAS = {"ADMIN": "admin", "IAM": "grace", "IAM2": "ines", "APPROVER": "erin",
            "ONCALL": "ivan", "SD": "sam", "AUDITOR": "uma", "REQUESTER": "carol"}
DOC_TIMEOUT = 240
EXIT_RE = re.compile(r"\s#[^'\"]*\bexit (\d+)\b[^'\"]*$")
NOT_RUN_RE = re.compile(r"^<!--\s*not run:\s*(\S.*?)\s*-->\s*$")


class Block:
    def __init__(self, doc, line, lang, body, skip):
        self.doc, self.line, self.lang, self.body, self.skip = doc, line, lang, body, skip

    def where(self):
        return "%s:%d" % (self.doc, self.line)


def parse_blocks(doc):
    """Every fenced block of doc: (line of the fence, language, body lines, skip reason)."""
    with open(os.path.join(ROOT, doc), encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^(`{3,})\s*([\w-]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i + 1
        prev = lines[i - 1] if i > 0 else ""
        skip = NOT_RUN_RE.match(prev)
        body = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != fence:
            body.append(lines[i])
            i += 1
        expect(i < len(lines), "%s:%d: an unclosed ``` block" % (doc, start))
        i += 1
        expect(lang, "%s:%d: a fenced block without a language: write ```sh for commands "
               "(they run) or ```text for output" % (doc, start))
        if skip:
            expect(lang in SHELL, "%s:%d: 'not run' marks a %s block; only shell blocks run"
                   % (doc, start, lang))
        blocks.append(Block(doc, start, lang, body, skip.group(1) if skip else None))
    return blocks


def commands(block):
    """[(line, command text, expected exit status)], continuation lines joined."""
    out, cur, first = [], [], None
    for k, raw in enumerate(block.body):
        lineno = block.line + 1 + k
        line = raw.rstrip()
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not cur:
            first = lineno
        cur.append(line)
        if line.endswith("\\"):
            continue
        m = EXIT_RE.search(cur[-1])
        out.append((first, "\n".join(cur), int(m.group(1)) if m else 0))
        cur = []
    expect(not cur, "%s: a command continues past the end of its block" % block.where())
    return out


def script(blocks, rcfile, outdir):
    """One bash script for a document's runnable blocks: each command's output goes
    to outdir/N.out and its exit status to rcfile as "N STATUS"."""
    parts = ["set +e", "exec 9>%s" % sh_quote(rcfile)]
    cmds = []
    for b in blocks:
        for line, text, want in commands(b):
            n = len(cmds)
            cmds.append((b, line, text, want))
            parts.append("{\n%s\n} >%s 2>&1 </dev/null\necho \"%d $?\" >&9" % (
                text, sh_quote(os.path.join(outdir, "%d.out" % n)), n))
    return "\n".join(parts) + "\n", cmds


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def demo_tokens(stdout):
    """name -> token from the demo's "tokens" table."""
    toks = {}
    for line in stdout.splitlines():
        m = re.match(r"^\s+\S+\s+(\S+)\s+(gh_\S+)\s*$", line)
        if m:
            toks[m.group(1)] = m.group(2)
    return toks


class DocRun:
    def __init__(self, t, binary, doc, idx):
        self.t, self.binary, self.doc = t, os.path.abspath(binary), doc
        self.dir = tempfile.mkdtemp(prefix="gh-docs-run-")
        for sub in ("examples", "docs"):
            shutil.copytree(os.path.join(ROOT, sub), os.path.join(self.dir, sub))
        self.srv = t.server(binary, name="docs%d" % idx, workdir=self.dir,
                            db=os.path.join(self.dir, "gatehouse-demo.db"))
        self.env = None

    def seed(self):
        r = self.srv.cli("demo")
        eq(r.returncode, 0, "gatehouse demo (%s)" % (r.stdout + r.stderr)[-600:])
        toks = demo_tokens(r.stdout)
        missing = sorted(set(PERSONAS.values()) - set(toks))
        expect(not missing, "the demo printed no token for %s: %r" % (missing, r.stdout[-900:]))
        self.srv.token = toks["admin"]
        self.srv.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
        env["PATH"] = os.path.dirname(self.binary) + os.pathsep + env.get("PATH", "")
        env["GATEHOUSE_SERVER"] = "http://127.0.0.1:%d" % self.srv.port
        env["HOME"] = self.dir
        for var, name in PERSONAS.items():
            env[var] = toks[name]
        self.env = env

    def run(self, blocks):
        rcfile = os.path.join(self.dir, "docs-run.rc")
        outdir = os.path.join(self.dir, "out")
        os.mkdir(outdir)
        text, cmds = script(blocks, rcfile, outdir)
        with open(os.path.join(self.dir, "docs-run.sh"), "w") as f:
            f.write(text)
        try:
            p = subprocess.run(["bash", "docs-run.sh"], cwd=self.dir, env=self.env,
                               capture_output=True, text=True, timeout=DOC_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise Failure("%s: the commands did not finish within %d s" % (
                self.doc, DOC_TIMEOUT)) from e
        got = {}
        with open(rcfile) as f:
            for line in f:
                n, rc = line.split()
                got[int(n)] = int(rc)
        problems = []
        for n, (b, line, text, want) in enumerate(cmds):
            rc = got.get(n)
            if rc == want:
                continue
            try:
                with open(os.path.join(outdir, "%d.out" % n), errors="replace") as f:
                    out = f.read()
            except OSError:
                out = ""
            problems.append("%s:%d: exit %s, the doc expects %d\n  $ %s\n  %s" % (
                self.doc, line, "?" if rc is None else rc, want, text.replace("\n", "\n    "),
                out[-700:].replace("\n", "\n  ")))
        expect(not problems, "%d of %d commands did not exit as documented:\n%s" % (
            len(problems), len(cmds), "\n".join(problems)))
        mark = ghtest.sanitizer_report(p.stderr)
        expect(mark is None, "sanitizer report in the commands' output: %s" % p.stderr[-1500:])
        return len(cmds)

    def check_cedar(self, blocks):
        """Every name a ```cedar block uses exists in the demo: a placeholder or a
        typo would make a policy silently match nothing."""
        bad = []
        for b in blocks:
            r = self.srv.post("/v1/policies/simulate", {"text": "\n".join(b.body) + "\n"})
            doc = ghtest.status(r, 200, "simulate %s" % b.where())
            refs = [v["message"] for v in doc["validation"] if "does not exist" in v["message"]
                    or "names several" in v["message"]]
            if refs:
                bad.append("%s: %s" % (b.where(), "; ".join(refs)))
        expect(not bad, "cedar blocks name what the demo does not have:\n" + "\n".join(bad))


def run_doc(t, binary, doc, idx, skipped):
    every = parse_blocks(doc)
    blocks = [b for b in every if b.lang in SHELL]
    runnable = [b for b in blocks if not b.skip]
    skipped.extend(b for b in blocks if b.skip)
    expect(len(runnable) >= MIN_RUN[doc], "%s has %d runnable shell blocks, expected at least"
           " %d (a parse mistake?)" % (doc, len(runnable), MIN_RUN[doc]))
    d = DocRun(t, binary, doc, idx)
    try:
        d.seed()
        d.check_cedar([b for b in every if b.lang == "cedar"])
        n = d.run(runnable)
        print("      %s: %d blocks, %d commands ran; %d blocks not run" % (
            doc, len(runnable), n, len(blocks) - len(runnable)), flush=True)
    finally:
        t.stop(d.srv)


def unit_checks():
    """The rules above, on small documents: an unmarked shell block runs, a
    marked one is skipped, a fence needs a language, `exit N` comments count."""
    b = Block("x.md", 1, "sh", ["# a comment", "gatehouse a \\", "    --b c   # refused: exit 1",
                                "", "X=$(gatehouse d)", "gatehouse e  # exits once"], None)
    eq(commands(b), [(3, "gatehouse a \\\n    --b c   # refused: exit 1", 1),
                     (6, "X=$(gatehouse d)", 0), (7, "gatehouse e  # exits once", 0)],
       "commands of a block")
    eq(demo_tokens("tokens:\n  admin        admin  gh_1.a\n  iam          ines   gh_2.b\n"),
       {"admin": "gh_1.a", "ines": "gh_2.b"}, "tokens of the demo's table")


def body(t, binary):
    if not t.case("the docs-run rules (block and command parsing)", unit_checks):
        return
    skipped = []
    for idx, doc in enumerate(DOCS, 1):
        t.case("%s runs as written against a fresh demo" % doc, run_doc, t, binary, doc, idx,
               skipped)
    print("      %d shell blocks not run:" % len(skipped))
    for b in skipped:
        print("        %s: %s" % (b.where(), b.skip))


if __name__ == "__main__":
    ghtest.main(body)
