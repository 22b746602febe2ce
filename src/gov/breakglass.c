/* breakglass.c - the review of a break-glass grant: granted at once for a
 * short time, it is confirmed or revoked afterwards by someone who may
 * decide about its request (sched.c marks a review that missed its due time). */
#include "gov/request_internal.h"
#include "store/breakglass.h"

#include <string.h>

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

/* The grant's request and review state; GH_ENOTFOUND, or GH_ECONFLICT unless
 * it is a break-glass grant whose review is pending. */
static int review_target(gh_gov *g, const char *grant_id, char request_id[GH_ID_LEN],
			 int *active)
{
	gh_store_grant_review rv;
	int rc;

	if ((rc = gh_store_grant_review_get(&rv, g->store, grant_id)))
		return rc;
	snprintf(request_id, GH_ID_LEN, "%s", rv.request_id);
	*active = rv.live;
	if (!rv.break_glass)
		return gh_error_set(GH_ECONFLICT, "grant %s is not a break-glass grant; only those "
				    "are reviewed", grant_id);
	if (strcmp(rv.review_state, "pending") != 0)
		return gh_error_set(GH_ECONFLICT, "the review of grant %s is %s; only a pending "
				    "review can be decided", grant_id, rv.review_state);
	return 0;
}

int gh_gov_grant_review(json_t **out, gh_gov *g, const gh_actor *actor, const char *grant_id,
			const json_t *body)
{
	static const char *const allowed[] = {"outcome", "comment", NULL};
	const char *outcome = NULL, *comment = NULL;
	char request_id[GH_ID_LEN], reason[2100];
	req_info r = {0};
	json_t *checks = NULL;
	int64_t now = gh_now();
	int rc, active = 0, revoke;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER,
				   "reviewing a break-glass grant")))
		return rc;
	if (gh_jv_object(body, allowed) >= 0 || json_is_object(body)) {
		gh_jv_enum(body, "outcome", 1, gov_review_outcomes, &outcome);
		gh_jv_string(body, "comment", 1, 2000, &comment);
	}
	if ((rc = gh_error_fields_finish()))
		return rc;
	revoke = strcmp(outcome, "revoke") == 0;
	if (!(checks = json_array()))
		return nomem("reviewing a grant");
	if ((rc = gh_store_begin(g->store))) {
		json_decref(checks);
		return rc;
	}
	if ((rc = review_target(g, grant_id, request_id, &active)) ||
	    (rc = gov_req_info_load(&r, g, request_id)) ||
	    (rc = gov_check_decider(g, actor, &r, checks)))
		goto cleanup;
	if ((rc = gh_store_grant_review_set(g->store, grant_id, revoke ? "revoked" : "confirmed",
					    actor->id, now, comment)))
		goto cleanup;
	if ((rc = gov_audit_take(g, actor->id, "grant.reviewed", "grant", grant_id,
				 json_pack("{s:s, s:s, s:s, s:O}", "outcome", outcome,
					   "comment", comment, "request", request_id,
					   "checks", checks))))
		goto cleanup;
	if (revoke && active) {
		snprintf(reason, sizeof(reason), "break-glass review: %s", comment);
		if ((rc = gov_grant_end(g, actor->id, grant_id, "revoked", reason)))
			goto cleanup;
	}
	rc = gov_grant_load(out, g, grant_id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(checks);
	gov_req_info_clear(&r);
	return rc;
}
