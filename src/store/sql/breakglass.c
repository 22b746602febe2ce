/* breakglass.c - the SQL of a break-glass grant's review (store/breakglass.h). */
#include "store/breakglass.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>

int gh_store_grant_review_get(gh_store_grant_review *out, gh_store *s, const char *id)
{
	const char *t;
	gh_sql *q;
	int rc;

	out->request_id[0] = out->review_state[0] = '\0';
	out->break_glass = out->live = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT request_id, break_glass, coalesce(review_state, ''),"
				 " CASE WHEN status IN ('active', 'provisioning') THEN 1 ELSE 0 END"
				 " FROM grants WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		t = gh_sql_column_text(q, 0);
		snprintf(out->request_id, sizeof(out->request_id), "%s", t ? t : "");
		out->break_glass = gh_sql_column_int(q, 1);
		t = gh_sql_column_text(q, 2);
		snprintf(out->review_state, sizeof(out->review_state), "%s", t ? t : "");
		out->live = gh_sql_column_int(q, 3);
		rc = 0;
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "grant %s not found", id);
	} else {
		rc = gh_sql_fail(q, "loading a grant");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_grant_review_set(gh_store *s, const char *id, const char *outcome, const char *by,
			      int64_t at, const char *comment)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE grants SET review_state = ?2, reviewed_by = ?3, reviewed_at = ?4,"
				 " review_comment = ?5 WHERE id = ?1 AND review_state = 'pending'")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, outcome);
	gh_sql_bind_text(q, 3, by);
	gh_sql_bind_int64(q, 4, at);
	gh_sql_bind_text(q, 5, comment);
	return gh_sql_step_done(q, "recording a review");
}
