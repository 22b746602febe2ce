/* provision.c - the SQL of provisioning a request into a grant
 * (store/provision.h). */
#include "store/provision.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>

int gh_store_entitlement_connector(char system_id[GH_STORE_GRANT_ID_LEN],
				   char connector[GH_STORE_CONNECTOR_LEN], gh_store *s,
				   const char *entitlement_id)
{
	gh_sql *q;
	int rc;

	system_id[0] = connector[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT s.id, s.connector FROM entitlements e"
				 " JOIN systems s ON s.id = e.system_id WHERE e.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, entitlement_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(system_id, GH_STORE_GRANT_ID_LEN, q, 0);
		gh_sql_copy_text(connector, GH_STORE_CONNECTOR_LEN, q, 1);
		rc = 0;
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "entitlement %s not found", entitlement_id);
	} else {
		rc = gh_sql_fail(q, "reading an entitlement's system");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_grant_extended_by(char out[GH_STORE_GRANT_ID_LEN], gh_store *s,
			       const char *request_id)
{
	gh_sql *q;
	int rc;

	out[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT gr.id FROM requests r JOIN grants gr ON gr.id = r.extends_grant_id"
				 " WHERE r.id = ?1 AND gr.status = 'active'")))
		return rc;
	gh_sql_bind_text(q, 1, request_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		gh_sql_copy_text(out, GH_STORE_GRANT_ID_LEN, q, 0);
	rc = rc == GH_SQL_FAIL ? gh_sql_fail(q, "looking for the grant an extension replaces") : 0;
	gh_sql_reset(q);
	return rc;
}

int gh_store_grant_insert(gh_store *s, const gh_store_grant_new *g)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO grants(id, subject_id, entitlement_id, request_id, status,"
				 " granted_at, expires_at, break_glass, review_due_at, review_state,"
				 " provisioning_status)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")))
		return rc;
	gh_sql_bind_text(q, 1, g->id);
	gh_sql_bind_text(q, 2, g->subject_id);
	gh_sql_bind_text(q, 3, g->entitlement_id);
	gh_sql_bind_text(q, 4, g->request_id);
	gh_sql_bind_text(q, 5, g->status);
	gh_sql_bind_int64(q, 6, g->granted_at);
	gh_sql_bind_int64(q, 7, g->expires_at);
	gh_sql_bind_int(q, 8, g->review_due_at > 0);
	if (g->review_due_at > 0) {
		gh_sql_bind_int64(q, 9, g->review_due_at);
		gh_sql_bind_text(q, 10, "pending");
	} else {
		gh_sql_bind_null(q, 9);
		gh_sql_bind_null(q, 10);
	}
	gh_sql_bind_text(q, 11, g->provisioning);
	return gh_sql_step_done(q, "creating a grant");
}
