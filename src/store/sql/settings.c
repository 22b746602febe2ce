/* settings.c - key-value settings kept in the database (store/store.h). */
#include "store/sql.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

int gh_store_setting_get(char **out, gh_store *s, const char *key)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT value FROM settings WHERE key = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, key);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW) {
		*out = strdup(gh_sql_column_text(q, 0));
		gh_sql_reset(q);
		return *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
	}
	rc = rc == GH_SQL_DONE ? gh_error_set(GH_ENOTFOUND, "setting %s is not set", key)
			       : gh_sql_fail(q, "reading a setting");
	gh_sql_reset(q);
	return rc;
}

int gh_store_setting_set(gh_store *s, const char *key, const char *value)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "INSERT INTO settings(key, value) VALUES (?1, ?2)"
					" ON CONFLICT(key) DO UPDATE SET value = excluded.value")))
		return rc;
	gh_sql_bind_text(q, 1, key);
	gh_sql_bind_text(q, 2, value);
	return gh_sql_step_done(q, "writing a setting");
}
