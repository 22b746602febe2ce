// generate.mjs - random Cedar cases (policies, entities, requests) from a seed, for differential testing.
//
// A case is { name, policies: [text...], entities: [json...], requests: [{principal, action,
// resource, context}] } with no schema. Every JSON long is a safe integer (|n| < 2^53): the
// reference reads JSON numbers as doubles; longs near the 64-bit limits appear as literals in
// policy text, where both sides read them exactly. Inputs are meant to load on both sides
// (no hierarchy cycles, no invalid extension values in JSON, no reserved words as
// identifiers); evaluation errors are wanted and are generated on purpose.

// --- PRNG: mulberry32 seeded per case, so case k of seed s never depends on other cases ---

function mix(a, b) {
	let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
	h ^= h >>> 16;
	h = Math.imul(h, 0x7feb352d) >>> 0;
	h ^= h >>> 15;
	return h >>> 0;
}

export function makeRng(seed, k) {
	let a = mix(seed >>> 0, k >>> 0);
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const r = {
		float: next,
		int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
		chance: (p) => next() < p,
		pick: (arr) => arr[Math.floor(next() * arr.length)],
		// pick by weight: [[w, value], ...]
		weighted: (pairs) => {
			let total = 0;
			for (const [w] of pairs) total += w;
			let x = next() * total;
			for (const [w, v] of pairs) {
				if ((x -= w) < 0) return v;
			}
			return pairs[pairs.length - 1][1];
		},
		sample: (arr, n) => {
			const c = arr.slice(), out = [];
			while (out.length < n && c.length) out.push(c.splice(Math.floor(next() * c.length), 1)[0]);
			return out;
		},
	};
	return r;
}

// A seed from the command line: a decimal number, else a hash of the text.
export function parseSeed(s) {
	if (/^\d+$/.test(s)) return Number(BigInt(s) & 0xffffffffn);
	let h = 2166136261;
	for (const ch of s) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
	return h;
}

// --- the vocabulary ---

const RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has',
	'principal', 'action', 'resource', 'context', 'permit', 'forbid', 'when', 'unless', '__cedar']);
// attribute names: identifiers, reserved words (bracket access only), and non-identifiers
const ATTR_NAMES = ['name', 'age', 'level', 'owner', 'flag', 'ip', 'when', 'dur', 'amount',
	'nested', 'members', 'x', 'y', 'score', 'manager', 'team', 'if', 'in', 'has space', 'é', 'a-b', ''];
const STRINGS = ['', 'a', 'alice', 'bob', 'Alice', 'foo*bar', 'foobar', 'foo', 'bar', 'a b', '*',
	'x\ny', 'tab\there', 'quote"d', 'back\\slash', 'zoë', '日本', '😀', 'aaa', 'ab', 'ba', 'abc'];
const TAG_KEYS = ['k', 'env', 'owner', 'level', 'é', 'a b', ''];
const IDS = {
	User: ['alice', 'bob', 'carol', 'dave', '', 'zoë', 'a"b'],
	Group: ['admins', 'staff', 'all', 'g1'],
	Document: ['doc1', 'doc2', 'secret', 'd e'],
	'Org::Folder': ['f1', 'root'],
};
const ACTIONS = ['view', 'edit', 'delete', 'share', 'read', 'write'];
const TYPES = ['User', 'Group', 'Document', 'Org::Folder'];

const DECIMALS = ['0.0', '1.0', '1.5', '-1.5', '2.25', '0.0001', '-0.0001', '1.2345', '123.4',
	'922337203685477.5807', '-922337203685477.5808', '10.0'];
const DECIMALS_BAD = ['1.23456', '1', '.5', '1.', '922337203685477.5808', 'abc', '1.0.0', '--1.0'];
const IPS = ['10.0.0.1', '10.0.0.0/8', '192.168.1.1', '192.168.0.0/16', '127.0.0.1', '127.0.0.0/8',
	'224.0.0.1', '0.0.0.0/0', '::1', '::', '2001:db8::1', '2001:db8::/32', 'ff02::1', '::/0',
	'fe80::1:2:3:4', '10.0.0.1/32', '255.255.255.255'];
const IPS_BAD = ['10.0.0', '256.0.0.1', '10.0.0.1/33', '::1/129', '1::2::3', 'localhost', '010.0.0.1',
	'::ffff:10.0.0.1'];
const DATETIMES = ['2024-01-01', '1970-01-01', '2024-06-30T12:34:56Z', '2024-06-30T12:34:56.789Z',
	'2024-06-30T12:34:56+0130', '2024-06-30T12:34:56.001-0800', '1969-12-31T23:59:59Z',
	'2000-02-29', '9999-12-31T23:59:59Z', '0001-01-01'];
const DATETIMES_BAD = ['2024-13-01', '2024-02-30', '2024-01-01T24:00:00Z', '2024-1-1',
	'2024-01-01T00:00:00', '2024-01-01T00:00:00+2400', '20240101'];
const DURATIONS = ['0ms', '1ms', '1s', '1m', '1h', '1d', '-1d', '1d2h3m4s5ms', '-2h30m', '90m',
	'36h', '1000ms', '106751991167d', '-106751991167d'];
const DURATIONS_BAD = ['1', 'h', '1h1d', '1.5h', '1h-2m', '', '1y', '9223372036854775808ms'];
const SAFE = Number.MAX_SAFE_INTEGER;
const JSON_LONGS = [0, 1, -1, 2, 3, 7, -7, 42, 100, 1000, 65536, 3037000499, 3037000500,
	-3037000500, 4294967296, SAFE, -SAFE, 2147483647, -2147483648];
const TEXT_LONGS = ['9223372036854775807', '-9223372036854775808', '9223372036854775806',
	'4611686018427387904', '-4611686018427387904', '3037000500', '3037000499', '1', '0', '-1',
	'2', '10', '-10', '100'];

// --- Cedar text helpers ---

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isIdent(s) {
	return IDENT.test(s) && !RESERVED.has(s);
}

// A Cedar string literal; non-ASCII sometimes as \u{...}.
function str(rng, s) {
	let out = '"';
	for (const ch of s) {
		const c = ch.codePointAt(0);
		if (ch === '"') out += '\\"';
		else if (ch === '\\') out += '\\\\';
		else if (ch === '\n') out += '\\n';
		else if (ch === '\t') out += '\\t';
		else if (c < 0x20 || (c > 0x7e && rng.chance(0.5))) out += `\\u{${c.toString(16)}}`;
		else out += ch;
	}
	return out + '"';
}

function entLit(rng, type, id) {
	return `${type}::${str(rng, id)}`;
}

function access(rng, base, attr) {
	return isIdent(attr) && rng.chance(0.85) ? `${base}.${attr}` : `${base}[${str(rng, attr)}]`;
}

// --- types: {k: 'bool'|'long'|'string'|'set'|'record'|'entity'|'ext', e, attrs, t, n} ---

const EXTS = ['decimal', 'ipaddr', 'datetime', 'duration'];

function randType(rng, depth) {
	const k = rng.weighted([[3, 'bool'], [4, 'long'], [3, 'string'], [depth > 0 ? 2 : 0, 'set'],
		[depth > 0 ? 2 : 0, 'record'], [3, 'entity'], [3, 'ext']]);
	if (k === 'set') return { k, e: randType(rng, depth - 1) };
	if (k === 'record') {
		const attrs = {};
		for (const a of rng.sample(ATTR_NAMES, rng.int(0, 3))) attrs[a] = randType(rng, depth - 1);
		return { k, attrs };
	}
	if (k === 'entity') return { k, t: rng.weighted([[3, 'User'], [3, 'Group'], [2, 'Document'], [1, 'Org::Folder']]) };
	if (k === 'ext') return { k, n: rng.pick(EXTS) };
	return { k };
}

function sameType(a, b) {
	if (a.k !== b.k) return false;
	if (a.k === 'set') return sameType(a.e, b.e);
	if (a.k === 'entity') return a.t === b.t;
	if (a.k === 'ext') return a.n === b.n;
	if (a.k === 'record') {
		const ka = Object.keys(a.attrs), kb = Object.keys(b.attrs);
		return ka.length === kb.length && ka.every((x) => b.attrs[x] && sameType(a.attrs[x], b.attrs[x]));
	}
	return true;
}

const EXT_FN = { decimal: 'decimal', ipaddr: 'ip', datetime: 'datetime', duration: 'duration' };
const EXT_GOOD = { decimal: DECIMALS, ipaddr: IPS, datetime: DATETIMES, duration: DURATIONS };
const EXT_BAD = { decimal: DECIMALS_BAD, ipaddr: IPS_BAD, datetime: DATETIMES_BAD, duration: DURATIONS_BAD };

// --- JSON values (entities, context) ---

function uidJson(type, id) {
	return { type, id };
}

function genValueJson(g, t, depth = 3) {
	const { rng } = g;
	switch (t.k) {
	case 'bool': return rng.chance(0.5);
	case 'long': return rng.chance(0.6) ? rng.int(-5, 20) : rng.pick(JSON_LONGS);
	case 'string': return rng.pick(STRINGS);
	case 'set': {
		const n = rng.int(0, 3), out = [];
		for (let i = 0; i < n; i++) out.push(genValueJson(g, t.e, depth - 1));
		return out;
	}
	case 'record': {
		const out = {};
		for (const [a, at] of Object.entries(t.attrs)) {
			if (rng.chance(0.1)) continue; // missing: `has` matters
			out[a] = genValueJson(g, at, depth - 1);
		}
		return out;
	}
	case 'entity': {
		const pool = g.uids.filter((u) => u.type === t.t);
		const u = pool.length && rng.chance(0.9) ? rng.pick(pool) : uidJson(t.t, 'ghost');
		return { __entity: { type: u.type, id: u.id } };
	}
	case 'ext': return { __extn: { fn: EXT_FN[t.n], arg: rng.pick(EXT_GOOD[t.n]) } };
	}
	throw new Error(`no value for ${t.k}`);
}

// A value for t, or now and then one of another type (a wrong-typed attribute).
function genAttrJson(g, t) {
	return g.rng.chance(0.06) ? genValueJson(g, randType(g.rng, 1)) : genValueJson(g, t);
}

// --- expressions ---

// Paths of type t reachable from the request variables, as text.
function pathsOf(g, t) {
	const out = [];
	const walk = (text, ty, depth) => {
		if (sameType(ty, t) && depth > 0) out.push(text);
		if (depth >= 3) return;
		if (ty.k === 'record') {
			for (const [a, at] of Object.entries(ty.attrs)) walk(access(g.rng, text, a), at, depth + 1);
		} else if (ty.k === 'entity' && g.shapes[ty.t]) {
			for (const [a, at] of Object.entries(g.shapes[ty.t])) walk(access(g.rng, text, a), at, depth + 1);
		}
	};
	walk('principal', { k: 'entity', t: g.pType }, 0);
	walk('resource', { k: 'entity', t: g.rType }, 0);
	walk('context', { k: 'record', attrs: g.contextShape }, 0);
	if (t.k === 'entity') {
		if (t.t === g.pType) out.push('principal');
		if (t.t === g.rType) out.push('resource');
	}
	return out;
}

function literal(g, t, depth) {
	const { rng } = g;
	switch (t.k) {
	case 'bool': return rng.chance(0.5) ? 'true' : 'false';
	case 'long': return rng.chance(0.3) ? rng.pick(TEXT_LONGS) : String(rng.int(-3, 50));
	case 'string': return str(rng, rng.pick(STRINGS));
	case 'set': {
		const n = rng.int(0, 3), el = [];
		for (let i = 0; i < n; i++) el.push(expr(g, t.e, depth - 1));
		return `[${el.join(', ')}]`;
	}
	case 'record': {
		const fields = Object.entries(t.attrs).map(([a, at]) =>
			`${isIdent(a) && rng.chance(0.7) ? a : str(rng, a)}: ${expr(g, at, depth - 1)}`);
		return `{${fields.join(', ')}}`;
	}
	case 'entity': {
		if (rng.chance(0.1)) return entLit(rng, t.t, 'ghost');
		return entLit(rng, t.t, rng.pick(IDS[t.t] || ['x']));
	}
	case 'ext': {
		const bad = rng.chance(0.07);
		const arg = rng.pick(bad ? EXT_BAD[t.n] : EXT_GOOD[t.n]);
		return `${EXT_FN[t.n]}(${str(rng, arg)})`;
	}
	}
	throw new Error(`no literal for ${t.k}`);
}

const T = {
	bool: { k: 'bool' }, long: { k: 'long' }, string: { k: 'string' },
	dec: { k: 'ext', n: 'decimal' }, ip: { k: 'ext', n: 'ipaddr' },
	dt: { k: 'ext', n: 'datetime' }, dur: { k: 'ext', n: 'duration' },
};

function anyEntityType(rng) {
	return { k: 'entity', t: rng.weighted([[3, 'User'], [3, 'Group'], [2, 'Document'], [1, 'Org::Folder'], [1, 'Action']]) };
}

function paren(s) {
	return `(${s})`;
}

function likePattern(rng) {
	const s = rng.pick(STRINGS);
	let out = '"';
	for (const ch of s) {
		if (rng.chance(0.25)) out += '*';
		else if (ch === '*') out += '\\*';
		else if (ch === '"') out += '\\"';
		else if (ch === '\\') out += '\\\\';
		else if (ch === '\n') out += '\\n';
		else if (ch === '\t') out += '\\t';
		else out += ch;
	}
	if (rng.chance(0.3)) out += '*';
	return out + '"';
}

// An expression meant to have type t; now and then one of another type, to exercise type errors.
function expr(g, t, depth) {
	const { rng } = g;
	if (rng.chance(0.04)) t = randType(rng, 1);
	if (depth <= 0 || rng.chance(0.25)) {
		const paths = pathsOf(g, t);
		if (rng.chance(0.03)) return access(rng, rng.pick(['principal', 'resource', 'context']), rng.pick(ATTR_NAMES));
		if (paths.length && rng.chance(0.6)) return rng.pick(paths);
		return literal(g, t, 1);
	}
	const d = depth - 1;
	const ite = () => `if ${expr(g, T.bool, d)} then ${expr(g, t, d)} else ${expr(g, t, d)}`;
	switch (t.k) {
	case 'bool': return rng.weighted([
		[3, () => paren(`${expr(g, T.bool, d)} && ${expr(g, T.bool, d)}`)],
		[3, () => paren(`${expr(g, T.bool, d)} || ${expr(g, T.bool, d)}`)],
		[2, () => `!${paren(expr(g, T.bool, d))}`],
		[1, () => paren(ite())],
		[5, () => paren(`${expr(g, T.long, d)} ${rng.pick(['==', '!=', '<', '<=', '>', '>='])} ${expr(g, T.long, d)}`)],
		[2, () => { const ty = rng.weighted([[4, T.dt], [4, T.dur], [1, T.dec], [1, T.ip]]); // the last two error
			return paren(`${expr(g, ty, d)} ${rng.pick(['<', '<=', '>', '>=', '==', '!='])} ${expr(g, ty, d)}`); }],
		[3, () => { const ty = randType(rng, 1);
			return paren(`${expr(g, ty, d)} ${rng.pick(['==', '!='])} ${expr(g, rng.chance(0.8) ? ty : randType(rng, 1), d)}`); }],
		[4, () => { const right = rng.chance(0.7) ? anyEntityType(rng) : { k: 'set', e: anyEntityType(rng) };
			return paren(`${expr(g, anyEntityType(rng), d)} in ${expr(g, right, d)}`); }],
		[3, () => { const ty = rng.chance(0.6) ? { k: 'entity', t: rng.pick([g.pType, g.rType]) } : { k: 'record', attrs: g.contextShape };
			const attrs = ty.k === 'entity' ? Object.keys(g.shapes[ty.t] || {}) : Object.keys(ty.attrs);
			const a = attrs.length && rng.chance(0.8) ? rng.pick(attrs) : rng.pick(ATTR_NAMES);
			const base = ty.k === 'entity' ? (ty.t === g.pType ? 'principal' : 'resource') : 'context';
			const b = rng.chance(0.8) ? base : expr(g, ty, d);
			return paren(`${b} has ${isIdent(a) ? a : str(rng, a)}`); }],
		[2, () => paren(`${expr(g, T.string, d)} like ${likePattern(rng)}`)],
		[2, () => { const ty = rng.pick([...TYPES, 'Action']);
			const e = expr(g, anyEntityType(rng), d);
			return paren(rng.chance(0.7) ? `${e} is ${ty}` : `${e} is ${ty} in ${expr(g, anyEntityType(rng), d)}`); }],
		[3, () => { const el = randType(rng, 0);
			return `${paren(expr(g, { k: 'set', e: el }, d))}.contains(${expr(g, el, d)})`; }],
		[2, () => { const el = randType(rng, 0);
			return `${paren(expr(g, { k: 'set', e: el }, d))}.${rng.pick(['containsAll', 'containsAny'])}(${expr(g, { k: 'set', e: el }, d)})`; }],
		[1, () => `${paren(expr(g, { k: 'set', e: randType(rng, 0) }, d))}.isEmpty()`],
		[2, () => `${paren(expr(g, anyEntityType(rng), d))}.hasTag(${rng.chance(0.8) ? str(rng, rng.pick(TAG_KEYS)) : expr(g, T.string, d)})`],
		[2, () => `${paren(expr(g, T.ip, d))}.${rng.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast'])}()`],
		[1, () => `${paren(expr(g, T.ip, d))}.isInRange(${expr(g, T.ip, d)})`],
		[2, () => `${paren(expr(g, T.dec, d))}.${rng.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual'])}(${expr(g, T.dec, d)})`],
		[2, () => { const p = pathsOf(g, t); return p.length ? rng.pick(p) : literal(g, t, d); }],
	])();
	case 'long': return rng.weighted([
		[3, () => paren(`${expr(g, T.long, d)} + ${expr(g, T.long, d)}`)],
		[3, () => paren(`${expr(g, T.long, d)} - ${expr(g, T.long, d)}`)],
		[3, () => paren(`${expr(g, T.long, d)} * ${expr(g, T.long, d)}`)],
		[1, () => `-${paren(expr(g, T.long, d))}`],
		[1, () => paren(ite())],
		[1, () => `${paren(expr(g, anyEntityType(rng), d))}.getTag(${str(rng, rng.pick(TAG_KEYS))})`],
		[2, () => `${paren(expr(g, T.dur, d))}.${rng.pick(['toMilliseconds', 'toSeconds', 'toMinutes', 'toHours', 'toDays'])}()`],
		[3, () => { const p = pathsOf(g, t); return p.length ? rng.pick(p) : literal(g, t, d); }],
		[2, () => literal(g, t, d)],
	])();
	case 'ext': {
		const fn = EXT_FN[t.n];
		const alts = [
			[3, () => literal(g, t, d)],
			[1, () => `${fn}(${expr(g, T.string, d)})`],
			[1, () => paren(ite())],
			[2, () => { const p = pathsOf(g, t); return p.length ? rng.pick(p) : literal(g, t, d); }],
		];
		if (t.n === 'datetime') {
			alts.push([2, () => `${paren(expr(g, T.dt, d))}.offset(${expr(g, T.dur, d)})`]);
			alts.push([1, () => `${paren(expr(g, T.dt, d))}.toDate()`]);
		}
		if (t.n === 'duration') {
			alts.push([2, () => `${paren(expr(g, T.dt, d))}.durationSince(${expr(g, T.dt, d)})`]);
			alts.push([1, () => `${paren(expr(g, T.dt, d))}.toTime()`]);
		}
		return rng.weighted(alts)();
	}
	case 'string':
	case 'set':
	case 'record':
	case 'entity': {
		const alts = [
			[3, () => literal(g, t, depth)],
			[1, () => paren(ite())],
			[3, () => { const p = pathsOf(g, t); return p.length ? rng.pick(p) : literal(g, t, d); }],
		];
		if (t.k === 'string') alts.push([1, () => `${paren(expr(g, anyEntityType(rng), d))}.getTag(${str(rng, rng.pick(TAG_KEYS))})`]);
		if (t.k === 'entity' || t.k === 'string' || t.k === 'bool') {
			// an attribute of a record literal
			alts.push([1, () => { const a = rng.pick(ATTR_NAMES); return access(rng, paren(`{${str(rng, a)}: ${expr(g, t, d)}}`), a); }]);
		}
		return rng.weighted(alts)();
	}
	}
	throw new Error(`no expression for ${t.k}`);
}

// --- policies ---

function scopeEntity(g, types) {
	const { rng } = g;
	const t = rng.pick(types);
	// mostly entities of the store, so that `in` has a hierarchy to walk
	const known = g.uids.filter((u) => u.type === t).map((u) => u.id);
	const ids = known.length && rng.chance(0.8) ? known : IDS[t] || ACTIONS;
	return entLit(rng, t, rng.chance(0.05) ? 'ghost' : rng.pick(ids));
}

function scopeVar(g, v, presumed) {
	const { rng } = g;
	return rng.weighted([
		[9, () => v],
		[2, () => `${v} == ${scopeEntity(g, rng.chance(0.8) ? [presumed] : TYPES)}`],
		[3, () => `${v} in ${scopeEntity(g, rng.chance(0.7) ? ['Group', 'Org::Folder'] : TYPES)}`],
		[1, () => `${v} is ${rng.chance(0.8) ? presumed : rng.pick(TYPES)}`],
		[1, () => `${v} is ${rng.chance(0.8) ? presumed : rng.pick(TYPES)} in ${scopeEntity(g, ['Group', 'Org::Folder', presumed])}`],
	])();
}

function genPolicy(g) {
	const { rng } = g;
	g.pType = rng.chance(0.8) ? 'User' : rng.pick(TYPES);
	g.rType = rng.chance(0.7) ? 'Document' : rng.pick(TYPES);
	let text = '';
	if (rng.chance(0.15)) text += `@advice(${str(rng, rng.pick(STRINGS))})\n`;
	if (rng.chance(0.05)) text += '// a comment\n';
	const act = rng.weighted([
		[7, () => 'action'],
		[2, () => `action == Action::${str(rng, rng.pick(ACTIONS))}`],
		[2, () => `action in [${rng.sample(ACTIONS, rng.int(1, 3)).map((a) => `Action::${str(rng, a)}`).join(', ')}]`],
		[2, () => `action in Action::${str(rng, rng.pick(['read', 'write', 'all']))}`],
	])();
	text += `${rng.chance(0.65) ? 'permit' : 'forbid'} (\n  ${scopeVar(g, 'principal', g.pType)},\n  ${act},\n  ${scopeVar(g, 'resource', g.rType)}\n)`;
	const n = rng.weighted([[3, 0], [5, 1], [2, 2]]);
	for (let i = 0; i < n; i++) {
		text += `\n${rng.chance(0.75) ? 'when' : 'unless'} { ${expr(g, T.bool, rng.int(1, 4))} }`;
	}
	return text + ';';
}

// --- entities ---

function genEntities(g) {
	const { rng } = g;
	const ents = [];
	// action groups: read > view; write > edit, delete; all > read, write
	const actionParents = { view: ['read'], edit: ['write'], delete: ['write'], share: [], read: ['all'], write: ['all'] };
	for (const a of ACTIONS) {
		if (rng.chance(0.85)) {
			ents.push({ uid: uidJson('Action', a), attrs: {}, parents: actionParents[a].map((p) => uidJson('Action', p)) });
		}
	}
	const order = rng.sample(g.uids, g.uids.length);
	order.forEach((uid, i) => {
		const shape = g.shapes[uid.type];
		const attrs = {};
		for (const [a, at] of Object.entries(shape)) {
			if (rng.chance(0.12)) continue;
			attrs[a] = genAttrJson(g, at);
		}
		// parents only among earlier entities (a DAG), now and then one that does not exist
		const parents = [];
		const earlier = order.slice(0, i);
		const np = earlier.length ? rng.weighted([[3, 0], [4, 1], [2, 2]]) : 0;
		for (const p of rng.sample(earlier, np)) parents.push(uidJson(p.type, p.id));
		if (rng.chance(0.05)) parents.push(uidJson('Group', 'ghost'));
		const e = { uid: uidJson(uid.type, uid.id), attrs, parents };
		if (rng.chance(0.5)) {
			const tags = {};
			const tt = g.tagTypes[uid.type];
			for (const k of rng.sample(TAG_KEYS, rng.int(0, 3))) tags[k] = genAttrJson(g, tt);
			e.tags = tags;
		}
		ents.push(e);
	});
	return ents;
}

// --- cases ---

export function generateCase(seed, k) {
	const rng = makeRng(seed, k);
	const g = { rng, shapes: {}, tagTypes: {}, uids: [] };
	for (const t of TYPES) {
		const shape = {};
		for (const a of rng.sample(ATTR_NAMES, rng.int(0, 4))) shape[a] = randType(rng, 2);
		g.shapes[t] = shape;
		g.tagTypes[t] = rng.chance(0.6) ? rng.pick([T.string, T.long, T.bool]) : randType(rng, 1);
		for (const id of rng.sample(IDS[t], rng.int(t === 'Org::Folder' ? 0 : 1, 3))) g.uids.push(uidJson(t, id));
	}
	g.contextShape = {};
	for (const a of rng.sample(ATTR_NAMES, rng.int(0, 4))) g.contextShape[a] = randType(rng, 2);
	const entities = genEntities(g);
	const policies = [];
	const np = rng.int(1, 5);
	for (let i = 0; i < np; i++) policies.push(genPolicy(g));
	const requests = [];
	const nr = rng.int(1, 3);
	for (let i = 0; i < nr; i++) {
		const pick = (t) => {
			const pool = g.uids.filter((u) => u.type === t);
			return pool.length && rng.chance(0.92) ? rng.pick(pool) : uidJson(t, rng.pick(IDS[t]));
		};
		const context = {};
		for (const [a, at] of Object.entries(g.contextShape)) {
			if (rng.chance(0.1)) continue;
			context[a] = genAttrJson(g, at);
		}
		requests.push({
			principal: pick(rng.chance(0.8) ? 'User' : rng.pick(TYPES)),
			action: uidJson('Action', rng.pick(ACTIONS)),
			resource: pick(rng.chance(0.7) ? 'Document' : rng.pick(TYPES)),
			context,
		});
	}
	return { name: `s${seed}-c${k}`, seed, k, policies, entities, requests };
}
