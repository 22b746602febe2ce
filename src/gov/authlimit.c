/* authlimit.c - failed authentications counted per source address (authlimit.h). */
#include "gov/authlimit.h"
#include "common/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gov_auth_reason_names[GOV_AUTH_REASONS] = {
	"malformed", "unknown", "expired", "revoked", "identity_not_active"};

typedef struct entry {
	char source[48];
	int32_t next;            /* next in its hash bucket, -1 at the end */
	int64_t last_seen;
	int64_t win_start;       /* the counting window */
	int win_fails;
	int64_t last_fail;
	int64_t blocked_until;
	int strikes;             /* blocks in a row: each doubles the next */
	int has_report;
	gov_authlimit_report report;   /* not yet drained for the audit log */
} entry;

struct gov_authlimit {
	pthread_mutex_t lock;
	gov_authlimit_config cfg;
	entry *e;
	size_t used;             /* entries taken so far (they are reused, never freed) */
	int32_t *bucket;
	size_t nbuckets;
	int has_others;
	gov_authlimit_report others;   /* sources forgotten before they were drained */
};

int gov_authlimit_new(gov_authlimit **out, const gov_authlimit_config *cfg)
{
	gov_authlimit *l;

	*out = NULL;
	if (!(l = calloc(1, sizeof(*l))))
		return gh_error_set(GH_ERROR, "out of memory");
	if (cfg)
		l->cfg = *cfg;
	if (l->cfg.threshold <= 0)
		l->cfg.threshold = 10;
	if (l->cfg.window_ms <= 0)
		l->cfg.window_ms = 60 * 1000;
	if (l->cfg.block_ms <= 0)
		l->cfg.block_ms = 15 * 1000;
	if (l->cfg.block_max_ms <= 0)
		l->cfg.block_max_ms = 15 * 60 * 1000;
	if (l->cfg.slots == 0)
		l->cfg.slots = 4096;
	l->nbuckets = 2 * l->cfg.slots;
	l->e = calloc(l->cfg.slots, sizeof(*l->e));
	l->bucket = malloc(l->nbuckets * sizeof(*l->bucket));
	if (!l->e || !l->bucket) {
		gov_authlimit_free(l);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	for (size_t i = 0; i < l->nbuckets; i++)
		l->bucket[i] = -1;
	snprintf(l->others.source, sizeof(l->others.source), "*");
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

void gov_authlimit_free(gov_authlimit *l)
{
	if (!l)
		return;
	if (l->e && l->bucket)
		pthread_mutex_destroy(&l->lock);
	free(l->e);
	free(l->bucket);
	free(l);
}

static size_t hash(const gov_authlimit *l, const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % l->nbuckets;
}

static entry *find(gov_authlimit *l, const char *source)
{
	for (int32_t i = l->bucket[hash(l, source)]; i >= 0; i = l->e[i].next)
		if (strcmp(l->e[i].source, source) == 0)
			return &l->e[i];
	return NULL;
}

static void merge(gov_authlimit_report *into, const gov_authlimit_report *r, int *has)
{
	if (!*has || r->first_ms < into->first_ms)
		into->first_ms = r->first_ms;
	if (!*has || r->last_ms > into->last_ms)
		into->last_ms = r->last_ms;
	into->failures += r->failures;
	into->refused += r->refused;
	for (int i = 0; i < GOV_AUTH_REASONS; i++)
		into->reasons[i] += r->reasons[i];
	*has = 1;
}

/* An entry for source: a new one, or (when all are taken) the one that
 * matters least: idle first, else the least recently seen. */
static entry *add(gov_authlimit *l, const char *source, int64_t now)
{
	size_t victim = 0, b;
	entry *e;

	if (l->used < l->cfg.slots) {
		victim = l->used++;
	} else {
		for (size_t i = 0; i < l->cfg.slots; i++) {
			e = &l->e[i];
			if (!e->has_report && e->blocked_until <= now &&
			    now - e->last_fail >= l->cfg.window_ms) {
				victim = i;
				break;
			}
			if (e->last_seen < l->e[victim].last_seen)
				victim = i;
		}
		e = &l->e[victim];
		/* its failures still reach the audit log, under "*" */
		if (e->has_report)
			merge(&l->others, &e->report, &l->has_others);
		b = hash(l, e->source);
		for (int32_t *p = &l->bucket[b]; *p >= 0; p = &l->e[*p].next)
			if (*p == (int32_t)victim) {
				*p = e->next;
				break;
			}
	}
	e = &l->e[victim];
	memset(e, 0, sizeof(*e));
	snprintf(e->source, sizeof(e->source), "%s", source);
	snprintf(e->report.source, sizeof(e->report.source), "%s", source);
	b = hash(l, e->source);
	e->next = l->bucket[b];
	l->bucket[b] = (int32_t)victim;
	return e;
}

static void note(entry *e, int64_t now)
{
	if (!e->has_report) {
		e->report.first_ms = now;
		e->has_report = 1;
	}
	e->report.last_ms = now;
	e->last_seen = now;
}

int64_t gov_authlimit_check(gov_authlimit *l, const char *source, int64_t now_ms)
{
	int64_t wait = 0;
	entry *e;

	if (!l || !source)
		return 0;
	pthread_mutex_lock(&l->lock);
	if ((e = find(l, source)) && e->blocked_until > now_ms) {
		wait = e->blocked_until - now_ms;
		e->report.refused++;
		note(e, now_ms);
	}
	pthread_mutex_unlock(&l->lock);
	return wait;
}

void gov_authlimit_fail(gov_authlimit *l, const char *source, int reason, int64_t now_ms)
{
	int64_t block;
	entry *e;

	if (!l || !source || reason < 0 || reason >= GOV_AUTH_REASONS)
		return;
	pthread_mutex_lock(&l->lock);
	if (!(e = find(l, source)))
		e = add(l, source, now_ms);
	/* a quiet window after the last failure or block forgives earlier blocks */
	if (e->last_fail && now_ms - (e->blocked_until > e->last_fail ? e->blocked_until
								    : e->last_fail) >=
				    l->cfg.window_ms)
		e->strikes = 0;
	if (!e->win_fails || now_ms - e->win_start >= l->cfg.window_ms) {
		e->win_start = now_ms;
		e->win_fails = 0;
	}
	e->win_fails++;
	e->last_fail = now_ms;
	e->report.failures++;
	e->report.reasons[reason]++;
	note(e, now_ms);
	if (e->win_fails >= l->cfg.threshold) {
		block = l->cfg.block_ms;
		for (int i = 0; i < e->strikes && block < l->cfg.block_max_ms; i++)
			block *= 2;
		if (block > l->cfg.block_max_ms)
			block = l->cfg.block_max_ms;
		e->blocked_until = now_ms + block;
		e->strikes++;
		e->win_fails = 0;
	}
	pthread_mutex_unlock(&l->lock);
}

size_t gov_authlimit_drain(gov_authlimit *l, gov_authlimit_report *out, size_t max,
			   int64_t now_ms, int all)
{
	size_t n = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->used && n < max; i++) {
		entry *e = &l->e[i];
		if (e->has_report && (all || now_ms - e->report.first_ms >= l->cfg.window_ms)) {
			out[n++] = e->report;
			memset(&e->report, 0, sizeof(e->report));
			snprintf(e->report.source, sizeof(e->report.source), "%s", e->source);
			e->has_report = 0;
		}
	}
	if (n < max && l->has_others &&
	    (all || now_ms - l->others.first_ms >= l->cfg.window_ms)) {
		out[n++] = l->others;
		memset(&l->others, 0, sizeof(l->others));
		snprintf(l->others.source, sizeof(l->others.source), "*");
		l->has_others = 0;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}
