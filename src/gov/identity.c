/* identity.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_identity_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_identity_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_identity_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page, const char *kind, const char *status, const char *owner)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_identity_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_identity_set_status(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref, const char *action, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
int gov_identity_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
