/* test_common_config.c - the server configuration file: a good file, and each
 * kind of problem reported at its line and column. */
#include "common/config.h"
#include "common/error.h"
#include "connect/connect.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static const char good[] =
	"secrets:\n"
	"  billing-db-password: {file: /etc/gatehouse/billing-db.pass}\n"
	"  hook-key: {env: GATEHOUSE_HOOK_KEY}\n"
	"  ldap-bind: {file: /etc/gatehouse/ldap.pass}\n"
	"connectors:\n"
	"  billing-pg:\n"
	"    kind: postgres\n"
	"    conninfo: \"host=db.internal port=5432 dbname=postgres user=gatehouse\"\n"
	"    password_secret: billing-db-password\n"
	"    connect_timeout: 10s\n"
	"    roles: [\"billing_*\"]\n"
	"  corp-ldap:\n"
	"    kind: ldap\n"
	"    url: ldap://ldap.internal\n"
	"    bind_dn: cn=gatehouse,dc=example,dc=com\n"
	"    password_secret: ldap-bind\n"
	"    group_base: ou=groups,dc=example,dc=com\n"
	"    member_dn_template: uid={account},ou=people,dc=example,dc=com\n"
	"    member_attribute: member\n"
	"  provision:\n"
	"    kind: exec\n"
	"    command: [/usr/local/bin/provision, --json]\n"
	"    timeout: 30s\n"
	"  hooks:\n"
	"    kind: webhook\n"
	"    url: https://hooks.internal/gatehouse\n"
	"    secret: hook-key\n"
	"    allow_private_addresses: false\n"
	"identities: {nhi_max_lifetime: 365d, orphan_grace: 7d}\n"
	"tokens: {default_lifetime: 90d}\n"
	"http: {per_address_connections: 32, header_limit: 16384, request_timeout: 30s, auth_failures: 20}\n";

static int parse(gh_config *c, const char *text)
{
	return gh_config_parse(c, text, strlen(text), "t.yaml");
}

/* 1 when a problem at path, line, column (where its key starts) holds what. */
static int problem(const gh_config *c, const char *path, long line, long col, const char *what)
{
	for (size_t i = 0; i < json_array_size(c->doc.problems); i++) {
		json_t *p = json_array_get(c->doc.problems, i);
		const char *pp = json_string_value(json_object_get(p, "path"));
		const char *msg = json_string_value(json_object_get(p, "message"));

		if (pp && msg && strcmp(pp, path) == 0 && strstr(msg, what) &&
		    json_integer_value(json_object_get(p, "line")) == line &&
		    json_integer_value(json_object_get(p, "column")) == col)
			return 1;
	}
	fprintf(stderr, "  no problem %s at %ld:%ld holding \"%s\"\n", path, line, col, what);
	return 0;
}

static void test_config_parse__good_file(void)
{
	gh_config c;
	const gh_config_instance *i;
	json_t *eff = NULL, *params = json_pack("{s:s}", "account_attribute", "pg_login");
	const gh_connector_kind *k = NULL;

	CHECK_INT(parse(&c, good), 0);
	CHECK_INT((int)c.ninstances, 4);
	CHECK_STR(gh_config_secret_ref(&c, "hook-key"), "env:GATEHOUSE_HOOK_KEY");
	CHECK(gh_config_secret_ref(&c, "nosuch") == NULL);
	CHECK((i = gh_config_instance_find(&c, "billing-pg")) != NULL);
	if (i) {
		CHECK_STR(i->kind, "postgres");
		CHECK_STR(json_string_value(json_object_get(i->settings, "password_ref")),
			  "file:/etc/gatehouse/billing-db.pass");
		CHECK_INT((int)json_integer_value(json_object_get(i->settings, "connect_timeout")),
			  10);
	}
	CHECK((i = gh_config_instance_find(&c, "hooks")) != NULL);
	if (i)
		CHECK(json_is_false(json_object_get(i->settings, "allow_private_addresses")));
	CHECK(gh_config_instance_find(&c, "manual") == NULL);
	CHECK_INT((int)c.nhi_max_lifetime, 365 * 86400);
	CHECK_INT((int)c.orphan_grace, 7 * 86400);
	CHECK_INT((int)c.token_lifetime, 90 * 86400);
	CHECK_INT(c.per_address_connections, 32);
	CHECK_INT((int)c.header_limit, 16384);
	CHECK_INT(c.request_timeout, 30);
	CHECK_INT(c.auth_failures, 20);
	/* what a job runs with: the instance's settings plus the system's own */
	CHECK_INT(gh_connect_settings(&eff, &k, &c, "billing-pg", params), 0);
	CHECK(k == &gh_connector_postgres);
	CHECK_STR(json_string_value(json_object_get(eff, "account_attribute")), "pg_login");
	CHECK_INT(gh_connector_check("postgres", eff), 0);
	json_decref(eff);
	/* targets: roles globs, and DNs under group_base */
	CHECK_INT(gh_connect_check_target(&c, "billing-pg", "billing_read"), 0);
	CHECK_INT(gh_connect_check_target(&c, "billing-pg", "pg_write_server_files"), GH_EINVALID);
	CHECK_INT(gh_connect_check_target(&c, "corp-ldap", "cn=dev,ou=groups,dc=example,dc=com"),
		  0);
	CHECK_INT(gh_connect_check_target(&c, "corp-ldap", "CN=Dev,OU=Groups,DC=example,DC=com"),
		  0);
	CHECK_INT(gh_connect_check_target(&c, "corp-ldap", "cn=admins,dc=example,dc=com"),
		  GH_EINVALID);
	CHECK_INT(gh_connect_check_target(&c, "corp-ldap", "ou=groups,dc=example,dc=com"),
		  GH_EINVALID);
	CHECK_INT(gh_connect_check_target(&c, "corp-ldap", "not a dn"), GH_EINVALID);
	/* a system cannot override an instance key, nor add one */
	json_object_set_new(params, "conninfo", json_string("host=attacker"));
	gh_error_clear();
	CHECK_INT(gh_connect_check_system(&c, "billing-pg", params), GH_EINVALID);
	CHECK_INT(gh_connect_settings(&eff, &k, &c, "billing-pg", params), 0);
	CHECK_STR(json_string_value(json_object_get(eff, "conninfo")),
		  "host=db.internal port=5432 dbname=postgres user=gatehouse");
	json_decref(eff);
	CHECK_INT(gh_connect_settings(&eff, &k, &c, "nosuch", params), GH_ERROR);
	CHECK(strstr(gh_error_last()->message, "connector instance nosuch is not configured") != NULL);
	json_decref(params);
	gh_config_free(&c);
}

static void test_config_parse__empty_file_configures_nothing(void)
{
	gh_config c;

	CHECK_INT(parse(&c, ""), 0);
	CHECK_INT((int)c.ninstances, 0);
	CHECK_INT((int)c.token_lifetime, 0);
	gh_config_free(&c);
}

static void test_config_parse__every_problem_with_its_line(void)
{
	static const char bad[] =
		"secrets:\n"                                         /* 1 */
		"  rel: {file: relative}\n"                          /* 2 */
		"  both: {file: /a, env: B}\n"                       /* 3 */
		"  Bad_Name: {env: X}\n"                             /* 4 */
		"  e: {env: \"hunter2 is the password!\"}\n"         /* 5 */
		"connectors:\n"                                      /* 6 */
		"  x:\n"                                             /* 7 */
		"    kind: exec\n"                                   /* 8 */
		"    command: [sh, -c, id]\n"                        /* 9 */
		"    shell: true\n"                                  /* 10 */
		"  y: {kind: webhook, url: \"ftp://h/\", secret: nope}\n"  /* 11 */
		"  manual: {kind: exec, command: [/bin/true]}\n"     /* 12 */
		"  p: {kind: postgres, conninfo: \"password=x\", connect_timeout: 9999s}\n" /* 13 */
		"  l: {kind: ldap, url: x, bind_dn: cn=a, password_secret: rel}\n"       /* 14 */
		"  z: {kind: nosuch}\n"                              /* 15 */
		"  w: {kind: webhook, url: \"http://h/\", secret: rel, allow_private_addresses: "
		"maybe}\n"                                           /* 16 */
		"colour: blue\n"                                     /* 17 */
		"http: {header_limit: 12, per_address_connections: many}\n"  /* 18 */
		"tokens: {default_lifetime: 90q}\n";                 /* 19 */
	gh_config c;

	CHECK_INT(parse(&c, bad), GH_EINVALID);
	CHECK(problem(&c, "secrets.rel.file", 2, 9, "absolute path"));
	CHECK(problem(&c, "secrets.both", 3, 3, "exactly one of"));
	CHECK(problem(&c, "secrets.Bad_Name", 4, 3, "secret name is not a name"));
	CHECK(problem(&c, "secrets.e.env", 5, 7, "environment variable name"));
	CHECK(problem(&c, "connectors.x.command", 9, 5, "absolute path"));
	CHECK(problem(&c, "connectors.x.shell", 10, 5, "unknown key"));
	CHECK(problem(&c, "connectors.y.url", 11, 22, "http:// or https://"));
	CHECK(problem(&c, "connectors.y.secret", 11, 39, "not declared under secrets"));
	CHECK(problem(&c, "connectors.manual", 12, 3, "built-in"));
	CHECK(problem(&c, "connectors.p.conninfo", 13, 23, "must not hold a password"));
	CHECK(problem(&c, "connectors.p.connect_timeout", 13, 47, "between 1s and 5m"));
	CHECK(problem(&c, "connectors.l.url", 14, 19, "ldap://"));
	CHECK(problem(&c, "connectors.l", 14, 3, "missing required key \"group_base\""));
	CHECK(problem(&c, "connectors.z.kind", 15, 7, "must be one of postgres"));
	CHECK(problem(&c, "connectors.w.allow_private_addresses", 16, 53, "true or false"));
	CHECK(problem(&c, "colour", 17, 1, "unknown key"));
	CHECK(problem(&c, "http.header_limit", 18, 8, "from 1024"));
	CHECK(problem(&c, "http.per_address_connections", 18, 26, "whole number"));
	CHECK(problem(&c, "tokens.default_lifetime", 19, 10, "duration"));
	/* a pasted secret is not echoed */
	for (size_t i = 0; i < json_array_size(c.doc.problems); i++)
		CHECK(NULL == strstr(json_string_value(json_object_get(json_array_get(c.doc.problems, i),
								"message")), "hunter2"));
	gh_config_free(&c);
}

static void test_config_parse__duplicates_and_syntax(void)
{
	gh_config c;

	CHECK_INT(parse(&c, "connectors:\n  a: {kind: exec, command: [/bin/true]}\n"
			    "  a: {kind: exec, command: [/bin/false]}\n"), GH_EINVALID);
	CHECK(json_array_size(c.doc.problems) >= 1);
	CHECK(json_integer_value(json_object_get(json_array_get(c.doc.problems, 0), "line")) == 3);
	gh_config_free(&c);
	CHECK_INT(parse(&c, "connectors: [\n"), GH_EINVALID);
	gh_config_free(&c);
	CHECK_INT(parse(&c, "- a\n- b\n"), GH_EINVALID);
	gh_config_free(&c);
	CHECK_INT(gh_config_load(&c, "/nonexistent/gatehouse.yaml"), GH_ENOTFOUND);
	gh_config_free(&c);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"config_parse__good_file", test_config_parse__good_file},
		{"config_parse__empty_file_configures_nothing",
		 test_config_parse__empty_file_configures_nothing},
		{"config_parse__every_problem_with_its_line",
		 test_config_parse__every_problem_with_its_line},
		{"config_parse__duplicates_and_syntax", test_config_parse__duplicates_and_syntax},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
