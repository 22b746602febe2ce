/* simulate.c - what a policy version would change: pending requests
 * re-decided as submit decides them, and active grants it no longer permits.
 * One pass serves the what-if (read-only) and activation (which applies the
 * flips in its own transaction), so the two cannot disagree. */
#include "gov/gov_internal.h"
#include "store/catalog.h"
#include "store/policies.h"
#include "store/simulate.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SIMULATE_TEXT_MAX (1024 * 1024)

/* A pending request, or an active grant with the request it came from. */
typedef gh_store_sim_item item;

/* One re-decision pass. */
typedef struct pass {
	gh_gov *g;
	const gh_decider *dc;
	json_t *identities;         /* id -> identity facts, loaded once a pass */
	json_t *entitlements;       /* id -> entitlement facts */
	json_t *granted;            /* [{"subject","ent","request"}] this pass would grant */
} pass;

/* What one pending request becomes. */
typedef struct flip {
	const item *p;
	gh_decision d;
	int64_t catalog_max;
	const char *effect;         /* "deny", "grant" or "require_approvals" */
} flip;

static int nomem(void)
{
	return gh_error_set(GH_ERROR, "out of memory simulating a policy version");
}

/* Facts of id from cache, loading them once (borrowed). */
static int cached(const json_t **out, json_t *cache, gh_gov *g, const char *id, int identity)
{
	json_t *f;
	int rc;

	if ((*out = json_object_get(cache, id)))
		return 0;
	if ((rc = identity ? gov_identity_facts(&f, g, id) : gov_entitlement_facts(&f, g, id)))
		return rc;
	if (json_object_set_new(cache, id, f))
		return nomem();
	*out = f;
	return 0;
}

/* Makes d a denial; source and version (NULL: kept) name what decided. */
static int deny(gh_decision *d, const char *source, const char *version, int64_t catalog_max)
{
	snprintf(d->outcome, sizeof(d->outcome), "denied");
	if (source)
		snprintf(d->source, sizeof(d->source), "%s", source);
	if (version)
		snprintf(d->policy_version, sizeof(d->policy_version), "%s", version);
	d->required_approvals = 0;
	d->max_duration = catalog_max;
	return 0;
}

static int add_reason(gh_decision *d, const char *what, const char *s)
{
	char buf[600];

	snprintf(buf, sizeof(buf), "%s%s", what, s);
	return json_array_append_new(d->reasons, json_string(buf)) ? nomem() : 0;
}

/* Segregation of duties with what the subject holds, and with what this
 * pass would grant it before this request: appends one reason each. */
static int sod(int *n, pass *ps, gh_decision *d, const item *p, const char *sname,
	       const char *ename)
{
	size_t i;
	json_t *v;
	int rc;

	if ((*n = gov_sod_conflicts(ps->g, d->reasons, sname, p->subject, p->ent, ename)) < 0)
		return *n;
	json_array_foreach(ps->granted, i, v) {
		const char *other = json_string_value(json_object_get(v, "ent"));
		char buf[400];

		if (strcmp(json_string_value(json_object_get(v, "subject")), p->subject) != 0)
			continue;
		rc = gh_store_entitlement_conflict(ps->g->store, p->ent, other);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		snprintf(buf, sizeof(buf), "segregation of duties: subject %s would also be granted "
			 "%s (request %s) under this policy, which conflicts with %s", sname, other,
			 json_string_value(json_object_get(v, "request")), ename);
		if (json_array_append_new(d->reasons, json_string(buf)))
			return nomem();
		(*n)++;
	}
	return 0;
}

/* The raw @approver_group values become group ids as submit resolves them;
 * one that names no group denies (fail closed). */
static int resolve_groups(gh_decision *d, gh_gov *g, int64_t catalog_max)
{
	int rc = gov_resolve_approver_groups(g, d);

	if (!rc && strcmp(d->outcome, "denied") == 0)
		deny(d, NULL, NULL, catalog_max);
	return rc;
}

/* facts as submit builds them */
static json_t *request_facts(const json_t *subject, const json_t *ent, const json_t *submitter,
			     const item *p)
{
	return json_pack("{s:O, s:O, s:O*, s:{s:I, s:b, s:s, s:s*, s:s, s:s}}", "subject", subject,
			 "entitlement", ent, "submitter", submitter, "request", "duration_seconds", (json_int_t)p->duration,
			 "emergency", p->emergency, "channel", p->channel, "ticket_ref",
			 p->has_ticket ? p->ticket : NULL, "requester", p->requester,
			 "submitted_by", p->submitted_by);
}

/* Decides p under ps->dc as submit would decide it now: the subject must
 * be active and the entitlement requestable, then segregation of duties,
 * then the decider; the catalog's maximum caps the grant. only_request
 * (for grants) skips all but the decider. */
static int redecide(gh_decision *d, int64_t *catalog_max, pass *ps, const item *p,
		    int only_request)
{
	const json_t *subject, *ent, *submitter;
	const char *sname, *ename, *status;
	json_t *facts = NULL;
	int rc, n = 0;

	memset(d, 0, sizeof(*d));
	if ((rc = cached(&subject, ps->identities, ps->g, p->subject, 1)) ||
	    (rc = cached(&ent, ps->entitlements, ps->g, p->ent, 0)))
		return rc;
	if ((rc = cached(&submitter, ps->identities, ps->g, p->submitted_by, 1))) {
		if (rc != GH_ENOTFOUND)
			return rc;
		gh_error_clear();
		submitter = NULL;
	}
	sname = json_string_value(json_object_get(subject, "name"));
	ename = json_string_value(json_object_get(ent, "name"));
	status = json_string_value(json_object_get(subject, "status"));
	*catalog_max = json_integer_value(json_object_get(ent, "max_duration_seconds"));
	if (!only_request) {
		if (!(d->reasons = json_array()))
			return nomem();
		if (strcmp(status ? status : "", "active") != 0)
			rc = add_reason(d, "the subject is not active: ", status ? status : "?");
		if (!rc && !json_is_true(json_object_get(ent, "requestable")))
			rc = add_reason(d, "the entitlement is not requestable: ", ename);
		if (!rc && json_array_size(d->reasons) > 0)
			return deny(d, "intake", "invariant", *catalog_max);
		if (!rc)
			rc = sod(&n, ps, d, p, sname ? sname : p->subject, ename ? ename : p->ent);
		if (rc || n > 0)
			return rc ? rc : deny(d, "segregation-of-duties", "invariant-1", *catalog_max);
		gh_decision_clear(d);
	}
	if (!(facts = request_facts(subject, ent, submitter, p)))
		return nomem();
	rc = ps->dc->decide(ps->dc->ctx, d, facts);
	json_decref(facts);
	if (rc)
		return rc;
	if (!d->reasons && !(d->reasons = json_array()))
		return nomem();
	/* as submit: not auto-approved for whoever last changed the controls */
	if (!only_request &&
	    (rc = gov_controls_hold(ps->g, d, p->ent, p->requester, p->subject,
				    json_string_value(json_object_get(subject, "owner")),
				    p->submitted_by)))
		return rc;
	/* as submit: the catalog's maximum bounds every grant */
	if (d->max_duration <= 0 || d->max_duration > *catalog_max)
		d->max_duration = *catalog_max;
	if (strcmp(d->outcome, "auto_approved") == 0)
		d->required_approvals = 0;
	else if (strcmp(d->outcome, "approval_required") == 0 && d->required_approvals < 1)
		d->required_approvals = 1;
	else if (strcmp(d->outcome, "approval_required") != 0)
		deny(d, NULL, NULL, *catalog_max);
	return strcmp(d->outcome, "denied") ? resolve_groups(d, ps->g, *catalog_max) : 0;
}

/* What activation would do with pending request p decided as d: NULL when
 * nothing changes. */
static const char *effect_of(const gh_decision *d, const item *p)
{
	if (strcmp(d->outcome, "denied") == 0)
		return "deny";
	if (strcmp(d->outcome, "auto_approved") == 0)
		return "grant";
	if (d->required_approvals == p->required)
		return NULL;
	return p->approvals >= d->required_approvals ? "grant" : "require_approvals";
}

/* The names people read for p's subject and entitlement (ids when unknown). */
typedef struct names {
	char subject[80];
	char ent[160];
} names;

static int names_of(names *n, gh_gov *g, const item *p)
{
	int rc = gov_name_in(g, "identities", p->subject, n->subject, sizeof(n->subject));

	if (rc && rc != GH_ENOTFOUND)
		return rc;
	rc = gov_name_in(g, "entitlements", p->ent, n->ent, sizeof(n->ent));
	return rc == GH_ENOTFOUND ? 0 : rc;
}

static json_t *flip_json(const flip *f, const names *n)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:i}, s:{s:s, s:i, s:O}, s:s}",
			 "request", f->p->id, "subject", f->p->subject, "subject_name", n->subject,
			 "entitlement", f->p->ent, "entitlement_name", n->ent,
			 "from", "outcome", "approval_required", "required_approvals",
			 f->p->required, "to", "outcome", f->d.outcome, "required_approvals",
			 f->d.required_approvals, "reasons", f->d.reasons, "effect", f->effect);
}

static json_t *candidate_json(const item *p, const gh_decision *d, const names *n)
{
	char when[40];

	gh_time_format(when, sizeof(when), p->expires_at);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "grant", p->id, "subject",
			 p->subject, "subject_name", n->subject, "entitlement", p->ent,
			 "entitlement_name", n->ent, "expires_at", when, "reasons", d->reasons);
}

/* --- applying (activation) ---------------------------------------------- */

static int audit(gh_gov *g, const char *actor, const char *action, const char *id,
		 json_t *details)
{
	int rc;

	if (!details)
		return nomem();
	rc = gh_audit_append(NULL, g->store, actor, action, "request", id, details);
	json_decref(details);
	return rc;
}

/* One flip, inside the activation's transaction: the request's row, its
 * request.redecided event and, for a grant, the grant. */
static int apply(gh_gov *g, const char *actor, const flip *f, int64_t now)
{
	const char *state = strcmp(f->effect, "deny") == 0 ? "denied"
			    : strcmp(f->effect, "grant") == 0 ? "approved" : "pending_approval";
	json_t *dj = gov_decision_json(&f->d, f->catalog_max);
	char *text = dj ? gh_json_canonical(dj) : NULL;
	int rc;

	if (!text) {
		rc = nomem();
		goto cleanup;
	}
	if ((rc = gov_request_move(g, f->p->id, "pending_approval", state,
				   &(gov_request_change){
					   .now = now, .decision = text,
					   .required_approvals = f->d.required_approvals,
					   .reason = strcmp(state, "denied") == 0 ? "policy_changed"
										  : NULL})))
		goto cleanup;
	if ((rc = audit(g, actor, "request.redecided", f->p->id,
			json_pack("{s:O, s:{s:s, s:i}, s:s, s:s, s:s}", "decision", dj, "from",
				  "outcome", "approval_required", "required_approvals",
				  f->p->required, "effect", f->effect, "state", state,
				  "policy_version", f->d.policy_version))))
		goto cleanup;
	if (strcmp(state, "approved") != 0)
		goto cleanup;
	if ((rc = audit(g, actor, "request.approved", f->p->id,
			json_pack("{s:s, s:s, s:i}", "by", "policy_change", "source", f->d.source,
				  "approvals", f->p->approvals))))
		goto cleanup;
	rc = gov_provision(g, actor, f->p->id, f->p->subject, f->p->ent, f->p->duration,
			   f->d.max_duration, now);
cleanup:
	json_decref(dj);
	free(text);
	return rc;
}

/* --- the pass ------------------------------------------------------------ */

static int pending_pass(json_t *out, pass *ps, const char *apply_as)
{
	item *items = NULL;
	flip *flips = NULL;
	names nm;
	json_t *list = json_array(), *j;
	size_t n = 0, nf = 0;
	int64_t now = gh_now();
	int rc;

	if (!list)
		return nomem();
	if ((rc = gh_store_sim_pending(&items, &n, ps->g->store)))
		goto cleanup;
	if (n && !(flips = calloc(n, sizeof(*flips)))) {
		rc = nomem();
		goto cleanup;
	}
	/* every decision first, on the state as it is; then the changes */
	for (size_t i = 0; i < n && !rc; i++) {
		flip *f = &flips[nf];

		f->p = &items[i];
		if ((rc = redecide(&f->d, &f->catalog_max, ps, f->p, 0)))
			break;
		if (!(f->effect = effect_of(&f->d, f->p))) {
			gh_decision_clear(&f->d);
			continue;
		}
		nf++;
		if (strcmp(f->effect, "grant") == 0 &&
		    json_array_append_new(ps->granted, json_pack("{s:s, s:s, s:s}", "subject",
								 f->p->subject, "ent", f->p->ent,
								 "request", f->p->id)))
			rc = nomem();
		if (!rc && !(rc = names_of(&nm, ps->g, f->p)) &&
		    (!(j = flip_json(f, &nm)) || json_array_append_new(list, j)))
			rc = nomem();
	}
	for (size_t i = 0; i < nf && !rc && apply_as; i++)
		rc = apply(ps->g, apply_as, &flips[i], now);
	if (!rc && json_object_set_new(out, "requests", json_pack("{s:I, s:O}", "evaluated",
								  (json_int_t)n, "flips", list)))
		rc = nomem();
cleanup:
	for (size_t i = 0; flips && i < n; i++)
		gh_decision_clear(&flips[i].d);
	free(flips);
	free(items);
	json_decref(list);
	return rc;
}

/* Active grants whose request the policy would no longer permit. */
static int grants_pass(json_t *out, pass *ps)
{
	item *items = NULL;
	names nm;
	json_t *list = json_array(), *j;
	gh_decision d = {0};
	int64_t max;
	size_t n = 0;
	int rc;

	if (!list)
		return nomem();
	if ((rc = gh_store_sim_grants(&items, &n, ps->g->store)))
		goto cleanup;
	for (size_t i = 0; i < n && !rc; i++) {
		if ((rc = redecide(&d, &max, ps, &items[i], 1)))
			break;
		if (strcmp(d.outcome, "denied") == 0 && !(rc = names_of(&nm, ps->g, &items[i])) &&
		    (!(j = candidate_json(&items[i], &d, &nm)) || json_array_append_new(list, j)))
			rc = nomem();
		gh_decision_clear(&d);
	}
	if (!rc && json_object_set_new(out, "grants", json_pack("{s:I, s:O}", "evaluated",
								(json_int_t)n,
								"revocation_candidates", list)))
		rc = nomem();
cleanup:
	gh_decision_clear(&d);
	free(items);
	json_decref(list);
	return rc;
}

int gov_policy_effects(json_t **out, gh_gov *g, const gh_decider *d, const char *apply_as)
{
	pass ps = {g, d, json_object(), json_object(), json_array()};
	int rc;

	*out = json_object();
	if (!*out || !ps.identities || !ps.entitlements || !ps.granted)
		rc = nomem();
	else
		/* grants first: what a flip provisions is not a candidate */
		rc = grants_pass(*out, &ps);
	if (!rc)
		rc = pending_pass(*out, &ps, apply_as);
	json_decref(ps.identities);
	json_decref(ps.entitlements);
	json_decref(ps.granted);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* --- the what-if --------------------------------------------------------- */

static const char *const simulate_fields[] = {"text", "version", NULL};

/* The version ref of in (a string, or a number), or NULL after a field error. */
static const char *version_ref(const json_t *v, char buf[32])
{
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < GH_ID_LEN)
		return json_string_value(v);
	gh_error_field("version", "must be a policy version id or number");
	return NULL;
}

/* The candidate decider and what the answer says of it ("policy",
 * "validation"), from text or a stored version. */
static int candidate(gh_decider *dc, json_t *answer, gh_gov *g, const json_t *in)
{
	json_t *text = json_object_get(in, "text"), *version = json_object_get(in, "version");
	json_t *validation = NULL, *info = NULL, *warnings = NULL;
	unsigned char hash[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1], label[64], buf[32];
	const char *ref = NULL;
	int rc;

	if (text && version)
		gh_error_field("version", "give text or version, not both");
	else if (!text && !version)
		gh_error_field("text", "is required (or version: a proposed version to simulate)");
	else if (text && (!json_is_string(text) || json_string_length(text) == 0 ||
			  json_string_length(text) > SIMULATE_TEXT_MAX ||
			  strlen(json_string_value(text)) != json_string_length(text)))
		gh_error_field("text", "must be Cedar policy text of 1 to %d bytes without NUL",
			       SIMULATE_TEXT_MAX);
	else if (version)
		ref = version_ref(version, buf);
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (ref) {
		if ((rc = gov_policy_version_decider(dc, &info, g, ref)) == GH_ENOTFOUND) {
			gh_error_clear();
			gh_error_field("version", "policy version %s not found", ref);
			return gh_error_fields_finish();
		}
		if (rc)
			return rc;
		rc = json_object_set_new(answer, "policy", json_pack("{s:O, s:O}", "version",
				json_object_get(info, "version"), "sha256",
				json_object_get(info, "sha256"))) ||
		     json_object_set(answer, "validation", json_object_get(info, "validation")) ||
		     json_object_set(answer, "warnings", json_object_get(info, "warnings"));
		json_decref(info);
		return rc ? nomem() : 0;
	}
	if ((rc = gov_policy_check(&validation, g, "text", json_string_value(text),
				   json_string_length(text))))
		return rc == GH_EINVALID ? gh_error_fields_finish() : rc;
	crypto_hash_sha256(hash, (const unsigned char *)json_string_value(text),
			   json_string_length(text));
	gh_hex(hex, hash, sizeof(hash));
	snprintf(label, sizeof(label), "simulated sha256:%.12s", hex);
	if (json_object_set_new(answer, "validation", validation) ||
	    json_object_set_new(answer, "policy", json_pack("{s:n, s:s}", "version", "sha256", hex)) ||
	    json_object_set_new(answer, "warnings", warnings = json_array()) || !warnings)
		return nomem();
	/* references to nothing are in validation; simulated, they match nothing */
	if ((rc = gov_policy_compile(dc, warnings, g, json_string_value(text),
				      json_string_length(text), label, 0)))
		return rc;
	return 0;
}

static int active_version(json_t *answer, gh_gov *g)
{
	char id[GH_ID_LEN];
	int64_t version;
	int rc;

	if ((rc = gh_store_policy_active(id, sizeof(id), &version, g->store)))
		return rc;
	if (json_object_set_new(answer, "active_version", id[0] ? json_integer(version) : json_null()))
		return nomem();
	return 0;
}

int gh_gov_policy_simulate(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	gh_decider dc = {0};
	json_t *answer = NULL, *effects = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR,
				   "simulating a policy set")))
		return rc;
	if (gh_jv_object(in, simulate_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	if (!(answer = json_object()))
		return nomem();
	/* compiled before the read section: parsing is the slow part */
	if ((rc = candidate(&dc, answer, g, in)))
		goto cleanup;
	gh_store_read_begin(g->store);
	rc = active_version(answer, g);
	if (!rc)
		rc = gov_policy_effects(&effects, g, &dc, NULL);
	gh_store_read_end(g->store);
	if (rc)
		goto cleanup;
	if (json_object_update(answer, effects)) {
		rc = nomem();
		goto cleanup;
	}
	*out = answer;
	answer = NULL;
cleanup:
	gov_cedar_decider_free(&dc);
	json_decref(effects);
	json_decref(answer);
	return rc;
}
