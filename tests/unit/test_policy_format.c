/* test_policy_format.c - canonical Cedar text and policy JSON (EST): fixed points, round
 * trips over the handwritten and generated Cedar tests, template links, bad JSON refused. */
#include "harness.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

static char *fmt_text(const char *text, size_t len, gh_policy_error *err)
{
	gh_policy_set *ps = NULL;
	char *out = NULL;
	if (gh_policy_set_parse(&ps, text, len, err) == 0)
		gh_policy_set_format(&out, ps);
	gh_policy_set_free(ps);
	return out;
}

/* format(parse(text)) parses, is a fixed point, and survives text -> JSON -> text.
 * Returns 0 when all hold; what failed is printed. */
static int check_round_trip(const char *name, const char *text, size_t len)
{
	gh_policy_error err;
	gh_policy_set *ps = NULL, *back = NULL;
	char *f1 = NULL, *f2 = NULL, *json = NULL, *f3 = NULL;
	int bad = 1;

	if (gh_policy_set_parse(&ps, text, len, &err))
		return 0; /* not our concern here */
	if (gh_policy_set_format(&f1, ps) || !f1) {
		fprintf(stderr, "  %s: format failed\n", name);
		goto out;
	}
	if (!(f2 = fmt_text(f1, strlen(f1), &err))) {
		fprintf(stderr, "  %s: formatted text does not parse: %d:%d %s\n%s\n", name, err.line,
			err.column, err.message, f1);
		goto out;
	}
	if (strcmp(f1, f2)) {
		fprintf(stderr, "  %s: not a fixed point:\n%s\n---\n%s\n", name, f1, f2);
		goto out;
	}
	if (gh_policy_set_to_json(&json, ps) || !json) {
		fprintf(stderr, "  %s: to_json failed\n", name);
		goto out;
	}
	if (gh_policy_set_parse_json(&back, json, strlen(json), &err)) {
		fprintf(stderr, "  %s: JSON does not parse back: %s\n%s\n", name, err.message, json);
		goto out;
	}
	if (gh_policy_set_format(&f3, back) || !f3 || strcmp(f1, f3)) {
		fprintf(stderr, "  %s: text -> JSON -> text differs:\n%s\n---\n%s\n", name, f1,
			f3 ? f3 : "(null)");
		goto out;
	}
	bad = 0;
out:
	gh_policy_set_free(ps);
	gh_policy_set_free(back);
	free(f1);
	free(f2);
	free(f3);
	free(json);
	return bad;
}

static const char *const samples[] = {
	"permit(principal, action, resource);",
	"@id(\"p1\") @advice forbid(principal == User::\"a\\\"b\", action in [Action::\"a\", NS::Action::\"b\"], resource is NS::Photo in Album::\"x\") when { true } unless { false };",
	"permit(principal in ?principal, action == Action::\"v\", resource is T in ?resource);",
	"permit(principal, action, resource) when { if context.a then 1 < 2 else !(3 >= 4) };",
	"permit(principal, action, resource) when { principal.age + 1 - -2 * 3 == --4 };",
	"permit(principal, action, resource) when { -(5).x && -(5.x) && --5.y && !-5 && (-5).z };",
	"permit(principal, action, resource) when { !!!!(!true) && -(-(-(-(-5)))) == 5 && !!!-5 == 1 };",
	"permit(principal, action, resource) when { (1 + 2) * 3 == 1 + (2 * 3) && 1 - (2 - 3) == (1 - 2) - 3 };",
	"permit(principal, action, resource) when { (true || false) && true || (false && true) };",
	"permit(principal, action, resource) when { (if true then 1 else 2) + 3 == (if false then 4 else 5) };",
	"permit(principal, action, resource) when { (principal is User) in Group::\"g\" && principal is User in [Group::\"a\"] };",
	"permit(principal, action, resource) when { context has \"a b\" && context[\"a b\"] like \"x\\*y*\\\"*\" && context has \"if\" };",
	"permit(principal, action, resource) when { resource has a.b.c && resource[\"if\"].x == context.then };",
	"permit(principal, action, resource) when { [1, \"two\", {a: 1, \"b c\": [true], if: -1}].contains(1) && [].isEmpty() };",
	"permit(principal, action, resource) when { ip(\"10.0.0.1\").isInRange(ip(\"10.0.0.0/8\")) && ip(\"::1\").isLoopback() };",
	"permit(principal, action, resource) when { decimal(\"1.5\").lessThan(decimal(\"-2.0\")) && decimal(\"bad\") == 1 && ip() == ip(\"a\", \"b\") };",
	"permit(principal, action, resource) when { datetime(\"2024-10-15\").offset(duration(\"-1h30m\")) > datetime(\"0000-01-01T00:00:00+0100\") };",
	"permit(principal, action, resource) when { datetime(\"9999-12-31T23:59:59.999-2359\").toDate() == datetime(\"1970-01-01\") };",
	"permit(principal, action, resource) when { principal.getTag(\"t\") == 1 && principal.hasTag(\"t\") && [1].containsAll([1]) && [1].containsAny([]) };",
	"permit(principal, action, resource) when { -9223372036854775808 < 9223372036854775807 };",
	"permit(principal, action, resource) when { \"\\u{1F600}\\n\\t\\r\\0\\\\\\'\\\"\\x41\\x7f\" != \"\" && {\"a\\0b\": 1} has \"a\\0b\" };",
	"permit(principal, action, resource) when { (1 == 2) == (3 != 4) && (1 < 2) in [true] };",
	"permit(principal, action, resource) when { 1 } when { 2 } unless { 3 };\nforbid(principal, action, resource);\n\npermit(principal, action, resource);",
	"",
};

static void test_policy_format_samples__fixed_point_and_json_round_trip(void)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char name[32];
		gh_policy_set *ps = NULL;
		gh_policy_error err;
		snprintf(name, sizeof(name), "sample %zu", i);
		if (!CHECK_INT(gh_policy_set_parse(&ps, samples[i], strlen(samples[i]), &err), 0))
			fprintf(stderr, "  %s: %d:%d %s\n", name, err.line, err.column, err.message);
		gh_policy_set_free(ps);
		CHECK_INT(check_round_trip(name, samples[i], strlen(samples[i])), 0);
	}
}

static void expect_format(const char *text, const char *want)
{
	gh_policy_error err;
	char *got = fmt_text(text, strlen(text), &err);
	if (!CHECK(got != NULL))
		fprintf(stderr, "  %s: %s\n", text, err.message);
	else if (!CHECK_STR(got, want))
		fprintf(stderr, "  from: %s\n", text);
	free(got);
}

static void test_policy_format_layout__canonical_text(void)
{
	expect_format("@id( \"x\" )@b permit(principal==User::\"a\",action,resource,)when{1+2*3<4};",
		      "@id(\"x\")\n@b\npermit (\n  principal == User::\"a\",\n  action,\n  resource\n)\n"
		      "when { 1 + 2 * 3 < 4 };\n");
	expect_format("permit(principal,action,resource);forbid(principal,action,resource);",
		      "permit (\n  principal,\n  action,\n  resource\n);\n\n"
		      "forbid (\n  principal,\n  action,\n  resource\n);\n");
	expect_format("permit(principal,action,resource) when { ((1 + 2)) * (3) };",
		      "permit (\n  principal,\n  action,\n  resource\n)\nwhen { (1 + 2) * 3 };\n");
	expect_format("permit(principal,action,resource) when { -(5) + -5 - (-5).x };",
		      "permit (\n  principal,\n  action,\n  resource\n)\nwhen { -(5) + -5 - -5.x };\n");
	expect_format("permit(principal,action,resource) when { !!!!(!context.y) };",
		      "permit (\n  principal,\n  action,\n  resource\n)\nwhen { !!!!(!context.y) };\n");
	expect_format("permit(principal,action,resource) when { context[\"a\"][\"b c\"] has \"d e\" };",
		      "permit (\n  principal,\n  action,\n  resource\n)\nwhen { context.a[\"b c\"] has \"d e\" };\n");
	expect_format("permit(principal,action,resource) when { context like \"a*\\*\\n\" };",
		      "permit (\n  principal,\n  action,\n  resource\n)\nwhen { context like \"a*\\*\\n\" };\n");
	expect_format("", "");
}

/* --- the Cedar test files --------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = 0;
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static const char *cedar_dir(void)
{
	const char *d = getenv("GH_CEDAR_DIR");
	static char buf[PATH_MAX];
	if (d)
		return d;
	if (getcwd(buf, sizeof(buf) - 20)) {
		strcat(buf, "/../shared/cedar");
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return "/work/shared/cedar";
}

/* The extracted corpus: BUILD/cedar-corpus next to this binary, or a fresh one. */
static const char *corpus_dir(void)
{
	static char buf[PATH_MAX];
	char exe[1024], cmd[3 * PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, sizeof(buf), "%s/cedar-corpus/.extracted", exe);
			if (access(buf, R_OK) == 0) {
				snprintf(buf, sizeof(buf), "%s/cedar-corpus", exe);
				return buf;
			}
		}
	}
	snprintf(buf, sizeof(buf), "%s/corpus", gh_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && tar -xzf '%s/corpus-tests.tar.gz' -C '%s'", buf,
		 cedar_dir(), buf);
	return system(cmd) == 0 ? buf : NULL;
}

static int same_ids(const char **a, size_t na, const char **b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		size_t k = 0;
		while (k < nb && strcmp(a[i], b[k]))
			k++;
		if (k == nb)
			return 0;
	}
	return 1;
}

typedef struct counts {
	int files, policies, requests, failed;
} counts;

/* One test file: policies round trip, and every request gets the same answer from
 * the parsed, the formatted and the JSON-converted policy set. */
static void run_test_file(const char *base, const char *path, counts *n)
{
	char p[PATH_MAX];
	size_t len;
	json_error_t je;
	json_t *t = json_load_file(path, JSON_ALLOW_NUL, &je);
	gh_policy_set *sets[3] = { NULL, NULL, NULL };
	gh_policy_schema *schema = NULL;
	gh_policy_entities *es = NULL;
	char *text = NULL, *f = NULL, *json = NULL, *stext = NULL, *etext = NULL;
	const char *pf = json_string_value(json_object_get(t, "policies"));
	const char *sf = json_string_value(json_object_get(t, "schema"));
	const char *ef = json_string_value(json_object_get(t, "entities"));

	if (!t || !pf)
		goto out;
	n->files++;
	snprintf(p, sizeof(p), "%s/%s", base, pf);
	if (!(text = slurp(p, &len)) || gh_policy_set_parse(&sets[0], text, len, NULL))
		goto out;
	n->policies++;
	if (check_round_trip(p, text, len)) {
		n->failed++;
		goto out;
	}
	if (gh_policy_set_format(&f, sets[0]) || gh_policy_set_parse(&sets[1], f, strlen(f), NULL) ||
	    gh_policy_set_to_json(&json, sets[0]) ||
	    gh_policy_set_parse_json(&sets[2], json, strlen(json), NULL)) {
		n->failed++;
		goto out;
	}
	snprintf(p, sizeof(p), "%s/%s", base, sf ? sf : "");
	if (sf && (stext = slurp(p, &len)) && gh_policy_schema_parse(&schema, stext, len, NULL))
		schema = NULL;
	snprintf(p, sizeof(p), "%s/%s", base, ef ? ef : "");
	if (!ef || !(etext = slurp(p, &len)) ||
	    gh_policy_entities_parse(&es, etext, len, schema, NULL))
		goto out;
	json_t *reqs = json_object_get(t, "requests"), *r;
	size_t i;
	json_array_foreach(reqs, i, r) {
		json_t *q = json_pack("{s:O,s:O,s:O,s:O?}", "principal", json_object_get(r, "principal"),
				      "action", json_object_get(r, "action"), "resource",
				      json_object_get(r, "resource"), "context",
				      json_object_get(r, "context"));
		char *qs = q ? json_dumps(q, 0) : NULL;
		gh_policy_request *req = NULL;
		json_decref(q);
		if (!qs || gh_policy_request_parse(&req, qs, strlen(qs), schema, 0, NULL)) {
			free(qs);
			continue;
		}
		free(qs);
		gh_policy_response *resp[3] = { NULL, NULL, NULL };
		int ok = 1;
		for (int k = 0; k < 3; k++)
			if (gh_policy_authorize(&resp[k], sets[k], es, req))
				ok = 0;
		for (int k = 1; ok && k < 3; k++)
			ok = resp[0]->allow == resp[k]->allow &&
			     same_ids(resp[0]->reasons, resp[0]->nreasons, resp[k]->reasons,
				      resp[k]->nreasons) &&
			     same_ids(resp[0]->errors, resp[0]->nerrors, resp[k]->errors,
				      resp[k]->nerrors);
		n->requests++;
		if (!ok) {
			n->failed++;
			fprintf(stderr, "  %s: request %zu answered differently after formatting\n",
				path, i);
		}
		for (int k = 0; k < 3; k++)
			gh_policy_response_free(resp[k]);
		gh_policy_request_free(req);
	}
out:
	for (int k = 0; k < 3; k++)
		gh_policy_set_free(sets[k]);
	gh_policy_schema_free(schema);
	gh_policy_entities_free(es);
	free(text);
	free(f);
	free(json);
	free(stext);
	free(etext);
	json_decref(t);
}

static void run_dir(const char *base, const char *dir, counts *n, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char p[PATH_MAX];
	if (!d)
		return;
	while ((ent = readdir(d))) {
		size_t l = strlen(ent->d_name);
		if (ent->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, ent->d_name);
		if (depth < 2 && l > 0 && !strchr(ent->d_name, '.'))
			run_dir(base, p, n, depth + 1);
		else if (l > 5 && !strcmp(ent->d_name + l - 5, ".json") &&
			 !strstr(ent->d_name, ".entities.json"))
			run_test_file(base, p, n);
	}
	closedir(d);
}

static void test_policy_format_handwritten__same_answers(void)
{
	counts n = { 0 };
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/tests", cedar_dir());
	run_dir(cedar_dir(), dir, &n, 0);
	fprintf(stderr, "  handwritten: %d files, %d policy sets, %d requests, %d failed\n", n.files,
		n.policies, n.requests, n.failed);
	CHECK(n.policies >= 20);
	CHECK(n.requests >= 70);
	CHECK_INT(n.failed, 0);
}

static void test_policy_format_corpus__same_answers(void)
{
	counts n = { 0 };
	const char *base = corpus_dir();
	char dir[PATH_MAX + 64];
	if (!CHECK(base != NULL))
		return;
	snprintf(dir, sizeof(dir), "%s/corpus-tests", base);
	run_dir(base, dir, &n, 0);
	fprintf(stderr, "  corpus: %d files, %d policy sets, %d requests, %d failed\n", n.files,
		n.policies, n.requests, n.failed);
	CHECK(n.policies >= 5000);
	CHECK(n.requests >= 40000);
	CHECK_INT(n.failed, 0);
}

/* --- policy JSON ------------------------------------------------------------ */

static const char *const link_doc =
	"{\"staticPolicies\": {\"s1\": {\"effect\": \"permit\", \"principal\": {\"op\": \"All\"},"
	" \"action\": {\"op\": \"==\", \"entity\": {\"type\": \"Action\", \"id\": \"view\"}},"
	" \"resource\": {\"op\": \"All\"}, \"conditions\": [{\"kind\": \"when\", \"body\":"
	" {\"==\": {\"left\": {\".\": {\"left\": {\"Var\": \"context\"}, \"attr\": \"k\"}},"
	" \"right\": {\"Value\": 1}}}}]}},"
	" \"templates\": {\"t1\": {\"effect\": \"permit\", \"principal\": {\"op\": \"in\", \"slot\": \"?principal\"},"
	" \"action\": {\"op\": \"All\"}, \"resource\": {\"op\": \"is\", \"entity_type\": \"Photo\","
	" \"in\": {\"slot\": \"?resource\"}}, \"conditions\": [],"
	" \"annotations\": {\"id\": \"share\", \"flag\": null}}},"
	" \"templateLinks\": [{\"templateId\": \"t1\", \"newId\": \"alice-album\", \"values\": {"
	" \"?principal\": {\"type\": \"User\", \"id\": \"alice\"}, \"?resource\": {\"type\": \"Album\", \"id\": \"a\"}}},"
	" {\"templateId\": \"t1\", \"newId\": \"bob-album\", \"values\": {"
	" \"?principal\": {\"__entity\": {\"type\": \"User\", \"id\": \"bob\"}}, \"?resource\": {\"type\": \"Album\", \"id\": \"b\"}}}]}";

static gh_policy_response *decide(const gh_policy_set *ps, const gh_policy_entities *es,
				  const char *p, const char *r)
{
	char q[512];
	gh_policy_request *req = NULL;
	gh_policy_response *resp = NULL;
	snprintf(q, sizeof(q),
		 "{\"principal\": {\"type\": \"User\", \"id\": \"%s\"}, \"action\": {\"type\": \"Action\","
		 " \"id\": \"edit\"}, \"resource\": {\"type\": \"Photo\", \"id\": \"%s\"}, \"context\": {}}",
		 p, r);
	if (gh_policy_request_parse(&req, q, strlen(q), NULL, 0, NULL) == 0)
		gh_policy_authorize(&resp, ps, es, req);
	gh_policy_request_free(req);
	return resp;
}

static void test_policy_format_links__instantiate_and_authorize(void)
{
	static const char ents[] =
		"[{\"uid\": {\"type\": \"User\", \"id\": \"alice\"}, \"attrs\": {}, \"parents\": []},"
		" {\"uid\": {\"type\": \"Photo\", \"id\": \"pa\"}, \"attrs\": {}, \"parents\": [{\"type\": \"Album\", \"id\": \"a\"}]},"
		" {\"uid\": {\"type\": \"Photo\", \"id\": \"pb\"}, \"attrs\": {}, \"parents\": [{\"type\": \"Album\", \"id\": \"b\"}]}]";
	gh_policy_set *ps = NULL, *back = NULL;
	gh_policy_entities *es = NULL;
	gh_policy_error err;
	char *json = NULL, *text = NULL, *json2 = NULL;

	if (!CHECK_INT(gh_policy_set_parse_json(&ps, link_doc, strlen(link_doc), &err), 0)) {
		fprintf(stderr, "  %s\n", err.message);
		return;
	}
	CHECK_INT(gh_policy_set_count(ps), 4);
	CHECK_STR(gh_policy_set_id(ps, 0), "s1");
	CHECK_STR(gh_policy_set_id(ps, 1), "t1");
	CHECK_STR(gh_policy_set_id(ps, 2), "alice-album");
	CHECK_STR(gh_policy_set_annotation(ps, "t1", "id"), "share");
	CHECK_STR(gh_policy_set_annotation(ps, "t1", "flag"), "");
	CHECK_STR(gh_policy_set_annotation(ps, "alice-album", "id"), "share");
	CHECK_INT(gh_policy_entities_parse(&es, ents, strlen(ents), NULL, NULL), 0);

	gh_policy_response *r = decide(ps, es, "alice", "pa");
	if (CHECK(r != NULL) && CHECK_INT(r->allow, 1) && CHECK_INT(r->nreasons, 1))
		CHECK_STR(r->reasons[0], "alice-album");
	gh_policy_response_free(r);
	r = decide(ps, es, "alice", "pb");       /* alice's link is for album a only */
	if (CHECK(r != NULL))
		CHECK_INT(r->allow, 0);
	gh_policy_response_free(r);
	r = decide(ps, es, "bob", "pb");
	if (CHECK(r != NULL) && CHECK_INT(r->allow, 1) && CHECK_INT(r->nreasons, 1))
		CHECK_STR(r->reasons[0], "bob-album");
	gh_policy_response_free(r);

	/* JSON -> set -> JSON is a fixed point; the text keeps the template and notes links */
	CHECK_INT(gh_policy_set_to_json(&json, ps), 0);
	CHECK_INT(gh_policy_set_parse_json(&back, json, strlen(json), &err), 0);
	CHECK_INT(gh_policy_set_to_json(&json2, back), 0);
	if (json && json2)
		CHECK_STR(json2, json);
	CHECK_INT(gh_policy_set_format(&text, ps), 0);
	if (CHECK(text != NULL)) {
		CHECK(strstr(text, "principal in ?principal") != NULL);
		CHECK(strstr(text, "resource is Photo in ?resource") != NULL);
		CHECK(strstr(text, "// link \"alice-album\" of template \"t1\", ?principal = User::\"alice\", ?resource = Album::\"a\"") != NULL);
	}
	free(json);
	free(json2);
	free(text);
	gh_policy_set_free(back);
	gh_policy_set_free(ps);
	gh_policy_entities_free(es);
}

static void test_policy_format_json__single_policy_and_forms(void)
{
	static const char doc[] =
		"{\"effect\": \"forbid\", \"principal\": {\"op\": \"is\", \"entity_type\": \"User\"},"
		" \"action\": {\"op\": \"in\", \"entities\": [{\"type\": \"Action\", \"id\": \"a\"}]},"
		" \"resource\": {\"op\": \"All\"}, \"conditions\": [{\"kind\": \"unless\", \"body\":"
		" {\"&&\": {\"left\": {\"like\": {\"left\": {\"Var\": \"resource\"}, \"pattern\":"
		" [{\"Literal\": \"a*\"}, \"Wildcard\"]}}, \"right\": {\"has\": {\"left\": {\"Var\": \"context\"},"
		" \"attr\": [\"x\", \"y\"]}}}}}, {\"kind\": \"when\", \"body\": {\"isInRange\": [{\"ip\":"
		" [{\"Value\": \"10.0.0.1\"}]}, {\"Value\": {\"__extn\": {\"fn\": \"ip\", \"arg\": \"10.0.0.0/8\"}}}]}},"
		" {\"kind\": \"when\", \"body\": {\"Value\": [1, {\"a\": {\"__entity\": {\"type\": \"A\", \"id\": \"b\"}}}]}},"
		" {\"kind\": \"when\", \"body\": {\"contains\": {\"left\": {\"Set\": []}, \"right\": {\"neg\": {\"arg\": {\"Value\": 3}}}}}},"
		" {\"kind\": \"when\", \"body\": {\"isEmpty\": {\"arg\": {\"Record\": {\"k\": {\"Value\": true}}}}}}]}";
	gh_policy_set *ps = NULL;
	gh_policy_error err;
	char *text = NULL;

	if (!CHECK_INT(gh_policy_set_parse_json(&ps, doc, strlen(doc), &err), 0)) {
		fprintf(stderr, "  %s\n", err.message);
		return;
	}
	CHECK_STR(gh_policy_set_id(ps, 0), "policy0");
	CHECK_INT(gh_policy_set_format(&text, ps), 0);
	if (text)
		CHECK_STR(text, "forbid (\n  principal is User,\n  action in [Action::\"a\"],\n  resource\n)\n"
				"unless { resource like \"a\\**\" && context has x.y }\n"
				"when { ip(\"10.0.0.1\").isInRange(ip(\"10.0.0.0/8\")) }\n"
				"when { [1, {a: A::\"b\"}] }\n"
				"when { [].contains(-(3)) }\n"
				"when { {k: true}.isEmpty() };\n");
	free(text);
	gh_policy_set_free(ps);
}

static void expect_refused(const char *doc, int code, const char *path)
{
	gh_policy_set *ps = NULL;
	gh_policy_error err;
	int rc = gh_policy_set_parse_json(&ps, doc, strlen(doc), &err);
	CHECK(ps == NULL);
	if (!CHECK_INT(rc, code) || !CHECK(strstr(err.message, path) != NULL))
		fprintf(stderr, "  %s\n  -> %d %s\n", doc, rc, err.message);
	gh_policy_set_free(ps);
}

#define POL(cond) "{\"effect\": \"permit\", \"principal\": {\"op\": \"All\"}, \"action\": {\"op\": \"All\"}," \
	" \"resource\": {\"op\": \"All\"}, \"conditions\": [{\"kind\": \"when\", \"body\": " cond "}]}"

static void test_policy_format_json__bad_documents_name_the_path(void)
{
	expect_refused("[", GH_POLICY_EPARSE, "policy JSON");
	expect_refused("[]", GH_POLICY_EPARSE, "(top)");
	expect_refused("{\"staticPolicies\": {}, \"extra\": 1}", GH_POLICY_EPARSE, "at extra: unknown field");
	expect_refused("{\"staticPolicies\": {\"p\": {\"effect\": \"allow\"}}}", GH_POLICY_EPARSE,
		       "at staticPolicies.p.effect:");
	expect_refused("{\"staticPolicies\": {\"p\": " POL("{\"==\": {\"left\": {\"Var\": \"context\"}, \"right\": {\"Var\": \"nobody\"}}}") "}}",
		       GH_POLICY_EPARSE, "at staticPolicies.p.conditions[0].body.==.right.Var:");
	expect_refused("{\"staticPolicies\": {\"p\": " POL("{\"Set\": [{\"Value\": 1}, {\"Value\": 1.5}]}") "}}",
		       GH_POLICY_EPARSE, "conditions[0].body.Set[1].Value:");
	expect_refused(POL("{\"foo\": [1]}"), GH_POLICY_EPARSE, "body.foo: unknown operator");
	expect_refused(POL("{\"Slot\": \"?principal\"}"), GH_POLICY_EPARSE, "body.Slot:");
	expect_refused(POL("{\"Unknown\": {\"name\": \"x\"}}"), GH_POLICY_EINVALID, "body.Unknown:");
	expect_refused(POL("{\"Var\": \"context\", \"Value\": 1}"), GH_POLICY_EPARSE, "exactly one key");
	expect_refused(POL("{\"is\": {\"left\": {\"Var\": \"principal\"}, \"entity_type\": \"if\"}}"),
		       GH_POLICY_EPARSE, "body.is.entity_type:");
	expect_refused(POL("{\"has\": {\"left\": {\"Var\": \"principal\"}, \"attr\": [\"a\", \"b c\"]}}"),
		       GH_POLICY_EPARSE, "body.has.attr:");
	expect_refused(POL("{\"like\": {\"left\": {\"Var\": \"principal\"}, \"pattern\": [\"Star\"]}}"),
		       GH_POLICY_EPARSE, "body.like.pattern");
	expect_refused(POL("{\"contains\": [{\"Var\": \"principal\"}]}"), GH_POLICY_EPARSE, "body.contains:");
	expect_refused("{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": {\"op\": \"==\", \"slot\": \"?principal\"},"
		       " \"action\": {\"op\": \"All\"}, \"resource\": {\"op\": \"All\"}, \"conditions\": []}}}",
		       GH_POLICY_EINVALID, "staticPolicies.p: a static policy has a slot");
	expect_refused("{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": {\"op\": \"==\", \"slot\": \"?resource\"},"
		       " \"action\": {\"op\": \"All\"}, \"resource\": {\"op\": \"All\"}, \"conditions\": []}}}",
		       GH_POLICY_EPARSE, "staticPolicies.p.principal.slot:");
	expect_refused("{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": {\"op\": \"All\"},"
		       " \"action\": {\"op\": \"==\", \"entity\": {\"type\": \"User\", \"id\": \"x\"}}, \"resource\": {\"op\": \"All\"}}}}",
		       GH_POLICY_EPARSE, "staticPolicies.p.action.entity:");
	/* links: unknown template, missing or extra slot values, a reused id */
	char buf[4096];
	const char *t = "\"templates\": {\"t\": {\"effect\": \"permit\", \"principal\": {\"op\": \"==\", \"slot\": \"?principal\"},"
			" \"action\": {\"op\": \"All\"}, \"resource\": {\"op\": \"All\"}, \"conditions\": []}}";
	snprintf(buf, sizeof(buf), "{%s, \"templateLinks\": [{\"templateId\": \"u\", \"newId\": \"l\", \"values\": {}}]}", t);
	expect_refused(buf, GH_POLICY_EINVALID, "templateLinks[0].templateId: no template");
	snprintf(buf, sizeof(buf), "{%s, \"templateLinks\": [{\"templateId\": \"t\", \"newId\": \"l\", \"values\": {}}]}", t);
	expect_refused(buf, GH_POLICY_EINVALID, "templateLinks[0].values.?principal: missing");
	snprintf(buf, sizeof(buf), "{%s, \"templateLinks\": [{\"templateId\": \"t\", \"newId\": \"l\", \"values\": {"
		 "\"?principal\": {\"type\": \"U\", \"id\": \"a\"}, \"?resource\": {\"type\": \"U\", \"id\": \"a\"}}}]}", t);
	expect_refused(buf, GH_POLICY_EINVALID, "templateLinks[0].values.?resource: the template has no slot");
	snprintf(buf, sizeof(buf), "{%s, \"templateLinks\": [{\"templateId\": \"t\", \"newId\": \"t\", \"values\": {"
		 "\"?principal\": {\"type\": \"U\", \"id\": \"a\"}}}]}", t);
	expect_refused(buf, GH_POLICY_EINVALID, "templateLinks[0]: policy id \"t\" is used twice");
}

/* Text that is not UTF-8 never becomes a policy set, so it can never reach
 * policy JSON (test_policy_parse_invalid__utf8 checks the position). */
static void test_policy_format_json__non_utf8_text_refused(void)
{
	static const char text[] = "permit(principal, action, resource) when { \"a\xff\xa0\" == \"\" };";
	gh_policy_set *ps = NULL;

	CHECK_INT(gh_policy_set_parse(&ps, text, strlen(text), NULL), GH_POLICY_EPARSE);
	CHECK(ps == NULL);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{ "test_policy_format_samples__fixed_point_and_json_round_trip",
		  test_policy_format_samples__fixed_point_and_json_round_trip },
		{ "test_policy_format_layout__canonical_text", test_policy_format_layout__canonical_text },
		{ "test_policy_format_json__single_policy_and_forms",
		  test_policy_format_json__single_policy_and_forms },
		{ "test_policy_format_json__bad_documents_name_the_path",
		  test_policy_format_json__bad_documents_name_the_path },
		{ "test_policy_format_links__instantiate_and_authorize",
		  test_policy_format_links__instantiate_and_authorize },
		{ "test_policy_format_handwritten__same_answers", test_policy_format_handwritten__same_answers },
		{ "test_policy_format_corpus__same_answers", test_policy_format_corpus__same_answers },
		{ "test_policy_format_json__non_utf8_text_refused",
		  test_policy_format_json__non_utf8_text_refused },
		{ NULL, NULL },
	};
	return gh_test_run(cases, argc, argv);
}
