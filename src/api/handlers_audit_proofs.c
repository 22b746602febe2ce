/* handlers_audit_proofs.c - the Merkle tree's size and root, inclusion and
 * consistency proofs: query parameters handed to the domain (gov/audit_proofs.c). */
#include "api/api_internal.h"

int gh_api_handle_audit_tree(gh_api_req *rq)
{
	return gh_gov_audit_tree(&rq->out, rq->gov, &rq->actor, gh_api_query(rq, "size"));
}

int gh_api_handle_audit_inclusion(gh_api_req *rq)
{
	return gh_gov_audit_inclusion(&rq->out, rq->gov, &rq->actor, gh_api_query(rq, "seq"),
				      gh_api_query(rq, "size"));
}

int gh_api_handle_audit_consistency(gh_api_req *rq)
{
	return gh_gov_audit_consistency(&rq->out, rq->gov, &rq->actor, gh_api_query(rq, "old"),
					gh_api_query(rq, "new"));
}
