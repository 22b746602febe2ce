/* schema_raw.h - (internal) a schema as written, before names are resolved:
 * what the Cedar-syntax and JSON parsers produce and schema.c resolves into
 * the model of schema_types.h. Both syntaxes meet here, so they resolve alike. */
#ifndef GH_POLICY_SCHEMA_RAW_H
#define GH_POLICY_SCHEMA_RAW_H

#include <stddef.h>

#include "policy/schema_types.h"

/* An arena: everything of a raw schema, or of a built model, is freed at once.
 * Allocations are zeroed; past cap bytes in total they fail. */
typedef struct ghp_sa_block ghp_sa_block;
typedef struct ghp_sa {
	ghp_sa_block *head;
	size_t total;              /* bytes taken from malloc */
	size_t cap;
} ghp_sa;

#define GHP_SA_CAP ((size_t)512 * 1024 * 1024)

void *ghp_sa_alloc(ghp_sa *a, size_t n);
char *ghp_sa_strndup(ghp_sa *a, const char *s, size_t n);
/* Grows the array *items (n used, *cap slots of elem bytes) to hold one more. */
int ghp_sa_grow(ghp_sa *a, void **items, size_t n, size_t *cap, size_t elem);
void ghp_sa_free(ghp_sa *a);

typedef enum ghp_sr_kind {
	GHP_SR_BOOL,
	GHP_SR_LONG,
	GHP_SR_STRING,
	GHP_SR_SET,
	GHP_SR_RECORD,
	GHP_SR_ENTITY,             /* name: an entity type reference */
	GHP_SR_EXTENSION,          /* name: an extension type name */
	GHP_SR_ENTITY_OR_COMMON,   /* name: a common or entity type (or builtin) reference */
	GHP_SR_COMMON,             /* name: a common type (or builtin) reference */
} ghp_sr_kind;

typedef struct ghp_sr_attr ghp_sr_attr;

typedef struct ghp_sr_type {
	ghp_sr_kind kind;
	const char *name;
	struct ghp_sr_type *element;
	size_t nattrs, capattrs;
	ghp_sr_attr *attrs;
	int open;                  /* record: additionalAttributes */
	int line, column;          /* 0 when not from text */
	/* filled while building: one declaration of many names resolves once */
	const ghp_type *resolved;
	const char *resolved_ns;
	int resolved_height;
} ghp_sr_type;

struct ghp_sr_attr {
	const char *name;
	size_t name_len;
	ghp_sr_type *type;
	int required;
	int line, column;
};

typedef struct ghp_sr_ref {       /* an entity type reference as written */
	const char *name;
	int line, column;
} ghp_sr_ref;

typedef struct ghp_sr_entity {
	const char *name;          /* unqualified */
	int line, column;
	size_t nparents, capparents;
	ghp_sr_ref *parents;
	ghp_sr_type *shape;        /* NULL: no attributes */
	ghp_sr_type *tags;         /* NULL: no tags */
	int is_enum;
	size_t nenum, capenum;
	const char **enum_ids;
	size_t *enum_lens;
} ghp_sr_entity;

typedef struct ghp_sr_auid {      /* an action reference: [type ::] "id" */
	const char *type;          /* NULL: Action of the current namespace */
	const char *id;
	size_t id_len;
	int line, column;
} ghp_sr_auid;

typedef struct ghp_sr_action {
	const char *id;
	size_t id_len;
	int line, column;
	size_t nparents, capparents;
	ghp_sr_auid *parents;
	size_t nprincipals, capprincipals;
	ghp_sr_ref *principals;
	size_t nresources, capresources;
	ghp_sr_ref *resources;
	ghp_sr_type *context;      /* NULL: the empty record */
} ghp_sr_action;

typedef struct ghp_sr_common {
	const char *name;          /* unqualified */
	int line, column;
	ghp_sr_type *type;
} ghp_sr_common;

typedef struct ghp_sr_ns {
	const char *name;          /* "" for the empty namespace */
	int line, column;
	size_t nentities, capentities;
	ghp_sr_entity *entities;
	size_t nactions, capactions;
	ghp_sr_action *actions;
	size_t ncommons, capcommons;
	ghp_sr_common *commons;
} ghp_sr_ns;

typedef struct ghp_sr_schema {
	ghp_sa arena;
	size_t nns, capns;
	ghp_sr_ns *ns;
} ghp_sr_schema;

/* Resolves raw (which stays the caller's) into a schema; on failure *out is
 * NULL and err says why (with the line:column of the name at fault). */
int ghp_schema_build(gh_policy_schema **out, const ghp_sr_schema *raw, gh_policy_error *err);

/* Error helper shared by the schema files: sets err and returns code. */
int ghp_schema_error(gh_policy_error *err, int code, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* 1 when s is IDENT {'::' IDENT} with no whitespace (len bytes). */
int ghp_schema_is_path(const char *s, size_t len);

#endif
