/* authorize.c - Cedar authorization (docs/authorization.md) and the policy set's accessors. */
#include "policy/eval.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void index_free(ghp_index *ix);

int gh_policy_set_parse(gh_policy_set **out, const char *text, size_t len, gh_policy_error *err)
{
	gh_policy_set *ps;
	int rc;

	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	if (len > GH_POLICY_MAX_TEXT) {
		if (err)
			snprintf(err->message, sizeof(err->message), "policy text over %u bytes",
				 GH_POLICY_MAX_TEXT);
		return GH_POLICY_ETOOLARGE;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return GH_POLICY_ERROR;
	ghp_arena_init(&ps->arena, NULL, 0, 0);
	rc = ghp_parse(ps, text ? text : "", text ? len : 0, err);
	if (rc) {
		gh_policy_set_free(ps);
		return rc;
	}
	*out = ps;
	return 0;
}

void gh_policy_set_free(gh_policy_set *ps)
{
	if (!ps)
		return;
	ghp_arena_free(&ps->arena);
	index_free(ps->index);
	free(ps->policies);
	free(ps);
}

size_t gh_policy_set_count(const gh_policy_set *ps)
{
	return ps ? ps->n : 0;
}

const char *gh_policy_set_id(const gh_policy_set *ps, size_t i)
{
	return ps && i < ps->n ? ps->policies[i]->id : NULL;
}

/* The policy with id policy_id. Parsed policies are numbered "policyN" in
 * order, so that slot is tried first; other ids (links) fall back to a scan. */
static const ghp_policy *find_policy(const gh_policy_set *ps, const char *policy_id)
{
	const char *digits = policy_id + 6;
	size_t n = 0;

	if (!ps || !policy_id)
		return NULL;
	if (!strncmp(policy_id, "policy", 6) && *digits >= '0' && *digits <= '9') {
		for (const char *c = digits; *c >= '0' && *c <= '9' && n < ps->n; c++)
			n = n * 10 + (size_t)(*c - '0');
		if (n < ps->n && !strcmp(ps->policies[n]->id, policy_id))
			return ps->policies[n];
	}
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->policies[i]->id, policy_id))
			return ps->policies[i];
	return NULL;
}

const char *gh_policy_set_annotation(const gh_policy_set *ps, const char *policy_id,
				     const char *key)
{
	const ghp_policy *p = find_policy(ps, policy_id);

	if (!p || !key)
		return NULL;
	for (size_t k = 0; k < p->nannots; k++)
		if (!strcmp(p->annots[k].key, key))
			return p->annots[k].value;
	return NULL;
}

int gh_policy_set_annotation_at(const gh_policy_set *ps, const char *policy_id, size_t i,
				const char **key, const char **value)
{
	const ghp_policy *p = find_policy(ps, policy_id);

	if (!p || i >= p->nannots)
		return -1;
	*key = p->annots[i].key;
	*value = p->annots[i].value ? p->annots[i].value : "";
	return 0;
}

/* --- the scope index ------------------------------------------------------
 * Each evaluable policy is filed under one key taken from its scope: the
 * principal's uid (== or in), else the resource's, else the action's (one key
 * per uid of an action list), else the principal's or the resource's `is`
 * type, else it is always a candidate. A request looks up its principal,
 * resource and action and each one's ancestors, and the two types: a
 * superset of the matching policies, each then checked in full. Built once,
 * on first use, under a lock; rebuilt if policies were added since. */

enum { DIM_P, DIM_R, DIM_A, DIM_PT, DIM_RT };

typedef struct ix_slot {
	const ghp_euid *uid;       /* DIM_P, DIM_R, DIM_A */
	ghp_str type;              /* DIM_PT, DIM_RT */
	uint64_t hash;
	int dim;
	uint32_t off, n;           /* postings in ix->post */
} ix_slot;

struct ghp_index {
	size_t npol;               /* ps->n when built */
	ghp_policy **policies;     /* ps->policies when built */
	size_t nslots;             /* power of two; 0 when there are no keys */
	ix_slot *slots;
	uint32_t *post;            /* policy indices, ascending within a key */
	uint32_t *always;
	size_t nalways;
};

static pthread_mutex_t index_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t key_hash(int dim, uint64_t h)
{
	h ^= (uint64_t)(dim + 1) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

static uint64_t type_hash(ghp_str t)
{
	return ghp_euid_hash(t.p, t.n, "", 0);
}

static int key_eq(const ix_slot *s, int dim, const ghp_euid *uid, ghp_str type)
{
	if (s->dim != dim)
		return 0;
	return uid ? ghp_euid_eq(s->uid, uid) : ghp_str_eq(s->type, type);
}

static const ix_slot *ix_find(const ghp_index *ix, int dim, const ghp_euid *uid, ghp_str type,
			      uint64_t h)
{
	if (!ix->nslots)
		return NULL;
	size_t mask = ix->nslots - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const ix_slot *s = &ix->slots[i];
		if (!s->uid && !s->type.p)
			return NULL;
		if (s->hash == h && key_eq(s, dim, uid, type))
			return s;
	}
}

/* The uid a scope names (a link's for a slot), or NULL. */
static const ghp_euid *scope_uid(const ghp_scope *sc, const ghp_euid *link)
{
	if (sc->op != GHP_SC_EQ && sc->op != GHP_SC_IN && sc->op != GHP_SC_IS_IN)
		return NULL;
	return sc->slot ? link : sc->uid;
}

typedef struct ix_key {
	int dim;
	const ghp_euid *uid;
	ghp_str type;
} ix_key;

/* The keys policy p is filed under (n == 0: always a candidate). */
static size_t policy_keys(const ghp_policy *p, ix_key *k, size_t max)
{
	const ghp_euid *u;
	if ((u = scope_uid(&p->principal, p->link_principal))) {
		k[0] = (ix_key){ DIM_P, u, { NULL, 0 } };
		return 1;
	}
	if ((u = scope_uid(&p->resource, p->link_resource))) {
		k[0] = (ix_key){ DIM_R, u, { NULL, 0 } };
		return 1;
	}
	if (p->action.op == GHP_SC_EQ || p->action.op == GHP_SC_IN) {
		if (p->action.uid) {
			k[0] = (ix_key){ DIM_A, p->action.uid, { NULL, 0 } };
			return 1;
		}
	} else if (p->action.op == GHP_SC_IN_SET && p->action.nuids && p->action.nuids <= max) {
		for (size_t i = 0; i < p->action.nuids; i++)
			k[i] = (ix_key){ DIM_A, p->action.uids[i], { NULL, 0 } };
		return p->action.nuids;
	}
	if (p->principal.op == GHP_SC_IS) {
		k[0] = (ix_key){ DIM_PT, NULL, p->principal.is_type };
		return 1;
	}
	if (p->resource.op == GHP_SC_IS) {
		k[0] = (ix_key){ DIM_RT, NULL, p->resource.is_type };
		return 1;
	}
	return 0;
}

static int evaluable(const ghp_policy *p)
{
	return !(p->is_template && !p->template_id);
}

static void index_free(ghp_index *ix)
{
	if (!ix)
		return;
	free(ix->slots);
	free(ix->post);
	free(ix->always);
	free(ix);
}

#define KEYS_MAX 64

static ix_slot *ix_insert(ghp_index *ix, const ix_key *k)
{
	uint64_t h = key_hash(k->dim, k->uid ? k->uid->hash : type_hash(k->type));
	size_t mask = ix->nslots - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		ix_slot *s = &ix->slots[i];
		if (!s->uid && !s->type.p) {
			s->uid = k->uid;
			s->type = k->type;
			if (!s->uid && !s->type.p)
				s->type.p = "";   /* an empty type still marks the slot used */
			s->hash = h;
			s->dim = k->dim;
			return s;
		}
		if (s->hash == h && key_eq(s, k->dim, k->uid, k->type))
			return s;
	}
}

static ghp_index *index_build(const gh_policy_set *ps)
{
	ix_key keys[KEYS_MAX];
	size_t nkeys = 0, nalways = 0;
	ghp_index *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return NULL;
	ix->npol = ps->n;
	ix->policies = ps->policies;
	if (ps->n > UINT32_MAX / 2)
		goto fail;
	for (size_t i = 0; i < ps->n; i++) {
		if (!evaluable(ps->policies[i]))
			continue;
		size_t k = policy_keys(ps->policies[i], keys, KEYS_MAX);
		nkeys += k;
		nalways += !k;
	}
	ix->nslots = 16;
	while (ix->nslots < nkeys * 2)
		ix->nslots *= 2;
	ix->slots = calloc(ix->nslots, sizeof(*ix->slots));
	ix->post = malloc((nkeys ? nkeys : 1) * sizeof(*ix->post));
	ix->always = malloc((nalways ? nalways : 1) * sizeof(*ix->always));
	if (!ix->slots || !ix->post || !ix->always)
		goto fail;
	/* count per key, then offsets, then fill in policy order */
	for (size_t i = 0; i < ps->n; i++) {
		if (!evaluable(ps->policies[i]))
			continue;
		size_t k = policy_keys(ps->policies[i], keys, KEYS_MAX);
		if (!k)
			ix->always[ix->nalways++] = (uint32_t)i;
		for (size_t j = 0; j < k; j++)
			ix_insert(ix, &keys[j])->n++;
	}
	uint32_t off = 0;
	for (size_t s = 0; s < ix->nslots; s++) {
		ix->slots[s].off = off;
		off += ix->slots[s].n;
		ix->slots[s].n = 0;
	}
	for (size_t i = 0; i < ps->n; i++) {
		if (!evaluable(ps->policies[i]))
			continue;
		size_t k = policy_keys(ps->policies[i], keys, KEYS_MAX);
		for (size_t j = 0; j < k; j++) {
			ix_slot *s = ix_insert(ix, &keys[j]);
			ix->post[s->off + s->n++] = (uint32_t)i;
		}
	}
	return ix;
fail:
	index_free(ix);
	return NULL;
}

/* The set's index, built or rebuilt as needed; NULL when out of memory (the
 * caller then scans every policy). */
static const ghp_index *index_get(const gh_policy_set *ps)
{
	ghp_index *ix = __atomic_load_n(&ps->index, __ATOMIC_ACQUIRE);
	if (ix && ix->npol == ps->n && ix->policies == ps->policies)
		return ix;
	pthread_mutex_lock(&index_lock);
	ix = ps->index;
	if (!ix || ix->npol != ps->n || ix->policies != ps->policies) {
		/* the set changed (policies added): nobody may be authorizing with it */
		ghp_index *nix = index_build(ps);
		if (nix) {
			index_free(ix);
			__atomic_store_n(&((gh_policy_set *)ps)->index, nix, __ATOMIC_RELEASE);
		}
		ix = nix;
	}
	pthread_mutex_unlock(&index_lock);
	return ix;
}

typedef struct cand_list {
	uint32_t *v;
	size_t n;
	const ix_slot **hits;      /* the keys found, then their postings copied into v */
	size_t nhits;
} cand_list;

static void hit(cand_list *c, const ix_slot *s)
{
	if (s && s->n)
		c->hits[c->nhits++] = s;
}

static void hit_uid(cand_list *c, const ghp_index *ix, int dim, const ghp_euid *u,
		    const ghp_entity *e)
{
	hit(c, ix_find(ix, dim, u, (ghp_str){ NULL, 0 }, key_hash(dim, u->hash)));
	for (size_t i = 0; e && i < e->nanc; i++)
		hit(c, ix_find(ix, dim, e->anc[i], (ghp_str){ NULL, 0 }, key_hash(dim, e->anc[i]->hash)));
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The candidate policies for the request, ascending, no duplicates. */
static int candidates(const ghp_index *ix, const ghp_eval *ev, ghp_arena *a, cand_list *c)
{
	const gh_policy_request *req = ev->req;
	size_t maxhits = 5;
	const ghp_entity *ents[3] = { ev->ent_principal, ev->ent_resource, ev->ent_action };
	for (int i = 0; i < 3; i++)
		maxhits += ents[i] ? ents[i]->nanc : 0;
	c->n = c->nhits = 0;
	c->hits = ghp_arena_alloc(a, maxhits * sizeof(*c->hits));
	if (!c->hits)
		return -1;
	hit_uid(c, ix, DIM_P, req->principal, ev->ent_principal);
	hit_uid(c, ix, DIM_R, req->resource, ev->ent_resource);
	hit_uid(c, ix, DIM_A, req->action, ev->ent_action);
	hit(c, ix_find(ix, DIM_PT, NULL, req->principal->type,
		       key_hash(DIM_PT, type_hash(req->principal->type))));
	hit(c, ix_find(ix, DIM_RT, NULL, req->resource->type,
		       key_hash(DIM_RT, type_hash(req->resource->type))));
	size_t total = ix->nalways;
	for (size_t i = 0; i < c->nhits; i++)
		total += c->hits[i]->n;
	c->v = ghp_arena_alloc(a, (total ? total : 1) * sizeof(*c->v));
	if (!c->v)
		return -1;
	memcpy(c->v, ix->always, ix->nalways * sizeof(*c->v));
	c->n = ix->nalways;
	for (size_t i = 0; i < c->nhits; i++) {
		memcpy(c->v + c->n, ix->post + c->hits[i]->off, c->hits[i]->n * sizeof(*c->v));
		c->n += c->hits[i]->n;
	}
	if (c->n < 2)
		return 0;
	if (c->n <= 32) {
		for (size_t i = 1; i < c->n; i++) {
			uint32_t x = c->v[i];
			size_t j = i;
			for (; j > 0 && c->v[j - 1] > x; j--)
				c->v[j] = c->v[j - 1];
			c->v[j] = x;
		}
	} else {
		qsort(c->v, c->n, sizeof(*c->v), u32_cmp);
	}
	size_t k = 1;
	for (size_t i = 1; i < c->n; i++)
		if (c->v[i] != c->v[k - 1])
			c->v[k++] = c->v[i];
	c->n = k;
	return 0;
}

/* The response, its arrays and messages in one allocation; evaluation
 * allocates only from the arena (a stack buffer first). */

int gh_policy_authorize(gh_policy_response **out, const gh_policy_set *ps,
			const gh_policy_entities *es, const gh_policy_request *req)
{
	char scratch[8192];
	ghp_arena arena;
	ghp_eval ev;
	cand_list cand = { NULL, 0, NULL, 0 };
	int rc = 0;
	signed char *res;          /* per candidate: 0 not applicable, 1 satisfied, -1 error */
	char **msgs;               /* per candidate, arena copies */
	size_t nerr = 0, npermit = 0, nforbid = 0, msglen = 0;

	*out = NULL;
	if (!req)
		return GH_POLICY_ERROR;
	ghp_arena_init(&arena, scratch, sizeof(scratch), 64u * 1024 * 1024);
	ghp_eval_begin(&ev, es, req, &arena);
	const ghp_index *ix = ps && ps->n ? index_get(ps) : NULL;
	if (ix) {
		if (candidates(ix, &ev, &arena, &cand) < 0) {
			rc = GH_POLICY_ERROR;
			goto cleanup;
		}
	} else if (ps && ps->n) {
		/* no index (out of memory): every policy */
		cand.v = ghp_arena_alloc(&arena, ps->n * sizeof(*cand.v));
		if (!cand.v || ps->n > UINT32_MAX) {
			rc = GH_POLICY_ERROR;
			goto cleanup;
		}
		for (size_t i = 0; i < ps->n; i++)
			if (evaluable(ps->policies[i]))
				cand.v[cand.n++] = (uint32_t)i;
	}
	res = ghp_arena_alloc(&arena, cand.n ? cand.n : 1);
	msgs = ghp_arena_alloc(&arena, (cand.n ? cand.n : 1) * sizeof(*msgs));
	if (!res || !msgs) {
		rc = GH_POLICY_ERROR;
		goto cleanup;
	}
	for (size_t c = 0; c < cand.n; c++) {
		const ghp_policy *p = ps->policies[cand.v[c]];
		res[c] = 0;
		msgs[c] = NULL;
		ev.slot_principal = p->link_principal;
		ev.slot_resource = p->link_resource;
		int r = ghp_eval_policy(&ev, p);
		if (r < 0) {
			size_t l = strlen(ev.msg);
			msgs[c] = ghp_arena_strdup(&arena, ev.msg, l);
			if (!msgs[c]) {
				rc = GH_POLICY_ERROR;
				goto cleanup;
			}
			msglen += l + 1;
			nerr++;
			res[c] = -1;
		} else if (r > 0) {
			res[c] = 1;
			if (p->forbid)
				nforbid++;
			else
				npermit++;
		}
	}
	int allow = npermit > 0 && nforbid == 0;
	size_t nreasons = nforbid ? nforbid : npermit;
	size_t ptrs = nreasons + 2 * nerr;
	gh_policy_response *resp = malloc(sizeof(*resp) + (ptrs ? ptrs : 1) * sizeof(char *) + msglen);
	if (!resp) {
		rc = GH_POLICY_ERROR;
		goto cleanup;
	}
	const char **arr = (const char **)(resp + 1);
	char *text = (char *)(arr + (ptrs ? ptrs : 1));
	resp->allow = allow;
	resp->nreasons = 0;
	resp->reasons = arr;
	resp->nerrors = 0;
	resp->errors = arr + nreasons;
	resp->error_messages = arr + nreasons + nerr;
	for (size_t c = 0; c < cand.n; c++) {
		const ghp_policy *p = ps->policies[cand.v[c]];
		if (res[c] == 1 && (nforbid ? p->forbid : !p->forbid))
			arr[resp->nreasons++] = p->id;
		if (res[c] == -1) {
			size_t l = strlen(msgs[c]) + 1;
			memcpy(text, msgs[c], l);
			((const char **)resp->errors)[resp->nerrors] = p->id;
			((const char **)resp->error_messages)[resp->nerrors] = text;
			resp->nerrors++;
			text += l;
		}
	}
	*out = resp;
cleanup:
	ghp_arena_free(&arena);
	return rc;
}

void gh_policy_response_free(gh_policy_response *resp)
{
	free(resp);
}
