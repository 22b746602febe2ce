/* test_gov_outbox.c - provisioning through the outbox: jobs written with the
 * grant change, workers with leases, backoff and attempt auditing, failure
 * after 8 attempts, revocation retried until confirmed, the jobs API and
 * connector settings in the catalog. */
#include "fake_connector.h"
#include "store/outbox.h"

#include <time.h>
#include <unistd.h>

static int64_t events(gh_gov *g, const char *action, const char *object)
{
	return fx_int(g, "SELECT count(*) FROM audit_events WHERE action = %Q"
			 " AND (%Q IS NULL OR object_id = %Q)", action, object, object);
}

static void test_gov_outbox_provision__connected_grant_waits_for_the_worker(void)
{
	gh_gov *g = fake_world("ob_provision");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL;
	json_t *gr = NULL, *r = NULL;
	int ran = -1;

	CHECK(grant != NULL);
	if (!grant)
		goto cleanup;
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, grant), 0);
	CHECK_STR(fx_s(gr, "status"), "provisioning");
	CHECK_STR(fx_s(json_object_get(gr, "provisioning"), "status"), "pending");
	json_decref(gr);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE grant_id = %Q AND op = 'grant'"
			 " AND state = 'pending' AND account = 'alice' AND target = 'read-only'",
			 grant), 1);
	CHECK_INT(events(g, "job.created", NULL), 1);
	CHECK_INT(fake.calls, 0);

	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK_INT(fake.grants, 1);
	CHECK_STR(fake.last_grant, grant);     /* the idempotency key reaches the connector */
	CHECK_INT(fake.last_attempt, 1);
	CHECK(fake_holds("alice", "read-only"));
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, grant), 0);
	CHECK_STR(fx_s(gr, "status"), "active");
	CHECK_STR(fx_s(json_object_get(gr, "provisioning"), "status"), "done");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(gr, "provisioning"),
						     "attempts")), 1);
	CHECK_STR(fx_s(json_object_get(json_object_get(gr, "provisioning"), "receipt"), "fake"),
		  "grant");
	json_decref(gr);
	CHECK_INT(gh_gov_request_get(&r, g, &fx_admin, req), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	CHECK_INT(events(g, "connector.attempt", NULL), 1);
	CHECK_INT(events(g, "grant.provisioned", grant), 1);
	CHECK_INT(events(g, "request.active", req), 1);
	/* nothing left to do */
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now() + 3600, 0, &ran), 0);
	CHECK_INT(ran, 0);
	CHECK_INT(fake.calls, 1);
cleanup:
	free(req);
	free(grant);
	gh_gov_free(g);
}

static void test_gov_outbox_provision__manual_system_is_active_at_once(void)
{
	gh_gov *g = fake_world("ob_manual");
	json_t *r = NULL;
	char *req;

	CHECK_INT(fx_exec(g, "UPDATE entitlements SET risk_tier = 'low' WHERE id = 'ent_web'"), 0);
	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "deploy"), "active");
	CHECK(req != NULL);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox"), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE status = 'active'"
			 " AND provisioning_status = 'done'"), 1);
	CHECK_INT(gh_gov_grant_list(&r, g, &fx_admin, NULL, "active", NULL, NULL), 0);
	CHECK_STR(fx_s(json_object_get(json_array_get(json_object_get(r, "items"), 0),
				       "provisioning"), "status"), "done");
	json_decref(r);
	free(req);
	gh_gov_free(g);
}

static void test_gov_outbox_backoff__grant_fails_after_eight_attempts(void)
{
	gh_gov *g = fake_world("ob_backoff");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL, *err;
	int64_t now = gh_now(), next, delay, lo, hi;
	json_t *r = NULL, *list = NULL;
	int ran;

	fake.fail = 100;
	for (int attempt = 1; attempt <= 8; attempt++) {
		CHECK_INT(gh_gov_jobs_run_once(g, now, 0, &ran), 0);
		CHECK_INT(ran, 1);
		CHECK_INT(fake.last_attempt, attempt);
		if (attempt == 8)
			break;
		/* not due again before the backoff */
		CHECK_INT(gh_gov_jobs_run_once(g, now, 0, &ran), 0);
		CHECK_INT(ran, 0);
		next = fx_int(g, "SELECT next_at FROM outbox WHERE grant_id = %Q", grant);
		delay = next - now;
		lo = ((int64_t)1 << (attempt - 1)) * 8 / 10;
		hi = (((int64_t)1 << (attempt - 1)) * 12 + 9) / 10;
		if (!CHECK(delay >= (lo < 1 ? 1 : lo) && delay <= hi))
			fprintf(stderr, "  attempt %d: delay %lld not in [%lld, %lld]\n", attempt,
				(long long)delay, (long long)lo, (long long)hi);
		CHECK_INT(fx_int(g, "SELECT attempts FROM outbox WHERE grant_id = %Q", grant),
			  attempt);
		now = next;
	}
	CHECK_INT(fake.calls, 8);
	CHECK_INT(events(g, "connector.attempt", NULL), 8);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE grant_id = %Q AND state = 'failed'",
			 grant), 1);
	err = fx_text(g, "SELECT last_error FROM outbox WHERE grant_id = %Q", grant);
	CHECK(fx_contains(err, "unreachable"));
	free(err);
	CHECK_INT(events(g, "grant.provisioning_failed", grant), 1);
	CHECK_INT(gh_gov_request_get(&r, g, &fx_admin, req), 0);
	CHECK_STR(fx_s(r, "state"), "failed");
	json_decref(r);
	/* reported, never shown as active */
	CHECK_INT(gh_gov_grant_list(&list, g, &fx_admin, NULL, "failed", NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	CHECK_STR(fx_s(json_array_get(json_object_get(list, "items"), 0), "id"), grant);
	json_decref(list);
	CHECK_INT(gh_gov_grant_list(&list, g, &fx_admin, NULL, "active", NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 0);
	json_decref(list);
	/* no more attempts */
	CHECK_INT(gh_gov_jobs_run_once(g, now + 100000, 0, &ran), 0);
	CHECK_INT(ran, 0);
	free(req);
	free(grant);
	gh_gov_free(g);
}

static void test_gov_outbox_backoff__capped_with_jitter(void)
{
	int64_t min = INT64_MAX, max = 0;

	for (int i = 0; i < 200; i++) {
		int64_t d = gov_job_backoff(20);
		min = d < min ? d : min;
		max = d > max ? d : max;
	}
	CHECK(min >= 240 && max <= 360);
	CHECK(min < max);               /* jitter spreads them */
	CHECK_INT(gov_job_backoff(1) >= 1, 1);
	CHECK(gov_job_backoff(4) >= 6 && gov_job_backoff(4) <= 10);
}

static void test_gov_outbox_fail__invalid_job_fails_at_once_and_retry_reopens(void)
{
	gh_gov *g = fake_world("ob_invalid");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL, *job;
	json_t *j = NULL, *r = NULL;
	int ran;

	fake.invalid = 1;
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE id = %Q AND status = 'failed'"
			 " AND provisioning_status = 'failed'", grant), 1);
	job = fx_text(g, "SELECT id FROM outbox WHERE grant_id = %Q", grant);
	/* only admin or iam retry; a done job cannot be */
	CHECK_INT(gh_gov_job_retry(&j, g, &fx_auditor, job), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_job_retry(&j, g, &fx_admin, "job_nosuch"), GH_ENOTFOUND);
	fake.invalid = 0;
	CHECK_INT(gh_gov_job_retry(&j, g, &fx_admin, job), 0);
	CHECK_STR(fx_s(j, "state"), "pending");
	CHECK_INT(json_integer_value(json_object_get(j, "attempts")), 0);
	json_decref(j);
	CHECK_INT(events(g, "job.retried", job), 1);
	CHECK_INT(gh_gov_request_get(&r, g, &fx_admin, req), 0);
	CHECK_STR(fx_s(r, "state"), "provisioning");
	json_decref(r);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE id = %Q AND status = 'active'",
			 grant), 1);
	CHECK_INT(gh_gov_job_retry(&j, g, &fx_admin, job), GH_ECONFLICT);
	free(job);
	free(req);
	free(grant);
	gh_gov_free(g);
}

static void test_gov_outbox_revoke__retried_until_confirmed(void)
{
	gh_gov *g = fake_world("ob_revoke");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL;
	int64_t now = gh_now(), next = 0;
	json_t *gr = NULL;
	int ran;

	CHECK_INT(gh_gov_jobs_run_once(g, now, 0, &ran), 0);
	CHECK(fake_holds("alice", "read-only"));
	CHECK_INT(fx_act(&gr, g, &fx_admin, grant, "{\"reason\":\"done\"}", gh_gov_grant_revoke), 0);
	CHECK_STR(fx_s(gr, "status"), "revoked");
	CHECK_STR(fx_s(gr, "provisioning_status"), "removing");
	json_decref(gr);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE grant_id = %Q AND op = 'revoke'"
			 " AND state = 'pending' AND account = 'alice'", grant), 1);
	/* the server is down for far longer than a grant job would wait */
	fake.fail = 12;
	for (int i = 0; i < 12; i++) {
		CHECK_INT(gh_gov_jobs_run_once(g, now, 0, &ran), 0);
		CHECK_INT(ran, 1);
		next = fx_int(g, "SELECT next_at FROM outbox WHERE grant_id = %Q AND op = 'revoke'",
			      grant);
		CHECK(next - now <= GOV_JOB_BACKOFF_MAX * 12 / 10);
		now = next;
	}
	CHECK_INT(fx_int(g, "SELECT attempts FROM outbox WHERE grant_id = %Q AND op = 'revoke'"
			 " AND state = 'pending'", grant), 12);
	CHECK(fake_holds("alice", "read-only"));
	/* back: removed, and confirmed */
	CHECK_INT(gh_gov_jobs_run_once(g, now, 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK(!fake_holds("alice", "read-only"));
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, grant), 0);
	CHECK_STR(fx_s(json_object_get(gr, "provisioning"), "status"), "removed");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(gr, "provisioning"),
						     "attempts")), 13);
	json_decref(gr);
	CHECK_INT(events(g, "grant.deprovisioned", grant), 1);
	CHECK_INT(events(g, "connector.attempt", NULL), 14);
	free(req);
	free(grant);
	gh_gov_free(g);
}

static void test_gov_outbox_end__provisioning_grant_cancels_its_job(void)
{
	gh_gov *g = fake_world("ob_cancel");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL;
	json_t *gr = NULL, *r = NULL;
	int ran;

	fake.fail = 1;
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);   /* one failed attempt */
	CHECK_INT(fx_act(&gr, g, &fx_admin, grant, "{\"reason\":\"no longer\"}",
			 gh_gov_grant_revoke), 0);
	json_decref(gr);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE grant_id = %Q AND op = 'grant'"
			 " AND state = 'cancelled'", grant), 1);
	CHECK_INT(gh_gov_request_get(&r, g, &fx_admin, req), 0);
	CHECK_STR(fx_s(r, "state"), "revoked");
	json_decref(r);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now() + 10, 0, &ran), 0);
	CHECK_INT(ran, 1);                  /* the revoke job only */
	CHECK_INT(fake.grants, 0);
	CHECK_INT(fake.revokes, 1);
	free(req);
	free(grant);
	gh_gov_free(g);
}

/* Another worker (or process) leases every job for seconds from now. */
static int hold_jobs(gh_gov *g, int seconds)
{
	char sql[100];

	snprintf(sql, sizeof(sql), "UPDATE outbox SET lease_until = %lld",
		 (long long)gh_now() + seconds);
	return fx_exec(g, sql);
}

static void test_gov_outbox_lease__held_job_is_not_run_twice(void)
{
	gh_gov *g = fake_world("ob_lease");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL;
	int64_t now = gh_now();
	int ran;

	/* another worker (or process) holds it */
	CHECK_INT(hold_jobs(g, 60), 0);
	CHECK_INT(gh_gov_jobs_run_once(g, now, 0, &ran), 0);
	CHECK_INT(ran, 0);
	/* revoking meanwhile: the revoke waits for the held grant job */
	{
		json_t *gr = NULL;
		CHECK_INT(fx_act(&gr, g, &fx_admin, grant, "{\"reason\":\"x\"}",
				 gh_gov_grant_revoke), 0);
		json_decref(gr);
	}
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE state = 'pending'"), 2);
	CHECK_INT(gh_gov_jobs_run_once(g, now, 0, &ran), 0);
	CHECK_INT(ran, 0);
	/* the holder crashed: after the lease the call is repeated, then removed */
	CHECK_INT(gh_gov_jobs_run_once(g, now + 120, 0, &ran), 0);
	CHECK_INT(ran, 2);
	CHECK_INT(fake.grants, 1);
	CHECK_INT(fake.revokes, 1);
	CHECK(!fake_holds("alice", "read-only"));
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE id = %Q AND status = 'revoked'"
			 " AND provisioning_status = 'removed'", grant), 1);
	free(req);
	free(grant);
	gh_gov_free(g);
}

static void test_gov_outbox_lease__grant_job_failing_after_its_grant_ended_stops(void)
{
	gh_gov *g = fake_world("ob_ended");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL;
	json_t *gr = NULL;
	int ran;

	/* a worker holds the grant job while the grant is revoked */
	CHECK_INT(hold_jobs(g, 60), 0);
	CHECK_INT(fx_act(&gr, g, &fx_admin, grant, "{\"reason\":\"x\"}", gh_gov_grant_revoke), 0);
	json_decref(gr);
	/* its attempt fails: no retry that could grant after the removal */
	CHECK_INT(fx_exec(g, "UPDATE outbox SET lease_until = NULL"), 0);
	fake.fail = 1;
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 2);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE grant_id = %Q AND op = 'grant'"
			 " AND state = 'cancelled' AND attempts = 1", grant), 1);
	CHECK_INT(fake.revokes, 1);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now() + 3600, 0, &ran), 0);
	CHECK_INT(ran, 0);
	free(req);
	free(grant);
	gh_gov_free(g);
}

static void test_gov_outbox_workers__each_job_runs_once_and_wakes_at_once(void)
{
	static const char *const subjects[] = {"alice", "bob", "carol", "dave", "erin", "sd",
					       "owner", NULL};
	gh_gov *g = fake_world("ob_workers");
	char body[512];
	json_t *r = NULL;
	int64_t start;
	int n = 0;

	CHECK_INT(gh_gov_workers_start(g, 4), 0);
	CHECK_INT(gh_gov_workers_start(g, 4), GH_ECONFLICT);
	for (int i = 0; subjects[i]; i++) {
		snprintf(body, sizeof(body), "{\"channel\":\"api\",\"subject\":\"%s\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 subjects[i]);
		if (CHECK_INT(fx_body(&r, g, &fx_admin, body, gh_gov_request_submit), 0))
			n++;
		json_decref(r);
	}
	start = gh_now_us();
	while (fx_int(g, "SELECT count(*) FROM grants WHERE status = 'active'") < n &&
	       gh_now_us() - start < 5000000)
		usleep(10000);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE status = 'active'"), n);
	/* woken by the write, not by the one-second poll */
	CHECK(gh_now_us() - start < 900000);
	gh_gov_workers_stop(g);
	CHECK_INT(fake.grants, n);
	CHECK_INT(fake.calls, n);
	CHECK_INT(events(g, "connector.attempt", NULL), n);
	gh_gov_free(g);
}

static void test_gov_outbox_expiry__writes_a_revoke_job(void)
{
	gh_gov *g = fake_world("ob_expiry");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL;
	int64_t later = gh_now() + 7200;
	int ran, expired = 0;

	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(gh_gov_sched_run(g, later, &expired, NULL), 0);
	CHECK_INT(expired, 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE grant_id = %Q AND op = 'revoke'",
			 grant), 1);
	CHECK_INT(gh_gov_jobs_run_once(g, later, 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK(!fake_holds("alice", "read-only"));
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE status = 'expired'"
			 " AND provisioning_status = 'removed'"), 1);
	/* a grant still provisioning expires too */
	free(req);
	free(grant);
	req = fx_request(g, &fx_admin, FAKE_REQ("bob", "read-only"), "provisioning");
	CHECK_INT(gh_gov_sched_run(g, later + 7200, &expired, NULL), 0);
	CHECK_INT(expired, 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE op = 'grant' AND state = 'cancelled'"),
		  1);
	free(req);
	gh_gov_free(g);
}

static void test_gov_outbox_extension__keeps_the_access(void)
{
	gh_gov *g = fake_world("ob_extend");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *req2 = NULL;
	int ran;

	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	req2 = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	/* the old grant ended without a revoke: the new one holds the same access */
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE op = 'revoke'"), 0);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK(fake_holds("alice", "read-only"));
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE status = 'active'"), 1);
	free(req);
	free(req2);
	gh_gov_free(g);
}

static void test_gov_outbox_account__from_the_named_attribute(void)
{
	gh_gov *g = fake_world("ob_account");
	char *req;
	int ran;

	CHECK_INT(fx_exec(g, "UPDATE systems SET connector_settings = '{\"account_attribute\":"
			  "\"pg_login\"}' WHERE id = 'sys_db';"
			  "UPDATE identities SET attributes = '{\"pg_login\":\"alice_pg\"}'"
			  " WHERE name = 'alice'"), 0);
	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	free(req);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK(fake_holds("alice_pg", "read-only"));
	/* bob has no pg_login: the job cannot be done, the grant fails at once */
	req = fx_request(g, &fx_admin, FAKE_REQ("bob", "read-only"), "provisioning");
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE status = 'failed'"), 1);
	CHECK_INT(fake.calls, 1);
	free(req);
	gh_gov_free(g);
}

/* The account is the attribute's text: a number its digits, a boolean 1 or 0;
 * with account_attribute null the subject's name. */
static void test_gov_outbox_account__scalar_attribute_as_text(void)
{
	gh_gov *g = fake_world("ob_account_scalar");
	char *req, *acc;

	CHECK_INT(fx_exec(g, "UPDATE systems SET connector_settings = '{\"account_attribute\":"
			  "\"uid\"}' WHERE id = 'sys_db';"
			  "UPDATE identities SET attributes = '{\"uid\":1042}' WHERE name = 'alice';"
			  "UPDATE identities SET attributes = '{\"uid\":true}' WHERE name = 'bob'"), 0);
	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	free(req);
	req = fx_request(g, &fx_admin, FAKE_REQ("bob", "read-only"), "provisioning");
	free(req);
	acc = fx_text(g, "SELECT group_concat(account, ',') FROM"
			 " (SELECT account FROM outbox ORDER BY pk) o");
	CHECK_STR(acc, "1042,1");
	free(acc);
	gh_gov_free(g);

	g = fake_world("ob_account_null");
	CHECK_INT(fx_exec(g, "UPDATE systems SET connector_settings = '{\"account_attribute\":"
			  "null}' WHERE id = 'sys_db'"), 0);
	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	free(req);
	acc = fx_text(g, "SELECT account FROM outbox");
	CHECK_STR(acc, "alice");
	free(acc);
	gh_gov_free(g);
}

/* One claim leases each due job to one claimer until its lease runs out. */
static void test_gov_outbox_claim__leases_each_due_job_once(void)
{
	gh_gov *g = fake_world("ob_claim");
	gh_store *s = gh_gov_store(g);
	json_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	int64_t now = gh_now() + 1;
	char *req;

	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	free(req);
	req = fx_request(g, &fx_admin, FAKE_REQ("bob", "read-only"), "provisioning");
	free(req);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_jobs_claim(&a, s, now, now + 60, "node-a", 1), 0);
	CHECK_INT(gh_store_jobs_claim(&b, s, now, now + 60, "node-a", 1), 0);
	CHECK_INT(gh_store_jobs_claim(&c, s, now, now + 60, "node-a", 5), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT((int)json_array_size(a), 1);
	CHECK_INT((int)json_array_size(b), 1);
	CHECK_INT((int)json_array_size(c), 0);
	/* oldest due first, each taken once, returned as leased */
	CHECK(strcmp(fx_s(json_array_get(a, 0), "id"), fx_s(json_array_get(b, 0), "id")) != 0);
	CHECK_STR(fx_s(json_array_get(a, 0), "op"), "grant");
	CHECK(json_is_string(json_object_get(json_array_get(a, 0), "lease_until")));
	CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE lease_until = %lld",
			 (long long)(now + 60)), 2);
	CHECK_INT(fx_int(g, "SELECT pk FROM outbox WHERE id = %Q",
			 fx_s(json_array_get(a, 0), "id")) <
		  fx_int(g, "SELECT pk FROM outbox WHERE id = %Q",
			 fx_s(json_array_get(b, 0), "id")), 1);
	/* the leases ran out: both are due again */
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_jobs_claim(&d, s, now + 60, now + 120, "node-a", 5), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT((int)json_array_size(d), 2);
	/* d's claim took the jobs over: a's holder lost its lease and holds nothing */
	{
		const char *id = fx_s(json_array_get(a, 0), "id");
		int held = -1;

		CHECK_INT(gh_store_begin(s), 0);
		CHECK_INT(gh_store_job_hold(&held, s, id, "node-a", now + 60, now + 61), 0);
		CHECK_INT(held, 0);
		CHECK_INT(gh_store_job_hold(&held, s, id, "node-b", now + 120, now + 61), 0);
		CHECK_INT(held, 0);
		CHECK_INT(gh_store_job_hold(&held, s, id, "node-a", now + 120, now + 61), 0);
		CHECK_INT(held, 1);
		CHECK_INT(gh_store_commit(s), 0);
		CHECK_INT(fx_int(g, "SELECT count(*) FROM outbox WHERE leased_by = 'node-a'"), 2);
	}
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
	gh_gov_free(g);
}

static void test_gov_outbox_jobs_api__filters_roles_and_bad_input(void)
{
	gh_gov *g = fake_world("ob_api");
	char *req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	char *grant = req ? fake_grant_of(g, &fx_admin, req) : NULL, *job;
	json_t *out = NULL;

	CHECK_INT(gh_gov_job_list(&out, g, &fx_auditor, NULL, "pending", "billing-db", grant), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	job = strdup(fx_s(json_array_get(json_object_get(out, "items"), 0), "id"));
	CHECK_STR(fx_s(json_array_get(json_object_get(out, "items"), 0), "op"), "grant");
	json_decref(out);
	CHECK_INT(gh_gov_job_list(&out, g, &fx_admin, NULL, "done", NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
	CHECK_INT(gh_gov_job_get(&out, g, &fx_admin, job), 0);
	CHECK_STR(fx_s(out, "grant"), grant);
	CHECK_STR(fx_s(out, "state"), "pending");
	json_decref(out);
	CHECK_INT(gh_gov_job_get(&out, g, &fx_alice, job), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_job_list(&out, g, &fx_alice, NULL, NULL, NULL, NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_job_list(&out, g, &fx_admin, NULL, "bogus", "nosuch", "x"), GH_EINVALID);
	CHECK(fx_field_error("state") && fx_field_error("system") && fx_field_error("grant"));
	free(job);
	free(req);
	free(grant);
	gh_gov_free(g);
}

/* 1 when the last error's field errors hold text. */
static int fields_hold(const char *text)
{
	char *s = json_dumps(gh_error_last()->fields, 0);
	int r = s && strstr(s, text);

	free(s);
	return r;
}

static void test_gov_outbox_catalog__settings_checked_and_targets_required(void)
{
	gh_gov *g = fake_world("ob_catalog");
	json_t *out = NULL;
	int64_t before = fx_footprint(g);

	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg\",\"owner\":\"admin\","
			  "\"connector\":\"fake\",\"connector_settings\":{\"note\":\"x\","
			  "\"account_attribute\":\"pg_login\"}}", gh_gov_system_create), 0);
	CHECK_STR(fx_s(json_object_get(out, "connector_settings"), "account_attribute"), "pg_login");
	json_decref(out);
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg2\",\"owner\":\"admin\","
			  "\"connector\":\"nosuch\"}", gh_gov_system_create), GH_EINVALID);
	CHECK(fx_field_error("connector"));
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg2\",\"owner\":\"admin\","
			  "\"connector\":\"fake\",\"connector_settings\":{\"bogus\":1}}",
			  gh_gov_system_create), GH_EINVALID);
	CHECK(fx_field_error("connector_settings.bogus"));
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg2\",\"owner\":\"admin\","
			  "\"connector\":\"fake\",\"connector_settings\":{\"password\":\"s3cret\"}}",
			  gh_gov_system_create), GH_EINVALID);
	CHECK(fx_field_error("connector_settings.password"));
	CHECK(!fx_contains(gh_error_last()->message, "s3cret"));
	CHECK(!fields_hold("s3cret"));
	/* a system names no secret, not even a reference */
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg2\",\"owner\":\"admin\","
			  "\"connector\":\"fake\",\"connector_settings\":{\"password_ref\":"
			  "\"file:/etc/shadow\"}}", gh_gov_system_create), GH_EINVALID);
	CHECK(fx_field_error("connector_settings.password_ref"));
	/* the refusal lists the configured instances */
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg2\",\"owner\":\"admin\","
			  "\"connector\":\"exec\"}", gh_gov_system_create), GH_EINVALID);
	CHECK(fx_field_error("connector"));
	CHECK(fields_hold("configured: fake, blind"));
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg2\",\"owner\":\"admin\","
			  "\"connector\":\"credential\",\"connector_settings\":{\"a\":1}}",
			  gh_gov_system_create), GH_EINVALID);
	CHECK(fx_field_error("connector_settings"));
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"name\":\"pg2\",\"owner\":\"admin\","
			  "\"connector_settings\":[]}", gh_gov_system_create), GH_EINVALID);
	CHECK(fx_field_error("connector_settings"));
	/* an entitlement of a connected system needs a target */
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"system\":\"pg\",\"name\":\"ro\",\"risk_tier\":"
			  "\"low\",\"data_sensitivity\":\"internal\",\"environment\":\"prod\","
			  "\"control_owner_group\":\"dba-owners\",\"max_duration\":\"8h\"}",
			  gh_gov_entitlement_create), GH_EINVALID);
	CHECK(fx_field_error("attributes.target"));
	CHECK_INT(fx_act(&out, g, &fx_admin, "ent_web", "{\"attributes\":{}}",
			 gh_gov_entitlement_update), 0);
	json_decref(out);
	/* web's deploy has no target: web cannot become connected */
	CHECK_INT(fx_act(&out, g, &fx_admin, "web", "{\"connector\":\"fake\"}",
			 gh_gov_system_update), GH_EINVALID);
	CHECK(fx_field_error("connector"));
	CHECK_INT(fx_act(&out, g, &fx_admin, "ent_low", "{\"attributes\":{\"target\":\"\"}}",
			 gh_gov_entitlement_update), GH_EINVALID);
	CHECK(fx_field_error("attributes.target"));
	CHECK_INT(fx_act(&out, g, &fx_admin, "billing-db", "{\"connector_settings\":{\"note\":1}}",
			 gh_gov_system_update), GH_EINVALID);
	CHECK(fx_field_error("connector_settings.note"));
	/* other settings of an existing system: proposed, a second person confirms */
	CHECK_INT(fx_act(&out, g, &fx_admin, "billing-db", "{\"connector_settings\":{\"note\":\"n\"}}",
			 gh_gov_system_update), GH_PROPOSED);
	{
		static const gh_actor second = {"idn_second", GH_ROLE_IAM};
		char cid[GH_ID_LEN];
		json_t *ch = NULL;

		snprintf(cid, sizeof(cid), "%s",
			 fx_s(json_object_get(out, "change"), "id"));
		json_decref(out);
		CHECK_INT(gh_gov_change_confirm(&ch, g, &second, cid, NULL), 0);
		out = json_incref(json_object_get(ch, "result"));
		json_decref(ch);
	}
	CHECK_STR(fx_s(json_object_get(out, "connector_settings"), "note"), "n");
	json_decref(out);
	CHECK(fx_footprint(g) > before);
	gh_gov_free(g);
}

/* The target is checked against the instance when written and again before
 * each job (the configuration may have changed since). */
static void test_gov_outbox_instance__target_checked_when_written_and_at_each_job(void)
{
	gh_gov *g = fake_world("ob_target");
	json_t *out = NULL;
	char *req = NULL, *err = NULL;
	int64_t before = fx_footprint(g);
	int ran = -1;

	CHECK_INT(fx_act(&out, g, &fx_admin, "ent_low", "{\"attributes\":{\"target\":"
			 "\"forbidden\"}}", gh_gov_entitlement_update), GH_EINVALID);
	CHECK(fx_field_error("attributes.target"));
	CHECK_INT(fx_footprint(g), before);
	/* written before the instance said so */
	CHECK_INT(fx_exec(g, "UPDATE entitlements SET attributes = '{\"target\":\"forbidden\"}'"
			  " WHERE id = 'ent_low'"), 0);
	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	CHECK(req != NULL);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK_INT(fake.calls, 0);
	err = fx_text(g, "SELECT last_error FROM outbox WHERE op = 'grant'");
	CHECK(fx_contains(err, "not one this instance may act on"));
	free(err);
	free(req);
	gh_gov_free(g);
}

/* A system naming an instance this server lacks: its jobs fail with a clear
 * error and stay pending; configured (and restarted), they resume. */
static void test_gov_outbox_instance__unconfigured_instance_retried(void)
{
	gh_gov *g = fake_world("ob_unconfigured");
	gh_gov_options opts = {0};
	json_t *list = NULL;
	char *req, *err, *state, path[512];
	int ran = -1;

	CHECK_INT(fx_exec(g, "UPDATE systems SET connector = 'gone' WHERE id = 'sys_db'"), 0);
	CHECK_INT(gh_gov_systems_unconfigured(&list, g), 0);
	CHECK_INT((int)json_array_size(list), 1);
	CHECK_STR(fx_s(json_array_get(list, 0), "connector"), "gone");
	json_decref(list);
	req = fx_request(g, &fx_alice, FAKE_REQ("alice", "read-only"), "provisioning");
	CHECK(req != NULL);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now(), 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK_INT(fake.calls, 0);
	err = fx_text(g, "SELECT last_error FROM outbox WHERE op = 'grant'");
	state = fx_text(g, "SELECT state FROM outbox WHERE op = 'grant'");
	CHECK(fx_contains(err, "connector instance gone is not configured on this server"));
	CHECK_STR(state, "pending");
	free(err);
	free(state);
	/* the operator configures it and restarts */
	sf_targetf(path, sizeof(path), 0, "ob_unconfigured.db");
	gh_gov_free(g);
	gh_config_add_instance(&fake_config, "gone", "fake", NULL);
	opts.config = &fake_config;
	CHECK_INT(gh_gov_open(&g, path, 0, &opts), 0);
	CHECK_INT(gh_gov_jobs_run_once(g, gh_now() + 86400, 0, &ran), 0);
	CHECK_INT(ran, 1);
	CHECK_INT(fake.grants, 1);
	state = fx_text(g, "SELECT state FROM outbox WHERE op = 'grant'");
	CHECK_STR(state, "done");
	free(state);
	free(req);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"gov_outbox_instance__target_checked_when_written_and_at_each_job",
		 test_gov_outbox_instance__target_checked_when_written_and_at_each_job},
		{"gov_outbox_instance__unconfigured_instance_retried",
		 test_gov_outbox_instance__unconfigured_instance_retried},
		{"gov_outbox_provision__connected_grant_waits_for_the_worker",
		 test_gov_outbox_provision__connected_grant_waits_for_the_worker},
		{"gov_outbox_provision__manual_system_is_active_at_once",
		 test_gov_outbox_provision__manual_system_is_active_at_once},
		{"gov_outbox_backoff__grant_fails_after_eight_attempts",
		 test_gov_outbox_backoff__grant_fails_after_eight_attempts},
		{"gov_outbox_backoff__capped_with_jitter", test_gov_outbox_backoff__capped_with_jitter},
		{"gov_outbox_fail__invalid_job_fails_at_once_and_retry_reopens",
		 test_gov_outbox_fail__invalid_job_fails_at_once_and_retry_reopens},
		{"gov_outbox_revoke__retried_until_confirmed",
		 test_gov_outbox_revoke__retried_until_confirmed},
		{"gov_outbox_end__provisioning_grant_cancels_its_job",
		 test_gov_outbox_end__provisioning_grant_cancels_its_job},
		{"gov_outbox_lease__held_job_is_not_run_twice",
		 test_gov_outbox_lease__held_job_is_not_run_twice},
		{"gov_outbox_lease__grant_job_failing_after_its_grant_ended_stops",
		 test_gov_outbox_lease__grant_job_failing_after_its_grant_ended_stops},
		{"gov_outbox_workers__each_job_runs_once_and_wakes_at_once",
		 test_gov_outbox_workers__each_job_runs_once_and_wakes_at_once},
		{"gov_outbox_expiry__writes_a_revoke_job", test_gov_outbox_expiry__writes_a_revoke_job},
		{"gov_outbox_extension__keeps_the_access", test_gov_outbox_extension__keeps_the_access},
		{"gov_outbox_account__from_the_named_attribute",
		 test_gov_outbox_account__from_the_named_attribute},
		{"gov_outbox_account__scalar_attribute_as_text",
		 test_gov_outbox_account__scalar_attribute_as_text},
		{"gov_outbox_claim__leases_each_due_job_once",
		 test_gov_outbox_claim__leases_each_due_job_once},
		{"gov_outbox_jobs_api__filters_roles_and_bad_input",
		 test_gov_outbox_jobs_api__filters_roles_and_bad_input},
		{"gov_outbox_catalog__settings_checked_and_targets_required",
		 test_gov_outbox_catalog__settings_checked_and_targets_required},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
