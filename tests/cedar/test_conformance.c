/* test_conformance.c - the Cedar conformance runner: test files, comparison,
 * directory runs (with a stand-in engine) and the command's usage errors. */
#include "conformance.h"
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* --- a stand-in engine ------------------------------------------------------
 * Decides from the request text alone, so that the runner's walking,
 * counting and logging can be checked whatever state src/policy is in. */

static long live;                /* objects handed out and not yet freed */
static int json_schemas, text_schemas;
static char last_request[1024];
static int last_validate = -1;

static void *fake_new(const char *text, size_t len)
{
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, text, len);
		p[len] = '\0';
		live++;
	}
	return p;
}

static void fake_free(void *p)
{
	if (p)
		live--;
	free(p);
}

static int fake_fail(gh_policy_error *err, int line, const char *msg)
{
	if (err) {
		err->line = line;
		err->column = line ? 3 : 0;
		snprintf(err->message, sizeof(err->message), "%s", msg);
	}
	return GH_POLICY_EPARSE;
}

static int fake_set_parse(gh_policy_set **out, const char *text, size_t len, gh_policy_error *err)
{
	*out = NULL;
	if (strstr(text, "BROKEN"))
		return fake_fail(err, 2, "expected ;");
	*out = fake_new(text, len);
	return *out ? 0 : GH_POLICY_ERROR;
}

static void fake_set_free(gh_policy_set *ps)
{
	fake_free(ps);
}

static int fake_schema_parse(gh_policy_schema **out, const char *text, size_t len,
			     gh_policy_error *err)
{
	text_schemas++;
	*out = NULL;
	if (strstr(text, "BADSCHEMA"))
		return fake_fail(err, 1, "bad schema");
	*out = fake_new(text, len);
	return *out ? 0 : GH_POLICY_ERROR;
}

static int fake_schema_parse_json(gh_policy_schema **out, const char *text, size_t len,
				  gh_policy_error *err)
{
	json_schemas++;
	*out = NULL;
	(void)err;
	*out = fake_new(text, len);
	return *out ? 0 : GH_POLICY_ERROR;
}

static void fake_schema_free(gh_policy_schema *s)
{
	fake_free(s);
}

static int fake_validate(char **out, const gh_policy_set *ps, const gh_policy_schema *schema)
{
	*out = NULL;
	(void)schema;
	if (strstr((const char *)ps, "INVALID")) {
		*out = strdup("[{\"policy\":\"policy0\",\"line\":1,\"column\":1,\"message\":\"no\"}]");
		return GH_POLICY_EINVALID;
	}
	return 0;
}

static int fake_entities_parse(gh_policy_entities **out, const char *json, size_t len,
			       const gh_policy_schema *schema, gh_policy_error *err)
{
	(void)schema;
	*out = NULL;
	if (strstr(json, "BADENT"))
		return fake_fail(err, 0, "bad entities");
	*out = fake_new(json, len);
	return *out ? 0 : GH_POLICY_ERROR;
}

static void fake_entities_free(gh_policy_entities *es)
{
	fake_free(es);
}

static int fake_request_parse(gh_policy_request **out, const char *json, size_t len,
			      const gh_policy_schema *schema, int validate, gh_policy_error *err)
{
	(void)schema;
	*out = NULL;
	snprintf(last_request, sizeof(last_request), "%s", json);
	last_validate = validate;
	if (strstr(json, "unparsable"))
		return fake_fail(err, 0, "bad request");
	*out = fake_new(json, len);
	return *out ? 0 : GH_POLICY_ERROR;
}

static void fake_request_free(gh_policy_request *req)
{
	fake_free(req);
}

static const char *const policy0[] = {"policy0"};
static const char *const policy1[] = {"policy1"};
static const char *const boom[] = {"boom"};

/* alice: allow by policy0; bob: deny, policy1 errored; others: deny. */
static int fake_authorize(gh_policy_response **out, const gh_policy_set *ps,
			  const gh_policy_entities *es, const gh_policy_request *req)
{
	gh_policy_response *r = calloc(1, sizeof(*r));

	(void)ps;
	(void)es;
	*out = r;
	if (!r)
		return GH_POLICY_ERROR;
	live++;
	if (strstr((const char *)req, "\"alice\"")) {
		r->allow = 1;
		r->nreasons = 1;
		r->reasons = (const char **)policy0;
	} else if (strstr((const char *)req, "\"bob\"")) {
		r->nerrors = 1;
		r->errors = (const char **)policy1;
		r->error_messages = (const char **)boom;
	}
	return 0;
}

static void fake_response_free(gh_policy_response *r)
{
	fake_free(r);
}

static const gh_conf_engine fake = {
	fake_set_parse, fake_set_parse, fake_set_free, fake_schema_parse, fake_schema_parse_json,
	fake_schema_free, fake_validate, fake_entities_parse, fake_entities_free,
	fake_request_parse, fake_request_free, fake_authorize, fake_response_free,
};

/* --- helpers ---------------------------------------------------------------- */

static json_t *j(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	CHECK(v != NULL);
	return v;
}

static char *tmp_path(const char *rel)
{
	return gh_conf_path(gh_test_tmpdir(), rel);
}

static void write_file(const char *rel, const char *text)
{
	char *path = tmp_path(rel);
	FILE *f = path ? fopen(path, "wb") : NULL;

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
}

static void make_dir(const char *rel)
{
	char *path = tmp_path(rel);

	CHECK(path && (mkdir(path, 0700) == 0 || errno == EEXIST));
	free(path);
}

/* Reads a log written by a run into a NUL-terminated buffer. */
static char *slurp(FILE *f)
{
	long n;
	char *buf;

	fflush(f);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* --- the test-file format ------------------------------------------------- */

static void test_conformance_decision__allow_deny_only(void)
{
	int allow = -1;

	CHECK_INT(gh_conf_decision(&allow, "allow"), 0);
	CHECK_INT(allow, 1);
	CHECK_INT(gh_conf_decision(&allow, "deny"), 0);
	CHECK_INT(allow, 0);
	CHECK_INT(gh_conf_decision(&allow, "Allow"), GH_POLICY_EINVALID);
	CHECK_INT(gh_conf_decision(&allow, ""), GH_POLICY_EINVALID);
	CHECK_INT(gh_conf_decision(&allow, NULL), GH_POLICY_EINVALID);
}

static void test_conformance_idset__order_and_repeats_ignored(void)
{
	json_t *two = j("[\"policy1\",\"policy0\"]"), *empty = j("[]"), *bad = j("[\"policy0\",1]");
	json_t *obj = j("{}");
	const char *got[] = {"policy0", "policy1", "policy0"};
	const char *other[] = {"policy0", "policy2"};
	const char *with_null[] = {"policy0", NULL};

	CHECK_INT(gh_conf_idset_equal(two, got, 2), 1);
	CHECK_INT(gh_conf_idset_equal(two, got, 3), 1);
	CHECK_INT(gh_conf_idset_equal(two, got, 1), 0);
	CHECK_INT(gh_conf_idset_equal(two, other, 2), 0);
	CHECK_INT(gh_conf_idset_equal(two, with_null, 2), 0);
	CHECK_INT(gh_conf_idset_equal(empty, NULL, 0), 1);
	CHECK_INT(gh_conf_idset_equal(empty, got, 1), 0);
	CHECK_INT(gh_conf_idset_equal(two, NULL, 0), 0);
	CHECK_INT(gh_conf_idset_equal(bad, got, 1), 0);
	CHECK_INT(gh_conf_idset_equal(obj, NULL, 0), 0);
	CHECK_INT(gh_conf_idset_equal(NULL, NULL, 0), 0);
	json_decref(two);
	json_decref(empty);
	json_decref(bad);
	json_decref(obj);
}

static void test_conformance_compare__decision_reasons_errors(void)
{
	json_t *req = j("{\"decision\":\"allow\",\"reason\":[\"policy0\",\"policy2\"],"
			"\"errors\":[\"policy1\"]}");
	const char *reasons[] = {"policy2", "policy0"}, *errors[] = {"policy1"};
	gh_policy_response r = {1, 2, reasons, 1, errors, NULL};
	const char *why = NULL;

	CHECK_INT(gh_conf_compare(req, &r, &why), 0);
	CHECK(why == NULL);
	r.allow = 0;
	CHECK_INT(gh_conf_compare(req, &r, &why), 1);
	CHECK_STR(why, "the decision differs");
	r.allow = 1;
	r.nreasons = 1;
	CHECK_INT(gh_conf_compare(req, &r, &why), 1);
	CHECK_STR(why, "the reasons differ");
	r.nreasons = 2;
	r.nerrors = 0;
	CHECK_INT(gh_conf_compare(req, &r, &why), 1);
	CHECK_STR(why, "the erroring policies differ");
	json_decref(req);
}

static void test_conformance_compare__absent_lists_are_empty(void)
{
	json_t *req = j("{\"decision\":\"deny\"}");
	const char *ids[] = {"policy0"};
	gh_policy_response r = {0, 0, NULL, 0, NULL, NULL};
	const char *why;

	CHECK_INT(gh_conf_compare(req, &r, &why), 0);
	r.nerrors = 1;
	r.errors = ids;
	CHECK_INT(gh_conf_compare(req, &r, &why), 1);
	json_decref(req);
}

static void test_conformance_compare__malformed_expectations(void)
{
	const char *cases[] = {
		"{\"decision\":\"maybe\",\"reason\":[],\"errors\":[]}",
		"{\"reason\":[],\"errors\":[]}",
		"{\"decision\":\"deny\",\"reason\":\"policy0\",\"errors\":[]}",
		"{\"decision\":\"deny\",\"reason\":[],\"errors\":[{\"policyId\":\"policy0\"}]}",
	};
	gh_policy_response r = {0, 0, NULL, 0, NULL, NULL};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *req = j(cases[i]);
		const char *why = NULL;

		CHECK_INT(gh_conf_compare(req, &r, &why), GH_POLICY_EINVALID);
		CHECK(why != NULL);
		json_decref(req);
	}
}

static void test_conformance_path__relative_absolute_too_long(void)
{
	char *p, big[5000];

	p = gh_conf_path("/work/shared/cedar", "tests/decimal/policies_1.cedar");
	CHECK_STR(p, "/work/shared/cedar/tests/decimal/policies_1.cedar");
	free(p);
	p = gh_conf_path("build/cedar-corpus/", "corpus-tests/a.cedar");
	CHECK_STR(p, "build/cedar-corpus/corpus-tests/a.cedar");
	free(p);
	p = gh_conf_path("/", "x.json");
	CHECK_STR(p, "/x.json");
	free(p);
	p = gh_conf_path("somewhere", "/abs/p.cedar");
	CHECK_STR(p, "/abs/p.cedar");
	free(p);
	CHECK(gh_conf_path("d", "") == NULL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(gh_conf_path("d", big) == NULL);
}

static void test_conformance_test_parse__as_in_the_cedar_tests(void)
{
	json_t *doc = j("{\"policies\":\"tests/decimal/policies_1.cedar\","
			"\"entities\":\"sample-data/sandbox_b/entities.json\","
			"\"schema\":\"sample-data/sandbox_b/schema_exts.cedarschema\","
			"\"shouldValidate\":false,\"requests\":[{},{}]}");
	gh_conf_test t;

	CHECK(gh_conf_is_test(doc));
	CHECK_INT(gh_conf_test_parse(&t, doc, "/work/shared/cedar"), 0);
	CHECK_STR(t.policies, "/work/shared/cedar/tests/decimal/policies_1.cedar");
	CHECK_STR(t.entities, "/work/shared/cedar/sample-data/sandbox_b/entities.json");
	CHECK_STR(t.schema, "/work/shared/cedar/sample-data/sandbox_b/schema_exts.cedarschema");
	CHECK_INT(t.should_validate, 0);
	CHECK_INT(json_array_size(t.requests), 2);
	gh_conf_test_free(&t);
	CHECK(t.policies == NULL && t.requests == NULL);
	gh_conf_test_free(&t);
	json_decref(doc);
}

static void test_conformance_test_parse__optional_and_malformed(void)
{
	json_t *doc = j("{\"policies\":\"p.cedar\",\"requests\":[]}");
	gh_conf_test t;
	const char *bad[] = {
		"{\"requests\":[]}",
		"{\"policies\":\"\",\"requests\":[]}",
		"{\"policies\":3,\"requests\":[]}",
		"{\"policies\":\"p\",\"requests\":{}}",
		"{\"policies\":\"p\",\"schema\":[],\"requests\":[]}",
		"{\"policies\":\"p\",\"shouldValidate\":\"yes\",\"requests\":[]}",
		"[]",
	};

	CHECK_INT(gh_conf_test_parse(&t, doc, "d"), 0);
	CHECK_STR(t.policies, "d/p.cedar");
	CHECK(t.entities == NULL && t.schema == NULL);
	CHECK_INT(t.should_validate, -1);
	gh_conf_test_free(&t);
	json_decref(doc);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc = j(bad[i]);
		CHECK_INT(gh_conf_test_parse(&t, doc, "d"), GH_POLICY_EINVALID);
		CHECK(t.policies == NULL && t.requests == NULL);
		json_decref(doc);
	}
	doc = j("{\"uid\":{\"type\":\"User\",\"id\":\"a\"}}");
	CHECK(!gh_conf_is_test(doc));
	json_decref(doc);
	doc = j("[{\"policies\":1,\"requests\":2}]");
	CHECK(!gh_conf_is_test(doc));
	json_decref(doc);
}

static void test_conformance_request_json__only_the_request(void)
{
	json_t *req = j("{\"description\":\"d\",\"principal\":{\"type\":\"U\",\"id\":\"a\"},"
			"\"action\":{\"type\":\"Action\",\"id\":\"view\"},"
			"\"resource\":{\"type\":\"P\",\"id\":\"x\"},\"validateRequest\":false,"
			"\"decision\":\"allow\",\"reason\":[],\"errors\":[]}");
	json_t *out = gh_conf_request_json(req);
	char *text = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	CHECK_STR(text, "{\"action\":{\"id\":\"view\",\"type\":\"Action\"},\"context\":{},"
			"\"principal\":{\"id\":\"a\",\"type\":\"U\"},"
			"\"resource\":{\"id\":\"x\",\"type\":\"P\"}}");
	CHECK_INT(gh_conf_validate_request(req), 0);
	json_object_del(req, "validateRequest");
	CHECK_INT(gh_conf_validate_request(req), 1);
	json_object_set_new(req, "validateRequest", json_true());
	CHECK_INT(gh_conf_validate_request(req), 1);
	free(text);
	json_decref(out);
	json_decref(req);
}

/* --- runs over a directory ------------------------------------------------ */

#define ALICE "{\"type\":\"User\",\"id\":\"alice\"}"
#define BOB "{\"type\":\"User\",\"id\":\"bob\"}"
#define ACT "\"action\":{\"type\":\"Action\",\"id\":\"view\"},\"resource\":{\"type\":\"P\",\"id\":\"x\"}"

static void make_tree(void)
{
	make_dir("run");
	make_dir("run/tests");
	make_dir("run/tests/a");
	make_dir("run/tests/b");
	make_dir("run/tests/b/deeper");
	make_dir("run/sample");
	write_file("run/sample/schema.cedarschema", "entity User;");
	write_file("run/sample/schema.json", "{\"\":{\"entityTypes\":{}}}");
	write_file("run/sample/entities.json", "[]");
	write_file("run/tests/a/policies.cedar", "permit(principal, action, resource);");
	write_file("run/tests/a/invalid.cedar", "permit(principal, action, resource) INVALID;");
	write_file("run/tests/a/broken.cedar", "permit(\nBROKEN");
	/* alice allow (pass), bob deny with policy1 errored (pass), bob expected allow
	 * (fail), an unparsable request (fail), validateRequest false */
	write_file("run/tests/a/1.json",
		   "{\"policies\":\"tests/a/policies.cedar\",\"entities\":\"sample/entities.json\","
		   "\"schema\":\"sample/schema.cedarschema\",\"shouldValidate\":true,\"requests\":["
		   "{\"description\":\"one\",\"principal\":" ALICE "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]},"
		   "{\"description\":\"two\",\"principal\":" BOB "," ACT ",\"context\":{},"
		   "\"validateRequest\":false,"
		   "\"decision\":\"deny\",\"reason\":[],\"errors\":[\"policy1\"]},"
		   "{\"description\":\"three\",\"principal\":" BOB "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]},"
		   "{\"description\":\"four\",\"principal\":{\"type\":\"U\",\"id\":\"unparsable\"},"
		   ACT ",\"context\":{},\"decision\":\"deny\",\"reason\":[],\"errors\":[]}]}");
	/* policies that do not parse: both requests fail, validation disagrees */
	write_file("run/tests/a/2.json",
		   "{\"policies\":\"tests/a/broken.cedar\",\"schema\":\"sample/schema.json\","
		   "\"shouldValidate\":true,\"requests\":["
		   "{\"principal\":" ALICE "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]},"
		   "{\"principal\":" ALICE "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]}]}");
	/* invalid policies expected invalid (agree); no entities file */
	write_file("run/tests/b/3.json",
		   "{\"policies\":\"tests/a/invalid.cedar\",\"schema\":\"sample/schema.cedarschema\","
		   "\"shouldValidate\":false,\"requests\":["
		   "{\"principal\":" ALICE "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]}]}");
	/* no schema: validation not checked */
	write_file("run/tests/b/deeper/4.json",
		   "{\"policies\":\"tests/a/policies.cedar\",\"requests\":["
		   "{\"principal\":" ALICE "," ACT ","
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]}]}");
	/* not tests: skipped */
	write_file("run/tests/b/5.entities.json", "{\"policies\":1,\"requests\":[]}");
	write_file("run/tests/b/other.json", "{\"name\":\"not a test\"}");
	write_file("run/tests/b/notes.txt", "{\"policies\":\"x\",\"requests\":[]}");
	write_file("run/.hidden.json", "{\"policies\":\"x\",\"requests\":[{}]}");
}

static void test_conformance_run__counts_and_log(void)
{
	gh_conf_counts n = {0};
	char *root = tmp_path("run");
	FILE *log = tmpfile();
	char *text;
	json_t *first;

	make_tree();
	text_schemas = json_schemas = 0;
	CHECK(log != NULL);
	CHECK_INT(gh_conf_run(&n, root, &fake, log), 0);
	CHECK_INT(n.files, 4);
	CHECK_INT(n.passed, 4);          /* 1.json: one, two; 3.json; 4.json */
	CHECK_INT(n.failed, 4);          /* 1.json: three, four; 2.json: both */
	CHECK_INT(n.agree, 2);           /* 1.json, 3.json */
	CHECK_INT(n.disagree, 1);        /* 2.json */
	CHECK_INT(n.unchecked, 1);       /* 4.json */
	CHECK_INT(n.unreadable, 0);
	CHECK_INT(json_schemas, 1);
	CHECK_INT(text_schemas, 2);
	CHECK_INT(live, 0);
	text = slurp(log);
	CHECK_INT(count_lines(text), 5); /* four failed requests, one disagreement */
	/* files run in name order: 1.json's third request is the first failure */
	first = text ? json_loadb(text, strcspn(text, "\n"), 0, NULL) : NULL;
	CHECK(first != NULL);
	CHECK(strstr(json_string_value(json_object_get(first, "file")), "/tests/a/1.json") != NULL);
	CHECK_INT(json_integer_value(json_object_get(first, "request")), 2);
	CHECK_STR(json_string_value(json_object_get(first, "error")), "the decision differs");
	CHECK_STR(json_string_value(json_object_get(json_object_get(first, "got"), "decision")),
		  "deny");
	CHECK_STR(json_string_value(json_object_get(json_object_get(first, "expected"),
						    "decision")), "allow");
	CHECK(text && strstr(text, "\"error\":\"request: bad request\"") != NULL);
	CHECK(text && strstr(text, "broken.cedar:2:3: expected ;") != NULL);
	CHECK(text && strstr(text, "\"validation\":{\"expected\":true,\"got\":null}") != NULL);
	json_decref(first);
	free(text);
	fclose(log);
	free(root);
}

static void test_conformance_run__validate_request_flag(void)
{
	gh_conf_counts n = {0};
	char *root;

	make_dir("flag");
	make_dir("flag/t");
	write_file("flag/p.cedar", "permit(principal, action, resource);");
	write_file("flag/s.cedarschema", "entity User;");
	write_file("flag/t/1.json",
		   "{\"policies\":\"p.cedar\",\"schema\":\"s.cedarschema\",\"requests\":["
		   "{\"principal\":" ALICE "," ACT ",\"context\":{},\"validateRequest\":false,"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]}]}");
	root = tmp_path("flag");
	last_validate = -1;
	CHECK_INT(gh_conf_run(&n, root, &fake, NULL), 0);
	CHECK_INT(last_validate, 0);
	CHECK_INT(n.passed, 1);
	CHECK_INT(n.unchecked, 1);       /* no shouldValidate */
	write_file("flag/t/1.json",
		   "{\"policies\":\"p.cedar\",\"schema\":\"s.cedarschema\",\"requests\":["
		   "{\"principal\":" ALICE "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]}]}");
	CHECK_INT(gh_conf_run(&n, root, &fake, NULL), 0);
	CHECK_INT(last_validate, 1);
	/* without a schema there is nothing to validate against */
	write_file("flag/t/1.json",
		   "{\"policies\":\"p.cedar\",\"requests\":["
		   "{\"principal\":" ALICE "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]}]}");
	CHECK_INT(gh_conf_run(&n, root, &fake, NULL), 0);
	CHECK_INT(last_validate, 0);
	CHECK_INT(n.passed, 3);
	CHECK_INT(live, 0);
	free(root);
}

static void test_conformance_run__nul_in_keys_reaches_the_engine(void)
{
	gh_conf_counts n = {0};
	char *root;

	make_dir("nul");
	make_dir("nul/t");
	write_file("nul/p.cedar", "permit(principal, action, resource);");
	/* jansson refuses NUL in object keys; the runner must still send it */
	write_file("nul/t/1.json",
		   "{\"policies\":\"p.cedar\",\"requests\":["
		   "{\"principal\":{\"type\":\"User\",\"id\":\"alice\\u0000\"}," ACT ","
		   "\"context\":{\"k\\u0000\":\"v\\u0000\",\"q\\\\u0000\":1},"
		   "\"decision\":\"deny\",\"reason\":[],\"errors\":[]}]}");
	root = tmp_path("nul");
	CHECK_INT(gh_conf_run(&n, root, &fake, NULL), 0);
	CHECK_INT(n.files, 1);
	CHECK_INT(n.unreadable, 0);
	CHECK_INT(n.passed + n.failed, 1);
	CHECK(strstr(last_request, "\"k\\u0000\":\"v\\u0000\"") != NULL);
	CHECK(strstr(last_request, "\"alice\\u0000\"") != NULL);
	CHECK(strstr(last_request, "\"q\\\\u0000\"") != NULL);
	CHECK(strstr(last_request, "E000") == NULL);
	/* the stand-in already present: not swapped, so not readable */
	write_file("nul/t/1.json",
		   "{\"policies\":\"p.cedar\",\"requests\":["
		   "{\"principal\":" ALICE "," ACT ",\"context\":{\"k\\u0000\":\"\\ue000\"},"
		   "\"decision\":\"deny\",\"reason\":[],\"errors\":[]}]}");
	CHECK_INT(gh_conf_run(&n, root, &fake, NULL), 0);
	CHECK_INT(n.files, 1);
	CHECK_INT(n.unreadable, 1);
	CHECK_INT(live, 0);
	free(root);
}

static void test_conformance_run__missing_dir_and_malformed_test(void)
{
	gh_conf_counts n = {0};
	char *root, *missing = tmp_path("no-such-dir");

	CHECK(gh_conf_run(&n, missing, &fake, NULL) != 0);
	make_dir("mal");
	write_file("mal/1.json", "{\"policies\":7,\"requests\":[{},{},{}]}");
	write_file("mal/2.json", "{\"policies\":\"x\",\"requests\":7}");
	root = tmp_path("mal");
	CHECK_INT(gh_conf_run(&n, root, &fake, NULL), 0);
	CHECK_INT(n.files, 2);
	CHECK_INT(n.failed, 4);
	CHECK_INT(n.passed, 0);
	CHECK_INT(live, 0);
	free(root);
	free(missing);
}

/* --- the command's usage errors (they do not reach the engine) ------------ */

static int conf_cmd(const char *const words[], FILE *out)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = (char *)"cedar_conformance";
	for (int i = 0; words[i] && argc < 15; i++)
		argv[argc++] = (char *)words[i];
	argv[argc] = NULL;
	return gh_conf_main(argc, argv, out);
}

static void test_conformance_cmd__usage_errors(void)
{
	char *empty = tmp_path("empty"), *missing = tmp_path("no-such-dir");
	const char *const no_dir[] = {NULL};
	const char *const only_verbose[] = {"--verbose", NULL};
	const char *const bad_opt[] = {"--bogus", empty, NULL};
	const char *const no_tests[] = {empty, NULL};
	const char *const verbose_missing[] = {"--verbose", missing, NULL};
	const char *const help[] = {"--help", NULL};
	FILE *out = tmpfile();

	CHECK(out != NULL);
	make_dir("empty");
	write_file("empty/other.json", "{\"not\":\"a test\"}");
	CHECK_INT(conf_cmd(no_dir, out), 2);
	CHECK_INT(conf_cmd(only_verbose, out), 2);
	CHECK_INT(conf_cmd(bad_opt, out), 2);
	CHECK_INT(conf_cmd(no_tests, out), 2);
	CHECK_INT(conf_cmd(verbose_missing, out), 2);
	CHECK_INT(conf_cmd(help, out), 0);
	if (out)
		fclose(out);
	free(empty);
	free(missing);
}

/* Through the policy library itself: a failure's JSON line with --verbose,
 * then the summary's three lines, the last one the suite's scripts read. */
static void test_conformance_cmd__summary_lines(void)
{
	const char *words[3] = {"--verbose", NULL, NULL};
	FILE *out = tmpfile();
	char *text;

	make_dir("real");
	make_dir("real/t");
	write_file("real/p.cedar", "permit(principal, action, resource);");
	write_file("real/t/1.json",
		   "{\"policies\":\"p.cedar\",\"requests\":["
		   "{\"principal\":" ALICE "," ACT ",\"context\":{},"
		   "\"decision\":\"allow\",\"reason\":[\"policy0\"],\"errors\":[]},"
		   "{\"principal\":" BOB "," ACT ",\"context\":{},"
		   "\"decision\":\"deny\",\"reason\":[],\"errors\":[]}]}");
	words[1] = tmp_path("real");
	CHECK(out != NULL);
	CHECK_INT(conf_cmd(words, out), 1);
	text = slurp(out);
	CHECK(text && strstr(text, "\"error\":\"the decision differs\"}\n"
			     "tests: 1 files, 2 requests, 0 unreadable files\n"
			     "validation: 0 agree, 0 disagree (1 not checked)\n"
			     "1 passed, 1 failed\n") != NULL);
	CHECK_INT(count_lines(text), 4);
	free(text);
	fclose(out);
	free((char *)words[1]);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_conformance_decision__allow_deny_only", test_conformance_decision__allow_deny_only},
		{"test_conformance_idset__order_and_repeats_ignored",
		 test_conformance_idset__order_and_repeats_ignored},
		{"test_conformance_compare__decision_reasons_errors",
		 test_conformance_compare__decision_reasons_errors},
		{"test_conformance_compare__absent_lists_are_empty",
		 test_conformance_compare__absent_lists_are_empty},
		{"test_conformance_compare__malformed_expectations",
		 test_conformance_compare__malformed_expectations},
		{"test_conformance_path__relative_absolute_too_long",
		 test_conformance_path__relative_absolute_too_long},
		{"test_conformance_test_parse__as_in_the_cedar_tests",
		 test_conformance_test_parse__as_in_the_cedar_tests},
		{"test_conformance_test_parse__optional_and_malformed",
		 test_conformance_test_parse__optional_and_malformed},
		{"test_conformance_request_json__only_the_request",
		 test_conformance_request_json__only_the_request},
		{"test_conformance_run__counts_and_log", test_conformance_run__counts_and_log},
		{"test_conformance_run__validate_request_flag", test_conformance_run__validate_request_flag},
		{"test_conformance_run__nul_in_keys_reaches_the_engine",
		 test_conformance_run__nul_in_keys_reaches_the_engine},
		{"test_conformance_run__missing_dir_and_malformed_test",
		 test_conformance_run__missing_dir_and_malformed_test},
		{"test_conformance_cmd__usage_errors", test_conformance_cmd__usage_errors},
		{"test_conformance_cmd__summary_lines", test_conformance_cmd__summary_lines},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
