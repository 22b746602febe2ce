/* sched.c - what the scheduler finds due (store/sched.h). */
#include "store/sched.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>

/* Each query matches its index (grants_active_expiry, requests_state_sla,
 * grants_review_due, identities_expiry, identities_orphaned) so it reads only
 * candidates, in the index's order: the cost follows what is due, not what
 * is active. */
/* dialect: on PostgreSQL other nodes' schedulers read the same rows; each
 * claims what it reads (FOR UPDATE) and skips what another holds. */
#define DUE(sql) gh_sql_prepare_dialect(q, s, sql, sql " FOR UPDATE SKIP LOCKED")

static int prepare_due(gh_sql **q, gh_store *s, gh_store_due what)
{
	switch (what) {
	case GH_STORE_DUE_GRANT_EXPIRY:
		return DUE("SELECT id FROM grants"
			   " WHERE status IN ('active', 'provisioning')"
			   " AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2");
	case GH_STORE_DUE_REQUEST_SLA:
		return DUE("SELECT id FROM requests WHERE state = 'pending_approval'"
			   " AND sla_due_at <= ?1 ORDER BY sla_due_at LIMIT ?2");
	case GH_STORE_DUE_REVIEW:
		return DUE("SELECT id FROM grants WHERE review_state = 'pending'"
			   " AND review_due_at <= ?1 ORDER BY review_due_at LIMIT ?2");
	case GH_STORE_DUE_NHI_EXPIRY:
		return DUE("SELECT id FROM identities WHERE status = 'active'"
			   " AND expires_at IS NOT NULL AND expires_at <= ?1"
			   " AND kind <> 'human' ORDER BY expires_at LIMIT ?2");
	case GH_STORE_DUE_ORPHAN:
		return DUE("SELECT id FROM identities WHERE orphaned_at IS NOT NULL"
			   " AND orphaned_at <= ?1 AND status = 'active'"
			   " AND kind <> 'human' ORDER BY orphaned_at LIMIT ?2");
	}
	return gh_error_set(GH_ERROR, "nothing falls due as %d", (int)what);
}

int gh_store_sched_due(char (*ids)[GH_STORE_ID_LEN], int *n, gh_store *s, gh_store_due what,
		       int64_t at, int limit)
{
	const char *id;
	gh_sql *q;
	int rc;

	*n = 0;
	if ((rc = prepare_due(&q, s, what)))
		return rc;
	gh_sql_bind_int64(q, 1, at);
	gh_sql_bind_int(q, 2, limit);
	while (*n < limit && (rc = gh_sql_step(q)) == GH_SQL_ROW) {
		id = gh_sql_column_text(q, 0);
		snprintf(ids[(*n)++], GH_STORE_ID_LEN, "%s", id ? id : "");
	}
	rc = rc == GH_SQL_FAIL ? gh_sql_fail(q, "finding what is due") : 0;
	gh_sql_reset(q);
	return rc;
}

int gh_store_sched_next_due(int64_t *out, gh_store *s, int64_t orphan_grace)
{
	gh_sql *q;
	int rc;

	*out = INT64_MAX;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT (SELECT min(expires_at) FROM grants"
				 "   WHERE status IN ('active', 'provisioning')),"
				 " (SELECT min(sla_due_at) FROM requests WHERE state = 'pending_approval'),"
				 " (SELECT min(review_due_at) FROM grants WHERE review_state = 'pending'),"
				 " (SELECT min(expires_at) FROM identities WHERE status = 'active'"
				 "   AND expires_at IS NOT NULL AND kind <> 'human'),"
				 " (SELECT min(orphaned_at) + ?1 FROM identities"
				 "   WHERE orphaned_at IS NOT NULL AND status = 'active'"
				 "   AND kind <> 'human')")))
		return rc;
	gh_sql_bind_int64(q, 1, orphan_grace);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		for (int i = 0; i < 5; i++)
			if (!gh_sql_column_null(q, i) && gh_sql_column_int64(q, i) < *out)
				*out = gh_sql_column_int64(q, i);
		rc = 0;
	} else {
		rc = gh_sql_fail(q, "finding when something falls due");
	}
	gh_sql_reset(q);
	return rc;
}
