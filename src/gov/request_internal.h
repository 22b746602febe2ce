/* request_internal.h - what the files of the request workflow share
 * (request.c, intake.c, approval.c, provision.c, breakglass.c) and nobody
 * else sees. */
#ifndef GH_GOV_REQUEST_INTERNAL_H
#define GH_GOV_REQUEST_INTERNAL_H

#include "gov/gov_internal.h"
#include "store/requests.h"

_Static_assert(GH_STORE_REQ_ID_LEN == GH_ID_LEN, "store and domain ids have one length");

/* What approving, rejecting, reviewing and cancelling need about a request:
 * its row, whose max_duration the decision's cap has lowered. */
typedef struct req_info {
	gh_store_request_brief row;    /* row.decision is not kept (NULL) */
	json_t *approver_groups;       /* group ids from the decision; owned, may be NULL */
} req_info;

/* (request.c) Loads request id, applying its decision's cap and approver
 * groups. GH_ENOTFOUND "request <id> not found". Clear with
 * gov_req_info_clear (also after a failed load). */
int gov_req_info_load(req_info *out, gh_gov *g, const char *id);
void gov_req_info_clear(req_info *r);

/* (approval.c) The invariants no policy can switch off (DESIGN.md 1 and 2),
 * for whoever decides about r: an approver, or the reviewer of a
 * break-glass grant. Each failed one refuses with GH_EDENIED naming it; the
 * passed ones are appended to checks. */
int gov_check_decider(gh_gov *g, const gh_actor *actor, const req_info *r, json_t *checks);

/* (provision.c) gov_provision; review_due > 0 makes a break-glass grant
 * whose review is due then (and the scheduler wakes for it). */
int gov_provision_reviewed(gh_gov *g, const char *actor_id, const char *request_id,
			   const char *subject, const char *ent, int64_t duration,
			   int64_t max_duration, int64_t now, int64_t review_due);

#endif
