/* backend.h - the table of functions a storage backend implements, for the
 * store's own files only (src/store/store.c dispatches through it).
 *
 * A backend's store is a struct whose first member is a gh_store, and a
 * backend's statement one whose first member is a gh_sql (so each converts
 * to it): the store carries its backend's table, the statement its
 * statement table. The public functions of store/store.h and store/sql.h
 * call these entries; their contracts are the ones documented there. */
#ifndef GH_STORE_BACKEND_H
#define GH_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "store/sql.h"
#include "store/store.h"

typedef struct gh_store_backend gh_store_backend;
typedef struct gh_sql_ops gh_sql_ops;

struct gh_store {
	const gh_store_backend *be;
};

struct gh_sql {
	const gh_sql_ops *ops;
};

struct gh_store_backend {
	const char *name;   /* "sqlite", "postgresql": in messages */
	int dialect;        /* GH_SQL_SQLITE or GH_SQL_POSTGRESQL (store/sql.h) */
	void (*free)(gh_store *s);
	int (*version)(gh_store *s);

	int (*begin)(gh_store *s);
	int (*commit)(gh_store *s);
	void (*rollback)(gh_store *s);
	int (*trial_begin)(gh_store *s);
	int (*trial_keep)(gh_store *s);
	int (*trial_undo)(gh_store *s);
	void (*read_begin)(gh_store *s);
	void (*read_end)(gh_store *s);
	void (*limit_readers)(gh_store *s, int max);
	void (*exclusive_begin)(gh_store *s);
	void (*exclusive_end)(gh_store *s);

	gh_store_log_cache *(*log_cached)(gh_store *s);
	void (*before_release)(gh_store *s, int (*fn)(gh_store *s, void *ctx), void *ctx);
	void (*after_wait)(gh_store *s, void (*fn)(gh_store *s, void *ctx), void *ctx);
	void (*after_commit)(gh_store *s, void (*fn)(void *ctx, int64_t seq), void *ctx);

	/* statements of store/sql.h, on the connection the calling thread uses */
	int (*prepare)(gh_sql **out, gh_store *s, const char *sql);
	int (*prepare_once)(gh_sql **out, gh_store *s, const char *sql);
	int (*exec)(gh_store *s, const char *sql, const char *what);
};

/* What a statement does, whichever store made it. */
struct gh_sql_ops {
	void (*finalize)(gh_sql *q);   /* only for gh_sql_prepare_once's */
	void (*bind_text)(gh_sql *q, int i, const char *v);   /* v not NULL */
	void (*bind_int64)(gh_sql *q, int i, int64_t v);
	void (*bind_double)(gh_sql *q, int i, double v);
	void (*bind_blob)(gh_sql *q, int i, const void *p, size_t n);
	void (*bind_null)(gh_sql *q, int i);
	int (*step)(gh_sql *q);
	void (*reset)(gh_sql *q);
	int (*fail)(gh_sql *q, const char *what);
	int (*changes)(gh_sql *q);
	int (*column_null)(gh_sql *q, int col);
	const char *(*column_text)(gh_sql *q, int col);
	int64_t (*column_int64)(gh_sql *q, int col);
	double (*column_double)(gh_sql *q, int col);
	const void *(*column_blob)(gh_sql *q, int col, size_t *n);
};

/* The statement tables of the two backends. */
extern const gh_sql_ops gh_sqlite_sql_ops;
extern const gh_sql_ops gh_pg_sql_ops;

/* The backends' open functions (gh_store_open picks one by the target). */
int gh_store_sqlite_open(gh_store **out, const char *path, int create);
int gh_store_postgres_open(gh_store **out, const char *url, int create);

/* Schema migrations, one list for both backends (store/migrations.c). Append
 * new versions at the end, each with both forms; never edit a shipped one. */
typedef struct gh_migration {
	int version;
	const char *name;
	const char *sqlite;     /* SQLite's statements */
	const char *postgres;   /* PostgreSQL's; NULL before the PostgreSQL
				 * baseline (see gh_store_postgres_baseline) */
} gh_migration;

extern const gh_migration gh_store_migrations[];

/* The first version with a PostgreSQL form: a new PostgreSQL database runs
 * that entry alone (the whole schema as of that version), then the later ones. */
int gh_store_postgres_baseline(void);

#endif
