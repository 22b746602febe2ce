/* merkle.c - the audit log as an RFC 9162 Merkle tree: storage, roots, proofs, verification. */
#include "audit/merkle.h"
#include "audit/audit.h"
#include "common/error.h"
#include "common/util.h"

#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS GH_MERKLE_MAX_LEVELS
#define MIN_LEVEL GH_MERKLE_MIN_STORED   /* lower subtrees are not stored */

/* ---- the algorithms over a node source ---- */

static int is_pow2(int64_t n)
{
	return n > 0 && (n & (n - 1)) == 0;
}

static int log2_exact(int64_t n)
{
	return __builtin_ctzll((unsigned long long)n);
}

/* The largest power of two smaller than n (n > 1). */
static int64_t split_point(int64_t n)
{
	return (int64_t)1 << (63 - __builtin_clzll((unsigned long long)(n - 1)));
}

/* MTH(D[lo:hi]) with lo aligned to the largest power of two below hi - lo,
 * as every range the RFC's recursions visit is: one stored node when
 * complete, else the fold of the complete subtrees ending at hi. */
static int subtree(gh_merkle_hash out, gh_merkle_get_fn get, void *ctx, int64_t lo, int64_t hi)
{
	int64_t n = hi - lo;
	gh_merkle_hash acc, h;
	int have = 0, rc;

	if (is_pow2(n) && lo % n == 0)
		return get(out, log2_exact(n), lo >> log2_exact(n), ctx);
	/* bits of n from low to high: the rightmost subtree is the smallest */
	for (int l = 0; l < MAX_LEVELS - 1 && (n >> l); l++) {
		int64_t start;

		if (!((n >> l) & 1))
			continue;
		start = lo + ((n >> (l + 1)) << (l + 1));
		if (start % ((int64_t)1 << l))
			return gh_error_set(GH_ERROR, "merkle: unaligned subtree %lld..%lld",
					    (long long)lo, (long long)hi);
		if ((rc = get(h, l, start >> l, ctx)))
			return rc;
		if (have)
			gh_merkle_node_hash(acc, h, acc);
		else
			memcpy(acc, h, sizeof(acc));
		have = 1;
	}
	memcpy(out, acc, sizeof(acc));
	return 0;
}

int gh_merkle_root_with(gh_merkle_hash out, gh_merkle_get_fn get, void *ctx, int64_t size)
{
	if (size < 0)
		return gh_error_set(GH_EINVALID, "tree size must not be negative");
	if (size == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return 0;
	}
	return subtree(out, get, ctx, 0, size);
}

typedef struct proof_buf {
	gh_merkle_hash *h;
	size_t n, cap;
} proof_buf;

static int proof_add(proof_buf *p, gh_merkle_get_fn get, void *ctx, int64_t lo, int64_t hi)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		gh_merkle_hash *h = realloc(p->h, cap * sizeof(*h));

		if (!h)
			return gh_error_set(GH_ERROR, "out of memory building a proof");
		p->h = h;
		p->cap = cap;
	}
	if (subtree(p->h[p->n], get, ctx, lo, hi))
		return GH_ERROR;
	p->n++;
	return 0;
}

/* RFC 9162 2.1.3.1 PATH(m, D[lo:hi]), deepest sibling first. */
static int path(proof_buf *p, gh_merkle_get_fn get, void *ctx, int64_t m, int64_t lo, int64_t hi)
{
	int64_t k;
	int rc;

	if (hi - lo <= 1)
		return 0;
	k = split_point(hi - lo);
	if (m < k) {
		if ((rc = path(p, get, ctx, m, lo, lo + k)))
			return rc;
		return proof_add(p, get, ctx, lo + k, hi);
	}
	if ((rc = path(p, get, ctx, m - k, lo + k, hi)))
		return rc;
	return proof_add(p, get, ctx, lo, lo + k);
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[lo:hi], b). */
static int subproof(proof_buf *p, gh_merkle_get_fn get, void *ctx, int64_t m, int64_t lo,
		    int64_t hi, int b)
{
	int64_t k;
	int rc;

	if (m == hi - lo)
		return b ? 0 : proof_add(p, get, ctx, lo, hi);
	k = split_point(hi - lo);
	if (m <= k) {
		if ((rc = subproof(p, get, ctx, m, lo, lo + k, b)))
			return rc;
		return proof_add(p, get, ctx, lo + k, hi);
	}
	if ((rc = subproof(p, get, ctx, m - k, lo + k, hi, 0)))
		return rc;
	return proof_add(p, get, ctx, lo, lo + k);
}

int gh_merkle_inclusion_with(gh_merkle_hash **out, size_t *n, gh_merkle_get_fn get, void *ctx,
			     int64_t index, int64_t size)
{
	proof_buf p = {0};

	*out = NULL;
	*n = 0;
	if (index < 0 || index >= size)
		return gh_error_set(GH_EINVALID, "leaf index %lld is not in a tree of %lld leaves",
				    (long long)index, (long long)size);
	if (path(&p, get, ctx, index, 0, size)) {
		free(p.h);
		return gh_error_last()->code ? gh_error_last()->code : GH_ERROR;
	}
	*out = p.h;
	*n = p.n;
	return 0;
}

int gh_merkle_consistency_with(gh_merkle_hash **out, size_t *n, gh_merkle_get_fn get, void *ctx,
			       int64_t old_size, int64_t new_size)
{
	proof_buf p = {0};

	*out = NULL;
	*n = 0;
	if (old_size <= 0 || old_size > new_size)
		return gh_error_set(GH_EINVALID, "old size %lld must be between 1 and the new size %lld",
				    (long long)old_size, (long long)new_size);
	if (subproof(&p, get, ctx, old_size, 0, new_size, 1)) {
		free(p.h);
		return gh_error_last()->code ? gh_error_last()->code : GH_ERROR;
	}
	*out = p.h;
	*n = p.n;
	return 0;
}

/* ---- verifiers (RFC 9162 2.1.3.2, 2.1.4.2) ---- */

static char *hex(char out[2 * GH_MERKLE_HASH_LEN + 1], const unsigned char *h)
{
	gh_hex(out, h, GH_MERKLE_HASH_LEN);
	return out;
}

int gh_merkle_verify_inclusion(const gh_merkle_hash leaf, int64_t index, int64_t size,
			       const gh_merkle_hash *proof, size_t n, const gh_merkle_hash root)
{
	uint64_t fn, sn;
	gh_merkle_hash r;
	char a[65], b[65];

	if (index < 0 || size <= 0 || index >= size)
		return gh_error_set(GH_EINVALID, "leaf index %lld is not in a tree of %lld leaves",
				    (long long)index, (long long)size);
	fn = (uint64_t)index;
	sn = (uint64_t)size - 1;
	memcpy(r, leaf, sizeof(r));
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return gh_error_set(GH_EINVALID, "inclusion proof is too long (%zu hashes)", n);
		if ((fn & 1) || fn == sn) {
			gh_merkle_node_hash(r, proof[i], r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			gh_merkle_node_hash(r, r, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return gh_error_set(GH_EINVALID, "inclusion proof is too short (%zu hashes)", n);
	if (sodium_memcmp(r, root, GH_MERKLE_HASH_LEN) != 0)
		return gh_error_set(GH_EINVALID, "inclusion proof leads to root %s, not %s",
				    hex(a, r), hex(b, root));
	return 0;
}

int gh_merkle_verify_consistency(int64_t old_size, int64_t new_size, const gh_merkle_hash old_root,
				 const gh_merkle_hash new_root, const gh_merkle_hash *proof,
				 size_t n)
{
	uint64_t fn, sn;
	gh_merkle_hash fr, sr;
	size_t i = 0;
	char a[65], b[65];

	if (old_size <= 0 || old_size > new_size)
		return gh_error_set(GH_EINVALID, "old size %lld must be between 1 and the new size %lld",
				    (long long)old_size, (long long)new_size);
	if (old_size == new_size) {
		if (n != 0)
			return gh_error_set(GH_EINVALID, "consistency proof between equal sizes must be empty");
		if (sodium_memcmp(old_root, new_root, GH_MERKLE_HASH_LEN) != 0)
			return gh_error_set(GH_EINVALID, "equal sizes with different roots");
		return 0;
	}
	if (n == 0)
		return gh_error_set(GH_EINVALID, "consistency proof is empty");
	/* an old tree that is a complete subtree is its own first hash */
	if (is_pow2(old_size)) {
		memcpy(fr, old_root, sizeof(fr));
	} else {
		memcpy(fr, proof[0], sizeof(fr));
		i = 1;
	}
	memcpy(sr, fr, sizeof(sr));
	fn = (uint64_t)old_size - 1;
	sn = (uint64_t)new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return gh_error_set(GH_EINVALID, "consistency proof is too long (%zu hashes)", n);
		if ((fn & 1) || fn == sn) {
			gh_merkle_node_hash(fr, proof[i], fr);
			gh_merkle_node_hash(sr, proof[i], sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			gh_merkle_node_hash(sr, sr, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return gh_error_set(GH_EINVALID, "consistency proof is too short (%zu hashes)", n);
	if (sodium_memcmp(fr, old_root, GH_MERKLE_HASH_LEN) != 0)
		return gh_error_set(GH_EINVALID, "consistency proof leads to old root %s, not %s",
				    hex(a, fr), hex(b, old_root));
	if (sodium_memcmp(sr, new_root, GH_MERKLE_HASH_LEN) != 0)
		return gh_error_set(GH_EINVALID, "consistency proof leads to new root %s, not %s",
				    hex(a, sr), hex(b, new_root));
	return 0;
}

/* ---- the store ---- */

/* The leaf hashes of one aligned block of 2^MIN_LEVEL leaves: a proof's
 * leaf and its siblings below MIN_LEVEL all lie in one, read at once. */
typedef struct leaf_block {
	gh_store *s;
	int64_t block;           /* -1: nothing read yet */
	int count;               /* leaves of the block that exist */
	gh_merkle_hash h[1 << MIN_LEVEL];
} leaf_block;

static int block_load(leaf_block *b, int64_t block)
{
	int rc;

	b->block = -1;
	b->count = 0;
	if (!(rc = gh_store_log_leaves(b->h, &b->count, b->s, (block << MIN_LEVEL) + 1,
				       1 << MIN_LEVEL)))
		b->block = block;
	return rc;
}

/* The subtree of 2^level leaves (level < MIN_LEVEL) from index << level,
 * hashed from its leaves. */
static int small_subtree(gh_merkle_hash out, leaf_block *b, int level, int64_t index)
{
	gh_merkle_hash h[1 << MIN_LEVEL];
	int64_t first = index << level, block = first >> MIN_LEVEL;
	int n = 1 << level, off = (int)(first - (block << MIN_LEVEL)), rc;

	if (b->block != block && (rc = block_load(b, block)))
		return rc;
	if (off + n > b->count)
		return gh_error_set(GH_ERROR, "the Merkle tree has no node at level %d, index %lld",
				    level, (long long)index);
	memcpy(h, b->h[off], (size_t)n * sizeof(*h));
	for (; n > 1; n /= 2)
		for (int i = 0; i < n / 2; i++)
			gh_merkle_node_hash(h[i], h[2 * i], h[2 * i + 1]);
	memcpy(out, h[0], GH_MERKLE_HASH_LEN);
	return 0;
}

static int node_get(gh_merkle_hash out, gh_store *s, int level, int64_t index)
{
	int rc, n = 0;

	if (level == 0)
		rc = gh_store_log_leaves((gh_merkle_hash *)out, &n, s, index + 1, 1);
	else if ((rc = gh_store_log_node(out, s, level, index)) == GH_ENOTFOUND)
		n = rc = 0;
	else
		n = 1;
	if (!rc && n == 0)
		rc = gh_error_set(GH_ERROR, "the Merkle tree has no node at level %d, index %lld",
				  level, (long long)index);
	return rc;
}

static int store_get(gh_merkle_hash out, int level, int64_t index, void *ctx)
{
	leaf_block b = {ctx, -1, 0, {{0}}};

	if (level > 0 && level < MIN_LEVEL)
		return small_subtree(out, &b, level, index);
	return node_get(out, ctx, level, index);
}

/* The node source for one proof: leaves and small subtrees from one block read. */
static int block_get(gh_merkle_hash out, int level, int64_t index, void *ctx)
{
	leaf_block *b = ctx;

	if (level == 0 && b->block == index >> MIN_LEVEL &&
	    (int)(index - (b->block << MIN_LEVEL)) < b->count) {
		memcpy(out, b->h[index - (b->block << MIN_LEVEL)], GH_MERKLE_HASH_LEN);
		return 0;
	}
	if (level < MIN_LEVEL)
		return small_subtree(out, b, level, index);
	return node_get(out, b->s, level, index);
}

int gh_merkle_size(int64_t *out, gh_store *s)
{
	int found;

	return gh_store_log_head(&found, out, NULL, s);
}

static int check_size(gh_store *s, const char *field, int64_t size, int64_t min)
{
	int64_t cur;
	int rc;

	if ((rc = gh_merkle_size(&cur, s)))
		return rc;
	if (size < min || size > cur) {
		gh_error_field(field, "must be between %lld and the tree size %lld", (long long)min,
			       (long long)cur);
		return gh_error_fields_finish();
	}
	return 0;
}

int gh_merkle_root(gh_merkle_hash out, gh_store *s, int64_t size)
{
	int rc;

	if ((rc = check_size(s, "size", size, 0)))
		return rc;
	return gh_merkle_root_with(out, store_get, s, size);
}

int gh_merkle_leaf(gh_merkle_hash out, gh_store *s, int64_t index)
{
	int rc;

	if (index < 0 || (rc = check_size(s, "index", index + 1, 1))) {
		if (index < 0) {
			gh_error_field("index", "must not be negative");
			return gh_error_fields_finish();
		}
		return rc;
	}
	return store_get(out, 0, index, s);
}

int gh_merkle_inclusion(gh_merkle_hash **out, size_t *n, gh_store *s, int64_t index, int64_t size)
{
	leaf_block b = {s, -1, 0, {{0}}};
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = check_size(s, "size", size, 1)))
		return rc;
	if (index < 0 || index >= size) {
		gh_error_field("index", "must be below the tree size %lld", (long long)size);
		return gh_error_fields_finish();
	}
	return gh_merkle_inclusion_with(out, n, block_get, &b, index, size);
}

int gh_merkle_consistency(gh_merkle_hash **out, size_t *n, gh_store *s, int64_t old_size,
			  int64_t new_size)
{
	leaf_block b = {s, -1, 0, {{0}}};
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = check_size(s, "new_size", new_size, 1)))
		return rc;
	if (old_size < 1 || old_size > new_size) {
		gh_error_field("old_size", "must be between 1 and the new size %lld", (long long)new_size);
		return gh_error_fields_finish();
	}
	return gh_merkle_consistency_with(out, n, block_get, &b, old_size, new_size);
}

/* ---- appending ---- */

int gh_merkle_load_frontier(gh_store *s, int64_t size, gh_merkle_hash *frontier)
{
	int rc;

	for (int l = 0; l < MAX_LEVELS - 1; l++) {
		if (!((size >> l) & 1))
			continue;
		if ((rc = store_get(frontier[l], l, (size >> l) - 1, s)))
			return rc;
	}
	return 0;
}

int gh_merkle_append(gh_store *s, int64_t size, gh_merkle_hash *frontier, const gh_merkle_hash leaf)
{
	int64_t idx = size - 1;        /* the new leaf's index; size counts it */
	gh_merkle_hash cur;
	int l = 0, rc;

	memcpy(cur, leaf, sizeof(cur));
	/* while the new node is a right child, its left sibling is on the frontier */
	while (idx & 1) {
		gh_merkle_node_hash(cur, frontier[l], cur);
		idx >>= 1;
		l++;
		if (l >= MIN_LEVEL && (rc = gh_store_log_put_node(s, l, idx, cur)))
			return rc;
	}
	memcpy(frontier[l], cur, sizeof(cur));
	return 0;
}

/* ---- verifying everything ---- */

enum { MAX_WORKERS = 8, MIN_PER_WORKER = 16384 };

/* A worker's reads of one level's stored nodes, in index order, a batch at
 * a time: nodes complete in index order at every level. */
#define NODE_BATCH 256
typedef struct level_cursor {
	int64_t next;                /* first index not read yet */
	int pos, count;
	int64_t idx[NODE_BATCH];
	gh_merkle_hash hash[NODE_BATCH];
} level_cursor;

typedef struct verify_job {
	gh_store *store;             /* read in the worker's own read section */
	int64_t lo, hi;              /* leaves lo..hi-1; lo aligned to 2^cap */
	int cap;
	gh_merkle_builder b;
	int64_t expect;              /* the next event's sequence number */
	level_cursor *level[MAX_LEVELS];
	int failed;                  /* could not read */
	int64_t bad_leaf;            /* first leaf covered by what is wrong, -1 if none */
	char why[256];
} verify_job;

enum { STOP = 1 };   /* a scan callback found what is wrong */

static int job_bad(verify_job *j, int64_t first_leaf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int job_bad(verify_job *j, int64_t first_leaf, const char *fmt, ...)
{
	va_list ap;

	j->bad_leaf = first_leaf;
	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	return GH_EINVALID;
}

static int job_failed(verify_job *j, const char *what)
{
	j->failed = 1;
	snprintf(j->why, sizeof(j->why), "%.*s", (int)sizeof(j->why) - 1, what);
	return GH_ERROR;
}

static int verify_node(gh_merkle_builder *b, int level, int64_t idx, const gh_merkle_hash h)
{
	verify_job *j = b->ctx;
	level_cursor *c = j->level[level];
	int64_t first = idx << level;

	if (level < MIN_LEVEL)
		return 0;      /* not stored: hashed from the leaves just checked */
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return job_failed(j, "out of memory verifying the Merkle tree");
		c->next = j->lo >> level;
		j->level[level] = c;
	}
	if (c->pos == c->count && c->next < j->hi >> level) {
		c->pos = 0;
		if (gh_store_log_nodes(c->idx, c->hash, &c->count, j->store, level, c->next,
				       j->hi >> level, NODE_BATCH))
			return job_failed(j, gh_error_last()->message);
		if (c->count > 0)
			c->next = c->idx[c->count - 1] + 1;
		else
			c->next = j->hi >> level;
	}
	if (c->pos == c->count || c->idx[c->pos] != idx)
		return job_bad(j, first, "Merkle node (level %d, index %lld) is missing", level,
			       (long long)idx);
	if (memcmp(c->hash[c->pos++], h, GH_MERKLE_HASH_LEN) != 0)
		return job_bad(j, first, "Merkle node (level %d, index %lld) does not match its children",
			       level, (long long)idx);
	return 0;
}

static int check_leaf(void *ctx, const gh_store_log_event *ev)
{
	verify_job *j = ctx;
	gh_merkle_hash leaf;

	if (ev->seq != j->expect) {
		job_bad(j, j->expect - 1, "leaf %lld: event %lld is missing",
			(long long)(j->expect - 1), (long long)j->expect);
		return STOP;
	}
	j->expect++;
	gh_audit_event_hashes(NULL, leaf, NULL, ev);
	if (!ev->leaf_hash || memcmp(ev->leaf_hash, leaf, GH_MERKLE_HASH_LEN) != 0) {
		job_bad(j, ev->seq - 1, "leaf %lld does not match event %lld", (long long)(ev->seq - 1),
			(long long)ev->seq);
		return STOP;
	}
	return gh_merkle_builder_push(&j->b, 0, leaf) ? STOP : 0;
}

static void *verify_leaves(void *arg)
{
	verify_job *j = arg;
	int rc;

	j->expect = j->lo + 1;
	j->b.count = j->lo;
	j->b.cap = j->cap;
	j->b.node = verify_node;
	j->b.ctx = j;
	gh_store_read_begin(j->store);
	rc = gh_store_log_scan(j->store, j->lo + 1, j->hi, check_leaf, j);
	gh_store_read_end(j->store);
	if (rc && rc != STOP)
		job_failed(j, gh_error_last()->message);
	else if (!rc && j->expect != j->hi + 1)
		job_bad(j, j->expect - 1, "leaf %lld: event %lld is missing",
			(long long)(j->expect - 1), (long long)j->expect);
	for (int l = 0; l < MAX_LEVELS; l++) {
		free(j->level[l]);
		j->level[l] = NULL;
	}
	return NULL;
}

/* Nodes above the workers' ranges, checked by the calling thread. */
static int verify_top_node(gh_merkle_builder *b, int level, int64_t idx, const gh_merkle_hash h)
{
	verify_job *j = b->ctx;
	gh_merkle_hash stored;

	if (level < MIN_LEVEL)
		return 0;
	if (store_get(stored, level, idx, j->store))
		return job_bad(j, idx << level, "Merkle node (level %d, index %lld) is missing",
			       level, (long long)idx);
	if (memcmp(stored, h, GH_MERKLE_HASH_LEN) != 0)
		return job_bad(j, idx << level, "Merkle node (level %d, index %lld) does not match its children",
			       level, (long long)idx);
	return 0;
}

/* A tree of n leaves stores its complete subtrees from MIN_LEVEL up. */
static int64_t stored_nodes(int64_t n)
{
	int64_t total = 0;

	for (int l = MIN_LEVEL; l < MAX_LEVELS - 1 && (n >> l); l++)
		total += n >> l;
	return total;
}

int gh_merkle_verify_all(int64_t *out_leaves, gh_store *s, char *why, size_t whylen)
{
	verify_job jobs[MAX_WORKERS], top;
	int64_t n, chunk, have = 0;
	gh_merkle_hash root, stored_root;
	int workers, cap = 0, rc;

	*out_leaves = 0;
	if (why && whylen)
		*why = 0;
	gh_store_read_begin(s);
	rc = gh_merkle_size(&n, s);
	if (!rc)   /* in the same snapshot as the size */
		rc = gh_store_log_count_nodes(&have, s);
	gh_store_read_end(s);
	if (rc)
		return rc;
	workers = gh_audit_workers(n, MAX_WORKERS, MIN_PER_WORKER);
	/* ranges of a power-of-two size, so nodes below it never straddle two */
	while (((int64_t)1 << cap) * workers < n)
		cap++;
	chunk = (int64_t)1 << cap;
	workers = n ? (int)((n + chunk - 1) / chunk) : 0;
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < workers; i++) {
		jobs[i].store = s;
		jobs[i].lo = chunk * i;
		jobs[i].hi = chunk * (i + 1) < n ? chunk * (i + 1) : n;
		jobs[i].cap = cap;
		jobs[i].bad_leaf = -1;
	}
	gh_audit_run_jobs(verify_leaves, jobs, sizeof(jobs[0]), workers);
	for (int i = 0; i < workers; i++)
		if (jobs[i].failed)
			return gh_error_set(GH_ERROR, "%s", jobs[i].why);
	for (int i = 0; i < workers; i++) {
		if (jobs[i].bad_leaf >= 0) {
			*out_leaves = jobs[i].bad_leaf;
			snprintf(why, whylen, "%s", jobs[i].why);
			return gh_error_set(GH_EINVALID, "Merkle tree broken: %s", jobs[i].why);
		}
	}
	/* the levels above the ranges, from the ranges' complete subtrees */
	memset(&top, 0, sizeof(top));
	top.bad_leaf = -1;
	top.store = s;
	top.b.cap = MAX_LEVELS - 1;
	top.b.node = verify_top_node;
	top.b.ctx = &top;
	gh_store_read_begin(s);
	for (int i = 0; i < workers && top.bad_leaf < 0 && !rc; i++) {
		int64_t len = jobs[i].hi - jobs[i].lo;

		if (len == chunk) {
			rc = gh_merkle_builder_push(&top.b, cap, jobs[i].b.f[cap]);
			continue;
		}
		for (int l = cap - 1; l >= 0 && !rc; l--)
			if ((len >> l) & 1)
				rc = gh_merkle_builder_push(&top.b, l, jobs[i].b.f[l]);
	}
	if (!rc && top.bad_leaf < 0)
		rc = gh_merkle_root_with(stored_root, store_get, s, n);
	gh_store_read_end(s);
	if (top.bad_leaf >= 0) {
		*out_leaves = top.bad_leaf;
		snprintf(why, whylen, "%s", top.why);
		return gh_error_set(GH_EINVALID, "Merkle tree broken: %s", top.why);
	}
	if (rc)
		return rc;
	gh_merkle_builder_root(root, &top.b);
	if (memcmp(root, stored_root, GH_MERKLE_HASH_LEN) != 0) {
		snprintf(why, whylen, "the root from the stored nodes differs from the recomputed one");
		return gh_error_set(GH_EINVALID, "Merkle tree broken: %s", why);
	}
	if (have != stored_nodes(n)) {
		*out_leaves = n;
		snprintf(why, whylen, "%lld Merkle nodes stored where a tree of %lld leaves has %lld",
			 (long long)have, (long long)n, (long long)stored_nodes(n));
		return gh_error_set(GH_EINVALID, "Merkle tree broken: %s", why);
	}
	*out_leaves = n;
	return 0;
}
