/* jsonv.h - validating reads of JSON input that record field errors.
 *
 * Each getter records a field error (gh_error_field) when the value is present
 * but wrong, or absent but required, so one pass over a body reports every
 * problem at once; finish with gh_error_fields_finish(). Getters return 1 when
 * the value is present and valid, 0 when absent (and not required), -1 on a
 * recorded problem. String outputs are borrowed from the JSON value. */
#ifndef GH_JSONV_H
#define GH_JSONV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gatehouse/common.h"

/* The limits for every JSON body and gh_json_parse: gatehouse/common.h. */

/* Requires obj to be an object whose keys are all in allowed (NULL-ended);
 * records "must be a JSON object" under "body" or "unknown field" per key. */
int gh_jv_object(const json_t *obj, const char *const allowed[]);

/* Strings: non-empty when required, at most maxlen bytes, no control chars. */
int gh_jv_string(const json_t *obj, const char *key, int required, size_t maxlen,
		 const char **out);
/* One of values (NULL-ended). */
int gh_jv_enum(const json_t *obj, const char *key, int required,
	       const char *const values[], const char **out);
int gh_jv_bool(const json_t *obj, const char *key, int required, int *out);
/* A duration string ("8h", "1h30m") or a whole number of seconds. */
int gh_jv_duration(const json_t *obj, const char *key, int required, int64_t *out);
/* An RFC 3339 time string. */
int gh_jv_time(const json_t *obj, const char *key, int required, int64_t *out);
/* A JSON object; *out is borrowed. */
int gh_jv_object_field(const json_t *obj, const char *key, int required, json_t **out);
/* An array of strings, each at most maxlen, at most maxitems; *out borrowed. */
int gh_jv_string_array(const json_t *obj, const char *key, int required, size_t maxitems,
		       size_t maxlen, json_t **out);

/* Canonical compact text of a value: sorted keys, no spaces. Caller frees. */
char *gh_json_canonical(const json_t *v);

#endif
