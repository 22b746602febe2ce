/* groups.h - groups and their members (the store's typed operations): a
 * member is an identity or another group (gov/group.c keeps nesting free of
 * cycles and bounded). Every function runs inside the caller's transaction or
 * read section; JSON coming back through **out is the caller's. Times given
 * are unix seconds. */
#ifndef GH_STORE_GROUPS_H
#define GH_STORE_GROUPS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* A group as the API shows it: {"id","name","description" (or null),
 * "members": [{"type": "identity"|"group","id","name"}] in the order they
 * were added,"created_at","updated_at" (RFC 3339)}. */

/* The group id, or *out NULL (and 0) when there is none. */
int gh_store_group_get(json_t **out, gh_store *s, const char *id);
/* 1 when a group is named name, 0 when not, <0 on error. */
int gh_store_group_named(gh_store *s, const char *name);
/* A new group (description may be NULL), created and updated at now. */
int gh_store_group_insert(gh_store *s, const char *id, const char *name, const char *description,
			  int64_t now);
/* updated_at of id becomes now. */
int gh_store_group_touch(gh_store *s, const char *id, int64_t now);
/* Up to limit groups after the one with pk after, in pk order; *items is a
 * new array. */
int gh_store_group_page(json_t **items, gh_store *s, int64_t after, int limit);

/* 1 when group_id has the direct member (type "identity" or "group",
 * member_id), 0 when not, <0 on error. */
int gh_store_group_member_exists(gh_store *s, const char *group_id, const char *type,
				 const char *member_id);
int gh_store_group_member_insert(gh_store *s, const char *group_id, const char *type,
				 const char *member_id, int64_t now);
int gh_store_group_member_delete(gh_store *s, const char *group_id, const char *type,
				 const char *member_id);

/* The groups that member (type "identity" or "group", member_id) belongs to
 * directly, as a new array of ids (in no particular order). */
int gh_store_group_parents(json_t **ids, gh_store *s, const char *type, const char *member_id);

/* Walks of nested groups, each followed at most 64 levels (so they end even
 * on a database that somehow holds a cycle). */
/* 1 when group inner is outer or nested (transitively) inside it, 0 when
 * not, <0 on error. */
int gh_store_group_reaches(gh_store *s, const char *outer, const char *inner);
/* Levels of groups nested below id (up 0) or above it (up 1); <0 on error. */
int gh_store_group_depth(gh_store *s, const char *id, int up);
/* 1 when identity_id is a member of group_id directly or through groups
 * nested at most max_depth levels below it, 0 when not, <0 on error. */
int gh_store_group_contains(gh_store *s, const char *group_id, const char *identity_id,
			    int max_depth);

#endif
