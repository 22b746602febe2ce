/* merkle.h - the audit log as a Merkle tree (RFC 9162, section 2.1), so that
 * anyone holding a signed checkpoint can check that an event is in the log
 * (inclusion) and that the log only grew (consistency), without trusting
 * whoever runs Gatehouse.
 *
 * Leaf i (0-based) is the audit event with seq i + 1. Its leaf hash is
 *   SHA-256(0x00 || encoding(event))
 * where encoding(event) is the chain's canonical encoding without the
 * previous hash (audit.h): u64be(seq) || i64be(ts) || lp(actor) || lp(action)
 * || lp(object_type) || lp(object_id) || lp(details). An interior node is
 * SHA-256(0x01 || left || right); the root of an empty tree is SHA-256("").
 * The tree is maintained by gh_audit_append in the same transaction as the
 * event, O(log n) per append.
 *
 * Conventions: 0 or a GH_E* code with gh_error_last() set; store functions
 * run inside a read section or transaction of s. Proofs are malloc'd arrays
 * of hashes the caller frees. */
#ifndef GH_MERKLE_H
#define GH_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/loghash.h"
#include "store/store.h"

/* GH_MERKLE_HASH_LEN, gh_merkle_hash, gh_merkle_leaf_hash and
 * gh_merkle_node_hash are common/loghash.h's. */

/* Leaves in the tree now (= the number of audit events). */
int gh_merkle_size(int64_t *out, gh_store *s);
/* The root hash of the first size leaves (0 <= size <= current size). */
int gh_merkle_root(gh_merkle_hash out, gh_store *s, int64_t size);
/* The leaf hash of leaf index as stored. */
int gh_merkle_leaf(gh_merkle_hash out, gh_store *s, int64_t index);
/* RFC 9162 2.1.3: the inclusion proof of leaf index in the tree of size
 * leaves (index < size <= current size). GH_EINVALID naming the bad one. */
int gh_merkle_inclusion(gh_merkle_hash **out, size_t *n, gh_store *s, int64_t index,
			int64_t size);
/* RFC 9162 2.1.4: the consistency proof from old_size to new_size leaves
 * (0 < old_size <= new_size <= current size). */
int gh_merkle_consistency(gh_merkle_hash **out, size_t *n, gh_store *s, int64_t old_size,
			  int64_t new_size);

/* Verifiers (RFC 9162 2.1.3.2 and 2.1.4.2), pure: no store. 0 when the proof
 * proves the claim, GH_EINVALID (with a message saying what does not hold)
 * when not. */
int gh_merkle_verify_inclusion(const gh_merkle_hash leaf, int64_t index, int64_t size,
			       const gh_merkle_hash *proof, size_t n, const gh_merkle_hash root);
int gh_merkle_verify_consistency(int64_t old_size, int64_t new_size, const gh_merkle_hash old_root,
				 const gh_merkle_hash new_root, const gh_merkle_hash *proof,
				 size_t n);

/* Recomputes every leaf hash from the stored events and every stored node,
 * and the root, in parallel ranges; 0 when all agree, GH_EINVALID naming the
 * first leaf/node that does not (used by `audit verify`). *out_leaves is the
 * number of leaves checked, or on GH_EINVALID the index of the first leaf
 * under what is wrong; why says what. */
int gh_merkle_verify_all(int64_t *out_leaves, gh_store *s, char *why, size_t whylen);

/* Internal to the audit module: the tree's right edge (frontier[l] is the
 * complete subtree of 2^l leaves ending the tree when bit l of size is set,
 * GH_MERKLE_MAX_LEVELS entries) as the chain's head keeps it (audit.c). */
/* Loads the frontier of a tree of size leaves. */
int gh_merkle_load_frontier(gh_store *s, int64_t size, gh_merkle_hash *frontier);
/* Adds leaf size - 1 (already stored with its event): writes the subtrees
 * it completes and moves the frontier. O(log n), no reads. */
int gh_merkle_append(gh_store *s, int64_t size, gh_merkle_hash *frontier, const gh_merkle_hash leaf);

/* The proof algorithms over any node source, for tests and tools:
 * get(out, level, index, ctx) yields the complete subtree at level (leaf
 * hashes at level 0). */
typedef int (*gh_merkle_get_fn)(gh_merkle_hash out, int level, int64_t index, void *ctx);
int gh_merkle_root_with(gh_merkle_hash out, gh_merkle_get_fn get, void *ctx, int64_t size);
int gh_merkle_inclusion_with(gh_merkle_hash **out, size_t *n, gh_merkle_get_fn get, void *ctx,
			     int64_t index, int64_t size);
int gh_merkle_consistency_with(gh_merkle_hash **out, size_t *n, gh_merkle_get_fn get, void *ctx,
			       int64_t old_size, int64_t new_size);

#endif
