/* delegation.c - delegated administration: a control-owner group lends approval
 * of a bounded part of its catalog (a system, or a tag) to another group, until
 * an expiry; created, revoked and consulted by the approval invariants. */
#include "gov/gov_internal.h"
#include "store/catalog.h"
#include "store/delegations.h"

#include <string.h>

#define DLG_MAX_SECONDS (90 * 86400)   /* a delegation lasts at most 90 days */
#define DLG_COVERING_MAX 16            /* live delegations looked at per entitlement */

#define READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER | GH_ROLE_AUDITOR)
#define WRITERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER)

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

static int delegation_load(json_t **out, gh_gov *g, const char *id)
{
	int rc = gh_store_delegation_get(out, g->store, id, gh_now());

	if (!rc && !*out)
		rc = gh_error_set(GH_ENOTFOUND, "delegation %s not found", id);
	return rc;
}

int gov_delegation_covering(gh_gov *g, char out[GH_ID_LEN], const char *ent_id,
			    const char *identity_id, int64_t now)
{
	json_t *found, *d;
	size_t i;
	int rc;

	out[0] = '\0';
	/* only the entitlement's own control owner lends authority over it, so a
	 * delegation received cannot be passed on (the store looks only there) */
	if ((rc = gh_store_delegations_covering(&found, g->store, ent_id, now, DLG_COVERING_MAX)))
		return rc;
	json_array_foreach(found, i, d) {
		const char *to = json_string_value(json_object_get(d, "to_group"));

		if ((rc = gh_gov_group_contains(g, to, identity_id)) < 0)
			break;
		if (rc == 1) {
			snprintf(out, GH_ID_LEN, "%s", json_string_value(json_object_get(d, "id")));
			break;
		}
	}
	json_decref(found);
	return rc;
}

/* --- create ----------------------------------------------------------------- */

typedef struct dlg_intake {
	const char *from, *to, *system, *tag, *reason;
	char from_id[GH_ID_LEN], to_id[GH_ID_LEN], system_id[GH_ID_LEN];
	int64_t expires_at;
} dlg_intake;

/* Reads and resolves the body, recording every problem as a field error. */
static int dlg_read(dlg_intake *in, gh_gov *g, const json_t *body, int64_t now)
{
	static const char *const allowed[] = {"from_group", "to_group", "system", "tag",
					      "expires_at", "expires_in", "reason", NULL};
	int64_t at = 0, in_s = 0;
	int has_at, has_in, rc;
	const char *expiry_field;

	memset(in, 0, sizeof(*in));
	if (gh_jv_object(body, allowed) < 0 && !json_is_object(body))
		return 0;
	if (gov_jv_field(body, "from_group", GH_GOV_FIELD_REF, 1, &in->from) > 0 &&
	    (rc = gov_resolve_field(g, "groups", "from_group", in->from, in->from_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->from = NULL;
	}
	if (gov_jv_field(body, "to_group", GH_GOV_FIELD_REF, 1, &in->to) > 0 &&
	    (rc = gov_resolve_field(g, "groups", "to_group", in->to, in->to_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->to = NULL;
	}
	if (in->from && in->to && strcmp(in->from_id, in->to_id) == 0)
		gh_error_field("to_group", "must differ from from_group");
	gov_jv_field(body, "system", GH_GOV_FIELD_REF, 0, &in->system);
	gov_jv_field(body, "tag", GH_GOV_FIELD_TAG, 0, &in->tag);
	if (json_object_get(body, "system") && json_object_get(body, "tag"))
		gh_error_field("tag", "give system or tag, not both");
	else if (!json_object_get(body, "system") && !json_object_get(body, "tag"))
		gh_error_field("system", "a scope is required: system or tag");
	if (in->system && (rc = gov_resolve_field(g, "systems", "system", in->system,
						  in->system_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->system = NULL;
	}
	has_at = gh_jv_time(body, "expires_at", 0, &at);
	has_in = gh_jv_duration(body, "expires_in", 0, &in_s);
	expiry_field = json_object_get(body, "expires_in") ? "expires_in" : "expires_at";
	if (json_object_get(body, "expires_at") && json_object_get(body, "expires_in")) {
		gh_error_field("expires_in", "give expires_at or expires_in, not both");
	} else if (!json_object_get(body, "expires_at") && !json_object_get(body, "expires_in")) {
		gh_error_field("expires_at", "an expiry is required: expires_at or expires_in");
	} else if (has_at > 0 || has_in > 0) {
		in->expires_at = has_at > 0 ? at : now + in_s;
		if (in->expires_at <= now)
			gh_error_field(expiry_field, "must be in the future");
		else if (in->expires_at - now > DLG_MAX_SECONDS)
			gh_error_field(expiry_field, "a delegation lasts at most 90 days");
	}
	gov_jv_field(body, "reason", GH_GOV_FIELD_REASON, 1, &in->reason);
	return 0;
}

/* How many entitlements in the scope from_group controls. */
static int controlled_in_scope(gh_gov *g, const dlg_intake *in, int *count)
{
	return gh_store_entitlement_count_controlled(count, g->store, in->from_id,
						     in->system ? in->system_id : NULL,
						     in->system ? NULL : in->tag);
}

/* Asks the decider "delegate"; GH_EDENIED "policy_permits_delegate: ..." when denied. */
static int check_policy_delegate(gh_gov *g, const gh_actor *actor, const dlg_intake *in,
				 int64_t now)
{
	gh_decision d = {0};
	json_t *facts, *who = NULL;
	char why[768];
	int rc;

	if ((rc = gov_identity_facts(&who, g, actor->id)))
		return rc;
	facts = json_pack("{s:o, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:I}}", "actor", who,
			  "group", "id", in->from_id, "name", in->from,
			  "delegation", "to_group", in->to_id,
			  "scope_type", in->system ? "system" : "tag",
			  "scope", in->system ? in->system_id : in->tag,
			  "duration_seconds", (json_int_t)(in->expires_at - now));
	if (!facts)
		return nomem("building delegation facts");
	rc = gov_decider_ask(g, &d, "delegate", facts);
	json_decref(facts);
	if (rc == 0) {
		gov_reasons_text(why, sizeof(why), d.reasons);
		rc = gh_error_set(GH_EDENIED, "policy_permits_delegate: %s", why);
	} else if (rc == 1) {
		rc = 0;
	}
	gh_decision_clear(&d);
	return rc;
}

static int create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *body)
{
	dlg_intake in;
	char id[GH_ID_LEN], when[40];
	int64_t now = gh_now();
	json_t *details, *row;
	int rc, count;

	if ((rc = dlg_read(&in, g, body, now)) || (rc = gh_error_fields_finish()))
		return rc;
	if (!(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM))) {
		if ((rc = gh_gov_group_contains(g, in.from_id, actor->id)) < 0)
			return rc;
		if (rc == 0)
		{
			char name[128];

			return gh_error_set(GH_EFORBIDDEN, "an approver delegates only for a group it "
					    "belongs to; %s is not a member of %s",
					    gov_name_of(g, actor->id, name, sizeof(name)), in.from);
		}
	}
	if ((rc = controlled_in_scope(g, &in, &count)))
		return rc;
	if (count == 0)
		return gh_error_set(GH_EDENIED, "bounded_scope: group %s is the control-owner group "
				    "of no entitlement in this scope; only a control owner delegates, "
				    "and delegated authority cannot be delegated again", in.from);
	if ((rc = check_policy_delegate(g, actor, &in, now)))
		return rc;

	gh_id_new(id, sizeof(id), "dlg");
	if (!(row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "id", id,
			      "from_group", in.from_id, "to_group", in.to_id,
			      "scope_type", in.system ? "system" : "tag",
			      "scope", in.system ? in.system_id : in.tag, "reason", in.reason,
			      "expires_at", (json_int_t)in.expires_at, "created_by", actor->id,
			      "created_at", (json_int_t)now)))
		return nomem("creating a delegation");
	rc = gh_store_delegation_insert(g->store, row);
	json_decref(row);
	if (rc)
		return rc;
	gh_time_format(when, sizeof(when), in.expires_at);
	details = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "from_group", in.from_id,
			    "to_group", in.to_id, "scope_type", in.system ? "system" : "tag",
			    "scope", in.system ? in.system_id : in.tag, "expires_at", when,
			    "reason", in.reason);
	if (!details)
		return nomem("auditing a delegation");
	rc = gh_audit_append(NULL, g->store, actor->id, "delegation.created", "delegation", id,
			     details);
	json_decref(details);
	return rc ? rc : delegation_load(out, g, id);
}

int gh_gov_delegation_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, WRITERS, "delegating approval")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	rc = gov_finish(g, create_locked(out, g, actor, in));
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* --- read ------------------------------------------------------------------- */

int gh_gov_delegation_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, READERS, "reading delegations")))
		return rc;
	gh_store_read_begin(g->store);
	rc = delegation_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_delegation_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			   const char *from_group, const char *to_group, const char *status)
{
	char from_id[GH_ID_LEN], to_id[GH_ID_LEN];
	json_t *items = NULL;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, READERS, "reading delegations")))
		return rc;
	if (status)
		gov_check_enum("status", gov_delegation_statuses, status);
	gh_store_read_begin(g->store);
	if (from_group && (rc = gov_resolve_field(g, "groups", "from_group", from_group,
						  from_id)) && rc != GH_EINVALID)
		goto cleanup;
	if (to_group && (rc = gov_resolve_field(g, "groups", "to_group", to_group, to_id)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "delegations", page, &limit, &after)) ||
	    (rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_store_delegation_page(&items, g->store, from_group ? from_id : NULL,
					   to_group ? to_id : NULL, status, after, limit,
					   gh_now())))
		goto cleanup;
	*out = gov_list_result(items, limit);
	items = NULL;
	rc = *out ? 0 : nomem("listing delegations");
cleanup:
	json_decref(items);
	gh_store_read_end(g->store);
	return rc;
}

/* --- revoke ----------------------------------------------------------------- */

static int revoke_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			 const char *reason)
{
	char from[GH_ID_LEN] = "";
	int64_t now = gh_now(), expires;
	json_t *details, *cur;
	int rc, revoked;

	if ((rc = gh_store_delegation_state(&cur, g->store, id)))
		return rc;
	if (!cur)
		return gh_error_set(GH_ENOTFOUND, "delegation %s not found", id);
	snprintf(from, sizeof(from), "%s", json_string_value(json_object_get(cur, "from_group")));
	revoked = json_is_true(json_object_get(cur, "revoked"));
	expires = (int64_t)json_integer_value(json_object_get(cur, "expires_at"));
	json_decref(cur);
	if (!(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM))) {
		if ((rc = gh_gov_group_contains(g, from, actor->id)) < 0)
			return rc;
		if (rc == 0)
			return gh_error_set(GH_EFORBIDDEN, "only admin, iam or a member of the "
					    "delegating group may revoke a delegation");
	}
	if (revoked || expires <= now)
		return gh_error_set(GH_ECONFLICT, "delegation %s is %s; only an active delegation "
				    "can be revoked", id, revoked ? "revoked" : "expired");
	if ((rc = gh_store_delegation_revoke(g->store, id, now, actor->id, reason)))
		return rc;
	if (!(details = json_pack("{s:s, s:s}", "reason", reason, "from_group", from)))
		return nomem("auditing a delegation");
	rc = gh_audit_append(NULL, g->store, actor->id, "delegation.revoked", "delegation", id,
			     details);
	json_decref(details);
	return rc ? rc : delegation_load(out, g, id);
}

int gh_gov_delegation_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			     const json_t *in)
{
	static const char *const allowed[] = {"reason", NULL};
	const char *reason = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, WRITERS, "revoking a delegation")))
		return rc;
	if (gh_jv_object(in, allowed) >= 0 || json_is_object(in))
		gh_jv_string(in, "reason", 1, 1000, &reason);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	rc = gov_finish(g, revoke_locked(out, g, actor, id, reason));
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
