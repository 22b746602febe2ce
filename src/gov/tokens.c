/* tokens.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_bootstrap(char **out_token, gh_gov *g, const char *admin_name)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_token_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_token_revoke(gh_gov *g, const gh_actor *actor, const char *token_id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_authenticate(gh_actor *out, gh_gov *g, const char *token)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
