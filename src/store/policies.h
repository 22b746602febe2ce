/* policies.h - versioned Cedar policy sets (the policy_versions table): the
 * store's typed operations behind gov/policy_versions.c. The four-eyes rule
 * and which state may follow which stay in the domain. Every function runs
 * inside the caller's transaction or read section; JSON coming back through
 * **out is the caller's. */
#ifndef GH_STORE_POLICIES_H
#define GH_STORE_POLICIES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* A version as the API shows it: {"id","version","state","sha256","comment",
 * "proposed_by","proposed_at","validation" (array),"activated_by",
 * "activated_at"} (times in RFC 3339 or null; comment and activated_* may be
 * null), plus "text" when with_text. GH_ENOTFOUND ("policy version <id> not
 * found") when there is none. */
int gh_store_policy_get(json_t **out, gh_store *s, const char *id, int with_text);

/* The id (into out, outlen bytes) of the version numbered version. GH_ENOTFOUND
 * when there is none. */
int gh_store_policy_id_of(char *out, size_t outlen, gh_store *s, int64_t version);
/* 1 when a version with id id exists, 0 when not, <0 on error. */
int gh_store_policy_exists(gh_store *s, const char *id);

/* The active version's id and number, or id "" and 0 when none is active. */
int gh_store_policy_active(char *id, size_t idlen, int64_t *version, gh_store *s);

/* The number the next proposed version gets: one above the highest so far. */
int gh_store_policy_next_version(int64_t *out, gh_store *s);

/* A new version in state proposed. row: {"id","version","text","sha256",
 * "proposed_by","proposed_at" (unix seconds),"comment" (string or null),
 * "validation" (array, stored as canonical JSON)}. GH_ECONFLICT when the id
 * or the number is taken. */
int gh_store_policy_insert(gh_store *s, const json_t *row);

/* state becomes 'superseded' (the version active until now). */
int gh_store_policy_supersede(gh_store *s, const char *id);
/* state becomes 'active', recording who and when (unix seconds).
 * GH_ECONFLICT when another version is still active. */
int gh_store_policy_activate(gh_store *s, const char *id, const char *by, int64_t at);

/* Up to limit versions (without text) with pk above after_pk, in order;
 * *items is a new array. */
int gh_store_policy_list(json_t **items, gh_store *s, int64_t after_pk, int limit);

#endif
