/* test_gov_nhi.c - issue 10, parts 3 and 4: NHI expiry and orphans through the
 * scheduler (with a controlled clock: gh_gov_sched_run's now), the maximum
 * lifetime and renewal, the intake context of break-glass on someone's
 * behalf, and the last approval re-checking subject and entitlement. */
#include "gov_fixture.h"

#define REQ(subject, ent, dur)                                                              \
	"{\"channel\":\"portal\",\"subject\":\"" subject "\",\"entitlement\":\"" ent "\","   \
	"\"justification\":\"nightly\",\"duration\":\"" dur "\"}"

/* A credential system whose keys go to NHIs, and its entitlement. */
static int add_key_system(gh_gov *g)
{
	return fx_exec(g, "INSERT INTO systems(id, name, owner_id, connector, created_at,"
		       " updated_at) VALUES ('sys_keys','keys','idn_admin','credential',0,0);"
		       "INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity,"
		       " environment, control_owner_group_id, max_duration, requestable, tags,"
		       " created_at, updated_at) VALUES ('ent_key','sys_keys','api-key','low',"
		       "'internal','prod','grp_owners',28800,1,'[]',0,0);");
}

static char *grant_of(gh_gov *g, const char *request_id)
{
	json_t *r = NULL;
	char *id = NULL;

	if (CHECK_INT(gh_gov_request_get(&r, g, &fx_admin, request_id), 0))
		id = strdup(fx_s(r, "grant"));
	json_decref(r);
	return id;
}

static int introspect_active(gh_gov *g, const char *key)
{
	json_t *in = json_pack("{s:s}", "token", key), *out = NULL;
	int active = -1;

	if (gh_gov_introspect(&out, g, &fx_admin, in) == 0)
		active = json_is_true(json_object_get(out, "active"));
	json_decref(in);
	json_decref(out);
	return active;
}

static void set_expiry(gh_gov *g, const char *id, int64_t t)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "UPDATE identities SET expires_at = %lld WHERE id = '%s'",
		 (long long)t, id);
	CHECK_INT(fx_exec(g, sql), 0);
	gh_gov_auth_flush(g);
}

static void test_gov_nhi_expiry__scheduler_suspends_and_ends_everything(void)
{
	gh_gov *g = fx_world("nhi_expiry");
	int64_t now = gh_now();
	char *req = NULL, *grant = NULL, *kreq = NULL, *kgrant = NULL, *pend = NULL;
	json_t *c = NULL, *r = NULL, *ev = NULL;
	char key[GOV_SECRET_TEXT_BUF] = "";
	int expired = -1, sla = -1;

	CHECK_INT(add_key_system(g), 0);
	set_expiry(g, "idn_etl", now + 100);
	req = fx_request(g, &fx_owner, REQ("etl", "ent_low", "1h"), "active");
	kreq = fx_request(g, &fx_owner, REQ("etl", "ent_key", "1h"), "active");
	pend = fx_request(g, &fx_owner, REQ("etl", "ent_med", "1h"), "pending_approval");
	if (!req || !kreq || !pend)
		goto cleanup;
	grant = grant_of(g, req);
	kgrant = grant_of(g, kreq);
	CHECK_INT(fx_act(&c, g, &fx_owner, kgrant, "{}", gh_gov_credential_issue), 0);
	snprintf(key, sizeof(key), "%s", fx_s(c, "key"));
	CHECK_INT(introspect_active(g, key), 1);

	/* the NHI's expiry is what is due first */
	CHECK(gh_gov_sched_next_due(g) == now + 100);
	CHECK_INT(gh_gov_sched_run(g, now + 99, &expired, &sla), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl'"
			 " AND status = 'active'"), 1);
	CHECK_INT(gh_gov_sched_run(g, now + 100, &expired, &sla), 0);
	CHECK_INT(gh_gov_identity_get(&r, g, &fx_admin, "etl"), 0);
	CHECK_STR(fx_s(r, "status"), "suspended");
	CHECK_STR(fx_s(r, "status_reason"), "expired");
	json_decref(r);
	r = NULL;
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE subject_id = 'idn_etl'"
			 " AND status = 'revoked' AND revoke_reason = 'identity expired'"), 2);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'grant.revoked'"
			 " AND details LIKE '%%\"reason\":\"identity expired\"%%'"), 2);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM credentials WHERE revoked_at IS NULL"), 0);
	CHECK_INT(introspect_active(g, key), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM requests WHERE id = %Q AND state = 'cancelled'",
			 pend), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.expired'"
			 " AND object_id = 'idn_etl' AND details LIKE '%%\"grants_ended\":2,%%'"
			 " AND details LIKE '%%\"requests_cancelled\":1%%'"), 1);
	/* the request's evidence shows the grant's end and why */
	CHECK_INT(gh_gov_request_evidence(&ev, g, &fx_admin, req), 0);
	CHECK_STR(fx_s(json_object_get(ev, "grant"), "end_reason"), "identity expired");
	CHECK(json_is_string(json_object_get(json_object_get(ev, "grant"), "ended_at")));
	/* nothing more is due for it; a second run changes nothing */
	{
		int64_t before = fx_footprint(g);

		CHECK_INT(gh_gov_sched_run(g, now + 101, &expired, &sla), 0);
		CHECK_INT(fx_footprint(g), before);
		/* a new request for it is refused on "subject", changing nothing */
		CHECK_INT(fx_body(&r, g, &fx_owner, REQ("etl", "ent_web", "1h"),
				  gh_gov_request_submit), GH_EINVALID);
		CHECK(fx_field_error("subject"));
		CHECK_INT(fx_footprint(g), before);
	}
cleanup:
	json_decref(c);
	json_decref(ev);
	free(req);
	free(grant);
	free(kreq);
	free(kgrant);
	free(pend);
	gh_gov_free(g);
}

static void test_gov_nhi_expiry__past_expiry_refused_before_the_scheduler_runs(void)
{
	gh_gov *g = fx_world("nhi_past");
	char *pend = fx_request(g, &fx_owner, REQ("etl", "ent_med", "1h"), "pending_approval");
	json_t *r = NULL;
	int64_t before;

	set_expiry(g, "idn_etl", gh_now() - 1);
	before = fx_footprint(g);
	/* the last approval re-checks the subject (409, the request stays pending) */
	CHECK_INT(fx_act(&r, g, &fx_bob, pend, "{}", gh_gov_request_approve), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "expires_at"));
	/* new requests naming it as subject or requester are refused */
	CHECK_INT(fx_body(&r, g, &fx_owner, REQ("etl", "ent_web", "1h"), gh_gov_request_submit),
		  GH_EINVALID);
	CHECK(fx_field_error("subject"));
	CHECK_INT(fx_body(&r, g, &fx_sd, "{\"channel\":\"servicedesk\",\"ticket_ref\":\"SD-1\","
			  "\"requester\":\"etl\",\"subject\":\"alice\",\"entitlement\":\"ent_web\","
			  "\"justification\":\"x\",\"duration\":\"1h\"}", gh_gov_request_submit),
		  GH_EINVALID);
	CHECK(fx_field_error("requester"));
	CHECK(!fx_field_error("subject"));
	CHECK_INT(fx_footprint(g), before);
	/* activating it without a renewal would only expire it again */
	CHECK_INT(fx_exec(g, "UPDATE identities SET status = 'suspended' WHERE id = 'idn_etl'"), 0);
	{
		json_t *in = json_pack("{s:s}", "reason", "back");

		CHECK_INT(gh_gov_identity_set_status(&r, g, &fx_admin, "etl", "activate", in),
			  GH_ECONFLICT);
		CHECK(fx_contains(gh_error_last()->message, "renew"));
		json_decref(in);
	}
	free(pend);
	gh_gov_free(g);
}

static void test_gov_nhi_lifetime__create_and_update_bounded(void)
{
	gh_gov *g = fx_world("nhi_lifetime");
	char body[600], at[40];
	json_t *r = NULL;
	int64_t before = fx_footprint(g);

	CHECK(g->opts.nhi_max_lifetime == 365 * 86400);
	CHECK(g->opts.orphan_grace == 7 * 86400);
	gh_time_format(at, sizeof(at), gh_now() + 366 * 86400);
	snprintf(body, sizeof(body), "{\"kind\":\"ai_agent\",\"name\":\"bot\",\"owner\":\"owner\","
		 "\"purpose\":\"triage\",\"environment\":\"prod\",\"expires_at\":\"%s\"}", at);
	CHECK_INT(fx_body(&r, g, &fx_admin, body, gh_gov_identity_create), GH_EINVALID);
	CHECK(fx_field_error("expires_at"));
	CHECK(fx_contains(json_string_value(json_object_get(json_array_get(
		gh_error_last()->fields, 0), "reason")), "365d"));
	snprintf(body, sizeof(body), "{\"expires_at\":\"%s\"}", at);
	CHECK_INT(fx_act(&r, g, &fx_admin, "etl", body, gh_gov_identity_update), GH_EINVALID);
	CHECK(fx_field_error("expires_at"));
	CHECK_INT(fx_footprint(g), before);
	/* a human's expiry is not bounded by it */
	CHECK_INT(fx_act(&r, g, &fx_admin, "alice", body, gh_gov_identity_update), 0);
	json_decref(r);
	/* the option is honoured */
	g->opts.nhi_max_lifetime = 3600;
	gh_time_format(at, sizeof(at), gh_now() + 7200);
	snprintf(body, sizeof(body), "{\"expires_at\":\"%s\"}", at);
	CHECK_INT(fx_act(&r, g, &fx_admin, "etl", body, gh_gov_identity_update), GH_EINVALID);
	CHECK(fx_field_error("expires_at"));
	gh_time_format(at, sizeof(at), gh_now() + 1800);
	snprintf(body, sizeof(body), "{\"expires_at\":\"%s\"}", at);
	CHECK_INT(fx_act(&r, g, &fx_admin, "etl", body, gh_gov_identity_update), 0);
	json_decref(r);
	gh_gov_free(g);
}

static void test_gov_nhi_renew__owner_within_the_maximum_reactivates_an_expired_nhi(void)
{
	gh_gov *g = fx_world("nhi_renew");
	int64_t now = gh_now();
	char *req = NULL, body[200], at[40];
	json_t *r = NULL;
	int64_t before;

	set_expiry(g, "idn_etl", now + 10);
	req = fx_request(g, &fx_owner, REQ("etl", "ent_low", "1h"), "active");
	CHECK_INT(gh_gov_sched_run(g, now + 10, NULL, NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl'"
			 " AND status = 'suspended' AND status_reason = 'expired'"), 1);

	before = fx_footprint(g);
	CHECK_INT(fx_act(&r, g, &fx_alice, "etl", "{\"extend_by\":\"30d\"}", gh_gov_identity_renew),
		  GH_EFORBIDDEN);
	CHECK_INT(fx_act(&r, g, &fx_owner, "etl", "{\"extend_by\":\"30d\",\"expires_at\":"
			 "\"2030-01-01T00:00:00Z\"}", gh_gov_identity_renew), GH_EINVALID);
	CHECK_INT(fx_act(&r, g, &fx_owner, "etl", "{}", gh_gov_identity_renew), GH_EINVALID);
	CHECK_INT(fx_act(&r, g, &fx_owner, "etl", "{\"extend_by\":\"400d\"}",
			 gh_gov_identity_renew), GH_EINVALID);
	CHECK(fx_field_error("extend_by"));
	CHECK_INT(fx_act(&r, g, &fx_owner, "etl", "{\"expires_at\":\"2001-01-01T00:00:00Z\"}",
			 gh_gov_identity_renew), GH_EINVALID);
	CHECK(fx_field_error("expires_at"));
	CHECK_INT(fx_act(&r, g, &fx_owner, "alice", "{\"extend_by\":\"1d\"}",
			 gh_gov_identity_renew), GH_EFORBIDDEN);
	CHECK_INT(fx_act(&r, g, &fx_admin, "alice", "{\"extend_by\":\"1d\"}",
			 gh_gov_identity_renew), GH_ECONFLICT);
	CHECK_INT(fx_footprint(g), before);

	CHECK_INT(fx_act(&r, g, &fx_owner, "etl", "{\"extend_by\":\"30d\"}", gh_gov_identity_renew),
		  0);
	CHECK_STR(fx_s(r, "status"), "active");
	CHECK(json_is_null(json_object_get(r, "status_reason")));
	/* extended from the old expiry (not yet past on the real clock) */
	CHECK_INT(fx_time(r, "expires_at"), now + 10 + 30 * 86400);
	json_decref(r);
	r = NULL;
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.renewed'"
			 " AND object_id = 'idn_etl' AND details LIKE '%%\"reactivated\":true%%'"
			 " AND details LIKE '%%\"from\":%%'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE status = 'revoked'"), 1);

	/* suspended by a person: a renewal leaves it suspended */
	{
		json_t *in = json_pack("{s:s}", "reason", "incident");

		CHECK_INT(gh_gov_identity_set_status(&r, g, &fx_admin, "etl", "suspend", in), 0);
		json_decref(r);
		json_decref(in);
	}
	gh_time_format(at, sizeof(at), gh_now() + 86400);
	snprintf(body, sizeof(body), "{\"expires_at\":\"%s\"}", at);
	CHECK_INT(fx_act(&r, g, &fx_admin, "etl", body, gh_gov_identity_renew), 0);
	CHECK_STR(fx_s(r, "status"), "suspended");
	CHECK_STR(fx_s(r, "expires_at"), at);
	json_decref(r);
	free(req);
	gh_gov_free(g);
}

static int set_status(gh_gov *g, const char *ref, const char *action, const char *reason)
{
	json_t *in = json_pack("{s:s}", "reason", reason), *out = NULL;
	int rc = gh_gov_identity_set_status(&out, g, &fx_admin, ref, action, in);

	json_decref(in);
	json_decref(out);
	return rc;
}

static int64_t listed(gh_gov *g, const char *orphaned)
{
	gh_page page = {0};
	json_t *out = NULL;
	int64_t n = -1;

	if (gh_gov_identity_list_orphaned(&out, g, &fx_admin, &page, NULL, NULL, NULL,
					  orphaned) == 0)
		n = (int64_t)json_array_size(json_object_get(out, "items"));
	json_decref(out);
	return n;
}

static void test_gov_nhi_orphans__owner_suspended_then_grace_suspends(void)
{
	gh_gov *g = fx_world("nhi_orphan");
	char *req = fx_request(g, &fx_owner, REQ("etl", "ent_low", "1h"), "active");
	int64_t now = gh_now(), orphaned_at, total = listed(g, NULL);
	json_t *ev = NULL;

	CHECK_INT(listed(g, "true"), 0);
	g->opts.orphan_grace = 600;   /* shorter than the grant's hour */
	CHECK_INT(set_status(g, "owner", "suspend", "on leave"), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.orphaned'"
			 " AND object_id = 'idn_etl' AND details LIKE '%%\"owner\":\"idn_owner\"%%'"
			 " AND details LIKE '%%\"reason\":\"owner suspended\"%%'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE details LIKE '%%\"nhis_orphaned\":1%%'"
			 " AND action = 'identity.suspended' AND object_id = 'idn_owner'"), 1);
	CHECK_INT(listed(g, "true"), 1);
	CHECK_INT(listed(g, "false"), total - 1);
	CHECK_INT(listed(g, "maybe"), -1);
	CHECK(fx_field_error("orphaned"));
	orphaned_at = fx_int(g, "SELECT orphaned_at FROM identities WHERE id = 'idn_etl'");
	CHECK(orphaned_at >= now && orphaned_at <= gh_now());
	CHECK(gh_gov_sched_next_due(g) <= orphaned_at + 600);
	/* within the grace it keeps running */
	CHECK_INT(gh_gov_sched_run(g, orphaned_at + 600 - 1, NULL, NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl'"
			 " AND status = 'active'"), 1);
	CHECK_INT(gh_gov_sched_run(g, orphaned_at + 600, NULL, NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl'"
			 " AND status = 'suspended' AND status_reason = 'orphaned'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE subject_id = 'idn_etl'"
			 " AND status = 'revoked' AND revoke_reason = 'identity orphaned'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events"
			 " WHERE action = 'identity.orphan_suspended' AND object_id = 'idn_etl'"
			 " AND details LIKE '%%\"owner\":\"idn_owner\"%%'"), 1);
	CHECK_INT(gh_gov_request_evidence(&ev, g, &fx_admin, req), 0);
	CHECK_STR(fx_s(json_object_get(ev, "grant"), "end_reason"), "identity orphaned");
	json_decref(ev);
	/* activating an orphan is refused while its owner is not active */
	CHECK_INT(set_status(g, "etl", "activate", "back"), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "orphaned"));

	/* the owner back: no longer orphaned (audited), still suspended */
	CHECK_INT(set_status(g, "owner", "activate", "back from leave"), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE orphaned_at IS NOT NULL"), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events"
			 " WHERE action = 'identity.orphan_cleared' AND object_id = 'idn_etl'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl'"
			 " AND status = 'suspended'"), 1);
	CHECK_INT(set_status(g, "etl", "activate", "back"), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl'"
			 " AND status = 'active' AND status_reason IS NULL"), 1);
	free(req);
	gh_gov_free(g);
}

static void test_gov_nhi_orphans__a_new_owner_clears_and_stops_the_grace(void)
{
	static const gh_actor second = {"idn_second", GH_ROLE_IAM};
	gh_gov *g = fx_world("nhi_transfer");
	json_t *r = NULL;
	char cid[GH_ID_LEN];
	int64_t at;

	CHECK_INT(set_status(g, "owner", "decommission", "left"), 0);
	at = fx_int(g, "SELECT orphaned_at FROM identities WHERE id = 'idn_etl'");
	CHECK(at > 0);
	/* an owner change waits for a second admin/iam person; confirming applies it */
	CHECK_INT(fx_act(&r, g, &fx_admin, "etl", "{\"owner\":\"bob\"}", gh_gov_identity_update),
		  GH_PROPOSED);
	CHECK(fx_int(g, "SELECT orphaned_at FROM identities WHERE id = 'idn_etl'") == at);
	snprintf(cid, sizeof(cid), "%s", fx_s(json_object_get(r, "change"), "id"));
	json_decref(r);
	r = NULL;
	CHECK_INT(gh_gov_change_confirm(&r, g, &second, cid, NULL), 0);
	CHECK(json_is_null(json_object_get(json_object_get(r, "result"), "orphaned_at")));
	json_decref(r);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.orphan_cleared'"
			 " AND details LIKE '%%\"owner\":\"idn_bob\"%%'"), 1);
	CHECK_INT(gh_gov_sched_run(g, at + 8 * 86400, NULL, NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl'"
			 " AND status = 'active'"), 1);
	gh_gov_free(g);
}

/* --- break-glass on behalf --------------------------------------------------- */

#define BG_FOR_ALICE                                                                        \
	"{\"channel\":\"servicedesk\",\"ticket_ref\":\"SD-9\",\"requester\":\"alice\","        \
	"\"subject\":\"alice\",\"entitlement\":\"ent_med\",\"justification\":\"outage\","      \
	"\"duration\":\"1h\",\"break_glass\":true,\"incident_ref\":\"INC-9\"}"
#define BG_SELF                                                                             \
	"{\"channel\":\"portal\",\"subject\":\"alice\",\"entitlement\":\"ent_web\","            \
	"\"justification\":\"outage\",\"duration\":\"1h\",\"break_glass\":true,"               \
	"\"incident_ref\":\"INC-8\"}"

static void test_gov_nhi_break_glass__on_behalf_needs_the_annotation(void)
{
	gh_gov *g = fx_world("bg_on_behalf");
	fx_answers ans = {.allow_approve = 1, .allow_break_glass = 1};
	json_t *r = NULL;
	const char *why;

	fx_install(g, &ans);
	CHECK_INT(fx_body(&r, g, &fx_sd, BG_FOR_ALICE, gh_gov_request_submit), 0);
	CHECK_STR(fx_s(r, "state"), "denied");
	CHECK(json_is_null(json_object_get(r, "grant")));
	why = json_string_value(json_array_get(json_object_get(json_object_get(r, "decision"),
							       "reasons"), 2));
	CHECK(fx_contains(why, "on_behalf"));
	CHECK_STR(fx_s(json_object_get(json_object_get(r, "decision"), "break_glass"), "outcome"),
		  "deny");
	json_decref(r);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants"), 0);
	/* the requester herself: allowed */
	CHECK_INT(fx_body(&r, g, &fx_alice, BG_SELF, gh_gov_request_submit), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	/* a permit that says @on_behalf("allow"): allowed on behalf too */
	ans.allow_on_behalf = 1;
	CHECK_INT(fx_body(&r, g, &fx_sd, BG_FOR_ALICE, gh_gov_request_submit), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	gh_gov_free(g);
}

/* Cedar sees submitted_by (with its roles), channel and on_behalf. */
static void test_gov_nhi_cedar__intake_context(void)
{
	static const char policies[] =
		"permit(principal, action == Action::\"request\", resource);\n"
		"@reason(\"no auto-approval on someone's behalf\")\n"
		"forbid(principal, action == Action::\"auto_approve\", resource)"
		" when { context.on_behalf };\n"
		"permit(principal, action == Action::\"auto_approve\", resource);\n"
		"@on_behalf(\"allow\")\n"
		"permit(principal, action == Action::\"break_glass\", resource);\n"
		"@reason(\"not through the service desk\")\n"
		"forbid(principal, action == Action::\"break_glass\", resource)"
		" when { context.channel == \"servicedesk\" &&"
		" context.submitted_by.roles.contains(\"servicedesk\") && context.on_behalf };\n";
	gh_gov *g = fx_world("cedar_intake");
	static const char bad[] = "@on_behalf(\"yes\")\npermit(principal, action, resource);";
	char err[600] = "", *text;
	json_t *r = NULL, *v = NULL;

	CHECK_INT(gov_cedar_decider_new(&g->decider, policies, strlen(policies), "v-intake", err,
					sizeof(err)), 0);
	CHECK_INT(fx_body(&r, g, &fx_sd, BG_FOR_ALICE, gh_gov_request_submit), 0);
	CHECK_STR(fx_s(r, "state"), "denied");
	text = json_dumps(json_object_get(r, "decision"), 0);
	CHECK(fx_contains(text, "not through the service desk"));
	free(text);
	json_decref(r);
	/* the request question: on behalf -> not auto-approved */
	CHECK_INT(fx_body(&r, g, &fx_sd, "{\"channel\":\"servicedesk\",\"ticket_ref\":\"SD-2\","
			  "\"requester\":\"alice\",\"subject\":\"alice\",\"entitlement\":\"ent_low\","
			  "\"justification\":\"x\",\"duration\":\"1h\"}", gh_gov_request_submit), 0);
	CHECK_STR(fx_s(r, "state"), "pending_approval");
	json_decref(r);
	CHECK_INT(fx_body(&r, g, &fx_alice, REQ("alice", "ent_web", "1h"), gh_gov_request_submit),
		  0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	/* proposing checks @on_behalf's value */
	CHECK_INT(gov_policy_check(&v, g, "text", bad, strlen(bad)), 0);
	CHECK(json_array_size(v) == 1 && fx_contains(fx_s(json_array_get(v, 0), "message"),
						     "@on_behalf"));
	json_decref(v);
	CHECK_INT(gov_policy_check(&v, g, "text", policies, strlen(policies)), 0);
	CHECK_INT(json_array_size(v), 0);
	json_decref(v);
	gh_gov_free(g);
}

/* --- the last approval re-checks the entitlement ------------------------------ */

static void test_gov_nhi_approval__non_requestable_entitlement_refused(void)
{
	gh_gov *g = fx_world("approve_noreq");
	char *pend = fx_request(g, &fx_alice, REQ("alice", "ent_med", "1h"), "pending_approval");
	json_t *r = NULL;
	int64_t before;

	CHECK_INT(fx_exec(g, "UPDATE entitlements SET requestable = 0 WHERE id = 'ent_med'"), 0);
	before = fx_footprint(g);
	CHECK_INT(fx_act(&r, g, &fx_bob, pend, "{\"comment\":\"ok\"}", gh_gov_request_approve),
		  GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "no longer requestable"));
	CHECK_INT(fx_footprint(g), before);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM requests WHERE id = %Q"
			 " AND state = 'pending_approval'", pend), 1);
	/* requestable again: the approval goes through */
	CHECK_INT(fx_exec(g, "UPDATE entitlements SET requestable = 1 WHERE id = 'ent_med'"), 0);
	CHECK_INT(fx_act(&r, g, &fx_bob, pend, "{\"comment\":\"ok\"}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	free(pend);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"gov_nhi_expiry__scheduler_suspends_and_ends_everything", test_gov_nhi_expiry__scheduler_suspends_and_ends_everything},
		{"gov_nhi_expiry__past_expiry_refused_before_the_scheduler_runs", test_gov_nhi_expiry__past_expiry_refused_before_the_scheduler_runs},
		{"gov_nhi_lifetime__create_and_update_bounded", test_gov_nhi_lifetime__create_and_update_bounded},
		{"gov_nhi_renew__owner_within_the_maximum_reactivates_an_expired_nhi", test_gov_nhi_renew__owner_within_the_maximum_reactivates_an_expired_nhi},
		{"gov_nhi_orphans__owner_suspended_then_grace_suspends", test_gov_nhi_orphans__owner_suspended_then_grace_suspends},
		{"gov_nhi_orphans__a_new_owner_clears_and_stops_the_grace", test_gov_nhi_orphans__a_new_owner_clears_and_stops_the_grace},
		{"gov_nhi_break_glass__on_behalf_needs_the_annotation", test_gov_nhi_break_glass__on_behalf_needs_the_annotation},
		{"gov_nhi_cedar__intake_context", test_gov_nhi_cedar__intake_context},
		{"gov_nhi_approval__non_requestable_entitlement_refused", test_gov_nhi_approval__non_requestable_entitlement_refused},
		{NULL, NULL}};
	int rc;

	gh_init();
	rc = gh_test_run(cases, argc, argv);
	gh_error_clear();
	return rc;
}
