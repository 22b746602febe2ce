/* format.c - canonical Cedar text of a policy set: fixed layout, minimal parentheses. */
#include "policy/eval.h"
#include "policy/format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Binding strength, loosest first, as parser.c's grammar levels. */
enum { L_IF, L_OR, L_AND, L_REL, L_ADD, L_MUL, L_UNARY, L_MEMBER };

/* parser.c takes at most this many '!'/'-' in a row (a negative literal's '-' counts). */
#define MAX_UNARY 4

static const char *const reserved[] = { "true", "false", "if", "then", "else", "in",
					"like", "has", "is", "__cedar" };

/* An identifier the parser takes where a name is expected (not a reserved word). */
int ghp_plain_ident(ghp_str s)
{
	if (!s.n)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (i && c >= '0' && c <= '9')))
			return 0;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (ghp_str_eqz(s, reserved[i]))
			return 0;
	return 1;
}

static int level(const ghp_expr *e)
{
	switch (e->kind) {
	case GHP_X_IF: return L_IF;
	case GHP_X_OR: return L_OR;
	case GHP_X_AND: return L_AND;
	case GHP_X_EQ: case GHP_X_NE: case GHP_X_LT: case GHP_X_LE: case GHP_X_GT:
	case GHP_X_GE: case GHP_X_IN: case GHP_X_HAS: case GHP_X_LIKE: case GHP_X_IS:
		return L_REL;
	case GHP_X_ADD: case GHP_X_SUB: return L_ADD;
	case GHP_X_MUL: return L_MUL;
	case GHP_X_NOT: case GHP_X_NEG: return L_UNARY;
	default: return L_MEMBER;
	}
}

/* The primary a member chain starts with: its text starts the printed expression. */
static const ghp_expr *leftmost(const ghp_expr *e)
{
	while (e->kind == GHP_X_ATTR || e->kind == GHP_X_METHOD)
		e = e->a[0];
	return e;
}

static int starts_with_long(const ghp_expr *e, int negative)
{
	e = leftmost(e);
	return e->kind == GHP_X_LIT && e->lit.kind == GHP_V_LONG && (e->lit.u.l < 0) == negative;
}

/* A like pattern: wildcards as '*', literal stars as '\*', other bytes as in strings. */
static void add_pattern(ghp_buf *b, const ghp_expr *e)
{
	ghp_buf_add(b, "\"", 1);
	for (size_t i = 0; i < e->name.n; i++) {
		if (e->stars && e->stars[i]) {
			ghp_buf_add(b, "*", 1);
		} else if (e->name.p[i] == '*') {
			ghp_buf_add(b, "\\*", 2);
		} else {
			ghp_buf tmp = { 0 };
			ghp_str one = { e->name.p + i, 1 };
			ghp_buf_str(&tmp, one);
			if (tmp.failed)
				b->failed = 1;
			else
				ghp_buf_add(b, tmp.p + 1, tmp.n - 2);
			free(tmp.p);
		}
	}
	ghp_buf_add(b, "\"", 1);
}

/* A datetime outside years 0000..9999 UTC (reachable only through a literal's
 * offset) is written with an offset so that it parses back. */
void ghp_datetime_text(char *out, size_t outlen, int64_t ms)
{
	static const int64_t lo = -62167219200000LL;   /* 0000-01-01T00:00:00.000Z */
	static const int64_t hi = 253402300799999LL;   /* 9999-12-31T23:59:59.999Z */
	char tmp[GHP_EXT_TEXT_MAX];
	int64_t off = 0;                                /* minutes east of UTC */

	if (ms < lo)
		off = (lo - ms + 59999) / 60000;
	else if (ms > hi)
		off = -((ms - hi + 59999) / 60000);
	if (off > 23 * 60 + 59 || off < -(23 * 60 + 59))
		off = 0;                                /* not from a literal; left as is */
	ghp_datetime_format(tmp, sizeof(tmp), ms + off * 60000);
	if (off) {
		size_t n = strlen(tmp);
		int64_t a = off < 0 ? -off : off;
		if (n && tmp[n - 1] == 'Z')
			tmp[n - 1] = 0;
		snprintf(out, outlen, "%s%c%02d%02d", tmp, off < 0 ? '-' : '+', (int)(a / 60),
			 (int)(a % 60));
		return;
	}
	snprintf(out, outlen, "%s", tmp);
}

static void add_expr(ghp_buf *b, const ghp_expr *e, int min);

static void add_args(ghp_buf *b, const ghp_expr *e, size_t from)
{
	ghp_buf_add(b, "(", 1);
	for (size_t i = from; i < e->n; i++) {
		if (i > from)
			ghp_buf_add(b, ", ", 2);
		add_expr(b, e->a[i], L_IF);
	}
	ghp_buf_add(b, ")", 1);
}

static void add_unary(ghp_buf *b, const ghp_expr *e)
{
	int k = 0;
	const ghp_expr *last = e;
	while (k < MAX_UNARY && (e->kind == GHP_X_NOT || e->kind == GHP_X_NEG)) {
		ghp_buf_add(b, e->kind == GHP_X_NOT ? "!" : "-", 1);
		last = e;
		e = e->a[0];
		k++;
	}
	int paren = level(e) < L_MEMBER;
	if (!paren && last->kind == GHP_X_NEG && starts_with_long(e, 0))
		paren = 1;                      /* -(5).x: "-5.x" would be the literal -5 */
	if (!paren && k == MAX_UNARY && starts_with_long(e, 1))
		paren = 1;                      /* its '-' would be a fifth unary operator */
	if (paren)
		ghp_buf_add(b, "(", 1);
	add_expr(b, e, paren ? L_IF : L_MEMBER);
	if (paren)
		ghp_buf_add(b, ")", 1);
}

static void add_binary(ghp_buf *b, const ghp_expr *e, const char *op, int lmin, int rmin)
{
	add_expr(b, e->a[0], lmin);
	ghp_buf_addz(b, op);
	add_expr(b, e->a[1], rmin);
}

static void add_expr(ghp_buf *b, const ghp_expr *e, int min)
{
	if (b->failed)
		return;
	if (level(e) < min) {
		ghp_buf_add(b, "(", 1);
		add_expr(b, e, L_IF);
		ghp_buf_add(b, ")", 1);
		return;
	}
	switch (e->kind) {
	case GHP_X_LIT:
		if (e->lit.kind == GHP_V_DATETIME) {
			char tmp[GHP_EXT_TEXT_MAX + 8];
			ghp_datetime_text(tmp, sizeof(tmp), e->lit.u.l);
			ghp_buf_printf(b, "datetime(\"%s\")", tmp);
		} else {
			ghp_buf_value(b, &e->lit);
		}
		break;
	case GHP_X_VAR: {
		static const char *const vars[] = { "principal", "action", "resource", "context" };
		ghp_buf_addz(b, vars[e->op & 3]);
		break;
	}
	case GHP_X_SLOT:
		ghp_buf_addz(b, e->op == GHP_VAR_PRINCIPAL ? "?principal" : "?resource");
		break;
	case GHP_X_IF:
		ghp_buf_addz(b, "if ");
		add_expr(b, e->a[0], L_IF);
		ghp_buf_addz(b, " then ");
		add_expr(b, e->a[1], L_IF);
		ghp_buf_addz(b, " else ");
		add_expr(b, e->a[2], L_IF);
		break;
	case GHP_X_OR: add_binary(b, e, " || ", L_OR, L_AND); break;
	case GHP_X_AND: add_binary(b, e, " && ", L_AND, L_REL); break;
	case GHP_X_EQ: add_binary(b, e, " == ", L_ADD, L_ADD); break;
	case GHP_X_NE: add_binary(b, e, " != ", L_ADD, L_ADD); break;
	case GHP_X_LT: add_binary(b, e, " < ", L_ADD, L_ADD); break;
	case GHP_X_LE: add_binary(b, e, " <= ", L_ADD, L_ADD); break;
	case GHP_X_GT: add_binary(b, e, " > ", L_ADD, L_ADD); break;
	case GHP_X_GE: add_binary(b, e, " >= ", L_ADD, L_ADD); break;
	case GHP_X_IN: add_binary(b, e, " in ", L_ADD, L_ADD); break;
	case GHP_X_ADD: add_binary(b, e, " + ", L_ADD, L_MUL); break;
	case GHP_X_SUB: add_binary(b, e, " - ", L_ADD, L_MUL); break;
	case GHP_X_MUL: add_binary(b, e, " * ", L_MUL, L_UNARY); break;
	case GHP_X_NOT:
	case GHP_X_NEG:
		add_unary(b, e);
		break;
	case GHP_X_HAS:
		add_expr(b, e->a[0], L_ADD);
		ghp_buf_addz(b, " has ");
		if (e->nkeys == 1 && !ghp_plain_ident(e->keys[0])) {
			ghp_buf_str(b, e->keys[0]);
			break;
		}
		for (size_t i = 0; i < e->nkeys; i++) {
			if (i)
				ghp_buf_add(b, ".", 1);
			ghp_buf_add(b, e->keys[i].p, e->keys[i].n);
		}
		break;
	case GHP_X_LIKE:
		add_expr(b, e->a[0], L_ADD);
		ghp_buf_addz(b, " like ");
		add_pattern(b, e);
		break;
	case GHP_X_IS:
		add_expr(b, e->a[0], L_ADD);
		ghp_buf_addz(b, " is ");
		ghp_buf_add(b, e->name.p, e->name.n);
		if (e->n > 1) {
			ghp_buf_addz(b, " in ");
			add_expr(b, e->a[1], L_ADD);
		}
		break;
	case GHP_X_ATTR:
		add_expr(b, e->a[0], L_MEMBER);
		if (ghp_plain_ident(e->name)) {
			ghp_buf_add(b, ".", 1);
			ghp_buf_add(b, e->name.p, e->name.n);
		} else {
			ghp_buf_add(b, "[", 1);
			ghp_buf_str(b, e->name);
			ghp_buf_add(b, "]", 1);
		}
		break;
	case GHP_X_METHOD:
		add_expr(b, e->a[0], L_MEMBER);
		ghp_buf_add(b, ".", 1);
		ghp_buf_addz(b, ghp_fns[e->op].name);
		add_args(b, e, 1);
		break;
	case GHP_X_CALL:
		ghp_buf_addz(b, ghp_fns[e->op].name);
		add_args(b, e, 0);
		break;
	case GHP_X_SET:
		ghp_buf_add(b, "[", 1);
		for (size_t i = 0; i < e->n; i++) {
			if (i)
				ghp_buf_add(b, ", ", 2);
			add_expr(b, e->a[i], L_IF);
		}
		ghp_buf_add(b, "]", 1);
		break;
	case GHP_X_RECORD:
		ghp_buf_add(b, "{", 1);
		for (size_t i = 0; i < e->n; i++) {
			if (i)
				ghp_buf_add(b, ", ", 2);
			if (ghp_plain_ident(e->keys[i]))
				ghp_buf_add(b, e->keys[i].p, e->keys[i].n);
			else
				ghp_buf_str(b, e->keys[i]);
			ghp_buf_add(b, ": ", 2);
			add_expr(b, e->a[i], L_IF);
		}
		ghp_buf_add(b, "}", 1);
		break;
	}
}

static void add_euid(ghp_buf *b, const ghp_euid *u)
{
	ghp_buf_add(b, u->type.p, u->type.n);
	ghp_buf_add(b, "::", 2);
	ghp_buf_str(b, u->id);
}

static void add_scope(ghp_buf *b, const char *var, const ghp_scope *sc)
{
	ghp_buf_printf(b, "  %s", var);
	switch (sc->op) {
	case GHP_SC_ANY:
		break;
	case GHP_SC_EQ:
	case GHP_SC_IN:
	case GHP_SC_IS_IN:
		if (sc->op == GHP_SC_IS_IN) {
			ghp_buf_addz(b, " is ");
			ghp_buf_add(b, sc->is_type.p, sc->is_type.n);
		}
		ghp_buf_addz(b, sc->op == GHP_SC_EQ ? " == " : " in ");
		if (sc->slot)
			ghp_buf_printf(b, "?%s", var);
		else
			add_euid(b, sc->uid);
		break;
	case GHP_SC_IS:
		ghp_buf_addz(b, " is ");
		ghp_buf_add(b, sc->is_type.p, sc->is_type.n);
		break;
	case GHP_SC_IN_SET:
		ghp_buf_addz(b, " in [");
		for (size_t i = 0; i < sc->nuids; i++) {
			if (i)
				ghp_buf_add(b, ", ", 2);
			add_euid(b, sc->uids[i]);
		}
		ghp_buf_add(b, "]", 1);
		break;
	}
}

static void add_policy(ghp_buf *b, const ghp_policy *p)
{
	for (size_t i = 0; i < p->nannots; i++) {
		ghp_buf_add(b, "@", 1);
		ghp_buf_addz(b, p->annots[i].key);
		if (p->annots[i].has_value) {
			ghp_str v = { p->annots[i].value, strlen(p->annots[i].value) };
			ghp_buf_add(b, "(", 1);
			ghp_buf_str(b, v);
			ghp_buf_add(b, ")", 1);
		}
		ghp_buf_add(b, "\n", 1);
	}
	ghp_buf_addz(b, p->forbid ? "forbid (\n" : "permit (\n");
	add_scope(b, "principal", &p->principal);
	ghp_buf_addz(b, ",\n");
	add_scope(b, "action", &p->action);
	ghp_buf_addz(b, ",\n");
	add_scope(b, "resource", &p->resource);
	ghp_buf_addz(b, "\n)");
	for (size_t i = 0; i < p->nconds; i++) {
		ghp_buf_addz(b, p->conds[i].when ? "\nwhen { " : "\nunless { ");
		add_expr(b, p->conds[i].expr, L_IF);
		ghp_buf_addz(b, " }");
	}
	ghp_buf_addz(b, ";\n");
}

/* A link has no text form: it is listed in a comment after the templates. */
static void add_link(ghp_buf *b, const ghp_policy *p)
{
	ghp_str id = { p->id, strlen(p->id) }, tid = { p->template_id, strlen(p->template_id) };
	ghp_buf_addz(b, "// link ");
	ghp_buf_str(b, id);
	ghp_buf_addz(b, " of template ");
	ghp_buf_str(b, tid);
	if (p->link_principal) {
		ghp_buf_addz(b, ", ?principal = ");
		add_euid(b, p->link_principal);
	}
	if (p->link_resource) {
		ghp_buf_addz(b, ", ?resource = ");
		add_euid(b, p->link_resource);
	}
	ghp_buf_add(b, "\n", 1);
}

int gh_policy_set_format(char **out, const gh_policy_set *ps)
{
	ghp_buf b = { 0 };
	int first = 1;

	*out = NULL;
	if (!ps)
		return GH_POLICY_ERROR;
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->policies[i]->template_id)
			continue;
		if (!first)
			ghp_buf_add(&b, "\n", 1);
		first = 0;
		add_policy(&b, ps->policies[i]);
	}
	for (size_t i = 0, any = 0; i < ps->n; i++) {
		if (!ps->policies[i]->template_id)
			continue;
		if (!any++ && !first)
			ghp_buf_add(&b, "\n", 1);
		add_link(&b, ps->policies[i]);
	}
	ghp_buf_add(&b, "", 0);
	if (b.failed || !(b.p || (b.p = calloc(1, 1)))) {
		free(b.p);
		return GH_POLICY_ERROR;
	}
	*out = b.p;
	return 0;
}
