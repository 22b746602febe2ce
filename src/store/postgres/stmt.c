/* stmt.c - the statement interface (store/sql.h) over libpq: statements are
 * prepared once per connection (named gh1, gh2, ...), parameters go as text
 * (blobs as binary), results come back as text and integers are parsed. */
#include "store/postgres/pg.h"
#include "common/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BYTEAOID 17   /* pg_type.h, which is not part of libpq's headers */

struct gh_pg_sql {
	gh_sql base;           /* first: its table, &gh_pg_sql_ops */
	gh_pg_conn *c;
	char name[16];         /* the prepared statement; "" for a one-off */
	char *text;            /* a one-off's SQL, placeholders rewritten */
	int nparams;
	char **values;         /* bound parameters; NULL binds NULL */
	int *lengths, *formats;
	PGresult *res;         /* the executed statement's rows */
	int row, nrows;
	int failed;            /* the last step failed: err and state say why */
	unsigned char **blobs; /* bytea columns of the current row, decoded */
	size_t *blob_lens;
	int ncols;
	char *err;
	int code;
};


char *gh_pg_placeholders(const char *sql, int *nparams)
{
	size_t n = strlen(sql);
	char *out = malloc(n * 4 + 16), *o = out;
	int next = 0, max = 0;

	if (!out)
		return NULL;
	for (const char *p = sql; *p;) {
		if (*p == '\'' || *p == '"') {
			char quote = *p;
			*o++ = *p++;
			while (*p && *p != quote)
				*o++ = *p++;   /* a doubled quote ends and starts again */
			if (*p)
				*o++ = *p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				*o++ = *p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			size_t len = end ? (size_t)(end + 2 - p) : strlen(p);
			memcpy(o, p, len);
			o += len;
			p += len;
		} else if (*p == '?') {
			int k = 0;
			p++;
			if (*p >= '0' && *p <= '9') {
				while (*p >= '0' && *p <= '9' && k < 100000)
					k = k * 10 + (*p++ - '0');
			} else {
				k = ++next;
			}
			if (k > max)
				max = k;
			o += sprintf(o, "$%d", k);
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	*nparams = max;
	return out;
}

int gh_pg_error_code(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return state && strncmp(state, "23", 2) == 0 ? GH_ECONFLICT : GH_ERROR;
}

/* The server's message without its trailing newline. */
static void set_error(gh_pg_sql *q, const PGresult *r)
{
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(q->c->db);
	size_t n = strlen(m);

	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	free(q->err);
	q->err = strndup(m, n);
	q->code = gh_pg_error_code(r);
	q->failed = 1;
}

static void clear_blobs(gh_pg_sql *q)
{
	for (int i = 0; i < q->ncols; i++) {
		PQfreemem(q->blobs[i]);
		q->blobs[i] = NULL;
	}
}

static void clear_result(gh_pg_sql *q)
{
	clear_blobs(q);
	free(q->blobs);
	free(q->blob_lens);
	q->blobs = NULL;
	q->blob_lens = NULL;
	q->ncols = 0;
	PQclear(q->res);
	q->res = NULL;
	q->row = q->nrows = 0;
	q->failed = 0;
}

static void clear_bindings(gh_pg_sql *q)
{
	for (int i = 0; i < q->nparams; i++) {
		free(q->values[i]);
		q->values[i] = NULL;
		q->lengths[i] = 0;
		q->formats[i] = 0;
	}
}

static void sql_free(gh_pg_sql *q)
{
	if (!q)
		return;
	clear_result(q);
	clear_bindings(q);
	free(q->values);
	free(q->lengths);
	free(q->formats);
	free(q->text);
	free(q->err);
	free(q);
}

static gh_pg_sql *sql_new(gh_pg_conn *c, int nparams)
{
	gh_pg_sql *q = calloc(1, sizeof(*q));
	size_t n = nparams > 0 ? (size_t)nparams : 1;

	if (!q)
		return NULL;
	q->base.ops = &gh_pg_sql_ops;
	q->c = c;
	q->nparams = nparams;
	q->values = calloc(n, sizeof(*q->values));
	q->lengths = calloc(n, sizeof(*q->lengths));
	q->formats = calloc(n, sizeof(*q->formats));
	if (!q->values || !q->lengths || !q->formats) {
		sql_free(q);
		return NULL;
	}
	return q;
}

int gh_pg_prepare(gh_sql **out, gh_pg_conn *c, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % GH_PG_STMT_CACHE;
	gh_pg_sql *q;
	PGresult *r;
	char *text;
	int nparams, rc;

	*out = NULL;
	for (size_t i = 0; i < GH_PG_STMT_CACHE; i++) {
		size_t k = (h + i) % GH_PG_STMT_CACHE;
		if (c->cache[k].sql == sql) {
			q = c->cache[k].q;
			clear_result(q);
			clear_bindings(q);
			*out = &q->base;
			return 0;
		}
		if (c->cache[k].sql)
			continue;
		if (!(text = gh_pg_placeholders(sql, &nparams)))
			return gh_error_set(GH_ERROR, "out of memory");
		if (!(q = sql_new(c, nparams))) {
			free(text);
			return gh_error_set(GH_ERROR, "out of memory");
		}
		snprintf(q->name, sizeof(q->name), "gh%u", ++c->next_name);
		r = PQprepare(c->db, q->name, text, nparams, NULL);
		free(text);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			set_error(q, r);
			rc = gh_error_set(q->code, "preparing a statement: %s", q->err);
			PQclear(r);
			sql_free(q);
			return rc;
		}
		PQclear(r);
		c->cache[k].sql = sql;
		c->cache[k].q = q;
		*out = &q->base;
		return 0;
	}
	return gh_error_set(GH_ERROR, "statement cache is full");
}

int gh_pg_prepare_once(gh_sql **out, gh_pg_conn *c, const char *sql)
{
	gh_pg_sql *q;
	char *text;
	int nparams;

	*out = NULL;
	if (!(text = gh_pg_placeholders(sql, &nparams)))
		return gh_error_set(GH_ERROR, "out of memory");
	if (!(q = sql_new(c, nparams))) {
		free(text);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	q->text = text;   /* run with PQexecParams: nothing to deallocate */
	*out = &q->base;
	return 0;
}

void gh_pg_conn_forget(gh_pg_conn *c)
{
	for (size_t i = 0; i < GH_PG_STMT_CACHE; i++) {
		sql_free(c->cache[i].q);
		c->cache[i].sql = NULL;
		c->cache[i].q = NULL;
	}
}

static gh_pg_sql *pq(gh_sql *q)
{
	return (gh_pg_sql *)q;
}

static void finalize(gh_sql *q)
{
	if (pq(q)->text)   /* cached statements belong to their connection */
		sql_free(pq(q));
}

/* Sets parameter i (from 1) to a copy of n bytes of v, as text or binary. */
static void bind(gh_pg_sql *q, int i, const void *v, size_t n, int binary)
{
	char *copy;

	if (i < 1 || i > q->nparams)
		return;   /* like SQLite: an index out of range binds nothing */
	free(q->values[i - 1]);
	q->values[i - 1] = NULL;
	if (!v || !(copy = malloc(n + 1)))
		return;   /* out of memory binds NULL; NOT NULL constraints catch it */
	memcpy(copy, v, n);
	copy[n] = '\0';
	q->values[i - 1] = copy;
	q->lengths[i - 1] = (int)n;
	q->formats[i - 1] = binary;
}

static void bind_text(gh_sql *q, int i, const char *v)
{
	bind(pq(q), i, v, strlen(v), 0);
}

static void bind_int64(gh_sql *q, int i, int64_t v)
{
	char buf[24];

	bind(pq(q), i, buf, (size_t)snprintf(buf, sizeof(buf), "%" PRId64, v), 0);
}

static void bind_double(gh_sql *q, int i, double v)
{
	char buf[40];

	bind(pq(q), i, buf, (size_t)snprintf(buf, sizeof(buf), "%.17g", v), 0);
}

static void bind_blob(gh_sql *q, int i, const void *p, size_t n)
{
	static const char empty[1];

	bind(pq(q), i, p ? p : empty, n, 1);
}

static void bind_null(gh_sql *q, int i)
{
	bind(pq(q), i, NULL, 0, 0);
}

/* Rows changed, from a result's command tag (INSERT 0 n, UPDATE n, DELETE n). */
static void note_changes(gh_pg_conn *c, PGresult *r)
{
	const char *tag = PQcmdStatus(r);

	if (strncmp(tag, "INSERT", 6) == 0 || strncmp(tag, "UPDATE", 6) == 0 ||
	    strncmp(tag, "DELETE", 6) == 0 || strncmp(tag, "MERGE", 5) == 0)
		c->changes = atoi(PQcmdTuples(r));
}

static int execute(gh_pg_sql *q)
{
	const char *const *values = (const char *const *)q->values;
	PGresult *r;

	if (q->text)
		r = PQexecParams(q->c->db, q->text, q->nparams, NULL, values, q->lengths,
				 q->formats, 0);
	else
		r = PQexecPrepared(q->c->db, q->name, q->nparams, values, q->lengths, q->formats, 0);
	switch (PQresultStatus(r)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		note_changes(q->c, r);
		q->res = r;
		q->nrows = PQntuples(r);
		q->row = -1;
		q->ncols = PQnfields(r);
		if (q->ncols > 0) {
			q->blobs = calloc((size_t)q->ncols, sizeof(*q->blobs));
			q->blob_lens = calloc((size_t)q->ncols, sizeof(*q->blob_lens));
			if (!q->blobs || !q->blob_lens) {
				clear_result(q);
				q->err = strdup("out of memory");
				q->code = GH_ERROR;
				q->failed = 1;
				return GH_SQL_FAIL;
			}
		}
		return 0;
	default:
		set_error(q, r);
		PQclear(r);
		return GH_SQL_FAIL;
	}
}

static int step(gh_sql *g)
{
	gh_pg_sql *q = pq(g);

	if (q->failed)
		return GH_SQL_FAIL;
	if (!q->res && execute(q) == GH_SQL_FAIL)
		return GH_SQL_FAIL;
	clear_blobs(q);
	if (q->row < q->nrows)
		q->row++;
	return q->row < q->nrows ? GH_SQL_ROW : GH_SQL_DONE;
}

static void reset(gh_sql *q)
{
	clear_result(pq(q));
}

static int fail(gh_sql *g, const char *what)
{
	gh_pg_sql *q = pq(g);

	if (!q->failed)
		return gh_error_set(GH_ERROR, "%s: a statement failed", what);
	return gh_error_set(q->code, "%s: %s", what, q->err ? q->err : "out of memory");
}

static int changes(gh_sql *q)
{
	return pq(q)->c->changes;
}

static int has_row(gh_pg_sql *q, int col)
{
	return q->res && q->row >= 0 && q->row < q->nrows && col >= 0 && col < q->ncols;
}

static int column_null(gh_sql *g, int col)
{
	gh_pg_sql *q = pq(g);

	return !has_row(q, col) || PQgetisnull(q->res, q->row, col);
}

static const char *column_text(gh_sql *g, int col)
{
	gh_pg_sql *q = pq(g);

	return column_null(g, col) ? NULL : PQgetvalue(q->res, q->row, col);
}

/* Integers as SQLite gives them: booleans are 1 and 0, NULL and text that is
 * not a number 0. */
static int64_t column_int64(gh_sql *g, int col)
{
	const char *t = column_text(g, col);

	if (!t)
		return 0;
	if (t[0] == 't' && !t[1])
		return 1;
	return (int64_t)strtoll(t, NULL, 10);
}

static double column_double(gh_sql *g, int col)
{
	const char *t = column_text(g, col);

	return t ? strtod(t, NULL) : 0.0;
}

static const void *column_blob(gh_sql *g, int col, size_t *n)
{
	gh_pg_sql *q = pq(g);
	const char *t = column_text(g, col);

	*n = 0;
	if (!t)
		return NULL;
	if (PQftype(q->res, col) != BYTEAOID) {
		*n = (size_t)PQgetlength(q->res, q->row, col);
		return t;
	}
	if (!q->blobs[col])
		q->blobs[col] = PQunescapeBytea((const unsigned char *)t, &q->blob_lens[col]);
	*n = q->blobs[col] ? q->blob_lens[col] : 0;
	return q->blobs[col];
}

const gh_sql_ops gh_pg_sql_ops = {
	.finalize = finalize,
	.bind_text = bind_text,
	.bind_int64 = bind_int64,
	.bind_double = bind_double,
	.bind_blob = bind_blob,
	.bind_null = bind_null,
	.step = step,
	.reset = reset,
	.fail = fail,
	.changes = changes,
	.column_null = column_null,
	.column_text = column_text,
	.column_int64 = column_int64,
	.column_double = column_double,
	.column_blob = column_blob,
};
