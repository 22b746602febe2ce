/* router.c - the route table, path matching, roles and query parameters. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Accepted query parameters per kind of route (docs/api.md "Lists"). */
static const char *const q_page[] = {"limit", "after", NULL};
static const char *const q_tokens[] = {"limit", "after", "identity", "status", NULL};
static const char *const q_identities[] = {"limit", "after", "kind", "status", "owner",
					   "orphaned", NULL};
static const char *const q_entitlements[] = {"limit", "after", "system", "risk_tier",
					     "environment", "requestable", "tag", NULL};
static const char *const q_requests[] = {"limit", "after", "state", "subject", "entitlement",
					 NULL};
static const char *const q_grants[] = {"limit", "after", "status", "subject", "entitlement",
				       "review_state", NULL};
static const char *const q_delegations[] = {"limit", "after", "from_group", "to_group",
					    "status", NULL};
static const char *const q_jobs[] = {"limit", "after", "state", "system", "grant", NULL};
static const char *const q_findings[] = {"limit", "after", "system", "kind", "status", NULL};
static const char *const q_credentials[] = {"limit", "after", "identity", "grant", "status",
					    NULL};
static const char *const q_changes[] = {"limit", "after", "state", "object", NULL};
static const char *const q_audit_events[] = {"after_seq", "limit", "object_id", NULL};
static const char *const q_audit_export[] = {"after_seq", NULL};
static const char *const q_audit_tree[] = {"size", NULL};
static const char *const q_audit_inclusion[] = {"seq", "size", NULL};
static const char *const q_audit_consistency[] = {"old", "new", NULL};
static const char *const q_audit_checkpoint[] = {"covers", "wait", NULL};

#define IAM (GH_ROLE_ADMIN | GH_ROLE_IAM)
#define APPROVERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER)
#define SUBMITTERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER | GH_ROLE_SERVICEDESK | \
		    GH_ROLE_REQUESTER)
#define AUDITORS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)
#define HISTORY (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR | GH_ROLE_APPROVER | \
		 GH_ROLE_SERVICEDESK | GH_ROLE_REQUESTER)

#define DLG_READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_APPROVER | GH_ROLE_AUDITOR)

#define NONE GH_API_BODY_NONE
#define BODY GH_API_BODY_REQUIRED
#define OPTIONAL GH_API_BODY_OPTIONAL

/* Every route; docs/api.md documents each (tests/unit/test_api_routes.c checks). */
static const gh_api_route routes[] = {
	{"GET", "/healthz", GH_API_PUBLIC, NONE, NULL, gh_api_handle_healthz},
	{"POST", "/v1/tokens", GH_ROLE_ADMIN, BODY, NULL, gh_api_handle_token_create},
	{"GET", "/v1/tokens", GH_ROLE_ADMIN, NONE, q_tokens, gh_api_handle_token_list},
	{"DELETE", "/v1/tokens/{id}", GH_ROLE_ADMIN, NONE, NULL, gh_api_handle_token_revoke},
	{"POST", "/v1/tokens/{id}/rotate", GH_API_ANY, OPTIONAL, NULL, gh_api_handle_token_rotate},
	{"GET", "/v1/identities", GH_API_ANY, NONE, q_identities, gh_api_handle_identity_list},
	{"POST", "/v1/identities", IAM, BODY, NULL, gh_api_handle_identity_create},
	{"GET", "/v1/identities/{ref}", GH_API_ANY, NONE, NULL, gh_api_handle_identity_get},
	{"PATCH", "/v1/identities/{ref}", IAM, BODY, NULL, gh_api_handle_identity_update},
	{"POST", "/v1/identities/{ref}/suspend", IAM, BODY, NULL,
	 gh_api_handle_identity_suspend},
	{"POST", "/v1/identities/{ref}/activate", IAM, BODY, NULL,
	 gh_api_handle_identity_activate},
	{"POST", "/v1/identities/{ref}/decommission", IAM, BODY, NULL,
	 gh_api_handle_identity_decommission},
	/* the NHI's owner, admin or iam: the domain checks ownership */
	{"POST", "/v1/identities/{ref}/renew", GH_API_ANY, BODY, NULL,
	 gh_api_handle_identity_renew},
	{"GET", "/v1/groups", GH_API_ANY, NONE, q_page, gh_api_handle_group_list},
	{"POST", "/v1/groups", IAM, BODY, NULL, gh_api_handle_group_create},
	{"GET", "/v1/groups/{ref}", GH_API_ANY, NONE, NULL, gh_api_handle_group_get},
	{"POST", "/v1/groups/{ref}/members", IAM, BODY, NULL, gh_api_handle_group_add_member},
	{"DELETE", "/v1/groups/{ref}/members/{member}", IAM, NONE, NULL,
	 gh_api_handle_group_remove_member},
	{"GET", "/v1/systems", GH_API_ANY, NONE, q_page, gh_api_handle_system_list},
	{"POST", "/v1/systems", IAM, BODY, NULL, gh_api_handle_system_create},
	{"GET", "/v1/systems/{ref}", GH_API_ANY, NONE, NULL, gh_api_handle_system_get},
	{"PATCH", "/v1/systems/{ref}", IAM, BODY, NULL, gh_api_handle_system_update},
	{"GET", "/v1/entitlements", GH_API_ANY, NONE, q_entitlements,
	 gh_api_handle_entitlement_list},
	{"POST", "/v1/entitlements", IAM, BODY, NULL, gh_api_handle_entitlement_create},
	{"GET", "/v1/entitlements/{ref}", GH_API_ANY, NONE, NULL, gh_api_handle_entitlement_get},
	{"PATCH", "/v1/entitlements/{ref}", IAM, BODY, NULL, gh_api_handle_entitlement_update},
	{"GET", "/v1/requests", GH_API_ANY, NONE, q_requests, gh_api_handle_request_list},
	{"POST", "/v1/requests", SUBMITTERS, BODY, NULL, gh_api_handle_request_submit},
	{"GET", "/v1/requests/{id}", GH_API_ANY, NONE, NULL, gh_api_handle_request_get},
	{"POST", "/v1/requests/{id}/approve", APPROVERS, OPTIONAL, NULL,
	 gh_api_handle_request_approve},
	{"POST", "/v1/requests/{id}/reject", APPROVERS, BODY, NULL, gh_api_handle_request_reject},
	/* the domain decides who beyond admin and iam may cancel (submitter, requester) */
	{"POST", "/v1/requests/{id}/cancel", GH_API_ANY, BODY, NULL, gh_api_handle_request_cancel},
	{"GET", "/v1/requests/{id}/history", HISTORY, NONE, NULL, gh_api_handle_request_history},
	{"GET", "/v1/grants", GH_API_ANY, NONE, q_grants, gh_api_handle_grant_list},
	{"GET", "/v1/grants/{id}", GH_API_ANY, NONE, NULL, gh_api_handle_grant_get},
	{"POST", "/v1/grants/{id}/revoke", IAM, BODY, NULL, gh_api_handle_grant_revoke},
	{"GET", "/v1/policies", AUDITORS, NONE, q_page, gh_api_handle_policy_list},
	{"POST", "/v1/policies", IAM, BODY, NULL, gh_api_handle_policy_propose},
	/* before {ref}: the first matching route wins */
	{"GET", "/v1/policies/active", AUDITORS, NONE, NULL, gh_api_handle_policy_active},
	{"GET", "/v1/policies/{ref}", AUDITORS, NONE, NULL, gh_api_handle_policy_get},
	{"POST", "/v1/policies/{ref}/activate", IAM, OPTIONAL, NULL,
	 gh_api_handle_policy_activate},
	{"POST", "/v1/policies/simulate", AUDITORS, BODY, NULL, gh_api_handle_policy_simulate},
	{"GET", "/v1/audit/events", AUDITORS, NONE, q_audit_events, gh_api_handle_audit_events},
	{"GET", "/v1/audit/export", AUDITORS, NONE, q_audit_export, gh_api_handle_audit_export},
	/* issue 6: the Merkle tree over the audit events and its proofs */
	{"GET", "/v1/audit/tree", AUDITORS, NONE, q_audit_tree, gh_api_handle_audit_tree},
	{"GET", "/v1/audit/proofs/inclusion", AUDITORS, NONE, q_audit_inclusion,
	 gh_api_handle_audit_inclusion},
	{"GET", "/v1/audit/proofs/consistency", AUDITORS, NONE, q_audit_consistency,
	 gh_api_handle_audit_consistency},
	/* issue 11: covers=N asks the server's signer and waits, for auditors too */
	{"GET", "/v1/audit/checkpoint", AUDITORS, NONE, q_audit_checkpoint,
	 gh_api_handle_checkpoint_latest},
	{"POST", "/v1/audit/checkpoint", GH_ROLE_ADMIN, NONE, NULL, gh_api_handle_checkpoint_sign},
	{"GET", "/v1/audit/public-key", GH_API_ANY, NONE, NULL, gh_api_handle_public_key},
	/* issue 4, workflow: delegations, break-glass reviews, evidence */
	{"GET", "/v1/delegations", DLG_READERS, NONE, q_delegations,
	 gh_api_handle_delegation_list},
	{"POST", "/v1/delegations", APPROVERS, BODY, NULL, gh_api_handle_delegation_create},
	{"GET", "/v1/delegations/{id}", DLG_READERS, NONE, NULL, gh_api_handle_delegation_get},
	{"POST", "/v1/delegations/{id}/revoke", APPROVERS, BODY, NULL,
	 gh_api_handle_delegation_revoke},
	{"POST", "/v1/grants/{id}/review", APPROVERS, BODY, NULL, gh_api_handle_grant_review},
	{"GET", "/v1/requests/{id}/evidence", GH_API_ANY, NONE, NULL,
	 gh_api_handle_request_evidence},
	/* issue 5, provisioning: the outbox's jobs, reconciliation, findings */
	{"GET", "/v1/jobs", AUDITORS, NONE, q_jobs, gh_api_handle_job_list},
	{"GET", "/v1/jobs/{id}", AUDITORS, NONE, NULL, gh_api_handle_job_get},
	{"POST", "/v1/jobs/{id}/retry", IAM, NONE, NULL, gh_api_handle_job_retry},
	{"POST", "/v1/systems/{ref}/reconcile", IAM, OPTIONAL, NULL,
	 gh_api_handle_system_reconcile},
	{"GET", "/v1/findings", AUDITORS, NONE, q_findings, gh_api_handle_finding_list},
	/* issue 5, NHI credentials: the domain allows the NHI's owner and the roles */
	{"POST", "/v1/grants/{id}/credentials", GH_API_ANY, OPTIONAL, NULL,
	 gh_api_handle_credential_issue},
	{"GET", "/v1/credentials", GH_API_ANY, NONE, q_credentials, gh_api_handle_credential_list},
	{"GET", "/v1/credentials/{id}", GH_API_ANY, NONE, NULL, gh_api_handle_credential_get},
	{"POST", "/v1/credentials/{id}/rotate", GH_API_ANY, OPTIONAL, NULL,
	 gh_api_handle_credential_rotate},
	{"POST", "/v1/credentials/{id}/revoke", GH_API_ANY, BODY, NULL,
	 gh_api_handle_credential_revoke},
	{"POST", "/v1/introspect", GH_API_ANY, GH_API_BODY_RAW, NULL, gh_api_handle_introspect},
	/* four eyes on weakening changes (issue 10) */
	{"GET", "/v1/changes", AUDITORS, NONE, q_changes, gh_api_handle_change_list},
	{"GET", "/v1/changes/{id}", AUDITORS, NONE, NULL, gh_api_handle_change_get},
	{"POST", "/v1/changes/{id}/confirm", IAM, OPTIONAL, NULL, gh_api_handle_change_confirm},
	{"POST", "/v1/changes/{id}/withdraw", IAM, BODY, NULL, gh_api_handle_change_withdraw},
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))
#define MAX_SEGMENTS 8
#define MAX_URL 1024     /* longer than any route with two full parameters, escaped */

size_t gh_api_route_count(void)
{
	return ROUTE_COUNT;
}

const gh_api_route *gh_api_route_at(size_t i)
{
	return i < ROUTE_COUNT ? &routes[i] : NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gh_api_unescape(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int gh_api_text_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p;
		size_t len;
		unsigned cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(end - p) < len)
			return 0;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += len;
	}
	return 1;
}

typedef struct segment {
	const char *s;           /* decoded, NUL-terminated */
	size_t len;
} segment;

/* Splits url ("/a/b%2Fc") into decoded segments held in buf. -1 when the
 * path cannot name any route (too long, too deep, bad escapes, bad text). */
static int split(segment *segs, char *buf, size_t buflen, const char *url)
{
	const char *p = url;
	size_t used = 0;
	int n = 0;

	if (*p != '/')
		return -1;
	while (*p == '/') {
		const char *start = ++p;
		int len;

		while (*p && *p != '/')
			p++;
		if (n == MAX_SEGMENTS)
			return -1;
		len = gh_api_unescape(buf + used, buflen - used, start, (size_t)(p - start));
		if (len < 0 || !gh_api_text_ok(buf + used, (size_t)len))
			return -1;
		segs[n].s = buf + used;
		segs[n].len = (size_t)len;
		used += (size_t)len + 1;
		n++;
	}
	return *p ? -1 : n;
}

/* Matches the route's pattern against segs; fills params when it does. */
static int path_matches(const gh_api_route *r, const segment *segs, int nsegs,
			char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1])
{
	const char *p = r->path;
	int i = 0, np = 0;

	while (*p == '/') {
		const char *start = ++p;
		size_t len;

		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (i >= nsegs)
			return 0;
		if (len >= 2 && start[0] == '{' && start[len - 1] == '}') {
			/* an empty or over-long parameter names nothing */
			if (segs[i].len == 0 || segs[i].len > GH_API_PARAM_MAX)
				return 0;
			if (params && np < GH_API_MAX_PARAMS)
				memcpy(params[np], segs[i].s, segs[i].len + 1);
			np++;
		} else if (segs[i].len != len || memcmp(segs[i].s, start, len) != 0) {
			return 0;
		}
		i++;
	}
	return i == nsegs;
}

static void allow_add(char *allow, size_t allowlen, const char *method)
{
	size_t used = strlen(allow);
	const char *p = allow;

	/* once each; the table lists a path's methods in a stable order */
	while ((p = strstr(p, method))) {
		size_t ml = strlen(method);
		if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
			return;
		p += ml;
	}
	snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", method);
}

const gh_api_route *gh_api_route_find(const char *method, const char *url,
				      char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1],
				      char *allow, size_t allowlen)
{
	segment segs[MAX_SEGMENTS];
	char buf[MAX_URL + MAX_SEGMENTS + 1];
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	int n;

	if (allowlen)
		allow[0] = '\0';
	if (strlen(url) > MAX_URL || (n = split(segs, buf, sizeof(buf), url)) < 0)
		return NULL;
	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		if (strcmp(routes[i].method, want) == 0 && path_matches(&routes[i], segs, n, params))
			return &routes[i];
	}
	for (size_t i = 0; i < ROUTE_COUNT && allowlen; i++) {
		if (!path_matches(&routes[i], segs, n, NULL))
			continue;
		allow_add(allow, allowlen, routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(allow, allowlen, "HEAD");
	}
	return NULL;
}

int gh_api_role_allows(const gh_api_route *route, unsigned roles)
{
	if (route->roles == GH_API_PUBLIC || route->roles == GH_API_ANY)
		return 1;
	return (roles & (route->roles | GH_ROLE_ADMIN)) != 0;
}

void gh_api_roles_text(char *out, size_t outlen, unsigned roles)
{
	static const char *const names[] = {"admin", "iam", "approver", "servicedesk", "auditor",
					    "requester"};
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && used < outlen; i++)
		if (roles & (1u << i))
			used += (size_t)snprintf(out + used, outlen - used, "%s%s",
						 used ? ", " : "", names[i]);
}

/* Copies at most 64 printable ASCII bytes of s for naming it in an error. */
static void printable(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (; *s && o + 1 < outlen && o < 64; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
}

int gh_api_query_take(gh_api_req *rq, const char *key, const char *value)
{
	const char *const *names = rq->route->query;
	char name[65], shown[65];
	size_t i;
	int len;

	/* our unescape callback leaves keys and values raw: decode them here */
	len = gh_api_unescape(name, sizeof(name), key, strlen(key));
	if (len < 0 || !gh_api_text_ok(name, (size_t)len)) {
		printable(shown, sizeof(shown), key);
		gh_error_field(shown, "unknown query parameter");
		return -1;
	}
	for (i = 0; names && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			break;
	if (!names || !names[i]) {
		gh_error_field(name, "unknown query parameter");
		return -1;
	}
	if (rq->query[i]) {
		gh_error_field(name, "is given more than once");
		return -1;
	}
	if (!value || !*value) {
		gh_error_field(name, "must not be empty");
		return -1;
	}
	len = gh_api_unescape(rq->qbuf[i], sizeof(rq->qbuf[i]), value, strlen(value));
	if (len < 0) {
		gh_error_field(name, "is badly escaped or longer than %d bytes", GH_API_QUERY_MAX);
		return -1;
	}
	if (!gh_api_text_ok(rq->qbuf[i], (size_t)len)) {
		gh_error_field(name, "must be UTF-8 text without control characters");
		return -1;
	}
	rq->query[i] = rq->qbuf[i];
	return 0;
}

typedef struct query_walk {
	gh_api_req *rq;
	int bad;
} query_walk;

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	query_walk *w = cls;

	if (gh_api_query_take(w->rq, key, value))
		w->bad = 1;
	return MHD_YES;
}

/* A whole decimal number in lo..hi; -1 when it is not. */
static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int gh_api_query_parse(gh_api_req *rq)
{
	query_walk w = {rq, 0};

	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_one, &w);
	return gh_api_query_check(rq, w.bad);
}

int gh_api_query_check(gh_api_req *rq, int bad)
{
	const char *v;
	long long n;

	if ((v = gh_api_query(rq, "limit"))) {
		if (parse_int(v, 1, GH_API_PAGE_MAX, &n) == 0) {
			rq->limit = (int)n;
		} else {
			gh_error_field("limit", "must be a whole number from 1 to %d", GH_API_PAGE_MAX);
			bad = 1;
		}
	}
	if ((v = gh_api_query(rq, "after_seq"))) {
		if (parse_int(v, 0, INT64_MAX, &n) == 0) {
			rq->after_seq = n;
		} else {
			gh_error_field("after_seq", "must be a whole number, 0 or more");
			bad = 1;
		}
	}
	if ((v = gh_api_query(rq, "requestable")) && strcmp(v, "true") != 0 &&
	    strcmp(v, "false") != 0) {
		gh_error_field("requestable", "must be true or false");
		bad = 1;
	}
	if (!bad)
		return 0;
	/* a field that could not be recorded must still refuse the request */
	if (gh_error_fields_finish() == 0)
		gh_error_set(GH_EINVALID, "bad query parameters");
	return GH_EINVALID;
}

const char *gh_api_query(const gh_api_req *rq, const char *name)
{
	const char *const *names = rq->route ? rq->route->query : NULL;

	for (size_t i = 0; names && names[i] && i < GH_API_MAX_QUERY; i++)
		if (strcmp(names[i], name) == 0)
			return rq->query[i];
	return NULL;
}
