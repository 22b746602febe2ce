/* checkpoints.c - signed checkpoints of the audit tree (store/checkpoints.h). */
#include "store/checkpoints.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

int gh_store_checkpoint_insert(gh_store *s, int64_t size, const unsigned char *root,
			       const char *note, int64_t created_at)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "INSERT INTO checkpoints(size, root, note, created_at)"
					" VALUES (?1, ?2, ?3, ?4)")))
		return rc;
	gh_sql_bind_int64(q, 1, size);
	gh_sql_bind_blob(q, 2, root, GH_STORE_CHECKPOINT_ROOT_LEN);
	gh_sql_bind_text(q, 3, note);
	gh_sql_bind_int64(q, 4, created_at);
	return gh_sql_step_done(q, "storing a checkpoint");
}

int gh_store_checkpoint_latest(int64_t *size, unsigned char *root, char **note, gh_store *s)
{
	const void *p;
	const char *text;
	size_t n;
	gh_sql *q;
	int rc;

	*size = -1;
	if (root)
		memset(root, 0, GH_STORE_CHECKPOINT_ROOT_LEN);
	if (note)
		*note = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT size, root, note FROM checkpoints"
					" ORDER BY pk DESC LIMIT 1")))
		return rc;
	switch (gh_sql_step(q)) {
	case GH_SQL_ROW:
		*size = gh_sql_column_int64(q, 0);
		p = gh_sql_column_blob(q, 1, &n);
		if (root && p && n == GH_STORE_CHECKPOINT_ROOT_LEN)
			memcpy(root, p, n);
		text = gh_sql_column_text(q, 2);
		if (note && !(*note = strdup(text ? text : "")))
			rc = gh_error_set(GH_ERROR, "out of memory");
		break;
	case GH_SQL_DONE:
		rc = gh_error_set(GH_ENOTFOUND, "no checkpoint has been signed yet");
		break;
	default:
		rc = gh_sql_fail(q, "reading the latest checkpoint");
	}
	gh_sql_reset(q);
	return rc;
}
