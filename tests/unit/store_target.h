/* store_target.h - where a unit test's store lives (header-only): an SQLite
 * file in the test's temporary directory by default; when GH_TEST_PG holds a
 * libpq URL (tests/run.sh's PostgreSQL pass, on a server it started with
 * tests/support/pg_server.sh), a fresh schema of that database instead (the
 * URL's search_path names it): creating a schema is much cheaper than
 * creating a database. Needs libpq and the harness only, so a test that
 * keeps to the public headers can use it. */
#ifndef GH_TEST_STORE_TARGET_H
#define GH_TEST_STORE_TARGET_H

#include "harness.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdarg.h>
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

#endif
