/* lookup.h - finding objects by id or by name, the names people know them
 * by, names near a reference that names nothing ("did you mean"), and where
 * a page continues: the store's typed operations behind gov_resolve,
 * gov_name_of and gov_page. A table is named from a fixed list (below); any
 * other name is GH_ERROR, never SQL. Every function runs inside the caller's
 * transaction or read section; JSON coming back through **out is the caller's. */
#ifndef GH_STORE_LOOKUP_H
#define GH_STORE_LOOKUP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The named tables: "identities", "groups", "systems", "entitlements". An
 * entitlement's name is unique per system; it is shown and may be given as
 * "system/name" (entitlement names hold no '/'). */

enum {
	GH_STORE_BY_ID = 0,        /* ref is the object's id */
	GH_STORE_BY_NAME = 1       /* ref is its name (an entitlement's: "system/name",
				    * or a bare name when one system offers it) */
};

/* The id of the object of a named table that ref names, by id or by name,
 * into out (outlen bytes). 0; GH_ENOTFOUND when nothing matches and
 * GH_ECONFLICT when a bare entitlement name matches several (neither sets an
 * error message: the caller words it); or an error. */
int gh_store_resolve(char *out, size_t outlen, gh_store *s, const char *table, int by,
		     const char *ref);

/* The name of object id of a named table into out (an entitlement's as
 * "system/name"). 0, or GH_ENOTFOUND (no message; out untouched), or an
 * error. */
int gh_store_name_of(char *out, size_t outlen, gh_store *s, const char *table, const char *id);

/* Names of a named table that may be near ref, for a suggestion: those
 * beginning with ref's first byte, in name order (a range scan of the name
 * index), at most limit. *out is a new array of [compared, shown] pairs:
 * the name and what to suggest (an entitlement's "system/name"), strings
 * (null for a NULL column).
 * For "entitlements" when ref holds a '/', both are "system/name", of the
 * entitlements whose system's name begins with ref's first byte or whose
 * name begins with the byte after the '/'. An empty array when no range
 * can be formed (the byte is 0xFF, nothing follows the '/'). */
int gh_store_names_near(json_t **out, gh_store *s, const char *table, const char *ref, int limit);

/* The pk of the row with id id of table, where a page continues after it
 * (pages are in pk order). Tables: "identities", "groups", "systems",
 * "entitlements", "requests", "grants", "tokens", "policy_versions",
 * "delegations", "outbox", "findings", "credentials", "changes".
 * 0, GH_ENOTFOUND (no message) when there is no such row, or an error. */
int gh_store_page_after(int64_t *out, gh_store *s, const char *table, const char *id);

#endif
