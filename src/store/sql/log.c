/* log.c - the audit log's rows: events, the head, the Merkle tree's nodes
 * (store/log.h). */
#include "store/log.h"
#include "store/sql.h"
#include "common/error.h"
#include "common/loghash.h"

#include <string.h>

#define HASH_LEN GH_STORE_LOG_HASH_LEN

/* A hash column, or NULL when it is not HASH_LEN bytes. */
static const unsigned char *hash_column(gh_sql *q, int col)
{
	size_t n;
	const void *p = gh_sql_column_blob(q, col, &n);

	return p && n == HASH_LEN ? p : NULL;
}

int gh_store_log_append(gh_store *s, const gh_store_log_event *ev)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "INSERT INTO audit_events(seq, ts, actor, action,"
					" object_type, object_id, details, prev_hash, hash, leaf_hash)"
					" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")))
		return rc;
	gh_sql_bind_int64(q, 1, ev->seq);
	gh_sql_bind_int64(q, 2, ev->ts);
	gh_sql_bind_text(q, 3, ev->actor);
	gh_sql_bind_text(q, 4, ev->action);
	gh_sql_bind_text(q, 5, ev->object_type);
	gh_sql_bind_text(q, 6, ev->object_id);
	gh_sql_bind_text(q, 7, ev->details);
	gh_sql_bind_blob(q, 8, ev->prev_hash, HASH_LEN);
	gh_sql_bind_blob(q, 9, ev->hash, HASH_LEN);
	gh_sql_bind_blob(q, 10, ev->leaf_hash, HASH_LEN);
	return gh_sql_step_done(q, "appending an audit event");
}

#define HEAD_SQL "SELECT seq, hash FROM audit_head WHERE one = 1"

/* Steps q, a head query: the head into seq and hash (may be NULL). */
static int head_row(int *found, int64_t *seq, unsigned char *hash, gh_sql *q)
{
	const unsigned char *h;
	int rc = 0;

	*found = 0;
	*seq = 0;
	if (hash)
		memset(hash, 0, HASH_LEN);
	switch (gh_sql_step(q)) {
	case GH_SQL_ROW:
		*found = 1;
		*seq = gh_sql_column_int64(q, 0);
		if (hash && (h = hash_column(q, 1)))
			memcpy(hash, h, HASH_LEN);
		break;
	case GH_SQL_DONE:
		break;              /* an empty log */
	default:
		rc = gh_sql_fail(q, "reading the audit head");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_log_head(int *found, int64_t *seq, unsigned char *hash, gh_store *s)
{
	gh_sql *q;
	int rc;

	*found = 0;
	*seq = 0;
	if (hash)
		memset(hash, 0, HASH_LEN);
	if ((rc = gh_sql_prepare(&q, s, HEAD_SQL)))
		return rc;
	return head_row(found, seq, hash, q);
}

int gh_store_log_head_for_append(int *found, int64_t *seq, unsigned char *hash, gh_store *s)
{
	gh_sql *q;
	int rc;

	/* dialect: on PostgreSQL other nodes append too. FOR UPDATE waits for
	 * the one appending now and then reads the head it committed (READ
	 * COMMITTED re-reads a row it waited for); SQLite's write lock already
	 * serialises every writer. */
	if ((rc = gh_sql_prepare_dialect(&q, s, HEAD_SQL, HEAD_SQL " FOR UPDATE")) ||
	    (rc = head_row(found, seq, hash, q)) || *found ||
	    gh_sql_dialect(s) != GH_SQL_POSTGRESQL)
		return rc;
	/* an empty log has no row to lock: its first appenders queue on a lock
	 * held until their transaction ends, then look again */
	if ((rc = gh_sql_prepare(&q, s, "SELECT pg_advisory_xact_lock(4747002)")) ||
	    (rc = gh_sql_step(q) == GH_SQL_FAIL ? gh_sql_fail(q, "locking the audit log") : 0))
		return rc;
	gh_sql_reset(q);
	if ((rc = gh_sql_prepare(&q, s, HEAD_SQL " FOR UPDATE")))
		return rc;
	return head_row(found, seq, hash, q);
}

int gh_store_log_set_head(gh_store *s, int64_t seq, const unsigned char *hash)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "INSERT INTO audit_head(one, seq, hash) VALUES (1, ?1, ?2)"
					" ON CONFLICT (one) DO UPDATE SET seq = excluded.seq,"
					" hash = excluded.hash")))
		return rc;
	gh_sql_bind_int64(q, 1, seq);
	gh_sql_bind_blob(q, 2, hash, HASH_LEN);
	return gh_sql_step_done(q, "moving the audit head");
}

int gh_store_log_last_seq(int64_t *out, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = 0;
	if ((rc = gh_sql_prepare(&q, s, "SELECT coalesce(max(seq), 0) FROM audit_events")))
		return rc;
	if (gh_sql_step(q) == GH_SQL_ROW)
		*out = gh_sql_column_int64(q, 0);
	else
		rc = gh_sql_fail(q, "reading the audit log's length");
	gh_sql_reset(q);
	return rc;
}

int gh_store_log_scan(gh_store *s, int64_t first, int64_t last,
		      int (*fn)(void *ctx, const gh_store_log_event *ev), void *ctx)
{
	gh_store_log_event ev;
	gh_sql *q;
	int rc, step;

	if ((rc = gh_sql_prepare(&q, s, "SELECT seq, ts, actor, action, object_type, object_id,"
					" details, prev_hash, hash, leaf_hash FROM audit_events"
					" WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq")))
		return rc;
	gh_sql_bind_int64(q, 1, first);
	gh_sql_bind_int64(q, 2, last);
	while ((step = gh_sql_step(q)) == GH_SQL_ROW) {
		ev.seq = gh_sql_column_int64(q, 0);
		ev.ts = gh_sql_column_int64(q, 1);
		ev.actor = gh_sql_column_text(q, 2);
		ev.action = gh_sql_column_text(q, 3);
		ev.object_type = gh_sql_column_text(q, 4);
		ev.object_id = gh_sql_column_text(q, 5);
		ev.details = gh_sql_column_text(q, 6);
		/* the stored bytes, not strlen: a NUL hidden in the text still counts */
		gh_sql_column_blob(q, 6, &ev.details_len);
		ev.prev_hash = hash_column(q, 7);
		ev.hash = hash_column(q, 8);
		ev.leaf_hash = hash_column(q, 9);
		if (!ev.actor || !ev.action || !ev.object_type || !ev.object_id || !ev.details) {
			rc = gh_error_set(GH_ERROR, "reading audit events: event %lld has an empty"
					  " column", (long long)ev.seq);
			break;
		}
		if ((rc = fn(ctx, &ev)))
			break;
	}
	if (!rc && step != GH_SQL_DONE)
		rc = gh_sql_fail(q, "reading audit events");
	gh_sql_reset(q);
	return rc;
}

int gh_store_log_leaves(unsigned char (*out)[HASH_LEN], int *count, gh_store *s,
			int64_t first_seq, int max)
{
	const unsigned char *h;
	gh_sql *q;
	int rc, step;

	*count = 0;
	if ((rc = gh_sql_prepare(&q, s, "SELECT seq, leaf_hash FROM audit_events"
					" WHERE seq >= ?1 AND seq < ?2 ORDER BY seq")))
		return rc;
	gh_sql_bind_int64(q, 1, first_seq);
	gh_sql_bind_int64(q, 2, first_seq + max);
	while ((step = gh_sql_step(q)) == GH_SQL_ROW && *count < max &&
	       gh_sql_column_int64(q, 0) == first_seq + *count && (h = hash_column(q, 1)))
		memcpy(out[(*count)++], h, HASH_LEN);
	if (step == GH_SQL_FAIL)
		rc = gh_sql_fail(q, "reading the Merkle tree");
	gh_sql_reset(q);
	return rc;
}

int gh_store_log_node(unsigned char *out, gh_store *s, int level, int64_t idx)
{
	const unsigned char *h;
	gh_sql *q;
	int rc, step;

	if ((rc = gh_sql_prepare(&q, s, "SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2")))
		return rc;
	gh_sql_bind_int(q, 1, level);
	gh_sql_bind_int64(q, 2, idx);
	step = gh_sql_step(q);
	if (step == GH_SQL_FAIL)
		rc = gh_sql_fail(q, "reading the Merkle tree");
	else if (step == GH_SQL_ROW && (h = hash_column(q, 0)))
		memcpy(out, h, HASH_LEN);
	else    /* none, or a damaged one */
		rc = gh_error_set(GH_ENOTFOUND, "the Merkle tree has no node at level %d, index %lld",
				  level, (long long)idx);
	gh_sql_reset(q);
	return rc;
}

int gh_store_log_put_node(gh_store *s, int level, int64_t idx, const unsigned char *hash)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "INSERT INTO merkle_nodes(level, idx, hash) VALUES (?1, ?2, ?3)")))
		return rc;
	gh_sql_bind_int(q, 1, level);
	gh_sql_bind_int64(q, 2, idx);
	gh_sql_bind_blob(q, 3, hash, HASH_LEN);
	return gh_sql_step_done(q, "storing a Merkle node");
}

int gh_store_log_nodes(int64_t *idx, unsigned char (*hash)[HASH_LEN], int *count, gh_store *s,
		       int level, int64_t from, int64_t to, int max)
{
	const unsigned char *h;
	gh_sql *q;
	int rc, step;

	*count = 0;
	if ((rc = gh_sql_prepare(&q, s, "SELECT idx, hash FROM merkle_nodes WHERE level = ?1"
					" AND idx >= ?2 AND idx < ?3 ORDER BY idx LIMIT ?4")))
		return rc;
	gh_sql_bind_int(q, 1, level);
	gh_sql_bind_int64(q, 2, from);
	gh_sql_bind_int64(q, 3, to);
	gh_sql_bind_int(q, 4, max);
	while (*count < max && (step = gh_sql_step(q)) == GH_SQL_ROW) {
		idx[*count] = gh_sql_column_int64(q, 0);
		if ((h = hash_column(q, 1)))
			memcpy(hash[*count], h, HASH_LEN);
		else
			memset(hash[*count], 0, HASH_LEN);
		(*count)++;
	}
	if (*count < max && step == GH_SQL_FAIL)
		rc = gh_sql_fail(q, "reading the Merkle tree");
	gh_sql_reset(q);
	return rc;
}

int gh_store_log_count_nodes(int64_t *out, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = 0;
	if ((rc = gh_sql_prepare(&q, s, "SELECT count(*) FROM merkle_nodes")))
		return rc;
	if (gh_sql_step(q) == GH_SQL_ROW)
		*out = gh_sql_column_int64(q, 0);
	else
		rc = gh_sql_fail(q, "counting Merkle nodes");
	gh_sql_reset(q);
	return rc;
}

/* ---- the tree of an existing log (migration 9) ---- */

static int backfill_node(gh_merkle_builder *b, int level, int64_t idx, const gh_merkle_hash h)
{
	if (level < GH_MERKLE_MIN_STORED)
		return 0;
	return gh_store_log_put_node(b->ctx, level, idx, h);
}

typedef struct backfill {
	gh_store *s;
	gh_merkle_builder b;
} backfill;

static int backfill_event(void *ctx, const gh_store_log_event *ev)
{
	backfill *bf = ctx;
	gh_merkle_hash leaf;
	gh_sql *q;
	int rc;

	gh_merkle_leaf_hash(leaf, ev->seq, ev->ts, ev->actor, ev->action, ev->object_type,
			    ev->object_id, ev->details, ev->details_len);
	if ((rc = gh_sql_prepare(&q, bf->s, "UPDATE audit_events SET leaf_hash = ?1 WHERE seq = ?2")))
		return rc;
	gh_sql_bind_blob(q, 1, leaf, HASH_LEN);
	gh_sql_bind_int64(q, 2, ev->seq);
	if ((rc = gh_sql_step_done(q, "storing a leaf hash")))
		return rc;
	return gh_merkle_builder_push(&bf->b, 0, leaf);
}

int gh_store_log_backfill(int64_t *leaves, gh_store *s)
{
	backfill bf;
	int rc;

	memset(&bf, 0, sizeof(bf));
	bf.s = s;
	bf.b.cap = GH_MERKLE_MAX_LEVELS - 1;
	bf.b.node = backfill_node;
	bf.b.ctx = s;
	*leaves = 0;
	if ((rc = gh_store_log_scan(s, INT64_MIN, INT64_MAX, backfill_event, &bf)))
		return rc;
	*leaves = bf.b.count;
	return 0;
}
