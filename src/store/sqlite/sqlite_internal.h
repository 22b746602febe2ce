/* sqlite_internal.h - what the SQLite backend's own files share. */
#ifndef GH_STORE_SQLITE_INTERNAL_H
#define GH_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/backend.h"

/* A statement of store/sql.h on SQLite: the table, then the statement. */
typedef struct sqlite_sql {
	gh_sql base;
	sqlite3_stmt *st;
} sqlite_sql;

#endif
