/* policies.c - the SQL of versioned policy sets (store/policies.h). */
#include "store/policies.h"
#include "store/sql.h"
#include "common/error.h"
#include "common/jsonv.h"

#include <stdio.h>
#include <stdlib.h>

#define VERSION_COLS                                                                        \
	"id, version, state, sha256, comment, proposed_by, proposed_at, validation,"         \
	" activated_by, activated_at"

/* A row of VERSION_COLS (and text as column 10 when with_text). */
static json_t *version_json(gh_sql *q, int with_text)
{
	json_t *v = json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			      "id", gh_sql_text_column(q, 0),
			      "version", (json_int_t)gh_sql_column_int64(q, 1),
			      "state", gh_sql_text_column(q, 2),
			      "sha256", gh_sql_text_column(q, 3),
			      "comment", gh_sql_text_column(q, 4),
			      "proposed_by", gh_sql_text_column(q, 5),
			      "proposed_at", gh_sql_time_column(q, 6),
			      "validation", gh_sql_json_column(q, 7, 1),
			      "activated_by", gh_sql_text_column(q, 8),
			      "activated_at", gh_sql_time_column(q, 9));

	if (v && with_text && json_object_set_new(v, "text", gh_sql_text_column(q, 10))) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

static json_t *listed_json(gh_sql *q)
{
	return version_json(q, 0);
}

int gh_store_policy_get(json_t **out, gh_store *s, const char *id, int with_text)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " VERSION_COLS ", text FROM policy_versions"
					" WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		*out = version_json(q, with_text);
	rc = rc == GH_SQL_ROW ? (*out ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == GH_SQL_DONE ? gh_error_set(GH_ENOTFOUND, "policy version %s not found", id)
	     : gh_sql_fail(q, "loading a policy version");
	gh_sql_reset(q);
	return rc;
}

int gh_store_policy_id_of(char *out, size_t outlen, gh_store *s, int64_t version)
{
	gh_sql *q;
	int rc;

	out[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s, "SELECT id FROM policy_versions WHERE version = ?1")))
		return rc;
	gh_sql_bind_int64(q, 1, version);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		snprintf(out, outlen, "%s", gh_sql_column_text(q, 0));
	rc = rc == GH_SQL_ROW ? 0
	     : rc == GH_SQL_DONE ? gh_error_set(GH_ENOTFOUND, "policy version %lld not found",
						(long long)version)
	     : gh_sql_fail(q, "resolving a policy version");
	gh_sql_reset(q);
	return rc;
}

int gh_store_policy_exists(gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "SELECT 1 FROM policy_versions WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_exists(q, "resolving a policy version");
}

int gh_store_policy_active(char *id, size_t idlen, int64_t *version, gh_store *s)
{
	gh_sql *q;
	int rc;

	id[0] = '\0';
	*version = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT id, version FROM policy_versions WHERE state = 'active'")))
		return rc;
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		snprintf(id, idlen, "%s", gh_sql_column_text(q, 0));
		*version = gh_sql_column_int64(q, 1);
	}
	rc = rc != GH_SQL_FAIL ? 0 : gh_sql_fail(q, "finding the active policy version");
	gh_sql_reset(q);
	return rc;
}

int gh_store_policy_next_version(int64_t *out, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT coalesce(max(version), 0) + 1 FROM policy_versions")))
		return rc;
	if (gh_sql_step(q) == GH_SQL_ROW)
		*out = gh_sql_column_int64(q, 0);
	else
		rc = gh_sql_fail(q, "numbering a policy version");
	gh_sql_reset(q);
	return rc;
}

static const char *str_of(const json_t *row, const char *key)
{
	return json_string_value(json_object_get(row, key));
}

int gh_store_policy_insert(gh_store *s, const json_t *row)
{
	char *validation = gh_json_canonical(json_object_get(row, "validation"));
	gh_sql *q;
	int rc;

	if (!validation)
		return gh_error_set(GH_ERROR, "out of memory");
	if (!(rc = gh_sql_prepare(&q, s,
				  "INSERT INTO policy_versions(id, version, text, sha256, state,"
				  " proposed_by, proposed_at, comment, validation)"
				  " VALUES (?1, ?2, ?3, ?4, 'proposed', ?5, ?6, ?7, ?8)"))) {
		gh_sql_bind_text(q, 1, str_of(row, "id"));
		gh_sql_bind_int64(q, 2, json_integer_value(json_object_get(row, "version")));
		gh_sql_bind_text(q, 3, str_of(row, "text"));
		gh_sql_bind_text(q, 4, str_of(row, "sha256"));
		gh_sql_bind_text(q, 5, str_of(row, "proposed_by"));
		gh_sql_bind_int64(q, 6, json_integer_value(json_object_get(row, "proposed_at")));
		gh_sql_bind_text(q, 7, str_of(row, "comment"));
		gh_sql_bind_text(q, 8, validation);
		rc = gh_sql_step_done(q, "proposing a policy version");
	}
	free(validation);
	return rc;
}

int gh_store_policy_supersede(gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE policy_versions SET state = 'superseded' WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_step_done(q, "superseding a policy version");
}

int gh_store_policy_activate(gh_store *s, const char *id, const char *by, int64_t at)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE policy_versions SET state = 'active', activated_by = ?2,"
				 " activated_at = ?3 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, by);
	gh_sql_bind_int64(q, 3, at);
	return gh_sql_step_done(q, "activating a policy version");
}

int gh_store_policy_list(json_t **items, gh_store *s, int64_t after_pk, int limit)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " VERSION_COLS " FROM policy_versions"
					" WHERE pk > ?1 ORDER BY pk LIMIT ?2")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_int(q, 2, limit);
	return gh_sql_rows(items, q, listed_json, "listing policy versions");
}
