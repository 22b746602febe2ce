/* secret_stmt.c - the secret helpers that take a statement or SQL text
 * (gov_secret_matches, gov_secret_touch), kept for credentials.c until its
 * statements move to the store; delete this file with their last caller.
 * Bearer tokens (tokens.c) use store/tokens.h and gov_secret_equal. */
#include "gov/gov_internal.h"

int gov_secret_matches(sqlite3_stmt *st, int col, const unsigned char hash[GOV_SECRET_HASH_BYTES])
{
	const void *stored = st ? sqlite3_column_blob(st, col) : NULL;
	size_t n = st ? (size_t)sqlite3_column_bytes(st, col) : 0;

	return gov_secret_equal(stored, n, hash);
}

void gov_secret_touch(gh_gov *g, const char *sql, const char *id, int64_t now)
{
	sqlite3_stmt *st;
	int w;

	if (gh_store_begin(g->store) == 0) {
		w = gh_store_stmt(&st, g->store, sql);
		if (!w) {
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			w = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
			sqlite3_reset(st);
		}
		if (w)
			gh_store_rollback(g->store);
		else
			gh_store_commit(g->store);
	}
	gh_error_clear();
}
