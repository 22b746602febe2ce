/* test_connect_ldap.c - the ldap connector against a real slapd on loopback
 * (tests/support/slapd_server.sh), checked by reading the directory back. */
#include "common/error.h"
#include "connect/connect.h"
#include "connect_fixture.h"
#include "harness.h"

#include <jansson.h>
#include <ldap.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE "dc=example,dc=org"
#define DEVELOPERS "cn=developers,ou=groups," BASE
#define OPERATORS "cn=operators,ou=groups," BASE
#define SOLO "cn=solo,ou=groups," BASE
#define PLACEHOLDER "cn=placeholder," BASE
#define TEMPLATE "uid={account},ou=people," BASE

static char script[PATH_MAX], dir[PATH_MAX], url[256], pwfile[PATH_MAX], password[128];
static int running;

/* The script next to the sources: from the repository root (tests/run.sh) or
 * from the build directory's parent. */
static int script_find(void)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	snprintf(script, sizeof(script), "tests/support/slapd_server.sh");
	if (access(script, X_OK) == 0)
		return 0;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')))
		*slash = '\0';
	if (snprintf(script, sizeof(script), "%s/../tests/support/slapd_server.sh", exe) >=
	    (int)sizeof(script))
		return -1;
	return access(script, X_OK);
}

/* Starts (or restarts) slapd in dir; reads url= and password_file= back. */
static int server_start(void)
{
	char cmd[3 * PATH_MAX], line[PATH_MAX + 32];
	FILE *p;
	int ok = 0;

	snprintf(cmd, sizeof(cmd), "'%s' start '%s' %d", script, dir, (int)getpid());
	if (!(p = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "url=", 4) == 0)
			ok += snprintf(url, sizeof(url), "%s", line + 4) < (int)sizeof(url);
		else if (strncmp(line, "password_file=", 14) == 0)
			ok += snprintf(pwfile, sizeof(pwfile), "%s", line + 14) < (int)sizeof(pwfile);
	}
	if (pclose(p) != 0 || ok != 2)
		return -1;
	running = 1;
	return 0;
}

static void server_stop(void)
{
	char cmd[3 * PATH_MAX];

	if (!running)
		return;
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s'", script, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "stopping slapd failed\n");
	running = 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The settings of an ldap instance of a server configuration. */
static json_t *settings_for(const char *tmpl, int timeout)
{
	char text[PATH_MAX + 1024];

	snprintf(text, sizeof(text), "secrets:\n  ldap-bind: {file: \"%s\"}\nconnectors:\n"
		 "  corp-ldap:\n    kind: ldap\n    url: \"%s\"\n    bind_dn: \"cn=admin," BASE
		 "\"\n    password_secret: ldap-bind\n    group_base: \"" BASE "\"\n"
		 "    member_dn_template: \"%s\"\n    timeout: %ds\n", pwfile, url, tmpl, timeout);
	return cx_instance(text, "corp-ldap", NULL);
}

static json_t *settings(void)
{
	return settings_for(TEMPLATE, 2);
}

static gh_conn_job job_of(const char *op, const char *account, const char *target)
{
	gh_conn_job j;

	memset(&j, 0, sizeof(j));
	j.op = op;
	j.job_id = "job_0000000000000001";
	j.grant_id = "grt_0000000000000001";
	j.system_id = "sys_0000000000000001";
	j.system_name = "directory";
	j.account = account;
	j.target = target;
	j.attempt = 1;
	return j;
}

/* Runs op for account on target with s; keeps the receipt in *receipt when given. */
static int run(const json_t *s, const char *op, const char *account, const char *target,
	       json_t **receipt)
{
	gh_conn_job j = job_of(op, account, target);
	json_t *r = NULL;
	int rc = gh_connector_ldap.apply(s, &j, &r);

	if (receipt)
		*receipt = r;
	else
		json_decref(r);
	return rc;
}

static int do_grant(const char *account, const char *target)
{
	json_t *s = settings();
	int rc = run(s, "grant", account, target, NULL);

	json_decref(s);
	return rc;
}

static int do_revoke(const char *account, const char *target)
{
	json_t *s = settings();
	int rc = run(s, "revoke", account, target, NULL);

	json_decref(s);
	return rc;
}

/* The test's own view of the directory, bound as the admin. */
static LDAP *admin(void)
{
	struct berval cred = {strlen(password), password};
	int v3 = LDAP_VERSION3;
	LDAP *ld = NULL;

	if (ldap_initialize(&ld, url) != LDAP_SUCCESS)
		return NULL;
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	if (ldap_sasl_bind_s(ld, "cn=admin," BASE, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL) !=
	    LDAP_SUCCESS) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/* Does group hold member? Asked through the server's DN matching (a filter on
 * the escaped DN), not by comparing strings. */
static int has_member(const char *group, const char *member)
{
	struct berval in = {strlen(member), (char *)member}, esc = {0, NULL};
	char *attrs[] = {"1.1", NULL}, filter[1024];
	LDAPMessage *res = NULL;
	LDAP *ld = admin();
	int found = -1;

	if (!ld || ldap_bv2escaped_filter_value(&in, &esc) != 0)
		goto cleanup;
	snprintf(filter, sizeof(filter), "(member=%s)", esc.bv_val);
	if (ldap_search_ext_s(ld, group, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, NULL, 1,
			      &res) == LDAP_SUCCESS)
		found = ldap_count_entries(ld, res);
cleanup:
	if (res)
		ldap_msgfree(res);
	ber_memfree(esc.bv_val);
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return found;
}

static int member_count(const char *group)
{
	char *attrs[] = {"member", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **vals = NULL;
	LDAP *ld = admin();
	int n = -1;

	if (ld && ldap_search_ext_s(ld, group, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
				    NULL, NULL, 1, &res) == LDAP_SUCCESS &&
	    (e = ldap_first_entry(ld, res))) {
		vals = ldap_get_values_len(ld, e, "member");
		n = vals ? ldap_count_values_len(vals) : 0;
	}
	if (vals)
		ldap_value_free_len(vals);
	if (res)
		ldap_msgfree(res);
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return n;
}

/* Adds or deletes one member value behind the connector's back. */
static int modify_member(const char *group, int op, const char *member)
{
	struct berval v = {strlen(member), (char *)member}, *vals[] = {&v, NULL};
	LDAPMod mod = {.mod_op = op | LDAP_MOD_BVALUES, .mod_type = "member",
		       .mod_vals = {.modv_bvals = vals}};
	LDAPMod *mods[] = {&mod, NULL};
	LDAP *ld = admin();
	int rc;

	if (!ld)
		return -1;
	rc = ldap_modify_ext_s(ld, group, mods, NULL, NULL);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}

static int has_field(const char *field, const char *word)
{
	const json_t *fields = gh_error_last()->fields;
	size_t i;
	json_t *f;

	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "field"));
		const char *reason = json_string_value(json_object_get(f, "reason"));

		if (name && strcmp(name, field) == 0 && (!word || (reason && strstr(reason, word))))
			return 1;
	}
	return 0;
}

static const char *message(void)
{
	return gh_error_last()->message;
}

static void test_connect_ldap_check__accepts_good_settings(void)
{
	json_t *s = settings();

	gh_error_clear();
	CHECK_INT(gh_connector_check("ldap", s), 0);
	json_object_set_new(s, "member_attribute", json_string("uniqueMember"));
	json_object_set_new(s, "account_attribute", json_string("ldap_uid"));
	json_object_set_new(s, "timeout", json_integer(30));
	json_object_set_new(s, "member_dn_template",
			    json_string("cn=svc-{account}+ou=robots,ou=people," BASE));
	CHECK_INT(gh_connector_check("ldap", s), 0);
	json_object_set_new(s, "url", json_string("ldaps://ldap.example.org:636"));
	CHECK_INT(gh_connector_check("ldap", s), 0);
	json_decref(s);
}

/* One bad setting: the problem is reported on field, its reason holding word. */
static void bad_setting(const char *key, json_t *value, const char *field, const char *word)
{
	json_t *s = settings();

	if (value)
		json_object_set_new(s, key, value);
	else
		json_object_del(s, key);
	gh_error_clear();
	if (!CHECK_INT(gh_connector_check("ldap", s), GH_EINVALID) || !CHECK(has_field(field, word)))
		fprintf(stderr, "    for %s: %s\n", key, message());
	json_decref(s);
}

static void test_connect_ldap_check__names_the_bad_field(void)
{
	json_t *s;

	bad_setting("url", NULL, "connector_settings.url", "required");
	bad_setting("url", json_string("http://127.0.0.1:389"), "connector_settings.url", "ldap");
	bad_setting("bind_dn", NULL, "connector_settings.bind_dn", "required");
	bad_setting("bind_dn", json_string("not a dn"), "connector_settings.bind_dn", "DN");
	bad_setting("password_ref", NULL, "connector_settings.password_ref", "required");
	bad_setting("password_ref", json_string("vault:x"), "connector_settings.password_ref",
		    "env:");
	bad_setting("member_dn_template", NULL, "connector_settings.member_dn_template",
		    "required");
	bad_setting("member_dn_template", json_string("uid=fixed,ou=people," BASE),
		    "connector_settings.member_dn_template", "{account}");
	bad_setting("member_dn_template", json_string("uid={account}+cn={account}," BASE),
		    "connector_settings.member_dn_template", "once");
	bad_setting("member_dn_template", json_string("{account}=x," BASE),
		    "connector_settings.member_dn_template", "attribute value");
	bad_setting("member_dn_template", json_string("uid={account},,"),
		    "connector_settings.member_dn_template", "DN");
	bad_setting("member_attribute", json_string("member; drop"),
		    "connector_settings.member_attribute", NULL);
	bad_setting("timeout", json_integer(0), "connector_settings.timeout", "seconds");
	bad_setting("timeout", json_string("5"), "connector_settings.timeout", "seconds");
	/* a secret inline and an unknown key are refused before the kind looks */
	bad_setting("password", json_string("hunter2"), "connector_settings", "password_ref");
	bad_setting("bind_password", json_string("hunter2"), "connector_settings", "_ref");
	bad_setting("base_dn", json_string(BASE), "connector_settings", "base_dn");
	CHECK(!strstr(message(), "hunter2"));

	/* all problems at once */
	s = json_pack("{s:s}", "password_ref", "env:X");
	gh_error_clear();
	CHECK_INT(gh_connector_check("ldap", s), GH_EINVALID);
	CHECK(has_field("connector_settings.url", NULL));
	CHECK(has_field("connector_settings.bind_dn", NULL));
	CHECK(has_field("connector_settings.member_dn_template", NULL));
	json_decref(s);
	gh_error_clear();
	CHECK_INT(gh_connector_check("ldap", NULL), GH_EINVALID);
	CHECK(has_field("connector_settings", "url"));
}

static void test_connect_ldap_grant__adds_the_member_from_the_template(void)
{
	json_t *s = settings(), *r = NULL;

	CHECK_INT(has_member(DEVELOPERS, "uid=alice,ou=people," BASE), 0);
	CHECK_INT(run(s, "grant", "alice", DEVELOPERS, &r), 0);
	CHECK_INT(has_member(DEVELOPERS, "uid=alice,ou=people," BASE), 1);
	CHECK_INT(member_count(DEVELOPERS), 2);
	CHECK_STR(json_string_value(json_object_get(r, "member")), "uid=alice,ou=people," BASE);
	CHECK_STR(json_string_value(json_object_get(r, "group")), DEVELOPERS);
	CHECK(json_is_true(json_object_get(r, "changed")));
	json_decref(r);

	/* again: already there, success, nothing changed */
	CHECK_INT(run(s, "grant", "alice", DEVELOPERS, &r), 0);
	CHECK(json_is_false(json_object_get(r, "changed")));
	CHECK_INT(member_count(DEVELOPERS), 2);
	json_decref(r);
	json_decref(s);
}

static void test_connect_ldap_revoke__removes_it_and_again_succeeds(void)
{
	json_t *s = settings(), *r = NULL;

	CHECK_INT(do_grant("alice", DEVELOPERS), 0);
	CHECK_INT(run(s, "revoke", "alice", DEVELOPERS, &r), 0);
	CHECK(json_is_true(json_object_get(r, "changed")));
	json_decref(r);
	CHECK_INT(has_member(DEVELOPERS, "uid=alice,ou=people," BASE), 0);
	CHECK_INT(has_member(DEVELOPERS, PLACEHOLDER), 1);

	CHECK_INT(run(s, "revoke", "alice", DEVELOPERS, &r), 0);
	CHECK(json_is_false(json_object_get(r, "changed")));
	json_decref(r);
	CHECK_INT(member_count(DEVELOPERS), 1);
	json_decref(s);
}

/* groupOfNames needs a member: the last one cannot go, and the message says
 * why; with another member present it goes. */
static void test_connect_ldap_revoke__of_the_last_member_is_refused(void)
{
	char ldif[PATH_MAX + 16], cmd[4 * PATH_MAX];
	FILE *f;

	snprintf(ldif, sizeof(ldif), "%s/lonely.ldif", gh_test_tmpdir());
	if (!CHECK((f = fopen(ldif, "w")) != NULL))
		return;
	fprintf(f, "dn: cn=lonely,ou=groups," BASE "\nobjectClass: groupOfNames\ncn: lonely\n"
		   "member: uid=dave,ou=people," BASE "\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' add '%s' '%s'", script, dir, ldif);
	CHECK_INT(system(cmd), 0);

	CHECK_INT(do_revoke("dave", "cn=lonely,ou=groups," BASE), GH_EINVALID);
	CHECK(strstr(message(), "cn=lonely,ou=groups," BASE) != NULL);
	CHECK(strstr(message(), "placeholder") != NULL);
	CHECK_INT(has_member("cn=lonely,ou=groups," BASE, "uid=dave,ou=people," BASE), 1);

	CHECK_INT(do_grant("erin", "cn=lonely,ou=groups," BASE), 0);
	CHECK_INT(do_revoke("dave", "cn=lonely,ou=groups," BASE), 0);
	CHECK_INT(member_count("cn=lonely,ou=groups," BASE), 1);
	CHECK_INT(do_revoke("dave", "cn=lonely,ou=groups," BASE), 0);
}

static void test_connect_ldap_apply__missing_group_is_invalid_and_named(void)
{
	const char *nope = "cn=nope,ou=groups," BASE;
	const char *targets[] = {DEVELOPERS, nope};
	gh_conn_access *a = NULL;
	size_t n = 0;
	json_t *s = settings();

	CHECK_INT(do_grant("alice", nope), GH_EINVALID);
	CHECK(strstr(message(), nope) != NULL);
	CHECK_INT(do_revoke("alice", nope), GH_EINVALID);
	CHECK(strstr(message(), nope) != NULL);
	CHECK_INT(gh_connector_ldap.list(s, targets, 2, &a, &n), GH_EINVALID);
	CHECK(strstr(message(), nope) != NULL);
	CHECK(a == NULL && n == 0);
	CHECK_INT(do_grant("alice", "not a dn"), GH_EINVALID);
	CHECK(strstr(message(), "not a dn") != NULL);
	CHECK_INT(run(s, "rename", "alice", DEVELOPERS, NULL), GH_EINVALID);
	CHECK_INT(do_grant("", DEVELOPERS), GH_EINVALID);
	CHECK_INT(do_grant("line\nbreak", DEVELOPERS), GH_EINVALID);
	json_decref(s);
}

static int access_has(const gh_conn_access *a, size_t n, const char *account, const char *target)
{
	int count = 0;

	for (size_t i = 0; i < n; i++)
		count += strcmp(a[i].account, account) == 0 && strcmp(a[i].target, target) == 0;
	return count;
}

static void test_connect_ldap_list__maps_members_back_for_the_given_targets(void)
{
	const char *targets[] = {DEVELOPERS, OPERATORS};
	gh_conn_access *a = NULL;
	json_t *s = settings();
	size_t n = 0;

	CHECK_INT(do_grant("alice", DEVELOPERS), 0);
	CHECK_INT(do_grant("bob", DEVELOPERS), 0);
	CHECK_INT(do_grant("carol", OPERATORS), 0);
	/* behind the connector's back: another shape, and another spelling */
	CHECK_INT(modify_member(DEVELOPERS, LDAP_MOD_ADD, "cn=svc,ou=groups," BASE), 0);
	CHECK_INT(modify_member(OPERATORS, LDAP_MOD_ADD, "UID=Dave,OU=People,DC=Example,DC=Org"), 0);

	CHECK_INT(gh_connector_ldap.list(s, targets, 2, &a, &n), 0);
	CHECK_INT(n, 4);
	CHECK_INT(access_has(a, n, "alice", DEVELOPERS), 1);
	CHECK_INT(access_has(a, n, "bob", DEVELOPERS), 1);
	CHECK_INT(access_has(a, n, "carol", OPERATORS), 1);
	CHECK_INT(access_has(a, n, "Dave", OPERATORS), 1);
	CHECK_INT(access_has(a, n, "carol", SOLO), 0); /* not asked for */
	gh_conn_access_free(a, n);

	/* just one target; none at all */
	CHECK_INT(gh_connector_ldap.list(s, targets + 1, 1, &a, &n), 0);
	CHECK_INT(n, 2);
	gh_conn_access_free(a, n);
	CHECK_INT(gh_connector_ldap.list(s, targets, 0, &a, &n), 0);
	CHECK_INT(n, 0);
	gh_conn_access_free(a, n);

	CHECK_INT(do_revoke("alice", DEVELOPERS), 0);
	CHECK_INT(do_revoke("bob", DEVELOPERS), 0);
	CHECK_INT(do_revoke("carol", OPERATORS), 0);
	CHECK_INT(do_revoke("Dave", OPERATORS), 0); /* the server matches DNs without case */
	CHECK_INT(modify_member(DEVELOPERS, LDAP_MOD_DELETE, "cn=svc,ou=groups," BASE), 0);
	CHECK_INT(member_count(DEVELOPERS), 1);
	CHECK_INT(member_count(OPERATORS), 1);
	json_decref(s);
}

/* The account is one attribute value, whatever it holds. */
static void test_connect_ldap_grant__escapes_the_account(void)
{
	const char *accounts[] = {"x,ou=groups",   "a+cn=admin", "q\"uote",	 "back\\slash",
				  "<angle>",	   "semi;colon", "eq=uals",	 "#hash",
				  " lead",	   "trail ",	 "*)(uid=*)", "caf\xc3\xa9",
				  "uid=admin,dc=example,dc=org", NULL};
	const char *targets[] = {OPERATORS};
	gh_conn_access *a = NULL;
	json_t *s = settings(), *r;
	size_t n = 0;
	int i;

	for (i = 0; accounts[i]; i++) {
		LDAPDN dn = NULL;
		const char *member;

		r = NULL;
		if (!CHECK_INT(run(s, "grant", accounts[i], OPERATORS, &r), 0)) {
			fprintf(stderr, "    account \"%s\": %s\n", accounts[i], message());
			continue;
		}
		member = json_string_value(json_object_get(r, "member"));
		CHECK(member && ldap_str2dn(member, &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS);
		if (dn) {
			/* uid=<account>,ou=people,dc=example,dc=org: four RDNs of one AVA */
			CHECK(dn[0] && dn[1] && dn[2] && dn[3] && !dn[4] && !dn[0][1]);
			CHECK_INT(dn[0][0]->la_value.bv_len, strlen(accounts[i]));
			CHECK(memcmp(dn[0][0]->la_value.bv_val, accounts[i], strlen(accounts[i])) ==
			      0);
			ldap_dnfree(dn);
		}
		CHECK_INT(has_member(OPERATORS, member), 1);
		json_decref(r);
	}
	CHECK_INT(member_count(OPERATORS), i + 1);
	CHECK_INT(has_member(OPERATORS, "uid=x,ou=groups,ou=people," BASE), 0);
	CHECK_INT(gh_connector_ldap.list(s, targets, 1, &a, &n), 0);
	CHECK_INT(n, (size_t)i);
	for (i = 0; accounts[i]; i++)
		CHECK_INT(access_has(a, n, accounts[i], OPERATORS), 1);
	gh_conn_access_free(a, n);
	for (i = 0; accounts[i]; i++)
		CHECK_INT(run(s, "revoke", accounts[i], OPERATORS, NULL), 0);
	CHECK_INT(member_count(OPERATORS), 1);
	json_decref(s);
}

/* {account} inside a value, with text around it. */
static void test_connect_ldap_list__template_with_text_around_the_account(void)
{
	json_t *s = settings_for("cn=svc-{account}.bot,ou=people," BASE, 2), *r = NULL;
	const char *targets[] = {DEVELOPERS};
	gh_conn_access *a = NULL;
	size_t n = 0;

	CHECK_INT(run(s, "grant", "zed", DEVELOPERS, &r), 0);
	CHECK_STR(json_string_value(json_object_get(r, "member")),
		  "cn=svc-zed.bot,ou=people," BASE);
	json_decref(r);
	CHECK_INT(modify_member(DEVELOPERS, LDAP_MOD_ADD, "cn=svc-.bot,ou=people," BASE), 0);
	CHECK_INT(gh_connector_ldap.list(s, targets, 1, &a, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(access_has(a, n, "zed", DEVELOPERS), 1);
	gh_conn_access_free(a, n);
	CHECK_INT(run(s, "revoke", "zed", DEVELOPERS, NULL), 0);
	CHECK_INT(modify_member(DEVELOPERS, LDAP_MOD_DELETE, "cn=svc-.bot,ou=people," BASE), 0);
	json_decref(s);
}

static void test_connect_ldap_apply__server_down_is_an_error_until_it_is_back(void)
{
	const char *targets[] = {DEVELOPERS};
	gh_conn_access *a = NULL;
	json_t *s = settings();
	size_t n = 0;
	double t;

	server_stop();
	t = now_ms();
	CHECK_INT(do_grant("alice", DEVELOPERS), GH_ERROR);
	CHECK(now_ms() - t < 3000);
	CHECK(strstr(message(), url) != NULL);
	CHECK(!strstr(message(), password));
	CHECK_INT(gh_connector_ldap.list(s, targets, 1, &a, &n), GH_ERROR);
	CHECK(a == NULL && n == 0);
	CHECK_INT(server_start(), 0);
	CHECK_INT(do_grant("alice", DEVELOPERS), 0);
	CHECK_INT(has_member(DEVELOPERS, "uid=alice,ou=people," BASE), 1);
	CHECK_INT(do_revoke("alice", DEVELOPERS), 0);
	json_decref(s);
}

/* A server that accepts the connection and never answers: the timeout ends it. */
static void test_connect_ldap_apply__hung_server_times_out(void)
{
	char pidfile[PATH_MAX + 16];
	json_t *s = settings_for(TEMPLATE, 1);
	FILE *f;
	int pid = 0;
	double t;

	snprintf(pidfile, sizeof(pidfile), "%s/slapd.pid", dir);
	if (!CHECK((f = fopen(pidfile, "r")) != NULL))
		goto cleanup;
	CHECK_INT(fscanf(f, "%d", &pid), 1);
	fclose(f);
	if (!CHECK(pid > 0) || !CHECK_INT(kill(pid, SIGSTOP), 0))
		goto cleanup;
	t = now_ms();
	CHECK_INT(run(s, "grant", "alice", DEVELOPERS, NULL), GH_ERROR);
	t = now_ms() - t;
	CHECK(t >= 900 && t < 3500);
	printf("hung server: GH_ERROR after %.0f ms (timeout 1 s): %s\n", t, message());
	kill(pid, SIGCONT);
	CHECK_INT(do_grant("alice", DEVELOPERS), 0);
	CHECK_INT(do_revoke("alice", DEVELOPERS), 0);
cleanup:
	json_decref(s);
}

static void test_connect_ldap_bind__password_by_reference_never_in_errors(void)
{
	char wrong[PATH_MAX + 16], ref[PATH_MAX + 24];
	json_t *s = settings(), *r = NULL;
	FILE *f;

	/* from the environment */
	setenv("GH_TEST_LDAP_PASSWORD", password, 1);
	json_object_set_new(s, "password_ref", json_string("env:GH_TEST_LDAP_PASSWORD"));
	CHECK_INT(run(s, "grant", "alice", DEVELOPERS, &r), 0);
	{
		char *text = json_dumps(r, 0);

		CHECK(text && !strstr(text, password));
		free(text);
	}
	json_decref(r);
	CHECK_INT(run(s, "revoke", "alice", DEVELOPERS, NULL), 0);
	unsetenv("GH_TEST_LDAP_PASSWORD");

	/* missing: the settings' fault, the ref named */
	CHECK_INT(run(s, "grant", "alice", DEVELOPERS, NULL), GH_EINVALID);
	CHECK(strstr(message(), "env:GH_TEST_LDAP_PASSWORD") != NULL);

	/* wrong: refused by the server, neither password in the message */
	snprintf(wrong, sizeof(wrong), "%s/wrong-password", gh_test_tmpdir());
	if (!CHECK((f = fopen(wrong, "w")) != NULL))
		goto cleanup;
	fputs("not-the-Password-42\n", f);
	fclose(f);
	snprintf(ref, sizeof(ref), "file:%s", wrong);
	json_object_set_new(s, "password_ref", json_string(ref));
	CHECK_INT(run(s, "grant", "alice", DEVELOPERS, NULL), GH_EINVALID);
	CHECK(strstr(message(), "cn=admin," BASE) != NULL);
	CHECK(strstr(message(), "nvalid credentials") != NULL);
	CHECK(!strstr(message(), "not-the-Password-42"));
	CHECK(!strstr(message(), password));
	CHECK_INT(has_member(DEVELOPERS, "uid=alice,ou=people," BASE), 0);
cleanup:
	json_decref(s);
}

#define THREADS 4
#define ROUNDS 10

static void *worker(void *arg)
{
	char account[32];
	long failures = 0;

	snprintf(account, sizeof(account), "worker%ld", (long)(intptr_t)arg);
	for (int i = 0; i < ROUNDS; i++) {
		failures += do_grant(account, i % 2 ? DEVELOPERS : OPERATORS) != 0;
		failures += do_revoke(account, i % 2 ? DEVELOPERS : OPERATORS) != 0;
	}
	return (void *)(intptr_t)failures;
}

static void test_connect_ldap_apply__from_several_threads(void)
{
	pthread_t t[THREADS];
	void *failures;

	for (long i = 0; i < THREADS; i++)
		CHECK_INT(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++) {
		CHECK_INT(pthread_join(t[i], &failures), 0);
		CHECK_INT((intptr_t)failures, 0);
	}
	CHECK_INT(member_count(DEVELOPERS), 1);
	CHECK_INT(member_count(OPERATORS), 1);
}

/* Per call: connect, bind, one operation, unbind. Printed for the report. */
static void test_connect_ldap_apply__per_call_time(void)
{
	const char *targets[] = {DEVELOPERS, OPERATORS};
	gh_conn_access *a = NULL;
	json_t *s = settings();
	double t0, t1, t2, t3;
	size_t n = 0;
	int calls = 50, bad = 0;
	char account[32];

	t0 = now_ms();
	for (int i = 0; i < calls; i++) {
		snprintf(account, sizeof(account), "timing%d", i);
		bad += run(s, "grant", account, DEVELOPERS, NULL) != 0;
	}
	t1 = now_ms();
	for (int i = 0; i < calls; i++) {
		bad += gh_connector_ldap.list(s, targets, 2, &a, &n) != 0 || n != (size_t)calls;
		gh_conn_access_free(a, n);
	}
	t2 = now_ms();
	for (int i = 0; i < calls; i++) {
		snprintf(account, sizeof(account), "timing%d", i);
		bad += run(s, "revoke", account, DEVELOPERS, NULL) != 0;
	}
	t3 = now_ms();
	CHECK_INT(bad, 0);
	printf("per call: grant %.2f ms, list (2 groups, %d members) %.2f ms, revoke %.2f ms\n",
	       (t1 - t0) / calls, calls, (t2 - t1) / calls, (t3 - t2) / calls);
	CHECK((t3 - t0) / (3 * calls) < 250);
	json_decref(s);
}

static const gh_test_case cases[] = {
	{"test_connect_ldap_check__accepts_good_settings",
	 test_connect_ldap_check__accepts_good_settings},
	{"test_connect_ldap_check__names_the_bad_field", test_connect_ldap_check__names_the_bad_field},
	{"test_connect_ldap_grant__adds_the_member_from_the_template",
	 test_connect_ldap_grant__adds_the_member_from_the_template},
	{"test_connect_ldap_revoke__removes_it_and_again_succeeds",
	 test_connect_ldap_revoke__removes_it_and_again_succeeds},
	{"test_connect_ldap_revoke__of_the_last_member_is_refused",
	 test_connect_ldap_revoke__of_the_last_member_is_refused},
	{"test_connect_ldap_apply__missing_group_is_invalid_and_named",
	 test_connect_ldap_apply__missing_group_is_invalid_and_named},
	{"test_connect_ldap_list__maps_members_back_for_the_given_targets",
	 test_connect_ldap_list__maps_members_back_for_the_given_targets},
	{"test_connect_ldap_grant__escapes_the_account", test_connect_ldap_grant__escapes_the_account},
	{"test_connect_ldap_list__template_with_text_around_the_account",
	 test_connect_ldap_list__template_with_text_around_the_account},
	{"test_connect_ldap_apply__server_down_is_an_error_until_it_is_back",
	 test_connect_ldap_apply__server_down_is_an_error_until_it_is_back},
	{"test_connect_ldap_apply__hung_server_times_out",
	 test_connect_ldap_apply__hung_server_times_out},
	{"test_connect_ldap_bind__password_by_reference_never_in_errors",
	 test_connect_ldap_bind__password_by_reference_never_in_errors},
	{"test_connect_ldap_apply__from_several_threads",
	 test_connect_ldap_apply__from_several_threads},
	{"test_connect_ldap_apply__per_call_time", test_connect_ldap_apply__per_call_time},
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s/slapd", gh_test_tmpdir());
	if (script_find() != 0 || server_start() != 0) {
		fprintf(stderr, "cannot start slapd with %s in %s\n", script, dir);
		server_stop();
		return 1;
	}
	atexit(server_stop);
	if (!(f = fopen(pwfile, "r")) || !fgets(password, sizeof(password), f)) {
		fprintf(stderr, "cannot read %s\n", pwfile);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	password[strcspn(password, "\r\n")] = '\0';
	return gh_test_run(cases, argc, argv);
}
