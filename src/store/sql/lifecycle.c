/* lifecycle.c - the SQL of request and grant state changes, each a
 * compare-and-set on the row's current state (store/lifecycle.h). */
#include "store/lifecycle.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>

/* Runs the bound move q of row id (kind "request" or "grant"): 0 when it
 * changed the row, GH_ECONFLICT when the row was no longer in from. */
static int move_done(gh_sql *q, const char *kind, const char *id, const char *from,
		     const char *to, const char *what)
{
	int rc = gh_sql_step(q);

	if (rc == GH_SQL_FAIL)
		rc = gh_sql_fail(q, what);
	else if (gh_sql_changes(q) == 0)
		rc = gh_error_set(GH_ECONFLICT, "%s %s is no longer %s: another change came first"
				  " (not moved to %s)", kind, id, from, to);
	else
		rc = 0;
	gh_sql_reset(q);
	return rc;
}

/* The first text column of a one-row query into out, the second (when
 * second is not NULL) into second; "" when there is no row. */
static int read_state(char out[GH_STORE_STATE_LEN], gh_sql *q, char *second, const char *what)
{
	int rc = gh_sql_step(q);

	out[0] = '\0';
	if (rc == GH_SQL_ROW) {
		const char *t = gh_sql_column_text(q, 0);

		snprintf(out, GH_STORE_STATE_LEN, "%s", t ? t : "");
		if (second) {
			t = gh_sql_column_text(q, 1);
			snprintf(second, GH_STORE_STATE_LEN, "%s", t ? t : "");
		}
		rc = 0;
	} else if (rc == GH_SQL_DONE) {
		rc = 0;
	} else {
		rc = gh_sql_fail(q, what);
	}
	gh_sql_reset(q);
	return rc;
}

/* --- requests --------------------------------------------------------------- */

int gh_store_request_state(char out[GH_STORE_STATE_LEN], gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	out[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s, "SELECT state FROM requests WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return read_state(out, q, NULL, "reading a request's state");
}

int gh_store_request_close(gh_store *s, const char *id, const char *from, const char *to,
			   const char *reason, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE requests SET state = ?3, close_reason = ?4, closed_at = ?5,"
				 " updated_at = ?5 WHERE id = ?1 AND state = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_text(q, 4, reason);
	gh_sql_bind_int64(q, 5, now);
	return move_done(q, "request", id, from, to, "closing a request");
}

int gh_store_request_advance(gh_store *s, const char *id, const char *from, const char *to,
			     const char *grant_id, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE requests SET state = ?3, grant_id = coalesce(?4, grant_id),"
				 " updated_at = ?5 WHERE id = ?1 AND state = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_text(q, 4, grant_id);
	gh_sql_bind_int64(q, 5, now);
	return move_done(q, "request", id, from, to, "moving a request");
}

int gh_store_request_redecide(gh_store *s, const char *id, const char *from, const char *to,
			      const char *decision, int required_approvals,
			      const char *close_reason, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE requests SET state = ?3, decision = ?4, required_approvals = ?5,"
				 " updated_at = ?7, close_reason = coalesce(?6, close_reason),"
				 " closed_at = CASE WHEN CAST(?6 AS TEXT) IS NULL THEN closed_at"
				 "  ELSE ?7 END"
				 " WHERE id = ?1 AND state = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_text(q, 4, decision);
	gh_sql_bind_int(q, 5, required_approvals);
	gh_sql_bind_text(q, 6, close_reason);
	gh_sql_bind_int64(q, 7, now);
	return move_done(q, "request", id, from, to, "re-deciding a request");
}

int gh_store_request_reopen(gh_store *s, const char *id, const char *from, const char *to,
			    int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE requests SET state = ?3, close_reason = NULL, closed_at = NULL,"
				 " updated_at = ?4 WHERE id = ?1 AND state = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_int64(q, 4, now);
	return move_done(q, "request", id, from, to, "reopening a request");
}

/* --- grants ----------------------------------------------------------------- */

int gh_store_grant_status(char out[GH_STORE_STATE_LEN], char *request_state, gh_store *s,
			  const char *id)
{
	gh_sql *q;
	int rc;

	out[0] = '\0';
	if (request_state)
		request_state[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s, "SELECT gr.status, r.state FROM grants gr"
					" JOIN requests r ON r.id = gr.request_id WHERE gr.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return read_state(out, q, request_state, "reading a grant's status");
}

static void copy_column(char out[GH_STORE_ID_LEN], gh_sql *q, int col)
{
	const char *t = gh_sql_column_text(q, col);

	snprintf(out, GH_STORE_ID_LEN, "%s", t ? t : "");
}

int gh_store_grant_end(gh_store_grant_ended *out, gh_store *s, const char *id, const char *from,
		       const char *to, const char *by, const char *reason, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE grants SET status = ?3, revoked_at = ?4, revoked_by = ?5,"
				 " revoke_reason = ?6 WHERE id = ?1 AND status = ?2"
				 " RETURNING request_id, subject_id, entitlement_id")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_int64(q, 4, now);
	gh_sql_bind_text(q, 5, by);
	gh_sql_bind_text(q, 6, reason);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		if (out) {
			copy_column(out->request_id, q, 0);
			copy_column(out->subject_id, q, 1);
			copy_column(out->entitlement_id, q, 2);
		}
		rc = 0;
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ECONFLICT, "grant %s is no longer %s: another change came"
				  " first (not moved to %s)", id, from, to);
	} else {
		rc = gh_sql_fail(q, "ending a grant");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_grant_provisioned(gh_store *s, const char *id, const char *from, const char *to,
			       const char *receipt)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE grants SET status = ?3, provisioning_status = 'done',"
				 " receipt = ?4 WHERE id = ?1 AND status = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_text(q, 4, receipt);
	return move_done(q, "grant", id, from, to, "activating a grant");
}

int gh_store_grant_set_status(gh_store *s, const char *id, const char *from, const char *to,
			      const char *provisioning)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE grants SET status = ?3, provisioning_status = ?4"
				 " WHERE id = ?1 AND status = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_text(q, 4, provisioning);
	return move_done(q, "grant", id, from, to, "changing a grant's status");
}
