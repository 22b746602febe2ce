/* audit.c - appending to and verifying the hash-chained audit log. */
#include "audit/audit.h"
#include "audit/merkle.h"
#include "audit/sha256.h"
#include "common/error.h"
#include "common/jsonv.h"
#include "common/util.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_u64(unsigned char *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

static void update_lp(crypto_hash_sha256_state *st, const char *s, size_t len)
{
	unsigned char n[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
			      (unsigned char)(len >> 8), (unsigned char)len};

	crypto_hash_sha256_update(st, n, 4);
	crypto_hash_sha256_update(st, (const unsigned char *)s, len);
}

/* The streaming form, for an event too large for one buffer when memory is short. */
static void hash_stream(unsigned char out[GH_AUDIT_HASH_LEN], const unsigned char *prefix,
			size_t prefix_len, int64_t seq, int64_t ts, const char *actor,
			const char *action, const char *object_type, const char *object_id,
			const char *details, size_t details_len)
{
	crypto_hash_sha256_state st;
	unsigned char nums[16];

	put_u64(nums, (uint64_t)seq);
	put_u64(nums + 8, (uint64_t)ts);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prefix, prefix_len);
	crypto_hash_sha256_update(&st, nums, sizeof(nums));
	update_lp(&st, actor, strlen(actor));
	update_lp(&st, action, strlen(action));
	update_lp(&st, object_type, strlen(object_type));
	update_lp(&st, object_id, strlen(object_id));
	update_lp(&st, details, details_len);
	crypto_hash_sha256_final(&st, out);
}

static unsigned char *put_lp(unsigned char *p, const char *s, size_t len)
{
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	memcpy(p + 4, s, len);
	return p + 4 + len;
}

void gh_audit_hashes(unsigned char chain[GH_AUDIT_HASH_LEN], unsigned char leaf[GH_AUDIT_HASH_LEN],
		     const unsigned char prev[GH_AUDIT_HASH_LEN], int64_t seq, int64_t ts,
		     const char *actor, const char *action, const char *object_type,
		     const char *object_id, const char *details, size_t details_len)
{
	static const unsigned char zero = 0x00;
	size_t la = strlen(actor), lc = strlen(action), lt = strlen(object_type),
	       li = strlen(object_id);
	size_t len = GH_AUDIT_HASH_LEN + 16 + 20 + la + lc + lt + li + details_len;
	unsigned char stack[1024], *buf = len <= sizeof(stack) ? stack : malloc(len), *p;

	if (!buf) {
		if (chain)
			hash_stream(chain, prev, GH_AUDIT_HASH_LEN, seq, ts, actor, action,
				    object_type, object_id, details, details_len);
		if (leaf)
			hash_stream(leaf, &zero, 1, seq, ts, actor, action, object_type, object_id,
				    details, details_len);
		return;
	}
	/* the encoding once, after a slot for the previous hash or the 0x00 */
	p = buf + GH_AUDIT_HASH_LEN;
	put_u64(p, (uint64_t)seq);
	put_u64(p + 8, (uint64_t)ts);
	p = put_lp(p + 16, actor, la);
	p = put_lp(p, action, lc);
	p = put_lp(p, object_type, lt);
	p = put_lp(p, object_id, li);
	put_lp(p, details, details_len);
	if (chain) {
		memcpy(buf, prev, GH_AUDIT_HASH_LEN);
		gh_sha256(chain, buf, len);
	}
	if (leaf) {
		buf[GH_AUDIT_HASH_LEN - 1] = 0x00;
		gh_sha256(leaf, buf + GH_AUDIT_HASH_LEN - 1, len - GH_AUDIT_HASH_LEN + 1);
	}
	if (buf != stack)
		free(buf);
}

void gh_audit_row_hashes(unsigned char chain[GH_AUDIT_HASH_LEN],
			 unsigned char leaf[GH_AUDIT_HASH_LEN],
			 const unsigned char prev[GH_AUDIT_HASH_LEN], sqlite3_stmt *row)
{
	gh_audit_hashes(chain, leaf, prev, sqlite3_column_int64(row, 0), sqlite3_column_int64(row, 1),
			(const char *)sqlite3_column_text(row, 2),
			(const char *)sqlite3_column_text(row, 3),
			(const char *)sqlite3_column_text(row, 4),
			(const char *)sqlite3_column_text(row, 5),
			(const char *)sqlite3_column_text(row, 6),
			(size_t)sqlite3_column_bytes(row, 6));
}

void gh_audit_hash(unsigned char out[GH_AUDIT_HASH_LEN], const unsigned char prev[GH_AUDIT_HASH_LEN],
		   int64_t seq, int64_t ts, const char *actor, const char *action,
		   const char *object_type, const char *object_id, const char *details,
		   size_t details_len)
{
	gh_audit_hashes(out, NULL, prev, seq, ts, actor, action, object_type, object_id, details,
			details_len);
}

/* Writes the head row once per operation, just before it is released. */
static int write_head(gh_store *s, void *ctx)
{
	gh_store_head *h = gh_store_audit_head(s);
	sqlite3_stmt *st;
	int rc;

	if (!h->dirty)
		return 0;
	if ((rc = gh_store_stmt(&st, s, "INSERT INTO audit_head(one, seq, hash) VALUES (1, ?, ?) "
					"ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")))
		return rc;
	sqlite3_bind_int64(st, 1, h->seq);
	sqlite3_bind_blob(st, 2, h->hash, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : gh_store_fail(s, "moving the audit head");
	sqlite3_reset(st);
	if (!rc)
		h->dirty = 0;
	return rc;
}

static int load_head(gh_store *s, gh_store_head *h)
{
	sqlite3_stmt *st;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((rc = gh_store_stmt(&st, s, "SELECT seq, hash FROM audit_head WHERE one = 1")))
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		h->seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == GH_AUDIT_HASH_LEN)
			memcpy(h->hash, sqlite3_column_blob(st, 1), GH_AUDIT_HASH_LEN);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;              /* empty log: seq 0, hash of zeros */
	} else {
		rc = gh_store_fail(s, "reading the audit head");
	}
	sqlite3_reset(st);
	if (!rc)
		rc = gh_merkle_load_frontier(s, h);
	h->valid = rc == 0;
	return rc;
}

int gh_audit_append(int64_t *out_seq, gh_store *s, const char *actor, const char *action,
		    const char *object_type, const char *object_id, const json_t *details)
{
	gh_store_head *h = gh_store_audit_head(s);
	unsigned char hash[GH_AUDIT_HASH_LEN];
	gh_merkle_hash leaf;
	sqlite3_stmt *st;
	int64_t seq, ts = gh_now_us();
	char *text = NULL;
	int rc;

	if (!h->valid && (rc = load_head(s, h)))
		return rc;
	seq = h->seq + 1;
	text = details ? gh_json_canonical(details) : strdup("{}");
	if (!text)
		return gh_error_set(GH_ERROR, "out of memory encoding an audit event");
	gh_audit_hashes(hash, leaf, h->hash, seq, ts, actor, action, object_type, object_id, text,
			strlen(text));

	rc = gh_store_stmt(&st, s, "INSERT INTO audit_events(seq, ts, actor, action, object_type,"
				   " object_id, details, prev_hash, hash, leaf_hash)"
				   " VALUES (?,?,?,?,?,?,?,?,?,?)");
	if (rc)
		goto cleanup;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, object_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, object_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, h->hash, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, hash, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, leaf, GH_MERKLE_HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = gh_store_fail(s, "appending an audit event");
		sqlite3_reset(st);
		goto cleanup;
	}
	sqlite3_reset(st);
	h->seq = seq;
	memcpy(h->hash, hash, GH_AUDIT_HASH_LEN);
	h->dirty = 1;
	/* the tree grows in the same transaction; a failure rolls both back */
	if ((rc = gh_merkle_append(s, h, leaf))) {
		h->valid = 0;
		goto cleanup;
	}
	/* the head row is written once, when the operation is released */
	gh_store_before_release(s, write_head, NULL);
	if (out_seq)
		*out_seq = seq;
cleanup:
	free(text);
	return rc;
}

/* One worker's share of a verification: rows lo..hi, plus row lo-1 for the link. */
typedef struct range_job {
	const char *path;        /* database file, opened read-only by the worker */
	int64_t lo, hi;
	int64_t events;          /* rows of lo..hi verified */
	int64_t bad_seq;         /* first bad sequence number in the range, 0 if none */
	const char *reason;
	int failed;              /* could not read: SQLite error text in reason_buf */
	char reason_buf[256];
	unsigned char last_hash[GH_AUDIT_HASH_LEN];   /* recomputed hash of row hi */
} range_job;

static void *verify_range(void *arg)
{
	static const unsigned char zero[GH_AUDIT_HASH_LEN];
	range_job *job = arg;
	unsigned char prev[GH_AUDIT_HASH_LEN], hash[GH_AUDIT_HASH_LEN];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t expect = job->lo > 1 ? job->lo - 1 : 1;
	int have_link = job->lo == 1, step;

	memcpy(prev, zero, sizeof(prev));
	if (sqlite3_open_v2(job->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT seq, ts, actor, action, object_type, object_id, details,"
				   " prev_hash, hash FROM audit_events WHERE seq >= ? AND seq <= ?"
				   " ORDER BY seq", -1, &st, NULL)) {
		job->failed = 1;
		snprintf(job->reason_buf, sizeof(job->reason_buf), "reading audit events: %s",
			 db ? sqlite3_errmsg(db) : "out of memory");
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, expect);
	sqlite3_bind_int64(st, 2, job->hi);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const void *stored = sqlite3_column_blob(st, 8);
		int stored_ok = sqlite3_column_bytes(st, 8) == GH_AUDIT_HASH_LEN;

		if (seq != expect) {
			job->bad_seq = expect;
			job->reason = seq > expect ? "event missing (gap in sequence)"
						   : "sequence out of order";
			goto cleanup;
		}
		expect++;
		if (!have_link) {
			/* row lo-1 belongs to the previous range; here it only links */
			if (stored_ok)
				memcpy(prev, stored, GH_AUDIT_HASH_LEN);
			have_link = 1;
			continue;
		}
		if (sqlite3_column_bytes(st, 7) != GH_AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(st, 7), prev, GH_AUDIT_HASH_LEN) != 0) {
			job->bad_seq = seq;
			job->reason = "prev_hash does not match the previous event's hash";
			goto cleanup;
		}
		gh_audit_row_hashes(hash, NULL, prev, st);
		if (!stored_ok || memcmp(stored, hash, GH_AUDIT_HASH_LEN) != 0) {
			job->bad_seq = seq;
			job->reason = "event content does not match its hash";
			goto cleanup;
		}
		memcpy(prev, hash, sizeof(prev));
		job->events++;
	}
	if (step != SQLITE_DONE) {
		job->failed = 1;
		snprintf(job->reason_buf, sizeof(job->reason_buf), "reading audit events: %s",
			 sqlite3_errmsg(db));
	} else if (expect != job->hi + 1) {
		job->bad_seq = expect;
		job->reason = "event missing (gap in sequence)";
	}
	memcpy(job->last_hash, prev, sizeof(prev));
cleanup:
	sqlite3_finalize(st);
	if (db)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return NULL;
}

static int bad(gh_audit_report *out, int64_t seq, const char *reason)
{
	out->bad_seq = seq;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
	return gh_error_set(GH_EINVALID, "audit chain broken at sequence %lld: %s",
			    (long long)seq, reason);
}

/* Reads the recorded head and the highest stored sequence number. */
static int read_bounds(gh_store *s, int64_t *head, unsigned char head_hash[GH_AUDIT_HASH_LEN],
		       int *have_head, int64_t *max_seq)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = gh_store_db(s);
	int rc = 0;

	*have_head = 0;
	*head = *max_seq = 0;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT seq FROM audit_head WHERE one = 1),"
				   " (SELECT hash FROM audit_head WHERE one = 1),"
				   " (SELECT coalesce(max(seq), 0) FROM audit_events)", -1, &st, NULL))
		return gh_store_fail(s, "reading the audit head");
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = gh_store_fail(s, "reading the audit head");
	} else {
		*max_seq = sqlite3_column_int64(st, 2);
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*have_head = 1;
			*head = sqlite3_column_int64(st, 0);
			memset(head_hash, 0, GH_AUDIT_HASH_LEN);
			if (sqlite3_column_bytes(st, 1) == GH_AUDIT_HASH_LEN)
				memcpy(head_hash, sqlite3_column_blob(st, 1), GH_AUDIT_HASH_LEN);
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int gh_audit_workers(int64_t n, int max, int64_t min_each)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int workers = (int)(cores > 0 ? cores : 1);

	if (workers > max)
		workers = max;
	if (n / min_each + 1 < workers)
		workers = (int)(n / min_each + 1);
	return workers;
}

void gh_audit_run_jobs(void *(*fn)(void *), void *jobs, size_t size, int n)
{
	enum { MAX_THREADS = 64 };
	pthread_t threads[MAX_THREADS];
	int started[MAX_THREADS] = {0};
	char *job = jobs;

	for (int i = 1; i < n && i < MAX_THREADS; i++)
		started[i] = pthread_create(&threads[i], NULL, fn, job + size * (size_t)i) == 0;
	if (n > 0)
		fn(job);
	for (int i = 1; i < n; i++) {
		if (i < MAX_THREADS && started[i])
			pthread_join(threads[i], NULL);
		else
			fn(job + size * (size_t)i);   /* no thread: run it here */
	}
}

/* The chain holds; now the Merkle tree over the same events. */
static int verify_tree(gh_audit_report *out, gh_store *s)
{
	char why[256];
	int64_t leaves;
	int rc = gh_merkle_verify_all(&leaves, s, why, sizeof(why));

	if (rc == GH_EINVALID)
		return bad(out, leaves + 1, why);
	return rc;
}

int gh_audit_verify(gh_audit_report *out, gh_store *s)
{
	enum { MAX_WORKERS = 8, MIN_PER_WORKER = 20000 };
	unsigned char head_hash[GH_AUDIT_HASH_LEN];
	range_job jobs[MAX_WORKERS];
	int64_t head, max_seq, n;
	int have_head, rc, workers;
	const char *path = sqlite3_db_filename(gh_store_db(s), "main");

	memset(out, 0, sizeof(*out));
	gh_store_read_begin(s);
	rc = read_bounds(s, &head, head_hash, &have_head, &max_seq);
	gh_store_read_end(s);
	if (rc)
		return rc;
	if (!have_head)
		return max_seq == 0 ? 0 : bad(out, 1, "the audit head is missing");
	n = head;
	if (n == 0)
		return max_seq == 0 ? 0 : bad(out, 1, "events exist past the recorded head");
	if (!path || !*path)
		return gh_error_set(GH_ERROR, "audit verification needs a database file");

	/* Rows up to the head never change, so ranges can be checked in
	 * parallel, each on its own read-only connection. */
	workers = gh_audit_workers(n, MAX_WORKERS, MIN_PER_WORKER);
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < workers; i++) {
		jobs[i].path = path;
		jobs[i].lo = 1 + n * i / workers;
		jobs[i].hi = n * (i + 1) / workers;
	}
	gh_audit_run_jobs(verify_range, jobs, sizeof(jobs[0]), workers);
	for (int i = 0; i < workers; i++) {
		if (jobs[i].failed)
			return gh_error_set(GH_ERROR, "%s", jobs[i].reason_buf);
		out->events += jobs[i].events;
	}
	/* ranges are in sequence order: the first bad range holds the first bad event */
	for (int i = 0; i < workers; i++)
		if (jobs[i].bad_seq)
			return bad(out, jobs[i].bad_seq, jobs[i].reason);
	if (memcmp(jobs[workers - 1].last_hash, head_hash, GH_AUDIT_HASH_LEN) != 0)
		return bad(out, n, "the last event does not match the recorded head");
	if (max_seq > n)
		return bad(out, n + 1, "events exist past the recorded head");
	return verify_tree(out, s);
}

json_t *gh_audit_event_json(sqlite3_stmt *row)
{
	char prev[2 * GH_AUDIT_HASH_LEN + 1] = "", hash[2 * GH_AUDIT_HASH_LEN + 1] = "";
	char when[40];
	int64_t ts = sqlite3_column_int64(row, 1);
	json_t *details;

	if (sqlite3_column_bytes(row, 7) == GH_AUDIT_HASH_LEN)
		gh_hex(prev, sqlite3_column_blob(row, 7), GH_AUDIT_HASH_LEN);
	if (sqlite3_column_bytes(row, 8) == GH_AUDIT_HASH_LEN)
		gh_hex(hash, sqlite3_column_blob(row, 8), GH_AUDIT_HASH_LEN);
	gh_time_format(when, sizeof(when), ts / 1000000);
	details = json_loads((const char *)sqlite3_column_text(row, 6), 0, NULL);
	return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s}",
			 "seq", (json_int_t)sqlite3_column_int64(row, 0), "time", when,
			 "ts_us", (json_int_t)ts,
			 "actor", (const char *)sqlite3_column_text(row, 2),
			 "action", (const char *)sqlite3_column_text(row, 3),
			 "object_type", (const char *)sqlite3_column_text(row, 4),
			 "object_id", (const char *)sqlite3_column_text(row, 5),
			 "details", details ? details : json_object(),
			 "prev_hash", prev, "hash", hash);
}
