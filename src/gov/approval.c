/* approval.c - approving and rejecting a pending request: the invariants
 * every decider about a request must pass (DESIGN.md 1 and 2), the approver
 * groups a decision names, the policy's "approve" question, the last
 * checks before provisioning, and the recorded approval. */
#include "gov/request_internal.h"
#include "store/approvals.h"
#include "store/identities.h"
#include "store/requests.h"

#include <stdlib.h>
#include <string.h>

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

int gov_resolve_approver_groups(gh_gov *g, gh_decision *d)
{
	char id[GH_ID_LEN], buf[512];
	json_t *ids, *v;
	size_t i, j;
	int rc, dup;

	if (json_array_size(d->approver_groups) == 0)
		return 0;
	if (!(ids = json_array()))
		return nomem("resolving approver groups");
	json_array_foreach(d->approver_groups, i, v) {
		const char *ref = json_string_value(v);
		json_t *w;

		rc = ref ? gov_resolve(g, "groups", ref, id) : GH_ENOTFOUND;
		if (rc == GH_ENOTFOUND) {
			gh_error_clear();
			snprintf(buf, sizeof(buf), "approver group \"%s\" named by the policy does not "
				 "exist: denied (fail closed)", ref ? ref : "?");
			snprintf(d->outcome, sizeof(d->outcome), "denied");
			if (json_array_append_new(d->reasons, json_string(buf))) {
				json_decref(ids);
				return nomem("resolving approver groups");
			}
			continue;
		}
		if (rc) {
			json_decref(ids);
			return rc;
		}
		dup = 0;
		json_array_foreach(ids, j, w)
			dup |= strcmp(json_string_value(w), id) == 0;
		if (!dup && json_array_append_new(ids, json_string(id))) {
			json_decref(ids);
			return nomem("resolving approver groups");
		}
	}
	json_decref(d->approver_groups);
	d->approver_groups = ids;
	if (strcmp(d->outcome, "denied") == 0) {
		json_decref(d->approver_groups);   /* nobody approves a denied request */
		d->approver_groups = NULL;
	}
	return 0;
}

/* The approver as stored: active, and whether it holds the servicedesk role. */
static int approver_load(gh_gov *g, const char *id, int *active, int *servicedesk)
{
	json_t *who = NULL, *role;
	const char *status;
	size_t i;
	int rc;

	*active = *servicedesk = 0;
	if ((rc = gh_store_identity_get(&who, g->store, id))) {
		if (rc != GH_ENOTFOUND)
			return rc;
		gh_error_clear();   /* nobody: not active */
		return 0;
	}
	status = json_string_value(json_object_get(who, "status"));
	*active = status && strcmp(status, "active") == 0;
	json_array_foreach(json_object_get(who, "roles"), i, role)
		if (json_is_string(role) && strcmp(json_string_value(role), "servicedesk") == 0)
			*servicedesk = 1;
	json_decref(who);
	return 0;
}

static int add_check(json_t *checks, const char *name)
{
	return json_array_append_new(checks, json_string(name)) ? nomem("recording checks") : 0;
}

/* The invariants no policy can switch off (DESIGN.md 1 and 2), for whoever
 * decides about r: an approver, or the reviewer of a break-glass grant. Each
 * failed one refuses with GH_EDENIED naming it; the passed ones go into
 * checks: the identity checks, in_approver_group (when the decision named
 * approver groups), then the authority, in_control_owner_group or
 * delegation:<id>. */
int gov_check_decider(gh_gov *g, const gh_actor *actor, const req_info *r, json_t *checks)
{
	char dlg[GH_ID_LEN], name[128];
	int active, servicedesk, rc;
	size_t i;
	json_t *grp;

	if ((rc = approver_load(g, actor->id, &active, &servicedesk)))
		return rc;
	if (!active)
		return gh_error_set(GH_EDENIED, "the approver %s is not an active identity",
				    gov_name_of(g, actor->id, name, sizeof(name)));
	if (strcmp(actor->id, r->row.submitted_by) == 0)
		return gh_error_set(GH_EDENIED, "not_submitter: nobody approves a request "
				    "they submitted");
	if ((rc = add_check(checks, "not_submitter")))
		return rc;
	if (strcmp(actor->id, r->row.requester) == 0)
		return gh_error_set(GH_EDENIED, "not_requester: nobody approves a request "
				    "made on their behalf");
	if ((rc = add_check(checks, "not_requester")))
		return rc;
	if (strcmp(actor->id, r->row.subject) == 0)
		return gh_error_set(GH_EDENIED, "not_subject: nobody approves access they "
				    "would receive");
	if ((rc = add_check(checks, "not_subject")))
		return rc;
	if (strcmp(actor->id, r->row.subject_owner) == 0)
		return gh_error_set(GH_EDENIED, "not_subject_owner: nobody approves access for "
				    "an identity they own");
	if ((rc = add_check(checks, "not_subject_owner")))
		return rc;
	if ((actor->roles & GH_ROLE_SERVICEDESK) || servicedesk)
		return gh_error_set(GH_EDENIED, "not_servicedesk: service-desk agents never "
				    "approve");
	if ((rc = add_check(checks, "not_servicedesk")))
		return rc;
	json_array_foreach(r->approver_groups, i, grp) {
		if ((rc = gh_gov_group_contains(g, json_string_value(grp), actor->id)) < 0)
			return rc;
		if (rc == 0)
			return gh_error_set(GH_EDENIED, "in_approver_group: the policy requires an "
					    "approver from group %s",
					    gov_name_of(g, json_string_value(grp), name, sizeof(name)));
	}
	if (json_array_size(r->approver_groups) > 0 &&
	    (rc = add_check(checks, "in_approver_group")))
		return rc;
	if ((rc = gh_gov_group_contains(g, r->row.control_group, actor->id)) < 0)
		return rc;
	if (rc == 1)
		return add_check(checks, "in_control_owner_group");
	if ((rc = gov_delegation_covering(g, dlg, r->row.entitlement, actor->id, gh_now())) < 0)
		return rc;
	if (rc == 0)
		return gh_error_set(GH_EDENIED, "in_control_owner_group: the approver is not a "
				    "member of the entitlement's control-owner group %s, and no "
				    "active delegation covers it",
				    gov_name_of(g, r->row.control_group, name, sizeof(name)));
	{
		char check[GH_ID_LEN + 16];

		snprintf(check, sizeof(check), "delegation:%s", dlg);
		return add_check(checks, check);
	}
}

/* check_decider, then distinct_approver. *step receives this decision's step number. */
static int check_approver(gh_gov *g, const gh_actor *actor, const char *request_id,
			  const req_info *r, json_t *checks, int *step)
{
	int rc, count, decided;

	if ((rc = gov_check_decider(g, actor, r, checks)))
		return rc;
	if ((rc = gh_store_approval_tally(&count, &decided, g->store, request_id, actor->id)))
		return rc;
	*step = count + 1;
	if (decided) {
		char name[128];

		return gh_error_set(GH_ECONFLICT, "distinct_approver: %s has already decided "
				    "this request", gov_name_of(g, actor->id, name, sizeof(name)));
	}
	return add_check(checks, "distinct_approver");
}

void gov_reasons_text(char *buf, size_t len, const json_t *reasons)
{
	size_t i, at = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(reasons, i, v) {
		int n = snprintf(buf + at, len - at, "%s%s", i ? "; " : "", json_string_value(v));
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "no policy permits it");
}

/* Asks the decider "approve" for the approver, after the invariants passed.
 * Denied: GH_EDENIED "policy_permits_approve: <reasons>". Allowed: the check
 * is recorded and *record receives the decision to store with the approval. */
static int check_policy_approve(gh_gov *g, const gh_actor *actor, const char *request_id,
				const req_info *r, json_t *checks, json_t **record)
{
	gh_decision d = {0};
	json_t *facts = NULL, *approver = NULL, *subject = NULL, *ent = NULL;
	char why[768];
	int rc;

	*record = NULL;
	if ((rc = gov_identity_facts(&approver, g, actor->id)) ||
	    (rc = gov_identity_facts(&subject, g, r->row.subject)) ||
	    (rc = gov_entitlement_facts(&ent, g, r->row.entitlement)))
		goto cleanup;
	facts = json_pack("{s:o, s:o, s:o, s:{s:s, s:s, s:s, s:s, s:I, s:b, s:i, s:s, s:s*}}",
			  "approver", approver, "subject", subject, "entitlement", ent,
			  "request", "id", request_id, "state", r->row.state,
			  "requester", r->row.requester,
			  "submitted_by", r->row.submitted_by,
			  "duration_seconds", (json_int_t)r->row.duration,
			  "emergency", r->row.emergency,
			  "required_approvals", r->row.required, "channel", r->row.channel,
			  "ticket_ref", *r->row.ticket_ref ? r->row.ticket_ref : NULL);
	approver = subject = ent = NULL;
	if (!facts) {
		rc = nomem("building approval facts");
		goto cleanup;
	}
	if ((rc = gov_decider_ask(g, &d, "approve", facts)) < 0)
		goto cleanup;
	if (rc == 0) {
		gov_reasons_text(why, sizeof(why), d.reasons);
		rc = gh_error_set(GH_EDENIED, "policy_permits_approve: %s", why);
		goto cleanup;
	}
	if ((rc = add_check(checks, "policy_permits_approve")))
		goto cleanup;
	if (!(*record = gov_decision_json(&d, 0)))
		rc = nomem("recording the approval decision");
cleanup:
	gh_decision_clear(&d);
	json_decref(facts);
	json_decref(approver);
	json_decref(subject);
	json_decref(ent);
	return rc;
}

/* Before the last approval provisions: the subject is still active and
 * within its expiry, the entitlement still requestable, and the subject has
 * not meanwhile gained a conflicting grant (two pending requests for an SoD
 * pair must not both be granted). GH_ECONFLICT leaves the request pending. */
static int check_grantable(gh_gov *g, const req_info *r)
{
	json_t *reasons;
	int n;

	if (strcmp(r->row.subject_status, "active") != 0)
		return gh_error_set(GH_ECONFLICT, "subject %s is %s; access cannot be granted",
				    r->row.subject_name, r->row.subject_status);
	if (r->row.has_subject_expires && r->row.subject_expires <= gh_now())
		return gh_error_set(GH_ECONFLICT, "subject %s has passed its expires_at; access "
				    "cannot be granted until its owner renews it", r->row.subject_name);
	if (!r->row.requestable)
		return gh_error_set(GH_ECONFLICT, "entitlement %s is no longer requestable; access "
				    "cannot be granted (reject this request, or make the "
				    "entitlement requestable again)", r->row.ent_name);
	if (!(reasons = json_array()))
		return nomem("checking segregation of duties");
	n = gov_sod_conflicts(g, reasons, r->row.subject_name, r->row.subject, r->row.entitlement,
			      r->row.ent_name);
	if (n > 0)
		gh_error_set(GH_ECONFLICT, "%s; reject this request or revoke the other grant first",
			     json_string_value(json_array_get(reasons, 0)));
	json_decref(reasons);
	return n > 0 ? GH_ECONFLICT : n;
}

static int decide_request(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *body, int approve)
{
	static const char *const allowed[] = {"comment", NULL};
	const char *comment = NULL;
	req_info r = {0};
	json_t *checks = NULL, *policy = NULL;
	char *checks_text = NULL, *policy_text = NULL, approval_id[GH_ID_LEN];
	int64_t now = gh_now();
	int rc, step = 1;

	*out = NULL;
	if (!(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER)))
		return gh_error_set(GH_EFORBIDDEN, "only admin, iam or approver may decide requests");
	gh_error_clear();
	if (gh_jv_object(body, allowed) >= 0)
		gh_jv_string(body, "comment", !approve, 2000, &comment);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (!(checks = json_array()))
		return nomem("deciding a request");
	if ((rc = gh_store_begin(g->store))) {
		json_decref(checks);
		return rc;
	}
	if ((rc = gov_req_info_load(&r, g, id)))
		goto cleanup;
	if (strcmp(r.row.state, "pending_approval") != 0) {
		rc = gh_error_set(GH_ECONFLICT, "request %s is %s; only a pending request can be %s",
				  id, r.row.state, approve ? "approved" : "rejected");
		goto cleanup;
	}
	if ((rc = check_approver(g, actor, id, &r, checks, &step)))
		goto cleanup;
	/* policy comes after the invariants: it can refuse, never allow more */
	if (approve && (rc = check_policy_approve(g, actor, id, &r, checks, &policy)))
		goto cleanup;
	if (approve && step >= r.row.required && (rc = check_grantable(g, &r)))
		goto cleanup;
	if (!(checks_text = gh_json_canonical(checks)) ||
	    (policy && !(policy_text = gh_json_canonical(policy)))) {
		rc = nomem("recording checks");
		goto cleanup;
	}
	gh_id_new(approval_id, sizeof(approval_id), "apr");
	if ((rc = gh_store_approval_insert(g->store, &(gh_store_approval_new){
			.id = approval_id, .request_id = id, .approver_id = actor->id,
			.decision = approve ? "approve" : "reject", .comment = comment,
			.step = step, .checks = checks_text, .created_at = now,
			.policy = policy_text})))
		goto cleanup;

	if (!approve) {
		if ((rc = gov_request_move(g, id, r.row.state, "rejected",
					   &(gov_request_change){.now = now, .reason = comment})))
			goto cleanup;
		if ((rc = gov_audit_take(g, actor->id, "request.rejected", "request", id,
					 json_pack("{s:s, s:s, s:i, s:O}", "approver", actor->id,
						   "comment", comment, "step", step,
						   "checks", checks))))
			goto cleanup;
	} else {
		if ((rc = gov_audit_take(g, actor->id, "request.approval_recorded", "request", id,
					 json_pack("{s:s, s:s*, s:i, s:i, s:O, s:O*}",
						   "approver", actor->id, "comment", comment,
						   "step", step, "required_approvals", r.row.required,
						   "checks", checks, "policy", policy))))
			goto cleanup;
		if (step >= r.row.required) {
			if ((rc = gov_request_move(g, id, r.row.state, "approved",
						   &(gov_request_change){.now = now})) ||
			    (rc = gov_audit_take(g, actor->id, "request.approved", "request", id,
						 json_pack("{s:s, s:i}", "by", "approvals",
							   "approvals", step))))
				goto cleanup;
			if ((rc = gov_provision(g, actor->id, id, r.row.subject, r.row.entitlement,
						r.row.duration, r.row.max_duration, now)))
				goto cleanup;
		} else {
			if ((rc = gh_store_request_touch(g->store, id, now)))
				goto cleanup;
		}
	}
	rc = gov_request_load(out, g, id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(checks);
	json_decref(policy);
	free(checks_text);
	free(policy_text);
	gov_req_info_clear(&r);
	return rc;
}

int gh_gov_request_approve(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			   const json_t *in)
{
	return decide_request(out, g, actor, id, in, 1);
}

int gh_gov_request_reject(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *in)
{
	return decide_request(out, g, actor, id, in, 0);
}
