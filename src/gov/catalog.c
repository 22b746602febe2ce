/* catalog.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_system_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_system_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_system_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_system_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_entitlement_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_entitlement_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_entitlement_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page, const char *system, const char *risk_tier, const char *environment, const char *requestable)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_entitlement_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
int gov_entitlement_load(json_t **out, gh_gov *g, const char *id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
