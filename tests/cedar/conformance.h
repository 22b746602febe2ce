/* conformance.h - the Cedar conformance runner: integration-test files run
 * through the policy library (src/policy/policy.h) and nothing else.
 *
 * Functions return 0 or a negative GH_POLICY_E* code; the message of the
 * last failure is gh_conf_error(). What comes back through **out, or as a
 * returned pointer, belongs to the caller. */
#ifndef GH_CONFORMANCE_H
#define GH_CONFORMANCE_H

#include <stdio.h>

#include "policy/policy.h"

#define GH_CONF_MAX_FILE (16u * 1024 * 1024)  /* bytes of any file read */
#define GH_CONF_MAX_DEPTH 32                  /* directory nesting */
#define GH_CONF_MAX_DIRENTS 1000000           /* entries of one directory */

/* The message of the last failure the runner returned. */
const char *gh_conf_error(void);

/* One test file: paths resolved against the directory the run started from. */
typedef struct gh_conf_test {
	char *policies;          /* always set */
	char *entities;          /* NULL when the test has none */
	char *schema;            /* NULL when the test has none */
	int should_validate;     /* 1, 0, or -1 when the test does not say */
	json_t *requests;        /* a reference to the test's array */
} gh_conf_test;

/* 1 when doc looks like a test file: an object with "policies" and "requests". */
int gh_conf_is_test(const json_t *doc);
/* Reads a test file's document; GH_POLICY_EINVALID (message set) when malformed. */
int gh_conf_test_parse(gh_conf_test *out, const json_t *doc, const char *dir);
void gh_conf_test_free(gh_conf_test *t);
/* rel resolved against dir (rel itself when absolute); NULL when too long
 * or out of memory. */
char *gh_conf_path(const char *dir, const char *rel);
/* "allow" -> 1, "deny" -> 0; GH_POLICY_EINVALID otherwise. */
int gh_conf_decision(int *allow, const char *s);
/* 1 when the array of strings expected and got[0..n) hold the same set of
 * ids (order and repeats ignored), 0 when not or expected is not such an array. */
int gh_conf_idset_equal(const json_t *expected, const char *const *got, size_t n);
/* Compares one test request's expectations with a response: 0 when they
 * agree, 1 when not (why says what differs), GH_POLICY_EINVALID when the
 * expectations are malformed (why says how). */
int gh_conf_compare(const json_t *request, const gh_policy_response *got, const char **why);
/* The request proper ({"principal","action","resource","context"}) of a
 * test request; NULL when out of memory. */
json_t *gh_conf_request_json(const json_t *request);
/* The test request's "validateRequest" (default true). */
int gh_conf_validate_request(const json_t *request);

/* The engine a run calls: gh_conf_engine_cedar (the policy library), or a
 * stand-in in tests. */
typedef struct gh_conf_engine {
	int (*set_parse)(gh_policy_set **, const char *, size_t, gh_policy_error *);
	int (*set_parse_json)(gh_policy_set **, const char *, size_t, gh_policy_error *);
	void (*set_free)(gh_policy_set *);
	int (*schema_parse)(gh_policy_schema **, const char *, size_t, gh_policy_error *);
	int (*schema_parse_json)(gh_policy_schema **, const char *, size_t, gh_policy_error *);
	void (*schema_free)(gh_policy_schema *);
	int (*validate)(char **, const gh_policy_set *, const gh_policy_schema *);
	int (*entities_parse)(gh_policy_entities **, const char *, size_t,
			      const gh_policy_schema *, gh_policy_error *);
	void (*entities_free)(gh_policy_entities *);
	int (*request_parse)(gh_policy_request **, const char *, size_t,
			     const gh_policy_schema *, int, gh_policy_error *);
	void (*request_free)(gh_policy_request *);
	int (*authorize)(gh_policy_response **, const gh_policy_set *,
			 const gh_policy_entities *, const gh_policy_request *);
	void (*response_free)(gh_policy_response *);
} gh_conf_engine;

extern const gh_conf_engine gh_conf_engine_cedar;

typedef struct gh_conf_counts {
	long files;              /* test files run */
	long passed, failed;     /* requests */
	long agree, disagree, unchecked;  /* shouldValidate against the validator */
	long unreadable;         /* .json files that could not be read or parsed */
} gh_conf_counts;

/* Runs every test file under dir (recursively, in name order), adding to
 * *counts; eng NULL is gh_conf_engine_cedar. With log set, prints one JSON
 * line per failure there. 0 when the directory was walked (whatever the
 * outcomes), GH_POLICY_E* when it could not be. */
int gh_conf_run(gh_conf_counts *counts, const char *dir, const gh_conf_engine *eng, FILE *log);

/* The command: cedar_conformance [--verbose] DIR... Prints the summary (and
 * with --verbose each failure as a JSON line) to out; the exit status: 0 all
 * passed, 1 failures, 2 a usage error or a directory without tests. */
int gh_conf_main(int argc, char **argv, FILE *out);

#endif
