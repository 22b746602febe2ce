/* cmd_credentials.c - gatehouse introspect KEY: ask the server whether an
 * API key works (POST /v1/introspect). The credentials resource itself is a
 * set of rows in cmd_client.c's table. */
#include "cli/cli.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/errors.h"

#define KEY_MAX 512      /* bytes read from standard input */

static void usage(FILE *f)
{
	fprintf(f, "usage: gatehouse introspect KEY|- [--server URL] [--token TOKEN] [--json]\n"
		   "  Asks the server whether the API key works (RFC 7662); '-' reads the key from\n"
		   "  standard input, so that it stays out of the process list. Exit 0 when the\n"
		   "  key is active, 1 when it is not.\n");
}

/* The key from stdin: its first line, without the line end. */
static int read_key(char out[KEY_MAX + 1])
{
	size_t n;

	if (!fgets(out, KEY_MAX + 1, stdin))
		return gh_error_set(GH_EINVALID, "no key on standard input");
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return n ? 0 : gh_error_set(GH_EINVALID, "no key on standard input");
}

int gh_cmd_introspect(gh_cli *c)
{
	static const char *const none[] = {NULL};
	gh_client cl = {c->server, c->token, 30, "introspect"};
	gh_response r = {0};
	char key[KEY_MAX + 1] = "";
	json_t *body = NULL, *doc = NULL;
	int rc;

	if (c->help) {
		usage(stdout);
		return GH_EXIT_OK;
	}
	if (c->npos != 2 || gh_cli_check_options(c, "introspect", none)) {
		if (c->npos != 2)
			fprintf(stderr, "gatehouse: introspect takes one KEY (or - for stdin)\n");
		else
			gh_cli_error(NULL);
		usage(stderr);
		return GH_EXIT_USAGE;
	}
	if (strcmp(c->pos[1], "-") == 0 ? read_key(key)
	    : (snprintf(key, sizeof(key), "%s", c->pos[1]), 0)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (!(body = json_pack("{s:s}", "token", key))) {
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	if ((rc = gh_client_json(&doc, &r, &cl, "POST", "/v1/introspect", body)))
		goto cleanup;
	if (c->json) {
		fwrite(r.body, 1, r.len, stdout);
		putchar('\n');
	} else if (gh_table_print_object(stdout, doc)) {
		gh_cli_error(NULL);
	}
	rc = json_is_true(json_object_get(doc, "active")) ? GH_EXIT_OK : GH_EXIT_FAIL;
cleanup:
	sodium_memzero(key, sizeof(key));
	json_decref(doc);
	json_decref(body);
	gh_response_free(&r);
	return rc;
}
