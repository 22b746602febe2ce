/* fuzz_router.c - fuzz target: the HTTP front end's parsers of outside input:
 * route matching with percent-decoded path segments, query parameters, the
 * bearer header, the Content-Type check and the listen address.
 *
 * Input: fields separated by '\n', in order: method, path, query string
 * (without '?'), Authorization value, Content-Type value, listen address.
 * A missing field is absent (NULL). Properties are checked with abort(). */
#include "api/api_internal.h"
#include "common/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEP '\n'
#define NFIELDS 6

enum { F_METHOD, F_PATH, F_QUERY, F_AUTH, F_TYPE, F_LISTEN };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_router: property violated: %s\n", what);
		abort();
	}
}

/* Each field in its own exact-size allocation, so ASan sees any overread. */
static void split_fields(char *fields[NFIELDS], const uint8_t *data, size_t size)
{
	size_t start = 0;
	int n = 0;

	for (size_t i = 0; i <= size && n < NFIELDS; i++) {
		if (i == size || data[i] == SEP) {
			size_t len = i - start;
			fields[n] = malloc(len + 1);
			if (!fields[n])
				abort();
			memcpy(fields[n], data + start, len);
			fields[n][len] = '\0';
			n++;
			start = i + 1;
		}
	}
}

static void check_params(char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1],
			 const gh_api_route *r)
{
	int np = 0;

	for (const char *p = r->path; (p = strchr(p, '{')); p++)
		np++;
	for (int i = 0; i < np && i < GH_API_MAX_PARAMS; i++) {
		size_t len = strnlen(params[i], GH_API_PARAM_MAX + 1);
		check(len > 0 && len <= GH_API_PARAM_MAX, "a path parameter is empty or too long");
		check(gh_api_text_ok(params[i], len), "a path parameter is not text");
	}
}

static void fuzz_route(const char *method, const char *url)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PATCH", "DELETE", "PUT"};
	char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1];
	char allow[64 + 8], tiny[6];
	const gh_api_route *r, *again;
	int any = 0;

	memset(allow + 64, 0x5a, 8);
	r = gh_api_route_find(method, url, params, allow, 64);
	for (int i = 0; i < 8; i++)
		check((unsigned char)allow[64 + i] == 0x5a, "allow overran its buffer");
	if (r) {
		check(strcmp(r->method, strcmp(method, "HEAD") == 0 ? "GET" : method) == 0,
		      "the route's method differs from the request's");
		check_params(params, r);
	} else if (allow[0]) {
		/* every method the Allow header names must route */
		char copy[sizeof(allow)], *save = NULL;
		snprintf(copy, sizeof(copy), "%s", allow);
		for (char *m = strtok_r(copy, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
			check(strcmp(m, method) != 0, "Allow names the refused method");
			check(gh_api_route_find(m, url, params, NULL, 0) != NULL,
			      "Allow names a method that does not route");
		}
	}
	/* the same path under every method: Allow and routing agree */
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		again = gh_api_route_find(methods[i], url, params, NULL, 0);
		if (again) {
			any = 1;
			check_params(params, again);
		}
	}
	if (r || allow[0])
		check(any, "a known path routes under no method");
	/* a tiny Allow buffer must truncate, not overflow */
	gh_api_route_find(method, url, params, tiny, sizeof(tiny));
	check(strlen(tiny) < sizeof(tiny), "a tiny Allow buffer is not terminated");
}

static void fuzz_unescape(const char *s)
{
	char small[8], big[1100];
	size_t n = strlen(s);
	int len;

	len = gh_api_unescape(small, sizeof(small), s, n);
	check(len < (int)sizeof(small), "unescape wrote past its cap");
	if (len >= 0)
		check(strlen(small) == (size_t)len, "unescape hid a NUL or misreported its length");
	len = gh_api_unescape(big, sizeof(big), s, n);
	if (len >= 0) {
		check((size_t)len <= n && strlen(big) == (size_t)len, "unescape length is wrong");
		check(!strchr(s, '%') ? memcmp(big, s, n) == 0 : 1, "unescape changed plain text");
	} else if (n < sizeof(big)) {
		check(strchr(s, '%') != NULL, "unescape refused plain text");
	}
	gh_api_text_ok(s, n);
}

/* Splits like MHD does ("a=1&b&c=" -> a:"1", b:NULL, c:"") and runs the
 * route's query checks, as gh_api_query_parse would. */
static void fuzz_query(const gh_api_route *route, const char *query)
{
	gh_api_req rq;
	char *copy = strdup(query), *save = NULL;
	int bad = 0, rc, nnames = 0;

	if (!copy)
		abort();
	memset(&rq, 0, sizeof(rq));
	rq.route = route;
	for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = '\0';
		if (gh_api_query_take(&rq, kv, eq))
			bad = 1;
	}
	rc = gh_api_query_check(&rq, bad);
	while (route->query && route->query[nnames])
		nnames++;
	if (rc == 0) {
		check(!bad, "a refused parameter was accepted");
		check(rq.limit >= 0 && rq.limit <= GH_API_PAGE_MAX, "limit out of range");
		check(rq.after_seq >= 0, "after_seq is negative");
		for (int i = 0; i < nnames; i++) {
			const char *v = gh_api_query(&rq, route->query[i]);
			if (v) {
				size_t len = strlen(v);
				check(len > 0 && len <= GH_API_QUERY_MAX, "a query value is empty or long");
				check(gh_api_text_ok(v, len), "a query value is not text");
			}
		}
	} else {
		check(rc == GH_EINVALID && gh_error_last()->code == GH_EINVALID,
		      "a bad query is not GH_EINVALID");
	}
	for (int i = nnames; i < GH_API_MAX_QUERY; i++)
		check(rq.query[i] == NULL, "a query slot past the route's names was set");
	gh_error_clear();
	free(copy);
}

static int b64token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-._~+/=", c) != NULL;
}

static void fuzz_bearer(const char *header)
{
	char token[GH_API_TOKEN_MAX + 1];
	size_t len;

	if (gh_api_bearer_token(token, header) != 0) {
		check(gh_error_last()->code == GH_EUNAUTH, "a bad header is not GH_EUNAUTH");
		gh_error_clear();
		return;
	}
	len = strlen(token);
	check(len > 0 && len <= GH_API_TOKEN_MAX, "token length out of range");
	for (size_t i = 0; i < len; i++)
		check(b64token_char(token[i]), "token holds a character outside b64token");
	check(strncasecmp(header, "Bearer ", 7) == 0, "accepted a header without the scheme");
}

static void fuzz_type(const char *ct)
{
	if (gh_api_is_json_type(ct)) {
		ct += strspn(ct, " \t");
		check(strncasecmp(ct, "application/json", 16) == 0, "accepted a non-JSON type");
	}
}

static void fuzz_listen(const char *listen)
{
	struct sockaddr_in sa;

	if (gh_api_parse_listen(&sa, listen) == 0)
		check(sa.sin_family == AF_INET, "a parsed listen address is not IPv4");
	gh_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[NFIELDS] = {NULL};

	split_fields(f, data, size);
	if (f[F_PATH]) {
		fuzz_route(f[F_METHOD], f[F_PATH]);
		fuzz_unescape(f[F_PATH]);
	}
	if (f[F_QUERY]) {
		/* every route: those with query names and those with none */
		for (size_t i = 0; i < gh_api_route_count(); i++)
			fuzz_query(gh_api_route_at(i), f[F_QUERY]);
		fuzz_unescape(f[F_QUERY]);
	}
	if (f[F_AUTH])
		fuzz_bearer(f[F_AUTH]);
	fuzz_type(f[F_TYPE]);
	if (f[F_LISTEN])
		fuzz_listen(f[F_LISTEN]);
	for (int i = 0; i < NFIELDS; i++)
		free(f[i]);
	gh_error_clear();
	return 0;
}
