/* lifecycle.h - the store's side of the request and grant state machines: each
 * state change written as a compare-and-set (typed operations).
 *
 * gov/lifecycle.c holds the tables of allowed transitions and is the only
 * caller of the moves below. Every move changes the row only while it is still
 * in state from (UPDATE ... WHERE id = ? AND state = from), so a move that lost
 * to another writer (another thread or another node) changes nothing and
 * returns GH_ECONFLICT naming both states. All run inside the caller's
 * transaction (reads: or read section); none opens its own. */
#ifndef GH_STORE_LIFECYCLE_H
#define GH_STORE_LIFECYCLE_H

#include <stdint.h>

#include "store/store.h"

#define GH_STORE_STATE_LEN 24      /* a state or status with its NUL */
#define GH_STORE_ID_LEN 64         /* an id with its NUL (the domain's GH_ID_LEN) */

/* --- requests (requests.state) --------------------------------------------- */

/* The request's state into out; "" when there is no request id. */
int gh_store_request_state(char out[GH_STORE_STATE_LEN], gh_store *s, const char *id);

/* from -> to, closing the request: close_reason = reason (may be NULL),
 * closed_at = updated_at = now. */
int gh_store_request_close(gh_store *s, const char *id, const char *from, const char *to,
			   const char *reason, int64_t now);
/* from -> to, still open: updated_at = now, and grant_id = grant_id unless
 * grant_id is NULL (then the row keeps its own). */
int gh_store_request_advance(gh_store *s, const char *id, const char *from, const char *to,
			     const char *grant_id, int64_t now);
/* from -> to with a new decision (JSON text) and required_approvals;
 * updated_at = now. close_reason NULL leaves the request open as it is;
 * otherwise the request closes with it (closed_at = now). */
int gh_store_request_redecide(gh_store *s, const char *id, const char *from, const char *to,
			      const char *decision, int required_approvals,
			      const char *close_reason, int64_t now);
/* from -> to, open again: close_reason and closed_at cleared, updated_at = now. */
int gh_store_request_reopen(gh_store *s, const char *id, const char *from, const char *to,
			    int64_t now);

/* --- grants (grants.status) ------------------------------------------------ */

/* The grant's status into out and, when request_state is not NULL, its
 * request's state into that (one read); "" when there is no grant id. */
int gh_store_grant_status(char out[GH_STORE_STATE_LEN], char *request_state, gh_store *s,
			  const char *id);

/* What an ended grant was about, from the row the move changed. */
typedef struct gh_store_grant_ended {
	char request_id[GH_STORE_ID_LEN];
	char subject_id[GH_STORE_ID_LEN];
	char entitlement_id[GH_STORE_ID_LEN];
} gh_store_grant_ended;

/* from -> to, ending the grant: revoked_at = now, revoked_by = by,
 * revoke_reason = reason; *out (may be NULL) says whose grant it was. */
int gh_store_grant_end(gh_store_grant_ended *out, gh_store *s, const char *id, const char *from,
		       const char *to, const char *by, const char *reason, int64_t now);
/* from -> to once the system confirmed it: provisioning_status 'done' and
 * receipt = receipt (JSON text; NULL stores NULL). */
int gh_store_grant_provisioned(gh_store *s, const char *id, const char *from, const char *to,
			       const char *receipt);
/* from -> to with provisioning_status = provisioning (e.g. 'failed',
 * 'pending'); the receipt stays. */
int gh_store_grant_set_status(gh_store *s, const char *id, const char *from, const char *to,
			      const char *provisioning);

#endif
