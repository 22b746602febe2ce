/* value.c - Cedar values: the arena, ordering and equality, JSON conversion, printing. */
#include "policy/value.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ghp_chunk {
	ghp_chunk *next;
	size_t size;
	/* data follows, 16-aligned */
};

#define CHUNK_HDR ((sizeof(ghp_chunk) + 15) & ~(size_t)15)
#define CHUNK_MIN (16u * 1024)

void ghp_arena_init(ghp_arena *a, void *buf, size_t size, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->size = buf ? size : 0;
	a->cap = cap ? cap : (size_t)1 << 30;
}

void *ghp_arena_alloc(ghp_arena *a, size_t n)
{
	size_t off = (a->used + 7) & ~(size_t)7;

	if (n == 0)
		n = 1;
	if (a->buf && off <= a->size && n <= a->size - off) {
		a->used = off + n;
		return a->buf + off;
	}
	size_t want = n > CHUNK_MIN ? n : CHUNK_MIN;
	if (a->chunks && a->chunks->size * 2 > want && a->chunks->size < (1u << 20))
		want = a->chunks->size * 2;
	if (want > a->cap || a->total > a->cap - want)
		return NULL;
	ghp_chunk *c = malloc(CHUNK_HDR + want);
	if (!c)
		return NULL;
	c->size = want;
	c->next = a->chunks;
	a->chunks = c;
	a->total += want;
	a->buf = (char *)c + CHUNK_HDR;
	a->size = want;
	a->used = n;
	return a->buf;
}

char *ghp_arena_strdup(ghp_arena *a, const char *s, size_t n)
{
	char *p = ghp_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void ghp_arena_free(ghp_arena *a)
{
	ghp_chunk *c = a->chunks;
	while (c) {
		ghp_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->chunks = NULL;
	a->buf = NULL;
	a->used = a->size = a->total = 0;
}

uint64_t ghp_euid_hash(const char *type, size_t tn, const char *id, size_t idn)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < tn; i++)
		h = (h ^ (unsigned char)type[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < idn; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
	return h;
}

const ghp_euid *ghp_euid_new(ghp_arena *a, const char *type, size_t tn, const char *id, size_t idn)
{
	ghp_euid *u = ghp_arena_alloc(a, sizeof(*u));
	char *t = ghp_arena_strdup(a, type, tn);
	char *i = ghp_arena_strdup(a, id, idn);
	if (!u || !t || !i)
		return NULL;
	u->type.p = t;
	u->type.n = tn;
	u->id.p = i;
	u->id.n = idn;
	u->hash = ghp_euid_hash(type, tn, id, idn);
	return u;
}

int ghp_str_eq(ghp_str a, ghp_str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

int ghp_str_eqz(ghp_str a, const char *z)
{
	size_t n = strlen(z);
	return a.n == n && memcmp(a.p, z, n) == 0;
}

static int str_cmp(ghp_str a, ghp_str b)
{
	size_t n = a.n < b.n ? a.n : b.n;
	int c = n ? memcmp(a.p, b.p, n) : 0;
	if (c)
		return c;
	return a.n < b.n ? -1 : a.n > b.n;
}

static int i64_cmp(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int ghp_value_cmp(const ghp_value *a, const ghp_value *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	switch (a->kind) {
	case GHP_V_BOOL:
		return i64_cmp(a->u.b, b->u.b);
	case GHP_V_LONG:
	case GHP_V_DECIMAL:
	case GHP_V_DATETIME:
	case GHP_V_DURATION:
		return i64_cmp(a->u.l, b->u.l);
	case GHP_V_STRING:
		return str_cmp(a->u.s, b->u.s);
	case GHP_V_ENTITY: {
		int c = str_cmp(a->u.e->type, b->u.e->type);
		return c ? c : str_cmp(a->u.e->id, b->u.e->id);
	}
	case GHP_V_SET: {
		if (a->u.set.n != b->u.set.n)
			return a->u.set.n < b->u.set.n ? -1 : 1;
		for (size_t i = 0; i < a->u.set.n; i++) {
			int c = ghp_value_cmp(&a->u.set.v[i], &b->u.set.v[i]);
			if (c)
				return c;
		}
		return 0;
	}
	case GHP_V_RECORD: {
		if (a->u.rec.n != b->u.rec.n)
			return a->u.rec.n < b->u.rec.n ? -1 : 1;
		for (size_t i = 0; i < a->u.rec.n; i++) {
			int c = str_cmp(a->u.rec.f[i].key, b->u.rec.f[i].key);
			if (c)
				return c;
			c = ghp_value_cmp(&a->u.rec.f[i].val, &b->u.rec.f[i].val);
			if (c)
				return c;
		}
		return 0;
	}
	case GHP_V_IP: {
		const ghp_ipaddr *x = a->u.ip, *y = b->u.ip;
		if (x->v6 != y->v6)
			return x->v6 < y->v6 ? -1 : 1;
		int c = memcmp(x->addr, y->addr, x->v6 ? 16 : 4);
		if (c)
			return c;
		return i64_cmp(x->prefix, y->prefix);
	}
	}
	return 0;
}

int ghp_value_eq(const ghp_value *a, const ghp_value *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == GHP_V_ENTITY)
		return ghp_euid_eq(a->u.e, b->u.e);
	return ghp_value_cmp(a, b) == 0;
}

static int value_qcmp(const void *x, const void *y)
{
	return ghp_value_cmp(x, y);
}

size_t ghp_set_normalize(ghp_value *v, size_t n)
{
	if (n < 2)
		return n;
	qsort(v, n, sizeof(*v), value_qcmp);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (ghp_value_cmp(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	return k;
}

static int field_qcmp(const void *x, const void *y)
{
	return str_cmp(((const ghp_field *)x)->key, ((const ghp_field *)y)->key);
}

int ghp_record_normalize(ghp_field *f, size_t n)
{
	if (n < 2)
		return 0;
	qsort(f, n, sizeof(*f), field_qcmp);
	for (size_t i = 1; i < n; i++)
		if (str_cmp(f[i - 1].key, f[i].key) == 0)
			return -1;
	return 0;
}

const ghp_value *ghp_record_get(const ghp_value *rec, const char *key, size_t n)
{
	ghp_str k = { key, n };
	size_t lo = 0, hi = rec->u.rec.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = str_cmp(rec->u.rec.f[mid].key, k);
		if (c == 0)
			return &rec->u.rec.f[mid].val;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *ghp_kind_name(ghp_vkind k)
{
	static const char *const names[] = { "bool", "long", "string", "entity", "set",
					     "record", "decimal", "ipaddr", "datetime", "duration" };
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

int ghp_ext_make(ghp_arena *a, const char *fn, const char *arg, size_t len, ghp_value *out)
{
	if (!strcmp(fn, "decimal")) {
		out->kind = GHP_V_DECIMAL;
		return ghp_decimal_parse(&out->u.l, arg, len);
	}
	if (!strcmp(fn, "datetime")) {
		out->kind = GHP_V_DATETIME;
		return ghp_datetime_parse(&out->u.l, arg, len);
	}
	if (!strcmp(fn, "duration")) {
		out->kind = GHP_V_DURATION;
		return ghp_duration_parse(&out->u.l, arg, len);
	}
	if (!strcmp(fn, "ip") || !strcmp(fn, "ipaddr")) {
		ghp_ipaddr *ip = ghp_arena_alloc(a, sizeof(*ip));
		if (!ip)
			return -1;
		memset(ip, 0, sizeof(*ip));
		out->kind = GHP_V_IP;
		out->u.ip = ip;
		return ghp_ip_parse(ip, arg, len);
	}
	return -1;
}

/* --- JSON ------------------------------------------------------------ */

#define JSON_MAX_DEPTH 64

static int jerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *jstr(const json_t *j, size_t *n)
{
	if (!json_is_string(j))
		return NULL;
	*n = json_string_length(j);
	return json_string_value(j);
}

/* jansson cannot hold NUL in object keys, so ghp_json_load marks \u0000 as
 * U+10FFFF (a noncharacter); copies out of JSON turn the mark back into NUL. */
static const char NUL_MARK[] = "\xF4\x8F\xBF\xBF";

static char *jdup(ghp_arena *a, const char *s, size_t n, size_t *outn)
{
	char *p = ghp_arena_strdup(a, s, n);
	if (!p || !memchr(s, 0xF4, n)) {
		*outn = n;
		return p;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 4 <= n && !memcmp(s + i, NUL_MARK, 4)) {
			p[k++] = 0;
			i += 3;
		} else {
			p[k++] = s[i];
		}
	}
	p[k] = 0;
	*outn = k;
	return p;
}

json_t *ghp_json_load(const char *json, size_t len, json_error_t *je)
{
	static const char pat[] = "\\u0000";
	size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
	const char *hit = NULL;
	for (size_t i = 0; i + 6 <= len && !hit; i++)
		if (json[i] == '\\' && !memcmp(json + i, pat, 6))
			hit = json + i;
	if (!hit)
		return json_loadb(json, len, flags, je);
	char *copy = malloc(len * 2 + 1);
	if (!copy) {
		snprintf(je->text, sizeof(je->text), "out of memory");
		return NULL;
	}
	size_t k = 0;
	int in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char c = json[i];
		if (in_str && c == '\\' && i + 1 < len) {
			if (i + 6 <= len && !memcmp(json + i, pat, 6)) {
				memcpy(copy + k, "\\udbff\\udfff", 12);
				k += 12;
				i += 5;
			} else {
				copy[k++] = c;
				copy[k++] = json[++i];
			}
			continue;
		}
		if (c == '"')
			in_str = !in_str;
		copy[k++] = c;
	}
	json_t *j = json_loadb(copy, k, flags, je);
	free(copy);
	return j;
}

int ghp_euid_from_json(ghp_arena *a, const json_t *j, const ghp_euid **out, char *err, size_t errlen)
{
	if (json_is_object(j) && json_object_get(j, "__entity"))
		j = json_object_get(j, "__entity");
	size_t tn = 0, idn = 0;
	const char *t = jstr(json_object_get(j, "type"), &tn);
	const char *id = jstr(json_object_get(j, "id"), &idn);
	if (!json_is_object(j) || !t || !id)
		return jerr(err, errlen, "expected an entity reference {\"type\",\"id\"}");
	t = jdup(a, t, tn, &tn);
	id = t ? jdup(a, id, idn, &idn) : NULL;
	*out = id ? ghp_euid_new(a, t, tn, id, idn) : NULL;
	return *out ? 0 : jerr(err, errlen, "out of memory");
}

/* {"fn":"offset","args":[...]}: an extension function over converted values. */
static int ext_apply(ghp_arena *a, const char *fn, const json_t *args, ghp_value *out,
		     char *err, size_t errlen, int depth)
{
	ghp_value v[2];
	size_t n = json_array_size(args);
	if (n == 0 || n > 2)
		return jerr(err, errlen, "__extn %s: wrong number of arguments", fn);
	for (size_t i = 0; i < n; i++)
		if (ghp_value_from_json(a, json_array_get(args, i), NULL, &v[i], err, errlen,
					depth + 1) < 0)
			return -1;
	if (n == 1 && v[0].kind == GHP_V_STRING) {
		if (ghp_ext_make(a, fn, v[0].u.s.p, v[0].u.s.n, out) < 0)
			return jerr(err, errlen, "invalid %s value", fn);
		return 0;
	}
	int rc = -1;
	if (!strcmp(fn, "offset") && n == 2 && v[0].kind == GHP_V_DATETIME &&
	    v[1].kind == GHP_V_DURATION) {
		out->kind = GHP_V_DATETIME;
		rc = ghp_datetime_offset(&out->u.l, v[0].u.l, v[1].u.l);
	} else if (!strcmp(fn, "durationSince") && n == 2 && v[0].kind == GHP_V_DATETIME &&
		   v[1].kind == GHP_V_DATETIME) {
		out->kind = GHP_V_DURATION;
		rc = ghp_datetime_since(&out->u.l, v[0].u.l, v[1].u.l);
	} else if (!strcmp(fn, "toDate") && n == 1 && v[0].kind == GHP_V_DATETIME) {
		out->kind = GHP_V_DATETIME;
		rc = ghp_datetime_to_date(&out->u.l, v[0].u.l);
	} else if (!strcmp(fn, "toTime") && n == 1 && v[0].kind == GHP_V_DATETIME) {
		out->kind = GHP_V_DURATION;
		out->u.l = ghp_datetime_to_time(v[0].u.l);
		rc = 0;
	}
	return rc < 0 ? jerr(err, errlen, "__extn %s: invalid arguments", fn) : 0;
}

static int ext_from_json(ghp_arena *a, const json_t *x, const char *want, ghp_value *out,
			 char *err, size_t errlen)
{
	size_t fnn, argn;
	const char *fn = jstr(json_object_get(x, "fn"), &fnn);
	const char *arg = jstr(json_object_get(x, "arg"), &argn);
	if (fn && !arg && json_is_array(json_object_get(x, "args"))) {
		if (ext_apply(a, fn, json_object_get(x, "args"), out, err, errlen, 1) < 0)
			return -1;
		if (want && strcmp(want, ghp_kind_name(out->kind)))
			return jerr(err, errlen, "expected a %s", want);
		return 0;
	}
	if (!fn || !arg)
		return jerr(err, errlen, "__extn needs string fields fn and arg");
	if (want && strcmp(fn, want) && !(!strcmp(want, "ipaddr") && !strcmp(fn, "ip")))
		return jerr(err, errlen, "expected a %s, got %s", want, fn);
	if (ghp_ext_make(a, fn, arg, argn, out) < 0)
		return jerr(err, errlen, "invalid %s value \"%s\"", fn, arg);
	return 0;
}

int ghp_value_from_json(ghp_arena *a, const json_t *j, const ghp_type *t, ghp_value *out,
			char *err, size_t errlen, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return jerr(err, errlen, "value nested too deeply");
	memset(out, 0, sizeof(*out));
	if (t) {
		switch (t->kind) {
		case GHP_T_BOOL:
			if (!json_is_boolean(j))
				return jerr(err, errlen, "expected a bool");
			break;
		case GHP_T_LONG:
			if (!json_is_integer(j))
				return jerr(err, errlen, "expected a long");
			break;
		case GHP_T_STRING:
			if (!json_is_string(j))
				return jerr(err, errlen, "expected a string");
			break;
		case GHP_T_ENTITY: {
			const ghp_euid *u;
			if (ghp_euid_from_json(a, j, &u, err, errlen) < 0)
				return -1;
			if (t->name && !ghp_str_eqz(u->type, t->name))
				return jerr(err, errlen, "expected an entity of type %s, got %.*s", t->name,
					    (int)u->type.n, u->type.p);
			out->kind = GHP_V_ENTITY;
			out->u.e = u;
			return 0;
		}
		case GHP_T_EXTENSION: {
			const char *name = t->name ? t->name : "";
			if (json_is_object(j) && json_object_get(j, "__extn"))
				return ext_from_json(a, json_object_get(j, "__extn"), name, out, err, errlen);
			if (json_is_object(j) && json_object_get(j, "fn"))
				return ext_from_json(a, j, name, out, err, errlen);
			size_t n;
			const char *s = jstr(j, &n);
			if (!s)
				return jerr(err, errlen, "expected a %s", name);
			if (ghp_ext_make(a, name, s, n, out) < 0)
				return jerr(err, errlen, "invalid %s value \"%s\"", name, s);
			return 0;
		}
		case GHP_T_SET: {
			if (!json_is_array(j))
				return jerr(err, errlen, "expected a set");
			size_t n = json_array_size(j);
			ghp_value *v = ghp_arena_alloc(a, (n ? n : 1) * sizeof(*v));
			if (!v)
				return jerr(err, errlen, "out of memory");
			for (size_t i = 0; i < n; i++)
				if (ghp_value_from_json(a, json_array_get(j, i), t->element, &v[i], err,
							errlen, depth + 1) < 0)
					return -1;
			out->kind = GHP_V_SET;
			out->u.set.n = ghp_set_normalize(v, n);
			out->u.set.v = v;
			return 0;
		}
		case GHP_T_RECORD: {
			if (!json_is_object(j))
				return jerr(err, errlen, "expected a record");
			size_t n = json_object_size(j);
			ghp_field *f = ghp_arena_alloc(a, (n ? n : 1) * sizeof(*f));
			if (!f)
				return jerr(err, errlen, "out of memory");
			size_t k = 0;
			const char *key;
			json_t *val;
			json_object_foreach((json_t *)j, key, val) {
				const ghp_type *at = NULL;
				const ghp_attr *decl;
				/* the decoded key (NUL marks undone) is what the schema names */
				f[k].key.p = jdup(a, key, strlen(key), &f[k].key.n);
				if (!f[k].key.p)
					return jerr(err, errlen, "out of memory");
				decl = t->element ? NULL : ghp_type_attr(t, f[k].key.p, f[k].key.n);
				if (t->element)
					at = t->element;        /* a map (entity tags) */
				else if (decl)
					at = decl->type;
				else if (!t->open)
					return jerr(err, errlen, "attribute %s is not declared", key);
				if (ghp_value_from_json(a, val, at, &f[k].val, err, errlen, depth + 1) < 0) {
					size_t m = strlen(err);
					if (m + 1 < errlen)
						snprintf(err + m, errlen - m, " (in %s)", key);
					return -1;
				}
				k++;
			}
			for (size_t i = 0; i < t->nattrs; i++) {
				int present = 0;
				if (!t->attrs[i].required)
					continue;
				for (size_t m = 0; m < k && !present; m++)
					present = f[m].key.n == t->attrs[i].name_len &&
						  !memcmp(f[m].key.p, t->attrs[i].name, f[m].key.n);
				if (!present)
					return jerr(err, errlen, "required attribute %s is missing",
						    t->attrs[i].name);
			}
			ghp_record_normalize(f, k);
			out->kind = GHP_V_RECORD;
			out->u.rec.n = k;
			out->u.rec.f = f;
			return 0;
		}
		}
	}
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE:
		out->kind = GHP_V_BOOL;
		out->u.b = json_is_true(j);
		return 0;
	case JSON_INTEGER:
		out->kind = GHP_V_LONG;
		out->u.l = json_integer_value(j);
		return 0;
	case JSON_STRING: {
		size_t n = json_string_length(j);
		out->kind = GHP_V_STRING;
		out->u.s.p = jdup(a, json_string_value(j), n, &out->u.s.n);
		return out->u.s.p ? 0 : jerr(err, errlen, "out of memory");
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		ghp_value *v = ghp_arena_alloc(a, (n ? n : 1) * sizeof(*v));
		if (!v)
			return jerr(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++)
			if (ghp_value_from_json(a, json_array_get(j, i), NULL, &v[i], err, errlen,
						depth + 1) < 0)
				return -1;
		out->kind = GHP_V_SET;
		out->u.set.n = ghp_set_normalize(v, n);
		out->u.set.v = v;
		return 0;
	}
	case JSON_OBJECT: {
		if (json_object_size(j) == 1 && json_object_get(j, "__entity")) {
			const ghp_euid *u;
			if (ghp_euid_from_json(a, j, &u, err, errlen) < 0)
				return -1;
			out->kind = GHP_V_ENTITY;
			out->u.e = u;
			return 0;
		}
		if (json_object_size(j) == 1 && json_object_get(j, "__extn"))
			return ext_from_json(a, json_object_get(j, "__extn"), NULL, out, err, errlen);
		size_t n = json_object_size(j);
		ghp_field *f = ghp_arena_alloc(a, (n ? n : 1) * sizeof(*f));
		if (!f)
			return jerr(err, errlen, "out of memory");
		size_t k = 0;
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)j, key, val) {
			f[k].key.p = jdup(a, key, strlen(key), &f[k].key.n);
			if (!f[k].key.p)
				return jerr(err, errlen, "out of memory");
			if (ghp_value_from_json(a, val, NULL, &f[k].val, err, errlen, depth + 1) < 0)
				return -1;
			k++;
		}
		ghp_record_normalize(f, k);
		out->kind = GHP_V_RECORD;
		out->u.rec.n = k;
		out->u.rec.f = f;
		return 0;
	}
	default:
		return jerr(err, errlen, "unsupported JSON value (null or a fraction)");
	}
}

/* --- printing -------------------------------------------------------- */

#define BUF_MAX (64u * 1024 * 1024)

void ghp_buf_add(ghp_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = cap > BUF_MAX ? NULL : realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

void ghp_buf_addz(ghp_buf *b, const char *s)
{
	ghp_buf_add(b, s, strlen(s));
}

void ghp_buf_printf(ghp_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		b->failed = 1;
	else
		ghp_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void ghp_buf_str(ghp_buf *b, ghp_str s)
{
	ghp_buf_add(b, "\"", 1);
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		switch (c) {
		case '"': ghp_buf_add(b, "\\\"", 2); break;
		case '\\': ghp_buf_add(b, "\\\\", 2); break;
		case '\n': ghp_buf_add(b, "\\n", 2); break;
		case '\r': ghp_buf_add(b, "\\r", 2); break;
		case '\t': ghp_buf_add(b, "\\t", 2); break;
		case 0: ghp_buf_add(b, "\\0", 2); break;
		default:
			if (c < 0x20 || c == 0x7f)
				ghp_buf_printf(b, "\\u{%x}", c);
			else
				ghp_buf_add(b, (const char *)&s.p[i], 1);
		}
	}
	ghp_buf_add(b, "\"", 1);
}

void ghp_buf_value(ghp_buf *b, const ghp_value *v)
{
	char tmp[96];
	switch (v->kind) {
	case GHP_V_BOOL:
		ghp_buf_addz(b, v->u.b ? "true" : "false");
		break;
	case GHP_V_LONG:
		ghp_buf_printf(b, "%lld", (long long)v->u.l);
		break;
	case GHP_V_STRING:
		ghp_buf_str(b, v->u.s);
		break;
	case GHP_V_ENTITY:
		ghp_buf_add(b, v->u.e->type.p, v->u.e->type.n);
		ghp_buf_add(b, "::", 2);
		ghp_buf_str(b, v->u.e->id);
		break;
	case GHP_V_SET:
		ghp_buf_add(b, "[", 1);
		for (size_t i = 0; i < v->u.set.n; i++) {
			if (i)
				ghp_buf_add(b, ", ", 2);
			ghp_buf_value(b, &v->u.set.v[i]);
		}
		ghp_buf_add(b, "]", 1);
		break;
	case GHP_V_RECORD:
		ghp_buf_add(b, "{", 1);
		for (size_t i = 0; i < v->u.rec.n; i++) {
			if (i)
				ghp_buf_add(b, ", ", 2);
			ghp_buf_str(b, v->u.rec.f[i].key);
			ghp_buf_add(b, ": ", 2);
			ghp_buf_value(b, &v->u.rec.f[i].val);
		}
		ghp_buf_add(b, "}", 1);
		break;
	case GHP_V_DECIMAL:
		ghp_decimal_format(tmp, sizeof(tmp), v->u.l);
		ghp_buf_printf(b, "decimal(\"%s\")", tmp);
		break;
	case GHP_V_IP:
		ghp_ip_format(tmp, sizeof(tmp), v->u.ip);
		ghp_buf_printf(b, "ip(\"%s\")", tmp);
		break;
	case GHP_V_DATETIME:
		ghp_datetime_format(tmp, sizeof(tmp), v->u.l);
		ghp_buf_printf(b, "datetime(\"%s\")", tmp);
		break;
	case GHP_V_DURATION:
		ghp_duration_format(tmp, sizeof(tmp), v->u.l);
		ghp_buf_printf(b, "duration(\"%s\")", tmp);
		break;
	}
}
