/* request.c - the request lifecycle: intake, decision, approvals with their
 * invariants, provisioning into a grant, cancellation and history. */
#include "gov/gov_internal.h"
#include "store/approvals.h"
#include "store/breakglass.h"
#include "store/catalog.h"
#include "store/events.h"
#include "store/groups.h"
#include "store/identities.h"
#include "store/provision.h"
#include "store/requests.h"
#include "store/sod.h"

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

/* What approving, rejecting and cancelling need about a request: its row,
 * whose max_duration the decision's cap has lowered (decision_cap). */
typedef struct req_info {
	gh_store_request_brief row;
	json_t *approver_groups;   /* group ids from the decision; owned, may be NULL */
} req_info;

static void req_info_clear(req_info *r)
{
	json_decref(r->approver_groups);
	r->approver_groups = NULL;
}

/* A reader who holds no role but requester sees only what concerns them. */
static int reads_own_only(const gh_actor *actor)
{
	return (actor->roles & ~(unsigned)GH_ROLE_REQUESTER) == 0;
}

/* A submitter without admin, iam or servicedesk acts only for itself. */
static int submits_own_only(const gh_actor *actor)
{
	return (actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_SERVICEDESK)) == 0;
}

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

static int audit(gh_gov *g, const char *actor, const char *action, const char *type,
		 const char *id, json_t *details)
{
	int rc;

	if (!details)
		return nomem("building an audit event");
	rc = gh_audit_append(NULL, g->store, actor, action, type, id, details);
	json_decref(details);
	return rc;
}

/* --- loading ------------------------------------------------------------ */

int gov_request_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_store_request_get(out, g->store, id);
}

/* 1 when the request concerns who (submitter, requester, subject or the
 * subject's owner), 0 when not (also for an unknown request). */
static int request_concerns(gh_gov *g, const char *request_id, const char *who)
{
	return gh_store_request_concerns(g->store, request_id, who);
}

#define GROUPS_MAX 1024   /* groups one identity may be in, directly or not */

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* facts "groups": every group id holds, directly or through nested groups,
 * sorted. Walked breadth-first with one indexed lookup per group (each group
 * visited once, so a cycle cannot loop), which is cheaper than a recursive
 * query's temporary tables on the hot path of every decision. */
static int subject_groups(json_t *facts, gh_gov *g, const char *id)
{
	json_t *groups = json_array(), *sorted, *found[GROUPS_MAX], *parents = NULL, *p;
	size_t n = 0, next = 0, i, k;
	int rc = 0;

	if (!groups || json_object_set_new(facts, "groups", groups))
		return nomem("loading a subject's groups");
	for (const char *member = id, *type = "identity"; member && !rc;
	     member = next < n ? json_string_value(found[next++]) : NULL, type = "group") {
		if ((rc = gh_store_group_parents(&parents, g->store, type, member)))
			break;
		json_array_foreach(parents, k, p) {
			const char *gid = json_string_value(p);
			json_t *v;

			for (i = 0; i < n && strcmp(json_string_value(found[i]), gid) != 0; i++)
				;
			if (i < n)
				continue;
			if (n == GROUPS_MAX) {
				char name[128];

				rc = gh_error_set(GH_ECONFLICT, "identity %s is in more than %d groups",
						  gov_name_of(g, id, name, sizeof(name)), GROUPS_MAX);
			}
			else if (!(v = json_string(gid)) || json_array_append_new(groups, v))
				rc = nomem("loading a subject's groups");
			else
				found[n++] = v;   /* held by groups */
			if (rc)
				break;
		}
		json_decref(parents);
		parents = NULL;
	}
	if (rc)
		return rc;
	qsort(found, n, sizeof(found[0]), cmp_json_str);
	if (!(sorted = json_array()))
		return nomem("loading a subject's groups");
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, found[i])) {
			json_decref(sorted);
			return nomem("loading a subject's groups");
		}
	return json_object_set_new(facts, "groups", sorted) ? nomem("loading a subject's groups")
							     : 0;
}

/* A new object of the keys of from (a record in its API shape), in order;
 * a key from lacks is null. */
static json_t *facts_of(const json_t *from, const char *const keys[])
{
	json_t *out = json_object(), *v;

	for (size_t i = 0; out && keys[i]; i++) {
		v = json_object_get(from, keys[i]);
		if (json_object_set_new(out, keys[i], v ? json_incref(v) : json_null())) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

int gov_identity_facts(json_t **out, gh_gov *g, const char *id)
{
	static const char *const keys[] = {"id", "kind", "name", "status", "owner", "environment",
					   "roles", "attributes", "purpose", NULL};
	json_t *identity = NULL;
	int rc;

	*out = NULL;
	if ((rc = gh_store_identity_get(&identity, g->store, id)))
		return rc;
	*out = facts_of(identity, keys);
	json_decref(identity);
	rc = *out ? subject_groups(*out, g, id) : nomem("loading an identity");
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
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

int gov_entitlement_facts(json_t **out, gh_gov *g, const char *id)
{
	static const char *const keys[] = {"id", "system", "name", "risk_tier", "data_sensitivity",
					   "environment", "control_owner_group",
					   "max_duration_seconds", "requestable", "attributes",
					   "tags", NULL};
	json_t *ent = NULL;
	int rc;

	*out = NULL;
	if ((rc = gh_store_entitlement_get(&ent, g->store, id)))
		return rc;
	if (!ent)
		return gh_error_set(GH_ENOTFOUND, "entitlement %s not found", id);
	*out = facts_of(ent, keys);
	json_decref(ent);
	return *out ? 0 : nomem("loading an entitlement");
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

/* A decider's cap on the grant (decision_json) lowers the catalog's maximum;
 * its approver groups (resolved ids) bind every approver. */
static void decision_cap(req_info *out, const json_t *d)
{
	json_t *cap = json_object_get(d, "max_duration_seconds");
	json_t *groups = json_object_get(d, "approver_groups");

	if (json_is_integer(cap) && json_integer_value(cap) > 0 &&
	    json_integer_value(cap) < out->row.max_duration)
		out->row.max_duration = json_integer_value(cap);
	if (json_is_array(groups) && json_array_size(groups) > 0)
		out->approver_groups = json_incref(groups);
}

static int req_info_load(req_info *out, gh_gov *g, const char *id)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gh_store_request_brief_get(&out->row, g->store, id)))
		return rc;
	decision_cap(out, out->row.decision);
	json_decref(out->row.decision);
	out->row.decision = NULL;
	return 0;
}

/* --- provisioning --------------------------------------------------------- */

/* An extension request, once granted, ends the grant it extends: the new
 * grant starts now and runs for the newly decided duration. A grant that
 * ended meanwhile needs nothing. */
static int supersede(gh_gov *g, const char *actor_id, const char *request_id,
		     const char *new_grant, int connected)
{
	char old[GH_ID_LEN] = "", reason[128];
	int rc;

	if ((rc = gh_store_grant_extended_by(old, g->store, request_id)))
		return rc;
	if (!*old)
		return 0;
	snprintf(reason, sizeof(reason), "superseded by %s (extension, request %s)", new_grant,
		 request_id);
	/* a connected system keeps the access: the new grant's job grants the
	 * same again, so removing it for the old one would race that */
	return gov_grant_end_ex(g, actor_id, old, "revoked", reason, !connected);
}

/* approved -> provisioning -> active: creates the grant (expiring after
 * min(requested, maximum)) and moves the request, auditing each step. The
 * request row must exist in state approved; the caller has audited
 * request.approved. A break-glass grant (review_due > 0) waits for its review
 * until review_due.
 * For a connected system the grant and the request stay 'provisioning' and
 * a grant job is written: the worker makes them active. */
static int provision(gh_gov *g, const char *actor_id, const char *request_id, const char *subject,
		     const char *ent, int64_t duration, int64_t max_duration, int64_t now,
		     int64_t review_due)
{
	char grant_id[GH_ID_LEN], when[40], due[40], sys[GH_ID_LEN], kind[32];
	int64_t expires = now + (duration < max_duration ? duration : max_duration);
	int rc, connected;

	gh_id_new(grant_id, sizeof(grant_id), "grt");
	if ((rc = gh_store_entitlement_connector(sys, kind, g->store, ent)))
		return rc;
	connected = gov_connector_connected(kind);
	if ((rc = audit(g, actor_id, "request.provisioning", "request", request_id,
			json_pack("{s:s}", "connector", kind))))
		return rc;
	if ((rc = supersede(g, actor_id, request_id, grant_id, connected)))
		return rc;
	if ((rc = gov_grant_check_new(connected ? "provisioning" : "active")) ||
	    (rc = gh_store_grant_insert(g->store, &(gh_store_grant_new){
			.id = grant_id, .subject_id = subject, .entitlement_id = ent,
			.request_id = request_id, .status = connected ? "provisioning" : "active",
			.provisioning = connected ? "pending" : "done", .granted_at = now,
			.expires_at = expires, .review_due_at = review_due > 0 ? review_due : 0})))
		return rc;
	gh_time_format(when, sizeof(when), expires);
	gh_time_format(due, sizeof(due), review_due);
	if ((rc = audit(g, actor_id, "grant.created", "grant", grant_id,
			json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s*, s:s}", "request", request_id,
				  "subject", subject, "entitlement", ent, "expires_at", when,
				  "duration_seconds", (json_int_t)(expires - now),
				  "break_glass", review_due > 0,
				  "review_due_at", review_due > 0 ? due : NULL,
				  "status", connected ? "provisioning" : "active"))))
		return rc;
	if (connected && (rc = gov_outbox_grant_job(g, actor_id, grant_id, sys, now)))
		return rc;
	if ((rc = gov_request_move(g, request_id, "approved", connected ? "provisioning" : "active",
				   &(gov_request_change){.now = now, .grant_id = grant_id})))
		return rc;
	gov_sched_poke(g, review_due > 0 && review_due < expires ? review_due : expires);
	if (connected)
		return 0;
	return audit(g, actor_id, "request.active", "request", request_id,
		     json_pack("{s:s, s:s}", "grant", grant_id, "expires_at", when));
}

int gov_provision(gh_gov *g, const char *actor_id, const char *request_id, const char *subject,
		  const char *ent, int64_t duration, int64_t max_duration, int64_t now)
{
	return provision(g, actor_id, request_id, subject, ent, duration, max_duration, now, 0);
}

/* --- submit ---------------------------------------------------------------- */

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

/* Appends one reason per active grant of the subject that conflicts (SoD)
 * with ent; returns how many (or <0 on error). */
int gov_sod_conflicts(gh_gov *g, json_t *reasons, const char *subject_name, const char *subject,
		      const char *ent, const char *ent_name)
{
	json_t *held, *h;
	size_t i;
	int rc;

	if ((rc = gh_store_sod_held(&held, g->store, subject, ent)))
		return rc;
	json_array_foreach(held, i, h) {
		char buf[512];

		snprintf(buf, sizeof(buf), "segregation of duties: subject %s holds %s (grant %s),"
			 " which conflicts with %s", subject_name,
			 json_string_value(json_object_get(h, "name")),
			 json_string_value(json_object_get(h, "grant")), ent_name);
		if (json_array_append_new(reasons, json_string(buf))) {
			json_decref(held);
			return nomem("recording a conflict");
		}
	}
	rc = (int)json_array_size(held);
	json_decref(held);
	return rc;
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
	/* an auto-approved request reaches active in provision() */
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

	if ((rc = audit(g, actor->id, "request.submitted", "request", id,
			json_pack("{s:s, s:s*, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:s*}",
				  "channel", in.channel, "ticket_ref", in.ticket_ref,
				  "submitted_by", actor->id, "requester", in.requester_id,
				  "subject", in.subject_id, "entitlement", in.ent_id,
				  "duration_seconds", (json_int_t)in.duration,
				  "emergency", in.emergency, "justification", in.justification,
				  "extends", *extends ? extends : NULL))))
		goto cleanup;
	if (in.break_glass) {
		char due[40];

		gh_time_format(due, sizeof(due), review_due);
		if ((rc = audit(g, actor->id, "request.break_glass", "request", id,
				json_pack("{s:s, s:b, s:s*, s:I, s:O*}", "incident_ref",
					  in.incident_ref, "granted", review_due > 0,
					  "review_due_at", review_due > 0 ? due : NULL,
					  "max_duration_seconds", (json_int_t)d.max_duration,
					  "decision", json_object_get(decision, "break_glass")))))
			goto cleanup;
	}
	if ((rc = audit(g, actor->id, "request.decided", "request", id,
			json_pack("{s:O, s:s}", "decision", decision, "state",
				  strcmp(state, "active") == 0 ? "approved" : state))))
		goto cleanup;
	if (strcmp(state, "active") == 0) {
		if ((rc = audit(g, actor->id, "request.approved", "request", id,
				json_pack("{s:s, s:s}", "by", review_due > 0 ? "break_glass" :
					  "decision", "source", review_due > 0 ? bg.source : d.source))))
			goto cleanup;
		if ((rc = provision(g, actor->id, id, in.subject_id, in.ent_id, in.duration,
				    d.max_duration, now, review_due)))
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

/* --- approve and reject ---------------------------------------------------- */

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
static int check_decider(gh_gov *g, const gh_actor *actor, const req_info *r, json_t *checks)
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

	if ((rc = check_decider(g, actor, r, checks)))
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
	if ((rc = req_info_load(&r, g, id)))
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
		if ((rc = audit(g, actor->id, "request.rejected", "request", id,
				json_pack("{s:s, s:s, s:i, s:O}", "approver", actor->id,
					  "comment", comment, "step", step, "checks", checks))))
			goto cleanup;
	} else {
		if ((rc = audit(g, actor->id, "request.approval_recorded", "request", id,
				json_pack("{s:s, s:s*, s:i, s:i, s:O, s:O*}", "approver", actor->id,
					  "comment", comment, "step", step,
					  "required_approvals", r.row.required, "checks", checks,
					  "policy", policy))))
			goto cleanup;
		if (step >= r.row.required) {
			if ((rc = gov_request_move(g, id, r.row.state, "approved",
						   &(gov_request_change){.now = now})) ||
			    (rc = audit(g, actor->id, "request.approved", "request", id,
					json_pack("{s:s, s:i}", "by", "approvals", "approvals", step))))
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
	req_info_clear(&r);
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

/* --- break-glass review ------------------------------------------------------ */


/* The grant's request and review state; GH_ENOTFOUND, or GH_ECONFLICT unless
 * it is a break-glass grant whose review is pending. */
static int review_target(gh_gov *g, const char *grant_id, char request_id[GH_ID_LEN],
			 int *active)
{
	gh_store_grant_review rv;
	int rc;

	if ((rc = gh_store_grant_review_get(&rv, g->store, grant_id)))
		return rc;
	snprintf(request_id, GH_ID_LEN, "%s", rv.request_id);
	*active = rv.live;
	if (!rv.break_glass)
		return gh_error_set(GH_ECONFLICT, "grant %s is not a break-glass grant; only those "
				    "are reviewed", grant_id);
	if (strcmp(rv.review_state, "pending") != 0)
		return gh_error_set(GH_ECONFLICT, "the review of grant %s is %s; only a pending "
				    "review can be decided", grant_id, rv.review_state);
	return 0;
}

int gh_gov_grant_review(json_t **out, gh_gov *g, const gh_actor *actor, const char *grant_id,
			const json_t *body)
{
	static const char *const allowed[] = {"outcome", "comment", NULL};
	const char *outcome = NULL, *comment = NULL;
	char request_id[GH_ID_LEN], reason[2100];
	req_info r = {0};
	json_t *checks = NULL;
	int64_t now = gh_now();
	int rc, active = 0, revoke;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER,
				   "reviewing a break-glass grant")))
		return rc;
	if (gh_jv_object(body, allowed) >= 0 || json_is_object(body)) {
		gh_jv_enum(body, "outcome", 1, gov_review_outcomes, &outcome);
		gh_jv_string(body, "comment", 1, 2000, &comment);
	}
	if ((rc = gh_error_fields_finish()))
		return rc;
	revoke = strcmp(outcome, "revoke") == 0;
	if (!(checks = json_array()))
		return nomem("reviewing a grant");
	if ((rc = gh_store_begin(g->store))) {
		json_decref(checks);
		return rc;
	}
	if ((rc = review_target(g, grant_id, request_id, &active)) ||
	    (rc = req_info_load(&r, g, request_id)) ||
	    (rc = check_decider(g, actor, &r, checks)))
		goto cleanup;
	if ((rc = gh_store_grant_review_set(g->store, grant_id, revoke ? "revoked" : "confirmed",
					    actor->id, now, comment)))
		goto cleanup;
	if ((rc = audit(g, actor->id, "grant.reviewed", "grant", grant_id,
			json_pack("{s:s, s:s, s:s, s:O}", "outcome", outcome, "comment", comment,
				  "request", request_id, "checks", checks))))
		goto cleanup;
	if (revoke && active) {
		snprintf(reason, sizeof(reason), "break-glass review: %s", comment);
		if ((rc = gov_grant_end(g, actor->id, grant_id, "revoked", reason)))
			goto cleanup;
	}
	rc = gov_grant_load(out, g, grant_id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(checks);
	req_info_clear(&r);
	return rc;
}

/* --- cancel, read, history ------------------------------------------------- */

int gh_gov_request_cancel(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *body)
{
	static const char *const allowed[] = {"reason", NULL};
	const char *reason = NULL;
	req_info r = {0};
	int64_t now = gh_now();
	int rc;

	*out = NULL;
	gh_error_clear();
	if (gh_jv_object(body, allowed) >= 0)
		gh_jv_string(body, "reason", 1, 1000, &reason);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = req_info_load(&r, g, id)))
		goto cleanup;
	if (reads_own_only(actor) && (rc = request_concerns(g, id, actor->id)) <= 0) {
		if (rc == 0)
			rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
		goto cleanup;
	}
	if (strcmp(actor->id, r.row.submitted_by) != 0 &&
	    strcmp(actor->id, r.row.requester) != 0 &&
	    !(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM))) {
		rc = gh_error_set(GH_EFORBIDDEN, "only the submitter, the requester, admin or iam "
				  "may cancel a request");
		goto cleanup;
	}
	if (strcmp(r.row.state, "pending_approval") != 0 && strcmp(r.row.state, "submitted") != 0) {
		rc = gh_error_set(GH_ECONFLICT, "request %s is %s; only a pending request can be "
				  "cancelled", id, r.row.state);
		goto cleanup;
	}
	if ((rc = gov_request_move(g, id, r.row.state, "cancelled",
				   &(gov_request_change){.now = now, .reason = reason})))
		goto cleanup;
	if ((rc = audit(g, actor->id, "request.cancelled", "request", id,
			json_pack("{s:s, s:s}", "reason", reason, "from", r.row.state))))
		goto cleanup;
	rc = gov_request_load(out, g, id);
cleanup:
	rc = gov_finish(g, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	req_info_clear(&r);
	return rc;
}

/* GH_ENOTFOUND for a request a requester-only reader may not see. */
int gov_request_visible(gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	if (!reads_own_only(actor))
		return 0;
	if ((rc = request_concerns(g, id, actor->id)) < 0)
		return rc;
	return rc ? 0 : gh_error_set(GH_ENOTFOUND, "request %s not found", id);
}

int gh_gov_request_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	if (!(rc = gov_request_visible(g, actor, id)))
		rc = gov_request_load(out, g, id);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_request_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			const char *state, const char *subject, const char *entitlement)
{
	gov_list_query q = {.table = "requests", .enum_field = "state", .enum_values = gov_request_states,
			    .enum_value = state, .subject = subject, .entitlement = entitlement};
	json_t *items = NULL;
	const char *last = NULL;
	int rc, more;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if ((rc = gov_list_filter(g, &q, page)))
		goto cleanup;
	if ((rc = gh_store_request_page(&items, &more, g->store, &(gh_store_request_filter){
			.state = q.enum_value, .subject_id = q.subject_id[0] ? q.subject_id : NULL,
			.entitlement_id = q.ent_id[0] ? q.ent_id : NULL,
			.concerns = reads_own_only(actor) ? actor->id : NULL}, q.after_pk, q.limit)))
		goto cleanup;
	if (more)
		last = json_string_value(json_object_get(json_array_get(items, q.limit - 1), "id"));
	*out = json_pack("{s:O, s:o}", "items", items, "next",
			 last ? json_string(last) : json_null());
	rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory listing requests");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}

int gh_gov_request_history(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	char grant_id[GH_ID_LEN] = "";
	json_t *items = NULL;
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	if ((rc = gov_request_visible(g, actor, id)) ||
	    (rc = gh_store_request_grant_of(grant_id, g->store, id)))
		goto cleanup;
	if ((rc = gh_store_events_about(&items, g->store, id, *grant_id ? grant_id : NULL)))
		goto cleanup;
	*out = json_pack("{s:O}", "items", items);
	rc = *out ? 0 : nomem("reading history");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}
