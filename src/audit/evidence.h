/* evidence.h - evidence bundles: one JSON document with a request's audit
 * events, an inclusion proof for each and a signed checkpoint, that verifies
 * offline with nothing but the log's verifier key.
 *
 * A bundle is the canonical JSON (sorted keys, compact, UTF-8, one final
 * newline) of
 *   {"format": "gatehouse-evidence/1",
 *    "request": "req_...",
 *    "checkpoint": "<the signed note, as text>",
 *    "events": [{"seq", "ts", "actor", "action", "object_type", "object_id",
 *                "details", "proof": ["<base64 hash>", ...]}, ...]}
 * Every byte of it is checked: the text must be exactly that canonical form,
 * the note must verify under the key, each event's leaf hash (merkle.h) with
 * its proof must lead to the checkpoint's root (leaf index = seq - 1 < the
 * checkpoint's size), the events must be in ascending seq order and each must
 * be about the request or an object the request's events name (its grant). */
#ifndef GH_EVIDENCE_H
#define GH_EVIDENCE_H

#include <jansson.h>
#include <stddef.h>

#define GH_EVIDENCE_FORMAT "gatehouse-evidence/1"

/* Builds a bundle's text (malloc'd, with the final newline) from its parts:
 * events as the API gives them (extra fields such as hash are dropped), one
 * proof (array of base64 strings) per event in the same order. */
int gh_evidence_build(char **out, const char *request_id, const char *checkpoint_note,
		      const json_t *events, const json_t *proofs);

/* Verifies bundle text against the verifier key vkey. 0 when it holds;
 * GH_EINVALID when not. *report (always set unless out of memory):
 * {"ok": bool, "request", "origin", "size", "events": N, "problems": [strings
 * saying exactly what fails, e.g. "event 2 (seq 57, request.approved): its
 * inclusion proof does not lead to the checkpoint's root"]}. */
int gh_evidence_verify(json_t **report, const char *text, size_t len, const char *vkey);

#endif
