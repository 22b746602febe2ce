/* merkle_stub.c - TEMPORARY - deleted when h-M merges. A naive stand-in for
 * gh_merkle_size/gh_merkle_root (recomputed from the stored events on every
 * call) so that branch h-S builds and tests checkpoints; src/audit/merkle.c
 * from h-M replaces it. */
#include "audit/merkle.h"
#include "common/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void put_be(unsigned char *b, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

static void update_lp(crypto_hash_sha256_state *st, const char *s, size_t len)
{
	unsigned char n[4];

	put_be(n, len, 4);
	crypto_hash_sha256_update(st, n, 4);
	crypto_hash_sha256_update(st, (const unsigned char *)s, len);
}

void gh_merkle_leaf_hash(gh_merkle_hash out, int64_t seq, int64_t ts, const char *actor,
			 const char *action, const char *object_type, const char *object_id,
			 const char *details, size_t details_len)
{
	crypto_hash_sha256_state st;
	unsigned char b[17] = {0x00};

	put_be(b + 1, (uint64_t)seq, 8);
	put_be(b + 9, (uint64_t)ts, 8);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, b, sizeof(b));
	update_lp(&st, actor, strlen(actor));
	update_lp(&st, action, strlen(action));
	update_lp(&st, object_type, strlen(object_type));
	update_lp(&st, object_id, strlen(object_id));
	update_lp(&st, details, details_len);
	crypto_hash_sha256_final(&st, out);
}

void gh_merkle_node_hash(gh_merkle_hash out, const gh_merkle_hash left, const gh_merkle_hash right)
{
	crypto_hash_sha256_state st;
	unsigned char one = 0x01;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &one, 1);
	crypto_hash_sha256_update(&st, left, GH_MERKLE_HASH_LEN);
	crypto_hash_sha256_update(&st, right, GH_MERKLE_HASH_LEN);
	crypto_hash_sha256_final(&st, out);
}

int gh_merkle_size(int64_t *out, gh_store *s)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = gh_store_stmt(&st, s, "SELECT coalesce(max(seq), 0) FROM audit_events")))
		return rc;
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : gh_store_fail(s, "counting audit events");
	if (!rc)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

/* RFC 9162 2.1.1 MTH, recursively over leaves[0..n) */
static void mth(gh_merkle_hash out, gh_merkle_hash *leaves, int64_t n)
{
	gh_merkle_hash l, r;
	int64_t k = 1;

	if (n == 1) {
		memcpy(out, leaves[0], GH_MERKLE_HASH_LEN);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(l, leaves, k);
	mth(r, leaves + k, n - k);
	gh_merkle_node_hash(out, l, r);
}

int gh_merkle_root(gh_merkle_hash out, gh_store *s, int64_t size)
{
	gh_merkle_hash *leaves = NULL;
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc, step;

	if (size == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return 0;
	}
	if (size < 0 || !(leaves = malloc((size_t)size * sizeof(*leaves))))
		return gh_error_set(GH_ERROR, "merkle stub: bad size or out of memory");
	if ((rc = gh_store_stmt(&st, s, "SELECT seq, ts, actor, action, object_type, object_id,"
					" details FROM audit_events WHERE seq <= ? ORDER BY seq")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, size);
	while (n < size && (step = sqlite3_step(st)) == SQLITE_ROW)
		gh_merkle_leaf_hash(leaves[n++], sqlite3_column_int64(st, 0),
				    sqlite3_column_int64(st, 1),
				    (const char *)sqlite3_column_text(st, 2),
				    (const char *)sqlite3_column_text(st, 3),
				    (const char *)sqlite3_column_text(st, 4),
				    (const char *)sqlite3_column_text(st, 5),
				    (const char *)sqlite3_column_text(st, 6),
				    (size_t)sqlite3_column_bytes(st, 6));
	sqlite3_reset(st);
	if (n != size) {
		rc = gh_error_set(GH_EINVALID, "size %lld is past the tree (%lld leaves)",
				  (long long)size, (long long)n);
		goto cleanup;
	}
	mth(out, leaves, n);
cleanup:
	free(leaves);
	return rc;
}
