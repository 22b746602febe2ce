/* test_policy_threads.c - concurrent authorization against one compiled policy set: the same answers from every thread. */
#include "harness.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define NTHREADS 4
#define NREQ 96
#define ROUNDS 40

typedef struct text {
	char *p;
	size_t n, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(tmp))
		abort();
	if (t->n + (size_t)k + 1 > t->cap) {
		t->cap = (t->n + (size_t)k + 1) * 2;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
	memcpy(t->p + t->n, tmp, (size_t)k + 1);
	t->n += (size_t)k;
}

/* Groups three deep, users in teams, documents in folders in folders, and
 * policies of every scope shape (one template, which is never evaluated),
 * some whose conditions error. */
static void workload(text *pol, text *ent, char **req)
{
	static const char *const acts[] = { "view", "edit", "delete", "share" };
	add(ent, "[{\"uid\":{\"type\":\"Action\",\"id\":\"read\"},\"attrs\":{},\"parents\":[]}");
	for (int i = 0; i < 4; i++)
		add(ent, ",{\"uid\":{\"type\":\"Action\",\"id\":\"%s\"},\"attrs\":{},\"parents\":[%s]}", acts[i],
		    i == 0 ? "{\"type\":\"Action\",\"id\":\"read\"}" : "");
	for (int i = 0; i < 3; i++)
		add(ent, ",{\"uid\":{\"type\":\"Group\",\"id\":\"org%d\"},\"attrs\":{},\"parents\":[]}", i);
	for (int i = 0; i < 9; i++)
		add(ent, ",{\"uid\":{\"type\":\"Group\",\"id\":\"dept%d\"},\"attrs\":{},"
			 "\"parents\":[{\"type\":\"Group\",\"id\":\"org%d\"}]}", i, i % 3);
	for (int i = 0; i < 27; i++)
		add(ent, ",{\"uid\":{\"type\":\"Group\",\"id\":\"team%d\"},\"attrs\":{},"
			 "\"parents\":[{\"type\":\"Group\",\"id\":\"dept%d\"}]}", i, i % 9);
	for (int i = 0; i < 60; i++)
		add(ent, ",{\"uid\":{\"type\":\"User\",\"id\":\"u%d\"},\"attrs\":{\"level\":%d%s},"
			 "\"parents\":[{\"type\":\"Group\",\"id\":\"team%d\"}]}", i, i % 10,
		    i % 3 ? ",\"active\":true" : "", (i * 7) % 27);
	for (int i = 0; i < 10; i++)
		add(ent, ",{\"uid\":{\"type\":\"Folder\",\"id\":\"f%d\"},\"attrs\":{},\"parents\":[%s]}", i,
		    i >= 3 ? (i % 3 == 0 ? "{\"type\":\"Folder\",\"id\":\"f0\"}" :
			      i % 3 == 1 ? "{\"type\":\"Folder\",\"id\":\"f1\"}" : "{\"type\":\"Folder\",\"id\":\"f2\"}") : "");
	for (int i = 0; i < 40; i++)
		add(ent, ",{\"uid\":{\"type\":\"Doc\",\"id\":\"d%d\"},\"attrs\":{\"owner\":{\"__entity\":"
			 "{\"type\":\"User\",\"id\":\"u%d\"}},\"class\":%d},\"parents\":[{\"type\":\"Folder\",\"id\":\"f%d\"}]}",
		    i, (i * 3) % 60, i % 5, i % 10);
	add(ent, "]");

	add(pol, "permit(principal == ?principal, action, resource);\n");
	for (int i = 0; i < 160; i++) {
		switch (i % 8) {
		case 0:
			add(pol, "permit(principal in Group::\"team%d\", action in Action::\"read\", resource in Folder::\"f%d\")"
				 " when { principal.level >= resource.class };\n", i % 27, i % 10);
			break;
		case 1:
			add(pol, "permit(principal == User::\"u%d\", action == Action::\"edit\", resource);\n", i % 60);
			break;
		case 2:
			add(pol, "permit(principal is User in Group::\"dept%d\", action in [Action::\"view\", Action::\"share\"],"
				 " resource is Doc) when { context.hour > %d };\n", i % 9, i % 24);
			break;
		case 3:
			add(pol, "forbid(principal in Group::\"org%d\", action == Action::\"delete\", resource)"
				 " unless { principal.level > 7 };\n", i % 3);
			break;
		case 4:
			add(pol, "permit(principal, action == Action::\"delete\", resource in Folder::\"f%d\")"
				 " when { resource.owner == principal };\n", i % 10);
			break;
		case 5:
			/* errors for users without "active" */
			add(pol, "permit(principal, action == Action::\"share\", resource) when { principal.active };\n");
			break;
		case 6:
			add(pol, "forbid(principal is User, action, resource is Doc in Folder::\"f%d\")"
				 " when { context.hour < 2 };\n", i % 10);
			break;
		default:
			add(pol, "permit(principal, action, resource) when { context.hour == %d && principal.level == %d };\n",
			    i % 24, i % 10);
			break;
		}
	}
	for (int i = 0; i < NREQ; i++) {
		text r = { 0 };
		add(&r, "{\"principal\":{\"type\":\"User\",\"id\":\"u%d\"},\"action\":{\"type\":\"Action\",\"id\":\"%s\"},"
			"\"resource\":{\"type\":\"Doc\",\"id\":\"d%d\"},\"context\":{\"hour\":%d}}",
		    (i * 13) % 60, acts[i % 4], (i * 7) % 40, (i * 5) % 24);
		req[i] = r.p;
	}
}

/* A decision as text: allow, reasons and errors in order. */
static void describe(const gh_policy_response *r, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "%s", r->allow ? "allow" : "deny");
	for (size_t i = 0; i < r->nreasons && k < n; i++)
		k += (size_t)snprintf(out + k, n - k, " +%s", r->reasons[i]);
	for (size_t i = 0; i < r->nerrors && k < n; i++)
		k += (size_t)snprintf(out + k, n - k, " !%s", r->errors[i]);
}

typedef struct shared {
	const gh_policy_set *ps;
	const gh_policy_entities *es;
	gh_policy_request **reqs;
	char (*expected)[2048];
	pthread_barrier_t start;
} shared;

typedef struct worker {
	shared *sh;
	int id;
	int mismatches, failures, done;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	char got[2048];
	pthread_barrier_wait(&w->sh->start);
	for (int round = 0; round < ROUNDS; round++)
		for (int i = 0; i < NREQ; i++) {
			/* threads walk the requests in different orders */
			int k = (i * 5 + round + w->id) % NREQ;
			gh_policy_response *r;
			if (gh_policy_authorize(&r, w->sh->ps, w->sh->es, w->sh->reqs[k])) {
				w->failures++;
				continue;
			}
			describe(r, got, sizeof(got));
			gh_policy_response_free(r);
			w->mismatches += strcmp(got, w->sh->expected[k]) != 0;
			w->done++;
		}
	return NULL;
}

static void test_policy_threads_authorize__same_answers_from_four_threads(void)
{
	text pol = { 0 }, ent = { 0 };
	char *req[NREQ];
	gh_policy_error err;
	gh_policy_set *ref = NULL, *ps = NULL;
	gh_policy_entities *es = NULL;
	gh_policy_request *reqs[NREQ] = { 0 };
	static char expected[NREQ][2048];
	int allows = 0, errors = 0;

	workload(&pol, &ent, req);
	CHECK_INT(gh_policy_set_parse(&ref, pol.p, pol.n, &err), 0);
	CHECK_INT(gh_policy_set_parse(&ps, pol.p, pol.n, &err), 0);
	CHECK_INT(gh_policy_entities_parse(&es, ent.p, ent.n, NULL, &err), 0);
	for (int i = 0; i < NREQ; i++)
		CHECK_INT(gh_policy_request_parse(&reqs[i], req[i], strlen(req[i]), NULL, 0, &err), 0);
	if (!ref || !ps || !es)
		goto cleanup;
	/* the expected answers, one thread, from a separate copy of the set */
	for (int i = 0; i < NREQ; i++) {
		gh_policy_response *r;
		CHECK_INT(gh_policy_authorize(&r, ref, es, reqs[i]), 0);
		describe(r, expected[i], sizeof(expected[i]));
		allows += r->allow;
		errors += r->nerrors > 0;
		gh_policy_response_free(r);
	}
	/* the workload decides both ways and errors somewhere */
	CHECK(allows > NREQ / 10);
	CHECK(allows < NREQ - NREQ / 10);
	CHECK(errors > 0);

	/* ps is fresh: its first authorizations race to build its index */
	shared sh = { ps, es, reqs, expected, { { 0 } } };
	worker w[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_init(&sh.start, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].sh = &sh;
		w[i].id = i;
		CHECK_INT(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(w[i].failures, 0);
		CHECK_INT(w[i].mismatches, 0);
		CHECK_INT(w[i].done, ROUNDS * NREQ);
	}
	pthread_barrier_destroy(&sh.start);
cleanup:
	for (int i = 0; i < NREQ; i++) {
		gh_policy_request_free(reqs[i]);
		free(req[i]);
	}
	gh_policy_entities_free(es);
	gh_policy_set_free(ref);
	gh_policy_set_free(ps);
	free(pol.p);
	free(ent.p);
}

int main(int argc, char **argv)
{
	static const gh_test_case tests[] = {
		{ "test_policy_threads_authorize__same_answers_from_four_threads",
		  test_policy_threads_authorize__same_answers_from_four_threads },
		{ NULL, NULL },
	};
	return gh_test_run(tests, argc, argv);
}
