/* outbox.c - provisioning jobs: written with the grant change, run by
 * workers through the connector outside any store section, each attempt and
 * its outcome recorded in one transaction. */
#include "gov/gov_internal.h"
#include "store/lifecycle.h"
#include "common/config.h"
#include "connect/connect.h"

#include <errno.h>
#include <sodium.h>
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

/* Runs a write statement to completion; the number of rows it changed, or <0. */
static int step_changes(gh_gov *g, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return gh_store_fail(g->store, what);
	return sqlite3_changes(gh_store_db(g->store));
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
	sqlite3_stmt *st;
	int rc;

	gh_id_new(out, GH_ID_LEN, "job");
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO outbox(id, grant_id, system_id, op, account, target, state,"
				" attempts, next_at, created_at, updated_at)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7)")))
		return rc;
	sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
	if (grant_id)
		sqlite3_bind_text(st, 2, grant_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, system_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op, -1, SQLITE_STATIC);
	if (account)
		sqlite3_bind_text(st, 5, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, target ? target : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	if ((rc = step_changes(g, st, "writing a job")) < 0)
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

int gov_outbox_grant_job(gh_gov *g, const char *actor_id, const char *grant_id,
			 const char *system_id, int64_t now)
{
	char job[GH_ID_LEN], *account = NULL, *target = NULL;
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT CASE WHEN json_extract(s.connector_settings, '$.account_attribute')"
				"  IS NULL THEN i.name ELSE json_extract(i.attributes, '$.\"' ||"
				"  json_extract(s.connector_settings, '$.account_attribute') || '\"') END,"
				" json_extract(e.attributes, '$.target')"
				" FROM grants gr JOIN identities i ON i.id = gr.subject_id"
				" JOIN entitlements e ON e.id = gr.entitlement_id"
				" JOIN systems s ON s.id = ?2 WHERE gr.id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, system_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			account = strdup((const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			target = strdup((const char *)sqlite3_column_text(st, 1));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "grant %s not found", grant_id)
		     : gh_store_fail(g->store, "reading what a grant gives downstream");
	}
	sqlite3_reset(st);
	if (!rc)
		rc = gov_outbox_add(g, job, actor_id, grant_id, system_id, "grant", account, target,
				    now);
	free(account);
	free(target);
	return rc;
}

int gov_outbox_grant_ended(gh_gov *g, const char *actor_id, const char *grant_id, int64_t now)
{
	char job[GH_ID_LEN], sys[GH_ID_LEN], *account = NULL, *target = NULL, *grant_job = NULL;
	sqlite3_stmt *st;
	int rc, found;

	/* a grant job no worker holds will not be needed: the revoke job cleans up */
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE outbox SET state = 'cancelled', updated_at = ?2,"
				" last_error = 'cancelled: the grant ended'"
				" WHERE grant_id = ?1 AND op = 'grant' AND state = 'pending'"
				" AND (lease_until IS NULL OR lease_until <= ?2) RETURNING id")))
		return rc;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		grant_job = strdup((const char *)sqlite3_column_text(st, 0));
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return free(grant_job), gh_store_fail(g->store, "cancelling a grant job");
	if (grant_job) {
		rc = gov_audit_take(g, actor_id, "job.cancelled", "job", grant_job,
			   json_pack("{s:s, s:s}", "grant", grant_id, "reason", "the grant ended"));
		free(grant_job);
		if (rc)
			return rc;
	}
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT system_id, account, target FROM outbox"
				" WHERE grant_id = ? AND op = 'grant'")))
		return rc;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	found = rc == SQLITE_ROW;
	if (found) {
		snprintf(sys, sizeof(sys), "%s", sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			account = strdup((const char *)sqlite3_column_text(st, 1));
		target = strdup((const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	if (!found && rc != SQLITE_DONE)
		return gh_store_fail(g->store, "reading a grant job");
	rc = 0;
	if (found) {
		if ((rc = gh_store_stmt(&st, g->store,
					"UPDATE grants SET provisioning_status = 'removing' WHERE id = ?")) == 0) {
			sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
			rc = step_changes(g, st, "marking a grant for removal");
		}
		if (rc >= 0)
			rc = gov_outbox_add(g, job, actor_id, grant_id, sys, "revoke", account, target,
					    now);
	}
	free(account);
	free(target);
	return rc < 0 ? rc : 0;
}

/* --- running jobs ---------------------------------------------------------- */

/* What a worker needs to run one job, copied out of the store. */
typedef struct job_run {
	char id[GH_ID_LEN], grant[GH_ID_LEN], system[GH_ID_LEN], op[16];
	char *account, *target, *system_name, *kind, *settings;
	char *ent_id, *ent_name, *subject_id, *subject_name;
	int64_t expires_at;
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

static char *dup_column(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

/* Leases the next due job into j: 1 taken, 0 none due, <0 on error. */
static int job_take(gh_gov *g, job_run *j, int64_t now)
{
	sqlite3_stmt *st;
	int rc, taken = 0;

	memset(j, 0, sizeof(*j));
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT o.id, o.grant_id, o.system_id, o.op, o.account, o.target,"
				" o.attempts, s.name, s.connector, s.connector_settings,"
				" gr.entitlement_id, e.name, gr.subject_id, i.name, gr.expires_at"
				" FROM outbox o JOIN systems s ON s.id = o.system_id"
				" LEFT JOIN grants gr ON gr.id = o.grant_id"
				" LEFT JOIN entitlements e ON e.id = gr.entitlement_id"
				" LEFT JOIN identities i ON i.id = gr.subject_id"
				" WHERE o.state = 'pending' AND o.next_at <= ?1"
				" AND (o.lease_until IS NULL OR o.lease_until <= ?1)"
				/* a revoke waits for the grant job a worker still runs */
				" AND NOT (o.op = 'revoke' AND o.grant_id IS NOT NULL AND EXISTS"
				"  (SELECT 1 FROM outbox p WHERE p.grant_id = o.grant_id AND p.op = 'grant'"
				"   AND p.state = 'pending' AND p.lease_until > ?1))"
				" ORDER BY o.next_at, o.pk LIMIT 1")))
		return gov_finish(g, rc);
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(j->id, sizeof(j->id), "%s", sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			snprintf(j->grant, sizeof(j->grant), "%s", sqlite3_column_text(st, 1));
		snprintf(j->system, sizeof(j->system), "%s", sqlite3_column_text(st, 2));
		snprintf(j->op, sizeof(j->op), "%s", sqlite3_column_text(st, 3));
		j->account = dup_column(st, 4);
		j->target = dup_column(st, 5);
		j->attempt = sqlite3_column_int(st, 6) + 1;
		j->system_name = dup_column(st, 7);
		j->kind = dup_column(st, 8);
		j->settings = dup_column(st, 9);
		j->ent_id = dup_column(st, 10);
		j->ent_name = dup_column(st, 11);
		j->subject_id = dup_column(st, 12);
		j->subject_name = dup_column(st, 13);
		j->expires_at = sqlite3_column_int64(st, 14);
		taken = 1;
		rc = (!j->target || !j->system_name || !j->kind || !j->settings) ?
			gh_error_set(GH_ERROR, "out of memory taking a job") : 0;
	} else {
		rc = rc == SQLITE_DONE ? 0 : gh_store_fail(g->store, "finding a due job");
	}
	sqlite3_reset(st);
	if (!rc && taken && !(rc = gh_store_stmt(&st, g->store,
						   "UPDATE outbox SET lease_until = ?2, updated_at = ?3"
						   " WHERE id = ?1"))) {
		sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now + GOV_JOB_LEASE);
		sqlite3_bind_int64(st, 3, now);
		rc = step_changes(g, st, "leasing a job");
		rc = rc < 0 ? rc : 0;
	}
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
	json_t *ids = json_array(), *v;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (!ids)
		return gh_error_set(GH_ERROR, "out of memory");
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE findings SET status = ?3, updated_at = ?4"
				" WHERE job_id = ?1 AND status = ?2 RETURNING id")))
		goto cleanup;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(ids, gov_text_column(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "settling findings");
		goto cleanup;
	}
	rc = 0;
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
static int grant_state(gh_gov *g, const char *grant, char status[32], char request[GH_ID_LEN],
		       int64_t *expires)
{
	sqlite3_stmt *st;
	int rc;

	status[0] = request[0] = '\0';
	if (!*grant)
		return 0;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT status, request_id, expires_at FROM grants WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, grant, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(status, 32, "%s", sqlite3_column_text(st, 0));
		snprintf(request, GH_ID_LEN, "%s", sqlite3_column_text(st, 1));
		*expires = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : gh_store_fail(g->store, "reading a grant");
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
	char status[32], request[GH_ID_LEN], when[40];
	int64_t expires = 0;
	sqlite3_stmt *st;
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
		if ((rc = gh_store_stmt(&st, g->store,
					"UPDATE grants SET provisioning_status = 'removed' WHERE id = ?")))
			return rc;
		sqlite3_bind_text(st, 1, j->grant, -1, SQLITE_STATIC);
		if ((rc = step_changes(g, st, "recording a removal")) < 0 ||
		    (rc = gov_audit_take(g, WORKER_ACTOR, "grant.deprovisioned", "grant", j->grant,
				json_pack("{s:s, s:i, s:s, s:s}", "job", j->id, "attempts", j->attempt,
					  "account", j->account, "target", j->target))))
			return rc;
	} else if (strcmp(j->op, "revoke") == 0) {
		if ((rc = findings_settle(g, j->id, "revoking", "revoked", now)))
			return rc;
	}
	/* a grant job whose grant ended meanwhile: the revoke job follows it */
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE outbox SET state = 'done', attempts = ?2, lease_until = NULL,"
				" last_error = NULL, receipt = ?3, done_at = ?4, updated_at = ?4"
				" WHERE id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, j->attempt);
	if (receipt)
		sqlite3_bind_text(st, 3, receipt, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = step_changes(g, st, "finishing a job");
	return rc < 0 ? rc : 0;
}

/* The connector failed: retry later, or (a grant job out of attempts, or
 * told the job is invalid) fail the job and its grant. */
static int record_failed(gh_gov *g, const job_run *j, int code, const char *error, int64_t now)
{
	char status[32], request[GH_ID_LEN];
	int64_t expires = 0;
	int grant_job = strcmp(j->op, "grant") == 0, give_up, ended;
	sqlite3_stmt *st;
	int rc;

	if ((rc = grant_state(g, j->grant, status, request, &expires)))
		return rc;
	/* the grant ended while this ran: its revoke job cleans up, no retry */
	ended = grant_job && (strcmp(status, "expired") == 0 || strcmp(status, "revoked") == 0);
	give_up = grant_job && (j->attempt >= GOV_JOB_MAX_ATTEMPTS || code == GH_EINVALID);
	if (ended) {
		if ((rc = gh_store_stmt(&st, g->store,
					"UPDATE outbox SET state = 'cancelled', attempts = ?2,"
					" lease_until = NULL, last_error = ?3, updated_at = ?4"
					" WHERE id = ?1")))
			return rc;
		sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, j->attempt);
		sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now);
		rc = step_changes(g, st, "cancelling a grant job");
		return rc < 0 ? rc : 0;
	}
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE outbox SET state = ?2, attempts = ?3, next_at = ?4,"
				" lease_until = NULL, last_error = ?5, updated_at = ?6 WHERE id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, give_up ? "failed" : "pending", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, j->attempt);
	sqlite3_bind_int64(st, 4, give_up ? now : now + gov_job_backoff(j->attempt));
	sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if ((rc = step_changes(g, st, "recording a failed attempt")) < 0)
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
	sqlite3_stmt *st;
	int rc, pending;

	if ((rc = gh_store_begin(g->store))) {
		free(receipt_s);
		return rc;
	}
	if ((rc = gov_audit_take(g, WORKER_ACTOR, "connector.attempt", "job", j->id,
			json_pack("{s:s, s:s, s:i, s:b, s:s?, s:s?, s:s}", "job", j->id,
				  "op", j->op, "attempt", j->attempt, "ok", code == 0,
				  "error", code ? error : NULL,
				  "grant", *j->grant ? j->grant : NULL, "system", j->system))))
		goto cleanup;
	/* a job retried or cancelled by someone else meanwhile keeps its new state */
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT state = 'pending' FROM outbox WHERE id = ?")))
		goto cleanup;
	sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
	pending = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (!pending)
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
		out = NULL;
		gh_gov_reconcile(&out, g, NULL, NULL, NULL);
		json_decref(out);
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

#define JOB_COLS                                                                              \
	"o.id, o.grant_id, o.system_id, o.op, o.account, o.target, o.state, o.attempts,"      \
	" o.next_at, o.lease_until, o.last_error, o.receipt, o.created_at, o.updated_at,"     \
	" o.done_at"

static json_t *job_json(sqlite3_stmt *st)
{
	json_t *receipt = sqlite3_column_type(st, 11) == SQLITE_NULL ? json_null() :
			  gov_json_column(st, 11, 0);

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o}",
			 "id", gov_text_column(st, 0), "grant", gov_text_column(st, 1),
			 "system", gov_text_column(st, 2), "op", gov_text_column(st, 3),
			 "account", gov_text_column(st, 4), "target", gov_text_column(st, 5),
			 "state", gov_text_column(st, 6),
			 "attempts", (json_int_t)sqlite3_column_int64(st, 7),
			 "next_at", gov_time_column(st, 8), "lease_until", gov_time_column(st, 9),
			 "last_error", gov_text_column(st, 10), "receipt", receipt,
			 "created_at", gov_time_column(st, 12), "updated_at", gov_time_column(st, 13),
			 "done_at", gov_time_column(st, 14));
}

#define JOB_READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)

int gov_list_rows(json_t **out, gh_gov *g, sqlite3_stmt *st, int limit,
		  json_t *(*row)(sqlite3_stmt *st), const char *what)
{
	json_t *items = json_array(), *item;
	int step = SQLITE_NOMEM;

	while (items && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(item = row(st)) || json_array_append_new(items, item)) {
			step = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		json_decref(items);
		return step == SQLITE_NOMEM ? gh_error_set(GH_ERROR, "out of memory %s", what) :
		       gh_store_fail(g->store, what);
	}
	if (!(*out = gov_list_result(items, limit)))
		return gh_error_set(GH_ERROR, "out of memory %s", what);
	return 0;
}

static int job_load(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT " JOB_COLS " FROM outbox o WHERE o.id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = (*out = job_json(st)) ? 0 : gh_error_set(GH_ERROR, "out of memory loading a job");
	else if (rc == SQLITE_DONE)
		rc = gh_error_set(GH_ENOTFOUND, "job %s not found", id);
	else
		rc = gh_store_fail(g->store, "loading a job");
	sqlite3_reset(st);
	return rc;
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
	sqlite3_stmt *st;
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
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT " JOB_COLS " FROM outbox o WHERE o.pk > ?1"
				" AND (?2 IS NULL OR o.state = ?2) AND (?3 IS NULL OR o.system_id = ?3)"
				" AND (?4 IS NULL OR o.grant_id = ?4) ORDER BY o.pk LIMIT ?5")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, after);
	if (state)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	if (*sys)
		sqlite3_bind_text(st, 3, sys, -1, SQLITE_STATIC);
	if (grant)
		sqlite3_bind_text(st, 4, grant, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, limit);
	rc = gov_list_rows(out, g, st, limit, job_json, "listing jobs");
cleanup:
	gh_store_read_end(g->store);
	return rc;
}

/* A failed grant job's grant provisions again (when it has not expired). */
static int grant_reopen(gh_gov *g, const gh_actor *actor, const char *grant, int64_t now)
{
	char status[32], request[GH_ID_LEN];
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
	char state[16] = "", grant[GH_ID_LEN] = "";
	int64_t now = gh_now();
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "retrying a job")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT state, grant_id FROM outbox WHERE id = ?")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(state, sizeof(state), "%s", sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			snprintf(grant, sizeof(grant), "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		rc = gh_error_set(GH_ENOTFOUND, "job %s not found", id);
	else if (rc != SQLITE_ROW)
		rc = gh_store_fail(g->store, "reading a job");
	else if (strcmp(state, "failed") != 0 && strcmp(state, "pending") != 0)
		rc = gh_error_set(GH_ECONFLICT, "job %s is %s; only a failed or pending job can be"
				  " retried", id, state);
	else
		rc = 0;
	if (rc)
		goto cleanup;
	if (strcmp(state, "failed") == 0 && *grant && (rc = grant_reopen(g, actor, grant, now)))
		goto cleanup;
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE outbox SET state = 'pending', next_at = ?2, updated_at = ?2,"
				" attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END,"
				/* a worker may hold a pending one: its lease stays */
				" lease_until = CASE WHEN state = 'failed' THEN NULL ELSE lease_until END"
				" WHERE id = ?1")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = step_changes(g, st, "retrying a job")) < 0)
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
