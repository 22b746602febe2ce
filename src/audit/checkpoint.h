/* checkpoint.h - signed checkpoints of the audit tree: C2SP tlog-checkpoint
 * bodies in C2SP signed notes, signed with Ed25519 (libsodium).
 *
 * A checkpoint body is three lines: the origin (e.g. "gatehouse.example/
 * 3f2a9c1e"), the tree size in decimal, the root hash in standard base64;
 * then a blank line and one signature line per signer:
 *   "\u2014 <key name> <base64(key id (4 bytes) || Ed25519 signature (64))>\n"
 * The key id is the first 4 bytes of SHA-256(<key name> || "\n" || 0x01 ||
 * public key). A verifier key is the text "<key name>+<8 hex key id>+
 * <base64(0x01 || public key)>" (the C2SP/Go note format).
 *
 * The signing key is created at `gatehouse init` in a file beside the
 * database (<db>.signing-key, mode 0600; never in the database, never
 * logged); its verifier key can be exported. Gatehouse never signs two
 * checkpoints that are inconsistent: before signing size n it checks that the
 * last signed checkpoint's root equals the root of its size in the current
 * tree, and refuses (GH_ECONFLICT) otherwise. */
#ifndef GH_CHECKPOINT_H
#define GH_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "audit/merkle.h"
#include "store/store.h"

typedef struct gh_signer gh_signer;

/* Creates a new key file at path (refuses to overwrite: GH_ECONFLICT) for
 * key name (e.g. the origin). */
int gh_signer_create(const char *path, const char *name);
int gh_signer_load(gh_signer **out, const char *path);
void gh_signer_free(gh_signer *k);
/* The verifier key text into out (at least 256 bytes). */
int gh_signer_vkey(char *out, size_t outlen, const gh_signer *k);
/* The key's name (borrowed). */
const char *gh_signer_name(const gh_signer *k);

/* The setting holding the log's origin, chosen at `gatehouse init`. */
#define GH_CHECKPOINT_ORIGIN_SETTING "checkpoint.origin"

/* Signs a checkpoint of the current tree for origin (stored with its size,
 * root and note in the checkpoints table, audited as `checkpoint.signed` -
 * which itself becomes the next leaf). *note malloc'd. Takes its own
 * transaction. */
int gh_checkpoint_sign(char **note, gh_store *s, const gh_signer *k, const char *origin);
/* As gh_checkpoint_sign, but only when events other than the last
 * checkpoint's own `checkpoint.signed` were appended since it (or there is
 * none yet): 0 with *note NULL when there was nothing new to sign. */
int gh_checkpoint_sign_if_grew(char **note, gh_store *s, const gh_signer *k, const char *origin);
/* The latest signed checkpoint's note, GH_ENOTFOUND when none yet. */
int gh_checkpoint_latest(char **note, gh_store *s);

/* The latest signed checkpoint's size, -1 when none yet. */
int gh_checkpoint_latest_size(int64_t *size, gh_store *s);

/* --- the signer of a serving process (checkpointer.c) -------------------
 *
 * Keeps a recent signed checkpoint: after the log grows it signs once
 * `after_ms` have passed since the first change not yet covered (a window
 * that gathers a burst into one signature), and never two signatures less than
 * `min_interval_ms` apart; when idle it tries every `every_ms` (which also
 * covers writes by other processes). Callers that need a checkpoint covering
 * event N ask for it (gh_checkpointer_wait): the signer then signs as soon as
 * the interval allows - only when the log grew, never once per caller - and
 * they wait, woken by the signature. The key stays inside the process. */
typedef struct gh_checkpointer gh_checkpointer;

typedef struct gh_checkpointer_options {
	int64_t after_ms;         /* window after a change before signing; < 0: no signing
				   * after writes (only every_ms and callers' asks) */
	int64_t min_interval_ms;  /* least time between two signatures (>= 1) */
	int64_t every_ms;         /* idle upper bound between attempts (>= 1) */
	int max_waiters;          /* callers waiting at once (each holds an HTTP worker
				   * thread); 0: GH_CHECKPOINT_WAITERS_MAX */
	/* several nodes: 1 when this one may sign on its own now (it holds the
	 * signing duty); NULL: always. Asked before every attempt of the thread;
	 * signing on request (sign_now) does not ask. */
	int (*may_sign)(void *ctx);
	void *may_sign_ctx;
} gh_checkpointer_options;

#define GH_CHECKPOINT_AFTER_MS 1000          /* default window after a change */
#define GH_CHECKPOINT_MIN_INTERVAL_MS 1000   /* at most one signature a second */
#define GH_CHECKPOINT_WAIT_MAX_MS 10000      /* longest wait a caller may ask for */
#define GH_CHECKPOINT_WAITERS_MAX 16         /* callers waiting at once; more: GH_ELIMITED */

/* What the signer's thread decides from, kept apart so that the rule is one
 * pure function (gh_checkpoint_due). Times in milliseconds of a monotonic clock. */
typedef struct gh_checkpoint_sched {
	int64_t head_seq;        /* highest audit sequence number committed, as last told */
	int64_t signed_size;     /* size of the latest checkpoint, -1 none */
	int64_t wanted;          /* highest size a caller waits for, 0 none */
	int64_t pending_since;   /* when the log first grew past the latest checkpoint, 0 not */
	int64_t last_attempt;    /* when the signer last tried to sign */
} gh_checkpoint_sched;

/* When the signer should next try to sign (ms), given its state and options. */
int64_t gh_checkpoint_due(const gh_checkpoint_sched *st, const gh_checkpointer_options *o);

/* Starts the signer for store s (hooked to its commits: one per store) with key
 * k for origin (both borrowed; they outlive the signer). Tries to sign at once
 * when the log grew since the latest checkpoint (or has none); a refusal is
 * logged to stderr, not fatal. */
int gh_checkpointer_start(gh_checkpointer **out, gh_store *s, const gh_signer *k,
			  const char *origin, const gh_checkpointer_options *o);
/* Stops the thread and wakes every waiter (they, and later callers, get
 * GH_ECONFLICT at once); signing on request still works. NULL-safe. */
void gh_checkpointer_stop(gh_checkpointer *c);
/* Stops it if still running, then frees it, once nobody can call it. NULL-safe. */
void gh_checkpointer_free(gh_checkpointer *c);
const gh_signer *gh_checkpointer_signer(const gh_checkpointer *c);

/* The latest checkpoint when it covers event `covers` (its size >= covers);
 * otherwise asks the signer for one and waits up to timeout_ms for it. *note
 * malloc'd. GH_EINVALID (field "covers") when the log has no such event or it
 * is the latest checkpoint's own record; GH_ECONFLICT when none came in time
 * or signing failed (the reason); GH_ELIMITED when too many callers wait. */
int gh_checkpointer_wait(char **note, gh_checkpointer *c, int64_t covers, int64_t timeout_ms);
/* Signs now, whatever the rate (an admin's explicit request), and wakes waiters. */
int gh_checkpointer_sign_now(char **note, gh_checkpointer *c);
/* Signatures this signer made (tests, logs). */
int64_t gh_checkpointer_signed(gh_checkpointer *c);
/* Callers waiting now (tests). */
int gh_checkpointer_waiting(gh_checkpointer *c);
/* What another node did, as seen in the database: the log holds head_seq
 * events and the latest checkpoint covers signed_size (-1 none). Wakes the
 * thread when there is something new to sign, and the waiters a newer
 * checkpoint satisfies. */
void gh_checkpointer_observe(gh_checkpointer *c, int64_t head_seq, int64_t signed_size);

/* Verifies note against the verifier key vkey (offline): 0 with the size and
 * root, or GH_EINVALID with why ("signature does not verify", "no signature
 * by key X", "malformed body line 2", ...). */
int gh_checkpoint_verify(int64_t *size, gh_merkle_hash root, char *origin, size_t originlen,
			 const char *note, const char *vkey, char *why, size_t whylen);
/* The signed-note layer alone (any text, not only checkpoints): 0 when note
 * carries a valid signature by vkey, with *textlen the signed text's length;
 * GH_EINVALID with why otherwise. */
int gh_note_verify(size_t *textlen, const char *note, const char *vkey, char *why, size_t whylen);

#endif
