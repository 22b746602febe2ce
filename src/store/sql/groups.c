/* groups.c - the SQL of groups and their members (store/groups.h). */
#include "store/groups.h"
#include "store/sql.h"
#include "common/error.h"

#include <string.h>

static json_t *member_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o}", "type", gh_sql_text_column(q, 0),
			 "id", gh_sql_text_column(q, 1), "name", gh_sql_text_column(q, 2));
}

/* group["members"]: its direct members, with their names. */
static int members_fill(gh_store *s, json_t *group)
{
	json_t *members;
	gh_sql *q;
	int rc;

	/* pos: the order they were added in (rows added by hand have none) */
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT m.member_type, m.member_id, coalesce(i.name, s.name)"
				 " FROM group_members m"
				 " LEFT JOIN identities i ON m.member_type = 'identity' AND i.id = m.member_id"
				 " LEFT JOIN groups s ON m.member_type = 'group' AND s.id = m.member_id"
				 " WHERE m.group_id = ?1"
				 " ORDER BY coalesce(m.pos, 0), m.member_type, m.member_id")))
		return rc;
	gh_sql_bind_text(q, 1, json_string_value(json_object_get(group, "id")));
	if ((rc = gh_sql_rows(&members, q, member_json, "reading group members")))
		return rc;
	return json_object_set_new(group, "members", members)
		       ? gh_error_set(GH_ERROR, "out of memory") : 0;
}

/* A group with members [] in their place until members_fill (replacing a key
 * keeps its position: members come before the times, as in docs/api.md). */
static json_t *group_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:[], s:o, s:o}", "id", gh_sql_text_column(q, 0),
			 "name", gh_sql_text_column(q, 1), "description", gh_sql_text_column(q, 2),
			 "members", "created_at", gh_sql_time_column(q, 3),
			 "updated_at", gh_sql_time_column(q, 4));
}

int gh_store_group_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT id, name, description, created_at, updated_at"
					" FROM groups WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		rc = (*out = group_json(q)) ? 0 : gh_error_set(GH_ERROR, "out of memory");
	else
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "loading a group");
	gh_sql_reset(q);
	if (!rc && *out && (rc = members_fill(s, *out))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int gh_store_group_named(gh_store *s, const char *name)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "SELECT 1 FROM groups WHERE name = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, name);
	return gh_sql_exists(q, "checking a group's name");
}

int gh_store_group_insert(gh_store *s, const char *id, const char *name, const char *description,
			  int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO groups(id, name, description, created_at, updated_at)"
				 " VALUES (?1, ?2, ?3, ?4, ?4)")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, name);
	gh_sql_bind_text(q, 3, description);
	gh_sql_bind_int64(q, 4, now);
	return gh_sql_step_done(q, "creating a group");
}

int gh_store_group_touch(gh_store *s, const char *id, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE groups SET updated_at = ?2 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, now);
	return gh_sql_step_done(q, "updating a group");
}

int gh_store_group_page(json_t **items, gh_store *s, int64_t after, int limit)
{
	json_t *item;
	gh_sql *q;
	size_t i;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT id, name, description, created_at, updated_at"
					" FROM groups WHERE pk > ?1 ORDER BY pk LIMIT ?2")))
		return rc;
	gh_sql_bind_int64(q, 1, after);
	gh_sql_bind_int(q, 2, limit);
	if ((rc = gh_sql_rows(items, q, group_json, "listing groups")))
		return rc;
	json_array_foreach(*items, i, item)
		if ((rc = members_fill(s, item))) {
			json_decref(*items);
			*items = NULL;
			return rc;
		}
	return 0;
}

int gh_store_group_member_exists(gh_store *s, const char *group_id, const char *type,
				 const char *member_id)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT 1 FROM group_members WHERE group_id = ?1 AND member_type = ?2"
				 " AND member_id = ?3")))
		return rc;
	gh_sql_bind_text(q, 1, group_id);
	gh_sql_bind_text(q, 2, type);
	gh_sql_bind_text(q, 3, member_id);
	return gh_sql_exists(q, "reading members");
}

int gh_store_group_member_insert(gh_store *s, const char *group_id, const char *type,
				 const char *member_id, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO group_members(group_id, member_type, member_id, added_at,"
				 " pos) VALUES (?1, ?2, ?3, ?4,"
				 " (SELECT coalesce(max(pos), 0) + 1 FROM group_members))")))
		return rc;
	gh_sql_bind_text(q, 1, group_id);
	gh_sql_bind_text(q, 2, type);
	gh_sql_bind_text(q, 3, member_id);
	gh_sql_bind_int64(q, 4, now);
	return gh_sql_step_done(q, "adding a group member");
}

int gh_store_group_member_delete(gh_store *s, const char *group_id, const char *type,
				 const char *member_id)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "DELETE FROM group_members WHERE group_id = ?1 AND member_type = ?2"
				 " AND member_id = ?3")))
		return rc;
	gh_sql_bind_text(q, 1, group_id);
	gh_sql_bind_text(q, 2, type);
	gh_sql_bind_text(q, 3, member_id);
	return gh_sql_step_done(q, "removing a group member");
}

static json_t *group_id_json(gh_sql *q)
{
	return gh_sql_text_column(q, 0);
}

int gh_store_group_parents(json_t **ids, gh_store *s, const char *type, const char *member_id)
{
	gh_sql *q;
	int rc;

	*ids = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT group_id FROM group_members WHERE member_id = ?1"
					" AND member_type = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, member_id);
	gh_sql_bind_text(q, 2, type);
	return gh_sql_rows(ids, q, group_id_json, "a subject's groups");
}

/* (id, depth) pairs are distinct and depth is bounded, so the walks below end
 * even on a cycle */
#define WALK_DOWN(bound)                                                                     \
	"WITH RECURSIVE sub(id, d) AS (SELECT CAST(?1 AS TEXT), 0 UNION"                      \
	" SELECT m.member_id, sub.d + 1 FROM group_members m JOIN sub"                        \
	" ON m.group_id = sub.id WHERE m.member_type = 'group' AND sub.d < " bound ")"

int gh_store_group_reaches(gh_store *s, const char *outer, const char *inner)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, WALK_DOWN("64") " SELECT 1 FROM sub WHERE id = ?2 LIMIT 1")))
		return rc;
	gh_sql_bind_text(q, 1, outer);
	gh_sql_bind_text(q, 2, inner);
	return gh_sql_exists(q, "walking groups");
}

int gh_store_group_depth(gh_store *s, const char *id, int up)
{
	gh_sql *q;
	int rc;

	rc = up ? gh_sql_prepare(&q, s,
				 "WITH RECURSIVE sup(id, d) AS (SELECT CAST(?1 AS TEXT), 0 UNION"
				 " SELECT m.group_id, sup.d + 1 FROM group_members m JOIN sup"
				 " ON m.member_id = sup.id WHERE m.member_type = 'group' AND sup.d < 64)"
				 " SELECT max(d) FROM sup")
		: gh_sql_prepare(&q, s, WALK_DOWN("64") " SELECT max(d) FROM sub");
	if (rc)
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q) == GH_SQL_ROW ? gh_sql_column_int(q, 0)
					  : gh_sql_fail(q, "walking groups");
	gh_sql_reset(q);
	return rc;
}

int gh_store_group_contains(gh_store *s, const char *group_id, const char *identity_id,
			    int max_depth)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, WALK_DOWN("?3")
				 " SELECT 1 FROM group_members m WHERE m.member_type = 'identity'"
				 " AND m.member_id = ?2 AND m.group_id IN (SELECT id FROM sub) LIMIT 1")))
		return rc;
	gh_sql_bind_text(q, 1, group_id);
	gh_sql_bind_text(q, 2, identity_id);
	gh_sql_bind_int(q, 3, max_depth);
	return gh_sql_exists(q, "checking group membership");
}
