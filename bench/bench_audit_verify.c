/* bench_audit_verify.c - builds an audit log of N events and times verifying it,
 * with a breakdown: SQLite scan alone, scan plus hashing, raw SHA-256 speed. */
#include "audit/audit.h"
#include "store/sqlite/sqlite.h"
#include "common/error.h"
#include "common/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int build_log(const char *path, long events, long batch)
{
	gh_store *s = NULL;
	double t0 = now_s();
	int rc;
	static const char *const suffixes[] = {"", "-wal", "-shm"};

	for (size_t k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s%s", path, suffixes[k]);
		unlink(p);
	}
	if ((rc = gh_store_open(&s, path, 1)))
		return rc;
	for (long i = 1; i <= events && !rc; ) {
		if ((rc = gh_store_begin(s)))
			break;
		for (long k = 0; k < batch && i <= events && !rc; k++, i++) {
			char obj[32];
			json_t *d;

			snprintf(obj, sizeof(obj), "req_%016lx", (unsigned long)i);
			d = json_pack("{s:s, s:s, s:i, s:s}", "entitlement", "ent_00000000000000aa",
				      "subject", "idn_00000000000000bb", "step", (int)(i % 3),
				      "comment", "benchmark event");
			rc = gh_audit_append(NULL, s, "idn_0000000000000001",
					     i % 2 ? "request.submitted" : "grant.created",
					     i % 2 ? "request" : "grant", obj, d);
			json_decref(d);
		}
		if (rc) {
			gh_store_rollback(s);
			break;
		}
		rc = gh_store_commit(s);
	}
	gh_store_free(s);
	if (!rc)
		printf("audit_append events=%ld seconds=%.2f rate=%.0f/s\n", events, now_s() - t0,
		       (double)events / (now_s() - t0));
	return rc;
}

/* Reads every column of every event, as verification does, with or without hashing. */
static int scan(const char *path, int hash, double *secs, long long *bytes)
{
	static const unsigned char zero[GH_AUDIT_HASH_LEN];
	unsigned char prev[GH_AUDIT_HASH_LEN], out[GH_AUDIT_HASH_LEN];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	double t0 = now_s();
	long long n = 0;

	memcpy(prev, zero, sizeof(prev));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT seq, ts, actor, action, object_type, object_id, details,"
				   " prev_hash, hash FROM audit_events ORDER BY seq", -1, &st, NULL)) {
		fprintf(stderr, "scan: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *details = (const char *)sqlite3_column_text(st, 6);
		size_t dlen = (size_t)sqlite3_column_bytes(st, 6);
		const char *actor = (const char *)sqlite3_column_text(st, 2);
		const char *action = (const char *)sqlite3_column_text(st, 3);
		const char *otype = (const char *)sqlite3_column_text(st, 4);
		const char *oid = (const char *)sqlite3_column_text(st, 5);

		n += (long long)dlen + (long long)strlen(actor) + (long long)strlen(action) +
		     (long long)strlen(otype) + (long long)strlen(oid) + 32 + 16 + 16;
		(void)sqlite3_column_blob(st, 7);
		(void)sqlite3_column_blob(st, 8);
		if (hash) {
			gh_audit_hash(out, prev, sqlite3_column_int64(st, 0),
				      sqlite3_column_int64(st, 1), actor, action, otype, oid, details,
				      dlen);
			memcpy(prev, out, sizeof(prev));
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	*secs = now_s() - t0;
	*bytes = n;
	return 0;
}

static double sha256_mbps(void)
{
	static unsigned char buf[256];
	unsigned char out[32];
	double t0 = now_s();
	long n = 0;

	while (now_s() - t0 < 0.5) {
		for (int i = 0; i < 10000; i++, n++) {
			buf[0] = (unsigned char)i;
			crypto_hash_sha256(out, buf, sizeof(buf));
		}
	}
	return (double)n * sizeof(buf) / (now_s() - t0) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *path = "bench-audit.db";
	long events = 1000000, batch = 50000;
	int runs = 3, build = 1, opt;
	double times[16], scan_s = 0, hash_s = 0;
	long long bytes = 0;
	gh_store *s = NULL;
	gh_audit_report rep;

	while ((opt = getopt(argc, argv, "n:d:b:r:R")) != -1) {
		switch (opt) {
		case 'n': events = atol(optarg); break;
		case 'd': path = optarg; break;
		case 'b': batch = atol(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'R': build = 0; break;   /* reuse an existing database */
		default:
			fprintf(stderr, "usage: %s [-n events] [-d db] [-b batch] [-r runs] [-R]\n",
				argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > 16 || events < 1 || batch < 1)
		return 2;
	if (gh_init())
		return 1;
	if (build && build_log(path, events, batch)) {
		fprintf(stderr, "building the log: %s\n", gh_error_last()->message);
		return 1;
	}
	if (gh_store_open(&s, path, 0)) {
		fprintf(stderr, "%s\n", gh_error_last()->message);
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_s();
		int rc = gh_audit_verify(&rep, s);

		times[i] = now_s() - t0;
		if (rc || rep.events != events) {
			fprintf(stderr, "verify failed (%lld events): %s\n", (long long)rep.events,
				gh_error_last()->message);
			gh_store_free(s);
			return 1;
		}
	}
	gh_store_free(s);
	qsort(times, (size_t)runs, sizeof(double), cmp_double);
	printf("audit_verify events=%ld runs=%d min_s=%.3f median_s=%.3f max_s=%.3f rate=%.0f/s\n",
	       events, runs, times[0], times[runs / 2], times[runs - 1], (double)events / times[0]);
	/* where the time goes, single-threaded */
	if (scan(path, 0, &scan_s, &bytes) || scan(path, 1, &hash_s, &bytes))
		return 1;
	printf("audit_verify_breakdown scan_only_s=%.3f scan_and_hash_s=%.3f hash_s=%.3f"
	       " hashed_MB=%.1f sha256_MBps=%.0f\n", scan_s, hash_s, hash_s - scan_s,
	       (double)bytes / 1e6, sha256_mbps());
	return 0;
}
