/* cluster.h - what several Gatehouse nodes on one database share (the store's
 * typed operations behind gov/cluster.c): leases (one holder at a time for a
 * named duty, such as signing checkpoints) and generations (counters bumped
 * when something nodes cache changes, polled by every node).
 *
 * Every function runs inside the caller's transaction (writes) or read
 * section (reads); none opens its own. Lease times are unix milliseconds. */
#ifndef GH_STORE_CLUSTER_H
#define GH_STORE_CLUSTER_H

#include <stdint.h>

#include "store/store.h"

/* Takes lease name for holder until until_ms, as one compare-and-set: it is
 * taken when nobody holds it, when its holder's time ran out (until_ms <=
 * now_ms), or (renew 1) when holder already holds it. *held 1 when holder
 * holds it now, 0 when another does. */
int gh_store_lease_take(int *held, gh_store *s, const char *name, const char *holder,
			int64_t now_ms, int64_t until_ms, int renew);

/* Gives lease name up when holder holds it (its time ends now). */
int gh_store_lease_release(gh_store *s, const char *name, const char *holder, int64_t now_ms);

/* Adds one to generation name (created at 1). */
int gh_store_generation_bump(gh_store *s, const char *name);

/* Generation name into *out (0 when it was never bumped). */
int gh_store_generation_get(int64_t *out, gh_store *s, const char *name);

#endif
