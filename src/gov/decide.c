/* decide.c - placeholder until implemented. */
#include "gov/gov_internal.h"

static int builtin_decide(void *ctx, gh_decision *out, const json_t *facts)
{
	return gh_error_set(GH_ERROR, "not implemented");
}

const gh_decider gh_builtin_decider = {"builtin-catalog-rule", builtin_decide, NULL};

void gh_decision_clear(gh_decision *d)
{
	json_decref(d->reasons);
	d->reasons = NULL;
}
