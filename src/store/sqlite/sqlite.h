/* sqlite.h - what only the SQLite backend offers: its connection and its
 * statements, for the unit tests, the fuzz drivers and the benchmarks, which
 * look at the database. Nothing in src/ outside src/store/sqlite includes
 * it; portable code uses store/sql.h. */
#ifndef GH_STORE_SQLITE_H
#define GH_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"

/* The connection the calling thread uses: its reader inside a read section,
 * the writer otherwise; use only inside begin/commit, read_begin/read_end or
 * exclusive_begin/end. NULL on a store of another backend. */
sqlite3 *gh_store_db(gh_store *s);

/* A cached prepared statement for sql, reset and with bindings cleared.
 * sql must be a string literal (the cache is keyed by its address). Borrowed.
 * GH_ERROR on a store of another backend. */
int gh_store_stmt(sqlite3_stmt **out, gh_store *s, const char *sql);

/* Sets the error from the connection's last SQLite error, prefixed by what.
 * Returns GH_ECONFLICT for constraint failures, GH_ERROR otherwise. */
int gh_store_fail(gh_store *s, const char *what);

#endif
