/* group.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_group_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_group_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_group_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_group_add_member(json_t **out, gh_gov *g, const gh_actor *actor, const char *group_ref, const json_t *in)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_group_remove_member(json_t **out, gh_gov *g, const gh_actor *actor, const char *group_ref, const char *member_ref)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int gh_gov_group_contains(gh_gov *g, const char *group_id, const char *identity_id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
