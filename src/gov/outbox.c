/* outbox.c - provisioning jobs: written with the grant change, run by
 * workers through the connector outside any store section, each attempt and
 * its outcome recorded in one transaction. */
#include "gov/gov_internal.h"
#include "store/lifecycle.h"
#include "store/outbox.h"
#include "store/reconcile.h"
#include "common/config.h"
#include "connect/connect.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKER_ACTOR "system:worker"
#define WORKERS_MAX 64
#define POLL_MS 1000
#define ERROR_MAX 511        /* as long as any error message */


struct gov_workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t threads[WORKERS_MAX];
	int n;
	int stop;
	uint64_t pokes;           /* bumped by each poke: a waiter that saw it change runs */
	/* scheduled reconciliation (reconcile.c) */
	pthread_t recon_thread;
	int recon_running;
	int64_t recon_period;
};

int gov_connector_connected(const char *kind)
{
	return kind && !gh_connect_builtin(kind);
}

const gh_connector_kind *gov_connector_kind(gh_gov *g, const char *connector)
{
	const gh_config_instance *inst;

	if (gh_connect_builtin(connector))
		return gh_connector_find(connector);
	inst = gh_config_instance_find(g->opts.config, connector);
	return inst ? gh_connector_find(inst->kind) : NULL;
}

int64_t gov_job_backoff(int attempt)
{
	int64_t base = GOV_JOB_BACKOFF_MAX, ms;

	if (attempt < 1)
		attempt = 1;
	if (attempt <= 9)
		base = (int64_t)1 << (attempt - 1);
	if (base > GOV_JOB_BACKOFF_MAX)
		base = GOV_JOB_BACKOFF_MAX;
	/* +-20%: spreads retries of jobs that failed together */
	ms = base * 800 + (int64_t)randombytes_uniform((uint32_t)(base * 400 + 1));
	ms = (ms + 500) / 1000;
	return ms < 1 ? 1 : ms;
}

int gov_audit_take(gh_gov *g, const char *actor, const char *action, const char *type,
		   const char *id, json_t *details)
{
	int rc;

	if (!details)
		return gh_error_set(GH_ERROR, "out of memory auditing %s", action);
	rc = gh_audit_append(NULL, g->store, actor, action, type, id, details);
	json_decref(details);
	return rc;
}

void gov_outbox_poke(gh_gov *g)
{
	struct gov_workers *w = g->workers;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->pokes++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int gov_outbox_add(gh_gov *g, char out[GH_ID_LEN], const char *actor_id, const char *grant_id,
		   const char *system_id, const char *op, const char *account,
		   const char *target, int64_t now)
{
	int rc;

	gh_id_new(out, GH_ID_LEN, "job");
	if ((rc = gh_store_job_insert(g->store, out, grant_id, system_id, op, account, target,
				      now)))
		return rc;
	if ((rc = gov_audit_take(g, actor_id, "job.created", "job", out,
			json_pack("{s:s, s:s?, s:s, s:s?, s:s}", "op", op, "grant", grant_id,
				  "system", system_id, "account", account, "target",
				  target ? target : ""))))
		return rc;
	/* the workers take jobs in write sections: they see this one once it commits */
	gov_outbox_poke(g);
	return 0;
}

/* A JSON value as a job records it: a string as it is, an integer as its
 * digits, a boolean as 1 or 0, anything else as compact JSON; NULL for null
 * or absent. *out is a new string. */
static int value_text(char **out, const json_t *v)
{
	char num[32];

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		*out = strdup(json_string_value(v));
	} else if (json_is_integer(v) || json_is_boolean(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_is_integer(v) ? json_integer_value(v) : (json_int_t)json_is_true(v));
		*out = strdup(num);
	} else {
		*out = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
	}
	return *out ? 0 : gh_error_set(GH_ERROR, "out of memory writing a job");
}

int gov_outbox_grant_job(gh_gov *g, const char *actor_id, const char *grant_id,
			 const char *system_id, int64_t now)
{
	char job[GH_ID_LEN], *account = NULL, *target = NULL;
	const json_t *attr, *acc = NULL;
	json_t *src = NULL;
	int rc;

	if ((rc = gh_store_job_grant_source(&src, g->store, grant_id, system_id)))
		return rc;
	if (!src)
		return gh_error_set(GH_ENOTFOUND, "grant %s not found", grant_id);
	/* the subject's attribute the system names, else its name; an attribute
	 * that is not a string names nothing (the connectors refuse one) */
	attr = json_object_get(json_object_get(src, "settings"), "account_attribute");
	if (!attr || json_is_null(attr))
		acc = json_object_get(src, "subject_name");
	else if (json_is_string(attr))
		acc = json_object_get(json_object_get(src, "subject_attributes"),
				      json_string_value(attr));
	if (!(rc = value_text(&account, acc)) &&
	    !(rc = value_text(&target, json_object_get(json_object_get(src, "entitlement_attributes"),
						       "target"))))
		rc = gov_outbox_add(g, job, actor_id, grant_id, system_id, "grant", account, target,
				    now);
	json_decref(src);
	free(account);
	free(target);
	return rc;
}

int gov_outbox_grant_ended(gh_gov *g, const char *actor_id, const char *grant_id, int64_t now)
{
	char job[GH_ID_LEN], grant_job[GH_ID_LEN];
	json_t *access = NULL;
	int rc;

	/* a grant job no worker holds will not be needed: the revoke job cleans up */
	if ((rc = gh_store_job_cancel_unleased(grant_job, sizeof(grant_job), g->store, grant_id,
					       now)))
		return rc;
	if (*grant_job &&
	    (rc = gov_audit_take(g, actor_id, "job.cancelled", "job", grant_job,
			json_pack("{s:s, s:s}", "grant", grant_id, "reason", "the grant ended"))))
		return rc;
	if ((rc = gh_store_job_grant_access(&access, g->store, grant_id)) || !access)
		return rc;
	if (!(rc = gh_store_grant_provisioning_set(g->store, grant_id, "removing")))
		rc = gov_outbox_add(g, job, actor_id, grant_id,
				    json_string_value(json_object_get(access, "system")), "revoke",
				    json_string_value(json_object_get(access, "account")),
				    json_string_value(json_object_get(access, "target")), now);
	json_decref(access);
	return rc;
}

/* --- running jobs ---------------------------------------------------------- */

/* What a worker needs to run one job, copied out of the store. */
typedef struct job_run {
	char id[GH_ID_LEN], grant[GH_ID_LEN], system[GH_ID_LEN], op[16];
	char *account, *target, *system_name, *kind, *settings;
	char *ent_id, *ent_name, *subject_id, *subject_name;
	int64_t expires_at;
	int64_t lease_until;       /* the claim's: recording checks it is still ours */
	int attempt;
} job_run;

static void job_run_clear(job_run *j)
{
	free(j->account);
	free(j->target);
	free(j->system_name);
	free(j->kind);
	free(j->settings);
	free(j->ent_id);
	free(j->ent_name);
	free(j->subject_id);
	free(j->subject_name);
	memset(j, 0, sizeof(*j));
}

/* obj's string member key, copied; NULL when it is not a string. */
static char *dup_member(const json_t *obj, const char *key)
{
	const char *t = json_string_value(json_object_get(obj, key));

	return t ? strdup(t) : NULL;
}

static void copy_member(char *out, size_t len, const json_t *obj, const char *key)
{
	const char *t = json_string_value(json_object_get(obj, key));

	snprintf(out, len, "%s", t ? t : "");
}

/* Leases the next due job into j: 1 taken, 0 none due, <0 on error. */
static int job_take(gh_gov *g, job_run *j, int64_t now)
{
	json_t *jobs = NULL, *ctx = NULL;
	const json_t *job;
	int rc, taken = 0;

	memset(j, 0, sizeof(*j));
	if ((rc = gh_store_begin(g->store)))
		return rc;
	j->lease_until = now + g->job_lease;
	if ((rc = gh_store_jobs_claim(&jobs, g->store, now, j->lease_until, g->node_id, 1)) ||
	    !(job = json_array_get(jobs, 0)))
		goto cleanup;
	taken = 1;
	copy_member(j->id, sizeof(j->id), job, "id");
	copy_member(j->grant, sizeof(j->grant), job, "grant");
	copy_member(j->system, sizeof(j->system), job, "system");
	copy_member(j->op, sizeof(j->op), job, "op");
	j->account = dup_member(job, "account");
	j->target = dup_member(job, "target");
	j->attempt = (int)json_integer_value(json_object_get(job, "attempts")) + 1;
	if ((rc = gh_store_job_context(&ctx, g->store, j->system, *j->grant ? j->grant : NULL)))
		goto cleanup;
	if (!ctx) {
		rc = gh_error_set(GH_ENOTFOUND, "system %s not found", j->system);
		goto cleanup;
	}
	j->system_name = dup_member(ctx, "system_name");
	j->kind = dup_member(ctx, "connector");
	j->settings = dup_member(ctx, "settings");
	j->ent_id = dup_member(ctx, "entitlement");
	j->ent_name = dup_member(ctx, "entitlement_name");
	j->subject_id = dup_member(ctx, "subject");
	j->subject_name = dup_member(ctx, "subject_name");
	j->expires_at = (int64_t)json_integer_value(json_object_get(ctx, "expires_at"));
	rc = (!j->target || !j->system_name || !j->kind || !j->settings) ?
		gh_error_set(GH_ERROR, "out of memory taking a job") : 0;
cleanup:
	json_decref(jobs);
	json_decref(ctx);
	rc = gov_finish(g, rc);
	if (rc) {
		job_run_clear(j);
		return rc;
	}
	return taken;
}

/* Calls the connector (no store section held). *receipt may be set. */
static int job_call(gh_gov *g, const job_run *j, json_t **receipt)
{
	const gh_connector_kind *k = NULL;
	json_t *settings = NULL, *params;
	gh_conn_job cj;
	int rc;

	*receipt = NULL;
	if (!(params = json_loads(j->settings, 0, NULL)))
		return gh_error_set(GH_EINVALID, "the system's connector_settings do not parse");
	/* an instance this server lacks fails the attempt, retried: configured
	 * and restarted, the job resumes */
	rc = gh_connect_settings(&settings, &k, g->opts.config, j->kind, params);
	json_decref(params);
	if (rc)
		return rc;
	if (!k->apply) {
		json_decref(settings);
		return gh_error_set(GH_EINVALID, "connector %s is not available", j->kind);
	}
	if (!j->account || !*j->account || !*j->target) {
		json_decref(settings);
		return !j->account || !*j->account ?
			gh_error_set(GH_EINVALID, "the subject has no downstream account (see the"
				     " system's account_attribute)") :
			gh_error_set(GH_EINVALID, "the entitlement has no attributes.target");
	}
	/* the configuration may have changed since the entitlement was checked */
	gh_error_clear();
	if (k->target && (rc = k->target(settings, j->target))) {
		json_decref(settings);
		return rc;
	}
	memset(&cj, 0, sizeof(cj));
	cj.op = j->op;
	cj.job_id = j->id;
	cj.grant_id = *j->grant ? j->grant : NULL;
	cj.system_id = j->system;
	cj.system_name = j->system_name;
	cj.entitlement_id = j->ent_id;
	cj.entitlement_name = j->ent_name;
	cj.subject_id = j->subject_id;
	cj.subject_name = j->subject_name;
	cj.account = j->account;
	cj.target = j->target;
	cj.expires_at = j->expires_at;
	cj.attempt = j->attempt;
	gh_error_clear();
	rc = k->apply(settings, &cj, receipt);
	if (rc && gh_error_last()->code == GH_OK)
		gh_error_set(rc, "connector %s failed", j->kind);
	if (rc) {
		json_decref(*receipt);
		*receipt = NULL;
	}
	json_decref(settings);
	return rc;
}

/* Moves the findings that wait on job to status (from from), auditing each. */
static int findings_settle(gh_gov *g, const char *job, const char *from, const char *to,
			   int64_t now)
{
	json_t *ids = NULL, *v;
	size_t i;
	int rc;

	if ((rc = gh_store_findings_settle(&ids, g->store, job, from, to, now)))
		goto cleanup;
	json_array_foreach(ids, i, v) {
		if ((rc = gov_audit_take(g, WORKER_ACTOR, "reconcile.finding_settled", "finding",
				json_string_value(v),
				json_pack("{s:s, s:s, s:s}", "job", job, "from", from, "status", to))))
			break;
	}
cleanup:
	json_decref(ids);
	return rc;
}

/* Grant and request state of the job's grant ("" when none). */
static int grant_state(gh_gov *g, const char *grant, char status[GH_STORE_STATE_LEN],
		       char request[GH_ID_LEN], int64_t *expires)
{
	status[0] = request[0] = '\0';
	if (!*grant)
		return 0;
	return gh_store_job_grant_state(status, request, expires, g->store, grant);
}

/* The job's grant moved: its request follows from -> to when it stands in
 * from (it always does, unless something else moved it). */
static int request_follows(gh_gov *g, const char *request, const char *from, const char *to,
			   const char *reason, int64_t now)
{
	char state[GH_STORE_STATE_LEN];
	int rc;

	if ((rc = gh_store_request_state(state, g->store, request)) || strcmp(state, from) != 0)
		return rc;
	return gov_request_move(g, request, from, to,
				&(gov_request_change){.now = now, .reason = reason});
}

/* The connector said done. */
static int record_done(gh_gov *g, const job_run *j, const char *receipt, int64_t now)
{
	char status[GH_STORE_STATE_LEN], request[GH_ID_LEN], when[40];
	int64_t expires = 0;
	int rc;

	if ((rc = grant_state(g, j->grant, status, request, &expires)))
		return rc;
	if (strcmp(j->op, "grant") == 0 && strcmp(status, "provisioning") == 0) {
		if ((rc = gov_grant_move(g, j->grant, status, "active",
					 &(gov_grant_change){.now = now, .receipt = receipt})) ||
		    (rc = request_follows(g, request, "provisioning", "active", NULL, now)))
			return rc;
		gh_time_format(when, sizeof(when), expires);
		if ((rc = gov_audit_take(g, WORKER_ACTOR, "grant.provisioned", "grant", j->grant,
				json_pack("{s:s, s:i, s:s, s:s}", "job", j->id, "attempts", j->attempt,
					  "account", j->account, "target", j->target))) ||
		    (rc = gov_audit_take(g, WORKER_ACTOR, "request.active", "request", request,
				json_pack("{s:s, s:s}", "grant", j->grant, "expires_at", when))))
			return rc;
	} else if (strcmp(j->op, "grant") == 0 && strcmp(status, "active") == 0) {
		/* provisioned again after reconciliation found it missing */
		if ((rc = gov_audit_take(g, WORKER_ACTOR, "grant.provisioned", "grant", j->grant,
				json_pack("{s:s, s:i, s:b}", "job", j->id, "attempts", j->attempt,
					  "reprovisioned", 1))) ||
		    (rc = findings_settle(g, j->id, "reprovisioning", "reprovisioned", now)))
			return rc;
	} else if (strcmp(j->op, "revoke") == 0 && *j->grant) {
		if ((rc = gh_store_grant_provisioning_set(g->store, j->grant, "removed")) ||
		    (rc = gov_audit_take(g, WORKER_ACTOR, "grant.deprovisioned", "grant", j->grant,
				json_pack("{s:s, s:i, s:s, s:s}", "job", j->id, "attempts", j->attempt,
					  "account", j->account, "target", j->target))))
			return rc;
	} else if (strcmp(j->op, "revoke") == 0) {
		if ((rc = findings_settle(g, j->id, "revoking", "revoked", now)))
			return rc;
	}
	/* a grant job whose grant ended meanwhile: the revoke job follows it */
	return gh_store_job_done(g->store, j->id, j->attempt, receipt, now);
}

/* The connector failed: retry later, or (a grant job out of attempts, or
 * told the job is invalid) fail the job and its grant. */
static int record_failed(gh_gov *g, const job_run *j, int code, const char *error, int64_t now)
{
	char status[GH_STORE_STATE_LEN], request[GH_ID_LEN];
	int64_t expires = 0;
	int grant_job = strcmp(j->op, "grant") == 0, give_up, ended;
	int rc;

	if ((rc = grant_state(g, j->grant, status, request, &expires)))
		return rc;
	/* the grant ended while this ran: its revoke job cleans up, no retry */
	ended = grant_job && (strcmp(status, "expired") == 0 || strcmp(status, "revoked") == 0);
	give_up = grant_job && (j->attempt >= GOV_JOB_MAX_ATTEMPTS || code == GH_EINVALID);
	if (ended)
		return gh_store_job_cancel(g->store, j->id, j->attempt, error, now);
	if ((rc = gh_store_job_failed(g->store, j->id, give_up ? "failed" : "pending", j->attempt,
				      give_up ? now : now + gov_job_backoff(j->attempt), error,
				      now)))
		return rc;
	if (!give_up)
		return 0;
	if (strcmp(status, "active") == 0)
		return findings_settle(g, j->id, "reprovisioning", "failed", now);
	if (strcmp(status, "provisioning") != 0)
		return 0;
	if ((rc = gov_grant_move(g, j->grant, status, "failed", &(gov_grant_change){.now = now})) ||
	    (rc = request_follows(g, request, "provisioning", "failed", error, now)))
		return rc;
	if ((rc = gov_audit_take(g, WORKER_ACTOR, "grant.provisioning_failed", "grant", j->grant,
			json_pack("{s:s, s:i, s:s}", "job", j->id, "attempts", j->attempt,
				  "error", error))))
		return rc;
	return gov_audit_take(g, WORKER_ACTOR, "request.failed", "request", request,
		     json_pack("{s:s, s:s}", "grant", j->grant, "reason", error));
}

/* Records the attempt and its outcome in one transaction. */
static int job_record(gh_gov *g, const job_run *j, int code, const char *error,
		      const json_t *receipt, int64_t now)
{
	char *receipt_s = receipt ? gh_json_canonical(receipt) : NULL;
	char state[GH_STORE_STATE_LEN];
	int rc, held = 0;

	if ((rc = gh_store_begin(g->store))) {
		free(receipt_s);
		return rc;
	}
	/* a worker whose lease ran out (and was taken over) records nothing: the
	 * job's new holder runs it again and records that */
	if ((rc = gh_store_job_hold(&held, g->store, j->id, g->node_id, j->lease_until, now)))
		goto cleanup;
	if (!held) {
		fprintf(stderr, "gatehouse: job %s: the lease ran out before its attempt ended;"
			" not recorded (another worker runs it)\n", j->id);
		goto cleanup;
	}
	if ((rc = gov_audit_take(g, WORKER_ACTOR, "connector.attempt", "job", j->id,
			json_pack("{s:s, s:s, s:i, s:b, s:s?, s:s?, s:s}", "job", j->id,
				  "op", j->op, "attempt", j->attempt, "ok", code == 0,
				  "error", code ? error : NULL,
				  "grant", *j->grant ? j->grant : NULL, "system", j->system))))
		goto cleanup;
	/* a job retried or cancelled by someone else meanwhile keeps its new state */
	if ((rc = gh_store_job_state(state, NULL, g->store, j->id)) || strcmp(state, "pending") != 0)
		goto cleanup;
	rc = code == 0 ? record_done(g, j, receipt_s, now) : record_failed(g, j, code, error, now);
cleanup:
	free(receipt_s);
	return gov_finish(g, rc);
}

/* Takes one due job and runs it: 1 ran, 0 nothing due, <0 on error. */
static int run_one(gh_gov *g, int64_t now)
{
	char error[ERROR_MAX + 1] = "";
	json_t *receipt = NULL;
	job_run j;
	int rc, code;

	if ((rc = job_take(g, &j, now)) <= 0)
		return rc;
	code = job_call(g, &j, &receipt);
	if (code)
		snprintf(error, sizeof(error), "%s", gh_error_last()->message);
	rc = job_record(g, &j, code, error, receipt, now);
	json_decref(receipt);
	job_run_clear(&j);
	return rc ? rc : 1;
}

int gh_gov_jobs_run_once(gh_gov *g, int64_t now, int max, int *out_ran)
{
	int rc = 0, ran = 0;

	while (max <= 0 || ran < max) {
		if ((rc = run_one(g, now)) <= 0)
			break;
		ran++;
	}
	if (out_ran)
		*out_ran = ran;
	return rc < 0 ? rc : 0;
}

/* --- worker threads ------------------------------------------------------ */

static struct gov_workers *workers_get(gh_gov *g)
{
	struct gov_workers *w;

	if (g->workers)
		return g->workers;
	if (!(w = calloc(1, sizeof(*w))))
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	g->workers = w;
	return w;
}

static struct timespec deadline_ms(int64_t ms)
{
	struct timespec at;

	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec += (time_t)(ms / 1000);
	at.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	return at;
}

static void *worker_main(void *arg)
{
	gh_gov *g = arg;
	struct gov_workers *w = g->workers;
	struct timespec until;
	uint64_t seen;
	int rc;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		seen = w->pokes;
		pthread_mutex_unlock(&w->lock);
		rc = run_one(g, gh_now());
		pthread_mutex_lock(&w->lock);
		if (rc > 0)
			continue;
		until = deadline_ms(POLL_MS);
		if (!w->stop && w->pokes == seen)
			pthread_cond_timedwait(&w->cond, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int gh_gov_workers_start(gh_gov *g, int n)
{
	struct gov_workers *w;
	int rc = 0;

	if (n < 1 || n > WORKERS_MAX)
		return gh_error_set(GH_EINVALID, "workers: expected 1 to %d", WORKERS_MAX);
	if (!(w = workers_get(g)))
		return gh_error_set(GH_ERROR, "out of memory starting workers");
	pthread_mutex_lock(&w->lock);
	if (w->n > 0) {
		pthread_mutex_unlock(&w->lock);
		return gh_error_set(GH_ECONFLICT, "the workers are already running");
	}
	w->stop = 0;
	for (; w->n < n; w->n++)
		if ((rc = pthread_create(&w->threads[w->n], NULL, worker_main, g)))
			break;
	pthread_mutex_unlock(&w->lock);
	if (rc) {
		gh_gov_workers_stop(g);
		return gh_error_set(GH_ERROR, "starting a worker: %s", strerror(rc));
	}
	return 0;
}

void gh_gov_workers_stop(gh_gov *g)
{
	struct gov_workers *w = g->workers;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	gov_reconcile_stop(g);
	g->workers = NULL;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

/* --- scheduled reconciliation: the thread, kept with the workers --------- */

static void *recon_main(void *arg)
{
	gh_gov *g = arg;
	struct gov_workers *w = g->workers;
	struct timespec until;
	json_t *out;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		until = deadline_ms(w->recon_period * 1000);
		while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
			;
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		/* several nodes: the one that takes this period's lease runs it */
		if (gov_lease_take(g, "reconcile", w->recon_period * 1000 - 500, 0) == 1) {
			out = NULL;
			gh_gov_reconcile(&out, g, NULL, NULL, NULL);
			json_decref(out);
		}
		gh_error_clear();
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int gh_gov_reconcile_every(gh_gov *g, int64_t period)
{
	struct gov_workers *w;
	int rc;

	if (period < 1)
		return gh_error_set(GH_EINVALID, "reconcile period: at least 1 s");
	if (!(w = workers_get(g)))
		return gh_error_set(GH_ERROR, "out of memory scheduling reconciliation");
	pthread_mutex_lock(&w->lock);
	if (w->recon_running) {
		pthread_mutex_unlock(&w->lock);
		return gh_error_set(GH_ECONFLICT, "reconciliation is already scheduled");
	}
	w->recon_period = period;
	rc = pthread_create(&w->recon_thread, NULL, recon_main, g);
	w->recon_running = rc == 0;
	pthread_mutex_unlock(&w->lock);
	return rc ? gh_error_set(GH_ERROR, "scheduling reconciliation: %s", strerror(rc)) : 0;
}

void gov_reconcile_stop(gh_gov *g)
{
	struct gov_workers *w = g->workers;

	/* the workers' stop flag is already set and broadcast */
	if (w && w->recon_running) {
		pthread_join(w->recon_thread, NULL);
		w->recon_running = 0;
	}
}

/* --- the jobs API ---------------------------------------------------------- */

#define JOB_READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)

static int job_load(json_t **out, gh_gov *g, const char *id)
{
	int rc;

	if ((rc = gh_store_job_get(out, g->store, id)))
		return rc;
	return *out ? 0 : gh_error_set(GH_ENOTFOUND, "job %s not found", id);
}

int gh_gov_job_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, JOB_READERS, "reading jobs")))
		return rc;
	gh_store_read_begin(g->store);
	rc = job_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_job_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		    const char *state, const char *system, const char *grant)
{
	char sys[GH_ID_LEN] = "";
	json_t *items = NULL;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, JOB_READERS, "reading jobs")))
		return rc;
	if (state)
		gov_check_enum("state", gov_job_states, state);
	if (grant && (strlen(grant) >= GH_ID_LEN || strncmp(grant, "grt_", 4) != 0))
		gh_error_field("grant", "expected a grant id (grt_...)");
	gh_store_read_begin(g->store);
	if (system && (rc = gov_resolve_field(g, "systems", "system", system, sys)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "outbox", page, &limit, &after)) || (rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_store_job_list(&items, g->store, after, state, *sys ? sys : NULL, grant,
				    limit)))
		goto cleanup;
	*out = gov_list_result(items, limit);
	items = NULL;
	rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory listing jobs");
cleanup:
	json_decref(items);
	gh_store_read_end(g->store);
	return rc;
}

/* A failed grant job's grant provisions again (when it has not expired). */
static int grant_reopen(gh_gov *g, const gh_actor *actor, const char *grant, int64_t now)
{
	char status[GH_STORE_STATE_LEN], request[GH_ID_LEN];
	int64_t expires = 0;
	int rc;

	if ((rc = grant_state(g, grant, status, request, &expires)))
		return rc;
	if (strcmp(status, "failed") != 0)
		return 0;
	if (expires <= now)
		return gh_error_set(GH_ECONFLICT, "grant %s has expired; request the access again",
				    grant);
	if ((rc = gov_grant_move(g, grant, status, "provisioning",
				 &(gov_grant_change){.now = now})) ||
	    (rc = request_follows(g, request, "failed", "provisioning", NULL, now)))
		return rc;
	if ((rc = gov_audit_take(g, actor->id, "grant.provisioning_retried", "grant", grant,
			json_pack("{s:s}", "request", request))))
		return rc;
	return gov_audit_take(g, actor->id, "request.provisioning", "request", request,
		     json_pack("{s:s, s:s}", "grant", grant, "reason", "retry"));
}

int gh_gov_job_retry(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	char state[GH_STORE_STATE_LEN], grant[GH_ID_LEN];
	int64_t now = gh_now();
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "retrying a job")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_job_state(state, grant, g->store, id)))
		goto cleanup;
	if (!*state)
		rc = gh_error_set(GH_ENOTFOUND, "job %s not found", id);
	else if (strcmp(state, "failed") != 0 && strcmp(state, "pending") != 0)
		rc = gh_error_set(GH_ECONFLICT, "job %s is %s; only a failed or pending job can be"
				  " retried", id, state);
	else
		rc = 0;
	if (rc)
		goto cleanup;
	if (strcmp(state, "failed") == 0 && *grant && (rc = grant_reopen(g, actor, grant, now)))
		goto cleanup;
	if ((rc = gh_store_job_requeue(g->store, id, now)))
		goto cleanup;
	if ((rc = gov_audit_take(g, actor->id, "job.retried", "job", id, json_pack("{s:s}", "from", state))))
		goto cleanup;
	gov_outbox_poke(g);
	rc = job_load(out, g, id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
