/* events.c - reading the audit log's events (store/events.h). */
#include "store/events.h"
#include "store/sql.h"
#include "common/util.h"

#define EVENT_COLS "seq, ts, actor, action, object_type, object_id, details, prev_hash, hash"
#define HASH_LEN 32

static void hex_column(char out[2 * HASH_LEN + 1], gh_sql *q, int col)
{
	size_t n;
	const void *p = gh_sql_column_blob(q, col, &n);

	out[0] = '\0';
	if (p && n == HASH_LEN)
		gh_hex(out, p, HASH_LEN);
}

static json_t *event_json(gh_sql *q)
{
	char prev[2 * HASH_LEN + 1], hash[2 * HASH_LEN + 1], when[40];
	int64_t ts = gh_sql_column_int64(q, 1);

	hex_column(prev, q, 7);
	hex_column(hash, q, 8);
	gh_time_format(when, sizeof(when), ts / 1000000);
	return json_pack("{s:I, s:s, s:I, s:s?, s:s?, s:s?, s:s?, s:o, s:s, s:s}",
			 "seq", (json_int_t)gh_sql_column_int64(q, 0), "time", when,
			 "ts_us", (json_int_t)ts, "actor", gh_sql_column_text(q, 2),
			 "action", gh_sql_column_text(q, 3),
			 "object_type", gh_sql_column_text(q, 4),
			 "object_id", gh_sql_column_text(q, 5),
			 "details", gh_sql_json_column(q, 6, 0), "prev_hash", prev, "hash", hash);
}

int gh_store_events_page(json_t **items, gh_store *s, int64_t after_seq, int limit,
			 const char *object_id)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	/* two statements so each can use its index */
	if (object_id)
		rc = gh_sql_prepare(&q, s, "SELECT " EVENT_COLS " FROM audit_events"
					   " WHERE object_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2");
	else
		rc = gh_sql_prepare(&q, s, "SELECT " EVENT_COLS " FROM audit_events"
					   " WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (rc)
		return rc;
	gh_sql_bind_int64(q, 1, after_seq);
	gh_sql_bind_int(q, 2, limit);
	if (object_id)
		gh_sql_bind_text(q, 3, object_id);
	return gh_sql_rows(items, q, event_json, "the audit log");
}

int gh_store_events_about(json_t **items, gh_store *s, const char *id1, const char *id2)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " EVENT_COLS " FROM audit_events"
					" WHERE object_id IN (?1, ?2) ORDER BY seq")))
		return rc;
	gh_sql_bind_text(q, 1, id1);
	gh_sql_bind_text(q, 2, id2);
	return gh_sql_rows(items, q, event_json, "an object's history");
}
