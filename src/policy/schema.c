/* schema.c - a parsed schema: resolves raw declarations (schema_raw.h) into
 * fully qualified entity types and actions, with their lookups. */
#include "policy/schema_raw.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gh_policy_schema {
	ghp_sa arena;
	size_t nentities;
	ghp_entity_type *entities;     /* sorted by name */
	size_t nactions;
	ghp_action *actions;           /* sorted by type, then id */
	size_t ent_mask, act_mask;
	uint32_t *ent_slots;           /* index + 1; 0 is empty */
	uint32_t *act_slots;
};

/* --- arena ----------------------------------------------------------- */

struct ghp_sa_block {
	ghp_sa_block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#define SA_BLOCK ((size_t)64 * 1024)

void *ghp_sa_alloc(ghp_sa *a, size_t n)
{
	ghp_sa_block *b = a->head;
	size_t need = (n + 15) & ~(size_t)15;
	void *p;

	if (need < n || need > GHP_SA_CAP)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t size = need > SA_BLOCK / 4 ? need : SA_BLOCK;
		size_t cap = a->cap ? a->cap : GHP_SA_CAP;

		if (a->total + size > cap)
			return NULL;
		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->used = 0;
		b->size = size;
		a->total += size;
		if (size == need && a->head) {
			/* a big one-off: keep the current block for small ones */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
}

char *ghp_sa_strndup(ghp_sa *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = ghp_sa_alloc(a, n + 1);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

int ghp_sa_grow(ghp_sa *a, void **items, size_t n, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	if (ncap < *cap || ncap > GHP_SA_CAP / elem)
		return -1;
	p = ghp_sa_alloc(a, ncap * elem);
	if (!p)
		return -1;
	if (n)
		memcpy(p, *items, n * elem);
	*items = p;
	*cap = ncap;
	return 0;
}

void ghp_sa_free(ghp_sa *a)
{
	ghp_sa_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->total = 0;
}

/* --- shared helpers -------------------------------------------------- */

int ghp_schema_error(gh_policy_error *err, int code, int line, int column, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

static int is_ident_start(unsigned char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

int ghp_schema_is_path(const char *s, size_t len)
{
	size_t i = 0;

	for (;;) {
		if (i >= len || !is_ident_start((unsigned char)s[i]))
			return 0;
		while (i < len && is_ident_char((unsigned char)s[i]))
			i++;
		if (i == len)
			return 1;
		if (len - i < 2 || s[i] != ':' || s[i + 1] != ':')
			return 0;
		i += 2;
	}
}

/* --- hash tables ------------------------------------------------------ */

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t hash_key(const char *a, size_t alen, const char *b, size_t blen)
{
	uint64_t h = hash_bytes(14695981039346656037ULL, a, alen);

	h ^= 0xff;
	h *= 1099511628211ULL;
	return hash_bytes(h, b, blen);
}

static size_t table_size(size_t n)
{
	size_t size = 8;

	while (size < n * 2 + 1)
		size *= 2;
	return size;
}

/* The build's table: keys (a, b) of bytes, b empty for single names. */
typedef struct hslot {
	const char *a, *b;
	size_t alen, blen;
	void *v;
} hslot;

typedef struct htab {
	size_t mask;
	hslot *slots;
} htab;

static int htab_init(htab *t, ghp_sa *a, size_t n)
{
	size_t size = table_size(n);

	t->mask = size - 1;
	t->slots = ghp_sa_alloc(a, size * sizeof(hslot));
	return t->slots ? 0 : -1;
}

static hslot *htab_find(const htab *t, const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = (size_t)hash_key(a, alen, b, blen) & t->mask;

	for (;; i = (i + 1) & t->mask) {
		hslot *s = &t->slots[i];

		if (!s->v)
			return s;
		if (s->alen == alen && s->blen == blen && memcmp(s->a, a, alen) == 0 &&
		    (!blen || memcmp(s->b, b, blen) == 0))
			return s;
	}
}

static void *htab_get(const htab *t, const char *a, const char *b, size_t blen)
{
	return htab_find(t, a, strlen(a), b, blen)->v;
}

/* --- building --------------------------------------------------------- */

static const ghp_type t_bool = {.kind = GHP_T_BOOL};
static const ghp_type t_long = {.kind = GHP_T_LONG};
static const ghp_type t_string = {.kind = GHP_T_STRING};
static const ghp_type t_ipaddr = {.kind = GHP_T_EXTENSION, .name = "ipaddr"};
static const ghp_type t_decimal = {.kind = GHP_T_EXTENSION, .name = "decimal"};
static const ghp_type t_datetime = {.kind = GHP_T_EXTENSION, .name = "datetime"};
static const ghp_type t_duration = {.kind = GHP_T_EXTENSION, .name = "duration"};
static const ghp_type t_empty_record = {.kind = GHP_T_RECORD};

static const struct builtin {
	const char *name;
	const ghp_type *type;
} builtins[] = {
	{"Bool", &t_bool},       {"Long", &t_long},         {"String", &t_string},
	{"ipaddr", &t_ipaddr},   {"decimal", &t_decimal},   {"datetime", &t_datetime},
	{"duration", &t_duration},
};

static const ghp_type *builtin_type(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return builtins[i].type;
	return NULL;
}

typedef struct cslot {             /* a common type */
	const ghp_sr_common *c;
	const char *ns;
	int state;                 /* 0 unresolved, 1 resolving, 2 done */
	int height;
	const ghp_type *type;
} cslot;

typedef struct eslot {             /* an entity type */
	const ghp_sr_entity *e;
	const char *ns;
	const char *name;          /* fully qualified, in the model's arena */
	ghp_type *ref;             /* the entity type as a type, made on first use */
	size_t index;
} eslot;

typedef struct aslot {             /* an action */
	const ghp_sr_action *a;
	const char *ns;
	const char *type;          /* fully qualified, in the model's arena */
	size_t index;
	size_t pending;            /* parents not yet removed (cycle check) */
} aslot;

typedef struct bctx {
	gh_policy_schema *s;
	ghp_sa tmp;
	gh_policy_error *err;
	int code;                  /* the GH_POLICY_E* of the first failure */
	htab commons, ents, acts;
	cslot **cslots;            /* in declaration order */
	eslot **eslots;
	aslot **aslots;
	size_t ncslots, neslots, naslots;
	struct lcache {            /* recently resolved entity type lists */
		const ghp_sr_ref *refs;
		const char *ns;
		size_t n;
		const char *const *names;
	} lists[4];
	size_t nextlist;
	size_t nedges;             /* action group memberships, capped */
} bctx;

enum { REF_COMMON = 1, REF_ENTITY = 2 };

/* Memberships of actions in groups, all told: bounds the cycle check. */
#define GHP_MAX_ACTION_EDGES (1 << 20)

/* Records the first failure; returns -1. */
__attribute__((format(printf, 5, 6))) static int fail(bctx *b, int code, int line, int column,
							const char *fmt, ...)
{
	va_list ap;

	if (b->code)
		return -1;
	b->code = code;
	if (b->err) {
		b->err->line = line;
		b->err->column = column;
		va_start(ap, fmt);
		vsnprintf(b->err->message, sizeof(b->err->message), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int oom(bctx *b)
{
	return fail(b, GH_POLICY_ERROR, 0, 0, "out of memory");
}

/* ns::name in arena a (name alone in the empty namespace). */
static char *qualify_in(ghp_sa *a, const char *ns, const char *name)
{
	size_t nl = strlen(ns), ml = strlen(name);
	char *p;

	if (!nl)
		return ghp_sa_strndup(a, name, ml);
	p = ghp_sa_alloc(a, nl + ml + 3);
	if (!p)
		return NULL;
	memcpy(p, ns, nl);
	memcpy(p + nl, "::", 2);
	memcpy(p + nl + 2, name, ml);
	return p;
}

/* Names that live on in the model. */
static char *qualify(bctx *b, const char *ns, const char *name)
{
	return qualify_in(&b->s->arena, ns, name);
}

/* Names only looked up while building. */
static char *qualify_tmp(bctx *b, const char *ns, const char *name)
{
	return qualify_in(&b->tmp, ns, name);
}

static int has_cedar_segment(const char *s)
{
	const char *p = s;

	while ((p = strstr(p, "__cedar"))) {
		if ((p == s || p[-1] == ':') && (p[7] == '\0' || p[7] == ':'))
			return 1;
		p += 7;
	}
	return 0;
}

static int reserved_common_name(const char *name)
{
	static const char *const words[] = {"Bool", "Boolean", "Entity", "Extension",
					    "Long", "Record", "Set",     "String"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i], name) == 0)
			return 1;
	return 0;
}

static const ghp_type *resolve(bctx *b, const char *ns, const ghp_sr_type *t, int depth,
			       int *height);

static const ghp_type *resolve_common(bctx *b, cslot *c, int line, int column, int depth,
				      int *height)
{
	if (c->state == 1) {
		fail(b, GH_POLICY_EINVALID, line, column,
				 "common type %s%s%s is defined in terms of itself", c->ns,
				 *c->ns ? "::" : "", c->c->name);
		return NULL;
	}
	if (c->state == 0) {
		c->state = 1;
		c->type = resolve(b, c->ns, c->c->type, depth, &c->height);
		if (!c->type)
			return NULL;
		c->height -= depth;
		c->state = 2;
	}
	if (depth + c->height > GH_POLICY_MAX_DEPTH) {
		fail(b, GH_POLICY_ETOOLARGE, line, column,
				 "type nested deeper than %d", GH_POLICY_MAX_DEPTH);
		return NULL;
	}
	*height = depth + c->height;
	return c->type;
}

static const ghp_type *entity_ref_type(bctx *b, eslot *e)
{
	if (!e->ref) {
		e->ref = ghp_sa_alloc(&b->s->arena, sizeof(ghp_type));
		if (!e->ref) {
			oom(b);
			return NULL;
		}
		e->ref->kind = GHP_T_ENTITY;
		e->ref->name = e->name;
	}
	return e->ref;
}

/* Resolves a reference the way Cedar does: an unqualified name means ns::name
 * if declared, else name in the empty namespace; at each step a common type
 * wins over an entity type; primitive and extension names are common types
 * of the empty namespace (and of __cedar) unless declared there. */
static int lookup_ref(bctx *b, const char *ns, const char *name, int kinds, cslot **cout,
		      eslot **eout, const ghp_type **bout)
{
	const char *cands[2];
	char *qualified = NULL;
	int n = 0;

	*cout = NULL;
	*eout = NULL;
	*bout = NULL;
	if (strstr(name, "::") || !*ns) {
		cands[n++] = name;
	} else {
		qualified = qualify_tmp(b, ns, name);
		if (!qualified)
			return oom(b);
		cands[n++] = qualified;
		cands[n++] = name;
	}
	for (int i = 0; i < n; i++) {
		const char *p = cands[i];

		if (kinds & REF_COMMON) {
			if ((*cout = htab_get(&b->commons, p, "", 0)))
				return 0;
			if (strncmp(p, "__cedar::", 9) == 0 && (*bout = builtin_type(p + 9)))
				return 0;
		}
		if ((kinds & REF_ENTITY) && (*eout = htab_get(&b->ents, p, "", 0)))
			return 0;
		if ((kinds & REF_COMMON) && !strstr(p, "::") && (*bout = builtin_type(p)))
			return 0;
	}
	return 1;
}

static const char *kinds_text(int kinds)
{
	return kinds == REF_ENTITY ? "entity type" : kinds == REF_COMMON ? "common type" :
									      "common or entity type";
}

static const ghp_type *resolve_ref(bctx *b, const char *ns, const char *name, int kinds, int line,
				   int column, int depth, int *height)
{
	cslot *c;
	eslot *e;
	const ghp_type *t;
	int rc = lookup_ref(b, ns, name, kinds, &c, &e, &t);

	if (rc < 0)
		return NULL;
	if (rc > 0) {
		fail(b, GH_POLICY_EINVALID, line, column, "undeclared %s %s",
				 kinds_text(kinds), name);
		return NULL;
	}
	*height = depth;
	if (c)
		return resolve_common(b, c, line, column, depth, height);
	if (e)
		return entity_ref_type(b, e);
	return t;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int attr_cmp(const void *x, const void *y)
{
	const ghp_attr *a = x, *b = y;

	return bytes_cmp(a->name, a->name_len, b->name, b->name_len);
}

static const ghp_type *resolve_uncached(bctx *b, const char *ns, const ghp_sr_type *t, int depth,
					int *height)
{
	ghp_type *out;
	ghp_attr *attrs;
	int h;

	if (depth > GH_POLICY_MAX_DEPTH) {
		fail(b, GH_POLICY_ETOOLARGE, t->line, t->column,
				 "type nested deeper than %d", GH_POLICY_MAX_DEPTH);
		return NULL;
	}
	*height = depth;
	switch (t->kind) {
	case GHP_SR_BOOL:
		return &t_bool;
	case GHP_SR_LONG:
		return &t_long;
	case GHP_SR_STRING:
		return &t_string;
	case GHP_SR_EXTENSION: {
		const char *n = strncmp(t->name, "__cedar::", 9) == 0 ? t->name + 9 : t->name;
		const ghp_type *x = builtin_type(n);

		if (!x || x->kind != GHP_T_EXTENSION) {
			fail(b, GH_POLICY_EINVALID, t->line, t->column,
					 "unknown extension type %s", t->name);
			return NULL;
		}
		return x;
	}
	case GHP_SR_ENTITY:
		return resolve_ref(b, ns, t->name, REF_ENTITY, t->line, t->column, depth, height);
	case GHP_SR_ENTITY_OR_COMMON:
		return resolve_ref(b, ns, t->name, REF_COMMON | REF_ENTITY, t->line, t->column,
				   depth, height);
	case GHP_SR_COMMON:
		return resolve_ref(b, ns, t->name, REF_COMMON, t->line, t->column, depth, height);
	case GHP_SR_SET:
		out = ghp_sa_alloc(&b->s->arena, sizeof(*out));
		if (!out) {
			oom(b);
			return NULL;
		}
		out->kind = GHP_T_SET;
		out->element = resolve(b, ns, t->element, depth + 1, &h);
		if (!out->element)
			return NULL;
		*height = h;
		return out;
	case GHP_SR_RECORD:
		if (!t->nattrs && !t->open)
			return &t_empty_record;
		out = ghp_sa_alloc(&b->s->arena, sizeof(*out));
		attrs = t->nattrs ? ghp_sa_alloc(&b->s->arena, t->nattrs * sizeof(*attrs)) : NULL;
		if (!out || (t->nattrs && !attrs)) {
			oom(b);
			return NULL;
		}
		out->kind = GHP_T_RECORD;
		out->open = t->open;
		for (size_t i = 0; i < t->nattrs; i++) {
			const ghp_sr_attr *sa = &t->attrs[i];

			attrs[i].name = sa->name;
			attrs[i].name_len = sa->name_len;
			attrs[i].required = sa->required;
			attrs[i].type = resolve(b, ns, sa->type, depth + 1, &h);
			if (!attrs[i].type)
				return NULL;
			if (h > *height)
				*height = h;
		}
		if (t->nattrs)
			qsort(attrs, t->nattrs, sizeof(*attrs), attr_cmp);
		for (size_t i = 1; i < t->nattrs; i++) {
			if (attr_cmp(&attrs[i - 1], &attrs[i]) == 0) {
				const ghp_sr_attr *sa = NULL;

				for (size_t j = t->nattrs; j-- > 0 && !sa;)
					if (t->attrs[j].name_len == attrs[i].name_len &&
					    memcmp(t->attrs[j].name, attrs[i].name,
						   attrs[i].name_len) == 0)
						sa = &t->attrs[j];
				fail(b, GH_POLICY_EINVALID, sa->line, sa->column,
						 "duplicate attribute \"%s\"", attrs[i].name);
				return NULL;
			}
			/* names point into the raw schema: copy them into the model */
		}
		for (size_t i = 0; i < t->nattrs; i++) {
			attrs[i].name = ghp_sa_strndup(&b->s->arena, attrs[i].name, attrs[i].name_len);
			if (!attrs[i].name) {
				oom(b);
				return NULL;
			}
		}
		out->nattrs = t->nattrs;
		out->attrs = attrs;
		return out;
	}
	fail(b, GH_POLICY_ERROR, t->line, t->column, "bad raw type");
	return NULL;
}

static const ghp_type *resolve(bctx *b, const char *ns, const ghp_sr_type *t, int depth,
			       int *height)
{
	ghp_sr_type *memo = (ghp_sr_type *)t;  /* the raw schema is not const: memo fields */
	const ghp_type *out;

	if (t->resolved && t->resolved_ns == ns) {
		if (depth + t->resolved_height > GH_POLICY_MAX_DEPTH) {
			fail(b, GH_POLICY_ETOOLARGE, t->line, t->column,
			     "type nested deeper than %d", GH_POLICY_MAX_DEPTH);
			return NULL;
		}
		*height = depth + t->resolved_height;
		return t->resolved;
	}
	out = resolve_uncached(b, ns, t, depth, height);
	if (out) {
		memo->resolved = out;
		memo->resolved_ns = ns;
		memo->resolved_height = *height - depth;
	}
	return out;
}

/* The fully qualified name of a declared entity type reference. */
static const char *resolve_entity_name(bctx *b, const char *ns, const ghp_sr_ref *r)
{
	cslot *c;
	eslot *e;
	const ghp_type *t;
	int rc = lookup_ref(b, ns, r->name, REF_ENTITY, &c, &e, &t);

	if (rc < 0)
		return NULL;
	if (rc > 0) {
		fail(b, GH_POLICY_EINVALID, r->line, r->column,
				 "undeclared entity type %s", r->name);
		return NULL;
	}
	return e->name;
}

static int str_ptr_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Entity type names, sorted, without duplicates. The names of one
 * declaration share their lists, so recent lists are remembered. */
static int resolve_entity_list(bctx *b, const char *ns, const ghp_sr_ref *refs, size_t n,
			       size_t *nout, const char *const **out)
{
	const char **names;
	size_t k = 0;
	struct lcache *lc;

	*nout = 0;
	*out = NULL;
	if (!n)
		return 0;
	for (size_t i = 0; i < sizeof(b->lists) / sizeof(b->lists[0]); i++) {
		lc = &b->lists[i];
		if (lc->refs == refs && lc->ns == ns) {
			*nout = lc->n;
			*out = lc->names;
			return 0;
		}
	}
	names = ghp_sa_alloc(&b->s->arena, n * sizeof(*names));
	if (!names)
		return oom(b);
	for (size_t i = 0; i < n; i++) {
		names[i] = resolve_entity_name(b, ns, &refs[i]);
		if (!names[i])
			return -1;
	}
	qsort(names, n, sizeof(*names), str_ptr_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || names[k - 1] != names[i])
			names[k++] = names[i];
	*nout = k;
	*out = names;
	lc = &b->lists[b->nextlist++ % (sizeof(b->lists) / sizeof(b->lists[0]))];
	lc->refs = refs;
	lc->ns = ns;
	lc->n = k;
	lc->names = names;
	return 0;
}

static int dup_error(bctx *b, int line, int column, const char *what, const char *ns,
		     const char *name)
{
	return fail(b, GH_POLICY_EINVALID, line, column, "duplicate %s %s%s%s",
				what, ns, *ns ? "::" : "", name);
}

/* Registers every declaration under its fully qualified name. */
static int register_all(bctx *b, const ghp_sr_schema *raw)
{
	size_t nc = 0, ne = 0, na = 0, ai = 0, ei = 0;
	htab nstab;

	for (size_t i = 0; i < raw->nns; i++) {
		nc += raw->ns[i].ncommons;
		ne += raw->ns[i].nentities;
		na += raw->ns[i].nactions;
	}
	if (ne > UINT32_MAX / 4 || na > UINT32_MAX / 4)
		return fail(b, GH_POLICY_ETOOLARGE, 0, 0, "too many declarations");
	if (htab_init(&b->commons, &b->tmp, nc) || htab_init(&b->ents, &b->tmp, ne) ||
	    htab_init(&b->acts, &b->tmp, na) || htab_init(&nstab, &b->tmp, raw->nns))
		return oom(b);
	b->s->entities = ne ? ghp_sa_alloc(&b->s->arena, ne * sizeof(ghp_entity_type)) : NULL;
	b->s->actions = na ? ghp_sa_alloc(&b->s->arena, na * sizeof(ghp_action)) : NULL;
	b->aslots = ghp_sa_alloc(&b->tmp, (na + 1) * sizeof(aslot *));
	b->eslots = ghp_sa_alloc(&b->tmp, (ne + 1) * sizeof(eslot *));
	b->cslots = ghp_sa_alloc(&b->tmp, (nc + 1) * sizeof(cslot *));
	if ((ne && !b->s->entities) || (na && !b->s->actions) || !b->aslots || !b->eslots ||
	    !b->cslots)
		return oom(b);

	for (size_t i = 0; i < raw->nns; i++) {
		const ghp_sr_ns *ns = &raw->ns[i];
		const char *action_type;
		hslot *nslot;

		if (*ns->name && (!ghp_schema_is_path(ns->name, strlen(ns->name)) ||
				  has_cedar_segment(ns->name)))
			return fail(b, GH_POLICY_EINVALID, ns->line, ns->column,
						"invalid namespace name %s", ns->name);
		nslot = htab_find(&nstab, ns->name, strlen(ns->name), "", 0);
		if (nslot->v)
			return fail(b, GH_POLICY_EINVALID, ns->line, ns->column,
				    "duplicate namespace %s", *ns->name ? ns->name : "(empty)");
		nslot->a = ns->name;
		nslot->alen = strlen(ns->name);
		nslot->b = "";
		nslot->v = (void *)ns;
		for (size_t j = 0; j < ns->ncommons; j++) {
			const ghp_sr_common *c = &ns->commons[j];
			char *fq = qualify_tmp(b, ns->name, c->name);
			hslot *slot;
			cslot *cs;

			if (!fq)
				return oom(b);
			if (!ghp_schema_is_path(c->name, strlen(c->name)) || strstr(c->name, "::") ||
			    reserved_common_name(c->name) || strcmp(c->name, "__cedar") == 0)
				return fail(b, GH_POLICY_EINVALID, c->line, c->column,
							"invalid common type name %s", c->name);
			slot = htab_find(&b->commons, fq, strlen(fq), "", 0);
			if (slot->v)
				return dup_error(b, c->line, c->column, "common type", ns->name,
						 c->name);
			cs = ghp_sa_alloc(&b->tmp, sizeof(*cs));
			if (!cs)
				return oom(b);
			cs->c = c;
			cs->ns = ns->name;
			b->cslots[b->ncslots++] = cs;
			slot->a = fq;
			slot->alen = strlen(fq);
			slot->b = "";
			slot->v = cs;
		}
		for (size_t j = 0; j < ns->nentities; j++) {
			const ghp_sr_entity *e = &ns->entities[j];
			char *fq = qualify(b, ns->name, e->name);
			hslot *slot;
			eslot *es;

			if (!fq)
				return oom(b);
			if (!ghp_schema_is_path(e->name, strlen(e->name)) || strstr(e->name, "::") ||
			    strcmp(e->name, "__cedar") == 0)
				return fail(b, GH_POLICY_EINVALID, e->line, e->column,
							"invalid entity type name %s", e->name);
			if (strcmp(e->name, "Action") == 0)
				return fail(b, GH_POLICY_EINVALID, e->line, e->column,
							"entity type Action is declared implicitly "
							"by the actions");
			slot = htab_find(&b->ents, fq, strlen(fq), "", 0);
			if (slot->v)
				return dup_error(b, e->line, e->column, "entity type", ns->name,
						 e->name);
			es = ghp_sa_alloc(&b->tmp, sizeof(*es));
			if (!es)
				return oom(b);
			es->e = e;
			es->ns = ns->name;
			es->name = fq;
			es->index = ei++;
			b->eslots[b->neslots++] = es;
			slot->a = fq;
			slot->alen = strlen(fq);
			slot->b = "";
			slot->v = es;
		}
		action_type = qualify(b, ns->name, "Action");
		if (!action_type)
			return oom(b);
		for (size_t j = 0; j < ns->nactions; j++) {
			const ghp_sr_action *a = &ns->actions[j];
			hslot *slot = htab_find(&b->acts, action_type, strlen(action_type), a->id,
						a->id_len);
			aslot *as;

			if (slot->v)
				return fail(b, GH_POLICY_EINVALID, a->line, a->column,
							"duplicate action %s::\"%s\"", action_type,
							a->id);
			as = ghp_sa_alloc(&b->tmp, sizeof(*as));
			if (!as)
				return oom(b);
			as->a = a;
			as->ns = ns->name;
			as->type = action_type;
			as->index = ai;
			b->aslots[ai++] = as;
			slot->a = action_type;
			slot->alen = strlen(action_type);
			slot->b = a->id;
			slot->blen = a->id_len;
			slot->v = as;
		}
	}
	b->naslots = ai;

	/* RFC 70: a namespace may not shadow a declaration of the empty namespace */
	for (size_t i = 0; i < raw->nns; i++) {
		const ghp_sr_ns *ns = &raw->ns[i];

		if (!*ns->name)
			continue;
		for (size_t j = 0; j < ns->ncommons; j++) {
			const ghp_sr_common *c = &ns->commons[j];

			if (htab_get(&b->commons, c->name, "", 0) || htab_get(&b->ents, c->name, "", 0))
				return fail(b, GH_POLICY_EINVALID, c->line, c->column,
							"%s::%s shadows %s of the empty namespace",
							ns->name, c->name, c->name);
		}
		for (size_t j = 0; j < ns->nentities; j++) {
			const ghp_sr_entity *e = &ns->entities[j];

			if (htab_get(&b->commons, e->name, "", 0) || htab_get(&b->ents, e->name, "", 0))
				return fail(b, GH_POLICY_EINVALID, e->line, e->column,
							"%s::%s shadows %s of the empty namespace",
							ns->name, e->name, e->name);
		}
		for (size_t j = 0; j < ns->nactions; j++) {
			const ghp_sr_action *a = &ns->actions[j];

			if (htab_get(&b->acts, "Action", a->id, a->id_len))
				return fail(b, GH_POLICY_EINVALID, a->line, a->column,
							"%s::Action::\"%s\" shadows Action::\"%s\" of "
							"the empty namespace",
							ns->name, a->id, a->id);
		}
	}
	return 0;
}

static int build_entities(bctx *b)
{
	for (size_t i = 0; i < b->neslots; i++) {
		const eslot *es = b->eslots[i];
		const ghp_sr_entity *e = es->e;
		ghp_entity_type *m = &b->s->entities[es->index];
		int h;

		m->name = es->name;
		m->attrs = &t_empty_record;
		if (e->is_enum) {
			const char **ids;
			size_t *lens;

			if (!e->nenum)
				return fail(b, GH_POLICY_EINVALID, e->line, e->column,
					    "enumerated entity type %s has no ids", e->name);
			ids = ghp_sa_alloc(&b->s->arena, e->nenum * sizeof(*ids));
			lens = ghp_sa_alloc(&b->s->arena, e->nenum * sizeof(*lens));
			if (!ids || !lens)
				return oom(b);
			for (size_t k = 0; k < e->nenum; k++) {
				ids[k] = ghp_sa_strndup(&b->s->arena, e->enum_ids[k], e->enum_lens[k]);
				if (!ids[k])
					return oom(b);
				lens[k] = e->enum_lens[k];
			}
			m->nenum = e->nenum;
			m->enum_ids = ids;
			m->enum_id_lens = lens;
			continue;
		}
		if (e->shape) {
			m->attrs = resolve(b, es->ns, e->shape, 0, &h);
			if (!m->attrs)
				return -1;
			if (m->attrs->kind != GHP_T_RECORD)
				return fail(b, GH_POLICY_EINVALID, e->line, e->column,
					    "the shape of entity type %s is not a record", es->name);
		}
		if (e->tags) {
			m->tags = resolve(b, es->ns, e->tags, 0, &h);
			if (!m->tags)
				return -1;
		}
		if (resolve_entity_list(b, es->ns, e->parents, e->nparents, &m->nparents,
					&m->parents))
			return -1;
	}
	return 0;
}

static aslot *find_action(bctx *b, const char *ns, const ghp_sr_auid *p)
{
	const char *cands[2];
	int n = 0;
	const char *type = p->type ? p->type : "Action";

	if (strstr(type, "::") || !*ns) {
		cands[n++] = type;
	} else {
		cands[n] = qualify_tmp(b, ns, type);
		if (!cands[n]) {
			oom(b);
			return NULL;
		}
		n++;
		cands[n++] = type;
	}
	for (int i = 0; i < n; i++) {
		aslot *a = htab_get(&b->acts, cands[i], p->id, p->id_len);

		if (a)
			return a;
	}
	fail(b, GH_POLICY_EINVALID, p->line, p->column,
			 "undeclared action %s::\"%s\"", type, p->id);
	return NULL;
}

static int aslot_cmp(const void *x, const void *y)
{
	const aslot *a = *(aslot *const *)x, *b = *(aslot *const *)y;
	int c = strcmp(a->type, b->type);

	return c ? c : bytes_cmp(a->a->id, a->a->id_len, b->a->id, b->a->id_len);
}

static int build_actions(bctx *b)
{
	aslot **queue;
	size_t head = 0, tail = 0;
	size_t **children;             /* per action: indexes of its children */
	size_t *nchildren;
	aslot *prev = NULL;

	for (size_t i = 0; i < b->naslots; i++) {
		aslot *as = b->aslots[i];
		const ghp_sr_action *a = as->a;
		ghp_action *m = &b->s->actions[as->index];
		int h;

		m->type = as->type;
		m->id = ghp_sa_strndup(&b->s->arena, a->id, a->id_len);
		if (!m->id)
			return oom(b);
		m->id_len = a->id_len;
		if (resolve_entity_list(b, as->ns, a->principals, a->nprincipals, &m->nprincipals,
					&m->principals) ||
		    resolve_entity_list(b, as->ns, a->resources, a->nresources, &m->nresources,
					&m->resources))
			return -1;
		m->context = &t_empty_record;
		if (a->context) {
			m->context = resolve(b, as->ns, a->context, 0, &h);
			if (!m->context)
				return -1;
			if (m->context->kind != GHP_T_RECORD)
				return fail(b, GH_POLICY_EINVALID, a->line, a->column,
							"the context of action \"%s\" is not a record",
							a->id);
		}
		if (a->nparents && prev && prev->a->parents == a->parents && prev->ns == as->ns) {
			const ghp_action *pm = &b->s->actions[prev->index];

			m->nparents = pm->nparents;
			m->parent_types = pm->parent_types;
			m->parent_ids = pm->parent_ids;
			m->parent_id_lens = pm->parent_id_lens;
			as->pending = m->nparents;
		} else if (a->nparents) {
			aslot **ps = ghp_sa_alloc(&b->tmp, a->nparents * sizeof(*ps));
			const char **types = ghp_sa_alloc(&b->s->arena, a->nparents * sizeof(char *));
			const char **ids = ghp_sa_alloc(&b->s->arena, a->nparents * sizeof(char *));
			size_t *lens = ghp_sa_alloc(&b->s->arena, a->nparents * sizeof(size_t));
			size_t k = 0;

			if (!ps || !types || !ids || !lens)
				return oom(b);
			for (size_t j = 0; j < a->nparents; j++) {
				ps[j] = find_action(b, as->ns, &a->parents[j]);
				if (!ps[j])
					return -1;
			}
			qsort(ps, a->nparents, sizeof(*ps), aslot_cmp);
			for (size_t j = 0; j < a->nparents; j++) {
				if (k && ps[j] == ps[j - 1])
					continue;
				types[k] = ps[j]->type;
				ids[k] = ghp_sa_strndup(&b->s->arena, ps[j]->a->id, ps[j]->a->id_len);
				if (!ids[k])
					return oom(b);
				lens[k++] = ps[j]->a->id_len;
			}
			m->nparents = k;
			m->parent_types = types;
			m->parent_ids = ids;
			m->parent_id_lens = lens;
			as->pending = k;
		}
		b->nedges += m->nparents;
		if (b->nedges > GHP_MAX_ACTION_EDGES)
			return fail(b, GH_POLICY_ETOOLARGE, a->line, a->column,
				    "over %d action group memberships", GHP_MAX_ACTION_EDGES);
		prev = as;
	}

	/* the action hierarchy must be acyclic: peel off actions whose parents are gone */
	if (!b->naslots)
		return 0;
	queue = ghp_sa_alloc(&b->tmp, b->naslots * sizeof(*queue));
	children = ghp_sa_alloc(&b->tmp, b->naslots * sizeof(*children));
	nchildren = ghp_sa_alloc(&b->tmp, b->naslots * sizeof(*nchildren));
	if (!queue || !children || !nchildren)
		return oom(b);
	for (size_t i = 0; i < b->naslots; i++) {
		const ghp_action *m = &b->s->actions[b->aslots[i]->index];

		for (size_t j = 0; j < m->nparents; j++) {
			aslot *p = htab_get(&b->acts, m->parent_types[j], m->parent_ids[j],
					    m->parent_id_lens[j]);
			nchildren[p->index]++;
		}
	}
	for (size_t i = 0; i < b->naslots; i++) {
		if (nchildren[i]) {
			children[i] = ghp_sa_alloc(&b->tmp, nchildren[i] * sizeof(size_t));
			if (!children[i])
				return oom(b);
		}
		nchildren[i] = 0;
	}
	for (size_t i = 0; i < b->naslots; i++) {
		aslot *as = b->aslots[i];
		const ghp_action *m = &b->s->actions[as->index];

		for (size_t j = 0; j < m->nparents; j++) {
			aslot *p = htab_get(&b->acts, m->parent_types[j], m->parent_ids[j],
					    m->parent_id_lens[j]);
			children[p->index][nchildren[p->index]++] = as->index;
		}
		if (!as->pending)
			queue[tail++] = as;
	}
	while (head < tail) {
		aslot *as = queue[head++];

		for (size_t j = 0; j < nchildren[as->index]; j++) {
			aslot *c = b->aslots[children[as->index][j]];

			if (--c->pending == 0)
				queue[tail++] = c;
		}
	}
	if (tail < b->naslots) {
		for (size_t i = 0; i < b->naslots; i++)
			if (b->aslots[i]->pending)
				return fail(b, GH_POLICY_EINVALID,
							b->aslots[i]->a->line, b->aslots[i]->a->column,
							"action %s::\"%s\" is in a cycle of action groups",
							b->aslots[i]->type, b->aslots[i]->a->id);
	}
	return 0;
}

static int entity_cmp(const void *x, const void *y)
{
	return strcmp(((const ghp_entity_type *)x)->name, ((const ghp_entity_type *)y)->name);
}

static int action_cmp(const void *x, const void *y)
{
	const ghp_action *a = x, *b = y;
	int c = strcmp(a->type, b->type);

	return c ? c : bytes_cmp(a->id, a->id_len, b->id, b->id_len);
}

static int index_model(gh_policy_schema *s)
{
	size_t size;

	if (s->nentities)
		qsort(s->entities, s->nentities, sizeof(*s->entities), entity_cmp);
	if (s->nactions)
		qsort(s->actions, s->nactions, sizeof(*s->actions), action_cmp);
	size = table_size(s->nentities);
	s->ent_mask = size - 1;
	s->ent_slots = ghp_sa_alloc(&s->arena, size * sizeof(uint32_t));
	if (!s->ent_slots)
		return -1;
	for (size_t i = 0; i < s->nentities; i++) {
		const char *n = s->entities[i].name;
		size_t k = (size_t)hash_key(n, strlen(n), "", 0) & s->ent_mask;

		while (s->ent_slots[k])
			k = (k + 1) & s->ent_mask;
		s->ent_slots[k] = (uint32_t)i + 1;
	}
	size = table_size(s->nactions);
	s->act_mask = size - 1;
	s->act_slots = ghp_sa_alloc(&s->arena, size * sizeof(uint32_t));
	if (!s->act_slots)
		return -1;
	for (size_t i = 0; i < s->nactions; i++) {
		const ghp_action *a = &s->actions[i];
		size_t k = (size_t)hash_key(a->type, strlen(a->type), a->id, a->id_len) &
			   s->act_mask;

		while (s->act_slots[k])
			k = (k + 1) & s->act_mask;
		s->act_slots[k] = (uint32_t)i + 1;
	}
	return 0;
}

int ghp_schema_build(gh_policy_schema **out, const ghp_sr_schema *raw, gh_policy_error *err)
{
	bctx b = {.err = err};

	*out = NULL;
	if (err) {
		err->line = err->column = 0;
		err->message[0] = '\0';
	}
	b.s = calloc(1, sizeof(*b.s));
	if (!b.s)
		return ghp_schema_error(err, GH_POLICY_ERROR, 0, 0, "out of memory");
	if (register_all(&b, raw))
		goto cleanup;
	b.s->nentities = b.neslots;
	b.s->nactions = b.naslots;
	if (build_entities(&b) || build_actions(&b))
		goto cleanup;
	/* common types nobody uses must still be well-formed */
	for (size_t i = 0; i < b.ncslots; i++) {
		int h;

		if (!resolve_common(&b, b.cslots[i], b.cslots[i]->c->line, b.cslots[i]->c->column,
				    0, &h))
			goto cleanup;
	}
	if (index_model(b.s)) {
		oom(&b);
		goto cleanup;
	}
	*out = b.s;
	b.s = NULL;
cleanup:
	if (b.s && !b.code)
		oom(&b);
	ghp_sa_free(&b.tmp);
	gh_policy_schema_free(b.s);
	return *out ? 0 : b.code;
}

/* --- the model --------------------------------------------------------- */

void gh_policy_schema_free(gh_policy_schema *schema)
{
	if (!schema)
		return;
	ghp_sa_free(&schema->arena);
	free(schema);
}

const ghp_entity_type *ghp_schema_entity_type(const gh_policy_schema *s, const char *name)
{
	size_t k;

	if (!s || !name || !s->nentities)
		return NULL;
	k = (size_t)hash_key(name, strlen(name), "", 0) & s->ent_mask;
	for (; s->ent_slots[k]; k = (k + 1) & s->ent_mask) {
		const ghp_entity_type *e = &s->entities[s->ent_slots[k] - 1];

		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

const ghp_action *ghp_schema_action_n(const gh_policy_schema *s, const char *type, const char *id,
				      size_t id_len)
{
	size_t k;

	if (!s || !type || !id || !s->nactions)
		return NULL;
	k = (size_t)hash_key(type, strlen(type), id, id_len) & s->act_mask;
	for (; s->act_slots[k]; k = (k + 1) & s->act_mask) {
		const ghp_action *a = &s->actions[s->act_slots[k] - 1];

		if (a->id_len == id_len && memcmp(a->id, id, id_len) == 0 &&
		    strcmp(a->type, type) == 0)
			return a;
	}
	return NULL;
}

const ghp_action *ghp_schema_action(const gh_policy_schema *s, const char *type, const char *id)
{
	return id ? ghp_schema_action_n(s, type, id, strlen(id)) : NULL;
}

size_t ghp_schema_entity_type_count(const gh_policy_schema *s)
{
	return s ? s->nentities : 0;
}

const ghp_entity_type *ghp_schema_entity_type_at(const gh_policy_schema *s, size_t i)
{
	return s && i < s->nentities ? &s->entities[i] : NULL;
}

size_t ghp_schema_action_count(const gh_policy_schema *s)
{
	return s ? s->nactions : 0;
}

const ghp_action *ghp_schema_action_at(const gh_policy_schema *s, size_t i)
{
	return s && i < s->nactions ? &s->actions[i] : NULL;
}

const ghp_attr *ghp_type_attr(const ghp_type *record, const char *name, size_t len)
{
	size_t lo = 0, hi;

	if (!record || record->kind != GHP_T_RECORD)
		return NULL;
	hi = record->nattrs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const ghp_attr *a = &record->attrs[mid];
		int c = bytes_cmp(a->name, a->name_len, name, len);

		if (c == 0)
			return a;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
