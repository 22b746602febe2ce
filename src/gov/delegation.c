/* delegation.c - delegated administration: a control-owner group lends approval
 * of a bounded part of its catalog (a system, or a tag) to another group, until
 * an expiry; created, revoked and consulted by the approval invariants. */
#include "gov/gov_internal.h"

#include <stdlib.h>
#include <string.h>

#define DLG_MAX_SECONDS (90 * 86400)   /* a delegation lasts at most 90 days */

/* status at ?9 (now) */
#define DLG_STATUS                                                                          \
	"(CASE WHEN d.revoked_at IS NOT NULL THEN 'revoked' WHEN d.expires_at <= ?9"          \
	" THEN 'expired' ELSE 'active' END)"
#define DLG_COLS                                                                            \
	"d.id, d.from_group_id, fg.name, d.to_group_id, tg.name, d.scope_type, d.scope,"      \
	" (SELECT name FROM systems WHERE id = d.scope), d.reason, d.expires_at, " DLG_STATUS \
	", d.created_by, d.created_at, d.revoked_at, d.revoked_by, d.revoke_reason"
#define DLG_FROM                                                                            \
	" FROM delegations d JOIN groups fg ON fg.id = d.from_group_id"                       \
	" JOIN groups tg ON tg.id = d.to_group_id"


#define READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER | GH_ROLE_AUDITOR)
#define WRITERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER)

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

/* One delegation in its API shape from a row of DLG_COLS. */
static json_t *delegation_json(sqlite3_stmt *st)
{
	json_t *scope;

	if (strcmp((const char *)sqlite3_column_text(st, 5), "system") == 0)
		scope = json_pack("{s:s, s:o, s:o}", "type", "system", "id", gov_text_column(st, 6),
				  "name", gov_text_column(st, 7));
	else
		scope = json_pack("{s:s, s:o}", "type", "tag", "tag", gov_text_column(st, 6));
	if (!scope)
		return NULL;
	return json_pack("{s:o, s:{s:o, s:o}, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o}",
			 "id", gov_text_column(st, 0),
			 "from_group", "id", gov_text_column(st, 1), "name", gov_text_column(st, 2),
			 "to_group", "id", gov_text_column(st, 3), "name", gov_text_column(st, 4),
			 "scope", scope, "reason", gov_text_column(st, 8),
			 "expires_at", gov_time_column(st, 9), "status", gov_text_column(st, 10),
			 "created_by", gov_text_column(st, 11), "created_at", gov_time_column(st, 12),
			 "revoked_at", gov_time_column(st, 13), "revoked_by", gov_text_column(st, 14),
			 "revoke_reason", gov_text_column(st, 15));
}

static int delegation_load(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT " DLG_COLS DLG_FROM " WHERE d.id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, gh_now());
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = (*out = delegation_json(st)) ? 0 : nomem("loading a delegation");
	else if (rc == SQLITE_DONE)
		rc = gh_error_set(GH_ENOTFOUND, "delegation %s not found", id);
	else
		rc = gh_store_fail(g->store, "loading a delegation");
	sqlite3_reset(st);
	return rc;
}

int gov_delegation_covering(gh_gov *g, char out[GH_ID_LEN], const char *ent_id,
			    const char *identity_id, int64_t now)
{
	char ids[16][GH_ID_LEN], groups[16][GH_ID_LEN];
	sqlite3_stmt *st;
	int rc, n = 0;

	out[0] = '\0';
	/* only the entitlement's own control owner lends authority over it, so a
	 * delegation received cannot be passed on */
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT d.id, d.to_group_id FROM entitlements e JOIN delegations d"
				" ON d.from_group_id = e.control_owner_group_id"
				" AND d.revoked_at IS NULL AND d.expires_at > ?2"
				" WHERE e.id = ?1 AND ((d.scope_type = 'system' AND d.scope = e.system_id)"
				"  OR (d.scope_type = 'tag' AND EXISTS (SELECT 1 FROM json_each(e.tags)"
				"   WHERE value = d.scope)))"
				" ORDER BY d.pk LIMIT 16")))
		return rc;
	sqlite3_bind_text(st, 1, ent_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 16) {
		snprintf(ids[n], GH_ID_LEN, "%s", sqlite3_column_text(st, 0));
		snprintf(groups[n], GH_ID_LEN, "%s", sqlite3_column_text(st, 1));
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gh_store_fail(g->store, "looking for delegations");
	for (int i = 0; i < n; i++) {
		if ((rc = gh_gov_group_contains(g, groups[i], identity_id)) < 0)
			return rc;
		if (rc == 1) {
			memcpy(out, ids[i], GH_ID_LEN);
			return 1;
		}
	}
	return 0;
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
	if (gh_jv_string(body, "from_group", 1, 256, &in->from) > 0 &&
	    (rc = gov_resolve_field(g, "groups", "from_group", in->from, in->from_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->from = NULL;
	}
	if (gh_jv_string(body, "to_group", 1, 256, &in->to) > 0 &&
	    (rc = gov_resolve_field(g, "groups", "to_group", in->to, in->to_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->to = NULL;
	}
	if (in->from && in->to && strcmp(in->from_id, in->to_id) == 0)
		gh_error_field("to_group", "must differ from from_group");
	gh_jv_string(body, "system", 0, 256, &in->system);
	gh_jv_string(body, "tag", 0, 64, &in->tag);
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
	if (in->tag && !gov_tag_valid(in->tag))
		gh_error_field("tag", "must be 1 to 64 of a-z, 0-9, '.', '_', '-'");
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
	gh_jv_string(body, "reason", 1, 1000, &in->reason);
	return 0;
}

/* How many entitlements in the scope from_group controls. */
static int controlled_in_scope(gh_gov *g, const dlg_intake *in, int *count)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT count(*) FROM entitlements e WHERE e.control_owner_group_id = ?1"
				" AND ((?2 IS NOT NULL AND e.system_id = ?2) OR (?3 IS NOT NULL AND"
				"  EXISTS (SELECT 1 FROM json_each(e.tags) WHERE value = ?3)))")))
		return rc;
	sqlite3_bind_text(st, 1, in->from_id, -1, SQLITE_STATIC);
	if (in->system)
		sqlite3_bind_text(st, 2, in->system_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, 3, in->tag, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : gh_store_fail(g->store, "checking a delegation's scope");
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
	sqlite3_stmt *st;
	json_t *details;
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
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO delegations(id, from_group_id, to_group_id, scope_type,"
				" scope, reason, expires_at, created_by, created_at)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in.from_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in.to_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, in.system ? "system" : "tag", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, in.system ? in.system_id : in.tag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, in.reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, in.expires_at);
	sqlite3_bind_text(st, 8, actor->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, now);
	if ((rc = gov_step_done(g, st, "creating a delegation")))
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
	json_t *items = NULL, *item;
	sqlite3_stmt *st;
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
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT " DLG_COLS DLG_FROM
				" WHERE d.pk > ?1 AND (?2 IS NULL OR d.from_group_id = ?2)"
				" AND (?3 IS NULL OR d.to_group_id = ?3)"
				" AND (?4 IS NULL OR " DLG_STATUS " = ?4) ORDER BY d.pk LIMIT ?5")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, after);
	if (from_group)
		sqlite3_bind_text(st, 2, from_id, -1, SQLITE_STATIC);
	if (to_group)
		sqlite3_bind_text(st, 3, to_id, -1, SQLITE_STATIC);
	if (status)
		sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, limit);
	sqlite3_bind_int64(st, 9, gh_now());
	if (!(items = json_array())) {
		sqlite3_reset(st);
		rc = nomem("listing delegations");
		goto cleanup;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(item = delegation_json(st)) || json_array_append_new(items, item)) {
			sqlite3_reset(st);
			rc = nomem("listing delegations");
			goto cleanup;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "listing delegations");
		goto cleanup;
	}
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
	int64_t now = gh_now(), revoked = 0, expires = 0;
	sqlite3_stmt *st;
	json_t *details;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT from_group_id, revoked_at IS NOT NULL, expires_at"
				" FROM delegations WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(from, sizeof(from), "%s", sqlite3_column_text(st, 0));
		revoked = sqlite3_column_int(st, 1);
		expires = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gh_error_set(GH_ENOTFOUND, "delegation %s not found", id);
	if (rc != SQLITE_ROW)
		return gh_store_fail(g->store, "loading a delegation");
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
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE delegations SET revoked_at = ?2, revoked_by = ?3,"
				" revoke_reason = ?4 WHERE id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, actor->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "revoking a delegation")))
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
