/* decide.c - the built-in catalog rule: what a request needs, decided from facts alone. */
#include "gov/gov_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BUILTIN_SOURCE "builtin-catalog-rule"
#define BUILTIN_VERSION "builtin-1"

static const char *fact_string(const json_t *obj, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : fallback;
}

static int64_t fact_int(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int reason(gh_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reason(gh_decision *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_append_new(d->reasons, json_string(buf)))
		return gh_error_set(GH_ERROR, "out of memory recording a decision");
	return 0;
}

static void set_outcome(gh_decision *d, const char *outcome, int approvals)
{
	snprintf(d->outcome, sizeof(d->outcome), "%s", outcome);
	d->required_approvals = approvals;
}

/* Fails closed: anything it does not recognise is denied, never auto-approved. */
static int builtin_decide(void *ctx, gh_decision *out, const json_t *facts)
{
	const json_t *subject = json_object_get(facts, "subject");
	const json_t *ent = json_object_get(facts, "entitlement");
	const json_t *req = json_object_get(facts, "request");
	const char *ent_name = fact_string(ent, "name", "?");
	const char *risk = fact_string(ent, "risk_tier", "");
	const char *status = fact_string(subject, "status", "unknown");
	int64_t duration = fact_int(req, "duration_seconds");
	char want[32], max[32];
	int rc = 0;

	(void)ctx;
	memset(out, 0, sizeof(*out));
	snprintf(out->source, sizeof(out->source), "%s", BUILTIN_SOURCE);
	snprintf(out->policy_version, sizeof(out->policy_version), "%s", BUILTIN_VERSION);
	if (!(out->reasons = json_array()))
		return gh_error_set(GH_ERROR, "out of memory recording a decision");
	out->max_duration = fact_int(ent, "max_duration_seconds");
	gh_duration_format(want, sizeof(want), duration > 0 ? duration : 1);
	gh_duration_format(max, sizeof(max), out->max_duration > 0 ? out->max_duration : 1);

	set_outcome(out, "denied", 0);
	if (!json_is_true(json_object_get(ent, "requestable")))
		rc |= reason(out, "entitlement %s is not requestable", ent_name);
	if (strcmp(status, "active") != 0)
		rc |= reason(out, "subject %s is %s, not active", fact_string(subject, "name", "?"),
			     status);
	if (out->max_duration <= 0 || duration <= 0)
		rc |= reason(out, "the requested or maximum duration is missing");
	if (rc || json_array_size(out->reasons) > 0)
		return rc;

	if (strcmp(risk, "low") == 0) {
		if (duration <= out->max_duration) {
			set_outcome(out, "auto_approved", 0);
			rc = reason(out, "risk tier low and %s is within the maximum %s: granted "
				    "without approval", want, max);
		} else {
			set_outcome(out, "approval_required", 1);
			rc = reason(out, "risk tier low, but %s exceeds the maximum %s: 1 approval "
				    "required, and the grant is capped at %s", want, max, max);
		}
	} else if (strcmp(risk, "medium") == 0) {
		set_outcome(out, "approval_required", 1);
		rc = reason(out, "risk tier medium requires 1 approval");
	} else if (strcmp(risk, "high") == 0 || strcmp(risk, "critical") == 0) {
		set_outcome(out, "approval_required", 2);
		rc = reason(out, "risk tier %s requires 2 approvals by distinct approvers", risk);
	} else {
		rc = reason(out, "risk tier \"%s\" is unknown to the built-in rule", risk);
	}
	return rc;
}

/* The built-in answers to the other questions: the invariants decide who
 * may approve and delegate; break-glass needs a policy that permits it. */
static int builtin_ask(void *ctx, gh_decision *out, const char *action, const json_t *facts)
{
	int allow = strcmp(action, "break_glass") != 0;

	(void)ctx;
	(void)facts;
	memset(out, 0, sizeof(*out));
	snprintf(out->source, sizeof(out->source), "%s", BUILTIN_SOURCE);
	snprintf(out->policy_version, sizeof(out->policy_version), "%s", BUILTIN_VERSION);
	snprintf(out->outcome, sizeof(out->outcome), "%s", allow ? "allow" : "deny");
	if (!(out->reasons = json_array()))
		return gh_error_set(GH_ERROR, "out of memory recording a decision");
	if (allow)
		return reason(out, "the built-in rule leaves %s to the invariants", action);
	return reason(out, "break-glass needs an active policy version that permits it");
}

const gh_decider gh_builtin_decider = {BUILTIN_SOURCE, builtin_decide, NULL, builtin_ask};

int gov_decider_ask(gh_gov *g, gh_decision *out, const char *action, const json_t *facts)
{
	gh_ask_fn ask;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&g->decider_lock);
	ask = g->decider.ask ? g->decider.ask : builtin_ask;
	rc = ask(g->decider.ctx, out, action, facts);
	pthread_rwlock_unlock(&g->decider_lock);
	if (rc)
		return rc;
	if (!out->reasons && !(out->reasons = json_array()))
		return gh_error_set(GH_ERROR, "out of memory recording a decision");
	return strcmp(out->outcome, "allow") == 0;
}

static int set_if(json_t *j, const char *key, json_t *v)
{
	return v && json_array_size(v) > 0 ? json_object_set(j, key, v) : 0;
}

json_t *gov_decision_json(const gh_decision *d, int64_t catalog_max)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:O}", "source", d->source,
			      "policy_version", d->policy_version, "outcome", d->outcome,
			      "required_approvals", d->required_approvals, "reasons", d->reasons);
	int bad = !j;

	bad = bad || set_if(j, "determining", d->determining) || set_if(j, "errors", d->errors) ||
	      set_if(j, "approver_groups", d->approver_groups);
	if (!bad && d->controls_hold[0])
		bad = json_object_set_new(j, "controls_changed_by", json_string(d->controls_hold));
	if (!bad && d->review_within > 0)
		bad = json_object_set_new(j, "review_within_seconds",
					  json_integer(d->review_within));
	if (!bad && d->max_duration > 0 && d->max_duration < catalog_max)
		bad = json_object_set_new(j, "max_duration_seconds", json_integer(d->max_duration));
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

void gh_decision_clear(gh_decision *d)
{
	json_decref(d->reasons);
	json_decref(d->determining);
	json_decref(d->errors);
	json_decref(d->approver_groups);
	d->reasons = d->determining = d->errors = d->approver_groups = NULL;
	d->controls_hold[0] = '\0';
}
