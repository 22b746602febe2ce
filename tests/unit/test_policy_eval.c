/* test_policy_eval.c - Cedar evaluation and authorization, data-driven: policies, entities, request, expected answer. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/value.h"

static const char *const ENTITIES =
	"["
	"{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},"
	" \"attrs\":{\"age\":30,\"dept\":\"eng\",\"tags\":[\"a\",\"b\"],"
	"  \"manager\":{\"__entity\":{\"type\":\"User\",\"id\":\"bob\"}},"
	"  \"ip\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.1.2.3\"}},"
	"  \"score\":{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"0.75\"}},"
	"  \"addr\":{\"city\":\"Paris\",\"zip\":\"75001\"}, \"big\":9223372036854775807},"
	" \"parents\":[{\"type\":\"Group\",\"id\":\"eng\"}],"
	" \"tags\":{\"level\":3}},"
	"{\"uid\":{\"__entity\":{\"type\":\"User\",\"id\":\"bob\"}},\"attrs\":{\"age\":50},\"parents\":[]},"
	"{\"uid\":{\"type\":\"Group\",\"id\":\"eng\"},\"attrs\":{},\"parents\":[{\"type\":\"Group\",\"id\":\"all\"}]},"
	"{\"uid\":{\"type\":\"Group\",\"id\":\"all\"},\"attrs\":{},\"parents\":[]},"
	"{\"uid\":{\"type\":\"Action\",\"id\":\"view\"},\"attrs\":{},\"parents\":[{\"type\":\"Action\",\"id\":\"read\"}]},"
	"{\"uid\":{\"type\":\"Photo\",\"id\":\"p1\"},\"attrs\":{\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"alice\"}}},"
	" \"parents\":[{\"type\":\"Album\",\"id\":\"trip\"}]}"
	"]";

static const char *const REQ_ALICE =
	"{\"principal\":{\"type\":\"User\",\"id\":\"alice\"},\"action\":{\"type\":\"Action\",\"id\":\"view\"},"
	"\"resource\":{\"type\":\"Photo\",\"id\":\"p1\"},"
	"\"context\":{\"n\":5,\"s\":\"s3://bucket/x\",\"when\":{\"__extn\":{\"fn\":\"datetime\",\"arg\":\"2024-10-15T10:00:00Z\"}}}}";

static const char *const REQ_BOB =
	"{\"principal\":{\"type\":\"User\",\"id\":\"bob\"},\"action\":{\"type\":\"Action\",\"id\":\"edit\"},"
	"\"resource\":{\"type\":\"Photo\",\"id\":\"p1\"}}";

static const char *const REQ_GHOST =
	"{\"principal\":{\"type\":\"User\",\"id\":\"ghost\"},\"action\":{\"type\":\"Action\",\"id\":\"view\"},"
	"\"resource\":{\"type\":\"Album\",\"id\":\"trip\"},\"context\":{}}";

typedef struct eval_case {
	const char *name;
	const char *policies;
	const char *request;
	int allow;
	const char *reasons;       /* policy ids separated by spaces */
	const char *errors;
} eval_case;

#define P(cond) "permit(principal, action, resource) when { " cond " };"

static const eval_case cases[] = {
	{ "default deny", "", REQ_ALICE, 0, "", "" },
	{ "permit all", "permit(principal, action, resource);", REQ_ALICE, 1, "policy0", "" },
	{ "scope eq", "permit(principal == User::\"alice\", action == Action::\"view\", resource == Photo::\"p1\");"
		      "permit(principal == User::\"bob\", action, resource);", REQ_ALICE, 1, "policy0", "" },
	{ "scope in transitive", "permit(principal in Group::\"all\", action in Action::\"read\", resource in Album::\"trip\");",
	  REQ_ALICE, 1, "policy0", "" },
	{ "scope in set", "permit(principal, action in [Action::\"edit\", Action::\"read\"], resource);", REQ_ALICE, 1, "policy0", "" },
	{ "scope is", "permit(principal is User in Group::\"eng\", action, resource is Photo);"
		      "permit(principal is Group, action, resource);", REQ_ALICE, 1, "policy0", "" },
	{ "forbid overrides", "permit(principal, action, resource); forbid(principal, action, resource) when { principal.age > 18 };"
			      "forbid(principal, action, resource) when { false };", REQ_ALICE, 0, "policy1", "" },
	{ "error skipped", "permit(principal, action, resource) when { principal.nope }; permit(principal, action, resource);",
	  REQ_ALICE, 1, "policy1", "policy0" },
	{ "forbid error does not deny", "forbid(principal, action, resource) when { 1 + \"a\" == 2 }; permit(principal, action, resource);",
	  REQ_ALICE, 1, "policy1", "policy0" },
	{ "unless", "permit(principal, action, resource) unless { principal.age < 18 };", REQ_ALICE, 1, "policy0", "" },
	{ "attr and record", P("principal.dept == \"eng\" && principal.addr.city == \"Paris\" && principal[\"addr\"][\"zip\"] == \"75001\""),
	  REQ_ALICE, 1, "policy0", "" },
	{ "entity attr deref", P("resource.owner == principal && resource.owner.manager.age == 50"), REQ_ALICE, 1, "policy0", "" },
	{ "missing attr errors", P("principal.manager.dept == \"x\""), REQ_ALICE, 0, "", "policy0" },
	{ "missing entity errors", P("principal.age > 1"), REQ_GHOST, 0, "", "policy0" },
	{ "has", P("principal has age && !(principal has nope) && principal has addr.city && !(principal has addr.street)"
		   " && context has n && !(context has \"m\")"), REQ_ALICE, 1, "policy0", "" },
	{ "has on missing entity is false", P("!(principal has age)"), REQ_GHOST, 1, "policy0", "" },
	{ "has on a long errors", P("principal.age has x"), REQ_ALICE, 0, "", "policy0" },
	{ "like", P("context.s like \"s3:*\" && !(context.s like \"*x*y\") && \"a*b\" like \"a\\*b\" && !(\"axb\" like \"a\\*b\")"
		    " && \"\" like \"*\" && \"abc\" like \"*b*\""), REQ_ALICE, 1, "policy0", "" },
	{ "is expr", P("principal is User && !(resource is User) && principal is User in Group::\"all\""), REQ_ALICE, 1, "policy0", "" },
	{ "is on non-entity errors", P("1 is User"), REQ_ALICE, 0, "", "policy0" },
	{ "in expr", P("principal in Group::\"all\" && principal in [Group::\"x\", Group::\"eng\"] && !(Group::\"all\" in principal)"
		       " && User::\"ghost\" in User::\"ghost\""), REQ_ALICE, 1, "policy0", "" },
	{ "in with non-entity errors", P("principal in [Group::\"eng\", 1]"), REQ_ALICE, 0, "", "policy0" },
	{ "in lhs non-entity errors", P("1 in Group::\"eng\""), REQ_ALICE, 0, "", "policy0" },
	{ "eq across types is false", P("1 != \"1\" && !(principal == 1) && [1, 2] == [2, 1, 1] && {a: 1, b: [true]} == {b: [true], a: 1}"),
	  REQ_ALICE, 1, "policy0", "" },
	{ "arith", P("1 + 2 * 3 - -4 == 11 && -9223372036854775808 < 0 && context.n * 2 == 10"), REQ_ALICE, 1, "policy0", "" },
	{ "overflow errors", P("principal.big + 1 > 0"), REQ_ALICE, 0, "", "policy0" },
	{ "mul overflow errors", P("principal.big * 2 > 0"), REQ_ALICE, 0, "", "policy0" },
	{ "neg overflow errors", P("-(-9223372036854775808) > 0"), REQ_ALICE, 0, "", "policy0" },
	{ "compare strings errors", P("\"a\" < \"b\""), REQ_ALICE, 0, "", "policy0" },
	{ "and short-circuit", P("false && (1 + \"x\")") " " P("true || (1 + \"x\")"), REQ_ALICE, 1, "policy1", "" },
	{ "and needs bool", P("true && 1"), REQ_ALICE, 0, "", "policy0" },
	{ "if", P("if principal.age > 18 then true else 1 + \"x\""), REQ_ALICE, 1, "policy0", "" },
	{ "if needs bool", P("if 1 then true else false"), REQ_ALICE, 0, "", "policy0" },
	{ "condition needs bool", P("1"), REQ_ALICE, 0, "", "policy0" },
	{ "sets", P("principal.tags.contains(\"a\") && principal.tags.containsAll([\"b\"]) && principal.tags.containsAny([\"z\", \"a\"])"
		    " && !principal.tags.containsAll([\"a\", \"z\"]) && [].isEmpty() && ![1].isEmpty()"), REQ_ALICE, 1, "policy0", "" },
	{ "contains on non-set errors", P("1.contains(1)"), REQ_ALICE, 0, "", "policy0" },
	{ "tags", P("principal.hasTag(\"level\") && principal.getTag(\"level\") == 3 && !principal.hasTag(\"x\")"), REQ_ALICE, 1, "policy0", "" },
	{ "missing tag errors", P("principal.getTag(\"x\") == 3"), REQ_ALICE, 0, "", "policy0" },
	{ "ip", P("principal.ip.isInRange(ip(\"10.0.0.0/8\")) && principal.ip.isIpv4() && !principal.ip.isIpv6()"
		  " && ip(\"127.0.0.1\").isLoopback() && ip(\"224.1.1.1\").isMulticast() && ip(\"::1\").isLoopback()"
		  " && principal.ip == ip(\"10.1.2.3\")"), REQ_ALICE, 1, "policy0", "" },
	{ "decimal", P("principal.score.greaterThan(decimal(\"0.5\")) && principal.score.lessThanOrEqual(decimal(\"0.75\"))"
		       " && !principal.score.lessThan(decimal(\"-1.0\"))"), REQ_ALICE, 1, "policy0", "" },
	{ "decimal compare with < errors", P("decimal(\"1.0\") < decimal(\"2.0\")"), REQ_ALICE, 0, "", "policy0" },
	{ "bad extension literal errors", P("ip(\"nope\") == ip(\"nope\")"), REQ_ALICE, 0, "", "policy0" },
	{ "datetime", P("context.when > datetime(\"2024-10-15\") && context.when.toDate() == datetime(\"2024-10-15\")"
			" && context.when.toTime() == duration(\"10h\") && context.when.durationSince(datetime(\"2024-10-15\")).toHours() == 10"
			" && datetime(\"2024-10-15\").offset(duration(\"1d2h\")) == datetime(\"2024-10-16T02:00:00Z\")"
			" && duration(\"90m\").toMinutes() == 90 && duration(\"-1h\") < duration(\"1ms\")"), REQ_ALICE, 1, "policy0", "" },
	{ "context defaults empty", P("!(context has n)"), REQ_BOB, 1, "policy0", "" },
	{ "templates are not evaluated", "permit(principal == ?principal, action, resource);", REQ_ALICE, 0, "", "" },
	{ "records and sets built", P("{a: principal, b: [context.n]}.b.contains(5) && {\"x y\": 1}[\"x y\"] == 1"), REQ_ALICE, 1, "policy0", "" },
	{ "string escapes", P("\"\\u{e9}\" == \"\xc3\xa9\" && !(\"a\\tb\" like \"a?b\")"), REQ_ALICE, 1, "policy0", "" },
};

static int id_list_eq(const char *want, const char **got, size_t n)
{
	size_t count = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", want);
	for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
		int found = 0;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(got[i], tok))
				found = 1;
		if (!found)
			return 0;
		count++;
	}
	return count == n;
}

static void test_policy_eval_table__decisions_reasons_errors(void)
{
	gh_policy_entities *es = NULL;
	gh_policy_error err;
	if (!CHECK_INT(gh_policy_entities_parse(&es, ENTITIES, strlen(ENTITIES), NULL, &err), 0)) {
		fprintf(stderr, "  entities: %s\n", err.message);
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const eval_case *c = &cases[i];
		gh_policy_set *ps = NULL;
		gh_policy_request *req = NULL;
		gh_policy_response *resp = NULL;
		int ok = CHECK_INT(gh_policy_set_parse(&ps, c->policies, strlen(c->policies), &err), 0);
		if (!ok) {
			fprintf(stderr, "  %s: %d:%d %s\n", c->name, err.line, err.column, err.message);
			continue;
		}
		ok = CHECK_INT(gh_policy_request_parse(&req, c->request, strlen(c->request), NULL, 0, &err), 0);
		if (ok)
			ok = CHECK_INT(gh_policy_authorize(&resp, ps, es, req), 0);
		if (ok) {
			ok &= CHECK_INT(resp->allow, c->allow);
			ok &= CHECK(id_list_eq(c->reasons, resp->reasons, resp->nreasons));
			ok &= CHECK(id_list_eq(c->errors, resp->errors, resp->nerrors));
			if (!ok) {
				fprintf(stderr, "  case '%s': allow=%d reasons=%zu errors=%zu", c->name,
					resp->allow, resp->nreasons, resp->nerrors);
				for (size_t k = 0; k < resp->nerrors; k++)
					fprintf(stderr, " [%s: %s]", resp->errors[k], resp->error_messages[k]);
				fprintf(stderr, "\n");
			}
		}
		gh_policy_response_free(resp);
		gh_policy_request_free(req);
		gh_policy_set_free(ps);
	}
	gh_policy_entities_free(es);
}

static void test_policy_eval_entities__refuses_bad_input(void)
{
	static const char *const bad[] = {
		"{}",
		"[{\"uid\":{\"type\":\"User\"}}]",
		"[{\"uid\":{\"type\":\"User\",\"id\":\"a\"}},{\"uid\":{\"type\":\"User\",\"id\":\"a\"}}]",
		"[{\"uid\":{\"type\":\"User\",\"id\":\"a\"},\"attrs\":{\"x\":1.5}}]",
		"[{\"uid\":{\"type\":\"User\",\"id\":\"a\"},\"attrs\":{\"x\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"x\"}}}}]",
		"[{\"uid\":{\"type\":\"User\",\"id\":\"a\"},\"parents\":[1]}]",
		"[",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gh_policy_entities *es = NULL;
		gh_policy_error err;
		CHECK(gh_policy_entities_parse(&es, bad[i], strlen(bad[i]), NULL, &err) < 0);
		CHECK(es == NULL);
	}
}

static void test_policy_eval_hierarchy__cycles_and_closure(void)
{
	const char *ents = "[{\"uid\":{\"type\":\"G\",\"id\":\"a\"},\"parents\":[{\"type\":\"G\",\"id\":\"b\"}]},"
			   "{\"uid\":{\"type\":\"G\",\"id\":\"b\"},\"parents\":[{\"type\":\"G\",\"id\":\"c\"}]},"
			   "{\"uid\":{\"type\":\"G\",\"id\":\"c\"},\"parents\":[{\"type\":\"G\",\"id\":\"a\"},{\"type\":\"G\",\"id\":\"d\"}]}]";
	const char *pol = "permit(principal in G::\"d\", action, resource in G::\"a\");";
	const char *rq = "{\"principal\":{\"type\":\"G\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":\"x\"},"
			 "\"resource\":{\"type\":\"G\",\"id\":\"c\"}}";
	gh_policy_entities *es = NULL;
	gh_policy_set *ps = NULL;
	gh_policy_request *req = NULL;
	gh_policy_response *resp = NULL;
	CHECK_INT(gh_policy_entities_parse(&es, ents, strlen(ents), NULL, NULL), 0);
	CHECK_INT(gh_policy_set_parse(&ps, pol, strlen(pol), NULL), 0);
	CHECK_INT(gh_policy_request_parse(&req, rq, strlen(rq), NULL, 0, NULL), 0);
	CHECK_INT(gh_policy_authorize(&resp, ps, es, req), 0);
	CHECK(resp && resp->allow == 1);
	gh_policy_response_free(resp);
	gh_policy_request_free(req);
	gh_policy_set_free(ps);
	gh_policy_entities_free(es);
}

/* Schema-based parsing: plain strings become extension values, {type,id} an entity. */
static void test_policy_eval_json__typed_by_schema(void)
{
	static const ghp_type t_ip = { GHP_T_EXTENSION, "ipaddr", NULL, 0, NULL, 0 };
	static const ghp_type t_dec = { GHP_T_EXTENSION, "decimal", NULL, 0, NULL, 0 };
	static const ghp_type t_user = { GHP_T_ENTITY, "User", NULL, 0, NULL, 0 };
	static const ghp_type t_long = { GHP_T_LONG, NULL, NULL, 0, NULL, 0 };
	static const ghp_type t_users = { GHP_T_SET, NULL, &t_user, 0, NULL, 0 };
	static const ghp_attr attrs[] = {
		{ "boss", &t_user, 1, 4 }, { "ip", &t_ip, 1, 2 }, { "n", &t_long, 0, 1 },
		{ "score", &t_dec, 1, 5 }, { "team", &t_users, 1, 4 },
	};
	static const ghp_type t_rec = { GHP_T_RECORD, NULL, NULL, 5, attrs, 0 };
	char err[256];
	ghp_arena a;
	ghp_value v;
	ghp_arena_init(&a, NULL, 0, 0);

	const char *ok = "{\"boss\":{\"type\":\"User\",\"id\":\"b\"},\"ip\":\"10.0.0.1\","
			 "\"score\":\"1.25\",\"team\":[{\"__entity\":{\"type\":\"User\",\"id\":\"c\"}}]}";
	json_t *j = json_loads(ok, 0, NULL);
	CHECK_INT(ghp_value_from_json(&a, j, &t_rec, &v, err, sizeof(err), 0), 0);
	CHECK_INT(v.kind, GHP_V_RECORD);
	CHECK_INT(ghp_record_get(&v, "boss", 4)->kind, GHP_V_ENTITY);
	CHECK_INT(ghp_record_get(&v, "ip", 2)->kind, GHP_V_IP);
	CHECK_INT(ghp_record_get(&v, "score", 5)->kind, GHP_V_DECIMAL);
	CHECK_INT(ghp_record_get(&v, "score", 5)->u.l, 12500);
	CHECK_INT(ghp_record_get(&v, "team", 4)->u.set.v[0].kind, GHP_V_ENTITY);
	json_decref(j);

	static const char *const bad[] = {
		"{\"boss\":{\"type\":\"Group\",\"id\":\"b\"},\"ip\":\"10.0.0.1\",\"score\":\"1.25\",\"team\":[]}",
		"{\"boss\":{\"type\":\"User\",\"id\":\"b\"},\"ip\":\"nope\",\"score\":\"1.25\",\"team\":[]}",
		"{\"boss\":{\"type\":\"User\",\"id\":\"b\"},\"ip\":\"10.0.0.1\",\"team\":[]}",
		"{\"boss\":{\"type\":\"User\",\"id\":\"b\"},\"ip\":\"10.0.0.1\",\"score\":\"1.25\",\"team\":[],\"x\":1}",
		"{\"boss\":{\"type\":\"User\",\"id\":\"b\"},\"ip\":\"10.0.0.1\",\"score\":\"1.25\",\"team\":[],\"n\":\"1\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i], 0, NULL);
		CHECK(j != NULL);
		CHECK_INT(ghp_value_from_json(&a, j, &t_rec, &v, err, sizeof(err), 0), -1);
		json_decref(j);
	}
	ghp_arena_free(&a);
}

/* jansson refuses NUL in object keys; the loader maps it through and back. */
static void test_policy_eval_json__nul_in_keys(void)
{
	const char *ents = "[{\"uid\":{\"type\":\"U\",\"id\":\"a\\u0000b\"},\"attrs\":{\"k\\u0000\":1}}]";
	const char *pol = "permit(principal, action, resource) when { principal[\"k\\0\"] == 1 && principal == U::\"a\\0b\" };";
	const char *rq = "{\"principal\":{\"type\":\"U\",\"id\":\"a\\u0000b\"},\"action\":{\"type\":\"Action\",\"id\":\"x\"},"
			 "\"resource\":{\"type\":\"U\",\"id\":\"r\"}}";
	gh_policy_entities *es = NULL;
	gh_policy_set *ps = NULL;
	gh_policy_request *req = NULL;
	gh_policy_response *resp = NULL;
	CHECK_INT(gh_policy_entities_parse(&es, ents, strlen(ents), NULL, NULL), 0);
	CHECK_INT(gh_policy_set_parse(&ps, pol, strlen(pol), NULL), 0);
	CHECK_INT(gh_policy_request_parse(&req, rq, strlen(rq), NULL, 0, NULL), 0);
	CHECK_INT(gh_policy_authorize(&resp, ps, es, req), 0);
	CHECK(resp && resp->allow == 1 && resp->nerrors == 0);
	gh_policy_response_free(resp);
	gh_policy_request_free(req);
	gh_policy_set_free(ps);
	gh_policy_entities_free(es);
}

int main(int argc, char **argv)
{
	static const gh_test_case tests[] = {
		{ "test_policy_eval_table__decisions_reasons_errors", test_policy_eval_table__decisions_reasons_errors },
		{ "test_policy_eval_entities__refuses_bad_input", test_policy_eval_entities__refuses_bad_input },
		{ "test_policy_eval_hierarchy__cycles_and_closure", test_policy_eval_hierarchy__cycles_and_closure },
		{ "test_policy_eval_json__typed_by_schema", test_policy_eval_json__typed_by_schema },
		{ "test_policy_eval_json__nul_in_keys", test_policy_eval_json__nul_in_keys },
		{ NULL, NULL },
	};
	return gh_test_run(tests, argc, argv);
}
