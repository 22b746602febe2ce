/* sched.h - what the scheduler finds due (the store's typed operations behind
 * gov/sched.c): grants past their expiry, requests past their SLA, break-glass
 * reviews past their due time, NHIs past their expiry or orphaned too long.
 * What is done with each stays in the domain. Both functions run inside the
 * caller's transaction (the due read: the write that ends what it found) or
 * read section (the next due time). Times are unix seconds. */
#ifndef GH_STORE_SCHED_H
#define GH_STORE_SCHED_H

#include <stdint.h>

#include "store/lifecycle.h"
#include "store/store.h"

/* What falls due; each is read through the partial index that holds exactly
 * its candidates, earliest first. */
typedef enum gh_store_due {
	GH_STORE_DUE_GRANT_EXPIRY = 0,  /* grants active or provisioning, expires_at <= at */
	GH_STORE_DUE_REQUEST_SLA,       /* requests pending approval, sla_due_at <= at */
	GH_STORE_DUE_REVIEW,            /* grants whose break-glass review is pending,
					 * review_due_at <= at */
	GH_STORE_DUE_NHI_EXPIRY,        /* active NHIs (kind not human), expires_at <= at */
	GH_STORE_DUE_ORPHAN             /* active NHIs orphaned at or before at */
} gh_store_due;

/* The ids of up to limit rows of kind what due at at, earliest first, into
 * ids[0..*n). The rows are the caller's to change within its transaction:
 * a backend shared by several nodes claims them (skipping rows another
 * transaction holds), so two nodes never end the same row. */
int gh_store_sched_due(char (*ids)[GH_STORE_ID_LEN], int *n, gh_store *s, gh_store_due what,
		       int64_t at, int limit);

/* The earliest time anything above falls due into *out (an orphan: its
 * orphaned_at + orphan_grace), INT64_MAX when nothing waits. */
int gh_store_sched_next_due(int64_t *out, gh_store *s, int64_t orphan_grace);

#endif
