/* harness.c - runs unit-test cases and counts their failures. */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

int gh_test_failures;

int gh_test_check(int ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		gh_test_failures++;
		fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, expr);
	}
	return ok;
}

int gh_test_check_int(long long a, long long b, const char *ea, const char *eb, const char *file, int line)
{
	if (a != b) {
		gh_test_failures++;
		fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n", file, line, ea, eb, a, b);
		return 0;
	}
	return 1;
}

int gh_test_check_str(const char *a, const char *b, const char *ea, const char *file, int line)
{
	if (!a || !b || strcmp(a, b) != 0) {
		gh_test_failures++;
		fprintf(stderr, "  FAIL %s:%d: %s is \"%s\", expected \"%s\"\n", file, line, ea,
			a ? a : "(null)", b ? b : "(null)");
		return 0;
	}
	return 1;
}

const char *gh_test_tmpdir(void)
{
	static char dir[256];

	if (!dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/gh-unit-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return dir;
}

int gh_test_run(const gh_test_case *cases, int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (const gh_test_case *c = cases; c->name; c++) {
		if (argc > 1 && !strstr(c->name, argv[1]))
			continue;
		int before = gh_test_failures;
		c->fn();
		if (gh_test_failures == before) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "FAILED %s\n", c->name);
		}
	}
	printf("%s: %d passed, %d failed\n", argv[0], passed, failed);
	return failed ? 1 : 0;
}
