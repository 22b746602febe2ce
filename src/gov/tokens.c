/* tokens.c - API bearer tokens: bootstrap, issue, revoke and authenticate.
 *
 * Token text: "gh_" <16 hex: the id's random part> "." <secret: 32 random bytes,
 * base64url without padding>. Only SHA-256(secret) is stored; the text is shown
 * once, when the token is created. API keys (credentials.c) use the same
 * helpers, gov_secret_*, with prefixes of their own. */
#include "gov/gov_internal.h"

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

static int finish(gh_gov *g, int rc, json_t **out)
{
	rc = gov_finish(g, rc);
	if (rc == 0)
		gov_auth_changed(g);
	if (rc && out) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* Issues a token for identity_id and audits it. text receives the token text
 * (TOKEN_BUF bytes), id the token id. expires_at 0 means no expiry. Inside a
 * transaction. */
static int token_issue(char text[TOKEN_BUF], char id[GH_ID_LEN], gh_gov *g, const char *actor_id,
		       const char *identity_id, const char *name, int64_t now, int64_t expires_at)
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
	details = json_pack("{s:s, s:s, s:s?}", "identity", identity_id, "name", name,
			    "expires_at", expires_at ? when : NULL);
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
	rc = token_issue(text, tok, g, actor, idn, "bootstrap", now, 0);
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
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (expires_in)
		expires_at = now + expires_in;
	/* a token never outlives its identity */
	if (idn_expires && (!expires_at || expires_at > idn_expires))
		expires_at = idn_expires;
	if ((rc = token_issue(text, tok, g, actor->id, idn, name, now, expires_at)))
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
	return finish(g, create_locked(out, g, actor, in), out);
}

static int revoke_locked(gh_gov *g, const gh_actor *actor, const char *token_id)
{
	json_t *details = NULL;
	char identity[GH_ID_LEN] = "";
	sqlite3_stmt *st;
	int revoked = 0, rc;

	if (!token_id || strlen(token_id) >= GH_ID_LEN)
		return gh_error_set(GH_ENOTFOUND, "token not found");
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT identity_id, revoked_at IS NOT NULL FROM tokens WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(identity, sizeof(identity), "%s", (const char *)sqlite3_column_text(st, 0));
		revoked = sqlite3_column_int(st, 1);
	}
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE
	     ? gh_error_set(GH_ENOTFOUND, "token %s not found", token_id)
	     : gh_store_fail(g->store, "reading a token");
	sqlite3_reset(st);
	if (rc)
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

int gh_gov_authenticate(gh_actor *out, gh_gov *g, const char *token)
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
	int found = 0, match, rc, step;

	memset(out, 0, sizeof(*out));
	gh_error_clear();
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
			why = "token has expired";
		else if (sqlite3_column_int(st, 2))
			why = "token has been revoked";
		else if (strcmp((const char *)sqlite3_column_text(st, 5), "active") != 0)
			why = "the token's identity is not active";
		else if (identity_expires <= now)
			why = "the token's identity has expired";
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
		rc = gh_error_set(GH_EUNAUTH, "unknown token");
		goto cleanup;
	}
	if (why) {
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
