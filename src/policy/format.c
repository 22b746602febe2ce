/* format.c - canonical Cedar text and policy JSON (EST) of a policy set. */
#include "policy/eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gh_policy_set_format(char **out, const gh_policy_set *ps)
{
	*out = NULL;
	return GH_POLICY_ERROR;
}

int gh_policy_set_to_json(char **out, const gh_policy_set *ps)
{
	*out = NULL;
	return GH_POLICY_ERROR;
}

int gh_policy_set_parse_json(gh_policy_set **out, const char *json, size_t len,
			     gh_policy_error *err)
{
	*out = NULL;
	if (err) {
		memset(err, 0, sizeof(*err));
		snprintf(err->message, sizeof(err->message), "policy JSON is not supported yet");
	}
	return GH_POLICY_ERROR;
}
