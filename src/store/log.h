/* log.h - the audit log's rows (the store's typed operations): events as the
 * chain stores them, the head row, and the Merkle tree's stored nodes. The
 * audit module decides what they hold (hashes, which nodes are stored); the
 * store only keeps and reads them. Reading events as the API shows them is
 * store/events.h.
 *
 * Hashes are GH_STORE_LOG_HASH_LEN bytes. Writes run inside the caller's
 * write (gh_store_begin); reads inside a read section or a write. */
#ifndef GH_STORE_LOG_H
#define GH_STORE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define GH_STORE_LOG_HASH_LEN 32

/* One event row. Text is borrowed: what a read hands over is valid only
 * during the callback. A hash that is not GH_STORE_LOG_HASH_LEN bytes (or
 * NULL in the row) reads as NULL. */
typedef struct gh_store_log_event {
	int64_t seq;
	int64_t ts;                          /* microseconds since the epoch */
	const char *actor, *action, *object_type, *object_id;
	const char *details;                 /* canonical JSON */
	size_t details_len;
	const unsigned char *prev_hash;      /* the chain's previous hash */
	const unsigned char *hash;           /* the chain's hash of this event */
	const unsigned char *leaf_hash;      /* its Merkle leaf hash */
} gh_store_log_event;

/* Inserts one event (every field set; the hashes as computed by the caller).
 * GH_ECONFLICT when seq exists. */
int gh_store_log_append(gh_store *s, const gh_store_log_event *ev);

/* The head row: *found 0 (seq 0, hash zeros) when the log has none yet. hash
 * may be NULL. */
int gh_store_log_head(int *found, int64_t *seq, unsigned char *hash, gh_store *s);
/* The head row as gh_store_log_head, for the first append of a write: on
 * PostgreSQL it also locks the head until the transaction ends (other nodes'
 * appends wait for it, then read the head this one wrote), and serialises
 * the very first appends of an empty log too. Inside a write only. */
int gh_store_log_head_for_append(int *found, int64_t *seq, unsigned char *hash, gh_store *s);
/* Writes the head row (one row, replaced). */
int gh_store_log_set_head(gh_store *s, int64_t seq, const unsigned char *hash);
/* The highest stored sequence number, 0 for an empty log. */
int gh_store_log_last_seq(int64_t *out, gh_store *s);

/* Calls fn for every event with first <= seq <= last, in sequence order; a
 * non-zero return from fn stops the scan and is returned (its error left as
 * fn set it). fn must not call gh_store_log_scan itself. */
int gh_store_log_scan(gh_store *s, int64_t first, int64_t last,
		      int (*fn)(void *ctx, const gh_store_log_event *ev), void *ctx);

/* The leaf hashes of events first_seq, first_seq + 1, ... (at most max) into
 * out; *count stops before the first missing event or missing leaf hash. */
int gh_store_log_leaves(unsigned char (*out)[GH_STORE_LOG_HASH_LEN], int *count, gh_store *s,
			int64_t first_seq, int max);

/* The stored Merkle node (level, idx): GH_ENOTFOUND when there is none (or
 * its hash is not GH_STORE_LOG_HASH_LEN bytes). */
int gh_store_log_node(unsigned char *out, gh_store *s, int level, int64_t idx);
/* Stores node (level, idx). GH_ECONFLICT when it exists. */
int gh_store_log_put_node(gh_store *s, int level, int64_t idx, const unsigned char *hash);
/* The stored nodes of level with from <= idx < to, in idx order, at most
 * max: their indexes into idx[] and hashes into hash[] (a hash of the wrong
 * length reads as zeros: the caller compares it). */
int gh_store_log_nodes(int64_t *idx, unsigned char (*hash)[GH_STORE_LOG_HASH_LEN], int *count,
		       gh_store *s, int level, int64_t from, int64_t to, int max);
/* How many nodes are stored. */
int gh_store_log_count_nodes(int64_t *out, gh_store *s);

/* Fills the leaf hashes and the stored nodes (levels >= GH_MERKLE_MIN_STORED,
 * common/loghash.h) of a log written before the tree existed, over the rows
 * as they are; *leaves the number of events. Inside a write or a migration. */
int gh_store_log_backfill(int64_t *leaves, gh_store *s);

#endif
