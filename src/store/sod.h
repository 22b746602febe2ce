/* sod.h - segregation of duties (the store's typed operations): the grants a
 * subject holds that conflict with an entitlement it asks for (gov/sod.c
 * words the refusal; the conflicts themselves are written through
 * store/catalog.h). Runs inside the caller's transaction or read section;
 * JSON coming back through **out is the caller's. */
#ifndef GH_STORE_SOD_H
#define GH_STORE_SOD_H

#include <jansson.h>

#include "store/store.h"

/* The active or provisioning grants of subject_id for an entitlement that
 * conflicts with entitlement_id, as a new array of {"entitlement" (id),
 * "name" (the entitlement's name),"grant" (id)} in name order. */
int gh_store_sod_held(json_t **out, gh_store *s, const char *subject_id,
		      const char *entitlement_id);

#endif
