/* handlers_changes.c - routes of proposed changes (four eyes on weakening
 * changes), each a call into gov/. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"

int gh_api_handle_change_list(gh_api_req *rq)
{
	gh_page p = {rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, gh_api_query(rq, "after")};

	return gh_gov_change_list(&rq->out, rq->gov, &rq->actor, &p, gh_api_query(rq, "state"),
				  gh_api_query(rq, "object"));
}

int gh_api_handle_change_get(gh_api_req *rq)
{
	return gh_gov_change_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_change_confirm(gh_api_req *rq)
{
	return gh_gov_change_confirm(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_change_withdraw(gh_api_req *rq)
{
	return gh_gov_change_withdraw(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}
