/* checkpoints.h - signed checkpoints of the audit tree as stored (the store's
 * typed operations): the checkpoint signer (audit/checkpoint.c) decides what
 * to sign; the store keeps each signed note with its size and root. */
#ifndef GH_STORE_CHECKPOINTS_H
#define GH_STORE_CHECKPOINTS_H

#include <stdint.h>

#include "store/store.h"

#define GH_STORE_CHECKPOINT_ROOT_LEN 32

/* Records a signed checkpoint: the tree size it covers, its root
 * (GH_STORE_CHECKPOINT_ROOT_LEN bytes), the note as published and when
 * (unix seconds). Inside the caller's write. */
int gh_store_checkpoint_insert(gh_store *s, int64_t size, const unsigned char *root,
			       const char *note, int64_t created_at);

/* The latest recorded checkpoint: its size, root (zeros when damaged; may be
 * NULL) and *note (malloc'd, the caller's; may be NULL). GH_ENOTFOUND when
 * none has been signed yet. Inside a read section or write. */
int gh_store_checkpoint_latest(int64_t *size, unsigned char *root, char **note, gh_store *s);

#endif
