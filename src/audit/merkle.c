/* merkle.c - the audit log as an RFC 9162 Merkle tree: storage, roots, proofs, verification. */
#include "audit/merkle.h"
#include "audit/audit.h"
#include "audit/sha256.h"
#include "common/error.h"
#include "common/util.h"

#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS 64
/* Subtrees of fewer than 2^MIN_LEVEL leaves are not stored: they are hashed
 * from the leaves when needed (one short range read), which saves 7 of every
 * 8 node rows an append would write. */
#define MIN_LEVEL 3

void gh_merkle_leaf_hash(gh_merkle_hash out, int64_t seq, int64_t ts, const char *actor,
			 const char *action, const char *object_type, const char *object_id,
			 const char *details, size_t details_len)
{
	gh_audit_hashes(NULL, out, NULL, seq, ts, actor, action, object_type, object_id, details,
			details_len);
}

void gh_merkle_node_hash(gh_merkle_hash out, const gh_merkle_hash left, const gh_merkle_hash right)
{
	unsigned char buf[1 + 2 * GH_MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, GH_MERKLE_HASH_LEN);
	memcpy(buf + 1 + GH_MERKLE_HASH_LEN, right, GH_MERKLE_HASH_LEN);
	gh_sha256(out, buf, sizeof(buf));
}

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
	sqlite3_stmt *st;
	int rc, step;

	b->block = -1;
	b->count = 0;
	if ((rc = gh_store_stmt(&st, b->s, "SELECT leaf_hash FROM audit_events WHERE seq >= ?"
					   " AND seq < ? ORDER BY seq")))
		return rc;
	sqlite3_bind_int64(st, 1, (block << MIN_LEVEL) + 1);
	sqlite3_bind_int64(st, 2, ((block + 1) << MIN_LEVEL) + 1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && b->count < (1 << MIN_LEVEL) &&
	       sqlite3_column_bytes(st, 0) == GH_MERKLE_HASH_LEN)
		memcpy(b->h[b->count++], sqlite3_column_blob(st, 0), GH_MERKLE_HASH_LEN);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = gh_store_fail(b->s, "reading the Merkle tree");
	sqlite3_reset(st);
	if (!rc)
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
	sqlite3_stmt *st;
	int rc;

	if (level == 0) {
		if ((rc = gh_store_stmt(&st, s, "SELECT leaf_hash FROM audit_events WHERE seq = ?")))
			return rc;
		sqlite3_bind_int64(st, 1, index + 1);
	} else {
		if ((rc = gh_store_stmt(&st, s, "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?")))
			return rc;
		sqlite3_bind_int(st, 1, level);
		sqlite3_bind_int64(st, 2, index);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == GH_MERKLE_HASH_LEN) {
		memcpy(out, sqlite3_column_blob(st, 0), GH_MERKLE_HASH_LEN);
		rc = 0;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		rc = gh_error_set(GH_ERROR, "the Merkle tree has no node at level %d, index %lld",
				  level, (long long)index);
	} else {
		rc = gh_store_fail(s, "reading the Merkle tree");
	}
	sqlite3_reset(st);
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
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if ((rc = gh_store_stmt(&st, s, "SELECT seq FROM audit_head WHERE one = 1")))
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 0 : gh_store_fail(s, "reading the tree size");
	}
	sqlite3_reset(st);
	return rc;
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

int gh_merkle_load_frontier(gh_store *s, gh_store_head *h)
{
	int rc;

	for (int l = 0; l < MAX_LEVELS - 1; l++) {
		if (!((h->seq >> l) & 1))
			continue;
		if ((rc = store_get(h->frontier[l], l, (h->seq >> l) - 1, s)))
			return rc;
	}
	return 0;
}

static int put_node(gh_store *s, int level, int64_t idx, const gh_merkle_hash hash)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, s, "INSERT INTO merkle_nodes(level, idx, hash) VALUES (?,?,?)")))
		return rc;
	sqlite3_bind_int(st, 1, level);
	sqlite3_bind_int64(st, 2, idx);
	sqlite3_bind_blob(st, 3, hash, GH_MERKLE_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : gh_store_fail(s, "storing a Merkle node");
	sqlite3_reset(st);
	return rc;
}

int gh_merkle_append(gh_store *s, gh_store_head *h, const gh_merkle_hash leaf)
{
	int64_t idx = h->seq - 1;      /* the new leaf's index; h->seq counts it */
	gh_merkle_hash cur;
	int l = 0, rc;

	memcpy(cur, leaf, sizeof(cur));
	/* while the new node is a right child, its left sibling is on the frontier */
	while (idx & 1) {
		gh_merkle_node_hash(cur, h->frontier[l], cur);
		idx >>= 1;
		l++;
		if (l >= MIN_LEVEL && (rc = put_node(s, l, idx, cur)))
			return rc;
	}
	memcpy(h->frontier[l], cur, sizeof(cur));
	return 0;
}

/* ---- a streaming builder, for the backfill and for verification ---- */

typedef struct builder {
	int64_t count;                        /* leaves pushed (global position) */
	int cap;                              /* no node above this level */
	gh_merkle_hash f[MAX_LEVELS];
	/* called with every node completed at level >= 1 */
	int (*node)(struct builder *b, int level, int64_t idx, const gh_merkle_hash h);
	void *ctx;
} builder;

/* Pushes a complete subtree of 2^level leaves at the builder's right edge. */
static int push(builder *b, int level, const gh_merkle_hash h)
{
	int64_t idx = b->count >> level;
	gh_merkle_hash cur;
	int l = level, rc;

	memcpy(cur, h, sizeof(cur));
	while ((idx & 1) && l < b->cap) {
		gh_merkle_node_hash(cur, b->f[l], cur);
		idx >>= 1;
		l++;
		if ((rc = b->node(b, l, idx, cur)))
			return rc;
	}
	memcpy(b->f[l], cur, sizeof(cur));
	b->count += (int64_t)1 << level;
	return 0;
}

/* The root of everything pushed into a builder that started at 0. */
static void builder_root(gh_merkle_hash out, const builder *b)
{
	int have = 0;

	if (b->count == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	for (int l = 0; l < MAX_LEVELS; l++) {
		if (!((b->count >> l) & 1))
			continue;
		if (have)
			gh_merkle_node_hash(out, b->f[l], out);
		else
			memcpy(out, b->f[l], GH_MERKLE_HASH_LEN);
		have = 1;
	}
}

/* ---- migration 9: the tree of an existing log ---- */

typedef struct backfill {
	sqlite3 *db;
	sqlite3_stmt *ins;
} backfill;

static int backfill_node(builder *b, int level, int64_t idx, const gh_merkle_hash h)
{
	backfill *bf = b->ctx;
	int rc;

	if (level < MIN_LEVEL)
		return 0;

	sqlite3_bind_int(bf->ins, 1, level);
	sqlite3_bind_int64(bf->ins, 2, idx);
	sqlite3_bind_blob(bf->ins, 3, h, GH_MERKLE_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(bf->ins) == SQLITE_DONE ? 0 : GH_ERROR;
	sqlite3_reset(bf->ins);
	return rc;
}

static void sql_backfill(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	sqlite3_stmt *sel = NULL, *upd = NULL;
	backfill bf = {db, NULL};
	builder b = {0, MAX_LEVELS - 1, {{0}}, backfill_node, &bf};
	int step = SQLITE_DONE;

	(void)argc;
	(void)argv;
	if (sqlite3_prepare_v2(db, "SELECT seq, ts, actor, action, object_type, object_id, details"
				   " FROM audit_events ORDER BY seq", -1, &sel, NULL) ||
	    sqlite3_prepare_v2(db, "UPDATE audit_events SET leaf_hash = ? WHERE seq = ?", -1, &upd,
			       NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO merkle_nodes(level, idx, hash) VALUES (?,?,?)", -1,
			       &bf.ins, NULL))
		goto fail;
	while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
		gh_merkle_hash leaf;
		int64_t seq = sqlite3_column_int64(sel, 0);

		gh_audit_row_hashes(NULL, leaf, NULL, sel);
		sqlite3_bind_blob(upd, 1, leaf, GH_MERKLE_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(upd, 2, seq);
		if (sqlite3_step(upd) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(upd);
		if (push(&b, 0, leaf))
			goto fail;
	}
	if (step != SQLITE_DONE)
		goto fail;
	sqlite3_result_int64(ctx, b.count);
	goto cleanup;
fail:
	sqlite3_result_error(ctx, sqlite3_errmsg(db), -1);
cleanup:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(bf.ins);
}

int gh_merkle_sql_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "gh_merkle_backfill", 0, SQLITE_UTF8, NULL, sql_backfill,
				       NULL, NULL) == SQLITE_OK ? 0 : GH_ERROR;
}

/* ---- verifying everything ---- */

enum { MAX_WORKERS = 8, MIN_PER_WORKER = 16384 };

typedef struct verify_job {
	const char *path;
	int64_t lo, hi;              /* leaves lo..hi-1; lo aligned to 2^cap */
	int cap;
	builder b;
	sqlite3 *db;
	gh_store *store;             /* the top job reads through the store */
	sqlite3_stmt *level[MAX_LEVELS];
	int failed;                  /* could not read */
	int64_t bad_leaf;            /* first leaf covered by what is wrong, -1 if none */
	char why[256];
} verify_job;

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

/* Nodes complete in index order at every level: one cursor per level. */
static int verify_node(builder *b, int level, int64_t idx, const gh_merkle_hash h)
{
	verify_job *j = b->ctx;
	sqlite3_stmt *st = j->level[level];
	int64_t first = idx << level;

	if (level < MIN_LEVEL)
		return 0;      /* not stored: hashed from the leaves just checked */
	if (!st) {
		if (sqlite3_prepare_v2(j->db, "SELECT idx, hash FROM merkle_nodes WHERE level = ?"
					      " AND idx >= ? AND idx < ? ORDER BY idx", -1, &st, NULL)) {
			j->failed = 1;
			snprintf(j->why, sizeof(j->why), "reading the Merkle tree: %s",
				 sqlite3_errmsg(j->db));
			return GH_ERROR;
		}
		sqlite3_bind_int(st, 1, level);
		sqlite3_bind_int64(st, 2, j->lo >> level);
		sqlite3_bind_int64(st, 3, j->hi >> level);
		j->level[level] = st;
	}
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != idx)
		return job_bad(j, first, "Merkle node (level %d, index %lld) is missing", level,
			       (long long)idx);
	if (sqlite3_column_bytes(st, 1) != GH_MERKLE_HASH_LEN ||
	    memcmp(sqlite3_column_blob(st, 1), h, GH_MERKLE_HASH_LEN) != 0)
		return job_bad(j, first, "Merkle node (level %d, index %lld) does not match its children",
			       level, (long long)idx);
	return 0;
}

static void *verify_leaves(void *arg)
{
	verify_job *j = arg;
	sqlite3_stmt *st = NULL;
	int64_t expect = j->lo + 1;
	int step;

	j->b.count = j->lo;
	j->b.cap = j->cap;
	j->b.node = verify_node;
	j->b.ctx = j;
	if (sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) ||
	    sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(j->db, "SELECT seq, ts, actor, action, object_type, object_id, details,"
				      " leaf_hash FROM audit_events WHERE seq > ? AND seq <= ?"
				      " ORDER BY seq", -1, &st, NULL)) {
		j->failed = 1;
		snprintf(j->why, sizeof(j->why), "reading audit events: %s",
			 j->db ? sqlite3_errmsg(j->db) : "out of memory");
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, j->lo);
	sqlite3_bind_int64(st, 2, j->hi);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		gh_merkle_hash leaf;
		int64_t seq = sqlite3_column_int64(st, 0);

		if (seq != expect) {
			job_bad(j, expect - 1, "leaf %lld: event %lld is missing", (long long)(expect - 1),
				(long long)expect);
			goto cleanup;
		}
		expect++;
		gh_audit_row_hashes(NULL, leaf, NULL, st);
		if (sqlite3_column_bytes(st, 7) != GH_MERKLE_HASH_LEN ||
		    memcmp(sqlite3_column_blob(st, 7), leaf, GH_MERKLE_HASH_LEN) != 0) {
			job_bad(j, seq - 1, "leaf %lld does not match event %lld", (long long)(seq - 1),
				(long long)seq);
			goto cleanup;
		}
		if (push(&j->b, 0, leaf))
			goto cleanup;
	}
	if (step != SQLITE_DONE) {
		j->failed = 1;
		snprintf(j->why, sizeof(j->why), "reading audit events: %s", sqlite3_errmsg(j->db));
	} else if (expect != j->hi + 1) {
		job_bad(j, expect - 1, "leaf %lld: event %lld is missing", (long long)(expect - 1),
			(long long)expect);
	}
cleanup:
	sqlite3_finalize(st);
	for (int l = 0; l < MAX_LEVELS; l++)
		sqlite3_finalize(j->level[l]);
	if (j->db)
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(j->db);
	j->db = NULL;
	return NULL;
}

/* Nodes above the workers' ranges, checked by the calling thread. */
static int verify_top_node(builder *b, int level, int64_t idx, const gh_merkle_hash h)
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

/* How many nodes are stored, in the same snapshot as the size. */
static int count_nodes(gh_store *s, int64_t *have)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, s, "SELECT count(*) FROM merkle_nodes")))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*have = sqlite3_column_int64(st, 0);
	else
		rc = gh_store_fail(s, "counting Merkle nodes");
	sqlite3_reset(st);
	return rc;
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
	const char *path = sqlite3_db_filename(gh_store_db(s), "main");
	int64_t n, chunk, have = 0;
	gh_merkle_hash root, stored_root;
	int workers, cap = 0, rc;

	*out_leaves = 0;
	if (why && whylen)
		*why = 0;
	gh_store_read_begin(s);
	rc = gh_merkle_size(&n, s);
	if (!rc)
		rc = count_nodes(s, &have);
	gh_store_read_end(s);
	if (rc)
		return rc;
	if (!path || !*path)
		return gh_error_set(GH_ERROR, "Merkle verification needs a database file");
	workers = gh_audit_workers(n, MAX_WORKERS, MIN_PER_WORKER);
	/* ranges of a power-of-two size, so nodes below it never straddle two */
	while (((int64_t)1 << cap) * workers < n)
		cap++;
	chunk = (int64_t)1 << cap;
	workers = n ? (int)((n + chunk - 1) / chunk) : 0;
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < workers; i++) {
		jobs[i].path = path;
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
			rc = push(&top.b, cap, jobs[i].b.f[cap]);
			continue;
		}
		for (int l = cap - 1; l >= 0 && !rc; l--)
			if ((len >> l) & 1)
				rc = push(&top.b, l, jobs[i].b.f[l]);
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
	builder_root(root, &top.b);
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
