/* breakglass.h - the review of a break-glass grant (the store's typed
 * operations, for gov/breakglass.c): what the review reads of the grant and
 * the outcome it records. Grant rows otherwise belong to store/grants.h.
 * Every function runs inside the caller's transaction. Times are unix
 * seconds. */
#ifndef GH_STORE_BREAKGLASS_H
#define GH_STORE_BREAKGLASS_H

#include <stdint.h>

#include "store/store.h"

/* What reviewing a grant reads of it. */
typedef struct gh_store_grant_review {
	char request_id[64];       /* its request */
	int break_glass;           /* 1 for a break-glass grant */
	char review_state[16];     /* "pending", "confirmed", ...; "" when none */
	int live;                  /* status is active or provisioning */
} gh_store_grant_review;

/* The review side of grant id. GH_ENOTFOUND "grant <id> not found". */
int gh_store_grant_review_get(gh_store_grant_review *out, gh_store *s, const char *id);
/* Records the review of grant id while it is pending: review_state =
 * outcome ("confirmed" or "revoked"), reviewed_by = by, reviewed_at = at,
 * review_comment = comment. A review no longer pending changes nothing. */
int gh_store_grant_review_set(gh_store *s, const char *id, const char *outcome, const char *by,
			      int64_t at, const char *comment);

#endif
