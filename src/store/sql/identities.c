/* identities.c - typed operations on identities (store/identities.h). */
#include "store/identities.h"
#include "store/sql.h"
#include "common/error.h"
#include "common/jsonv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDENTITY_COLUMNS                                                                   \
	"id, kind, name, display_name, email, status, owner_id, purpose, environment,"     \
	" expires_at, roles, attributes, created_at, updated_at, status_reason, orphaned_at"

static json_t *identity_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o}",
			 "id", gh_sql_text_column(q, 0), "kind", gh_sql_text_column(q, 1),
			 "name", gh_sql_text_column(q, 2), "display_name", gh_sql_text_column(q, 3),
			 "email", gh_sql_text_column(q, 4), "status", gh_sql_text_column(q, 5),
			 "owner", gh_sql_text_column(q, 6), "purpose", gh_sql_text_column(q, 7),
			 "environment", gh_sql_text_column(q, 8),
			 "expires_at", gh_sql_time_column(q, 9),
			 "roles", gh_sql_json_column(q, 10, 1),
			 "attributes", gh_sql_json_column(q, 11, 0),
			 "created_at", gh_sql_time_column(q, 12),
			 "updated_at", gh_sql_time_column(q, 13),
			 "status_reason", gh_sql_text_column(q, 14),
			 "orphaned_at", gh_sql_time_column(q, 15));
}

static json_t *id_json(gh_sql *q)
{
	return gh_sql_text_column(q, 0);
}

/* The one-row count query q (bound) into *out. */
static int count_of(int64_t *out, gh_sql *q, const char *what)
{
	int rc = 0;

	*out = 0;
	if (gh_sql_step(q) == GH_SQL_ROW)
		*out = gh_sql_column_int64(q, 0);
	else
		rc = gh_sql_fail(q, what);
	gh_sql_reset(q);
	return rc;
}

/* Binds row[key] (a string, or NULL when absent or null) to i. */
static void bind_field(gh_sql *q, int i, const json_t *row, const char *key)
{
	gh_sql_bind_text(q, i, json_string_value(json_object_get(row, key)));
}

/* Binds row[key] (unix seconds, or NULL when absent or null) to i. */
static void bind_time(gh_sql *q, int i, const json_t *row, const char *key)
{
	json_t *v = json_object_get(row, key);

	if (json_is_integer(v))
		gh_sql_bind_int64(q, i, (int64_t)json_integer_value(v));
	else
		gh_sql_bind_null(q, i);
}

/* Binds the canonical text of row's "roles" (an array) and "attributes" (an
 * object) to ri and ai; GH_ERROR when out of memory. */
static int bind_roles_attributes(gh_sql *q, int ri, int ai, const json_t *row)
{
	char *roles = gh_json_canonical(json_object_get(row, "roles"));
	char *attrs = gh_json_canonical(json_object_get(row, "attributes"));
	int rc = 0;

	if (roles && attrs) {
		gh_sql_bind_text(q, ri, roles);   /* copied */
		gh_sql_bind_text(q, ai, attrs);
	} else {
		rc = gh_error_set(GH_ERROR, "out of memory");
	}
	free(roles);
	free(attrs);
	return rc;
}

int gh_store_identity_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " IDENTITY_COLUMNS " FROM identities WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		*out = identity_json(q);
		rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "identity %s not found", id);
	} else {
		rc = gh_sql_fail(q, "loading an identity");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_identity_brief_get(gh_store_identity_brief *out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gh_sql_prepare(&q, s, "SELECT name, kind, status, status_reason, expires_at"
					" FROM identities WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(out->name, sizeof(out->name), q, 0);
		gh_sql_copy_text(out->kind, sizeof(out->kind), q, 1);
		gh_sql_copy_text(out->status, sizeof(out->status), q, 2);
		gh_sql_copy_text(out->status_reason, sizeof(out->status_reason), q, 3);
		if (!gh_sql_column_null(q, 4)) {
			out->has_expires = 1;
			out->expires_at = gh_sql_column_int64(q, 4);
		}
		rc = 0;
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "identity %s not found", id);
	} else {
		rc = gh_sql_fail(q, "reading an identity");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_identity_name_taken(gh_store *s, const char *name)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "SELECT 1 FROM identities WHERE name = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, name);
	return gh_sql_exists(q, "looking up an identity's name");
}

int gh_store_identity_count(int64_t *out, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = 0;
	if ((rc = gh_sql_prepare(&q, s, "SELECT count(*) FROM identities")))
		return rc;
	return count_of(out, q, "counting identities");
}

int gh_store_identity_count_admins(int64_t *out, gh_store *s, const char *except_id,
				   int64_t now)
{
	gh_sql *q;
	int rc;

	*out = 0;
	/* roles is a JSON array of role names, none of which contains a quote:
	 * the quoted name matches exactly the element "admin" in both databases */
	if ((rc = gh_sql_prepare(&q, s, "SELECT count(*) FROM identities WHERE id <> ?1"
					" AND status = 'active'"
					" AND (expires_at IS NULL OR expires_at > ?2)"
					" AND roles LIKE '%\"admin\"%'")))
		return rc;
	gh_sql_bind_text(q, 1, except_id);
	gh_sql_bind_int64(q, 2, now);
	return count_of(out, q, "counting admins");
}

int gh_store_identity_systems_owned(int64_t *out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = 0;
	if ((rc = gh_sql_prepare(&q, s, "SELECT count(*) FROM systems WHERE owner_id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return count_of(out, q, "counting owned systems");
}

int gh_store_identity_list(json_t **items, gh_store *s, int64_t after_pk, int limit,
			   const char *kind, const char *status, const char *owner,
			   int orphaned)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " IDENTITY_COLUMNS " FROM identities WHERE pk > ?1"
					" AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2)"
					" AND (CAST(?3 AS TEXT) IS NULL OR status = ?3)"
					" AND (CAST(?4 AS TEXT) IS NULL OR owner_id = ?4)"
					" AND (CAST(?6 AS INTEGER) IS NULL"
					" OR (?6 = 1 AND orphaned_at IS NOT NULL)"
					" OR (?6 = 0 AND orphaned_at IS NULL))"
					" ORDER BY pk LIMIT ?5")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, kind);
	gh_sql_bind_text(q, 3, status);
	gh_sql_bind_text(q, 4, owner);
	gh_sql_bind_int(q, 5, limit);
	if (orphaned >= 0)
		gh_sql_bind_int(q, 6, orphaned != 0);
	else
		gh_sql_bind_null(q, 6);
	return gh_sql_rows(items, q, identity_json, "identities");
}

int gh_store_identity_owned(json_t **ids, gh_store *s, const char *owner_id, int orphaned)
{
	gh_sql *q;
	int rc;

	*ids = NULL;
	if (orphaned)
		rc = gh_sql_prepare(&q, s, "SELECT id FROM identities WHERE owner_id = ?1"
					   " AND orphaned_at IS NOT NULL ORDER BY pk");
	else
		rc = gh_sql_prepare(&q, s, "SELECT id FROM identities WHERE owner_id = ?1"
					   " AND kind <> 'human' AND status <> 'decommissioned'"
					   " AND orphaned_at IS NULL ORDER BY pk");
	if (rc)
		return rc;
	gh_sql_bind_text(q, 1, owner_id);
	return gh_sql_rows(ids, q, id_json, orphaned ? "the orphans of a person"
						      : "the identities a person owns");
}

int gh_store_identity_live_grants(json_t **ids, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*ids = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT id FROM grants WHERE subject_id = ?1"
					" AND status IN ('active', 'provisioning') ORDER BY pk")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_rows(ids, q, id_json, "an identity's grants");
}

int gh_store_identity_open_requests(json_t **ids, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*ids = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT id FROM requests WHERE (subject_id = ?1"
					" OR requester_id = ?1) AND state = 'pending_approval'"
					" ORDER BY pk")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_rows(ids, q, id_json, "an identity's open requests");
}

int gh_store_identity_insert(gh_store *s, const json_t *row)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "INSERT INTO identities(id, kind, name, display_name, email,"
					" status, owner_id, purpose, environment, expires_at, roles,"
					" attributes, created_at, updated_at)"
					" VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?9, ?10, ?11,"
					" ?12, ?12)")))
		return rc;
	bind_field(q, 1, row, "id");
	bind_field(q, 2, row, "kind");
	bind_field(q, 3, row, "name");
	bind_field(q, 4, row, "display_name");
	bind_field(q, 5, row, "email");
	bind_field(q, 6, row, "owner");
	bind_field(q, 7, row, "purpose");
	bind_field(q, 8, row, "environment");
	bind_time(q, 9, row, "expires_at");
	bind_time(q, 12, row, "created_at");
	if ((rc = bind_roles_attributes(q, 10, 11, row))) {
		gh_sql_reset(q);
		return rc;
	}
	return gh_sql_step_done(q, "creating an identity");
}

int gh_store_identity_update(gh_store *s, const char *id, const json_t *row)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE identities SET display_name = ?2, email = ?3,"
					" purpose = ?4, expires_at = ?5, owner_id = ?6, roles = ?7,"
					" attributes = ?8, updated_at = ?9 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	bind_field(q, 2, row, "display_name");
	bind_field(q, 3, row, "email");
	bind_field(q, 4, row, "purpose");
	bind_time(q, 5, row, "expires_at");
	bind_field(q, 6, row, "owner");
	bind_time(q, 9, row, "updated_at");
	if ((rc = bind_roles_attributes(q, 7, 8, row))) {
		gh_sql_reset(q);
		return rc;
	}
	return gh_sql_step_done(q, "updating an identity");
}

int gh_store_identity_set_status(gh_store *s, const char *id, const char *status, int64_t at)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE identities SET status = ?2, status_reason = NULL,"
					" updated_at = ?3 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, status);
	gh_sql_bind_int64(q, 3, at);
	return gh_sql_step_done(q, "changing an identity's status");
}

int gh_store_identity_set_orphaned(gh_store *s, const char *id, int64_t at)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE identities SET orphaned_at = ?2 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	if (at > 0)
		gh_sql_bind_int64(q, 2, at);
	else
		gh_sql_bind_null(q, 2);
	return gh_sql_step_done(q, "marking an orphaned identity");
}

int gh_store_identity_renew(gh_store *s, const char *id, int64_t expires_at, int64_t at,
			    int reactivate)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE identities SET expires_at = ?2, updated_at = ?3,"
					" status = CASE WHEN ?4 = 1 THEN 'active' ELSE status END,"
					" status_reason = CASE WHEN ?4 = 1 THEN NULL"
					" ELSE status_reason END"
					" WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, expires_at);
	gh_sql_bind_int64(q, 3, at);
	gh_sql_bind_int(q, 4, reactivate ? 1 : 0);
	return gh_sql_step_done(q, "renewing an identity");
}

int gh_store_identity_suspend_nhi(gh_store *s, const char *id, const char *why, int64_t at,
				  char *owner, size_t ownerlen, int64_t *expires_at,
				  int64_t *orphaned_at)
{
	gh_sql *q;
	int found = 0, rc, step;

	if (ownerlen)
		owner[0] = '\0';
	*expires_at = *orphaned_at = 0;
	if ((rc = gh_sql_prepare(&q, s, "UPDATE identities SET status = 'suspended',"
					" status_reason = ?2, updated_at = ?3"
					" WHERE id = ?1 AND status = 'active' AND kind <> 'human'"
					" RETURNING owner_id, expires_at, orphaned_at")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, why);
	gh_sql_bind_int64(q, 3, at);
	step = gh_sql_step(q);
	if (step == GH_SQL_ROW) {
		found = 1;
		gh_sql_copy_text(owner, ownerlen, q, 0);
		*expires_at = gh_sql_column_null(q, 1) ? 0 : gh_sql_column_int64(q, 1);
		*orphaned_at = gh_sql_column_null(q, 2) ? 0 : gh_sql_column_int64(q, 2);
		step = gh_sql_step(q);
	}
	rc = step == GH_SQL_DONE ? found : gh_sql_fail(q, "suspending an identity");
	gh_sql_reset(q);
	return rc;
}
