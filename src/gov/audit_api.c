/* audit_api.c - reading the audit log through the domain, page by page. */
#include "gov/gov_internal.h"
#include "store/events.h"

#define AUDIT_LIST_DEFAULT 100
#define AUDIT_LIST_MAX 1000

int gh_gov_audit_list(json_t **out, gh_gov *g, const gh_actor *actor, int64_t after_seq,
		      int limit, const char *object_id)
{
	json_t *items = NULL;
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
	gh_store_read_begin(g->store);
	if ((rc = gh_store_events_page(&items, g->store, after_seq, limit, object_id)))
		goto cleanup;
	if ((n = (int)json_array_size(items)) > 0)
		last = json_integer_value(json_object_get(json_array_get(items, n - 1), "seq"));
	*out = json_pack("{s:O, s:o}", "items", items, "next_after_seq",
			 n == limit ? json_integer(last) : json_null());
	rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory reading the audit log");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}
