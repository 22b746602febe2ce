/* validate.c - Cedar policy validation: strict-mode type checking of each
 * policy against a schema, once per request environment (principal type,
 * action, resource type) the schema's appliesTo allows. */
#include "policy/ast.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ERRORS 64             /* errors reported per validation */

typedef enum tkind {
	K_NEVER, K_TRUE, K_FALSE, K_BOOL, K_LONG, K_STRING, K_SET, K_RECORD, K_ENTITY, K_EXT,
} tkind;

typedef struct vty vty;

typedef struct vattr {
	const char *name;
	size_t len;
	const vty *type;
	int required;
} vattr;

struct vty {
	tkind k;
	const char *name;          /* ENTITY: fully qualified type; EXT: extension name */
	const vty *elem;           /* SET */
	size_t n;                  /* RECORD */
	const vattr *attrs;
	int open;
};

/* A capability: e has key (or e.hasTag(tag)) is known to be true. */
typedef struct cap {
	const ghp_expr *e;
	ghp_str key;
	const ghp_expr *tag;
	const struct cap *next;
} cap;

/* One request environment. */
typedef struct venv {
	const char *principal, *resource;
	const ghp_action *action;
	const ghp_euid *action_uid;    /* the variable action is this literal */
} venv;

typedef struct vctx {
	ghp_arena a;                /* one environment's types and capabilities */
	ghp_arena pa;               /* the policy's condition, for all its environments */
	const ghp_entity_type **tq; /* queues for the hierarchy walks, sized by the schema */
	const ghp_action **aq;
	const gh_policy_schema *s;
	const ghp_policy *p;
	const venv *env;
	json_t *errors;
	int nerr;
	int oom;                    /* an allocation failed: no verdict */
	char tb1[300], tb2[300];    /* type names for a message (not on the recursion's stack) */
} vctx;

static const vty T_NEVER_ = { K_NEVER, NULL, NULL, 0, NULL, 0 };
static const vty T_TRUE_ = { K_TRUE, NULL, NULL, 0, NULL, 0 };
static const vty T_FALSE_ = { K_FALSE, NULL, NULL, 0, NULL, 0 };
static const vty T_BOOL_ = { K_BOOL, NULL, NULL, 0, NULL, 0 };
static const vty T_LONG_ = { K_LONG, NULL, NULL, 0, NULL, 0 };
static const vty T_STRING_ = { K_STRING, NULL, NULL, 0, NULL, 0 };
static const vty T_IP_ = { K_EXT, "ipaddr", NULL, 0, NULL, 0 };
static const vty T_DECIMAL_ = { K_EXT, "decimal", NULL, 0, NULL, 0 };
static const vty T_DATETIME_ = { K_EXT, "datetime", NULL, 0, NULL, 0 };
static const vty T_DURATION_ = { K_EXT, "duration", NULL, 0, NULL, 0 };

static void *talloc(vctx *c, ghp_arena *a, size_t n)
{
	void *p = ghp_arena_alloc(a, n);

	if (!p)
		c->oom = 1;
	return p;
}

/* --- errors ------------------------------------------------------------ */

static void verr(vctx *c, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void verr(vctx *c, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t i;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->nerr++;
	if (!c->errors || json_array_size(c->errors) >= MAX_ERRORS)
		return;
	json_array_foreach(c->errors, i, v) {
		if (json_integer_value(json_object_get(v, "line")) == line &&
		    json_integer_value(json_object_get(v, "column")) == col &&
		    !strcmp(json_string_value(json_object_get(v, "policy")), c->p->id) &&
		    !strcmp(json_string_value(json_object_get(v, "message")), msg))
			return;
	}
	v = json_pack("{s:s, s:i, s:i, s:s}", "policy", c->p->id, "line", line, "column", col,
		      "message", msg);
	if (!v) /* the message quoted text that is not UTF-8 */
		v = json_pack("{s:s, s:i, s:i, s:s}", "policy", c->p->id, "line", line, "column",
			      col, "message", "type error");
	json_array_append_new(c->errors, v);
}

static const char *tname(const vty *t, char *buf, size_t n)
{
	if (!t)
		return "an ill-typed expression";
	switch (t->k) {
	case K_NEVER: return "never";
	case K_TRUE: case K_FALSE: case K_BOOL: return "Bool";
	case K_LONG: return "Long";
	case K_STRING: return "String";
	case K_SET: return "Set";
	case K_RECORD: return "Record";
	case K_ENTITY:
		snprintf(buf, n, "entity %s", t->name);
		return buf;
	default:
		return t->name;
	}
}

static const char *tn1(vctx *c, const vty *t)
{
	return tname(t, c->tb1, sizeof(c->tb1));
}

static const char *tn2(vctx *c, const vty *t)
{
	return tname(t, c->tb2, sizeof(c->tb2));
}

/* --- types ------------------------------------------------------------- */

static vty *mk(vctx *c, tkind k)
{
	vty *t = talloc(c, &c->a, sizeof(*t));

	if (t) {
		memset(t, 0, sizeof(*t));
		t->k = k;
	}
	return t;
}

static const vty *entity_ty(vctx *c, const char *name)
{
	vty *t = mk(c, K_ENTITY);

	if (!t)
		return NULL;
	t->k = K_ENTITY;
	t->name = name;
	return t;
}

/* The checker's type for a schema type (records converted whole). */
static const vty *from_schema(vctx *c, const ghp_type *st, int depth)
{
	vty *t;

	if (!st || depth > GH_POLICY_MAX_DEPTH)
		return NULL;
	switch (st->kind) {
	case GHP_T_BOOL: return &T_BOOL_;
	case GHP_T_LONG: return &T_LONG_;
	case GHP_T_STRING: return &T_STRING_;
	case GHP_T_ENTITY: return entity_ty(c, st->name);
	case GHP_T_EXTENSION:
		if (!strcmp(st->name, "ipaddr"))
			return &T_IP_;
		if (!strcmp(st->name, "decimal"))
			return &T_DECIMAL_;
		if (!strcmp(st->name, "datetime"))
			return &T_DATETIME_;
		if (!strcmp(st->name, "duration"))
			return &T_DURATION_;
		verr(c, c->p->line, c->p->col, "the schema's type %s is not supported", st->name);
		return NULL;
	case GHP_T_SET:
		if (!(t = mk(c, K_SET)))
			return NULL;
		t->k = K_SET;
		t->elem = from_schema(c, st->element, depth + 1);
		return t->elem ? t : NULL;
	case GHP_T_RECORD: {
		vattr *at = talloc(c, &c->a, (st->nattrs + 1) * sizeof(*at));

		if (!(t = mk(c, K_RECORD)) || !at)
			return NULL;
		t->k = K_RECORD;
		t->open = st->open;
		for (size_t i = 0; i < st->nattrs; i++) {
			at[i].name = st->attrs[i].name;
			at[i].len = st->attrs[i].name_len;
			at[i].required = st->attrs[i].required;
			if (!(at[i].type = from_schema(c, st->attrs[i].type, depth + 1)))
				return NULL;
		}
		t->n = st->nattrs;
		t->attrs = at;
		return t;
	}
	}
	return NULL;
}

static int is_bool(const vty *t)
{
	return t->k == K_TRUE || t->k == K_FALSE || t->k == K_BOOL || t->k == K_NEVER;
}

static const vattr *rec_attr(const vty *r, const char *name, size_t len)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->attrs[i].len == len && !memcmp(r->attrs[i].name, name, len))
			return &r->attrs[i];
	return NULL;
}

static int str_is(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* The least upper bound in strict mode; NULL when there is none. */
static const vty *lub(vctx *c, const vty *x, const vty *y, int depth)
{
	if (!x || !y || depth > GH_POLICY_MAX_DEPTH)
		return NULL;
	if (x->k == K_NEVER)
		return y;
	if (y->k == K_NEVER)
		return x;
	if (is_bool(x) && is_bool(y))
		return x->k == y->k ? x : &T_BOOL_;
	if (x->k != y->k)
		return NULL;
	switch (x->k) {
	case K_LONG:
	case K_STRING:
		return x;
	case K_ENTITY:
	case K_EXT:
		return str_is(x->name, y->name) ? x : NULL;
	case K_SET: {
		vty *t;
		const vty *e;

		if (!x->elem)
			return y;
		if (!y->elem)
			return x;
		if (!(e = lub(c, x->elem, y->elem, depth + 1)) || !(t = mk(c, K_SET)))
			return NULL;
		t->k = K_SET;
		t->elem = e;
		return t;
	}
	case K_RECORD: {
		vattr *at;
		vty *t;

		if (x->n != y->n || x->open != y->open)
			return NULL;
		if (!(at = talloc(c, &c->a, (x->n + 1) * sizeof(*at))) || !(t = mk(c, K_RECORD)))
			return NULL;
		for (size_t i = 0; i < x->n; i++) {
			const vattr *ya = rec_attr(y, x->attrs[i].name, x->attrs[i].len);

			if (!ya || ya->required != x->attrs[i].required)
				return NULL;
			at[i] = x->attrs[i];
			if (!(at[i].type = lub(c, x->attrs[i].type, ya->type, depth + 1)))
				return NULL;
		}
		t->k = K_RECORD;
		t->n = x->n;
		t->attrs = at;
		t->open = x->open;
		return t;
	}
	default:
		return NULL;
	}
}

/* --- the schema -------------------------------------------------------- */

static int basename_is_action(const char *type, size_t n)
{
	return (n == 6 && !memcmp(type, "Action", 6)) ||
	       (n > 8 && !memcmp(type + n - 8, "::Action", 8));
}

static int is_action_type(vctx *c, const char *type)
{
	size_t n = ghp_schema_action_count(c->s);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(ghp_schema_action_at(c->s, i)->type, type))
			return 1;
	return 0;
}

/* Can an entity of type desc be a member (transitively, or equal) of type
 * anc? A breadth-first walk up memberOfTypes, each type visited once. */
static int type_can_be_in(vctx *c, const char *desc, const char *anc)
{
	size_t max = ghp_schema_entity_type_count(c->s) + 1, head = 0, tail = 0;
	const ghp_entity_type **queue;
	const ghp_entity_type *et;

	if (!strcmp(desc, anc))
		return 1;
	if (is_action_type(c, desc))
		return is_action_type(c, anc);
	if (!(et = ghp_schema_entity_type(c->s, desc)) || !(queue = c->tq))
		return 0;
	queue[tail++] = et;
	while (head < tail) {
		et = queue[head++];
		for (size_t i = 0; i < et->nparents; i++) {
			const ghp_entity_type *pt;
			size_t k;

			if (!strcmp(et->parents[i], anc))
				return 1;
			if (!(pt = ghp_schema_entity_type(c->s, et->parents[i])))
				continue;
			for (k = 0; k < tail && queue[k] != pt; k++)
				;
			if (k == tail && tail < max)
				queue[tail++] = pt;
		}
	}
	return 0;
}

/* Is action a (transitively, or equal) in action b? Each action visited once. */
static int action_in(vctx *c, const ghp_action *a, const ghp_euid *b)
{
	size_t max = ghp_schema_action_count(c->s) + 1, head = 0, tail = 0;
	const ghp_action **queue;

	if (!a || !(queue = c->aq))
		return 0;
	queue[tail++] = a;
	while (head < tail) {
		a = queue[head++];
		if (ghp_str_eqz(b->type, a->type) && b->id.n == a->id_len &&
		    !memcmp(b->id.p, a->id, a->id_len))
			return 1;
		for (size_t i = 0; i < a->nparents; i++) {
			const ghp_action *pa = ghp_schema_action_n(c->s, a->parent_types[i],
								   a->parent_ids[i],
								   a->parent_id_lens[i]);
			size_t k;

			if (!pa)
				continue;
			for (k = 0; k < tail && queue[k] != pa; k++)
				;
			if (k == tail && tail < max)
				queue[tail++] = pa;
		}
	}
	return 0;
}

static const ghp_action *lookup_action(vctx *c, const ghp_euid *u)
{
	const char *type;

	if (memchr(u->type.p, '\0', u->type.n))
		return NULL;
	if (!(type = ghp_arena_strdup(&c->a, u->type.p, u->type.n))) {
		c->oom = 1;
		return NULL;
	}
	return ghp_schema_action_n(c->s, type, u->id.p, u->id.n);
}

/* The interned name of an entity type as the schema spells it, or NULL. */
static const char *known_type(vctx *c, ghp_str t)
{
	const ghp_entity_type *et;
	const char *buf;
	size_t n;

	if (memchr(t.p, '\0', t.n))
		return NULL;
	if (!(buf = ghp_arena_strdup(&c->a, t.p, t.n))) {
		c->oom = 1;
		return NULL;
	}
	if ((et = ghp_schema_entity_type(c->s, buf)))
		return et->name;
	n = ghp_schema_action_count(c->s);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ghp_schema_action_at(c->s, i)->type, buf))
			return ghp_schema_action_at(c->s, i)->type;
	return NULL;
}

/* --- capabilities ------------------------------------------------------ */

static int expr_eq(const ghp_expr *x, const ghp_expr *y, int depth)
{
	if (x == y)
		return 1;
	if (!x || !y || x->kind != y->kind || x->op != y->op || x->n != y->n ||
	    x->nkeys != y->nkeys || depth > GH_POLICY_MAX_DEPTH)
		return 0;
	if (x->kind == GHP_X_LIT && !ghp_value_eq(&x->lit, &y->lit))
		return 0;
	if (x->name.n != y->name.n || (x->name.n && memcmp(x->name.p, y->name.p, x->name.n)))
		return 0;
	if (x->kind == GHP_X_RECORD || x->kind == GHP_X_HAS) {
		size_t nk = x->kind == GHP_X_RECORD ? x->n : x->nkeys;

		for (size_t i = 0; i < nk; i++)
			if (!ghp_str_eq(x->keys[i], y->keys[i]))
				return 0;
	}
	if (x->kind == GHP_X_LIKE && x->name.n && memcmp(x->stars, y->stars, x->name.n))
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (!expr_eq(x->a[i], y->a[i], depth + 1))
			return 0;
	return 1;
}

static int cap_has(const cap *cs, const ghp_expr *e, ghp_str key, const ghp_expr *tag)
{
	for (; cs; cs = cs->next) {
		if (!expr_eq(cs->e, e, 0))
			continue;
		if (tag ? (cs->tag && expr_eq(cs->tag, tag, 0)) : (!cs->tag && ghp_str_eq(cs->key, key)))
			return 1;
	}
	return 0;
}

static const cap *cap_add(vctx *c, const cap *cs, const ghp_expr *e, ghp_str key,
			  const ghp_expr *tag)
{
	cap *n = talloc(c, &c->a, sizeof(*n));

	if (!n)
		return cs;
	n->e = e;
	n->key = key;
	n->tag = tag;
	n->next = cs;
	return n;
}

static const cap *cap_union(vctx *c, const cap *x, const cap *y)
{
	if (!x)
		return y;
	if (!y)
		return x;
	for (; x; x = x->next)
		y = cap_add(c, y, x->e, x->key, x->tag);
	return y;
}

static const cap *cap_inter(vctx *c, const cap *x, const cap *y)
{
	const cap *out = NULL;

	for (; x; x = x->next)
		if (cap_has(y, x->e, x->key, x->tag))
			out = cap_add(c, out, x->e, x->key, x->tag);
	return out;
}

/* --- typing ------------------------------------------------------------ */

static const vty *tc(vctx *c, const ghp_expr *e, const cap *prior, const cap **caps);

/* Type-checks e and requires a boolean; NULL when it fails. */
static const vty *tc_bool(vctx *c, const ghp_expr *e, const cap *prior, const cap **caps)
{
	const vty *t = tc(c, e, prior, caps);

	if (t && !is_bool(t)) {
		verr(c, e->line, e->col, "expected a Bool, got %s", tn1(c, t));
		return NULL;
	}
	return t;
}

static const vty *tc_kind(vctx *c, const ghp_expr *e, const cap *prior, tkind k, const char *what)
{
	const cap *caps = NULL;
	const vty *t = tc(c, e, prior, &caps);

	if (t && t->k != k && t->k != K_NEVER) {
		verr(c, e->line, e->col, "expected %s, got %s", what, tn1(c, t));
		return NULL;
	}
	return t;
}

static const vty *tc_ext(vctx *c, const ghp_expr *e, const cap *prior, const vty *want)
{
	const cap *caps = NULL;
	const vty *t = tc(c, e, prior, &caps);

	if (t && !(t->k == K_EXT && !strcmp(t->name, want->name))) {
		verr(c, e->line, e->col, "expected %s, got %s", want->name, tn1(c, t));
		return NULL;
	}
	return t;
}

static const vty *lit_type(vctx *c, const ghp_value *v)
{
	switch (v->kind) {
	case GHP_V_BOOL: return v->u.b ? &T_TRUE_ : &T_FALSE_;
	case GHP_V_LONG: return &T_LONG_;
	case GHP_V_STRING: return &T_STRING_;
	case GHP_V_DECIMAL: return &T_DECIMAL_;
	case GHP_V_IP: return &T_IP_;
	case GHP_V_DATETIME: return &T_DATETIME_;
	case GHP_V_DURATION: return &T_DURATION_;
	case GHP_V_ENTITY: {
		const char *n = known_type(c, v->u.e->type);
		return n ? entity_ty(c, n) : NULL;
	}
	default:
		return NULL;
	}
}

/* The uid an expression is known to be: an entity literal, or the variable
 * action, which Cedar replaces with the environment's action. */
static const ghp_euid *as_euid(vctx *c, const ghp_expr *x)
{
	if (x->kind == GHP_X_LIT && x->lit.kind == GHP_V_ENTITY)
		return x->lit.u.e;
	if (x->kind == GHP_X_VAR && x->op == GHP_VAR_ACTION)
		return c->env->action_uid;
	return NULL;
}

static int is_plain_lit(const ghp_expr *e)
{
	return e->kind == GHP_X_LIT && (e->lit.kind == GHP_V_BOOL || e->lit.kind == GHP_V_LONG ||
					e->lit.kind == GHP_V_STRING || e->lit.kind == GHP_V_ENTITY);
}

static const vty *tc_eq(vctx *c, const ghp_expr *e, const cap *prior)
{
	const cap *k1 = NULL, *k2 = NULL;
	const vty *l = tc(c, e->a[0], prior, &k1);
	const vty *r = tc(c, e->a[1], prior, &k2);
	const ghp_expr *x = e->a[0], *y = e->a[1];

	if (!l || !r)
		return NULL;
	if (as_euid(c, x) && as_euid(c, y))
		return ghp_euid_eq(as_euid(c, x), as_euid(c, y)) ? &T_TRUE_ : &T_FALSE_;
	if (is_plain_lit(x) && is_plain_lit(y))
		return ghp_value_eq(&x->lit, &y->lit) ? &T_TRUE_ : &T_FALSE_;
	if (l->k == K_ENTITY && r->k == K_ENTITY && strcmp(l->name, r->name))
		return &T_FALSE_;
	if (!lub(c, l, r, 0)) {
		verr(c, e->line, e->col, "== between incompatible types %s and %s",
		     tn1(c, l), tn2(c, r));
		return NULL;
	}
	return &T_BOOL_;
}

/* lhs in rhs, where rhs is an entity or a set of entities. */
static const vty *tc_in(vctx *c, const ghp_expr *e, const ghp_expr *lhs, const ghp_expr *rhs,
			const cap *prior)
{
	const cap *k1 = NULL, *k2 = NULL;
	const vty *l = tc(c, lhs, prior, &k1);
	const vty *r = tc(c, rhs, prior, &k2);
	const vty *rt;
	const ghp_action *al;

	if (l && l->k != K_ENTITY) {
		verr(c, lhs->line, lhs->col, "expected an entity on the left of in, got %s",
		     tn1(c, l));
		l = NULL;
	}
	if (r && r->k == K_ENTITY)
		rt = r;
	else if (r && r->k == K_SET && r->elem && r->elem->k == K_ENTITY)
		rt = r->elem;
	else {
		if (r)
			verr(c, rhs->line, rhs->col,
			     "expected an entity or a set of entities on the right of in, got %s",
			     tn1(c, r));
		return NULL;
	}
	if (!l)
		return NULL;
	if (as_euid(c, lhs) && (al = lookup_action(c, as_euid(c, lhs)))) {
		/* a known action in literals: the action hierarchy decides */
		if (as_euid(c, rhs))
			return action_in(c, al, as_euid(c, rhs)) ? &T_TRUE_ : &T_FALSE_;
		if (rhs->kind == GHP_X_SET) {
			int all = 1, any = 0;

			for (size_t i = 0; i < rhs->n; i++) {
				if (!as_euid(c, rhs->a[i]))
					all = 0;
				else if (action_in(c, al, as_euid(c, rhs->a[i])))
					any = 1;
			}
			if (all)
				return any ? &T_TRUE_ : &T_FALSE_;
		}
	}
	if (!type_can_be_in(c, l->name, rt->name))
		return &T_FALSE_;
	return &T_BOOL_;
}

/* e has keys[0].keys[1]... : each step on the previous attribute. */
static const vty *tc_has(vctx *c, const ghp_expr *e, const cap *prior, const cap **caps)
{
	const cap *k = NULL;
	const vty *t = tc(c, e->a[0], prior, &k);
	const ghp_expr *base = e->a[0];
	const vty *result = &T_TRUE_;
	const cap *out = NULL;

	if (!t)
		return NULL;
	for (size_t i = 0; i < e->nkeys; i++) {
		const vty *rec;
		const vattr *at;
		const vty *step;

		if (t->k == K_ENTITY) {
			const ghp_entity_type *et = ghp_schema_entity_type(c->s, t->name);

			rec = et ? from_schema(c, et->attrs, 0) : NULL;
			if (!rec) /* actions have no attributes */
				return &T_FALSE_;
		} else if (t->k == K_RECORD) {
			rec = t;
		} else {
			verr(c, e->line, e->col, "has on %s, not an entity or record",
			     tn1(c, t));
			return NULL;
		}
		at = rec_attr(rec, e->keys[i].p, e->keys[i].n);
		if (!at) {
			if (!rec->open)
				return &T_FALSE_;
			if (i + 1 < e->nkeys) {
				/* the next step reads an undeclared attribute */
				verr(c, e->line, e->col, "attribute %.*s is not declared on %s",
				     (int)e->keys[i].n, e->keys[i].p, tn1(c, t));
				return NULL;
			}
			step = &T_BOOL_;
		} else if ((at->required && t->k == K_RECORD) ||
			   cap_has(prior, base, e->keys[i], NULL) ||
			   cap_has(out, base, e->keys[i], NULL)) {
			/* a record value has its required attributes; an entity
			 * may be missing from the store, so even a required
			 * attribute is only known after a has */
			step = &T_TRUE_;
		} else {
			step = &T_BOOL_;
		}
		if (step->k == K_BOOL) {
			/* the has guards later accesses: a capability */
			result = &T_BOOL_;
			out = cap_add(c, out, base, e->keys[i], NULL);
		}
		if (i + 1 == e->nkeys || !at)
			break;
		/* the next step is on base.key */
		{
			ghp_expr *acc = talloc(c, &c->a, sizeof(*acc));
			ghp_expr **args = talloc(c, &c->a, sizeof(*args));

			if (!acc || !args)
				return NULL;
			memset(acc, 0, sizeof(*acc));
			acc->kind = GHP_X_ATTR;
			acc->line = e->line;
			acc->col = e->col;
			acc->name = e->keys[i];
			acc->n = 1;
			args[0] = (ghp_expr *)base;
			acc->a = args;
			base = acc;
			t = at->type;
		}
	}
	*caps = out;
	return result;
}

static const vty *tc_attr(vctx *c, const ghp_expr *e, const cap *prior)
{
	const cap *k = NULL;
	const vty *t = tc(c, e->a[0], prior, &k);
	const vty *rec;
	const vattr *at;

	if (!t)
		return NULL;
	if (t->k == K_ENTITY) {
		const ghp_entity_type *et = ghp_schema_entity_type(c->s, t->name);

		rec = et ? from_schema(c, et->attrs, 0) : NULL;
		if (!rec) {
			verr(c, e->line, e->col, "%s has no attribute %.*s", t->name,
			     (int)e->name.n, e->name.p);
			return NULL;
		}
	} else if (t->k == K_RECORD) {
		rec = t;
	} else {
		verr(c, e->line, e->col, "attribute access on %s, not an entity or record",
		     tn1(c, t));
		return NULL;
	}
	at = rec_attr(rec, e->name.p, e->name.n);
	if (!at) {
		verr(c, e->line, e->col, "attribute %.*s is not declared on %s", (int)e->name.n,
		     e->name.p, tn1(c, t));
		return NULL;
	}
	if (!at->required && !cap_has(prior, e->a[0], e->name, NULL)) {
		verr(c, e->line, e->col,
		     "attribute %.*s is optional: guard the access with has", (int)e->name.n,
		     e->name.p);
		return NULL;
	}
	return at->type;
}

static const ghp_entity_type *entity_of(vctx *c, const ghp_expr *e, const vty *t)
{

	if (t->k != K_ENTITY) {
		verr(c, e->line, e->col, "expected an entity, got %s", tn1(c, t));
		return NULL;
	}
	return ghp_schema_entity_type(c->s, t->name);
}

static const vty *tc_method(vctx *c, const ghp_expr *e, const cap *prior, const cap **caps)
{
	const cap *k = NULL;
	const vty *recv, *arg = NULL;
	const ghp_expr *x = e->a[0];

	if ((int)e->n - 1 != ghp_fns[e->op].nargs) {
		verr(c, e->line, e->col, "%s takes %d argument(s)", ghp_fns[e->op].name,
		     ghp_fns[e->op].nargs);
		return NULL;
	}
	switch (e->op) {
	case GHP_FN_CONTAINS:
	case GHP_FN_CONTAINS_ALL:
	case GHP_FN_CONTAINS_ANY: {
		const vty *el;

		recv = tc_kind(c, x, prior, K_SET, "a Set");
		if (e->op == GHP_FN_CONTAINS)
			arg = tc(c, e->a[1], prior, &k);
		else
			arg = tc_kind(c, e->a[1], prior, K_SET, "a Set");
		if (!recv || !arg)
			return NULL;
		if (recv->k == K_NEVER || arg->k == K_NEVER)
			return &T_BOOL_;
		el = e->op == GHP_FN_CONTAINS ? arg : arg->elem;
		if (recv->elem && el && !lub(c, recv->elem, el, 0)) {
			verr(c, e->line, e->col, "%s: incompatible element types %s and %s",
			     ghp_fns[e->op].name, tn1(c, recv->elem),
			     tn2(c, el));
			return NULL;
		}
		return &T_BOOL_;
	}
	case GHP_FN_IS_EMPTY:
		return tc_kind(c, x, prior, K_SET, "a Set") ? &T_BOOL_ : NULL;
	case GHP_FN_HAS_TAG:
	case GHP_FN_GET_TAG: {
		const ghp_entity_type *et = NULL;

		recv = tc(c, x, prior, &k);
		arg = tc_kind(c, e->a[1], prior, K_STRING, "a String");
		if (!recv)
			return NULL;
		if (recv->k != K_ENTITY) {
			verr(c, x->line, x->col, "expected an entity, got %s", tn1(c, recv));
			return NULL;
		}
		et = entity_of(c, x, recv);
		if (!arg)
			return NULL;
		if (e->op == GHP_FN_HAS_TAG) {
			if (!et || !et->tags)
				return &T_FALSE_;
			if (cap_has(prior, x, e->a[1]->name, e->a[1]))
				return &T_TRUE_;
			*caps = cap_add(c, NULL, x, e->a[1]->name, e->a[1]);
			return &T_BOOL_;
		}
		if (!et || !et->tags) {
			verr(c, e->line, e->col, "%s has no tags", recv->name);
			return NULL;
		}
		if (!cap_has(prior, x, e->a[1]->name, e->a[1])) {
			verr(c, e->line, e->col, "getTag without a hasTag guard");
			return NULL;
		}
		return from_schema(c, et->tags, 0);
	}
	case GHP_FN_LESS_THAN:
	case GHP_FN_LESS_THAN_OR_EQUAL:
	case GHP_FN_GREATER_THAN:
	case GHP_FN_GREATER_THAN_OR_EQUAL:
		recv = tc_ext(c, x, prior, &T_DECIMAL_);
		arg = tc_ext(c, e->a[1], prior, &T_DECIMAL_);
		return recv && arg ? &T_BOOL_ : NULL;
	case GHP_FN_IS_IPV4:
	case GHP_FN_IS_IPV6:
	case GHP_FN_IS_LOOPBACK:
	case GHP_FN_IS_MULTICAST:
		return tc_ext(c, x, prior, &T_IP_) ? &T_BOOL_ : NULL;
	case GHP_FN_IS_IN_RANGE:
		recv = tc_ext(c, x, prior, &T_IP_);
		arg = tc_ext(c, e->a[1], prior, &T_IP_);
		return recv && arg ? &T_BOOL_ : NULL;
	case GHP_FN_OFFSET:
		recv = tc_ext(c, x, prior, &T_DATETIME_);
		arg = tc_ext(c, e->a[1], prior, &T_DURATION_);
		return recv && arg ? &T_DATETIME_ : NULL;
	case GHP_FN_DURATION_SINCE:
		recv = tc_ext(c, x, prior, &T_DATETIME_);
		arg = tc_ext(c, e->a[1], prior, &T_DATETIME_);
		return recv && arg ? &T_DURATION_ : NULL;
	case GHP_FN_TO_DATE:
		return tc_ext(c, x, prior, &T_DATETIME_) ? &T_DATETIME_ : NULL;
	case GHP_FN_TO_TIME:
		return tc_ext(c, x, prior, &T_DATETIME_) ? &T_DURATION_ : NULL;
	case GHP_FN_TO_DAYS:
	case GHP_FN_TO_HOURS:
	case GHP_FN_TO_MINUTES:
	case GHP_FN_TO_SECONDS:
	case GHP_FN_TO_MILLISECONDS:
		return tc_ext(c, x, prior, &T_DURATION_) ? &T_LONG_ : NULL;
	default:
		verr(c, e->line, e->col, "unknown method");
		return NULL;
	}
}

static const vty *tc(vctx *c, const ghp_expr *e, const cap *prior, const cap **caps)
{
	const cap *k1 = NULL, *k2 = NULL, *k3 = NULL;
	const vty *l, *r, *t;

	*caps = NULL;
	switch (e->kind) {
	case GHP_X_LIT:
		if (e->lit.kind == GHP_V_SET || e->lit.kind == GHP_V_RECORD) {
			verr(c, e->line, e->col, "unexpected literal");
			return NULL;
		}
		return lit_type(c, &e->lit);
	case GHP_X_VAR:
	case GHP_X_SLOT:
		switch (e->op) {
		case GHP_VAR_PRINCIPAL: return entity_ty(c, c->env->principal);
		case GHP_VAR_RESOURCE: return entity_ty(c, c->env->resource);
		case GHP_VAR_ACTION: return entity_ty(c, c->env->action->type);
		default: return from_schema(c, c->env->action->context, 0);
		}
	case GHP_X_IF:
		t = tc_bool(c, e->a[0], prior, &k1);
		if (t && t->k == K_TRUE) {
			r = tc(c, e->a[1], cap_union(c, prior, k1), &k2);
			*caps = cap_union(c, k1, k2);
			return r;
		}
		if (t && t->k == K_FALSE)
			return tc(c, e->a[2], prior, caps);
		l = tc(c, e->a[1], cap_union(c, prior, k1), &k2);
		r = tc(c, e->a[2], prior, &k3);
		if (!t || !l || !r)
			return NULL;
		if (!(t = lub(c, l, r, 0))) {
			verr(c, e->line, e->col, "if-then-else branches have incompatible types %s and %s",
			     tn1(c, l), tn2(c, r));
			return NULL;
		}
		*caps = cap_inter(c, cap_union(c, k1, k2), k3);
		return t;
	case GHP_X_AND:
		l = tc_bool(c, e->a[0], prior, &k1);
		if (l && l->k == K_FALSE)
			return &T_FALSE_;
		r = tc_bool(c, e->a[1], cap_union(c, prior, k1), &k2);
		if (!l || !r)
			return NULL;
		if (r->k == K_FALSE)
			return &T_FALSE_;
		*caps = cap_union(c, k1, k2);
		if (l->k == K_TRUE)
			return r;
		return r->k == K_TRUE ? l : &T_BOOL_;
	case GHP_X_OR:
		l = tc_bool(c, e->a[0], prior, &k1);
		if (l && l->k == K_TRUE)
			return &T_TRUE_;
		r = tc_bool(c, e->a[1], prior, &k2);
		if (!l || !r)
			return NULL;
		if (l->k == K_FALSE) {
			*caps = k2;
			return r;
		}
		if (r->k == K_TRUE)
			return &T_TRUE_;
		if (r->k == K_FALSE) {
			*caps = k1;
			return l;
		}
		*caps = cap_inter(c, k1, k2);
		return &T_BOOL_;
	case GHP_X_NOT:
		t = tc_bool(c, e->a[0], prior, &k1);
		if (!t)
			return NULL;
		return t->k == K_TRUE ? &T_FALSE_ : t->k == K_FALSE ? &T_TRUE_ : &T_BOOL_;
	case GHP_X_NEG:
		return tc_kind(c, e->a[0], prior, K_LONG, "a Long") ? &T_LONG_ : NULL;
	case GHP_X_ADD:
	case GHP_X_SUB:
	case GHP_X_MUL:
		l = tc_kind(c, e->a[0], prior, K_LONG, "a Long");
		r = tc_kind(c, e->a[1], prior, K_LONG, "a Long");
		return l && r ? &T_LONG_ : NULL;
	case GHP_X_LT:
	case GHP_X_LE:
	case GHP_X_GT:
	case GHP_X_GE:
		l = tc(c, e->a[0], prior, &k1);
		r = tc(c, e->a[1], prior, &k2);
		if (!l || !r)
			return NULL;
		if ((l->k == K_LONG && r->k == K_LONG) ||
		    (l->k == K_EXT && r->k == K_EXT && !strcmp(l->name, r->name) &&
		     (!strcmp(l->name, "datetime") || !strcmp(l->name, "duration"))))
			return &T_BOOL_;
		verr(c, e->line, e->col, "comparison of %s with %s", tn1(c, l),
		     tn2(c, r));
		return NULL;
	case GHP_X_EQ:
	case GHP_X_NE:
		t = tc_eq(c, e, prior);
		if (!t || e->kind == GHP_X_EQ)
			return t;
		return t->k == K_TRUE ? &T_FALSE_ : t->k == K_FALSE ? &T_TRUE_ : &T_BOOL_;
	case GHP_X_IN:
		return tc_in(c, e, e->a[0], e->a[1], prior);
	case GHP_X_HAS:
		return tc_has(c, e, prior, caps);
	case GHP_X_LIKE:
		return tc_kind(c, e->a[0], prior, K_STRING, "a String") ? &T_BOOL_ : NULL;
	case GHP_X_IS: {
		const char *want = known_type(c, e->name);

		l = tc(c, e->a[0], prior, &k1);
		if (l && l->k != K_ENTITY) {
			verr(c, e->line, e->col, "is on %s, not an entity", tn1(c, l));
			l = NULL;
		}
		if (!want && !basename_is_action(e->name.p, e->name.n))
			verr(c, e->line, e->col, "unknown entity type %.*s", (int)e->name.n,
			     e->name.p);
		t = l && want && !strcmp(l->name, want) ? &T_TRUE_ : &T_FALSE_;
		if (e->n < 2)
			return l ? t : NULL;
		if (t->k == K_FALSE)
			return l ? t : NULL;
		r = tc_in(c, e, e->a[0], e->a[1], prior);
		if (!l || !r)
			return NULL;
		return r;
	}
	case GHP_X_ATTR:
		return tc_attr(c, e, prior);
	case GHP_X_METHOD:
		return tc_method(c, e, prior, caps);
	case GHP_X_CALL:
		for (size_t i = 0; i < e->n; i++)
			tc(c, e->a[i], prior, &k1);
		if (e->n == 1 && e->a[0]->kind == GHP_X_LIT && e->a[0]->lit.kind == GHP_V_STRING) {
			ghp_str s = e->a[0]->lit.u.s;

			verr(c, e->line, e->col, "invalid %s literal \"%.*s\"", ghp_fns[e->op].name,
			     (int)(s.n > 64 ? 64 : s.n), s.p);
		} else if (e->n == 1 && e->a[0]->kind == GHP_X_LIT) {
			verr(c, e->line, e->col, "%s takes a string", ghp_fns[e->op].name);
		} else if (e->n != 1) {
			verr(c, e->line, e->col, "%s takes one argument", ghp_fns[e->op].name);
		} else {
			verr(c, e->line, e->col,
			     "%s takes one string literal (strict validation)", ghp_fns[e->op].name);
		}
		return NULL;
	case GHP_X_SET: {
		const vty *el = &T_NEVER_;
		int ok = 1;
		vty *st;

		if (!e->n) {
			verr(c, e->line, e->col, "empty set literals are not allowed (strict validation)");
			return NULL;
		}
		for (size_t i = 0; i < e->n; i++) {
			t = tc(c, e->a[i], prior, &k1);
			if (!t) {
				ok = 0;
				continue;
			}
			if (ok && !(el = lub(c, el, t, 0))) {
				verr(c, e->line, e->col, "set elements have incompatible types");
				ok = 0;
			}
		}
		if (!ok || !(st = mk(c, K_SET)))
			return NULL;
		st->k = K_SET;
		st->elem = el;
		return st;
	}
	case GHP_X_RECORD: {
		vattr *at = talloc(c, &c->a, (e->n + 1) * sizeof(*at));
		vty *rt = mk(c, K_RECORD);
		int ok = 1;

		if (!at || !rt)
			return NULL;
		for (size_t i = 0; i < e->n; i++) {
			at[i].name = e->keys[i].p;
			at[i].len = e->keys[i].n;
			at[i].required = 1;
			if (!(at[i].type = tc(c, e->a[i], prior, &k1)))
				ok = 0;
		}
		if (!ok)
			return NULL;
		rt->k = K_RECORD;
		rt->n = e->n;
		rt->attrs = at;
		return rt;
	}
	}
	return NULL;
}

/* --- the policy-level checks ------------------------------------------- */

static void check_euid(vctx *c, const ghp_euid *u, int line, int col)
{
	const char *t = known_type(c, u->type);

	if (basename_is_action(u->type.p, u->type.n)) {
		if (!lookup_action(c, u))
			verr(c, line, col, "unknown action %.*s::\"%.*s\"", (int)u->type.n, u->type.p,
			     (int)u->id.n, u->id.p);
		return;
	}
	if (!t) {
		verr(c, line, col, "unknown entity type %.*s", (int)u->type.n, u->type.p);
		return;
	}
	const ghp_entity_type *et = ghp_schema_entity_type(c->s, t);

	if (et && et->nenum) {
		for (size_t i = 0; i < et->nenum; i++)
			if (et->enum_id_lens[i] == u->id.n && !memcmp(et->enum_ids[i], u->id.p, u->id.n))
				return;
		verr(c, line, col, "%.*s is not one of the enumerated ids of %s", (int)u->id.n,
		     u->id.p, t);
	}
}

static void check_names(vctx *c, const ghp_expr *e, int depth)
{
	if (!e || depth > GH_POLICY_MAX_DEPTH)
		return;
	if (e->kind == GHP_X_LIT && e->lit.kind == GHP_V_ENTITY)
		check_euid(c, e->lit.u.e, e->line, e->col);
	if (e->kind == GHP_X_IS && !known_type(c, e->name) &&
	    !basename_is_action(e->name.p, e->name.n))
		verr(c, e->line, e->col, "unknown entity type %.*s", (int)e->name.n, e->name.p);
	for (size_t i = 0; i < e->n; i++)
		check_names(c, e->a[i], depth + 1);
}

/* The declared (non-action) entity type of a scope's uid, or NULL. */
static const char *scope_uid_type(vctx *c, const ghp_scope *sc)
{
	const char *t = known_type(c, sc->uid->type);

	return t && !is_action_type(c, t) ? t : NULL;
}

/* Can a principal/resource scope match an entity of this type? */
static int scope_allows(vctx *c, const ghp_scope *sc, const char *type)
{
	const char *t, *want;

	switch (sc->op) {
	case GHP_SC_ANY:
		return 1;
	case GHP_SC_EQ:
	case GHP_SC_IN:
		if (sc->slot || !sc->uid)
			return 1;
		if (!(t = scope_uid_type(c, sc)))
			return 0;
		return sc->op == GHP_SC_EQ ? !strcmp(t, type) : type_can_be_in(c, type, t);
	case GHP_SC_IS:
	case GHP_SC_IS_IN:
		want = known_type(c, sc->is_type);
		if (!want || strcmp(want, type))
			return 0;
		if (sc->op == GHP_SC_IS || sc->slot || !sc->uid)
			return 1;
		return (t = scope_uid_type(c, sc)) && type_can_be_in(c, type, t);
	default:
		return 0;
	}
}

static int action_allowed(vctx *c, const ghp_scope *sc, const ghp_action *a)
{
	switch (sc->op) {
	case GHP_SC_ANY:
		return 1;
	case GHP_SC_EQ:
		return lookup_action(c, sc->uid) == a;
	case GHP_SC_IN:
		return lookup_action(c, sc->uid) && action_in(c, a, sc->uid);
	case GHP_SC_IN_SET:
		for (size_t i = 0; i < sc->nuids; i++)
			if (lookup_action(c, sc->uids[i]) && action_in(c, a, sc->uids[i]))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* --- the scope as an expression ---------------------------------------- */

static ghp_expr *node(vctx *c, ghp_expr_kind k, int line, int col, size_t n)
{
	ghp_expr *e = talloc(c, &c->pa, sizeof(*e));

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->line = line;
	e->col = col;
	e->n = n;
	if (n && !(e->a = talloc(c, &c->pa, n * sizeof(*e->a))))
		return NULL;
	return e;
}

static ghp_expr *lit_euid(vctx *c, const ghp_euid *u, int line, int col)
{
	ghp_expr *e = node(c, GHP_X_LIT, line, col, 0);

	if (e) {
		e->lit.kind = GHP_V_ENTITY;
		e->lit.u.e = u;
	}
	return e;
}

static ghp_expr *and2(vctx *c, ghp_expr *x, ghp_expr *y)
{
	ghp_expr *e;

	if (!x || !y)
		return x ? x : y;
	if (!(e = node(c, GHP_X_AND, x->line, x->col, 2)))
		return NULL;
	e->a[0] = x;
	e->a[1] = y;
	return e;
}

/* The scope constraint on var as an expression; NULL for "any". */
static ghp_expr *scope_expr(vctx *c, const ghp_scope *sc, ghp_var var, int line, int col)
{
	ghp_expr *v = node(c, GHP_X_VAR, line, col, 0), *e = NULL, *in = NULL;

	if (!v)
		return NULL;
	v->op = var;
	/* a slot matches any entity: only an is constraint remains */
	if (sc->op == GHP_SC_ANY || (sc->slot && sc->op != GHP_SC_IS_IN))
		return NULL;
	switch (sc->op) {
	case GHP_SC_EQ:
	case GHP_SC_IN:
		if (!(e = node(c, sc->op == GHP_SC_EQ ? GHP_X_EQ : GHP_X_IN, line, col, 2)))
			return NULL;
		e->a[0] = v;
		e->a[1] = lit_euid(c, sc->uid, line, col);
		return e->a[1] ? e : NULL;
	case GHP_SC_IS:
	case GHP_SC_IS_IN:
		if (!(e = node(c, GHP_X_IS, line, col, 1)))
			return NULL;
		e->a[0] = v;
		e->name = sc->is_type;
		if (sc->op == GHP_SC_IS || !sc->uid)
			return e;
		if (!(in = node(c, GHP_X_IN, line, col, 2)))
			return NULL;
		in->a[0] = v;
		in->a[1] = lit_euid(c, sc->uid, line, col);
		return and2(c, e, in);
	case GHP_SC_IN_SET: {
		ghp_expr *set = node(c, GHP_X_SET, line, col, sc->nuids);

		if (!set || !(e = node(c, GHP_X_IN, line, col, 2)))
			return NULL;
		for (size_t i = 0; i < sc->nuids; i++)
			if (!(set->a[i] = lit_euid(c, sc->uids[i], line, col)))
				return NULL;
		e->a[0] = v;
		e->a[1] = set;
		return e;
	}
	default:
		return NULL;
	}
}

static ghp_expr *policy_expr(vctx *c, const ghp_policy *p)
{
	ghp_expr *e = NULL;

	e = and2(c, e, scope_expr(c, &p->principal, GHP_VAR_PRINCIPAL, p->line, p->col));
	e = and2(c, e, scope_expr(c, &p->action, GHP_VAR_ACTION, p->line, p->col));
	e = and2(c, e, scope_expr(c, &p->resource, GHP_VAR_RESOURCE, p->line, p->col));
	for (size_t i = 0; i < p->nconds; i++) {
		ghp_expr *x = p->conds[i].expr;

		if (!p->conds[i].when) {
			ghp_expr *n = node(c, GHP_X_NOT, x->line, x->col, 1);

			if (!n)
				return NULL;
			n->a[0] = x;
			x = n;
		}
		e = and2(c, e, x);
	}
	if (!e && (e = node(c, GHP_X_LIT, p->line, p->col, 0))) {
		e->lit.kind = GHP_V_BOOL;
		e->lit.u.b = 1;
	}
	return e;
}

static void check_scope_names(vctx *c, const ghp_scope *sc, int line, int col)
{
	if (sc->uid)
		check_euid(c, sc->uid, line, col);
	for (size_t i = 0; i < sc->nuids; i++)
		check_euid(c, sc->uids[i], line, col);
	if ((sc->op == GHP_SC_IS || sc->op == GHP_SC_IS_IN) && !known_type(c, sc->is_type) &&
	    !basename_is_action(sc->is_type.p, sc->is_type.n))
		verr(c, line, col, "unknown entity type %.*s", (int)sc->is_type.n, sc->is_type.p);
}

static void validate_policy(vctx *c, const ghp_policy *p)
{
	size_t na = ghp_schema_action_count(c->s);
	int before = c->nerr, applies = 0;
	ghp_expr *cond;

	c->p = p;
	check_scope_names(c, &p->principal, p->line, p->col);
	check_scope_names(c, &p->action, p->line, p->col);
	check_scope_names(c, &p->resource, p->line, p->col);
	for (size_t i = 0; i < p->nconds; i++)
		check_names(c, p->conds[i].expr, 0);
	/* some action in the scope must apply to a principal and a resource it allows */
	for (size_t i = 0; i < na && !applies; i++) {
		const ghp_action *a = ghp_schema_action_at(c->s, i);

		if (!action_allowed(c, &p->action, a))
			continue;
		for (size_t j = 0; j < a->nprincipals && !applies; j++) {
			if (!scope_allows(c, &p->principal, a->principals[j]))
				continue;
			for (size_t k = 0; k < a->nresources && !applies; k++)
				if (scope_allows(c, &p->resource, a->resources[k]))
					applies = 1;
		}
	}
	if (!applies)
		verr(c, p->line, p->col,
		     "the policy's scope matches no action's principal and resource types");
	if (c->nerr > before)
		return;
	if (!(cond = policy_expr(c, p))) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < na; i++) {
		const ghp_action *a = ghp_schema_action_at(c->s, i);
		const ghp_euid *auid = ghp_euid_new(&c->pa, a->type, strlen(a->type), a->id,
						    a->id_len);

		if (!auid) {
			c->oom = 1;
			return;
		}
		for (size_t j = 0; j < a->nprincipals; j++)
			for (size_t k = 0; k < a->nresources; k++) {
				venv env = { a->principals[j], a->resources[k], a, auid };
				const cap *caps = NULL;

				c->env = &env;
				tc_bool(c, cond, NULL, &caps);
				/* what one environment typed is not needed by the next */
				ghp_arena_free(&c->a);
				ghp_arena_init(&c->a, NULL, 0, 0);
			}
	}
	c->env = NULL;
}

int gh_policy_validate(char **out, const gh_policy_set *ps, const gh_policy_schema *schema)
{
	vctx c;
	int rc = GH_POLICY_OK;

	*out = NULL;
	if (!ps || !schema)
		return GH_POLICY_ERROR;
	memset(&c, 0, sizeof(c));
	c.s = schema;
	c.errors = json_array();
	c.tq = calloc(ghp_schema_entity_type_count(schema) + 1, sizeof(*c.tq));
	c.aq = calloc(ghp_schema_action_count(schema) + 1, sizeof(*c.aq));
	if (!c.errors || !c.tq || !c.aq) {
		rc = GH_POLICY_ERROR;
		goto cleanup;
	}
	for (size_t i = 0; i < ps->n && !c.oom; i++) {
		const ghp_policy *p = ps->policies[i];

		if (p->template_id)
			continue;  /* a link: its template is checked */
		ghp_arena_init(&c.a, NULL, 0, 0);
		ghp_arena_init(&c.pa, NULL, 0, 0);
		validate_policy(&c, p);
		ghp_arena_free(&c.a);
		ghp_arena_free(&c.pa);
	}
	if (c.oom) {
		rc = GH_POLICY_ERROR;
	} else if (c.nerr) {
		rc = GH_POLICY_EINVALID;
		if (!(*out = json_dumps(c.errors, JSON_COMPACT)))
			rc = GH_POLICY_ERROR;
	}
cleanup:
	free(c.tq);
	free(c.aq);
	json_decref(c.errors);
	return rc;
}
