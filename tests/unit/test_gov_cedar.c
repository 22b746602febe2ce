/* test_gov_cedar.c - the Cedar decider: schema, forbids, auto-approval,
 * obligations from annotations, evaluation errors and nested groups. */
#include "gov_fixture.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* owners <- leads (nested); owners holds bob, leads holds carol and dave. */
static const gh_actor a_admin = {"idn_admin", GH_ROLE_ADMIN};
static const gh_actor a_alice = {"idn_alice", GH_ROLE_REQUESTER};
static const gh_actor a_carol = {"idn_carol", GH_ROLE_APPROVER | GH_ROLE_REQUESTER};
static const gh_actor a_dave = {"idn_dave", GH_ROLE_APPROVER};

static const char *const policies =
	"@reason(\"active identities may ask for requestable access\")\n"
	"@approvals(\"1\")\n"
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { principal.status == \"active\" && resource.requestable };\n"
	"@reason(\"critical access is off limits\")\n"
	"forbid(principal, action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"critical\" };\n"
	"@reason(\"low risk within the catalog maximum\")\n"
	"permit(principal, action == Action::\"auto_approve\", resource)\n"
	"when { resource.risk_tier == \"low\" &&\n"
	"       context.duration_seconds <= resource.max_duration_seconds };\n"
	"@approvals(\"2\") @max_duration(\"1h\") @approver_group(\"dba-owners\")\n"
	"@review_within(\"24h\")\n"
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"high\" };\n"
	"@approvals(\"3\") @max_duration(\"2h\")\n"
	"permit(principal in Group::\"grp_owners\", action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"high\" };\n"
	"@approvals(\"5\")\n"
	"permit(principal, action == Action::\"request\", resource)\n"
	"when { resource.risk_tier == \"medium\" && principal has purpose &&\n"
	"       principal.purpose == \"nightly export\" };\n"
	/* with Cedar deciding, approvals need a permit (default deny) */
	"@reason(\"control owners approve pending requests\")\n"
	"permit(principal in Group::\"grp_owners\", action == Action::\"approve\", resource)\n"
	"when { resource.state == \"pending_approval\" };\n";

/* A world with the Cedar decider installed (freed by world_free). */
static gh_gov *world(const char *name)
{
	static const char *const sql =
		"INSERT INTO identities(id, kind, name, status, roles, created_at, updated_at) VALUES"
		" ('idn_admin','human','admin','active','[\"admin\"]',0,0),"
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
		" ('ent_med','sys_db','read-write','medium','internal','prod','grp_owners',86400,1,0,0),"
		" ('ent_high','sys_db','dba','high','restricted','prod','grp_owners',14400,1,0,0),"
		" ('ent_crit','sys_db','superuser','critical','restricted','prod','grp_owners',3600,1,0,0);";
	gh_gov_options opts = {0};
	char path[512], err[600] = "";
	gh_gov *g = NULL;

	sf_targetf(path, sizeof(path), 1, "cedar_%s.db", name);
	if (gh_gov_open(&g, path, 1, &opts) != 0) {
		fprintf(stderr, "  open failed: %s\n", gh_error_last()->message);
		return NULL;
	}
	if (fx_exec(g, sql) ||
	    gov_cedar_decider_new(&g->decider, policies, strlen(policies), "v-test", err,
				  sizeof(err))) {
		fprintf(stderr, "  world: %s\n", err);
		gh_gov_free(g);
		return NULL;
	}
	return g;
}

static void world_free(gh_gov *g)
{
	if (g)
		gov_cedar_decider_free(&g->decider);
	gh_gov_free(g);
}

static int submit(json_t **out, gh_gov *g, const gh_actor *actor, const char *subject,
		  const char *ent, const char *duration)
{
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "channel", "portal", "subject",
			       subject, "entitlement", ent, "justification", "test",
			       "duration", duration);
	int rc = gh_gov_request_submit(out, g, actor, in);

	if (rc)
		fprintf(stderr, "  submit: %s\n", gh_error_last()->message);
	json_decref(in);
	return rc;
}

static const char *sget(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "(null)";
}

/* 1 when some reason of the request's (or a decision's) reasons contains needle. */
static int has_reason(const json_t *reasons, const char *needle)
{
	size_t i;
	json_t *v;

	json_array_foreach(reasons, i, v)
		if (json_is_string(v) && strstr(json_string_value(v), needle))
			return 1;
	return 0;
}

static const json_t *reasons_of(const json_t *r)
{
	return json_object_get(json_object_get(r, "decision"), "reasons");
}

static int64_t span(const json_t *grant)
{
	int64_t a = 0, b = -1;

	gh_time_parse(&a, sget(grant, "granted_at"));
	gh_time_parse(&b, sget(grant, "expires_at"));
	return b - a;
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = calloc(1, 1 << 16);
	*len = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	fclose(f);
	return buf;
}

static void test_gov_cedar_schema__docs_file_parses_and_is_the_one_used(void)
{
	gh_policy_schema *schema = NULL;
	gh_policy_error perr = {0};
	gh_decider d;
	char err[600];
	size_t len = 0;
	char *text = read_text("docs/gatehouse.cedarschema", &len);

	if (!text)
		text = read_text("../docs/gatehouse.cedarschema", &len);
	if (!CHECK(text != NULL))
		return;
	CHECK_INT(gh_policy_schema_parse(&schema, text, len, &perr), 0);
	if (perr.message[0])
		fprintf(stderr, "  schema %d:%d: %s\n", perr.line, perr.column, perr.message);
	CHECK_STR(text, gov_cedar_schema);
	gh_policy_schema_free(schema);
	free(text);

	CHECK_INT(gov_cedar_decider_new(&d, "permit(principal,", 17, "v", err, sizeof(err)),
		  GH_EINVALID);
	CHECK(strstr(err, "policies 1:") != NULL);
	CHECK(d.decide == NULL);
	gov_cedar_decider_free(&d);
}

static void test_gov_cedar_decide__forbid_overrides_permit_and_is_named(void)
{
	gh_gov *g = world("forbid");
	json_t *r = NULL;

	if (!CHECK(g != NULL))
		return;
	CHECK_INT(submit(&r, g, &a_alice, "alice", "superuser", "1h"), 0);
	CHECK_STR(sget(r, "state"), "denied");
	CHECK_STR(sget(json_object_get(r, "decision"), "source"), "cedar");
	CHECK_STR(sget(json_object_get(r, "decision"), "policy_version"), "v-test");
	CHECK(has_reason(reasons_of(r), "policy1 forbids: critical access is off limits"));
	CHECK(!has_reason(reasons_of(r), "policy0"));
	CHECK(json_is_null(json_object_get(r, "grant")) || !json_object_get(r, "grant"));
	json_decref(r);
	world_free(g);
}

static void test_gov_cedar_decide__auto_approve_permit_grants_at_once(void)
{
	gh_gov *g = world("auto");
	json_t *r = NULL, *gr = NULL;

	if (!CHECK(g != NULL))
		return;
	CHECK_INT(submit(&r, g, &a_alice, "alice", "read-only", "2h"), 0);
	CHECK_STR(sget(r, "state"), "active");
	CHECK_STR(sget(json_object_get(r, "decision"), "outcome"), "auto_approved");
	CHECK(has_reason(reasons_of(r), "policy2 permits auto_approve: low risk"));
	CHECK(has_reason(reasons_of(r), "policy0 permits the request"));
	CHECK_INT(gh_gov_grant_get(&gr, g, &a_admin, sget(r, "grant")), 0);
	CHECK_INT(span(gr), 7200);
	json_decref(gr);
	json_decref(r);

	/* past the catalog maximum the auto_approve permit does not apply */
	CHECK_INT(submit(&r, g, &a_carol, "carol", "read-only", "1d"), 0);
	CHECK_STR(sget(r, "state"), "pending_approval");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 1);
	CHECK(!has_reason(reasons_of(r), "policy2"));
	json_decref(r);
	world_free(g);
}

static void test_gov_cedar_decide__approvals_and_max_duration_from_annotations(void)
{
	gh_gov *g = world("oblig");
	json_t *r = NULL, *gr = NULL, *empty = json_object();
	char id[GH_ID_LEN];

	if (!CHECK(g != NULL && empty != NULL)) {
		json_decref(empty);
		world_free(g);
		return;
	}
	CHECK_INT(submit(&r, g, &a_alice, "alice", "dba", "3h"), 0);
	CHECK_STR(sget(r, "state"), "pending_approval");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 2);
	CHECK(has_reason(reasons_of(r), "policy3: approver_group dba-owners"));
	CHECK(has_reason(reasons_of(r), "policy3: review_within 24h"));
	CHECK(has_reason(reasons_of(r), "capped at 1h"));
	CHECK(!has_reason(reasons_of(r), "policy4")); /* alice is in no group */
	snprintf(id, sizeof(id), "%s", sget(r, "id"));
	json_decref(r);

	CHECK_INT(gh_gov_request_approve(&r, g, &a_carol, id, empty), 0);
	CHECK_STR(sget(r, "state"), "pending_approval");
	json_decref(r);
	CHECK_INT(gh_gov_request_approve(&r, g, &a_dave, id, empty), 0);
	CHECK_STR(sget(r, "state"), "active");
	CHECK_INT(gh_gov_grant_get(&gr, g, &a_admin, sget(r, "grant")), 0);
	CHECK_INT(span(gr), 3600); /* 3h asked, @max_duration("1h") */
	json_decref(gr);
	json_decref(r);
	json_decref(empty);
	world_free(g);
}

static void test_gov_cedar_decide__strictest_wins_and_nested_groups_count(void)
{
	gh_gov *g = world("strict");
	json_t *r = NULL;

	if (!CHECK(g != NULL))
		return;
	/* carol is in grp_leads, nested in grp_owners: policy3 and policy4 both
	 * determine; approvals max(1, 2, 3), duration min(1h, 2h) */
	CHECK_INT(submit(&r, g, &a_carol, "carol", "dba", "3h"), 0);
	CHECK_STR(sget(r, "state"), "pending_approval");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 3);
	CHECK(has_reason(reasons_of(r), "policy4 permits the request"));
	CHECK(has_reason(reasons_of(r), "policy3 permits the request"));
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "decision"),
						     "max_duration_seconds")), 3600);
	json_decref(r);
	world_free(g);
}

static void test_gov_cedar_decide__erroring_policy_is_skipped_and_reported(void)
{
	gh_gov *g = world("errors");
	json_t *r = NULL;

	static const char unguarded[] =
		"permit(principal, action == Action::\"request\", resource)\n"
		"when { principal.status == \"active\" && resource.requestable };\n"
		"permit(principal, action == Action::\"request\", resource) when { false };\n"
		"permit(principal, action == Action::\"request\", resource) when { false };\n"
		"permit(principal, action == Action::\"request\", resource) when { false };\n"
		"permit(principal, action == Action::\"request\", resource) when { false };\n"
		"@approvals(\"5\")\n"
		"permit(principal, action == Action::\"request\", resource)\n"
		"when { resource.risk_tier == \"medium\" && principal.purpose == \"nightly export\" };\n";
	char err[300] = "";

	if (!CHECK(g != NULL))
		return;
	/* a policy that validation would refuse (an unguarded optional attribute)
	 * can still reach a decider built directly: its error is skipped, reported */
	gov_cedar_decider_free(&g->decider);
	CHECK_INT(gov_cedar_decider_new(&g->decider, unguarded, strlen(unguarded), "v-err", err,
					sizeof(err)), 0);
	/* policy5 reads principal.purpose, which a human lacks: an error, skipped */
	CHECK_INT(submit(&r, g, &a_alice, "alice", "read-write", "1h"), 0);
	CHECK_STR(sget(r, "state"), "pending_approval");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 1);
	CHECK(has_reason(reasons_of(r), "policy5 errored on request and was skipped"));
	CHECK(!has_reason(reasons_of(r), "policy5 permits"));
	json_decref(r);

	/* a non-human identity has a purpose (and an owner): policy5 determines */
	CHECK_INT(submit(&r, g, &a_alice, "etl", "read-write", "1h"), 0);
	CHECK_STR(sget(r, "state"), "pending_approval");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 5);
	CHECK(has_reason(reasons_of(r), "policy5 permits the request"));
	CHECK(!has_reason(reasons_of(r), "errored"));
	json_decref(r);
	world_free(g);
}

/* The decider alone, on facts: default deny, and a malformed obligation denies. */
static void test_gov_cedar_decide__default_deny_and_malformed_obligation(void)
{
	static const char *const bad = "@approvals(\"lots\") permit(principal, action, resource);";
	json_t *facts = json_pack(
		"{s:{s:s, s:s, s:s, s:s, s:[s], s:[s]}, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		" s:I, s:b}, s:{s:I, s:b, s:s, s:s, s:s}}",
		"subject", "id", "idn_x", "kind", "human", "name", "x", "status", "active",
		"roles", "requester", "groups", "grp_a",
		"entitlement", "id", "ent_e", "system", "sys_s", "name", "e", "risk_tier", "low",
		"data_sensitivity", "internal", "environment", "prod", "control_owner_group",
		"grp_a", "max_duration_seconds", (json_int_t)3600, "requestable", 1,
		"request", "duration_seconds", (json_int_t)60, "emergency", 0, "channel", "api",
		"requester", "idn_x", "submitted_by", "idn_x");
	gh_decision dec = {0};
	gh_decider d;
	char err[600];

	CHECK_INT(gov_cedar_decider_new(&d, "", 0, "empty", err, sizeof(err)), 0);
	CHECK_INT(d.decide(d.ctx, &dec, facts), 0);
	CHECK_STR(dec.outcome, "denied");
	CHECK(has_reason(dec.reasons, "no policy permits the request"));
	gh_decision_clear(&dec);
	gov_cedar_decider_free(&d);

	CHECK_INT(gov_cedar_decider_new(&d, bad, strlen(bad), "bad", err, sizeof(err)), 0);
	CHECK_INT(d.decide(d.ctx, &dec, facts), 0);
	CHECK_STR(dec.outcome, "denied");
	CHECK_STR(dec.policy_version, "bad");
	CHECK(has_reason(dec.reasons, "policy0: @approvals(\"lots\")"));
	gh_decision_clear(&dec);
	gov_cedar_decider_free(&d);
	json_decref(facts);
}

/* Activating a policy version (four eyes) makes it what decides; a rollback
 * puts the earlier one back; a reopened database decides by its active one. */
static void test_gov_cedar_lifecycle__activation_switches_decisions(void)
{
	static const gh_actor a_iam2 = {"idn_iam2", GH_ROLE_IAM};
	static const char deny_all[] = "@reason(\"frozen\")\n"
				       "forbid(principal, action == Action::\"request\", resource);\n";
	gh_gov *g = world("lifecycle");
	json_t *out = NULL, *r = NULL, *in;
	char path[512];

	if (!CHECK(g != NULL))
		return;
	/* start from the built-in rule, as a fresh installation does */
	gov_cedar_decider_free(&g->decider);
	CHECK_INT(gov_policy_load_active(g), 0);
	CHECK_STR(g->decider.name, "builtin-catalog-rule");
	CHECK_INT(fx_exec(g, "INSERT INTO identities(id, kind, name, status, roles, created_at,"
			      " updated_at) VALUES ('idn_iam2','human','iam2','active','[\"iam\"]',0,0)"), 0);

	in = json_pack("{s:s}", "text", policies);
	CHECK_INT(gh_gov_policy_propose(&out, g, &a_admin, in), 0);
	json_decref(in);
	json_decref(out);
	CHECK_INT(gh_gov_policy_activate(&out, g, &a_iam2, "1", NULL), 0);
	json_decref(out);
	if (CHECK_INT(submit(&r, g, &a_alice, "etl", "ent_low", "1h"), 0)) {
		CHECK_STR(sget(r, "state"), "active");
		CHECK_STR(sget(json_object_get(r, "decision"), "source"), "cedar");
		CHECK(strncmp(sget(json_object_get(r, "decision"), "policy_version"), "v1 ", 3) == 0);
	}
	json_decref(r);

	in = json_pack("{s:s}", "text", deny_all);
	CHECK_INT(gh_gov_policy_propose(&out, g, &a_admin, in), 0);
	json_decref(in);
	json_decref(out);
	CHECK_INT(gh_gov_policy_activate(&out, g, &a_iam2, "2", NULL), 0);
	json_decref(out);
	if (CHECK_INT(submit(&r, g, &a_alice, "etl", "ent_med", "1h"), 0)) {
		CHECK_STR(sget(r, "state"), "denied");
		CHECK(has_reason(reasons_of(r), "frozen"));
		CHECK(strncmp(sget(json_object_get(r, "decision"), "policy_version"), "v2 ", 3) == 0);
	}
	json_decref(r);

	/* rollback through the same path */
	CHECK_INT(gh_gov_policy_activate(&out, g, &a_iam2, "1", NULL), 0);
	json_decref(out);
	sf_targetf(path, sizeof(path), 0, "cedar_lifecycle.db");
	gh_gov_free(g);
	g = NULL;
	CHECK_INT(gh_gov_open(&g, path, 0, NULL), 0);
	if (g && CHECK_INT(submit(&r, g, &a_alice, "etl", "ent_med", "1h"), 0)) {
		CHECK_STR(sget(r, "state"), "pending_approval");
		CHECK(strncmp(sget(json_object_get(r, "decision"), "policy_version"), "v1 ", 3) == 0);
	}
	json_decref(r);
	gh_gov_free(g);
}

/* The facts a decider sees, as the workflow loads them. */
static json_t *facts(gh_gov *g, const char *key1, const char *id1, const char *key2,
		     const char *id2, const char *ent)
{
	json_t *f = json_object(), *v = NULL;

	gh_store_read_begin(gh_gov_store(g));
	if (f && gov_identity_facts(&v, g, id1) == 0)
		json_object_set_new(f, key1, v);
	if (f && key2 && gov_identity_facts(&v, g, id2) == 0)
		json_object_set_new(f, key2, v);
	if (f && ent && gov_entitlement_facts(&v, g, ent) == 0)
		json_object_set_new(f, "entitlement", v);
	gh_store_read_end(gh_gov_store(g));
	return f;
}

/* The determining entry of decision d for policy, or NULL. */
static const json_t *determining(const gh_decision *d, const char *policy)
{
	size_t i;
	json_t *v;

	json_array_foreach(d->determining, i, v)
		if (strcmp(sget(v, "policy"), policy) == 0)
			return v;
	return NULL;
}

/* Every determining policy is recorded with its action, effect and ALL its
 * annotations; errors are listed apart; @approver_group values are kept
 * raw, deduplicated; the smallest @review_within wins. */
static void test_gov_cedar_record__determining_annotations_errors_and_obligations(void)
{
	static const char text[] =
		"@approvals(\"2\") @approver_group(\"dba-owners\") @review_within(\"24h\")\n"
		"@id(\"high-needs-two\")\n"
		"permit(principal, action == Action::\"request\", resource)\n"
		"when { resource.risk_tier == \"high\" };\n"
		"@approver_group(\"dba-owners\") @review_within(\"2h\") @approver_group2(\"x\")\n"
		"permit(principal in Group::\"grp_owners\", action == Action::\"request\", resource);\n"
		"@approver_group(\"grp_leads\")\n"
		"permit(principal, action == Action::\"request\", resource)\n"
		"when { principal.purpose == \"nightly export\" };\n"
		"@reason(\"never from chat\")\n"
		"forbid(principal, action == Action::\"auto_approve\", resource)\n"
		"when { context.channel == \"chat\" };\n";
	gh_gov *g = world("record");
	gh_decision d = {0};
	gh_decider dc = {0};
	json_t *f = NULL, *gj = NULL;
	const json_t *e;
	char err[300] = "";

	if (!CHECK(g != NULL))
		return;
	if (!CHECK_INT(gov_cedar_decider_new(&dc, text, strlen(text), "v-rec", err, sizeof(err)), 0))
		goto cleanup;
	/* carol is in grp_leads inside grp_owners: policy0 and policy1 determine;
	 * policy2 reads purpose, which a human lacks: an error, skipped */
	f = facts(g, "subject", "idn_carol", NULL, NULL, "ent_high");
	json_object_set_new(f, "request", json_pack("{s:I, s:b, s:s, s:s, s:s}", "duration_seconds",
						   (json_int_t)600, "emergency", 0, "channel",
						   "chat", "requester", "idn_carol", "submitted_by",
						   "idn_carol"));
	CHECK_INT(dc.decide(dc.ctx, &d, f), 0);
	CHECK_STR(d.outcome, "approval_required");
	CHECK_INT(d.required_approvals, 2);
	CHECK_INT(d.review_within, 7200);
	CHECK_INT(json_array_size(d.approver_groups), 1);
	CHECK_STR(json_string_value(json_array_get(d.approver_groups, 0)), "dba-owners");
	e = determining(&d, "policy0");
	if (CHECK(e != NULL)) {
		CHECK_STR(sget(e, "action"), "request");
		CHECK_STR(sget(e, "effect"), "permit");
		CHECK_INT(json_object_size(json_object_get(e, "annotations")), 4);
		CHECK_STR(sget(json_object_get(e, "annotations"), "id"), "high-needs-two");
		CHECK_STR(sget(json_object_get(e, "annotations"), "review_within"), "24h");
	}
	e = determining(&d, "policy1");
	CHECK(e && strcmp(sget(json_object_get(e, "annotations"), "approver_group2"), "x") == 0);
	e = determining(&d, "policy3");
	if (CHECK(e != NULL)) {
		CHECK_STR(sget(e, "action"), "auto_approve");
		CHECK_STR(sget(e, "effect"), "forbid");
		CHECK_STR(sget(json_object_get(e, "annotations"), "reason"), "never from chat");
	}
	CHECK(determining(&d, "policy2") == NULL);
	CHECK_INT(json_array_size(d.errors), 1);
	e = json_array_get(d.errors, 0);
	CHECK_STR(sget(e, "policy"), "policy2");
	CHECK_STR(sget(e, "action"), "request");
	CHECK(strlen(sget(e, "message")) > 0);
	CHECK(has_reason(d.reasons, "policy2 errored on request"));
	/* the stored shape */
	gj = gov_decision_json(&d, 14400);
	CHECK_INT(json_array_size(json_object_get(gj, "determining")), 3);
	CHECK_INT(json_array_size(json_object_get(gj, "errors")), 1);
	CHECK_INT(json_integer_value(json_object_get(gj, "review_within_seconds")), 7200);
	json_decref(gj);
	gh_decision_clear(&d);

	/* a service account with the purpose: policy2 determines too, and its
	 * group joins, each value once */
	json_decref(f);
	f = facts(g, "subject", "idn_etl", NULL, NULL, "ent_high");
	json_object_set_new(f, "request", json_pack("{s:I, s:b, s:s}", "duration_seconds",
						   (json_int_t)600, "emergency", 0, "channel", "api"));
	CHECK_INT(dc.decide(dc.ctx, &d, f), 0);
	CHECK_STR(d.outcome, "approval_required");
	CHECK_INT(json_array_size(d.approver_groups), 2);
	CHECK_STR(json_string_value(json_array_get(d.approver_groups, 1)), "grp_leads");
	CHECK_INT(d.review_within, 86400);
	CHECK(d.errors == NULL);
	gh_decision_clear(&d);
cleanup:
	json_decref(f);
	gov_cedar_decider_free(&dc);
	world_free(g);
}

/* Facts for approving a pending request of etl's for read-write. */
static json_t *approve_facts(gh_gov *g, const char *approver)
{
	json_t *f = facts(g, "approver", approver, "subject", "idn_etl", "ent_med");

	json_object_set_new(f, "request", json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:I, s:s}",
						   "id", "req_0000000000000001", "state",
						   "pending_approval", "requester", "idn_alice",
						   "submitted_by", "idn_alice", "duration_seconds",
						   (json_int_t)3600, "emergency", 0,
						   "required_approvals", (json_int_t)1, "channel",
						   "portal"));
	return f;
}

/* The approve question: the approver on the Request entity. A permit
 * allows, no permit denies (default deny), a forbid overrides a permit;
 * each answer names its determining policies. */
static void test_gov_cedar_ask__approve_permit_default_deny_and_forbid_overrides(void)
{
	static const char text[] =
		"@reason(\"owners approve pending work\")\n"
		"permit(principal in Group::\"grp_owners\", action == Action::\"approve\", resource)\n"
		"when { resource.state == \"pending_approval\" && resource.required_approvals <= 3 };\n"
		"@reason(\"dave is on leave\")\n"
		"forbid(principal == Identity::\"idn_dave\", action == Action::\"approve\", resource);\n"
		"permit(principal, action == Action::\"request\", resource);\n";
	gh_gov *g = world("approve");
	gh_decision d = {0};
	json_t *f = NULL;
	const json_t *e;
	char err[300] = "";

	if (!CHECK(g != NULL))
		return;
	gov_cedar_decider_free(&g->decider);
	if (!CHECK_INT(gov_cedar_decider_new(&g->decider, text, strlen(text), "v-appr", err,
					     sizeof(err)), 0))
		goto cleanup;
	f = approve_facts(g, "idn_carol");
	json_object_set_new(json_object_get(f, "request"), "required_approvals",
			    json_integer(2));
	CHECK_INT(gov_decider_ask(g, &d, "approve", f), 1);
	CHECK_STR(d.outcome, "allow");
	CHECK_STR(d.policy_version, "v-appr");
	CHECK(has_reason(d.reasons, "policy0 permits approve: owners approve pending work"));
	e = determining(&d, "policy0");
	CHECK(e && strcmp(sget(e, "effect"), "permit") == 0 &&
	      strcmp(sget(e, "action"), "approve") == 0);
	gh_decision_clear(&d);

	/* past what the policy allows: nothing permits */
	json_object_set_new(json_object_get(f, "request"), "required_approvals",
			    json_integer(5));
	CHECK_INT(gov_decider_ask(g, &d, "approve", f), 0);
	CHECK_STR(d.outcome, "deny");
	CHECK(has_reason(d.reasons, "no policy permits approve (default deny)"));
	CHECK(d.determining == NULL);
	gh_decision_clear(&d);

	/* alice is in no group */
	json_decref(f);
	f = approve_facts(g, "idn_alice");
	CHECK_INT(gov_decider_ask(g, &d, "approve", f), 0);
	CHECK(has_reason(d.reasons, "default deny"));
	gh_decision_clear(&d);

	/* dave is in the group, and forbidden: the forbid wins */
	json_decref(f);
	f = approve_facts(g, "idn_dave");
	CHECK_INT(gov_decider_ask(g, &d, "approve", f), 0);
	CHECK(has_reason(d.reasons, "policy1 forbids: dave is on leave"));
	e = determining(&d, "policy1");
	CHECK(e && strcmp(sget(e, "effect"), "forbid") == 0);
	CHECK(determining(&d, "policy0") == NULL);
	gh_decision_clear(&d);

	/* facts without the request's id cannot be asked: denied */
	json_object_del(json_object_get(f, "request"), "id");
	CHECK_INT(gov_decider_ask(g, &d, "approve", f), 0);
	CHECK(has_reason(d.reasons, "facts lack ids"));
	gh_decision_clear(&d);
	CHECK_INT(gov_decider_ask(g, &d, "launch", f), 0);
	gh_decision_clear(&d);
cleanup:
	json_decref(f);
	world_free(g);
}

/* Facts for break-glass access to dba for etl, asked by requester. */
static json_t *glass_facts(gh_gov *g, const char *requester)
{
	json_t *f = facts(g, "requester", requester, "subject", "idn_etl", "ent_high");

	json_object_set_new(f, "request", json_pack("{s:I, s:s}", "duration_seconds",
						   (json_int_t)3600, "incident_ref", "INC-42"));
	return f;
}

/* break_glass: the requester asks for the subject; the smallest
 * @max_duration and @review_within of the determining permits come back,
 * and a malformed one denies. */
static void test_gov_cedar_ask__break_glass_obligations(void)
{
	static const char text[] =
		"@max_duration(\"2h\") @review_within(\"12h\")\n"
		"permit(principal, action == Action::\"break_glass\", resource)\n"
		"when { context.incident_ref like \"INC-*\" && context.subject.kind != \"ai_agent\" };\n"
		"@max_duration(\"1h\") @review_within(\"1d\")\n"
		"permit(principal in Group::\"grp_owners\", action == Action::\"break_glass\", resource)\n"
		"when { context.incident_ref like \"INC-*\" && resource.tags.contains(\"db\") == false };\n"
		"@review_within(\"soon\")\n"
		"permit(principal, action == Action::\"break_glass\", resource)\n"
		"when { context.duration_seconds > 86400 };\n";
	gh_gov *g = world("glass");
	gh_decision d = {0};
	gh_decider dc = {0};
	json_t *f = NULL;
	char err[300] = "";

	if (!CHECK(g != NULL))
		return;
	if (!CHECK_INT(gov_cedar_decider_new(&dc, text, strlen(text), "v-bg", err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n", err);
		goto cleanup;
	}
	f = glass_facts(g, "idn_carol");
	CHECK_INT(dc.ask(dc.ctx, &d, "break_glass", f), 0);
	CHECK_STR(d.outcome, "allow");
	CHECK_INT(d.max_duration, 3600);
	CHECK_INT(d.review_within, 43200);
	CHECK_INT(json_array_size(d.determining), 2);
	gh_decision_clear(&d);

	/* alice is in no group: policy0 alone */
	json_decref(f);
	f = glass_facts(g, "idn_alice");
	CHECK_INT(dc.ask(dc.ctx, &d, "break_glass", f), 0);
	CHECK_STR(d.outcome, "allow");
	CHECK_INT(d.max_duration, 7200);
	CHECK_INT(d.review_within, 43200);
	gh_decision_clear(&d);

	/* no incident reference of the right form: default deny */
	json_object_set_new(json_object_get(f, "request"), "incident_ref", json_string("later"));
	CHECK_INT(dc.ask(dc.ctx, &d, "break_glass", f), 0);
	CHECK_STR(d.outcome, "deny");
	CHECK(has_reason(d.reasons, "no policy permits break_glass"));
	gh_decision_clear(&d);

	/* a determining permit with a malformed obligation denies */
	json_object_set_new(json_object_get(f, "request"), "duration_seconds",
			    json_integer(2 * 86400));
	CHECK_INT(dc.ask(dc.ctx, &d, "break_glass", f), 0);
	CHECK_STR(d.outcome, "deny");
	CHECK(has_reason(d.reasons, "@review_within(\"soon\") is not a duration"));
	gh_decision_clear(&d);
cleanup:
	json_decref(f);
	gov_cedar_decider_free(&dc);
	world_free(g);
}

/* delegate: the actor on the delegating group, the delegation in context. */
static void test_gov_cedar_ask__delegate_governed_by_policy(void)
{
	static const char text[] =
		"@reason(\"dba owners may hand a system to another group for a week\")\n"
		"permit(principal in Group::\"grp_owners\", action == Action::\"delegate\", resource)\n"
		"when { resource.name == \"dba-owners\" && context.scope_type == \"system\" &&\n"
		"       context.duration_seconds <= 604800 && context.to_group != resource };\n";
	gh_gov *g = world("delegate");
	gh_decision d = {0};
	gh_decider dc = {0};
	json_t *f = NULL, *dlg;
	char err[300] = "";

	if (!CHECK(g != NULL))
		return;
	if (!CHECK_INT(gov_cedar_decider_new(&dc, text, strlen(text), "v-dlg", err, sizeof(err)), 0))
		goto cleanup;
	f = facts(g, "actor", "idn_bob", NULL, NULL, NULL);
	json_object_set_new(f, "group", json_pack("{s:s, s:s}", "id", "grp_owners", "name",
						 "dba-owners"));
	dlg = json_pack("{s:s, s:s, s:s, s:I}", "to_group", "grp_leads", "scope_type", "system",
			"scope", "sys_db", "duration_seconds", (json_int_t)86400);
	json_object_set_new(f, "delegation", dlg);
	CHECK_INT(dc.ask(dc.ctx, &d, "delegate", f), 0);
	CHECK_STR(d.outcome, "allow");
	CHECK(has_reason(d.reasons, "policy0 permits delegate: dba owners"));
	gh_decision_clear(&d);

	json_object_set_new(dlg, "duration_seconds", json_integer(30 * 86400));
	CHECK_INT(dc.ask(dc.ctx, &d, "delegate", f), 0);
	CHECK_STR(d.outcome, "deny");
	gh_decision_clear(&d);

	json_object_set_new(dlg, "duration_seconds", json_integer(86400));
	json_object_set_new(dlg, "scope_type", json_string("tag"));
	json_object_set_new(dlg, "scope", json_string("pii"));
	CHECK_INT(dc.ask(dc.ctx, &d, "delegate", f), 0);
	CHECK_STR(d.outcome, "deny");
	gh_decision_clear(&d);

	/* alice is no control owner */
	json_object_set_new(dlg, "scope_type", json_string("system"));
	gh_store_read_begin(gh_gov_store(g));
	if (gov_identity_facts(&dlg, g, "idn_alice") == 0)
		json_object_set_new(f, "actor", dlg);
	gh_store_read_end(gh_gov_store(g));
	CHECK_INT(dc.ask(dc.ctx, &d, "delegate", f), 0);
	CHECK_STR(d.outcome, "deny");
	gh_decision_clear(&d);
cleanup:
	json_decref(f);
	gov_cedar_decider_free(&dc);
	world_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_gov_cedar_schema__docs_file_parses_and_is_the_one_used",
		 test_gov_cedar_schema__docs_file_parses_and_is_the_one_used},
		{"test_gov_cedar_lifecycle__activation_switches_decisions",
		 test_gov_cedar_lifecycle__activation_switches_decisions},
		{"test_gov_cedar_decide__forbid_overrides_permit_and_is_named",
		 test_gov_cedar_decide__forbid_overrides_permit_and_is_named},
		{"test_gov_cedar_decide__auto_approve_permit_grants_at_once",
		 test_gov_cedar_decide__auto_approve_permit_grants_at_once},
		{"test_gov_cedar_decide__approvals_and_max_duration_from_annotations",
		 test_gov_cedar_decide__approvals_and_max_duration_from_annotations},
		{"test_gov_cedar_decide__strictest_wins_and_nested_groups_count",
		 test_gov_cedar_decide__strictest_wins_and_nested_groups_count},
		{"test_gov_cedar_decide__erroring_policy_is_skipped_and_reported",
		 test_gov_cedar_decide__erroring_policy_is_skipped_and_reported},
		{"test_gov_cedar_decide__default_deny_and_malformed_obligation",
		 test_gov_cedar_decide__default_deny_and_malformed_obligation},
		{"test_gov_cedar_record__determining_annotations_errors_and_obligations",
		 test_gov_cedar_record__determining_annotations_errors_and_obligations},
		{"test_gov_cedar_ask__approve_permit_default_deny_and_forbid_overrides",
		 test_gov_cedar_ask__approve_permit_default_deny_and_forbid_overrides},
		{"test_gov_cedar_ask__break_glass_obligations", test_gov_cedar_ask__break_glass_obligations},
		{"test_gov_cedar_ask__delegate_governed_by_policy",
		 test_gov_cedar_ask__delegate_governed_by_policy},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
