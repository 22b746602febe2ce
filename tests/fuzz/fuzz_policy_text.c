/* fuzz_policy_text.c - fuzz target: Cedar policy text. Whatever parses must format,
 * the formatted text must parse again and format to the same text, and the policy
 * JSON of it must parse back to the same text. */
#define _GNU_SOURCE /* memmem */
#include "policy/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gh_policy_set *ps = NULL, *again = NULL, *back = NULL;
	gh_policy_error err;
	char *f1 = NULL, *f2 = NULL, *json = NULL, *f3 = NULL;

	if (gh_policy_set_parse(&ps, (const char *)data, size, &err)) {
		if (ps || !err.message[0] || !memchr(err.message, '\0', sizeof(err.message)))
			__builtin_trap();
		return 0;
	}
	if (gh_policy_set_format(&f1, ps) || !f1)
		__builtin_trap();
	if (gh_policy_set_parse(&again, f1, strlen(f1), &err))
		__builtin_trap();       /* the canonical text must parse */
	if (gh_policy_set_format(&f2, again) || strcmp(f1, f2))
		__builtin_trap();       /* and be a fixed point */
	if (gh_policy_set_count(again) != gh_policy_set_count(ps))
		__builtin_trap();
	/* policy JSON needs UTF-8; text strings may hold other bytes */
	int rc = gh_policy_set_to_json(&json, ps);
	if (rc == GH_POLICY_EINVALID && !json)
		goto out;
	if (rc || !json)
		__builtin_trap();
	/* deep trees may exceed jansson's nesting limit; anything else must come back */
	if (gh_policy_set_parse_json(&back, json, strlen(json), &err) == 0) {
		/* with NUL in a record key, U+10FFFF reads back as NUL (see ghp_json_load) */
		int ambiguous = memmem(f1, strlen(f1), "\xF4\x8F\xBF\xBF", 4) != NULL;
		if (gh_policy_set_format(&f3, back) || (strcmp(f1, f3) && !ambiguous))
			__builtin_trap();
	} else if (!strstr(err.message, "too deep") && !strstr(err.message, "nested")) {
		__builtin_trap();
	}
out:
	free(f1);
	free(f2);
	free(f3);
	free(json);
	gh_policy_set_free(ps);
	gh_policy_set_free(again);
	gh_policy_set_free(back);
	return 0;
}
