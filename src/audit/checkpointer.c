/* checkpointer.c - the signer of a serving process: signs a checkpoint soon
 * after the audit log grows (rate-limited), and on callers' asks, so that
 * evidence never waits for an administrator (docs/internals/audit.md). */
#include "audit/checkpoint.h"
#include "common/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gh_checkpointer {
	gh_store *store;
	const gh_signer *signer;
	char origin[160];
	gh_checkpointer_options opt;
	pthread_t thread;
	int started;
	pthread_mutex_t sign_mu;  /* one signature at a time: the thread, sign_now */
	pthread_mutex_t mu;       /* the fields below; never held while using the store */
	pthread_cond_t wake;      /* the thread: a change, an ask, stop */
	pthread_cond_t done;      /* waiters: an attempt ended */
	gh_checkpoint_sched st;
	int stop;
	int waiters;
	int64_t signatures;       /* checkpoints this signer signed */
	int64_t failures;         /* attempts that failed */
	char failure[512];        /* the last failure's reason */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec at_ms(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	return ts;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int64_t gh_checkpoint_due(const gh_checkpoint_sched *st, const gh_checkpointer_options *o)
{
	int64_t floor = st->last_attempt + o->min_interval_ms;
	int64_t due = st->last_attempt + o->every_ms;

	/* a caller waits: as soon as the interval allows */
	if (st->wanted > 0 && st->wanted > st->signed_size)
		due = min64(due, floor);
	/* the log grew past the latest checkpoint and its own record: at the
	 * window's end, gathering what comes meanwhile */
	if (o->after_ms >= 0 && st->pending_since > 0 && st->head_seq > st->signed_size + 1)
		due = min64(due, max64(st->pending_since + o->after_ms, floor));
	return due;
}

/* The tree size of a note we signed: its second line. */
static int64_t note_size(const char *note)
{
	const char *nl = strchr(note, '\n');

	return nl ? strtoll(nl + 1, NULL, 10) : -1;
}

/* Runs after every commit of the store, under its lock: records how far the
 * log is and wakes the thread when it newly has something to sign. */
static void on_commit(void *ctx, int64_t seq)
{
	gh_checkpointer *c = ctx;

	pthread_mutex_lock(&c->mu);
	if (seq > c->st.head_seq) {
		c->st.head_seq = seq;
		if (seq > c->st.signed_size + 1 && !c->st.pending_since) {
			c->st.pending_since = max64(now_ms(), 1);
			pthread_cond_signal(&c->wake);
		}
	}
	pthread_mutex_unlock(&c->mu);
}

/* One attempt: signs when the log grew (always with force), records the
 * outcome and wakes the waiters. *out (may be NULL) receives the note. */
static int attempt(gh_checkpointer *c, int force, char **out)
{
	char *note = NULL;
	int64_t size = -1, now;
	int rc;

	pthread_mutex_lock(&c->sign_mu);
	gh_error_clear();
	rc = force ? gh_checkpoint_sign(&note, c->store, c->signer, c->origin)
		   : gh_checkpoint_sign_if_grew(&note, c->store, c->signer, c->origin);
	if (rc == 0)
		rc = note ? ((size = note_size(note)) < 0 ? GH_ERROR : 0)
			  : gh_checkpoint_latest_size(&size, c->store);
	pthread_mutex_unlock(&c->sign_mu);

	pthread_mutex_lock(&c->mu);
	now = max64(now_ms(), 1);
	c->st.last_attempt = now;
	if (rc == 0) {
		c->failure[0] = '\0';
		c->st.signed_size = max64(c->st.signed_size, size);
		if (note)
			c->signatures++;
		/* satisfied, or nothing to sign: the log holds nothing past it */
		if (c->st.wanted <= c->st.signed_size || !note)
			c->st.wanted = 0;
		c->st.pending_since = c->st.head_seq > c->st.signed_size + 1 ? now : 0;
	} else {
		const char *why = gh_error_last()->message;

		/* a refusal (the log changed) is logged once, not at every attempt */
		if (strcmp(c->failure, why) != 0)
			fprintf(stderr, "gatehouse: signing a checkpoint: %s\n", why);
		snprintf(c->failure, sizeof(c->failure), "%s", why);
		c->failures++;
		c->st.wanted = 0;
		c->st.pending_since = 0;
	}
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->mu);
	if (out && rc == 0)
		*out = note;
	else
		free(note);
	return rc;
}

static int may_sign(const gh_checkpointer *c)
{
	return !c->opt.may_sign || c->opt.may_sign(c->opt.may_sign_ctx);
}

void gh_checkpointer_observe(gh_checkpointer *c, int64_t head_seq, int64_t signed_size)
{
	int64_t now;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	now = max64(now_ms(), 1);
	if (signed_size > c->st.signed_size) {
		c->st.signed_size = signed_size;
		if (c->st.wanted <= signed_size)
			c->st.wanted = 0;
		if (c->st.head_seq <= signed_size + 1)
			c->st.pending_since = 0;
		pthread_cond_broadcast(&c->done);
	}
	if (head_seq > c->st.head_seq) {
		c->st.head_seq = head_seq;
		if (head_seq > c->st.signed_size + 1 && !c->st.pending_since) {
			c->st.pending_since = now;
			pthread_cond_signal(&c->wake);
		}
	}
	pthread_mutex_unlock(&c->mu);
}

static void *run(void *arg)
{
	gh_checkpointer *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		int64_t now = now_ms(), due = gh_checkpoint_due(&c->st, &c->opt);

		if (due > now) {
			struct timespec at = at_ms(due);

			pthread_cond_timedwait(&c->wake, &c->mu, &at);
			continue;
		}
		if (!may_sign(c)) {
			/* another node signs: ask again after the interval; its
			 * checkpoints reach the waiters through observe */
			c->st.last_attempt = max64(now, 1);
			continue;
		}
		pthread_mutex_unlock(&c->mu);
		attempt(c, 0, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int gh_checkpointer_start(gh_checkpointer **out, gh_store *s, const gh_signer *k,
			  const char *origin, const gh_checkpointer_options *o)
{
	pthread_condattr_t ca;
	gh_checkpointer *c;
	int64_t size = 0;
	int rc;

	*out = NULL;
	if (!o || o->min_interval_ms < 1 || o->every_ms < 1)
		return gh_error_set(GH_EINVALID, "checkpoint signer: the interval and the idle"
				    " period must be at least 1 ms");
	if (strlen(origin) >= sizeof(c->origin))
		return gh_error_set(GH_EINVALID, "checkpoint signer: origin is too long");
	if (!(c = calloc(1, sizeof(*c))))
		return gh_error_set(GH_ERROR, "out of memory");
	c->store = s;
	c->signer = k;
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
	c->opt = *o;
	c->st.signed_size = -1;
	pthread_mutex_init(&c->sign_mu, NULL);
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &ca);
	pthread_cond_init(&c->done, &ca);
	pthread_condattr_destroy(&ca);
	gh_store_read_begin(s);
	rc = gh_merkle_size(&size, s);
	gh_store_read_end(s);
	if (rc)
		goto fail;
	c->st.head_seq = size;
	gh_store_after_commit(s, on_commit, c);
	/* at start, when the log grew since the latest checkpoint (or has none);
	 * a refusal is logged and retried, the server still serves */
	if (may_sign(c))
		attempt(c, 0, NULL);
	else if (!gh_checkpoint_latest_size(&size, s))
		c->st.signed_size = size;
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		rc = gh_error_set(GH_ERROR, "cannot start the checkpoint signer's thread");
		goto fail;
	}
	c->started = 1;
	*out = c;
	return 0;
fail:
	gh_checkpointer_free(c);
	return rc;
}

void gh_checkpointer_stop(gh_checkpointer *c)
{
	int join;

	if (!c)
		return;
	gh_store_after_commit(c->store, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	join = c->started;
	c->started = 0;
	pthread_cond_broadcast(&c->wake);
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->mu);
	if (join)
		pthread_join(c->thread, NULL);
}

void gh_checkpointer_free(gh_checkpointer *c)
{
	if (!c)
		return;
	gh_checkpointer_stop(c);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->sign_mu);
	free(c);
}

const gh_signer *gh_checkpointer_signer(const gh_checkpointer *c)
{
	return c->signer;
}

int64_t gh_checkpointer_signed(gh_checkpointer *c)
{
	int64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->signatures;
	pthread_mutex_unlock(&c->mu);
	return n;
}

int gh_checkpointer_waiting(gh_checkpointer *c)
{
	int n;

	pthread_mutex_lock(&c->mu);
	n = c->waiters;
	pthread_mutex_unlock(&c->mu);
	return n;
}

int gh_checkpointer_sign_now(char **note, gh_checkpointer *c)
{
	*note = NULL;
	return attempt(c, 1, note);
}

/* covers names an event the log has and a checkpoint can cover. */
static int check_covers(gh_checkpointer *c, int64_t covers, int64_t latest)
{
	int64_t tree = 0;
	int rc;

	gh_store_read_begin(c->store);
	rc = gh_merkle_size(&tree, c->store);
	gh_store_read_end(c->store);
	if (rc)
		return rc;
	gh_error_clear();
	if (covers > tree)
		gh_error_field("covers", "the log has %lld events, no event %lld yet",
			       (long long)tree, (long long)covers);
	else if (covers == latest + 1 && tree == latest + 1)
		gh_error_field("covers", "event %lld is the record of the latest checkpoint"
			       " (checkpoint.signed), which the next checkpoint covers once the"
			       " log grows", (long long)covers);
	return gh_error_fields_finish();
}

static int max_waiters(const gh_checkpointer *c)
{
	return c->opt.max_waiters > 0 ? c->opt.max_waiters : GH_CHECKPOINT_WAITERS_MAX;
}

int gh_checkpointer_wait(char **note, gh_checkpointer *c, int64_t covers, int64_t timeout_ms)
{
	int64_t latest = -1, failures, deadline;
	int rc;

	*note = NULL;
	if (covers < 1 || timeout_ms < 0 || timeout_ms > GH_CHECKPOINT_WAIT_MAX_MS)
		return gh_error_set(GH_EINVALID, "covers names an event (1 or more) and the wait"
				    " is at most %d ms", GH_CHECKPOINT_WAIT_MAX_MS);
	if ((rc = gh_checkpoint_latest_size(&latest, c->store)))
		return rc;
	if (latest >= covers)
		return gh_checkpoint_latest(note, c->store);
	if ((rc = check_covers(c, covers, latest)))
		return rc;

	pthread_mutex_lock(&c->mu);
	if (c->waiters >= max_waiters(c)) {
		pthread_mutex_unlock(&c->mu);
		return gh_error_set(GH_ELIMITED, "%d callers already wait for a checkpoint: try"
				    " again in a second", max_waiters(c));
	}
	c->waiters++;
	/* the ask: the thread signs as soon as the interval allows */
	if (covers > c->st.wanted) {
		c->st.wanted = covers;
		pthread_cond_signal(&c->wake);
	}
	failures = c->failures;
	deadline = now_ms() + timeout_ms;
	while (!c->stop && c->st.signed_size < covers && c->failures == failures) {
		struct timespec at = at_ms(deadline);

		if (pthread_cond_timedwait(&c->done, &c->mu, &at) == ETIMEDOUT)
			break;
	}
	c->waiters--;
	if (c->st.signed_size >= covers)
		rc = 0;
	else if (c->failures != failures)
		rc = gh_error_set(GH_ECONFLICT, "no checkpoint covers event %lld: signing failed:"
				  " %s", (long long)covers, c->failure);
	else if (c->stop)
		rc = gh_error_set(GH_ECONFLICT, "no checkpoint covers event %lld: the server is"
				  " stopping", (long long)covers);
	else
		rc = gh_error_set(GH_ECONFLICT, "no checkpoint covers event %lld yet after %lld ms"
				  " (the server signs at most once every %lld ms): try again",
				  (long long)covers, (long long)timeout_ms,
				  (long long)c->opt.min_interval_ms);
	pthread_mutex_unlock(&c->mu);
	return rc ? rc : gh_checkpoint_latest(note, c->store);
}
