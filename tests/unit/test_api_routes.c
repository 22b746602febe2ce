/* test_api_routes.c - the route table matches docs/api.md both ways, and the
 * router matches paths, methods and parameters as documented. */
#include "api/api_internal.h"
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

typedef struct doc_route {
	char method[16];
	char path[128];
	char roles[256];
	char query[512];
} doc_route;

static doc_route docs[128];
static int ndocs = -1;

/* docs/api.md from the repository root: GH_SOURCE_DIR, else this file's
 * own path (CMake compiles it by absolute path), else up from the cwd. */
static FILE *open_docs(void)
{
	char path[1024];
	const char *env = getenv("GH_SOURCE_DIR");
	const char *self = __FILE__;
	const char *tail = strstr(self, "tests/unit/test_api_routes.c");
	FILE *f;

	if (env) {
		snprintf(path, sizeof(path), "%s/docs/api.md", env);
		if ((f = fopen(path, "r")))
			return f;
	}
	if (tail) {
		snprintf(path, sizeof(path), "%.*sdocs/api.md", (int)(tail - self), self);
		if ((f = fopen(path, "r")))
			return f;
	}
	snprintf(path, sizeof(path), "docs/api.md");
	for (int up = 0; up < 6; up++) {
		if ((f = fopen(path, "r")))
			return f;
		memmove(path + 3, path, strlen(path) + 1);
		memcpy(path, "../", 3);
	}
	return NULL;
}

static void trim_copy(char *out, size_t outlen, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		n--;
	snprintf(out, outlen, "%.*s", (int)n, s);
}

/* Reads the rows "| METHOD | /path | roles | body / query | answer |". */
static int load_docs(void)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
	char line[2048];
	FILE *f;

	if (ndocs >= 0)
		return ndocs;
	ndocs = 0;
	if (!(f = open_docs())) {
		fprintf(stderr, "  cannot find docs/api.md (set GH_SOURCE_DIR)\n");
		return 0;
	}
	while (fgets(line, sizeof(line), f) && ndocs < (int)(sizeof(docs) / sizeof(docs[0]))) {
		char *cols[6];
		int n = 0;
		char *p = line;

		if (line[0] != '|')
			continue;
		while (n < 6 && (p = strchr(p, '|'))) {
			cols[n++] = ++p;
		}
		if (n < 5)
			continue;
		doc_route *d = &docs[ndocs];
		trim_copy(d->method, sizeof(d->method), cols[0], (size_t)(cols[1] - cols[0] - 1));
		int known = 0;
		for (int i = 0; methods[i]; i++)
			known |= strcmp(methods[i], d->method) == 0;
		if (!known)
			continue;
		trim_copy(d->path, sizeof(d->path), cols[1], (size_t)(cols[2] - cols[1] - 1));
		trim_copy(d->roles, sizeof(d->roles), cols[2], (size_t)(cols[3] - cols[2] - 1));
		trim_copy(d->query, sizeof(d->query), cols[3], (size_t)(cols[4] - cols[3] - 1));
		ndocs++;
	}
	fclose(f);
	return ndocs;
}

static const doc_route *doc_find(const char *method, const char *path)
{
	for (int i = 0; i < ndocs; i++)
		if (strcmp(docs[i].method, method) == 0 && strcmp(docs[i].path, path) == 0)
			return &docs[i];
	return NULL;
}

/* The roles column as a mask: "none", "any ...", or "admin, iam (...)". */
static unsigned doc_roles(const char *text)
{
	char buf[256], *tok, *save = NULL;
	unsigned mask = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	buf[strcspn(buf, "(")] = '\0';
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (strcmp(tok, "none") == 0)
			return GH_API_PUBLIC;
		if (strcmp(tok, "any") == 0)
			return GH_API_ANY;
		if (!gh_role_parse(tok)) {
			fprintf(stderr, "  unknown role \"%s\" in docs/api.md\n", tok);
			return ~0u;
		}
		mask |= gh_role_parse(tok);
	}
	return mask;
}

static void test_api_routes_docs__every_route_is_documented(void)
{
	CHECK(load_docs() > 0);
	for (size_t i = 0; i < gh_api_route_count(); i++) {
		const gh_api_route *r = gh_api_route_at(i);
		const doc_route *d = doc_find(r->method, r->path);
		if (!CHECK(d != NULL)) {
			fprintf(stderr, "  route %s %s is not in docs/api.md\n", r->method, r->path);
			continue;
		}
		if (!CHECK_INT(doc_roles(d->roles), r->roles))
			fprintf(stderr, "  roles of %s %s differ from docs/api.md (\"%s\")\n", r->method,
				r->path, d->roles);
	}
	CHECK(gh_api_route_at(gh_api_route_count()) == NULL);
}

static void test_api_routes_docs__every_documented_route_exists(void)
{
	CHECK(load_docs() > 0);
	for (int i = 0; i < ndocs; i++) {
		int found = 0;
		for (size_t j = 0; j < gh_api_route_count(); j++) {
			const gh_api_route *r = gh_api_route_at(j);
			found |= strcmp(r->method, docs[i].method) == 0 && strcmp(r->path, docs[i].path) == 0;
		}
		if (!CHECK(found))
			fprintf(stderr, "  docs/api.md route %s %s is not served\n", docs[i].method,
				docs[i].path);
	}
}

static void test_api_routes_docs__query_parameters_are_documented(void)
{
	char quoted[80];

	CHECK(load_docs() > 0);
	for (size_t i = 0; i < gh_api_route_count(); i++) {
		const gh_api_route *r = gh_api_route_at(i);
		const doc_route *d = doc_find(r->method, r->path);
		int list = 0;

		for (size_t k = 0; r->query && r->query[k]; k++)
			list |= strcmp(r->query[k], "after") == 0;
		for (size_t k = 0; d && r->query && r->query[k]; k++) {
			/* a list's limit and after are documented once, under "Lists" */
			if (list && (strcmp(r->query[k], "after") == 0 || strcmp(r->query[k], "limit") == 0))
				continue;
			snprintf(quoted, sizeof(quoted), "`%s`", r->query[k]);
			if (!CHECK(strstr(d->query, quoted) != NULL))
				fprintf(stderr, "  %s %s: query parameter %s is not documented\n", r->method,
					r->path, r->query[k]);
		}
	}
}

static void test_api_routes_table__is_well_formed(void)
{
	for (size_t i = 0; i < gh_api_route_count(); i++) {
		const gh_api_route *r = gh_api_route_at(i);
		size_t nq = 0, np = 0;

		CHECK(r->handler != NULL);
		CHECK(r->path[0] == '/');
		for (const char *p = r->path; (p = strchr(p, '{')); p++)
			np++;
		CHECK(np <= GH_API_MAX_PARAMS);
		while (r->query && r->query[nq])
			nq++;
		CHECK(nq <= GH_API_MAX_QUERY);
		/* GET routes never take a body */
		if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "DELETE") == 0)
			CHECK_INT(r->body, GH_API_BODY_NONE);
		/* no two routes share a method and path */
		for (size_t j = 0; j < i; j++) {
			const gh_api_route *o = gh_api_route_at(j);
			CHECK(strcmp(o->method, r->method) != 0 || strcmp(o->path, r->path) != 0);
		}
	}
}

static void test_api_routes_find__matches_literals_and_parameters(void)
{
	char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1];
	char allow[64];
	const gh_api_route *r;

	r = gh_api_route_find("GET", "/v1/identities", params, allow, sizeof(allow));
	CHECK(r && strcmp(r->path, "/v1/identities") == 0);
	r = gh_api_route_find("GET", "/v1/identities/billing-etl", params, allow, sizeof(allow));
	CHECK(r && strcmp(r->path, "/v1/identities/{ref}") == 0);
	CHECK_STR(params[0], "billing-etl");
	r = gh_api_route_find("DELETE", "/v1/groups/grp_1/members/alice", params, allow,
			      sizeof(allow));
	CHECK(r && strcmp(r->path, "/v1/groups/{ref}/members/{member}") == 0);
	CHECK_STR(params[0], "grp_1");
	CHECK_STR(params[1], "alice");
	/* HEAD is GET */
	r = gh_api_route_find("HEAD", "/healthz", params, allow, sizeof(allow));
	CHECK(r && strcmp(r->method, "GET") == 0);
}

static void test_api_routes_find__decodes_each_segment(void)
{
	char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1];
	char allow[64];
	const gh_api_route *r;

	r = gh_api_route_find("GET", "/v1/entitlements/billing-db%2Fread-only", params, allow,
			      sizeof(allow));
	CHECK(r && strcmp(r->path, "/v1/entitlements/{ref}") == 0);
	CHECK_STR(params[0], "billing-db/read-only");
	r = gh_api_route_find("GET", "/v1/identities/%2e%2e", params, allow, sizeof(allow));
	CHECK(r != NULL);
	CHECK_STR(params[0], "..");
	r = gh_api_route_find("GET", "/v1/%69dentities", params, allow, sizeof(allow));
	CHECK(r && strcmp(r->path, "/v1/identities") == 0);
	r = gh_api_route_find("GET", "/v1/identities/caf%C3%A9", params, allow, sizeof(allow));
	CHECK(r != NULL);
	CHECK_STR(params[0], "caf\xc3\xa9");
}

static void test_api_routes_find__refuses_what_names_nothing(void)
{
	const char *bad[] = {"", "v1/identities", "/", "/v1/identities/", "/v1//identities",
			     "/v1/identities/%", "/v1/identities/%4", "/v1/identities/%zz",
			     "/v1/identities/%00", "/v1/identities/%ff", "/v1/identities/%c0%ae",
			     "/v1/identities/a%0Ab", "/v1/identities/%ed%a0%80",
			     "/v1/identities/a/b/c/d/e/f/g/h/i", "/v1/Identities", NULL};
	char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1];
	char allow[64], path[600];
	int n;

	for (int i = 0; bad[i]; i++) {
		CHECK(gh_api_route_find("GET", bad[i], params, allow, sizeof(allow)) == NULL);
		if (!CHECK_STR(allow, ""))
			fprintf(stderr, "  path \"%s\"\n", bad[i]);
	}
	/* 128 bytes is the most a parameter may have, however it is escaped */
	n = snprintf(path, sizeof(path), "/v1/identities/");
	for (int i = 0; i < GH_API_PARAM_MAX; i++)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "%%61");
	CHECK(gh_api_route_find("GET", path, params, allow, sizeof(allow)) != NULL);
	CHECK_INT(strlen(params[0]), GH_API_PARAM_MAX);
	snprintf(path + n, sizeof(path) - (size_t)n, "a");
	CHECK(gh_api_route_find("GET", path, params, allow, sizeof(allow)) == NULL);
}

static void test_api_routes_find__lists_allowed_methods(void)
{
	char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1];
	char allow[64];

	CHECK(gh_api_route_find("PUT", "/v1/identities", params, allow, sizeof(allow)) == NULL);
	CHECK_STR(allow, "GET, HEAD, POST");
	CHECK(gh_api_route_find("POST", "/v1/identities/x", params, allow, sizeof(allow)) == NULL);
	CHECK_STR(allow, "GET, HEAD, PATCH");
	CHECK(gh_api_route_find("GET", "/v1/tokens/tok_1", params, allow, sizeof(allow)) == NULL);
	CHECK_STR(allow, "DELETE");
	CHECK(gh_api_route_find("get", "/healthz", params, allow, sizeof(allow)) == NULL);
	CHECK_STR(allow, "GET, HEAD");
}

static void test_api_routes_roles__admin_always_and_any_means_authenticated(void)
{
	char params[GH_API_MAX_PARAMS][GH_API_PARAM_MAX + 1];
	char allow[64], text[96];
	const gh_api_route *r;

	r = gh_api_route_find("POST", "/v1/identities", params, allow, sizeof(allow));
	CHECK(r != NULL);
	CHECK(gh_api_role_allows(r, GH_ROLE_ADMIN));
	CHECK(gh_api_role_allows(r, GH_ROLE_IAM));
	CHECK(!gh_api_role_allows(r, GH_ROLE_AUDITOR | GH_ROLE_SERVICEDESK));
	CHECK(!gh_api_role_allows(r, 0));
	r = gh_api_route_find("POST", "/v1/tokens", params, allow, sizeof(allow));
	CHECK(r && !gh_api_role_allows(r, GH_ROLE_IAM));
	r = gh_api_route_find("GET", "/v1/identities", params, allow, sizeof(allow));
	CHECK(r && gh_api_role_allows(r, 0));
	r = gh_api_route_find("GET", "/v1/audit/events", params, allow, sizeof(allow));
	CHECK(r && gh_api_role_allows(r, GH_ROLE_AUDITOR));
	CHECK(r && !gh_api_role_allows(r, GH_ROLE_REQUESTER));
	gh_api_roles_text(text, sizeof(text), GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR);
	CHECK_STR(text, "admin, iam, auditor");
}

static void test_api_routes_text__checks_utf8(void)
{
	CHECK(gh_api_text_ok("abc", 3));
	CHECK(gh_api_text_ok("caf\xc3\xa9", 5));
	CHECK(gh_api_text_ok("\xf0\x9f\x94\x91", 4));
	CHECK(!gh_api_text_ok("\xc3", 1));
	CHECK(!gh_api_text_ok("\xc0\xae", 2));
	CHECK(!gh_api_text_ok("\xe0\x80\xae", 3));
	CHECK(!gh_api_text_ok("\xed\xa0\x80", 3));
	CHECK(!gh_api_text_ok("\xf4\x90\x80\x80", 4));
	CHECK(!gh_api_text_ok("a\tb", 3));
	CHECK(!gh_api_text_ok("\x7f", 1));
}

static const gh_test_case cases[] = {
	{"test_api_routes_docs__every_route_is_documented", test_api_routes_docs__every_route_is_documented},
	{"test_api_routes_docs__every_documented_route_exists", test_api_routes_docs__every_documented_route_exists},
	{"test_api_routes_docs__query_parameters_are_documented", test_api_routes_docs__query_parameters_are_documented},
	{"test_api_routes_table__is_well_formed", test_api_routes_table__is_well_formed},
	{"test_api_routes_find__matches_literals_and_parameters", test_api_routes_find__matches_literals_and_parameters},
	{"test_api_routes_find__decodes_each_segment", test_api_routes_find__decodes_each_segment},
	{"test_api_routes_find__refuses_what_names_nothing", test_api_routes_find__refuses_what_names_nothing},
	{"test_api_routes_find__lists_allowed_methods", test_api_routes_find__lists_allowed_methods},
	{"test_api_routes_roles__admin_always_and_any_means_authenticated", test_api_routes_roles__admin_always_and_any_means_authenticated},
	{"test_api_routes_text__checks_utf8", test_api_routes_text__checks_utf8},
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	return gh_test_run(cases, argc, argv);
}
