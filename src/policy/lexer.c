/* lexer.c - Cedar policy tokens with line:column, and string literal escapes. */
#include "policy/ast.h"

#include <string.h>

void ghp_lexer_init(ghp_lexer *lx, const char *src, size_t len)
{
	lx->src = src;
	lx->len = len;
	lx->pos = 0;
	lx->line = 1;
	lx->col = 1;
}

static void advance(ghp_lexer *lx)
{
	unsigned char c = (unsigned char)lx->src[lx->pos++];
	if (c == '\n') {
		lx->line++;
		lx->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		lx->col++;
	} else if (lx->col == 1) {
		lx->col++;
	}
}

static int peekc(const ghp_lexer *lx, size_t off)
{
	return lx->pos + off < lx->len ? (unsigned char)lx->src[lx->pos + off] : -1;
}

static int is_ident_start(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ident_char(int c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void lex_error(ghp_token *t, const char *msg)
{
	t->kind = GHP_TOK_ERROR;
	t->text = msg;
	t->len = strlen(msg);
}

void ghp_lex(ghp_lexer *lx, ghp_token *t)
{
	for (;;) {
		int c = peekc(lx, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			advance(lx);
		} else if (c == '/' && peekc(lx, 1) == '/') {
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
				advance(lx);
		} else {
			break;
		}
	}
	memset(t, 0, sizeof(*t));
	t->line = lx->line;
	t->col = lx->col;
	t->text = lx->src + lx->pos;
	if (lx->pos >= lx->len) {
		t->kind = GHP_TOK_EOF;
		return;
	}
	int c = peekc(lx, 0), d = peekc(lx, 1);
	if (is_ident_start(c)) {
		size_t start = lx->pos;
		while (lx->pos < lx->len && is_ident_char(peekc(lx, 0)))
			advance(lx);
		t->kind = GHP_TOK_IDENT;
		t->len = lx->pos - start;
		return;
	}
	if (c >= '0' && c <= '9') {
		uint64_t v = 0;
		int over = 0;
		size_t start = lx->pos;
		while (lx->pos < lx->len && peekc(lx, 0) >= '0' && peekc(lx, 0) <= '9') {
			unsigned dig = (unsigned)(peekc(lx, 0) - '0');
			if (v > (UINT64_C(1) << 63) / 10 ||
			    (v = v * 10 + dig) > (UINT64_C(1) << 63))
				over = 1;
			advance(lx);
		}
		if (over)
			return lex_error(t, "integer literal out of range");
		if (lx->pos < lx->len && is_ident_start(peekc(lx, 0)))
			return lex_error(t, "invalid number");
		t->kind = GHP_TOK_INT;
		t->ival = v;
		t->len = lx->pos - start;
		return;
	}
	if (c == '"') {
		advance(lx);
		size_t start = lx->pos;
		for (;;) {
			if (lx->pos >= lx->len)
				return lex_error(t, "unterminated string literal");
			int e = peekc(lx, 0);
			if (e == '"')
				break;
			if (e == '\\' && lx->pos + 1 < lx->len)
				advance(lx);
			advance(lx);
		}
		t->kind = GHP_TOK_STR;
		t->text = lx->src + start;
		t->len = lx->pos - start;
		advance(lx);
		return;
	}
	ghp_tok_kind k;
	size_t n = 1;
	switch (c) {
	case '(': k = GHP_TOK_LPAREN; break;
	case ')': k = GHP_TOK_RPAREN; break;
	case '[': k = GHP_TOK_LBRACK; break;
	case ']': k = GHP_TOK_RBRACK; break;
	case '{': k = GHP_TOK_LBRACE; break;
	case '}': k = GHP_TOK_RBRACE; break;
	case ',': k = GHP_TOK_COMMA; break;
	case ';': k = GHP_TOK_SEMI; break;
	case '.': k = GHP_TOK_DOT; break;
	case '@': k = GHP_TOK_AT; break;
	case '?': k = GHP_TOK_QUESTION; break;
	case '+': k = GHP_TOK_PLUS; break;
	case '-': k = GHP_TOK_MINUS; break;
	case '*': k = GHP_TOK_STAR; break;
	case ':':
		if (d == ':') {
			k = GHP_TOK_COLON2;
			n = 2;
		} else {
			k = GHP_TOK_COLON;
		}
		break;
	case '=':
		if (d != '=')
			return lex_error(t, "unexpected '=' (use '==')");
		k = GHP_TOK_EQ;
		n = 2;
		break;
	case '!':
		if (d == '=') {
			k = GHP_TOK_NE;
			n = 2;
		} else {
			k = GHP_TOK_NOT;
		}
		break;
	case '<':
		if (d == '=') {
			k = GHP_TOK_LE;
			n = 2;
		} else {
			k = GHP_TOK_LT;
		}
		break;
	case '>':
		if (d == '=') {
			k = GHP_TOK_GE;
			n = 2;
		} else {
			k = GHP_TOK_GT;
		}
		break;
	case '&':
		if (d != '&')
			return lex_error(t, "unexpected '&' (use '&&')");
		k = GHP_TOK_AND;
		n = 2;
		break;
	case '|':
		if (d != '|')
			return lex_error(t, "unexpected '|' (use '||')");
		k = GHP_TOK_OR;
		n = 2;
		break;
	default:
		return lex_error(t, "unexpected character");
	}
	for (size_t i = 0; i < n; i++)
		advance(lx);
	t->kind = k;
	t->len = n;
}

const char *ghp_tok_name(ghp_tok_kind k)
{
	switch (k) {
	case GHP_TOK_EOF: return "end of input";
	case GHP_TOK_IDENT: return "identifier";
	case GHP_TOK_STR: return "string literal";
	case GHP_TOK_INT: return "integer literal";
	case GHP_TOK_LPAREN: return "'('";
	case GHP_TOK_RPAREN: return "')'";
	case GHP_TOK_LBRACK: return "'['";
	case GHP_TOK_RBRACK: return "']'";
	case GHP_TOK_LBRACE: return "'{'";
	case GHP_TOK_RBRACE: return "'}'";
	case GHP_TOK_COMMA: return "','";
	case GHP_TOK_SEMI: return "';'";
	case GHP_TOK_COLON: return "':'";
	case GHP_TOK_COLON2: return "'::'";
	case GHP_TOK_DOT: return "'.'";
	case GHP_TOK_AT: return "'@'";
	case GHP_TOK_QUESTION: return "'?'";
	case GHP_TOK_EQ: return "'=='";
	case GHP_TOK_NE: return "'!='";
	case GHP_TOK_LT: return "'<'";
	case GHP_TOK_LE: return "'<='";
	case GHP_TOK_GT: return "'>'";
	case GHP_TOK_GE: return "'>='";
	case GHP_TOK_AND: return "'&&'";
	case GHP_TOK_OR: return "'||'";
	case GHP_TOK_NOT: return "'!'";
	case GHP_TOK_MINUS: return "'-'";
	case GHP_TOK_PLUS: return "'+'";
	case GHP_TOK_STAR: return "'*'";
	case GHP_TOK_ERROR: return "invalid token";
	}
	return "token";
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t utf8_put(unsigned char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

int ghp_unescape(ghp_arena *a, const char *raw, size_t n, ghp_str *out, unsigned char **stars,
		 const char **msg)
{
	/* The result is never longer than the raw text (\u{...} is at least as long). */
	unsigned char *o = ghp_arena_alloc(a, n + 1);
	unsigned char *st = stars ? ghp_arena_alloc(a, n + 1) : NULL;
	size_t k = 0;

	if (!o || (stars && !st)) {
		*msg = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c != '\\') {
			if (st)
				st[k] = c == '*';
			o[k++] = c;
			continue;
		}
		if (++i >= n) {
			*msg = "invalid escape at end of string";
			return -1;
		}
		c = (unsigned char)raw[i];
		uint32_t cp;
		switch (c) {
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case '0': cp = 0; break;
		case '\\': cp = '\\'; break;
		case '\'': cp = '\''; break;
		case '"': cp = '"'; break;
		case '*':
			if (!st) {
				*msg = "invalid escape \\* (only allowed in like patterns)";
				return -1;
			}
			cp = '*';
			break;
		case 'x': {
			int h1 = i + 1 < n ? hexval((unsigned char)raw[i + 1]) : -1;
			int h2 = i + 2 < n ? hexval((unsigned char)raw[i + 2]) : -1;
			if (h1 < 0 || h2 < 0 || h1 > 7) {
				*msg = "invalid \\x escape (two hex digits, at most \\x7f)";
				return -1;
			}
			cp = (uint32_t)(h1 * 16 + h2);
			i += 2;
			break;
		}
		case 'u': {
			if (i + 1 >= n || raw[i + 1] != '{') {
				*msg = "invalid \\u escape (expected \\u{...})";
				return -1;
			}
			i += 2;
			cp = 0;
			int digits = 0;
			while (i < n && raw[i] != '}') {
				int h = hexval((unsigned char)raw[i]);
				if (h < 0 || ++digits > 6) {
					*msg = "invalid \\u escape (1 to 6 hex digits)";
					return -1;
				}
				cp = cp * 16 + (uint32_t)h;
				i++;
			}
			if (i >= n || digits == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
				*msg = "invalid \\u escape (not a Unicode scalar value)";
				return -1;
			}
			break;
		}
		default:
			*msg = "invalid escape sequence";
			return -1;
		}
		size_t w = utf8_put(o + k, cp);
		if (st)
			memset(st + k, 0, w);
		k += w;
	}
	o[k] = 0;
	out->p = (const char *)o;
	out->n = k;
	if (stars)
		*stars = st;
	return 0;
}
