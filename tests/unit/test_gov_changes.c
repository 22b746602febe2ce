/* test_gov_changes.c - four eyes on weakening changes (change.c): which
 * writes are proposed and which apply at once, who may confirm or withdraw
 * a proposal, stale proposals, and no auto-approval for whoever last
 * changed an entitlement's controls (built-in rule and Cedar). */
#include "fake_connector.h"

#include <stdlib.h>

/* fx_admin proposes; these are the second admin/iam people */
static const gh_actor ivy = {"idn_ivy", GH_ROLE_IAM};
static const gh_actor root2 = {"idn_root2", GH_ROLE_ADMIN};
/* an iam person who is also in the fixture's estate (bob, an owner) */
static const gh_actor bob_iam = {"idn_bob", GH_ROLE_IAM | GH_ROLE_APPROVER};
static const gh_actor carol_iam = {"idn_carol", GH_ROLE_IAM};
static const gh_actor erin_iam = {"idn_erin", GH_ROLE_IAM};

/* Everything a change could touch, as text: equal text, nothing changed. */
static char *state_text(gh_gov *g)
{
	static const char *const sql =
		"SELECT coalesce((SELECT group_concat(id || risk_tier || requestable || max_duration"
		" || control_owner_group_id || attributes || updated_at || controls_changed_by"
		" || coalesce(description, ''), ';') FROM entitlements), '')"
		" || '|' || coalesce((SELECT group_concat(id || coalesce(owner_id, '') || updated_at"
		" || coalesce(purpose, ''), ';') FROM identities), '')"
		" || '|' || coalesce((SELECT group_concat(group_id || member_type || member_id, ';')"
		" FROM group_members), '')"
		" || '|' || coalesce((SELECT group_concat(id || connector || connector_settings"
		" || updated_at, ';') FROM systems), '')"
		" || '|' || coalesce((SELECT group_concat(a || b, ';') FROM entitlement_conflicts), '')"
		" || '|' || (SELECT count(*) FROM requests) || (SELECT count(*) FROM grants)";
	char *pg = sf_pg_dialect(sql), *out;

	/* group_concat is string_agg on PostgreSQL */
	out = pg ? sf_text(gh_gov_store(g), sf_on_postgres() ? pg : sql, NULL, NULL) : NULL;
	free(pg);
	return out ? out : strdup("?");
}

static int64_t audit_count(gh_gov *g)
{
	return fx_int(g, "SELECT count(*) FROM audit_events");
}

/* A write expected to be proposed with one weakened field, changing nothing
 * but the change row and its change.proposed event. The change's id into id. */
static int proposes(gh_gov *g, const gh_actor *a, const char *ref, const char *body,
		    int (*fn)(json_t **, gh_gov *, const gh_actor *, const char *, const json_t *),
		    const char *field, char id[GH_ID_LEN])
{
	char *before = state_text(g), *after;
	int64_t events = audit_count(g), changes = fx_int(g, "SELECT count(*) FROM changes");
	json_t *out = NULL, *ch;
	int ok;

	ok = CHECK_INT(fx_act(&out, g, a, ref, body, fn), GH_PROPOSED);
	ch = json_object_get(out, "change");
	ok &= CHECK_STR(fx_s(ch, "state"), "proposed") &&
	      CHECK_STR(fx_s(json_array_get(json_object_get(ch, "weakens"), 0), "field"), field) &&
	      CHECK(fx_contains(fx_s(out, "detail"), "second admin or iam person"));
	if (id)
		snprintf(id, GH_ID_LEN, "%s", fx_s(ch, "id"));
	after = state_text(g);
	ok &= CHECK_STR(after, before);
	ok &= CHECK_INT(audit_count(g), events + 1);
	ok &= CHECK_INT(fx_int(g, "SELECT count(*) FROM changes"), changes + 1);
	if (!ok)
		fprintf(stderr, "  %s %s: %s\n", ref, body, gh_error_last()->message);
	free(before);
	free(after);
	json_decref(out);
	return ok;
}

static int applies(gh_gov *g, const gh_actor *a, const char *ref, const char *body,
		   int (*fn)(json_t **, gh_gov *, const gh_actor *, const char *, const json_t *))
{
	json_t *out = NULL;
	int rc = fx_act(&out, g, a, ref, body, fn), ok;

	ok = CHECK_INT(rc, 0) && CHECK(out != NULL && !json_object_get(out, "change"));
	if (!ok)
		fprintf(stderr, "  %s %s: %s\n", ref, body, gh_error_last()->message);
	json_decref(out);
	return ok;
}

static int confirm(gh_gov *g, const gh_actor *a, const char *id)
{
	json_t *out = NULL;
	int rc = gh_gov_change_confirm(&out, g, a, id, NULL);

	CHECK(rc ? out == NULL : out != NULL);
	json_decref(out);
	return rc;
}

static int withdraw(gh_gov *g, const gh_actor *a, const char *id, const char *body)
{
	json_t *out = NULL, *in = json_loads(body, 0, NULL);
	int rc = gh_gov_change_withdraw(&out, g, a, id, in);

	json_decref(in);
	json_decref(out);
	return rc;
}

static char *controls_of(gh_gov *g, const char *ent)
{
	char *out = sf_text(gh_gov_store(g), "SELECT controls_changed_by FROM entitlements"
				       " WHERE id = ?1", ent, NULL);

	return out ? out : strdup("?");
}

#define ENT_UPDATE gh_gov_entitlement_update
#define SYS_UPDATE gh_gov_system_update
#define IDN_UPDATE gh_gov_identity_update
#define ADD_MEMBER gh_gov_group_add_member

/* Proposed (as proposes), then withdrawn so that the object is free again. */
static void weakens(gh_gov *g, const gh_actor *a, const char *ref, const char *body,
		    int (*fn)(json_t **, gh_gov *, const gh_actor *, const char *, const json_t *),
		    const char *field)
{
	char id[GH_ID_LEN] = "";

	if (proposes(g, a, ref, body, fn, field, id))
		CHECK_INT(withdraw(g, a, id, "{\"reason\":\"only a test\"}"), 0);
}

static void test_changes_detect__each_weakening_is_proposed(void)
{
	gh_gov *g = fake_world("chg_detect");
	json_t *out = NULL;

	if (!g)
		return;
	/* a target, a conflict and a delegation to take away later */
	CHECK(fx_exec(g, "UPDATE entitlements SET attributes = '{\"target\":\"ro\"}' WHERE id ="
		      " 'ent_low';"
		      "INSERT INTO entitlement_conflicts(a, b) VALUES ('ent_low', 'ent_med');"
		      "UPDATE entitlements SET requestable = 0 WHERE id = 'ent_web';"
		      "INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		      " ('grp_free','book-club',0,0), ('grp_sub','dba-interns',0,0);"
		      "INSERT INTO group_members(group_id, member_type, member_id, added_at) VALUES"
		      " ('grp_leads','group','grp_sub',0);"
		      "INSERT INTO delegations(id, from_group_id, to_group_id, scope_type, scope,"
		      " reason, expires_at, created_by, created_at) VALUES ('dlg_1','grp_owners',"
		      " 'grp_cover','system','sys_db','holiday',4102444800,'idn_admin',0);") == 0);
	weakens(g, &fx_admin, "ent_med", "{\"risk_tier\":\"low\"}", ENT_UPDATE, "risk_tier");
	weakens(g, &fx_admin, "ent_web", "{\"requestable\":true}", ENT_UPDATE, "requestable");
	weakens(g, &fx_admin, "ent_other", "{\"max_duration\":\"2d\"}", ENT_UPDATE,
		"max_duration");
	weakens(g, &ivy, "ent_low", "{\"control_owner_group\":\"cover\"}", ENT_UPDATE,
		"control_owner_group");
	weakens(g, &root2, "ent_med", "{\"incompatible_with\":[]}", ENT_UPDATE,
		"incompatible_with");
	weakens(g, &carol_iam, "ent_low", "{\"attributes\":{\"target\":\"rw\"}}", ENT_UPDATE,
		"attributes.target");
	/* a mixed body is proposed as a whole: the description waits too */
	weakens(g, &fx_admin, "ent_other", "{\"max_duration\":\"2d\",\"description\":\"x\"}",
		ENT_UPDATE, "max_duration");
	weakens(g, &fx_admin, "etl", "{\"owner\":\"bob\",\"purpose\":\"new\"}", IDN_UPDATE,
		"owner");
	weakens(g, &fx_admin, "web", "{\"connector\":\"credential\"}", SYS_UPDATE, "connector");
	weakens(g, &fx_admin, "billing-db", "{\"connector_settings\":{\"note\":\"n\"}}",
		SYS_UPDATE, "connector_settings");
	/* members: the control-owner group, a group nested in it (twice down),
	 * a live delegation's to_group; a group added counts like an identity */
	weakens(g, &fx_admin, "dba-owners", "{\"identity\":\"alice\"}", ADD_MEMBER, "members");
	weakens(g, &fx_admin, "dba-interns", "{\"identity\":\"alice\"}", ADD_MEMBER, "members");
	weakens(g, &fx_admin, "cover", "{\"identity\":\"alice\"}", ADD_MEMBER, "members");
	weakens(g, &fx_admin, "dba-leads", "{\"group\":\"book-club\"}", ADD_MEMBER, "members");
	/* a refused body is refused, not proposed */
	CHECK_INT(fx_act(&out, g, &ivy, "ent_med", "{\"risk_tier\":\"tiny\"}", ENT_UPDATE),
		  GH_EINVALID);
	CHECK(out == NULL);
	CHECK(fx_field_error("risk_tier"));
	CHECK_INT(fx_int(g, "SELECT count(*) FROM changes WHERE state = 'proposed'"), 0);
	gh_gov_free(g);
}

static void test_changes_detect__strengthening_applies_at_once(void)
{
	gh_gov *g = fx_world("chg_strong");
	json_t *out = NULL;
	char *who;

	if (!g)
		return;
	applies(g, &ivy, "ent_low", "{\"risk_tier\":\"high\"}", ENT_UPDATE);
	applies(g, &ivy, "ent_med", "{\"requestable\":false}", ENT_UPDATE);
	applies(g, &ivy, "ent_web", "{\"max_duration\":\"1h\"}", ENT_UPDATE);
	applies(g, &ivy, "ent_other", "{\"incompatible_with\":[\"ent_web\"]}", ENT_UPDATE);
	applies(g, &ivy, "ent_other", "{\"description\":\"nothing to do with controls\","
		"\"tags\":[\"x\"],\"data_sensitivity\":\"restricted\"}", ENT_UPDATE);
	applies(g, &ivy, "etl", "{\"purpose\":\"another\"}", IDN_UPDATE);
	applies(g, &ivy, "billing-db", "{\"description\":\"db\",\"owner\":\"bob\"}", SYS_UPDATE);
	/* a group that decides nothing takes members at once */
	CHECK(fx_exec(g, "INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		      " ('grp_free','book-club',0,0);") == 0);
	applies(g, &ivy, "book-club", "{\"identity\":\"alice\"}", ADD_MEMBER);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM changes"), 0);
	/* the actor of a control change applied at once is recorded; other
	 * fields leave the record alone */
	who = controls_of(g, "ent_low");
	CHECK_STR(who, "[\"idn_ivy\"]");
	free(who);
	CHECK(fx_exec(g, "UPDATE entitlements SET controls_changed_by = '[]' WHERE id ="
		      " 'ent_other'") == 0);
	applies(g, &fx_admin, "ent_other", "{\"description\":\"again\"}", ENT_UPDATE);
	who = controls_of(g, "ent_other");
	CHECK_STR(who, "[]");
	free(who);
	/* the creator of an entitlement */
	CHECK_INT(fx_body(&out, g, &ivy, "{\"system\":\"web\",\"name\":\"view\",\"risk_tier\":"
			  "\"low\",\"data_sensitivity\":\"internal\",\"environment\":\"prod\","
			  "\"control_owner_group\":\"dba-owners\",\"max_duration\":\"8h\"}",
			  gh_gov_entitlement_create), 0);
	who = controls_of(g, fx_s(out, "id"));
	CHECK_STR(who, "[\"idn_ivy\"]");
	free(who);
	json_decref(out);
	gh_gov_free(g);
}

static void test_changes_confirm__who_may_confirm_and_withdraw(void)
{
	gh_gov *g = fx_world("chg_confirm");
	char own[GH_ID_LEN], mem[GH_ID_LEN], grp[GH_ID_LEN], risk[GH_ID_LEN];
	json_t *out = NULL;
	char *who;

	if (!g)
		return;
	CHECK(fx_exec(g, "INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		      " ('grp_crew','crew',0,0);"
		      "INSERT INTO group_members(group_id, member_type, member_id, added_at) VALUES"
		      " ('grp_crew','group','grp_cover',0);") == 0);
	proposes(g, &fx_admin, "etl", "{\"owner\":\"carol\"}", IDN_UPDATE, "owner", own);
	proposes(g, &fx_admin, "dba-owners", "{\"identity\":\"dave\"}", ADD_MEMBER, "members",
		 mem);
	proposes(g, &fx_admin, "dba-owners", "{\"group\":\"crew\"}", ADD_MEMBER, "members", grp);
	proposes(g, &ivy, "ent_med", "{\"risk_tier\":\"low\"}", ENT_UPDATE, "risk_tier", risk);

	/* the proposer, a role without inventory writes, the beneficiaries */
	CHECK_INT(confirm(g, &fx_admin, own), GH_EDENIED);
	CHECK(fx_contains(gh_error_last()->message, "second person"));
	CHECK_INT(confirm(g, &fx_bob, own), GH_EFORBIDDEN);
	CHECK_INT(confirm(g, &fx_auditor, own), GH_EFORBIDDEN);
	CHECK_INT(confirm(g, &carol_iam, own), GH_EDENIED);       /* the new owner */
	CHECK(fx_contains(gh_error_last()->message, "benefit"));
	CHECK_INT(confirm(g, &(gh_actor){"idn_dave", GH_ROLE_IAM}, mem), GH_EDENIED);
	CHECK_INT(confirm(g, &carol_iam, grp), GH_EDENIED);       /* crew > cover > carol */
	CHECK_INT(confirm(g, &ivy, risk), GH_EDENIED);
	CHECK_INT(confirm(g, &fx_admin, "chg_nope"), GH_ENOTFOUND);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM changes WHERE state = 'proposed'"), 4);

	/* the same again answers the open change; another one is refused */
	CHECK_INT(fx_act(&out, g, &root2, "etl", "{\"owner\":\"carol\"}", IDN_UPDATE), GH_PROPOSED);
	CHECK_STR(fx_s(json_object_get(out, "change"), "id"), own);
	CHECK_STR(fx_s(json_object_get(out, "change"), "proposed_by"), "idn_admin");
	json_decref(out);
	CHECK_INT(fx_act(&out, g, &root2, "etl", "{\"owner\":\"dave\"}", IDN_UPDATE), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, own));

	/* a second person confirms: applied with the usual events */
	CHECK_INT(confirm(g, &erin_iam, own), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM identities WHERE id = 'idn_etl' AND owner_id ="
			 " 'idn_carol'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action ="
			 " 'identity.owner_transferred' AND actor = 'idn_erin'"), 1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action ="
			 " 'change.confirmed' AND object_id = '%s'", own), 1);
	CHECK_INT(confirm(g, &root2, own), GH_ECONFLICT);          /* no longer proposed */
	CHECK_INT(withdraw(g, &root2, own, "{\"reason\":\"late\"}"), GH_ECONFLICT);

	/* the lowered tier confirmed: proposer and confirmer are recorded */
	CHECK_INT(confirm(g, &bob_iam, risk), 0);
	who = controls_of(g, "ent_med");
	CHECK_STR(who, "[\"idn_ivy\",\"idn_bob\"]");
	free(who);

	/* withdraw: a reason, the proposer or admin/iam, only once */
	CHECK_INT(withdraw(g, &fx_admin, mem, "{}"), GH_EINVALID);
	CHECK(fx_field_error("reason"));
	CHECK_INT(withdraw(g, &fx_bob, mem, "{\"reason\":\"no\"}"), GH_EFORBIDDEN);
	CHECK_INT(withdraw(g, &ivy, mem, "{\"reason\":\"not needed\"}"), 0);
	CHECK_INT(withdraw(g, &ivy, mem, "{\"reason\":\"again\"}"), GH_ECONFLICT);
	CHECK_INT(confirm(g, &ivy, mem), GH_ECONFLICT);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM audit_events WHERE action = 'change.withdrawn'"),
		  1);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM group_members WHERE member_id = 'idn_dave'"
			 " AND group_id = 'grp_owners'"), 0);

	/* lists and reads */
	CHECK_INT(gh_gov_change_list(&out, g, &fx_auditor, NULL, "proposed", NULL), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);
	CHECK_INT(gh_gov_change_list(&out, g, &fx_auditor, NULL, NULL, "grp_owners"), 0);
	CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
	json_decref(out);
	CHECK_INT(gh_gov_change_list(&out, g, &fx_auditor, NULL, "open", NULL), GH_EINVALID);
	CHECK(fx_field_error("state"));
	CHECK_INT(gh_gov_change_get(&out, g, &fx_bob, own), GH_EFORBIDDEN);
	CHECK_INT(gh_gov_change_get(&out, g, &fx_auditor, own), 0);
	CHECK_STR(fx_s(out, "state"), "confirmed");
	CHECK_STR(fx_s(out, "decided_by"), "idn_erin");
	json_decref(out);
	gh_gov_free(g);
}

static void test_changes_confirm__stale_proposals_are_refused(void)
{
	gh_gov *g = fx_world("chg_stale");
	char a[GH_ID_LEN], b[GH_ID_LEN], m1[GH_ID_LEN], m2[GH_ID_LEN];
	char *before, *after;

	if (!g)
		return;
	/* the object changed after the proposal (another field) */
	proposes(g, &fx_admin, "ent_med", "{\"risk_tier\":\"low\"}", ENT_UPDATE, "risk_tier", a);
	CHECK(fx_exec(g, "UPDATE entitlements SET description = 'x', updated_at = updated_at + 1"
		      " WHERE id = 'ent_med'") == 0);
	before = state_text(g);
	CHECK_INT(confirm(g, &ivy, a), GH_ECONFLICT);
	CHECK(fx_contains(gh_error_last()->message, "propose again"));
	after = state_text(g);
	CHECK_STR(after, before);
	free(before);
	free(after);
	/* the control itself changed in the same second: still refused */
	proposes(g, &fx_admin, "ent_low", "{\"max_duration\":\"1d\"}", ENT_UPDATE, "max_duration",
		 b);
	CHECK(fx_exec(g, "UPDATE entitlements SET max_duration = 3600 WHERE id = 'ent_low'") == 0);
	CHECK_INT(confirm(g, &ivy, b), GH_ECONFLICT);
	CHECK_INT(fx_int(g, "SELECT max_duration FROM entitlements WHERE id = 'ent_low'"), 3600);
	/* members: another member confirmed first leaves a proposal valid; the
	 * same member added meanwhile makes it stale */
	proposes(g, &fx_admin, "dba-owners", "{\"identity\":\"alice\"}", ADD_MEMBER, "members", m1);
	proposes(g, &fx_admin, "dba-owners", "{\"identity\":\"dave\"}", ADD_MEMBER, "members", m2);
	CHECK_INT(confirm(g, &ivy, m1), 0);
	CHECK_INT(confirm(g, &ivy, m2), 0);
	CHECK_INT(fx_int(g, "SELECT count(*) FROM group_members WHERE group_id = 'grp_owners'"
			 " AND member_id IN ('idn_alice', 'idn_dave')"), 2);
	proposes(g, &fx_admin, "dba-leads", "{\"identity\":\"carol\"}", ADD_MEMBER, "members",
		 m1);
	CHECK(fx_exec(g, "INSERT INTO group_members(group_id, member_type, member_id, added_at)"
		      " VALUES ('grp_leads','identity','idn_carol',0)") == 0);
	CHECK_INT(confirm(g, &ivy, m1), GH_ECONFLICT);
	gh_gov_free(g);
}

/* The decision of request id, as stored. */
static json_t *decision_of(gh_gov *g, const char *id)
{
	json_t *r = NULL, *d = NULL;

	if (gh_gov_request_get(&r, g, &fx_admin, id) == 0)
		d = json_incref(json_object_get(r, "decision"));
	json_decref(r);
	return d;
}

static void controls_rule(gh_gov *g)
{
	char *r1, *r2, *r3, *r4, *r5;
	char risk[GH_ID_LEN];
	json_t *d;

	/* bob (iam here) lowers ent_med, carol confirms: neither is auto-approved,
	 * nor an NHI bob owns, nor what bob submits for alice; alice herself is */
	CHECK(fx_exec(g, "UPDATE identities SET owner_id = 'idn_bob' WHERE id = 'idn_etl'") == 0);
	proposes(g, &bob_iam, "ent_med", "{\"risk_tier\":\"low\"}", ENT_UPDATE, "risk_tier", risk);
	CHECK_INT(confirm(g, &carol_iam, risk), 0);
	r1 = fx_request(g, &fx_bob, "{\"channel\":\"portal\",\"subject\":\"bob\",\"entitlement\":"
			"\"ent_med\",\"justification\":\"j\",\"duration\":\"1h\"}",
			"pending_approval");
	r2 = fx_request(g, &fx_carol, "{\"channel\":\"portal\",\"subject\":\"carol\","
			"\"entitlement\":\"ent_med\",\"justification\":\"j\",\"duration\":\"1h\"}",
			"pending_approval");
	r3 = fx_request(g, &fx_admin, "{\"channel\":\"portal\",\"subject\":\"etl\","
			"\"requester\":\"dave\",\"entitlement\":\"ent_med\",\"justification\":\"j\","
			"\"duration\":\"1h\"}", "pending_approval");
	r4 = fx_request(g, &bob_iam, "{\"channel\":\"portal\",\"subject\":\"alice\","
			"\"requester\":\"alice\",\"entitlement\":\"ent_med\",\"justification\":\"j\","
			"\"duration\":\"1h\"}", "pending_approval");
	r5 = fx_request(g, &fx_alice, "{\"channel\":\"portal\",\"subject\":\"alice\","
			"\"entitlement\":\"ent_low\",\"justification\":\"j\",\"duration\":\"1h\"}",
			"active");
	if (r1 && (d = decision_of(g, r1))) {
		CHECK_STR(fx_s(d, "outcome"), "approval_required");
		CHECK_INT(json_integer_value(json_object_get(d, "required_approvals")), 1);
		CHECK(fx_contains(fx_s(d, "controls_changed_by"), "requester (idn_bob)"));
		json_decref(d);
	}
	if (r3 && (d = decision_of(g, r3))) {
		CHECK(fx_contains(fx_s(d, "controls_changed_by"), "subject's owner (idn_bob)"));
		json_decref(d);
	}
	if (r4 && (d = decision_of(g, r4))) {
		CHECK(fx_contains(fx_s(d, "controls_changed_by"), "submitter (idn_bob)"));
		json_decref(d);
	}
	/* a human approval makes it: dave is outside dba-owners, erin inside */
	if (r1) {
		json_t *out = NULL;

		json_t *in = json_object();

		CHECK_INT(gh_gov_request_approve(&out, g, &fx_erin, r1, in), 0);
		json_decref(in);
		CHECK_STR(fx_s(out, "state"), "active");
		json_decref(out);
	}
	free(r1);
	free(r2);
	free(r3);
	free(r4);
	free(r5);
}

static void test_changes_controls__builtin_rule_holds_auto_approval(void)
{
	gh_gov *g = fx_world("chg_builtin");

	if (!g)
		return;
	controls_rule(g);
	gh_gov_free(g);
}

static void test_changes_controls__cedar_auto_approve_is_held_too(void)
{
	static const char policies[] = "permit(principal, action, resource);";
	gh_gov *g = fx_world("chg_cedar");
	char err[300] = "";

	if (!g)
		return;
	if (!CHECK_INT(gov_cedar_decider_new(&g->decider, policies, strlen(policies), "v-test",
					     err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n", err);
		gh_gov_free(g);
		return;
	}
	controls_rule(g);
	gov_cedar_decider_free(&g->decider);
	gh_gov_free(g);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"changes_detect__each_weakening_is_proposed",
		 test_changes_detect__each_weakening_is_proposed},
		{"changes_detect__strengthening_applies_at_once",
		 test_changes_detect__strengthening_applies_at_once},
		{"changes_confirm__who_may_confirm_and_withdraw",
		 test_changes_confirm__who_may_confirm_and_withdraw},
		{"changes_confirm__stale_proposals_are_refused",
		 test_changes_confirm__stale_proposals_are_refused},
		{"changes_controls__builtin_rule_holds_auto_approval",
		 test_changes_controls__builtin_rule_holds_auto_approval},
		{"changes_controls__cedar_auto_approve_is_held_too",
		 test_changes_controls__cedar_auto_approve_is_held_too},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
