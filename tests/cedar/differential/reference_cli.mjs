#!/usr/bin/env node
// reference_cli.mjs - `gatehouse policy authorize` played by the reference, to test the harness:
// with it as --bin every case must agree; with GH_DIFF_BREAK=1 it flips every decision and
// drops the erroring policies, and every case must disagree.
//   reference_cli.mjs policy authorize --policies P --request R [--entities E]
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const cedar = require('@cedar-policy/cedar-wasm/nodejs');
const args = process.argv.slice(2);
const opt = (name) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? args[i + 1] : undefined;
};
if (args[0] !== 'policy' || args[1] !== 'authorize' || !opt('policies') || !opt('request')) {
	console.error('usage: reference_cli.mjs policy authorize --policies P --request R [--entities E]');
	process.exit(2);
}
const req = JSON.parse(fs.readFileSync(opt('request'), 'utf8'));
const ans = cedar.isAuthorized({
	principal: req.principal, action: req.action, resource: req.resource, context: req.context || {},
	policies: { staticPolicies: fs.readFileSync(opt('policies'), 'utf8') },
	entities: opt('entities') ? JSON.parse(fs.readFileSync(opt('entities'), 'utf8')) : [],
});
if (ans.type !== 'success') {
	console.error(`reference: ${ans.errors.map((e) => e.message).join('; ')}`);
	process.exit(2);
}
const d = ans.response.diagnostics;
const out = {
	decision: ans.response.decision,
	reasons: d.reason,
	errors: d.errors.map((e) => ({ policy: e.policyId, message: e.error.message })),
};
if (process.env.GH_DIFF_BREAK === '1') {
	out.errors = [];
	out.decision = out.decision === 'allow' ? 'deny' : 'allow';
}
console.log(JSON.stringify(out, null, 2));
