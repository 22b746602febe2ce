/* core_stub.c - placeholders for the policy core until it is implemented. */
#include "policy/policy.h"

#include <stdio.h>

static int todo(gh_policy_error *err)
{
	if (err) {
		err->line = err->column = 0;
		snprintf(err->message, sizeof(err->message), "not implemented");
	}
	return GH_POLICY_ERROR;
}

int gh_policy_set_parse(gh_policy_set **out, const char *text, size_t len, gh_policy_error *err)
{
	*out = NULL;
	return todo(err);
}

int gh_policy_set_parse_json(gh_policy_set **out, const char *json, size_t len,
			     gh_policy_error *err)
{
	*out = NULL;
	return todo(err);
}

void gh_policy_set_free(gh_policy_set *ps)
{
}

size_t gh_policy_set_count(const gh_policy_set *ps)
{
	return 0;
}

const char *gh_policy_set_id(const gh_policy_set *ps, size_t i)
{
	return NULL;
}

const char *gh_policy_set_annotation(const gh_policy_set *ps, const char *policy_id,
				     const char *key)
{
	return NULL;
}

int gh_policy_set_format(char **out, const gh_policy_set *ps)
{
	*out = NULL;
	return todo(NULL);
}

int gh_policy_set_to_json(char **out, const gh_policy_set *ps)
{
	*out = NULL;
	return todo(NULL);
}

int gh_policy_entities_parse(gh_policy_entities **out, const char *json, size_t len,
			     const gh_policy_schema *schema, gh_policy_error *err)
{
	*out = NULL;
	return todo(err);
}

void gh_policy_entities_free(gh_policy_entities *es)
{
}

int gh_policy_request_parse(gh_policy_request **out, const char *json, size_t len,
			    const gh_policy_schema *schema, int validate, gh_policy_error *err)
{
	*out = NULL;
	return todo(err);
}

void gh_policy_request_free(gh_policy_request *req)
{
}

int gh_policy_authorize(gh_policy_response **out, const gh_policy_set *ps,
			const gh_policy_entities *es, const gh_policy_request *req)
{
	*out = NULL;
	return todo(NULL);
}

void gh_policy_response_free(gh_policy_response *resp)
{
}
