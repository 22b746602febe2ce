/* simulate.h - what a policy simulation re-decides (the store's typed
 * operations behind gov/simulate.c): every pending request, and every active
 * grant with the request it came from, each with the facts submit decided
 * it on. Both run inside the caller's transaction or read section. */
#ifndef GH_STORE_SIMULATE_H
#define GH_STORE_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "store/lifecycle.h"
#include "store/store.h"

/* A pending request, or an active grant with the request it came from.
 * Absent text is "". */
typedef struct gh_store_sim_item {
	char id[GH_STORE_ID_LEN];           /* the request's, or the grant's */
	char request[GH_STORE_ID_LEN];
	char subject[GH_STORE_ID_LEN];
	char ent[GH_STORE_ID_LEN];
	char requester[GH_STORE_ID_LEN];
	char submitted_by[GH_STORE_ID_LEN];
	char channel[16];
	char ticket[72];
	int has_ticket;                     /* ticket_ref is set */
	int emergency;
	int required;                       /* pending: the approvals it requires now */
	int approvals;                      /* pending: the approvals recorded */
	int64_t duration;
	int64_t expires_at;                 /* grants */
} gh_store_sim_item;

/* Every request pending approval, in pk order, into the new array *out of
 * *n items (the caller frees it with free(); NULL when none). */
int gh_store_sim_pending(gh_store_sim_item **out, size_t *n, gh_store *s);
/* Every active grant with its request's facts, in pk order, as above
 * (required and approvals 0). */
int gh_store_sim_grants(gh_store_sim_item **out, size_t *n, gh_store *s);

#endif
