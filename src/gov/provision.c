/* provision.c - an approved request becomes a grant: the grant created
 * (active, or provisioning through the outbox for a connected system), the
 * request moved on, and the grant an extension supersedes ended. */
#include "gov/request_internal.h"
#include "store/provision.h"

#include <string.h>

_Static_assert(GH_STORE_GRANT_ID_LEN == GH_ID_LEN, "store and domain ids have one length");

/* An extension request, once granted, ends the grant it extends: the new
 * grant starts now and runs for the newly decided duration. A grant that
 * ended meanwhile needs nothing. */
static int supersede(gh_gov *g, const char *actor_id, const char *request_id,
		     const char *new_grant, int connected)
{
	char old[GH_ID_LEN] = "", reason[128];
	int rc;

	if ((rc = gh_store_grant_extended_by(old, g->store, request_id)))
		return rc;
	if (!*old)
		return 0;
	snprintf(reason, sizeof(reason), "superseded by %s (extension, request %s)", new_grant,
		 request_id);
	/* a connected system keeps the access: the new grant's job grants the
	 * same again, so removing it for the old one would race that */
	return gov_grant_end_ex(g, actor_id, old, "revoked", reason, !connected);
}

/* approved -> provisioning -> active: creates the grant (expiring after
 * min(requested, maximum)) and moves the request, auditing each step. The
 * request row must exist in state approved; the caller has audited
 * request.approved. A break-glass grant (review_due > 0) waits for its review
 * until review_due.
 * For a connected system the grant and the request stay 'provisioning' and
 * a grant job is written: the worker makes them active. */
int gov_provision_reviewed(gh_gov *g, const char *actor_id, const char *request_id,
			   const char *subject, const char *ent, int64_t duration,
			   int64_t max_duration, int64_t now, int64_t review_due)
{
	char grant_id[GH_ID_LEN], when[40], due[40], sys[GH_ID_LEN], kind[32];
	int64_t expires = now + (duration < max_duration ? duration : max_duration);
	int rc, connected;

	gh_id_new(grant_id, sizeof(grant_id), "grt");
	if ((rc = gh_store_entitlement_connector(sys, kind, g->store, ent)))
		return rc;
	connected = gov_connector_connected(kind);
	if ((rc = gov_audit_take(g, actor_id, "request.provisioning", "request", request_id,
				 json_pack("{s:s}", "connector", kind))))
		return rc;
	if ((rc = supersede(g, actor_id, request_id, grant_id, connected)))
		return rc;
	if ((rc = gov_grant_check_new(connected ? "provisioning" : "active")) ||
	    (rc = gh_store_grant_insert(g->store, &(gh_store_grant_new){
			.id = grant_id, .subject_id = subject, .entitlement_id = ent,
			.request_id = request_id, .status = connected ? "provisioning" : "active",
			.provisioning = connected ? "pending" : "done", .granted_at = now,
			.expires_at = expires, .review_due_at = review_due > 0 ? review_due : 0})))
		return rc;
	gh_time_format(when, sizeof(when), expires);
	gh_time_format(due, sizeof(due), review_due);
	if ((rc = gov_audit_take(g, actor_id, "grant.created", "grant", grant_id,
				 json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s*, s:s}",
					   "request", request_id, "subject", subject,
					   "entitlement", ent, "expires_at", when,
					   "duration_seconds", (json_int_t)(expires - now),
					   "break_glass", review_due > 0,
					   "review_due_at", review_due > 0 ? due : NULL,
					   "status", connected ? "provisioning" : "active"))))
		return rc;
	if (connected && (rc = gov_outbox_grant_job(g, actor_id, grant_id, sys, now)))
		return rc;
	if ((rc = gov_request_move(g, request_id, "approved", connected ? "provisioning" : "active",
				   &(gov_request_change){.now = now, .grant_id = grant_id})))
		return rc;
	gov_sched_poke(g, review_due > 0 && review_due < expires ? review_due : expires);
	if (connected)
		return 0;
	return gov_audit_take(g, actor_id, "request.active", "request", request_id,
			      json_pack("{s:s, s:s}", "grant", grant_id, "expires_at", when));
}

int gov_provision(gh_gov *g, const char *actor_id, const char *request_id, const char *subject,
		  const char *ent, int64_t duration, int64_t max_duration, int64_t now)
{
	return gov_provision_reviewed(g, actor_id, request_id, subject, ent, duration, max_duration,
				      now, 0);
}
