/* intake.c - submitting a request: reading the body, resolving its
 * references, refusing duplicates, deciding (SoD, the decider, controls
 * holds, asking break-glass), recording and, when nothing waits for an
 * approval, provisioning at once. */
#include "gov/request_internal.h"
#include "store/requests.h"

#include <stdlib.h>
#include <string.h>

/* What the workflow needs to know about a subject and an entitlement. */
typedef struct subject_info {
	char name[128];
	char status[24];
	char owner[GH_ID_LEN];     /* "" for none */
	json_t *facts;             /* what the decider sees */
} subject_info;

typedef struct ent_info {
	char name[128];
	char risk[16];
	int requestable;
	int64_t max_duration;
	json_t *facts;
} ent_info;

/* A submitter without admin, iam or servicedesk acts only for itself. */
static int submits_own_only(const gh_actor *actor)
{
	return (actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_SERVICEDESK)) == 0;
}

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

static void copy_fact(char *out, size_t outlen, const json_t *facts, const char *key)
{
	const char *s = json_string_value(json_object_get(facts, key));

	snprintf(out, outlen, "%s", s ? s : "");
}

static int subject_load(subject_info *out, gh_gov *g, const char *id)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gov_identity_facts(&out->facts, g, id)))
		return rc;
	copy_fact(out->name, sizeof(out->name), out->facts, "name");
	copy_fact(out->status, sizeof(out->status), out->facts, "status");
	copy_fact(out->owner, sizeof(out->owner), out->facts, "owner");
	return 0;
}

static int ent_load(ent_info *out, gh_gov *g, const char *id)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gov_entitlement_facts(&out->facts, g, id)))
		return rc;
	copy_fact(out->name, sizeof(out->name), out->facts, "name");
	copy_fact(out->risk, sizeof(out->risk), out->facts, "risk_tier");
	out->max_duration = json_integer_value(json_object_get(out->facts,
							       "max_duration_seconds"));
	out->requestable = json_is_true(json_object_get(out->facts, "requestable"));
	return 0;
}

typedef struct intake {
	const char *channel, *ticket_ref, *requester, *subject, *entitlement, *justification;
	const char *incident_ref;
	int64_t duration;
	int emergency, break_glass;
	char requester_id[GH_ID_LEN], subject_id[GH_ID_LEN], ent_id[GH_ID_LEN];
} intake;

/* Everything that can be said about the body without the database. */
static void intake_read(intake *in, const gh_actor *actor, const json_t *body)
{
	static const char *const allowed[] = {"ticket_ref", "channel", "requester", "subject",
					      "entitlement", "justification", "duration",
					      "emergency", "break_glass", "incident_ref", NULL};
	int servicedesk_agent = (actor->roles & GH_ROLE_SERVICEDESK) &&
				!(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM));

	memset(in, 0, sizeof(*in));
	if (gh_jv_object(body, allowed) < 0 && !json_is_object(body))
		return;
	gh_jv_enum(body, "channel", 1, gov_channels, &in->channel);
	gh_jv_string(body, "ticket_ref", in->channel && strcmp(in->channel, "servicedesk") == 0,
		     64, &in->ticket_ref);
	if (gh_jv_string(body, "requester", 0, 256, &in->requester) == 0 && servicedesk_agent)
		gh_error_field("requester", "is required when a service-desk agent submits: "
			       "name on whose behalf");
	gh_jv_string(body, "subject", 1, 256, &in->subject);
	gh_jv_string(body, "entitlement", 1, 256, &in->entitlement);
	gh_jv_string(body, "justification", 1, 2000, &in->justification);
	gh_jv_duration(body, "duration", 1, &in->duration);
	gh_jv_bool(body, "emergency", 0, &in->emergency);
	gh_jv_bool(body, "break_glass", 0, &in->break_glass);
	if (gh_jv_string(body, "incident_ref", in->break_glass, 128, &in->incident_ref) > 0 &&
	    !in->break_glass)
		gh_error_field("incident_ref", "is only for a break-glass request (break_glass: true)");
}

/* Resolves the references, recording a field error for each that fails and
 * forgetting the ref so later checks skip it. */
static int intake_resolve(intake *in, gh_gov *g, const gh_actor *actor)
{
	int rc;

	if (!in->requester) {
		snprintf(in->requester_id, sizeof(in->requester_id), "%s", actor->id);
	} else if ((rc = gov_resolve_field(g, "identities", "requester", in->requester,
					   in->requester_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->requester = NULL;
	}
	if (in->subject && (rc = gov_resolve_field(g, "identities", "subject", in->subject,
						   in->subject_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->subject = NULL;
	}
	if (in->entitlement && (rc = gov_resolve_field(g, "entitlements", "entitlement",
						       in->entitlement, in->ent_id))) {
		if (rc != GH_EINVALID)
			return rc;
		in->entitlement = NULL;
	}
	return 0;
}

/* An open request or an active grant for the same pair: GH_ECONFLICT. */
/* Refuses a second open request for the same access. An active grant is no
 * obstacle: the new request is an extension, and *extends (GH_ID_LEN) names
 * the grant it will supersede when granted ("" when none). */
static int check_duplicate(gh_gov *g, const char *subject, const char *ent, char *extends)
{
	char req[GH_ID_LEN] = "", grant[GH_ID_LEN] = "";
	int rc;

	extends[0] = '\0';
	if ((rc = gh_store_request_open_for(req, grant, g->store, subject, ent)))
		return rc;
	if (*req)
		return gh_error_set(GH_ECONFLICT, "an open request for this subject and "
				    "entitlement exists (%s)", req);
	memcpy(extends, grant, GH_ID_LEN);
	return 0;
}

/* 1 when a determining permit of the break_glass answer bg carries
 * @on_behalf("allow"): the policy lets someone invoke it for another. */
static int permits_on_behalf(const gh_decision *bg)
{
	json_t *p;
	size_t i;

	json_array_foreach(bg->determining, i, p) {
		const char *v = json_string_value(json_object_get(json_object_get(p, "annotations"),
								  "on_behalf"));
		if (v && strcmp(v, "allow") == 0 &&
		    strcmp(json_string_value(json_object_get(p, "effect")) ?
			   json_string_value(json_object_get(p, "effect")) : "", "permit") == 0)
			return 1;
	}
	return 0;
}

/* Asks the decider "break_glass" for a request the "request" question did
 * not deny. 1 allowed, 0 denied (reasons appended to d's), <0 on error.
 * Submitted on someone else's behalf, it is denied unless a determining
 * permit says @on_behalf("allow"). */
static int ask_break_glass(gh_gov *g, const gh_actor *actor, const intake *in,
			   const subject_info *subj, const ent_info *ent, gh_decision *d,
			   gh_decision *bg)
{
	json_t *facts = NULL, *requester = NULL, *submitter = NULL, *v;
	int on_behalf = strcmp(in->requester_id, actor->id) != 0;
	char buf[600];
	size_t i;
	int rc;

	if ((rc = gov_identity_facts(&requester, g, in->requester_id)))
		return rc;
	if ((rc = gov_identity_facts(&submitter, g, actor->id)) && rc != GH_ENOTFOUND) {
		json_decref(requester);
		return rc;
	}
	gh_error_clear();
	facts = json_pack("{s:o, s:O, s:O, s:o*, s:{s:I, s:b, s:s, s:s*, s:s, s:s, s:s}}",
			  "requester", requester, "subject", subj->facts, "entitlement", ent->facts,
			  "submitter", submitter,
			  "request", "duration_seconds", (json_int_t)in->duration,
			  "emergency", in->emergency, "channel", in->channel,
			  "ticket_ref", in->ticket_ref, "requester", in->requester_id,
			  "submitted_by", actor->id, "incident_ref", in->incident_ref);
	if (!facts)
		return nomem("building break-glass facts");
	rc = gov_decider_ask(g, bg, "break_glass", facts);
	json_decref(facts);
	if (rc < 0)
		return rc;
	if (rc == 1 && on_behalf && !permits_on_behalf(bg)) {
		snprintf(bg->outcome, sizeof(bg->outcome), "deny");
		snprintf(buf, sizeof(buf), "on_behalf: %s submitted this break-glass request on "
			 "behalf of %s; no determining permit says @on_behalf(\"allow\")",
			 actor->id, in->requester_id);
		if (!bg->reasons && !(bg->reasons = json_array()))
			return nomem("recording a decision");
		if (json_array_append_new(bg->reasons, json_string(buf)))
			return nomem("recording a decision");
		rc = 0;
	}
	if (rc != 0)
		return rc;
	json_array_foreach(bg->reasons, i, v) {
		snprintf(buf, sizeof(buf), "break_glass: %s", json_string_value(v));
		if (json_array_append_new(d->reasons, json_string(buf)))
			return nomem("recording a decision");
	}
	if (json_array_size(bg->reasons) == 0 &&
	    json_array_append_new(d->reasons, json_string("break_glass: no policy permits it")))
		return nomem("recording a decision");
	return 0;
}

int gh_gov_request_submit(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *body)
{
	subject_info subj = {0};
	ent_info ent = {0};
	gh_decision d = {0}, bg = {0};
	int64_t review_due = 0;
	intake in;
	char id[GH_ID_LEN], extends[GH_ID_LEN] = "";
	json_t *facts = NULL, *decision = NULL, *submitter = NULL;
	char *decision_text = NULL;
	const char *state, *stored_state;
	int64_t now = gh_now();
	int rc, n;

	*out = NULL;
	gh_error_clear();
	intake_read(&in, actor, body);
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = intake_resolve(&in, g, actor)))
		goto cleanup;
	if (in.subject) {
		if ((rc = subject_load(&subj, g, in.subject_id)) ||
		    ((rc = gov_identity_usable(g, "subject", in.subject_id, now)) &&
		     rc != GH_EINVALID))
			goto cleanup;
	}
	/* an expired or suspended requester cannot ask either (also on its behalf) */
	if (*in.requester_id && (rc = gov_identity_usable(g, "requester", in.requester_id, now)) &&
	    rc != GH_EINVALID)
		goto cleanup;
	if (in.entitlement) {
		if ((rc = ent_load(&ent, g, in.ent_id)))
			goto cleanup;
		if (!ent.requestable)
			gh_error_field("entitlement", "%s is not requestable; only catalog "
				       "entitlements are requestable", ent.name);
	}
	/* a credential system issues API keys, to NHIs only (credentials.c) */
	if (in.subject && in.entitlement && json_is_string(json_object_get(subj.facts, "kind")) &&
	    strcmp(json_string_value(json_object_get(subj.facts, "kind")), "human") == 0) {
		if ((n = gov_credential_entitlement(g, in.ent_id)) < 0) {
			rc = n;
			goto cleanup;
		}
		if (n)
			gh_error_field("subject", "%s is a human; %s issues API keys to non-human "
				       "identities only", subj.name, ent.name);
	}
	if ((rc = gh_error_fields_finish()))
		goto cleanup;

	if (submits_own_only(actor)) {
		if (strcmp(in.requester_id, actor->id) != 0) {
			rc = gh_error_set(GH_EFORBIDDEN, "a requester may only request for itself");
			goto cleanup;
		}
		if (strcmp(in.subject_id, actor->id) != 0 && strcmp(subj.owner, actor->id) != 0) {
			rc = gh_error_set(GH_EFORBIDDEN, "a requester may only request access for "
					  "itself or an identity it owns");
			goto cleanup;
		}
	}
	if ((rc = check_duplicate(g, in.subject_id, in.ent_id, extends)))
		goto cleanup;

	/* SoD is an invariant of the domain: it is checked before any decider. */
	if (!(d.reasons = json_array())) {
		rc = nomem("deciding");
		goto cleanup;
	}
	if ((n = gov_sod_conflicts(g, d.reasons, subj.name, in.subject_id, in.ent_id, ent.name)) < 0) {
		rc = n;
		goto cleanup;
	}
	if (n > 0) {
		snprintf(d.outcome, sizeof(d.outcome), "denied");
		snprintf(d.source, sizeof(d.source), "segregation-of-duties");
		snprintf(d.policy_version, sizeof(d.policy_version), "invariant-1");
		d.max_duration = ent.max_duration;
	} else {
		gh_decision_clear(&d);
		/* the submitter is an entity of the question too (context.submitted_by) */
		if ((rc = gov_identity_facts(&submitter, g, actor->id)) && rc != GH_ENOTFOUND)
			goto cleanup;
		gh_error_clear();
		facts = json_pack("{s:O, s:O, s:o*, s:{s:I, s:b, s:s, s:s*, s:s, s:s}}",
				  "subject", subj.facts, "entitlement", ent.facts,
				  "submitter", submitter, "request",
				  "duration_seconds", (json_int_t)in.duration,
				  "emergency", in.emergency, "channel", in.channel,
				  "ticket_ref", in.ticket_ref, "requester", in.requester_id,
				  "submitted_by", actor->id);
		submitter = NULL;   /* taken by facts (or freed by json_pack on failure) */
		if (!facts) {
			rc = nomem("building decision facts");
			goto cleanup;
		}
		pthread_rwlock_rdlock(&g->decider_lock);
		rc = g->decider.decide(g->decider.ctx, &d, facts);
		pthread_rwlock_unlock(&g->decider_lock);
		if (rc)
			goto cleanup;
		if (!d.reasons && !(d.reasons = json_array())) {
			rc = nomem("deciding");
			goto cleanup;
		}
		if ((rc = gov_resolve_approver_groups(g, &d)))
			goto cleanup;
		/* an invariant over every decider: no auto-approval for whoever last
		 * changed the entitlement's controls */
		if ((rc = gov_controls_hold(g, &d, in.ent_id, in.requester_id, in.subject_id,
					    subj.owner, actor->id)))
			goto cleanup;
	}
	/* the catalog's maximum bounds every grant, whatever a decider says */
	if (d.max_duration <= 0 || d.max_duration > ent.max_duration)
		d.max_duration = ent.max_duration;
	if (in.break_glass && (strcmp(d.outcome, "auto_approved") == 0 ||
			       strcmp(d.outcome, "approval_required") == 0)) {
		if ((n = ask_break_glass(g, actor, &in, &subj, &ent, &d, &bg)) < 0) {
			rc = n;
			goto cleanup;
		}
		if (n == 0) {
			snprintf(d.outcome, sizeof(d.outcome), "denied");
		} else {
			/* granted now, for a short time, and reviewed later */
			if (bg.max_duration > 0 && bg.max_duration < d.max_duration)
				d.max_duration = bg.max_duration;
			if (d.max_duration > GH_BREAK_GLASS_MAX)
				d.max_duration = GH_BREAK_GLASS_MAX;
			review_due = now + (bg.review_within > 0 ? bg.review_within :
					    d.review_within > 0 ? d.review_within :
					    GH_BREAK_GLASS_REVIEW);
		}
	}
	if (review_due > 0) {
		state = "active";
		d.required_approvals = 0;
	} else if (strcmp(d.outcome, "auto_approved") == 0) {
		state = "active";
		d.required_approvals = 0;
	} else if (strcmp(d.outcome, "approval_required") == 0) {
		state = "pending_approval";
		if (d.required_approvals < 1)
			d.required_approvals = 1;
	} else {
		state = "denied";
		snprintf(d.outcome, sizeof(d.outcome), "denied");
		d.required_approvals = 0;
	}
	if (!(decision = gov_decision_json(&d, ent.max_duration)) ||
	    (in.break_glass && *bg.outcome &&
	     json_object_set_new(decision, "break_glass", gov_decision_json(&bg, 0))) ||
	    !(decision_text = gh_json_canonical(decision))) {
		rc = nomem("recording a decision");
		goto cleanup;
	}

	gh_id_new(id, sizeof(id), "req");
	/* an auto-approved request reaches active in gov_provision_reviewed() */
	stored_state = strcmp(state, "active") == 0 ? "approved" : state;
	if ((rc = gov_request_check_new(stored_state)) ||
	    (rc = gh_store_request_insert(g->store, &(gh_store_request_new){
			.id = id, .state = stored_state, .ticket_ref = in.ticket_ref,
			.channel = in.channel, .submitted_by = actor->id,
			.requester_id = in.requester_id, .subject_id = in.subject_id,
			.entitlement_id = in.ent_id, .justification = in.justification,
			.duration = in.duration, .emergency = in.emergency,
			.decision = decision_text, .required_approvals = d.required_approvals,
			.sla_due_at = strcmp(state, "pending_approval") == 0 ?
				      now + g->opts.pending_sla : 0,
			.close_reason = strcmp(state, "denied") == 0 ? "decision_denied" : NULL,
			.created_at = now, .closed_at = strcmp(state, "denied") == 0 ? now : 0,
			.extends_grant_id = *extends ? extends : NULL,
			.break_glass = in.break_glass, .incident_ref = in.incident_ref})))
		goto cleanup;

	if ((rc = gov_audit_take(g, actor->id, "request.submitted", "request", id,
				 json_pack("{s:s, s:s*, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:s*}",
					   "channel", in.channel, "ticket_ref", in.ticket_ref,
					   "submitted_by", actor->id, "requester", in.requester_id,
					   "subject", in.subject_id, "entitlement", in.ent_id,
					   "duration_seconds", (json_int_t)in.duration,
					   "emergency", in.emergency,
					   "justification", in.justification,
					   "extends", *extends ? extends : NULL))))
		goto cleanup;
	if (in.break_glass) {
		char due[40];

		gh_time_format(due, sizeof(due), review_due);
		if ((rc = gov_audit_take(g, actor->id, "request.break_glass", "request", id,
					 json_pack("{s:s, s:b, s:s*, s:I, s:O*}", "incident_ref",
						   in.incident_ref, "granted", review_due > 0,
						   "review_due_at", review_due > 0 ? due : NULL,
						   "max_duration_seconds",
						   (json_int_t)d.max_duration, "decision",
						   json_object_get(decision, "break_glass")))))
			goto cleanup;
	}
	if ((rc = gov_audit_take(g, actor->id, "request.decided", "request", id,
				 json_pack("{s:O, s:s}", "decision", decision, "state",
					   strcmp(state, "active") == 0 ? "approved" : state))))
		goto cleanup;
	if (strcmp(state, "active") == 0) {
		if ((rc = gov_audit_take(g, actor->id, "request.approved", "request", id,
					 json_pack("{s:s, s:s}",
						   "by", review_due > 0 ? "break_glass" : "decision",
						   "source", review_due > 0 ? bg.source : d.source))))
			goto cleanup;
		if ((rc = gov_provision_reviewed(g, actor->id, id, in.subject_id, in.ent_id,
						  in.duration, d.max_duration, now, review_due)))
			goto cleanup;
	}
	rc = gov_request_load(out, g, id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	gh_decision_clear(&d);
	gh_decision_clear(&bg);
	json_decref(subj.facts);
	json_decref(ent.facts);
	json_decref(facts);
	json_decref(decision);
	free(decision_text);
	return rc;
}
