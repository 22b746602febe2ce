/* requests.c - the SQL of access requests (store/requests.h). */
#include "store/requests.h"
#include "store/approvals.h"
#include "store/sql.h"
#include "common/error.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

#define REQ_COLS                                                                            \
	"r.id, r.state, r.ticket_ref, r.channel, r.submitted_by, r.requester_id,"            \
	" r.subject_id, r.entitlement_id, r.justification, r.duration, r.emergency,"          \
	" r.decision, r.required_approvals, r.sla_due_at, r.grant_id, r.close_reason,"        \
	" r.created_at, r.updated_at, r.closed_at, r.extends_grant_id, r.break_glass,"         \
	" r.incident_ref"

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

/* A request from a row of REQ_COLS, with approvals [] in their place until
 * approvals_fill (replacing a key keeps its position). */
static json_t *request_json(gh_sql *q)
{
	char dur[32];
	json_t *r, *decision;

	gh_duration_format(dur, sizeof(dur), gh_sql_column_int64(q, 9));
	decision = gh_sql_column_null(q, 11) ? json_null() : gh_sql_json_column(q, 11, 0);
	r = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:b, s:o, s:i,"
		      " s:[], s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		      "id", gh_sql_text_column(q, 0), "state", gh_sql_text_column(q, 1),
		      "ticket_ref", gh_sql_text_column(q, 2), "channel", gh_sql_text_column(q, 3),
		      "submitted_by", gh_sql_text_column(q, 4),
		      "requester", gh_sql_text_column(q, 5),
		      "subject", gh_sql_text_column(q, 6), "entitlement", gh_sql_text_column(q, 7),
		      "justification", gh_sql_text_column(q, 8), "duration", dur,
		      "duration_seconds", (json_int_t)gh_sql_column_int64(q, 9),
		      "emergency", gh_sql_column_int(q, 10) != 0, "decision", decision,
		      "required_approvals", gh_sql_column_int(q, 12), "approvals",
		      "grant", gh_sql_text_column(q, 14), "sla_due_at", gh_sql_time_column(q, 13),
		      "close_reason", gh_sql_text_column(q, 15),
		      "created_at", gh_sql_time_column(q, 16), "updated_at", gh_sql_time_column(q, 17),
		      "closed_at", gh_sql_time_column(q, 18), "extends", gh_sql_text_column(q, 19));
	if (r && (json_object_set_new(r, "break_glass", json_boolean(gh_sql_column_int(q, 20))) ||
		  json_object_set_new(r, "incident_ref", gh_sql_text_column(q, 21)))) {
		json_decref(r);
		r = NULL;
	}
	return r;
}

/* r["approvals"]: the request's approvals, read once its own row is done. */
static int approvals_fill(gh_store *s, json_t *r)
{
	json_t *approvals;
	int rc;

	if ((rc = gh_store_approval_list(&approvals, s,
					 json_string_value(json_object_get(r, "id")))))
		return rc;
	return json_object_set_new(r, "approvals", approvals) ? nomem("loading approvals") : 0;
}

int gh_store_request_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " REQ_COLS " FROM requests r WHERE r.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		rc = (*out = request_json(q)) ? 0 : nomem("loading a request");
	else if (rc == GH_SQL_DONE)
		rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
	else
		rc = gh_sql_fail(q, "loading a request");
	gh_sql_reset(q);
	if (!rc && (rc = approvals_fill(s, *out))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int gh_store_request_page(json_t **items, int *more, gh_store *s,
			  const gh_store_request_filter *f, int64_t after_pk, int limit)
{
	json_t *item;
	gh_sql *q;
	size_t i;
	int rc;

	*items = NULL;
	*more = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT " REQ_COLS " FROM requests r WHERE r.pk > ?1"
				 " AND (CAST(?2 AS TEXT) IS NULL OR r.state = ?2)"
				 " AND (CAST(?3 AS TEXT) IS NULL OR r.subject_id = ?3)"
				 " AND (CAST(?4 AS TEXT) IS NULL OR r.entitlement_id = ?4)"
				 " AND (CAST(?5 AS TEXT) IS NULL OR r.submitted_by = ?5"
				 "  OR r.requester_id = ?5 OR r.subject_id = ?5"
				 "  OR r.subject_id IN (SELECT id FROM identities WHERE owner_id = ?5))"
				 " ORDER BY r.pk LIMIT ?6")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, f->state);
	gh_sql_bind_text(q, 3, f->subject_id);
	gh_sql_bind_text(q, 4, f->entitlement_id);
	gh_sql_bind_text(q, 5, f->concerns);
	/* one row past the page says whether another follows */
	gh_sql_bind_int(q, 6, limit + 1);
	if ((rc = gh_sql_rows(items, q, request_json, "requests")))
		return rc;
	if (json_array_size(*items) > (size_t)limit) {
		*more = 1;
		json_array_remove(*items, (size_t)limit);
	}
	json_array_foreach(*items, i, item)
		if ((rc = approvals_fill(s, item))) {
			json_decref(*items);
			*items = NULL;
			return rc;
		}
	return 0;
}

int gh_store_request_concerns(gh_store *s, const char *id, const char *who)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT 1 FROM requests r JOIN identities s ON s.id = r.subject_id"
				 " WHERE r.id = ?1 AND (r.submitted_by = ?2 OR r.requester_id = ?2"
				 " OR r.subject_id = ?2 OR s.owner_id = ?2)")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, who);
	return gh_sql_exists(q, "checking who a request concerns");
}

int gh_store_request_grant_of(char out[GH_STORE_REQ_ID_LEN], gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	out[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s, "SELECT grant_id FROM requests WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(out, GH_STORE_REQ_ID_LEN, q, 0);
		rc = 0;
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
	} else {
		rc = gh_sql_fail(q, "loading a request");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_request_open_for(char open_request[GH_STORE_REQ_ID_LEN],
			      char active_grant[GH_STORE_REQ_ID_LEN], gh_store *s,
			      const char *subject_id, const char *entitlement_id)
{
	gh_sql *q;
	int rc;

	open_request[0] = active_grant[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT (SELECT id FROM requests WHERE subject_id = ?1"
				 "   AND entitlement_id = ?2 AND state IN ('submitted',"
				 "   'pending_approval', 'approved', 'provisioning') LIMIT 1),"
				 " (SELECT id FROM grants WHERE subject_id = ?1 AND status = 'active'"
				 "   AND entitlement_id = ?2 LIMIT 1)")))
		return rc;
	gh_sql_bind_text(q, 1, subject_id);
	gh_sql_bind_text(q, 2, entitlement_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(open_request, GH_STORE_REQ_ID_LEN, q, 0);
		gh_sql_copy_text(active_grant, GH_STORE_REQ_ID_LEN, q, 1);
		rc = 0;
	} else {
		rc = gh_sql_fail(q, "looking for open requests");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_request_insert(gh_store *s, const gh_store_request_new *r)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO requests(id, state, ticket_ref, channel, submitted_by,"
				 " requester_id, subject_id, entitlement_id, justification, duration,"
				 " emergency, decision, required_approvals, sla_due_at, close_reason,"
				 " created_at, updated_at, closed_at, extends_grant_id, break_glass,"
				 " incident_ref)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
				 " ?15, ?16, ?16, ?17, ?18, ?19, ?20)")))
		return rc;
	gh_sql_bind_text(q, 1, r->id);
	gh_sql_bind_text(q, 2, r->state);
	gh_sql_bind_text(q, 3, r->ticket_ref);
	gh_sql_bind_text(q, 4, r->channel);
	gh_sql_bind_text(q, 5, r->submitted_by);
	gh_sql_bind_text(q, 6, r->requester_id);
	gh_sql_bind_text(q, 7, r->subject_id);
	gh_sql_bind_text(q, 8, r->entitlement_id);
	gh_sql_bind_text(q, 9, r->justification);
	gh_sql_bind_int64(q, 10, r->duration);
	gh_sql_bind_int(q, 11, r->emergency);
	gh_sql_bind_text(q, 12, r->decision);
	gh_sql_bind_int(q, 13, r->required_approvals);
	if (r->sla_due_at)
		gh_sql_bind_int64(q, 14, r->sla_due_at);
	else
		gh_sql_bind_null(q, 14);
	gh_sql_bind_text(q, 15, r->close_reason);
	gh_sql_bind_int64(q, 16, r->created_at);
	if (r->closed_at)
		gh_sql_bind_int64(q, 17, r->closed_at);
	else
		gh_sql_bind_null(q, 17);
	gh_sql_bind_text(q, 18, r->extends_grant_id);
	gh_sql_bind_int(q, 19, r->break_glass);
	gh_sql_bind_text(q, 20, r->incident_ref);
	return gh_sql_step_done(q, "recording a request");
}

int gh_store_request_touch(gh_store *s, const char *id, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE requests SET updated_at = ?1 WHERE id = ?2")))
		return rc;
	gh_sql_bind_int64(q, 1, now);
	gh_sql_bind_text(q, 2, id);
	return gh_sql_step_done(q, "recording an approval");
}

int gh_store_request_brief_get(gh_store_request_brief *out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT r.state, r.submitted_by, r.requester_id, r.subject_id,"
				 " s.owner_id, r.entitlement_id, e.control_owner_group_id,"
				 " r.required_approvals, r.duration, e.max_duration, s.name, s.status,"
				 " e.name, r.decision, r.channel, r.ticket_ref, r.emergency,"
				 " s.expires_at, e.requestable"
				 " FROM requests r JOIN identities s ON s.id = r.subject_id"
				 " JOIN entitlements e ON e.id = r.entitlement_id WHERE r.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(out->state, sizeof(out->state), q, 0);
		gh_sql_copy_text(out->submitted_by, sizeof(out->submitted_by), q, 1);
		gh_sql_copy_text(out->requester, sizeof(out->requester), q, 2);
		gh_sql_copy_text(out->subject, sizeof(out->subject), q, 3);
		gh_sql_copy_text(out->subject_owner, sizeof(out->subject_owner), q, 4);
		gh_sql_copy_text(out->entitlement, sizeof(out->entitlement), q, 5);
		gh_sql_copy_text(out->control_group, sizeof(out->control_group), q, 6);
		out->required = gh_sql_column_int(q, 7);
		out->duration = gh_sql_column_int64(q, 8);
		out->max_duration = gh_sql_column_int64(q, 9);
		gh_sql_copy_text(out->subject_name, sizeof(out->subject_name), q, 10);
		gh_sql_copy_text(out->subject_status, sizeof(out->subject_status), q, 11);
		gh_sql_copy_text(out->ent_name, sizeof(out->ent_name), q, 12);
		out->decision = gh_sql_json_column(q, 13, 0);
		gh_sql_copy_text(out->channel, sizeof(out->channel), q, 14);
		gh_sql_copy_text(out->ticket_ref, sizeof(out->ticket_ref), q, 15);
		out->emergency = gh_sql_column_int(q, 16);
		out->has_subject_expires = !gh_sql_column_null(q, 17);
		out->subject_expires = out->has_subject_expires ? gh_sql_column_int64(q, 17) : 0;
		out->requestable = gh_sql_column_int(q, 18);
		rc = out->decision ? 0 : nomem("loading a request");
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
	} else {
		rc = gh_sql_fail(q, "loading a request");
	}
	gh_sql_reset(q);
	return rc;
}
