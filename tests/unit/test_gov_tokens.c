/* test_gov_tokens.c - bootstrap, token issue, revoke and authentication against a real SQLite file. */
#include "gov/gov.h"
#include "gov/gov_internal.h"
#include "harness.h"
#include "store_fixture.h"

#include <sodium.h>
#include <stdlib.h>

static const gh_actor admin = {"idn_0000000000000001", GH_ROLE_ADMIN};
static char future[40];
static int db_seq;

static gh_gov *open_gov(void)
{
	char path[512];
	gh_gov *g = NULL;

	sf_targetf(path, sizeof(path), 1, "tokens-%d.db", ++db_seq);
	if (!CHECK_INT(gh_gov_open(&g, path, 1, NULL), 0))
		exit(2);
	return g;
}

static int64_t count(gh_gov *g, const char *sql)
{
	return sf_int(gh_gov_store(g), sql, NULL, NULL);
}

/* Runs one statement whose only parameter is now + offset (for aging rows). */
static void exec_at(gh_gov *g, const char *sql, long long offset)
{
	gh_sql *st = NULL;

	gh_store_exclusive_begin(gh_gov_store(g));
	CHECK_INT(gh_sql_prepare_once(&st, gh_gov_store(g), sql), 0);
	if (st) {
		gh_sql_bind_int64(st, 1, gh_now() + offset);
		CHECK_INT(gh_sql_step(st), GH_SQL_DONE);
	}
	gh_sql_finalize(st);
	gh_store_exclusive_end(gh_gov_store(g));
	gh_gov_auth_flush(g);   /* changed behind the domain's back */
}

static int64_t audit_count(gh_gov *g)
{
	return count(g, "SELECT count(*) FROM audit_events");
}

static int has_field(const char *field)
{
	json_t *item;
	size_t i;

	json_array_foreach(gh_error_last()->fields, i, item)
		if (strcmp(json_string_value(json_object_get(item, "field")), field) == 0)
			return 1;
	return 0;
}

static const char *sget(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int64_t parse_time(const char *s)
{
	int64_t t = -1;

	if (!s || gh_time_parse(&t, s))
		return -1;
	return t;
}

/* An NHI owned by the bootstrap admin; returns its id. */
static void make_nhi(gh_gov *g, const char *name, const char *roles, char id[GH_ID_LEN])
{
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "kind", "service_account",
			       "name", name, "owner", "root", "purpose", "ci", "environment", "prod",
			       "expires_at", future, "roles", roles);
	json_t *out = NULL;

	CHECK_INT(gh_gov_identity_create(&out, g, &admin, in), 0);
	if (out)
		snprintf(id, GH_ID_LEN, "%s", sget(out, "id"));
	json_decref(out);
	json_decref(in);
}

/* Issues a token; *out receives the answer (caller frees). */
static int issue(json_t **out, gh_gov *g, const char *identity, const char *name,
		 const char *expires_in)
{
	json_t *in = json_pack("{s:s, s:s}", "identity", identity, "name", name);
	int rc;

	if (expires_in)
		json_object_set_new(in, "expires_in", json_string(expires_in));
	rc = gh_gov_token_create(out, g, &admin, in);
	json_decref(in);
	return rc;
}

static void test_gov_bootstrap__creates_the_first_admin_once(void)
{
	gh_gov *g = open_gov();
	char *token = NULL, *again = NULL;
	gh_actor who;
	json_t *out = NULL;

	CHECK_INT(gh_gov_bootstrap(&token, g, "Bad Name"), GH_EINVALID);
	CHECK(token == NULL);
	CHECK_INT(count(g, "SELECT count(*) FROM identities"), 0);
	CHECK_INT(audit_count(g), 0);

	CHECK_INT(gh_gov_bootstrap(&token, g, "root"), 0);
	if (!CHECK(token != NULL))
		return;
	CHECK_INT(strlen(token), 63);
	CHECK(strncmp(token, "gh_", 3) == 0 && token[19] == '.');
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE actor = 'system:init'"), 2);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.created'"), 1);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'token.created'"), 1);
	/* the first admin's token expires too: 90 days by default */
	CHECK_INT(count(g, "SELECT count(*) FROM tokens WHERE name = 'bootstrap'"
			   " AND expires_at = created_at + 90 * 86400"), 1);

	CHECK_INT(gh_gov_authenticate(&who, g, token), 0);
	CHECK_INT(who.roles, GH_ROLE_ADMIN);
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "root"), 0);
	CHECK_STR(who.id, sget(out, "id"));
	CHECK_STR(sget(out, "kind"), "human");
	json_decref(out);

	CHECK_INT(gh_gov_bootstrap(&again, g, "root2"), GH_ECONFLICT);
	CHECK(again == NULL);
	CHECK_INT(count(g, "SELECT count(*) FROM identities"), 1);
	CHECK_INT(audit_count(g), 2);
	free(token);
	gh_gov_free(g);
}

static void test_gov_token_create__issues_a_working_token_shown_once(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, svc[GH_ID_LEN], secret_b64[64];
	unsigned char secret[32], hash[32];
	size_t len = 0;
	json_t *out = NULL;
	gh_actor who;
	const char *text;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	make_nhi(g, "ci-bot", "requester", svc);
	CHECK_INT(issue(&out, g, "ci-bot", "deploy key", "30d"), 0);
	if (!CHECK(out != NULL))
		return;
	text = sget(out, "token");
	CHECK(strncmp(sget(out, "id"), "tok_", 4) == 0);
	CHECK(strncmp(text + 3, sget(out, "id") + 4, 16) == 0); /* the id is the public part */
	CHECK_STR(sget(out, "identity"), svc);
	CHECK_STR(sget(out, "name"), "deploy key");
	CHECK(sget(out, "created_at") != NULL && sget(out, "expires_at") != NULL);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'token.created'"), 2);

	CHECK_INT(gh_gov_authenticate(&who, g, text), 0);
	CHECK_STR(who.id, svc);
	CHECK_INT(who.roles, GH_ROLE_REQUESTER);

	/* only SHA-256(secret) is stored; the secret appears nowhere in the database */
	snprintf(secret_b64, sizeof(secret_b64), "%s", text + 20);
	CHECK_INT(sodium_base642bin(secret, sizeof(secret), secret_b64, strlen(secret_b64), NULL,
				    &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	CHECK_INT(len, 32);
	crypto_hash_sha256(hash, secret, sizeof(secret));
	{
		gh_sql *st = NULL;
		const void *v = NULL;
		size_t n = 0;

		gh_store_read_begin(gh_gov_store(g));
		CHECK_INT(gh_sql_prepare_once(&st, gh_gov_store(g),
					      "SELECT secret_hash FROM tokens WHERE id = ?1"), 0);
		gh_sql_bind_text(st, 1, sget(out, "id"));
		CHECK_INT(gh_sql_step(st), GH_SQL_ROW);
		v = gh_sql_column_blob(st, 0, &n);
		CHECK_INT(n, 32);
		CHECK(n == 32 && memcmp(v, hash, 32) == 0);
		gh_sql_finalize(st);
		gh_store_read_end(gh_gov_store(g));
	}
	{
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM audit_events WHERE replace(details, '%s', '') <> details"
			 " OR replace(details, 'hash', '') <> details", secret_b64);
		CHECK_INT(count(g, sql), 0);
	}
	json_decref(out);
	free(root);
	gh_gov_free(g);
}

static void test_gov_token_create__expiry_never_outlives_the_identity(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, svc[GH_ID_LEN], idn_exp[40];
	json_t *out = NULL, *idn = NULL;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	make_nhi(g, "svc", "requester", svc);
	CHECK_INT(gh_gov_identity_get(&idn, g, &admin, svc), 0);
	snprintf(idn_exp, sizeof(idn_exp), "%s", sget(idn, "expires_at"));
	json_decref(idn);
	/* no expires_in: the NHI's own expiry; a longer one is cut to it */
	CHECK_INT(issue(&out, g, svc, "a", NULL), 0);
	CHECK_STR(sget(out, "expires_at"), idn_exp);
	json_decref(out);
	CHECK_INT(issue(&out, g, svc, "b", "300d"), 0);
	CHECK_STR(sget(out, "expires_at"), idn_exp);
	json_decref(out);
	CHECK_INT(issue(&out, g, svc, "c", "1h"), 0);
	CHECK(strcmp(sget(out, "expires_at"), idn_exp) < 0);
	json_decref(out);
	/* a human without expiry: the default lifetime, 90 days */
	CHECK_INT(issue(&out, g, "root", "d", NULL), 0);
	CHECK_INT(parse_time(sget(out, "expires_at")) - parse_time(sget(out, "created_at")),
		  90 * 86400);
	json_decref(out);
	/* an explicit lifetime works up to a year, and no further */
	CHECK_INT(issue(&out, g, "root", "e", "365d"), 0);
	CHECK_INT(parse_time(sget(out, "expires_at")) - parse_time(sget(out, "created_at")),
		  365 * 86400);
	json_decref(out);
	CHECK_INT(count(g, "SELECT count(*) FROM tokens"), 6);
	CHECK_INT(issue(&out, g, "root", "f", "366d"), GH_EINVALID);
	CHECK(has_field("expires_in"));
	CHECK(out == NULL);
	CHECK_INT(count(g, "SELECT count(*) FROM tokens"), 6);
	free(root);
	gh_gov_free(g);
}

/* The configured lifetime applies to tokens without one, the bootstrap's too,
 * and raises the cap on an explicit one when it is longer than a year. */
static void test_gov_token_create__lifetime_is_configurable(void)
{
	gh_gov_options opts = {.token_lifetime = 400 * 86400};
	char path[512], *root = NULL;
	gh_gov *g = NULL;
	json_t *out = NULL;

	sf_targetf(path, sizeof(path), 1, "tokens-life.db");
	if (!CHECK_INT(gh_gov_open(&g, path, 1, &opts), 0))
		return;
	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	CHECK_INT(count(g, "SELECT count(*) FROM tokens WHERE expires_at = created_at + 400 * 86400"),
		  1);
	CHECK_INT(issue(&out, g, "root", "long", "400d"), 0);
	json_decref(out);
	CHECK_INT(issue(&out, g, "root", "longer", "401d"), GH_EINVALID);
	free(root);
	gh_gov_free(g);
}

/* Rotation: a new token for the same identity and name, the old one revoked
 * and pointing at it, for the token's own identity or an admin only. */
static void test_gov_token_rotate__replaces_the_token_once(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, svc[GH_ID_LEN], other[GH_ID_LEN], old_id[GH_ID_LEN], new_id[GH_ID_LEN];
	char old_text[80];
	json_t *out = NULL, *list = NULL;
	gh_actor self, stranger, who;
	int64_t events;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	make_nhi(g, "svc", "requester", svc);
	make_nhi(g, "other", "requester", other);
	CHECK_INT(issue(&out, g, svc, "deploy", "1h"), 0);
	snprintf(old_id, sizeof(old_id), "%s", sget(out, "id"));
	snprintf(old_text, sizeof(old_text), "%s", sget(out, "token"));
	json_decref(out);
	CHECK_INT(gh_gov_authenticate(&self, g, old_text), 0);
	CHECK_INT(issue(&out, g, other, "x", NULL), 0);
	CHECK_INT(gh_gov_authenticate(&stranger, g, sget(out, "token")), 0);
	json_decref(out);

	/* another non-admin identity: as if the token did not exist */
	events = audit_count(g);
	CHECK_INT(gh_gov_token_rotate(&out, g, &stranger, old_id), GH_ENOTFOUND);
	CHECK(out == NULL);
	CHECK_INT(audit_count(g), events);
	CHECK_INT(gh_gov_token_rotate(&out, g, &self, "tok_nope"), GH_ENOTFOUND);

	CHECK_INT(gh_gov_token_rotate(&out, g, &self, old_id), 0);
	if (!CHECK(out != NULL))
		return;
	snprintf(new_id, sizeof(new_id), "%s", sget(out, "id"));
	CHECK_STR(sget(out, "identity"), svc);
	CHECK_STR(sget(out, "name"), "deploy");
	CHECK_STR(sget(out, "rotated_from"), old_id);
	CHECK(sget(out, "expires_at") != NULL);
	CHECK_INT(gh_gov_authenticate(&who, g, sget(out, "token")), 0);
	CHECK_STR(who.id, svc);
	CHECK_INT(gh_gov_authenticate(&who, g, old_text), GH_EUNAUTH);
	json_decref(out);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'token.rotated'"), 1);
	CHECK_INT(count(g, "SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL"
			   " AND rotated_to IS NOT NULL"), 1);

	/* once: the old token is revoked now */
	events = audit_count(g);
	CHECK_INT(gh_gov_token_rotate(&out, g, &admin, old_id), GH_ECONFLICT);
	CHECK_INT(audit_count(g), events);
	/* an admin rotates anyone's */
	CHECK_INT(gh_gov_token_rotate(&out, g, &admin, new_id), 0);
	json_decref(out);

	CHECK_INT(gh_gov_token_list(&list, g, &admin, &(gh_page){0}, svc, "revoked"), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 2);
	CHECK_STR(sget(json_array_get(json_object_get(list, "items"), 0), "rotated_to"), new_id);
	json_decref(list);
	CHECK_INT(gh_gov_token_list(&list, g, &self, &(gh_page){0}, NULL, NULL), GH_EFORBIDDEN);
	free(root);
	gh_gov_free(g);
}

/* The list's status is computed at read time and filters: active, expired, revoked. */
static void test_gov_token_list__filters_by_status_and_identity(void)
{
	static const char *const statuses[] = {"active", "expired", "revoked"};
	static const char *const names[] = {"a", "b", "c"};
	gh_gov *g = open_gov();
	char *root = NULL, svc[GH_ID_LEN], ids[3][GH_ID_LEN];
	json_t *out = NULL, *list = NULL, *item;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	make_nhi(g, "svc", "requester", svc);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(issue(&out, g, svc, names[i], "1h"), 0);
		snprintf(ids[i], GH_ID_LEN, "%s", out ? sget(out, "id") : "");
		json_decref(out);
	}
	exec_at(g, "UPDATE tokens SET expires_at = ? WHERE name = 'b'", -1);
	CHECK_INT(gh_gov_token_revoke(g, &admin, ids[2]), 0);

	for (int i = 0; i < 3; i++) {
		CHECK_INT(gh_gov_token_list(&list, g, &admin, &(gh_page){0}, svc, statuses[i]), 0);
		CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
		item = json_array_get(json_object_get(list, "items"), 0);
		CHECK_STR(sget(item, "id"), ids[i]);
		CHECK_STR(sget(item, "status"), statuses[i]);
		CHECK_STR(sget(item, "name"), names[i]);
		CHECK_STR(sget(item, "identity"), svc);
		CHECK(sget(item, "expires_at") != NULL);
		CHECK((sget(item, "revoked_at") != NULL) == (i == 2));
		CHECK(json_object_get(item, "secret_hash") == NULL);
		json_decref(list);
	}
	/* the bootstrap token is active too, but another identity's */
	CHECK_INT(gh_gov_token_list(&list, g, &admin, &(gh_page){0}, NULL, "active"), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 2);
	json_decref(list);
	CHECK_INT(gh_gov_token_list(&list, g, &admin, &(gh_page){0}, svc, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 3);
	json_decref(list);
	free(root);
	gh_gov_free(g);
}

/* The operator's offline way back in: only for an active admin, audited. */
static void test_gov_admin_token__only_for_an_admin(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, svc[GH_ID_LEN];
	json_t *out = NULL;
	gh_actor who;
	int64_t events;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	make_nhi(g, "svc", "requester", svc);
	events = audit_count(g);
	CHECK_INT(gh_gov_admin_token(&out, g, "svc", NULL), GH_EDENIED);
	CHECK_INT(gh_gov_admin_token(&out, g, "nobody", NULL), GH_ENOTFOUND);
	CHECK(out == NULL);
	CHECK_INT(audit_count(g), events);
	CHECK_INT(gh_gov_admin_token(&out, g, "root", NULL), 0);
	if (!CHECK(out != NULL))
		return;
	CHECK_INT(gh_gov_authenticate(&who, g, sget(out, "token")), 0);
	CHECK_INT(who.roles, GH_ROLE_ADMIN);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'token.created'"
			   " AND actor = 'system:operator'"), 1);
	json_decref(out);
	free(root);
	gh_gov_free(g);
}

static void test_gov_token_create__refusals_change_nothing(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, svc[GH_ID_LEN], longname[80];
	json_t *in, *out = NULL;
	int64_t before_audit, before_tokens;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	make_nhi(g, "svc", "requester", svc);
	{
		json_t *r = json_pack("{s:s}", "reason", "paused");
		CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, svc, "suspend", r), 0);
		json_decref(out);
		json_decref(r);
	}
	before_audit = audit_count(g);
	before_tokens = count(g, "SELECT count(*) FROM tokens");

	in = json_pack("{s:i}", "scope", 1);
	CHECK_INT(gh_gov_token_create(&out, g, &admin, in), GH_EINVALID);
	CHECK(has_field("identity") && has_field("name") && has_field("scope"));
	json_decref(in);
	memset(longname, 'x', 70);
	longname[70] = '\0';
	in = json_pack("{s:s, s:s, s:s}", "identity", "ghost", "name", longname, "expires_in", "soon");
	CHECK_INT(gh_gov_token_create(&out, g, &admin, in), GH_EINVALID);
	CHECK(has_field("identity") && has_field("name") && has_field("expires_in"));
	json_decref(in);
	/* a suspended identity gets no new token */
	CHECK_INT(issue(&out, g, "svc", "k", NULL), GH_EINVALID);
	CHECK(has_field("identity"));
	CHECK(out == NULL);
	CHECK_INT(audit_count(g), before_audit);
	CHECK_INT(count(g, "SELECT count(*) FROM tokens"), before_tokens);
	free(root);
	gh_gov_free(g);
}

static void test_gov_authenticate__refuses_malformed_and_wrong_tokens(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, bad[128];
	gh_actor who;
	const char *malformed[] = {
		"", "gh_", "Bearer x", "gh_0123456789abcdef.",
		"GH_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"gh_0123456789ABCDEF.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"gh_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* short */
		"gh_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* long */
		"gh_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
		"gh_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"gh_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"gh_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", /* non-canonical tail */
		NULL};

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	for (int i = 0; malformed[i]; i++) {
		memset(&who, 0x5a, sizeof(who));
		if (!CHECK_INT(gh_gov_authenticate(&who, g, malformed[i]), GH_EUNAUTH))
			fprintf(stderr, "    accepted: %s\n", malformed[i]);
		CHECK_INT(who.roles, 0);
		CHECK_STR(who.id, "");
	}
	CHECK_INT(gh_gov_authenticate(&who, g, NULL), GH_EUNAUTH);

	/* right id, wrong secret; and a well-formed unknown id */
	snprintf(bad, sizeof(bad), "%s", root);
	bad[30] = bad[30] == 'A' ? 'B' : 'A';
	CHECK_INT(gh_gov_authenticate(&who, g, bad), GH_EUNAUTH);
	CHECK_STR(gh_error_last()->message, "unknown token");
	snprintf(bad, sizeof(bad), "%s", root);
	bad[5] = bad[5] == 'a' ? 'b' : 'a';
	CHECK_INT(gh_gov_authenticate(&who, g, bad), GH_EUNAUTH);
	CHECK_STR(gh_error_last()->message, "unknown token");
	/* a longer string that starts with a valid token is still refused */
	snprintf(bad, sizeof(bad), "%sA", root);
	CHECK_INT(gh_gov_authenticate(&who, g, bad), GH_EUNAUTH);
	CHECK_INT(gh_gov_authenticate(&who, g, root), 0);
	free(root);
	gh_gov_free(g);
}

static void test_gov_authenticate__revoked_expired_and_inactive_are_refused(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, svc[GH_ID_LEN], tok[GH_ID_LEN], text[80];
	json_t *out = NULL, *r;
	gh_actor who;
	int64_t before;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	make_nhi(g, "svc", "requester", svc);
	CHECK_INT(issue(&out, g, svc, "k", "1h"), 0);
	snprintf(tok, sizeof(tok), "%s", sget(out, "id"));
	snprintf(text, sizeof(text), "%s", sget(out, "token"));
	json_decref(out);
	CHECK_INT(gh_gov_authenticate(&who, g, text), 0);

	/* expired */
	exec_at(g, "UPDATE tokens SET expires_at = ?", -1);
	CHECK_INT(gh_gov_authenticate(&who, g, text), GH_EUNAUTH);
	CHECK(strstr(gh_error_last()->message, "expired") != NULL);
	exec_at(g, "UPDATE tokens SET expires_at = ?", 3600);
	CHECK_INT(gh_gov_authenticate(&who, g, text), 0);

	/* the identity suspended, then active again */
	r = json_pack("{s:s}", "reason", "check");
	CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, svc, "suspend", r), 0);
	json_decref(out);
	CHECK_INT(gh_gov_authenticate(&who, g, text), GH_EUNAUTH);
	CHECK(strstr(gh_error_last()->message, "not active") != NULL);
	CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, svc, "activate", r), 0);
	json_decref(out);
	CHECK_INT(gh_gov_authenticate(&who, g, text), 0);
	/* an identity past its expiry */
	exec_at(g, "UPDATE identities SET expires_at = ? WHERE kind <> 'human'", -10);
	CHECK_INT(gh_gov_authenticate(&who, g, text), GH_EUNAUTH);
	exec_at(g, "UPDATE identities SET expires_at = ? WHERE kind <> 'human'", 86400);

	/* revoked */
	before = audit_count(g);
	CHECK_INT(gh_gov_token_revoke(g, &admin, tok), 0);
	CHECK_INT(audit_count(g), before + 1);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'token.revoked'"), 1);
	CHECK_INT(gh_gov_authenticate(&who, g, text), GH_EUNAUTH);
	CHECK(strstr(gh_error_last()->message, "revoked") != NULL);
	CHECK_INT(gh_gov_token_revoke(g, &admin, tok), GH_ECONFLICT);
	CHECK_INT(gh_gov_token_revoke(g, &admin, "tok_0000000000000000"), GH_ENOTFOUND);
	CHECK_INT(audit_count(g), before + 1);

	/* decommissioning revokes the identity's tokens */
	CHECK_INT(issue(&out, g, svc, "k2", NULL), 0);
	snprintf(text, sizeof(text), "%s", sget(out, "token"));
	json_decref(out);
	CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, svc, "decommission", r), 0);
	json_decref(out);
	json_decref(r);
	CHECK_INT(gh_gov_authenticate(&who, g, text), GH_EUNAUTH);
	CHECK_INT(count(g, "SELECT count(*) FROM tokens WHERE revoked_at IS NULL AND identity_id <> "
			   "(SELECT id FROM identities WHERE name = 'root')"), 0);
	free(root);
	gh_gov_free(g);
}

/* The cache vouches only for the exact secret, and never outlives a change. */
static void test_gov_authenticate__cache_needs_the_secret_and_sees_changes(void)
{
	gh_gov *g = open_gov();
	char *root = NULL, forged[128];
	gh_actor who;
	size_t n;

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	CHECK_INT(gh_gov_authenticate(&who, g, root), 0);   /* now cached */
	CHECK_INT(gh_gov_authenticate(&who, g, root), 0);
	CHECK(who.roles & GH_ROLE_ADMIN);
	snprintf(forged, sizeof(forged), "%s", root);
	n = strlen(forged);
	forged[n - 1] = forged[n - 1] == 'A' ? 'B' : 'A';
	CHECK_INT(gh_gov_authenticate(&who, g, forged), GH_EUNAUTH);
	CHECK_STR(who.id, "");
	/* a change behind the domain's back is seen once the cache is flushed */
	exec_at(g, "UPDATE tokens SET revoked_at = ?", 0);
	CHECK_INT(gh_gov_authenticate(&who, g, root), GH_EUNAUTH);
	free(root);
	gh_gov_free(g);
}

static void test_gov_authenticate__records_last_use_at_most_once_a_minute(void)
{
	gh_gov *g = open_gov();
	char *root = NULL;
	gh_actor who;
	int64_t now = gh_now();

	CHECK_INT(gh_gov_bootstrap(&root, g, "root"), 0);
	CHECK_INT(count(g, "SELECT count(*) FROM tokens WHERE last_used_at IS NULL"), 1);
	CHECK_INT(gh_gov_authenticate(&who, g, root), 0);
	CHECK(count(g, "SELECT last_used_at FROM tokens") >= now);
	/* used 30s ago: not written again */
	exec_at(g, "UPDATE tokens SET last_used_at = ?", -30);
	CHECK_INT(gh_gov_authenticate(&who, g, root), 0);
	CHECK(count(g, "SELECT last_used_at FROM tokens") <= now - 29);
	/* used 2 minutes ago: written */
	exec_at(g, "UPDATE tokens SET last_used_at = ?", -120);
	CHECK_INT(gh_gov_authenticate(&who, g, root), 0);
	CHECK(count(g, "SELECT last_used_at FROM tokens") >= now);
	/* it is not an audited change */
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events"), 2);
	free(root);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"gov_bootstrap__creates_the_first_admin_once", test_gov_bootstrap__creates_the_first_admin_once},
		{"gov_token_create__issues_a_working_token_shown_once", test_gov_token_create__issues_a_working_token_shown_once},
		{"gov_token_create__expiry_never_outlives_the_identity", test_gov_token_create__expiry_never_outlives_the_identity},
		{"gov_token_create__lifetime_is_configurable", test_gov_token_create__lifetime_is_configurable},
		{"gov_token_rotate__replaces_the_token_once", test_gov_token_rotate__replaces_the_token_once},
		{"gov_token_list__filters_by_status_and_identity", test_gov_token_list__filters_by_status_and_identity},
		{"gov_admin_token__only_for_an_admin", test_gov_admin_token__only_for_an_admin},
		{"gov_token_create__refusals_change_nothing", test_gov_token_create__refusals_change_nothing},
		{"gov_authenticate__refuses_malformed_and_wrong_tokens", test_gov_authenticate__refuses_malformed_and_wrong_tokens},
		{"gov_authenticate__revoked_expired_and_inactive_are_refused", test_gov_authenticate__revoked_expired_and_inactive_are_refused},
		{"gov_authenticate__cache_needs_the_secret_and_sees_changes",
		 test_gov_authenticate__cache_needs_the_secret_and_sees_changes},
		{"gov_authenticate__records_last_use_at_most_once_a_minute", test_gov_authenticate__records_last_use_at_most_once_a_minute},
		{NULL, NULL}};
	int rc;

	gh_init();
	gh_time_format(future, sizeof(future), gh_now() + 30 * 86400);
	rc = gh_test_run(cases, argc, argv);
	gh_error_clear();
	return rc;
}
