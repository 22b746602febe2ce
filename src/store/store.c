/* store.c - the store's public functions (store/store.h, store/sql.h):
 * picks a backend by the target's form and dispatches through its table. */
#include "store/backend.h"
#include "common/error.h"

#include <string.h>
#include <strings.h>

/* A libpq URL names PostgreSQL; anything else is an SQLite path. */
static int is_postgres_url(const char *target)
{
	return strncasecmp(target, "postgresql://", 13) == 0 ||
	       strncasecmp(target, "postgres://", 11) == 0;
}

int gh_store_open(gh_store **out, const char *target, int create)
{
	*out = NULL;
	if (!target || !*target)
		return gh_error_set(GH_EINVALID, "no database given");
	if (is_postgres_url(target))
		return gh_store_postgres_open(out, target, create);
	return gh_store_sqlite_open(out, target, create);
}

void gh_store_free(gh_store *s)
{
	if (s)
		s->be->free(s);
}

const char *gh_store_backend_name(gh_store *s)
{
	return s->be->name;
}

int gh_store_version(gh_store *s)
{
	return s->be->version(s);
}

int gh_store_begin(gh_store *s)
{
	return s->be->begin(s);
}

int gh_store_commit(gh_store *s)
{
	return s->be->commit(s);
}

void gh_store_rollback(gh_store *s)
{
	s->be->rollback(s);
}

int gh_store_trial_begin(gh_store *s)
{
	return s->be->trial_begin(s);
}

int gh_store_trial_keep(gh_store *s)
{
	return s->be->trial_keep(s);
}

int gh_store_trial_undo(gh_store *s)
{
	return s->be->trial_undo(s);
}

void gh_store_read_begin(gh_store *s)
{
	s->be->read_begin(s);
}

void gh_store_read_end(gh_store *s)
{
	s->be->read_end(s);
}

void gh_store_limit_readers(gh_store *s, int max)
{
	s->be->limit_readers(s, max);
}

void gh_store_exclusive_begin(gh_store *s)
{
	s->be->exclusive_begin(s);
}

void gh_store_exclusive_end(gh_store *s)
{
	s->be->exclusive_end(s);
}

gh_store_log_cache *gh_store_log_cached(gh_store *s)
{
	return s->be->log_cached(s);
}

void gh_store_before_release(gh_store *s, int (*fn)(gh_store *s, void *ctx), void *ctx)
{
	s->be->before_release(s, fn, ctx);
}

void gh_store_after_wait(gh_store *s, void (*fn)(gh_store *s, void *ctx), void *ctx)
{
	s->be->after_wait(s, fn, ctx);
}

void gh_store_after_commit(gh_store *s, void (*fn)(void *ctx, int64_t seq), void *ctx)
{
	s->be->after_commit(s, fn, ctx);
}

/* --- statements (store/sql.h) ----------------------------------------------- */

static const gh_sql_ops *ops(gh_sql *q)
{
	return q->ops;
}

int gh_sql_prepare(gh_sql **out, gh_store *s, const char *sql)
{
	return s->be->prepare(out, s, sql);
}

int gh_sql_prepare_dialect(gh_sql **out, gh_store *s, const char *sqlite_sql,
			   const char *postgresql_sql)
{
	return s->be->prepare(out, s, s->be->dialect == GH_SQL_POSTGRESQL ? postgresql_sql : sqlite_sql);
}

int gh_sql_dialect(gh_store *s)
{
	return s->be->dialect;
}

int gh_sql_prepare_once(gh_sql **out, gh_store *s, const char *sql)
{
	return s->be->prepare_once(out, s, sql);
}

void gh_sql_finalize(gh_sql *q)
{
	if (q)
		ops(q)->finalize(q);
}

void gh_sql_bind_text(gh_sql *q, int i, const char *v)
{
	if (v)
		ops(q)->bind_text(q, i, v);
	else
		ops(q)->bind_null(q, i);
}

void gh_sql_bind_int(gh_sql *q, int i, int v)
{
	ops(q)->bind_int64(q, i, v);
}

void gh_sql_bind_int64(gh_sql *q, int i, int64_t v)
{
	ops(q)->bind_int64(q, i, v);
}

void gh_sql_bind_double(gh_sql *q, int i, double v)
{
	ops(q)->bind_double(q, i, v);
}

void gh_sql_bind_blob(gh_sql *q, int i, const void *p, size_t n)
{
	ops(q)->bind_blob(q, i, p, n);
}

void gh_sql_bind_null(gh_sql *q, int i)
{
	ops(q)->bind_null(q, i);
}

int gh_sql_step(gh_sql *q)
{
	return ops(q)->step(q);
}

void gh_sql_reset(gh_sql *q)
{
	ops(q)->reset(q);
}

int gh_sql_fail(gh_sql *q, const char *what)
{
	return ops(q)->fail(q, what);
}

int gh_sql_changes(gh_sql *q)
{
	return ops(q)->changes(q);
}

int gh_sql_column_null(gh_sql *q, int col)
{
	return ops(q)->column_null(q, col);
}

const char *gh_sql_column_text(gh_sql *q, int col)
{
	return ops(q)->column_text(q, col);
}

int gh_sql_column_int(gh_sql *q, int col)
{
	return (int)ops(q)->column_int64(q, col);
}

int64_t gh_sql_column_int64(gh_sql *q, int col)
{
	return ops(q)->column_int64(q, col);
}

double gh_sql_column_double(gh_sql *q, int col)
{
	return ops(q)->column_double(q, col);
}

const void *gh_sql_column_blob(gh_sql *q, int col, size_t *n)
{
	return ops(q)->column_blob(q, col, n);
}

int gh_sql_exec(gh_store *s, const char *sql, const char *what)
{
	return s->be->exec(s, sql, what);
}
