/* handlers_checkpoint.c - routes of signed checkpoints: the latest one (or
 * one covering a given event, asked of the server's signer), one signed now,
 * and the verifier key (docs/api.md "Checkpoints"); the domain does the work
 * (gov/checkpoints.c). */
#include "api/api_internal.h"

int gh_api_handle_checkpoint_latest(gh_api_req *rq)
{
	return gh_gov_checkpoint_get(&rq->out, rq->gov, &rq->actor, gh_api_query(rq, "covers"),
				     gh_api_query(rq, "wait"));
}

int gh_api_handle_checkpoint_sign(gh_api_req *rq)
{
	int rc = gh_gov_checkpoint_sign(&rq->out, rq->gov, &rq->actor);

	if (rc == 0)
		rq->status = 201;
	return rc;
}

int gh_api_handle_public_key(gh_api_req *rq)
{
	return gh_gov_public_key(&rq->out, rq->gov);
}
