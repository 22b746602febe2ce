/* test_store_postgres.c - the store's PostgreSQL backend against a real
 * server started by tests/support/pg_server.sh in a temporary directory; the
 * statement cases run on SQLite too, so both backends answer alike. Skipped
 * (exit 0, with a message) only when PostgreSQL's server programs are not
 * installed (scripts/install-deps.sh installs them). */
#include "audit/audit.h"
#include "common/error.h"
#include "harness.h"
#include "pg_script.h"
#include "store/backend.h"
#include "store/events.h"
#include "store/postgres/pg.h"
#include "store/sql.h"
#include "store/store.h"

#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char script[512];         /* tests/support/pg_server.sh */
static char dir[512];            /* the server's directory */
static char port[16];
static char password[128];       /* the gatehouse role's */
static char url[512];            /* postgresql://gatehouse:...@127.0.0.1:port/gh_store */
static int started;

/* --- the server ------------------------------------------------------------- */

static int have_postgres(void)
{
	glob_t g;
	int found;
	FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
	char bin[400] = "", path[450];

	if (p) {
		if (fgets(bin, sizeof(bin), p))
			bin[strcspn(bin, "\n")] = '\0';
		pclose(p);
		snprintf(path, sizeof(path), "%s/initdb", bin);
		if (bin[0] && access(path, X_OK) == 0)
			return 1;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
		return 0;
	found = g.gl_pathc > 0;
	globfree(&g);
	return found;
}

static int server_start(void)
{
	char cmd[1200], line[700], password_file[700] = "";
	const char *p;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' start '%s'", script, dir);
	if (!(f = popen(cmd, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "conninfo=", 9) == 0 && (p = strstr(line, "port=")))
			snprintf(port, sizeof(port), "%.*s", (int)strcspn(p + 5, " "), p + 5);
		else if (strncmp(line, "password_file=", 14) == 0)
			snprintf(password_file, sizeof(password_file), "%s", line + 14);
	}
	if (pclose(f) != 0 || !port[0] || !password_file[0])
		return 0;
	if (!(f = fopen(password_file, "r")) || !fgets(password, sizeof(password), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	password[strcspn(password, "\n")] = '\0';
	started = 1;
	return 1;
}

/* Runs SQL as the superuser. */
static int superuser(const char *sql)
{
	char cmd[1400];

	snprintf(cmd, sizeof(cmd), "'%s' psql '%s' \"%s\" >/dev/null 2>&1", script, dir, sql);
	return system(cmd) == 0;
}

static void server_remove(void)
{
	char cmd[2200];

	if (!started)
		return;
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1; rm -rf '%s'", script, dir, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "stopping the test server in %s failed\n", dir);
	started = 0;
}

/* A child that stops the server when this process is gone, however it ends:
 * it waits for the end of a pipe only we hold. */
static void watchdog(void)
{
	int fd[2];
	char c;
	pid_t pid;

	if (pipe(fd) != 0 || fcntl(fd[1], F_SETFD, FD_CLOEXEC) != 0 || (pid = fork()) < 0) {
		perror("watchdog");
		return;
	}
	if (pid > 0) {
		close(fd[0]);
		return;
	}
	close(fd[1]);
	if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
		_exit(1);
	for (int i = 0; i < 1000 && read(fd[0], &c, 1) < 0; i++)
		;
	server_remove();
	_exit(0);
}

/* A fresh database named name, owned by the gatehouse role; its URL in out. */
static void fresh_database(char *out, size_t n, const char *name)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	CHECK(superuser(sql));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER gatehouse", name);
	CHECK(superuser(sql));
	snprintf(out, n, "postgresql://gatehouse:%s@127.0.0.1:%s/%s", password, port, name);
}

static gh_store *open_pg(void)
{
	gh_store *s = NULL;

	fresh_database(url, sizeof(url), "gh_store");
	if (gh_store_open(&s, url, 1) != 0)
		fprintf(stderr, "  open: %s\n", gh_error_last()->message);
	CHECK(s != NULL);
	return s;
}

static gh_store *open_sqlite(const char *name)
{
	char path[512];
	gh_store *s = NULL;

	snprintf(path, sizeof(path), "%s/%s", gh_test_tmpdir(), name);
	remove(path);
	CHECK_INT(gh_store_open(&s, path, 1), 0);
	return s;
}

static int last_version(void)
{
	int v = 0;

	for (const gh_migration *m = gh_store_migrations; m->sqlite; m++)
		v = m->version;
	return v;
}

/* count(*) of a query, read in its own read section. */
static long long count(gh_store *s, const char *sql)
{
	gh_sql *q;
	long long n = -1;

	gh_store_read_begin(s);
	if (gh_sql_prepare_once(&q, s, sql) == 0) {
		if (gh_sql_step(q) == GH_SQL_ROW)
			n = gh_sql_column_int64(q, 0);
		gh_sql_finalize(q);
	}
	gh_store_read_end(s);
	return n;
}

/* --- cases on both backends ---------------------------------------------------- */

/* Text, integers, blobs and NULL come back as they went in, through ?N and ?. */
static void round_trips(gh_store *s)
{
	static const unsigned char blob[5] = {0x00, 0xff, 0x5c, 0x78, 0x00};
	const char *text = "it's \"quoted\", ?1 stays, caf\xc3\xa9";
	gh_sql *q;
	const void *p;
	size_t n = 99;

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_sql_prepare(&q, s, "INSERT INTO audit_events(seq, ts, actor, action,"
					" object_type, object_id, details, prev_hash, hash, leaf_hash)"
					" VALUES (?1, ?2, ?3, 'x.y', 'thing', ?3, '{}', ?4, ?4, ?5)"),
		  0);
	gh_sql_bind_int64(q, 1, 7);
	gh_sql_bind_int64(q, 2, -((int64_t)1 << 53));
	gh_sql_bind_text(q, 3, text);
	gh_sql_bind_blob(q, 4, blob, sizeof(blob));
	gh_sql_bind_null(q, 5);
	CHECK_INT(gh_sql_step_done(q, "inserting"), 0);
	CHECK_INT(gh_sql_changes(q), 1);
	/* plain ? placeholders, numbered in order */
	CHECK_INT(gh_sql_prepare(&q, s, "INSERT INTO settings(key, value) VALUES (?, ?)"), 0);
	gh_sql_bind_text(q, 1, "k");
	gh_sql_bind_text(q, 2, "");
	CHECK_INT(gh_sql_step_done(q, "inserting"), 0);
	CHECK_INT(gh_store_commit(s), 0);

	gh_store_read_begin(s);
	CHECK_INT(gh_sql_prepare(&q, s, "SELECT seq, ts, actor, prev_hash, leaf_hash, object_id"
					" FROM audit_events WHERE actor = ?1"),
		  0);
	gh_sql_bind_text(q, 1, text);
	CHECK_INT(gh_sql_step(q), GH_SQL_ROW);
	CHECK_INT(gh_sql_column_int64(q, 0), 7);
	CHECK_INT(gh_sql_column_int(q, 0), 7);
	CHECK(gh_sql_column_int64(q, 1) == -((int64_t)1 << 53));
	CHECK_STR(gh_sql_column_text(q, 2), text);
	p = gh_sql_column_blob(q, 3, &n);
	CHECK_INT(n, sizeof(blob));
	CHECK(p && memcmp(p, blob, sizeof(blob)) == 0);
	CHECK(gh_sql_column_null(q, 4));
	CHECK(gh_sql_column_text(q, 4) == NULL);
	CHECK(!gh_sql_column_null(q, 5));
	CHECK_INT(gh_sql_step(q), GH_SQL_DONE);
	gh_sql_reset(q);
	/* the same bindings run again after a reset */
	CHECK_INT(gh_sql_step(q), GH_SQL_ROW);
	gh_sql_reset(q);
	/* comparisons come back as 1 and 0 on both */
	CHECK_INT(gh_sql_prepare(&q, s, "SELECT value = '', CAST(?1 AS INTEGER) = 2 FROM settings"
					" WHERE key = ?2"),
		  0);
	gh_sql_bind_int(q, 1, 3);
	gh_sql_bind_text(q, 2, "k");
	CHECK_INT(gh_sql_step(q), GH_SQL_ROW);
	CHECK_INT(gh_sql_column_int(q, 0), 1);
	CHECK_INT(gh_sql_column_int(q, 1), 0);
	CHECK_STR(gh_sql_column_text(q, 0) ? "set" : NULL, "set");
	gh_sql_reset(q);
	gh_store_read_end(s);
}

/* A unique key broken is GH_ECONFLICT, and nothing of the operation stays. */
static void constraint_is_conflict(gh_store *s)
{
	gh_sql *q;

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "c", "1"), 0);
	CHECK_INT(gh_store_commit(s), 0);

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "d", "1"), 0);
	CHECK_INT(gh_sql_prepare(&q, s, "INSERT INTO settings(key, value) VALUES (?1, ?2)"), 0);
	gh_sql_bind_text(q, 1, "c");
	gh_sql_bind_text(q, 2, "2");
	CHECK_INT(gh_sql_step(q), GH_SQL_FAIL);
	CHECK_INT(gh_sql_fail(q, "adding a setting"), GH_ECONFLICT);
	CHECK(strstr(gh_error_last()->message, "adding a setting: ") == gh_error_last()->message);
	gh_sql_reset(q);
	gh_store_rollback(s);
	/* a NOT NULL column too (a new operation: on PostgreSQL a failed
	 * statement ends the transaction's use) */
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_sql_prepare(&q, s, "INSERT INTO settings(key, value) VALUES (?1, ?2)"), 0);
	gh_sql_bind_text(q, 1, "e");
	gh_sql_bind_null(q, 2);
	CHECK_INT(gh_sql_step_done(q, "adding a setting"), GH_ECONFLICT);
	gh_store_rollback(s);
	CHECK_INT(count(s, "SELECT count(*) FROM settings WHERE key IN ('d', 'e')"), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings WHERE key = 'c'"), 1);
}

/* A rollback leaves nothing; a trial undone leaves what came before it. */
static void rollback_leaves_nothing(gh_store *s)
{
	char *v = NULL;

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "r", "v"), 0);
	gh_store_rollback(s);
	CHECK_INT(count(s, "SELECT count(*) FROM settings WHERE key = 'r'"), 0);

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "t1", "kept"), 0);
	CHECK_INT(gh_store_trial_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "t2", "undone"), 0);
	CHECK_INT(gh_store_trial_undo(s), 0);
	CHECK_INT(gh_store_trial_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "t3", "kept"), 0);
	CHECK_INT(gh_store_trial_keep(s), 0);
	CHECK_INT(gh_store_commit(s), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings WHERE key IN ('t1', 't3')"), 2);
	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "t2"), GH_ENOTFOUND);
	gh_store_read_end(s);
	free(v);
}

static void *write_setting(void *arg)
{
	gh_store *s = arg;

	if (gh_store_begin(s) == 0) {
		if (gh_store_setting_set(s, "snap", "new") == 0)
			gh_store_commit(s);
		else
			gh_store_rollback(s);
	}
	return NULL;
}

/* A read section sees committed data only, and one snapshot of it. */
static void read_sees_committed_only(gh_store *s)
{
	pthread_t t;
	char *v = NULL;

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "snap", "old"), 0);
	CHECK_INT(gh_store_commit(s), 0);

	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "snap", "pending"), 0);
	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "snap"), 0);
	CHECK_STR(v, "old");
	free(v);
	gh_store_read_end(s);
	gh_store_rollback(s);

	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "snap"), 0);
	CHECK_STR(v, "old");
	free(v);
	/* another thread commits meanwhile: this section keeps its snapshot */
	CHECK_INT(pthread_create(&t, NULL, write_setting, s), 0);
	pthread_join(t, NULL);
	CHECK_INT(gh_store_setting_get(&v, s, "snap"), 0);
	CHECK_STR(v, "old");
	free(v);
	gh_store_read_end(s);

	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "snap"), 0);
	CHECK_STR(v, "new");
	free(v);
	gh_store_read_end(s);
}

static void add_event(gh_store *s, int64_t seq, const char *object_id)
{
	unsigned char hash[32];
	gh_sql *q;

	memset(hash, (int)seq, sizeof(hash));
	CHECK_INT(gh_sql_prepare(&q, s, "INSERT INTO audit_events(seq, ts, actor, action,"
					" object_type, object_id, details, prev_hash, hash)"
					" VALUES (?1, ?2, 'usr_a', 'thing.made', 'thing', ?3,"
					" '{\"n\":1}', ?4, ?4)"),
		  0);
	gh_sql_bind_int64(q, 1, seq);
	gh_sql_bind_int64(q, 2, 1700000000000000 + seq);
	gh_sql_bind_text(q, 3, object_id);
	gh_sql_bind_blob(q, 4, hash, sizeof(hash));
	CHECK_INT(gh_sql_step_done(q, "adding an event"), 0);
}

/* gh_store_events_page reads audit_events rows in the API's shape. */
static void events_page(gh_store *s)
{
	json_t *items = NULL, *e;

	CHECK_INT(gh_store_begin(s), 0);
	add_event(s, 101, "obj_1");
	add_event(s, 102, "obj_2");
	add_event(s, 103, "obj_1");
	CHECK_INT(gh_store_commit(s), 0);

	gh_store_read_begin(s);
	CHECK_INT(gh_store_events_page(&items, s, 100, 2, NULL), 0);
	CHECK_INT(json_array_size(items), 2);
	e = json_array_get(items, 0);
	CHECK_INT(json_integer_value(json_object_get(e, "seq")), 101);
	CHECK_INT(json_integer_value(json_object_get(e, "ts_us")), 1700000000000101);
	CHECK_STR(json_string_value(json_object_get(e, "actor")), "usr_a");
	CHECK_STR(json_string_value(json_object_get(e, "object_id")), "obj_1");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(e, "details"), "n")), 1);
	CHECK_STR(json_string_value(json_object_get(e, "hash")),
		  "6565656565656565656565656565656565656565656565656565656565656565");
	json_decref(items);
	CHECK_INT(gh_store_events_page(&items, s, 101, 10, "obj_1"), 0);
	CHECK_INT(json_array_size(items), 1);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(items, 0), "seq")), 103);
	json_decref(items);
	gh_store_read_end(s);
}

static void both(void (*fn)(gh_store *s), const char *sqlite_name)
{
	gh_store *s = open_sqlite(sqlite_name);

	if (s) {
		CHECK_STR(gh_store_backend_name(s), "sqlite");
		fn(s);
		gh_store_free(s);
	}
	if ((s = open_pg())) {
		CHECK_STR(gh_store_backend_name(s), "postgresql");
		fn(s);
		gh_store_free(s);
	}
}

static void test_store_postgres_sql__round_trips(void)
{
	both(round_trips, "roundtrip.db");
}

static void test_store_postgres_sql__constraint_is_conflict(void)
{
	both(constraint_is_conflict, "conflict.db");
}

static void test_store_postgres_tx__rollback_leaves_nothing(void)
{
	both(rollback_leaves_nothing, "rollback.db");
}

static void test_store_postgres_read__sees_committed_only(void)
{
	both(read_sees_committed_only, "snapshot.db");
}

static void test_store_postgres_events__page(void)
{
	both(events_page, "events.db");
}

/* --- PostgreSQL only ------------------------------------------------------------ */

/* A new database starts at the last version, from the baseline and the
 * versions after it; opening
 * it again changes nothing; a database without the schema is refused without
 * create. */
static void test_store_postgres_open__migrates_once(void)
{
	gh_store *s = open_pg(), *t = NULL;
	char empty[512];

	if (!s)
		return;
	CHECK_INT(gh_store_version(s), last_version());
	CHECK_INT(count(s, "SELECT count(*) FROM schema_migrations"),
		  last_version() - gh_store_postgres_baseline() + 1);
	CHECK_INT(count(s, "SELECT max(version) FROM schema_migrations"), last_version());
	gh_store_free(s);
	CHECK_INT(gh_store_open(&t, url, 0), 0);
	if (t) {
		CHECK_INT(gh_store_version(t), last_version());
		CHECK_INT(count(t, "SELECT count(*) FROM schema_migrations"),
			  last_version() - gh_store_postgres_baseline() + 1);
		gh_store_free(t);
	}
	fresh_database(empty, sizeof(empty), "gh_empty");
	t = NULL;
	CHECK_INT(gh_store_open(&t, empty, 0), GH_ENOTFOUND);
	CHECK(t == NULL);
	CHECK(strstr(gh_error_last()->message, password) == NULL);
}

/* The schema has what SQLite's has: every table with the same columns, and
 * the same indexes. */
static void test_store_postgres_schema__same_as_sqlite(void)
{
	gh_store *lite = open_sqlite("schema.db"), *pg = open_pg();
	gh_sql *q;
	char list[8192] = "";
	size_t used = 0;

	if (!lite || !pg)
		goto cleanup;
	/* every column of every SQLite table exists on PostgreSQL */
	gh_store_read_begin(lite);
	CHECK_INT(gh_sql_prepare_once(&q, lite, "SELECT m.name, p.name, p.\"notnull\", p.pk"
						" FROM sqlite_master m, pragma_table_info(m.name) p"
						" WHERE m.type = 'table' ORDER BY 1, 2"),
		  0);
	while (gh_sql_step(q) == GH_SQL_ROW && used < sizeof(list) - 200)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s.%s:%d ",
					 gh_sql_column_text(q, 0), gh_sql_column_text(q, 1),
					 gh_sql_column_int(q, 2) || gh_sql_column_int(q, 3) ? 1 : 0);
	gh_sql_finalize(q);
	gh_store_read_end(lite);
	{
		char pglist[8192] = "";
		size_t pused = 0;

		gh_store_read_begin(pg);
		CHECK_INT(gh_sql_prepare_once(&q, pg, "SELECT table_name, column_name,"
						      " CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END"
						      " FROM information_schema.columns"
						      " WHERE table_schema = 'public'"
						      " ORDER BY table_name COLLATE \"C\","
						      " column_name COLLATE \"C\""),
			  0);
		while (gh_sql_step(q) == GH_SQL_ROW && pused < sizeof(pglist) - 200)
			pused += (size_t)snprintf(pglist + pused, sizeof(pglist) - pused, "%s.%s:%d ",
						  gh_sql_column_text(q, 0), gh_sql_column_text(q, 1),
						  gh_sql_column_int(q, 2));
		gh_sql_finalize(q);
		gh_store_read_end(pg);
		CHECK_STR(pglist, list);
	}
	/* the same named indexes (SQLite's automatic ones are constraints on PostgreSQL) */
	used = 0;
	list[0] = '\0';
	gh_store_read_begin(lite);
	CHECK_INT(gh_sql_prepare_once(&q, lite, "SELECT name FROM sqlite_master WHERE type = 'index'"
						" AND name NOT LIKE 'sqlite_autoindex%' ORDER BY 1"),
		  0);
	while (gh_sql_step(q) == GH_SQL_ROW && used < sizeof(list) - 100)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s ", gh_sql_column_text(q, 0));
	gh_sql_finalize(q);
	gh_store_read_end(lite);
	{
		char pglist[8192] = "";
		size_t pused = 0;

		gh_store_read_begin(pg);
		CHECK_INT(gh_sql_prepare_once(&q, pg, "SELECT indexname FROM pg_indexes"
						      " WHERE schemaname = 'public' AND indexname NOT LIKE '%\\_pkey'"
						      " AND indexname NOT LIKE '%\\_key'"
						      " ORDER BY indexname COLLATE \"C\""),
			  0);
		while (gh_sql_step(q) == GH_SQL_ROW && pused < sizeof(pglist) - 100)
			pused += (size_t)snprintf(pglist + pused, sizeof(pglist) - pused, "%s ",
						  gh_sql_column_text(q, 0));
		gh_sql_finalize(q);
		gh_store_read_end(pg);
		CHECK_STR(pglist, list);
	}
cleanup:
	gh_store_free(lite);
	gh_store_free(pg);
}

/* A failed statement aborts the PostgreSQL transaction: the commit says so
 * instead of keeping half an operation. */
static void test_store_postgres_tx__failed_statement_fails_the_commit(void)
{
	gh_store *s = open_pg();
	gh_sql *q;

	if (!s)
		return;
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "a", "1"), 0);
	CHECK_INT(gh_sql_prepare(&q, s, "INSERT INTO settings(key, value) VALUES (?1, NULL)"), 0);
	gh_sql_bind_text(q, 1, "b");
	CHECK_INT(gh_sql_step_done(q, "adding"), GH_ECONFLICT);
	CHECK(gh_store_commit(s) != 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 0);
	gh_store_free(s);
}

/* Stops the test server (fast shutdown: sessions are cut) and, with again,
 * starts it on the same port. */
static int server_bounce(int again)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1", script, dir);
	if (system(cmd) != 0)
		return 0;
	return again ? server_start() : 1;
}

/* One write: a setting and its audit event. */
static int write_one(gh_store *s, const char *key)
{
	int rc;

	if ((rc = gh_store_begin(s)))
		return rc;
	if ((rc = gh_store_setting_set(s, key, "x")) ||
	    (rc = gh_audit_append(NULL, s, "t", "setting.set", "setting", key, NULL))) {
		gh_store_rollback(s);
		return rc;
	}
	return gh_store_commit(s);
}

/* A server restart between two operations: the next one works on a new
 * session (writer and readers), without reopening the store. One cut in
 * the middle of an operation fails it cleanly, leaving nothing of it; while
 * the server is down an operation fails at once. */
static void test_store_postgres_reconnect__server_restart(void)
{
	gh_store *s = open_pg();
	gh_audit_report r;
	char *v = NULL;

	if (!s)
		return;
	CHECK_INT(write_one(s, "before"), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 1);   /* a reader is pooled */

	/* between two operations */
	CHECK(server_bounce(1));
	CHECK_INT(write_one(s, "after"), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 2);

	/* in the middle of one */
	CHECK_INT(gh_store_begin(s), 0);
	CHECK_INT(gh_store_setting_set(s, "cut", "x"), 0);
	CHECK_INT(gh_audit_append(NULL, s, "t", "setting.set", "setting", "cut", NULL), 0);
	CHECK(server_bounce(1));
	CHECK(gh_store_commit(s) != 0);
	CHECK_INT(write_one(s, "next"), 0);
	gh_store_read_begin(s);
	CHECK_INT(gh_store_setting_get(&v, s, "cut"), GH_ENOTFOUND);
	gh_store_read_end(s);
	free(v);

	/* while it is down: an error, not a wait; then it works again */
	CHECK(server_bounce(0));
	CHECK(write_one(s, "down") != 0);
	CHECK(server_start());
	CHECK_INT(write_one(s, "up"), 0);
	CHECK_INT(count(s, "SELECT count(*) FROM settings"), 4);
	CHECK_INT(gh_audit_verify(&r, s), 0);
	CHECK_INT(r.events, 4);
	gh_store_free(s);
}

/* An unreachable server: a clear error naming the URL, never its password. */
static void test_store_postgres_open__unreachable_names_the_url_without_password(void)
{
	char bad[300];
	gh_store *s = NULL;
	const char *m;

	/* nothing listens on port 1 (tcpmux) */
	snprintf(bad, sizeof(bad), "postgresql://gatehouse:s3cretpw@127.0.0.1:1/x?connect_timeout=5");
	CHECK_INT(gh_store_open(&s, bad, 1), GH_ERROR);
	CHECK(s == NULL);
	m = gh_error_last()->message;
	CHECK(strstr(m, "cannot connect to PostgreSQL at postgresql://gatehouse@127.0.0.1:1/x") != NULL);
	CHECK(strstr(m, "s3cretpw") == NULL);
	snprintf(bad, sizeof(bad), "postgres://127.0.0.1:1/x?user=u&password=s3cretpw&connect_timeout=5");
	CHECK_INT(gh_store_open(&s, bad, 1), GH_ERROR);
	m = gh_error_last()->message;
	CHECK(strstr(m, "postgres://127.0.0.1:1/x?user=u&connect_timeout=5") != NULL);
	CHECK(strstr(m, "s3cretpw") == NULL);
}

/* ?N and ? become $N; quoted text, identifiers and comments keep theirs. */
static void test_store_postgres_sql__placeholders(void)
{
	int n = 0;
	char *t;

	t = gh_pg_placeholders("SELECT ?2, ?1, ?12 FROM x WHERE a = '?3' AND \"b?\" = ?2", &n);
	CHECK_STR(t, "SELECT $2, $1, $12 FROM x WHERE a = '?3' AND \"b?\" = $2");
	CHECK_INT(n, 12);
	free(t);
	t = gh_pg_placeholders("INSERT INTO t VALUES (?, 'it''s ?', ?) -- ?\n/* ? */", &n);
	CHECK_STR(t, "INSERT INTO t VALUES ($1, 'it''s ?', $2) -- ?\n/* ? */");
	CHECK_INT(n, 2);
	free(t);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_store_postgres_sql__placeholders", test_store_postgres_sql__placeholders},
		{"test_store_postgres_open__unreachable_names_the_url_without_password",
		 test_store_postgres_open__unreachable_names_the_url_without_password},
		{"test_store_postgres_open__migrates_once", test_store_postgres_open__migrates_once},
		{"test_store_postgres_schema__same_as_sqlite", test_store_postgres_schema__same_as_sqlite},
		{"test_store_postgres_sql__round_trips", test_store_postgres_sql__round_trips},
		{"test_store_postgres_sql__constraint_is_conflict",
		 test_store_postgres_sql__constraint_is_conflict},
		{"test_store_postgres_tx__rollback_leaves_nothing",
		 test_store_postgres_tx__rollback_leaves_nothing},
		{"test_store_postgres_tx__failed_statement_fails_the_commit",
		 test_store_postgres_tx__failed_statement_fails_the_commit},
		{"test_store_postgres_read__sees_committed_only",
		 test_store_postgres_read__sees_committed_only},
		{"test_store_postgres_events__page", test_store_postgres_events__page},
		{"test_store_postgres_reconnect__server_restart",
		 test_store_postgres_reconnect__server_restart},
		{NULL, NULL},
	};

	if (!have_postgres()) {
		printf("SKIP test_store_postgres: PostgreSQL's server programs (initdb) are not"
		       " installed; scripts/install-deps.sh installs them\n");
		return 0;
	}
	pg_find_script(script, sizeof(script));
	/* the server runs as nobody when we are root: it must reach its directory */
	if (chmod(gh_test_tmpdir(), 0711) != 0)
		return 2;
	snprintf(dir, sizeof(dir), "%s/pg", gh_test_tmpdir());
	atexit(server_remove);
	watchdog();
	if (!server_start()) {
		fprintf(stderr, "starting PostgreSQL with %s failed\n", script);
		return 2;
	}
	return gh_test_run(cases, argc, argv);
}
