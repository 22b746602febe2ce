/* error.c - the thread-local error object behind gh_error_last. */
#include "common/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local gh_error last;
static pthread_key_t cleanup_key;
static pthread_once_t cleanup_once = PTHREAD_ONCE_INIT;

/* Frees a thread's field list when the thread ends (server workers come and go). */
static void thread_cleanup(void *arg)
{
	gh_error *e = arg;

	json_decref(e->fields);
	e->fields = NULL;
}

static void make_key(void)
{
	pthread_key_create(&cleanup_key, thread_cleanup);
}

static json_t *new_fields(void)
{
	pthread_once(&cleanup_once, make_key);
	pthread_setspecific(cleanup_key, &last);
	return json_array();
}

const gh_error *gh_error_last(void)
{
	return &last;
}

void gh_error_clear(void)
{
	last.code = GH_OK;
	last.message[0] = '\0';
	json_decref(last.fields);
	last.fields = NULL;
}

/* Length of the valid UTF-8 sequence at s, or 0 (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

/* Messages quote input (and vsnprintf may cut a character in two): every
 * byte that is not part of valid UTF-8 becomes '?', so that the message and
 * its field errors always reach the problem document. */
static void utf8_mend(char *text)
{
	unsigned char *s = (unsigned char *)text;
	size_t n;

	while (*s) {
		if ((n = utf8_len(s)) == 0)
			*s++ = '?';
		else
			s += n;
	}
}

int gh_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	json_decref(last.fields);
	last.fields = NULL;
	last.code = code;
	va_start(ap, fmt);
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	va_end(ap);
	utf8_mend(last.message);
	return code;
}

void gh_error_field(const char *field, const char *fmt, ...)
{
	char reason[512], name[256];
	va_list ap;
	json_t *item;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	utf8_mend(reason);
	if (!last.fields && !(last.fields = new_fields()))
		return;
	snprintf(name, sizeof(name), "%s", field ? field : "");
	utf8_mend(name);
	item = json_pack("{s:s, s:s}", "field", name, "reason", reason);
	if (item)
		json_array_append_new(last.fields, item);
}

size_t gh_error_field_count(void)
{
	return last.fields ? json_array_size(last.fields) : 0;
}

int gh_error_fields_finish(void)
{
	size_t n = gh_error_field_count();
	json_t *first;

	if (n == 0)
		return 0;
	last.code = GH_EINVALID;
	first = json_array_get(last.fields, 0);
	if (n == 1)
		snprintf(last.message, sizeof(last.message), "%s: %s",
			 json_string_value(json_object_get(first, "field")),
			 json_string_value(json_object_get(first, "reason")));
	else
		snprintf(last.message, sizeof(last.message),
			 "%zu fields are invalid; see errors", n);
	return GH_EINVALID;
}

const char *gh_error_code_name(int code)
{
	switch (code) {
	case GH_OK: return "ok";
	case GH_ENOTFOUND: return "not_found";
	case GH_EINVALID: return "invalid";
	case GH_EDENIED: return "denied";
	case GH_ECONFLICT: return "conflict";
	case GH_ETOOLARGE: return "too_large";
	case GH_EUNAUTH: return "unauthenticated";
	case GH_EFORBIDDEN: return "forbidden";
	case GH_ELIMITED: return "too_many_requests";
	default: return "internal";
	}
}
