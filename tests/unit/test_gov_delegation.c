/* test_gov_delegation.c - delegated administration: bounds, authority through a
 * delegation, expiry and revocation, and the policy's say. */
#include "gov_fixture.h"

#define MED_REQ                                                                             \
	"{\"channel\":\"portal\",\"subject\":\"alice\",\"entitlement\":\"ent_med\","         \
	"\"justification\":\"fix\",\"duration\":\"1h\"}"

static char *delegate(gh_gov *g, const gh_actor *actor, const char *body)
{
	json_t *d = NULL;
	char *id = NULL;

	if (CHECK_INT(fx_body(&d, g, actor, body, gh_gov_delegation_create), 0))
		id = strdup(fx_s(d, "id"));
	else
		fprintf(stderr, "  delegate: %s\n", gh_error_last()->message);
	json_decref(d);
	return id;
}

static void test_delegation_approve__through_a_system_delegation(void)
{
	gh_gov *g = fx_world("dlg_system");
	json_t *r = NULL, *d = NULL;
	char *dlg, *med, *web, *other;
	char check[80];

	/* bob, an approver in dba-owners, lends billing-db to cover (carol) */
	CHECK_INT(fx_body(&d, g, &fx_bob, "{\"from_group\":\"dba-owners\",\"to_group\":\"cover\","
			  "\"system\":\"billing-db\",\"expires_in\":\"7d\",\"reason\":\"holiday\"}",
			  gh_gov_delegation_create), 0);
	dlg = strdup(fx_s(d, "id"));
	CHECK(strncmp(dlg, "dlg_", 4) == 0);
	CHECK_STR(fx_s(json_object_get(d, "from_group"), "name"), "dba-owners");
	CHECK_STR(fx_s(json_object_get(d, "to_group"), "id"), "grp_cover");
	CHECK_STR(fx_s(json_object_get(d, "scope"), "type"), "system");
	CHECK_STR(fx_s(json_object_get(d, "scope"), "name"), "billing-db");
	CHECK_STR(fx_s(d, "status"), "active");
	CHECK_STR(fx_s(d, "created_by"), "idn_bob");
	CHECK(fx_time(d, "expires_at") - gh_now() <= 7 * 86400);
	json_decref(d);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'delegation.created'"
			 " AND object_id = %Q", dlg), 1);

	med = fx_request(g, &fx_alice, MED_REQ, "pending_approval");
	web = fx_request(g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"ent_web\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval");
	other = fx_request(g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			   "\"entitlement\":\"ent_other\",\"justification\":\"x\",\"duration\":\"1h\"}",
			   "pending_approval");
	/* out of scope: another system, or an entitlement owners do not control */
	CHECK_INT(fx_act(&r, g, &fx_carol, web, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "in_control_owner_group"));
	CHECK_INT(fx_act(&r, g, &fx_carol, other, "{}", gh_gov_request_approve), GH_EDENIED);
	/* in scope: granted, the delegation named in the checks */
	CHECK_INT(fx_act(&r, g, &fx_carol, med, "{\"comment\":\"covering\"}",
			 gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	snprintf(check, sizeof(check), "delegation:%s", dlg);
	CHECK(fx_has_check(r, 0, check));
	CHECK(!fx_has_check(r, 0, "in_control_owner_group"));
	CHECK(fx_has_check(r, 0, "policy_permits_approve"));
	json_decref(r);
	free(dlg);
	free(med);
	free(web);
	free(other);
	gh_gov_free(g);
}

static void test_delegation_approve__tag_scope_and_no_authority_when_ended(void)
{
	gh_gov *g = fx_world("dlg_tag");
	json_t *r = NULL;
	char *dlg, *a, *b, *web;
	int64_t before;

	dlg = delegate(g, &fx_admin, "{\"from_group\":\"grp_owners\",\"to_group\":\"grp_cover\","
		       "\"tag\":\"pci\",\"expires_in\":\"1d\",\"reason\":\"audit season\"}");
	a = fx_request(g, &fx_alice, MED_REQ, "pending_approval");
	web = fx_request(g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"ent_web\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval");
	CHECK_INT(fx_act(&r, g, &fx_carol, web, "{}", gh_gov_request_approve), GH_EDENIED);
	/* revoked: carol loses the authority at once */
	CHECK_INT(fx_act(&r, g, &fx_carol, dlg, "{\"reason\":\"not mine\"}",
			 gh_gov_delegation_revoke), GH_EFORBIDDEN);
	CHECK_INT(fx_act(&r, g, &fx_bob, dlg, "{\"reason\":\"back from holiday\"}",
			 gh_gov_delegation_revoke), 0);
	CHECK_STR(fx_s(r, "status"), "revoked");
	CHECK_STR(fx_s(r, "revoked_by"), "idn_bob");
	CHECK_STR(fx_s(r, "revoke_reason"), "back from holiday");
	json_decref(r);
	before = fx_footprint(g);
	CHECK_INT(fx_act(&r, g, &fx_admin, dlg, "{\"reason\":\"again\"}", gh_gov_delegation_revoke),
		  GH_ECONFLICT);
	CHECK_INT(fx_act(&r, g, &fx_carol, a, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK_INT(fx_footprint(g), before);
	free(dlg);

	/* expired: no authority either */
	dlg = delegate(g, &fx_admin, "{\"from_group\":\"grp_owners\",\"to_group\":\"grp_cover\","
		       "\"tag\":\"pci\",\"expires_in\":\"1d\",\"reason\":\"again\"}");
	CHECK_INT(fx_act(&r, g, &fx_carol, a, "{}", gh_gov_request_approve), 0);
	json_decref(r);
	b = fx_request(g, &fx_bob, "{\"channel\":\"portal\",\"subject\":\"bob\","
		       "\"entitlement\":\"ent_med\",\"justification\":\"x\",\"duration\":\"1h\"}",
		       "pending_approval");
	fx_exec(g, "UPDATE delegations SET expires_at = 1000");
	CHECK_INT(fx_act(&r, g, &fx_carol, b, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK_INT(gh_gov_delegation_get(&r, g, &fx_auditor, dlg), 0);
	CHECK_STR(fx_s(r, "status"), "expired");
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &fx_admin, dlg, "{\"reason\":\"x\"}", gh_gov_delegation_revoke),
		  GH_ECONFLICT);
	free(dlg);
	free(a);
	free(b);
	free(web);
	gh_gov_free(g);
}

/* A tag scope covers the entitlements carrying that very tag: "p_i" is not a
 * pattern that "pci" would match. */
static void test_delegation_approve__tag_scope_is_the_whole_tag(void)
{
	gh_gov *g = fx_world("dlg_tag_exact");
	json_t *r = NULL;
	char *dlg, *med, *web;

	CHECK_INT(fx_exec(g, "UPDATE entitlements SET tags = '[\"p_i\"]' WHERE id = 'ent_web'"), 0);
	dlg = delegate(g, &fx_admin, "{\"from_group\":\"grp_owners\",\"to_group\":\"grp_cover\","
		       "\"tag\":\"p_i\",\"expires_in\":\"1d\",\"reason\":\"r\"}");
	med = fx_request(g, &fx_alice, MED_REQ, "pending_approval");
	web = fx_request(g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"ent_web\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval");
	/* ent_med is tagged pci: not in the scope */
	CHECK_INT(fx_act(&r, g, &fx_carol, med, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK_INT(fx_act(&r, g, &fx_carol, web, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	/* and a tag no entitlement of the group carries delegates nothing */
	CHECK_INT(fx_body(&r, g, &fx_admin, "{\"from_group\":\"grp_owners\",\"to_group\":"
			  "\"grp_cover\",\"tag\":\"p.i\",\"expires_in\":\"1d\",\"reason\":\"r\"}",
			  gh_gov_delegation_create), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "bounded_scope"));
	free(dlg);
	free(med);
	free(web);
	gh_gov_free(g);
}

static void test_delegation_create__bounds_refuse_and_change_nothing(void)
{
	gh_gov *g = fx_world("dlg_bounds");
	json_t *r = NULL;
	int64_t before = fx_footprint(g);
	static const struct {
		const char *body, *field;
	} bad[] = {
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"cover\",\"system\":\"billing-db\","
		 "\"expires_in\":\"91d\",\"reason\":\"r\"}", "expires_in"},
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"cover\",\"system\":\"billing-db\","
		 "\"expires_at\":\"2001-01-01T00:00:00Z\",\"reason\":\"r\"}", "expires_at"},
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"cover\",\"system\":\"billing-db\","
		 "\"tag\":\"pci\",\"expires_in\":\"1d\",\"reason\":\"r\"}", "tag"},
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"cover\",\"expires_in\":\"1d\","
		 "\"reason\":\"r\"}", "system"},
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"dba-owners\",\"tag\":\"pci\","
		 "\"expires_in\":\"1d\",\"reason\":\"r\"}", "to_group"},
		{"{\"from_group\":\"nobody\",\"to_group\":\"cover\",\"tag\":\"pci\","
		 "\"expires_in\":\"1d\",\"reason\":\"r\"}", "from_group"},
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"cover\",\"tag\":\"PCI!\","
		 "\"expires_in\":\"1d\",\"reason\":\"r\"}", "tag"},
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"cover\",\"tag\":\"pci\","
		 "\"expires_in\":\"1d\"}", "reason"},
		{"{\"from_group\":\"dba-owners\",\"to_group\":\"cover\",\"tag\":\"pci\","
		 "\"expires_in\":\"1d\",\"reason\":\"r\",\"scope\":\"all\"}", "scope"},
		{"{\"from_group\":1,\"to_group\":\"cover\",\"tag\":\"pci\","
		 "\"expires_in\":\"1d\",\"reason\":\"r\"}", "from_group"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!CHECK_INT(fx_body(&r, g, &fx_admin, bad[i].body, gh_gov_delegation_create),
			       GH_EINVALID) || !CHECK(fx_field_error(bad[i].field)))
			fprintf(stderr, "  case %zu: %s\n", i, gh_error_last()->message);
	}
	/* an approver delegates only for its own group */
	CHECK_INT(fx_body(&r, g, &fx_dave, "{\"from_group\":\"dba-owners\",\"to_group\":\"cover\","
			  "\"tag\":\"pci\",\"expires_in\":\"1d\",\"reason\":\"r\"}",
			  gh_gov_delegation_create), GH_EFORBIDDEN);
	/* no re-delegation: cover controls nothing, whatever it received */
	free(delegate(g, &fx_admin, "{\"from_group\":\"dba-owners\",\"to_group\":\"cover\","
		      "\"system\":\"billing-db\",\"expires_in\":\"1d\",\"reason\":\"r\"}"));
	before = fx_footprint(g);
	CHECK_INT(fx_body(&r, g, &fx_carol, "{\"from_group\":\"cover\",\"to_group\":\"others\","
			  "\"system\":\"billing-db\",\"expires_in\":\"1d\",\"reason\":\"r\"}",
			  gh_gov_delegation_create), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "bounded_scope"));
	/* a tag that owners control nothing under */
	CHECK_INT(fx_body(&r, g, &fx_admin, "{\"from_group\":\"dba-owners\",\"to_group\":\"cover\","
			  "\"tag\":\"nothing\",\"expires_in\":\"1d\",\"reason\":\"r\"}",
			  gh_gov_delegation_create), GH_EDENIED);
	/* roles */
	CHECK_INT(fx_body(&r, g, &fx_alice, "{}", gh_gov_delegation_create), GH_EFORBIDDEN);
	CHECK_INT(fx_body(&r, g, &fx_sd, "{}", gh_gov_delegation_create), GH_EFORBIDDEN);
	CHECK_INT(fx_footprint(g), before);
	gh_gov_free(g);
}

static void test_delegation_create__governed_by_policy(void)
{
	gh_gov *g = fx_world("dlg_policy");
	fx_answers ans = {.allow_approve = 1, .allow_delegate = 0};
	json_t *r = NULL;
	int64_t before = fx_footprint(g);

	fx_install(g, &ans);
	CHECK_INT(fx_body(&r, g, &fx_admin, "{\"from_group\":\"dba-owners\",\"to_group\":\"cover\","
			  "\"tag\":\"pci\",\"expires_in\":\"1d\",\"reason\":\"r\"}",
			  gh_gov_delegation_create), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "policy_permits_delegate: policy1 forbids"));
	CHECK_INT(fx_footprint(g), before);
	ans.allow_delegate = 1;
	free(delegate(g, &fx_admin, "{\"from_group\":\"dba-owners\",\"to_group\":\"cover\","
		      "\"tag\":\"pci\",\"expires_in\":\"1d\",\"reason\":\"r\"}"));
	gh_gov_free(g);
}

static void test_delegation_list__filters_and_readers(void)
{
	gh_gov *g = fx_world("dlg_list");
	json_t *r = NULL;
	char *one, *two;

	one = delegate(g, &fx_admin, "{\"from_group\":\"dba-owners\",\"to_group\":\"cover\","
		       "\"tag\":\"pci\",\"expires_in\":\"1d\",\"reason\":\"r\"}");
	two = delegate(g, &fx_admin, "{\"from_group\":\"others\",\"to_group\":\"cover\","
		       "\"system\":\"sys_db\",\"expires_in\":\"2d\",\"reason\":\"r\"}");
	CHECK_INT(fx_act(&r, g, &fx_admin, two, "{\"reason\":\"done\"}", gh_gov_delegation_revoke),
		  0);
	json_decref(r);
	CHECK_INT(gh_gov_delegation_list(&r, g, &fx_auditor, NULL, NULL, "cover", NULL), 0);
	CHECK_INT(json_array_size(json_object_get(r, "items")), 2);
	json_decref(r);
	CHECK_INT(gh_gov_delegation_list(&r, g, &fx_carol, NULL, "dba-owners", NULL, "active"), 0);
	CHECK_INT(json_array_size(json_object_get(r, "items")), 1);
	CHECK_STR(fx_s(json_array_get(json_object_get(r, "items"), 0), "id"), one);
	json_decref(r);
	CHECK_INT(gh_gov_delegation_list(&r, g, &fx_admin, NULL, NULL, NULL, "revoked"), 0);
	CHECK_INT(json_array_size(json_object_get(r, "items")), 1);
	json_decref(r);
	CHECK_INT(gh_gov_delegation_list(&r, g, &fx_admin, NULL, "nobody", NULL, "bogus"),
		  GH_EINVALID);
	CHECK(fx_field_error("from_group"));
	CHECK(fx_field_error("status"));
	CHECK_INT(gh_gov_delegation_list(&r, g, &fx_alice, NULL, NULL, NULL, NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_delegation_get(&r, g, &fx_admin, "dlg_nothing"), GH_ENOTFOUND);
	free(one);
	free(two);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_delegation_approve__through_a_system_delegation",
		 test_delegation_approve__through_a_system_delegation},
		{"test_delegation_approve__tag_scope_and_no_authority_when_ended",
		 test_delegation_approve__tag_scope_and_no_authority_when_ended},
		{"test_delegation_approve__tag_scope_is_the_whole_tag",
		 test_delegation_approve__tag_scope_is_the_whole_tag},
		{"test_delegation_create__bounds_refuse_and_change_nothing",
		 test_delegation_create__bounds_refuse_and_change_nothing},
		{"test_delegation_create__governed_by_policy",
		 test_delegation_create__governed_by_policy},
		{"test_delegation_list__filters_and_readers", test_delegation_list__filters_and_readers},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
