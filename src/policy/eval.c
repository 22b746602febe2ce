/* eval.c - Cedar expression evaluation (docs/syntax-operators.md): strict types, errors not coercions. */
#include "policy/eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(ghp_eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ghp_eval *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->msg, sizeof(ev->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int type_error(ghp_eval *ev, const char *what, const ghp_value *got)
{
	return fail(ev, "type error: expected %s, got %s", what, ghp_kind_name(got->kind));
}

static int want(ghp_eval *ev, const ghp_value *v, ghp_vkind k)
{
	return v->kind == k ? 0 : type_error(ev, ghp_kind_name(k), v);
}

static void set_bool(ghp_value *out, int b)
{
	out->kind = GHP_V_BOOL;
	out->u.b = b != 0;
}

const ghp_entity *ghp_entities_find(const gh_policy_entities *es, const ghp_euid *uid)
{
	if (!es || !es->nslots)
		return NULL;
	size_t mask = es->nslots - 1;
	for (size_t i = uid->hash & mask;; i = (i + 1) & mask) {
		uint32_t s = es->slots[i];
		if (!s)
			return NULL;
		const ghp_entity *e = &es->ents[s - 1];
		if (ghp_euid_eq(e->uid, uid))
			return e;
	}
}

int ghp_entity_in(const gh_policy_entities *es, const ghp_euid *a, const ghp_euid *b)
{
	if (ghp_euid_eq(a, b))
		return 1;
	const ghp_entity *e = ghp_entities_find(es, a);
	if (!e)
		return 0;
	for (size_t i = 0; i < e->nanc; i++)
		if (ghp_euid_eq(e->anc[i], b))
			return 1;
	return 0;
}

void ghp_eval_begin(ghp_eval *ev, const gh_policy_entities *es, const gh_policy_request *req,
		    ghp_arena *a)
{
	memset(ev, 0, sizeof(*ev));
	ev->es = es;
	ev->req = req;
	ev->a = a;
	ev->ent_principal = ghp_entities_find(es, req->principal);
	ev->ent_action = ghp_entities_find(es, req->action);
	ev->ent_resource = ghp_entities_find(es, req->resource);
	ev->cached = 1;
}

/* The entity of uid u: the request's three by pointer, else the hash lookup. */
static const ghp_entity *find_ev(const ghp_eval *ev, const ghp_euid *u)
{
	if (ev->cached) {
		if (u == ev->req->principal)
			return ev->ent_principal;
		if (u == ev->req->resource)
			return ev->ent_resource;
		if (u == ev->req->action)
			return ev->ent_action;
	}
	return ghp_entities_find(ev->es, u);
}

int ghp_eval_in(const ghp_eval *ev, const ghp_euid *a, const ghp_euid *b)
{
	if (ghp_euid_eq(a, b))
		return 1;
	const ghp_entity *e = find_ev(ev, a);
	if (!e)
		return 0;
	for (size_t i = 0; i < e->nanc; i++)
		if (ghp_euid_eq(e->anc[i], b))
			return 1;
	return 0;
}

static int entity_desc(char *buf, size_t n, const ghp_euid *u)
{
	return snprintf(buf, n, "%.*s::\"%.*s\"", (int)(u->type.n > 60 ? 60 : u->type.n), u->type.p,
			(int)(u->id.n > 60 ? 60 : u->id.n), u->id.p);
}

static int get_attr(ghp_eval *ev, const ghp_value *v, ghp_str key, ghp_value *out)
{
	const ghp_value *r;
	char who[160];

	if (v->kind == GHP_V_RECORD) {
		r = ghp_record_get(v, key.p, key.n);
		if (!r)
			return fail(ev, "record does not have the attribute \"%.*s\"",
				    (int)(key.n > 60 ? 60 : key.n), key.p);
		*out = *r;
		return 0;
	}
	if (v->kind == GHP_V_ENTITY) {
		const ghp_entity *e = find_ev(ev, v->u.e);
		r = e ? ghp_record_get(&e->attrs, key.p, key.n) : NULL;
		if (!r) {
			entity_desc(who, sizeof(who), v->u.e);
			if (!e)
				return fail(ev, "entity %s does not exist", who);
			return fail(ev, "%s does not have the attribute \"%.*s\"", who,
				    (int)(key.n > 60 ? 60 : key.n), key.p);
		}
		*out = *r;
		return 0;
	}
	return type_error(ev, "an entity or a record", v);
}

/* 1 / 0, or -1 when v is neither an entity nor a record. */
static int has_attr(ghp_eval *ev, const ghp_value *v, ghp_str key, ghp_value *next)
{
	const ghp_value *r = NULL;
	if (v->kind == GHP_V_RECORD) {
		r = ghp_record_get(v, key.p, key.n);
	} else if (v->kind == GHP_V_ENTITY) {
		const ghp_entity *e = find_ev(ev, v->u.e);
		if (e)
			r = ghp_record_get(&e->attrs, key.p, key.n);
	} else {
		return type_error(ev, "an entity or a record", v);
	}
	if (r && next)
		*next = *r;
	return r != NULL;
}

/* Wildcard match over bytes: literals are whole UTF-8 sequences, so a byte
 * match is a character match. */
static int like_match(ghp_str s, ghp_str pat, const unsigned char *stars)
{
	size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
	while (si < s.n) {
		if (pi < pat.n && stars[pi]) {
			star_p = pi++;
			star_s = si;
		} else if (pi < pat.n && pat.p[pi] == s.p[si]) {
			pi++;
			si++;
		} else if (star_p != (size_t)-1) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return 0;
		}
	}
	while (pi < pat.n && stars[pi])
		pi++;
	return pi == pat.n;
}

static int set_has(const ghp_value *set, const ghp_value *x)
{
	size_t lo = 0, hi = set->u.set.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ghp_value_cmp(&set->u.set.v[mid], x);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int eval_in(ghp_eval *ev, const ghp_value *l, const ghp_value *r, ghp_value *out)
{
	if (l->kind != GHP_V_ENTITY)
		return type_error(ev, "an entity on the left of in", l);
	if (r->kind == GHP_V_ENTITY) {
		set_bool(out, ghp_eval_in(ev, l->u.e, r->u.e));
		return 0;
	}
	if (r->kind != GHP_V_SET)
		return type_error(ev, "an entity or a set of entities on the right of in", r);
	int found = 0;
	for (size_t i = 0; i < r->u.set.n; i++) {
		const ghp_value *x = &r->u.set.v[i];
		if (x->kind != GHP_V_ENTITY)
			return type_error(ev, "a set of entities on the right of in", x);
		if (!found && ghp_eval_in(ev, l->u.e, x->u.e))
			found = 1;
	}
	set_bool(out, found);
	return 0;
}

static int eval_cmp(ghp_eval *ev, ghp_expr_kind k, const ghp_value *l, const ghp_value *r,
		    ghp_value *out)
{
	int ok = l->kind == r->kind &&
		 (l->kind == GHP_V_LONG || l->kind == GHP_V_DATETIME || l->kind == GHP_V_DURATION);
	if (!ok) {
		if (l->kind != GHP_V_LONG && l->kind != GHP_V_DATETIME && l->kind != GHP_V_DURATION)
			return type_error(ev, "a long, datetime or duration", l);
		return type_error(ev, ghp_kind_name(l->kind), r);
	}
	int64_t a = l->u.l, b = r->u.l;
	switch (k) {
	case GHP_X_LT: set_bool(out, a < b); break;
	case GHP_X_LE: set_bool(out, a <= b); break;
	case GHP_X_GT: set_bool(out, a > b); break;
	default: set_bool(out, a >= b); break;
	}
	return 0;
}

static int eval_arith(ghp_eval *ev, ghp_expr_kind k, const ghp_value *l, const ghp_value *r,
		      ghp_value *out)
{
	if (want(ev, l, GHP_V_LONG) < 0 || want(ev, r, GHP_V_LONG) < 0)
		return -1;
	int64_t v;
	int over;
	const char *op;
	switch (k) {
	case GHP_X_ADD: over = __builtin_add_overflow(l->u.l, r->u.l, &v); op = "+"; break;
	case GHP_X_SUB: over = __builtin_sub_overflow(l->u.l, r->u.l, &v); op = "-"; break;
	default: over = __builtin_mul_overflow(l->u.l, r->u.l, &v); op = "*"; break;
	}
	if (over)
		return fail(ev, "overflow: %lld %s %lld", (long long)l->u.l, op, (long long)r->u.l);
	out->kind = GHP_V_LONG;
	out->u.l = v;
	return 0;
}

static int eval_method(ghp_eval *ev, const ghp_expr *e, ghp_value *out)
{
	ghp_value recv, arg;
	memset(&arg, 0, sizeof(arg));
	for (size_t i = 0; i < e->n; i++)
		if (ghp_eval_expr(ev, e->a[i], i ? &arg : &recv) < 0)
			return -1;
	if ((int)e->n - 1 != ghp_fns[e->op].nargs)
		return fail(ev, "%s takes %d argument(s), got %zu", ghp_fns[e->op].name,
			    ghp_fns[e->op].nargs, e->n - 1);
	switch ((ghp_fn)e->op) {
	case GHP_FN_CONTAINS:
		if (want(ev, &recv, GHP_V_SET) < 0)
			return -1;
		set_bool(out, set_has(&recv, &arg));
		return 0;
	case GHP_FN_CONTAINS_ALL:
	case GHP_FN_CONTAINS_ANY: {
		if (want(ev, &recv, GHP_V_SET) < 0 || want(ev, &arg, GHP_V_SET) < 0)
			return -1;
		int all = e->op == GHP_FN_CONTAINS_ALL, r = all;
		for (size_t i = 0; i < arg.u.set.n; i++) {
			int has = set_has(&recv, &arg.u.set.v[i]);
			if (all && !has) {
				r = 0;
				break;
			}
			if (!all && has) {
				r = 1;
				break;
			}
		}
		set_bool(out, r);
		return 0;
	}
	case GHP_FN_IS_EMPTY:
		if (want(ev, &recv, GHP_V_SET) < 0)
			return -1;
		set_bool(out, recv.u.set.n == 0);
		return 0;
	case GHP_FN_GET_TAG:
	case GHP_FN_HAS_TAG: {
		if (want(ev, &recv, GHP_V_ENTITY) < 0 || want(ev, &arg, GHP_V_STRING) < 0)
			return -1;
		const ghp_entity *ent = find_ev(ev, recv.u.e);
		const ghp_value *t = ent ? ghp_record_get(&ent->tags, arg.u.s.p, arg.u.s.n) : NULL;
		if (e->op == GHP_FN_HAS_TAG) {
			set_bool(out, t != NULL);
			return 0;
		}
		char who[160];
		entity_desc(who, sizeof(who), recv.u.e);
		if (!ent)
			return fail(ev, "entity %s does not exist", who);
		if (!t)
			return fail(ev, "%s does not have the tag \"%.*s\"", who,
				    (int)(arg.u.s.n > 60 ? 60 : arg.u.s.n), arg.u.s.p);
		*out = *t;
		return 0;
	}
	case GHP_FN_LESS_THAN:
	case GHP_FN_LESS_THAN_OR_EQUAL:
	case GHP_FN_GREATER_THAN:
	case GHP_FN_GREATER_THAN_OR_EQUAL: {
		if (want(ev, &recv, GHP_V_DECIMAL) < 0 || want(ev, &arg, GHP_V_DECIMAL) < 0)
			return -1;
		int64_t a = recv.u.l, b = arg.u.l;
		set_bool(out, e->op == GHP_FN_LESS_THAN ? a < b :
			      e->op == GHP_FN_LESS_THAN_OR_EQUAL ? a <= b :
			      e->op == GHP_FN_GREATER_THAN ? a > b : a >= b);
		return 0;
	}
	case GHP_FN_IS_IPV4:
	case GHP_FN_IS_IPV6:
	case GHP_FN_IS_LOOPBACK:
	case GHP_FN_IS_MULTICAST:
		if (want(ev, &recv, GHP_V_IP) < 0)
			return -1;
		set_bool(out, e->op == GHP_FN_IS_IPV4 ? !recv.u.ip->v6 :
			      e->op == GHP_FN_IS_IPV6 ? recv.u.ip->v6 :
			      e->op == GHP_FN_IS_LOOPBACK ? ghp_ip_is_loopback(recv.u.ip) :
			      ghp_ip_is_multicast(recv.u.ip));
		return 0;
	case GHP_FN_IS_IN_RANGE:
		if (want(ev, &recv, GHP_V_IP) < 0 || want(ev, &arg, GHP_V_IP) < 0)
			return -1;
		set_bool(out, ghp_ip_in_range(recv.u.ip, arg.u.ip));
		return 0;
	case GHP_FN_OFFSET:
		if (want(ev, &recv, GHP_V_DATETIME) < 0 || want(ev, &arg, GHP_V_DURATION) < 0)
			return -1;
		out->kind = GHP_V_DATETIME;
		if (ghp_datetime_offset(&out->u.l, recv.u.l, arg.u.l) < 0)
			return fail(ev, "overflow in datetime offset");
		return 0;
	case GHP_FN_DURATION_SINCE:
		if (want(ev, &recv, GHP_V_DATETIME) < 0 || want(ev, &arg, GHP_V_DATETIME) < 0)
			return -1;
		out->kind = GHP_V_DURATION;
		if (ghp_datetime_since(&out->u.l, recv.u.l, arg.u.l) < 0)
			return fail(ev, "overflow in durationSince");
		return 0;
	case GHP_FN_TO_DATE:
		if (want(ev, &recv, GHP_V_DATETIME) < 0)
			return -1;
		out->kind = GHP_V_DATETIME;
		if (ghp_datetime_to_date(&out->u.l, recv.u.l) < 0)
			return fail(ev, "overflow in toDate");
		return 0;
	case GHP_FN_TO_TIME:
		if (want(ev, &recv, GHP_V_DATETIME) < 0)
			return -1;
		out->kind = GHP_V_DURATION;
		out->u.l = ghp_datetime_to_time(recv.u.l);
		return 0;
	case GHP_FN_TO_DAYS:
	case GHP_FN_TO_HOURS:
	case GHP_FN_TO_MINUTES:
	case GHP_FN_TO_SECONDS:
	case GHP_FN_TO_MILLISECONDS: {
		static const int64_t unit[] = { 86400000, 3600000, 60000, 1000, 1 };
		if (want(ev, &recv, GHP_V_DURATION) < 0)
			return -1;
		out->kind = GHP_V_LONG;
		out->u.l = ghp_duration_to(recv.u.l, unit[e->op - GHP_FN_TO_DAYS]);
		return 0;
	}
	default:
		return fail(ev, "unknown method");
	}
}

int ghp_eval_expr(ghp_eval *ev, const ghp_expr *e, ghp_value *out)
{
	ghp_value l, r;

	switch (e->kind) {
	case GHP_X_LIT:
		*out = e->lit;
		return 0;
	case GHP_X_VAR:
		switch ((ghp_var)e->op) {
		case GHP_VAR_PRINCIPAL:
			out->kind = GHP_V_ENTITY;
			out->u.e = ev->req->principal;
			return 0;
		case GHP_VAR_ACTION:
			out->kind = GHP_V_ENTITY;
			out->u.e = ev->req->action;
			return 0;
		case GHP_VAR_RESOURCE:
			out->kind = GHP_V_ENTITY;
			out->u.e = ev->req->resource;
			return 0;
		case GHP_VAR_CONTEXT:
			*out = ev->req->context;
			return 0;
		}
		return fail(ev, "unknown variable");
	case GHP_X_SLOT: {
		const ghp_euid *u = e->op == GHP_VAR_PRINCIPAL ? ev->slot_principal : ev->slot_resource;
		if (!u)
			return fail(ev, "unlinked template slot");
		out->kind = GHP_V_ENTITY;
		out->u.e = u;
		return 0;
	}
	case GHP_X_IF:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || want(ev, &l, GHP_V_BOOL) < 0)
			return -1;
		return ghp_eval_expr(ev, e->a[l.u.b ? 1 : 2], out);
	case GHP_X_AND:
	case GHP_X_OR:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || want(ev, &l, GHP_V_BOOL) < 0)
			return -1;
		if (l.u.b == (e->kind == GHP_X_OR)) {
			*out = l;
			return 0;
		}
		if (ghp_eval_expr(ev, e->a[1], &r) < 0 || want(ev, &r, GHP_V_BOOL) < 0)
			return -1;
		*out = r;
		return 0;
	case GHP_X_NOT:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || want(ev, &l, GHP_V_BOOL) < 0)
			return -1;
		set_bool(out, !l.u.b);
		return 0;
	case GHP_X_NEG:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || want(ev, &l, GHP_V_LONG) < 0)
			return -1;
		if (l.u.l == INT64_MIN)
			return fail(ev, "overflow: negation of %lld", (long long)l.u.l);
		out->kind = GHP_V_LONG;
		out->u.l = -l.u.l;
		return 0;
	case GHP_X_EQ:
	case GHP_X_NE:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || ghp_eval_expr(ev, e->a[1], &r) < 0)
			return -1;
		set_bool(out, ghp_value_eq(&l, &r) == (e->kind == GHP_X_EQ));
		return 0;
	case GHP_X_LT:
	case GHP_X_LE:
	case GHP_X_GT:
	case GHP_X_GE:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || ghp_eval_expr(ev, e->a[1], &r) < 0)
			return -1;
		return eval_cmp(ev, e->kind, &l, &r, out);
	case GHP_X_ADD:
	case GHP_X_SUB:
	case GHP_X_MUL:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || ghp_eval_expr(ev, e->a[1], &r) < 0)
			return -1;
		return eval_arith(ev, e->kind, &l, &r, out);
	case GHP_X_IN:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || ghp_eval_expr(ev, e->a[1], &r) < 0)
			return -1;
		return eval_in(ev, &l, &r, out);
	case GHP_X_HAS: {
		if (ghp_eval_expr(ev, e->a[0], &l) < 0)
			return -1;
		for (size_t i = 0; i < e->nkeys; i++) {
			int h = has_attr(ev, &l, e->keys[i], &r);
			if (h < 0)
				return -1;
			if (!h) {
				set_bool(out, 0);
				return 0;
			}
			l = r;
		}
		set_bool(out, 1);
		return 0;
	}
	case GHP_X_LIKE:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || want(ev, &l, GHP_V_STRING) < 0)
			return -1;
		set_bool(out, like_match(l.u.s, e->name, e->stars));
		return 0;
	case GHP_X_IS:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || want(ev, &l, GHP_V_ENTITY) < 0)
			return -1;
		if (!ghp_str_eq(l.u.e->type, e->name)) {
			set_bool(out, 0);
			return 0;
		}
		if (e->n < 2) {
			set_bool(out, 1);
			return 0;
		}
		if (ghp_eval_expr(ev, e->a[1], &r) < 0)
			return -1;
		return eval_in(ev, &l, &r, out);
	case GHP_X_ATTR:
		if (ghp_eval_expr(ev, e->a[0], &l) < 0)
			return -1;
		return get_attr(ev, &l, e->name, out);
	case GHP_X_METHOD:
		return eval_method(ev, e, out);
	case GHP_X_CALL: {
		for (size_t i = 0; i < e->n; i++)
			if (ghp_eval_expr(ev, e->a[i], &l) < 0)
				return -1;
		if ((int)e->n != ghp_fns[e->op].nargs)
			return fail(ev, "%s takes %d argument(s), got %zu", ghp_fns[e->op].name,
				    ghp_fns[e->op].nargs, e->n);
		if (ghp_eval_expr(ev, e->a[0], &l) < 0 || want(ev, &l, GHP_V_STRING) < 0)
			return -1;
		if (ghp_ext_make(ev->a, ghp_fns[e->op].name, l.u.s.p, l.u.s.n, out) < 0)
			return fail(ev, "invalid %s literal \"%.*s\"", ghp_fns[e->op].name,
				    (int)(l.u.s.n > 60 ? 60 : l.u.s.n), l.u.s.p);
		return 0;
	}
	case GHP_X_SET: {
		ghp_value *v = ghp_arena_alloc(ev->a, (e->n ? e->n : 1) * sizeof(*v));
		if (!v)
			return fail(ev, "out of memory");
		for (size_t i = 0; i < e->n; i++)
			if (ghp_eval_expr(ev, e->a[i], &v[i]) < 0)
				return -1;
		out->kind = GHP_V_SET;
		out->u.set.n = ghp_set_normalize(v, e->n);
		out->u.set.v = v;
		return 0;
	}
	case GHP_X_RECORD: {
		ghp_field *f = ghp_arena_alloc(ev->a, (e->n ? e->n : 1) * sizeof(*f));
		if (!f)
			return fail(ev, "out of memory");
		for (size_t i = 0; i < e->n; i++) {
			f[i].key = e->keys[i];
			if (ghp_eval_expr(ev, e->a[i], &f[i].val) < 0)
				return -1;
		}
		ghp_record_normalize(f, e->n);
		out->kind = GHP_V_RECORD;
		out->u.rec.n = e->n;
		out->u.rec.f = f;
		return 0;
	}
	}
	return fail(ev, "unknown expression");
}

static int scope_pr(ghp_eval *ev, const ghp_scope *sc, const ghp_euid *v, const ghp_euid *slot)
{
	const ghp_euid *u = sc->slot ? slot : sc->uid;
	switch (sc->op) {
	case GHP_SC_ANY:
		return 1;
	case GHP_SC_EQ:
		return u && ghp_euid_eq(v, u);
	case GHP_SC_IN:
		return u && ghp_eval_in(ev, v, u);
	case GHP_SC_IS:
		return ghp_str_eq(v->type, sc->is_type);
	case GHP_SC_IS_IN:
		return ghp_str_eq(v->type, sc->is_type) && u && ghp_eval_in(ev, v, u);
	case GHP_SC_IN_SET:
		for (size_t i = 0; i < sc->nuids; i++)
			if (ghp_eval_in(ev, v, sc->uids[i]))
				return 1;
		return 0;
	}
	return 0;
}

int ghp_scope_match(ghp_eval *ev, const ghp_policy *p)
{
	return scope_pr(ev, &p->principal, ev->req->principal, ev->slot_principal) &&
	       scope_pr(ev, &p->action, ev->req->action, NULL) &&
	       scope_pr(ev, &p->resource, ev->req->resource, ev->slot_resource);
}

int ghp_eval_policy(ghp_eval *ev, const ghp_policy *p)
{
	if (!ghp_scope_match(ev, p))
		return 0;
	for (size_t i = 0; i < p->nconds; i++) {
		ghp_value v;
		if (ghp_eval_expr(ev, p->conds[i].expr, &v) < 0)
			return -1;
		if (v.kind != GHP_V_BOOL)
			return type_error(ev, "a bool condition", &v);
		if (v.u.b != p->conds[i].when)
			return 0;
	}
	return 1;
}
