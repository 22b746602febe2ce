/* evidence.c - a request's whole chain in one document: who asked, what decided
 * and under which policy, who approved with which checks, the grant, the end. */
#include "gov/gov_internal.h"
#include "store/evidence.h"

#include <string.h>

static int nomem(void)
{
	return gh_error_set(GH_ERROR, "out of memory assembling evidence");
}

/* {"id","name"} of an identity, with "roles" (with_roles 1) or "kind" and
 * "owner" (with_roles 2); {"id","name":null} when it is gone; null for none. */
static json_t *who(gh_gov *g, const char *id, int with_roles, int *rc)
{
	json_t *row, *j;

	if (!id || !*id)
		return json_null();
	if ((*rc = gh_store_evidence_identity(&row, g->store, id)))
		return NULL;
	if (!row)
		j = json_pack("{s:s, s:n}", "id", id, "name");
	else if (with_roles == 1)
		j = json_pack("{s:O, s:O, s:O}", "id", json_object_get(row, "id"),
			      "name", json_object_get(row, "name"),
			      "roles", json_object_get(row, "roles"));
	else if (with_roles == 2)
		j = json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(row, "id"),
			      "name", json_object_get(row, "name"),
			      "kind", json_object_get(row, "kind"),
			      "owner", json_object_get(row, "owner"));
	else
		j = json_pack("{s:O, s:O}", "id", json_object_get(row, "id"),
			      "name", json_object_get(row, "name"));
	json_decref(row);
	if (!j)
		*rc = nomem();
	return j;
}

/* Appends the items of the array key of src (may be absent) to dst. */
static int gather(json_t *dst, const json_t *src, const char *key)
{
	json_t *a = json_object_get(src, key);

	return json_is_array(a) ? json_array_extend(dst, a) : 0;
}

/* The whole SHA-256 of the policy version a decision names ("v3 pol_...
 * sha256:<prefix>"), read from the version itself; JSON null for the
 * built-in rule or an invariant, or when the version cannot be found. */
static json_t *version_sha256(gh_gov *g, const char *version)
{
	const char *p = version ? strstr(version, "pol_") : NULL;
	char id[GH_ID_LEN];
	json_t *sha = NULL;
	size_t n;

	if (!p)
		return json_null();
	n = strcspn(p, " ");
	if (n >= sizeof(id))
		return json_null();
	memcpy(id, p, n);
	id[n] = '\0';
	/* evidence without the hash rather than none */
	if (gh_store_evidence_policy_sha256(&sha, g->store, id))
		gh_error_clear();
	return sha ? sha : json_null();
}

/* The stored decision as evidence: the "request" decision and, for
 * break-glass, the "break_glass" one, their determining policies and errors
 * together. */
static json_t *decision_evidence(gh_gov *g, const json_t *d, json_t *decided_at)
{
	const char *version = json_string_value(json_object_get(d, "policy_version"));
	const json_t *bg = json_object_get(d, "break_glass");
	json_t *det = json_array(), *err = json_array(), *reasons = json_array(), *j;

	if (!det || !err || !reasons || gather(det, d, "determining") ||
	    gather(det, bg, "determining") || gather(err, d, "errors") ||
	    gather(err, bg, "errors") || gather(reasons, d, "reasons")) {
		json_decref(det);
		json_decref(err);
		json_decref(reasons);
		json_decref(decided_at);
		return NULL;
	}
	j = json_pack("{s:O?, s:o, s:O?, s:O?, s:O?, s:o, s:o, s:o, s:o}",
		      "policy_version", json_object_get(d, "policy_version"),
		      "policy_sha256", version_sha256(g, version),
		      "source", json_object_get(d, "source"),
		      "outcome", json_object_get(d, "outcome"),
		      "required_approvals", json_object_get(d, "required_approvals"),
		      "determining", det, "errors", err, "reasons", reasons,
		      "decided_at", decided_at);
	if (j && bg && json_object_set(j, "break_glass", (json_t *)bg)) {
		json_decref(j);
		return NULL;
	}
	/* why an auto-approval needed a person after all (four eyes, change.c) */
	if (j && json_object_get(d, "controls_changed_by") &&
	    json_object_set(j, "controls_changed_by", json_object_get(d, "controls_changed_by"))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The approvals with who, checks and the policy's answer. */
static json_t *approvals_evidence(gh_gov *g, const json_t *approvals, int *rc)
{
	json_t *out = json_array(), *a, *item, *policy;
	size_t i;

	if (!out) {
		*rc = nomem();
		return NULL;
	}
	json_array_foreach(approvals, i, a) {
		json_t *p = json_object_get(a, "policy");
		json_t *approver = who(g, json_string_value(json_object_get(a, "approver")), 0, rc);

		if (!approver)
			goto fail;
		policy = json_is_object(p) ?
			json_pack("{s:O?, s:O?}", "determining", json_object_get(p, "determining"),
				  "errors", json_object_get(p, "errors")) : json_null();
		item = json_pack("{s:o, s:O, s:O, s:O, s:O, s:O, s:o}", "approver", approver,
				 "decision", json_object_get(a, "decision"),
				 "comment", json_object_get(a, "comment"),
				 "step", json_object_get(a, "step"), "at", json_object_get(a, "at"),
				 "checks", json_object_get(a, "checks"), "policy", policy);
		if (!item || json_array_append_new(out, item)) {
			*rc = nomem();
			goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static json_t *grant_evidence(gh_gov *g, const char *grant_id, int *rc)
{
	json_t *gr = NULL, *j;

	if (!grant_id || !*grant_id)
		return json_null();
	if ((*rc = gov_grant_load(&gr, g, grant_id)))
		return NULL;
	j = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(gr, "id"),
		      "granted_at", json_object_get(gr, "granted_at"),
		      "expires_at", json_object_get(gr, "expires_at"),
		      "status", json_object_get(gr, "status"),
		      "ended_at", json_object_get(gr, "revoked_at"),
		      "end_reason", json_object_get(gr, "revoke_reason"),
		      "break_glass", json_object_get(gr, "break_glass"));
	json_decref(gr);
	if (!j)
		*rc = nomem();
	return j;
}

/* {"first_seq","last_seq","events"} over the request's and its grant's events. */
static json_t *audit_summary(gh_gov *g, const char *req_id, const char *grant_id, int *rc)
{
	int64_t first, last, count;
	json_t *j;

	if ((*rc = gh_store_evidence_audit_span(&first, &last, &count, g->store, req_id,
						grant_id && *grant_id ? grant_id : NULL)))
		return NULL;
	if (!(j = json_pack("{s:I, s:I, s:I}", "first_seq", (json_int_t)first,
			    "last_seq", (json_int_t)last, "events", (json_int_t)count)))
		*rc = nomem();
	return j;
}

/* {"id","name","system","risk_tier","control_owner_group"} with names. */
static json_t *entitlement_evidence(gh_gov *g, const char *id, int *rc)
{
	json_t *j;

	if ((*rc = gh_store_evidence_entitlement(&j, g->store, id)))
		return NULL;
	if (!j)
		*rc = gh_error_set(GH_ENOTFOUND, "entitlement %s not found", id);
	return j;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int gh_gov_request_evidence(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	json_t *r = NULL, *request = NULL, *submitted = NULL, *requester = NULL, *subject = NULL;
	json_t *ent = NULL, *decision = NULL, *approvals = NULL, *grant = NULL, *summary = NULL;
	const char *grant_id;
	int rc;

	*out = NULL;
	gh_error_clear();
	gh_store_read_begin(g->store);
	if ((rc = gov_request_visible(g, actor, id)) || (rc = gov_request_load(&r, g, id)))
		goto cleanup;
	grant_id = str(r, "grant");
	request = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(r, "id"),
			    "ticket_ref", json_object_get(r, "ticket_ref"),
			    "channel", json_object_get(r, "channel"),
			    "justification", json_object_get(r, "justification"),
			    "created_at", json_object_get(r, "created_at"),
			    "break_glass", json_object_get(r, "break_glass"),
			    "incident_ref", json_object_get(r, "incident_ref"));
	if (!request) {
		rc = nomem();
		goto cleanup;
	}
	if (!(submitted = who(g, str(r, "submitted_by"), 1, &rc)) ||
	    !(requester = who(g, str(r, "requester"), 1, &rc)) ||
	    !(subject = who(g, str(r, "subject"), 2, &rc)) ||
	    !(ent = entitlement_evidence(g, str(r, "entitlement"), &rc)) ||
	    !(approvals = approvals_evidence(g, json_object_get(r, "approvals"), &rc)) ||
	    !(grant = grant_evidence(g, grant_id, &rc)) ||
	    !(summary = audit_summary(g, id, grant_id, &rc)))
		goto cleanup;
	if (!(decision = decision_evidence(g, json_object_get(r, "decision"),
					   json_incref(json_object_get(r, "created_at"))))) {
		rc = nomem();
		goto cleanup;
	}
	*out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:{s:O, s:O, s:O}, s:O}",
			 "request", request, "submitted_by", submitted, "requester", requester,
			 "subject", subject, "entitlement", ent, "decision", decision,
			 "approvals", approvals, "grant", grant,
			 "outcome", "state", json_object_get(r, "state"),
			 "closed_at", json_object_get(r, "closed_at"),
			 "reason", json_object_get(r, "close_reason"),
			 "audit", summary);
	if (!*out)
		rc = nomem();
cleanup:
	gh_store_read_end(g->store);
	json_decref(r);
	json_decref(request);
	json_decref(submitted);
	json_decref(requester);
	json_decref(subject);
	json_decref(ent);
	json_decref(decision);
	json_decref(approvals);
	json_decref(grant);
	json_decref(summary);
	return rc;
}
