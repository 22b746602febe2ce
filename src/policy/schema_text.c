/* schema_text.c - the Cedar schema syntax (.cedarschema): lexer and parser
 * into a raw schema (schema_raw.h), per human-readable-schema-grammar.md. */
#include "policy/schema_raw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum tkind {
	T_EOF,
	T_IDENT,
	T_STR,
	T_NUMBER,
	T_PUNCT,                   /* one of , ; : { } [ ] < > = ? @ ( ) */
	T_COLON2,                  /* :: */
} tkind;

typedef struct tok {
	tkind kind;
	const char *p;
	size_t len;
	int line, column;
} tok;

typedef struct lexer {
	const char *src;
	size_t len, pos;
	int line, column;
} lexer;

typedef struct parser {
	lexer lx;
	tok cur;
	ghp_sr_schema *raw;
	size_t empty_ns;           /* index + 1 of the namespace of declarations outside any */
	gh_policy_error *err;
	int code;                  /* first failure */
	int depth;
} parser;

__attribute__((format(printf, 5, 6))) static int fail(parser *p, int code, int line, int column,
						      const char *fmt, ...)
{
	va_list ap;

	if (p->code)
		return -1;
	p->code = code;
	if (p->err) {
		p->err->line = line;
		p->err->column = column;
		va_start(ap, fmt);
		vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int oom(parser *p)
{
	return fail(p, GH_POLICY_ERROR, 0, 0, "out of memory");
}

/* --- lexing ------------------------------------------------------------ */

/* Decodes one UTF-8 scalar at s (n bytes left); returns its length, 0 if malformed. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}

static int is_unicode_space(unsigned c)
{
	return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static int is_ident_start(unsigned char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Moves over n bytes, keeping line and column (in characters). */
static void advance(lexer *lx, size_t n)
{
	for (size_t i = 0; i < n && lx->pos < lx->len; i++) {
		unsigned char c = (unsigned char)lx->src[lx->pos++];

		if (c == '\n') {
			lx->line++;
			lx->column = 1;
		} else if ((c & 0xc0) != 0x80) {
			lx->column++;
		}
	}
}

static void skip_space(lexer *lx)
{
	while (lx->pos < lx->len) {
		const unsigned char *s = (const unsigned char *)lx->src + lx->pos;
		size_t left = lx->len - lx->pos;
		unsigned cp;
		size_t n;

		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f') {
			advance(lx, 1);
		} else if (left >= 2 && s[0] == '/' && s[1] == '/') {
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n' && lx->src[lx->pos] != '\r')
				advance(lx, 1);
		} else if (*s >= 0x80 && (n = utf8_decode(s, left, &cp)) && is_unicode_space(cp)) {
			advance(lx, n);
		} else {
			break;
		}
	}
}

/* The next token; a malformed one fails with its position. */
static int lex(parser *p, lexer *lx, tok *t)
{
	const char *s;
	size_t left, n = 0;

	skip_space(lx);
	t->line = lx->line;
	t->column = lx->column;
	t->p = lx->src + lx->pos;
	t->len = 0;
	if (lx->pos >= lx->len) {
		t->kind = T_EOF;
		return 0;
	}
	s = lx->src + lx->pos;
	left = lx->len - lx->pos;
	if (is_ident_start((unsigned char)*s)) {
		while (n < left && is_ident_char((unsigned char)s[n]))
			n++;
		t->kind = T_IDENT;
	} else if (*s >= '0' && *s <= '9') {
		while (n < left && s[n] >= '0' && s[n] <= '9')
			n++;
		t->kind = T_NUMBER;
	} else if (*s == '"') {
		for (n = 1; n < left && s[n] != '"'; n++) {
			if (s[n] == '\\') {
				if (n + 1 >= left || s[n + 1] == '\n')
					break;
				n++;
			}
		}
		if (n >= left || s[n] != '"')
			return fail(p, GH_POLICY_EPARSE, t->line, t->column,
				    "unterminated string literal");
		n++;
		t->kind = T_STR;
	} else if (left >= 2 && s[0] == ':' && s[1] == ':') {
		n = 2;
		t->kind = T_COLON2;
	} else if (strchr(",;:{}[]<>=?@()", *s) && *s) {
		n = 1;
		t->kind = T_PUNCT;
	} else {
		unsigned cp = 0;

		if ((unsigned char)*s < 0x80 && (unsigned char)*s >= 0x20)
			return fail(p, GH_POLICY_EPARSE, t->line, t->column,
				    "unexpected character '%c'", *s);
		utf8_decode((const unsigned char *)s, left, &cp);
		return fail(p, GH_POLICY_EPARSE, t->line, t->column, "unexpected character U+%04X",
			    cp);
	}
	t->len = n;
	advance(lx, n);
	return 0;
}

static int next(parser *p)
{
	return lex(p, &p->lx, &p->cur);
}

/* The token after the current one, without consuming anything. */
static int peek2(parser *p, tok *t)
{
	lexer copy = p->lx;

	return lex(p, &copy, t);
}

static int is_punct(const tok *t, char c)
{
	return t->kind == T_PUNCT && t->p[0] == c;
}

static int is_word(const tok *t, const char *w)
{
	return t->kind == T_IDENT && t->len == strlen(w) && memcmp(t->p, w, t->len) == 0;
}

/* Cedar's reserved identifiers (syntax-grammar.md RESERVED, but for __cedar,
 * which may start a builtin type's path). */
static int is_reserved(const tok *t)
{
	static const char *const words[] = {"true", "false", "if",  "then", "else",
					    "in",   "like",  "has", "is"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (is_word(t, words[i]))
			return 1;
	return 0;
}

static int expected(parser *p, const char *what)
{
	const tok *t = &p->cur;

	switch (t->kind) {
	case T_EOF:
		return fail(p, GH_POLICY_EPARSE, t->line, t->column,
			    "expected %s, found end of input", what);
	case T_STR:
		return fail(p, GH_POLICY_EPARSE, t->line, t->column,
			    "expected %s, found a string literal", what);
	default:
		return fail(p, GH_POLICY_EPARSE, t->line, t->column, "expected %s, found '%.*s'",
			    what, (int)(t->len > 40 ? 40 : t->len), t->p);
	}
}

static int expect_punct(parser *p, char c)
{
	char what[4] = {'\'', c, '\'', '\0'};

	if (!is_punct(&p->cur, c))
		return expected(p, what);
	return next(p);
}

/* --- strings ------------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t utf8_encode(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The current string literal, unescaped, into the arena (NUL-terminated;
 * *len excludes the terminator). Consumes the token. */
static int take_string(parser *p, const char **out, size_t *len)
{
	const tok *t = &p->cur;
	const char *s = t->p + 1;
	size_t n = t->len - 2, k = 0;
	char *buf = ghp_sa_alloc(&p->raw->arena, n + 1);

	if (!buf)
		return oom(p);
	for (size_t i = 0; i < n; i++) {
		unsigned cp = 0;
		size_t j;

		if (s[i] != '\\') {
			buf[k++] = s[i];
			continue;
		}
		i++;
		switch (s[i]) {
		case 'n': buf[k++] = '\n'; break;
		case 'r': buf[k++] = '\r'; break;
		case 't': buf[k++] = '\t'; break;
		case '0': buf[k++] = '\0'; break;
		case '\\': buf[k++] = '\\'; break;
		case '\'': buf[k++] = '\''; break;
		case '"': buf[k++] = '"'; break;
		case 'x':
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0 ||
			    hexval(s[i + 1]) > 7)
				return fail(p, GH_POLICY_EPARSE, t->line, t->column,
					    "bad \\x escape in string literal (00 to 7f)");
			buf[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			break;
		case 'u':
			if (i + 1 >= n || s[i + 1] != '{')
				return fail(p, GH_POLICY_EPARSE, t->line, t->column,
					    "bad \\u escape in string literal: expected \\u{...}");
			for (j = i + 2; j < n && hexval(s[j]) >= 0 && j - (i + 2) < 7; j++)
				cp = cp * 16 + (unsigned)hexval(s[j]);
			if (j >= n || s[j] != '}' || j == i + 2 || j - (i + 2) > 6 || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				return fail(p, GH_POLICY_EPARSE, t->line, t->column,
					    "bad \\u escape in string literal: 1 to 6 hex digits "
					    "of a Unicode scalar value");
			k += utf8_encode(buf + k, cp);
			i = j;
			break;
		default:
			return fail(p, GH_POLICY_EPARSE, t->line, t->column,
				    "unknown escape in string literal");
		}
	}
	buf[k] = '\0';
	*out = buf;
	*len = k;
	return next(p);
}

/* --- names ---------------------------------------------------------------- */

static char *tok_dup(parser *p, const tok *t)
{
	char *s = ghp_sa_strndup(&p->raw->arena, t->p, t->len);

	if (!s)
		oom(p);
	return s;
}

/* IDENT (not a reserved word); consumes it. */
static int take_ident(parser *p, const char *what, const char **out, int *line, int *column)
{
	if (p->cur.kind != T_IDENT || is_reserved(&p->cur))
		return expected(p, what);
	if (line) {
		*line = p->cur.line;
		*column = p->cur.column;
	}
	*out = tok_dup(p, &p->cur);
	return *out ? next(p) : -1;
}

/* Name := IDENT | STR */
static int take_name(parser *p, const char *what, const char **out, size_t *len, int *line,
		     int *column)
{
	*line = p->cur.line;
	*column = p->cur.column;
	if (p->cur.kind == T_STR)
		return take_string(p, out, len);
	if (take_ident(p, what, out, NULL, NULL))
		return -1;
	*len = strlen(*out);
	return 0;
}

/* Path := IDENT {'::' IDENT}, as one string "A::B". */
static int take_path(parser *p, const char *what, const char **out, int *line, int *column)
{
	char *buf;
	size_t len, cap;
	tok t2;

	if (p->cur.kind != T_IDENT || is_reserved(&p->cur))
		return expected(p, what);
	*line = p->cur.line;
	*column = p->cur.column;
	cap = p->cur.len + 1;
	buf = tok_dup(p, &p->cur);
	if (!buf || next(p))
		return -1;
	len = strlen(buf);
	while (p->cur.kind == T_COLON2) {
		char *nbuf;

		if (peek2(p, &t2))
			return -1;
		if (t2.kind != T_IDENT)
			break;     /* Path '::' STR: the caller's */
		if (is_reserved(&t2)) {
			if (next(p))
				return -1;
			return expected(p, "an identifier");
		}
		if (len + 2 + t2.len + 1 > cap) {
			cap = (len + 2 + t2.len + 1) * 2;
			nbuf = ghp_sa_alloc(&p->raw->arena, cap);
			if (!nbuf)
				return oom(p);
			memcpy(nbuf, buf, len);
			buf = nbuf;
		}
		memcpy(buf + len, "::", 2);
		memcpy(buf + len + 2, t2.p, t2.len);
		len += 2 + t2.len;
		buf[len] = '\0';
		if (next(p) || next(p))
			return -1;
	}
	*out = buf;
	return 0;
}

/* Annotations := {'@' ANYIDENT ['(' STR ')']}: checked, then dropped. */
typedef struct akey {
	const char *p;
	size_t len;
	int line, column;
} akey;

static int akey_cmp(const void *x, const void *y)
{
	const akey *a = x, *b = y;
	int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int skip_annotations(parser *p)
{
	akey *keys = NULL;
	size_t n = 0, cap = 0;

	while (is_punct(&p->cur, '@')) {
		if (next(p))
			return -1;
		if (p->cur.kind != T_IDENT)
			return expected(p, "an annotation name");
		if (ghp_sa_grow(&p->raw->arena, (void **)&keys, n, &cap, sizeof(*keys)))
			return oom(p);
		keys[n++] = (akey){p->cur.p, p->cur.len, p->cur.line, p->cur.column};
		if (next(p))
			return -1;
		if (is_punct(&p->cur, '(')) {
			const char *v;
			size_t vlen;

			if (next(p))
				return -1;
			if (p->cur.kind != T_STR)
				return expected(p, "a string literal");
			if (take_string(p, &v, &vlen) || expect_punct(p, ')'))
				return -1;
		}
	}
	if (n > 1) {
		qsort(keys, n, sizeof(*keys), akey_cmp);
		for (size_t i = 1; i < n; i++)
			if (akey_cmp(&keys[i - 1], &keys[i]) == 0)
				return fail(p, GH_POLICY_EPARSE, keys[i].line, keys[i].column,
					    "duplicate annotation @%.*s", (int)keys[i].len,
					    keys[i].p);
	}
	return 0;
}

/* --- types ------------------------------------------------------------------ */

static ghp_sr_type *new_type(parser *p, ghp_sr_kind kind, int line, int column)
{
	ghp_sr_type *t = ghp_sa_alloc(&p->raw->arena, sizeof(*t));

	if (!t) {
		oom(p);
		return NULL;
	}
	t->kind = kind;
	t->line = line;
	t->column = column;
	return t;
}

static ghp_sr_type *parse_type(parser *p);

/* After '{': AttrDecls '}' into record t. */
static int parse_record_body(parser *p, ghp_sr_type *t)
{
	while (!is_punct(&p->cur, '}')) {
		ghp_sr_attr *a;

		if (skip_annotations(p))
			return -1;
		if (ghp_sa_grow(&p->raw->arena, (void **)&t->attrs, t->nattrs, &t->capattrs,
				sizeof(*t->attrs)))
			return oom(p);
		a = &t->attrs[t->nattrs++];
		a->required = 1;
		if (take_name(p, "an attribute name or '}'", &a->name, &a->name_len, &a->line,
			      &a->column))
			return -1;
		if (is_punct(&p->cur, '?')) {
			a->required = 0;
			if (next(p))
				return -1;
		}
		if (expect_punct(p, ':'))
			return -1;
		a->type = parse_type(p);
		if (!a->type)
			return -1;
		if (is_punct(&p->cur, ',')) {
			if (next(p))
				return -1;
		} else if (!is_punct(&p->cur, '}')) {
			return expected(p, "',' or '}'");
		}
	}
	return next(p);
}

/* Type := Path | 'Set' '<' Type '>' | '{' [AttrDecls] '}' */
static ghp_sr_type *parse_type(parser *p)
{
	ghp_sr_type *t = NULL;
	int line = p->cur.line, column = p->cur.column;
	tok t2;

	if (++p->depth > GH_POLICY_MAX_DEPTH) {
		fail(p, GH_POLICY_ETOOLARGE, line, column, "type nested deeper than %d",
		     GH_POLICY_MAX_DEPTH);
		return NULL;
	}
	if (is_punct(&p->cur, '{')) {
		t = new_type(p, GHP_SR_RECORD, line, column);
		if (!t || next(p) || parse_record_body(p, t))
			t = NULL;
	} else if (is_word(&p->cur, "Set")) {
		if (peek2(p, &t2))
			goto done;
		if (is_punct(&t2, '<')) {
			t = new_type(p, GHP_SR_SET, line, column);
			if (!t || next(p) || next(p))
				goto fail;
			t->element = parse_type(p);
			if (!t->element || expect_punct(p, '>'))
				goto fail;
		} else {
			t = new_type(p, GHP_SR_ENTITY_OR_COMMON, line, column);
			if (!t || take_path(p, "a type", &t->name, &t->line, &t->column))
				goto fail;
		}
	} else if (p->cur.kind == T_IDENT) {
		t = new_type(p, GHP_SR_ENTITY_OR_COMMON, line, column);
		if (!t || take_path(p, "a type", &t->name, &t->line, &t->column))
			goto fail;
	} else {
		expected(p, "a type");
	}
	if (t && t->kind == GHP_SR_ENTITY_OR_COMMON && p->cur.kind == T_COLON2) {
		if (next(p))
			goto fail;
		expected(p, "an identifier");
		goto fail;
	}
done:
	p->depth--;
	return t;
fail:
	p->depth--;
	return NULL;
}

/* --- declarations --------------------------------------------------------- */

/* EntOrTyps := Path | '[' [Path {',' Path}] ']' */
static int parse_entity_types(parser *p, ghp_sr_ref **refs, size_t *n, size_t *cap)
{
	int bracket = is_punct(&p->cur, '[');

	if (bracket && next(p))
		return -1;
	if (bracket && is_punct(&p->cur, ']'))
		return next(p);
	for (;;) {
		ghp_sr_ref *r;

		if (ghp_sa_grow(&p->raw->arena, (void **)refs, *n, cap, sizeof(**refs)))
			return oom(p);
		r = &(*refs)[(*n)++];
		if (take_path(p, "an entity type", &r->name, &r->line, &r->column))
			return -1;
		if (p->cur.kind == T_COLON2) {
			if (next(p))
				return -1;
			return expected(p, "an identifier");
		}
		if (!bracket)
			return 0;
		if (is_punct(&p->cur, ']'))
			return next(p);
		if (expect_punct(p, ','))
			return -1;
	}
}

static int parse_entity(parser *p, ghp_sr_ns *ns)
{
	ghp_sr_entity proto = {0};
	const char **names = NULL;
	int *lines = NULL, *columns = NULL;
	size_t n = 0, cap = 0, lcap = 0, ccap = 0, lencap = 0;

	if (next(p))
		return -1;
	for (;;) {
		int line, column;

		if (ghp_sa_grow(&p->raw->arena, (void **)&names, n, &cap, sizeof(*names)) ||
		    ghp_sa_grow(&p->raw->arena, (void **)&lines, n, &lcap, sizeof(*lines)) ||
		    ghp_sa_grow(&p->raw->arena, (void **)&columns, n, &ccap, sizeof(*columns)))
			return oom(p);
		if (take_ident(p, "an entity type name", &names[n], &line, &column))
			return -1;
		lines[n] = line;
		columns[n++] = column;
		if (!is_punct(&p->cur, ','))
			break;
		if (next(p))
			return -1;
	}
	if (is_word(&p->cur, "enum")) {
		proto.is_enum = 1;
		if (next(p) || expect_punct(p, '['))
			return -1;
		for (;;) {
			if (p->cur.kind != T_STR)
				return expected(p, "a string literal");
			if (ghp_sa_grow(&p->raw->arena, (void **)&proto.enum_ids, proto.nenum,
					&proto.capenum, sizeof(*proto.enum_ids)) ||
			    ghp_sa_grow(&p->raw->arena, (void **)&proto.enum_lens, proto.nenum,
					&lencap, sizeof(*proto.enum_lens)))
				return oom(p);
			if (take_string(p, &proto.enum_ids[proto.nenum],
					&proto.enum_lens[proto.nenum]))
				return -1;
			proto.nenum++;
			if (is_punct(&p->cur, ']'))
				break;
			if (expect_punct(p, ','))
				return -1;
		}
		if (next(p))
			return -1;
	} else {
		if (is_word(&p->cur, "in")) {
			if (next(p) || parse_entity_types(p, &proto.parents, &proto.nparents,
							  &proto.capparents))
				return -1;
		}
		if (is_punct(&p->cur, '=')) {
			if (next(p))
				return -1;
			if (!is_punct(&p->cur, '{'))
				return expected(p, "'{'");
		}
		if (is_punct(&p->cur, '{')) {
			proto.shape = new_type(p, GHP_SR_RECORD, p->cur.line, p->cur.column);
			if (!proto.shape || next(p) || parse_record_body(p, proto.shape))
				return -1;
		}
		if (is_word(&p->cur, "tags")) {
			if (next(p))
				return -1;
			proto.tags = parse_type(p);
			if (!proto.tags)
				return -1;
		}
	}
	if (!is_punct(&p->cur, ';'))
		return expected(p, proto.is_enum ? "';'" : "'in', '{', 'tags' or ';'");
	if (next(p))
		return -1;
	for (size_t i = 0; i < n; i++) {
		ghp_sr_entity *e;

		if (ghp_sa_grow(&p->raw->arena, (void **)&ns->entities, ns->nentities,
				&ns->capentities, sizeof(*ns->entities)))
			return oom(p);
		e = &ns->entities[ns->nentities++];
		*e = proto;
		e->name = names[i];
		e->line = lines[i];
		e->column = columns[i];
	}
	return 0;
}

/* QualName := Name | Path '::' STR */
static int parse_action_ref(parser *p, ghp_sr_auid *r)
{
	r->line = p->cur.line;
	r->column = p->cur.column;
	if (p->cur.kind == T_STR)
		return take_string(p, &r->id, &r->id_len);
	if (take_path(p, "an action name", &r->type, &r->line, &r->column))
		return -1;
	if (p->cur.kind != T_COLON2) {
		if (strstr(r->type, "::")) {
			return expected(p, "'::' and an action id");
		}
		r->id = r->type;
		r->id_len = strlen(r->id);
		r->type = NULL;
		return 0;
	}
	if (next(p))
		return -1;
	if (p->cur.kind != T_STR)
		return expected(p, "a string literal (an action id)");
	return take_string(p, &r->id, &r->id_len);
}

static int parse_applies_to(parser *p, ghp_sr_action *proto, int line, int column)
{
	int have_p = 0, have_r = 0, have_c = 0;

	if (expect_punct(p, '{'))
		return -1;
	if (is_punct(&p->cur, '}'))
		return expected(p, "principal, resource or context");
	while (!is_punct(&p->cur, '}')) {
		tok key = p->cur;

		if (is_word(&key, "principal") || is_word(&key, "resource")) {
			int principal = is_word(&key, "principal");
			int *have = principal ? &have_p : &have_r;
			size_t before = principal ? proto->nprincipals : proto->nresources;
			size_t after;

			if (*have)
				return fail(p, GH_POLICY_EPARSE, key.line, key.column,
					    "duplicate %s in appliesTo",
					    principal ? "principal" : "resource");
			*have = 1;
			if (next(p) || expect_punct(p, ':'))
				return -1;
			if (principal ? parse_entity_types(p, &proto->principals,
							   &proto->nprincipals,
							   &proto->capprincipals) :
					parse_entity_types(p, &proto->resources, &proto->nresources,
							   &proto->capresources))
				return -1;
			after = principal ? proto->nprincipals : proto->nresources;
			if (after == before)
				return fail(p, GH_POLICY_EPARSE, key.line, key.column,
					    "%s in appliesTo needs at least one entity type",
					    principal ? "principal" : "resource");
		} else if (is_word(&key, "context")) {
			if (have_c)
				return fail(p, GH_POLICY_EPARSE, key.line, key.column,
					    "duplicate context in appliesTo");
			have_c = 1;
			if (next(p) || expect_punct(p, ':'))
				return -1;
			if (is_punct(&p->cur, '{')) {
				proto->context = new_type(p, GHP_SR_RECORD, p->cur.line,
							  p->cur.column);
				if (!proto->context || next(p) ||
				    parse_record_body(p, proto->context))
					return -1;
			} else {
				proto->context = new_type(p, GHP_SR_ENTITY_OR_COMMON, p->cur.line,
							  p->cur.column);
				if (!proto->context ||
				    take_path(p, "a record type or a common type name",
					      &proto->context->name, &proto->context->line,
					      &proto->context->column))
					return -1;
				if (p->cur.kind == T_COLON2) {
					if (next(p))
						return -1;
					return expected(p, "an identifier");
				}
			}
		} else {
			return expected(p, "principal, resource or context");
		}
		if (is_punct(&p->cur, ',')) {
			if (next(p))
				return -1;
		} else if (!is_punct(&p->cur, '}')) {
			return expected(p, "',' or '}'");
		}
	}
	if (!have_p || !have_r)
		return fail(p, GH_POLICY_EPARSE, line, column, "appliesTo of action \"%s\" lacks %s",
			    proto->id, !have_p ? "principal" : "resource");
	return next(p);
}

static int parse_action(parser *p, ghp_sr_ns *ns)
{
	ghp_sr_action proto = {0};
	ghp_sr_action *names = NULL;
	size_t n = 0, cap = 0;

	if (next(p))
		return -1;
	for (;;) {
		ghp_sr_action *a;

		if (ghp_sa_grow(&p->raw->arena, (void **)&names, n, &cap, sizeof(*names)))
			return oom(p);
		a = &names[n++];
		if (take_name(p, "an action name", &a->id, &a->id_len, &a->line, &a->column))
			return -1;
		if (!is_punct(&p->cur, ','))
			break;
		if (next(p))
			return -1;
	}
	if (is_word(&p->cur, "in")) {
		int bracket;

		if (next(p))
			return -1;
		bracket = is_punct(&p->cur, '[');
		if (bracket && next(p))
			return -1;
		for (;;) {
			if (ghp_sa_grow(&p->raw->arena, (void **)&proto.parents, proto.nparents,
					&proto.capparents, sizeof(*proto.parents)))
				return oom(p);
			if (parse_action_ref(p, &proto.parents[proto.nparents++]))
				return -1;
			if (!bracket)
				break;
			if (is_punct(&p->cur, ']')) {
				if (next(p))
					return -1;
				break;
			}
			if (expect_punct(p, ','))
				return -1;
		}
	}
	if (is_word(&p->cur, "appliesTo")) {
		proto.id = names[0].id;
		if (next(p) || parse_applies_to(p, &proto, names[0].line, names[0].column))
			return -1;
	}
	if (is_word(&p->cur, "attributes")) {
		if (next(p) || expect_punct(p, '{'))
			return -1;
		if (!is_punct(&p->cur, '}'))
			return expected(p, "'}' (actions have no attributes)");
		if (next(p))
			return -1;
	}
	if (!is_punct(&p->cur, ';'))
		return expected(p, "'in', 'appliesTo' or ';'");
	if (next(p))
		return -1;
	for (size_t i = 0; i < n; i++) {
		ghp_sr_action *a;

		if (ghp_sa_grow(&p->raw->arena, (void **)&ns->actions, ns->nactions,
				&ns->capactions, sizeof(*ns->actions)))
			return oom(p);
		a = &ns->actions[ns->nactions++];
		*a = proto;
		a->id = names[i].id;
		a->id_len = names[i].id_len;
		a->line = names[i].line;
		a->column = names[i].column;
	}
	return 0;
}

static int parse_common(parser *p, ghp_sr_ns *ns)
{
	ghp_sr_common *c;

	if (next(p))
		return -1;
	if (ghp_sa_grow(&p->raw->arena, (void **)&ns->commons, ns->ncommons, &ns->capcommons,
			sizeof(*ns->commons)))
		return oom(p);
	c = &ns->commons[ns->ncommons++];
	if (take_ident(p, "a type name", &c->name, &c->line, &c->column) || expect_punct(p, '='))
		return -1;
	c->type = parse_type(p);
	if (!c->type)
		return -1;
	return expect_punct(p, ';');
}

/* Decl := Entity | Action | TypeDecl, after its annotations. */
static int parse_decl(parser *p, ghp_sr_ns *ns)
{
	if (is_word(&p->cur, "entity"))
		return parse_entity(p, ns);
	if (is_word(&p->cur, "action"))
		return parse_action(p, ns);
	if (is_word(&p->cur, "type"))
		return parse_common(p, ns);
	return expected(p, ns->name[0] ? "entity, action, type or '}'" :
					 "namespace, entity, action or type");
}

static ghp_sr_ns *new_ns(parser *p, const char *name, int line, int column)
{
	ghp_sr_ns *ns;

	if (ghp_sa_grow(&p->raw->arena, (void **)&p->raw->ns, p->raw->nns, &p->raw->capns,
			sizeof(*p->raw->ns))) {
		oom(p);
		return NULL;
	}
	ns = &p->raw->ns[p->raw->nns++];
	ns->name = name;
	ns->line = line;
	ns->column = column;
	return ns;
}

static int parse_namespace(parser *p)
{
	ghp_sr_ns *ns;
	const char *name;
	int line, column;
	size_t index;

	if (next(p) || take_path(p, "a namespace name", &name, &line, &column))
		return -1;
	if (p->cur.kind == T_COLON2) {
		if (next(p))
			return -1;
		return expected(p, "an identifier");
	}
	ns = new_ns(p, name, line, column);
	if (!ns)
		return -1;
	index = (size_t)(ns - p->raw->ns);
	if (expect_punct(p, '{'))
		return -1;
	while (!is_punct(&p->cur, '}')) {
		if (p->cur.kind == T_EOF)
			return expected(p, "'}'");
		if (skip_annotations(p) || parse_decl(p, &p->raw->ns[index]))
			return -1;
	}
	return next(p);
}

static int parse_schema(parser *p)
{
	if (next(p))
		return -1;
	while (p->cur.kind != T_EOF) {
		if (skip_annotations(p))
			return -1;
		if (is_word(&p->cur, "namespace")) {
			if (parse_namespace(p))
				return -1;
			continue;
		}
		if (!p->empty_ns) {
			if (!new_ns(p, "", 0, 0))
				return -1;
			p->empty_ns = p->raw->nns;
		}
		if (parse_decl(p, &p->raw->ns[p->empty_ns - 1]))
			return -1;
	}
	return 0;
}

/* Finds the first byte that is not UTF-8, for its position. */
static int check_utf8(parser *p, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned cp;
		size_t n = utf8_decode((const unsigned char *)text + i, len - i, &cp);

		if (!n) {
			lexer lx = {text, i, 0, 1, 1};

			advance(&lx, i);
			return fail(p, GH_POLICY_EPARSE, lx.line, lx.column, "invalid UTF-8");
		}
		i += n;
	}
	return 0;
}

int gh_policy_schema_parse(gh_policy_schema **out, const char *text, size_t len,
			   gh_policy_error *err)
{
	ghp_sr_schema raw = {0};
	parser p = {.lx = {text, len, 0, 1, 1}, .raw = &raw, .err = err};
	int rc;

	*out = NULL;
	if (err) {
		err->line = err->column = 0;
		err->message[0] = '\0';
	}
	if (!text && len)
		return ghp_schema_error(err, GH_POLICY_ERROR, 0, 0, "no text");
	if (len > GH_POLICY_MAX_TEXT)
		return ghp_schema_error(err, GH_POLICY_ETOOLARGE, 0, 0,
					"schema text over %u bytes", GH_POLICY_MAX_TEXT);
	if (!text)
		text = p.lx.src = "";
	if (check_utf8(&p, text, len) || parse_schema(&p)) {
		rc = p.code ? p.code : GH_POLICY_ERROR;
		goto cleanup;
	}
	rc = ghp_schema_build(out, &raw, err);
cleanup:
	ghp_sa_free(&raw.arena);
	return rc;
}
