/* schema_stub.c - placeholders for schemas until they are implemented. */
#include "policy/schema_types.h"

#include <stdio.h>

int gh_policy_schema_parse(gh_policy_schema **out, const char *text, size_t len,
			   gh_policy_error *err)
{
	*out = NULL;
	if (err)
		snprintf(err->message, sizeof(err->message), "not implemented");
	return GH_POLICY_ERROR;
}

int gh_policy_schema_parse_json(gh_policy_schema **out, const char *json, size_t len,
				gh_policy_error *err)
{
	*out = NULL;
	if (err)
		snprintf(err->message, sizeof(err->message), "not implemented");
	return GH_POLICY_ERROR;
}

void gh_policy_schema_free(gh_policy_schema *schema)
{
}

int gh_policy_validate(char **out, const gh_policy_set *ps, const gh_policy_schema *schema)
{
	*out = NULL;
	return GH_POLICY_ERROR;
}

const ghp_entity_type *ghp_schema_entity_type(const gh_policy_schema *s, const char *name)
{
	return NULL;
}

const ghp_action *ghp_schema_action(const gh_policy_schema *s, const char *type, const char *id)
{
	return NULL;
}

size_t ghp_schema_entity_type_count(const gh_policy_schema *s)
{
	return 0;
}

const ghp_entity_type *ghp_schema_entity_type_at(const gh_policy_schema *s, size_t i)
{
	return NULL;
}

size_t ghp_schema_action_count(const gh_policy_schema *s)
{
	return 0;
}

const ghp_action *ghp_schema_action_at(const gh_policy_schema *s, size_t i)
{
	return NULL;
}
