/* delegations.c - the SQL of delegated approval (store/delegations.h). */
#include "store/delegations.h"
#include "store/sql.h"
#include "common/error.h"

#include <string.h>

/* status at the parameter now (a placeholder, e.g. "?2") */
#define DLG_STATUS(now)                                                                     \
	"(CASE WHEN d.revoked_at IS NOT NULL THEN 'revoked' WHEN d.expires_at <= " now        \
	" THEN 'expired' ELSE 'active' END)"
#define DLG_COLS(now)                                                                       \
	"d.id, d.from_group_id, fg.name, d.to_group_id, tg.name, d.scope_type, d.scope,"      \
	" (SELECT name FROM systems WHERE id = d.scope), d.reason, d.expires_at, "            \
	DLG_STATUS(now) ", d.created_by, d.created_at, d.revoked_at, d.revoked_by,"           \
	" d.revoke_reason"
#define DLG_FROM                                                                            \
	" FROM delegations d JOIN groups fg ON fg.id = d.from_group_id"                       \
	" JOIN groups tg ON tg.id = d.to_group_id"

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

/* One delegation in its API shape from a row of DLG_COLS. */
static json_t *delegation_json(gh_sql *q)
{
	const char *type = gh_sql_column_text(q, 5);
	json_t *scope;

	if (type && strcmp(type, "system") == 0)
		scope = json_pack("{s:s, s:o, s:o}", "type", "system", "id", gh_sql_text_column(q, 6),
				  "name", gh_sql_text_column(q, 7));
	else
		scope = json_pack("{s:s, s:o}", "type", "tag", "tag", gh_sql_text_column(q, 6));
	if (!scope)
		return NULL;
	return json_pack("{s:o, s:{s:o, s:o}, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o}",
			 "id", gh_sql_text_column(q, 0),
			 "from_group", "id", gh_sql_text_column(q, 1),
			 "name", gh_sql_text_column(q, 2),
			 "to_group", "id", gh_sql_text_column(q, 3), "name", gh_sql_text_column(q, 4),
			 "scope", scope, "reason", gh_sql_text_column(q, 8),
			 "expires_at", gh_sql_time_column(q, 9), "status", gh_sql_text_column(q, 10),
			 "created_by", gh_sql_text_column(q, 11),
			 "created_at", gh_sql_time_column(q, 12),
			 "revoked_at", gh_sql_time_column(q, 13),
			 "revoked_by", gh_sql_text_column(q, 14),
			 "revoke_reason", gh_sql_text_column(q, 15));
}

int gh_store_delegation_get(json_t **out, gh_store *s, const char *id, int64_t now)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " DLG_COLS("?2") DLG_FROM " WHERE d.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, now);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		rc = (*out = delegation_json(q)) ? 0 : nomem("loading a delegation");
	else
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "loading a delegation");
	gh_sql_reset(q);
	return rc;
}

int gh_store_delegation_page(json_t **items, gh_store *s, const char *from_group,
			     const char *to_group, const char *status, int64_t after, int limit,
			     int64_t now)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT " DLG_COLS("?6") DLG_FROM
				 " WHERE d.pk > ?1 AND (CAST(?2 AS TEXT) IS NULL OR d.from_group_id = ?2)"
				 " AND (CAST(?3 AS TEXT) IS NULL OR d.to_group_id = ?3)"
				 " AND (CAST(?4 AS TEXT) IS NULL OR " DLG_STATUS("?6") " = ?4)"
				 " ORDER BY d.pk LIMIT ?5")))
		return rc;
	gh_sql_bind_int64(q, 1, after);
	gh_sql_bind_text(q, 2, from_group);
	gh_sql_bind_text(q, 3, to_group);
	gh_sql_bind_text(q, 4, status);
	gh_sql_bind_int(q, 5, limit);
	gh_sql_bind_int64(q, 6, now);
	return gh_sql_rows(items, q, delegation_json, "listing delegations");
}

static json_t *state_json(gh_sql *q)
{
	return json_pack("{s:o, s:b, s:I}", "from_group", gh_sql_text_column(q, 0),
			 "revoked", !gh_sql_column_null(q, 1),
			 "expires_at", (json_int_t)gh_sql_column_int64(q, 2));
}

int gh_store_delegation_state(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT from_group_id, revoked_at, expires_at"
					" FROM delegations WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		rc = (*out = state_json(q)) ? 0 : nomem("loading a delegation");
	else
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "loading a delegation");
	gh_sql_reset(q);
	return rc;
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int64_t int_of(const json_t *obj, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(obj, key));
}

int gh_store_delegation_insert(gh_store *s, const json_t *d)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO delegations(id, from_group_id, to_group_id, scope_type,"
				 " scope, reason, expires_at, created_by, created_at)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")))
		return rc;
	gh_sql_bind_text(q, 1, str_of(d, "id"));
	gh_sql_bind_text(q, 2, str_of(d, "from_group"));
	gh_sql_bind_text(q, 3, str_of(d, "to_group"));
	gh_sql_bind_text(q, 4, str_of(d, "scope_type"));
	gh_sql_bind_text(q, 5, str_of(d, "scope"));
	gh_sql_bind_text(q, 6, str_of(d, "reason"));
	gh_sql_bind_int64(q, 7, int_of(d, "expires_at"));
	gh_sql_bind_text(q, 8, str_of(d, "created_by"));
	gh_sql_bind_int64(q, 9, int_of(d, "created_at"));
	return gh_sql_step_done(q, "creating a delegation");
}

int gh_store_delegation_revoke(gh_store *s, const char *id, int64_t now, const char *revoked_by,
			       const char *reason)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE delegations SET revoked_at = ?2, revoked_by = ?3,"
				 " revoke_reason = ?4 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, now);
	gh_sql_bind_text(q, 3, revoked_by);
	gh_sql_bind_text(q, 4, reason);
	return gh_sql_step_done(q, "revoking a delegation");
}

static json_t *covering_json(gh_sql *q)
{
	return json_pack("{s:o, s:o}", "id", gh_sql_text_column(q, 0),
			 "to_group", gh_sql_text_column(q, 1));
}

int gh_store_delegations_covering(json_t **out, gh_store *s, const char *ent_id, int64_t now,
				  int max)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	/* e.tags is a JSON array of tags ([a-z0-9._-], never escaped in JSON):
	 * the tag between double quotes appears in its text exactly when it is an
	 * item, a test both databases run ('_' is escaped for LIKE) */
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT d.id, d.to_group_id FROM entitlements e JOIN delegations d"
				 " ON d.from_group_id = e.control_owner_group_id"
				 " AND d.revoked_at IS NULL AND d.expires_at > ?2"
				 " WHERE e.id = ?1 AND ((d.scope_type = 'system' AND d.scope = e.system_id)"
				 "  OR (d.scope_type = 'tag' AND e.tags LIKE"
				 "   '%\"' || replace(replace(replace(d.scope, '\\', '\\\\'), '%', '\\%'),"
				 " '_', '\\_') || '\"%' ESCAPE '\\'))"
				 " ORDER BY d.pk LIMIT ?3")))
		return rc;
	gh_sql_bind_text(q, 1, ent_id);
	gh_sql_bind_int64(q, 2, now);
	gh_sql_bind_int(q, 3, max);
	return gh_sql_rows(out, q, covering_json, "looking for delegations");
}
