/* grants.c - reading grants (store/grants.h). */
#include "store/grants.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>

#define GRANT_COLS                                                                          \
	"gr.id, gr.subject_id, gr.entitlement_id, gr.request_id, gr.status, gr.granted_at,"  \
	" gr.expires_at, gr.revoked_at, gr.revoked_by, gr.revoke_reason,"                    \
	" gr.provisioning_status, gr.receipt, gr.break_glass,"                               \
	" (SELECT incident_ref FROM requests WHERE id = gr.request_id), gr.review_due_at,"   \
	" gr.review_state, gr.reviewed_by, gr.reviewed_at, gr.review_comment,"              \
	" (SELECT attempts FROM outbox WHERE grant_id = gr.id ORDER BY pk DESC LIMIT 1),"    \
	" (SELECT last_error FROM outbox WHERE grant_id = gr.id ORDER BY pk DESC LIMIT 1)"

/* A break-glass grant's flag and review, or null for a normal grant. */
static json_t *break_glass_json(gh_sql *q)
{
	if (gh_sql_column_int(q, 12) == 0)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "incident_ref", gh_sql_text_column(q, 13),
			 "review_due_at", gh_sql_time_column(q, 14),
			 "review_state", gh_sql_text_column(q, 15),
			 "reviewed_by", gh_sql_text_column(q, 16),
			 "reviewed_at", gh_sql_time_column(q, 17),
			 "comment", gh_sql_text_column(q, 18));
}

/* Where the grant stands downstream: {"status","attempts","last_error","receipt"}. */
static json_t *provisioning_json(gh_sql *q)
{
	json_t *receipt = gh_sql_column_null(q, 11) ? json_null() : gh_sql_json_column(q, 11, 0);

	return json_pack("{s:o, s:I, s:o, s:o}", "status", gh_sql_text_column(q, 10),
			 "attempts", (json_int_t)gh_sql_column_int64(q, 19),
			 "last_error", gh_sql_text_column(q, 20), "receipt", receipt);
}

/* One grant in its API shape from a row of GRANT_COLS. */
static json_t *grant_json(gh_sql *q)
{
	json_t *g = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			      "id", gh_sql_text_column(q, 0), "subject", gh_sql_text_column(q, 1),
			      "entitlement", gh_sql_text_column(q, 2),
			      "request", gh_sql_text_column(q, 3),
			      "status", gh_sql_text_column(q, 4),
			      "granted_at", gh_sql_time_column(q, 5),
			      "expires_at", gh_sql_time_column(q, 6),
			      "revoked_at", gh_sql_time_column(q, 7),
			      "revoked_by", gh_sql_text_column(q, 8),
			      "revoke_reason", gh_sql_text_column(q, 9),
			      "provisioning_status", gh_sql_text_column(q, 10),
			      "receipt", gh_sql_text_column(q, 11), "break_glass", break_glass_json(q));

	if (g && json_object_set_new(g, "provisioning", provisioning_json(q))) {
		json_decref(g);
		return NULL;
	}
	return g;
}

int gh_store_grant_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " GRANT_COLS " FROM grants gr WHERE gr.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		*out = grant_json(q);
		rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory loading a grant");
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "grant %s not found", id);
	} else {
		rc = gh_sql_fail(q, "loading a grant");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_grant_concerns(gh_store *s, const char *grant_id, const char *who)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "SELECT 1 FROM grants gr JOIN requests r ON r.id = gr.request_id"
					" JOIN identities s ON s.id = gr.subject_id WHERE gr.id = ?1 AND"
					" (gr.subject_id = ?2 OR s.owner_id = ?2 OR r.requester_id = ?2"
					"  OR r.submitted_by = ?2)")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	gh_sql_bind_text(q, 2, who);
	return gh_sql_exists(q, "checking a grant's owner");
}

int gh_store_grant_list(json_t **items, gh_store *s, const gh_store_grant_filter *f,
			int64_t after_pk, int limit)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT " GRANT_COLS " FROM grants gr WHERE gr.pk > ?1"
				 " AND (CAST(?7 AS TEXT) IS NULL OR gr.review_state = ?7)"
				 " AND (CAST(?2 AS TEXT) IS NULL OR gr.status = ?2)"
				 " AND (CAST(?3 AS TEXT) IS NULL OR gr.subject_id = ?3)"
				 " AND (CAST(?4 AS TEXT) IS NULL OR gr.entitlement_id = ?4)"
				 " AND (CAST(?5 AS TEXT) IS NULL OR gr.subject_id = ?5"
				 "  OR gr.subject_id IN (SELECT id FROM identities WHERE owner_id = ?5)"
				 "  OR gr.request_id IN (SELECT id FROM requests"
				 "   WHERE requester_id = ?5 OR submitted_by = ?5))"
				 " ORDER BY gr.pk LIMIT ?6")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, f->status);
	gh_sql_bind_text(q, 3, f->subject_id);
	gh_sql_bind_text(q, 4, f->entitlement_id);
	gh_sql_bind_text(q, 5, f->own_only);
	gh_sql_bind_int(q, 6, limit);
	gh_sql_bind_text(q, 7, f->review_state);
	return gh_sql_rows(items, q, grant_json, "grants");
}

int gh_store_grant_review_miss(char status[GH_STORE_STATE_LEN], gh_store *s, const char *id,
			       int64_t now)
{
	const char *t;
	gh_sql *q;
	int rc;

	status[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s, "UPDATE grants SET review_state = 'missed', reviewed_at = ?1"
					" WHERE id = ?2 AND review_state = 'pending' RETURNING status")))
		return rc;
	gh_sql_bind_int64(q, 1, now);
	gh_sql_bind_text(q, 2, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		t = gh_sql_column_text(q, 0);
		snprintf(status, GH_STORE_STATE_LEN, "%s", t ? t : "");
		rc = 1;
	} else if (rc == GH_SQL_FAIL) {
		rc = gh_sql_fail(q, "recording a missed review");
	}
	gh_sql_reset(q);
	return rc;
}
