/* reconcile.c - reconciliation: the access a system really holds compared
 * with the active grants; missing grants provisioned again, shadow access
 * reported and, on request, revoked. */
#include "gov/gov_internal.h"
#include "common/config.h"
#include "connect/connect.h"

#include <stdlib.h>
#include <string.h>

#define RECONCILE_ACTOR "system:reconcile"
#define TARGETS_MAX 10000


/* What was read before the connector runs. */
typedef struct recon {
	char sys[GH_ID_LEN], name[256], kind[32];
	char *settings;
	const char **targets;        /* malloc'd array of strdup'd strings */
	size_t ntargets;
	json_t *expected;            /* "account\x1ftarget" -> grant id (active) */
	json_t *skip;                /* pairs neither missing nor shadow (provisioning) */
	int grants;
} recon;

static void recon_clear(recon *r)
{
	for (size_t i = 0; i < r->ntargets; i++)
		free((char *)r->targets[i]);
	free(r->targets);
	free(r->settings);
	json_decref(r->expected);
	json_decref(r->skip);
	memset(r, 0, sizeof(*r));
}

static void pair_key(char *out, size_t len, const char *account, const char *target)
{
	snprintf(out, len, "%s\x1f%s", account, target);
}

/* Reads the system, its targets and its grants. Inside a read section. */
static int recon_read(gh_gov *g, recon *r, const char *sys_id)
{
	const gh_connector_kind *k;
	sqlite3_stmt *st;
	char key[2048];
	int rc, step;

	snprintf(r->sys, sizeof(r->sys), "%s", sys_id);
	if (!(r->expected = json_object()) || !(r->skip = json_object()))
		return gh_error_set(GH_ERROR, "out of memory");
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT name, connector, connector_settings FROM systems WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, sys_id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(r->name, sizeof(r->name), "%s", sqlite3_column_text(st, 0));
		snprintf(r->kind, sizeof(r->kind), "%s", sqlite3_column_text(st, 1));
		r->settings = strdup((const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW)
		return step == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "system %s not found", sys_id)
		       : gh_store_fail(g->store, "reading a system");
	if (!r->settings)
		return gh_error_set(GH_ERROR, "out of memory");
	if (gov_connector_connected(r->kind) &&
	    !gh_config_instance_find(g->opts.config, r->kind))
		return gh_error_set(GH_ECONFLICT, "connector instance %s is not configured on this "
				    "server", r->kind);
	k = gov_connector_kind(g, r->kind);
	if (!k || !k->list || !gov_connector_connected(r->kind))
		return gh_error_set(GH_ECONFLICT, "connector %s cannot read access back", r->kind);

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT DISTINCT json_extract(attributes, '$.target') FROM entitlements"
				" WHERE system_id = ?1 AND coalesce(json_extract(attributes, '$.target'),"
				" '') <> '' ORDER BY 1 LIMIT ?2")))
		return rc;
	sqlite3_bind_text(st, 1, sys_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, TARGETS_MAX);
	if (!(r->targets = calloc(TARGETS_MAX, sizeof(*r->targets)))) {
		sqlite3_reset(st);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW && r->ntargets < TARGETS_MAX)
		if ((r->targets[r->ntargets] = strdup((const char *)sqlite3_column_text(st, 0))))
			r->ntargets++;
	sqlite3_reset(st);
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		return gh_store_fail(g->store, "reading entitlement targets");

	/* what each grant gave (its grant job), else what it would give */
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT gr.id, gr.status = 'active' AND coalesce(o.state, 'done') <> 'pending',"
				" coalesce(o.account, CASE WHEN json_extract(?2, '$.account_attribute')"
				"  IS NULL THEN i.name ELSE json_extract(i.attributes, '$.\"' ||"
				"  json_extract(?2, '$.account_attribute') || '\"') END),"
				" coalesce(o.target, json_extract(e.attributes, '$.target'))"
				" FROM grants gr JOIN entitlements e ON e.id = gr.entitlement_id"
				" JOIN identities i ON i.id = gr.subject_id"
				" LEFT JOIN outbox o ON o.grant_id = gr.id AND o.op = 'grant'"
				" WHERE e.system_id = ?1 AND gr.status IN ('active', 'provisioning')")))
		return rc;
	sqlite3_bind_text(st, 1, sys_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->settings, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *account = (const char *)sqlite3_column_text(st, 2);
		const char *target = (const char *)sqlite3_column_text(st, 3);
		if (!account || !target)
			continue;
		pair_key(key, sizeof(key), account, target);
		if (sqlite3_column_int(st, 1)) {
			json_object_set_new(r->expected, key, gov_text_column(st, 0));
			r->grants++;
		} else {
			json_object_set_new(r->skip, key, json_true());
		}
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : gh_store_fail(g->store, "reading a system's grants");
}

#define FINDING_COLS                                                                         \
	"id, run_id, system_id, kind, account, target, grant_id, status, job_id, created_at,"   \
	" updated_at"

static json_t *finding_json(sqlite3_stmt *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", gov_text_column(st, 0), "run", gov_text_column(st, 1),
			 "system", gov_text_column(st, 2), "kind", gov_text_column(st, 3),
			 "account", gov_text_column(st, 4), "target", gov_text_column(st, 5),
			 "grant", gov_text_column(st, 6), "status", gov_text_column(st, 7),
			 "job", gov_text_column(st, 8), "created_at", gov_time_column(st, 9),
			 "updated_at", gov_time_column(st, 10));
}

static int finding_load(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store, "SELECT " FINDING_COLS " FROM findings WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = (*out = finding_json(st)) ? 0 : gh_error_set(GH_ERROR, "out of memory");
	else
		rc = gh_store_fail(g->store, "loading a finding");
	sqlite3_reset(st);
	return rc;
}

/* Puts the grant's grant job back in the queue (or writes one): its id into job. */
static int requeue(gh_gov *g, const char *actor, const char *grant, const char *sys,
		   const char *account, const char *target, char job[GH_ID_LEN], int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	job[0] = '\0';
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2,"
				" lease_until = NULL, last_error = NULL, done_at = NULL, updated_at = ?2"
				" WHERE grant_id = ?1 AND op = 'grant' AND state <> 'pending'"
				" RETURNING id")))
		return rc;
	sqlite3_bind_text(st, 1, grant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(job, GH_ID_LEN, "%s", sqlite3_column_text(st, 0));
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return gh_store_fail(g->store, "queueing a grant job again");
	if (!*job)
		return gov_outbox_add(g, job, actor, grant, sys, "grant", account, target, now);
	if ((rc = gov_audit_take(g, actor, "job.retried", "job", job,
			json_pack("{s:s, s:s}", "grant", grant, "reason", "missing downstream"))))
		return rc;
	gov_outbox_poke(g);
	return 0;
}

static int finding_add(json_t *list, gh_gov *g, const char *actor, const recon *r,
		       const char *run, const char *kind, const char *account, const char *target,
		       const char *grant, const char *status, const char *job, int64_t now)
{
	char id[GH_ID_LEN];
	json_t *f = NULL;
	sqlite3_stmt *st;
	int rc;

	gh_id_new(id, sizeof(id), "fnd");
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO findings(id, run_id, system_id, kind, account, target,"
				" grant_id, status, job_id, created_at, updated_at)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->sys, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, target, -1, SQLITE_STATIC);
	if (grant)
		sqlite3_bind_text(st, 7, grant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, status, -1, SQLITE_STATIC);
	if (job && *job)
		sqlite3_bind_text(st, 9, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, now);
	if ((rc = gov_step_done(g, st, "recording a finding")))
		return rc;
	if ((rc = gov_audit_take(g, actor, "reconcile.finding", "finding", id,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s?}", "run", run,
				  "system", r->sys, "kind", kind, "account", account,
				  "target", target, "grant", grant, "status", status,
				  "job", job && *job ? job : NULL))))
		return rc;
	if ((rc = finding_load(&f, g, id)))
		return rc;
	return json_array_append_new(list, f) ? gh_error_set(GH_ERROR, "out of memory") : 0;
}

/* 1 when a revoke of this shadow access is already queued. */
static int revoke_queued(gh_gov *g, const char *sys, const char *account, const char *target)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT 1 FROM outbox WHERE system_id = ?1 AND account = ?2 AND target = ?3"
				" AND op = 'revoke' AND grant_id IS NULL AND state = 'pending'")))
		return rc;
	sqlite3_bind_text(st, 1, sys, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 :
		gh_store_fail(g->store, "looking for a queued revoke");
}

/* One system: read, list downstream (no store section held), record. */
static int reconcile_one(json_t **out, gh_gov *g, const char *actor, const char *sys_id,
			 int revoke_shadow)
{
	const gh_connector_kind *k;
	gh_conn_access *acc = NULL;
	size_t nacc = 0, i;
	json_t *settings = NULL, *params = NULL, *missing = NULL, *shadow = NULL, *seen = NULL, *v;
	char run[GH_ID_LEN], key[2048], job[GH_ID_LEN];
	const char *pair;
	int64_t now;
	recon r;
	int rc;

	memset(&r, 0, sizeof(r));
	*out = NULL;
	gh_store_read_begin(g->store);
	rc = recon_read(g, &r, sys_id);
	gh_store_read_end(g->store);
	if (rc)
		goto cleanup;
	if (!(params = json_loads(r.settings, 0, NULL))) {
		rc = gh_error_set(GH_EINVALID, "the system's connector_settings do not parse");
		goto cleanup;
	}
	if ((rc = gh_connect_settings(&settings, &k, g->opts.config, r.kind, params))) {
		char msg[sizeof(gh_error_last()->message)];

		snprintf(msg, sizeof(msg), "%s", gh_error_last()->message);
		rc = gh_error_set(GH_ECONFLICT, "%s", msg);
		goto cleanup;
	}
	gh_error_clear();
	if (r.ntargets && (rc = k->list(settings, r.targets, r.ntargets, &acc, &nacc))) {
		if (gh_error_last()->code == GH_OK)
			gh_error_set(GH_ERROR, "connector %s could not read access back", r.kind);
		/* the system is unreachable or refused: a conflict, not our failure */
		if (rc != GH_EINVALID) {
			char msg[sizeof(gh_error_last()->message)];
			snprintf(msg, sizeof(msg), "%s", gh_error_last()->message);
			rc = gh_error_set(GH_ECONFLICT, "%s", msg);
		}
		goto cleanup;
	}
	if (!(missing = json_array()) || !(shadow = json_array()) || !(seen = json_object())) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	gh_id_new(run, sizeof(run), "rec");
	now = gh_now();
	if ((rc = gh_store_begin(g->store)))
		goto cleanup;
	for (i = 0; i < nacc && !rc; i++) {
		pair_key(key, sizeof(key), acc[i].account, acc[i].target);
		if (json_object_get(seen, key))
			continue;
		json_object_set_new(seen, key, json_true());
		if (json_object_get(r.expected, key) || json_object_get(r.skip, key))
			continue;
		job[0] = '\0';
		if (revoke_shadow && (rc = revoke_queued(g, r.sys, acc[i].account,
							 acc[i].target)) == 0)
			rc = gov_outbox_add(g, job, actor, NULL, r.sys, "revoke", acc[i].account,
					    acc[i].target, now);
		if (rc >= 0)
			rc = finding_add(shadow, g, actor, &r, run, "shadow", acc[i].account,
					 acc[i].target, NULL, *job ? "revoking" : "open", job, now);
	}
	json_object_foreach(r.expected, pair, v) {
		const char *sep = strchr(pair, '\x1f');
		char account[1024];
		if (rc || json_object_get(seen, pair) || !sep)
			continue;
		snprintf(account, sizeof(account), "%.*s", (int)(sep - pair), pair);
		if (!(rc = requeue(g, actor, json_string_value(v), r.sys, account, sep + 1, job, now)))
			rc = finding_add(missing, g, actor, &r, run, "missing", account, sep + 1,
					 json_string_value(v), "reprovisioning", job, now);
	}
	if (!rc)
		rc = gov_audit_take(g, actor, "reconcile.run", "system", r.sys,
			   json_pack("{s:s, s:{s:I, s:i, s:I}, s:I, s:I, s:b}", "run", run,
				     "checked", "targets", (json_int_t)r.ntargets, "grants", r.grants,
				     "downstream", (json_int_t)nacc,
				     "missing", (json_int_t)json_array_size(missing),
				     "shadow", (json_int_t)json_array_size(shadow),
				     "revoke_shadow", revoke_shadow));
	if ((rc = gov_finish(g, rc)))
		goto cleanup;
	*out = json_pack("{s:s, s:s, s:{s:I, s:i, s:I}, s:O, s:O}", "run", run, "system", r.sys,
			 "checked", "targets", (json_int_t)r.ntargets, "grants", r.grants,
			 "downstream", (json_int_t)nacc, "missing", missing, "shadow", shadow);
	if (!*out)
		rc = gh_error_set(GH_ERROR, "out of memory");
cleanup:
	gh_conn_access_free(acc, nacc);
	json_decref(settings);
	json_decref(params);
	json_decref(missing);
	json_decref(shadow);
	json_decref(seen);
	recon_clear(&r);
	return rc;
}

/* Scheduled: every system whose connector reads access back, reporting only. */
static int reconcile_all(json_t **out, gh_gov *g)
{
	json_t *ids = json_array(), *items = json_array(), *v, *one;
	sqlite3_stmt *st;
	size_t i;
	int rc = 0;

	if (!ids || !items) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	gh_store_read_begin(g->store);
	if (!(rc = gh_store_stmt(&st, g->store, "SELECT id, connector FROM systems ORDER BY pk"))) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 1);
			const gh_connector_kind *k = gov_connector_kind(g, name);
			if (k && k->list && gov_connector_connected(name))
				json_array_append_new(ids, gov_text_column(st, 0));
		}
		sqlite3_reset(st);
	}
	gh_store_read_end(g->store);
	json_array_foreach(ids, i, v) {
		/* one unreachable system does not stop the others */
		if (reconcile_one(&one, g, RECONCILE_ACTOR, json_string_value(v), 0) == 0)
			json_array_append_new(items, one);
	}
	*out = json_pack("{s:O}", "items", items);
cleanup:
	json_decref(ids);
	json_decref(items);
	return rc;
}

int gh_gov_reconcile(json_t **out, gh_gov *g, const gh_actor *actor, const char *system_ref,
		     const json_t *in)
{
	static const char *const allowed[] = {"revoke_shadow", NULL};
	char sys[GH_ID_LEN];
	int revoke_shadow = 0, rc;

	*out = NULL;
	gh_error_clear();
	if (!actor)
		return reconcile_all(out, g);
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "reconciling a system")))
		return rc;
	if (in && (gh_jv_object(in, allowed) >= 0 || json_is_object(in)))
		gh_jv_bool(in, "revoke_shadow", 0, &revoke_shadow);
	if ((rc = gh_error_fields_finish()))
		return rc;
	gh_store_read_begin(g->store);
	rc = gov_resolve(g, "systems", system_ref, sys);
	gh_store_read_end(g->store);
	if (rc)
		return rc;
	return reconcile_one(out, g, actor->id, sys, revoke_shadow);
}

int gh_gov_finding_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			const char *system, const char *kind, const char *status)
{
	char sys[GH_ID_LEN] = "";
	sqlite3_stmt *st;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR,
				   "reading findings")))
		return rc;
	if (kind)
		gov_check_enum("kind", gov_finding_kinds, kind);
	if (status)
		gov_check_enum("status", gov_finding_statuses, status);
	gh_store_read_begin(g->store);
	if (system && (rc = gov_resolve_field(g, "systems", "system", system, sys)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "findings", page, &limit, &after)) || (rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT " FINDING_COLS " FROM findings WHERE pk > ?1"
				" AND (?2 IS NULL OR system_id = ?2) AND (?3 IS NULL OR kind = ?3)"
				" AND (?4 IS NULL OR status = ?4) ORDER BY pk LIMIT ?5")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, after);
	if (*sys)
		sqlite3_bind_text(st, 2, sys, -1, SQLITE_STATIC);
	if (kind)
		sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	if (status)
		sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, limit);
	rc = gov_list_rows(out, g, st, limit, finding_json, "listing findings");
cleanup:
	gh_store_read_end(g->store);
	return rc;
}
