/* reconcile.c - reconciliation: the access a system really holds compared
 * with the active grants; missing grants provisioned again, shadow access
 * reported and, on request, revoked. */
#include "gov/gov_internal.h"
#include "common/config.h"
#include "connect/connect.h"
#include "store/reconcile.h"

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

/* The account a grant gives downstream when its grant job has not said: the
 * subject's attribute named by the system's account_attribute, else its name;
 * NULL when that attribute is absent or not a scalar. num holds a number's
 * text. */
static const char *account_of(const char *attr, const gh_reconcile_grant *gr, char num[32])
{
	json_t *v;

	if (!attr)
		return gr->subject_name;
	v = json_object_get(gr->subject_attributes, attr);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v) || json_is_boolean(v)) {
		snprintf(num, 32, "%" JSON_INTEGER_FORMAT,
			 json_is_integer(v) ? json_integer_value(v) : (json_int_t)json_is_true(v));
		return num;
	}
	return NULL;
}

typedef struct grants_walk {
	recon *r;
	const char *account_attribute;   /* the system's setting, or NULL */
} grants_walk;

/* What each grant gave (its grant job), else what it would give: expected
 * when the grant is active and its job is not still pending, otherwise
 * neither missing nor shadow. */
static int grant_seen(void *ctx, const gh_reconcile_grant *gr)
{
	grants_walk *w = ctx;
	char key[2048], num[32];
	const char *account = gr->job_account, *target = gr->job_target;

	if (!account)
		account = account_of(w->account_attribute, gr, num);
	if (!target)
		target = json_string_value(json_object_get(gr->entitlement_attributes, "target"));
	if (!account || !target)
		return 0;
	pair_key(key, sizeof(key), account, target);
	if (strcmp(gr->status, "active") == 0 &&
	    !(gr->job_state && strcmp(gr->job_state, "pending") == 0)) {
		json_object_set_new(w->r->expected, key, json_string(gr->id));
		w->r->grants++;
	} else {
		json_object_set_new(w->r->skip, key, json_true());
	}
	return 0;
}

/* Reads the system, its targets and its grants. Inside a read section. */
static int recon_read(gh_gov *g, recon *r, const char *sys_id)
{
	const gh_connector_kind *k;
	json_t *row = NULL, *targets = NULL, *params = NULL, *v;
	grants_walk walk;
	size_t i;
	int rc;

	snprintf(r->sys, sizeof(r->sys), "%s", sys_id);
	if (!(r->expected = json_object()) || !(r->skip = json_object()))
		return gh_error_set(GH_ERROR, "out of memory");
	if ((rc = gh_store_reconcile_system(&row, g->store, sys_id)))
		return rc;
	if (!row)
		return gh_error_set(GH_ENOTFOUND, "system %s not found", sys_id);
	snprintf(r->name, sizeof(r->name), "%s", json_string_value(json_object_get(row, "name")));
	snprintf(r->kind, sizeof(r->kind), "%s",
		 json_string_value(json_object_get(row, "connector")));
	r->settings = strdup(json_string_value(json_object_get(row, "settings")));
	json_decref(row);
	if (!r->settings)
		return gh_error_set(GH_ERROR, "out of memory");
	if (gov_connector_connected(r->kind) &&
	    !gh_config_instance_find(g->opts.config, r->kind))
		return gh_error_set(GH_ECONFLICT, "connector instance %s is not configured on this "
				    "server", r->kind);
	k = gov_connector_kind(g, r->kind);
	if (!k || !k->list || !gov_connector_connected(r->kind))
		return gh_error_set(GH_ECONFLICT, "connector %s cannot read access back", r->kind);

	if ((rc = gh_store_reconcile_targets(&targets, g->store, sys_id, TARGETS_MAX)))
		return rc;
	if (json_array_size(targets) &&
	    !(r->targets = calloc(json_array_size(targets), sizeof(*r->targets)))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	json_array_foreach(targets, i, v)
		if ((r->targets[r->ntargets] = strdup(json_string_value(v))))
			r->ntargets++;

	if (!(params = json_loads(r->settings, 0, NULL))) {
		rc = gh_error_set(GH_EINVALID, "the system's connector_settings do not parse");
		goto cleanup;
	}
	walk.r = r;
	walk.account_attribute = json_string_value(json_object_get(params, "account_attribute"));
	rc = gh_store_reconcile_grants(g->store, sys_id, grant_seen, &walk);
cleanup:
	json_decref(targets);
	json_decref(params);
	return rc;
}

static int finding_load(json_t **out, gh_gov *g, const char *id)
{
	int rc;

	if ((rc = gh_store_finding_get(out, g->store, id)))
		return rc;
	return *out ? 0 : gh_error_set(GH_ENOTFOUND, "finding %s not found", id);
}

/* Puts the grant's grant job back in the queue (or writes one): its id into job. */
static int requeue(gh_gov *g, const char *actor, const char *grant, const char *sys,
		   const char *account, const char *target, char job[GH_ID_LEN], int64_t now)
{
	int rc;

	if ((rc = gh_store_reconcile_requeue(job, GH_ID_LEN, g->store, grant, now)))
		return rc;
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
	int rc;

	gh_id_new(id, sizeof(id), "fnd");
	if ((rc = gh_store_finding_insert(g->store, id, run, r->sys, kind, account, target, grant,
					  status, job && *job ? job : NULL, now)))
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
		if (revoke_shadow && (rc = gh_store_reconcile_revoke_queued(g->store, r.sys,
				acc[i].account, acc[i].target)) == 0)
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
	json_t *systems = NULL, *items = json_array(), *v, *one;
	size_t i;
	int rc = 0;

	if (!items) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	gh_store_read_begin(g->store);
	rc = gh_store_reconcile_systems(&systems, g->store);
	gh_store_read_end(g->store);
	if (rc)
		goto cleanup;
	json_array_foreach(systems, i, v) {
		const char *name = json_string_value(json_object_get(v, "connector"));
		const gh_connector_kind *k = gov_connector_kind(g, name);

		if (!k || !k->list || !gov_connector_connected(name))
			continue;
		/* one unreachable system does not stop the others */
		if (reconcile_one(&one, g, RECONCILE_ACTOR,
				  json_string_value(json_object_get(v, "id")), 0) == 0)
			json_array_append_new(items, one);
	}
	*out = json_pack("{s:O}", "items", items);
cleanup:
	json_decref(systems);
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
	json_t *items = NULL;
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
	if ((rc = gh_store_findings_list(&items, g->store, after, *sys ? sys : NULL, kind, status,
					 limit)))
		goto cleanup;
	if (!(*out = gov_list_result(items, limit)))
		rc = gh_error_set(GH_ERROR, "out of memory listing findings");
	items = NULL;
cleanup:
	gh_store_read_end(g->store);
	return rc;
}
