/* fuzz_config.c - fuzz target: the server configuration file parser (strict
 * YAML, the schema of each section and connector kind, secret names). */
#include "common/config.h"
#include "common/error.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	gh_config c;

	if (!sink)
		sink = fopen("/dev/null", "w");
	gh_config_parse(&c, (const char *)data, size, "fuzz.yaml");
	if (sink)
		gh_config_print_problems(sink, &c, "fuzz.yaml");
	for (size_t i = 0; i < c.ninstances; i++)
		gh_config_instance_find(&c, c.instances[i].name);
	gh_config_free(&c);
	gh_error_clear();
	return 0;
}
