/* parser.c - recursive descent over docs/syntax-grammar.md: policy text to policies. */
#include "policy/ast.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expression trees deeper than this are refused (evaluation recurses). */
#define MAX_TREE (4 * GH_POLICY_MAX_DEPTH)
#define MAX_UNARY 4

const ghp_fn_info ghp_fns[GHP_FN_COUNT_] = {
	[GHP_FN_CONTAINS] = { "contains", 1, 1 },
	[GHP_FN_CONTAINS_ALL] = { "containsAll", 1, 1 },
	[GHP_FN_CONTAINS_ANY] = { "containsAny", 1, 1 },
	[GHP_FN_IS_EMPTY] = { "isEmpty", 0, 1 },
	[GHP_FN_GET_TAG] = { "getTag", 1, 1 },
	[GHP_FN_HAS_TAG] = { "hasTag", 1, 1 },
	[GHP_FN_LESS_THAN] = { "lessThan", 1, 1 },
	[GHP_FN_LESS_THAN_OR_EQUAL] = { "lessThanOrEqual", 1, 1 },
	[GHP_FN_GREATER_THAN] = { "greaterThan", 1, 1 },
	[GHP_FN_GREATER_THAN_OR_EQUAL] = { "greaterThanOrEqual", 1, 1 },
	[GHP_FN_IS_IPV4] = { "isIpv4", 0, 1 },
	[GHP_FN_IS_IPV6] = { "isIpv6", 0, 1 },
	[GHP_FN_IS_LOOPBACK] = { "isLoopback", 0, 1 },
	[GHP_FN_IS_MULTICAST] = { "isMulticast", 0, 1 },
	[GHP_FN_IS_IN_RANGE] = { "isInRange", 1, 1 },
	[GHP_FN_OFFSET] = { "offset", 1, 1 },
	[GHP_FN_DURATION_SINCE] = { "durationSince", 1, 1 },
	[GHP_FN_TO_DATE] = { "toDate", 0, 1 },
	[GHP_FN_TO_TIME] = { "toTime", 0, 1 },
	[GHP_FN_TO_DAYS] = { "toDays", 0, 1 },
	[GHP_FN_TO_HOURS] = { "toHours", 0, 1 },
	[GHP_FN_TO_MINUTES] = { "toMinutes", 0, 1 },
	[GHP_FN_TO_SECONDS] = { "toSeconds", 0, 1 },
	[GHP_FN_TO_MILLISECONDS] = { "toMilliseconds", 0, 1 },
	[GHP_FN_IP] = { "ip", 1, 0 },
	[GHP_FN_DECIMAL] = { "decimal", 1, 0 },
	[GHP_FN_DATETIME] = { "datetime", 1, 0 },
	[GHP_FN_DURATION] = { "duration", 1, 0 },
};

typedef struct parser {
	ghp_lexer lx;
	ghp_token tok;             /* current */
	ghp_token la;              /* lookahead, valid when has_la */
	int has_la;
	ghp_arena *a;
	gh_policy_error *err;
	int rc;                    /* first error's code; 0 while fine */
	int depth;
} parser;

static void next(parser *p)
{
	if (p->has_la) {
		p->tok = p->la;
		p->has_la = 0;
	} else {
		ghp_lex(&p->lx, &p->tok);
	}
}

static const ghp_token *peek(parser *p)
{
	if (!p->has_la) {
		ghp_lex(&p->lx, &p->la);
		p->has_la = 1;
	}
	return &p->la;
}

static int fail_at(parser *p, int code, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail_at(parser *p, int code, int line, int col, const char *fmt, ...)
{
	if (p->rc)
		return -1;
	p->rc = code;
	if (p->err) {
		va_list ap;
		va_start(ap, fmt);
		p->err->line = line;
		p->err->column = col;
		vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void tok_desc(const ghp_token *t, char *buf, size_t n)
{
	if (t->kind == GHP_TOK_IDENT)
		snprintf(buf, n, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->text);
	else if (t->kind == GHP_TOK_INT)
		snprintf(buf, n, "integer %.*s", (int)(t->len > 40 ? 40 : t->len), t->text);
	else
		snprintf(buf, n, "%s", ghp_tok_name(t->kind));
}

/* Fails at the current token: "expected <what>, found <token>". */
static int expected(parser *p, const char *what)
{
	if (p->tok.kind == GHP_TOK_ERROR)
		return fail_at(p, GH_POLICY_EPARSE, p->tok.line, p->tok.col, "%.*s",
			       (int)p->tok.len, p->tok.text);
	char found[64];
	tok_desc(&p->tok, found, sizeof(found));
	return fail_at(p, GH_POLICY_EPARSE, p->tok.line, p->tok.col, "expected %s, found %s",
		       what, found);
}

static int oom(parser *p)
{
	return fail_at(p, GH_POLICY_ERROR, p->tok.line, p->tok.col, "out of memory");
}

static int expect(parser *p, ghp_tok_kind k)
{
	if (p->tok.kind != k)
		return expected(p, ghp_tok_name(k));
	next(p);
	return 0;
}

static int is_kw(const ghp_token *t, const char *kw)
{
	size_t n = strlen(kw);
	return t->kind == GHP_TOK_IDENT && t->len == n && memcmp(t->text, kw, n) == 0;
}

static int is_reserved(const ghp_token *t)
{
	static const char *const words[] = { "true", "false", "if", "then", "else", "in",
					     "like", "has", "is", "__cedar" };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (is_kw(t, words[i]))
			return 1;
	return 0;
}

static ghp_expr *mk(parser *p, ghp_expr_kind kind, const ghp_token *at, size_t n)
{
	ghp_expr *e = ghp_arena_alloc(p->a, sizeof(*e));
	if (!e) {
		oom(p);
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->line = at->line;
	e->col = at->col;
	e->n = n;
	if (n) {
		e->a = ghp_arena_alloc(p->a, n * sizeof(*e->a));
		if (!e->a) {
			oom(p);
			return NULL;
		}
		memset(e->a, 0, n * sizeof(*e->a));
	}
	return e;
}

/* Tree height, checked as nodes are joined, so evaluation never recurses too far. */
static int height(const ghp_expr *e)
{
	return e->h;
}

static ghp_expr *join(parser *p, ghp_expr_kind kind, const ghp_token *at, ghp_expr *l, ghp_expr *r)
{
	ghp_expr *e = mk(p, kind, at, r ? 2 : 1);
	if (!e)
		return NULL;
	e->a[0] = l;
	if (r)
		e->a[1] = r;
	int h = height(l);
	if (r && height(r) > h)
		h = height(r);
	e->h = h + 1;
	if (h + 1 > MAX_TREE) {
		fail_at(p, GH_POLICY_ETOOLARGE, at->line, at->col, "expression nested too deeply");
		return NULL;
	}
	return e;
}

static ghp_expr *parse_expr(parser *p);

static int parse_str(parser *p, ghp_str *out)
{
	const char *msg;
	if (p->tok.kind != GHP_TOK_STR)
		return expected(p, "a string literal");
	if (ghp_unescape(p->a, p->tok.text, p->tok.len, out, NULL, &msg) < 0)
		return fail_at(p, GH_POLICY_EPARSE, p->tok.line, p->tok.col, "%s", msg);
	next(p);
	return 0;
}

/* Path ::= IDENT {'::' IDENT}; stops before '::' STR. The text is copied with "::". */
static int parse_path(parser *p, ghp_str *out, int *nseg)
{
	char buf[1024];
	size_t n = 0;
	*nseg = 0;
	for (;;) {
		if (p->tok.kind != GHP_TOK_IDENT || is_reserved(&p->tok))
			return expected(p, "an identifier");
		if (n + p->tok.len + 2 >= sizeof(buf))
			return fail_at(p, GH_POLICY_ETOOLARGE, p->tok.line, p->tok.col, "name too long");
		if (n) {
			memcpy(buf + n, "::", 2);
			n += 2;
		}
		memcpy(buf + n, p->tok.text, p->tok.len);
		n += p->tok.len;
		(*nseg)++;
		next(p);
		if (p->tok.kind == GHP_TOK_COLON2 && peek(p)->kind == GHP_TOK_IDENT) {
			next(p);
			continue;
		}
		break;
	}
	out->p = ghp_arena_strdup(p->a, buf, n);
	out->n = n;
	return out->p ? 0 : oom(p);
}

/* Entity ::= Path '::' STR */
static int parse_entity(parser *p, const ghp_euid **out)
{
	ghp_str type, id;
	int nseg;
	if (parse_path(p, &type, &nseg) < 0)
		return -1;
	if (p->tok.kind != GHP_TOK_COLON2)
		return expected(p, "'::' and an entity id string");
	next(p);
	if (parse_str(p, &id) < 0)
		return -1;
	*out = ghp_euid_new(p->a, type.p, type.n, id.p, id.n);
	return *out ? 0 : oom(p);
}

static ghp_expr *parse_args(parser *p, ghp_expr *e, size_t first)
{
	ghp_expr *tmp[64];
	size_t n = 0;
	if (expect(p, GHP_TOK_LPAREN) < 0)
		return NULL;
	if (p->tok.kind != GHP_TOK_RPAREN) {
		for (;;) {
			if (n == 64) {
				fail_at(p, GH_POLICY_ETOOLARGE, p->tok.line, p->tok.col, "too many arguments");
				return NULL;
			}
			if (!(tmp[n++] = parse_expr(p)))
				return NULL;
			if (p->tok.kind != GHP_TOK_COMMA)
				break;
			next(p);
		}
	}
	if (expect(p, GHP_TOK_RPAREN) < 0)
		return NULL;
	ghp_expr **a = ghp_arena_alloc(p->a, (first + n + 1) * sizeof(*a));
	if (!a) {
		oom(p);
		return NULL;
	}
	for (size_t i = 0; i < first; i++)
		a[i] = e->a[i];
	for (size_t i = 0; i < n; i++) {
		a[first + i] = tmp[i];
		if (height(tmp[i]) + 1 > height(e))
			e->h = height(tmp[i]) + 1;
	}
	e->a = a;
	e->n = first + n;
	return e;
}

static int find_fn(ghp_str name, int method)
{
	for (int i = 0; i < GHP_FN_COUNT_; i++)
		if (ghp_fns[i].method == method && ghp_str_eqz(name, ghp_fns[i].name))
			return i;
	return -1;
}

static ghp_expr *parse_primary(parser *p)
{
	ghp_token at = p->tok;
	ghp_expr *e;

	switch (p->tok.kind) {
	case GHP_TOK_INT:
		if (p->tok.ival > INT64_MAX) {
			expected(p, "an integer in the signed 64-bit range");
			return NULL;
		}
		if (!(e = mk(p, GHP_X_LIT, &at, 0)))
			return NULL;
		e->lit.kind = GHP_V_LONG;
		e->lit.u.l = (int64_t)p->tok.ival;
		next(p);
		return e;
	case GHP_TOK_STR:
		if (!(e = mk(p, GHP_X_LIT, &at, 0)))
			return NULL;
		e->lit.kind = GHP_V_STRING;
		if (parse_str(p, &e->lit.u.s) < 0)
			return NULL;
		return e;
	case GHP_TOK_LPAREN:
		next(p);
		if (!(e = parse_expr(p)))
			return NULL;
		if (expect(p, GHP_TOK_RPAREN) < 0)
			return NULL;
		return e;
	case GHP_TOK_LBRACK: {
		next(p);
		if (!(e = mk(p, GHP_X_SET, &at, 0)))
			return NULL;
		e->h = 1;
		size_t cap = 0;
		while (p->tok.kind != GHP_TOK_RBRACK) {
			if (e->n == cap) {
				size_t nc = cap ? cap * 2 : 8;
				ghp_expr **na = ghp_arena_alloc(p->a, nc * sizeof(*na));
				if (!na) {
					oom(p);
					return NULL;
				}
				if (cap)
					memcpy(na, e->a, cap * sizeof(*na));
				e->a = na;
				cap = nc;
			}
			ghp_expr *x = parse_expr(p);
			if (!x)
				return NULL;
			if (height(x) + 1 > height(e))
				e->h = height(x) + 1;
			e->a[e->n++] = x;
			if (p->tok.kind != GHP_TOK_COMMA)
				break;
			next(p);
		}
		if (expect(p, GHP_TOK_RBRACK) < 0)
			return NULL;
		return e;
	}
	case GHP_TOK_LBRACE: {
		next(p);
		if (!(e = mk(p, GHP_X_RECORD, &at, 0)))
			return NULL;
		e->h = 1;
		size_t cap = 0;
		while (p->tok.kind != GHP_TOK_RBRACE) {
			if (e->n == cap) {
				size_t nc = cap ? cap * 2 : 8;
				ghp_expr **na = ghp_arena_alloc(p->a, nc * sizeof(*na));
				ghp_str *nk = ghp_arena_alloc(p->a, nc * sizeof(*nk));
				if (!na || !nk) {
					oom(p);
					return NULL;
				}
				if (cap) {
					memcpy(na, e->a, cap * sizeof(*na));
					memcpy(nk, e->keys, cap * sizeof(*nk));
				}
				e->a = na;
				e->keys = nk;
				cap = nc;
			}
			ghp_str key;
			ghp_token kt = p->tok;
			if (p->tok.kind == GHP_TOK_STR) {
				if (parse_str(p, &key) < 0)
					return NULL;
			} else if (p->tok.kind == GHP_TOK_IDENT) {
				key.p = ghp_arena_strdup(p->a, p->tok.text, p->tok.len);
				key.n = p->tok.len;
				if (!key.p) {
					oom(p);
					return NULL;
				}
				next(p);
			} else {
				expected(p, "a record key (identifier or string)");
				return NULL;
			}
			for (size_t i = 0; i < e->n; i++)
				if (ghp_str_eq(e->keys[i], key)) {
					fail_at(p, GH_POLICY_EPARSE, kt.line, kt.col,
						"duplicate key \"%.*s\" in record literal", (int)key.n, key.p);
					return NULL;
				}
			if (expect(p, GHP_TOK_COLON) < 0)
				return NULL;
			ghp_expr *x = parse_expr(p);
			if (!x)
				return NULL;
			if (height(x) + 1 > height(e))
				e->h = height(x) + 1;
			e->keys[e->n] = key;
			e->a[e->n++] = x;
			if (p->tok.kind != GHP_TOK_COMMA)
				break;
			next(p);
		}
		if (expect(p, GHP_TOK_RBRACE) < 0)
			return NULL;
		return e;
	}
	case GHP_TOK_QUESTION:
		fail_at(p, GH_POLICY_EPARSE, at.line, at.col,
			"template slots are only allowed in the policy scope");
		return NULL;
	case GHP_TOK_IDENT:
		break;
	default:
		expected(p, "an expression");
		return NULL;
	}

	if (is_kw(&p->tok, "true") || is_kw(&p->tok, "false")) {
		if (!(e = mk(p, GHP_X_LIT, &at, 0)))
			return NULL;
		e->lit.kind = GHP_V_BOOL;
		e->lit.u.b = is_kw(&p->tok, "true");
		next(p);
		return e;
	}
	ghp_str path;
	int nseg;
	if (parse_path(p, &path, &nseg) < 0)
		return NULL;
	if (p->tok.kind == GHP_TOK_COLON2) {
		next(p);
		ghp_str id;
		if (parse_str(p, &id) < 0)
			return NULL;
		if (!(e = mk(p, GHP_X_LIT, &at, 0)))
			return NULL;
		e->lit.kind = GHP_V_ENTITY;
		e->lit.u.e = ghp_euid_new(p->a, path.p, path.n, id.p, id.n);
		if (!e->lit.u.e) {
			oom(p);
			return NULL;
		}
		return e;
	}
	if (p->tok.kind == GHP_TOK_LPAREN) {
		int fn = find_fn(path, 0);
		if (fn < 0) {
			fail_at(p, GH_POLICY_EPARSE, at.line, at.col,
				"unknown function %.*s (expected ip, decimal, datetime or duration)",
				(int)path.n, path.p);
			return NULL;
		}
		if (!(e = mk(p, GHP_X_CALL, &at, 0)))
			return NULL;
		e->op = fn;
		e->name = path;
		e->h = 1;
		if (!parse_args(p, e, 0))
			return NULL;
		/* Extension calls with the wrong arity parse and error when
		 * evaluated, as in Cedar. Constructors over a literal are computed
		 * once, here; a bad literal stays a call and errors when evaluated. */
		if ((int)e->n == ghp_fns[fn].nargs && e->a[0]->kind == GHP_X_LIT && e->a[0]->lit.kind == GHP_V_STRING) {
			ghp_value v;
			ghp_str s = e->a[0]->lit.u.s;
			if (ghp_ext_make(p->a, ghp_fns[fn].name, s.p, s.n, &v) == 0) {
				e->kind = GHP_X_LIT;
				e->lit = v;
				e->n = 0;
			}
		}
		return e;
	}
	if (nseg == 1) {
		static const char *const vars[] = { "principal", "action", "resource", "context" };
		for (int i = 0; i < 4; i++)
			if (ghp_str_eqz(path, vars[i])) {
				if (!(e = mk(p, GHP_X_VAR, &at, 0)))
					return NULL;
				e->op = i;
				return e;
			}
	}
	fail_at(p, GH_POLICY_EPARSE, at.line, at.col,
		"expected a variable, an entity (Type::\"id\") or a function call, found '%.*s'",
		(int)(path.n > 60 ? 60 : path.n), path.p);
	return NULL;
}

/* Member ::= Primary {Access} */
static ghp_expr *parse_access(parser *p, ghp_expr *e)
{
	for (;;) {
		ghp_token at = p->tok;
		if (p->tok.kind == GHP_TOK_DOT) {
			next(p);
			if (p->tok.kind != GHP_TOK_IDENT) {
				expected(p, "an attribute or method name");
				return NULL;
			}
			ghp_str name = { p->tok.text, p->tok.len };
			ghp_token nt = p->tok;
			next(p);
			if (p->tok.kind == GHP_TOK_LPAREN) {
				int fn = find_fn(name, 1);
				if (fn < 0) {
					fail_at(p, GH_POLICY_EPARSE, nt.line, nt.col, "unknown method %.*s",
						(int)(name.n > 60 ? 60 : name.n), name.p);
					return NULL;
				}
				ghp_expr *m = join(p, GHP_X_METHOD, &nt, e, NULL);
				if (!m)
					return NULL;
				m->op = fn;
				if (!parse_args(p, m, 1))
					return NULL;
				if ((int)m->n - 1 != ghp_fns[fn].nargs && fn < GHP_FN_LESS_THAN) {
					fail_at(p, GH_POLICY_EPARSE, nt.line, nt.col,
						"%s takes %d argument(s), got %zu", ghp_fns[fn].name,
						ghp_fns[fn].nargs, m->n - 1);
					return NULL;
				}
				if (height(m) > MAX_TREE) {
					fail_at(p, GH_POLICY_ETOOLARGE, nt.line, nt.col,
						"expression nested too deeply");
					return NULL;
				}
				e = m;
			} else {
				ghp_expr *x = join(p, GHP_X_ATTR, &nt, e, NULL);
				if (!x)
					return NULL;
				x->name.p = ghp_arena_strdup(p->a, name.p, name.n);
				x->name.n = name.n;
				if (!x->name.p) {
					oom(p);
					return NULL;
				}
				e = x;
			}
		} else if (p->tok.kind == GHP_TOK_LBRACK) {
			next(p);
			ghp_str key;
			if (parse_str(p, &key) < 0)
				return NULL;
			if (expect(p, GHP_TOK_RBRACK) < 0)
				return NULL;
			ghp_expr *x = join(p, GHP_X_ATTR, &at, e, NULL);
			if (!x)
				return NULL;
			x->name = key;
			e = x;
		} else {
			return e;
		}
	}
}

/* Unary ::= ['!' | '-']x4 Member; a '-' right before an integer literal makes
 * a negative literal (so -9223372036854775808 is a Long). */
static ghp_expr *parse_unary(parser *p)
{
	ghp_token ops[MAX_UNARY + 1];
	int n = 0;
	while (p->tok.kind == GHP_TOK_NOT || p->tok.kind == GHP_TOK_MINUS) {
		if (n == MAX_UNARY) {
			fail_at(p, GH_POLICY_EPARSE, p->tok.line, p->tok.col,
				"too many unary operators (at most %d)", MAX_UNARY);
			return NULL;
		}
		ops[n++] = p->tok;
		next(p);
	}
	ghp_expr *e;
	if (n && ops[n - 1].kind == GHP_TOK_MINUS && p->tok.kind == GHP_TOK_INT) {
		ghp_token at = ops[n - 1];
		if (p->tok.ival > (UINT64_C(1) << 63)) {
			expected(p, "an integer in the signed 64-bit range");
			return NULL;
		}
		if (!(e = mk(p, GHP_X_LIT, &at, 0)))
			return NULL;
		e->lit.kind = GHP_V_LONG;
		e->lit.u.l = p->tok.ival == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)p->tok.ival;
		next(p);
		n--;
	} else if (!(e = parse_primary(p))) {
		return NULL;
	}
	if (!(e = parse_access(p, e)))
		return NULL;
	while (n--) {
		e = join(p, ops[n].kind == GHP_TOK_NOT ? GHP_X_NOT : GHP_X_NEG, &ops[n], e, NULL);
		if (!e)
			return NULL;
	}
	return e;
}

static ghp_expr *parse_mult(parser *p)
{
	ghp_expr *e = parse_unary(p);
	while (e && p->tok.kind == GHP_TOK_STAR) {
		ghp_token at = p->tok;
		next(p);
		ghp_expr *r = parse_unary(p);
		e = r ? join(p, GHP_X_MUL, &at, e, r) : NULL;
	}
	return e;
}

static ghp_expr *parse_add(parser *p)
{
	ghp_expr *e = parse_mult(p);
	while (e && (p->tok.kind == GHP_TOK_PLUS || p->tok.kind == GHP_TOK_MINUS)) {
		ghp_token at = p->tok;
		next(p);
		ghp_expr *r = parse_mult(p);
		e = r ? join(p, at.kind == GHP_TOK_PLUS ? GHP_X_ADD : GHP_X_SUB, &at, e, r) : NULL;
	}
	return e;
}

static ghp_expr *parse_relation(parser *p)
{
	ghp_expr *e = parse_add(p);
	if (!e)
		return NULL;
	ghp_token at = p->tok;
	ghp_expr_kind k;
	switch (p->tok.kind) {
	case GHP_TOK_EQ: k = GHP_X_EQ; break;
	case GHP_TOK_NE: k = GHP_X_NE; break;
	case GHP_TOK_LT: k = GHP_X_LT; break;
	case GHP_TOK_LE: k = GHP_X_LE; break;
	case GHP_TOK_GT: k = GHP_X_GT; break;
	case GHP_TOK_GE: k = GHP_X_GE; break;
	case GHP_TOK_IDENT:
		if (is_kw(&p->tok, "in")) {
			k = GHP_X_IN;
			break;
		}
		if (is_kw(&p->tok, "has")) {
			next(p);
			ghp_str keys[32];
			size_t nk = 0;
			if (p->tok.kind == GHP_TOK_STR) {
				if (parse_str(p, &keys[nk++]) < 0)
					return NULL;
			} else {
				for (;;) {
					if (p->tok.kind != GHP_TOK_IDENT || is_reserved(&p->tok)) {
						expected(p, "an attribute name (identifier or string)");
						return NULL;
					}
					if (nk == 32) {
						fail_at(p, GH_POLICY_ETOOLARGE, p->tok.line, p->tok.col,
							"attribute path too long");
						return NULL;
					}
					keys[nk].p = ghp_arena_strdup(p->a, p->tok.text, p->tok.len);
					keys[nk].n = p->tok.len;
					if (!keys[nk++].p) {
						oom(p);
						return NULL;
					}
					next(p);
					if (p->tok.kind != GHP_TOK_DOT)
						break;
					next(p);
				}
			}
			ghp_expr *x = join(p, GHP_X_HAS, &at, e, NULL);
			if (!x || !(x->keys = ghp_arena_alloc(p->a, nk * sizeof(*x->keys)))) {
				if (x)
					oom(p);
				return NULL;
			}
			memcpy(x->keys, keys, nk * sizeof(*keys));
			x->nkeys = nk;
			return x;
		}
		if (is_kw(&p->tok, "like")) {
			next(p);
			if (p->tok.kind != GHP_TOK_STR) {
				expected(p, "a pattern string");
				return NULL;
			}
			ghp_expr *x = join(p, GHP_X_LIKE, &at, e, NULL);
			if (!x)
				return NULL;
			const char *msg;
			unsigned char *stars;
			if (ghp_unescape(p->a, p->tok.text, p->tok.len, &x->name, &stars, &msg) < 0) {
				fail_at(p, GH_POLICY_EPARSE, p->tok.line, p->tok.col, "%s", msg);
				return NULL;
			}
			x->stars = stars;
			next(p);
			return x;
		}
		if (is_kw(&p->tok, "is")) {
			next(p);
			ghp_str type;
			int nseg;
			if (parse_path(p, &type, &nseg) < 0)
				return NULL;
			ghp_expr *r = NULL;
			if (is_kw(&p->tok, "in")) {
				next(p);
				if (!(r = parse_add(p)))
					return NULL;
			}
			ghp_expr *x = join(p, GHP_X_IS, &at, e, r);
			if (x)
				x->name = type;
			return x;
		}
		return e;
	default:
		return e;
	}
	next(p);
	ghp_expr *r = parse_add(p);
	return r ? join(p, k, &at, e, r) : NULL;
}

static ghp_expr *parse_and(parser *p)
{
	ghp_expr *e = parse_relation(p);
	while (e && p->tok.kind == GHP_TOK_AND) {
		ghp_token at = p->tok;
		next(p);
		ghp_expr *r = parse_relation(p);
		e = r ? join(p, GHP_X_AND, &at, e, r) : NULL;
	}
	return e;
}

static ghp_expr *parse_or(parser *p)
{
	ghp_expr *e = parse_and(p);
	while (e && p->tok.kind == GHP_TOK_OR) {
		ghp_token at = p->tok;
		next(p);
		ghp_expr *r = parse_and(p);
		e = r ? join(p, GHP_X_OR, &at, e, r) : NULL;
	}
	return e;
}

static ghp_expr *parse_expr(parser *p)
{
	if (++p->depth > GH_POLICY_MAX_DEPTH) {
		fail_at(p, GH_POLICY_ETOOLARGE, p->tok.line, p->tok.col, "expression nested too deeply");
		return NULL;
	}
	ghp_expr *e;
	if (is_kw(&p->tok, "if")) {
		ghp_token at = p->tok;
		next(p);
		ghp_expr *c = parse_expr(p), *t = NULL, *f = NULL;
		if (c && (is_kw(&p->tok, "then") || expected(p, "'then'") == 0)) {
			next(p);
			t = parse_expr(p);
		}
		if (t && (is_kw(&p->tok, "else") || expected(p, "'else'") == 0)) {
			next(p);
			f = parse_expr(p);
		}
		e = f ? join(p, GHP_X_IF, &at, c, t) : NULL;
		if (e) {
			ghp_expr **a = ghp_arena_alloc(p->a, 3 * sizeof(*a));
			if (!a) {
				oom(p);
				e = NULL;
			} else {
				a[0] = c;
				a[1] = t;
				a[2] = f;
				e->a = a;
				e->n = 3;
				if (height(f) + 1 > height(e))
					e->h = height(f) + 1;
			}
		}
	} else {
		e = parse_or(p);
	}
	p->depth--;
	return e;
}

/* --- policies -------------------------------------------------------- */

/* 'principal' / 'resource' scope; var is the keyword expected. */
static int parse_scope_pr(parser *p, const char *var, ghp_scope *sc, int *slots)
{
	memset(sc, 0, sizeof(*sc));
	if (!is_kw(&p->tok, var)) {
		char what[32];
		snprintf(what, sizeof(what), "'%s'", var);
		return expected(p, what);
	}
	next(p);
	int op_eq = p->tok.kind == GHP_TOK_EQ;
	if (is_kw(&p->tok, "is")) {
		next(p);
		int nseg;
		if (parse_path(p, &sc->is_type, &nseg) < 0)
			return -1;
		sc->op = GHP_SC_IS;
		if (!is_kw(&p->tok, "in"))
			return 0;
		sc->op = GHP_SC_IS_IN;
	} else if (is_kw(&p->tok, "in")) {
		sc->op = GHP_SC_IN;
	} else if (op_eq) {
		sc->op = GHP_SC_EQ;
	} else {
		return 0;
	}
	next(p);
	if (p->tok.kind == GHP_TOK_QUESTION) {
		next(p);
		if (!is_kw(&p->tok, var)) {
			char what[40];
			snprintf(what, sizeof(what), "the slot ?%s", var);
			return expected(p, what);
		}
		next(p);
		sc->slot = 1;
		(*slots)++;
		return 0;
	}
	return parse_entity(p, &sc->uid);
}

static int is_action_type(const ghp_euid *u)
{
	return ghp_str_eqz(u->type, "Action") ||
	       (u->type.n > 8 && memcmp(u->type.p + u->type.n - 8, "::Action", 8) == 0);
}

static int parse_action_entity(parser *p, const ghp_euid **out)
{
	ghp_token at = p->tok;
	if (parse_entity(p, out) < 0)
		return -1;
	if (!is_action_type(*out))
		return fail_at(p, GH_POLICY_EPARSE, at.line, at.col,
			       "expected an action entity (type Action or NS::Action)");
	return 0;
}

static int parse_scope_action(parser *p, ghp_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	if (!is_kw(&p->tok, "action"))
		return expected(p, "'action'");
	next(p);
	if (p->tok.kind == GHP_TOK_EQ) {
		next(p);
		sc->op = GHP_SC_EQ;
		return parse_action_entity(p, &sc->uid);
	}
	if (!is_kw(&p->tok, "in"))
		return 0;
	next(p);
	if (p->tok.kind != GHP_TOK_LBRACK) {
		sc->op = GHP_SC_IN;
		return parse_action_entity(p, &sc->uid);
	}
	next(p);
	sc->op = GHP_SC_IN_SET;
	size_t cap = 0;
	while (p->tok.kind != GHP_TOK_RBRACK) {
		if (sc->nuids == cap) {
			size_t nc = cap ? cap * 2 : 8;
			const ghp_euid **nu = ghp_arena_alloc(p->a, nc * sizeof(*nu));
			if (!nu)
				return oom(p);
			if (cap)
				memcpy(nu, sc->uids, cap * sizeof(*nu));
			sc->uids = nu;
			cap = nc;
		}
		if (parse_action_entity(p, &sc->uids[sc->nuids]) < 0)
			return -1;
		sc->nuids++;
		if (p->tok.kind != GHP_TOK_COMMA)
			break;
		next(p);
	}
	return expect(p, GHP_TOK_RBRACK);
}

static int parse_policy(parser *p, ghp_policy *pol)
{
	ghp_annotation ann[64];
	size_t nann = 0;

	memset(pol, 0, sizeof(*pol));
	pol->line = p->tok.line;
	pol->col = p->tok.col;
	while (p->tok.kind == GHP_TOK_AT) {
		next(p);
		if (p->tok.kind != GHP_TOK_IDENT)
			return expected(p, "an annotation name");
		if (nann == 64)
			return fail_at(p, GH_POLICY_ETOOLARGE, p->tok.line, p->tok.col,
				       "too many annotations");
		ghp_token kt = p->tok;
		char *key = ghp_arena_strdup(p->a, p->tok.text, p->tok.len);
		if (!key)
			return oom(p);
		for (size_t i = 0; i < nann; i++)
			if (!strcmp(ann[i].key, key))
				return fail_at(p, GH_POLICY_EPARSE, kt.line, kt.col,
					       "duplicate annotation @%s", key);
		next(p);
		ann[nann].key = key;
		ann[nann].value = "";
		ann[nann].has_value = 0;
		if (p->tok.kind == GHP_TOK_LPAREN) {
			next(p);
			ghp_str v;
			if (parse_str(p, &v) < 0)
				return -1;
			if (memchr(v.p, 0, v.n))
				v.n = strlen(v.p);
			ann[nann].value = v.p;
			ann[nann].has_value = 1;
			if (expect(p, GHP_TOK_RPAREN) < 0)
				return -1;
		}
		nann++;
	}
	if (nann) {
		pol->annots = ghp_arena_alloc(p->a, nann * sizeof(*pol->annots));
		if (!pol->annots)
			return oom(p);
		memcpy(pol->annots, ann, nann * sizeof(*ann));
		pol->nannots = nann;
	}
	if (is_kw(&p->tok, "permit"))
		pol->forbid = 0;
	else if (is_kw(&p->tok, "forbid"))
		pol->forbid = 1;
	else
		return expected(p, "'permit' or 'forbid'");
	next(p);
	if (expect(p, GHP_TOK_LPAREN) < 0)
		return -1;
	int slots = 0;
	if (parse_scope_pr(p, "principal", &pol->principal, &slots) < 0 ||
	    expect(p, GHP_TOK_COMMA) < 0 || parse_scope_action(p, &pol->action) < 0 ||
	    expect(p, GHP_TOK_COMMA) < 0 ||
	    parse_scope_pr(p, "resource", &pol->resource, &slots) < 0)
		return -1;
	if (p->tok.kind == GHP_TOK_COMMA)
		next(p); /* a trailing comma is accepted */
	if (expect(p, GHP_TOK_RPAREN) < 0)
		return -1;
	pol->is_template = slots > 0;
	size_t cap = 0;
	while (is_kw(&p->tok, "when") || is_kw(&p->tok, "unless")) {
		int when = is_kw(&p->tok, "when");
		next(p);
		if (expect(p, GHP_TOK_LBRACE) < 0)
			return -1;
		ghp_expr *e = parse_expr(p);
		if (!e)
			return -1;
		if (expect(p, GHP_TOK_RBRACE) < 0)
			return -1;
		if (pol->nconds == cap) {
			size_t nc = cap ? cap * 2 : 4;
			ghp_cond *c = ghp_arena_alloc(p->a, nc * sizeof(*c));
			if (!c)
				return oom(p);
			if (cap)
				memcpy(c, pol->conds, cap * sizeof(*c));
			pol->conds = c;
			cap = nc;
		}
		pol->conds[pol->nconds].when = when;
		pol->conds[pol->nconds].expr = e;
		pol->nconds++;
	}
	if (p->tok.kind != GHP_TOK_SEMI)
		return expected(p, pol->nconds ? "';', 'when' or 'unless'" : "';', 'when' or 'unless'");
	next(p);
	return 0;
}

int ghp_policy_set_add(gh_policy_set *ps, ghp_policy *pol)
{
	if (ps->n == ps->cap) {
		size_t nc = ps->cap ? ps->cap * 2 : 16;
		ghp_policy **np = realloc(ps->policies, nc * sizeof(*np));
		if (!np)
			return -1;
		ps->policies = np;
		ps->cap = nc;
	}
	ps->policies[ps->n++] = pol;
	return 0;
}

/* Offset of the first byte that is not well-formed UTF-8 (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF), or len when all is. */
static size_t utf8_bad(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		unsigned cp;

		if (n == 0 || i + n > len)
			return i;
		cp = n == 1 ? c : c & (0x7f >> n);
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n;
	}
	return len;
}

int ghp_parse(gh_policy_set *ps, const char *text, size_t len, gh_policy_error *err)
{
	parser p;
	size_t bad = utf8_bad((const unsigned char *)text, len);

	if (bad < len) {
		if (err) {
			err->line = 1;
			err->column = 1;
			for (size_t i = 0; i < bad; i++) {
				if (text[i] == '\n') {
					err->line++;
					err->column = 1;
				} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
					err->column++;
				}
			}
			snprintf(err->message, sizeof(err->message),
				 "policy text is not valid UTF-8 (byte 0x%02x)", (unsigned char)text[bad]);
		}
		return GH_POLICY_EPARSE;
	}
	memset(&p, 0, sizeof(p));
	p.a = &ps->arena;
	p.err = err;
	ghp_lexer_init(&p.lx, text, len);
	next(&p);
	while (p.tok.kind != GHP_TOK_EOF) {
		ghp_policy *pol = ghp_arena_alloc(p.a, sizeof(*pol));
		char id[32];
		if (!pol)
			return oom(&p), p.rc;
		if (parse_policy(&p, pol) < 0)
			return p.rc ? p.rc : GH_POLICY_EPARSE;
		snprintf(id, sizeof(id), "policy%zu", ps->n);
		pol->id = ghp_arena_strdup(p.a, id, strlen(id));
		if (!pol->id || ghp_policy_set_add(ps, pol) < 0)
			return oom(&p), p.rc;
	}
	return 0;
}
