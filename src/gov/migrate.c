/* migrate.c - moving an installation to another database (gatehouse
 * migrate): the copy in one transaction on the target, then the audit log
 * and the row counts verified over the target as it arrived. */
#include "gov/gov_internal.h"
#include "store/copy.h"

#include <stdio.h>
#include <string.h>

/* 1 when any table of the copy holds a row in s, 0 when none, < 0 on error;
 * *table names the first one that does. */
static int holds_data(const char **table, int64_t *rows, gh_store *s)
{
	int rc;

	for (size_t i = 0; i < gh_store_copy_tables(); i++) {
		if ((rc = gh_store_copy_count(rows, s, i)))
			return rc;
		if (*rows > 0) {
			*table = gh_store_copy_table(i);
			return 1;
		}
	}
	return 0;
}

/* The copy itself: the source read in one snapshot, the target written in
 * one transaction, refused when the target holds anything. */
static int copy(gh_gov_migrate_report *out, gh_store *from, gh_store *to)
{
	const char *table = NULL;
	int64_t rows = 0, copied;
	int rc;

	gh_store_read_begin(from);
	if ((rc = gh_store_begin(to)))
		goto done;
	if ((rc = holds_data(&table, &rows, to)) != 0) {
		if (rc > 0)
			rc = gh_error_set(GH_ECONFLICT, "the target already holds data (%lld rows in"
					  " %s); nothing was changed: migrate into an empty"
					  " database", (long long)rows, table);
		gh_store_rollback(to);
		goto done;
	}
	for (size_t i = 0; i < out->ntables && !rc; i++) {
		if (!(rc = gh_store_copy_count(&out->tables[i].source_rows, from, i)) &&
		    !(rc = gh_store_copy_rows(&copied, from, to, i)) &&
		    copied != out->tables[i].source_rows)
			rc = gh_error_set(GH_ERROR, "copying %s: %lld rows counted, %lld copied",
					  out->tables[i].name,
					  (long long)out->tables[i].source_rows, (long long)copied);
	}
	if (!rc)
		rc = gh_store_copy_keys(to);
	if (rc)
		gh_store_rollback(to);
	else if (!(rc = gh_store_commit(to)))
		out->copied = 1;
done:
	gh_store_read_end(from);
	return rc;
}

/* The target as it arrived: the audit chain and tree, and its row counts. */
static int verify(gh_gov_migrate_report *out, gh_gov *target)
{
	gh_gov_audit_report audit;
	int rc;

	rc = gh_gov_audit_verify(&audit, target);
	out->events = audit.events;
	out->bad_seq = audit.bad_seq;
	if (rc == GH_EINVALID) {
		snprintf(out->reason, sizeof(out->reason),
			 "the audit chain is broken at sequence %lld: %.180s",
			 (long long)audit.bad_seq, audit.reason);
		return gh_error_set(GH_EINVALID, "%s", out->reason);
	}
	if (rc)
		return rc;
	gh_store_read_begin(target->store);
	for (size_t i = 0; i < out->ntables && !rc; i++)
		rc = gh_store_copy_count(&out->tables[i].target_rows, target->store, i);
	gh_store_read_end(target->store);
	for (size_t i = 0; i < out->ntables && !rc; i++)
		if (out->tables[i].target_rows != out->tables[i].source_rows) {
			snprintf(out->reason, sizeof(out->reason),
				 "%s holds %lld rows in the target, %lld in the source",
				 out->tables[i].name, (long long)out->tables[i].target_rows,
				 (long long)out->tables[i].source_rows);
			rc = gh_error_set(GH_EINVALID, "%s", out->reason);
		}
	return rc;
}

/* Deletes a copy that failed verification, keeping the error that says why. */
static void remove_copy(gh_gov *target)
{
	int code = gh_error_last()->code;
	char message[sizeof(gh_error_last()->message)];

	snprintf(message, sizeof(message), "%s", gh_error_last()->message);
	if (gh_store_begin(target->store) == 0) {
		if (gh_store_copy_clear(target->store) == 0)
			gh_store_commit(target->store);
		else
			gh_store_rollback(target->store);
	}
	gh_error_set(code, "%s", message);
}

int gh_gov_migrate(gh_gov_migrate_report *out, const char *from, const char *to)
{
	gh_gov *src = NULL, *dst = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ntables = gh_store_copy_tables();
	if (out->ntables > GH_GOV_MIGRATE_MAX_TABLES)
		return gh_error_set(GH_ERROR, "%zu tables to copy, at most %d", out->ntables,
				    GH_GOV_MIGRATE_MAX_TABLES);
	for (size_t i = 0; i < out->ntables; i++) {
		out->tables[i].name = gh_store_copy_table(i);
		out->tables[i].target_rows = -1;
	}
	if (!from || !*from || !to || !*to)
		return gh_error_set(GH_EINVALID, "migrate needs a source and a target database");
	if (strcmp(from, to) == 0)
		return gh_error_set(GH_EINVALID, "the source and the target are the same database");
	if ((rc = gh_gov_open(&src, from, 0, NULL)) || (rc = gh_gov_open(&dst, to, 1, NULL)))
		goto cleanup;
	if (gh_store_version(src->store) != gh_store_version(dst->store)) {
		rc = gh_error_set(GH_EINVALID, "the source's schema is version %d, the target's %d;"
				  " nothing was changed", gh_store_version(src->store),
				  gh_store_version(dst->store));
		goto cleanup;
	}
	if ((rc = copy(out, src->store, dst->store)))
		goto cleanup;
	/* verified through a fresh handle: nothing cached from before the copy */
	gh_gov_free(dst);
	dst = NULL;
	if ((rc = gh_gov_open(&dst, to, 0, NULL)))
		goto cleanup;
	if ((rc = verify(out, dst)) == GH_EINVALID)
		remove_copy(dst);
cleanup:
	gh_gov_free(src);
	gh_gov_free(dst);
	return rc;
}
