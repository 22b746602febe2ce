/* problem.c - RFC 9457 problem documents and JSON responses. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct problem_kind {
	int code;
	unsigned status;
	const char *name;        /* the "code" member and the end of "type" */
	const char *title;
	const char *detail;      /* when the error has no message of its own */
} problem_kind;

static const problem_kind kinds[] = {
	{GH_EINVALID, 400, "invalid", "Invalid input", "the request is invalid"},
	{GH_EUNAUTH, 401, "unauthenticated", "Authentication required",
	 "a valid bearer token is required"},
	{GH_EFORBIDDEN, 403, "forbidden", "Forbidden", "the token's roles may not use this route"},
	{GH_EDENIED, 403, "denied", "Denied", "the operation is refused"},
	{GH_ENOTFOUND, 404, "not_found", "Not found", "no such object"},
	{GH_API_EMETHOD, 405, "method_not_allowed", "Method not allowed",
	 "the path does not take this method"},
	{GH_ECONFLICT, 409, "conflict", "Conflict", "the operation conflicts with current state"},
	{GH_ETOOLARGE, 413, "too_large", "Payload too large", "the request body is too large"},
	{GH_API_EMEDIA, 415, "unsupported_media_type", "Unsupported media type",
	 "the body must be application/json"},
	{GH_API_EURI, 414, "uri_too_long", "URI too long", "the request target is too long"},
	{GH_API_EHEADERS, 431, "header_too_large", "Request header fields too large",
	 "the request line and headers are too large"},
	{GH_ELIMITED, 429, "too_many_requests", "Too many requests",
	 "too many failed authentications from this address; try again later"},
};

static const problem_kind internal = {GH_ERROR, 500, "internal", "Internal error",
				      "an internal error occurred; see the server log"};

/* Built without jansson when all else fails, so every answer is a document. */
static const char fallback[] =
	"{\"type\":\"https://gatehouse.dev/problems/internal\",\"title\":\"Internal error\","
	"\"status\":500,\"detail\":\"an internal error occurred; see the server log\","
	"\"code\":\"internal\"}";

static const problem_kind *kind_of(int code)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].code == code)
			return &kinds[i];
	return &internal;
}

unsigned gh_api_status(int code)
{
	return kind_of(code)->status;
}

/* A copy of s that is valid UTF-8 (a message may be cut mid-character or
 * echo raw input): bytes of invalid sequences become '?'. */
static json_t *clean_string(const char *s)
{
	size_t n = strlen(s);
	char *copy;
	json_t *v;

	if ((v = json_stringn(s, n)))
		return v;
	if (!(copy = malloc(n + 1)))
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	copy[n] = '\0';
	v = json_stringn(copy, n);
	free(copy);
	return v;
}

static struct MHD_Response *text_response(const char *type, char *text, size_t len,
					  enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, mode);

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(text);
		return NULL;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

struct MHD_Response *gh_api_problem_ext(unsigned *status, int code, const char *detail,
					const json_t *errors, const char *what,
					const json_t *extra)
{
	const problem_kind *k = kind_of(code);
	char type[96];
	json_t *doc = NULL, *d;
	char *text = NULL;
	struct MHD_Response *r;

	*status = k->status;
	if (k == &internal) {
		/* the message may name internals: the log gets it, the client does not */
		fprintf(stderr, "gatehouse api: %s: %s\n", what ? what : "request",
			detail && *detail ? detail : "(no message)");
		detail = k->detail;
		errors = NULL;
	} else if (!detail || !*detail) {
		detail = k->detail;
	}
	snprintf(type, sizeof(type), "https://gatehouse.dev/problems/%s", k->name);
	d = clean_string(detail);
	doc = json_pack("{s:s, s:s, s:i, s:o*, s:s}", "type", type, "title", k->title,
			"status", (int)k->status, "detail", d, "code", k->name);
	if (doc && json_is_array(errors) && json_array_size(errors) > 0)
		json_object_set_new(doc, "errors", json_deep_copy(errors));
	if (doc && json_is_object(extra) && k != &internal) {
		const char *key;
		json_t *v;

		/* extensions never replace a standard member */
		json_object_foreach((json_t *)extra, key, v)
			if (!json_object_get(doc, key))
				json_object_set_new(doc, key, json_deep_copy(v));
	}
	if (doc)
		text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (text) {
		r = text_response("application/problem+json", text, strlen(text),
				  MHD_RESPMEM_MUST_FREE);
	} else {
		*status = 500;
		r = text_response("application/problem+json", (char *)fallback,
				  sizeof(fallback) - 1, MHD_RESPMEM_PERSISTENT);
	}
	return r;
}

struct MHD_Response *gh_api_problem(unsigned *status, int code, const char *detail,
				    const json_t *errors, const char *what)
{
	return gh_api_problem_ext(status, code, detail, errors, what, NULL);
}

struct MHD_Response *gh_api_problem_last(unsigned *status, int rc, const char *what)
{
	const gh_error *e = gh_error_last();

	/* trust the message only when it belongs to the failure being reported;
	 * an internal one is only logged */
	if (e->code == rc)
		return gh_api_problem(status, rc, e->message, e->fields, what);
	return gh_api_problem(status, rc, gh_api_status(rc) == 500 ? e->message : NULL,
			      rc == GH_EINVALID ? e->fields : NULL, what);
}

struct MHD_Response *gh_api_json_response(const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!text)
		return NULL;
	return text_response("application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE);
}
