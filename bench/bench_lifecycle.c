/* bench_lifecycle.c - HTTP load generator: complete request lifecycles
 * (POST /v1/requests auto-approved and granted in one call) per second, with
 * p50/p99 latency, at several client counts; one thread and one keep-alive
 * connection per client, 127.0.0.1 only. Several base URLs (nodes on one
 * database): the setup goes through the first, client i talks to URL
 * i mod count. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 256
#define MAX_LEVELS 8
#define MAX_URLS 16

typedef struct buf {
	char *data;
	size_t len, cap;
} buf;

typedef struct client {
	pthread_t thread;
	const char *url;          /* the node this client talks to */
	double *lat;              /* seconds per successful lifecycle */
	size_t nlat, caplat;
	long ok, failed;
	char last_error[256];
} client;

static const char *urls[MAX_URLS];
static int nurls;
static char auth_header[512];
static char **subjects, **entitlements;
static long nsubjects, nentitlements;
static atomic_long next_pair;
static long pair_limit;
static double deadline;
static const char *duration = "8h";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	buf *b = arg;
	size_t len = size * n;

	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static CURL *handle(buf *b, struct curl_slist **hdrs)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	*hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	*hdrs = curl_slist_append(*hdrs, auth_header);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	return c;
}

/* One call to base; returns the HTTP status (0 on a transport error) with
 * the body in b. */
static long call(CURL *c, buf *b, const char *base, const char *method, const char *path,
		 const char *body)
{
	char url[1024];
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", base, path);
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (!body)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(c) != CURLE_OK)
		return 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* POSTs body and returns the new object's "id" (malloc'd), or NULL. */
static char *create(CURL *c, buf *b, const char *path, json_t *body, const char *key)
{
	char *text = json_dumps(body, JSON_COMPACT);
	long st = call(c, b, urls[0], "POST", path, text);
	json_t *out = NULL;
	char *id = NULL;

	free(text);
	json_decref(body);
	if (st == 201 && (out = json_loads(b->data, 0, NULL)) &&
	    json_is_string(json_object_get(out, key)))
		id = strdup(json_string_value(json_object_get(out, key)));
	else
		fprintf(stderr, "POST %s: %ld %s\n", path, st, b->data ? b->data : "");
	json_decref(out);
	return id;
}

/* An owner (requester) with a token, a group, a system, low-risk entitlements
 * and subject NHIs owned by the owner: every (subject, entitlement) is one pair. */
static int setup(const char *admin_token, const char *tag)
{
	buf b = {0};
	struct curl_slist *hdrs = NULL;
	CURL *c;
	char name[128], exp[32], *owner = NULL, *grp = NULL, *sys = NULL, *tok = NULL;
	time_t t = time(NULL) + 200 * 86400;
	int rc = -1;

	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", admin_token);
	if (!(c = handle(&b, &hdrs)))
		return -1;
	snprintf(name, sizeof(name), "bench-owner-%s", tag);
	if (!(owner = create(c, &b, "/v1/identities", json_pack("{s:s, s:s, s:[s]}", "kind", "human",
							      "name", name, "roles", "requester"), "id")))
		goto out;
	if (!(tok = create(c, &b, "/v1/tokens", json_pack("{s:s, s:s}", "identity", owner, "name",
							  "bench"), "token")))
		goto out;
	snprintf(name, sizeof(name), "bench-owners-%s", tag);
	if (!(grp = create(c, &b, "/v1/groups", json_pack("{s:s}", "name", name), "id")))
		goto out;
	snprintf(name, sizeof(name), "bench-sys-%s", tag);
	if (!(sys = create(c, &b, "/v1/systems", json_pack("{s:s, s:s}", "name", name, "owner",
							   owner), "id")))
		goto out;
	for (long i = 0; i < nentitlements; i++) {
		snprintf(name, sizeof(name), "ent-%ld", i);
		if (!(entitlements[i] = create(c, &b, "/v1/entitlements",
					       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
							 "system", sys, "name", name, "risk_tier", "low",
							 "data_sensitivity", "internal", "environment",
							 "prod", "control_owner_group", grp,
							 "max_duration", "8h"), "id")))
			goto out;
	}
	for (long i = 0; i < nsubjects; i++) {
		snprintf(name, sizeof(name), "bench-%s-nhi-%ld", tag, i);
		if (!(subjects[i] = create(c, &b, "/v1/identities",
					   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
						     "service_account", "name", name, "owner", owner,
						     "purpose", "bench", "environment", "prod",
						     "expires_at", exp), "id")))
			goto out;
	}
	/* the load runs as the owner, who may request for the NHIs it owns */
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", tok);
	rc = 0;
out:
	free(owner);
	free(grp);
	free(sys);
	free(tok);
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

static void record(client *cl, double lat)
{
	if (cl->nlat == cl->caplat) {
		size_t cap = cl->caplat ? cl->caplat * 2 : 4096;
		double *d = realloc(cl->lat, cap * sizeof(double));
		if (!d)
			return;
		cl->lat = d;
		cl->caplat = cap;
	}
	cl->lat[cl->nlat++] = lat;
}

static void *run_client(void *arg)
{
	client *cl = arg;
	buf b = {0};
	struct curl_slist *hdrs = NULL;
	CURL *c = handle(&b, &hdrs);
	char body[512];

	if (!c)
		return NULL;
	while (now_s() < deadline) {
		long pair = atomic_fetch_add(&next_pair, 1), st;
		double t0;
		json_t *out;
		const char *state;

		if (pair >= pair_limit)
			break;
		snprintf(body, sizeof(body),
			 "{\"channel\":\"api\",\"subject\":\"%s\",\"entitlement\":\"%s\","
			 "\"justification\":\"bench\",\"duration\":\"%s\"}",
			 subjects[pair / nentitlements], entitlements[pair % nentitlements], duration);
		t0 = now_s();
		st = call(c, &b, cl->url, "POST", "/v1/requests", body);
		out = st == 201 ? json_loads(b.data, 0, NULL) : NULL;
		state = out ? json_string_value(json_object_get(out, "state")) : NULL;
		if (state && strcmp(state, "active") == 0) {
			record(cl, now_s() - t0);
			cl->ok++;
		} else {
			cl->failed++;
			snprintf(cl->last_error, sizeof(cl->last_error), "%ld %.200s", st,
				 b.data ? b.data : "(no body)");
		}
		json_decref(out);
	}
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int level(int nclients, double seconds, long budget)
{
	client *cls = calloc((size_t)nclients, sizeof(client));
	double t0, elapsed, *all;
	size_t total = 0, k = 0;
	long ok = 0, failed = 0;
	const char *last_error = "";

	if (!cls)
		return -1;
	pair_limit = atomic_load(&next_pair) + budget;
	t0 = now_s();
	deadline = t0 + seconds;
	for (int i = 0; i < nclients; i++) {
		cls[i].url = urls[i % nurls];
		pthread_create(&cls[i].thread, NULL, run_client, &cls[i]);
	}
	for (int i = 0; i < nclients; i++)
		pthread_join(cls[i].thread, NULL);
	elapsed = now_s() - t0;
	for (int i = 0; i < nclients; i++) {
		total += cls[i].nlat;
		ok += cls[i].ok;
		failed += cls[i].failed;
		if (cls[i].last_error[0])
			last_error = cls[i].last_error;
	}
	all = malloc((total ? total : 1) * sizeof(double));
	for (int i = 0; i < nclients && all; i++) {
		memcpy(all + k, cls[i].lat, cls[i].nlat * sizeof(double));
		k += cls[i].nlat;
	}
	if (all && total)
		qsort(all, total, sizeof(double), cmp_double);
	printf("lifecycle clients=%d nodes=%d seconds=%.1f ok=%ld failed=%ld rate=%.0f/s p50_ms=%.2f"
	       " p99_ms=%.2f max_ms=%.2f%s\n", nclients, nclients < nurls ? nclients : nurls,
	       elapsed, ok, failed,
	       (double)ok / elapsed, total ? all[total / 2] * 1e3 : 0.0,
	       total ? all[(size_t)((double)total * 0.99)] * 1e3 : 0.0,
	       total ? all[total - 1] * 1e3 : 0.0,
	       atomic_load(&next_pair) >= pair_limit ? " (stopped early: pairs used up)" : "");
	if (failed)
		printf("lifecycle_last_error clients=%d %s\n", nclients, last_error);
	fflush(stdout);
	for (int i = 0; i < nclients; i++)
		free(cls[i].lat);
	free(cls);
	free(all);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *token = NULL, *levels = "1,8,64", *tag = "b", *url_list = NULL;
	double seconds = 10;
	int opt, nlevels = 0, lv[MAX_LEVELS], bad = 0;
	char *copy, *tok, *save = NULL, *ucopy = NULL;

	nsubjects = 250;
	nentitlements = 250;
	while ((opt = getopt(argc, argv, "u:t:c:s:S:E:d:g:")) != -1) {
		switch (opt) {
		case 'u': url_list = optarg; break;
		case 't': token = optarg; break;
		case 'c': levels = optarg; break;
		case 's': seconds = atof(optarg); break;
		case 'S': nsubjects = atol(optarg); break;
		case 'E': nentitlements = atol(optarg); break;
		case 'd': duration = optarg; break;
		case 'g': tag = optarg; break;
		default:
			goto usage;
		}
	}
	if (!url_list || !token || seconds <= 0 || seconds > 600 || nsubjects < 1 ||
	    nentitlements < 1)
		goto usage;
	/* kept for the whole run: urls[] points into it */
	ucopy = strdup(url_list);
	save = NULL;
	for (tok = ucopy ? strtok_r(ucopy, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save)) {
		/* a load generator aimed only at this machine */
		if (strncmp(tok, "http://127.0.0.1:", 17) != 0) {
			fprintf(stderr, "refusing %s: only http://127.0.0.1:PORT\n", tok);
			return 2;
		}
		if (nurls == MAX_URLS) {
			fprintf(stderr, "at most %d URLs in -u\n", MAX_URLS);
			return 2;
		}
		urls[nurls++] = tok;
	}
	if (!nurls)
		goto usage;
	save = NULL;
	copy = strdup(levels);
	for (tok = strtok_r(copy, ",", &save); tok && nlevels < MAX_LEVELS;
	     tok = strtok_r(NULL, ",", &save)) {
		lv[nlevels] = atoi(tok);
		if (lv[nlevels] < 1 || lv[nlevels] > MAX_CLIENTS) {
			free(copy);
			goto usage;
		}
		nlevels++;
	}
	free(copy);
	if (!nlevels)
		goto usage;
	subjects = calloc((size_t)nsubjects, sizeof(char *));
	entitlements = calloc((size_t)nentitlements, sizeof(char *));
	if (!subjects || !entitlements || curl_global_init(CURL_GLOBAL_DEFAULT))
		return 1;
	{
		double t0 = now_s();
		if (setup(token, tag)) {
			fprintf(stderr, "setup through the API failed\n");
			return 1;
		}
		printf("lifecycle_setup subjects=%ld entitlements=%ld pairs=%ld nodes=%d seconds=%.1f\n",
		       nsubjects, nentitlements, nsubjects * nentitlements, nurls, now_s() - t0);
	}
	/* a subject holds an entitlement once: each level gets its own pairs */
	for (int i = 0; i < nlevels; i++)
		bad |= level(lv[i], seconds, nsubjects * nentitlements / nlevels);
	curl_global_cleanup();
	free(ucopy);
	return bad;
usage:
	fprintf(stderr, "usage: %s -u http://127.0.0.1:PORT[,http://127.0.0.1:PORT2...] -t ADMIN_TOKEN"
		" [-c 1,8,64] [-s seconds] [-S subjects] [-E entitlements] [-d duration] [-g tag]\n"
		"  -u  one URL, or several (nodes on one database) separated by commas: setup\n"
		"      through the first, client i on URL i mod count\n", argv[0]);
	return 2;
}
