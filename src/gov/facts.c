/* facts.c - what deciders see of an identity and an entitlement: the facts
 * handed to Cedar (and the built-in rule) for every question asked. */
#include "gov/gov_internal.h"
#include "store/catalog.h"
#include "store/groups.h"
#include "store/identities.h"

#include <stdlib.h>
#include <string.h>

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

#define GROUPS_MAX 1024   /* groups one identity may be in, directly or not */

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* facts "groups": every group id holds, directly or through nested groups,
 * sorted. Walked breadth-first with one indexed lookup per group (each group
 * visited once, so a cycle cannot loop), which is cheaper than a recursive
 * query's temporary tables on the hot path of every decision. */
static int subject_groups(json_t *facts, gh_gov *g, const char *id)
{
	json_t *groups = json_array(), *sorted, *found[GROUPS_MAX], *parents = NULL, *p;
	size_t n = 0, next = 0, i, k;
	int rc = 0;

	if (!groups || json_object_set_new(facts, "groups", groups))
		return nomem("loading a subject's groups");
	for (const char *member = id, *type = "identity"; member && !rc;
	     member = next < n ? json_string_value(found[next++]) : NULL, type = "group") {
		if ((rc = gh_store_group_parents(&parents, g->store, type, member)))
			break;
		json_array_foreach(parents, k, p) {
			const char *gid = json_string_value(p);
			json_t *v;

			for (i = 0; i < n && strcmp(json_string_value(found[i]), gid) != 0; i++)
				;
			if (i < n)
				continue;
			if (n == GROUPS_MAX) {
				char name[128];

				rc = gh_error_set(GH_ECONFLICT, "identity %s is in more than %d groups",
						  gov_name_of(g, id, name, sizeof(name)), GROUPS_MAX);
			}
			else if (!(v = json_string(gid)) || json_array_append_new(groups, v))
				rc = nomem("loading a subject's groups");
			else
				found[n++] = v;   /* held by groups */
			if (rc)
				break;
		}
		json_decref(parents);
		parents = NULL;
	}
	if (rc)
		return rc;
	qsort(found, n, sizeof(found[0]), cmp_json_str);
	if (!(sorted = json_array()))
		return nomem("loading a subject's groups");
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, found[i])) {
			json_decref(sorted);
			return nomem("loading a subject's groups");
		}
	return json_object_set_new(facts, "groups", sorted) ? nomem("loading a subject's groups")
							     : 0;
}

/* A new object of the keys of from (a record in its API shape), in order;
 * a key from lacks is null. */
static json_t *facts_of(const json_t *from, const char *const keys[])
{
	json_t *out = json_object(), *v;

	for (size_t i = 0; out && keys[i]; i++) {
		v = json_object_get(from, keys[i]);
		if (json_object_set_new(out, keys[i], v ? json_incref(v) : json_null())) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

int gov_identity_facts(json_t **out, gh_gov *g, const char *id)
{
	static const char *const keys[] = {"id", "kind", "name", "status", "owner", "environment",
					   "roles", "attributes", "purpose", NULL};
	json_t *identity = NULL;
	int rc;

	*out = NULL;
	if ((rc = gh_store_identity_get(&identity, g->store, id)))
		return rc;
	*out = facts_of(identity, keys);
	json_decref(identity);
	rc = *out ? subject_groups(*out, g, id) : nomem("loading an identity");
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int gov_entitlement_facts(json_t **out, gh_gov *g, const char *id)
{
	static const char *const keys[] = {"id", "system", "name", "risk_tier", "data_sensitivity",
					   "environment", "control_owner_group",
					   "max_duration_seconds", "requestable", "attributes",
					   "tags", NULL};
	json_t *ent = NULL;
	int rc;

	*out = NULL;
	if ((rc = gh_store_entitlement_get_row(&ent, g->store, id)))   /* facts need no conflicts */
		return rc;
	if (!ent)
		return gh_error_set(GH_ENOTFOUND, "entitlement %s not found", id);
	*out = facts_of(ent, keys);
	json_decref(ent);
	return *out ? 0 : nomem("loading an entitlement");
}
