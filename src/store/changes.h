/* changes.h - typed operations on proposed changes (the changes table) and on
 * who last changed an entitlement's controls, for the four-eyes gate
 * (gov/change.c). Every function runs inside the caller's transaction or
 * read section; JSON coming back through **out is the caller's. */
#ifndef GH_STORE_CHANGES_H
#define GH_STORE_CHANGES_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* row: {"id","object_type","object_id","operation","payload","weakens",
 * "base_updated_at" (integer or null),"proposed_by","proposed_at" (unix
 * seconds),"comment" (string or null)}. */
int gh_changes_insert(gh_store *s, const json_t *row);

/* One row as inserted plus "state","decided_by","decided_at","decision_comment"
 * (times as unix seconds or null). GH_ENOTFOUND when there is none. */
int gh_changes_get(json_t **out, gh_store *s, const char *id);

/* Rows oldest first, state and object_id filters (NULL: any), after the row
 * with id after (NULL: from the start; GH_EINVALID with a field error when
 * unknown), at most limit + 1 rows so that the caller sees whether more follow. */
int gh_changes_list(json_t **out, gh_store *s, const char *state, const char *object_id,
		    const char *after, int limit);

/* The open (proposed) rows of object_id and operation, oldest first. */
int gh_changes_open(json_t **out, gh_store *s, const char *object_id, const char *operation);

/* proposed -> state ("confirmed" or "withdrawn"), recording who, when and why.
 * GH_ECONFLICT when the row is no longer proposed. */
int gh_changes_decide(gh_store *s, const char *id, const char *state, const char *by,
		      int64_t at, const char *comment);

/* updated_at of object_id in the table of object_type ("entitlement",
 * "identity", "system", "group"). GH_ENOTFOUND when it is gone. */
int gh_changes_updated_at(int64_t *out, gh_store *s, const char *object_type,
			  const char *object_id);

/* entitlements.controls_changed_by: a JSON array of identity ids. */
int gh_changes_controls_get(json_t **out, gh_store *s, const char *ent_id);
int gh_changes_controls_set(gh_store *s, const char *ent_id, const json_t *ids);

/* 1 when group_id is, itself or through nesting, inside a group that decides
 * approvals: an entitlement's control-owner group, or the to_group of a
 * delegation live at now. 0 when not, <0 on error. */
int gh_changes_group_guards(gh_store *s, const char *group_id, int64_t now);

#endif
