/* bench_merkle.c - the Merkle tree over the audit log: append throughput with the
 * tree maintained (peer: the bare hash chain, as appended before issue 6),
 * inclusion proofs at 10,000,000 events, full verification of 1,000,000. */
#include "audit/audit.h"
#include "store/sqlite/sqlite.h"
#include "audit/merkle.h"
#include "common/error.h"
#include "common/jsonv.h"
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

static void remove_db(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};

	for (size_t k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s%s", path, suffixes[k]);
		unlink(p);
	}
}

/* The event bench_audit_verify appends, so the numbers compare. */
static json_t *details(long i)
{
	return json_pack("{s:s, s:s, s:i, s:s}", "entitlement", "ent_00000000000000aa", "subject",
			 "idn_00000000000000bb", "step", (int)(i % 3), "comment", "benchmark event");
}

/* gh_audit_append in transactions of batch: the chain and the tree. */
static int append_tree(gh_store *s, long from, long events, long batch, int small)
{
	int rc = 0;

	for (long i = from; i < from + events && !rc;) {
		if ((rc = gh_store_begin(s)))
			break;
		for (long k = 0; k < batch && i < from + events && !rc; k++, i++) {
			char obj[32];
			json_t *d = small ? NULL : details(i);

			snprintf(obj, sizeof(obj), "req_%016lx", (unsigned long)i);
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
	return rc;
}

/* The peer: the append as it was before the tree (canonical JSON, chain hash,
 * one INSERT with a cached statement), into a table shaped like the old one. */
static int append_chain_only(gh_store *s, long events, long batch)
{
	unsigned char prev[GH_AUDIT_HASH_LEN] = {0}, hash[GH_AUDIT_HASH_LEN];
	sqlite3_stmt *st;
	int rc = 0;

	gh_store_exclusive_begin(s);
	rc = sqlite3_exec(gh_store_db(s), "CREATE TABLE IF NOT EXISTS chain_events (seq INTEGER"
			  " PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
			  " object_type TEXT NOT NULL, object_id TEXT NOT NULL, details TEXT NOT NULL,"
			  " prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
			  "CREATE INDEX IF NOT EXISTS chain_events_object ON chain_events(object_id)",
			  NULL, NULL, NULL) == SQLITE_OK ? 0 : GH_ERROR;
	gh_store_exclusive_end(s);
	for (long i = 1; i <= events && !rc;) {
		if ((rc = gh_store_begin(s)))
			break;
		for (long k = 0; k < batch && i <= events && !rc; k++, i++) {
			char obj[32];
			json_t *d = details(i);
			char *text = gh_json_canonical(d);
			const char *action = i % 2 ? "request.submitted" : "grant.created";
			const char *type = i % 2 ? "request" : "grant";
			int64_t ts = gh_now_us();

			snprintf(obj, sizeof(obj), "req_%016lx", (unsigned long)i);
			gh_audit_hash(hash, prev, i, ts, "idn_0000000000000001", action, type, obj, text,
				      strlen(text));
			if (!(rc = gh_store_stmt(&st, s, "INSERT INTO chain_events VALUES (?,?,?,?,?,?,?,?,?)"))) {
				sqlite3_bind_int64(st, 1, i);
				sqlite3_bind_int64(st, 2, ts);
				sqlite3_bind_text(st, 3, "idn_0000000000000001", -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 5, type, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 6, obj, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
				sqlite3_bind_blob(st, 8, prev, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
				sqlite3_bind_blob(st, 9, hash, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
				rc = sqlite3_step(st) == SQLITE_DONE ? 0 : gh_store_fail(s, "chain insert");
				sqlite3_reset(st);
			}
			memcpy(prev, hash, sizeof(prev));
			free(text);
			json_decref(d);
		}
		if (rc) {
			gh_store_rollback(s);
			break;
		}
		rc = gh_store_commit(s);
	}
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static int64_t rnd(int64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (int64_t)(rng % (uint64_t)n);
}

static void pct(const char *what, double *us, int n)
{
	qsort(us, (size_t)n, sizeof(double), cmp_double);
	printf("%s n=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", what, n, us[n / 2],
	       us[n * 9 / 10], us[n * 99 / 100], us[n - 1]);
}

/* Inclusion proofs at the current size of a big log: what GET
 * /v1/audit/proofs/inclusion does (size, root, leaf, path in one read
 * section), and the path alone; each proof is checked, untimed. */
static int proofs(gh_store *s, int count)
{
	double *all = calloc((size_t)count, sizeof(double)), *path = calloc((size_t)count, sizeof(double));
	double *cons = calloc((size_t)count, sizeof(double));
	int64_t n = 0;
	int rc = 0;

	if (!all || !path || !cons)
		return GH_ERROR;
	for (int i = 0; i < count && !rc; i++) {
		gh_merkle_hash root, leaf, r1, *proof = NULL;
		size_t k = 0;
		int64_t idx, old;
		double t0 = now_s(), t1;

		gh_store_read_begin(s);
		rc = gh_merkle_size(&n, s);
		idx = n ? rnd(n) : 0;
		if (!rc)
			rc = gh_merkle_root(root, s, n);
		if (!rc)
			rc = gh_merkle_leaf(leaf, s, idx);
		t1 = now_s();
		if (!rc)
			rc = gh_merkle_inclusion(&proof, &k, s, idx, n);
		path[i] = (now_s() - t1) * 1e6;
		gh_store_read_end(s);
		all[i] = (now_s() - t0) * 1e6;
		if (!rc && gh_merkle_verify_inclusion(leaf, idx, n, proof, k, root)) {
			fprintf(stderr, "proof of %lld in %lld does not verify\n", (long long)idx, (long long)n);
			rc = GH_ERROR;
		}
		free(proof);
		proof = NULL;
		/* a consistency proof from a random older size, as a checkpoint check does */
		old = 1 + rnd(n);
		t0 = now_s();
		gh_store_read_begin(s);
		if (!rc)
			rc = gh_merkle_root(r1, s, old);
		if (!rc)
			rc = gh_merkle_consistency(&proof, &k, s, old, n);
		gh_store_read_end(s);
		cons[i] = (now_s() - t0) * 1e6;
		if (!rc && gh_merkle_verify_consistency(old, n, r1, root, proof, k)) {
			fprintf(stderr, "consistency %lld -> %lld does not verify\n", (long long)old,
				(long long)n);
			rc = GH_ERROR;
		}
		free(proof);
	}
	if (!rc) {
		printf("merkle_proofs tree_size=%lld\n", (long long)n);
		pct("merkle_inclusion_api (size+root+leaf+path, one read section)", all, count);
		pct("merkle_inclusion_path_only", path, count);
		pct("merkle_consistency (old root + proof)", cons, count);
	}
	free(all);
	free(path);
	free(cons);
	return rc;
}

static int64_t log_size(gh_store *s)
{
	int64_t n = 0;

	gh_store_read_begin(s);
	gh_merkle_size(&n, s);
	gh_store_read_end(s);
	return n;
}

int main(int argc, char **argv)
{
	const char *dir = ".";
	long events = 1000000, big = 10000000, batch = 50000;
	int runs = 3, count = 10000, reuse = 0, opt, only = 0;
	char path[1024], chain_path[1024], big_path[1024];
	gh_store *s = NULL;
	double t0, tree_s, chain_s, times[16], tree_times[16];
	gh_audit_report rep;
	char why[256];
	int64_t leaves;

	while ((opt = getopt(argc, argv, "n:N:d:b:r:p:RP")) != -1) {
		switch (opt) {
		case 'n': events = atol(optarg); break;
		case 'N': big = atol(optarg); break;
		case 'd': dir = optarg; break;
		case 'b': batch = atol(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'p': count = atoi(optarg); break;
		case 'R': reuse = 1; break;      /* keep and reuse the big database */
		case 'P': only = 1; break;       /* the proof part only */
		default:
			fprintf(stderr, "usage: %s [-n events] [-N big] [-d dir] [-b batch] [-r runs]"
					" [-p proofs] [-R] [-P]\n", argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > 16 || events < 1 || batch < 1 || count < 100 || big < 1)
		return 2;
	if (gh_init())
		return 1;
	snprintf(path, sizeof(path), "%s/bench-merkle.db", dir);
	snprintf(chain_path, sizeof(chain_path), "%s/bench-chain.db", dir);
	snprintf(big_path, sizeof(big_path), "%s/bench-merkle-big.db", dir);

	if (!only) {
		/* 1. append: the peer and the tree alternately, same events, fresh
		 * files, best of two each (the machine may be shared) */
		tree_s = chain_s = 1e9;
		for (int r = 0; r < 2; r++) {
			double t;

			remove_db(chain_path);
			if (gh_store_open(&s, chain_path, 1))
				goto fail;
			t0 = now_s();
			if (append_chain_only(s, events, batch))
				goto fail;
			t = now_s() - t0;
			chain_s = t < chain_s ? t : chain_s;
			gh_store_free(s);
			s = NULL;
			remove_db(chain_path);
			remove_db(path);
			if (gh_store_open(&s, path, 1))
				goto fail;
			t0 = now_s();
			if (append_tree(s, 1, events, batch, 0))
				goto fail;
			t = now_s() - t0;
			tree_s = t < tree_s ? t : tree_s;
			if (r == 0) {
				gh_store_free(s);
				s = NULL;
			}
		}
		printf("merkle_append events=%ld batch=%ld seconds=%.2f rate=%.0f/s\n", events, batch,
		       tree_s, (double)events / tree_s);
		printf("peer_chain_only_append events=%ld batch=%ld seconds=%.2f rate=%.0f/s\n", events,
		       batch, chain_s, (double)events / chain_s);

		/* 2. full verification: chain + tree (audit verify), and the tree alone */
		for (int i = 0; i < runs; i++) {
			t0 = now_s();
			if (gh_audit_verify(&rep, s) || rep.events != events)
				goto fail;
			times[i] = now_s() - t0;
			t0 = now_s();
			if (gh_merkle_verify_all(&leaves, s, why, sizeof(why)) || leaves != events)
				goto fail;
			tree_times[i] = now_s() - t0;
		}
		qsort(times, (size_t)runs, sizeof(double), cmp_double);
		qsort(tree_times, (size_t)runs, sizeof(double), cmp_double);
		printf("audit_verify_chain_and_tree events=%ld runs=%d min_s=%.3f median_s=%.3f max_s=%.3f\n",
		       events, runs, times[0], times[runs / 2], times[runs - 1]);
		printf("merkle_verify_all events=%ld runs=%d min_s=%.3f median_s=%.3f max_s=%.3f\n",
		       events, runs, tree_times[0], tree_times[runs / 2], tree_times[runs - 1]);
		gh_store_free(s);
		s = NULL;
		remove_db(path);
	}

	/* 3. proofs at big events: built through gh_audit_append in big transactions */
	if (!reuse)
		remove_db(big_path);
	if (gh_store_open(&s, big_path, 1))
		goto fail;
	if (log_size(s) < big) {
		int64_t have = log_size(s);

		t0 = now_s();
		if (append_tree(s, have + 1, big - have, 500000, 1))
			goto fail;
		printf("merkle_build_big events=%ld seconds=%.1f rate=%.0f/s\n", big - (long)have,
		       now_s() - t0, (double)(big - have) / (now_s() - t0));
	}
	if (proofs(s, count))
		goto fail;
	gh_store_free(s);
	if (!reuse)
		remove_db(big_path);
	return 0;
fail:
	fprintf(stderr, "bench_merkle: %s\n", gh_error_last()->message);
	gh_store_free(s);
	return 1;
}
