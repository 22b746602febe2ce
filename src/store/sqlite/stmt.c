/* stmt.c - the statement interface (store/sql.h) over SQLite: a gh_sql
 * wraps an sqlite3_stmt of the connection the calling thread uses. */
#include "store/sqlite/sqlite_internal.h"
#include "common/error.h"

#include <stdlib.h>

static sqlite3_stmt *st(gh_sql *q)
{
	return ((sqlite_sql *)q)->st;
}

/* Only for gh_sql_prepare_once's statements, which are allocated. */
static void finalize(gh_sql *q)
{
	sqlite3_finalize(st(q));
	free(q);
}

static void bind_text(gh_sql *q, int i, const char *v)
{
	sqlite3_bind_text(st(q), i, v, -1, SQLITE_TRANSIENT);
}

static void bind_int64(gh_sql *q, int i, int64_t v)
{
	sqlite3_bind_int64(st(q), i, v);
}

static void bind_double(gh_sql *q, int i, double v)
{
	sqlite3_bind_double(st(q), i, v);
}

static void bind_blob(gh_sql *q, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(st(q), i, p, n, SQLITE_TRANSIENT);
}

static void bind_null(gh_sql *q, int i)
{
	sqlite3_bind_null(st(q), i);
}

static int step(gh_sql *q)
{
	switch (sqlite3_step(st(q))) {
	case SQLITE_ROW:
		return GH_SQL_ROW;
	case SQLITE_DONE:
		return GH_SQL_DONE;
	default:
		return GH_SQL_FAIL;
	}
}

static void reset(gh_sql *q)
{
	sqlite3_reset(st(q));
}

static int fail(gh_sql *q, const char *what)
{
	sqlite3 *db = sqlite3_db_handle(st(q));
	int code = (sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT ? GH_ECONFLICT : GH_ERROR;

	return gh_error_set(code, "%s: %s", what, sqlite3_errmsg(db));
}

static int changes(gh_sql *q)
{
	return sqlite3_changes(sqlite3_db_handle(st(q)));
}

static int column_null(gh_sql *q, int col)
{
	return sqlite3_column_type(st(q), col) == SQLITE_NULL;
}

static const char *column_text(gh_sql *q, int col)
{
	return (const char *)sqlite3_column_text(st(q), col);
}

static int64_t column_int64(gh_sql *q, int col)
{
	return sqlite3_column_int64(st(q), col);
}

static double column_double(gh_sql *q, int col)
{
	return sqlite3_column_double(st(q), col);
}

static const void *column_blob(gh_sql *q, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(st(q), col);

	*n = (size_t)sqlite3_column_bytes(st(q), col);
	return p;
}

const gh_sql_ops gh_sqlite_sql_ops = {
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
