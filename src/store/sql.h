/* sql.h - statements, for the store's own files only (everything under src/store).
 *
 * The store's operations (store/<entity>.h) are written once, in SQL that
 * SQLite and PostgreSQL both accept, against this small statement interface;
 * each backend (src/store/sqlite, src/store/postgres) implements it. Nothing
 * outside src/store includes this header: the domain calls typed operations.
 *
 * Placeholders are ?1, ?2, ... (or plain ?, never both in one statement). A
 * statement belongs to the connection the calling thread uses on the store
 * (its reader inside a read section, the writer otherwise), like
 * gh_store_stmt. Text and blobs are copied when bound. */
#ifndef GH_STORE_SQL_H
#define GH_STORE_SQL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct gh_sql gh_sql;

enum {
	GH_SQL_DONE = 0,   /* gh_sql_step: no (more) rows */
	GH_SQL_ROW = 1,    /* gh_sql_step: a row is ready */
	GH_SQL_FAIL = -1   /* gh_sql_step: failed; gh_sql_fail reports why */
};

/* A cached prepared statement for sql, reset and with its bindings cleared.
 * sql must be a string literal (the cache is keyed by its address). Borrowed:
 * never finalize it. 0, or GH_ERROR with the error set. */
int gh_sql_prepare(gh_sql **out, gh_store *s, const char *sql);
/* Where the two databases must be given different text (sparingly: most
 * statements are portable), both as string literals: the one for the
 * store's backend, cached like gh_sql_prepare. Say why next to the call. */
int gh_sql_prepare_dialect(gh_sql **out, gh_store *s, const char *sqlite_sql,
			   const char *postgresql_sql);
/* The store's SQL dialect, for the rare operation whose steps differ. */
enum { GH_SQL_SQLITE = 0, GH_SQL_POSTGRESQL = 1 };
int gh_sql_dialect(gh_store *s);
/* A statement for sql built at run time (not cached); free with
 * gh_sql_finalize. */
int gh_sql_prepare_once(gh_sql **out, gh_store *s, const char *sql);
void gh_sql_finalize(gh_sql *q);

void gh_sql_bind_text(gh_sql *q, int i, const char *v);   /* NULL binds NULL */
void gh_sql_bind_int(gh_sql *q, int i, int v);
void gh_sql_bind_int64(gh_sql *q, int i, int64_t v);
void gh_sql_bind_double(gh_sql *q, int i, double v);
void gh_sql_bind_blob(gh_sql *q, int i, const void *p, size_t n);
void gh_sql_bind_null(gh_sql *q, int i);

/* GH_SQL_ROW, GH_SQL_DONE or GH_SQL_FAIL. */
int gh_sql_step(gh_sql *q);
/* Ready to run again with the same bindings (cached statements are reset by
 * the next gh_sql_prepare too; reset early to release read locks). */
void gh_sql_reset(gh_sql *q);
/* Sets the error from the statement's last failure, prefixed by what:
 * GH_ECONFLICT for constraint failures, GH_ERROR otherwise. */
int gh_sql_fail(gh_sql *q, const char *what);
/* Rows the last INSERT, UPDATE or DELETE on q's connection changed. */
int gh_sql_changes(gh_sql *q);

/* Columns of the current row, from 0. Text is NULL for SQL NULL and valid
 * until the next step or reset. */
int gh_sql_column_null(gh_sql *q, int col);
const char *gh_sql_column_text(gh_sql *q, int col);
int gh_sql_column_int(gh_sql *q, int col);
int64_t gh_sql_column_int64(gh_sql *q, int col);
double gh_sql_column_double(gh_sql *q, int col);
const void *gh_sql_column_blob(gh_sql *q, int col, size_t *n);

/* Runs sql (one or more statements, no parameters, no rows) on the writer
 * inside the current write; what names it in errors. */
int gh_sql_exec(gh_store *s, const char *sql, const char *what);

/* --- shared helpers (sql/rows.c) ------------------------------------------- */
/* Steps a write statement to completion and resets it; 0 or the error. */
int gh_sql_step_done(gh_sql *q, const char *what);
/* 1 when the one-row query q (bound) finds a row, 0 when not, <0 on error. */
int gh_sql_exists(gh_sql *q, const char *what);
/* A JSON column's value, or an empty object/array on NULL or bad text. */
json_t *gh_sql_json_column(gh_sql *q, int col, int is_array);
/* RFC 3339 string for unix seconds, or JSON null for a NULL column. */
json_t *gh_sql_time_column(gh_sql *q, int col);
/* A text column as a JSON string, or JSON null. */
json_t *gh_sql_text_column(gh_sql *q, int col);
/* An integer column as a JSON integer, or JSON null. */
json_t *gh_sql_int_column(gh_sql *q, int col);
/* The one-row query q (bound) as row(q) in *out, or *out NULL when it finds
 * no row (0 either way); what names it in errors. Resets q. */
int gh_sql_one(json_t **out, gh_sql *q, json_t *(*row)(gh_sql *q), const char *what);
/* A text column into out (truncated to outlen), "" for NULL. */
void gh_sql_copy_text(char *out, size_t outlen, gh_sql *q, int col);
/* Steps q (bound) to the end, appending row(q) for each row to a new array in
 * *out; what names the list in errors. Resets q. */
int gh_sql_rows(json_t **out, gh_sql *q, json_t *(*row)(gh_sql *q), const char *what);

#endif
