/* test_gov_credentials.c - NHI credentials against a real SQLite file: issue,
 * rotate with an overlap, revoke, list and get, every reason introspection
 * says {"active": false}, grants ending, and the introspection body parser. */
#include "api/api_internal.h"
#include "gov_fixture.h"

#include <sodium.h>

/* A credential system with one low-risk entitlement (auto-approved), and
 * etl (an NHI owned by owner) holding it. */
static gh_gov *world(const char *name, char grant[GH_ID_LEN])
{
	gh_gov *g = fx_world(name);
	char *req;
	json_t *r = NULL;

	if (!g)
		return NULL;
	if (fx_exec(g, "INSERT INTO systems(id, name, owner_id, connector, created_at, updated_at)"
		       " VALUES ('sys_keys','api-keys','idn_admin','credential',0,0);"
		       "INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity,"
		       " environment, control_owner_group_id, max_duration, requestable, created_at,"
		       " updated_at) VALUES ('ent_key','sys_keys','api-key','low','internal','prod',"
		       " 'grp_owners',86400,1,0,0);")) {
		gh_gov_free(g);
		return NULL;
	}
	req = fx_request(g, &fx_owner, "{\"channel\":\"portal\",\"subject\":\"idn_etl\","
			 "\"entitlement\":\"ent_key\",\"justification\":\"j\",\"duration\":\"8h\"}",
			 "active");
	if (req && gh_gov_request_get(&r, g, &fx_admin, req) == 0)
		snprintf(grant, GH_ID_LEN, "%s", fx_s(r, "grant"));
	json_decref(r);
	free(req);
	return g;
}

static int set_status(gh_gov *g, const char *action)
{
	json_t *in = json_pack("{s:s}", "reason", "test"), *out = NULL;
	int rc = gh_gov_identity_set_status(&out, g, &fx_admin, "idn_etl", action, in);

	json_decref(in);
	json_decref(out);
	return rc;
}

/* Issues a key for grant as actor; returns the answer (caller frees) or NULL. */
static json_t *issue(gh_gov *g, const gh_actor *actor, const char *grant, const char *body)
{
	json_t *out = NULL;

	if (!CHECK_INT(fx_act(&out, g, actor, grant, body, gh_gov_credential_issue), 0)) {
		fprintf(stderr, "  issue: %s\n", gh_error_last()->message);
		return NULL;
	}
	return out;
}

/* Introspects key as admin: 1 active, 0 exactly {"active": false}, -1 else. */
static int introspect(gh_gov *g, const char *key, json_t **answer)
{
	json_t *in = json_pack("{s:s}", "token", key), *out = NULL;
	int rc = gh_gov_introspect(&out, g, &fx_carol, in), v = -1;

	json_decref(in);
	if (rc == 0 && json_is_true(json_object_get(out, "active")))
		v = 1;
	else if (rc == 0 && json_is_false(json_object_get(out, "active")) && json_object_size(out) == 1)
		v = 0;
	if (answer)
		*answer = out;
	else
		json_decref(out);
	return v;
}

static void test_gov_credentials_issue__key_shown_once_only_hash_stored(void)
{
	char grant[GH_ID_LEN] = "", sql[512];
	gh_gov *g = world("cred-issue", grant);
	json_t *c, *got = NULL, *list = NULL, *events = NULL;
	unsigned char secret[32], hash[32];
	char hex[65], *dump;
	const char *key;
	size_t len = 0;

	if (!CHECK(g && grant[0]) || !(c = issue(g, &fx_owner, grant, "{}")))
		goto done;
	key = fx_s(c, "key");
	CHECK(strncmp(key, "ghk_", 4) == 0);
	CHECK_INT(strlen(key), 4 + 16 + 1 + 43);
	CHECK(strncmp(key + 4, fx_s(c, "id") + 4, 16) == 0);
	CHECK_STR(fx_s(c, "status"), "active");
	CHECK_STR(fx_s(c, "identity"), "idn_etl");
	CHECK_STR(fx_s(c, "system"), "sys_keys");
	/* stored: SHA-256 of the secret part, nothing else of it */
	CHECK_INT(sodium_base642bin(secret, sizeof(secret), key + 21, 43, NULL, &len, NULL,
				    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	crypto_hash_sha256(hash, secret, sizeof(secret));
	gh_hex(hex, hash, sizeof(hash));
	snprintf(sql, sizeof(sql), SF_SQL("SELECT count(*) FROM credentials WHERE id = '%s'"
					  " AND lower(hex(secret_hash)) = '%s'",
					  "SELECT count(*) FROM credentials WHERE id = '%s'"
					  " AND encode(secret_hash, 'hex') = '%s'"), fx_s(c, "id"), hex);
	CHECK_INT(fx_int(g, "%s", sql), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE replace(details, '%q', '') <> details"
			 " OR replace(details, '%q', '') <> details", key + 21, hex), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'credential.issued'"
			 " AND object_id = '%q'", fx_s(c, "id")), 1);
	/* never again: get, list */
	CHECK_INT(gh_gov_credential_get(&got, g, &fx_owner, fx_s(c, "id")), 0);
	CHECK(got && !json_object_get(got, "key"));
	CHECK_INT(gh_gov_credential_list(&list, g, &fx_admin, NULL, NULL, NULL, NULL), 0);
	dump = json_dumps(list, 0);
	CHECK(dump && !strstr(dump, key + 21) && strstr(dump, fx_s(c, "id")));
	free(dump);
	CHECK_INT(introspect(g, key, NULL), 1);
	json_decref(events);
	json_decref(list);
	json_decref(got);
	json_decref(c);
done:
	gh_gov_free(g);
}

static void test_gov_credentials_issue__refusals_change_nothing(void)
{
	char grant[GH_ID_LEN] = "", manual[GH_ID_LEN] = "";
	gh_gov *g = world("cred-refuse", grant);
	json_t *out = NULL, *r = NULL;
	char *req;
	int64_t before;

	if (!CHECK(g && grant[0]))
		goto done;
	req = fx_request(g, &fx_owner, "{\"channel\":\"portal\",\"subject\":\"idn_etl\","
			 "\"entitlement\":\"ent_low\",\"justification\":\"j\",\"duration\":\"1h\"}",
			 "active");
	if (req && gh_gov_request_get(&r, g, &fx_admin, req) == 0)
		snprintf(manual, sizeof(manual), "%s", fx_s(r, "grant"));
	json_decref(r);
	free(req);
	before = fx_footprint(g) + fx_int(g, "SELECT count(*) FROM credentials");
	/* not the owner, not an admin */
	CHECK_INT(fx_act(&out, g, &fx_alice, grant, "{}", gh_gov_credential_issue), GH_EFORBIDDEN);
	CHECK_INT(fx_act(&out, g, &fx_bob, grant, "{}", gh_gov_credential_issue), GH_EFORBIDDEN);
	/* bad input, each naming its field */
	CHECK_INT(fx_act(&out, g, &fx_owner, grant, "{\"bogus\":1}", gh_gov_credential_issue),
		  GH_EINVALID);
	CHECK(fx_field_error("bogus"));
	CHECK_INT(fx_act(&out, g, &fx_owner, grant, "{\"expires_in\":\"soon\"}",
			 gh_gov_credential_issue), GH_EINVALID);
	CHECK(fx_field_error("expires_in"));
	CHECK_INT(fx_act(&out, g, &fx_owner, grant, "{\"expires_in\":true}",
			 gh_gov_credential_issue), GH_EINVALID);
	CHECK(fx_field_error("expires_in"));
	/* unknown grant, a grant of a manual system */
	CHECK_INT(fx_act(&out, g, &fx_owner, "grt_0000000000000000", "{}",
			 gh_gov_credential_issue), GH_ENOTFOUND);
	CHECK_INT(fx_act(&out, g, &fx_owner, manual, "{}", gh_gov_credential_issue), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "credential system"));
	/* a suspended NHI gets no key */
	CHECK_INT(fx_exec(g, "UPDATE identities SET status = 'suspended' WHERE id = 'idn_etl'"), 0);
	before = fx_footprint(g) + fx_int(g, "SELECT count(*) FROM credentials");
	CHECK_INT(fx_act(&out, g, &fx_owner, grant, "{}", gh_gov_credential_issue), GH_ECONFLICT);
	CHECK(out == NULL);
	CHECK_INT(fx_footprint(g) + fx_int(g, "SELECT count(*) FROM credentials"), before);
done:
	gh_gov_free(g);
}

static void test_gov_credentials_issue__expiry_never_after_the_grant(void)
{
	char grant[GH_ID_LEN] = "";
	gh_gov *g = world("cred-expiry", grant);
	json_t *long_one = NULL, *short_one = NULL, *gr = NULL;
	int64_t now = gh_now();

	if (!CHECK(g && grant[0]))
		goto done;
	CHECK_INT(gh_gov_grant_get(&gr, g, &fx_admin, grant), 0);
	long_one = issue(g, &fx_admin, grant, "{\"expires_in\":\"30d\"}");
	short_one = issue(g, &fx_owner, grant, "{\"expires_in\":\"1h\"}");
	if (!CHECK(long_one && short_one && gr))
		goto done;
	CHECK_INT(fx_time(long_one, "expires_at"), fx_time(gr, "expires_at"));
	CHECK(fx_time(short_one, "expires_at") >= now + 3600 &&
	      fx_time(short_one, "expires_at") <= gh_now() + 3600);
	CHECK_STR(fx_s(long_one, "created_by"), "idn_admin");
done:
	json_decref(gr);
	json_decref(long_one);
	json_decref(short_one);
	gh_gov_free(g);
}

static void test_gov_credentials_introspect__active_answer(void)
{
	char grant[GH_ID_LEN] = "";
	gh_gov *g = world("cred-active", grant);
	json_t *c = NULL, *a = NULL, *gh;

	if (!CHECK(g && grant[0]) || !(c = issue(g, &fx_owner, grant, "{}")))
		goto done;
	CHECK_INT(introspect(g, fx_s(c, "key"), &a), 1);
	CHECK_STR(fx_s(a, "sub"), "idn_etl");
	CHECK_STR(fx_s(a, "username"), "etl");
	CHECK_STR(fx_s(a, "client_id"), fx_s(c, "id"));
	CHECK_STR(fx_s(a, "scope"), "api-key");
	CHECK_STR(fx_s(a, "token_type"), "api_key");
	CHECK_INT(json_integer_value(json_object_get(a, "exp")), fx_time(c, "expires_at"));
	CHECK_INT(json_integer_value(json_object_get(a, "iat")), fx_time(c, "created_at"));
	gh = json_object_get(a, "gatehouse");
	CHECK_STR(fx_s(gh, "grant"), grant);
	CHECK_STR(fx_s(gh, "entitlement"), "ent_key");
	CHECK_STR(fx_s(gh, "system"), "sys_keys");
	CHECK_STR(fx_s(gh, "owner"), "idn_owner");
	CHECK(!json_object_get(a, "key") && !json_object_get(a, "token"));
done:
	json_decref(a);
	json_decref(c);
	gh_gov_free(g);
}

/* Every reason a key does not work, each answered {"active": false} only. */
static void test_gov_credentials_introspect__inactive_for_every_reason(void)
{
	char grant[GH_ID_LEN] = "", bad[128];
	gh_gov *g = world("cred-inactive", grant);
	json_t *c = NULL;
	const char *key, *id;
	static const char *const malformed[] = {
		"x", "ghk_", "gh_0000000000000001.JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0Q",
		"ghk_000000000000000g.JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0Q",
		"ghk_0000000000000001JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0Q",
		"ghk_0000000000000001.JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0Q=",
		"ghk_0000000000000001.JSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0Q", NULL};

	if (!CHECK(g && grant[0]) || !(c = issue(g, &fx_owner, grant, "{}")))
		goto done;
	key = fx_s(c, "key");
	id = fx_s(c, "id");
	for (int i = 0; malformed[i]; i++)
		if (!CHECK_INT(introspect(g, malformed[i], NULL), 0))
			fprintf(stderr, "  malformed key %d\n", i);
	/* unknown id, right form */
	snprintf(bad, sizeof(bad), "ghk_ffffffffffffffff%s", key + 20);
	CHECK_INT(introspect(g, bad, NULL), 0);
	/* right id, wrong secret (one character changed), and a suffix */
	snprintf(bad, sizeof(bad), "%s", key);
	bad[30] = bad[30] == 'A' ? 'B' : 'A';
	CHECK_INT(introspect(g, bad, NULL), 0);
	snprintf(bad, sizeof(bad), "%sA", key);
	CHECK_INT(introspect(g, bad, NULL), 0);
	CHECK_INT(introspect(g, key, NULL), 1);

	/* the NHI suspended, then active again; decommission is below */
	CHECK_INT(set_status(g, "suspend"), 0);
	CHECK_INT(introspect(g, key, NULL), 0);
	CHECK_INT(set_status(g, "activate"), 0);
	CHECK_INT(introspect(g, key, NULL), 1);
	/* the NHI past its own expiry */
	CHECK_INT(fx_exec(g, "UPDATE identities SET expires_at = 1 WHERE id = 'idn_etl'"), 0);
	CHECK_INT(introspect(g, key, NULL), 0);
	CHECK_INT(fx_exec(g, "UPDATE identities SET expires_at = 4102444800 WHERE id = 'idn_etl'"), 0);
	CHECK_INT(introspect(g, key, NULL), 1);
	/* the credential past its expires_at, then past valid_until (rotated out) */
	CHECK_INT(fx_int(g, "SELECT count(*) FROM credentials WHERE id = '%q'", id), 1);
	{
		char sql[256];
		snprintf(sql, sizeof(sql), "UPDATE credentials SET expires_at = %lld WHERE id = '%s'",
			 (long long)gh_now(), id);
		CHECK_INT(fx_exec(g, sql), 0);
		CHECK_INT(introspect(g, key, NULL), 0);
		snprintf(sql, sizeof(sql), "UPDATE credentials SET expires_at = %lld,"
			 " valid_until = %lld WHERE id = '%s'", (long long)gh_now() + 3600,
			 (long long)gh_now() - 1, id);
		CHECK_INT(fx_exec(g, sql), 0);
		CHECK_INT(introspect(g, key, NULL), 0);
		snprintf(sql, sizeof(sql), "UPDATE credentials SET valid_until = NULL WHERE id = '%s'",
			 id);
		CHECK_INT(fx_exec(g, sql), 0);
		CHECK_INT(introspect(g, key, NULL), 1);
		/* the grant past its expiry before the scheduler ran */
		snprintf(sql, sizeof(sql), "UPDATE grants SET expires_at = %lld WHERE id = '%s'",
			 (long long)gh_now(), grant);
		CHECK_INT(fx_exec(g, sql), 0);
		CHECK_INT(introspect(g, key, NULL), 0);
		snprintf(sql, sizeof(sql), "UPDATE grants SET expires_at = %lld WHERE id = '%s'",
			 (long long)gh_now() + 3600, grant);
		CHECK_INT(fx_exec(g, sql), 0);
		CHECK_INT(introspect(g, key, NULL), 1);
		/* a grant no longer active, however it got there */
		snprintf(sql, sizeof(sql), "UPDATE grants SET status = 'revoked' WHERE id = '%s'",
			 grant);
		CHECK_INT(fx_exec(g, sql), 0);
		CHECK_INT(introspect(g, key, NULL), 0);
		snprintf(sql, sizeof(sql), "UPDATE grants SET status = 'active' WHERE id = '%s'",
			 grant);
		CHECK_INT(fx_exec(g, sql), 0);
		CHECK_INT(introspect(g, key, NULL), 1);
	}
	/* decommissioned: its grants end, and with them its keys */
	CHECK_INT(set_status(g, "decommission"), 0);
	CHECK_INT(introspect(g, key, NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM credentials WHERE id = '%q'"
			 " AND revoked_at IS NOT NULL", id), 1);
	CHECK_INT(fx_exec(g, "UPDATE credentials SET revoked_at = NULL;"
			     " UPDATE grants SET status = 'active'"), 0);
	CHECK_INT(introspect(g, key, NULL), 0);   /* still: the NHI is decommissioned */
done:
	json_decref(c);
	gh_gov_free(g);
}

static void test_gov_credentials_rotate__overlap_then_only_the_new_key(void)
{
	char grant[GH_ID_LEN] = "", sql[256];
	gh_gov *g = world("cred-rotate", grant);
	json_t *c = NULL, *r = NULL, *r0 = NULL, *again = NULL, *old = NULL, *lst = NULL;
	int64_t now = gh_now(), before;
	const char *old_key, *new_key;

	if (!CHECK(g && grant[0]) || !(c = issue(g, &fx_owner, grant, "{\"expires_in\":\"2h\"}")))
		goto done;
	old_key = fx_s(c, "key");
	/* bad input first: nothing changes */
	before = fx_footprint(g) + fx_int(g, "SELECT count(*) FROM credentials");
	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{\"overlap\":\"25h\"}",
			 gh_gov_credential_rotate), GH_EINVALID);
	CHECK(fx_field_error("overlap"));
	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{\"overlap\":-5}",
			 gh_gov_credential_rotate), GH_EINVALID);
	CHECK(fx_field_error("overlap"));
	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{\"overlap\":\"1h\",\"x\":1}",
			 gh_gov_credential_rotate), GH_EINVALID);
	CHECK(fx_field_error("x"));
	CHECK_INT(fx_act(&r, g, &fx_alice, fx_s(c, "id"), "{}", gh_gov_credential_rotate),
		  GH_ENOTFOUND);
	CHECK_INT(fx_act(&r, g, &fx_owner, "crd_0000000000000000", "{}",
			 gh_gov_credential_rotate), GH_ENOTFOUND);
	CHECK_INT(fx_footprint(g) + fx_int(g, "SELECT count(*) FROM credentials"), before);

	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{\"overlap\":\"1h\"}",
			 gh_gov_credential_rotate), 0);
	if (!CHECK(r != NULL))
		goto done;
	new_key = fx_s(r, "key");
	CHECK(strcmp(new_key, old_key) != 0);
	CHECK_STR(fx_s(r, "rotated_from"), fx_s(c, "id"));
	CHECK_STR(fx_s(r, "grant"), grant);
	/* the same lifetime (2h) from now */
	CHECK(fx_time(r, "expires_at") >= now + 7200 && fx_time(r, "expires_at") <= gh_now() + 7200);
	old = json_object_get(r, "previous");
	CHECK_STR(fx_s(old, "status"), "expiring");
	CHECK_STR(fx_s(old, "rotated_to"), fx_s(r, "id"));
	CHECK(fx_time(old, "valid_until") >= now + 3600 &&
	      fx_time(old, "valid_until") <= gh_now() + 3600);
	/* during the overlap both work */
	CHECK_INT(introspect(g, old_key, NULL), 1);
	CHECK_INT(introspect(g, new_key, NULL), 1);
	/* the old one cannot be rotated twice */
	CHECK_INT(fx_act(&again, g, &fx_owner, fx_s(c, "id"), "{}", gh_gov_credential_rotate),
		  GH_ECONFLICT);
	/* past the overlap only the new one */
	snprintf(sql, sizeof(sql), "UPDATE credentials SET valid_until = %lld WHERE id = '%s'",
		 (long long)gh_now() - 1, fx_s(c, "id"));
	CHECK_INT(fx_exec(g, sql), 0);
	CHECK_INT(introspect(g, old_key, NULL), 0);
	CHECK_INT(introspect(g, new_key, NULL), 1);
	/* the old one reads as expired, to the list's status filter too */
	CHECK_INT(gh_gov_credential_list(&lst, g, &fx_admin, NULL, NULL, grant, "expired"), 0);
	CHECK_INT(json_array_size(json_object_get(lst, "items")), 1);
	CHECK_STR(fx_s(json_array_get(json_object_get(lst, "items"), 0), "id"), fx_s(c, "id"));
	json_decref(lst);
	lst = NULL;
	CHECK_INT(gh_gov_credential_list(&lst, g, &fx_admin, NULL, NULL, grant, "expiring"), 0);
	CHECK_INT(json_array_size(json_object_get(lst, "items")), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'credential.rotated'"
			 " AND object_id = '%q'", fx_s(c, "id")), 1);

	/* overlap 0: the old key stops at once */
	CHECK_INT(fx_act(&r0, g, &fx_admin, fx_s(r, "id"), "{\"overlap\":0}",
			 gh_gov_credential_rotate), 0);
	if (CHECK(r0 != NULL)) {
		CHECK_INT(introspect(g, new_key, NULL), 0);
		CHECK_INT(introspect(g, fx_s(r0, "key"), NULL), 1);
	}
done:
	json_decref(lst);
	json_decref(r0);
	json_decref(again);
	json_decref(r);
	json_decref(c);
	gh_gov_free(g);
}

static void test_gov_credentials_revoke__stops_the_key_at_once(void)
{
	char grant[GH_ID_LEN] = "";
	gh_gov *g = world("cred-revoke", grant);
	json_t *c = NULL, *r = NULL;
	int64_t before;

	if (!CHECK(g && grant[0]) || !(c = issue(g, &fx_owner, grant, "{}")))
		goto done;
	before = fx_footprint(g) + fx_int(g, "SELECT count(*) FROM credentials WHERE revoked_at"
					   " IS NOT NULL");
	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{}", gh_gov_credential_revoke),
		  GH_EINVALID);
	CHECK(fx_field_error("reason"));
	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{\"reason\":7}",
			 gh_gov_credential_revoke), GH_EINVALID);
	CHECK(fx_field_error("reason"));
	CHECK_INT(fx_act(&r, g, &fx_auditor, fx_s(c, "id"), "{\"reason\":\"r\"}",
			 gh_gov_credential_revoke), GH_EFORBIDDEN);
	CHECK_INT(fx_footprint(g) + fx_int(g, "SELECT count(*) FROM credentials WHERE revoked_at"
					   " IS NOT NULL"), before);
	CHECK_INT(introspect(g, fx_s(c, "key"), NULL), 1);
	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{\"reason\":\"leaked\"}",
			 gh_gov_credential_revoke), 0);
	CHECK_STR(fx_s(r, "status"), "revoked");
	CHECK_STR(fx_s(r, "revoke_reason"), "leaked");
	CHECK_STR(fx_s(r, "revoked_by"), "idn_owner");
	json_decref(r);
	CHECK_INT(introspect(g, fx_s(c, "key"), NULL), 0);
	CHECK_INT(fx_act(&r, g, &fx_admin, fx_s(c, "id"), "{\"reason\":\"again\"}",
			 gh_gov_credential_revoke), GH_ECONFLICT);
	CHECK_INT(fx_act(&r, g, &fx_owner, fx_s(c, "id"), "{}", gh_gov_credential_rotate),
		  GH_ECONFLICT);
done:
	json_decref(c);
	gh_gov_free(g);
}

static void test_gov_credentials_grant_end__revokes_its_keys(void)
{
	char grant[GH_ID_LEN] = "", grant2[GH_ID_LEN] = "", sql[256];
	gh_gov *g = world("cred-grant-end", grant);
	json_t *a = NULL, *b = NULL, *out = NULL, *r = NULL;
	char *req;
	int expired = 0;

	if (!CHECK(g && grant[0]) || !(a = issue(g, &fx_owner, grant, "{}")) ||
	    !(b = issue(g, &fx_owner, grant, "{}")))
		goto done;
	CHECK_INT(fx_act(&out, g, &fx_admin, grant, "{\"reason\":\"done\"}", gh_gov_grant_revoke),
		  0);
	json_decref(out);
	CHECK_INT(introspect(g, fx_s(a, "key"), NULL), 0);
	CHECK_INT(introspect(g, fx_s(b, "key"), NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM credentials WHERE grant_id = '%q'"
			 " AND revoke_reason = 'grant revoked' AND revoked_by = 'idn_admin'", grant), 2);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'credential.revoked'"
			 " AND object_id IN ('%q', '%q')", fx_s(a, "id"), fx_s(b, "id")), 2);
	/* expiry by the scheduler, in the same transaction as the grant's end */
	req = fx_request(g, &fx_owner, "{\"channel\":\"portal\",\"subject\":\"idn_etl\","
			 "\"entitlement\":\"ent_key\",\"justification\":\"j\",\"duration\":\"1h\"}",
			 "active");
	if (req && gh_gov_request_get(&r, g, &fx_admin, req) == 0)
		snprintf(grant2, sizeof(grant2), "%s", fx_s(r, "grant"));
	free(req);
	json_decref(a);
	if (!CHECK(grant2[0]) || !(a = issue(g, &fx_owner, grant2, "{}")))
		goto done;
	snprintf(sql, sizeof(sql), "UPDATE grants SET expires_at = %lld WHERE id = '%s'",
		 (long long)gh_now() - 1, grant2);
	CHECK_INT(fx_exec(g, sql), 0);
	CHECK_INT(gh_gov_sched_run(g, gh_now(), &expired, NULL), 0);
	CHECK_INT(expired, 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM credentials WHERE id = '%q'"
			 " AND revoke_reason = 'grant expired'", fx_s(a, "id")), 1);
	CHECK_INT(fx_act(&out, g, &fx_owner, grant2, "{}", gh_gov_credential_issue), GH_ECONFLICT);
done:
	json_decref(r);
	json_decref(a);
	json_decref(b);
	gh_gov_free(g);
}

static void test_gov_credentials_request__only_for_nhis(void)
{
	char grant[GH_ID_LEN] = "";
	gh_gov *g = world("cred-request", grant);
	json_t *out = NULL;
	int64_t before;

	if (!CHECK(g && grant[0]))
		goto done;
	before = fx_footprint(g);
	CHECK_INT(fx_body(&out, g, &fx_admin, "{\"channel\":\"portal\",\"subject\":\"idn_alice\","
			  "\"entitlement\":\"ent_key\",\"justification\":\"j\",\"duration\":\"1h\"}",
			  gh_gov_request_submit), GH_EINVALID);
	CHECK(fx_field_error("subject"));
	CHECK(out == NULL);
	CHECK_INT(fx_footprint(g), before);
	/* humans still get manual entitlements */
	free(fx_request(g, &fx_admin, "{\"channel\":\"portal\",\"subject\":\"idn_alice\","
			"\"entitlement\":\"ent_low\",\"justification\":\"j\",\"duration\":\"1h\"}",
			"active"));
done:
	gh_gov_free(g);
}

static void test_gov_credentials_last_used__at_most_once_a_minute(void)
{
	char grant[GH_ID_LEN] = "", sql[256];
	gh_gov *g = world("cred-last-used", grant);
	json_t *c = NULL;
	int64_t now = gh_now();

	if (!CHECK(g && grant[0]) || !(c = issue(g, &fx_owner, grant, "{}")))
		goto done;
	CHECK_INT(fx_int(g, "SELECT count(*) FROM credentials WHERE last_used_at IS NULL"), 1);
	CHECK_INT(introspect(g, fx_s(c, "key"), NULL), 1);
	CHECK(fx_int(g, "SELECT last_used_at FROM credentials WHERE id = '%q'", fx_s(c, "id")) >= now);
	/* 30 s ago: not written again */
	snprintf(sql, sizeof(sql), "UPDATE credentials SET last_used_at = %lld WHERE id = '%s'",
		 (long long)gh_now() - 30, fx_s(c, "id"));
	CHECK_INT(fx_exec(g, sql), 0);
	CHECK_INT(introspect(g, fx_s(c, "key"), NULL), 1);
	CHECK_INT(fx_int(g, "SELECT %lld - last_used_at FROM credentials WHERE id = '%q'",
			 (long long)gh_now(), fx_s(c, "id")) >= 30, 1);
	/* 61 s ago: written */
	snprintf(sql, sizeof(sql), "UPDATE credentials SET last_used_at = %lld WHERE id = '%s'",
		 (long long)gh_now() - 61, fx_s(c, "id"));
	CHECK_INT(fx_exec(g, sql), 0);
	CHECK_INT(introspect(g, fx_s(c, "key"), NULL), 1);
	CHECK(fx_int(g, "SELECT %lld - last_used_at FROM credentials WHERE id = '%q'",
		     (long long)gh_now(), fx_s(c, "id")) < 30);
	/* a failed introspection is no use */
	CHECK_INT(fx_exec(g, "UPDATE credentials SET last_used_at = NULL"), 0);
	CHECK_INT(introspect(g, "ghk_nope", NULL), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM credentials WHERE last_used_at IS NULL"), 1);
done:
	json_decref(c);
	gh_gov_free(g);
}

static size_t items(const json_t *list)
{
	return json_array_size(json_object_get(list, "items"));
}

static void test_gov_credentials_read__owner_and_readers_only(void)
{
	char grant[GH_ID_LEN] = "";
	gh_gov *g = world("cred-read", grant);
	json_t *c = NULL, *d = NULL, *out = NULL;

	if (!CHECK(g && grant[0]) || !(c = issue(g, &fx_owner, grant, "{}")) ||
	    !(d = issue(g, &fx_owner, grant, "{}")))
		goto done;
	json_decref(out);
	CHECK_INT(fx_act(&out, g, &fx_owner, fx_s(d, "id"), "{\"reason\":\"r\"}",
			 gh_gov_credential_revoke), 0);
	json_decref(out);
	CHECK_INT(gh_gov_credential_list(&out, g, &fx_owner, NULL, NULL, NULL, NULL), 0);
	CHECK_INT(items(out), 2);
	json_decref(out);
	CHECK_INT(gh_gov_credential_list(&out, g, &fx_auditor, NULL, "etl", grant, "active"), 0);
	CHECK_INT(items(out), 1);
	CHECK_STR(fx_s(json_array_get(json_object_get(out, "items"), 0), "id"), fx_s(c, "id"));
	json_decref(out);
	CHECK_INT(gh_gov_credential_list(&out, g, &fx_admin, NULL, NULL, NULL, "revoked"), 0);
	CHECK_INT(items(out), 1);
	json_decref(out);
	/* someone else sees nothing */
	CHECK_INT(gh_gov_credential_list(&out, g, &fx_alice, NULL, NULL, NULL, NULL), 0);
	CHECK_INT(items(out), 0);
	json_decref(out);
	out = NULL;
	CHECK_INT(gh_gov_credential_get(&out, g, &fx_alice, fx_s(c, "id")), GH_ENOTFOUND);
	CHECK_INT(gh_gov_credential_get(&out, g, &fx_auditor, fx_s(c, "id")), 0);
	json_decref(out);
	out = NULL;
	/* bad filters, all named at once */
	CHECK_INT(gh_gov_credential_list(&out, g, &fx_admin, NULL, "idn_0000000000000000", NULL,
					 "bogus"), GH_EINVALID);
	CHECK(fx_field_error("status"));
	CHECK(fx_field_error("identity"));
	CHECK_INT(gh_gov_credential_get(&out, g, &fx_admin, "crd_0000000000000000"), GH_ENOTFOUND);
done:
	json_decref(c);
	json_decref(d);
	gh_gov_free(g);
}

static void test_gov_credentials_introspect__bad_bodies_name_the_field(void)
{
	char grant[GH_ID_LEN] = "";
	gh_gov *g = world("cred-badbody", grant);
	static const struct {
		const char *body, *field;
	} cases[] = {{"{}", "token"}, {"{\"token\":\"\"}", "token"}, {"{\"token\":5}", "token"},
		     {"{\"token\":null}", "token"}, {"{\"token\":\"x\",\"client_id\":\"y\"}", "client_id"},
		     {"{\"token\":\"x\",\"token_type_hint\":[]}", "token_type_hint"}};
	json_t *out = NULL, *in;

	if (!CHECK(g != NULL))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = json_loads(cases[i].body, 0, NULL);
		CHECK_INT(gh_gov_introspect(&out, g, &fx_carol, in), GH_EINVALID);
		if (!CHECK(fx_field_error(cases[i].field)))
			fprintf(stderr, "  body %s\n", cases[i].body);
		CHECK(out == NULL);
		json_decref(in);
	}
	in = json_pack("{s:s, s:s}", "token", "ghk_x", "token_type_hint", "access_token");
	CHECK_INT(gh_gov_introspect(&out, g, &fx_carol, in), 0);
	CHECK(json_is_false(json_object_get(out, "active")));
	json_decref(out);
	json_decref(in);
	gh_gov_free(g);
}

static int parse(json_t **out, const char *ct, const char *body)
{
	*out = NULL;
	gh_error_clear();
	return gh_api_introspect_body(out, ct, body, strlen(body));
}

static void test_gov_credentials_body__form_and_json(void)
{
	const char *form = "application/x-www-form-urlencoded";
	json_t *v = NULL;

	CHECK_INT(parse(&v, form, "token=ghk_a%2Bb+c&token_type_hint=api_key"), 0);
	CHECK_STR(fx_s(v, "token"), "ghk_a+b c");
	CHECK_STR(fx_s(v, "token_type_hint"), "api_key");
	json_decref(v);
	CHECK_INT(parse(&v, "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "token=k&&"), 0);
	CHECK_STR(fx_s(v, "token"), "k");
	json_decref(v);
	CHECK_INT(parse(&v, form, "token"), 0);
	CHECK_STR(fx_s(v, "token"), "");
	json_decref(v);
	CHECK_INT(parse(&v, form, ""), 0);
	CHECK_INT(json_object_size(v), 0);
	json_decref(v);
	CHECK_INT(parse(&v, "application/json", "{\"token\":\"k\"}"), 0);
	CHECK_STR(fx_s(v, "token"), "k");
	json_decref(v);
	/* refusals */
	CHECK_INT(parse(&v, form, "token=a&token=b"), GH_EINVALID);
	CHECK(fx_field_error("token"));
	CHECK_INT(parse(&v, form, "token=%zz"), GH_EINVALID);
	CHECK(fx_field_error("token"));
	CHECK_INT(parse(&v, form, "token=a%00b"), GH_EINVALID);
	CHECK(fx_field_error("token"));
	CHECK_INT(parse(&v, form, "token=%ff"), GH_EINVALID);
	CHECK(fx_field_error("token"));
	CHECK_INT(parse(&v, form, "=x"), GH_EINVALID);
	CHECK(fx_field_error("body"));
	CHECK_INT(parse(&v, form, "%0a=x"), GH_EINVALID);
	CHECK(fx_field_error("body"));
	CHECK_INT(parse(&v, "application/x-www-form-urlencoded; charset=latin1", "token=k"),
		  GH_API_EMEDIA);
	CHECK_INT(parse(&v, "text/plain", "token=k"), GH_API_EMEDIA);
	CHECK_INT(parse(&v, NULL, "token=k"), GH_API_EMEDIA);
	CHECK_INT(parse(&v, "application/json", "[1]"), GH_EINVALID);
	CHECK(fx_field_error("body"));
	CHECK_INT(parse(&v, "application/json", "{\"token\":"), GH_EINVALID);
	CHECK(v == NULL);
}

static const gh_test_case cases[] = {
	{"test_gov_credentials_issue__key_shown_once_only_hash_stored",
	 test_gov_credentials_issue__key_shown_once_only_hash_stored},
	{"test_gov_credentials_issue__refusals_change_nothing",
	 test_gov_credentials_issue__refusals_change_nothing},
	{"test_gov_credentials_issue__expiry_never_after_the_grant",
	 test_gov_credentials_issue__expiry_never_after_the_grant},
	{"test_gov_credentials_introspect__active_answer",
	 test_gov_credentials_introspect__active_answer},
	{"test_gov_credentials_introspect__inactive_for_every_reason",
	 test_gov_credentials_introspect__inactive_for_every_reason},
	{"test_gov_credentials_rotate__overlap_then_only_the_new_key",
	 test_gov_credentials_rotate__overlap_then_only_the_new_key},
	{"test_gov_credentials_revoke__stops_the_key_at_once",
	 test_gov_credentials_revoke__stops_the_key_at_once},
	{"test_gov_credentials_grant_end__revokes_its_keys",
	 test_gov_credentials_grant_end__revokes_its_keys},
	{"test_gov_credentials_request__only_for_nhis", test_gov_credentials_request__only_for_nhis},
	{"test_gov_credentials_last_used__at_most_once_a_minute",
	 test_gov_credentials_last_used__at_most_once_a_minute},
	{"test_gov_credentials_read__owner_and_readers_only",
	 test_gov_credentials_read__owner_and_readers_only},
	{"test_gov_credentials_introspect__bad_bodies_name_the_field",
	 test_gov_credentials_introspect__bad_bodies_name_the_field},
	{"test_gov_credentials_body__form_and_json", test_gov_credentials_body__form_and_json},
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	return gh_test_run(cases, argc, argv);
}
