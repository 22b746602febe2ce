/* events.h - reading the audit log's events (the store's typed operations).
 * Appending them is the audit module's, through the chain it keeps. */
#ifndef GH_STORE_EVENTS_H
#define GH_STORE_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* An event as the API shows it: {"seq","time","ts_us","actor","action",
 * "object_type","object_id","details","prev_hash","hash"} (hashes in hex). */

/* Up to limit events after after_seq in order, only those about object_id
 * when it is not NULL; *items is a new array. Inside a read section. */
int gh_store_events_page(json_t **items, gh_store *s, int64_t after_seq, int limit,
			 const char *object_id);
/* Every event about either object (id2 may be NULL), in order. */
int gh_store_events_about(json_t **items, gh_store *s, const char *id1, const char *id2);

#endif
