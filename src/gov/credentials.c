/* credentials.c - NHI credentials: API keys issued for grants of credential
 * systems, rotated with an overlap, revoked, and checked by introspection.
 *
 * Key text: "ghk_" <16 hex: the id's random part> "." <secret>, made and
 * parsed by the same helpers as bearer tokens (gov_secret_*, tokens.c). Only
 * SHA-256(secret) is stored; the key is shown once, by issue or rotate.
 * Nothing is cached: introspection reads the credential, its grant and its
 * NHI every time, so any change takes effect at once. */
#include "gov/gov_internal.h"
#include "store/credentials.h"

#include <sodium.h>
#include <string.h>

#define KEY_PREFIX "ghk_"
#define ID_PREFIX "crd"
#define DEFAULT_OVERLAP 3600
#define MAX_OVERLAP 86400
/* last_used_at is written at most this often per key */
#define LAST_USED_EVERY 60

/* Who may do what: issue and rotate are for the NHI's owner or an admin;
 * revoke also for iam; reading also for iam and auditors. */
#define READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)
#define REVOKERS (GH_ROLE_ADMIN | GH_ROLE_IAM)

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int cred_load(json_t **out, gh_gov *g, const char *id)
{
	int rc;

	if ((rc = gh_store_credential_get(out, g->store, id, gh_now())))
		return rc;
	return *out ? 0 : gh_error_set(GH_ENOTFOUND, "credential %s not found", id);
}

static int audit(gh_gov *g, const char *actor_id, const char *action, const char *id,
		 json_t *details)
{
	int rc;

	if (!details)
		return nomem("auditing a credential");
	rc = gh_audit_append(NULL, g->store, actor_id, action, "credential", id, details);
	json_decref(details);
	return rc;
}

/* What issuing and rotating need to know about a grant and its NHI. */
typedef struct grant_facts {
	char status[24];
	char subject[GH_ID_LEN];
	char entitlement[GH_ID_LEN];
	char owner[GH_ID_LEN];
	char kind[32];
	char subject_status[24];
	char connector[32];
	int64_t expires_at;
	int64_t subject_expires;     /* INT64_MAX when none */
} grant_facts;

static const char *str_of(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* An integer of a fact record; absent when it is null. */
static int64_t int_of(const json_t *o, const char *key, int64_t absent)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : absent;
}

static void copy_str(char *out, size_t len, const json_t *o, const char *key)
{
	snprintf(out, len, "%s", str_of(o, key));
}

static int grant_facts_load(grant_facts *f, gh_gov *g, const char *grant_id)
{
	json_t *row;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = gh_store_credential_grant(&row, g->store, grant_id)))
		return rc;
	if (!row)
		return gh_error_set(GH_ENOTFOUND, "grant %s not found", grant_id);
	copy_str(f->status, sizeof(f->status), row, "status");
	f->expires_at = int_of(row, "expires_at", 0);
	copy_str(f->subject, sizeof(f->subject), row, "subject");
	copy_str(f->entitlement, sizeof(f->entitlement), row, "entitlement");
	copy_str(f->kind, sizeof(f->kind), row, "subject_kind");
	copy_str(f->subject_status, sizeof(f->subject_status), row, "subject_status");
	f->subject_expires = int_of(row, "subject_expires_at", INT64_MAX);
	copy_str(f->owner, sizeof(f->owner), row, "owner");
	copy_str(f->connector, sizeof(f->connector), row, "connector");
	json_decref(row);
	return 0;
}

/* 409 unless a key may be issued for this grant now. */
static int grant_issuable(gh_gov *g, const grant_facts *f, const char *grant_id, int64_t now)
{
	char name[128];

	if (strcmp(f->connector, "credential") != 0)
		return gh_error_set(GH_ECONFLICT, "grant %s is of a system with connector %s;"
				    " only a credential system issues API keys", grant_id,
				    f->connector);
	if (strcmp(f->status, "active") != 0 || f->expires_at <= now)
		return gh_error_set(GH_ECONFLICT, "grant %s is %s; keys are issued only for an"
				    " active grant", grant_id,
				    strcmp(f->status, "active") ? f->status : "past its expiry");
	if (strcmp(f->kind, "human") == 0)
		return gh_error_set(GH_ECONFLICT, "API keys are issued only to non-human identities");
	if (strcmp(f->subject_status, "active") != 0)
		return gh_error_set(GH_ECONFLICT, "identity %s is %s; keys are issued only to an"
				    " active identity", gov_name_of(g, f->subject, name, sizeof(name)),
				    f->subject_status);
	if (f->subject_expires <= now)
		return gh_error_set(GH_ECONFLICT, "identity %s has expired",
				    gov_name_of(g, f->subject, name, sizeof(name)));
	return 0;
}

/* The NHI's owner, or one of roles. */
static int may_act(const gh_actor *actor, const char *owner, unsigned roles, const char *what)
{
	if ((actor->roles & roles) || (owner[0] && strcmp(actor->id, owner) == 0))
		return 0;
	return gh_error_set(GH_EFORBIDDEN, "%s is for the identity's owner or %s", what,
			    roles & GH_ROLE_IAM ? "admin or iam" : "an admin");
}

/* Inserts a credential and audits credential.issued; text receives the key. */
static int cred_insert(char text[GOV_SECRET_TEXT_BUF], char id[GH_ID_LEN], gh_gov *g,
		       const char *actor_id, const grant_facts *f, const char *grant_id,
		       int64_t now, int64_t expires_at, const char *rotated_from)
{
	unsigned char hash[GOV_SECRET_HASH_BYTES];
	char when[40];
	int rc;

	gov_secret_new(text, id, hash, ID_PREFIX, KEY_PREFIX);
	if ((rc = gh_store_credential_insert(g->store, id, grant_id, f->subject, f->entitlement,
					     hash, sizeof(hash), actor_id, now, expires_at,
					     rotated_from)))
		goto cleanup;
	gh_time_format(when, sizeof(when), expires_at);
	/* never the key nor its hash */
	rc = audit(g, actor_id, "credential.issued", id,
		   json_pack("{s:s, s:s, s:s, s:s, s:s?}", "grant", grant_id, "identity", f->subject,
			     "entitlement", f->entitlement, "expires_at", when,
			     "rotated_from", rotated_from));
cleanup:
	sodium_memzero(hash, sizeof(hash));
	if (rc)
		sodium_memzero(text, GOV_SECRET_TEXT_BUF);
	return rc;
}

/* The new credential's answer: its shape plus the key, shown this once. */
static int with_key(json_t **out, gh_gov *g, const char *id, const char *text)
{
	int rc;

	if ((rc = cred_load(out, g, id)))
		return rc;
	if (json_object_set_new(*out, "key", json_string(text)))
		return nomem("answering with a key");
	return 0;
}

/* --- issue ----------------------------------------------------------------- */

int gh_gov_credential_issue(json_t **out, gh_gov *g, const gh_actor *actor,
			    const char *grant_id, const json_t *in)
{
	static const char *const allowed[] = {"expires_in", NULL};
	char id[GH_ID_LEN], text[GOV_SECRET_TEXT_BUF];
	int64_t now = gh_now(), expires_in = 0, expires_at;
	grant_facts f;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (gh_jv_object(in, allowed) >= 0)
		gh_jv_duration(in, "expires_in", 0, &expires_in);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = grant_facts_load(&f, g, grant_id)) ||
	    (rc = may_act(actor, f.owner, GH_ROLE_ADMIN, "issuing a credential")) ||
	    (rc = grant_issuable(g, &f, grant_id, now)))
		goto cleanup;
	/* never beyond the grant (which the policy capped) nor the NHI */
	expires_at = min64(f.expires_at, f.subject_expires);
	if (expires_in)
		expires_at = min64(expires_at, now + expires_in);
	if ((rc = cred_insert(text, id, g, actor->id, &f, grant_id, now, expires_at, NULL)))
		goto cleanup;
	rc = with_key(out, g, id, text);
cleanup:
	sodium_memzero(text, sizeof(text));
	return gov_finish_out(g, rc, out);
}

/* --- rotate ---------------------------------------------------------------- */

/* "overlap": 0..24h, default 1h; 0 (or "0s") ends the old key at once. */
static void overlap_read(const json_t *in, int64_t *out)
{
	json_t *v = json_object_get(in, "overlap");
	const char *s = json_string_value(v);

	*out = DEFAULT_OVERLAP;
	if (!v)
		return;
	if ((json_is_integer(v) && json_integer_value(v) == 0) ||
	    (s && (strcmp(s, "0") == 0 || strcmp(s, "0s") == 0))) {
		*out = 0;
		return;
	}
	if (gh_jv_duration(in, "overlap", 0, out) > 0 && *out > MAX_OVERLAP)
		gh_error_field("overlap", "must be at most 24h");
}

/* What rotating and revoking need about a credential. */
typedef struct cred_facts {
	char grant[GH_ID_LEN];
	char owner[GH_ID_LEN];
	char rotated_to[GH_ID_LEN];
	int64_t created_at, expires_at, valid_until;  /* valid_until 0 when not rotated */
	int revoked;
} cred_facts;

static int cred_facts_load(cred_facts *c, gh_gov *g, const char *id)
{
	json_t *row;
	int rc;

	memset(c, 0, sizeof(*c));
	if (strlen(id) >= GH_ID_LEN)
		return gh_error_set(GH_ENOTFOUND, "credential not found");
	if ((rc = gh_store_credential_facts(&row, g->store, id)))
		return rc;
	if (!row)
		return gh_error_set(GH_ENOTFOUND, "credential %s not found", id);
	copy_str(c->grant, sizeof(c->grant), row, "grant");
	copy_str(c->owner, sizeof(c->owner), row, "owner");
	c->created_at = int_of(row, "created_at", 0);
	c->expires_at = int_of(row, "expires_at", 0);
	c->valid_until = int_of(row, "valid_until", 0);
	c->revoked = !json_is_null(json_object_get(row, "revoked_at"));
	copy_str(c->rotated_to, sizeof(c->rotated_to), row, "rotated_to");
	json_decref(row);
	return 0;
}

/* Someone who may not even read it is told it does not exist. */
static int cred_visible(const gh_actor *actor, const cred_facts *c, const char *id)
{
	if ((actor->roles & READERS) || (c->owner[0] && strcmp(actor->id, c->owner) == 0))
		return 0;
	return gh_error_set(GH_ENOTFOUND, "credential %s not found", id);
}

int gh_gov_credential_rotate(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			     const json_t *in)
{
	static const char *const allowed[] = {"overlap", NULL};
	char new_id[GH_ID_LEN], text[GOV_SECRET_TEXT_BUF], until[40];
	int64_t now = gh_now(), overlap = DEFAULT_OVERLAP, valid_until, expires_at;
	json_t *previous = NULL;
	grant_facts f;
	cred_facts c;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (gh_jv_object(in, allowed) >= 0)
		overlap_read(in, &overlap);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = cred_facts_load(&c, g, id)) || (rc = cred_visible(actor, &c, id)) ||
	    (rc = may_act(actor, c.owner, GH_ROLE_ADMIN, "rotating a credential")))
		goto cleanup;
	if (c.revoked || c.valid_until || c.expires_at <= now) {
		rc = c.revoked ? gh_error_set(GH_ECONFLICT, "credential %s is revoked", id)
		     : c.valid_until ? gh_error_set(GH_ECONFLICT, "credential %s was already rotated"
						    " (to %s); rotate that one", id, c.rotated_to)
		     : gh_error_set(GH_ECONFLICT, "credential %s has expired", id);
		goto cleanup;
	}
	if ((rc = grant_facts_load(&f, g, c.grant)) || (rc = grant_issuable(g, &f, c.grant, now)))
		goto cleanup;
	/* the same lifetime as the old key, never beyond the grant or the NHI */
	expires_at = min64(min64(f.expires_at, f.subject_expires),
			   now + (c.expires_at - c.created_at));
	valid_until = min64(now + overlap, c.expires_at);
	if ((rc = cred_insert(text, new_id, g, actor->id, &f, c.grant, now, expires_at, id)))
		goto cleanup;
	if ((rc = gh_store_credential_rotate(g->store, id, valid_until, new_id)))
		goto cleanup;
	gh_time_format(until, sizeof(until), valid_until);
	if ((rc = audit(g, actor->id, "credential.rotated", id,
			json_pack("{s:s, s:s, s:s, s:I}", "grant", c.grant, "rotated_to", new_id,
				  "valid_until", until, "overlap_seconds", (json_int_t)overlap))))
		goto cleanup;
	if ((rc = cred_load(&previous, g, id)) || (rc = with_key(out, g, new_id, text)))
		goto cleanup;
	if (json_object_set_new(*out, "previous", previous))
		rc = nomem("answering a rotation");
	previous = NULL;
cleanup:
	json_decref(previous);
	sodium_memzero(text, sizeof(text));
	return gov_finish_out(g, rc, out);
}

/* --- revoke ---------------------------------------------------------------- */

static int revoke_one(gh_gov *g, const char *actor_id, const char *id, const char *grant,
		      const char *reason, int64_t now)
{
	int rc;

	if ((rc = gh_store_credential_revoke(g->store, id, now, actor_id, reason)))
		return rc;
	return audit(g, actor_id, "credential.revoked", id,
		     json_pack("{s:s, s:s}", "grant", grant, "reason", reason));
}

int gh_gov_credential_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			     const json_t *in)
{
	static const char *const allowed[] = {"reason", NULL};
	const char *reason = NULL;
	cred_facts c;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (gh_jv_object(in, allowed) >= 0)
		gh_jv_string(in, "reason", 1, 1000, &reason);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = cred_facts_load(&c, g, id)) || (rc = cred_visible(actor, &c, id)) ||
	    (rc = may_act(actor, c.owner, REVOKERS, "revoking a credential")))
		goto cleanup;
	if (c.revoked) {
		rc = gh_error_set(GH_ECONFLICT, "credential %s is already revoked", id);
		goto cleanup;
	}
	if ((rc = revoke_one(g, actor->id, id, c.grant, reason, gh_now())))
		goto cleanup;
	rc = cred_load(out, g, id);
cleanup:
	return gov_finish_out(g, rc, out);
}

/* Revokes every credential not yet revoked of identity id (by_identity) or
 * of grant id, with reason. */
static int revoke_where(gh_gov *g, const char *actor_id, int by_identity, const char *id,
			const char *reason)
{
	json_t *rows = NULL, *item;
	int64_t now = gh_now();
	size_t i;
	int rc;

	if ((rc = gh_store_credentials_unrevoked(&rows, g->store, by_identity ? id : NULL,
						 by_identity ? NULL : id)))
		return rc;
	json_array_foreach(rows, i, item)
		if ((rc = revoke_one(g, actor_id, str_of(item, "id"), str_of(item, "grant"), reason,
				     now)))
			break;
	json_decref(rows);
	return rc;
}

int gov_credentials_end_grant(gh_gov *g, const char *actor_id, const char *grant_id,
			      const char *status)
{
	char reason[48];

	snprintf(reason, sizeof(reason), "grant %s", status);
	return revoke_where(g, actor_id, 0, grant_id, reason);
}

int gov_credentials_end_identity(gh_gov *g, const char *actor_id, const char *identity_id,
				 const char *reason)
{
	return revoke_where(g, actor_id, 1, identity_id, reason);
}

/* --- read ------------------------------------------------------------------ */

int gh_gov_credential_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	cred_facts c;
	int rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if (!(rc = cred_facts_load(&c, g, id)) && !(rc = cred_visible(actor, &c, id)))
		rc = cred_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_credential_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			   const char *identity, const char *grant, const char *status)
{
	char idn[GH_ID_LEN] = "";
	json_t *items = NULL;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	if (status)
		gov_check_enum("status", gov_credential_statuses, status);
	if (grant && strlen(grant) >= GH_ID_LEN)
		gh_error_field("grant", "must be a grant id");
	gh_store_read_begin(g->store);
	if (identity && (rc = gov_resolve_field(g, "identities", "identity", identity, idn)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "credentials", page, &limit, &after)) ||
	    (rc = gh_error_fields_finish()))
		goto cleanup;
	/* an owner without a reader role sees only its NHIs' credentials */
	if ((rc = gh_store_credential_list(&items, g->store, after, identity ? idn : NULL, grant,
					   status, (actor->roles & READERS) ? NULL : actor->id,
					   limit, gh_now())))
		goto cleanup;
	*out = gov_list_result(items, limit);
	items = NULL;
	rc = *out ? 0 : nomem("listing credentials");
cleanup:
	json_decref(items);
	gh_store_read_end(g->store);
	return rc;
}

int gov_credential_entitlement(gh_gov *g, const char *ent_id)
{
	char connector[32];
	int rc;

	if ((rc = gh_store_credential_connector(connector, sizeof(connector), g->store, ent_id)))
		return rc;
	return strcmp(connector, "credential") == 0;
}

/* --- introspection (RFC 7662) ---------------------------------------------- */

/* The body: "token" is required (RFC 7662 2.1), "token_type_hint" may be
 * ignored (it is); everything else is refused like any unknown field. */
static const char *introspect_token(const json_t *in)
{
	static const char *const allowed[] = {"token", "token_type_hint", NULL};
	json_t *tok = json_object_get(in, "token"), *hint = json_object_get(in, "token_type_hint");

	if (gh_jv_object(in, allowed) < 0 && !json_is_object(in))
		return NULL;
	if (!tok)
		gh_error_field("token", "is required: the API key to check");
	else if (!json_is_string(tok) || json_string_length(tok) == 0)
		gh_error_field("token", "must be a non-empty string");
	if (hint && !json_is_string(hint))
		gh_error_field("token_type_hint", "must be a string");
	return json_string_value(tok);
}

/* Whether the key of row is good now: not expired (nor past its rotation
 * overlap), not revoked, its identity active and unexpired, its grant active
 * and unexpired. *exp gets the key's end. */
static int key_active(const json_t *row, int64_t now, int64_t *exp)
{
	int64_t until = int_of(row, "valid_until", INT64_MAX);

	*exp = min64(int_of(row, "expires_at", 0), until);
	return *exp > now && json_is_null(json_object_get(row, "revoked_at")) &&
	       strcmp(str_of(row, "identity_status"), "active") == 0 &&
	       int_of(row, "identity_expires_at", INT64_MAX) > now &&
	       strcmp(str_of(row, "grant_status"), "active") == 0 &&
	       int_of(row, "grant_expires_at", 0) > now;
}

/* Records that key id was used at now, at most every LAST_USED_EVERY seconds:
 * a write of its own, whose failure is dropped (bookkeeping only). Outside
 * any store section. */
static void touch(gh_gov *g, const char *id, int64_t now)
{
	if (gh_store_begin(g->store) == 0)
		gov_finish(g, gh_store_credential_touch(g->store, id, now, now - LAST_USED_EVERY));
	gh_error_clear();
}

int gh_gov_introspect(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	unsigned char hash[GOV_SECRET_HASH_BYTES], stored[GOV_SECRET_HASH_BYTES];
	char id[GH_ID_LEN];
	const char *text;
	size_t stored_len = 0;
	int64_t now = gh_now(), exp = 0;
	json_t *row = NULL, *answer = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (!actor || !actor->id[0])
		return gh_error_set(GH_EUNAUTH, "introspection needs an authenticated caller");
	text = introspect_token(in);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (gov_secret_parse(id, hash, text, ID_PREFIX, KEY_PREFIX) != 0)
		goto inactive;

	gh_store_read_begin(g->store);
	rc = gh_store_credential_key(&row, stored, sizeof(stored), &stored_len, g->store, id);
	gh_store_read_end(g->store);
	if (rc)
		goto cleanup;
	/* the compare runs whether or not the id exists */
	if (gov_secret_equal(row ? stored : NULL, stored_len, hash) && key_active(row, now, &exp)) {
		answer = json_pack("{s:b, s:O, s:O, s:s, s:O, s:s, s:I, s:I,"
				   " s:{s:O, s:O, s:O, s:O}}",
				   "active", 1, "sub", json_object_get(row, "identity"),
				   "username", json_object_get(row, "identity_name"), "client_id", id,
				   "scope", json_object_get(row, "entitlement_name"),
				   "token_type", "api_key",
				   "iat", (json_int_t)int_of(row, "created_at", 0), "exp", (json_int_t)exp,
				   "gatehouse", "grant", json_object_get(row, "grant"),
				   "entitlement", json_object_get(row, "entitlement"),
				   "system", json_object_get(row, "system"),
				   "owner", json_object_get(row, "owner"));
		if (!answer) {
			rc = nomem("introspecting");
			goto cleanup;
		}
		if (now - int_of(row, "last_used_at", 0) >= LAST_USED_EVERY)
			touch(g, id, now);
		*out = answer;
		answer = NULL;
		goto cleanup;
	}
inactive:
	/* whatever is wrong, the caller learns only this */
	if (!(*out = json_pack("{s:b}", "active", 0)))
		rc = nomem("introspecting");
cleanup:
	json_decref(row);
	json_decref(answer);
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(stored, sizeof(stored));
	return rc;
}
