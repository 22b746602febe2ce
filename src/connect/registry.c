/* registry.c - the connector kinds by name, settings checks shared by all,
 * and the "manual" kind (nothing downstream: an operator acts by hand). */
#include "connect/connect.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

static const char *const manual_fields[] = {NULL};

static int manual_check(const json_t *settings)
{
	(void)settings;
	return 0;
}

static int manual_apply(const json_t *settings, const gh_conn_job *job, json_t **receipt)
{
	(void)settings;
	(void)job;
	*receipt = NULL;
	return 0;
}

const gh_connector_kind gh_connector_manual = {"manual", manual_fields, manual_check,
					       manual_apply, NULL, manual_fields, NULL};

static const gh_connector_kind *const kinds[] = {
	&gh_connector_manual, &gh_connector_postgres, &gh_connector_ldap, &gh_connector_webhook,
	&gh_connector_exec, NULL};

/* One kind a test may add (gh_connector_register_test). */
static const gh_connector_kind *test_kind;

int gh_connector_register_test(const gh_connector_kind *k)
{
	if (k && gh_connector_find(k->name) && gh_connector_find(k->name) != test_kind)
		return gh_error_set(GH_ECONFLICT, "connector %s exists", k->name);
	test_kind = k;
	return 0;
}

const gh_connector_kind *gh_connector_find(const char *name)
{
	for (size_t i = 0; name && kinds[i]; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	if (name && test_kind && strcmp(test_kind->name, name) == 0)
		return test_kind;
	return NULL;
}

/* A key that looks like it holds a secret itself rather than naming one. */
static int secret_like(const char *key)
{
	static const char *const words[] = {"password", "secret", "token", "key", "credential",
					    NULL};
	size_t n = strlen(key);

	if (n > 4 && strcmp(key + n - 4, "_ref") == 0)
		return 0;
	for (size_t i = 0; words[i]; i++)
		if (strstr(key, words[i]))
			return 1;
	return 0;
}

int gh_connector_check(const char *kind, const json_t *settings)
{
	const gh_connector_kind *k = gh_connector_find(kind);
	const char *key;
	json_t *v;
	size_t i;
	int known;

	if (!k)
		return gh_error_field("connector", "unknown connector \"%s\"", kind ? kind : ""),
		       gh_error_fields_finish();
	if (!settings)
		return k->check(NULL);
	if (!json_is_object(settings))
		return gh_error_field("connector_settings", "must be an object"),
		       gh_error_fields_finish();
	json_object_foreach((json_t *)settings, key, v) {
		for (i = 0, known = 0; k->fields[i] && !known; i++)
			known = strcmp(k->fields[i], key) == 0;
		if (secret_like(key))
			gh_error_field("connector_settings", "\"%s\" would hold a secret; name it "
				       "with \"%s_ref\": \"env:NAME\" or \"file:/path\"", key, key);
		else if (!known)
			gh_error_field("connector_settings", "unknown key \"%s\" for connector %s",
				       key, k->name);
	}
	if (gh_error_fields_finish())
		return GH_EINVALID;
	return k->check(settings);
}

void gh_conn_access_free(gh_conn_access *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].account);
		free(a[i].target);
	}
	free(a);
}
