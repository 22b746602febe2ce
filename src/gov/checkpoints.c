/* checkpoints.c - signed checkpoints of the audit log as a domain service: the
 * server's signing key and its signer thread (audit/checkpointer.c), the
 * latest checkpoint or one covering a given event, one signed now, and the
 * verifier key to publish. The key never leaves the process. */
#include "gov/gov_internal.h"
#include "audit/checkpoint.h"
#include "common/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VKEY_MAX 256
#define WAIT_DEFAULT_S 5   /* seconds a covers request waits unless told */

int gh_gov_checkpoints_start(gh_gov *g, const gh_gov_checkpoint_options *o, int *off)
{
	gh_checkpointer_options co = {0};
	char *origin = NULL;
	int rc;

	*off = 0;
	if (g->signer)
		return gh_error_set(GH_ECONFLICT, "checkpoints are already started");
	rc = gh_signer_load(&g->signer, o->key_path);
	if (rc == GH_ENOTFOUND && !o->key_required) {
		*off = 1;
		return 0;
	}
	if (rc)
		return rc;
	gh_store_read_begin(g->store);
	rc = gh_store_setting_get(&origin, g->store, GH_CHECKPOINT_ORIGIN_SETTING);
	gh_store_read_end(g->store);
	if (rc && rc != GH_ENOTFOUND)
		goto cleanup;
	/* a database from before checkpoints: the key's name is the origin */
	snprintf(g->origin, sizeof(g->origin), "%s", rc == 0 ? origin : gh_signer_name(g->signer));
	co.after_ms = o->after_ms ? o->after_ms : GH_CHECKPOINT_AFTER_MS;
	co.min_interval_ms = GH_CHECKPOINT_MIN_INTERVAL_MS;
	co.every_ms = o->every_ms;
	co.max_waiters = o->max_waiters;
	/* several nodes: one signs on its own at a time (cluster.c) */
	co.may_sign = gov_cluster_may_sign;
	co.may_sign_ctx = g;
	gov_cluster_signer_started(g);
	/* signs at start when the log grew since the latest checkpoint */
	rc = gh_checkpointer_start(&g->checkpointer, g->store, g->signer, g->origin, &co);
cleanup:
	free(origin);
	if (rc) {
		gh_signer_free(g->signer);
		g->signer = NULL;
	}
	return rc;
}

int gh_gov_checkpoint_key_create(char *origin, size_t originlen, char *vkey, size_t vkeylen,
				 gh_gov *g, const char *keypath)
{
	unsigned char rnd[4];
	char hex[9], name[64];
	gh_signer *k = NULL;
	int rc;

	randombytes_buf(rnd, sizeof(rnd));
	gh_hex(hex, rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "gatehouse/%s", hex);
	if ((rc = gh_store_begin(g->store)))
		return rc;
	if ((rc = gh_store_setting_set(g->store, GH_CHECKPOINT_ORIGIN_SETTING, name))) {
		gh_store_rollback(g->store);
		return rc;
	}
	if ((rc = gh_store_commit(g->store)) || (rc = gh_signer_create(keypath, name)))
		return rc;
	if (origin)
		snprintf(origin, originlen, "%s", name);
	if (vkey && !(rc = gh_signer_load(&k, keypath)))
		rc = gh_signer_vkey(vkey, vkeylen, k);
	gh_signer_free(k);
	return rc;
}

void gh_gov_checkpoints_stop(gh_gov *g)
{
	if (g)
		gh_checkpointer_stop(g->checkpointer);
}

void gov_checkpoints_free(gh_gov *g)
{
	gh_checkpointer_free(g->checkpointer);
	g->checkpointer = NULL;
	gh_signer_free(g->signer);
	g->signer = NULL;
}

static int need_signer(gh_gov *g)
{
	if (!g->signer)
		return gh_error_set(GH_ENOTFOUND, "checkpoints are off: this server was started"
				    " without a signing key");
	return 0;
}

/* {"origin","size","root","note"} of note, checked against our own key. */
static int note_json(json_t **out, gh_gov *g, const char *note)
{
	char vkey[VKEY_MAX], origin[200], why[256];
	char b64[sodium_base64_ENCODED_LEN(GH_MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
	gh_merkle_hash root;
	int64_t size;
	int rc;

	if ((rc = gh_signer_vkey(vkey, sizeof(vkey), g->signer)))
		return rc;
	/* a stored note the current key does not verify is a server fault */
	if (gh_checkpoint_verify(&size, root, origin, sizeof(origin), note, vkey, why, sizeof(why)))
		return gh_error_set(GH_ERROR, "the stored checkpoint does not verify with this"
				    " server's key: %s", why);
	sodium_bin2base64(b64, sizeof(b64), root, GH_MERKLE_HASH_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	if (!(*out = json_pack("{s:s, s:I, s:s, s:s}", "origin", origin, "size", (json_int_t)size,
			       "root", b64, "note", note)))
		return gh_error_set(GH_ERROR, "out of memory");
	return 0;
}

int gh_gov_checkpoint_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *covers_q,
			  const char *wait_q)
{
	int64_t covers = -1, wait = WAIT_DEFAULT_S;
	char *note = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR,
				   "reading checkpoints")) ||
	    (rc = need_signer(g)))
		return rc;
	gov_take_int(covers_q, "covers", 1, INT64_MAX / 2, &covers, 0);
	gov_take_int(wait_q, "wait", 0, GH_CHECKPOINT_WAIT_MAX_MS / 1000, &wait, 0);
	if (wait_q && !covers_q)
		gh_error_field("wait", "applies only with covers");
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (covers < 0)
		rc = gh_checkpoint_latest(&note, g->store);
	else if (g->checkpointer)
		rc = gh_checkpointer_wait(&note, g->checkpointer, covers, wait * 1000);
	else
		rc = gh_error_set(GH_ECONFLICT, "this server signs no checkpoints on request");
	if (rc == 0)
		rc = note_json(out, g, note);
	free(note);
	return rc;
}

int gh_gov_checkpoint_sign(json_t **out, gh_gov *g, const gh_actor *actor)
{
	char *note = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GH_ROLE_ADMIN, "signing a checkpoint")) ||
	    (rc = need_signer(g)))
		return rc;
	/* through the signer when it runs, so that its waiters wake */
	rc = g->checkpointer ? gh_checkpointer_sign_now(&note, g->checkpointer)
			     : gh_checkpoint_sign(&note, g->store, g->signer, g->origin);
	if (rc == 0)
		rc = note_json(out, g, note);
	free(note);
	return rc;
}

int gh_gov_public_key(json_t **out, gh_gov *g)
{
	char vkey[VKEY_MAX];
	int rc;

	*out = NULL;
	if ((rc = need_signer(g)) || (rc = gh_signer_vkey(vkey, sizeof(vkey), g->signer)))
		return rc;
	if (!(*out = json_pack("{s:s, s:s, s:s}", "vkey", vkey, "name", gh_signer_name(g->signer),
			       "origin", g->origin)))
		return gh_error_set(GH_ERROR, "out of memory");
	return 0;
}
