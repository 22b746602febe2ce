/* connect_fixture.h - helpers shared by the connector unit tests (header-only). */
#ifndef GH_TEST_CONNECT_FIXTURE_H
#define GH_TEST_CONNECT_FIXTURE_H

#include "common/error.h"
#include "connect/connect.h"

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

static CX_UNUSED double cx_seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

#endif
