/* batch.h - group commit, for the backends (src/store/<backend>/store.c): a
 * write operation runs as a savepoint inside an open transaction, and the
 * last operation of a burst commits the whole batch at once, so concurrent
 * writers share one durable commit. Each caller still returns only after its
 * own changes are durable, and a failed commit fails every operation of the
 * batch. The backend supplies the SQL steps (gh_store_batch_steps); the
 * batch owns the writer's lock and the waiting. */
#ifndef GH_STORE_BATCH_H
#define GH_STORE_BATCH_H

#include <pthread.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

#define GH_STORE_BATCH_MAX 128   /* default cap on operations in one commit */

/* What a backend does at each step, on its writer connection; ctx is the
 * backend's store. Each returns 0 or an error (set with gh_error_set). */
typedef struct gh_store_batch_steps {
	int (*open)(void *ctx);        /* start the batch's transaction */
	int (*commit)(void *ctx);      /* commit it; on failure leave none open */
	int (*savepoint)(void *ctx);   /* start an operation */
	int (*release)(void *ctx);     /* keep an operation (may fail: then undo) */
	void (*undo)(void *ctx);       /* undo an operation, keep the batch */
} gh_store_batch_steps;

typedef struct gh_store_batch_waiter gh_store_batch_waiter;

typedef struct gh_store_batch {
	const gh_store_batch_steps *steps;
	void *ctx;
	gh_store_log_cache *log;       /* cleared on undo and on a failed commit */
	pthread_mutex_t lock;          /* the writer's: one operation at a time */
	pthread_cond_t flushed;
	int waiting;                   /* threads blocked on lock */
	int in_tx;                     /* a batch's transaction is open */
	int pending;                   /* operations released into it */
	int max;                       /* at most this many in one batch */
	gh_store_batch_waiter *waiters;   /* theirs, waiting for its commit */
	void (*after_commit)(void *ctx, int64_t seq);
	void *after_commit_ctx;
} gh_store_batch;

void gh_store_batch_init(gh_store_batch *b, const gh_store_batch_steps *steps, void *ctx,
			 gh_store_log_cache *log);
void gh_store_batch_destroy(gh_store_batch *b);

/* The writer's lock alone (exclusive use, a read that falls back to the
 * writer): lock commits an open batch first. held: the calling thread holds
 * b's lock. */
void gh_store_batch_lock(gh_store_batch *b);
void gh_store_batch_unlock(gh_store_batch *b);
int gh_store_batch_held(const gh_store_batch *b);

/* gh_store_begin: the lock, the batch's transaction if none is open (steps
 * open), an operation's savepoint. On failure nothing is held. */
int gh_store_batch_begin(gh_store_batch *b);
/* gh_store_commit after the backend's before-release hook: keeps the
 * operation, leaves the lock and waits until its batch committed. The
 * outcome: 0, or the error code with its message in msg (the caller sets
 * it, after its after-wait hook). */
int gh_store_batch_release(gh_store_batch *b, char msg[sizeof(((gh_error *)0)->message)]);
/* gh_store_rollback: undoes the operation and leaves the lock. */
void gh_store_batch_undo(gh_store_batch *b);

/* fn runs after each batch that holds a released operation commits, under
 * the lock, with the audit head's sequence number (-1 when not known). */
void gh_store_batch_after_commit(gh_store_batch *b, void (*fn)(void *ctx, int64_t seq),
				 void *ctx);

#endif
