/* grant.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_grant_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_grant_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page, const char *status, const char *subject, const char *entitlement)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_grant_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
int gov_grant_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gov_grant_end(gh_gov *g, const char *actor_id, const char *grant_id, const char *status,
		  const char *reason)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
