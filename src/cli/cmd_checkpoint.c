/* cmd_checkpoint.c - signed checkpoints from the command line: the signing
 * key's path and verifier key (key export), the latest checkpoint from a
 * server (audit checkpoint [--sign]) and offline verification of a note
 * (checkpoint verify FILE --key VKEY). */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gatehouse/errors.h"
#include "gatehouse/gov.h"

#define NOTE_FILE_MAX (64 * 1024)   /* bytes of a note (or its JSON) read */

int gh_cli_signing_key_path(char *out, size_t outlen, const gh_cli *c)
{
	const char *given = gh_cli_get(c, "signing-key");
	int n;

	if (gh_cli_has(c, "signing-key") && !given)
		return gh_error_set(GH_EINVALID, "option --signing-key needs a path");
	if (!given && getenv("GATEHOUSE_SIGNING_KEY") && *getenv("GATEHOUSE_SIGNING_KEY"))
		given = getenv("GATEHOUSE_SIGNING_KEY");
	/* a URL has no file to put the key beside (and may hold a password) */
	if (!given && gh_cli_db_is_url(c->db))
		return gh_error_set(GH_ENOTFOUND, "a PostgreSQL database keeps its checkpoint"
				    " signing key in a file of its own: pass --signing-key PATH"
				    " or set GATEHOUSE_SIGNING_KEY");
	n = given ? snprintf(out, outlen, "%s", given)
		  : snprintf(out, outlen, "%s.signing-key", c->db);
	if (n < 0 || (size_t)n >= outlen)
		return gh_error_set(GH_EINVALID, "signing key path is too long");
	return 0;
}

void gh_cmd_checkpoint_usage(FILE *f)
{
	fprintf(f, "usage: gatehouse [--db PATH|URL] key export|create [--signing-key PATH]\n"
		   "  export prints the verifier key of the checkpoint signing key (default\n"
		   "  $GATEHOUSE_SIGNING_KEY, else <db>.signing-key beside an SQLite file), for\n"
		   "  auditors to verify checkpoints with; create makes\n"
		   "  a new key for the database's origin at a path that does not exist yet\n"
		   "  (rotation: move the old key away first) and prints its verifier key.\n"
		   "usage: gatehouse checkpoint verify FILE --key VKEY|VKEYFILE\n"
		   "  Verifies a signed checkpoint offline: FILE holds the note, or the JSON of\n"
		   "  'audit checkpoint --json' ('-' reads standard input). Exit 0 when it\n"
		   "  verifies, 1 with the reason when not.\n"
		   "usage: gatehouse audit checkpoint [--covers SEQ | --sign] [--json]\n"
		   "  Prints the server's latest signed checkpoint; --covers SEQ one covering\n"
		   "  event SEQ (the server signs one within seconds when the latest does not:\n"
		   "  an auditor may ask); --sign (admin) signs one now.\n");
}

/* A new key for the database's origin (the database must exist). */
static int key_create(const gh_cli *c, const char *path)
{
	gh_gov *g = NULL;
	int rc;

	if ((rc = gh_gov_open(&g, c->db, 0, NULL)))
		return rc;
	rc = gh_gov_checkpoint_key_rotate(NULL, 0, g, path);
	gh_gov_free(g);
	return rc;
}

int gh_cmd_key(gh_cli *c)
{
	static const char *const allowed[] = {"signing-key", NULL};
	char path[4096], vkey[256];

	if (c->help) {
		gh_cmd_checkpoint_usage(stdout);
		return GH_EXIT_OK;
	}
	if (c->npos != 2 || (strcmp(c->pos[1], "export") != 0 && strcmp(c->pos[1], "create") != 0) ||
	    gh_cli_check_options(c, "key export", allowed) ||
	    gh_cli_signing_key_path(path, sizeof(path), c)) {
		if (gh_error_last()->code)
			gh_cli_error(NULL);
		gh_cmd_checkpoint_usage(stderr);
		return GH_EXIT_USAGE;
	}
	if ((strcmp(c->pos[1], "create") == 0 && key_create(c, path)) ||
	    gh_gov_checkpoint_key_vkey(vkey, sizeof(vkey), path)) {
		gh_cli_error(NULL);
		return GH_EXIT_FAIL;
	}
	printf("%s\n", vkey);
	return GH_EXIT_OK;
}

/* The verifier key: the text itself, or the first line of a file holding it. */
static int load_vkey(char *out, size_t outlen, const char *arg)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	int rc;

	if (stat(arg, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(out, outlen, "%s", arg);
		return 0;
	}
	if ((rc = gh_cli_read_file(&text, &len, arg, 4096)))
		return rc;
	text[strcspn(text, "\r\n")] = '\0';
	snprintf(out, outlen, "%s", text);
	free(text);
	return 0;
}

int gh_cmd_checkpoint(gh_cli *c)
{
	static const char *const allowed[] = {"key", NULL};
	const char *keyarg = gh_cli_get(c, "key");
	char vkey[512];
	gh_gov_checkpoint_check check;
	json_t *doc = NULL;
	char *text = NULL;
	const char *note;
	size_t len;
	int exit_code = GH_EXIT_FAIL;

	if (c->help) {
		gh_cmd_checkpoint_usage(stdout);
		return GH_EXIT_OK;
	}
	if (c->npos != 3 || strcmp(c->pos[1], "verify") != 0 ||
	    gh_cli_check_options(c, "checkpoint verify", allowed) || !keyarg) {
		if (gh_error_last()->code)
			gh_cli_error(NULL);
		else if (!keyarg)
			fprintf(stderr, "gatehouse: checkpoint verify needs --key VKEY\n");
		gh_cmd_checkpoint_usage(stderr);
		return GH_EXIT_USAGE;
	}
	if (load_vkey(vkey, sizeof(vkey), keyarg) ||
	    gh_cli_read_file(&text, &len, c->pos[2], NOTE_FILE_MAX)) {
		gh_cli_error(NULL);
		goto cleanup;
	}
	note = text;
	/* the JSON answer of GET /v1/audit/checkpoint carries the note */
	if (text[0] == '{') {
		if (!(doc = json_loadb(text, len, 0, NULL)) ||
		    !json_is_string(json_object_get(doc, "note"))) {
			printf("checkpoint does not verify: %s is JSON without a \"note\"\n",
			       c->pos[2]);
			goto cleanup;
		}
		note = json_string_value(json_object_get(doc, "note"));
	} else if (strlen(text) != len) {
		printf("checkpoint does not verify: malformed note: NUL byte\n");
		goto cleanup;
	}
	if (gh_gov_checkpoint_verify(&check, note, vkey)) {
		printf("checkpoint does not verify: %s\n", check.why);
		goto cleanup;
	}
	printf("checkpoint verified: origin %s, size %lld, root %s\n", check.origin,
	       (long long)check.size, check.root);
	exit_code = GH_EXIT_OK;
cleanup:
	json_decref(doc);
	free(text);
	return exit_code;
}

int gh_cmd_audit_checkpoint(gh_cli *c)
{
	static const char *const allowed[] = {"sign", "covers", NULL};
	gh_client cl = {c->server, c->token, 30, "audit checkpoint"};
	const char *covers = gh_cli_get(c, "covers");
	gh_response r = {0};
	json_t *doc = NULL;
	char path[96] = "/v1/audit/checkpoint";
	int sign = gh_cli_has(c, "sign"), rc = GH_EXIT_FAIL;

	if (c->help) {
		gh_cmd_checkpoint_usage(stdout);
		return GH_EXIT_OK;
	}
	if (c->npos != 2 || gh_cli_check_options(c, "audit checkpoint", allowed) ||
	    (sign && gh_cli_get(c, "sign")) || (gh_cli_has(c, "covers") && (sign || !covers ||
	    !*covers || strspn(covers, "0123456789") != strlen(covers) || strlen(covers) > 18))) {
		if (gh_error_last()->code)
			gh_cli_error(NULL);
		else if (gh_cli_has(c, "covers"))
			fprintf(stderr, "gatehouse: --covers takes an event's sequence number, and"
				" not with --sign\n");
		gh_cmd_checkpoint_usage(stderr);
		return GH_EXIT_USAGE;
	}
	if (covers)
		snprintf(path, sizeof(path), "/v1/audit/checkpoint?covers=%s", covers);
	if ((rc = gh_client_json(&doc, &r, &cl, sign ? "POST" : "GET", path, NULL)))
		goto cleanup;
	rc = GH_EXIT_FAIL;
	if (!json_is_string(json_object_get(doc, "note"))) {
		fprintf(stderr, "gatehouse: the server's answer is not a checkpoint\n");
		goto cleanup;
	}
	if (c->json) {
		fwrite(r.body, 1, r.len, stdout);
		putchar('\n');
	} else {
		fputs(json_string_value(json_object_get(doc, "note")), stdout);
	}
	rc = GH_EXIT_OK;
cleanup:
	json_decref(doc);
	gh_response_free(&r);
	return rc;
}
