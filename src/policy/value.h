/* value.h - (internal) Cedar values, the arena they live in, and entity uids. */
#ifndef GH_POLICY_VALUE_H
#define GH_POLICY_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/ext.h"
#include "policy/schema_types.h"

/* A bump allocator: everything a parse or an evaluation makes is freed at
 * once. An optional caller buffer serves the first allocations, so a small
 * evaluation does not malloc at all. */
typedef struct ghp_chunk ghp_chunk;
typedef struct ghp_arena {
	ghp_chunk *chunks;         /* malloc'd chunks, newest first */
	char *buf;                 /* current block */
	size_t used, size;
	size_t total, cap;         /* bytes malloc'd so far, and the limit */
} ghp_arena;

void ghp_arena_init(ghp_arena *a, void *buf, size_t size, size_t cap);
void *ghp_arena_alloc(ghp_arena *a, size_t n);  /* 8-aligned, NULL when out of memory or over cap */
char *ghp_arena_strdup(ghp_arena *a, const char *s, size_t n);  /* NUL-terminated copy */
void ghp_arena_free(ghp_arena *a);

typedef struct ghp_str {
	const char *p;             /* not NUL-terminated in general (Cedar strings may hold \0) */
	size_t n;
} ghp_str;

/* An entity uid; hash is over type and id, computed once. */
typedef struct ghp_euid {
	ghp_str type;
	ghp_str id;
	uint64_t hash;
} ghp_euid;

typedef enum ghp_vkind {
	GHP_V_BOOL,
	GHP_V_LONG,
	GHP_V_STRING,
	GHP_V_ENTITY,
	GHP_V_SET,
	GHP_V_RECORD,
	GHP_V_DECIMAL,
	GHP_V_IP,
	GHP_V_DATETIME,
	GHP_V_DURATION,
} ghp_vkind;

typedef struct ghp_value ghp_value;
typedef struct ghp_field ghp_field;

struct ghp_value {
	ghp_vkind kind;
	union {
		int b;
		int64_t l;             /* long; decimal x 10^4; datetime and duration in ms */
		ghp_str s;
		const ghp_euid *e;
		struct {
			size_t n;
			const ghp_value *v;   /* sorted by ghp_value_cmp, no duplicates */
		} set;
		struct {
			size_t n;
			const ghp_field *f;   /* sorted by key, no duplicates */
		} rec;
		const ghp_ipaddr *ip;
	} u;
};

struct ghp_field {
	ghp_str key;
	ghp_value val;
};

uint64_t ghp_euid_hash(const char *type, size_t tn, const char *id, size_t idn);
const ghp_euid *ghp_euid_new(ghp_arena *a, const char *type, size_t tn, const char *id, size_t idn);
int ghp_str_eq(ghp_str a, ghp_str b);
/* Hash first: unequal uids almost never reach the byte comparison. */
static inline int ghp_euid_eq(const ghp_euid *a, const ghp_euid *b)
{
	return a == b || (a->hash == b->hash && a->type.n == b->type.n && a->id.n == b->id.n &&
			  (a->id.n == 0 || !__builtin_memcmp(a->id.p, b->id.p, a->id.n)) &&
			  (a->type.n == 0 || !__builtin_memcmp(a->type.p, b->type.p, a->type.n)));
}
int ghp_str_eqz(ghp_str a, const char *z);

/* A total order over values, consistent with Cedar equality. */
int ghp_value_cmp(const ghp_value *a, const ghp_value *b);
int ghp_value_eq(const ghp_value *a, const ghp_value *b);
/* Sorts and dedups v[0..n) in place; returns the new count. */
size_t ghp_set_normalize(ghp_value *v, size_t n);
/* Sorts f[0..n) by key; -1 when a key repeats. */
int ghp_record_normalize(ghp_field *f, size_t n);
const ghp_value *ghp_record_get(const ghp_value *rec, const char *key, size_t n);
const char *ghp_kind_name(ghp_vkind k);

/* Converts JSON to a value: by type when t is given (schema-based parsing),
 * else with the __entity / __extn escapes. -1 with a message in err. */
int ghp_value_from_json(ghp_arena *a, const json_t *j, const ghp_type *t, ghp_value *out,
			char *err, size_t errlen, int depth);
/* json_loadb that also takes NUL (\u0000) inside object keys. */
json_t *ghp_json_load(const char *json, size_t len, json_error_t *je);
/* Builds an extension value from its constructor name and argument. */
int ghp_ext_make(ghp_arena *a, const char *fn, const char *arg, size_t len, ghp_value *out);
/* A JSON entity reference ({"type","id"} or {"__entity":{...}}). */
int ghp_euid_from_json(ghp_arena *a, const json_t *j, const ghp_euid **out, char *err, size_t errlen);

/* Appends a value's Cedar text to a malloc'd buffer (for messages and format). */
typedef struct ghp_buf {
	char *p;
	size_t n, cap;
	int failed;
} ghp_buf;
void ghp_buf_add(ghp_buf *b, const char *s, size_t n);
void ghp_buf_addz(ghp_buf *b, const char *s);
void ghp_buf_printf(ghp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ghp_buf_str(ghp_buf *b, ghp_str s);  /* quoted, escaped */
void ghp_buf_value(ghp_buf *b, const ghp_value *v);

#endif
