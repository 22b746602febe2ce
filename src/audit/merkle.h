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

#include "store/store.h"

#define GH_MERKLE_HASH_LEN 32

typedef unsigned char gh_merkle_hash[GH_MERKLE_HASH_LEN];

/* The leaf hash of one event (fields as stored: details is canonical JSON). */
void gh_merkle_leaf_hash(gh_merkle_hash out, int64_t seq, int64_t ts, const char *actor,
			 const char *action, const char *object_type, const char *object_id,
			 const char *details, size_t details_len);
/* SHA-256(0x01 || left || right) */
void gh_merkle_node_hash(gh_merkle_hash out, const gh_merkle_hash left,
			 const gh_merkle_hash right);

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

/* Internal to the audit module and the store (additive to the contract). */
/* Loads h->frontier for a tree of h->seq leaves (audit.c, with the head). */
int gh_merkle_load_frontier(gh_store *s, gh_store_head *h);
/* Adds leaf index h->seq - 1 (already stored with the event): writes the
 * subtrees it completes and moves the frontier. O(log n), no reads. */
int gh_merkle_append(gh_store *s, gh_store_head *h, const gh_merkle_hash leaf);
/* Registers gh_merkle_backfill() on a writer connection: fills the leaf
 * hashes and subtrees of an existing log (migration 9). */
int gh_merkle_sql_register(sqlite3 *db);

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
