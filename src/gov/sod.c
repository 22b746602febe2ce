/* sod.c - segregation of duties: the grants a subject holds that conflict
 * with an entitlement it asks for, worded as a decision's reasons. SoD is an
 * invariant of the domain, checked before any decider and again before the
 * last approval provisions. */
#include "gov/gov_internal.h"
#include "store/sod.h"

#include <string.h>

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

/* Appends one reason per active grant of the subject that conflicts (SoD)
 * with ent; returns how many (or <0 on error). */
int gov_sod_conflicts(gh_gov *g, json_t *reasons, const char *subject_name, const char *subject,
		      const char *ent, const char *ent_name)
{
	json_t *held, *h;
	size_t i;
	int rc;

	if ((rc = gh_store_sod_held(&held, g->store, subject, ent)))
		return rc;
	json_array_foreach(held, i, h) {
		char buf[512];

		snprintf(buf, sizeof(buf), "segregation of duties: subject %s holds %s (grant %s),"
			 " which conflicts with %s", subject_name,
			 json_string_value(json_object_get(h, "name")),
			 json_string_value(json_object_get(h, "grant")), ent_name);
		if (json_array_append_new(reasons, json_string(buf))) {
			json_decref(held);
			return nomem("recording a conflict");
		}
	}
	rc = (int)json_array_size(held);
	json_decref(held);
	return rc;
}
