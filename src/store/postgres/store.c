/* store.c - the PostgreSQL backend: one connection for writes, with group
 * commit (store/batch.h: each gh_store_begin/commit a savepoint, a burst of
 * them one transaction; trials as nested savepoints), pooled connections for
 * read sections (REPEATABLE READ READ ONLY: one snapshot), migrations, and
 * reconnection after the server went away. */
#include "store/postgres/pg.h"
#include "store/batch.h"
#include "common/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Held for the whole migration, so nodes starting together migrate once. */
#define MIGRATION_LOCK "4747001"

/* A batch's operations are subtransactions; past 64 in one transaction
 * PostgreSQL's per-backend cache of them overflows and every other session's
 * snapshots get slower. */
#define PG_BATCH_MAX 32

typedef struct pg_store pg_store;

struct pg_store {
	gh_store base;           /* first: the backend table */
	char *url;               /* as given: may hold a password, never shown */
	char *shown;             /* the URL without its password, for messages */
	gh_pg_conn *writer;
	gh_store_batch batch;    /* the writer's lock and group commit */
	int version;
	gh_store_log_cache log;  /* the audit module's; forgotten at every batch: other nodes write too */
	int (*before_release)(gh_store *s, void *ctx);
	void *before_release_ctx;
	void (*after_wait)(gh_store *s, void *ctx);
	void *after_wait_ctx;
	pthread_mutex_t readers_lock;
	gh_pg_conn *free_readers;
	gh_pg_conn *all_readers;
	int nreaders, max_readers;   /* max_readers < 0: no cap */
};

/* The read section the calling thread is in, if any. */
static _Thread_local struct {
	pg_store *store;
	gh_pg_conn *r;           /* its reader; NULL: it reads on the writer */
	int depth;
	int in_write;            /* on the writer inside this thread's own write */
} cur;

/* The calling thread runs the after_wait test hook (its commits skip it). */
static _Thread_local int in_after_wait;

static const gh_store_backend pg_backend;
static const gh_store_batch_steps pg_steps;

static pg_store *ps(gh_store *g)
{
	return (pg_store *)g;   /* the gh_store is the first member */
}

/* The connection the calling thread uses on s. */
static gh_pg_conn *conn(pg_store *s)
{
	return cur.store == s && cur.r ? cur.r : s->writer;
}

/* url without the password of its user part or of a password= parameter. */
static char *redact(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *start = scheme ? scheme + 3 : url;
	size_t host_at = strcspn(start, "/?");
	const char *at = memchr(start, '@', host_at);
	char *out = malloc(strlen(url) + 1), *o = out;
	const char *p = url;

	if (!out)
		return NULL;
	if (at) {
		const char *colon = memchr(start, ':', (size_t)(at - start));
		if (colon) {
			memcpy(o, url, (size_t)(colon - url));
			o += colon - url;
			p = at;
		}
	}
	while (*p) {
		/* a password=... parameter in the query: drop it up to the next & */
		if (p > url && (p[-1] == '?' || p[-1] == '&') && strncmp(p, "password=", 9) == 0) {
			p += strcspn(p, "&");
			if (*p == '&')
				p++;
			else if (o > out && (o[-1] == '&' || o[-1] == '?'))
				o--;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

gh_pg_conn *gh_pg_conn_open(const char *url, char **error)
{
	gh_pg_conn *c = calloc(1, sizeof(*c));
	const char *m;
	size_t n;

	*error = NULL;
	if (!c) {
		*error = strdup("out of memory");
		return NULL;
	}
	c->db = PQconnectdb(url);
	if (!c->db || PQstatus(c->db) != CONNECTION_OK) {
		m = c->db ? PQerrorMessage(c->db) : "out of memory";
		n = strlen(m);
		while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
			n--;
		*error = strndup(m, n);
		PQfinish(c->db);
		free(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->db, quiet, NULL);
	return c;
}

void gh_pg_conn_free(gh_pg_conn *c)
{
	if (!c)
		return;
	gh_pg_conn_forget(c);
	PQfinish(c->db);
	free(c);
}

int gh_pg_exec(gh_pg_conn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c->db, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c->db);
		rc = gh_error_set(gh_pg_error_code(r), "%s: %.*s", what,
				  (int)strcspn(m, "\n"), m);
	}
	PQclear(r);
	return rc;
}

/* A connection that broke (a server restart) is reconnected once; its
 * prepared statements are gone with the old session. */
static void revive(gh_pg_conn *c)
{
	if (PQstatus(c->db) == CONNECTION_OK)
		return;
	PQreset(c->db);
	gh_pg_conn_forget(c);
}

/* Starts a transaction with sql (BEGIN ...). A connection found broken only
 * now (the server restarted since its last use) is reconnected and the
 * start tried once more: nothing had run in it yet. */
static int start(gh_pg_conn *c, const char *sql, const char *what)
{
	int rc;

	revive(c);
	if ((rc = gh_pg_exec(c, sql, what)) && PQstatus(c->db) != CONNECTION_OK) {
		revive(c);
		rc = gh_pg_exec(c, sql, what);
	}
	return rc;
}

/* --- migrations -------------------------------------------------------------- */

static int one_value(char **out, gh_pg_conn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c->db, sql);
	int rc = 0;

	*out = NULL;
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		rc = gh_error_set(GH_ERROR, "%s: %.*s", what,
				  (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
	else if (!(*out = strdup(PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0))))
		rc = gh_error_set(GH_ERROR, "out of memory");
	PQclear(r);
	return rc;
}

static int record(gh_pg_conn *c, const gh_migration *m)
{
	char version[16], at[24];
	const char *params[3] = {version, m->name, at};
	PGresult *r;
	int rc = 0;

	snprintf(version, sizeof(version), "%d", m->version);
	snprintf(at, sizeof(at), "%lld", (long long)time(NULL));
	r = PQexecParams(c->db, "INSERT INTO schema_migrations(version, name, applied_at)"
				" VALUES ($1, $2, $3)", 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = gh_error_set(GH_ERROR, "recording migration %d: %.*s", m->version,
				  (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

/* In one transaction (PostgreSQL's DDL is transactional), under an advisory
 * lock: a new database gets the baseline, then every later version. */
static int migrate(pg_store *s, int create)
{
	gh_pg_conn *c = s->writer;
	int baseline = gh_store_postgres_baseline(), current = 0, rc;
	char *v = NULL;

	if ((rc = gh_pg_exec(c, "BEGIN", "starting migrations")))
		return rc;
	if ((rc = gh_pg_exec(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")",
			     "waiting for another node's migrations")) ||
	    (rc = one_value(&v, c, "SELECT to_regclass('schema_migrations') IS NOT NULL",
			    "reading the schema version")))
		goto cleanup;
	if (strcmp(v, "t") != 0) {
		if (!create) {
			rc = gh_error_set(GH_ENOTFOUND,
					  "database %s has no Gatehouse schema; run 'gatehouse init' first",
					  s->shown);
			goto cleanup;
		}
		if ((rc = gh_pg_exec(c, "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY,"
					" name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
				     "creating schema_migrations")))
			goto cleanup;
	}
	free(v);
	v = NULL;
	if ((rc = one_value(&v, c, "SELECT coalesce(max(version), 0) FROM schema_migrations",
			    "reading the schema version")))
		goto cleanup;
	current = atoi(v);
	for (const gh_migration *m = gh_store_migrations; m->sqlite; m++) {
		if (m->version <= current || m->version < baseline)
			continue;
		if (!m->postgres) {
			rc = gh_error_set(GH_ERROR, "migration %d (%s) has no PostgreSQL form",
					  m->version, m->name);
			goto cleanup;
		}
		if ((rc = gh_pg_exec(c, m->postgres, m->name)) || (rc = record(c, m)))
			goto cleanup;
		current = m->version;
	}
	rc = gh_pg_exec(c, "COMMIT", "committing migrations");
cleanup:
	if (rc)
		PQclear(PQexec(c->db, "ROLLBACK"));
	else
		s->version = current;
	free(v);
	return rc;
}

/* --- open and free -------------------------------------------------------------- */

static void store_free(gh_store *g)
{
	pg_store *s = ps(g);

	if (!s)
		return;
	while (s->all_readers) {
		gh_pg_conn *r = s->all_readers;
		s->all_readers = r->all;
		gh_pg_conn_free(r);
	}
	gh_pg_conn_free(s->writer);
	pthread_mutex_destroy(&s->readers_lock);
	gh_store_batch_destroy(&s->batch);
	if (s->url) {
		explicit_bzero(s->url, strlen(s->url));
		free(s->url);
	}
	free(s->shown);
	free(s);
}

int gh_store_postgres_open(gh_store **out, const char *url, int create)
{
	pg_store *s;
	char *why = NULL;
	int rc;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return gh_error_set(GH_ERROR, "out of memory");
	s->base.be = &pg_backend;
	gh_store_batch_init(&s->batch, &pg_steps, s, &s->log);
	s->batch.max = PG_BATCH_MAX;
	pthread_mutex_init(&s->readers_lock, NULL);
	s->max_readers = -1;
	if (!(s->url = strdup(url)) || !(s->shown = redact(url))) {
		store_free(&s->base);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	if (!(s->writer = gh_pg_conn_open(url, &why))) {
		rc = gh_error_set(GH_ERROR, "cannot connect to PostgreSQL at %s: %s", s->shown,
				  why ? why : "out of memory");
		free(why);
		store_free(&s->base);
		return rc;
	}
	if ((rc = migrate(s, create))) {
		store_free(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static int version(gh_store *g)
{
	return ps(g)->version;
}

/* --- writes ------------------------------------------------------------------------ */

/* The steps of group commit (store/batch.h) on the writer. */
static int step_open(void *ctx)
{
	pg_store *s = ctx;

	/* Other nodes append too: the audit head is read again at the first
	 * append. Its row is locked first, here, so every writer takes the
	 * head before any other row: two nodes never wait on each other's rows
	 * while holding it (no deadlock). */
	s->log.valid = 0;
	return start(s->writer, "BEGIN; SELECT 1 FROM audit_head WHERE one = 1 FOR UPDATE",
		     "starting a transaction");
}

static int step_commit(void *ctx)
{
	pg_store *s = ctx;
	PGresult *r = PQexec(s->writer->db, "COMMIT");
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = gh_error_set(gh_pg_error_code(r), "committing: %.*s",
				  (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
	else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)   /* an aborted transaction rolls back */
		rc = gh_error_set(GH_ERROR, "committing: the transaction was rolled back"
					    " after a failed statement");
	PQclear(r);
	if (rc && PQtransactionStatus(s->writer->db) != PQTRANS_IDLE)
		PQclear(PQexec(s->writer->db, "ROLLBACK"));
	return rc;
}

static int step_savepoint(void *ctx)
{
	return gh_pg_exec(((pg_store *)ctx)->writer, "SAVEPOINT op", "starting an operation");
}

static int step_release(void *ctx)
{
	return gh_pg_exec(((pg_store *)ctx)->writer, "RELEASE SAVEPOINT op", "completing an operation");
}

static void step_undo(void *ctx)
{
	PQclear(PQexec(((pg_store *)ctx)->writer->db,
		       "ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op"));
}

static const gh_store_batch_steps pg_steps = {
	.open = step_open,
	.commit = step_commit,
	.savepoint = step_savepoint,
	.release = step_release,
	.undo = step_undo,
};

static int begin(gh_store *g)
{
	return gh_store_batch_begin(&ps(g)->batch);
}

static void rollback(gh_store *g)
{
	gh_store_batch_undo(&ps(g)->batch);
}

static int commit(gh_store *g)
{
	pg_store *s = ps(g);
	char msg[sizeof(((gh_error *)0)->message)];
	int rc;

	if (s->before_release && (rc = s->before_release(g, s->before_release_ctx))) {
		rollback(g);
		return rc;
	}
	rc = gh_store_batch_release(&s->batch, msg);
	if (s->after_wait && !in_after_wait) {
		in_after_wait = 1;
		s->after_wait(g, s->after_wait_ctx);
		in_after_wait = 0;
	}
	if (rc)
		gh_error_set(rc, "%s", msg);
	return rc;
}

static int trial_begin(gh_store *g)
{
	pg_store *s = ps(g);
	int rc;

	/* the audit head is written first, so that undoing the trial can reload it */
	if (s->before_release && (rc = s->before_release(g, s->before_release_ctx)))
		return rc;
	return gh_pg_exec(s->writer, "SAVEPOINT trial", "starting a trial");
}

static int trial_keep(gh_store *g)
{
	return gh_pg_exec(ps(g)->writer, "RELEASE SAVEPOINT trial", "keeping a trial");
}

static int trial_undo(gh_store *g)
{
	pg_store *s = ps(g);
	int rc;

	s->log.valid = 0;   /* its events are gone: reload the head */
	if ((rc = gh_pg_exec(s->writer, "ROLLBACK TO SAVEPOINT trial", "undoing a trial")))
		return rc;
	return gh_pg_exec(s->writer, "RELEASE SAVEPOINT trial", "ending a trial");
}

static void exclusive_begin(gh_store *g)
{
	pg_store *s = ps(g);

	gh_store_batch_lock(&s->batch);
	revive(s->writer);
	s->log.valid = 0;   /* raw SQL may change anything */
}

static void exclusive_end(gh_store *g)
{
	gh_store_batch_unlock(&ps(g)->batch);
}

/* --- reads --------------------------------------------------------------------------- */

/* A free reader, or a new one; NULL when none can be opened. */
static gh_pg_conn *reader_take(pg_store *s)
{
	gh_pg_conn *r;
	char *why = NULL;
	int room;

	pthread_mutex_lock(&s->readers_lock);
	if ((r = s->free_readers))
		s->free_readers = r->next;
	room = s->max_readers < 0 || s->nreaders < s->max_readers;
	if (!r && room)
		s->nreaders++;   /* reserve the slot while connecting outside the lock */
	pthread_mutex_unlock(&s->readers_lock);
	if (r || !room)
		return r;
	if (!(r = gh_pg_conn_open(s->url, &why))) {
		free(why);   /* the section falls back to the writer */
		pthread_mutex_lock(&s->readers_lock);
		s->nreaders--;
		pthread_mutex_unlock(&s->readers_lock);
		return NULL;
	}
	pthread_mutex_lock(&s->readers_lock);
	r->all = s->all_readers;
	s->all_readers = r;
	pthread_mutex_unlock(&s->readers_lock);
	return r;
}

static void reader_give(pg_store *s, gh_pg_conn *r)
{
	pthread_mutex_lock(&s->readers_lock);
	r->next = s->free_readers;
	s->free_readers = r;
	pthread_mutex_unlock(&s->readers_lock);
}

static const char snapshot[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

static void read_begin(gh_store *g)
{
	pg_store *s = ps(g);
	gh_pg_conn *r;

	if (cur.store == s && cur.depth > 0) {
		cur.depth++;
		return;
	}
	if ((r = reader_take(s))) {
		if (start(r, snapshot, "starting a read") == 0) {
			cur.store = s;
			cur.r = r;
			cur.depth = 1;
			return;
		}
		reader_give(s, r);
	}
	cur.store = s;
	cur.r = NULL;
	cur.depth = 1;
	if (gh_store_batch_held(&s->batch)) {
		/* inside this thread's own write: read through it */
		cur.in_write = 1;
		return;
	}
	gh_store_batch_lock(&s->batch);   /* commits an open batch first */
	start(s->writer, snapshot, "starting a read");
}

static void read_end(gh_store *g)
{
	pg_store *s = ps(g);
	gh_pg_conn *r = cur.r;

	if (cur.store != s || cur.depth <= 0 || --cur.depth > 0)
		return;
	cur.store = NULL;
	cur.r = NULL;
	if (!r) {
		if (!cur.in_write) {
			PQclear(PQexec(s->writer->db, "COMMIT"));
			gh_store_batch_unlock(&s->batch);
		}
		cur.in_write = 0;
		return;
	}
	PQclear(PQexec(r->db, "COMMIT"));
	reader_give(s, r);
}

static void limit_readers(gh_store *g, int max)
{
	pg_store *s = ps(g);

	pthread_mutex_lock(&s->readers_lock);
	s->max_readers = max < 0 ? -1 : max;
	pthread_mutex_unlock(&s->readers_lock);
}

/* --- hooks and statements ------------------------------------------------------------ */

static gh_store_log_cache *log_cached(gh_store *g)
{
	return &ps(g)->log;
}

static void before_release(gh_store *g, int (*fn)(gh_store *s, void *ctx), void *ctx)
{
	ps(g)->before_release = fn;
	ps(g)->before_release_ctx = ctx;
}

static void after_wait(gh_store *g, void (*fn)(gh_store *s, void *ctx), void *ctx)
{
	ps(g)->after_wait = fn;
	ps(g)->after_wait_ctx = ctx;
}

static void after_commit(gh_store *g, void (*fn)(void *ctx, int64_t seq), void *ctx)
{
	gh_store_batch_after_commit(&ps(g)->batch, fn, ctx);
}

static int prepare(gh_sql **out, gh_store *g, const char *sql)
{
	return gh_pg_prepare(out, conn(ps(g)), sql);
}

static int prepare_once(gh_sql **out, gh_store *g, const char *sql)
{
	return gh_pg_prepare_once(out, conn(ps(g)), sql);
}

static int exec_any(gh_store *g, const char *sql, const char *what)
{
	return gh_pg_exec(conn(ps(g)), sql, what);
}

static const gh_store_backend pg_backend = {
	.name = "postgresql",
	.dialect = GH_SQL_POSTGRESQL,
	.free = store_free,
	.version = version,
	.begin = begin,
	.commit = commit,
	.rollback = rollback,
	.trial_begin = trial_begin,
	.trial_keep = trial_keep,
	.trial_undo = trial_undo,
	.read_begin = read_begin,
	.read_end = read_end,
	.limit_readers = limit_readers,
	.exclusive_begin = exclusive_begin,
	.exclusive_end = exclusive_end,
	.log_cached = log_cached,
	.before_release = before_release,
	.after_wait = after_wait,
	.after_commit = after_commit,
	.prepare = prepare,
	.prepare_once = prepare_once,
	.exec = exec_any,
};
