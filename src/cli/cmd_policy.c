/* cmd_policy.c - gatehouse policy: authorize, validate, format, and simulate
 * (a what-if against a running server). The Cedar conformance runner is
 * tests/cedar's (cedar_conformance). */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/errors.h"

#define WHY_CAP 1024             /* bytes of a failure message */
#define POLICY_FILE_MAX (16u * 1024 * 1024)  /* bytes of a policy, schema, entities or request file */

void gh_cmd_policy_usage(FILE *f)
{
	fprintf(f,
		"usage: gatehouse policy authorize --policies FILE --request FILE [--entities FILE]\n"
		"                                  [--schema FILE]\n"
		"         print the decision as {\"decision\",\"reasons\",\"errors\"} JSON\n"
		"       gatehouse policy validate --policies FILE --schema FILE\n"
		"         type-check the policies; exit 1 when any is invalid\n"
		"       gatehouse policy format FILE\n"
		"         print the policies in canonical form\n"
		"       gatehouse policy simulate FILE [--url URL] [--token TOKEN] [--json]\n"
		"         ask the server what the policies in FILE would change: requests that\n"
		"         would flip and active grants no longer permitted (changes nothing);\n"
		"         --url defaults to --server / $GATEHOUSE_SERVER\n"
		"  FILE may be - for standard input. A schema is Cedar schema text, or the JSON\n"
		"  schema format when the file ends in .json or parses as JSON; policies ending\n"
		"  in .json are policy JSON.\n"
		"exit status: 0 success, 1 a failure (invalid policies, a refused\n"
		"  simulation), 2 usage, unreadable or unparsable input, or no server\n");
}

/* --- helpers ------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "path:line:column: message" (or without the position) into why. */
static void engine_why(char *why, size_t cap, const char *what, int rc, const gh_policy_error *err)
{
	const char *msg = err && err->message[0] ? err->message : NULL;
	char code[32];

	if (!msg) {
		snprintf(code, sizeof(code), "failed (%d)", rc);
		msg = code;
	}
	if (err && err->line > 0)
		snprintf(why, cap, "%s:%d:%d: %s", what, err->line, err->column, msg);
	else
		snprintf(why, cap, "%s: %s", what, msg);
}

static int looks_like_json(const char *text, size_t len)
{
	json_t *doc = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	int yes = doc != NULL;

	json_decref(doc);
	return yes;
}

static int load_schema(gh_policy_schema **out, const char *path,
		       char *why, size_t cap)
{
	gh_policy_error err = {0};
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = gh_cli_read_file(&text, &len, path, POLICY_FILE_MAX))) {
		snprintf(why, cap, "%s", gh_error_last()->message);
		return rc;
	}
	if (ends_with(path, ".json") || looks_like_json(text, len))
		rc = gh_policy_schema_parse_json(out, text, len, &err);
	else
		rc = gh_policy_schema_parse(out, text, len, &err);
	if (rc)
		engine_why(why, cap, path, rc, &err);
	free(text);
	return rc;
}

static int load_policies(gh_policy_set **out, const char *path,
			 char *why, size_t cap)
{
	gh_policy_error err = {0};
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = gh_cli_read_file(&text, &len, path, POLICY_FILE_MAX))) {
		snprintf(why, cap, "%s", gh_error_last()->message);
		return rc;
	}
	if (ends_with(path, ".json"))
		rc = gh_policy_set_parse_json(out, text, len, &err);
	else
		rc = gh_policy_set_parse(out, text, len, &err);
	if (rc)
		engine_why(why, cap, path, rc, &err);
	free(text);
	return rc;
}

/* path NULL: an empty entity store. */
static int load_entities(gh_policy_entities **out, const char *path,
			 const gh_policy_schema *schema, char *why, size_t cap)
{
	gh_policy_error err = {0};
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (!path) {
		if ((rc = gh_policy_entities_parse(out, "[]", 2, schema, &err)))
			engine_why(why, cap, "entities", rc, &err);
		return rc;
	}
	if ((rc = gh_cli_read_file(&text, &len, path, POLICY_FILE_MAX))) {
		snprintf(why, cap, "%s", gh_error_last()->message);
		return rc;
	}
	if ((rc = gh_policy_entities_parse(out, text, len, schema, &err)))
		engine_why(why, cap, path, rc, &err);
	free(text);
	return rc;
}

/* The ids as a JSON array (NULL ids as null). */
static json_t *ids_json(const char *const *ids, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && ids && i < n; i++)
		json_array_append_new(a, ids[i] ? json_string(ids[i]) : json_null());
	return a;
}

/* --- the commands --------------------------------------------------------- */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gatehouse: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry 'gatehouse policy --help'\n");
	return GH_EXIT_USAGE;
}

/* The value of a required --name FILE option, or NULL after a message. */
static const char *need(const gh_cli *c, const char *name)
{
	const char *v = gh_cli_get(c, name);

	if (!v)
		usage_error("option --%s FILE is required", name);
	return v;
}

static int cmd_authorize(const gh_cli *c)
{
	static const char *const allowed[] = {"policies", "entities", "request", "schema", NULL};
	gh_policy_schema *schema = NULL;
	gh_policy_set *ps = NULL;
	gh_policy_entities *es = NULL;
	gh_policy_request *req = NULL;
	gh_policy_response *resp = NULL;
	gh_policy_error err = {0};
	const char *ppath, *rpath, *spath = gh_cli_get(c, "schema");
	char why[WHY_CAP], *text = NULL, *errors_text = NULL;
	json_t *out = NULL, *errors, *annotations;
	size_t len;
	int rc, code = GH_EXIT_USAGE;

	if (gh_cli_check_options(c, "policy authorize", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 2)
		return usage_error("policy authorize takes no arguments");
	if (!(ppath = need(c, "policies")) || !(rpath = need(c, "request")))
		return GH_EXIT_USAGE;
	if (gh_cli_has(c, "schema") && !spath)
		return usage_error("option --%s FILE needs a file name", "schema");
	if (gh_cli_has(c, "entities") && !gh_cli_get(c, "entities"))
		return usage_error("option --%s FILE needs a file name", "entities");
	if ((spath && load_schema(&schema, spath, why, sizeof(why))) ||
	    load_policies(&ps, ppath, why, sizeof(why)) ||
	    load_entities(&es, gh_cli_get(c, "entities"), schema, why, sizeof(why))) {
		fprintf(stderr, "gatehouse: %s\n", why);
		goto cleanup;
	}
	if (gh_cli_read_file(&text, &len, rpath, POLICY_FILE_MAX)) {
		gh_cli_error(NULL);
		goto cleanup;
	}
	if ((rc = gh_policy_request_parse(&req, text, len, schema, schema != NULL, &err))) {
		engine_why(why, sizeof(why), rpath, rc, &err);
		fprintf(stderr, "gatehouse: %s\n", why);
		goto cleanup;
	}
	if ((rc = gh_policy_authorize(&resp, ps, es, req)) || !resp) {
		fprintf(stderr, "gatehouse: authorization failed (%d)\n", rc);
		code = GH_EXIT_FAIL;
		goto cleanup;
	}
	errors = json_array();
	for (size_t i = 0; errors && i < resp->nerrors; i++)
		json_array_append_new(errors, json_pack("{s:s?, s:s?}", "policy", resp->errors[i],
							"message", resp->error_messages ?
							resp->error_messages[i] : NULL));
	/* each determining policy with its annotations: obligations ride on them */
	annotations = json_object();
	for (size_t i = 0; annotations && i < resp->nreasons; i++) {
		json_t *one = json_object();
		const char *k, *v;
		for (size_t n = 0; one && gh_policy_set_annotation_at(ps, resp->reasons[i], n, &k, &v) == 0; n++)
			json_object_set_new(one, k, json_string(v));
		json_object_set_new(annotations, resp->reasons[i], one ? one : json_object());
	}
	out = json_pack("{s:s, s:o, s:o, s:o*}", "decision", resp->allow ? "allow" : "deny",
			"reasons", ids_json((const char *const *)resp->reasons, resp->nreasons),
			"errors", errors, "annotations", annotations);
	if (!out || !(errors_text = json_dumps(out, JSON_INDENT(2)))) {
		fprintf(stderr, "gatehouse: out of memory\n");
		code = GH_EXIT_FAIL;
		goto cleanup;
	}
	printf("%s\n", errors_text);
	code = GH_EXIT_OK;
cleanup:
	free(errors_text);
	json_decref(out);
	free(text);
	if (resp)
		gh_policy_response_free(resp);
	if (req)
		gh_policy_request_free(req);
	if (es)
		gh_policy_entities_free(es);
	if (ps)
		gh_policy_set_free(ps);
	if (schema)
		gh_policy_schema_free(schema);
	return code;
}

/* One "file:line:column: policy: message" line per validation error. */
static void print_validation(const char *ppath, const char *out)
{
	json_t *doc = out ? json_loads(out, 0, NULL) : NULL;
	size_t i;
	json_t *v;

	if (!json_is_array(doc)) {
		printf("%s: %s\n", ppath, out ? out : "invalid");
		json_decref(doc);
		return;
	}
	json_array_foreach(doc, i, v) {
		const char *policy = json_string_value(json_object_get(v, "policy"));
		const char *msg = json_string_value(json_object_get(v, "message"));
		json_int_t line = json_integer_value(json_object_get(v, "line"));
		json_int_t col = json_integer_value(json_object_get(v, "column"));

		if (line > 0)
			printf("%s:%lld:%lld: ", ppath, (long long)line, (long long)col);
		else
			printf("%s: ", ppath);
		printf("%s%s%s\n", policy ? policy : "", policy ? ": " : "", msg ? msg : "invalid");
	}
	json_decref(doc);
}

static int cmd_validate(const gh_cli *c)
{
	static const char *const allowed[] = {"policies", "schema", NULL};
	gh_policy_schema *schema = NULL;
	gh_policy_set *ps = NULL;
	const char *ppath, *spath;
	char why[WHY_CAP], *out = NULL;
	int rc, code = GH_EXIT_USAGE;

	if (gh_cli_check_options(c, "policy validate", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 2)
		return usage_error("policy validate takes no arguments");
	if (!(ppath = need(c, "policies")) || !(spath = need(c, "schema")))
		return GH_EXIT_USAGE;
	if (load_schema(&schema, spath, why, sizeof(why)) ||
	    load_policies(&ps, ppath, why, sizeof(why))) {
		fprintf(stderr, "gatehouse: %s\n", why);
		goto cleanup;
	}
	rc = gh_policy_validate(&out, ps, schema);
	if (rc == 0) {
		if (c->json)
			printf("[]\n");
		code = GH_EXIT_OK;
	} else if (rc == GH_POLICY_EINVALID) {
		if (c->json)
			printf("%s\n", out ? out : "[]");
		else
			print_validation(ppath, out);
		code = GH_EXIT_FAIL;
	} else {
		fprintf(stderr, "gatehouse: validation failed (%d)\n", rc);
		code = GH_EXIT_FAIL;
	}
cleanup:
	free(out);
	if (ps)
		gh_policy_set_free(ps);
	if (schema)
		gh_policy_schema_free(schema);
	return code;
}

static int cmd_format(const gh_cli *c)
{
	gh_policy_set *ps = NULL;
	char why[WHY_CAP], *text = NULL;
	size_t n;
	int rc, code = GH_EXIT_USAGE;

	if (gh_cli_check_options(c, "policy format", NULL)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 3)
		return usage_error("policy format takes one FILE (or -)");
	if (load_policies(&ps, c->pos[2], why, sizeof(why))) {
		fprintf(stderr, "gatehouse: %s\n", why);
		goto cleanup;
	}
	if ((rc = gh_policy_set_format(&text, ps)) || !text) {
		fprintf(stderr, "gatehouse: formatting failed (%d)\n", rc);
		code = GH_EXIT_FAIL;
		goto cleanup;
	}
	n = strlen(text);
	fputs(text, stdout);
	if (n && text[n - 1] != '\n')
		fputc('\n', stdout);
	code = GH_EXIT_OK;
cleanup:
	free(text);
	if (ps)
		gh_policy_set_free(ps);
	return code;
}

/* --- simulate: server-backed ---------------------------------------------- */

#define SIMULATE_FILE_MAX (1024 * 1024)  /* the server's own cap on policy text */

static const char *jstr(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "-";
}

/* key's "<key>_name" when the server sent one, else its id. */
static const char *name_or_id(const json_t *obj, const char *key)
{
	char nkey[64];
	const char *s;

	snprintf(nkey, sizeof(nkey), "%s_name", key);
	s = json_string_value(json_object_get(obj, nkey));
	return s && *s ? s : jstr(obj, key);
}

static void print_reasons(const json_t *reasons)
{
	size_t i;
	json_t *v;

	json_array_foreach(reasons, i, v)
		if (json_is_string(v))
			printf("      %s\n", json_string_value(v));
}

/* The simulation's answer, for people. */
static void print_simulation(const json_t *doc)
{
	const json_t *policy = json_object_get(doc, "policy");
	const json_t *req = json_object_get(doc, "requests"), *grants = json_object_get(doc, "grants");
	const json_t *flips = json_object_get(req, "flips");
	const json_t *cands = json_object_get(grants, "revocation_candidates");
	const json_t *active = json_object_get(doc, "active_version");
	size_t i;
	json_t *v;

	printf("policy: sha256 %s", jstr(policy, "sha256"));
	if (json_is_integer(json_object_get(policy, "version")))
		printf(" (version %" JSON_INTEGER_FORMAT ")",
		       json_integer_value(json_object_get(policy, "version")));
	if (json_is_integer(active))
		printf("; active version %" JSON_INTEGER_FORMAT "\n", json_integer_value(active));
	else
		printf("; no version is active\n");
	if (json_array_size(json_object_get(doc, "validation")) == 0)
		printf("validation: ok\n");
	else
		printf("validation: %zu problem(s); this version cannot be activated\n",
		       json_array_size(json_object_get(doc, "validation")));
	json_array_foreach(json_object_get(doc, "validation"), i, v)
		printf("  %s\n", jstr(v, "message"));
	if (json_array_size(json_object_get(doc, "warnings")))
		printf("warnings: what default deny will refuse once this version is active\n");
	json_array_foreach(json_object_get(doc, "warnings"), i, v)
		if (json_is_string(v))
			printf("  %s\n", json_string_value(v));
	printf("requests: %" JSON_INTEGER_FORMAT " pending evaluated, %zu would change\n",
	       json_integer_value(json_object_get(req, "evaluated")), json_array_size(flips));
	json_array_foreach(flips, i, v) {
		const json_t *from = json_object_get(v, "from"), *to = json_object_get(v, "to");

		printf("  %s  %s  subject %s  entitlement %s: %s (%" JSON_INTEGER_FORMAT
		       ") -> %s (%" JSON_INTEGER_FORMAT ")\n", jstr(v, "request"), jstr(v, "effect"),
		       name_or_id(v, "subject"), name_or_id(v, "entitlement"), jstr(from, "outcome"),
		       json_integer_value(json_object_get(from, "required_approvals")),
		       jstr(to, "outcome"), json_integer_value(json_object_get(to, "required_approvals")));
		print_reasons(json_object_get(to, "reasons"));
	}
	printf("grants: %" JSON_INTEGER_FORMAT " active evaluated, %zu revocation candidate(s)\n",
	       json_integer_value(json_object_get(grants, "evaluated")), json_array_size(cands));
	json_array_foreach(cands, i, v) {
		printf("  %s  subject %s  entitlement %s  expires %s\n", jstr(v, "grant"),
		       name_or_id(v, "subject"), name_or_id(v, "entitlement"), jstr(v, "expires_at"));
		print_reasons(json_object_get(v, "reasons"));
	}
}

static int cmd_simulate(const gh_cli *c)
{
	static const char *const allowed[] = {"url", NULL};
	gh_client cl = {c->server, c->token, 60, "policy simulate"};
	gh_response r = {0};
	json_t *body = NULL, *doc = NULL;
	char *text = NULL;
	size_t len;
	int code = GH_EXIT_USAGE;

	if (gh_cli_check_options(c, "policy simulate", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 3)
		return usage_error("policy simulate takes one FILE (or -)");
	if (gh_cli_has(c, "url") && !(cl.server = gh_cli_get(c, "url")))
		return usage_error("option --url needs a URL");
	if (gh_cli_read_file(&text, &len, c->pos[2], SIMULATE_FILE_MAX)) {
		gh_cli_error(NULL);
		goto cleanup;
	}
	if (!(body = json_object()) || json_object_set_new(body, "text", json_stringn(text, len))) {
		fprintf(stderr, "gatehouse: %s: not UTF-8 text\n", c->pos[2]);
		goto cleanup;
	}
	if ((code = gh_client_json(&doc, &r, &cl, "POST", "/v1/policies/simulate", body)))
		goto cleanup;
	if (c->json) {
		fwrite(r.body, 1, r.len, stdout);
		if (r.body[r.len - 1] != '\n')
			putchar('\n');
	} else {
		print_simulation(doc);
	}
	/* a text with validation problems can never be activated: say so by the exit status */
	if (json_array_size(json_object_get(doc, "validation")))
		code = GH_EXIT_FAIL;
cleanup:
	gh_response_free(&r);
	json_decref(body);
	json_decref(doc);
	free(text);
	return code;
}

int gh_cmd_policy(gh_cli *c)
{
	const char *sub = c->npos > 1 ? c->pos[1] : NULL;

	if (c->help || !sub || strcmp(sub, "help") == 0) {
		gh_cmd_policy_usage(c->help || sub ? stdout : stderr);
		return c->help || sub ? GH_EXIT_OK : GH_EXIT_USAGE;
	}
	if (strcmp(sub, "authorize") == 0)
		return cmd_authorize(c);
	if (strcmp(sub, "validate") == 0)
		return cmd_validate(c);
	if (strcmp(sub, "format") == 0)
		return cmd_format(c);
	if (strcmp(sub, "simulate") == 0)
		return cmd_simulate(c);
	return usage_error("unknown command 'policy %s'", sub);
}
