/* siem.c - audit events for SIEMs: CEF encoding, RFC 5424 framing, export state files. */
#include "audit/siem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"

/* --- a growable buffer, capped at GH_SIEM_MAX_LINE ------------------------ */

static int grow(char **out, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 256;
	char *p;

	if (need <= *cap)
		return 0;
	if (need > GH_SIEM_MAX_LINE + 1)
		return gh_error_set(GH_ETOOLARGE, "an encoded audit event is larger than %u bytes",
				    GH_SIEM_MAX_LINE);
	while (c < need)
		c *= 2;
	if (!(p = realloc(*out, c)))
		return gh_error_set(GH_ERROR, "out of memory encoding an audit event");
	*out = p;
	*cap = c;
	return 0;
}

static int put(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
	int rc = grow(out, cap, *len + n + 1);

	if (rc)
		return rc;
	memcpy(*out + *len, s, n);
	*len += n;
	(*out)[*len] = '\0';
	return 0;
}

static int puts_(char **out, size_t *len, size_t *cap, const char *s)
{
	return put(out, len, cap, s, strlen(s));
}

/* --- CEF ----------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF) with its code point, or 0 when malformed. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80)
		return *cp = s[0], 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

int gh_siem_cef_escape(char **out, size_t *len, size_t *cap, const char *s, size_t n,
		       int header)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = *len, i = 0;
	int rc = 0;

	while (i < n && rc == 0) {
		char tmp[4];
		const char *rep = tmp;
		size_t rlen, k;
		uint32_t cp;

		if (!(k = utf8_seq(p + i, n - i, &cp))) {
			rep = "\xEF\xBF\xBD", rlen = 3, k = 1;  /* U+FFFD for a bad byte */
		} else if (cp == '\\') {
			rep = "\\\\", rlen = 2;
		} else if (cp == '|' && header) {
			rep = "\\|", rlen = 2;
		} else if (cp == '=' && !header) {
			rep = "\\=", rlen = 2;
		} else if ((cp == '\n' || cp == '\r') && !header) {
			rep = cp == '\n' ? "\\n" : "\\r", rlen = 2;
		} else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
			   cp == 0x2028 || cp == 0x2029) {
			/* C0, DEL, C1 (NEL) and Unicode line breaks: no raw line ends */
			rep = " ", rlen = 1;
		} else {
			memcpy(tmp, p + i, k);
			rlen = k;
		}
		/* a header field is cut whole characters at a time */
		if (header && *len - start + rlen > GH_SIEM_CEF_MAX_HEADER_FIELD)
			break;
		rc = put(out, len, cap, rep, rlen);
		i += k;
	}
	return rc;
}

int gh_siem_cef_severity(const char *action)
{
	static const struct {
		const char *suffix;
		int severity;
	} rules[] = {
		{".break_glass", 9}, {"_failed", 7}, {".failed", 7},
		{".revoked", 6}, {".suspended", 6}, {".decommissioned", 6}, {".rejected", 6},
		{".finding", 6}, {".review_missed", 6},
		{"policy.activated", 5}, {"policy.proposed", 5}, {"token.created", 5},
		{"credential.issued", 5}, {"credential.rotated", 5},
	};
	size_t n = action ? strlen(action) : 0;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t k = strlen(rules[i].suffix);

		if (n >= k && strcmp(action + n - k, rules[i].suffix) == 0)
			return rules[i].severity;
	}
	return 3;
}

/* A field's text: a string as is, other values as compact JSON, absent "". */
static char *text_of(const json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (!v || json_is_null(v))
		return strdup("");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int put_ext(char **out, size_t *len, size_t *cap, const char *key, const json_t *v)
{
	char *s = text_of(v);
	int rc;

	if (!s)
		return gh_error_set(GH_ERROR, "out of memory encoding an audit event");
	rc = puts_(out, len, cap, key);
	if (rc == 0)
		rc = gh_siem_cef_escape(out, len, cap, s, strlen(s), 0);
	free(s);
	return rc;
}

int gh_siem_cef(char **out, size_t *len, const json_t *event)
{
	const json_t *ts = json_object_get(event, "ts_us");
	const json_t *details = json_object_get(event, "details");
	char *action = NULL, *buf = NULL, num[64];
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if (!json_is_object(event))
		return gh_error_set(GH_EINVALID, "an audit event must be a JSON object");
	if (!(action = text_of(json_object_get(event, "action")))) {
		rc = gh_error_set(GH_ERROR, "out of memory encoding an audit event");
		goto cleanup;
	}
	if ((rc = puts_(&buf, &n, &cap, "CEF:0|" GH_SIEM_CEF_VENDOR "|" GH_SIEM_CEF_PRODUCT
			"|" GH_SIEM_CEF_VERSION "|")) ||
	    (rc = gh_siem_cef_escape(&buf, &n, &cap, action, strlen(action), 1)) ||
	    (rc = puts_(&buf, &n, &cap, "|")) ||
	    (rc = gh_siem_cef_escape(&buf, &n, &cap, action, strlen(action), 1)))
		goto cleanup;
	snprintf(num, sizeof(num), "|%d|rt=", gh_siem_cef_severity(action));
	if ((rc = puts_(&buf, &n, &cap, num)))
		goto cleanup;
	/* rt is milliseconds since the epoch */
	if (json_is_integer(ts)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(ts) / 1000);
		if ((rc = puts_(&buf, &n, &cap, num)))
			goto cleanup;
	}
	if ((rc = put_ext(&buf, &n, &cap, " suser=", json_object_get(event, "actor"))) ||
	    (rc = put_ext(&buf, &n, &cap, " cs1Label=objectType cs1=",
			  json_object_get(event, "object_type"))) ||
	    (rc = put_ext(&buf, &n, &cap, " cs2Label=objectId cs2=",
			  json_object_get(event, "object_id"))) ||
	    (rc = put_ext(&buf, &n, &cap, " cn1Label=seq cn1=", json_object_get(event, "seq"))))
		goto cleanup;
	if (details) {
		rc = put_ext(&buf, &n, &cap, " msg=", details);
	} else {
		rc = puts_(&buf, &n, &cap, " msg={}");
	}
	if (rc)
		goto cleanup;
	*out = buf;
	*len = n;
	buf = NULL;
cleanup:
	free(action);
	free(buf);
	return rc;
}

/* --- RFC 5424 ------------------------------------------------------------ */

#define FACILITY_AUTHPRIV 10

int gh_siem_syslog(char **out, size_t *len, int64_t ts_us, int cef_severity, const char *host,
		   long pid, const char *msg, size_t msg_len, size_t max)
{
	int severity = cef_severity >= 7 ? 4 : cef_severity >= 5 ? 5 : 6;
	char head[512], when[64] = "-", hostname[256];
	size_t h = 0, n, room;
	char *buf;
	int w;

	*out = NULL;
	*len = 0;
	/* HOSTNAME is 1*255 PRINTUSASCII (RFC 5424 section 6) */
	for (const char *p = host ? host : ""; *p && h < sizeof(hostname) - 1; p++)
		hostname[h++] = (*p > 32 && *p < 127) ? *p : '-';
	hostname[h] = '\0';
	if (!h)
		snprintf(hostname, sizeof(hostname), "-");
	if (ts_us > 0) {
		time_t t = (time_t)(ts_us / 1000000);
		struct tm tm;

		if (gmtime_r(&t, &tm) && tm.tm_year + 1900 <= 9999)
			snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, tm.tm_sec, (int)(ts_us % 1000000));
	}
	w = snprintf(head, sizeof(head), "<%d>1 %s %s gatehouse %ld audit - ",
		     FACILITY_AUTHPRIV * 8 + severity, when, hostname, pid);
	if (w < 0 || (size_t)w >= sizeof(head) || (size_t)w >= max)
		return gh_error_set(GH_EINVALID, "a syslog message cannot be that short");
	room = max - (size_t)w;
	n = msg_len;
	if (n > room) {
		/* cut at a character boundary: never leave half a UTF-8 sequence */
		n = room;
		while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
			n--;
	}
	if (!(buf = malloc((size_t)w + n + 1)))
		return gh_error_set(GH_ERROR, "out of memory framing a syslog message");
	memcpy(buf, head, (size_t)w);
	memcpy(buf + w, msg, n);
	buf[(size_t)w + n] = '\0';
	*out = buf;
	*len = (size_t)w + n;
	return 0;
}

/* --- the state file ------------------------------------------------------- */

static int corrupt(const char *path, const char *why)
{
	return gh_error_set(GH_EINVALID,
			    "the export state file %s is corrupt (%s); it was not written by "
			    "'gatehouse audit export' or was changed since: move it away to start "
			    "over, or fix it", path, why);
}

static int one_of(const char *s, const char *const set[])
{
	for (size_t i = 0; s && set[i]; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

static int get_int(int64_t *out, const json_t *doc, const char *key)
{
	const json_t *v = json_object_get(doc, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int gh_siem_state_read(gh_siem_state *out, const char *path)
{
	static const char *const formats[] = {"json", "cef", NULL};
	static const char *const outputs[] = {"stdout", "file", "syslog", NULL};
	static const char *const keys[] = {"seq", "format", "output", "offset", "dev", "ino",
					   NULL};
	char buf[GH_SIEM_STATE_MAX + 1];
	json_error_t jerr;
	json_t *doc = NULL;
	const char *key, *format, *output;
	json_t *v;
	ssize_t n;
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return gh_error_set(GH_ENOTFOUND, "no export state file %s", path);
		return gh_error_set(GH_ERROR, "cannot read the export state file %s: %s", path,
				    strerror(errno));
	}
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return gh_error_set(GH_ERROR, "cannot read the export state file %s: %s", path,
				    strerror(errno));
	if (n > GH_SIEM_STATE_MAX)
		return corrupt(path, "larger than 4096 bytes");
	if (!(doc = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr)))
		return corrupt(path, n == 0 ? "empty" : "not JSON");
	if (!json_is_object(doc)) {
		rc = corrupt(path, "not a JSON object");
		goto cleanup;
	}
	json_object_foreach(doc, key, v) {
		if (!one_of(key, keys)) {
			rc = corrupt(path, "unknown field");
			goto cleanup;
		}
	}
	format = json_string_value(json_object_get(doc, "format"));
	output = json_string_value(json_object_get(doc, "output"));
	if (get_int(&out->seq, doc, "seq")) {
		rc = corrupt(path, "\"seq\" is not a whole number, 0 or more");
		goto cleanup;
	}
	if (!one_of(format, formats) || !one_of(output, outputs)) {
		rc = corrupt(path, "\"format\" or \"output\" is missing or unknown");
		goto cleanup;
	}
	snprintf(out->format, sizeof(out->format), "%s", format);
	snprintf(out->output, sizeof(out->output), "%s", output);
	if (strcmp(output, "file") == 0 &&
	    (get_int(&out->offset, doc, "offset") || get_int(&out->dev, doc, "dev") ||
	     get_int(&out->ino, doc, "ino"))) {
		rc = corrupt(path, "a file export needs \"offset\", \"dev\" and \"ino\"");
		goto cleanup;
	}
cleanup:
	json_decref(doc);
	return rc;
}

int gh_siem_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The directory holding path, so the rename itself is made durable. */
static int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int gh_siem_state_write(const char *path, const gh_siem_state *st)
{
	char text[512], *tmp = NULL;
	size_t plen = strlen(path);
	int fd = -1, n, rc = 0;

	if (strcmp(st->output, "file") == 0)
		n = snprintf(text, sizeof(text),
			     "{\"seq\":%" PRId64 ",\"format\":\"%s\",\"output\":\"file\","
			     "\"offset\":%" PRId64 ",\"dev\":%" PRId64 ",\"ino\":%" PRId64 "}\n",
			     st->seq, st->format, st->offset, st->dev, st->ino);
	else
		n = snprintf(text, sizeof(text),
			     "{\"seq\":%" PRId64 ",\"format\":\"%s\",\"output\":\"%s\"}\n",
			     st->seq, st->format, st->output);
	if (n < 0 || (size_t)n >= sizeof(text))
		return gh_error_set(GH_EINVALID, "an export state does not fit its file");
	if (!(tmp = malloc(plen + 5)))
		return gh_error_set(GH_ERROR, "out of memory writing the export state");
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    gh_siem_write_all(fd, text, (size_t)n) || fsync(fd)) {
		rc = gh_error_set(GH_ERROR, "cannot write the export state %s: %s", tmp,
				  strerror(errno));
		goto cleanup;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) || fsync_dir_of(path)) {
		rc = gh_error_set(GH_ERROR, "cannot replace the export state %s: %s", path,
				  strerror(errno));
		goto cleanup;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
