/* outbox.c - the SQL of the provisioning outbox: writing, claiming and
 * recording jobs, and the grant facts its workers read (store/outbox.h). */
#include "store/outbox.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>

#define JOB_COLS                                                                              \
	"id, grant_id, system_id, op, account, target, state, attempts, next_at, lease_until,"  \
	" last_error, receipt, created_at, updated_at, done_at"

static json_t *job_json(gh_sql *q)
{
	json_t *receipt = gh_sql_column_null(q, 11) ? json_null() : gh_sql_json_column(q, 11, 0);

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o}",
			 "id", gh_sql_text_column(q, 0), "grant", gh_sql_text_column(q, 1),
			 "system", gh_sql_text_column(q, 2), "op", gh_sql_text_column(q, 3),
			 "account", gh_sql_text_column(q, 4), "target", gh_sql_text_column(q, 5),
			 "state", gh_sql_text_column(q, 6),
			 "attempts", (json_int_t)gh_sql_column_int64(q, 7),
			 "next_at", gh_sql_time_column(q, 8), "lease_until", gh_sql_time_column(q, 9),
			 "last_error", gh_sql_text_column(q, 10), "receipt", receipt,
			 "created_at", gh_sql_time_column(q, 12), "updated_at", gh_sql_time_column(q, 13),
			 "done_at", gh_sql_time_column(q, 14));
}

/* --- writing jobs ------------------------------------------------------------ */

int gh_store_job_insert(gh_store *s, const char *id, const char *grant_id,
			const char *system_id, const char *op, const char *account,
			const char *target, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO outbox(id, grant_id, system_id, op, account, target, state,"
				 " attempts, next_at, created_at, updated_at)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7)")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, grant_id);
	gh_sql_bind_text(q, 3, system_id);
	gh_sql_bind_text(q, 4, op);
	gh_sql_bind_text(q, 5, account);
	gh_sql_bind_text(q, 6, target ? target : "");
	gh_sql_bind_int64(q, 7, now);
	return gh_sql_step_done(q, "writing a job");
}

static json_t *source_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "subject_name", gh_sql_text_column(q, 0),
			 "subject_attributes", gh_sql_json_column(q, 1, 0),
			 "entitlement_attributes", gh_sql_json_column(q, 2, 0),
			 "settings", gh_sql_json_column(q, 3, 0));
}

int gh_store_job_grant_source(json_t **out, gh_store *s, const char *grant_id,
			      const char *system_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT i.name, i.attributes, e.attributes, s.connector_settings"
				 " FROM grants gr JOIN identities i ON i.id = gr.subject_id"
				 " JOIN entitlements e ON e.id = gr.entitlement_id"
				 " JOIN systems s ON s.id = ?2 WHERE gr.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	gh_sql_bind_text(q, 2, system_id);
	return gh_sql_one(out, q, source_json, "reading what a grant gives downstream");
}

int gh_store_job_cancel_unleased(char *job, size_t joblen, gh_store *s, const char *grant_id,
				 int64_t now)
{
	gh_sql *q;
	int rc;

	job[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE outbox SET state = 'cancelled', updated_at = ?2,"
				 " last_error = 'cancelled: the grant ended'"
				 " WHERE grant_id = ?1 AND op = 'grant' AND state = 'pending'"
				 " AND (lease_until IS NULL OR lease_until <= ?2) RETURNING id")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	gh_sql_bind_int64(q, 2, now);
	/* (grant_id, op) is unique: one row at most */
	if ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		gh_sql_copy_text(job, joblen, q, 0);
		rc = gh_sql_step(q);
	}
	rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "cancelling a grant job");
	gh_sql_reset(q);
	return rc;
}

static json_t *access_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o}", "system", gh_sql_text_column(q, 0),
			 "account", gh_sql_text_column(q, 1), "target", gh_sql_text_column(q, 2));
}

int gh_store_job_grant_access(json_t **out, gh_store *s, const char *grant_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT system_id, account, target FROM outbox"
				 " WHERE grant_id = ?1 AND op = 'grant'")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	return gh_sql_one(out, q, access_json, "reading a grant job");
}

/* --- claiming and running jobs ---------------------------------------------- */

/* The claim: a subquery picks due jobs, the update leases them to holder. */
#define CLAIM_PICK                                                                           \
	"UPDATE outbox SET lease_until = ?2, leased_by = ?4, updated_at = ?1"                \
	" WHERE pk IN (SELECT o.pk FROM outbox o"                                            \
	"  WHERE o.state = 'pending' AND o.next_at <= ?1"                                    \
	"  AND (o.lease_until IS NULL OR o.lease_until <= ?1)"                               \
	/* a revoke waits for the grant job a worker still runs */                          \
	"  AND NOT (o.op = 'revoke' AND o.grant_id IS NOT NULL AND EXISTS"                   \
	"   (SELECT 1 FROM outbox p WHERE p.grant_id = o.grant_id"                           \
	"    AND p.op = 'grant' AND p.state = 'pending' AND p.lease_until > ?1))"            \
	"  ORDER BY o.next_at, o.pk LIMIT ?3"

int gh_store_jobs_claim(json_t **out, gh_store *s, int64_t now, int64_t lease_until,
			const char *holder, int max)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	/* one statement picks and leases, so two claimers never take the same job;
	 * dialect: on PostgreSQL other nodes claim too, and the pick skips the
	 * rows their claims hold rather than waiting for them */
	if ((rc = gh_sql_prepare_dialect(&q, s,
					 CLAIM_PICK ") RETURNING " JOB_COLS,
					 CLAIM_PICK " FOR UPDATE OF o SKIP LOCKED) RETURNING " JOB_COLS)))
		return rc;
	gh_sql_bind_int64(q, 1, now);
	gh_sql_bind_int64(q, 2, lease_until);
	gh_sql_bind_int(q, 3, max);
	gh_sql_bind_text(q, 4, holder);
	return gh_sql_rows(out, q, job_json, "claiming due jobs");
}

int gh_store_job_hold(int *held, gh_store *s, const char *id, const char *holder,
		      int64_t lease_until, int64_t now)
{
	gh_sql *q;
	int rc;

	*held = 0;
	/* a compare-and-set on the claim: the same holder and the same lease;
	 * the row stays locked until the caller's transaction ends */
	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE outbox SET updated_at = ?4 WHERE id = ?1 AND state = 'pending'"
				 " AND leased_by = ?2 AND lease_until = ?3 RETURNING id")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, holder);
	gh_sql_bind_int64(q, 3, lease_until);
	gh_sql_bind_int64(q, 4, now);
	if ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		*held = 1;
		rc = gh_sql_step(q);
	}
	rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "holding a job");
	gh_sql_reset(q);
	return rc;
}

static json_t *context_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
			 "system_name", gh_sql_text_column(q, 0),
			 "connector", gh_sql_text_column(q, 1), "settings", gh_sql_text_column(q, 2),
			 "entitlement", gh_sql_text_column(q, 3),
			 "entitlement_name", gh_sql_text_column(q, 4),
			 "subject", gh_sql_text_column(q, 5), "subject_name", gh_sql_text_column(q, 6),
			 "expires_at", (json_int_t)gh_sql_column_int64(q, 7));
}

int gh_store_job_context(json_t **out, gh_store *s, const char *system_id, const char *grant_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT s.name, s.connector, s.connector_settings, gr.entitlement_id,"
				 " e.name, gr.subject_id, i.name, gr.expires_at"
				 " FROM systems s LEFT JOIN grants gr ON gr.id = ?2"
				 " LEFT JOIN entitlements e ON e.id = gr.entitlement_id"
				 " LEFT JOIN identities i ON i.id = gr.subject_id WHERE s.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, system_id);
	gh_sql_bind_text(q, 2, grant_id);
	return gh_sql_one(out, q, context_json, "reading a job's system and grant");
}

int gh_store_job_state(char state[GH_STORE_STATE_LEN], char *grant, gh_store *s,
		       const char *id)
{
	gh_sql *q;
	int rc;

	state[0] = '\0';
	if (grant)
		grant[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s, "SELECT state, grant_id FROM outbox WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(state, GH_STORE_STATE_LEN, q, 0);
		if (grant)
			gh_sql_copy_text(grant, GH_STORE_ID_LEN, q, 1);
		rc = 0;
	} else {
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "reading a job");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_job_done(gh_store *s, const char *id, int attempts, const char *receipt,
		      int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE outbox SET state = 'done', attempts = ?2, lease_until = NULL,"
				 " leased_by = NULL, last_error = NULL, receipt = ?3, done_at = ?4, updated_at = ?4"
				 " WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int(q, 2, attempts);
	gh_sql_bind_text(q, 3, receipt);
	gh_sql_bind_int64(q, 4, now);
	return gh_sql_step_done(q, "finishing a job");
}

int gh_store_job_failed(gh_store *s, const char *id, const char *state, int attempts,
			int64_t next_at, const char *error, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE outbox SET state = ?2, attempts = ?3, next_at = ?4,"
				 " lease_until = NULL, leased_by = NULL, last_error = ?5, updated_at = ?6"
				 " WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, state);
	gh_sql_bind_int(q, 3, attempts);
	gh_sql_bind_int64(q, 4, next_at);
	gh_sql_bind_text(q, 5, error);
	gh_sql_bind_int64(q, 6, now);
	return gh_sql_step_done(q, "recording a failed attempt");
}

int gh_store_job_cancel(gh_store *s, const char *id, int attempts, const char *error,
			int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE outbox SET state = 'cancelled', attempts = ?2,"
				 " lease_until = NULL, leased_by = NULL, last_error = ?3, updated_at = ?4"
				 " WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int(q, 2, attempts);
	gh_sql_bind_text(q, 3, error);
	gh_sql_bind_int64(q, 4, now);
	return gh_sql_step_done(q, "cancelling a grant job");
}

int gh_store_job_requeue(gh_store *s, const char *id, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE outbox SET state = 'pending', next_at = ?2, updated_at = ?2,"
				 " attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END,"
				 /* a worker may hold a pending one: its lease stays */
				 " lease_until = CASE WHEN state = 'failed' THEN NULL ELSE lease_until END,"
				 " leased_by = CASE WHEN state = 'failed' THEN NULL ELSE leased_by END"
				 " WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, now);
	return gh_sql_step_done(q, "retrying a job");
}

/* --- the grant a job serves --------------------------------------------------- */

int gh_store_job_grant_state(char status[GH_STORE_STATE_LEN], char *request, int64_t *expires,
			     gh_store *s, const char *grant_id)
{
	gh_sql *q;
	int rc;

	status[0] = request[0] = '\0';
	*expires = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT status, request_id, expires_at FROM grants WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(status, GH_STORE_STATE_LEN, q, 0);
		gh_sql_copy_text(request, GH_STORE_ID_LEN, q, 1);
		*expires = gh_sql_column_int64(q, 2);
		rc = 0;
	} else {
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "reading a grant");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_grant_provisioning_set(gh_store *s, const char *grant_id, const char *provisioning)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE grants SET provisioning_status = ?2 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	gh_sql_bind_text(q, 2, provisioning);
	return gh_sql_step_done(q, "recording a grant's provisioning");
}

/* --- reading jobs -------------------------------------------------------------- */

int gh_store_job_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " JOB_COLS " FROM outbox WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_one(out, q, job_json, "loading a job");
}

int gh_store_job_list(json_t **out, gh_store *s, int64_t after_pk, const char *state,
		      const char *system_id, const char *grant_id, int limit)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT " JOB_COLS " FROM outbox WHERE pk > ?1"
				 " AND (CAST(?2 AS TEXT) IS NULL OR state = ?2)"
				 " AND (CAST(?3 AS TEXT) IS NULL OR system_id = ?3)"
				 " AND (CAST(?4 AS TEXT) IS NULL OR grant_id = ?4) ORDER BY pk LIMIT ?5")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, state);
	gh_sql_bind_text(q, 3, system_id);
	gh_sql_bind_text(q, 4, grant_id);
	gh_sql_bind_int(q, 5, limit);
	return gh_sql_rows(out, q, job_json, "listing jobs");
}
