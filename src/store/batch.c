/* batch.c - group commit shared by the backends (store/batch.h). */
#include "store/batch.h"

#include <stdio.h>

/* One operation released into the open batch, on its caller's stack: the
 * commit writes the result into it, so no result slot is ever shared or
 * reused while its waiter still needs it. */
struct gh_store_batch_waiter {
	int done;
	int rc;
	char msg[sizeof(((gh_error *)0)->message)];
	gh_store_batch_waiter *next;
};

/* The batch whose lock the calling thread holds, if any. */
static _Thread_local const gh_store_batch *holding;

void gh_store_batch_init(gh_store_batch *b, const gh_store_batch_steps *steps, void *ctx,
			 gh_store_log_cache *log)
{
	b->steps = steps;
	b->ctx = ctx;
	b->log = log;
	b->max = GH_STORE_BATCH_MAX;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->flushed, NULL);
}

void gh_store_batch_destroy(gh_store_batch *b)
{
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->flushed);
}

int gh_store_batch_held(const gh_store_batch *b)
{
	return holding == b;
}

static void take(gh_store_batch *b)
{
	if (pthread_mutex_trylock(&b->lock) != 0) {
		__atomic_add_fetch(&b->waiting, 1, __ATOMIC_SEQ_CST);
		pthread_mutex_lock(&b->lock);
		__atomic_sub_fetch(&b->waiting, 1, __ATOMIC_SEQ_CST);
	}
	holding = b;
}

/* Commits the open batch (lock held) and wakes its waiters. */
static int flush(gh_store_batch *b)
{
	int rc;

	if (!b->in_tx)
		return 0;
	rc = b->steps->commit(b->ctx);
	if (rc)
		b->log->valid = 0;
	else if (b->after_commit && b->pending > 0)   /* not a batch of undone operations */
		b->after_commit(b->after_commit_ctx, b->log->valid ? b->log->seq : -1);
	for (gh_store_batch_waiter *w = b->waiters; w; w = w->next) {
		w->rc = rc;
		snprintf(w->msg, sizeof(w->msg), "%s", rc ? gh_error_last()->message : "");
		w->done = 1;
	}
	b->waiters = NULL;
	b->in_tx = 0;
	b->pending = 0;
	pthread_cond_broadcast(&b->flushed);
	return rc;
}

/* Leaves the lock: commits the batch unless someone is queued to add to it. */
static void leave(gh_store_batch *b)
{
	if (b->in_tx && (b->pending >= b->max ||
			 __atomic_load_n(&b->waiting, __ATOMIC_SEQ_CST) == 0))
		flush(b);
	holding = NULL;
	pthread_mutex_unlock(&b->lock);
}

void gh_store_batch_lock(gh_store_batch *b)
{
	take(b);
	flush(b);
}

void gh_store_batch_unlock(gh_store_batch *b)
{
	leave(b);
}

int gh_store_batch_begin(gh_store_batch *b)
{
	int rc;

	take(b);
	if (!b->in_tx) {
		if ((rc = b->steps->open(b->ctx))) {
			holding = NULL;
			pthread_mutex_unlock(&b->lock);
			return rc;
		}
		b->in_tx = 1;
	}
	if ((rc = b->steps->savepoint(b->ctx))) {
		leave(b);
		return rc;
	}
	return 0;
}

int gh_store_batch_release(gh_store_batch *b, char msg[sizeof(((gh_error *)0)->message)])
{
	gh_store_batch_waiter w = {0};
	int rc;

	msg[0] = '\0';
	if ((rc = b->steps->release(b->ctx))) {
		snprintf(msg, sizeof(w.msg), "%s", gh_error_last()->message);
		b->log->valid = 0;
		b->steps->undo(b->ctx);
		leave(b);
		return rc;
	}
	b->pending++;
	w.next = b->waiters;
	b->waiters = &w;
	leave(b);
	pthread_mutex_lock(&b->lock);
	while (!w.done)
		pthread_cond_wait(&b->flushed, &b->lock);
	pthread_mutex_unlock(&b->lock);
	/* w is ours alone now: the commit that filled it unlinked it */
	snprintf(msg, sizeof(w.msg), "%s", w.msg);
	return w.rc;
}

void gh_store_batch_undo(gh_store_batch *b)
{
	b->log->valid = 0;
	b->steps->undo(b->ctx);
	leave(b);
}

void gh_store_batch_after_commit(gh_store_batch *b, void (*fn)(void *ctx, int64_t seq), void *ctx)
{
	pthread_mutex_lock(&b->lock);
	b->after_commit = fn;
	b->after_commit_ctx = ctx;
	pthread_mutex_unlock(&b->lock);
}
