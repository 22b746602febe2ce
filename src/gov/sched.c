/* sched.c - placeholder until implemented. */
#include "gov/gov_internal.h"

int gh_gov_sched_run(gh_gov *g, int64_t now, int *out_expired, int *out_sla)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

int64_t gh_gov_sched_next_due(gh_gov *g)
{
	return INT64_MAX;
}

int gh_gov_sched_start(gh_gov *g, int max_sleep_ms)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

void gh_gov_sched_stop(gh_gov *g)
{
	
}
