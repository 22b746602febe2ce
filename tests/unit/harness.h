/* harness.h - a minimal unit-test harness: named cases, checks, a summary line. */
#ifndef GH_TEST_HARNESS_H
#define GH_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

typedef void (*gh_test_fn)(void);

typedef struct gh_test_case {
	const char *name;
	gh_test_fn fn;
} gh_test_case;

extern int gh_test_failures;

/* Fails the current case (and keeps going) when cond is false. */
#define CHECK(cond) gh_test_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_INT(a, b) gh_test_check_int((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) gh_test_check_str((a), (b), #a, __FILE__, __LINE__)

int gh_test_check(int ok, const char *expr, const char *file, int line);
int gh_test_check_int(long long a, long long b, const char *ea, const char *eb, const char *file, int line);
int gh_test_check_str(const char *a, const char *b, const char *ea, const char *file, int line);

/* Runs each case (or those whose name contains argv[1]) and prints
 * "N passed, M failed"; returns the process exit code. */
int gh_test_run(const gh_test_case *cases, int argc, char **argv);

/* A fresh temporary directory path for this process (created once). */
const char *gh_test_tmpdir(void);

#endif
