/* rows.c - helpers the store's operations share: stepping writes, reading
 * columns as JSON values, collecting rows. */
#include "store/sql.h"
#include "common/error.h"
#include "common/util.h"

#include <stdio.h>

int gh_sql_step_done(gh_sql *q, const char *what)
{
	int rc = gh_sql_step(q) == GH_SQL_DONE ? 0 : gh_sql_fail(q, what);

	gh_sql_reset(q);
	return rc;
}

int gh_sql_exists(gh_sql *q, const char *what)
{
	int rc = gh_sql_step(q);

	if (rc == GH_SQL_FAIL)
		rc = gh_sql_fail(q, what);
	gh_sql_reset(q);
	return rc;
}

json_t *gh_sql_json_column(gh_sql *q, int col, int is_array)
{
	const char *text = gh_sql_column_text(q, col);
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;

	if (v && (is_array ? json_is_array(v) : json_is_object(v)))
		return v;
	json_decref(v);
	return is_array ? json_array() : json_object();
}

json_t *gh_sql_time_column(gh_sql *q, int col)
{
	char buf[40];

	if (gh_sql_column_null(q, col))
		return json_null();
	gh_time_format(buf, sizeof(buf), gh_sql_column_int64(q, col));
	return json_string(buf);
}

json_t *gh_sql_text_column(gh_sql *q, int col)
{
	const char *text = gh_sql_column_text(q, col);

	return text ? json_string(text) : json_null();
}

json_t *gh_sql_int_column(gh_sql *q, int col)
{
	if (gh_sql_column_null(q, col))
		return json_null();
	return json_integer((json_int_t)gh_sql_column_int64(q, col));
}

int gh_sql_one(json_t **out, gh_sql *q, json_t *(*row)(gh_sql *q), const char *what)
{
	int rc = gh_sql_step(q);

	*out = NULL;
	if (rc == GH_SQL_ROW)
		rc = (*out = row(q)) ? 0 : gh_error_set(GH_ERROR, "out of memory reading %s", what);
	else
		rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, what);
	gh_sql_reset(q);
	return rc;
}

void gh_sql_copy_text(char *out, size_t outlen, gh_sql *q, int col)
{
	const char *t = gh_sql_column_text(q, col);

	snprintf(out, outlen, "%s", t ? t : "");
}

int gh_sql_rows(json_t **out, gh_sql *q, json_t *(*row)(gh_sql *q), const char *what)
{
	json_t *items = json_array(), *item;
	int rc;

	*out = NULL;
	if (!items) {
		gh_sql_reset(q);
		return gh_error_set(GH_ERROR, "out of memory reading %s", what);
	}
	while ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		if (!(item = row(q)) || json_array_append_new(items, item)) {
			gh_sql_reset(q);
			json_decref(items);
			return gh_error_set(GH_ERROR, "out of memory reading %s", what);
		}
	}
	rc = rc == GH_SQL_DONE ? 0 : gh_sql_fail(q, what);
	gh_sql_reset(q);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = items;
	return 0;
}
