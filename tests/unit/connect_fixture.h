/* connect_fixture.h - helpers shared by the connector unit tests (header-only). */
#ifndef GH_TEST_CONNECT_FIXTURE_H
#define GH_TEST_CONNECT_FIXTURE_H

#include "common/config.h"
#include "common/error.h"
#include "connect/connect.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CX_UNUSED __attribute__((unused))

/* 1 when the last error names field. */
static CX_UNUSED int cx_names(const char *field)
{
	size_t i;
	json_t *f;

	json_array_foreach(gh_error_last()->fields, i, f)
		if (strcmp(json_string_value(json_object_get(f, "field")), field) == 0)
			return 1;
	return 0;
}

/* gh_connector_check from a clean error: field errors accumulate per thread. */
static CX_UNUSED int cx_check(const char *kind, const json_t *settings)
{
	gh_error_clear();
	return gh_connector_check(kind, settings);
}

/* The settings a job of a system on instance runs with, as the server makes
 * them: config is a server configuration file's text, params the system's
 * own connector_settings (may be NULL). NULL (and the problems printed) when
 * the file is refused. */
static CX_UNUSED json_t *cx_instance(const char *config, const char *instance,
				    const json_t *params)
{
	const gh_connector_kind *k = NULL;
	json_t *out = NULL;
	gh_config c;

	if (gh_config_parse(&c, config, strlen(config), "test.yaml") != 0)
		gh_config_print_problems(stderr, &c, "test.yaml");
	else if (gh_connect_settings(&out, &k, &c, instance, params) != 0)
		fprintf(stderr, "  %s\n", gh_error_last()->message);
	gh_config_free(&c);
	return out;
}

/* A secrets: entry for a "env:NAME" or "file:/path" reference. */
static CX_UNUSED void cx_secret_yaml(char *out, size_t outlen, const char *name, const char *ref)
{
	if (strncmp(ref, "env:", 4) == 0)
		snprintf(out, outlen, "  %s: {env: %s}\n", name, ref + 4);
	else
		snprintf(out, outlen, "  %s: {file: \"%s\"}\n", name,
			 strncmp(ref, "file:", 5) == 0 ? ref + 5 : ref);
}

static CX_UNUSED double cx_seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

#endif
