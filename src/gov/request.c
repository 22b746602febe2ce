/* request.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_request_submit(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_request_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_request_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page, const char *state, const char *subject, const char *entitlement)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_request_approve(json_t **out, gh_gov *g, const gh_actor *actor, const char *id, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_request_reject(json_t **out, gh_gov *g, const gh_actor *actor, const char *id, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_request_cancel(json_t **out, gh_gov *g, const gh_actor *actor, const char *id, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_request_history(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
int gov_request_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
