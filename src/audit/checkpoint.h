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
