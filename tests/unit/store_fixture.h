/* store_fixture.h - portable looks at a unit test's store, on SQLite or
 * PostgreSQL (header-only; where the store lives: store_target.h). */
#ifndef GH_TEST_STORE_FIXTURE_H
#define GH_TEST_STORE_FIXTURE_H

#include "common/error.h"
#include "harness.h"
#include "store_target.h"
#include "store/log.h"
#include "store/sql.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The statement text for the backend under test, where a test's own look at
 * the database needs a dialect (e.g. hex() against encode()). */
#define SF_SQL(sqlite_sql, postgresql_sql) (sf_on_postgres() ? (postgresql_sql) : (sqlite_sql))

/* A malloc'd copy of a test's SQLite statement in PostgreSQL's words for
 * the few functions tests use: group_concat(x, sep) is string_agg,
 * zeroblob(32) and x'00' are bytea values. */
static SF_UNUSED char *sf_pg_dialect(const char *sql)
{
	static const char *const words[][2] = {
		{"group_concat(", "string_agg("},
		{"zeroblob(32)", "decode(repeat('00', 32), 'hex')"},
		{"x'00'", "'\\x00'::bytea"},
	};
	char *out = malloc(strlen(sql) * 3 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (const char *p = sql; *p;) {
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strncmp(p, words[i][0], strlen(words[i][0])) == 0)
				break;
		if (i == sizeof(words) / sizeof(words[0])) {
			*o++ = *p++;
			continue;
		}
		memcpy(o, words[i][1], strlen(words[i][1]));
		o += strlen(words[i][1]);
		p += strlen(words[i][0]);
	}
	*o = '\0';
	return out;
}

/* sql (a test's SQLite statement) for the backend under test: malloc'd. */
static SF_UNUSED char *sf_sql(const char *sql)
{
	return sf_on_postgres() ? sf_pg_dialect(sql) : strdup(sql);
}

/* Runs sql (no parameters; several statements allowed; sf_sql's words)
 * outside any write. */
static SF_UNUSED int sf_exec(gh_store *s, const char *sql)
{
	char *text = sf_sql(sql);
	int rc;

	if (!text)
		return GH_ERROR;
	gh_store_exclusive_begin(s);
	if ((rc = gh_sql_exec(s, text, "test SQL")))
		fprintf(stderr, "  test SQL failed: %s\n", gh_error_last()->message);
	gh_store_exclusive_end(s);
	free(text);
	return rc;
}

/* Rebuilds the Merkle tree over the log's rows as they are, in a write of
 * its own (what migration 9 does on SQLite), e.g. after a test forged rows. */
static SF_UNUSED int sf_backfill(gh_store *s)
{
	int64_t leaves;
	int rc;

	if ((rc = gh_store_begin(s)))
		return rc;
	if ((rc = gh_store_log_backfill(&leaves, s))) {
		fprintf(stderr, "  backfill: %s\n", gh_error_last()->message);
		gh_store_rollback(s);
		return rc;
	}
	return gh_store_commit(s);
}

/* The first column of the first row of sql (text parameters p1, p2 as ?1,
 * ?2; NULL binds NULL), read in a read section: an integer (-1 when there is
 * no row or it fails), or a malloc'd copy of the text (NULL then). */
static SF_UNUSED int64_t sf_int(gh_store *s, const char *sql, const char *p1, const char *p2)
{
	gh_sql *q = NULL;
	int64_t v = -1;

	gh_store_read_begin(s);
	if (gh_sql_prepare_once(&q, s, sql) == 0) {
		if (p1)
			gh_sql_bind_text(q, 1, p1);
		if (p2)
			gh_sql_bind_text(q, 2, p2);
		if (gh_sql_step(q) == GH_SQL_ROW)
			v = gh_sql_column_int64(q, 0);
		else
			fprintf(stderr, "  test SQL found nothing or failed: %s\n", sql);
	}
	gh_sql_finalize(q);
	gh_store_read_end(s);
	return v;
}

static SF_UNUSED char *sf_text(gh_store *s, const char *sql, const char *p1, const char *p2)
{
	gh_sql *q = NULL;
	const char *t;
	char *v = NULL;

	gh_store_read_begin(s);
	if (gh_sql_prepare_once(&q, s, sql) == 0) {
		if (p1)
			gh_sql_bind_text(q, 1, p1);
		if (p2)
			gh_sql_bind_text(q, 2, p2);
		if (gh_sql_step(q) == GH_SQL_ROW && (t = gh_sql_column_text(q, 0)))
			v = strdup(t);
	}
	gh_sql_finalize(q);
	gh_store_read_end(s);
	return v;
}

#endif
