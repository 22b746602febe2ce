/* reconcile.h - what reconciliation reads and records (gov/reconcile.c): a
 * system's connector and targets, what its grants give downstream, findings
 * (the findings table), and the outbox jobs it queues again or looks for.
 *
 * Every function runs inside the caller's transaction or read section. JSON
 * coming back through **out is the caller's; times passed in are unix
 * seconds. */
#ifndef GH_STORE_RECONCILE_H
#define GH_STORE_RECONCILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* --- systems and grants ---------------------------------------------------- */

/* {"name","connector","settings" (connector_settings: JSON text as stored)}
 * of system_id; *out NULL when there is none. */
int gh_store_reconcile_system(json_t **out, gh_store *s, const char *system_id);

/* Every system, oldest first: a new array of {"id","connector"}. */
int gh_store_reconcile_systems(json_t **out, gh_store *s);

/* The distinct non-empty string attributes.target of system_id's
 * entitlements, in byte order, at most max of them: a new array of strings. */
int gh_store_reconcile_targets(json_t **out, gh_store *s, const char *system_id, size_t max);

/* A grant of a system being reconciled, with its grant job (the outbox row of
 * op 'grant') when it has one. Borrowed: valid during the callback only. */
typedef struct gh_reconcile_grant {
	const char *id;
	const char *status;                  /* "active" or "provisioning" */
	const char *job_state;               /* NULL when there is no grant job */
	const char *job_account, *job_target;  /* what the job gave; NULL when unset */
	const char *subject_name;
	const json_t *subject_attributes;    /* objects, {} when empty */
	const json_t *entitlement_attributes;
} gh_reconcile_grant;

/* Calls each(ctx, grant) for every grant of system_id whose status is active
 * or provisioning. A nonzero return from each stops the walk and is
 * returned. each must not use the store. */
int gh_store_reconcile_grants(gh_store *s, const char *system_id,
			      int (*each)(void *ctx, const gh_reconcile_grant *grant), void *ctx);

/* --- outbox jobs ------------------------------------------------------------ */

/* Puts grant_id's grant job back in the queue at now (pending, no attempts,
 * lease or error) unless it is pending already; its id into job ("" when
 * there was no such job to queue again). */
int gh_store_reconcile_requeue(char *job, size_t joblen, gh_store *s, const char *grant_id,
			       int64_t now);

/* 1 when a pending revoke job for this access that no grant owns (shadow
 * access) is queued, 0 when not, <0 on error. */
int gh_store_reconcile_revoke_queued(gh_store *s, const char *system_id, const char *account,
				     const char *target);

/* --- findings --------------------------------------------------------------- */

/* A finding as the API shows it: {"id","run","system","kind","account",
 * "target","grant","status","job","created_at","updated_at"} (times RFC 3339;
 * grant and job may be null). */

/* Inserts a finding created (and updated) at now; grant_id and job_id may be
 * NULL. */
int gh_store_finding_insert(gh_store *s, const char *id, const char *run_id,
			    const char *system_id, const char *kind, const char *account,
			    const char *target, const char *grant_id, const char *status,
			    const char *job_id, int64_t now);

/* One finding; *out NULL when there is none. */
int gh_store_finding_get(json_t **out, gh_store *s, const char *id);

/* Up to limit findings after the row whose pk is after_pk, oldest first, into
 * a new array; filters NULL for any. */
int gh_store_findings_list(json_t **out, gh_store *s, int64_t after_pk, const char *system_id,
			   const char *kind, const char *status, int limit);

/* Moves the findings that wait on job_id from status from to status to
 * (updated_at = now); *ids is a new array of their ids. */
int gh_store_findings_settle(json_t **ids, gh_store *s, const char *job_id, const char *from,
			     const char *to, int64_t now);

#endif
