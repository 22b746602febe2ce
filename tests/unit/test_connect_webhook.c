/* test_connect_webhook.c - the webhook connector against a real HTTP receiver
 * on loopback that checks the HMAC itself: grant and revoke delivered signed,
 * errors on 5xx, hangs, closed ports and redirects, settings checked. */
#include "common/error.h"
#include "common/util.h"
#include "connect/connect.h"
#include "connect_fixture.h"
#include "harness.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SECRET "whsec-test-7f3a9c"
#define HIT_MAX 16
#define HANG 0

typedef struct hit {
	char path[128];
	char body[8192];
	size_t len;
	char signature[128], idem[256], ctype[128];
	int signature_ok;
} hit;

static struct {
	pthread_mutex_t mu;
	struct MHD_Daemon *d;
	unsigned port;
	int answer;                 /* status to answer, or HANG */
	volatile int stopping;
	const char *secret;         /* what the receiver expects */
	hit hits[HIT_MAX];
	int n;
} rx = {.mu = PTHREAD_MUTEX_INITIALIZER, .answer = 200, .secret = SECRET};

/* HMAC-SHA256 written out from RFC 2104 over plain SHA-256, so that the
 * check does not share code with the connector. */
static void hmac_hex(char *out, const char *key, const char *msg, size_t len)
{
	unsigned char k[64] = {0}, pad[64], inner[32], mac[32];
	crypto_hash_sha256_state st;
	size_t kl = strlen(key);

	if (kl > 64)
		crypto_hash_sha256(k, (const unsigned char *)key, kl);
	else
		memcpy(k, key, kl);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, pad, 64);
	crypto_hash_sha256_update(&st, (const unsigned char *)msg, len);
	crypto_hash_sha256_final(&st, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, pad, 64);
	crypto_hash_sha256_update(&st, inner, 32);
	crypto_hash_sha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	gh_hex(out + 7, mac, 32);
}

static void copy_header(char *out, size_t outlen, struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, outlen, "%s", v ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **state)
{
	hit *h = *state;
	struct MHD_Response *r;
	char expect[128];
	enum MHD_Result ret;
	int answer;

	(void)cls;
	(void)method;
	(void)version;
	if (!h) {
		if (!(h = calloc(1, sizeof(*h))))
			return MHD_NO;
		snprintf(h->path, sizeof(h->path), "%s", url);
		*state = h;
		return MHD_YES;
	}
	if (*size) {
		size_t keep = *size < sizeof(h->body) - 1 - h->len ? *size
								: sizeof(h->body) - 1 - h->len;
		memcpy(h->body + h->len, data, keep);
		h->len += keep;
		*size = 0;
		return MHD_YES;
	}
	copy_header(h->signature, sizeof(h->signature), c, "X-Gatehouse-Signature");
	copy_header(h->idem, sizeof(h->idem), c, "X-Gatehouse-Idempotency-Key");
	copy_header(h->ctype, sizeof(h->ctype), c, "Content-Type");
	hmac_hex(expect, rx.secret, h->body, h->len);
	h->signature_ok = strcmp(expect, h->signature) == 0;
	pthread_mutex_lock(&rx.mu);
	if (rx.n < HIT_MAX)
		rx.hits[rx.n++] = *h;
	answer = rx.answer;
	pthread_mutex_unlock(&rx.mu);
	/* a hang is bounded: 5 s, or until the test stops the receiver */
	for (int i = 0; answer == HANG && i < 100 && !rx.stopping; i++)
		usleep(50000);
	if (answer == HANG)
		answer = 200;
	r = MHD_create_response_from_buffer(strlen("downstream says no\nmore"),
					    (void *)"downstream says no\nmore",
					    MHD_RESPMEM_PERSISTENT);
	if (answer == 302)
		MHD_add_response_header(r, "Location", "/elsewhere");
	ret = MHD_queue_response(c, (unsigned)answer, r);
	MHD_destroy_response(r);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state,
		    enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	free(*state);
	*state = NULL;
}

static int rx_start(void)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				0, NULL, NULL, on_request, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!rx.d || !(info = MHD_get_daemon_info(rx.d, MHD_DAEMON_INFO_BIND_PORT)))
		return -1;
	rx.port = info->port;
	return 0;
}

static void rx_reset(int answer, const char *secret)
{
	pthread_mutex_lock(&rx.mu);
	rx.n = 0;
	rx.answer = answer;
	rx.secret = secret;
	pthread_mutex_unlock(&rx.mu);
}

/* The settings of a webhook instance of a server configuration; private
 * addresses allowed when allow is 1 (the receiver is on loopback). */
static json_t *settings_host(const char *host, const char *path, const char *ref,
			     const char *timeout, int allow)
{
	char text[2048], secret[1024];

	cx_secret_yaml(secret, sizeof(secret), "hook-key", ref);
	snprintf(text, sizeof(text), "secrets:\n%sconnectors:\n  hooks:\n    kind: webhook\n"
		 "    url: \"http://%s:%u%s\"\n    secret: hook-key\n    timeout: %s\n"
		 "    allow_private_addresses: %s\n", secret, host, rx.port, path, timeout,
		 allow ? "true" : "false");
	return cx_instance(text, "hooks", NULL);
}

static json_t *settings_for(const char *path, const char *ref, const char *timeout)
{
	return settings_host("127.0.0.1", path, ref, timeout, 1);
}

static const gh_conn_job grant_job = {
	"grant", "job_00000000000000a1", "grt_00000000000000b2", "sys_00000000000000c3",
	"billing-hooks", "ent_00000000000000d4", "deploy", "idn_00000000000000e5",
	"ci-bot", "ci-bot", "team:deployers", 1893456000, 1};

/* The job's error must never carry the secret. */
static void check_quiet(void)
{
	CHECK(strstr(gh_error_last()->message, SECRET) == NULL);
}

static void test_connect_webhook_apply__grant_and_revoke_signed(void)
{
	json_t *s = settings_for("/hooks/gatehouse?tenant=7", "env:GH_TEST_HOOK_SECRET", "5s");
	json_t *receipt = NULL, *body;
	gh_conn_job revoke = grant_job;
	const hit *h;

	revoke.op = "revoke";
	revoke.job_id = "job_00000000000000a2";
	revoke.attempt = 3;
	rx_reset(200, SECRET);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), 0);
	CHECK_INT(json_integer_value(json_object_get(receipt, "status")), 200);
	json_decref(receipt);
	rx_reset(204, SECRET);
	CHECK_INT(gh_connector_webhook.apply(s, &revoke, &receipt), 0);
	CHECK_INT(json_integer_value(json_object_get(receipt, "status")), 204);
	json_decref(receipt);
	CHECK_INT(rx.n, 1);
	h = &rx.hits[0];
	CHECK(h->signature_ok);
	CHECK_STR(h->idem, "grt_00000000000000b2:revoke");
	CHECK_STR(h->ctype, "application/json");
	CHECK_STR(h->path, "/hooks/gatehouse");
	body = json_loadb(h->body, h->len, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(body, "event")), "revoke");
	CHECK_STR(json_string_value(json_object_get(body, "job")), "job_00000000000000a2");
	CHECK_STR(json_string_value(json_object_get(body, "grant")), "grt_00000000000000b2");
	CHECK_STR(json_string_value(json_object_get(json_object_get(body, "system"), "name")),
		  "billing-hooks");
	CHECK_STR(json_string_value(json_object_get(json_object_get(body, "entitlement"), "id")),
		  "ent_00000000000000d4");
	CHECK_STR(json_string_value(json_object_get(json_object_get(body, "subject"), "name")),
		  "ci-bot");
	CHECK_STR(json_string_value(json_object_get(body, "target")), "team:deployers");
	CHECK_STR(json_string_value(json_object_get(body, "account")), "ci-bot");
	CHECK_STR(json_string_value(json_object_get(body, "expires_at")), "2030-01-01T00:00:00Z");
	CHECK_INT(json_integer_value(json_object_get(body, "attempt")), 3);
	CHECK(strstr(h->body, SECRET) == NULL);
	json_decref(body);
	json_decref(s);
}

static void test_connect_webhook_apply__grant_body_and_headers(void)
{
	json_t *s = settings_for("/h", "env:GH_TEST_HOOK_SECRET", "5s");
	json_t *receipt = NULL, *body;
	const hit *h;

	rx_reset(200, SECRET);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), 0);
	json_decref(receipt);
	CHECK_INT(rx.n, 1);
	h = &rx.hits[0];
	CHECK(h->signature_ok);
	CHECK_STR(h->idem, "grt_00000000000000b2:grant");
	body = json_loadb(h->body, h->len, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(body, "event")), "grant");
	CHECK_INT(json_integer_value(json_object_get(body, "attempt")), 1);
	CHECK_INT(json_object_size(body), 10);
	json_decref(body);
	/* the receiver's own check fails with another key: the test can fail */
	rx_reset(200, "another-secret");
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), 0);
	json_decref(receipt);
	CHECK(rx.n == 1 && !rx.hits[0].signature_ok);
	json_decref(s);
}

static void test_connect_webhook_apply__shadow_removal_keyed_by_job(void)
{
	json_t *s = settings_for("/h", "env:GH_TEST_HOOK_SECRET", "5s");
	json_t *receipt = NULL, *body;
	gh_conn_job shadow = {"revoke", "job_00000000000000f6", NULL, "sys_00000000000000c3",
			      "billing-hooks", NULL, NULL, NULL, NULL, "stray", "team:x", 0, 1};

	rx_reset(200, SECRET);
	CHECK_INT(gh_connector_webhook.apply(s, &shadow, &receipt), 0);
	json_decref(receipt);
	CHECK_INT(rx.n, 1);
	CHECK(rx.hits[0].signature_ok);
	CHECK_STR(rx.hits[0].idem, "job_00000000000000f6");
	body = json_loadb(rx.hits[0].body, rx.hits[0].len, 0, NULL);
	CHECK(json_is_null(json_object_get(body, "grant")));
	CHECK(json_is_null(json_object_get(body, "expires_at")));
	json_decref(body);
	json_decref(s);
}

static void test_connect_webhook_apply__long_file_secret(void)
{
	char path[512], ref[600], key[200];
	json_t *s, *receipt = NULL;
	FILE *f;

	memset(key, 'q', 150);
	key[150] = '\0';
	snprintf(path, sizeof(path), "%s/hook-secret", gh_test_tmpdir());
	snprintf(ref, sizeof(ref), "file:%s", path);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", key);
		fclose(f);
	}
	s = settings_for("/h", ref, "5s");
	rx_reset(200, key);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), 0);
	json_decref(receipt);
	CHECK(rx.n == 1 && rx.hits[0].signature_ok);
	json_decref(s);
}

static void test_connect_webhook_apply__5xx_is_an_error(void)
{
	json_t *s = settings_for("/h?tenant=7", "env:GH_TEST_HOOK_SECRET", "5s");
	json_t *receipt = NULL;

	rx_reset(500, SECRET);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), GH_ERROR);
	CHECK(receipt == NULL);
	CHECK(strstr(gh_error_last()->message, "500") != NULL);
	/* the receiver's body is its own: not for readers of the job */
	CHECK(strstr(gh_error_last()->message, "downstream says no") == NULL);
	CHECK(strstr(gh_error_last()->message, "more") == NULL);
	CHECK(strstr(gh_error_last()->message, "tenant") == NULL);
	check_quiet();
	rx_reset(404, SECRET);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), GH_ERROR);
	check_quiet();
	json_decref(s);
}

/* Loopback, by address or by a name that resolves to it: refused at connect
 * time unless the instance allows private addresses; nothing is sent. */
static void test_connect_webhook_apply__private_address_refused(void)
{
	const char *hosts[] = {"127.0.0.1", "localhost", "[::ffff:127.0.0.1]"};
	json_t *s, *receipt = NULL;

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		s = settings_host(hosts[i], "/h", "env:GH_TEST_HOOK_SECRET", "5s", 0);
		CHECK(s != NULL);
		rx_reset(200, SECRET);
		CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), GH_EINVALID);
		CHECK(receipt == NULL);
		CHECK(strstr(gh_error_last()->message, "allow_private_addresses") != NULL);
		CHECK_INT(rx.n, 0);
		check_quiet();
		json_decref(s);
	}
}

static void test_connect_webhook_apply__redirect_not_followed(void)
{
	json_t *s = settings_for("/h", "env:GH_TEST_HOOK_SECRET", "5s");
	json_t *receipt = NULL;

	rx_reset(302, SECRET);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), GH_ERROR);
	CHECK(strstr(gh_error_last()->message, "302") != NULL);
	CHECK_INT(rx.n, 1);
	json_decref(s);
}

static void test_connect_webhook_apply__hang_times_out(void)
{
	json_t *s = settings_for("/h", "env:GH_TEST_HOOK_SECRET", "1s");
	json_t *receipt = NULL;
	struct timespec t0;
	double took;

	rx_reset(HANG, SECRET);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), GH_ERROR);
	took = cx_seconds_since(&t0);
	CHECK(took >= 0.9 && took < 3.0);
	CHECK(receipt == NULL);
	check_quiet();
	json_decref(s);
}

static void test_connect_webhook_apply__closed_port_is_an_error(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char url[128];
	json_t *s, *receipt = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timespec t0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* a port that was free a moment ago and that nobody listens on */
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	      getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/h", ntohs(sa.sin_port));
	s = json_pack("{s:s, s:s, s:b}", "url", url, "secret_ref", "env:GH_TEST_HOOK_SECRET",
		      "allow_private_addresses", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), GH_ERROR);
	CHECK(cx_seconds_since(&t0) < 6.0);
	CHECK(strstr(gh_error_last()->message, "127.0.0.1") != NULL);
	check_quiet();
	json_decref(s);
}

static void test_connect_webhook_apply__secret_missing_or_settings_bad(void)
{
	json_t *s = settings_for("/h", "env:GH_TEST_HOOK_NOT_SET", "5s");
	json_t *bad = json_pack("{s:s, s:s}", "url", "ftp://x/", "secret_ref", "env:X");
	json_t *receipt = NULL;

	rx_reset(200, SECRET);
	unsetenv("GH_TEST_HOOK_NOT_SET");
	CHECK_INT(gh_connector_webhook.apply(s, &grant_job, &receipt), GH_ERROR);
	CHECK(strstr(gh_error_last()->message, "env:GH_TEST_HOOK_NOT_SET") != NULL);
	CHECK_INT(rx.n, 0);
	CHECK_INT(gh_connector_webhook.apply(bad, &grant_job, &receipt), GH_EINVALID);
	CHECK(receipt == NULL);
	json_decref(s);
	json_decref(bad);
}

static void test_connect_webhook_check__fields_named(void)
{
	static const char *const bad_urls[] = {"ftp://example.org/", "http://", "not a url",
					       "https://user:pw@example.org/", "file:///etc/passwd",
					       NULL};
	json_t *s;

	s = json_pack("{s:s, s:s, s:s}", "url", "https://hooks.example.org/gh", "secret_ref",
		      "file:/run/secrets/hook", "timeout", "60s");
	CHECK_INT(cx_check("webhook", s), 0);
	json_decref(s);
	s = json_pack("{s:s, s:s, s:i}", "url", "http://10.0.0.1:8080", "secret_ref", "env:K",
		      "timeout", 1);
	CHECK_INT(cx_check("webhook", s), 0);
	json_decref(s);
	CHECK_INT(cx_check("webhook", NULL), GH_EINVALID);
	CHECK(cx_names("connector_settings.url") && cx_names("connector_settings.secret_ref"));
	for (int i = 0; bad_urls[i]; i++) {
		s = json_pack("{s:s, s:s}", "url", bad_urls[i], "secret_ref", "env:K");
		CHECK_INT(cx_check("webhook", s), GH_EINVALID);
		CHECK(cx_names("connector_settings.url"));
		json_decref(s);
	}
	s = json_pack("{s:s, s:s, s:s}", "url", "https://h/", "secret_ref", "whsec-inline",
		      "timeout", "2m");
	CHECK_INT(cx_check("webhook", s), GH_EINVALID);
	CHECK(cx_names("connector_settings.secret_ref") && cx_names("connector_settings.timeout"));
	CHECK(!cx_names("connector_settings.url"));
	CHECK(strstr(gh_error_last()->message, "whsec-inline") == NULL);
	json_decref(s);
	s = json_pack("{s:s, s:s, s:i}", "url", "https://h/", "secret_ref", "env:K", "timeout", 0);
	CHECK_INT(cx_check("webhook", s), GH_EINVALID);
	CHECK(cx_names("connector_settings.timeout"));
	json_decref(s);
	s = json_pack("{s:s, s:s, s:s}", "url", "https://h/", "secret_ref", "env:K", "secret",
		      "whsec-inline");
	CHECK_INT(cx_check("webhook", s), GH_EINVALID);
	CHECK(cx_names("connector_settings"));
	json_decref(s);
	gh_error_clear();
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"connect_webhook_apply__grant_and_revoke_signed",
		 test_connect_webhook_apply__grant_and_revoke_signed},
		{"connect_webhook_apply__grant_body_and_headers",
		 test_connect_webhook_apply__grant_body_and_headers},
		{"connect_webhook_apply__shadow_removal_keyed_by_job",
		 test_connect_webhook_apply__shadow_removal_keyed_by_job},
		{"connect_webhook_apply__long_file_secret", test_connect_webhook_apply__long_file_secret},
		{"connect_webhook_apply__private_address_refused",
		 test_connect_webhook_apply__private_address_refused},
		{"connect_webhook_apply__private_address_refused",
		 test_connect_webhook_apply__private_address_refused},
		{"connect_webhook_apply__5xx_is_an_error", test_connect_webhook_apply__5xx_is_an_error},
		{"connect_webhook_apply__redirect_not_followed",
		 test_connect_webhook_apply__redirect_not_followed},
		{"connect_webhook_apply__hang_times_out", test_connect_webhook_apply__hang_times_out},
		{"connect_webhook_apply__closed_port_is_an_error",
		 test_connect_webhook_apply__closed_port_is_an_error},
		{"connect_webhook_apply__secret_missing_or_settings_bad",
		 test_connect_webhook_apply__secret_missing_or_settings_bad},
		{"connect_webhook_check__fields_named", test_connect_webhook_check__fields_named},
		{NULL, NULL}};
	int rc;

	gh_init();
	/* loopback must not go through a proxy of the environment */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	setenv("GH_TEST_HOOK_SECRET", SECRET, 1);
	if (rx_start() != 0) {
		fprintf(stderr, "cannot start the receiver on 127.0.0.1\n");
		return 1;
	}
	rc = gh_test_run(cases, argc, argv);
	rx.stopping = 1;
	MHD_stop_daemon(rx.d);
	return rc;
}
