/* request.c - reading and cancelling requests: loading one (also as the
 * approval files need it), who may see it, get, list, history, cancel.
 * Submitting is intake.c's, deciding approval.c's, granting provision.c's. */
#include "gov/request_internal.h"
#include "store/events.h"
#include "store/requests.h"

#include <string.h>

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

/* A reader who holds no role but requester sees only what concerns them. */
static int reads_own_only(const gh_actor *actor)
{
	return (actor->roles & ~(unsigned)GH_ROLE_REQUESTER) == 0;
}

void gov_req_info_clear(req_info *r)
{
	json_decref(r->approver_groups);
	r->approver_groups = NULL;
}

/* A decider's cap on the grant (decision_json) lowers the catalog's maximum;
 * its approver groups (resolved ids) bind every approver. */
static void decision_cap(req_info *out, const json_t *d)
{
	json_t *cap = json_object_get(d, "max_duration_seconds");
	json_t *groups = json_object_get(d, "approver_groups");

	if (json_is_integer(cap) && json_integer_value(cap) > 0 &&
	    json_integer_value(cap) < out->row.max_duration)
		out->row.max_duration = json_integer_value(cap);
	if (json_is_array(groups) && json_array_size(groups) > 0)
		out->approver_groups = json_incref(groups);
}

int gov_req_info_load(req_info *out, gh_gov *g, const char *id)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gh_store_request_brief_get(&out->row, g->store, id)))
		return rc;
	decision_cap(out, out->row.decision);
	json_decref(out->row.decision);
	out->row.decision = NULL;
	return 0;
}

int gov_request_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_store_request_get(out, g->store, id);
}

/* 1 when the request concerns who (submitter, requester, subject or the
 * subject's owner), 0 when not (also for an unknown request). */
static int request_concerns(gh_gov *g, const char *request_id, const char *who)
{
	return gh_store_request_concerns(g->store, request_id, who);
}

/* --- cancel, read, history ------------------------------------------------- */

int gh_gov_request_cancel(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *body)
{
	static const char *const allowed[] = {"reason", NULL};
	const char *reason = NULL;
	req_info r = {0};
	int64_t now = gh_now();
	int rc;

	*out = NULL;
	gh_error_clear();
	if (gh_jv_object(body, allowed) >= 0)
		gh_jv_string(body, "reason", 1, 1000, &reason);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gov_req_info_load(&r, g, id)))
		goto cleanup;
	if (reads_own_only(actor) && (rc = request_concerns(g, id, actor->id)) <= 0) {
		if (rc == 0)
			rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
		goto cleanup;
	}
	if (strcmp(actor->id, r.row.submitted_by) != 0 &&
	    strcmp(actor->id, r.row.requester) != 0 &&
	    !(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM))) {
		rc = gh_error_set(GH_EFORBIDDEN, "only the submitter, the requester, admin or iam "
				  "may cancel a request");
		goto cleanup;
	}
	if (strcmp(r.row.state, "pending_approval") != 0 && strcmp(r.row.state, "submitted") != 0) {
		rc = gh_error_set(GH_ECONFLICT, "request %s is %s; only a pending request can be "
				  "cancelled", id, r.row.state);
		goto cleanup;
	}
	if ((rc = gov_request_move(g, id, r.row.state, "cancelled",
				   &(gov_request_change){.now = now, .reason = reason})))
		goto cleanup;
	if ((rc = gov_audit_take(g, actor->id, "request.cancelled", "request", id,
				 json_pack("{s:s, s:s}", "reason", reason, "from", r.row.state))))
		goto cleanup;
	rc = gov_request_load(out, g, id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	gov_req_info_clear(&r);
	return rc;
}

/* GH_ENOTFOUND for a request a requester-only reader may not see. */
int gov_request_visible(gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	if (!reads_own_only(actor))
		return 0;
	if ((rc = request_concerns(g, id, actor->id)) < 0)
		return rc;
	return rc ? 0 : gh_error_set(GH_ENOTFOUND, "request %s not found", id);
}

int gh_gov_request_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	if (!(rc = gov_request_visible(g, actor, id)))
		rc = gov_request_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_request_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			const char *state, const char *subject, const char *entitlement)
{
	gov_list_query q = {.table = "requests", .enum_field = "state", .enum_values = gov_request_states,
			    .enum_value = state, .subject = subject, .entitlement = entitlement};
	gh_store_request_filter f;
	json_t *items = NULL;
	const char *last = NULL;
	int rc, more;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if ((rc = gov_list_filter(g, &q, page)))
		goto cleanup;
	f = (gh_store_request_filter){.state = q.enum_value,
				      .subject_id = q.subject_id[0] ? q.subject_id : NULL,
				      .entitlement_id = q.ent_id[0] ? q.ent_id : NULL,
				      .concerns = reads_own_only(actor) ? actor->id : NULL};
	if ((rc = gh_store_request_page(&items, &more, g->store, &f, q.after_pk, q.limit)))
		goto cleanup;
	if (more)
		last = json_string_value(json_object_get(json_array_get(items, q.limit - 1), "id"));
	*out = json_pack("{s:O, s:o}", "items", items, "next",
			 last ? json_string(last) : json_null());
	rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory listing requests");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}

int gh_gov_request_history(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	char grant_id[GH_ID_LEN] = "";
	json_t *items = NULL;
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	if ((rc = gov_request_visible(g, actor, id)) ||
	    (rc = gh_store_request_grant_of(grant_id, g->store, id)))
		goto cleanup;
	if ((rc = gh_store_events_about(&items, g->store, id, *grant_id ? grant_id : NULL)))
		goto cleanup;
	*out = json_pack("{s:O}", "items", items);
	rc = *out ? 0 : nomem("reading history");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}
