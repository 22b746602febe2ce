/* test_cli_yaml.c - the strict YAML loader, its schema checks and the catalog file checks of `gatehouse apply`. */
#include "cli/cli.h"
#include "common/yaml_load.h"
#include "common/error.h"
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

static int load(gh_yaml_doc *d, const char *text)
{
	return gh_yaml_load(d, text, strlen(text));
}

/* The problem at path whose message holds what, or NULL. */
static json_t *problem(const gh_yaml_doc *d, const char *path, const char *what)
{
	for (size_t i = 0; i < json_array_size(d->problems); i++) {
		json_t *p = json_array_get(d->problems, i);
		const char *pp = json_string_value(json_object_get(p, "path"));
		const char *msg = json_string_value(json_object_get(p, "message"));

		if (pp && msg && strcmp(pp, path) == 0 && strstr(msg, what))
			return p;
	}
	return NULL;
}

static int at(const json_t *p, long line, long col)
{
	return p && json_integer_value(json_object_get(p, "line")) == line &&
	       json_integer_value(json_object_get(p, "column")) == col;
}

static const char *sget(const json_t *v, const char *key)
{
	return json_string_value(json_object_get(v, key));
}

static void test_yaml_load__scalars_stay_strings(void)
{
	gh_yaml_doc d;

	CHECK_INT(load(&d, "a: true\nb: 1\nc: null\nd: 'x y'\ne: \"q\\tz\"\nf: |\n  line one\n"
			   "  line two\ng:\nh: NO\n"), 0);
	CHECK_STR(sget(d.root, "a"), "true");
	CHECK_STR(sget(d.root, "b"), "1");
	CHECK_STR(sget(d.root, "c"), "null");
	CHECK_STR(sget(d.root, "d"), "x y");
	CHECK_STR(sget(d.root, "e"), "q\tz");
	CHECK_STR(sget(d.root, "f"), "line one\nline two\n");
	CHECK_STR(sget(d.root, "g"), "");
	CHECK_STR(sget(d.root, "h"), "NO");
	CHECK_INT(json_array_size(d.problems), 0);
	gh_yaml_doc_free(&d);
}

static void test_yaml_load__collections_and_positions(void)
{
	gh_yaml_doc d;
	json_t *pos;

	CHECK_INT(load(&d, "groups:\n  - name: a\n    members: [x, {group: b}]\n  - {name: c}\n"),
		  0);
	CHECK_INT(json_array_size(json_object_get(d.root, "groups")), 2);
	CHECK_STR(sget(json_array_get(json_object_get(json_array_get(json_object_get(d.root,
		"groups"), 0), "members"), 1), "group"), "b");
	pos = json_object_get(d.where, "groups[0].members");
	CHECK(pos && json_integer_value(json_array_get(pos, 0)) == 3 &&
	      json_integer_value(json_array_get(pos, 1)) == 5);
	pos = json_object_get(d.where, "groups[1]");
	CHECK(pos && json_integer_value(json_array_get(pos, 0)) == 4);
	gh_yaml_doc_free(&d);
}

/* Refused YAML: the text, and the problem's path, message and line:column (0: any). */
static const struct refusal {
	const char *text, *path, *message;
	long line, column;
} refusals[] = {
	{"a: !!str x\n", "a", "tags are not allowed", 1, 4},
	{"b: &k {c: 1}\n", "b", "anchors are not allowed (&k)", 1, 4},
	{"b: {c: 1}\nd: *k\n", "d", "aliases are not allowed", 2, 4},
	{"- [a, *k]\n", "[0][1]", "aliases are not allowed", 1, 7},
	{"%TAG !e! tag:example.com,2000:\n---\na: 1\n", "", "%TAG directives are not allowed",
	 0, 0},
	{"a: 1\nb: 2\na: 3\n", "a", "duplicate key", 3, 1},
	{"a: 1\n---\na: 2\n", "", "only one document", 2, 1},
	{"? [a, b]\n: c\n", "", "a key must be a plain or quoted scalar", 0, 0},
	{"a: \"x\\0y\"\n", "a", "NUL", 1, 4},
};

static void test_yaml_load__refuses_what_is_not_plain_data(void)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		gh_yaml_doc d;
		json_t *p;

		CHECK_INT(load(&d, r->text), GH_EINVALID);
		p = problem(&d, r->path, r->message);
		if (!CHECK(p != NULL))
			fprintf(stderr, "    case %zu: %s\n", i, r->text);
		else if (r->line && !CHECK(at(p, r->line, r->column)))
			fprintf(stderr, "    case %zu: at %lld:%lld\n", i,
				(long long)json_integer_value(json_object_get(p, "line")),
				(long long)json_integer_value(json_object_get(p, "column")));
		gh_yaml_doc_free(&d);
	}
}

static void test_yaml_load__syntax_error_names_line_and_column(void)
{
	gh_yaml_doc d;

	CHECK_INT(load(&d, "version: 1\ngroups:\n  - name: a\n   bad: [\n"), GH_EINVALID);
	CHECK_INT(json_array_size(d.problems), 1);
	CHECK(json_integer_value(json_object_get(json_array_get(d.problems, 0), "line")) >= 4);
	gh_yaml_doc_free(&d);
}

static void test_yaml_load__bounded_depth_and_size(void)
{
	gh_yaml_doc d;
	char deep[200] = "";
	char *big;

	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	CHECK_INT(load(&d, deep), GH_EINVALID);
	CHECK(problem(&d, "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
		      "[0][0][0][0][0][0][0][0]", "nested too deeply") != NULL);
	gh_yaml_doc_free(&d);

	big = malloc(GH_YAML_MAX_BYTES + 2);
	memset(big, 'a', GH_YAML_MAX_BYTES + 1);
	big[GH_YAML_MAX_BYTES + 1] = '\0';
	CHECK_INT(gh_yaml_load(&d, big, GH_YAML_MAX_BYTES + 1), GH_ETOOLARGE);
	CHECK(problem(&d, "", "larger than 1 MiB") != NULL);
	CHECK(d.root == NULL);
	gh_yaml_doc_free(&d);
	free(big);

	CHECK_INT(load(&d, ""), 0);
	CHECK(d.root == NULL);
	gh_yaml_doc_free(&d);
}

static void test_yaml_path__quotes_odd_keys(void)
{
	char out[GH_YAML_MAX_PATH];
	gh_yaml_doc d;

	gh_yaml_path_key(out, "attributes", "team");
	CHECK_STR(out, "attributes.team");
	gh_yaml_path_key(out, "attributes", "a.b c");
	CHECK_STR(out, "attributes[\"a.b c\"]");
	gh_yaml_path_index(out, "groups", 7);
	CHECK_STR(out, "groups[7]");
	gh_yaml_path_key(out, "", "version");
	CHECK_STR(out, "version");

	/* a problem below a node without a position takes its nearest ancestor's */
	CHECK_INT(load(&d, "x:\n  \"a.b\":\n    - 1\n"), 0);
	gh_yaml_problem(&d, "x[\"a.b\"][0].nothing.here", "test");
	CHECK(at(problem(&d, "x[\"a.b\"][0].nothing.here", "test"), 3, 7));
	gh_yaml_doc_free(&d);
}

static const char *const colours[] = {"red", "green", NULL};

static const char *no_x(const char *s)
{
	return strchr(s, 'x') ? "must not hold an x" : NULL;
}

static const gh_yaml_schema s_str = {GH_YAML_STRING, .max = 8, .check = no_x};
static const gh_yaml_schema s_colour = {GH_YAML_STRING, .values = colours};
static const gh_yaml_schema s_flag = {.kind = GH_YAML_BOOL};
static const gh_yaml_schema s_count = {GH_YAML_INT, .min_int = 1, .max_int = 10};
static const gh_yaml_schema s_free = {.kind = GH_YAML_FREE_MAP};
static const gh_yaml_schema s_list = {GH_YAML_LIST, .item = &s_str, .max = 3};
static const gh_yaml_key ref_keys[] = {{"ref", 1, &s_str}, {NULL, 0, NULL}};
static const gh_yaml_schema s_either = {GH_YAML_SCALAR_OR_MAP, .keys = ref_keys, .item = &s_str};
static const gh_yaml_schema s_eithers = {GH_YAML_LIST, .item = &s_either};
static const gh_yaml_key keys[] = {
	{"name", 1, &s_str}, {"colour", 0, &s_colour}, {"on", 0, &s_flag}, {"n", 0, &s_count},
	{"attrs", 0, &s_free}, {"list", 0, &s_list}, {"refs", 0, &s_eithers},
	{NULL, 0, NULL}};
static const gh_yaml_schema s_top = {GH_YAML_MAP, .keys = keys};

static void test_yaml_check__converts_typed_scalars(void)
{
	gh_yaml_doc d;

	CHECK_INT(load(&d, "name: a\non: false\nn: 10\nattrs: {k: [1, {z: y}]}\n"
			   "refs: [p, {ref: q}]\ncolour: green\n"), 0);
	CHECK_INT(gh_yaml_check(&d, &s_top), 0);
	CHECK(json_is_false(json_object_get(d.root, "on")));
	CHECK_INT(json_integer_value(json_object_get(d.root, "n")), 10);
	CHECK_STR(json_string_value(json_array_get(json_object_get(json_object_get(d.root,
		"attrs"), "k"), 0)), "1");
	gh_yaml_doc_free(&d);
}

static void test_yaml_check__reports_every_problem_with_its_place(void)
{
	gh_yaml_doc d;

	CHECK_INT(load(&d, "colour: blue\non: yes\nn: 011\nextra: 1\nattrs: [1]\n"
			   "list: [a, b, c, d]\nrefs:\n  - [x]\n  - {ref: ax}\n  - {who: b}\n"
			   "name: {a: b}\n"), 0);
	CHECK_INT(gh_yaml_check(&d, &s_top), GH_EINVALID);
	CHECK(at(problem(&d, "colour", "must be one of red, green, not \"blue\""), 1, 1));
	CHECK(at(problem(&d, "on", "must be true or false"), 2, 1));
	CHECK(at(problem(&d, "n", "whole number from 1 to 10"), 3, 1));
	CHECK(at(problem(&d, "extra", "unknown key (expected one of name, colour"), 4, 1));
	CHECK(problem(&d, "attrs", "must be a mapping, not a list") != NULL);
	CHECK(problem(&d, "list", "more than 3 items") != NULL);
	CHECK(at(problem(&d, "refs[0]", "must be a scalar or a mapping"), 8, 5));
	CHECK(at(problem(&d, "refs[1].ref", "must not hold an x"), 9, 6));
	CHECK(problem(&d, "refs[2].who", "unknown key") != NULL);
	CHECK(problem(&d, "refs[2]", "missing required key \"ref\"") != NULL);
	CHECK(problem(&d, "name", "must be a scalar, not a mapping") != NULL);
	CHECK_INT(json_array_size(d.problems), 11);
	gh_yaml_doc_free(&d);

	CHECK_INT(load(&d, "list: [a]\n"), 0);
	CHECK_INT(gh_yaml_check(&d, &s_top), GH_EINVALID);
	CHECK(at(problem(&d, "", "missing required key \"name\""), 1, 1));
	gh_yaml_doc_free(&d);

	CHECK_INT(load(&d, "- a\n"), 0);
	CHECK_INT(gh_yaml_check(&d, &s_top), GH_EINVALID);
	CHECK(problem(&d, "", "must be a mapping, not a list") != NULL);
	gh_yaml_doc_free(&d);

	CHECK_INT(load(&d, "# only a comment\n"), 0);
	CHECK_INT(gh_yaml_check(&d, &s_top), GH_EINVALID);
	CHECK(problem(&d, "", "holds no document") != NULL);
	gh_yaml_doc_free(&d);
}

static void test_yaml_print__sorted_by_position(void)
{
	gh_yaml_doc d;
	char path[512], buf[1024] = "";
	FILE *f;
	size_t n;

	CHECK_INT(load(&d, "name: a\nn: 0\ncolour: blue\n"), 0);
	gh_yaml_check(&d, &s_top);
	gh_yaml_problem(&d, "", "first of all");
	snprintf(path, sizeof(path), "%s/problems.txt", gh_test_tmpdir());
	f = fopen(path, "w+");
	CHECK(f != NULL);
	if (!f)
		return;
	gh_yaml_print_problems(f, &d, "c.yaml");
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	CHECK_STR(buf, "c.yaml:1:1: first of all\n"
		       "c.yaml:2:1: n: must be a whole number from 1 to 10, not \"0\"\n"
		       "c.yaml:3:1: colour: must be one of red, green, not \"blue\"\n");
	gh_yaml_doc_free(&d);
}

/* --- the catalog file ------------------------------------------------------ */

static int catalog(gh_yaml_doc *d, const char *text)
{
	json_t *texts = NULL;
	int rc = gh_apply_check(d, &texts, text, strlen(text), NULL);

	json_decref(texts);
	return rc;
}

static const char *const good_catalog =
	"version: 1\n"
	"groups:\n"
	"  - name: owners\n"
	"    members: [alice, {group: leads}]\n"
	"  - name: leads\n"
	"systems:\n"
	"  - {name: db, owner: alice, connector: manual}\n"
	"entitlements:\n"
	"  - system: db\n"
	"    name: read\n"
	"    risk_tier: low\n"
	"    data_sensitivity: internal\n"
	"    environment: prod\n"
	"    control_owner_group: owners\n"
	"    max_duration: 8h\n"
	"    requestable: true\n"
	"    incompatible_with: [db/write]\n"
	"    tags: [pci]\n"
	"    attributes: {zone: a}\n"
	"  - system: db\n"
	"    name: write\n"
	"    risk_tier: medium\n"
	"    data_sensitivity: internal\n"
	"    environment: prod\n"
	"    control_owner_group: owners\n"
	"    max_duration: 4h\n"
	"    incompatible_with: [db/read]\n"
	"delegations:\n"
	"  - {from_group: owners, to_group: leads, tag: pci, expires_at: '2030-01-01T00:00:00Z',"
	" reason: holidays}\n"
	"policies:\n"
	"  - text: \"permit (principal, action, resource);\"\n"
	"    comment: all\n";

static void test_apply_check__a_good_catalog(void)
{
	gh_yaml_doc d;
	json_t *texts = NULL;

	CHECK_INT(gh_apply_check(&d, &texts, good_catalog, strlen(good_catalog), NULL), 0);
	CHECK_INT(json_array_size(d.problems), 0);
	CHECK(json_is_true(json_object_get(json_array_get(json_object_get(d.root, "entitlements"),
							  0), "requestable")));
	CHECK_INT(json_integer_value(json_object_get(d.root, "version")), 1);
	CHECK_STR(json_string_value(json_array_get(texts, 0)), "permit (principal, action, resource);");
	json_decref(texts);
	gh_yaml_doc_free(&d);
}

static void test_apply_check__file_level_mistakes(void)
{
	gh_yaml_doc d;

	CHECK_INT(catalog(&d,
		"version: 1\n"
		"groups:\n"
		"  - {name: a, members: [x, x, {group: a}]}\n"
		"  - {name: a}\n"
		"systems:\n"
		"  - {name: s, owner: o}\n"
		"  - {name: s, owner: o}\n"
		"entitlements:\n"
		"  - {system: s, name: e, risk_tier: low, data_sensitivity: public, environment: Prod,"
		" control_owner_group: a, max_duration: 8 hours, incompatible_with: [f, s/e, s/g]}\n"
		"  - {system: s, name: g, risk_tier: low, data_sensitivity: public, environment: dev,"
		" control_owner_group: a, max_duration: 1h, incompatible_with: []}\n"
		"delegations:\n"
		"  - {from_group: a, to_group: a, system: s, tag: t, expires_at: soon, reason: r}\n"
		"  - {from_group: a, to_group: b, expires_at: '2030-01-01T00:00:00Z', reason: r}\n"
		"policies:\n"
		"  - {text: x, file: y}\n"
		"  - {comment: none}\n"), GH_EINVALID);
	CHECK(problem(&d, "entitlements[0].environment", "lowercase") != NULL);
	CHECK(problem(&d, "entitlements[0].max_duration", "must be a duration") != NULL);
	CHECK(problem(&d, "delegations[0].expires_at", "RFC 3339") != NULL);
	gh_yaml_doc_free(&d);

	/* the schema passes; then the checks across items */
	CHECK_INT(catalog(&d,
		"version: 1\n"
		"groups:\n"
		"  - {name: a, members: [x, x, {group: a}]}\n"
		"  - {name: a}\n"
		"systems:\n"
		"  - {name: s, owner: o}\n"
		"  - {name: s, owner: o}\n"
		"entitlements:\n"
		"  - {system: s, name: e, risk_tier: low, data_sensitivity: public, environment: prod,"
		" control_owner_group: a, max_duration: 8h, incompatible_with: [f, s/e, s/g]}\n"
		"  - {system: s, name: g, risk_tier: low, data_sensitivity: public, environment: dev,"
		" control_owner_group: a, max_duration: 1h, incompatible_with: []}\n"
		"delegations:\n"
		"  - {from_group: a, to_group: a, system: s, expires_at: '2030-01-01T00:00:00Z',"
		" reason: r}\n"
		"  - {from_group: a, to_group: b, system: s, tag: t, expires_at: '2030-01-01T00:00:00Z',"
		" reason: r}\n"
		"  - {from_group: a, to_group: b, expires_at: '2030-01-01T00:00:00Z', reason: r}\n"
		"policies:\n"
		"  - {text: x, file: y}\n"
		"  - {comment: none}\n"
		"  - {text: same}\n"
		"  - {text: same}\n"), GH_EINVALID);
	CHECK(problem(&d, "groups[0].members[1]", "listed twice") != NULL);
	CHECK(problem(&d, "groups[0].members[2]", "member of itself") != NULL);
	CHECK(problem(&d, "groups[1]", "already declared at groups[0]") != NULL);
	CHECK(problem(&d, "systems[1]", "already declared at systems[0]") != NULL);
	CHECK(problem(&d, "entitlements[0].incompatible_with[0]", "system/name") != NULL);
	CHECK(problem(&d, "entitlements[0].incompatible_with[1]", "with itself") != NULL);
	CHECK(problem(&d, "entitlements[0].incompatible_with[2]", "symmetric") != NULL);
	CHECK(problem(&d, "delegations[0]", "must differ") != NULL);
	CHECK(problem(&d, "delegations[1]", "exactly one of \"system\" and \"tag\"") != NULL);
	CHECK(problem(&d, "delegations[2]", "exactly one of \"system\" and \"tag\"") != NULL);
	CHECK(problem(&d, "policies[0]", "exactly one of \"file\" and \"text\"") != NULL);
	CHECK(problem(&d, "policies[1]", "exactly one of \"file\" and \"text\"") != NULL);
	CHECK(problem(&d, "policies[3]", "already declared at policies[2]") != NULL);
	gh_yaml_doc_free(&d);

	CHECK_INT(catalog(&d, "version: 2\n"), GH_EINVALID);
	CHECK(problem(&d, "version", "unsupported version 2") != NULL);
	gh_yaml_doc_free(&d);

	CHECK_INT(catalog(&d, "groups: []\n"), GH_EINVALID);
	CHECK(problem(&d, "", "missing required key \"version\"") != NULL);
	gh_yaml_doc_free(&d);
}

static void test_apply_check__policy_files_relative_to_the_catalog(void)
{
	char dir[512], path[600];
	const char *text = "version: 1\npolicies:\n  - file: p.cedar\n  - file: missing.cedar\n";
	gh_yaml_doc d;
	json_t *texts = NULL;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", gh_test_tmpdir());
	snprintf(path, sizeof(path), "%s/p.cedar", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("forbid (principal, action, resource);\n", f);
	fclose(f);
	CHECK_INT(gh_apply_check(&d, &texts, text, strlen(text), dir), GH_EINVALID);
	CHECK_STR(json_string_value(json_array_get(texts, 0)),
		  "forbid (principal, action, resource);\n");
	CHECK(problem(&d, "policies[1].file", "cannot open") != NULL);
	CHECK_INT(json_array_size(d.problems), 1);
	json_decref(texts);
	gh_yaml_doc_free(&d);
}

/* What the domain answers for body: the reason of its field error on field
 * (into buf), or NULL. */
static const char *domain_reason(char *buf, size_t n, gh_gov *g, const json_t *body,
				 const char *field,
				 int (*create)(json_t **, gh_gov *, const gh_actor *,
					       const json_t *))
{
	static const gh_actor admin = {"idn_admin", GH_ROLE_ADMIN};
	json_t *out = NULL, *fields;

	if (create(&out, g, &admin, body) != GH_EINVALID) {
		json_decref(out);
		return NULL;
	}
	fields = gh_error_last()->fields;
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);

		if (strcmp(sget(f, "field"), field) == 0) {
			snprintf(buf, n, "%s", sget(f, "reason"));
			return buf;
		}
	}
	return NULL;
}

/* A value the domain refuses is refused by apply, with the domain's own
 * message: the file is checked by the rules the API applies, not a copy. */
static void test_apply_check__refuses_a_field_as_the_domain_does(void)
{
	static const struct {
		const char *yaml;        /* the catalog */
		const char *path;        /* the problem's path in it */
		const char *body;        /* the same value sent to the domain */
		const char *field;       /* the domain's field error */
		gh_gov_field rule;
		int (*create)(json_t **, gh_gov *, const gh_actor *, const json_t *);
	} cases[] = {
		{"groups: [{name: Not A Name}]", "groups[0].name", "{\"name\": \"Not A Name\"}",
		 "name", GH_GOV_FIELD_NAME, gh_gov_group_create},
		{"groups: [{name: " "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}]",
		 "groups[0].name",
		 "{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		 "name", GH_GOV_FIELD_NAME, gh_gov_group_create},
		{"groups: [{name: g, description: \"a\\x01b\"}]", "groups[0].description",
		 "{\"name\": \"g\", \"description\": \"a\\u0001b\"}", "description",
		 GH_GOV_FIELD_DESCRIPTION, gh_gov_group_create},
		{"systems: [{name: '-lead', owner: o}]", "systems[0].name",
		 "{\"name\": \"-lead\", \"owner\": \"o\"}", "name", GH_GOV_FIELD_NAME,
		 gh_gov_system_create},
		{"systems: [{name: s, owner: o, connector: Not Valid}]", "systems[0].connector",
		 "{\"name\": \"s\", \"owner\": \"o\", \"connector\": \"Not Valid\"}", "connector",
		 GH_GOV_FIELD_CONNECTOR, gh_gov_system_create},
		{"entitlements: [{environment: Prod}]", "entitlements[0].environment",
		 "{\"environment\": \"Prod\"}", "environment", GH_GOV_FIELD_ENVIRONMENT,
		 gh_gov_entitlement_create},
		{"entitlements: [{environment: production-eu-west-1-primary-node-42}]",
		 "entitlements[0].environment", "{\"environment\": \"production-eu-west-1-primary-node-42\"}",
		 "environment", GH_GOV_FIELD_ENVIRONMENT, gh_gov_entitlement_create},
		{"entitlements: [{max_duration: 8 hours}]", "entitlements[0].max_duration",
		 "{\"max_duration\": \"8 hours\"}", "max_duration", GH_GOV_FIELD_DURATION,
		 gh_gov_entitlement_create},
		{"delegations: [{tag: _x}]", "delegations[0].tag", "{\"tag\": \"_x\"}", "tag",
		 GH_GOV_FIELD_TAG, gh_gov_delegation_create},
		{"delegations: [{expires_at: soon}]", "delegations[0].expires_at",
		 "{\"expires_at\": \"soon\"}", "expires_at", GH_GOV_FIELD_TIME,
		 gh_gov_delegation_create},
		{"delegations: [{reason: ''}]", "delegations[0].reason", "{\"reason\": \"\"}",
		 "reason", GH_GOV_FIELD_REASON, gh_gov_delegation_create},
	};
	char path[512], text[512], why[GH_GOV_FIELD_PROBLEM_MAX], reason[512];
	gh_gov *g = NULL;

	snprintf(path, sizeof(path), "%s/fields.db", gh_test_tmpdir());
	unlink(path);
	CHECK_INT(gh_gov_open(&g, path, 1, NULL), 0);
	if (!g)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *body = json_loads(cases[i].body, 0, NULL);
		const char *theirs = domain_reason(reason, sizeof(reason), g, body,
						   cases[i].field, cases[i].create);
		const char *rule = NULL;
		json_t *p, *v = json_object_get(body, cases[i].field);
		gh_yaml_doc d;

		snprintf(text, sizeof(text), "version: 1\n%s\n", cases[i].yaml);
		catalog(&d, text);
		p = problem(&d, cases[i].path, "");
		if (!theirs || !p)
			fprintf(stderr, "  case %zu (%s): domain %s, apply %s\n", i, cases[i].path,
				theirs ? theirs : "accepts it", p ? "refuses it" : "accepts it");
		CHECK(theirs != NULL);
		CHECK(p != NULL);
		if (theirs && p)
			CHECK_STR(sget(p, "message"), theirs);
		/* and both are the rule's word */
		rule = gh_gov_field_problem(why, sizeof(why), cases[i].rule, json_string_value(v));
		CHECK(rule != NULL);
		if (rule && theirs)
			CHECK_STR(rule, theirs);
		gh_yaml_doc_free(&d);
		json_decref(body);
	}
	gh_gov_free(g);

	/* what the rule accepts; checking a value leaves no field error behind */
	gh_error_clear();
	CHECK(gh_gov_field_problem(why, sizeof(why), GH_GOV_FIELD_NAME, "billing-db.v2") == NULL);
	CHECK(gh_gov_field_problem(why, sizeof(why), GH_GOV_FIELD_DESCRIPTION, "") == NULL);
	CHECK(gh_gov_field_problem(why, sizeof(why), GH_GOV_FIELD_DURATION, "1h30m") == NULL);
	CHECK(gh_gov_field_problem(why, sizeof(why), GH_GOV_FIELD_TIME,
				   "2030-01-01T00:00:00Z") == NULL);
	CHECK_INT((int)gh_error_field_count(), 0);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"yaml_load__scalars_stay_strings", test_yaml_load__scalars_stay_strings},
		{"yaml_load__collections_and_positions", test_yaml_load__collections_and_positions},
		{"yaml_load__refuses_what_is_not_plain_data",
		 test_yaml_load__refuses_what_is_not_plain_data},
		{"yaml_load__syntax_error_names_line_and_column",
		 test_yaml_load__syntax_error_names_line_and_column},
		{"yaml_load__bounded_depth_and_size", test_yaml_load__bounded_depth_and_size},
		{"yaml_path__quotes_odd_keys", test_yaml_path__quotes_odd_keys},
		{"yaml_check__converts_typed_scalars", test_yaml_check__converts_typed_scalars},
		{"yaml_check__reports_every_problem_with_its_place",
		 test_yaml_check__reports_every_problem_with_its_place},
		{"yaml_print__sorted_by_position", test_yaml_print__sorted_by_position},
		{"apply_check__a_good_catalog", test_apply_check__a_good_catalog},
		{"apply_check__file_level_mistakes", test_apply_check__file_level_mistakes},
		{"apply_check__policy_files_relative_to_the_catalog",
		 test_apply_check__policy_files_relative_to_the_catalog},
		{"apply_check__refuses_a_field_as_the_domain_does",
		 test_apply_check__refuses_a_field_as_the_domain_does},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
