/* audit.c - appending to and verifying the hash-chained audit log. */
#include "audit/audit.h"
#include "common/error.h"
#include "common/jsonv.h"
#include "common/util.h"

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

void gh_audit_hash(unsigned char out[GH_AUDIT_HASH_LEN], const unsigned char prev[GH_AUDIT_HASH_LEN],
		   int64_t seq, int64_t ts, const char *actor, const char *action,
		   const char *object_type, const char *object_id, const char *details,
		   size_t details_len)
{
	crypto_hash_sha256_state st;
	unsigned char nums[16];

	put_u64(nums, (uint64_t)seq);
	put_u64(nums + 8, (uint64_t)ts);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prev, GH_AUDIT_HASH_LEN);
	crypto_hash_sha256_update(&st, nums, sizeof(nums));
	update_lp(&st, actor, strlen(actor));
	update_lp(&st, action, strlen(action));
	update_lp(&st, object_type, strlen(object_type));
	update_lp(&st, object_id, strlen(object_id));
	update_lp(&st, details, details_len);
	crypto_hash_sha256_final(&st, out);
}

int gh_audit_append(int64_t *out_seq, gh_store *s, const char *actor, const char *action,
		    const char *object_type, const char *object_id, const json_t *details)
{
	static const unsigned char zero[GH_AUDIT_HASH_LEN];
	unsigned char prev[GH_AUDIT_HASH_LEN], hash[GH_AUDIT_HASH_LEN];
	sqlite3_stmt *st;
	int64_t seq = 1, ts = gh_now_us();
	char *text = NULL;
	int rc;

	memcpy(prev, zero, sizeof(prev));
	if ((rc = gh_store_stmt(&st, s, "SELECT seq, hash FROM audit_head WHERE one = 1")))
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0) + 1;
		if (sqlite3_column_bytes(st, 1) == GH_AUDIT_HASH_LEN)
			memcpy(prev, sqlite3_column_blob(st, 1), GH_AUDIT_HASH_LEN);
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return gh_store_fail(s, "reading the audit head");
	}
	sqlite3_reset(st);

	text = details ? gh_json_canonical(details) : strdup("{}");
	if (!text)
		return gh_error_set(GH_ERROR, "out of memory encoding an audit event");
	gh_audit_hash(hash, prev, seq, ts, actor, action, object_type, object_id, text, strlen(text));

	rc = gh_store_stmt(&st, s, "INSERT INTO audit_events(seq, ts, actor, action, object_type,"
				   " object_id, details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)");
	if (rc)
		goto cleanup;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, object_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, object_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, prev, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, hash, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = gh_store_fail(s, "appending an audit event");
		sqlite3_reset(st);
		goto cleanup;
	}
	sqlite3_reset(st);

	if ((rc = gh_store_stmt(&st, s, "INSERT INTO audit_head(one, seq, hash) VALUES (1, ?, ?) "
					"ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")))
		goto cleanup;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_blob(st, 2, hash, GH_AUDIT_HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = gh_store_fail(s, "moving the audit head");
	sqlite3_reset(st);
	if (!rc && out_seq)
		*out_seq = seq;
cleanup:
	free(text);
	return rc;
}

static int bad(gh_audit_report *out, int64_t seq, const char *reason)
{
	out->bad_seq = seq;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
	return gh_error_set(GH_EINVALID, "audit chain broken at sequence %lld: %s",
			    (long long)seq, reason);
}

int gh_audit_verify(gh_audit_report *out, gh_store *s)
{
	static const unsigned char zero[GH_AUDIT_HASH_LEN];
	unsigned char prev[GH_AUDIT_HASH_LEN], hash[GH_AUDIT_HASH_LEN];
	sqlite3_stmt *st = NULL;
	sqlite3 *db = gh_store_db(s);
	int64_t expect = 1;
	int rc = 0, step;

	memset(out, 0, sizeof(*out));
	memcpy(prev, zero, sizeof(prev));
	gh_store_read_begin(s);
	if (sqlite3_prepare_v2(db, "SELECT seq, ts, actor, action, object_type, object_id, details,"
				   " prev_hash, hash FROM audit_events ORDER BY seq", -1, &st, NULL)) {
		rc = gh_store_fail(s, "reading audit events");
		goto cleanup;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const void *stored_prev = sqlite3_column_blob(st, 7);
		const void *stored = sqlite3_column_blob(st, 8);

		if (seq != expect) {
			rc = bad(out, expect, seq > expect ? "event missing (gap in sequence)"
							   : "sequence out of order");
			goto cleanup;
		}
		if (sqlite3_column_bytes(st, 7) != GH_AUDIT_HASH_LEN ||
		    memcmp(stored_prev, prev, GH_AUDIT_HASH_LEN) != 0) {
			rc = bad(out, seq, "prev_hash does not match the previous event's hash");
			goto cleanup;
		}
		gh_audit_hash(hash, prev, seq, sqlite3_column_int64(st, 1),
			      (const char *)sqlite3_column_text(st, 2),
			      (const char *)sqlite3_column_text(st, 3),
			      (const char *)sqlite3_column_text(st, 4),
			      (const char *)sqlite3_column_text(st, 5),
			      (const char *)sqlite3_column_text(st, 6),
			      (size_t)sqlite3_column_bytes(st, 6));
		if (sqlite3_column_bytes(st, 8) != GH_AUDIT_HASH_LEN ||
		    memcmp(stored, hash, GH_AUDIT_HASH_LEN) != 0) {
			rc = bad(out, seq, "event content does not match its hash");
			goto cleanup;
		}
		memcpy(prev, hash, sizeof(prev));
		out->events++;
		expect++;
	}
	if (step != SQLITE_DONE) {
		rc = gh_store_fail(s, "reading audit events");
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* the head records the last appended event: a shorter chain lost its tail */
	if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit_head WHERE one = 1", -1, &st, NULL)) {
		rc = gh_store_fail(s, "reading the audit head");
		goto cleanup;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t head = sqlite3_column_int64(st, 0);
		if (head != expect - 1 || sqlite3_column_bytes(st, 1) != GH_AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(st, 1), prev, GH_AUDIT_HASH_LEN) != 0)
			rc = bad(out, head < expect - 1 ? head + 1 : expect,
				 "the chain does not end at the recorded head (events removed or added at the end)");
	} else if (expect != 1) {
		rc = bad(out, 1, "the audit head is missing");
	}
cleanup:
	sqlite3_finalize(st);
	gh_store_read_end(s);
	return rc;
}

json_t *gh_audit_event_json(sqlite3_stmt *row)
{
	char prev[2 * GH_AUDIT_HASH_LEN + 1] = "", hash[2 * GH_AUDIT_HASH_LEN + 1] = "";
	char when[40];
	int64_t ts = sqlite3_column_int64(row, 1);
	json_t *details;

	if (sqlite3_column_bytes(row, 7) == GH_AUDIT_HASH_LEN)
		gh_hex(prev, sqlite3_column_blob(row, 7), GH_AUDIT_HASH_LEN);
	if (sqlite3_column_bytes(row, 8) == GH_AUDIT_HASH_LEN)
		gh_hex(hash, sqlite3_column_blob(row, 8), GH_AUDIT_HASH_LEN);
	gh_time_format(when, sizeof(when), ts / 1000000);
	details = json_loads((const char *)sqlite3_column_text(row, 6), 0, NULL);
	return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s}",
			 "seq", (json_int_t)sqlite3_column_int64(row, 0), "time", when,
			 "ts_us", (json_int_t)ts,
			 "actor", (const char *)sqlite3_column_text(row, 2),
			 "action", (const char *)sqlite3_column_text(row, 3),
			 "object_type", (const char *)sqlite3_column_text(row, 4),
			 "object_id", (const char *)sqlite3_column_text(row, 5),
			 "details", details ? details : json_object(),
			 "prev_hash", prev, "hash", hash);
}
