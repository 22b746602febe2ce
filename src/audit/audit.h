/* audit.h - the append-only, hash-chained audit log.
 *
 * Each event's hash is SHA-256 over the previous event's hash and a canonical
 * encoding of the event (see docs/internals/audit.md):
 *   hash_n = SHA-256(hash_{n-1} || u64be(seq) || i64be(ts) || lp(actor) ||
 *                    lp(action) || lp(object_type) || lp(object_id) || lp(details))
 * where lp(x) = u32be(len(x)) || x, details is canonical JSON (sorted keys,
 * compact) and hash_0 is 32 zero bytes. The hashes themselves are
 * common/loghash.h; the rows are the store's (store/log.h). */
#ifndef GH_AUDIT_H
#define GH_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "common/loghash.h"
#include "store/log.h"
#include "store/store.h"

/* Appends one event inside the caller's open transaction. details may be
 * NULL (stored as {}). *out_seq (may be NULL) receives the sequence number. */
int gh_audit_append(int64_t *out_seq, gh_store *s, const char *actor, const char *action,
		    const char *object_type, const char *object_id, const json_t *details);

/* The event's hashes (gh_audit_hashes, common/loghash.h) over a stored row. */
void gh_audit_event_hashes(unsigned char chain[GH_AUDIT_HASH_LEN],
			   unsigned char leaf[GH_AUDIT_HASH_LEN],
			   const unsigned char prev[GH_AUDIT_HASH_LEN],
			   const gh_store_log_event *ev);

/* Parallel verification (audit.c, used by merkle.c too): workers for n
 * items (one per core, at most max, at least min_each items each), and fn
 * run over n jobs laid out size bytes apart, job 0 on the calling thread.
 * Each worker reads in its own read section of the store (a pooled reader),
 * so verification must not run inside the calling thread's write. */
int gh_audit_workers(int64_t n, int max, int64_t min_each);
void gh_audit_run_jobs(void *(*fn)(void *), void *jobs, size_t size, int n);

typedef struct gh_audit_report {
	int64_t events;     /* events read */
	int64_t bad_seq;    /* first bad sequence number, 0 when intact */
	char reason[256];   /* what was wrong at bad_seq */
} gh_audit_report;

/* Recomputes the whole chain. 0 when intact; GH_EINVALID when not, with the
 * first bad sequence number and the reason in *out. */
int gh_audit_verify(gh_audit_report *out, gh_store *s);

#endif
