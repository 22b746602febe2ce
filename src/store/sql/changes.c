/* changes.c - the SQL of proposed changes and of entitlements.controls_changed_by. */
#include "store/changes.h"
#include "store/sql.h"
#include "common/error.h"
#include "common/jsonv.h"

#include <stdlib.h>
#include <string.h>

#define CHANGE_COLUMNS                                                                      \
	"id, object_type, object_id, operation, payload, weakens, base_updated_at, state,"   \
	" proposed_by, proposed_at, comment, decided_by, decided_at, decision_comment"

/* A JSON column; what cannot be parsed (it never should) reads as null. */
static json_t *json_col(gh_sql *q, int col)
{
	const char *t = gh_sql_column_text(q, col);
	json_t *v = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;

	return v ? v : json_null();
}

static json_t *row_of(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", gh_sql_text_column(q, 0), "object_type", gh_sql_text_column(q, 1),
			 "object_id", gh_sql_text_column(q, 2), "operation", gh_sql_text_column(q, 3),
			 "payload", json_col(q, 4), "weakens", json_col(q, 5),
			 "base_updated_at", gh_sql_int_column(q, 6), "state", gh_sql_text_column(q, 7),
			 "proposed_by", gh_sql_text_column(q, 8), "proposed_at", gh_sql_int_column(q, 9),
			 "comment", gh_sql_text_column(q, 10), "decided_by", gh_sql_text_column(q, 11),
			 "decided_at", gh_sql_int_column(q, 12), "decision_comment", gh_sql_text_column(q, 13));
}

int gh_changes_insert(gh_store *s, const json_t *row)
{
	char *payload = gh_json_canonical(json_object_get(row, "payload"));
	char *weakens = gh_json_canonical(json_object_get(row, "weakens"));
	json_t *base = json_object_get(row, "base_updated_at");
	gh_sql *q;
	int rc;

	if (!payload || !weakens) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_sql_prepare(&q, s,
				"INSERT INTO changes(id, object_type, object_id, operation, payload,"
				" weakens, base_updated_at, state, proposed_by, proposed_at, comment)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'proposed', ?8, ?9, ?10)")))
		goto cleanup;
	gh_sql_bind_text(q, 1, json_string_value(json_object_get(row, "id")));
	gh_sql_bind_text(q, 2, json_string_value(json_object_get(row, "object_type")));
	gh_sql_bind_text(q, 3, json_string_value(json_object_get(row, "object_id")));
	gh_sql_bind_text(q, 4, json_string_value(json_object_get(row, "operation")));
	gh_sql_bind_text(q, 5, payload);
	gh_sql_bind_text(q, 6, weakens);
	if (json_is_integer(base))
		gh_sql_bind_int64(q, 7, json_integer_value(base));
	else
		gh_sql_bind_null(q, 7);
	gh_sql_bind_text(q, 8, json_string_value(json_object_get(row, "proposed_by")));
	gh_sql_bind_int64(q, 9, json_integer_value(json_object_get(row, "proposed_at")));
	gh_sql_bind_text(q, 10, json_string_value(json_object_get(row, "comment")));
	rc = gh_sql_step_done(q, "recording a proposed change");
cleanup:
	free(payload);
	free(weakens);
	return rc;
}

int gh_changes_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " CHANGE_COLUMNS " FROM changes WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		*out = row_of(q);
	rc = rc == GH_SQL_ROW ? (*out ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == GH_SQL_DONE ? gh_error_set(GH_ENOTFOUND, "change %s not found", id)
	     : gh_sql_fail(q, "loading a change");
	gh_sql_reset(q);
	return rc;
}

int gh_changes_list(json_t **out, gh_store *s, const char *state, const char *object_id,
		    const char *after, int limit)
{
	gh_sql *q;
	int64_t after_pk = 0;
	int rc;

	*out = NULL;
	if (after) {
		if ((rc = gh_sql_prepare(&q, s, "SELECT pk FROM changes WHERE id = ?1")))
			return rc;
		gh_sql_bind_text(q, 1, after);
		rc = gh_sql_step(q);
		if (rc == GH_SQL_ROW)
			after_pk = gh_sql_column_int64(q, 0);
		else if (rc == GH_SQL_DONE)
			gh_error_field("after", "no change %s", after);
		rc = rc == GH_SQL_ROW ? 0 : rc == GH_SQL_DONE ? gh_error_fields_finish()
		     : gh_sql_fail(q, "paging changes");
		gh_sql_reset(q);
		if (rc)
			return rc;
	}
	if ((rc = gh_sql_prepare(&q, s,
				"SELECT " CHANGE_COLUMNS " FROM changes WHERE pk > ?1"
				" AND (CAST(?2 AS TEXT) IS NULL OR state = ?2)"
				" AND (CAST(?3 AS TEXT) IS NULL OR object_id = ?3)"
				" ORDER BY pk LIMIT ?4")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, state);
	gh_sql_bind_text(q, 3, object_id);
	gh_sql_bind_int(q, 4, limit + 1);
	return gh_sql_rows(out, q, row_of, "listing changes");
}

int gh_changes_open(json_t **out, gh_store *s, const char *object_id, const char *operation)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				"SELECT " CHANGE_COLUMNS " FROM changes WHERE object_id = ?1"
				" AND state = 'proposed' AND operation = ?2 ORDER BY pk")))
		return rc;
	gh_sql_bind_text(q, 1, object_id);
	gh_sql_bind_text(q, 2, operation);
	return gh_sql_rows(out, q, row_of, "finding open changes");
}

int gh_changes_decide(gh_store *s, const char *id, const char *state, const char *by,
		      int64_t at, const char *comment)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				"UPDATE changes SET state = ?2, decided_by = ?3, decided_at = ?4,"
				" decision_comment = ?5 WHERE id = ?1 AND state = 'proposed'")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, state);
	gh_sql_bind_text(q, 3, by);
	gh_sql_bind_int64(q, 4, at);
	gh_sql_bind_text(q, 5, comment);
	rc = gh_sql_step(q) == GH_SQL_DONE ? 0 : gh_sql_fail(q, "deciding a change");
	if (!rc && gh_sql_changes(q) != 1)
		rc = gh_error_set(GH_ECONFLICT, "change %s is no longer proposed", id);
	gh_sql_reset(q);
	return rc;
}

int gh_changes_updated_at(int64_t *out, gh_store *s, const char *object_type,
			  const char *object_id)
{
	static const struct {
		const char *type, *sql;
	} tables[] = {
		{"entitlement", "SELECT updated_at FROM entitlements WHERE id = ?1"},
		{"identity", "SELECT updated_at FROM identities WHERE id = ?1"},
		{"system", "SELECT updated_at FROM systems WHERE id = ?1"},
		{"group", "SELECT updated_at FROM groups WHERE id = ?1"},
	};
	gh_sql *q;
	size_t i;
	int rc;

	*out = 0;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(tables[i].type, object_type) == 0)
			break;
	if (i == sizeof(tables) / sizeof(tables[0]))
		return gh_error_set(GH_ERROR, "no table for objects of type %s", object_type);
	if ((rc = gh_sql_prepare(&q, s, tables[i].sql)))
		return rc;
	gh_sql_bind_text(q, 1, object_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		*out = gh_sql_column_int64(q, 0);
	rc = rc == GH_SQL_ROW ? 0
	     : rc == GH_SQL_DONE ? gh_error_set(GH_ENOTFOUND, "%s %s not found", object_type,
						object_id)
	     : gh_sql_fail(q, "reading when an object changed");
	gh_sql_reset(q);
	return rc;
}

int gh_changes_controls_get(json_t **out, gh_store *s, const char *ent_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				"SELECT controls_changed_by FROM entitlements WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, ent_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		*out = json_col(q, 0);
		if (!json_is_array(*out)) {
			json_decref(*out);
			*out = json_array();
		}
	}
	rc = rc == GH_SQL_ROW ? (*out ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == GH_SQL_DONE ? gh_error_set(GH_ENOTFOUND, "entitlement %s not found", ent_id)
	     : gh_sql_fail(q, "reading who changed an entitlement's controls");
	gh_sql_reset(q);
	return rc;
}

int gh_changes_controls_set(gh_store *s, const char *ent_id, const json_t *ids)
{
	char *text = gh_json_canonical(ids);
	gh_sql *q;
	int rc;

	if (!text)
		return gh_error_set(GH_ERROR, "out of memory");
	if (!(rc = gh_sql_prepare(&q, s,
				 "UPDATE entitlements SET controls_changed_by = ?1 WHERE id = ?2"))) {
		gh_sql_bind_text(q, 1, text);
		gh_sql_bind_text(q, 2, ent_id);
		rc = gh_sql_step_done(q, "recording who changed an entitlement's controls");
	}
	free(text);
	return rc;
}

int gh_changes_group_guards(gh_store *s, const char *group_id, int64_t now)
{
	gh_sql *q;
	int rc;

	/* up the nesting (bounded like group.c's walks), then any deciding role */
	if ((rc = gh_sql_prepare(&q, s,
				"WITH RECURSIVE sup(id, d) AS (SELECT CAST(?1 AS TEXT), 0 UNION"
				" SELECT m.group_id, sup.d + 1 FROM group_members m JOIN sup"
				" ON m.member_id = sup.id WHERE m.member_type = 'group' AND sup.d < 64)"
				" SELECT 1 FROM sup WHERE"
				" EXISTS (SELECT 1 FROM entitlements e"
				"  WHERE e.control_owner_group_id = sup.id)"
				" OR EXISTS (SELECT 1 FROM delegations x WHERE x.to_group_id = sup.id"
				"  AND x.revoked_at IS NULL AND x.expires_at > ?2) LIMIT 1")))
		return rc;
	gh_sql_bind_text(q, 1, group_id);
	gh_sql_bind_int64(q, 2, now);
	rc = gh_sql_step(q);
	rc = rc == GH_SQL_ROW ? 1 : rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "walking groups");
	gh_sql_reset(q);
	return rc;
}
