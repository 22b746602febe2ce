/* test_gov_breakglass.c - break-glass access (granted at once, capped, flagged,
 * reviewed or revoked when the review is missed) and the evidence view. */
#include "gov_fixture.h"

#define BG_REQ(dur)                                                                         \
	"{\"channel\":\"portal\",\"subject\":\"alice\",\"entitlement\":\"ent_med\","         \
	"\"justification\":\"prod down\",\"duration\":\"" dur "\",\"break_glass\":true,"     \
	"\"incident_ref\":\"INC-7\"}"

static void test_breakglass_submit__builtin_rule_denies_it(void)
{
	gh_gov *g = fx_world("bg_builtin");
	json_t *r = NULL;
	const char *reason;

	CHECK_INT(fx_body(&r, g, &fx_alice, BG_REQ("1h"), gh_gov_request_submit), 0);
	CHECK_STR(fx_s(r, "state"), "denied");
	CHECK(json_is_true(json_object_get(r, "break_glass")));
	CHECK_STR(fx_s(r, "incident_ref"), "INC-7");
	reason = json_string_value(json_array_get(json_object_get(json_object_get(r, "decision"),
								  "reasons"), 1));
	CHECK(fx_contains(reason, "break_glass: break-glass needs an active policy version"));
	CHECK_STR(fx_s(json_object_get(json_object_get(r, "decision"), "break_glass"), "outcome"),
		  "deny");
	CHECK(json_is_null(json_object_get(r, "grant")));
	json_decref(r);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants"), 0);
	gh_gov_free(g);
}

static void test_breakglass_submit__incident_ref_goes_with_break_glass(void)
{
	gh_gov *g = fx_world("bg_fields");
	json_t *r = NULL;
	int64_t before = fx_footprint(g);

	CHECK_INT(fx_body(&r, g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			  "\"entitlement\":\"ent_med\",\"justification\":\"x\",\"duration\":\"1h\","
			  "\"break_glass\":true}", gh_gov_request_submit), GH_EINVALID);
	CHECK(fx_field_error("incident_ref"));
	CHECK_INT(fx_body(&r, g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			  "\"entitlement\":\"ent_med\",\"justification\":\"x\",\"duration\":\"1h\","
			  "\"incident_ref\":\"INC-1\"}", gh_gov_request_submit), GH_EINVALID);
	CHECK(fx_field_error("incident_ref"));
	CHECK_INT(fx_body(&r, g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			  "\"entitlement\":\"ent_med\",\"justification\":\"x\",\"duration\":\"1h\","
			  "\"break_glass\":\"yes\",\"incident_ref\":7}", gh_gov_request_submit),
		  GH_EINVALID);
	CHECK(fx_field_error("break_glass"));
	CHECK(fx_field_error("incident_ref"));
	CHECK_INT(fx_footprint(g), before);
	gh_gov_free(g);
}

static void test_breakglass_submit__granted_at_once_capped_and_flagged(void)
{
	gh_gov *g = fx_world("bg_grant");
	fx_answers ans = {.allow_approve = 1, .allow_break_glass = 1,
			  .bg_max_duration = 2 * 3600, .bg_review_within = 3600};
	json_t *r = NULL, *gr = NULL, *bg;
	int64_t now = gh_now();

	fx_install(g, &ans);
	CHECK_INT(fx_body(&r, g, &fx_alice, BG_REQ("8h"), gh_gov_request_submit), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 0);
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, fx_s(r, "grant")), 0);
	/* @max_duration of the break_glass permit (2h) beats the requested 8h */
	CHECK_INT(fx_time(gr, "expires_at") - fx_time(gr, "granted_at"), 2 * 3600);
	bg = json_object_get(gr, "break_glass");
	CHECK_STR(fx_s(bg, "review_state"), "pending");
	CHECK_STR(fx_s(bg, "incident_ref"), "INC-7");
	CHECK(fx_time(bg, "review_due_at") >= now + 3600 && fx_time(bg, "review_due_at") <= gh_now() + 3600);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'request.break_glass'"
			 " AND object_id = %Q", fx_s(r, "id")), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'grant.created'"
			 " AND details LIKE '%%\"break_glass\":true%%'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'request.approved'"
			 " AND details LIKE '%%\"by\":\"break_glass\"%%'"), 1);
	CHECK(gh_gov_sched_next_due(g) <= gh_now() + 3600);
	json_decref(gr);
	json_decref(r);

	/* no cap from policy: the 4h hard cap */
	ans.bg_max_duration = 0;
	CHECK_INT(fx_body(&r, g, &fx_bob, "{\"channel\":\"portal\",\"subject\":\"bob\","
			  "\"entitlement\":\"ent_med\",\"justification\":\"x\",\"duration\":\"1d\","
			  "\"break_glass\":true,\"incident_ref\":\"INC-8\"}", gh_gov_request_submit), 0);
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, fx_s(r, "grant")), 0);
	CHECK_INT(fx_time(gr, "expires_at") - fx_time(gr, "granted_at"), GH_BREAK_GLASS_MAX);
	json_decref(gr);
	json_decref(r);
	/* a normal grant says null */
	CHECK_INT(fx_body(&r, g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			  "\"entitlement\":\"ent_low\",\"justification\":\"x\",\"duration\":\"1h\"}",
			  gh_gov_request_submit), 0);
	CHECK(json_is_false(json_object_get(r, "break_glass")));
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, fx_s(r, "grant")), 0);
	CHECK(json_is_null(json_object_get(gr, "break_glass")));
	json_decref(gr);
	json_decref(r);
	gh_gov_free(g);
}

static void test_breakglass_sched__missed_review_revokes_and_is_reported(void)
{
	gh_gov *g = fx_world("bg_missed");
	fx_answers ans = {.allow_break_glass = 1, .bg_review_within = 1800};
	json_t *r = NULL, *gr = NULL, *list = NULL;
	char grant[GH_ID_LEN];
	int expired = -1, sla = -1;
	int64_t now = gh_now();

	fx_install(g, &ans);
	CHECK_INT(fx_body(&r, g, &fx_alice, BG_REQ("2h"), gh_gov_request_submit), 0);
	snprintf(grant, sizeof(grant), "%s", fx_s(r, "grant"));
	json_decref(r);
	CHECK_INT(gh_gov_sched_run(g, now + 60, &expired, &sla), 0);
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, grant), 0);
	CHECK_STR(fx_s(gr, "status"), "active");
	json_decref(gr);
	CHECK_INT(gh_gov_sched_run(g, now + 1801, &expired, &sla), 0);
	CHECK_INT(expired, 0);
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, grant), 0);
	CHECK_STR(fx_s(gr, "status"), "revoked");
	CHECK_STR(fx_s(gr, "revoke_reason"), "break-glass review missed");
	CHECK_STR(fx_s(gr, "revoked_by"), "system:scheduler");
	CHECK_STR(fx_s(json_object_get(gr, "break_glass"), "review_state"), "missed");
	json_decref(gr);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'grant.review_missed'"
			 " AND object_id = %Q", grant), 1);
	CHECK_INT(gh_gov_grant_list_review(&list, g, &fx_auditor, NULL, NULL, NULL, NULL, "missed"),
		  0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	CHECK_STR(fx_s(json_array_get(json_object_get(list, "items"), 0), "id"), grant);
	json_decref(list);
	CHECK_INT(gh_gov_grant_list_review(&list, g, &fx_auditor, NULL, NULL, NULL, NULL, "pending"),
		  0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 0);
	json_decref(list);
	CHECK_INT(gh_gov_grant_list_review(&list, g, &fx_auditor, NULL, NULL, NULL, NULL, "late"),
		  GH_EINVALID);
	CHECK(fx_field_error("review_state"));
	/* a missed review cannot be decided afterwards */
	CHECK_INT(fx_act(&r, g, &fx_bob, grant, "{\"outcome\":\"confirm\",\"comment\":\"late\"}",
			 gh_gov_grant_review), GH_ECONFLICT);
	CHECK(gh_gov_sched_next_due(g) == 4102444800);   /* only the NHI etl's expiry is left */
	gh_gov_free(g);
}

static void test_breakglass_review__invariants_confirm_and_revoke(void)
{
	gh_gov *g = fx_world("bg_review");
	/* two is submitted on alice's behalf: the policy must allow that */
	fx_answers ans = {.allow_break_glass = 1, .allow_approve = 1, .allow_on_behalf = 1};
	json_t *r = NULL, *gr = NULL;
	char one[GH_ID_LEN], two[GH_ID_LEN], normal[GH_ID_LEN];
	int64_t before;

	fx_install(g, &ans);
	CHECK_INT(fx_body(&r, g, &fx_alice, BG_REQ("1h"), gh_gov_request_submit), 0);
	snprintf(one, sizeof(one), "%s", fx_s(r, "grant"));
	json_decref(r);
	/* the NHI etl, owned by owner, requested by sd on alice's behalf */
	CHECK_INT(fx_body(&r, g, &fx_admin, "{\"channel\":\"api\",\"subject\":\"etl\","
			  "\"requester\":\"alice\",\"entitlement\":\"ent_med\",\"justification\":\"x\","
			  "\"duration\":\"1h\",\"break_glass\":true,\"incident_ref\":\"INC-9\"}",
			  gh_gov_request_submit), 0);
	snprintf(two, sizeof(two), "%s", fx_s(r, "grant"));
	json_decref(r);
	CHECK_INT(fx_body(&r, g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			  "\"entitlement\":\"ent_low\",\"justification\":\"x\",\"duration\":\"1h\"}",
			  gh_gov_request_submit), 0);
	snprintf(normal, sizeof(normal), "%s", fx_s(r, "grant"));
	json_decref(r);

	before = fx_footprint(g);
	CHECK_INT(fx_act(&r, g, &fx_alice, one, "{\"outcome\":\"confirm\",\"comment\":\"me\"}",
			 gh_gov_grant_review), GH_EFORBIDDEN);
	CHECK_INT(fx_act(&r, g, &fx_owner, two, "{\"outcome\":\"confirm\",\"comment\":\"mine\"}",
			 gh_gov_grant_review), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "not_subject_owner"));
	CHECK_INT(fx_act(&r, g, &fx_admin, two, "{\"outcome\":\"confirm\",\"comment\":\"x\"}",
			 gh_gov_grant_review), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "not_submitter"));
	CHECK_INT(fx_act(&r, g, &fx_dave, one, "{\"outcome\":\"confirm\",\"comment\":\"x\"}",
			 gh_gov_grant_review), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "in_control_owner_group"));
	CHECK_INT(fx_act(&r, g, &fx_bob, one, "{\"outcome\":\"maybe\",\"extra\":1}",
			 gh_gov_grant_review), GH_EINVALID);
	CHECK(fx_field_error("outcome"));
	CHECK(fx_field_error("comment"));
	CHECK(fx_field_error("extra"));
	CHECK_INT(fx_act(&r, g, &fx_bob, normal, "{\"outcome\":\"confirm\",\"comment\":\"x\"}",
			 gh_gov_grant_review), GH_ECONFLICT);
	CHECK_INT(fx_act(&r, g, &fx_bob, "grt_none", "{\"outcome\":\"confirm\",\"comment\":\"x\"}",
			 gh_gov_grant_review), GH_ENOTFOUND);
	CHECK_INT(fx_footprint(g), before);

	/* confirm keeps it; a second review is refused */
	CHECK_INT(fx_act(&r, g, &fx_bob, one, "{\"outcome\":\"confirm\",\"comment\":\"justified\"}",
			 gh_gov_grant_review), 0);
	CHECK_STR(fx_s(r, "status"), "active");
	CHECK_STR(fx_s(json_object_get(r, "break_glass"), "review_state"), "confirmed");
	CHECK_STR(fx_s(json_object_get(r, "break_glass"), "reviewed_by"), "idn_bob");
	CHECK_STR(fx_s(json_object_get(r, "break_glass"), "comment"), "justified");
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &fx_erin, one, "{\"outcome\":\"revoke\",\"comment\":\"x\"}",
			 gh_gov_grant_review), GH_ECONFLICT);
	/* revoke ends it now; erin decides through the nested dba-leads */
	CHECK_INT(fx_act(&r, g, &fx_erin, two, "{\"outcome\":\"revoke\",\"comment\":\"not needed\"}",
			 gh_gov_grant_review), 0);
	CHECK_STR(fx_s(r, "status"), "revoked");
	CHECK_STR(fx_s(json_object_get(r, "break_glass"), "review_state"), "revoked");
	CHECK(fx_contains(fx_s(r, "revoke_reason"), "not needed"));
	json_decref(r);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'grant.reviewed'"), 2);
	/* the scheduler has nothing left to miss */
	CHECK_INT(gh_gov_sched_run(g, gh_now() + 2 * 86400, NULL, NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'grant.review_missed'"),
		  0);
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, one), 0);
	CHECK_STR(fx_s(json_object_get(gr, "break_glass"), "review_state"), "confirmed");
	json_decref(gr);
	gh_gov_free(g);
}

static void test_evidence__shows_the_whole_chain(void)
{
	gh_gov *g = fx_world("evidence");
	fx_answers ans = {.allow_approve = 1, .allow_break_glass = 1};
	json_t *r = NULL, *e = NULL, *ap, *dec;
	char *id;

	fx_install(g, &ans);
	id = fx_request(g, &fx_admin, "{\"channel\":\"servicedesk\",\"ticket_ref\":\"INC-42\","
			"\"requester\":\"alice\",\"subject\":\"etl\",\"entitlement\":\"ent_med\","
			"\"justification\":\"nightly\",\"duration\":\"1h\"}", "pending_approval");
	CHECK_INT(fx_act(&r, g, &fx_bob, id, "{\"comment\":\"fine\"}", gh_gov_request_approve), 0);
	json_decref(r);
	CHECK_INT(gh_gov_request_evidence(&e, g, &fx_auditor, id), 0);
	CHECK_STR(fx_s(json_object_get(e, "request"), "ticket_ref"), "INC-42");
	CHECK_STR(fx_s(json_object_get(e, "request"), "channel"), "servicedesk");
	CHECK(json_is_false(json_object_get(json_object_get(e, "request"), "break_glass")));
	CHECK_STR(fx_s(json_object_get(e, "submitted_by"), "name"), "admin");
	CHECK(json_is_array(json_object_get(json_object_get(e, "submitted_by"), "roles")));
	CHECK_STR(fx_s(json_object_get(e, "requester"), "name"), "alice");
	CHECK_STR(fx_s(json_object_get(e, "subject"), "kind"), "service_account");
	CHECK_STR(fx_s(json_object_get(e, "subject"), "owner"), "idn_owner");
	CHECK_STR(fx_s(json_object_get(json_object_get(e, "entitlement"), "control_owner_group"),
		       "name"), "dba-owners");
	CHECK_STR(fx_s(json_object_get(json_object_get(e, "entitlement"), "system"), "name"),
		  "billing-db");
	dec = json_object_get(e, "decision");
	CHECK_STR(fx_s(dec, "source"), "builtin-catalog-rule");
	CHECK_STR(fx_s(dec, "outcome"), "approval_required");
	CHECK(json_is_null(json_object_get(dec, "policy_sha256")));
	CHECK(json_array_size(json_object_get(dec, "reasons")) == 1);
	CHECK(json_is_array(json_object_get(dec, "determining")));
	CHECK_STR(fx_s(dec, "decided_at"), fx_s(json_object_get(e, "request"), "created_at"));
	ap = json_array_get(json_object_get(e, "approvals"), 0);
	CHECK_STR(fx_s(json_object_get(ap, "approver"), "name"), "bob");
	CHECK_STR(fx_s(ap, "comment"), "fine");
	CHECK_INT(json_array_size(json_object_get(ap, "checks")), 8);
	CHECK_STR(fx_s(json_array_get(json_object_get(json_object_get(ap, "policy"), "determining"),
				      0), "policy"), "policy0");
	CHECK_STR(fx_s(json_object_get(e, "grant"), "status"), "active");
	CHECK(json_is_null(json_object_get(json_object_get(e, "grant"), "break_glass")));
	CHECK_STR(fx_s(json_object_get(e, "outcome"), "state"), "active");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(e, "audit"), "events")),
		  fx_int(g, "SELECT count(*) FROM audit_events WHERE object_id IN (%Q, %Q)", id,
			 fx_s(json_object_get(e, "grant"), "id")));
	json_decref(e);
	/* same visibility as the request */
	CHECK_INT(gh_gov_request_evidence(&e, g, &(gh_actor){"idn_dave", GH_ROLE_REQUESTER}, id),
		  GH_ENOTFOUND);
	CHECK_INT(gh_gov_request_evidence(&e, g, &fx_alice, id), 0);
	json_decref(e);
	free(id);

	/* break-glass: the flag, the incident and the break_glass policy's answer */
	CHECK_INT(fx_body(&r, g, &fx_alice, BG_REQ("1h"), gh_gov_request_submit), 0);
	CHECK_INT(gh_gov_request_evidence(&e, g, &fx_admin, fx_s(r, "id")), 0);
	CHECK(json_is_true(json_object_get(json_object_get(e, "request"), "break_glass")));
	CHECK_STR(fx_s(json_object_get(e, "request"), "incident_ref"), "INC-7");
	dec = json_object_get(e, "decision");
	CHECK_STR(fx_s(json_array_get(json_object_get(dec, "determining"), 0), "action"),
		  "break_glass");
	CHECK_STR(fx_s(json_object_get(json_object_get(e, "grant"), "break_glass"), "review_state"),
		  "pending");
	json_decref(e);
	json_decref(r);
	CHECK_INT(gh_gov_request_evidence(&e, g, &fx_admin, "req_none"), GH_ENOTFOUND);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_breakglass_submit__builtin_rule_denies_it",
		 test_breakglass_submit__builtin_rule_denies_it},
		{"test_breakglass_submit__incident_ref_goes_with_break_glass",
		 test_breakglass_submit__incident_ref_goes_with_break_glass},
		{"test_breakglass_submit__granted_at_once_capped_and_flagged",
		 test_breakglass_submit__granted_at_once_capped_and_flagged},
		{"test_breakglass_sched__missed_review_revokes_and_is_reported",
		 test_breakglass_sched__missed_review_revokes_and_is_reported},
		{"test_breakglass_review__invariants_confirm_and_revoke",
		 test_breakglass_review__invariants_confirm_and_revoke},
		{"test_evidence__shows_the_whole_chain", test_evidence__shows_the_whole_chain},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
