/* handlers_policy.c - the policy what-if route, a call into gov/. */
#include "api/api_internal.h"

int gh_api_handle_policy_simulate(gh_api_req *rq)
{
	return gh_gov_policy_simulate(&rq->out, rq->gov, &rq->actor, rq->body);
}
