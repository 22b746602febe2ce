/* instance.c - what a system's "connector" names: a connector instance of the
 * server configuration (or a built-in), and the settings its jobs run with. */
#include "connect/connect.h"
#include "common/config.h"
#include "common/error.h"

#include <stdio.h>
#include <string.h>

int gh_connect_builtin(const char *connector)
{
	return connector && (strcmp(connector, "manual") == 0 ||
			     strcmp(connector, "credential") == 0);
}

static int listed(const char *const *fields, const char *key)
{
	for (size_t i = 0; fields && fields[i]; i++)
		if (strcmp(fields[i], key) == 0)
			return 1;
	return 0;
}

/* "only a, b" or "nothing" into out. */
static const char *allowed_list(char *out, size_t outlen, const gh_connector_kind *k)
{
	size_t n;

	snprintf(out, outlen, "%s", k->system_fields && k->system_fields[0] ? "only " : "nothing");
	for (size_t i = 0; k->system_fields && k->system_fields[i]; i++) {
		n = strlen(out);
		snprintf(out + n, outlen - n, "%s%s", i ? ", " : "", k->system_fields[i]);
	}
	return out;
}

int gh_connect_settings(json_t **out, const gh_connector_kind **kind, const gh_config *cfg,
			const char *connector, const json_t *params)
{
	const gh_config_instance *inst = gh_config_instance_find(cfg, connector);
	const char *key;
	json_t *s, *v;

	*out = NULL;
	*kind = NULL;
	if (gh_connect_builtin(connector) && (*kind = gh_connector_find(connector))) {
		if (!(*out = json_object()))
			return gh_error_set(GH_ERROR, "out of memory");
		return 0;
	}
	if (!inst)
		return gh_error_set(GH_ERROR, "connector instance %s is not configured on this "
				    "server", connector ? connector : "");
	if (!(*kind = gh_connector_find(inst->kind)))
		return gh_error_set(GH_EINVALID, "connector instance %s: unknown kind %s",
				    inst->name, inst->kind);
	if (!(s = json_deep_copy(inst->settings)))
		return gh_error_set(GH_ERROR, "out of memory");
	/* only the parameters the kind lets a system set, and never over the
	 * instance's own */
	json_object_foreach((json_t *)params, key, v)
		if (listed((*kind)->system_fields, key) && !json_object_get(s, key) &&
		    json_object_set(s, key, v)) {
			json_decref(s);
			return gh_error_set(GH_ERROR, "out of memory");
		}
	*out = s;
	return 0;
}

int gh_connect_check_system(const gh_config *cfg, const char *connector, const json_t *params)
{
	const gh_config_instance *inst = NULL;
	const gh_connector_kind *k = NULL;
	size_t before = gh_error_field_count();
	char names[1024], field[160];
	json_t *settings = NULL, *v;
	const char *key;

	if (params && !json_is_object(params)) {
		gh_error_field("connector_settings", "must be an object");
		return gh_error_fields_finish();
	}
	if (gh_connect_builtin(connector)) {
		if (json_object_size(params) > 0)
			gh_error_field("connector_settings", "connector %s takes no settings",
				       connector);
		return gh_error_fields_finish();
	}
	if (!(inst = gh_config_instance_find(cfg, connector)) ||
	    !(k = gh_connector_find(inst->kind))) {
		gh_config_instance_names(names, sizeof(names), cfg);
		gh_error_field("connector", "\"%.64s\" is not a connector instance configured on "
			       "this server; configured: %s%smanual, credential",
			       connector ? connector : "", names, names[0] ? ", " : "");
		return gh_error_fields_finish();
	}
	json_object_foreach((json_t *)params, key, v) {
		snprintf(field, sizeof(field), "connector_settings.%.100s", key);
		if (listed(k->system_fields, key))
			continue;
		if (json_object_get(inst->settings, key) || listed(k->fields, key))
			gh_error_field(field, "is set by the server configuration (instance %s), "
				       "not by a system", inst->name);
		else if (strstr(key, "_ref") || strstr(key, "secret") || strstr(key, "password"))
			gh_error_field(field, "a system cannot name or hold a secret; the "
				       "instance %s takes its secrets from the server "
				       "configuration", inst->name);
		else
			gh_error_field(field, "unknown key: a system on a %s instance may set %s",
				       k->name, allowed_list(names, sizeof(names), k));
	}
	if (gh_error_field_count() != before)
		return gh_error_fields_finish();
	/* the values: the kind checks the settings the jobs would run with */
	if (gh_connect_settings(&settings, &k, cfg, connector, params) == 0 &&
	    k->check(settings) && gh_error_field_count() == before)
		gh_error_field("connector_settings", "%s", gh_error_last()->message);
	json_decref(settings);
	return gh_error_fields_finish();
}

int gh_connect_check_target(const gh_config *cfg, const char *connector, const char *target)
{
	const gh_config_instance *inst = gh_config_instance_find(cfg, connector);
	const gh_connector_kind *k = inst ? gh_connector_find(inst->kind) : NULL;

	if (!k || !k->target)
		return 0;
	return k->target(inst->settings, target ? target : "");
}
