/* sod.c - the SQL of segregation-of-duties conflicts held (store/sod.h). */
#include "store/sod.h"
#include "store/sql.h"

static json_t *held_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o}", "entitlement", gh_sql_text_column(q, 0),
			 "name", gh_sql_text_column(q, 1), "grant", gh_sql_text_column(q, 2));
}

int gh_store_sod_held(json_t **out, gh_store *s, const char *subject_id,
		      const char *entitlement_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	/* driven from the (usually empty) conflict set, not the subject's grants */
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT e.id, e.name, gr.id FROM"
				 " (SELECT b AS other FROM entitlement_conflicts WHERE a = ?2"
				 "  UNION SELECT a FROM entitlement_conflicts WHERE b = ?2) c"
				 " JOIN grants gr ON gr.subject_id = ?1 AND gr.entitlement_id = c.other"
				 "  AND gr.status IN ('active', 'provisioning')"
				 " JOIN entitlements e ON e.id = c.other"
				 " ORDER BY e.name")))
		return rc;
	gh_sql_bind_text(q, 1, subject_id);
	gh_sql_bind_text(q, 2, entitlement_id);
	return gh_sql_rows(out, q, held_json, "segregation of duties");
}
