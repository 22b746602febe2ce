/* catalog.c - systems and the entitlements they offer, with their SoD conflicts. */
#include "gov/gov_internal.h"
#include "common/config.h"
#include "connect/connect.h"
#include "store/catalog.h"

#include <stdlib.h>
#include <string.h>

/* tags: an array of at most GH_GOV_TAGS_MAX tags -> *out, sorted and distinct (NULL
 * when absent or wrong; problems are field errors). */
static int tags_parse(json_t **out, const json_t *in)
{
	json_t *tags = NULL, *v;
	size_t i;

	*out = NULL;
	if (gh_jv_string_array(in, "tags", 0, GH_GOV_TAGS_MAX, gh_gov_field_max(GH_GOV_FIELD_TAG),
			       &tags) <= 0)
		return 0;
	json_array_foreach(tags, i, v) {
		char why[GH_GOV_FIELD_PROBLEM_MAX];

		if (gh_gov_field_problem(why, sizeof(why), GH_GOV_FIELD_TAG, json_string_value(v))) {
			gh_error_field("tags", "\"%s\" %s", json_string_value(v), why);
			return 0;
		}
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
	int rc = gh_store_system_get(out, g->store, id);

	if (!rc && !*out)
		rc = gh_error_set(GH_ENOTFOUND, "system %s not found", id);
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

	if (gov_jv_field(in, "connector", GH_GOV_FIELD_CONNECTOR, 0, &name) <= 0)
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
	json_t *ents, *e;
	size_t i;
	int rc;

	if ((rc = gh_store_entitlement_attributes(&ents, g->store, sys_id)))
		return rc;
	json_array_foreach(ents, i, e) {
		const json_t *target = json_object_get(json_object_get(e, "attributes"), "target");

		/* missing: absent, null or "" (any other value names something) */
		if (!target || json_is_null(target) ||
		    (json_is_string(target) && !*json_string_value(target))) {
			gh_error_field(field, "entitlement %s has no attributes.target, which a"
				       " connected system needs", str_of(e, "name"));
			break;
		}
	}
	json_decref(ents);
	return 0;
}

static int system_create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	const char *name = NULL, *desc = NULL, *owner_ref = NULL, *connector = "manual";
	char id[GH_ID_LEN], owner[GH_ID_LEN];
	json_t *details, *settings = NULL, *row;
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
	gov_jv_field(in, "name", GH_GOV_FIELD_NAME, 1, &name);
	gov_jv_field(in, "description", GH_GOV_FIELD_DESCRIPTION, 0, &desc);
	if (gov_jv_field(in, "owner", GH_GOV_FIELD_REF, 1, &owner_ref) > 0 &&
	    (rc = gov_check_owner(g, "owner", owner_ref, owner)) && rc != GH_EINVALID)
		return rc;
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_system_named(g->store, name)) < 0)
		return rc;
	if (rc) {
		gh_error_set(GH_ECONFLICT, "name: a system named %s already exists", name);
		gh_error_field("name", "a system named %s already exists", name);
		return GH_ECONFLICT;
	}
	gh_id_new(id, sizeof(id), "sys");
	if (!(row = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:O*}", "id", id, "name", name,
			      "description", desc, "owner", owner, "connector", connector,
			      "connector_settings", settings)))
		return gh_error_set(GH_ERROR, "out of memory");
	rc = gh_store_system_insert(g->store, row, gh_now());
	json_decref(row);
	if (rc)
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

/* A page of items (taken) as a list's answer; items NULL is rc's failure. */
static int page_result(json_t **out, int rc, json_t *items, int limit)
{
	if (!rc && !(*out = gov_list_result(items, limit)))
		return gh_error_set(GH_ERROR, "out of memory");
	if (rc)
		json_decref(items);
	return rc;
}

int gh_gov_system_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page)
{
	json_t *items = NULL;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = gov_page(g, "systems", page, &limit, &after))) {
		rc = gh_store_system_page(&items, g->store, after, limit);
		rc = page_result(out, rc, items, limit);
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
	char id[GH_ID_LEN], owner[GH_ID_LEN] = "";
	json_t *cur = NULL, *details = NULL, *settings = NULL, *row = NULL;
	int has_desc, clear_desc, rc;

	if ((rc = gov_resolve(g, "systems", ref, id)))
		return rc;
	if (gh_jv_object(in, system_update_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	clear_desc = is_null_field(in, "description");
	has_desc = gov_jv_field(in, "description", GH_GOV_FIELD_DESCRIPTION, 0, &desc) > 0;
	if (is_null_field(in, "owner"))
		gh_error_field("owner", "cannot be cleared; a system needs an active human owner");
	else if (gov_jv_field(in, "owner", GH_GOV_FIELD_REF, 0, &owner_ref) > 0 &&
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
	if (json_array_size(json_object_get(details, "changed")) == 0) {
		*out = cur;
		cur = NULL;
		goto cleanup;
	}
	if (!(row = json_pack("{s:s, s:s?, s:s, s:s, s:O}", "id", id, "description", desc,
			      "owner", owner, "connector", connector, "connector_settings",
			      settings ? settings : json_object_get(cur, "connector_settings")))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_system_update(g->store, row, gh_now())) ||
	    (rc = gh_audit_append(NULL, g->store, actor->id, "system.updated", "system", id,
				  details)))
		goto cleanup;
	rc = system_load(out, g, id);
cleanup:
	json_decref(cur);
	json_decref(details);
	json_decref(row);
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
	json_t *all = NULL, *sys;
	size_t i;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (!(*out = json_array()))
		return gh_error_set(GH_ERROR, "out of memory");
	gh_store_read_begin(g->store);
	rc = gh_store_system_connectors(&all, g->store);
	gh_store_read_end(g->store);
	json_array_foreach(all, i, sys) {
		const char *conn = str_of(sys, "connector");

		if (!gh_connect_builtin(conn) && !gh_config_instance_find(g->opts.config, conn))
			json_array_append(*out, sys);
	}
	json_decref(all);
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
	const char *target;
	char connector[GH_CONFIG_NAME_MAX + 1] = "";
	json_t *sys = NULL;
	int rc, connected = 0;

	if ((rc = gh_store_system_get(&sys, g->store, sys_id)))
		return rc;
	if (sys) {
		connected = gov_connector_connected(str_of(sys, "connector"));
		snprintf(connector, sizeof(connector), "%s", str_of(sys, "connector"));
	}
	json_decref(sys);
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

int gov_entitlement_load(json_t **out, gh_gov *g, const char *id)
{
	int rc = gh_store_entitlement_get(out, g->store, id);

	if (!rc && !*out)
		rc = gh_error_set(GH_ENOTFOUND, "entitlement %s not found", id);
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
	const char *ids[GH_GOV_CONFLICTS_MAX];
	char resolved[GH_GOV_CONFLICTS_MAX][GH_ID_LEN];
	json_t *arr, *item;
	size_t i, n = 0;
	int rc, bad = 0;

	*out = NULL;
	if (is_null_field(in, "incompatible_with")) {
		gh_error_field("incompatible_with", "must be an array of entitlements; use [] for none");
		return 0;
	}
	if (gh_jv_string_array(in, "incompatible_with", 0, GH_GOV_CONFLICTS_MAX,
			       gh_gov_field_max(GH_GOV_FIELD_REF), &arr) <= 0)
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
	size_t i;
	int rc;

	for (size_t s = 0; s < 2; s++) {
		json_array_foreach(json_object_get(diff, sides[s]), i, item) {
			const char *other = json_string_value(item);
			if ((rc = gh_store_entitlement_touch(g->store, other, gh_now())))
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
	json_t *row = NULL;
	int64_t max_dur = 0;
	int requestable = 1, rc = 0, sys_ok;

	if (gh_jv_object(in, ent_create_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	if (gov_jv_field(in, "system", GH_GOV_FIELD_REF, 1, &sys_ref) > 0 &&
	    (rc = gov_resolve_field(g, "systems", "system", sys_ref, sys)) && rc != GH_EINVALID)
		return rc;
	sys_ok = sys_ref && rc == 0;
	gov_jv_field(in, "name", GH_GOV_FIELD_NAME, 1, &name);
	gov_jv_field(in, "description", GH_GOV_FIELD_DESCRIPTION, 0, &desc);
	gh_jv_enum(in, "risk_tier", 1, gh_gov_risk_tiers, &risk);
	gh_jv_enum(in, "data_sensitivity", 1, gh_gov_data_sensitivities, &sens);
	gov_jv_field(in, "environment", GH_GOV_FIELD_ENVIRONMENT, 1, &env);
	if (gov_jv_field(in, "control_owner_group", GH_GOV_FIELD_REF, 1, &grp_ref) > 0 &&
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

	if ((rc = gh_store_entitlement_named(g->store, sys, name)) < 0)
		goto cleanup;
	if (rc) {
		gh_error_set(GH_ECONFLICT, "name: system %s already offers an entitlement named %s",
			     sys_ref, name);
		gh_error_field("name", "system %s already offers an entitlement named %s", sys_ref,
			       name);
		rc = GH_ECONFLICT;
		goto cleanup;
	}
	gh_id_new(id, sizeof(id), "ent");
	if (!(row = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:I, s:b, s:O*, s:O*}",
			      "id", id, "system", sys, "name", name, "description", desc,
			      "risk_tier", risk, "data_sensitivity", sens, "environment", env,
			      "control_owner_group", grp, "max_duration_seconds", (json_int_t)max_dur,
			      "requestable", requestable, "attributes", attrs, "tags", tags))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_entitlement_insert(g->store, row, gh_now())))
		goto cleanup;
	if (conflicts && (rc = gh_store_entitlement_conflicts_set(g->store, id, conflicts)))
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
	json_decref(row);
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
	gh_store_entitlement_filter f = {NULL, risk_tier, environment, -1, tag};
	char sys[GH_ID_LEN];
	json_t *items = NULL;
	int64_t after;
	int limit, req = -1, rc;

	*out = NULL;
	gh_error_clear();
	if (risk_tier)
		gov_check_enum("risk_tier", gh_gov_risk_tiers, risk_tier);
	if (environment)
		gov_field_check("environment", GH_GOV_FIELD_ENVIRONMENT, environment);
	if (requestable) {
		if (strcmp(requestable, "true") == 0)
			req = 1;
		else if (strcmp(requestable, "false") == 0)
			req = 0;
		else
			gh_error_field("requestable", "must be true or false");
	}
	if (tag)
		gov_field_check("tag", GH_GOV_FIELD_TAG, tag);
	gh_store_read_begin(g->store);
	if (system && (rc = gov_resolve_field(g, "systems", "system", system, sys)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "entitlements", page, &limit, &after)) ||
	    (rc = gh_error_fields_finish()))
		goto cleanup;
	f.system_id = system ? sys : NULL;
	f.requestable = req;
	rc = gh_store_entitlement_page(&items, g->store, &f, after, limit);
	rc = page_result(out, rc, items, limit);
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
	json_t *tags = NULL, *row = NULL;
	char dur[32];
	int64_t max_dur = 0;
	int requestable = -1, has_desc, clear_desc, rc;

	if ((rc = gov_resolve(g, "entitlements", ref, id)))
		return rc;
	if (gh_jv_object(in, ent_update_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	clear_desc = is_null_field(in, "description");
	has_desc = gov_jv_field(in, "description", GH_GOV_FIELD_DESCRIPTION, 0, &desc) > 0;
	refuse_null(in, "risk_tier");
	gh_jv_enum(in, "risk_tier", 0, gh_gov_risk_tiers, &risk);
	refuse_null(in, "data_sensitivity");
	gh_jv_enum(in, "data_sensitivity", 0, gh_gov_data_sensitivities, &sens);
	refuse_null(in, "control_owner_group");
	if (gov_jv_field(in, "control_owner_group", GH_GOV_FIELD_REF, 0, &grp_ref) > 0 &&
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
	if (!(row = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:I, s:b, s:O, s:O}", "id", id,
			      "description", desc, "risk_tier", risk, "data_sensitivity", sens,
			      "control_owner_group", grp, "max_duration_seconds", (json_int_t)max_dur,
			      "requestable", requestable, "attributes", attrs, "tags", tags))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_entitlement_update(g->store, row, gh_now())))
		goto cleanup;
	if (conflicts && (rc = gh_store_entitlement_conflicts_set(g->store, id, conflicts)))
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
	json_decref(row);
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
