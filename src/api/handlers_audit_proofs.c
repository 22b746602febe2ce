/* handlers_audit_proofs.c - the Merkle tree's size and root, inclusion and consistency proofs. */
#include "api/api_internal.h"
#include "audit/merkle.h"
#include "common/error.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

/* A query parameter as a whole number in lo..hi; absent leaves *out alone. */
static void take_int(const gh_api_req *rq, const char *name, int64_t lo, int64_t hi, int64_t *out,
		     int required)
{
	const char *v = gh_api_query(rq, name);
	char *end;
	long long n;

	if (!v) {
		if (required)
			gh_error_field(name, "is required");
		return;
	}
	errno = 0;
	n = (*v >= '0' && *v <= '9') ? strtoll(v, &end, 10) : -1;
	if (n < 0 || errno || *end || n < lo || n > hi) {
		gh_error_field(name, "must be a whole number from %lld to %lld", (long long)lo,
			       (long long)hi);
		return;
	}
	*out = n;
}

static json_t *b64(const unsigned char *h)
{
	char out[sodium_base64_ENCODED_LEN(GH_MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(out, sizeof(out), h, GH_MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
	return json_string(out);
}

static json_t *b64_list(const gh_merkle_hash *proof, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, b64(proof[i]));
	return a;
}

static int done(gh_api_req *rq, json_t *out)
{
	if (!out)
		return gh_error_set(GH_ERROR, "out of memory");
	rq->out = out;
	return 0;
}

int gh_api_handle_audit_tree(gh_api_req *rq)
{
	gh_store *s = gh_gov_store(rq->gov);
	gh_merkle_hash root;
	int64_t cur = 0, size;
	int rc;

	gh_store_read_begin(s);
	if ((rc = gh_merkle_size(&cur, s)))
		goto cleanup;
	size = cur;
	take_int(rq, "size", 0, cur, &size, 0);
	if ((rc = gh_error_fields_finish()) || (rc = gh_merkle_root(root, s, size)))
		goto cleanup;
	rc = done(rq, json_pack("{s:I, s:o}", "size", (json_int_t)size, "root", b64(root)));
cleanup:
	gh_store_read_end(s);
	return rc;
}

int gh_api_handle_audit_inclusion(gh_api_req *rq)
{
	gh_store *s = gh_gov_store(rq->gov);
	gh_merkle_hash root, leaf, *proof = NULL;
	int64_t cur = 0, size, seq = 0;
	size_t n = 0;
	int rc;

	gh_store_read_begin(s);
	if ((rc = gh_merkle_size(&cur, s)))
		goto cleanup;
	size = cur;
	take_int(rq, "size", 1, cur > 0 ? cur : 1, &size, 0);
	take_int(rq, "seq", 1, size > 0 ? size : 1, &seq, 1);
	if (!gh_error_field_count() && seq > size)
		gh_error_field("seq", "must not be above the tree size %lld", (long long)size);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_merkle_root(root, s, size)) || (rc = gh_merkle_leaf(leaf, s, seq - 1)) ||
	    (rc = gh_merkle_inclusion(&proof, &n, s, seq - 1, size)))
		goto cleanup;
	rc = done(rq, json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "seq", (json_int_t)seq, "index",
				(json_int_t)(seq - 1), "size", (json_int_t)size, "leaf_hash",
				b64(leaf), "root", b64(root), "proof", b64_list(proof, n)));
cleanup:
	gh_store_read_end(s);
	free(proof);
	return rc;
}

int gh_api_handle_audit_consistency(gh_api_req *rq)
{
	gh_store *s = gh_gov_store(rq->gov);
	gh_merkle_hash r1, r2, *proof = NULL;
	int64_t cur = 0, old = 0, new_size;
	size_t n = 0;
	int rc;

	gh_store_read_begin(s);
	if ((rc = gh_merkle_size(&cur, s)))
		goto cleanup;
	new_size = cur;
	take_int(rq, "new", 1, cur > 0 ? cur : 1, &new_size, 0);
	take_int(rq, "old", 1, new_size > 0 ? new_size : 1, &old, 1);
	if (!gh_error_field_count() && (cur == 0 || old > new_size))
		gh_error_field("old", "must be between 1 and the new size %lld", (long long)new_size);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_merkle_root(r1, s, old)) || (rc = gh_merkle_root(r2, s, new_size)) ||
	    (rc = gh_merkle_consistency(&proof, &n, s, old, new_size)))
		goto cleanup;
	rc = done(rq, json_pack("{s:I, s:I, s:o, s:o, s:o}", "old_size", (json_int_t)old, "new_size",
				(json_int_t)new_size, "old_root", b64(r1), "new_root", b64(r2),
				"proof", b64_list(proof, n)));
cleanup:
	gh_store_read_end(s);
	free(proof);
	return rc;
}
