/* provision.h - what provisioning a request into a grant reads and writes
 * (the store's typed operations, for gov/provision.c): the system and
 * connector of the entitlement, the grant created, and the grant an
 * extension supersedes. Grant rows otherwise belong to store/grants.h; state
 * changes go through store/lifecycle.h. Every function runs inside the
 * caller's transaction. Times are unix seconds. */
#ifndef GH_STORE_PROVISION_H
#define GH_STORE_PROVISION_H

#include <stdint.h>

#include "store/store.h"

#define GH_STORE_GRANT_ID_LEN 64   /* an id with its NUL (the domain's GH_ID_LEN) */
#define GH_STORE_CONNECTOR_LEN 32  /* a connector's kind with its NUL */

/* The system entitlement_id belongs to into system_id and that system's
 * connector into connector. GH_ENOTFOUND "entitlement <id> not found". */
int gh_store_entitlement_connector(char system_id[GH_STORE_GRANT_ID_LEN],
				   char connector[GH_STORE_CONNECTOR_LEN], gh_store *s,
				   const char *entitlement_id);

/* The grant request_id extends (its extends_grant_id) into out when that
 * grant is still active; "" otherwise. */
int gh_store_grant_extended_by(char out[GH_STORE_GRANT_ID_LEN], gh_store *s,
			       const char *request_id);

/* A new grant of a request. */
typedef struct gh_store_grant_new {
	const char *id, *subject_id, *entitlement_id, *request_id;
	const char *status;        /* "active" or "provisioning" */
	const char *provisioning;  /* provisioning_status: "done" or "pending" */
	int64_t granted_at, expires_at;
	int64_t review_due_at;     /* > 0: a break-glass grant whose review
				    * ('pending') is due then; 0: neither */
} gh_store_grant_new;

int gh_store_grant_insert(gh_store *s, const gh_store_grant_new *g);

#endif
