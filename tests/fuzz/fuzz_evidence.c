/* fuzz_evidence.c - fuzz target: gh_evidence_verify over arbitrary bundle
 * text, with the verifier key that signed the seed bundle in the corpus (so
 * mutations of a real bundle reach the proof and event checks). Properties:
 * never crashes; a report always comes back; it is ok only when no problem is
 * listed; the seed itself verifies. */
#include "audit/evidence.h"
#include "common/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VKEY "gatehouse/01bfd949+98950446+AWmL84DpgO3CbYIaZ6J886+03jNa355Cews51InYtdW2"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *report = NULL;
	int rc, ok;

	rc = gh_evidence_verify(&report, (const char *)data, size, VKEY);
	if (!report) {
		if (rc != GH_ERROR)
			abort();   /* only out of memory may leave no report */
		return 0;
	}
	ok = json_is_true(json_object_get(report, "ok"));
	if (ok != (rc == 0) ||
	    ok != (json_array_size(json_object_get(report, "problems")) == 0))
		abort();
	json_decref(report);
	gh_error_clear();
	return 0;
}
