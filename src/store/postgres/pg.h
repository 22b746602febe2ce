/* pg.h - the PostgreSQL backend's connections and statements, shared by its
 * two files (store.c: transactions and the pool; stmt.c: statements). */
#ifndef GH_STORE_PG_H
#define GH_STORE_PG_H

#include <libpq-fe.h>

#include "store/backend.h"

#define GH_PG_STMT_CACHE 256

typedef struct gh_pg_sql gh_pg_sql;

/* One server connection with its prepared statements. Used by one thread at
 * a time: the writer under the store's lock, a reader inside one read section. */
typedef struct gh_pg_conn {
	PGconn *db;
	struct {
		const char *sql;         /* the literal the cache is keyed by */
		gh_pg_sql *q;
	} cache[GH_PG_STMT_CACHE];
	unsigned next_name;          /* prepared statements are gh1, gh2, ... */
	int changes;                 /* rows the last INSERT/UPDATE/DELETE changed */
	struct gh_pg_conn *next;     /* in the free list */
	struct gh_pg_conn *all;      /* in the list of every reader, for freeing */
} gh_pg_conn;

/* Connects to url; NULL with *error set (a malloc'd message, the caller
 * frees it) when the server cannot be reached. */
gh_pg_conn *gh_pg_conn_open(const char *url, char **error);
/* Forgets the connection's prepared statements (after a reconnect). */
void gh_pg_conn_forget(gh_pg_conn *c);
void gh_pg_conn_free(gh_pg_conn *c);

/* Runs sql (no parameters; several statements allowed); what names it in
 * the error. GH_ECONFLICT for constraint violations (SQLSTATE class 23). */
int gh_pg_exec(gh_pg_conn *c, const char *sql, const char *what);
/* The error code for a failed result: GH_ECONFLICT for class 23. */
int gh_pg_error_code(const PGresult *r);

/* The statement interface on c: cached by sql's address, or once. */
int gh_pg_prepare(gh_sql **out, gh_pg_conn *c, const char *sql);
int gh_pg_prepare_once(gh_sql **out, gh_pg_conn *c, const char *sql);

/* sql with ?N and ? placeholders as $N; *nparams gets the highest number.
 * Quoted text, identifiers and comments are copied as they are. malloc'd. */
char *gh_pg_placeholders(const char *sql, int *nparams);

#endif
