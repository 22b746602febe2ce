/* reconcile.c - the SQL of reconciliation: systems, grants, findings and the
 * outbox jobs it touches (store/reconcile.h). */
#include "store/reconcile.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FINDING_COLS                                                                         \
	"id, run_id, system_id, kind, account, target, grant_id, status, job_id, created_at,"   \
	" updated_at"

static int nomem(void)
{
	return gh_error_set(GH_ERROR, "out of memory");
}

static json_t *system_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o}", "name", gh_sql_text_column(q, 0),
			 "connector", gh_sql_text_column(q, 1), "settings", gh_sql_text_column(q, 2));
}

int gh_store_reconcile_system(json_t **out, gh_store *s, const char *system_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT name, connector, connector_settings FROM systems"
					" WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, system_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		rc = (*out = system_json(q)) ? 0 : nomem();
	else
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "reading a system");
	gh_sql_reset(q);
	return rc;
}

static json_t *system_id_json(gh_sql *q)
{
	return json_pack("{s:o, s:o}", "id", gh_sql_text_column(q, 0),
			 "connector", gh_sql_text_column(q, 1));
}

int gh_store_reconcile_systems(json_t **out, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT id, connector FROM systems ORDER BY pk")))
		return rc;
	return gh_sql_rows(out, q, system_id_json, "systems");
}

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The targets are read from each entitlement's attributes here, not in SQL,
 * so that both databases run the same plain statement. */
int gh_store_reconcile_targets(json_t **out, gh_store *s, const char *system_id, size_t max)
{
	json_t *seen = json_object(), *attrs, *v;
	const char **keys = NULL, *key;
	size_t n = 0, i;
	gh_sql *q;
	int rc;

	*out = NULL;
	if (!seen)
		return nomem();
	if ((rc = gh_sql_prepare(&q, s, "SELECT attributes FROM entitlements WHERE system_id = ?1")))
		goto cleanup;
	gh_sql_bind_text(q, 1, system_id);
	while ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		const char *target;
		int bad;

		attrs = gh_sql_json_column(q, 0, 0);
		target = json_string_value(json_object_get(attrs, "target"));
		bad = !attrs || (target && *target && json_object_set_new(seen, target, json_true()));
		json_decref(attrs);
		if (bad) {
			gh_sql_reset(q);
			rc = nomem();
			goto cleanup;
		}
	}
	rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "reading entitlement targets");
	gh_sql_reset(q);
	if (rc)
		goto cleanup;
	if (json_object_size(seen) &&
	    !(keys = malloc(json_object_size(seen) * sizeof(*keys)))) {
		rc = nomem();
		goto cleanup;
	}
	json_object_foreach(seen, key, v)
		keys[n++] = key;
	if (n)
		qsort(keys, n, sizeof(*keys), by_bytes);
	if (!(*out = json_array())) {
		rc = nomem();
		goto cleanup;
	}
	for (i = 0; i < n && i < max; i++)
		if (json_array_append_new(*out, json_string(keys[i]))) {
			json_decref(*out);
			*out = NULL;
			rc = nomem();
			goto cleanup;
		}
cleanup:
	free(keys);
	json_decref(seen);
	return rc;
}

int gh_store_reconcile_grants(gh_store *s, const char *system_id,
			      int (*each)(void *ctx, const gh_reconcile_grant *grant), void *ctx)
{
	gh_reconcile_grant gr;
	json_t *subject_attrs, *ent_attrs;
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT gr.id, gr.status, o.state, o.account, o.target, i.name,"
				 " i.attributes, e.attributes"
				 " FROM grants gr JOIN entitlements e ON e.id = gr.entitlement_id"
				 " JOIN identities i ON i.id = gr.subject_id"
				 " LEFT JOIN outbox o ON o.grant_id = gr.id AND o.op = 'grant'"
				 " WHERE e.system_id = ?1 AND gr.status IN ('active', 'provisioning')")))
		return rc;
	gh_sql_bind_text(q, 1, system_id);
	while ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		subject_attrs = gh_sql_json_column(q, 6, 0);
		ent_attrs = gh_sql_json_column(q, 7, 0);
		if (!subject_attrs || !ent_attrs) {
			rc = nomem();
		} else {
			gr.id = gh_sql_column_text(q, 0);
			gr.status = gh_sql_column_text(q, 1);
			gr.job_state = gh_sql_column_text(q, 2);
			gr.job_account = gh_sql_column_text(q, 3);
			gr.job_target = gh_sql_column_text(q, 4);
			gr.subject_name = gh_sql_column_text(q, 5);
			gr.subject_attributes = subject_attrs;
			gr.entitlement_attributes = ent_attrs;
			rc = each(ctx, &gr);
		}
		json_decref(subject_attrs);
		json_decref(ent_attrs);
		if (rc) {
			gh_sql_reset(q);
			return rc;
		}
	}
	rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "reading a system's grants");
	gh_sql_reset(q);
	return rc;
}

int gh_store_reconcile_requeue(char *job, size_t joblen, gh_store *s, const char *grant_id,
			       int64_t now)
{
	gh_sql *q;
	int rc;

	job[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2,"
				 " lease_until = NULL, last_error = NULL, done_at = NULL, updated_at = ?2"
				 " WHERE grant_id = ?1 AND op = 'grant' AND state <> 'pending'"
				 " RETURNING id")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	gh_sql_bind_int64(q, 2, now);
	if ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		const char *id = gh_sql_column_text(q, 0);

		snprintf(job, joblen, "%s", id ? id : "");
		rc = gh_sql_step(q);
	}
	rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "queueing a grant job again");
	gh_sql_reset(q);
	return rc;
}

int gh_store_reconcile_revoke_queued(gh_store *s, const char *system_id, const char *account,
				     const char *target)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT 1 FROM outbox WHERE system_id = ?1 AND account = ?2"
				 " AND target = ?3 AND op = 'revoke' AND grant_id IS NULL"
				 " AND state = 'pending'")))
		return rc;
	gh_sql_bind_text(q, 1, system_id);
	gh_sql_bind_text(q, 2, account);
	gh_sql_bind_text(q, 3, target);
	return gh_sql_exists(q, "looking for a queued revoke");
}

static json_t *finding_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", gh_sql_text_column(q, 0), "run", gh_sql_text_column(q, 1),
			 "system", gh_sql_text_column(q, 2), "kind", gh_sql_text_column(q, 3),
			 "account", gh_sql_text_column(q, 4), "target", gh_sql_text_column(q, 5),
			 "grant", gh_sql_text_column(q, 6), "status", gh_sql_text_column(q, 7),
			 "job", gh_sql_text_column(q, 8), "created_at", gh_sql_time_column(q, 9),
			 "updated_at", gh_sql_time_column(q, 10));
}

int gh_store_finding_insert(gh_store *s, const char *id, const char *run_id,
			    const char *system_id, const char *kind, const char *account,
			    const char *target, const char *grant_id, const char *status,
			    const char *job_id, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO findings(id, run_id, system_id, kind, account, target,"
				 " grant_id, status, job_id, created_at, updated_at)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, run_id);
	gh_sql_bind_text(q, 3, system_id);
	gh_sql_bind_text(q, 4, kind);
	gh_sql_bind_text(q, 5, account);
	gh_sql_bind_text(q, 6, target);
	gh_sql_bind_text(q, 7, grant_id);
	gh_sql_bind_text(q, 8, status);
	gh_sql_bind_text(q, 9, job_id);
	gh_sql_bind_int64(q, 10, now);
	return gh_sql_step_done(q, "recording a finding");
}

int gh_store_finding_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " FINDING_COLS " FROM findings WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		rc = (*out = finding_json(q)) ? 0 : nomem();
	else
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "loading a finding");
	gh_sql_reset(q);
	return rc;
}

int gh_store_findings_list(json_t **out, gh_store *s, int64_t after_pk, const char *system_id,
			   const char *kind, const char *status, int limit)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT " FINDING_COLS " FROM findings WHERE pk > ?1"
				 " AND (CAST(?2 AS TEXT) IS NULL OR system_id = ?2)"
				 " AND (CAST(?3 AS TEXT) IS NULL OR kind = ?3)"
				 " AND (CAST(?4 AS TEXT) IS NULL OR status = ?4) ORDER BY pk LIMIT ?5")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, system_id);
	gh_sql_bind_text(q, 3, kind);
	gh_sql_bind_text(q, 4, status);
	gh_sql_bind_int(q, 5, limit);
	return gh_sql_rows(out, q, finding_json, "listing findings");
}

static json_t *id_json(gh_sql *q)
{
	return gh_sql_text_column(q, 0);
}

int gh_store_findings_settle(json_t **ids, gh_store *s, const char *job_id, const char *from,
			     const char *to, int64_t now)
{
	gh_sql *q;
	int rc;

	*ids = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE findings SET status = ?3, updated_at = ?4"
				 " WHERE job_id = ?1 AND status = ?2 RETURNING id")))
		return rc;
	gh_sql_bind_text(q, 1, job_id);
	gh_sql_bind_text(q, 2, from);
	gh_sql_bind_text(q, 3, to);
	gh_sql_bind_int64(q, 4, now);
	return gh_sql_rows(ids, q, id_json, "settling findings");
}
