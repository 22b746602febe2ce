/* tokens.c - typed operations on API bearer tokens (store/tokens.h). */
#include "store/tokens.h"
#include "store/sql.h"
#include "common/error.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* A token's status at ?5 (now), as the API names it. */
#define TOKEN_STATUS                                                                       \
	"CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"                                \
	" WHEN t.expires_at IS NOT NULL AND t.expires_at <= ?5 THEN 'expired'"            \
	" ELSE 'active' END"

static int64_t time_of(gh_sql *q, int col)
{
	return gh_sql_column_null(q, col) ? 0 : gh_sql_column_int64(q, col);
}

static json_t *token_json(gh_sql *q)
{
	char created[40], expires[40], used[40], revoked[40];
	int64_t e = time_of(q, 4), u = time_of(q, 5), r = time_of(q, 6);

	gh_time_format(created, sizeof(created), time_of(q, 3));
	gh_time_format(expires, sizeof(expires), e);
	gh_time_format(used, sizeof(used), u);
	gh_time_format(revoked, sizeof(revoked), r);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?}",
			 "id", gh_sql_column_text(q, 0), "identity", gh_sql_column_text(q, 1),
			 "name", gh_sql_column_text(q, 2), "status", gh_sql_column_text(q, 8),
			 "created_at", created, "expires_at", e ? expires : NULL,
			 "last_used_at", u ? used : NULL, "revoked_at", r ? revoked : NULL,
			 "rotated_to", gh_sql_column_text(q, 7));
}

int gh_store_tokens_insert(gh_store *s, const char *id, const char *identity_id,
			   const char *name, const unsigned char *hash, size_t hash_len,
			   int64_t created_at, int64_t expires_at)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "INSERT INTO tokens(id, identity_id, name, secret_hash,"
					" created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, identity_id);
	gh_sql_bind_text(q, 3, name);
	gh_sql_bind_blob(q, 4, hash, hash_len);
	gh_sql_bind_int64(q, 5, created_at);
	if (expires_at)
		gh_sql_bind_int64(q, 6, expires_at);
	else
		gh_sql_bind_null(q, 6);
	return gh_sql_step_done(q, "creating a token");
}

int gh_store_tokens_get(gh_store_token *out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gh_sql_prepare(&q, s, "SELECT identity_id, name, revoked_at FROM tokens"
					" WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		gh_sql_copy_text(out->identity, sizeof(out->identity), q, 0);
		gh_sql_copy_text(out->name, sizeof(out->name), q, 1);
		out->revoked = !gh_sql_column_null(q, 2);
		rc = 0;
	} else if (rc == GH_SQL_DONE) {
		rc = gh_error_set(GH_ENOTFOUND, "token %s not found", id);
	} else {
		rc = gh_sql_fail(q, "reading a token");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_tokens_auth(gh_store_token_auth *out, gh_store *s, const char *id)
{
	const void *hash;
	size_t n;
	gh_sql *q;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gh_sql_prepare(&q, s, "SELECT t.secret_hash, t.expires_at, t.revoked_at,"
					" t.last_used_at, i.id, i.status, i.roles, i.expires_at"
					" FROM tokens t JOIN identities i ON i.id = t.identity_id"
					" WHERE t.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		hash = gh_sql_column_blob(q, 0, &n);
		if (hash && n == sizeof(out->secret_hash)) {
			memcpy(out->secret_hash, hash, sizeof(out->secret_hash));
			out->hash_ok = 1;
		}
		out->has_expires = !gh_sql_column_null(q, 1);
		out->expires_at = time_of(q, 1);
		out->revoked = !gh_sql_column_null(q, 2);
		out->last_used_at = time_of(q, 3);
		gh_sql_copy_text(out->identity, sizeof(out->identity), q, 4);
		gh_sql_copy_text(out->identity_status, sizeof(out->identity_status), q, 5);
		out->identity_has_expires = !gh_sql_column_null(q, 7);
		out->identity_expires_at = time_of(q, 7);
		out->roles = gh_sql_json_column(q, 6, 1);
		rc = out->roles ? 1 : gh_error_set(GH_ERROR, "out of memory authenticating");
	} else if (rc == GH_SQL_DONE) {
		rc = 0;
	} else {
		rc = gh_sql_fail(q, "authenticating");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_tokens_list(json_t **items, gh_store *s, int64_t after_pk, int limit,
			 const char *identity, const char *status, int64_t now)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	/* never the secret's hash */
	if ((rc = gh_sql_prepare(&q, s, "SELECT t.id, t.identity_id, t.name, t.created_at,"
					" t.expires_at, t.last_used_at, t.revoked_at, t.rotated_to, "
					TOKEN_STATUS
					" FROM tokens t WHERE t.pk > ?1"
					" AND (CAST(?2 AS TEXT) IS NULL OR t.identity_id = ?2)"
					" AND (CAST(?3 AS TEXT) IS NULL OR " TOKEN_STATUS " = ?3)"
					" ORDER BY t.pk LIMIT ?4")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, identity);
	gh_sql_bind_text(q, 3, status);
	gh_sql_bind_int(q, 4, limit);
	gh_sql_bind_int64(q, 5, now);
	return gh_sql_rows(items, q, token_json, "tokens");
}

int gh_store_tokens_revoke(gh_store *s, const char *id, int64_t at)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, at);
	return gh_sql_step_done(q, "revoking a token");
}

int gh_store_tokens_rotated(gh_store *s, const char *id, int64_t at, const char *rotated_to)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE tokens SET revoked_at = ?2, rotated_to = ?3"
					" WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, at);
	gh_sql_bind_text(q, 3, rotated_to);
	return gh_sql_step_done(q, "revoking the rotated token");
}

int gh_store_tokens_revoke_identity(int *count, gh_store *s, const char *identity_id, int64_t at)
{
	gh_sql *q;
	int rc;

	*count = 0;
	if ((rc = gh_sql_prepare(&q, s, "UPDATE tokens SET revoked_at = ?2 WHERE identity_id = ?1"
					" AND revoked_at IS NULL")))
		return rc;
	gh_sql_bind_text(q, 1, identity_id);
	gh_sql_bind_int64(q, 2, at);
	if ((rc = gh_sql_step_done(q, "revoking an identity's tokens")))
		return rc;
	*count = gh_sql_changes(q);
	return 0;
}

int gh_store_tokens_touch(gh_store *s, const char *id, int64_t at)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, at);
	return gh_sql_step_done(q, "recording a token's use");
}
