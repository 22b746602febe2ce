/* cmd_evidence.c - gatehouse evidence export REQUEST (from a running server)
 * and gatehouse evidence verify FILE --key VKEY (offline, no database): a
 * request's events with their inclusion proofs and a signed checkpoint. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "gatehouse/errors.h"
#include "gatehouse/gov.h"

#define BUNDLE_MAX (64u << 20)
#define VKEY_MAX 1024
#define WAIT_S 5               /* seconds the server may take to sign a covering checkpoint */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gatehouse evidence export REQUEST [--output FILE] [--server URL --token TOKEN]\n"
		"         one JSON document: the request's audit events, an inclusion proof for\n"
		"         each and a signed checkpoint covering them (when the latest does not\n"
		"         yet, the server signs one within seconds); an auditor, iam or admin\n"
		"         token\n"
		"       gatehouse evidence verify FILE --key VKEY|@FILE [--json]\n"
		"         checks the bundle offline against the log's verifier key ('gatehouse\n"
		"         key export'); says exactly what fails; exit 0 when it verifies, 1 when\n"
		"         not, 2 for usage errors\n");
}

/* method path into *doc (JSON); GH_EXIT_* on failure (the answer reported). */
static int get_json(json_t **doc, const gh_client *cl, const char *method, const char *path)
{
	gh_response r = {0};
	int rc = gh_client_json(doc, &r, cl, method, path, NULL);

	gh_response_free(&r);
	return rc;
}

/* A signed checkpoint covering event max_seq: the server's signer keeps a
 * recent one; when the latest does not cover it yet, the server is asked for
 * one and the answer comes with its next signature (up to WAIT_S seconds). An
 * auditor may ask; nothing is ever exported against an unsigned root. */
static int checkpoint_for(char **note, const gh_client *cl, int64_t max_seq)
{
	gh_response r = {0};
	json_t *doc = NULL;
	char path[128];
	int rc;

	*note = NULL;
	snprintf(path, sizeof(path), "/v1/audit/checkpoint?covers=%lld&wait=%d", (long long)max_seq,
		 WAIT_S);
	if ((rc = gh_client_json(&doc, &r, cl, "GET", path, NULL))) {
		if (r.status == 409 || r.status == 429)
			fprintf(stderr, "gatehouse: no signed checkpoint covers event %lld yet, so no"
				" bundle was written; the server signs one within seconds of a change:"
				" run the export again\n", (long long)max_seq);
		gh_response_free(&r);
		return rc;
	}
	gh_response_free(&r);
	if (json_integer_value(json_object_get(doc, "size")) < max_seq ||
	    !json_is_string(json_object_get(doc, "note"))) {
		fprintf(stderr, "gatehouse: the server's checkpoint does not cover event %lld\n",
			(long long)max_seq);
		json_decref(doc);
		return GH_EXIT_FAIL;
	}
	*note = strdup(json_string_value(json_object_get(doc, "note")));
	json_decref(doc);
	return *note ? GH_EXIT_OK : GH_EXIT_FAIL;
}

static int export(gh_cli *c)
{
	static const char *const allowed[] = {"output", NULL};
	gh_client cl = {c->server, c->token, 120, "evidence export"};
	const char *out_path = gh_cli_get(c, "output");
	json_t *hist = NULL, *events, *proofs = NULL, *ev, *proof = NULL;
	char path[256], *note = NULL, *text = NULL;
	int64_t max_seq = 0, size;
	size_t i;
	FILE *f;
	int rc;

	if (c->npos != 3 || gh_cli_check_options(c, "evidence export", allowed)) {
		if (c->npos != 3)
			fprintf(stderr, "gatehouse: evidence export takes one REQUEST id\n");
		else
			gh_cli_error(NULL);
		usage(stderr);
		return GH_EXIT_USAGE;
	}
	if (strspn(c->pos[2], "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(c->pos[2]) ||
	    strlen(c->pos[2]) > 64) {
		fprintf(stderr, "gatehouse: %s is not a request id\n", c->pos[2]);
		return GH_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/v1/requests/%s/history", c->pos[2]);
	if ((rc = get_json(&hist, &cl, "GET", path)))
		goto cleanup;
	events = json_object_get(hist, "items");
	json_array_foreach(events, i, ev)
		if (json_integer_value(json_object_get(ev, "seq")) > max_seq)
			max_seq = json_integer_value(json_object_get(ev, "seq"));
	if ((rc = checkpoint_for(&note, &cl, max_seq)))
		goto cleanup;
	size = atoll(strchr(note, '\n') ? strchr(note, '\n') + 1 : "0");
	if (!(proofs = json_array())) {
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	json_array_foreach(events, i, ev) {
		snprintf(path, sizeof(path), "/v1/audit/proofs/inclusion?seq=%lld&size=%lld",
			 (long long)json_integer_value(json_object_get(ev, "seq")), (long long)size);
		if ((rc = get_json(&proof, &cl, "GET", path)))
			goto cleanup;
		json_array_append(proofs, json_object_get(proof, "proof"));
		json_decref(proof);
		proof = NULL;
	}
	if (gh_gov_evidence_build(&text, c->pos[2], note, events, proofs)) {
		gh_cli_error(NULL);
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	if (!out_path || strcmp(out_path, "-") == 0) {
		fputs(text, stdout);
	} else if (!(f = fopen(out_path, "w")) || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "gatehouse: cannot write %s\n", out_path);
		rc = GH_EXIT_FAIL;
		goto cleanup;
	} else {
		fprintf(stderr, "gatehouse: %zu events of %s with their proofs, checkpoint at size "
			"%lld, written to %s\n", json_array_size(events), c->pos[2], (long long)size,
			out_path);
	}
cleanup:
	json_decref(hist);
	json_decref(proofs);
	json_decref(proof);
	free(note);
	free(text);
	return rc;
}

static int verify(gh_cli *c)
{
	static const char *const allowed[] = {"key", NULL};
	const char *key = gh_cli_get(c, "key");
	char *text = NULL, *vkey = NULL;
	json_t *report = NULL, *p;
	size_t len, klen, i;
	int rc;

	if (c->npos != 3 || gh_cli_check_options(c, "evidence verify", allowed) || !key) {
		if (c->npos != 3)
			fprintf(stderr, "gatehouse: evidence verify takes one FILE\n");
		else if (!key)
			fprintf(stderr, "gatehouse: option --key VKEY is required\n");
		else
			gh_cli_error(NULL);
		usage(stderr);
		return GH_EXIT_USAGE;
	}
	if (key[0] == '@') {
		if (gh_cli_read_file(&vkey, &klen, key + 1, VKEY_MAX)) {
			gh_cli_error(NULL);
			return GH_EXIT_USAGE;
		}
		vkey[strcspn(vkey, "\r\n")] = '\0';
	}
	if (gh_cli_read_file(&text, &len, c->pos[2], BUNDLE_MAX)) {
		gh_cli_error(NULL);
		free(vkey);
		return GH_EXIT_USAGE;
	}
	rc = gh_gov_evidence_verify(&report, text, len, vkey ? vkey : key);
	if (!report) {
		gh_cli_error(NULL);
		rc = GH_EXIT_FAIL;
	} else if (c->json) {
		char *s = json_dumps(report, JSON_INDENT(2) | JSON_SORT_KEYS);

		puts(s ? s : "{}");
		free(s);
	} else if (rc == 0) {
		printf("bundle verifies: %lld events of %s are in the log %s at size %lld\n",
		       (long long)json_integer_value(json_object_get(report, "events")),
		       json_string_value(json_object_get(report, "request")),
		       json_string_value(json_object_get(report, "origin")),
		       (long long)json_integer_value(json_object_get(report, "size")));
	} else {
		printf("bundle does NOT verify:\n");
		json_array_foreach(json_object_get(report, "problems"), i, p)
			printf("  %s\n", json_string_value(p));
	}
	json_decref(report);
	free(text);
	free(vkey);
	return rc == 0 ? GH_EXIT_OK : GH_EXIT_FAIL;
}

int gh_cmd_evidence(gh_cli *c)
{
	if (c->help || c->npos < 2) {
		usage(c->help ? stdout : stderr);
		return c->help ? GH_EXIT_OK : GH_EXIT_USAGE;
	}
	if (strcmp(c->pos[1], "export") == 0)
		return export(c);
	if (strcmp(c->pos[1], "verify") == 0)
		return verify(c);
	fprintf(stderr, "gatehouse: unknown command 'evidence %s'\n", c->pos[1]);
	usage(stderr);
	return GH_EXIT_USAGE;
}
