/* group.c - groups of identities, nested without cycles; transitive membership. */
#include "gov/gov_internal.h"
#include "store/groups.h"

#include <string.h>

/* Nesting levels a chain of groups may have; membership is followed this deep
 * and a member that would nest deeper is refused, so no member is ever missed. */
#define GROUP_MAX_DEPTH 16

/* The API shape of one group, with its direct members. Lock held. */
static int group_load(json_t **out, gh_gov *g, const char *id)
{
	int rc = gh_store_group_get(out, g->store, id);

	if (!rc && !*out)
		rc = gh_error_set(GH_ENOTFOUND, "group %s not found", id);
	return rc;
}

static int touch(gh_gov *g, const char *id)
{
	return gh_store_group_touch(g->store, id, gh_now());
}

/* --- create / read --------------------------------------------------------- */

static const char *const create_fields[] = {"name", "description", NULL};

static int create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	const char *name = NULL, *desc = NULL;
	char id[GH_ID_LEN];
	json_t *details;
	int rc;

	if (gh_jv_object(in, create_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	gov_jv_field(in, "name", GH_GOV_FIELD_NAME, 1, &name);
	gov_jv_field(in, "description", GH_GOV_FIELD_DESCRIPTION, 0, &desc);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_group_named(g->store, name)) < 0)
		return rc;
	if (rc) {
		gh_error_set(GH_ECONFLICT, "name: a group named %s already exists", name);
		gh_error_field("name", "a group named %s already exists", name);
		return GH_ECONFLICT;
	}
	gh_id_new(id, sizeof(id), "grp");
	if ((rc = gh_store_group_insert(g->store, id, name, desc, gh_now())))
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
	json_t *items = NULL;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = gov_page(g, "groups", page, &limit, &after)) &&
	    !(rc = gh_store_group_page(&items, g->store, after, limit)) &&
	    !(*out = gov_list_result(items, limit)))
		rc = gh_error_set(GH_ERROR, "out of memory");
	gh_store_read_end(g->store);
	return rc;
}

/* --- membership ------------------------------------------------------------ */

/* Nesting, as the store walks it (store/groups.h). */
static int group_reaches(gh_gov *g, const char *outer, const char *inner)
{
	return gh_store_group_reaches(g->store, outer, inner);
}

static int group_depth(gh_gov *g, const char *id, int up)
{
	return gh_store_group_depth(g->store, id, up);
}

static int is_member(gh_gov *g, const char *group_id, const char *type, const char *member_id)
{
	return gh_store_group_member_exists(g->store, group_id, type, member_id);
}

static int identity_status(gh_gov *g, const char *id, char out[32])
{
	json_t *idn;
	int rc;

	if ((rc = gov_identity_load(&idn, g, id)))
		return rc;
	snprintf(out, 32, "%s", json_string_value(json_object_get(idn, "status")));
	json_decref(idn);
	return 0;
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
	int has_i, has_g, rc, up, down;

	if ((rc = gov_resolve(g, "groups", group_ref, gid)))
		return rc;
	if (gh_jv_object(in, member_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	has_i = gov_jv_field(in, "identity", GH_GOV_FIELD_REF, 0, &iref);
	has_g = gov_jv_field(in, "group", GH_GOV_FIELD_REF, 0, &gref);
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

	if ((rc = gh_store_group_member_insert(g->store, gid, type, mid, gh_now())) ||
	    (rc = touch(g, gid)) ||
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
	if ((rc = gh_store_group_member_delete(g->store, gid, type, mid)) ||
	    (rc = touch(g, gid)) ||
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
	/* membership is followed as deep as nesting may go */
	return gh_store_group_contains(g->store, group_id, identity_id, GROUP_MAX_DEPTH);
}
