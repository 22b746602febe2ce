/* schema_types.h - (internal) the schema's types, shared by the schema
 * parsers, schema-based parsing of entities and context, and validation. */
#ifndef GH_POLICY_SCHEMA_TYPES_H
#define GH_POLICY_SCHEMA_TYPES_H

#include <stddef.h>

#include "policy/policy.h"

typedef enum ghp_type_kind {
	GHP_T_BOOL,
	GHP_T_LONG,
	GHP_T_STRING,
	GHP_T_SET,         /* element */
	GHP_T_RECORD,      /* attrs, open */
	GHP_T_ENTITY,      /* name: the fully qualified entity type, e.g. "NS::User" */
	GHP_T_EXTENSION,   /* name: "ipaddr", "decimal", "datetime" or "duration" */
} ghp_type_kind;

typedef struct ghp_attr ghp_attr;

typedef struct ghp_type {
	ghp_type_kind kind;
	const char *name;          /* entity type or extension name; NULL otherwise */
	const struct ghp_type *element;  /* GHP_T_SET; on a GHP_T_RECORD, a map whose
					  * every value has this type (entity tags) */
	size_t nattrs;             /* GHP_T_RECORD */
	const ghp_attr *attrs;     /* sorted by name */
	int open;                  /* record accepts undeclared attributes */
} ghp_type;

struct ghp_attr {
	const char *name;
	const ghp_type *type;
	int required;
	size_t name_len;           /* bytes of name (Cedar strings may hold NUL) */
};

typedef struct ghp_entity_type {
	const char *name;          /* fully qualified */
	const ghp_type *attrs;     /* a record type (never NULL; empty when none) */
	const ghp_type *tags;      /* tag value type, or NULL when no tags */
	size_t nparents;
	const char *const *parents;   /* memberOfTypes, fully qualified */
	size_t nenum;              /* enumerated entity ids, when the type is an enum */
	const char *const *enum_ids;
	const size_t *enum_id_lens;   /* bytes of each enum_ids[i] (ids may hold NUL) */
} ghp_entity_type;

typedef struct ghp_action {
	const char *type;          /* fully qualified action entity type, e.g. "NS::Action" */
	const char *id;
	size_t nprincipals;
	const char *const *principals;  /* appliesTo principal types */
	size_t nresources;
	const char *const *resources;   /* appliesTo resource types */
	const ghp_type *context;   /* a record type (never NULL) */
	size_t nparents;
	const char *const *parent_types;  /* memberOf: parent action uids */
	const char *const *parent_ids;
	size_t id_len;             /* bytes of id (ids may hold NUL) */
	const size_t *parent_id_lens;  /* bytes of each parent_ids[i] */
} ghp_action;

/* Lookups on a parsed schema; NULL when not declared. */
const ghp_entity_type *ghp_schema_entity_type(const gh_policy_schema *s, const char *name);
const ghp_action *ghp_schema_action(const gh_policy_schema *s, const char *type, const char *id);
size_t ghp_schema_entity_type_count(const gh_policy_schema *s);
const ghp_entity_type *ghp_schema_entity_type_at(const gh_policy_schema *s, size_t i);
size_t ghp_schema_action_count(const gh_policy_schema *s);
const ghp_action *ghp_schema_action_at(const gh_policy_schema *s, size_t i);
/* The action whose id is the id_len bytes at id (which may hold NUL). */
const ghp_action *ghp_schema_action_n(const gh_policy_schema *s, const char *type, const char *id,
				      size_t id_len);
/* A record type's attribute by name (len bytes), by binary search; NULL when absent. */
const ghp_attr *ghp_type_attr(const ghp_type *record, const char *name, size_t len);

#endif
