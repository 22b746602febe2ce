// differential.mjs - decides random Cedar cases with Gatehouse and with the reference
// (@cedar-policy/cedar-wasm) and compares decision, reasons and erroring policies.
//
//   node differential.mjs --bin BUILD/gatehouse [--seed S] [--cases N] [--first K]
//                         [--record [DIR]] [--verbose] [--dump DIR]
//   node differential.mjs --self-check [--cedar-dir DIR]
//
// Prints "differential: A agree, D disagree of N cases (seed S)"; exit 0 when the run
// completed (disagreements are counted, not fatal: run_differential.sh holds the floor),
// 2 on usage errors or a broken reference. With --record, each disagreeing case is written
// to DIR (default tests/cedar/regressions) as a Cedar integration test whose expectations
// are the reference's answers.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCase, parseSeed } from './generate.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const REGRESSIONS = path.join(REPO, 'tests/cedar/regressions');
const require = createRequire(import.meta.url);

function loadCedar() {
	try {
		return require('@cedar-policy/cedar-wasm/nodejs');
	} catch (e) {
		console.error(`differential: cannot load @cedar-policy/cedar-wasm (run scripts/install-deps.sh): ${e.message}`);
		process.exit(2);
	}
}
const cedar = loadCedar();

// --- the reference --------------------------------------------------------

// {ok: true, decision, reasons, errors: [id], messages: {id: text}} or {ok: false, why}.
// policies: an array of policy texts (ids policy0.. in order) or one text.
function reference(policies, entities, req, schema, validateRequest) {
	const staticPolicies = Array.isArray(policies)
		? Object.fromEntries(policies.map((p, i) => [`policy${i}`, p]))
		: policies;
	const call = {
		principal: req.principal, action: req.action, resource: req.resource,
		context: req.context || {}, policies: { staticPolicies }, entities,
	};
	if (schema !== undefined) {
		call.schema = schema;
		call.validateRequest = validateRequest !== false;
	}
	let ans;
	try {
		ans = cedar.isAuthorized(call);
	} catch (e) {
		return { ok: false, why: `reference threw: ${e.message}` };
	}
	if (ans.type !== 'success') return { ok: false, why: ans.errors.map((e) => e.message).join('; ') };
	const d = ans.response.diagnostics;
	const messages = {};
	for (const e of d.errors) messages[e.policyId] = e.error.message;
	return { ok: true, decision: ans.response.decision, reasons: d.reason.slice(), errors: d.errors.map((e) => e.policyId), messages };
}

// --- Gatehouse ------------------------------------------------------------

// Same shape as reference(); {ok: false} when Gatehouse refused the input (exit 2) or
// failed otherwise (crash: crashed set).
function gatehouse(bin, dir, req) {
	const rpath = path.join(dir, 'request.json');
	fs.writeFileSync(rpath, JSON.stringify(req));
	const r = spawnSync(bin, ['policy', 'authorize', '--policies', path.join(dir, 'policies.cedar'),
		'--entities', path.join(dir, 'entities.json'), '--request', rpath],
	{ encoding: 'utf8', timeout: 10000 });
	// the temporary folder is not worth keeping in a recorded description
	const stderr = (r.stderr || '').trim().split(dir + path.sep).join('');
	if (r.error) return { ok: false, crashed: true, why: `could not run ${bin}: ${r.error.message}` };
	if (r.signal) return { ok: false, crashed: true, why: `killed by ${r.signal}: ${stderr}` };
	if (r.status !== 0) return { ok: false, crashed: r.status !== 2, why: `exit ${r.status}: ${stderr}` };
	let out;
	try {
		out = JSON.parse(r.stdout);
	} catch (e) {
		return { ok: false, crashed: true, why: `output is not JSON: ${r.stdout.slice(0, 200)}` };
	}
	return {
		ok: true, decision: out.decision, reasons: out.reasons || [],
		errors: (out.errors || []).map((e) => e.policy),
		messages: Object.fromEntries((out.errors || []).map((e) => [e.policy, e.message])),
	};
}

// --- comparing ------------------------------------------------------------

function sameSet(a, b) {
	const x = new Set(a), y = new Set(b);
	return x.size === y.size && [...x].every((v) => y.has(v));
}

// '' when the two agree, else what differs.
function compare(ref, gh) {
	if (!ref.ok && !gh.ok) return gh.crashed ? `gatehouse failed: ${gh.why}` : '';
	if (!ref.ok) return `the reference refused the input (${ref.why}) but gatehouse decided`;
	if (!gh.ok) return gh.crashed ? "gatehouse failed" : "gatehouse refused the input";
	const diffs = [];
	if (ref.decision !== gh.decision) diffs.push('decision');
	if (!sameSet(ref.reasons, gh.reasons)) diffs.push('reasons');
	if (!sameSet(ref.errors, gh.errors)) diffs.push('errors');
	return diffs.length ? `the ${diffs.join(' and ')} differ${diffs.length === 1 ? 's' : ''}` : '';
}

function brief(a) {
	return a.ok ? JSON.stringify({ decision: a.decision, reasons: a.reasons, errors: a.errors }) : `(${a.why})`;
}

// --- writing cases --------------------------------------------------------

function policyText(c) {
	return c.policies.join('\n\n') + '\n';
}

// Writes case c as a Cedar integration test under dir: NAME.cedar, NAME.entities.json and
// NAME.json holding the given requests with the reference's answers.
function writeTest(dir, c, reqs, descriptions) {
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, `${c.name}.cedar`), policyText(c));
	fs.writeFileSync(path.join(dir, `${c.name}.entities.json`), JSON.stringify(c.entities, null, 1) + '\n');
	const test = {
		policies: `${c.name}.cedar`,
		entities: `${c.name}.entities.json`,
		requests: reqs.map(({ req, ref }, i) => ({
			description: descriptions[i],
			principal: req.principal, action: req.action, resource: req.resource, context: req.context,
			decision: ref.decision, reason: ref.reasons, errors: ref.errors,
		})),
	};
	fs.writeFileSync(path.join(dir, `${c.name}.json`), JSON.stringify(test, null, 1) + '\n');
}

// --- the self-check of the reference ---------------------------------------

// Hand-written cases whose answers follow from Cedar's semantics alone.
const KNOWN = [
	{
		what: 'permit matches; forbid with a missing attribute errors and is skipped',
		policies: ['permit(principal == User::"alice", action, resource);',
			'forbid(principal, action, resource) when { principal.missing };'],
		entities: [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [] }],
		req: { principal: { type: 'User', id: 'alice' }, action: { type: 'Action', id: 'view' }, resource: { type: 'Doc', id: 'd' }, context: {} },
		want: { decision: 'allow', reasons: ['policy0'], errors: ['policy1'] },
	},
	{
		what: 'forbid overrides permit; the hierarchy is transitive',
		policies: ['permit(principal, action, resource);',
			'forbid(principal in Group::"top", action, resource) when { context.n + 1 == 2 };'],
		entities: [
			{ uid: { type: 'User', id: 'bob' }, attrs: {}, parents: [{ type: 'Group', id: 'mid' }] },
			{ uid: { type: 'Group', id: 'mid' }, attrs: {}, parents: [{ type: 'Group', id: 'top' }] },
			{ uid: { type: 'Group', id: 'top' }, attrs: {}, parents: [] }],
		req: { principal: { type: 'User', id: 'bob' }, action: { type: 'Action', id: 'view' }, resource: { type: 'Doc', id: 'd' }, context: { n: 1 } },
		want: { decision: 'deny', reasons: ['policy1'], errors: [] },
	},
	{
		what: 'overflow is an error; default deny',
		policies: ['permit(principal, action, resource) when { 9223372036854775807 + context.n > 0 };',
			'permit(principal, action, resource) when { context.s like "a*c" && !(context.s like "a\\*c") };'],
		entities: [],
		req: { principal: { type: 'User', id: 'x' }, action: { type: 'Action', id: 'view' }, resource: { type: 'Doc', id: 'd' }, context: { n: 1, s: 'a*' } },
		want: { decision: 'deny', reasons: [], errors: ['policy0'] },
	},
	{
		what: 'extensions and tags',
		policies: ['permit(principal, action, resource) when { principal.ip.isInRange(ip("10.0.0.0/8")) && principal.getTag("k") == "v" };',
			'permit(principal, action, resource) when { decimal("1.5").lessThan(principal.d) && datetime("2024-01-01").offset(duration("1d")) == datetime("2024-01-02") };',
			'permit(principal, action, resource) when { principal.getTag("nope") };'],
		entities: [{ uid: { type: 'User', id: 'u' }, attrs: { ip: { __extn: { fn: 'ip', arg: '10.1.2.3' } }, d: { __extn: { fn: 'decimal', arg: '2.0' } } }, parents: [], tags: { k: 'v' } }],
		req: { principal: { type: 'User', id: 'u' }, action: { type: 'Action', id: 'view' }, resource: { type: 'Doc', id: 'd' }, context: {} },
		want: { decision: 'allow', reasons: ['policy0', 'policy1'], errors: ['policy2'] },
	},
];

function selfCheck(cedarDir) {
	let ok = 0, bad = 0;
	const check = (what, got, want) => {
		const why = compare({ ok: true, ...want }, got);
		if (why) {
			bad++;
			console.log(`self-check: FAIL ${what}: want ${JSON.stringify(want)}, reference says ${brief(got)}`);
		} else {
			ok++;
		}
	};
	for (const k of KNOWN) {
		check(k.what, reference(k.policies, k.entities, k.req), k.want);
		// the ids of one policy text must be those of the map policy0.. in order
		check(`${k.what} (as one text)`, reference(k.policies.join('\n'), k.entities, k.req), k.want);
	}
	// integration tests: the shared handwritten ones (paths relative to the Cedar folder) and
	// the recorded regressions (paths relative to their folder), whose answers are the reference's
	let files = 0;
	const walk = (d) => fs.readdirSync(d).sort().flatMap((n) => {
		const p = path.join(d, n);
		if (n.startsWith('.')) return [];
		return fs.statSync(p).isDirectory() ? walk(p) : n.endsWith('.json') && !n.endsWith('.entities.json') ? [p] : [];
	});
	const suites = [];
	if (cedarDir && fs.existsSync(path.join(cedarDir, 'tests'))) suites.push([cedarDir, path.join(cedarDir, 'tests')]);
	else console.log(`self-check: no Cedar tests in ${cedarDir} (set GH_CEDAR_DIR): built-in cases only`);
	if (fs.existsSync(REGRESSIONS)) suites.push([REGRESSIONS, REGRESSIONS]);
	for (const [root, dir] of suites) {
		for (const f of walk(dir)) {
			const t = JSON.parse(fs.readFileSync(f, 'utf8'));
			if (!t.policies || !t.requests) continue;
			files++;
			const rd = (p) => fs.readFileSync(path.resolve(root, p), 'utf8');
			const pol = rd(t.policies);
			const ents = t.entities ? JSON.parse(rd(t.entities)) : [];
			const schema = t.schema ? rd(t.schema) : undefined;
			t.requests.forEach((r, i) => check(`${f} request ${i} (${r.description})`,
				reference(pol, ents, r, schema, r.validateRequest),
				{ decision: r.decision, reasons: r.reason || [], errors: r.errors || [] }));
		}
	}
	console.log(`self-check: ${ok}/${ok + bad} reference answers as expected (cedar-wasm ${cedar.getCedarVersion()}; ${KNOWN.length} built-in cases, ${files} test files)`);
	return bad === 0 && ok > 0;
}

// --- the run ---------------------------------------------------------------

function usage(msg) {
	if (msg) console.error(`differential: ${msg}`);
	console.error('usage: node differential.mjs --bin GATEHOUSE [--seed S] [--cases N] [--first K] [--record [DIR]] [--verbose] [--dump DIR]\n'
		+ '       node differential.mjs --self-check [--cedar-dir DIR]');
	process.exit(2);
}

function parseArgs(argv) {
	const o = { seed: '1', cases: 100, first: 0, record: null, verbose: false, bin: null, selfCheck: false, cedarDir: null, dump: null };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i], val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
		if (a === '--seed') o.seed = val();
		else if (a === '--cases') o.cases = Number(val());
		else if (a === '--first') o.first = Number(val());
		else if (a === '--bin') o.bin = val();
		else if (a === '--record') o.record = i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[++i] : REGRESSIONS;
		else if (a === '--verbose') o.verbose = true;
		else if (a === '--self-check') o.selfCheck = true;
		else if (a === '--cedar-dir') o.cedarDir = val();
		else if (a === '--dump') o.dump = val();
		else usage(`unknown argument ${a}`);
	}
	if (!Number.isInteger(o.cases) || o.cases < 0 || !Number.isInteger(o.first) || o.first < 0) usage('--cases and --first take a count');
	return o;
}

function main() {
	const o = parseArgs(process.argv.slice(2));
	if (o.selfCheck) {
		const dir = o.cedarDir || process.env.GH_CEDAR_DIR || path.join(REPO, '../shared/cedar');
		process.exit(selfCheck(dir) ? 0 : 1);
	}
	if (!o.bin && !o.dump) usage('--bin GATEHOUSE is required');
	const seed = parseSeed(o.seed);
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-differential-'));
	let agree = 0, disagree = 0, refused = 0, recorded = 0, unrecordable = 0, requests = 0;
	const t0 = Date.now();
	try {
		for (let k = o.first; k < o.first + o.cases; k++) {
			const c = generateCase(seed, k);
			const refs = c.requests.map((req) => reference(c.policies, c.entities, req));
			if (refs.some((r) => !r.ok)) refused++;
			if (o.dump) {
				const good = c.requests.map((req, i) => ({ req, ref: refs[i] })).filter((x) => x.ref.ok);
				if (good.length) writeTest(o.dump, c, good, good.map((_, i) => `${c.name} request ${i}`));
			}
			if (!o.bin) continue;
			fs.writeFileSync(path.join(tmp, 'policies.cedar'), policyText(c));
			fs.writeFileSync(path.join(tmp, 'entities.json'), JSON.stringify(c.entities));
			const bad = [];
			requests += c.requests.length;
			c.requests.forEach((req, i) => {
				const gh = gatehouse(o.bin, tmp, req);
				const why = compare(refs[i], gh);
				if (why) bad.push({ i, req, ref: refs[i], gh, why });
			});
			if (!bad.length) {
				agree++;
				continue;
			}
			disagree++;
			for (const b of bad) {
				if (o.verbose || disagree <= 5) {
					console.log(`disagree ${c.name} request ${b.i}: ${b.why}\n  reference ${brief(b.ref)}\n  gatehouse ${brief(b.gh)}`);
				}
			}
			if (o.record) {
				const keep = bad.filter((b) => b.ref.ok);
				unrecordable += bad.length - keep.length;
				if (keep.length) {
					writeTest(o.record, c, keep, keep.map((b) => `${c.name} request ${b.i}: ${b.why} (gatehouse: ${brief(b.gh).slice(0, 300)})`));
					recorded++;
				}
			}
		}
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
	const n = o.cases;
	if (disagree > 5 && !o.verbose) console.log(`(${disagree - 5} more disagreeing cases; --verbose lists them all)`);
	if (refused) console.log(`note: the reference refused the input of ${refused} cases (a generator bug: compared as "both refuse")`);
	if (o.record) console.log(`recorded ${recorded} cases in ${o.record}${unrecordable ? `; ${unrecordable} requests not recordable (the reference refused the input)` : ''}`);
	if (o.dump) console.log(`wrote the cases to ${o.dump}`);
	if (o.bin) {
		console.log(`time: ${((Date.now() - t0) / 1000).toFixed(1)}s for ${requests} requests`);
		console.log(`differential: ${agree} agree, ${disagree} disagree of ${n} cases (seed ${o.seed})`);
	}
}

main();
