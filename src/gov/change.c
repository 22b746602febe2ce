/* change.c - four eyes on changes that weaken a control: a guarded write is
 * tried, and when it would weaken a control it is undone and proposed
 * instead; a second admin/iam person (neither its proposer nor the one it
 * benefits) confirms it through the same code, or it is withdrawn. Also who
 * last changed an entitlement's controls, which the deciders may not
 * auto-approve for. The SQL lives in store/changes.c. */
#include "gov/gov_internal.h"
#include "store/changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGE_COMMENT_MAX 1000
#define CHANGE_DETAIL "needs confirmation by a second admin or iam person"

/* Who reads proposed changes: the writers and the auditors. */
#define CHANGE_READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)

static const gov_change_op *const ops[] = {
	&gov_op_entitlement_update, &gov_op_system_update, &gov_op_identity_update,
	&gov_op_group_add_member, NULL};

static const gov_change_op *op_find(const char *operation)
{
	for (size_t i = 0; ops[i]; i++)
		if (strcmp(ops[i]->operation, operation) == 0)
			return ops[i];
	return NULL;
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int nomem(void)
{
	return gh_error_set(GH_ERROR, "out of memory");
}

/* --- what weakens a control ------------------------------------------------- */

static int tier_rank(const char *t)
{
	for (int i = 0; t && gh_gov_risk_tiers[i]; i++)
		if (strcmp(gh_gov_risk_tiers[i], t) == 0)
			return i;
	return -1;
}

static int weak(json_t *list, const char *field, const json_t *from, const json_t *to)
{
	json_t *e = json_pack("{s:s, s:O?, s:O?}", "field", field, "from", from, "to", to);

	return e && !json_array_append_new(list, e) ? 0 : nomem();
}

/* 1 when every string of sub is in set. */
static int subset(const json_t *sub, const json_t *set)
{
	size_t i, j;
	json_t *a, *b;

	json_array_foreach(sub, i, a) {
		int found = 0;

		json_array_foreach(set, j, b)
			found |= json_equal(a, b);
		if (!found)
			return 0;
	}
	return 1;
}

static const json_t *target_of(const json_t *ent)
{
	return json_object_get(json_object_get(ent, "attributes"), "target");
}

/* The controls of an entitlement, compared field by field. */
static int entitlement_weakens(json_t *out, const json_t *b, const json_t *a)
{
	int rc = 0;
	json_t *tb = (json_t *)target_of(b), *ta = (json_t *)target_of(a);

	if (tier_rank(str_of(a, "risk_tier")) < tier_rank(str_of(b, "risk_tier")))
		rc = rc ? rc : weak(out, "risk_tier", json_object_get(b, "risk_tier"),
				    json_object_get(a, "risk_tier"));
	if (!json_is_true(json_object_get(b, "requestable")) &&
	    json_is_true(json_object_get(a, "requestable")))
		rc = rc ? rc : weak(out, "requestable", json_false(), json_true());
	if (json_integer_value(json_object_get(a, "max_duration_seconds")) >
	    json_integer_value(json_object_get(b, "max_duration_seconds")))
		rc = rc ? rc : weak(out, "max_duration", json_object_get(b, "max_duration"),
				    json_object_get(a, "max_duration"));
	if (!same_str(str_of(b, "control_owner_group"), str_of(a, "control_owner_group")))
		rc = rc ? rc : weak(out, "control_owner_group",
				    json_object_get(b, "control_owner_group"),
				    json_object_get(a, "control_owner_group"));
	if (!subset(json_object_get(b, "incompatible_with"), json_object_get(a, "incompatible_with")))
		rc = rc ? rc : weak(out, "incompatible_with", json_object_get(b, "incompatible_with"),
				    json_object_get(a, "incompatible_with"));
	if (!(tb == NULL && ta == NULL) && !(tb && ta && json_equal(tb, ta)))
		rc = rc ? rc : weak(out, "attributes.target", tb ? tb : json_null(),
				    ta ? ta : json_null());
	return rc;
}

/* 1 when any control of the entitlement changed, whichever way. */
static int controls_changed(const json_t *b, const json_t *a)
{
	static const char *const keys[] = {"risk_tier", "requestable", "max_duration_seconds",
					   "control_owner_group", "incompatible_with", NULL};
	const json_t *tb = target_of(b), *ta = target_of(a);

	for (size_t i = 0; keys[i]; i++)
		if (!json_equal(json_object_get(b, keys[i]), json_object_get(a, keys[i])))
			return 1;
	return !(tb == NULL && ta == NULL) && !(tb && ta && json_equal(tb, ta));
}

/* The member in a's members that b's lacks, or NULL. */
static const json_t *member_added(const json_t *b, const json_t *a)
{
	size_t i, j;
	json_t *m, *o;

	json_array_foreach(json_object_get(a, "members"), i, m) {
		int found = 0;

		json_array_foreach(json_object_get(b, "members"), j, o)
			found |= same_str(str_of(m, "type"), str_of(o, "type")) &&
				 same_str(str_of(m, "id"), str_of(o, "id"));
		if (!found)
			return m;
	}
	return NULL;
}

/* What applying op to object id changed from before to after weakens: a
 * new array of {"field","from","to"}, empty when nothing. */
static int weakens_of(json_t **out, gh_gov *g, const gov_change_op *op, const char *id,
		      const json_t *before, const json_t *after)
{
	const json_t *m;
	int rc = 0, guards;

	if (!(*out = json_array()))
		return nomem();
	if (strcmp(op->object_type, "entitlement") == 0) {
		rc = entitlement_weakens(*out, before, after);
	} else if (strcmp(op->object_type, "identity") == 0) {
		if (!same_str(str_of(before, "owner"), str_of(after, "owner")))
			rc = weak(*out, "owner", json_object_get(before, "owner"),
				  json_object_get(after, "owner"));
	} else if (strcmp(op->object_type, "system") == 0) {
		/* another connector instance is another downstream: either field */
		if (!same_str(str_of(before, "connector"), str_of(after, "connector")))
			rc = weak(*out, "connector", json_object_get(before, "connector"),
				  json_object_get(after, "connector"));
		if (!rc && !json_equal(json_object_get(before, "connector_settings"),
				       json_object_get(after, "connector_settings")))
			rc = weak(*out, "connector_settings",
				  json_object_get(before, "connector_settings"),
				  json_object_get(after, "connector_settings"));
	} else if ((m = member_added(before, after))) {
		if ((guards = gh_changes_group_guards(g->store, id, gh_now())) < 0)
			rc = guards;
		else if (guards)
			rc = weak(*out, "members", NULL, m);
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* --- the API shape ------------------------------------------------------------ */

static json_t *time_or_null(const json_t *v)
{
	char buf[40];

	if (!json_is_integer(v))
		return json_null();
	gh_time_format(buf, sizeof(buf), json_integer_value(v));
	return json_string(buf);
}

/* A stored row as the API shows it: the same keys, times in RFC 3339. */
static json_t *change_json(const json_t *row)
{
	static const char *const times[] = {"base_updated_at", "proposed_at", "decided_at", NULL};
	json_t *out = json_deep_copy(row);

	for (size_t i = 0; out && times[i]; i++)
		if (json_object_set_new(out, times[i], time_or_null(json_object_get(row, times[i])))) {
			json_decref(out);
			return NULL;
		}
	return out;
}

/* --- propose ------------------------------------------------------------------ */

/* One weakening as text: "risk_tier medium -> low". */
static void weakens_text(char *buf, size_t len, const json_t *weakens)
{
	size_t i, n = 0;
	json_t *w;

	buf[0] = '\0';
	json_array_foreach(weakens, i, w) {
		char *from = json_dumps(json_object_get(w, "from"), JSON_ENCODE_ANY | JSON_COMPACT);
		char *to = json_dumps(json_object_get(w, "to"), JSON_ENCODE_ANY | JSON_COMPACT);

		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s %.60s -> %.100s", i ? ", " : "",
					      str_of(w, "field"), from ? from : "null",
					      to ? to : "null");
		free(from);
		free(to);
	}
}

/* The answer of a write that was proposed: {"change","detail"}. */
static int proposed_answer(json_t **out, const json_t *row)
{
	char what[400], detail[600];
	json_t *ch = change_json(row);

	weakens_text(what, sizeof(what), json_object_get(row, "weakens"));
	snprintf(detail, sizeof(detail), "this change weakens a control (%s) and " CHANGE_DETAIL
		 " before it takes effect: POST /v1/changes/%s/confirm", what, str_of(row, "id"));
	*out = ch ? json_pack("{s:o, s:s}", "change", ch, "detail", detail) : NULL;
	return *out ? 0 : nomem();
}

/* 1 when open change row proposes the same as (op, in, weakens). */
static int same_proposal(const gov_change_op *op, const json_t *row, const json_t *in,
			 const json_t *weakens)
{
	if (op == &gov_op_group_add_member)
		return json_equal(json_object_get(json_array_get(json_object_get(row, "weakens"), 0),
						  "to"),
				  json_object_get(json_array_get(weakens, 0), "to"));
	return json_equal(json_object_get(row, "payload"), in);
}

static int propose_locked(json_t **out, gh_gov *g, const gh_actor *actor,
			  const gov_change_op *op, const char *id, const json_t *in,
			  const json_t *weakens, int64_t base)
{
	json_t *open = NULL, *row = NULL, *item;
	char cid[GH_ID_LEN];
	size_t i;
	int rc;

	/* one open proposal per object and operation (per member for a group):
	 * proposing the same again answers the open one */
	if ((rc = gh_changes_open(&open, g->store, id, op->operation)))
		return rc;
	json_array_foreach(open, i, item) {
		if (same_proposal(op, item, in, weakens)) {
			rc = proposed_answer(out, item);
			goto cleanup;
		}
		if (op != &gov_op_group_add_member) {
			char name[128];

			rc = gh_error_set(GH_ECONFLICT, "change %s to %s %s is already proposed; have it"
					  " confirmed or withdraw it before proposing another",
					  str_of(item, "id"), op->object_type,
					  gov_name_of(g, id, name, sizeof(name)));
			goto cleanup;
		}
	}
	gh_id_new(cid, sizeof(cid), "chg");
	row = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:I, s:s, s:s, s:I, s:n, s:n, s:n, s:n}",
			"id", cid, "object_type", op->object_type, "object_id", id,
			"operation", op->operation, "payload", in, "weakens", weakens,
			"base_updated_at", (json_int_t)base, "state", "proposed",
			"proposed_by", actor->id, "proposed_at", (json_int_t)gh_now(),
			"comment", "decided_by", "decided_at", "decision_comment");
	if (!row) {
		rc = nomem();
		goto cleanup;
	}
	if ((rc = gh_changes_insert(g->store, row)) ||
	    (rc = gov_audit_take(g, actor->id, "change.proposed", "change", cid,
				 json_pack("{s:s, s:s, s:s, s:O, s:O}", "object_type",
					   op->object_type, "object_id", id, "operation",
					   op->operation, "payload", in, "weakens", weakens))))
		goto cleanup;
	rc = proposed_answer(out, row);
cleanup:
	json_decref(open);
	json_decref(row);
	return rc;
}

int gov_controls_record(gh_gov *g, const char *ent_id, const char *first, const char *second)
{
	json_t *ids = json_pack("[s]", first);
	int rc;

	if (ids && second && strcmp(first, second) != 0 &&
	    json_array_append_new(ids, json_string(second))) {
		json_decref(ids);
		ids = NULL;
	}
	if (!ids)
		return nomem();
	rc = gh_changes_controls_set(g->store, ent_id, ids);
	json_decref(ids);
	return rc;
}

/* The guarded write inside its transaction; *proposed says which way it went. */
static int write_locked(json_t **out, int *proposed, gh_gov *g, const gh_actor *actor,
			const gov_change_op *op, const char *ref, const json_t *in)
{
	json_t *before = NULL, *after = NULL, *weakens = NULL, *res = NULL;
	char id[GH_ID_LEN];
	int64_t base = 0;
	int rc;

	*proposed = 0;
	if ((rc = gov_resolve(g, op->table, ref, id)) || (rc = op->load(&before, g, id)) ||
	    (rc = gh_changes_updated_at(&base, g->store, op->object_type, id)))
		goto cleanup;
	/* tried for real (its own checks and events), then kept or undone */
	if ((rc = gh_store_trial_begin(g->store)))
		goto cleanup;
	/* the ref as given, so that its refusals read as they always did */
	if ((rc = op->apply(&res, g, actor, ref, in)) || (rc = op->load(&after, g, id)) ||
	    (rc = weakens_of(&weakens, g, op, id, before, after)))
		goto cleanup;
	if (json_array_size(weakens) == 0) {
		if ((rc = gh_store_trial_keep(g->store)))
			goto cleanup;
		if (strcmp(op->object_type, "entitlement") == 0 && controls_changed(before, after) &&
		    (rc = gov_controls_record(g, id, actor->id, NULL)))
			goto cleanup;
		*out = res;
		res = NULL;
		goto cleanup;
	}
	if ((rc = gh_store_trial_undo(g->store)))
		goto cleanup;
	*proposed = 1;
	rc = propose_locked(out, g, actor, op, id, in, weakens, base);
cleanup:
	json_decref(before);
	json_decref(after);
	json_decref(weakens);
	json_decref(res);
	return rc;
}

int gov_change_write(json_t **out, gh_gov *g, const gh_actor *actor, const gov_change_op *op,
		     const char *ref, const json_t *in)
{
	int rc, proposed = 0;

	*out = NULL;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	rc = gov_finish(g, write_locked(out, &proposed, g, actor, op, ref, in));
	if (rc) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	if (proposed)            /* undone and proposed: nothing changed yet */
		return GH_PROPOSED;
	gov_auth_changed(g);     /* an identity's fields may have changed */
	return 0;
}

/* --- confirm and withdraw -------------------------------------------------------- */

static const char *const confirm_fields[] = {"comment", NULL};
static const char *const withdraw_fields[] = {"reason", NULL};

/* GH_EDENIED when actor would gain from the change: the NHI's new owner, the
 * identity added to a group or a member of the group added. */
static int check_beneficiary(gh_gov *g, const gh_actor *actor, const json_t *row)
{
	const json_t *w;
	char name[128];
	size_t i;
	int in;

	json_array_foreach(json_object_get(row, "weakens"), i, w) {
		const json_t *to = json_object_get(w, "to");
		const char *field = str_of(w, "field");

		if (strcmp(field, "owner") == 0 && same_str(json_string_value(to), actor->id))
			return gh_error_set(GH_EDENIED, "you would benefit from change %s: it makes you"
					    " the owner of %s; another admin or iam person must"
					    " confirm it", str_of(row, "id"),
					    gov_name_of(g, str_of(row, "object_id"), name, sizeof(name)));
		if (strcmp(field, "members") != 0)
			continue;
		if (same_str(str_of(to, "type"), "identity"))
			in = same_str(str_of(to, "id"), actor->id);
		else if ((in = gh_gov_group_contains(g, str_of(to, "id"), actor->id)) < 0)
			return in;
		if (in)
			return gh_error_set(GH_EDENIED, "you would benefit from change %s: it adds you"
					    " (or a group you are in) to group %s; another admin or iam"
					    " person must confirm it", str_of(row, "id"),
					    gov_name_of(g, str_of(row, "object_id"), name, sizeof(name)));
	}
	return 0;
}

static int confirm_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const char *comment)
{
	json_t *row = NULL, *before = NULL, *after = NULL, *weakens = NULL, *res = NULL;
	const gov_change_op *op;
	const char *object_id;
	int64_t now = gh_now(), at;
	int rc;

	if ((rc = gh_changes_get(&row, g->store, id)))
		return rc;
	object_id = str_of(row, "object_id");
	if (strcmp(str_of(row, "state"), "proposed") != 0) {
		rc = gh_error_set(GH_ECONFLICT, "change %s is %s and cannot be confirmed", id,
				  str_of(row, "state"));
		goto cleanup;
	}
	if (strcmp(str_of(row, "proposed_by"), actor->id) == 0) {
		rc = gh_error_set(GH_EDENIED, "confirmation needs a second person: you proposed"
				  " change %s and cannot also confirm it", id);
		goto cleanup;
	}
	if ((rc = check_beneficiary(g, actor, row)))
		goto cleanup;
	if (!(op = op_find(str_of(row, "operation")))) {
		rc = gh_error_set(GH_ERROR, "change %s has an unknown operation %s", id,
				  str_of(row, "operation"));
		goto cleanup;
	}
	/* a member addition stays valid while other members come and go; any
	 * other change needs the object exactly as it was proposed against */
	if (op != &gov_op_group_add_member) {
		if ((rc = gh_changes_updated_at(&at, g->store, op->object_type, object_id)))
			goto cleanup;
		if (at != json_integer_value(json_object_get(row, "base_updated_at"))) {
			char name[128];

			rc = gh_error_set(GH_ECONFLICT, "%s %s changed after change %s was proposed;"
					  " withdraw it and propose again", op->object_type,
					  gov_name_of(g, object_id, name, sizeof(name)), id);
			goto cleanup;
		}
	}
	if ((rc = op->load(&before, g, object_id)) ||
	    (rc = op->apply(&res, g, actor, object_id, json_object_get(row, "payload"))) ||
	    (rc = op->load(&after, g, object_id)) ||
	    (rc = weakens_of(&weakens, g, op, object_id, before, after)))
		goto cleanup;
	if (!json_equal(weakens, json_object_get(row, "weakens"))) {
		char name[128];

		rc = gh_error_set(GH_ECONFLICT, "change %s no longer does what was proposed (%s %s"
				  " changed since); withdraw it and propose again", id,
				  op->object_type, gov_name_of(g, object_id, name, sizeof(name)));
		goto cleanup;
	}
	if (strcmp(op->object_type, "entitlement") == 0 &&
	    (rc = gov_controls_record(g, object_id, str_of(row, "proposed_by"), actor->id)))
		goto cleanup;
	if ((rc = gh_changes_decide(g->store, id, "confirmed", actor->id, now, comment)) ||
	    (rc = gov_audit_take(g, actor->id, "change.confirmed", "change", id,
				 json_pack("{s:s, s:s, s:s, s:s, s:O, s:s?}", "object_type",
					   op->object_type, "object_id", object_id, "operation",
					   op->operation, "proposed_by", str_of(row, "proposed_by"),
					   "weakens", weakens, "comment", comment))))
		goto cleanup;
	json_decref(row);
	row = NULL;
	if ((rc = gh_changes_get(&row, g->store, id)))
		goto cleanup;
	if (!(*out = change_json(row)) || json_object_set(*out, "result", res))
		rc = nomem();
cleanup:
	json_decref(row);
	json_decref(before);
	json_decref(after);
	json_decref(weakens);
	json_decref(res);
	return rc;
}

int gh_gov_change_confirm(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *in)
{
	const char *comment = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "confirming a change")))
		return rc;
	if (in) {
		if (gh_jv_object(in, confirm_fields) < 0 && !json_is_object(in))
			return gh_error_fields_finish();
		gh_jv_string(in, "comment", 0, CHANGE_COMMENT_MAX, &comment);
	}
	if ((rc = gh_error_fields_finish()) || (rc = gh_store_begin(g->store)))
		return rc;
	rc = gov_finish(g, confirm_locked(out, g, actor, id ? id : "", comment));
	if (rc) {
		json_decref(*out);
		*out = NULL;
	} else {
		gov_auth_changed(g);
	}
	return rc;
}

static int withdraw_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			   const char *reason)
{
	json_t *row = NULL;
	int rc;

	if ((rc = gh_changes_get(&row, g->store, id)))
		return rc;
	if (strcmp(str_of(row, "state"), "proposed") != 0) {
		rc = gh_error_set(GH_ECONFLICT, "change %s is %s and cannot be withdrawn", id,
				  str_of(row, "state"));
		goto cleanup;
	}
	/* its proposer, or any admin/iam person */
	if (strcmp(str_of(row, "proposed_by"), actor->id) != 0 &&
	    (rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "withdrawing a change")))
		goto cleanup;
	if ((rc = gh_changes_decide(g->store, id, "withdrawn", actor->id, gh_now(), reason)) ||
	    (rc = gov_audit_take(g, actor->id, "change.withdrawn", "change", id,
				 json_pack("{s:s, s:s, s:s, s:s}", "object_type",
					   str_of(row, "object_type"), "object_id",
					   str_of(row, "object_id"), "operation",
					   str_of(row, "operation"), "reason", reason))))
		goto cleanup;
	json_decref(row);
	row = NULL;
	if (!(rc = gh_changes_get(&row, g->store, id)) && !(*out = change_json(row)))
		rc = nomem();
cleanup:
	json_decref(row);
	return rc;
}

int gh_gov_change_withdraw(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			   const json_t *in)
{
	const char *reason = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (gh_jv_object(in, withdraw_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	gh_jv_string(in, "reason", 1, CHANGE_COMMENT_MAX, &reason);
	if (reason && !*reason)
		gh_error_field("reason", "must not be empty");
	if ((rc = gh_error_fields_finish()) || (rc = gh_store_begin(g->store)))
		return rc;
	rc = gov_finish(g, withdraw_locked(out, g, actor, id ? id : "", reason));
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* --- reads --------------------------------------------------------------------------- */

int gh_gov_change_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	json_t *row = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, CHANGE_READERS, "reading proposed changes")))
		return rc;
	gh_store_read_begin(g->store);
	rc = gh_changes_get(&row, g->store, id ? id : "");
	gh_store_read_end(g->store);
	if (!rc && !(*out = change_json(row)))
		rc = nomem();
	json_decref(row);
	return rc;
}

int gh_gov_change_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		       const char *state, const char *object)
{
	json_t *rows = NULL, *items = NULL, *row;
	int limit = page && page->limit > 0 ? page->limit : 50, rc;
	size_t i;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, CHANGE_READERS, "reading proposed changes")))
		return rc;
	if (limit > 500)
		limit = 500;
	if (state)
		gov_check_enum("state", gov_change_states, state);
	if (object && (!*object || strlen(object) >= GH_ID_LEN))
		gh_error_field("object", "must be an object id");
	if ((rc = gh_error_fields_finish()))
		return rc;
	gh_store_read_begin(g->store);
	rc = gh_changes_list(&rows, g->store, state, object, page ? page->after : NULL, limit);
	gh_store_read_end(g->store);
	if (rc)
		return rc;
	if (!(items = json_array())) {
		rc = nomem();
		goto cleanup;
	}
	json_array_foreach(rows, i, row) {
		if ((int)i == limit)
			break;
		if (json_array_append_new(items, change_json(row))) {
			rc = nomem();
			goto cleanup;
		}
	}
	/* gov_list_result names a next page only when it is full: one more row says so */
	*out = json_pack("{s:O, s:o}", "items", items, "next",
			 json_array_size(rows) > (size_t)limit
				 ? json_string(str_of(json_array_get(rows, limit - 1), "id"))
				 : json_null());
	rc = *out ? 0 : nomem();
cleanup:
	json_decref(rows);
	json_decref(items);
	return rc;
}

/* --- who changed an entitlement's controls -------------------------------------------- */

int gov_controls_hold(gh_gov *g, gh_decision *d, const char *ent_id, const char *requester,
		      const char *subject, const char *owner, const char *submitter)
{
	const char *const who[] = {requester, subject, owner, submitter};
	static const char *const roles[] = {"requester", "subject", "subject's owner", "submitter"};
	json_t *ids = NULL, *v;
	size_t i;
	int rc, hit = -1;

	if (strcmp(d->outcome, "auto_approved") != 0)
		return 0;
	if ((rc = gh_changes_controls_get(&ids, g->store, ent_id)))
		return rc;
	for (int k = 0; k < 4 && hit < 0; k++)
		json_array_foreach(ids, i, v)
			if (who[k] && *who[k] && same_str(json_string_value(v), who[k]))
				hit = k;
	json_decref(ids);
	if (hit < 0)
		return 0;
	/* nobody is granted without a human approval what they made easier to get */
	snprintf(d->controls_hold, sizeof(d->controls_hold),
		 "the %s (%s) last changed this entitlement's controls: at least one human"
		 " approval is required", roles[hit], who[hit]);
	snprintf(d->outcome, sizeof(d->outcome), "approval_required");
	if (d->required_approvals < 1)
		d->required_approvals = 1;
	if (!d->reasons && !(d->reasons = json_array()))
		return nomem();
	return json_array_append_new(d->reasons, json_string(d->controls_hold)) ? nomem() : 0;
}
