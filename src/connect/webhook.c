/* webhook.c - the webhook connector: POST the job as JSON signed with
 * HMAC-SHA256 of a shared secret; a 2xx answer means done. */
#include "connect/connect.h"
#include "common/error.h"
#include "common/util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 2048
#define RESPONSE_MAX (64 * 1024)   /* kept of an answer; the rest is read and dropped */
#define CONNECT_TIMEOUT_MS 5000L
#define TIMEOUT_DEFAULT 10
#define TIMEOUT_MIN 1
#define TIMEOUT_MAX 60

static const char *const fields[] = {"url", "secret_ref", "timeout", NULL};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_ready = CURLE_FAILED_INIT;

static void curl_start(void)
{
	curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* "scheme://host[:port]" of an http(s) URL without user info into out, or -1. */
static int url_origin(char *out, size_t outlen, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *port = NULL;
	int rc = -1;

	if (!u || strlen(url) > URL_MAX || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto cleanup;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto cleanup;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0])
		goto cleanup;
	/* credentials in the URL would be a secret in the settings */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto cleanup;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	snprintf(out, outlen, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
	rc = 0;
cleanup:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int check(const json_t *settings)
{
	json_t *url = json_is_object(settings) ? json_object_get(settings, "url") : NULL;
	const char *ref;
	char origin[URL_MAX + 32];
	int64_t timeout;

	if (!url)
		gh_error_field("connector_settings.url", "is required: an http:// or https:// URL");
	else if (!json_is_string(url) || strlen(json_string_value(url)) != json_string_length(url) ||
		 url_origin(origin, sizeof(origin), json_string_value(url)) != 0)
		gh_error_field("connector_settings.url", "must be an http:// or https:// URL with a "
			       "host and no user or password, at most %d bytes", URL_MAX);
	gh_conn_setting_secret_ref(settings, "secret_ref", 1, &ref);
	gh_conn_setting_duration(settings, "timeout", TIMEOUT_MIN, TIMEOUT_MAX, TIMEOUT_DEFAULT,
				 &timeout);
	return gh_error_fields_finish();
}

/* "sha256=" and the hex HMAC-SHA256 of body under key (any length). */
static void sign(char *out, const char *key, const char *body, size_t len)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	gh_hex(out + 7, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

typedef struct answer {
	char *body;
	size_t len;
} answer;

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	answer *a = cls;
	size_t len = size * n, keep = len;
	char *b;

	if (a->len + keep > RESPONSE_MAX)
		keep = RESPONSE_MAX - a->len;
	if (keep) {
		if (!(b = realloc(a->body, a->len + keep + 1)))
			return 0;
		memcpy(b + a->len, p, keep);
		a->body = b;
		a->len += keep;
		a->body[a->len] = '\0';
	}
	return len;
}

/* The answer's first line, control characters dropped (for an error message). */
static const char *first_line(char *body)
{
	char *p;

	if (!body)
		return "";
	body[strcspn(body, "\r\n")] = '\0';
	for (p = body; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return body;
}

/* The idempotency key: grant and op, or the job when there is no grant. */
static void idempotency_header(char *out, size_t outlen, const gh_conn_job *job)
{
	if (job->grant_id)
		snprintf(out, outlen, "X-Gatehouse-Idempotency-Key: %s:%s", job->grant_id,
			 job->op ? job->op : "");
	else
		snprintf(out, outlen, "X-Gatehouse-Idempotency-Key: %s",
			 job->job_id ? job->job_id : "");
}

static int apply(const json_t *settings, const gh_conn_job *job, json_t **receipt)
{
	char origin[URL_MAX + 32], sig[96], signature[128], idem[256], err[CURL_ERROR_SIZE];
	const char *const lines[] = {"Content-Type: application/json", signature, idem,
				     "Expect:"};
	const char *url, *ref;
	char *secret = NULL, *body = NULL;
	struct curl_slist *headers = NULL, *h;
	answer ans = {NULL, 0};
	json_t *doc = NULL;
	CURL *c = NULL;
	CURLcode cc;
	int64_t timeout;
	long status = 0;
	int rc = GH_ERROR;
	size_t i;

	*receipt = NULL;
	gh_error_clear();
	if (check(settings) != 0)
		return GH_EINVALID;
	url = json_string_value(json_object_get(settings, "url"));
	ref = json_string_value(json_object_get(settings, "secret_ref"));
	gh_conn_setting_duration(settings, "timeout", TIMEOUT_MIN, TIMEOUT_MAX, TIMEOUT_DEFAULT,
				 &timeout);
	url_origin(origin, sizeof(origin), url);
	pthread_once(&curl_once, curl_start);
	if (curl_ready != CURLE_OK)
		return gh_error_set(GH_ERROR, "webhook: libcurl could not start");
	if ((rc = gh_secret_resolve(&secret, ref)) != 0) {
		/* a missing secret can be put in place; retrying may then work */
		rc = rc == GH_EINVALID ? GH_EINVALID : GH_ERROR;
		goto cleanup;
	}
	rc = GH_ERROR;
	if (!(doc = gh_conn_job_json(job)) || !(body = json_dumps(doc, JSON_COMPACT))) {
		gh_error_set(GH_ERROR, "webhook: out of memory");
		goto cleanup;
	}
	sign(sig, secret, body, strlen(body));
	snprintf(signature, sizeof(signature), "X-Gatehouse-Signature: %s", sig);
	idempotency_header(idem, sizeof(idem), job);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!(h = curl_slist_append(headers, lines[i]))) {
			gh_error_set(GH_ERROR, "webhook: out of memory");
			goto cleanup;
		}
		headers = h;
	}
	if (!(c = curl_easy_init())) {
		gh_error_set(GH_ERROR, "webhook: out of memory");
		goto cleanup;
	}
	err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gatehouse-webhook");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout * 1000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout * 1000L < CONNECT_TIMEOUT_MS ? (long)timeout * 1000L
							      : CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		gh_error_set(GH_ERROR, "webhook %s: %s", origin,
			     err[0] ? err : curl_easy_strerror(cc));
		goto cleanup;
	}
	if (status < 200 || status > 299) {
		gh_error_set(GH_ERROR, "webhook %s answered HTTP %ld%s%.160s", origin, status,
			     ans.len ? ": " : "", first_line(ans.body));
		goto cleanup;
	}
	if (!(*receipt = json_pack("{s:I}", "status", (json_int_t)status))) {
		gh_error_set(GH_ERROR, "webhook: out of memory");
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	free(ans.body);
	free(body);
	json_decref(doc);
	gh_secret_free(secret);
	return rc;
}

const gh_connector_kind gh_connector_webhook = {"webhook", fields, check, apply, NULL};
