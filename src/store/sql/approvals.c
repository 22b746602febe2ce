/* approvals.c - the SQL of a request's approvals (store/approvals.h). */
#include "store/approvals.h"
#include "store/sql.h"
#include "common/error.h"

static json_t *approval_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:i, s:o, s:o, s:o}",
			 "approver", gh_sql_text_column(q, 0),
			 "decision", gh_sql_text_column(q, 1), "comment", gh_sql_text_column(q, 2),
			 "step", gh_sql_column_int(q, 3), "at", gh_sql_time_column(q, 4),
			 "checks", gh_sql_json_column(q, 5, 1),
			 "policy", gh_sql_column_null(q, 6) ? json_null() :
			 gh_sql_json_column(q, 6, 0));
}

int gh_store_approval_list(json_t **items, gh_store *s, const char *request_id)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT approver_id, decision, comment, step, created_at, checks, policy"
				 " FROM approvals WHERE request_id = ?1 ORDER BY step, pk")))
		return rc;
	gh_sql_bind_text(q, 1, request_id);
	return gh_sql_rows(items, q, approval_json, "approvals");
}

int gh_store_approval_tally(int *count, int *by_approver, gh_store *s, const char *request_id,
			    const char *approver_id)
{
	gh_sql *q;
	int rc;

	*count = *by_approver = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT count(*), coalesce(sum(CASE WHEN approver_id = ?2 THEN 1"
				 " ELSE 0 END), 0) FROM approvals WHERE request_id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, request_id);
	gh_sql_bind_text(q, 2, approver_id);
	if (gh_sql_step(q) == GH_SQL_ROW) {
		*count = gh_sql_column_int(q, 0);
		*by_approver = gh_sql_column_int(q, 1);
		rc = 0;
	} else {
		rc = gh_sql_fail(q, "counting approvals");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_approval_insert(gh_store *s, const gh_store_approval_new *a)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO approvals(id, request_id, approver_id, decision, comment,"
				 " step, checks, created_at, policy)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")))
		return rc;
	gh_sql_bind_text(q, 1, a->id);
	gh_sql_bind_text(q, 2, a->request_id);
	gh_sql_bind_text(q, 3, a->approver_id);
	gh_sql_bind_text(q, 4, a->decision);
	gh_sql_bind_text(q, 5, a->comment);
	gh_sql_bind_int(q, 6, a->step);
	gh_sql_bind_text(q, 7, a->checks);
	gh_sql_bind_int64(q, 8, a->created_at);
	gh_sql_bind_text(q, 9, a->policy);
	return gh_sql_step_done(q, "recording an approval");
}
