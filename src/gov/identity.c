/* identity.c - identities (humans and NHIs): create, read, update and their lifecycle. */
#include "gov/gov_internal.h"
#include "store/identities.h"
#include "store/tokens.h"

#include <stdlib.h>
#include <string.h>

/* Why Gatehouse itself suspended an NHI (identities.status_reason). */
#define REASON_EXPIRED "expired"
#define REASON_ORPHANED "orphaned"

int gov_check_owner(gh_gov *g, const char *field, const char *ref, char out[GH_ID_LEN])
{
	gh_store_identity_brief b;
	int rc;

	if ((rc = gov_resolve_field(g, "identities", field, ref, out)) ||
	    (rc = gh_store_identity_brief_get(&b, g->store, out)))
		return rc;
	if (strcmp(b.kind, "human") != 0) {
		gh_error_field(field, "must be a human identity; %s is a %s", ref, b.kind);
		return GH_EINVALID;
	}
	if (strcmp(b.status, "active") != 0) {
		gh_error_field(field, "must be an active identity; %s is %s", ref, b.status);
		return GH_EINVALID;
	}
	return 0;
}

/* --- rows ------------------------------------------------------------------ */

int gov_identity_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_store_identity_get(out, g->store, id);
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int is_null_field(const json_t *in, const char *key)
{
	json_t *v = json_object_get(in, key);

	return v && json_is_null(v);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static unsigned roles_bits(const json_t *arr)
{
	unsigned bits = 0;
	json_t *item;
	size_t i;

	json_array_foreach(arr, i, item)
		if (json_is_string(item))
			bits |= gh_role_parse(json_string_value(item));
	return bits;
}

/* roles: role names; an NHI may hold only "requester". */
static int roles_parse(const json_t *in, const char *kind, unsigned *out)
{
	json_t *arr, *item;
	size_t i;
	int rc = gh_jv_string_array(in, "roles", 0, 16, 32, &arr);

	if (rc <= 0)
		return rc;
	*out = 0;
	json_array_foreach(arr, i, item) {
		unsigned bit = gh_role_parse(json_string_value(item));
		if (!bit) {
			gh_error_field("roles", "unknown role %s; roles are admin, iam, approver, "
				       "servicedesk, auditor and requester", json_string_value(item));
			return -1;
		}
		if (kind && strcmp(kind, "human") != 0 && bit != GH_ROLE_REQUESTER) {
			gh_error_field("roles", "a %s may hold only the requester role", kind);
			return -1;
		}
		*out |= bit;
	}
	return 1;
}

static int email_parse(const json_t *in, const char **out)
{
	const char *s, *at;
	int rc = gh_jv_string(in, "email", 0, 254, &s);

	if (rc <= 0)
		return rc;
	at = strchr(s, '@');
	if (!at || at == s || !at[1] || strchr(at + 1, '@') || strpbrk(s, " \t\n")) {
		gh_error_field("email", "must be an address such as alice@example.com");
		return -1;
	}
	*out = s;
	return 1;
}

/* An NHI's required field: "is required for a service_account" names the kind. */
static int nhi_required(const json_t *in, const char *key, const char *kind)
{
	json_t *v = json_object_get(in, key);

	if (v && !json_is_null(v))
		return 1;
	gh_error_field(key, "is required for a %s", kind);
	return 0;
}

/* An NHI's expires_at at most the maximum lifetime ahead of now; otherwise
 * a field error naming the limit. */
static int check_lifetime(gh_gov *g, const char *field, int64_t expires, int64_t now)
{
	char max[32];

	if (expires <= now + g->opts.nhi_max_lifetime)
		return 0;
	gh_duration_format(max, sizeof(max), g->opts.nhi_max_lifetime);
	gh_error_field(field, "must be at most %s from now (the maximum lifetime of a "
		       "non-human identity); renew it later instead", max);
	return GH_EINVALID;
}

/* --- who may change roles and status (docs/api.md, Roles) ------------------ */

/* Roles only an admin grants or removes: they manage identities and roles. */
#define PRIVILEGED_ROLES (GH_ROLE_ADMIN | GH_ROLE_IAM)

/* Identities other than id holding admin that can still sign in: active and
 * not expired. Inside a transaction. */
static int count_other_admins(gh_gov *g, const char *id, int64_t *out)
{
	return gh_store_identity_count_admins(out, g->store, id, gh_now());
}

/* GH_ECONFLICT when taking admin away from id (how) would leave no admin who
 * can sign in: the installation must never lock itself out. */
static int check_not_last_admin(gh_gov *g, const char *id, const char *name, const char *how)
{
	int64_t others;
	int rc;

	if ((rc = count_other_admins(g, id, &others)))
		return rc;
	if (others > 0)
		return 0;
	return gh_error_set(GH_ECONFLICT, "%s is the last active admin; %s would leave nobody "
			    "to administer Gatehouse; make another identity admin first", name, how);
}

/* A change of id's roles from -> to by actor: nobody changes their own roles,
 * only an admin grants or removes admin or iam, and the last admin stays one. */
static int check_roles_change(gh_gov *g, const gh_actor *actor, const char *id,
			      const char *name, const char *status, unsigned from, unsigned to)
{
	unsigned delta = from ^ to;

	if (!delta)
		return 0;
	if (strcmp(actor->id, id) == 0)
		return gh_error_set(GH_EFORBIDDEN, "nobody changes their own roles; another admin "
				    "or iam must");
	if ((delta & PRIVILEGED_ROLES) && !(actor->roles & GH_ROLE_ADMIN))
		return gh_error_set(GH_EFORBIDDEN, "%s the %s role needs the role admin",
				    (to & delta & PRIVILEGED_ROLES) ? "granting" : "removing",
				    (delta & GH_ROLE_ADMIN) ? "admin" : "iam");
	if ((from & GH_ROLE_ADMIN) && !(to & GH_ROLE_ADMIN) && strcmp(status, "active") == 0)
		return check_not_last_admin(g, id, name, "removing its admin role");
	return 0;
}

/* --- create ---------------------------------------------------------------- */

static const char *const create_fields[] = {"kind", "name", "display_name", "email", "owner",
					    "purpose", "environment", "expires_at", "roles",
					    "attributes", NULL};

static int create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	const char *kind = NULL, *name = NULL, *display = NULL, *email = NULL, *owner_ref = NULL;
	const char *purpose = NULL, *env = NULL;
	char owner[GH_ID_LEN] = "", id[GH_ID_LEN];
	json_t *attrs = NULL, *details = NULL, *row = NULL;
	int64_t expires = 0, now = gh_now();
	unsigned roles = 0;
	int nhi, has_exp, rc;

	if (gh_jv_object(in, create_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	gh_jv_enum(in, "kind", 1, gov_identity_kinds, &kind);
	nhi = kind && strcmp(kind, "human") != 0;
	gov_jv_field(in, "name", GH_GOV_FIELD_NAME, 1, &name);
	gh_jv_string(in, "display_name", 0, 200, &display);
	email_parse(in, &email);
	if (!nhi || nhi_required(in, "owner", kind)) {
		if (gh_jv_string(in, "owner", 0, 256, &owner_ref) > 0) {
			if (kind && !nhi)
				gh_error_field("owner", "only a non-human identity has an owner");
			else if ((rc = gov_check_owner(g, "owner", owner_ref, owner)) &&
				 rc != GH_EINVALID)
				return rc;
		}
	}
	if ((!nhi || nhi_required(in, "purpose", kind)) &&
	    gh_jv_string(in, "purpose", 0, 500, &purpose) > 0 && nhi && !*purpose)
		gh_error_field("purpose", "must not be empty");
	if (!nhi || nhi_required(in, "environment", kind))
		gov_jv_field(in, "environment", GH_GOV_FIELD_ENVIRONMENT, 0, &env);
	has_exp = (!nhi || nhi_required(in, "expires_at", kind)) ?
		  gh_jv_time(in, "expires_at", 0, &expires) : 0;
	if (has_exp > 0 && expires <= now)
		gh_error_field("expires_at", "must be in the future");
	else if (has_exp > 0 && nhi)
		check_lifetime(g, "expires_at", expires, now);
	roles_parse(in, kind, &roles);
	gh_jv_object_field(in, "attributes", 0, &attrs);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((roles & PRIVILEGED_ROLES) && !(actor->roles & GH_ROLE_ADMIN))
		return gh_error_set(GH_EFORBIDDEN, "granting the %s role needs the role admin",
				    (roles & GH_ROLE_ADMIN) ? "admin" : "iam");

	if ((rc = gh_store_identity_name_taken(g->store, name)) < 0)
		return rc;
	if (rc > 0) {
		gh_error_set(GH_ECONFLICT, "name: an identity named %s already exists", name);
		gh_error_field("name", "an identity named %s already exists", name);
		return GH_ECONFLICT;
	}

	gh_id_new(id, sizeof(id), "idn");
	row = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:I}",
			"id", id, "kind", kind, "name", name, "display_name", display,
			"email", email, "owner", owner[0] ? owner : NULL, "purpose", purpose,
			"environment", env,
			"expires_at", has_exp > 0 ? json_integer((json_int_t)expires) : json_null(),
			"roles", gh_roles_json(roles),
			"attributes", attrs ? json_incref(attrs) : json_object(), "created_at", (json_int_t)now);
	if (!row) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_identity_insert(g->store, row)))
		goto cleanup;

	details = json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "kind", kind, "name", name,
			    "owner", owner[0] ? owner : NULL, "environment", env,
			    "roles", gh_roles_json(roles));
	if (!details) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_audit_append(NULL, g->store, actor->id, "identity.created", "identity", id,
				  details)))
		goto cleanup;
	if (has_exp > 0)
		gov_sched_poke(g, expires);
	rc = gov_identity_load(out, g, id);
cleanup:
	json_decref(details);
	json_decref(row);
	return rc;
}

int gh_gov_identity_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "creating an identity")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_auth(g, create_locked(out, g, actor, in), out);
}

/* --- read ------------------------------------------------------------------ */

int gh_gov_identity_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	char id[GH_ID_LEN];
	int rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = gov_resolve(g, "identities", ref, id)))
		rc = gov_identity_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_identity_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			 const char *kind, const char *status, const char *owner)
{
	return gh_gov_identity_list_orphaned(out, g, actor, page, kind, status, owner, NULL);
}

int gh_gov_identity_list_orphaned(json_t **out, gh_gov *g, const gh_actor *actor,
				  const gh_page *page, const char *kind, const char *status,
				  const char *owner, const char *orphaned)
{
	static const char *const booleans[] = {"true", "false", NULL};
	char owner_id[GH_ID_LEN];
	json_t *items = NULL;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	if (kind)
		gov_check_enum("kind", gov_identity_kinds, kind);
	if (status)
		gov_check_enum("status", gov_identity_statuses, status);
	if (orphaned)
		gov_check_enum("orphaned", booleans, orphaned);
	gh_store_read_begin(g->store);
	if (owner && (rc = gov_resolve_field(g, "identities", "owner", owner, owner_id)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "identities", page, &limit, &after)) ||
	    (rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_store_identity_list(&items, g->store, after, limit, kind, status,
					 owner ? owner_id : NULL,
					 orphaned ? strcmp(orphaned, "true") == 0 : -1)))
		goto cleanup;
	*out = gov_list_result(items, limit);
	items = NULL;
	if (!*out)
		rc = gh_error_set(GH_ERROR, "out of memory");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}

/* --- orphans (an NHI whose owner is no longer active) ----------------------- */

/* Sets (at > 0) or clears (at 0) the orphaned_at of NHI id and audits
 * identity.orphaned or identity.orphan_cleared with the owner and why. */
static int orphan_mark(gh_gov *g, const char *actor_id, const char *id, const char *owner,
		       const char *why, int64_t at)
{
	int rc;

	/* updated_at stays: the NHI itself did not change, its owner did */
	if ((rc = gh_store_identity_set_orphaned(g->store, id, at)))
		return rc;
	if (at > 0)
		gov_sched_poke(g, at + g->opts.orphan_grace);
	return gov_audit_take(g, actor_id, at > 0 ? "identity.orphaned" : "identity.orphan_cleared",
			      "identity", id, json_pack("{s:s?, s:s}", "owner", owner, "reason", why));
}

/* Every NHI owner_id owns that is still in use: orphaned now (orphan 1), or
 * no longer orphaned (orphan 0); *out_count receives how many changed. */
static int orphans_of(gh_gov *g, const char *actor_id, const char *owner_id, int orphan,
		      const char *why, int *out_count)
{
	json_t *ids = NULL, *item;
	int64_t now = gh_now();
	size_t i;
	int rc;

	*out_count = 0;
	/* orphan: those still in use and not yet orphaned; else the orphans */
	rc = gh_store_identity_owned(&ids, g->store, owner_id, !orphan);
	json_array_foreach(ids, i, item) {
		if (rc || (rc = orphan_mark(g, actor_id, json_string_value(item), owner_id, why,
					    orphan ? now : 0)))
			break;
		(*out_count)++;
	}
	json_decref(ids);
	return rc;
}

/* --- update ---------------------------------------------------------------- */

static const char *const update_fields[] = {"display_name", "email", "purpose", "expires_at",
					    "roles", "attributes", "owner", NULL};

/* The new state of an identity: strings borrowed from the current row or the body. */
typedef struct identity_next {
	const char *display_name, *email, *purpose, *owner;
	int has_expires;
	int64_t expires_at;
	unsigned roles;
	json_t *attributes;
} identity_next;

static void next_from_row(identity_next *n, const json_t *cur)
{
	const char *exp = str_of(cur, "expires_at");

	n->display_name = str_of(cur, "display_name");
	n->email = str_of(cur, "email");
	n->purpose = str_of(cur, "purpose");
	n->owner = str_of(cur, "owner");
	n->expires_at = 0;
	n->has_expires = exp && gh_time_parse(&n->expires_at, exp) == 0;
	n->roles = roles_bits(json_object_get(cur, "roles"));
	n->attributes = json_object_get(cur, "attributes");
}

/* Reads the body's changes into n; records every problem. owner receives a new owner's id. */
static int update_parse(identity_next *n, gh_gov *g, const json_t *in, const char *kind,
			char owner[GH_ID_LEN])
{
	int nhi = strcmp(kind, "human") != 0;
	const char *s;
	int64_t t;
	json_t *obj;
	unsigned roles;
	int rc;

	if (is_null_field(in, "display_name"))
		n->display_name = NULL;
	else if (gh_jv_string(in, "display_name", 0, 200, &s) > 0)
		n->display_name = s;
	if (is_null_field(in, "email"))
		n->email = NULL;
	else if (email_parse(in, &s) > 0)
		n->email = s;
	if (is_null_field(in, "purpose")) {
		if (nhi)
			gh_error_field("purpose", "cannot be cleared; a %s needs a purpose", kind);
		n->purpose = NULL;
	} else if (gh_jv_string(in, "purpose", 0, 500, &s) > 0) {
		if (nhi && !*s)
			gh_error_field("purpose", "must not be empty");
		n->purpose = s;
	}
	if (is_null_field(in, "expires_at")) {
		if (nhi)
			gh_error_field("expires_at", "cannot be cleared; a %s needs an expiry", kind);
		n->has_expires = 0;
		n->expires_at = 0;
	} else if (gh_jv_time(in, "expires_at", 0, &t) > 0) {
		if (t <= gh_now())
			gh_error_field("expires_at", "must be in the future");
		else if (nhi)
			check_lifetime(g, "expires_at", t, gh_now());
		n->has_expires = 1;
		n->expires_at = t;
	}
	if (is_null_field(in, "owner")) {
		if (nhi)
			gh_error_field("owner", "cannot be cleared; transfer ownership to another "
				       "active human instead");
	} else if (gh_jv_string(in, "owner", 0, 256, &s) > 0) {
		if (!nhi)
			gh_error_field("owner", "only a non-human identity has an owner");
		else if ((rc = gov_check_owner(g, "owner", s, owner)) && rc != GH_EINVALID)
			return rc;
		else if (!rc)
			n->owner = owner;
	}
	if (is_null_field(in, "roles"))
		gh_error_field("roles", "must be an array of role names; use [] for none");
	else if (roles_parse(in, kind, &roles) > 0)
		n->roles = roles;
	if (is_null_field(in, "attributes"))
		gh_error_field("attributes", "must be a JSON object; use {} for none");
	else if (gh_jv_object_field(in, "attributes", 0, &obj) > 0)
		n->attributes = obj;
	return gh_error_fields_finish();
}

static json_t *time_or_null(int has, int64_t t)
{
	char buf[40];

	if (!has)
		return json_null();
	gh_time_format(buf, sizeof(buf), t);
	return json_string(buf);
}

static int update_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			 const json_t *in)
{
	char id[GH_ID_LEN], owner[GH_ID_LEN] = "";
	json_t *cur = NULL, *changed = NULL, *details = NULL, *row = NULL;
	identity_next old, n;
	const char *kind;
	int rc;

	if ((rc = gov_resolve(g, "identities", ref, id)))
		return rc;
	if (gh_jv_object(in, update_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	if ((rc = gov_identity_load(&cur, g, id)))
		return rc;
	kind = str_of(cur, "kind");
	next_from_row(&old, cur);
	n = old;
	/* an iam could otherwise lock an admin out (expires_at) or edit what policy sees */
	if ((old.roles & GH_ROLE_ADMIN) && !(actor->roles & GH_ROLE_ADMIN)) {
		rc = gh_error_set(GH_EFORBIDDEN, "changing an admin's identity needs the role admin");
		goto cleanup;
	}
	if ((rc = update_parse(&n, g, in, kind, owner)) ||
	    (rc = check_roles_change(g, actor, id, str_of(cur, "name"), str_of(cur, "status"),
				     old.roles, n.roles)))
		goto cleanup;
	if (strcmp(str_of(cur, "status"), "decommissioned") == 0) {
		rc = gh_error_set(GH_ECONFLICT, "identity %s is decommissioned and can no longer "
				  "change", str_of(cur, "name"));
		goto cleanup;
	}

	if (!(changed = json_array())) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if (!same_str(old.display_name, n.display_name))
		json_array_append_new(changed, json_string("display_name"));
	if (!same_str(old.email, n.email))
		json_array_append_new(changed, json_string("email"));
	if (!same_str(old.purpose, n.purpose))
		json_array_append_new(changed, json_string("purpose"));
	if (old.has_expires != n.has_expires || (n.has_expires && old.expires_at != n.expires_at))
		json_array_append_new(changed, json_string("expires_at"));
	if (old.roles != n.roles)
		json_array_append_new(changed, json_string("roles"));
	if (!json_equal(old.attributes, n.attributes))
		json_array_append_new(changed, json_string("attributes"));
	if (json_array_size(changed) == 0 && same_str(old.owner, n.owner)) {
		*out = cur; /* nothing to change: no write, no event */
		cur = NULL;
		goto cleanup;
	}

	row = json_pack("{s:s?, s:s?, s:s?, s:o, s:s?, s:o, s:O, s:I}",
			"display_name", n.display_name, "email", n.email, "purpose", n.purpose,
			"expires_at", n.has_expires ? json_integer((json_int_t)n.expires_at)
						    : json_null(),
			"owner", n.owner, "roles", gh_roles_json(n.roles),
			"attributes", n.attributes, "updated_at", (json_int_t)gh_now());
	if (!row) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_identity_update(g->store, id, row)))
		goto cleanup;

	if (!same_str(old.owner, n.owner)) {
		details = json_pack("{s:s?, s:s?}", "from", old.owner, "to", n.owner);
		if (!details || (rc = gh_audit_append(NULL, g->store, actor->id,
						      "identity.owner_transferred", "identity", id,
						      details))) {
			rc = rc ? rc : gh_error_set(GH_ERROR, "out of memory");
			goto cleanup;
		}
		json_decref(details);
		details = NULL;
		/* the new owner is an active human (gov_check_owner): no longer orphaned */
		if (json_is_string(json_object_get(cur, "orphaned_at")) &&
		    (rc = orphan_mark(g, actor->id, id, n.owner, "owner transferred", 0)))
			goto cleanup;
	}
	if (json_array_size(changed) > 0) {
		details = json_pack("{s:O}", "changed", changed);
		if (details && old.roles != n.roles)
			json_object_set_new(details, "roles",
					    json_pack("{s:o, s:o}", "from", gh_roles_json(old.roles),
						      "to", gh_roles_json(n.roles)));
		/* expires_at is 0 when absent, so this is the same test as "changed" above */
		if (details && (old.has_expires != n.has_expires || old.expires_at != n.expires_at))
			json_object_set_new(details, "expires_at",
					    json_pack("{s:o, s:o}", "from",
						      time_or_null(old.has_expires, old.expires_at),
						      "to", time_or_null(n.has_expires, n.expires_at)));
		if (n.has_expires && old.expires_at != n.expires_at)
			gov_sched_poke(g, n.expires_at);
		if (!details) {
			rc = gh_error_set(GH_ERROR, "out of memory");
			goto cleanup;
		}
		if ((rc = gh_audit_append(NULL, g->store, actor->id, "identity.updated", "identity",
					  id, details)))
			goto cleanup;
	}
	rc = gov_identity_load(out, g, id);
cleanup:
	json_decref(cur);
	json_decref(changed);
	json_decref(details);
	json_decref(row);
	return rc;
}

const gov_change_op gov_op_identity_update = {"identity", "identity.update", "identities",
					      update_locked, gov_identity_load};

int gh_gov_identity_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			   const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "changing an identity")))
		return rc;
	/* another owner: four eyes (change.c) */
	return gov_change_write(out, g, actor, &gov_op_identity_update, ref, in);
}

/* --- lifecycle --------------------------------------------------------------- */

static const char *const status_fields[] = {"reason", NULL};

/* Counts the systems a human owns (a system always needs an owner). */
static int count_owned_systems(gh_gov *g, const char *id, int64_t *out)
{
	return gh_store_identity_systems_owned(out, g->store, id);
}

/* Revokes every active grant of the identity with reason text (gov_grant_end
 * audits each and ends them downstream). */
static int end_grants(gh_gov *g, const char *actor_id, const char *id, const char *text,
		      int *out_count)
{
	json_t *ids = NULL, *item;
	size_t i;
	int rc;

	*out_count = 0;
	/* collect first: ending a grant writes to the table being read */
	if ((rc = gh_store_identity_live_grants(&ids, g->store, id)))
		goto cleanup;
	json_array_foreach(ids, i, item) {
		if ((rc = gov_grant_end(g, actor_id, json_string_value(item), "revoked", text)))
			goto cleanup;
		(*out_count)++;
	}
cleanup:
	json_decref(ids);
	return rc;
}

static int revoke_grants(gh_gov *g, const gh_actor *actor, const char *id, const char *reason,
			 int *out_count)
{
	char text[600];

	snprintf(text, sizeof(text), "identity decommissioned: %s", reason);
	return end_grants(g, actor->id, id, text, out_count);
}

static int revoke_tokens(gh_gov *g, const char *id, int *out_count)
{
	return gh_store_tokens_revoke_identity(out_count, g->store, id, gh_now());
}

static int status_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			 const char *action, const json_t *in)
{
	char id[GH_ID_LEN], cur_status[32], kind[32];
	const char *reason = NULL, *to, *event;
	json_t *cur = NULL, *details = NULL;
	int grants = 0, tokens = 0, orphans = 0, admin, human, rc;

	if (!action || (strcmp(action, "suspend") != 0 && strcmp(action, "activate") != 0 &&
			strcmp(action, "decommission") != 0)) {
		gh_error_field("action", "must be suspend, activate or decommission");
		return gh_error_fields_finish();
	}
	if ((rc = gov_resolve(g, "identities", ref, id)))
		return rc;
	if (gh_jv_object(in, status_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	gh_jv_string(in, "reason", 1, 500, &reason);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gov_identity_load(&cur, g, id)))
		return rc;
	snprintf(cur_status, sizeof(cur_status), "%s", str_of(cur, "status"));
	snprintf(kind, sizeof(kind), "%s", str_of(cur, "kind"));
	human = strcmp(kind, "human") == 0;
	admin = (roles_bits(json_object_get(cur, "roles")) & GH_ROLE_ADMIN) != 0;

	if (strcmp(actor->id, id) == 0) {
		rc = gh_error_set(GH_EFORBIDDEN, "nobody suspends, activates or decommissions "
				  "themselves; another admin or iam must");
		goto cleanup;
	}
	if (admin && !(actor->roles & GH_ROLE_ADMIN)) {
		rc = gh_error_set(GH_EFORBIDDEN, "changing an admin's status needs the role admin");
		goto cleanup;
	}
	if (strcmp(cur_status, "decommissioned") == 0) {
		rc = gh_error_set(GH_ECONFLICT, "identity %s is decommissioned; that is final",
				  str_of(cur, "name"));
		goto cleanup;
	}
	if (strcmp(action, "suspend") == 0) {
		to = "suspended";
		event = "identity.suspended";
	} else if (strcmp(action, "activate") == 0) {
		to = "active";
		event = "identity.activated";
	} else {
		to = "decommissioned";
		event = "identity.decommissioned";
	}
	if (strcmp(cur_status, to) == 0) {
		rc = gh_error_set(GH_ECONFLICT, "identity %s is already %s", str_of(cur, "name"), to);
		goto cleanup;
	}
	if (admin && strcmp(cur_status, "active") == 0 && strcmp(to, "active") != 0 &&
	    (rc = check_not_last_admin(g, id, str_of(cur, "name"),
				       strcmp(to, "suspended") == 0 ? "suspending it"
								    : "decommissioning it")))
		goto cleanup;
	/* an NHI back in use must be within its expiry and have an active owner,
	 * or the scheduler would suspend it again at once */
	if (!human && strcmp(to, "active") == 0) {
		int64_t exp = 0;

		if (json_is_string(json_object_get(cur, "orphaned_at"))) {
			char owner[128];

			rc = gh_error_set(GH_ECONFLICT, "%s is orphaned (its owner %s is not active); "
					  "transfer it to an active owner first", str_of(cur, "name"),
					  gov_name_of(g, str_of(cur, "owner"), owner, sizeof(owner)));
			goto cleanup;
		}
		if (str_of(cur, "expires_at") && gh_time_parse(&exp, str_of(cur, "expires_at")) == 0 &&
		    exp <= gh_now()) {
			rc = gh_error_set(GH_ECONFLICT, "%s expired at %s; its owner (or admin, "
					  "iam) renews it first", str_of(cur, "name"),
					  str_of(cur, "expires_at"));
			goto cleanup;
		}
	}
	if (strcmp(to, "decommissioned") == 0) {
		int64_t systems = 0;
		/* the NHIs a person owns become orphans (below); a system needs an owner */
		if (human && (rc = count_owned_systems(g, id, &systems)))
			goto cleanup;
		if (systems > 0) {
			rc = gh_error_set(GH_ECONFLICT, "%s owns %lld system%s; transfer %s ownership "
					  "first", str_of(cur, "name"), (long long)systems,
					  systems == 1 ? "" : "s", systems == 1 ? "its" : "their");
			goto cleanup;
		}
		if ((rc = revoke_grants(g, actor, id, reason, &grants)) ||
		    (rc = revoke_tokens(g, id, &tokens)))
			goto cleanup;
	}

	if ((rc = gh_store_identity_set_status(g->store, id, to, gh_now())))
		goto cleanup;
	if (human && (rc = orphans_of(g, actor->id, id, strcmp(to, "active") != 0,
				      strcmp(to, "active") == 0 ? "owner activated" :
				      strcmp(to, "suspended") == 0 ? "owner suspended" :
				      "owner decommissioned", &orphans)))
		goto cleanup;
	details = json_pack("{s:s, s:s, s:s}", "reason", reason, "from", cur_status, "to", to);
	if (details && strcmp(to, "decommissioned") == 0) {
		json_object_set_new(details, "grants_revoked", json_integer(grants));
		json_object_set_new(details, "tokens_revoked", json_integer(tokens));
	}
	if (details && orphans > 0)
		json_object_set_new(details, strcmp(to, "active") == 0 ? "orphans_cleared" :
				    "nhis_orphaned", json_integer(orphans));
	if (!details) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_audit_append(NULL, g->store, actor->id, event, "identity", id, details)))
		goto cleanup;
	rc = gov_identity_load(out, g, id);
cleanup:
	json_decref(cur);
	json_decref(details);
	return rc;
}

int gh_gov_identity_set_status(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			       const char *action, const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "changing an identity's status")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_auth(g, status_locked(out, g, actor, ref, action, in), out);
}

/* --- expiry and renewal of NHIs ---------------------------------------------- */

/* Cancels every open request naming id as subject or requester (reason why),
 * auditing request.cancelled for each. */
static int cancel_open_requests(gh_gov *g, const char *actor_id, const char *id,
				const char *why, int *out_count)
{
	json_t *ids = NULL, *item;
	size_t i;
	int rc;

	*out_count = 0;
	rc = gh_store_identity_open_requests(&ids, g->store, id);
	json_array_foreach(ids, i, item) {
		if (rc || (rc = gov_request_move(g, json_string_value(item), "pending_approval",
						 "cancelled", &(gov_request_change){
							 .now = gh_now(), .reason = why})) ||
		    (rc = gov_audit_take(g, actor_id, "request.cancelled", "request",
					 json_string_value(item),
					 json_pack("{s:s, s:s}", "reason", why,
						   "from", "pending_approval"))))
			break;
		(*out_count)++;
	}
	json_decref(ids);
	return rc;
}

int gov_identity_retire(gh_gov *g, const char *actor_id, const char *id, const char *why)
{
	char text[64], owner[GH_ID_LEN] = "";
	int64_t expires = 0, orphaned = 0;
	int grants = 0, requests = 0, rc;
	json_t *details;

	if ((rc = gh_store_identity_suspend_nhi(g->store, id, why, gh_now(), owner, sizeof(owner),
						&expires, &orphaned)) <= 0)
		return rc;   /* 0: no longer active, nothing to do */
	snprintf(text, sizeof(text), "identity %s", why);
	if ((rc = end_grants(g, actor_id, id, text, &grants)) ||
	    (rc = gov_credentials_end_identity(g, actor_id, id, text)) ||
	    (rc = cancel_open_requests(g, actor_id, id, text, &requests)))
		return rc;
	if (strcmp(why, REASON_EXPIRED) == 0)
		details = json_pack("{s:s, s:o, s:i, s:i}", "reason", text,
				    "expires_at", time_or_null(1, expires),
				    "grants_ended", grants, "requests_cancelled", requests);
	else
		details = json_pack("{s:s, s:s, s:o, s:i, s:i}", "reason", text, "owner", owner,
				    "orphaned_at", time_or_null(orphaned > 0, orphaned),
				    "grants_ended", grants, "requests_cancelled", requests);
	return gov_audit_take(g, actor_id, strcmp(why, REASON_EXPIRED) == 0 ? "identity.expired" :
			      "identity.orphan_suspended", "identity", id, details);
}

int gov_identity_usable(gh_gov *g, const char *field, const char *id, int64_t now)
{
	gh_store_identity_brief b;
	char why[sizeof(b.status_reason) + 4] = "";
	int rc;

	if ((rc = gh_store_identity_brief_get(&b, g->store, id)))
		return rc;
	if (b.status_reason[0])
		snprintf(why, sizeof(why), " (%s)", b.status_reason);
	if (strcmp(b.status, "active") != 0) {
		gh_error_field(field, "%s is %s%s; only an active identity can %s", b.name, b.status,
			       why, strcmp(field, "subject") == 0 ? "receive access" : "request access");
		return GH_EINVALID;
	}
	if (b.has_expires && b.expires_at <= now) {
		char when[40];

		gh_time_format(when, sizeof(when), b.expires_at);
		gh_error_field(field, "%s expired at %s; its owner renews it first", b.name, when);
		return GH_EINVALID;
	}
	return 0;
}

static const char *const renew_fields[] = {"expires_at", "extend_by", NULL};

static int renew_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			const json_t *in)
{
	char id[GH_ID_LEN];
	json_t *cur = NULL;
	int64_t now = gh_now(), old = 0, to = 0, by = 0;
	int has_at, has_by, reactivate, rc;
	const char *field;

	if ((rc = gov_resolve(g, "identities", ref, id)))
		return rc;
	if (gh_jv_object(in, renew_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	has_at = gh_jv_time(in, "expires_at", 0, &to) > 0;
	has_by = gh_jv_duration(in, "extend_by", 0, &by) > 0;
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (has_at == has_by) {
		gh_error_field(has_at ? "extend_by" : "expires_at", "give exactly one of expires_at "
			       "(the new expiry) and extend_by (a duration such as 30d)");
		return gh_error_fields_finish();
	}
	if ((rc = gov_identity_load(&cur, g, id)))
		return rc;
	if (strcmp(str_of(cur, "owner") ? str_of(cur, "owner") : "", actor->id) != 0 &&
	    !(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM))) {
		rc = gh_error_set(GH_EFORBIDDEN, "renewing %s is for its owner, admin or iam",
				  str_of(cur, "name"));
		goto cleanup;
	}
	if (strcmp(str_of(cur, "kind"), "human") == 0 ||
	    strcmp(str_of(cur, "status"), "decommissioned") == 0) {
		rc = gh_error_set(GH_ECONFLICT, "%s is %s; only a non-human identity in use is "
				  "renewed", str_of(cur, "name"),
				  strcmp(str_of(cur, "kind"), "human") == 0 ? "a human"
									     : "decommissioned");
		goto cleanup;
	}
	if (str_of(cur, "expires_at"))
		gh_time_parse(&old, str_of(cur, "expires_at"));
	if (has_by) {
		to = (old > now ? old : now) + by;
		if (by <= 0)
			gh_error_field("extend_by", "must be a duration above zero");
	}
	field = has_by ? "extend_by" : "expires_at";
	if (to <= now)
		gh_error_field(field, "must give an expiry in the future");
	else
		check_lifetime(g, field, to, now);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	/* Gatehouse suspended it for its expiry: the renewal undoes that; a
	 * suspension for any other reason stays */
	reactivate = strcmp(str_of(cur, "status"), "suspended") == 0 &&
		     str_of(cur, "status_reason") &&
		     strcmp(str_of(cur, "status_reason"), REASON_EXPIRED) == 0;
	if ((rc = gh_store_identity_renew(g->store, id, to, now, reactivate)) ||
	    (rc = gov_audit_take(g, actor->id, "identity.renewed", "identity", id,
				 json_pack("{s:o, s:o, s:b}", "from", time_or_null(old > 0, old),
					   "to", time_or_null(1, to), "reactivated", reactivate))))
		goto cleanup;
	gov_sched_poke(g, to);
	rc = gov_identity_load(out, g, id);
cleanup:
	json_decref(cur);
	return rc;
}

int gh_gov_identity_renew(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			  const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_auth(g, renew_locked(out, g, actor, ref, in), out);
}
