/* test_policy_validate.c - policy validation against a schema: data-driven
 * rows (schema, policy, valid or an error mentioning something), positions,
 * the JSON output and the shared handwritten tests. */
#include "harness.h"
#include "policy/policy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const schema_app =
	"namespace App {\n"
	"  type Addr = { city: String, zip?: String };\n"
	"  entity Group;\n"
	"  entity Team in [Group];\n"
	"  entity User in [Team] {\n"
	"    name: String, level: Long, manager?: User, roles: Set<String>, addr?: Addr,\n"
	"    home: Addr\n"
	"  } tags String;\n"
	"  entity Doc { owner: User, size: Long, ip: ipaddr, price?: decimal, meta: { kind: String } };\n"
	"  entity Color enum [\"red\", \"green\"];\n"
	"  action view appliesTo { principal: [User], resource: [Doc],\n"
	"    context: { now: datetime, n?: Long, src: ipaddr } };\n"
	"  action edit in [view] appliesTo { principal: [User], resource: [Doc], context: {} };\n"
	"}\n";

typedef struct row {
	const char *policy;
	const char *mention;       /* NULL: valid; else a substring of the first error */
} row;

/* Policies on schema_app. */
static const row rows[] = {
	/* scope */
	{"permit(principal, action, resource);", NULL},
	{"permit(principal == App::User::\"a\", action == App::Action::\"view\", resource);", NULL},
	{"permit(principal in App::Group::\"g\", action in [App::Action::\"view\"], resource);", NULL},
	{"permit(principal is App::User in App::Team::\"t\", action, resource is App::Doc);", NULL},
	{"permit(principal == App::Uzer::\"a\", action, resource);", "unknown entity type"},
	{"permit(principal, action == App::Action::\"viewz\", resource);", "unknown action"},
	{"permit(principal == App::Doc::\"d\", action, resource);", "scope matches no action"},
	{"permit(principal, action == App::Action::\"edit\", resource is App::Group);",
	 "scope matches no action"},
	{"permit(principal in App::Doc::\"d\", action, resource);", "scope matches no action"},
	/* an impossible condition is a warning in Cedar, not an error */
	{"permit(principal, action, resource) when { principal is App::Doc };", NULL},
	{"permit(principal, action, resource) when { resource == App::Color::\"red\" };", NULL},
	{"permit(principal, action, resource) when { resource == App::Color::\"blue\" };",
	 "enumerated"},
	/* attributes: required and optional, has guards */
	{"permit(principal, action, resource) when { principal.name == \"a\" };", NULL},
	{"permit(principal, action, resource) when { principal.nmae == \"a\" };", "not declared"},
	{"permit(principal, action, resource) when { principal.manager.name == \"a\" };",
	 "optional"},
	{"permit(principal, action, resource) when { principal has manager && "
	 "principal.manager.level > 3 };", NULL},
	{"permit(principal, action, resource) when { principal has manager || "
	 "principal.manager.level > 3 };", "optional"},
	{"permit(principal, action, resource) when { if principal has manager then "
	 "principal.manager.level > 3 else false };", NULL},
	{"permit(principal, action, resource) when { if principal has manager then true else "
	 "principal.manager.level > 3 };", "optional"},
	{"permit(principal, action, resource) when { principal has addr.zip && "
	 "principal.addr.zip == \"1\" };", NULL},
	{"permit(principal, action, resource) when { principal has addr && "
	 "principal.addr.zip == \"1\" };", "optional"},
	{"permit(principal, action, resource) when { principal.home has zip && "
	 "principal.home.zip like \"9*\" };", NULL},
	{"permit(principal, action, resource) when { (principal has manager && true) && "
	 "principal.manager == resource.owner };", NULL},
	{"permit(principal, action, resource) when { principal has manager } when { "
	 "principal.manager.level > 1 };", NULL},
	{"permit(principal, action, resource) unless { !(principal has manager) || "
	 "principal.manager.level > 1 };", "optional"},
	/* has on an entity is only known after the test, even for a required attribute
	 * (the entity may be missing); on a record value it is known */
	{"permit(principal, action, resource) when { principal has name || "
	 "principal.addr.city == \"x\" };", "optional"},
	{"permit(principal, action, resource) when { {a: 1} has a || "
	 "principal.addr.city == \"x\" };", NULL},
	{"permit(principal, action, resource) when { if principal has addr then "
	 "principal.addr.city == \"x\" else principal.addr.city == \"y\" };", "optional"},
	{"permit(principal, action, resource) when { (if principal has addr then "
	 "principal has name else principal has addr) && principal.addr.city == \"x\" };", NULL},
	{"permit(principal, action, resource) when { (if principal has addr then "
	 "principal has name else principal has manager) && principal.addr.city == \"x\" };",
	 "optional"},
	{"permit(principal, action, resource) when { (principal has addr || false) && "
	 "principal.addr.city == \"x\" };", NULL},
	{"permit(principal, action, resource) when { (principal has addr || principal has manager) "
	 "&& principal.addr.city == \"x\" };", "optional"},
	/* a has that is false short-circuits what follows */
	{"permit(principal, action, resource) when { principal has nothing && principal.nothing };",
	 NULL},
	{"permit(principal, action == App::Action::\"view\", resource) when { "
	 "context.now > datetime(\"2024-01-01\") && context.n > 1 };", "optional"},
	{"permit(principal, action == App::Action::\"view\", resource) when { context has n && "
	 "context.n > 1 };", NULL},
	{"permit(principal, action == App::Action::\"edit\", resource) when { context.now > "
	 "datetime(\"2024-01-01\") };", "not declared"},
	/* in the environments where the scope is false, the condition is not checked */
	{"permit(principal, action == App::Action::\"edit\", resource) when { "
	 "action == App::Action::\"view\" && context.now > datetime(\"2024-01-01\") };", NULL},
	{"permit(principal, action in App::Action::\"view\", resource) when { "
	 "context.now > datetime(\"2024-01-01\") };", "not declared"},
	{"permit(principal, action, resource) when { action.name == \"x\" };", "no attribute"},
	/* the variable action is the environment's action, a literal */
	{"permit(principal, action, resource) when { (if action == action then 1 else \"a\") == 1 };",
	 NULL},
	{"permit(principal, action, resource) when { (if App::Action::\"view\" in action then 1 "
	 "else \"a\") == 1 };", "incompatible types"},
	{"permit(principal, action == App::Action::\"edit\", resource) when { (if action in "
	 "App::Action::\"view\" then 1 else \"a\") == 1 };", NULL},
	/* in between types the hierarchy never relates is false, not an error */
	{"permit(principal, action, resource) when { principal in resource };", NULL},
	{"permit(principal, action, resource) when { resource in principal };", NULL},
	{"permit(principal, action, resource) when { principal in App::Doc::\"d\" };", NULL},
	/* operators */
	{"permit(principal, action, resource) when { principal.name > 2 };", "comparison"},
	{"permit(principal, action, resource) when { principal.level + 1 > resource.size * 2 };",
	 NULL},
	{"permit(principal, action, resource) when { principal.level == \"x\" };", "incompatible"},
	{"permit(principal, action, resource) when { principal.level != \"x\" };", "incompatible"},
	{"permit(principal, action, resource) when { principal == resource };", NULL},
	{"permit(principal, action, resource) when { principal.name };", "expected a Bool"},
	{"permit(principal, action, resource) when { -principal.name == 1 };", "expected a Long"},
	{"permit(principal, action, resource) when { principal in resource.owner };", NULL},
	{"permit(principal, action, resource) when { principal in principal.name };",
	 "right of in"},
	{"permit(principal, action, resource) when { principal in [App::Group::\"g\", "
	 "App::Team::\"t\"] };", "incompatible types"},
	{"permit(principal, action, resource) when { principal.name like \"a*\" };", NULL},
	{"permit(principal, action, resource) when { principal.level like \"a*\" };",
	 "expected a String"},
	{"permit(principal, action, resource) when { principal.level is App::User };",
	 "not an entity"},
	{"permit(principal, action, resource) when { resource is App::Nope };",
	 "unknown entity type"},
	/* sets and records */
	{"permit(principal, action, resource) when { principal.roles.contains(\"admin\") };", NULL},
	{"permit(principal, action, resource) when { principal.roles.contains(1) };",
	 "incompatible element types"},
	{"permit(principal, action, resource) when { principal.roles.containsAny([\"a\", \"b\"]) };",
	 NULL},
	{"permit(principal, action, resource) when { principal.roles.containsAll([1]) };",
	 "incompatible element types"},
	{"permit(principal, action, resource) when { [1, \"a\"].contains(1) };",
	 "incompatible types"},
	{"permit(principal, action, resource) when { [].isEmpty() };", "empty set"},
	{"permit(principal, action, resource) when { principal.level.isEmpty() };", "a Set"},
	{"permit(principal, action, resource) when { {a: 1, b: \"x\"}.b == \"x\" };", NULL},
	{"permit(principal, action, resource) when { {a: 1}.c == 1 };", "not declared"},
	{"permit(principal, action, resource) when { {a: 1} == {a: \"x\"} };", "incompatible"},
	{"permit(principal, action, resource) when { resource.meta.kind == \"pdf\" };", NULL},
	{"permit(principal, action, resource) when { [{a: 1}, {b: 1}].isEmpty() };",
	 "incompatible types"},
	/* if-then-else: the least upper bound of the branches */
	{"permit(principal, action, resource) when { (if principal.level > 1 then 1 else 2) > 0 };",
	 NULL},
	{"permit(principal, action, resource) when { (if principal.level > 1 then 1 else \"a\") == 1 };",
	 "incompatible types"},
	{"permit(principal, action, resource) when { (if true then 1 else \"a\") == 1 };", NULL},
	{"permit(principal, action, resource) when { if 1 then true else false };", "expected a Bool"},
	/* extensions */
	{"permit(principal, action, resource) when { resource.ip.isInRange(ip(\"10.0.0.0/8\")) };",
	 NULL},
	{"permit(principal, action, resource) when { resource.ip.isInRange(ip(\"bad\")) };",
	 "invalid ip literal"},
	{"permit(principal, action, resource) when { ip(principal.name).isIpv4() };",
	 "string literal"},
	{"permit(principal, action, resource) when { resource has price && "
	 "resource.price.lessThan(decimal(\"1.5\")) };", NULL},
	{"permit(principal, action, resource) when { resource has price && "
	 "resource.price.lessThan(1) };", "expected decimal"},
	{"permit(principal, action, resource) when { decimal(\"1.23456\") == decimal(\"1\") };",
	 "invalid decimal literal"},
	{"permit(principal, action == App::Action::\"view\", resource) when { "
	 "context.now.offset(duration(\"1h\")) > context.now && "
	 "context.now.toTime().toHours() < 12 };", NULL},
	{"permit(principal, action == App::Action::\"view\", resource) when { "
	 "context.now > duration(\"1h\") };", "comparison"},
	{"permit(principal, action == App::Action::\"view\", resource) when { "
	 "context.src.isLoopback() && context.now.durationSince(datetime(\"2024-01-01\")) > "
	 "duration(\"1d\") };", NULL},
	{"permit(principal, action, resource) when { resource.ip.isIpv4(1) };", "argument"},
	/* tags */
	{"permit(principal, action, resource) when { principal.hasTag(\"k\") && "
	 "principal.getTag(\"k\") == \"v\" };", NULL},
	{"permit(principal, action, resource) when { principal.getTag(\"k\") == \"v\" };",
	 "hasTag"},
	{"permit(principal, action, resource) when { principal.hasTag(\"j\") && "
	 "principal.getTag(\"k\") == \"v\" };", "hasTag"},
	{"permit(principal, action, resource) when { principal.hasTag(\"k\") && "
	 "principal.getTag(\"k\") == 1 };", "incompatible"},
	{"permit(principal, action, resource) when { resource.getTag(\"k\") == \"v\" };",
	 "no tags"},
	/* hasTag on an entity without tags is false: what follows is not checked */
	{"permit(principal, action, resource) when { resource.hasTag(\"k\") && "
	 "resource.getTag(\"k\") == \"v\" };", NULL},
	{"permit(principal, action, resource) when { principal.hasTag(principal.name) && "
	 "principal.getTag(principal.name) == \"v\" };", NULL},
};

static int run_row(const gh_policy_schema *schema, const row *r, char *why, size_t whylen)
{
	gh_policy_set *ps = NULL;
	gh_policy_error err;
	char *out = NULL;
	int rc, ok = 0;

	if (gh_policy_set_parse(&ps, r->policy, strlen(r->policy), &err)) {
		snprintf(why, whylen, "does not parse: %s", err.message);
		return 0;
	}
	rc = gh_policy_validate(&out, ps, schema);
	if (!r->mention) {
		ok = rc == 0 && !out;
		snprintf(why, whylen, "expected valid, got %d %s", rc, out ? out : "");
	} else if (rc != GH_POLICY_EINVALID || !out) {
		snprintf(why, whylen, "expected an error mentioning '%s', got %d", r->mention, rc);
	} else {
		json_t *doc = json_loads(out, 0, NULL);
		json_t *first = json_array_get(doc, 0);
		const char *msg = json_string_value(json_object_get(first, "message"));

		ok = msg && strstr(msg, r->mention) &&
		     json_integer_value(json_object_get(first, "line")) >= 1 &&
		     json_integer_value(json_object_get(first, "column")) >= 1 &&
		     !strcmp(json_string_value(json_object_get(first, "policy")), "policy0");
		snprintf(why, whylen, "expected an error mentioning '%s', got %s", r->mention, out);
		json_decref(doc);
	}
	free(out);
	gh_policy_set_free(ps);
	return ok;
}

static void test_policy_validate__rows(void)
{
	gh_policy_schema *schema = NULL;
	gh_policy_error err;
	char why[1024];

	if (!CHECK(gh_policy_schema_parse(&schema, schema_app, strlen(schema_app), &err) == 0)) {
		fprintf(stderr, "schema: %d:%d %s\n", err.line, err.column, err.message);
		return;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!CHECK(run_row(schema, &rows[i], why, sizeof(why))))
			fprintf(stderr, "  row %zu: %s\n    %s\n", i, rows[i].policy, why);
	}
	gh_policy_schema_free(schema);
}

/* Errors name their policy and where in the text they are. */
static void test_policy_validate__positions_and_json(void)
{
	static const char *const text =
		"permit(principal, action, resource);\n"
		"forbid(principal, action, resource)\n"
		"when {\n"
		"  principal.nmae == \"x\"\n"
		"};\n";
	gh_policy_schema *schema = NULL;
	gh_policy_set *ps = NULL;
	gh_policy_error err;
	char *out = NULL;
	json_t *doc = NULL, *e;

	CHECK(gh_policy_schema_parse(&schema, schema_app, strlen(schema_app), &err) == 0);
	CHECK(gh_policy_set_parse(&ps, text, strlen(text), &err) == 0);
	if (!schema || !ps)
		goto cleanup;
	CHECK_INT(gh_policy_validate(&out, ps, schema), GH_POLICY_EINVALID);
	doc = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_is_array(doc));
	CHECK(json_array_size(doc) >= 1);
	e = json_array_get(doc, 0);
	CHECK_STR(json_string_value(json_object_get(e, "policy")), "policy1");
	CHECK_INT(json_integer_value(json_object_get(e, "line")), 4);
	CHECK_INT(json_integer_value(json_object_get(e, "column")), 13);
	CHECK(strstr(json_string_value(json_object_get(e, "message")), "nmae") != NULL);
cleanup:
	json_decref(doc);
	free(out);
	gh_policy_set_free(ps);
	gh_policy_schema_free(schema);
}

/* An error repeated in every environment is reported once. */
static void test_policy_validate__errors_not_repeated(void)
{
	static const char *const sch =
		"entity U; entity R;\n"
		"action a appliesTo { principal: [U], resource: [R] };\n"
		"action b appliesTo { principal: [U], resource: [R] };\n";
	static const char *const text = "permit(principal, action, resource) when { principal == \"a\" };";
	gh_policy_schema *schema = NULL;
	gh_policy_set *ps = NULL;
	gh_policy_error err;
	char *out = NULL;
	json_t *doc = NULL;

	CHECK(gh_policy_schema_parse(&schema, sch, strlen(sch), &err) == 0);
	CHECK(gh_policy_set_parse(&ps, text, strlen(text), &err) == 0);
	if (!schema || !ps)
		goto cleanup;
	CHECK_INT(gh_policy_validate(&out, ps, schema), GH_POLICY_EINVALID);
	doc = out ? json_loads(out, 0, NULL) : NULL;
	CHECK_INT(json_array_size(doc), 1);
cleanup:
	json_decref(doc);
	free(out);
	gh_policy_set_free(ps);
	gh_policy_schema_free(schema);
}

/* Policy JSON and templates: a template is checked, its links are not re-checked. */
static void test_policy_validate__templates(void)
{
	static const char *const text =
		"permit(principal == ?principal, action == App::Action::\"view\", resource) when {\n"
		"  principal.level > 1 };\n"
		"permit(principal in ?principal, action, resource in ?resource) when {\n"
		"  principal.level > \"x\" };\n"
		"permit(principal is App::User in ?principal, action, resource in ?resource) when {\n"
		"  principal.level > 1 };\n";
	gh_policy_schema *schema = NULL;
	gh_policy_set *ps = NULL;
	gh_policy_error err;
	char *out = NULL;
	json_t *doc = NULL;

	CHECK(gh_policy_schema_parse(&schema, schema_app, strlen(schema_app), &err) == 0);
	CHECK(gh_policy_set_parse(&ps, text, strlen(text), &err) == 0);
	if (!schema || !ps)
		goto cleanup;
	CHECK_INT(gh_policy_validate(&out, ps, schema), GH_POLICY_EINVALID);
	doc = out ? json_loads(out, 0, NULL) : NULL;
	CHECK_INT(json_array_size(doc), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(doc, 0), "policy")), "policy1");
cleanup:
	json_decref(doc);
	free(out);
	gh_policy_set_free(ps);
	gh_policy_schema_free(schema);
}

/* Deeply nested expressions (as deep as the parser takes) validate without
 * trouble: a long left-leaning chain and nested sets. */
static void test_policy_validate__deep_nesting(void)
{
	static const char *const sch =
		"entity U; action a appliesTo { principal: [U], resource: [U] };";
	gh_policy_schema *schema = NULL;
	gh_policy_error err;
	char *text = malloc(64 * 1024);
	size_t n;

	CHECK(gh_policy_schema_parse(&schema, sch, strlen(sch), &err) == 0);
	if (!schema || !text)
		goto cleanup;
	for (int depth = 16; depth <= 4096; depth *= 4) {
		for (int kind = 0; kind < 2; kind++) {
			gh_policy_set *ps = NULL;
			char *out = NULL;
			int rc;

			n = (size_t)snprintf(text, 64, "permit(principal, action, resource) when { ");
			for (int i = 0; i < depth; i++)
				n += (size_t)snprintf(text + n, 16, kind ? "[" : "1 + ");
			n += (size_t)snprintf(text + n, 16, "1");
			for (int i = 0; kind && i < depth; i++)
				text[n++] = ']';
			n += (size_t)snprintf(text + n, 32, kind ? ".isEmpty() };" : " > 0 };");
			if (gh_policy_set_parse(&ps, text, n, &err))
				continue;  /* over the parser's limit */
			rc = gh_policy_validate(&out, ps, schema);
			CHECK(rc == 0);
			free(out);
			gh_policy_set_free(ps);
		}
	}
cleanup:
	free(text);
	gh_policy_schema_free(schema);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"policy_validate__rows", test_policy_validate__rows},
		{"policy_validate__positions_and_json", test_policy_validate__positions_and_json},
		{"policy_validate__errors_not_repeated", test_policy_validate__errors_not_repeated},
		{"policy_validate__templates", test_policy_validate__templates},
		{"policy_validate__deep_nesting", test_policy_validate__deep_nesting},
		{NULL, NULL}};

	return gh_test_run(cases, argc, argv);
}
