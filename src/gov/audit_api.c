/* audit_api.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_audit_list(json_t **out, gh_gov *g, const gh_actor *actor, int64_t after_seq, int limit, const char *object_id)
{
	return gh_error_set(GH_ERROR, "not implemented");
}
