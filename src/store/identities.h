/* identities.h - typed operations on identities (humans and NHIs), for the
 * domain's identity lifecycle (gov/identity.c) and the first admin
 * (gov/tokens.c). Every function runs inside the caller's transaction or read
 * section; JSON coming back through **out is the caller's. Times are unix
 * seconds. */
#ifndef GH_STORE_IDENTITIES_H
#define GH_STORE_IDENTITIES_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* An identity as the API shows it: {"id","kind","name","display_name","email",
 * "status","owner","purpose","environment","expires_at","roles" (array),
 * "attributes" (object),"created_at","updated_at","status_reason",
 * "orphaned_at"}: times RFC 3339 or null, absent text null. */

/* What the domain's checks read of one identity. */
typedef struct gh_store_identity_brief {
	char name[128];
	char kind[32];
	char status[32];
	char status_reason[48];    /* "" when none */
	int has_expires;           /* expires_at is set */
	int64_t expires_at;        /* 0 when not set */
} gh_store_identity_brief;

/* The identity id in API shape. GH_ENOTFOUND "identity <id> not found". */
int gh_store_identity_get(json_t **out, gh_store *s, const char *id);
/* The brief of identity id. GH_ENOTFOUND "identity <id> not found". */
int gh_store_identity_brief_get(gh_store_identity_brief *out, gh_store *s, const char *id);
/* 1 when an identity is named name, 0 when not, <0 on error. */
int gh_store_identity_name_taken(gh_store *s, const char *name);
/* How many identities there are. */
int gh_store_identity_count(int64_t *out, gh_store *s);
/* How many identities other than id hold the admin role and can sign in at
 * now: active and not expired. */
int gh_store_identity_count_admins(int64_t *out, gh_store *s, const char *except_id,
				   int64_t now);
/* How many systems identity id owns. */
int gh_store_identity_systems_owned(int64_t *out, gh_store *s, const char *id);

/* Up to limit identities after the row with pk after_pk, oldest first, in API
 * shape into the new array *items; each filter NULL (orphaned -1) for any:
 * kind, status, owner (an id), orphaned 1 (orphaned_at set) or 0 (not). */
int gh_store_identity_list(json_t **items, gh_store *s, int64_t after_pk, int limit,
			   const char *kind, const char *status, const char *owner,
			   int orphaned);
/* The ids (new array of strings, oldest first) of the identities owner_id
 * owns: orphaned 0, the NHIs still in use (not decommissioned) that are not
 * orphaned; orphaned 1, those whose orphaned_at is set. */
int gh_store_identity_owned(json_t **ids, gh_store *s, const char *owner_id, int orphaned);
/* The ids (new array of strings, oldest first) of identity id's grants that
 * are active or provisioning. */
int gh_store_identity_live_grants(json_t **ids, gh_store *s, const char *id);
/* The ids (new array of strings, oldest first) of the requests pending
 * approval that name identity id as subject or requester. */
int gh_store_identity_open_requests(json_t **ids, gh_store *s, const char *id);

/* Inserts row: {"id","kind","name","display_name"?,"email"?,"owner"?,
 * "purpose"?,"environment"?,"expires_at"? (unix seconds),"roles" (array),
 * "attributes" (object),"created_at" (unix seconds, also updated_at)};
 * status 'active'. Absent or null optional fields are stored as NULL. */
int gh_store_identity_insert(gh_store *s, const json_t *row);
/* Sets what an update may change from row: {"display_name","email","purpose",
 * "expires_at" (unix seconds),"owner","roles" (array),"attributes" (object),
 * "updated_at" (unix seconds)}; absent or null text and expires_at become NULL. */
int gh_store_identity_update(gh_store *s, const char *id, const json_t *row);
/* status becomes status, status_reason NULL, updated_at at. */
int gh_store_identity_set_status(gh_store *s, const char *id, const char *status, int64_t at);
/* orphaned_at becomes at (0: NULL); updated_at stays. */
int gh_store_identity_set_orphaned(gh_store *s, const char *id, int64_t at);
/* expires_at becomes expires_at, updated_at at; with reactivate, status
 * 'active' and status_reason NULL too. */
int gh_store_identity_renew(gh_store *s, const char *id, int64_t expires_at, int64_t at,
			    int reactivate);
/* Suspends id with status_reason why (updated_at at) when it is an active
 * NHI: 1 and its owner (into owner, "" when none), expires_at and orphaned_at
 * (0 when not set); 0 when it is not (nothing changed); <0 on error. */
int gh_store_identity_suspend_nhi(gh_store *s, const char *id, const char *why, int64_t at,
				  char *owner, size_t ownerlen, int64_t *expires_at,
				  int64_t *orphaned_at);

#endif
