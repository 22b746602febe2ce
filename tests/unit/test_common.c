/* test_common.c - durations, times, ids and bounded JSON parsing. */
#include "common/error.h"
#include "common/jsonv.h"
#include "common/util.h"
#include "harness.h"

#include <stdlib.h>

static void test_common_duration__parses_and_formats(void)
{
	int64_t v;
	char buf[32];

	CHECK_INT(gh_duration_parse(&v, "8h"), 0);
	CHECK_INT(v, 28800);
	CHECK_INT(gh_duration_parse(&v, "1h30m"), 0);
	CHECK_INT(v, 5400);
	CHECK_INT(gh_duration_parse(&v, "2w"), 0);
	CHECK_INT(v, 14 * 86400);
	gh_duration_format(buf, sizeof(buf), 5400);
	CHECK_STR(buf, "1h30m");
	gh_duration_format(buf, sizeof(buf), 90061);
	CHECK_STR(buf, "1d1h1m1s");
}

static void test_common_duration__refuses_bad_text(void)
{
	int64_t v;
	const char *bad[] = {"", "h", "8", "8x", "0s", "30m1h", "1h1h", "-5m", "99999999999d",
			     "1h ", NULL};

	for (int i = 0; bad[i]; i++)
		CHECK_INT(gh_duration_parse(&v, bad[i]), GH_EINVALID);
}

static void test_common_time__round_trips(void)
{
	int64_t t;
	char buf[40];

	CHECK_INT(gh_time_parse(&t, "2026-11-26T10:00:00Z"), 0);
	gh_time_format(buf, sizeof(buf), t);
	CHECK_STR(buf, "2026-11-26T10:00:00Z");
	CHECK_INT(gh_time_parse(&t, "2026-11-26T12:00:00+02:00"), 0);
	gh_time_format(buf, sizeof(buf), t);
	CHECK_STR(buf, "2026-11-26T10:00:00Z");
	CHECK_INT(gh_time_parse(&t, "2024-02-29T00:00:00.123Z"), 0);
	CHECK_INT(gh_time_parse(&t, "2023-02-29T00:00:00Z"), GH_EINVALID);
	CHECK_INT(gh_time_parse(&t, "2026-13-01T00:00:00Z"), GH_EINVALID);
	CHECK_INT(gh_time_parse(&t, "2026-11-26 10:00:00Z"), GH_EINVALID);
	CHECK_INT(gh_time_parse(&t, "2026-11-26T10:00:00"), GH_EINVALID);
}

static void test_common_id__has_prefix_and_is_unique(void)
{
	char a[32], b[32];

	gh_id_new(a, sizeof(a), "req");
	gh_id_new(b, sizeof(b), "req");
	CHECK(strncmp(a, "req_", 4) == 0);
	CHECK_INT(strlen(a), 20);
	CHECK(strcmp(a, b) != 0);
}

/* A malformed body quoting bytes that are not UTF-8 still names its field
 * (the fuzzer found a 400 without one), and messages stay valid UTF-8 even
 * when a character is cut at the buffer's end. */
static void test_common_error__invalid_utf8_is_mended(void)
{
	static const char bad[] = "\"\\\xce\xab}";
	json_t *v = NULL;
	char longer[700];
	const char *reason;

	gh_error_clear();
	CHECK_INT(gh_json_parse(&v, bad, sizeof(bad) - 1), GH_EINVALID);
	CHECK_INT(gh_error_field_count(), 1);
	reason = json_string_value(json_object_get(json_array_get(gh_error_last()->fields, 0),
						   "reason"));
	CHECK(reason && strstr(reason, "not valid JSON"));
	v = json_string(gh_error_last()->message);
	CHECK(v != NULL || !"message is UTF-8");
	json_decref(v);
	v = NULL;
	gh_error_clear();
	memset(longer, 'a', sizeof(longer));
	for (size_t i = 509; i + 1 < sizeof(longer); i += 2)   /* "é" across the cut */
		memcpy(longer + i, "\xc3\xa9", 2);
	longer[sizeof(longer) - 1] = '\0';
	gh_error_field("f\xff", "%s", longer);
	CHECK_INT(gh_error_field_count(), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(gh_error_last()->fields, 0),
						    "field")), "f?");
	gh_error_set(GH_EINVALID, "%s \xe2\x82", "cut");
	CHECK_STR(gh_error_last()->message, "cut ??");
	gh_error_clear();
}

static void test_common_json__refuses_deep_large_and_malformed(void)
{
	json_t *v = NULL;
	char deep[200];
	char *big = malloc(GH_JSON_MAX_BODY + 2);

	memset(deep, '[', sizeof(deep));
	CHECK_INT(gh_json_parse(&v, deep, sizeof(deep)), GH_ETOOLARGE);
	memset(big, ' ', GH_JSON_MAX_BODY + 1);
	CHECK_INT(gh_json_parse(&v, big, GH_JSON_MAX_BODY + 1), GH_ETOOLARGE);
	free(big);
	CHECK_INT(gh_json_parse(&v, "{\"a\":", 5), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "line 1") != NULL);
	CHECK_INT(gh_json_parse(&v, "{\"a\":1,\"a\":2}", 13), GH_EINVALID);
	CHECK_INT(gh_json_parse(&v, "{\"a\":\"[[[[\"}", 12), 0);
	json_decref(v);
}

static void test_common_jsonv__collects_every_problem(void)
{
	static const char *const allowed[] = {"name", "kind", "flag", NULL};
	json_t *in = json_pack("{s:i, s:s, s:s}", "name", 5, "flag", "yes", "extra", "x");
	const char *s;
	int b;

	gh_error_clear();
	gh_jv_object(in, allowed);
	gh_jv_string(in, "name", 1, 64, &s);
	gh_jv_string(in, "kind", 1, 64, &s);
	gh_jv_bool(in, "flag", 0, &b);
	CHECK_INT(gh_error_field_count(), 4);
	CHECK_INT(gh_error_fields_finish(), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "4 fields") != NULL);
	json_decref(in);
	gh_error_clear();
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"common_duration__parses_and_formats", test_common_duration__parses_and_formats},
		{"common_duration__refuses_bad_text", test_common_duration__refuses_bad_text},
		{"common_time__round_trips", test_common_time__round_trips},
		{"common_id__has_prefix_and_is_unique", test_common_id__has_prefix_and_is_unique},
		{"common_json__refuses_deep_large_and_malformed", test_common_json__refuses_deep_large_and_malformed},
		{"common_error__invalid_utf8_is_mended", test_common_error__invalid_utf8_is_mended},
		{"common_jsonv__collects_every_problem", test_common_jsonv__collects_every_problem},
		{NULL, NULL}};

	gh_init();
	return gh_test_run(cases, argc, argv);
}
