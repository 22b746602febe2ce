// bench.js - Cerbos's side of bench_policy's governance workload.
//   node bench.js gen DIR POLICYDIR
//     translates DIR/policies.cedar, DIR/entities.json and DIR/requests.json
//     (the files bench_policy -o wrote) into Cerbos resource policies (YAML,
//     in POLICYDIR) and check requests (DIR/cerbos_requests.json).
//   node bench.js run DIR URL SECONDS CLIENTS [BATCH]
//     checks every request once against the server at URL (loopback only)
//     and counts disagreements with DIR/gatehouse_decisions.txt, then posts
//     POST /api/check/resources from CLIENTS concurrent keep-alive clients for
//     SECONDS: one decision per call (BATCH 1), or BATCH resources (each with
//     its request's action) for one principal per call.
//   node bench.js floor DIR URL SECONDS CLIENTS
//     the same loop with one decision per call for a resource kind that has no
//     policy (the same principal): Cerbos's HTTP + JSON + request path alone.
// Cerbos has no entity graph: a user's groups (team, dept, org, transitively)
// become its roles, a document's folders (transitively) a resource attribute
// "folders"; the Cedar request context goes into principal attribute "ctx".
'use strict';
const fs = require('fs');
const path = require('path');
const http = require('http');

function die(msg) {
	console.error(`cerbos bench: ${msg}`);
	process.exit(1);
}

// --- gen ----------------------------------------------------------------------

const q = (s) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar

function translateCond(body) {
	let c = body
		.replace(/resource has (\w+)/g, 'has(R.attr.$1)')
		.replace(/resource\.owner == principal/g, 'R.attr.owner == P.id')
		.replace(/resource\.tags\.contains\(("[^"]*")\)/g, '$1 in R.attr.tags')
		.replace(/context\.ip\.isInRange\(ip\(("[^"]*")\)\)/g, 'P.attr.ctx.ip.inIPAddrRange($1)')
		.replace(/\bcontext\./g, 'P.attr.ctx.')
		.replace(/\bprincipal\./g, 'P.attr.')
		.replace(/\bresource\./g, 'R.attr.');
	if (/\b(principal|resource|context|isInRange|contains)\b|::/.test(c.replace(/"[^"]*"/g, '')))
		die(`untranslated condition: ${body}`);
	return c;
}

function gen(dir, pdir) {
	const text = fs.readFileSync(path.join(dir, 'policies.cedar'), 'utf8');
	const entities = JSON.parse(fs.readFileSync(path.join(dir, 'entities.json'), 'utf8'));
	const requests = JSON.parse(fs.readFileSync(path.join(dir, 'requests.json'), 'utf8'));
	const byKey = new Map(entities.map((e) => [`${e.uid.type}::${e.uid.id}`, e]));
	const ancestors = (e, type) => {
		const out = [], seen = new Set(), todo = [...(e.parents || [])];
		while (todo.length) {
			const p = todo.pop(), k = `${p.type}::${p.id}`;
			if (seen.has(k)) continue;
			seen.add(k);
			if (p.type === type) out.push(p.id);
			const pe = byKey.get(k);
			if (pe) todo.push(...(pe.parents || []));
		}
		return out;
	};
	// action groups: "read" -> [read, view, list, comment, export]
	const members = new Map();
	for (const e of entities) {
		if (e.uid.type !== 'Action') continue;
		for (const g of ancestors(e, 'Action')) {
			if (!members.has(g)) members.set(g, [g]);
			members.get(g).push(e.uid.id);
		}
	}
	const expand = (a) => members.get(a) || [a];

	const chunks = text.split(/\n\s*\n/).map((s) => s.trim()).filter(Boolean);
	const rules = { document: [], folder: [] };
	const head = /^(?:@id\("[^"]*"\)\s*)?(permit|forbid)\(principal(?: (==|in) (\w+)::"([^"]*)"| is (\w+))?, action(?: == Action::"([^"]*)"| in Action::"([^"]*)"| in \[([^\]]*)\])?, resource(?: is (\w+))?(?: in (\w+)::"([^"]*)")?\)\s*(?:(when|unless) \{ (.*) \})?;$/s;
	chunks.forEach((src, i) => {
		const m = head.exec(src);
		if (!m) die(`policy${i} has a shape this translator does not know:\n${src}`);
		const [, effect, pop, ptype, pid, pis, aeq, ain, alist, ris, rintype, rinid, ckind, cbody] = m;
		if ((ptype && ptype !== 'Group' && ptype !== 'User') || (pis && pis !== 'User') ||
		    (rintype && rintype !== 'Folder'))
			die(`policy${i}: unexpected entity type in scope`);
		let roles = ['*'];
		const conds = [];
		if (pop === 'in') roles = [pid];
		else if (pop === '==') conds.push(`P.id == ${q(pid)}`);
		let actions = ['*'];
		if (aeq) actions = [aeq];
		else if (ain) actions = expand(ain);
		else if (alist) actions = [...new Set(alist.split(',').map((s) => /"([^"]*)"/.exec(s)[1]).flatMap(expand))];
		if (rinid) conds.push(`${q(rinid)} in R.attr.folders`);
		if (cbody) {
			const c = translateCond(cbody);
			conds.push(ckind === 'unless' ? `!(${c})` : `(${c})`);
		}
		const rule = [
			`    - name: policy${i}`,
			`      actions: [${actions.map(q).join(', ')}]`,
			`      effect: ${effect === 'permit' ? 'EFFECT_ALLOW' : 'EFFECT_DENY'}`,
			`      roles: [${roles.map(q).join(', ')}]`,
		];
		if (conds.length)
			rule.push('      condition:', '        match:', `          expr: ${q(conds.join(' && '))}`);
		const r = rule.join('\n');
		if (!ris || ris === 'Document') rules.document.push(r);
		if (!ris || ris === 'Folder') rules.folder.push(r);
	});
	fs.mkdirSync(pdir, { recursive: true });
	for (const kind of Object.keys(rules)) {
		fs.writeFileSync(path.join(pdir, `${kind}.yaml`),
			`# generated by bench/cerbos/bench.js from ${chunks.length} Cedar policies\n` +
			'apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  version: "default"\n' +
			`  resource: ${q(kind)}\n  rules:\n${rules[kind].join('\n')}\n`);
	}

	const kindOf = { Document: 'document', Folder: 'folder' };
	const principal = (uid, ctx) => {
		const e = byKey.get(`${uid.type}::${uid.id}`);
		const roles = ancestors(e, 'Group');
		const c = {};
		for (const [k, v] of Object.entries(ctx)) c[k] = v && v.__extn ? v.__extn.arg : v;
		return { id: uid.id, roles: roles.length ? roles : ['user'], attr: { ...e.attrs, ctx: c } };
	};
	const resource = (uid) => {
		const e = byKey.get(`${uid.type}::${uid.id}`);
		const attr = {};
		for (const [k, v] of Object.entries(e.attrs)) attr[k] = v && v.__entity ? v.__entity.id : v;
		const folders = ancestors(e, 'Folder');
		if (uid.type === 'Folder') folders.unshift(uid.id); // resource in Folder::f holds for f itself
		attr.folders = folders;
		return { kind: kindOf[uid.type], id: uid.id, attr };
	};
	const out = requests.map((r) => ({
		principal: principal(r.principal, r.context),
		action: r.action.id,
		resource: resource(r.resource),
	}));
	fs.writeFileSync(path.join(dir, 'cerbos_requests.json'), JSON.stringify(out));
	console.log(`cerbos gen workload=${path.basename(dir)} policies=${chunks.length} ` +
		`document_rules=${rules.document.length} folder_rules=${rules.folder.length} requests=${out.length}`);
}

// --- run ----------------------------------------------------------------------

function run(dir, url, seconds, clients, batch, floor) {
	const u = new URL(url);
	if (u.hostname !== '127.0.0.1') die('refusing a URL that is not http://127.0.0.1:PORT');
	const reqs = JSON.parse(fs.readFileSync(path.join(dir, 'cerbos_requests.json'), 'utf8'));
	let expected = [];
	try {
		expected = fs.readFileSync(path.join(dir, 'gatehouse_decisions.txt'), 'utf8').split('\n');
	} catch (e) { /* compare nothing */ }
	const body = (k, n) => {
		const p = reqs[k % reqs.length].principal;
		const resources = [];
		for (let j = 0; j < n; j++) {
			const r = reqs[(k + j) % reqs.length];
			resources.push({ actions: [r.action], resource: r.resource });
		}
		return Buffer.from(JSON.stringify({ requestId: `r${k}`, principal: p, resources }));
	};
	const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
	const post = (buf) => new Promise((resolve, reject) => {
		const rq = http.request({
			host: u.hostname, port: u.port, path: '/api/check/resources', method: 'POST', agent,
			headers: { 'content-type': 'application/json', 'content-length': buf.length },
		}, (res) => {
			const parts = [];
			res.on('data', (d) => parts.push(d));
			res.on('end', () => {
				const s = Buffer.concat(parts).toString();
				if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${s.slice(0, 300)}`));
				else resolve(s);
			});
		});
		rq.on('error', reject);
		rq.end(buf);
	});

	(async () => {
		// agreement (and warm-up): each request once, one decision per call
		const single = reqs.map((_, k) => body(k, 1));
		let disagree = 0, allow = 0, firstBad = '';
		if (floor) {
			for (const r of reqs) r.resource = { kind: 'nopolicy', id: r.resource.id, attr: r.resource.attr };
			single.splice(0, single.length, ...reqs.map((_, k) => body(k, 1)));
			expected = [];
		}
		for (let k = 0; k < reqs.length && !floor; k++) {
			const ans = JSON.parse(await post(single[k]));
			const eff = ans.results[0].actions[reqs[k].action];
			const got = eff === 'EFFECT_ALLOW' ? 'allow' : 'deny';
			if (got === 'allow') allow++;
			const want = (expected[k] || '').split(' ')[0];
			if (want && want !== got) {
				disagree++;
				if (!firstBad) firstBad = `request ${k}: cerbos ${got}, gatehouse ${expected[k]}`;
			}
		}
		const bodies = batch === 1 ? single : reqs.map((_, k) => body(k, batch));
		const lat = [];
		let calls = 0, next = 0, errors = 0, lastErr = '';
		const t0 = process.hrtime.bigint();
		const end = t0 + BigInt(Math.round(seconds * 1e9));
		const client = async () => {
			while (process.hrtime.bigint() < end) {
				const k = next++ % bodies.length;
				const s = process.hrtime.bigint();
				try {
					await post(bodies[k]);
				} catch (e) {
					errors++;
					lastErr = e.message;
					if (errors > 100) return;
					continue;
				}
				lat.push(Number(process.hrtime.bigint() - s) / 1e3);
				calls++;
			}
		};
		await Promise.all(Array.from({ length: clients }, client));
		const el = Number(process.hrtime.bigint() - t0) / 1e9;
		lat.sort((a, b) => a - b);
		const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
		console.log(`cerbos workload=${floor ? 'floor' : path.basename(dir)} batch=${batch} clients=${clients} ` +
			`decisions_per_s=${Math.round((calls * batch) / el)} calls_per_s=${Math.round(calls / el)} ` +
			`p50_us=${pct(0.5).toFixed(0)} p99_us=${pct(0.99).toFixed(0)} ` +
			`${batch === 1 ? '' : '(per call) '}calls=${calls} errors=${errors} ` +
			(floor ? '' : `allow=${allow} `) + `disagreements=${disagree} compared=${expected.length ? reqs.length : 0}` +
			(firstBad ? ` first: ${firstBad}` : '') + (lastErr ? ` last_error: ${lastErr}` : ''));
		agent.destroy();
		process.exit(disagree || errors ? 1 : 0);
	})().catch((e) => die(e.message));
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'gen' && args.length === 2) gen(args[0], args[1]);
else if (cmd === 'run' && args.length >= 4)
	run(args[0], args[1], Number(args[2]), Math.max(1, Number(args[3]) | 0), Math.max(1, Number(args[4] || 1) | 0));
else if (cmd === 'floor' && args.length === 4)
	run(args[0], args[1], Number(args[2]), Math.max(1, Number(args[3]) | 0), 1, true);
else die('usage: node bench.js gen DIR POLICYDIR | run DIR URL SECONDS CLIENTS [BATCH] | floor DIR URL SECONDS CLIENTS');
