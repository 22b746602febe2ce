/* fuzz_cef.c - fuzz target: the CEF encoder and syslog framing on arbitrary event JSON.
 * Never crashes; a line has no raw line break, exactly seven unescaped '|'
 * before its extension, and only the escapes CEF defines. */
#include "audit/siem.h"
#include "common/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Header escapes are \\ and \|; extension escapes \\ \= \n \r. Aborts on a
 * raw line break or a delimiter left unescaped. */
static void check_line(const char *s, size_t n)
{
	size_t pipes = 0, i = 0;

	if (n < 6 || memcmp(s, "CEF:0|", 6) != 0)
		abort();
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r' || s[i] == '\0')
			abort();
		if (pipes < 7) {
			if (s[i] == '\\') {
				if (i + 1 >= n || (s[i + 1] != '\\' && s[i + 1] != '|'))
					abort();
				i++;
			} else if (s[i] == '|') {
				pipes++;
			}
		} else if (s[i] == '\\') {
			if (i + 1 >= n || !strchr("\\=nr", s[i + 1]))
				abort();
			i++;
		}
	}
	if (pipes != 7)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *ev = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	char *line = NULL, *msg = NULL, *raw = NULL;
	size_t len = 0, mlen = 0, rlen = 0, rcap = 0;

	if (ev && gh_siem_cef(&line, &len, ev) == 0) {
		if (strlen(line) != len)
			abort();
		check_line(line, len);
		if (gh_siem_syslog(&msg, &mlen, 1, gh_siem_cef_severity(line), "host", 1, line, len,
				   64 + size % 512) == 0 && (mlen > 64 + size % 512 || strchr(msg, '\n')))
			abort();
	}
	/* the escaper on raw bytes, in both modes */
	for (int header = 0; header < 2; header++) {
		rlen = 0;
		if (gh_siem_cef_escape(&raw, &rlen, &rcap, (const char *)data, size, header) == 0 &&
		    raw && (memchr(raw, '\n', rlen) || memchr(raw, '\r', rlen)))
			abort();
	}
	free(raw);
	free(msg);
	free(line);
	json_decref(ev);
	gh_error_clear();
	return 0;
}
