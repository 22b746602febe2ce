/* handlers_workflow.c - routes of the governed workflow: delegations,
 * break-glass reviews and a request's evidence, each a call into gov/. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"

int gh_api_handle_delegation_list(gh_api_req *rq)
{
	gh_page p = {rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, gh_api_query(rq, "after")};

	return gh_gov_delegation_list(&rq->out, rq->gov, &rq->actor, &p,
				      gh_api_query(rq, "from_group"), gh_api_query(rq, "to_group"),
				      gh_api_query(rq, "status"));
}

int gh_api_handle_delegation_create(gh_api_req *rq)
{
	int rc = gh_gov_delegation_create(&rq->out, rq->gov, &rq->actor, rq->body);

	if (rc == 0)
		rq->status = 201;
	return rc;
}

int gh_api_handle_delegation_get(gh_api_req *rq)
{
	return gh_gov_delegation_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_delegation_revoke(gh_api_req *rq)
{
	return gh_gov_delegation_revoke(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_grant_review(gh_api_req *rq)
{
	return gh_gov_grant_review(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_request_evidence(gh_api_req *rq)
{
	return gh_gov_request_evidence(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}
