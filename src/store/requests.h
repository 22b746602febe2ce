/* requests.h - access requests (the store's typed operations): a request's
 * row in its API shape, the page of a list, what intake writes and what
 * approving reads (gov/intake.c, gov/approval.c and gov/request.c hold the
 * rules; state changes go through store/lifecycle.h). Every function runs
 * inside the caller's transaction or read section; JSON coming back through
 * **out is the caller's. Times are unix seconds. */
#ifndef GH_STORE_REQUESTS_H
#define GH_STORE_REQUESTS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

#define GH_STORE_REQ_ID_LEN 64     /* an id with its NUL (the domain's GH_ID_LEN) */

/* A request as the API shows it: {"id","state","ticket_ref","channel",
 * "submitted_by","requester","subject","entitlement","justification",
 * "duration" ("8h"),"duration_seconds","emergency" (bool),"decision" (object
 * or null),"required_approvals","approvals" (store/approvals.h, in step
 * order),"grant","sla_due_at","close_reason","created_at","updated_at",
 * "closed_at","extends","break_glass" (bool),"incident_ref"}: times RFC 3339
 * or null, absent text null. */

/* The request id. GH_ENOTFOUND "request <id> not found". */
int gh_store_request_get(json_t **out, gh_store *s, const char *id);

/* The filters of a page of requests, resolved by the domain: NULL for any. */
typedef struct gh_store_request_filter {
	const char *state;
	const char *subject_id;
	const char *entitlement_id;
	const char *concerns;      /* only requests this identity submitted, asked
				    * for, receives, or whose subject it owns */
} gh_store_request_filter;

/* Up to limit requests matching f after the one with pk after_pk, in pk
 * order, into the new array *items; *more is 1 when another one follows. */
int gh_store_request_page(json_t **items, int *more, gh_store *s,
			  const gh_store_request_filter *f, int64_t after_pk, int limit);

/* 1 when request id concerns who (its submitter, requester, subject, or the
 * subject's owner), 0 when not (also for an unknown request), <0 on error. */
int gh_store_request_concerns(gh_store *s, const char *id, const char *who);
/* The grant of request id into out ("" when it has none). GH_ENOTFOUND
 * "request <id> not found". */
int gh_store_request_grant_of(char out[GH_STORE_REQ_ID_LEN], gh_store *s, const char *id);
/* For a new request of subject_id for entitlement_id: an open request's id
 * (submitted, pending_approval, approved or provisioning) into open_request
 * and an active grant's into active_grant, each "" when there is none. */
int gh_store_request_open_for(char open_request[GH_STORE_REQ_ID_LEN],
			      char active_grant[GH_STORE_REQ_ID_LEN], gh_store *s,
			      const char *subject_id, const char *entitlement_id);

/* A new request's row; NULL text and 0 times are stored as NULL. */
typedef struct gh_store_request_new {
	const char *id, *state, *ticket_ref, *channel;
	const char *submitted_by, *requester_id, *subject_id, *entitlement_id;
	const char *justification;
	int64_t duration;          /* seconds */
	int emergency;
	const char *decision;      /* canonical JSON */
	int required_approvals;
	int64_t sla_due_at;        /* 0: none */
	const char *close_reason;
	int64_t created_at;        /* also updated_at */
	int64_t closed_at;         /* 0: open */
	const char *extends_grant_id;
	int break_glass;
	const char *incident_ref;
} gh_store_request_new;

int gh_store_request_insert(gh_store *s, const gh_store_request_new *r);
/* updated_at of request id becomes now (its state stays). */
int gh_store_request_touch(gh_store *s, const char *id, int64_t now);

/* What deciding about a request reads: the request with its subject and
 * entitlement as they are now. Text is "" for NULL. */
typedef struct gh_store_request_brief {
	char state[24];
	char submitted_by[GH_STORE_REQ_ID_LEN];
	char requester[GH_STORE_REQ_ID_LEN];
	char subject[GH_STORE_REQ_ID_LEN];
	char subject_owner[GH_STORE_REQ_ID_LEN];
	char subject_name[128];
	char subject_status[24];
	int has_subject_expires;   /* the subject's expires_at is set */
	int64_t subject_expires;
	char entitlement[GH_STORE_REQ_ID_LEN];
	char ent_name[128];
	char control_group[GH_STORE_REQ_ID_LEN];
	int requestable;           /* the entitlement's */
	int64_t max_duration;      /* the entitlement's, seconds */
	char channel[24];
	char ticket_ref[72];
	int emergency;
	int required;              /* required_approvals */
	int64_t duration;          /* requested, seconds */
	json_t *decision;          /* the stored decision (an object, {} when none);
				    * the caller's: json_decref it */
} gh_store_request_brief;

/* The brief of request id. GH_ENOTFOUND "request <id> not found". */
int gh_store_request_brief_get(gh_store_request_brief *out, gh_store *s, const char *id);

#endif
