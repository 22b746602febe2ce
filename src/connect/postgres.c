/* postgres.c - the postgres connector (placeholder until it is written). */
#include "connect/connect.h"
#include "common/error.h"

static const char *const fields[] = {NULL};

static int check(const json_t *settings)
{
	(void)settings;
	return gh_error_set(GH_EINVALID, "the postgres connector is not available yet");
}

static int apply(const json_t *settings, const gh_conn_job *job, json_t **receipt)
{
	(void)settings;
	(void)job;
	*receipt = NULL;
	return gh_error_set(GH_ERROR, "the postgres connector is not available yet");
}

const gh_connector_kind gh_connector_postgres = {"postgres", fields, check, apply, NULL};
