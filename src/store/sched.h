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

/* A grant due to expire with what ending it reads first: its status and its
 * request's state ("" when it has no request row). */
typedef struct gh_store_due_grant {
	char id[GH_STORE_ID_LEN];
	char status[GH_STORE_STATE_LEN];
	char request_state[GH_STORE_STATE_LEN];
} gh_store_due_grant;

/* As gh_store_sched_due(GH_STORE_DUE_GRANT_EXPIRY) into out[0..*n), each with
 * its status and request state read by the same statement (in the caller's
 * transaction, so as current as a read per grant would be): the scheduler's
 * batch of expiries then needs no further read per grant before its moves. */
int gh_store_sched_due_grants(gh_store_due_grant *out, int *n, gh_store *s, int64_t at,
			      int limit);

/* The earliest time anything above falls due into *out (an orphan: its
 * orphaned_at + orphan_grace), INT64_MAX when nothing waits. */
int gh_store_sched_next_due(int64_t *out, gh_store *s, int64_t orphan_grace);

#endif
