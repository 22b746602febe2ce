/* pg_script.h - where the unit tests that start their own PostgreSQL find
 * tests/support/pg_server.sh: $GH_PG_SERVER, or the script relative to the
 * repository, the build directory or one below it. */
#ifndef GH_TEST_PG_SCRIPT_H
#define GH_TEST_PG_SCRIPT_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The script's path into out; exits 2 when it is nowhere. */
static inline void pg_find_script(char *out, size_t outlen)
{
	static const char *const candidates[] = {"tests/support/pg_server.sh",
						 "../tests/support/pg_server.sh",
						 "../../tests/support/pg_server.sh", NULL};
	const char *env = getenv("GH_PG_SERVER");

	if (env) {
		snprintf(out, outlen, "%s", env);
		return;
	}
	for (int i = 0; candidates[i]; i++)
		if (access(candidates[i], X_OK) == 0) {
			snprintf(out, outlen, "%s", candidates[i]);
			return;
		}
	fprintf(stderr, "tests/support/pg_server.sh not found (run from the repository)\n");
	exit(2);
}

#endif
