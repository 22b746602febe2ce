/* client.c - HTTP to a running gatehouse server (libcurl) and showing its problems. */
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/errors.h"
#include "gatehouse/common.h"

#define MAX_ANSWER (32u * 1024 * 1024)   /* a buffered answer; exports stream */
#define CONNECT_TIMEOUT_MS 5000L

typedef struct sink {
	char *buf;
	size_t len, cap;
	int too_large;
	FILE *stream;            /* 2xx bodies go here when set */
	long status;
	CURL *curl;
} sink;

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	sink *s = arg;
	size_t len = size * n;

	if (s->stream && s->status == 0)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->stream && s->status >= 200 && s->status < 300)
		return fwrite(data, 1, len, s->stream) == len ? len : 0;
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *p;

		while (cap < s->len + len + 1)
			cap *= 2;
		if (cap > MAX_ANSWER + 1 || !(p = realloc(s->buf, cap))) {
			s->too_large = 1;
			return 0;
		}
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

static int global_init(void)
{
	static int done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return gh_error_set(GH_ERROR, "libcurl failed to initialise");
	done = 1;
	return 0;
}

int gh_client_request(gh_response *out, const gh_client *c, const char *method,
		      const char *path, const json_t *body, FILE *stream)
{
	struct curl_slist *headers = NULL, *h;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = NULL, *text = NULL, *auth = NULL;
	size_t base_len = strlen(c->server);
	sink s = {0};
	CURL *curl = NULL;
	CURLcode cc;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = global_init()))
		return rc;
	/* "http://host:8080/" and "http://host:8080" name the same server */
	while (base_len && c->server[base_len - 1] == '/')
		base_len--;
	if (!(url = malloc(base_len + strlen(path) + 1)) || !(curl = curl_easy_init())) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	memcpy(url, c->server, base_len);
	strcpy(url + base_len, path);
	s.stream = stream;
	s.curl = curl;

	h = curl_slist_append(headers, "Accept: application/json");
	if (h && body)
		h = curl_slist_append(headers = h, "Content-Type: application/json");
	if (h && c->token) {
		size_t n = strlen(c->token) + 32;

		if (!(auth = malloc(n))) {
			rc = gh_error_set(GH_ERROR, "out of memory");
			goto cleanup;
		}
		snprintf(auth, n, "Authorization: Bearer %s", c->token);
		h = curl_slist_append(headers = h, auth);
	}
	if (!h) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	headers = h;
	if (body && !(text = json_dumps(body, JSON_COMPACT))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	if (text) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "gatehouse-cli");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 30L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

	cc = curl_easy_perform(curl);
	if (s.too_large) {
		rc = gh_error_set(GH_ETOOLARGE, "the answer from %s is larger than %u bytes", url,
				  MAX_ANSWER);
		goto cleanup;
	}
	if (cc != CURLE_OK) {
		rc = gh_error_set(GH_ERROR, "cannot reach the gatehouse server at %.*s: %s",
				  (int)base_len, c->server, *errbuf ? errbuf : curl_easy_strerror(cc));
		goto cleanup;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	out->body = s.buf;
	out->len = s.len;
	s.buf = NULL;
cleanup:
	free(s.buf);
	free(text);
	free(url);
	if (auth) {
		/* the token is a secret: do not leave it in freed memory */
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	curl_slist_free_all(headers);
	if (curl)
		curl_easy_cleanup(curl);
	return rc;
}

void gh_response_free(gh_response *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int gh_client_json(json_t **doc, gh_response *r, const gh_client *c, const char *method,
		   const char *path, const json_t *body)
{
	*doc = NULL;
	if (gh_client_request(r, c, method, path, body, NULL)) {
		gh_cli_error(NULL);
		return gh_error_last()->code == GH_ERROR ? GH_EXIT_USAGE : GH_EXIT_FAIL;
	}
	if (r->status >= 300)
		return gh_client_report(r, c);
	if (!r->body || !(*doc = json_loadb(r->body, r->len, 0, NULL))) {
		fprintf(stderr, "gatehouse: the answer to %s %s is not JSON\n", method, path);
		return GH_EXIT_FAIL;
	}
	return GH_EXIT_OK;
}

/* ", "-joined strings of a JSON array into buf; "" when none. */
static void join(char *buf, size_t len, const json_t *a)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(a) && at < len; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		int n = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", s ? s : "?");

		if (n < 0)
			break;
		at += (size_t)n;
	}
}

/* A role refusal in the command's terms, with who the caller is:
 * "requests approve needs one of the roles admin, iam, approver; you are
 * sam (servicedesk)". The route's gate names the roles it needs
 * (roles_needed); a refusal from the domain keeps its own words. */
static void report_forbidden(const json_t *doc, const char *detail, const char *command)
{
	const json_t *caller = json_object_get(doc, "caller");
	const json_t *needed = json_object_get(doc, "roles_needed");
	const char *name = json_string_value(json_object_get(caller, "name"));
	char roles[160], need[160];

	join(roles, sizeof(roles), json_object_get(caller, "roles"));
	join(need, sizeof(need), needed);
	if (command && need[0])
		fprintf(stderr, "gatehouse: %s needs %s %s", command,
			json_array_size(needed) == 1 ? "the role" : "one of the roles", need);
	else
		fprintf(stderr, "gatehouse: %s", detail);
	if (name)
		fprintf(stderr, "; you are %s (%s)", name, roles[0] ? roles : "no roles");
	fputc('\n', stderr);
}

int gh_client_report(const gh_response *r, const gh_client *c)
{
	return gh_client_report_as(r, c, c->command);
}

int gh_client_report_as(const gh_response *r, const gh_client *c, const char *command)
{
	static const char see_errors[] = "; see errors";
	json_t *doc = NULL, *errors;
	const char *detail = NULL, *title = NULL;
	size_t i, n;

	if (r->body && r->len)
		gh_json_parse(&doc, r->body, r->len);
	if (json_is_object(doc)) {
		detail = json_string_value(json_object_get(doc, "detail"));
		title = json_string_value(json_object_get(doc, "title"));
	}
	errors = json_object_get(doc, "errors");
	n = json_is_array(errors) ? json_array_size(errors) : 0;
	if (!detail)
		detail = title;
	if (r->status == 403 && detail && json_is_object(json_object_get(doc, "caller"))) {
		report_forbidden(doc, detail, command);
	} else if (detail) {
		size_t len = strlen(detail), k = sizeof(see_errors) - 1;
		const json_t *e = json_array_get(errors, 0);
		const char *field = json_string_value(json_object_get(e, "field"));
		const char *reason = json_string_value(json_object_get(e, "reason"));

		/* "entitlement: entitlement x not found": the reason names it already */
		if (n == 1 && field && reason && strncmp(reason, field, strlen(field)) == 0 &&
		    reason[strlen(field)] == ' ' && strstr(detail, reason))
			detail = reason;
		/* "4 fields are invalid; see errors" speaks of the JSON: the lines
		 * below are the errors */
		if (n > 1 && len > k && strcmp(detail + len - k, see_errors) == 0)
			fprintf(stderr, "gatehouse: %.*s:\n", (int)(len - k), detail);
		else
			fprintf(stderr, "gatehouse: %s\n", detail);
	} else {
		fprintf(stderr, "gatehouse: the server answered HTTP %ld%s%.200s\n", r->status,
			r->body && r->len ? ": " : "", r->body && r->len ? r->body : "");
	}
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(errors, i);
		const char *field = json_string_value(json_object_get(e, "field"));
		const char *reason = json_string_value(json_object_get(e, "reason"));

		/* one field whose reason the detail already says is printed once */
		if (n == 1 && detail && reason && strstr(detail, reason))
			continue;
		fprintf(stderr, "  %s: %s\n", field ? field : "?", reason ? reason : "?");
	}
	if (r->status == 401 && !c->token)
		fprintf(stderr, "hint: pass --token or set GATEHOUSE_TOKEN\n");
	json_decref(doc);
	return GH_EXIT_FAIL;
}
