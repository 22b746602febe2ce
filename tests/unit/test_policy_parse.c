/* test_policy_parse.c - Cedar policy text: valid and invalid policies, error positions, truncations. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const char *const valid[] = {
	"permit(principal, action, resource);",
	"forbid(principal == User::\"alice\", action == Action::\"view\", resource == Photo::\"p\");",
	"permit(principal in Group::\"g\", action in [Action::\"a\", Action::\"b\"], resource in Album::\"x\");",
	"permit(principal is User, action, resource is Photo in Album::\"x\");",
	"permit(principal is NS::User in NS::Group::\"g\", action in NS::Action::\"read\", resource);",
	"permit(principal == ?principal, action, resource in ?resource);",
	"@id(\"p1\") @advice permit(principal, action, resource) when { true } unless { false };",
	"permit(principal, action, resource) when { if context.a then 1 < 2 else !(3 >= 4) };",
	"permit(principal, action, resource) when { principal.age + 1 - -2 * 3 == --4 };",
	"permit(principal, action, resource) when { context has \"a b\" && context[\"a b\"] like \"x\\*y*\" };",
	"permit(principal, action, resource) when { resource has a.b.c };",
	"permit(principal, action, resource) when { principal is User in [Group::\"a\", Group::\"b\"] };",
	"permit(principal, action, resource) when { [1, \"two\", {a: 1, \"b c\": [true]}].contains(1) };",
	"permit(principal, action, resource) when { ip(\"10.0.0.1\").isInRange(ip(\"10.0.0.0/8\")) };",
	"permit(principal, action, resource) when { decimal(\"1.5\").lessThan(decimal(\"2.0\")) };",
	"permit(principal, action, resource) when { datetime(\"2024-10-15\").offset(duration(\"1h\")) > datetime(\"2024-10-15\") };",
	"permit(principal, action, resource) when { principal.getTag(\"t\") == 1 && principal.hasTag(\"t\") };",
	"permit(principal, action, resource) when { -9223372036854775808 < 9223372036854775807 };",
	"permit(principal, action, resource) when { \"\\u{1F600}\\n\\t\\r\\0\\\\\\'\\\"\\x41\" != \"\" };",
	"// comment\npermit(principal, action, resource); // trailing\nforbid(principal, action, resource);",
	"",
};

static void test_policy_parse_valid__samples(void)
{
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		gh_policy_set *ps = NULL;
		gh_policy_error err;
		int rc = gh_policy_set_parse(&ps, valid[i], strlen(valid[i]), &err);
		if (!CHECK_INT(rc, 0))
			fprintf(stderr, "  sample %zu: %d:%d %s\n", i, err.line, err.column, err.message);
		gh_policy_set_free(ps);
	}
}

static void test_policy_parse_ids__in_order_and_annotations(void)
{
	const char *text = "@id(\"first\") permit(principal, action, resource);\n"
			   "@advice forbid(principal, action, resource);\n"
			   "permit(principal == ?principal, action, resource);";
	gh_policy_set *ps = NULL;
	CHECK_INT(gh_policy_set_parse(&ps, text, strlen(text), NULL), 0);
	CHECK_INT(gh_policy_set_count(ps), 3);
	CHECK_STR(gh_policy_set_id(ps, 0), "policy0");
	CHECK_STR(gh_policy_set_id(ps, 1), "policy1");
	CHECK_STR(gh_policy_set_id(ps, 2), "policy2");
	CHECK(gh_policy_set_id(ps, 3) == NULL);
	CHECK_STR(gh_policy_set_annotation(ps, "policy0", "id"), "first");
	CHECK_STR(gh_policy_set_annotation(ps, "policy1", "advice"), "");
	CHECK(gh_policy_set_annotation(ps, "policy1", "id") == NULL);
	gh_policy_set_free(ps);
}

static const struct {
	const char *text;
	int line, col;
	const char *msg;           /* a substring of the message */
} invalid[] = {
	{ "permit(principal, action, resource)", 1, 36, "expected ';'" },
	{ "permit(principal, action)", 1, 25, "expected ','" },
	{ "allow(principal, action, resource);", 1, 1, "'permit' or 'forbid'" },
	{ "permit(principal, action, resource)\nwhen { 1 + };", 2, 12, "expected an expression" },
	{ "permit(principal, action, resource) when { 1 < 2 < 3 };", 1, 50, "expected '}'" },
	{ "permit(principal, action, resource) when { 9223372036854775808 };", 1, 44, "range" },
	{ "permit(principal, action, resource) when { \"\\q\" };", 1, 44, "escape" },
	{ "permit(principal, action, resource) when { \"abc };", 1, 44, "unterminated" },
	{ "permit(principal, action, resource) when { foo(1) };", 1, 44, "unknown function" },
	{ "permit(principal, action, resource) when { principal.foo(1) };", 1, 54, "unknown method" },
	{ "permit(principal, action, resource) when { principal.contains() };", 1, 54, "argument" },
	{ "permit(principal, action, resource) when { !!!!!true };", 1, 48, "unary" },
	{ "permit(principal, action, resource) when { {a: 1, a: 2} };", 1, 51, "duplicate key" },
	{ "permit(principal, action == User::\"x\", resource);", 1, 29, "action entity" },
	{ "permit(principal, action, resource) when { ?principal };", 1, 44, "slot" },
	{ "permit(principal, action, resource) when { x };", 1, 44, "variable" },
	{ "@a @a permit(principal, action, resource);", 1, 5, "duplicate annotation" },
	{ "permit(principal, action, resource) when { a = b };", 1, 44, "" },
	{ "permit(principal, action, resource) when {};", 1, 43, "expected an expression" },
	{ "permit(principal == ?resource, action, resource);", 1, 22, "?principal" },
	{ "permit(principal, action, resource) when { if true then 1 };", 1, 59, "'else'" },
	{ "permit(principal, action, resource) when { \"a\" like \"\\u{D800}\" };", 1, 53, "Unicode" },
	{ "permit(principal, action, resource) when { principal has if };", 1, 58, "attribute name" },
};

static void test_policy_parse_invalid__positions(void)
{
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		gh_policy_set *ps = NULL;
		gh_policy_error err;
		memset(&err, 0, sizeof(err));
		int rc = gh_policy_set_parse(&ps, invalid[i].text, strlen(invalid[i].text), &err);
		int ok = CHECK_INT(rc, GH_POLICY_EPARSE);
		ok &= CHECK(ps == NULL);
		ok &= CHECK_INT(err.line, invalid[i].line);
		ok &= CHECK_INT(err.column, invalid[i].col);
		ok &= CHECK(strstr(err.message, invalid[i].msg) != NULL);
		if (!ok)
			fprintf(stderr, "  case %zu: %d:%d %s\n", i, err.line, err.column, err.message);
		gh_policy_set_free(ps);
	}
}

static void test_policy_parse_depth__capped(void)
{
	size_t n = 5000;
	char *text = malloc(n * 2 + 100);
	strcpy(text, "permit(principal, action, resource) when { ");
	size_t k = strlen(text);
	for (size_t i = 0; i < n; i++)
		text[k++] = '(';
	text[k++] = '1';
	for (size_t i = 0; i < n; i++)
		text[k++] = ')';
	strcpy(text + k, " };");
	gh_policy_set *ps = NULL;
	gh_policy_error err;
	CHECK_INT(gh_policy_set_parse(&ps, text, strlen(text), &err), GH_POLICY_ETOOLARGE);
	CHECK(ps == NULL);

	/* a long flat chain is fine up to the tree cap, then refused */
	strcpy(text, "permit(principal, action, resource) when { 1");
	k = strlen(text);
	for (size_t i = 0; i < 2000; i++) {
		memcpy(text + k, "+1", 2);
		k += 2;
	}
	strcpy(text + k, " };");
	CHECK_INT(gh_policy_set_parse(&ps, text, strlen(text), &err), GH_POLICY_ETOOLARGE);
	free(text);
}

/* Every prefix of every valid sample parses or fails cleanly (ASan checks the rest). */
static void test_policy_parse_truncated__never_crash(void)
{
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		size_t len = strlen(valid[i]);
		for (size_t cut = 0; cut < len; cut++) {
			char *copy = malloc(cut ? cut : 1);
			memcpy(copy, valid[i], cut);
			gh_policy_set *ps = NULL;
			gh_policy_error err;
			int rc = gh_policy_set_parse(&ps, copy, cut, &err);
			CHECK(rc == 0 || (ps == NULL && err.message[0]));
			gh_policy_set_free(ps);
			free(copy);
		}
	}
}

/* Policy text must be UTF-8; the first bad byte is named with its position. */
static void test_policy_parse_invalid__utf8(void)
{
	static const char *const bad[] = {
		"permit(principal,action,resource) when { \"a\xff\" == \"b\" };",
		"permit(principal,action,resource)\nwhen { \"\xc0\xaf\" == \"b\" };",     /* overlong */
		"permit(principal,action,resource) when { \"\xed\xa0\x80\" == \"\" };", /* surrogate */
		"permit(principal,action,resource) when { \"\xe2\x82\" == \"\" };",     /* truncated */
		NULL};
	static const int line[] = {1, 2, 1, 1}, column[] = {44, 9, 43, 43};

	for (int i = 0; bad[i]; i++) {
		gh_policy_set *ps = NULL;
		gh_policy_error err;

		CHECK_INT(gh_policy_set_parse(&ps, bad[i], strlen(bad[i]), &err), GH_POLICY_EPARSE);
		CHECK(ps == NULL);
		CHECK_INT(err.line, line[i]);
		CHECK_INT(err.column, column[i]);
		CHECK(strstr(err.message, "UTF-8") != NULL);
	}
}

/* Annotations come back per policy, in text order, for obligations. */
static void test_policy_parse_annotations__enumerated_in_order(void)
{
	static const char text[] =
		"@approvals(\"2\")\n@review_within(\"24h\")\n@flag\n"
		"permit(principal, action, resource);\n"
		"forbid(principal, action, resource);";
	gh_policy_set *ps = NULL;
	const char *k = NULL, *v = NULL;

	if (!CHECK_INT(gh_policy_set_parse(&ps, text, strlen(text), NULL), 0))
		return;
	CHECK_INT(gh_policy_set_annotation_at(ps, "policy0", 0, &k, &v), 0);
	CHECK_STR(k, "approvals");
	CHECK_STR(v, "2");
	CHECK_INT(gh_policy_set_annotation_at(ps, "policy0", 1, &k, &v), 0);
	CHECK_STR(k, "review_within");
	CHECK_STR(v, "24h");
	CHECK_INT(gh_policy_set_annotation_at(ps, "policy0", 2, &k, &v), 0);
	CHECK_STR(k, "flag");
	CHECK_STR(v, "");
	CHECK_INT(gh_policy_set_annotation_at(ps, "policy0", 3, &k, &v), -1);
	CHECK_INT(gh_policy_set_annotation_at(ps, "policy1", 0, &k, &v), -1);
	CHECK_INT(gh_policy_set_annotation_at(ps, "policy9", 0, &k, &v), -1);
	gh_policy_set_free(ps);
}

/* Lookups by id find the right policy among many, whatever the id's form. */
static void test_policy_parse_annotations__found_by_id_among_many(void)
{
	char text[4096] = "", one[64], id[32];
	gh_policy_set *ps = NULL;

	for (int i = 0; i < 40; i++) {
		snprintf(one, sizeof(one), "@n(\"%d\") permit(principal, action, resource);\n", i);
		strcat(text, one);
	}
	if (!CHECK_INT(gh_policy_set_parse(&ps, text, strlen(text), NULL), 0))
		return;
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "policy%d", i);
		snprintf(one, sizeof(one), "%d", i);
		CHECK_STR(gh_policy_set_annotation(ps, id, "n"), one);
	}
	CHECK(gh_policy_set_annotation(ps, "policy40", "n") == NULL);
	CHECK(gh_policy_set_annotation(ps, "policy007", "n") == NULL);
	CHECK(gh_policy_set_annotation(ps, "policy", "n") == NULL);
	CHECK(gh_policy_set_annotation(ps, "policy1x", "n") == NULL);
	CHECK(gh_policy_set_annotation(ps, "policy99999999999999999999999", "n") == NULL);
	gh_policy_set_free(ps);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{ "test_policy_parse_valid__samples", test_policy_parse_valid__samples },
		{ "test_policy_parse_ids__in_order_and_annotations", test_policy_parse_ids__in_order_and_annotations },
		{ "test_policy_parse_annotations__found_by_id_among_many", test_policy_parse_annotations__found_by_id_among_many },
		{ "test_policy_parse_invalid__positions", test_policy_parse_invalid__positions },
		{ "test_policy_parse_invalid__utf8", test_policy_parse_invalid__utf8 },
		{ "test_policy_parse_annotations__enumerated_in_order", test_policy_parse_annotations__enumerated_in_order },
		{ "test_policy_parse_depth__capped", test_policy_parse_depth__capped },
		{ "test_policy_parse_truncated__never_crash", test_policy_parse_truncated__never_crash },
		{ NULL, NULL },
	};
	return gh_test_run(cases, argc, argv);
}
