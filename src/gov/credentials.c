/* credentials.c - NHI credentials: API keys issued for grants of credential
 * systems, rotated with an overlap, revoked, and checked by introspection.
 *
 * Key text: "ghk_" <16 hex: the id's random part> "." <secret>, made and
 * parsed by the same helpers as bearer tokens (gov_secret_*, tokens.c). Only
 * SHA-256(secret) is stored; the key is shown once, by issue or rotate.
 * Nothing is cached: introspection reads the credential, its grant and its
 * NHI every time, so any change takes effect at once. */
#include "gov/gov_internal.h"

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


/* A credential's status at ?9 (now): its own state only; introspection also
 * checks its grant and its NHI. */
#define CRED_STATUS                                                                         \
	"CASE WHEN c.revoked_at IS NOT NULL THEN 'revoked'"                                  \
	" WHEN min(c.expires_at, coalesce(c.valid_until, c.expires_at)) <= ?9 THEN 'expired'" \
	" WHEN c.valid_until IS NOT NULL THEN 'expiring' ELSE 'active' END"

#define CRED_COLS                                                                           \
	"c.id, c.identity_id, c.grant_id, c.entitlement_id, e.system_id, c.created_by,"      \
	" c.created_at, c.expires_at, c.valid_until, c.revoked_at, c.revoked_by,"            \
	" c.revoke_reason, c.last_used_at, c.rotated_from, c.rotated_to, " CRED_STATUS

#define CRED_FROM " FROM credentials c JOIN entitlements e ON e.id = c.entitlement_id"

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* One credential in its API shape from a row of CRED_COLS. */
static json_t *cred_json(sqlite3_stmt *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o, s:o}",
			 "id", gov_text_column(st, 0), "identity", gov_text_column(st, 1),
			 "grant", gov_text_column(st, 2), "entitlement", gov_text_column(st, 3),
			 "system", gov_text_column(st, 4), "created_by", gov_text_column(st, 5),
			 "created_at", gov_time_column(st, 6), "expires_at", gov_time_column(st, 7),
			 "valid_until", gov_time_column(st, 8), "revoked_at", gov_time_column(st, 9),
			 "revoked_by", gov_text_column(st, 10),
			 "revoke_reason", gov_text_column(st, 11),
			 "last_used_at", gov_time_column(st, 12),
			 "rotated_from", gov_text_column(st, 13), "rotated_to", gov_text_column(st, 14),
			 "status", gov_text_column(st, 15));
}

static int cred_load(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT " CRED_COLS CRED_FROM " WHERE c.id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, gh_now());
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = cred_json(st);
		rc = *out ? 0 : nomem("loading a credential");
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "credential %s not found", id);
	} else {
		rc = gh_store_fail(g->store, "loading a credential");
	}
	sqlite3_reset(st);
	return rc;
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

static void copy_text(char *out, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", s ? (const char *)s : "");
}

static int grant_facts_load(grant_facts *f, gh_gov *g, const char *grant_id)
{
	sqlite3_stmt *st;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT gr.status, gr.expires_at, gr.subject_id, gr.entitlement_id,"
				" i.kind, i.status, i.expires_at, i.owner_id, s.connector"
				" FROM grants gr JOIN identities i ON i.id = gr.subject_id"
				" JOIN entitlements e ON e.id = gr.entitlement_id"
				" JOIN systems s ON s.id = e.system_id WHERE gr.id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(f->status, sizeof(f->status), st, 0);
		f->expires_at = sqlite3_column_int64(st, 1);
		copy_text(f->subject, sizeof(f->subject), st, 2);
		copy_text(f->entitlement, sizeof(f->entitlement), st, 3);
		copy_text(f->kind, sizeof(f->kind), st, 4);
		copy_text(f->subject_status, sizeof(f->subject_status), st, 5);
		f->subject_expires = sqlite3_column_type(st, 6) == SQLITE_NULL
				     ? INT64_MAX : sqlite3_column_int64(st, 6);
		copy_text(f->owner, sizeof(f->owner), st, 7);
		copy_text(f->connector, sizeof(f->connector), st, 8);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "grant %s not found", grant_id);
	} else {
		rc = gh_store_fail(g->store, "reading a grant");
	}
	sqlite3_reset(st);
	return rc;
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
	sqlite3_stmt *st;
	int rc;

	gov_secret_new(text, id, hash, ID_PREFIX, KEY_PREFIX);
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO credentials(id, grant_id, identity_id, entitlement_id,"
				" secret_hash, created_by, created_at, expires_at, rotated_from)"
				" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, grant_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->entitlement, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_text(st, 6, actor_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, expires_at);
	if (rotated_from)
		sqlite3_bind_text(st, 9, rotated_from, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "creating a credential")))
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
	sqlite3_stmt *st;
	int rc;

	memset(c, 0, sizeof(*c));
	if (strlen(id) >= GH_ID_LEN)
		return gh_error_set(GH_ENOTFOUND, "credential not found");
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT c.grant_id, i.owner_id, c.created_at, c.expires_at,"
				" c.valid_until, c.revoked_at IS NOT NULL, c.rotated_to"
				" FROM credentials c JOIN identities i ON i.id = c.identity_id"
				" WHERE c.id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(c->grant, sizeof(c->grant), st, 0);
		copy_text(c->owner, sizeof(c->owner), st, 1);
		c->created_at = sqlite3_column_int64(st, 2);
		c->expires_at = sqlite3_column_int64(st, 3);
		c->valid_until = sqlite3_column_int64(st, 4);
		c->revoked = sqlite3_column_int(st, 5);
		copy_text(c->rotated_to, sizeof(c->rotated_to), st, 6);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "credential %s not found", id);
	} else {
		rc = gh_store_fail(g->store, "reading a credential");
	}
	sqlite3_reset(st);
	return rc;
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
	sqlite3_stmt *st;
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
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE credentials SET valid_until = ?1, rotated_to = ?2"
				" WHERE id = ?3 AND revoked_at IS NULL AND valid_until IS NULL")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, valid_until);
	sqlite3_bind_text(st, 2, new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "rotating a credential")))
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
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE credentials SET revoked_at = ?1, revoked_by = ?2,"
				" revoke_reason = ?3 WHERE id = ?4 AND revoked_at IS NULL")))
		return rc;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, actor_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "revoking a credential")))
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

/* Revokes every credential not yet revoked whose column col (grant_id or
 * identity_id) is id, with reason. */
static int revoke_where(gh_gov *g, const char *actor_id, int by_identity, const char *id,
			const char *reason)
{
	json_t *rows = json_array(), *item;
	sqlite3_stmt *st;
	int64_t now = gh_now();
	size_t i;
	int rc;

	if (!rows)
		return nomem("revoking credentials");
	if ((rc = by_identity ?
		  gh_store_stmt(&st, g->store,
				"SELECT id, grant_id FROM credentials WHERE identity_id = ?"
				" AND revoked_at IS NULL ORDER BY pk") :
		  gh_store_stmt(&st, g->store,
				"SELECT id, grant_id FROM credentials WHERE grant_id = ?"
				" AND revoked_at IS NULL ORDER BY pk")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(rows, json_pack("[s, s]",
				(const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1))))
			break;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = rc == SQLITE_ROW ? nomem("revoking credentials")
				      : gh_store_fail(g->store, "reading credentials to revoke");
		goto cleanup;
	}
	rc = 0;
	json_array_foreach(rows, i, item)
		if ((rc = revoke_one(g, actor_id, json_string_value(json_array_get(item, 0)),
				     json_string_value(json_array_get(item, 1)), reason, now)))
			break;
cleanup:
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
	json_t *items = NULL, *item;
	sqlite3_stmt *st;
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
	/* ?5: an owner without a reader role sees only its NHIs' credentials */
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT " CRED_COLS CRED_FROM " WHERE c.pk > ?1"
				" AND (?2 IS NULL OR c.identity_id = ?2)"
				" AND (?3 IS NULL OR c.grant_id = ?3)"
				" AND (?4 IS NULL OR " CRED_STATUS " = ?4)"
				" AND (?5 IS NULL OR c.identity_id IN"
				"  (SELECT id FROM identities WHERE owner_id = ?5))"
				" ORDER BY c.pk LIMIT ?6")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, after);
	if (identity)
		sqlite3_bind_text(st, 2, idn, -1, SQLITE_STATIC);
	if (grant)
		sqlite3_bind_text(st, 3, grant, -1, SQLITE_STATIC);
	if (status)
		sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	if (!(actor->roles & READERS))
		sqlite3_bind_text(st, 5, actor->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, limit);
	sqlite3_bind_int64(st, 9, gh_now());
	if (!(items = json_array())) {
		sqlite3_reset(st);
		rc = nomem("listing credentials");
		goto cleanup;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(item = cred_json(st)) || json_array_append_new(items, item)) {
			sqlite3_reset(st);
			rc = nomem("listing credentials");
			goto cleanup;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "listing credentials");
		goto cleanup;
	}
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
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT 1 FROM entitlements e JOIN systems s ON s.id = e.system_id"
				" WHERE e.id = ? AND s.connector = 'credential'")))
		return rc;
	sqlite3_bind_text(st, 1, ent_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : gh_store_fail(g->store, "reading an entitlement's system");
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

int gh_gov_introspect(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	unsigned char hash[GOV_SECRET_HASH_BYTES];
	char id[GH_ID_LEN];
	const char *text;
	sqlite3_stmt *st = NULL;
	int64_t now = gh_now(), exp = 0, iat = 0, last_used = 0;
	json_t *answer = NULL;
	int rc, step, match, active = 0;

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
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT c.secret_hash, c.created_at,"
				" min(c.expires_at, coalesce(c.valid_until, c.expires_at)),"
				" c.revoked_at IS NULL, c.last_used_at, c.identity_id, i.name,"
				" i.status = 'active' AND coalesce(i.expires_at > ?2, 1),"
				" gr.status = 'active' AND gr.expires_at > ?2, c.grant_id,"
				" c.entitlement_id, e.name, e.system_id, i.owner_id"
				" FROM credentials c JOIN identities i ON i.id = c.identity_id"
				" JOIN grants gr ON gr.id = c.grant_id"
				" JOIN entitlements e ON e.id = c.entitlement_id WHERE c.id = ?1"))) {
		gh_store_read_end(g->store);
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "introspecting");
		sqlite3_reset(st);
		gh_store_read_end(g->store);
		goto cleanup;
	}
	/* the compare runs whether or not the id exists */
	match = gov_secret_matches(step == SQLITE_ROW ? st : NULL, 0, hash);
	if (match) {
		iat = sqlite3_column_int64(st, 1);
		exp = sqlite3_column_int64(st, 2);
		last_used = sqlite3_column_int64(st, 4);
		active = exp > now && sqlite3_column_int(st, 3) && sqlite3_column_int(st, 7) &&
			 sqlite3_column_int(st, 8);
	}
	if (active) {
		answer = json_pack("{s:b, s:o, s:o, s:s, s:o, s:s, s:I, s:I,"
				   " s:{s:o, s:o, s:o, s:o}}",
				   "active", 1, "sub", gov_text_column(st, 5),
				   "username", gov_text_column(st, 6), "client_id", id,
				   "scope", gov_text_column(st, 11), "token_type", "api_key",
				   "iat", (json_int_t)iat, "exp", (json_int_t)exp, "gatehouse",
				   "grant", gov_text_column(st, 9),
				   "entitlement", gov_text_column(st, 10),
				   "system", gov_text_column(st, 12), "owner", gov_text_column(st, 13));
		if (!answer)
			rc = nomem("introspecting");
	}
	sqlite3_reset(st);
	gh_store_read_end(g->store);
	if (rc)
		goto cleanup;
	if (answer) {
		if (now - last_used >= LAST_USED_EVERY)
			gov_secret_touch(g, "UPDATE credentials SET last_used_at = ?1 WHERE id = ?2"
					    " AND coalesce(last_used_at <= ?1 - 60, 1)", id, now);  /* 60: LAST_USED_EVERY */
		*out = answer;
		answer = NULL;
		goto cleanup;
	}
inactive:
	/* whatever is wrong, the caller learns only this */
	if (!(*out = json_pack("{s:b}", "active", 0)))
		rc = nomem("introspecting");
cleanup:
	json_decref(answer);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}
