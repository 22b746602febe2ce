/* fuzz_token.c - fuzz target: gh_gov_authenticate over arbitrary token text,
 * against a real database holding tokens in every state, so that both the
 * parse and the lookup/compare paths run.
 *
 * Tokens gh_000000000000000<k>.<base64url of secret k> exist for k = 1..7
 * (secret k: byte i is k*37+i): 1 valid, 2 expired, 3 revoked, 4 of a
 * suspended identity, 5 of an expired NHI, 6 with a bad stored hash, 7 of an
 * identity whose roles are not JSON. Properties: only token 1's exact text
 * and token 7's authenticate; a refusal is GH_EUNAUTH, zeroes the actor,
 * never echoes the secret, and changes nothing in the database. */
#include "fuzz_db.h"

#include <stdint.h>

#define NTOKENS 7
#define VALID_TOKEN "gh_0000000000000001.JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0Q"
#define BADROLES_TOKEN "gh_0000000000000007.AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_token: property violated: %s\n", what);
		abort();
	}
}

static void insert_token(gh_gov *g, int k, const char *identity, const char *extra_cols,
			 const char *extra_vals, size_t hash_len)
{
	unsigned char secret[32], hash[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(hash) + 1], sql[1024];

	for (int i = 0; i < 32; i++)
		secret[i] = (unsigned char)(k * 37 + i);
	crypto_hash_sha256(hash, secret, sizeof(secret));
	for (size_t i = 0; i < hash_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO tokens(id, identity_id, name, secret_hash, created_at%s)"
		 " VALUES ('tok_%016x', '%s', 'fuzz', X'%s', 0%s)",
		 extra_cols, k, identity, hex, extra_vals);
	fz_sql(g, sql);
}

static gh_gov *world(void)
{
	gh_gov *g = fz_open();
	char *admin_token = NULL;

	if (gh_gov_bootstrap(&admin_token, g, "admin") != 0)
		fz_die("bootstrap");
	free(admin_token);
	fz_sql(g,
	       "INSERT INTO identities(id, kind, name, status, roles, created_at, updated_at) VALUES"
	       " ('idn_fz_active','human','alice','active','[\"requester\",\"auditor\"]',0,0),"
	       " ('idn_fz_susp','human','sam','suspended','[\"requester\"]',0,0),"
	       " ('idn_fz_badroles','human','bert','active','not json',0,0);"
	       "INSERT INTO identities(id, kind, name, status, owner_id, purpose, environment,"
	       " expires_at, roles, created_at, updated_at) VALUES"
	       " ('idn_fz_old','service_account','old-etl','active','idn_fz_active','export','prod',"
	       "  1,'[\"requester\"]',0,0);");
	insert_token(g, 1, "idn_fz_active", "", "", 32);
	insert_token(g, 2, "idn_fz_active", ", expires_at", ", 1", 32);
	insert_token(g, 3, "idn_fz_active", ", revoked_at", ", 1", 32);
	insert_token(g, 4, "idn_fz_susp", "", "", 32);
	insert_token(g, 5, "idn_fz_old", "", "", 32);
	insert_token(g, 6, "idn_fz_active", "", "", 16);
	insert_token(g, 7, "idn_fz_badroles", "", "", 32);
	return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gh_gov *g;
	static unsigned char known[32];
	static int known_valid;
	unsigned char after[32];
	gh_actor who;
	char *text;
	int rc;

	if (!g)
		g = world();
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* the database as the last refusal left it, or as read now after a success */
	if (!known_valid)
		fz_fingerprint(known, g);
	known_valid = 1;
	memset(&who, 0x7f, sizeof(who));
	rc = gh_gov_authenticate(&who, g, text);
	if (rc == 0) {
		int valid = strcmp(text, VALID_TOKEN) == 0, badroles = strcmp(text, BADROLES_TOKEN) == 0;
		check(valid || badroles, "a token other than the valid ones authenticated");
		check(strcmp(who.id, valid ? "idn_fz_active" : "idn_fz_badroles") == 0,
		      "the actor is not the token's identity");
		check(who.roles == (valid ? (unsigned)(GH_ROLE_REQUESTER | GH_ROLE_AUDITOR) : 0u),
		      "the actor's roles are not the identity's");
		known_valid = 0;  /* last_used_at may have moved */
	} else {
		static const gh_actor zero;
		const gh_error *e = gh_error_last();
		check(rc == GH_EUNAUTH && e->code == GH_EUNAUTH, "a refusal is not GH_EUNAUTH");
		check(memcmp(&who, &zero, sizeof(who)) == 0, "a refusal left an actor behind");
		check(strlen(text) < 8 || !strstr(e->message, text), "the error message echoes the token");
		fz_fingerprint(after, g);
		check(memcmp(known, after, sizeof(known)) == 0, "a refusal changed the database");
	}
	gh_error_clear();
	free(text);
	return 0;
}
