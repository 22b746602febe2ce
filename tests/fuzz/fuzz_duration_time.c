/* fuzz_duration_time.c - fuzz target: durations ("1h30m") and RFC 3339 times
 * round-trip through their parse and format functions (abort on violation).
 *
 * The input is tried as duration text and as time text; its first 8 bytes are
 * also taken as a number of seconds to format and parse back. */
#include "common/error.h"
#include "common/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION_MAX (10LL * 366 * 86400)   /* util.h: 1 second to 10 years */
#define TIME_MAX 253402300799LL             /* 9999-12-31T23:59:59Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void violated(const char *what, const char *in, const char *out)
{
	fprintf(stderr, "fuzz_duration_time: %s: \"%.64s\" -> \"%.64s\"\n", what, in, out);
	abort();
}

static void duration_seconds(int64_t d)
{
	char text[32], again[32];
	int64_t back = 0;

	gh_duration_format(text, sizeof(text), d);
	if (gh_duration_parse(&back, text) != 0 || back != d)
		violated("a formatted duration does not parse back", "(seconds)", text);
	gh_duration_format(again, sizeof(again), back);
	if (strcmp(text, again) != 0)
		violated("duration format is not canonical", text, again);
}

static void duration_text(const char *s)
{
	int64_t d = 0;

	if (gh_duration_parse(&d, s) != 0)
		return;
	if (d < 1 || d > DURATION_MAX)
		violated("a parsed duration is out of range", s, "");
	duration_seconds(d);
}

static void time_seconds(int64_t t)
{
	char text[40], again[40];
	int64_t back = 0;

	gh_time_format(text, sizeof(text), t);
	if (gh_time_parse(&back, text) != 0 || back != t)
		violated("a formatted time does not parse back", "(seconds)", text);
	gh_time_format(again, sizeof(again), back);
	if (strcmp(text, again) != 0)
		violated("time format is not canonical", text, again);
}

static void time_text(const char *s)
{
	int64_t t = 0;

	if (gh_time_parse(&t, s) != 0)
		return;
	if (t < 0 || t > TIME_MAX)
		violated("a parsed time is outside 1970..9999", s, "");
	time_seconds(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t raw = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	duration_text(s);
	time_text(s);
	free(s);

	for (size_t i = 0; i < size && i < 8; i++)
		raw = raw << 8 | data[i];
	duration_seconds((int64_t)(raw % (uint64_t)DURATION_MAX) + 1);
	time_seconds((int64_t)(raw % (uint64_t)(TIME_MAX + 1)));
	gh_error_clear();
	return 0;
}
