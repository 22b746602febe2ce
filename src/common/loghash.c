/* loghash.c - the audit log's hash formats (loghash.h): chain, leaf and node
 * hashes and the tree's right edge. */
#include "common/loghash.h"
#include "common/sha256.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void put_u64(unsigned char *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

static void update_lp(crypto_hash_sha256_state *st, const char *s, size_t len)
{
	unsigned char n[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
			      (unsigned char)(len >> 8), (unsigned char)len};

	crypto_hash_sha256_update(st, n, 4);
	crypto_hash_sha256_update(st, (const unsigned char *)s, len);
}

/* The streaming form, for an event too large for one buffer when memory is short. */
static void hash_stream(unsigned char out[GH_AUDIT_HASH_LEN], const unsigned char *prefix,
			size_t prefix_len, int64_t seq, int64_t ts, const char *actor,
			const char *action, const char *object_type, const char *object_id,
			const char *details, size_t details_len)
{
	crypto_hash_sha256_state st;
	unsigned char nums[16];

	put_u64(nums, (uint64_t)seq);
	put_u64(nums + 8, (uint64_t)ts);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prefix, prefix_len);
	crypto_hash_sha256_update(&st, nums, sizeof(nums));
	update_lp(&st, actor, strlen(actor));
	update_lp(&st, action, strlen(action));
	update_lp(&st, object_type, strlen(object_type));
	update_lp(&st, object_id, strlen(object_id));
	update_lp(&st, details, details_len);
	crypto_hash_sha256_final(&st, out);
}

static unsigned char *put_lp(unsigned char *p, const char *s, size_t len)
{
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	memcpy(p + 4, s, len);
	return p + 4 + len;
}

void gh_audit_hashes(unsigned char chain[GH_AUDIT_HASH_LEN], unsigned char leaf[GH_AUDIT_HASH_LEN],
		     const unsigned char prev[GH_AUDIT_HASH_LEN], int64_t seq, int64_t ts,
		     const char *actor, const char *action, const char *object_type,
		     const char *object_id, const char *details, size_t details_len)
{
	static const unsigned char zero = 0x00;
	size_t la = strlen(actor), lc = strlen(action), lt = strlen(object_type),
	       li = strlen(object_id);
	size_t len = GH_AUDIT_HASH_LEN + 16 + 20 + la + lc + lt + li + details_len;
	unsigned char stack[1024], *buf = len <= sizeof(stack) ? stack : malloc(len), *p;

	if (!buf) {
		if (chain)
			hash_stream(chain, prev, GH_AUDIT_HASH_LEN, seq, ts, actor, action,
				    object_type, object_id, details, details_len);
		if (leaf)
			hash_stream(leaf, &zero, 1, seq, ts, actor, action, object_type, object_id,
				    details, details_len);
		return;
	}
	/* the encoding once, after a slot for the previous hash or the 0x00 */
	p = buf + GH_AUDIT_HASH_LEN;
	put_u64(p, (uint64_t)seq);
	put_u64(p + 8, (uint64_t)ts);
	p = put_lp(p + 16, actor, la);
	p = put_lp(p, action, lc);
	p = put_lp(p, object_type, lt);
	p = put_lp(p, object_id, li);
	put_lp(p, details, details_len);
	if (chain) {
		memcpy(buf, prev, GH_AUDIT_HASH_LEN);
		gh_sha256(chain, buf, len);
	}
	if (leaf) {
		buf[GH_AUDIT_HASH_LEN - 1] = 0x00;
		gh_sha256(leaf, buf + GH_AUDIT_HASH_LEN - 1, len - GH_AUDIT_HASH_LEN + 1);
	}
	if (buf != stack)
		free(buf);
}

void gh_audit_hash(unsigned char out[GH_AUDIT_HASH_LEN], const unsigned char prev[GH_AUDIT_HASH_LEN],
		   int64_t seq, int64_t ts, const char *actor, const char *action,
		   const char *object_type, const char *object_id, const char *details,
		   size_t details_len)
{
	gh_audit_hashes(out, NULL, prev, seq, ts, actor, action, object_type, object_id, details,
			details_len);
}

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

/* ---- the right edge ---- */

int gh_merkle_builder_push(gh_merkle_builder *b, int level, const gh_merkle_hash h)
{
	int64_t idx = b->count >> level;
	gh_merkle_hash cur;
	int l = level, rc;

	memcpy(cur, h, sizeof(cur));
	while ((idx & 1) && l < b->cap) {
		gh_merkle_node_hash(cur, b->f[l], cur);
		idx >>= 1;
		l++;
		if (b->node && (rc = b->node(b, l, idx, cur)))
			return rc;
	}
	memcpy(b->f[l], cur, sizeof(cur));
	b->count += (int64_t)1 << level;
	return 0;
}

void gh_merkle_builder_root(gh_merkle_hash out, const gh_merkle_builder *b)
{
	int have = 0;

	if (b->count == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	for (int l = 0; l < GH_MERKLE_MAX_LEVELS; l++) {
		if (!((b->count >> l) & 1))
			continue;
		if (have)
			gh_merkle_node_hash(out, b->f[l], out);
		else
			memcpy(out, b->f[l], GH_MERKLE_HASH_LEN);
		have = 1;
	}
}
