/* audit_proofs.c - the audit log's Merkle tree as the domain answers for it:
 * its size and root, inclusion and consistency proofs (RFC 9162), for admin,
 * iam and auditor. */
#include "gov/gov_internal.h"
#include "audit/audit.h"
#include "audit/merkle.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

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

static int done(json_t **out, json_t *doc)
{
	if (!doc)
		return gh_error_set(GH_ERROR, "out of memory");
	*out = doc;
	return 0;
}

static int readers_only(json_t **out, const gh_actor *actor)
{
	*out = NULL;
	gh_error_clear();
	return gov_require_role(actor, GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR,
				"reading the audit tree");
}

int gh_gov_audit_tree(json_t **out, gh_gov *g, const gh_actor *actor, const char *size_q)
{
	gh_store *s = g->store;
	gh_merkle_hash root;
	int64_t cur = 0, size;
	int rc;

	if ((rc = readers_only(out, actor)))
		return rc;
	gh_store_read_begin(s);
	if ((rc = gh_merkle_size(&cur, s)))
		goto cleanup;
	size = cur;
	gov_take_int(size_q, "size", 0, cur, &size, 0);
	if ((rc = gh_error_fields_finish()) || (rc = gh_merkle_root(root, s, size)))
		goto cleanup;
	rc = done(out, json_pack("{s:I, s:o}", "size", (json_int_t)size, "root", b64(root)));
cleanup:
	gh_store_read_end(s);
	return rc;
}

int gh_gov_audit_inclusion(json_t **out, gh_gov *g, const gh_actor *actor, const char *seq_q,
			   const char *size_q)
{
	gh_store *s = g->store;
	gh_merkle_hash root, leaf, *proof = NULL;
	int64_t cur = 0, size, seq = 0;
	size_t n = 0;
	int rc;

	if ((rc = readers_only(out, actor)))
		return rc;
	gh_store_read_begin(s);
	if ((rc = gh_merkle_size(&cur, s)))
		goto cleanup;
	size = cur;
	gov_take_int(size_q, "size", 1, cur > 0 ? cur : 1, &size, 0);
	gov_take_int(seq_q, "seq", 1, size > 0 ? size : 1, &seq, 1);
	if (!gh_error_field_count() && seq > size)
		gh_error_field("seq", "must not be above the tree size %lld", (long long)size);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_merkle_root(root, s, size)) || (rc = gh_merkle_leaf(leaf, s, seq - 1)) ||
	    (rc = gh_merkle_inclusion(&proof, &n, s, seq - 1, size)))
		goto cleanup;
	rc = done(out, json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "seq", (json_int_t)seq, "index",
				(json_int_t)(seq - 1), "size", (json_int_t)size, "leaf_hash",
				b64(leaf), "root", b64(root), "proof", b64_list(proof, n)));
cleanup:
	gh_store_read_end(s);
	free(proof);
	return rc;
}

int gh_gov_audit_consistency(json_t **out, gh_gov *g, const gh_actor *actor, const char *old_q,
			     const char *new_q)
{
	gh_store *s = g->store;
	gh_merkle_hash r1, r2, *proof = NULL;
	int64_t cur = 0, old = 0, new_size;
	size_t n = 0;
	int rc;

	if ((rc = readers_only(out, actor)))
		return rc;
	gh_store_read_begin(s);
	if ((rc = gh_merkle_size(&cur, s)))
		goto cleanup;
	new_size = cur;
	gov_take_int(new_q, "new", 1, cur > 0 ? cur : 1, &new_size, 0);
	gov_take_int(old_q, "old", 1, new_size > 0 ? new_size : 1, &old, 1);
	if (!gh_error_field_count() && (cur == 0 || old > new_size))
		gh_error_field("old", "must be between 1 and the new size %lld", (long long)new_size);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	if ((rc = gh_merkle_root(r1, s, old)) || (rc = gh_merkle_root(r2, s, new_size)) ||
	    (rc = gh_merkle_consistency(&proof, &n, s, old, new_size)))
		goto cleanup;
	rc = done(out, json_pack("{s:I, s:I, s:o, s:o, s:o}", "old_size", (json_int_t)old, "new_size",
				(json_int_t)new_size, "old_root", b64(r1), "new_root", b64(r2),
				"proof", b64_list(proof, n)));
cleanup:
	gh_store_read_end(s);
	free(proof);
	return rc;
}

int gh_gov_audit_verify(gh_gov_audit_report *out, gh_gov *g)
{
	gh_audit_report r;
	int rc = gh_audit_verify(&r, g->store);

	out->events = r.events;
	out->bad_seq = r.bad_seq;
	snprintf(out->reason, sizeof(out->reason), "%s", r.reason);
	return rc;
}
