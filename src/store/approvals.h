/* approvals.h - the approvals recorded on a request (the store's typed
 * operations): one row per approver's decision, numbered by step
 * (gov/approval.c holds the checks). Every function runs inside the caller's
 * transaction or read section; JSON coming back through **out is the
 * caller's. Times are unix seconds. */
#ifndef GH_STORE_APPROVALS_H
#define GH_STORE_APPROVALS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* An approval as the API shows it (inside its request): {"approver",
 * "decision","comment" (or null),"step","at" (RFC 3339),"checks" (array),
 * "policy" (the approve decision's record, or null)}. */

/* The approvals of request_id in step order into the new array *items. */
int gh_store_approval_list(json_t **items, gh_store *s, const char *request_id);
/* How many approvals request_id has into *count, and how many of them
 * approver_id gave into *by_approver. */
int gh_store_approval_tally(int *count, int *by_approver, gh_store *s, const char *request_id,
			    const char *approver_id);

/* A new approval's row; comment and policy may be NULL. */
typedef struct gh_store_approval_new {
	const char *id, *request_id, *approver_id;
	const char *decision;      /* "approve" or "reject" */
	const char *comment;
	int step;
	const char *checks;        /* canonical JSON array */
	int64_t created_at;
	const char *policy;        /* canonical JSON, or NULL */
} gh_store_approval_new;

int gh_store_approval_insert(gh_store *s, const gh_store_approval_new *a);

#endif
