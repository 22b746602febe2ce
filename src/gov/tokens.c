/* tokens.c - API bearer tokens: bootstrap, issue, revoke and authenticate.
 *
 * Token text: "gh_" <16 hex: the id's random part> "." <secret: 32 random bytes,
 * base64url without padding>. Only SHA-256(secret) is stored; the text is shown
 * once, when the token is created. API keys (credentials.c) use the same
 * helpers, gov_secret_*, with prefixes of their own. */
#include "gov/gov_internal.h"
#include "store/cluster.h"
#include "gov/authlimit.h"
#include "store/identities.h"
#include "store/tokens.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
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
	int rc;

	gov_secret_new(text, id, hash, "tok", "gh_");
	rc = gh_store_tokens_insert(g->store, id, identity_id, name, hash, sizeof(hash), now,
				    expires_at);
	sodium_memzero(hash, sizeof(hash));
	if (rc)
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

int gov_secret_equal(const void *stored, size_t n,
		     const unsigned char hash[GOV_SECRET_HASH_BYTES])
{
	/* compared against when nothing usable is stored, so every path compares */
	static const unsigned char dummy[GOV_SECRET_HASH_BYTES];
	unsigned char copy[GOV_SECRET_HASH_BYTES];
	int usable = stored && n == sizeof(copy);
	int match;

	memcpy(copy, usable ? stored : dummy, sizeof(copy));
	match = sodium_memcmp(copy, hash, sizeof(copy)) == 0;
	sodium_memzero(copy, sizeof(copy));
	return usable && match;
}

/* --- bootstrap --------------------------------------------------------------- */

static int bootstrap_locked(char text[TOKEN_BUF], gh_gov *g, const char *admin_name)
{
	static const char *const actor = "system:init";
	char idn[GH_ID_LEN], tok[GH_ID_LEN];
	json_t *details = NULL, *row = NULL, *name_obj;
	const char *name;
	int64_t now = gh_now(), count = 0;
	int rc;

	if (!(name_obj = json_pack("{s:s?}", "name", admin_name)))
		return gh_error_set(GH_ERROR, "out of memory");
	gov_jv_field(name_obj, "name", GH_GOV_FIELD_NAME, 1, &name);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_store_identity_count(&count, g->store)))
		goto cleanup;
	if (count > 0) {
		rc = gh_error_set(GH_ECONFLICT, "already initialised: %lld identities exist",
				  (long long)count);
		goto cleanup;
	}
	gh_id_new(idn, sizeof(idn), "idn");
	if (!(row = json_pack("{s:s, s:s, s:s, s:[s], s:{}, s:I}", "id", idn, "kind", "human",
			      "name", name, "roles", "admin", "attributes",
			      "created_at", (json_int_t)now))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_identity_insert(g->store, row)))
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
	json_decref(row);
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
		gh_store_identity_brief b;
		if ((rc = gh_store_identity_brief_get(&b, g->store, idn)))
			return rc;
		idn_expires = b.has_expires ? b.expires_at : 0;
		if (strcmp(b.status, "active") != 0)
			gh_error_field("identity", "must be active; %s is %s", ref, b.status);
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
	gh_store_token t;
	int rc;

	if (!token_id || strlen(token_id) >= GH_ID_LEN)
		return gh_error_set(GH_ENOTFOUND, "token not found");
	if ((rc = gh_store_tokens_get(&t, g->store, token_id)))
		return rc;
	snprintf(identity, GH_ID_LEN, "%s", t.identity);
	if (name)
		snprintf(name, namelen, "%s", t.name);
	*revoked = t.revoked;
	return 0;
}

static int revoke_locked(gh_gov *g, const gh_actor *actor, const char *token_id)
{
	json_t *details = NULL;
	char identity[GH_ID_LEN] = "";
	int revoked = 0, rc;

	if ((rc = token_load(g, token_id, identity, NULL, 0, &revoked)))
		return rc;
	if (revoked)
		return gh_error_set(GH_ECONFLICT, "token %s is already revoked", token_id);
	if ((rc = gh_store_tokens_revoke(g->store, token_id, gh_now())))
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
	gh_store_identity_brief b;
	int rc;

	if ((rc = gh_store_identity_brief_get(&b, g->store, idn)))
		return rc;
	snprintf(status, 32, "%s", b.status);
	*expires = b.has_expires ? b.expires_at : 0;
	return 0;
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
	if ((rc = gh_store_tokens_rotated(g->store, token_id, gh_now(),
					  json_string_value(json_object_get(*out, "id")))))
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


int gh_gov_token_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		      const char *identity, const char *status)
{
	char idn[GH_ID_LEN] = "";
	json_t *items = NULL;
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
	if ((rc = gh_store_tokens_list(&items, g->store, after, limit, identity ? idn : NULL,
				       status, gh_now())))
		goto cleanup;
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
	json_t *identity = NULL, *item;
	size_t i;
	int admin = 0, rc;

	if ((rc = gov_resolve(g, "identities", identity_ref, idn)) ||
	    (rc = gh_store_identity_get(&identity, g->store, idn)))
		return rc;
	json_array_foreach(json_object_get(identity, "roles"), i, item)
		if (json_is_string(item) && strcmp(json_string_value(item), "admin") == 0)
			admin = 1;
	json_decref(identity);
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
 * is current (any token or identity change bumps it, here and, through the
 * stored generation, on other nodes within their poll interval: cluster.c)
 * and for at most AUTH_TTL seconds (a change whose generation was lost). */
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
	/* other nodes follow the stored generation (cluster.c); were this write
	 * lost, their cached entries still end within AUTH_TTL */
	if (gh_store_begin(g->store) == 0 &&
	    gov_finish(g, gh_store_generation_bump(g->store, "auth")) != 0)
		fprintf(stderr, "gatehouse: telling other nodes that tokens changed: %s\n",
			gh_error_last()->message);
	gh_error_clear();
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
	if (gh_store_begin(g->store) == 0) {
		if (gh_store_tokens_touch(g->store, id, now))
			gh_store_rollback(g->store);
		else
			gh_store_commit(g->store);
	}
	gh_error_clear();
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
	unsigned char hash[crypto_hash_sha256_BYTES];
	char id[GH_ID_LEN];
	const char *why = NULL;
	gh_store_token_auth a;
	int64_t now = gh_now(), last_used = 0;
	int64_t token_expires = INT64_MAX, identity_expires = INT64_MAX;
	uint64_t gen;
	int found, match, rc, why_reason = GOV_AUTH_UNKNOWN;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	gh_error_clear();
	*reason = GOV_AUTH_MALFORMED;
	if (gov_secret_parse(id, hash, token, "tok", "gh_") != 0)
		return gh_error_set(GH_EUNAUTH, "malformed token");
	if (auth_cached(out, g, id, hash, now)) {
		sodium_memzero(hash, sizeof(hash));
		return 0;
	}

	/* read before the database: a change committed meanwhile invalidates what we cache */
	gen = atomic_load(&g->auth_gen);
	gh_store_read_begin(g->store);
	if ((rc = gh_store_tokens_auth(&a, g->store, id)) < 0)
		goto cleanup;
	found = rc == 1 && a.hash_ok;
	rc = 0;
	if (found) {
		if (a.has_expires)
			token_expires = a.expires_at;
		if (a.identity_has_expires)
			identity_expires = a.identity_expires_at;
		if (token_expires <= now)
			why = "token has expired", why_reason = GOV_AUTH_EXPIRED;
		else if (a.revoked)
			why = "token has been revoked", why_reason = GOV_AUTH_REVOKED;
		else if (strcmp(a.identity_status, "active") != 0)
			why = "the token's identity is not active", why_reason = GOV_AUTH_INACTIVE;
		else if (identity_expires <= now)
			why = "the token's identity has expired", why_reason = GOV_AUTH_INACTIVE;
		last_used = a.last_used_at;
		snprintf(out->id, sizeof(out->id), "%s", a.identity);
	}
	/* both paths compare (against a dummy when the id is unknown) */
	match = gov_secret_equal(found ? a.secret_hash : NULL, sizeof(a.secret_hash), hash);
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
	{
		json_t *item;
		size_t i;
		json_array_foreach(a.roles, i, item)
			if (json_is_string(item))
				out->roles |= gh_role_parse(json_string_value(item));
	}
cleanup:
	gh_store_read_end(g->store);
	if (rc == 0) {
		int use = now - last_used >= LAST_USED_EVERY;
		auth_remember(g, id, a.secret_hash, out, token_expires, identity_expires, gen, now,
			      use ? now : last_used);
		if (use)
			record_use(g, id, now);
	}
	json_decref(a.roles);
	sodium_memzero(&a, sizeof(a));
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
