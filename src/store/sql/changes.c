/* changes.c - the SQL of proposed changes and of entitlements.controls_changed_by. */
#include "store/changes.h"
#include "common/error.h"
#include "common/jsonv.h"

#include <stdlib.h>
#include <string.h>

#define CHANGE_COLUMNS                                                                      \
	"id, object_type, object_id, operation, payload, weakens, base_updated_at, state,"   \
	" proposed_by, proposed_at, comment, decided_by, decided_at, decision_comment"

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? json_string((const char *)t) : json_null();
}

static json_t *int_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? json_null() : json_integer(sqlite3_column_int64(st, col));
}

/* A JSON column; what cannot be parsed (it never should) reads as null. */
static json_t *json_col(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	json_t *v = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;

	return v ? v : json_null();
}

static json_t *row_of(sqlite3_stmt *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", text_or_null(st, 0), "object_type", text_or_null(st, 1),
			 "object_id", text_or_null(st, 2), "operation", text_or_null(st, 3),
			 "payload", json_col(st, 4), "weakens", json_col(st, 5),
			 "base_updated_at", int_or_null(st, 6), "state", text_or_null(st, 7),
			 "proposed_by", text_or_null(st, 8), "proposed_at", int_or_null(st, 9),
			 "comment", text_or_null(st, 10), "decided_by", text_or_null(st, 11),
			 "decided_at", int_or_null(st, 12), "decision_comment", text_or_null(st, 13));
}

static int step_done(gh_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : gh_store_fail(s, what);

	sqlite3_reset(st);
	return rc;
}

int gh_changes_insert(gh_store *s, const json_t *row)
{
	char *payload = gh_json_canonical(json_object_get(row, "payload"));
	char *weakens = gh_json_canonical(json_object_get(row, "weakens"));
	json_t *base = json_object_get(row, "base_updated_at");
	sqlite3_stmt *st;
	int rc;

	if (!payload || !weakens) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_stmt(&st, s,
				"INSERT INTO changes(id, object_type, object_id, operation, payload,"
				" weakens, base_updated_at, state, proposed_by, proposed_at, comment)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'proposed', ?8, ?9, ?10)")))
		goto cleanup;
	sqlite3_bind_text(st, 1, json_string_value(json_object_get(row, "id")), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json_string_value(json_object_get(row, "object_type")), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, json_string_value(json_object_get(row, "object_id")), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, json_string_value(json_object_get(row, "operation")), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, payload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, weakens, -1, SQLITE_STATIC);
	if (json_is_integer(base))
		sqlite3_bind_int64(st, 7, json_integer_value(base));
	sqlite3_bind_text(st, 8, json_string_value(json_object_get(row, "proposed_by")), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, json_integer_value(json_object_get(row, "proposed_at")));
	sqlite3_bind_text(st, 10, json_string_value(json_object_get(row, "comment")), -1,
			  SQLITE_STATIC);
	rc = step_done(s, st, "recording a proposed change");
cleanup:
	free(payload);
	free(weakens);
	return rc;
}

int gh_changes_get(json_t **out, gh_store *s, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, s, "SELECT " CHANGE_COLUMNS " FROM changes WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_of(st);
	rc = rc == SQLITE_ROW ? (*out ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "change %s not found", id)
	     : gh_store_fail(s, "loading a change");
	sqlite3_reset(st);
	return rc;
}

/* Steps st into an array of rows. */
static int rows(json_t **out, gh_store *s, sqlite3_stmt *st, const char *what)
{
	int step;

	if (!(*out = json_array())) {
		sqlite3_reset(st);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(*out, row_of(st)))
			break;
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		return step == SQLITE_ROW ? gh_error_set(GH_ERROR, "out of memory")
					  : gh_store_fail(s, what);
	}
	return 0;
}

int gh_changes_list(json_t **out, gh_store *s, const char *state, const char *object_id,
		    const char *after, int limit)
{
	sqlite3_stmt *st;
	int64_t after_pk = 0;
	int rc;

	*out = NULL;
	if (after) {
		if ((rc = gh_store_stmt(&st, s, "SELECT pk FROM changes WHERE id = ?")))
			return rc;
		sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			after_pk = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			gh_error_field("after", "no change %s", after);
			return gh_error_fields_finish();
		}
		if (rc != SQLITE_ROW)
			return gh_store_fail(s, "paging changes");
	}
	if ((rc = gh_store_stmt(&st, s,
				"SELECT " CHANGE_COLUMNS " FROM changes WHERE pk > ?1"
				" AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR object_id = ?3)"
				" ORDER BY pk LIMIT ?4")))
		return rc;
	sqlite3_bind_int64(st, 1, after_pk);
	if (state)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	if (object_id)
		sqlite3_bind_text(st, 3, object_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, limit + 1);
	return rows(out, s, st, "listing changes");
}

int gh_changes_open(json_t **out, gh_store *s, const char *object_id, const char *operation)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, s,
				"SELECT " CHANGE_COLUMNS " FROM changes WHERE object_id = ?"
				" AND state = 'proposed' AND operation = ? ORDER BY pk")))
		return rc;
	sqlite3_bind_text(st, 1, object_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, operation, -1, SQLITE_STATIC);
	return rows(out, s, st, "finding open changes");
}

int gh_changes_decide(gh_store *s, const char *id, const char *state, const char *by,
		      int64_t at, const char *comment)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, s,
				"UPDATE changes SET state = ?2, decided_by = ?3, decided_at = ?4,"
				" decision_comment = ?5 WHERE id = ?1 AND state = 'proposed'")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at);
	if (comment)
		sqlite3_bind_text(st, 5, comment, -1, SQLITE_STATIC);
	if ((rc = step_done(s, st, "deciding a change")))
		return rc;
	if (sqlite3_changes(gh_store_db(s)) != 1)
		return gh_error_set(GH_ECONFLICT, "change %s is no longer proposed", id);
	return 0;
}

int gh_changes_updated_at(int64_t *out, gh_store *s, const char *object_type,
			  const char *object_id)
{
	static const struct {
		const char *type, *sql;
	} tables[] = {
		{"entitlement", "SELECT updated_at FROM entitlements WHERE id = ?"},
		{"identity", "SELECT updated_at FROM identities WHERE id = ?"},
		{"system", "SELECT updated_at FROM systems WHERE id = ?"},
		{"group", "SELECT updated_at FROM groups WHERE id = ?"},
	};
	sqlite3_stmt *st;
	size_t i;
	int rc;

	*out = 0;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(tables[i].type, object_type) == 0)
			break;
	if (i == sizeof(tables) / sizeof(tables[0]))
		return gh_error_set(GH_ERROR, "no table for objects of type %s", object_type);
	if ((rc = gh_store_stmt(&st, s, tables[i].sql)))
		return rc;
	sqlite3_bind_text(st, 1, object_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW ? 0
	     : rc == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "%s %s not found", object_type,
						object_id)
	     : gh_store_fail(s, "reading when an object changed");
	sqlite3_reset(st);
	return rc;
}

int gh_changes_controls_get(json_t **out, gh_store *s, const char *ent_id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, s,
				"SELECT controls_changed_by FROM entitlements WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, ent_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = json_col(st, 0);
		if (!json_is_array(*out)) {
			json_decref(*out);
			*out = json_array();
		}
	}
	rc = rc == SQLITE_ROW ? (*out ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "entitlement %s not found", ent_id)
	     : gh_store_fail(s, "reading who changed an entitlement's controls");
	sqlite3_reset(st);
	return rc;
}

int gh_changes_controls_set(gh_store *s, const char *ent_id, const json_t *ids)
{
	char *text = gh_json_canonical(ids);
	sqlite3_stmt *st;
	int rc;

	if (!text)
		return gh_error_set(GH_ERROR, "out of memory");
	if (!(rc = gh_store_stmt(&st, s,
				 "UPDATE entitlements SET controls_changed_by = ? WHERE id = ?"))) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ent_id, -1, SQLITE_STATIC);
		rc = step_done(s, st, "recording who changed an entitlement's controls");
	}
	free(text);
	return rc;
}

int gh_changes_group_guards(gh_store *s, const char *group_id, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	/* up the nesting (bounded like group.c's walks), then any deciding role */
	if ((rc = gh_store_stmt(&st, s,
				"WITH RECURSIVE sup(id, d) AS (SELECT ?1, 0 UNION"
				" SELECT m.group_id, sup.d + 1 FROM group_members m JOIN sup"
				" ON m.member_id = sup.id WHERE m.member_type = 'group' AND sup.d < 64)"
				" SELECT 1 FROM sup WHERE"
				" EXISTS (SELECT 1 FROM entitlements e"
				"  WHERE e.control_owner_group_id = sup.id)"
				" OR EXISTS (SELECT 1 FROM delegations x WHERE x.to_group_id = sup.id"
				"  AND x.revoked_at IS NULL AND x.expires_at > ?2) LIMIT 1")))
		return rc;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : gh_store_fail(s, "walking groups");
	sqlite3_reset(st);
	return rc;
}
