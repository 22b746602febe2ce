/* credentials.h - NHI credentials (API keys, the credentials table) and the
 * facts about their grants and identities that issuing, rotating, revoking
 * and introspecting them read (gov/credentials.c).
 *
 * Every function runs inside the caller's transaction or read section. JSON
 * coming back through **out is the caller's. Times passed in and the
 * integers of fact records are unix seconds. A secret is never compared
 * here: the stored hash comes back for the domain to compare. */
#ifndef GH_STORE_CREDENTIALS_H
#define GH_STORE_CREDENTIALS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* A credential as the API shows it: {"id","identity","grant","entitlement",
 * "system","created_by","created_at","expires_at","valid_until","revoked_at",
 * "revoked_by","revoke_reason","last_used_at","rotated_from","rotated_to",
 * "status"} (times RFC 3339 or null). "status" is its own state at now:
 * "revoked"; "expired" when its expiry or the end of its rotation overlap
 * (valid_until) is at or before now; "expiring" when rotated; else "active". */

/* One credential; *out NULL (and 0) when there is none. */
int gh_store_credential_get(json_t **out, gh_store *s, const char *id, int64_t now);

/* Up to limit credentials after the row whose pk is after_pk, oldest first,
 * into a new array *out. Filters (NULL: any): identity_id, grant_id, status
 * (as above, at now), owner_id (only credentials of identities that owner
 * owns). */
int gh_store_credential_list(json_t **out, gh_store *s, int64_t after_pk,
			     const char *identity_id, const char *grant_id, const char *status,
			     const char *owner_id, int limit, int64_t now);

/* What issuing needs about a grant, its subject and its system:
 * {"status","expires_at","subject","entitlement","subject_kind",
 * "subject_status","subject_expires_at" (null when none),"owner" (the
 * subject's owner, or null),"connector" (its system's)}; *out NULL when there
 * is no such grant. */
int gh_store_credential_grant(json_t **out, gh_store *s, const char *grant_id);

/* What rotating and revoking need about a credential: {"grant","owner" (its
 * identity's owner, or null),"created_at","expires_at","valid_until" (null
 * when not rotated),"revoked_at" (null when not revoked),"rotated_to" (or
 * null)}; *out NULL when there is none. */
int gh_store_credential_facts(json_t **out, gh_store *s, const char *id);

/* Inserts a credential: hash is SHA-256 of its secret (hash_len bytes),
 * rotated_from NULL unless it replaces that credential. */
int gh_store_credential_insert(gh_store *s, const char *id, const char *grant_id,
			       const char *identity_id, const char *entitlement_id,
			       const unsigned char *hash, size_t hash_len, const char *created_by,
			       int64_t created_at, int64_t expires_at, const char *rotated_from);

/* Sets valid_until and rotated_to of credential id when it is neither revoked
 * nor already rotated (otherwise nothing changes). */
int gh_store_credential_rotate(gh_store *s, const char *id, int64_t valid_until,
			       const char *rotated_to);

/* Marks credential id revoked at at by by, for reason, unless it already is. */
int gh_store_credential_revoke(gh_store *s, const char *id, int64_t at, const char *by,
			       const char *reason);

/* The credentials not revoked of identity_id, or (identity_id NULL) of
 * grant_id, oldest first: a new array of {"id","grant"}. */
int gh_store_credentials_unrevoked(json_t **out, gh_store *s, const char *identity_id,
				   const char *grant_id);

/* The connector of the system that offers entitlement ent_id into out ("" when
 * there is no such entitlement; cut to outlen). */
int gh_store_credential_connector(char *out, size_t outlen, gh_store *s, const char *ent_id);

/* What introspecting the key of credential id needs. The stored hash goes
 * into hash (at most hash_cap bytes copied) and its stored length into
 * *hash_len (0 when there is no such credential); *out gets {"identity",
 * "identity_name","identity_status","identity_expires_at" (or null),"grant",
 * "grant_status","grant_expires_at","entitlement","entitlement_name",
 * "system","owner" (or null),"created_at","expires_at","valid_until" (or
 * null),"revoked_at" (or null),"last_used_at" (or null)}, or NULL when there
 * is no such credential. */
int gh_store_credential_key(json_t **out, unsigned char *hash, size_t hash_cap,
			    size_t *hash_len, gh_store *s, const char *id);

/* Sets last_used_at of credential id to now when it is unset or at most
 * used_before (bookkeeping written at most so often). Inside a write. */
int gh_store_credential_touch(gh_store *s, const char *id, int64_t now, int64_t used_before);

#endif
