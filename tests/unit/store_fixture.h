/* store_fixture.h - where a unit test's store lives, and portable looks at it
 * (header-only). By default a store is an SQLite file in the test's temporary
 * directory; when GH_TEST_PG holds a libpq URL (tests/run.sh's PostgreSQL
 * pass, on a server it started with tests/support/pg_server.sh), each store
 * is a fresh schema of that database instead (the URL's search_path names
 * it): creating a schema is much cheaper than creating a database. */
#ifndef GH_TEST_STORE_FIXTURE_H
#define GH_TEST_STORE_FIXTURE_H

#include "common/error.h"
#include "harness.h"
#include "store/log.h"
#include "store/sql.h"
#include "store/store.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SF_UNUSED __attribute__((unused))

/* The PostgreSQL server the stores go to, or NULL for SQLite. */
static SF_UNUSED const char *sf_pg_url(void)
{
	const char *u = getenv("GH_TEST_PG");

	return u && *u ? u : NULL;
}

static SF_UNUSED int sf_on_postgres(void)
{
	return sf_pg_url() != NULL;
}

/* Skips the rest of a case that is about SQLite itself (says why once). */
#define SF_SQLITE_ONLY(why)                                                           \
	do {                                                                          \
		if (sf_on_postgres()) {                                               \
			printf("  skip %s on postgresql: %s\n", __func__, (why));     \
			return;                                                       \
		}                                                                     \
	} while (0)

/* Runs sql on a connection of its own to the test server: 0 on success. */
static SF_UNUSED int sf_pg_admin(const char *sql)
{
	PGconn *c = PQconnectdb(sf_pg_url());
	PGresult *r = NULL;
	int ok = 0;

	if (PQstatus(c) == CONNECTION_OK) {
		PQclear(PQexec(c, "SET client_min_messages = warning"));
		r = PQexec(c, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			fprintf(stderr, "  %s: %s", sql, PQresultErrorMessage(r));
		PQclear(r);
	} else {
		fprintf(stderr, "  connecting to GH_TEST_PG: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return ok ? 0 : -1;
}

/* The target of a store named name (a file name such as "x.db"): the SQLite
 * path in the temporary directory, or the URL of the PostgreSQL schema made
 * from this process and name. fresh: start empty (the file removed, the
 * schema dropped and created again); 0 names an existing one (to reopen). */
static SF_UNUSED void sf_target(char *out, size_t n, const char *name, int fresh)
{
	const char *url = sf_pg_url();
	char schema[64], sql[200];
	size_t k;

	if (!url) {
		snprintf(out, n, "%s/%s", gh_test_tmpdir(), name);
		if (fresh)
			unlink(out);
		return;
	}
	k = (size_t)snprintf(schema, sizeof(schema), "t%ld_", (long)getpid());
	for (const char *p = name; *p && k < sizeof(schema) - 1; p++)
		schema[k++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
	schema[k] = '\0';
	if (fresh) {
		snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s",
			 schema, schema);
		if (sf_pg_admin(sql) != 0) {
			fprintf(stderr, "  cannot make schema %s\n", schema);
			exit(2);
		}
	}
	snprintf(out, n, "%s%soptions=-csearch_path%%3D%s", url, strchr(url, '?') ? "&" : "?",
		 schema);
}

/* sf_target with the name made from a printf format. */
static SF_UNUSED __attribute__((format(printf, 4, 5))) void
sf_targetf(char *out, size_t n, int fresh, const char *fmt, ...)
{
	char name[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	sf_target(out, n, name, fresh);
}

/* The statement text for the backend under test, where a test's own look at
 * the database needs a dialect (e.g. json_extract against ->>). */
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
