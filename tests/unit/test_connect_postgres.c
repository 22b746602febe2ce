/* test_connect_postgres.c - the postgres connector against a real PostgreSQL
 * server started by tests/support/pg_server.sh in a temporary directory. */
#include "connect/connect.h"
#include "connect_fixture.h"
#include "common/error.h"
#include "harness.h"
#include "pg_script.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char script[512];         /* tests/support/pg_server.sh */
static char dir[512];            /* the server's directory */
static char conninfo[700];       /* as the gatehouse role, over TCP */
static char password_file[700];
static char password[128];       /* the gatehouse role's, never in a message */
static char password_ref[720];   /* "file:" + password_file */
static PGconn *admin;            /* the superuser, over the socket in dir */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Starts (or restarts) the server and reads the lines the script prints. */
static int server_start(void)
{
	char cmd[1200], line[680];
	FILE *p;
	int ok = 0;

	snprintf(cmd, sizeof(cmd), "'%s' start '%s'", script, dir);
	if (!(p = popen(cmd, "r")))
		return 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "conninfo=", 9) == 0)
			snprintf(conninfo, sizeof(conninfo), "%s", line + 9), ok++;
		else if (strncmp(line, "password_file=", 14) == 0)
			snprintf(password_file, sizeof(password_file), "%s", line + 14), ok++;
	}
	return pclose(p) == 0 && ok == 2;
}

static void server_stop(void)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1", script, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "stopping the test server in %s failed\n", dir);
}

static void admin_close(void)
{
	PQfinish(admin);
	admin = NULL;
}

static void server_remove(void)
{
	char cmd[1200];

	server_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "removing %s failed\n", dir);
}

/* At exit, also when a case failed: no server is left running. */
static void cleanup_at_exit(void)
{
	admin_close();
	server_remove();
}

/* A child that stops the server when this process is gone, however it ends
 * (a crash skips atexit): it waits for the end of a pipe only we hold. */
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
		close(fd[0]);   /* fd[1] stays open (and is not inherited) until we exit */
		return;
	}
	close(fd[1]);
	if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
		_exit(1);
	for (int i = 0; i < 1000 && read(fd[0], &c, 1) < 0; i++)
		;   /* interrupted: wait again */
	server_remove();
	_exit(0);
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *admin_conn(void)
{
	char ci[700];
	const char *port;

	if (admin && PQstatus(admin) == CONNECTION_OK)
		return admin;
	admin_close();
	port = strstr(conninfo, "port=") + 5;
	snprintf(ci, sizeof(ci), "host=%s port=%.*s dbname=postgres user=postgres", dir,
		 (int)strcspn(port, " "), port);
	admin = PQconnectdb(ci);
	PQsetNoticeProcessor(admin, quiet, NULL);
	if (PQstatus(admin) != CONNECTION_OK) {
		fprintf(stderr, "admin connection: %s", PQerrorMessage(admin));
		exit(2);
	}
	return admin;
}

/* Runs SQL as the superuser; params are $1.. */
static int admin_exec(const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(admin_conn(), sql, n, NULL, params, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "  admin SQL failed: %s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* Creates (again) a role with a name that may need quoting. */
static void make_role(const char *name, int login)
{
	char *q = PQescapeIdentifier(admin_conn(), name, strlen(name));
	char sql[512];

	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", q);
	CHECK(admin_exec(sql, 0, NULL));
	snprintf(sql, sizeof(sql), "CREATE ROLE %s %s", q, login ? "LOGIN" : "NOLOGIN");
	CHECK(admin_exec(sql, 0, NULL));
	PQfreemem(q);
}

static int role_exists(const char *name)
{
	PGresult *r = PQexecParams(admin_conn(), "SELECT 1 FROM pg_roles WHERE rolname = $1", 1,
				   NULL, &name, NULL, NULL, 0);
	int n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;

	PQclear(r);
	return n;
}

/* 1 when account is a direct member of target, read from pg_auth_members. */
static int member(const char *account, const char *target)
{
	const char *params[2] = {target, account};
	PGresult *r = PQexecParams(admin_conn(),
				   "SELECT 1 FROM pg_auth_members am "
				   "JOIN pg_roles r ON r.oid = am.roleid "
				   "JOIN pg_roles m ON m.oid = am.member "
				   "WHERE r.rolname = $1 AND m.rolname = $2", 2, NULL, params, NULL,
				   NULL, 0);
	int n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;

	PQclear(r);
	return n;
}

/* The settings of a postgres instance of a server configuration. */
static json_t *settings_with(const char *ci, const char *ref, int timeout)
{
	char text[4096], secret[1024] = "";

	if (ref)
		cx_secret_yaml(secret, sizeof(secret), "pg-password", ref);
	snprintf(text, sizeof(text), "secrets:\n%sconnectors:\n  billing-pg:\n    kind: postgres\n"
		 "    conninfo: \"%s\"\n%s    connect_timeout: %ds\n", ref ? secret : "  {}\n",
		 ci, ref ? "    password_secret: pg-password\n" : "", timeout);
	if (!ref)
		snprintf(text, sizeof(text), "connectors:\n  billing-pg:\n    kind: postgres\n"
			 "    conninfo: \"%s\"\n    connect_timeout: %ds\n", ci, timeout);
	return cx_instance(text, "billing-pg", NULL);
}

static json_t *good_settings(void)
{
	return settings_with(conninfo, password_ref, 2);
}

/* The error names no password: checked after every failure. */
static int message_clean(void)
{
	const gh_error *e = gh_error_last();
	char *fields = e->fields ? json_dumps(e->fields, 0) : NULL;
	int ok = !strstr(e->message, password) && !strstr(e->message, "hunter2") &&
		 (!fields || (!strstr(fields, password) && !strstr(fields, "hunter2")));

	free(fields);
	return ok;
}

static int has_field(const char *field)
{
	json_t *item;
	size_t i;

	json_array_foreach(gh_error_last()->fields, i, item)
		if (strcmp(json_string_value(json_object_get(item, "field")), field) == 0)
			return 1;
	return 0;
}

static int apply(const json_t *s, const char *op, const char *account, const char *target,
		 json_t **receipt)
{
	gh_conn_job job = {.op = op, .job_id = "job_0000000000000001",
			   .grant_id = "grt_0000000000000001", .account = account,
			   .target = target, .attempt = 1};
	json_t *r = NULL;
	int rc = gh_connector_postgres.apply(s, &job, &r);

	if (rc)
		CHECK(message_clean());
	if (receipt)
		*receipt = r;
	else
		json_decref(r);
	return rc;
}

static const char *receipt_result(const json_t *r)
{
	return json_string_value(json_object_get(r, "result"));
}

/* ---- settings ---- */

/* As the API does: a fresh error state for each validation. */
static int check_settings(const json_t *s)
{
	gh_error_clear();
	return gh_connector_check("postgres", s);
}

static void test_connect_postgres_check__good(void)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:i}", "conninfo", conninfo, "password_ref",
			      "env:PG_PASSWORD", "account_attribute", "pg_login", "connect_timeout",
			      3);

	CHECK_INT(check_settings(s), 0);
	json_decref(s);
	s = json_pack("{s:s}", "conninfo", "postgresql://gatehouse@127.0.0.1:5432/postgres");
	CHECK_INT(check_settings(s), 0);
	json_decref(s);
}

static void test_connect_postgres_check__missing_conninfo(void)
{
	json_t *s = json_pack("{s:s}", "password_ref", "env:X");

	CHECK_INT(check_settings(s), GH_EINVALID);
	CHECK(has_field("connector_settings.conninfo"));
	json_decref(s);
	CHECK_INT(check_settings(NULL), GH_EINVALID);
	s = json_pack("{s:i}", "conninfo", 5);
	CHECK_INT(check_settings(s), GH_EINVALID);
	CHECK(has_field("connector_settings.conninfo"));
	json_decref(s);
}

static void test_connect_postgres_check__password_in_conninfo(void)
{
	static const char *const bad[] = {
		"host=127.0.0.1 user=gatehouse password=hunter2",
		"postgresql://gatehouse:hunter2@127.0.0.1:5432/postgres",
		"postgresql://gatehouse@127.0.0.1/postgres?password=hunter2", NULL};

	for (int i = 0; bad[i]; i++) {
		json_t *s = json_pack("{s:s}", "conninfo", bad[i]);

		CHECK_INT(check_settings(s), GH_EINVALID);
		CHECK(has_field("connector_settings.conninfo"));
		CHECK(message_clean());
		json_decref(s);
	}
}

static void test_connect_postgres_check__bad_values(void)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:i}", "conninfo", "host=127.0.0.1 nosuchkey=1",
			      "password_ref", "vault:x", "account_attribute", "", "connect_timeout",
			      0);

	CHECK_INT(check_settings(s), GH_EINVALID);
	CHECK(has_field("connector_settings.conninfo"));
	CHECK(has_field("connector_settings.password_ref"));
	CHECK(has_field("connector_settings.account_attribute"));
	CHECK(has_field("connector_settings.connect_timeout"));
	CHECK_INT(json_array_size(gh_error_last()->fields), 4);
	json_decref(s);
}

static void test_connect_postgres_check__unknown_key(void)
{
	json_t *s = json_pack("{s:s, s:s}", "conninfo", conninfo, "schema", "public");
	char *f;

	CHECK_INT(check_settings(s), GH_EINVALID);
	CHECK(has_field("connector_settings"));
	f = json_dumps(gh_error_last()->fields, 0);
	CHECK(f && strstr(f, "unknown key") && strstr(f, "schema"));
	free(f);
	json_decref(s);
}

static void test_connect_postgres_check__inline_secret(void)
{
	json_t *s = json_pack("{s:s, s:s}", "conninfo", conninfo, "password", "hunter2");
	char *f;

	CHECK_INT(check_settings(s), GH_EINVALID);
	f = json_dumps(gh_error_last()->fields, 0);
	CHECK(f && strstr(f, "password_ref"));
	CHECK(message_clean());
	free(f);
	json_decref(s);
}

/* ---- grant and revoke ---- */

static void test_connect_postgres_grant__then_revoke(void)
{
	json_t *s = good_settings(), *r = NULL;

	make_role("svc_billing", 1);
	make_role("billing_read", 0);
	CHECK_INT(member("svc_billing", "billing_read"), 0);

	CHECK_INT(apply(s, "grant", "svc_billing", "billing_read", &r), 0);
	CHECK_STR(receipt_result(r), "granted");
	CHECK_STR(json_string_value(json_object_get(r, "server")), "127.0.0.1");
	json_decref(r);
	CHECK_INT(member("svc_billing", "billing_read"), 1);

	CHECK_INT(apply(s, "grant", "svc_billing", "billing_read", &r), 0);   /* idempotent */
	CHECK_STR(receipt_result(r), "already_member");
	json_decref(r);
	CHECK_INT(member("svc_billing", "billing_read"), 1);

	CHECK_INT(apply(s, "revoke", "svc_billing", "billing_read", &r), 0);
	CHECK_STR(receipt_result(r), "revoked");
	json_decref(r);
	CHECK_INT(member("svc_billing", "billing_read"), 0);

	CHECK_INT(apply(s, "revoke", "svc_billing", "billing_read", &r), 0);  /* idempotent */
	CHECK_STR(receipt_result(r), "not_member");
	json_decref(r);
	CHECK_INT(member("svc_billing", "billing_read"), 0);
	json_decref(s);
}

static void test_connect_postgres_grant__missing_roles(void)
{
	json_t *s = good_settings(), *r = NULL;

	make_role("billing_read", 0);
	make_role("svc_exists", 1);
	CHECK_INT(apply(s, "grant", "svc_nobody", "billing_read", NULL), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "role svc_nobody does not exist") != NULL);
	CHECK_INT(apply(s, "grant", "svc_exists", "no_such_group", NULL), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "role no_such_group does not exist") != NULL);
	/* nothing to take away: a revoke succeeds */
	CHECK_INT(apply(s, "revoke", "svc_nobody", "billing_read", &r), 0);
	CHECK_STR(receipt_result(r), "no_such_role");
	json_decref(r);
	CHECK_INT(apply(s, "revoke", "svc_exists", "no_such_group", NULL), 0);
	/* the connection is still good after the errors */
	CHECK_INT(apply(s, "grant", "svc_exists", "billing_read", NULL), 0);
	CHECK_INT(member("svc_exists", "billing_read"), 1);
	json_decref(s);
}

static void test_connect_postgres_grant__bad_jobs(void)
{
	json_t *s = good_settings();
	char longname[80];

	memset(longname, 'x', 64);
	longname[64] = '\0';
	CHECK_INT(apply(s, "alter", "a", "b", NULL), GH_EINVALID);
	CHECK_INT(apply(s, "grant", "", "b", NULL), GH_EINVALID);
	CHECK_INT(apply(s, "grant", "a", NULL, NULL), GH_EINVALID);
	/* the server would cut the name to 63 bytes and act on another role */
	CHECK_INT(apply(s, "grant", longname, "billing_read", NULL), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "longer than 63") != NULL);
	json_decref(s);
}

static void test_connect_postgres_grant__quoted_names(void)
{
	static const char *const odd[] = {"a\"b c", "Mixed Case", "o'brien; --", "ünïcödé", NULL};
	json_t *s = good_settings();

	make_role("victim", 1);
	for (int i = 0; odd[i]; i++) {
		make_role(odd[i], 1);
		make_role("group \"x\"", 0);
		CHECK_INT(apply(s, "grant", odd[i], "group \"x\"", NULL), 0);
		CHECK_INT(member(odd[i], "group \"x\""), 1);
		CHECK_INT(apply(s, "grant", "victim", odd[i], NULL), 0);
		CHECK_INT(member("victim", odd[i]), 1);
		CHECK_INT(apply(s, "revoke", "victim", odd[i], NULL), 0);
		CHECK_INT(member("victim", odd[i]), 0);
	}
	/* Injection attempts are names of roles that do not exist, nothing more. */
	make_role("billing_read", 0);
	CHECK_INT(apply(s, "grant", "victim\"; DROP ROLE victim; --", "billing_read", NULL),
		  GH_EINVALID);
	CHECK_INT(apply(s, "grant", "victim", "billing_read\" TO \"victim\"; DROP ROLE victim; --",
			NULL), GH_EINVALID);
	CHECK_INT(apply(s, "revoke", "x\" FROM \"y\"; DROP ROLE victim; --", "billing_read", NULL),
		  0);
	CHECK_INT(role_exists("victim"), 1);
	CHECK_INT(member("victim", "billing_read"), 0);
	json_decref(s);
}

/* ---- list ---- */

static int listed(const gh_conn_access *a, size_t n, const char *account, const char *target)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].account, account) == 0 && strcmp(a[i].target, target) == 0)
			return 1;
	return 0;
}

static void test_connect_postgres_list__exactly_the_targets(void)
{
	const char *targets[] = {"l_one", "l two\"", "l_absent"};
	json_t *s = good_settings();
	gh_conn_access *a = NULL;
	size_t n = 99;

	make_role("l_one", 0);
	make_role("l two\"", 0);
	make_role("l_three", 0);
	make_role("lu_a", 1);
	make_role("lu_b", 1);
	CHECK_INT(apply(s, "grant", "lu_a", "l_one", NULL), 0);
	CHECK_INT(apply(s, "grant", "lu_b", "l_one", NULL), 0);
	CHECK_INT(apply(s, "grant", "lu_a", "l two\"", NULL), 0);
	CHECK_INT(apply(s, "grant", "lu_b", "l_three", NULL), 0);    /* not asked for */
	/* added directly downstream (shadow access) is listed too */
	CHECK(admin_exec("GRANT \"l two\"\"\" TO lu_b", 0, NULL));

	CHECK_INT(gh_connector_postgres.list(s, targets, 3, &a, &n), 0);
	CHECK_INT(n, 4);
	CHECK(listed(a, n, "lu_a", "l_one"));
	CHECK(listed(a, n, "lu_b", "l_one"));
	CHECK(listed(a, n, "lu_a", "l two\""));
	CHECK(listed(a, n, "lu_b", "l two\""));
	CHECK(!listed(a, n, "lu_b", "l_three"));
	gh_conn_access_free(a, n);

	a = NULL;
	CHECK_INT(gh_connector_postgres.list(s, targets, 0, &a, &n), 0);
	CHECK_INT(n, 0);
	CHECK(a == NULL);
	CHECK_INT(gh_connector_postgres.list(s, targets + 2, 1, &a, &n), 0);
	CHECK_INT(n, 0);
	gh_conn_access_free(a, n);
	json_decref(s);
}

/* ---- secrets ---- */

static void test_connect_postgres_secret__refs(void)
{
	char wrong[700], ref[720];
	json_t *s;
	FILE *f;

	make_role("sec_user", 1);
	make_role("sec_group", 0);
	/* from the environment */
	setenv("GH_TEST_PG_PASSWORD", password, 1);
	s = settings_with(conninfo, "env:GH_TEST_PG_PASSWORD", 2);
	CHECK_INT(apply(s, "grant", "sec_user", "sec_group", NULL), 0);
	json_decref(s);
	unsetenv("GH_TEST_PG_PASSWORD");

	/* a missing secret: the settings are wrong, and the message names the ref */
	s = settings_with(conninfo, "file:/nonexistent/pg-password", 2);
	CHECK_INT(apply(s, "revoke", "sec_user", "sec_group", NULL), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "file:/nonexistent/pg-password") != NULL);
	json_decref(s);

	/* a wrong password: refused by the server, neither password in the message */
	snprintf(wrong, sizeof(wrong), "%s/wrong-password", gh_test_tmpdir());
	f = fopen(wrong, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("hunter2\n", f);
		fclose(f);
	}
	snprintf(ref, sizeof(ref), "file:%s", wrong);
	s = settings_with(conninfo, ref, 4);
	CHECK_INT(apply(s, "revoke", "sec_user", "sec_group", NULL), GH_ERROR);
	CHECK(strstr(gh_error_last()->message, "password authentication failed") != NULL);
	json_decref(s);
	/* no password at all */
	s = settings_with(conninfo, NULL, 5);
	CHECK_INT(apply(s, "revoke", "sec_user", "sec_group", NULL), GH_ERROR);
	json_decref(s);
	CHECK_INT(member("sec_user", "sec_group"), 1);
}

/* ---- the server going away ---- */

static void test_connect_postgres_server__stopped_then_back(void)
{
	json_t *s = good_settings();
	gh_conn_access *a = NULL;
	const char *t = "down_group";
	size_t n = 0;
	double t0;

	make_role("down_user", 1);
	make_role("down_group", 0);
	CHECK_INT(apply(s, "grant", "down_user", "down_group", NULL), 0);  /* pools a connection */
	admin_close();
	server_stop();

	t0 = now_ms();
	CHECK_INT(apply(s, "revoke", "down_user", "down_group", NULL), GH_ERROR);
	CHECK(now_ms() - t0 < 3000);
	CHECK(strstr(gh_error_last()->message, "postgres") != NULL);
	CHECK_INT(gh_connector_postgres.list(s, &t, 1, &a, &n), GH_ERROR);
	CHECK(message_clean());

	/* unreachable address: bounded by connect_timeout */
	json_t *far = settings_with("host=10.255.255.1 port=5432 dbname=postgres user=gatehouse",
				    password_ref, 1);
	t0 = now_ms();
	CHECK_INT(apply(far, "revoke", "down_user", "down_group", NULL), GH_ERROR);
	CHECK(now_ms() - t0 < 4000);
	json_decref(far);

	if (!CHECK(server_start()))
		exit(2);
	CHECK_INT(apply(s, "revoke", "down_user", "down_group", NULL), 0);
	CHECK_INT(member("down_user", "down_group"), 0);

	/* a restart between two calls: the pooled connection is broken, dropped
	 * and the statement runs on a fresh one */
	admin_close();
	server_stop();
	if (!CHECK(server_start()))
		exit(2);
	CHECK_INT(apply(s, "grant", "down_user", "down_group", NULL), 0);
	CHECK_INT(member("down_user", "down_group"), 1);
	json_decref(s);
}

/* ---- several workers at once, and how long a call takes ---- */

#define THREADS 4
#define PER_THREAD 50

static void *worker(void *arg)
{
	long id = (long)arg;
	json_t *s = good_settings();
	char account[32];
	long bad = 0;

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(account, sizeof(account), "par_%ld_%d", id, i);
		bad += apply(s, "grant", account, "par_group", NULL) != 0;
		bad += apply(s, "revoke", account, "par_group", NULL) != 0;
		bad += apply(s, "grant", account, "par_group", NULL) != 0;
	}
	json_decref(s);
	return (void *)bad;
}

static void test_connect_postgres_threads__grant_revoke_in_parallel(void)
{
	pthread_t th[THREADS];
	char sql[320];
	void *bad;
	long total = 0;

	make_role("par_group", 0);
	snprintf(sql, sizeof(sql), "DO $$ BEGIN FOR i IN 0..%d LOOP FOR j IN 0..%d LOOP "
		 "EXECUTE format('DROP ROLE IF EXISTS par_%%s_%%s; CREATE ROLE par_%%s_%%s', "
		 "i, j, i, j); END LOOP; END LOOP; END $$", THREADS - 1, PER_THREAD - 1);
	CHECK(admin_exec(sql, 0, NULL));
	for (long i = 0; i < THREADS; i++)
		CHECK_INT(pthread_create(&th[i], NULL, worker, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], &bad);
		total += (long)bad;
	}
	CHECK_INT(total, 0);
	CHECK_INT(member("par_3_49", "par_group"), 1);
	CHECK_INT(member("par_0_0", "par_group"), 1);
}

static void test_connect_postgres_timing__per_call(void)
{
	json_t *s = good_settings();
	char account[32];
	double t0, grant_ms, revoke_ms;
	int bad = 0, n = 200;

	make_role("tim_group", 0);
	CHECK(admin_exec("DO $$ BEGIN FOR i IN 0..199 LOOP EXECUTE format("
			 "'DROP ROLE IF EXISTS tim_%s; CREATE ROLE tim_%s', i, i); END LOOP; "
			 "END $$", 0, NULL));
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		snprintf(account, sizeof(account), "tim_%d", i);
		bad += apply(s, "grant", account, "tim_group", NULL) != 0;
	}
	grant_ms = (now_ms() - t0) / n;
	CHECK_INT(member("tim_0", "tim_group"), 1);
	CHECK_INT(member("tim_199", "tim_group"), 1);
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		snprintf(account, sizeof(account), "tim_%d", i);
		bad += apply(s, "revoke", account, "tim_group", NULL) != 0;
	}
	revoke_ms = (now_ms() - t0) / n;
	CHECK_INT(member("tim_199", "tim_group"), 0);
	CHECK_INT(bad, 0);
	printf("  postgres connector, one thread, pooled connection: grant %.3f ms, "
	       "revoke %.3f ms per call\n", grant_ms, revoke_ms);
	/* a new connection per call would cost several ms (scram, backend start) */
	CHECK(revoke_ms < 50);
	json_decref(s);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_connect_postgres_check__good", test_connect_postgres_check__good},
		{"test_connect_postgres_check__missing_conninfo",
		 test_connect_postgres_check__missing_conninfo},
		{"test_connect_postgres_check__password_in_conninfo",
		 test_connect_postgres_check__password_in_conninfo},
		{"test_connect_postgres_check__bad_values", test_connect_postgres_check__bad_values},
		{"test_connect_postgres_check__unknown_key", test_connect_postgres_check__unknown_key},
		{"test_connect_postgres_check__inline_secret",
		 test_connect_postgres_check__inline_secret},
		{"test_connect_postgres_grant__then_revoke", test_connect_postgres_grant__then_revoke},
		{"test_connect_postgres_grant__missing_roles",
		 test_connect_postgres_grant__missing_roles},
		{"test_connect_postgres_grant__bad_jobs", test_connect_postgres_grant__bad_jobs},
		{"test_connect_postgres_grant__quoted_names", test_connect_postgres_grant__quoted_names},
		{"test_connect_postgres_list__exactly_the_targets",
		 test_connect_postgres_list__exactly_the_targets},
		{"test_connect_postgres_secret__refs", test_connect_postgres_secret__refs},
		{"test_connect_postgres_server__stopped_then_back",
		 test_connect_postgres_server__stopped_then_back},
		{"test_connect_postgres_threads__grant_revoke_in_parallel",
		 test_connect_postgres_threads__grant_revoke_in_parallel},
		{"test_connect_postgres_timing__per_call", test_connect_postgres_timing__per_call},
		{NULL, NULL},
	};
	FILE *f;

	pg_find_script(script, sizeof(script));
	/* the server runs as nobody when we are root: it must reach its directory */
	if (chmod(gh_test_tmpdir(), 0711) != 0)
		return 2;
	snprintf(dir, sizeof(dir), "%s/pg", gh_test_tmpdir());
	atexit(cleanup_at_exit);
	watchdog();
	if (!server_start()) {
		fprintf(stderr, "starting PostgreSQL with %s failed\n", script);
		return 2;
	}
	if (!(f = fopen(password_file, "r")) || !fgets(password, sizeof(password), f))
		return 2;
	fclose(f);
	password[strcspn(password, "\n")] = '\0';
	snprintf(password_ref, sizeof(password_ref), "file:%s", password_file);
	return gh_test_run(cases, argc, argv);
}
