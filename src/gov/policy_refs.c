/* policy_refs.c - what a policy set refers to: the Gatehouse names in its
 * entity uids resolved to the ids decisions evaluate, and the actions its
 * permits can reach (default deny, said in words before it bites).
 *
 * Entities are evaluated under their ids (idn_..., grp_..., sys_..., ent_...),
 * which never change; people write names (Group::"dba-owners",
 * Entitlement::"billing-db/read-write"), which are unique per type and never
 * reused. The set is walked through the engine's public JSON form (EST), not
 * its text, so nothing inside a string or a comment is ever touched. */
#include "gov/gov_internal.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *type;
	const char *table;
} named[] = {
	{"Identity", "identities"},
	{"Group", "groups"},
	{"System", "systems"},
	{"Entitlement", "entitlements"},
};

typedef struct walk {
	gh_gov *g;
	json_t *problems;          /* NULL, or where unknown references are appended */
	const char *policy;        /* the policy being walked */
	json_t *seen;              /* "policy\ntype\nid" of references already reported */
	int changed;               /* a name was replaced by an id */
	int rc;
} walk;

static int nomem(void)
{
	return gh_error_set(GH_ERROR, "out of memory resolving policy references");
}

static const char *table_of(const char *type)
{
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strcmp(named[i].type, type) == 0)
			return named[i].table;
	return NULL;
}

/* One problem a reference: "policy0: System \"x\" does not exist". */
static void problem(walk *w, const char *type, const char *ref, const char *why)
{
	char key[400], msg[600];

	if (!w->problems)
		return;
	snprintf(key, sizeof(key), "%s\n%s\n%.300s", w->policy, type, ref);
	if (json_object_get(w->seen, key))
		return;
	snprintf(msg, sizeof(msg), "%s: %s \"%.300s\" %s", w->policy, type, ref, why);
	if (json_object_set_new(w->seen, key, json_true()) ||
	    json_array_append_new(w->problems, json_pack("{s:s, s:i, s:i, s:s}", "policy",
							 w->policy, "line", 0, "column", 0,
							 "message", msg)))
		w->rc = nomem();
}

/* An entity uid in the JSON form is exactly {"type": "...", "id": "..."}. */
static void uid(walk *w, json_t *o)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *ref = json_string_value(json_object_get(o, "id"));
	const char *table = type ? table_of(type) : NULL;
	char id[GH_ID_LEN];
	int rc;

	if (!table || !ref)
		return;
	rc = gov_resolve_any(w->g, table, ref, id);
	if (rc == 0) {
		if (strcmp(id, ref) != 0) {
			if (json_object_set_new(o, "id", json_string(id)))
				w->rc = nomem();
			w->changed = 1;
		}
	} else if (rc == GH_ENOTFOUND) {
		problem(w, type, ref, "does not exist (no such name or id)");
	} else if (rc == GH_ECONFLICT) {
		problem(w, type, ref, "names several entitlements; write it as \"system/name\"");
	} else {
		w->rc = rc;
	}
}

static void visit(walk *w, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (w->rc)
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			visit(w, x);
	} else if (json_is_object(v)) {
		if (json_object_size(v) == 2 && json_is_string(json_object_get(v, "type")) &&
		    json_is_string(json_object_get(v, "id"))) {
			uid(w, v);
			return;
		}
		json_object_foreach(v, k, x)
			if (strcmp(k, "annotations") != 0)
				visit(w, x);
	}
}

static int est_of(json_t **out, const gh_policy_set *ps)
{
	char *text = NULL;
	int rc;

	*out = NULL;
	if ((rc = gh_policy_set_to_json(&text, ps)))
		return gh_error_set(GH_ERROR, "the policy set has no JSON form (%d)", rc);
	*out = json_loads(text, 0, NULL);
	free(text);
	return *out ? 0 : nomem();
}

int gov_policy_resolve(gh_policy_set **out, json_t *problems, gh_gov *g, const gh_policy_set *ps)
{
	walk w = {g, problems, NULL, json_object(), 0, 0};
	gh_policy_error perr = {0};
	json_t *doc = NULL, *p;
	const char *section[] = {"staticPolicies", "templates"}, *id;
	char *text = NULL;
	int rc;

	*out = NULL;
	if (!w.seen)
		return nomem();
	if ((rc = est_of(&doc, ps)))
		goto cleanup;
	gh_store_read_begin(g->store);
	for (size_t s = 0; s < 2 && !w.rc; s++)
		json_object_foreach(json_object_get(doc, section[s]), id, p) {
			w.policy = id;
			visit(&w, p);
		}
	/* a link's slot values are uids too */
	w.policy = "templateLinks";
	visit(&w, json_object_get(doc, "templateLinks"));
	gh_store_read_end(g->store);
	if ((rc = w.rc) || !w.changed)
		goto cleanup;
	if (!(text = json_dumps(doc, JSON_COMPACT))) {
		rc = nomem();
		goto cleanup;
	}
	if (gh_policy_set_parse_json(out, text, strlen(text), &perr))
		rc = gh_error_set(GH_ERROR, "the policy set with ids does not parse: %s",
				  perr.message);
cleanup:
	free(text);
	json_decref(doc);
	json_decref(w.seen);
	return rc;
}

/* --- what the permits can reach ------------------------------------------- */

/* The questions default deny silences, and what that means once active. */
static const struct {
	const char *action;
	const char *resource;      /* the action's resource type (the schema's appliesTo) */
	const char *effect;
} questions[] = {
	{"request", "Entitlement", "every new request will be denied"},
	{"approve", "Request", "every approval will be refused, so nothing that waits for "
	 "approval can be granted"},
	{"delegate", "Group", "every new delegation will be refused"},
	{"break_glass", "Entitlement", "every break-glass request will be denied"},
};

static int scope_has_action(const json_t *scope, const char *action)
{
	const char *op = json_string_value(json_object_get(scope, "op"));
	const json_t *one = json_object_get(scope, "entity"), *v;
	size_t i;

	if (!op || strcmp(op, "All") == 0)
		return 1;
	if (one) /* == or in: actions form no groups in Gatehouse's schema */
		return strcmp(json_string_value(json_object_get(one, "id")) ?
			      json_string_value(json_object_get(one, "id")) : "", action) == 0;
	json_array_foreach(json_object_get(scope, "entities"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")) ?
			   json_string_value(json_object_get(v, "id")) : "", action) == 0)
			return 1;
	return 0;
}

/* Can the resource scope hold an entity of type rtype? `in` reaches
 * descendants: an entitlement is in its system, a group in a group. */
static int scope_has_type(const json_t *scope, const char *rtype)
{
	const char *op = json_string_value(json_object_get(scope, "op"));
	const char *is = json_string_value(json_object_get(scope, "entity_type"));
	const json_t *in = json_object_get(scope, "in");
	const char *t = json_string_value(json_object_get(json_object_get(scope, "entity"), "type"));

	if (!op || strcmp(op, "All") == 0 || json_object_get(scope, "slot"))
		return 1;
	if (strcmp(op, "is") == 0) {
		(void)in; /* "is T in X": T decides */
		return is && strcmp(is, rtype) == 0;
	}
	if (!t)
		return 1;
	if (strcmp(t, rtype) == 0)
		return 1;
	return strcmp(op, "in") == 0 && strcmp(rtype, "Entitlement") == 0 &&
	       strcmp(t, "System") == 0;
}

int gov_policy_warnings(json_t *warnings, const gh_policy_set *ps)
{
	json_t *doc = NULL, *p;
	const char *id;
	char msg[400];
	int rc;

	if ((rc = est_of(&doc, ps)))
		return rc;
	for (size_t q = 0; q < sizeof(questions) / sizeof(questions[0]) && !rc; q++) {
		int reached = 0;

		json_object_foreach(json_object_get(doc, "staticPolicies"), id, p) {
			const json_t *in;

			if (strcmp(json_string_value(json_object_get(p, "effect")) ?
				   json_string_value(json_object_get(p, "effect")) : "", "permit"))
				continue;
			in = json_object_get(p, "resource");
			if (scope_has_action(json_object_get(p, "action"), questions[q].action) &&
			    scope_has_type(in, questions[q].resource)) {
				reached = 1;
				break;
			}
		}
		if (reached)
			continue;
		snprintf(msg, sizeof(msg), "no policy permits %s: once this version is active, %s "
			 "(default deny); add a permit for Action::\"%s\"", questions[q].action,
			 questions[q].effect, questions[q].action);
		if (json_array_append_new(warnings, json_string(msg)))
			rc = nomem();
	}
	json_decref(doc);
	return rc;
}
