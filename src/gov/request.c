/* request.c - the request lifecycle: intake, decision, approvals with their
 * invariants, provisioning into a grant, cancellation and history. */
#include "gov/gov_internal.h"
#include "store/events.h"

#include <stdlib.h>
#include <string.h>

#define REQ_COLS                                                                            \
	"r.id, r.state, r.ticket_ref, r.channel, r.submitted_by, r.requester_id,"            \
	" r.subject_id, r.entitlement_id, r.justification, r.duration, r.emergency,"          \
	" r.decision, r.required_approvals, r.sla_due_at, r.grant_id, r.close_reason,"        \
	" r.created_at, r.updated_at, r.closed_at, r.extends_grant_id, r.break_glass,"         \
	" r.incident_ref"



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

/* What approving, rejecting and cancelling need about a request. */
typedef struct req_info {
	char state[24];
	char submitted_by[GH_ID_LEN];
	char requester[GH_ID_LEN];
	char subject[GH_ID_LEN];
	char subject_owner[GH_ID_LEN];
	char subject_name[128];
	char subject_status[24];
	char entitlement[GH_ID_LEN];
	char ent_name[128];
	char control_group[GH_ID_LEN];
	char channel[24];
	char ticket_ref[72];       /* "" for none */
	int emergency;
	int required;
	int requestable;           /* the entitlement's, now */
	int64_t duration;
	int64_t max_duration;
	int64_t subject_expires;   /* INT64_MAX when the subject has no expiry */
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

static void copy_text(char *out, size_t outlen, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
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

static json_t *approvals_json(gh_gov *g, const char *request_id, int *rc)
{
	sqlite3_stmt *st;
	json_t *a = json_array(), *item;
	int step;

	*rc = 0;
	if (!a) {
		*rc = nomem("loading approvals");
		return NULL;
	}
	if ((*rc = gh_store_stmt(&st, g->store,
				 "SELECT approver_id, decision, comment, step, created_at, checks, policy"
				 " FROM approvals WHERE request_id = ? ORDER BY step, pk"))) {
		json_decref(a);
		return NULL;
	}
	sqlite3_bind_text(st, 1, request_id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		item = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o, s:o}",
				 "approver", gov_text_column(st, 0),
				 "decision", gov_text_column(st, 1), "comment", gov_text_column(st, 2),
				 "step", sqlite3_column_int(st, 3), "at", gov_time_column(st, 4),
				 "checks", gov_json_column(st, 5, 1),
				 "policy", sqlite3_column_type(st, 6) == SQLITE_NULL ? json_null() :
				 gov_json_column(st, 6, 0));
		if (!item || json_array_append_new(a, item)) {
			*rc = nomem("loading approvals");
			break;
		}
	}
	if (!*rc && step != SQLITE_DONE)
		*rc = gh_store_fail(g->store, "loading approvals");
	sqlite3_reset(st);
	if (*rc) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* One request in its API shape from a row of REQ_COLS, with its approvals. */
static int request_json(json_t **out, gh_gov *g, sqlite3_stmt *st)
{
	char dur[32];
	json_t *approvals, *decision;
	int rc;

	*out = NULL;
	gh_duration_format(dur, sizeof(dur), sqlite3_column_int64(st, 9));
	if (!(approvals = approvals_json(g, (const char *)sqlite3_column_text(st, 0), &rc)))
		return rc;
	decision = sqlite3_column_type(st, 11) == SQLITE_NULL ? json_null() :
							       gov_json_column(st, 11, 0);
	*out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:b, s:o, s:i,"
			 " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", gov_text_column(st, 0), "state", gov_text_column(st, 1),
			 "ticket_ref", gov_text_column(st, 2), "channel", gov_text_column(st, 3),
			 "submitted_by", gov_text_column(st, 4), "requester", gov_text_column(st, 5),
			 "subject", gov_text_column(st, 6), "entitlement", gov_text_column(st, 7),
			 "justification", gov_text_column(st, 8), "duration", dur,
			 "duration_seconds", (json_int_t)sqlite3_column_int64(st, 9),
			 "emergency", sqlite3_column_int(st, 10) != 0, "decision", decision,
			 "required_approvals", sqlite3_column_int(st, 12), "approvals", approvals,
			 "grant", gov_text_column(st, 14), "sla_due_at", gov_time_column(st, 13),
			 "close_reason", gov_text_column(st, 15),
			 "created_at", gov_time_column(st, 16), "updated_at", gov_time_column(st, 17),
			 "closed_at", gov_time_column(st, 18), "extends", gov_text_column(st, 19));
	if (*out && (json_object_set_new(*out, "break_glass",
					 json_boolean(sqlite3_column_int(st, 20))) ||
		     json_object_set_new(*out, "incident_ref", gov_text_column(st, 21)))) {
		json_decref(*out);
		*out = NULL;
	}
	return *out ? 0 : nomem("loading a request");
}

int gov_request_load(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT " REQ_COLS " FROM requests r WHERE r.id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = request_json(out, g, st);
	else if (rc == SQLITE_DONE)
		rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
	else
		rc = gh_store_fail(g->store, "loading a request");
	sqlite3_reset(st);
	return rc;
}

/* 1 when the request concerns who (submitter, requester, subject or the
 * subject's owner), 0 when not (also for an unknown request). */
static int request_concerns(gh_gov *g, const char *request_id, const char *who)
{
	return gov_exists(g, "SELECT 1 FROM requests r JOIN identities s ON s.id = r.subject_id"
			     " WHERE r.id = ?1 AND (r.submitted_by = ?2 OR r.requester_id = ?2"
			     " OR r.subject_id = ?2 OR s.owner_id = ?2)",
			  request_id, who, "checking who a request concerns");
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
	json_t *groups = json_array(), *sorted, *found[GROUPS_MAX];
	sqlite3_stmt *st;
	size_t n = 0, next = 0, i;
	int rc = 0, step;

	if (!groups || json_object_set_new(facts, "groups", groups))
		return nomem("loading a subject's groups");
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT group_id FROM group_members WHERE member_id = ?1"
				" AND member_type = ?2")))
		return rc;
	for (const char *member = id, *type = "identity"; member && !rc;
	     member = next < n ? json_string_value(found[next++]) : NULL, type = "group") {
		sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
		while ((step = sqlite3_step(st)) == SQLITE_ROW && !rc) {
			const char *gid = (const char *)sqlite3_column_text(st, 0);
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
		}
		sqlite3_reset(st);
		if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
			rc = gh_store_fail(g->store, "loading a subject's groups");
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

int gov_identity_facts(json_t **out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT id, kind, name, status, owner_id, environment, roles, attributes,"
				" purpose FROM identities WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				 "id", gov_text_column(st, 0), "kind", gov_text_column(st, 1),
				 "name", gov_text_column(st, 2), "status", gov_text_column(st, 3),
				 "owner", gov_text_column(st, 4),
				 "environment", gov_text_column(st, 5),
				 "roles", gov_json_column(st, 6, 1),
				 "attributes", gov_json_column(st, 7, 0),
				 "purpose", gov_text_column(st, 8));
		rc = *out ? 0 : nomem("loading an identity");
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "identity %s not found", id);
	} else {
		rc = gh_store_fail(g->store, "loading an identity");
	}
	sqlite3_reset(st);
	if (!rc)
		rc = subject_groups(*out, g, id);
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
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT id, system_id, name, risk_tier, data_sensitivity, environment,"
				" control_owner_group_id, max_duration, requestable, attributes, tags"
				" FROM entitlements WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:b, s:o, s:o}",
				 "id", gov_text_column(st, 0), "system", gov_text_column(st, 1),
				 "name", gov_text_column(st, 2),
				 "risk_tier", gov_text_column(st, 3),
				 "data_sensitivity", gov_text_column(st, 4),
				 "environment", gov_text_column(st, 5),
				 "control_owner_group", gov_text_column(st, 6),
				 "max_duration_seconds", (json_int_t)sqlite3_column_int64(st, 7),
				 "requestable", sqlite3_column_int(st, 8) != 0,
				 "attributes", gov_json_column(st, 9, 0),
				 "tags", gov_json_column(st, 10, 1));
		rc = *out ? 0 : nomem("loading an entitlement");
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "entitlement %s not found", id);
	} else {
		rc = gh_store_fail(g->store, "loading an entitlement");
	}
	sqlite3_reset(st);
	return rc;
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
static void decision_cap(req_info *out, sqlite3_stmt *st, int col)
{
	json_t *d = gov_json_column(st, col, 0);
	json_t *cap = json_object_get(d, "max_duration_seconds");
	json_t *groups = json_object_get(d, "approver_groups");

	if (json_is_integer(cap) && json_integer_value(cap) > 0 &&
	    json_integer_value(cap) < out->max_duration)
		out->max_duration = json_integer_value(cap);
	if (json_is_array(groups) && json_array_size(groups) > 0)
		out->approver_groups = json_incref(groups);
	json_decref(d);
}

static int req_info_load(req_info *out, gh_gov *g, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT r.state, r.submitted_by, r.requester_id, r.subject_id,"
				" s.owner_id, r.entitlement_id, e.control_owner_group_id,"
				" r.required_approvals, r.duration, e.max_duration, s.name, s.status,"
				" e.name, r.decision, r.channel, r.ticket_ref, r.emergency,"
				" s.expires_at, e.requestable"
				" FROM requests r JOIN identities s ON s.id = r.subject_id"
				" JOIN entitlements e ON e.id = r.entitlement_id WHERE r.id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(out->state, sizeof(out->state), st, 0);
		copy_text(out->submitted_by, sizeof(out->submitted_by), st, 1);
		copy_text(out->requester, sizeof(out->requester), st, 2);
		copy_text(out->subject, sizeof(out->subject), st, 3);
		copy_text(out->subject_owner, sizeof(out->subject_owner), st, 4);
		copy_text(out->entitlement, sizeof(out->entitlement), st, 5);
		copy_text(out->control_group, sizeof(out->control_group), st, 6);
		out->required = sqlite3_column_int(st, 7);
		out->duration = sqlite3_column_int64(st, 8);
		out->max_duration = sqlite3_column_int64(st, 9);
		copy_text(out->subject_name, sizeof(out->subject_name), st, 10);
		copy_text(out->subject_status, sizeof(out->subject_status), st, 11);
		copy_text(out->ent_name, sizeof(out->ent_name), st, 12);
		decision_cap(out, st, 13);
		copy_text(out->channel, sizeof(out->channel), st, 14);
		copy_text(out->ticket_ref, sizeof(out->ticket_ref), st, 15);
		out->emergency = sqlite3_column_int(st, 16);
		out->subject_expires = sqlite3_column_type(st, 17) == SQLITE_NULL ? INT64_MAX :
				       sqlite3_column_int64(st, 17);
		out->requestable = sqlite3_column_int(st, 18);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
	} else {
		rc = gh_store_fail(g->store, "loading a request");
	}
	sqlite3_reset(st);
	return rc;
}

/* --- provisioning --------------------------------------------------------- */

/* An extension request, once granted, ends the grant it extends: the new
 * grant starts now and runs for the newly decided duration. A grant that
 * ended meanwhile needs nothing. */
static int supersede(gh_gov *g, const char *actor_id, const char *request_id,
		     const char *new_grant, int connected)
{
	char old[GH_ID_LEN] = "", reason[128];
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT gr.id FROM requests r JOIN grants gr ON gr.id = r.extends_grant_id"
				" WHERE r.id = ? AND gr.status = 'active'")))
		return rc;
	sqlite3_bind_text(st, 1, request_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_text(old, sizeof(old), st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gh_store_fail(g->store, "looking for the grant an extension replaces");
	if (!*old)
		return 0;
	snprintf(reason, sizeof(reason), "superseded by %s (extension, request %s)", new_grant,
		 request_id);
	/* a connected system keeps the access: the new grant's job grants the
	 * same again, so removing it for the old one would race that */
	return gov_grant_end_ex(g, actor_id, old, "revoked", reason, !connected);
}

/* The system of entitlement ent (into sys) and its connector kind (into kind). */
static int ent_connector(gh_gov *g, const char *ent, char sys[GH_ID_LEN], char kind[32])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT s.id, s.connector FROM entitlements e"
				" JOIN systems s ON s.id = e.system_id WHERE e.id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, ent, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(sys, GH_ID_LEN, st, 0);
		copy_text(kind, 32, st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gh_error_set(GH_ENOTFOUND, "entitlement %s not found", ent);
	return rc == SQLITE_ROW ? 0 : gh_store_fail(g->store, "reading an entitlement's system");
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
	sqlite3_stmt *st;
	int rc, connected;

	gh_id_new(grant_id, sizeof(grant_id), "grt");
	if ((rc = ent_connector(g, ent, sys, kind)))
		return rc;
	connected = gov_connector_connected(kind);
	if ((rc = audit(g, actor_id, "request.provisioning", "request", request_id,
			json_pack("{s:s}", "connector", kind))))
		return rc;
	if ((rc = supersede(g, actor_id, request_id, grant_id, connected)))
		return rc;
	if ((rc = gov_grant_check_new(connected ? "provisioning" : "active")) ||
	    (rc = gh_store_stmt(&st, g->store,
				"INSERT INTO grants(id, subject_id, entitlement_id, request_id, status,"
				" granted_at, expires_at, break_glass, review_due_at, review_state,"
				" provisioning_status)"
				" VALUES (?1, ?2, ?3, ?4, CASE WHEN ?8 THEN 'provisioning' ELSE 'active' END,"
				" ?5, ?6, ?7 IS NOT NULL, ?7, CASE WHEN ?7 IS NOT NULL THEN 'pending' END,"
				" CASE WHEN ?8 THEN 'pending' ELSE 'done' END)")))
		return rc;
	sqlite3_bind_int(st, 8, connected);
	if (review_due > 0)
		sqlite3_bind_int64(st, 7, review_due);
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, expires);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return gh_store_fail(g->store, "creating a grant");
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
	sqlite3_stmt *st;
	char req[GH_ID_LEN] = "", grant[GH_ID_LEN] = "";
	int rc;

	extends[0] = '\0';
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT (SELECT id FROM requests WHERE subject_id = ?1"
				"   AND entitlement_id = ?2 AND state IN ('submitted',"
				"   'pending_approval', 'approved', 'provisioning') LIMIT 1),"
				" (SELECT id FROM grants WHERE subject_id = ?1 AND status = 'active'"
				"   AND entitlement_id = ?2 LIMIT 1)")))
		return rc;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ent, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(req, sizeof(req), st, 0);
		copy_text(grant, sizeof(grant), st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return gh_store_fail(g->store, "looking for open requests");
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
	sqlite3_stmt *st;
	int rc, n = 0;

	if ((rc = gh_store_stmt(&st, g->store,
				/* driven from the (usually empty) conflict set, not the
				 * subject's grants */
				"SELECT e.id, e.name, gr.id FROM"
				" (SELECT b AS other FROM entitlement_conflicts WHERE a = ?2"
				"  UNION SELECT a FROM entitlement_conflicts WHERE b = ?2) c"
				" JOIN grants gr ON gr.subject_id = ?1 AND gr.entitlement_id = c.other"
				"  AND gr.status IN ('active', 'provisioning')"
				" JOIN entitlements e ON e.id = c.other"
				" ORDER BY e.name")))
		return rc;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ent, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char buf[512];
		snprintf(buf, sizeof(buf), "segregation of duties: subject %s holds %s (grant %s),"
			 " which conflicts with %s", subject_name, sqlite3_column_text(st, 1),
			 sqlite3_column_text(st, 2), ent_name);
		if (json_array_append_new(reasons, json_string(buf))) {
			sqlite3_reset(st);
			return nomem("recording a conflict");
		}
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return gh_store_fail(g->store, "checking segregation of duties");
	return n;
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
	const char *state;
	sqlite3_stmt *st;
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
	if ((rc = gov_request_check_new(strcmp(state, "active") == 0 ? "approved" : state)) ||
	    (rc = gh_store_stmt(&st, g->store,
				"INSERT INTO requests(id, state, ticket_ref, channel, submitted_by,"
				" requester_id, subject_id, entitlement_id, justification, duration,"
				" emergency, decision, required_approvals, sla_due_at, close_reason,"
				" created_at, updated_at, closed_at, extends_grant_id, break_glass,"
				" incident_ref)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
				" ?15, ?16, ?16, ?17, ?18, ?19, ?20)")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, strcmp(state, "active") == 0 ? "approved" : state, -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in.ticket_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, in.channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, actor->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, in.requester_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, in.subject_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, in.ent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, in.justification, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, in.duration);
	sqlite3_bind_int(st, 11, in.emergency);
	sqlite3_bind_text(st, 12, decision_text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 13, d.required_approvals);
	if (strcmp(state, "pending_approval") == 0)
		sqlite3_bind_int64(st, 14, now + g->opts.pending_sla);
	if (strcmp(state, "denied") == 0) {
		sqlite3_bind_text(st, 15, "decision_denied", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 17, now);
	}
	sqlite3_bind_int64(st, 16, now);
	if (*extends)
		sqlite3_bind_text(st, 18, extends, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 19, in.break_glass);
	sqlite3_bind_text(st, 20, in.incident_ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "recording a request");
		goto cleanup;
	}

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
	sqlite3_stmt *st;
	int rc;

	*active = *servicedesk = 0;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT status = 'active', EXISTS (SELECT 1 FROM json_each(roles)"
				" WHERE value = 'servicedesk') FROM identities WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*active = sqlite3_column_int(st, 0);
		*servicedesk = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
						      gh_store_fail(g->store, "loading the approver");
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
	if (strcmp(actor->id, r->submitted_by) == 0)
		return gh_error_set(GH_EDENIED, "not_submitter: nobody approves a request "
				    "they submitted");
	if ((rc = add_check(checks, "not_submitter")))
		return rc;
	if (strcmp(actor->id, r->requester) == 0)
		return gh_error_set(GH_EDENIED, "not_requester: nobody approves a request "
				    "made on their behalf");
	if ((rc = add_check(checks, "not_requester")))
		return rc;
	if (strcmp(actor->id, r->subject) == 0)
		return gh_error_set(GH_EDENIED, "not_subject: nobody approves access they "
				    "would receive");
	if ((rc = add_check(checks, "not_subject")))
		return rc;
	if (strcmp(actor->id, r->subject_owner) == 0)
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
	if ((rc = gh_gov_group_contains(g, r->control_group, actor->id)) < 0)
		return rc;
	if (rc == 1)
		return add_check(checks, "in_control_owner_group");
	if ((rc = gov_delegation_covering(g, dlg, r->entitlement, actor->id, gh_now())) < 0)
		return rc;
	if (rc == 0)
		return gh_error_set(GH_EDENIED, "in_control_owner_group: the approver is not a "
				    "member of the entitlement's control-owner group %s, and no "
				    "active delegation covers it",
				    gov_name_of(g, r->control_group, name, sizeof(name)));
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
	sqlite3_stmt *st;
	int rc, decided = 0;

	if ((rc = check_decider(g, actor, r, checks)))
		return rc;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT count(*), coalesce(sum(approver_id = ?2), 0) FROM approvals"
				" WHERE request_id = ?1")))
		return rc;
	sqlite3_bind_text(st, 1, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, actor->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*step = sqlite3_column_int(st, 0) + 1;
		decided = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return gh_store_fail(g->store, "counting approvals");
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
	    (rc = gov_identity_facts(&subject, g, r->subject)) ||
	    (rc = gov_entitlement_facts(&ent, g, r->entitlement)))
		goto cleanup;
	facts = json_pack("{s:o, s:o, s:o, s:{s:s, s:s, s:s, s:s, s:I, s:b, s:i, s:s, s:s*}}",
			  "approver", approver, "subject", subject, "entitlement", ent,
			  "request", "id", request_id, "state", r->state, "requester", r->requester,
			  "submitted_by", r->submitted_by,
			  "duration_seconds", (json_int_t)r->duration, "emergency", r->emergency,
			  "required_approvals", r->required, "channel", r->channel,
			  "ticket_ref", *r->ticket_ref ? r->ticket_ref : NULL);
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

	if (strcmp(r->subject_status, "active") != 0)
		return gh_error_set(GH_ECONFLICT, "subject %s is %s; access cannot be granted",
				    r->subject_name, r->subject_status);
	if (r->subject_expires <= gh_now())
		return gh_error_set(GH_ECONFLICT, "subject %s has passed its expires_at; access "
				    "cannot be granted until its owner renews it", r->subject_name);
	if (!r->requestable)
		return gh_error_set(GH_ECONFLICT, "entitlement %s is no longer requestable; access "
				    "cannot be granted (reject this request, or make the "
				    "entitlement requestable again)", r->ent_name);
	if (!(reasons = json_array()))
		return nomem("checking segregation of duties");
	n = gov_sod_conflicts(g, reasons, r->subject_name, r->subject, r->entitlement, r->ent_name);
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
	sqlite3_stmt *st;
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
	if (strcmp(r.state, "pending_approval") != 0) {
		rc = gh_error_set(GH_ECONFLICT, "request %s is %s; only a pending request can be %s",
				  id, r.state, approve ? "approved" : "rejected");
		goto cleanup;
	}
	if ((rc = check_approver(g, actor, id, &r, checks, &step)))
		goto cleanup;
	/* policy comes after the invariants: it can refuse, never allow more */
	if (approve && (rc = check_policy_approve(g, actor, id, &r, checks, &policy)))
		goto cleanup;
	if (approve && step >= r.required && (rc = check_grantable(g, &r)))
		goto cleanup;
	if (!(checks_text = gh_json_canonical(checks)) ||
	    (policy && !(policy_text = gh_json_canonical(policy)))) {
		rc = nomem("recording checks");
		goto cleanup;
	}
	gh_id_new(approval_id, sizeof(approval_id), "apr");
	if ((rc = gh_store_stmt(&st, g->store,
				"INSERT INTO approvals(id, request_id, approver_id, decision, comment,"
				" step, checks, created_at, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")))
		goto cleanup;
	sqlite3_bind_text(st, 1, approval_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, actor->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, approve ? "approve" : "reject", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, comment, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, step);
	sqlite3_bind_text(st, 7, checks_text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now);
	if (policy_text)
		sqlite3_bind_text(st, 9, policy_text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = gh_store_fail(g->store, "recording an approval");
		goto cleanup;
	}

	if (!approve) {
		if ((rc = gov_request_move(g, id, r.state, "rejected",
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
					  "required_approvals", r.required, "checks", checks,
					  "policy", policy))))
			goto cleanup;
		if (step >= r.required) {
			if ((rc = gov_request_move(g, id, r.state, "approved",
						   &(gov_request_change){.now = now})) ||
			    (rc = audit(g, actor->id, "request.approved", "request", id,
					json_pack("{s:s, s:i}", "by", "approvals", "approvals", step))))
				goto cleanup;
			if ((rc = gov_provision(g, actor->id, id, r.subject, r.entitlement, r.duration,
					    r.max_duration, now)))
				goto cleanup;
		} else {
			if ((rc = gh_store_stmt(&st, g->store,
						"UPDATE requests SET updated_at = ? WHERE id = ?")))
				goto cleanup;
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc != SQLITE_DONE) {
				rc = gh_store_fail(g->store, "recording an approval");
				goto cleanup;
			}
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
	char state[16] = "";
	sqlite3_stmt *st;
	int rc, bg = 0;

	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT request_id, break_glass, coalesce(review_state, ''),"
				" status IN ('active', 'provisioning') FROM grants WHERE id = ?")))
		return rc;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(request_id, GH_ID_LEN, st, 0);
		bg = sqlite3_column_int(st, 1);
		copy_text(state, sizeof(state), st, 2);
		*active = sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gh_error_set(GH_ENOTFOUND, "grant %s not found", grant_id);
	if (rc != SQLITE_ROW)
		return gh_store_fail(g->store, "loading a grant");
	if (!bg)
		return gh_error_set(GH_ECONFLICT, "grant %s is not a break-glass grant; only those "
				    "are reviewed", grant_id);
	if (strcmp(state, "pending") != 0)
		return gh_error_set(GH_ECONFLICT, "the review of grant %s is %s; only a pending "
				    "review can be decided", grant_id, state);
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
	sqlite3_stmt *st;
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
	if ((rc = gh_store_stmt(&st, g->store,
				"UPDATE grants SET review_state = ?2, reviewed_by = ?3, reviewed_at = ?4,"
				" review_comment = ?5 WHERE id = ?1 AND review_state = 'pending'")))
		goto cleanup;
	sqlite3_bind_text(st, 1, grant_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, revoke ? "revoked" : "confirmed", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, actor->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_text(st, 5, comment, -1, SQLITE_STATIC);
	if ((rc = gov_step_done(g, st, "recording a review")))
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
	if (strcmp(actor->id, r.submitted_by) != 0 && strcmp(actor->id, r.requester) != 0 &&
	    !(actor->roles & (GH_ROLE_ADMIN | GH_ROLE_IAM))) {
		rc = gh_error_set(GH_EFORBIDDEN, "only the submitter, the requester, admin or iam "
				  "may cancel a request");
		goto cleanup;
	}
	if (strcmp(r.state, "pending_approval") != 0 && strcmp(r.state, "submitted") != 0) {
		rc = gh_error_set(GH_ECONFLICT, "request %s is %s; only a pending request can be "
				  "cancelled", id, r.state);
		goto cleanup;
	}
	if ((rc = gov_request_move(g, id, r.state, "cancelled",
				   &(gov_request_change){.now = now, .reason = reason})))
		goto cleanup;
	if ((rc = audit(g, actor->id, "request.cancelled", "request", id,
			json_pack("{s:s, s:s}", "reason", reason, "from", r.state))))
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
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if ((rc = gov_list_filter(g, &q, page)))
		goto cleanup;
	if ((rc = gh_store_stmt(&st, g->store,
				"SELECT " REQ_COLS " FROM requests r WHERE r.pk > ?1"
				" AND (?2 IS NULL OR r.state = ?2)"
				" AND (?3 IS NULL OR r.subject_id = ?3)"
				" AND (?4 IS NULL OR r.entitlement_id = ?4)"
				" AND (?5 IS NULL OR r.submitted_by = ?5 OR r.requester_id = ?5"
				"  OR r.subject_id = ?5"
				"  OR r.subject_id IN (SELECT id FROM identities WHERE owner_id = ?5))"
				" ORDER BY r.pk LIMIT ?6")))
		goto cleanup;
	gov_list_bind(st, &q, reads_own_only(actor) ? actor->id : NULL);
	rc = gov_list_collect(out, g, st, &q, request_json);
cleanup:
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_request_history(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	char grant_id[GH_ID_LEN] = "";
	json_t *items = NULL;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	if ((rc = gov_request_visible(g, actor, id)))
		goto cleanup;
	if ((rc = gh_store_stmt(&st, g->store, "SELECT grant_id FROM requests WHERE id = ?")))
		goto cleanup;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_text(grant_id, sizeof(grant_id), st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "request %s not found", id);
		goto cleanup;
	}
	if (rc != SQLITE_ROW) {
		rc = gh_store_fail(g->store, "loading a request");
		goto cleanup;
	}
	if ((rc = gh_store_events_about(&items, g->store, id, *grant_id ? grant_id : NULL)))
		goto cleanup;
	*out = json_pack("{s:O}", "items", items);
	rc = *out ? 0 : nomem("reading history");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}
