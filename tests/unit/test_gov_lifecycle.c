/* test_gov_lifecycle.c - the request and grant state machines (gov/lifecycle.c):
 * every move of the tables performed, every other move refused, and a
 * compare-and-set that lost changing nothing. */
#include "gov_fixture.h"

#include <stdlib.h>

#define NOW 1700000000
#define ROWS_MAX 64

static const char *const request_states[] = {
	"submitted", "denied", "pending_approval", "approved", "provisioning", "active",
	"expired", "revoked", "rejected", "cancelled", "failed", NULL};
static const char *const grant_statuses[] = {
	"provisioning", "active", "failed", "expired", "revoked", NULL};

/* A request row id in state (closed ones carry an old reason, to see a reopen clear it). */
static int put_request(gh_gov *g, const char *id, const char *state)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO requests(id, state, channel, submitted_by, requester_id, subject_id,"
		 " entitlement_id, justification, duration, close_reason, created_at, updated_at,"
		 " closed_at) VALUES ('%s', '%s', 'api', 'idn_alice', 'idn_alice', 'idn_alice',"
		 " 'ent_low', 'test', 3600, 'old', 1, 1, 5)", id, state);
	return fx_exec(g, sql);
}

/* A grant row id in status, with a request req_of_<id> standing where its grant does. */
static int put_grant(gh_gov *g, const char *id, const char *status)
{
	char sql[1024], req[64];

	snprintf(req, sizeof(req), "req_of_%s", id);
	if (put_request(g, req, strcmp(status, "failed") == 0 ? "failed" : status))
		return -1;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO grants(id, subject_id, entitlement_id, request_id, status, granted_at,"
		 " expires_at, provisioning_status) VALUES ('%s', 'idn_alice', 'ent_low', '%s',"
		 " '%s', 1, 4102444800, 'pending')", id, req, status);
	return fx_exec(g, sql);
}

/* 1 when the move is in the machine's table (from NULL: a creation). */
static int in_table(const char *machine, const char *from, const char *to)
{
	const char *f, *t, *e;

	for (size_t i = 0; gov_lifecycle_moves(machine, i, &f, &t, &e) == 0; i++)
		if (((!f && !from) || (f && from && strcmp(f, from) == 0)) && strcmp(t, to) == 0)
			return 1;
	return 0;
}

static int one_of(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static int request_move(gh_gov *g, const char *id, const char *from, const char *to,
			const gov_request_change *ch)
{
	if (gh_store_begin(gh_gov_store(g)))
		return -100;
	return gov_finish(g, gov_request_move(g, id, from, to, ch));
}

static int grant_move(gh_gov *g, const char *id, const char *from, const char *to,
		      gov_grant_change *ch)
{
	if (gh_store_begin(gh_gov_store(g)))
		return -100;
	return gov_finish(g, gov_grant_move(g, id, from, to, ch));
}

static int64_t request_has(gh_gov *g, const char *id, const char *cond)
{
	return fx_int(g, "SELECT count(*) FROM requests WHERE id = '%q' AND %s", id, cond);
}

static int64_t grant_has(gh_gov *g, const char *id, const char *cond)
{
	return fx_int(g, "SELECT count(*) FROM grants WHERE id = '%q' AND %s", id, cond);
}

static void test_lifecycle_tables__name_every_state_once(void)
{
	const char *f, *t, *e, *f2, *t2, *e2;
	size_t i, k, n = 0;

	for (i = 0; gov_lifecycle_moves("request", i, &f, &t, &e) == 0; i++, n++) {
		CHECK(!f || one_of(request_states, f));
		CHECK(one_of(request_states, t));
		CHECK(e && *e);
		for (k = 0; k < i && gov_lifecycle_moves("request", k, &f2, &t2, &e2) == 0; k++)
			CHECK(!(((!f && !f2) || (f && f2 && strcmp(f, f2) == 0)) &&
				strcmp(t, t2) == 0));
	}
	CHECK(n >= 15);
	for (i = 0; gov_lifecycle_moves("grant", i, &f, &t, &e) == 0; i++) {
		CHECK(!f || one_of(grant_statuses, f));
		CHECK(one_of(grant_statuses, t));
		for (k = 0; k < i && gov_lifecycle_moves("grant", k, &f2, &t2, &e2) == 0; k++)
			CHECK(!(((!f && !f2) || (f && f2 && strcmp(f, f2) == 0)) &&
				strcmp(t, t2) == 0));
	}
	/* every state the schema allows is in the drawing */
	for (const char *const *s = request_states; *s; s++) {
		int seen = 0;

		for (i = 0; gov_lifecycle_moves("request", i, &f, &t, &e) == 0; i++)
			seen |= (f && strcmp(f, *s) == 0) || strcmp(t, *s) == 0;
		if (!CHECK(seen))
			fprintf(stderr, "  request state %s is in no move\n", *s);
	}
	for (const char *const *s = grant_statuses; *s; s++) {
		int seen = 0;

		for (i = 0; gov_lifecycle_moves("grant", i, &f, &t, &e) == 0; i++)
			seen |= (f && strcmp(f, *s) == 0) || strcmp(t, *s) == 0;
		CHECK(seen);
	}
	/* creations: only the table's */
	CHECK_INT(gov_request_check_new("pending_approval"), 0);
	CHECK_INT(gov_request_check_new("approved"), 0);
	CHECK_INT(gov_request_check_new("denied"), 0);
	CHECK_INT(gov_request_check_new("active"), GH_ERROR);
	CHECK_INT(gov_grant_check_new("active"), 0);
	CHECK_INT(gov_grant_check_new("provisioning"), 0);
	CHECK_INT(gov_grant_check_new("failed"), GH_ERROR);
}

/* Each request move of the table, on a row in its from state, lands in its to
 * state with what that move writes. */
static void test_lifecycle_request__every_move_is_performed(void)
{
	gh_gov *g = fx_world("lc_req_moves");
	const char *from, *to, *event;
	char id[64], cond[256];
	size_t i, done = 0;

	if (!CHECK(g != NULL))
		return;
	for (i = 0; gov_lifecycle_moves("request", i, &from, &to, &event) == 0; i++) {
		int redecide = strcmp(to, "pending_approval") == 0 || strcmp(to, "denied") == 0;
		gov_request_change ch = {.now = NOW, .reason = "why",
					 .decision = redecide ? "{\"x\":1}" : NULL,
					 .required_approvals = 3, .grant_id = "grt_new"};

		if (!from)
			continue;
		snprintf(id, sizeof(id), "req_m%zu", i);
		if (!CHECK_INT(put_request(g, id, from), 0))
			continue;
		if (!CHECK_INT(request_move(g, id, from, to, &ch), 0)) {
			fprintf(stderr, "  %s -> %s (%s): %s\n", from, to, event,
				gh_error_last()->message);
			continue;
		}
		snprintf(cond, sizeof(cond), "state = '%s' AND updated_at = %d", to, NOW);
		CHECK_INT(request_has(g, id, cond), 1);
		if (strcmp(to, "denied") == 0 || strcmp(to, "rejected") == 0 ||
		    strcmp(to, "cancelled") == 0 || strcmp(to, "expired") == 0 ||
		    strcmp(to, "revoked") == 0 || strcmp(to, "failed") == 0) {
			snprintf(cond, sizeof(cond), "close_reason = 'why' AND closed_at = %d", NOW);
			if (!CHECK_INT(request_has(g, id, cond), 1))
				fprintf(stderr, "  %s -> %s does not close\n", from, to);
		} else if (strcmp(from, "failed") == 0) {
			CHECK_INT(request_has(g, id, "close_reason IS NULL AND closed_at IS NULL"), 1);
		} else {
			/* an open move leaves the close columns as they were */
			if (!CHECK_INT(request_has(g, id, "close_reason = 'old' AND closed_at = 5"), 1))
				fprintf(stderr, "  %s -> %s\n", from, to);
		}
		if (strcmp(from, "approved") == 0)
			CHECK_INT(request_has(g, id, "grant_id = 'grt_new'"), 1);
		if (redecide)
			CHECK_INT(request_has(g, id, "decision = '{\"x\":1}'"
					      " AND required_approvals = 3"), 1);
		else
			CHECK_INT(request_has(g, id, "decision IS NULL AND required_approvals = 0"), 1);
		done++;
	}
	CHECK(done >= 15);
	gh_gov_free(g);
}

static void test_lifecycle_grant__every_move_is_performed(void)
{
	gh_gov *g = fx_world("lc_grant_moves");
	const char *from, *to, *event;
	char id[64], cond[256];
	size_t i, done = 0;

	if (!CHECK(g != NULL))
		return;
	for (i = 0; gov_lifecycle_moves("grant", i, &from, &to, &event) == 0; i++) {
		gov_grant_change ch = {.now = NOW, .by = "idn_admin", .reason = "why",
				       .receipt = "{\"ok\":1}"};

		if (!from)
			continue;
		snprintf(id, sizeof(id), "grt_m%zu", i);
		if (!CHECK_INT(put_grant(g, id, from), 0))
			continue;
		if (!CHECK_INT(grant_move(g, id, from, to, &ch), 0)) {
			fprintf(stderr, "  %s -> %s (%s): %s\n", from, to, event,
				gh_error_last()->message);
			continue;
		}
		snprintf(cond, sizeof(cond), "status = '%s'", to);
		CHECK_INT(grant_has(g, id, cond), 1);
		if (strcmp(to, "expired") == 0 || strcmp(to, "revoked") == 0) {
			snprintf(cond, sizeof(cond), "revoked_at = %d AND revoked_by = 'idn_admin'"
				 " AND revoke_reason = 'why'", NOW);
			CHECK_INT(grant_has(g, id, cond), 1);
			CHECK(strncmp(ch.request_id, "req_of_", 7) == 0);
			CHECK_STR(ch.subject_id, "idn_alice");
			CHECK_STR(ch.entitlement_id, "ent_low");
		} else if (strcmp(to, "active") == 0) {
			CHECK_INT(grant_has(g, id, "provisioning_status = 'done'"
					    " AND receipt = '{\"ok\":1}'"), 1);
		} else {
			snprintf(cond, sizeof(cond), "provisioning_status = '%s' AND receipt IS NULL",
				 strcmp(to, "failed") == 0 ? "failed" : "pending");
			CHECK_INT(grant_has(g, id, cond), 1);
		}
		/* a grant's move never moves its request: the callers do, through the table */
		snprintf(cond, sizeof(cond), "state = '%s'", from);
		snprintf(id, sizeof(id), "req_of_grt_m%zu", i);
		CHECK_INT(request_has(g, id, cond), 1);
		done++;
	}
	CHECK_INT(done, 7);
	gh_gov_free(g);
}

/* Every (from, to) pair not in a table is refused with a message naming both,
 * and nothing changes. */
static void test_lifecycle_refuses__a_move_not_in_the_table(void)
{
	gh_gov *g = fx_world("lc_refuse");
	char id[64], msg[256];
	int64_t before;
	int refused = 0;

	if (!CHECK(g != NULL))
		return;
	for (const char *const *f = request_states; *f; f++) {
		snprintf(id, sizeof(id), "req_%s", *f);
		CHECK_INT(put_request(g, id, *f), 0);
	}
	for (const char *const *f = grant_statuses; *f; f++) {
		snprintf(id, sizeof(id), "grt_%s", *f);
		CHECK_INT(put_grant(g, id, *f), 0);
	}
	before = fx_footprint(g);
	for (const char *const *f = request_states; *f; f++) {
		for (const char *const *t = request_states; *t; t++) {
			gov_request_change ch = {.now = NOW, .reason = "x", .decision = "{}"};

			if (in_table("request", *f, *t))
				continue;
			snprintf(id, sizeof(id), "req_%s", *f);
			if (!CHECK_INT(request_move(g, id, *f, *t, &ch), GH_ECONFLICT))
				fprintf(stderr, "  request %s -> %s was not refused\n", *f, *t);
			snprintf(msg, sizeof(msg), "cannot go from %s to %s", *f, *t);
			CHECK(fx_contains(gh_error_last()->message, msg));
			refused++;
		}
	}
	for (const char *const *f = grant_statuses; *f; f++) {
		for (const char *const *t = grant_statuses; *t; t++) {
			gov_grant_change ch = {.now = NOW, .by = "idn_admin", .reason = "x"};

			if (in_table("grant", *f, *t))
				continue;
			snprintf(id, sizeof(id), "grt_%s", *f);
			if (!CHECK_INT(grant_move(g, id, *f, *t, &ch), GH_ECONFLICT))
				fprintf(stderr, "  grant %s -> %s was not refused\n", *f, *t);
			snprintf(msg, sizeof(msg), "grant %s cannot go from %s to %s", id, *f, *t);
			CHECK(fx_contains(gh_error_last()->message, msg));
			refused++;
		}
	}
	/* not a state at all, and no state */
	CHECK_INT(request_move(g, "req_active", "bogus", "revoked", NULL), GH_ECONFLICT);
	CHECK_INT(request_move(g, "req_active", NULL, "active", NULL), GH_ECONFLICT);
	CHECK_INT(grant_move(g, "grt_active", "active", NULL, NULL), GH_ECONFLICT);
	CHECK(refused > 100);
	CHECK_INT(fx_footprint(g), before);
	for (const char *const *f = request_states; *f; f++)
		CHECK_INT(fx_int(g, "SELECT count(*) FROM requests WHERE id = 'req_%s' AND state = '%s'"
				 " AND updated_at = 1 AND close_reason = 'old'", *f, *f), 1);
	for (const char *const *f = grant_statuses; *f; f++)
		CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE id = 'grt_%s' AND status = '%s'"
				 " AND revoked_at IS NULL AND provisioning_status = 'pending'", *f, *f), 1);
	gh_gov_free(g);
}

/* An allowed move whose row another writer moved first changes nothing and
 * says so; so does one on a row that does not exist. */
static void test_lifecycle_cas__a_lost_move_changes_nothing(void)
{
	gh_gov *g = fx_world("lc_cas");
	gov_grant_change gch = {.now = NOW, .by = "idn_admin", .reason = "late"};
	int64_t before;

	if (!CHECK(g != NULL) || !CHECK_INT(put_request(g, "req_a", "pending_approval"), 0) ||
	    !CHECK_INT(put_grant(g, "grt_a", "active"), 0))
		goto cleanup;
	/* another writer got there first */
	CHECK_INT(fx_exec(g, "UPDATE requests SET state = 'cancelled' WHERE id = 'req_a';"
			     "UPDATE grants SET status = 'revoked' WHERE id = 'grt_a'"), 0);
	before = fx_footprint(g);
	CHECK_INT(request_move(g, "req_a", "pending_approval", "rejected",
			       &(gov_request_change){.now = NOW, .reason = "late"}), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "req_a is no longer pending_approval"));
	CHECK(fx_contains(gh_error_last()->message, "rejected"));
	CHECK_INT(request_move(g, "req_a", "pending_approval", "approved", NULL), GH_ECONFLICT);
	CHECK_INT(request_move(g, "req_a", "pending_approval", "pending_approval",
			       &(gov_request_change){.decision = "{}"}), GH_ECONFLICT);
	CHECK_INT(grant_move(g, "grt_a", "active", "expired", &gch), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "grt_a is no longer active"));
	CHECK_INT(grant_move(g, "grt_a", "active", "revoked", &gch), GH_ECONFLICT);
	CHECK_INT(grant_move(g, "grt_a", "provisioning", "active", NULL), GH_ECONFLICT);
	CHECK_INT(grant_move(g, "grt_none", "failed", "provisioning", NULL), GH_ECONFLICT);
	CHECK_INT(request_move(g, "req_none", "failed", "provisioning", NULL), GH_ECONFLICT);
	CHECK_INT(fx_footprint(g), before);
	CHECK_INT(request_has(g, "req_a", "state = 'cancelled' AND updated_at = 1"
			      " AND close_reason = 'old'"), 1);
	CHECK_INT(grant_has(g, "grt_a", "status = 'revoked' AND revoked_at IS NULL"), 1);
cleanup:
	gh_gov_free(g);
}

/* Through the API: a request's whole life moves through the tables, and ending
 * a grant whose request stands elsewhere (edited by hand) leaves that request. */
static void test_lifecycle_workflow__requests_and_grants_move_through_the_tables(void)
{
	gh_gov *g = fx_world("lc_flow");
	json_t *r = NULL, *gr = NULL;
	char *pend = NULL, *act = NULL;
	const char *grant;

	if (!CHECK(g != NULL))
		return;
	pend = fx_request(g, &fx_alice, "{\"channel\":\"api\",\"subject\":\"alice\","
			  "\"entitlement\":\"ent_med\",\"justification\":\"j\",\"duration\":\"1h\"}",
			  "pending_approval");
	act = fx_request(g, &fx_alice, "{\"channel\":\"api\",\"subject\":\"alice\","
			 "\"entitlement\":\"ent_low\",\"justification\":\"j\",\"duration\":\"1h\"}",
			 "active");
	if (!CHECK(pend && act))
		goto cleanup;
	/* pending_approval -> approved -> active in one approval */
	CHECK_INT(fx_act(&r, g, &fx_bob, pend, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	r = NULL;
	/* the second grant's request was edited away from active: the grant still
	 * ends, its request stays where it is */
	CHECK_INT(gh_gov_request_get(&r, g, &fx_admin, act), 0);
	grant = fx_s(r, "grant");
	CHECK_INT(fx_exec(g, "UPDATE requests SET state = 'approved' WHERE grant_id IS NOT NULL"
			     " AND entitlement_id = 'ent_low'"), 0);
	CHECK_INT(fx_act(&gr, g, &fx_admin, grant, "{\"reason\":\"done\"}", gh_gov_grant_revoke), 0);
	CHECK_STR(fx_s(gr, "status"), "revoked");
	CHECK_INT(request_has(g, act, "state = 'approved'"), 1);
	/* a revoked grant cannot be revoked again: refused as before */
	json_decref(gr);
	gr = NULL;
	CHECK_INT(fx_act(&gr, g, &fx_admin, grant, "{\"reason\":\"again\"}", gh_gov_grant_revoke),
		  GH_ECONFLICT);
cleanup:
	json_decref(r);
	json_decref(gr);
	free(pend);
	free(act);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_lifecycle_tables__name_every_state_once",
		 test_lifecycle_tables__name_every_state_once},
		{"test_lifecycle_request__every_move_is_performed",
		 test_lifecycle_request__every_move_is_performed},
		{"test_lifecycle_grant__every_move_is_performed",
		 test_lifecycle_grant__every_move_is_performed},
		{"test_lifecycle_refuses__a_move_not_in_the_table",
		 test_lifecycle_refuses__a_move_not_in_the_table},
		{"test_lifecycle_cas__a_lost_move_changes_nothing",
		 test_lifecycle_cas__a_lost_move_changes_nothing},
		{"test_lifecycle_workflow__requests_and_grants_move_through_the_tables",
		 test_lifecycle_workflow__requests_and_grants_move_through_the_tables},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
