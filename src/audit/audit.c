/* audit.c - appending to and verifying the hash-chained audit log. */
#include "audit/audit.h"
#include "audit/merkle.h"
#include "common/error.h"
#include "common/jsonv.h"
#include "common/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gh_audit_event_hashes(unsigned char chain[GH_AUDIT_HASH_LEN],
			   unsigned char leaf[GH_AUDIT_HASH_LEN],
			   const unsigned char prev[GH_AUDIT_HASH_LEN],
			   const gh_store_log_event *ev)
{
	gh_audit_hashes(chain, leaf, prev, ev->seq, ev->ts, ev->actor, ev->action,
			ev->object_type, ev->object_id, ev->details, ev->details_len);
}

/* What this module keeps in the store's log cache (gh_store_log_cached):
 * with its valid and seq, the chain's head and the tree's right edge. */
typedef struct chain_state {
	int dirty;                 /* moved in this operation, not yet written */
	unsigned char hash[GH_AUDIT_HASH_LEN];
	gh_merkle_hash frontier[GH_MERKLE_MAX_LEVELS];
} chain_state;

_Static_assert(sizeof(chain_state) <= GH_STORE_LOG_AREA, "the audit head fits the store's log cache");

static chain_state *state_of(gh_store_log_cache *c)
{
	return (chain_state *)(void *)c->area;
}

/* Writes the head row once per operation, just before it is released. A
 * head the store invalidated is not written: its operation was undone. */
static int write_head(gh_store *s, void *ctx)
{
	gh_store_log_cache *c = gh_store_log_cached(s);
	chain_state *h = state_of(c);
	int rc;

	(void)ctx;
	if (!c->valid || !h->dirty)
		return 0;
	if (!(rc = gh_store_log_set_head(s, c->seq, h->hash)))
		h->dirty = 0;
	return rc;
}

static int load_head(gh_store *s, gh_store_log_cache *c)
{
	chain_state *h = state_of(c);
	int found, rc;

	c->valid = 0;
	memset(h, 0, sizeof(*h));
	/* no head row: an empty log, seq 0 and a hash of zeros. Read at the
	 * first append of a write (the store clears valid at the start of every
	 * transaction another process may have written before): on PostgreSQL
	 * this read holds the head until the transaction ends, so appends from
	 * other nodes queue behind it and the frontier read next is current. */
	if ((rc = gh_store_log_head_for_append(&found, &c->seq, h->hash, s)) ||
	    (rc = gh_merkle_load_frontier(s, c->seq, h->frontier)))
		return rc;
	c->valid = 1;
	return 0;
}

int gh_audit_append(int64_t *out_seq, gh_store *s, const char *actor, const char *action,
		    const char *object_type, const char *object_id, const json_t *details)
{
	gh_store_log_cache *c = gh_store_log_cached(s);
	chain_state *h = state_of(c);
	unsigned char hash[GH_AUDIT_HASH_LEN];
	gh_merkle_hash leaf;
	gh_store_log_event ev;
	int64_t seq, ts = gh_now_us();
	char *text = NULL;
	int rc;

	if (!c->valid && (rc = load_head(s, c)))
		return rc;
	seq = c->seq + 1;
	text = details ? gh_json_canonical(details) : strdup("{}");
	if (!text)
		return gh_error_set(GH_ERROR, "out of memory encoding an audit event");
	ev = (gh_store_log_event){.seq = seq, .ts = ts, .actor = actor, .action = action,
				  .object_type = object_type, .object_id = object_id,
				  .details = text, .details_len = strlen(text),
				  .prev_hash = h->hash, .hash = hash, .leaf_hash = leaf};
	gh_audit_event_hashes(hash, leaf, h->hash, &ev);
	if ((rc = gh_store_log_append(s, &ev)))
		goto cleanup;
	c->seq = seq;
	memcpy(h->hash, hash, GH_AUDIT_HASH_LEN);
	h->dirty = 1;
	/* the tree grows in the same transaction; a failure rolls both back */
	if ((rc = gh_merkle_append(s, seq, h->frontier, leaf))) {
		c->valid = 0;
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
	gh_store *s;             /* read in the worker's own read section */
	int64_t lo, hi;
	int64_t events;          /* rows of lo..hi verified */
	int64_t bad_seq;         /* first bad sequence number in the range, 0 if none */
	const char *reason;
	int failed;              /* could not read: the error's text in reason_buf */
	char reason_buf[sizeof(((gh_error *)0)->message)];
	int64_t expect;          /* the next sequence number */
	int have_link;           /* prev holds the previous event's hash */
	unsigned char prev[GH_AUDIT_HASH_LEN];
	unsigned char last_hash[GH_AUDIT_HASH_LEN];   /* recomputed hash of row hi */
} range_job;

enum { STOP = 1 };   /* a scan callback found what is wrong */

static int check_event(void *ctx, const gh_store_log_event *ev)
{
	range_job *job = ctx;
	unsigned char hash[GH_AUDIT_HASH_LEN];

	if (ev->seq != job->expect) {
		job->bad_seq = job->expect;
		job->reason = ev->seq > job->expect ? "event missing (gap in sequence)"
						    : "sequence out of order";
		return STOP;
	}
	job->expect++;
	if (!job->have_link) {
		/* row lo-1 belongs to the previous range; here it only links */
		if (ev->hash)
			memcpy(job->prev, ev->hash, GH_AUDIT_HASH_LEN);
		job->have_link = 1;
		return 0;
	}
	if (!ev->prev_hash || memcmp(ev->prev_hash, job->prev, GH_AUDIT_HASH_LEN) != 0) {
		job->bad_seq = ev->seq;
		job->reason = "prev_hash does not match the previous event's hash";
		return STOP;
	}
	gh_audit_event_hashes(hash, NULL, job->prev, ev);
	if (!ev->hash || memcmp(ev->hash, hash, GH_AUDIT_HASH_LEN) != 0) {
		job->bad_seq = ev->seq;
		job->reason = "event content does not match its hash";
		return STOP;
	}
	memcpy(job->prev, hash, GH_AUDIT_HASH_LEN);
	job->events++;
	return 0;
}

static void *verify_range(void *arg)
{
	range_job *job = arg;
	int rc;

	job->expect = job->lo > 1 ? job->lo - 1 : 1;
	job->have_link = job->lo == 1;
	memset(job->prev, 0, sizeof(job->prev));
	gh_store_read_begin(job->s);
	rc = gh_store_log_scan(job->s, job->expect, job->hi, check_event, job);
	gh_store_read_end(job->s);
	if (rc == STOP)
		return NULL;
	if (rc) {
		job->failed = 1;
		snprintf(job->reason_buf, sizeof(job->reason_buf), "%s", gh_error_last()->message);
		return NULL;
	}
	if (job->expect != job->hi + 1) {
		job->bad_seq = job->expect;
		job->reason = "event missing (gap in sequence)";
	}
	memcpy(job->last_hash, job->prev, sizeof(job->prev));
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
static int read_bounds(gh_store *s, int64_t *head_seq, unsigned char head_hash[GH_AUDIT_HASH_LEN],
		       int *have_head, int64_t *max_seq)
{
	int rc;

	gh_store_read_begin(s);
	rc = gh_store_log_head(have_head, head_seq, head_hash, s);
	if (!rc)
		rc = gh_store_log_last_seq(max_seq, s);
	gh_store_read_end(s);
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

	memset(out, 0, sizeof(*out));
	if ((rc = read_bounds(s, &head, head_hash, &have_head, &max_seq)))
		return rc;
	if (!have_head)
		return max_seq == 0 ? 0 : bad(out, 1, "the audit head is missing");
	n = head;
	if (n == 0)
		return max_seq == 0 ? 0 : bad(out, 1, "events exist past the recorded head");
	/* Rows up to the head never change, so ranges can be checked in
	 * parallel, each in its own read section. */
	workers = gh_audit_workers(n, MAX_WORKERS, MIN_PER_WORKER);
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < workers; i++) {
		jobs[i].s = s;
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
