/* grants.h - reading grants (the store's typed operations behind gov/grant.c
 * and the scheduler's break-glass reviews). Status changes are the grant
 * state machine's (store/lifecycle.h). Every function runs inside the
 * caller's transaction or read section; JSON coming back through **out is
 * the caller's. Times given are unix seconds. */
#ifndef GH_STORE_GRANTS_H
#define GH_STORE_GRANTS_H

#include <jansson.h>
#include <stdint.h>

#include "store/lifecycle.h"
#include "store/store.h"

/* A grant as the API shows it: {"id","subject","entitlement","request",
 * "status","granted_at","expires_at","revoked_at","revoked_by","revoke_reason",
 * "provisioning_status","receipt" (text),"break_glass","provisioning"}: times
 * RFC 3339 or null, absent text null. "break_glass" is null for a normal grant,
 * else {"incident_ref","review_due_at","review_state","reviewed_by",
 * "reviewed_at","comment"}; "provisioning" is {"status","attempts" (of its
 * latest job, 0 when none),"last_error","receipt" (object, or null)}. */

/* Grant id in API shape. GH_ENOTFOUND "grant <id> not found". */
int gh_store_grant_get(json_t **out, gh_store *s, const char *id);

/* 1 when grant grant_id concerns identity who (its subject, the subject's
 * owner, or the requester or submitter of its request), 0 when not (or no
 * such grant), <0 on error. */
int gh_store_grant_concerns(gh_store *s, const char *grant_id, const char *who);

/* Filters of a page of grants: NULL for any. */
typedef struct gh_store_grant_filter {
	const char *status;
	const char *subject_id;
	const char *entitlement_id;
	const char *review_state;
	const char *own_only;      /* only grants concerning this identity
				    * (as gh_store_grant_concerns) */
} gh_store_grant_filter;

/* Up to limit grants matching f with pk above after_pk, in pk order, in API
 * shape; *items is a new array. */
int gh_store_grant_list(json_t **items, gh_store *s, const gh_store_grant_filter *f,
			int64_t after_pk, int limit);

/* A break-glass review missed: review_state 'pending' -> 'missed' with
 * reviewed_at = now. 1 and the grant's status into status when it was
 * pending; 0 (status "") when its review is no longer pending (another
 * writer got there first). */
int gh_store_grant_review_miss(char status[GH_STORE_STATE_LEN], gh_store *s, const char *id,
			       int64_t now);

#endif
