/* lifecycle.c - the request and grant state machines: which state may follow
 * which, why, and the one function that performs each move.
 *
 * A REQUEST (requests.state)
 *
 *                              intake (submit)
 *            +-----------------------+-----------------------+
 *            v                       v                       v
 *         denied <--[redecided]-- pending_approval --[A]--> approved
 *                                  |  |  |  ^   |              |
 *              rejected <----------+  |  |  +---+  [redecided, |
 *              cancelled <------------+  |          new dec.]  +---------+
 *              expired (SLA) <-----------+                     v         v
 *                                                     provisioning --> active
 *                                                       |  ^    |        |
 *                                               failed <+  |    v        v
 *                                                  +-------+  expired, revoked
 *                                                  [retried]
 *
 *   [A]: enough approvals, or a policy change that grants it.
 *   submitted -> cancelled: the schema knows 'submitted' but nothing writes
 *   it today; a request found in it may still be cancelled, as before.
 *
 * Who moves a request:
 *   - intake (intake.c) creates it in pending_approval, approved (the
 *     decision or break glass granted it) or denied (gov_request_check_new).
 *   - approvers (approval.c): pending_approval -> approved once enough
 *     approvals are in, or -> rejected. The submitter, requester, admin or
 *     iam: -> cancelled; so does the retirement of an NHI (identity.c).
 *   - the scheduler (sched.c): pending_approval -> expired past its SLA.
 *   - a policy activation (simulate.c) re-decides pending requests: -> denied,
 *     -> approved, or pending_approval again with the new decision.
 *   - provisioning (provision.c): approved -> active, or -> provisioning for a
 *     connected system, whose worker (outbox.c) then moves it -> active or
 *     -> failed; retrying the job (outbox.c) moves failed -> provisioning.
 *   - the end of its grant (grant.c): provisioning/active -> expired/revoked.
 *
 * A GRANT (grants.status)
 *
 *    (new) --[provision (provision.c), connected system]--> provisioning
 *    (new) --[provision (provision.c), otherwise]---------> active
 *
 *    provisioning --[worker: the system confirmed]--> active
 *    provisioning --[worker gave up: attempts, or the job is invalid]--> failed
 *    failed --[the job is retried, before the grant's expiry]--> provisioning
 *    provisioning, active --[scheduler: duration elapsed]--> expired
 *    provisioning, active --[admin/iam, a superseding extension, a break-glass
 *                            review revoked or missed, a retiring identity]--> revoked
 *
 * Every move goes through gov_request_move / gov_grant_move: a move not in
 * the table below is refused (GH_ECONFLICT naming both states) and changes
 * nothing; an allowed one is written by its function as a compare-and-set
 * (store/lifecycle.h), so one that lost to another writer reports
 * GH_ECONFLICT too. The audit events stay with the callers, which know why. */
#include "gov/gov_internal.h"
#include "store/lifecycle.h"

#include <string.h>

_Static_assert(GH_STORE_ID_LEN == GH_ID_LEN, "store and domain ids have one length");

typedef int (*request_fn)(gh_gov *g, const char *id, const char *from, const char *to,
			  const gov_request_change *ch, int64_t now);
typedef int (*grant_fn)(gh_gov *g, const char *id, const char *from, const char *to,
			gov_grant_change *ch, int64_t now);

/* --- what performs each move ------------------------------------------------- */

/* To a closed state, with the change's reason. */
static int request_close(gh_gov *g, const char *id, const char *from, const char *to,
			 const gov_request_change *ch, int64_t now)
{
	return gh_store_request_close(g->store, id, from, to, ch->reason, now);
}

/* Still open: approved by approvals, provisioning, active (with the grant when
 * provisioning created one). */
static int request_advance(gh_gov *g, const char *id, const char *from, const char *to,
			   const gov_request_change *ch, int64_t now)
{
	return gh_store_request_advance(g->store, id, from, to, ch->grant_id, now);
}

/* A new decision (policy change); denied closes with the change's reason.
 * Without a decision it is an approval's advance. */
static int request_decide(gh_gov *g, const char *id, const char *from, const char *to,
			  const gov_request_change *ch, int64_t now)
{
	if (!ch->decision && strcmp(to, "approved") == 0)
		return gh_store_request_advance(g->store, id, from, to, NULL, now);
	if (!ch->decision)
		return gh_error_set(GH_ERROR, "request %s: moving %s -> %s needs a decision", id,
				    from, to);
	return gh_store_request_redecide(g->store, id, from, to, ch->decision,
					 ch->required_approvals,
					 strcmp(to, "denied") == 0 ? ch->reason : NULL, now);
}

/* Open again after a failure, its close reason forgotten. */
static int request_reopen(gh_gov *g, const char *id, const char *from, const char *to,
			  const gov_request_change *ch, int64_t now)
{
	(void)ch;
	return gh_store_request_reopen(g->store, id, from, to, now);
}

static int grant_end(gh_gov *g, const char *id, const char *from, const char *to,
		     gov_grant_change *ch, int64_t now)
{
	gh_store_grant_ended ended;
	int rc;

	if ((rc = gh_store_grant_end(&ended, g->store, id, from, to, ch->by,
				     ch->reason ? ch->reason : "", now)))
		return rc;
	memcpy(ch->request_id, ended.request_id, sizeof(ch->request_id));
	memcpy(ch->subject_id, ended.subject_id, sizeof(ch->subject_id));
	memcpy(ch->entitlement_id, ended.entitlement_id, sizeof(ch->entitlement_id));
	return 0;
}

static int grant_provisioned(gh_gov *g, const char *id, const char *from, const char *to,
			     gov_grant_change *ch, int64_t now)
{
	(void)now;
	return gh_store_grant_provisioned(g->store, id, from, to, ch->receipt);
}

static int grant_fail(gh_gov *g, const char *id, const char *from, const char *to,
		      gov_grant_change *ch, int64_t now)
{
	(void)ch, (void)now;
	return gh_store_grant_set_status(g->store, id, from, to, "failed");
}

static int grant_retry(gh_gov *g, const char *id, const char *from, const char *to,
		       gov_grant_change *ch, int64_t now)
{
	(void)ch, (void)now;
	return gh_store_grant_set_status(g->store, id, from, to, "pending");
}

/* --- the tables -------------------------------------------------------------- */

/* from NULL: the states a row is created in (by an INSERT, no function). */
static const struct request_move {
	const char *from, *to, *event;
	request_fn perform;
} request_moves[] = {
	{NULL, "pending_approval", "submitted: approval required", NULL},
	{NULL, "approved", "submitted: granted by the decision or break glass", NULL},
	{NULL, "denied", "submitted: denied by the decision", NULL},
	{"submitted", "cancelled", "cancelled", request_close},
	{"pending_approval", "approved", "approved: enough approvals, or a policy change",
	 request_decide},
	{"pending_approval", "pending_approval", "redecided: still needs approval",
	 request_decide},
	{"pending_approval", "denied", "redecided: a policy change denies it", request_decide},
	{"pending_approval", "rejected", "rejected by an approver", request_close},
	{"pending_approval", "cancelled", "cancelled (by its requester, or its identity retired)",
	 request_close},
	{"pending_approval", "expired", "expired: its approval SLA elapsed", request_close},
	{"approved", "active", "provisioned: the grant is active", request_advance},
	{"approved", "provisioning", "provisioning: a connected system's job runs",
	 request_advance},
	{"provisioning", "active", "the system confirmed the grant", request_advance},
	{"provisioning", "failed", "the grant's job gave up", request_close},
	{"provisioning", "expired", "its grant expired", request_close},
	{"provisioning", "revoked", "its grant was revoked", request_close},
	{"active", "expired", "its grant expired", request_close},
	{"active", "revoked", "its grant was revoked", request_close},
	{"failed", "provisioning", "the grant's job is retried", request_reopen},
};

static const struct grant_move {
	const char *from, *to, *event;
	grant_fn perform;
} grant_moves[] = {
	{NULL, "active", "created for a request (no connector)", NULL},
	{NULL, "provisioning", "created for a request; a job provisions it", NULL},
	{"provisioning", "active", "provisioned: the system confirmed it", grant_provisioned},
	{"provisioning", "failed", "the job gave up (attempts or invalid)", grant_fail},
	{"failed", "provisioning", "retried", grant_retry},
	{"provisioning", "expired", "its duration elapsed", grant_end},
	{"provisioning", "revoked", "revoked", grant_end},
	{"active", "expired", "its duration elapsed", grant_end},
	{"active", "revoked", "revoked", grant_end},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int same(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static const struct request_move *request_find(const char *from, const char *to)
{
	for (size_t i = 0; i < COUNT(request_moves); i++)
		if (same(request_moves[i].from, from) && same(request_moves[i].to, to))
			return &request_moves[i];
	return NULL;
}

static const struct grant_move *grant_find(const char *from, const char *to)
{
	for (size_t i = 0; i < COUNT(grant_moves); i++)
		if (same(grant_moves[i].from, from) && same(grant_moves[i].to, to))
			return &grant_moves[i];
	return NULL;
}

/* --- the entry points ---------------------------------------------------------- */

int gov_request_move(gh_gov *g, const char *id, const char *from, const char *to,
		     const gov_request_change *ch)
{
	static const gov_request_change none = {0};
	const struct request_move *m = from && to ? request_find(from, to) : NULL;

	if (!m)
		return gh_error_set(GH_ECONFLICT, "request %s cannot go from %s to %s",
				    id, from ? from : "(new)", to ? to : "(none)");
	if (!ch)
		ch = &none;
	return m->perform(g, id, from, to, ch, ch->now ? ch->now : gh_now());
}

int gov_grant_move(gh_gov *g, const char *id, const char *from, const char *to,
		   gov_grant_change *ch)
{
	gov_grant_change none = {0};
	const struct grant_move *m = from && to ? grant_find(from, to) : NULL;

	if (!m)
		return gh_error_set(GH_ECONFLICT, "grant %s cannot go from %s to %s",
				    id, from ? from : "(new)", to ? to : "(none)");
	if (!ch)
		ch = &none;
	return m->perform(g, id, from, to, ch, ch->now ? ch->now : gh_now());
}

int gov_request_check_new(const char *state)
{
	if (request_find(NULL, state))
		return 0;
	return gh_error_set(GH_ERROR, "a request cannot start as %s", state);
}

int gov_grant_check_new(const char *status)
{
	if (grant_find(NULL, status))
		return 0;
	return gh_error_set(GH_ERROR, "a grant cannot start as %s", status);
}

int gov_lifecycle_moves(const char *machine, size_t i, const char **from, const char **to,
			const char **event)
{
	int req = strcmp(machine, "request") == 0;

	if (req ? i >= COUNT(request_moves) : i >= COUNT(grant_moves))
		return GH_ENOTFOUND;
	*from = req ? request_moves[i].from : grant_moves[i].from;
	*to = req ? request_moves[i].to : grant_moves[i].to;
	*event = req ? request_moves[i].event : grant_moves[i].event;
	return 0;
}
