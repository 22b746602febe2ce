/* evidence.c - the SQL of a request's evidence document (store/evidence.h). */
#include "store/evidence.h"
#include "store/sql.h"
#include "common/error.h"

static json_t *identity_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", gh_sql_text_column(q, 0),
			 "name", gh_sql_text_column(q, 1), "roles", gh_sql_json_column(q, 2, 1),
			 "kind", gh_sql_text_column(q, 3), "owner", gh_sql_text_column(q, 4));
}

int gh_store_evidence_identity(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT id, name, roles, kind, owner_id FROM identities"
					" WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_one(out, q, identity_json, "reading an identity");
}

static json_t *entitlement_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:{s:o, s:o}, s:o, s:{s:o, s:o}}",
			 "id", gh_sql_text_column(q, 0), "name", gh_sql_text_column(q, 1),
			 "system", "id", gh_sql_text_column(q, 2), "name", gh_sql_text_column(q, 3),
			 "risk_tier", gh_sql_text_column(q, 4),
			 "control_owner_group", "id", gh_sql_text_column(q, 5),
			 "name", gh_sql_text_column(q, 6));
}

int gh_store_evidence_entitlement(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT e.id, e.name, s.id, s.name, e.risk_tier, gr.id, gr.name"
				 " FROM entitlements e JOIN systems s ON s.id = e.system_id"
				 " JOIN groups gr ON gr.id = e.control_owner_group_id WHERE e.id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_one(out, q, entitlement_json, "reading an entitlement");
}

static json_t *sha256_json(gh_sql *q)
{
	return gh_sql_text_column(q, 0);
}

int gh_store_evidence_policy_sha256(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT sha256 FROM policy_versions WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_one(out, q, sha256_json, "reading a policy version");
}

int gh_store_evidence_audit_span(int64_t *first, int64_t *last, int64_t *count, gh_store *s,
				 const char *id1, const char *id2)
{
	gh_sql *q;
	int rc;

	*first = *last = *count = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0), count(*)"
				 " FROM audit_events WHERE object_id IN (?1, ?2)")))
		return rc;
	gh_sql_bind_text(q, 1, id1);
	gh_sql_bind_text(q, 2, id2);
	if ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		*first = gh_sql_column_int64(q, 0);
		*last = gh_sql_column_int64(q, 1);
		*count = gh_sql_column_int64(q, 2);
		rc = 0;
	} else {
		rc = gh_sql_fail(q, "summarising the audit trail");
	}
	gh_sql_reset(q);
	return rc;
}
