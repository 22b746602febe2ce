/* test_gov_policy_refs.c - entity references in policy text: names of each
 * type resolved to ids, ids kept, references to nothing reported (and
 * refused on proposal), names that look like ids, and the default-deny
 * warnings. Against a real SQLite file (the fixture's world). */
#include "gov/gov_internal.h"
#include "gov_fixture.h"
#include "harness.h"
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

static const gh_actor admin = {"idn_admin", GH_ROLE_ADMIN};
static const gh_actor bob_iam = {"idn_bob", GH_ROLE_IAM};

static gh_policy_set *parse(const char *text)
{
	gh_policy_set *ps = NULL;
	gh_policy_error err = {0};

	if (gh_policy_set_parse(&ps, text, strlen(text), &err))
		fprintf(stderr, "  parse: %d:%d: %s\n", err.line, err.column, err.message);
	return ps;
}

/* The JSON form of text with its names resolved (NULL: nothing changed);
 * problems gets what was not found. */
static char *resolved_json(gh_gov *g, const char *text, json_t *problems, int *rc)
{
	gh_policy_set *ps = parse(text), *out = NULL;
	char *json = NULL;

	*rc = ps ? gov_policy_resolve(&out, problems, g, ps) : -100;
	if (out)
		gh_policy_set_to_json(&json, out);
	gh_policy_set_free(out);
	gh_policy_set_free(ps);
	return json;
}

static int has_message(const json_t *problems, const char *text)
{
	size_t i;
	json_t *v;

	json_array_foreach(problems, i, v)
		if (strstr(json_string_value(json_object_get(v, "message")) ?
			   json_string_value(json_object_get(v, "message")) : "", text))
			return 1;
	return 0;
}

static void test_policy_refs__names_of_each_type_become_ids(void)
{
	gh_gov *g = fx_world("refs-names");
	json_t *problems = json_array();
	char *json;
	int rc;

	if (!CHECK(g != NULL))
		return;
	json = resolved_json(g,
		"permit (principal == Identity::\"alice\", action == Action::\"request\",\n"
		"        resource == Entitlement::\"billing-db/read-write\")\n"
		"when { principal in Group::\"dba-owners\" && resource in System::\"billing-db\" &&\n"
		"       [Group::\"dba-leads\"].contains(Group::\"dba-leads\") &&\n"
		"       resource.system == System::\"web\" };\n"
		"forbid (principal in Group::\"cover\", action, resource == Entitlement::\"deploy\");\n",
		problems, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(json_array_size(problems), 0);
	if (CHECK(json != NULL)) {
		/* every type, in the scope and inside conditions (sets too) */
		CHECK(strstr(json, "\"idn_alice\"") != NULL);
		CHECK(strstr(json, "\"ent_med\"") != NULL);
		CHECK(strstr(json, "\"grp_owners\"") != NULL);
		CHECK(strstr(json, "\"sys_db\"") != NULL);
		CHECK(strstr(json, "\"grp_leads\"") != NULL);
		CHECK(strstr(json, "\"sys_web\"") != NULL);
		CHECK(strstr(json, "\"grp_cover\"") != NULL);
		CHECK(strstr(json, "\"ent_web\"") != NULL); /* a bare name only one system offers */
		CHECK(strstr(json, "dba-owners") == NULL);
		CHECK(strstr(json, "billing-db") == NULL);
		CHECK(strstr(json, "\"alice\"") == NULL);
		/* actions are not entities of the inventory */
		CHECK(strstr(json, "\"request\"") != NULL);
	}
	free(json);
	json_decref(problems);
	gh_gov_free(g);
}

static void test_policy_refs__ids_stay_and_nothing_is_rewritten(void)
{
	gh_gov *g = fx_world("refs-ids");
	json_t *problems = json_array();
	char *json;
	int rc;

	if (!CHECK(g != NULL))
		return;
	json = resolved_json(g,
		"permit (principal in Group::\"grp_owners\", action, resource in System::\"sys_db\")\n"
		"when { context has requester && principal == Identity::\"idn_bob\" &&\n"
		"       resource == Entitlement::\"ent_low\" && \"Group::dba-owners\" like \"*\" };\n",
		problems, &rc);
	CHECK_INT(rc, 0);
	CHECK(json == NULL); /* nothing to change: the caller keeps its set */
	CHECK_INT(json_array_size(problems), 0);
	free(json);
	json_decref(problems);
	gh_gov_free(g);
}

static void test_policy_refs__references_to_nothing_are_reported_once_each(void)
{
	gh_gov *g = fx_world("refs-unknown");
	json_t *problems = json_array();
	char *json;
	int rc;

	if (!CHECK(g != NULL))
		return;
	json = resolved_json(g,
		"permit (principal in Group::\"dba-owners\", action,\n"
		"        resource in System::\"{{system:billing-db}}\");\n"
		"permit (principal == Identity::\"nobody\", action, resource)\n"
		"when { resource == Entitlement::\"billing-db/nothing\" ||\n"
		"       resource == Entitlement::\"billing-db/nothing\" ||\n"
		"       principal in Group::\"grp_gone\" || resource == Entitlement::\"ent_gone\" };\n",
		problems, &rc);
	CHECK_INT(rc, 0);
	/* the known name is still resolved; the others stay as written */
	CHECK(json != NULL && strstr(json, "\"grp_owners\"") != NULL);
	CHECK(json != NULL && strstr(json, "{{system:billing-db}}") != NULL);
	CHECK(has_message(problems,
			  "policy0: System \"{{system:billing-db}}\" does not exist"));
	CHECK(has_message(problems, "policy1: Identity \"nobody\" does not exist"));
	CHECK(has_message(problems, "policy1: Entitlement \"billing-db/nothing\" does not exist"));
	CHECK(has_message(problems, "policy1: Group \"grp_gone\" does not exist"));
	CHECK(has_message(problems, "policy1: Entitlement \"ent_gone\" does not exist"));
	CHECK_INT(json_array_size(problems), 5); /* the repeated reference once */
	CHECK_STR(json_string_value(json_object_get(json_array_get(problems, 0), "policy")),
		  "policy0");
	free(json);
	json_decref(problems);
	gh_gov_free(g);
}

static void test_policy_refs__names_that_look_like_ids(void)
{
	gh_gov *g = fx_world("refs-idlike");
	json_t *problems = json_array();
	char *json;
	int rc;

	if (!CHECK(g != NULL))
		return;
	/* names may hold '_': "grp_zzz" is only a name; "grp_leads" is a name of one
	 * group and the id of another, and the id wins (stored texts use ids) */
	CHECK_INT(fx_exec(g, "INSERT INTO groups(id, name, created_at, updated_at) VALUES"
			     " ('grp_x1', 'grp_zzz', 0, 0), ('grp_x2', 'grp_leads', 0, 0);"
			     "INSERT INTO entitlements(id, system_id, name, risk_tier,"
			     " data_sensitivity, environment, control_owner_group_id, max_duration,"
			     " requestable, tags, created_at, updated_at) VALUES"
			     " ('ent_dup', 'sys_web', 'read-only', 'low', 'internal', 'prod',"
			     " 'grp_owners', 3600, 1, '[]', 0, 0);"), 0);
	json = resolved_json(g,
		"permit (principal in Group::\"grp_zzz\", action, resource);\n"
		"permit (principal in Group::\"grp_leads\", action, resource);\n"
		"permit (principal, action, resource == Entitlement::\"read-only\");\n",
		problems, &rc);
	CHECK_INT(rc, 0);
	if (CHECK(json != NULL)) {
		CHECK(strstr(json, "\"grp_x1\"") != NULL);
		CHECK(strstr(json, "\"grp_leads\"") != NULL);
		CHECK(strstr(json, "\"grp_x2\"") == NULL);
	}
	/* a bare entitlement name two systems offer is ambiguous */
	CHECK(has_message(problems, "policy2: Entitlement \"read-only\" names several"
			  " entitlements; write it as \"system/name\""));
	CHECK_INT(json_array_size(problems), 1);
	free(json);
	json_decref(problems);
	gh_gov_free(g);
}

/* Proposing validates references; such a version cannot be activated, and
 * the four-eyes refusal names the proposer. */
static void test_policy_refs__proposal_records_them_and_activation_is_refused(void)
{
	gh_gov *g = fx_world("refs-propose");
	json_t *out = NULL, *in;
	char id[GH_ID_LEN] = "";

	if (!CHECK(g != NULL))
		return;
	in = json_pack("{s:s}", "text", "permit (principal in Group::\"dba-ownerz\", action,"
		       " resource);\n");
	CHECK_INT(gh_gov_policy_propose(&out, g, &admin, in), 0);
	json_decref(in);
	CHECK(has_message(json_object_get(out, "validation"),
			  "policy0: Group \"dba-ownerz\" does not exist"));
	snprintf(id, sizeof(id), "%s", fx_s(out, "id"));
	json_decref(out);
	CHECK_INT(gh_gov_policy_activate(&out, g, &bob_iam, id, NULL), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "validation error"));

	in = json_pack("{s:s}", "text", "permit (principal in Group::\"dba-owners\", action,"
		       " resource);\n");
	CHECK_INT(gh_gov_policy_propose(&out, g, &admin, in), 0);
	json_decref(in);
	CHECK_INT(json_array_size(json_object_get(out, "validation")), 0);
	snprintf(id, sizeof(id), "%s", fx_s(out, "id"));
	json_decref(out);
	CHECK_INT(gh_gov_policy_activate(&out, g, &admin, id, NULL), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "activation needs a second person: admin "
			  "proposed policy version 2"));
	CHECK_INT(gh_gov_policy_activate(&out, g, &bob_iam, id, NULL), 0);
	CHECK_STR(fx_s(out, "state"), "active");
	CHECK_INT(json_array_size(json_object_get(out, "warnings")), 0);
	json_decref(out);
	gh_gov_free(g);
}

/* The active version decides under ids: a request by a member of the group
 * named in the text is permitted, one by a non-member is not. */
static void test_policy_refs__decisions_use_the_resolved_ids(void)
{
	gh_gov *g = fx_world("refs-decide");
	gh_decider d = {0};
	gh_decision out = {0};
	json_t *facts, *subject = NULL, *ent = NULL;
	static const char unknown[] = "permit (principal in Group::\"x-y\", action, resource);";
	static const char text[] =
		"permit (principal in Group::\"dba-leads\", action == Action::\"request\",\n"
		"        resource in System::\"billing-db\");\n";

	if (!CHECK(g != NULL))
		return;
	CHECK_INT(gov_policy_compile(&d, NULL, g, text, strlen(text), "t", 1), 0);
	gh_store_read_begin(gh_gov_store(g));
	CHECK_INT(gov_identity_facts(&subject, g, "idn_erin"), 0);
	CHECK_INT(gov_entitlement_facts(&ent, g, "ent_low"), 0);
	gh_store_read_end(gh_gov_store(g));
	facts = json_pack("{s:O, s:O, s:{s:i, s:b, s:s, s:s, s:s}}", "subject", subject,
			  "entitlement", ent, "request", "duration_seconds", 3600, "emergency", 0,
			  "channel", "api", "requester", "idn_erin", "submitted_by", "idn_erin");
	CHECK_INT(d.decide(d.ctx, &out, facts), 0);
	CHECK_STR(out.outcome, "approval_required");
	gh_decision_clear(&out);
	json_decref(facts);
	json_decref(subject);
	gh_store_read_begin(gh_gov_store(g));
	CHECK_INT(gov_identity_facts(&subject, g, "idn_dave"), 0);
	gh_store_read_end(gh_gov_store(g));
	facts = json_pack("{s:O, s:O, s:{s:i, s:b, s:s, s:s, s:s}}", "subject", subject,
			  "entitlement", ent, "request", "duration_seconds", 3600, "emergency", 0,
			  "channel", "api", "requester", "idn_dave", "submitted_by", "idn_dave");
	CHECK_INT(d.decide(d.ctx, &out, facts), 0);
	CHECK_STR(out.outcome, "denied");
	gh_decision_clear(&out);
	json_decref(facts);
	json_decref(subject);
	json_decref(ent);
	gov_cedar_decider_free(&d);
	/* strict compilation refuses a reference to nothing */
	CHECK_INT(gov_policy_compile(&d, NULL, g, unknown, strlen(unknown), "t", 1), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "Group \"x-y\" does not exist"));
	gh_gov_free(g);
}

static int warns(const char *text, const char *action)
{
	gh_policy_set *ps = parse(text);
	json_t *w = json_array();
	char needle[64];
	size_t i;
	json_t *v;
	int found = -1;

	if (ps && gov_policy_warnings(w, ps) == 0) {
		found = 0;
		snprintf(needle, sizeof(needle), "no policy permits %s:", action);
		json_array_foreach(w, i, v)
			if (strncmp(json_string_value(v), needle, strlen(needle)) == 0)
				found = 1;
	}
	gh_policy_set_free(ps);
	json_decref(w);
	return found;
}

static void test_policy_refs__warnings_name_what_default_deny_refuses(void)
{
	static const char req_only[] = "permit (principal, action == Action::\"request\", resource);";
	static const char all[] = "permit (principal, action, resource);";
	static const char set[] = "permit (principal, action in [Action::\"approve\","
				  " Action::\"delegate\"], resource);";
	static const char wrong_type[] = "permit (principal, action == Action::\"approve\","
					 " resource is Entitlement);";
	static const char forbid_only[] = "forbid (principal, action, resource);";
	static const char bg_system[] = "permit (principal, action == Action::\"break_glass\","
					" resource in System::\"k8s-prod\");";
	gh_policy_set *ps = parse(req_only);
	json_t *w = json_array();

	CHECK_INT(warns(req_only, "approve"), 1);
	CHECK_INT(warns(req_only, "delegate"), 1);
	CHECK_INT(warns(req_only, "break_glass"), 1);
	CHECK_INT(warns(req_only, "request"), 0);
	CHECK_INT(warns(all, "approve") + warns(all, "delegate") + warns(all, "break_glass") +
		  warns(all, "request"), 0);
	CHECK_INT(warns(set, "approve") + warns(set, "delegate"), 0);
	CHECK_INT(warns(set, "break_glass"), 1);
	CHECK_INT(warns(wrong_type, "approve"), 1); /* approve's resource is a Request */
	CHECK_INT(warns(forbid_only, "request"), 1);
	CHECK_INT(warns(bg_system, "break_glass"), 0); /* an entitlement is in its system */
	/* the words a newcomer reads */
	if (CHECK(ps != NULL) && CHECK_INT(gov_policy_warnings(w, ps), 0))
		CHECK_STR(json_string_value(json_array_get(w, 0)),
			  "no policy permits approve: once this version is active, every approval"
			  " will be refused, so nothing that waits for approval can be granted"
			  " (default deny); add a permit for Action::\"approve\"");
	json_decref(w);
	gh_policy_set_free(ps);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"policy_refs__names_of_each_type_become_ids",
		 test_policy_refs__names_of_each_type_become_ids},
		{"policy_refs__ids_stay_and_nothing_is_rewritten",
		 test_policy_refs__ids_stay_and_nothing_is_rewritten},
		{"policy_refs__references_to_nothing_are_reported_once_each",
		 test_policy_refs__references_to_nothing_are_reported_once_each},
		{"policy_refs__names_that_look_like_ids", test_policy_refs__names_that_look_like_ids},
		{"policy_refs__proposal_records_them_and_activation_is_refused",
		 test_policy_refs__proposal_records_them_and_activation_is_refused},
		{"policy_refs__decisions_use_the_resolved_ids",
		 test_policy_refs__decisions_use_the_resolved_ids},
		{"policy_refs__warnings_name_what_default_deny_refuses",
		 test_policy_refs__warnings_name_what_default_deny_refuses},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
