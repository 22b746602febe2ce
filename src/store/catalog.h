/* catalog.h - the catalog's rows (the store's typed operations): systems, the
 * entitlements they offer, and the SoD conflicts between entitlements
 * (gov/catalog.c holds the rules). Every function runs inside the caller's
 * transaction or read section; JSON coming back through **out is the
 * caller's. Times given are unix seconds. */
#ifndef GH_STORE_CATALOG_H
#define GH_STORE_CATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* --- systems ----------------------------------------------------------------
 * A system as the API shows it: {"id","name","description" (or null),"owner",
 * "connector","connector_settings" (object),"created_at","updated_at"
 * (RFC 3339)}. */

/* The system id, or *out NULL (and 0) when there is none. */
int gh_store_system_get(json_t **out, gh_store *s, const char *id);
/* 1 when a system is named name, 0 when not, <0 on error. */
int gh_store_system_named(gh_store *s, const char *name);
/* sys: {"id","name","description" (string, null or absent),"owner",
 * "connector","connector_settings" (object, or absent: {})}, created and
 * updated at now. */
int gh_store_system_insert(gh_store *s, const json_t *sys, int64_t now);
/* Sets description, owner, connector and connector_settings of sys["id"]
 * (the shape of insert, every field given) and updated_at to now. */
int gh_store_system_update(gh_store *s, const json_t *sys, int64_t now);
/* Up to limit systems after the one with pk after, in pk order; *items is a
 * new array. */
int gh_store_system_page(json_t **items, gh_store *s, int64_t after, int limit);
/* Every system as {"name","connector"}, in pk order. */
int gh_store_system_connectors(json_t **out, gh_store *s);

/* --- entitlements -----------------------------------------------------------
 * An entitlement as the API shows it: {"id","system","name","description"
 * (or null),"risk_tier","data_sensitivity","environment",
 * "control_owner_group","max_duration" ("8h"),"max_duration_seconds",
 * "requestable" (bool),"incompatible_with" (sorted ids of its SoD
 * conflicts),"attributes" (object),"tags" (array),"created_at","updated_at"}. */

/* The entitlement id, or *out NULL (and 0) when there is none. */
int gh_store_entitlement_get(json_t **out, gh_store *s, const char *id);
/* The same without reading its SoD conflicts ("incompatible_with" stays
 * []): one indexed read, for the facts a decision needs. */
int gh_store_entitlement_get_row(json_t **out, gh_store *s, const char *id);
/* 1 when system_id offers an entitlement named name, 0 when not, <0 on error. */
int gh_store_entitlement_named(gh_store *s, const char *system_id, const char *name);
/* ent: {"id","system","name","description" (string, null or absent),
 * "risk_tier","data_sensitivity","environment","control_owner_group",
 * "max_duration_seconds","requestable" (bool),"attributes" (object, or
 * absent: {}),"tags" (array of tags, or absent: [])}, created and updated at
 * now. Its conflicts are written by gh_store_entitlement_conflicts_set. */
int gh_store_entitlement_insert(gh_store *s, const json_t *ent, int64_t now);
/* Sets every field of the insert's shape but system, name and environment
 * of ent["id"] (all given), and updated_at to now. */
int gh_store_entitlement_update(gh_store *s, const json_t *ent, int64_t now);
/* updated_at of id becomes now. */
int gh_store_entitlement_touch(gh_store *s, const char *id, int64_t now);
/* Replaces id's SoD conflicts with ids (an array of entitlement ids; each
 * pair is stored once, whichever side it is read from). */
int gh_store_entitlement_conflicts_set(gh_store *s, const char *id, const json_t *ids);
/* 1 when entitlements a and b conflict (SoD, either way round), 0 when not,
 * <0 on error. */
int gh_store_entitlement_conflict(gh_store *s, const char *a, const char *b);

/* Filters of a page of entitlements: NULL (or requestable -1) for any. */
typedef struct gh_store_entitlement_filter {
	const char *system_id, *risk_tier, *environment;
	int requestable;           /* 1, 0, or -1 for any */
	const char *tag;           /* one of its tags */
} gh_store_entitlement_filter;

/* Up to limit entitlements matching f after the one with pk after, in pk
 * order; *items is a new array. */
int gh_store_entitlement_page(json_t **items, gh_store *s, const gh_store_entitlement_filter *f,
			      int64_t after, int limit);
/* The entitlements system_id offers as {"name","attributes" (object)}, in pk
 * order. */
int gh_store_entitlement_attributes(json_t **out, gh_store *s, const char *system_id);
/* How many entitlements group_id is the control-owner group of, among those
 * of system_id or carrying tag (give one, the other NULL). */
int gh_store_entitlement_count_controlled(int *count, gh_store *s, const char *group_id,
					  const char *system_id, const char *tag);

#endif
