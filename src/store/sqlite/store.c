/* store.c - the SQLite backend: open, migrate, lock, transactions, statement cache. */
#include "store/backend.h"
#include "store/batch.h"
#include "store/log.h"
#include "store/sqlite/sqlite.h"
#include "store/sqlite/sqlite_internal.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STMT_CACHE 256

typedef struct stmt_cache {
	const char *sql;
	sqlite3_stmt *stmt;
	sqlite_sql q;            /* the statement as store/sql.h hands it out */
} stmt_cache;

typedef struct sqlite_store sqlite_store;

/* A read-only connection; reads run on these, never behind the writer's lock,
 * and see only committed (durable) state. */
typedef struct reader {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit;  /* prepared once: a read section is hot */
	stmt_cache cache[STMT_CACHE];
	struct reader *next;     /* in the free list */
	struct reader *all;      /* in the list of every reader, for freeing */
} reader;

/* The read section the calling thread is in, if any. */
static _Thread_local struct {
	sqlite_store *store;
	reader *r;
	int depth;
	int in_write;            /* no reader: the section reads through this
				  * thread's own open write */
} cur;

/* The calling thread runs the after_wait test hook (its commits skip it). */
static _Thread_local int in_after_wait;

/* Writes go through group commit (store/batch.h): an operation is a
 * savepoint inside the batch's BEGIN IMMEDIATE transaction, and the last
 * operation of a burst commits them all at once. */
struct sqlite_store {
	gh_store base;           /* first: the backend table */
	sqlite3 *db;
	gh_store_batch batch;    /* the writer's lock and group commit */
	int version;
	int64_t data_version;    /* PRAGMA data_version at our last BEGIN */
	sqlite3_stmt *data_version_stmt;
	gh_store_log_cache log;   /* the audit module's; we only invalidate it */
	int (*before_release)(gh_store *s, void *ctx);
	void *before_release_ctx;
	void (*after_wait)(gh_store *s, void *ctx);
	void *after_wait_ctx;
	char *path;
	pthread_mutex_t readers_lock;
	reader *free_readers;
	reader *all_readers;
	int nreaders, max_readers;   /* max_readers < 0: no cap */
	stmt_cache cache[STMT_CACHE];
};

/* The connection the calling thread uses on s: its reader inside a read
 * section, the writer otherwise. */
static sqlite3 *conn(sqlite_store *s)
{
	return cur.store == s && cur.r ? cur.r->db : s->db;
}

static int fail(sqlite_store *s, const char *what)
{
	sqlite3 *db = conn(s);
	int ext = sqlite3_extended_errcode(db);
	int code = (ext & 0xff) == SQLITE_CONSTRAINT ? GH_ECONFLICT : GH_ERROR;

	return gh_error_set(code, "%s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite_store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, what);
	return 0;
}

static int migrate(sqlite_store *s)
{
	sqlite3_stmt *st = NULL;
	int current = 0;

	if (exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
		    "creating schema_migrations"))
		return GH_ERROR;
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version),0) FROM schema_migrations",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, "reading schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		current = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	for (const gh_migration *m = gh_store_migrations; m->sqlite; m++) {
		if (m->version <= current)
			continue;
		if (exec(s, "BEGIN IMMEDIATE", "starting migration"))
			return GH_ERROR;
		if (exec(s, m->sqlite, m->name)) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return GH_ERROR;
		}
		char sql[256];
		sqlite3_snprintf(sizeof(sql), sql,
				 "INSERT INTO schema_migrations VALUES (%d, %Q, strftime('%%s','now'))",
				 m->version, m->name);
		if (exec(s, sql, "recording migration") || exec(s, "COMMIT", "committing migration")) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return GH_ERROR;
		}
		current = m->version;
	}
	s->version = current;
	return 0;
}

/* SELECT gh_merkle_backfill(): the tree of a log written before it existed
 * (migration 9; tests rebuild a damaged tree with it). */
static void sql_backfill(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t leaves;

	(void)argc;
	(void)argv;
	if (gh_store_log_backfill(&leaves, sqlite3_user_data(ctx)))
		sqlite3_result_error(ctx, gh_error_last()->message, -1);
	else
		sqlite3_result_int64(ctx, leaves);
}

static void configure_sqlite(void)
{
	/* SQLite's memory statistics take a global mutex on every allocation */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static const gh_store_backend sqlite_backend;
static const gh_store_batch_steps sqlite_steps;

static void store_free(sqlite_store *s);
static void rollback(sqlite_store *s);

int gh_store_sqlite_open(gh_store **out, const char *path, int create)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	sqlite_store *s;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	pthread_once(&once, configure_sqlite);
	if (!create && access(path, F_OK) != 0)
		return gh_error_set(GH_ENOTFOUND,
				    "database %s does not exist; run 'gatehouse init' first", path);
	if (create) {
		/* the file is made 0600 before SQLite opens it: SQLite gives the
		 * -wal and -shm files the main file's mode */
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return gh_error_set(GH_ERROR, "creating %s: %s", path, strerror(errno));
		close(fd);
		flags |= SQLITE_OPEN_CREATE;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return gh_error_set(GH_ERROR, "out of memory");
	s->base.be = &sqlite_backend;
	gh_store_batch_init(&s->batch, &sqlite_steps, s, &s->log);
	pthread_mutex_init(&s->readers_lock, NULL);
	s->max_readers = -1;
	if (!(s->path = strdup(path))) {
		store_free(s);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		gh_error_set(GH_ERROR, "opening %s: %s", path,
			     s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_free(s);
		return GH_ERROR;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/* migration 9 builds the Merkle tree of an existing log through this */
	if (sqlite3_create_function(s->db, "gh_merkle_backfill", 0, SQLITE_UTF8, &s->base,
				    sql_backfill, NULL, NULL) != SQLITE_OK) {
		store_free(s);
		return gh_error_set(GH_ERROR, "registering the Merkle backfill function");
	}
	if (exec(s, "PRAGMA journal_mode=WAL", "setting WAL") ||
	    exec(s, "PRAGMA synchronous=FULL", "setting synchronous") ||
	    exec(s, "PRAGMA foreign_keys=ON", "enabling foreign keys") ||
	    exec(s, "PRAGMA cache_size=-65536", "setting cache size") ||
	    exec(s, "PRAGMA temp_store=MEMORY", "keeping statement journals in memory") ||
	    exec(s, "PRAGMA wal_autocheckpoint=8192", "setting the checkpoint interval") ||
	    migrate(s)) {
		store_free(s);
		return GH_ERROR;
	}
	*out = &s->base;
	return 0;
}

static void reader_free(reader *r)
{
	for (size_t i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(r->cache[i].stmt);
	sqlite3_finalize(r->begin);
	sqlite3_finalize(r->commit);
	sqlite3_close(r->db);
	free(r);
}

static void store_free(sqlite_store *s)
{
	if (!s)
		return;
	while (s->all_readers) {
		reader *r = s->all_readers;
		s->all_readers = r->all;
		reader_free(r);
	}
	pthread_mutex_destroy(&s->readers_lock);
	free(s->path);
	for (size_t i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(s->cache[i].stmt);
	sqlite3_finalize(s->data_version_stmt);
	sqlite3_close(s->db);
	gh_store_batch_destroy(&s->batch);
	free(s);
}

static gh_store_log_cache *log_cached(sqlite_store *s)
{
	return &s->log;
}

static void before_release(sqlite_store *s, int (*fn)(gh_store *s, void *ctx), void *ctx)
{
	s->before_release = fn;
	s->before_release_ctx = ctx;
}

static void after_commit(sqlite_store *s, void (*fn)(void *ctx, int64_t seq), void *ctx)
{
	gh_store_batch_after_commit(&s->batch, fn, ctx);
}

static void after_wait(sqlite_store *s, void (*fn)(gh_store *s, void *ctx), void *ctx)
{
	s->after_wait = fn;
	s->after_wait_ctx = ctx;
}

sqlite3 *gh_store_db(gh_store *s)
{
	return s && s->be == &sqlite_backend ? conn((sqlite_store *)s) : NULL;
}

int gh_store_fail(gh_store *s, const char *what)
{
	if (!s || s->be != &sqlite_backend)
		return gh_error_set(GH_ERROR, "%s: not an SQLite store", what);
	return fail((sqlite_store *)s, what);
}

static int version(sqlite_store *s)
{
	return s->version;
}

/* Forgets the cached audit head when another process (e.g. gatehouse
 * admin-token next to a running server) committed since our last transaction:
 * data_version changes only for other connections' commits. */
static void other_writers(sqlite_store *s)
{
	int64_t v = -1;

	if (s->data_version_stmt || sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1,
							&s->data_version_stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(s->data_version_stmt) == SQLITE_ROW)
			v = sqlite3_column_int64(s->data_version_stmt, 0);
		sqlite3_reset(s->data_version_stmt);
	}
	if (v < 0 || v != s->data_version)
		s->log.valid = 0;
	s->data_version = v;
}

/* The steps of group commit (store/batch.h) on the writer. */
static int step_open(void *ctx)
{
	sqlite_store *s = ctx;
	int rc = exec(s, "BEGIN IMMEDIATE", "starting a transaction");

	if (rc == 0)
		other_writers(s);
	return rc;
}

static int step_commit(void *ctx)
{
	sqlite_store *s = ctx;
	int rc = exec(s, "COMMIT", "committing");

	if (rc)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int step_savepoint(void *ctx)
{
	return exec(ctx, "SAVEPOINT op", "starting an operation");
}

static int step_release(void *ctx)
{
	return exec(ctx, "RELEASE op", "completing an operation");
}

static void step_undo(void *ctx)
{
	sqlite_store *s = ctx;

	sqlite3_exec(s->db, "ROLLBACK TO op", NULL, NULL, NULL);
	sqlite3_exec(s->db, "RELEASE op", NULL, NULL, NULL);
}

static const gh_store_batch_steps sqlite_steps = {
	.open = step_open,
	.commit = step_commit,
	.savepoint = step_savepoint,
	.release = step_release,
	.undo = step_undo,
};

static int begin(sqlite_store *s)
{
	return gh_store_batch_begin(&s->batch);
}

static void rollback(sqlite_store *s)
{
	gh_store_batch_undo(&s->batch);
}

static int commit(sqlite_store *s)
{
	char msg[sizeof(((gh_error *)0)->message)];
	int rc;

	if (s->before_release && (rc = s->before_release(&s->base, s->before_release_ctx))) {
		rollback(s);
		return rc;
	}
	rc = gh_store_batch_release(&s->batch, msg);
	if (s->after_wait && !in_after_wait) {
		in_after_wait = 1;
		s->after_wait(&s->base, s->after_wait_ctx);
		in_after_wait = 0;
	}
	if (rc)
		gh_error_set(rc, "%s", msg);
	return rc;
}

static int trial_begin(sqlite_store *s)
{
	int rc;

	/* the audit head is written first, so that undoing the trial can reload it */
	if (s->before_release && (rc = s->before_release(&s->base, s->before_release_ctx)))
		return rc;
	return exec(s, "SAVEPOINT trial", "starting a trial");
}

static int trial_keep(sqlite_store *s)
{
	return exec(s, "RELEASE trial", "keeping a trial");
}

static int trial_undo(sqlite_store *s)
{
	int rc;

	s->log.valid = 0;   /* its events are gone: reload the head */
	if ((rc = exec(s, "ROLLBACK TO trial", "undoing a trial")))
		return rc;
	return exec(s, "RELEASE trial", "ending a trial");
}

static void exclusive_begin(sqlite_store *s)
{
	gh_store_batch_lock(&s->batch);   /* commits an open batch first */
	s->log.valid = 0;   /* raw SQL may change anything */
}

static void exclusive_end(sqlite_store *s)
{
	gh_store_batch_unlock(&s->batch);
}

static int step_once(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc;
}

/* A free reader, or a new one; NULL when none can be opened. */
static reader *reader_take(sqlite_store *s)
{
	reader *r;

	int room;

	pthread_mutex_lock(&s->readers_lock);
	if ((r = s->free_readers))
		s->free_readers = r->next;
	room = s->max_readers < 0 || s->nreaders < s->max_readers;
	if (!r && room)
		s->nreaders++;   /* reserve the slot while opening outside the lock */
	pthread_mutex_unlock(&s->readers_lock);
	if (r || !room)
		return r;
	if (!(r = calloc(1, sizeof(*r))) ||
	    sqlite3_open_v2(s->path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "BEGIN", -1, &r->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "COMMIT", -1, &r->commit, NULL) != SQLITE_OK) {
		if (r) {
			sqlite3_finalize(r->begin);
			sqlite3_close(r->db);
		}
		free(r);
		pthread_mutex_lock(&s->readers_lock);
		s->nreaders--;
		pthread_mutex_unlock(&s->readers_lock);
		return NULL;
	}
	sqlite3_busy_timeout(r->db, 10000);
	pthread_mutex_lock(&s->readers_lock);
	r->all = s->all_readers;
	s->all_readers = r;
	pthread_mutex_unlock(&s->readers_lock);
	return r;
}

static void read_begin(sqlite_store *s)
{
	reader *r;

	if (cur.store == s && cur.depth > 0) {
		cur.depth++;
		return;
	}
	/* one snapshot for the whole section; without a reader, fall back to
	 * the writer's lock after making pending writes durable */
	if ((r = reader_take(s)) && step_once(r->begin) == SQLITE_DONE) {
		cur.store = s;
		cur.r = r;
		cur.depth = 1;
		return;
	}
	if (r) {
		pthread_mutex_lock(&s->readers_lock);
		r->next = s->free_readers;
		s->free_readers = r;
		pthread_mutex_unlock(&s->readers_lock);
	}
	cur.store = s;
	cur.r = NULL;
	cur.depth = 1;
	if (gh_store_batch_held(&s->batch)) {
		/* inside this thread's own write: taking the lock again would
		 * wait forever, so read through the writer (its pending changes
		 * included) */
		cur.in_write = 1;
		return;
	}
	gh_store_batch_lock(&s->batch);   /* commits an open batch first */
}

static void limit_readers(sqlite_store *s, int max)
{
	pthread_mutex_lock(&s->readers_lock);
	s->max_readers = max < 0 ? -1 : max;
	pthread_mutex_unlock(&s->readers_lock);
}

static void read_end(sqlite_store *s)
{
	reader *r = cur.r;

	if (cur.store != s || cur.depth <= 0 || --cur.depth > 0)
		return;
	cur.store = NULL;
	cur.r = NULL;
	if (!r) {
		if (!cur.in_write)
			gh_store_batch_unlock(&s->batch);
		cur.in_write = 0;
		return;
	}
	step_once(r->commit);
	pthread_mutex_lock(&s->readers_lock);
	r->next = s->free_readers;
	s->free_readers = r;
	pthread_mutex_unlock(&s->readers_lock);
}

/* The cache entry of sql on the calling thread's connection, prepared. */
static int cached(stmt_cache **out, sqlite_store *s, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
	stmt_cache *cache = cur.store == s && cur.r ? cur.r->cache : s->cache;
	sqlite3 *db = conn(s);

	for (size_t i = 0; i < STMT_CACHE; i++) {
		size_t k = (h + i) % STMT_CACHE;
		if (cache[k].sql == sql) {
			sqlite3_reset(cache[k].stmt);
			sqlite3_clear_bindings(cache[k].stmt);
			*out = &cache[k];
			return 0;
		}
		if (!cache[k].sql) {
			if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
					       &cache[k].stmt, NULL) != SQLITE_OK)
				return fail(s, "preparing a statement");
			cache[k].sql = sql;
			cache[k].q.base.ops = &gh_sqlite_sql_ops;
			cache[k].q.st = cache[k].stmt;
			*out = &cache[k];
			return 0;
		}
	}
	/* cache full: fall back to an error rather than leak statements */
	return gh_error_set(GH_ERROR, "statement cache is full");
}

int gh_store_stmt(sqlite3_stmt **out, gh_store *g, const char *sql)
{
	*out = NULL;
	if (!g || g->be != &sqlite_backend)
		return gh_error_set(GH_ERROR, "an SQLite statement on a %s store",
				    g ? g->be->name : "closed");
	stmt_cache *c;
	int rc = cached(&c, (sqlite_store *)g, sql);

	if (rc == 0)
		*out = c->stmt;
	return rc;
}

/* --- the backend table (store/backend.h) ------------------------------------ */

static sqlite_store *sq(gh_store *g)
{
	return (sqlite_store *)g;   /* the gh_store is the first member */
}

static int prepare(gh_sql **out, gh_store *g, const char *sql)
{
	stmt_cache *c;
	int rc = cached(&c, sq(g), sql);

	*out = rc ? NULL : &c->q.base;
	return rc;
}

static int prepare_once(gh_sql **out, gh_store *g, const char *sql)
{
	sqlite_sql *q;

	*out = NULL;
	if (!(q = calloc(1, sizeof(*q))))
		return gh_error_set(GH_ERROR, "out of memory preparing a statement");
	if (sqlite3_prepare_v2(conn(sq(g)), sql, -1, &q->st, NULL) != SQLITE_OK) {
		free(q);
		return fail(sq(g), "preparing a statement");
	}
	q->base.ops = &gh_sqlite_sql_ops;
	*out = &q->base;
	return 0;
}

static int exec_any(gh_store *g, const char *sql, const char *what)
{
	if (sqlite3_exec(conn(sq(g)), sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(sq(g), what);
	return 0;
}

static void be_free(gh_store *g) { store_free(sq(g)); }
static int be_version(gh_store *g) { return version(sq(g)); }
static int be_begin(gh_store *g) { return begin(sq(g)); }
static int be_commit(gh_store *g) { return commit(sq(g)); }
static void be_rollback(gh_store *g) { rollback(sq(g)); }
static int be_trial_begin(gh_store *g) { return trial_begin(sq(g)); }
static int be_trial_keep(gh_store *g) { return trial_keep(sq(g)); }
static int be_trial_undo(gh_store *g) { return trial_undo(sq(g)); }
static void be_read_begin(gh_store *g) { read_begin(sq(g)); }
static void be_read_end(gh_store *g) { read_end(sq(g)); }
static void be_limit_readers(gh_store *g, int max) { limit_readers(sq(g), max); }
static void be_exclusive_begin(gh_store *g) { exclusive_begin(sq(g)); }
static void be_exclusive_end(gh_store *g) { exclusive_end(sq(g)); }
static gh_store_log_cache *be_log_cached(gh_store *g) { return log_cached(sq(g)); }

static void be_before_release(gh_store *g, int (*fn)(gh_store *s, void *ctx), void *ctx)
{
	before_release(sq(g), fn, ctx);
}

static void be_after_wait(gh_store *g, void (*fn)(gh_store *s, void *ctx), void *ctx)
{
	after_wait(sq(g), fn, ctx);
}

static void be_after_commit(gh_store *g, void (*fn)(void *ctx, int64_t seq), void *ctx)
{
	after_commit(sq(g), fn, ctx);
}

static const gh_store_backend sqlite_backend = {
	.name = "sqlite",
	.free = be_free,
	.version = be_version,
	.begin = be_begin,
	.commit = be_commit,
	.rollback = be_rollback,
	.trial_begin = be_trial_begin,
	.trial_keep = be_trial_keep,
	.trial_undo = be_trial_undo,
	.read_begin = be_read_begin,
	.read_end = be_read_end,
	.limit_readers = be_limit_readers,
	.exclusive_begin = be_exclusive_begin,
	.exclusive_end = be_exclusive_end,
	.log_cached = be_log_cached,
	.before_release = be_before_release,
	.after_wait = be_after_wait,
	.after_commit = be_after_commit,
	.prepare = prepare,
	.prepare_once = prepare_once,
	.exec = exec_any,
};
