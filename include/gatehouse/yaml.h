/* gatehouse/yaml.h - strict YAML to JSON for files people write (catalog as
 * code, the server configuration), with every problem named by its path and
 * line:column. Public: the command reads catalog files with it.
 *
 * Only a safe subset of YAML is read: one document of mappings, sequences and
 * scalars (plain, quoted or block). Anchors, aliases, tags, %TAG directives,
 * complex keys, duplicate keys and several documents are refused, the file is
 * at most GH_YAML_MAX_BYTES and nested at most GH_YAML_MAX_DEPTH. Every scalar
 * becomes a JSON string ("true", "1" and "null" too); a schema then says which
 * are booleans or integers. Conventions as elsewhere: 0 or a GH_E* code. */
#ifndef GATEHOUSE_YAML_H
#define GATEHOUSE_YAML_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define GH_YAML_MAX_BYTES (1024 * 1024)
#define GH_YAML_MAX_DEPTH 32
#define GH_YAML_MAX_PROBLEMS 100     /* more are counted, not kept */

typedef struct gh_yaml_doc {
	json_t *root;            /* the document; NULL when it could not be read */
	json_t *where;           /* path -> [line, column] of each node (1-based) */
	json_t *problems;        /* [{"path","line","column","message"}] */
	size_t dropped;          /* problems past GH_YAML_MAX_PROBLEMS */
} gh_yaml_doc;

/* Reads text (len bytes, need not be NUL-terminated) into out, which the caller
 * frees with gh_yaml_doc_free whatever the result. 0 when it was read without
 * problems; GH_EINVALID or GH_ETOOLARGE with out->problems saying what and
 * where (every problem the parser could see, not only the first); GH_ERROR
 * when out of memory. */
int gh_yaml_load(gh_yaml_doc *out, const char *text, size_t len);
void gh_yaml_doc_free(gh_yaml_doc *d);

/* Records a problem at path (line:column from where, else from its nearest
 * ancestor that has one). */
void gh_yaml_problem(gh_yaml_doc *d, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Path of a child: "" + "groups" -> "groups", "groups" + 2 -> "groups[2]",
 * keys that are not [A-Za-z0-9_-]+ as ["key"]. out >= GH_YAML_MAX_PATH. */
#define GH_YAML_MAX_PATH 512
void gh_yaml_path_key(char *out, const char *parent, const char *key);
void gh_yaml_path_index(char *out, const char *parent, size_t index);

/* "FILE:LINE:COL: PATH: MESSAGE" a problem a line (sorted by position), and a
 * count of dropped ones. */
void gh_yaml_print_problems(FILE *f, const gh_yaml_doc *d, const char *file);

/* --- schemas ----------------------------------------------------------- */

typedef enum gh_yaml_kind {
	GH_YAML_STRING,          /* a scalar, kept as a string */
	GH_YAML_BOOL,            /* the scalar true or false, becomes a JSON boolean */
	GH_YAML_INT,             /* a decimal scalar in [min, max], becomes a JSON integer */
	GH_YAML_MAP,             /* a mapping with the keys listed, no others */
	GH_YAML_LIST,            /* a sequence of item */
	GH_YAML_FREE_MAP,        /* a mapping of anything (attributes): only depth and size */
	GH_YAML_SCALAR_OR_MAP,   /* scalar: as item; mapping: as keys */
} gh_yaml_kind;

typedef struct gh_yaml_key gh_yaml_key;

typedef struct gh_yaml_schema {
	gh_yaml_kind kind;
	const gh_yaml_key *keys;             /* MAP, SCALAR_OR_MAP: ends with {NULL} */
	const struct gh_yaml_schema *item;   /* LIST: each item; SCALAR_OR_MAP: the scalar */
	size_t max;                          /* STRING: bytes (0: 1024); LIST: items (0: 10000) */
	long long min_int, max_int;          /* INT */
	const char *const *values;           /* STRING: one of these (NULL-ended), or NULL */
	/* STRING: a further check; returns NULL when s is fine, else why not */
	const char *(*check)(const char *s);
} gh_yaml_schema;

struct gh_yaml_key {
	const char *name;
	int required;
	const gh_yaml_schema *schema;
};

/* Checks d->root against schema, recording every problem (unknown and missing
 * keys, wrong kinds, bad values) and turning BOOL and INT scalars into JSON
 * booleans and integers in place. 0, or GH_EINVALID when any problem was
 * recorded (by this call or before). */
int gh_yaml_check(gh_yaml_doc *d, const gh_yaml_schema *schema);
/* Checks the node parent[key], named path, against schema the same way (for
 * a part whose schema depends on its content); problems go to d. */
void gh_yaml_check_at(gh_yaml_doc *d, json_t *parent, const char *key, const char *path,
		      const gh_yaml_schema *schema);

#endif
