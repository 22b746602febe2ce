/* test_gov_reconcile.c - reconciliation: grants missing downstream provisioned
 * again, shadow access reported and revoked on request, findings listed. */
#include "fake_connector.h"

static gh_gov *active_world(const char *name)
{
	gh_gov *g = fake_world(name);
	char *req;
	int ran;

	if (!g)
		return NULL;
	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	free(req);
	gh_gov_jobs_run_once(g, gh_now(), 0, &ran);
	return g;
}

static json_t *reconcile(gh_gov *g, const char *body, int want)
{
	json_t *in = json_loads(body, 0, NULL), *out = NULL;

	CHECK_INT(gh_gov_reconcile(&out, g, &fx_admin, "billing-db", in), want);
	json_decref(in);
	return out;
}

static void test_gov_reconcile__clean_system_has_no_findings(void)
{
	gh_gov *g = active_world("rc_clean");
	json_t *out = reconcile(g, "{}", 0);

	CHECK_INT(json_array_size(json_object_get(out, "missing")), 0);
	CHECK_INT(json_array_size(json_object_get(out, "shadow")), 0);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "checked"), "grants")), 1);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "checked"),
						     "downstream")), 1);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "checked"), "targets")),
		  3);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'reconcile.run'"), 1);
	json_decref(out);
	gh_gov_free(g);
}

static void test_gov_reconcile__missing_grant_is_provisioned_again(void)
{
	gh_gov *g = active_world("rc_missing");
	json_t *out, *f, *list = NULL;
	int ran;

	fake_hold("alice", "read-only", 0);       /* removed by hand downstream */
	out = reconcile(g, "{}", 0);
	CHECK_INT(json_array_size(json_object_get(out, "missing")), 1);
	f = json_array_get(json_object_get(out, "missing"), 0);
	CHECK_STR(fx_s(f, "kind"), "missing");
	CHECK_STR(fx_s(f, "account"), "alice");
	CHECK_STR(fx_s(f, "status"), "reprovisioning");
	CHECK(strncmp(fx_s(f, "job"), "job_", 4) == 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE id = %Q AND state = 'pending'"
			 " AND attempts = 0", fx_s(f, "job")), 1);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK(fake_holds("alice", "read-only"));
	CHECK_INT(gh_gov_finding_list(&list, g, &fx_auditor, NULL, "billing-db", "missing",
				      "reprovisioned"), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	json_decref(list);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'reconcile.finding'"),
		  1);
	json_decref(out);
	gh_gov_free(g);
}

static void test_gov_reconcile__shadow_access_found_and_revoked_on_request(void)
{
	gh_gov *g = active_world("rc_shadow");
	json_t *out, *f, *list = NULL;
	int ran;

	fake_hold("mallory", "read-write", 1);    /* granted by hand downstream */
	out = reconcile(g, "{}", 0);
	CHECK_INT(json_array_size(json_object_get(out, "shadow")), 1);
	f = json_array_get(json_object_get(out, "shadow"), 0);
	CHECK_STR(fx_s(f, "account"), "mallory");
	CHECK_STR(fx_s(f, "target"), "read-write");
	CHECK_STR(fx_s(f, "status"), "open");
	CHECK(json_is_null(json_object_get(f, "job")));
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE op = 'revoke'"), 0);
	json_decref(out);
	/* with revoke_shadow: a revoke job without grant */
	out = reconcile(g, "{\"revoke_shadow\":true}", 0);
	f = json_array_get(json_object_get(out, "shadow"), 0);
	CHECK_STR(fx_s(f, "status"), "revoking");
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE op = 'revoke' AND grant_id IS NULL"
			 " AND account = 'mallory'"), 1);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK(!fake_holds("mallory", "read-write"));
	CHECK(fake_holds("alice", "read-only"));
	CHECK_INT(gh_gov_finding_list(&list, g, &fx_admin, NULL, NULL, "shadow", "revoked"), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	json_decref(list);
	CHECK_INT(gh_gov_finding_list(&list, g, &fx_admin, NULL, NULL, "shadow", NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 2);
	json_decref(list);
	json_decref(out);
	gh_gov_free(g);
}

static void test_gov_reconcile__provisioning_grant_counts_neither_way(void)
{
	gh_gov *g = fake_world("rc_provisioning");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	json_t *out;

	fake_hold("alice", "read-only", 1);
	out = reconcile(g, "{}", 0);
	CHECK_INT(json_array_size(json_object_get(out, "missing")), 0);
	CHECK_INT(json_array_size(json_object_get(out, "shadow")), 0);
	json_decref(out);
	free(req);
	gh_gov_free(g);
}

static void test_gov_reconcile__refusals_change_nothing(void)
{
	gh_gov *g = active_world("rc_refuse");
	int64_t before = fx_footprint(g), findings = fx_int(g, "SELECT count(*) FROM findings");
	json_t *out = NULL, *in = json_loads("{\"revoke_shadow\":\"yes\",\"x\":1}", 0, NULL);

	CHECK_INT(gh_gov_reconcile(&out, g, &fx_auditor, "billing-db", NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_reconcile(&out, g, &fx_admin, "billing-db", in), GH_EINVALID);
	CHECK(fx_field_error("revoke_shadow") && fx_field_error("x"));
	CHECK_INT(gh_gov_reconcile(&out, g, &fx_admin, "nosuch", NULL), GH_ENOTFOUND);
	CHECK_INT(gh_gov_reconcile(&out, g, &fx_admin, "web", NULL), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "cannot read access back"));
	fake.fail_list = 1;
	CHECK_INT(gh_gov_reconcile(&out, g, &fx_admin, "billing-db", NULL), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "cannot connect"));
	fake.fail_list = 0;
	gh_connector_register_test(&blind_kind);
	CHECK_INT(fx_exec(g, "UPDATE systems SET connector = 'blind' WHERE id = 'sys_db'"), 0);
	before = fx_footprint(g);
	CHECK_INT(gh_gov_reconcile(&out, g, &fx_admin, "billing-db", NULL), GH_ECONFLICT);
	CHECK_INT(fx_footprint(g), before);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM findings"), findings);
	CHECK_INT(gh_gov_finding_list(&out, g, &fx_alice, NULL, NULL, NULL, NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_finding_list(&out, g, &fx_admin, NULL, "nosuch", "odd", "weird"),
		  GH_EINVALID);
	CHECK(fx_field_error("system") && fx_field_error("kind") && fx_field_error("status"));
	json_decref(in);
	gh_connector_register_test(&fake_kind);
	gh_gov_free(g);
}

static void test_gov_reconcile__scheduled_run_reports_only(void)
{
	gh_gov *g = active_world("rc_sched");
	json_t *out = NULL;

	fake_hold("mallory", "read-write", 1);
	CHECK_INT(gh_gov_reconcile(&out, g, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM findings WHERE kind = 'shadow' AND status = 'open'"),
		  1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE op = 'revoke'"), 0);
	CHECK_INT(gh_gov_reconcile_every(g, 3600), 0);
	CHECK_INT(gh_gov_reconcile_every(g, 3600), GH_ECONFLICT);
	gh_gov_workers_stop(g);          /* joins the reconcile thread too */
	gh_gov_free(g);
}

/* A grant whose grant job is gone: what it gives is worked out from the
 * system's account_attribute (the subject's attribute) and the entitlement's
 * target, and a new grant job is written for the missing access. */
static void test_gov_reconcile__grant_without_job_uses_account_attribute(void)
{
	gh_gov *g = active_world("rc_nojob");
	json_t *out, *f;

	CHECK_INT(fx_exec(g, "UPDATE systems SET connector_settings = '{\"account_attribute\":"
			     "\"login\"}' WHERE id = 'sys_db';"
			     "UPDATE identities SET attributes = '{\"login\":\"alice.l\"}'"
			     " WHERE name = 'alice';"
			     "DELETE FROM outbox;"), 0);
	out = reconcile(g, "{}", 0);
	CHECK_INT(json_array_size(json_object_get(out, "missing")), 1);
	f = json_array_get(json_object_get(out, "missing"), 0);
	CHECK_STR(fx_s(f, "account"), "alice.l");
	CHECK_STR(fx_s(f, "target"), "read-only");
	CHECK_STR(fx_s(f, "status"), "reprovisioning");
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE id = %Q AND op = 'grant'"
			 " AND account = 'alice.l' AND target = 'read-only'", fx_s(f, "job")), 1);
	/* what the job had given under the name is now shadow access */
	CHECK_INT(json_array_size(json_object_get(out, "shadow")), 1);
	f = json_array_get(json_object_get(out, "shadow"), 0);
	CHECK_STR(fx_s(f, "account"), "alice");
	json_decref(out);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"gov_reconcile__clean_system_has_no_findings",
		 test_gov_reconcile__clean_system_has_no_findings},
		{"gov_reconcile__missing_grant_is_provisioned_again",
		 test_gov_reconcile__missing_grant_is_provisioned_again},
		{"gov_reconcile__shadow_access_found_and_revoked_on_request",
		 test_gov_reconcile__shadow_access_found_and_revoked_on_request},
		{"gov_reconcile__provisioning_grant_counts_neither_way",
		 test_gov_reconcile__provisioning_grant_counts_neither_way},
		{"gov_reconcile__refusals_change_nothing", test_gov_reconcile__refusals_change_nothing},
		{"gov_reconcile__grant_without_job_uses_account_attribute",
		 test_gov_reconcile__grant_without_job_uses_account_attribute},
		{"gov_reconcile__scheduled_run_reports_only",
		 test_gov_reconcile__scheduled_run_reports_only},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
