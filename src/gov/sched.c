/* sched.c - the scheduler: expires grants and pending requests past their SLA,
 * revokes break-glass grants whose review was missed, and suspends NHIs past
 * their expiry or orphaned beyond the grace, in batches, from a background
 * thread or on demand. */
#include "gov/gov_internal.h"
#include "store/grants.h"
#include "store/sched.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHED_ACTOR "system:scheduler"
#define SCHED_BATCH 1000   /* rows per transaction: bounds lock hold time */
#define SCHED_BACKOFF_MS 200  /* after a run that found its due rows held elsewhere */

typedef char id_buf[GH_STORE_ID_LEN];

static int expire_grants(gh_gov *g, int64_t now, id_buf *ids, int *n)
{
	int rc;

	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_sched_due(ids, n, g->store, GH_STORE_DUE_GRANT_EXPIRY, now, SCHED_BATCH)))
		return gov_finish(g, rc);
	for (int i = 0; i < *n && !rc; i++)
		rc = gov_grant_end(g, SCHED_ACTOR, ids[i], "expired", "duration_elapsed");
	return gov_finish(g, rc);
}

static int expire_pending(gh_gov *g, int64_t now, id_buf *ids, int *n)
{
	json_t *details;
	int rc;

	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_sched_due(ids, n, g->store, GH_STORE_DUE_REQUEST_SLA, now, SCHED_BATCH)))
		return gov_finish(g, rc);
	for (int i = 0; i < *n && !rc; i++) {
		if ((rc = gov_request_move(g, ids[i], "pending_approval", "expired",
					   &(gov_request_change){.now = gh_now(),
								 .reason = "sla_elapsed"})))
			break;
		if (!(details = json_pack("{s:s, s:s}", "reason", "sla_elapsed",
					  "from", "pending_approval"))) {
			rc = gh_error_set(GH_ERROR, "out of memory auditing an SLA expiry");
			break;
		}
		rc = gh_audit_append(NULL, g->store, SCHED_ACTOR, "request.expired", "request",
				     ids[i], details);
		json_decref(details);
	}
	return gov_finish(g, rc);
}

/* A break-glass review past its due time: the review is missed, and the
 * grant (when still active) is revoked. Reported by ?review_state=missed. */
static int review_missed(gh_gov *g, int64_t now, id_buf *ids, int *n)
{
	char status[GH_STORE_STATE_LEN];
	json_t *details;
	int rc, active;

	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_sched_due(ids, n, g->store, GH_STORE_DUE_REVIEW, now, SCHED_BATCH)))
		return gov_finish(g, rc);
	for (int i = 0; i < *n && !rc; i++) {
		if ((rc = gh_store_grant_review_miss(status, g->store, ids[i], gh_now())) <= 0)
			continue;   /* 0: no longer pending (another writer recorded it) */
		active = strcmp(status, "active") == 0;
		if (!(details = json_pack("{s:s, s:b}", "reason", "break-glass review missed",
					  "revoked", active))) {
			rc = gh_error_set(GH_ERROR, "out of memory auditing a missed review");
			break;
		}
		rc = gh_audit_append(NULL, g->store, SCHED_ACTOR, "grant.review_missed", "grant",
				     ids[i], details);
		json_decref(details);
		if (!rc && active)
			rc = gov_grant_end(g, SCHED_ACTOR, ids[i], "revoked",
					   "break-glass review missed");
	}
	return gov_finish(g, rc);
}

/* NHIs due of kind what (at is now, or now - grace for orphans) are
 * suspended with why as their status_reason (gov_identity_retire). */
static int retire_nhis(gh_gov *g, gh_store_due what, int64_t at, const char *why, id_buf *ids,
		       int *n)
{
	int rc;

	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_sched_due(ids, n, g->store, what, at, SCHED_BATCH)))
		return gov_finish(g, rc);
	for (int i = 0; i < *n && !rc; i++)
		rc = gov_identity_retire(g, SCHED_ACTOR, ids[i], why);
	rc = gov_finish(g, rc);
	if (!rc && *n > 0)
		gov_auth_changed(g);   /* their tokens stop at once */
	return rc;
}

static int expire_nhis(gh_gov *g, int64_t now, id_buf *ids, int *n)
{
	return retire_nhis(g, GH_STORE_DUE_NHI_EXPIRY, now, "expired", ids, n);
}

static int suspend_orphans(gh_gov *g, int64_t now, id_buf *ids, int *n)
{
	return retire_nhis(g, GH_STORE_DUE_ORPHAN, now - g->opts.orphan_grace, "orphaned", ids, n);
}

int gh_gov_sched_run(gh_gov *g, int64_t now, int *out_expired, int *out_sla)
{
	id_buf *ids = malloc(SCHED_BATCH * sizeof(*ids));
	int rc = 0, n, expired = 0, sla = 0;

	if (out_expired)
		*out_expired = 0;
	if (out_sla)
		*out_sla = 0;
	if (!ids)
		return gh_error_set(GH_ERROR, "out of memory running the scheduler");
	/* each batch ends what it selected, so a full batch means maybe more;
	 * missed reviews first: they revoke before an expiry would */
	do {
		if ((rc = review_missed(g, now, ids, &n)))
			goto cleanup;
	} while (n == SCHED_BATCH);
	/* NHIs before grants: an expired NHI's grants end as "identity expired" */
	do {
		if ((rc = expire_nhis(g, now, ids, &n)))
			goto cleanup;
	} while (n == SCHED_BATCH);
	do {
		if ((rc = suspend_orphans(g, now, ids, &n)))
			goto cleanup;
	} while (n == SCHED_BATCH);
	do {
		if ((rc = expire_grants(g, now, ids, &n)))
			goto cleanup;
		expired += n;
	} while (n == SCHED_BATCH);
	do {
		if ((rc = expire_pending(g, now, ids, &n)))
			goto cleanup;
		sla += n;
	} while (n == SCHED_BATCH);
cleanup:
	free(ids);
	if (out_expired)
		*out_expired = expired;
	if (out_sla)
		*out_sla = sla;
	return rc;
}

int64_t gh_gov_sched_next_due(gh_gov *g)
{
	int64_t due;

	gh_store_read_begin(g->store);
	if (gh_store_sched_next_due(&due, g->store, g->opts.orphan_grace))
		due = INT64_MAX;   /* the next wake-up (at most max sleep) asks again */
	gh_store_read_end(g->store);
	return due;
}

/* The absolute CLOCK_REALTIME instant at which gh_now() first reads due,
 * or ms from now, whichever is sooner. */
static struct timespec wake_time(int64_t due, int64_t ms)
{
	struct timespec now, at;

	clock_gettime(CLOCK_REALTIME, &now);
	at = now;
	at.tv_sec += (time_t)(ms / 1000);
	at.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	if (due != INT64_MAX) {
		time_t due_real = (time_t)(due - gh_time_offset());
		if (due_real < at.tv_sec || (due_real == at.tv_sec && at.tv_nsec > 0)) {
			at.tv_sec = due_real;
			at.tv_nsec = 1000000L;   /* just past the second boundary */
		}
		/* already past it while gh_now() (time(), which lags this clock by up
		 * to a tick) still reads the second before: wait a millisecond for it
		 * rather than re-plan at once (measured: ~150 busy re-plans per due
		 * second, each with its queries) */
		if (at.tv_sec < now.tv_sec || (at.tv_sec == now.tv_sec && at.tv_nsec <= now.tv_nsec)) {
			at = now;
			at.tv_nsec += 1000000L;
			if (at.tv_nsec >= 1000000000L) {
				at.tv_sec++;
				at.tv_nsec -= 1000000000L;
			}
		}
	}
	return at;
}

static void *sched_main(void *arg)
{
	gh_gov *g = arg;
	int64_t now, due;
	struct timespec until;
	int failed = 0;

	pthread_mutex_lock(&g->sched_lock);
	while (!g->sched_stop) {
		g->sched_poked = 0;
		g->sched_wake = 0;      /* busy planning: no pokes needed */
		pthread_mutex_unlock(&g->sched_lock);
		gh_gov_auth_failures_flush(g, 0);   /* failed sign-ins of windows that ended */
		now = gh_now();
		due = gh_gov_sched_next_due(g);
		if (due <= now && !failed) {
			int ended = 0, sla = 0;

			/* a failure (e.g. a busy disk) waits a full period before retrying */
			failed = gh_gov_sched_run(g, now, &ended, &sla) != 0;
			pthread_mutex_lock(&g->sched_lock);
			/* due yet nothing ended: another node holds those rows (its
			 * batch ends them); look again shortly rather than spin */
			if (!failed && ended + sla == 0 && !g->sched_stop && !g->sched_poked) {
				until = wake_time(INT64_MAX, SCHED_BACKOFF_MS);
				pthread_cond_timedwait(&g->sched_cond, &g->sched_lock, &until);
			}
			continue;
		}
		failed = 0;
		until = wake_time(due > now ? due : INT64_MAX, g->sched_max_sleep_ms);
		pthread_mutex_lock(&g->sched_lock);
		g->sched_wake = (int64_t)until.tv_sec + gh_time_offset();
		/* one wait: a poke (something new is due) or a timeout re-plans */
		if (!g->sched_stop && !g->sched_poked)
			pthread_cond_timedwait(&g->sched_cond, &g->sched_lock, &until);
	}
	pthread_mutex_unlock(&g->sched_lock);
	return NULL;
}

void gov_sched_poke(gh_gov *g, int64_t due)
{
	pthread_mutex_lock(&g->sched_lock);
	if (g->sched_running && due < g->sched_wake) {
		g->sched_poked = 1;
		pthread_cond_broadcast(&g->sched_cond);
	}
	pthread_mutex_unlock(&g->sched_lock);
}

int gh_gov_sched_start(gh_gov *g, int max_sleep_ms)
{
	int rc;

	pthread_mutex_lock(&g->sched_lock);
	if (g->sched_running) {
		pthread_mutex_unlock(&g->sched_lock);
		return gh_error_set(GH_ECONFLICT, "the scheduler is already running");
	}
	g->sched_max_sleep_ms = max_sleep_ms > 0 ? max_sleep_ms : 1000;
	g->sched_stop = 0;
	rc = pthread_create(&g->sched_thread, NULL, sched_main, g);
	if (rc == 0)
		g->sched_running = 1;
	pthread_mutex_unlock(&g->sched_lock);
	if (rc)
		return gh_error_set(GH_ERROR, "starting the scheduler: %s", strerror(rc));
	return 0;
}

void gh_gov_sched_stop(gh_gov *g)
{
	int running;

	/* the workers and scheduled reconciliation stop with the scheduler */
	gh_gov_workers_stop(g);

	pthread_mutex_lock(&g->sched_lock);
	running = g->sched_running;
	g->sched_stop = 1;
	pthread_cond_broadcast(&g->sched_cond);
	pthread_mutex_unlock(&g->sched_lock);
	if (!running)
		return;
	pthread_join(g->sched_thread, NULL);
	pthread_mutex_lock(&g->sched_lock);
	g->sched_running = 0;
	g->sched_stop = 0;
	pthread_mutex_unlock(&g->sched_lock);
}
