/* conformance.c - the Cedar conformance runner: every integration-test file
 * under a directory (policies, entities, schema, requests with the expected
 * decision, reasons and erroring policies) run through the policy library.
 * Test format and comparison rules: docs/policy-cli.md. */
#include "conformance.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PATH_CAP 4096            /* bytes of a path we build */
#define WHY_CAP 1024             /* bytes of a failure message */
#define LOG_ERRORS_CAP 400       /* bytes of validation output quoted in a log line */
#define ERROR_CAP 512            /* bytes of the last failure's message */

const gh_conf_engine gh_conf_engine_cedar = {
	gh_policy_set_parse,
	gh_policy_set_parse_json,
	gh_policy_set_free,
	gh_policy_schema_parse,
	gh_policy_schema_parse_json,
	gh_policy_schema_free,
	gh_policy_validate,
	gh_policy_entities_parse,
	gh_policy_entities_free,
	gh_policy_request_parse,
	gh_policy_request_free,
	gh_policy_authorize,
	gh_policy_response_free,
};

/* --- errors and files ---------------------------------------------------- */

static char last_error[ERROR_CAP];

const char *gh_conf_error(void)
{
	return last_error;
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the message of a failure; code comes back. */
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

/* A whole file of at most max bytes, NUL-terminated, into *out (the caller's). */
static int read_file(char **out, size_t *len, const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (!f)
		return fail(GH_POLICY_ERROR, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *p = realloc(buf, ncap);

			if (!p) {
				rc = fail(GH_POLICY_ERROR, "out of memory");
				goto cleanup;
			}
			buf = p;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max) {
			rc = fail(GH_POLICY_ETOOLARGE, "%s is larger than %zu bytes", path, max);
			goto cleanup;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = fail(GH_POLICY_ERROR, "cannot read %s", path);
		goto cleanup;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
cleanup:
	free(buf);
	fclose(f);
	return rc;
}

/* --- loading a test's inputs --------------------------------------------- */

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

static int load_schema(gh_policy_schema **out, const gh_conf_engine *e, const char *path,
		       char *why, size_t cap)
{
	gh_policy_error err = {0};
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = read_file(&text, &len, path, GH_CONF_MAX_FILE))) {
		snprintf(why, cap, "%s", gh_conf_error());
		return rc;
	}
	if (ends_with(path, ".json") || looks_like_json(text, len))
		rc = e->schema_parse_json(out, text, len, &err);
	else
		rc = e->schema_parse(out, text, len, &err);
	if (rc)
		engine_why(why, cap, path, rc, &err);
	free(text);
	return rc;
}

static int load_policies(gh_policy_set **out, const gh_conf_engine *e, const char *path,
			 char *why, size_t cap)
{
	gh_policy_error err = {0};
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = read_file(&text, &len, path, GH_CONF_MAX_FILE))) {
		snprintf(why, cap, "%s", gh_conf_error());
		return rc;
	}
	if (ends_with(path, ".json"))
		rc = e->set_parse_json(out, text, len, &err);
	else
		rc = e->set_parse(out, text, len, &err);
	if (rc)
		engine_why(why, cap, path, rc, &err);
	free(text);
	return rc;
}

/* path NULL: an empty entity store. */
static int load_entities(gh_policy_entities **out, const gh_conf_engine *e, const char *path,
			 const gh_policy_schema *schema, char *why, size_t cap)
{
	gh_policy_error err = {0};
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (!path) {
		if ((rc = e->entities_parse(out, "[]", 2, schema, &err)))
			engine_why(why, cap, "entities", rc, &err);
		return rc;
	}
	if ((rc = read_file(&text, &len, path, GH_CONF_MAX_FILE))) {
		snprintf(why, cap, "%s", gh_conf_error());
		return rc;
	}
	if ((rc = e->entities_parse(out, text, len, schema, &err)))
		engine_why(why, cap, path, rc, &err);
	free(text);
	return rc;
}
/* --- the test-file format ------------------------------------------------- */

int gh_conf_is_test(const json_t *doc)
{
	return json_is_object(doc) && json_object_get(doc, "policies") &&
	       json_object_get(doc, "requests");
}

char *gh_conf_path(const char *dir, const char *rel)
{
	size_t n;
	char *out;
	int w;

	if (!rel || !*rel)
		return NULL;
	if (rel[0] == '/' || !dir || !*dir)
		return strlen(rel) < PATH_CAP ? strdup(rel) : NULL;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!(out = malloc(PATH_CAP)))
		return NULL;
	w = snprintf(out, PATH_CAP, "%.*s%s%s", (int)n, dir, dir[n - 1] == '/' ? "" : "/", rel);
	if (w < 0 || w >= PATH_CAP) {
		free(out);
		return NULL;
	}
	return out;
}

/* An optional path field: absent or null is none. */
static int test_path(char **out, const json_t *doc, const char *key, const char *dir, int required)
{
	const json_t *v = json_object_get(doc, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(GH_POLICY_EINVALID, "\"%s\" is missing", key);
		return 0;
	}
	if (!json_is_string(v) || !json_string_length(v))
		return fail(GH_POLICY_EINVALID, "\"%s\" is not a file name", key);
	if (!(*out = gh_conf_path(dir, json_string_value(v))))
		return fail(GH_POLICY_EINVALID, "\"%s\": the path is too long", key);
	return 0;
}

int gh_conf_test_parse(gh_conf_test *out, const json_t *doc, const char *dir)
{
	const json_t *sv, *reqs;
	int rc;

	memset(out, 0, sizeof(*out));
	out->should_validate = -1;
	if (!json_is_object(doc))
		return fail(GH_POLICY_EINVALID, "a test file is a JSON object");
	if ((rc = test_path(&out->policies, doc, "policies", dir, 1)) ||
	    (rc = test_path(&out->entities, doc, "entities", dir, 0)) ||
	    (rc = test_path(&out->schema, doc, "schema", dir, 0)))
		goto fail;
	sv = json_object_get(doc, "shouldValidate");
	if (sv && !json_is_null(sv)) {
		if (!json_is_boolean(sv)) {
			rc = fail(GH_POLICY_EINVALID, "\"shouldValidate\" is not true or false");
			goto fail;
		}
		out->should_validate = json_is_true(sv);
	}
	reqs = json_object_get(doc, "requests");
	if (!json_is_array(reqs)) {
		rc = fail(GH_POLICY_EINVALID, "\"requests\" is not an array");
		goto fail;
	}
	out->requests = json_incref((json_t *)reqs);
	return 0;
fail:
	gh_conf_test_free(out);
	out->should_validate = -1;
	return rc;
}

void gh_conf_test_free(gh_conf_test *t)
{
	if (!t)
		return;
	free(t->policies);
	free(t->entities);
	free(t->schema);
	json_decref(t->requests);
	memset(t, 0, sizeof(*t));
}

int gh_conf_decision(int *allow, const char *s)
{
	if (s && strcmp(s, "allow") == 0)
		return *allow = 1, 0;
	if (s && strcmp(s, "deny") == 0)
		return *allow = 0, 0;
	return GH_POLICY_EINVALID;
}

static int is_id_array(const json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return 0;
	return 1;
}

static int has_id(const char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] && strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

static int json_has_id(const json_t *a, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/* expected NULL is the empty set; it is otherwise an array of strings. */
static int same_ids(const json_t *expected, const char *const *got, size_t n)
{
	size_t i;
	json_t *v;

	if (n && !got)
		return 0;
	if (expected) {
		json_array_foreach(expected, i, v)
			if (!has_id(got, n, json_string_value(v)))
				return 0;
	}
	for (i = 0; i < n; i++)
		if (!got[i] || !expected || !json_has_id(expected, got[i]))
			return 0;
	return 1;
}

int gh_conf_idset_equal(const json_t *expected, const char *const *got, size_t n)
{
	return is_id_array(expected) && same_ids(expected, got, n);
}

int gh_conf_compare(const json_t *request, const gh_policy_response *got, const char **why)
{
	const json_t *reason = json_object_get(request, "reason");
	const json_t *errors = json_object_get(request, "errors");
	int allow;

	*why = NULL;
	if (gh_conf_decision(&allow, json_string_value(json_object_get(request, "decision")))) {
		*why = "the test's \"decision\" is not \"allow\" or \"deny\"";
		return GH_POLICY_EINVALID;
	}
	if ((reason && !is_id_array(reason)) || (errors && !is_id_array(errors))) {
		*why = "the test's \"reason\" or \"errors\" is not an array of policy ids";
		return GH_POLICY_EINVALID;
	}
	if ((got->allow != 0) != allow) {
		*why = "the decision differs";
		return 1;
	}
	if (!same_ids(reason, (const char *const *)got->reasons, got->nreasons)) {
		*why = "the reasons differ";
		return 1;
	}
	if (!same_ids(errors, (const char *const *)got->errors, got->nerrors)) {
		*why = "the erroring policies differ";
		return 1;
	}
	return 0;
}

json_t *gh_conf_request_json(const json_t *request)
{
	static const char *const keys[] = {"principal", "action", "resource", "context"};
	json_t *out = json_object();

	if (!out)
		return NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(request, keys[i]);

		if (!v && i == 3)
			v = json_object();
		else
			json_incref(v);
		if (v && json_object_set_new(out, keys[i], v)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

int gh_conf_validate_request(const json_t *request)
{
	const json_t *v = json_object_get(request, "validateRequest");

	return json_is_boolean(v) ? json_is_true(v) : 1;
}
/* --- the conformance run -------------------------------------------------- */

#define NUL_HEX "0000"
#define STANDIN_HEX "E000"     /* a private-use character absent from the tests */

static long swap_escapes(char *text, size_t len, const char *from, const char *to);

typedef struct runner {
	gh_conf_counts *n;
	const gh_conf_engine *e;
	FILE *log;
	const char *root;        /* paths in a test are relative to it */
	int swapped;             /* the file's "\u0000" key escapes are swapped */
} runner;

static json_t *ids_json(const char *const *ids, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && ids && i < n; i++)
		json_array_append_new(a, ids[i] ? json_string(ids[i]) : json_null());
	return a;
}

static json_t *response_json(const gh_policy_response *resp)
{
	if (!resp)
		return json_null();
	return json_pack("{s:s, s:o, s:o}", "decision", resp->allow ? "allow" : "deny",
			 "reason", ids_json((const char *const *)resp->reasons, resp->nreasons),
			 "errors", ids_json((const char *const *)resp->errors, resp->nerrors));
}

static void log_line(runner *r, json_t *line)
{
	if (line && r->log) {
		json_dumpf(line, r->log, JSON_COMPACT | JSON_ENSURE_ASCII);
		fputc('\n', r->log);
	}
	json_decref(line);
}

/* One failed request: counted, and logged when asked. req may be NULL. */
static void fail_request(runner *r, const char *file, long idx, const json_t *req,
			 const gh_policy_response *resp, const char *why)
{
	json_t *line, *expected;

	r->n->failed++;
	if (!r->log)
		return;
	expected = json_object();
	if (expected && req) {
		const char *keys[] = {"decision", "reason", "errors"};

		for (size_t i = 0; i < 3; i++) {
			json_t *v = json_object_get(req, keys[i]);

			if (v)
				json_object_set(expected, keys[i], v);
		}
	}
	line = json_pack("{s:s, s:I, s:o?, s:o?, s:o, s:s}", "file", file, "request",
			 (json_int_t)idx, "description",
			 req ? json_incref(json_object_get(req, "description")) : NULL,
			 "expected", expected, "got", response_json(resp), "error", why);
	log_line(r, line);
}

static void run_request(runner *r, const char *file, long idx, const json_t *req,
			const gh_policy_schema *schema,
			const gh_policy_set *ps, const gh_policy_entities *es)
{
	gh_policy_error err = {0};
	gh_policy_request *pr = NULL;
	gh_policy_response *resp = NULL;
	json_t *rj = gh_conf_request_json(req);
	char *text = NULL;
	char why[WHY_CAP];
	const char *diff;
	int rc;

	/* with JSON_ENSURE_ASCII the stand-in is written as an escape */
	if (rj)
		text = json_dumps(rj, JSON_COMPACT | (r->swapped ? JSON_ENSURE_ASCII : 0));
	if (!text) {
		fail_request(r, file, idx, req, NULL, "out of memory");
		goto cleanup;
	}
	if (r->swapped)
		swap_escapes(text, strlen(text), STANDIN_HEX, NUL_HEX);
	if ((rc = r->e->request_parse(&pr, text, strlen(text), schema,
				      schema ? gh_conf_validate_request(req) : 0, &err))) {
		engine_why(why, sizeof(why), "request", rc, &err);
		fail_request(r, file, idx, req, NULL, why);
		goto cleanup;
	}
	if ((rc = r->e->authorize(&resp, ps, es, pr)) || !resp) {
		snprintf(why, sizeof(why), "authorize: failed (%d)", rc);
		fail_request(r, file, idx, req, NULL, why);
		goto cleanup;
	}
	if (gh_conf_compare(req, resp, &diff))
		fail_request(r, file, idx, req, resp, diff);
	else
		r->n->passed++;
cleanup:
	if (resp)
		r->e->response_free(resp);
	if (pr)
		r->e->request_free(pr);
	free(text);
	json_decref(rj);
}

/* shouldValidate against the validator; setup non-empty when the schema or
 * the policies could not be loaded (a disagreement: they always load). */
static void check_validation(runner *r, const char *file, const gh_conf_test *t,
			     const gh_policy_schema *schema, const gh_policy_set *ps,
			     const char *setup)
{
	char *out = NULL, why[WHY_CAP];
	int rc, valid = -1;

	if (!t->schema || t->should_validate < 0) {
		r->n->unchecked++;
		return;
	}
	if (setup[0]) {
		snprintf(why, sizeof(why), "%s", setup);
	} else if ((rc = r->e->validate(&out, ps, schema)) == 0) {
		valid = 1;
	} else if (rc == GH_POLICY_EINVALID) {
		valid = 0;
		snprintf(why, sizeof(why), "%.*s", LOG_ERRORS_CAP, out ? out : "invalid");
	} else {
		snprintf(why, sizeof(why), "validate: failed (%d)", rc);
	}
	free(out);
	if (valid == t->should_validate) {
		r->n->agree++;
		return;
	}
	r->n->disagree++;
	if (valid == 1)
		snprintf(why, sizeof(why), "the policies validate");
	if (r->log)
		log_line(r, json_pack("{s:s, s:{s:b, s:o}, s:s}", "file", file, "validation",
				      "expected", t->should_validate, "got",
				      valid < 0 ? json_null() : json_boolean(valid), "error", why));
}

static void run_test(runner *r, const char *file, const json_t *doc)
{
	gh_conf_test t;
	gh_policy_schema *schema = NULL;
	gh_policy_set *ps = NULL;
	gh_policy_entities *es = NULL;
	char setup[WHY_CAP] = "";
	size_t i;
	json_t *req;

	r->n->files++;
	if (gh_conf_test_parse(&t, doc, r->root)) {
		const json_t *reqs = json_object_get(doc, "requests");
		size_t k, n = json_is_array(reqs) ? json_array_size(reqs) : 1;

		snprintf(setup, sizeof(setup), "test file: %s", gh_conf_error());
		r->n->unchecked++;
		for (k = 0; k < n; k++)
			fail_request(r, file, (long)k, json_is_array(reqs) ? json_array_get(reqs, k) : NULL,
				     NULL, setup);
		return;
	}
	if (t.schema)
		load_schema(&schema, r->e, t.schema, setup, sizeof(setup));
	if (!setup[0])
		load_policies(&ps, r->e, t.policies, setup, sizeof(setup));
	check_validation(r, file, &t, schema, ps, setup);
	if (!setup[0])
		load_entities(&es, r->e, t.entities, schema, setup, sizeof(setup));
	json_array_foreach(t.requests, i, req) {
		if (setup[0])
			fail_request(r, file, (long)i, req, NULL, setup);
		else
			run_request(r, file, (long)i, req, schema, ps, es);
	}
	if (es)
		r->e->entities_free(es);
	if (ps)
		r->e->set_free(ps);
	if (schema)
		r->e->schema_free(schema);
	gh_conf_test_free(&t);
}

/* jansson cannot hold "\u0000" in an object key, and some generated tests
 * have such keys: those files are read with each such escape swapped for a
 * private-use character, swapped back in the request text the engine gets. */
/* Rewrites each "\uFROM" escape (from: 4 hex digits, any case) in JSON text
 * to "\uTO"; the count, or -1 when the text already holds TO (escaped or as
 * UTF-8, EE 80 80 for E000) and swapping back would be ambiguous. */
static long swap_escapes(char *text, size_t len, const char *from, const char *to)
{
	long n = 0;
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		if (!in_string) {
			in_string = text[i] == '"';
			continue;
		}
		if ((unsigned char)text[i] == 0xEE && i + 2 < len &&
		    (unsigned char)text[i + 1] == 0x80 && (unsigned char)text[i + 2] == 0x80 &&
		    strcmp(from, NUL_HEX) == 0)
			return -1;
		if (text[i] == '"') {
			in_string = 0;
		} else if (text[i] == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len) {
				if (strncasecmp(text + i + 2, to, 4) == 0 && strcmp(from, NUL_HEX) == 0)
					return -1;
				if (strncasecmp(text + i + 2, from, 4) == 0) {
					memcpy(text + i + 2, to, 4);
					n++;
				}
			}
			i++;
		}
	}
	return n;
}

static void run_file(runner *r, const char *path)
{
	char *text = NULL;
	size_t len;
	json_t *doc;
	json_error_t jerr;

	if (read_file(&text, &len, path, GH_CONF_MAX_FILE)) {
		fprintf(stderr, "cedar_conformance: skipping %s\n", gh_conf_error());
		r->n->unreadable++;
		return;
	}
	/* the generated tests use "\u0000" in entity ids */
	doc = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
	r->swapped = 0;
	if (!doc && strstr(jerr.text, "NUL byte in object key") &&
	    swap_escapes(text, len, NUL_HEX, STANDIN_HEX) > 0) {
		r->swapped = 1;
		doc = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
	}
	free(text);
	if (!doc) {
		fprintf(stderr, "cedar_conformance: skipping %s:%d:%d: not JSON: %s\n", path, jerr.line,
			jerr.column, jerr.text);
		r->n->unreadable++;
	}
	/* other JSON (entities, schemas) is not a test and is skipped */
	if (gh_conf_is_test(doc))
		run_test(r, path, doc);
	json_decref(doc);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_candidate(const char *name)
{
	return ends_with(name, ".json") && !ends_with(name, ".entities.json");
}

static int walk(runner *r, const char *dir, int depth)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, **p;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (depth > GH_CONF_MAX_DEPTH) {
		fprintf(stderr, "cedar_conformance: skipping %s: nested more than %d deep\n", dir,
			GH_CONF_MAX_DEPTH);
		return 0;
	}
	if (!(d = opendir(dir)))
		return fail(GH_POLICY_EINVALID, "%s: %s", dir, strerror(errno));
	/* names first, sorted, so that runs are reproducible */
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == GH_CONF_MAX_DIRENTS) {
			rc = fail(GH_POLICY_ETOOLARGE, "%s: more than %d entries", dir,
					  GH_CONF_MAX_DIRENTS);
			goto cleanup;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(p = realloc(names, cap * sizeof(*names)))) {
				rc = fail(GH_POLICY_ERROR, "out of memory");
				goto cleanup;
			}
			names = p;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = fail(GH_POLICY_ERROR, "out of memory");
			goto cleanup;
		}
		n++;
	}
	closedir(d);
	d = NULL;
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && !rc; i++) {
		char *child = gh_conf_path(dir, names[i]);
		struct stat st;

		if (!child) {
			rc = fail(GH_POLICY_ETOOLARGE, "%s/%s: the path is too long", dir, names[i]);
			break;
		}
		if (lstat(child, &st) == 0) {
			/* symbolic links to files are followed, to directories not (no loops) */
			if (S_ISDIR(st.st_mode))
				rc = walk(r, child, depth + 1);
			else if ((S_ISREG(st.st_mode) ||
				  (S_ISLNK(st.st_mode) && stat(child, &st) == 0 &&
				   S_ISREG(st.st_mode))) && is_candidate(names[i]))
				run_file(r, child);
		}
		free(child);
	}
cleanup:
	if (d)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int gh_conf_run(gh_conf_counts *counts, const char *dir, const gh_conf_engine *eng,
		    FILE *log)
{
	runner r = {counts, eng ? eng : &gh_conf_engine_cedar, log, dir, 0};

	return walk(&r, dir, 0);
}

/* --- the command ---------------------------------------------------------- */

static int usage(FILE *f, int code)
{
	fprintf(f,
		"usage: cedar_conformance [--verbose] DIR...\n"
		"  runs every Cedar integration test under each DIR; paths inside a test are\n"
		"  relative to its DIR; --verbose prints each failure as a JSON line.\n"
		"  The last line is \"N passed, M failed\" (requests).\n"
		"exit status: 0 all passed, 1 failed or disagreeing tests, 2 usage or a DIR\n"
		"  without tests\n");
	return code;
}

int gh_conf_main(int argc, char **argv, FILE *out)
{
	gh_conf_counts n = {0};
	int verbose = 0, ndirs = 0, dashes = 0;

	for (int i = 1; i < argc; i++) {
		if (dashes || argv[i][0] != '-' || strcmp(argv[i], "-") == 0)
			ndirs++;
		else if (strcmp(argv[i], "--") == 0)
			dashes = 1;
		else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage(out, 0);
		else {
			fprintf(stderr, "cedar_conformance: unknown option %s\n", argv[i]);
			return usage(stderr, 2);
		}
	}
	if (!ndirs) {
		fprintf(stderr, "cedar_conformance: no DIR given\n");
		return usage(stderr, 2);
	}
	dashes = 0;
	for (int i = 1; i < argc; i++) {
		long before = n.files;

		if (!dashes && strcmp(argv[i], "--") == 0) {
			dashes = 1;
			continue;
		}
		if (!dashes && argv[i][0] == '-' && strcmp(argv[i], "-") != 0)
			continue;
		if (gh_conf_run(&n, argv[i], NULL, verbose ? out : NULL)) {
			fprintf(stderr, "cedar_conformance: %s\n", gh_conf_error());
			return 2;
		}
		if (n.files == before) {
			fprintf(stderr, "cedar_conformance: no Cedar test files under %s\n", argv[i]);
			return 2;
		}
	}
	fprintf(out, "tests: %ld files, %ld requests, %ld unreadable files\n", n.files,
		n.passed + n.failed, n.unreadable);
	fprintf(out, "validation: %ld agree, %ld disagree (%ld not checked)\n", n.agree,
		n.disagree, n.unchecked);
	fprintf(out, "%ld passed, %ld failed\n", n.passed, n.failed);
	return n.failed || n.disagree || n.unreadable ? 1 : 0;
}
