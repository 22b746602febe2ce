/* gov_fixture.h - a small governed estate and a configurable test decider,
 * shared by the delegation and break-glass unit tests (header-only). The
 * estate lives on SQLite or PostgreSQL (store_fixture.h). */
#ifndef GH_TEST_GOV_FIXTURE_H
#define GH_TEST_GOV_FIXTURE_H

#include "gov/gov_internal.h"
#include "store/sqlite/sqlite.h"
#include "harness.h"
#include "store_fixture.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

/* owners (bob, owner) control every entitlement but ent_other (others: dave);
 * cover holds carol; leads holds erin. etl is an NHI owned by owner. */
#define FX_UNUSED __attribute__((unused))

static const gh_actor fx_admin FX_UNUSED = {"idn_admin", GH_ROLE_ADMIN};
static const gh_actor fx_alice FX_UNUSED = {"idn_alice", GH_ROLE_REQUESTER};
static const gh_actor fx_bob FX_UNUSED = {"idn_bob", GH_ROLE_APPROVER | GH_ROLE_REQUESTER};
static const gh_actor fx_carol FX_UNUSED = {"idn_carol", GH_ROLE_APPROVER};
static const gh_actor fx_dave FX_UNUSED = {"idn_dave", GH_ROLE_APPROVER};
static const gh_actor fx_erin FX_UNUSED = {"idn_erin", GH_ROLE_APPROVER};
static const gh_actor fx_sd FX_UNUSED = {"idn_sd", GH_ROLE_SERVICEDESK};
static const gh_actor fx_owner FX_UNUSED = {"idn_owner", GH_ROLE_APPROVER};
static const gh_actor fx_auditor FX_UNUSED = {"idn_admin", GH_ROLE_AUDITOR};

/* What the test decider answers to gov_decider_ask, per action. */
typedef struct fx_answers {
	int allow_approve, allow_break_glass, allow_delegate;
	int allow_on_behalf;          /* the break_glass permit says @on_behalf("allow") */
	int64_t bg_max_duration, bg_review_within;
	const char *approver_group;   /* decide adds it to approver_groups (raw) */
} fx_answers;

static FX_UNUSED int fx_decide(void *ctx, gh_decision *out, const json_t *facts)
{
	const fx_answers *a = ctx;
	int rc = gh_builtin_decider.decide(NULL, out, facts);

	if (!rc && a->approver_group && !(out->approver_groups = json_pack("[s]", a->approver_group)))
		rc = GH_ERROR;
	return rc;
}

static FX_UNUSED int fx_ask(void *ctx, gh_decision *out, const char *action, const json_t *facts)
{
	const fx_answers *a = ctx;
	int allow = strcmp(action, "approve") == 0 ? a->allow_approve :
		    strcmp(action, "break_glass") == 0 ? a->allow_break_glass : a->allow_delegate;

	(void)facts;
	memset(out, 0, sizeof(*out));
	snprintf(out->source, sizeof(out->source), "test-policy");
	snprintf(out->policy_version, sizeof(out->policy_version), "v9 pol_x sha256:abc");
	snprintf(out->outcome, sizeof(out->outcome), "%s", allow ? "allow" : "deny");
	out->reasons = json_pack("[s]", allow ? "policy0 permits" : "policy1 forbids");
	out->determining = json_pack("[{s:s, s:s, s:s, s:{}}]", "policy", allow ? "policy0" : "policy1",
				     "action", action, "effect", allow ? "permit" : "forbid",
				     "annotations");
	if (out->determining && allow && a->allow_on_behalf && strcmp(action, "break_glass") == 0)
		json_object_set_new(json_object_get(json_array_get(out->determining, 0), "annotations"),
				    "on_behalf", json_string("allow"));
	if (strcmp(action, "break_glass") == 0) {
		out->max_duration = a->bg_max_duration;
		out->review_within = a->bg_review_within;
	}
	return out->reasons && out->determining ? 0 : GH_ERROR;
}

static FX_UNUSED void fx_install(gh_gov *g, fx_answers *a)
{
	g->decider = (gh_decider){"test", fx_decide, a, fx_ask};
}

static FX_UNUSED int fx_exec(gh_gov *g, const char *sql)
{
	gh_store *s = gh_gov_store(g);

	if (gh_store_begin(s))
		return -1;
	if (gh_sql_exec(s, sql, "fixture SQL")) {
		fprintf(stderr, "  %s\n", gh_error_last()->message);
		gh_store_rollback(s);
		return -1;
	}
	return gh_store_commit(s);
}

/* The integer sql (a printf format: sqlite3_vmprintf, for its %q and %Q
 * quoting, which PostgreSQL reads alike) finds, read after every commit. */
static FX_UNUSED int64_t fx_int(gh_gov *g, const char *fmt, ...)
{
	int64_t v;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	v = sql ? sf_int(gh_gov_store(g), sql, NULL, NULL) : -1;
	sqlite3_free(sql);
	return v;
}

/* Rows any change touches; a refusal must leave them alone. */
static FX_UNUSED int64_t fx_footprint(gh_gov *g)
{
	return fx_int(g, "SELECT (SELECT count(*) FROM requests) * 1000000000"
			 " + (SELECT count(*) FROM approvals) * 1000000"
			 " + (SELECT count(*) FROM grants) * 10000"
			 " + (SELECT count(*) FROM delegations) * 100"
			 " + (SELECT count(*) FROM audit_events)"
			 " + (SELECT coalesce(sum(length(status) + length(coalesce(review_state,''))), 0)"
			 "    FROM grants)"
			 " + (SELECT count(revoked_at) FROM delegations)");
}

/* The fixture's world, opened with opts (NULL: defaults). */
static FX_UNUSED gh_gov *fx_world_opts(const char *name, const gh_gov_options *opts)
{
	static const char *const sql =
		"INSERT INTO identities(id, kind, name, status, roles, created_at, updated_at) VALUES"
		" ('idn_admin','human','admin','active','[\"admin\"]',0,0),"
		" ('idn_alice','human','alice','active','[\"requester\"]',0,0),"
		" ('idn_bob','human','bob','active','[\"approver\",\"requester\"]',0,0),"
		" ('idn_carol','human','carol','active','[\"approver\"]',0,0),"
		" ('idn_dave','human','dave','active','[\"approver\"]',0,0),"
		" ('idn_erin','human','erin','active','[\"approver\"]',0,0),"
		" ('idn_sd','human','sd','active','[\"servicedesk\"]',0,0),"
		" ('idn_owner','human','owner','active','[\"approver\"]',0,0);"
		"INSERT INTO identities(id, kind, name, status, owner_id, purpose, environment,"
		" expires_at, roles, created_at, updated_at) VALUES"
		" ('idn_etl','service_account','etl','active','idn_owner','export','prod',"
		"  4102444800,'[\"requester\"]',0,0);"
		"INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		" ('grp_owners','dba-owners',0,0), ('grp_cover','cover',0,0),"
		" ('grp_others','others',0,0), ('grp_leads','dba-leads',0,0);"
		"INSERT INTO group_members(group_id, member_type, member_id, added_at) VALUES"
		" ('grp_owners','identity','idn_bob',0), ('grp_owners','identity','idn_owner',0),"
		" ('grp_owners','group','grp_leads',0), ('grp_leads','identity','idn_erin',0),"
		" ('grp_cover','identity','idn_carol',0), ('grp_others','identity','idn_dave',0);"
		"INSERT INTO systems(id, name, owner_id, created_at, updated_at) VALUES"
		" ('sys_db','billing-db','idn_admin',0,0), ('sys_web','web','idn_admin',0,0);"
		"INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity, environment,"
		" control_owner_group_id, max_duration, requestable, tags, created_at, updated_at) VALUES"
		" ('ent_med','sys_db','read-write','medium','internal','prod','grp_owners',86400,1,"
		"  '[\"pci\"]',0,0),"
		" ('ent_low','sys_db','read-only','low','internal','prod','grp_owners',28800,1,'[]',0,0),"
		" ('ent_web','sys_web','deploy','medium','internal','prod','grp_owners',86400,1,'[]',0,0),"
		" ('ent_other','sys_db','backup','medium','internal','prod','grp_others',86400,1,"
		"  '[\"pci\"]',0,0);";
	char file[256], path[768];
	gh_gov *g = NULL;

	snprintf(file, sizeof(file), "%s.db", name);
	sf_target(path, sizeof(path), file, 1);
	if (gh_gov_open(&g, path, 1, opts) != 0) {
		fprintf(stderr, "  open failed: %s\n", gh_error_last()->message);
		return NULL;
	}
	if (fx_exec(g, sql)) {
		gh_gov_free(g);
		return NULL;
	}
	return g;
}

static FX_UNUSED gh_gov *fx_world(const char *name)
{
	return fx_world_opts(name, NULL);
}

/* Calls fn with body parsed from JSON text. */
static FX_UNUSED int fx_body(json_t **out, gh_gov *g, const gh_actor *actor, const char *body,
			     int (*fn)(json_t **, gh_gov *, const gh_actor *, const json_t *))
{
	json_t *in = json_loads(body, 0, NULL);
	int rc;

	if (!in) {
		fprintf(stderr, "  bad test JSON: %s\n", body);
		*out = NULL;
		return -100;
	}
	rc = fn(out, g, actor, in);
	json_decref(in);
	return rc;
}

static FX_UNUSED int fx_act(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			    const char *body,
			    int (*fn)(json_t **, gh_gov *, const gh_actor *, const char *,
				      const json_t *))
{
	json_t *in = json_loads(body, 0, NULL);
	int rc = fn(out, g, actor, id, in);

	json_decref(in);
	return rc;
}

static FX_UNUSED const char *fx_s(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "(null)";
}

static FX_UNUSED int fx_contains(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

static FX_UNUSED int fx_field_error(const char *field)
{
	const gh_error *e = gh_error_last();
	size_t i;
	json_t *item;

	json_array_foreach(e->fields, i, item)
		if (strcmp(fx_s(item, "field"), field) == 0)
			return 1;
	return 0;
}

/* Submits body; returns the new request's id (caller frees) in state, or NULL. */
static FX_UNUSED char *fx_request(gh_gov *g, const gh_actor *actor, const char *body,
				  const char *state)
{
	json_t *r = NULL;
	char *id = NULL;

	if (CHECK_INT(fx_body(&r, g, actor, body, gh_gov_request_submit), 0) &&
	    CHECK_STR(fx_s(r, "state"), state))
		id = strdup(fx_s(r, "id"));
	if (!r)
		fprintf(stderr, "  submit: %s\n", gh_error_last()->message);
	json_decref(r);
	return id;
}

static FX_UNUSED int fx_has_check(const json_t *request, size_t i, const char *prefix)
{
	json_t *checks = json_object_get(json_array_get(json_object_get(request, "approvals"), i),
					 "checks"), *c;
	size_t k;

	json_array_foreach(checks, k, c)
		if (strncmp(json_string_value(c), prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

static FX_UNUSED int64_t fx_time(const json_t *obj, const char *key)
{
	int64_t t = -1;

	gh_time_parse(&t, fx_s(obj, key));
	return t;
}

#endif
