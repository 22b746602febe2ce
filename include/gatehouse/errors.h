/* gatehouse/errors.h - errors as values: return codes plus a thread-local
 * error object. Every Gatehouse function that can fail returns 0 or one of
 * these codes and leaves the details in gh_error_last(). Public: the front
 * ends (api, cli) and the library's users read errors through this header. */
#ifndef GATEHOUSE_ERRORS_H
#define GATEHOUSE_ERRORS_H

#include <jansson.h>

/* Return codes. 0 is success; the named failures are the expected ones. */
enum {
	GH_OK = 0,
	GH_ERROR = -1,       /* anything unexpected: I/O, database, out of memory */
	GH_ENOTFOUND = -2,   /* the named object does not exist */
	GH_EINVALID = -3,    /* bad input; field errors say which and why */
	GH_EDENIED = -4,     /* an invariant or decision refuses the operation */
	GH_ECONFLICT = -5,   /* clashes with current state (duplicate, wrong state) */
	GH_ETOOLARGE = -6,   /* a size or depth cap was exceeded */
	GH_EUNAUTH = -7,     /* no or bad credentials */
	GH_EFORBIDDEN = -8,  /* authenticated, but the role may not do this */
	GH_ELIMITED = -9,    /* too many attempts from this source: try again later */
};

typedef struct gh_error {
	int code;            /* one of the GH_E* codes, GH_OK when clear */
	char message[512];   /* one human sentence */
	json_t *fields;      /* array of {"field","reason"}; NULL when none */
} gh_error;

/* The calling thread's last error; borrowed, valid until the next set/clear. */
const gh_error *gh_error_last(void);
void gh_error_clear(void);

/* Sets code and message (replacing field errors) and returns code. */
int gh_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records one field problem; many may be collected before gh_error_fields_finish. */
void gh_error_field(const char *field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number of field problems collected since the last clear/set. */
size_t gh_error_field_count(void);

/* When field problems were collected: sets GH_EINVALID with a summary and
 * returns GH_EINVALID; otherwise returns 0 and leaves the error alone. */
int gh_error_fields_finish(void);

/* Short stable name for a code, e.g. "not_found". */
const char *gh_error_code_name(int code);

#endif
