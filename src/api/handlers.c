/* handlers.c - one small handler per route, each a call into gov/. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_PAGE 500            /* events per gh_gov_audit_list call */
#define EXPORT_BLOCK (64 * 1024)   /* bytes MHD asks for at a time */

static gh_page page_of(const gh_api_req *rq)
{
	gh_page p = {rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, gh_api_query(rq, "after")};
	return p;
}

static const char *q(const gh_api_req *rq, const char *name)
{
	return gh_api_query(rq, name);
}

static int created(gh_api_req *rq, int rc)
{
	if (rc == 0)
		rq->status = 201;
	return rc;
}

/* A write that weakens a control was proposed, not applied: 202 Accepted. */
static int accepted(gh_api_req *rq, int rc)
{
	if (rc == GH_PROPOSED) {
		rq->status = 202;
		return 0;
	}
	return rc;
}

int gh_api_handle_healthz(gh_api_req *rq)
{
	rq->out = json_pack("{s:s}", "status", "ok");
	return rq->out ? 0 : gh_error_set(GH_ERROR, "out of memory");
}

/* --- tokens ------------------------------------------------------------- */

int gh_api_handle_token_create(gh_api_req *rq)
{
	return created(rq, gh_gov_token_create(&rq->out, rq->gov, &rq->actor, rq->body));
}

int gh_api_handle_token_list(gh_api_req *rq)
{
	gh_page p = {rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, gh_api_query(rq, "after")};

	return gh_gov_token_list(&rq->out, rq->gov, &rq->actor, &p, gh_api_query(rq, "identity"),
				 gh_api_query(rq, "status"));
}

int gh_api_handle_token_rotate(gh_api_req *rq)
{
	return created(rq, gh_gov_token_rotate(&rq->out, rq->gov, &rq->actor, rq->params[0]));
}

int gh_api_handle_token_revoke(gh_api_req *rq)
{
	int rc = gh_gov_token_revoke(rq->gov, &rq->actor, rq->params[0]);

	if (rc == 0)
		rq->status = 204;
	return rc;
}

/* --- identities --------------------------------------------------------- */

int gh_api_handle_identity_list(gh_api_req *rq)
{
	gh_page p = page_of(rq);

	return gh_gov_identity_list_orphaned(&rq->out, rq->gov, &rq->actor, &p, q(rq, "kind"),
					     q(rq, "status"), q(rq, "owner"), q(rq, "orphaned"));
}

int gh_api_handle_identity_create(gh_api_req *rq)
{
	return created(rq, gh_gov_identity_create(&rq->out, rq->gov, &rq->actor, rq->body));
}

int gh_api_handle_identity_get(gh_api_req *rq)
{
	return gh_gov_identity_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_identity_update(gh_api_req *rq)
{
	return accepted(rq, gh_gov_identity_update(&rq->out, rq->gov, &rq->actor,
						    rq->params[0], rq->body));
}

int gh_api_handle_identity_suspend(gh_api_req *rq)
{
	return gh_gov_identity_set_status(&rq->out, rq->gov, &rq->actor, rq->params[0],
					  "suspend", rq->body);
}

int gh_api_handle_identity_activate(gh_api_req *rq)
{
	return gh_gov_identity_set_status(&rq->out, rq->gov, &rq->actor, rq->params[0],
					  "activate", rq->body);
}

int gh_api_handle_identity_renew(gh_api_req *rq)
{
	return gh_gov_identity_renew(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_identity_decommission(gh_api_req *rq)
{
	return gh_gov_identity_set_status(&rq->out, rq->gov, &rq->actor, rq->params[0],
					  "decommission", rq->body);
}

/* --- groups ------------------------------------------------------------- */

int gh_api_handle_group_list(gh_api_req *rq)
{
	gh_page p = page_of(rq);

	return gh_gov_group_list(&rq->out, rq->gov, &rq->actor, &p);
}

int gh_api_handle_group_create(gh_api_req *rq)
{
	return created(rq, gh_gov_group_create(&rq->out, rq->gov, &rq->actor, rq->body));
}

int gh_api_handle_group_get(gh_api_req *rq)
{
	return gh_gov_group_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_group_add_member(gh_api_req *rq)
{
	return accepted(rq, gh_gov_group_add_member(&rq->out, rq->gov, &rq->actor,
						     rq->params[0], rq->body));
}

int gh_api_handle_group_remove_member(gh_api_req *rq)
{
	return gh_gov_group_remove_member(&rq->out, rq->gov, &rq->actor, rq->params[0],
					  rq->params[1]);
}

/* --- systems and entitlements ------------------------------------------- */

int gh_api_handle_system_list(gh_api_req *rq)
{
	gh_page p = page_of(rq);

	return gh_gov_system_list(&rq->out, rq->gov, &rq->actor, &p);
}

int gh_api_handle_system_create(gh_api_req *rq)
{
	return created(rq, gh_gov_system_create(&rq->out, rq->gov, &rq->actor, rq->body));
}

int gh_api_handle_system_get(gh_api_req *rq)
{
	return gh_gov_system_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_system_update(gh_api_req *rq)
{
	return accepted(rq, gh_gov_system_update(&rq->out, rq->gov, &rq->actor, rq->params[0],
						  rq->body));
}

int gh_api_handle_entitlement_list(gh_api_req *rq)
{
	gh_page p = page_of(rq);

	return gh_gov_entitlement_list_tag(&rq->out, rq->gov, &rq->actor, &p, q(rq, "system"),
					   q(rq, "risk_tier"), q(rq, "environment"),
					   q(rq, "requestable"), q(rq, "tag"));
}

int gh_api_handle_entitlement_create(gh_api_req *rq)
{
	return created(rq, gh_gov_entitlement_create(&rq->out, rq->gov, &rq->actor, rq->body));
}

int gh_api_handle_entitlement_get(gh_api_req *rq)
{
	return gh_gov_entitlement_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_entitlement_update(gh_api_req *rq)
{
	return accepted(rq, gh_gov_entitlement_update(&rq->out, rq->gov, &rq->actor,
						       rq->params[0], rq->body));
}

/* --- requests ----------------------------------------------------------- */

int gh_api_handle_request_list(gh_api_req *rq)
{
	gh_page p = page_of(rq);

	return gh_gov_request_list(&rq->out, rq->gov, &rq->actor, &p, q(rq, "state"),
				   q(rq, "subject"), q(rq, "entitlement"));
}

int gh_api_handle_request_submit(gh_api_req *rq)
{
	return created(rq, gh_gov_request_submit(&rq->out, rq->gov, &rq->actor, rq->body));
}

int gh_api_handle_request_get(gh_api_req *rq)
{
	return gh_gov_request_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_request_approve(gh_api_req *rq)
{
	return gh_gov_request_approve(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_request_reject(gh_api_req *rq)
{
	return gh_gov_request_reject(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_request_cancel(gh_api_req *rq)
{
	return gh_gov_request_cancel(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_request_history(gh_api_req *rq)
{
	return gh_gov_request_history(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

/* --- grants ------------------------------------------------------------- */

int gh_api_handle_grant_list(gh_api_req *rq)
{
	gh_page p = page_of(rq);

	return gh_gov_grant_list_review(&rq->out, rq->gov, &rq->actor, &p, q(rq, "status"),
					q(rq, "subject"), q(rq, "entitlement"),
					q(rq, "review_state"));
}

int gh_api_handle_grant_get(gh_api_req *rq)
{
	return gh_gov_grant_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_grant_revoke(gh_api_req *rq)
{
	return gh_gov_grant_revoke(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

/* --- policy versions ---------------------------------------------------- */

int gh_api_handle_policy_list(gh_api_req *rq)
{
	gh_page p = page_of(rq);

	return gh_gov_policy_list(&rq->out, rq->gov, &rq->actor, &p);
}

int gh_api_handle_policy_propose(gh_api_req *rq)
{
	return created(rq, gh_gov_policy_propose(&rq->out, rq->gov, &rq->actor, rq->body));
}

int gh_api_handle_policy_active(gh_api_req *rq)
{
	return gh_gov_policy_active(&rq->out, rq->gov, &rq->actor);
}

int gh_api_handle_policy_get(gh_api_req *rq)
{
	return gh_gov_policy_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_policy_activate(gh_api_req *rq)
{
	return gh_gov_policy_activate(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

/* --- audit -------------------------------------------------------------- */

int gh_api_handle_audit_events(gh_api_req *rq)
{
	return gh_gov_audit_list(&rq->out, rq->gov, &rq->actor, rq->after_seq,
				 rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, q(rq, "object_id"));
}

/* The export streams: one page of events is held at a time, as NDJSON text. */
typedef struct export_state {
	gh_gov *gov;
	gh_actor actor;
	int64_t after_seq;       /* last sequence number fetched */
	int done;                /* no page after the one in buf */
	char *buf;
	size_t len, off, cap;
} export_state;

static void export_free(void *cls)
{
	export_state *x = cls;

	if (!x)
		return;
	free(x->buf);
	free(x);
}

static int export_append(export_state *x, const char *s, size_t n)
{
	if (x->len + n > x->cap) {
		size_t cap = x->cap ? x->cap : 64 * 1024;
		char *p;
		while (cap < x->len + n)
			cap *= 2;
		if (!(p = realloc(x->buf, cap)))
			return gh_error_set(GH_ERROR, "out of memory");
		x->buf = p;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, s, n);
	x->len += n;
	return 0;
}

/* Replaces buf with the next page; sets done when it is the last one. */
static int export_fill(export_state *x)
{
	json_t *page = NULL, *items, *item, *next;
	int64_t start = x->after_seq;
	size_t i;
	int rc;

	x->len = x->off = 0;
	if ((rc = gh_gov_audit_list(&page, x->gov, &x->actor, x->after_seq, EXPORT_PAGE, NULL)))
		return rc;
	items = json_object_get(page, "items");
	if (!json_is_array(items)) {
		rc = gh_error_set(GH_ERROR, "audit list without items");
		goto cleanup;
	}
	json_array_foreach(items, i, item) {
		char *line = json_dumps(item, JSON_COMPACT);
		json_t *seq = json_object_get(item, "seq");

		if (!line) {
			rc = gh_error_set(GH_ERROR, "out of memory");
			goto cleanup;
		}
		rc = export_append(x, line, strlen(line));
		if (rc == 0)
			rc = export_append(x, "\n", 1);
		free(line);
		if (rc)
			goto cleanup;
		if (json_is_integer(seq) && json_integer_value(seq) > x->after_seq)
			x->after_seq = json_integer_value(seq);
	}
	next = json_object_get(page, "next_after_seq");
	/* stop on the last page, and never loop on a cursor that did not move */
	if (json_array_size(items) == 0 || !json_is_integer(next) ||
	    json_integer_value(next) <= start)
		x->done = 1;
	else
		x->after_seq = json_integer_value(next);
cleanup:
	json_decref(page);
	return rc;
}

static ssize_t export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	export_state *x = cls;
	size_t n;

	(void)pos;
	while (x->off == x->len) {
		if (x->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		gh_error_clear();
		if (export_fill(x)) {
			/* headers are gone: all that is left is to cut the stream */
			fprintf(stderr, "gatehouse api: GET /v1/audit/export: %s\n",
				gh_error_last()->message);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	n = x->len - x->off;
	if (n > max)
		n = max;
	memcpy(buf, x->buf + x->off, n);
	x->off += n;
	return (ssize_t)n;
}

int gh_api_handle_audit_export(gh_api_req *rq)
{
	export_state *x = calloc(1, sizeof(*x));
	int rc;

	if (!x)
		return gh_error_set(GH_ERROR, "out of memory");
	x->gov = rq->gov;
	x->actor = rq->actor;
	x->after_seq = rq->after_seq;
	/* the first page is read now, so that refusals are still problem documents */
	if ((rc = export_fill(x))) {
		export_free(x);
		return rc;
	}
	rq->response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EXPORT_BLOCK,
							 export_read, x, export_free);
	if (!rq->response) {
		export_free(x);
		return gh_error_set(GH_ERROR, "cannot create the export response");
	}
	if (MHD_add_response_header(rq->response, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "application/x-ndjson") != MHD_YES)
		return gh_error_set(GH_ERROR, "cannot set the export content type");
	return 0;
}
