/* handlers_connect.c - routes of provisioning: the outbox's jobs,
 * reconciliation and its findings, each a call into gov/. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"

int gh_api_handle_job_list(gh_api_req *rq)
{
	gh_page p = {rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, gh_api_query(rq, "after")};

	return gh_gov_job_list(&rq->out, rq->gov, &rq->actor, &p, gh_api_query(rq, "state"),
			       gh_api_query(rq, "system"), gh_api_query(rq, "grant"));
}

int gh_api_handle_job_get(gh_api_req *rq)
{
	return gh_gov_job_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_job_retry(gh_api_req *rq)
{
	return gh_gov_job_retry(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_system_reconcile(gh_api_req *rq)
{
	return gh_gov_reconcile(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

int gh_api_handle_finding_list(gh_api_req *rq)
{
	gh_page p = {rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, gh_api_query(rq, "after")};

	return gh_gov_finding_list(&rq->out, rq->gov, &rq->actor, &p, gh_api_query(rq, "system"),
				   gh_api_query(rq, "kind"), gh_api_query(rq, "status"));
}
