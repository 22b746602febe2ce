/* grant.c - grants: reading them, revoking them, and ending one inside a transaction. */
#include "gov/gov_internal.h"
#include "store/grants.h"
#include "store/lifecycle.h"

#include <string.h>

/* A reader who holds no role but requester sees only what concerns them. */
static int reads_own_only(const gh_actor *actor)
{
	return (actor->roles & ~(unsigned)GH_ROLE_REQUESTER) == 0;
}

int gov_grant_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_store_grant_get(out, g->store, id);
}

int gh_gov_grant_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	if (reads_own_only(actor)) {
		rc = gh_store_grant_concerns(g->store, id, actor->id);
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

/* A page of items (up to limit + 1, the one past the page saying there is a
 * next page) as {"items","next"}; takes items. */
static int page_of(json_t **out, json_t *items, int limit)
{
	const char *last = NULL;

	if (json_array_size(items) > (size_t)limit) {
		json_array_remove(items, (size_t)limit);
		last = json_string_value(json_object_get(json_array_get(items, limit - 1), "id"));
	}
	*out = json_pack("{s:o, s:o}", "items", items, "next", last ? json_string(last) : json_null());
	return *out ? 0 : gh_error_set(GH_ERROR, "out of memory listing grants");
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
	gh_store_grant_filter f = {.review_state = review_state};
	json_t *items = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (review_state)
		gov_check_enum("review_state", gov_review_states, review_state);
	gh_store_read_begin(g->store);
	if ((rc = gov_list_filter(g, &q, page)))
		goto cleanup;
	f.status = q.enum_value;
	f.subject_id = q.subject_id[0] ? q.subject_id : NULL;
	f.entitlement_id = q.ent_id[0] ? q.ent_id : NULL;
	f.own_only = reads_own_only(actor) ? actor->id : NULL;
	if (!(rc = gh_store_grant_list(&items, g->store, &f, q.after_pk, q.limit + 1)))
		rc = page_of(out, items, q.limit);
	items = NULL;
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}

int gh_gov_grant_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			const json_t *in)
{
	static const char *const allowed[] = {"reason", NULL};
	const char *reason = NULL;
	char status[GH_STORE_STATE_LEN];
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
	if ((rc = gh_store_grant_status(status, NULL, g->store, id)))
		goto cleanup;
	if (!status[0])
		rc = gh_error_set(GH_ENOTFOUND, "grant %s not found", id);
	else if (strcmp(status, "active") != 0 && strcmp(status, "provisioning") != 0)
		rc = gh_error_set(GH_ECONFLICT, "grant %s is %s; only an active or provisioning"
				  " grant can be revoked", id, status);
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
