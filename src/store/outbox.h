/* outbox.h - the provisioning outbox (the outbox table) and what its workers
 * read and record about the grants its jobs serve (typed store operations;
 * gov/outbox.c holds the rules: retries, give-up, the grant's moves).
 *
 * Every function runs inside the caller's transaction or read section; none
 * opens its own. JSON coming back through **out is the caller's. Times given
 * are unix seconds.
 *
 * A job as the API shows it: {"id","grant" (or null),"system","op" ("grant"
 * or "revoke"),"account" (or null),"target","state" ("pending","done",
 * "failed","cancelled"),"attempts","next_at","lease_until" (or null),
 * "last_error" (or null),"receipt" (object, or null),"created_at",
 * "updated_at","done_at" (or null)}, times RFC 3339. (leased_by, the node
 * holding a job's lease, is the workers' own and not shown.)
 *
 * Claims: a worker leases a due job by setting its lease_until; a job whose
 * lease has not run out is not due for anyone else. */
#ifndef GH_STORE_OUTBOX_H
#define GH_STORE_OUTBOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/lifecycle.h"
#include "store/store.h"

/* --- writing jobs ------------------------------------------------------------ */

/* Inserts job id: pending, no attempts, due (next_at), created and updated at
 * now. grant_id NULL for the removal of shadow access; account may be NULL;
 * target NULL is stored as "". */
int gh_store_job_insert(gh_store *s, const char *id, const char *grant_id,
			const char *system_id, const char *op, const char *account,
			const char *target, int64_t now);

/* What a grant job for grant_id on system_id is made from:
 * {"subject_name","subject_attributes" (object),"entitlement_attributes"
 * (object),"settings" (the system's connector_settings, object)}; *out NULL
 * (and 0) when there is no such grant or system. */
int gh_store_job_grant_source(json_t **out, gh_store *s, const char *grant_id,
			      const char *system_id);

/* Cancels grant_id's grant job (op 'grant') when it is pending and no lease
 * on it runs past now: state 'cancelled', last_error 'cancelled: the grant
 * ended'. Its id into job ("" when none was cancelled). */
int gh_store_job_cancel_unleased(char *job, size_t joblen, gh_store *s, const char *grant_id,
				 int64_t now);

/* What grant_id's grant job gives downstream: {"system","account" (or
 * null),"target"}; *out NULL (and 0) when the grant has no grant job. */
int gh_store_job_grant_access(json_t **out, gh_store *s, const char *grant_id);

/* --- claiming and running jobs ---------------------------------------------- */

/* Claims up to max due jobs, oldest due first, in one statement: each pending
 * job with next_at <= now and no lease running past now gets lease_until =
 * lease_until, leased_by = holder (the claiming node) and updated_at = now,
 * except a revoke job whose grant's grant job is still leased (it waits for
 * it). Jobs another transaction is claiming are skipped, not waited for.
 * *out is a new array of the claimed jobs (as the API shows them, after the
 * claim), in no set order. */
int gh_store_jobs_claim(json_t **out, gh_store *s, int64_t now, int64_t lease_until,
			const char *holder, int max);

/* Recording an attempt starts here: *held 1 when job id is still pending and
 * leased to holder with this lease_until (the claim's), and then it stays
 * the caller's until its transaction ends; 0 when the lease was lost (it ran
 * out and another worker claimed the job, or the job moved on): the attempt
 * must record nothing. */
int gh_store_job_hold(int *held, gh_store *s, const char *id, const char *holder,
		      int64_t lease_until, int64_t now);

/* What a worker hands the connector besides the job itself:
 * {"system_name","connector","settings" (connector_settings: JSON text as
 * stored),"entitlement","entitlement_name","subject","subject_name" (each
 * null without a grant),"expires_at" (the grant's, unix seconds; 0 without
 * one)}; *out NULL (and 0) when there is no such system. grant_id may be
 * NULL. */
int gh_store_job_context(json_t **out, gh_store *s, const char *system_id,
			 const char *grant_id);

/* The state of job id into state and (when grant is not NULL) its grant id
 * into grant (GH_STORE_ID_LEN; "" when none); state "" when there is no such
 * job. */
int gh_store_job_state(char state[GH_STORE_STATE_LEN], char *grant, gh_store *s,
		       const char *id);

/* The attempt that made job id succeed: state 'done', attempts, receipt (JSON
 * text, may be NULL), no lease or error, done_at = updated_at = now. */
int gh_store_job_done(gh_store *s, const char *id, int attempts, const char *receipt,
		      int64_t now);

/* The attempt failed: state ('pending' to retry at next_at, or 'failed'),
 * attempts, last_error = error, no lease, updated_at = now. */
int gh_store_job_failed(gh_store *s, const char *id, const char *state, int attempts,
			int64_t next_at, const char *error, int64_t now);

/* The attempt failed and the job is no longer wanted: state 'cancelled',
 * attempts, last_error = error, no lease, updated_at = now. */
int gh_store_job_cancel(gh_store *s, const char *id, int attempts, const char *error,
			int64_t now);

/* Job id (failed or pending) is due again at now: pending, next_at =
 * updated_at = now; a failed one also starts over (no attempts, no lease),
 * while a pending one keeps its attempts and any lease a worker holds. */
int gh_store_job_requeue(gh_store *s, const char *id, int64_t now);

/* --- the grant a job serves --------------------------------------------------- */

/* grant_id's status, request id (GH_STORE_ID_LEN) and expires_at; status and
 * request "" (expires 0) when there is no such grant. */
int gh_store_job_grant_state(char status[GH_STORE_STATE_LEN], char *request, int64_t *expires,
			     gh_store *s, const char *grant_id);

/* Sets grant_id's provisioning_status (e.g. 'removing', 'removed'); its
 * status stays (status moves go through store/lifecycle.h). */
int gh_store_grant_provisioning_set(gh_store *s, const char *grant_id, const char *provisioning);

/* --- reading jobs -------------------------------------------------------------- */

/* Job id; *out NULL (and 0) when there is none. */
int gh_store_job_get(json_t **out, gh_store *s, const char *id);

/* Up to limit jobs after the row whose pk is after_pk, oldest first, into a
 * new array *out. Filters (NULL: any): state, system_id, grant_id. */
int gh_store_job_list(json_t **out, gh_store *s, int64_t after_pk, const char *state,
		      const char *system_id, const char *grant_id, int limit);

#endif
