/* server.c - the libmicrohttpd daemon: listening, and each request from its
 * headers (route, authentication, roles, query) through its body to the answer. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"
#include "gatehouse/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define CONNECTION_LIMIT 1000u
#define IDLE_TIMEOUT 15                 /* seconds a connection may sit idle (at most) */
#define PER_ADDRESS_DEFAULT 32
#define HEADER_LIMIT_DEFAULT (16 * 1024)
#define REQUEST_TIMEOUT_DEFAULT 30      /* seconds to receive a whole request */
#define REAPER_EVERY_MS 200
#define MAX_THREADS 64
#define DISCARD_MAX (1024 * 1024)       /* bytes dropped past the cap before hanging up */

int gh_api_parse_listen(struct sockaddr_in *sa, const char *listen)
{
	char host[INET_ADDRSTRLEN + 16];
	const char *colon;
	size_t hostlen;
	unsigned long port = 8080;

	if (!listen || !*listen)
		listen = DEFAULT_LISTEN;
	colon = strrchr(listen, ':');
	hostlen = colon ? (size_t)(colon - listen) : strlen(listen);
	if (hostlen == 0 || hostlen >= sizeof(host))
		return gh_error_set(GH_EINVALID, "listen address \"%.64s\": expected host:port",
				    listen);
	memcpy(host, listen, hostlen);
	host[hostlen] = '\0';
	if (colon) {
		char *end;
		const char *p = colon + 1;
		if (*p < '0' || *p > '9' || strlen(p) > 5)
			return gh_error_set(GH_EINVALID, "listen address \"%.64s\": bad port", listen);
		port = strtoul(p, &end, 10);
		if (*end || port > 65535)
			return gh_error_set(GH_EINVALID, "listen address \"%.64s\": bad port", listen);
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return gh_error_set(GH_EINVALID,
				    "listen address \"%.64s\": host must be an IPv4 address or localhost",
				    listen);
	return 0;
}

int gh_api_is_json_type(const char *ct)
{
	const char *p;

	if (!ct)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "application/json", 16) != 0)
		return 0;
	p = ct + 16;
	for (;;) {
		const char *name, *val;
		size_t nlen, vlen;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return 1;
		if (*p++ != ';')
			return 0;
		while (*p == ' ' || *p == '\t')
			p++;
		name = p;
		while (*p && *p != '=' && *p != ';')
			p++;
		nlen = (size_t)(p - name);
		if (*p != '=')
			return 0;
		val = ++p;
		if (*p == '"') {
			val = ++p;
			while (*p && *p != '"')
				p++;
			vlen = (size_t)(p - val);
			if (*p++ != '"')
				return 0;
		} else {
			while (*p && *p != ';' && *p != ' ' && *p != '\t')
				p++;
			vlen = (size_t)(p - val);
		}
		if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 &&
		    !((vlen == 5 && strncasecmp(val, "utf-8", 5) == 0) ||
		      (vlen == 4 && strncasecmp(val, "utf8", 4) == 0)))
			return 0;
	}
}

static void what_of(char *out, size_t outlen, const gh_api_req *rq)
{
	snprintf(out, outlen, "%s %s", rq->route ? rq->route->method : "-",
		 rq->route ? rq->route->path : "(no route)");
}

static enum MHD_Result respond(gh_api_req *rq, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (!rq->route || rq->route->roles != GH_API_PUBLIC)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(rq->conn, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		rq->answered = 1;
	return ret;
}

/* A role refusal says who was refused and, from the route's gate, which
 * roles would do: {"caller": {"id","name","roles"}, "roles_needed": [...]},
 * so that a client can explain it in its own terms. */
static struct MHD_Response *forbidden(gh_api_req *rq, unsigned *status, const char *what)
{
	const gh_error *e = gh_error_last();
	char detail[sizeof(e->message)];
	json_t *extra = json_object(), *caller = NULL;
	struct MHD_Response *r;

	snprintf(detail, sizeof(detail), "%s", e->code == GH_EFORBIDDEN ? e->message : "");
	if (extra && gh_gov_whoami(&caller, rq->gov, &rq->actor) == 0)
		json_object_set_new(extra, "caller", caller);
	if (extra && rq->roles_needed)
		json_object_set_new(extra, "roles_needed", gh_roles_json(rq->roles_needed));
	r = gh_api_problem_ext(status, GH_EFORBIDDEN, detail, NULL, what, extra);
	json_decref(extra);
	return r;
}

/* A problem document for rc (message and fields from gh_error_last). */
static struct MHD_Response *problem(gh_api_req *rq, int rc, unsigned *status)
{
	char what[160];
	struct MHD_Response *r;

	what_of(what, sizeof(what), rq);
	if (rc == GH_EFORBIDDEN && rq->actor.id[0])
		return forbidden(rq, status, what);
	r = gh_api_problem_last(status, rc, what);
	if (r && *status == 429 && rq->retry_after > 0) {
		char secs[24];
		snprintf(secs, sizeof(secs), "%lld", (long long)rq->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	if (r && *status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					rq->bad_token ? "Bearer realm=\"gatehouse\", error=\"invalid_token\""
						      : "Bearer realm=\"gatehouse\"");
	return r;
}

static enum MHD_Result fail(gh_api_req *rq, int rc)
{
	unsigned status;
	struct MHD_Response *r = problem(rq, rc, &status);

	return respond(rq, status, r);
}

int gh_api_bearer_token(char out[GH_API_TOKEN_MAX + 1], const char *h)
{
	size_t n = 0;

	if (strncasecmp(h, "Bearer ", 7) != 0)
		return gh_error_set(GH_EUNAUTH, "the Authorization header must be \"Bearer <token>\"");
	h += 7;
	while (*h == ' ')
		h++;
	/* RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "="s */
	while (h[n] && n <= GH_API_TOKEN_MAX) {
		char c = h[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='))
			break;
		n++;
	}
	if (n == 0 || n > GH_API_TOKEN_MAX || (h[n] && strspn(h + n, " \t") != strlen(h + n)))
		return gh_error_set(GH_EUNAUTH, "the bearer token is malformed");
	memcpy(out, h, n);
	out[n] = '\0';
	return 0;
}

/* "Bearer <token>" -> rq->actor. The token is never logged and is wiped.
 * Failures count against the peer's address (gh_gov_authenticate_from). */
static int authenticate(gh_api_req *rq)
{
	const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	char token[GH_API_TOKEN_MAX + 1];
	int rc, parsed;

	if (!h)
		return gh_error_set(GH_EUNAUTH, "an Authorization: Bearer token is required");
	rq->bad_token = 1;
	parsed = gh_api_bearer_token(token, h) == 0;
	rc = gh_gov_authenticate_from(&rq->actor, rq->gov, parsed ? token : NULL, rq->source,
				      &rq->retry_after);
	sodium_memzero(token, sizeof(token));
	if (rc == GH_EUNAUTH && !parsed)
		return gh_api_bearer_token(token, h);   /* its own message again */
	if (rc == GH_EUNAUTH && gh_error_last()->code != GH_EUNAUTH)
		gh_error_set(GH_EUNAUTH, "the bearer token is not valid");
	if (rc == 0)
		rq->bad_token = 0;
	return rc;
}

/* After the headers: everything that can be refused before reading a body. */
static enum MHD_Result begin(gh_api_req *rq, const char *url)
{
	const gh_api_route *route;
	char allow[64], roles[96];
	const char *cl;
	unsigned long long declared = 0;
	int rc;

	route = rq->route = gh_api_route_find(rq->method, url, rq->params, allow, sizeof(allow));
	if (!route) {
		struct MHD_Response *r;
		unsigned status;

		if (!allow[0])
			return fail(rq, gh_error_set(GH_ENOTFOUND, "no such route"));
		gh_error_set(GH_API_EMETHOD, "this path takes only %s", allow);
		r = problem(rq, GH_API_EMETHOD, &status);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
		return respond(rq, status, r);
	}
	cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		errno = 0;
		declared = strtoull(cl, NULL, 10);
		if (errno)
			declared = ~0ULL;
	}
	/* refused before authentication: nothing is buffered for anyone */
	if (declared > rq->api->max_body)
		return fail(rq, gh_error_set(GH_ETOOLARGE, "the body is %llu bytes; the limit is %zu",
					     declared, rq->api->max_body));
	if (route->roles != GH_API_PUBLIC) {
		if ((rc = authenticate(rq)))
			return fail(rq, rc);
		if (!gh_api_role_allows(route, rq->actor.roles)) {
			rq->roles_needed = route->roles | GH_ROLE_ADMIN;
			gh_api_roles_text(roles, sizeof(roles), rq->roles_needed);
			return fail(rq, gh_error_set(GH_EFORBIDDEN, "%s %s needs one of the roles: %s",
						     route->method, route->path, roles));
		}
	}
	if ((rc = gh_api_query_parse(rq)))
		return fail(rq, rc);
	if (declared > 0) {
		if (route->body == GH_API_BODY_NONE) {
			gh_error_field("body", "this route takes no request body");
			return fail(rq, gh_error_fields_finish());
		}
		if (route->body != GH_API_BODY_RAW &&
		    !gh_api_is_json_type(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_CONTENT_TYPE)))
			return fail(rq, gh_error_set(GH_API_EMEDIA,
						     "the body must be application/json"));
		if (!(rq->body_buf = malloc(declared)))
			return fail(rq, gh_error_set(GH_ERROR, "out of memory"));
		rq->body_cap = declared;
	}
	return MHD_YES;
}

/* One piece of the body; past the cap it is dropped and the answer is 413. */
static enum MHD_Result take(gh_api_req *rq, const char *data, size_t n)
{
	size_t cap = rq->api->max_body;

	/* MHD cannot answer in the middle of a body: drop the rest and answer
	 * at its end, or hang up once a client sends far more than allowed */
	if (!rq->too_large && n > cap - rq->body_len) {
		rq->too_large = 1;
		free(rq->body_buf);
		rq->body_buf = NULL;
		rq->body_len = rq->body_cap = 0;
	}
	if (rq->too_large) {
		rq->discarded += n;
		return rq->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (rq->body_len + n > rq->body_cap) {
		size_t want = rq->body_cap ? rq->body_cap * 2 : 4096;
		char *p;
		while (want < rq->body_len + n)
			want *= 2;
		if (want > cap)
			want = cap;
		if (!(p = realloc(rq->body_buf, want)))
			return MHD_NO;
		rq->body_buf = p;
		rq->body_cap = want;
	}
	memcpy(rq->body_buf + rq->body_len, data, n);
	rq->body_len += n;
	return MHD_YES;
}

/* The whole request is in: check and parse the body, run the handler, answer. */
static enum MHD_Result finish(gh_api_req *rq)
{
	const gh_api_route *route = rq->route;
	struct MHD_Response *r;
	int rc;

	if (rq->too_large)
		return fail(rq, gh_error_set(GH_ETOOLARGE, "the body is over the limit of %zu bytes",
					     rq->api->max_body));
	if (route->body == GH_API_BODY_RAW) {
		/* the handler parses body_buf; it is freed with the request */
	} else if (rq->body_len > 0) {
		if (route->body == GH_API_BODY_NONE) {
			gh_error_field("body", "this route takes no request body");
			return fail(rq, gh_error_fields_finish());
		}
		if (!gh_api_is_json_type(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_CONTENT_TYPE)))
			return fail(rq, gh_error_set(GH_API_EMEDIA,
						     "the body must be application/json"));
		if ((rc = gh_json_parse(&rq->body, rq->body_buf, rq->body_len)))
			return fail(rq, rc);
		if (!json_is_object(rq->body)) {
			gh_error_field("body", "must be a JSON object");
			return fail(rq, gh_error_fields_finish());
		}
	} else if (route->body == GH_API_BODY_REQUIRED) {
		return fail(rq, gh_json_parse(&rq->body, "", 0));
	} else if (route->body == GH_API_BODY_OPTIONAL) {
		if (!(rq->body = json_object()))
			return fail(rq, gh_error_set(GH_ERROR, "out of memory"));
	}
	if (route->body != GH_API_BODY_RAW) {
		free(rq->body_buf);
		rq->body_buf = NULL;
	}

	gh_error_clear();
	if ((rc = route->handler(rq))) {
		if (rq->response) {
			MHD_destroy_response(rq->response);
			rq->response = NULL;
		}
		/* a handler that failed without saying how is a fault of ours */
		return fail(rq, rc > 0 ? GH_ERROR : rc);
	}
	if (rq->response) {
		r = rq->response;
		rq->response = NULL;
	} else if (rq->status == 204) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else if (!rq->out) {
		return fail(rq, gh_error_set(GH_ERROR, "the handler returned no answer"));
	} else if (!(r = gh_api_json_response(rq->out))) {
		return fail(rq, gh_error_set(GH_ERROR, "cannot encode the answer"));
	}
	return respond(rq, rq->status, r);
}

static int has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return 1;
	return cl && strspn(cl, " \t0") != strlen(cl);
}

/* --- the whole-request deadline ---------------------------------------------
 *
 * MHD's connection timeout only measures silence, so a client sending a byte
 * now and then holds a connection forever. Each connection gets a deadline
 * (request_timeout from its start, or from the end of its previous request)
 * that stops once the request is in; a reaper thread shuts down the sockets
 * past it, and MHD then closes them. MHD reports CLOSED before it closes the
 * socket, and the entry leaves the list under conns_lock then, so the reaper
 * never touches a descriptor number that may already be reused. */
struct gh_api_conn {
	int fd;
	int64_t deadline;               /* monotonic ms; 0 while none runs */
	int cut;                        /* shut down by the reaper */
	gh_api_conn *prev, *next;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	gh_api *api = cls;
	gh_api_conn *c = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!info)
			return;
		if (!(c = calloc(1, sizeof(*c)))) {
			/* untracked, it could be held open: refuse it instead */
			shutdown(info->connect_fd, SHUT_RDWR);
			return;
		}
		c->fd = info->connect_fd;
		c->deadline = mono_ms() + api->request_ms;
		pthread_mutex_lock(&api->conns_lock);
		c->next = api->conns;
		if (api->conns)
			api->conns->prev = c;
		api->conns = c;
		pthread_mutex_unlock(&api->conns_lock);
		*socket_context = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && c) {
		pthread_mutex_lock(&api->conns_lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			api->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&api->conns_lock);
		free(c);
		*socket_context = NULL;
	}
}

/* Starts (ms > 0, from now) or stops (ms 0) conn's deadline. */
static void deadline_set(gh_api *api, struct MHD_Connection *conn, int64_t ms)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	gh_api_conn *c = info ? info->socket_context : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&api->conns_lock);
	c->deadline = ms ? mono_ms() + ms : 0;
	pthread_mutex_unlock(&api->conns_lock);
}

static void *reaper_main(void *arg)
{
	gh_api *api = arg;
	struct timespec at;
	int64_t now;

	pthread_mutex_lock(&api->conns_lock);
	while (!api->reaper_stop) {
		now = mono_ms();
		for (gh_api_conn *c = api->conns; c; c = c->next)
			if (c->deadline && c->deadline <= now && !c->cut) {
				shutdown(c->fd, SHUT_RDWR);
				c->cut = 1;
			}
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_nsec += REAPER_EVERY_MS * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		if (!api->reaper_stop)
			pthread_cond_timedwait(&api->reaper_cond, &api->conns_lock, &at);
	}
	pthread_mutex_unlock(&api->conns_lock);
	return NULL;
}

/* The peer's address as text into rq->source ("-" when unknown). */
static void peer_address(gh_api_req *rq)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;

	snprintf(rq->source, sizeof(rq->source), "-");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, rq->source,
			  sizeof(rq->source));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, rq->source,
			  sizeof(rq->source));
}

/* --- the request's size ------------------------------------------------------ */

/* Called by MHD with the raw request target before it splits off the query:
 * the request's state starts here. A query of more parameters than any route
 * takes is cut off before MHD stores them one by one in the connection's
 * memory pool (which, once full, left the connection hanging), and refused. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	gh_api_req *rq = calloc(1, sizeof(*rq));
	const char *q;
	size_t n = 1;

	if (!rq)
		return NULL;
	rq->api = cls;
	if (!uri)
		return rq;
	rq->uri_len = strlen(uri);
	if ((q = strchr(uri, '?'))) {
		for (const char *p = q + 1; *p; p++)
			n += *p == '&';
		if (n > GH_API_QUERY_PARAMS_MAX) {
			rq->query_count = n;
			((char *)q)[1] = '\0';  /* MHD parses what follows '?' next */
		}
	}
	return rq;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	size_t *n = cls;

	*n += strlen(key) + (value ? strlen(value) : 0) + 4;   /* ": " and CRLF */
	return MHD_YES;
}

/* Refuses a request whose request line and headers are over the limit, or
 * whose query has more parameters than any route takes. */
static int check_size(gh_api_req *rq, const char *version)
{
	size_t n = strlen(rq->method) + rq->uri_len + strlen(version) + 4;

	if (rq->query_count)
		return gh_error_set(GH_API_EURI,
				    "the query has %zu parameters; at most %d are accepted",
				    rq->query_count, GH_API_QUERY_PARAMS_MAX);
	if (rq->uri_len > rq->api->header_limit)
		return gh_error_set(GH_API_EURI, "the request target is %zu bytes; the limit is %zu",
				    rq->uri_len, rq->api->header_limit);
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, add_header_size, &n);
	if (n > rq->api->header_limit)
		return gh_error_set(GH_API_EHEADERS,
				    "the request line and headers are %zu bytes; the limit is %zu",
				    n, rq->api->header_limit);
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	gh_api *api = cls;
	gh_api_req *rq = *con_cls;
	enum MHD_Result ret;

	if (!rq || !rq->conn) {
		if (!rq && !(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		rq->api = api;
		rq->gov = api->gov;
		rq->conn = conn;
		rq->method = method;
		rq->status = 200;
		peer_address(rq);
		*con_cls = rq;
		/* without a body, answer on the next call: a response queued
		 * before the request is complete makes MHD close the connection */
		if (!has_body(conn))
			return MHD_YES;
		rq->begun = 1;
		gh_error_clear();
		if (check_size(rq, version))
			return fail(rq, gh_error_last()->code);
		return begin(rq, url);
	}
	if (*upload_data_size == 0)
		deadline_set(api, conn, 0);   /* the request is in */
	if (rq->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		ret = take(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ret;
	}
	gh_error_clear();
	if (!rq->begun) {
		rq->begun = 1;
		if (check_size(rq, version))
			return fail(rq, gh_error_last()->code);
		if ((ret = begin(rq, url)) != MHD_YES || rq->answered)
			return ret;
	}
	return finish(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	gh_api *api = cls;
	gh_api_req *rq = *con_cls;

	/* a kept-alive connection has request_timeout for its next request */
	deadline_set(api, conn, api->request_ms);
	if (!rq)
		return;
	free(rq->body_buf);
	json_decref(rq->body);
	json_decref(rq->out);
	if (rq->response)
		MHD_destroy_response(rq->response);
	free(rq);
	*con_cls = NULL;
}

/* MHD would decode the path before we split it, turning "%2F" into a
 * separator; leave the URL and query raw and decode per segment instead. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	return strlen(s);
}

/* Stops the reaper and frees api (the daemon already stopped). */
static void api_free(gh_api *api)
{
	if (api->reaper_running) {
		pthread_mutex_lock(&api->conns_lock);
		api->reaper_stop = 1;
		pthread_cond_signal(&api->reaper_cond);
		pthread_mutex_unlock(&api->conns_lock);
		pthread_join(api->reaper, NULL);
	}
	pthread_cond_destroy(&api->reaper_cond);
	pthread_mutex_destroy(&api->conns_lock);
	free(api);
}

int gh_api_start(gh_api **out, gh_gov *g, const gh_api_options *opts)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem pool[2] = {{MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
	pthread_condattr_t ca;
	unsigned flags, threads, per_address, idle;
	size_t memory;
	long cores;
	gh_api *api;
	char addr[INET_ADDRSTRLEN];
	int rc, request_timeout;

	*out = NULL;
	if ((rc = gh_api_parse_listen(&sa, opts ? opts->listen : NULL)))
		return rc;
	if (opts && (opts->per_address_connections < 0 || opts->request_timeout < 0 ||
		     (opts->header_limit && opts->header_limit < 1024) ||
		     opts->header_limit > 1024 * 1024))
		return gh_error_set(GH_EINVALID, "HTTP limits: per_address_connections and"
				    " request_timeout must not be negative, header_limit 1 KiB to 1 MiB");
	if (!(api = calloc(1, sizeof(*api))))
		return gh_error_set(GH_ERROR, "out of memory");
	pthread_mutex_init(&api->conns_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&api->reaper_cond, &ca);
	pthread_condattr_destroy(&ca);
	api->gov = g;
	api->max_body = opts && opts->max_body ? opts->max_body : GH_JSON_MAX_BODY;
	api->header_limit = opts && opts->header_limit ? opts->header_limit : HEADER_LIMIT_DEFAULT;
	request_timeout = opts && opts->request_timeout ? opts->request_timeout
							 : REQUEST_TIMEOUT_DEFAULT;
	api->request_ms = (int64_t)request_timeout * 1000;
	per_address = opts && opts->per_address_connections ? (unsigned)opts->per_address_connections
							    : PER_ADDRESS_DEFAULT;
	idle = request_timeout < IDLE_TIMEOUT ? (unsigned)request_timeout : IDLE_TIMEOUT;
	/* MHD reads the request line and headers into the first half of this
	 * pool and keeps one record a header or query parameter in the rest:
	 * headers a little over the limit still reach us (our 431 is a problem
	 * document); far over it, MHD answers 431 or 414 itself */
	memory = 2 * api->header_limit + 32 * 1024;
	if (opts && opts->threads > 0) {
		threads = (unsigned)opts->threads;
	} else {
		/* a worker waits for its durable commit; more workers than
		 * cores let concurrent writes share a commit (store.md) */
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		threads = 8 * (cores > 0 ? (unsigned)cores : 1);
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	else if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
		flags |= MHD_USE_POLL;
	/* a pool of one is no pool: MHD wants the option left out */
	pool[0].option = threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END;
	pool[0].value = (intptr_t)threads;
	if ((rc = pthread_create(&api->reaper, NULL, reaper_main, api))) {
		api_free(api);
		return gh_error_set(GH_ERROR, "starting the HTTP reaper: %s", strerror(rc));
	}
	api->reaper_running = 1;
	api->daemon = MHD_start_daemon(
		flags, ntohs(sa.sin_port), NULL, NULL, on_request, api,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_ARRAY, pool,
		MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,
		MHD_OPTION_CONNECTION_TIMEOUT, idle,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, api,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, api,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
		MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, api,
		MHD_OPTION_END);
	if (!api->daemon) {
		inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
		api_free(api);
		return gh_error_set(GH_ERROR, "cannot listen on %s:%u (in use or not available)", addr,
				    (unsigned)ntohs(sa.sin_port));
	}
	info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
	api->port = info && info->port ? info->port : ntohs(sa.sin_port);
	*out = api;
	return 0;
}

void gh_api_stop(gh_api *api)
{
	if (!api)
		return;
	/* the daemon first: its connections leave the reaper's list as they close */
	if (api->daemon)
		MHD_stop_daemon(api->daemon);
	api_free(api);
}

unsigned gh_api_port(const gh_api *api)
{
	return api ? api->port : 0;
}
