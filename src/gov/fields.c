/* fields.c - the rules of the domain's text fields (names, references,
 * descriptions, environments, tags, durations, times, policy texts) in one
 * place: the domain reads its input with them (gov_jv_field), and a front end
 * checks a value with them before it sends it (gh_gov_field_problem, catalog
 * as code), getting the message the API would give. */
#include "gov/gov_internal.h"

#include <string.h>

/* [a-z0-9][a-z0-9._-]*: names and tags (their length is the rule's max) */
static int name_syntax(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* [a-z0-9-]+ */
static int environment_syntax(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

#define NAME_PROBLEM "must be lowercase letters, digits, '.', '_' or '-', starting with a" \
		     " letter or digit"

enum reader { TEXT, DURATION, TIME };

static const struct rule {
	enum reader reader;      /* TEXT: the checks below; else gh_jv_duration / gh_jv_time */
	size_t max;              /* bytes */
	int may_be_empty;
	int any_bytes;           /* control characters allowed (a policy text) */
	int (*syntax)(const char *s);
	const char *syntax_problem;
} rules[] = {
	[GH_GOV_FIELD_NAME] = {TEXT, 64, 0, 0, name_syntax, NAME_PROBLEM},
	[GH_GOV_FIELD_REF] = {TEXT, 256, 0, 0, NULL, NULL},
	[GH_GOV_FIELD_DESCRIPTION] = {TEXT, 1000, 1, 0, NULL, NULL},
	[GH_GOV_FIELD_REASON] = {TEXT, 1000, 0, 0, NULL, NULL},
	[GH_GOV_FIELD_ENVIRONMENT] = {TEXT, 32, 0, 0, environment_syntax,
				      "must be 1 to 32 of lowercase letters, digits and '-', such as"
				      " \"prod\""},
	[GH_GOV_FIELD_TAG] = {TEXT, 64, 0, 0, name_syntax, NAME_PROBLEM},
	/* connector instances are named as names (common/config.c) */
	[GH_GOV_FIELD_CONNECTOR] = {TEXT, 64, 0, 0, name_syntax, NAME_PROBLEM},
	[GH_GOV_FIELD_DURATION] = {DURATION, 32, 0, 0, NULL, NULL},
	[GH_GOV_FIELD_TIME] = {TIME, 64, 0, 0, NULL, NULL},
	[GH_GOV_FIELD_POLICY_TEXT] = {TEXT, 1024 * 1024, 0, 1, NULL, NULL},
	[GH_GOV_FIELD_COMMENT] = {TEXT, 1000, 1, 0, NULL, NULL},
};

static const struct rule *rule_of(gh_gov_field field)
{
	return (unsigned)field < sizeof(rules) / sizeof(rules[0]) ? &rules[field] : NULL;
}

size_t gh_gov_field_max(gh_gov_field field)
{
	const struct rule *r = rule_of(field);

	return r ? r->max : 0;
}

/* Why the text s (len bytes, no NUL) breaks rule r, into why; NULL when it does not. */
static const char *text_problem(char *why, size_t n, const struct rule *r, const char *s,
				size_t len)
{
	if (!len && !r->may_be_empty) {
		snprintf(why, n, "must not be empty");
		return why;
	}
	if (len > r->max) {
		snprintf(why, n, "is %zu bytes; at most %zu are allowed", len, r->max);
		return why;
	}
	for (size_t i = 0; !r->any_bytes && i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 && c != '\n' && c != '\t') {
			snprintf(why, n, "must not contain control characters");
			return why;
		}
	}
	if (len && r->syntax && !r->syntax(s)) {
		snprintf(why, n, "%s", r->syntax_problem);
		return why;
	}
	return NULL;
}

int gov_jv_field(const json_t *obj, const char *key, gh_gov_field field, int required,
		 const char **out)
{
	const struct rule *r = rule_of(field);
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	char why[GH_GOV_FIELD_PROBLEM_MAX];
	int64_t ignored;
	int rc;

	if (!r)
		return gh_error_set(GH_ERROR, "no rule for field %s", key);
	if (r->reader == DURATION || r->reader == TIME) {
		rc = r->reader == DURATION ? gh_jv_duration(obj, key, required, &ignored)
					   : gh_jv_time(obj, key, required, &ignored);
		if (rc > 0)
			*out = json_string_value(v);
		return rc;
	}
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		gh_error_field(key, "is required");
		return -1;
	}
	if (!json_is_string(v)) {
		gh_error_field(key, "must be a string");
		return -1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		gh_error_field(key, "must not contain NUL characters");
		return -1;
	}
	if (text_problem(why, sizeof(why), r, json_string_value(v), json_string_length(v))) {
		gh_error_field(key, "%s", why);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int gov_field_check(const char *key, gh_gov_field field, const char *value)
{
	char why[GH_GOV_FIELD_PROBLEM_MAX];

	if (!gh_gov_field_problem(why, sizeof(why), field, value))
		return 0;
	gh_error_field(key, "%s", why);
	return GH_EINVALID;
}

/* The message of the field error recorded after the first before ones, into
 * why; the error itself is taken back, so the caller's are as they were. */
static const char *take_field_problem(char *why, size_t n, size_t before)
{
	json_t *fields = gh_error_last()->fields;
	const char *reason = json_string_value(json_object_get(json_array_get(fields, before),
							       "reason"));

	snprintf(why, n, "%s", reason ? reason : "is not valid");
	while (json_array_size(fields) > before)
		json_array_remove(fields, json_array_size(fields) - 1);
	return why;
}

const char *gh_gov_field_problem(char *why, size_t n, gh_gov_field field, const char *value)
{
	const struct rule *r = rule_of(field);
	size_t before = gh_error_field_count();
	json_t *obj;
	const char *s;
	int rc;

	if (!r) {
		snprintf(why, n, "is not a field the domain knows");
		return why;
	}
	if (!value) {
		snprintf(why, n, "is required");
		return why;
	}
	if (r->reader == TEXT)
		return text_problem(why, n, r, value, strlen(value));
	/* durations and times: the very readers the domain uses, on the value alone */
	if (!(obj = json_pack("{s:s}", "value", value))) {
		snprintf(why, n, "cannot be checked: out of memory");
		return why;
	}
	rc = gov_jv_field(obj, "value", field, 1, &s);
	json_decref(obj);
	return rc > 0 ? NULL : take_field_problem(why, n, before);
}
