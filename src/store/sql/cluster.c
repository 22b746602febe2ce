/* cluster.c - leases and generations shared by the nodes of one database
 * (store/cluster.h). */
#include "store/cluster.h"
#include "store/sql.h"
#include "common/error.h"

int gh_store_lease_take(int *held, gh_store *s, const char *name, const char *holder,
			int64_t now_ms, int64_t until_ms, int renew)
{
	gh_sql *q;
	int rc;

	*held = 0;
	/* one statement: two nodes asking at once cannot both win */
	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO leases(name, holder, until_ms, updated_at)"
				 " VALUES (?1, ?2, ?4, ?3) ON CONFLICT (name) DO UPDATE"
				 " SET holder = excluded.holder, until_ms = excluded.until_ms,"
				 " updated_at = excluded.updated_at"
				 " WHERE leases.until_ms <= ?3"
				 " OR (?5 = 1 AND leases.holder = excluded.holder)"
				 " RETURNING holder")))
		return rc;
	gh_sql_bind_text(q, 1, name);
	gh_sql_bind_text(q, 2, holder);
	gh_sql_bind_int64(q, 3, now_ms);
	gh_sql_bind_int64(q, 4, until_ms);
	gh_sql_bind_int(q, 5, renew);
	if ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		*held = 1;
		rc = gh_sql_step(q);
	}
	rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "taking a lease");
	gh_sql_reset(q);
	return rc;
}

int gh_store_lease_release(gh_store *s, const char *name, const char *holder, int64_t now_ms)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE leases SET until_ms = ?3, updated_at = ?3"
				 " WHERE name = ?1 AND holder = ?2 AND until_ms > ?3")))
		return rc;
	gh_sql_bind_text(q, 1, name);
	gh_sql_bind_text(q, 2, holder);
	gh_sql_bind_int64(q, 3, now_ms);
	return gh_sql_step_done(q, "giving a lease up");
}

int gh_store_generation_bump(gh_store *s, const char *name)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO generations(name, value) VALUES (?1, 1)"
				 " ON CONFLICT (name) DO UPDATE SET value = generations.value + 1")))
		return rc;
	gh_sql_bind_text(q, 1, name);
	return gh_sql_step_done(q, "bumping a generation");
}

int gh_store_generation_get(int64_t *out, gh_store *s, const char *name)
{
	gh_sql *q;
	int rc;

	*out = 0;
	if ((rc = gh_sql_prepare(&q, s, "SELECT value FROM generations WHERE name = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, name);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		*out = gh_sql_column_int64(q, 0);
		rc = 0;
	} else {
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, "reading a generation");
	}
	gh_sql_reset(q);
	return rc;
}
