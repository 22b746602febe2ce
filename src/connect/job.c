/* job.c - what connectors send downstream about a job, and settings checks
 * shared by the kinds. */
#include "connect/connect.h"
#include "common/error.h"
#include "common/util.h"

#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *id_name(const char *id, const char *name)
{
	json_t *o = json_object();

	if (o && (json_object_set_new(o, "id", str_or_null(id)) ||
		  json_object_set_new(o, "name", str_or_null(name)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *gh_conn_job_json(const gh_conn_job *job)
{
	char when[32];
	json_t *o = json_object();

	if (job->expires_at > 0)
		gh_time_format(when, sizeof(when), job->expires_at);
	if (!o ||
	    json_object_set_new(o, "event", str_or_null(job->op)) ||
	    json_object_set_new(o, "job", str_or_null(job->job_id)) ||
	    json_object_set_new(o, "grant", str_or_null(job->grant_id)) ||
	    json_object_set_new(o, "system", id_name(job->system_id, job->system_name)) ||
	    json_object_set_new(o, "entitlement",
				id_name(job->entitlement_id, job->entitlement_name)) ||
	    json_object_set_new(o, "target", str_or_null(job->target)) ||
	    json_object_set_new(o, "subject", id_name(job->subject_id, job->subject_name)) ||
	    json_object_set_new(o, "account", str_or_null(job->account)) ||
	    json_object_set_new(o, "expires_at",
				job->expires_at > 0 ? json_string(when) : json_null()) ||
	    json_object_set_new(o, "attempt", json_integer(job->attempt))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int gh_conn_setting_duration(const json_t *settings, const char *key, int64_t min,
			     int64_t max, int64_t def, int64_t *out)
{
	char field[96], lo[32], hi[32];
	json_t *v = json_is_object(settings) ? json_object_get(settings, key) : NULL;
	int64_t n = -1;

	*out = def;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (!json_is_string(v) || gh_duration_parse(&n, json_string_value(v)) != 0)
		n = -1;
	if (n >= min && n <= max) {
		*out = n;
		return 0;
	}
	snprintf(field, sizeof(field), "connector_settings.%s", key);
	gh_duration_format(lo, sizeof(lo), min);
	gh_duration_format(hi, sizeof(hi), max);
	gh_error_field(field, "must be a duration such as \"10s\" (or whole seconds) between %s "
		       "and %s", lo, hi);
	return -1;
}

int gh_conn_setting_secret_ref(const json_t *settings, const char *key, int required,
			       const char **out)
{
	char field[96];
	json_t *v = json_is_object(settings) ? json_object_get(settings, key) : NULL;

	*out = NULL;
	snprintf(field, sizeof(field), "connector_settings.%s", key);
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		gh_error_field(field, "is required: \"env:NAME\" or \"file:/path\"");
		return -1;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    !gh_secret_ref_valid(json_string_value(v))) {
		/* the value is not echoed: it may be the secret itself */
		gh_error_field(field, "must be a secret reference: \"env:NAME\" or \"file:/path\"");
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}
