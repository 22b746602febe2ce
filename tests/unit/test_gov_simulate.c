/* test_gov_simulate.c - what-if: a simulation of a policy version predicts
 * exactly what activating it then does (flips to deny, to grant, changed
 * approvals, revocation candidates), changes nothing itself, and refuses
 * bad input naming the field. Against a real SQLite file. */
#include "gov_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const gh_actor a_admin = {"idn_admin", GH_ROLE_ADMIN};
static const gh_actor a_iam2 = {"idn_iam2", GH_ROLE_IAM};
static const gh_actor a_aud = {"idn_aud", GH_ROLE_AUDITOR};
static const gh_actor a_alice = {"idn_alice", GH_ROLE_REQUESTER};
static const gh_actor a_carol = {"idn_carol", GH_ROLE_APPROVER | GH_ROLE_REQUESTER};

/* v1: everything requestable may be asked for, high needs two approvals,
 * low within the maximum is granted at once, owners approve. */
static const char v1[] =
	"@approvals(\"1\")\n"
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { principal.status == \"active\" && resource.requestable };\n"
	"@approvals(\"2\")\n"
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"high\" || resource.risk_tier == \"critical\" };\n"
	"permit(principal, action == Action::\"auto_approve\", resource)\n"
	"when { resource.risk_tier == \"low\" &&\n"
	"       context.duration_seconds <= resource.max_duration_seconds };\n"
	"permit(principal in Group::\"grp_owners\", action == Action::\"approve\", resource);\n";

/* v2: medium is closed, alice loses low access, high needs one approval
 * for service accounts and three inside the owners' group, low is granted
 * at once whatever the duration (the catalog still caps it). */
static const char v2[] =
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { principal.status == \"active\" && resource.requestable };\n"
	"@reason(\"medium access is closed for the audit\")\n"
	"forbid(principal, action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"medium\" };\n"
	"@reason(\"alice moved teams\")\n"
	"forbid(principal == Identity::\"idn_alice\", action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"low\" };\n"
	"@approvals(\"1\")\n"
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"high\" && principal.kind == \"service_account\" };\n"
	"@approvals(\"3\")\n"
	"permit(principal in Group::\"grp_owners\", action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"high\" };\n"
	"@approvals(\"2\")\n"
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"critical\" };\n"
	"permit(principal, action == Action::\"auto_approve\", resource)\n"
	"when { resource.risk_tier == \"low\" };\n"
	"permit(principal in Group::\"grp_owners\", action == Action::\"approve\", resource);\n";

static int64_t count(gh_gov *g, const char *sql)
{
	return sf_int(gh_gov_store(g), sql, NULL, NULL);
}

static const char *sget(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "(null)";
}

static int propose(gh_gov *g, const char *text)
{
	json_t *in = json_pack("{s:s}", "text", text), *out = NULL;
	int rc = gh_gov_policy_propose(&out, g, &a_admin, in);

	json_decref(in);
	json_decref(out);
	return rc;
}

/* A world whose active policy is v1 (proposed by admin, activated by iam2). */
static gh_gov *world(const char *name)
{
	static const char *const sql =
		"INSERT INTO identities(id, kind, name, status, roles, created_at, updated_at) VALUES"
		" ('idn_admin','human','admin','active','[\"admin\"]',0,0),"
		" ('idn_iam2','human','iam2','active','[\"iam\"]',0,0),"
		" ('idn_aud','human','aud','active','[\"auditor\"]',0,0),"
		" ('idn_alice','human','alice','active','[\"requester\"]',0,0),"
		" ('idn_bob','human','bob','active','[\"approver\"]',0,0),"
		" ('idn_carol','human','carol','active','[\"approver\",\"requester\"]',0,0),"
		" ('idn_dave','human','dave','active','[\"approver\"]',0,0);"
		"INSERT INTO identities(id, kind, name, status, owner_id, purpose, environment,"
		" expires_at, roles, created_at, updated_at) VALUES"
		" ('idn_etl','service_account','etl','active','idn_alice','nightly export','prod',"
		"  4102444800,'[]',0,0);"
		"INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		" ('grp_owners','dba-owners',0,0), ('grp_leads','dba-leads',0,0);"
		"INSERT INTO group_members(group_id, member_type, member_id, added_at) VALUES"
		" ('grp_owners','identity','idn_bob',0), ('grp_owners','group','grp_leads',0),"
		" ('grp_leads','identity','idn_carol',0), ('grp_leads','identity','idn_dave',0);"
		"INSERT INTO systems(id, name, owner_id, created_at, updated_at) VALUES"
		" ('sys_db','billing-db','idn_admin',0,0);"
		"INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity, environment,"
		" control_owner_group_id, max_duration, requestable, created_at, updated_at) VALUES"
		" ('ent_low','sys_db','read-only','low','internal','prod','grp_owners',28800,1,0,0),"
		" ('ent_low2','sys_db','reports','low','internal','prod','grp_owners',28800,1,0,0),"
		" ('ent_med','sys_db','read-write','medium','internal','prod','grp_owners',86400,1,0,0),"
		" ('ent_high','sys_db','dba','high','restricted','prod','grp_owners',14400,1,0,0),"
		" ('ent_crit','sys_db','superuser','critical','restricted','prod','grp_owners',3600,1,0,0);";
	char path[512];
	json_t *out = NULL;
	gh_gov *g = NULL;

	sf_targetf(path, sizeof(path), 1, "simulate_%s.db", name);
	if (gh_gov_open(&g, path, 1, NULL) != 0 || fx_exec(g, sql) || propose(g, v1) ||
	    gh_gov_policy_activate(&out, g, &a_iam2, "1", NULL)) {
		fprintf(stderr, "  world: %s\n", gh_error_last()->message);
		gh_gov_free(g);
		return NULL;
	}
	json_decref(out);
	return g;
}

/* Submits as admin; the request's id into id. */
static int submit(gh_gov *g, const char *subject, const char *ent, const char *duration,
		  const char *state, char id[GH_ID_LEN])
{
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "channel", "portal", "subject",
			       subject, "entitlement", ent, "justification", "test",
			       "duration", duration);
	json_t *out = NULL;
	int rc = gh_gov_request_submit(&out, g, &a_admin, in);

	if (rc)
		fprintf(stderr, "  submit: %s\n", gh_error_last()->message);
	else if (strcmp(sget(out, "state"), state) != 0)
		rc = -1, fprintf(stderr, "  submit %s/%s: %s, expected %s\n", subject, ent,
				 sget(out, "state"), state);
	if (id)
		snprintf(id, GH_ID_LEN, "%s", sget(out, "id"));
	json_decref(in);
	json_decref(out);
	return rc;
}

static int simulate(json_t **out, gh_gov *g, const gh_actor *who, const char *key,
		    const char *value)
{
	json_t *in = json_pack("{s:s}", key, value);
	int rc = gh_gov_policy_simulate(out, g, who, in);

	if (rc)
		fprintf(stderr, "  simulate: %s\n", gh_error_last()->message);
	json_decref(in);
	return rc;
}

/* The flip of request id in a simulation's answer, or NULL. */
static const json_t *flip_of(const json_t *answer, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(json_object_get(answer, "requests"), "flips"), i, v)
		if (strcmp(sget(v, "request"), id) == 0)
			return v;
	return NULL;
}

static const char *effect(const json_t *answer, const char *id)
{
	const json_t *f = flip_of(answer, id);

	return f ? sget(f, "effect") : "(none)";
}

static void request_is(gh_gov *g, const char *id, const char *state, int required)
{
	json_t *r = NULL;

	if (CHECK_INT(gh_gov_request_get(&r, g, &a_admin, id), 0)) {
		CHECK_STR(sget(r, "state"), state);
		CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), required);
	}
	json_decref(r);
}

static void test_gov_simulate__predicts_exactly_what_activation_does(void)
{
	gh_gov *g = world("predict");
	char r_deny[GH_ID_LEN], r_grant[GH_ID_LEN], r_more[GH_ID_LEN], r_auto[GH_ID_LEN];
	char r_same[GH_ID_LEN], g_alice[GH_ID_LEN], sql[256];
	json_t *by_version = NULL, *by_text = NULL, *act = NULL, *after = NULL, *r = NULL;
	json_t *empty = json_object(), *ev;
	const json_t *f, *c;
	int64_t events;

	if (!CHECK(g != NULL && empty != NULL))
		goto cleanup;
	/* under v1 */
	if (!CHECK_INT(submit(g, "alice", "read-write", "1h", "pending_approval", r_deny), 0) ||
	    !CHECK_INT(submit(g, "etl", "dba", "1h", "pending_approval", r_grant), 0) ||
	    !CHECK_INT(submit(g, "carol", "dba", "1h", "pending_approval", r_more), 0) ||
	    !CHECK_INT(submit(g, "dave", "read-only", "1d", "pending_approval", r_auto), 0) ||
	    !CHECK_INT(submit(g, "bob", "superuser", "1h", "pending_approval", r_same), 0) ||
	    !CHECK_INT(submit(g, "alice", "read-only", "1h", "active", NULL), 0) ||
	    !CHECK_INT(submit(g, "etl", "read-only", "1h", "active", NULL), 0))
		goto cleanup;
	/* one of etl's two approvals is in */
	CHECK_INT(gh_gov_request_approve(&r, g, &a_carol, r_grant, empty), 0);
	CHECK_STR(sget(r, "state"), "pending_approval");
	json_decref(r);
	r = NULL;
	gh_store_read_begin(gh_gov_store(g));
	CHECK_INT(gov_resolve(g, "identities", "alice", g_alice), 0);
	gh_store_read_end(gh_gov_store(g));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM grants WHERE subject_id = '%s'", g_alice);

	CHECK_INT(propose(g, v2), 0);
	events = count(g, "SELECT count(*) FROM audit_events");
	if (!CHECK_INT(simulate(&by_version, g, &a_aud, "version", "2"), 0) ||
	    !CHECK_INT(simulate(&by_text, g, &a_iam2, "text", v2), 0))
		goto cleanup;
	/* read-only: nothing changed */
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events"), events);
	request_is(g, r_deny, "pending_approval", 1);

	CHECK_INT(json_integer_value(json_object_get(json_object_get(by_version, "policy"),
						     "version")), 2);
	CHECK(json_is_null(json_object_get(json_object_get(by_text, "policy"), "version")));
	CHECK_STR(sget(json_object_get(by_version, "policy"), "sha256"),
		  sget(json_object_get(by_text, "policy"), "sha256"));
	CHECK_INT(json_integer_value(json_object_get(by_version, "active_version")), 1);
	CHECK_INT(json_array_size(json_object_get(by_text, "validation")), 0);
	CHECK(json_equal(json_object_get(by_version, "requests"),
			 json_object_get(by_text, "requests")));
	CHECK(json_equal(json_object_get(by_version, "grants"), json_object_get(by_text, "grants")));

	CHECK_INT(json_integer_value(json_object_get(json_object_get(by_version, "requests"),
						     "evaluated")), 5);
	CHECK_INT(json_array_size(json_object_get(json_object_get(by_version, "requests"),
						  "flips")), 4);
	CHECK_STR(effect(by_version, r_deny), "deny");
	CHECK_STR(effect(by_version, r_grant), "grant");
	CHECK_STR(effect(by_version, r_more), "require_approvals");
	CHECK_STR(effect(by_version, r_auto), "grant");
	CHECK(flip_of(by_version, r_same) == NULL);
	if ((f = flip_of(by_version, r_deny))) {
		CHECK_STR(sget(json_object_get(f, "from"), "outcome"), "approval_required");
		CHECK_STR(sget(json_object_get(f, "to"), "outcome"), "denied");
		CHECK(strstr(json_string_value(json_array_get(json_object_get(json_object_get(f, "to"),
			"reasons"), 0)), "medium access is closed") != NULL);
	}
	if ((f = flip_of(by_version, r_more))) {
		CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "from"),
							     "required_approvals")), 2);
		CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "to"),
							     "required_approvals")), 3);
	}
	if ((f = flip_of(by_version, r_grant)))
		CHECK_INT(json_integer_value(json_object_get(json_object_get(f, "to"),
							     "required_approvals")), 1);
	if ((f = flip_of(by_version, r_auto)))
		CHECK_STR(sget(json_object_get(f, "to"), "outcome"), "auto_approved");
	c = json_object_get(json_object_get(by_version, "grants"), "revocation_candidates");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(by_version, "grants"),
						     "evaluated")), 2);
	CHECK_INT(json_array_size(c), 1);
	CHECK_STR(sget(json_array_get(c, 0), "subject"), g_alice);
	CHECK(strstr(json_string_value(json_array_get(json_object_get(json_array_get(c, 0),
		"reasons"), 0)), "alice moved teams") != NULL);

	/* activation does exactly that, in its transaction */
	if (!CHECK_INT(gh_gov_policy_activate(&act, g, &a_iam2, "2", NULL), 0))
		goto cleanup;
	CHECK(json_equal(json_object_get(json_object_get(act, "effects"), "requests"),
			 json_object_get(by_version, "requests")));
	CHECK(json_equal(json_object_get(json_object_get(act, "effects"), "grants"),
			 json_object_get(by_version, "grants")));
	request_is(g, r_deny, "denied", 0);
	request_is(g, r_grant, "active", 1);
	request_is(g, r_more, "pending_approval", 3);
	request_is(g, r_auto, "active", 0);
	request_is(g, r_same, "pending_approval", 2);
	if (CHECK_INT(gh_gov_request_get(&r, g, &a_admin, r_deny), 0)) {
		CHECK_STR(sget(r, "close_reason"), "policy_changed");
		CHECK(strncmp(sget(json_object_get(r, "decision"), "policy_version"), "v2 ", 3) == 0);
	}
	json_decref(r);
	r = NULL;
	/* candidates are reported, never revoked */
	CHECK_INT(count(g, sql), 1);
	CHECK_INT(count(g, "SELECT count(*) FROM grants WHERE status = 'active'"), 4);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'request.redecided'"), 4);
	ev = NULL;
	{
		char *text = sf_text(gh_gov_store(g), "SELECT details FROM audit_events WHERE action ="
				     " 'policy.activated' ORDER BY seq DESC LIMIT 1", NULL, NULL);

		ev = text ? json_loads(text, 0, NULL) : NULL;
		free(text);
	}
	CHECK(ev && json_equal(json_object_get(ev, "effects"), json_object_get(act, "effects")));
	json_decref(ev);

	/* a grant capped by the catalog: 1d asked, read-only allows 8h */
	if (CHECK_INT(gh_gov_request_get(&r, g, &a_admin, r_auto), 0)) {
		json_t *gr = NULL;

		if (CHECK_INT(gh_gov_grant_get(&gr, g, &a_admin, sget(r, "grant")), 0)) {
			int64_t from = 0, to = 0;

			gh_time_parse(&from, sget(gr, "granted_at"));
			gh_time_parse(&to, sget(gr, "expires_at"));
			CHECK_INT(to - from, 28800);
		}
		json_decref(gr);
	}

	/* deciding again under the active version changes nothing more */
	if (CHECK_INT(simulate(&after, g, &a_aud, "version", "2"), 0)) {
		CHECK_INT(json_integer_value(json_object_get(json_object_get(after, "requests"),
							     "evaluated")), 2);
		CHECK_INT(json_array_size(json_object_get(json_object_get(after, "requests"),
							  "flips")), 0);
		CHECK_INT(json_integer_value(json_object_get(after, "active_version")), 2);
	}
cleanup:
	json_decref(r);
	json_decref(by_version);
	json_decref(by_text);
	json_decref(act);
	json_decref(after);
	json_decref(empty);
	gh_gov_free(g);
}

/* Two pending requests of one subject for conflicting entitlements that a
 * new policy would both grant: the second is denied (SoD), in simulation
 * and activation alike. */
static void test_gov_simulate__segregation_of_duties_within_one_pass(void)
{
	static const char open_low[] =
		"permit(principal, action == Action::\"request\", resource);\n"
		"permit(principal, action == Action::\"auto_approve\", resource);\n";
	gh_gov *g = world("sod");
	char first[GH_ID_LEN], second[GH_ID_LEN];
	json_t *sim = NULL, *act = NULL;
	const json_t *f;

	if (!CHECK(g != NULL))
		return;
	CHECK_INT(fx_exec(g, "INSERT INTO entitlement_conflicts(a, b) VALUES ('ent_low',"
			      " 'ent_low2')"), 0);
	if (!CHECK_INT(submit(g, "dave", "read-only", "1d", "pending_approval", first), 0) ||
	    !CHECK_INT(submit(g, "dave", "reports", "1d", "pending_approval", second), 0))
		goto cleanup;
	CHECK_INT(propose(g, open_low), 0);
	if (!CHECK_INT(simulate(&sim, g, &a_admin, "version", "2"), 0))
		goto cleanup;
	CHECK_STR(effect(sim, first), "grant");
	CHECK_STR(effect(sim, second), "deny");
	if ((f = flip_of(sim, second)))
		CHECK(strstr(json_string_value(json_array_get(json_object_get(json_object_get(f, "to"),
			"reasons"), 0)), "segregation of duties") != NULL);
	if (CHECK_INT(gh_gov_policy_activate(&act, g, &a_iam2, "2", NULL), 0))
		CHECK(json_equal(json_object_get(json_object_get(act, "effects"), "requests"),
				 json_object_get(sim, "requests")));
	request_is(g, first, "active", 0);
	request_is(g, second, "denied", 0);
cleanup:
	json_decref(sim);
	json_decref(act);
	gh_gov_free(g);
}

/* 1 when the last error names field with a reason containing needle. */
static int field_error(const char *field, const char *needle)
{
	const json_t *fields = gh_error_last()->fields;
	size_t i;
	json_t *v;

	json_array_foreach(fields, i, v)
		if (strcmp(sget(v, "field"), field) == 0 && strstr(sget(v, "reason"), needle))
			return 1;
	fprintf(stderr, "  no %s error with %s in: %s\n", field, needle, gh_error_last()->message);
	return 0;
}

/* Exactly one of text and version; each problem names its field; roles. */
static void test_gov_simulate__bad_input_names_the_field(void)
{
	gh_gov *g = world("input");
	json_t *in, *out = NULL;

	if (!CHECK(g != NULL))
		return;
	in = json_pack("{s:s, s:s}", "text", v2, "version", "1");
	CHECK_INT(gh_gov_policy_simulate(&out, g, &a_admin, in), GH_EINVALID);
	CHECK(field_error("version", "not both"));
	json_decref(in);

	in = json_object();
	CHECK_INT(gh_gov_policy_simulate(&out, g, &a_admin, in), GH_EINVALID);
	CHECK(field_error("text", "required"));
	json_decref(in);

	in = json_pack("{s:s}", "version", "9");
	CHECK_INT(gh_gov_policy_simulate(&out, g, &a_admin, in), GH_EINVALID);
	CHECK(field_error("version", "policy version 9 not found"));
	json_decref(in);

	in = json_pack("{s:s}", "text", "permit(principal,");
	CHECK_INT(gh_gov_policy_simulate(&out, g, &a_admin, in), GH_EINVALID);
	CHECK(field_error("text", "1:"));
	json_decref(in);

	in = json_pack("{s:s, s:b}", "text", v2, "dry", 1);
	CHECK_INT(gh_gov_policy_simulate(&out, g, &a_admin, in), GH_EINVALID);
	CHECK(field_error("dry", "unknown"));
	json_decref(in);

	/* a requester may not look */
	in = json_pack("{s:s}", "text", v2);
	CHECK_INT(gh_gov_policy_simulate(&out, g, &a_alice, in), GH_EFORBIDDEN);
	json_decref(in);

	/* draft annotations are reported as proposing would */
	in = json_pack("{s:s}", "text", "@approvals(\"x\") permit(principal, action, resource);");
	if (CHECK_INT(gh_gov_policy_simulate(&out, g, &a_aud, in), 0))
		CHECK_INT(json_array_size(json_object_get(out, "validation")), 1);
	json_decref(out);
	json_decref(in);
	CHECK(out != NULL);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_gov_simulate__predicts_exactly_what_activation_does",
		 test_gov_simulate__predicts_exactly_what_activation_does},
		{"test_gov_simulate__segregation_of_duties_within_one_pass",
		 test_gov_simulate__segregation_of_duties_within_one_pass},
		{"test_gov_simulate__bad_input_names_the_field",
		 test_gov_simulate__bad_input_names_the_field},
		{NULL, NULL},
	};
	int rc;

	gh_init();
	rc = gh_test_run(cases, argc, argv);
	gh_error_clear();
	return rc;
}
