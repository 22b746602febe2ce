/* est.c - policy JSON (Cedar's EST, docs/json-format.md): policy sets to JSON and back. */
#include "policy/eval.h"
#include "policy/format.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same bound as parser.c on the expression tree's height. */
#define MAX_TREE (4 * GH_POLICY_MAX_DEPTH)
#define MAX_HAS_PATH 32
#define PATH_CAP 200

static const char *const var_names[] = { "principal", "action", "resource", "context" };

/* --- to JSON ---------------------------------------------------------- */

/* Set when a string is not UTF-8 (the text parser keeps raw bytes; JSON cannot). */
static _Thread_local int not_utf8;

static json_t *jstr(ghp_str s)
{
	json_t *j = json_stringn(s.p, s.n);
	if (!j && s.p)
		not_utf8 = 1;
	return j;
}

static json_t *jstrz(const char *z)
{
	ghp_str s = { z, strlen(z) };
	return jstr(s);
}

static json_t *euid_json(const ghp_euid *u)
{
	return json_pack("{s:o,s:o}", "type", jstr(u->type), "id", jstr(u->id));
}

static json_t *expr_json(const ghp_expr *e);

/* {"op": {"left": a[0], "right": a[1]}} */
static json_t *binary(const char *op, const ghp_expr *e)
{
	return json_pack("{s:{s:o,s:o}}", op, "left", expr_json(e->a[0]), "right",
			 expr_json(e->a[1]));
}

static json_t *call(const char *fn, const ghp_expr *e)
{
	json_t *args = json_array();
	for (size_t i = 0; args && i < e->n; i++)
		if (json_array_append_new(args, expr_json(e->a[i]))) {
			json_decref(args);
			return NULL;
		}
	return json_pack("{s:o}", fn, args);
}

static json_t *lit_json(const ghp_value *v)
{
	char tmp[GHP_EXT_TEXT_MAX + 8];
	const char *fn = NULL;

	switch (v->kind) {
	case GHP_V_BOOL:
		return json_pack("{s:b}", "Value", v->u.b);
	case GHP_V_LONG:
		return json_pack("{s:I}", "Value", (json_int_t)v->u.l);
	case GHP_V_STRING:
		return json_pack("{s:o}", "Value", jstr(v->u.s));
	case GHP_V_ENTITY:
		return json_pack("{s:{s:o}}", "Value", "__entity", euid_json(v->u.e));
	case GHP_V_DECIMAL:
		fn = "decimal";
		ghp_decimal_format(tmp, sizeof(tmp), v->u.l);
		break;
	case GHP_V_IP:
		fn = "ip";
		ghp_ip_format(tmp, sizeof(tmp), v->u.ip);
		break;
	case GHP_V_DATETIME:
		fn = "datetime";
		ghp_datetime_text(tmp, sizeof(tmp), v->u.l);
		break;
	case GHP_V_DURATION:
		fn = "duration";
		ghp_duration_format(tmp, sizeof(tmp), v->u.l);
		break;
	default:
		return NULL;       /* the parsers make no set or record literals */
	}
	return json_pack("{s:[{s:s}]}", fn, "Value", tmp);
}

static json_t *expr_json(const ghp_expr *e)
{
	static const char *const bin[] = {
		[GHP_X_AND] = "&&", [GHP_X_OR] = "||", [GHP_X_EQ] = "==", [GHP_X_NE] = "!=",
		[GHP_X_LT] = "<", [GHP_X_LE] = "<=", [GHP_X_GT] = ">", [GHP_X_GE] = ">=",
		[GHP_X_IN] = "in", [GHP_X_ADD] = "+", [GHP_X_SUB] = "-", [GHP_X_MUL] = "*",
	};
	json_t *j, *o;

	switch (e->kind) {
	case GHP_X_LIT:
		return lit_json(&e->lit);
	case GHP_X_VAR:
		return json_pack("{s:s}", "Var", var_names[e->op & 3]);
	case GHP_X_SLOT:
		return json_pack("{s:s}", "Slot", e->op == GHP_VAR_PRINCIPAL ? "?principal" : "?resource");
	case GHP_X_IF:
		return json_pack("{s:{s:o,s:o,s:o}}", "if-then-else", "if", expr_json(e->a[0]),
				 "then", expr_json(e->a[1]), "else", expr_json(e->a[2]));
	case GHP_X_AND: case GHP_X_OR: case GHP_X_EQ: case GHP_X_NE: case GHP_X_LT:
	case GHP_X_LE: case GHP_X_GT: case GHP_X_GE: case GHP_X_IN: case GHP_X_ADD:
	case GHP_X_SUB: case GHP_X_MUL:
		return binary(bin[e->kind], e);
	case GHP_X_NOT:
	case GHP_X_NEG:
		return json_pack("{s:{s:o}}", e->kind == GHP_X_NOT ? "!" : "neg", "arg",
				 expr_json(e->a[0]));
	case GHP_X_HAS:
		if (e->nkeys == 1) {
			j = jstr(e->keys[0]);
		} else {
			j = json_array();
			for (size_t i = 0; j && i < e->nkeys; i++)
				if (json_array_append_new(j, jstr(e->keys[i]))) {
					json_decref(j);
					j = NULL;
				}
		}
		return json_pack("{s:{s:o,s:o}}", "has", "left", expr_json(e->a[0]), "attr", j);
	case GHP_X_LIKE: {
		json_t *pat = json_array();
		size_t i = 0;
		while (pat && i < e->name.n) {
			size_t k = i;
			if (e->stars && e->stars[i]) {
				o = json_string("Wildcard");
				i++;
			} else {
				while (k < e->name.n && !(e->stars && e->stars[k]))
					k++;
				ghp_str lit = { e->name.p + i, k - i };
				o = json_pack("{s:o}", "Literal", jstr(lit));
				i = k;
			}
			if (json_array_append_new(pat, o)) {
				json_decref(pat);
				pat = NULL;
			}
		}
		return json_pack("{s:{s:o,s:o}}", "like", "left", expr_json(e->a[0]), "pattern", pat);
	}
	case GHP_X_IS:
		j = json_pack("{s:o,s:o}", "left", expr_json(e->a[0]), "entity_type", jstr(e->name));
		if (j && e->n > 1 && json_object_set_new(j, "in", expr_json(e->a[1]))) {
			json_decref(j);
			j = NULL;
		}
		return json_pack("{s:o}", "is", j);
	case GHP_X_ATTR:
		return json_pack("{s:{s:o,s:o}}", ".", "left", expr_json(e->a[0]), "attr", jstr(e->name));
	case GHP_X_METHOD:
		switch (e->op) {
		case GHP_FN_CONTAINS: case GHP_FN_CONTAINS_ALL: case GHP_FN_CONTAINS_ANY:
		case GHP_FN_GET_TAG: case GHP_FN_HAS_TAG:
			if (e->n == 2)
				return binary(ghp_fns[e->op].name, e);
			break;
		case GHP_FN_IS_EMPTY:
			if (e->n == 1)
				return json_pack("{s:{s:o}}", "isEmpty", "arg", expr_json(e->a[0]));
			break;
		}
		return call(ghp_fns[e->op].name, e);
	case GHP_X_CALL:
		return call(ghp_fns[e->op].name, e);
	case GHP_X_SET:
		j = json_array();
		for (size_t i = 0; j && i < e->n; i++)
			if (json_array_append_new(j, expr_json(e->a[i]))) {
				json_decref(j);
				j = NULL;
			}
		return json_pack("{s:o}", "Set", j);
	case GHP_X_RECORD:
		j = json_object();
		for (size_t i = 0; j && i < e->n; i++)
			if (json_object_setn_new(j, e->keys[i].p, e->keys[i].n, expr_json(e->a[i]))) {
				json_decref(jstr(e->keys[i]));  /* notes a key that is not UTF-8 */
				json_decref(j);
				j = NULL;
			}
		return json_pack("{s:o}", "Record", j);
	}
	return NULL;
}

static json_t *target_json(const char *var, const ghp_scope *sc)
{
	char slot[16];
	snprintf(slot, sizeof(slot), "?%s", var);
	if (sc->slot)
		return json_pack("{s:s}", "slot", slot);
	return json_pack("{s:o}", "entity", euid_json(sc->uid));
}

static json_t *scope_json(const char *var, const ghp_scope *sc)
{
	json_t *a;
	switch (sc->op) {
	case GHP_SC_ANY:
		return json_pack("{s:s}", "op", "All");
	case GHP_SC_EQ:
	case GHP_SC_IN:
		a = target_json(var, sc);
		if (a && json_object_set_new(a, "op", json_string(sc->op == GHP_SC_EQ ? "==" : "in"))) {
			json_decref(a);
			return NULL;
		}
		return a;
	case GHP_SC_IS:
		return json_pack("{s:s,s:o}", "op", "is", "entity_type", jstr(sc->is_type));
	case GHP_SC_IS_IN:
		return json_pack("{s:s,s:o,s:o}", "op", "is", "entity_type", jstr(sc->is_type), "in",
				 target_json(var, sc));
	case GHP_SC_IN_SET:
		a = json_array();
		for (size_t i = 0; a && i < sc->nuids; i++)
			if (json_array_append_new(a, euid_json(sc->uids[i]))) {
				json_decref(a);
				a = NULL;
			}
		return json_pack("{s:s,s:o}", "op", "in", "entities", a);
	}
	return NULL;
}

static json_t *policy_json(const ghp_policy *p)
{
	json_t *conds = json_array(), *j;
	for (size_t i = 0; conds && i < p->nconds; i++)
		if (json_array_append_new(conds, json_pack("{s:s,s:o}", "kind",
							   p->conds[i].when ? "when" : "unless", "body",
							   expr_json(p->conds[i].expr)))) {
			json_decref(conds);
			conds = NULL;
		}
	j = json_pack("{s:s,s:o,s:o,s:o,s:o}", "effect", p->forbid ? "forbid" : "permit",
		      "principal", scope_json("principal", &p->principal), "action",
		      scope_json("action", &p->action), "resource",
		      scope_json("resource", &p->resource), "conditions", conds);
	if (j && p->nannots) {
		json_t *an = json_object();
		for (size_t i = 0; an && i < p->nannots; i++)
			if (json_object_set_new(an, p->annots[i].key,
						p->annots[i].has_value ? jstrz(p->annots[i].value)
								       : json_null())) {
				json_decref(an);
				an = NULL;
			}
		if (!an || json_object_set_new(j, "annotations", an)) {
			json_decref(j);
			j = NULL;
		}
	}
	return j;
}

int gh_policy_set_to_json(char **out, const gh_policy_set *ps)
{
	json_t *st = json_object(), *tp = json_object(), *links = json_array(), *doc;
	int rc = GH_POLICY_ERROR;

	*out = NULL;
	not_utf8 = 0;
	if (!ps || !st || !tp || !links)
		goto fail;
	for (size_t i = 0; i < ps->n; i++) {
		const ghp_policy *p = ps->policies[i];
		json_t *j;
		if (p->template_id) {
			json_t *vals = json_object();
			if (vals && p->link_principal &&
			    json_object_set_new(vals, "?principal", euid_json(p->link_principal)))
				json_decref(vals), vals = NULL;
			if (vals && p->link_resource &&
			    json_object_set_new(vals, "?resource", euid_json(p->link_resource)))
				json_decref(vals), vals = NULL;
			j = json_pack("{s:s,s:s,s:o}", "templateId", p->template_id, "newId", p->id,
				      "values", vals);
			if (!j || json_array_append_new(links, j))
				goto fail;
		} else if (!(j = policy_json(p)) ||
			   json_object_set_new(p->is_template ? tp : st, p->id, j)) {
			goto fail;
		}
	}
	doc = json_pack("{s:o,s:o,s:o}", "staticPolicies", st, "templates", tp, "templateLinks", links);
	st = tp = links = NULL;
	if (doc) {
		*out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(doc);
		rc = *out ? 0 : GH_POLICY_ERROR;
	} else {
		rc = GH_POLICY_ERROR;
	}
fail:
	json_decref(st);
	json_decref(tp);
	json_decref(links);
	return rc && not_utf8 ? GH_POLICY_EINVALID : rc;
}

/* --- from JSON -------------------------------------------------------- */

typedef struct est {
	gh_policy_set *ps;
	ghp_arena *a;
	gh_policy_error *err;
	int rc;
	int marked;                /* U+10FFFF in strings stands for NUL */
	char path[PATH_CAP];       /* where we are in the document, for messages */
	size_t plen;
} est;

static int bad(est *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(est *c, int code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	if (c->rc)
		return -1;
	c->rc = code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err)
		snprintf(c->err->message, sizeof(c->err->message), "policy JSON at %.*s: %.*s",
			 PATH_CAP, c->plen ? c->path : "(top)", 280, msg);
	return -1;
}

/* Appends ".key" or "[i]" to the path; returns the length to restore. */
static size_t push(est *c, const char *key, long idx)
{
	size_t old = c->plen;
	int n = key ? snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s%.60s",
			       c->plen ? "." : "", key)
		    : snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "[%ld]", idx);
	if (n > 0)
		c->plen += (size_t)n;
	if (c->plen >= sizeof(c->path))
		c->plen = sizeof(c->path) - 1;
	return old;
}

static void pop(est *c, size_t old)
{
	c->plen = old;
	c->path[old] = 0;
}

/* ghp_json_load turns \u0000 into U+10FFFF for jansson; copies turn it back into NUL. */
static ghp_str unmark(est *c, const char *k, size_t n)
{
	static const char mark[] = "\xF4\x8F\xBF\xBF";
	size_t o = 0;
	char *p = ghp_arena_alloc(c->a, n + 1);
	ghp_str s = { NULL, 0 };
	if (!p)
		return s;
	if (!c->marked) {
		memcpy(p, k, n);
		p[n] = 0;
		s.p = p;
		s.n = n;
		return s;
	}
	for (size_t i = 0; i < n; i++) {
		if (i + 4 <= n && !memcmp(k + i, mark, 4)) {
			p[o++] = 0;
			i += 3;
		} else {
			p[o++] = k[i];
		}
	}
	p[o] = 0;
	s.p = p;
	s.n = o;
	return s;
}

static ghp_str jcopy(est *c, json_t *j)
{
	return unmark(c, json_string_value(j), json_string_length(j));
}

static int oom(est *c)
{
	return bad(c, GH_POLICY_ERROR, "out of memory");
}

/* Refuses keys outside allowed (NULL-terminated). */
static int only(est *c, json_t *o, const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], k))
			i++;
		if (!allowed[i]) {
			size_t old = push(c, k, 0);
			bad(c, GH_POLICY_EPARSE, "unknown field");
			pop(c, old);
			return -1;
		}
	}
	return 0;
}

/* A string field copied into the arena. */
static int get_str(est *c, json_t *o, const char *field, ghp_str *out)
{
	json_t *v = json_object_get(o, field);
	size_t old = push(c, field, 0);
	int rc = 0;
	if (!json_is_string(v)) {
		rc = bad(c, GH_POLICY_EPARSE, v ? "expected a string" : "missing");
	} else {
		*out = jcopy(c, v);
		if (!out->p)
			rc = oom(c);
	}
	if (!rc)
		pop(c, old);
	return rc;
}

/* An entity type: Name {'::' Name}, as the text parser takes it. */
static int valid_type(ghp_str t)
{
	size_t i = 0;
	if (!t.n || t.n > 1000)
		return 0;
	while (i <= t.n) {
		size_t k = i;
		while (k < t.n && t.p[k] != ':')
			k++;
		ghp_str seg = { t.p + i, k - i };
		if (!ghp_plain_ident(seg))
			return 0;
		if (k == t.n)
			return 1;
		if (k + 2 >= t.n || t.p[k + 1] != ':')
			return 0;
		i = k + 2;
	}
	return 0;
}

static int entity_type(est *c, json_t *o, const char *field, ghp_str *out)
{
	if (get_str(c, o, field, out) < 0)
		return -1;
	if (valid_type(*out))
		return 0;
	size_t old = push(c, field, 0);
	bad(c, GH_POLICY_EPARSE, "\"%.60s\" is not an entity type name", out->p);
	pop(c, old);
	return -1;
}

static int euid(est *c, json_t *j, const ghp_euid **out)
{
	char msg[200];
	if (ghp_euid_from_json(c->a, j, out, msg, sizeof(msg)) < 0)
		return bad(c, GH_POLICY_EPARSE, "%s", msg);
	if (!valid_type((*out)->type))
		return bad(c, GH_POLICY_EPARSE, "\"%.60s\" is not an entity type name",
			   (*out)->type.p);
	return 0;
}

static ghp_expr *node(est *c, ghp_expr_kind kind, size_t n)
{
	ghp_expr *e = ghp_arena_alloc(c->a, sizeof(*e));
	if (!e) {
		oom(c);
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->n = n;
	e->h = 1;
	if (n && !(e->a = ghp_arena_alloc(c->a, n * sizeof(*e->a)))) {
		oom(c);
		return NULL;
	}
	return e;
}

static ghp_expr *expr(est *c, json_t *j, int depth);

/* e->a[i] = the expression at field (or the whole of j when field is NULL). */
static int child(est *c, ghp_expr *e, size_t i, json_t *o, const char *field, int depth)
{
	json_t *v = field ? json_object_get(o, field) : o;
	size_t old = push(c, field ? field : NULL, (long)i);
	if (!v)
		return bad(c, GH_POLICY_EPARSE, "missing");
	if (!(e->a[i] = expr(c, v, depth + 1)))
		return -1;
	pop(c, old);
	if (e->a[i]->h + 1 > e->h)
		e->h = e->a[i]->h + 1;
	if (e->h > MAX_TREE)
		return bad(c, GH_POLICY_ETOOLARGE, "expression nested too deeply");
	return 0;
}

/* A constructor over a string literal is computed once, as parser.c does. */
static void fold_call(est *c, ghp_expr *e)
{
	ghp_value v;
	if ((int)e->n == ghp_fns[e->op].nargs && e->a[0]->kind == GHP_X_LIT &&
	    e->a[0]->lit.kind == GHP_V_STRING) {
		ghp_str s = e->a[0]->lit.u.s;
		if (ghp_ext_make(c->a, ghp_fns[e->op].name, s.p, s.n, &v) == 0) {
			e->kind = GHP_X_LIT;
			e->lit = v;
			e->n = 0;
			e->h = 1;
		}
	}
}

/* "Value": a literal, or sets and records of literals as expressions. */
static ghp_expr *value(est *c, json_t *j, int depth)
{
	ghp_expr *e;
	if (depth > MAX_TREE) {
		bad(c, GH_POLICY_ETOOLARGE, "value nested too deeply");
		return NULL;
	}
	if (json_is_boolean(j) || json_is_integer(j) || json_is_string(j)) {
		if (!(e = node(c, GHP_X_LIT, 0)))
			return NULL;
		if (json_is_boolean(j)) {
			e->lit.kind = GHP_V_BOOL;
			e->lit.u.b = json_is_true(j);
		} else if (json_is_integer(j)) {
			e->lit.kind = GHP_V_LONG;
			e->lit.u.l = json_integer_value(j);
		} else {
			e->lit.kind = GHP_V_STRING;
			e->lit.u.s = jcopy(c, j);
			if (!e->lit.u.s.p) {
				oom(c);
				return NULL;
			}
		}
		return e;
	}
	if (json_is_array(j)) {
		if (!(e = node(c, GHP_X_SET, json_array_size(j))))
			return NULL;
		for (size_t i = 0; i < e->n; i++) {
			size_t old = push(c, NULL, (long)i);
			if (!(e->a[i] = value(c, json_array_get(j, i), depth + 1)))
				return NULL;
			pop(c, old);
			if (e->a[i]->h + 1 > e->h)
				e->h = e->a[i]->h + 1;
		}
		return e;
	}
	if (!json_is_object(j)) {
		bad(c, GH_POLICY_EPARSE, "expected a bool, integer, string, array or object");
		return NULL;
	}
	if (json_object_get(j, "__entity")) {
		if (!(e = node(c, GHP_X_LIT, 0)))
			return NULL;
		e->lit.kind = GHP_V_ENTITY;
		return euid(c, j, &e->lit.u.e) < 0 ? NULL : e;
	}
	if (json_object_get(j, "__extn")) {
		json_t *x = json_object_get(j, "__extn");
		ghp_str fn, arg;
		size_t old = push(c, "__extn", 0);
		if (get_str(c, x, "fn", &fn) < 0 || get_str(c, x, "arg", &arg) < 0)
			return NULL;
		if (!(e = node(c, GHP_X_LIT, 0)))
			return NULL;
		if (ghp_ext_make(c->a, fn.p, arg.p, arg.n, &e->lit) < 0) {
			bad(c, GH_POLICY_EPARSE, "invalid %.20s value \"%.60s\"", fn.p, arg.p);
			return NULL;
		}
		pop(c, old);
		return e;
	}
	if (!(e = node(c, GHP_X_RECORD, json_object_size(j))))
		return NULL;
	if (e->n && !(e->keys = ghp_arena_alloc(c->a, e->n * sizeof(*e->keys)))) {
		oom(c);
		return NULL;
	}
	const char *k;
	json_t *v;
	size_t i = 0;
	json_object_foreach(j, k, v) {
		size_t old = push(c, k, 0);
		e->keys[i] = unmark(c, k, strlen(k));
		if (!e->keys[i].p) {
			oom(c);
			return NULL;
		}
		if (!(e->a[i] = value(c, v, depth + 1)))
			return NULL;
		pop(c, old);
		if (e->a[i]->h + 1 > e->h)
			e->h = e->a[i]->h + 1;
		i++;
	}
	return e;
}

static int find_fn(const char *name)
{
	for (int i = 0; i < GHP_FN_COUNT_; i++)
		if (!strcmp(ghp_fns[i].name, name))
			return i;
	return -1;
}

static ghp_expr *like(est *c, ghp_expr *e, json_t *pat)
{
	size_t cap = 0, n = 0;
	char *p;
	unsigned char *st;
	if (json_is_string(pat)) {
		/* the older form: a pattern string where every '*' is a wildcard */
		ghp_str s = jcopy(c, pat);
		n = s.n;
		if (!(p = (char *)s.p) || !(st = ghp_arena_alloc(c->a, n + 1))) {
			oom(c);
			return NULL;
		}
		for (size_t i = 0; i < n; i++)
			st[i] = p[i] == '*';
		goto done;
	}
	if (!json_is_array(pat)) {
		bad(c, GH_POLICY_EPARSE, "expected an array of \"Wildcard\" and {\"Literal\": string}");
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(pat); i++) {
		json_t *x = json_array_get(pat, i), *l = json_object_get(x, "Literal");
		if (!(json_is_string(x) && !strcmp(json_string_value(x), "Wildcard")) &&
		    !(json_is_string(l) && json_object_size(x) == 1)) {
			size_t old = push(c, NULL, (long)i);
			(void)old;
			bad(c, GH_POLICY_EPARSE, "expected \"Wildcard\" or {\"Literal\": string}");
			return NULL;
		}
		cap += l ? json_string_length(l) : 1;
		if (cap > GH_POLICY_MAX_TEXT) {
			bad(c, GH_POLICY_ETOOLARGE, "pattern too long");
			return NULL;
		}
	}
	if (!(p = ghp_arena_alloc(c->a, cap + 1)) || !(st = ghp_arena_alloc(c->a, cap + 1))) {
		oom(c);
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(pat); i++) {
		json_t *l = json_object_get(json_array_get(pat, i), "Literal");
		if (!l) {
			p[n] = '*';
			st[n++] = 1;
		} else {
			ghp_str s = jcopy(c, l);
			size_t ln = s.n;
			if (!s.p) {
				oom(c);
				return NULL;
			}
			memcpy(p + n, s.p, ln);
			memset(st + n, 0, ln);
			n += ln;
		}
	}
done:
	p[n] = 0;
	e->name.p = p;
	e->name.n = n;
	e->stars = st;
	return e;
}

static ghp_expr *operator(est *c, const char *op, json_t *v, int depth)
{
	static const struct { const char *name; ghp_expr_kind kind; } bins[] = {
		{ "==", GHP_X_EQ }, { "!=", GHP_X_NE }, { "in", GHP_X_IN }, { "<", GHP_X_LT },
		{ "<=", GHP_X_LE }, { ">", GHP_X_GT }, { ">=", GHP_X_GE }, { "&&", GHP_X_AND },
		{ "||", GHP_X_OR }, { "+", GHP_X_ADD }, { "-", GHP_X_SUB }, { "*", GHP_X_MUL },
	};
	static const char *const lr[] = { "left", "right", NULL };
	static const char *const arg[] = { "arg", NULL };
	static const char *const la[] = { "left", "attr", NULL };
	static const char *const is[] = { "left", "entity_type", "in", NULL };
	static const char *const lk[] = { "left", "pattern", NULL };
	static const char *const ite[] = { "if", "then", "else", NULL };
	ghp_expr *e;
	int fn = find_fn(op);

	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++)
		if (!strcmp(op, bins[i].name)) {
			if (!json_is_object(v) || only(c, v, lr) < 0 || !(e = node(c, bins[i].kind, 2)))
				goto shape;
			if (child(c, e, 0, v, "left", depth) < 0 || child(c, e, 1, v, "right", depth) < 0)
				return NULL;
			return e;
		}
	if (fn >= 0 && ghp_fns[fn].method && ghp_fns[fn].nargs == 1 && fn < GHP_FN_LESS_THAN &&
	    json_is_object(v)) {
		/* contains, containsAll, containsAny, getTag, hasTag: {"left","right"} */
		if (only(c, v, lr) < 0 || !(e = node(c, GHP_X_METHOD, 2)))
			goto shape;
		e->op = fn;
		if (child(c, e, 0, v, "left", depth) < 0 || child(c, e, 1, v, "right", depth) < 0)
			return NULL;
		return e;
	}
	if (!strcmp(op, "!") || !strcmp(op, "neg") || (fn == GHP_FN_IS_EMPTY && json_is_object(v))) {
		if (!json_is_object(v) || only(c, v, arg) < 0)
			goto shape;
		if (!(e = node(c, fn == GHP_FN_IS_EMPTY ? GHP_X_METHOD : *op == '!' ? GHP_X_NOT : GHP_X_NEG, 1)))
			return NULL;
		e->op = fn == GHP_FN_IS_EMPTY ? fn : 0;
		return child(c, e, 0, v, "arg", depth) < 0 ? NULL : e;
	}
	if (!strcmp(op, ".")) {
		if (!json_is_object(v) || only(c, v, la) < 0 || !(e = node(c, GHP_X_ATTR, 1)))
			goto shape;
		if (child(c, e, 0, v, "left", depth) < 0 || get_str(c, v, "attr", &e->name) < 0)
			return NULL;
		return e;
	}
	if (!strcmp(op, "has")) {
		if (!json_is_object(v) || only(c, v, la) < 0 || !(e = node(c, GHP_X_HAS, 1)))
			goto shape;
		if (child(c, e, 0, v, "left", depth) < 0)
			return NULL;
		json_t *at = json_object_get(v, "attr");
		size_t old = push(c, "attr", 0);
		if (json_is_string(at)) {
			e->nkeys = 1;
		} else if (json_is_array(at) && json_array_size(at) >= 1 &&
			   json_array_size(at) <= MAX_HAS_PATH) {
			e->nkeys = json_array_size(at);
		} else {
			bad(c, GH_POLICY_EPARSE, "expected a string or a list of 1 to %d identifiers",
			    MAX_HAS_PATH);
			return NULL;
		}
		if (!(e->keys = ghp_arena_alloc(c->a, e->nkeys * sizeof(*e->keys)))) {
			oom(c);
			return NULL;
		}
		for (size_t i = 0; i < e->nkeys; i++) {
			json_t *k = json_is_string(at) ? at : json_array_get(at, i);
			if (!json_is_string(k)) {
				bad(c, GH_POLICY_EPARSE, "expected identifiers");
				return NULL;
			}
			e->keys[i] = jcopy(c, k);
			if (!e->keys[i].p) {
				oom(c);
				return NULL;
			}
			if (e->nkeys > 1 && !ghp_plain_ident(e->keys[i])) {
				bad(c, GH_POLICY_EPARSE, "\"%.60s\" is not an identifier", e->keys[i].p);
				return NULL;
			}
		}
		pop(c, old);
		return e;
	}
	if (!strcmp(op, "is")) {
		if (!json_is_object(v) || only(c, v, is) < 0)
			goto shape;
		if (!(e = node(c, GHP_X_IS, json_object_get(v, "in") ? 2 : 1)))
			return NULL;
		if (child(c, e, 0, v, "left", depth) < 0 ||
		    entity_type(c, v, "entity_type", &e->name) < 0 ||
		    (e->n > 1 && child(c, e, 1, v, "in", depth) < 0))
			return NULL;
		return e;
	}
	if (!strcmp(op, "like")) {
		if (!json_is_object(v) || only(c, v, lk) < 0 || !(e = node(c, GHP_X_LIKE, 1)))
			goto shape;
		if (child(c, e, 0, v, "left", depth) < 0)
			return NULL;
		size_t old = push(c, "pattern", 0);
		if (!like(c, e, json_object_get(v, "pattern")))
			return NULL;
		pop(c, old);
		return e;
	}
	if (!strcmp(op, "if-then-else")) {
		if (!json_is_object(v) || only(c, v, ite) < 0 || !(e = node(c, GHP_X_IF, 3)))
			goto shape;
		if (child(c, e, 0, v, "if", depth) < 0 || child(c, e, 1, v, "then", depth) < 0 ||
		    child(c, e, 2, v, "else", depth) < 0)
			return NULL;
		return e;
	}
	if (!strcmp(op, "Set")) {
		if (!json_is_array(v) || !(e = node(c, GHP_X_SET, json_array_size(v))))
			goto shape;
		for (size_t i = 0; i < e->n; i++)
			if (child(c, e, i, json_array_get(v, i), NULL, depth) < 0)
				return NULL;
		return e;
	}
	if (!strcmp(op, "Record")) {
		if (!json_is_object(v) || !(e = node(c, GHP_X_RECORD, json_object_size(v))))
			goto shape;
		if (e->n && !(e->keys = ghp_arena_alloc(c->a, e->n * sizeof(*e->keys)))) {
			oom(c);
			return NULL;
		}
		const char *k;
		json_t *x;
		size_t i = 0;
		json_object_foreach(v, k, x) {
			size_t old = push(c, k, 0);
			e->keys[i] = unmark(c, k, strlen(k));
			if (!e->keys[i].p) {
				oom(c);
				return NULL;
			}
			pop(c, old);
			if (child(c, e, i, v, k, depth) < 0)
				return NULL;
			i++;
		}
		return e;
	}
	if (fn >= 0) {
		/* an extension function or a method, receiver first */
		size_t n = json_array_size(v);
		if (!json_is_array(v))
			goto shape;
		if (ghp_fns[fn].method && (n < 1 || (fn < GHP_FN_LESS_THAN && (int)n != ghp_fns[fn].nargs + 1))) {
			bad(c, GH_POLICY_EPARSE, "%s takes a receiver and %d argument(s), got %zu values",
			    op, ghp_fns[fn].nargs, n);
			return NULL;
		}
		if (n > 64) {
			bad(c, GH_POLICY_ETOOLARGE, "too many arguments");
			return NULL;
		}
		if (!(e = node(c, ghp_fns[fn].method ? GHP_X_METHOD : GHP_X_CALL, n)))
			return NULL;
		e->op = fn;
		for (size_t i = 0; i < n; i++)
			if (child(c, e, i, json_array_get(v, i), NULL, depth) < 0)
				return NULL;
		if (!ghp_fns[fn].method) {
			e->name.p = ghp_fns[fn].name;
			e->name.n = strlen(e->name.p);
			fold_call(c, e);
		}
		return e;
	}
	bad(c, GH_POLICY_EPARSE, "unknown operator or function \"%.60s\"", op);
	return NULL;
shape:
	if (!c->rc)
		bad(c, GH_POLICY_EPARSE, "malformed \"%.20s\" expression", op);
	return NULL;
}

static ghp_expr *expr(est *c, json_t *j, int depth)
{
	const char *op = NULL;
	json_t *v = NULL;
	ghp_expr *e;

	if (depth > MAX_TREE) {
		bad(c, GH_POLICY_ETOOLARGE, "expression nested too deeply");
		return NULL;
	}
	if (!json_is_object(j) || json_object_size(j) != 1) {
		bad(c, GH_POLICY_EPARSE, "expected an expression object with exactly one key");
		return NULL;
	}
	json_object_foreach(j, op, v)
		break;
	size_t old = push(c, op, 0);
	if (!strcmp(op, "Value")) {
		e = value(c, v, 0);
	} else if (!strcmp(op, "Var")) {
		e = NULL;
		for (int i = 0; i < 4; i++)
			if (json_is_string(v) && !strcmp(json_string_value(v), var_names[i]) &&
			    (e = node(c, GHP_X_VAR, 0)))
				e->op = i;
		if (!e && !c->rc)
			bad(c, GH_POLICY_EPARSE, "expected principal, action, resource or context");
	} else if (!strcmp(op, "Slot")) {
		e = NULL;
		bad(c, GH_POLICY_EPARSE, "template slots are only allowed in the policy scope");
	} else if (!strcmp(op, "Unknown")) {
		e = NULL;
		bad(c, GH_POLICY_EINVALID, "unknowns (partial evaluation) are not supported");
	} else {
		e = operator(c, op, v, depth);
	}
	if (e)
		pop(c, old);
	return e;
}

/* "principal" / "resource" scope */
static int scope_target(est *c, json_t *o, const char *var, ghp_scope *sc, int *slots)
{
	char want[16];
	json_t *en = json_object_get(o, "entity"), *sl = json_object_get(o, "slot");
	snprintf(want, sizeof(want), "?%s", var);
	if (!!en == !!sl)
		return bad(c, GH_POLICY_EPARSE, "expected one of \"entity\" or \"slot\"");
	if (sl) {
		size_t old = push(c, "slot", 0);
		if (!json_is_string(sl) || strcmp(json_string_value(sl), want))
			return bad(c, GH_POLICY_EPARSE, "expected \"%s\"", want);
		pop(c, old);
		sc->slot = 1;
		(*slots)++;
		return 0;
	}
	size_t old = push(c, "entity", 0);
	if (euid(c, en, &sc->uid) < 0)
		return -1;
	pop(c, old);
	return 0;
}

static int is_action_type(ghp_str t)
{
	return ghp_str_eqz(t, "Action") ||
	       (t.n > 8 && memcmp(t.p + t.n - 8, "::Action", 8) == 0);
}

static int action_euid(est *c, json_t *j, const ghp_euid **out)
{
	if (euid(c, j, out) < 0)
		return -1;
	if (!is_action_type((*out)->type))
		return bad(c, GH_POLICY_EPARSE, "expected an action entity (type Action or NS::Action)");
	return 0;
}

static int scope(est *c, json_t *p, const char *var, ghp_scope *sc, int *slots)
{
	static const char *const pr_keys[] = { "op", "entity", "slot", "entity_type", "in", NULL };
	static const char *const ac_keys[] = { "op", "entity", "entities", NULL };
	json_t *o = json_object_get(p, var), *opj;
	int action = !strcmp(var, "action");
	const char *op;
	size_t old = push(c, var, 0);

	memset(sc, 0, sizeof(*sc));
	if (!json_is_object(o))
		return bad(c, GH_POLICY_EPARSE, o ? "expected an object" : "missing");
	if (only(c, o, action ? ac_keys : pr_keys) < 0)
		return -1;
	opj = json_object_get(o, "op");
	if (!json_is_string(opj))
		return bad(c, GH_POLICY_EPARSE, "expected \"op\": All, ==, in%s", action ? "" : " or is");
	op = json_string_value(opj);
	if (!strcmp(op, "All")) {
		if (json_object_size(o) != 1)
			return bad(c, GH_POLICY_EPARSE, "\"All\" takes no other fields");
		sc->op = GHP_SC_ANY;
	} else if (action && (!strcmp(op, "==") || !strcmp(op, "in"))) {
		json_t *en = json_object_get(o, "entity"), *ens = json_object_get(o, "entities");
		if (!!en == !!ens || (ens && !strcmp(op, "==")))
			return bad(c, GH_POLICY_EPARSE, "expected \"entity\"%s",
				   strcmp(op, "==") ? " or \"entities\"" : "");
		if (en) {
			sc->op = !strcmp(op, "==") ? GHP_SC_EQ : GHP_SC_IN;
			size_t o2 = push(c, "entity", 0);
			if (action_euid(c, en, &sc->uid) < 0)
				return -1;
			pop(c, o2);
		} else {
			size_t o2 = push(c, "entities", 0);
			if (!json_is_array(ens))
				return bad(c, GH_POLICY_EPARSE, "expected an array of entities");
			sc->op = GHP_SC_IN_SET;
			sc->nuids = json_array_size(ens);
			if (sc->nuids && !(sc->uids = ghp_arena_alloc(c->a, sc->nuids * sizeof(*sc->uids))))
				return oom(c);
			for (size_t i = 0; i < sc->nuids; i++) {
				size_t o3 = push(c, NULL, (long)i);
				if (action_euid(c, json_array_get(ens, i), &sc->uids[i]) < 0)
					return -1;
				pop(c, o3);
			}
			pop(c, o2);
		}
	} else if (!action && (!strcmp(op, "==") || !strcmp(op, "in"))) {
		if (json_object_get(o, "entity_type") || json_object_get(o, "in"))
			return bad(c, GH_POLICY_EPARSE, "\"entity_type\" and \"in\" go with op \"is\"");
		sc->op = !strcmp(op, "==") ? GHP_SC_EQ : GHP_SC_IN;
		if (scope_target(c, o, var, sc, slots) < 0)
			return -1;
	} else if (!action && !strcmp(op, "is")) {
		json_t *in = json_object_get(o, "in");
		if (json_object_get(o, "entity") || json_object_get(o, "slot"))
			return bad(c, GH_POLICY_EPARSE, "op \"is\" takes \"entity_type\" and \"in\"");
		if (entity_type(c, o, "entity_type", &sc->is_type) < 0)
			return -1;
		sc->op = GHP_SC_IS;
		if (in) {
			static const char *const in_keys[] = { "entity", "slot", NULL };
			size_t o2 = push(c, "in", 0);
			if (!json_is_object(in) || only(c, in, in_keys) < 0)
				return bad(c, GH_POLICY_EPARSE, "expected {\"entity\"} or {\"slot\"}");
			sc->op = GHP_SC_IS_IN;
			if (scope_target(c, in, var, sc, slots) < 0)
				return -1;
			pop(c, o2);
		}
	} else {
		return bad(c, GH_POLICY_EPARSE, "unknown op \"%.20s\"", op);
	}
	pop(c, old);
	return 0;
}

static int annotations(est *c, json_t *p, ghp_policy *pol)
{
	json_t *an = json_object_get(p, "annotations"), *v;
	const char *k;
	size_t i = 0, old = push(c, "annotations", 0);

	if (!an || json_is_null(an)) {
		pop(c, old);
		return 0;
	}
	if (!json_is_object(an))
		return bad(c, GH_POLICY_EPARSE, "expected an object");
	if (json_object_size(an) > 64)
		return bad(c, GH_POLICY_ETOOLARGE, "too many annotations");
	pol->nannots = json_object_size(an);
	if (pol->nannots && !(pol->annots = ghp_arena_alloc(c->a, pol->nannots * sizeof(*pol->annots))))
		return oom(c);
	json_object_foreach(an, k, v) {
		size_t o2 = push(c, k, 0);
		ghp_str key = { k, strlen(k) };
		int ok = key.n > 0;
		for (size_t x = 0; x < key.n; x++) {
			char ch = k[x];
			if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (x && ch >= '0' && ch <= '9')))
				ok = 0;
		}
		if (!ok)
			return bad(c, GH_POLICY_EPARSE, "an annotation name must be an identifier");
		if (!json_is_string(v) && !json_is_null(v))
			return bad(c, GH_POLICY_EPARSE, "expected a string or null");
		pol->annots[i].key = ghp_arena_strdup(c->a, k, key.n);
		/* a value is cut at a NUL, as in the text parser */
		pol->annots[i].value = json_is_string(v) ? jcopy(c, v).p : "";
		pol->annots[i].has_value = json_is_string(v);
		if (!pol->annots[i].key || !pol->annots[i].value)
			return oom(c);
		pop(c, o2);
		i++;
	}
	pop(c, old);
	return 0;
}

/* One policy object; template says which kind the document declares (-1: either). */
static int policy(est *c, json_t *p, const char *id, int template, ghp_policy **out)
{
	static const char *const keys[] = { "effect", "principal", "action", "resource",
					    "conditions", "annotations", NULL };
	ghp_policy *pol = ghp_arena_alloc(c->a, sizeof(*pol));
	json_t *eff, *conds;
	int slots = 0;

	if (!pol)
		return oom(c);
	memset(pol, 0, sizeof(*pol));
	if (!json_is_object(p))
		return bad(c, GH_POLICY_EPARSE, "expected a policy object");
	if (only(c, p, keys) < 0)
		return -1;
	if (!(pol->id = ghp_arena_strdup(c->a, id, strlen(id))))
		return oom(c);
	eff = json_object_get(p, "effect");
	if (!json_is_string(eff) ||
	    (strcmp(json_string_value(eff), "permit") && strcmp(json_string_value(eff), "forbid"))) {
		size_t old = push(c, "effect", 0);
		(void)old;
		return bad(c, GH_POLICY_EPARSE, "expected \"permit\" or \"forbid\"");
	}
	pol->forbid = !strcmp(json_string_value(eff), "forbid");
	if (scope(c, p, "principal", &pol->principal, &slots) < 0 ||
	    scope(c, p, "action", &pol->action, &slots) < 0 ||
	    scope(c, p, "resource", &pol->resource, &slots) < 0 || annotations(c, p, pol) < 0)
		return -1;
	conds = json_object_get(p, "conditions");
	size_t old = push(c, "conditions", 0);
	if (conds && !json_is_array(conds))
		return bad(c, GH_POLICY_EPARSE, "expected an array");
	pol->nconds = json_array_size(conds);
	if (pol->nconds && !(pol->conds = ghp_arena_alloc(c->a, pol->nconds * sizeof(*pol->conds))))
		return oom(c);
	for (size_t i = 0; i < pol->nconds; i++) {
		static const char *const ckeys[] = { "kind", "body", NULL };
		json_t *cj = json_array_get(conds, i), *kind;
		size_t o2 = push(c, NULL, (long)i);
		if (!json_is_object(cj) || only(c, cj, ckeys) < 0)
			return bad(c, GH_POLICY_EPARSE, "expected {\"kind\", \"body\"}");
		kind = json_object_get(cj, "kind");
		if (!json_is_string(kind) || (strcmp(json_string_value(kind), "when") &&
					      strcmp(json_string_value(kind), "unless"))) {
			push(c, "kind", 0);
			return bad(c, GH_POLICY_EPARSE, "expected \"when\" or \"unless\"");
		}
		pol->conds[i].when = !strcmp(json_string_value(kind), "when");
		size_t o3 = push(c, "body", 0);
		if (!json_object_get(cj, "body"))
			return bad(c, GH_POLICY_EPARSE, "missing");
		if (!(pol->conds[i].expr = expr(c, json_object_get(cj, "body"), 0)))
			return -1;
		pop(c, o3);
		pop(c, o2);
	}
	pop(c, old);
	pol->is_template = slots > 0;
	if (template == 0 && slots)
		return bad(c, GH_POLICY_EINVALID, "a static policy has a slot (put it under templates)");
	if (template == 1 && !slots)
		return bad(c, GH_POLICY_EINVALID, "a template has no slot");
	*out = pol;
	return 0;
}

static ghp_policy *find(const gh_policy_set *ps, const char *id)
{
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->policies[i]->id, id))
			return ps->policies[i];
	return NULL;
}

static int add(est *c, ghp_policy *pol)
{
	if (strlen(pol->id) == 0)
		return bad(c, GH_POLICY_EPARSE, "a policy id is empty");
	if (find(c->ps, pol->id))
		return bad(c, GH_POLICY_EINVALID, "policy id \"%.60s\" is used twice", pol->id);
	return ghp_policy_set_add(c->ps, pol) < 0 ? oom(c) : 0;
}

static int policies(est *c, json_t *doc, const char *field, int template)
{
	json_t *o = json_object_get(doc, field), *p;
	const char *id;
	size_t old = push(c, field, 0);

	if (!o || json_is_null(o)) {
		pop(c, old);
		return 0;
	}
	if (!json_is_object(o))
		return bad(c, GH_POLICY_EPARSE, "expected an object of policies by id");
	json_object_foreach(o, id, p) {
		ghp_policy *pol;
		size_t o2 = push(c, id, 0);
		if (policy(c, p, id, template, &pol) < 0 || add(c, pol) < 0)
			return -1;
		pop(c, o2);
	}
	pop(c, old);
	return 0;
}

static int link_value(est *c, json_t *vals, const char *slot, int want, const ghp_euid **out)
{
	json_t *v = json_object_get(vals, slot);
	size_t old = push(c, slot, 0);
	if (!want && v)
		return bad(c, GH_POLICY_EINVALID, "the template has no slot %s", slot);
	if (want && !v)
		return bad(c, GH_POLICY_EINVALID, "missing: the template has the slot %s", slot);
	if (v && euid(c, v, out) < 0)
		return -1;
	pop(c, old);
	return 0;
}

static int links(est *c, json_t *doc)
{
	static const char *const keys[] = { "templateId", "newId", "values", NULL };
	static const char *const slots[] = { "?principal", "?resource", NULL };
	json_t *arr = json_object_get(doc, "templateLinks");
	size_t old = push(c, "templateLinks", 0);

	if (!arr || json_is_null(arr)) {
		pop(c, old);
		return 0;
	}
	if (!json_is_array(arr))
		return bad(c, GH_POLICY_EPARSE, "expected an array");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *l = json_array_get(arr, i), *vals;
		ghp_str tid, nid;
		ghp_policy *t, *pol;
		size_t o2 = push(c, NULL, (long)i);
		if (!json_is_object(l))
			return bad(c, GH_POLICY_EPARSE, "expected {\"templateId\", \"newId\", \"values\"}");
		if (only(c, l, keys) < 0 || get_str(c, l, "templateId", &tid) < 0 ||
		    get_str(c, l, "newId", &nid) < 0)
			return -1;
		t = find(c->ps, tid.p);
		if (!t || !t->is_template || t->template_id) {
			push(c, "templateId", 0);
			return bad(c, GH_POLICY_EINVALID, "no template \"%.60s\"", tid.p);
		}
		vals = json_object_get(l, "values");
		push(c, "values", 0);
		if (!json_is_object(vals) || only(c, vals, slots) < 0)
			return bad(c, GH_POLICY_EPARSE, "expected an object with ?principal and/or ?resource");
		if (!(pol = ghp_arena_alloc(c->a, sizeof(*pol))))
			return oom(c);
		*pol = *t;
		pol->id = nid.p;
		pol->template_id = t->id;
		pol->link_principal = pol->link_resource = NULL;
		if (link_value(c, vals, "?principal", t->principal.slot, &pol->link_principal) < 0 ||
		    link_value(c, vals, "?resource", t->resource.slot, &pol->link_resource) < 0)
			return -1;
		pop(c, o2);
		push(c, NULL, (long)i);
		if (add(c, pol) < 0)
			return -1;
		pop(c, o2);
	}
	pop(c, old);
	return 0;
}

/* "policy<N>" -> N, else -1. */
static long text_id(const char *id)
{
	if (strncmp(id, "policy", 6) || !id[6] || strlen(id) > 15 || (id[6] == '0' && id[7]))
		return -1;
	long n = 0;
	for (const char *p = id + 6; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

static int by_text_id(const void *a, const void *b)
{
	long x = text_id((*(ghp_policy *const *)a)->id), y = text_id((*(ghp_policy *const *)b)->id);
	return (x > y) - (x < y);
}

/* Static policies and templates from text carry ids policy0, policy1, ... in
 * text order; keeping that order makes text -> JSON -> text a fixed point. */
static void text_order(gh_policy_set *ps)
{
	size_t n = 0;
	while (n < ps->n && !ps->policies[n]->template_id)
		n++;
	for (size_t i = 0; i < n; i++)
		if (text_id(ps->policies[i]->id) < 0)
			return;
	if (n > 1)
		qsort(ps->policies, n, sizeof(*ps->policies), by_text_id);
}

int gh_policy_set_parse_json(gh_policy_set **out, const char *json, size_t len,
			     gh_policy_error *err)
{
	static const char *const keys[] = { "staticPolicies", "templates", "templateLinks", NULL };
	json_error_t je;
	json_t *doc = NULL;
	est c;
	int rc = 0;

	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	memset(&c, 0, sizeof(c));
	c.err = err;
	if (len > GH_POLICY_MAX_TEXT) {
		bad(&c, GH_POLICY_ETOOLARGE, "policy JSON over %u bytes", GH_POLICY_MAX_TEXT);
		return c.rc;
	}
	/* ghp_json_load reads \u0000 in keys as U+10FFFF, which c.marked undoes; only
	 * when plain jansson cannot load the document, so real U+10FFFF survives. */
	doc = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!doc && (c.marked = 1))
		doc = ghp_json_load(json ? json : "", json ? len : 0, &je);
	if (!doc) {
		if (err) {
			err->line = je.line > 0 ? je.line : 0;
			err->column = je.column > 0 ? je.column : 0;
			snprintf(err->message, sizeof(err->message), "policy JSON: %s", je.text);
		}
		return GH_POLICY_EPARSE;
	}
	if (!(c.ps = calloc(1, sizeof(*c.ps)))) {
		json_decref(doc);
		return GH_POLICY_ERROR;
	}
	ghp_arena_init(&c.ps->arena, NULL, 0, 0);
	c.a = &c.ps->arena;
	if (!json_is_object(doc)) {
		bad(&c, GH_POLICY_EPARSE, "expected a policy set or policy object");
	} else if (json_object_get(doc, "effect")) {
		ghp_policy *pol;
		if (policy(&c, doc, "policy0", -1, &pol) == 0)
			add(&c, pol);
	} else if (only(&c, doc, keys) == 0 && policies(&c, doc, "staticPolicies", 0) == 0 &&
		   policies(&c, doc, "templates", 1) == 0 && links(&c, doc) == 0) {
		text_order(c.ps);
	}
	rc = c.rc;
	json_decref(doc);
	if (rc) {
		gh_policy_set_free(c.ps);
		return rc;
	}
	*out = c.ps;
	return 0;
}
