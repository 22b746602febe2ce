/* api_internal.h - what the HTTP front end's files share and nobody else sees. */
#ifndef GH_API_INTERNAL_H
#define GH_API_INTERNAL_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "gatehouse/api.h"
#include "gatehouse/gov.h"

#define GH_API_MAX_PARAMS 2      /* {param} segments in one path */
#define GH_API_PARAM_MAX 128     /* bytes of one decoded path parameter */
#define GH_API_MAX_QUERY 7       /* query parameters one route accepts */
#define GH_API_QUERY_MAX 256     /* bytes of one decoded query value */
#define GH_API_PAGE_DEFAULT 50
#define GH_API_PAGE_MAX 500
#define GH_API_TOKEN_MAX 512     /* bytes of a bearer token */
#define GH_API_QUERY_PARAMS_MAX 64 /* query parameters any request may carry */

/* Route role masks: GH_ROLE_* bits (admin is always allowed), or one of these. */
#define GH_API_PUBLIC 0u         /* no authentication at all */
#define GH_API_ANY (1u << 31)    /* any authenticated identity */

/* Problem codes the domain has no GH_E* value for. */
#define GH_API_EMETHOD (-100)    /* 405 method_not_allowed */
#define GH_API_EMEDIA (-101)     /* 415 unsupported_media_type */
#define GH_API_EURI (-102)       /* 414 uri_too_long */
#define GH_API_EHEADERS (-103)   /* 431 header_too_large */

enum gh_api_body {
	GH_API_BODY_NONE,        /* a non-empty body is refused */
	GH_API_BODY_REQUIRED,    /* a JSON document must be sent */
	GH_API_BODY_OPTIONAL,    /* empty means {} */
	GH_API_BODY_RAW,         /* left in body_buf/body_len for the handler to parse
				  * (introspection takes a form or JSON) */
};

typedef struct gh_api_req gh_api_req;
typedef int (*gh_api_handler)(gh_api_req *rq);

typedef struct gh_api_route {
	const char *method;
	const char *path;               /* "/v1/identities/{ref}" */
	unsigned roles;                 /* GH_ROLE_* mask, GH_API_PUBLIC or GH_API_ANY */
	enum gh_api_body body;
	const char *const *query;       /* accepted query parameters, NULL-ended; NULL for none */
	gh_api_handler handler;
} gh_api_route;

typedef struct gh_api_conn gh_api_conn;

struct gh_api {
	struct MHD_Daemon *daemon;
	gh_gov *gov;
	size_t max_body;                /* request body cap in bytes */
	size_t header_limit;            /* bytes of request line and headers */
	int64_t request_ms;             /* time to receive a whole request */
	/* open connections and their deadlines, cut by the reaper thread */
	pthread_mutex_t conns_lock;
	pthread_cond_t reaper_cond;     /* CLOCK_MONOTONIC */
	pthread_t reaper;
	int reaper_running;
	int reaper_stop;
	gh_api_conn *conns;
	unsigned port;                  /* bound port */
};

/* One HTTP request from its headers to its completion (MHD's con_cls). */
struct gh_api_req {
	gh_api *api;
	gh_gov *gov;
	struct MHD_Connection *conn;
	const char *method;             /* borrowed from MHD */
	size_t uri_len;                 /* bytes of the request target as received */
	size_t query_count;             /* query parameters when over GH_API_QUERY_PARAMS_MAX */
	char source[48];                /* the peer's address */
	const gh_api_route *route;
	gh_actor actor;
	unsigned roles_needed;          /* the route's roles, when its role gate refused */
	int begun;                      /* the header checks ran */
	int answered;                   /* a response was queued */
	int bad_token;                  /* a token was sent but refused (RFC 6750 invalid_token) */
	int64_t retry_after;            /* seconds, for a 429 */
	/* path parameters, decoded */
	char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1];
	/* query values by index in route->query, decoded; NULL when absent */
	const char *query[GH_API_MAX_QUERY];
	char qbuf[GH_API_MAX_QUERY][GH_API_QUERY_MAX + 1];
	int limit;                      /* "limit", 0 when absent */
	int64_t after_seq;              /* "after_seq", 0 when absent */
	/* body */
	char *body_buf;
	size_t body_len;
	size_t body_cap;
	size_t discarded;               /* bytes dropped past the cap */
	int too_large;
	json_t *body;                   /* parsed body, or NULL for routes without one */
	/* answer, set by the handler */
	unsigned status;                /* 200 unless a handler says 201 or 204 */
	json_t *out;
	struct MHD_Response *response;  /* a handler-built response (streams) */
};

/* --- router.c ----------------------------------------------------------- */
size_t gh_api_route_count(void);
const gh_api_route *gh_api_route_at(size_t i);
/* Finds the route for method and url (the path, not yet percent-decoded),
 * filling params. NULL when none: then allow holds the methods the path
 * does take ("GET, HEAD, POST") or is empty when the path is unknown. HEAD
 * matches GET routes. */
const gh_api_route *gh_api_route_find(const char *method, const char *url,
				      char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1],
				      char *allow, size_t allowlen);
/* Percent-decodes n bytes of s into out (cap bytes with the NUL); -1 on a
 * bad escape, an encoded NUL, or no room. */
int gh_api_unescape(char *out, size_t cap, const char *s, size_t n);
/* 1 when s is valid UTF-8 without control characters. */
int gh_api_text_ok(const char *s, size_t n);
/* Reads and checks rq's query string against rq->route->query: unknown,
 * repeated, empty or malformed parameters are all reported (GH_EINVALID). */
int gh_api_query_parse(gh_api_req *rq);
/* One raw (still escaped) query parameter of rq->route, as MHD hands it over
 * (value NULL for "?key"): decoded into rq->query; records a field error and
 * returns -1 when it is unknown, repeated, empty, badly escaped or not text. */
int gh_api_query_take(gh_api_req *rq, const char *key, const char *value);
/* After every parameter was taken: checks limit, after_seq and requestable
 * into rq. bad says a take failed. 0, or GH_EINVALID with the fields. */
int gh_api_query_check(gh_api_req *rq, int bad);
/* The decoded value of query parameter name, or NULL. */
const char *gh_api_query(const gh_api_req *rq, const char *name);
/* 1 when roles may use route (admin may use every route). */
int gh_api_role_allows(const gh_api_route *route, unsigned roles);
/* "admin, iam" for a role mask. */
void gh_api_roles_text(char *out, size_t outlen, unsigned roles);

/* --- server.c ----------------------------------------------------------- */
/* "host:port", host an IPv4 literal or "localhost"; port 0 picks a free one;
 * NULL or "" means 127.0.0.1:8080. 0 or GH_EINVALID. */
int gh_api_parse_listen(struct sockaddr_in *sa, const char *listen);
/* 1 when ct (may be NULL) is application/json, with an optional charset
 * parameter that must then be UTF-8. */
int gh_api_is_json_type(const char *ct);
/* The token of an Authorization header value "Bearer <b64token>" into out;
 * GH_EUNAUTH when it is not that form or longer than GH_API_TOKEN_MAX. */
int gh_api_bearer_token(char out[GH_API_TOKEN_MAX + 1], const char *header);

/* --- handlers.c --------------------------------------------------------- */
int gh_api_handle_healthz(gh_api_req *rq);
int gh_api_handle_token_create(gh_api_req *rq);
int gh_api_handle_token_revoke(gh_api_req *rq);
int gh_api_handle_token_list(gh_api_req *rq);
int gh_api_handle_token_rotate(gh_api_req *rq);
int gh_api_handle_identity_list(gh_api_req *rq);
int gh_api_handle_identity_create(gh_api_req *rq);
int gh_api_handle_identity_get(gh_api_req *rq);
int gh_api_handle_identity_update(gh_api_req *rq);
int gh_api_handle_identity_suspend(gh_api_req *rq);
int gh_api_handle_identity_renew(gh_api_req *rq);
int gh_api_handle_identity_activate(gh_api_req *rq);
int gh_api_handle_identity_decommission(gh_api_req *rq);
int gh_api_handle_group_list(gh_api_req *rq);
int gh_api_handle_group_create(gh_api_req *rq);
int gh_api_handle_group_get(gh_api_req *rq);
int gh_api_handle_group_add_member(gh_api_req *rq);
int gh_api_handle_group_remove_member(gh_api_req *rq);
int gh_api_handle_system_list(gh_api_req *rq);
int gh_api_handle_system_create(gh_api_req *rq);
int gh_api_handle_system_get(gh_api_req *rq);
int gh_api_handle_system_update(gh_api_req *rq);
int gh_api_handle_entitlement_list(gh_api_req *rq);
int gh_api_handle_entitlement_create(gh_api_req *rq);
int gh_api_handle_entitlement_get(gh_api_req *rq);
int gh_api_handle_entitlement_update(gh_api_req *rq);
int gh_api_handle_request_list(gh_api_req *rq);
int gh_api_handle_request_submit(gh_api_req *rq);
int gh_api_handle_request_get(gh_api_req *rq);
int gh_api_handle_request_approve(gh_api_req *rq);
int gh_api_handle_request_reject(gh_api_req *rq);
int gh_api_handle_request_cancel(gh_api_req *rq);
int gh_api_handle_request_history(gh_api_req *rq);
int gh_api_handle_grant_list(gh_api_req *rq);
int gh_api_handle_grant_get(gh_api_req *rq);
int gh_api_handle_grant_revoke(gh_api_req *rq);
int gh_api_handle_policy_list(gh_api_req *rq);
int gh_api_handle_policy_propose(gh_api_req *rq);
int gh_api_handle_policy_active(gh_api_req *rq);
int gh_api_handle_policy_get(gh_api_req *rq);
int gh_api_handle_policy_activate(gh_api_req *rq);
int gh_api_handle_policy_simulate(gh_api_req *rq);
int gh_api_handle_audit_events(gh_api_req *rq);
int gh_api_handle_audit_export(gh_api_req *rq);

/* --- handlers_workflow.c ------------------------------------------------ */
int gh_api_handle_delegation_list(gh_api_req *rq);
int gh_api_handle_delegation_create(gh_api_req *rq);
int gh_api_handle_delegation_get(gh_api_req *rq);
int gh_api_handle_delegation_revoke(gh_api_req *rq);
int gh_api_handle_grant_review(gh_api_req *rq);
int gh_api_handle_request_evidence(gh_api_req *rq);

/* --- handlers_changes.c ------------------------------------------------- */
int gh_api_handle_change_list(gh_api_req *rq);
int gh_api_handle_change_get(gh_api_req *rq);
int gh_api_handle_change_confirm(gh_api_req *rq);
int gh_api_handle_change_withdraw(gh_api_req *rq);

/* --- handlers_connect.c ------------------------------------------------- */
int gh_api_handle_job_list(gh_api_req *rq);
int gh_api_handle_job_get(gh_api_req *rq);
int gh_api_handle_job_retry(gh_api_req *rq);
int gh_api_handle_system_reconcile(gh_api_req *rq);
int gh_api_handle_finding_list(gh_api_req *rq);
/* --- handlers_credentials.c ------------------------------------------- */
int gh_api_handle_credential_issue(gh_api_req *rq);
int gh_api_handle_credential_list(gh_api_req *rq);
int gh_api_handle_credential_get(gh_api_req *rq);
int gh_api_handle_credential_rotate(gh_api_req *rq);
int gh_api_handle_credential_revoke(gh_api_req *rq);
int gh_api_handle_introspect(gh_api_req *rq);
/* An introspection body (RFC 7662 2.1) of content type ct: a JSON object, or
 * application/x-www-form-urlencoded pairs (each key once, '+' a space,
 * percent-escapes, UTF-8 text without control characters) as an object of
 * strings. 0 with *out (caller's), GH_EINVALID naming the field at fault,
 * GH_API_EMEDIA for any other type, GH_ETOOLARGE as gh_json_parse. */
int gh_api_introspect_body(json_t **out, const char *ct, const char *buf, size_t len);

/* --- handlers_audit_proofs.c ------------------------------------------- */
int gh_api_handle_audit_tree(gh_api_req *rq);
int gh_api_handle_audit_inclusion(gh_api_req *rq);
int gh_api_handle_audit_consistency(gh_api_req *rq);
/* --- handlers_checkpoint.c --------------------------------------------- */
int gh_api_handle_checkpoint_latest(gh_api_req *rq);
int gh_api_handle_checkpoint_sign(gh_api_req *rq);
int gh_api_handle_public_key(gh_api_req *rq);

/* --- problem.c ---------------------------------------------------------- */
/* The HTTP status for a GH_E* (or GH_API_E*) code; 500 for anything else. */
unsigned gh_api_status(int code);
/* An RFC 9457 problem response for code with detail and errors (borrowed,
 * may be NULL); *status receives its status. For 500 the detail is logged
 * to stderr with what (e.g. "POST /v1/requests") and a generic one sent. */
struct MHD_Response *gh_api_problem(unsigned *status, int code, const char *detail,
				    const json_t *errors, const char *what);
/* The same from gh_error_last(), for a call that returned rc. */
struct MHD_Response *gh_api_problem_last(unsigned *status, int rc, const char *what);
/* gh_api_problem with extension members: each member of extra (borrowed,
 * may be NULL) is added to the document (RFC 9457 section 3.2). */
struct MHD_Response *gh_api_problem_ext(unsigned *status, int code, const char *detail,
					const json_t *errors, const char *what,
					const json_t *extra);
/* An application/json response of v's compact text; NULL on failure. */
struct MHD_Response *gh_api_json_response(const json_t *v);

#endif
