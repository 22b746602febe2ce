// bench.js DIR [SECONDS] [full|slice] - cedar-wasm's side of bench_policy: decides the
// requests in DIR/requests.json against DIR/policies.cedar and
// DIR/entities.json (the files bench_policy wrote), with the policy set
// pre-parsed (preparsePolicySet) and the entities parsed from JSON once in
// JS; prints decisions/s, p50 and p99, and counts disagreements with
// DIR/gatehouse_decisions.txt (decision and reason set per request).
// cedar-wasm cannot pre-parse entities: every call takes them as JSON. "full"
// passes the whole entity set (the same input Gatehouse has); "slice" passes
// per request only the entities reachable from its principal, action,
// resource and context through parents and entity-valued attributes (computed
// before timing) - the same decisions, and cedar-wasm's best case.
'use strict';
const fs = require('fs');
const path = require('path');
const cedar = require('@cedar-policy/cedar-wasm/nodejs');

const dir = process.argv[2];
const seconds = Number(process.argv[3] || 4);
const mode = process.argv[4] || 'full';
if (!dir) {
  console.error('usage: node bench.js DIR [SECONDS]');
  process.exit(2);
}
const name = path.basename(dir);
const policies = fs.readFileSync(path.join(dir, 'policies.cedar'), 'utf8');
const entities = JSON.parse(fs.readFileSync(path.join(dir, 'entities.json'), 'utf8'));
const requests = JSON.parse(fs.readFileSync(path.join(dir, 'requests.json'), 'utf8'));
let expected = [];
try {
  expected = fs.readFileSync(path.join(dir, 'gatehouse_decisions.txt'), 'utf8').split('\n');
} catch (e) { /* compare nothing */ }

const key = (u) => `${u.type}\u0000${u.id}`;
const byUid = new Map(entities.map((e) => [key(e.uid), e]));
function refs(v, out) {
  if (Array.isArray(v)) { v.forEach((x) => refs(x, out)); return; }
  if (v && typeof v === 'object') {
    if (v.__entity) { out.push(v.__entity); return; }
    if (v.__extn) return;
    Object.values(v).forEach((x) => refs(x, out));
  }
}
function slice(r) {
  const seen = new Set(), out = [], todo = [r.principal, r.action, r.resource];
  refs(r.context, todo);
  while (todo.length) {
    const u = todo.pop(), k = key(u);
    if (seen.has(k)) continue;
    seen.add(k);
    const e = byUid.get(k);
    if (!e) continue;
    out.push(e);
    (e.parents || []).forEach((p) => todo.push(p));
    refs(e.attrs || {}, todo);
  }
  return out;
}
const slices = mode === 'slice' ? requests.map(slice) : null;

const pre = cedar.preparsePolicySet('bench', { staticPolicies: policies });
if (pre.type !== 'success') {
  console.error(`${name}: preparsePolicySet failed: ${JSON.stringify(pre.errors).slice(0, 500)}`);
  process.exit(1);
}

function decide(r, i) {
  const ans = cedar.statefulIsAuthorized({
    principal: r.principal, action: r.action, resource: r.resource, context: r.context,
    preparsedPolicySetId: 'bench', entities: slices ? slices[i] : entities,
  });
  if (ans.type !== 'success')
    throw new Error(`${name}: isAuthorized failed: ${JSON.stringify(ans.errors).slice(0, 500)}`);
  return ans.response;
}

// Agreement first (and warm-up): every request once, bounded in time.
let compared = 0, disagree = 0, allow = 0, errors = 0, firstBad = '';
const agreeDeadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 3e9));
for (let i = 0; i < requests.length; i++) {
  const resp = decide(requests[i], i);
  const dec = resp.decision === 'allow' ? 'allow' : 'deny';
  allow += dec === 'allow';
  errors += resp.diagnostics.errors.length;
  if (expected[i]) {
    const [gd, ...greasons] = expected[i].trim().split(' ');
    const mine = [...resp.diagnostics.reason].sort().join(' ');
    const theirs = greasons.sort().join(' ');
    compared++;
    if (gd !== dec || mine !== theirs) {
      disagree++;
      if (!firstBad)
        firstBad = `request ${i}: gatehouse "${expected[i].trim()}" cedar-wasm "${dec} ${mine}"`;
    }
  }
  if (process.hrtime.bigint() > agreeDeadline)
    break;
}

// Throughput and latency: each decision timed, whole passes until time is up.
const lat = [];
const t0 = process.hrtime.bigint();
const deadline = t0 + BigInt(Math.round(seconds * 1e9));
let done = 0;
outer:
for (;;) {
  for (let i = 0; i < requests.length; i++) {
    const a = process.hrtime.bigint();
    decide(requests[i], i);
    const b = process.hrtime.bigint();
    lat.push(Number(b - a));
    done++;
    if (b > deadline)
      break outer;
  }
}
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
lat.sort((x, y) => x - y);
const q = (f) => (lat[Math.min(lat.length - 1, Math.floor(lat.length * f))] / 1e3).toFixed(2);
console.log(`policy engine=cedar-wasm-${cedar.getCedarVersion()}-${mode} workload=${name} requests=${requests.length} ` +
  `decided=${done} decisions_per_s=${(done / elapsed).toFixed(0)} p50_us=${q(0.5)} p99_us=${q(0.99)} ` +
  `compared=${compared} disagreements=${disagree} allow=${allow} errors=${errors}` +
  (firstBad ? ` first_disagreement=${JSON.stringify(firstBad)}` : ''));
