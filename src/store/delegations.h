/* delegations.h - delegated approval (the store's typed operations): a group
 * lends approval over a system or a tag to another group until an expiry
 * (gov/delegation.c holds the rules). Every function runs inside the
 * caller's transaction or read section; JSON coming back through **out is
 * the caller's. Times given are unix seconds. */
#ifndef GH_STORE_DELEGATIONS_H
#define GH_STORE_DELEGATIONS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* A delegation as the API shows it, its status as of now: {"id",
 * "from_group": {"id","name"},"to_group": {"id","name"},"scope":
 * {"type":"system","id","name"} or {"type":"tag","tag"},"reason",
 * "expires_at","status": "active"|"expired"|"revoked","created_by",
 * "created_at","revoked_at","revoked_by","revoke_reason"} (times RFC 3339,
 * the revocation's fields null until revoked). */

/* The delegation id, or *out NULL (and 0) when there is none. */
int gh_store_delegation_get(json_t **out, gh_store *s, const char *id, int64_t now);
/* Up to limit delegations after the one with pk after, in pk order, only
 * those from from_group, to to_group and with status (each NULL: any);
 * *items is a new array. */
int gh_store_delegation_page(json_t **items, gh_store *s, const char *from_group,
			     const char *to_group, const char *status, int64_t after, int limit,
			     int64_t now);
/* What revoking needs to know of id: *out {"from_group" (id),"revoked"
 * (bool),"expires_at" (unix seconds)}, or NULL (and 0) when there is none. */
int gh_store_delegation_state(json_t **out, gh_store *s, const char *id);

/* d: {"id","from_group","to_group" (ids),"scope_type": "system"|"tag",
 * "scope" (system id or tag),"reason","expires_at","created_by",
 * "created_at" (unix seconds)}. */
int gh_store_delegation_insert(gh_store *s, const json_t *d);
/* Records id revoked at now by revoked_by for reason. */
int gh_store_delegation_revoke(gh_store *s, const char *id, int64_t now, const char *revoked_by,
			       const char *reason);

/* The delegations live at now (not revoked, not expired) from ent_id's
 * control-owner group whose scope covers ent_id (its system, or one of its
 * tags), oldest first, at most max: *out [{"id","to_group"}]. */
int gh_store_delegations_covering(json_t **out, gh_store *s, const char *ent_id, int64_t now,
				  int max);

#endif
