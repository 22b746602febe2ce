/* test_audit_siem.c - CEF escaping, RFC 5424 framing and the export state file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/siem.h"
#include "common/error.h"
#include "common/util.h"
#include "harness.h"

/* s escaped as a header field (header = 1) or an extension value (0). */
static char *esc(const char *s, size_t n, int header)
{
	char *out = NULL;
	size_t len = 0, cap = 0;

	if (gh_siem_cef_escape(&out, &len, &cap, s, n, header))
		return NULL;
	return out ? out : strdup("");
}

static void check_esc(const char *in, int header, const char *want)
{
	char *got = esc(in, strlen(in), header);

	CHECK_STR(got, want);
	free(got);
}

static void test_audit_siem_cef_escape__header(void)
{
	check_esc("plain", 1, "plain");
	check_esc("a|b", 1, "a\\|b");
	check_esc("back\\slash", 1, "back\\\\slash");
	check_esc("\\|", 1, "\\\\\\|");
	check_esc("a=b", 1, "a=b");                 /* = needs no escape in the header */
	check_esc("line\nbreak\r", 1, "line break ");   /* no line ends in a header */
	check_esc("tab\there", 1, "tab here");
	check_esc("caf\xC3\xA9 \xE2\x82\xAC", 1, "caf\xC3\xA9 \xE2\x82\xAC");   /* UTF-8 kept */
}

static void test_audit_siem_cef_escape__extension(void)
{
	check_esc("a=b", 0, "a\\=b");
	check_esc("a|b", 0, "a|b");                 /* | needs no escape in an extension */
	check_esc("c:\\dir", 0, "c:\\\\dir");
	check_esc("one\ntwo\r\nthree", 0, "one\\ntwo\\r\\nthree");
	check_esc("\\=\n", 0, "\\\\\\=\\n");
	check_esc("\xE6\x97\xA5\xE6\x9C\xAC", 0, "\xE6\x97\xA5\xE6\x9C\xAC");
	check_esc("nel\xC2\x85x", 0, "nel x");      /* C1 NEL is a line break to some */
	check_esc("ls\xE2\x80\xA8x", 0, "ls x");    /* U+2028 too */
}

static void test_audit_siem_cef_escape__malformed_utf8_and_nul(void)
{
	char *got = esc("a\xFF" "b\xC3", 4, 0);

	CHECK_STR(got, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
	free(got);
	got = esc("x\0y", 3, 1);
	CHECK_STR(got, "x y");
	free(got);
	got = esc("\xED\xA0\x80", 3, 0);           /* a surrogate is not UTF-8 */
	CHECK_STR(got, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	free(got);
}

static void test_audit_siem_cef_escape__header_is_capped_at_characters(void)
{
	char in[2000];
	char *got;

	for (size_t i = 0; i < sizeof(in) - 1; i++)
		in[i] = '|';
	in[sizeof(in) - 1] = '\0';
	got = esc(in, strlen(in), 1);
	CHECK(got && strlen(got) <= GH_SIEM_CEF_MAX_HEADER_FIELD);
	CHECK(got && strlen(got) % 2 == 0);         /* never half an escape */
	free(got);
}

static json_t *event(const char *action, const char *details)
{
	json_t *ev = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s}", "seq", (json_int_t)42,
			       "time", "2026-01-02T03:04:05Z", "ts_us",
			       (json_int_t)1767323045123456LL, "actor", "idn_00000000000000aa",
			       "action", action, "object_type", "request", "object_id",
			       "req_00000000000000bb");

	json_object_set_new(ev, "details", json_loads(details, 0, NULL));
	return ev;
}

static void test_audit_siem_cef__line(void)
{
	json_t *ev = event("request.approved", "{\"comment\":\"ok = fine\\nnext|line\"}");
	char *line = NULL;
	size_t len = 0;

	CHECK_INT(gh_siem_cef(&line, &len, ev), 0);
	CHECK_STR(line, "CEF:0|Gatehouse|Gatehouse|1.0|request.approved|request.approved|3|"
		  "rt=1767323045123 suser=idn_00000000000000aa cs1Label=objectType cs1=request "
		  "cs2Label=objectId cs2=req_00000000000000bb cn1Label=seq cn1=42 "
		  "msg={\"comment\":\"ok \\= fine\\\\nnext|line\"}");
	CHECK_INT(len, line ? strlen(line) : 0);
	free(line);
	json_decref(ev);
}

static void test_audit_siem_cef__hostile_fields(void)
{
	json_t *ev = event("x|y\\z\nw", "{}");
	char *line = NULL;
	size_t len = 0;

	json_object_set_new(ev, "actor", json_string("a=b\nc\xC3\xA9"));
	json_object_set_new(ev, "object_id", json_integer(7));
	json_object_del(ev, "details");
	CHECK_INT(gh_siem_cef(&line, &len, ev), 0);
	CHECK_STR(line, "CEF:0|Gatehouse|Gatehouse|1.0|x\\|y\\\\z w|x\\|y\\\\z w|3|"
		  "rt=1767323045123 suser=a\\=b\\nc\xC3\xA9 cs1Label=objectType cs1=request "
		  "cs2Label=objectId cs2=7 cn1Label=seq cn1=42 msg={}");
	CHECK(line && !strchr(line, '\n') && !strchr(line, '\r'));
	free(line);
	json_decref(ev);
	ev = json_array();
	CHECK_INT(gh_siem_cef(&line, &len, ev), GH_EINVALID);
	CHECK(line == NULL);
	json_decref(ev);
}

static void test_audit_siem_cef__severity(void)
{
	CHECK_INT(gh_siem_cef_severity("request.break_glass"), 9);
	CHECK_INT(gh_siem_cef_severity("grant.provisioning_failed"), 7);
	CHECK_INT(gh_siem_cef_severity("grant.revoked"), 6);
	CHECK_INT(gh_siem_cef_severity("policy.activated"), 5);
	CHECK_INT(gh_siem_cef_severity("identity.created"), 3);
	CHECK_INT(gh_siem_cef_severity(NULL), 3);
}

static void test_audit_siem_syslog__rfc5424(void)
{
	char *msg = NULL;
	size_t len = 0;

	CHECK_INT(gh_siem_syslog(&msg, &len, 1767323045123456LL, 9, "host one", 77, "CEF:0|x", 7,
				 GH_SIEM_SYSLOG_MAX), 0);
	/* authpriv (10) * 8 + warning (4) = 84; the space in the host is not allowed */
	CHECK_STR(msg, "<84>1 2026-01-02T03:04:05.123456Z host-one gatehouse 77 audit - CEF:0|x");
	free(msg);
	CHECK_INT(gh_siem_syslog(&msg, &len, 0, 3, "", 1, "{}", 2, GH_SIEM_SYSLOG_MAX), 0);
	CHECK_STR(msg, "<86>1 - - gatehouse 1 audit - {}");
	free(msg);
	/* cut to max at a character boundary */
	CHECK_INT(gh_siem_syslog(&msg, &len, 0, 3, "h", 1, "ab\xC3\xA9", 4, 33), 0);
	CHECK_STR(msg, "<86>1 - h gatehouse 1 audit - ab");
	CHECK_INT(len, 32);
	free(msg);
}

static char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", gh_test_tmpdir(), name);
	return buf[i];
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_audit_siem_state__round_trip(void)
{
	const char *path = tmp_path("state-rt.json");
	gh_siem_state st = {0}, back;
	struct stat sb;
	char tmp[600];

	st.seq = 123456789012LL;
	snprintf(st.format, sizeof(st.format), "cef");
	snprintf(st.output, sizeof(st.output), "file");
	st.offset = 4096;
	st.dev = 2049;
	st.ino = 77;
	CHECK_INT(gh_siem_state_write(path, &st), 0);
	CHECK_INT(gh_siem_state_read(&back, path), 0);
	CHECK_INT(back.seq, st.seq);
	CHECK_STR(back.format, "cef");
	CHECK_STR(back.output, "file");
	CHECK_INT(back.offset, 4096);
	CHECK_INT(back.dev, 2049);
	CHECK_INT(back.ino, 77);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(stat(tmp, &sb) != 0);                /* the temp file was renamed */

	snprintf(st.output, sizeof(st.output), "syslog");
	st.seq = 5;
	CHECK_INT(gh_siem_state_write(path, &st), 0);
	CHECK_INT(gh_siem_state_read(&back, path), 0);
	CHECK_INT(back.seq, 5);
	CHECK_STR(back.output, "syslog");
	CHECK_INT(back.offset, 0);
}

static void test_audit_siem_state__missing_is_not_found(void)
{
	gh_siem_state st;

	CHECK_INT(gh_siem_state_read(&st, tmp_path("no-such-state")), GH_ENOTFOUND);
}

static void test_audit_siem_state__corrupt_refused(void)
{
	static const char *const bad[] = {
		"",
		"{\"seq\":1,\"format\":\"json\",\"output\":\"stdout\"",
		"[1]",
		"{\"seq\":-1,\"format\":\"json\",\"output\":\"stdout\"}",
		"{\"seq\":\"1\",\"format\":\"json\",\"output\":\"stdout\"}",
		"{\"seq\":1,\"format\":\"xml\",\"output\":\"stdout\"}",
		"{\"seq\":1,\"format\":\"json\",\"output\":\"tape\"}",
		"{\"seq\":1,\"format\":\"json\",\"output\":\"file\"}",
		"{\"seq\":1,\"format\":\"json\",\"output\":\"stdout\",\"extra\":1}",
		"{\"seq\":1,\"seq\":2,\"format\":\"json\",\"output\":\"stdout\"}",
		NULL};
	const char *path = tmp_path("state-bad.json");
	gh_siem_state st;

	for (size_t i = 0; bad[i]; i++) {
		write_text(path, bad[i]);
		gh_error_clear();
		CHECK_INT(gh_siem_state_read(&st, path), GH_EINVALID);
		CHECK(strstr(gh_error_last()->message, "corrupt") != NULL);
		CHECK(strstr(gh_error_last()->message, path) != NULL);
	}
	write_text(path, "{\"seq\":9,\"format\":\"json\",\"output\":\"stdout\"}\n");
	CHECK_INT(gh_siem_state_read(&st, path), 0);
	CHECK_INT(st.seq, 9);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"audit_siem_cef_escape__header", test_audit_siem_cef_escape__header},
		{"audit_siem_cef_escape__extension", test_audit_siem_cef_escape__extension},
		{"audit_siem_cef_escape__malformed_utf8_and_nul",
		 test_audit_siem_cef_escape__malformed_utf8_and_nul},
		{"audit_siem_cef_escape__header_is_capped_at_characters",
		 test_audit_siem_cef_escape__header_is_capped_at_characters},
		{"audit_siem_cef__line", test_audit_siem_cef__line},
		{"audit_siem_cef__hostile_fields", test_audit_siem_cef__hostile_fields},
		{"audit_siem_cef__severity", test_audit_siem_cef__severity},
		{"audit_siem_syslog__rfc5424", test_audit_siem_syslog__rfc5424},
		{"audit_siem_state__round_trip", test_audit_siem_state__round_trip},
		{"audit_siem_state__missing_is_not_found", test_audit_siem_state__missing_is_not_found},
		{"audit_siem_state__corrupt_refused", test_audit_siem_state__corrupt_refused},
		{NULL, NULL}};

	gh_init();
	return gh_test_run(cases, argc, argv);
}
