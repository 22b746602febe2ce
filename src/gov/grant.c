/* grant.c - grants: reading them, revoking them, and ending one inside a transaction. */
#include "gov/gov_internal.h"
#include "store/lifecycle.h"

#include <string.h>

#define GRANT_COLS                                                                          \
	"gr.id, gr.subject_id, gr.entitlement_id, gr.request_id, gr.status, gr.granted_at,"  \
	" gr.expires_at, gr.revoked_at, gr.revoked_by, gr.revoke_reason,"                    \
	" gr.provisioning_status, gr.receipt, gr.break_glass,"                               \
	" (SELECT incident_ref FROM requests WHERE id = gr.request_id), gr.review_due_at,"   \
	" gr.review_state, gr.reviewed_by, gr.reviewed_at, gr.review_comment,"              \
	" (SELECT attempts FROM outbox WHERE grant_id = gr.id ORDER BY pk DESC LIMIT 1),"    \
	" (SELECT last_error FROM outbox WHERE grant_id = gr.id ORDER BY pk DESC LIMIT 1)"


/* A reader who holds no role but requester sees only what concerns them. */
static int reads_own_only(const gh_actor *actor)
{
	return (actor->roles & ~(unsigned)GH_ROLE_REQUESTER) == 0;
}

/* A break-glass grant's flag and review, or null for a normal grant. */
static json_t *break_glass_json(sqlite3_stmt *st)
{
	if (!sqlite3_column_int(st, 12))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "incident_ref", gov_text_column(st, 13),
			 "review_due_at", gov_time_column(st, 14),
			 "review_state", gov_text_column(st, 15),
			 "reviewed_by", gov_text_column(st, 16),
			 "reviewed_at", gov_time_column(st, 17),
			 "comment", gov_text_column(st, 18));
}

/* Where the grant stands downstream: {"status","attempts","last_error","receipt"}. */
static json_t *provisioning_json(sqlite3_stmt *st)
{
	json_t *receipt = sqlite3_column_type(st, 11) == SQLITE_NULL ? json_null() :
			  gov_json_column(st, 11, 0);

	return json_pack("{s:o, s:I, s:o, s:o}", "status", gov_text_column(st, 10),
			 "attempts", (json_int_t)sqlite3_column_int64(st, 19),
			 "last_error", gov_text_column(st, 20), "receipt", receipt);
}

/* One grant in its API shape from a row of GRANT_COLS. */
static json_t *grant_json(sqlite3_stmt *st)
{
	json_t *g = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			      "id", gov_text_column(st, 0), "subject", gov_text_column(st, 1),
			      "entitlement", gov_text_column(st, 2),
			      "request", gov_text_column(st, 3),
			      "status", gov_text_column(st, 4), "granted_at", gov_time_column(st, 5),
			      "expires_at", gov_time_column(st, 6),
			      "revoked_at", gov_time_column(st, 7),
			      "revoked_by", gov_text_column(st, 8),
			      "revoke_reason", gov_text_column(st, 9),
			      "provisioning_status", gov_text_column(st, 10),
			      "receipt", gov_text_column(st, 11), "break_glass", break_glass_json(st));

	if (g && json_object_set_new(g, "provisioning", provisioning_json(st))) {
		json_decref(g);
		return NULL;
	}
	return g;
}

int gov_grant_load(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT " GRANT_COLS " FROM grants gr WHERE gr.id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = grant_json(st);
		rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory loading a grant");
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "grant %s not found", id);
	} else {
		rc = gh_store_fail(g->store, "loading a grant");
	}
	sqlite3_reset(st);
	return rc;
}

/* 1 when the grant concerns who: its subject, the subject's owner, or the
 * one who asked for it. */
static int grant_concerns(gh_gov *g, const char *grant_id, const char *who)
{
	return gov_exists(g, "SELECT 1 FROM grants gr JOIN requests r ON r.id = gr.request_id"
			     " JOIN identities s ON s.id = gr.subject_id WHERE gr.id = ?1 AND"
			     " (gr.subject_id = ?2 OR s.owner_id = ?2 OR r.requester_id = ?2"
			     "  OR r.submitted_by = ?2)",
			  grant_id, who, "checking a grant's owner");
}

int gh_gov_grant_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	if (reads_own_only(actor)) {
		rc = grant_concerns(g, id, actor->id);
		if (rc == 0)
			rc = gh_error_set(GH_ENOTFOUND, "grant %s not found", id);
		if (rc < 0)
			goto cleanup;
	}
	rc = gov_grant_load(out, g, id);
cleanup:
	gh_store_read_end(g->store);
	return rc;
}

static int grant_row(json_t **item, gh_gov *g, sqlite3_stmt *st)
{
	*item = grant_json(st);
	return *item ? 0 : gh_error_set(GH_ERROR, "out of memory listing grants");
}

int gh_gov_grant_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		      const char *status, const char *subject, const char *entitlement)
{
	return gh_gov_grant_list_review(out, g, actor, page, status, subject, entitlement, NULL);
}

int gh_gov_grant_list_review(json_t **out, gh_gov *g, const gh_actor *actor,
			     const gh_page *page, const char *status, const char *subject,
			     const char *entitlement, const char *review_state)
{
	gov_list_query q = {.table = "grants", .enum_field = "status", .enum_values = gov_grant_statuses,
			    .enum_value = status, .subject = subject, .entitlement = entitlement};
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (review_state)
		gov_check_enum("review_state", gov_review_states, review_state);
	gh_store_read_begin(g->store);
	if ((rc = gov_list_filter(g, &q, page)))
		goto cleanup;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT " GRANT_COLS " FROM grants gr WHERE gr.pk > ?1"
				" AND (?7 IS NULL OR gr.review_state = ?7)"
				" AND (?2 IS NULL OR gr.status = ?2)"
				" AND (?3 IS NULL OR gr.subject_id = ?3)"
				" AND (?4 IS NULL OR gr.entitlement_id = ?4)"
				" AND (?5 IS NULL OR gr.subject_id = ?5"
				"  OR gr.subject_id IN (SELECT id FROM identities WHERE owner_id = ?5)"
				"  OR gr.request_id IN (SELECT id FROM requests"
				"   WHERE requester_id = ?5 OR submitted_by = ?5))"
				" ORDER BY gr.pk LIMIT ?6")))
		goto cleanup;
	gov_list_bind(st, &q, reads_own_only(actor) ? actor->id : NULL);
	if (review_state)
		sqlite3_bind_text(st, 7, review_state, -1, SQLITE_STATIC);
	rc = gov_list_collect(out, g, st, &q, grant_row);
cleanup:
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_grant_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			const json_t *in)
{
	static const char *const allowed[] = {"reason", NULL};
	const char *reason = NULL, *status;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if (!(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM)))
		return gh_error_set(GH_EFORBIDDEN, "only admin or iam may revoke grants");
	gh_error_clear();
	if (gh_jv_object(in, allowed) >= 0)
		gh_jv_string(in, "reason", 1, 1000, &reason);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT status FROM grants WHERE id = ?")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		status = (const char *)sqlite3_column_text(st, 0);
		rc = strcmp(status, "active") == 0 || strcmp(status, "provisioning") == 0 ? 0 :
			gh_error_set(GH_ECONFLICT, "grant %s is %s; only an active or provisioning"
				     " grant can be revoked", id, status);
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "grant %s not found", id);
	} else {
		rc = gh_store_fail(g->store, "reading a grant");
	}
	sqlite3_reset(st);
	if (rc)
		goto cleanup;
	if ((rc = gov_grant_end(g, actor->id, id, "revoked", reason)))
		goto cleanup;
	rc = gov_grant_load(out, g, id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int gov_grant_end(gh_gov *g, const char *actor_id, const char *grant_id, const char *status,
		  const char *reason)
{
	return gov_grant_end_ex(g, actor_id, grant_id, status, reason, 1);
}

int gov_grant_end_ex(gh_gov *g, const char *actor_id, const char *grant_id, const char *status,
		     const char *reason, int deprovision)
{
	int expired = strcmp(status, "expired") == 0;
	char from[GH_STORE_STATE_LEN], req_state[GH_STORE_STATE_LEN];
	int64_t now = gh_now();
	gov_grant_change ch = {.now = now, .by = actor_id};
	const char *request_id = ch.request_id;
	json_t *details = NULL;
	int rc;

	if (!expired && strcmp(status, "revoked") != 0)
		return gh_error_set(GH_ERROR, "a grant cannot end as %s", status);
	if (!reason)
		reason = "";
	ch.reason = reason;
	if ((rc = gh_store_grant_status(from, req_state, g->store, grant_id)))
		return rc;
	if (strcmp(from, "active") != 0 && strcmp(from, "provisioning") != 0)
		return gh_error_set(GH_ECONFLICT, "grant %s is neither active nor provisioning",
				    grant_id);
	if ((rc = gov_grant_move(g, grant_id, from, status, &ch)))
		return rc;
	/* its API keys stop working with it (credentials.c) */
	if ((rc = gov_credentials_end_grant(g, actor_id, grant_id, status)))
		return rc;
	/* its request follows it, when it is where a grant's request stands */
	if ((strcmp(req_state, "active") == 0 || strcmp(req_state, "provisioning") == 0) &&
	    (rc = gov_request_move(g, ch.request_id, req_state, status,
				   &(gov_request_change){.now = now, .reason = reason})))
		return rc;

	if (deprovision && (rc = gov_outbox_grant_ended(g, actor_id, grant_id, now)))
		return rc;
	details = json_pack("{s:s, s:s, s:s, s:s}", "reason", reason, "request", request_id,
			    "subject", ch.subject_id, "entitlement", ch.entitlement_id);
	if (!details)
		return gh_error_set(GH_ERROR, "out of memory auditing a grant");
	rc = gh_audit_append(NULL, g->store, actor_id, expired ? "grant.expired" : "grant.revoked",
			     "grant", grant_id, details);
	json_decref(details);
	if (rc)
		return rc;
	details = json_pack("{s:s, s:s}", "reason", reason, "grant", grant_id);
	if (!details)
		return gh_error_set(GH_ERROR, "out of memory auditing a request");
	rc = gh_audit_append(NULL, g->store, actor_id,
			     expired ? "request.expired" : "request.revoked", "request", request_id,
			     details);
	json_decref(details);
	return rc;
}
