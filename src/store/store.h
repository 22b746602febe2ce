/* store.h - the storage interface: a handle on a database behind a table of
 * functions (store/backend.h), with two backends: SQLite (a path, the
 * embedded default) and PostgreSQL (a postgresql:// URL). Knows nothing of
 * HTTP or of the domain's rules. The domain calls typed operations
 * (store/<entity>.h); they are written once against store/sql.h.
 *
 * Every write happens between gh_store_begin and gh_store_commit (or
 * gh_store_rollback), which also hold the store's lock, so a change and its
 * audit event always commit together or not at all. Reads run between
 * gh_store_read_begin/gh_store_read_end on a pooled read-only connection with
 * one snapshot of committed state; they never wait for writers. Inside a
 * read section, statements use that connection. */
#ifndef GH_STORE_H
#define GH_STORE_H

#include <stdint.h>

typedef struct gh_store gh_store;

/* Opens (and with create, creates) the database and applies pending
 * migrations. target is a PostgreSQL URL (postgresql://... or postgres://...)
 * or else the path of an SQLite file. Refuses a missing SQLite file, or a
 * PostgreSQL database without Gatehouse's schema, without create
 * (GH_ENOTFOUND). */
int gh_store_open(gh_store **out, const char *target, int create);
void gh_store_free(gh_store *s);

/* The backend's name: "sqlite" or "postgresql". */
const char *gh_store_backend_name(gh_store *s);

int gh_store_begin(gh_store *s);      /* lock + BEGIN IMMEDIATE */
int gh_store_commit(gh_store *s);     /* COMMIT + unlock; rolls back on failure */
void gh_store_rollback(gh_store *s);  /* ROLLBACK + unlock */
void gh_store_read_begin(gh_store *s);
void gh_store_read_end(gh_store *s);

/* Caps the pooled read-only connections at max (default: no cap). When no
 * reader is free and none may be opened, a read section takes the writer's
 * lock instead (after making pending writes durable); inside the calling
 * thread's own write it reads through that write, pending changes included. */
void gh_store_limit_readers(gh_store *s, int max);

/* Exclusive use of the writer connection outside any transaction, for
 * maintenance and tests (raw SQL, pragmas, backups): takes the writer's lock
 * after making pending writes durable. gh_store_db() is the writer inside. */
/* A trial inside an operation (after gh_store_begin): what runs after
 * gh_store_trial_begin can be undone by gh_store_trial_undo, audit events
 * included, while the operation goes on; gh_store_trial_keep keeps it. The
 * four-eyes gate runs a change this way to see what it would do. */
int gh_store_trial_begin(gh_store *s);
int gh_store_trial_keep(gh_store *s);
int gh_store_trial_undo(gh_store *s);

void gh_store_exclusive_begin(gh_store *s);
void gh_store_exclusive_end(gh_store *s);

/* (gh_store_db, gh_store_stmt and gh_store_fail: store/sqlite/sqlite.h) */

/* What the audit module keeps in memory about the log as of the running
 * write (its head and the Merkle tree's right edge), so that an append needs
 * no read. The store keeps one per store and knows only valid and seq: it
 * clears valid whenever a rollback, a trial's undo, exclusive access, a
 * failed commit or another process's commit may have made it stale, and
 * hands seq to the gh_store_after_commit hook while valid. area is the
 * owner's, opaque to the store. Use only inside a write transaction. */
#define GH_STORE_LOG_AREA 2560
typedef struct gh_store_log_cache {
	int valid;                 /* 0: stale, the owner reloads before use */
	int64_t seq;               /* the log's last sequence number */
	_Alignas(16) unsigned char area[GH_STORE_LOG_AREA];
} gh_store_log_cache;

gh_store_log_cache *gh_store_log_cached(gh_store *s);

/* fn runs inside every operation just before it is released into the
 * batch (gh_store_commit); a failure rolls the operation back. One hook. */
void gh_store_before_release(gh_store *s, int (*fn)(gh_store *s, void *ctx), void *ctx);

/* For tests: fn runs in gh_store_commit after the caller's batch was
 * committed (or failed), outside the writer's lock, before the caller learns
 * the result; it may write itself (the hook is not run for its own commits). */
void gh_store_after_wait(gh_store *s, void (*fn)(gh_store *s, void *ctx), void *ctx);

/* fn runs after each batch commits (durably), with the audit head's
 * sequence number as committed (-1 when this store does not know it: the
 * batch appended no event after a rollback or another process's write). It
 * runs under the store's lock on whichever thread committed: it must be quick
 * and must not use the store (the checkpoint signer only records the number
 * and wakes its thread). One hook; NULL removes it. */
void gh_store_after_commit(gh_store *s, void (*fn)(void *ctx, int64_t seq), void *ctx);

/* Schema version after open. */
int gh_store_version(gh_store *s);

/* Key-value settings kept in the database. value is malloc'd (caller frees);
 * GH_ENOTFOUND when unset. Call inside a transaction or read section. */
int gh_store_setting_get(char **out, gh_store *s, const char *key);
int gh_store_setting_set(gh_store *s, const char *key, const char *value);

#endif
