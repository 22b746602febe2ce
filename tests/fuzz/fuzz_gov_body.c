/* fuzz_gov_body.c - fuzz target: the domain's input validation end to end, in
 * process, against a real database holding a small estate.
 *
 * Input: one byte, then a JSON body. The byte picks the operation (byte % OPS)
 * and the actor ((byte / OPS) % 3: admin, approver1, owner1); the body goes to
 * a write as the API would pass it, or gives a list its query parameters
 * ({"limit": 5, "after": "...", "kind": "..."}, as the router would); delegations,
 * break-glass reviews and tag filters too. Properties (abort on violation):
 * no crash, leak or UB; a failure returns NULL output, leaves its code in
 * gh_error_last(), leaves no transaction open and changes nothing in the
 * database (DESIGN.md invariant 5); an inventory write by an actor without
 * admin or iam, or a token by one without admin, is refused as forbidden
 * (the domain's own role gate, whatever the front end). After a success the estate is restored
 * from a snapshot, so every input meets the same world and the database
 * never grows. */
#include "fuzz_db.h"
#include "common/jsonv.h"
#include "common/util.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum op {
	OP_IDENTITY_CREATE,
	OP_IDENTITY_UPDATE,
	OP_IDENTITY_SUSPEND,
	OP_IDENTITY_ACTIVATE,
	OP_IDENTITY_DECOMMISSION,
	OP_GROUP_CREATE,
	OP_GROUP_ADD_MEMBER,
	OP_SYSTEM_CREATE,
	OP_SYSTEM_UPDATE,
	OP_ENTITLEMENT_CREATE,
	OP_ENTITLEMENT_UPDATE,
	OP_REQUEST_SUBMIT,
	OP_REQUEST_APPROVE,
	OP_REQUEST_REJECT,
	OP_REQUEST_CANCEL,
	OP_GRANT_REVOKE,
	OP_TOKEN_CREATE,
	/* reads: the body's string members stand in for the query parameters */
	OP_IDENTITY_LIST,
	OP_GROUP_LIST,
	OP_SYSTEM_LIST,
	OP_ENTITLEMENT_LIST,
	OP_REQUEST_LIST,
	OP_GRANT_LIST,
	OP_AUDIT_LIST,
	/* issue 4: delegations, break-glass reviews, tags */
	OP_DELEGATION_CREATE,
	OP_DELEGATION_REVOKE,
	OP_GRANT_REVIEW,
	OP_DELEGATION_LIST,
	OP_GRANT_LIST_REVIEW,
	OP_ENTITLEMENT_LIST_TAG,
	/* issue 5: the outbox's jobs, reconciliation, findings */
	OP_JOB_LIST,
	OP_JOB_RETRY,
	OP_RECONCILE,
	OP_FINDING_LIST,
	/* issue 10: renewal, proposed changes (four eyes), token rotation */
	OP_IDENTITY_RENEW,
	OP_CHANGE_CONFIRM,
	OP_CHANGE_WITHDRAW,
	OP_CHANGE_LIST,
	OP_TOKEN_ROTATE,
	OP_TOKEN_LIST,
	OPS
};

static int is_read(int op)
{
	return (op >= OP_IDENTITY_LIST && op <= OP_AUDIT_LIST) ||
	       (op >= OP_DELEGATION_LIST && op <= OP_ENTITLEMENT_LIST_TAG) || op == OP_JOB_LIST ||
	       op == OP_FINDING_LIST || op == OP_CHANGE_LIST || op == OP_TOKEN_LIST;
}

static gh_gov *g;
static sqlite3 *snapshot;                /* the estate as seeded */
static unsigned char pristine[32];       /* its fingerprint */
static gh_actor actors[3];               /* admin, approver1, owner1 */
static char pending_id[64], grant_id[64], delegation_id[64], change_id[64], token_id[64];
static int verbose;                      /* GH_FUZZ_VERBOSE: print each outcome */

static void check(int ok, const char *what, int op)
{
	if (!ok) {
		fprintf(stderr, "fuzz_gov_body: property violated (op %d): %s [%s]\n", op, what,
			gh_error_last()->message);
		abort();
	}
}

/* Runs one seeding call; the body is JSON text. Keeps "id" of the result in id. */
typedef int (*seed_fn)(json_t **out, gh_gov *gv, const gh_actor *actor, const json_t *in);

static void seed_as(const gh_actor *a, seed_fn fn, const char *body, char id[64])
{
	json_t *in = json_loads(body, 0, NULL), *out = NULL;

	if (!in || fn(&out, g, a, in) != 0)
		fz_die(body);
	if (id)
		snprintf(id, 64, "%s", json_string_value(json_object_get(out, "id")));
	json_decref(in);
	json_decref(out);
}

static void seed(seed_fn fn, const char *body, char id[64])
{
	seed_as(&actors[0], fn, body, id);
}

static void seed_ref(int (*fn)(json_t **, gh_gov *, const gh_actor *, const char *,
			       const json_t *),
		     const char *ref, const char *body)
{
	json_t *in = json_loads(body, 0, NULL), *out = NULL;

	if (!in || fn(&out, g, &actors[0], ref, in) != 0)
		fz_die(body);
	json_decref(in);
	json_decref(out);
}

static void seed_status(const char *ref, const char *action)
{
	json_t *in = json_pack("{s:s}", "reason", "seed"), *out = NULL;

	if (!in || gh_gov_identity_set_status(&out, g, &actors[0], ref, action, in) != 0)
		fz_die(action);
	json_decref(in);
	json_decref(out);
}

static void copy_db(sqlite3 *to, sqlite3 *from)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");

	if (!b || sqlite3_backup_step(b, -1) != SQLITE_DONE || sqlite3_backup_finish(b) != SQLITE_OK) {
		fprintf(stderr, "fuzz setup: backup: %s\n", sqlite3_errmsg(to));
		abort();
	}
}

static void restore(void)
{
	gh_store *s = gh_gov_store(g);

	gh_store_exclusive_begin(s);
	copy_db(gh_store_db(s), snapshot);
	gh_store_exclusive_end(s);
}

static void close_snapshot(void)
{
	sqlite3_close(snapshot);
}

static void world(void)
{
	char *admin_token = NULL, id[64], when[40], body[400];
	json_t *out = NULL;
	gh_store *s;

	g = fz_open();
	if (gh_gov_bootstrap(&admin_token, g, "admin") != 0 ||
	    gh_gov_authenticate(&actors[0], g, admin_token) != 0)
		fz_die("bootstrap");
	free(admin_token);

	seed(gh_gov_identity_create,
	     "{\"kind\":\"human\",\"name\":\"owner1\",\"roles\":[\"approver\",\"requester\"]}", id);
	snprintf(actors[2].id, sizeof(actors[2].id), "%s", id);
	actors[2].roles = GH_ROLE_APPROVER | GH_ROLE_REQUESTER;
	seed(gh_gov_identity_create, "{\"kind\":\"human\",\"name\":\"approver1\","
				     "\"roles\":[\"approver\"]}", id);
	snprintf(actors[1].id, sizeof(actors[1].id), "%s", id);
	actors[1].roles = GH_ROLE_APPROVER;
	seed(gh_gov_identity_create, "{\"kind\":\"human\",\"name\":\"sleeper\"}", NULL);
	seed_status("sleeper", "suspend");
	seed(gh_gov_group_create, "{\"name\":\"approvers\",\"description\":\"control owners\"}",
	     NULL);
	seed_ref(gh_gov_group_add_member, "approvers", "{\"identity\":\"approver1\"}");
	seed(gh_gov_system_create, "{\"name\":\"billing-db\",\"owner\":\"owner1\"}", NULL);
	seed(gh_gov_entitlement_create,
	     "{\"system\":\"billing-db\",\"name\":\"read-only\",\"risk_tier\":\"low\","
	     "\"data_sensitivity\":\"internal\",\"environment\":\"prod\","
	     "\"control_owner_group\":\"approvers\",\"max_duration\":\"8h\"}", NULL);
	seed(gh_gov_entitlement_create,
	     "{\"system\":\"billing-db\",\"name\":\"read-write\",\"risk_tier\":\"medium\","
	     "\"data_sensitivity\":\"confidential\",\"environment\":\"prod\","
	     "\"control_owner_group\":\"approvers\",\"max_duration\":\"1d\","
	     "\"incompatible_with\":[\"read-only\"]}", NULL);
	/* within the maximum NHI lifetime (a year) of whenever the fuzzer runs */
	gh_time_format(when, sizeof(when), gh_now() + 180 * 86400);
	snprintf(body, sizeof(body),
		 "{\"kind\":\"service_account\",\"name\":\"etl\",\"owner\":\"owner1\","
		 "\"purpose\":\"nightly export\",\"environment\":\"prod\","
		 "\"expires_at\":\"%s\",\"roles\":[\"requester\"],"
		 "\"attributes\":{\"team\":\"finance\"}}", when);
	seed(gh_gov_identity_create, body, NULL);
	seed(gh_gov_request_submit,
	     "{\"channel\":\"api\",\"subject\":\"etl\",\"entitlement\":\"read-write\","
	     "\"justification\":\"monthly close\",\"duration\":\"4h\",\"ticket_ref\":\"INC-1\"}",
	     pending_id);
	/* owner1 asks for itself: the admin created read-only, and whoever set an
	 * entitlement's controls is never auto-approved for it */
	seed_as(&actors[2], gh_gov_request_submit,
		"{\"channel\":\"portal\",\"subject\":\"owner1\",\"entitlement\":\"read-only\","
		"\"justification\":\"reporting\",\"duration\":\"2h\"}", id);
	if (gh_gov_request_get(&out, g, &actors[0], id) != 0)
		fz_die("reading the granted request");
	if (json_is_string(json_object_get(out, "grant")))
		snprintf(grant_id, sizeof(grant_id), "%s",
			 json_string_value(json_object_get(out, "grant")));
	json_decref(out);
	if (!grant_id[0] || !pending_id[0])
		fz_die("the seed requests did not come out pending and granted");
	seed(gh_gov_group_create, "{\"name\":\"cover\"}", NULL);
	seed(gh_gov_delegation_create,
	     "{\"from_group\":\"approvers\",\"to_group\":\"cover\",\"system\":\"billing-db\","
	     "\"expires_in\":\"30d\",\"reason\":\"holiday cover\"}", delegation_id);

	/* a second iam person proposes lowering read-write's risk tier (four
	 * eyes): the admin may confirm it, the others may not */
	seed(gh_gov_identity_create, "{\"kind\":\"human\",\"name\":\"iam2\","
				     "\"roles\":[\"iam\"]}", id);
	{
		gh_actor iam2 = {.roles = GH_ROLE_IAM};
		json_t *in = json_pack("{s:s}", "risk_tier", "low");

		snprintf(iam2.id, sizeof(iam2.id), "%s", id);
		if (!in || gh_gov_entitlement_update(&out, g, &iam2, "read-write", in) != GH_PROPOSED)
			fz_die("proposing a change");
		snprintf(change_id, sizeof(change_id), "%s",
			 json_string_value(json_object_get(json_object_get(out, "change"), "id")));
		json_decref(in);
		json_decref(out);
		out = NULL;
	}
	seed(gh_gov_token_create, "{\"identity\":\"owner1\",\"name\":\"fz\"}", token_id);

	if (sqlite3_open(":memory:", &snapshot) != SQLITE_OK)
		abort();
	atexit(close_snapshot);
	s = gh_gov_store(g);
	gh_store_exclusive_begin(s);
	copy_db(snapshot, gh_store_db(s));
	gh_store_exclusive_end(s);
	fz_fingerprint(pristine, g);
}

/* A query parameter from the body: its string member, or NULL. */
static const char *q(const json_t *in, const char *key)
{
	return json_string_value(json_object_get(in, key));
}

static int run(json_t **out, int op, const gh_actor *a, const json_t *in)
{
	json_t *limit = json_object_get(in, "limit"), *after_seq = json_object_get(in, "after_seq");
	gh_page page = {json_is_integer(limit) ? (int)json_integer_value(limit) : 0,
			q(in, "after")};

	switch (op) {
	case OP_IDENTITY_CREATE:
		return gh_gov_identity_create(out, g, a, in);
	case OP_IDENTITY_UPDATE:
		return gh_gov_identity_update(out, g, a, "etl", in);
	case OP_IDENTITY_SUSPEND:
		return gh_gov_identity_set_status(out, g, a, "etl", "suspend", in);
	case OP_IDENTITY_ACTIVATE:
		return gh_gov_identity_set_status(out, g, a, "sleeper", "activate", in);
	case OP_IDENTITY_DECOMMISSION:
		return gh_gov_identity_set_status(out, g, a, "etl", "decommission", in);
	case OP_GROUP_CREATE:
		return gh_gov_group_create(out, g, a, in);
	case OP_GROUP_ADD_MEMBER:
		return gh_gov_group_add_member(out, g, a, "approvers", in);
	case OP_SYSTEM_CREATE:
		return gh_gov_system_create(out, g, a, in);
	case OP_SYSTEM_UPDATE:
		return gh_gov_system_update(out, g, a, "billing-db", in);
	case OP_ENTITLEMENT_CREATE:
		return gh_gov_entitlement_create(out, g, a, in);
	case OP_ENTITLEMENT_UPDATE:
		return gh_gov_entitlement_update(out, g, a, "read-write", in);
	case OP_REQUEST_SUBMIT:
		return gh_gov_request_submit(out, g, a, in);
	case OP_REQUEST_APPROVE:
		return gh_gov_request_approve(out, g, a, pending_id, in);
	case OP_REQUEST_REJECT:
		return gh_gov_request_reject(out, g, a, pending_id, in);
	case OP_REQUEST_CANCEL:
		return gh_gov_request_cancel(out, g, a, pending_id, in);
	case OP_GRANT_REVOKE:
		return gh_gov_grant_revoke(out, g, a, grant_id, in);
	case OP_TOKEN_CREATE:
		return gh_gov_token_create(out, g, a, in);
	case OP_IDENTITY_LIST:
		return gh_gov_identity_list_orphaned(out, g, a, &page, q(in, "kind"),
						     q(in, "status"), q(in, "owner"),
						     q(in, "orphaned"));
	case OP_GROUP_LIST:
		return gh_gov_group_list(out, g, a, &page);
	case OP_SYSTEM_LIST:
		return gh_gov_system_list(out, g, a, &page);
	case OP_ENTITLEMENT_LIST:
		return gh_gov_entitlement_list(out, g, a, &page, q(in, "system"), q(in, "risk_tier"),
					       q(in, "environment"), q(in, "requestable"));
	case OP_REQUEST_LIST:
		return gh_gov_request_list(out, g, a, &page, q(in, "state"), q(in, "subject"),
					   q(in, "entitlement"));
	case OP_GRANT_LIST:
		return gh_gov_grant_list(out, g, a, &page, q(in, "status"), q(in, "subject"),
					 q(in, "entitlement"));
	case OP_DELEGATION_CREATE:
		return gh_gov_delegation_create(out, g, a, in);
	case OP_DELEGATION_REVOKE:
		return gh_gov_delegation_revoke(out, g, a, delegation_id, in);
	case OP_GRANT_REVIEW:
		return gh_gov_grant_review(out, g, a, grant_id, in);
	case OP_DELEGATION_LIST:
		return gh_gov_delegation_list(out, g, a, &page, q(in, "from_group"),
					      q(in, "to_group"), q(in, "status"));
	case OP_GRANT_LIST_REVIEW:
		return gh_gov_grant_list_review(out, g, a, &page, q(in, "status"), q(in, "subject"),
						q(in, "entitlement"), q(in, "review_state"));
	case OP_ENTITLEMENT_LIST_TAG:
		return gh_gov_entitlement_list_tag(out, g, a, &page, q(in, "system"),
						   q(in, "risk_tier"), q(in, "environment"),
						   q(in, "requestable"), q(in, "tag"));
	case OP_JOB_LIST:
		return gh_gov_job_list(out, g, a, &page, q(in, "state"), q(in, "system"),
				       q(in, "grant"));
	case OP_JOB_RETRY:
		return gh_gov_job_retry(out, g, a, q(in, "job") ? q(in, "job") : "job_nosuch");
	case OP_RECONCILE:
		return gh_gov_reconcile(out, g, a, "billing-db", in);
	case OP_FINDING_LIST:
		return gh_gov_finding_list(out, g, a, &page, q(in, "system"), q(in, "kind"),
					   q(in, "status"));
	case OP_IDENTITY_RENEW:
		return gh_gov_identity_renew(out, g, a, "etl", in);
	case OP_CHANGE_CONFIRM:
		return gh_gov_change_confirm(out, g, a, change_id, in);
	case OP_CHANGE_WITHDRAW:
		return gh_gov_change_withdraw(out, g, a, change_id, in);
	case OP_CHANGE_LIST:
		return gh_gov_change_list(out, g, a, &page, q(in, "state"), q(in, "object"));
	case OP_TOKEN_ROTATE:
		return gh_gov_token_rotate(out, g, a, q(in, "token") ? q(in, "token") : token_id);
	case OP_TOKEN_LIST:
		return gh_gov_token_list(out, g, a, &page, q(in, "identity"), q(in, "status"));
	default:
		return gh_gov_audit_list(out, g, a,
					 json_is_integer(after_seq) ? json_integer_value(after_seq) : 0,
					 page.limit, q(in, "object_id"));
	}
}

/* 1 when the domain must refuse op to a on its roles alone. */
static int forbidden(int op, const gh_actor *a)
{
	if (op <= OP_ENTITLEMENT_UPDATE)
		return !(a->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM));
	if (op == OP_TOKEN_CREATE)
		return !(a->roles & GH_ROLE_ADMIN);
	if (op == OP_JOB_RETRY || op == OP_RECONCILE)
		return !(a->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM));
	if (op == OP_JOB_LIST || op == OP_FINDING_LIST || op == OP_CHANGE_LIST)
		return !(a->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR));
	if (op == OP_CHANGE_CONFIRM)
		return !(a->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM));
	if (op == OP_TOKEN_LIST)
		return !(a->roles & GH_ROLE_ADMIN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char after[32];
	json_t *in = NULL, *out = NULL;
	int op, rc;

	if (!g) {
		world();
		verbose = getenv("GH_FUZZ_VERBOSE") != NULL;
	}
	if (size < 1)
		return 0;
	op = data[0] % OPS;
	if (gh_json_parse(&in, (const char *)data + 1, size - 1) != 0) {
		gh_error_clear();
		return 0;
	}
	rc = run(&out, op, &actors[(data[0] / OPS) % 3], in);
	if (verbose)
		fprintf(stderr, "op %d actor %d: rc %d %s\n", op, (data[0] / OPS) % 3, rc,
			rc ? gh_error_last()->message : "ok");
	check(sqlite3_get_autocommit(gh_store_db(gh_gov_store(g))), "a transaction was left open",
	      op);
	if (forbidden(op, &actors[(data[0] / OPS) % 3]))
		check(rc == GH_EFORBIDDEN, "a write passed the domain's role gate", op);
	if (rc == 0 && is_read(op)) {
		check(out != NULL, "a success returned no output", op);
		fz_fingerprint(after, g);
		check(memcmp(after, pristine, sizeof(after)) == 0, "a read changed the database", op);
	} else if (rc == 0 || rc == GH_PROPOSED) {
		/* a proposed change (four eyes) is a write too: its change row */
		check(out != NULL, "a success returned no output", op);
		restore();
		fz_fingerprint(after, g);
		check(memcmp(after, pristine, sizeof(after)) == 0, "the restore missed something", op);
	} else {
		check(out == NULL, "a failure returned output", op);
		check(gh_error_last()->code == rc, "the error's code is not the one returned", op);
		fz_fingerprint(after, g);
		check(memcmp(after, pristine, sizeof(after)) == 0, "a failure changed the database",
		      op);
	}
	json_decref(out);
	json_decref(in);
	gh_error_clear();
	return 0;
}
