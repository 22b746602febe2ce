/* test_store.c - migrations, transactions and group commit of the store, on
 * SQLite or PostgreSQL (store_fixture.h). */
#include "audit/audit.h"
#include "store/sql.h"
#include "store_fixture.h"
#include "common/error.h"
#include "common/util.h"
#include "harness.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static gh_store *open_fresh(const char *name)
{
	char path[512];
	gh_store *s = NULL;

	sf_targetf(path, sizeof(path), 1, "%s", name);
	CHECK_INT(gh_store_open(&s, path, 1), 0);
	return s;
}

static long long count(gh_store *s, const char *sql)
{
	return sf_int(s, sql, NULL, NULL);
}

static void test_store_open__migrates_and_refuses_missing_file(void)
{
	gh_store *s = open_fresh("migrate.db");
	char path[512];
	gh_store *t = NULL;

	CHECK(gh_store_version(s) >= 1);
	CHECK_INT(count(s, "SELECT max(version) FROM schema_migrations"), gh_store_version(s));
	gh_store_free(s);
	/* no file; on PostgreSQL an empty schema */
	sf_target(path, sizeof(path), "absent.db", 1);
	CHECK_INT(gh_store_open(&t, path, 0), GH_ENOTFOUND);
	CHECK(t == NULL);
}

/* A new database and its -wal and -shm are readable by their owner only,
 * whatever the umask lets through. */
static void test_store_open__new_files_are_owner_only(void)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char path[512], file[600];
	mode_t old = umask(022);
	gh_store *s = NULL;
	struct stat st;

	SF_SQLITE_ONLY("file modes are SQLite's");
	snprintf(path, sizeof(path), "%s/modes.db", gh_test_tmpdir());
	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffix[i]);
		remove(file);
	}
	CHECK_INT(gh_store_open(&s, path, 1), 0);
	umask(old);
	/* a write keeps the -wal and -shm in place while s is open */
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "v"), 0);
	CHECK_INT(gh_store_commit(s), 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffix[i]);
		CHECK_INT(stat(file, &st), 0);
		CHECK_INT(st.st_mode & 0777, 0600);
	}
	gh_store_free(s);
}

static void test_store_tx__rollback_leaves_nothing(void)
{
	gh_store *s = open_fresh("rollback.db");

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "v"), 0);
	CHECK_INT(gh_audit_append(NULL, s, "t", "setting.set", "setting", "k", NULL), 0);
	gh_store_rollback(s);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM audit_events"), 0);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "v"), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 1);
	gh_store_free(s);
}

typedef struct commits_seen {
	int calls;
	int64_t last;
} commits_seen;

static void seen(void *ctx, int64_t seq)
{
	commits_seen *c = ctx;

	c->calls++;
	c->last = seq;
}

/* The after-commit hook sees each commit with the audit head it committed,
 * never a rolled-back operation, and nothing once removed. */
static void test_store_after_commit__reports_the_committed_head(void)
{
	gh_store *s = open_fresh("hook.db");
	commits_seen c = {0, -100};

	gh_store_after_commit(s, seen, &c);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_audit_append(NULL, s, "t", "setting.set", "setting", "a", NULL), 0);
	CHECK_INT(gh_audit_append(NULL, s, "t", "setting.set", "setting", "b", NULL), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(c.calls, 1);
	CHECK_INT(c.last, 2);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_audit_append(NULL, s, "t", "setting.set", "setting", "c", NULL), 0);
	gh_store_rollback(s);
	CHECK_INT(c.calls, 1);
	/* a commit without events after a rollback: the head is not known */
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "v"), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(c.calls, 2);
	CHECK_INT(c.last, -1);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_audit_append(NULL, s, "t", "setting.set", "setting", "d", NULL), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(c.last, 3);
	gh_store_after_commit(s, NULL, NULL);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_audit_append(NULL, s, "t", "setting.set", "setting", "e", NULL), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(c.calls, 3);
	gh_store_free(s);
}

#define THREADS 8
#define OPS 200

static gh_store *shared;

/* Every fifth operation of each thread fails midway and must leave no trace,
 * even when it shared a batch with operations that committed. */
static void *writer(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < OPS; i++) {
		char key[64];
		snprintf(key, sizeof(key), "t%ld-%d", id, i);
		if (gh_store_begin(shared))
			return (void *)1;
		gh_store_setting_set(shared, key, "x");
		gh_audit_append(NULL, shared, "t", "setting.set", "setting", key, NULL);
		if (i % 5 == 4) {
			gh_store_rollback(shared);
		} else if (gh_store_commit(shared)) {
			return (void *)1;
		}
	}
	return NULL;
}

static void test_store_group_commit__concurrent_writers_keep_atomicity(void)
{
	pthread_t t[THREADS];
	gh_audit_report rep;
	void *res;

	shared = open_fresh("group.db");
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], &res);
		CHECK(res == NULL);
	}
	CHECK_INT(count(shared, "SELECT count(*) FROM settings"), THREADS * OPS * 4 / 5);
	CHECK_INT(count(shared, "SELECT count(*) FROM audit_events"), THREADS * OPS * 4 / 5);
	CHECK_INT(gh_audit_verify(&rep, shared), 0);
	CHECK_INT(rep.events, THREADS * OPS * 4 / 5);
	gh_store_free(shared);
}

/* Holds the failed batch's waiter back while more batches commit than the
 * old ring of results had slots (256): its answer must still be the failure. */
static void commit_many(gh_store *s, void *ctx)
{
	int *n = ctx;

	for (int i = 0; i < 300; i++) {
		char key[32];
		snprintf(key, sizeof(key), "later-%d", i);
		if (gh_store_begin(s) == 0) {
			gh_store_setting_set(s, key, "x");
			if (gh_store_commit(s) == 0)
				(*n)++;
		}
	}
}

static void test_store_group_commit__failed_commit_is_reported_to_a_late_waiter(void)
{
	gh_store *s = open_fresh("late.db");
	int later = 0;

	/* a deferred foreign key is checked only by COMMIT: the batch fails there */
	CHECK_INT(sf_exec(s, "CREATE TABLE p(id INTEGER PRIMARY KEY);"
			     "CREATE TABLE c(pid INTEGER REFERENCES p(id)"
			     " DEFERRABLE INITIALLY DEFERRED)"), 0);
	gh_store_after_wait(s, commit_many, &later);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_sql_exec(s, "INSERT INTO c(pid) VALUES (42)", "adding a child"), 0);
	CHECK_INT(gh_store_commit(s), GH_ECONFLICT);
	CHECK(strstr(gh_error_last()->message, sf_on_postgres() ? "foreign key" : "FOREIGN KEY") != NULL);
	gh_store_after_wait(s, NULL, NULL);
	CHECK_INT(later, 300);
	CHECK_INT(count(s, "SELECT count(*) FROM c"), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 300);
	gh_store_free(s);
}

/* A reader sees committed state only, and does not wait for an open write. */
static void test_store_read__uses_a_snapshot_of_committed_state(void)
{
	gh_store *s = open_fresh("reader.db");
	gh_sql *st;
	char *v = NULL;

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "one"), 0);
	CHECK_INT(gh_store_commit(s), 0);

	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "k"), 0);
	CHECK_STR(v, "one");
	free(v);
	/* nested sections share the snapshot */
	gh_store_read_begin(s);
	CHECK_INT(gh_sql_prepare(&st, s, "SELECT count(*) FROM settings"), 0);
	CHECK_INT(gh_sql_step(st), GH_SQL_ROW);
	CHECK_INT(gh_sql_column_int(st, 0), 1);
	gh_sql_reset(st);
	gh_store_read_end(s);
	/* a reader cannot write */
	CHECK(gh_sql_exec(s, "DELETE FROM settings", "deleting in a read") != 0);
	gh_store_read_end(s);

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "two"), 0);
	/* this thread is in a write; a read section must not deadlock and sees
	 * the committed value, not the pending one */
	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "k"), 0);
	CHECK_STR(v, "one");
	free(v);
	gh_store_read_end(s);
	CHECK_INT(gh_store_commit(s), 0);

	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "k"), 0);
	CHECK_STR(v, "two");
	free(v);
	gh_store_read_end(s);
	gh_store_free(s);
}

/* With no reader to be had, a read section waits for the writer's lock -
 * except inside the thread's own write, where it reads through that write
 * instead of waiting on itself. */
static void test_store_read__without_readers_falls_back_to_the_writer(void)
{
	gh_store *s = open_fresh("noreaders.db");
	char *v = NULL;

	gh_store_limit_readers(s, 0);
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "one"), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 1);

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "k", "two"), 0);
	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "k"), 0);
	CHECK_STR(v, "two");
	free(v);
	gh_store_read_end(s);
	/* the write is still open and ours: it can go on and roll back */
	CHECK_INT(gh_store_setting_set(s, "k2", "x"), 0);
	gh_store_rollback(s);
	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "k"), 0);
	CHECK_STR(v, "one");
	free(v);
	gh_store_read_end(s);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 1);
	gh_store_free(s);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"store_open__migrates_and_refuses_missing_file", test_store_open__migrates_and_refuses_missing_file},
		{"store_open__new_files_are_owner_only", test_store_open__new_files_are_owner_only},
		{"store_tx__rollback_leaves_nothing", test_store_tx__rollback_leaves_nothing},
		{"store_after_commit__reports_the_committed_head",
		 test_store_after_commit__reports_the_committed_head},
		{"store_group_commit__concurrent_writers_keep_atomicity", test_store_group_commit__concurrent_writers_keep_atomicity},
		{"store_group_commit__failed_commit_is_reported_to_a_late_waiter", test_store_group_commit__failed_commit_is_reported_to_a_late_waiter},
		{"store_read__uses_a_snapshot_of_committed_state", test_store_read__uses_a_snapshot_of_committed_state},
		{"store_read__without_readers_falls_back_to_the_writer", test_store_read__without_readers_falls_back_to_the_writer},
		{NULL, NULL}};

	gh_init();
	return gh_test_run(cases, argc, argv);
}
