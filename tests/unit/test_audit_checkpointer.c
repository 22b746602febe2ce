/* test_audit_checkpointer.c - the signer of a serving process: when it signs
 * (the pure rule), that it signs soon after writes but a bounded number of
 * times, that many callers asking at once get one signature, what it refuses
 * to wait for, and that a refusal to sign reaches the waiters. */
#include "audit/audit.h"
#include "store_fixture.h"
#include "audit/checkpoint.h"
#include "common/error.h"
#include "common/util.h"
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORIGIN "gatehouse/0a1b2c3d"
#define HOUR_MS (3600 * 1000)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* n events in one transaction; the last one's sequence number. */
static int64_t add_events(gh_store *s, int n)
{
	int64_t seq = 0;

	CHECK_INT(gh_store_begin(s), 0);
	for (int i = 0; i < n; i++)
		CHECK_INT(gh_audit_append(&seq, s, "idn_00000000000000bb", "grant.revoked", "grant",
					  "grt_0123456789abcdef", NULL), 0);
	CHECK_INT(gh_store_commit(s), 0);
	return seq;
}

typedef struct fixture {
	gh_store *s;
	gh_signer *k;
	gh_checkpointer *c;
} fixture;

/* A log of n events, a key and a signer with the given rule. */
static int setup_with(fixture *f, const char *name, int n, const gh_checkpointer_options *o)
{
	char path[512], key[600];

	memset(f, 0, sizeof(*f));
	sf_target(path, sizeof(path), name, 1);
	snprintf(key, sizeof(key), "%s/%s.key", gh_test_tmpdir(), name);
	remove(key);
	if (!CHECK_INT(gh_store_open(&f->s, path, 1), 0) ||
	    !CHECK_INT(gh_signer_create(key, ORIGIN), 0) || !CHECK_INT(gh_signer_load(&f->k, key), 0))
		return -1;
	if (n)
		add_events(f->s, n);
	return CHECK_INT(gh_checkpointer_start(&f->c, f->s, f->k, ORIGIN, o), 0) ? 0 : -1;
}

static int setup(fixture *f, const char *name, int n, int64_t after_ms, int64_t min_interval_ms)
{
	gh_checkpointer_options o = {after_ms, min_interval_ms, HOUR_MS, 0, NULL, NULL};

	return setup_with(f, name, n, &o);
}

static void teardown(fixture *f)
{
	gh_checkpointer_free(f->c);
	gh_signer_free(f->k);
	gh_store_free(f->s);
}

static int64_t latest_size(gh_store *s)
{
	int64_t n = -2;

	CHECK_INT(gh_checkpoint_latest_size(&n, s), 0);
	return n;
}

static int64_t size_of(const char *note)
{
	return note && strchr(note, '\n') ? strtoll(strchr(note, '\n') + 1, NULL, 10) : -1;
}

/* The rule, as data: state, options, expected due time. */
static void test_checkpoint_due__rule(void)
{
	static const struct {
		const char *what;
		gh_checkpoint_sched st;
		gh_checkpointer_options o;
		int64_t due;
	} cases[] = {
		{"idle: the next idle attempt", {10, 9, 0, 0, 1000}, {1000, 1000, 60000, 0, NULL, NULL}, 61000},
		{"a change: at the window's end", {12, 9, 0, 5000, 1000}, {1000, 1000, 60000, 0, NULL, NULL}, 6000},
		{"a change right after a signature: not before the interval",
		 {12, 9, 0, 1100, 1000}, {100, 1000, 60000, 0, NULL, NULL}, 2000},
		{"only the checkpoint's own record: nothing to sign", {10, 9, 0, 5000, 1000},
		 {1000, 1000, 60000, 0, NULL, NULL}, 61000},
		{"after-write signing off: only the idle attempt", {12, 9, 0, 5000, 1000},
		 {-1, 1000, 60000, 0, NULL, NULL}, 61000},
		{"an ask: as soon as the interval allows", {12, 9, 12, 0, 1000}, {-1, 1000, 60000, 0, NULL, NULL},
		 2000},
		{"an ask already covered: idle", {12, 12, 12, 0, 1000}, {-1, 1000, 60000, 0, NULL, NULL}, 61000},
		{"an ask and a change: the earlier", {12, 9, 11, 1500, 1000}, {5000, 1000, 60000, 0, NULL, NULL},
		 2000},
		{"no checkpoint yet, nothing asked: the idle attempt", {0, -1, 0, 0, 0},
		 {1000, 1, 5, 0, NULL, NULL}, 5},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = gh_checkpoint_due(&cases[i].st, &cases[i].o);

		if (got != cases[i].due)
			fprintf(stderr, "  case \"%s\": due %lld, expected %lld\n", cases[i].what,
				(long long)got, (long long)cases[i].due);
		CHECK_INT(got, cases[i].due);
	}
}

/* Nobody asks: a write is covered soon, by the signer alone. */
static void test_checkpointer__signs_after_a_write(void)
{
	fixture f;
	int64_t seq, deadline;

	if (setup(&f, "after.db", 3, 50, 50))
		goto cleanup;
	/* at start: the log grew since (there was no) checkpoint */
	CHECK_INT(latest_size(f.s), 3);
	CHECK_INT(gh_checkpointer_signed(f.c), 1);
	seq = add_events(f.s, 2);
	deadline = now_ms() + 10000;
	while (latest_size(f.s) < seq && now_ms() < deadline)
		sleep_ms(10);
	CHECK_INT(latest_size(f.s), seq);
	CHECK_INT(gh_checkpointer_signed(f.c), 2);
cleanup:
	teardown(&f);
}

/* A stream of writes gets a bounded number of signatures: no more than one
 * per interval (plus the one at start and one at the end). */
static void test_checkpointer__writes_bounded(void)
{
	fixture f;
	int64_t t0, elapsed, sigs, seq = 0, before;
	char *note = NULL;
	int writes = 0;

	if (setup(&f, "burst.db", 1, 10, 200))
		goto cleanup;
	before = gh_checkpointer_signed(f.c);
	t0 = now_ms();
	while (writes < 400 && now_ms() - t0 < 1500) {
		seq = add_events(f.s, 1);
		writes++;
	}
	elapsed = now_ms() - t0;
	sigs = gh_checkpointer_signed(f.c) - before;
	CHECK(sigs <= elapsed / 200 + 2);
	CHECK(sigs < writes);
	/* and the last write is covered */
	CHECK_INT(gh_checkpointer_wait(&note, f.c, seq, 5000), 0);
	CHECK(size_of(note) >= seq);
cleanup:
	free(note);
	teardown(&f);
}

typedef struct asker {
	gh_checkpointer *c;
	int64_t covers;
	int rc;
	int64_t size;
} asker;

static void *ask(void *arg)
{
	asker *a = arg;
	char *note = NULL;

	a->rc = gh_checkpointer_wait(&note, a->c, a->covers, 5000);
	a->size = size_of(note);
	free(note);
	return NULL;
}

/* With after-write signing off, many callers asking for the same event at
 * once are all answered by one signature. */
static void test_checkpointer__many_asks_one_signature(void)
{
	enum { N = 12 };
	pthread_t th[N];
	asker a[N];
	fixture f;
	int64_t seq, before;

	if (setup(&f, "asks.db", 2, -1, 100))
		goto cleanup;
	seq = add_events(f.s, 1);
	CHECK(latest_size(f.s) < seq);
	before = gh_checkpointer_signed(f.c);
	for (int i = 0; i < N; i++) {
		a[i] = (asker){f.c, seq, -100, -1};
		CHECK_INT(pthread_create(&th[i], NULL, ask, &a[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(a[i].rc, 0);
		CHECK(a[i].size >= seq);
	}
	CHECK_INT(gh_checkpointer_signed(f.c) - before, 1);
	/* asked again: already covered, nothing signed */
	a[0].rc = -100;
	ask(&a[0]);
	CHECK_INT(a[0].rc, 0);
	CHECK_INT(gh_checkpointer_signed(f.c) - before, 1);
cleanup:
	teardown(&f);
}

/* Each waiting caller holds an HTTP worker: past max_waiters, callers are
 * turned away at once (GH_ELIMITED) instead of queueing. */
static void test_checkpointer__waiters_capped(void)
{
	gh_checkpointer_options o = {-1, HOUR_MS, HOUR_MS, 2, NULL, NULL};
	asker a[2], extra;
	pthread_t th[2];
	fixture f;
	int64_t seq, t0;

	if (setup_with(&f, "capped.db", 2, &o))
		goto cleanup;
	seq = add_events(f.s, 1);
	for (int i = 0; i < 2; i++) {
		a[i] = (asker){f.c, seq, -100, -1};
		CHECK_INT(pthread_create(&th[i], NULL, ask, &a[i]), 0);
	}
	/* once both wait, a third caller is refused at once */
	t0 = now_ms();
	while (gh_checkpointer_waiting(f.c) < 2 && now_ms() - t0 < 4000)
		sched_yield();
	CHECK_INT(gh_checkpointer_waiting(f.c), 2);
	{
		char *note = NULL;

		extra.rc = gh_checkpointer_wait(&note, f.c, seq, 1000);
		free(note);
	}
	CHECK_INT(extra.rc, GH_ELIMITED);
	gh_checkpointer_stop(f.c);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(a[i].rc, GH_ECONFLICT);
	}
cleanup:
	teardown(&f);
}

/* What a caller may not wait for: an event the log does not have, the
 * latest checkpoint's own record, a wait past the cap. */
static void test_checkpointer__covers_checked(void)
{
	fixture f;
	char *note = NULL;
	int64_t size;

	if (setup(&f, "covers.db", 4, -1, 50))
		goto cleanup;
	size = latest_size(f.s);
	CHECK_INT(size, 4);
	CHECK_INT(gh_checkpointer_wait(&note, f.c, 4, 0), 0);
	CHECK_INT(size_of(note), 4);
	free(note);
	note = NULL;
	CHECK_INT(gh_checkpointer_wait(&note, f.c, 99, 1000), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "no event 99") != NULL);
	CHECK_INT(gh_checkpointer_wait(&note, f.c, 5, 1000), GH_EINVALID);
	if (!CHECK(strstr(gh_error_last()->message, "checkpoint.signed") != NULL))
		fprintf(stderr, "  got: %s\n", gh_error_last()->message);
	CHECK_INT(gh_checkpointer_wait(&note, f.c, 1, GH_CHECKPOINT_WAIT_MAX_MS + 1), GH_EINVALID);
	CHECK_INT(gh_checkpointer_wait(&note, f.c, 0, 0), GH_EINVALID);
	CHECK(note == NULL);
	CHECK_INT(gh_checkpointer_signed(f.c), 1);
cleanup:
	free(note);
	teardown(&f);
}

/* A rewritten log is never signed: the waiter learns why at once. */
static void test_checkpointer__refusal_reaches_waiters(void)
{
	fixture f;
	char *note = NULL;
	int64_t seq, t0;

	if (setup(&f, "refuse.db", 6, -1, 20))
		goto cleanup;
	CHECK_INT(sf_exec(f.s, "UPDATE audit_events SET details = '{\"n\":33}'"
			       " WHERE seq = 3; DELETE FROM merkle_nodes"), 0);
	CHECK_INT(sf_backfill(f.s), 0);
	seq = add_events(f.s, 1);
	t0 = now_ms();
	CHECK_INT(gh_checkpointer_wait(&note, f.c, seq, 5000), GH_ECONFLICT);
	CHECK(strstr(gh_error_last()->message, "refusing to sign") != NULL);
	CHECK(now_ms() - t0 < 4000);   /* woken by the failure, not by the timeout */
	CHECK(note == NULL);
	/* an admin's explicit signature is refused the same way */
	CHECK_INT(gh_checkpointer_sign_now(&note, f.c), GH_ECONFLICT);
	CHECK(note == NULL);
cleanup:
	teardown(&f);
}

/* An admin's signature wakes a waiter whose ask the interval holds back. */
static void test_checkpointer__sign_now_wakes_waiters(void)
{
	fixture f;
	asker a;
	pthread_t th;
	char *note = NULL;
	int64_t seq, t0;

	if (setup(&f, "now.db", 2, -1, HOUR_MS))
		goto cleanup;
	seq = add_events(f.s, 1);
	a = (asker){f.c, seq, -100, -1};
	t0 = now_ms();
	CHECK_INT(pthread_create(&th, NULL, ask, &a), 0);
	CHECK_INT(gh_checkpointer_sign_now(&note, f.c), 0);
	CHECK(size_of(note) >= seq);
	pthread_join(th, NULL);
	CHECK_INT(a.rc, 0);
	CHECK(a.size >= seq);
	CHECK(now_ms() - t0 < 4000);
cleanup:
	free(note);
	teardown(&f);
}

/* Stopping wakes a waiter at once (a server's shutdown does not wait for it). */
static void test_checkpointer__stop_wakes_waiters(void)
{
	fixture f;
	asker a;
	pthread_t th;
	int64_t t0;

	if (setup(&f, "stop.db", 2, -1, HOUR_MS))
		goto cleanup;
	a = (asker){f.c, add_events(f.s, 1), -100, -1};
	t0 = now_ms();
	CHECK_INT(pthread_create(&th, NULL, ask, &a), 0);
	gh_checkpointer_stop(f.c);
	pthread_join(th, NULL);
	CHECK_INT(a.rc, GH_ECONFLICT);
	CHECK(now_ms() - t0 < 4000);
cleanup:
	teardown(&f);
}

static int never(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Another node holds the signing duty: this signer signs nothing on its own,
 * and a waiter here is answered by the other node's checkpoint once observed. */
static void test_checkpointer__another_node_signs(void)
{
	gh_checkpointer_options o = {50, 50, HOUR_MS, 0, never, NULL};
	fixture f;
	asker a;
	pthread_t th;
	char *note = NULL;
	int64_t seq, t0;

	if (setup_with(&f, "other.db", 3, &o))
		goto cleanup;
	seq = add_events(f.s, 2);
	sleep_ms(300);       /* several windows of 50 ms: it would have signed */
	CHECK_INT(gh_checkpointer_signed(f.c), 0);
	CHECK_INT(latest_size(f.s), -1);
	a = (asker){f.c, seq, -100, -1};
	t0 = now_ms();
	CHECK_INT(pthread_create(&th, NULL, ask, &a), 0);
	/* the other node signs, and this one sees it in the database */
	CHECK_INT(gh_checkpoint_sign(&note, f.s, f.k, ORIGIN), 0);
	gh_checkpointer_observe(f.c, seq + 1, size_of(note));
	pthread_join(th, NULL);
	CHECK_INT(a.rc, 0);
	CHECK(a.size >= seq);
	CHECK(now_ms() - t0 < 4000);
	CHECK_INT(gh_checkpointer_signed(f.c), 0);
cleanup:
	free(note);
	teardown(&f);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"checkpoint_due__rule", test_checkpoint_due__rule},
		{"checkpointer__signs_after_a_write", test_checkpointer__signs_after_a_write},
		{"checkpointer__waiters_capped", test_checkpointer__waiters_capped},
		{"checkpointer__writes_bounded", test_checkpointer__writes_bounded},
		{"checkpointer__many_asks_one_signature", test_checkpointer__many_asks_one_signature},
		{"checkpointer__covers_checked", test_checkpointer__covers_checked},
		{"checkpointer__refusal_reaches_waiters", test_checkpointer__refusal_reaches_waiters},
		{"checkpointer__sign_now_wakes_waiters", test_checkpointer__sign_now_wakes_waiters},
		{"checkpointer__stop_wakes_waiters", test_checkpointer__stop_wakes_waiters},
		{"checkpointer__another_node_signs", test_checkpointer__another_node_signs},
		{NULL, NULL}};

	if (gh_init())
		return 2;
	return gh_test_run(cases, argc, argv);
}
