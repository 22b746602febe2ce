/* group.c - groups of identities, nested without cycles; transitive membership. */
#include "gov/gov_internal.h"

#include <string.h>

/* Nesting levels a chain of groups may have; membership is followed this deep
 * and a member that would nest deeper is refused, so no member is ever missed. */
#define GROUP_MAX_DEPTH 16

static json_t *members_json(gh_gov *g, const char *id, int *rc)
{
	json_t *members = json_array();
	sqlite3_stmt *st;
	int step;

	if (!members) {
		*rc = gh_error_set(GH_ERROR, "out of memory");
		return NULL;
	}
	if ((*rc = gh_store_stmt(&st, g->store,
				 "SELECT m.member_type, m.member_id, coalesce(i.name, s.name)"
				 " FROM group_members m"
				 " LEFT JOIN identities i ON m.member_type = 'identity' AND i.id = m.member_id"
				 " LEFT JOIN groups s ON m.member_type = 'group' AND s.id = m.member_id"
				 " WHERE m.group_id = ? ORDER BY m.rowid"))) {
		json_decref(members);
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(members, json_pack("{s:o, s:o, s:o}",
							 "type", gov_text_column(st, 0),
							 "id", gov_text_column(st, 1),
							 "name", gov_text_column(st, 2)));
	if (step != SQLITE_DONE) {
		*rc = gh_store_fail(g->store, "reading group members");
		json_decref(members);
		members = NULL;
	}
	sqlite3_reset(st);
	return members;
}

/* The API shape of one group, with its direct members. Lock held. */
static int group_load(json_t **out, gh_gov *g, const char *id)
{
	json_t *times = NULL, *members;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT id, name, description, created_at, updated_at FROM groups"
				" WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = json_pack("{s:o, s:o, s:o}", "id", gov_text_column(st, 0),
				 "name", gov_text_column(st, 1),
				 "description", gov_text_column(st, 2));
		times = json_pack("{s:o, s:o}", "created_at", gov_time_column(st, 3),
				  "updated_at", gov_time_column(st, 4));
	}
	rc = rc == SQLITE_ROW ? (*out && times ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "group %s not found", id)
	     : gh_store_fail(g->store, "loading a group");
	sqlite3_reset(st);
	if (!rc && (members = members_json(g, id, &rc))) {
		/* members before the times, as in docs/api.md */
		json_object_set_new(*out, "members", members);
		json_object_update(*out, times);
	}
	json_decref(times);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static int touch(gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store, "UPDATE groups SET updated_at = ?2 WHERE id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, gh_now());
	return gov_step_done(g, st, "updating a group");
}

/* --- create / read --------------------------------------------------------- */

static const char *const create_fields[] = {"name", "description", NULL};

static int create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	const char *name = NULL, *desc = NULL;
	char id[GH_ID_LEN];
	json_t *details;
	sqlite3_stmt *st;
	int64_t now = gh_now();
	int rc;

	if (gh_jv_object(in, create_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	gh_jv_name(in, "name", 1, &name);
	gh_jv_string(in, "description", 0, 1000, &desc);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT 1 FROM groups WHERE name = ?")))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		gh_error_set(GH_ECONFLICT, "name: a group named %s already exists", name);
		gh_error_field("name", "a group named %s already exists", name);
		return GH_ECONFLICT;
	}
	gh_id_new(id, sizeof(id), "grp");
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO groups(id, name, description, created_at, updated_at)"
				" VALUES (?1, ?2, ?3, ?4, ?4)")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (desc)
		sqlite3_bind_text(st, 3, desc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if ((rc = gov_step_done(g, st, "creating a group")))
		return rc;
	if (!(details = json_pack("{s:s}", "name", name)))
		return gh_error_set(GH_ERROR, "out of memory");
	rc = gh_audit_append(NULL, g->store, actor->id, "group.created", "group", id, details);
	json_decref(details);
	return rc ? rc : group_load(out, g, id);
}

int gh_gov_group_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "creating a group")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_out(g, create_locked(out, g, actor, in), out);
}

int gh_gov_group_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	char id[GH_ID_LEN];
	int rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = gov_resolve(g, "groups", ref, id)))
		rc = group_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_group_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page)
{
	json_t *ids = NULL, *items = NULL, *item, *grp;
	sqlite3_stmt *st;
	int64_t after;
	int limit, rc, step;
	size_t i;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if ((rc = gov_page(g, "groups", page, &limit, &after)))
		goto cleanup;
	if (!(ids = json_array()) || !(items = json_array())) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT id FROM groups WHERE pk > ? ORDER BY pk LIMIT ?")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(ids, gov_text_column(st, 0));
	if (step != SQLITE_DONE)
		rc = gh_store_fail(g->store, "listing groups");
	sqlite3_reset(st);
	json_array_foreach(ids, i, item) {
		if (rc || (rc = group_load(&grp, g, json_string_value(item))))
			break;
		json_array_append_new(items, grp);
	}
	if (!rc) {
		*out = gov_list_result(items, limit);
		items = NULL;
		if (!*out)
			rc = gh_error_set(GH_ERROR, "out of memory");
	}
cleanup:
	gh_store_read_end(g->store);
	json_decref(ids);
	json_decref(items);
	return rc;
}

/* --- membership ------------------------------------------------------------ */

/* 1 when group `inner` is nested (transitively) inside group `outer`, or is it. */
static int group_reaches(gh_gov *g, const char *outer, const char *inner)
{
	sqlite3_stmt *st;
	int rc;

	/* (id, depth) pairs are distinct and depth is bounded, so this ends even
	 * on a database that somehow holds a cycle */
	if ((rc = gh_store_stmt(&st, g->store,
				"WITH RECURSIVE sub(id, d) AS (SELECT ?1, 0 UNION"
				" SELECT m.member_id, sub.d + 1 FROM group_members m JOIN sub"
				" ON m.group_id = sub.id WHERE m.member_type = 'group' AND sub.d < 64)"
				" SELECT 1 FROM sub WHERE id = ?2 LIMIT 1")))
		return rc;
	sqlite3_bind_text(st, 1, outer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, inner, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : gh_store_fail(g->store, "walking groups");
	sqlite3_reset(st);
	return rc;
}

/* Levels of groups below id (down) or above it (up); < 0 on error. */
static int group_depth(gh_gov *g, const char *id, int up)
{
	sqlite3_stmt *st;
	int rc;

	rc = up ? gh_store_stmt(&st, g->store,
				"WITH RECURSIVE sup(id, d) AS (SELECT ?1, 0 UNION"
				" SELECT m.group_id, sup.d + 1 FROM group_members m JOIN sup"
				" ON m.member_id = sup.id WHERE m.member_type = 'group' AND sup.d < 64)"
				" SELECT max(d) FROM sup")
		: gh_store_stmt(&st, g->store,
				"WITH RECURSIVE sub(id, d) AS (SELECT ?1, 0 UNION"
				" SELECT m.member_id, sub.d + 1 FROM group_members m JOIN sub"
				" ON m.group_id = sub.id WHERE m.member_type = 'group' AND sub.d < 64)"
				" SELECT max(d) FROM sub");
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0)
					    : gh_store_fail(g->store, "walking groups");
	sqlite3_reset(st);
	return rc;
}

static int is_member(gh_gov *g, const char *group_id, const char *type, const char *member_id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT 1 FROM group_members WHERE group_id = ? AND member_type = ?"
				" AND member_id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, member_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : gh_store_fail(g->store, "reading members");
	sqlite3_reset(st);
	return rc;
}

static int identity_status(gh_gov *g, const char *id, char out[32])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store, "SELECT status FROM identities WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, 32, "%s", (const char *)sqlite3_column_text(st, 0));
	else
		rc = gh_store_fail(g->store, "reading an identity");
	sqlite3_reset(st);
	return rc;
}

static int member_event(gh_gov *g, const gh_actor *actor, const char *action,
			const char *group_id, const char *type, const char *member_id,
			const char *member_ref)
{
	json_t *details = json_pack("{s:s, s:s, s:s}", "member_type", type, "member_id", member_id,
				    "member", member_ref);
	int rc;

	if (!details)
		return gh_error_set(GH_ERROR, "out of memory");
	rc = gh_audit_append(NULL, g->store, actor->id, action, "group", group_id, details);
	json_decref(details);
	return rc;
}

static const char *const member_fields[] = {"identity", "group", NULL};

static int add_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *group_ref,
		      const json_t *in)
{
	char gid[GH_ID_LEN], mid[GH_ID_LEN], status[32];
	const char *iref = NULL, *gref = NULL, *type, *mref;
	sqlite3_stmt *st;
	int has_i, has_g, rc, up, down;

	if ((rc = gov_resolve(g, "groups", group_ref, gid)))
		return rc;
	if (gh_jv_object(in, member_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	has_i = gh_jv_string(in, "identity", 0, 256, &iref);
	has_g = gh_jv_string(in, "group", 0, 256, &gref);
	if (has_i > 0 && has_g > 0)
		gh_error_field("group", "name either an identity or a group, not both");
	else if (has_i == 0 && has_g == 0)
		gh_error_field("identity", "is required (or group, to nest a group)");
	else if (has_i > 0 && (rc = gov_resolve_field(g, "identities", "identity", iref, mid)) &&
		 rc != GH_EINVALID)
		return rc;
	else if (has_g > 0 && (rc = gov_resolve_field(g, "groups", "group", gref, mid)) &&
		 rc != GH_EINVALID)
		return rc;
	if ((rc = gh_error_fields_finish()))
		return rc;
	type = has_i > 0 ? "identity" : "group";
	mref = has_i > 0 ? iref : gref;

	if (has_i > 0) {
		if ((rc = identity_status(g, mid, status)))
			return rc;
		if (strcmp(status, "decommissioned") == 0)
			return gh_error_set(GH_ECONFLICT, "identity %s is decommissioned", iref);
	} else {
		if (strcmp(mid, gid) == 0)
			return gh_error_set(GH_ECONFLICT, "a group cannot contain itself");
		if ((rc = group_reaches(g, mid, gid)) < 0)
			return rc;
		if (rc)
			return gh_error_set(GH_ECONFLICT, "group %s already contains group %s; adding "
					    "it would make a cycle", gref, group_ref);
		if ((up = group_depth(g, gid, 1)) < 0)
			return up;
		if ((down = group_depth(g, mid, 0)) < 0)
			return down;
		if (up + 1 + down > GROUP_MAX_DEPTH)
			return gh_error_set(GH_ECONFLICT, "groups would nest %d levels deep; at most %d "
					    "are allowed", up + 1 + down, GROUP_MAX_DEPTH);
	}
	if ((rc = is_member(g, gid, type, mid)) < 0)
		return rc;
	if (rc)
		return gh_error_set(GH_ECONFLICT, "%s %s is already a member of group %s", type, mref,
				    group_ref);

	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO group_members(group_id, member_type, member_id, added_at)"
				" VALUES (?, ?, ?, ?)")))
		return rc;
	sqlite3_bind_text(st, 1, gid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, mid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, gh_now());
	if ((rc = gov_step_done(g, st, "adding a group member")) || (rc = touch(g, gid)) ||
	    (rc = member_event(g, actor, "group.member_added", gid, type, mid, mref)))
		return rc;
	return group_load(out, g, gid);
}

const gov_change_op gov_op_group_add_member = {"group", "group.add_member", "groups", add_locked,
					       group_load};

int gh_gov_group_add_member(json_t **out, gh_gov *g, const gh_actor *actor, const char *group_ref,
			    const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "adding a group member")))
		return rc;
	/* a member of a group that decides approvals: four eyes (change.c) */
	return gov_change_write(out, g, actor, &gov_op_group_add_member, group_ref, in);
}

static int remove_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *group_ref,
			 const char *member_ref)
{
	char gid[GH_ID_LEN], iid[GH_ID_LEN], sid[GH_ID_LEN];
	int in_i = 0, in_g = 0, rc;
	const char *type, *mid;
	sqlite3_stmt *st;

	if ((rc = gov_resolve(g, "groups", group_ref, gid)))
		return rc;
	/* the member may be named as an identity or a group; it must be one of this group's */
	rc = gov_resolve(g, "identities", member_ref, iid);
	if (rc == 0 && (in_i = is_member(g, gid, "identity", iid)) < 0)
		return in_i;
	if (rc && rc != GH_ENOTFOUND && rc != GH_ECONFLICT)
		return rc;
	rc = gov_resolve(g, "groups", member_ref, sid);
	if (rc == 0 && (in_g = is_member(g, gid, "group", sid)) < 0)
		return in_g;
	if (rc && rc != GH_ENOTFOUND && rc != GH_ECONFLICT)
		return rc;
	gh_error_clear();
	if (in_i && in_g)
		return gh_error_set(GH_ECONFLICT, "%s names both an identity and a group in group %s;"
				    " use its id", member_ref, group_ref);
	if (!in_i && !in_g)
		return gh_error_set(GH_ENOTFOUND, "%s is not a member of group %s",
				    member_ref ? member_ref : "", group_ref);
	type = in_i ? "identity" : "group";
	mid = in_i ? iid : sid;
	if ((rc = gh_store_stmt(&st, g->store,
				"DELETE FROM group_members WHERE group_id = ? AND member_type = ?"
				" AND member_id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, gid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, mid, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "removing a group member")) || (rc = touch(g, gid)) ||
	    (rc = member_event(g, actor, "group.member_removed", gid, type, mid, member_ref)))
		return rc;
	return group_load(out, g, gid);
}

int gh_gov_group_remove_member(json_t **out, gh_gov *g, const gh_actor *actor,
			       const char *group_ref, const char *member_ref)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "removing a group member")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_out(g, remove_locked(out, g, actor, group_ref, member_ref), out);
}

int gh_gov_group_contains(gh_gov *g, const char *group_id, const char *identity_id)
{
	return gov_exists(g, "WITH RECURSIVE sub(id, d) AS (SELECT ?1, 0 UNION"
			     " SELECT m.member_id, sub.d + 1 FROM group_members m JOIN sub"
			     " ON m.group_id = sub.id WHERE m.member_type = 'group'"
			     " AND sub.d < 16)"  /* GROUP_MAX_DEPTH */
			     " SELECT 1 FROM group_members m WHERE m.member_type = 'identity'"
			     " AND m.member_id = ?2 AND m.group_id IN (SELECT id FROM sub) LIMIT 1",
			  group_id, identity_id, "checking group membership");
}
