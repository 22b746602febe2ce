/* test_gov_inventory.c - identities, groups, systems and entitlements against a real SQLite file. */
#include "gov/gov.h"
#include "gov/gov_internal.h"
#include "harness.h"
#include "store_fixture.h"
#include "store/events.h"
#include "store/log.h"
#include "audit/checkpoint.h"

#include <stdlib.h>

static const gh_actor admin = {"idn_0000000000000001", GH_ROLE_ADMIN};
/* the second person of four eyes (change.c) */
static const gh_actor second = {"idn_0000000000000002", GH_ROLE_IAM};

/* rc of a write that weakens a control is GH_PROPOSED: the second person
 * confirms it, and *out becomes the object as changed. */
static int confirmed(json_t **out, gh_gov *g, int rc)
{
	json_t *ch = NULL;
	char id[GH_ID_LEN];

	if (rc != GH_PROPOSED)
		return rc;
	snprintf(id, sizeof(id), "%s",
		 json_string_value(json_object_get(json_object_get(*out, "change"), "id")));
	json_decref(*out);
	*out = NULL;
	if ((rc = gh_gov_change_confirm(&ch, g, &second, id, NULL)) == 0)
		*out = json_incref(json_object_get(ch, "result"));
	json_decref(ch);
	return rc;
}
static char future[40], past[40];
static int db_seq;

static gh_gov *open_gov(void)
{
	char path[512];
	gh_gov *g = NULL;

	sf_targetf(path, sizeof(path), 1, "inventory-%d.db", ++db_seq);
	if (!CHECK_INT(gh_gov_open(&g, path, 1, NULL), 0))
		exit(2);
	return g;
}

static int64_t count(gh_gov *g, const char *sql)
{
	return sf_int(gh_gov_store(g), sql, NULL, NULL);
}

static int64_t audit_count(gh_gov *g)
{
	return count(g, "SELECT count(*) FROM audit_events");
}

/* The last audit event as JSON (caller frees). */
static json_t *last_event(gh_gov *g)
{
	json_t *items = NULL, *ev = NULL;
	int64_t last;

	gh_store_read_begin(gh_gov_store(g));
	if (gh_store_log_last_seq(&last, gh_gov_store(g)) == 0 &&
	    gh_store_events_page(&items, gh_gov_store(g), last - 1, 1, NULL) == 0)
		ev = json_incref(json_array_get(items, 0));
	json_decref(items);
	gh_store_read_end(gh_gov_store(g));
	return ev;
}

/* The latest audit event with this action on this object, or NULL (caller frees). */
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

static const char *action_of(const json_t *ev)
{
	return json_string_value(json_object_get(ev, "action"));
}

/* Checks that the last audit event has this action and object id. */
static void check_last_event(gh_gov *g, const char *action, const char *object_id)
{
	json_t *ev = last_event(g);

	CHECK_STR(action_of(ev), action);
	if (object_id)
		CHECK_STR(json_string_value(json_object_get(ev, "object_id")), object_id);
	json_decref(ev);
}

static int has_field(const char *field)
{
	const json_t *fields = gh_error_last()->fields;
	json_t *item;
	size_t i;

	json_array_foreach(fields, i, item)
		if (strcmp(json_string_value(json_object_get(item, "field")), field) == 0)
			return 1;
	return 0;
}

static size_t field_count(void)
{
	return gh_error_last()->fields ? json_array_size(gh_error_last()->fields) : 0;
}

static const char *sget(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_t *J(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (!v) {
		fprintf(stderr, "bad test JSON: %s\n", text);
		exit(2);
	}
	return v;
}

/* Creates an identity from a JSON body and copies its id to id_out. */
static int make(gh_gov *g, const json_t *in, char id_out[GH_ID_LEN])
{
	json_t *out = NULL;
	int rc = gh_gov_identity_create(&out, g, &admin, in);

	if (rc == 0 && id_out)
		snprintf(id_out, GH_ID_LEN, "%s", sget(out, "id"));
	json_decref(out);
	return rc;
}

static void make_human(gh_gov *g, const char *name, char id_out[GH_ID_LEN])
{
	json_t *in = json_pack("{s:s, s:s}", "kind", "human", "name", name);

	CHECK_INT(make(g, in, id_out), 0);
	json_decref(in);
}

static void make_nhi(gh_gov *g, const char *name, const char *owner, char id_out[GH_ID_LEN])
{
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "service_account",
			       "name", name, "owner", owner, "purpose", "nightly export",
			       "environment", "prod", "expires_at", future);

	CHECK_INT(make(g, in, id_out), 0);
	json_decref(in);
}

static int set_status(gh_gov *g, const char *ref, const char *action, const char *reason)
{
	json_t *in = reason ? json_pack("{s:s}", "reason", reason) : json_object();
	json_t *out = NULL;
	int rc = gh_gov_identity_set_status(&out, g, &admin, ref, action, in);

	json_decref(in);
	json_decref(out);
	return rc;
}

/* --- identities ------------------------------------------------------------ */

static void test_gov_identity_create__human_has_api_shape_and_is_audited(void)
{
	gh_gov *g = open_gov();
	json_t *in = J("{\"kind\":\"human\",\"name\":\"alice\",\"display_name\":\"Alice A\","
		       "\"email\":\"alice@example.com\",\"roles\":[\"approver\",\"iam\"],"
		       "\"attributes\":{\"team\":\"dba\",\"level\":3}}");
	json_t *out = NULL;
	gh_audit_report rep;

	CHECK_INT(audit_count(g), 0);
	CHECK_INT(gh_gov_identity_create(&out, g, &admin, in), 0);
	CHECK(strncmp(sget(out, "id"), "idn_", 4) == 0);
	CHECK_INT(strlen(sget(out, "id")), 20);
	CHECK_STR(sget(out, "kind"), "human");
	CHECK_STR(sget(out, "name"), "alice");
	CHECK_STR(sget(out, "display_name"), "Alice A");
	CHECK_STR(sget(out, "status"), "active");
	CHECK(json_is_null(json_object_get(out, "owner")));
	CHECK(json_is_null(json_object_get(out, "expires_at")));
	CHECK_INT(json_array_size(json_object_get(out, "roles")), 2);
	CHECK_STR(json_string_value(json_array_get(json_object_get(out, "roles"), 0)), "iam");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "attributes"), "level")), 3);
	CHECK(sget(out, "created_at") && strlen(sget(out, "created_at")) == 20);
	CHECK_INT(audit_count(g), 1);
	check_last_event(g, "identity.created", sget(out, "id"));
	CHECK_INT(gh_audit_verify(&rep, gh_gov_store(g)), 0);

	/* the stored attributes are canonical JSON */
	CHECK_INT(count(g, "SELECT count(*) FROM identities WHERE attributes = '{\"level\":3,\"team\":\"dba\"}'"), 1);
	json_decref(in);
	json_decref(out);
	gh_gov_free(g);
}

static void test_gov_identity_create__nhi_names_every_missing_field_at_once(void)
{
	static const char *const req[] = {"owner", "purpose", "environment", "expires_at"};
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN];
	int64_t before;

	make_human(g, "alice", alice);
	before = audit_count(g);
	/* every subset of the four required fields: exactly the missing ones are named */
	for (int mask = 0; mask < 15; mask++) {
		json_t *in = json_pack("{s:s, s:s}", "kind", "ai_agent", "name", "agent-1");
		const char *vals[] = {alice, "triage tickets", "dev", future};
		for (int i = 0; i < 4; i++)
			if (mask & (1 << i))
				json_object_set_new(in, req[i], json_string(vals[i]));
		CHECK_INT(make(g, in, NULL), GH_EINVALID);
		CHECK_INT(field_count(), 4 - __builtin_popcount(mask));
		for (int i = 0; i < 4; i++)
			if (!CHECK_INT(has_field(req[i]), !(mask & (1 << i))))
				fprintf(stderr, "    mask %d field %s\n", mask, req[i]);
		json_decref(in);
	}
	/* the reason names the kind, as in docs/api.md */
	{
		json_t *in = J("{\"kind\":\"service_account\",\"name\":\"svc\"}");
		json_t *f;
		CHECK_INT(make(g, in, NULL), GH_EINVALID);
		f = json_array_get(gh_error_last()->fields, 0);
		CHECK_STR(sget(f, "reason"), "is required for a service_account");
		CHECK(strstr(gh_error_last()->message, "4 fields") != NULL);
		json_decref(in);
	}
	CHECK_INT(audit_count(g), before);
	CHECK_INT(count(g, "SELECT count(*) FROM identities"), 1);
	gh_gov_free(g);
}

static void test_gov_identity_create__reports_bad_values_together(void)
{
	gh_gov *g = open_gov();
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "kind", "service_account",
			       "name", "Bad Name", "owner", "nobody", "purpose", "x",
			       "environment", "Prod!", "expires_at", past, "email", "no-at-sign",
			       "color", 1);

	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("name"));
	CHECK(has_field("owner"));
	CHECK(has_field("environment"));
	CHECK(has_field("expires_at"));
	CHECK(has_field("email"));
	CHECK(has_field("color")); /* unknown field */
	CHECK(!has_field("purpose"));
	CHECK_INT(field_count(), 6);
	json_decref(in);

	in = J("{\"kind\":\"robot\",\"name\":\"r2\"}");
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("kind"));
	json_decref(in);
	in = J("[1,2]");
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("body"));
	json_decref(in);
	CHECK_INT(audit_count(g), 0);
	CHECK_INT(count(g, "SELECT count(*) FROM identities"), 0);
	gh_gov_free(g);
}

static void test_gov_identity_create__owner_must_be_an_active_human(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], bob[GH_ID_LEN], svc[GH_ID_LEN], id[GH_ID_LEN];
	int64_t before;
	json_t *in;

	make_human(g, "alice", alice);
	make_human(g, "bob", bob);
	make_nhi(g, "svc-a", "alice", svc); /* by name */
	CHECK_INT(set_status(g, bob, "suspend", "on leave"), 0);
	before = audit_count(g);

	in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "workload", "name", "w1",
		       "owner", svc, "purpose", "p", "environment", "prod", "expires_at", future);
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("owner"));
	CHECK(strstr(gh_error_last()->message, "human") != NULL);
	json_object_set_new(in, "owner", json_string("bob"));
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("owner"));
	json_object_set_new(in, "owner", json_string("idn_ffffffffffffffff"));
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("owner"));
	CHECK_INT(audit_count(g), before);

	json_object_set_new(in, "owner", json_string(alice));
	CHECK_INT(make(g, in, id), 0);
	json_decref(in);

	/* a human has no owner */
	in = json_pack("{s:s, s:s, s:s}", "kind", "human", "name", "carol", "owner", alice);
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("owner"));
	json_decref(in);
	gh_gov_free(g);
}

static void test_gov_identity_create__duplicate_name_is_a_conflict(void)
{
	gh_gov *g = open_gov();
	json_t *in = J("{\"kind\":\"human\",\"name\":\"alice\"}");
	int64_t before;

	CHECK_INT(make(g, in, NULL), 0);
	before = audit_count(g);
	CHECK_INT(make(g, in, NULL), GH_ECONFLICT);
	CHECK(has_field("name"));
	CHECK(strstr(gh_error_last()->message, "alice") != NULL);
	CHECK_INT(audit_count(g), before);
	CHECK_INT(count(g, "SELECT count(*) FROM identities"), 1);
	json_decref(in);
	gh_gov_free(g);
}

static void test_gov_identity_create__role_rules(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN];
	json_t *in, *out = NULL;

	make_human(g, "alice", alice);
	in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "kind", "api_key", "name", "k1",
		       "owner", alice, "purpose", "p", "environment", "prod", "expires_at", future,
		       "roles", "admin");
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("roles"));
	json_object_set_new(in, "roles", json_pack("[s]", "requester"));
	CHECK_INT(gh_gov_identity_create(&out, g, &admin, in), 0);
	CHECK_STR(json_string_value(json_array_get(json_object_get(out, "roles"), 0)), "requester");
	json_decref(out);
	json_decref(in);

	in = J("{\"kind\":\"human\",\"name\":\"bob\",\"roles\":[\"admin\",\"wizard\"]}");
	CHECK_INT(make(g, in, NULL), GH_EINVALID);
	CHECK(has_field("roles"));
	json_decref(in);
	in = J("{\"kind\":\"human\",\"name\":\"bob\",\"roles\":[\"admin\",\"iam\",\"approver\","
	       "\"servicedesk\",\"auditor\",\"requester\"]}");
	CHECK_INT(gh_gov_identity_create(&out, g, &admin, in), 0);
	CHECK_INT(json_array_size(json_object_get(out, "roles")), 6);
	json_decref(out);
	json_decref(in);
	gh_gov_free(g);
}

static void test_gov_identity_get__by_id_or_name(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN];
	json_t *out = NULL;

	make_human(g, "alice", alice);
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "alice"), 0);
	CHECK_STR(sget(out, "id"), alice);
	json_decref(out);
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, alice), 0);
	CHECK_STR(sget(out, "name"), "alice");
	json_decref(out);
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "nobody"), GH_ENOTFOUND);
	CHECK(out == NULL);
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "idn_0123456789abcdef"), GH_ENOTFOUND);
	gh_gov_free(g);
}

static void test_gov_identity_update__fields_and_ownership_transfer_are_audited(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], bob[GH_ID_LEN], svc[GH_ID_LEN];
	json_t *in, *out = NULL, *ev;
	int64_t before;

	make_human(g, "alice", alice);
	make_human(g, "bob", bob);
	make_nhi(g, "svc", alice, svc);

	before = audit_count(g);
	in = J("{\"display_name\":\"Service\",\"roles\":[\"requester\"]}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, "svc", in), 0);
	CHECK_STR(sget(out, "display_name"), "Service");
	CHECK_INT(audit_count(g), before + 1);
	ev = last_event(g);
	CHECK_STR(action_of(ev), "identity.updated");
	CHECK_INT(json_array_size(json_object_get(json_object_get(ev, "details"), "changed")), 2);
	CHECK(json_object_get(json_object_get(ev, "details"), "roles") != NULL);
	json_decref(ev);
	json_decref(out);
	json_decref(in);

	/* the same body again changes nothing and appends nothing */
	in = J("{\"display_name\":\"Service\"}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, svc, in), 0);
	CHECK_INT(audit_count(g), before + 1);
	json_decref(out);
	json_decref(in);

	in = json_pack("{s:s}", "owner", "bob");
	CHECK_INT(confirmed(&out, g, gh_gov_identity_update(&out, g, &admin, svc, in)), 0);
	CHECK_STR(sget(out, "owner"), bob);
	ev = event_of(g, "identity.owner_transferred", svc);
	CHECK_STR(action_of(ev), "identity.owner_transferred");
	CHECK_STR(sget(json_object_get(ev, "details"), "from"), alice);
	CHECK_STR(sget(json_object_get(ev, "details"), "to"), bob);
	json_decref(ev);
	json_decref(out);
	json_decref(in);

	/* owner and another field: proposed as a whole (change.proposed), then
	 * confirmed: the identity's two events and change.confirmed */
	before = audit_count(g);
	in = json_pack("{s:s, s:s}", "owner", alice, "purpose", "new purpose");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, svc, in), GH_PROPOSED);
	CHECK_INT(audit_count(g), before + 1);
	check_last_event(g, "change.proposed", sget(json_object_get(out, "change"), "id"));
	CHECK_INT(confirmed(&out, g, GH_PROPOSED), 0);
	CHECK_INT(audit_count(g), before + 4);
	CHECK_STR(sget(out, "purpose"), "new purpose");
	ev = event_of(g, "identity.updated", svc);
	CHECK_STR(action_of(ev), "identity.updated");
	json_decref(ev);
	json_decref(out);
	json_decref(in);
	gh_gov_free(g);
}

static void test_gov_identity_update__refusals_change_nothing(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], bob[GH_ID_LEN], svc[GH_ID_LEN], svc2[GH_ID_LEN];
	json_t *in, *out = NULL;
	int64_t before;

	make_human(g, "alice", alice);
	make_human(g, "bob", bob);
	make_nhi(g, "svc", alice, svc);
	make_nhi(g, "svc2", alice, svc2);
	CHECK_INT(set_status(g, bob, "suspend", "leave"), 0);
	before = audit_count(g);

	/* an NHI's required fields cannot be cleared; all are named */
	in = J("{\"owner\":null,\"purpose\":null,\"expires_at\":null,\"name\":\"x\"}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, svc, in), GH_EINVALID);
	CHECK(has_field("owner") && has_field("purpose") && has_field("expires_at"));
	CHECK(has_field("name")); /* not updatable: unknown field */
	json_decref(in);
	/* new owner must be an active human */
	in = json_pack("{s:s}", "owner", svc2);
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, svc, in), GH_EINVALID);
	CHECK(has_field("owner"));
	json_decref(in);
	in = json_pack("{s:s}", "owner", bob);
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, svc, in), GH_EINVALID);
	json_decref(in);
	in = J("{\"roles\":[\"approver\"],\"expires_at\":\"2001-01-01T00:00:00Z\"}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, svc, in), GH_EINVALID);
	CHECK(has_field("roles") && has_field("expires_at"));
	json_decref(in);
	in = J("{\"display_name\":\"x\"}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, "ghost", in), GH_ENOTFOUND);
	json_decref(in);
	CHECK(out == NULL);
	CHECK_INT(audit_count(g), before);
	CHECK_INT(count(g, "SELECT count(*) FROM identities WHERE owner_id IS NOT NULL AND owner_id <> "
			   "(SELECT id FROM identities WHERE name = 'alice')"), 0);

	/* a human's optional fields can be cleared */
	in = J("{\"email\":\"a@example.com\"}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, alice, in), 0);
	json_decref(out);
	json_decref(in);
	in = J("{\"email\":null}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, alice, in), 0);
	CHECK(json_is_null(json_object_get(out, "email")));
	json_decref(out);
	json_decref(in);
	gh_gov_free(g);
}

static void test_gov_identity_status__transitions_and_refusals(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], svc[GH_ID_LEN];
	json_t *out = NULL, *in, *ev;
	int64_t before;

	make_human(g, "alice", alice);
	make_nhi(g, "svc", alice, svc);

	CHECK_INT(set_status(g, svc, "suspend", "investigation"), 0);
	ev = last_event(g);
	CHECK_STR(action_of(ev), "identity.suspended");
	CHECK_STR(sget(json_object_get(ev, "details"), "reason"), "investigation");
	json_decref(ev);
	before = audit_count(g);
	CHECK_INT(set_status(g, svc, "suspend", "again"), GH_ECONFLICT);
	CHECK_INT(set_status(g, svc, "activate", NULL), GH_EINVALID); /* reason required */
	CHECK(has_field("reason"));
	CHECK_INT(set_status(g, svc, "reboot", "x"), GH_EINVALID);
	CHECK_INT(set_status(g, "ghost", "suspend", "x"), GH_ENOTFOUND);
	CHECK_INT(audit_count(g), before);

	CHECK_INT(set_status(g, svc, "activate", "cleared"), 0);
	check_last_event(g, "identity.activated", svc);
	CHECK_INT(set_status(g, svc, "activate", "again"), GH_ECONFLICT);

	/* no grants exist: decommissioning revokes none and says so */
	in = J("{\"reason\":\"retired\"}");
	CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, "svc", "decommission", in), 0);
	CHECK_STR(sget(out, "status"), "decommissioned");
	json_decref(out);
	ev = last_event(g);
	CHECK_STR(action_of(ev), "identity.decommissioned");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(ev, "details"),
						     "grants_revoked")), 0);
	json_decref(ev);
	/* decommissioned is final */
	before = audit_count(g);
	CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, svc, "activate", in), GH_ECONFLICT);
	CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, svc, "suspend", in), GH_ECONFLICT);
	CHECK_INT(gh_gov_identity_set_status(&out, g, &admin, svc, "decommission", in), GH_ECONFLICT);
	json_decref(in);
	in = J("{\"display_name\":\"zombie\"}");
	CHECK_INT(gh_gov_identity_update(&out, g, &admin, svc, in), GH_ECONFLICT);
	json_decref(in);
	CHECK_INT(audit_count(g), before);

	/* alice owns no live NHI: nothing becomes orphaned */
	CHECK_INT(set_status(g, alice, "decommission", "left the company"), 0);
	check_last_event(g, "identity.decommissioned", alice);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.orphaned'"), 0);
	gh_gov_free(g);
}

/* Issue 10: decommissioning a human who owns NHIs used to be refused; now
 * its NHIs (a suspended one too) become orphaned, and a transfer clears it. */
static void test_gov_identity_status__decommissioned_owner_orphans_its_nhis(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], bob[GH_ID_LEN], svc[GH_ID_LEN];
	json_t *in, *out = NULL;

	make_human(g, "alice", alice);
	make_human(g, "bob", bob);
	make_nhi(g, "svc", alice, svc);
	CHECK_INT(set_status(g, svc, "suspend", "paused"), 0);
	CHECK_INT(set_status(g, alice, "decommission", "left"), 0);
	CHECK_INT(count(g, "SELECT count(*) FROM identities WHERE orphaned_at IS NOT NULL"), 1);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.orphaned'"), 1);
	/* transfer ownership: no longer orphaned */
	in = json_pack("{s:s}", "owner", bob);
	CHECK_INT(confirmed(&out, g, gh_gov_identity_update(&out, g, &admin, svc, in)), 0);
	CHECK(json_is_null(json_object_get(out, "orphaned_at")));
	json_decref(out);
	json_decref(in);
	CHECK_INT(count(g, "SELECT count(*) FROM audit_events WHERE action = 'identity.orphan_cleared'"), 1);
	gh_gov_free(g);
}

static void test_gov_identity_list__filters_and_pages(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], bob[GH_ID_LEN], ids[5][GH_ID_LEN], name[16];
	gh_page page = {2, NULL};
	json_t *out = NULL;

	make_human(g, "alice", alice);
	make_human(g, "bob", bob);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "svc-%d", i);
		make_nhi(g, name, i < 3 ? alice : bob, ids[i]);
	}
	CHECK_INT(gh_gov_identity_list(&out, g, &admin, &page, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
	CHECK_STR(sget(out, "next"), bob);
	json_decref(out);

	/* walk NHIs two at a time: 2 + 2 + 1, next is null on the short page */
	page.after = NULL;
	for (int p = 0; p < 3; p++) {
		static char after[GH_ID_LEN];
		CHECK_INT(gh_gov_identity_list(&out, g, &admin, &page, "service_account", "active",
					       NULL), 0);
		CHECK_INT(json_array_size(json_object_get(out, "items")), p < 2 ? 2 : 1);
		CHECK_STR(sget(json_array_get(json_object_get(out, "items"), 0), "id"), ids[2 * p]);
		if (p < 2) {
			CHECK_STR(sget(out, "next"), ids[2 * p + 1]);
			snprintf(after, sizeof(after), "%s", sget(out, "next"));
			page.after = after;
		} else {
			CHECK(json_is_null(json_object_get(out, "next")));
		}
		json_decref(out);
	}
	CHECK_INT(gh_gov_identity_list(&out, g, &admin, NULL, NULL, NULL, "bob"), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
	CHECK(json_is_null(json_object_get(out, "next")));
	json_decref(out);
	CHECK_INT(gh_gov_identity_list(&out, g, &admin, NULL, "human", NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
	json_decref(out);

	/* bad filters are field errors on the query names, all at once */
	page.limit = 900;
	page.after = NULL;
	CHECK_INT(gh_gov_identity_list(&out, g, &admin, &page, "robot", "sleeping", "nobody"),
		  GH_EINVALID);
	CHECK(has_field("kind") && has_field("status") && has_field("owner") && has_field("limit"));
	page.limit = 0;
	page.after = "idn_0000000000000000";
	CHECK_INT(gh_gov_identity_list(&out, g, &admin, &page, NULL, NULL, NULL), GH_EINVALID);
	CHECK(has_field("after"));
	CHECK(out == NULL);
	gh_gov_free(g);
}

/* --- groups ---------------------------------------------------------------- */

static void make_group(gh_gov *g, const char *name, char id_out[GH_ID_LEN])
{
	json_t *in = json_pack("{s:s, s:s}", "name", name, "description", "test group");
	json_t *out = NULL;

	CHECK_INT(gh_gov_group_create(&out, g, &admin, in), 0);
	if (out)
		snprintf(id_out, GH_ID_LEN, "%s", sget(out, "id"));
	json_decref(out);
	json_decref(in);
}

static int add_member(gh_gov *g, const char *group, const char *key, const char *ref)
{
	json_t *in = json_pack("{s:s}", key, ref), *out = NULL;
	int rc = gh_gov_group_add_member(&out, g, &admin, group, in);

	json_decref(in);
	json_decref(out);
	return rc;
}

static int contains(gh_gov *g, const char *group_id, const char *identity_id)
{
	int rc;

	gh_store_exclusive_begin(gh_gov_store(g));
	rc = gh_gov_group_contains(g, group_id, identity_id);
	gh_store_exclusive_end(gh_gov_store(g));
	return rc;
}

static void test_gov_group__nested_membership_is_transitive(void)
{
	gh_gov *g = open_gov();
	char a[GH_ID_LEN], b[GH_ID_LEN], c[GH_ID_LEN], alice[GH_ID_LEN], bob[GH_ID_LEN];
	json_t *out = NULL, *members;

	make_human(g, "alice", alice);
	make_human(g, "bob", bob);
	make_group(g, "org", a);
	check_last_event(g, "group.created", a);
	make_group(g, "dba-owners", b);
	make_group(g, "dba-leads", c);
	CHECK_INT(add_member(g, "org", "group", "dba-owners"), 0);
	check_last_event(g, "group.member_added", a);
	CHECK_INT(add_member(g, b, "group", c), 0);
	CHECK_INT(add_member(g, c, "identity", "alice"), 0);
	CHECK_INT(add_member(g, b, "identity", bob), 0);

	CHECK_INT(contains(g, a, alice), 1);
	CHECK_INT(contains(g, b, alice), 1);
	CHECK_INT(contains(g, c, alice), 1);
	CHECK_INT(contains(g, a, bob), 1);
	CHECK_INT(contains(g, c, bob), 0);

	CHECK_INT(gh_gov_group_get(&out, g, &admin, "dba-owners"), 0);
	members = json_object_get(out, "members");
	CHECK_INT(json_array_size(members), 2);
	CHECK_STR(sget(json_array_get(members, 0), "type"), "group");
	CHECK_STR(sget(json_array_get(members, 0), "name"), "dba-leads");
	CHECK_STR(sget(json_array_get(members, 1), "type"), "identity");
	CHECK_STR(sget(json_array_get(members, 1), "id"), bob);
	CHECK(sget(out, "created_at") != NULL);
	json_decref(out);

	/* removing the nested group cuts the path */
	CHECK_INT(gh_gov_group_remove_member(&out, g, &admin, b, "dba-leads"), 0);
	CHECK_INT(json_array_size(json_object_get(out, "members")), 1);
	json_decref(out);
	check_last_event(g, "group.member_removed", b);
	CHECK_INT(contains(g, a, alice), 0);
	CHECK_INT(contains(g, c, alice), 1);
	CHECK_INT(gh_gov_group_remove_member(&out, g, &admin, b, "dba-leads"), GH_ENOTFOUND);
	CHECK_INT(gh_gov_group_remove_member(&out, g, &admin, "nogroup", "alice"), GH_ENOTFOUND);
	gh_gov_free(g);
}

static void test_gov_group__cycles_and_duplicates_are_refused(void)
{
	gh_gov *g = open_gov();
	char a[GH_ID_LEN], b[GH_ID_LEN], c[GH_ID_LEN], alice[GH_ID_LEN];
	int64_t before;
	json_t *in, *out = NULL;

	make_human(g, "alice", alice);
	make_group(g, "a", a);
	make_group(g, "b", b);
	make_group(g, "c", c);
	CHECK_INT(add_member(g, a, "group", b), 0);
	CHECK_INT(add_member(g, b, "group", c), 0);
	CHECK_INT(add_member(g, c, "identity", alice), 0);
	before = audit_count(g);
	CHECK_INT(add_member(g, a, "group", a), GH_ECONFLICT);
	CHECK_INT(add_member(g, b, "group", a), GH_ECONFLICT);
	CHECK_INT(add_member(g, c, "group", a), GH_ECONFLICT); /* a is c's grandparent */
	CHECK(strstr(gh_error_last()->message, "cycle") != NULL);
	CHECK_INT(add_member(g, a, "group", b), GH_ECONFLICT); /* duplicate */
	CHECK_INT(add_member(g, c, "identity", "alice"), GH_ECONFLICT);
	CHECK_INT(add_member(g, c, "identity", "ghost"), GH_EINVALID);
	CHECK(has_field("identity"));
	CHECK_INT(add_member(g, "nogroup", "identity", "alice"), GH_ENOTFOUND);
	in = json_pack("{s:s, s:s}", "identity", "alice", "group", "b");
	CHECK_INT(gh_gov_group_add_member(&out, g, &admin, c, in), GH_EINVALID);
	json_decref(in);
	in = json_object();
	CHECK_INT(gh_gov_group_add_member(&out, g, &admin, c, in), GH_EINVALID);
	CHECK(has_field("identity"));
	json_decref(in);
	in = J("{\"name\":\"a\"}");
	CHECK_INT(gh_gov_group_create(&out, g, &admin, in), GH_ECONFLICT);
	CHECK(has_field("name"));
	json_decref(in);
	CHECK_INT(audit_count(g), before);
	CHECK_INT(count(g, "SELECT count(*) FROM group_members"), 3);
	/* a diamond is not a cycle */
	CHECK_INT(add_member(g, a, "group", c), 0);
	CHECK_INT(contains(g, a, alice), 1);
	gh_gov_free(g);
}

static void test_gov_group__nesting_depth_is_bounded(void)
{
	gh_gov *g = open_gov();
	char ids[20][GH_ID_LEN], name[16], alice[GH_ID_LEN];
	int i;

	make_human(g, "alice", alice);
	for (i = 0; i < 18; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		make_group(g, name, ids[i]);
	}
	/* g0 > g1 > ... > g16 is 16 levels; g17 under g16 would be the 17th */
	for (i = 1; i <= 16; i++)
		CHECK_INT(add_member(g, ids[i - 1], "group", ids[i]), 0);
	CHECK_INT(add_member(g, ids[16], "identity", alice), 0);
	CHECK_INT(contains(g, ids[0], alice), 1);
	CHECK_INT(add_member(g, ids[16], "group", ids[17]), GH_ECONFLICT);
	CHECK_INT(add_member(g, ids[17], "group", ids[0]), GH_ECONFLICT);
	gh_gov_free(g);
}

static void test_gov_group_list__pages(void)
{
	gh_gov *g = open_gov();
	char ids[3][GH_ID_LEN], name[8];
	gh_page page = {2, NULL};
	json_t *out = NULL;

	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		make_group(g, name, ids[i]);
	}
	CHECK_INT(gh_gov_group_list(&out, g, &admin, &page), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
	CHECK_STR(sget(out, "next"), ids[1]);
	CHECK(json_is_array(json_object_get(json_array_get(json_object_get(out, "items"), 0),
					    "members")));
	json_decref(out);
	page.after = ids[1];
	CHECK_INT(gh_gov_group_list(&out, g, &admin, &page), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	CHECK(json_is_null(json_object_get(out, "next")));
	json_decref(out);
	gh_gov_free(g);
}

/* --- catalog --------------------------------------------------------------- */

static void make_system(gh_gov *g, const char *name, const char *owner, char id_out[GH_ID_LEN])
{
	json_t *in = json_pack("{s:s, s:s}", "name", name, "owner", owner), *out = NULL;

	CHECK_INT(gh_gov_system_create(&out, g, &admin, in), 0);
	if (out)
		snprintf(id_out, GH_ID_LEN, "%s", sget(out, "id"));
	json_decref(out);
	json_decref(in);
}

static int make_ent(gh_gov *g, const char *system, const char *name, const char *conflicts_json,
		    char id_out[GH_ID_LEN])
{
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "system", system, "name", name,
			       "risk_tier", "medium", "data_sensitivity", "confidential",
			       "environment", "prod", "control_owner_group", "owners",
			       "max_duration", "8h");
	json_t *out = NULL;
	int rc;

	if (conflicts_json)
		json_object_set_new(in, "incompatible_with", J(conflicts_json));
	rc = gh_gov_entitlement_create(&out, g, &admin, in);
	if (!rc && id_out)
		snprintf(id_out, GH_ID_LEN, "%s", sget(out, "id"));
	json_decref(out);
	json_decref(in);
	return rc;
}

static void catalog_fixture(gh_gov *g, char alice[GH_ID_LEN], char sys[GH_ID_LEN])
{
	char grp[GH_ID_LEN];

	make_human(g, "alice", alice);
	make_group(g, "owners", grp);
	make_system(g, "billing-db", "alice", sys);
}

static void test_gov_system__create_update_and_owner_rules(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], bob[GH_ID_LEN], svc[GH_ID_LEN], sys[GH_ID_LEN];
	json_t *in, *out = NULL, *ev;
	int64_t before;

	make_human(g, "alice", alice);
	make_human(g, "bob", bob);
	make_nhi(g, "svc", alice, svc);
	in = J("{\"name\":\"billing-db\",\"owner\":\"alice\",\"description\":\"Billing\"}");
	CHECK_INT(gh_gov_system_create(&out, g, &admin, in), 0);
	snprintf(sys, sizeof(sys), "%s", sget(out, "id"));
	CHECK(strncmp(sys, "sys_", 4) == 0);
	CHECK_STR(sget(out, "connector"), "manual");
	CHECK_STR(sget(out, "owner"), alice);
	check_last_event(g, "system.created", sys);
	json_decref(out);
	before = audit_count(g);
	CHECK_INT(gh_gov_system_create(&out, g, &admin, in), GH_ECONFLICT);
	CHECK(has_field("name"));
	json_decref(in);

	in = json_pack("{s:s, s:s, s:s}", "name", "other", "owner", svc, "connector", "nosuch");
	CHECK_INT(gh_gov_system_create(&out, g, &admin, in), GH_EINVALID);
	CHECK(has_field("owner") && has_field("connector"));
	json_decref(in);
	in = J("{\"name\":\"other\"}");
	CHECK_INT(gh_gov_system_create(&out, g, &admin, in), GH_EINVALID);
	CHECK(has_field("owner"));
	json_decref(in);
	in = J("{\"owner\":null,\"name\":\"renamed\"}");
	CHECK_INT(gh_gov_system_update(&out, g, &admin, sys, in), GH_EINVALID);
	CHECK(has_field("owner") && has_field("name"));
	json_decref(in);
	CHECK_INT(audit_count(g), before);

	in = json_pack("{s:s, s:n}", "owner", "bob", "description");
	CHECK_INT(gh_gov_system_update(&out, g, &admin, "billing-db", in), 0);
	CHECK_STR(sget(out, "owner"), bob);
	CHECK(json_is_null(json_object_get(out, "description")));
	json_decref(out);
	json_decref(in);
	ev = last_event(g);
	CHECK_STR(action_of(ev), "system.updated");
	CHECK_STR(sget(json_object_get(json_object_get(ev, "details"), "old"), "owner"), alice);
	CHECK_STR(sget(json_object_get(json_object_get(ev, "details"), "new"), "owner"), bob);
	CHECK_INT(json_array_size(json_object_get(json_object_get(ev, "details"), "changed")), 2);
	json_decref(ev);

	CHECK_INT(gh_gov_system_get(&out, g, &admin, "billing-db"), 0);
	CHECK_STR(sget(out, "owner"), bob);
	json_decref(out);
	CHECK_INT(gh_gov_system_get(&out, g, &admin, "nope"), GH_ENOTFOUND);
	gh_gov_free(g);
}

static void test_gov_entitlement__create_names_every_problem(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], sys[GH_ID_LEN];
	json_t *in, *out = NULL;
	int64_t before;

	catalog_fixture(g, alice, sys);
	before = audit_count(g);
	in = J("{\"requestable\":\"yes\",\"extra\":1}");
	CHECK_INT(gh_gov_entitlement_create(&out, g, &admin, in), GH_EINVALID);
	CHECK(has_field("system") && has_field("name") && has_field("risk_tier") &&
	      has_field("data_sensitivity") && has_field("environment") &&
	      has_field("control_owner_group") && has_field("max_duration") &&
	      has_field("requestable") && has_field("extra"));
	CHECK_INT(field_count(), 9);
	json_decref(in);
	in = J("{\"system\":\"nosys\",\"name\":\"ro\",\"risk_tier\":\"extreme\","
	       "\"data_sensitivity\":\"secret\",\"environment\":\"PROD\","
	       "\"control_owner_group\":\"nogroup\",\"max_duration\":\"forever\","
	       "\"incompatible_with\":[\"noent\"],\"attributes\":[]}");
	CHECK_INT(gh_gov_entitlement_create(&out, g, &admin, in), GH_EINVALID);
	CHECK(has_field("system") && has_field("risk_tier") && has_field("data_sensitivity") &&
	      has_field("environment") && has_field("control_owner_group") &&
	      has_field("max_duration") && has_field("incompatible_with") &&
	      has_field("attributes"));
	CHECK(!has_field("name"));
	json_decref(in);
	CHECK_INT(audit_count(g), before);
	CHECK_INT(count(g, "SELECT count(*) FROM entitlements"), 0);
	gh_gov_free(g);
}

static void test_gov_entitlement__conflicts_are_symmetric(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], sys[GH_ID_LEN], sys2[GH_ID_LEN], ro[GH_ID_LEN], rw[GH_ID_LEN];
	char approve[GH_ID_LEN], other[GH_ID_LEN];
	json_t *out = NULL, *in, *ev, *iw;

	catalog_fixture(g, alice, sys);
	make_system(g, "payments", alice, sys2);
	CHECK_INT(make_ent(g, "billing-db", "payments-write", NULL, rw), 0);
	CHECK_INT(make_ent(g, "payments", "payments-approve", "[\"billing-db/payments-write\"]",
			   approve), 0);
	/* the other side of the new conflict is audited after the creation */
	check_last_event(g, "entitlement.updated", rw);
	ev = event_of(g, "entitlement.created", approve);
	CHECK(ev != NULL);
	json_decref(ev);

	CHECK_INT(gh_gov_entitlement_get(&out, g, &admin, rw), 0);
	CHECK_INT(json_array_size(json_object_get(out, "incompatible_with")), 1);
	CHECK_STR(json_string_value(json_array_get(json_object_get(out, "incompatible_with"), 0)),
		  approve);
	CHECK_STR(sget(out, "max_duration"), "8h");
	CHECK_INT(json_integer_value(json_object_get(out, "max_duration_seconds")), 28800);
	CHECK(json_is_true(json_object_get(out, "requestable")));
	CHECK_STR(sget(out, "system"), sys);
	json_decref(out);
	CHECK_INT(count(g, "SELECT count(*) FROM entitlement_conflicts"), 1);

	/* same name on another system is fine; twice on one system is not */
	CHECK_INT(make_ent(g, "billing-db", "ro", NULL, ro), 0);
	CHECK_INT(make_ent(g, "payments", "ro", NULL, other), 0);
	CHECK_INT(make_ent(g, "payments", "ro", NULL, NULL), GH_ECONFLICT);
	CHECK(has_field("name"));
	/* a bare name offered by two systems is ambiguous */
	CHECK_INT(gh_gov_entitlement_get(&out, g, &admin, "ro"), GH_ECONFLICT);
	CHECK_INT(gh_gov_entitlement_get(&out, g, &admin, "payments/ro"), 0);
	CHECK_STR(sget(out, "id"), other);
	json_decref(out);

	/* update replaces the set, from either side */
	in = json_pack("{s:[s, s, s], s:s}", "incompatible_with", ro, "billing-db/ro", approve,
		       "max_duration", "2h");
	CHECK_INT(gh_gov_entitlement_update(&out, g, &admin, rw, in), 0);
	iw = json_object_get(out, "incompatible_with");
	CHECK_INT(json_array_size(iw), 2);
	CHECK_INT(json_integer_value(json_object_get(out, "max_duration_seconds")), 7200);
	json_decref(out);
	json_decref(in);
	ev = event_of(g, "entitlement.updated", rw);
	CHECK_STR(action_of(ev), "entitlement.updated");
	CHECK_STR(sget(json_object_get(json_object_get(ev, "details"), "old"), "max_duration"), "8h");
	CHECK_STR(sget(json_object_get(json_object_get(ev, "details"), "new"), "max_duration"), "2h");
	json_decref(ev);
	CHECK_INT(gh_gov_entitlement_get(&out, g, &admin, ro), 0);
	CHECK_STR(json_string_value(json_array_get(json_object_get(out, "incompatible_with"), 0)), rw);
	json_decref(out);
	CHECK_INT(count(g, "SELECT count(*) FROM entitlement_conflicts"), 2);
	CHECK_INT(count(g, "SELECT count(*) FROM entitlement_conflicts WHERE a >= b"), 0);

	/* removing an SoD pair weakens a control: a second person confirms it */
	in = json_pack("{s:[]}", "incompatible_with");
	CHECK_INT(confirmed(&out, g, gh_gov_entitlement_update(&out, g, &admin, approve, in)), 0);
	CHECK_INT(json_array_size(json_object_get(out, "incompatible_with")), 0);
	json_decref(out);
	json_decref(in);
	CHECK_INT(count(g, "SELECT count(*) FROM entitlement_conflicts"), 1);

	/* an entitlement cannot conflict with itself; nothing changes */
	{
		int64_t before = audit_count(g);
		in = json_pack("{s:[s], s:s}", "incompatible_with", rw, "risk_tier", "high");
		CHECK_INT(gh_gov_entitlement_update(&out, g, &admin, rw, in), GH_EINVALID);
		CHECK(has_field("incompatible_with"));
		json_decref(in);
		in = J("{\"risk_tier\":null,\"system\":\"payments\"}");
		CHECK_INT(gh_gov_entitlement_update(&out, g, &admin, rw, in), GH_EINVALID);
		CHECK(has_field("risk_tier") && has_field("system"));
		json_decref(in);
		CHECK_INT(audit_count(g), before);
		CHECK_INT(count(g, "SELECT count(*) FROM entitlements WHERE risk_tier = 'high'"), 0);
	}
	gh_gov_free(g);
}

static void test_gov_entitlement_list__filters_and_pages(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], sys[GH_ID_LEN], sys2[GH_ID_LEN], ids[4][GH_ID_LEN], name[8];
	gh_page page = {3, NULL};
	json_t *out = NULL, *in;

	catalog_fixture(g, alice, sys);
	make_system(g, "crm", alice, sys2);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		CHECK_INT(make_ent(g, i < 3 ? "billing-db" : "crm", name, NULL, ids[i]), 0);
	}
	/* a lower tier (with requestable off): proposed as a whole, then confirmed */
	in = J("{\"requestable\":false,\"risk_tier\":\"low\"}");
	CHECK_INT(confirmed(&out, g, gh_gov_entitlement_update(&out, g, &admin, ids[1], in)), 0);
	json_decref(out);
	json_decref(in);

	CHECK_INT(gh_gov_entitlement_list(&out, g, &admin, &page, NULL, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 3);
	CHECK_STR(sget(out, "next"), ids[2]);
	json_decref(out);
	page.after = ids[2];
	CHECK_INT(gh_gov_entitlement_list(&out, g, &admin, &page, NULL, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	CHECK(json_is_null(json_object_get(out, "next")));
	json_decref(out);

	CHECK_INT(gh_gov_entitlement_list(&out, g, &admin, NULL, "billing-db", NULL, "prod", "true"), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
	json_decref(out);
	CHECK_INT(gh_gov_entitlement_list(&out, g, &admin, NULL, NULL, "low", NULL, "false"), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	CHECK_STR(sget(json_array_get(json_object_get(out, "items"), 0), "id"), ids[1]);
	json_decref(out);
	CHECK_INT(gh_gov_entitlement_list(&out, g, &admin, NULL, "nosys", "huge", "Prod", "maybe"),
		  GH_EINVALID);
	CHECK(has_field("system") && has_field("risk_tier") && has_field("environment") &&
	      has_field("requestable"));

	page.after = NULL;
	page.limit = 1;
	CHECK_INT(gh_gov_system_list(&out, g, &admin, &page), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	CHECK_STR(sget(out, "next"), sys);
	json_decref(out);
	gh_gov_free(g);
}

/* A tag matches only itself: not a tag it is a prefix of, and '_' or '.' in
 * it are no wildcards. */
static void test_gov_entitlement_list__tag_filter_matches_whole_tags(void)
{
	static const char *const tags[] = {"[\"a_b\"]", "[\"axb\"]", "[\"pci\",\"pci2\"]",
					   "[\"pci2\"]", "[]"};
	static const struct {
		const char *tag;
		const char *names;   /* the entitlements listed, in order */
	} cases[] = {{"a_b", "e0"}, {"axb", "e1"}, {"pci", "e2"}, {"pci2", "e2,e3"},
		     {"a", ""}, {"pc", ""}, {"a.b", ""}};
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], sys[GH_ID_LEN], name[8], got[64];
	json_t *out = NULL, *in, *item;
	size_t i;

	catalog_fixture(g, alice, sys);
	for (int k = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "e%d", k);
		in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "system", "billing-db",
			       "name", name, "risk_tier", "medium", "data_sensitivity", "internal",
			       "environment", "prod", "control_owner_group", "owners",
			       "max_duration", "8h", "tags", J(tags[k]));
		CHECK_INT(gh_gov_entitlement_create(&out, g, &admin, in), 0);
		json_decref(out);
		json_decref(in);
	}
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		CHECK_INT(gh_gov_entitlement_list_tag(&out, g, &admin, NULL, NULL, NULL, NULL, NULL,
						      cases[c].tag), 0);
		got[0] = '\0';
		json_array_foreach(json_object_get(out, "items"), i, item)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
				 sget(item, "name"));
		if (!CHECK_STR(got, cases[c].names))
			fprintf(stderr, "  tag %s\n", cases[c].tag);
		json_decref(out);
	}
	gh_gov_free(g);
}

static void test_gov_inventory__audit_chain_stays_intact(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], sys[GH_ID_LEN], svc[GH_ID_LEN];
	gh_audit_report rep;

	catalog_fixture(g, alice, sys);
	make_nhi(g, "svc", alice, svc);
	CHECK_INT(set_status(g, svc, "suspend", "x"), 0);
	CHECK_INT(make_ent(g, "billing-db", "ro", NULL, NULL), 0);
	CHECK_INT(gh_audit_verify(&rep, gh_gov_store(g)), 0);
	CHECK_INT(rep.events, audit_count(g));
	CHECK_INT(rep.events, 6);
	gh_gov_free(g);
}

/* A reference that names nothing suggests the nearest name of its kind,
 * bounded: same first letter, a few edits, never for an id. */
static void test_gov_resolve__suggests_the_nearest_name(void)
{
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN], sys[GH_ID_LEN], other[GH_ID_LEN], id[GH_ID_LEN];
	json_t *out = NULL, *in;

	catalog_fixture(g, alice, sys);
	make_system(g, "github-org", alice, other);
	CHECK_INT(make_ent(g, "github-org", "repo-read", NULL, NULL), 0);
	CHECK_INT(make_ent(g, "github-org", "repo-write", NULL, NULL), 0);

	CHECK_INT(gh_gov_entitlement_get(&out, g, &admin, "github-org/repo-reed"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message,
		  "entitlement github-org/repo-reed not found; did you mean github-org/repo-read?");
	/* the typo in the system's part */
	CHECK_INT(gh_gov_entitlement_get(&out, g, &admin, "gihub-org/repo-read"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message,
		  "entitlement gihub-org/repo-read not found; did you mean github-org/repo-read?");
	/* a bare name is suggested with its system */
	CHECK_INT(gh_gov_entitlement_get(&out, g, &admin, "repo-wrte"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message,
		  "entitlement repo-wrte not found; did you mean github-org/repo-write?");
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "alicee"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message, "identity alicee not found; did you mean alice?");
	CHECK_INT(gh_gov_group_get(&out, g, &admin, "ownrs"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message, "group ownrs not found; did you mean owners?");
	/* nothing close, a typo in the first letter, an id: no suggestion */
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "alfred-the-great"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message, "identity alfred-the-great not found");
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "blice"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message, "identity blice not found");
	CHECK_INT(gh_gov_identity_get(&out, g, &admin, "idn_0123456789abcdef"), GH_ENOTFOUND);
	CHECK_STR(gh_error_last()->message, "identity idn_0123456789abcdef not found");
	CHECK(out == NULL);

	/* a reference in a body: the field error carries it */
	in = json_pack("{s:s, s:s}", "name", "reports", "owner", "alcie");
	CHECK_INT(gh_gov_system_create(&out, g, &admin, in), GH_EINVALID);
	CHECK_STR(gh_error_last()->message, "owner: identity alcie not found; did you mean alice?");
	json_decref(in);

	/* gov_name_of: names for ids, ids for what names nothing */
	gh_store_read_begin(gh_gov_store(g));
	CHECK_INT(gov_resolve(g, "entitlements", "github-org/repo-read", id), 0);
	CHECK_STR(gov_name_of(g, id, (char[128]){0}, 128), "github-org/repo-read");
	CHECK_STR(gov_name_of(g, alice, (char[128]){0}, 128), "alice");
	CHECK_STR(gov_name_of(g, "grp_nothing", (char[128]){0}, 128), "grp_nothing");
	CHECK_STR(gov_name_of(g, "system:operator", (char[128]){0}, 128), "system:operator");
	gh_store_read_end(gh_gov_store(g));
	gh_gov_free(g);
}

/* The audit tree through the domain: readers only, sizes checked by name. */
static void test_gov_audit_tree__roles_and_sizes(void)
{
	static const gh_actor requester = {"idn_0000000000000009", GH_ROLE_REQUESTER};
	static const gh_actor auditor = {"idn_0000000000000008", GH_ROLE_AUDITOR};
	gh_gov *g = open_gov();
	char alice[GH_ID_LEN];
	json_t *out = NULL;
	int64_t size;

	make_human(g, "alice", alice);
	CHECK_INT(gh_gov_audit_tree(&out, g, &requester, NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_audit_inclusion(&out, g, &requester, "1", NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_audit_consistency(&out, g, &requester, "1", NULL), GH_EFORBIDDEN);
	CHECK(out == NULL);
	CHECK_INT(gh_gov_audit_tree(&out, g, &auditor, NULL), 0);
	size = json_integer_value(json_object_get(out, "size"));
	CHECK(size >= 1 && json_is_string(json_object_get(out, "root")));
	json_decref(out);
	out = NULL;
	CHECK_INT(gh_gov_audit_inclusion(&out, g, &auditor, "1", NULL), 0);
	CHECK(json_is_array(json_object_get(out, "proof")));
	json_decref(out);
	out = NULL;
	CHECK_INT(gh_gov_audit_inclusion(&out, g, &auditor, NULL, "x"), GH_EINVALID);
	CHECK(has_field("seq") && has_field("size") && out == NULL);
	CHECK_INT(gh_gov_audit_consistency(&out, g, &auditor, "0", NULL), GH_EINVALID);
	CHECK(has_field("old") && out == NULL);
	gh_gov_free(g);
}

/* Signed checkpoints through the domain: off without a key (unless the key is
 * required), readers read, only an admin signs, the verifier key for all. */
static void test_gov_checkpoints__service(void)
{
	static const gh_actor requester = {"idn_0000000000000009", GH_ROLE_REQUESTER};
	static const gh_actor auditor = {"idn_0000000000000008", GH_ROLE_AUDITOR};
	gh_gov_checkpoint_options o = {.after_ms = -1, .every_ms = 3600 * 1000};
	gh_gov *g = open_gov();
	char key[600], alice[GH_ID_LEN];
	json_t *out = NULL;
	int off = -1;

	snprintf(key, sizeof(key), "%s/inventory-ckpt-%d.key", gh_test_tmpdir(), db_seq);
	unlink(key);
	o.key_path = key;
	CHECK_INT(gh_gov_checkpoints_start(g, &o, &off), 0);
	CHECK_INT(off, 1);
	CHECK_INT(gh_gov_public_key(&out, g), GH_ENOTFOUND);
	CHECK_INT(gh_gov_checkpoint_get(&out, g, &auditor, NULL, NULL), GH_ENOTFOUND);
	o.key_required = 1;
	CHECK(gh_gov_checkpoints_start(g, &o, &off) != 0);
	CHECK_INT(gh_signer_create(key, "gatehouse.test/inventory"), 0);
	make_human(g, "alice", alice);
	CHECK_INT(gh_gov_checkpoints_start(g, &o, &off), 0);
	CHECK_INT(off, 0);
	CHECK_INT(gh_gov_public_key(&out, g), 0);
	CHECK(json_is_string(json_object_get(out, "vkey")));
	json_decref(out);
	out = NULL;
	CHECK_INT(gh_gov_checkpoint_get(&out, g, &requester, NULL, NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_checkpoint_sign(&out, g, &auditor), GH_EFORBIDDEN);
	CHECK(out == NULL);
	CHECK_INT(gh_gov_checkpoint_sign(&out, g, &admin), 0);
	CHECK(json_integer_value(json_object_get(out, "size")) >= 1);
	json_decref(out);
	out = NULL;
	CHECK_INT(gh_gov_checkpoint_get(&out, g, &auditor, NULL, NULL), 0);
	CHECK(json_is_string(json_object_get(out, "note")));
	json_decref(out);
	out = NULL;
	CHECK_INT(gh_gov_checkpoint_get(&out, g, &auditor, NULL, "2"), GH_EINVALID);
	CHECK(has_field("wait"));
	gh_gov_checkpoints_stop(g);
	gh_gov_free(g);
	remove(key);
}

/* --- the values of enumerated fields ------------------------------------------ */

/* One list per field, the one the domain checks input against (its refusal
 * quotes the same list the front ends print). */
static void test_gov_values__one_list_per_field(void)
{
	static const char *const names[] = {
		"identity_kind", "identity_status", "role", "risk_tier", "data_sensitivity",
		"channel", "request_state", "grant_status", "review_state", "review_outcome",
		"job_state", "finding_kind", "finding_status", "delegation_status", "token_status",
		"credential_status", "change_state", NULL};
	const char *const *kinds = gh_gov_values("identity_kind");
	json_t *in, *out = NULL;
	char listed[256] = "";
	size_t len = 0;
	gh_gov *g;

	for (size_t i = 0; names[i]; i++)
		CHECK(gh_gov_values(names[i]) && gh_gov_values(names[i])[0]);
	CHECK(gh_gov_values("risk_tier") == gh_gov_risk_tiers);
	CHECK(gh_gov_values("data_sensitivity") == gh_gov_data_sensitivities);
	CHECK(gh_gov_values("colour") == NULL && gh_gov_values(NULL) == NULL);
	for (size_t i = 0; kinds && kinds[i]; i++)
		len += (size_t)snprintf(listed + len, sizeof(listed) - len, "%s%s", i ? ", " : "",
					kinds[i]);
	g = open_gov();
	in = json_pack("{s:s, s:s}", "kind", "robot", "name", "r2");
	CHECK_INT(gh_gov_identity_create(&out, g, &admin, in), GH_EINVALID);
	CHECK(strstr(json_string_value(json_object_get(json_array_get(gh_error_last()->fields, 0),
						      "reason")), listed) != NULL);
	json_decref(in);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"gov_resolve__suggests_the_nearest_name", test_gov_resolve__suggests_the_nearest_name},
		{"gov_identity_create__human_has_api_shape_and_is_audited", test_gov_identity_create__human_has_api_shape_and_is_audited},
		{"gov_identity_create__nhi_names_every_missing_field_at_once", test_gov_identity_create__nhi_names_every_missing_field_at_once},
		{"gov_identity_create__reports_bad_values_together", test_gov_identity_create__reports_bad_values_together},
		{"gov_identity_create__owner_must_be_an_active_human", test_gov_identity_create__owner_must_be_an_active_human},
		{"gov_identity_create__duplicate_name_is_a_conflict", test_gov_identity_create__duplicate_name_is_a_conflict},
		{"gov_identity_create__role_rules", test_gov_identity_create__role_rules},
		{"gov_identity_get__by_id_or_name", test_gov_identity_get__by_id_or_name},
		{"gov_identity_update__fields_and_ownership_transfer_are_audited", test_gov_identity_update__fields_and_ownership_transfer_are_audited},
		{"gov_identity_update__refusals_change_nothing", test_gov_identity_update__refusals_change_nothing},
		{"gov_identity_status__transitions_and_refusals", test_gov_identity_status__transitions_and_refusals},
		{"gov_identity_status__decommissioned_owner_orphans_its_nhis", test_gov_identity_status__decommissioned_owner_orphans_its_nhis},
		{"gov_identity_list__filters_and_pages", test_gov_identity_list__filters_and_pages},
		{"gov_group__nested_membership_is_transitive", test_gov_group__nested_membership_is_transitive},
		{"gov_group__cycles_and_duplicates_are_refused", test_gov_group__cycles_and_duplicates_are_refused},
		{"gov_group__nesting_depth_is_bounded", test_gov_group__nesting_depth_is_bounded},
		{"gov_group_list__pages", test_gov_group_list__pages},
		{"gov_system__create_update_and_owner_rules", test_gov_system__create_update_and_owner_rules},
		{"gov_entitlement__create_names_every_problem", test_gov_entitlement__create_names_every_problem},
		{"gov_entitlement__conflicts_are_symmetric", test_gov_entitlement__conflicts_are_symmetric},
		{"gov_entitlement_list__filters_and_pages", test_gov_entitlement_list__filters_and_pages},
		{"gov_entitlement_list__tag_filter_matches_whole_tags", test_gov_entitlement_list__tag_filter_matches_whole_tags},
		{"gov_inventory__audit_chain_stays_intact", test_gov_inventory__audit_chain_stays_intact},
		{"gov_values__one_list_per_field", test_gov_values__one_list_per_field},
		{"gov_audit_tree__roles_and_sizes", test_gov_audit_tree__roles_and_sizes},
		{"gov_checkpoints__service", test_gov_checkpoints__service},
		{NULL, NULL}};
	int rc;

	gh_init();
	gh_time_format(future, sizeof(future), gh_now() + 90 * 86400);
	gh_time_format(past, sizeof(past), gh_now() - 86400);
	rc = gh_test_run(cases, argc, argv);
	gh_error_clear();
	return rc;
}
