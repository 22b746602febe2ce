/* handlers_checkpoint.c - routes of signed checkpoints: the latest one (or
 * one covering a given event, asked of the server's signer), one signed now,
 * and the verifier key (docs/api.md "Checkpoints"). */
#include "api/api_internal.h"
#include "audit/checkpoint.h"
#include "common/error.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define VKEY_MAX 256
#define WAIT_DEFAULT_S 5   /* seconds a covers= request waits unless told */

static int need_signer(const gh_api_req *rq)
{
	if (!rq->api->signer)
		return gh_error_set(GH_ENOTFOUND, "checkpoints are off: this server was started"
				    " without a signing key");
	return 0;
}

/* {"origin","size","root","note"} of note, checked against our own key. */
static int note_json(json_t **out, const gh_api_req *rq, const char *note)
{
	char vkey[VKEY_MAX], origin[200], why[256];
	char b64[sodium_base64_ENCODED_LEN(GH_MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
	gh_merkle_hash root;
	int64_t size;
	int rc;

	if ((rc = gh_signer_vkey(vkey, sizeof(vkey), rq->api->signer)))
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

/* A query parameter as a whole number in lo..hi; absent leaves *out alone. */
static void take_int(const gh_api_req *rq, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
	const char *v = gh_api_query(rq, name);
	char *end;
	long long n;

	if (!v)
		return;
	errno = 0;
	n = (*v >= '0' && *v <= '9') ? strtoll(v, &end, 10) : -1;
	if (n < 0 || errno || *end || n < lo || n > hi) {
		gh_error_field(name, "must be a whole number from %lld to %lld", (long long)lo,
			       (long long)hi);
		return;
	}
	*out = n;
}

int gh_api_handle_checkpoint_latest(gh_api_req *rq)
{
	int64_t covers = -1, wait = WAIT_DEFAULT_S;
	char *note = NULL;
	int rc;

	if ((rc = need_signer(rq)))
		return rc;
	take_int(rq, "covers", 1, INT64_MAX / 2, &covers);
	take_int(rq, "wait", 0, GH_CHECKPOINT_WAIT_MAX_MS / 1000, &wait);
	if (gh_api_query(rq, "wait") && !gh_api_query(rq, "covers"))
		gh_error_field("wait", "applies only with covers");
	if ((rc = gh_error_fields_finish()))
		return rc;
	if (covers < 0)
		rc = gh_checkpoint_latest(&note, gh_gov_store(rq->gov));
	else if (rq->api->checkpointer)
		rc = gh_checkpointer_wait(&note, rq->api->checkpointer, covers, wait * 1000);
	else
		rc = gh_error_set(GH_ECONFLICT, "this server signs no checkpoints on request");
	if (rc)
		return rc;
	rc = note_json(&rq->out, rq, note);
	free(note);
	return rc;
}

int gh_api_handle_checkpoint_sign(gh_api_req *rq)
{
	char *note = NULL;
	int rc;

	if ((rc = need_signer(rq)))
		return rc;
	/* through the signer when there is one, so that its waiters wake */
	rc = rq->api->checkpointer ? gh_checkpointer_sign_now(&note, rq->api->checkpointer)
		: gh_checkpoint_sign(&note, gh_gov_store(rq->gov), rq->api->signer, rq->api->origin);
	if (rc)
		return rc;
	rc = note_json(&rq->out, rq, note);
	free(note);
	if (rc == 0)
		rq->status = 201;
	return rc;
}

int gh_api_handle_public_key(gh_api_req *rq)
{
	char vkey[VKEY_MAX];
	int rc;

	if ((rc = need_signer(rq)) || (rc = gh_signer_vkey(vkey, sizeof(vkey), rq->api->signer)))
		return rc;
	if (!(rq->out = json_pack("{s:s, s:s, s:s}", "vkey", vkey, "name",
				  gh_signer_name(rq->api->signer), "origin", rq->api->origin)))
		return gh_error_set(GH_ERROR, "out of memory");
	return 0;
}
