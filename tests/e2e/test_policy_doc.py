#!/usr/bin/env python3
"""test_policy_doc.py - every worked example in docs/policy.md, run against a
real server seeded with `gatehouse demo` (a fresh database per example).

An example is a ```example block; the ```cedar blocks before it in the same
section (after the section's previous example) are its policies, numbered 1..
in order. Unless it has propose/activate steps, policy 1 is proposed by grace
and activated by ines (the demo's second iam person) before the steps run.
Cedar text names the demo's entities by name (Group::"dba-owners"), as the
server resolves them; a name the demo lacks fails the example's proposal.

Steps, one a line ("#" starts a comment line), each `VERB as PERSON ARGS ->
OUTCOME CHECKS`; an unknown verb, argument or outcome fails the example:
  submit as P subject=S entitlement=SYS/NAME duration=D [channel= ticket=
         requester= emergency=true] -> active | pending N | denied | forbidden | conflict
  break-glass as P subject=S entitlement=SYS/NAME duration=D incident=REF
         -> active | denied | forbidden
  approve as P #N [comment=] -> ok [STATE] | denied | forbidden
  reject as P #N comment=C -> ok | denied | forbidden
  review as P #N outcome=confirm|revoke [comment=] -> ok | denied | conflict
  delegate as P from=G to=G (system=S | tag=T) expires_in=D [reason=] -> ok | denied
  propose as P [policy=N] -> ok | invalid
  activate as P [version=N] -> ok | denied | conflict
  simulate as P [policy=N] -> ok [flips=N candidates=M #N=EFFECT candidate=#N]
  state as P #N -> active | pending N | denied | ... (the request's state now)
#N is the Nth submit (or break-glass) of the example. CHECKS:
  "text"        the text occurs in the answer (a request's decision, a
                problem's detail, a policy version's validation)
  error=ID      the decision reports policy ID as errored and skipped
  by=ID         policy ID is among the determining policies
  cap=D         decision.max_duration_seconds is D
  expires=D     the grant lasts D (expires_at - granted_at)
  version=N     the decision was made under policy version N
  review=D      a break-glass grant's review is due D after it was granted
  check=NAME    the last approval passed the check NAME (or NAME:...)
  #N=EFFECT     (simulate) submit #N flips with EFFECT (deny, grant,
                require_approvals), or does not flip (none)
  candidate=#N  (simulate) the grant of submit #N is a revocation candidate
An activation of the text last simulated must report exactly the
simulation's requests and grants as its effects.
"""

import json
import os
import re
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import Failure, eq, expect  # noqa: E402

DOC = os.environ.get("GH_POLICY_DOC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "policy.md")
# A parse mistake must not skip examples silently: the doc holds at least this many.
MIN_EXAMPLES = 14
SECOND_IAM = "ines"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(d):
    m = re.fullmatch(r"(\d+)([smhd])", d)
    expect(m, "not a duration: %r" % d)
    return int(m.group(1)) * UNITS[m.group(2)]


# --- the document -------------------------------------------------------------

class Example:
    def __init__(self, section, line, steps, policies):
        self.section = section
        self.line = line
        self.steps = steps        # [(line number, text)]
        self.policies = policies  # [cedar text]

    def name(self):
        return "%s (docs/policy.md:%d)" % (self.section, self.line)


def parse_doc(path):
    """Every example of the document, in order."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    examples, pending, section = [], [], "?"
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"#+\s", line):          # a heading, not "#2 and ..." in prose
            section = line.lstrip("#").strip()
            pending = []
        fence = re.match(r"^```\s*([\w-]*)\s*$", line)
        if not fence:
            i += 1
            continue
        lang, start, body = fence.group(1), i + 1, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        expect(i < len(lines), "docs/policy.md:%d: an unclosed ``` block" % start)
        i += 1
        if lang == "cedar":
            pending.append("\n".join(body) + "\n")
        elif lang == "example":
            steps = [(start + 1 + k, s.strip()) for k, s in enumerate(body)
                     if s.strip() and not s.strip().startswith("#")]
            expect(steps, "docs/policy.md:%d: an example without steps" % start)
            examples.append(Example(section, start, steps, pending))
            pending = []
    return examples


# --- one example against a fresh demo ----------------------------------------

class Run:
    """The server of one example, its people's tokens and what it submitted."""

    def __init__(self, t, binary, ex, idx):
        self.ex = ex
        self.srv = t.server(binary, name="example%d" % idx)
        self.tokens = {}
        self.ids = {}
        self.requests = []         # ids of submits, in order
        self.proposed = []         # policy version ids, in order
        self.simulated = {}        # sha256 of a simulated text -> the report
        self.t = t

    def seed(self):
        r = self.srv.cli("demo")
        eq(r.returncode, 0, "gatehouse demo (%s)" % (r.stdout + r.stderr)[-600:])
        m = re.search(r"^\s*admin\s+\S+\s+(gh_\S+)", r.stdout, re.M)
        expect(m, "demo printed no admin token: %r" % r.stdout[-600:])
        self.srv.token = m.group(1)
        self.srv.start()

    def id_of(self, kind, name):
        key = (kind, name)
        if key in self.ids:
            return self.ids[key]
        if kind == "entitlement":
            sysname, _, ent = name.partition("/")
            sid = self.id_of("system", sysname)
            hits = [e for e in self.srv.list_all("/v1/entitlements")
                    if e["system"] == sid and e["name"] == ent]
            expect(len(hits) == 1, "entitlement %s not found in the demo" % name)
            self.ids[key] = hits[0]["id"]
        else:
            path = {"group": "groups", "system": "systems", "identity": "identities"}[kind]
            r = self.srv.get("/v1/%s/%s" % (path, name))
            expect(r.status == 200, "%s %s not found in the demo: %s" % (kind, name, r.text[:200]))
            self.ids[key] = r.json["id"]
        return self.ids[key]

    def token(self, person):
        if person not in self.tokens:
            self.tokens[person] = self.srv.token_for(self.id_of("identity", person),
                                                     "policy-doc-" + person)
        return self.tokens[person]

    def policy(self, n):
        expect(1 <= n <= len(self.ex.policies),
               "policy=%d but the example has %d cedar block(s)" % (n, len(self.ex.policies)))
        return self.ex.policies[n - 1]

    def request_ref(self, ref):
        m = re.fullmatch(r"#(\d+)", ref)
        expect(m and 1 <= int(m.group(1)) <= len(self.requests),
               "%s names no submit of this example" % ref)
        return self.requests[int(m.group(1)) - 1]


def parse_step(text):
    """(verb, person, {args}, [positional], [outcome words], [checks])."""
    left, arrow, right = text.partition("->")
    expect(arrow, "no '-> outcome' in %r" % text)
    words = shlex.split(left)
    expect(len(words) >= 3 and words[1] == "as", "expected 'VERB as PERSON ...' in %r" % text)
    args, pos = {}, []
    for w in words[3:]:
        if "=" in w:
            k, _, v = w.partition("=")
            args[k] = v
        else:
            pos.append(w)
    outcome, checks = [], []
    for w in re.findall(r'"[^"]*"|\S+', right):
        if w.startswith('"'):
            checks.append(w[1:-1])
        elif checks or "=" in w:
            checks.append(w)
        else:
            outcome.append(w)
    expect(outcome, "no outcome after '->' in %r" % text)
    return words[0], words[2], args, pos, outcome, checks


def allowed(args, pos, keys, npos=0):
    extra = sorted(set(args) - set(keys))
    expect(not extra, "unknown argument(s) %s" % ", ".join(extra))
    expect(len(pos) == npos, "expected %d positional argument(s), got %r" % (npos, pos))


def problem_of(resp, code, name):
    """Asserts resp is the 4xx problem `name` (its code) and returns it."""
    doc = resp.json if isinstance(resp.json, dict) else {}
    expect(resp.status == code and doc.get("code") == name,
           "expected HTTP %d %s, got %d: %s" % (code, name, resp.status, resp.text[:500]))
    return doc


PROBLEMS = {"denied": 403, "forbidden": 403, "conflict": 409, "invalid": 400,
            "not_found": 404}


def check_decision(decision, grant, checks, req=None):
    text = json.dumps(decision)
    for c in checks:
        key, eqs, val = c.partition("=")
        if not eqs:
            expect(c in text, "%r not in the decision: %s" % (c, text[:900]))
        elif key == "error":
            errs = [e.get("policy") for e in decision.get("errors") or []]
            said = any(val in r and "error" in r for r in decision.get("reasons", []))
            expect(val in errs or said, "%s is not reported as errored: %s" % (val, text[:900]))
        elif key == "by":
            det = [d.get("policy") for d in decision.get("determining") or []]
            said = any(r.startswith(val + " ") for r in decision.get("reasons", []))
            expect(val in det or said, "%s is not determining: %s" % (val, text[:900]))
        elif key == "cap":
            eq(decision.get("max_duration_seconds"), seconds(val), "decision cap")
        elif key == "version":
            pv = decision.get("policy_version", "")
            expect(pv.startswith("v%s " % val), "policy_version %r is not v%s" % (pv, val))
        elif key == "review":
            expect(grant and grant.get("break_glass"), "review=%s but no break-glass grant" % val)
            due = (ghtest.parse_time(grant["break_glass"]["review_due_at"]) -
                   ghtest.parse_time(grant["granted_at"]))
            expect(abs(due - seconds(val)) <= 2, "the review is due after %ds, not %s" % (due, val))
        elif key == "check":
            expect(req and req.get("approvals"), "check=%s but no approval" % val)
            got = req["approvals"][-1]["checks"]
            expect(any(c == val or c.startswith(val + ":") for c in got),
                   "the last approval has no check %s: %r" % (val, got))
        elif key == "expires":
            expect(grant, "expires=%s but there is no grant" % val)
            span = ghtest.parse_time(grant["expires_at"]) - ghtest.parse_time(grant["granted_at"])
            expect(abs(span - seconds(val)) <= 2, "the grant lasts %ds, not %s" % (span, val))
        else:
            raise Failure("unknown check %r" % c)


def check_text(doc, checks):
    text = json.dumps(doc)
    for c in checks:
        expect("=" not in c, "check %r does not apply here" % c)
        expect(c in text, "%r not in the answer: %s" % (c, text[:900]))


def grant_of(run, req):
    gid = ghtest.grant_id_of(req)
    if not gid:
        return None
    return ghtest.status(run.srv.get("/v1/grants/%s" % gid), 200)


def step_submit(run, person, args, pos, outcome, checks, break_glass=False):
    keys = {"subject", "entitlement", "duration", "channel", "ticket", "requester",
            "emergency", "justification"} | ({"incident"} if break_glass else set())
    allowed(args, pos, keys)
    for k in ("subject", "entitlement", "duration"):
        expect(k in args, "submit needs %s=" % k)
    body = {"channel": args.get("channel", "portal"), "subject": args["subject"],
            "entitlement": run.id_of("entitlement", args["entitlement"]),
            "duration": args["duration"],
            "justification": args.get("justification", "docs/policy.md example")}
    if "ticket" in args:
        body["ticket_ref"] = args["ticket"]
    if "requester" in args:
        body["requester"] = args["requester"]
    if args.get("emergency") == "true":
        body["emergency"] = True
    if break_glass:
        body["break_glass"] = True
        body["incident_ref"] = args.get("incident", "")
    r = run.srv.post("/v1/requests", body, token=run.token(person))
    want = outcome[0]
    if want in ("forbidden", "conflict", "invalid"):
        expect(len(outcome) == 1, "extra words after %s" % want)
        check_text(problem_of(r, PROBLEMS[want], want), checks)
        return
    req = ghtest.status(r, 201, "submit")
    run.requests.append(req["id"])
    if want == "pending":
        expect(len(outcome) == 2, "'pending N' needs the number of approvals")
        eq(req["state"], "pending_approval", "state (%s)" % json.dumps(req["decision"])[:600])
        eq(req["required_approvals"], int(outcome[1]), "required approvals")
    elif want in ("active", "denied"):
        expect(len(outcome) == 1, "extra words after %s" % want)
        eq(req["state"], want, "state (%s)" % json.dumps(req["decision"])[:600])
    else:
        raise Failure("unknown submit outcome %r" % want)
    check_decision(req["decision"], grant_of(run, req), checks)


def step_approve(run, person, args, pos, outcome, checks, verb="approve"):
    allowed(args, pos, {"comment"}, 1)
    rid = run.request_ref(pos[0])
    body = {"comment": args["comment"]} if "comment" in args else {}
    if verb == "reject":
        body.setdefault("comment", "docs/policy.md example")
    r = run.srv.post("/v1/requests/%s/%s" % (rid, verb), body, token=run.token(person))
    if outcome[0] != "ok":
        expect(outcome[0] in PROBLEMS and len(outcome) == 1, "unknown outcome %r" % outcome)
        check_text(problem_of(r, PROBLEMS[outcome[0]], outcome[0]), checks)
        return
    req = ghtest.status(r, 200, verb)
    if len(outcome) == 2:
        state = {"pending": "pending_approval"}.get(outcome[1], outcome[1])
        eq(req["state"], state, "state after %s" % verb)
    expect(len(outcome) <= 2, "unknown outcome %r" % outcome)
    check_decision(req["decision"], grant_of(run, req), checks, req)


def step_reject(run, person, args, pos, outcome, checks):
    step_approve(run, person, args, pos, outcome, checks, verb="reject")


def step_break_glass(run, person, args, pos, outcome, checks):
    step_submit(run, person, args, pos, outcome, checks, break_glass=True)


def step_review(run, person, args, pos, outcome, checks):
    allowed(args, pos, {"outcome", "comment"}, 1)
    req = ghtest.status(run.srv.get("/v1/requests/%s" % run.request_ref(pos[0])), 200)
    gid = ghtest.grant_id_of(req)
    expect(gid, "%s has no grant to review" % pos[0])
    r = run.srv.post("/v1/grants/%s/review" % gid,
                     {"outcome": args.get("outcome", "confirm"),
                      "comment": args.get("comment", "docs/policy.md example")},
                     token=run.token(person))
    if outcome[0] == "ok":
        check_text(ghtest.status(r, 200, "review"), checks)
    else:
        check_text(problem_of(r, PROBLEMS[outcome[0]], outcome[0]), checks)


def step_delegate(run, person, args, pos, outcome, checks):
    allowed(args, pos, {"from", "to", "system", "tag", "expires_in", "reason"})
    body = {"from_group": args["from"], "to_group": args["to"],
            "expires_in": args.get("expires_in", "7d"),
            "reason": args.get("reason", "docs/policy.md example")}
    for k in ("system", "tag"):
        if k in args:
            body[k] = args[k]
    r = run.srv.post("/v1/delegations", body, token=run.token(person))
    if outcome[0] == "ok":
        check_text(ghtest.status(r, 201, "delegate"), checks)
    else:
        check_text(problem_of(r, PROBLEMS[outcome[0]], outcome[0]), checks)


def step_propose(run, person, args, pos, outcome, checks):
    allowed(args, pos, {"policy"})
    r = run.srv.post("/v1/policies", {"text": run.policy(int(args.get("policy", "1"))),
                                      "comment": "docs/policy.md"}, token=run.token(person))
    v = ghtest.status(r, 201, "propose")
    run.proposed.append(v["id"])
    if outcome == ["ok"]:
        eq(v["validation"], [], "validation")
    elif outcome == ["invalid"]:
        expect(v["validation"], "the version validated, expected errors")
    else:
        raise Failure("unknown propose outcome %r" % outcome)
    check_text(v["validation"], checks)


def step_activate(run, person, args, pos, outcome, checks):
    allowed(args, pos, {"version"})
    ref = args.get("version") or (run.proposed[-1] if run.proposed else None)
    expect(ref, "nothing proposed to activate")
    r = run.srv.post("/v1/policies/%s/activate" % ref, {}, token=run.token(person))
    if outcome == ["ok"]:
        v = ghtest.status(r, 200, "activate")
        eq(v["state"], "active", "state")
        sim = run.simulated.get(v["sha256"])
        if sim:
            eq(v["effects"]["requests"], sim["requests"], "activation effects vs the simulation")
            eq(v["effects"]["grants"], sim["grants"], "revocation candidates vs the simulation")
        return
    expect(len(outcome) == 1 and outcome[0] in PROBLEMS, "unknown outcome %r" % outcome)
    check_text(problem_of(r, PROBLEMS[outcome[0]], outcome[0]), checks)


def step_simulate(run, person, args, pos, outcome, checks):
    allowed(args, pos, {"policy"})
    r = run.srv.post("/v1/policies/simulate", {"text": run.policy(int(args.get("policy", "1")))},
                     token=run.token(person))
    rep = ghtest.status(r, 200, "simulate")
    eq(outcome, ["ok"], "simulate outcome")
    run.simulated[rep["policy"]["sha256"]] = rep
    flips = {f["request"]: f["effect"] for f in rep["requests"]["flips"]}
    cands = [c["grant"] for c in rep["grants"]["revocation_candidates"]]
    for c in checks:
        key, eqs, val = c.partition("=")
        if key == "flips" and eqs:
            eq(len(flips), int(val), "flips")
        elif key == "candidates" and eqs:
            eq(len(cands), int(val), "revocation candidates")
        elif key == "candidate" and eqs:
            req = ghtest.status(run.srv.get("/v1/requests/%s" % run.request_ref(val)), 200)
            gid = ghtest.grant_id_of(req)
            expect(gid and gid in cands, "the grant of %s (%s) is not a candidate: %r" % (
                val, gid, cands))
        elif key.startswith("#") and eqs:
            rid = run.request_ref(key)
            eq(flips.get(rid, "none"), val, "the flip of %s" % key)
        else:
            check_text(rep, [c])


def step_state(run, person, args, pos, outcome, checks):
    allowed(args, pos, set(), 1)
    req = ghtest.status(run.srv.get("/v1/requests/%s" % run.request_ref(pos[0]),
                                    token=run.token(person)), 200, "request")
    state = {"pending": "pending_approval"}.get(outcome[0], outcome[0])
    eq(req["state"], state, "state of %s" % pos[0])
    if outcome[0] == "pending":
        expect(len(outcome) == 2, "'pending N' needs the number of approvals")
        eq(req["required_approvals"], int(outcome[1]), "required approvals")
    else:
        expect(len(outcome) == 1, "extra words after %s" % outcome[0])
    check_text(req, checks)


STEPS = {"submit": step_submit, "break-glass": step_break_glass, "approve": step_approve,
         "reject": step_reject, "review": step_review, "delegate": step_delegate,
         "propose": step_propose, "activate": step_activate, "simulate": step_simulate,
         "state": step_state}


def run_example(t, binary, ex, idx):
    run = Run(t, binary, ex, idx)
    try:
        run.seed()
        verbs = [s[1].split(None, 1)[0] for s in ex.steps]
        if ex.policies and "propose" not in verbs and "activate" not in verbs:
            step_propose(run, "grace", {}, [], ["ok"], [])
            step_activate(run, SECOND_IAM, {}, [], ["ok"], [])
        for lineno, text in ex.steps:
            try:
                verb, person, args, pos, outcome, checks = parse_step(text)
                expect(verb in STEPS, "unknown step %r" % verb)
                STEPS[verb](run, person, args, pos, outcome, checks)
            except Failure as e:
                raise Failure("docs/policy.md:%d: %s\n  %s" % (lineno, text, e)) from None
    finally:
        run.t.stop(run.srv)


def body(t, binary):
    examples = []

    def parse():
        examples.extend(parse_doc(DOC))
        expect(len(examples) >= MIN_EXAMPLES, "docs/policy.md has %d examples, expected at"
               " least %d (a parse mistake?)" % (len(examples), MIN_EXAMPLES))
        for ex in examples:
            for lineno, text in ex.steps:
                verb = text.split(None, 1)[0]
                expect(verb in STEPS, "docs/policy.md:%d: unknown step %r" % (lineno, verb))
    if not t.case("docs/policy.md parses into at least %d examples" % MIN_EXAMPLES, parse):
        return
    for idx, ex in enumerate(examples, 1):
        t.case(ex.name(), run_example, t, binary, ex, idx)


if __name__ == "__main__":
    ghtest.main(body)
