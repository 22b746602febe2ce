/* test_cli_args.c - the command line: parsing, options to JSON bodies and queries, tables. */
#include "cli/cli.h"
#include "common/error.h"
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

/* Parses a NULL-ended list of words as if typed after "gatehouse". */
static int parse(gh_cli *c, const char *const words[])
{
	char *argv[GH_CLI_MAX_ARGS * 2 + 2];
	int argc = 0;

	argv[argc++] = (char *)"gatehouse";
	for (int i = 0; words[i] && argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1; i++)
		argv[argc++] = (char *)words[i];
	argv[argc] = NULL;
	return gh_cli_parse(c, argc, argv);
}

/* The same after a command word: how a command's own options are given. */
static int parse_opts(gh_cli *c, const char *const words[])
{
	const char *all[GH_CLI_MAX_ARGS * 2 + 2];
	int n = 0;

	all[n++] = "cmd";
	for (int i = 0; words[i] && n < (int)(sizeof(all) / sizeof(all[0])) - 1; i++)
		all[n++] = words[i];
	all[n] = NULL;
	return parse(c, all);
}

static char *body_text(const gh_cli *c, const gh_cli_field *fields, int *rc)
{
	json_t *body = NULL;
	char *text = NULL;

	*rc = gh_cli_body(&body, c, fields);
	if (body)
		text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	return text;
}

static const gh_cli_field fields[] = {
	{"name", "name", GH_CLI_STRING},
	{"expires-at", "expires_at", GH_CLI_STRING},
	{"roles", "roles", GH_CLI_LIST},
	{"requestable", "requestable", GH_CLI_BOOL},
	{"attributes", "attributes", GH_CLI_OBJECT},
	{"max-duration", "max_duration", GH_CLI_DURATION},
	{"limit", "limit", GH_CLI_INT},
	{NULL, NULL, 0},
};

static void test_cli_parse__globals_anywhere(void)
{
	gh_cli c;
	const char *const words[] = {"identities", "--token", "t0k", "list", "--json", "--db=x.db",
				     "--kind", "human", "--server", "http://h:1", NULL};

	CHECK_INT(parse(&c, words), 0);
	CHECK_INT(c.npos, 2);
	CHECK_STR(c.pos[0], "identities");
	CHECK_STR(c.pos[1], "list");
	CHECK_STR(c.token, "t0k");
	CHECK_STR(c.db, "x.db");
	CHECK_STR(c.server, "http://h:1");
	CHECK_INT(c.json, 1);
	CHECK_INT(c.nopt, 1);
	CHECK_STR(gh_cli_get(&c, "kind"), "human");
}

static void test_cli_parse__values_flags_and_end_of_options(void)
{
	gh_cli c;
	const char *const words[] = {"requests", "submit", "--emergency", "--ticket_ref", "INC-1",
				     "--body", "-", "--all", "-h", "--", "--not-an-option", NULL};

	CHECK_INT(parse(&c, words), 0);
	CHECK(gh_cli_has(&c, "emergency"));
	CHECK(gh_cli_get(&c, "emergency") == NULL);
	/* '_' folds to '-' so both spellings work */
	CHECK_STR(gh_cli_get(&c, "ticket-ref"), "INC-1");
	CHECK_STR(gh_cli_get(&c, "body"), "-");
	CHECK_INT(c.all, 1);
	CHECK_INT(c.help, 1);
	CHECK_INT(c.npos, 3);
	CHECK_STR(c.pos[2], "--not-an-option");
	CHECK(!gh_cli_has(&c, "missing"));
}

static void test_cli_parse__last_value_wins(void)
{
	gh_cli c;
	const char *const words[] = {"x", "--name", "a", "--name=b", NULL};

	CHECK_INT(parse(&c, words), 0);
	CHECK_STR(gh_cli_get(&c, "name"), "b");
}

static void test_cli_parse__refuses_bad_options(void)
{
	gh_cli c;
	const char *const short_opt[] = {"-x", NULL};
	const char *const flag_value[] = {"--json=yes", NULL};
	const char *const db_no_value[] = {"--db", NULL};
	const char *const triple[] = {"---x", NULL};
	const char *const long_name[] = {"--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL};
	const char *many[GH_CLI_MAX_ARGS + 2];

	CHECK_INT(parse(&c, short_opt), GH_EINVALID);
	CHECK_INT(parse(&c, flag_value), GH_EINVALID);
	CHECK_INT(parse(&c, db_no_value), GH_EINVALID);
	CHECK_INT(parse(&c, triple), GH_EINVALID);
	CHECK_INT(parse(&c, long_name), GH_EINVALID);
	for (int i = 0; i < GH_CLI_MAX_ARGS + 1; i++)
		many[i] = "word";
	many[GH_CLI_MAX_ARGS + 1] = NULL;
	CHECK_INT(parse(&c, many), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "too many") != NULL);
}

static void test_cli_defaults__environment_then_builtin(void)
{
	gh_cli c;
	const char *const words[] = {"init", "--db", "given.db", NULL};

	setenv("GATEHOUSE_DB", "env.db", 1);
	setenv("GATEHOUSE_SERVER", "http://env:9", 1);
	unsetenv("GATEHOUSE_TOKEN");
	CHECK_INT(parse(&c, words), 0);
	gh_cli_defaults(&c);
	CHECK_STR(c.db, "given.db");
	CHECK_STR(c.server, "http://env:9");
	CHECK(c.token == NULL);
	unsetenv("GATEHOUSE_DB");
	unsetenv("GATEHOUSE_SERVER");
	CHECK_INT(parse(&c, words + 3), 0);
	gh_cli_defaults(&c);
	CHECK_STR(c.db, GH_CLI_DEFAULT_DB);
	CHECK_STR(c.server, GH_CLI_DEFAULT_SERVER);
}

static void test_cli_check_options__names_the_unknown_one(void)
{
	gh_cli c;
	const char *const allowed[] = {"name", "owner", NULL};
	const char *const good[] = {"--name", "a", "--owner", "b", NULL};
	const char *const bad[] = {"--name", "a", "--onwer", "b", NULL};

	CHECK_INT(parse_opts(&c, good), 0);
	CHECK_INT(gh_cli_check_options(&c, "systems create", allowed), 0);
	CHECK_INT(parse_opts(&c, bad), 0);
	CHECK_INT(gh_cli_check_options(&c, "systems create", allowed), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "--onwer") != NULL);
	CHECK(strstr(gh_error_last()->message, "systems create") != NULL);
	CHECK_INT(gh_cli_check_options(&c, "init", NULL), GH_EINVALID);
}

static void test_cli_body__maps_each_type(void)
{
	gh_cli c;
	char *text;
	int rc;
	const char *const words[] = {"--name", "billing-etl", "--roles", "requester, approver",
				     "--requestable", "--attributes", "{\"team\":\"data\"}",
				     "--max-duration", "3600", "--limit", "-5",
				     "--expires-at", "2027-01-01T00:00:00Z", NULL};

	CHECK_INT(parse_opts(&c, words), 0);
	text = body_text(&c, fields, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(text, "{\"attributes\":{\"team\":\"data\"},\"expires_at\":\"2027-01-01T00:00:00Z\","
			"\"limit\":-5,\"max_duration\":3600,\"name\":\"billing-etl\","
			"\"requestable\":true,\"roles\":[\"requester\",\"approver\"]}");
	free(text);
}

static void test_cli_body__durations_lists_and_false(void)
{
	gh_cli c;
	char *text;
	int rc;
	const char *const words[] = {"--max-duration", "8h", "--roles", "", "--requestable=no",
				     NULL};

	CHECK_INT(parse_opts(&c, words), 0);
	text = body_text(&c, fields, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(text, "{\"max_duration\":\"8h\",\"requestable\":false,\"roles\":[]}");
	free(text);
}

static void test_cli_body__refuses_bad_values(void)
{
	gh_cli c;
	char *text;
	int rc;
	const char *const bad_bool[] = {"--requestable", "maybe", NULL};
	const char *const bad_json[] = {"--attributes", "{team:1}", NULL};
	const char *const not_object[] = {"--attributes", "[1]", NULL};
	const char *const no_value[] = {"--name", "--roles", "a", NULL};
	const char *const bad_int[] = {"--limit", "12x", NULL};

	CHECK_INT(parse_opts(&c, bad_bool), 0);
	text = body_text(&c, fields, &rc);
	CHECK_INT(rc, GH_EINVALID);
	CHECK(text == NULL);
	CHECK(strstr(gh_error_last()->message, "--requestable") != NULL);
	CHECK_INT(parse_opts(&c, bad_json), 0);
	CHECK(body_text(&c, fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "--attributes") != NULL);
	CHECK_INT(parse_opts(&c, not_object), 0);
	CHECK(body_text(&c, fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
	CHECK_INT(parse_opts(&c, no_value), 0);
	CHECK(body_text(&c, fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "needs a value") != NULL);
	CHECK_INT(parse_opts(&c, bad_int), 0);
	CHECK(body_text(&c, fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
}

static char *write_file(const char *name, const char *text, size_t repeat)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", gh_test_tmpdir(), name);
	f = fopen(path, "wb");
	if (!f)
		return NULL;
	for (size_t i = 0; i < repeat; i++)
		fputs(text, f);
	fclose(f);
	return path;
}

static void test_cli_body__file_then_options_on_top(void)
{
	gh_cli c;
	char *text, *path = write_file("body.json", "{\"name\":\"old\",\"purpose\":\"p\"}", 1);
	const char *words[] = {"--body", path, "--name", "new", NULL};
	int rc;

	CHECK(path != NULL);
	CHECK_INT(parse_opts(&c, words), 0);
	text = body_text(&c, fields, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(text, "{\"name\":\"new\",\"purpose\":\"p\"}");
	free(text);
}

static void test_cli_body__file_bounded_and_an_object(void)
{
	gh_cli c;
	char *path;
	const char *words[] = {"--body", NULL, NULL};
	int rc;

	/* 70 000 bytes: over the 64 KiB cap */
	path = write_file("big.json", "          ", 7000);
	words[1] = path;
	CHECK_INT(parse_opts(&c, words), 0);
	CHECK(body_text(&c, fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "more than") != NULL);
	path = write_file("array.json", "[1,2]", 1);
	words[1] = path;
	CHECK_INT(parse_opts(&c, words), 0);
	CHECK(body_text(&c, fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
	words[1] = "/nonexistent/body.json";
	CHECK_INT(parse_opts(&c, words), 0);
	CHECK(body_text(&c, fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
}

/* A file option carries the file's text as a string, bounded. */
static void test_cli_body__file_option_reads_text(void)
{
	static const gh_cli_field file_fields[] = {{"file", "text", GH_CLI_FILE}, {NULL, NULL, 0}};
	gh_cli c;
	char *path, *text;
	const char *words[] = {"--file", NULL, NULL};
	int rc;

	path = write_file("policy.cedar", "permit(principal, action, resource);\n", 1);
	words[1] = path;
	CHECK_INT(parse_opts(&c, words), 0);
	text = body_text(&c, file_fields, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(text, "{\"text\":\"permit(principal, action, resource);\\n\"}");
	free(text);
	path = write_file("huge.cedar", "0123456789abcdef", 70000);   /* 1.12 MB */
	words[1] = path;
	CHECK_INT(parse_opts(&c, words), 0);
	CHECK(body_text(&c, file_fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "more than") != NULL);
	words[1] = "/nonexistent/p.cedar";
	CHECK_INT(parse_opts(&c, words), 0);
	CHECK(body_text(&c, file_fields, &rc) == NULL);
	CHECK_INT(rc, GH_EINVALID);
}

static void test_cli_escape__reserved_characters(void)
{
	char *e = gh_cli_escape("billing-db/read only~._&=?\xc3\xa9");

	CHECK_STR(e, "billing-db%2Fread%20only~._%26%3D%3F%C3%A9");
	free(e);
}

static void test_cli_query__escapes_and_normalises(void)
{
	gh_cli c;
	char *q = NULL;
	const char *const words[] = {"--name", "a b&c", "--requestable", "--limit", "10", NULL};
	const char *const none[] = {NULL};
	const char *const bad[] = {"--limit", "ten", NULL};
	const char *const after[] = {"--limit", "5", "--name", "x", NULL};

	CHECK_INT(parse_opts(&c, words), 0);
	CHECK_INT(gh_cli_query(&q, &c, fields, NULL, NULL), 0);
	CHECK_STR(q, "?name=a%20b%26c&requestable=true&limit=10");
	free(q);
	CHECK_INT(parse_opts(&c, none), 0);
	CHECK_INT(gh_cli_query(&q, &c, fields, NULL, NULL), 0);
	CHECK_STR(q, "");
	free(q);
	CHECK_INT(parse_opts(&c, bad), 0);
	CHECK_INT(gh_cli_query(&q, &c, fields, NULL, NULL), GH_EINVALID);
	CHECK(q == NULL);
	/* a paging cursor replaces the option of the same key */
	CHECK_INT(parse_opts(&c, after), 0);
	CHECK_INT(gh_cli_query(&q, &c, fields, "name", "idn_1"), 0);
	CHECK_STR(q, "?limit=5&name=idn_1");
	free(q);
}

static void test_cli_path__fills_and_counts(void)
{
	char *p = NULL;
	const char *const two[] = {"dba owners", "alice/x"};
	const char *const empty[] = {""};

	CHECK_INT(gh_cli_path(&p, "/v1/groups/{}/members/{}", two, 2), 0);
	CHECK_STR(p, "/v1/groups/dba%20owners/members/alice%2Fx");
	free(p);
	CHECK_INT(gh_cli_path(&p, "/v1/groups", two, 0), 0);
	CHECK_STR(p, "/v1/groups");
	free(p);
	CHECK_INT(gh_cli_path(&p, "/v1/groups/{}", two, 0), GH_EINVALID);
	CHECK(p == NULL);
	CHECK_INT(gh_cli_path(&p, "/v1/groups/{}", two, 2), GH_EINVALID);
	CHECK_INT(gh_cli_path(&p, "/v1/groups/{}", empty, 1), GH_EINVALID);
}

static void test_cli_table__cells(void)
{
	static const gh_table_col cols[] = {
		{"A", "a", GH_COL_TEXT}, {"N", "n", GH_COL_COUNT}, {NULL, NULL, 0}};
	json_t *item = json_pack("{s:s, s:[i,i,i]}", "a", "tab\there", "n", 1, 2, 3);
	json_t *other = json_pack("{s:n, s:b}", "a", "n", 1);
	char long_text[100];
	char *s;

	s = gh_table_cell(item, &cols[0]);
	CHECK_STR(s, "tab?here");
	free(s);
	s = gh_table_cell(item, &cols[1]);
	CHECK_STR(s, "3");
	free(s);
	s = gh_table_cell(other, &cols[0]);
	CHECK_STR(s, "-");
	free(s);
	s = gh_table_cell(other, &cols[1]);
	CHECK_STR(s, "0");
	free(s);
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	json_object_set_new(other, "a", json_string(long_text));
	s = gh_table_cell(other, &cols[0]);
	CHECK_INT(strlen(s), GH_TABLE_MAX_CELL);
	CHECK(strcmp(s + GH_TABLE_MAX_CELL - 3, "...") == 0);
	free(s);
	json_decref(item);
	json_decref(other);
}

static void test_cli_table__aligned_columns(void)
{
	static const gh_table_col cols[] = {
		{"ID", "id", GH_COL_TEXT}, {"NAME", "name", GH_COL_TEXT},
		{"OK", "ok", GH_COL_TEXT}, {NULL, NULL, 0}};
	json_t *items = json_pack("[{s:s, s:s, s:b}, {s:s, s:s, s:b}]", "id", "idn_1", "name",
				  "alice", "ok", 1, "id", "idn_22", "name", "bo", "ok", 0);
	char buf[512] = "";
	FILE *f = tmpfile();
	size_t n;

	CHECK(f != NULL);
	CHECK_INT(gh_table_print(f, items, cols), 0);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	CHECK_STR(buf, "ID      NAME   OK\n"
		       "idn_1   alice  yes\n"
		       "idn_22  bo     no\n");
	fclose(f);
	json_decref(items);
}

static void test_cli_parse__unknown_global_option_takes_no_word(void)
{
	gh_cli c;
	const char *const typo[] = {"--jsn", "requests", "list", NULL};
	const char *const cmd_opt_first[] = {"--kind", "human", "identities", "list", NULL};
	const char *const far[] = {"--zzzzzz", "requests", "list", NULL};
	const char *const globals[] = {"--db", "x.db", "--json", "--all", "requests", "list",
				       "--state", "active", "--token", "t", NULL};

	/* before: --jsn took "requests" as its value and "list" became the command */
	CHECK_INT(parse(&c, typo), GH_EINVALID);
	CHECK_STR(gh_error_last()->message, "unknown global option --jsn; did you mean --json?");
	CHECK_INT(parse(&c, cmd_opt_first), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "unknown global option --kind") != NULL);
	CHECK_INT(parse(&c, far), GH_EINVALID);
	CHECK_STR(gh_error_last()->message, "unknown global option --zzzzzz");
	CHECK_INT(parse(&c, globals), 0);
	CHECK_STR(c.db, "x.db");
	CHECK_INT(c.json, 1);
	CHECK_INT(c.all, 1);
	CHECK_INT(c.npos, 2);
	CHECK_STR(c.pos[1], "list");
	CHECK_STR(gh_cli_get(&c, "state"), "active");
	CHECK_STR(c.token, "t");
}

static void test_cli_parse__version_flag(void)
{
	gh_cli c;
	const char *const alone[] = {"--version", NULL};
	const char *const valued[] = {"--version=2", NULL};

	CHECK_INT(parse(&c, alone), 0);
	CHECK_INT(c.version, 1);
	CHECK_INT(c.npos, 0);
	CHECK_INT(parse(&c, valued), GH_EINVALID);
	CHECK(strlen(GH_VERSION) > 0);
}

static void test_cli_nearest__bounded_edit_distance(void)
{
	static const char *const subs[] = {"list", "get", "submit", "approve", "reject", NULL};

	CHECK_STR(gh_cli_nearest("lst", subs), "list");
	CHECK_STR(gh_cli_nearest("aprove", subs), "approve");
	CHECK_STR(gh_cli_nearest("sbumit", subs), "submit");
	CHECK(gh_cli_nearest("delete", subs) == NULL);
	CHECK(gh_cli_nearest("x", subs) == NULL);
	CHECK(gh_cli_nearest("list", NULL) == NULL);
}

static void test_cli_check_options__suggests_the_nearest(void)
{
	gh_cli c;
	const char *const allowed[] = {"name", "owner", NULL};
	const char *const bad[] = {"--onwer", "b", NULL};

	CHECK_INT(parse_opts(&c, bad), 0);
	CHECK_INT(gh_cli_check_options(&c, "systems create", allowed), GH_EINVALID);
	CHECK_STR(gh_error_last()->message,
		  "unknown option --onwer for 'systems create'; did you mean --owner?");
}

static void check_text(const char *key, const char *json, const char *want)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	char *text = v ? gh_table_text(key, v) : NULL;

	CHECK(v != NULL);
	CHECK_STR(text, want);
	free(text);
	json_decref(v);
}

static void test_cli_table__nested_values_in_words(void)
{
	check_text(NULL, "{\"id\":\"idn_1\",\"name\":\"erin\"}", "erin");
	check_text(NULL, "{\"id\":\"ent_1\",\"name\":\"read\",\"system\":{\"id\":\"sys_1\","
		   "\"name\":\"billing-db\"}}", "billing-db/read");
	check_text(NULL, "[\"a\",\"b\",3]", "a, b, 3");
	check_text(NULL, "[]", "-");
	check_text(NULL, "[{\"name\":\"x\"},{\"name\":\"y\"}]", "x, y");
	check_text("decision", "{\"outcome\":\"auto_approved\",\"policy_version\":\"builtin-1\","
		   "\"reasons\":[\"risk tier low\"],\"required_approvals\":0}",
		   "auto_approved: risk tier low; policy builtin-1");
	check_text("decision", "{\"outcome\":\"approval_required\",\"policy_version\":\"3\","
		   "\"reasons\":[\"a\",\"b\"],\"required_approvals\":2,"
		   "\"determining\":[{\"policy\":\"policy0\"},{\"policy\":\"dba\"}]}",
		   "approval_required, 2 approvals: a; b; policy 3 (policy0, dba)");
	check_text("effects", "{\"requests\":{\"evaluated\":12,\"flips\":[{},{}]},"
		   "\"grants\":{\"evaluated\":40,\"revocation_candidates\":[{}]}}",
		   "requests: 12 evaluated, 2 changed; grants: 40 evaluated, 1 revocation candidate");
	check_text(NULL, "{\"state\":\"active\",\"closed_at\":null,\"ok\":true,\"n\":2}",
		   "state: active, ok: yes, n: 2");
	check_text(NULL, "{\"a\":null}", "-");
	check_text(NULL, "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}", "a: b: c: ...");
	check_text(NULL, "null", "-");
}

static void test_cli_table__object_lines_in_words(void)
{
	json_t *obj = json_pack("{s:s, s:{s:s, s:s}, s:[s, s], s:[]}", "state", "active",
				"approver", "id", "idn_1", "name", "erin", "checks", "not_submitter",
				"not_subject", "approvals");
	char buf[512] = "";
	FILE *f = tmpfile();
	size_t n;

	CHECK(f != NULL && obj != NULL);
	CHECK_INT(gh_table_print_object(f, obj), 0);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	CHECK_STR(buf, "state      active\n"
		       "approver   erin\n"
		       "checks     not_submitter, not_subject\n"
		       "approvals  -\n");
	fclose(f);
	json_decref(obj);
}

/* What gh_client_report_as writes to stderr for a response. */
static char *report_text(long status, const char *body, const char *command)
{
	gh_client cl = {"http://127.0.0.1:1", "t", 5, NULL};
	gh_response r = {status, (char *)body, strlen(body)};
	FILE *f = tmpfile();
	int saved = dup(2);
	char *out = calloc(1, 2048);
	size_t n;

	fflush(stderr);
	dup2(fileno(f), 2);
	CHECK_INT(gh_client_report_as(&r, &cl, command), GH_EXIT_FAIL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, 2047, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

static void test_cli_report__each_error_once(void)
{
	char *s;

	/* before: "gatehouse: channel: is required (HTTP 400)" then "  channel: is required" */
	s = report_text(400, "{\"detail\":\"channel: is required\",\"errors\":"
			"[{\"field\":\"channel\",\"reason\":\"is required\"}]}", "requests submit");
	CHECK_STR(s, "gatehouse: channel: is required\n");
	free(s);
	s = report_text(400, "{\"detail\":\"2 fields are invalid; see errors\",\"errors\":"
			"[{\"field\":\"owner\",\"reason\":\"is required\"},"
			"{\"field\":\"purpose\",\"reason\":\"is required\"}]}", NULL);
	CHECK_STR(s, "gatehouse: 2 fields are invalid:\n  owner: is required\n"
		     "  purpose: is required\n");
	free(s);
	s = report_text(400, "{\"detail\":\"entitlement: entitlement x not found\",\"errors\":"
			"[{\"field\":\"entitlement\",\"reason\":\"entitlement x not found\"}]}", NULL);
	CHECK_STR(s, "gatehouse: entitlement x not found\n");
	free(s);
	s = report_text(404, "{\"detail\":\"entitlement github-org/repo-reed not found; did you"
			" mean github-org/repo-read?\"}", NULL);
	CHECK_STR(s, "gatehouse: entitlement github-org/repo-reed not found; did you mean"
		     " github-org/repo-read?\n");
	free(s);
	s = report_text(502, "", NULL);
	CHECK_STR(s, "gatehouse: the server answered HTTP 502\n");
	free(s);
}

static void test_cli_report__role_refusal_names_command_and_caller(void)
{
	static const char gate[] =
		"{\"detail\":\"POST /v1/requests/{id}/approve needs one of the roles: admin, iam,"
		" approver\",\"caller\":{\"id\":\"idn_1\",\"name\":\"sam\",\"roles\":"
		"[\"servicedesk\"]},\"roles_needed\":[\"admin\",\"iam\",\"approver\"]}";
	static const char domain[] =
		"{\"detail\":\"a requester may only request access for itself\",\"caller\":"
		"{\"id\":\"idn_2\",\"name\":\"carol\",\"roles\":[]}}";
	char *s;

	s = report_text(403, gate, "requests approve");
	CHECK_STR(s, "gatehouse: requests approve needs one of the roles admin, iam, approver;"
		     " you are sam (servicedesk)\n");
	free(s);
	s = report_text(403, gate, NULL);
	CHECK_STR(s, "gatehouse: POST /v1/requests/{id}/approve needs one of the roles: admin,"
		     " iam, approver; you are sam (servicedesk)\n");
	free(s);
	s = report_text(403, domain, "requests submit");
	CHECK_STR(s, "gatehouse: a requester may only request access for itself; you are carol"
		     " (no roles)\n");
	free(s);
}

static void test_cli_client__unreachable_server_is_an_error(void)
{
	gh_client cl = {"http://127.0.0.1:1/", NULL, 5, NULL};
	gh_response r;

	CHECK_INT(gh_client_request(&r, &cl, "GET", "/healthz", NULL, NULL), GH_ERROR);
	CHECK(strstr(gh_error_last()->message, "cannot reach") != NULL);
	CHECK(r.body == NULL);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"cli_parse__globals_anywhere", test_cli_parse__globals_anywhere},
		{"cli_parse__values_flags_and_end_of_options",
		 test_cli_parse__values_flags_and_end_of_options},
		{"cli_parse__last_value_wins", test_cli_parse__last_value_wins},
		{"cli_parse__refuses_bad_options", test_cli_parse__refuses_bad_options},
		{"cli_defaults__environment_then_builtin",
		 test_cli_defaults__environment_then_builtin},
		{"cli_check_options__names_the_unknown_one",
		 test_cli_check_options__names_the_unknown_one},
		{"cli_body__maps_each_type", test_cli_body__maps_each_type},
		{"cli_body__durations_lists_and_false", test_cli_body__durations_lists_and_false},
		{"cli_body__refuses_bad_values", test_cli_body__refuses_bad_values},
		{"cli_body__file_then_options_on_top", test_cli_body__file_then_options_on_top},
		{"cli_body__file_bounded_and_an_object",
		 test_cli_body__file_bounded_and_an_object},
		{"cli_body__file_option_reads_text", test_cli_body__file_option_reads_text},
		{"cli_escape__reserved_characters", test_cli_escape__reserved_characters},
		{"cli_query__escapes_and_normalises", test_cli_query__escapes_and_normalises},
		{"cli_path__fills_and_counts", test_cli_path__fills_and_counts},
		{"cli_table__cells", test_cli_table__cells},
		{"cli_table__aligned_columns", test_cli_table__aligned_columns},
		{"cli_client__unreachable_server_is_an_error",
		 test_cli_client__unreachable_server_is_an_error},
		{"cli_parse__unknown_global_option_takes_no_word",
		 test_cli_parse__unknown_global_option_takes_no_word},
		{"cli_parse__version_flag", test_cli_parse__version_flag},
		{"cli_nearest__bounded_edit_distance", test_cli_nearest__bounded_edit_distance},
		{"cli_check_options__suggests_the_nearest",
		 test_cli_check_options__suggests_the_nearest},
		{"cli_table__nested_values_in_words", test_cli_table__nested_values_in_words},
		{"cli_table__object_lines_in_words", test_cli_table__object_lines_in_words},
		{"cli_report__each_error_once", test_cli_report__each_error_once},
		{"cli_report__role_refusal_names_command_and_caller",
		 test_cli_report__role_refusal_names_command_and_caller},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
