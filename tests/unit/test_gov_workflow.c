/* test_gov_workflow.c - requests, decisions, approval invariants, grants,
 * expiry and history against a real SQLite file. */
#include "gov_fixture.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The world every case starts from (ids are fixed so cases read plainly):
 *   owners  <- leads (nested group); owners holds bob and owner, leads holds carol,
 *   dave (approver and servicedesk) and iam1.
 *   etl is an NHI owned by owner. erin approves but is in no group. */
#define ADMIN "idn_admin"
#define IAM1 "idn_iam1"
#define ALICE "idn_alice"
#define BOB "idn_bob"
#define CAROL "idn_carol"
#define DAVE "idn_dave"
#define ERIN "idn_erin"
#define SD "idn_sd"
#define OWNER "idn_owner"
#define ZED "idn_zed"
#define ETL "idn_etl"
#define SUSP "idn_susp"

static const gh_actor a_admin = {ADMIN, GH_ROLE_ADMIN};
static const gh_actor a_iam1 = {IAM1, GH_ROLE_IAM | GH_ROLE_APPROVER};
static const gh_actor a_alice = {ALICE, GH_ROLE_REQUESTER};
static const gh_actor a_bob = {BOB, GH_ROLE_APPROVER | GH_ROLE_REQUESTER};
static const gh_actor a_carol = {CAROL, GH_ROLE_APPROVER};
static const gh_actor a_dave = {DAVE, GH_ROLE_APPROVER | GH_ROLE_SERVICEDESK};
static const gh_actor a_erin = {ERIN, GH_ROLE_APPROVER};
static const gh_actor a_sd = {SD, GH_ROLE_SERVICEDESK};
static const gh_actor a_owner = {OWNER, GH_ROLE_APPROVER | GH_ROLE_REQUESTER};
static const gh_actor a_zed = {ZED, GH_ROLE_REQUESTER};
static const gh_actor a_auditor = {ADMIN, GH_ROLE_AUDITOR};

static gh_gov *world(const char *name, int64_t pending_sla)
{
	static const char *const sql =
		"INSERT INTO identities(id, kind, name, status, roles, created_at, updated_at) VALUES"
		" ('idn_admin','human','admin','active','[\"admin\"]',0,0),"
		" ('idn_iam1','human','iam1','active','[\"iam\",\"approver\"]',0,0),"
		" ('idn_alice','human','alice','active','[\"requester\"]',0,0),"
		" ('idn_bob','human','bob','active','[\"approver\",\"requester\"]',0,0),"
		" ('idn_carol','human','carol','active','[\"approver\"]',0,0),"
		" ('idn_dave','human','dave','active','[\"approver\",\"servicedesk\"]',0,0),"
		" ('idn_erin','human','erin','active','[\"approver\"]',0,0),"
		" ('idn_sd','human','sd','active','[\"servicedesk\"]',0,0),"
		" ('idn_owner','human','owner','active','[\"approver\",\"requester\"]',0,0),"
		" ('idn_zed','human','zed','active','[\"requester\"]',0,0),"
		" ('idn_susp','human','susp','suspended','[]',0,0);"
		"INSERT INTO identities(id, kind, name, status, owner_id, purpose, environment,"
		" expires_at, roles, attributes, created_at, updated_at) VALUES"
		" ('idn_etl','service_account','etl','active','idn_owner','nightly export','prod',"
		"  4102444800,'[\"requester\"]','{\"team\":\"finance\"}',0,0);"
		"INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		" ('grp_owners','dba-owners',0,0), ('grp_leads','dba-leads',0,0);"
		"INSERT INTO group_members(group_id, member_type, member_id, added_at) VALUES"
		" ('grp_owners','identity','idn_bob',0), ('grp_owners','identity','idn_owner',0),"
		" ('grp_owners','group','grp_leads',0), ('grp_leads','identity','idn_carol',0),"
		" ('grp_leads','identity','idn_dave',0), ('grp_leads','identity','idn_iam1',0);"
		"INSERT INTO systems(id, name, owner_id, created_at, updated_at) VALUES"
		" ('sys_db','billing-db','idn_admin',0,0);"
		"INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity, environment,"
		" control_owner_group_id, max_duration, requestable, created_at, updated_at) VALUES"
		" ('ent_low','sys_db','read-only','low','internal','prod','grp_owners',28800,1,0,0),"
		" ('ent_med','sys_db','read-write','medium','internal','prod','grp_owners',86400,1,0,0),"
		" ('ent_high','sys_db','dba','high','restricted','prod','grp_owners',14400,1,0,0),"
		" ('ent_crit','sys_db','superuser','critical','restricted','prod','grp_owners',3600,1,0,0),"
		" ('ent_noreq','sys_db','backup-admin','low','internal','prod','grp_owners',3600,0,0,0),"
		" ('ent_pay','sys_db','payments-create','low','confidential','prod','grp_owners',28800,1,0,0),"
		" ('ent_payapp','sys_db','payments-approve','low','confidential','prod','grp_owners',28800,1,0,0);"
		"INSERT INTO entitlement_conflicts(a, b) VALUES ('ent_pay','ent_payapp');";
	gh_gov_options opts = {.pending_sla = pending_sla};
	char path[512];
	gh_gov *g = NULL;

	sf_targetf(path, sizeof(path), 1, "%s.db", name);
	if (gh_gov_open(&g, path, 1, &opts) != 0) {
		fprintf(stderr, "  open failed: %s\n", gh_error_last()->message);
		return NULL;
	}
	if (fx_exec(g, sql)) {
		gh_gov_free(g);
		return NULL;
	}
	return g;
}

/* Submits body (JSON text); returns the rc and the request in *out. */
static int submit(json_t **out, gh_gov *g, const gh_actor *actor, const char *body)
{
	return fx_body(out, g, actor, body, gh_gov_request_submit);
}

/* Rows that any change would touch; a refusal must leave all of them alone. */
static int64_t footprint(gh_gov *g)
{
	return fx_int(g, "SELECT (SELECT count(*) FROM requests) * 1000000000"
			    " + (SELECT count(*) FROM approvals) * 1000000"
			    " + (SELECT count(*) FROM grants) * 1000"
			    " + (SELECT count(*) FROM audit_events)"
			    " + (SELECT coalesce(sum(length(state) + updated_at), 0) FROM requests)"
			    " + (SELECT coalesce(sum(length(status)), 0) FROM grants)");
}

static char *new_request(gh_gov *g, const gh_actor *actor, const char *body, const char *state)
{
	json_t *r = NULL;
	char *id = NULL;

	if (CHECK_INT(submit(&r, g, actor, body), 0) && CHECK_STR(fx_s(r, "state"), state))
		id = strdup(fx_s(r, "id"));
	if (!r)
		fprintf(stderr, "  submit: %s\n", gh_error_last()->message);
	json_decref(r);
	return id;
}

static int64_t time_of(const json_t *obj, const char *key)
{
	int64_t t = -1;

	gh_time_parse(&t, fx_s(obj, key));
	return t;
}

static void test_workflow_submit__low_risk_auto_grant_expiry_is_capped(void)
{
	gh_gov *g = world("auto", 0);
	json_t *r = NULL, *gr = NULL;
	char *id;

	CHECK_INT(submit(&r, g, &a_alice,
			 "{\"channel\":\"portal\",\"subject\":\"alice\",\"entitlement\":\"read-only\","
			 "\"justification\":\"month end report\",\"duration\":\"2h\"}"), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	CHECK_STR(fx_s(r, "requester"), ALICE);
	CHECK_STR(fx_s(r, "submitted_by"), ALICE);
	CHECK_STR(fx_s(json_object_get(r, "decision"), "outcome"), "auto_approved");
	CHECK_STR(fx_s(json_object_get(r, "decision"), "source"), "builtin-catalog-rule");
	CHECK_STR(fx_s(json_object_get(r, "decision"), "policy_version"), "builtin-1");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 0);
	CHECK_STR(fx_s(r, "duration"), "2h");
	CHECK(json_is_null(json_object_get(r, "sla_due_at")));
	CHECK_INT(gh_gov_grant_get(&gr, g, &a_alice, fx_s(r, "grant")), 0);
	CHECK_STR(fx_s(gr, "status"), "active");
	CHECK_STR(fx_s(gr, "request"), fx_s(r, "id"));
	CHECK_INT(time_of(gr, "expires_at") - time_of(gr, "granted_at"), 7200);
	json_decref(gr);
	json_decref(r);

	/* longer than the maximum: one approval, and the grant is capped at 8h */
	id = new_request(g, &a_bob, "{\"channel\":\"api\",\"subject\":\"bob\",\"entitlement\":"
			 "\"ent_low\",\"justification\":\"migration\",\"duration\":\"2d\"}",
			 "pending_approval");
	CHECK_INT(gh_gov_request_get(&r, g, &a_admin, id), 0);
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 1);
	CHECK(fx_contains(json_string_value(json_array_get(json_object_get(
			       json_object_get(r, "decision"), "reasons"), 0)), "exceeds the maximum 8h"));
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &a_carol, id, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	CHECK_INT(gh_gov_grant_get(&gr, g, &a_admin, fx_s(r, "grant")), 0);
	CHECK_INT(time_of(gr, "expires_at") - time_of(gr, "granted_at"), 28800);
	json_decref(gr);
	json_decref(r);
	free(id);
	gh_gov_free(g);
}

static void test_workflow_approve__medium_needs_one_high_two_distinct(void)
{
	gh_gov *g = world("approvals", 0);
	json_t *r = NULL, *approvals;
	char *med, *high;
	int64_t before;

	med = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			  "\"entitlement\":\"read-write\",\"justification\":\"fix data\","
			  "\"duration\":\"4h\"}", "pending_approval");
	CHECK_INT(gh_gov_request_get(&r, g, &a_alice, med), 0);
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 1);
	CHECK(time_of(r, "sla_due_at") - time_of(r, "created_at") == 72 * 3600);
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &a_bob, med, "{\"comment\":\"ok\"}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	/* the SLA it was decided under stays as evidence */
	CHECK(!json_is_null(json_object_get(r, "sla_due_at")));
	approvals = json_object_get(r, "approvals");
	CHECK_INT(json_array_size(approvals), 1);
	CHECK_STR(fx_s(json_array_get(approvals, 0), "approver"), BOB);
	CHECK_INT(json_array_size(json_object_get(json_array_get(approvals, 0), "checks")), 8);
	json_decref(r);

	high = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			   "\"entitlement\":\"dba\",\"justification\":\"incident\","
			   "\"duration\":\"1h\"}", "pending_approval");
	CHECK_INT(fx_act(&r, g, &a_bob, high, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "pending_approval");
	CHECK_INT(json_integer_value(json_object_get(r, "required_approvals")), 2);
	CHECK(json_is_null(json_object_get(r, "grant")));
	json_decref(r);
	/* the same approver twice is not two approvals */
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_bob, high, "{}", gh_gov_request_approve), GH_ECONFLICT);
	CHECK(strstr(gh_error_last()->message, "distinct_approver") != NULL);
	CHECK_INT(footprint(g), before);
	/* carol is in dba-owners through the nested dba-leads */
	CHECK_INT(fx_act(&r, g, &a_carol, high, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	CHECK_INT(json_array_size(json_object_get(r, "approvals")), 2);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(r, "approvals"),
								    1), "step")), 2);
	json_decref(r);
	/* a closed request cannot be approved */
	CHECK_INT(fx_act(&r, g, &a_iam1, high, "{}", gh_gov_request_approve), GH_ECONFLICT);
	free(med);
	free(high);
	gh_gov_free(g);
}

static void test_workflow_approve__every_invariant_refuses_and_changes_nothing(void)
{
	gh_gov *g = world("invariants", 0);
	json_t *r = NULL;
	char *nhi, *human;
	int64_t before, audit_before;
	static const struct {
		const gh_actor *who;
		const char *check;
	} refused[] = {
		{&a_iam1, "not_submitter"},
		{&a_carol, "not_requester"},
		{&a_owner, "not_subject_owner"},
		{&a_dave, "not_servicedesk"},
		{&a_erin, "in_control_owner_group"},
	};

	/* iam1 submits for carol; the subject is etl, owned by owner */
	nhi = new_request(g, &a_iam1, "{\"channel\":\"chat\",\"requester\":\"carol\","
			  "\"subject\":\"etl\",\"entitlement\":\"superuser\","
			  "\"justification\":\"schema change\",\"duration\":\"30m\"}",
			  "pending_approval");
	human = new_request(g, &a_iam1, "{\"channel\":\"chat\",\"requester\":\"carol\","
			    "\"subject\":\"bob\",\"entitlement\":\"read-write\","
			    "\"justification\":\"on call\",\"duration\":\"1h\"}",
			    "pending_approval");
	before = footprint(g);
	audit_before = fx_int(g, "SELECT count(*) FROM audit_events");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_INT(fx_act(&r, g, refused[i].who, nhi, "{}", gh_gov_request_approve), GH_EDENIED);
		CHECK(strstr(gh_error_last()->message, refused[i].check) != NULL);
		CHECK(r == NULL);
		CHECK_INT(fx_act(&r, g, refused[i].who, nhi, "{\"comment\":\"no\"}",
			      gh_gov_request_reject), GH_EDENIED);
	}
	CHECK_INT(fx_act(&r, g, &a_bob, human, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(strstr(gh_error_last()->message, "not_subject") != NULL);
	/* a service-desk agent without the approver role is forbidden outright */
	CHECK_INT(fx_act(&r, g, &a_sd, nhi, "{}", gh_gov_request_approve), GH_EFORBIDDEN);
	CHECK_INT(footprint(g), before);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events"), audit_before);

	/* an uninvolved member of the group may approve; critical needs two */
	CHECK_INT(fx_act(&r, g, &a_bob, nhi, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "pending_approval");
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &a_admin, nhi, "{}", gh_gov_request_approve), GH_EDENIED);
	free(nhi);
	free(human);
	gh_gov_free(g);
}

static void test_workflow_reject__one_authorised_rejection_ends_it(void)
{
	gh_gov *g = world("reject", 0);
	json_t *r = NULL;
	char *id;
	int64_t before;

	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"dba\",\"justification\":\"curious\",\"duration\":\"1h\"}",
			 "pending_approval");
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{}", gh_gov_request_reject), GH_EINVALID);
	CHECK(fx_field_error("comment"));
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{\"comment\":\"no\",\"extra\":1}", gh_gov_request_reject),
		  GH_EINVALID);
	CHECK(fx_field_error("extra"));
	CHECK_INT(fx_act(&r, g, &a_erin, id, "{\"comment\":\"no\"}", gh_gov_request_reject),
		  GH_EDENIED);
	CHECK_INT(footprint(g), before);
	CHECK_INT(fx_act(&r, g, &a_carol, id, "{\"comment\":\"not a business need\"}",
		      gh_gov_request_reject), 0);
	CHECK_STR(fx_s(r, "state"), "rejected");
	CHECK_STR(fx_s(r, "close_reason"), "not a business need");
	CHECK(!json_is_null(json_object_get(r, "closed_at")));
	CHECK_STR(fx_s(json_array_get(json_object_get(r, "approvals"), 0), "decision"), "reject");
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{}", gh_gov_request_approve), GH_ECONFLICT);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants"), 0);
	free(id);
	gh_gov_free(g);
}

static void test_workflow_cancel__by_submitter_while_pending(void)
{
	gh_gov *g = world("cancel", 0);
	json_t *r = NULL;
	char *id, *active;
	int64_t before;

	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval");
	active = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			     "\"entitlement\":\"read-only\",\"justification\":\"x\","
			     "\"duration\":\"1h\"}", "active");
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_alice, id, "{}", gh_gov_request_cancel), GH_EINVALID);
	CHECK(fx_field_error("reason"));
	CHECK_INT(fx_act(&r, g, &a_erin, id, "{\"reason\":\"mine now\"}", gh_gov_request_cancel),
		  GH_EFORBIDDEN);
	CHECK_INT(fx_act(&r, g, &a_zed, id, "{\"reason\":\"mine now\"}", gh_gov_request_cancel),
		  GH_ENOTFOUND);
	CHECK_INT(fx_act(&r, g, &a_alice, active, "{\"reason\":\"done\"}", gh_gov_request_cancel),
		  GH_ECONFLICT);
	CHECK_INT(footprint(g), before);
	CHECK_INT(fx_act(&r, g, &a_alice, id, "{\"reason\":\"no longer needed\"}",
		      gh_gov_request_cancel), 0);
	CHECK_STR(fx_s(r, "state"), "cancelled");
	CHECK_STR(fx_s(r, "close_reason"), "no longer needed");
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &a_alice, id, "{\"reason\":\"again\"}", gh_gov_request_cancel),
		  GH_ECONFLICT);
	/* cancelled is closed: a new request for the same pair is welcome */
	free(new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval"));
	free(id);
	free(active);
	gh_gov_free(g);
}

static void test_workflow_submit__sod_conflict_is_a_recorded_denial(void)
{
	gh_gov *g = world("sod", 0);
	json_t *r = NULL, *reasons;

	free(new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"payments-create\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}", "active"));
	/* the pair is stored once (a < b); the conflict holds both ways */
	CHECK_INT(submit(&r, g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"payments-approve\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}"), 0);
	CHECK_STR(fx_s(r, "state"), "denied");
	CHECK_STR(fx_s(json_object_get(r, "decision"), "outcome"), "denied");
	reasons = json_object_get(json_object_get(r, "decision"), "reasons");
	CHECK_INT(json_array_size(reasons), 1);
	CHECK(fx_contains(json_string_value(json_array_get(reasons, 0)), "payments-create"));
	CHECK(fx_contains(json_string_value(json_array_get(reasons, 0)), "segregation of duties"));
	CHECK(json_is_null(json_object_get(r, "grant")));
	CHECK(!json_is_null(json_object_get(r, "closed_at")));
	json_decref(r);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM grants WHERE entitlement_id = 'ent_payapp'"), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'request.decided'"
			    " AND details LIKE '%%segregation%%'"), 1);
	/* another subject is free to hold it */
	free(new_request(g, &a_bob, "{\"channel\":\"portal\",\"subject\":\"bob\","
			 "\"entitlement\":\"payments-approve\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}", "active"));
	gh_gov_free(g);
}

static void test_workflow_approve__rechecks_sod_and_subject_before_granting(void)
{
	gh_gov *g = world("sod-pending", 0);
	json_t *r = NULL;
	char *first, *second, *other;
	int64_t before;

	/* longer than the maximum, so both wait for an approval */
	first = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			    "\"entitlement\":\"payments-create\",\"justification\":\"x\","
			    "\"duration\":\"2d\"}", "pending_approval");
	second = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			     "\"entitlement\":\"payments-approve\",\"justification\":\"x\","
			     "\"duration\":\"2d\"}", "pending_approval");
	other = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			    "\"entitlement\":\"read-write\",\"justification\":\"x\","
			    "\"duration\":\"1h\"}", "pending_approval");
	CHECK_INT(fx_act(&r, g, &a_bob, first, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	json_decref(r);
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_bob, second, "{}", gh_gov_request_approve), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "payments-create"));
	CHECK_INT(footprint(g), before);
	/* rejecting it is still possible */
	CHECK_INT(fx_act(&r, g, &a_bob, second, "{\"comment\":\"SoD\"}", gh_gov_request_reject), 0);
	json_decref(r);

	CHECK_INT(fx_exec(g, "UPDATE identities SET status = 'suspended' WHERE id = 'idn_alice'"), 0);
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_bob, other, "{}", gh_gov_request_approve), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "suspended"));
	CHECK_INT(footprint(g), before);
	free(first);
	free(second);
	free(other);
	gh_gov_free(g);
}

static void test_workflow_submit__refusals_name_every_field_and_change_nothing(void)
{
	gh_gov *g = world("intake", 0);
	json_t *r = NULL;
	int64_t before = footprint(g);
	static const char *const missing[] = {"ticket_ref", "requester", "subject", "entitlement",
					      "justification", "duration", "color", NULL};

	/* a service-desk agent must give a ticket and name the requester */
	CHECK_INT(submit(&r, g, &a_sd, "{\"channel\":\"servicedesk\",\"color\":\"red\"}"),
		  GH_EINVALID);
	for (int i = 0; missing[i]; i++)
		if (!CHECK(fx_field_error(missing[i])))
			fprintf(stderr, "  missing field error for %s\n", missing[i]);
	CHECK(!fx_field_error("channel"));
	CHECK(r == NULL);

	CHECK_INT(submit(&r, g, &a_admin, "{\"channel\":\"fax\",\"subject\":\"nobody\","
			 "\"entitlement\":\"nothing\",\"justification\":\"x\",\"duration\":\"0s\","
			 "\"emergency\":\"yes\",\"requester\":\"ghost\"}"), GH_EINVALID);
	CHECK(fx_field_error("channel"));
	CHECK(fx_field_error("subject"));
	CHECK(fx_field_error("entitlement"));
	CHECK(fx_field_error("duration"));
	CHECK(fx_field_error("emergency"));
	CHECK(fx_field_error("requester"));
	CHECK_INT(json_array_size(gh_error_last()->fields), 6);

	/* not requestable, and a suspended subject, in one answer */
	CHECK_INT(submit(&r, g, &a_admin, "{\"channel\":\"api\",\"subject\":\"susp\","
			 "\"entitlement\":\"backup-admin\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}"), GH_EINVALID);
	CHECK(fx_field_error("entitlement"));
	CHECK(fx_field_error("subject"));
	CHECK(strstr(gh_error_last()->message, "2 fields") != NULL);

	CHECK_INT(submit(&r, g, &a_admin, "[1]"), GH_EINVALID);
	CHECK(fx_field_error("body"));
	CHECK_INT(footprint(g), before);

	/* the same body through the desk with a ticket and a requester is fine */
	free(new_request(g, &a_sd, "{\"channel\":\"servicedesk\",\"ticket_ref\":\"INC-1042\","
			 "\"requester\":\"alice\",\"subject\":\"alice\",\"entitlement\":"
			 "\"billing-db/read-only\",\"justification\":\"x\",\"duration\":3600,"
			 "\"emergency\":false}", "active"));
	gh_gov_free(g);
}

static void test_workflow_submit__requester_acts_only_for_itself(void)
{
	gh_gov *g = world("scope", 0);
	json_t *r = NULL;
	int64_t before = footprint(g);

	CHECK_INT(submit(&r, g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"bob\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}"),
		  GH_EFORBIDDEN);
	CHECK_INT(submit(&r, g, &a_alice, "{\"channel\":\"portal\",\"requester\":\"bob\","
			 "\"subject\":\"alice\",\"entitlement\":\"read-only\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}"), GH_EFORBIDDEN);
	CHECK_INT(submit(&r, g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"etl\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}"),
		  GH_EFORBIDDEN);
	CHECK_INT(footprint(g), before);
	/* the owner may ask for its NHI */
	free(new_request(g, &a_owner, "{\"channel\":\"portal\",\"subject\":\"etl\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "active"));
	/* a duplicate of an open request conflicts (a request for access already
	 * held is an extension: test_workflow_submit__extension_supersedes_the_grant) */
	before = footprint(g);
	free(new_request(g, &a_owner, "{\"channel\":\"portal\",\"subject\":\"etl\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval"));
	CHECK_INT(submit(&r, g, &a_owner, "{\"channel\":\"portal\",\"subject\":\"etl\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\",\"duration\":\"1h\"}"),
		  GH_ECONFLICT);
	gh_gov_free(g);
}

/* An extension is a new request: decided and approved like any other, and
 * once granted it replaces the grant it extends, which ends as superseded. */
static void test_workflow_submit__extension_supersedes_the_grant(void)
{
	gh_gov *g = world("extension", 0);
	const char *body = "{\"channel\":\"portal\",\"subject\":\"etl\","
			   "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}";
	json_t *first = NULL, *second = NULL, *old = NULL, *old_req = NULL;
	char grant[GH_ID_LEN] = "";

	if (!CHECK_INT(submit(&first, g, &a_owner, body), 0))
		goto cleanup;
	snprintf(grant, sizeof(grant), "%s", fx_s(first, "grant"));
	CHECK(json_is_null(json_object_get(first, "extends")));
	if (!CHECK_INT(submit(&second, g, &a_owner, body), 0))
		goto cleanup;
	CHECK_STR(fx_s(second, "state"), "active");
	CHECK_STR(fx_s(second, "extends"), grant);
	CHECK(strcmp(fx_s(second, "grant"), grant) != 0);
	CHECK_INT(gh_gov_grant_get(&old, g, &a_admin, grant), 0);
	CHECK_STR(fx_s(old, "status"), "revoked");
	CHECK(fx_contains(fx_s(old, "revoke_reason"), "superseded by"));
	CHECK_INT(gh_gov_request_get(&old_req, g, &a_admin, fx_s(first, "id")), 0);
	CHECK_STR(fx_s(old_req, "state"), "revoked");
cleanup:
	json_decref(first);
	json_decref(second);
	json_decref(old);
	json_decref(old_req);
	gh_gov_free(g);
}

static void test_workflow_sched__expiry_revokes_and_audits(void)
{
	gh_gov *g = world("expiry", 0);
	json_t *r = NULL, *gr = NULL;
	char *id;
	int expired = -1, sla = -1;
	int64_t now = gh_now();

	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "active");
	CHECK_INT(gh_gov_request_get(&r, g, &a_alice, id), 0);
	CHECK(gh_gov_sched_next_due(g) >= now + 3600 && gh_gov_sched_next_due(g) <= gh_now() + 3600);
	CHECK_INT(gh_gov_sched_run(g, now + 60, &expired, &sla), 0);
	CHECK_INT(expired, 0);
	CHECK_INT(gh_gov_sched_run(g, now + 7200, &expired, &sla), 0);
	CHECK_INT(expired, 1);
	CHECK_INT(sla, 0);
	CHECK_INT(gh_gov_grant_get(&gr, g, &a_alice, fx_s(r, "grant")), 0);
	CHECK_STR(fx_s(gr, "status"), "expired");
	CHECK_STR(fx_s(gr, "revoked_by"), "system:scheduler");
	CHECK_STR(fx_s(gr, "revoke_reason"), "duration_elapsed");
	json_decref(gr);
	json_decref(r);
	CHECK_INT(gh_gov_request_get(&r, g, &a_alice, id), 0);
	CHECK_STR(fx_s(r, "state"), "expired");
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE actor = 'system:scheduler'"
			    " AND action IN ('grant.expired', 'request.expired')"), 2);
	json_decref(r);
	CHECK_INT(gh_gov_sched_run(g, now + 7200, &expired, &sla), 0);
	CHECK_INT(expired, 0);
	CHECK(gh_gov_sched_next_due(g) == 4102444800);   /* only the NHI etl's expiry is left */
	free(id);
	gh_gov_free(g);
}

static void test_workflow_sched__pending_past_sla_expires(void)
{
	gh_gov *g = world("sla", 3600);
	json_t *r = NULL;
	char *id;
	int expired = -1, sla = -1;
	int64_t now = gh_now();

	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval");
	CHECK(gh_gov_sched_next_due(g) <= gh_now() + 3600);
	CHECK_INT(gh_gov_sched_run(g, now + 1800, &expired, &sla), 0);
	CHECK_INT(sla, 0);
	CHECK_INT(gh_gov_sched_run(g, now + 3601, &expired, &sla), 0);
	CHECK_INT(sla, 1);
	CHECK_INT(expired, 0);
	CHECK_INT(gh_gov_request_get(&r, g, &a_alice, id), 0);
	CHECK_STR(fx_s(r, "state"), "expired");
	CHECK_STR(fx_s(r, "close_reason"), "sla_elapsed");
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{}", gh_gov_request_approve), GH_ECONFLICT);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'request.expired'"
			    " AND object_id = %Q", id), 1);
	free(id);
	gh_gov_free(g);
}

static void test_workflow_grant__revoke_needs_reason_role_and_an_active_grant(void)
{
	gh_gov *g = world("revoke", 0);
	json_t *r = NULL, *gr = NULL;
	char grant[GH_ID_LEN];
	int64_t before;

	CHECK_INT(submit(&r, g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}"),
		  0);
	snprintf(grant, sizeof(grant), "%s", fx_s(r, "grant"));
	json_decref(r);
	before = footprint(g);
	CHECK_INT(fx_act(&gr, g, &a_admin, grant, "{}", gh_gov_grant_revoke), GH_EINVALID);
	CHECK(fx_field_error("reason"));
	CHECK_INT(fx_act(&gr, g, &a_alice, grant, "{\"reason\":\"x\"}", gh_gov_grant_revoke),
		  GH_EFORBIDDEN);
	CHECK_INT(fx_act(&gr, g, &a_admin, "grt_nothing", "{\"reason\":\"x\"}", gh_gov_grant_revoke),
		  GH_ENOTFOUND);
	CHECK_INT(footprint(g), before);
	CHECK_INT(fx_act(&gr, g, &a_admin, grant, "{\"reason\":\"left the team\"}",
		      gh_gov_grant_revoke), 0);
	CHECK_STR(fx_s(gr, "status"), "revoked");
	CHECK_STR(fx_s(gr, "revoked_by"), ADMIN);
	CHECK_STR(fx_s(gr, "revoke_reason"), "left the team");
	CHECK(!json_is_null(json_object_get(gr, "revoked_at")));
	CHECK_INT(gh_gov_request_get(&r, g, &a_admin, fx_s(gr, "request")), 0);
	CHECK_STR(fx_s(r, "state"), "revoked");
	json_decref(r);
	json_decref(gr);
	CHECK_INT(fx_act(&gr, g, &a_admin, grant, "{\"reason\":\"again\"}", gh_gov_grant_revoke),
		  GH_ECONFLICT);
	/* a revoked grant no longer blocks a new request */
	free(new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "active"));
	gh_gov_free(g);
}

static void test_workflow_history__lists_the_lifecycle_in_order(void)
{
	gh_gov *g = world("history", 0);
	json_t *r = NULL, *h = NULL, *items, *ev;
	char *id;
	size_t i;
	static const char *const expect[] = {
		"request.submitted", "request.decided", "request.approval_recorded",
		"request.approved", "request.provisioning", "grant.created", "request.active",
		"grant.revoked", "request.revoked"};

	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval");
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{}", gh_gov_request_approve), 0);
	CHECK_INT(fx_act(&h, g, &a_admin, fx_s(r, "grant"), "{\"reason\":\"done\"}",
		      gh_gov_grant_revoke), 0);
	json_decref(h);
	json_decref(r);
	CHECK_INT(gh_gov_request_history(&h, g, &a_alice, id), 0);
	items = json_object_get(h, "items");
	CHECK_INT(json_array_size(items), sizeof(expect) / sizeof(expect[0]));
	json_array_foreach(items, i, ev) {
		if (i < sizeof(expect) / sizeof(expect[0]))
			CHECK_STR(fx_s(ev, "action"), expect[i]);
		if (i > 0)
			CHECK(json_integer_value(json_object_get(ev, "seq")) >
			      json_integer_value(json_object_get(json_array_get(items, i - 1), "seq")));
	}
	CHECK_STR(fx_s(json_array_get(items, 2), "actor"), BOB);
	json_decref(h);
	CHECK_INT(gh_gov_request_history(&h, g, &a_zed, id), GH_ENOTFOUND);
	CHECK_INT(gh_gov_request_history(&h, g, &a_admin, "req_nothing"), GH_ENOTFOUND);
	free(id);
	gh_gov_free(g);
}

static void test_workflow_read__requester_sees_only_its_own(void)
{
	gh_gov *g = world("reads", 0);
	json_t *r = NULL, *list = NULL;
	char *mine, *nhi;
	gh_page page = {1, NULL};

	mine = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			   "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}",
			   "active");
	nhi = new_request(g, &a_iam1, "{\"channel\":\"api\",\"requester\":\"carol\",\"subject\":"
			  "\"etl\",\"entitlement\":\"read-write\",\"justification\":\"x\","
			  "\"duration\":\"1h\"}", "pending_approval");
	CHECK_INT(gh_gov_request_get(&r, g, &a_zed, mine), GH_ENOTFOUND);
	CHECK_INT(gh_gov_request_get(&r, g, &a_alice, nhi), GH_ENOTFOUND);
	/* the owner of the subject sees the request for its NHI */
	CHECK_INT(gh_gov_request_get(&r, g, &a_owner, nhi), 0);
	json_decref(r);
	CHECK_INT(gh_gov_request_list(&list, g, &a_zed, NULL, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 0);
	json_decref(list);
	CHECK_INT(gh_gov_request_list(&list, g, &a_alice, NULL, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	json_decref(list);
	CHECK_INT(gh_gov_grant_list(&list, g, &a_zed, NULL, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 0);
	json_decref(list);
	CHECK_INT(gh_gov_grant_list(&list, g, &a_alice, NULL, "active", "alice", NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	json_decref(list);

	/* everyone else reads all; filters and paging */
	CHECK_INT(gh_gov_request_list(&list, g, &a_erin, &page, NULL, NULL, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	CHECK_STR(fx_s(list, "next"), mine);
	page.after = mine;
	json_decref(list);
	CHECK_INT(gh_gov_request_list(&list, g, &a_erin, &page, NULL, NULL, NULL), 0);
	CHECK_STR(fx_s(json_array_get(json_object_get(list, "items"), 0), "id"), nhi);
	CHECK(json_is_null(json_object_get(list, "next")));
	json_decref(list);
	CHECK_INT(gh_gov_request_list(&list, g, &a_erin, NULL, "pending_approval", "etl",
				      "read-write"), 0);
	CHECK_INT(json_array_size(json_object_get(list, "items")), 1);
	json_decref(list);
	CHECK_INT(gh_gov_request_list(&list, g, &a_erin, NULL, "bogus", "nobody", NULL),
		  GH_EINVALID);
	CHECK(fx_field_error("state"));
	CHECK(fx_field_error("subject"));
	CHECK_INT(gh_gov_grant_get(&r, g, &a_zed, "grt_nothing"), GH_ENOTFOUND);
	free(mine);
	free(nhi);
	gh_gov_free(g);
}

/* A decider that denies everything: the workflow must go through g->decider. */
static int deny_all(void *ctx, gh_decision *out, const json_t *facts)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->outcome, sizeof(out->outcome), "denied");
	snprintf(out->source, sizeof(out->source), "%s", (const char *)ctx);
	snprintf(out->policy_version, sizeof(out->policy_version), "v7");
	out->reasons = json_pack("[s]", json_string_value(json_object_get(
					     json_object_get(facts, "request"), "channel")));
	return out->reasons ? 0 : GH_ERROR;
}

static void test_workflow_decide__goes_through_the_decider_interface(void)
{
	gh_gov *g = world("decider", 0);
	json_t *r = NULL, *d;
	gh_decision dec = {0};
	json_t *facts;

	g->decider = (gh_decider){"test", deny_all, "test-policy", NULL};
	CHECK_INT(submit(&r, g, &a_alice, "{\"channel\":\"chat\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}"),
		  0);
	d = json_object_get(r, "decision");
	CHECK_STR(fx_s(r, "state"), "denied");
	CHECK_STR(fx_s(d, "source"), "test-policy");
	CHECK_STR(fx_s(d, "policy_version"), "v7");
	CHECK_STR(json_string_value(json_array_get(json_object_get(d, "reasons"), 0)), "chat");
	json_decref(r);

	/* the built-in rule on facts alone */
	facts = json_pack("{s:{s:s,s:s}, s:{s:s,s:s,s:I,s:b}, s:{s:I}}",
			  "subject", "name", "x", "status", "active",
			  "entitlement", "name", "e", "risk_tier", "critical",
			  "max_duration_seconds", (json_int_t)3600, "requestable", 1,
			  "request", "duration_seconds", (json_int_t)60);
	CHECK_INT(gh_builtin_decider.decide(NULL, &dec, facts), 0);
	CHECK_STR(dec.outcome, "approval_required");
	CHECK_INT(dec.required_approvals, 2);
	CHECK_INT(dec.max_duration, 3600);
	gh_decision_clear(&dec);
	json_object_set_new(json_object_get(facts, "entitlement"), "requestable", json_false());
	json_object_set_new(json_object_get(facts, "subject"), "status", json_string("suspended"));
	CHECK_INT(gh_builtin_decider.decide(NULL, &dec, facts), 0);
	CHECK_STR(dec.outcome, "denied");
	CHECK_INT(json_array_size(dec.reasons), 2);
	CHECK(fx_contains(json_string_value(json_array_get(dec.reasons, 0)), "is not requestable"));
	gh_decision_clear(&dec);
	json_decref(facts);
	gh_gov_free(g);
}

static void test_workflow_approve__policy_permitting_self_approval_changes_nothing(void)
{
	gh_gov *g = world("selfapprove", 0);
	fx_answers p = {.allow_approve = 1};
	json_t *r = NULL;
	char *mine, *nhi;
	int64_t before;

	fx_install(g, &p);
	/* bob is in dba-owners and submits for himself; owner owns etl */
	mine = new_request(g, &a_bob, "{\"channel\":\"api\",\"subject\":\"bob\","
			   "\"entitlement\":\"read-write\",\"justification\":\"x\","
			   "\"duration\":\"1h\"}", "pending_approval");
	nhi = new_request(g, &a_iam1, "{\"channel\":\"api\",\"subject\":\"etl\","
			  "\"entitlement\":\"read-write\",\"justification\":\"x\","
			  "\"duration\":\"1h\"}", "pending_approval");
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_bob, mine, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "not_submitter"));
	CHECK_INT(fx_act(&r, g, &a_owner, nhi, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "not_subject_owner"));
	CHECK_INT(fx_act(&r, g, &a_dave, nhi, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "not_servicedesk"));
	CHECK_INT(fx_act(&r, g, &a_erin, nhi, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "in_control_owner_group"));
	CHECK_INT(footprint(g), before);
	/* a legitimate approver passes, and the policy's answer is stored with it */
	CHECK_INT(fx_act(&r, g, &a_carol, mine, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	CHECK_STR(fx_s(json_array_get(json_object_get(json_object_get(json_array_get(
			json_object_get(r, "approvals"), 0), "policy"), "determining"), 0), "policy"),
		  "policy0");
	json_decref(r);
	free(mine);
	free(nhi);
	gh_gov_free(g);
}

static void test_workflow_approve__denied_by_policy_after_the_invariants(void)
{
	gh_gov *g = world("approvepolicy", 0);
	fx_answers p = {.allow_approve = 0};
	json_t *r = NULL;
	char *id;
	int64_t before;

	fx_install(g, &p);
	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}", "pending_approval");
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message,
		       "policy_permits_approve: policy1 forbids"));
	/* the invariants still come first */
	CHECK_INT(fx_act(&r, g, &a_erin, id, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "in_control_owner_group"));
	CHECK_INT(footprint(g), before);
	/* a rejection is not an approval: policy does not gate it */
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{\"comment\":\"no\"}", gh_gov_request_reject), 0);
	CHECK_STR(fx_s(r, "state"), "rejected");
	json_decref(r);
	free(id);
	gh_gov_free(g);
}

static void test_workflow_approve__approver_group_from_policy_binds_every_approver(void)
{
	gh_gov *g = world("approvergroup", 0);
	fx_answers p = {.allow_approve = 1, .approver_group = "dba-leads"};
	json_t *r = NULL, *groups;
	char *id;
	int64_t before;

	fx_install(g, &p);
	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}", "pending_approval");
	CHECK_INT(gh_gov_request_get(&r, g, &a_admin, id), 0);
	groups = json_object_get(json_object_get(r, "decision"), "approver_groups");
	CHECK_INT(json_array_size(groups), 1);
	CHECK_STR(json_string_value(json_array_get(groups, 0)), "grp_leads");
	json_decref(r);
	/* bob owns the entitlement's group, but is not in dba-leads */
	before = footprint(g);
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{}", gh_gov_request_approve), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "in_approver_group"));
	CHECK_INT(footprint(g), before);
	CHECK_INT(fx_act(&r, g, &a_carol, id, "{}", gh_gov_request_approve), 0);
	CHECK_STR(fx_s(r, "state"), "active");
	CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(
			json_object_get(r, "approvals"), 0), "checks"), 5)), "in_approver_group");
	json_decref(r);
	free(id);
	/* a group that does not exist denies at submit (fail closed) */
	p.approver_group = "no-such-group";
	CHECK_INT(submit(&r, g, &a_bob, "{\"channel\":\"portal\",\"subject\":\"bob\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\","
			 "\"duration\":\"1h\"}"), 0);
	CHECK_STR(fx_s(r, "state"), "denied");
	CHECK(fx_contains(json_string_value(json_array_get(json_object_get(json_object_get(r,
			"decision"), "reasons"), 1)), "approver group \"no-such-group\""));
	json_decref(r);
	gh_gov_free(g);
}

static void test_workflow_audit__lists_pages_and_the_chain_verifies(void)
{
	gh_gov *g = world("audit", 3600);
	json_t *r = NULL, *page = NULL;
	gh_audit_report rep;
	char *id;
	int expired, sla;

	/* a bit of everything */
	free(new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "active"));
	id = new_request(g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"dba\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval");
	CHECK_INT(fx_act(&r, g, &a_bob, id, "{}", gh_gov_request_approve), 0);
	json_decref(r);
	CHECK_INT(fx_act(&r, g, &a_carol, id, "{}", gh_gov_request_approve), 0);
	json_decref(r);
	free(id);
	free(new_request(g, &a_bob, "{\"channel\":\"portal\",\"subject\":\"bob\","
			 "\"entitlement\":\"read-write\",\"justification\":\"x\",\"duration\":\"1h\"}",
			 "pending_approval"));
	CHECK_INT(gh_gov_sched_run(g, gh_now() + 86400, &expired, &sla), 0);
	CHECK_INT(expired, 2);
	CHECK_INT(sla, 1);
	CHECK_INT(gh_audit_verify(&rep, gh_gov_store(g)), 0);
	CHECK_INT(rep.events, fx_int(g, "SELECT count(*) FROM audit_events"));

	CHECK_INT(gh_gov_audit_list(&page, g, &a_auditor, 0, 3, NULL), 0);
	CHECK_INT(json_array_size(json_object_get(page, "items")), 3);
	CHECK_INT(json_integer_value(json_object_get(page, "next_after_seq")), 3);
	json_decref(page);
	CHECK_INT(gh_gov_audit_list(&page, g, &a_auditor, 3, 500, NULL), 0);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(page, "items"),
								    0), "seq")), 4);
	CHECK_INT((int64_t)json_array_size(json_object_get(page, "items")), rep.events - 3);
	CHECK(json_is_null(json_object_get(page, "next_after_seq")));
	json_decref(page);
	CHECK_INT(gh_gov_audit_list(&page, g, &a_alice, 0, 10, NULL), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_audit_list(&page, g, &a_auditor, -1, 5000, NULL), GH_EINVALID);
	CHECK(fx_field_error("limit"));
	CHECK(fx_field_error("after_seq"));
	gh_gov_free(g);
}

static void test_workflow_sched__thread_expires_a_short_grant(void)
{
	gh_gov *g = world("thread", 0);
	json_t *r = NULL;
	char grant[GH_ID_LEN] = "";
	struct timespec pause = {0, 50 * 1000000L};
	int64_t status_expired = 0;

	gh_gov_sched_stop(g); /* safe before start */
	CHECK_INT(gh_gov_sched_start(g, 200), 0);
	CHECK_INT(gh_gov_sched_start(g, 200), GH_ECONFLICT);
	CHECK_INT(submit(&r, g, &a_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			 "\"entitlement\":\"read-only\",\"justification\":\"x\",\"duration\":\"1s\"}"),
		  0);
	snprintf(grant, sizeof(grant), "%s", fx_s(r, "grant"));
	json_decref(r);
	/* at most 5 s: 100 pauses of 50 ms */
	for (int i = 0; i < 100 && !status_expired; i++) {
		nanosleep(&pause, NULL);
		status_expired = fx_int(g, "SELECT count(*) FROM grants WHERE id = %Q"
					   " AND status = 'expired'", grant);
	}
	CHECK_INT(status_expired, 1);
	gh_gov_sched_stop(g);
	gh_gov_sched_stop(g);
	CHECK_INT(gh_gov_sched_start(g, 100), 0);
	gh_gov_free(g); /* stops it */
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_workflow_submit__low_risk_auto_grant_expiry_is_capped",
		 test_workflow_submit__low_risk_auto_grant_expiry_is_capped},
		{"test_workflow_approve__medium_needs_one_high_two_distinct",
		 test_workflow_approve__medium_needs_one_high_two_distinct},
		{"test_workflow_approve__every_invariant_refuses_and_changes_nothing",
		 test_workflow_approve__every_invariant_refuses_and_changes_nothing},
		{"test_workflow_reject__one_authorised_rejection_ends_it",
		 test_workflow_reject__one_authorised_rejection_ends_it},
		{"test_workflow_cancel__by_submitter_while_pending",
		 test_workflow_cancel__by_submitter_while_pending},
		{"test_workflow_submit__sod_conflict_is_a_recorded_denial",
		 test_workflow_submit__sod_conflict_is_a_recorded_denial},
		{"test_workflow_approve__rechecks_sod_and_subject_before_granting",
		 test_workflow_approve__rechecks_sod_and_subject_before_granting},
		{"test_workflow_submit__refusals_name_every_field_and_change_nothing",
		 test_workflow_submit__refusals_name_every_field_and_change_nothing},
		{"test_workflow_submit__requester_acts_only_for_itself",
		 test_workflow_submit__requester_acts_only_for_itself},
		{"test_workflow_submit__extension_supersedes_the_grant", test_workflow_submit__extension_supersedes_the_grant},
		{"test_workflow_sched__expiry_revokes_and_audits",
		 test_workflow_sched__expiry_revokes_and_audits},
		{"test_workflow_sched__pending_past_sla_expires",
		 test_workflow_sched__pending_past_sla_expires},
		{"test_workflow_grant__revoke_needs_reason_role_and_an_active_grant",
		 test_workflow_grant__revoke_needs_reason_role_and_an_active_grant},
		{"test_workflow_history__lists_the_lifecycle_in_order",
		 test_workflow_history__lists_the_lifecycle_in_order},
		{"test_workflow_read__requester_sees_only_its_own",
		 test_workflow_read__requester_sees_only_its_own},
		{"test_workflow_decide__goes_through_the_decider_interface",
		 test_workflow_decide__goes_through_the_decider_interface},
		{"test_workflow_approve__policy_permitting_self_approval_changes_nothing",
		 test_workflow_approve__policy_permitting_self_approval_changes_nothing},
		{"test_workflow_approve__denied_by_policy_after_the_invariants",
		 test_workflow_approve__denied_by_policy_after_the_invariants},
		{"test_workflow_approve__approver_group_from_policy_binds_every_approver",
		 test_workflow_approve__approver_group_from_policy_binds_every_approver},
		{"test_workflow_audit__lists_pages_and_the_chain_verifies",
		 test_workflow_audit__lists_pages_and_the_chain_verifies},
		{"test_workflow_sched__thread_expires_a_short_grant",
		 test_workflow_sched__thread_expires_a_short_grant},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
