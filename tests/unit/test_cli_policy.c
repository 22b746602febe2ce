/* test_cli_policy.c - gatehouse policy authorize|validate|format: usage errors. */
#include "cli/cli.h"
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

static char *tmp_path(const char *rel)
{
	size_t n = strlen(gh_test_tmpdir()) + strlen(rel) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", gh_test_tmpdir(), rel);
	return p;
}

static void write_file(const char *rel, const char *text)
{
	char *path = tmp_path(rel);
	FILE *f = path ? fopen(path, "wb") : NULL;

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
}

static void make_dir(const char *rel)
{
	char *path = tmp_path(rel);

	CHECK(path && (mkdir(path, 0700) == 0 || errno == EEXIST));
	free(path);
}

/* --- the commands' usage errors (they do not reach the engine) ------------ */

static int policy_cmd(const char *const words[])
{
	char *argv[GH_CLI_MAX_ARGS + 2];
	int argc = 0;
	gh_cli c;

	argv[argc++] = (char *)"gatehouse";
	for (int i = 0; words[i] && argc < GH_CLI_MAX_ARGS + 1; i++)
		argv[argc++] = (char *)words[i];
	argv[argc] = NULL;
	if (gh_cli_parse(&c, argc, argv))
		return -1;
	return gh_cmd_policy(&c);
}

static void test_cli_policy_cmd__usage_errors(void)
{
	char *empty = tmp_path("empty"), *missing = tmp_path("no-such-dir");
	const char *const none[] = {"policy", NULL};
	const char *const unknown[] = {"policy", "frob", NULL};
	const char *const no_request[] = {"policy", "authorize", "--policies", "p.cedar", NULL};
	const char *const bad_opt[] = {"policy", "authorize", "--policies", "p", "--request", "r",
				       "--bogus", "x", NULL};
	const char *const extra[] = {"policy", "authorize", "stray", "--policies", "p",
				     "--request", "r", NULL};
	const char *const no_schema[] = {"policy", "validate", "--policies", "p", NULL};
	const char *const no_file[] = {"policy", "format", NULL};
	const char *const unreadable[] = {"policy", "format", missing, NULL};
	const char *const gone[] = {"policy", "conformance", empty, NULL};
	const char *const unreadable_policies[] = {"policy", "authorize", "--policies", missing,
						   "--request", missing, NULL};

	make_dir("empty");
	write_file("empty/other.json", "{\"not\":\"a test\"}");
	CHECK_INT(policy_cmd(none), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(unknown), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(no_request), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(bad_opt), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(extra), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(no_schema), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(no_file), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(unreadable), GH_EXIT_USAGE);
	CHECK_INT(policy_cmd(gone), GH_EXIT_USAGE);   /* the runner is tests/cedar's now */
	CHECK_INT(policy_cmd(unreadable_policies), GH_EXIT_USAGE);
	free(empty);
	free(missing);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_cli_policy_cmd__usage_errors", test_cli_policy_cmd__usage_errors},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
