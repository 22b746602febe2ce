/* stmt.h - an SQLite statement as a gh_sql (store/sql.h), inside the SQLite
 * backend only. */
#ifndef GH_STORE_SQLITE_STMT_H
#define GH_STORE_SQLITE_STMT_H

#include <sqlite3.h>

#include "store/backend.h"

typedef struct gh_sqlite_sql {
	gh_sql base;          /* first: the statement table */
	sqlite3_stmt *st;
	int owned;            /* made by gh_sql_prepare_once: finalize frees it */
} gh_sqlite_sql;

/* Wraps st, which the statement cache keeps (q lives in the cache entry). */
void gh_sqlite_sql_init(gh_sqlite_sql *q, sqlite3_stmt *st);
/* A new wrapper that owns st (finalized with it); GH_ERROR when out of memory. */
int gh_sqlite_sql_new(gh_sql **out, sqlite3_stmt *st);

#endif
