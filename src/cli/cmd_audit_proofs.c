/* cmd_audit_proofs.c - gatehouse audit tree / audit proof inclusion|consistency: fetch and check Merkle proofs. */
#include "cli/cli.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit/merkle.h"
#include "common/error.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gatehouse audit tree [--size N]\n"
		   "       gatehouse audit proof inclusion SEQ [--size N]\n"
		   "       gatehouse audit proof consistency OLD [NEW]\n"
		   "  The Merkle tree over the audit events (RFC 9162): its root now or at size N,\n"
		   "  the inclusion proof of event SEQ, the consistency proof between two sizes\n"
		   "  (NEW defaults to now). Proofs are checked here against the roots the server\n"
		   "  sent; exit 1 when one does not hold.\n");
}

static int whole(const char *s)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return !errno && !*end && v >= 0;
}

static int unb64(gh_merkle_hash out, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = 0;

	return s && sodium_base642bin(out, GH_MERKLE_HASH_LEN, s, strlen(s), NULL, &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0 &&
		       n == GH_MERKLE_HASH_LEN ? 0 : -1;
}

/* The proof array of doc, decoded; -1 when malformed. */
static int proof_of(gh_merkle_hash **out, size_t *n, const json_t *doc)
{
	const json_t *a = json_object_get(doc, "proof");
	size_t i;
	json_t *v;

	*out = NULL;
	*n = json_array_size(a);
	if (!json_is_array(a) || !(*out = calloc(*n ? *n : 1, sizeof(**out))))
		return -1;
	json_array_foreach(a, i, v)
		if (unb64((*out)[i], v))
			return -1;
	return 0;
}

/* Checks the proof in doc with the verifiers; 0 when it holds. */
static int check(const json_t *doc, int inclusion)
{
	gh_merkle_hash a, b, *proof = NULL;
	size_t n = 0;
	int rc = -1;

	if (proof_of(&proof, &n, doc))
		goto cleanup;
	if (inclusion) {
		if (unb64(a, json_object_get(doc, "leaf_hash")) || unb64(b, json_object_get(doc, "root")))
			goto cleanup;
		rc = gh_merkle_verify_inclusion(a, json_integer_value(json_object_get(doc, "index")),
						json_integer_value(json_object_get(doc, "size")), proof,
						n, b);
	} else {
		if (unb64(a, json_object_get(doc, "old_root")) ||
		    unb64(b, json_object_get(doc, "new_root")))
			goto cleanup;
		rc = gh_merkle_verify_consistency(json_integer_value(json_object_get(doc, "old_size")),
						  json_integer_value(json_object_get(doc, "new_size")),
						  a, b, proof, n);
	}
cleanup:
	if (rc == -1)
		gh_error_set(GH_EINVALID, "the server's proof is malformed");
	free(proof);
	return rc;
}

int gh_cmd_audit_proofs(gh_cli *c)
{
	static const char *const sized[] = {"size", NULL}, *const none[] = {NULL};
	gh_client cl = {c->server, c->token, 30, "audit proof"};
	gh_response r = {0};
	const char *sub = c->npos >= 2 ? c->pos[1] : "", *kind = c->npos >= 3 ? c->pos[2] : "";
	const char *size = gh_cli_get(c, "size");
	char path[256];
	json_t *doc = NULL;
	int rc, verify = 0;

	if (c->help) {
		usage(stdout);
		return GH_EXIT_OK;
	}
	if (strcmp(sub, "tree") == 0 && c->npos == 2 && !gh_cli_check_options(c, "audit tree", sized) &&
	    (!gh_cli_has(c, "size") || whole(size))) {
		snprintf(path, sizeof(path), "/v1/audit/tree%s%s", size ? "?size=" : "", size ? size : "");
	} else if (strcmp(sub, "proof") == 0 && strcmp(kind, "inclusion") == 0 && c->npos == 4 &&
		   whole(c->pos[3]) && !gh_cli_check_options(c, "audit proof inclusion", sized) &&
		   (!gh_cli_has(c, "size") || whole(size))) {
		snprintf(path, sizeof(path), "/v1/audit/proofs/inclusion?seq=%s%s%s", c->pos[3],
			 size ? "&size=" : "", size ? size : "");
		verify = 1;
	} else if (strcmp(sub, "proof") == 0 && strcmp(kind, "consistency") == 0 &&
		   (c->npos == 4 || c->npos == 5) && whole(c->pos[3]) &&
		   (c->npos == 4 || whole(c->pos[4])) &&
		   !gh_cli_check_options(c, "audit proof consistency", none)) {
		snprintf(path, sizeof(path), "/v1/audit/proofs/consistency?old=%s%s%s", c->pos[3],
			 c->npos == 5 ? "&new=" : "", c->npos == 5 ? c->pos[4] : "");
		verify = 2;
	} else {
		if (gh_error_last()->code)
			gh_cli_error(NULL);
		usage(stderr);
		return GH_EXIT_USAGE;
	}
	if ((rc = gh_client_json(&doc, &r, &cl, "GET", path, NULL)))
		goto cleanup;
	if (verify && check(doc, verify == 1)) {
		fprintf(stderr, "gatehouse: the proof does not hold: %s\n", gh_error_last()->message);
		rc = GH_EXIT_FAIL;
	}
	if (c->json) {
		fwrite(r.body, 1, r.len, stdout);
		putchar('\n');
	} else {
		if (gh_table_print_object(stdout, doc))
			gh_cli_error(NULL);
		if (verify && rc == GH_EXIT_OK)
			printf("verified    yes (checked here, RFC 9162)\n");
	}
cleanup:
	json_decref(doc);
	gh_response_free(&r);
	return rc;
}
