/* fuzz_db.h - a throwaway Gatehouse database for the fuzz targets that need
 * one: created once per process in a fresh temp dir, removed at exit, and a
 * fingerprint of its whole content to prove that something changed nothing.
 * Header-only (static): each fuzz target is a single file plus the driver. */
#ifndef GH_FUZZ_DB_H
#define GH_FUZZ_DB_H

#include "gov/gov.h"
#include "store/sqlite/sqlite.h"
#include "common/error.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FZ_MAX_TABLES 32

static char fz_dir[256];
static gh_gov *fz_gov;
static char fz_tables[FZ_MAX_TABLES][64];
static int fz_ntables;

static void fz_die(const char *what)
{
	const gh_error *e = gh_error_last();

	fprintf(stderr, "fuzz setup: %s: %s\n", what, e->message);
	abort();
}

static void fz_cleanup(void)
{
	DIR *d;
	struct dirent *e;

	gh_gov_free(fz_gov);
	fz_gov = NULL;
	if (!fz_dir[0] || !(d = opendir(fz_dir)))
		return;
	while ((e = readdir(d))) {
		char path[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fz_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(fz_dir);
}

/* Runs sql (no results) on the store's connection, outside any operation. */
static void fz_sql(gh_gov *g, const char *sql)
{
	gh_store *s = gh_gov_store(g);
	char *err = NULL;

	gh_store_exclusive_begin(s);
	if (sqlite3_exec(gh_store_db(s), sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "fuzz setup: %s: %s\n", sql, err ? err : "?");
		abort();
	}
	gh_store_exclusive_end(s);
}

/* A new database in a new temp dir (tmpfs when there is one), without
 * fsyncs: durability is not what the fuzzer tests. Freed at exit. */
static gh_gov *fz_open(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	char path[512];
	sqlite3_stmt *st;
	gh_store *s;

	snprintf(fz_dir, sizeof(fz_dir), "%s/gh-fuzz-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(fz_dir))
		abort();
	atexit(fz_cleanup);
	snprintf(path, sizeof(path), "%s/fuzz.db", fz_dir);
	if (gh_gov_open(&fz_gov, path, 1, NULL) != 0)
		fz_die("opening the database");
	fz_sql(fz_gov, "PRAGMA synchronous=OFF");
	s = gh_gov_store(fz_gov);
	gh_store_exclusive_begin(s);
	if (sqlite3_prepare_v2(gh_store_db(s),
			       "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1,
			       &st, NULL) != SQLITE_OK)
		abort();
	while (sqlite3_step(st) == SQLITE_ROW && fz_ntables < FZ_MAX_TABLES)
		snprintf(fz_tables[fz_ntables++], sizeof(fz_tables[0]), "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	gh_store_exclusive_end(s);
	return fz_gov;
}

/* BLAKE2b over every row of every table, with each value's type and bytes. */
static void fz_fingerprint(unsigned char out[32], gh_gov *g)
{
	gh_store *s = gh_gov_store(g);
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, 32);
	gh_store_exclusive_begin(s);
	for (int t = 0; t < fz_ntables; t++) {
		char sql[128];
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", fz_tables[t]);
		if (sqlite3_prepare_v2(gh_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
			abort();
		crypto_generichash_update(&h, (const unsigned char *)sql, strlen(sql));
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				unsigned char type = (unsigned char)sqlite3_column_type(st, c);
				const void *v = sqlite3_column_blob(st, c);
				int n = sqlite3_column_bytes(st, c);
				crypto_generichash_update(&h, &type, 1);
				crypto_generichash_update(&h, (const unsigned char *)&n, sizeof(n));
				if (v && n > 0)
					crypto_generichash_update(&h, v, (size_t)n);
			}
		}
		sqlite3_finalize(st);
	}
	gh_store_exclusive_end(s);
	crypto_generichash_final(&h, out, 32);
}

#endif
