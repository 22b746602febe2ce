/* webhook.c - the webhook connector: POST the job as JSON signed with
 * HMAC-SHA256 of a shared secret; a 2xx answer means done. */
#include "connect/connect.h"
#include "common/error.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 2048
#define CONNECT_TIMEOUT_MS 5000L
#define TIMEOUT_DEFAULT 10
#define TIMEOUT_MIN 1
#define TIMEOUT_MAX 60

static const char *const fields[] = {"url", "secret_ref", "timeout", "allow_private_addresses",
				     NULL};
static const char *const system_fields[] = {NULL};

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
	if (json_object_get(settings, "allow_private_addresses") &&
	    !json_is_boolean(json_object_get(settings, "allow_private_addresses")))
		gh_error_field("connector_settings.allow_private_addresses", "must be true or false");
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

/* The answer's body is read and dropped: it is the receiver's, and nothing
 * of it reaches a job's error or receipt. */
static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	(void)p;
	(void)cls;
	return size * n;
}

/* ---- where a webhook may connect ---- */

static int v4_refused(const unsigned char a[4])
{
	return a[0] == 0 ||                                   /* unspecified, "this network" */
	       a[0] == 127 ||                                 /* loopback */
	       a[0] == 10 ||                                  /* private */
	       (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	       (a[0] == 192 && a[1] == 168) ||
	       (a[0] == 169 && a[1] == 254) ||                /* link-local */
	       (a[0] == 100 && (a[1] & 0xc0) == 64) ||        /* CGNAT */
	       a[0] >= 224;                                   /* multicast, reserved, broadcast */
}

/* 1 for a loopback, private, link-local, unspecified, CGNAT, multicast or
 * reserved address (IPv4-mapped and -compatible forms too), else 0. */
static int addr_refused(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char zero[12] = {0};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	unsigned char a[16], v4[4];

	if (sa->sa_family == AF_INET) {
		memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr.s_addr, 4);
		return v4_refused(v4);
	}
	if (sa->sa_family != AF_INET6)
		return 1;
	memcpy(a, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 16);
	memcpy(v4, a + 12, 4);
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_refused(v4);                    /* ::, ::1 fall in 0/8 */
	return (a[0] & 0xfe) == 0xfc ||                       /* unique local fc00::/7 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||     /* link-local fe80::/10 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) ||     /* site-local fec0::/10 */
	       a[0] == 0xff;                                  /* multicast */
}

typedef struct guard {
	int allow_private;
	int refused;                 /* a connection was refused */
	char addr[INET6_ADDRSTRLEN];
} guard;

/* libcurl's socket for each address it connects to: the address checked
 * here, after DNS, so that no answer can point a webhook inside. */
static curl_socket_t open_socket(void *cls, curlsocktype purpose, struct curl_sockaddr *a)
{
	guard *g = cls;
	const struct sockaddr *sa = &a->addr;

	(void)purpose;
	if (!g->allow_private && addr_refused(sa)) {
		g->refused = 1;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, g->addr,
				  sizeof(g->addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, g->addr,
				  sizeof(g->addr));
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
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
	guard gd = {0, 0, ""};
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
	gd.allow_private = json_is_true(json_object_get(settings, "allow_private_addresses"));
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
	curl_easy_setopt(c, CURLOPT_PROXY, "");        /* no proxy from the environment */
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &gd);
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
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK && gd.refused) {
		/* the operator decides; retrying will not change the address */
		rc = gh_error_set(GH_EINVALID, "webhook %s: refused to connect to %s, a loopback, "
				  "private or link-local address (the connector instance does not "
				  "set allow_private_addresses)", origin, gd.addr);
		goto cleanup;
	}
	if (cc != CURLE_OK) {
		gh_error_set(GH_ERROR, "webhook %s: %s", origin,
			     err[0] ? err : curl_easy_strerror(cc));
		goto cleanup;
	}
	if (status < 200 || status > 299) {
		/* the body is the receiver's, not for readers of the job */
		gh_error_set(GH_ERROR, "webhook %s answered HTTP %ld (%s)", origin, status,
			     status >= 500 ? "the receiver failed" : status >= 400 ?
			     "the receiver refused the job" : "not a success");
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
	free(body);
	json_decref(doc);
	gh_secret_free(secret);
	return rc;
}

const gh_connector_kind gh_connector_webhook = {"webhook", fields, check, apply, NULL,
						system_fields, NULL};
