/* ast.h - (internal) tokens, the expression tree, policies and the policy set. */
#ifndef GH_POLICY_AST_H
#define GH_POLICY_AST_H

#include "policy/policy.h"
#include "policy/value.h"

/* --- lexer ----------------------------------------------------------- */

typedef enum ghp_tok_kind {
	GHP_TOK_EOF,
	GHP_TOK_IDENT,
	GHP_TOK_STR,               /* text: the raw bytes between the quotes, escapes unresolved */
	GHP_TOK_INT,               /* ival: 0..2^63 (the minus sign is a separate token) */
	GHP_TOK_LPAREN, GHP_TOK_RPAREN, GHP_TOK_LBRACK, GHP_TOK_RBRACK,
	GHP_TOK_LBRACE, GHP_TOK_RBRACE, GHP_TOK_COMMA, GHP_TOK_SEMI, GHP_TOK_COLON,
	GHP_TOK_COLON2, GHP_TOK_DOT, GHP_TOK_AT, GHP_TOK_QUESTION,
	GHP_TOK_EQ, GHP_TOK_NE, GHP_TOK_LT, GHP_TOK_LE, GHP_TOK_GT, GHP_TOK_GE,
	GHP_TOK_AND, GHP_TOK_OR, GHP_TOK_NOT, GHP_TOK_MINUS, GHP_TOK_PLUS, GHP_TOK_STAR,
	GHP_TOK_ERROR,             /* text: the message */
} ghp_tok_kind;

typedef struct ghp_token {
	ghp_tok_kind kind;
	const char *text;
	size_t len;
	uint64_t ival;
	int line, col;
} ghp_token;

typedef struct ghp_lexer {
	const char *src;
	size_t len, pos;
	int line, col;
} ghp_lexer;

void ghp_lexer_init(ghp_lexer *lx, const char *src, size_t len);
void ghp_lex(ghp_lexer *lx, ghp_token *out);
const char *ghp_tok_name(ghp_tok_kind k);
/* Resolves a string literal's escapes into the arena (star_out != NULL: a
 * like pattern, where \* is a literal star and stars[i] marks wildcards).
 * -1 with a message on a bad escape. */
int ghp_unescape(ghp_arena *a, const char *raw, size_t n, ghp_str *out, unsigned char **stars,
		 const char **msg);

/* --- expressions ----------------------------------------------------- */

typedef enum ghp_expr_kind {
	GHP_X_LIT, GHP_X_VAR, GHP_X_SLOT, GHP_X_IF, GHP_X_AND, GHP_X_OR, GHP_X_NOT, GHP_X_NEG,
	GHP_X_EQ, GHP_X_NE, GHP_X_LT, GHP_X_LE, GHP_X_GT, GHP_X_GE, GHP_X_IN,
	GHP_X_ADD, GHP_X_SUB, GHP_X_MUL,
	GHP_X_HAS,                 /* a[0] has keys[0].keys[1]... */
	GHP_X_LIKE,                /* a[0] like (name, stars) */
	GHP_X_IS,                  /* a[0] is name [in a[1]] */
	GHP_X_ATTR,                /* a[0].name or a[0]["name"] */
	GHP_X_METHOD,              /* a[0].op(a[1..]) */
	GHP_X_CALL,                /* op(a[0..]) */
	GHP_X_SET, GHP_X_RECORD,   /* record: keys[i] -> a[i] */
} ghp_expr_kind;

typedef enum ghp_var { GHP_VAR_PRINCIPAL, GHP_VAR_ACTION, GHP_VAR_RESOURCE, GHP_VAR_CONTEXT } ghp_var;

typedef enum ghp_fn {
	GHP_FN_CONTAINS, GHP_FN_CONTAINS_ALL, GHP_FN_CONTAINS_ANY, GHP_FN_IS_EMPTY,
	GHP_FN_GET_TAG, GHP_FN_HAS_TAG,
	GHP_FN_LESS_THAN, GHP_FN_LESS_THAN_OR_EQUAL, GHP_FN_GREATER_THAN,
	GHP_FN_GREATER_THAN_OR_EQUAL,
	GHP_FN_IS_IPV4, GHP_FN_IS_IPV6, GHP_FN_IS_LOOPBACK, GHP_FN_IS_MULTICAST, GHP_FN_IS_IN_RANGE,
	GHP_FN_OFFSET, GHP_FN_DURATION_SINCE, GHP_FN_TO_DATE, GHP_FN_TO_TIME,
	GHP_FN_TO_DAYS, GHP_FN_TO_HOURS, GHP_FN_TO_MINUTES, GHP_FN_TO_SECONDS,
	GHP_FN_TO_MILLISECONDS,
	/* functions */
	GHP_FN_IP, GHP_FN_DECIMAL, GHP_FN_DATETIME, GHP_FN_DURATION,
	GHP_FN_COUNT_,
} ghp_fn;

typedef struct ghp_fn_info {
	const char *name;
	int nargs;                 /* arguments besides the receiver */
	int method;
} ghp_fn_info;
extern const ghp_fn_info ghp_fns[GHP_FN_COUNT_];

typedef struct ghp_expr ghp_expr;
struct ghp_expr {
	ghp_expr_kind kind;
	int op;                    /* ghp_var for VAR and SLOT, ghp_fn for METHOD and CALL */
	int line, col;
	ghp_value lit;             /* LIT */
	ghp_str name;              /* attr, is-type, like pattern, function path */
	const unsigned char *stars;  /* LIKE: 1 where name[i] is a wildcard */
	size_t n;
	ghp_expr **a;
	ghp_str *keys;             /* RECORD keys (n), HAS path (nkeys) */
	size_t nkeys;
	int h;                     /* tree height, capped at parse time */
};

/* --- policies -------------------------------------------------------- */

typedef enum ghp_scope_op {
	GHP_SC_ANY, GHP_SC_EQ, GHP_SC_IN, GHP_SC_IS, GHP_SC_IS_IN, GHP_SC_IN_SET,
} ghp_scope_op;

typedef struct ghp_scope {
	ghp_scope_op op;
	int slot;                  /* 1: the entity is the template slot ?principal / ?resource */
	ghp_str is_type;           /* IS, IS_IN */
	const ghp_euid *uid;       /* EQ, IN, IS_IN (NULL when slot) */
	size_t nuids;              /* IN_SET (action only) */
	const ghp_euid **uids;
} ghp_scope;

typedef struct ghp_cond {
	int when;                  /* 1 when, 0 unless */
	ghp_expr *expr;
} ghp_cond;

typedef struct ghp_annotation {
	const char *key;
	const char *value;         /* "" when absent */
	int has_value;
} ghp_annotation;

typedef struct ghp_policy {
	const char *id;
	int forbid;
	int line, col;
	ghp_scope principal, action, resource;
	size_t nconds;
	ghp_cond *conds;
	size_t nannots;
	ghp_annotation *annots;
	int is_template;           /* has a slot; not evaluated unless linked */
	const char *template_id;   /* for a link: the template it instantiates */
	const ghp_euid *link_principal, *link_resource;
} ghp_policy;

typedef struct ghp_index ghp_index;

struct gh_policy_set {
	ghp_arena arena;
	size_t n, cap;
	ghp_policy **policies;
	ghp_index *index;          /* scope index, built on first authorization (authorize.c) */
};

/* Parses text into ps (appending); fills err on failure. */
int ghp_parse(gh_policy_set *ps, const char *text, size_t len, gh_policy_error *err);
int ghp_policy_set_add(gh_policy_set *ps, ghp_policy *p);

#endif
