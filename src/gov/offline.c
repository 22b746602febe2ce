/* offline.c - what the command checks or writes without a server: the
 * Merkle proofs a server hands out, signed checkpoints, evidence bundles,
 * the signing key's verifier key and its rotation, and the SIEM export's
 * formats and state file. The front ends reach the audit module only through
 * these (docs/internals/layers.md). */
#include "gov/gov_internal.h"
#include "audit/checkpoint.h"
#include "audit/evidence.h"
#include "audit/merkle.h"
#include "audit/siem.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A base64 hash of the answer; -1 when it is not one. */
static int unb64(gh_merkle_hash out, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = 0;

	return s && sodium_base642bin(out, GH_MERKLE_HASH_LEN, s, strlen(s), NULL, &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0 &&
		       n == GH_MERKLE_HASH_LEN ? 0 : -1;
}

/* The answer's proof array, decoded (*out the caller's); -1 when malformed. */
static int proof_of(gh_merkle_hash **out, size_t *n, const json_t *answer)
{
	const json_t *a = json_object_get(answer, "proof");
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

static int proof_check(const json_t *answer, int inclusion)
{
	gh_merkle_hash a, b, *proof = NULL;
	size_t n = 0;
	int rc = -1;

	if (proof_of(&proof, &n, answer))
		goto cleanup;
	if (inclusion) {
		if (unb64(a, json_object_get(answer, "leaf_hash")) ||
		    unb64(b, json_object_get(answer, "root")))
			goto cleanup;
		rc = gh_merkle_verify_inclusion(a, json_integer_value(json_object_get(answer, "index")),
						json_integer_value(json_object_get(answer, "size")),
						proof, n, b);
	} else {
		if (unb64(a, json_object_get(answer, "old_root")) ||
		    unb64(b, json_object_get(answer, "new_root")))
			goto cleanup;
		rc = gh_merkle_verify_consistency(
			json_integer_value(json_object_get(answer, "old_size")),
			json_integer_value(json_object_get(answer, "new_size")), a, b, proof, n);
	}
cleanup:
	if (rc == -1)
		rc = gh_error_set(GH_EINVALID, "the server's proof is malformed");
	free(proof);
	return rc;
}

int gh_gov_audit_inclusion_check(const json_t *answer)
{
	return proof_check(answer, 1);
}

int gh_gov_audit_consistency_check(const json_t *answer)
{
	return proof_check(answer, 0);
}

int gh_gov_checkpoint_verify(gh_gov_checkpoint_check *out, const char *note, const char *vkey)
{
	gh_merkle_hash root;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = gh_checkpoint_verify(&out->size, root, out->origin, sizeof(out->origin), note, vkey,
				  out->why, sizeof(out->why));
	if (rc == 0)
		sodium_bin2base64(out->root, sizeof(out->root), root, GH_MERKLE_HASH_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
	return rc;
}

int gh_gov_checkpoint_key_vkey(char *vkey, size_t vkeylen, const char *keypath)
{
	gh_signer *k = NULL;
	int rc;

	if (!(rc = gh_signer_load(&k, keypath)))
		rc = gh_signer_vkey(vkey, vkeylen, k);
	gh_signer_free(k);
	return rc;
}

int gh_gov_checkpoint_key_rotate(char *vkey, size_t vkeylen, gh_gov *g, const char *keypath)
{
	char *origin = NULL;
	int rc;

	gh_store_read_begin(g->store);
	rc = gh_store_setting_get(&origin, g->store, GH_CHECKPOINT_ORIGIN_SETTING);
	gh_store_read_end(g->store);
	if (rc == 0)
		rc = gh_signer_create(keypath, origin);
	free(origin);
	if (rc == 0 && vkey)
		rc = gh_gov_checkpoint_key_vkey(vkey, vkeylen, keypath);
	return rc;
}

int gh_gov_evidence_build(char **out, const char *request_id, const char *checkpoint_note,
			  const json_t *events, const json_t *proofs)
{
	return gh_evidence_build(out, request_id, checkpoint_note, events, proofs);
}

int gh_gov_evidence_verify(json_t **report, const char *text, size_t len, const char *vkey)
{
	return gh_evidence_verify(report, text, len, vkey);
}

int gh_gov_export_cef(char **out, size_t *len, const json_t *event)
{
	return gh_siem_cef(out, len, event);
}

int gh_gov_export_syslog(char **out, size_t *len, const json_t *event, const char *host,
			 long pid, const char *line, size_t linelen)
{
	const json_t *ts = json_object_get(event, "ts_us");
	const char *action = json_string_value(json_object_get(event, "action"));

	return gh_siem_syslog(out, len, json_is_integer(ts) ? json_integer_value(ts) : 0,
			      gh_siem_cef_severity(action), host, pid, line, linelen,
			      GH_GOV_EXPORT_SYSLOG_MAX);
}

/* The two records must stay alike: the state file is the audit module's. */
_Static_assert(sizeof(((gh_siem_state *)0)->format) == sizeof(((gh_gov_export_state *)0)->format) &&
	       sizeof(((gh_siem_state *)0)->output) == sizeof(((gh_gov_export_state *)0)->output),
	       "gh_gov_export_state mirrors gh_siem_state");
_Static_assert(GH_GOV_EXPORT_SYSLOG_MAX == GH_SIEM_SYSLOG_MAX,
	       "the export's datagram bound is the SIEM module's");

int gh_gov_export_state_read(gh_gov_export_state *out, const char *path)
{
	gh_siem_state st;
	int rc;

	memset(&st, 0, sizeof(st));
	if ((rc = gh_siem_state_read(&st, path)))
		return rc;
	memset(out, 0, sizeof(*out));
	out->seq = st.seq;
	memcpy(out->format, st.format, sizeof(out->format));
	memcpy(out->output, st.output, sizeof(out->output));
	out->offset = st.offset;
	out->dev = st.dev;
	out->ino = st.ino;
	return 0;
}

int gh_gov_export_state_write(const char *path, const gh_gov_export_state *st)
{
	gh_siem_state s;

	memset(&s, 0, sizeof(s));
	s.seq = st->seq;
	memcpy(s.format, st->format, sizeof(s.format));
	memcpy(s.output, st->output, sizeof(s.output));
	s.offset = st->offset;
	s.dev = st->dev;
	s.ino = st->ino;
	return gh_siem_state_write(path, &s);
}
