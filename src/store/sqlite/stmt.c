/* stmt.c - the statement interface (store/sql.h) over SQLite: a gh_sql is an
 * sqlite3_stmt of the connection the calling thread uses on the store. */
#include "store/sql.h"
#include "common/error.h"

#include <sqlite3.h>

static sqlite3_stmt *st(gh_sql *q)
{
	return (sqlite3_stmt *)q;
}

int gh_sql_prepare(gh_sql **out, gh_store *s, const char *sql)
{
	return gh_store_stmt((sqlite3_stmt **)out, s, sql);
}

int gh_sql_prepare_once(gh_sql **out, gh_store *s, const char *sql)
{
	*out = NULL;
	if (sqlite3_prepare_v2(gh_store_db(s), sql, -1, (sqlite3_stmt **)out, NULL) != SQLITE_OK)
		return gh_store_fail(s, "preparing a statement");
	return 0;
}

void gh_sql_finalize(gh_sql *q)
{
	sqlite3_finalize(st(q));
}

void gh_sql_bind_text(gh_sql *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st(q), i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st(q), i);
}

void gh_sql_bind_int(gh_sql *q, int i, int v)
{
	sqlite3_bind_int(st(q), i, v);
}

void gh_sql_bind_int64(gh_sql *q, int i, int64_t v)
{
	sqlite3_bind_int64(st(q), i, v);
}

void gh_sql_bind_double(gh_sql *q, int i, double v)
{
	sqlite3_bind_double(st(q), i, v);
}

void gh_sql_bind_blob(gh_sql *q, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(st(q), i, p, n, SQLITE_TRANSIENT);
}

void gh_sql_bind_null(gh_sql *q, int i)
{
	sqlite3_bind_null(st(q), i);
}

int gh_sql_step(gh_sql *q)
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

void gh_sql_reset(gh_sql *q)
{
	sqlite3_reset(st(q));
}

int gh_sql_fail(gh_sql *q, const char *what)
{
	sqlite3 *db = sqlite3_db_handle(st(q));
	int code = (sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT ? GH_ECONFLICT : GH_ERROR;

	return gh_error_set(code, "%s: %s", what, sqlite3_errmsg(db));
}

int gh_sql_changes(gh_sql *q)
{
	return sqlite3_changes(sqlite3_db_handle(st(q)));
}

int gh_sql_column_null(gh_sql *q, int col)
{
	return sqlite3_column_type(st(q), col) == SQLITE_NULL;
}

const char *gh_sql_column_text(gh_sql *q, int col)
{
	return (const char *)sqlite3_column_text(st(q), col);
}

int gh_sql_column_int(gh_sql *q, int col)
{
	return sqlite3_column_int(st(q), col);
}

int64_t gh_sql_column_int64(gh_sql *q, int col)
{
	return sqlite3_column_int64(st(q), col);
}

double gh_sql_column_double(gh_sql *q, int col)
{
	return sqlite3_column_double(st(q), col);
}

const void *gh_sql_column_blob(gh_sql *q, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(st(q), col);

	*n = (size_t)sqlite3_column_bytes(st(q), col);
	return p;
}

int gh_sql_exec(gh_store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(gh_store_db(s), sql, NULL, NULL, NULL) != SQLITE_OK)
		return gh_store_fail(s, what);
	return 0;
}
