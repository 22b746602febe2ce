/* test_gov_policy_versions.c - versioned policy sets: propose (parse errors
 * with their position), four-eyes activation, supersession, rollback, roles,
 * schema validation and the audit events. Against a real SQLite file. */
#include "gov/gov_internal.h"
#include "harness.h"
#include "store_fixture.h"

#include <sodium.h>
#include <stdlib.h>

/* both validate against Gatehouse's own schema (docs/gatehouse.cedarschema) */
static const char good[] = "permit (principal, action == Action::\"request\", resource)\n"
			   "when { context.emergency };\n";
static const char other[] = "forbid (principal, action, resource);\n";

static const gh_actor root = {"idn_root000000000000", GH_ROLE_ADMIN};
static const gh_actor ivy = {"idn_ivy0000000000000", GH_ROLE_IAM};
static const gh_actor aud = {"idn_aud0000000000000", GH_ROLE_AUDITOR};
static const gh_actor rex = {"idn_rex0000000000000", GH_ROLE_REQUESTER};

static int db_seq;

static gh_gov *open_gov(void)
{
	char path[512];
	gh_gov *g = NULL;

	sf_targetf(path, sizeof(path), 1, "policies-%d.db", ++db_seq);
	if (!CHECK_INT(gh_gov_open(&g, path, 1, NULL), 0))
		exit(1);
	return g;
}

static json_t *body(const char *text, const char *comment)
{
	return json_pack("{s:s, s:s?}", "text", text, "comment", comment);
}

static const char *sget(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int64_t iget(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static int64_t count(gh_gov *g, const char *sql)
{
	return sf_int(gh_gov_store(g), sql, NULL, NULL);
}

/* The details of the last audit event with action, or NULL. Caller frees. */
static json_t *last_event(gh_gov *g, const char *action, char actor[64])
{
	json_t *details = NULL;
	char *text = sf_text(gh_gov_store(g), "SELECT details FROM audit_events WHERE action = ?1"
				 " ORDER BY seq DESC LIMIT 1", action, NULL);
	char *who = actor ? sf_text(gh_gov_store(g), "SELECT actor FROM audit_events"
				    " WHERE action = ?1 ORDER BY seq DESC LIMIT 1", action, NULL) : NULL;

	if (text)
		details = json_loads(text, 0, NULL);
	if (actor && who)
		snprintf(actor, 64, "%s", who);
	free(text);
	free(who);
	return details;
}

static void sha256_hex(char out[65], const char *text)
{
	unsigned char h[32];

	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	gh_hex(out, h, sizeof(h));
}

/* Proposes text as who; returns the version's id in id. */
static int propose(gh_gov *g, const gh_actor *who, const char *text, char id[GH_ID_LEN])
{
	json_t *in = body(text, NULL), *out = NULL;
	int rc = gh_gov_policy_propose(&out, g, who, in);

	if (rc == 0)
		snprintf(id, GH_ID_LEN, "%s", sget(out, "id"));
	json_decref(in);
	json_decref(out);
	return rc;
}

static int activate(gh_gov *g, const gh_actor *who, const char *ref)
{
	json_t *out = NULL;
	int rc = gh_gov_policy_activate(&out, g, who, ref, NULL);

	json_decref(out);
	return rc;
}

static void state_is(gh_gov *g, const char *ref, const char *state)
{
	json_t *out = NULL;

	if (CHECK_INT(gh_gov_policy_get(&out, g, &aud, ref), 0))
		CHECK_STR(sget(out, "state"), state);
	json_decref(out);
}

static void test_policy_propose__valid_text_is_stored_hashed_and_audited(void)
{
	gh_gov *g = open_gov();
	json_t *in = body(good, "first cut"), *out = NULL, *ev;
	char hex[65], actor[64] = "";

	sha256_hex(hex, good);
	CHECK_INT(gh_gov_policy_propose(&out, g, &ivy, in), 0);
	CHECK(sget(out, "id") && strncmp(sget(out, "id"), "pol_", 4) == 0);
	CHECK_INT(iget(out, "version"), 1);
	CHECK_STR(sget(out, "state"), "proposed");
	CHECK_STR(sget(out, "sha256"), hex);
	CHECK_STR(sget(out, "proposed_by"), ivy.id);
	CHECK_STR(sget(out, "comment"), "first cut");
	CHECK(json_is_array(json_object_get(out, "validation")) &&
	      json_array_size(json_object_get(out, "validation")) == 0);
	CHECK(json_is_null(json_object_get(out, "activated_by")));
	CHECK(json_object_get(out, "text") == NULL);
	ev = last_event(g, "policy.proposed", actor);
	CHECK(ev != NULL);
	CHECK_STR(sget(ev, "sha256"), hex);
	CHECK_INT(iget(ev, "version"), 1);
	CHECK_INT(iget(ev, "policies"), 1);
	CHECK_STR(actor, ivy.id);
	json_decref(ev);
	json_decref(out);
	/* get returns the text byte for byte; a second proposal is version 2 */
	CHECK_INT(gh_gov_policy_get(&out, g, &ivy, "1"), 0);
	CHECK_STR(sget(out, "text"), good);
	json_decref(out);
	json_decref(in);
	in = body(other, NULL);
	CHECK_INT(gh_gov_policy_propose(&out, g, &root, in), 0);
	CHECK_INT(iget(out, "version"), 2);
	CHECK(json_is_null(json_object_get(out, "comment")));
	json_decref(out);
	json_decref(in);
	gh_gov_free(g);
}

static void test_policy_propose__parse_error_names_text_with_line_and_column(void)
{
	gh_gov *g = open_gov();
	json_t *in = body("permit (principal, action, resource);\nforbid (principal action);\n",
			  NULL), *out = NULL, *f;
	int64_t events = count(g, "SELECT count(*) FROM audit_events");

	CHECK_INT(gh_gov_policy_propose(&out, g, &ivy, in), GH_EINVALID);
	CHECK(out == NULL);
	f = gh_error_last()->fields;
	CHECK_INT(json_array_size(f), 1);
	CHECK_STR(sget(json_array_get(f, 0), "field"), "text");
	/* the second line is wrong, at a column past its start */
	CHECK(sget(json_array_get(f, 0), "reason") &&
	      strncmp(sget(json_array_get(f, 0), "reason"), "2:", 2) == 0);
	CHECK_INT(count(g, "SELECT count(*) FROM policy_versions"), 0);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events"), events);
	json_decref(in);

	/* every problem at once: missing text, bad comment, unknown field */
	in = json_pack("{s:i, s:b}", "comment", 3, "extra", 1);
	CHECK_INT(gh_gov_policy_propose(&out, g, &ivy, in), GH_EINVALID);
	CHECK_INT(json_array_size(gh_error_last()->fields), 3);
	json_decref(in);
	in = json_pack("{s:s}", "text", "");
	CHECK_INT(gh_gov_policy_propose(&out, g, &ivy, in), GH_EINVALID);
	json_decref(in);
	gh_gov_free(g);
}

static void test_policy_activate__the_proposer_alone_is_refused_and_nothing_changes(void)
{
	gh_gov *g = open_gov();
	char id[GH_ID_LEN];
	int64_t events;
	json_t *out = NULL;

	CHECK_INT(propose(g, &ivy, good, id), 0);
	events = count(g, "SELECT count(*) FROM audit_events");
	CHECK_INT(activate(g, &ivy, id), GH_EDENIED);
	CHECK(strstr(gh_error_last()->message, "activation needs a second person") != NULL);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events"), events);
	state_is(g, id, "proposed");
	CHECK_INT(gh_gov_policy_active(&out, g, &ivy), GH_ENOTFOUND);
	CHECK(out == NULL);
	/* an admin who proposed is no exception */
	CHECK_INT(propose(g, &root, other, id), 0);
	CHECK_INT(activate(g, &root, "2"), GH_EDENIED);
	state_is(g, "2", "proposed");
	gh_gov_free(g);
}

static void test_policy_activate__a_second_person_activates_and_it_is_audited(void)
{
	gh_gov *g = open_gov();
	char id[GH_ID_LEN], hex[65], actor[64] = "";
	json_t *out = NULL, *in = json_pack("{s:s}", "comment", "reviewed"), *ev;

	sha256_hex(hex, good);
	CHECK_INT(propose(g, &ivy, good, id), 0);
	CHECK_INT(gh_gov_policy_activate(&out, g, &root, id, in), 0);
	CHECK_STR(sget(out, "state"), "active");
	CHECK_STR(sget(out, "activated_by"), root.id);
	CHECK(json_is_string(json_object_get(out, "activated_at")));
	json_decref(out);
	ev = last_event(g, "policy.activated", actor);
	CHECK(ev != NULL);
	CHECK_STR(actor, root.id);
	CHECK_STR(sget(ev, "sha256"), hex);
	CHECK_INT(iget(ev, "version"), 1);
	CHECK(json_is_null(json_object_get(ev, "previous_version")));
	CHECK_STR(sget(ev, "proposed_by"), ivy.id);
	CHECK_STR(sget(ev, "comment"), "reviewed");
	CHECK(json_is_false(json_object_get(ev, "rollback")));
	json_decref(ev);
	CHECK_INT(gh_gov_policy_active(&out, g, &aud), 0);
	CHECK_STR(sget(out, "id"), id);
	CHECK_STR(sget(out, "text"), good);
	json_decref(out);
	/* once active, activating again is a conflict */
	CHECK_INT(activate(g, &root, id), GH_ECONFLICT);
	CHECK(strstr(gh_error_last()->message, "already active") != NULL);
	CHECK_INT(activate(g, &root, "pol_0000000000000000"), GH_ENOTFOUND);
	CHECK_INT(activate(g, &root, "99"), GH_ENOTFOUND);
	CHECK_INT(activate(g, &root, "nonsense"), GH_ENOTFOUND);
	/* unknown fields in the body are refused */
	json_decref(in);
	in = json_pack("{s:s}", "why", "x");
	CHECK_INT(gh_gov_policy_activate(&out, g, &root, id, in), GH_EINVALID);
	json_decref(in);
	gh_gov_free(g);
}

static void test_policy_activate__previous_is_superseded_and_rollback_works(void)
{
	gh_gov *g = open_gov();
	char v1[GH_ID_LEN], v2[GH_ID_LEN];
	json_t *out = NULL, *ev;

	CHECK_INT(propose(g, &ivy, good, v1), 0);
	CHECK_INT(activate(g, &root, v1), 0);
	CHECK_INT(propose(g, &root, other, v2), 0);
	CHECK_INT(activate(g, &ivy, v2), 0);
	state_is(g, v1, "superseded");
	state_is(g, v2, "active");
	CHECK_INT(count(g, "SELECT count(*) FROM policy_versions WHERE state = 'active'"), 1);
	ev = last_event(g, "policy.activated", NULL);
	CHECK_INT(iget(ev, "previous_version"), 1);
	CHECK_STR(sget(ev, "previous_id"), v1);
	json_decref(ev);

	/* rollback to v1: four eyes against v1's proposer (ivy), refused and unchanged */
	CHECK_INT(activate(g, &ivy, "1"), GH_EDENIED);
	state_is(g, v1, "superseded");
	state_is(g, v2, "active");
	CHECK_INT(activate(g, &root, "1"), 0);
	state_is(g, v1, "active");
	state_is(g, v2, "superseded");
	ev = last_event(g, "policy.activated", NULL);
	CHECK(json_is_true(json_object_get(ev, "rollback")));
	CHECK_INT(iget(ev, "version"), 1);
	CHECK_INT(iget(ev, "previous_version"), 2);
	json_decref(ev);
	CHECK_INT(gh_gov_policy_active(&out, g, &root), 0);
	CHECK_STR(sget(out, "id"), v1);
	json_decref(out);
	CHECK_INT(count(g, "SELECT count(*) FROM policy_versions WHERE state = 'active'"), 1);
	gh_gov_free(g);
}

static void test_policy_store__a_second_active_row_is_refused_by_the_index(void)
{
	gh_gov *g = open_gov();
	char v1[GH_ID_LEN], v2[GH_ID_LEN];
	CHECK_INT(propose(g, &ivy, good, v1), 0);
	CHECK_INT(propose(g, &ivy, other, v2), 0);
	CHECK_INT(activate(g, &root, v1), 0);
	gh_store_exclusive_begin(gh_gov_store(g));
	CHECK(gh_sql_exec(gh_gov_store(g), "UPDATE policy_versions SET state = 'active'"
			  " WHERE version = 2", "activating a second version") != 0);
	gh_store_exclusive_end(gh_gov_store(g));
	CHECK_INT(count(g, "SELECT count(*) FROM policy_versions WHERE state = 'active'"), 1);
	gh_gov_free(g);
}

static void test_policy_roles__writes_need_iam_or_admin_reads_need_auditor(void)
{
	gh_gov *g = open_gov();
	char id[GH_ID_LEN];
	json_t *out = NULL;
	gh_page page = {0, NULL};
	int64_t events = count(g, "SELECT count(*) FROM audit_events");

	CHECK_INT(propose(g, &rex, good, id), GH_EFORBIDDEN);
	CHECK_INT(propose(g, &aud, good, id), GH_EFORBIDDEN);
	CHECK_INT(count(g, "SELECT count(*) FROM policy_versions"), 0);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events"), events);
	CHECK_INT(propose(g, &ivy, good, id), 0);
	CHECK_INT(activate(g, &aud, id), GH_EFORBIDDEN);
	CHECK_INT(activate(g, &rex, id), GH_EFORBIDDEN);
	state_is(g, id, "proposed");
	CHECK_INT(gh_gov_policy_get(&out, g, &rex, id), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_policy_list(&out, g, &rex, &page), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_policy_active(&out, g, &rex), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_policy_list(&out, g, &aud, &page), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);
	gh_gov_free(g);
}

static void test_policy_list__pages_without_text(void)
{
	gh_gov *g = open_gov();
	char id[GH_ID_LEN];
	json_t *out = NULL, *items;
	gh_page page = {2, NULL};
	char next[GH_ID_LEN] = "";

	for (int i = 0; i < 3; i++)
		CHECK_INT(propose(g, &ivy, good, id), 0);
	CHECK_INT(gh_gov_policy_list(&out, g, &ivy, &page), 0);
	items = json_object_get(out, "items");
	CHECK_INT(json_array_size(items), 2);
	CHECK_INT(iget(json_array_get(items, 0), "version"), 1);
	CHECK(json_object_get(json_array_get(items, 0), "text") == NULL);
	CHECK(sget(json_array_get(items, 0), "sha256") != NULL);
	if (CHECK(json_is_string(json_object_get(out, "next"))))
		snprintf(next, sizeof(next), "%s", sget(out, "next"));
	json_decref(out);
	page.after = next;
	CHECK_INT(gh_gov_policy_list(&out, g, &ivy, &page), 0);
	items = json_object_get(out, "items");
	CHECK_INT(json_array_size(items), 1);
	CHECK_INT(iget(json_array_get(items, 0), "version"), 3);
	CHECK(json_is_null(json_object_get(out, "next")));
	json_decref(out);
	page.after = "pol_ffffffffffffffff";
	CHECK_INT(gh_gov_policy_list(&out, g, &ivy, &page), GH_EINVALID);
	gh_gov_free(g);
}

static void test_policy_validation__schema_errors_block_activation(void)
{
	gh_gov *g = open_gov();
	gh_store *s = gh_gov_store(g);
	char bad[GH_ID_LEN], fine[GH_ID_LEN];
	json_t *out = NULL;
	int64_t events;

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "policy.schema",
				       "entity User;\n"
				       "action view appliesTo { principal: User, resource: User };\n"),
		  0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(propose(g, &ivy, "permit (principal == Robot::\"r2\", action, resource);", bad),
		  0);
	CHECK_INT(gh_gov_policy_get(&out, g, &ivy, bad), 0);
	CHECK(json_array_size(json_object_get(out, "validation")) >= 1);
	json_decref(out);
	events = count(g, "SELECT count(*) FROM audit_events");
	CHECK_INT(activate(g, &root, bad), GH_ECONFLICT);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events"), events);
	state_is(g, bad, "proposed");
	CHECK_INT(propose(g, &ivy, "permit (principal, action == Action::\"view\", resource);",
			  fine), 0);
	CHECK_INT(gh_gov_policy_get(&out, g, &ivy, fine), 0);
	CHECK_INT(json_array_size(json_object_get(out, "validation")), 0);
	json_decref(out);
	CHECK_INT(activate(g, &root, fine), 0);
	gh_gov_free(g);
}

/* 1 when some entry of validation has a message containing needle. */
static int has_message(const json_t *validation, const char *needle)
{
	size_t i;
	json_t *v;

	json_array_foreach(validation, i, v)
		if (sget(v, "message") && strstr(sget(v, "message"), needle))
			return 1;
	return 0;
}

/* Obligations that the decider could not read are refused at propose:
 * each is listed in validation, which blocks activation. */
static void test_policy_validation__annotations_are_checked_and_block_activation(void)
{
	static const char bad_text[] =
		"@approvals(\"x\") @max_duration(\"0m\")\n"
		"permit (principal, action == Action::\"request\", resource);\n"
		"@approvals(\"11\") @review_within(\"soon\") @approver_group(\"nobody\")\n"
		"permit (principal, action == Action::\"request\", resource);\n"
		"@approvals(\"2\") @approver_group(\"dba-owners\") @review_within(\"1d\")\n"
		"@max_duration(\"8h\") @reason(\"fine\")\n"
		"permit (principal, action == Action::\"request\", resource);\n";
	static const char good_text[] =
		"@approvals(\"10\") @approver_group(\"dba-owners\") @review_within(\"1d\")\n"
		"permit (principal, action == Action::\"request\", resource);\n"
		"@approver_group(\"grp_0000000000000001\") @max_duration(\"30m\")\n"
		"permit (principal, action == Action::\"approve\", resource);\n";
	gh_gov *g = open_gov();
	gh_store *s = gh_gov_store(g);
	char bad[GH_ID_LEN], fine[GH_ID_LEN];
	json_t *out = NULL, *v;

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_sql_exec(s, "INSERT INTO groups(id, name, created_at, updated_at)"
			      " VALUES ('grp_0000000000000001','dba-owners',0,0)", "adding a group"), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(propose(g, &ivy, bad_text, bad), 0);
	CHECK_INT(gh_gov_policy_get(&out, g, &ivy, bad), 0);
	v = json_object_get(out, "validation");
	CHECK_INT(json_array_size(v), 5);
	CHECK(has_message(v, "policy0: @approvals(\"x\") is not a count 1..10"));
	CHECK(has_message(v, "policy0: @max_duration(\"0m\") is not a duration"));
	CHECK(has_message(v, "policy1: @approvals(\"11\") is not a count 1..10"));
	CHECK(has_message(v, "policy1: @review_within(\"soon\") is not a duration"));
	CHECK(has_message(v, "policy1: @approver_group(\"nobody\"): group nobody not found"));
	CHECK(!has_message(v, "policy2"));
	CHECK_STR(sget(json_array_get(v, 0), "policy"), "policy0");
	json_decref(out);
	CHECK_INT(activate(g, &root, bad), GH_ECONFLICT);
	state_is(g, bad, "proposed");

	CHECK_INT(propose(g, &ivy, good_text, fine), 0);
	CHECK_INT(gh_gov_policy_get(&out, g, &ivy, fine), 0);
	CHECK_INT(json_array_size(json_object_get(out, "validation")), 0);
	json_decref(out);
	CHECK_INT(activate(g, &root, fine), 0);
	state_is(g, fine, "active");
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"policy_propose__valid_text_is_stored_hashed_and_audited",
		 test_policy_propose__valid_text_is_stored_hashed_and_audited},
		{"policy_propose__parse_error_names_text_with_line_and_column",
		 test_policy_propose__parse_error_names_text_with_line_and_column},
		{"policy_activate__the_proposer_alone_is_refused_and_nothing_changes",
		 test_policy_activate__the_proposer_alone_is_refused_and_nothing_changes},
		{"policy_activate__a_second_person_activates_and_it_is_audited",
		 test_policy_activate__a_second_person_activates_and_it_is_audited},
		{"policy_activate__previous_is_superseded_and_rollback_works",
		 test_policy_activate__previous_is_superseded_and_rollback_works},
		{"policy_store__a_second_active_row_is_refused_by_the_index",
		 test_policy_store__a_second_active_row_is_refused_by_the_index},
		{"policy_roles__writes_need_iam_or_admin_reads_need_auditor",
		 test_policy_roles__writes_need_iam_or_admin_reads_need_auditor},
		{"policy_list__pages_without_text", test_policy_list__pages_without_text},
		{"policy_validation__schema_errors_block_activation",
		 test_policy_validation__schema_errors_block_activation},
		{"policy_validation__annotations_are_checked_and_block_activation",
		 test_policy_validation__annotations_are_checked_and_block_activation},
		{NULL, NULL}};
	int rc;

	gh_init();
	rc = gh_test_run(cases, argc, argv);
	gh_error_clear();
	return rc;
}
