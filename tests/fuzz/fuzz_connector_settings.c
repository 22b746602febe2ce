/* fuzz_connector_settings.c - fuzz target: connector settings checks for every
 * kind never crash, and either accept or name the fields they refuse. */
#include "common/error.h"
#include "common/jsonv.h"
#include "connect/connect.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal must say which field: an answer without one is a bug. */
static void refused_with_fields(int rc)
{
	const gh_error *e = gh_error_last();

	if (rc == 0)
		return;
	if (rc != GH_EINVALID)
		abort();
	if (json_array_size(e->fields) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = {"manual", "postgres", "ldap", "webhook", "exec",
					    "credential", "", NULL};
	json_t *v = NULL;

	if (gh_json_parse(&v, (const char *)data, size) == 0) {
		for (int i = 0; kinds[i]; i++) {
			gh_error_clear();
			refused_with_fields(gh_connector_check(kinds[i], v));
			/* as a system body carries them */
			gh_error_clear();
			refused_with_fields(gh_connector_check(
				kinds[i], json_object_get(v, "connector_settings")));
		}
		json_decref(v);
	}
	gh_error_clear();
	return 0;
}
