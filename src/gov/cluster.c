/* cluster.c - several nodes on one database: each node's id, the leases it
 * takes (the checkpoint signer's duty, scheduled reconciliation), and the
 * follower thread that, every poll interval, brings into this process what
 * other nodes changed: the token cache's generation, the active policy
 * version, the audit log's growth and the latest checkpoint. */
#include "gov/gov_internal.h"
#include "audit/checkpoint.h"
#include "store/checkpoints.h"
#include "store/cluster.h"
#include "store/log.h"
#include "store/policies.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS_DEFAULT 1000
#define POLL_MS_MIN 50
#define POLL_MS_MAX 60000
#define SIGN_LEASE "checkpoint-signer"
#define SIGN_LEASE_POLLS 5      /* the signing lease lasts this many poll intervals */
#define AUTH_GENERATION "auth"

struct gov_cluster {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	int poll_ms;
	_Atomic int64_t sign_until_ms;  /* this node may sign on its own before this */
	int64_t lease_until_ms;         /* the signing lease as last taken */
	int64_t auth_seen;              /* the auth generation this process follows */
	char policy_seen[GH_ID_LEN];    /* the active policy version last loaded */
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gov_cluster_init(gh_gov *g)
{
	char host[40] = "node";
	unsigned char rnd[2];
	char hex[5];

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	randombytes_buf(rnd, sizeof(rnd));
	gh_hex(hex, rnd, sizeof(rnd));
	snprintf(g->node_id, sizeof(g->node_id), "%s-%ld-%s", host, (long)getpid(), hex);
	g->job_lease = GOV_JOB_LEASE;
}

const char *gh_gov_node_id(gh_gov *g)
{
	return g->node_id;
}

int gov_lease_take(gh_gov *g, const char *name, int64_t ms, int renew)
{
	int64_t now = wall_ms();
	int held = 0, rc;

	if ((rc = gh_store_begin(g->store)))
		return rc;
	rc = gh_store_lease_take(&held, g->store, name, g->node_id, now, now + ms, renew);
	if ((rc = gov_finish(g, rc)))
		return rc;
	return held;
}

int gov_cluster_may_sign(void *ctx)
{
	gh_gov *g = ctx;
	struct gov_cluster *c = g->cluster;

	/* one process alone (no follower): it signs */
	return !c || wall_ms() < atomic_load(&c->sign_until_ms);
}

/* Keeps (or takes) the signing lease when half of it has run. A node that
 * cannot renew stops signing one poll interval before its lease ends, so
 * the next holder never overlaps it (and were it to, the log's head lock
 * and the size check in the signing transaction keep one line of
 * checkpoints). */
static void sign_lease(gh_gov *g, struct gov_cluster *c)
{
	int64_t lease = (int64_t)c->poll_ms * SIGN_LEASE_POLLS, now = wall_ms();
	int held;

	if (c->lease_until_ms - now > lease / 2)
		return;
	held = gov_lease_take(g, SIGN_LEASE, lease, 1);
	if (held < 0) {
		gh_error_clear();
		return;     /* the database is away: the lease runs out on its own */
	}
	c->lease_until_ms = held ? now + lease : 0;
	atomic_store(&c->sign_until_ms, held ? now + lease - c->poll_ms : 0);
}

/* One look at what other nodes changed. */
static void follow(gh_gov *g, struct gov_cluster *c, int first)
{
	char active[GH_ID_LEN] = "";
	int64_t auth = 0, version = 0, head = 0, signed_size = -1;
	int rc;

	gh_store_read_begin(g->store);
	rc = gh_store_generation_get(&auth, g->store, AUTH_GENERATION);
	if (!rc)
		rc = gh_store_policy_active(active, sizeof(active), &version, g->store);
	if (!rc && g->checkpointer && !(rc = gh_store_log_last_seq(&head, g->store))) {
		rc = gh_store_checkpoint_latest(&signed_size, NULL, NULL, g->store);
		if (rc == GH_ENOTFOUND)
			rc = 0;
	}
	gh_store_read_end(g->store);
	if (rc) {
		gh_error_clear();   /* the database is away: look again next time */
		return;
	}
	if (!first && auth != c->auth_seen)
		atomic_fetch_add(&g->auth_gen, 1);    /* cached tokens are read again */
	c->auth_seen = auth;
	if (!first && strcmp(active, c->policy_seen) != 0 && gov_policy_load_active(g) != 0) {
		gh_error_clear();
		return;             /* tried again at the next look */
	}
	snprintf(c->policy_seen, sizeof(c->policy_seen), "%s", active);
	if (g->checkpointer) {
		sign_lease(g, c);
		gh_checkpointer_observe(g->checkpointer, head, signed_size);
	}
}

static struct timespec after_ms(int ms)
{
	struct timespec at;

	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec += ms / 1000;
	at.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	return at;
}

static void *follower_main(void *arg)
{
	gh_gov *g = arg;
	struct gov_cluster *c = g->cluster;
	struct timespec until;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		until = after_ms(c->poll_ms);
		pthread_cond_timedwait(&c->cond, &c->lock, &until);
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->lock);
		follow(g, c, 0);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int gh_gov_cluster_start(gh_gov *g, const gh_gov_cluster_options *o)
{
	struct gov_cluster *c;
	int rc;

	if (g->cluster)
		return gh_error_set(GH_ECONFLICT, "the cluster follower is already running");
	if (g->checkpointer)
		return gh_error_set(GH_ECONFLICT, "start the cluster follower before the"
				    " checkpoint signer");
	if (o && o->node_id) {
		size_t n = strlen(o->node_id);

		if (n < 1 || n >= GOV_NODE_ID_LEN || strspn(o->node_id,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
			return gh_error_set(GH_EINVALID, "node id: 1 to %d letters, digits, '.', '_'"
					    " or '-'", GOV_NODE_ID_LEN - 1);
		snprintf(g->node_id, sizeof(g->node_id), "%s", o->node_id);
	}
	if (o && o->poll_ms && (o->poll_ms < POLL_MS_MIN || o->poll_ms > POLL_MS_MAX))
		return gh_error_set(GH_EINVALID, "poll interval: %d to %d ms", POLL_MS_MIN,
				    POLL_MS_MAX);
	if (o && o->job_lease && (o->job_lease < 1 || o->job_lease > 86400))
		return gh_error_set(GH_EINVALID, "job lease: 1 s to 1 day");
	if (o && o->job_lease)
		g->job_lease = o->job_lease;
	if (!(c = calloc(1, sizeof(*c))))
		return gh_error_set(GH_ERROR, "out of memory");
	c->poll_ms = o && o->poll_ms ? o->poll_ms : POLL_MS_DEFAULT;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	g->cluster = c;
	follow(g, c, 1);
	if ((rc = pthread_create(&c->thread, NULL, follower_main, g))) {
		g->cluster = NULL;
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->cond);
		free(c);
		return gh_error_set(GH_ERROR, "starting the cluster follower: %s", strerror(rc));
	}
	return 0;
}

/* The checkpoint signer started after the follower: its lease is taken at
 * once, so a node alone signs from its first moment. */
void gov_cluster_signer_started(gh_gov *g)
{
	struct gov_cluster *c = g->cluster;

	if (c)
		sign_lease(g, c);
}

void gh_gov_cluster_stop(gh_gov *g)
{
	struct gov_cluster *c = g ? g->cluster : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	/* a node stopping cleanly hands the signing duty over at once */
	if (c->lease_until_ms && gh_store_begin(g->store) == 0)
		gov_finish(g, gh_store_lease_release(g->store, SIGN_LEASE, g->node_id, wall_ms()));
	g->cluster = NULL;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}
