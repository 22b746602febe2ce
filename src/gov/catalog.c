/* catalog.c - systems and the entitlements they offer, with their SoD conflicts. */
#include "gov/gov_internal.h"
#include "common/config.h"
#include "connect/connect.h"

#include <stdlib.h>
#include <string.h>


#define MAX_CONFLICTS 100
#define MAX_TAGS 16

/* A tag: [a-z0-9][a-z0-9._-]{0,63}, like a name. */
int gov_tag_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* tags: an array of at most MAX_TAGS tags -> *out, sorted and distinct (NULL
 * when absent or wrong; problems are field errors). */
static int tags_parse(json_t **out, const json_t *in)
{
	json_t *tags = NULL, *v;
	size_t i;

	*out = NULL;
	if (gh_jv_string_array(in, "tags", 0, MAX_TAGS, 64, &tags) <= 0)
		return 0;
	json_array_foreach(tags, i, v)
		if (!gov_tag_valid(json_string_value(v))) {
			gh_error_field("tags", "\"%s\" is not a tag: 1 to 64 of a-z, 0-9, '.', '_', '-',"
				       " starting with a letter or digit", json_string_value(v));
			return 0;
		}
	if (!(*out = json_array()))
		return gh_error_set(GH_ERROR, "out of memory");
	json_array_foreach(tags, i, v) {
		size_t j, at = json_array_size(*out);
		json_t *w;
		int dup = 0;

		json_array_foreach(*out, j, w) {
			int c = strcmp(json_string_value(v), json_string_value(w));
			if (c == 0)
				dup = 1;
			if (c <= 0) {
				at = j;
				break;
			}
		}
		if (!dup && json_array_insert(*out, at, v)) {
			json_decref(*out);
			*out = NULL;
			return gh_error_set(GH_ERROR, "out of memory");
		}
	}
	return 0;
}

static int is_null_field(const json_t *in, const char *key)
{
	json_t *v = json_object_get(in, key);

	return v && json_is_null(v);
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Records a changed field in an update's audit details, with its old and new
 * values when given (old borrowed, new taken). */
static void note_change(json_t *details, const char *field, json_t *old_v, json_t *new_v)
{
	json_array_append_new(json_object_get(details, "changed"), json_string(field));
	if (new_v) {
		json_object_set(json_object_get(details, "old"), field, old_v ? old_v : json_null());
		json_object_set_new(json_object_get(details, "new"), field, new_v);
	}
}

/* The value a text field has after an update (v when given, NULL clears it),
 * noting the change; small values are recorded old and new. */
static const char *change_text(json_t *details, const json_t *cur, const char *field, int given,
			       const char *v, int small)
{
	const char *old = str_of(cur, field);

	if (!given)
		return old;
	if ((!v && !old) || (v && old && strcmp(v, old) == 0))
		return v;
	note_change(details, field, small ? json_object_get(cur, field) : NULL,
		    small ? (v ? json_string(v) : json_null()) : NULL);
	return v;
}

static json_t *change_details(void)
{
	return json_pack("{s:[], s:{}, s:{}}", "changed", "old", "new");
}

/* --- systems --------------------------------------------------------------- */

static int system_load(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT id, name, description, owner_id, connector, created_at,"
				" updated_at, connector_settings FROM systems WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				 "id", gov_text_column(st, 0), "name", gov_text_column(st, 1),
				 "description", gov_text_column(st, 2),
				 "owner", gov_text_column(st, 3), "connector", gov_text_column(st, 4),
				 "connector_settings", gov_json_column(st, 7, 0),
				 "created_at", gov_time_column(st, 5),
				 "updated_at", gov_time_column(st, 6));
	rc = rc == SQLITE_ROW ? (*out ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "system %s not found", id)
	     : gh_store_fail(g->store, "loading a system");
	sqlite3_reset(st);
	return rc;
}

static const char *const system_create_fields[] = {"name", "description", "owner", "connector",
						   "connector_settings", NULL};

/* The connector field: the name of a connector instance of the server
 * configuration, or a built-in ("manual"; "credential": API keys issued by
 * Gatehouse itself). NULL when absent or bad (a field error then). */
static const char *connector_read(gh_gov *g, const json_t *in)
{
	const char *name = NULL;
	size_t before = gh_error_field_count();

	if (gh_jv_string(in, "connector", 0, 64, &name) <= 0)
		return NULL;
	/* no parameters yet: only whether the name exists is checked here */
	if (!gh_connect_builtin(name) && !gh_config_instance_find(g->opts.config, name)) {
		gh_connect_check_system(g->opts.config, name, NULL);
		return gh_error_field_count() == before ? name : NULL;
	}
	return name;
}

/* Checks a system's per-system parameters (may be NULL: none) for its
 * connector, recording field errors. */
static void settings_check(gh_gov *g, const char *connector, const json_t *settings)
{
	size_t before = gh_error_field_count();

	/* gh_connect_check_system reports every field error collected so far:
	 * only its own ones decide */
	if (gh_connect_check_system(g->opts.config, connector, settings) &&
	    gh_error_field_count() == before)
		gh_error_field("connector_settings", "%s", gh_error_last()->message);
}

/* Connected systems need a downstream target on each entitlement: the
 * first of id's entitlements without one, recorded on field. */
static int targets_present(gh_gov *g, const char *field, const char *sys_id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT name FROM entitlements WHERE system_id = ?"
				" AND coalesce(json_extract(attributes, '$.target'), '') = ''"
				" ORDER BY pk LIMIT 1")))
		return rc;
	sqlite3_bind_text(st, 1, sys_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		gh_error_field(field, "entitlement %s has no attributes.target, which a connected"
			       " system needs", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
		gh_store_fail(g->store, "checking entitlement targets");
}

static int system_create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	const char *name = NULL, *desc = NULL, *owner_ref = NULL, *connector = "manual";
	char id[GH_ID_LEN], owner[GH_ID_LEN], *settings_s = NULL;
	json_t *details, *settings = NULL;
	sqlite3_stmt *st;
	int rc;

	if (gh_jv_object(in, system_create_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	if (json_object_get(in, "connector")) {
		connector = connector_read(g, in);
	}
	if (gh_jv_object_field(in, "connector_settings", 0, &settings) >= 0 && connector)
		settings_check(g, connector, settings);
	if (!connector)
		connector = "manual";
	gh_jv_name(in, "name", 1, &name);
	gh_jv_string(in, "description", 0, 1000, &desc);
	if (gh_jv_string(in, "owner", 1, 256, &owner_ref) > 0 &&
	    (rc = gov_check_owner(g, "owner", owner_ref, owner)) && rc != GH_EINVALID)
		return rc;
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT 1 FROM systems WHERE name = ?")))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		gh_error_set(GH_ECONFLICT, "name: a system named %s already exists", name);
		gh_error_field("name", "a system named %s already exists", name);
		return GH_ECONFLICT;
	}
	gh_id_new(id, sizeof(id), "sys");
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO systems(id, name, description, owner_id, connector,"
				" created_at, updated_at, connector_settings)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)")))
		return rc;
	if (!(settings_s = settings ? gh_json_canonical(settings) : strdup("{}")))
		return gh_error_set(GH_ERROR, "out of memory");
	sqlite3_bind_text(st, 7, settings_s, -1, free);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (desc)
		sqlite3_bind_text(st, 3, desc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, connector, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, gh_now());
	if ((rc = gov_step_done(g, st, "creating a system")))
		return rc;
	/* per-system parameters only: no secret, no reference to one */
	if (!(details = json_pack("{s:s, s:s, s:s, s:O*}", "name", name, "owner", owner,
				  "connector", connector, "connector_settings", settings)))
		return gh_error_set(GH_ERROR, "out of memory");
	rc = gh_audit_append(NULL, g->store, actor->id, "system.created", "system", id, details);
	json_decref(details);
	return rc ? rc : system_load(out, g, id);
}

int gh_gov_system_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "creating a system")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_out(g, system_create_locked(out, g, actor, in), out);
}

/* Who reads a system's connector_settings: how it is wired downstream is
 * for those who manage or audit the catalog. */
#define SETTINGS_READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)

static void settings_hide(json_t *system, const gh_actor *actor)
{
	if (system && !(actor->roles & SETTINGS_READERS))
		json_object_del(system, "connector_settings");
}

int gh_gov_system_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	char id[GH_ID_LEN];
	int rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = gov_resolve(g, "systems", ref, id)))
		rc = system_load(out, g, id);
	gh_store_read_end(g->store);
	settings_hide(*out, actor);
	return rc;
}

/* Loads the rows of "SELECT id ..." (already bound) into a list page. Lock held. */
static int list_ids(json_t **out, gh_gov *g, sqlite3_stmt *st, int limit,
		    int (*load)(json_t **, gh_gov *, const char *))
{
	json_t *ids = json_array(), *items = json_array(), *item, *row;
	int rc = 0, step;
	size_t i;

	if (!ids || !items) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		sqlite3_reset(st);
		goto cleanup;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(ids, gov_text_column(st, 0));
	if (step != SQLITE_DONE)
		rc = gh_store_fail(g->store, "listing");
	sqlite3_reset(st);
	json_array_foreach(ids, i, item) {
		if (rc || (rc = load(&row, g, json_string_value(item))))
			break;
		json_array_append_new(items, row);
	}
	if (!rc) {
		*out = gov_list_result(items, limit);
		items = NULL;
		if (!*out)
			rc = gh_error_set(GH_ERROR, "out of memory");
	}
cleanup:
	json_decref(ids);
	json_decref(items);
	return rc;
}

int gh_gov_system_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page)
{
	sqlite3_stmt *st;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = gov_page(g, "systems", page, &limit, &after)) &&
	    !(rc = gh_store_stmt(&st, g->store,
				 "SELECT id FROM systems WHERE pk > ? ORDER BY pk LIMIT ?"))) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, limit);
		rc = list_ids(out, g, st, limit, system_load);
	}
	gh_store_read_end(g->store);
	if (!rc) {
		json_t *item;
		size_t i;

		json_array_foreach(json_object_get(*out, "items"), i, item)
			settings_hide(item, actor);
	}
	return rc;
}

static const char *const system_update_fields[] = {"description", "owner", "connector",
						   "connector_settings", NULL};

static int system_update_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
				const json_t *in)
{
	const char *desc = NULL, *owner_ref = NULL, *connector = NULL;
	char id[GH_ID_LEN], owner[GH_ID_LEN] = "", *settings_s = NULL;
	json_t *cur = NULL, *details = NULL, *settings = NULL;
	int has_desc, clear_desc, rc;
	sqlite3_stmt *st;

	if ((rc = gov_resolve(g, "systems", ref, id)))
		return rc;
	if (gh_jv_object(in, system_update_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	clear_desc = is_null_field(in, "description");
	has_desc = gh_jv_string(in, "description", 0, 1000, &desc) > 0;
	if (is_null_field(in, "owner"))
		gh_error_field("owner", "cannot be cleared; a system needs an active human owner");
	else if (gh_jv_string(in, "owner", 0, 256, &owner_ref) > 0 &&
		 (rc = gov_check_owner(g, "owner", owner_ref, owner)) && rc != GH_EINVALID)
		return rc;
	if (is_null_field(in, "connector"))
		gh_error_field("connector", "cannot be cleared");
	else if (json_object_get(in, "connector") && !(connector = connector_read(g, in)))
		connector = "";
	if (is_null_field(in, "connector_settings"))
		gh_error_field("connector_settings", "cannot be cleared; send {}");
	else
		gh_jv_object_field(in, "connector_settings", 0, &settings);
	if ((rc = system_load(&cur, g, id)))
		return rc;
	/* the kind and settings the system will have, checked together */
	if ((connector || settings) && (!connector || *connector)) {
		settings_check(g, connector ? connector : str_of(cur, "connector"),
			       settings ? settings : json_object_get(cur, "connector_settings"));
		if (connector && !gov_connector_connected(str_of(cur, "connector")) &&
		    gov_connector_connected(connector) &&
		    (rc = targets_present(g, "connector", id)))
			goto cleanup;
	}
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if (!(details = change_details())) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	desc = change_text(details, cur, "description", has_desc || clear_desc, desc, 0);
	if (owner[0])
		change_text(details, cur, "owner", 1, owner, 1);
	else
		snprintf(owner, sizeof(owner), "%s", str_of(cur, "owner"));
	connector = change_text(details, cur, "connector", connector != NULL, connector, 1);
	if (settings && !json_equal(settings, json_object_get(cur, "connector_settings")))
		note_change(details, "connector_settings", json_object_get(cur, "connector_settings"),
			    json_incref(settings));
	if (!(settings_s = gh_json_canonical(settings ? settings :
					     json_object_get(cur, "connector_settings")))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if (json_array_size(json_object_get(details, "changed")) == 0) {
		*out = cur;
		cur = NULL;
		goto cleanup;
	}
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE systems SET description = ?2, owner_id = ?3, connector = ?4,"
				" updated_at = ?5, connector_settings = ?6 WHERE id = ?1")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (desc)
		sqlite3_bind_text(st, 2, desc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, connector, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, gh_now());
	sqlite3_bind_text(st, 6, settings_s, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "updating a system")) ||
	    (rc = gh_audit_append(NULL, g->store, actor->id, "system.updated", "system", id,
				  details)))
		goto cleanup;
	rc = system_load(out, g, id);
cleanup:
	json_decref(cur);
	json_decref(details);
	free(settings_s);
	return rc;
}

/* another connector or other settings: four eyes (change.c) */
const gov_change_op gov_op_system_update = {"system", "system.update", "systems",
					    system_update_locked, system_load};

int gh_gov_system_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			 const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "changing a system")))
		return rc;
	return gov_change_write(out, g, actor, &gov_op_system_update, ref, in);
}

int gh_gov_systems_unconfigured(json_t **out, gh_gov *g)
{
	sqlite3_stmt *st;
	const char *conn;
	int rc, step;

	*out = NULL;
	gh_error_clear();
	if (!(*out = json_array()))
		return gh_error_set(GH_ERROR, "out of memory");
	gh_store_read_begin(g->store);
	if (!(rc = gh_store_stmt(&st, g->store, "SELECT name, connector FROM systems ORDER BY pk"))) {
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			conn = (const char *)sqlite3_column_text(st, 1);
			if (!gh_connect_builtin(conn) && !gh_config_instance_find(g->opts.config, conn))
				json_array_append_new(*out, json_pack("{s:o, s:s}", "name",
						      gov_text_column(st, 0), "connector", conn));
		}
		rc = step == SQLITE_DONE ? 0 : gh_store_fail(g->store, "listing systems");
		sqlite3_reset(st);
	}
	gh_store_read_end(g->store);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* --- entitlements ---------------------------------------------------------- */

/* An entitlement of a connected system names its downstream object in
 * attributes.target (a role, a group DN...): recorded as a field error. */
static int target_check(gh_gov *g, const char *sys_id, const json_t *attrs)
{
	sqlite3_stmt *st;
	const char *target;
	char connector[GH_CONFIG_NAME_MAX + 1] = "";
	int rc, connected = 0;

	if ((rc = gh_store_stmt(&st, g->store, "SELECT connector FROM systems WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, sys_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		connected = gov_connector_connected((const char *)sqlite3_column_text(st, 0));
		snprintf(connector, sizeof(connector), "%s", sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	if (!connected)
		return 0;
	target = json_string_value(json_object_get(attrs, "target"));
	if (!target || !*target) {
		char name[128];

		gh_error_field("attributes.target", "system %s is connected: its entitlements need a"
			       " non-empty string target (the role, group or object downstream)",
			       gov_name_of(g, sys_id, name, sizeof(name)));
	}
	else if (strlen(target) > 1000)
		gh_error_field("attributes.target", "at most 1000 bytes");
	else if (gh_connect_check_target(g->opts.config, connector, target))
		gh_error_field("attributes.target", "%s", gh_error_last()->message);
	return 0;
}

static json_t *conflicts_json(gh_gov *g, const char *id, int *rc)
{
	json_t *ids = json_array();
	sqlite3_stmt *st;
	int step;

	if (!ids) {
		*rc = gh_error_set(GH_ERROR, "out of memory");
		return NULL;
	}
	if ((*rc = gh_store_stmt(&st, g->store,
				 "SELECT b FROM entitlement_conflicts WHERE a = ?1 UNION"
				 " SELECT a FROM entitlement_conflicts WHERE b = ?1 ORDER BY 1"))) {
		json_decref(ids);
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(ids, gov_text_column(st, 0));
	if (step != SQLITE_DONE) {
		*rc = gh_store_fail(g->store, "reading entitlement conflicts");
		json_decref(ids);
		ids = NULL;
	}
	sqlite3_reset(st);
	return ids;
}

int gov_entitlement_load(json_t **out, gh_gov *g, const char *id)
{
	json_t *tail = NULL, *conflicts;
	char dur[32];
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT id, system_id, name, description, risk_tier, data_sensitivity,"
				" environment, control_owner_group_id, max_duration, requestable,"
				" attributes, created_at, updated_at, tags FROM entitlements WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		gh_duration_format(dur, sizeof(dur), sqlite3_column_int64(st, 8));
		*out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:b}",
				 "id", gov_text_column(st, 0), "system", gov_text_column(st, 1),
				 "name", gov_text_column(st, 2),
				 "description", gov_text_column(st, 3),
				 "risk_tier", gov_text_column(st, 4),
				 "data_sensitivity", gov_text_column(st, 5),
				 "environment", gov_text_column(st, 6),
				 "control_owner_group", gov_text_column(st, 7),
				 "max_duration", dur,
				 "max_duration_seconds", (json_int_t)sqlite3_column_int64(st, 8),
				 "requestable", sqlite3_column_int(st, 9) != 0);
		tail = json_pack("{s:o, s:o, s:o, s:o}", "attributes", gov_json_column(st, 10, 0),
				 "tags", gov_json_column(st, 13, 1),
				 "created_at", gov_time_column(st, 11),
				 "updated_at", gov_time_column(st, 12));
	}
	rc = rc == SQLITE_ROW ? (*out && tail ? 0 : gh_error_set(GH_ERROR, "out of memory"))
	     : rc == SQLITE_DONE ? gh_error_set(GH_ENOTFOUND, "entitlement %s not found", id)
	     : gh_store_fail(g->store, "loading an entitlement");
	sqlite3_reset(st);
	if (!rc && (conflicts = conflicts_json(g, id, &rc))) {
		json_object_set_new(*out, "incompatible_with", conflicts);
		json_object_update(*out, tail);
	}
	json_decref(tail);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* incompatible_with: entitlement refs -> *out, a sorted array of distinct ids
 * (NULL when absent). self_id (NULL when creating) may not be among them.
 * Problems are recorded as field errors (and return 0); only a failure of the
 * store or of memory returns its code. */
static int conflicts_parse(json_t **out, gh_gov *g, const json_t *in, const char *self_id)
{
	const char *ids[MAX_CONFLICTS];
	char resolved[MAX_CONFLICTS][GH_ID_LEN];
	json_t *arr, *item;
	size_t i, n = 0;
	int rc, bad = 0;

	*out = NULL;
	if (is_null_field(in, "incompatible_with")) {
		gh_error_field("incompatible_with", "must be an array of entitlements; use [] for none");
		return 0;
	}
	if (gh_jv_string_array(in, "incompatible_with", 0, MAX_CONFLICTS, 256, &arr) <= 0)
		return 0;
	json_array_foreach(arr, i, item) {
		const char *ref = json_string_value(item);
		if ((rc = gov_resolve_field(g, "entitlements", "incompatible_with", ref, resolved[n]))) {
			if (rc != GH_EINVALID)
				return rc;
			bad = 1;
			continue;
		}
		if (self_id && strcmp(resolved[n], self_id) == 0) {
			gh_error_field("incompatible_with", "an entitlement cannot conflict with itself");
			bad = 1;
			continue;
		}
		ids[n] = resolved[n];
		n++;
	}
	if (bad)
		return 0;
	qsort(ids, n, sizeof(ids[0]), compare_strings);
	if (!(*out = json_array()))
		return gh_error_set(GH_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0)
			json_array_append_new(*out, json_string(ids[i]));
	return 0;
}

/* Replaces the entitlement's conflicts with ids (each pair stored once, a < b). */
static int conflicts_store(gh_gov *g, const char *id, const json_t *ids)
{
	sqlite3_stmt *st;
	json_t *item;
	size_t i;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"DELETE FROM entitlement_conflicts WHERE a = ?1 OR b = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "replacing entitlement conflicts")))
		return rc;
	json_array_foreach(ids, i, item) {
		const char *other = json_string_value(item);
		int lt = strcmp(id, other) < 0;
		if ((rc = gh_store_stmt(&st, g->store,
					"INSERT INTO entitlement_conflicts(a, b) VALUES (?, ?)")))
			return rc;
		sqlite3_bind_text(st, 1, lt ? id : other, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, lt ? other : id, -1, SQLITE_STATIC);
		if ((rc = gov_step_done(g, st, "storing an entitlement conflict")))
			return rc;
	}
	return 0;
}

static int in_array(const json_t *arr, const char *s)
{
	json_t *item;
	size_t i;

	json_array_foreach(arr, i, item)
		if (strcmp(json_string_value(item), s) == 0)
			return 1;
	return 0;
}

/* {"added": ids in to but not from, "removed": ids in from but not to}. */
static json_t *conflicts_diff(const json_t *from, const json_t *to)
{
	json_t *d = json_pack("{s:[], s:[]}", "added", "removed"), *item;
	size_t i;

	if (!d)
		return NULL;
	json_array_foreach(to, i, item)
		if (!in_array(from, json_string_value(item)))
			json_array_append(json_object_get(d, "added"), item);
	json_array_foreach(from, i, item)
		if (!in_array(to, json_string_value(item)))
			json_array_append(json_object_get(d, "removed"), item);
	return d;
}

/* SoD conflicts are symmetric, so the other side changed too: an
 * entitlement.updated event (and updated_at) on every entitlement that gained
 * or lost id as a conflict; diff is conflicts_diff's answer for id. */
static int conflicts_audit_others(gh_gov *g, const gh_actor *actor, const char *id,
				  const json_t *diff)
{
	static const char *const sides[] = {"added", "removed"};
	json_t *details, *item;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (size_t s = 0; s < 2; s++) {
		json_array_foreach(json_object_get(diff, sides[s]), i, item) {
			const char *other = json_string_value(item);
			if ((rc = gh_store_stmt(&st, g->store,
						"UPDATE entitlements SET updated_at = ? WHERE id = ?")))
				return rc;
			sqlite3_bind_int64(st, 1, gh_now());
			sqlite3_bind_text(st, 2, other, -1, SQLITE_STATIC);
			if ((rc = gov_step_done(g, st, "updating a conflicting entitlement")))
				return rc;
			details = json_pack("{s:[s], s:{s:[], s:[]}, s:s}", "changed",
					    "incompatible_with", "conflicts", "added", "removed",
					    "via", id);
			if (!details)
				return gh_error_set(GH_ERROR, "out of memory");
			json_array_append_new(json_object_get(json_object_get(details, "conflicts"),
							      sides[s]), json_string(id));
			rc = gh_audit_append(NULL, g->store, actor->id, "entitlement.updated",
					     "entitlement", other, details);
			json_decref(details);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static const char *const ent_create_fields[] = {
	"system", "name", "description", "risk_tier", "data_sensitivity", "environment",
	"control_owner_group", "max_duration", "requestable", "incompatible_with", "attributes",
	"tags", NULL};

static int ent_create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	const char *sys_ref = NULL, *name = NULL, *desc = NULL, *risk = NULL, *sens = NULL;
	const char *env = NULL, *grp_ref = NULL;
	char id[GH_ID_LEN], sys[GH_ID_LEN], grp[GH_ID_LEN];
	json_t *attrs = NULL, *conflicts = NULL, *details = NULL, *diff = NULL, *tags = NULL;
	char *attrs_s = NULL, *tags_s = NULL;
	int64_t max_dur = 0;
	int requestable = 1, rc = 0, sys_ok;
	sqlite3_stmt *st;

	if (gh_jv_object(in, ent_create_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	if (gh_jv_string(in, "system", 1, 256, &sys_ref) > 0 &&
	    (rc = gov_resolve_field(g, "systems", "system", sys_ref, sys)) && rc != GH_EINVALID)
		return rc;
	sys_ok = sys_ref && rc == 0;
	gh_jv_name(in, "name", 1, &name);
	gh_jv_string(in, "description", 0, 1000, &desc);
	gh_jv_enum(in, "risk_tier", 1, gh_gov_risk_tiers, &risk);
	gh_jv_enum(in, "data_sensitivity", 1, gh_gov_data_sensitivities, &sens);
	gov_jv_environment(in, "environment", 1, &env);
	if (gh_jv_string(in, "control_owner_group", 1, 256, &grp_ref) > 0 &&
	    (rc = gov_resolve_field(g, "groups", "control_owner_group", grp_ref, grp)) &&
	    rc != GH_EINVALID)
		return rc;
	gh_jv_duration(in, "max_duration", 1, &max_dur);
	gh_jv_bool(in, "requestable", 0, &requestable);
	if ((rc = conflicts_parse(&conflicts, g, in, NULL)))
		return rc;
	gh_jv_object_field(in, "attributes", 0, &attrs);
	if (sys_ok && (!attrs || json_is_object(attrs)) && (rc = target_check(g, sys, attrs)))
		goto cleanup;
	if ((rc = tags_parse(&tags, in)))
		goto cleanup;
	if ((rc = gh_error_fields_finish()))
		goto cleanup;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT 1 FROM entitlements WHERE system_id = ? AND name = ?")))
		goto cleanup;
	sqlite3_bind_text(st, 1, sys, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		gh_error_set(GH_ECONFLICT, "name: system %s already offers an entitlement named %s",
			     sys_ref, name);
		gh_error_field("name", "system %s already offers an entitlement named %s", sys_ref,
			       name);
		rc = GH_ECONFLICT;
		goto cleanup;
	}
	gh_id_new(id, sizeof(id), "ent");
	if (!(attrs_s = attrs ? gh_json_canonical(attrs) : strdup("{}")) ||
	    !(tags_s = tags ? gh_json_canonical(tags) : strdup("[]"))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO entitlements(id, system_id, name, description, risk_tier,"
				" data_sensitivity, environment, control_owner_group_id, max_duration,"
				" requestable, attributes, created_at, updated_at, tags)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sys, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if (desc)
		sqlite3_bind_text(st, 4, desc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, risk, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, sens, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, env, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, grp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, max_dur);
	sqlite3_bind_int(st, 10, requestable);
	sqlite3_bind_text(st, 11, attrs_s, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, gh_now());
	sqlite3_bind_text(st, 13, tags_s, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "creating an entitlement")))
		goto cleanup;
	if (conflicts && (rc = conflicts_store(g, id, conflicts)))
		goto cleanup;
	details = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:o}", "system", sys,
			    "name", name, "risk_tier", risk, "data_sensitivity", sens,
			    "environment", env, "control_owner_group", grp,
			    "max_duration_seconds", (json_int_t)max_dur, "requestable", requestable,
			    "incompatible_with", conflicts ? json_incref(conflicts) : json_array());
	if (details && json_object_set_new(details, "tags", tags ? json_incref(tags) : json_array())) {
		json_decref(details);
		details = NULL;
	}
	if (!details) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_audit_append(NULL, g->store, actor->id, "entitlement.created", "entitlement",
				  id, details)))
		goto cleanup;
	if (conflicts && json_array_size(conflicts) > 0) {
		json_t *none = json_array();
		if (!none || !(diff = conflicts_diff(none, conflicts)))
			rc = gh_error_set(GH_ERROR, "out of memory");
		json_decref(none);
		if (rc || (rc = conflicts_audit_others(g, actor, id, diff)))
			goto cleanup;
	}
	rc = gov_entitlement_load(out, g, id);
cleanup:
	json_decref(conflicts);
	json_decref(details);
	json_decref(diff);
	json_decref(tags);
	free(attrs_s);
	free(tags_s);
	return rc;
}

int gh_gov_entitlement_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "creating an entitlement")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	/* its creator set its controls: not auto-approved for them (change.c) */
	if (!(rc = ent_create_locked(out, g, actor, in)))
		rc = gov_controls_record(g, str_of(*out, "id"), actor->id, NULL);
	return gov_finish_out(g, rc, out);
}

int gh_gov_entitlement_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	char id[GH_ID_LEN];
	int rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = gov_resolve(g, "entitlements", ref, id)))
		rc = gov_entitlement_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_entitlement_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			    const char *system, const char *risk_tier, const char *environment,
			    const char *requestable)
{
	return gh_gov_entitlement_list_tag(out, g, actor, page, system, risk_tier, environment,
					   requestable, NULL);
}

int gh_gov_entitlement_list_tag(json_t **out, gh_gov *g, const gh_actor *actor,
				const gh_page *page, const char *system, const char *risk_tier,
				const char *environment, const char *requestable, const char *tag)
{
	char sys[GH_ID_LEN];
	sqlite3_stmt *st;
	int64_t after;
	int limit, req = -1, rc;

	*out = NULL;
	gh_error_clear();
	if (risk_tier)
		gov_check_enum("risk_tier", gh_gov_risk_tiers, risk_tier);
	if (environment && !gov_environment_valid(environment))
		gh_error_field("environment", "must be 1 to 32 of lowercase letters, digits and '-'");
	if (requestable) {
		if (strcmp(requestable, "true") == 0)
			req = 1;
		else if (strcmp(requestable, "false") == 0)
			req = 0;
		else
			gh_error_field("requestable", "must be true or false");
	}
	if (tag && !gov_tag_valid(tag))
		gh_error_field("tag", "must be 1 to 64 of a-z, 0-9, '.', '_', '-'");
	gh_store_read_begin(g->store);
	if (system && (rc = gov_resolve_field(g, "systems", "system", system, sys)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "entitlements", page, &limit, &after)) ||
	    (rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT id FROM entitlements WHERE pk > ?1"
				" AND (?2 IS NULL OR system_id = ?2) AND (?3 IS NULL OR risk_tier = ?3)"
				" AND (?4 IS NULL OR environment = ?4) AND (?5 IS NULL OR requestable = ?5)"
				" AND (?7 IS NULL OR EXISTS (SELECT 1 FROM json_each(tags)"
				"  WHERE value = ?7))"
				" ORDER BY pk LIMIT ?6")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, after);
	if (system)
		sqlite3_bind_text(st, 2, sys, -1, SQLITE_STATIC);
	if (risk_tier)
		sqlite3_bind_text(st, 3, risk_tier, -1, SQLITE_STATIC);
	if (environment)
		sqlite3_bind_text(st, 4, environment, -1, SQLITE_STATIC);
	if (req >= 0)
		sqlite3_bind_int(st, 5, req);
	sqlite3_bind_int(st, 6, limit);
	if (tag)
		sqlite3_bind_text(st, 7, tag, -1, SQLITE_STATIC);
	rc = list_ids(out, g, st, limit, gov_entitlement_load);
cleanup:
	gh_store_read_end(g->store);
	return rc;
}

static const char *const ent_update_fields[] = {
	"description", "risk_tier", "data_sensitivity", "control_owner_group", "max_duration",
	"requestable", "incompatible_with", "attributes", "tags", NULL};

/* A field that may not be set to null in an update. */
static void refuse_null(const json_t *in, const char *key)
{
	if (is_null_field(in, key))
		gh_error_field(key, "cannot be cleared");
}

static int ent_update_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			     const json_t *in)
{
	const char *desc = NULL, *risk = NULL, *sens = NULL, *grp_ref = NULL;
	char id[GH_ID_LEN], grp[GH_ID_LEN] = "";
	json_t *cur = NULL, *conflicts = NULL, *attrs = NULL, *details = NULL, *diff = NULL;
	json_t *tags = NULL;
	char *attrs_s = NULL, *tags_s = NULL, dur[32];
	int64_t max_dur = 0;
	int requestable = -1, has_desc, clear_desc, rc;
	sqlite3_stmt *st;

	if ((rc = gov_resolve(g, "entitlements", ref, id)))
		return rc;
	if (gh_jv_object(in, ent_update_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	clear_desc = is_null_field(in, "description");
	has_desc = gh_jv_string(in, "description", 0, 1000, &desc) > 0;
	refuse_null(in, "risk_tier");
	gh_jv_enum(in, "risk_tier", 0, gh_gov_risk_tiers, &risk);
	refuse_null(in, "data_sensitivity");
	gh_jv_enum(in, "data_sensitivity", 0, gh_gov_data_sensitivities, &sens);
	refuse_null(in, "control_owner_group");
	if (gh_jv_string(in, "control_owner_group", 0, 256, &grp_ref) > 0 &&
	    (rc = gov_resolve_field(g, "groups", "control_owner_group", grp_ref, grp)) &&
	    rc != GH_EINVALID)
		return rc;
	refuse_null(in, "max_duration");
	gh_jv_duration(in, "max_duration", 0, &max_dur);
	refuse_null(in, "requestable");
	gh_jv_bool(in, "requestable", 0, &requestable);
	if ((rc = conflicts_parse(&conflicts, g, in, id)))
		return rc;
	refuse_null(in, "attributes");
	gh_jv_object_field(in, "attributes", 0, &attrs);
	refuse_null(in, "tags");
	if ((rc = tags_parse(&tags, in)))
		goto cleanup;
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gov_entitlement_load(&cur, g, id)))
		goto cleanup;
	if (attrs && ((rc = target_check(g, str_of(cur, "system"), attrs)) ||
		      (rc = gh_error_fields_finish())))
		goto cleanup;
	if (!(details = change_details())) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}

	desc = change_text(details, cur, "description", has_desc || clear_desc, desc, 0);
	risk = change_text(details, cur, "risk_tier", risk != NULL, risk, 1);
	sens = change_text(details, cur, "data_sensitivity", sens != NULL, sens, 1);
	if (grp[0])
		change_text(details, cur, "control_owner_group", 1, grp, 1);
	else
		snprintf(grp, sizeof(grp), "%s", str_of(cur, "control_owner_group"));
	if (max_dur == 0) {
		max_dur = json_integer_value(json_object_get(cur, "max_duration_seconds"));
	} else if (max_dur != json_integer_value(json_object_get(cur, "max_duration_seconds"))) {
		gh_duration_format(dur, sizeof(dur), max_dur);
		note_change(details, "max_duration", json_object_get(cur, "max_duration"),
			    json_string(dur));
	}
	if (requestable < 0)
		requestable = json_is_true(json_object_get(cur, "requestable"));
	else if (requestable != json_is_true(json_object_get(cur, "requestable")))
		note_change(details, "requestable", json_object_get(cur, "requestable"),
			    json_boolean(requestable));
	if (conflicts && !json_equal(conflicts, json_object_get(cur, "incompatible_with"))) {
		note_change(details, "incompatible_with", json_object_get(cur, "incompatible_with"),
			    json_incref(conflicts));
		if (!(diff = conflicts_diff(json_object_get(cur, "incompatible_with"), conflicts))) {
			rc = gh_error_set(GH_ERROR, "out of memory");
			goto cleanup;
		}
		json_object_set(details, "conflicts", diff);
	}
	if (!attrs)
		attrs = json_object_get(cur, "attributes");
	else if (!json_equal(attrs, json_object_get(cur, "attributes")))
		note_change(details, "attributes", NULL, NULL);
	if (!tags)
		tags = json_incref(json_object_get(cur, "tags"));
	else if (!json_equal(tags, json_object_get(cur, "tags")))
		note_change(details, "tags", json_object_get(cur, "tags"), json_incref(tags));

	if (json_array_size(json_object_get(details, "changed")) == 0) {
		*out = cur;
		cur = NULL;
		goto cleanup;
	}
	if (!(attrs_s = gh_json_canonical(attrs)) || !(tags_s = gh_json_canonical(tags))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE entitlements SET description = ?2, risk_tier = ?3,"
				" data_sensitivity = ?4, control_owner_group_id = ?5, max_duration = ?6,"
				" requestable = ?7, attributes = ?8, updated_at = ?9, tags = ?10"
				" WHERE id = ?1")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (desc)
		sqlite3_bind_text(st, 2, desc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, risk, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sens, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, grp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, max_dur);
	sqlite3_bind_int(st, 7, requestable);
	sqlite3_bind_text(st, 8, attrs_s, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, gh_now());
	sqlite3_bind_text(st, 10, tags_s, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "updating an entitlement")))
		goto cleanup;
	if (conflicts && (rc = conflicts_store(g, id, conflicts)))
		goto cleanup;
	if ((rc = gh_audit_append(NULL, g->store, actor->id, "entitlement.updated", "entitlement",
				  id, details)))
		goto cleanup;
	if (diff && (rc = conflicts_audit_others(g, actor, id, diff)))
		goto cleanup;
	rc = gov_entitlement_load(out, g, id);
cleanup:
	json_decref(cur);
	json_decref(conflicts);
	json_decref(details);
	json_decref(diff);
	json_decref(tags);
	free(attrs_s);
	free(tags_s);
	return rc;
}

/* a weaker control: four eyes (change.c) */
const gov_change_op gov_op_entitlement_update = {"entitlement", "entitlement.update",
						 "entitlements", ent_update_locked,
						 gov_entitlement_load};

int gh_gov_entitlement_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			      const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "changing an entitlement")))
		return rc;
	return gov_change_write(out, g, actor, &gov_op_entitlement_update, ref, in);
}
