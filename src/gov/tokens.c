/* tokens.c - API bearer tokens: bootstrap, issue, revoke and authenticate.
 *
 * Token text: "gh_" <16 hex: the id's random part> "." <secret: 32 random bytes,
 * base64url without padding>. Only SHA-256(secret) is stored; the text is shown
 * once, when the token is created. API keys (credentials.c) use the same
 * helpers, gov_secret_*, with prefixes of their own. */
#include "gov/gov_internal.h"
#include "gov/authlimit.h"

#include <sodium.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_BYTES GOV_SECRET_BYTES
#define SECRET_B64_LEN 43 /* base64url of 32 bytes, no padding */
#define ID_HEX_LEN 16
#define TOKEN_BUF GOV_SECRET_TEXT_BUF
/* last_used_at is written at most this often per token, not on every request */
#define LAST_USED_EVERY 60
/* an explicit expires_in may reach this far (or the default lifetime when longer) */
#define TOKEN_MAX_LIFETIME (365 * 86400)

static int64_t max_lifetime(const gh_gov *g)
{
	return g->opts.token_lifetime > TOKEN_MAX_LIFETIME ? g->opts.token_lifetime
							    : TOKEN_MAX_LIFETIME;
}

/* Issues a token for identity_id and audits it. text receives the token text
 * (TOKEN_BUF bytes), id the token id. expires_at 0 means no expiry. Inside a
 * transaction. */
static int token_issue(char text[TOKEN_BUF], char id[GH_ID_LEN], gh_gov *g, const char *actor_id,
		       const char *identity_id, const char *name, int64_t now, int64_t expires_at,
		       const char *via)
{
	unsigned char hash[GOV_SECRET_HASH_BYTES];
	char when[40];
	json_t *details = NULL;
	sqlite3_stmt *st;
	int rc;

	gov_secret_new(text, id, hash, "tok", "gh_");
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO tokens(id, identity_id, name, secret_hash, created_at,"
				" expires_at) VALUES (?, ?, ?, ?, ?, ?)")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, identity_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (expires_at)
		sqlite3_bind_int64(st, 6, expires_at);
	if ((rc = gov_step_done(g, st, "creating a token")))
		goto cleanup;
	/* never the secret nor its hash */
	gh_time_format(when, sizeof(when), expires_at);
	details = json_pack("{s:s, s:s, s:s?, s:s?}", "identity", identity_id, "name", name,
			    "expires_at", expires_at ? when : NULL, "via", via);
	if (!details) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	rc = gh_audit_append(NULL, g->store, actor_id, "token.created", "token", id, details);
cleanup:
	json_decref(details);
	if (rc)
		sodium_memzero(text, TOKEN_BUF);
	return rc;
}

/* --- secret texts, shared with credentials.c ---------------------------------- */

void gov_secret_new(char text[GOV_SECRET_TEXT_BUF], char id[GH_ID_LEN],
		    unsigned char hash[GOV_SECRET_HASH_BYTES], const char *id_prefix,
		    const char *text_prefix)
{
	unsigned char secret[SECRET_BYTES];
	char b64[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	gh_id_new(id, GH_ID_LEN, id_prefix);
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_hash_sha256(hash, secret, sizeof(secret));
	snprintf(text, GOV_SECRET_TEXT_BUF, "%s%s.%s", text_prefix, id + strlen(id_prefix) + 1, b64);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(b64, sizeof(b64));
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int gov_secret_parse(char id[GH_ID_LEN], unsigned char hash[GOV_SECRET_HASH_BYTES],
		     const char *text, const char *id_prefix, const char *text_prefix)
{
	unsigned char secret[SECRET_BYTES];
	size_t plen = strlen(text_prefix), len, want = plen + ID_HEX_LEN + 1 + SECRET_B64_LEN;
	size_t bin_len = 0;
	const char *end = NULL;
	int rc;

	if (!text || want >= GOV_SECRET_TEXT_BUF)
		return -1;
	len = strnlen(text, want + 1);
	if (len != want || strncmp(text, text_prefix, plen) != 0 || text[plen + ID_HEX_LEN] != '.')
		return -1;
	for (size_t i = plen; i < plen + ID_HEX_LEN; i++)
		if (!is_hex(text[i]))
			return -1;
	for (size_t i = plen + ID_HEX_LEN + 1; i < want; i++)
		if (!is_b64url(text[i]))
			return -1;
	rc = sodium_base642bin(secret, SECRET_BYTES, text + plen + ID_HEX_LEN + 1, SECRET_B64_LEN,
			       NULL, &bin_len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (rc == 0 && bin_len == SECRET_BYTES && end == text + want) {
		crypto_hash_sha256(hash, secret, sizeof(secret));
		snprintf(id, GH_ID_LEN, "%s_%.*s", id_prefix, ID_HEX_LEN, text + plen);
	} else {
		rc = -1;
	}
	sodium_memzero(secret, sizeof(secret));
	return rc ? -1 : 0;
}

int gov_secret_matches(sqlite3_stmt *st, int col, const unsigned char hash[GOV_SECRET_HASH_BYTES])
{
	/* compared against when nothing usable is stored, so every path compares */
	static const unsigned char dummy[GOV_SECRET_HASH_BYTES];
	unsigned char stored[GOV_SECRET_HASH_BYTES];
	int usable = st && sqlite3_column_bytes(st, col) == (int)sizeof(stored);
	int match;

	memcpy(stored, usable ? sqlite3_column_blob(st, col) : dummy, sizeof(stored));
	match = sodium_memcmp(stored, hash, sizeof(stored)) == 0;
	sodium_memzero(stored, sizeof(stored));
	return usable && match;
}

void gov_secret_touch(gh_gov *g, const char *sql, const char *id, int64_t now)
{
	sqlite3_stmt *st;
	int w;

	if (gh_store_begin(g->store) == 0) {
		w = gh_store_stmt(&st, g->store, sql);
		if (!w) {
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			w = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
			sqlite3_reset(st);
		}
		if (w)
			gh_store_rollback(g->store);
		else
			gh_store_commit(g->store);
	}
	gh_error_clear();
}

/* --- bootstrap --------------------------------------------------------------- */

static int bootstrap_locked(char text[TOKEN_BUF], gh_gov *g, const char *admin_name)
{
	static const char *const actor = "system:init";
	char idn[GH_ID_LEN], tok[GH_ID_LEN];
	json_t *details = NULL, *name_obj;
	const char *name;
	sqlite3_stmt *st;
	int64_t now = gh_now(), count = 0;
	int rc;

	if (!(name_obj = json_pack("{s:s?}", "name", admin_name)))
		return gh_error_set(GH_ERROR, "out of memory");
	gh_jv_name(name_obj, "name", 1, &name);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT count(*) FROM identities")))
		goto cleanup;
	if (sqlite3_step(st) == SQLITE_ROW)
		count = sqlite3_column_int64(st, 0);
	else
		rc = gh_store_fail(g->store, "counting identities");
	sqlite3_reset(st);
	if (rc)
		goto cleanup;
	if (count > 0) {
		rc = gh_error_set(GH_ECONFLICT, "already initialised: %lld identities exist",
				  (long long)count);
		goto cleanup;
	}
	gh_id_new(idn, sizeof(idn), "idn");
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO identities(id, kind, name, status, roles, attributes,"
				" created_at, updated_at)"
				" VALUES (?1, 'human', ?2, 'active', '[\"admin\"]', '{}', ?3, ?3)")))
		goto cleanup;
	sqlite3_bind_text(st, 1, idn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((rc = gov_step_done(g, st, "creating the first admin")))
		goto cleanup;
	details = json_pack("{s:s, s:s, s:[s], s:b}", "kind", "human", "name", name, "roles",
			    "admin", "bootstrap", 1);
	if (!details) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_audit_append(NULL, g->store, actor, "identity.created", "identity", idn,
				  details)))
		goto cleanup;
	/* the first admin's token expires like any other (rotate it, or issue
	 * a new one offline with admin-token) */
	rc = token_issue(text, tok, g, actor, idn, "bootstrap", now, now + g->opts.token_lifetime,
			 NULL);
cleanup:
	json_decref(details);
	json_decref(name_obj);
	return rc;
}

int gh_gov_bootstrap(char **out_token, gh_gov *g, const char *admin_name)
{
	char text[TOKEN_BUF];
	int rc;

	*out_token = NULL;
	gh_error_clear();
	if ((rc = gh_store_begin(g->store)))
		return rc;
	rc = gov_finish(g, bootstrap_locked(text, g, admin_name));
	if (!rc && !(*out_token = strdup(text)))
		rc = gh_error_set(GH_ERROR, "out of memory");
	sodium_memzero(text, sizeof(text));
	return rc;
}

/* --- create / revoke --------------------------------------------------------- */

static const char *const create_fields[] = {"identity", "name", "expires_in", NULL};

static int create_locked(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	const char *ref = NULL, *name = NULL;
	char idn[GH_ID_LEN], tok[GH_ID_LEN], text[TOKEN_BUF], created[40], expires[40];
	int64_t now = gh_now(), expires_in = 0, expires_at = 0, idn_expires = 0;
	sqlite3_stmt *st;
	int resolved = 0, rc;

	if (gh_jv_object(in, create_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	if (gh_jv_string(in, "identity", 1, 256, &ref) > 0) {
		if ((rc = gov_resolve_field(g, "identities", "identity", ref, idn)) &&
		    rc != GH_EINVALID)
			return rc;
		resolved = rc == 0;
	}
	gh_jv_string(in, "name", 1, 64, &name);
	gh_jv_duration(in, "expires_in", 0, &expires_in);
	if (resolved) {
		char status[32] = "";
		if ((rc = gh_store_stmt(&st, g->store,
					"SELECT status, expires_at FROM identities WHERE id = ?")))
			return rc;
		sqlite3_bind_text(st, 1, idn, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(status, sizeof(status), "%s", (const char *)sqlite3_column_text(st, 0));
			idn_expires = sqlite3_column_int64(st, 1); /* 0 when NULL */
		} else {
			rc = gh_store_fail(g->store, "reading an identity");
		}
		sqlite3_reset(st);
		if (rc)
			return rc;
		if (strcmp(status, "active") != 0)
			gh_error_field("identity", "must be active; %s is %s", ref, status);
		else if (idn_expires && idn_expires <= now)
			gh_error_field("identity", "%s expired; extend its expires_at first", ref);
	}
	if (expires_in > max_lifetime(g))
		gh_error_field("expires_in", "must be at most %lld days",
			       (long long)(max_lifetime(g) / 86400));
	if ((rc = gh_error_fields_finish()))
		return rc;
	/* every token expires: the default lifetime unless one is given */
	expires_at = now + (expires_in ? expires_in : g->opts.token_lifetime);
	/* a token never outlives its identity */
	if (idn_expires && expires_at > idn_expires)
		expires_at = idn_expires;
	if ((rc = token_issue(text, tok, g, actor->id, idn, name, now, expires_at, NULL)))
		return rc;
	gh_time_format(created, sizeof(created), now);
	gh_time_format(expires, sizeof(expires), expires_at);
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "id", tok, "identity", idn,
			 "name", name, "token", text, "created_at", created,
			 "expires_at", expires_at ? expires : NULL);
	sodium_memzero(text, sizeof(text));
	return *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
}

int gh_gov_token_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN, "creating a token")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_auth(g, create_locked(out, g, actor, in), out);
}

/* The stored token token_id: its identity, name (may be NULL) and whether it
 * is revoked. GH_ENOTFOUND when there is none. */
static int token_load(gh_gov *g, const char *token_id, char identity[GH_ID_LEN],
		      char *name, size_t namelen, int *revoked)
{
	sqlite3_stmt *st;
	int rc;

	if (!token_id || strlen(token_id) >= GH_ID_LEN)
		return gh_error_set(GH_ENOTFOUND, "token not found");
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT identity_id, name, revoked_at IS NOT NULL FROM tokens"
				" WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(identity, GH_ID_LEN, "%s", (const char *)sqlite3_column_text(st, 0));
		if (name)
			snprintf(name, namelen, "%s", (const char *)sqlite3_column_text(st, 1));
		*revoked = sqlite3_column_int(st, 2);
	}
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE
	     ? gh_error_set(GH_ENOTFOUND, "token %s not found", token_id)
	     : gh_store_fail(g->store, "reading a token");
	sqlite3_reset(st);
	return rc;
}

static int revoke_locked(gh_gov *g, const gh_actor *actor, const char *token_id)
{
	json_t *details = NULL;
	char identity[GH_ID_LEN] = "";
	sqlite3_stmt *st;
	int revoked = 0, rc;

	if ((rc = token_load(g, token_id, identity, NULL, 0, &revoked)))
		return rc;
	if (revoked)
		return gh_error_set(GH_ECONFLICT, "token %s is already revoked", token_id);
	if ((rc = gh_store_stmt(&st, g->store, "UPDATE tokens SET revoked_at = ? WHERE id = ?")))
		return rc;
	sqlite3_bind_int64(st, 1, gh_now());
	sqlite3_bind_text(st, 2, token_id, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "revoking a token")))
		return rc;
	if (!(details = json_pack("{s:s}", "identity", identity)))
		return gh_error_set(GH_ERROR, "out of memory");
	rc = gh_audit_append(NULL, g->store, actor->id, "token.revoked", "token", token_id, details);
	json_decref(details);
	return rc;
}

int gh_gov_token_revoke(gh_gov *g, const gh_actor *actor, const char *token_id)
{
	int rc;

	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN, "revoking a token")))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	rc = gov_finish(g, revoke_locked(g, actor, token_id));
	if (rc == 0)
		gov_auth_changed(g);
	return rc;
}

/* --- rotate / list / offline admin token -------------------------------------- */

/* The identity's status and expiry (0 when none); GH_ENOTFOUND-free: the
 * identity of a token always exists. Inside a transaction. */
static int identity_state(gh_gov *g, const char *idn, char status[32], int64_t *expires)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT status, expires_at FROM identities WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, idn, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(status, 32, "%s", (const char *)sqlite3_column_text(st, 0));
		*expires = sqlite3_column_int64(st, 1);
	} else {
		rc = gh_store_fail(g->store, "reading an identity");
	}
	sqlite3_reset(st);
	return rc;
}

/* A new token for idn with a fresh lifetime (never past the identity's
 * expiry) into *out as create returns it. */
static int issue_fresh(json_t **out, gh_gov *g, const char *actor_id, const char *idn,
		       const char *name, const char *via)
{
	char tok[GH_ID_LEN], text[TOKEN_BUF], status[32] = "", created[40], expires[40];
	char idn_name[128];
	int64_t now = gh_now(), expires_at, idn_expires = 0;
	int rc;

	if ((rc = identity_state(g, idn, status, &idn_expires)))
		return rc;
	if (strcmp(status, "active") != 0)
		return gh_error_set(GH_ECONFLICT, "identity %s is %s, not active",
				    gov_name_of(g, idn, idn_name, sizeof(idn_name)), status);
	if (idn_expires && idn_expires <= now)
		return gh_error_set(GH_ECONFLICT, "identity %s has expired",
				    gov_name_of(g, idn, idn_name, sizeof(idn_name)));
	expires_at = now + g->opts.token_lifetime;
	if (idn_expires && expires_at > idn_expires)
		expires_at = idn_expires;
	if ((rc = token_issue(text, tok, g, actor_id, idn, name, now, expires_at, via)))
		return rc;
	gh_time_format(created, sizeof(created), now);
	gh_time_format(expires, sizeof(expires), expires_at);
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", tok, "identity", idn, "name",
			 name, "token", text, "created_at", created, "expires_at", expires);
	sodium_memzero(text, sizeof(text));
	return *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
}

static int rotate_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *token_id)
{
	char identity[GH_ID_LEN] = "", name[80] = "";
	json_t *details = NULL;
	sqlite3_stmt *st;
	int revoked = 0, rc;

	if ((rc = token_load(g, token_id, identity, name, sizeof(name), &revoked)))
		return rc;
	/* another identity's token is as good as absent to a non-admin */
	if (!(actor->roles & GH_ROLE_ADMIN) && strcmp(actor->id, identity) != 0)
		return gh_error_set(GH_ENOTFOUND, "token %s not found", token_id);
	if (revoked)
		return gh_error_set(GH_ECONFLICT, "token %s is revoked; it cannot be rotated",
				    token_id);
	if ((rc = issue_fresh(out, g, actor->id, identity, name, NULL)))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE tokens SET revoked_at = ?, rotated_to = ? WHERE id = ?")))
		return rc;
	sqlite3_bind_int64(st, 1, gh_now());
	sqlite3_bind_text(st, 2, json_string_value(json_object_get(*out, "id")), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, token_id, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "revoking the rotated token")))
		return rc;
	json_object_set_new(*out, "rotated_from", json_string(token_id));
	if (!(details = json_pack("{s:s, s:O}", "identity", identity, "rotated_to",
				  json_object_get(*out, "id"))))
		return gh_error_set(GH_ERROR, "out of memory");
	rc = gh_audit_append(NULL, g->store, actor->id, "token.rotated", "token", token_id, details);
	json_decref(details);
	return rc;
}

int gh_gov_token_rotate(json_t **out, gh_gov *g, const gh_actor *actor, const char *token_id)
{
	int rc;

	*out = NULL;
	gh_error_clear();
	if (!actor || !actor->id[0])
		return gh_error_set(GH_EFORBIDDEN, "rotating a token needs an identity");
	if ((rc = gh_store_begin(g->store)))
		return rc;
	return gov_finish_auth(g, rotate_locked(out, g, actor, token_id), out);
}


#define TOKEN_STATUS \
	"CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'" \
	" WHEN t.expires_at IS NOT NULL AND t.expires_at <= ?9 THEN 'expired' ELSE 'active' END"

static json_t *token_json(sqlite3_stmt *st)
{
	char created[40], expires[40], used[40], revoked[40];
	int64_t e = sqlite3_column_int64(st, 4), u = sqlite3_column_int64(st, 5),
		r = sqlite3_column_int64(st, 6);

	gh_time_format(created, sizeof(created), sqlite3_column_int64(st, 3));
	gh_time_format(expires, sizeof(expires), e);
	gh_time_format(used, sizeof(used), u);
	gh_time_format(revoked, sizeof(revoked), r);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?}",
			 "id", (const char *)sqlite3_column_text(st, 0),
			 "identity", (const char *)sqlite3_column_text(st, 1),
			 "name", (const char *)sqlite3_column_text(st, 2),
			 "status", (const char *)sqlite3_column_text(st, 8),
			 "created_at", created, "expires_at", e ? expires : NULL,
			 "last_used_at", u ? used : NULL, "revoked_at", r ? revoked : NULL,
			 "rotated_to", (const char *)sqlite3_column_text(st, 7));
}

int gh_gov_token_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		      const char *identity, const char *status)
{
	char idn[GH_ID_LEN] = "";
	json_t *items = NULL, *item;
	sqlite3_stmt *st;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN, "listing tokens")))
		return rc;
	if (status)
		gov_check_enum("status", gov_token_statuses, status);
	gh_store_read_begin(g->store);
	if (identity && (rc = gov_resolve_field(g, "identities", "identity", identity, idn)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if ((rc = gov_page(g, "tokens", page, &limit, &after)) || (rc = gh_error_fields_finish()))
		goto cleanup;
	/* never the secret's hash */
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT t.id, t.identity_id, t.name, t.created_at, t.expires_at,"
				" t.last_used_at, t.revoked_at, t.rotated_to, " TOKEN_STATUS
				" FROM tokens t WHERE t.pk > ?1"
				" AND (?2 IS NULL OR t.identity_id = ?2)"
				" AND (?3 IS NULL OR " TOKEN_STATUS " = ?3)"
				" ORDER BY t.pk LIMIT ?4")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, after);
	if (identity)
		sqlite3_bind_text(st, 2, idn, -1, SQLITE_STATIC);
	if (status)
		sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, limit);
	sqlite3_bind_int64(st, 9, gh_now());
	if (!(items = json_array())) {
		sqlite3_reset(st);
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(item = token_json(st)) || json_array_append_new(items, item)) {
			sqlite3_reset(st);
			rc = gh_error_set(GH_ERROR, "out of memory");
			goto cleanup;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "listing tokens");
		goto cleanup;
	}
	rc = 0;
	if (!(*out = gov_list_result(items, limit)))
		rc = gh_error_set(GH_ERROR, "out of memory");
	items = NULL;
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}

static int admin_token_locked(json_t **out, gh_gov *g, const char *identity_ref,
			      const char *name)
{
	char idn[GH_ID_LEN];
	sqlite3_stmt *st;
	json_t *roles = NULL;
	int admin = 0, rc;

	if ((rc = gov_resolve(g, "identities", identity_ref, idn)))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT roles FROM identities WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, idn, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		roles = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	else
		rc = gh_store_fail(g->store, "reading an identity");
	sqlite3_reset(st);
	if (rc)
		return rc;
	if (json_is_array(roles)) {
		json_t *item;
		size_t i;
		json_array_foreach(roles, i, item)
			if (json_is_string(item) && strcmp(json_string_value(item), "admin") == 0)
				admin = 1;
	}
	json_decref(roles);
	if (!admin)
		return gh_error_set(GH_EDENIED, "%s does not hold the admin role", identity_ref);
	return issue_fresh(out, g, "system:operator", idn, name, "admin-token");
}

int gh_gov_admin_token(json_t **out, gh_gov *g, const char *identity_ref, const char *name)
{
	json_t *n;
	const char *checked;
	int rc;

	*out = NULL;
	gh_error_clear();
	if (!(n = json_pack("{s:s?}", "name", name ? name : "admin-token")))
		return gh_error_set(GH_ERROR, "out of memory");
	gh_jv_string(n, "name", 1, 64, &checked);
	if ((rc = gh_error_fields_finish())) {
		json_decref(n);
		return rc;
	}
	if ((rc = gh_store_begin(g->store))) {
		json_decref(n);
		return rc;
	}
	rc = gov_finish_auth(g, admin_token_locked(out, g, identity_ref, checked), out);
	json_decref(n);
	return rc;
}

/* --- authenticate ------------------------------------------------------------ */

/* A direct-mapped cache of tokens that authenticated recently, so the hot
 * path needs no database read. An entry holds only what the database holds
 * (the secret's hash, never the secret) and is trusted while its generation
 * is current (any token or identity change bumps it) and for at most
 * AUTH_TTL seconds (changes made by another process). */
#define AUTH_SLOTS 1024
#define AUTH_TTL 2

typedef struct auth_entry {
	char id[GH_ID_LEN];
	unsigned char hash[crypto_hash_sha256_BYTES];
	gh_actor actor;
	int64_t token_expires;     /* INT64_MAX when none */
	int64_t identity_expires;  /* INT64_MAX when none */
	uint64_t gen;
	int64_t loaded_at;
	int64_t last_used;
} auth_entry;

struct gov_auth_cache {
	pthread_mutex_t lock;
	auth_entry slot[AUTH_SLOTS];
};

int gov_auth_cache_new(gh_gov *g)
{
	if (!(g->auth = calloc(1, sizeof(*g->auth))))
		return gh_error_set(GH_ERROR, "out of memory");
	pthread_mutex_init(&g->auth->lock, NULL);
	return 0;
}

void gov_auth_cache_free(gh_gov *g)
{
	if (!g->auth)
		return;
	pthread_mutex_destroy(&g->auth->lock);
	sodium_memzero(g->auth, sizeof(*g->auth));
	free(g->auth);
	g->auth = NULL;
}

void gov_auth_changed(gh_gov *g)
{
	atomic_fetch_add(&g->auth_gen, 1);
}

void gh_gov_auth_flush(gh_gov *g)
{
	gov_auth_changed(g);
}

static size_t auth_slot(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % AUTH_SLOTS;
}

/* Writes last_used_at as a write of its own; a lost update costs nothing. */
static void record_use(gh_gov *g, const char *id, int64_t now)
{
	gov_secret_touch(g, "UPDATE tokens SET last_used_at = ? WHERE id = ?", id, now);
}

/* 1 when the cache vouches for (id, hash) now and *out is filled. */
static int auth_cached(gh_actor *out, gh_gov *g, const char *id, const unsigned char *hash,
		       int64_t now)
{
	auth_entry e, *slot = &g->auth->slot[auth_slot(id)];
	int hit, use = 0;

	pthread_mutex_lock(&g->auth->lock);
	hit = slot->id[0] && strcmp(slot->id, id) == 0 &&
	      slot->gen == atomic_load(&g->auth_gen) && now - slot->loaded_at < AUTH_TTL &&
	      now >= slot->loaded_at;
	if (hit) {
		e = *slot;
		if (now - slot->last_used >= LAST_USED_EVERY) {
			slot->last_used = now;
			use = 1;
		}
	}
	pthread_mutex_unlock(&g->auth->lock);
	if (!hit)
		return 0;
	hit = sodium_memcmp(e.hash, hash, sizeof(e.hash)) == 0 && e.token_expires > now &&
	      e.identity_expires > now;
	if (hit) {
		*out = e.actor;
		if (use)
			record_use(g, id, now);
	}
	sodium_memzero(&e, sizeof(e));
	return hit;
}

static void auth_remember(gh_gov *g, const char *id, const unsigned char *hash,
			  const gh_actor *actor, int64_t token_expires, int64_t identity_expires,
			  uint64_t gen, int64_t now, int64_t last_used)
{
	auth_entry *slot = &g->auth->slot[auth_slot(id)];

	pthread_mutex_lock(&g->auth->lock);
	snprintf(slot->id, sizeof(slot->id), "%s", id);
	memcpy(slot->hash, hash, sizeof(slot->hash));
	slot->actor = *actor;
	slot->token_expires = token_expires;
	slot->identity_expires = identity_expires;
	slot->gen = gen;
	slot->loaded_at = now;
	slot->last_used = last_used;
	pthread_mutex_unlock(&g->auth->lock);
}

/* gh_gov_authenticate, saying in *reason why it failed. */
static int authenticate(gh_actor *out, gh_gov *g, const char *token, int *reason)
{
	/* compared against when the id is unknown, so both paths hash and compare */
	static const unsigned char dummy[crypto_hash_sha256_BYTES];
	unsigned char hash[crypto_hash_sha256_BYTES];
	unsigned char stored[crypto_hash_sha256_BYTES];
	char id[GH_ID_LEN];
	const char *why = NULL;
	json_t *roles = NULL;
	sqlite3_stmt *st;
	int64_t now = gh_now(), last_used = 0;
	int64_t token_expires = INT64_MAX, identity_expires = INT64_MAX;
	uint64_t gen;
	int found = 0, match, rc, step, why_reason = GOV_AUTH_UNKNOWN;

	memset(out, 0, sizeof(*out));
	gh_error_clear();
	*reason = GOV_AUTH_MALFORMED;
	if (gov_secret_parse(id, hash, token, "tok", "gh_") != 0)
		return gh_error_set(GH_EUNAUTH, "malformed token");
	if (auth_cached(out, g, id, hash, now)) {
		sodium_memzero(hash, sizeof(hash));
		return 0;
	}
	memcpy(stored, dummy, sizeof(stored));

	/* read before the database: a change committed meanwhile invalidates what we cache */
	gen = atomic_load(&g->auth_gen);
	gh_store_read_begin(g->store);
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT t.secret_hash, t.expires_at, t.revoked_at IS NOT NULL,"
				" t.last_used_at, i.id, i.status, i.roles, i.expires_at"
				" FROM tokens t JOIN identities i ON i.id = t.identity_id"
				" WHERE t.id = ?")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)sizeof(stored)) {
		found = 1;
		memcpy(stored, sqlite3_column_blob(st, 0), sizeof(stored));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			token_expires = sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			identity_expires = sqlite3_column_int64(st, 7);
		if (token_expires <= now)
			why = "token has expired", why_reason = GOV_AUTH_EXPIRED;
		else if (sqlite3_column_int(st, 2))
			why = "token has been revoked", why_reason = GOV_AUTH_REVOKED;
		else if (strcmp((const char *)sqlite3_column_text(st, 5), "active") != 0)
			why = "the token's identity is not active", why_reason = GOV_AUTH_INACTIVE;
		else if (identity_expires <= now)
			why = "the token's identity has expired", why_reason = GOV_AUTH_INACTIVE;
		last_used = sqlite3_column_int64(st, 3);
		snprintf(out->id, sizeof(out->id), "%s", (const char *)sqlite3_column_text(st, 4));
		roles = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "authenticating");
	}
	sqlite3_reset(st);
	if (rc)
		goto cleanup;
	match = sodium_memcmp(stored, hash, sizeof(hash)) == 0;
	/* details only to the holder of the right secret */
	if (!found || !match) {
		*reason = GOV_AUTH_UNKNOWN;
		rc = gh_error_set(GH_EUNAUTH, "unknown token");
		goto cleanup;
	}
	if (why) {
		*reason = why_reason;
		rc = gh_error_set(GH_EUNAUTH, "%s", why);
		goto cleanup;
	}
	if (json_is_array(roles)) {
		json_t *item;
		size_t i;
		json_array_foreach(roles, i, item)
			if (json_is_string(item))
				out->roles |= gh_role_parse(json_string_value(item));
	}
cleanup:
	gh_store_read_end(g->store);
	if (rc == 0) {
		int use = now - last_used >= LAST_USED_EVERY;
		auth_remember(g, id, stored, out, token_expires, identity_expires, gen, now,
			      use ? now : last_used);
		if (use)
			record_use(g, id, now);
	}
	json_decref(roles);
	sodium_memzero(hash, sizeof(hash));
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int gh_gov_authenticate(gh_actor *out, gh_gov *g, const char *token)
{
	int reason;

	return authenticate(out, g, token, &reason);
}

/* --- failed authentications, per source --------------------------------------- */

#define REPORTS_AT_ONCE 64

int gh_gov_authenticate_from(gh_actor *out, gh_gov *g, const char *token, const char *source,
			     int64_t *retry_after)
{
	int64_t now = gh_now_us() / 1000, wait;
	int reason = GOV_AUTH_MALFORMED, rc;

	*retry_after = 0;
	memset(out, 0, sizeof(*out));
	/* a blocked source is refused before its token is even looked at */
	if (source && (wait = gov_authlimit_check(g->authlimit, source, now)) > 0) {
		*retry_after = (wait + 999) / 1000;
		return gh_error_set(GH_ELIMITED,
				    "too many failed authentications from this address; try again"
				    " in %lld s", (long long)*retry_after);
	}
	if (!token) {
		rc = gh_error_set(GH_EUNAUTH, "malformed token");
	} else {
		rc = authenticate(out, g, token, &reason);
	}
	if (rc == GH_EUNAUTH && source)
		gov_authlimit_fail(g->authlimit, source, reason, now);
	return rc;
}

/* One auth.failed event: what one source did in one window (never a token). */
static int report_event(gh_gov *g, const gov_authlimit_report *r)
{
	char first[40], last[40];
	json_t *details, *reasons;
	int rc;

	if (!(reasons = json_object()))
		return gh_error_set(GH_ERROR, "out of memory");
	for (int i = 0; i < GOV_AUTH_REASONS; i++)
		if (r->reasons[i])
			json_object_set_new(reasons, gov_auth_reason_names[i],
					    json_integer(r->reasons[i]));
	gh_time_format(first, sizeof(first), r->first_ms / 1000);
	gh_time_format(last, sizeof(last), r->last_ms / 1000);
	details = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:o}", "source", r->source,
			    "count", (json_int_t)(r->failures + r->refused),
			    "failures", (json_int_t)r->failures, "refused", (json_int_t)r->refused,
			    "first_at", first, "last_at", last, "reasons", reasons);
	if (!details)
		return gh_error_set(GH_ERROR, "out of memory");
	rc = gh_audit_append(NULL, g->store, "system:auth", "auth.failed", "source", r->source,
			     details);
	json_decref(details);
	return rc;
}

int gh_gov_auth_failures_flush(gh_gov *g, int all)
{
	gov_authlimit_report r[REPORTS_AT_ONCE];
	size_t n;
	int rc = 0;

	do {
		n = gov_authlimit_drain(g->authlimit, r, REPORTS_AT_ONCE, gh_now_us() / 1000, all);
		if (n == 0)
			break;
		if ((rc = gh_store_begin(g->store)))
			break;
		for (size_t i = 0; i < n && !rc; i++)
			rc = report_event(g, &r[i]);
		if (rc) {
			gh_store_rollback(g->store);
		} else {
			rc = gh_store_commit(g->store);
		}
	} while (!rc && n == REPORTS_AT_ONCE);
	return rc;
}
