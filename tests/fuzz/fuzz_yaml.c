/* fuzz_yaml.c - fuzz target: the strict YAML loader and the catalog checks of `gatehouse apply`. */
#include "cli/cli.h"
#include "common/yaml_load.h"
#include "common/error.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	gh_yaml_doc d;
	json_t *texts = NULL;

	if (!sink)
		sink = fopen("/dev/null", "w");
	/* no directory: policy files are named, never opened */
	gh_apply_check(&d, &texts, (const char *)data, size, NULL);
	if (sink)
		gh_yaml_print_problems(sink, &d, "fuzz.yaml");
	json_decref(texts);
	gh_yaml_doc_free(&d);
	gh_error_clear();
	return 0;
}
