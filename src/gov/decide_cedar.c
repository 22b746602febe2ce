/* decide_cedar.c - a decider that asks Cedar policies what a request needs. */
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
	"// granted without a human approval (auto_approve)?\n"
	"action \"request\", \"auto_approve\" appliesTo {\n"
	"\tprincipal: Identity,\n"
	"\tresource: Entitlement,\n"
	"\tcontext: {\n"
	"\t\tduration_seconds: Long,\n"
	"\t\temergency: Bool,\n"
	"\t\tchannel: String,\n"
	"\t\tticket_ref?: String,\n"
	"\t\trequester: Identity,\n"
	"\t\tsubmitted_by: Identity,\n"
	"\t},\n"
	"};\n"
	"\n"
	"// May this person approve this request?\n"
	"action \"approve\" appliesTo {\n"
	"\tprincipal: Identity,\n"
	"\tresource: Request,\n"
	"\tcontext: {},\n"
	"};\n"
	"\n"
	"// May this person invoke break-glass access?\n"
	"action \"break_glass\" appliesTo {\n"
	"\tprincipal: Identity,\n"
	"\tresource: Entitlement,\n"
	"\tcontext: {\n"
	"\t\tincident_ref: String,\n"
	"\t\tduration_seconds: Long,\n"
	"\t},\n"
	"};\n";

typedef struct cedar_ctx {
	gh_policy_set *ps;
	gh_policy_schema *schema;
	char version[64];
} cedar_ctx;

/* What the determining permits of "request" oblige; the strictest value wins. */
typedef struct obligations {
	int approvals;         /* 0 when no policy says */
	int64_t max_duration;  /* 0 when no policy says */
	int malformed;         /* an annotation that does not parse: fail closed */
} obligations;

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

static json_t *entity_ref(const char *type, const char *id)
{
	return json_pack("{s:{s:s, s:s}}", "__entity", "type", type, "id", id);
}

/* Adds {"uid","attrs","parents"} once per uid (seen holds "type/id" keys). */
static int add_entity(json_t *list, json_t *seen, const char *type, const char *id, json_t *attrs,
		      json_t *parents)
{
	char key[GH_ID_LEN + 32];
	json_t *e;

	snprintf(key, sizeof(key), "%s/%s", type, id);
	if (json_object_get(seen, key)) {
		json_decref(attrs);
		json_decref(parents);
		return 0;
	}
	e = json_pack("{s:{s:s, s:s}, s:o, s:o}", "uid", "type", type, "id", id, "attrs",
		      attrs ? attrs : json_object(), "parents", parents ? parents : json_array());
	if (!e || json_array_append_new(list, e) || json_object_set_new(seen, key, json_true()))
		return -1;
	return 0;
}

static int set_opt_string(json_t *obj, const char *key, const char *s)
{
	return s ? json_object_set_new(obj, key, json_string(s)) : 0;
}

/* The entities of a request's facts: the subject (parents: all its groups),
 * those groups, the entitlement (parent: its system), the system and the
 * control owner group. The caller checked the ids are present. */
static json_t *facts_entities(const json_t *subject, const json_t *ent)
{
	const char *sid = fact_string(subject, "id"), *eid = fact_string(ent, "id");
	const char *sys = fact_string(ent, "system");
	const char *cog = fact_string(ent, "control_owner_group");
	json_t *list = json_array(), *seen = json_object(), *attrs = NULL, *parents = NULL;
	json_t *roles = NULL, *v;
	size_t i;
	int bad = !list || !seen;

	/* subject */
	if (!bad) {
		attrs = json_pack("{s:s, s:s, s:s}", "kind", fstr(subject, "kind"),
				  "name", fstr(subject, "name"), "status",
				  fstr(subject, "status"));
		roles = json_array();
		parents = json_array();
		bad = !attrs || !roles || !parents;
	}
	if (!bad) {
		json_array_foreach(json_object_get(subject, "roles"), i, v)
			if (json_is_string(v))
				bad |= json_array_append(roles, v);
		json_array_foreach(json_object_get(subject, "groups"), i, v)
			if (json_is_string(v))
				bad |= json_array_append_new(parents, json_pack(
					"{s:s, s:s}", "type", "Group", "id", json_string_value(v)));
		bad |= json_object_set(attrs, "roles", roles);
		bad |= set_opt_string(attrs, "environment", fact_string(subject, "environment"));
		bad |= set_opt_string(attrs, "purpose", fact_string(subject, "purpose"));
		if (fact_string(subject, "owner"))
			bad |= json_object_set_new(attrs, "owner", entity_ref("Identity", fact_string(
							   subject, "owner")));
		bad = bad || add_entity(list, seen, "Identity", sid, attrs, parents);
		attrs = parents = NULL;
	}
	if (!bad)
		json_array_foreach(json_object_get(subject, "groups"), i, v)
			if (json_is_string(v))
				bad |= add_entity(list, seen, "Group", json_string_value(v), NULL, NULL);
	/* entitlement, its system and control owner group */
	if (!bad) {
		attrs = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:b, s:o}",
				  "name", fstr(ent, "name"),
				  "risk_tier", fstr(ent, "risk_tier"),
				  "data_sensitivity", fstr(ent, "data_sensitivity"),
				  "environment", fstr(ent, "environment"),
				  "control_owner_group", entity_ref("Group", cog),
				  "max_duration_seconds",
				  json_integer_value(json_object_get(ent, "max_duration_seconds")),
				  "requestable", json_is_true(json_object_get(ent, "requestable")),
				  "system", entity_ref("System", sys));
		parents = json_pack("[{s:s, s:s}]", "type", "System", "id", sys);
		bad = !attrs || !parents || add_entity(list, seen, "Entitlement", eid, attrs, parents);
		attrs = parents = NULL;
	}
	bad = bad || add_entity(list, seen, "System", sys, NULL, NULL) ||
	      add_entity(list, seen, "Group", cog, NULL, NULL);
	json_decref(attrs);
	json_decref(parents);
	json_decref(roles);
	json_decref(seen);
	if (bad) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static json_t *facts_request(const json_t *subject, const json_t *ent, const json_t *req)
{
	json_t *ctx = json_pack("{s:I, s:b, s:s, s:o, s:o}",
				"duration_seconds",
				json_integer_value(json_object_get(req, "duration_seconds")),
				"emergency", json_is_true(json_object_get(req, "emergency")),
				"channel", fstr(req, "channel"),
				"requester", entity_ref("Identity", fstr_or(req, "requester", subject)),
				"submitted_by", entity_ref("Identity", fstr_or(req, "submitted_by", subject)));

	if (!ctx || set_opt_string(ctx, "ticket_ref", fact_string(req, "ticket_ref"))) {
		json_decref(ctx);
		return NULL;
	}
	return json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}, s:o}",
			 "principal", "type", "Identity", "id", fact_string(subject, "id"),
			 "action", "type", "Action", "id", "request",
			 "resource", "type", "Entitlement", "id", fact_string(ent, "id"),
			 "context", ctx);
}

static const char *annotation(const cedar_ctx *c, const char *policy, const char *key)
{
	return gh_policy_set_annotation(c->ps, policy, key);
}

/* " because <@reason>" or "" */
static void because(char *out, size_t outlen, const cedar_ctx *c, const char *policy)
{
	const char *r = annotation(c, policy, "reason");

	snprintf(out, outlen, "%s%s", r && *r ? ": " : "", r && *r ? r : "");
}

/* Asks Cedar about action; *resp is NULL (and a reason says why) when the
 * question could not be put. Evaluation errors are listed in reasons. */
static int ask(gh_policy_response **resp, gh_decision *out, const cedar_ctx *c,
	       const gh_policy_entities *es, json_t *reqj, const char *action)
{
	gh_policy_request *req = NULL;
	gh_policy_error perr = {0};
	char *text = NULL;
	size_t i;
	int rc = 0;

	*resp = NULL;
	if (json_object_set_new(json_object_get(reqj, "action"), "id", json_string(action)) ||
	    !(text = json_dumps(reqj, JSON_COMPACT))) {
		rc = gh_error_set(GH_ERROR, "out of memory asking Cedar");
		goto cleanup;
	}
	if (gh_policy_request_parse(&req, text, strlen(text), c->schema, 1, &perr)) {
		rc = reason(out, "cedar: the %s request does not fit the schema: %s", action,
			    perr.message);
		goto cleanup;
	}
	if (gh_policy_authorize(resp, c->ps, es, req)) {
		rc = gh_error_set(GH_ERROR, "Cedar could not evaluate %s", action);
		goto cleanup;
	}
	for (i = 0; i < (*resp)->nerrors && !rc; i++)
		rc = reason(out, "%s errored on %s and was skipped: %s", (*resp)->errors[i], action,
			    (*resp)->error_messages[i]);
cleanup:
	if (rc) {
		gh_policy_response_free(*resp);
		*resp = NULL;
	}
	gh_policy_request_free(req);
	free(text);
	return rc;
}

/* Reads the obligations of one determining permit into ob, recording them. */
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
		if (gh_duration_parse(&secs, v)) {
			ob->malformed = 1;
			rc |= reason(out, "%s: @max_duration(\"%s\") is not a duration", policy, v);
		} else if (ob->max_duration == 0 || secs < ob->max_duration) {
			ob->max_duration = secs;
		}
	}
	if ((v = annotation(c, policy, "approver_group")))
		rc |= reason(out, "%s: approver_group %s", policy, v);
	if ((v = annotation(c, policy, "review_within"))) {
		if (gh_duration_parse(&secs, v)) {
			ob->malformed = 1;
			rc |= reason(out, "%s: @review_within(\"%s\") is not a duration", policy, v);
		} else {
			rc |= reason(out, "%s: review_within %s", policy, v);
		}
	}
	if (ob->malformed && !rc)
		gh_error_clear(); /* a refused duration is reported in reasons, not as an error */
	return rc;
}

static void set_outcome(gh_decision *d, const char *outcome, int approvals)
{
	snprintf(d->outcome, sizeof(d->outcome), "%s", outcome);
	d->required_approvals = approvals;
}

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
	gh_policy_error perr = {0};
	obligations ob = {0};
	json_t *ents = NULL, *reqj = NULL;
	char *text = NULL, why[600], dur[32];
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->source, sizeof(out->source), "%s", CEDAR_SOURCE);
	snprintf(out->policy_version, sizeof(out->policy_version), "%s", c->version);
	set_outcome(out, "denied", 0);
	if (!(out->reasons = json_array()))
		return gh_error_set(GH_ERROR, "out of memory recording a decision");
	out->max_duration = json_integer_value(json_object_get(ent, "max_duration_seconds"));
	if (!fact_string(subject, "id") || !fact_string(ent, "id") || !fact_string(ent, "system") ||
	    !fact_string(ent, "control_owner_group"))
		return reason(out, "cedar: the facts lack the subject's or entitlement's ids");

	if (!(ents = facts_entities(subject, ent)) || !(reqj = facts_request(subject, ent, req)) ||
	    !(text = json_dumps(ents, JSON_COMPACT))) {
		rc = gh_error_set(GH_ERROR, "out of memory building Cedar entities");
		goto cleanup;
	}
	if (gh_policy_entities_parse(&es, text, strlen(text), c->schema, &perr)) {
		rc = reason(out, "cedar: the entities do not fit the schema: %s", perr.message);
		goto cleanup;
	}
	if ((rc = ask(&asked, out, c, es, reqj, "request")) || !asked)
		goto cleanup;
	if (!asked->allow) {
		for (i = 0; i < asked->nreasons && !rc; i++) {
			because(why, sizeof(why), c, asked->reasons[i]);
			rc = reason(out, "%s forbids%s", asked->reasons[i],
				    *why ? why : " the request");
		}
		if (!rc && asked->nreasons == 0)
			rc = reason(out, "no policy permits the request (default deny)");
		goto cleanup;
	}
	for (i = 0; i < asked->nreasons && !rc; i++) {
		because(why, sizeof(why), c, asked->reasons[i]);
		rc = reason(out, "%s permits the request%s", asked->reasons[i], why);
		rc = rc ? rc : read_obligations(&ob, out, c, asked->reasons[i]);
	}
	if (rc)
		goto cleanup;
	if (ob.malformed) {
		rc = reason(out, "denied: a determining policy's obligation is malformed");
		goto cleanup;
	}
	if (ob.max_duration > 0 && (out->max_duration <= 0 || ob.max_duration < out->max_duration))
		out->max_duration = ob.max_duration;

	if ((rc = ask(&autoa, out, c, es, reqj, "auto_approve")))
		goto cleanup;
	if (autoa && autoa->allow) {
		set_outcome(out, "auto_approved", 0);
		for (i = 0; i < autoa->nreasons && !rc; i++) {
			because(why, sizeof(why), c, autoa->reasons[i]);
			rc = reason(out, "%s permits auto_approve%s", autoa->reasons[i], why);
		}
		goto cleanup;
	}
	set_outcome(out, "approval_required", ob.approvals > 0 ? ob.approvals : 1);
	for (i = 0; autoa && i < autoa->nreasons && !rc; i++) {
		because(why, sizeof(why), c, autoa->reasons[i]);
		rc = reason(out, "%s forbids auto_approve%s", autoa->reasons[i], why);
	}
	gh_duration_format(dur, sizeof(dur), out->max_duration > 0 ? out->max_duration : 1);
	rc = rc ? rc : reason(out, "%d approval(s) required; the grant is capped at %s",
			      out->required_approvals, dur);
cleanup:
	if (rc) {
		gh_decision_clear(out);
	}
	gh_policy_response_free(asked);
	gh_policy_response_free(autoa);
	gh_policy_entities_free(es);
	json_decref(ents);
	json_decref(reqj);
	free(text);
	return rc;
}

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
	*out = (gh_decider){CEDAR_SOURCE, cedar_decide, c, NULL};
	return 0;
fail:
	gh_policy_schema_free(c->schema);
	gh_policy_set_free(c->ps);
	free(c);
	return GH_EINVALID;
}

void gov_cedar_decider_free(gh_decider *d)
{
	cedar_ctx *c;

	if (!d || d->decide != cedar_decide)
		return;
	c = d->ctx;
	gh_policy_set_free(c->ps);
	gh_policy_schema_free(c->schema);
	free(c);
	memset(d, 0, sizeof(*d));
}
