/* fuzz_introspect.c - fuzz target: the introspection body parser
 * (gh_api_introspect_body: a form or JSON) and gh_gov_introspect over what it
 * yields, against a real database holding API keys in every state.
 *
 * The first byte picks the content type (0 form, 1 JSON, 2 form with a UTF-8
 * charset, 3 none); the rest is the body. Keys ghk_000000000000000<k>.<base64url
 * of secret k> exist for k = 1..7 (secret k: byte i is k*37+i): 1 valid, 2
 * revoked, 3 expired, 4 rotated out, 5 of a suspended NHI, 6 of a revoked
 * grant, 7 with a bad stored hash. Properties: a parse failure leaves no
 * object and is 400 or 415 (or 413); an introspection is 400 with a field
 * error, or {"active": false} exactly, or active only for key 1's exact
 * text; nothing but key 1's last_used_at ever changes in the database. */
#include "api/api_internal.h"
#include "common/error.h"
#include "fuzz_db.h"

#include <stdint.h>

#define VALID_KEY "ghk_0000000000000001.JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0Q"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_introspect: property violated: %s\n", what);
		abort();
	}
}

static void insert_key(gh_gov *g, int k, const char *grant, const char *identity,
		       const char *extra_cols, const char *extra_vals, size_t hash_len)
{
	unsigned char secret[32], hash[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(hash) + 1], sql[1024];

	for (int i = 0; i < 32; i++)
		secret[i] = (unsigned char)(k * 37 + i);
	crypto_hash_sha256(hash, secret, sizeof(secret));
	for (size_t i = 0; i < hash_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO credentials(id, grant_id, identity_id, entitlement_id, secret_hash,"
		 " created_by, created_at, expires_at%s) VALUES ('crd_%016x', '%s', '%s', 'ent_fz',"
		 " X'%s', 'idn_fz_owner', 0, 4102444800%s)",
		 extra_cols, k, grant, identity, hex, extra_vals);
	fz_sql(g, sql);
}

static gh_gov *world(void)
{
	gh_gov *g = fz_open();

	fz_sql(g,
	       "INSERT INTO identities(id, kind, name, status, roles, created_at, updated_at) VALUES"
	       " ('idn_fz_owner','human','owner','active','[]',0,0);"
	       "INSERT INTO identities(id, kind, name, status, owner_id, purpose, environment,"
	       " expires_at, roles, created_at, updated_at) VALUES"
	       " ('idn_fz_bot','service_account','bot','active','idn_fz_owner','p','prod',"
	       "  4102444800,'[]',0,0),"
	       " ('idn_fz_sbot','service_account','sbot','suspended','idn_fz_owner','p','prod',"
	       "  4102444800,'[]',0,0);"
	       "INSERT INTO groups(id, name, created_at, updated_at) VALUES ('grp_fz','fz',0,0);"
	       "INSERT INTO systems(id, name, owner_id, connector, created_at, updated_at) VALUES"
	       " ('sys_fz','keys','idn_fz_owner','credential',0,0);"
	       "INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity,"
	       " environment, control_owner_group_id, max_duration, created_at, updated_at) VALUES"
	       " ('ent_fz','sys_fz','api-key','low','internal','prod','grp_fz',86400,0,0);"
	       "INSERT INTO requests(id, state, channel, submitted_by, requester_id, subject_id,"
	       " entitlement_id, justification, duration, created_at, updated_at) VALUES"
	       " ('req_fz1','active','api','idn_fz_owner','idn_fz_owner','idn_fz_bot','ent_fz','j',"
	       "  60,0,0),"
	       " ('req_fz2','active','api','idn_fz_owner','idn_fz_owner','idn_fz_sbot','ent_fz','j',"
	       "  60,0,0),"
	       " ('req_fz3','revoked','api','idn_fz_owner','idn_fz_owner','idn_fz_bot','ent_fz','j',"
	       "  60,0,0);"
	       "INSERT INTO grants(id, subject_id, entitlement_id, request_id, status, granted_at,"
	       " expires_at) VALUES"
	       " ('grt_fz1','idn_fz_bot','ent_fz','req_fz1','active',0,4102444800),"
	       " ('grt_fz2','idn_fz_sbot','ent_fz','req_fz2','active',0,4102444800),"
	       " ('grt_fz3','idn_fz_bot','ent_fz','req_fz3','revoked',0,4102444800);");
	insert_key(g, 1, "grt_fz1", "idn_fz_bot", "", "", 32);
	insert_key(g, 2, "grt_fz1", "idn_fz_bot", ", revoked_at", ", 1", 32);
	insert_key(g, 3, "grt_fz1", "idn_fz_bot", ", valid_until", ", 4102444800", 32);
	fz_sql(g, "UPDATE credentials SET expires_at = 1 WHERE id = 'crd_0000000000000003'");
	insert_key(g, 4, "grt_fz1", "idn_fz_bot", ", valid_until", ", 1", 32);
	insert_key(g, 5, "grt_fz2", "idn_fz_sbot", "", "", 32);
	insert_key(g, 6, "grt_fz3", "idn_fz_bot", "", "", 32);
	insert_key(g, 7, "grt_fz1", "idn_fz_bot", "", "", 16);
	return g;
}

/* The world is what the header says: key 1 works, keys 2..7 do not. */
static void check_world(gh_gov *g, const gh_actor *caller)
{
	char key[sizeof(VALID_KEY)];
	static const char *const secrets[] = {
		"JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0Q", "SktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGk",
		"b3BxcnN0dXZ3eHl6e3x9fn-AgYKDhIWGh4iJiouMjY4", "lJWWl5iZmpucnZ6foKGio6SlpqeoqaqrrK2ur7CxsrM",
		"ubq7vL2-v8DBwsPExcbHyMnKy8zNzs_Q0dLT1NXW19g", "3t_g4eLj5OXm5-jp6uvs7e7v8PHy8_T19vf4-fr7_P0",
		"AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI"};

	for (int k = 1; k <= 7; k++) {
		json_t *in, *out = NULL;
		snprintf(key, sizeof(key), "ghk_%016x.%s", k, secrets[k - 1]);
		in = json_pack("{s:s}", "token", key);
		check(gh_gov_introspect(&out, g, caller, in) == 0, "introspecting a seeded key");
		check(json_is_true(json_object_get(out, "active")) == (k == 1),
		      "a seeded key is not in the state the header says");
		json_decref(in);
		json_decref(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {
		"application/x-www-form-urlencoded", "application/json",
		"application/x-www-form-urlencoded; charset=utf-8", NULL};
	static const gh_actor caller = {"idn_fz_owner", 0};
	static gh_gov *g;
	static unsigned char known[32];
	static int known_valid;
	unsigned char after[32];
	json_t *in = NULL, *out = NULL;
	const char *ct;
	int rc;

	if (!g) {
		g = world();
		check_world(g, &caller);
	}
	if (size == 0)
		return 0;
	ct = types[data[0] % 4];
	gh_error_clear();
	rc = gh_api_introspect_body(&in, ct, (const char *)data + 1, size - 1);
	if (rc) {
		check(in == NULL, "a refused body left an object");
		check(rc == GH_EINVALID || rc == GH_API_EMEDIA || rc == GH_ETOOLARGE,
		      "a refused body is not 400, 415 or 413");
		check(rc != GH_EINVALID || json_array_size(gh_error_last()->fields) > 0,
		      "a 400 names no field");
		gh_error_clear();
		return 0;
	}
	check(json_is_object(in), "a parsed body is not an object");
	if (!known_valid)
		fz_fingerprint(known, g);
	known_valid = 1;
	rc = gh_gov_introspect(&out, g, &caller, in);
	if (rc) {
		check(rc == GH_EINVALID && out == NULL, "introspection failed other than with a 400");
		check(json_array_size(gh_error_last()->fields) > 0, "a 400 names no field");
	} else if (json_is_true(json_object_get(out, "active"))) {
		const char *tok = json_string_value(json_object_get(in, "token"));
		check(tok && strcmp(tok, VALID_KEY) == 0, "a key other than the valid one is active");
		check(strcmp(json_string_value(json_object_get(out, "client_id")),
			     "crd_0000000000000001") == 0, "the answer names another credential");
		known_valid = 0;   /* last_used_at may have moved */
	} else {
		check(json_is_false(json_object_get(out, "active")) && json_object_size(out) == 1,
		      "an inactive answer says more than {\"active\": false}");
	}
	if (known_valid) {
		fz_fingerprint(after, g);
		check(memcmp(known, after, sizeof(known)) == 0, "introspection changed the database");
	}
	json_decref(in);
	json_decref(out);
	gh_error_clear();
	return 0;
}
