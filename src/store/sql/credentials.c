/* credentials.c - the SQL of NHI credentials (store/credentials.h). */
#include "store/credentials.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>
#include <string.h>

/* A credential's own status at the parameter NOW (see credentials.h). */
#define CRED_STATUS(NOW)                                                                    \
	"CASE WHEN c.revoked_at IS NOT NULL THEN 'revoked'"                                  \
	" WHEN c.expires_at <= " NOW " OR c.valid_until <= " NOW " THEN 'expired'"           \
	" WHEN c.valid_until IS NOT NULL THEN 'expiring' ELSE 'active' END"

#define CRED_COLS(NOW)                                                                      \
	"c.id, c.identity_id, c.grant_id, c.entitlement_id, e.system_id, c.created_by,"      \
	" c.created_at, c.expires_at, c.valid_until, c.revoked_at, c.revoked_by,"            \
	" c.revoke_reason, c.last_used_at, c.rotated_from, c.rotated_to, " CRED_STATUS(NOW)

#define CRED_FROM " FROM credentials c JOIN entitlements e ON e.id = c.entitlement_id"

static int nomem(const char *what)
{
	return gh_error_set(GH_ERROR, "out of memory %s", what);
}

/* One credential in its API shape from a row of CRED_COLS. */
static json_t *cred_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o, s:o}",
			 "id", gh_sql_text_column(q, 0), "identity", gh_sql_text_column(q, 1),
			 "grant", gh_sql_text_column(q, 2), "entitlement", gh_sql_text_column(q, 3),
			 "system", gh_sql_text_column(q, 4), "created_by", gh_sql_text_column(q, 5),
			 "created_at", gh_sql_time_column(q, 6),
			 "expires_at", gh_sql_time_column(q, 7),
			 "valid_until", gh_sql_time_column(q, 8),
			 "revoked_at", gh_sql_time_column(q, 9),
			 "revoked_by", gh_sql_text_column(q, 10),
			 "revoke_reason", gh_sql_text_column(q, 11),
			 "last_used_at", gh_sql_time_column(q, 12),
			 "rotated_from", gh_sql_text_column(q, 13),
			 "rotated_to", gh_sql_text_column(q, 14), "status", gh_sql_text_column(q, 15));
}

int gh_store_credential_get(json_t **out, gh_store *s, const char *id, int64_t now)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " CRED_COLS("?2") CRED_FROM " WHERE c.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_int64(q, 2, now);
	return gh_sql_one(out, q, cred_json, "loading a credential");
}

int gh_store_credential_list(json_t **out, gh_store *s, int64_t after_pk,
			     const char *identity_id, const char *grant_id, const char *status,
			     const char *owner_id, int limit, int64_t now)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT " CRED_COLS("?7") CRED_FROM " WHERE c.pk > ?1"
				 " AND (CAST(?2 AS TEXT) IS NULL OR c.identity_id = ?2)"
				 " AND (CAST(?3 AS TEXT) IS NULL OR c.grant_id = ?3)"
				 " AND (CAST(?4 AS TEXT) IS NULL OR " CRED_STATUS("?7") " = ?4)"
				 " AND (CAST(?5 AS TEXT) IS NULL OR c.identity_id IN"
				 "  (SELECT id FROM identities WHERE owner_id = ?5))"
				 " ORDER BY c.pk LIMIT ?6")))
		return rc;
	gh_sql_bind_int64(q, 1, after_pk);
	gh_sql_bind_text(q, 2, identity_id);
	gh_sql_bind_text(q, 3, grant_id);
	gh_sql_bind_text(q, 4, status);
	gh_sql_bind_text(q, 5, owner_id);
	gh_sql_bind_int(q, 6, limit);
	gh_sql_bind_int64(q, 7, now);
	return gh_sql_rows(out, q, cred_json, "listing credentials");
}

static json_t *grant_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "status", gh_sql_text_column(q, 0), "expires_at", gh_sql_int_column(q, 1),
			 "subject", gh_sql_text_column(q, 2), "entitlement", gh_sql_text_column(q, 3),
			 "subject_kind", gh_sql_text_column(q, 4),
			 "subject_status", gh_sql_text_column(q, 5),
			 "subject_expires_at", gh_sql_int_column(q, 6),
			 "owner", gh_sql_text_column(q, 7), "connector", gh_sql_text_column(q, 8));
}

int gh_store_credential_grant(json_t **out, gh_store *s, const char *grant_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT gr.status, gr.expires_at, gr.subject_id, gr.entitlement_id,"
				 " i.kind, i.status, i.expires_at, i.owner_id, s.connector"
				 " FROM grants gr JOIN identities i ON i.id = gr.subject_id"
				 " JOIN entitlements e ON e.id = gr.entitlement_id"
				 " JOIN systems s ON s.id = e.system_id WHERE gr.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, grant_id);
	return gh_sql_one(out, q, grant_json, "reading a grant");
}

static json_t *facts_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "grant", gh_sql_text_column(q, 0), "owner", gh_sql_text_column(q, 1),
			 "created_at", gh_sql_int_column(q, 2), "expires_at", gh_sql_int_column(q, 3),
			 "valid_until", gh_sql_int_column(q, 4), "revoked_at", gh_sql_int_column(q, 5),
			 "rotated_to", gh_sql_text_column(q, 6));
}

int gh_store_credential_facts(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT c.grant_id, i.owner_id, c.created_at, c.expires_at,"
				 " c.valid_until, c.revoked_at, c.rotated_to"
				 " FROM credentials c JOIN identities i ON i.id = c.identity_id"
				 " WHERE c.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_one(out, q, facts_json, "reading a credential");
}

int gh_store_credential_insert(gh_store *s, const char *id, const char *grant_id,
			       const char *identity_id, const char *entitlement_id,
			       const unsigned char *hash, size_t hash_len, const char *created_by,
			       int64_t created_at, int64_t expires_at, const char *rotated_from)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO credentials(id, grant_id, identity_id, entitlement_id,"
				 " secret_hash, created_by, created_at, expires_at, rotated_from)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	gh_sql_bind_text(q, 2, grant_id);
	gh_sql_bind_text(q, 3, identity_id);
	gh_sql_bind_text(q, 4, entitlement_id);
	gh_sql_bind_blob(q, 5, hash, hash_len);
	gh_sql_bind_text(q, 6, created_by);
	gh_sql_bind_int64(q, 7, created_at);
	gh_sql_bind_int64(q, 8, expires_at);
	gh_sql_bind_text(q, 9, rotated_from);
	return gh_sql_step_done(q, "creating a credential");
}

int gh_store_credential_rotate(gh_store *s, const char *id, int64_t valid_until,
			       const char *rotated_to)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE credentials SET valid_until = ?1, rotated_to = ?2"
				 " WHERE id = ?3 AND revoked_at IS NULL AND valid_until IS NULL")))
		return rc;
	gh_sql_bind_int64(q, 1, valid_until);
	gh_sql_bind_text(q, 2, rotated_to);
	gh_sql_bind_text(q, 3, id);
	return gh_sql_step_done(q, "rotating a credential");
}

int gh_store_credential_revoke(gh_store *s, const char *id, int64_t at, const char *by,
			       const char *reason)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE credentials SET revoked_at = ?1, revoked_by = ?2,"
				 " revoke_reason = ?3 WHERE id = ?4 AND revoked_at IS NULL")))
		return rc;
	gh_sql_bind_int64(q, 1, at);
	gh_sql_bind_text(q, 2, by);
	gh_sql_bind_text(q, 3, reason);
	gh_sql_bind_text(q, 4, id);
	return gh_sql_step_done(q, "revoking a credential");
}

static json_t *unrevoked_json(gh_sql *q)
{
	return json_pack("{s:o, s:o}", "id", gh_sql_text_column(q, 0),
			 "grant", gh_sql_text_column(q, 1));
}

int gh_store_credentials_unrevoked(json_t **out, gh_store *s, const char *identity_id,
				   const char *grant_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	/* two statements so each can use its index */
	if (identity_id)
		rc = gh_sql_prepare(&q, s, "SELECT id, grant_id FROM credentials"
					   " WHERE identity_id = ?1 AND revoked_at IS NULL ORDER BY pk");
	else
		rc = gh_sql_prepare(&q, s, "SELECT id, grant_id FROM credentials"
					   " WHERE grant_id = ?1 AND revoked_at IS NULL ORDER BY pk");
	if (rc)
		return rc;
	gh_sql_bind_text(q, 1, identity_id ? identity_id : grant_id);
	return gh_sql_rows(out, q, unrevoked_json, "credentials to revoke");
}

int gh_store_credential_connector(char *out, size_t outlen, gh_store *s, const char *ent_id)
{
	const char *connector;
	gh_sql *q;
	int rc;

	out[0] = '\0';
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT s.connector FROM entitlements e"
				 " JOIN systems s ON s.id = e.system_id WHERE e.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, ent_id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		connector = gh_sql_column_text(q, 0);
		snprintf(out, outlen, "%s", connector ? connector : "");
		rc = 0;
	} else {
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "reading an entitlement's system");
	}
	gh_sql_reset(q);
	return rc;
}

static json_t *key_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o}",
			 "created_at", gh_sql_int_column(q, 1), "expires_at", gh_sql_int_column(q, 2),
			 "valid_until", gh_sql_int_column(q, 3), "revoked_at", gh_sql_int_column(q, 4),
			 "last_used_at", gh_sql_int_column(q, 5), "identity", gh_sql_text_column(q, 6),
			 "identity_name", gh_sql_text_column(q, 7),
			 "identity_status", gh_sql_text_column(q, 8),
			 "identity_expires_at", gh_sql_int_column(q, 9),
			 "grant", gh_sql_text_column(q, 10), "grant_status", gh_sql_text_column(q, 11),
			 "grant_expires_at", gh_sql_int_column(q, 12),
			 "entitlement", gh_sql_text_column(q, 13),
			 "entitlement_name", gh_sql_text_column(q, 14),
			 "system", gh_sql_text_column(q, 15), "owner", gh_sql_text_column(q, 16));
}

int gh_store_credential_key(json_t **out, unsigned char *hash, size_t hash_cap,
			    size_t *hash_len, gh_store *s, const char *id)
{
	const void *stored;
	size_t n = 0;
	gh_sql *q;
	int rc;

	*out = NULL;
	*hash_len = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT c.secret_hash, c.created_at, c.expires_at, c.valid_until,"
				 " c.revoked_at, c.last_used_at, c.identity_id, i.name, i.status,"
				 " i.expires_at, c.grant_id, gr.status, gr.expires_at,"
				 " c.entitlement_id, e.name, e.system_id, i.owner_id"
				 " FROM credentials c JOIN identities i ON i.id = c.identity_id"
				 " JOIN grants gr ON gr.id = c.grant_id"
				 " JOIN entitlements e ON e.id = c.entitlement_id WHERE c.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		stored = gh_sql_column_blob(q, 0, &n);
		if (stored && n)
			memcpy(hash, stored, n < hash_cap ? n : hash_cap);
		*hash_len = stored ? n : 0;
		rc = (*out = key_json(q)) ? 0 : nomem("introspecting");
	} else {
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "introspecting");
	}
	gh_sql_reset(q);
	return rc;
}

int gh_store_credential_touch(gh_store *s, const char *id, int64_t now, int64_t used_before)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE credentials SET last_used_at = ?1 WHERE id = ?2"
				 " AND (last_used_at IS NULL OR last_used_at <= ?3)")))
		return rc;
	gh_sql_bind_int64(q, 1, now);
	gh_sql_bind_text(q, 2, id);
	gh_sql_bind_int64(q, 3, used_before);
	return gh_sql_step_done(q, "recording a credential's use");
}
