/* bench_expiry.c - N active grants (bulk-inserted with their identities,
 * entitlements and requests), E of them due in the same second: how long the
 * scheduler takes to end them, called directly and as its thread, per grant
 * (from the due time to its grant.expired event: p50, p99, max). The due set
 * is prepared before the scheduler starts and well before the due time.
 * -d is an SQLite file or a postgresql:// URL (an empty database, populated
 * server-side with generate_series, or one that already holds the grants,
 * e.g. a copy made with CREATE DATABASE ... TEMPLATE of a -P run's). */
#include "common/error.h"
#include "common/util.h"
#include "gov/gov.h"
#include "store/sql.h"
#include "store/sqlite/sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define ENTITLEMENTS 100
#define YEAR (365 * 86400)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user, system) this process has used: on a shared machine the
 * wall time waits for other processes too, the CPU time does not. */
static void cpu_s(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "inserting %s: %s\n", what, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Grant i belongs to subject i / ENTITLEMENTS and entitlement i % ENTITLEMENTS;
 * every (n / expiring)-th grant expires at `due`, the rest a year later. */
static int populate(gh_gov *g, long n, long expiring, int64_t now, int64_t due)
{
	gh_store *s = gh_gov_store(g);
	sqlite3 *db = gh_store_db(s);
	sqlite3_stmt *idn = NULL, *req = NULL, *grt = NULL;
	long subjects = (n + ENTITLEMENTS - 1) / ENTITLEMENTS, every = n / expiring;
	char sql[1024], id[32], sid[32], eid[32], gid[32];
	int rc = -1;

	if (gh_store_begin(s))
		return -1;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO identities(id, kind, name, roles, created_at, updated_at) VALUES"
		 " ('idn_0000000000000001', 'human', 'bench-owner', '[\"requester\"]', %lld, %lld);"
		 "INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		 " ('grp_0000000000000001', 'bench-owners', %lld, %lld);"
		 "INSERT INTO systems(id, name, owner_id, created_at, updated_at) VALUES"
		 " ('sys_0000000000000001', 'bench-db', 'idn_0000000000000001', %lld, %lld);",
		 (long long)now, (long long)now, (long long)now, (long long)now, (long long)now,
		 (long long)now);
	if (exec(db, sql))
		goto fail;
	for (int e = 0; e < ENTITLEMENTS; e++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity,"
			 " environment, control_owner_group_id, max_duration, created_at, updated_at)"
			 " VALUES ('ent_%016x', 'sys_0000000000000001', 'ent-%d', 'low', 'internal',"
			 " 'prod', 'grp_0000000000000001', %d, %lld, %lld)",
			 e + 1, e, 2 * YEAR, (long long)now, (long long)now);
		if (exec(db, sql))
			goto fail;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO identities(id, kind, name, owner_id, purpose,"
				   " environment, expires_at, created_at, updated_at) VALUES"
				   " (?1, 'service_account', ?2, 'idn_0000000000000001', 'bench',"
				   " 'prod', ?3, ?4, ?4)", -1, &idn, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO requests(id, state, channel, submitted_by,"
				   " requester_id, subject_id, entitlement_id, justification, duration,"
				   " decision, required_approvals, grant_id, created_at, updated_at)"
				   " VALUES (?1, 'active', 'api', 'idn_0000000000000001',"
				   " 'idn_0000000000000001', ?2, ?3, 'bench', ?4, '{\"source\":\"bench\","
				   "\"policy_version\":\"bench\",\"outcome\":\"auto_approved\","
				   "\"required_approvals\":0,\"reasons\":[]}', 0, ?5, ?6, ?6)",
				   -1, &req, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO grants(id, subject_id, entitlement_id, request_id,"
				   " status, granted_at, expires_at) VALUES (?1, ?2, ?3, ?4, 'active',"
				   " ?5, ?6)", -1, &grt, NULL)) {
		fprintf(stderr, "preparing: %s\n", sqlite3_errmsg(db));
		goto fail;
	}
	for (long i = 0; i < subjects; i++) {
		snprintf(id, sizeof(id), "idn_%016lx", (unsigned long)(i + 2));
		snprintf(sql, sizeof(sql), "bench-nhi-%ld", i);
		sqlite3_bind_text(idn, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(idn, 2, sql, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(idn, 3, now + 2 * YEAR);
		sqlite3_bind_int64(idn, 4, now);
		if (step_done(db, idn, "an identity"))
			goto fail;
	}
	for (long i = 0; i < n; i++) {
		int64_t exp = (i % every == 0 && i / every < expiring) ? due : due + YEAR;

		if (i && i % 100000 == 0) {   /* big transactions, not one giant one */
			if (gh_store_commit(s) || gh_store_begin(s))
				goto fail_nolock;
		}
		snprintf(id, sizeof(id), "req_%016lx", (unsigned long)(i + 1));
		snprintf(gid, sizeof(gid), "grt_%016lx", (unsigned long)(i + 1));
		snprintf(sid, sizeof(sid), "idn_%016lx", (unsigned long)(i / ENTITLEMENTS + 2));
		snprintf(eid, sizeof(eid), "ent_%016lx", (unsigned long)(i % ENTITLEMENTS + 1));
		sqlite3_bind_text(req, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(req, 2, sid, -1, SQLITE_STATIC);
		sqlite3_bind_text(req, 3, eid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(req, 4, exp - now);
		sqlite3_bind_text(req, 5, gid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(req, 6, now);
		if (step_done(db, req, "a request"))
			goto fail;
		sqlite3_bind_text(grt, 1, gid, -1, SQLITE_STATIC);
		sqlite3_bind_text(grt, 2, sid, -1, SQLITE_STATIC);
		sqlite3_bind_text(grt, 3, eid, -1, SQLITE_STATIC);
		sqlite3_bind_text(grt, 4, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(grt, 5, now);
		sqlite3_bind_int64(grt, 6, exp);
		if (step_done(db, grt, "a grant"))
			goto fail;
	}
	rc = gh_store_commit(s) ? -1 : 0;
	goto done;
fail:
	gh_store_rollback(s);
fail_nolock:
	rc = -1;
done:
	sqlite3_finalize(idn);
	sqlite3_finalize(req);
	sqlite3_finalize(grt);
	return rc;
}

static int is_url(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
}

/* The same data as populate() on PostgreSQL, made by the server from
 * generate_series in one transaction (no round trip per row), then ANALYZE
 * so the planner knows the partial index of active expiries is selective. */
static int populate_pg(gh_gov *g, long n, long expiring, int64_t now, int64_t due)
{
	gh_store *s = gh_gov_store(g);
	long subjects = (n + ENTITLEMENTS - 1) / ENTITLEMENTS, every = n / expiring;
	char sql[2048];
	int rc = -1;

	if (gh_store_begin(s))
		return -1;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO identities(id, kind, name, roles, created_at, updated_at) VALUES"
		 " ('idn_0000000000000001', 'human', 'bench-owner', '[\"requester\"]', %lld, %lld);"
		 "INSERT INTO groups(id, name, created_at, updated_at) VALUES"
		 " ('grp_0000000000000001', 'bench-owners', %lld, %lld);"
		 "INSERT INTO systems(id, name, owner_id, created_at, updated_at) VALUES"
		 " ('sys_0000000000000001', 'bench-db', 'idn_0000000000000001', %lld, %lld);"
		 "INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity,"
		 " environment, control_owner_group_id, max_duration, created_at, updated_at)"
		 " SELECT 'ent_' || lpad(to_hex(e + 1), 16, '0'), 'sys_0000000000000001',"
		 " 'ent-' || e, 'low', 'internal', 'prod', 'grp_0000000000000001', %d, %lld, %lld"
		 " FROM generate_series(0, %d) AS e;"
		 "INSERT INTO identities(id, kind, name, owner_id, purpose, environment, expires_at,"
		 " created_at, updated_at) SELECT 'idn_' || lpad(to_hex(i + 2), 16, '0'),"
		 " 'service_account', 'bench-nhi-' || i, 'idn_0000000000000001', 'bench', 'prod',"
		 " %lld, %lld, %lld FROM generate_series(0, %ld) AS i;",
		 (long long)now, (long long)now, (long long)now, (long long)now, (long long)now,
		 (long long)now, 2 * YEAR, (long long)now, (long long)now, ENTITLEMENTS - 1,
		 (long long)(now + 2 * YEAR), (long long)now, (long long)now, subjects - 1);
	if (gh_sql_exec(s, sql, "inserting the catalog and identities"))
		goto fail;
	/* grant i: subject i / ENTITLEMENTS, entitlement i % ENTITLEMENTS, due
	 * when every-th and among the first `expiring`, as populate() */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO requests(id, state, channel, submitted_by, requester_id, subject_id,"
		 " entitlement_id, justification, duration, decision, required_approvals, grant_id,"
		 " created_at, updated_at) SELECT 'req_' || lpad(to_hex(i + 1), 16, '0'), 'active',"
		 " 'api', 'idn_0000000000000001', 'idn_0000000000000001',"
		 " 'idn_' || lpad(to_hex(i / %d + 2), 16, '0'),"
		 " 'ent_' || lpad(to_hex(i %% %d + 1), 16, '0'), 'bench',"
		 " CASE WHEN i %% %ld = 0 AND i / %ld < %ld THEN %lld ELSE %lld END,"
		 " '{\"source\":\"bench\",\"policy_version\":\"bench\",\"outcome\":"
		 "\"auto_approved\",\"required_approvals\":0,\"reasons\":[]}', 0,"
		 " 'grt_' || lpad(to_hex(i + 1), 16, '0'), %lld, %lld"
		 " FROM generate_series(0::bigint, %ld) AS i;"
		 "INSERT INTO grants(id, subject_id, entitlement_id, request_id, status, granted_at,"
		 " expires_at) SELECT 'grt_' || lpad(to_hex(i + 1), 16, '0'),"
		 " 'idn_' || lpad(to_hex(i / %d + 2), 16, '0'),"
		 " 'ent_' || lpad(to_hex(i %% %d + 1), 16, '0'),"
		 " 'req_' || lpad(to_hex(i + 1), 16, '0'), 'active', %lld,"
		 " CASE WHEN i %% %ld = 0 AND i / %ld < %ld THEN %lld ELSE %lld END"
		 " FROM generate_series(0::bigint, %ld) AS i;",
		 ENTITLEMENTS, ENTITLEMENTS, every, every, expiring, (long long)(due - now),
		 (long long)(due + YEAR - now), (long long)now, (long long)now, n - 1,
		 ENTITLEMENTS, ENTITLEMENTS, (long long)now, every, every, expiring, (long long)due,
		 (long long)(due + YEAR), n - 1);
	if (gh_sql_exec(s, sql, "inserting requests and grants") ||
	    gh_sql_exec(s, "ANALYZE identities; ANALYZE requests; ANALYZE grants", "analyze"))
		goto fail;
	rc = gh_store_commit(s) ? -1 : 0;
	if (rc)
		fprintf(stderr, "populating: %s\n", gh_error_last()->message);
	return rc;
fail:
	fprintf(stderr, "populating: %s\n", gh_error_last()->message);
	gh_store_rollback(s);
	return -1;
}

/* The first column of sql's first row, on the store's backend; -1 when
 * none. */
static long store_count(gh_store *s, const char *sql)
{
	gh_sql *q = NULL;
	long n = -1;
	int rc;

	gh_store_read_begin(s);
	if (gh_sql_prepare_once(&q, s, sql)) {
		fprintf(stderr, "%s: %s\n", sql, gh_error_last()->message);
	} else if ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		if (!gh_sql_column_null(q, 0))
			n = (long)gh_sql_column_int64(q, 0);
	} else {
		gh_sql_fail(q, "counting");
		fprintf(stderr, "%s: step %d: %s\n", sql, rc, gh_error_last()->message);
	}
	gh_sql_finalize(q);
	gh_store_read_end(s);
	return n;
}

static long count(gh_gov *g, const char *sql)
{
	return store_count(gh_gov_store(g), sql);
}

/* Copies file from to to (both closed or quiet: the WAL folded in). */
static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	static char buf[1 << 20];
	size_t k;
	int rc = in && out ? 0 : -1;

	while (!rc && (k = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, k, out) != k)
			rc = -1;
	if (in && ferror(in))
		rc = -1;
	/* on disk before the run: its writeback must not land inside the measurement */
	if (out && (fflush(out) || fsync(fileno(out))))
		rc = -1;
	if (in)
		fclose(in);
	if (out && fclose(out))
		rc = -1;
	if (rc)
		fprintf(stderr, "copying %s to %s failed\n", from, to);
	return rc;
}

/* Folds the whole WAL into the database file, on a connection of its own,
 * waiting (bounded) for the store's background checkpointer; -1 unless every
 * frame made it (a copy of the file alone is only whole after that). */
static int checkpoint(const char *path)
{
	sqlite3 *db = NULL;
	int log = -1, done = -1, rc = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 30000);
		rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
		if (rc != SQLITE_OK)
			fprintf(stderr, "checkpoint of %s: %s (%d of %d frames)\n", path,
				sqlite3_errmsg(db), done, log);
	}
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* A fresh database at path with n active grants, expiring of them at *at
 * (the rest a year later). With a seed file: copied from it when it exists
 * (*at read back from it), else populated and then saved as the seed, so
 * repeated runs at 10,000,000 grants start from the same file. */
static int open_fresh(gh_gov **g, const char *path, const char *seed, long n, long expiring,
		      int64_t now, int64_t *at)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	double t0 = now_s();
	int pg = is_url(path), seeded = !pg && seed && access(seed, R_OK) == 0;

	for (size_t k = 0; !pg && k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s%s", path, suffixes[k]);
		unlink(p);
	}
	if (seeded && copy_file(seed, path))
		return -1;
	if (gh_gov_open(g, path, 1, NULL)) {
		fprintf(stderr, "open: %s\n", gh_error_last()->message);
		return -1;
	}
	/* PostgreSQL: a database that already holds grants is the seed's copy */
	if (pg && count(*g, "SELECT count(*) FROM grants") > 0)
		seeded = 1;
	if (seeded) {
		long have = count(*g, "SELECT count(*) FROM grants WHERE status = 'active'");

		*at = count(*g, "SELECT min(expires_at) FROM grants WHERE status = 'active'");
		if (have != n) {
			fprintf(stderr, "seed %s holds %ld active grants, not %ld\n", seed, have, n);
			return -1;
		}
	} else if (pg) {
		if (populate_pg(*g, n, expiring, now, *at))
			return -1;
	} else {
		/* closed before the copy: with the store open its checkpointer
		 * thread may hold the WAL, and a file copied without its WAL's
		 * frames is not a database */
		if (populate(*g, n, expiring, now, *at))
			return -1;
		gh_gov_free(*g);
		*g = NULL;
		if (checkpoint(path) || (seed && copy_file(path, seed)))
			return -1;
		if (gh_gov_open(g, path, 1, NULL)) {
			fprintf(stderr, "open: %s\n", gh_error_last()->message);
			return -1;
		}
	}
	printf("expiry_setup grants=%ld expiring=%ld seeded=%d seconds=%.1f\n", n, expiring, seeded,
	       now_s() - t0);
	return 0;
}

static int check(gh_gov *g, long expiring)
{
	long grants = count(g, "SELECT count(*) FROM grants WHERE status = 'expired'");
	long reqs = count(g, "SELECT count(*) FROM requests WHERE state = 'expired'");
	long active = count(g, "SELECT count(*) FROM grants WHERE status = 'active'");
	long events = count(g, "SELECT count(*) FROM audit_events WHERE action = 'grant.expired'");
	long once = count(g, "SELECT count(DISTINCT object_id) FROM audit_events"
			     " WHERE action = 'grant.expired'");

	printf("expiry_check expired_grants=%ld expired_requests=%ld still_active=%ld"
	       " grant_expired_events=%ld distinct=%ld\n", grants, reqs, active, events, once);
	return grants == expiring && reqs == expiring && events == expiring && once == expiring
		       ? 0 : -1;
}

/* The machine the numbers come from: CPU model, cores, load average. */
static void print_machine(const char *when)
{
	char line[256], model[128] = "?", load[64] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	int cores = 0;

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *v = strchr(line, ':');
			if (v && model[0] == '?')
				snprintf(model, sizeof(model), "%s", v + 1 + (v[1] == ' '));
			cores++;
		}
	}
	if (f)
		fclose(f);
	model[strcspn(model, "\n")] = '\0';
	if ((f = fopen("/proc/loadavg", "r"))) {
		if (fgets(load, sizeof(load), f))
			load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	printf("expiry_machine when=%s cpu=\"%s\" cores=%d loadavg=\"%s\"\n", when, model, cores,
	       load);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Per grant: from its due time to the ts of its grant.expired event (the
 * moment the scheduler ended it, inside the transaction that committed it). */
static int lag_report(gh_gov *g, long expiring, int64_t due_us, const char *label)
{
	gh_store *s = gh_gov_store(g);
	gh_sql *q = NULL;
	int64_t *lag = malloc((size_t)expiring * sizeof(*lag));
	long n = 0;
	int rc = -1;

	if (!lag)
		return -1;
	gh_store_read_begin(s);
	if (gh_sql_prepare_once(&q, s, "SELECT ts FROM audit_events"
				" WHERE action = 'grant.expired'") == 0) {
		while (gh_sql_step(q) == GH_SQL_ROW && n < expiring)
			lag[n++] = gh_sql_column_int64(q, 0) - due_us;
		rc = 0;
	}
	gh_sql_finalize(q);
	gh_store_read_end(s);
	if (rc == 0 && n > 0) {
		qsort(lag, (size_t)n, sizeof(*lag), cmp_i64);
		printf("expiry_lag mode=%s events=%ld p50_s=%.3f p99_s=%.3f max_s=%.3f min_s=%.3f\n",
		       label, n, (double)lag[n / 2] / 1e6, (double)lag[(n * 99 - 1) / 100] / 1e6,
		       (double)lag[n - 1] / 1e6, (double)lag[0] / 1e6);
	}
	free(lag);
	return rc == 0 && n == expiring ? 0 : -1;
}

/* Moves the expiring grants (all at placeholder `at`) to due through the
 * index of active expiries, then folds the WAL into the database so the
 * scheduler starts from a quiet file. Seconds it took into *took. */
static int move_due(gh_gov *g, const char *path, int64_t at, int64_t due, double *took)
{
	gh_store *s = gh_gov_store(g);
	double t0 = now_s();
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE grants SET expires_at = %lld WHERE status IN"
		 " ('active', 'provisioning') AND expires_at = %lld", (long long)due,
		 (long long)at);
	if (gh_store_begin(s))
		return -1;
	if (gh_sql_exec(s, sql, "moving the due set")) {
		fprintf(stderr, "%s: %s\n", sql, gh_error_last()->message);
		gh_store_rollback(s);
		return -1;
	}
	if (gh_store_commit(s))
		return -1;
	/* a quiet file to start from; not needed for correctness */
	if (!is_url(path) && checkpoint(path))
		fprintf(stderr, "expiry_prepare: the WAL was not folded in before the run\n");
	*took = now_s() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = "bench-expiry.db", *seed = NULL;
	long n = 1000000, expiring = 10000;
	int opt, thread = 1, direct = 1, prepare = 0, sleep_ms = 1000, margin = 3, rc = 1;
	gh_gov *g = NULL;

	while ((opt = getopt(argc, argv, "n:e:d:S:s:m:DTPh")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'e': expiring = atol(optarg); break;
		case 'd': path = optarg; break;
		case 'S': seed = optarg; break;
		case 's': sleep_ms = atoi(optarg); break;
		case 'm': margin = atoi(optarg); break;
		case 'D': thread = 0; break;  /* only the direct call */
		case 'T': direct = 0; break;  /* only the scheduler thread */
		case 'P': prepare = 1; break; /* populate (or check) and stop */
		case 'h':
		default:
			fprintf(stderr, "usage: %s [-n grants] [-e expiring] [-d db|postgresql://...]"
				" [-s max_sleep_ms] [-S seed] [-m margin_s] [-D|-T|-P]\n"
				"  -d  an SQLite file (made afresh) or a postgresql:// URL: an empty\n"
				"      database is populated server-side; one that holds the grants\n"
				"      already (a CREATE DATABASE ... TEMPLATE copy of a -P run's) is used\n"
				"      as it is. Give -D or -T with a URL: each run ends grants\n"
				"  -S  SQLite: copy the populated database from this file (made on first use)\n"
				"  -n  active grants (default 1000000)\n"
				"  -e  of them due in the same second (default 10000)\n"
				"  -m  seconds between the end of setup and the due time (default 3)\n"
				"  -s  the scheduler thread's longest sleep, ms (default 1000)\n"
				"  -D  only the direct call; -T only the scheduler thread;\n"
				"  -P  only populate (an SQLite -S seed, or a PostgreSQL template)\n"
				"Prints expiry_lag mode=direct|thread p50_s p99_s max_s: per grant, from\n"
				"its due time (direct: the call's start) to its grant.expired event;\n"
				"expiry_visible: when the share still active fell to 1/2, 1/100 and 0 as\n"
				"a separate connection saw it; expiry_machine: CPU, cores, load.\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind < argc || n < 1 || expiring < 1 || expiring > n || margin < 1) {
		fprintf(stderr, "%s: bad arguments (-h for usage)\n", argv[0]);
		return 2;
	}
	if (is_url(path) && direct && thread && !prepare) {
		fprintf(stderr, "%s: with a postgresql:// database give -D or -T (each run ends"
			" grants: run the other on a fresh copy)\n", argv[0]);
		return 2;
	}
	if (is_url(path) && seed) {
		fprintf(stderr, "%s: -S is for SQLite; on PostgreSQL copy a -P database with"
			" CREATE DATABASE ... TEMPLATE\n", argv[0]);
		return 2;
	}
	if (gh_init())
		return 1;

	if (prepare) {
		int64_t now = gh_now(), at = now + 3600;

		rc = open_fresh(&g, path, seed, n, expiring, now, &at) ? 1 : 0;
		goto out;
	}
	if (direct) {
		/* due in an hour; the scheduler is run for that second by hand */
		int64_t now = gh_now(), due = now + 3600;
		int expired = 0, sla = 0;
		double t0, u0, s0, u1, s1;

		if (open_fresh(&g, path, seed, n, expiring, now, &due))
			goto out;
		print_machine("before");
		cpu_s(&u0, &s0);
		t0 = now_s();
		if (gh_gov_sched_run(g, due, &expired, &sla)) {
			fprintf(stderr, "gh_gov_sched_run: %s\n", gh_error_last()->message);
			goto out;
		}
		cpu_s(&u1, &s1);
		printf("expiry_direct grants=%ld due=%ld expired=%d seconds=%.3f cpu_user_s=%.3f"
		       " cpu_sys_s=%.3f\n", n, expiring, expired, now_s() - t0, u1 - u0, s1 - s0);
		/* lag here: from the start of the call to each grant's event */
		if (expired != expiring || check(g, expiring) ||
		    lag_report(g, expiring, (int64_t)(t0 * 1e6) + gh_time_offset() * 1000000,
			       "direct"))
			goto out;
		gh_gov_free(g);
		g = NULL;
	}
	if (thread) {
		/* The due set is prepared first (placeholder an hour ahead, then moved
		 * to `due`), and due lies `margin` seconds after that preparation
		 * ended, so setup never eats into the measured lag. The scheduler
		 * thread then starts idle and must wake for due on its own. */
		int64_t now = gh_now(), at = now + 3600, due = 0, prev;
		double took = 0, t_done, deadline, p_vis[3] = {-1, -1, -1};
		long done = 0, remaining = -1;
		sqlite3 *watch = NULL;
		sqlite3_stmt *left = NULL;
		gh_store *pg_watch = NULL;

		if (open_fresh(&g, path, seed, n, expiring, now, &at))
			goto out;
		prev = at;
		for (int tries = 0; tries < 4; tries++) {
			due = gh_now() + margin + (int64_t)(2 * took);
			if (move_due(g, path, prev, due, &took))
				goto out;
			prev = due;
			if (now_s() + margin / 2.0 < (double)due)
				break;   /* finished with time to spare: a quiet start */
		}
		printf("expiry_prepare seconds=%.3f due_in_s=%.3f\n", took, (double)due - now_s());
		if (now_s() >= (double)due) {
			fprintf(stderr, "preparing the due set overran the due time\n");
			goto out;
		}
		print_machine("before");
		if (gh_gov_sched_start(g, sleep_ms)) {
			fprintf(stderr, "gh_gov_sched_start: %s\n", gh_error_last()->message);
			goto out;
		}
		/* watch on a separate read-only connection (WAL readers do not block
		 * the writer) with a query on the partial index of active grants;
		 * the share still not visible gives the commit-visible percentiles */
		if (is_url(path)) {
			/* PostgreSQL: a store of its own (its own connections) */
			if (gh_store_open(&pg_watch, path, 0)) {
				fprintf(stderr, "watching: %s\n", gh_error_last()->message);
				goto out;
			}
		} else if (sqlite3_open_v2(path, &watch, SQLITE_OPEN_READONLY, NULL) ||
		    sqlite3_prepare_v2(watch, "SELECT count(*) FROM grants WHERE status IN"
					      " ('active', 'provisioning') AND expires_at <= ?",
				       -1, &left, NULL)) {
			fprintf(stderr, "watching: %s\n", sqlite3_errmsg(watch));
			sqlite3_finalize(left);
			sqlite3_close(watch);
			goto out;
		}
		if (left)
			sqlite3_bind_int64(left, 1, due);
		deadline = (double)due + 120;
		while (now_s() < (double)due - 0.05)
			usleep(10000);
		while (now_s() < deadline) {
			if (pg_watch) {
				gh_sql *q = NULL;

				gh_store_read_begin(pg_watch);
				if (gh_sql_prepare(&q, pg_watch, "SELECT count(*) FROM grants WHERE"
						   " status IN ('active', 'provisioning')"
						   " AND expires_at <= ?1") == 0) {
					gh_sql_bind_int64(q, 1, due);
					if (gh_sql_step(q) == GH_SQL_ROW)
						remaining = (long)gh_sql_column_int64(q, 0);
					gh_sql_reset(q);
				}
				gh_store_read_end(pg_watch);
			} else {
				if (sqlite3_step(left) == SQLITE_ROW)
					remaining = (long)sqlite3_column_int64(left, 0);
				sqlite3_reset(left);
			}
			if (remaining >= 0 && p_vis[0] < 0 && remaining <= expiring / 2)
				p_vis[0] = now_s() - (double)due;
			if (remaining >= 0 && p_vis[1] < 0 && remaining <= expiring / 100)
				p_vis[1] = now_s() - (double)due;
			if (remaining == 0)
				break;
			usleep(2000);
		}
		t_done = now_s();
		p_vis[2] = t_done - (double)due;
		print_machine("after");
		done = count(g, "SELECT count(*) FROM grants WHERE status = 'expired'");
		gh_gov_sched_stop(g);
		sqlite3_finalize(left);
		sqlite3_close(watch);
		gh_store_free(pg_watch);
		printf("expiry_thread grants=%ld due=%ld expired=%ld max_sleep_ms=%d"
		       " seconds_after_due=%.3f\n", n, expiring, done, sleep_ms, t_done - (double)due);
		printf("expiry_visible p50_s=%.3f p99_s=%.3f max_s=%.3f\n", p_vis[0], p_vis[1],
		       p_vis[2]);
		if (done < expiring || check(g, expiring) || lag_report(g, expiring, due * 1000000, "thread"))
			goto out;
	}
	rc = 0;
out:
	gh_gov_free(g);
	return rc;
}
