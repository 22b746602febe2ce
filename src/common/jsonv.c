/* jsonv.c - bounded JSON parsing and validating field reads. */
#include "common/jsonv.h"
#include "common/error.h"
#include "common/util.h"

#include <string.h>

/* Depth check before jansson sees the text, so deep input never recurses. */
static int depth_ok(const char *s, size_t len)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > GH_JSON_MAX_DEPTH)
				return 0;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 1;
}

int gh_json_parse(json_t **out, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	if (len > GH_JSON_MAX_BODY)
		return gh_error_set(GH_ETOOLARGE, "body is %zu bytes; the limit is %d",
				    len, GH_JSON_MAX_BODY);
	if (len == 0) {
		gh_error_set(GH_EINVALID, "body: a JSON document is required");
		gh_error_field("body", "empty; a JSON document is required");
		return GH_EINVALID;
	}
	if (!depth_ok(text, len))
		return gh_error_set(GH_ETOOLARGE, "body nests deeper than %d levels",
				    GH_JSON_MAX_DEPTH);
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		gh_error_set(GH_EINVALID, "body is not valid JSON at line %d, column %d: %s",
			     jerr.line, jerr.column, jerr.text);
		gh_error_field("body", "not valid JSON at line %d, column %d: %s", jerr.line,
			       jerr.column, jerr.text);
		return GH_EINVALID;
	}
	*out = v;
	return 0;
}

int gh_jv_object(const json_t *obj, const char *const allowed[])
{
	const char *key;
	json_t *val;
	int bad = 0;

	if (!json_is_object(obj)) {
		gh_error_field("body", "must be a JSON object");
		return -1;
	}
	json_object_foreach((json_t *)obj, key, val) {
		size_t i;
		for (i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (!allowed[i]) {
			gh_error_field(key, "unknown field");
			bad = 1;
		}
	}
	return bad ? -1 : 1;
}

/* Common start of every getter: 1 when present, 0 absent, -1 absent but required. */
static int present(const json_t *obj, const char *key, int required, json_t **v)
{
	*v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (*v && !json_is_null(*v))
		return 1;
	if (required) {
		gh_error_field(key, "is required");
		return -1;
	}
	return 0;
}

int gh_jv_string(const json_t *obj, const char *key, int required, size_t maxlen,
		 const char **out)
{
	json_t *v;
	int p = present(obj, key, required, &v);
	const char *s;
	size_t len;

	if (p <= 0)
		return p;
	if (!json_is_string(v)) {
		gh_error_field(key, "must be a string");
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len) {
		gh_error_field(key, "must not contain NUL characters");
		return -1;
	}
	if (required && len == 0) {
		gh_error_field(key, "must not be empty");
		return -1;
	}
	if (len > maxlen) {
		gh_error_field(key, "is %zu bytes; at most %zu are allowed", len, maxlen);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\n' && c != '\t') {
			gh_error_field(key, "must not contain control characters");
			return -1;
		}
	}
	*out = s;
	return 1;
}

int gh_jv_enum(const json_t *obj, const char *key, int required,
	       const char *const values[], const char **out)
{
	json_t *v;
	int p = present(obj, key, required, &v);
	char list[256];
	size_t len = 0;

	if (p <= 0)
		return p;
	if (json_is_string(v)) {
		for (size_t i = 0; values[i]; i++)
			if (strcmp(values[i], json_string_value(v)) == 0) {
				*out = values[i];
				return 1;
			}
	}
	list[0] = '\0';
	for (size_t i = 0; values[i] && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", values[i]);
	gh_error_field(key, "must be one of: %s", list);
	return -1;
}

int gh_jv_bool(const json_t *obj, const char *key, int required, int *out)
{
	json_t *v;
	int p = present(obj, key, required, &v);

	if (p <= 0)
		return p;
	if (!json_is_boolean(v)) {
		gh_error_field(key, "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int gh_jv_duration(const json_t *obj, const char *key, int required, int64_t *out)
{
	json_t *v;
	int p = present(obj, key, required, &v);

	if (p <= 0)
		return p;
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n >= 1 && n <= 10LL * 366 * 86400) {
			*out = n;
			return 1;
		}
	} else if (json_is_string(v) && gh_duration_parse(out, json_string_value(v)) == 0) {
		return 1;
	}
	gh_error_field(key, "must be a duration such as \"30m\", \"8h\" or \"7d\" "
		       "(or whole seconds), between 1s and 10 years");
	return -1;
}

int gh_jv_time(const json_t *obj, const char *key, int required, int64_t *out)
{
	json_t *v;
	int p = present(obj, key, required, &v);

	if (p <= 0)
		return p;
	if (json_is_string(v) && gh_time_parse(out, json_string_value(v)) == 0)
		return 1;
	gh_error_field(key, "must be an RFC 3339 time such as \"2027-01-31T00:00:00Z\"");
	return -1;
}

int gh_jv_object_field(const json_t *obj, const char *key, int required, json_t **out)
{
	json_t *v;
	int p = present(obj, key, required, &v);

	if (p <= 0)
		return p;
	if (!json_is_object(v)) {
		gh_error_field(key, "must be a JSON object");
		return -1;
	}
	*out = v;
	return 1;
}

int gh_jv_string_array(const json_t *obj, const char *key, int required, size_t maxitems,
		       size_t maxlen, json_t **out)
{
	json_t *v, *item;
	int p = present(obj, key, required, &v);
	size_t i;

	if (p <= 0)
		return p;
	if (!json_is_array(v)) {
		gh_error_field(key, "must be an array of strings");
		return -1;
	}
	if (json_array_size(v) > maxitems) {
		gh_error_field(key, "has %zu items; at most %zu are allowed",
			       json_array_size(v), maxitems);
		return -1;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0 ||
		    json_string_length(item) > maxlen) {
			gh_error_field(key, "item %zu must be a non-empty string of at most %zu bytes",
				       i, maxlen);
			return -1;
		}
	}
	*out = v;
	return 1;
}

char *gh_json_canonical(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}
