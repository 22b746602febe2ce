/* decide_cedar.c - a decider that asks Cedar policies what a request needs,
 * and whether someone may approve, invoke break-glass or delegate. */
#include "gov/gov_internal.h"
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CEDAR_SOURCE "cedar"
#define CEDAR_MAX_APPROVALS 10

/* docs/gatehouse.cedarschema, byte for byte (a unit test keeps them equal). */
const char gov_cedar_schema[] =
	"// gatehouse.cedarschema - the Cedar schema of Gatehouse's governance model.\n"
	"//\n"
	"// The decider (src/gov/decide_cedar.c) builds entities and requests that\n"
	"// match this schema from a request's facts. Identity ids, group ids and so\n"
	"// on are Gatehouse's own ids (\"idn_...\", \"grp_...\", \"ent_...\").\n"
	"//\n"
	"// Free JSON `attributes` of identities and entitlements are left out for now:\n"
	"// a Cedar schema has no open record type (every attribute must be declared),\n"
	"// and entities are parsed against this schema, so an undeclared attribute\n"
	"// would be refused. Policies that need them wait for a typed extension.\n"
	"\n"
	"// A group of identities; groups nest (a group may be a member of a group).\n"
	"entity Group in [Group] {\n"
	"\tname?: String,\n"
	"};\n"
	"\n"
	"// A human or non-human identity; its parents are every group it belongs to,\n"
	"// directly or through nested groups.\n"
	"entity Identity in [Group] {\n"
	"\tkind: String,             // human, service_account, api_key, workload, oauth_app, ai_agent\n"
	"\tname: String,\n"
	"\tstatus: String,           // active, suspended, ...\n"
	"\tenvironment?: String,\n"
	"\tpurpose?: String,\n"
	"\towner?: Identity,         // non-human identities have a human owner\n"
	"\troles: Set<String>,\n"
	"};\n"
	"\n"
	"entity System {\n"
	"\tname?: String,\n"
	"};\n"
	"\n"
	"// A catalog entitlement; its parent is its system.\n"
	"entity Entitlement in [System] {\n"
	"\tname: String,\n"
	"\trisk_tier: String,        // low, medium, high, critical\n"
	"\tdata_sensitivity: String, // public, internal, confidential, restricted\n"
	"\tenvironment: String,\n"
	"\tcontrol_owner_group: Group,\n"
	"\tmax_duration_seconds: Long,\n"
	"\trequestable: Bool,\n"
	"\tsystem: System,\n"
	"\ttags: Set<String>,        // catalog tags; a delegation may be bounded by one\n"
	"};\n"
	"\n"
	"// An access request, for approver questions.\n"
	"entity Request {\n"
	"\tstate: String,\n"
	"\tsubject: Identity,\n"
	"\trequester: Identity,\n"
	"\tentitlement: Entitlement,\n"
	"\tduration_seconds: Long,\n"
	"\temergency: Bool,\n"
	"\trequired_approvals: Long,\n"
	"};\n"
	"\n"
	"// May this subject hold this entitlement at all (request), and may it be\n"
	"// granted without a human approval (auto_approve)? submitted_by is who\n"
	"// filed the request (a service-desk agent, say), requester on whose behalf;\n"
	"// on_behalf is true when they differ.\n"
	"action \"request\", \"auto_approve\" appliesTo {\n"
	"\tprincipal: Identity,\n"
	"\tresource: Entitlement,\n"
	"\tcontext: {\n"
	"\t\tduration_seconds: Long,\n"
	"\t\temergency: Bool,\n"
	"\t\tchannel: String,        // servicedesk, portal, chat, api\n"
	"\t\tticket_ref?: String,\n"
	"\t\trequester: Identity,\n"
	"\t\tsubmitted_by: Identity,\n"
	"\t\ton_behalf: Bool,\n"
	"\t},\n"
	"};\n"
	"\n"
	"// May this person (the approver) approve this request? Asked after the\n"
	"// built-in invariants, which no policy can weaken.\n"
	"action \"approve\" appliesTo {\n"
	"\tprincipal: Identity,\n"
	"\tresource: Request,\n"
	"\tcontext: {},\n"
	"};\n"
	"\n"
	"// May this person (the requester) invoke break-glass access? The subject who\n"
	"// would receive the access, who submitted it and through which channel ride\n"
	"// in the context. Submitted on someone else's behalf (on_behalf), it is\n"
	"// granted only when a determining permit says @on_behalf(\"allow\").\n"
	"action \"break_glass\" appliesTo {\n"
	"\tprincipal: Identity,\n"
	"\tresource: Entitlement,\n"
	"\tcontext: {\n"
	"\t\tincident_ref: String,\n"
	"\t\tduration_seconds: Long,\n"
	"\t\tsubject: Identity,\n"
	"\t\tsubmitted_by: Identity,\n"
	"\t\tchannel: String,\n"
	"\t\ton_behalf: Bool,\n"
	"\t},\n"
	"};\n"
	"\n"
	"// May this person delegate approval of part of a control-owner group's\n"
	"// catalog (the resource: that group) to another group, for a while?\n"
	"action \"delegate\" appliesTo {\n"
	"\tprincipal: Identity,\n"
	"\tresource: Group,\n"
	"\tcontext: {\n"
	"\t\tto_group: Group,\n"
	"\t\tscope_type: String,      // \"system\" or \"tag\"\n"
	"\t\tscope: String,           // the system's id, or the tag\n"
	"\t\tduration_seconds: Long,\n"
	"\t},\n"
	"};\n";

/* One policy's annotations, borrowed from the (immutable) policy set: looked
 * up once when the decider is built, not at every decision. */
typedef struct policy_info {
	const char *id;
	size_t n;
	const char **keys;
	const char **values;
} policy_info;

typedef struct cedar_ctx {
	gh_policy_set *ps;
	gh_policy_schema *schema;  /* parsed once per decider */
	policy_info *info;         /* one per policy, in set order */
	size_t ninfo;
	char version[64];
} cedar_ctx;

/* What the determining permits oblige; the strictest value wins. */
typedef struct obligations {
	int approvals;         /* 0 when no policy says */
	int64_t max_duration;  /* 0 when no policy says */
	int64_t review_within; /* 0 when no policy says */
	json_t *groups;        /* NULL or the raw @approver_group values, deduplicated */
	int malformed;         /* an annotation that does not parse: fail closed */
} obligations;

/* JSON text written directly: a question's entities and request go to the
 * engine as text, and building jansson values only to print them doubled
 * the cost of a decision. Most questions fit in small, without malloc. */

/* The entities of one question, each uid listed once. */
#define ENTS_INLINE 32

typedef struct ents {
	json_t *list;          /* [{"uid","attrs","parents"}...], built as values:
				* no JSON text is written or lexed per decision */
	int bad;               /* out of memory */
	const char **seen;     /* type, id pairs (borrowed from the facts) */
	size_t nseen, capseen;
	const char *inline_seen[2 * ENTS_INLINE];
} ents;

static int nomem(void)
{
	return gh_error_set(GH_ERROR, "out of memory asking Cedar");
}

static int reason(gh_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reason(gh_decision *d, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_append_new(d->reasons, json_string(buf)))
		return gh_error_set(GH_ERROR, "out of memory recording a decision");
	return 0;
}

static const char *fact_string(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The string at key, or "" (the schema wants the attribute present). */
static const char *fstr(const json_t *obj, const char *key)
{
	const char *s = fact_string(obj, key);

	return s ? s : "";
}

/* An identity id at key, or the subject's own. */
static const char *fstr_or(const json_t *obj, const char *key, const json_t *subject)
{
	const char *s = fact_string(obj, key);

	return s ? s : fstr(subject, "id");
}

static json_int_t fint(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* Filed by someone other than the requester (a service-desk agent, say). */
static int on_behalf(const json_t *req, const json_t *subject)
{
	return strcmp(fstr_or(req, "requester", subject), fstr_or(req, "submitted_by", subject)) != 0;
}

/* --- JSON values ------------------------------------------------------ */

/* Sets key to v (stolen) on o; *bad records a failure (v NULL included). */
static void kset(int *bad, json_t *o, const char *key, json_t *v)
{
	if (!o || json_object_set_new(o, key, v))
		*bad = 1;
}

static json_t *uid_json(const char *type, const char *id)
{
	return json_pack("{s:s, s:s}", "type", type, "id", id);
}

/* {"__entity":{"type":type,"id":id}} */
static json_t *ref_json(const char *type, const char *id)
{
	return json_pack("{s:o}", "__entity", uid_json(type, id));
}

/* the strings of an array fact, as a new array */
static json_t *strings_json(const json_t *arr)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (out && json_is_string(v) && json_array_append(out, v)) {
			json_decref(out);
			return NULL;
		}
	return out;
}

/* --- policies and their annotations ----------------------------------- */

/* Ids are "policy0", "policy1", ... in set order (policy.h): found by number. */
static const policy_info *info_of(const cedar_ctx *c, const char *id)
{
	unsigned long i;
	char *end;

	if (strncmp(id, "policy", 6) == 0) {
		i = strtoul(id + 6, &end, 10);
		if (!*end && i < c->ninfo && strcmp(c->info[i].id, id) == 0)
			return &c->info[i];
	}
	for (size_t k = 0; k < c->ninfo; k++)
		if (strcmp(c->info[k].id, id) == 0)
			return &c->info[k];
	return NULL;
}

static const char *annotation(const cedar_ctx *c, const char *policy, const char *key)
{
	const policy_info *p = info_of(c, policy);

	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->keys[i], key) == 0)
			return p->values[i];
	return NULL;
}

/* All of a policy's annotations, as strings. */
static json_t *annotations_json(const cedar_ctx *c, const char *policy)
{
	const policy_info *p = info_of(c, policy);
	json_t *o = json_object();

	for (size_t i = 0; o && p && i < p->n; i++)
		if (json_object_set_new(o, p->keys[i], json_string(p->values[i]))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static int info_build(cedar_ctx *c)
{
	const char *k, *v;
	size_t n;

	c->ninfo = gh_policy_set_count(c->ps);
	if (c->ninfo && !(c->info = calloc(c->ninfo, sizeof(*c->info))))
		return -1;
	for (size_t i = 0; i < c->ninfo; i++) {
		policy_info *p = &c->info[i];

		p->id = gh_policy_set_id(c->ps, i);
		for (n = 0; gh_policy_set_annotation_at(c->ps, p->id, n, &k, &v) == 0; n++)
			;
		if (!n)
			continue;
		if (!(p->keys = calloc(2 * n, sizeof(*p->keys))))
			return -1;
		p->values = p->keys + n;
		for (p->n = 0; p->n < n; p->n++)
			gh_policy_set_annotation_at(c->ps, p->id, p->n, &p->keys[p->n],
						    &p->values[p->n]);
	}
	return 0;
}

static void ctx_free(cedar_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->info && i < c->ninfo; i++)
		free(c->info[i].keys);
	free(c->info);
	gh_policy_set_free(c->ps);
	gh_policy_schema_free(c->schema);
	free(c);
}

/* " : <@reason>" or "" */
static void because(char *out, size_t outlen, const cedar_ctx *c, const char *policy)
{
	const char *r = annotation(c, policy, "reason");

	snprintf(out, outlen, "%s%s", r && *r ? ": " : "", r && *r ? r : "");
}

/* --- entities --------------------------------------------------------- */

static void ents_init(ents *e)
{
	e->list = json_array();
	e->bad = !e->list;
	e->nseen = 0;
	e->seen = e->inline_seen;
	e->capseen = ENTS_INLINE;
}

static void ents_clear(ents *e)
{
	json_decref(e->list);
	e->list = NULL;
	if (e->seen != e->inline_seen)
		free((void *)e->seen);
	e->seen = e->inline_seen;
	e->nseen = 0;
}

/* 1 when type/id is not listed yet (and now is), 0 when it is (or on
 * failure, which e->bad records). */
static int ent_new(ents *e, const char *type, const char *id)
{
	const char **p;

	for (size_t i = 0; i < e->nseen; i++)
		if (strcmp(e->seen[2 * i + 1], id) == 0 && strcmp(e->seen[2 * i], type) == 0)
			return 0;
	if (e->nseen == e->capseen) {
		p = malloc(4 * e->capseen * sizeof(*p));
		if (!p) {
			e->bad = 1;
			return 0;
		}
		memcpy(p, e->seen, 2 * e->nseen * sizeof(*p));
		if (e->seen != e->inline_seen)
			free((void *)e->seen);
		e->seen = p;
		e->capseen *= 2;
	}
	e->seen[2 * e->nseen] = type;
	e->seen[2 * e->nseen + 1] = id;
	e->nseen++;
	return 1;
}

/* Lists {"uid","attrs"?,"parents"?}; takes attrs and parents (either NULL). */
static void ent_add(ents *e, const char *type, const char *id, json_t *attrs, json_t *parents)
{
	json_t *ent = json_object();

	kset(&e->bad, ent, "uid", uid_json(type, id));
	if (attrs)
		kset(&e->bad, ent, "attrs", attrs);
	if (parents)
		kset(&e->bad, ent, "parents", parents);
	if (!ent || json_array_append_new(e->list, ent))
		e->bad = 1;
}

/* An entity without attributes or parents (groups, systems). */
static void ents_bare(ents *e, const char *type, const char *id)
{
	if (ent_new(e, type, id))
		ent_add(e, type, id, NULL, NULL);
}

/* An identity (parents: every group it belongs to) and those groups. */
static void ents_identity(ents *e, const json_t *f)
{
	const json_t *groups = json_object_get(f, "groups");
	json_t *attrs, *parents, *v;
	size_t i;

	if (ent_new(e, "Identity", fstr(f, "id"))) {
		attrs = json_object();
		parents = json_array();
		kset(&e->bad, attrs, "kind", json_string(fstr(f, "kind")));
		kset(&e->bad, attrs, "name", json_string(fstr(f, "name")));
		kset(&e->bad, attrs, "status", json_string(fstr(f, "status")));
		kset(&e->bad, attrs, "roles", strings_json(json_object_get(f, "roles")));
		if (fact_string(f, "environment"))
			kset(&e->bad, attrs, "environment", json_string(fact_string(f, "environment")));
		if (fact_string(f, "purpose"))
			kset(&e->bad, attrs, "purpose", json_string(fact_string(f, "purpose")));
		if (fact_string(f, "owner"))
			kset(&e->bad, attrs, "owner", ref_json("Identity", fact_string(f, "owner")));
		json_array_foreach(groups, i, v)
			if (json_is_string(v) && (!parents || json_array_append_new(
					parents, uid_json("Group", json_string_value(v)))))
				e->bad = 1;
		if (!attrs || !parents)
			e->bad = 1;
		ent_add(e, "Identity", fstr(f, "id"), attrs, parents);
	}
	json_array_foreach(groups, i, v)
		if (json_is_string(v))
			ents_bare(e, "Group", json_string_value(v));
}

/* An entitlement (parent: its system), its system and control owner group. */
static void ents_entitlement(ents *e, const json_t *f)
{
	const char *sys = fstr(f, "system"), *cog = fstr(f, "control_owner_group");
	json_t *attrs;

	if (ent_new(e, "Entitlement", fstr(f, "id"))) {
		attrs = json_object();
		kset(&e->bad, attrs, "name", json_string(fstr(f, "name")));
		kset(&e->bad, attrs, "risk_tier", json_string(fstr(f, "risk_tier")));
		kset(&e->bad, attrs, "data_sensitivity", json_string(fstr(f, "data_sensitivity")));
		kset(&e->bad, attrs, "environment", json_string(fstr(f, "environment")));
		kset(&e->bad, attrs, "control_owner_group", ref_json("Group", cog));
		kset(&e->bad, attrs, "max_duration_seconds",
		     json_integer(fint(f, "max_duration_seconds")));
		kset(&e->bad, attrs, "requestable",
		     json_boolean(json_is_true(json_object_get(f, "requestable"))));
		kset(&e->bad, attrs, "system", ref_json("System", sys));
		kset(&e->bad, attrs, "tags", strings_json(json_object_get(f, "tags")));
		if (!attrs)
			e->bad = 1;
		ent_add(e, "Entitlement", fstr(f, "id"), attrs,
			json_pack("[o]", uid_json("System", sys)));
	}
	ents_bare(e, "System", sys);
	ents_bare(e, "Group", cog);
}

/* {"principal","action","resource","context"}; takes context. NULL when
 * out of memory. */
static json_t *question(const char *pid, const char *action, const char *rtype, const char *rid,
			json_t *context)
{
	return json_pack("{s:o, s:{s:s, s:s}, s:o, s:o}", "principal", uid_json("Identity", pid),
			 "action", "type", "Action", "id", action, "resource",
			 uid_json(rtype, rid), "context", context);
}

/* --- asking ----------------------------------------------------------- */

static int list_append(json_t **list, json_t *item)
{
	if (!item || (!*list && !(*list = json_array())) || json_array_append_new(*list, item)) {
		json_decref(item);
		return nomem();
	}
	return 0;
}

/* Records the determining policies of resp (each with all its annotations)
 * and the policies that errored (skipped, listed in reasons too). */
static int record(gh_decision *out, const cedar_ctx *c, const gh_policy_response *resp,
		  const char *action)
{
	int rc = 0;

	for (size_t i = 0; i < resp->nerrors && !rc; i++) {
		rc = reason(out, "%s errored on %s and was skipped: %s", resp->errors[i], action,
			    resp->error_messages[i]);
		rc = rc ? rc : list_append(&out->errors, json_pack("{s:s, s:s, s:s}", "policy",
				resp->errors[i], "action", action, "message",
				resp->error_messages[i]));
	}
	/* Cedar: an allow is determined by permits, a deny by forbids */
	for (size_t i = 0; i < resp->nreasons && !rc; i++)
		rc = list_append(&out->determining,
				 json_pack("{s:s, s:s, s:s, s:o}", "policy", resp->reasons[i],
					   "action", action, "effect", resp->allow ? "permit" : "forbid",
					   "annotations", annotations_json(c, resp->reasons[i])));
	return rc;
}

/* The entities of e, parsed against the schema; *es NULL (and a reason
 * says why) when they do not fit. */
static int entities(gh_policy_entities **es, gh_decision *out, const cedar_ctx *c, ents *e)
{
	gh_policy_error perr = {0};

	*es = NULL;
	if (e->bad)
		return nomem();
	if (gh_policy_entities_from_json(es, e->list, c->schema, &perr))
		return reason(out, "cedar: the entities do not fit the schema: %s", perr.message);
	return 0;
}

/* Asks Cedar question q (a request for action) and records the
 * answer's determining policies and errors; *resp is NULL (and a reason
 * says why) when the question could not be put. */
static int put(gh_policy_response **resp, gh_decision *out, const cedar_ctx *c,
	       const gh_policy_entities *es, const json_t *q, const char *action)
{
	gh_policy_request *req = NULL;
	gh_policy_error perr = {0};
	int rc = 0;

	*resp = NULL;
	if (!es)
		return 0;
	if (!q)
		return nomem();
	if (gh_policy_request_from_json(&req, q, c->schema, 1, &perr))
		return reason(out, "cedar: the %s request does not fit the schema: %s", action,
			      perr.message);
	if (gh_policy_authorize(resp, c->ps, es, req))
		rc = gh_error_set(GH_ERROR, "Cedar could not evaluate %s", action);
	else
		rc = record(out, c, *resp, action);
	if (rc) {
		gh_policy_response_free(*resp);
		*resp = NULL;
	}
	gh_policy_request_free(req);
	return rc;
}

/* "policyN permits <what>: <@reason>" (or "policyN forbids: <@reason>",
 * "policyN forbids <what>") for each determining policy, or the default deny. */
static int explain(gh_decision *out, const cedar_ctx *c, const gh_policy_response *resp,
		   const char *what)
{
	char why[600];
	int rc = 0;

	for (size_t i = 0; i < resp->nreasons && !rc; i++) {
		because(why, sizeof(why), c, resp->reasons[i]);
		if (resp->allow)
			rc = reason(out, "%s permits %s%s", resp->reasons[i], what, why);
		else
			rc = *why ? reason(out, "%s forbids%s", resp->reasons[i], why)
				  : reason(out, "%s forbids %s", resp->reasons[i], what);
	}
	if (!rc && !resp->allow && resp->nreasons == 0)
		rc = reason(out, "no policy permits %s (default deny)", what);
	return rc;
}

static int duration_min(int64_t *cur, int64_t v)
{
	if (*cur == 0 || v < *cur)
		*cur = v;
	return 0;
}

/* Reads the obligations of one determining permit into ob, recording them
 * in reasons. A malformed value sets ob->malformed (the caller denies). */
static int read_obligations(obligations *ob, gh_decision *out, const cedar_ctx *c,
			    const char *policy)
{
	const char *v;
	int64_t secs;
	char *end;
	long n;
	int rc = 0;

	if ((v = annotation(c, policy, "approvals"))) {
		n = strtol(v, &end, 10);
		if (!*v || *end || n < 1 || n > CEDAR_MAX_APPROVALS) {
			ob->malformed = 1;
			rc |= reason(out, "%s: @approvals(\"%s\") is not a count 1..%d", policy, v,
				     CEDAR_MAX_APPROVALS);
		} else if (n > ob->approvals) {
			ob->approvals = (int)n;
		}
	}
	if ((v = annotation(c, policy, "max_duration"))) {
		if (gh_duration_parse(&secs, v) || secs <= 0) {
			ob->malformed = 1;
			rc |= reason(out, "%s: @max_duration(\"%s\") is not a duration", policy, v);
		} else {
			duration_min(&ob->max_duration, secs);
		}
	}
	if ((v = annotation(c, policy, "approver_group"))) {
		size_t i;
		json_t *g;
		int seen = 0;

		rc |= reason(out, "%s: approver_group %s", policy, v);
		json_array_foreach(ob->groups, i, g)
			seen |= strcmp(json_string_value(g), v) == 0;
		if (!seen && !rc)
			rc = list_append(&ob->groups, json_string(v));
	}
	if ((v = annotation(c, policy, "review_within"))) {
		if (gh_duration_parse(&secs, v) || secs <= 0) {
			ob->malformed = 1;
			rc |= reason(out, "%s: @review_within(\"%s\") is not a duration", policy, v);
		} else {
			duration_min(&ob->review_within, secs);
			rc |= reason(out, "%s: review_within %s", policy, v);
		}
	}
	if (ob->malformed && !rc)
		gh_error_clear(); /* a refused duration is reported in reasons, not as an error */
	return rc;
}

/* The obligations of every determining permit of resp. */
static int read_all_obligations(obligations *ob, gh_decision *out, const cedar_ctx *c,
				const gh_policy_response *resp)
{
	int rc = 0;

	for (size_t i = 0; i < resp->nreasons && !rc; i++)
		rc = read_obligations(ob, out, c, resp->reasons[i]);
	return rc;
}

static void set_outcome(gh_decision *d, const char *outcome, int approvals)
{
	snprintf(d->outcome, sizeof(d->outcome), "%s", outcome);
	d->required_approvals = approvals;
}

static int begin(gh_decision *out, const cedar_ctx *c, const char *outcome)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->source, sizeof(out->source), "%s", CEDAR_SOURCE);
	snprintf(out->policy_version, sizeof(out->policy_version), "%s", c->version);
	set_outcome(out, outcome, 0);
	if (!(out->reasons = json_array()))
		return gh_error_set(GH_ERROR, "out of memory recording a decision");
	return 0;
}

/* --- request and auto_approve ---------------------------------------- */

/* Default deny, forbid overrides permit; anything that cannot be asked is
 * denied, and a malformed obligation denies rather than weakens. */
static int cedar_decide(void *ctxp, gh_decision *out, const json_t *facts)
{
	const cedar_ctx *c = ctxp;
	const json_t *subject = json_object_get(facts, "subject");
	const json_t *ent = json_object_get(facts, "entitlement");
	const json_t *req = json_object_get(facts, "request");
	gh_policy_response *asked = NULL, *autoa = NULL;
	gh_policy_entities *es = NULL;
	obligations ob = {0};
	ents e;
	json_t *ctx = NULL, *q = NULL;
	char dur[32];
	int rc, bad = 0;

	ents_init(&e);
	if ((rc = begin(out, c, "denied")))
		goto cleanup;
	out->max_duration = fint(ent, "max_duration_seconds");
	if (!fact_string(subject, "id") || !fact_string(ent, "id") || !fact_string(ent, "system") ||
	    !fact_string(ent, "control_owner_group")) {
		rc = reason(out, "cedar: the facts lack the subject's or entitlement's ids");
		goto cleanup;
	}
	ents_identity(&e, subject);
	if (fact_string(json_object_get(facts, "submitter"), "id"))
		ents_identity(&e, json_object_get(facts, "submitter"));
	ents_entitlement(&e, ent);
	ctx = json_object();
	kset(&bad, ctx, "duration_seconds", json_integer(fint(req, "duration_seconds")));
	kset(&bad, ctx, "emergency", json_boolean(json_is_true(json_object_get(req, "emergency"))));
	kset(&bad, ctx, "channel", json_string(fstr(req, "channel")));
	if (fact_string(req, "ticket_ref"))
		kset(&bad, ctx, "ticket_ref", json_string(fact_string(req, "ticket_ref")));
	kset(&bad, ctx, "requester", ref_json("Identity", fstr_or(req, "requester", subject)));
	kset(&bad, ctx, "submitted_by", ref_json("Identity",
						  fstr_or(req, "submitted_by", subject)));
	kset(&bad, ctx, "on_behalf", json_boolean(on_behalf(req, subject)));
	q = bad ? NULL : question(fstr(subject, "id"), "request", "Entitlement", fstr(ent, "id"),
				  json_incref(ctx));

	if ((rc = entities(&es, out, c, &e)) || (rc = put(&asked, out, c, es, q, "request")) ||
	    !asked)
		goto cleanup;
	if (!asked->allow) {
		rc = explain(out, c, asked, "the request");
		goto cleanup;
	}
	if ((rc = explain(out, c, asked, "the request")) ||
	    (rc = read_all_obligations(&ob, out, c, asked)))
		goto cleanup;
	if (ob.malformed) {
		rc = reason(out, "denied: a determining policy's obligation is malformed");
		goto cleanup;
	}
	if (ob.max_duration > 0 && (out->max_duration <= 0 || ob.max_duration < out->max_duration))
		out->max_duration = ob.max_duration;
	out->review_within = ob.review_within;
	out->approver_groups = ob.groups;
	ob.groups = NULL;

	/* the same question, asked of auto_approve */
	if (json_object_set_new(json_object_get(q, "action"), "id", json_string("auto_approve"))) {
		rc = nomem();
		goto cleanup;
	}
	if ((rc = put(&autoa, out, c, es, q, "auto_approve")))
		goto cleanup;
	if (autoa && autoa->allow) {
		set_outcome(out, "auto_approved", 0);
		rc = explain(out, c, autoa, "auto_approve");
		goto cleanup;
	}
	set_outcome(out, "approval_required", ob.approvals > 0 ? ob.approvals : 1);
	for (size_t i = 0; autoa && i < autoa->nreasons && !rc; i++) {
		char why[600];

		because(why, sizeof(why), c, autoa->reasons[i]);
		rc = reason(out, "%s forbids auto_approve%s", autoa->reasons[i], why);
	}
	gh_duration_format(dur, sizeof(dur), out->max_duration > 0 ? out->max_duration : 1);
	rc = rc ? rc : reason(out, "%d approval(s) required; the grant is capped at %s",
			      out->required_approvals, dur);
cleanup:
	if (rc)
		gh_decision_clear(out);
	json_decref(ob.groups);
	gh_policy_response_free(asked);
	gh_policy_response_free(autoa);
	gh_policy_entities_free(es);
	ents_clear(&e);
	json_decref(ctx);
	json_decref(q);
	return rc;
}

/* --- approve, break_glass, delegate ----------------------------------- */

/* "approve": the approver (principal) on the Request entity (resource).
 * The question; NULL with *asked unset when the facts lack an id, NULL
 * with *asked set when out of memory (the same for the others). */
static json_t *approve_question(ents *e, int *asked, const json_t *facts)
{
	const json_t *approver = json_object_get(facts, "approver");
	const json_t *subject = json_object_get(facts, "subject");
	const json_t *ent = json_object_get(facts, "entitlement");
	const json_t *req = json_object_get(facts, "request");
	json_t *attrs;

	if (!fact_string(approver, "id") || !fact_string(subject, "id") ||
	    !fact_string(ent, "id") || !fact_string(req, "id"))
		return NULL;
	ents_identity(e, approver);
	ents_identity(e, subject);
	if (fact_string(json_object_get(facts, "requester"), "id"))
		ents_identity(e, json_object_get(facts, "requester"));
	ents_entitlement(e, ent);
	if (ent_new(e, "Request", fstr(req, "id"))) {
		attrs = json_object();
		kset(&e->bad, attrs, "state", json_string(fstr(req, "state")));
		kset(&e->bad, attrs, "subject", ref_json("Identity", fstr(subject, "id")));
		kset(&e->bad, attrs, "requester",
		     ref_json("Identity", fstr_or(req, "requester", subject)));
		kset(&e->bad, attrs, "entitlement", ref_json("Entitlement", fstr(ent, "id")));
		kset(&e->bad, attrs, "duration_seconds",
		     json_integer(fint(req, "duration_seconds")));
		kset(&e->bad, attrs, "emergency",
		     json_boolean(json_is_true(json_object_get(req, "emergency"))));
		kset(&e->bad, attrs, "required_approvals",
		     json_integer(fint(req, "required_approvals")));
		if (!attrs)
			e->bad = 1;
		ent_add(e, "Request", fstr(req, "id"), attrs, NULL);
	}
	*asked = 1;
	return question(fstr(approver, "id"), "approve", "Request", fstr(req, "id"),
			json_object());
}

/* "break_glass": the requester (principal) on the entitlement; the subject
 * rides in the context. */
static json_t *break_glass_question(ents *e, int *asked, const json_t *facts)
{
	const json_t *requester = json_object_get(facts, "requester");
	const json_t *subject = json_object_get(facts, "subject");
	const json_t *ent = json_object_get(facts, "entitlement");
	const json_t *req = json_object_get(facts, "request");
	json_t *ctx;

	if (!fact_string(requester, "id") || !fact_string(subject, "id") ||
	    !fact_string(ent, "id") || !fact_string(ent, "system") ||
	    !fact_string(ent, "control_owner_group"))
		return NULL;
	ents_identity(e, requester);
	ents_identity(e, subject);
	if (fact_string(json_object_get(facts, "submitter"), "id"))
		ents_identity(e, json_object_get(facts, "submitter"));
	ents_entitlement(e, ent);
	*asked = 1;
	ctx = json_pack("{s:s, s:I, s:o, s:o, s:s, s:b}", "incident_ref",
			fstr(req, "incident_ref"), "duration_seconds", fint(req, "duration_seconds"),
			"subject", ref_json("Identity", fstr(subject, "id")), "submitted_by",
			ref_json("Identity", fstr_or(req, "submitted_by", requester)),
			"channel", fstr(req, "channel"), "on_behalf",
			strcmp(fstr_or(req, "requester", requester),
			       fstr_or(req, "submitted_by", requester)) != 0);
	return question(fstr(requester, "id"), "break_glass", "Entitlement", fstr(ent, "id"), ctx);
}

/* "delegate": the actor (principal) on the delegating group (resource). */
static json_t *delegate_question(ents *e, int *asked, const json_t *facts)
{
	const json_t *actor = json_object_get(facts, "actor");
	const json_t *group = json_object_get(facts, "group");
	const json_t *dlg = json_object_get(facts, "delegation");
	const char *gid = fact_string(group, "id"), *to = fact_string(dlg, "to_group");
	json_t *attrs, *ctx;

	if (!fact_string(actor, "id") || !gid || !to)
		return NULL;
	/* the named group first: the actor's groups are listed without attributes */
	if (ent_new(e, "Group", gid)) {
		attrs = json_object();
		if (fact_string(group, "name"))
			kset(&e->bad, attrs, "name", json_string(fact_string(group, "name")));
		if (!attrs)
			e->bad = 1;
		ent_add(e, "Group", gid, attrs, NULL);
	}
	ents_identity(e, actor);
	ents_bare(e, "Group", to);
	*asked = 1;
	ctx = json_pack("{s:s, s:s, s:I, s:o}", "scope_type", fstr(dlg, "scope_type"), "scope",
			fstr(dlg, "scope"), "duration_seconds", fint(dlg, "duration_seconds"),
			"to_group", ref_json("Group", to));
	return question(fstr(actor, "id"), "delegate", "Group", gid, ctx);
}

/* The other questions: "allow" or "deny" with reasons, the determining
 * policies and errors; break_glass also reads @max_duration and
 * @review_within of its determining permits (the smallest wins). */
static int cedar_ask(void *ctxp, gh_decision *out, const char *action, const json_t *facts)
{
	const cedar_ctx *c = ctxp;
	gh_policy_response *resp = NULL;
	gh_policy_entities *es = NULL;
	obligations ob = {0};
	ents e;
	json_t *q = NULL;
	int rc, asked = 0;

	ents_init(&e);
	if ((rc = begin(out, c, "deny")))
		goto cleanup;
	/* asked: the question could be built from the facts (q NULL then means
	 * out of memory) */
	if (strcmp(action, "approve") == 0)
		q = approve_question(&e, &asked, facts);
	else if (strcmp(action, "break_glass") == 0)
		q = break_glass_question(&e, &asked, facts);
	else if (strcmp(action, "delegate") == 0)
		q = delegate_question(&e, &asked, facts);
	if (!asked) {
		rc = reason(out, "cedar: %s is not a question Gatehouse asks, or its facts lack "
			    "ids", action);
		goto cleanup;
	}
	if ((rc = entities(&es, out, c, &e)) || (rc = put(&resp, out, c, es, q, action)) ||
	    !resp || (rc = explain(out, c, resp, action)) || !resp->allow)
		goto cleanup;
	if (strcmp(action, "break_glass") == 0) {
		if ((rc = read_all_obligations(&ob, out, c, resp)))
			goto cleanup;
		if (ob.malformed) {
			rc = reason(out, "denied: a determining policy's obligation is malformed");
			goto cleanup;
		}
		out->max_duration = ob.max_duration;
		out->review_within = ob.review_within;
	}
	snprintf(out->outcome, sizeof(out->outcome), "allow");
cleanup:
	if (rc)
		gh_decision_clear(out);
	json_decref(ob.groups);
	gh_policy_response_free(resp);
	gh_policy_entities_free(es);
	ents_clear(&e);
	json_decref(q);
	return rc;
}

static int finish_new(gh_decider *out, cedar_ctx *c, char *err, size_t errlen);

int gov_cedar_decider_new(gh_decider *out, const char *policy_text, size_t len,
			  const char *version, char *err, size_t errlen)
{
	gh_policy_error perr = {0};
	cedar_ctx *c;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!(c = calloc(1, sizeof(*c)))) {
		if (err)
			snprintf(err, errlen, "out of memory");
		return GH_ERROR;
	}
	snprintf(c->version, sizeof(c->version), "%s", version ? version : "");
	if (gh_policy_schema_parse(&c->schema, gov_cedar_schema, strlen(gov_cedar_schema),
				   &perr)) {
		if (err)
			snprintf(err, errlen, "schema %d:%d: %s", perr.line, perr.column,
				 perr.message);
		goto fail;
	}
	if (gh_policy_set_parse(&c->ps, policy_text, len, &perr)) {
		if (err)
			snprintf(err, errlen, "policies %d:%d: %s", perr.line, perr.column,
				 perr.message);
		goto fail;
	}
	return finish_new(out, c, err, errlen);
fail:
	ctx_free(c);
	return GH_EINVALID;
}

int gov_cedar_decider_from_set(gh_decider *out, gh_policy_set *ps, const char *version,
			       char *err, size_t errlen)
{
	gh_policy_error perr = {0};
	cedar_ctx *c;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!(c = calloc(1, sizeof(*c)))) {
		gh_policy_set_free(ps);
		if (err)
			snprintf(err, errlen, "out of memory");
		return GH_ERROR;
	}
	c->ps = ps;
	snprintf(c->version, sizeof(c->version), "%s", version ? version : "");
	if (gh_policy_schema_parse(&c->schema, gov_cedar_schema, strlen(gov_cedar_schema),
				   &perr)) {
		if (err)
			snprintf(err, errlen, "schema %d:%d: %s", perr.line, perr.column,
				 perr.message);
		ctx_free(c);
		return GH_EINVALID;
	}
	return finish_new(out, c, err, errlen);
}

static int finish_new(gh_decider *out, cedar_ctx *c, char *err, size_t errlen)
{
	if (info_build(c)) {
		if (err)
			snprintf(err, errlen, "out of memory");
		ctx_free(c);
		return GH_ERROR;
	}
	*out = (gh_decider){CEDAR_SOURCE, cedar_decide, c, cedar_ask};
	return 0;
}

void gov_cedar_decider_free(gh_decider *d)
{
	if (!d || d->decide != cedar_decide)
		return;
	ctx_free(d->ctx);
	memset(d, 0, sizeof(*d));
}
