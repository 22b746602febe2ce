/* config.c - the server configuration file: YAML read by the strict loader,
 * checked against a schema (each connector instance against its kind's), then
 * turned into gh_config. */
#include "common/config.h"
#include "common/error.h"
#include "common/util.h"

#include <curl/curl.h>
#include <ldap.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX GH_YAML_MAX_BYTES
#define INSTANCES_MAX 256
#define SECRETS_MAX 256

/* --- scalar checks (NULL when fine, else why not) ---------------------- */

static const char *name_check(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > GH_CONFIG_NAME_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return "is not a name: 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a "
		       "letter or digit";
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return "is not a name: 1 to 64 of a-z, 0-9, '.', '_', '-', starting with "
			       "a letter or digit";
	return NULL;
}

static const char *env_check(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return "must be an environment variable name: a letter or '_', then letters, "
		       "digits or '_'";
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return "must be an environment variable name: a letter or '_', then "
			       "letters, digits or '_'";
	return NULL;
}

static const char *abs_path_check(const char *s)
{
	if (s[0] != '/' || !s[1])
		return "must be an absolute path";
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not hold control characters";
	return NULL;
}

/* "10s", "1h30m" or whole seconds. */
static int duration_of(const char *s, int64_t *out)
{
	char *end;
	long long n;

	if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
		n = strtoll(s, &end, 10);
		if (strlen(s) > 10 || n < 1)
			return -1;
		*out = n;
		return 0;
	}
	return gh_duration_parse(out, s) == 0 ? 0 : -1;
}

static const char *duration_check(const char *s)
{
	int64_t n;

	return duration_of(s, &n) ? "must be a duration such as \"30s\", \"8h\" or \"7d\" (or "
				    "whole seconds)" : NULL;
}

/* A role-name glob: what fnmatch reads, without '/' or control characters. */
static const char *glob_check(const char *s)
{
	if (!*s || strlen(s) > 63)
		return "must be a role name or glob (such as \"billing_*\") of 1 to 63 bytes";
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not hold control characters";
	return NULL;
}

static const char *dn_check(const char *s)
{
	LDAPDN dn = NULL;

	if (!*s || ldap_str2dn(s, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !dn) {
		if (dn)
			ldap_dnfree(dn);
		return "is not a DN (such as \"ou=groups,dc=example,dc=com\")";
	}
	ldap_dnfree(dn);
	return NULL;
}

static const char *ldap_url_check(const char *s)
{
	LDAPURLDesc *lud = NULL;
	const char *why = NULL;

	if (ldap_url_parse(s, &lud) != LDAP_URL_SUCCESS || !lud->lud_scheme ||
	    (strcmp(lud->lud_scheme, "ldap") != 0 && strcmp(lud->lud_scheme, "ldaps") != 0 &&
	     strcmp(lud->lud_scheme, "ldapi") != 0))
		why = "must be an ldap://, ldaps:// or ldapi:// URL";
	if (lud)
		ldap_free_urldesc(lud);
	return why;
}

static const char *http_url_check(const char *s)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL;
	const char *why = "must be an http:// or https:// URL with a host and no user or password";

	if (u && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
	    curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK)
		why = NULL;
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return why;
}

/* libpq keywords; a password in them would be a secret in the file. */
static const char *conninfo_check(const char *s)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	const char *why = NULL;

	if (!(opts = PQconninfoParse(s, &err))) {
		PQfreemem(err);
		return "is not a libpq connection string (keywords such as \"host=db port=5432 "
		       "dbname=postgres user=gatehouse\")";
	}
	for (o = opts; o->keyword; o++)
		if (o->val && o->val[0] && strcmp(o->keyword, "password") == 0)
			why = "must not hold a password; declare it under secrets: and name it "
			      "with password_secret";
	PQconninfoFree(opts);
	return why;
}

/* --- schemas ----------------------------------------------------------- */

static const gh_yaml_schema s_name = {GH_YAML_STRING, .max = GH_CONFIG_NAME_MAX,
				      .check = name_check};
static const gh_yaml_schema s_duration = {GH_YAML_STRING, .max = 32, .check = duration_check};
static const gh_yaml_schema s_bool = {.kind = GH_YAML_BOOL};
static const gh_yaml_schema s_free = {.kind = GH_YAML_FREE_MAP};

static const gh_yaml_schema s_file = {GH_YAML_STRING, .max = 1024, .check = abs_path_check};
static const gh_yaml_schema s_env = {GH_YAML_STRING, .max = 256, .check = env_check};
static const gh_yaml_key secret_keys[] = {{"file", 0, &s_file}, {"env", 0, &s_env}, {NULL, 0, NULL}};
static const gh_yaml_schema s_secret = {GH_YAML_MAP, .keys = secret_keys};

static const char *const kinds[] = {"postgres", "ldap", "exec", "webhook", NULL};
static const gh_yaml_schema s_kind = {GH_YAML_STRING, .values = kinds};

static const gh_yaml_schema s_conninfo = {GH_YAML_STRING, .max = 1800,
					  .check = conninfo_check};
static const gh_yaml_schema s_glob = {GH_YAML_STRING, .max = 63, .check = glob_check};
static const gh_yaml_schema s_globs = {GH_YAML_LIST, .item = &s_glob, .max = 100};
static const gh_yaml_key postgres_keys[] = {
	{"kind", 1, &s_kind}, {"conninfo", 1, &s_conninfo}, {"password_secret", 0, &s_name},
	{"connect_timeout", 0, &s_duration}, {"roles", 0, &s_globs}, {NULL, 0, NULL}};

static const gh_yaml_schema s_ldap_url = {GH_YAML_STRING, .max = 1024, .check = ldap_url_check};
static const gh_yaml_schema s_dn = {GH_YAML_STRING, .max = 1024, .check = dn_check};
static const gh_yaml_schema s_text = {GH_YAML_STRING, .max = 1024};
static const gh_yaml_key ldap_keys[] = {
	{"kind", 1, &s_kind}, {"url", 1, &s_ldap_url}, {"bind_dn", 1, &s_dn},
	{"password_secret", 1, &s_name}, {"group_base", 1, &s_dn},
	{"member_dn_template", 1, &s_text}, {"member_attribute", 0, &s_text},
	{"timeout", 0, &s_duration}, {NULL, 0, NULL}};

static const gh_yaml_schema s_arg = {GH_YAML_STRING, .max = 4096};
static const gh_yaml_schema s_command = {GH_YAML_LIST, .item = &s_arg, .max = 64};
static const gh_yaml_key exec_keys[] = {
	{"kind", 1, &s_kind}, {"command", 1, &s_command}, {"timeout", 0, &s_duration}, {NULL, 0, NULL}};

static const gh_yaml_schema s_http_url = {GH_YAML_STRING, .max = 2048, .check = http_url_check};
static const gh_yaml_key webhook_keys[] = {
	{"kind", 1, &s_kind}, {"url", 1, &s_http_url}, {"secret", 1, &s_name},
	{"timeout", 0, &s_duration}, {"allow_private_addresses", 0, &s_bool}, {NULL, 0, NULL}};

static const gh_yaml_schema kind_schemas[] = {
	{GH_YAML_MAP, .keys = postgres_keys}, {GH_YAML_MAP, .keys = ldap_keys},
	{GH_YAML_MAP, .keys = exec_keys}, {GH_YAML_MAP, .keys = webhook_keys}};

static const gh_yaml_key identities_keys[] = {
	{"nhi_max_lifetime", 0, &s_duration}, {"orphan_grace", 0, &s_duration}, {NULL, 0, NULL}};
static const gh_yaml_key tokens_keys[] = {{"default_lifetime", 0, &s_duration}, {NULL, 0, NULL}};
static const gh_yaml_schema s_conns = {GH_YAML_INT, .min_int = 1, .max_int = 100000};
static const gh_yaml_schema s_header = {GH_YAML_INT, .min_int = 1024, .max_int = 1048576};
static const gh_yaml_key http_keys[] = {
	{"per_address_connections", 0, &s_conns}, {"header_limit", 0, &s_header},
	{"request_timeout", 0, &s_duration}, {"auth_failures", 0, &s_conns}, {NULL, 0, NULL}};

static const gh_yaml_key top_keys[] = {
	{"secrets", 0, &s_free}, {"connectors", 0, &s_free},
	{"identities", 0, &(const gh_yaml_schema){GH_YAML_MAP, .keys = identities_keys}},
	{"tokens", 0, &(const gh_yaml_schema){GH_YAML_MAP, .keys = tokens_keys}},
	{"http", 0, &(const gh_yaml_schema){GH_YAML_MAP, .keys = http_keys}},
	{NULL, 0, NULL}};
static const gh_yaml_schema s_top = {GH_YAML_MAP, .keys = top_keys};

/* Seconds in [min, max] of a duration key of obj (path for problems); def
 * when absent. */
static int64_t duration_in(gh_yaml_doc *d, const json_t *obj, const char *key, const char *path,
			   int64_t min, int64_t max, int64_t def)
{
	char child[GH_YAML_MAX_PATH], lo[32], hi[32];
	const char *s = json_string_value(json_object_get(obj, key));
	int64_t n;

	if (!s || duration_of(s, &n))
		return def;   /* absent, or already reported by the schema */
	if (n >= min && n <= max)
		return n;
	gh_yaml_path_key(child, path, key);
	gh_duration_format(lo, sizeof(lo), min);
	gh_duration_format(hi, sizeof(hi), max);
	gh_yaml_problem(d, child, "must be between %s and %s", lo, hi);
	return def;
}

/* --- the sections ------------------------------------------------------ */

static void read_secrets(gh_config *c)
{
	gh_yaml_doc *d = &c->doc;
	json_t *secrets = json_object_get(d->root, "secrets"), *v;
	char path[GH_YAML_MAX_PATH], ref[1100];
	const char *name, *why;

	if (!secrets)
		return;
	if (json_object_size(secrets) > SECRETS_MAX)
		gh_yaml_problem(d, "secrets", "more than %d secrets", SECRETS_MAX);
	json_object_foreach(secrets, name, v) {
		gh_yaml_path_key(path, "secrets", name);
		if ((why = name_check(name))) {
			gh_yaml_problem(d, path, "secret name %s", why);
			continue;
		}
		gh_yaml_check_at(d, secrets, name, path, &s_secret);
		if (!json_is_object(v))
			continue;
		if (!json_object_get(v, "file") == !json_object_get(v, "env")) {
			gh_yaml_problem(d, path, "needs exactly one of file: (an absolute path, whose "
					"first line is the secret) or env: (a variable name)");
			continue;
		}
		if (json_is_string(json_object_get(v, "file")))
			snprintf(ref, sizeof(ref), "file:%s",
				 json_string_value(json_object_get(v, "file")));
		else if (json_is_string(json_object_get(v, "env")))
			snprintf(ref, sizeof(ref), "env:%s",
				 json_string_value(json_object_get(v, "env")));
		else
			continue;
		json_object_set_new(c->secrets, name, json_string(ref));
	}
}

/* A secret name under key of inst (path), declared in the secrets table:
 * copied into settings as ref_key. */
static void secret_into(gh_config *c, json_t *settings, const json_t *inst, const char *key,
			const char *path, const char *ref_key)
{
	char child[GH_YAML_MAX_PATH];
	const char *name = json_string_value(json_object_get(inst, key));
	const char *ref;

	if (!name || name_check(name))
		return;
	if (!(ref = gh_config_secret_ref(c, name))) {
		gh_yaml_path_key(child, path, key);
		gh_yaml_problem(&c->doc, child, "names the secret \"%s\", which is not declared "
				"under secrets:", name);
		return;
	}
	json_object_set_new(settings, ref_key, json_string(ref));
}

static void copy_key(json_t *settings, const json_t *inst, const char *key)
{
	json_t *v = json_object_get(inst, key);

	if (v)
		json_object_set(settings, key, v);
}

/* The kind's settings from the instance's keys (which passed its schema). */
static json_t *instance_settings(gh_config *c, const char *kind, const json_t *inst,
				 const char *path)
{
	gh_yaml_doc *d = &c->doc;
	json_t *s = json_object();
	const char *cmd0;

	if (!s)
		return NULL;
	if (strcmp(kind, "postgres") == 0) {
		copy_key(s, inst, "conninfo");
		secret_into(c, s, inst, "password_secret", path, "password_ref");
		json_object_set_new(s, "connect_timeout", json_integer(duration_in(
			d, inst, "connect_timeout", path, 1, 300, 5)));
		copy_key(s, inst, "roles");
	} else if (strcmp(kind, "ldap") == 0) {
		copy_key(s, inst, "url");
		copy_key(s, inst, "bind_dn");
		secret_into(c, s, inst, "password_secret", path, "password_ref");
		copy_key(s, inst, "group_base");
		copy_key(s, inst, "member_dn_template");
		copy_key(s, inst, "member_attribute");
		json_object_set_new(s, "timeout", json_integer(duration_in(d, inst, "timeout", path,
									   1, 300, 5)));
	} else if (strcmp(kind, "exec") == 0) {
		char child[GH_YAML_MAX_PATH];

		copy_key(s, inst, "command");
		cmd0 = json_string_value(json_array_get(json_object_get(inst, "command"), 0));
		gh_yaml_path_key(child, path, "command");
		if (json_is_array(json_object_get(inst, "command")) &&
		    json_array_size(json_object_get(inst, "command")) == 0)
			gh_yaml_problem(d, child, "must name the program: its absolute path first");
		else if (cmd0 && cmd0[0] != '/')
			gh_yaml_problem(d, child, "the program must be an absolute path (no shell, "
					"no PATH search)");
		json_object_set_new(s, "timeout", json_integer(duration_in(d, inst, "timeout", path,
									   1, 600, 30)));
	} else {
		copy_key(s, inst, "url");
		secret_into(c, s, inst, "secret", path, "secret_ref");
		json_object_set_new(s, "timeout", json_integer(duration_in(d, inst, "timeout", path,
									   1, 60, 10)));
		copy_key(s, inst, "allow_private_addresses");
	}
	return s;
}

static void read_connectors(gh_config *c)
{
	gh_yaml_doc *d = &c->doc;
	json_t *conns = json_object_get(d->root, "connectors"), *v, *settings;
	char path[GH_YAML_MAX_PATH], child[GH_YAML_MAX_PATH];
	const char *name, *why, *kind;
	size_t k;

	if (!conns)
		return;
	if (json_object_size(conns) > INSTANCES_MAX)
		gh_yaml_problem(d, "connectors", "more than %d connector instances", INSTANCES_MAX);
	json_object_foreach(conns, name, v) {
		gh_yaml_path_key(path, "connectors", name);
		if ((why = name_check(name))) {
			gh_yaml_problem(d, path, "instance name %s", why);
			continue;
		}
		if (strcmp(name, "manual") == 0 || strcmp(name, "credential") == 0) {
			gh_yaml_problem(d, path, "\"%s\" is a built-in connector; name the instance "
					"otherwise", name);
			continue;
		}
		if (!json_is_object(v)) {
			gh_yaml_problem(d, path, "must be a mapping with kind: and the kind's keys");
			continue;
		}
		gh_yaml_path_key(child, path, "kind");
		kind = json_string_value(json_object_get(v, "kind"));
		if (!json_object_get(v, "kind")) {
			gh_yaml_problem(d, path, "missing required key \"kind\" (postgres, ldap, exec "
					"or webhook)");
			continue;
		}
		for (k = 0; kinds[k] && (!kind || strcmp(kinds[k], kind) != 0); k++)
			;
		if (!kinds[k]) {
			gh_yaml_check_at(d, v, "kind", child, &s_kind);
			continue;
		}
		gh_yaml_check_at(d, conns, name, path, &kind_schemas[k]);
		if (!(settings = instance_settings(c, kind, v, path)) ||
		    gh_config_add_instance(c, name, kind, settings)) {
			gh_yaml_problem(d, path, "out of memory");
			return;
		}
	}
}

static void read_limits(gh_config *c)
{
	gh_yaml_doc *d = &c->doc;
	json_t *ids = json_object_get(d->root, "identities");
	json_t *tokens = json_object_get(d->root, "tokens");
	json_t *http = json_object_get(d->root, "http");
	const int64_t day = 86400, year = 10 * 366 * day;

	c->nhi_max_lifetime = duration_in(d, ids, "nhi_max_lifetime", "identities", day, year, 0);
	c->orphan_grace = duration_in(d, ids, "orphan_grace", "identities", 1, year, 0);
	c->token_lifetime = duration_in(d, tokens, "default_lifetime", "tokens", 60, year, 0);
	c->request_timeout = (int)duration_in(d, http, "request_timeout", "http", 1, 3600, 0);
	if (json_is_integer(json_object_get(http, "auth_failures")))
		c->auth_failures = (int)json_integer_value(json_object_get(http, "auth_failures"));
	if (json_is_integer(json_object_get(http, "per_address_connections")))
		c->per_address_connections =
			(int)json_integer_value(json_object_get(http, "per_address_connections"));
	if (json_is_integer(json_object_get(http, "header_limit")))
		c->header_limit = (size_t)json_integer_value(json_object_get(http, "header_limit"));
}

/* --- entry points ------------------------------------------------------ */

int gh_config_parse(gh_config *out, const char *text, size_t len, const char *filename)
{
	int rc;

	memset(out, 0, sizeof(*out));
	(void)filename;
	if (!(out->secrets = json_object()))
		return gh_error_set(GH_ERROR, "out of memory");
	if ((rc = gh_yaml_load(&out->doc, text, len)))
		return rc;
	if (!out->doc.root) {
		/* an empty file: nothing configured */
		if (!(out->doc.root = json_object()))
			return gh_error_set(GH_ERROR, "out of memory");
	}
	gh_yaml_check(&out->doc, &s_top);
	if (json_is_object(out->doc.root)) {
		if (json_is_object(json_object_get(out->doc.root, "secrets")))
			read_secrets(out);
		if (json_is_object(json_object_get(out->doc.root, "connectors")))
			read_connectors(out);
		read_limits(out);
	}
	if (json_array_size(out->doc.problems) || out->doc.dropped)
		return gh_error_set(GH_EINVALID, "%zu problems in the configuration",
				    json_array_size(out->doc.problems) + out->doc.dropped);
	gh_error_clear();
	return 0;
}

int gh_config_load(gh_config *out, const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(f = fopen(path, "rb")))
		return gh_error_set(GH_ENOTFOUND, "cannot open %s", path);
	if (!(buf = malloc(FILE_MAX + 1))) {
		fclose(f);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	rc = ferror(f);
	fclose(f);
	if (rc) {
		free(buf);
		return gh_error_set(GH_ENOTFOUND, "cannot read %s", path);
	}
	if (n > FILE_MAX) {
		free(buf);
		return gh_error_set(GH_ETOOLARGE, "%s is larger than %d bytes", path, FILE_MAX);
	}
	rc = gh_config_parse(out, buf, n, path);
	free(buf);
	return rc;
}

void gh_config_free(gh_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ninstances; i++) {
		free(c->instances[i].name);
		free(c->instances[i].kind);
		json_decref(c->instances[i].settings);
	}
	free(c->instances);
	json_decref(c->secrets);
	gh_yaml_doc_free(&c->doc);
	memset(c, 0, sizeof(*c));
}

void gh_config_print_problems(FILE *f, const gh_config *c, const char *filename)
{
	gh_yaml_print_problems(f, &c->doc, filename);
}

const gh_config_instance *gh_config_instance_find(const gh_config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->ninstances; i++)
		if (strcmp(c->instances[i].name, name) == 0)
			return &c->instances[i];
	return NULL;
}

const char *gh_config_secret_ref(const gh_config *c, const char *name)
{
	return c && name ? json_string_value(json_object_get(c->secrets, name)) : NULL;
}

int gh_config_add_instance(gh_config *c, const char *name, const char *kind, json_t *settings)
{
	gh_config_instance *grown;

	if (gh_config_instance_find(c, name)) {
		json_decref(settings);
		return gh_error_set(GH_ECONFLICT, "connector instance %s exists", name);
	}
	if (!(grown = realloc(c->instances, (c->ninstances + 1) * sizeof(*grown)))) {
		json_decref(settings);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	c->instances = grown;
	grown = &c->instances[c->ninstances];
	grown->name = strdup(name);
	grown->kind = strdup(kind);
	grown->settings = settings ? settings : json_object();
	if (!grown->name || !grown->kind || !grown->settings) {
		free(grown->name);
		free(grown->kind);
		json_decref(grown->settings);
		return gh_error_set(GH_ERROR, "out of memory");
	}
	c->ninstances++;
	return 0;
}

void gh_config_instance_names(char *out, size_t outlen, const gh_config *c)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; c && i < c->ninstances && n < outlen; i++) {
		snprintf(out + n, outlen - n, "%s%s", i ? ", " : "", c->instances[i].name);
		n += strlen(out + n);
	}
}
