/* audit_api.c - reading the audit log through the domain, page by page. */
#include "gov/gov_internal.h"

#define AUDIT_LIST_DEFAULT 100
#define AUDIT_LIST_MAX 1000

int gh_gov_audit_list(json_t **out, gh_gov *g, const gh_actor *actor, int64_t after_seq,
		      int limit, const char *object_id)
{
	json_t *items = NULL, *ev;
	sqlite3_stmt *st;
	int64_t last = 0;
	int rc, n = 0;

	*out = NULL;
	if (!(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)))
		return gh_error_set(GH_EFORBIDDEN, "only admin, iam or auditor may read the audit log");
	gh_error_clear();
	if (after_seq < 0)
		gh_error_field("after_seq", "must be 0 or a sequence number");
	if (limit == 0)
		limit = AUDIT_LIST_DEFAULT;
	else if (limit < 1 || limit > AUDIT_LIST_MAX)
		gh_error_field("limit", "must be between 1 and %d", AUDIT_LIST_MAX);
	if (object_id && !*object_id)
		object_id = NULL;
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (!(items = json_array()))
		return gh_error_set(GH_ERROR, "out of memory reading the audit log");
	gh_store_read_begin(g->store);
	/* two statements so each can use its index */
	if (object_id)
		rc = gh_store_stmt(&st, g->store,
				   "SELECT seq, ts, actor, action, object_type, object_id, details,"
				   " prev_hash, hash FROM audit_events WHERE object_id = ?3"
				   " AND seq > ?1 ORDER BY seq LIMIT ?2");
	else
		rc = gh_store_stmt(&st, g->store,
				   "SELECT seq, ts, actor, action, object_type, object_id, details,"
				   " prev_hash, hash FROM audit_events WHERE seq > ?1"
				   " ORDER BY seq LIMIT ?2");
	if (rc)
		goto cleanup;
	sqlite3_bind_int64(st, 1, after_seq);
	sqlite3_bind_int(st, 2, limit);
	if (object_id)
		sqlite3_bind_text(st, 3, object_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		n++;
		if (!(ev = gh_audit_event_json(st)) || json_array_append_new(items, ev)) {
			sqlite3_reset(st);
			rc = gh_error_set(GH_ERROR, "out of memory reading the audit log");
			goto cleanup;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "reading the audit log");
		goto cleanup;
	}
	*out = json_pack("{s:O, s:o}", "items", items, "next_after_seq",
			 n == limit ? json_integer(last) : json_null());
	rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory reading the audit log");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}
