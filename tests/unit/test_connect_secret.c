/* test_connect_secret.c - secret references: env and file, missing, malformed,
 * too long, first line only, and that messages name the ref, never the value. */
#include "common/error.h"
#include "common/util.h"
#include "connect/connect.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

static void test_connect_secret_env__reads_the_variable(void)
{
	char *s = NULL;

	setenv("GH_TEST_SECRET_A", "hunter2-env", 1);
	CHECK_INT(gh_secret_resolve(&s, "env:GH_TEST_SECRET_A"), 0);
	CHECK_STR(s, "hunter2-env");
	gh_secret_free(s);
	unsetenv("GH_TEST_SECRET_A");
}

static void test_connect_secret_file__first_line_without_newline(void)
{
	char path[512], ref[600], *s = NULL;

	snprintf(path, sizeof(path), "%s/secret-lines", gh_test_tmpdir());
	snprintf(ref, sizeof(ref), "file:%s", path);
	write_file(path, "line-one\nline-two\n", 18);
	CHECK_INT(gh_secret_resolve(&s, ref), 0);
	CHECK_STR(s, "line-one");
	gh_secret_free(s);
	s = NULL;
	write_file(path, "crlf-secret\r\n", 13);
	CHECK_INT(gh_secret_resolve(&s, ref), 0);
	CHECK_STR(s, "crlf-secret");
	gh_secret_free(s);
	s = NULL;
	write_file(path, "no-newline", 10);
	CHECK_INT(gh_secret_resolve(&s, ref), 0);
	CHECK_STR(s, "no-newline");
	gh_secret_free(s);
}

static void test_connect_secret_missing__not_found_naming_the_ref(void)
{
	char ref[600], *s = (char *)"x";

	unsetenv("GH_TEST_SECRET_NONE");
	CHECK_INT(gh_secret_resolve(&s, "env:GH_TEST_SECRET_NONE"), GH_ENOTFOUND);
	CHECK(s == NULL);
	CHECK(strstr(gh_error_last()->message, "env:GH_TEST_SECRET_NONE") != NULL);
	snprintf(ref, sizeof(ref), "file:%s/does-not-exist", gh_test_tmpdir());
	CHECK_INT(gh_secret_resolve(&s, ref), GH_ENOTFOUND);
	CHECK(s == NULL);
	CHECK(strstr(gh_error_last()->message, "does-not-exist") != NULL);
}

static void test_connect_secret_malformed__refused_without_echo(void)
{
	static const char *const bad[] = {"hunter2-inline", "env:", "env:1ABC", "env:A-B",
					  "file:", "file:relative/path", "file:/x\ny", "ENV:A",
					  "", NULL};
	char *s = NULL;

	for (int i = 0; bad[i]; i++) {
		CHECK(!gh_secret_ref_valid(bad[i]));
		CHECK_INT(gh_secret_resolve(&s, bad[i]), GH_EINVALID);
		CHECK(s == NULL);
	}
	CHECK_INT(gh_secret_resolve(&s, NULL), GH_EINVALID);
	CHECK_INT(gh_secret_resolve(&s, "hunter2-inline"), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "hunter2") == NULL);
	CHECK(gh_secret_ref_valid("env:_A1"));
	CHECK(gh_secret_ref_valid("file:/run/secrets/hook"));
}

static void test_connect_secret_limits__too_long_and_empty_refused(void)
{
	char path[512], ref[600], *big, *s = NULL;

	big = malloc(5000);
	memset(big, 'k', 5000);
	snprintf(path, sizeof(path), "%s/secret-big", gh_test_tmpdir());
	snprintf(ref, sizeof(ref), "file:%s", path);
	write_file(path, big, 4097);
	CHECK_INT(gh_secret_resolve(&s, ref), GH_EINVALID);
	CHECK(s == NULL);
	CHECK(strstr(gh_error_last()->message, "longer") != NULL);
	CHECK(strstr(gh_error_last()->message, "kkkk") == NULL);
	/* exactly the cap, then a newline: accepted */
	big[4096] = '\n';
	write_file(path, big, 4097);
	CHECK_INT(gh_secret_resolve(&s, ref), 0);
	CHECK_INT(s ? strlen(s) : 0, 4096);
	gh_secret_free(s);
	s = NULL;
	big[4999] = '\0';
	setenv("GH_TEST_SECRET_BIG", big, 1);
	CHECK_INT(gh_secret_resolve(&s, "env:GH_TEST_SECRET_BIG"), GH_EINVALID);
	unsetenv("GH_TEST_SECRET_BIG");
	setenv("GH_TEST_SECRET_EMPTY", "", 1);
	CHECK_INT(gh_secret_resolve(&s, "env:GH_TEST_SECRET_EMPTY"), GH_EINVALID);
	unsetenv("GH_TEST_SECRET_EMPTY");
	write_file(path, "\nsecond-line", 12);
	CHECK_INT(gh_secret_resolve(&s, ref), GH_EINVALID);
	CHECK(s == NULL);
	/* a directory is not a secret */
	snprintf(ref, sizeof(ref), "file:%s", gh_test_tmpdir());
	CHECK(gh_secret_resolve(&s, ref) != 0);
	CHECK(s == NULL);
	gh_secret_free(NULL);
	free(big);
}

static void test_connect_secret_settings__refs_checked_as_fields(void)
{
	json_t *ok = json_pack("{s:s}", "secret_ref", "env:HOOK");
	json_t *bad = json_pack("{s:s}", "secret_ref", "hunter2");
	const char *ref;
	char *text;

	gh_error_clear();
	CHECK_INT(gh_conn_setting_secret_ref(ok, "secret_ref", 1, &ref), 0);
	CHECK_STR(ref, "env:HOOK");
	CHECK_INT(gh_conn_setting_secret_ref(bad, "secret_ref", 1, &ref), -1);
	CHECK_INT(gh_conn_setting_secret_ref(NULL, "secret_ref", 1, &ref), -1);
	CHECK_INT(gh_conn_setting_secret_ref(NULL, "password_ref", 0, &ref), 0);
	CHECK(ref == NULL);
	CHECK_INT(gh_error_fields_finish(), GH_EINVALID);
	CHECK_INT(json_array_size(gh_error_last()->fields), 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(gh_error_last()->fields, 0),
						    "field")), "connector_settings.secret_ref");
	text = json_dumps(gh_error_last()->fields, 0);
	CHECK(text && !strstr(text, "hunter2"));
	free(text);
	gh_error_clear();
	json_decref(ok);
	json_decref(bad);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"connect_secret_env__reads_the_variable", test_connect_secret_env__reads_the_variable},
		{"connect_secret_file__first_line_without_newline",
		 test_connect_secret_file__first_line_without_newline},
		{"connect_secret_missing__not_found_naming_the_ref",
		 test_connect_secret_missing__not_found_naming_the_ref},
		{"connect_secret_malformed__refused_without_echo",
		 test_connect_secret_malformed__refused_without_echo},
		{"connect_secret_limits__too_long_and_empty_refused",
		 test_connect_secret_limits__too_long_and_empty_refused},
		{"connect_secret_settings__refs_checked_as_fields",
		 test_connect_secret_settings__refs_checked_as_fields},
		{NULL, NULL}};

	gh_init();
	return gh_test_run(cases, argc, argv);
}
