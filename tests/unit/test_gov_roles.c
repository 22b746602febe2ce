/* test_gov_roles.c - the domain's own role rules (docs/api.md, Roles), whatever
 * the front end: who writes the inventory and tokens, who grants admin and
 * iam, nobody changes their own roles or status, the last admin stays, and a
 * refused write changes nothing. Also the owner, SoD-audit and inactive-
 * approver rules. Against a real SQLite file. */
#include "gov/gov_internal.h"
#include "store/sqlite/sqlite.h"
#include "harness.h"
#include "store_fixture.h"
#include "store/events.h"

#include <sodium.h>
#include <stdlib.h>

static int db_seq;
static char future[40];

/* The estate every case starts from. root is the bootstrap admin; each
 * person's actor comes from a real token, as the API would build it. */
typedef struct world {
	gh_gov *g;
	gh_actor root, ivy, april, rex, sid, aud;   /* admin, iam, approver, requester,
						       servicedesk, auditor */
	char hank[GH_ID_LEN];                       /* a human without roles; owns db */
	char bot[GH_ID_LEN];                        /* an NHI owned by hank */
	char token_id[GH_ID_LEN];                   /* a token of hank's */
} world;

static json_t *J(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (!v) {
		fprintf(stderr, "bad test JSON: %s\n", text);
		exit(2);
	}
	return v;
}

static const char *sget(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int contains(const char *s, const char *part)
{
	return s && strstr(s, part) != NULL;
}

static int64_t count(gh_gov *g, const char *sql)
{
	return sf_int(gh_gov_store(g), sql, NULL, NULL);
}

static int64_t audit_count(gh_gov *g)
{
	return count(g, "SELECT count(*) FROM audit_events");
}

/* A digest of every row of every table: equal digests, nothing changed.
 * PostgreSQL: each row as text, in text order. */
static void digest_postgres(gh_gov *g, crypto_generichash_state *h)
{
	gh_store *s = gh_gov_store(g);
	gh_sql *tables = NULL, *st = NULL;
	char sql[200];

	if (gh_sql_prepare_once(&tables, s, "SELECT table_name FROM information_schema.tables"
					    " WHERE table_schema = current_schema()"
					    " ORDER BY table_name COLLATE \"C\"") != 0)
		return;
	while (gh_sql_step(tables) == GH_SQL_ROW) {
		const char *name = gh_sql_column_text(tables, 0);

		crypto_generichash_update(h, (const unsigned char *)name, strlen(name));
		snprintf(sql, sizeof(sql), "SELECT CAST(t AS TEXT) FROM \"%s\" t ORDER BY 1", name);
		if (gh_sql_prepare_once(&st, s, sql) != 0)
			continue;
		while (gh_sql_step(st) == GH_SQL_ROW) {
			const char *v = gh_sql_column_text(st, 0);
			crypto_generichash_update(h, (const unsigned char *)"|", 1);
			crypto_generichash_update(h, (const unsigned char *)v, strlen(v));
		}
		gh_sql_finalize(st);
	}
	gh_sql_finalize(tables);
}

static void digest(gh_gov *g, unsigned char out[32])
{
	sqlite3 *db;
	crypto_generichash_state h;
	sqlite3_stmt *tables = NULL, *st = NULL;

	crypto_generichash_init(&h, NULL, 0, 32);
	gh_store_read_begin(gh_gov_store(g));
	if (sf_on_postgres()) {
		digest_postgres(g, &h);
		goto done;
	}
	db = gh_store_db(gh_gov_store(g));
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'"
			       " AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &tables,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(tables) == SQLITE_ROW) {
			char *sql = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY rowid",
						    (const char *)sqlite3_column_text(tables, 0));
			crypto_generichash_update(&h, sqlite3_column_text(tables, 0),
						  (unsigned long long)sqlite3_column_bytes(tables, 0));
			if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
				while (sqlite3_step(st) == SQLITE_ROW)
					for (int c = 0; c < sqlite3_column_count(st); c++) {
						const unsigned char *v = sqlite3_column_blob(st, c);
						int n = sqlite3_column_bytes(st, c);
						crypto_generichash_update(&h, (const unsigned char *)"|", 1);
						if (v)
							crypto_generichash_update(&h, v, (unsigned long long)n);
					}
				sqlite3_finalize(st);
			}
			sqlite3_free(sql);
		}
	}
	sqlite3_finalize(tables);
done:
	gh_store_read_end(gh_gov_store(g));
	crypto_generichash_final(&h, out, 32);
}

/* Remembers the state before a refusal; unchanged() checks it afterwards. */
typedef struct before {
	unsigned char digest[32];
	int64_t audit;
} before;

static void remember(gh_gov *g, before *b)
{
	digest(g, b->digest);
	b->audit = audit_count(g);
}

static int unchanged(gh_gov *g, const before *b)
{
	unsigned char now[32];

	digest(g, now);
	return CHECK_INT(audit_count(g), b->audit) &&
	       CHECK(memcmp(now, b->digest, sizeof(now)) == 0);
}

/* Creates an identity as the root admin; copies its id to id_out. */
static void make(world *w, const char *body, char id_out[GH_ID_LEN])
{
	json_t *in = J(body), *out = NULL;

	if (!CHECK_INT(gh_gov_identity_create(&out, w->g, &w->root, in), 0))
		fprintf(stderr, "  %s: %s\n", body, gh_error_last()->message);
	if (id_out)
		snprintf(id_out, GH_ID_LEN, "%s", out ? sget(out, "id") : "");
	json_decref(out);
	json_decref(in);
}

/* The actor a fresh token of identity id authenticates as. */
static void actor_for(world *w, const char *id, gh_actor *out)
{
	json_t *in = json_pack("{s:s, s:s}", "identity", id, "name", "test"), *tok = NULL;

	memset(out, 0, sizeof(*out));
	if (CHECK_INT(gh_gov_token_create(&tok, w->g, &w->root, in), 0))
		CHECK_INT(gh_gov_authenticate(out, w->g, sget(tok, "token")), 0);
	json_decref(tok);
	json_decref(in);
}

static void person(world *w, const char *name, const char *roles, gh_actor *out)
{
	char body[256], id[GH_ID_LEN];

	snprintf(body, sizeof(body), "{\"kind\":\"human\",\"name\":\"%s\",\"roles\":%s}", name,
		 roles);
	make(w, body, id);
	actor_for(w, id, out);
}

static int call(gh_gov *g, const gh_actor *a, const char *body,
		int (*fn)(json_t **, gh_gov *, const gh_actor *, const json_t *))
{
	json_t *in = J(body), *out = NULL;
	int rc = fn(&out, g, a, in);

	CHECK(rc ? out == NULL : out != NULL);
	json_decref(out);
	json_decref(in);
	return rc;
}

static int call_ref(gh_gov *g, const gh_actor *a, const char *ref, const char *body,
		    int (*fn)(json_t **, gh_gov *, const gh_actor *, const char *, const json_t *))
{
	json_t *in = J(body), *out = NULL;
	int rc = fn(&out, g, a, ref, in);

	/* a proposed change (four eyes) answers the change */
	CHECK(rc && rc != GH_PROPOSED ? out == NULL : out != NULL);
	json_decref(out);
	json_decref(in);
	return rc;
}

/* Confirms the latest proposed change as a (second) person; its rc. */
static int confirm_latest(gh_gov *g, const gh_actor *a)
{
	json_t *list = NULL, *out = NULL, *items;
	int rc;

	if ((rc = gh_gov_change_list(&list, g, a, NULL, "proposed", NULL)))
		return rc;
	items = json_object_get(list, "items");
	rc = json_array_size(items) == 0 ? GH_ENOTFOUND :
	     gh_gov_change_confirm(&out, g, a, json_string_value(json_object_get(
		     json_array_get(items, json_array_size(items) - 1), "id")), NULL);
	json_decref(out);
	json_decref(list);
	return rc;
}

static int set_status(gh_gov *g, const gh_actor *a, const char *ref, const char *action)
{
	json_t *in = J("{\"reason\":\"test\"}"), *out = NULL;
	int rc = gh_gov_identity_set_status(&out, g, a, ref, action, in);

	CHECK(rc ? out == NULL : out != NULL);
	json_decref(out);
	json_decref(in);
	return rc;
}

static int set_roles(gh_gov *g, const gh_actor *a, const char *ref, const char *roles)
{
	char body[200];

	snprintf(body, sizeof(body), "{\"roles\":%s}", roles);
	return call_ref(g, a, ref, body, gh_gov_identity_update);
}

/* The roles identity ref holds now, as a bit set (~0u when unreadable). */
static unsigned roles_of(world *w, const char *ref)
{
	json_t *idn = NULL, *item;
	unsigned bits = 0;
	size_t i;

	if (gh_gov_identity_get(&idn, w->g, &w->root, ref) != 0)
		return ~0u;
	json_array_foreach(json_object_get(idn, "roles"), i, item)
		bits |= gh_role_parse(json_string_value(item));
	json_decref(idn);
	return bits;
}

static int world_open(world *w)
{
	char path[512], *token = NULL;
	json_t *out = NULL, *in;
	int rc;

	memset(w, 0, sizeof(*w));
	sf_targetf(path, sizeof(path), 1, "roles-%d.db", ++db_seq);
	if (!CHECK_INT(gh_gov_open(&w->g, path, 1, NULL), 0) ||
	    !CHECK_INT(gh_gov_bootstrap(&token, w->g, "root"), 0))
		return -1;
	rc = gh_gov_authenticate(&w->root, w->g, token);
	free(token);
	if (!CHECK_INT(rc, 0) || !CHECK_INT(w->root.roles, GH_ROLE_ADMIN))
		return -1;
	person(w, "ivy", "[\"iam\"]", &w->ivy);
	person(w, "april", "[\"approver\"]", &w->april);
	person(w, "rex", "[\"requester\"]", &w->rex);
	person(w, "sid", "[\"servicedesk\"]", &w->sid);
	person(w, "aud", "[\"auditor\"]", &w->aud);
	make(w, "{\"kind\":\"human\",\"name\":\"hank\"}", w->hank);
	snprintf(path, sizeof(path), "{\"kind\":\"service_account\",\"name\":\"bot\","
		 "\"owner\":\"hank\",\"purpose\":\"etl\",\"environment\":\"prod\","
		 "\"expires_at\":\"%s\"}", future);
	make(w, path, w->bot);
	CHECK_INT(call(w->g, &w->root, "{\"name\":\"owners\"}", gh_gov_group_create), 0);
	CHECK_INT(call_ref(w->g, &w->root, "owners", "{\"identity\":\"april\"}",
			   gh_gov_group_add_member), 0);
	CHECK_INT(call(w->g, &w->root, "{\"name\":\"db\",\"owner\":\"hank\"}",
		       gh_gov_system_create), 0);
	CHECK_INT(call(w->g, &w->root, "{\"system\":\"db\",\"name\":\"rw\",\"risk_tier\":"
		       "\"medium\",\"data_sensitivity\":\"internal\",\"environment\":\"prod\","
		       "\"control_owner_group\":\"owners\",\"max_duration\":\"8h\"}",
		       gh_gov_entitlement_create), 0);
	in = json_pack("{s:s, s:s}", "identity", w->hank, "name", "hank-ci");
	if (CHECK_INT(gh_gov_token_create(&out, w->g, &w->root, in), 0))
		snprintf(w->token_id, sizeof(w->token_id), "%s", sget(out, "id"));
	json_decref(out);
	json_decref(in);
	return 0;
}

static void world_close(world *w)
{
	gh_gov_free(w->g);
	gh_error_clear();
}

/* --- rule 1: inventory writes need admin or iam ------------------------------ */

/* Every inventory write with a valid body, so that only the role can refuse. */
static int inventory_write(world *w, const gh_actor *a, int which)
{
	switch (which) {
	case 0:
		return call(w->g, a, "{\"kind\":\"human\",\"name\":\"newbie\"}",
			    gh_gov_identity_create);
	case 1:
		return call_ref(w->g, a, "hank", "{\"display_name\":\"Hank\"}",
				gh_gov_identity_update);
	case 2:
		return set_status(w->g, a, "bot", "suspend");
	case 3:
		return set_status(w->g, a, "bot", "decommission");
	case 4:
		return call(w->g, a, "{\"name\":\"new-group\"}", gh_gov_group_create);
	case 5:
		return call_ref(w->g, a, "owners", "{\"identity\":\"hank\"}",
				gh_gov_group_add_member);
	case 6: {
		json_t *out = NULL;
		int rc = gh_gov_group_remove_member(&out, w->g, a, "owners", "april");
		CHECK(rc ? out == NULL : out != NULL);
		json_decref(out);
		return rc;
	}
	case 7:
		return call(w->g, a, "{\"name\":\"new-sys\",\"owner\":\"hank\"}",
			    gh_gov_system_create);
	case 8:
		return call_ref(w->g, a, "db", "{\"description\":\"the db\"}",
				gh_gov_system_update);
	case 9:
		return call(w->g, a, "{\"system\":\"db\",\"name\":\"ro\",\"risk_tier\":\"low\","
			    "\"data_sensitivity\":\"internal\",\"environment\":\"prod\","
			    "\"control_owner_group\":\"owners\",\"max_duration\":\"8h\"}",
			    gh_gov_entitlement_create);
	default:
		return call_ref(w->g, a, "db/rw", "{\"risk_tier\":\"high\"}",
				gh_gov_entitlement_update);
	}
}

#define INVENTORY_WRITES 11

static void test_roles_inventory__other_roles_are_forbidden_and_change_nothing(void)
{
	world w;
	gh_actor scheduler = {"system:scheduler", 0};
	const gh_actor *refused[6];
	before b;

	if (world_open(&w))
		goto cleanup;
	refused[0] = &w.april;
	refused[1] = &w.rex;
	refused[2] = &w.sid;
	refused[3] = &w.aud;
	refused[4] = &scheduler;
	refused[5] = NULL;
	for (int i = 0; refused[i]; i++) {
		for (int op = 0; op < INVENTORY_WRITES; op++) {
			remember(w.g, &b);
			if (!CHECK_INT(inventory_write(&w, refused[i], op), GH_EFORBIDDEN))
				fprintf(stderr, "  actor %d op %d: %s\n", i, op,
					gh_error_last()->message);
			CHECK(contains(gh_error_last()->message, "needs one of the roles: admin, iam"));
			unchanged(w.g, &b);
		}
	}
cleanup:
	world_close(&w);
}

static void test_roles_inventory__iam_and_admin_may_write(void)
{
	world w, w2;

	memset(&w2, 0, sizeof(w2));
	if (world_open(&w) || world_open(&w2))
		goto cleanup;
	for (int op = 0; op < INVENTORY_WRITES; op++) {
		int64_t n = audit_count(w.g);
		/* decommissioning the bot after suspending it: both allowed */
		/* op 5 adds a member to a control-owner group: proposed (four eyes) */
		int want = op == 5 ? GH_PROPOSED : 0;

		if (!CHECK_INT(inventory_write(&w, &w.ivy, op), want))
			fprintf(stderr, "  iam op %d: %s\n", op, gh_error_last()->message);
		CHECK(audit_count(w.g) > n);
		if (!CHECK_INT(inventory_write(&w2, &w2.root, op), want))
			fprintf(stderr, "  admin op %d: %s\n", op, gh_error_last()->message);
	}
cleanup:
	world_close(&w);
	world_close(&w2);
}

/* --- rule 2: tokens need admin --------------------------------------------- */

static void test_roles_token__only_admin_creates_or_revokes(void)
{
	world w;
	const gh_actor *refused[6];
	json_t *in = NULL, *out = NULL;
	before b;

	if (world_open(&w))
		goto cleanup;
	refused[0] = &w.ivy;
	refused[1] = &w.april;
	refused[2] = &w.rex;
	refused[3] = &w.sid;
	refused[4] = &w.aud;
	refused[5] = NULL;
	in = json_pack("{s:s, s:s}", "identity", "ivy", "name", "more");
	for (int i = 0; refused[i]; i++) {
		remember(w.g, &b);
		CHECK_INT(gh_gov_token_create(&out, w.g, refused[i], in), GH_EFORBIDDEN);
		CHECK(out == NULL);
		CHECK(contains(gh_error_last()->message, "needs the role: admin"));
		CHECK_INT(gh_gov_token_revoke(w.g, refused[i], w.token_id), GH_EFORBIDDEN);
		unchanged(w.g, &b);
	}
	CHECK_INT(gh_gov_token_create(&out, w.g, &w.root, in), 0);
	json_decref(out);
	CHECK_INT(gh_gov_token_revoke(w.g, &w.root, w.token_id), 0);
cleanup:
	json_decref(in);
	world_close(&w);
}

/* --- rule 3: who grants which roles ---------------------------------------- */

static void test_roles_grant__iam_cannot_grant_or_remove_admin_or_iam(void)
{
	static const char *const creates[] = {
		"{\"kind\":\"human\",\"name\":\"x1\",\"roles\":[\"admin\"]}",
		"{\"kind\":\"human\",\"name\":\"x2\",\"roles\":[\"iam\"]}",
		"{\"kind\":\"human\",\"name\":\"x3\",\"roles\":[\"approver\",\"admin\"]}", NULL};
	static const char *const grants[] = {"[\"admin\"]", "[\"iam\"]",
					     "[\"approver\",\"iam\"]", NULL};
	char iam2[GH_ID_LEN];
	world w;
	before b;

	if (world_open(&w))
		goto cleanup;
	make(&w, "{\"kind\":\"human\",\"name\":\"iam2\",\"roles\":[\"iam\",\"approver\"]}", iam2);
	for (int i = 0; creates[i]; i++) {
		remember(w.g, &b);
		CHECK_INT(call(w.g, &w.ivy, creates[i], gh_gov_identity_create), GH_EFORBIDDEN);
		CHECK(contains(gh_error_last()->message, "needs the role admin"));
		unchanged(w.g, &b);
	}
	for (int i = 0; grants[i]; i++) {
		remember(w.g, &b);
		CHECK_INT(set_roles(w.g, &w.ivy, "hank", grants[i]), GH_EFORBIDDEN);
		CHECK(contains(gh_error_last()->message, "granting the"));
		unchanged(w.g, &b);
	}
	/* removing iam from another iam, even keeping its other roles */
	remember(w.g, &b);
	CHECK_INT(set_roles(w.g, &w.ivy, iam2, "[\"approver\"]"), GH_EFORBIDDEN);
	CHECK(contains(gh_error_last()->message, "removing the iam role"));
	unchanged(w.g, &b);
	/* an admin's identity is the admins' to change: roles, status or any field */
	remember(w.g, &b);
	CHECK_INT(set_roles(w.g, &w.ivy, "root", "[]"), GH_EFORBIDDEN);
	CHECK_INT(call_ref(w.g, &w.ivy, "root", "{\"email\":\"root@example.com\"}",
			   gh_gov_identity_update), GH_EFORBIDDEN);
	CHECK_INT(set_status(w.g, &w.ivy, "root", "suspend"), GH_EFORBIDDEN);
	CHECK(contains(gh_error_last()->message, "needs the role admin"));
	unchanged(w.g, &b);
	CHECK_INT(roles_of(&w, "hank"), 0);
cleanup:
	world_close(&w);
}

static void test_roles_grant__iam_grants_the_other_roles(void)
{
	char id[GH_ID_LEN];
	json_t *in = NULL, *out = NULL;
	world w;

	if (world_open(&w))
		goto cleanup;
	in = J("{\"kind\":\"human\",\"name\":\"helper\",\"roles\":[\"approver\",\"requester\","
	       "\"servicedesk\",\"auditor\"]}");
	CHECK_INT(gh_gov_identity_create(&out, w.g, &w.ivy, in), 0);
	snprintf(id, sizeof(id), "%s", out ? sget(out, "id") : "");
	json_decref(out);
	json_decref(in);
	CHECK_INT(roles_of(&w, id), GH_ROLE_APPROVER | GH_ROLE_REQUESTER | GH_ROLE_SERVICEDESK |
		  GH_ROLE_AUDITOR);
	CHECK_INT(set_roles(w.g, &w.ivy, "hank", "[\"approver\"]"), 0);
	CHECK_INT(set_roles(w.g, &w.ivy, "hank", "[\"requester\",\"servicedesk\"]"), 0);
	CHECK_INT(set_roles(w.g, &w.ivy, "hank", "[\"auditor\"]"), 0);
	CHECK_INT(roles_of(&w, "hank"), GH_ROLE_AUDITOR);
	CHECK_INT(set_roles(w.g, &w.ivy, "april", "[]"), 0);
	CHECK_INT(roles_of(&w, "april"), 0);
	/* iam may also edit another iam's other fields and non-privileged roles */
	CHECK_INT(set_roles(w.g, &w.root, "hank", "[\"iam\"]"), 0);
	CHECK_INT(set_roles(w.g, &w.ivy, "hank", "[\"iam\",\"approver\"]"), 0);
	CHECK_INT(roles_of(&w, "hank"), GH_ROLE_IAM | GH_ROLE_APPROVER);
cleanup:
	world_close(&w);
}

static void test_roles_grant__admin_grants_and_removes_iam_and_admin(void)
{
	json_t *in = NULL, *out = NULL;
	world w;

	if (world_open(&w))
		goto cleanup;
	in = J("{\"kind\":\"human\",\"name\":\"root2\",\"roles\":[\"admin\"]}");
	CHECK_INT(gh_gov_identity_create(&out, w.g, &w.root, in), 0);
	json_decref(out);
	json_decref(in);
	CHECK_INT(call(w.g, &w.root, "{\"kind\":\"human\",\"name\":\"iam3\",\"roles\":[\"iam\"]}",
		       gh_gov_identity_create), 0);
	CHECK_INT(set_roles(w.g, &w.root, "hank", "[\"admin\",\"iam\"]"), 0);
	CHECK_INT(roles_of(&w, "hank"), GH_ROLE_ADMIN | GH_ROLE_IAM);
	CHECK_INT(set_roles(w.g, &w.root, "hank", "[]"), 0);
	CHECK_INT(set_roles(w.g, &w.root, "ivy", "[\"approver\"]"), 0);
	CHECK_INT(roles_of(&w, "ivy"), GH_ROLE_APPROVER);
	CHECK_INT(set_roles(w.g, &w.root, "root2", "[\"auditor\"]"), 0);
	CHECK_INT(roles_of(&w, "root2"), GH_ROLE_AUDITOR);
cleanup:
	world_close(&w);
}

static void test_roles_self__nobody_changes_their_own_roles(void)
{
	static const char *const mine[] = {"[\"admin\",\"iam\"]", "[\"admin\"]",
					   "[\"iam\",\"approver\"]", "[]", NULL};
	char tok_body[160];
	json_t *in = NULL, *out = NULL;
	gh_actor again;
	world w;
	before b;

	if (world_open(&w))
		goto cleanup;
	/* the escalation: an iam making itself admin, its token would follow */
	for (int i = 0; mine[i]; i++) {
		remember(w.g, &b);
		CHECK_INT(set_roles(w.g, &w.ivy, w.ivy.id, mine[i]), GH_EFORBIDDEN);
		CHECK(contains(gh_error_last()->message, "nobody changes their own roles"));
		unchanged(w.g, &b);
	}
	/* not even an admin */
	remember(w.g, &b);
	CHECK_INT(set_roles(w.g, &w.root, w.root.id, "[\"admin\",\"iam\"]"), GH_EFORBIDDEN);
	CHECK(contains(gh_error_last()->message, "nobody changes their own roles"));
	CHECK_INT(set_roles(w.g, &w.root, "root", "[]"), GH_EFORBIDDEN);
	unchanged(w.g, &b);
	/* the same roles again, or other fields, are no change of roles */
	CHECK_INT(set_roles(w.g, &w.ivy, "ivy", "[\"iam\"]"), 0);
	CHECK_INT(call_ref(w.g, &w.ivy, "ivy", "{\"display_name\":\"Ivy\"}",
			   gh_gov_identity_update), 0);
	CHECK_INT(roles_of(&w, "ivy"), GH_ROLE_IAM);
	/* a token of ivy's still authenticates as iam only */
	snprintf(tok_body, sizeof(tok_body), "{\"identity\":\"%s\",\"name\":\"again\"}", w.ivy.id);
	in = J(tok_body);
	if (CHECK_INT(gh_gov_token_create(&out, w.g, &w.root, in), 0) &&
	    CHECK_INT(gh_gov_authenticate(&again, w.g, sget(out, "token")), 0))
		CHECK_INT(again.roles, GH_ROLE_IAM);
	json_decref(out);
	json_decref(in);
cleanup:
	world_close(&w);
}

static void test_roles_self__nobody_suspends_or_decommissions_themselves(void)
{
	world w;
	before b;

	if (world_open(&w))
		goto cleanup;
	/* a second admin, so that only the self rule can refuse root */
	CHECK_INT(set_roles(w.g, &w.root, "hank", "[\"admin\"]"), 0);
	remember(w.g, &b);
	CHECK_INT(set_status(w.g, &w.ivy, "ivy", "suspend"), GH_EFORBIDDEN);
	CHECK(contains(gh_error_last()->message, "themselves"));
	CHECK_INT(set_status(w.g, &w.ivy, w.ivy.id, "decommission"), GH_EFORBIDDEN);
	CHECK_INT(set_status(w.g, &w.root, "root", "suspend"), GH_EFORBIDDEN);
	CHECK_INT(set_status(w.g, &w.root, "root", "decommission"), GH_EFORBIDDEN);
	CHECK(contains(gh_error_last()->message, "themselves"));
	unchanged(w.g, &b);
	/* another may */
	CHECK_INT(set_status(w.g, &w.ivy, "april", "suspend"), 0);
	CHECK_INT(set_status(w.g, &w.root, "ivy", "suspend"), 0);
cleanup:
	world_close(&w);
}

/* --- rule 4: the last admin ------------------------------------------------ */

static void test_roles_last_admin__cannot_be_demoted_suspended_or_decommissioned(void)
{
	/* an actor that is no identity (as the CLI acts), so the self rule does not apply */
	gh_actor cli = {"system:cli", GH_ROLE_ADMIN};
	world w;
	before b;

	if (world_open(&w))
		goto cleanup;
	remember(w.g, &b);
	CHECK_INT(set_roles(w.g, &cli, "root", "[\"iam\"]"), GH_ECONFLICT);
	CHECK(contains(gh_error_last()->message, "last active admin"));
	CHECK_INT(set_status(w.g, &cli, "root", "suspend"), GH_ECONFLICT);
	CHECK(contains(gh_error_last()->message, "last active admin"));
	CHECK_INT(set_status(w.g, &cli, "root", "decommission"), GH_ECONFLICT);
	CHECK(contains(gh_error_last()->message, "last active admin"));
	unchanged(w.g, &b);

	/* a suspended admin is no admin who can sign in */
	make(&w, "{\"kind\":\"human\",\"name\":\"adm2\"}", NULL);
	CHECK_INT(set_roles(w.g, &w.root, "adm2", "[\"admin\"]"), 0);
	CHECK_INT(set_status(w.g, &w.root, "adm2", "suspend"), 0);
	remember(w.g, &b);
	CHECK_INT(set_status(w.g, &cli, "root", "suspend"), GH_ECONFLICT);
	unchanged(w.g, &b);
	/* nor is an expired one */
	CHECK_INT(set_status(w.g, &w.root, "adm2", "activate"), 0);
	gh_store_begin(gh_gov_store(w.g));
	CHECK_INT(gh_sql_exec(gh_gov_store(w.g), "UPDATE identities SET expires_at = 1"
			      " WHERE name = 'adm2'", "ageing adm2"), 0);
	gh_store_commit(gh_gov_store(w.g));
	remember(w.g, &b);
	CHECK_INT(set_roles(w.g, &cli, "root", "[]"), GH_ECONFLICT);
	unchanged(w.g, &b);
	gh_store_begin(gh_gov_store(w.g));
	CHECK_INT(gh_sql_exec(gh_gov_store(w.g), "UPDATE identities SET expires_at = NULL"
			      " WHERE name = 'adm2'", "renewing adm2"), 0);
	gh_store_commit(gh_gov_store(w.g));

	/* with a second admin active, each of the three is allowed in turn */
	CHECK_INT(set_roles(w.g, &cli, "root", "[\"iam\"]"), 0);
	remember(w.g, &b);
	CHECK_INT(set_status(w.g, &cli, "adm2", "suspend"), GH_ECONFLICT);  /* adm2 is the last now */
	CHECK_INT(set_roles(w.g, &cli, "adm2", "[]"), GH_ECONFLICT);
	unchanged(w.g, &b);
	CHECK_INT(set_roles(w.g, &cli, "root", "[\"admin\"]"), 0);
	CHECK_INT(set_status(w.g, &w.root, "adm2", "suspend"), 0);
	CHECK_INT(set_status(w.g, &cli, "adm2", "activate"), 0);
	CHECK_INT(set_status(w.g, &w.root, "adm2", "decommission"), 0);
cleanup:
	world_close(&w);
}

/* --- gaps: owners, SoD audit, inactive approvers ------------------------------ */

static void test_roles_decommission__owner_of_a_system_is_refused(void)
{
	world w;
	before b;

	if (world_open(&w))
		goto cleanup;
	/* hank owns bot and db: the NHI is named first; without it, the system */
	/* another owner is a weaker control: a second person confirms it */
	CHECK_INT(call_ref(w.g, &w.root, "bot", "{\"owner\":\"april\"}", gh_gov_identity_update),
		  GH_PROPOSED);
	CHECK_INT(confirm_latest(w.g, &w.ivy), 0);
	remember(w.g, &b);
	CHECK_INT(set_status(w.g, &w.root, "hank", "decommission"), GH_ECONFLICT);
	CHECK(contains(gh_error_last()->message, "owns 1 system;"));
	unchanged(w.g, &b);
	CHECK_INT(call(w.g, &w.root, "{\"name\":\"db2\",\"owner\":\"hank\"}", gh_gov_system_create),
		  0);
	CHECK_INT(set_status(w.g, &w.root, "hank", "decommission"), GH_ECONFLICT);
	CHECK(contains(gh_error_last()->message, "owns 2 systems"));
	CHECK_INT(call_ref(w.g, &w.root, "db", "{\"owner\":\"april\"}", gh_gov_system_update), 0);
	CHECK_INT(call_ref(w.g, &w.root, "db2", "{\"owner\":\"april\"}", gh_gov_system_update), 0);
	CHECK_INT(set_status(w.g, &w.root, "hank", "decommission"), 0);
cleanup:
	world_close(&w);
}

/* The latest event with this action on this object (caller frees), or NULL. */
static json_t *event_of(gh_gov *g, const char *action, const char *object_id)
{
	json_t *items = NULL, *ev = NULL;
	size_t i;

	gh_store_read_begin(gh_gov_store(g));
	if (gh_store_events_about(&items, gh_gov_store(g), object_id, NULL) == 0) {
		/* the latest one with that action */
		for (i = json_array_size(items); i > 0 && !ev; i--) {
			json_t *e = json_array_get(items, i - 1);

			if (strcmp(json_string_value(json_object_get(e, "action")), action) == 0)
				ev = json_incref(e);
		}
	}
	json_decref(items);
	gh_store_read_end(gh_gov_store(g));
	return ev;
}

/* The event's details.conflicts.<side> is exactly [id] (or empty when id is NULL). */
static int conflict_side(const json_t *ev, const char *side, const char *id)
{
	json_t *a = json_object_get(json_object_get(json_object_get(ev, "details"), "conflicts"),
				    side);

	if (!json_is_array(a))
		return 0;
	if (!id)
		return json_array_size(a) == 0;
	return json_array_size(a) == 1 && strcmp(json_string_value(json_array_get(a, 0)), id) == 0;
}

static void make_ent(world *w, const char *name, const char *conflicts, char id[GH_ID_LEN])
{
	char body[512];
	json_t *in, *out = NULL;

	snprintf(body, sizeof(body), "{\"system\":\"db\",\"name\":\"%s\",\"risk_tier\":\"low\","
		 "\"data_sensitivity\":\"internal\",\"environment\":\"prod\","
		 "\"control_owner_group\":\"owners\",\"max_duration\":\"1h\","
		 "\"incompatible_with\":%s}", name, conflicts);
	in = J(body);
	CHECK_INT(gh_gov_entitlement_create(&out, w->g, &w->ivy, in), 0);
	snprintf(id, GH_ID_LEN, "%s", out ? sget(out, "id") : "");
	json_decref(out);
	json_decref(in);
}

static void test_roles_conflicts__changes_are_audited_on_both_sides(void)
{
	char e1[GH_ID_LEN], e2[GH_ID_LEN], e3[GH_ID_LEN], e4[GH_ID_LEN], body[200];
	gh_audit_report rep;
	json_t *ev;
	int64_t n;
	world w;

	if (world_open(&w))
		goto cleanup;
	make_ent(&w, "e1", "[]", e1);
	make_ent(&w, "e2", "[]", e2);
	make_ent(&w, "e3", "[]", e3);

	/* e1 gains e2: an event on e1 and one on e2 */
	n = audit_count(w.g);
	CHECK_INT(call_ref(w.g, &w.ivy, e1, "{\"incompatible_with\":[\"db/e2\"]}",
			   gh_gov_entitlement_update), 0);
	CHECK_INT(audit_count(w.g) - n, 2);
	ev = event_of(w.g, "entitlement.updated", e1);
	CHECK(conflict_side(ev, "added", e2) && conflict_side(ev, "removed", NULL));
	CHECK_STR(json_string_value(json_object_get(ev, "actor")), w.ivy.id);
	json_decref(ev);
	ev = event_of(w.g, "entitlement.updated", e2);
	CHECK(conflict_side(ev, "added", e1) && conflict_side(ev, "removed", NULL));
	CHECK_STR(sget(json_object_get(ev, "details"), "via"), e1);
	CHECK_STR(json_string_value(json_array_get(json_object_get(json_object_get(ev, "details"),
								   "changed"), 0)),
		  "incompatible_with");
	json_decref(ev);

	/* e1 swaps e2 for e3 (an SoD pair removed: four eyes): change.proposed,
	 * then at confirmation three events and change.confirmed; e2 lost e1,
	 * e3 gained it */
	n = audit_count(w.g);
	snprintf(body, sizeof(body), "{\"incompatible_with\":[\"%s\"]}", e3);
	CHECK_INT(call_ref(w.g, &w.ivy, e1, body, gh_gov_entitlement_update), GH_PROPOSED);
	CHECK_INT(audit_count(w.g) - n, 1);
	CHECK_INT(confirm_latest(w.g, &w.root), 0);
	CHECK_INT(audit_count(w.g) - n, 5);
	ev = event_of(w.g, "entitlement.updated", e1);
	CHECK(conflict_side(ev, "added", e3) && conflict_side(ev, "removed", e2));
	json_decref(ev);
	ev = event_of(w.g, "entitlement.updated", e2);
	CHECK(conflict_side(ev, "removed", e1) && conflict_side(ev, "added", NULL));
	json_decref(ev);
	ev = event_of(w.g, "entitlement.updated", e3);
	CHECK(conflict_side(ev, "added", e1));
	json_decref(ev);

	/* the same set again changes nothing and audits nothing */
	n = audit_count(w.g);
	CHECK_INT(call_ref(w.g, &w.ivy, e1, body, gh_gov_entitlement_update), 0);
	CHECK_INT(audit_count(w.g), n);

	/* a new entitlement conflicting with e1: created, and e1 updated */
	n = audit_count(w.g);
	make_ent(&w, "e4", "[\"db/e1\"]", e4);
	CHECK_INT(audit_count(w.g) - n, 2);
	ev = event_of(w.g, "entitlement.updated", e1);
	CHECK(conflict_side(ev, "added", e4));
	CHECK_STR(sget(json_object_get(ev, "details"), "via"), e4);
	json_decref(ev);
	CHECK_INT(gh_audit_verify(&rep, gh_gov_store(w.g)), 0);
cleanup:
	world_close(&w);
}

static void test_roles_approve__an_inactive_approver_cannot_decide(void)
{
	gh_actor ghost = {"idn_00000000000000ff", GH_ROLE_APPROVER};
	char req[GH_ID_LEN] = "";
	json_t *in, *out = NULL;
	world w;
	before b;

	if (world_open(&w))
		goto cleanup;
	in = J("{\"channel\":\"api\",\"subject\":\"bot\",\"entitlement\":\"db/rw\","
	       "\"justification\":\"monthly close\",\"duration\":\"1h\"}");
	CHECK_INT(gh_gov_request_submit(&out, w.g, &w.root, in), 0);
	CHECK_STR(sget(out, "state"), "pending_approval");
	snprintf(req, sizeof(req), "%s", out ? sget(out, "id") : "");
	json_decref(out);
	json_decref(in);

	/* april is in the control-owner group; suspended, her old actor is refused */
	CHECK_INT(set_status(w.g, &w.root, "april", "suspend"), 0);
	remember(w.g, &b);
	CHECK_INT(call_ref(w.g, &w.april, req, "{\"comment\":\"ok\"}", gh_gov_request_approve),
		  GH_EDENIED);
	CHECK(contains(gh_error_last()->message, "not an active identity"));
	CHECK_INT(call_ref(w.g, &w.april, req, "{\"comment\":\"no\"}", gh_gov_request_reject),
		  GH_EDENIED);
	CHECK(contains(gh_error_last()->message, "not an active identity"));
	/* an actor naming no identity at all */
	CHECK_INT(call_ref(w.g, &ghost, req, "{}", gh_gov_request_approve), GH_EDENIED);
	unchanged(w.g, &b);
	/* decommissioned: the same */
	CHECK_INT(set_status(w.g, &w.root, "april", "decommission"), 0);
	remember(w.g, &b);
	CHECK_INT(call_ref(w.g, &w.april, req, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(contains(gh_error_last()->message, "not an active identity"));
	unchanged(w.g, &b);
cleanup:
	world_close(&w);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"roles_inventory__other_roles_are_forbidden_and_change_nothing",
		 test_roles_inventory__other_roles_are_forbidden_and_change_nothing},
		{"roles_inventory__iam_and_admin_may_write",
		 test_roles_inventory__iam_and_admin_may_write},
		{"roles_token__only_admin_creates_or_revokes",
		 test_roles_token__only_admin_creates_or_revokes},
		{"roles_grant__iam_cannot_grant_or_remove_admin_or_iam",
		 test_roles_grant__iam_cannot_grant_or_remove_admin_or_iam},
		{"roles_grant__iam_grants_the_other_roles", test_roles_grant__iam_grants_the_other_roles},
		{"roles_grant__admin_grants_and_removes_iam_and_admin",
		 test_roles_grant__admin_grants_and_removes_iam_and_admin},
		{"roles_self__nobody_changes_their_own_roles",
		 test_roles_self__nobody_changes_their_own_roles},
		{"roles_self__nobody_suspends_or_decommissions_themselves",
		 test_roles_self__nobody_suspends_or_decommissions_themselves},
		{"roles_last_admin__cannot_be_demoted_suspended_or_decommissioned",
		 test_roles_last_admin__cannot_be_demoted_suspended_or_decommissioned},
		{"roles_decommission__owner_of_a_system_is_refused",
		 test_roles_decommission__owner_of_a_system_is_refused},
		{"roles_conflicts__changes_are_audited_on_both_sides",
		 test_roles_conflicts__changes_are_audited_on_both_sides},
		{"roles_approve__an_inactive_approver_cannot_decide",
		 test_roles_approve__an_inactive_approver_cannot_decide},
		{NULL, NULL}};
	int rc;

	gh_init();
	gh_time_format(future, sizeof(future), gh_now() + 90 * 86400);
	rc = gh_test_run(cases, argc, argv);
	gh_error_clear();
	return rc;
}
