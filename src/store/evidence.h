/* evidence.h - what a request's evidence document reads besides the request
 * and its grant (gov/evidence.c): people, the entitlement with its system and
 * control-owner group, the policy version's hash, and the span of the audit
 * trail. Every function runs inside the caller's read section; JSON coming
 * back through **out is the caller's. */
#ifndef GH_STORE_EVIDENCE_H
#define GH_STORE_EVIDENCE_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

/* {"id","name","roles" (array),"kind","owner" (or null)} of identity id;
 * *out NULL when there is none. */
int gh_store_evidence_identity(json_t **out, gh_store *s, const char *id);

/* {"id","name","system":{"id","name"},"risk_tier","control_owner_group":
 * {"id","name"}} of entitlement id; *out NULL when there is none. */
int gh_store_evidence_entitlement(json_t **out, gh_store *s, const char *id);

/* The sha256 (hex string) of policy version id; *out NULL when there is none. */
int gh_store_evidence_policy_sha256(json_t **out, gh_store *s, const char *id);

/* The first and last seq and the number of the audit events about id1 or id2
 * (id2 may be NULL); first and last are 0 when there are none. */
int gh_store_evidence_audit_span(int64_t *first, int64_t *last, int64_t *count, gh_store *s,
				 const char *id1, const char *id2);

#endif
