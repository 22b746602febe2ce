/* test_audit_merkle.c - the Merkle tree: RFC 6962 vectors, random sizes against a naive tree, proofs, tampering. */
#include "audit/audit.h"
#include "store_fixture.h"
#include "audit/merkle.h"
#include "common/sha256.h"
#include "common/error.h"
#include "common/util.h"
#include "harness.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a naive tree straight from the RFC's recursive definitions ---- */

typedef struct naive {
	gh_merkle_hash *leaves;
	int64_t n;
} naive;

static void mth(gh_merkle_hash out, const naive *t, int64_t lo, int64_t hi)
{
	gh_merkle_hash l, r;
	int64_t k = 1;

	if (hi - lo == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	if (hi - lo == 1) {
		memcpy(out, t->leaves[lo], GH_MERKLE_HASH_LEN);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	mth(l, t, lo, lo + k);
	mth(r, t, lo + k, hi);
	gh_merkle_node_hash(out, l, r);
}

static void naive_path(gh_merkle_hash *out, size_t *n, const naive *t, int64_t m, int64_t lo,
		       int64_t hi)
{
	int64_t k = 1;

	if (hi - lo <= 1)
		return;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		naive_path(out, n, t, m, lo, lo + k);
		mth(out[(*n)++], t, lo + k, hi);
	} else {
		naive_path(out, n, t, m - k, lo + k, hi);
		mth(out[(*n)++], t, lo, lo + k);
	}
}

static void naive_subproof(gh_merkle_hash *out, size_t *n, const naive *t, int64_t m, int64_t lo,
			   int64_t hi, int b)
{
	int64_t k = 1;

	if (m == hi - lo) {
		if (!b)
			mth(out[(*n)++], t, lo, hi);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	if (m <= k) {
		naive_subproof(out, n, t, m, lo, lo + k, b);
		mth(out[(*n)++], t, lo + k, hi);
	} else {
		naive_subproof(out, n, t, m - k, lo + k, hi, 0);
		mth(out[(*n)++], t, lo, lo + k);
	}
}

/* The node source over a naive tree: complete subtrees computed on demand. */
static int naive_get(gh_merkle_hash out, int level, int64_t index, void *ctx)
{
	const naive *t = ctx;
	int64_t lo = index << level, hi = (index + 1) << level;

	if (hi > t->n)
		return gh_error_set(GH_ERROR, "no node");
	mth(out, t, lo, hi);
	return 0;
}

static void raw_leaf(gh_merkle_hash out, const unsigned char *data, size_t len)
{
	unsigned char buf[64];

	buf[0] = 0x00;
	memcpy(buf + 1, data, len);
	crypto_hash_sha256(out, buf, len + 1);
}

static void unhex(gh_merkle_hash out, const char *hex)
{
	for (int i = 0; i < GH_MERKLE_HASH_LEN; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

/* ---- the certificate-transparency reference vectors (RFC 6962 tests) ---- */

static const struct {
	const char *data;
	size_t len;
} vector_leaves[8] = {
	{"", 0},
	{"\x00", 1},
	{"\x10", 1},
	{"\x20\x21", 2},
	{"\x30\x31", 2},
	{"\x40\x41\x42\x43", 4},
	{"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
	{"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16},
};

static const char *const vector_roots[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

typedef struct vector_proof {
	int64_t a, b;             /* leaf index and size, or old and new size */
	int n;
	const char *hashes[3];
} vector_proof;

static const vector_proof vector_inclusion[] = {
	{0, 1, 0, {NULL}},
	{0, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{5, 8, 3, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{1, 5, 3, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const vector_proof vector_consistency[] = {
	{1, 1, 0, {NULL}},
	{1, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{6, 8, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 5, 2, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static void vector_tree(naive *t, gh_merkle_hash leaves[8], int64_t n)
{
	for (int i = 0; i < 8; i++)
		raw_leaf(leaves[i], (const unsigned char *)vector_leaves[i].data, vector_leaves[i].len);
	t->leaves = leaves;
	t->n = n;
}

static void test_merkle_vectors__roots(void)
{
	gh_merkle_hash leaves[8], root, want;
	naive t;

	for (int64_t n = 1; n <= 8; n++) {
		vector_tree(&t, leaves, n);
		unhex(want, vector_roots[n - 1]);
		CHECK_INT(gh_merkle_root_with(root, naive_get, &t, n), 0);
		if (!CHECK(memcmp(root, want, sizeof(root)) == 0))
			fprintf(stderr, "  root of %lld leaves differs\n", (long long)n);
	}
	/* the empty tree: SHA-256 of nothing */
	unhex(want, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_INT(gh_merkle_root_with(root, naive_get, &t, 0), 0);
	CHECK(memcmp(root, want, sizeof(root)) == 0);
}

static void test_merkle_vectors__inclusion(void)
{
	for (size_t v = 0; v < sizeof(vector_inclusion) / sizeof(vector_inclusion[0]); v++) {
		const vector_proof *p = &vector_inclusion[v];
		gh_merkle_hash leaves[8], want[3], root, *proof = NULL;
		size_t n = 0;
		naive t;

		vector_tree(&t, leaves, p->b);
		for (int i = 0; i < p->n; i++)
			unhex(want[i], p->hashes[i]);
		CHECK_INT(gh_merkle_inclusion_with(&proof, &n, naive_get, &t, p->a, p->b), 0);
		CHECK_INT(n, p->n);
		if (!CHECK(n == (size_t)p->n && (n == 0 || memcmp(proof, want, n * sizeof(*want)) == 0)))
			fprintf(stderr, "  inclusion %lld in %lld differs\n", (long long)p->a,
				(long long)p->b);
		unhex(root, vector_roots[p->b - 1]);
		CHECK_INT(gh_merkle_verify_inclusion(leaves[p->a], p->a, p->b, want, (size_t)p->n, root), 0);
		if (p->n) {
			want[p->n - 1][0] ^= 1;
			CHECK_INT(gh_merkle_verify_inclusion(leaves[p->a], p->a, p->b, want, (size_t)p->n,
							     root), GH_EINVALID);
		}
		free(proof);
	}
}

static void test_merkle_vectors__consistency(void)
{
	for (size_t v = 0; v < sizeof(vector_consistency) / sizeof(vector_consistency[0]); v++) {
		const vector_proof *p = &vector_consistency[v];
		gh_merkle_hash leaves[8], want[3], r1, r2, *proof = NULL;
		size_t n = 0;
		naive t;

		vector_tree(&t, leaves, p->b);
		for (int i = 0; i < p->n; i++)
			unhex(want[i], p->hashes[i]);
		CHECK_INT(gh_merkle_consistency_with(&proof, &n, naive_get, &t, p->a, p->b), 0);
		CHECK_INT(n, p->n);
		if (!CHECK(n == (size_t)p->n && (n == 0 || memcmp(proof, want, n * sizeof(*want)) == 0)))
			fprintf(stderr, "  consistency %lld to %lld differs\n", (long long)p->a,
				(long long)p->b);
		unhex(r1, vector_roots[p->a - 1]);
		unhex(r2, vector_roots[p->b - 1]);
		CHECK_INT(gh_merkle_verify_consistency(p->a, p->b, r1, r2, want, (size_t)p->n), 0);
		if (p->n) {
			want[0][5] ^= 0x80;
			CHECK_INT(gh_merkle_verify_consistency(p->a, p->b, r1, r2, want, (size_t)p->n),
				  GH_EINVALID);
		} else {
			r2[0] ^= 1;
			CHECK_INT(gh_merkle_verify_consistency(p->a, p->b, r1, r2, want, 0), GH_EINVALID);
		}
		free(proof);
	}
}

/* ---- random sizes: the algorithms against the naive tree, and alterations ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static int64_t rnd(int64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (int64_t)(rng % (uint64_t)n);
}

/* Every way of altering a valid inclusion proof must fail. */
static void check_inclusion_alterations(const gh_merkle_hash leaf, int64_t i, int64_t n,
					gh_merkle_hash *proof, size_t k, const gh_merkle_hash root)
{
	gh_merkle_hash bad;

	CHECK_INT(gh_merkle_verify_inclusion(leaf, i, n, proof, k, root), 0);
	for (size_t j = 0; j < k; j++) {
		int byte = (int)rnd(GH_MERKLE_HASH_LEN);

		proof[j][byte] ^= 0x01;
		CHECK_INT(gh_merkle_verify_inclusion(leaf, i, n, proof, k, root), GH_EINVALID);
		proof[j][byte] ^= 0x01;
	}
	memcpy(bad, leaf, sizeof(bad));
	bad[0] ^= 0x40;
	CHECK_INT(gh_merkle_verify_inclusion(bad, i, n, proof, k, root), GH_EINVALID);
	memcpy(bad, root, sizeof(bad));
	bad[31] ^= 0x02;
	CHECK_INT(gh_merkle_verify_inclusion(leaf, i, n, proof, k, bad), GH_EINVALID);
	if (k)
		CHECK_INT(gh_merkle_verify_inclusion(leaf, i, n, proof, k - 1, root), GH_EINVALID);
	if (n > 1)
		CHECK_INT(gh_merkle_verify_inclusion(leaf, i == 0 ? 1 : i - 1, n, proof, k, root),
			  GH_EINVALID);
	CHECK_INT(gh_merkle_verify_inclusion(leaf, n, n, proof, k, root), GH_EINVALID);
}

static void test_merkle_random__against_naive(void)
{
	enum { MAXN = 300 };
	static gh_merkle_hash leaves[MAXN];
	naive t = {leaves, 0};

	for (int i = 0; i < MAXN; i++) {
		unsigned char d[8];
		memcpy(d, &i, sizeof(i));
		raw_leaf(leaves[i], d, sizeof(i));
	}
	for (int round = 0; round < 120; round++) {
		int64_t n = round < 40 ? round + 1 : 1 + rnd(MAXN);
		int64_t i = rnd(n), m = 1 + rnd(n);
		gh_merkle_hash root, r1, want[80], *proof = NULL;
		size_t k = 0, wk = 0;

		t.n = n;
		mth(r1, &t, 0, n);
		CHECK_INT(gh_merkle_root_with(root, naive_get, &t, n), 0);
		CHECK(memcmp(root, r1, sizeof(root)) == 0);

		CHECK_INT(gh_merkle_inclusion_with(&proof, &k, naive_get, &t, i, n), 0);
		naive_path(want, &wk, &t, i, 0, n);
		CHECK(k == wk && (k == 0 || memcmp(proof, want, k * sizeof(*want)) == 0));
		check_inclusion_alterations(leaves[i], i, n, proof, k, root);
		free(proof);

		proof = NULL;
		wk = 0;
		CHECK_INT(gh_merkle_consistency_with(&proof, &k, naive_get, &t, m, n), 0);
		naive_subproof(want, &wk, &t, m, 0, n, 1);
		CHECK(k == wk && (k == 0 || memcmp(proof, want, k * sizeof(*want)) == 0));
		mth(r1, &t, 0, m);
		CHECK_INT(gh_merkle_verify_consistency(m, n, r1, root, proof, k), 0);
		for (size_t j = 0; j < k; j++) {
			proof[j][rnd(GH_MERKLE_HASH_LEN)] ^= 0x10;
			CHECK_INT(gh_merkle_verify_consistency(m, n, r1, root, proof, k), GH_EINVALID);
			memcpy(proof[j], want[j], sizeof(*want));
		}
		if (k)
			CHECK_INT(gh_merkle_verify_consistency(m, n, r1, root, proof, k - 1), GH_EINVALID);
		if (m < n) {
			r1[3] ^= 1;
			CHECK_INT(gh_merkle_verify_consistency(m, n, r1, root, proof, k), GH_EINVALID);
			r1[3] ^= 1;
			if (m > 1)
				CHECK_INT(gh_merkle_verify_consistency(m - 1, n, r1, root, proof, k),
					  GH_EINVALID);
		}
		free(proof);
	}
}

/* ---- the tree kept by gh_audit_append ---- */

static gh_store *open_log(const char *name, int events, int per_tx)
{
	char path[512];
	gh_store *s = NULL;

	sf_targetf(path, sizeof(path), 1, "%s.db", name);
	if (!CHECK_INT(gh_store_open(&s, path, 1), 0))
		return NULL;
	for (int i = 1; i <= events;) {
		CHECK_INT(gh_store_begin(s), 0);
		for (int k = 0; k < per_tx && i <= events; k++, i++) {
			json_t *d = json_pack("{s:i, s:s}", "n", i, "why", "merkle test");
			CHECK_INT(gh_audit_append(NULL, s, "idn_00000000000000aa",
						  i % 2 ? "request.submitted" : "grant.created", "request",
						  "req_0123456789abcdef", d), 0);
			json_decref(d);
		}
		CHECK_INT(gh_store_commit(s), 0);
	}
	return s;
}

/* The leaf hashes recomputed from the stored events. */
static gh_merkle_hash *event_leaves(gh_store *s, int64_t *n)
{
	gh_sql *st = NULL;
	gh_merkle_hash *out = NULL;
	int64_t cap = 0;

	*n = 0;
	gh_store_read_begin(s);
	if (gh_sql_prepare_once(&st, s, "SELECT seq, ts, actor, action, object_type, object_id,"
					" details FROM audit_events ORDER BY seq") == 0) {
		while (gh_sql_step(st) == GH_SQL_ROW) {
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				out = realloc(out, (size_t)cap * sizeof(*out));
			}
			const char *d = gh_sql_column_text(st, 6);

			gh_merkle_leaf_hash(out[*n], gh_sql_column_int64(st, 0),
					    gh_sql_column_int64(st, 1), gh_sql_column_text(st, 2),
					    gh_sql_column_text(st, 3), gh_sql_column_text(st, 4),
					    gh_sql_column_text(st, 5), d, strlen(d));
			(*n)++;
		}
	}
	gh_sql_finalize(st);
	gh_store_read_end(s);
	return out;
}

static void test_merkle_store__roots_and_proofs_match_naive(void)
{
	enum { EVENTS = 203 };
	gh_store *s = open_log("proofs", EVENTS, 17);
	gh_merkle_hash *leaves, root, want, stored;
	naive t;
	int64_t n = 0, size = 0;

	if (!s)
		return;
	leaves = event_leaves(s, &n);
	CHECK_INT(n, EVENTS);
	t.leaves = leaves;
	gh_store_read_begin(s);
	CHECK_INT(gh_merkle_size(&size, s), 0);
	CHECK_INT(size, EVENTS);
	for (int64_t m = 0; m <= EVENTS; m++) {
		t.n = m;
		mth(want, &t, 0, m);
		CHECK_INT(gh_merkle_root(root, s, m), 0);
		if (!CHECK(memcmp(root, want, sizeof(root)) == 0))
			fprintf(stderr, "  stored root at size %lld differs\n", (long long)m);
	}
	CHECK_INT(gh_merkle_root(root, s, EVENTS + 1), GH_EINVALID);
	CHECK_INT(gh_merkle_leaf(stored, s, 42), 0);
	CHECK(memcmp(stored, leaves[42], sizeof(stored)) == 0);
	CHECK_INT(gh_merkle_leaf(stored, s, EVENTS), GH_EINVALID);
	for (int round = 0; round < 60; round++) {
		int64_t sz = 1 + rnd(EVENTS), i = rnd(sz), old = 1 + rnd(sz);
		gh_merkle_hash *proof = NULL, r1, r2;
		size_t k = 0;

		CHECK_INT(gh_merkle_root(r2, s, sz), 0);
		CHECK_INT(gh_merkle_inclusion(&proof, &k, s, i, sz), 0);
		check_inclusion_alterations(leaves[i], i, sz, proof, k, r2);
		free(proof);
		CHECK_INT(gh_merkle_root(r1, s, old), 0);
		CHECK_INT(gh_merkle_consistency(&proof, &k, s, old, sz), 0);
		CHECK_INT(gh_merkle_verify_consistency(old, sz, r1, r2, proof, k), 0);
		if (k) {
			proof[k - 1][7] ^= 4;
			CHECK_INT(gh_merkle_verify_consistency(old, sz, r1, r2, proof, k), GH_EINVALID);
		}
		free(proof);
	}
	{
		gh_merkle_hash *proof = NULL;
		size_t k = 0;

		CHECK_INT(gh_merkle_inclusion(&proof, &k, s, 5, EVENTS + 1), GH_EINVALID);
		CHECK_INT(gh_merkle_inclusion(&proof, &k, s, 5, 5), GH_EINVALID);
		CHECK_INT(gh_merkle_consistency(&proof, &k, s, 0, 5), GH_EINVALID);
		CHECK_INT(gh_merkle_consistency(&proof, &k, s, 6, 5), GH_EINVALID);
		CHECK_INT(gh_merkle_consistency(&proof, &k, s, 5, EVENTS + 1), GH_EINVALID);
		CHECK(proof == NULL);
	}
	gh_store_read_end(s);
	free(leaves);
	gh_store_free(s);
}

static void test_merkle_store__rollback_keeps_tree(void)
{
	gh_store *s = open_log("rollback", 9, 4);
	gh_merkle_hash before, after;
	char why[256];
	int64_t leaves = 0;

	if (!s)
		return;
	gh_store_read_begin(s);
	CHECK_INT(gh_merkle_root(before, s, 9), 0);
	gh_store_read_end(s);
	CHECK_INT(gh_store_begin(s), 0);
	for (int i = 0; i < 7; i++)
		CHECK_INT(gh_audit_append(NULL, s, "a", "b", "c", "d", NULL), 0);
	gh_store_rollback(s);
	/* the next append must start from the committed frontier, not the rolled back one */
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_audit_append(NULL, s, "a", "b", "c", "d", NULL), 0);
	CHECK_INT(gh_store_commit(s), 0);
	gh_store_read_begin(s);
	CHECK_INT(gh_merkle_root(after, s, 9), 0);
	gh_store_read_end(s);
	CHECK(memcmp(before, after, sizeof(before)) == 0);
	CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), 0);
	CHECK_INT(leaves, 10);
	gh_store_free(s);
}

static void raw(gh_store *s, const char *sql)
{
	CHECK_INT(sf_exec(s, sql), 0);
}

/* Tampers a fresh log of 100 events; verify_all must name first_leaf. */
static void expect_tree_broken(const char *name, const char *sql, int64_t first_leaf,
			       const char *reason)
{
	gh_store *s = open_log(name, 100, 30);
	char why[256];
	int64_t leaves = -1;

	if (!s)
		return;
	CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), 0);
	CHECK_INT(leaves, 100);
	raw(s, sql);
	if (!CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), GH_EINVALID))
		fprintf(stderr, "  '%s' not detected\n", name);
	CHECK_INT(leaves, first_leaf);
	if (!CHECK(strstr(why, reason) != NULL))
		fprintf(stderr, "  '%s': %s\n", name, why);
	gh_store_free(s);
}

static void test_merkle_tamper__event_details(void)
{
	expect_tree_broken("t_details", "UPDATE audit_events SET details = '{\"n\":0}' WHERE seq = 38",
			   37, "leaf 37 does not match event 38");
}

static void test_merkle_tamper__leaf_hash(void)
{
	expect_tree_broken("t_leaf", "UPDATE audit_events SET leaf_hash = zeroblob(32) WHERE seq = 1",
			   0, "leaf 0 does not match");
}

static void test_merkle_tamper__node(void)
{
	expect_tree_broken("t_node", "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 5",
			   40, "node (level 3, index 5) does not match");
}

static void test_merkle_tamper__top_node(void)
{
	expect_tree_broken("t_top", "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 6 AND idx = 0",
			   0, "node (level 6, index 0)");
}

static void test_merkle_tamper__node_deleted(void)
{
	expect_tree_broken("t_delnode", "DELETE FROM merkle_nodes WHERE level = 3 AND idx = 7", 56,
			   "node (level 3, index 7) is missing");
}

static void test_merkle_tamper__extra_node(void)
{
	expect_tree_broken("t_extra", "INSERT INTO merkle_nodes VALUES (3, 12, zeroblob(32))", 100,
			   "nodes stored");
}

static void test_merkle_tamper__audit_verify_checks_the_tree(void)
{
	gh_store *s = open_log("t_verify", 50, 50);
	gh_audit_report r;

	if (!s)
		return;
	CHECK_INT(gh_audit_verify(&r, s), 0);
	CHECK_INT(r.events, 50);
	/* the chain is untouched: only the tree can tell */
	raw(s, "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 2");
	CHECK_INT(gh_audit_verify(&r, s), GH_EINVALID);
	CHECK_INT(r.bad_seq, 17);
	CHECK(strstr(r.reason, "level 3, index 2") != NULL);
	gh_store_free(s);
}

static void test_merkle_backfill__rebuilds_the_same_tree(void)
{
	gh_store *s = open_log("backfill", 77, 20);
	gh_merkle_hash before, after;
	char why[256];
	int64_t leaves = 0;

	if (!s)
		return;
	gh_store_read_begin(s);
	CHECK_INT(gh_merkle_root(before, s, 77), 0);
	gh_store_read_end(s);
	/* what migration 9 finds in a database from before it: events only */
	raw(s, "UPDATE audit_events SET leaf_hash = NULL; DELETE FROM merkle_nodes");
	CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), GH_EINVALID);
	CHECK_INT(sf_backfill(s), 0);
	CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), 0);
	gh_store_read_begin(s);
	CHECK_INT(gh_merkle_root(after, s, 77), 0);
	gh_store_read_end(s);
	CHECK(memcmp(before, after, sizeof(before)) == 0);
	/* appends continue from the rebuilt tree */
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_audit_append(NULL, s, "a", "b", "c", "d", NULL), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), 0);
	CHECK_INT(leaves, 78);
	gh_store_free(s);
}

static void test_merkle_verify_all__parallel_ranges(void)
{
	/* more than one worker's share, an odd size */
	gh_store *s = open_log("big", 40001, 10000);
	char why[256];
	int64_t leaves = 0;
	gh_audit_report r;

	if (!s)
		return;
	CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), 0);
	CHECK_INT(leaves, 40001);
	CHECK_INT(gh_audit_verify(&r, s), 0);
	raw(s, "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 4097");
	CHECK_INT(gh_merkle_verify_all(&leaves, s, why, sizeof(why)), GH_EINVALID);
	CHECK_INT(leaves, 32776);
	gh_store_free(s);
}

static void test_merkle_sha256__matches_libsodium(void)
{
	unsigned char buf[1100], a[32], b[32];
	int bad = 0;

	randombytes_buf(buf, sizeof(buf));
	/* every tail length around the one- and two-block paddings, and long inputs */
	for (size_t len = 0; len <= sizeof(buf); len += len < 300 ? 1 : 97) {
		gh_sha256(a, buf, len);
		crypto_hash_sha256(b, buf, len);
		if (memcmp(a, b, sizeof(a)) != 0 && bad++ < 3)
			fprintf(stderr, "  sha256 of %zu bytes differs\n", len);
	}
	CHECK_INT(bad, 0);
	fprintf(stderr, "  (SHA-NI %s)\n", gh_sha256_accelerated() ? "used" : "not available");
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"merkle_sha256__matches_libsodium", test_merkle_sha256__matches_libsodium},
		{"merkle_vectors__roots", test_merkle_vectors__roots},
		{"merkle_vectors__inclusion", test_merkle_vectors__inclusion},
		{"merkle_vectors__consistency", test_merkle_vectors__consistency},
		{"merkle_random__against_naive", test_merkle_random__against_naive},
		{"merkle_store__roots_and_proofs_match_naive", test_merkle_store__roots_and_proofs_match_naive},
		{"merkle_store__rollback_keeps_tree", test_merkle_store__rollback_keeps_tree},
		{"merkle_tamper__event_details", test_merkle_tamper__event_details},
		{"merkle_tamper__leaf_hash", test_merkle_tamper__leaf_hash},
		{"merkle_tamper__node", test_merkle_tamper__node},
		{"merkle_tamper__top_node", test_merkle_tamper__top_node},
		{"merkle_tamper__node_deleted", test_merkle_tamper__node_deleted},
		{"merkle_tamper__extra_node", test_merkle_tamper__extra_node},
		{"merkle_tamper__audit_verify_checks_the_tree", test_merkle_tamper__audit_verify_checks_the_tree},
		{"merkle_backfill__rebuilds_the_same_tree", test_merkle_backfill__rebuilds_the_same_tree},
		{"merkle_verify_all__parallel_ranges", test_merkle_verify_all__parallel_ranges},
		{NULL, NULL}};

	if (gh_init())
		return 2;
	return gh_test_run(cases, argc, argv);
}
