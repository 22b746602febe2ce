/* server.c - placeholder until implemented. */
#include "api/api.h"
#include "common/error.h"

int gh_api_start(gh_api **out, gh_gov *g, const gh_api_options *opts)
{
	*out = NULL;
	return gh_error_set(GH_ERROR, "not implemented");
}

void gh_api_stop(gh_api *api)
{
}

unsigned gh_api_port(const gh_api *api)
{
	return 0;
}
