/* loghash.h - the audit log's hash formats, pure: an event's chain hash and
 * its RFC 9162 leaf hash, the tree's node hash, and the tree's right edge
 * as it grows. Shared by the audit module (appending, proofs, verification)
 * and the store (building the tree of a log written before it existed), so
 * that neither depends on the other for them (docs/internals/audit.md).
 *
 * An event's encoding is
 *   u64be(seq) || i64be(ts) || lp(actor) || lp(action) || lp(object_type) ||
 *   lp(object_id) || lp(details)
 * where lp(x) = u32be(len(x)) || x and details is canonical JSON. Its chain
 * hash is SHA-256(prev || encoding) (hash_0 is 32 zero bytes), its leaf hash
 * SHA-256(0x00 || encoding), an interior node SHA-256(0x01 || left || right)
 * (RFC 9162, section 2.1.1). */
#ifndef GH_LOGHASH_H
#define GH_LOGHASH_H

#include <stddef.h>
#include <stdint.h>

#define GH_AUDIT_HASH_LEN 32
#define GH_MERKLE_HASH_LEN 32
#define GH_MERKLE_MAX_LEVELS 64
/* Subtrees of fewer than 2^GH_MERKLE_MIN_STORED leaves are not stored: they
 * are hashed from the leaves when needed (one short range read), which saves
 * 7 of every 8 node rows an append would write. */
#define GH_MERKLE_MIN_STORED 3

typedef unsigned char gh_merkle_hash[GH_MERKLE_HASH_LEN];

/* Both hashes of one event from one encoding: the chain hash after prev
 * (chain may be NULL) and the leaf hash (leaf may be NULL). */
void gh_audit_hashes(unsigned char chain[GH_AUDIT_HASH_LEN], unsigned char leaf[GH_AUDIT_HASH_LEN],
		     const unsigned char prev[GH_AUDIT_HASH_LEN], int64_t seq, int64_t ts,
		     const char *actor, const char *action, const char *object_type,
		     const char *object_id, const char *details, size_t details_len);
/* The chain hash alone. */
void gh_audit_hash(unsigned char out[GH_AUDIT_HASH_LEN], const unsigned char prev[GH_AUDIT_HASH_LEN],
		   int64_t seq, int64_t ts, const char *actor, const char *action,
		   const char *object_type, const char *object_id, const char *details,
		   size_t details_len);
/* The leaf hash alone. */
void gh_merkle_leaf_hash(gh_merkle_hash out, int64_t seq, int64_t ts, const char *actor,
			 const char *action, const char *object_type, const char *object_id,
			 const char *details, size_t details_len);
/* SHA-256(0x01 || left || right) */
void gh_merkle_node_hash(gh_merkle_hash out, const gh_merkle_hash left,
			 const gh_merkle_hash right);

/* The right edge of a tree being built leaf by leaf (or by complete
 * subtrees): f[l] is the complete subtree of 2^l leaves ending it when bit l
 * of count is set. node (may be NULL) is told of every node completed at a
 * level >= 1; a non-zero return stops the push and is returned. */
typedef struct gh_merkle_builder {
	int64_t count;                        /* leaves pushed (global position) */
	int cap;                              /* no node above this level */
	gh_merkle_hash f[GH_MERKLE_MAX_LEVELS];
	int (*node)(struct gh_merkle_builder *b, int level, int64_t idx, const gh_merkle_hash h);
	void *ctx;
} gh_merkle_builder;

/* Pushes a complete subtree of 2^level leaves at the builder's right edge. */
int gh_merkle_builder_push(gh_merkle_builder *b, int level, const gh_merkle_hash h);
/* The root of everything pushed into a builder that started at 0. */
void gh_merkle_builder_root(gh_merkle_hash out, const gh_merkle_builder *b);

#endif
