/* fuzz_json.c - fuzz target: bounded JSON parsing and field validation of request bodies. */
#include "common/error.h"
#include "common/jsonv.h"
#include "gatehouse/gov.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = {"kind", "name", "duration", "expires_at", "emergency",
					      "attributes", "roles", NULL};
	json_t *v = NULL, *o;
	const char *s;
	int64_t n;
	int b;

	if (gh_json_parse(&v, (const char *)data, size) == 0) {
		gh_jv_object(v, allowed);
		if (gh_jv_string(v, "name", 1, 1024, &s) > 0) {
			char why[GH_GOV_FIELD_PROBLEM_MAX];
			gh_gov_field_problem(why, sizeof(why), GH_GOV_FIELD_NAME, s);
		}
		gh_jv_string(v, "kind", 1, 64, &s);
		gh_jv_duration(v, "duration", 0, &n);
		gh_jv_time(v, "expires_at", 0, &n);
		gh_jv_bool(v, "emergency", 0, &b);
		gh_jv_object_field(v, "attributes", 0, &o);
		gh_jv_string_array(v, "roles", 0, 8, 32, &o);
		gh_error_fields_finish();
		json_decref(v);
	}
	gh_error_clear();
	return 0;
}
